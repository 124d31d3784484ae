//! One set of behaviours for every login throttle: the in-process one and, against the real
//! Redis (`REDIS_URL`, default `redis://127.0.0.1:6379`), the shared one. Then what only the
//! shared one can show: replicas counting together, and the failure policy of `AuthService`
//! when Redis is unreachable or goes away mid-way. Redis unreachable: the Redis tests skip
//! with a message, except under `CI=true`, where they fail.

#![allow(clippy::unwrap_used, clippy::print_stderr)] // test code

use std::sync::Arc;
use std::time::Duration;

use shop_auth::{Admission, LoginThrottle, MemoryThrottle, ThrottleKey};

/// A throttle with a window of 1 s, fresh (nothing counted).
type Factory = fn() -> std::pin::Pin<Box<dyn Future<Output = Option<Arc<dyn LoginThrottle>>>>>;

fn admitted(a: &Admission) -> bool {
    matches!(a, Admission::Admitted(_))
}

/// The keys, each with a limit of 3.
fn k<'a>(names: &[&'a str]) -> Vec<ThrottleKey<'a>> {
    names
        .iter()
        .map(|key| ThrottleKey { key, limit: 3 })
        .collect()
}

async fn each_key_has_its_own_limit(t: Arc<dyn LoginThrottle>) {
    let both = |email_limit, client_limit| {
        vec![
            ThrottleKey {
                key: "email:a",
                limit: email_limit,
            },
            ThrottleKey {
                key: "client:1",
                limit: client_limit,
            },
        ]
    };
    for _ in 0..2 {
        assert!(admitted(&t.admit(&both(2, 5)).await.unwrap()));
    }
    assert!(
        !admitted(&t.admit(&both(2, 5)).await.unwrap()),
        "the email's limit"
    );
    let client_only = [ThrottleKey {
        key: "client:1",
        limit: 5,
    }];
    for _ in 0..3 {
        assert!(admitted(&t.admit(&client_only).await.unwrap()));
    }
    assert!(
        !admitted(&t.admit(&client_only).await.unwrap()),
        "the client's limit"
    );
}

async fn limits_each_key_within_its_window(t: Arc<dyn LoginThrottle>) {
    for i in 0..3 {
        assert!(
            admitted(&t.admit(&k(&["email:a", "client:1"])).await.unwrap()),
            "attempt {i}"
        );
    }
    let Admission::Refused { retry_after } = t.admit(&k(&["email:a"])).await.unwrap() else {
        panic!("the fourth attempt must be refused");
    };
    assert!(retry_after <= Duration::from_secs(1), "{retry_after:?}");
    assert!(
        !admitted(&t.admit(&k(&["email:b", "client:1"])).await.unwrap()),
        "the client is at its limit whatever email it tries"
    );
    assert!(
        admitted(&t.admit(&k(&["email:b", "client:2"])).await.unwrap()),
        "other keys are untouched"
    );
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(admitted(
        &t.admit(&k(&["email:a", "client:1"])).await.unwrap()
    ));
}

async fn success_uncounts_its_attempt_and_forgets_the_email(t: Arc<dyn LoginThrottle>) {
    let keys = ["email:a", "client:1"];
    for _ in 0..2 {
        t.admit(&k(&keys)).await.unwrap(); // two failures
    }
    let Admission::Admitted(ok) = t.admit(&k(&keys)).await.unwrap() else {
        panic!("third attempt is within the limit");
    };
    t.uncount(&ok, &keys, Some("email:a")).await.unwrap();
    // email:a forgot everything; client:1 keeps its two failures, not the success.
    assert!(admitted(&t.admit(&k(&["email:a"])).await.unwrap()));
    assert!(admitted(&t.admit(&k(&["client:1"])).await.unwrap()));
    assert!(
        !admitted(&t.admit(&k(&["client:1"])).await.unwrap()),
        "two failures + one more = the limit"
    );
}

async fn racing_attempts_never_exceed_the_limit(t: Arc<dyn LoginThrottle>) {
    let handles: Vec<_> = (0..40)
        .map(|_| {
            let t = t.clone();
            tokio::spawn(async move { t.admit(&k(&["email:race"])).await.unwrap() })
        })
        .collect();
    let mut won = 0;
    for h in handles {
        if admitted(&h.await.unwrap()) {
            won += 1;
        }
    }
    assert_eq!(won, 3, "exactly the limit, however many race");
}

