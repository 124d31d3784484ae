//! Reviews: adding, listing, summaries, one per author and product.

use shop_core::{Conflict, ProductId, Rating, Review, ReviewInput, ReviewQuery, User};

use super::Store;
use super::fixtures::*;

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
