//! Wires stores, auth, events and HTTP together and runs the service until a shutdown signal.

use std::collections::BTreeSet;
use std::sync::Arc;

use shop_auth::{
    AccessTokens, AuthError, AuthService, KeySet, LoginThrottle, MemoryThrottle, PasswordParams,
    Passwords, RedisThrottle, RegisterInput, TokenPolicy,
};
use shop_core::secret::ExposeSecret as _;
use shop_core::{Conflict, Email, ProcessedEventStore, Role, StoreHealth, UserStore};
use shop_events::{EventPublisher, InProcessBus, OutboxRelay, RabbitPublisher, RelayConfig};
use shop_http::{AppState, BuildInfo, router_with, serve};
use tokio::sync::watch;
use tracing::{info, warn};

use crate::config::{AppConfig, Backend, JwtKeys, ThrottleBackend};
use crate::stores::{Failure, close_all, open_all};

fn random_bytes<const N: usize>() -> Result<[u8; N], Failure> {
    let mut buf = [0u8; N];
    getrandom::fill(&mut buf).map_err(|e| format!("no system randomness: {e}"))?;
    Ok(buf)
}

fn random_password() -> Result<String, Failure> {
    const ALPHABET: &[u8] = b"abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    Ok(random_bytes::<20>()?
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

fn key_set(jwt: &JwtKeys) -> Result<KeySet, Failure> {
    Ok(match jwt {
        JwtKeys::Secret(s) => KeySet::hs256("primary", s.expose_secret().as_bytes())?,
        JwtKeys::Ed25519 {
            private_pem,
            public_pem,
        } => KeySet::ed25519_pem("primary", private_pem, public_pem)?,
        JwtKeys::Generated => {
            warn!(
                "JWT_SECRET_KEY is not set: using a random key for this process only. \
                 EVERY TOKEN DIES ON RESTART and replicas cannot verify each other's tokens; \
                 set JWT_SECRET_KEY (32+ bytes) or JWT_PRIVATE_KEY_FILE/JWT_PUBLIC_KEY_FILE"
            );
            KeySet::hs256("generated", &random_bytes::<48>()?)?
        }
    })
}

/// Creates the admin account unless it exists (an existing account is left as it is).
async fn bootstrap_admin(
    auth: &AuthService,
    users: &dyn UserStore,
    config: &AppConfig,
) -> Result<(), Failure> {
    let email = Email::parse(&config.admin_email)?;
    if users.find_user_by_email(&email).await?.is_some() {
        info!("admin account (SHOP_ADMIN_EMAIL) exists; left as is");
        return Ok(());
    }
    let (password, generated) = match &config.admin_password {
        Some(p) => (p.expose_secret().to_owned(), false),
        None => (random_password()?, true),
    };
    let created = auth
        .register_with_roles(
            &RegisterInput {
                email: email.as_str().to_owned(),
                password: password.clone(),
                display_name: "Admin".into(),
            },
            BTreeSet::from([Role::Admin, Role::Customer]),
        )
        .await;
    match created {
        Ok(_) => {}
        // Replicas starting together: another one created it between our look and our write.
        Err(AuthError::Domain(shop_core::Error::Conflict(Conflict::EmailTaken))) => {
            info!("admin account created by another replica; left as is");
            return Ok(());
        }
        Err(e) => return Err(e.into()),
    }
    if generated {
        // Logged once, in the log's own format: the one way to learn a generated password,
        // and the one secret the log ever holds (set SHOP_ADMIN_PASSWORD so that it holds none).
        warn!(
            password = %password,
            "admin account (SHOP_ADMIN_EMAIL) created with this generated password, shown once; \
             set SHOP_ADMIN_PASSWORD to choose it"
        );
    } else {
        info!("admin account (SHOP_ADMIN_EMAIL) created");
    }
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = term => {}
    }
    info!("shutdown signal received");
}

/// The login throttle the configuration names.
fn login_throttle(config: &AppConfig) -> Result<Arc<dyn LoginThrottle>, Failure> {
    let window = config.login_window;
    Ok(match &config.throttle {
        ThrottleBackend::Memory => Arc::new(MemoryThrottle::new(window)),
        ThrottleBackend::Redis(redis) => {
            info!(server = ?redis, "login attempts are counted in Redis, shared by every replica");
            Arc::new(RedisThrottle::new(redis.clone(), window)?)
        }
    })
}

/// A listener on `0.0.0.0:port`, or a failure that says which address, which variable sets
/// it, and what to check.
async fn bind(variable: &str, port: u16) -> Result<tokio::net::TcpListener, Failure> {
    tokio::net::TcpListener::bind(("0.0.0.0", port))
        .await
        .map_err(|e| {
            let hint = match e.kind() {
                std::io::ErrorKind::AddrInUse => {
                    "another process listens there: stop it or choose another port"
                }
                std::io::ErrorKind::PermissionDenied => {
                    "ports below 1024 need privileges: choose a port above 1023"
                }
                _ => "check the port",
            };
            format!("cannot listen on 0.0.0.0:{port} ({variable}): {e}; {hint} with {variable}")
                .into()
        })
}

