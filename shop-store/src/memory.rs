//! The in-memory adapter: every store trait, safe under concurrent use.
//!
//! Catalog, carts, orders and the outbox sit behind one lock, because checkout changes all of
//! them at once and must be atomic; users, reviews and refresh tokens have locks of their own.
//! No lock is held across an `.await`, so a slow caller can never stall the store.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::ops::Bound;

use async_trait::async_trait;
use parking_lot::{Mutex, RwLock};
use shop_core::catalog::{MAX_STOCK, ProductSortKey};
use shop_core::time::now;

use crate::rules::checked_stock;
use shop_core::{
    Cart, CartCommand, CartStore, CatalogStore, CheckoutStore, Conflict, DomainEvent, Email, Error,
    IdempotencyKey, Order, OrderCursor, OrderId, OrderQuery, OrderStatus, OrderStore,
    OrderTransition, OutboxClaim, OutboxRecord, OutboxStats, OutboxStore, Page, PlaceOrder,
    PlaceOrderOutcome, Product, ProductCursor, ProductId, ProductPatch, ProductQuery, ProductSort,
    RatingSummary, RefreshTokenRecord, RefreshTokenStore, RefreshTokenUse, RequestFingerprint,
    Result, Review, ReviewCursor, ReviewQuery, ReviewStore, Sku, Slug, StoreHealth, Timestamp,
    TokenFamilyId, TokenHash, User, UserId, UserStore, UserUpdate,
};

