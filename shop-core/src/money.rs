//! Money in integer minor units.
//!
//! There are no floats anywhere: an amount is an `i64` count of the currency's minor unit (cents
//! for USD, yen for JPY). Arithmetic is checked: it refuses to mix currencies and reports
//! overflow instead of wrapping.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::validate::FieldError;

/// Why a money operation was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum MoneyError {
    /// The two amounts are in different currencies.
    #[error("cannot combine amounts in {left} and {right}")]
    CurrencyMismatch {
        /// Currency of the left operand.
        left: Currency,
        /// Currency of the right operand.
        right: Currency,
    },
    /// The result does not fit in 64 bits of minor units.
    #[error("amount out of range")]
    Overflow,
}

impl From<MoneyError> for FieldError {
    fn from(e: MoneyError) -> Self {
        match e {
            MoneyError::CurrencyMismatch { .. } => {
                FieldError::new("currency", "currency_mismatch", e.to_string())
            }
            MoneyError::Overflow => FieldError::new("amount", "out_of_range", e.to_string()),
        }
    }
}

/// An ISO 4217 currency code: three upper-case ASCII letters.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, example = "EUR"))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    /// US dollar.
    pub const USD: Self = Self(*b"USD");
    /// Euro.
    pub const EUR: Self = Self(*b"EUR");
    /// Pound sterling.
    pub const GBP: Self = Self(*b"GBP");
    /// Japanese yen (no minor unit).
    pub const JPY: Self = Self(*b"JPY");

    /// Parses a three-letter code; lower case is accepted and upper-cased.
    ///
    /// # Errors
    /// A [`FieldError`] on anything but three ASCII letters.
    pub fn parse(code: &str) -> Result<Self, FieldError> {
        match code.as_bytes() {
            [a, b, c] if [a, b, c].iter().all(|x| x.is_ascii_alphabetic()) => Ok(Self([
                a.to_ascii_uppercase(),
                b.to_ascii_uppercase(),
                c.to_ascii_uppercase(),
            ])),
            _ => Err(FieldError::new(
                "currency",
                "invalid_currency",
                "must be a three-letter ISO 4217 code",
            )),
        }
    }

    /// The code, e.g. `"EUR"`.
    #[must_use]
    pub fn code(&self) -> &str {
        // Only ever built from ASCII letters, so this cannot fail.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// How many decimal digits the minor unit has (2 for most currencies).
    #[must_use]
    pub fn minor_digits(&self) -> u32 {
        match &self.0 {
            b"BIF" | b"CLP" | b"DJF" | b"GNF" | b"ISK" | b"JPY" | b"KMF" | b"KRW" | b"PYG"
            | b"RWF" | b"UGX" | b"UYI" | b"VND" | b"VUV" | b"XAF" | b"XOF" | b"XPF" => 0,
            b"BHD" | b"IQD" | b"JOD" | b"KWD" | b"LYD" | b"OMR" | b"TND" => 3,
            _ => 2,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl fmt::Debug for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

impl TryFrom<String> for Currency {
    type Error = FieldError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Self::parse(&s)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> Self {
        c.code().to_owned()
    }
}

/// An amount of money: minor units plus currency.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    minor: i64,
    currency: Currency,
}

impl Money {
    /// `minor` minor units of `currency` (e.g. `Money::new(1999, Currency::USD)` is $19.99).
    #[must_use]
    pub const fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Nothing, in `currency`.
    #[must_use]
    pub const fn zero(currency: Currency) -> Self {
        Self::new(0, currency)
    }

    /// The amount in minor units.
    #[must_use]
    pub const fn minor(&self) -> i64 {
        self.minor
    }

    /// The currency.
    #[must_use]
    pub const fn currency(&self) -> Currency {
        self.currency
    }

    /// Whether the amount is below zero.
    #[must_use]
    pub const fn is_negative(&self) -> bool {
        self.minor < 0
    }

    fn same_currency(self, rhs: Self) -> Result<(), MoneyError> {
        if self.currency == rhs.currency {
            Ok(())
        } else {
            Err(MoneyError::CurrencyMismatch {
                left: self.currency,
                right: rhs.currency,
            })
        }
    }

    /// `self + rhs`.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_add(self, rhs: Self) -> Result<Self, MoneyError> {
        self.same_currency(rhs)?;
        let minor = self
            .minor
            .checked_add(rhs.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::new(minor, self.currency))
    }

    /// `self - rhs`.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn checked_sub(self, rhs: Self) -> Result<Self, MoneyError> {
        self.same_currency(rhs)?;
        let minor = self
            .minor
            .checked_sub(rhs.minor)
            .ok_or(MoneyError::Overflow)?;
        Ok(Self::new(minor, self.currency))
    }

    /// `self × factor`, e.g. a unit price times a quantity.
    ///
    /// # Errors
    /// [`MoneyError::Overflow`].
    pub fn checked_mul(self, factor: i64) -> Result<Self, MoneyError> {
        let minor = self.minor.checked_mul(factor).ok_or(MoneyError::Overflow)?;
        Ok(Self::new(minor, self.currency))
    }

    /// The sum of `amounts`, all of which must be in `currency`.
    ///
    /// # Errors
    /// [`MoneyError::CurrencyMismatch`] or [`MoneyError::Overflow`].
    pub fn sum(
        currency: Currency,
        amounts: impl IntoIterator<Item = Money>,
    ) -> Result<Self, MoneyError> {
        amounts
            .into_iter()
            .try_fold(Self::zero(currency), Self::checked_add)
    }
}

