//! Typed identifiers.
//!
//! Every aggregate has its own ID type, so a `ProductId` can never be passed where an `OrderId`
//! is expected. IDs are UUIDv7: time-ordered, which keeps database indexes compact.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::validate::FieldError;

macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident, $field:literal) => {
        $(#[$meta])*
                #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema), schema(value_type = String, format = Uuid))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new, unique, time-ordered ID.
            #[must_use]
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }

            /// Wraps an existing UUID (for adapters reading stored IDs).
            #[must_use]
            pub const fn from_uuid(uuid: Uuid) -> Self {
                Self(uuid)
            }

            /// The underlying UUID.
            #[must_use]
            pub const fn as_uuid(&self) -> Uuid {
                self.0
            }

            /// Parses the hyphenated (or simple) text form.
            ///
            /// # Errors
            /// A [`FieldError`] naming the field when `s` is not a UUID.
            pub fn parse(s: &str) -> Result<Self, FieldError> {
                Uuid::parse_str(s)
                    .map(Self)
                    .map_err(|_| FieldError::new($field, "invalid_id", "must be a UUID"))
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, concat!(stringify!($name), "({})"), self.0.hyphenated())
            }
        }

        impl FromStr for $name {
            type Err = FieldError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Self::parse(s)
            }
        }
    };
}

typed_id!(
    /// Identifies a [`Product`](crate::catalog::Product).
    ProductId,
    "product_id"
);
typed_id!(
    /// Identifies a [`User`](crate::user::User).
    UserId,
    "user_id"
);
typed_id!(
    /// Identifies a [`Cart`](crate::cart::Cart).
    CartId,
    "cart_id"
);
typed_id!(
    /// Identifies an [`Order`](crate::order::Order).
    OrderId,
    "order_id"
);
typed_id!(
    /// Identifies a [`Review`](crate::review::Review).
    ReviewId,
    "review_id"
);
typed_id!(
    /// Identifies a [`DomainEvent`](crate::event::DomainEvent); consumers deduplicate by it.
    EventId,
    "event_id"
);
typed_id!(
    /// Identifies a family of refresh tokens descended from one login.
    TokenFamilyId,
    "family_id"
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_through_text_and_json() {
        let id = OrderId::generate();
        assert_eq!(OrderId::parse(&id.to_string()).unwrap(), id);
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(serde_json::from_str::<OrderId>(&json).unwrap(), id);
    }

    #[test]
    fn bad_id_is_a_field_error() {
        let err = ProductId::parse("not-a-uuid").unwrap_err();
        assert_eq!(err.field, "product_id");
        assert_eq!(err.code, "invalid_id");
    }

    #[test]
    fn generated_ids_are_time_ordered() {
        let a = UserId::generate();
        let b = UserId::generate();
        assert!(a < b);
    }
}
