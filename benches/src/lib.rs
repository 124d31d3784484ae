//! # shop-benches
//!
//! Criterion benchmarks of the checkout paths. Placeholder until its issue is taken.