async fn an_attempt_can_be_uncounted_without_forgetting(t: Arc<dyn LoginThrottle>) {
    let keys = ["email:a", "client:1"];
    t.admit(&k(&keys)).await.unwrap(); // a failure
    for _ in 0..5 {
        let Admission::Admitted(a) = t.admit(&k(&keys)).await.unwrap() else {
            panic!("uncounted attempts never pile up");
        };
        t.uncount(&a, &keys, None).await.unwrap();
    }
    t.admit(&k(&keys)).await.unwrap(); // a second failure
    t.admit(&k(&keys)).await.unwrap(); // a third
    assert!(
        !admitted(&t.admit(&k(&keys)).await.unwrap()),
        "the failures were not forgotten"
    );
}

async fn refused_attempts_are_not_counted(t: Arc<dyn LoginThrottle>) {
    for _ in 0..3 {
        t.admit(&k(&["email:a"])).await.unwrap();
    }
    for _ in 0..10 {
        assert!(!admitted(&t.admit(&k(&["email:a"])).await.unwrap()));
    }
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert!(
        admitted(&t.admit(&k(&["email:a"])).await.unwrap()),
        "refusals did not extend the window"
    );
}

macro_rules! behaviours {
    ($module:ident, $factory:expr) => {
        mod $module {
            use super::*;

            behaviours!(@each $factory;
                limits_each_key_within_its_window,
                success_uncounts_its_attempt_and_forgets_the_email,
                racing_attempts_never_exceed_the_limit,
                refused_attempts_are_not_counted,
                each_key_has_its_own_limit,
                an_attempt_can_be_uncounted_without_forgetting,
            );
        }
    };
    (@each $factory:expr; $($name:ident),* $(,)?) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn $name() {
                let factory: Factory = $factory;
                let Some(throttle) = factory().await else { return };
                super::$name(throttle).await;
            }
        )*
    };
}

behaviours!(memory, || Box::pin(async {
    Some(Arc::new(MemoryThrottle::new(Duration::from_secs(1))) as Arc<dyn LoginThrottle>)
}));

#[cfg(feature = "redis")]
behaviours!(redis, || Box::pin(async {
    Some(Arc::new(shared::throttle(
        &shared::server().await?,
        &shared::prefix(),
    )) as Arc<dyn LoginThrottle>)
}));

#[cfg(feature = "redis")]
mod shared {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use shop_auth::{
        AccessTokens, AuthError, AuthService, KeySet, LoginLimits, MemoryThrottle, PasswordParams,
        Passwords, RedisThrottle, RedisThrottleConfig, RegisterInput, TokenPolicy,
    };
    use shop_core::secret::SecretString;
    use shop_store::MemoryStore;
    use shop_store::scratch::TcpProxy;

    use super::k;

    /// `host:port` of the Redis server, or `None` (outside CI) when it cannot be reached.
    pub(super) async fn server() -> Option<String> {
        let url = std::env::var("REDIS_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "redis://127.0.0.1:6379".into());
        let host = url
            .trim_start_matches("redis://")
            .split(['/', '?'])
            .next()
            .unwrap_or_default()
            .rsplit('@')
            .next()
            .unwrap_or_default()
            .to_owned();
        let reachable = tokio::time::timeout(
            Duration::from_secs(2),
            tokio::net::TcpStream::connect(host.clone()),
        )
        .await;
        if matches!(reachable, Ok(Ok(_))) {
            return Some(host);
        }
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "Redis is required under CI=true but {host} is unreachable"
        );
        eprintln!("skipping: Redis at {host} unreachable");
        None
    }

    /// A key prefix no other test uses.
    pub(super) fn prefix() -> String {
        format!("shop-test:{}:", uuid::Uuid::new_v4().simple())
    }

