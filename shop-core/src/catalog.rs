//! The catalog: products, their validated fields, and product queries.

use std::cmp::Ordering;

use serde::{Deserialize, Deserializer, Serialize};

use crate::id::ProductId;
use crate::money::{Currency, Money};
use crate::page::{PageLimit, decode_cursor, encode_cursor};
use crate::time::{Timestamp, now};
use crate::validate::{FieldError, ValidationErrors, Validator, bounded_text, check_len};

/// The most units of one product a store may hold; every backend's integer column fits it.
pub const MAX_STOCK: u32 = 1_000_000_000;

bounded_text!(
    /// A product's display name: 1–200 characters after trimming.
    ProductName, field = "name", min = 1, max = 200
);
bounded_text!(
    /// A product's description: up to 10 000 characters.
    Description, field = "description", min = 0, max = 10_000
);
bounded_text!(
    /// Text to search product names for: 1–100 characters.
    SearchText, field = "q", min = 1, max = 100
);

/// A stock-keeping unit: 1–64 of `A-Z 0-9 . _ -`, stored upper-case so uniqueness is the same
/// on every backend whatever its collation.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);

impl Sku {
    /// Trims, upper-cases and checks `s`.
    ///
    /// # Errors
    /// A [`FieldError`] on `sku`.
    pub fn parse(s: impl AsRef<str>) -> Result<Self, FieldError> {
        let t = s.as_ref().trim().to_ascii_uppercase();
        check_len("sku", &t, 1, 64)?;
        if !t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        {
            return Err(FieldError::new(
                "sku",
                "invalid_characters",
                "may contain only letters, digits, '.', '_' and '-'",
            ));
        }
        Ok(Self(t))
    }

    /// The SKU text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A URL-friendly product name: 1–128 of `a-z 0-9 -`, not starting or ending with `-`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Slug(String);

impl Slug {
    /// Trims, lower-cases and checks `s`.
    ///
    /// # Errors
    /// A [`FieldError`] on `slug`.
    pub fn parse(s: impl AsRef<str>) -> Result<Self, FieldError> {
        let t = s.as_ref().trim().to_ascii_lowercase();
        check_len("slug", &t, 1, 128)?;
        let chars_ok = t
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if !chars_ok || t.starts_with('-') || t.ends_with('-') {
            return Err(FieldError::new(
                "slug",
                "invalid_characters",
                "may contain only a-z, 0-9 and inner '-'",
            ));
        }
        Ok(Self(t))
    }

    /// Derives a slug from a name: ASCII letters and digits kept, every other run becomes `-`.
    ///
    /// # Errors
    /// A [`FieldError`] on `slug` when the name has no ASCII letter or digit.
    pub fn from_name(name: &str) -> Result<Self, FieldError> {
        let mut out = String::with_capacity(name.len());
        for c in name.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.is_empty() && !out.ends_with('-') {
                out.push('-');
            }
        }
        let trimmed: String = out.trim_end_matches('-').chars().take(128).collect();
        Self::parse(trimmed.trim_end_matches('-'))
    }

    /// The slug text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A picture's address, at most 2048 characters: an absolute `http` or `https` URL, or a path
/// on the shop's own site (`/assets/…`, resolved against wherever the shop is served — what a
/// shop that serves its own pictures stores). Not a protocol-relative `//host/…`.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[derive(Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ImageUrl(String);

impl ImageUrl {
    /// Checks `s`.
    ///
    /// # Errors
    /// A [`FieldError`] on `image_url`.
    pub fn parse(s: impl AsRef<str>) -> Result<Self, FieldError> {
        let t = s.as_ref().trim();
        check_len("image_url", t, 1, 2048)?;
        let rest = t
            .strip_prefix("https://")
            .or_else(|| t.strip_prefix("http://"));
        let host_ok = rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'));
        let own_path = t.starts_with('/') && !t.starts_with("//") && !t.contains('\\');
        if !(host_ok || own_path) || t.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(FieldError::new(
                "image_url",
                "invalid_url",
                "must be an absolute http(s) URL or a path on this site starting with /",
            ));
        }
        Ok(Self(t.to_owned()))
    }

