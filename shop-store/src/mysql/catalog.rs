use async_trait::async_trait;
use shop_core::catalog::ProductSortKey;
use shop_core::time::now;
use shop_core::{
    CatalogStore, DomainEvent, Error, Page, Product, ProductCursor, ProductId, ProductPatch,
    ProductQuery, ProductSort, Result, Slug,
};
use sqlx::mysql::{MySqlArguments, MySqlConnection};
use sqlx::{MySql, QueryBuilder};
use tracing::instrument;

use super::error::{TxResult, map};
use super::outbox::insert_events;
use super::rows::{self, PRODUCT_COLUMNS};
use super::{MySqlStore, push_keyset};
use crate::rules::{checked_stock, like_contains};

/// Reads one product, locking its row until the transaction ends.
async fn lock_product(conn: &mut MySqlConnection, id: ProductId) -> TxResult<Product> {
    let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ? FOR UPDATE");
    let row = sqlx::query(&sql)
        .bind(id.as_uuid())
        .fetch_optional(&mut *conn)
        .await?
        .ok_or(Error::NotFound("product"))?;
    Ok(rows::product(&row)?)
}

/// Binds the columns every product write sets, in the order of [`PRODUCT_FIELDS`]; the
/// INSERT and the UPDATE share it so the two can never disagree on a column.
fn bind_fields<'q>(
    q: sqlx::query::Query<'q, MySql, MySqlArguments>,
    p: &'q Product,
) -> sqlx::query::Query<'q, MySql, MySqlArguments> {
    q.bind(p.sku.as_str())
        .bind(p.slug.as_str())
        .bind(p.name.as_str())
        .bind(p.description.as_str())
        .bind(p.image_url.as_ref().map(shop_core::ImageUrl::as_str))
        .bind(p.price.money().minor())
        .bind(p.price.money().currency().code().to_owned())
        .bind(p.stock)
        .bind(p.active)
        .bind(p.updated_at)
}

/// The columns [`bind_fields`] binds.
const PRODUCT_FIELDS: [&str; 10] = [
    "sku",
    "slug",
    "name",
    "description",
    "image_url",
    "price_minor",
    "currency",
    "stock",
    "active",
    "updated_at",
];

/// Writes every mutable column of `p`.
async fn write_product(conn: &mut MySqlConnection, p: &Product) -> TxResult<()> {
    let set = PRODUCT_FIELDS.map(|c| format!("{c} = ?")).join(", ");
    let sql = format!("UPDATE products SET {set} WHERE id = ?");
    bind_fields(sqlx::query(&sql), p)
        .bind(p.id.as_uuid())
        .execute(&mut *conn)
        .await?;
    Ok(())
}