/// Every shop-core store trait, in memory. Cheap to create; share it behind an `Arc`.
#[derive(Debug, Default)]
pub struct MemoryStore {
    commerce: RwLock<Commerce>,
    users: RwLock<Users>,
    reviews: RwLock<Reviews>,
    tokens: Mutex<HashMap<TokenHash, RefreshTokenRecord>>,
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
    }

    fn unindex(&mut self, p: &Product) {
        self.by_sku.remove(&p.sku);
        self.by_slug.remove(&p.slug);
        self.by_name.remove(&(p.name.as_str().to_owned(), p.id));
        self.by_price.remove(&(p.price.money().minor(), p.id));
        self.by_created.remove(&(p.created_at, p.id));
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
impl CatalogStore for MemoryStore {
    async fn create_product(&self, product: &Product) -> Result<()> {
        let mut c = self.commerce.write();
        if c.products.contains_key(&product.id) {
            return Err(Conflict::ConcurrentModification.into());
        }
        c.check_unique(product)?;
        c.index(product);
        c.products.insert(product.id, product.clone());
        c.append([DomainEvent::product_created(product)]);
        Ok(())
    }

    async fn get_product(&self, id: ProductId) -> Result<Option<Product>> {
        Ok(self.commerce.read().products.get(&id).cloned())
    }

    async fn get_product_by_slug(&self, slug: &Slug) -> Result<Option<Product>> {
        let c = self.commerce.read();
        Ok(c.by_slug
            .get(slug)
            .and_then(|id| c.products.get(id))
            .cloned())
    }

    async fn get_products(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
        let c = self.commerce.read();
        let unique: HashSet<&ProductId> = ids.iter().collect();
        Ok(unique
            .into_iter()
            .filter_map(|id| c.products.get(id).cloned())
            .collect())
    }

    async fn update_product(&self, id: ProductId, patch: &ProductPatch) -> Result<Product> {
        let mut c = self.commerce.write();
        let old = c
            .products
            .get(&id)
            .cloned()
            .ok_or(Error::NotFound("product"))?;
        let mut new = old.clone();
        patch.apply_to(&mut new, now());
        c.check_unique(&new)?;
        c.unindex(&old);
        c.index(&new);
        c.products.insert(id, new.clone());
        c.append([DomainEvent::product_updated(&new)]);
        Ok(new)
    }

    async fn adjust_stock(&self, id: ProductId, delta: i64) -> Result<Product> {
        let mut c = self.commerce.write();
        let p = c.products.get_mut(&id).ok_or(Error::NotFound("product"))?;
        let stock = checked_stock(p, delta)?;
        p.stock = stock;
        p.updated_at = now();
        let p = p.clone();
        c.append([DomainEvent::product_updated(&p)]);
        Ok(p)
    }

    async fn delete_product(&self, id: ProductId) -> Result<()> {
        let mut c = self.commerce.write();
        let p = c.products.remove(&id).ok_or(Error::NotFound("product"))?;
        c.unindex(&p);
        for cart in c.carts.values_mut() {
            cart.lines.retain(|l| l.product_id != id);
        }
        Ok(())
    }

    async fn query_products(&self, query: &ProductQuery) -> Result<Page<Product, ProductCursor>> {
        let c = self.commerce.read();
        let want = query.limit.get() + 1;
        let items: Vec<Product> = c
            .ordered_ids(query.sort, query.after.as_ref())
            .filter_map(|id| c.products.get(&id))
            .filter(|p| query.matches(p))
            .take(want)
            .cloned()
            .collect();
        Ok(Page::from_overfetch(items, query.limit, |p| {
            ProductCursor::after(query.sort, p)
        }))
    }
}

#[async_trait]
impl CartStore for MemoryStore {
    async fn get_cart(&self, user_id: UserId) -> Result<Option<Cart>> {
        Ok(self.commerce.read().carts.get(&user_id).cloned())
    }

    async fn modify_cart(&self, user_id: UserId, command: &CartCommand) -> Result<Cart> {
        let mut c = self.commerce.write();
        let mut cart = c
            .carts
            .get(&user_id)
            .cloned()
            .unwrap_or_else(|| Cart::empty(user_id));
        cart.apply(command, now())?;
        c.carts.insert(user_id, cart.clone());
        Ok(cart)
    }
}

#[async_trait]
impl OrderStore for MemoryStore {
    async fn get_order(&self, id: OrderId) -> Result<Option<Order>> {
        Ok(self.commerce.read().orders.get(&id).cloned())
    }

    async fn list_orders(&self, query: &OrderQuery) -> Result<Page<Order, OrderCursor>> {
        let c = self.commerce.read();
        let upper = match &query.after {
            Some(cur) => Bound::Excluded((cur.created_at, cur.id)),
            None => Bound::Unbounded,
        };
        let items: Vec<Order> = c
            .orders_by_created
            .range((Bound::Unbounded, upper))
            .rev()
            .filter_map(|(_, id)| c.orders.get(id))
            .filter(|o| query.matches(o))
            .take(query.limit.get() + 1)
            .cloned()
            .collect();
        Ok(Page::from_overfetch(items, query.limit, OrderCursor::after))
    }

    async fn find_order_by_idempotency_key(
        &self,
        user_id: UserId,
        key: &IdempotencyKey,
    ) -> Result<Option<(Order, RequestFingerprint)>> {
        let c = self.commerce.read();
        Ok(c.idempotency
            .get(&(user_id, key.clone()))
            .and_then(|(id, fp)| c.orders.get(id).map(|o| (o.clone(), fp.clone()))))
    }
}

#[async_trait]
impl CheckoutStore for MemoryStore {
    async fn place_order(&self, request: &PlaceOrder) -> Result<PlaceOrderOutcome> {
        let order = &request.order;
        let mut c = self.commerce.write();
        let key = (order.user_id, request.idempotency_key.clone());
        if let Some((id, fingerprint)) = c.idempotency.get(&key)
            && let Some(first) = c.orders.get(id)
        {
            return Ok(PlaceOrderOutcome::Replayed {
                order: first.clone(),
                fingerprint: fingerprint.clone(),
            });
        }
        // Check everything before changing anything: that is what makes it all-or-nothing.
        for line in &order.lines {
            let p = c
                .products
                .get(&line.product_id)
                .filter(|p| p.active)
                .ok_or(Conflict::ProductUnavailable(line.product_id))?;
            if p.price.money() != line.unit_price {
                return Err(Conflict::ProductChanged(line.product_id).into());
            }
        }
        for (id, qty) in order.quantities_by_product() {
            let stock = c.products.get(&id).map_or(0, |p| p.stock);
            if stock < qty {
                return Err(Error::InsufficientStock {
                    product_id: id,
                    requested: qty,
                    available: stock,
                });
            }
        }
        if c.carts.get(&order.user_id).map(|cart| cart.version) != Some(request.cart_version) {
            return Err(Conflict::ConcurrentModification.into());
        }

        let mut low = Vec::new();
        for line in &order.lines {
            if let Some(p) = c.products.get_mut(&line.product_id) {
                let before = p.stock;
                p.stock -= line.quantity.get();
                if before >= request.low_stock_threshold && p.stock < request.low_stock_threshold {
                    low.push(DomainEvent::stock_low(p, request.low_stock_threshold));
                }
            }
        }
        if let Some(cart) = c.carts.get_mut(&order.user_id) {
            cart.apply(&CartCommand::Clear, now())?;
        }
        c.orders.insert(order.id, order.clone());
        c.orders_by_created.insert((order.created_at, order.id));
        c.idempotency
            .insert(key, (order.id, request.fingerprint.clone()));
        c.append(request.events.iter().cloned().chain(low));
        Ok(PlaceOrderOutcome::Placed(order.clone()))
    }

    async fn transition_order(&self, t: &OrderTransition) -> Result<Order> {
        let mut c = self.commerce.write();
        let order = c.orders.get(&t.order_id).ok_or(Error::NotFound("order"))?;
        if order.status != t.from {
            return Err(Conflict::ConcurrentModification.into());
        }
        if !t.from.can_become(t.to) {
            return Err(Error::InvalidTransition {
                from: t.from,
                to: t.to,
            });
        }
        let lines = order.lines.clone();
        if t.to == OrderStatus::Cancelled {
            for line in &lines {
                if let Some(p) = c.products.get_mut(&line.product_id) {
                    p.stock = p.stock.saturating_add(line.quantity.get()).min(MAX_STOCK);
                }
            }
        }
        let order = c
            .orders
            .get_mut(&t.order_id)
            .ok_or(Error::NotFound("order"))?;
        order.status = t.to;
        order.updated_at = t.at;
        let order = order.clone();
        c.append(t.events.iter().cloned());
        Ok(order)
    }
}

#[async_trait]
impl OutboxStore for MemoryStore {
    async fn append_events(&self, events: &[DomainEvent]) -> Result<()> {
        self.commerce.write().append(events.iter().cloned());
        Ok(())
    }

    async fn claim_events(&self, claim: &OutboxClaim) -> Result<Vec<OutboxRecord>> {
        let mut c = self.commerce.write();
        let mut out = Vec::new();
        for (seq, entry) in &mut c.outbox {
            if out.len() >= claim.limit {
                break;
            }
            let free = match &entry.claim {
                None => true,
                Some((who, until)) => *who == claim.claimant || *until <= claim.now,
            };
            if free {
                entry.claim = Some((claim.claimant.clone(), claim.lease_until));
                out.push(OutboxRecord {
                    seq: *seq,
                    event: entry.event.clone(),
                });
            }
        }
        Ok(out)
    }

    async fn mark_published(&self, seqs: &[u64]) -> Result<()> {
        let mut c = self.commerce.write();
        for seq in seqs {
            c.outbox.remove(seq);
        }
        Ok(())
    }

    async fn outbox_stats(&self) -> Result<OutboxStats> {
        let c = self.commerce.read();
        Ok(OutboxStats {
            pending: c.outbox.len() as u64,
            oldest_pending_at: c.outbox.values().map(|e| e.event.occurred_at).min(),
        })
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

#[async_trait]
impl UserStore for MemoryStore {
    async fn create_user(&self, user: &User) -> Result<()> {
        let mut u = self.users.write();
        if u.by_email.contains_key(&user.email) {
            return Err(Conflict::EmailTaken.into());
        }
        u.by_email.insert(user.email.clone(), user.id);
        u.by_id.insert(user.id, user.clone());
        Ok(())
    }

    async fn get_user(&self, id: UserId) -> Result<Option<User>> {
        Ok(self.users.read().by_id.get(&id).cloned())
    }

    async fn find_user_by_email(&self, email: &Email) -> Result<Option<User>> {
        let u = self.users.read();
        Ok(u.by_email
            .get(email)
            .and_then(|id| u.by_id.get(id))
            .cloned())
    }

    async fn update_user(&self, id: UserId, update: &UserUpdate) -> Result<User> {
        let mut u = self.users.write();
        let user = u.by_id.get_mut(&id).ok_or(Error::NotFound("user"))?;
        update.apply_to(user, now());
        Ok(user.clone())
    }
}

#[derive(Debug, Default)]
struct Reviews {
    by_product: HashMap<ProductId, Vec<Review>>,
    authors: HashSet<(ProductId, UserId)>,
}

#[async_trait]
impl ReviewStore for MemoryStore {
    async fn add_review(&self, review: &Review) -> Result<()> {
        let mut r = self.reviews.write();
        if !r.authors.insert((review.product_id, review.author_id)) {
            return Err(Conflict::ReviewExists.into());
        }
        let list = r.by_product.entry(review.product_id).or_default();
        // Keep each product's list newest first, so a page is a slice of it.
        let at = list.partition_point(|x| (x.created_at, x.id) > (review.created_at, review.id));
        list.insert(at, review.clone());
        Ok(())
    }

    async fn list_reviews(&self, query: &ReviewQuery) -> Result<Page<Review, ReviewCursor>> {
        let r = self.reviews.read();
        let items: Vec<Review> = r
            .by_product
            .get(&query.product_id)
            .map(|list| {
                list.iter()
                    .filter(|rv| query.after.as_ref().is_none_or(|c| c.precedes(rv)))
                    .take(query.limit.get() + 1)
                    .cloned()
                    .collect()
            })
            .unwrap_or_default();
        Ok(Page::from_overfetch(
            items,
            query.limit,
            ReviewCursor::after,
        ))
    }

    async fn rating_summary(&self, product_id: ProductId) -> Result<RatingSummary> {
        let r = self.reviews.read();
        let list = r.by_product.get(&product_id).map_or(&[][..], Vec::as_slice);
        Ok(RatingSummary {
            count: list.len() as u64,
            total: list.iter().map(|rv| u64::from(rv.rating.get())).sum(),
        })
    }
}

#[async_trait]
impl RefreshTokenStore for MemoryStore {
    async fn insert_refresh_token(&self, record: &RefreshTokenRecord) -> Result<()> {
        let mut t = self.tokens.lock();
        if t.contains_key(&record.token_hash) {
            return Err(Conflict::ConcurrentModification.into());
        }
        t.insert(record.token_hash, record.clone());
        Ok(())
    }

    async fn use_refresh_token(&self, hash: &TokenHash, at: Timestamp) -> Result<RefreshTokenUse> {
        let mut t = self.tokens.lock();
        let Some(rec) = t.get_mut(hash) else {
            return Ok(RefreshTokenUse::Unknown);
        };
        if rec.is_usable_at(at) {
            rec.used_at = Some(at);
            return Ok(RefreshTokenUse::Fresh(rec.clone()));
        }
        Ok(rec.clone().refusal_at(at))
    }

    async fn revoke_token_family(&self, family_id: TokenFamilyId, at: Timestamp) -> Result<u64> {
        Ok(revoke_where(&mut self.tokens.lock(), at, |r| {
            r.family_id == family_id
        }))
    }

    async fn revoke_user_tokens(&self, user_id: UserId, at: Timestamp) -> Result<u64> {
        Ok(revoke_where(&mut self.tokens.lock(), at, |r| {
            r.user_id == user_id
        }))
    }
}

fn revoke_where(
    tokens: &mut HashMap<TokenHash, RefreshTokenRecord>,
    at: Timestamp,
    pred: impl Fn(&RefreshTokenRecord) -> bool,
) -> u64 {
    let mut n = 0;
    for rec in tokens.values_mut() {
        if rec.revoked_at.is_none() && pred(rec) {
            rec.revoked_at = Some(at);
            n += 1;
        }
    }
    n
}
