//! AuthService over the memory store: registration, login, throttling, refresh rotation with
//! reuse detection, logout, password change, transparent re-hash, and no secrets in Debug.

#![allow(clippy::unwrap_used)] // test code

use std::sync::Arc;
use std::time::Duration;

use shop_auth::{
    AccessTokens, AuthError, AuthService, KeySet, LoginLimits, MemoryThrottle, PasswordParams,
    Passwords, RegisterInput, TokenPolicy,
};
use shop_core::{Conflict, Email, Error, EventType, OutboxClaim, OutboxStore, UserStore};
use shop_store::MemoryStore;

fn cheap(memory_kib: u32) -> Passwords {
    Passwords::new(PasswordParams {
        memory_kib,
        iterations: 1,
        parallelism: 1,
    })
    .unwrap()
}

fn service_on(store: &Arc<MemoryStore>, passwords: Passwords) -> AuthService {
    let tokens = Arc::new(AccessTokens::new(
        KeySet::hs256("k1", b"test secret, thirty-two bytes long!").unwrap(),
        TokenPolicy::default(),
    ));
    AuthService::new(
        store.clone(),
        store.clone(),
        passwords,
        tokens,
        Arc::new(MemoryThrottle::new(Duration::from_secs(900))),
    )
    .with_login_limits({
        let mut config = LoginLimits::default();
        config.per_email = 5;
        config.per_client = 8;
        config
    })
    .with_outbox(store.clone())
}

fn service() -> (Arc<MemoryStore>, AuthService) {
    let store = Arc::new(MemoryStore::new());
    let svc = service_on(&store, cheap(64));
    (store, svc)
}

fn input(email: &str, password: &str) -> RegisterInput {
    RegisterInput {
        email: email.into(),
        password: password.into(),
        display_name: "Ada".into(),
    }
}

#[tokio::test]
async fn register_then_login() {
    let (store, svc) = service();
    let user = svc
        .register(&input("Ada@Example.com", "a long passphrase"))
        .await
        .unwrap();
    assert_eq!(user.email.as_str(), "ada@example.com");
    let session = svc
        .login("ADA@example.com", "a long passphrase", Some("10.0.0.1"))
        .await
        .unwrap();
    let principal = svc.access_tokens().verify(&session.access_token).unwrap();
    assert_eq!(principal.user_id, user.id);
    assert_eq!(session.expires_in, 900);
    let now = shop_core::time::now();
    let events = store
        .claim_events(&OutboxClaim {
            claimant: "t".into(),
            limit: 10,
            now,
            lease_until: now,
        })
        .await
        .unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].event.event_type, EventType::UserRegistered);
    assert!(
        !events[0].event.payload.to_string().contains("argon2"),
        "no hash in events"
    );
}

#[tokio::test]
async fn registration_rules() {
    let (_, svc) = service();
    svc.register(&input("ada@example.com", "a long passphrase"))
        .await
        .unwrap();
    let dup = svc
        .register(&input("ADA@EXAMPLE.COM", "another passphrase"))
        .await;
    assert!(
        matches!(
            dup,
            Err(AuthError::Domain(Error::Conflict(Conflict::EmailTaken)))
        ),
        "{dup:?}"
    );
    let bad = svc
        .register(&RegisterInput {
            email: "nope".into(),
            password: "short".into(),
            display_name: " ".into(),
        })
        .await;
    let Err(AuthError::Domain(Error::Validation(v))) = bad else {
        panic!("{bad:?}")
    };
    assert!(v.has("email") && v.has("display_name"), "{v}");
    let same = svc
        .register(&input("bob@example.com", "bob@example.com"))
        .await;
    let Err(AuthError::Domain(Error::Validation(v))) = same else {
        panic!("{same:?}")
    };
    assert!(v.has("password"));
}

#[tokio::test]
async fn wrong_password_and_unknown_email_look_the_same() {
    let (_, svc) = service();
    svc.register(&input("ada@example.com", "a long passphrase"))
        .await
        .unwrap();
    let wrong = svc
        .login("ada@example.com", "not the passphrase", None)
        .await;
    let unknown = svc
        .login("who@example.com", "a long passphrase", None)
        .await;
    let malformed = svc.login("not an email", "a long passphrase", None).await;
    for r in [wrong, unknown, malformed] {
        assert!(matches!(r, Err(AuthError::InvalidCredentials)), "{r:?}");
    }
}

