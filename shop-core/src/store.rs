//! The store traits ("ports") that storage adapters implement.
//!
//! Every method is one unit of work: it either happens completely or not at all, and reports
//! failures in the backend-neutral [`Error`](crate::Error) kinds. The catalog, carts, orders and
//! the outbox always live in one store, because checkout changes all of them at once; users,
//! reviews and refresh tokens may live elsewhere.

use async_trait::async_trait;

use crate::cart::{Cart, CartCommand};
use crate::catalog::{Product, ProductCursor, ProductPatch, ProductQuery, Slug};
use crate::checkout::{PlaceOrder, PlaceOrderOutcome};
use crate::error::Result;
use crate::event::{DomainEvent, OutboxClaim, OutboxRecord, OutboxStats};
use crate::id::{EventId, OrderId, ProductId, TokenFamilyId, UserId};
use crate::inbox::{ProcessingClaim, ProcessingState};
use crate::order::{
    IdempotencyKey, Order, OrderCursor, OrderQuery, OrderTransition, RequestFingerprint,
};
use crate::page::Page;
use crate::review::{RatingSummary, Review, ReviewCursor, ReviewQuery};
use crate::time::Timestamp;
use crate::user::{Email, RefreshTokenRecord, RefreshTokenUse, TokenHash, User, UserUpdate};

/// Products.
///
/// Writes append `ProductCreated` / `ProductUpdated` to the outbox in the same unit of work.
#[async_trait]
pub trait CatalogStore: Send + Sync {
    /// Inserts a product. [`Conflict::SkuTaken`](crate::Conflict::SkuTaken) or
    /// [`Conflict::SlugTaken`](crate::Conflict::SlugTaken) when another product has its SKU or
    /// slug.
    async fn create_product(&self, product: &Product) -> Result<()>;

    /// One product by ID.
    async fn get_product(&self, id: ProductId) -> Result<Option<Product>>;

    /// One product by slug.
    async fn get_product_by_slug(&self, slug: &Slug) -> Result<Option<Product>>;

    /// One product by what a URL names it with: its ID, else its slug (`None` for text that is
    /// neither). Adapters need not implement it.
    async fn find_product(&self, id_or_slug: &str) -> Result<Option<Product>> {
        match ProductId::parse(id_or_slug) {
            Ok(id) => self.get_product(id).await,
            Err(_) => match Slug::parse(id_or_slug) {
                Ok(slug) => self.get_product_by_slug(&slug).await,
                Err(_) => Ok(None),
            },
        }
    }

    /// The products among `ids` that exist, in any order.
    async fn get_products(&self, ids: &[ProductId]) -> Result<Vec<Product>>;

    /// Applies a patch and returns the product as it is now. `NotFound`, or a conflict on SKU
    /// or slug.
    async fn update_product(&self, id: ProductId, patch: &ProductPatch) -> Result<Product>;

    /// Adds `delta` (possibly negative) units to the stock. Refuses with
    /// [`Error::InsufficientStock`](crate::Error::InsufficientStock) rather than go below zero,
    /// and with a validation error above [`MAX_STOCK`](crate::catalog::MAX_STOCK).
    async fn adjust_stock(&self, id: ProductId, delta: i64) -> Result<Product>;

    /// Deletes a product and every cart line that holds it. Orders keep their snapshots.
    async fn delete_product(&self, id: ProductId) -> Result<()>;

    /// A page of products matching `query`.
    async fn query_products(&self, query: &ProductQuery) -> Result<Page<Product, ProductCursor>>;
}

/// Carts.
#[async_trait]
pub trait CartStore: Send + Sync {
    /// The user's open cart, if one was ever stored.
    async fn get_cart(&self, user_id: UserId) -> Result<Option<Cart>>;

    /// Applies `command` with [`Cart::apply`] in one atomic read-modify-write, creating the
    /// cart if needed, and returns the cart as it is now.
    async fn modify_cart(&self, user_id: UserId, command: &CartCommand) -> Result<Cart>;
}

/// Orders.
#[async_trait]
pub trait OrderStore: Send + Sync {
    /// One order by ID.
    async fn get_order(&self, id: OrderId) -> Result<Option<Order>>;

    /// A page of orders, newest first.
    async fn list_orders(&self, query: &OrderQuery) -> Result<Page<Order, OrderCursor>>;

    /// The order a user placed with `key`, with the fingerprint recorded then.
    async fn find_order_by_idempotency_key(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<(Order, RequestFingerprint)>>;

    /// Deletes the idempotency keys recorded before `created_before` (their orders stay);
    /// returns how many.
    async fn purge_idempotency_keys(&self, created_before: Timestamp) -> Result<u64>;
}

/// The two operations that change stock, orders, carts and the outbox together.
#[async_trait]
pub trait CheckoutStore: Send + Sync {
    /// Places an order atomically, or finds the one the key placed before; see [`PlaceOrder`]
    /// for exactly what that means. A refusal from [`decide`](crate::checkout::decide) is
    /// returned as it is, with nothing changed; so is any store error — a replay is only
    /// ever the [`PlaceOrderOutcome::Replayed`] outcome.
    async fn place_order(&self, request: &PlaceOrder) -> Result<PlaceOrderOutcome>;

    /// Moves an order to another status atomically; see [`OrderTransition`].
    async fn transition_order(&self, transition: &OrderTransition) -> Result<Order>;
}

/// The transactional outbox: events written with the change that caused them, published later.
#[async_trait]
pub trait OutboxStore: Send + Sync {
    /// Appends events (in order) outside any other change.
    async fn append_events(&self, events: &[DomainEvent]) -> Result<()>;

