//! The shopping cart: one open cart per user, and the rules for changing it.
//!
//! Stores change a cart only through [`Cart::apply`], inside their own atomic
//! read-modify-write, so the rules hold under concurrent requests on every backend.

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::id::{CartId, ProductId, UserId};
use crate::time::{Timestamp, now};
use crate::validate::FieldError;

/// The most distinct products one cart may hold.
pub const MAX_CART_LINES: usize = 100;

/// Units of one product in a cart or order line: 1 to 999.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = u32))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "u32")]
pub struct Quantity(u16);

impl Quantity {
    /// The largest quantity of one line.
    pub const MAX: u16 = 999;

    /// Checks `n`.
    ///
    /// # Errors
    /// A [`FieldError`] on `quantity` unless `1 <= n <= 999`.
    pub fn new(n: i64) -> Result<Self, FieldError> {
        match u16::try_from(n) {
            Ok(v) if (1..=Self::MAX).contains(&v) => Ok(Self(v)),
            _ => Err(FieldError::new(
                "quantity",
                "out_of_range",
                format!("must be between 1 and {}", Self::MAX),
            )),
        }
    }

    /// The count.
    #[must_use]
    pub const fn get(self) -> u32 {
        self.0 as u32
    }
}

impl TryFrom<i64> for Quantity {
    type Error = FieldError;
    fn try_from(n: i64) -> Result<Self, FieldError> {
        Self::new(n)
    }
}

impl From<Quantity> for u32 {
    fn from(q: Quantity) -> u32 {
        q.get()
    }
}

/// A product and how many of it.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct CartLine {
    /// The product.
    pub product_id: ProductId,
    /// How many.
    pub quantity: Quantity,
}

/// A change to a cart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "op", rename_all = "snake_case")]
#[non_exhaustive]
pub enum CartCommand {
    /// Add units of a product, merging with an existing line.
    Add {
        /// The product.
        product_id: ProductId,
        /// Units to add.
        quantity: Quantity,
    },
    /// Set a line's quantity (the line must exist).
    SetQuantity {
        /// The product.
        product_id: ProductId,
        /// The new quantity.
        quantity: Quantity,
    },
    /// Remove a line (it must exist).
    Remove {
        /// The product.
        product_id: ProductId,
    },
    /// Remove every line.
    Clear,
}

/// A user's open cart.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cart {
    /// Identity.
    pub id: CartId,
    /// Owner; a user has at most one open cart.
    pub user_id: UserId,
    /// Lines in the order they were first added.
    pub lines: Vec<CartLine>,
    /// Bumped on every change; checkout uses it to make sure it clears the cart it priced.
    pub version: u64,
    /// When it last changed.
    #[cfg_attr(feature = "openapi", schema(value_type = String, format = DateTime))]
    pub updated_at: Timestamp,
}

impl Cart {
    /// An empty cart for `user_id`, not yet stored.
    #[must_use]
    pub fn empty(user_id: UserId) -> Self {
        Self {
            id: CartId::generate(),
            user_id,
            lines: Vec::new(),
            version: 0,
            updated_at: now(),
        }
    }

    /// The line for `product_id`, if any.
    #[must_use]
    pub fn line(&self, product_id: ProductId) -> Option<&CartLine> {
        self.lines.iter().find(|l| l.product_id == product_id)
    }

    /// Whether the cart has no lines.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// Applies `cmd` if the rules allow it, bumping the version; on error the cart is unchanged.
    ///
    /// # Errors
    /// [`Error::Validation`] when a line would exceed [`Quantity::MAX`] or the cart
    /// [`MAX_CART_LINES`]; [`Error::NotFound`] when changing a line that is not there.
    pub fn apply(&mut self, cmd: &CartCommand, at: Timestamp) -> Result<()> {
        match *cmd {
            CartCommand::Add {
                product_id,
                quantity,
            } => {
                if let Some(line) = self.lines.iter_mut().find(|l| l.product_id == product_id) {
                    let merged = i64::from(line.quantity.get()) + i64::from(quantity.get());
                    line.quantity = Quantity::new(merged).map_err(|_| {
                        FieldError::new(
                            "quantity",
                            "out_of_range",
                            format!(
                                "the line would hold {merged}; at most {} per line",
                                Quantity::MAX
                            ),
                        )
                    })?;
                } else {
                    if self.lines.len() >= MAX_CART_LINES {
                        return Err(FieldError::new(
                            "product_id",
                            "cart_full",
                            format!("a cart holds at most {MAX_CART_LINES} products"),
                        )
                        .into());
                    }
                    self.lines.push(CartLine {
                        product_id,
                        quantity,
                    });
                }
            }
            CartCommand::SetQuantity {
                product_id,
                quantity,
            } => {
                let line = self
                    .lines
                    .iter_mut()
                    .find(|l| l.product_id == product_id)
                    .ok_or(Error::NotFound("cart line"))?;
                line.quantity = quantity;
            }
            CartCommand::Remove { product_id } => {
                let before = self.lines.len();
                self.lines.retain(|l| l.product_id != product_id);
                if self.lines.len() == before {
                    return Err(Error::NotFound("cart line"));
                }
            }
            CartCommand::Clear => self.lines.clear(),
        }
        self.version += 1;
        self.updated_at = at;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(n: i64) -> Quantity {
        Quantity::new(n).unwrap()
    }

    #[test]
    fn quantity_bounds() {
        assert!(Quantity::new(0).is_err());
        assert!(Quantity::new(1000).is_err());
        assert!(Quantity::new(-5).is_err());
        assert_eq!(q(999).get(), 999);
    }

    #[test]
    fn add_merges_and_caps() {
        let mut c = Cart::empty(UserId::generate());
        let p = ProductId::generate();
        let t = now();
        c.apply(
            &CartCommand::Add {
                product_id: p,
                quantity: q(500),
            },
            t,
        )
        .unwrap();
        c.apply(
            &CartCommand::Add {
                product_id: p,
                quantity: q(499),
            },
            t,
        )
        .unwrap();
        assert_eq!(c.lines.len(), 1);
        assert_eq!(c.lines[0].quantity.get(), 999);
        assert_eq!(c.version, 2);
        let err = c
            .apply(
                &CartCommand::Add {
                    product_id: p,
                    quantity: q(1),
                },
                t,
            )
            .unwrap_err();
        assert_eq!(err.code(), "validation_failed");
        assert_eq!(c.lines[0].quantity.get(), 999);
        assert_eq!(c.version, 2, "a refused change leaves the version alone");
    }

    #[test]
    fn line_count_is_capped() {
        let mut c = Cart::empty(UserId::generate());
        let t = now();
        for _ in 0..MAX_CART_LINES {
            c.apply(
                &CartCommand::Add {
                    product_id: ProductId::generate(),
                    quantity: q(1),
                },
                t,
            )
            .unwrap();
        }
        let err = c
            .apply(
                &CartCommand::Add {
                    product_id: ProductId::generate(),
                    quantity: q(1),
                },
                t,
            )
            .unwrap_err();
        assert!(matches!(err, Error::Validation(ref v) if v.fields()[0].code == "cart_full"));
    }

    #[test]
    fn missing_lines_are_not_found() {
        let mut c = Cart::empty(UserId::generate());
        let p = ProductId::generate();
        let t = now();
        assert!(matches!(
            c.apply(&CartCommand::Remove { product_id: p }, t),
            Err(Error::NotFound(_))
        ));
        assert!(matches!(
            c.apply(
                &CartCommand::SetQuantity {
                    product_id: p,
                    quantity: q(2)
                },
                t
            ),
            Err(Error::NotFound(_))
        ));
    }
}
