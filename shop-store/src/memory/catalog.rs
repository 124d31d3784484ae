//! Products: writes under the commerce lock with their events; queries read the sorted indexes.

use std::collections::HashSet;

use async_trait::async_trait;
use shop_core::time::now;

use crate::rules::checked_stock;
use shop_core::{
    CatalogStore, Conflict, DomainEvent, Error, Page, Product, ProductCursor, ProductId,
    ProductPatch, ProductQuery, Result, Slug,
};

use super::MemoryStore;

#[async_trait]
impl CatalogStore for MemoryStore {
    async fn create_product(&self, product: &Product) -> Result<()> {
        let mut c = self.commerce.write();
        if c.products.contains_key(&product.id) {
            return Err(Conflict::ConcurrentModification.into());
        }
        c.check_unique(product)?;
        c.index(product);
        c.products.insert(product.id, product.clone());
        c.append([DomainEvent::product_created(product)]);
        Ok(())
    }

    async fn get_product(&self, id: ProductId) -> Result<Option<Product>> {
        Ok(self.commerce.read().products.get(&id).cloned())
    }

    async fn get_product_by_slug(&self, slug: &Slug) -> Result<Option<Product>> {
        let c = self.commerce.read();
        Ok(c.by_slug
            .get(slug)
            .and_then(|id| c.products.get(id))
            .cloned())
    }

    async fn get_products(&self, ids: &[ProductId]) -> Result<Vec<Product>> {
        let c = self.commerce.read();
        let unique: HashSet<&ProductId> = ids.iter().collect();
        Ok(unique
            .into_iter()
            .filter_map(|id| c.products.get(id).cloned())
            .collect())
    }

    async fn update_product(&self, id: ProductId, patch: &ProductPatch) -> Result<Product> {
        let mut c = self.commerce.write();
        let old = c
            .products
            .get(&id)
            .cloned()
            .ok_or(Error::NotFound("product"))?;
        let mut new = old.clone();
        patch.apply_to(&mut new, now());
        c.check_unique(&new)?;
        c.unindex(&old);
        c.index(&new);
        c.products.insert(id, new.clone());
        c.append([DomainEvent::product_updated(&new)]);
        Ok(new)
    }

    async fn adjust_stock(&self, id: ProductId, delta: i64) -> Result<Product> {
        let mut c = self.commerce.write();
        let p = c.products.get_mut(&id).ok_or(Error::NotFound("product"))?;
        let stock = checked_stock(p, delta)?;
        p.stock = stock;
        p.updated_at = now();
        let p = p.clone();
        c.append([DomainEvent::product_updated(&p)]);
        Ok(p)
    }

    async fn delete_product(&self, id: ProductId) -> Result<()> {
        let mut c = self.commerce.write();
        let p = c.products.remove(&id).ok_or(Error::NotFound("product"))?;
        c.unindex(&p);
        for cart in c.carts.values_mut() {
            cart.lines.retain(|l| l.product_id != id);
        }
        Ok(())
    }

    async fn query_products(&self, query: &ProductQuery) -> Result<Page<Product, ProductCursor>> {
        let c = self.commerce.read();
        let want = query.limit.get() + 1;
        let needle = query.text.as_ref().map(|t| t.as_str().to_lowercase());
        // The other filters; the text is tested through the index, which holds the names
        // lower-cased already.
        let rest = ProductQuery {
            text: None,
            ..query.clone()
        };
        let selective = needle
            .as_deref()
            .and_then(|n| c.names.candidates(n))
            .filter(|(bound, _)| bound.saturating_mul(SCAN_RATIO) < c.products.len());
        let items: Vec<Product> = if let Some((_, candidates)) = selective {
            let mut found: Vec<&Product> = candidates
                .filter_map(|id| c.products.get(&id))
                .filter(|p| rest.matches(p) && rest.is_after_cursor(p))
                .collect();
            found.sort_unstable_by(|a, b| query.sort.compare(a, b));
            found.into_iter().take(want).cloned().collect()
        } else {
            c.ordered_ids(query.sort, query.after.as_ref())
                .filter(|&id| needle.as_deref().is_none_or(|n| c.names.contains(id, n)))
                .filter_map(|id| c.products.get(&id))
                .filter(|p| rest.matches(p))
                .take(want)
                .cloned()
                .collect()
        };
        Ok(Page::from_overfetch(items, query.limit, |p| {
            ProductCursor::after(query.sort, p)
        }))
    }
}

/// A text search whose candidates number at least 1/`SCAN_RATIO` of the catalog walks the
/// sorted index instead: matches are dense there, so a page fills after about `SCAN_RATIO`
/// pages' worth of products, cheaper than sorting that many candidates.
const SCAN_RATIO: usize = 8;
