//! Test support (feature `conformance`). Throwaway databases: each call creates a uniquely
//! named database on the configured server and drops it when the returned guard is dropped,
//! so tests run in parallel without sharing state. [`TcpProxy`]: a cuttable link to a real
//! service, for outage tests.
//!
//! Servers come from `MYSQL_URL` (default `mysql://root@127.0.0.1:3306/test`) and
//! `MONGODB_URI`. When one cannot be reached the helpers return `None` after printing why —
//! unless `CI=true`, where they panic: in CI an unreachable service is a failure, never a
//! silent skip.

#![allow(clippy::print_stderr, clippy::unwrap_used)] // test support: panics are reports

/// Whether unreachable services must fail the run (`CI=true`).
#[must_use]
pub fn services_required() -> bool {
    std::env::var("CI").as_deref() == Ok("true")
}

#[cfg_attr(
    not(any(feature = "mysql", feature = "mongodb", feature = "postgres")),
    allow(dead_code)
)]
fn skip<T>(what: &str, why: &str) -> Option<T> {
    assert!(
        !services_required(),
        "{what} is required under CI=true but unreachable: {why}"
    );
    eprintln!("skipping: {what} unreachable ({why}); scripts/test starts or finds it");
    None
}

#[cfg_attr(
    not(any(feature = "mysql", feature = "mongodb", feature = "postgres")),
    allow(dead_code)
)]
fn unique_name() -> String {
    format!(
        "shop_t_{}",
        shop_core::UserId::generate().as_uuid().simple()
    )
}

/// Runs `f` on a fresh current-thread runtime in a helper thread: drop guards run inside the
/// test's runtime, which may be single-threaded and is blocked while we wait.
#[cfg_attr(
    not(any(feature = "mysql", feature = "mongodb", feature = "postgres")),
    allow(dead_code)
)]
fn block_on_side<F: Future<Output = ()> + Send + 'static>(f: impl FnOnce() -> F + Send + 'static) {
    let _ = std::thread::spawn(move || {
        if let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            rt.block_on(f());
        }
    })
    .join();
}

pub use self::proxy::TcpProxy;

mod proxy {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use parking_lot::Mutex;
    use tokio::net::{TcpListener, TcpStream};
    use tokio::task::JoinHandle;

    /// A TCP proxy on a free loopback port that a test can cut and restore, standing between
    /// a client and a real service to stage an outage without touching the service.
    #[derive(Debug)]
    pub struct TcpProxy {
        port: u16,
        open: Arc<AtomicBool>,
        links: Arc<Mutex<Vec<JoinHandle<()>>>>,
        accepting: JoinHandle<()>,
    }

    impl TcpProxy {
        /// Starts forwarding to `upstream` (`host:port`).
        pub async fn start(upstream: String) -> Self {
            let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
            let port = listener.local_addr().unwrap().port();
            let open = Arc::new(AtomicBool::new(true));
            let links: Arc<Mutex<Vec<JoinHandle<()>>>> = Arc::default();
            let (o, l) = (open.clone(), links.clone());
            let accepting = tokio::spawn(async move {
                loop {
                    let Ok((mut inbound, _)) = listener.accept().await else {
                        return;
                    };
                    if !o.load(Ordering::SeqCst) {
                        drop(inbound);
                        continue;
                    }
                    let upstream = upstream.clone();
                    l.lock().push(tokio::spawn(async move {
                        if let Ok(mut outbound) = TcpStream::connect(&upstream).await {
                            let _ =
                                tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                        }
                    }));
                }
            });
            Self {
                port,
                open,
                links,
                accepting,
            }
        }

        /// The loopback port clients connect to.
        #[must_use]
        pub fn port(&self) -> u16 {
            self.port
        }

        /// Drops every open connection and closes new ones at once.
        pub fn cut(&self) {
            self.open.store(false, Ordering::SeqCst);
            for link in self.links.lock().drain(..) {
                link.abort();
            }
        }

