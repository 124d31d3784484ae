//! How MySQL's columns are read ([`Columns`]); the decoders are shared (`crate::sql::rows`).

use shop_core::{Error, Timestamp};
use sqlx::Row;
use sqlx::mysql::MySqlRow;
use uuid::Uuid;

pub(super) use crate::sql::rows::*;

/// [`PRODUCT_COLUMNS`] qualified with `p.`, for joins (a test keeps the two lists equal).
pub(super) const PRODUCT_COLUMNS_OF_P: &str = "p.id, p.sku, p.slug, p.name, p.description, \
     p.image_url, p.price_minor, p.currency, p.stock, p.active, p.created_at, p.updated_at";

impl Columns for MySqlRow {
    /// The schema's `utf8mb4_bin` collation makes the server flag text columns as binary,
    /// which sqlx's type check refuses for `&str`; the bytes are still UTF-8 (decoding checks
    /// that), so the type check is skipped.
    fn text(&self, column: &str) -> Result<&str, Error> {
        self.try_get_unchecked(column).map_err(self::column)
    }

    fn text_opt(&self, column: &str) -> Result<Option<&str>, Error> {
        self.try_get_unchecked(column).map_err(self::column)
    }

    fn uuid(&self, column: &str) -> Result<Uuid, Error> {
        self.try_get(column).map_err(self::column)
    }

    fn int(&self, column: &str) -> Result<i64, Error> {
        self.try_get(column).map_err(self::column)
    }

    /// Quantities are `SMALLINT UNSIGNED`, ratings `TINYINT UNSIGNED`.
    fn small(&self, column: &str) -> Result<i64, Error> {
        self.try_get::<u16, _>(column)
            .map(i64::from)
            .map_err(self::column)
    }

    fn stock(&self, column: &str) -> Result<u32, Error> {
        self.try_get(column).map_err(self::column)
    }

    fn counter(&self, column: &str) -> Result<u64, Error> {
        self.try_get(column).map_err(self::column)
    }

    fn flag(&self, column: &str) -> Result<bool, Error> {
        self.try_get(column).map_err(self::column)
    }

    fn time(&self, column: &str) -> Result<Timestamp, Error> {
        self.try_get(column).map_err(self::column)
    }

    fn time_opt(&self, column: &str) -> Result<Option<Timestamp>, Error> {
        self.try_get(column).map_err(self::column)
    }

    fn bytes(&self, column: &str) -> Result<&[u8], Error> {
        self.try_get(column).map_err(self::column)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn qualified_product_columns_are_the_product_columns() {
        assert_eq!(
            super::PRODUCT_COLUMNS_OF_P.replace("p.", ""),
            super::PRODUCT_COLUMNS
        );
    }
}
