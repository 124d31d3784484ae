//! The in-memory adapter: every store trait, safe under concurrent use.
//!
//! Catalog, carts, orders and the outbox sit behind one lock, because checkout changes all of
//! them at once and must be atomic; users, reviews and refresh tokens have locks of their own.
//! No lock is held across an `.await`, so a slow caller can never stall the store.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};
use shop_core::catalog::ProductSortKey;
use shop_core::{
    Cart, Conflict, DomainEvent, Email, EventId, IdempotencyKey, Order, OrderId, Product,
    ProductCursor, ProductId, ProductSort, RefreshTokenRecord, RequestFingerprint, Result, Review,
    Sku, Slug, StoreHealth, Timestamp, TokenHash, User, UserId,
};

mod cart;
mod catalog;
mod name_index;
mod orders;
mod outbox;
mod processed_events;
mod refresh_tokens;
mod reviews;
mod users;

/// Every shop-core store trait, in memory. Cheap to create; share it behind an `Arc`.
#[derive(Debug, Default)]
pub struct MemoryStore {
    commerce: RwLock<Commerce>,
    users: RwLock<Users>,
    reviews: RwLock<Reviews>,
    tokens: Mutex<HashMap<TokenHash, RefreshTokenRecord>>,
    processed: Mutex<HashMap<(String, EventId), Processing>>,
}

/// A consumer's record of one event.
#[derive(Debug)]
enum Processing {
    Claimed { by: String, until: Timestamp },
    Done { at: Timestamp },
}

impl MemoryStore {
    /// An empty store.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }
}

#[derive(Debug, Default)]
struct Commerce {
    products: HashMap<ProductId, Product>,
    by_sku: HashMap<Sku, ProductId>,
    by_slug: HashMap<Slug, ProductId>,
    // Sorted indexes so a page is read in order instead of sorting the catalog per query.
    by_name: BTreeSet<(String, ProductId)>,
    by_price: BTreeSet<(i64, ProductId)>,
    by_created: BTreeSet<(Timestamp, ProductId)>,
    names: name_index::NameIndex,
    carts: HashMap<UserId, Cart>,
    orders: HashMap<OrderId, Order>,
    orders_by_created: BTreeSet<(Timestamp, OrderId)>,
    idempotency: HashMap<(UserId, IdempotencyKey), (OrderId, RequestFingerprint)>,
    // Unpublished events only: published ones are dropped, so memory stays bounded.
    outbox: BTreeMap<u64, OutboxEntry>,
    next_seq: u64,
}

#[derive(Debug)]
struct OutboxEntry {
    event: DomainEvent,
    claim: Option<(String, Timestamp)>,
}

impl Commerce {
    fn index(&mut self, p: &Product) {
        self.by_sku.insert(p.sku.clone(), p.id);
        self.by_slug.insert(p.slug.clone(), p.id);
        self.by_name.insert((p.name.as_str().to_owned(), p.id));
        self.by_price.insert((p.price.money().minor(), p.id));
        self.by_created.insert((p.created_at, p.id));
        self.names.insert(p.id, p.name.as_str());
    }

    fn unindex(&mut self, p: &Product) {
        self.by_sku.remove(&p.sku);
        self.by_slug.remove(&p.slug);
        self.by_name.remove(&(p.name.as_str().to_owned(), p.id));
        self.by_price.remove(&(p.price.money().minor(), p.id));
        self.by_created.remove(&(p.created_at, p.id));
        self.names.remove(p.id);
    }

    fn check_unique(&self, p: &Product) -> Result<()> {
        if self.by_sku.get(&p.sku).is_some_and(|id| *id != p.id) {
            return Err(Conflict::SkuTaken.into());
        }
        if self.by_slug.get(&p.slug).is_some_and(|id| *id != p.id) {
            return Err(Conflict::SlugTaken.into());
        }
        Ok(())
    }

    fn append(&mut self, events: impl IntoIterator<Item = DomainEvent>) {
        for event in events {
            self.next_seq += 1;
            self.outbox
                .insert(self.next_seq, OutboxEntry { event, claim: None });
        }
    }

    /// Product IDs in the order of `sort`, starting after `after`.
    fn ordered_ids<'a>(
        &'a self,
        sort: ProductSort,
        after: Option<&'a ProductCursor>,
    ) -> Box<dyn Iterator<Item = ProductId> + 'a> {
        use Bound::{Excluded, Unbounded};
        let key = after.map(|c| (&c.key, c.id));
        match (sort, key) {
            (ProductSort::Name, Some((ProductSortKey::Name(n), id))) => Box::new(
                self.by_name
                    .range((Excluded((n.clone(), id)), Unbounded))
                    .map(|e| e.1),
            ),
            (ProductSort::PriceAsc, Some((ProductSortKey::Price(m), id))) => Box::new(
                self.by_price
                    .range((Excluded((*m, id)), Unbounded))
                    .map(|e| e.1),
            ),
            (ProductSort::PriceDesc, Some((ProductSortKey::Price(m), id))) => Box::new(
                self.by_price
                    .range((Unbounded, Excluded((*m, id))))
                    .rev()
                    .map(|e| e.1),
            ),
            (ProductSort::Newest, Some((ProductSortKey::CreatedAt(t), id))) => Box::new(
                self.by_created
                    .range((Unbounded, Excluded((*t, id))))
                    .rev()
                    .map(|e| e.1),
            ),
            (ProductSort::Name, _) => Box::new(self.by_name.iter().map(|e| e.1)),
            (ProductSort::PriceAsc, _) => Box::new(self.by_price.iter().map(|e| e.1)),
            (ProductSort::PriceDesc, _) => Box::new(self.by_price.iter().rev().map(|e| e.1)),
            (ProductSort::Newest, _) => Box::new(self.by_created.iter().rev().map(|e| e.1)),
        }
    }
}

#[async_trait]
impl StoreHealth for MemoryStore {
    async fn ping(&self) -> Result<()> {
        Ok(())
    }
}

#[derive(Debug, Default)]
struct Users {
    by_id: HashMap<UserId, User>,
    by_email: HashMap<Email, UserId>,
}

#[derive(Debug, Default)]
struct Reviews {
    by_product: HashMap<ProductId, Vec<Review>>,
    authors: HashSet<(ProductId, UserId)>,
}
