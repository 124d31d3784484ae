//! The conformance suite: one public async function per behaviour every adapter must have.
//!
//! An adapter's test file runs the whole list with one macro call, giving it a factory that
//! makes a fresh, empty store per test (or `None`, after printing why, to skip where a backend
//! is unreachable and skipping is allowed):
//!
//! ```ignore
//! async fn fresh() -> Option<Store> { Some(Arc::new(MemoryStore::new())) }
//! shop_store::conformance_tests!(fresh());
//! ```
//!
//! Adding a behaviour here and to [`conformance_tests!`](crate::conformance_tests) runs it on
//! every adapter. Backend differences are parameters of the factory, never forks of the suite.
//! Every function panics (like any test) when the store misbehaves.

#![allow(clippy::missing_panics_doc, clippy::unwrap_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use shop_core::time::now;
use shop_core::{
    Cart, CartCommand, CheckoutConfig, CheckoutOutcome, CheckoutRequest, CheckoutService,
    CommerceStore, Conflict, Currency, Description, DisplayName, DomainEvent, Email, Error,
    EventType, IdempotencyKey, ImageUrl, Money, NewProduct, OrderQuery, OrderService, OrderStatus,
    OrderTransition, OutboxClaim, PageLimit, PasswordHash, PlaceOrder, PlaceOrderOutcome, Price,
    Product, ProductCursor, ProductId, ProductName, ProductPatch, ProductQuery, ProductSort,
    Quantity, Rating, RefreshTokenRecord, RefreshTokenUse, RequestFingerprint, Review, ReviewInput,
    ReviewQuery, Role, SearchText, ShopStore, Sku, Slug, TokenFamilyId, TokenHash, User, UserId,
    UserUpdate,
};

/// What every conformance function takes: a fresh store that implements every trait.
pub type Store = Arc<dyn ShopStore>;

/// A store for one test plus whatever must be torn down after it (a database to drop, …).
/// The guard is dropped when the test ends, also when it panics.
pub struct Harness {
    /// The store under test.
    pub store: Store,
    _cleanup: Option<Box<dyn std::any::Any + Send>>,
}

impl Harness {
    /// A store whose `guard` is dropped when the test is over.
    pub fn with_cleanup(store: Store, guard: impl Send + 'static) -> Self {
        Self {
            store,
            _cleanup: Some(Box::new(guard)),
        }
    }
}

impl From<Store> for Harness {
    fn from(store: Store) -> Self {
        Self {
            store,
            _cleanup: None,
        }
    }
}

impl std::fmt::Debug for Harness {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Harness").finish_non_exhaustive()
    }
}

// ---------------------------------------------------------------- fixtures

fn product(sku: &str, name: &str, price_minor: i64, stock: u32) -> Product {
    Product::create(NewProduct {
        sku: Sku::parse(sku).unwrap(),
        slug: Slug::from_name(&format!("{name} {sku}")).unwrap(),
        name: ProductName::parse(name).unwrap(),
        description: Description::parse("a thing").unwrap(),
        image_url: Some(ImageUrl::parse("https://img.example/x.png").unwrap()),
        price: Price::new(Money::new(price_minor, Currency::USD)).unwrap(),
        stock,
        active: true,
    })
}

async fn seeded(store: &Store, sku: &str, price_minor: i64, stock: u32) -> Product {
    let p = product(sku, &format!("Product {sku}"), price_minor, stock);
    store.create_product(&p).await.unwrap();
    p
}

fn user(tag: &str) -> User {
    User::create(
        Email::parse(format!("{tag}-{}@example.com", UserId::generate())).unwrap(),
        DisplayName::parse(tag).unwrap(),
        PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        BTreeSet::from([Role::Customer]),
    )
}

fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

async fn add(store: &Store, user: UserId, p: ProductId, n: i64) -> Cart {
    store
        .modify_cart(
            user,
            &CartCommand::Add {
                product_id: p,
                quantity: q(n),
            },
        )
        .await
        .unwrap()
}

fn commerce(store: &Store) -> Arc<dyn CommerceStore> {
    store.clone()
}

fn checkout_service(store: &Store) -> CheckoutService {
    CheckoutService::new(commerce(store), CheckoutConfig::default())
}

fn request(user: UserId, key: &str) -> CheckoutRequest {
    CheckoutRequest {
        expected_cart_version: None,
        user_id: user,
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: RequestFingerprint::parse("fp-1").unwrap(),
    }
}

async fn checkout(store: &Store, user: UserId, key: &str) -> Result<CheckoutOutcome, Error> {
    checkout_service(store).checkout(&request(user, key)).await
}

async fn stock(store: &Store, id: ProductId) -> u32 {
    store.get_product(id).await.unwrap().unwrap().stock
}

/// Every event now waiting in the outbox, in order (claimed by an inspector that never
/// publishes, so repeated calls see the same list).
async fn outbox(store: &Store) -> Vec<DomainEvent> {
    let at = now();
    store
        .claim_events(&OutboxClaim {
            claimant: "conformance-inspector".into(),
            limit: 100_000,
            now: at,
            lease_until: at + chrono::TimeDelta::seconds(60),
        })
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.event)
        .collect()
}

async fn events_of(store: &Store, t: EventType) -> Vec<DomainEvent> {
    outbox(store)
        .await
        .into_iter()
        .filter(|e| e.event_type == t)
        .collect()
}

fn query() -> ProductQuery {
    ProductQuery {
        limit: PageLimit::capped(u64::from(PageLimit::MAX)),
        ..ProductQuery::default()
    }
}

/// The first (and, in these tests, only) page of every order.
fn all_orders() -> OrderQuery {
    OrderQuery {
        limit: limit(100),
        ..OrderQuery::default()
    }
}

fn limit(n: i64) -> PageLimit {
    PageLimit::new(n).unwrap()
}

async fn all_pages(store: &Store, mut q: ProductQuery) -> Vec<Product> {
    let mut out = Vec::new();
    loop {
        let page = store.query_products(&q).await.unwrap();
        assert!(page.items.len() <= q.limit.get());
        out.extend(page.items);
        match page.next {
            Some(c) => q.after = Some(c),
            None => return out,
        }
    }
}

fn assert_conflict<T: std::fmt::Debug>(r: Result<T, Error>, want: &Conflict) {
    match r {
        Err(Error::Conflict(c)) => assert_eq!(&c, want),
        other => panic!("expected conflict {want:?}, got {other:?}"),
    }
}

// ---------------------------------------------------------------- catalog

/// A created product reads back equal by ID and by slug; an unknown ID reads as `None`.
pub async fn product_create_and_get(store: Store) {
    let p = seeded(&store, "A-1", 1999, 5).await;
    assert_eq!(store.get_product(p.id).await.unwrap(), Some(p.clone()));
    assert_eq!(
        store.get_product_by_slug(&p.slug).await.unwrap(),
        Some(p.clone())
    );
    assert_eq!(
        store.get_product(ProductId::generate()).await.unwrap(),
        None
    );
    let other_slug = Slug::parse("nope").unwrap();
    assert_eq!(store.get_product_by_slug(&other_slug).await.unwrap(), None);
}

/// A second product with a taken SKU is a `SkuTaken` conflict and is not stored.
pub async fn product_duplicate_sku_conflicts(store: Store) {
    seeded(&store, "DUP", 100, 1).await;
    let mut p = product("dup", "Other name", 100, 1);
    p.slug = Slug::parse("other-slug").unwrap();
    assert_conflict(store.create_product(&p).await, &Conflict::SkuTaken);
    assert_eq!(store.get_product(p.id).await.unwrap(), None);
}

