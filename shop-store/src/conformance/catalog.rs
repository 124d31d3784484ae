//! Products: create, read, update, stock, delete, their events; queries, sorting and pagination.

use std::collections::BTreeSet;

use shop_core::{
    Conflict, Currency, Error, EventType, Money, Price, ProductCursor, ProductId, ProductName,
    ProductPatch, ProductSort, SearchText, Slug,
};

use super::Store;
use super::fixtures::*;

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

/// `max_stock` keeps products with at most that many units, inclusive; it combines.
pub async fn query_max_stock_filter(store: Store) {
    for (sku, stock) in [("S-0", 0), ("S-3", 3), ("S-5", 5), ("S-9", 9)] {
        seeded(&store, sku, 100, stock).await;
    }
    let skus = |max_stock: Option<u32>, text: Option<&str>| {
        let mut q = query();
        q.max_stock = max_stock;
        q.text = text.map(|t| SearchText::parse(t).unwrap());
        q.sort = ProductSort::Name;
        let store = store.clone();
        async move {
            all_pages(&store, q)
                .await
                .iter()
                .map(|p| p.sku.as_str().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(skus(Some(5), None).await, vec!["S-0", "S-3", "S-5"]);
    assert_eq!(skus(Some(0), None).await, vec!["S-0"]);
    assert_eq!(skus(None, None).await.len(), 4);
    assert_eq!(skus(Some(5), Some("s-3")).await, vec!["S-3"]);
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
    for sort in ProductSort::ALL {
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

/// A text search, walked page by page in every sort and combined with a price filter, finds
/// exactly the products a full scan finds — for rare text (a few matches in a larger
/// catalog), common text and text no name has.
pub async fn query_text_search_matches_a_full_scan(store: Store) {
    let words = [
        "Mug", "Plate", "Bowl", "Spoon", "Fork", "Knife", "Cup", "Jar",
    ];
    let mut all = Vec::new();
    for i in 0..72_i64 {
        let word = words[usize::try_from(i).unwrap() % words.len()];
        // Four products in 72 carry a rare word, in mixed case; one has every trigram of
        // "zebra mug" without the phrase.
        let name = match i {
            7 => "Zebra Mug".to_owned(),
            15 => "Zebra then a Mug".to_owned(),
            30 => format!("{word} with ZEBRA stripes"),
            61 => format!("zebra {word}"),
            _ => format!("{word} no. {}", i % 9),
        };
        let p = product(&format!("T-{i}"), &name, 100 + (i % 5) * 50, 1);
        store.create_product(&p).await.unwrap();
        all.push(p);
    }
    for (text, min_price) in [
        ("zebra", None),
        ("ZEBRA MU", None),
        ("zebra mug", None),
        ("zebra", Some(200)),
        ("mug", None),
        ("mug", Some(250)),
        ("no. 4", None),
        ("okapi", None),
    ] {
        for sort in ProductSort::ALL {
            let mut q = query();
            q.text = Some(SearchText::parse(text).unwrap());
            q.min_price = min_price;
            q.sort = sort;
            q.limit = limit(2);
            let got = all_pages(&store, q.clone()).await;
            let mut want: Vec<shop_core::Product> =
                all.iter().filter(|p| q.matches(p)).cloned().collect();
            want.sort_by(|a, b| sort.compare(a, b));
            assert_eq!(got, want, "{text:?} {min_price:?} {sort:?}");
        }
    }
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
    for sort in ProductSort::ALL {
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
