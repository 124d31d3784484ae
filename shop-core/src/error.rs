//! The one error type of the domain and of every store.

use crate::id::ProductId;
use crate::money::MoneyError;
use crate::order::OrderStatus;
use crate::validate::{FieldError, ValidationErrors};

/// A boxed error from a driver or other lower layer, kept for logs and never shown to clients.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// `Result` with [`Error`] as the default error.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Everything that can go wrong in the domain or a store, in backend-neutral kinds.
///
/// Adapters convert driver errors into these kinds (a unique-key violation becomes
/// [`Error::Conflict`], a lost connection [`Error::Unavailable`]); only the HTTP layer maps them to
/// status codes.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input broke a rule; every broken rule is listed.
    #[error("invalid input: {0}")]
    Validation(ValidationErrors),
    /// The named thing does not exist (or is not visible to the caller).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The request clashes with the current state.
    #[error(transparent)]
    Conflict(#[from] Conflict),
    /// Not enough stock to fill a line; nothing was changed.
    #[error(
        "insufficient stock for product {product_id}: requested {requested}, available {available}"
    )]
    InsufficientStock {
        /// The product that ran short.
        product_id: ProductId,
        /// How many units were asked for.
        requested: u32,
        /// How many units were on hand.
        available: u32,
    },
    /// The order status machine does not allow this move.
    #[error("an order cannot move from {from} to {to}")]
    InvalidTransition {
        /// Current status.
        from: OrderStatus,
        /// Requested status.
        to: OrderStatus,
    },
    /// The backing store cannot be reached or timed out; the operation had no effect and may
    /// be retried.
    #[error("storage unavailable")]
    Unavailable(#[source] BoxError),
    /// A bug or an unexpected state; details are in the source, for logs only.
    #[error("internal error")]
    Internal(#[source] BoxError),
}

impl Error {
    /// A stable machine-readable code for this error (e.g. `insufficient_stock`, `sku_taken`).
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Error::Validation(_) => "validation_failed",
            Error::NotFound(_) => "not_found",
            Error::Conflict(c) => c.code(),
            Error::InsufficientStock { .. } => "insufficient_stock",
            Error::InvalidTransition { .. } => "invalid_transition",
            Error::Unavailable(_) => "unavailable",
            Error::Internal(_) => "internal",
        }
    }

    /// A convenience for an [`Error::Unavailable`] from any error.
    pub fn unavailable(e: impl Into<BoxError>) -> Self {
        Error::Unavailable(e.into())
    }

    /// A convenience for an [`Error::Internal`] from any error or message.
    pub fn internal(e: impl Into<BoxError>) -> Self {
        Error::Internal(e.into())
    }
}

/// `error` and each of its sources on one line, `: `-separated, leaving out a source whose text
/// its parent already ends with — for logs and operators: [`Error`]'s own text is
/// deliberately short ("storage unavailable"), the cause is in its sources.
///
/// ```
/// let e = shop_core::Error::unavailable(std::io::Error::other("connection refused"));
/// assert_eq!(shop_core::error::causes(&e), "storage unavailable: connection refused");
/// ```
#[must_use]
pub fn causes(error: &(dyn std::error::Error + 'static)) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(e) = source {
        let part = e.to_string();
        if !text.ends_with(&part) {
            text.push_str(": ");
            text.push_str(&part);
        }
        source = e.source();
    }
    text
}

impl From<ValidationErrors> for Error {
    fn from(e: ValidationErrors) -> Self {
        Error::Validation(e)
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::Validation(e.into())
    }
}

impl From<MoneyError> for Error {
    fn from(e: MoneyError) -> Self {
        Error::Validation(FieldError::from(e).into())
    }
}

/// The kinds of [`Error::Conflict`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Conflict {
    /// Another product has this SKU.
    #[error("a product with this SKU already exists")]
    SkuTaken,
    /// Another product has this slug.
    #[error("a product with this slug already exists")]
    SlugTaken,
    /// Another user has this email (compared case-insensitively).
    #[error("a user with this email already exists")]
    EmailTaken,
    /// The user has already reviewed this product.
    #[error("this user has already reviewed this product")]
    ReviewExists,
    /// The idempotency key was already used with a different request.
    #[error("this idempotency key was already used for a different request")]
    IdempotencyKeyReused,
    /// Something changed between read and write; retrying may succeed.
    #[error("the resource was changed concurrently; retry")]
    ConcurrentModification,
    /// A product's price or availability changed while the order was being placed.
    #[error("product {0} changed during checkout; review the cart and retry")]
    ProductChanged(ProductId),
    /// A product in the cart is inactive or no longer exists.
    #[error("product {0} is not available")]
    ProductUnavailable(ProductId),
    /// The cart is not the version the client confirmed at checkout.
    #[error("the cart changed since version {expected}; review it and retry")]
    CartChanged {
        /// The version the client saw.
        expected: u64,
    },
}

impl Conflict {
    /// A stable machine-readable code.
    #[must_use]
    pub fn code(&self) -> &'static str {
        match self {
            Conflict::SkuTaken => "sku_taken",
            Conflict::SlugTaken => "slug_taken",
            Conflict::EmailTaken => "email_taken",
            Conflict::ReviewExists => "review_exists",
            Conflict::IdempotencyKeyReused => "idempotency_key_reused",
            Conflict::ConcurrentModification => "concurrent_modification",
            Conflict::ProductChanged(_) => "product_changed",
            Conflict::ProductUnavailable(_) => "product_unavailable",
            Conflict::CartChanged { .. } => "cart_changed",
        }
    }
}
