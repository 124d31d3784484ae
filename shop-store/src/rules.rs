//! Small rules every adapter applies the same way.

use shop_core::{Error, Product, Result};

/// The stock after adding `delta`, or the error that refuses it: below zero is
/// `InsufficientStock`, above the maximum a validation error on `delta`.
pub(crate) fn checked_stock(p: &Product, delta: i64) -> Result<u32> {
    let new = i64::from(p.stock).saturating_add(delta);
    if new < 0 {
        return Err(Error::InsufficientStock {
            product_id: p.id,
            requested: u32::try_from(delta.unsigned_abs()).unwrap_or(u32::MAX),
            available: p.stock,
        });
    }
    shop_core::catalog::parse_stock(new).map_err(|e| Error::from(e.at("delta")))
}

/// A `LIKE` pattern matching `text` literally anywhere (case folded to lower case), with `!`
/// as the escape character so `%`, `_` and `!` in user input match only themselves.
#[cfg_attr(not(feature = "mysql"), allow(dead_code))]
pub(crate) fn like_contains(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('%');
    for c in text.to_lowercase().chars() {
        if matches!(c, '!' | '%' | '_') {
            out.push('!');
        }
        out.push(c);
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("50%_Off!"), "%50!%!_off!!%");
        assert_eq!(like_contains("O'Brien"), "%o'brien%");
    }
}