/// A second product with a taken slug is a `SlugTaken` conflict.
pub async fn product_duplicate_slug_conflicts(store: Store) {
    let first = seeded(&store, "S-1", 100, 1).await;
    let mut p = product("S-2", "x", 100, 1);
    p.slug = first.slug.clone();
    assert_conflict(store.create_product(&p).await, &Conflict::SlugTaken);
}

/// `get_products` returns the known ones among the IDs and ignores the rest and repeats.
pub async fn product_get_many(store: Store) {
    let a = seeded(&store, "M-1", 100, 1).await;
    let b = seeded(&store, "M-2", 200, 1).await;
    let mut got = store
        .get_products(&[a.id, ProductId::generate(), b.id, a.id])
        .await
        .unwrap();
    got.sort_by_key(|p| p.id);
    assert_eq!(got, vec![a, b]);
    assert!(store.get_products(&[]).await.unwrap().is_empty());
}

/// A patch changes exactly the given fields, can remove the image, and stamps `updated_at`.
pub async fn product_update_applies_patch(store: Store) {
    let p = seeded(&store, "U-1", 100, 3).await;
    let patch = ProductPatch {
        name: Some(ProductName::parse("Renamed").unwrap()),
        image_url: Some(None),
        price: Some(Price::new(Money::new(250, Currency::USD)).unwrap()),
        active: Some(false),
        ..ProductPatch::default()
    };
    let updated = store.update_product(p.id, &patch).await.unwrap();
    assert_eq!(updated.name.as_str(), "Renamed");
    assert_eq!(updated.image_url, None);
    assert_eq!(updated.price.money().minor(), 250);
    assert!(!updated.active);
    assert_eq!((updated.sku.clone(), updated.stock), (p.sku.clone(), 3));
    assert!(updated.updated_at >= p.updated_at);
    assert_eq!(store.get_product(p.id).await.unwrap(), Some(updated));
}

/// Patching onto another product's SKU or slug conflicts; patching a missing product is
/// `NotFound`; a failed patch changes nothing.
pub async fn product_update_conflicts_and_missing(store: Store) {
    let a = seeded(&store, "C-1", 100, 1).await;
    let b = seeded(&store, "C-2", 100, 1).await;
    let sku_patch = ProductPatch {
        sku: Some(a.sku.clone()),
        ..ProductPatch::default()
    };
    assert_conflict(
        store.update_product(b.id, &sku_patch).await,
        &Conflict::SkuTaken,
    );
    let slug_patch = ProductPatch {
        slug: Some(a.slug.clone()),
        name: Some(ProductName::parse("changed").unwrap()),
        ..ProductPatch::default()
    };
    assert_conflict(
        store.update_product(b.id, &slug_patch).await,
        &Conflict::SlugTaken,
    );
    assert_eq!(store.get_product(b.id).await.unwrap(), Some(b));
    let missing = store
        .update_product(ProductId::generate(), &ProductPatch::default())
        .await;
    assert!(matches!(missing, Err(Error::NotFound(_))), "{missing:?}");
}

/// Stock moves by deltas, never below zero nor above the maximum.
pub async fn product_adjust_stock(store: Store) {
    let p = seeded(&store, "ST-1", 100, 5).await;
    assert_eq!(store.adjust_stock(p.id, 10).await.unwrap().stock, 15);
    assert_eq!(store.adjust_stock(p.id, -15).await.unwrap().stock, 0);
    let short = store.adjust_stock(p.id, -1).await;
    assert!(
        matches!(
            short,
            Err(Error::InsufficientStock {
                requested: 1,
                available: 0,
                ..
            })
        ),
        "{short:?}"
    );
    let huge = store
        .adjust_stock(p.id, i64::from(shop_core::catalog::MAX_STOCK) + 1)
        .await;
    assert!(matches!(huge, Err(Error::Validation(_))), "{huge:?}");
    assert_eq!(stock(&store, p.id).await, 0);
    let missing = store.adjust_stock(ProductId::generate(), 1).await;
    assert!(matches!(missing, Err(Error::NotFound(_))));
}

/// Deleting a product removes it from the catalog, its slug, queries and carts.
pub async fn product_delete(store: Store) {
    let p = seeded(&store, "D-1", 100, 5).await;
    let keep = seeded(&store, "D-2", 100, 5).await;
    let u = user("deleter");
    add(&store, u.id, p.id, 1).await;
    add(&store, u.id, keep.id, 1).await;
    store.delete_product(p.id).await.unwrap();
    assert_eq!(store.get_product(p.id).await.unwrap(), None);
    assert_eq!(store.get_product_by_slug(&p.slug).await.unwrap(), None);
    let listed = all_pages(&store, query()).await;
    assert_eq!(
        listed.iter().map(|x| x.id).collect::<Vec<_>>(),
        vec![keep.id]
    );
    let cart = store.get_cart(u.id).await.unwrap().unwrap();
    assert_eq!(cart.lines.len(), 1);
    assert_eq!(cart.lines[0].product_id, keep.id);
    assert!(matches!(
        store.delete_product(p.id).await,
        Err(Error::NotFound(_))
    ));
    // The SKU is free again.
    store
        .create_product(&product("D-1", "Again", 1, 1))
        .await
        .unwrap();
}

/// Creating and changing products appends `ProductCreated` / `ProductUpdated` in order.
pub async fn product_writes_emit_events(store: Store) {
    let p = seeded(&store, "E-1", 100, 5).await;
    store.adjust_stock(p.id, 1).await.unwrap();
    let patch = ProductPatch {
        active: Some(false),
        ..ProductPatch::default()
    };
    store.update_product(p.id, &patch).await.unwrap();
    let events = outbox(&store).await;
    let kinds: Vec<EventType> = events.iter().map(|e| e.event_type).collect();
    assert_eq!(
        kinds,
        vec![
            EventType::ProductCreated,
            EventType::ProductUpdated,
            EventType::ProductUpdated
        ]
    );
    assert!(events.iter().all(|e| e.aggregate_id == p.id.as_uuid()));
    assert_eq!(
        events[2].payload_value()["active"],
        serde_json::json!(false)
    );
}