impl fmt::Display for Money {
    /// `12.34 USD`, `-0.05 EUR`, `500 JPY`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let digits = self.currency.minor_digits();
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        if digits == 0 {
            return write!(f, "{sign}{abs} {}", self.currency);
        }
        let scale = 10u64.pow(digits);
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / scale,
            abs % scale,
            self.currency,
            width = digits as usize
        )
    }
}

impl fmt::Debug for Money {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn usd(minor: i64) -> Money {
        Money::new(minor, Currency::USD)
    }

    #[test]
    fn display_uses_minor_digits() {
        assert_eq!(usd(1999).to_string(), "19.99 USD");
        assert_eq!(usd(-5).to_string(), "-0.05 USD");
        assert_eq!(Money::new(500, Currency::JPY).to_string(), "500 JPY");
        assert_eq!(
            Money::new(1, Currency::parse("kwd").unwrap()).to_string(),
            "0.001 KWD"
        );
        assert_eq!(usd(i64::MIN).to_string(), "-92233720368547758.08 USD");
    }

    #[test]
    fn currency_parsing() {
        assert_eq!(Currency::parse("eur").unwrap(), Currency::EUR);
        for bad in ["", "US", "USDX", "U$D", "ÉUR"] {
            assert_eq!(Currency::parse(bad).unwrap_err().code, "invalid_currency");
        }
    }

    #[test]
    fn mixing_currencies_is_refused() {
        let e = usd(1)
            .checked_add(Money::new(1, Currency::EUR))
            .unwrap_err();
        assert!(matches!(e, MoneyError::CurrencyMismatch { .. }));
        assert_eq!(e.to_string(), "cannot combine amounts in USD and EUR");
    }

    #[test]
    fn json_shape() {
        let json = serde_json::to_value(usd(1999)).unwrap();
        assert_eq!(json, serde_json::json!({"minor": 1999, "currency": "USD"}));
        assert!(
            serde_json::from_value::<Money>(serde_json::json!({"minor": 1, "currency": "X"}))
                .is_err()
        );
    }

    fn currency() -> impl Strategy<Value = Currency> {
        prop_oneof![
            Just(Currency::USD),
            Just(Currency::EUR),
            Just(Currency::JPY)
        ]
    }

    proptest! {
        #[test]
        fn addition_matches_wide_arithmetic(a in any::<i64>(), b in any::<i64>()) {
            let wide = i128::from(a) + i128::from(b);
            match usd(a).checked_add(usd(b)) {
                Ok(m) => prop_assert_eq!(i128::from(m.minor()), wide),
                Err(e) => {
                    prop_assert_eq!(e, MoneyError::Overflow);
                    prop_assert!(i64::try_from(wide).is_err());
                }
            }
        }

        #[test]
        fn subtraction_matches_wide_arithmetic(a in any::<i64>(), b in any::<i64>()) {
            let wide = i128::from(a) - i128::from(b);
            match usd(a).checked_sub(usd(b)) {
                Ok(m) => prop_assert_eq!(i128::from(m.minor()), wide),
                Err(_) => prop_assert!(i64::try_from(wide).is_err()),
            }
        }

        #[test]
        fn multiplication_matches_wide_arithmetic(a in any::<i64>(), k in any::<i64>()) {
            let wide = i128::from(a) * i128::from(k);
            match usd(a).checked_mul(k) {
                Ok(m) => prop_assert_eq!(i128::from(m.minor()), wide),
                Err(_) => prop_assert!(i64::try_from(wide).is_err()),
            }
        }

        #[test]
        fn addition_is_commutative(a in any::<i64>(), b in any::<i64>()) {
            prop_assert_eq!(usd(a).checked_add(usd(b)), usd(b).checked_add(usd(a)));
        }

        #[test]
        fn addition_is_associative(a in -1i64<<60..1i64<<60, b in -1i64<<60..1i64<<60, c in -1i64<<60..1i64<<60) {
            let left = usd(a).checked_add(usd(b)).and_then(|ab| ab.checked_add(usd(c)));
            let right = usd(b).checked_add(usd(c)).and_then(|bc| usd(a).checked_add(bc));
            prop_assert_eq!(left, right);
        }

        #[test]
        fn zero_is_identity_and_sub_inverts_add(a in any::<i64>(), b in -1i64<<62..1i64<<62, cur in currency()) {
            let m = Money::new(a, cur);
            prop_assert_eq!(m.checked_add(Money::zero(cur)), Ok(m));
            if let Ok(s) = m.checked_add(Money::new(b, cur)) {
                prop_assert_eq!(s.checked_sub(Money::new(b, cur)), Ok(m));
            }
        }

        #[test]
        fn sum_equals_repeated_addition(xs in proptest::collection::vec(-1i64<<40..1i64<<40, 0..50)) {
            let total: i64 = xs.iter().sum();
            prop_assert_eq!(Money::sum(Currency::USD, xs.iter().map(|&x| usd(x))), Ok(usd(total)));
        }

        #[test]
        fn different_currencies_never_combine(a in any::<i64>(), b in any::<i64>(), c1 in currency(), c2 in currency()) {
            prop_assume!(c1 != c2);
            let err = Err(MoneyError::CurrencyMismatch { left: c1, right: c2 });
            prop_assert_eq!(Money::new(a, c1).checked_add(Money::new(b, c2)), err);
            prop_assert_eq!(Money::new(a, c1).checked_sub(Money::new(b, c2)), err);
        }
    }
}
