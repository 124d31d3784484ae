//! Catalog reads: product search and product by ID or slug.

use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::Extensions;
use serde::{Deserialize, Serialize};
use shop_auth::Principal;
use shop_core::{
    PageLimit, Product, ProductCursor, ProductId, ProductQuery, ProductSort, Role, SearchText, Slug,
};

use crate::error::ApiError;
use crate::state::AppState;

fn is_admin(ext: &Extensions) -> bool {
    ext.get::<Principal>()
        .is_some_and(|p| p.has_role(Role::Admin))
}

/// Query parameters of `GET /api/products`.
#[derive(Debug, Deserialize)]
pub(crate) struct ListParams {
    q: Option<String>,
    min_price: Option<i64>,
    max_price: Option<i64>,
    active: Option<bool>,
    sort: Option<String>,
    limit: Option<u64>,
    cursor: Option<String>,
}

/// A page of products.
#[derive(Debug, Serialize)]
pub(crate) struct ProductPage {
    items: Vec<Product>,
    next_cursor: Option<String>,
}

/// `GET /api/products`. Customers and anonymous callers see active products only; admins may
/// filter with `active`. `limit` is capped at 100.
pub(crate) async fn list(
    State(state): State<AppState>,
    ext: Extensions,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Json<ProductPage>, ApiError> {
    let Query(p) = params?;
    let sort = p
        .sort
        .as_deref()
        .map(ProductSort::parse)
        .transpose()
        .map_err(ApiError::bad_field)?
        .unwrap_or_default();
    let text =
        p.q.as_deref()
            .filter(|q| !q.trim().is_empty())
            .map(SearchText::parse)
            .transpose()
            .map_err(ApiError::bad_field)?;
    if let (Some(lo), Some(hi)) = (p.min_price, p.max_price)
        && lo > hi
    {
        return Err(ApiError::bad_field(shop_core::FieldError::new(
            "min_price",
            "out_of_range",
            "must not exceed max_price",
        )));
    }
    let after = p
        .cursor
        .as_deref()
        .map(|c| ProductCursor::decode(c, sort))
        .transpose()
        .map_err(ApiError::bad_field)?;
    let query = ProductQuery {
        text,
        min_price: p.min_price,
        max_price: p.max_price,
        active: if is_admin(&ext) { p.active } else { Some(true) },
        sort,
        limit: p.limit.map_or(PageLimit::DEFAULT, PageLimit::capped),
        after,
    };
    let page = state.commerce.query_products(&query).await?;
    Ok(Json(ProductPage {
        items: page.items,
        next_cursor: page.next.map(|c| c.encode()),
    }))
}

/// `GET /api/products/{id_or_slug}`. Inactive products are visible to admins only.
pub(crate) async fn get(
    State(state): State<AppState>,
    ext: Extensions,
    key: Result<Path<String>, PathRejection>,
) -> Result<Json<Product>, ApiError> {
    let Path(key) = key?;
    let found = match ProductId::parse(&key) {
        Ok(id) => state.commerce.get_product(id).await?,
        Err(_) => match Slug::parse(&key) {
            Ok(slug) => state.commerce.get_product_by_slug(&slug).await?,
            Err(_) => None,
        },
    };
    found
        .filter(|p| p.active || is_admin(&ext))
        .map(Json)
        .ok_or_else(|| ApiError::not_found("product"))
}
