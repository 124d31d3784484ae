//! Products: writes in transactions with their events; keyset-paginated queries.

use ::mongodb::bson::{Bson, Document, doc};
use async_trait::async_trait;
use shop_core::catalog::ProductSortKey;
use shop_core::time::now;
use shop_core::{
    CatalogStore, DomainEvent, Error, Page, Product, ProductCursor, ProductId, ProductPatch,
    ProductQuery, ProductSort, Result, Slug,
};
use tracing::instrument;

use super::MongoStore;
use super::docs::{self, date, id};
use super::error::carry;
use super::outbox::insert_events;
use crate::rules::checked_stock;

/// `{$or: [{field: {op: value}}, {field: value, _id: {op: id}}]}`: "after this key".
fn keyset(field: &str, op: &str, value: Bson, last_id: String) -> Document {
    doc! { "$or": [
        { field: { op: value.clone() } },
        { field: value, "_id": { op: last_id } },
    ] }
}

impl MongoStore {
    /// Reads a product, changes it with `change`, writes it back and appends
    /// `ProductUpdated`, all in one transaction.
    async fn rewrite_product(
        &self,
        product_id: ProductId,
        change: impl Fn(&mut Product) -> Result<()>,
    ) -> Result<Product> {
        let seq = self.reserve_seqs(1).await?;
        let products = self.col("products");
        let outbox = self.col("outbox");
        in_transaction!(self, s => async {
            let found = products
                .find_one(doc! { "_id": id(product_id.as_uuid()) })
                .session(&mut *s)
                .await?
                .ok_or_else(|| carry(Error::NotFound("product")))?;
            let mut p = docs::product(&found).map_err(carry)?;
            change(&mut p).map_err(carry)?;
            products
                .update_one(
                    doc! { "_id": id(p.id.as_uuid()) },
                    doc! { "$set": docs::product_fields(&p) },
                )
                .session(&mut *s)
                .await?;
            insert_events(&outbox, s, seq, &[DomainEvent::product_updated(&p)]).await?;
            Ok(p)
        })
    }
}

#[async_trait]
impl CatalogStore for MongoStore {
    #[instrument(skip_all, fields(db.system = "mongodb", product_id = %product.id))]
    async fn create_product(&self, product: &Product) -> Result<()> {
        let seq = self.reserve_seqs(1).await?;
        let products = self.col("products");
        let outbox = self.col("outbox");
        let event = DomainEvent::product_created(product);
        in_transaction!(self, s => async {
            products
                .insert_one(docs::product_doc(product))
                .session(&mut *s)
                .await?;
            insert_events(&outbox, s, seq, std::slice::from_ref(&event)).await
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn get_product(&self, product_id: ProductId) -> Result<Option<Product>> {
        let filter = doc! { "_id": id(product_id.as_uuid()) };
        self.find_one_as("products", filter, docs::product).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn get_product_by_slug(&self, slug: &Slug) -> Result<Option<Product>> {
        let filter = doc! { "slug": slug.as_str() };
        self.find_one_as("products", filter, docs::product).await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn get_products(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let keys: Vec<String> = ids.iter().map(|p| id(p.as_uuid())).collect();
        let filter = doc! { "_id": { "$in": keys } };
        self.find_as("products", filter, None, ids.len(), docs::product)
            .await
    }

    #[instrument(skip_all, fields(db.system = "mongodb", product_id = %product_id))]
    async fn update_product(&self, product_id: ProductId, patch: &ProductPatch) -> Result<Product> {
        self.rewrite_product(product_id, |p| {
            patch.apply_to(p, now());
            Ok(())
        })
        .await
    }

    #[instrument(skip_all, fields(db.system = "mongodb", product_id = %product_id, delta))]
    async fn adjust_stock(&self, product_id: ProductId, delta: i64) -> Result<Product> {
        self.rewrite_product(product_id, |p| {
            p.stock = checked_stock(p, delta)?;
            p.updated_at = now();
            Ok(())
        })
        .await
    }

    #[instrument(skip_all, fields(db.system = "mongodb", product_id = %product_id))]
    async fn delete_product(&self, product_id: ProductId) -> Result<()> {
        let products = self.col("products");
        let carts = self.col("carts");
        let key = id(product_id.as_uuid());
        in_transaction!(self, s => async {
            let deleted = products
                .delete_one(doc! { "_id": &key })
                .session(&mut *s)
                .await?
                .deleted_count;
            if deleted == 0 {
                return Err(carry(Error::NotFound("product")));
            }
            carts
                .update_many(
                    doc! { "lines.product_id": &key },
                    doc! {
                        "$pull": { "lines": { "product_id": &key } },
                        "$inc": { "version": 1_i64 },
                    },
                )
                .session(&mut *s)
                .await?;
            Ok(())
        })
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mongodb"))]
    async fn query_products(&self, q: &ProductQuery) -> Result<Page<Product, ProductCursor>> {
        let mut and: Vec<Document> = Vec::new();
        if let Some(text) = &q.text {
            let pattern = docs::literal_regex(&text.as_str().to_lowercase());
            and.push(doc! { "name_lower": { "$regex": pattern } });
        }
        if let Some(min) = q.min_price {
            and.push(doc! { "price_minor": { "$gte": min } });
        }
        if let Some(max) = q.max_price {
            and.push(doc! { "price_minor": { "$lte": max } });
        }
        if let Some(max) = q.max_stock {
            and.push(doc! { "stock": { "$lte": i64::from(max) } });
        }
        if let Some(active) = q.active {
            and.push(doc! { "active": active });
        }
        if let Some(c) = &q.after {
            let last = id(c.id.as_uuid());
            match (&c.key, q.sort) {
                (ProductSortKey::Name(n), ProductSort::Name) => {
                    and.push(keyset("name", "$gt", Bson::String(n.clone()), last));
                }
                (ProductSortKey::Price(m), ProductSort::PriceAsc) => {
                    and.push(keyset("price_minor", "$gt", Bson::Int64(*m), last));
                }
                (ProductSortKey::Price(m), ProductSort::PriceDesc) => {
                    and.push(keyset("price_minor", "$lt", Bson::Int64(*m), last));
                }
                (ProductSortKey::CreatedAt(t), ProductSort::Newest) => {
                    and.push(keyset("created_at", "$lt", Bson::DateTime(date(*t)), last));
                }
                // A cursor of another sort is rejected when decoded; ignore it here.
                _ => {}
            }
        }
        let filter = if and.is_empty() {
            doc! {}
        } else {
            doc! { "$and": and }
        };
        let sort = match q.sort {
            ProductSort::Name => doc! { "name": 1, "_id": 1 },
            ProductSort::PriceAsc => doc! { "price_minor": 1, "_id": 1 },
            ProductSort::PriceDesc => doc! { "price_minor": -1, "_id": -1 },
            ProductSort::Newest => doc! { "created_at": -1, "_id": -1 },
        };
        let items = self
            .find_as(
                "products",
                filter,
                Some(sort),
                q.limit.get() + 1,
                docs::product,
            )
            .await?;
        Ok(Page::from_overfetch(items, q.limit, |p| {
            ProductCursor::after(q.sort, p)
        }))
    }
}
