//! Helpers the behaviours share: products, users, carts, checkout requests, outbox reads.

use std::collections::BTreeSet;
use std::sync::Arc;

use shop_core::time::now;
use shop_core::{
    Cart, CartCommand, CheckoutConfig, CheckoutOutcome, CheckoutRequest, CheckoutService,
    CommerceStore, Conflict, Currency, Description, DisplayName, DomainEvent, Email, Error,
    EventType, IdempotencyKey, ImageUrl, Money, NewProduct, OrderQuery, OutboxClaim, PageLimit,
    PasswordHash, Price, Product, ProductId, ProductName, ProductQuery, Quantity,
    RefreshTokenRecord, RequestFingerprint, Role, Sku, Slug, TokenFamilyId, TokenHash, User,
    UserId,
};

use super::Store;

pub(super) fn product(sku: &str, name: &str, price_minor: i64, stock: u32) -> Product {
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

pub(super) async fn seeded(store: &Store, sku: &str, price_minor: i64, stock: u32) -> Product {
    let p = product(sku, &format!("Product {sku}"), price_minor, stock);
    store.create_product(&p).await.unwrap();
    p
}

pub(super) fn user(tag: &str) -> User {
    User::create(
        Email::parse(format!("{tag}-{}@example.com", UserId::generate())).unwrap(),
        DisplayName::parse(tag).unwrap(),
        PasswordHash::new("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into()),
        BTreeSet::from([Role::Customer]),
    )
}

pub(super) fn q(n: i64) -> Quantity {
    Quantity::new(n).unwrap()
}

pub(super) async fn add(store: &Store, user: UserId, p: ProductId, n: i64) -> Cart {
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

pub(super) fn commerce(store: &Store) -> Arc<dyn CommerceStore> {
    store.clone()
}

pub(super) fn checkout_service(store: &Store) -> CheckoutService {
    CheckoutService::new(commerce(store), CheckoutConfig::default())
}

pub(super) fn request(user: UserId, key: &str) -> CheckoutRequest {
    CheckoutRequest {
        expected_cart_version: None,
        user_id: user,
        idempotency_key: IdempotencyKey::parse(key).unwrap(),
        fingerprint: RequestFingerprint::parse("fp-1").unwrap(),
    }
}

pub(super) async fn checkout(
    store: &Store,
    user: UserId,
    key: &str,
) -> Result<CheckoutOutcome, Error> {
    checkout_service(store).checkout(&request(user, key)).await
}

pub(super) async fn stock(store: &Store, id: ProductId) -> u32 {
    store.get_product(id).await.unwrap().unwrap().stock
}

/// Every event now waiting in the outbox, in order (claimed by an inspector that never
/// publishes, so repeated calls see the same list).
pub(super) async fn outbox(store: &Store) -> Vec<DomainEvent> {
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

pub(super) async fn events_of(store: &Store, t: EventType) -> Vec<DomainEvent> {
    outbox(store)
        .await
        .into_iter()
        .filter(|e| e.event_type == t)
        .collect()
}

pub(super) fn query() -> ProductQuery {
    ProductQuery {
        limit: PageLimit::capped(u64::from(PageLimit::MAX)),
        ..ProductQuery::default()
    }
}

/// The first (and, in these tests, only) page of every order.
pub(super) fn all_orders() -> OrderQuery {
    OrderQuery {
        limit: limit(100),
        ..OrderQuery::default()
    }
}

pub(super) fn limit(n: i64) -> PageLimit {
    PageLimit::new(n).unwrap()
}

pub(super) async fn all_pages(store: &Store, mut q: ProductQuery) -> Vec<Product> {
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

pub(super) fn assert_conflict<T: std::fmt::Debug>(r: Result<T, Error>, want: &Conflict) {
    match r {
        Err(Error::Conflict(c)) => assert_eq!(&c, want),
        other => panic!("expected conflict {want:?}, got {other:?}"),
    }
}

/// A refresh-token record of `user` living `ttl_secs` from now (negative: already expired).
pub(super) fn token(
    user: UserId,
    family: TokenFamilyId,
    byte: u8,
    ttl_secs: i64,
) -> RefreshTokenRecord {
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

/// `n` distinct events, in order.
pub(super) fn events(n: usize) -> Vec<DomainEvent> {
    (0..n)
        .map(|i| {
            DomainEvent::new(
                EventType::UserRegistered,
                UserId::generate().as_uuid(),
                serde_json::json!({ "n": i }),
            )
        })
        .collect()
}
