//! How PostgreSQL's columns are read ([`Columns`]); the decoders are shared
//! (`crate::sql::rows`). PostgreSQL has no unsigned integers: the schema's checks keep those
//! columns in range, and reading them back checks again.

use shop_core::{Error, Timestamp};
use sqlx::Row;
use sqlx::postgres::PgRow;
use uuid::Uuid;

pub(super) use crate::sql::rows::*;

impl Columns for PgRow {
    fn text(&self, column: &str) -> Result<&str, Error> {
        self.try_get(column).map_err(self::column)
    }

    fn text_opt(&self, column: &str) -> Result<Option<&str>, Error> {
        self.try_get(column).map_err(self::column)
    }

    fn uuid(&self, column: &str) -> Result<Uuid, Error> {
        self.try_get(column).map_err(self::column)
    }

    fn int(&self, column: &str) -> Result<i64, Error> {
        self.try_get(column).map_err(self::column)
    }

    /// Quantities and ratings are `smallint`.
    fn small(&self, column: &str) -> Result<i64, Error> {
        self.try_get::<i16, _>(column)
            .map(i64::from)
            .map_err(self::column)
    }

    fn stock(&self, column: &str) -> Result<u32, Error> {
        let stock: i32 = self.try_get(column).map_err(self::column)?;
        unsigned(i64::from(stock), "product stock")
    }

    fn counter(&self, column: &str) -> Result<u64, Error> {
        unsigned(self.try_get(column).map_err(self::column)?, column)
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
