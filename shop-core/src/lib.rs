//! # shop-core
//!
//! The domain of the `shop` crates: types, rules and the store traits ("ports") that storage
//! adapters implement. It does no I/O and knows nothing of SQL, BSON, HTTP or AMQP.
//!
//! - **Values that cannot be invalid**: [`Money`] in integer minor units with checked
//!   arithmetic, typed IDs ([`ProductId`], [`OrderId`], …), and validated text types
//!   ([`Sku`], [`Email`], [`Quantity`], [`Rating`], …) built only through `parse`/`new`.
//! - **Aggregates**: [`Product`], [`Review`], [`Cart`], [`Order`] with its status machine,
//!   [`User`], and the [`DomainEvent`] envelope.
//! - **Ports**: [`CatalogStore`], [`CartStore`], [`OrderStore`], [`CheckoutStore`],
//!   [`OutboxStore`], [`ReviewStore`], [`UserStore`], [`RefreshTokenStore`],
//!   [`ProcessedEventStore`] (consumers' deduplication, see [`inbox`]).
//! - **Rules decided once**: [`checkout::decide`] turns a locked cart and its products into
//!   an order and its events, or a refusal; every store calls it.
//! - **Services**: [`CheckoutService`] (the atomic checkout), [`OrderService`] (the status
//!   machine), [`CartService`], [`ReviewService`], [`RetentionService`] (deletes what no
//!   longer needs keeping).
//! - **One error type**, [`Error`], with backend-neutral kinds and stable codes; and for
//!   configuration read from the environment, one [`config::ConfigError`] for every shop
//!   crate, with secrets kept in [`secret::SecretString`].
//!
//! ```
//! use shop_core::{Currency, Money, Quantity};
//!
//! let price = Money::new(1999, Currency::EUR);
//! let line = price.checked_mul(3).unwrap();
//! assert_eq!(line.to_string(), "59.97 EUR");
//! assert!(price.checked_add(Money::new(1, Currency::USD)).is_err());
//! assert!(Quantity::new(1000).is_err());
//! ```

pub mod cart;
pub mod catalog;
pub mod checkout;
pub mod config;
pub mod error;
pub mod event;
pub mod id;
pub mod inbox;
pub mod money;
pub mod order;
pub mod page;
pub mod retention;
pub mod review;
pub mod secret;
pub mod service;
pub mod store;
pub mod time;
pub mod trace;
pub mod user;
pub mod validate;

pub use cart::{Cart, CartCommand, CartLine, Quantity};
pub use catalog::{
    Description, ImageUrl, NewProduct, Price, Product, ProductCursor, ProductInput, ProductName,
    ProductPatch, ProductPatchInput, ProductQuery, ProductSort, SearchText, Sku, Slug,
};
pub use checkout::{CheckoutConfig, CheckoutDecision, PlaceOrder, PlaceOrderOutcome, StockTake};
pub use error::{Conflict, Error, Result};
pub use event::{DomainEvent, EventType, OutboxClaim, OutboxRecord, OutboxStats};
pub use id::{CartId, EventId, OrderId, ProductId, ReviewId, TokenFamilyId, UserId};
pub use inbox::{ProcessingClaim, ProcessingState};
pub use money::{Currency, Money, MoneyError};
pub use order::{
    IdempotencyKey, Order, OrderCursor, OrderLine, OrderQuery, OrderStatus, OrderTransition,
    RequestFingerprint,
};
pub use page::{Page, PageLimit};
pub use retention::{PurgeReport, RetentionPolicy, RetentionService};
pub use review::{
    Rating, RatingSummary, Review, ReviewBody, ReviewCursor, ReviewInput, ReviewQuery, ReviewTitle,
};
pub use service::{
    CartService, CartView, CartViewLine, CheckoutOutcome, CheckoutRequest, CheckoutService,
    OrderService, ReviewService,
};
pub use store::{
    CartStore, CatalogStore, CheckoutStore, CommerceStore, OrderStore, OutboxStore,
    ProcessedEventStore, RefreshTokenStore, ReviewStore, ShopStore, StoreHealth, UserStore,
};
pub use time::Timestamp;
pub use user::{
    DisplayName, Email, PasswordHash, RefreshTokenRecord, RefreshTokenUse, Role, TokenHash, User,
    UserUpdate,
};
pub use validate::{FieldError, ValidationErrors};
