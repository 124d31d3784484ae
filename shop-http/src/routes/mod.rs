//! Route handlers, one module per area.

pub(crate) mod auth;
pub(crate) mod catalog;
pub(crate) mod ops;
