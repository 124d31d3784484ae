//! The demo catalog: three dozen products with pictures the app draws itself
//! ([`crate::demo_images`]), seeded only into an empty catalog.

use shop_core::{
    CatalogStore, Conflict, Currency, Description, Error, ImageUrl, Money, NewProduct, PageLimit,
    Price, Product, ProductName, ProductQuery, Sku, Slug,
};

pub(crate) const ITEMS: [(&str, &str, i64); 12] = [
    ("Mug", "Stoneware, 350 ml, dishwasher safe.", 1200),
    ("Teapot", "Cast iron, 900 ml, with infuser.", 4500),
    ("Notebook", "A5, 192 dotted pages, lay-flat binding.", 1500),
    ("Fountain pen", "Steel nib, converter included.", 3200),
    (
        "Backpack",
        "Waxed canvas, 20 l, padded laptop sleeve.",
        8900,
    ),
    (
        "Water bottle",
        "Insulated steel, 750 ml, keeps cold for 24 h.",
        2600,
    ),
    ("Desk lamp", "LED, dimmable, warm light.", 5400),
    (
        "Headphones",
        "Closed-back, 40 mm drivers, detachable cable.",
        9900,
    ),
    (
        "Coffee beans",
        "Single origin, 250 g, roasted weekly.",
        1400,
    ),
    ("Scarf", "Merino wool, 180 x 30 cm.", 3900),
    ("Candle", "Soy wax, 40 hours, cedar and smoke.", 1800),
    ("Plant pot", "Terracotta, 14 cm, with saucer.", 1100),
];

pub(crate) const STYLES: [(&str, i64); 3] = [("Classic", 100), ("Midnight", 110), ("Sand", 95)];

/// Seeds the demo catalog when the catalog is empty; returns how many products were added.
/// `root` is the app's root path, under which the pictures are served.
pub(crate) async fn seed(catalog: &dyn CatalogStore, root: &str) -> shop_core::Result<usize> {
    let probe = ProductQuery {
        active: None,
        limit: PageLimit::capped(1),
        ..ProductQuery::default()
    };
    if !catalog.query_products(&probe).await?.items.is_empty() {
        return Ok(0);
    }
    let mut added = 0;
    for (i, (item, about, base)) in ITEMS.iter().enumerate() {
        for (j, (style, percent)) in STYLES.iter().enumerate() {
            let name = format!("{style} {item}");
            let slug = Slug::from_name(&name)?;
            let stock = u32::try_from((i * 7 + j * 13) % 40 + 5).unwrap_or(10);
            let product = Product::create(NewProduct {
                sku: Sku::parse(format!("DEMO-{:02}-{}", i + 1, j + 1))?,
                // Drawn and served by the app: the demo needs no other host.
                image_url: Some(ImageUrl::parse(crate::demo_images::path(
                    root, item, style,
                ))?),
                slug,
                name: ProductName::parse(&name)?,
                description: Description::parse(*about)?,
                price: Price::new(Money::new(base * percent / 100, Currency::EUR))?,
                stock,
                active: true,
            });
            match catalog.create_product(&product).await {
                Ok(()) => added += 1,
                // Replicas starting together on an empty catalog seed it together.
                Err(Error::Conflict(Conflict::SkuTaken | Conflict::SlugTaken)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(added)
}