/// Runs the app until SIGTERM/SIGINT.
pub(crate) async fn run(config: AppConfig) -> Result<(), Failure> {
    let opened = open_all(&config).await?;
    let store_of = |b: Backend| opened[&b].store.clone();
    let commerce = store_of(config.store);
    let users = store_of(config.users_store);
    let reviews = store_of(config.reviews_store);

    let tokens = Arc::new(AccessTokens::new(
        key_set(&config.jwt)?,
        TokenPolicy::default(),
    ));
    let auth = AuthService::new(
        users.clone(),
        users.clone(),
        Passwords::new(PasswordParams::default())?,
        tokens,
        login_throttle(&config)?,
    )
    .with_login_limits(config.login_limits)
    .with_fallback_throttle(MemoryThrottle::new(config.login_window))
    .with_outbox(commerce.clone());
    bootstrap_admin(&auth, users.as_ref(), &config).await?;
    if config.demo_data {
        let root = config.http.root_path.trim_end_matches('/');
        let added = crate::demo::seed(commerce.as_ref(), root).await?;
        if added > 0 {
            info!(added, "demo catalog seeded");
        }
    }

    let mut state = AppState::new(commerce.clone())
        .with_auth(auth)
        .with_reviews(reviews)
        .with_build(BuildInfo::new(
            env!("CARGO_PKG_VERSION"),
            config.revision.clone(),
        ));
    for (name, backend) in [
        ("users", config.users_store),
        ("reviews", config.reviews_store),
    ] {
        if backend != config.store {
            let health: Arc<dyn StoreHealth> = store_of(backend);
            state = state.with_readiness(name, health);
        }
    }

    let publisher: Arc<dyn EventPublisher> = match &config.rabbitmq {
        Some(rabbit) => {
            info!("domain events go to RabbitMQ through the outbox");
            Arc::new(RabbitPublisher::new(rabbit.clone()))
        }
        None => Arc::new(InProcessBus::default()),
    };
    let relay = Arc::new(OutboxRelay::new(
        commerce.clone(),
        publisher,
        RelayConfig::default(),
    ));
    let state = state.with_relay_metrics(relay.metrics());
    let (stop_relay, relay_stopped) = watch::channel(false);
    let notifications = match &config.rabbitmq {
        Some(rabbit) if config.order_notifications => {
            let processed: Arc<dyn ProcessedEventStore> = commerce.clone();
            Some(crate::notifications::spawn(
                rabbit.clone(),
                processed,
                &state.metrics,
                relay_stopped.clone(),
            ))
        }
        _ => None,
    };
    let relay_task = {
        let relay = relay.clone();
        tokio::spawn(async move { relay.run(relay_stopped).await })
    };

    let listener = bind("PORT", config.port).await?;
    let addr = listener.local_addr()?;
    let ops_listener = bind("SHOP_OPS_PORT", config.ops_port).await?;
    info!(
        addr = %ops_listener.local_addr()?,
        "operations listener: /metrics, /health, /ready (keep it private)"
    );
    let root = config.http.root_path.trim_end_matches('/');
    {
        // The line a person starting it by hand wants: where to click, what to try.
        let port = addr.port();
        let home = if root.is_empty() { "/" } else { root };
        info!(
            %addr,
            root_path = root,
            storefront = format!("http://localhost:{port}{home}"),
            admin = format!("http://localhost:{port}{root}/admin"),
            docs = format!("http://localhost:{port}{root}/docs"),
            try_it = format!("curl http://127.0.0.1:{port}{root}/api/products?limit=3"),
            "listening"
        );
    }
    let purging = config.purge_interval.map(|interval| {
        let retention = crate::retention::service(commerce.clone(), users.clone(), &config);
        crate::retention::spawn_periodic(retention, interval, state.metrics.clone())
    });
    let draining = state.draining.clone();
    let (stop_ops, ops_stopped) = tokio::sync::oneshot::channel::<()>();
    let ops_server = tokio::spawn(serve(
        ops_listener,
        shop_http::ops_router(state.clone()),
        &config.http,
        async move {
            let _ = ops_stopped.await;
        },
    ));
    let root: Arc<str> = config.http.root_path.trim_end_matches('/').into();
    // The pages' shell, made once: the pages and the browsers' 404 serve it.
    let shell = crate::web::shell(&root);
    let pages = crate::web::pages(&root, &shell, commerce.clone());
    let app = router_with(state, &config.http, pages).layer(axum::middleware::from_fn(
        move |req, next| crate::web::html_for_browsers(root.clone(), shell.clone(), req, next),
    ));
    let (signalled_tx, signalled_rx) = tokio::sync::oneshot::channel::<()>();
    let delay = config.shutdown_delay;
    // SIGTERM: /ready turns 503 at once, so balancers stop sending new requests; the listener
    // stays open for `delay` (for balancers that only learn it by polling readiness), then
    // closes, and idle connections are closed at once while busy ones finish their request.
    let server = tokio::spawn(serve(listener, app, &config.http, async move {
        shutdown_signal().await;
        draining.start();
        let _ = signalled_tx.send(());
        if !delay.is_zero() {
            info!(
                ?delay,
                "draining: /ready answers 503; still serving until the delay ends"
            );
            tokio::time::sleep(delay).await;
        }
        info!("listener closed; finishing requests in flight");
    }));
    // Requests in flight get the grace period once the listener closes; then we stop anyway.
    let grace = config.shutdown_grace;
    let served = async {
        let _ = signalled_rx.await;
        tokio::time::sleep(delay + grace).await;
    };
    tokio::pin!(served);
    let mut server = server;
    tokio::select! {
        result = &mut server => result??,
        () = &mut served => {
            warn!(?grace, "requests still in flight after the grace period; stopping anyway");
            server.abort();
        }
    }

    // Metrics stay scrapable until the public side has finished.
    let _ = stop_ops.send(());
    let _ = ops_server.await;
    if let Some(purging) = purging {
        purging.abort();
    }
    let _ = stop_relay.send(true);
    let _ = relay_task.await;
    if let Some(notifications) = notifications {
        let _ = notifications.await;
    }
    // One last pass so events committed by the final requests are not left behind.
    if let Err(e) = relay.run_once().await {
        warn!(error = %e, "outbox not fully drained; the next start publishes the rest");
    }
    close_all(opened).await;
    Ok(())
}
