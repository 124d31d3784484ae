//! Domain checkout: `CheckoutService` over the in-memory store, carts of 1, 3 and 10 lines, one
//! task; and 3-line checkouts by 8 tasks at once on the same products (contention).
//! Only the checkout is timed; filling the carts is set-up.

#![allow(clippy::unwrap_used, missing_docs)] // bench code

use std::sync::Arc;
use std::time::{Duration, Instant};

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use shop_benches::{checkout_request, commerce, fill_cart, runtime, seed};
use shop_core::{CheckoutConfig, CheckoutService, UserId};
use shop_store::MemoryStore;

fn single_task(c: &mut Criterion) {
    let rt = runtime();
    let store = commerce(Arc::new(MemoryStore::new()));
    let products = rt.block_on(seed(store.as_ref(), 10)).unwrap();
    let service = CheckoutService::new(store.clone(), CheckoutConfig::default());
    let mut key = 0;
    let mut group = c.benchmark_group("domain_checkout_memory");
    group.throughput(Throughput::Elements(1));
    for lines in [1, 3, 10] {
        group.bench_function(BenchmarkId::new("lines", lines), |b| {
            b.iter_custom(|iters| {
                rt.block_on(async {
                    let user = UserId::generate();
                    let mut timed = Duration::ZERO;
                    for _ in 0..iters {
                        fill_cart(store.as_ref(), user, &products[..lines])
                            .await
                            .unwrap();
                        key += 1;
                        let request = checkout_request(user, key);
                        let start = Instant::now();
                        service.checkout(&request).await.unwrap();
                        timed += start.elapsed();
                    }
                    timed
                })
            });
        });
    }
    group.finish();
}

fn contention(c: &mut Criterion) {
    const TASKS: u64 = 8;
    let rt = runtime();
    let store = commerce(Arc::new(MemoryStore::new()));
    let products = Arc::new(rt.block_on(seed(store.as_ref(), 3)).unwrap());
    let service = CheckoutService::new(store.clone(), CheckoutConfig::default());
    let mut group = c.benchmark_group("domain_checkout_memory_contended");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("tasks_3_lines", TASKS), |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                // Set-up: one filled cart per checkout, so the timed part is checkouts only.
                let per_task = iters.div_ceil(TASKS);
                let mut users = Vec::new();
                for _ in 0..TASKS {
                    let mut mine = Vec::new();
                    for _ in 0..per_task {
                        let u = UserId::generate();
                        fill_cart(store.as_ref(), u, &products).await.unwrap();
                        mine.push(u);
                    }
                    users.push(mine);
                }
                let start = Instant::now();
                let tasks: Vec<_> = users
                    .into_iter()
                    .map(|mine| {
                        let service = service.clone();
                        tokio::spawn(async move {
                            for u in mine {
                                service.checkout(&checkout_request(u, 0)).await.unwrap();
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
                // Per checkout, as the other groups report.
                start
                    .elapsed()
                    .mul_f64(iters as f64 / (per_task * TASKS) as f64)
            })
        });
    });
    group.finish();
}

criterion_group!(benches, single_task, contention);
criterion_main!(benches);
