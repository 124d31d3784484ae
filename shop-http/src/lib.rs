//! # shop-http
//!
//! The REST API as a Tower service (not yet implemented).
//!
//! This crate is a placeholder in the workspace layout; its issue has not been taken yet.