        /// Forwards new connections again.
        pub fn restore(&self) {
            self.open.store(true, Ordering::SeqCst);
        }
    }

    impl Drop for TcpProxy {
        fn drop(&mut self) {
            self.accepting.abort();
            self.cut();
        }
    }
}

#[cfg(feature = "mysql")]
pub use self::mysql::{MySqlScratch, mysql};

#[cfg(feature = "mysql")]
mod mysql {
    use std::time::Duration;

    use sqlx::{Connection, Executor, MySqlConnection};

    use crate::config::{ExposeSecret as _, SecretString};
    use crate::mysql::{MySqlConfig, MySqlStore};

    /// The MySQL server tests use.
    fn server_url() -> String {
        std::env::var("MYSQL_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "mysql://root@127.0.0.1:3306/test".to_owned())
    }

    /// A migrated store over its own database, dropped with this value.
    pub struct MySqlScratch {
        /// The store.
        pub store: MySqlStore,
        /// Its database's name.
        pub database: String,
    }

    impl MySqlScratch {
        /// A connection URL to the scratch database (for tests that poke it directly).
        #[must_use]
        pub fn url(&self) -> String {
            url_for(&self.database)
        }
    }

    fn url_for(database: &str) -> String {
        let base = MySqlConfig {
            url: Some(SecretString::from(server_url())),
            ..MySqlConfig::default()
        };
        base.with_database(database)
            .url
            .map(|u| u.expose_secret().to_owned())
            .unwrap_or_default()
    }

    impl Drop for MySqlScratch {
        fn drop(&mut self) {
            let name = self.database.clone();
            super::block_on_side(move || async move {
                if let Ok(mut conn) = MySqlConnection::connect(&server_url()).await {
                    let _ = conn
                        .execute(format!("DROP DATABASE IF EXISTS `{name}`").as_str())
                        .await;
                }
            });
        }
    }

    impl std::fmt::Debug for MySqlScratch {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("MySqlScratch")
                .field("database", &self.database)
                .finish_non_exhaustive()
        }
    }

    /// A fresh, migrated MySQL database with a pool of up to `max_connections`.
    pub async fn mysql(max_connections: u32) -> Option<MySqlScratch> {
        let admin = tokio::time::timeout(
            Duration::from_secs(10),
            MySqlConnection::connect(&server_url()),
        )
        .await;
        let mut admin = match admin {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return super::skip("MySQL/MariaDB", &e.to_string()),
            Err(_) => return super::skip("MySQL/MariaDB", "timed out"),
        };
        let database = super::unique_name();
        admin
            .execute(
                format!("CREATE DATABASE `{database}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
                    .as_str(),
            )
            .await
            .unwrap();
        let config = MySqlConfig {
            url: Some(SecretString::from(url_for(&database))),
            max_connections,
            ..MySqlConfig::default()
        };
        // Built before connecting, so the database is dropped even if what follows panics.
        let store = MySqlStore::connect(&config).await;
        let scratch = MySqlScratch {
            store: store.unwrap(),
            database,
        };
        scratch.store.migrate().await.unwrap();
        Some(scratch)
    }
}

#[cfg(feature = "postgres")]
pub use self::pg::{PgScratch, postgres};

#[cfg(feature = "postgres")]
mod pg {
    use std::time::Duration;

    use sqlx::{Connection, Executor, PgConnection};

    use crate::config::{ExposeSecret as _, SecretString};
    use crate::postgres::{PgConfig, PgStore};