    /// The URL text.
    #[must_use]
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! string_newtype_impls {
    ($($t:ident),*) => {$(
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl std::fmt::Debug for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }
        impl TryFrom<String> for $t {
            type Error = FieldError;
            fn try_from(s: String) -> Result<Self, FieldError> {
                Self::parse(s)
            }
        }
        impl From<$t> for String {
            fn from(v: $t) -> String {
                v.0
            }
        }
    )*};
}
pub(crate) use string_newtype_impls;
string_newtype_impls!(Sku, Slug, ImageUrl);

/// A price: money that is never negative.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = Money))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "Money", into = "Money")]
pub struct Price(Money);

impl Price {
    /// Checks that `money` is not negative.
    ///
    /// # Errors
    /// A [`FieldError`] on `price`.
    pub fn new(money: Money) -> Result<Self, FieldError> {
        if money.is_negative() {
            Err(FieldError::new(
                "price",
                "out_of_range",
                "must not be negative",
            ))
        } else {
            Ok(Self(money))
        }
    }

    /// The amount.
    #[must_use]
    pub const fn money(&self) -> Money {
        self.0
    }
}

impl std::fmt::Debug for Price {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Debug::fmt(&self.0, f)
    }
}

impl TryFrom<Money> for Price {
    type Error = FieldError;
    fn try_from(m: Money) -> Result<Self, FieldError> {
        Self::new(m)
    }
}

impl From<Price> for Money {
    fn from(p: Price) -> Money {
        p.0
    }
}

/// Checks a stock figure from outside.
///
/// # Errors
/// A [`FieldError`] on `stock` unless `0 <= n <= MAX_STOCK`.
pub fn parse_stock(n: i64) -> Result<u32, FieldError> {
    u32::try_from(n)
        .ok()
        .filter(|v| *v <= MAX_STOCK)
        .ok_or_else(|| {
            FieldError::new(
                "stock",
                "out_of_range",
                format!("must be between 0 and {MAX_STOCK}"),
            )
        })
}

/// A product for sale.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Product {
    /// Identity.
    pub id: ProductId,
    /// Unique stock-keeping unit.
    pub sku: Sku,
    /// Unique URL name.
    pub slug: Slug,
    /// Display name.
    pub name: ProductName,
    /// Long description (may be empty).
    pub description: Description,
    /// Picture, if any.
    pub image_url: Option<ImageUrl>,
    /// Current unit price.
    pub price: Price,
    /// Units on hand; never negative.
    pub stock: u32,
    /// Whether the product can be bought.
    pub active: bool,
    /// When it was created.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub created_at: Timestamp,
    /// When it last changed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

impl Product {
    /// A product made from validated fields, with a fresh ID and timestamps.
    #[must_use]
    pub fn create(new: NewProduct) -> Self {
        let at = now();
        Self {
            id: ProductId::generate(),
            sku: new.sku,
            slug: new.slug,
            name: new.name,
            description: new.description,
            image_url: new.image_url,
            price: new.price,
            stock: new.stock,
            active: new.active,
            created_at: at,
            updated_at: at,
        }
    }
}

/// The validated fields of a product to create.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewProduct {
    /// See [`Product::sku`].
    pub sku: Sku,
    /// See [`Product::slug`].
    pub slug: Slug,
    /// See [`Product::name`].
    pub name: ProductName,
    /// See [`Product::description`].
    pub description: Description,
    /// See [`Product::image_url`].
    pub image_url: Option<ImageUrl>,
    /// See [`Product::price`].
    pub price: Price,
    /// See [`Product::stock`].
    pub stock: u32,
    /// See [`Product::active`].
    pub active: bool,
}