    /// Claims up to `limit` unpublished events whose lease is free, lowest position first.
    async fn claim_events(&self, claim: &OutboxClaim) -> Result<Vec<OutboxRecord>>;

    /// Marks events published; they are never claimed again. Unknown positions are ignored.
    async fn mark_published(&self, seqs: &[u64]) -> Result<()>;

    /// How many events wait, and since when.
    async fn outbox_stats(&self) -> Result<OutboxStats>;

    /// Deletes events published before `published_before`; unpublished events are never
    /// touched. Returns how many were deleted (an adapter that drops events as soon as they
    /// are published has none left to delete).
    async fn purge_published_events(&self, published_before: Timestamp) -> Result<u64>;

    /// Waits until events may have been appended — a notification from the backend — or
    /// until `within` has passed, and returns `true`: the caller polls now. A backend that
    /// cannot notify returns `false` at once (the default), and the caller sleeps between
    /// polls itself. A wake-up may be spurious; a missed one costs at most `within`.
    async fn wait_for_events(&self, within: std::time::Duration) -> bool {
        let _ = within;
        false
    }
}

/// Reviews.
#[async_trait]
pub trait ReviewStore: Send + Sync {
    /// Inserts a review; [`Conflict::ReviewExists`](crate::Conflict::ReviewExists) when the
    /// author already reviewed the product.
    async fn add_review(&self, review: &Review) -> Result<()>;

    /// A page of one product's reviews, newest first.
    async fn list_reviews(&self, query: &ReviewQuery) -> Result<Page<Review, ReviewCursor>>;

    /// Count and sum of one product's ratings.
    async fn rating_summary(&self, product_id: ProductId) -> Result<RatingSummary>;
}

/// Users.
#[async_trait]
pub trait UserStore: Send + Sync {
    /// Inserts a user; [`Conflict::EmailTaken`](crate::Conflict::EmailTaken) when the email is
    /// in use.
    async fn create_user(&self, user: &User) -> Result<()>;

    /// One user by ID.
    async fn get_user(&self, id: UserId) -> Result<Option<User>>;

    /// One user by email.
    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>>;

    /// Applies an update and returns the user as it is now; `NotFound` if there is none.
    async fn update_user(&self, id: UserId, update: &UserUpdate) -> Result<User>;
}

/// Refresh tokens, stored only as digests.
#[async_trait]
pub trait RefreshTokenStore: Send + Sync {
    /// Inserts a token record.
    async fn insert_refresh_token(&self, record: &RefreshTokenRecord) -> Result<()>;

    /// Looks a token up and, if it is fresh, marks it used — atomically, so of two racing
    /// uses exactly one sees [`RefreshTokenUse::Fresh`].
    async fn use_refresh_token(&self, hash: &TokenHash, now: Timestamp) -> Result<RefreshTokenUse>;

    /// Revokes every unrevoked token of a family; returns how many.
    async fn revoke_token_family(&self, family_id: TokenFamilyId, at: Timestamp) -> Result<u64>;

    /// Revokes every unrevoked token of a user; returns how many.
    async fn revoke_user_tokens(&self, user_id: UserId, at: Timestamp) -> Result<u64>;

    /// Deletes the tokens that can never be used again at `now`
    /// ([`RefreshTokenRecord::is_purgeable_at`]); returns how many.
    async fn purge_refresh_tokens(&self, now: Timestamp) -> Result<u64>;
}

/// Which events each consumer has handled; see [`inbox`](crate::inbox) for the protocol.
#[async_trait]
pub trait ProcessedEventStore: Send + Sync {
    /// Claims `claim.event_id` for `claim.claimant`, atomically: of racing callers exactly one
    /// gets [`ProcessingState::Claimed`]. A claim is free when there is none, when it lapsed
    /// before `claim.now`, or when it is the caller's own.
    async fn claim_processing(&self, claim: &ProcessingClaim) -> Result<ProcessingState>;

    /// Records the event handled. `false` when `claimant` no longer held the claim (it lapsed
    /// and another took it over, or the event was recorded already).
    async fn finish_processing(
        &self,
        consumer: &str,
        event_id: EventId,
        claimant: &str,
        at: Timestamp,
    ) -> Result<bool>;

    /// Gives up `claimant`'s claim (its handler failed), so the event may be claimed at once.
    async fn release_processing(
        &self,
        consumer: &str,
        event_id: EventId,
        claimant: &str,
    ) -> Result<()>;

    /// Deletes records of events handled before `before` and claims that lapsed before it;
    /// returns how many.
    async fn purge_processed_events(&self, before: Timestamp) -> Result<u64>;
}

/// Liveness of the backend behind a store.
#[async_trait]
pub trait StoreHealth: Send + Sync {
    /// A cheap round trip to the backend.
    async fn ping(&self) -> Result<()>;
}

/// The stores that must share one backend, because checkout spans them.
pub trait CommerceStore:
    CatalogStore + CartStore + OrderStore + CheckoutStore + OutboxStore + StoreHealth
{
}

impl<T> CommerceStore for T where
    T: CatalogStore + CartStore + OrderStore + CheckoutStore + OutboxStore + StoreHealth + ?Sized
{
}

/// A backend that implements every store trait.
pub trait ShopStore:
    CommerceStore + ReviewStore + UserStore + RefreshTokenStore + ProcessedEventStore
{
}

impl<T> ShopStore for T where
    T: CommerceStore + ReviewStore + UserStore + RefreshTokenStore + ProcessedEventStore + ?Sized
{
}
