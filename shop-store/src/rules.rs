//! Small rules every adapter applies the same way.

use std::time::Duration;

use shop_core::{Error, Product, Result};

/// Backoff before retry `attempt` (1-based) of a transaction that lost a race:
/// 5 ms · 2^attempt, capped at 200 ms, scaled by a random factor in [0.5, 1.5).
#[cfg_attr(not(any(feature = "mysql", feature = "postgres")), allow(dead_code))]
pub(crate) fn backoff(attempt: u32) -> Duration {
    let base = (5u64 << attempt.min(6)).min(200);
    Duration::from_micros(base * (500 + jitter_per_mille()))
}

/// The MongoDB driver's own transaction-retry backoff ("full jitter"):
/// `random[0, 1) · 5 ms · 1.5^attempt`, at most 500 ms. Short at first, because a write
/// conflict is usually over by the time the other transaction commits.
#[cfg_attr(not(feature = "mongodb"), allow(dead_code))]
pub(crate) fn full_jitter_backoff(attempt: u32) -> Duration {
    let ceiling_us =
        (5_000.0 * 1.5f64.powi(i32::try_from(attempt.min(30)).unwrap_or(30))).min(500_000.0);
    // ceiling_us is at most 500 000, so the cast cannot truncate meaningfully.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let ceiling_us = ceiling_us as u64;
    Duration::from_micros(ceiling_us * jitter_per_mille() / 1000)
}

/// A random number in `0..1000`. A fresh `RandomState` is randomly keyed: a cheap source of
/// jitter without a rand crate.
fn jitter_per_mille() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    std::collections::hash_map::RandomState::new()
        .build_hasher()
        .finish()
        % 1000
}

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
#[cfg_attr(not(any(feature = "mysql", feature = "postgres")), allow(dead_code))]
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
    fn backoff_grows_and_is_bounded() {
        for attempt in 1..20 {
            let d = backoff(attempt);
            assert!(d >= Duration::from_micros(5 * 500), "{d:?}");
            assert!(d < Duration::from_millis(300), "{d:?}");
        }
    }

    #[test]
    fn full_jitter_backoff_stays_under_its_ceiling() {
        for attempt in 1..40 {
            let d = full_jitter_backoff(attempt);
            assert!(d <= Duration::from_millis(500), "{d:?}");
        }
        assert!(full_jitter_backoff(1) < Duration::from_micros(7_500));
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(like_contains("50%_Off!"), "%50!%!_off!!%");
        assert_eq!(like_contains("O'Brien"), "%o'brien%");
    }
}
