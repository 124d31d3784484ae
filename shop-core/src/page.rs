//! Keyset pagination.
//!
//! Lists are read in pages of at most [`PageLimit::MAX`] items. A page carries an opaque cursor
//! naming its last item; the next request passes it back to continue after that item. Unlike
//! offsets, cursors neither skip nor repeat items when rows are inserted between two reads.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::validate::FieldError;

/// How many items one page may hold: `1..=MAX`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PageLimit(u16);

impl PageLimit {
    /// The hard maximum page size.
    pub const MAX: u16 = 100;
    /// The page size when none is asked for.
    pub const DEFAULT: Self = Self(20);

    /// Exactly `n`, which must lie in `1..=MAX`.
    ///
    /// # Errors
    /// A [`FieldError`] on `limit` otherwise.
    pub fn new(n: i64) -> Result<Self, FieldError> {
        match u16::try_from(n) {
            Ok(v) if (1..=Self::MAX).contains(&v) => Ok(Self(v)),
            _ => Err(FieldError::new(
                "limit",
                "out_of_range",
                format!("must be between 1 and {}", Self::MAX),
            )),
        }
    }

    /// `n` clamped into `1..=MAX`: what list endpoints use, so an over-large request is capped
    /// rather than refused.
    #[must_use]
    pub fn capped(n: u64) -> Self {
        let clamped = n.clamp(1, u64::from(Self::MAX));
        Self(u16::try_from(clamped).unwrap_or(Self::MAX))
    }

    /// The limit as a `usize`.
    #[must_use]
    pub fn get(self) -> usize {
        usize::from(self.0)
    }
}

impl Default for PageLimit {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// One page of a list.
#[derive(Debug, Clone, PartialEq)]
pub struct Page<T, C> {
    /// The items, in the list's order.
    pub items: Vec<T>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<C>,
}

impl<T, C> Page<T, C> {
    /// Builds a page from up to `limit + 1` items read in order: the extra item, if present,
    /// only proves that another page exists, and the cursor names the last item kept.
    pub fn from_overfetch(
        mut items: Vec<T>,
        limit: PageLimit,
        cursor_of: impl Fn(&T) -> C,
    ) -> Self {
        if items.len() > limit.get() {
            items.truncate(limit.get());
            let next = items.last().map(cursor_of);
            Self { items, next }
        } else {
            Self { items, next: None }
        }
    }

    /// Transforms the items, keeping the cursor.
    pub fn map<U>(self, f: impl FnMut(T) -> U) -> Page<U, C> {
        Page {
            items: self.items.into_iter().map(f).collect(),
            next: self.next,
        }
    }
}

/// Encodes a cursor value as an opaque URL-safe string.
pub(crate) fn encode_cursor<C: Serialize>(cursor: &C) -> String {
    // Serializing plain data to JSON cannot fail.
    let json = serde_json::to_vec(cursor).unwrap_or_default();
    URL_SAFE_NO_PAD.encode(json)
}

/// Decodes a string made by [`encode_cursor`].
pub(crate) fn decode_cursor<C: DeserializeOwned>(s: &str) -> Result<C, FieldError> {
    let bad = || FieldError::new("cursor", "invalid_cursor", "is not a cursor from this list");
    if s.len() > 1024 {
        return Err(bad());
    }
    let bytes = URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    serde_json::from_slice(&bytes).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn limits() {
        assert!(PageLimit::new(0).is_err());
        assert!(PageLimit::new(101).is_err());
        assert!(PageLimit::new(-1).is_err());
        assert_eq!(PageLimit::new(100).unwrap().get(), 100);
        assert_eq!(PageLimit::capped(0).get(), 1);
        assert_eq!(PageLimit::capped(10_000).get(), 100);
    }

    #[test]
    fn overfetch_makes_a_cursor_only_when_more_exist() {
        let lim = PageLimit::new(2).unwrap();
        let p = Page::from_overfetch(vec![1, 2, 3], lim, |x| *x);
        assert_eq!((p.items, p.next), (vec![1, 2], Some(2)));
        let p = Page::from_overfetch(vec![1, 2], lim, |x| *x);
        assert_eq!((p.items, p.next), (vec![1, 2], None));
    }

    #[test]
    fn garbage_cursor_is_a_field_error() {
        for s in ["", "!!!", "aGVsbG8", &"A".repeat(5000)] {
            assert_eq!(
                decode_cursor::<(i64, String)>(s).unwrap_err().code,
                "invalid_cursor"
            );
        }
        let c = encode_cursor(&(5i64, "x".to_owned()));
        assert_eq!(
            decode_cursor::<(i64, String)>(&c).unwrap(),
            (5, "x".to_owned())
        );
    }
}
