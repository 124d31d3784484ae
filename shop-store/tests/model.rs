//! Model-based property test: random sequences of cart, checkout, payment, cancel and restock
//! operations run against a store (through the real services) and against a plain reference
//! model. After every step the two must agree on the outcome and on all state, and stock is
//! conserved: initial + restocked = on hand + held by live orders.
//!
//! The memory store runs many cases; each database adapter (with its feature, against the
//! server the conformance tests use) runs fewer in one scratch database, every case on
//! products and users of its own. Unreachable servers skip, except under `CI=true`.

#![allow(clippy::unwrap_used)] // test code: a panic is the failure report

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use shop_core::{
    CartCommand, CheckoutConfig, CheckoutRequest, CheckoutService, CommerceStore, Currency,
    Description, Error, IdempotencyKey, Money, NewProduct, OrderId, OrderService, OrderStatus,
    Price, Product, ProductId, ProductName, Quantity, RequestFingerprint, Sku, Slug, UserId,
};
use shop_store::MemoryStore;

const PRODUCTS: usize = 3;
const USERS: usize = 3;

#[derive(Debug, Clone)]
enum Op {
    Add {
        user: usize,
        product: usize,
        qty: i64,
    },
    SetQty {
        user: usize,
        product: usize,
        qty: i64,
    },
    Remove {
        user: usize,
        product: usize,
    },
    Clear {
        user: usize,
    },
    Checkout {
        user: usize,
        key: usize,
    },
    Pay {
        order: usize,
    },
    Cancel {
        order: usize,
    },
    Restock {
        product: usize,
        delta: i64,
    },
}

fn op() -> impl Strategy<Value = Op> {
    let u = 0..USERS;
    let p = 0..PRODUCTS;
    prop_oneof![
        4 => (u.clone(), p.clone(), 1..6i64).prop_map(|(user, product, qty)| Op::Add { user, product, qty }),
        1 => (u.clone(), p.clone(), 1..6i64).prop_map(|(user, product, qty)| Op::SetQty { user, product, qty }),
        1 => (u.clone(), p.clone()).prop_map(|(user, product)| Op::Remove { user, product }),
        1 => u.clone().prop_map(|user| Op::Clear { user }),
        4 => (u, 0..3usize).prop_map(|(user, key)| Op::Checkout { user, key }),
        2 => (0..8usize).prop_map(|order| Op::Pay { order }),
        2 => (0..8usize).prop_map(|order| Op::Cancel { order }),
        1 => (p, -3..6i64).prop_map(|(product, delta)| Op::Restock { product, delta }),
    ]
}

/// What an operation did, in terms both sides can produce.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Outcome {
    Ok,
    Placed(usize),
    Replayed(usize),
    Err(&'static str),
}

/// Lines of a cart or order: (product index, quantity).
type Lines = Vec<(usize, u32)>;

#[derive(Debug, Clone, Default)]
struct Model {
    stock: Vec<u32>,
    carts: Vec<Lines>,
    /// (user, lines, status)
    orders: Vec<(usize, Lines, OrderStatus)>,
    keys: HashMap<(usize, usize), usize>,
    restocked: i64,
}

impl Model {
    fn apply(&mut self, op: &Op) -> Outcome {
        match *op {
            Op::Add { user, product, qty } => {
                let cart = &mut self.carts[user];
                let qty = u32::try_from(qty).unwrap();
                if let Some(line) = cart.iter_mut().find(|l| l.0 == product) {
                    if line.1 + qty > 999 {
                        return Outcome::Err("validation_failed");
                    }
                    line.1 += qty;
                } else {
                    cart.push((product, qty));
                }
                Outcome::Ok
            }
            Op::SetQty { user, product, qty } => {
                match self.carts[user].iter_mut().find(|l| l.0 == product) {
                    Some(line) => {
                        line.1 = u32::try_from(qty).unwrap();
                        Outcome::Ok
                    }
                    None => Outcome::Err("not_found"),
                }
            }
            Op::Remove { user, product } => {
                let cart = &mut self.carts[user];
                let before = cart.len();
                cart.retain(|l| l.0 != product);
                if cart.len() == before {
                    Outcome::Err("not_found")
                } else {
                    Outcome::Ok
                }
            }
            Op::Clear { user } => {
                self.carts[user].clear();
                Outcome::Ok
            }
            Op::Checkout { user, key } => {
                if let Some(&i) = self.keys.get(&(user, key)) {
                    return Outcome::Replayed(i);
                }
                let cart = &self.carts[user];
                if cart.is_empty() {
                    return Outcome::Err("validation_failed");
                }
                if cart.iter().any(|&(p, q)| self.stock[p] < q) {
                    return Outcome::Err("insufficient_stock");
                }
                for &(p, q) in cart {
                    self.stock[p] -= q;
                }
                self.orders.push((user, cart.clone(), OrderStatus::Pending));
                self.carts[user].clear();
                let i = self.orders.len() - 1;
                self.keys.insert((user, key), i);
                Outcome::Placed(i)
            }
            Op::Pay { order } => self.transition(order, OrderStatus::Paid),
            Op::Cancel { order } => self.transition(order, OrderStatus::Cancelled),
            Op::Restock { product, delta } => {
                let new = i64::from(self.stock[product]) + delta;
                if new < 0 {
                    return Outcome::Err("insufficient_stock");
                }
                self.stock[product] = u32::try_from(new).unwrap();
                self.restocked += delta;
                Outcome::Ok
            }
        }
    }