    /// The PostgreSQL server tests use.
    fn server_url() -> String {
        std::env::var("POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .unwrap_or_else(|| "postgres://postgres@127.0.0.1:5432/test".to_owned())
    }

    /// A migrated store over its own database, dropped with this value.
    pub struct PgScratch {
        /// The store.
        pub store: PgStore,
        /// Its database's name.
        pub database: String,
    }

    impl PgScratch {
        /// A connection URL to the scratch database (for tests that poke it directly).
        #[must_use]
        pub fn url(&self) -> String {
            url_for(&self.database)
        }
    }

    fn url_for(database: &str) -> String {
        let base = PgConfig {
            url: Some(SecretString::from(server_url())),
            ..PgConfig::default()
        };
        base.with_database(database)
            .url
            .map(|u| u.expose_secret().to_owned())
            .unwrap_or_default()
    }

    impl Drop for PgScratch {
        fn drop(&mut self) {
            let name = self.database.clone();
            super::block_on_side(move || async move {
                if let Ok(mut conn) = PgConnection::connect(&server_url()).await {
                    // FORCE: a pool the test leaked must not keep the database alive.
                    let _ = conn
                        .execute(
                            format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str(),
                        )
                        .await;
                }
            });
        }
    }

    impl std::fmt::Debug for PgScratch {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("PgScratch")
                .field("database", &self.database)
                .finish_non_exhaustive()
        }
    }

    /// A fresh, migrated PostgreSQL database with a pool of up to `max_connections`.
    pub async fn postgres(max_connections: u32) -> Option<PgScratch> {
        let admin = tokio::time::timeout(
            Duration::from_secs(10),
            PgConnection::connect(&server_url()),
        )
        .await;
        let mut admin = match admin {
            Ok(Ok(conn)) => conn,
            Ok(Err(e)) => return super::skip("PostgreSQL", &e.to_string()),
            Err(_) => return super::skip("PostgreSQL", "timed out"),
        };
        let database = super::unique_name();
        admin
            .execute(format!(r#"CREATE DATABASE "{database}""#).as_str())
            .await
            .unwrap();
        let config = PgConfig {
            url: Some(SecretString::from(url_for(&database))),
            max_connections,
            ..PgConfig::default()
        };
        // Built before connecting, so the database is dropped even if what follows panics.
        let store = PgStore::connect(&config).await;
        let scratch = PgScratch {
            store: store.unwrap(),
            database,
        };
        scratch.store.migrate().await.unwrap();
        Some(scratch)
    }
}

#[cfg(feature = "mongodb")]
pub use self::mongo::{MongoScratch, mongodb};

#[cfg(feature = "mongodb")]
mod mongo {
    use std::time::Duration;

    use crate::config::{ExposeSecret as _, SecretString};
    use crate::mongodb::{MongoConfig, MongoStore};

    /// A store with indexes over its own database, dropped with this value.
    pub struct MongoScratch {
        /// The store.
        pub store: MongoStore,
        config: MongoConfig,
    }

    impl MongoScratch {
        /// The scratch database's name.
        #[must_use]
        pub fn database(&self) -> &str {
            &self.config.database
        }

        /// The server's URI.
        #[must_use]
        pub fn uri(&self) -> &str {
            self.config.uri.expose_secret()
        }
    }

    impl std::fmt::Debug for MongoScratch {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.debug_struct("MongoScratch")
                .field("database", &self.config.database)
                .finish_non_exhaustive()
        }
    }

    impl Drop for MongoScratch {
        fn drop(&mut self) {
            let config = self.config.clone();
            super::block_on_side(move || async move {
                if let Ok(store) = MongoStore::connect(&config).await {
                    let _ = store.drop_database().await;
                    store.close().await;
                }
            });
        }
    }

    /// A fresh database on the server at `MONGODB_URI`, with indexes.
    pub async fn mongodb() -> Option<MongoScratch> {
        let Some(uri) = std::env::var("MONGODB_URI").ok().filter(|u| !u.is_empty()) else {
            return super::skip("MongoDB", "MONGODB_URI is not set");
        };
        let config = MongoConfig {
            uri: SecretString::from(uri),
            database: super::unique_name(),
            timeout: Duration::from_secs(10),
        };
        let store = match MongoStore::connect(&config).await {
            Ok(s) => s,
            Err(e) => return super::skip("MongoDB", &format!("{e:?}")),
        };
        let scratch = MongoScratch { store, config };
        scratch.store.ensure_indexes().await.unwrap();
        Some(scratch)
    }
}
