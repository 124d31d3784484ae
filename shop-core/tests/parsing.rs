//! Every parser at the boundary returns a typed error for bad input and never panics.

use proptest::prelude::*;
use shop_core::catalog::parse_stock;
use shop_core::{
    Currency, Description, DisplayName, Email, IdempotencyKey, ImageUrl, OrderCursor, OrderId,
    OrderStatus, PageLimit, ProductCursor, ProductName, ProductSort, Quantity, Rating, Role,
    SearchText, Sku, Slug,
};

#[test]
fn the_issue_list_of_bad_inputs_gets_typed_errors() {
    assert_eq!(ProductName::parse("   ").unwrap_err().code, "required");
    assert_eq!(
        shop_core::Price::new(shop_core::Money::new(-1, Currency::USD))
            .unwrap_err()
            .code,
        "out_of_range"
    );
    assert_eq!(Quantity::new(0).unwrap_err().code, "out_of_range");
    assert_eq!(Quantity::new(1000).unwrap_err().code, "out_of_range");
    assert_eq!(Rating::new(6).unwrap_err().code, "out_of_range");
    for bad in [
        "plainaddress",
        "@no-local.com",
        "no-domain@",
        "a@b",
        "a@.com",
        "a@b..com",
        "two@@example.com",
        "sp ace@example.com",
    ] {
        assert_eq!(
            Email::parse(bad).unwrap_err().code,
            "invalid_email",
            "{bad}"
        );
    }
    let mixed = shop_core::Money::new(1, Currency::USD)
        .checked_add(shop_core::Money::new(1, Currency::EUR))
        .unwrap_err();
    assert_eq!(
        shop_core::Error::from(mixed).code(),
        "validation_failed",
        "mixed currencies are a validation error"
    );
}

#[test]
fn emails_are_normalised() {
    let e = Email::parse("  Ada.Lovelace@Example.COM ").unwrap();
    assert_eq!(e.as_str(), "ada.lovelace@example.com");
    assert_eq!(e, Email::parse("ada.lovelace@example.com").unwrap());
    assert!(Email::parse(format!("{}@example.com", "a".repeat(65))).is_err());
}

proptest! {
    #[test]
    fn text_parsers_never_panic(s in any::<String>()) {
        let _ = Sku::parse(&s);
        let _ = Slug::parse(&s);
        let _ = Slug::from_name(&s);
        let _ = ProductName::parse(&s);
        let _ = Description::parse(&s);
        let _ = SearchText::parse(&s);
        let _ = DisplayName::parse(&s);
        let _ = ImageUrl::parse(&s);
        let _ = Email::parse(&s);
        let _ = IdempotencyKey::parse(&s);
        let _ = Currency::parse(&s);
        let _ = OrderStatus::parse(&s);
        let _ = Role::parse(&s);
        let _ = ProductSort::parse(&s);
        let _ = OrderId::parse(&s);
        let _ = OrderCursor::decode(&s);
        let _ = ProductCursor::decode(&s, ProductSort::Name);
    }

    #[test]
    fn number_parsers_never_panic(n in any::<i64>()) {
        prop_assert_eq!(Quantity::new(n).is_ok(), (1..=999).contains(&n));
        prop_assert_eq!(Rating::new(n).is_ok(), (1..=5).contains(&n));
        prop_assert_eq!(PageLimit::new(n).is_ok(), (1..=100).contains(&n));
        prop_assert_eq!(parse_stock(n).is_ok(), (0..=1_000_000_000).contains(&n));
    }

    #[test]
    fn accepted_text_is_trimmed_and_in_range(s in "\\PC{0,300}") {
        if let Ok(name) = ProductName::parse(&s) {
            prop_assert_eq!(name.as_str(), s.trim());
            prop_assert!((1..=200).contains(&name.as_str().chars().count()));
        }
        if let Ok(slug) = Slug::from_name(&s) {
            prop_assert!(Slug::parse(slug.as_str()).is_ok());
        }
    }
}
