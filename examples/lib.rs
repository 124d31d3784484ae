//! Examples of embedding the shop crates; see the `*.rs` files beside this one and the
//! README's "Embedding" guide. This library is empty: each example is a whole program.
