//! # shop-auth
//!
//! Password hashing, JWT access and refresh tokens, Tower auth layers (not yet implemented).
//!
//! This crate is a placeholder in the workspace layout; its issue has not been taken yet.
