//! # shop-events
//!
//! Domain event publishers, RabbitMQ and the outbox relay (not yet implemented).
//!
//! This crate is a placeholder in the workspace layout; its issue has not been taken yet.
