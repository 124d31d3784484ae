//! Route handlers, one module per area.

pub(crate) mod auth;
pub(crate) mod cart;
pub(crate) mod catalog;
pub(crate) mod ops;
pub(crate) mod orders;
pub(crate) mod reviews;
pub(crate) mod users;