#[tokio::test]
async fn repeated_failures_are_throttled_per_email_and_per_ip() {
    let (_, svc) = service();
    svc.register(&input("ada@example.com", "a long passphrase"))
        .await
        .unwrap();
    for _ in 0..5 {
        let r = svc
            .login("ada@example.com", "wrong", Some("10.0.0.9"))
            .await;
        assert!(matches!(r, Err(AuthError::InvalidCredentials)));
    }
    let r = svc
        .login("ada@example.com", "a long passphrase", Some("10.0.0.7"))
        .await;
    let Err(AuthError::Throttled { retry_after }) = r else {
        panic!("{r:?}")
    };
    assert!(retry_after > Duration::from_secs(800));
    // The address has a larger limit of its own, across emails: 5 + 3 = 8.
    for i in 0..3 {
        let r = svc
            .login(
                &format!("other{i}@example.com"),
                "whatever",
                Some("10.0.0.9"),
            )
            .await;
        assert!(matches!(r, Err(AuthError::InvalidCredentials)), "{r:?}");
    }
    let r = svc
        .login("someone@example.com", "whatever", Some("10.0.0.9"))
        .await;
    assert!(matches!(r, Err(AuthError::Throttled { .. })), "{r:?}");
}

/// Attempts are counted as they start, so a burst of concurrent guesses gets no more than
/// the limit past the throttle, however fast it comes.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_burst_of_concurrent_guesses_gets_only_the_limit_through() {
    let (_, svc) = service();
    svc.register(&input("ada@example.com", "a long passphrase"))
        .await
        .unwrap();
    let svc = Arc::new(svc);
    let guesses: Vec<_> = (0..40)
        .map(|i| {
            let svc = svc.clone();
            tokio::spawn(async move {
                svc.login("ada@example.com", &format!("guess {i}"), None)
                    .await
            })
        })
        .collect();
    let mut checked = 0;
    for g in guesses {
        match g.await.unwrap() {
            Err(AuthError::InvalidCredentials) => checked += 1,
            Err(AuthError::Throttled { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(checked, 5, "only the limit's worth of passwords were tried");
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_family() {
    let (_, svc) = service();
    svc.register(&input("ada@example.com", "a long passphrase"))
        .await
        .unwrap();
    let first = svc
        .login("ada@example.com", "a long passphrase", None)
        .await
        .unwrap();
    let second = svc.refresh(&first.refresh_token).await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);
    svc.access_tokens().verify(&second.access_token).unwrap();
    // The first token again: theft is assumed and the whole family dies.
    assert!(matches!(
        svc.refresh(&first.refresh_token).await,
        Err(AuthError::RefreshTokenReused)
    ));
    assert!(matches!(
        svc.refresh(&second.refresh_token).await,
        Err(AuthError::InvalidRefreshToken)
    ));
    assert!(matches!(
        svc.refresh("never issued").await,
        Err(AuthError::InvalidRefreshToken)
    ));
    // Another login is unaffected.
    let other = svc
        .login("ada@example.com", "a long passphrase", None)
        .await
        .unwrap();
    svc.refresh(&other.refresh_token).await.unwrap();
}

#[tokio::test]
async fn logout_revokes_and_is_idempotent() {
    let (_, svc) = service();
    svc.register(&input("ada@example.com", "a long passphrase"))
        .await
        .unwrap();
    let s = svc
        .login("ada@example.com", "a long passphrase", None)
        .await
        .unwrap();
    svc.logout(&s.refresh_token).await.unwrap();
    svc.logout(&s.refresh_token).await.unwrap();
    svc.logout("unknown").await.unwrap();
    assert!(svc.refresh(&s.refresh_token).await.is_err());
}

#[tokio::test]
async fn refresh_tokens_expire() {
    let store = Arc::new(MemoryStore::new());
    let svc = service_on(&store, cheap(64)).with_refresh_ttl(Duration::ZERO);
    svc.register(&input("ada@example.com", "a long passphrase"))
        .await
        .unwrap();
    let s = svc
        .login("ada@example.com", "a long passphrase", None)
        .await
        .unwrap();
    assert!(matches!(
        svc.refresh(&s.refresh_token).await,
        Err(AuthError::InvalidRefreshToken)
    ));
}

#[tokio::test]
async fn changing_the_password_revokes_every_refresh_token() {
    let (_, svc) = service();
    let user = svc
        .register(&input("ada@example.com", "a long passphrase"))
        .await
        .unwrap();
    let s1 = svc
        .login("ada@example.com", "a long passphrase", None)
        .await
        .unwrap();
    let s2 = svc
        .login("ada@example.com", "a long passphrase", None)
        .await
        .unwrap();
    let wrong = svc
        .change_password(user.id, "not it", "a newer passphrase")
        .await;
    assert!(matches!(wrong, Err(AuthError::InvalidCredentials)));
    let weak = svc
        .change_password(user.id, "a long passphrase", "short")
        .await;
    assert!(matches!(weak, Err(AuthError::Domain(Error::Validation(_)))));
    svc.change_password(user.id, "a long passphrase", "a newer passphrase")
        .await
        .unwrap();
    assert!(svc.refresh(&s1.refresh_token).await.is_err());
    assert!(svc.refresh(&s2.refresh_token).await.is_err());
    assert!(
        svc.login("ada@example.com", "a long passphrase", None)
            .await
            .is_err()
    );
    svc.login("ada@example.com", "a newer passphrase", None)
        .await
        .unwrap();
}

#[tokio::test]
async fn login_upgrades_weaker_hashes() {
    let store = Arc::new(MemoryStore::new());
    let old = service_on(&store, cheap(64));
    let user = old
        .register(&input("ada@example.com", "a long passphrase"))
        .await
        .unwrap();
    assert!(user.password_hash.as_str().contains("m=64,"));
    let new = service_on(&store, cheap(256));
    new.login("ada@example.com", "a long passphrase", None)
        .await
        .unwrap();
    let stored = store.get_user(user.id).await.unwrap().unwrap();
    assert!(
        stored.password_hash.as_str().contains("m=256,"),
        "{:?}",
        stored.password_hash.as_str()
    );
    new.login("ada@example.com", "a long passphrase", None)
        .await
        .unwrap();
}

#[tokio::test]
async fn profile_updates() {
    let (_, svc) = service();
    let user = svc
        .register(&input("ada@example.com", "a long passphrase"))
        .await
        .unwrap();
    assert_eq!(
        svc.update_profile(user.id, " Countess ")
            .await
            .unwrap()
            .display_name
            .as_str(),
        "Countess"
    );
    assert!(svc.update_profile(user.id, "").await.is_err());
    assert_eq!(
        svc.profile(user.id).await.unwrap().email,
        Email::parse("ada@example.com").unwrap()
    );
}

#[tokio::test]
async fn secrets_never_show_in_debug() {
    let (_, svc) = service();
    let i = input("ada@example.com", "a long passphrase");
    assert!(!format!("{i:?}").contains("passphrase"));
    let user = svc.register(&i).await.unwrap();
    let s = svc
        .login("ada@example.com", "a long passphrase", None)
        .await
        .unwrap();
    let dbg = format!("{s:?} {user:?} {svc:?}");
    for secret in [
        s.access_token.as_str(),
        s.refresh_token.as_str(),
        user.password_hash.as_str(),
        "thirty-two",
    ] {
        assert!(!dbg.contains(secret), "{secret} leaked in {dbg}");
    }
}

/// A user store whose lookups by email fail while `down` is set, as an unreachable database.
struct FlakyUsers {
    inner: Arc<MemoryStore>,
    down: std::sync::atomic::AtomicBool,
}

#[async_trait::async_trait]
impl UserStore for FlakyUsers {
    async fn create_user(&self, user: &shop_core::User) -> shop_core::Result<()> {
        self.inner.create_user(user).await
    }
    async fn get_user(&self, id: shop_core::UserId) -> shop_core::Result<Option<shop_core::User>> {
        self.inner.get_user(id).await
    }
    async fn find_user_by_email(
        &self,
        email: &Email,
    ) -> shop_core::Result<Option<shop_core::User>> {
        if self.down.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(Error::unavailable("database down"));
        }
        self.inner.find_user_by_email(email).await
    }
    async fn update_user(
        &self,
        id: shop_core::UserId,
        update: &shop_core::UserUpdate,
    ) -> shop_core::Result<shop_core::User> {
        self.inner.update_user(id, update).await
    }
}

/// Attempts that never got to test a password (the user store failed) are not failures: once
/// the store is back, the user signs in, however many such attempts there were.
#[tokio::test]
async fn attempts_that_meet_a_store_failure_are_not_held_against_anyone() {
    let store = Arc::new(MemoryStore::new());
    let users = Arc::new(FlakyUsers {
        inner: store.clone(),
        down: std::sync::atomic::AtomicBool::new(false),
    });
    let svc = AuthService::new(
        users.clone(),
        store,
        cheap(64),
        Arc::new(AccessTokens::new(
            KeySet::hs256("k1", b"test secret, thirty-two bytes long!").unwrap(),
            TokenPolicy::default(),
        )),
        Arc::new(MemoryThrottle::new(Duration::from_secs(900))),
    );
    svc.register(&input("ada@example.com", "a long passphrase"))
        .await
        .unwrap();
    users.down.store(true, std::sync::atomic::Ordering::SeqCst);
    for _ in 0..10 {
        let r = svc
            .login("ada@example.com", "a long passphrase", Some("10.0.0.9"))
            .await;
        assert!(
            matches!(r, Err(AuthError::Domain(Error::Unavailable(_)))),
            "{r:?}"
        );
    }
    users.down.store(false, std::sync::atomic::Ordering::SeqCst);
    svc.login("ada@example.com", "a long passphrase", Some("10.0.0.9"))
        .await
        .unwrap();
}