/// Name search is a case-insensitive literal substring: `%`, `_`, quotes, backslashes and
/// regex characters match only themselves.
pub async fn query_text_search_is_literal(store: Store) {
    let names = [
        "Blue Mug",
        "blue plate",
        "100% Cotton Tee",
        "100 Cotton Tee",
        "snake_case mug",
        "snakeXcase mug",
        "O'Brien's (best) mug",
        "a.b*c mug",
        r"back\slash mug",
    ];
    for (i, n) in names.iter().enumerate() {
        store
            .create_product(&product(&format!("T-{i}"), n, 100, 1))
            .await
            .unwrap();
    }
    let search = |t: &str| {
        let mut q = query();
        q.text = Some(SearchText::parse(t).unwrap());
        q.sort = ProductSort::Name;
        let store = store.clone();
        async move {
            all_pages(&store, q)
                .await
                .into_iter()
                .map(|p| p.name.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(search("BLUE").await, vec!["Blue Mug", "blue plate"]);
    assert_eq!(search("0% c").await, vec!["100% Cotton Tee"]);
    assert_eq!(search("e_c").await, vec!["snake_case mug"]);
    assert_eq!(search("'brien's (").await, vec!["O'Brien's (best) mug"]);
    assert_eq!(search("a.b*").await, vec!["a.b*c mug"]);
    assert_eq!(search(r"k\s").await, vec![r"back\slash mug"]);
    assert!(search(".*").await.is_empty());
    assert!(search("%").await == vec!["100% Cotton Tee"]);
}

/// Price bounds are inclusive; the active filter picks either side; filters combine.
pub async fn query_price_and_active_filters(store: Store) {
    for (i, price) in [100, 200, 300, 400].into_iter().enumerate() {
        seeded(&store, &format!("P-{i}"), price, 1).await;
    }
    let off = seeded(&store, "P-OFF", 250, 1).await;
    let patch = ProductPatch {
        active: Some(false),
        ..ProductPatch::default()
    };
    store.update_product(off.id, &patch).await.unwrap();

    let prices = |min: Option<i64>, max: Option<i64>, active: Option<bool>| {
        let mut q = query();
        q.min_price = min;
        q.max_price = max;
        q.active = active;
        q.sort = ProductSort::PriceAsc;
        let store = store.clone();
        async move {
            all_pages(&store, q)
                .await
                .iter()
                .map(|p| p.price.money().minor())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        prices(Some(200), Some(300), None).await,
        vec![200, 250, 300]
    );
    assert_eq!(
        prices(Some(200), Some(300), Some(true)).await,
        vec![200, 300]
    );
    assert_eq!(prices(None, None, Some(false)).await, vec![250]);
    assert_eq!(prices(Some(401), None, None).await, Vec::<i64>::new());
    assert_eq!(prices(None, Some(100), None).await, vec![100]);
}

/// Each sort order lists products in exactly the order `ProductSort::compare` defines.
pub async fn query_sort_orders(store: Store) {
    let specs = [
        ("Cherry", 300),
        ("apple", 100),
        ("Banana", 300),
        ("Apple", 50),
    ];
    for (i, (name, price)) in specs.into_iter().enumerate() {
        store
            .create_product(&product(&format!("O-{i}"), name, price, 1))
            .await
            .unwrap();
    }
    for sort in [
        ProductSort::Newest,
        ProductSort::Name,
        ProductSort::PriceAsc,
        ProductSort::PriceDesc,
    ] {
        let mut q = query();
        q.sort = sort;
        let got = all_pages(&store, q).await;
        let mut want = got.clone();
        want.sort_by(|a, b| sort.compare(a, b));
        assert_eq!(got, want, "{sort:?}");
        assert_eq!(got.len(), 4);
    }
    let mut q = query();
    q.sort = ProductSort::Name;
    let names: Vec<String> = all_pages(&store, q)
        .await
        .iter()
        .map(|p| p.name.as_str().to_owned())
        .collect();
    // Code-point order: upper case before lower case, the same on every backend.
    assert_eq!(names, vec!["Apple", "Banana", "Cherry", "apple"]);
}

/// Walking every page of every sort visits each product once, with many equal keys.
pub async fn query_pagination_walks_without_gaps(store: Store) {
    let mut ids = BTreeSet::new();
    for i in 0..23 {
        // Only three distinct prices and names, so the ID tie-breaker matters.
        let p = product(
            &format!("W-{i}"),
            &format!("Name {}", i % 3),
            100 * (i % 3),
            1,
        );
        store.create_product(&p).await.unwrap();
        ids.insert(p.id);
    }
    for sort in [
        ProductSort::Newest,
        ProductSort::Name,
        ProductSort::PriceAsc,
        ProductSort::PriceDesc,
    ] {
        let mut q = query();
        q.sort = sort;
        q.limit = limit(5);
        let got = all_pages(&store, q).await;
        assert_eq!(got.len(), 23, "{sort:?}");
        assert_eq!(got.iter().map(|p| p.id).collect::<BTreeSet<_>>(), ids);
        let mut want = got.clone();
        want.sort_by(|a, b| sort.compare(a, b));
        assert_eq!(got, want, "{sort:?}");
    }
}

/// Edges: an empty catalog gives an empty last page; a page exactly full at the end gives no
/// cursor; a cursor past the last item gives nothing; a limit of one works.
pub async fn query_pagination_edges(store: Store) {
    let empty = store.query_products(&query()).await.unwrap();
    assert!(empty.items.is_empty() && empty.next.is_none());
    for i in 0..4 {
        seeded(&store, &format!("G-{i}"), 100 + i, 1).await;
    }
    let mut q = query();
    q.sort = ProductSort::PriceAsc;
    q.limit = limit(2);
    let first = store.query_products(&q).await.unwrap();
    assert_eq!(first.items.len(), 2);
    q.after = first.next.clone();
    let second = store.query_products(&q).await.unwrap();
    assert_eq!(second.items.len(), 2);
    assert!(
        second.next.is_none(),
        "a page that ends the list has no cursor"
    );
    let last = second.items.last().unwrap();
    q.after = Some(ProductCursor::after(ProductSort::PriceAsc, last));
    assert!(store.query_products(&q).await.unwrap().items.is_empty());
    q.after = None;
    q.limit = limit(1);
    assert_eq!(all_pages(&store, q).await.len(), 4);
}

// ---------------------------------------------------------------- carts

/// A user without a cart has none; the first change creates it.
pub async fn cart_created_on_first_change(store: Store) {
    let u = user("c1");
    assert_eq!(store.get_cart(u.id).await.unwrap(), None);
    let p = seeded(&store, "CA-1", 100, 5).await;
    let cart = add(&store, u.id, p.id, 2).await;
    assert_eq!(cart.user_id, u.id);
    assert_eq!(cart.lines.len(), 1);
    assert_eq!(store.get_cart(u.id).await.unwrap(), Some(cart));
}

/// Adding a product twice merges the quantities into one line; the version rises each time.
pub async fn cart_add_merges_lines(store: Store) {
    let u = user("c2");
    let p = seeded(&store, "CA-2", 100, 5).await;
    let first = add(&store, u.id, p.id, 2).await;
    let second = add(&store, u.id, p.id, 3).await;
    assert_eq!(second.lines.len(), 1);
    assert_eq!(second.lines[0].quantity.get(), 5);
    assert!(second.version > first.version);
    assert_eq!(second.id, first.id, "one open cart per user");
}

/// A line never exceeds 999 units; the refused change leaves the cart as it was.
pub async fn cart_quantity_limit(store: Store) {
    let u = user("c3");
    let p = seeded(&store, "CA-3", 100, 5).await;
    let before = add(&store, u.id, p.id, 999).await;
    let err = store
        .modify_cart(
            u.id,
            &CartCommand::Add {
                product_id: p.id,
                quantity: q(1),
            },
        )
        .await;
    assert!(matches!(err, Err(Error::Validation(_))), "{err:?}");
    assert_eq!(store.get_cart(u.id).await.unwrap(), Some(before));
}

/// A cart holds at most 100 lines.
pub async fn cart_line_limit(store: Store) {
    let u = user("c4");
    for _ in 0..shop_core::cart::MAX_CART_LINES {
        add(&store, u.id, ProductId::generate(), 1).await;
    }
    let err = store
        .modify_cart(
            u.id,
            &CartCommand::Add {
                product_id: ProductId::generate(),
                quantity: q(1),
            },
        )
        .await;
    assert!(matches!(err, Err(Error::Validation(_))), "{err:?}");
    let cart = store.get_cart(u.id).await.unwrap().unwrap();
    assert_eq!(cart.lines.len(), shop_core::cart::MAX_CART_LINES);
}

/// Setting a quantity and removing a line work on existing lines and are `NotFound` otherwise.
pub async fn cart_set_quantity_and_remove(store: Store) {
    let u = user("c5");
    let a = seeded(&store, "CA-5A", 100, 5).await;
    let b = seeded(&store, "CA-5B", 100, 5).await;
    add(&store, u.id, a.id, 1).await;
    add(&store, u.id, b.id, 1).await;
    let cart = store
        .modify_cart(
            u.id,
            &CartCommand::SetQuantity {
                product_id: a.id,
                quantity: q(7),
            },
        )
        .await
        .unwrap();
    assert_eq!(cart.line(a.id).unwrap().quantity.get(), 7);
    let cart = store
        .modify_cart(u.id, &CartCommand::Remove { product_id: b.id })
        .await
        .unwrap();
    assert_eq!(cart.lines.len(), 1);
    for cmd in [
        CartCommand::Remove { product_id: b.id },
        CartCommand::SetQuantity {
            product_id: b.id,
            quantity: q(1),
        },
    ] {
        let r = store.modify_cart(u.id, &cmd).await;
        assert!(matches!(r, Err(Error::NotFound(_))), "{r:?}");
    }
    // Line order is the order lines were first added.
    add(&store, u.id, b.id, 1).await;
    let cart = add(&store, u.id, a.id, 1).await;
    let order: Vec<ProductId> = cart.lines.iter().map(|l| l.product_id).collect();
    assert_eq!(order, vec![a.id, b.id]);
}

/// Clearing empties the cart but keeps it (and its identity).
pub async fn cart_clear(store: Store) {
    let u = user("c6");
    let p = seeded(&store, "CA-6", 100, 5).await;
    let before = add(&store, u.id, p.id, 1).await;
    let cleared = store.modify_cart(u.id, &CartCommand::Clear).await.unwrap();
    assert!(cleared.is_empty());
    assert_eq!(cleared.id, before.id);
    assert!(cleared.version > before.version);
}

/// Users' carts are independent.
pub async fn carts_are_per_user(store: Store) {
    let (u1, u2) = (user("c7a"), user("c7b"));
    let p = seeded(&store, "CA-7", 100, 5).await;
    add(&store, u1.id, p.id, 1).await;
    add(&store, u2.id, p.id, 4).await;
    let c1 = store.get_cart(u1.id).await.unwrap().unwrap();
    let c2 = store.get_cart(u2.id).await.unwrap().unwrap();
    assert_ne!(c1.id, c2.id);
    assert_eq!(c1.lines[0].quantity.get(), 1);
    assert_eq!(c2.lines[0].quantity.get(), 4);
}

// ---------------------------------------------------------------- checkout

/// Checkout takes the stock, writes the order with price snapshots, clears the cart and
/// appends `OrderPlaced`.
pub async fn checkout_places_order(store: Store) {
    let u = user("k1");
    let a = seeded(&store, "K-1A", 1250, 10).await;
    let b = seeded(&store, "K-1B", 199, 10).await;
    add(&store, u.id, a.id, 2).await;
    add(&store, u.id, b.id, 3).await;
    let out = checkout(&store, u.id, "key-1").await.unwrap();
    assert!(!out.replayed);
    let order = out.order;
    assert_eq!(order.status, OrderStatus::Pending);
    assert_eq!(order.total, Money::new(2 * 1250 + 3 * 199, Currency::USD));
    assert_eq!(order.lines.len(), 2);
    assert_eq!(order.lines[0].sku, a.sku);
    assert_eq!(order.lines[0].name, a.name);
    assert_eq!(order.lines[0].unit_price, a.price.money());
    assert_eq!(order.lines[1].line_total, Money::new(597, Currency::USD));
    assert_eq!(stock(&store, a.id).await, 8);
    assert_eq!(stock(&store, b.id).await, 7);
    assert!(store.get_cart(u.id).await.unwrap().unwrap().is_empty());
    assert_eq!(
        store.get_order(order.id).await.unwrap(),
        Some(order.clone())
    );
    let placed = events_of(&store, EventType::OrderPlaced).await;
    assert_eq!(placed.len(), 1);
    assert_eq!(placed[0].aggregate_id, order.id.as_uuid());
    // The payload survives the store as the JSON the domain made.
    let payload = placed[0].payload_value();
    assert_eq!(payload["order_id"], serde_json::json!(order.id));
    assert_eq!(payload["total"], serde_json::json!(order.total));
    assert_eq!(
        payload["lines"].as_array().map(Vec::len),
        Some(order.lines.len())
    );
    assert_eq!(
        payload["lines"][0]["sku"],
        serde_json::json!(order.lines[0].sku)
    );
    assert_eq!(
        payload["lines"][0]["quantity"],
        serde_json::json!(order.lines[0].quantity)
    );
    // The snapshot survives later price changes.
    let patch = ProductPatch {
        price: Some(Price::new(Money::new(1, Currency::USD)).unwrap()),
        ..ProductPatch::default()
    };
    store.update_product(a.id, &patch).await.unwrap();
    let again = store.get_order(order.id).await.unwrap().unwrap();
    assert_eq!(again.lines[0].unit_price.minor(), 1250);
}

/// A cart whose second line lacks stock changes nothing at all.
pub async fn checkout_is_all_or_nothing(store: Store) {
    let u = user("k2");
    let a = seeded(&store, "K-2A", 100, 10).await;
    let b = seeded(&store, "K-2B", 100, 1).await;
    add(&store, u.id, a.id, 2).await;
    let cart = add(&store, u.id, b.id, 2).await;
    let before_events = outbox(&store).await.len();
    let err = checkout(&store, u.id, "key-2").await;
    assert!(
        matches!(err, Err(Error::InsufficientStock { product_id, requested: 2, available: 1 }) if product_id == b.id),
        "{err:?}"
    );
    // Also straight through the store, past the service's early check.
    let mut order = checkout_order_for(&store, &cart).await;
    order.lines.reverse();
    let placed = store.place_order(&place(&cart, order, "key-2b")).await;
    assert!(
        matches!(placed, Err(Error::InsufficientStock { .. })),
        "{placed:?}"
    );

    assert_eq!(stock(&store, a.id).await, 10);
    assert_eq!(stock(&store, b.id).await, 1);
    assert_eq!(store.get_cart(u.id).await.unwrap(), Some(cart));
    assert_eq!(outbox(&store).await.len(), before_events);
    let orders = store.list_orders(&all_orders()).await.unwrap();
    assert!(orders.items.is_empty());
    assert!(
        store
            .find_order_by_idempotency_key(u.id, &IdempotencyKey::parse("key-2").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

/// An order for `cart` at current prices, built by hand (to call the store directly).
async fn checkout_order_for(store: &Store, cart: &Cart) -> shop_core::Order {
    let mut lines = Vec::new();
    for l in &cart.lines {
        let p = store.get_product(l.product_id).await.unwrap().unwrap();
        let unit = p.price.money();
        lines.push(shop_core::OrderLine {
            product_id: p.id,
            sku: p.sku,
            name: p.name,
            unit_price: unit,
            quantity: l.quantity,
            line_total: unit.checked_mul(i64::from(l.quantity.get())).unwrap(),
        });
    }
    let total = Money::sum(Currency::USD, lines.iter().map(|l| l.line_total)).unwrap();
    let at = now();
    shop_core::Order {
        id: shop_core::OrderId::generate(),
        user_id: cart.user_id,
        lines,
        total,
        status: OrderStatus::Pending,
        created_at: at,
        updated_at: at,
    }
}

fn place(cart: &Cart, order: shop_core::Order, key: &str) -> PlaceOrder {
    PlaceOrder {
        events: vec![DomainEvent::order_placed(&order)],
        order,
        cart_version: cart.version,
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: RequestFingerprint::parse("fp-1").unwrap(),
        low_stock_threshold: 0,
    }
}

/// An empty (or never created) cart cannot be checked out.
pub async fn checkout_refuses_empty_cart(store: Store) {
    let u = user("k3");
    let err = checkout(&store, u.id, "k").await;
    assert!(
        matches!(err, Err(Error::Validation(ref v)) if v.has("cart")),
        "{err:?}"
    );
    let p = seeded(&store, "K-3", 100, 1).await;
    add(&store, u.id, p.id, 1).await;
    store.modify_cart(u.id, &CartCommand::Clear).await.unwrap();
    let err = checkout(&store, u.id, "k").await;
    assert!(matches!(err, Err(Error::Validation(_))), "{err:?}");
}

/// The same key replays the first order without a second sale; the same key with another
/// request is refused; another key places a new order.
pub async fn checkout_idempotent_replay(store: Store) {
    let u = user("k4");
    let p = seeded(&store, "K-4", 100, 10).await;
    add(&store, u.id, p.id, 2).await;
    let first = checkout(&store, u.id, "same").await.unwrap();
    let again = checkout(&store, u.id, "same").await.unwrap();
    assert!(again.replayed);
    assert_eq!(again.order, first.order);
    assert_eq!(stock(&store, p.id).await, 8);

    let mut other = request(u.id, "same");
    other.fingerprint = RequestFingerprint::parse("fp-2").unwrap();
    assert_conflict(
        checkout_service(&store).checkout(&other).await,
        &Conflict::IdempotencyKeyReused,
    );
    let (found, fp) = store
        .find_order_by_idempotency_key(u.id, &IdempotencyKey::parse("same").unwrap())
        .await
        .unwrap()
        .unwrap();
    assert_eq!((found, fp.as_str()), (first.order.clone(), "fp-1"));

    // The store itself answers a reused key with the first order and changes nothing, even
    // when handed a fresh cart and order.
    let cart = add(&store, u.id, p.id, 1).await;
    let fresh = checkout_order_for(&store, &cart).await;
    match store
        .place_order(&place(&cart, fresh, "same"))
        .await
        .unwrap()
    {
        PlaceOrderOutcome::Replayed { order, fingerprint } => {
            assert_eq!(order, first.order);
            assert_eq!(fingerprint.as_str(), "fp-1");
        }
        PlaceOrderOutcome::Placed(o) => panic!("placed a second order {o:?}"),
    }
    assert_eq!(stock(&store, p.id).await, 8);
    store.modify_cart(u.id, &CartCommand::Clear).await.unwrap();

    add(&store, u.id, p.id, 1).await;
    let second = checkout(&store, u.id, "other").await.unwrap();
    assert_ne!(second.order.id, first.order.id);
    assert_eq!(stock(&store, p.id).await, 7);
    assert_eq!(events_of(&store, EventType::OrderPlaced).await.len(), 2);
}

/// Idempotency keys belong to a user: another user's identical key is a different checkout.
pub async fn checkout_keys_are_per_user(store: Store) {
    let (a, b) = (user("k5a"), user("k5b"));
    let p = seeded(&store, "K-5", 100, 10).await;
    add(&store, a.id, p.id, 1).await;
    add(&store, b.id, p.id, 1).await;
    let oa = checkout(&store, a.id, "shared-key").await.unwrap();
    let ob = checkout(&store, b.id, "shared-key").await.unwrap();
    assert!(!ob.replayed);
    assert_ne!(oa.order.id, ob.order.id);
    assert_eq!(ob.order.user_id, b.id);
}

/// Inactive or deleted products make checkout refuse with `ProductUnavailable`.
pub async fn checkout_refuses_unavailable_products(store: Store) {
    let u = user("k6");
    let p = seeded(&store, "K-6", 100, 10).await;
    add(&store, u.id, p.id, 1).await;
    let patch = ProductPatch {
        active: Some(false),
        ..ProductPatch::default()
    };
    store.update_product(p.id, &patch).await.unwrap();
    assert_conflict(
        checkout(&store, u.id, "k").await,
        &Conflict::ProductUnavailable(p.id),
    );
    assert_eq!(stock(&store, p.id).await, 10);
}

/// The store refuses an order priced at a price that is no longer current.
pub async fn place_order_refuses_stale_price(store: Store) {
    let u = user("k7");
    let p = seeded(&store, "K-7", 100, 10).await;
    let cart = add(&store, u.id, p.id, 1).await;
    let order = checkout_order_for(&store, &cart).await;
    let patch = ProductPatch {
        price: Some(Price::new(Money::new(150, Currency::USD)).unwrap()),
        ..ProductPatch::default()
    };
    store.update_product(p.id, &patch).await.unwrap();
    assert_conflict(
        store.place_order(&place(&cart, order, "k7")).await,
        &Conflict::ProductChanged(p.id),
    );
    assert_eq!(stock(&store, p.id).await, 10);
    assert_eq!(store.get_cart(u.id).await.unwrap(), Some(cart));
}

/// The store refuses to clear a cart that changed after it was priced.
pub async fn place_order_refuses_stale_cart(store: Store) {
    let u = user("k8");
    let p = seeded(&store, "K-8", 100, 10).await;
    let q2 = seeded(&store, "K-8B", 100, 10).await;
    let cart = add(&store, u.id, p.id, 1).await;
    let order = checkout_order_for(&store, &cart).await;
    add(&store, u.id, q2.id, 1).await;
    assert_conflict(
        store.place_order(&place(&cart, order, "k8")).await,
        &Conflict::ConcurrentModification,
    );
    assert_eq!(stock(&store, p.id).await, 10);
    assert_eq!(store.get_cart(u.id).await.unwrap().unwrap().lines.len(), 2);
}

/// A sale that takes stock below the threshold appends `StockLow` after `OrderPlaced`.
pub async fn checkout_emits_stock_low(store: Store) {
    let u = user("k9");
    let p = seeded(&store, "K-9", 100, 6).await;
    let plenty = seeded(&store, "K-9B", 100, 100).await;
    add(&store, u.id, p.id, 2).await;
    add(&store, u.id, plenty.id, 2).await;
    checkout(&store, u.id, "k9").await.unwrap();
    let events = outbox(&store).await;
    let tail: Vec<EventType> = events
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|e| e.event_type)
        .collect();
    assert_eq!(tail, vec![EventType::OrderPlaced, EventType::StockLow]);
    let low = events_of(&store, EventType::StockLow).await;
    assert_eq!(low.len(), 1);
    assert_eq!(low[0].aggregate_id, p.id.as_uuid());
    assert_eq!(low[0].payload_value()["stock"], serde_json::json!(4));
}

/// 64 tasks check out the last units at once: exactly that many units are sold, stock never
/// goes negative, and every failed checkout leaves no trace.
pub async fn concurrent_checkouts_never_oversell(store: Store) {
    const TASKS: usize = 64;
    const UNITS: u32 = 10;
    let p = seeded(&store, "RACE", 500, UNITS).await;
    let mut users = Vec::new();
    for i in 0..TASKS {
        let u = user(&format!("r{i}"));
        add(&store, u.id, p.id, 1).await;
        users.push(u.id);
    }
    let handles: Vec<_> = users
        .iter()
        .map(|&u| {
            let store = store.clone();
            tokio::spawn(async move { (u, checkout(&store, u, "race").await) })
        })
        .collect();
    let mut sold = 0;
    for h in handles {
        let (u, result) = h.await.unwrap();
        match result {
            Ok(out) => {
                sold += 1;
                assert_eq!(out.order.user_id, u);
            }
            Err(Error::InsufficientStock { .. }) => {
                let cart = store.get_cart(u).await.unwrap().unwrap();
                assert_eq!(cart.lines.len(), 1, "a failed checkout keeps the cart");
                let key = IdempotencyKey::parse("race").unwrap();
                assert!(
                    store
                        .find_order_by_idempotency_key(u, &key)
                        .await
                        .unwrap()
                        .is_none()
                );
            }
            Err(other) => panic!("unexpected checkout error: {other:?}"),
        }
    }
    assert_eq!(sold, UNITS);
    assert_eq!(stock(&store, p.id).await, 0);
    assert_eq!(
        store.list_orders(&all_orders()).await.unwrap().items.len(),
        UNITS as usize
    );
    assert_eq!(
        events_of(&store, EventType::OrderPlaced).await.len(),
        UNITS as usize
    );
}

/// Racing requests with the same key all get the one order it placed.
pub async fn concurrent_same_key_checkouts_place_one_order(store: Store) {
    let u = user("same-key");
    let p = seeded(&store, "SAME", 100, 100).await;
    add(&store, u.id, p.id, 3).await;
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { checkout(&store, u.id, "one-key").await })
        })
        .collect();
    let mut ids = BTreeSet::new();
    for h in handles {
        let out = h.await.unwrap().expect("every racer gets the order");
        ids.insert(out.order.id);
    }
    assert_eq!(ids.len(), 1, "exactly one order");
    assert_eq!(stock(&store, p.id).await, 97);
    assert_eq!(events_of(&store, EventType::OrderPlaced).await.len(), 1);
}

/// Checkouts and cancels racing on the same products conserve stock:
/// initial = on hand + sold − released.
pub async fn checkout_cancel_contention_conserves_stock(store: Store) {
    const INITIAL: u32 = 40;
    let a = seeded(&store, "CC-A", 100, INITIAL).await;
    let b = seeded(&store, "CC-B", 100, INITIAL).await;
    let mut handles = Vec::new();
    for i in 0..24_i64 {
        let store = store.clone();
        let u = user(&format!("cc{i}"));
        handles.push(tokio::spawn(async move {
            add(&store, u.id, a.id, 1 + i % 3).await;
            add(&store, u.id, b.id, 1 + (i + 1) % 2).await;
            let placed = checkout(&store, u.id, &format!("cc-{i}")).await;
            if let Ok(out) = &placed
                && i % 2 == 0
            {
                OrderService::new(commerce(&store))
                    .cancel(out.order.id)
                    .await
                    .unwrap();
            }
            placed
        }));
    }
    for h in handles {
        match h.await.unwrap() {
            Ok(_) | Err(Error::InsufficientStock { .. }) => {}
            Err(e) => panic!("unexpected error: {e:?}"),
        }
    }
    let mut held: HashMap<ProductId, u32> = HashMap::new();
    for o in store.list_orders(&all_orders()).await.unwrap().items {
        if o.status != OrderStatus::Cancelled {
            for l in &o.lines {
                *held.entry(l.product_id).or_default() += l.quantity.get();
            }
        }
    }
    for p in [&a, &b] {
        let on_hand = stock(&store, p.id).await;
        assert_eq!(on_hand + held.get(&p.id).copied().unwrap_or(0), INITIAL);
    }
}

// ---------------------------------------------------------------- orders

/// pending → paid → shipped → delivered, each step appending `OrderStatusChanged`.
pub async fn order_status_happy_path(store: Store) {
    let u = user("o1");
    let p = seeded(&store, "O-1", 100, 5).await;
    add(&store, u.id, p.id, 1).await;
    let order = checkout(&store, u.id, "o1").await.unwrap().order;
    let svc = OrderService::new(commerce(&store));
    for to in [
        OrderStatus::Paid,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
    ] {
        let moved = svc.change_status(order.id, to).await.unwrap();
        assert_eq!(moved.status, to);
        assert_eq!(store.get_order(order.id).await.unwrap().unwrap().status, to);
    }
    let changes = events_of(&store, EventType::OrderStatusChanged).await;
    let tos: Vec<_> = changes
        .iter()
        .map(|e| e.payload_value()["to"].clone())
        .collect();
    assert_eq!(tos, vec!["paid", "shipped", "delivered"]);
    assert_eq!(
        stock(&store, p.id).await,
        4,
        "only cancelling releases stock"
    );
}

/// Every move the machine forbids is `InvalidTransition` and changes nothing.
pub async fn order_invalid_transitions(store: Store) {
    let u = user("o2");
    let p = seeded(&store, "O-2", 100, 5).await;
    add(&store, u.id, p.id, 1).await;
    let order = checkout(&store, u.id, "o2").await.unwrap().order;
    let svc = OrderService::new(commerce(&store));
    for to in [
        OrderStatus::Pending,
        OrderStatus::Shipped,
        OrderStatus::Delivered,
    ] {
        let r = svc.change_status(order.id, to).await;
        assert!(
            matches!(r, Err(Error::InvalidTransition { .. })),
            "{to}: {r:?}"
        );
    }
    svc.change_status(order.id, OrderStatus::Paid)
        .await
        .unwrap();
    svc.change_status(order.id, OrderStatus::Shipped)
        .await
        .unwrap();
    let r = svc.cancel(order.id).await;
    assert!(
        matches!(
            r,
            Err(Error::InvalidTransition {
                from: OrderStatus::Shipped,
                to: OrderStatus::Cancelled
            })
        ),
        "{r:?}"
    );
    assert_eq!(stock(&store, p.id).await, 4);
    let missing = svc.cancel(shop_core::OrderId::generate()).await;
    assert!(matches!(missing, Err(Error::NotFound(_))));
}

/// Cancelling (from pending or paid) gives the stock back once and appends `OrderCancelled`.
pub async fn cancel_releases_stock(store: Store) {
    let u = user("o3");
    let p = seeded(&store, "O-3", 100, 10).await;
    let svc = OrderService::new(commerce(&store));
    add(&store, u.id, p.id, 3).await;
    let pending = checkout(&store, u.id, "o3a").await.unwrap().order;
    add(&store, u.id, p.id, 2).await;
    let paid = checkout(&store, u.id, "o3b").await.unwrap().order;
    svc.change_status(paid.id, OrderStatus::Paid).await.unwrap();
    assert_eq!(stock(&store, p.id).await, 5);
    assert_eq!(
        svc.cancel(pending.id).await.unwrap().status,
        OrderStatus::Cancelled
    );
    assert_eq!(stock(&store, p.id).await, 8);
    svc.cancel(paid.id).await.unwrap();
    assert_eq!(stock(&store, p.id).await, 10);
    let again = svc.cancel(paid.id).await;
    assert!(matches!(again, Err(Error::InvalidTransition { .. })));
    assert_eq!(
        stock(&store, p.id).await,
        10,
        "a second cancel releases nothing"
    );
    assert_eq!(events_of(&store, EventType::OrderCancelled).await.len(), 2);
}

/// The store refuses a transition whose `from` is no longer the order's status.
pub async fn transition_refuses_stale_status(store: Store) {
    let u = user("o4");
    let p = seeded(&store, "O-4", 100, 10).await;
    add(&store, u.id, p.id, 1).await;
    let order = checkout(&store, u.id, "o4").await.unwrap().order;
    let t = OrderTransition {
        order_id: order.id,
        from: OrderStatus::Paid,
        to: OrderStatus::Cancelled,
        at: now(),
        events: vec![DomainEvent::order_cancelled(&order, OrderStatus::Paid)],
    };
    assert_conflict(
        store.transition_order(&t).await,
        &Conflict::ConcurrentModification,
    );
    assert_eq!(stock(&store, p.id).await, 9);
    assert!(
        events_of(&store, EventType::OrderCancelled)
            .await
            .is_empty()
    );
}

/// Orders list newest first, filter by user and status, and paginate without gaps.
pub async fn list_orders_filters_and_pages(store: Store) {
    let (a, b) = (user("o5a"), user("o5b"));
    let p = seeded(&store, "O-5", 100, 100).await;
    let mut placed = Vec::new();
    for i in 0..7 {
        let u = if i % 2 == 0 { a.id } else { b.id };
        add(&store, u, p.id, 1).await;
        placed.push(checkout(&store, u, &format!("o5-{i}")).await.unwrap().order);
    }
    OrderService::new(commerce(&store))
        .change_status(placed[0].id, OrderStatus::Paid)
        .await
        .unwrap();

    let mut q = OrderQuery {
        limit: limit(3),
        ..OrderQuery::default()
    };
    let mut all = Vec::new();
    loop {
        let page = store.list_orders(&q).await.unwrap();
        all.extend(page.items);
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    let got: Vec<_> = all.iter().map(|o| o.id).collect();
    let want: Vec<_> = placed.iter().rev().map(|o| o.id).collect();
    assert_eq!(got, want, "newest first");

    let mine = OrderQuery {
        user_id: Some(a.id),
        limit: limit(100),
        ..OrderQuery::default()
    };
    let mine = store.list_orders(&mine).await.unwrap().items;
    assert_eq!(mine.len(), 4);
    assert!(mine.iter().all(|o| o.user_id == a.id));
    let paid = OrderQuery {
        status: Some(OrderStatus::Paid),
        ..OrderQuery::default()
    };
    let paid = store.list_orders(&paid).await.unwrap().items;
    assert_eq!(
        paid.iter().map(|o| o.id).collect::<Vec<_>>(),
        vec![placed[0].id]
    );
}

// ---------------------------------------------------------------- outbox

/// Claims come lowest position first; marked events are never claimed again.
pub async fn outbox_claim_and_mark(store: Store) {
    let events: Vec<DomainEvent> = (0..5)
        .map(|i| {
            DomainEvent::new(
                EventType::UserRegistered,
                UserId::generate().as_uuid(),
                serde_json::json!({ "n": i }),
            )
        })
        .collect();
    store.append_events(&events[..2]).await.unwrap();
    store.append_events(&events[2..]).await.unwrap();
    let at = now();
    let claim = |limit| OutboxClaim {
        claimant: "relay-1".into(),
        limit,
        now: at,
        lease_until: at + chrono::TimeDelta::seconds(30),
    };
    let first = store.claim_events(&claim(3)).await.unwrap();
    assert_eq!(
        first.iter().map(|r| r.event.clone()).collect::<Vec<_>>(),
        events[..3].to_vec()
    );
    assert!(first.windows(2).all(|w| w[0].seq < w[1].seq));
    store
        .mark_published(&first.iter().map(|r| r.seq).collect::<Vec<_>>())
        .await
        .unwrap();
    let rest = store.claim_events(&claim(10)).await.unwrap();
    assert_eq!(
        rest.iter().map(|r| r.event.clone()).collect::<Vec<_>>(),
        events[3..].to_vec()
    );
    store
        .mark_published(&[rest[0].seq, rest[1].seq, 999_999])
        .await
        .unwrap();
    assert!(store.claim_events(&claim(10)).await.unwrap().is_empty());
}

/// A claimed event is hidden from other claimants until its lease ends; then another relay
/// may take it over.
pub async fn outbox_claims_are_exclusive_until_lease_ends(store: Store) {
    let e = DomainEvent::new(
        EventType::UserRegistered,
        UserId::generate().as_uuid(),
        serde_json::json!({}),
    );
    store.append_events(std::slice::from_ref(&e)).await.unwrap();
    let t0 = now();
    let lease = t0 + chrono::TimeDelta::seconds(30);
    let claim = |who: &str, at| OutboxClaim {
        claimant: who.into(),
        limit: 10,
        now: at,
        lease_until: lease,
    };
    assert_eq!(store.claim_events(&claim("a", t0)).await.unwrap().len(), 1);
    assert!(
        store
            .claim_events(&claim("b", t0))
            .await
            .unwrap()
            .is_empty()
    );
    let again = store.claim_events(&claim("a", t0)).await.unwrap();
    assert_eq!(again.len(), 1, "a claimant may re-read its own claim");
    let later = lease + chrono::TimeDelta::seconds(1);
    let taken = store.claim_events(&claim("b", later)).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].event, e);
}

/// Stats count unpublished events and report the oldest.
pub async fn outbox_stats(store: Store) {
    assert_eq!(store.outbox_stats().await.unwrap().pending, 0);
    let p = seeded(&store, "OS-1", 100, 1).await;
    seeded(&store, "OS-2", 100, 1).await;
    let stats = store.outbox_stats().await.unwrap();
    assert_eq!(stats.pending, 2);
    assert_eq!(
        stats.oldest_pending_at,
        Some(outbox(&store).await[0].occurred_at)
    );
    let _ = p;
}

// ---------------------------------------------------------------- reviews

fn review(product: ProductId, author: &User, rating: i64) -> Review {
    Review::create(
        product,
        author.id,
        author.display_name.clone(),
        &ReviewInput {
            rating,
            title: format!("{rating} stars"),
            body: "words".into(),
        },
    )
    .unwrap()
}

/// Reviews read back newest first with a count/sum summary.
pub async fn reviews_add_list_and_summarise(store: Store) {
    let p = ProductId::generate();
    let other = ProductId::generate();
    let mut written = Vec::new();
    for (i, rating) in [5, 3, 4].into_iter().enumerate() {
        let r = review(p, &user(&format!("rv{i}")), rating);
        store.add_review(&r).await.unwrap();
        written.push(r);
    }
    store
        .add_review(&review(other, &user("rvx"), 1))
        .await
        .unwrap();
    let page = store
        .list_reviews(&ReviewQuery {
            product_id: p,
            limit: limit(10),
            after: None,
        })
        .await
        .unwrap();
    written.reverse();
    assert_eq!(page.items, written);
    assert!(page.next.is_none());
    let s = store.rating_summary(p).await.unwrap();
    assert_eq!((s.count, s.total), (3, 12));
    assert_eq!(s.average(), Some(4.0));
    let none = store.rating_summary(ProductId::generate()).await.unwrap();
    assert_eq!((none.count, none.average()), (0, None));
}

/// One review per user per product.
pub async fn review_one_per_user_per_product(store: Store) {
    let p = ProductId::generate();
    let u = user("once");
    store.add_review(&review(p, &u, 4)).await.unwrap();
    assert_conflict(
        store.add_review(&review(p, &u, 2)).await,
        &Conflict::ReviewExists,
    );
    store
        .add_review(&review(ProductId::generate(), &u, 2))
        .await
        .unwrap();
    assert_eq!(store.rating_summary(p).await.unwrap().count, 1);
}

/// Review pages walk every review once.
pub async fn reviews_paginate(store: Store) {
    let p = ProductId::generate();
    for i in 0..7 {
        let rating = Rating::new(1 + i % 5).unwrap().get();
        store
            .add_review(&review(p, &user(&format!("pg{i}")), i64::from(rating)))
            .await
            .unwrap();
    }
    let mut q = ReviewQuery {
        product_id: p,
        limit: limit(3),
        after: None,
    };
    let mut seen = Vec::new();
    loop {
        let page = store.list_reviews(&q).await.unwrap();
        seen.extend(page.items.iter().map(|r| (r.created_at, r.id)));
        match page.next {
            Some(c) => q.after = Some(c),
            None => break,
        }
    }
    assert_eq!(seen.len(), 7);
    assert!(
        seen.windows(2).all(|w| w[0] > w[1]),
        "strictly newest first"
    );
}

// ---------------------------------------------------------------- users

/// Users read back by ID and by email, whatever the case the email is given in.
pub async fn user_create_and_find(store: Store) {
    let u = user("Finder");
    store.create_user(&u).await.unwrap();
    assert_eq!(store.get_user(u.id).await.unwrap(), Some(u.clone()));
    let shouted = Email::parse(u.email.as_str().to_uppercase()).unwrap();
    assert_eq!(store.find_user_by_email(&shouted).await.unwrap(), Some(u));
    let nobody = Email::parse("nobody@example.com").unwrap();
    assert_eq!(store.find_user_by_email(&nobody).await.unwrap(), None);
    assert_eq!(store.get_user(UserId::generate()).await.unwrap(), None);
}

/// A second user with the same email (in any case) is `EmailTaken`.
pub async fn user_duplicate_email_conflicts(store: Store) {
    let u = user("dup");
    store.create_user(&u).await.unwrap();
    let mut twin = user("twin");
    twin.email = Email::parse(u.email.as_str().to_uppercase()).unwrap();
    assert_conflict(store.create_user(&twin).await, &Conflict::EmailTaken);
    assert_eq!(store.get_user(twin.id).await.unwrap(), None);
}

/// Updates change the given fields only; an unknown user is `NotFound`.
pub async fn user_update(store: Store) {
    let u = user("upd");
    store.create_user(&u).await.unwrap();
    let update = UserUpdate {
        display_name: Some(DisplayName::parse("New Name").unwrap()),
        password_hash: Some(PasswordHash::new("$argon2id$new".into())),
        roles: Some(BTreeSet::from([Role::Admin, Role::Customer])),
    };
    let got = store.update_user(u.id, &update).await.unwrap();
    assert_eq!(got.display_name.as_str(), "New Name");
    assert_eq!(got.password_hash.as_str(), "$argon2id$new");
    assert!(got.has_role(Role::Admin));
    assert_eq!(got.email, u.email);
    assert_eq!(store.get_user(u.id).await.unwrap(), Some(got));
    let r = store.update_user(UserId::generate(), &update).await;
    assert!(matches!(r, Err(Error::NotFound(_))));
}

// ---------------------------------------------------------------- refresh tokens

fn token(user: UserId, family: TokenFamilyId, byte: u8, ttl_secs: i64) -> RefreshTokenRecord {
    let at = now();
    RefreshTokenRecord {
        token_hash: TokenHash([byte; 32]),
        family_id: family,
        user_id: user,
        issued_at: at,
        expires_at: at + chrono::TimeDelta::seconds(ttl_secs),
        used_at: None,
        revoked_at: None,
    }
}

/// A token works once; presenting it again reports reuse.
pub async fn refresh_token_single_use(store: Store) {
    let t = token(UserId::generate(), TokenFamilyId::generate(), 1, 600);
    store.insert_refresh_token(&t).await.unwrap();
    let at = now();
    match store.use_refresh_token(&t.token_hash, at).await.unwrap() {
        RefreshTokenUse::Fresh(r) => {
            assert_eq!(r.user_id, t.user_id);
            assert_eq!(r.family_id, t.family_id);
        }
        other => panic!("expected fresh, got {other:?}"),
    }
    let again = store.use_refresh_token(&t.token_hash, now()).await.unwrap();
    assert!(
        matches!(again, RefreshTokenUse::AlreadyUsed(_)),
        "{again:?}"
    );
    let unknown = store
        .use_refresh_token(&TokenHash([9; 32]), now())
        .await
        .unwrap();
    assert_eq!(unknown, RefreshTokenUse::Unknown);
}

/// Expired tokens and revoked ones are refused; revoking a family or a user's tokens counts
/// only the tokens not yet revoked.
pub async fn refresh_token_expiry_and_revocation(store: Store) {
    let u = UserId::generate();
    let fam = TokenFamilyId::generate();
    let expired = token(u, fam, 2, -1);
    store.insert_refresh_token(&expired).await.unwrap();
    let r = store
        .use_refresh_token(&expired.token_hash, now())
        .await
        .unwrap();
    assert!(matches!(r, RefreshTokenUse::Expired(_)), "{r:?}");

    let live = token(u, fam, 3, 600);
    let other_family = token(u, TokenFamilyId::generate(), 4, 600);
    let other_user = token(UserId::generate(), TokenFamilyId::generate(), 5, 600);
    for t in [&live, &other_family, &other_user] {
        store.insert_refresh_token(t).await.unwrap();
    }
    assert_eq!(store.revoke_token_family(fam, now()).await.unwrap(), 2);
    assert_eq!(store.revoke_token_family(fam, now()).await.unwrap(), 0);
    let r = store
        .use_refresh_token(&live.token_hash, now())
        .await
        .unwrap();
    assert!(matches!(r, RefreshTokenUse::Revoked(_)), "{r:?}");
    assert_eq!(store.revoke_user_tokens(u, now()).await.unwrap(), 1);
    let r = store
        .use_refresh_token(&other_family.token_hash, now())
        .await
        .unwrap();
    assert!(matches!(r, RefreshTokenUse::Revoked(_)));
    let r = store
        .use_refresh_token(&other_user.token_hash, now())
        .await
        .unwrap();
    assert!(
        matches!(r, RefreshTokenUse::Fresh(_)),
        "other users are untouched"
    );
}

/// Of many racing uses of one token exactly one is fresh.
pub async fn refresh_token_concurrent_use_has_one_winner(store: Store) {
    let t = token(UserId::generate(), TokenFamilyId::generate(), 7, 600);
    store.insert_refresh_token(&t).await.unwrap();
    let handles: Vec<_> = (0..16)
        .map(|_| {
            let store = store.clone();
            let h = t.token_hash;
            tokio::spawn(async move { store.use_refresh_token(&h, now()).await.unwrap() })
        })
        .collect();
    let mut fresh = 0;
    for h in handles {
        match h.await.unwrap() {
            RefreshTokenUse::Fresh(_) => fresh += 1,
            RefreshTokenUse::AlreadyUsed(_) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(fresh, 1);
}

// ---------------------------------------------------------------- the list

/// Runs every conformance behaviour as its own `#[tokio::test]`.
///
/// `$factory` is an expression evaluating to a future of `Option<S>` where `S` is a
/// [`Store`] or a [`Harness`]: a fresh, empty store per test, or `None` to skip (the factory
/// prints why, and refuses to skip where skipping is not allowed). The calling crate needs
/// `tokio` with the `macros` and `rt-multi-thread` features as a dev-dependency.
#[macro_export]
macro_rules! conformance_tests {
    ($factory:expr) => {
        $crate::conformance_tests!(@each $factory;
            product_create_and_get,
            product_duplicate_sku_conflicts,
            product_duplicate_slug_conflicts,
            product_get_many,
            product_update_applies_patch,
            product_update_conflicts_and_missing,
            product_adjust_stock,
            product_delete,
            product_writes_emit_events,
            query_text_search_is_literal,
            query_price_and_active_filters,
            query_sort_orders,
            query_pagination_walks_without_gaps,
            query_pagination_edges,
            cart_created_on_first_change,
            cart_add_merges_lines,
            cart_quantity_limit,
            cart_line_limit,
            cart_set_quantity_and_remove,
            cart_clear,
            carts_are_per_user,
            checkout_places_order,
            checkout_is_all_or_nothing,
            checkout_refuses_empty_cart,
            checkout_idempotent_replay,
            checkout_keys_are_per_user,
            checkout_refuses_unavailable_products,
            place_order_refuses_stale_price,
            place_order_refuses_stale_cart,
            checkout_emits_stock_low,
            concurrent_checkouts_never_oversell,
            concurrent_same_key_checkouts_place_one_order,
            checkout_cancel_contention_conserves_stock,
            order_status_happy_path,
            order_invalid_transitions,
            cancel_releases_stock,
            transition_refuses_stale_status,
            list_orders_filters_and_pages,
            outbox_claim_and_mark,
            outbox_claims_are_exclusive_until_lease_ends,
            outbox_stats,
            reviews_add_list_and_summarise,
            review_one_per_user_per_product,
            reviews_paginate,
            user_create_and_find,
            user_duplicate_email_conflicts,
            user_update,
            refresh_token_single_use,
            refresh_token_expiry_and_revocation,
            refresh_token_concurrent_use_has_one_winner,
        );
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let Some(harness) = $factory.await else { return };
                let harness: $crate::conformance::Harness = harness.into();
                $crate::conformance::$name(harness.store.clone()).await;
                drop(harness);
            }
        )*
    };
}
