//! Validation errors and the small toolkit the domain types use to build themselves.
//!
//! Domain types are only constructed through `parse`/`new`/`TryFrom`, so an invalid value cannot
//! exist inside the domain. Inputs with several fields collect every problem at once, so an API
//! can report all of them in one answer.

use std::borrow::Cow;
use std::fmt;

use serde::Serialize;

/// One problem with one input field.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field's name as the caller knows it (e.g. `price.minor`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub field: Cow<'static, str>,
    /// A stable machine-readable code (e.g. `too_long`, `out_of_range`).
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub code: &'static str,
    /// A human-readable explanation that is safe to show to a client.
    #[cfg_attr(feature = "openapi", schema(value_type = String))]
    pub message: Cow<'static, str>,
}

impl FieldError {
    /// A new field error.
    pub fn new(
        field: impl Into<Cow<'static, str>>,
        code: &'static str,
        message: impl Into<Cow<'static, str>>,
    ) -> Self {
        Self {
            field: field.into(),
            code,
            message: message.into(),
        }
    }

    /// The same error reported under another field name.
    #[must_use]
    pub fn at(mut self, field: impl Into<Cow<'static, str>>) -> Self {
        self.field = field.into();
        self
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Every problem found in one input; never empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct ValidationErrors(Vec<FieldError>);

impl ValidationErrors {
    /// The individual field errors.
    #[must_use]
    pub fn fields(&self) -> &[FieldError] {
        &self.0
    }

    /// Whether any error concerns `field`.
    #[must_use]
    pub fn has(&self, field: &str) -> bool {
        self.0.iter().any(|e| e.field == field)
    }
}

impl From<FieldError> for ValidationErrors {
    fn from(e: FieldError) -> Self {
        Self(vec![e])
    }
}

impl fmt::Display for ValidationErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            fmt::Display::fmt(e, f)?;
        }
        Ok(())
    }
}

/// Collects field errors while an input is parsed field by field.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    /// Keeps the value, or records the error and yields `None`.
    pub fn check<T>(&mut self, result: Result<T, FieldError>) -> Option<T> {
        match result {
            Ok(v) => Some(v),
            Err(e) => {
                self.errors.push(e);
                None
            }
        }
    }

    /// Records an error directly.
    pub fn push(&mut self, error: FieldError) {
        self.errors.push(error);
    }

    /// `Ok(())` when nothing was recorded.
    ///
    /// # Errors
    /// Every recorded error.
    pub fn finish(self) -> Result<(), ValidationErrors> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(ValidationErrors(self.errors))
        }
    }

    /// The recorded errors, or a generic one if (by a caller's bug) none was recorded.
    #[must_use]
    pub fn into_errors(self) -> ValidationErrors {
        if self.errors.is_empty() {
            ValidationErrors(vec![FieldError::new("input", "invalid", "invalid input")])
        } else {
            ValidationErrors(self.errors)
        }
    }
}

/// Checks the length of `s` in characters against `min..=max`.
pub(crate) fn check_len(
    field: &'static str,
    s: &str,
    min: usize,
    max: usize,
) -> Result<(), FieldError> {
    let n = s.chars().count();
    if n < min {
        if min == 1 {
            return Err(FieldError::new(field, "required", "must not be empty"));
        }
        return Err(FieldError::new(
            field,
            "too_short",
            format!("must be at least {min} characters"),
        ));
    }
    if n > max {
        return Err(FieldError::new(
            field,
            "too_long",
            format!("must be at most {max} characters"),
        ));
    }
    Ok(())
}

/// A trimmed text newtype whose length (in characters) lies in a fixed range.
macro_rules! bounded_text {
    ($(#[$meta:meta])* $name:ident, field = $field:literal, min = $min:expr, max = $max:expr) => {
        $(#[$meta])*
                #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String))]
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The fewest characters allowed.
            pub const MIN_CHARS: usize = $min;
            /// The most characters allowed.
            pub const MAX_CHARS: usize = $max;

            /// Trims surrounding white space and checks the length.
            ///
            /// # Errors
            /// A [`FieldError`](crate::validate::FieldError) when the trimmed text is too short or
            /// too long, or holds control characters other than line breaks and tabs.
            pub fn parse(s: impl AsRef<str>) -> Result<Self, $crate::validate::FieldError> {
                let t = s.as_ref().trim();
                $crate::validate::check_len($field, t, $min, $max)?;
                if t.chars().any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t')) {
                    return Err($crate::validate::FieldError::new(
                        $field,
                        "invalid_characters",
                        "must not contain control characters",
                    ));
                }
                Ok(Self(t.to_owned()))
            }

            /// The text.
            #[must_use]
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl std::fmt::Debug for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                std::fmt::Debug::fmt(&self.0, f)
            }
        }

        impl TryFrom<String> for $name {
            type Error = $crate::validate::FieldError;
            fn try_from(s: String) -> Result<Self, Self::Error> {
                Self::parse(s)
            }
        }

        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }
    };
}
pub(crate) use bounded_text;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validator_collects_all_errors() {
        let mut v = Validator::default();
        assert_eq!(v.check::<u8>(Ok(1)), Some(1));
        assert_eq!(
            v.check::<u8>(Err(FieldError::new("a", "required", "x"))),
            None
        );
        v.push(FieldError::new("b", "too_long", "y"));
        let errs = v.finish().unwrap_err();
        assert!(errs.has("a") && errs.has("b"));
        assert_eq!(errs.to_string(), "a: x; b: y");
    }

    #[test]
    fn length_is_counted_in_characters() {
        assert!(check_len("f", "ééé", 1, 3).is_ok());
        assert_eq!(check_len("f", "éééé", 1, 3).unwrap_err().code, "too_long");
        assert_eq!(check_len("f", "", 1, 3).unwrap_err().code, "required");
    }
}