    /// A 1 s window, on the Redis at `host`, under `prefix`.
    pub(super) fn throttle(host: &str, prefix: &str) -> RedisThrottle {
        let config = {
            let mut config = RedisThrottleConfig::default();
            config.url = SecretString::from(format!("redis://{host}"));
            config.key_prefix = prefix.into();
            config.timeout = Duration::from_millis(250);
            config
        };
        RedisThrottle::new(config, Duration::from_secs(1)).unwrap()
    }

    /// Two replicas' throttles on one Redis count one email's failures together.
    #[tokio::test]
    async fn replicas_count_together() {
        let Some(host) = server().await else { return };
        let prefix = prefix();
        let (a, b) = (throttle(&host, &prefix), throttle(&host, &prefix));
        use shop_auth::LoginThrottle as _;
        a.admit(&k(&["email:x"])).await.unwrap();
        b.admit(&k(&["email:x"])).await.unwrap();
        a.admit(&k(&["email:x"])).await.unwrap();
        assert!(matches!(
            b.admit(&k(&["email:x"])).await.unwrap(),
            shop_auth::Admission::Refused { .. }
        ));
    }

    async fn service(
        throttle: RedisThrottle,
        fallback_limit: usize,
    ) -> (AuthService, &'static str) {
        let store = Arc::new(MemoryStore::new());
        let auth = AuthService::new(
            store.clone(),
            store,
            // Cheap hashing: these tests are about counting, not hashing.
            Passwords::new(PasswordParams {
                memory_kib: 64,
                iterations: 1,
                parallelism: 1,
            })
            .unwrap(),
            Arc::new(AccessTokens::new(
                KeySet::hs256("k", &[7; 32]).unwrap(),
                TokenPolicy::default(),
            )),
            Arc::new(throttle),
        )
        .with_login_limits({
            let mut config = LoginLimits::default();
            config.per_email = fallback_limit;
            config.per_client = 20;
            config
        })
        .with_fallback_throttle(MemoryThrottle::new(Duration::from_secs(900)));
        auth.register(&RegisterInput {
            email: "ann@example.com".into(),
            password: "correct horse battery".into(),
            display_name: "Ann".into(),
        })
        .await
        .unwrap();
        (auth, "ann@example.com")
    }

    /// Redis unreachable from the start: logins work, are counted per process, and every
    /// attempt is reported as a failover; none waits longer than the Redis timeout.
    #[tokio::test]
    async fn unreachable_redis_fails_over_to_the_per_process_throttle() {
        let dead = throttle("127.0.0.1:1", &prefix());
        let (auth, email) = service(dead, 2).await;
        let started = Instant::now();
        auth.login(email, "correct horse battery", Some("10.0.0.1"))
            .await
            .unwrap();
        for _ in 0..2 {
            let r = auth.login(email, "wrong", Some("10.0.0.1")).await;
            assert!(matches!(r, Err(AuthError::InvalidCredentials)), "{r:?}");
        }
        let r = auth
            .login(email, "correct horse battery", Some("10.0.0.1"))
            .await;
        assert!(matches!(r, Err(AuthError::Throttled { .. })), "{r:?}");
        assert_eq!(auth.throttle_failovers(), 4);
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "each failover is bounded by the timeout: {:?}",
            started.elapsed()
        );
    }

    /// Redis going away mid-way and coming back: counting moves to the process and back to
    /// the fleet, and logins never fail for it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_redis_outage_and_recovery() {
        let Some(host) = server().await else { return };
        let proxy = TcpProxy::start(host).await;
        let via_proxy = throttle(&format!("127.0.0.1:{}", proxy.port()), &prefix());
        let (auth, email) = service(via_proxy, 5).await;
        auth.login(email, "correct horse battery", None)
            .await
            .unwrap();
        assert_eq!(auth.throttle_failovers(), 0);
        proxy.cut();
        auth.login(email, "correct horse battery", None)
            .await
            .unwrap();
        assert!(auth.throttle_failovers() >= 1, "counted by the fallback");
        proxy.restore();
        let mut back = false;
        for _ in 0..40 {
            let before = auth.throttle_failovers();
            auth.login(email, "correct horse battery", None)
                .await
                .unwrap();
            if auth.throttle_failovers() == before {
                back = true;
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert!(back, "the shared throttle is used again once Redis is back");
    }
}
