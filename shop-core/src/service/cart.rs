use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use crate::cart::{Cart, CartCommand, CartLine, Quantity};
use crate::catalog::Product;
use crate::error::{Conflict, Error, Result};
use crate::id::{ProductId, UserId};
use crate::money::{Money, MoneyError};
use crate::store::CommerceStore;

use crate::validate::FieldError;

/// A cart line priced at the product's current price.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartViewLine {
    /// The product as it is now.
    pub product: Product,
    /// Units in the cart.
    pub quantity: Quantity,
    /// Current price × quantity.
    pub line_total: Money,
}

/// A cart with current prices and totals.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CartView {
    /// The stored cart.
    pub cart: Cart,
    /// Lines whose product can be bought, priced now.
    pub lines: Vec<CartViewLine>,
    /// Lines whose product is inactive; checkout refuses until they are removed.
    pub unavailable: Vec<CartLine>,
    /// Sum of `lines`; `None` for a cart with nothing buyable.
    pub total: Option<Money>,
}

/// Cart rules that need the catalog: only existing, active products, one currency per cart,
/// totals from current prices.
#[derive(Clone)]
pub struct CartService {
    store: Arc<dyn CommerceStore>,
}

impl std::fmt::Debug for CartService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CartService").finish_non_exhaustive()
    }
}

impl CartService {
    /// A service over `store`.
    #[must_use]
    pub fn new(store: Arc<dyn CommerceStore>) -> Self {
        Self { store }
    }

    /// The user's cart, priced now (an empty cart if none is stored).
    ///
    /// # Errors
    /// Store errors; a validation error if the stored lines mix currencies.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn view(&self, user_id: UserId) -> Result<CartView> {
        let cart = self
            .store
            .get_cart(user_id)
            .await?
            .unwrap_or_else(|| Cart::empty(user_id));
        self.price(cart).await
    }

    /// Adds units of an active product, merging with its line.
    ///
    /// # Errors
    /// `NotFound` for an unknown product, [`Conflict::ProductUnavailable`] for an inactive
    /// one, a validation error for another currency than the cart's or a broken cart rule.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn add_item(
        &self,
        user_id: UserId,
        product_id: ProductId,
        quantity: Quantity,
    ) -> Result<CartView> {
        let product = self
            .store
            .get_product(product_id)
            .await?
            .ok_or(Error::NotFound("product"))?;
        if !product.active {
            return Err(Conflict::ProductUnavailable(product_id).into());
        }
        let current = self.view(user_id).await?;
        if let Some(total) = current.total
            && total.currency() != product.price.money().currency()
        {
            return Err(FieldError::from(MoneyError::CurrencyMismatch {
                left: total.currency(),
                right: product.price.money().currency(),
            })
            .at("product_id")
            .into());
        }
        self.modify(
            user_id,
            &CartCommand::Add {
                product_id,
                quantity,
            },
        )
        .await
    }

    /// Sets the quantity of an existing line.
    ///
    /// # Errors
    /// `NotFound` when the cart has no such line.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn set_quantity(
        &self,
        user_id: UserId,
        product_id: ProductId,
        quantity: Quantity,
    ) -> Result<CartView> {
        self.modify(
            user_id,
            &CartCommand::SetQuantity {
                product_id,
                quantity,
            },
        )
        .await
    }

    /// Removes a line.
    ///
    /// # Errors
    /// `NotFound` when the cart has no such line.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn remove_item(&self, user_id: UserId, product_id: ProductId) -> Result<CartView> {
        self.modify(user_id, &CartCommand::Remove { product_id })
            .await
    }

    /// Empties the cart.
    ///
    /// # Errors
    /// Store errors.
    #[tracing::instrument(level = "debug", skip_all)]
    pub async fn clear(&self, user_id: UserId) -> Result<CartView> {
        self.modify(user_id, &CartCommand::Clear).await
    }

    async fn modify(&self, user_id: UserId, cmd: &CartCommand) -> Result<CartView> {
        let cart = self.store.modify_cart(user_id, cmd).await?;
        self.price(cart).await
    }

    async fn price(&self, cart: Cart) -> Result<CartView> {
        let ids: Vec<ProductId> = cart.lines.iter().map(|l| l.product_id).collect();
        let products: HashMap<ProductId, Product> = if ids.is_empty() {
            HashMap::new()
        } else {
            self.store
                .get_products(&ids)
                .await?
                .into_iter()
                .map(|p| (p.id, p))
                .collect()
        };
        let mut lines = Vec::with_capacity(cart.lines.len());
        let mut unavailable = Vec::new();
        for line in &cart.lines {
            match products.get(&line.product_id) {
                Some(p) if p.active => {
                    let line_total = p
                        .price
                        .money()
                        .checked_mul(i64::from(line.quantity.get()))?;
                    lines.push(CartViewLine {
                        product: p.clone(),
                        quantity: line.quantity,
                        line_total,
                    });
                }
                _ => unavailable.push(*line),
            }
        }
        let total = match lines.first() {
            Some(first) => Some(Money::sum(
                first.line_total.currency(),
                lines.iter().map(|l| l.line_total),
            )?),
            None => None,
        };
        Ok(CartView {
            cart,
            lines,
            unavailable,
            total,
        })
    }
}