    fn transition(&mut self, order: usize, to: OrderStatus) -> Outcome {
        let Some(o) = self.orders.get_mut(order) else {
            return Outcome::Err("skip");
        };
        if !o.2.can_become(to) {
            return Outcome::Err("invalid_transition");
        }
        o.2 = to;
        if to == OrderStatus::Cancelled {
            for &(p, q) in &o.1.clone() {
                self.stock[p] += q;
            }
        }
        Outcome::Ok
    }
}

/// Stock per product, cart lines per user (product index, quantity), status per order.
type Snapshot = (Vec<u32>, Vec<Lines>, Vec<OrderStatus>);

struct Real {
    store: Arc<dyn CommerceStore>,
    checkout: CheckoutService,
    orders: OrderService,
    products: Vec<Product>,
    users: Vec<UserId>,
    placed: Vec<OrderId>,
}

impl Real {
    /// `case` keeps SKUs and slugs apart when cases share a database.
    async fn new(store: Arc<dyn CommerceStore>, stock: &[u32], case: u64) -> Self {
        let commerce = store.clone();
        let mut products = Vec::new();
        for (i, &s) in stock.iter().enumerate() {
            let p = Product::create(NewProduct {
                sku: Sku::parse(format!("M-{case}-{i}")).unwrap(),
                slug: Slug::parse(format!("m-{case}-{i}")).unwrap(),
                name: ProductName::parse(format!("Model {i}")).unwrap(),
                description: Description::parse("").unwrap(),
                image_url: None,
                price: Price::new(Money::new(100 + i64::try_from(i).unwrap(), Currency::EUR))
                    .unwrap(),
                stock: s,
                active: true,
            });
            commerce.create_product(&p).await.unwrap();
            products.push(p);
        }
        Self {
            checkout: CheckoutService::new(commerce.clone(), CheckoutConfig::default()),
            orders: OrderService::new(commerce),
            store,
            products,
            users: (0..USERS).map(|_| UserId::generate()).collect(),
            placed: Vec::new(),
        }
    }

    fn pid(&self, i: usize) -> ProductId {
        self.products[i].id
    }

    async fn apply(&mut self, op: &Op) -> Outcome {
        let q = |n: i64| Quantity::new(n).unwrap();
        let result: Result<Outcome, Error> = match *op {
            Op::Add { user, product, qty } => self
                .store
                .modify_cart(
                    self.users[user],
                    &CartCommand::Add {
                        product_id: self.pid(product),
                        quantity: q(qty),
                    },
                )
                .await
                .map(|_| Outcome::Ok),
            Op::SetQty { user, product, qty } => self
                .store
                .modify_cart(
                    self.users[user],
                    &CartCommand::SetQuantity {
                        product_id: self.pid(product),
                        quantity: q(qty),
                    },
                )
                .await
                .map(|_| Outcome::Ok),
            Op::Remove { user, product } => self
                .store
                .modify_cart(
                    self.users[user],
                    &CartCommand::Remove {
                        product_id: self.pid(product),
                    },
                )
                .await
                .map(|_| Outcome::Ok),
            Op::Clear { user } => self
                .store
                .modify_cart(self.users[user], &CartCommand::Clear)
                .await
                .map(|_| Outcome::Ok),
            Op::Checkout { user, key } => {
                let req = CheckoutRequest {
                    expected_cart_version: None,
                    user_id: self.users[user],
                    idempotency_key: IdempotencyKey::parse(format!("key-{key}")).unwrap(),
                    fingerprint: RequestFingerprint::default(),
                };
                match self.checkout.checkout(&req).await {
                    Ok(out) if out.replayed => {
                        let i = self
                            .placed
                            .iter()
                            .position(|id| *id == out.order.id)
                            .unwrap();
                        Ok(Outcome::Replayed(i))
                    }
                    Ok(out) => {
                        self.placed.push(out.order.id);
                        Ok(Outcome::Placed(self.placed.len() - 1))
                    }
                    Err(e) => Err(e),
                }
            }
            Op::Pay { order } | Op::Cancel { order } => {
                let to = if matches!(op, Op::Pay { .. }) {
                    OrderStatus::Paid
                } else {
                    OrderStatus::Cancelled
                };
                match self.placed.get(order) {
                    None => return Outcome::Err("skip"),
                    Some(id) => self
                        .orders
                        .change_status(*id, to)
                        .await
                        .map(|_| Outcome::Ok),
                }
            }
            Op::Restock { product, delta } => self
                .store
                .adjust_stock(self.pid(product), delta)
                .await
                .map(|_| Outcome::Ok),
        };
        result.unwrap_or_else(|e| Outcome::Err(e.code()))
    }