impl MySqlStore {
    async fn create_product_once(&self, p: &Product) -> TxResult<()> {
        let mut tx = self.pool.begin().await?;
        let sql = format!(
            "INSERT INTO products ({}, id, created_at) VALUES ({}, ?, ?)",
            PRODUCT_FIELDS.join(", "),
            ["?"; PRODUCT_FIELDS.len()].join(", ")
        );
        bind_fields(sqlx::query(&sql), p)
            .bind(p.id.as_uuid())
            .bind(p.created_at)
            .execute(&mut *tx)
            .await?;
        insert_events(&mut tx, &[DomainEvent::product_created(p)]).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_product_once(&self, id: ProductId, patch: &ProductPatch) -> TxResult<Product> {
        let mut tx = self.pool.begin().await?;
        let mut p = lock_product(&mut tx, id).await?;
        patch.apply_to(&mut p, now());
        write_product(&mut tx, &p).await?;
        insert_events(&mut tx, &[DomainEvent::product_updated(&p)]).await?;
        tx.commit().await?;
        Ok(p)
    }

    async fn adjust_stock_once(&self, id: ProductId, delta: i64) -> TxResult<Product> {
        let mut tx = self.pool.begin().await?;
        let mut p = lock_product(&mut tx, id).await?;
        p.stock = checked_stock(&p, delta)?;
        p.updated_at = now();
        write_product(&mut tx, &p).await?;
        insert_events(&mut tx, &[DomainEvent::product_updated(&p)]).await?;
        tx.commit().await?;
        Ok(p)
    }

    async fn delete_product_once(&self, id: ProductId) -> TxResult<()> {
        let mut tx = self.pool.begin().await?;
        let deleted = sqlx::query("DELETE FROM products WHERE id = ?")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if deleted == 0 {
            return Err(Error::NotFound("product").into());
        }
        sqlx::query("DELETE FROM cart_lines WHERE product_id = ?")
            .bind(id.as_uuid())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

#[async_trait]
impl CatalogStore for MySqlStore {
    #[instrument(skip_all, fields(db.system = "mysql", product_id = %product.id))]
    async fn create_product(&self, product: &Product) -> Result<()> {
        self.retrying("create_product", || self.create_product_once(product))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn get_product(&self, id: ProductId) -> Result<Option<Product>> {
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id.as_uuid())
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(|r| rows::product(&r)).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn get_product_by_slug(&self, slug: &Slug) -> Result<Option<Product>> {
        let sql = format!("SELECT {PRODUCT_COLUMNS} FROM products WHERE slug = ?");
        let row = sqlx::query(&sql)
            .bind(slug.as_str())
            .fetch_optional(&self.pool)
            .await
            .map_err(map)?;
        row.map(|r| rows::product(&r)).transpose()
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn get_products(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
        if ids.is_empty() {
            return Ok(Vec::new());
        }
        let mut qb = QueryBuilder::<MySql>::new(format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE id IN ("
        ));
        let mut list = qb.separated(", ");
        for id in ids {
            list.push_bind(id.as_uuid());
        }
        qb.push(")");
        let found = qb.build().fetch_all(&self.pool).await.map_err(map)?;
        found
            .iter()
            .map(rows::product)
            .collect::<shop_core::Result<_>>()
    }

    #[instrument(skip_all, fields(db.system = "mysql", product_id = %id))]
    async fn update_product(&self, id: ProductId, patch: &ProductPatch) -> Result<Product> {
        self.retrying("update_product", || self.update_product_once(id, patch))
            .await
    }

    #[instrument(skip_all, fields(db.system = "mysql", product_id = %id, delta))]
    async fn adjust_stock(&self, id: ProductId, delta: i64) -> Result<Product> {
        self.retrying("adjust_stock", || self.adjust_stock_once(id, delta))
            .await
    }

    #[instrument(skip_all, fields(db.system = "mysql", product_id = %id))]
    async fn delete_product(&self, id: ProductId) -> Result<()> {
        self.retrying("delete_product", || self.delete_product_once(id))
            .await
    }

    #[tracing::instrument(level = "debug", skip_all, fields(db.system = "mysql"))]
    async fn query_products(&self, q: &ProductQuery) -> Result<Page<Product, ProductCursor>> {
        let mut qb = QueryBuilder::<MySql>::new(format!(
            "SELECT {PRODUCT_COLUMNS} FROM products WHERE TRUE"
        ));
        if let Some(text) = &q.text {
            qb.push(" AND LOWER(name) LIKE ")
                .push_bind(like_contains(text.as_str()))
                .push(" ESCAPE '!'");
        }
        if let Some(min) = q.min_price {
            qb.push(" AND price_minor >= ").push_bind(min);
        }
        if let Some(max) = q.max_price {
            qb.push(" AND price_minor <= ").push_bind(max);
        }
        if let Some(max) = q.max_stock {
            qb.push(" AND stock <= ").push_bind(max);
        }
        if let Some(active) = q.active {
            qb.push(" AND active = ").push_bind(active);
        }
        if let Some(c) = &q.after {
            let id = c.id.as_uuid();
            match (&c.key, q.sort) {
                (ProductSortKey::Name(n), ProductSort::Name) => {
                    push_keyset(&mut qb, "name", ">", n.clone(), id);
                }
                (ProductSortKey::Price(m), ProductSort::PriceAsc) => {
                    push_keyset(&mut qb, "price_minor", ">", *m, id);
                }
                (ProductSortKey::Price(m), ProductSort::PriceDesc) => {
                    push_keyset(&mut qb, "price_minor", "<", *m, id);
                }
                (ProductSortKey::CreatedAt(t), ProductSort::Newest) => {
                    push_keyset(&mut qb, "created_at", "<", *t, id);
                }
                // A cursor of another sort is rejected when decoded; ignore it here.
                _ => {}
            }
        }
        qb.push(match q.sort {
            ProductSort::Name => " ORDER BY name, id",
            ProductSort::PriceAsc => " ORDER BY price_minor, id",
            ProductSort::PriceDesc => " ORDER BY price_minor DESC, id DESC",
            ProductSort::Newest => " ORDER BY created_at DESC, id DESC",
        });
        qb.push(" LIMIT ").push_bind(q.limit.get() as u64 + 1);
        let found = qb.build().fetch_all(&self.pool).await.map_err(map)?;
        let items = found
            .iter()
            .map(rows::product)
            .collect::<shop_core::Result<Vec<_>>>()?;
        Ok(Page::from_overfetch(items, q.limit, |p| {
            ProductCursor::after(q.sort, p)
        }))
    }
}