/// Raw product fields as a client sends them; [`NewProduct::try_from`] checks them all at once.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductInput {
    /// SKU text.
    pub sku: String,
    /// Slug; derived from the name when absent.
    #[serde(default)]
    pub slug: Option<String>,
    /// Name.
    pub name: String,
    /// Description.
    #[serde(default)]
    pub description: Option<String>,
    /// Image URL.
    #[serde(default)]
    pub image_url: Option<String>,
    /// Price in minor units.
    pub price_minor: i64,
    /// ISO 4217 currency code.
    pub currency: String,
    /// Initial stock.
    #[serde(default)]
    pub stock: i64,
    /// Whether it is for sale at once (default `true`).
    #[serde(default = "yes")]
    pub active: bool,
}

fn yes() -> bool {
    true
}

fn parse_price(minor: i64, currency: &str) -> Result<Price, FieldError> {
    let currency = Currency::parse(currency)?;
    Price::new(Money::new(minor, currency)).map_err(|e| e.at("price_minor"))
}

impl TryFrom<ProductInput> for NewProduct {
    type Error = ValidationErrors;

    fn try_from(input: ProductInput) -> Result<Self, ValidationErrors> {
        let mut v = Validator::default();
        let sku = v.check(Sku::parse(&input.sku));
        let name = v.check(ProductName::parse(&input.name));
        let slug = match &input.slug {
            Some(s) => v.check(Slug::parse(s)),
            None => v.check(Slug::from_name(&input.name)),
        };
        let description = v.check(Description::parse(
            input.description.as_deref().unwrap_or(""),
        ));
        let image_url = match &input.image_url {
            Some(u) => v.check(ImageUrl::parse(u)).map(Some),
            None => Some(None),
        };
        let price = v.check(parse_price(input.price_minor, &input.currency));
        let stock = v.check(parse_stock(input.stock));
        match (sku, slug, name, description, image_url, price, stock) {
            (
                Some(sku),
                Some(slug),
                Some(name),
                Some(description),
                Some(image_url),
                Some(price),
                Some(stock),
            ) => Ok(NewProduct {
                sku,
                slug,
                name,
                description,
                image_url,
                price,
                stock,
                active: input.active,
            }),
            _ => Err(v.into_errors()),
        }
    }
}

/// A validated partial update; `None` leaves a field as it is. Stock is not here: it changes
/// only through relative adjustments, so concurrent changes never overwrite each other.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductPatch {
    /// New SKU.
    pub sku: Option<Sku>,
    /// New slug.
    pub slug: Option<Slug>,
    /// New name.
    pub name: Option<ProductName>,
    /// New description.
    pub description: Option<Description>,
    /// New image URL; `Some(None)` removes it.
    pub image_url: Option<Option<ImageUrl>>,
    /// New price.
    pub price: Option<Price>,
    /// New active flag.
    pub active: Option<bool>,
}

impl ProductPatch {
    /// Whether the patch changes nothing.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Applies the patch to `product` in memory, stamping `updated_at`.
    pub fn apply_to(&self, product: &mut Product, at: Timestamp) {
        if let Some(v) = &self.sku {
            product.sku = v.clone();
        }
        if let Some(v) = &self.slug {
            product.slug = v.clone();
        }
        if let Some(v) = &self.name {
            product.name = v.clone();
        }
        if let Some(v) = &self.description {
            product.description = v.clone();
        }
        if let Some(v) = &self.image_url {
            product.image_url = v.clone();
        }
        if let Some(v) = self.price {
            product.price = v;
        }
        if let Some(v) = self.active {
            product.active = v;
        }
        product.updated_at = at;
    }
}