    async fn snapshot(&self) -> Snapshot {
        let index: BTreeMap<ProductId, usize> = self
            .products
            .iter()
            .enumerate()
            .map(|(i, p)| (p.id, i))
            .collect();
        let mut stock = Vec::new();
        for p in &self.products {
            stock.push(self.store.get_product(p.id).await.unwrap().unwrap().stock);
        }
        let mut carts = Vec::new();
        for u in &self.users {
            let lines = self
                .store
                .get_cart(*u)
                .await
                .unwrap()
                .map(|c| {
                    c.lines
                        .iter()
                        .map(|l| (index[&l.product_id], l.quantity.get()))
                        .collect()
                })
                .unwrap_or_default();
            carts.push(lines);
        }
        let mut statuses = Vec::new();
        for id in &self.placed {
            statuses.push(self.store.get_order(*id).await.unwrap().unwrap().status);
        }
        (stock, carts, statuses)
    }
}

/// One generated case: the model and the store side by side, step by step.
async fn agrees_with_the_model(
    store: Arc<dyn CommerceStore>,
    case: u64,
    initial: &[u32],
    ops: &[Op],
) -> Result<(), TestCaseError> {
    let mut model = Model {
        stock: initial.to_vec(),
        carts: vec![Vec::new(); USERS],
        ..Model::default()
    };
    let mut real = Real::new(store, initial, case).await;
    for (step, op) in ops.iter().enumerate() {
        let want = model.apply(op);
        let got = real.apply(op).await;
        prop_assert_eq!(&got, &want, "step {} {:?}", step, op);
        let (stock, carts, statuses) = real.snapshot().await;
        prop_assert_eq!(&stock, &model.stock, "stock after step {} {:?}", step, op);
        prop_assert_eq!(&carts, &model.carts, "carts after step {} {:?}", step, op);
        let model_statuses: Vec<OrderStatus> = model.orders.iter().map(|o| o.2).collect();
        prop_assert_eq!(&statuses, &model_statuses);
    }
    // Conservation: initial + restocked = on hand + held by orders not cancelled.
    let (stock, _, _) = real.snapshot().await;
    let on_hand: i64 = stock.iter().map(|&s| i64::from(s)).sum();
    let held: i64 = model
        .orders
        .iter()
        .filter(|o| o.2 != OrderStatus::Cancelled)
        .flat_map(|o| o.1.iter().map(|&(_, q)| i64::from(q)))
        .sum();
    let initial_total: i64 = initial.iter().map(|&s| i64::from(s)).sum();
    prop_assert_eq!(initial_total + model.restocked, on_hand + held);
    Ok(())
}

fn case_strategy() -> impl Strategy<Value = (Vec<u32>, Vec<Op>)> {
    (
        proptest::collection::vec(0u32..12, PRODUCTS),
        proptest::collection::vec(op(), 1..60),
    )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

    #[test]
    fn memory_store_agrees_with_the_model((initial, ops) in case_strategy()) {
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        rt.block_on(agrees_with_the_model(Arc::new(MemoryStore::new()), 0, &initial, &ops))?;
    }
}

/// Runs `cases` generated cases against the store `open` gives (skipping when it gives none),
/// all in one runtime and one scratch database, which `open` also returns to be dropped last.
#[cfg(any(feature = "mysql", feature = "postgres", feature = "mongodb"))]
fn run_against<G, F>(cases: u32, open: F)
where
    F: std::future::Future<Output = Option<(Arc<dyn CommerceStore>, G)>>,
{
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let Some((store, guard)) = rt.block_on(open) else {
        return;
    };
    let mut runner = proptest::test_runner::TestRunner::new(proptest::test_runner::Config {
        cases,
        // Shrinking replays cases against the database; a few hundred steps is enough to
        // reach a short counterexample.
        max_shrink_iters: 256,
        ..proptest::test_runner::Config::default()
    });
    let case = std::sync::atomic::AtomicU64::new(0);
    let result = runner.run(&case_strategy(), |(initial, ops)| {
        let case = case.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        rt.block_on(agrees_with_the_model(store.clone(), case, &initial, &ops))
    });
    drop(store);
    // The pool inside the guard closes its connections on the runtime that opened them.
    rt.block_on(async move { drop(guard) });
    if let Err(e) = result {
        panic!("{e}");
    }
}

#[cfg(feature = "postgres")]
#[test]
fn postgres_store_agrees_with_the_model() {
    run_against(24, async {
        let db = shop_store::scratch::postgres(4).await?;
        Some((Arc::new(db.store.clone()) as Arc<dyn CommerceStore>, db))
    });
}

#[cfg(feature = "mysql")]
#[test]
fn mysql_store_agrees_with_the_model() {
    run_against(24, async {
        let db = shop_store::scratch::mysql(4).await?;
        Some((Arc::new(db.store.clone()) as Arc<dyn CommerceStore>, db))
    });
}

#[cfg(feature = "mongodb")]
#[test]
fn mongodb_store_agrees_with_the_model() {
    run_against(24, async {
        let db = shop_store::scratch::mongodb().await?;
        Some((Arc::new(db.store.clone()) as Arc<dyn CommerceStore>, db))
    });
}
