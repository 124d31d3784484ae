//! Users: creation, lookup by email, updates.

use std::collections::BTreeSet;

use shop_core::{Conflict, DisplayName, Email, Error, PasswordHash, Role, UserId, UserUpdate};

use super::Store;
use super::fixtures::*;

/// Users read back by ID and by email, whatever the case the email is given in.
pub async fn user_create_and_find(store: Store) {
    let u = user("Finder");
    store.create_user(&u).await.unwrap();
    assert_eq!(store.get_user(u.id).await.unwrap(), Some(u.clone()));
    let shouted = Email::parse(u.email.as_str().to_uppercase()).unwrap();
    assert_eq!(store.find_user_by_email(&shouted).await.unwrap(), Some(u));
    let nobody = Email::parse("nobody@example.com").unwrap();
    assert_eq!(store.find_user_by_email(&nobody).await.unwrap(), None);
    assert_eq!(store.get_user(UserId::generate()).await.unwrap(), None);
}

/// A second user with the same email (in any case) is `EmailTaken`.
pub async fn user_duplicate_email_conflicts(store: Store) {
    let u = user("dup");
    store.create_user(&u).await.unwrap();
    let mut twin = user("twin");
    twin.email = Email::parse(u.email.as_str().to_uppercase()).unwrap();
    assert_conflict(store.create_user(&twin).await, &Conflict::EmailTaken);
    assert_eq!(store.get_user(twin.id).await.unwrap(), None);
}

/// Updates change the given fields only; an unknown user is `NotFound`.
pub async fn user_update(store: Store) {
    let u = user("upd");
    store.create_user(&u).await.unwrap();
    let update = UserUpdate {
        display_name: Some(DisplayName::parse("New Name").unwrap()),
        password_hash: Some(PasswordHash::new("$argon2id$new".into())),
        roles: Some(BTreeSet::from([Role::Admin, Role::Customer])),
    };
    let got = store.update_user(u.id, &update).await.unwrap();
    assert_eq!(got.display_name.as_str(), "New Name");
    assert_eq!(got.password_hash.as_str(), "$argon2id$new");
    assert!(got.has_role(Role::Admin));
    assert_eq!(got.email, u.email);
    assert_eq!(store.get_user(u.id).await.unwrap(), Some(got));
    let r = store.update_user(UserId::generate(), &update).await;
    assert!(matches!(r, Err(Error::NotFound(_))));
}