/// Raw patch fields as a client sends them; `null` for `image_url` removes the image.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ProductPatchInput {
    /// New SKU.
    #[serde(default)]
    pub sku: Option<String>,
    /// New slug.
    #[serde(default)]
    pub slug: Option<String>,
    /// New name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New image URL; explicit `null` removes it.
    #[serde(default, deserialize_with = "present")]
    pub image_url: Option<Option<String>>,
    /// New price in minor units (needs `currency`).
    #[serde(default)]
    pub price_minor: Option<i64>,
    /// Currency of the new price (needs `price_minor`).
    #[serde(default)]
    pub currency: Option<String>,
    /// New active flag.
    #[serde(default)]
    pub active: Option<bool>,
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`, via `default`).
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

impl TryFrom<ProductPatchInput> for ProductPatch {
    type Error = ValidationErrors;

    fn try_from(input: ProductPatchInput) -> Result<Self, ValidationErrors> {
        let mut v = Validator::default();
        let mut patch = ProductPatch {
            sku: input
                .sku
                .map(|s| v.check(Sku::parse(s)))
                .unwrap_or_default(),
            slug: input
                .slug
                .map(|s| v.check(Slug::parse(s)))
                .unwrap_or_default(),
            name: input
                .name
                .map(|s| v.check(ProductName::parse(s)))
                .unwrap_or_default(),
            description: input
                .description
                .map(|s| v.check(Description::parse(s)))
                .unwrap_or_default(),
            image_url: None,
            price: None,
            active: input.active,
        };
        patch.image_url = match input.image_url {
            Some(Some(u)) => v.check(ImageUrl::parse(u)).map(Some),
            Some(None) => Some(None),
            None => None,
        };
        patch.price = match (input.price_minor, input.currency) {
            (Some(minor), Some(cur)) => v.check(parse_price(minor, &cur)),
            (None, None) => None,
            _ => {
                v.push(FieldError::new(
                    "price_minor",
                    "required_together",
                    "price_minor and currency must be given together",
                ));
                None
            }
        };
        v.finish()?;
        Ok(patch)
    }
}

/// The orders a product list can be sorted in. Ties are broken by ID so order is total.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductSort {
    /// Newest first.
    #[default]
    Newest,
    /// By name, A to Z (by code point, the same on every backend).
    Name,
    /// Cheapest first.
    PriceAsc,
    /// Dearest first.
    PriceDesc,
}

impl ProductSort {
    /// Every order, for code that must handle (or test) each.
    pub const ALL: [Self; 4] = [Self::Newest, Self::Name, Self::PriceAsc, Self::PriceDesc];

    /// Parses `newest`, `name`, `price` / `price_asc`, `-price` / `price_desc`.
    ///
    /// # Errors
    /// A [`FieldError`] on `sort`.
    pub fn parse(s: &str) -> Result<Self, FieldError> {
        match s {
            "newest" => Ok(Self::Newest),
            "name" => Ok(Self::Name),
            "price" | "price_asc" => Ok(Self::PriceAsc),
            "-price" | "price_desc" => Ok(Self::PriceDesc),
            _ => Err(FieldError::new(
                "sort",
                "invalid_choice",
                "must be one of newest, name, price_asc, price_desc",
            )),
        }
    }

    /// Compares two products in this order.
    #[must_use]
    pub fn compare(self, a: &Product, b: &Product) -> Ordering {
        match self {
            Self::Newest => b
                .created_at
                .cmp(&a.created_at)
                .then_with(|| b.id.cmp(&a.id)),
            Self::Name => a
                .name
                .as_str()
                .cmp(b.name.as_str())
                .then_with(|| a.id.cmp(&b.id)),
            Self::PriceAsc => a
                .price
                .money()
                .minor()
                .cmp(&b.price.money().minor())
                .then_with(|| a.id.cmp(&b.id)),
            Self::PriceDesc => b
                .price
                .money()
                .minor()
                .cmp(&a.price.money().minor())
                .then_with(|| b.id.cmp(&a.id)),
        }
    }
}

/// The sort-key value of the last item of a page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProductSortKey {
    /// For [`ProductSort::Newest`].
    CreatedAt(Timestamp),
    /// For [`ProductSort::Name`].
    Name(String),
    /// For both price sorts, in minor units.
    Price(i64),
}

/// Where a product page ends: the sort, the last item's key and its ID.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProductCursor {
    /// The sort the cursor belongs to.
    pub sort: ProductSort,
    /// The last item's sort key.
    pub key: ProductSortKey,
    /// The last item's ID (the tie-breaker).
    pub id: ProductId,
}

impl ProductCursor {
    /// The cursor naming `p` as the last item of a page sorted by `sort`.
    #[must_use]
    pub fn after(sort: ProductSort, p: &Product) -> Self {
        let key = match sort {
            ProductSort::Newest => ProductSortKey::CreatedAt(p.created_at),
            ProductSort::Name => ProductSortKey::Name(p.name.as_str().to_owned()),
            ProductSort::PriceAsc | ProductSort::PriceDesc => {
                ProductSortKey::Price(p.price.money().minor())
            }
        };
        Self {
            sort,
            key,
            id: p.id,
        }
    }

    /// The opaque text form.
    #[must_use]
    pub fn encode(&self) -> String {
        encode_cursor(self)
    }

    /// Parses the text form, which must belong to a list sorted by `sort`.
    ///
    /// # Errors
    /// A [`FieldError`] on `cursor`.
    pub fn decode(s: &str, sort: ProductSort) -> Result<Self, FieldError> {
        let c: Self = decode_cursor(s)?;
        let key_fits = matches!(
            (c.sort, &c.key),
            (ProductSort::Newest, ProductSortKey::CreatedAt(_))
                | (ProductSort::Name, ProductSortKey::Name(_))
                | (
                    ProductSort::PriceAsc | ProductSort::PriceDesc,
                    ProductSortKey::Price(_)
                )
        );
        if c.sort != sort || !key_fits {
            return Err(FieldError::new(
                "cursor",
                "invalid_cursor",
                "belongs to a list with another sort order",
            ));
        }
        Ok(c)
    }
}

/// A product search. All filters combine with AND.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProductQuery {
    /// Case-insensitive substring of the name. Matched literally: `%`, `_`, quotes and regex
    /// characters have no special meaning.
    pub text: Option<SearchText>,
    /// Lowest price in minor units, inclusive.
    pub min_price: Option<i64>,
    /// Highest price in minor units, inclusive.
    pub max_price: Option<i64>,
    /// Only active (`Some(true)`) or inactive (`Some(false)`) products.
    pub active: Option<bool>,
    /// Only products with at most this many units in stock (a low-stock view).
    pub max_stock: Option<u32>,
    /// Order of the results.
    pub sort: ProductSort,
    /// Page size.
    pub limit: PageLimit,
    /// Continue after this item.
    pub after: Option<ProductCursor>,
}

impl ProductQuery {
    /// Whether `p` passes the filters (not the cursor).
    #[must_use]
    pub fn matches(&self, p: &Product) -> bool {
        let price = p.price.money().minor();
        self.text
            .as_ref()
            .is_none_or(|t| name_contains(p.name.as_str(), t.as_str()))
            && self.min_price.is_none_or(|m| price >= m)
            && self.max_price.is_none_or(|m| price <= m)
            && self.active.is_none_or(|a| p.active == a)
            && self.max_stock.is_none_or(|m| p.stock <= m)
    }

    /// Whether `p` comes after the cursor in this query's order (true when there is none).
    #[must_use]
    pub fn is_after_cursor(&self, p: &Product) -> bool {
        let Some(c) = &self.after else { return true };
        let ord = match (&c.key, self.sort) {
            (ProductSortKey::CreatedAt(t), ProductSort::Newest) => {
                t.cmp(&p.created_at).then_with(|| c.id.cmp(&p.id))
            }
            (ProductSortKey::Name(n), ProductSort::Name) => p
                .name
                .as_str()
                .cmp(n.as_str())
                .then_with(|| p.id.cmp(&c.id)),
            (ProductSortKey::Price(m), ProductSort::PriceAsc) => {
                p.price.money().minor().cmp(m).then_with(|| p.id.cmp(&c.id))
            }
            (ProductSortKey::Price(m), ProductSort::PriceDesc) => m
                .cmp(&p.price.money().minor())
                .then_with(|| c.id.cmp(&p.id)),
            // A cursor of another sort never gets here (decode checks it); treat as no cursor.
            _ => return true,
        };
        ord == Ordering::Greater
    }
}

/// Case-insensitive literal substring test used by [`ProductQuery::matches`].
#[must_use]
pub fn name_contains(name: &str, needle: &str) -> bool {
    name.to_lowercase().contains(&needle.to_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> ProductInput {
        ProductInput {
            sku: "ab-1".into(),
            slug: None,
            name: "  Blue Mug!  ".into(),
            description: None,
            image_url: Some("https://img.example/mug.png".into()),
            price_minor: 1299,
            currency: "usd".into(),
            stock: 5,
            active: true,
        }
    }

    #[test]
    fn image_urls_are_absolute_or_paths_on_this_site() {
        for good in [
            "https://img.example/mug.png",
            "http://img.example/a?b=c",
            "/assets/demo/mug-classic.svg",
            "/shop/assets/x.png",
        ] {
            assert!(ImageUrl::parse(good).is_ok(), "{good}");
        }
        for bad in [
            "img.example/mug.png",
            "//img.example/mug.png",
            "/a b.png",
            "/a\\b.png",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "https:///x",
        ] {
            assert!(ImageUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn valid_input_is_normalised() {
        let p = NewProduct::try_from(input()).unwrap();
        assert_eq!(p.sku.as_str(), "AB-1");
        assert_eq!(p.slug.as_str(), "blue-mug");
        assert_eq!(p.name.as_str(), "Blue Mug!");
        assert_eq!(p.price.money(), Money::new(1299, Currency::USD));
    }

    #[test]
    fn every_bad_field_is_reported_at_once() {
        let bad = ProductInput {
            sku: "no spaces".into(),
            slug: Some("-bad".into()),
            name: "   ".into(),
            description: Some("x".repeat(10_001)),
            image_url: Some("ftp://x".into()),
            price_minor: -1,
            currency: "USD".into(),
            stock: -3,
            active: true,
        };
        let errs = NewProduct::try_from(bad).unwrap_err();
        for f in [
            "sku",
            "slug",
            "name",
            "description",
            "image_url",
            "price_minor",
            "stock",
        ] {
            assert!(errs.has(f), "missing error for {f}: {errs}");
        }
    }

    #[test]
    fn slug_from_name() {
        assert_eq!(
            Slug::from_name("Ünïcode -- Tea  Pot").unwrap().as_str(),
            "n-code-tea-pot"
        );
        assert!(Slug::from_name("日本").is_err());
    }

    #[test]
    fn patch_input_rules() {
        let p: ProductPatchInput =
            serde_json::from_str(r#"{"image_url": null, "active": false}"#).unwrap();
        let patch = ProductPatch::try_from(p).unwrap();
        assert_eq!(patch.image_url, Some(None));
        assert_eq!(patch.active, Some(false));
        let p: ProductPatchInput = serde_json::from_str(r#"{"price_minor": 5}"#).unwrap();
        assert!(ProductPatch::try_from(p).unwrap_err().has("price_minor"));
        assert!(serde_json::from_str::<ProductPatchInput>(r#"{"stock": 5}"#).is_err());
    }

    #[test]
    fn cursor_round_trip_and_sort_check() {
        let p = Product::create(NewProduct::try_from(input()).unwrap());
        let c = ProductCursor::after(ProductSort::PriceDesc, &p);
        let s = c.encode();
        assert_eq!(
            ProductCursor::decode(&s, ProductSort::PriceDesc).unwrap(),
            c
        );
        assert!(ProductCursor::decode(&s, ProductSort::Name).is_err());
    }

    #[test]
    fn literal_search() {
        assert!(name_contains("100% Cotton_Tee", "0% c"));
        assert!(name_contains("100% Cotton_Tee", "N_T"));
        assert!(!name_contains("Cotton Tee", "c.t"));
    }
}
