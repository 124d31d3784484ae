//! A [`LoginThrottle`] in Redis, shared by every replica: one sorted set per key (members are
//! attempt IDs, scores their times), changed only by Lua scripts, so each call is one atomic
//! round trip and the clock is Redis's own (replicas' clocks may disagree).

use std::fmt;
use std::time::Duration;

use async_trait::async_trait;
use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Client, Script};
use sha2::{Digest, Sha256};
use shop_core::config::ConfigError;
use shop_core::secret::{ExposeSecret, SecretString, redact_url};

use super::{Admission, AttemptId, LoginThrottle, ThrottleKey, ThrottleUnavailable};

/// Checks every key and, when none is at its limit, counts the attempt against all of them.
/// `KEYS`: the sets. `ARGV`: window in ms, attempt ID, then each key's limit in order.
/// Returns 0 when admitted, else the milliseconds until the oldest attempt of the key that
/// frees last leaves the window.
const ADMIT: &str = r"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local window = tonumber(ARGV[1])
local wait = 0
for i, key in ipairs(KEYS) do
  redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
  if redis.call('ZCARD', key) >= tonumber(ARGV[2 + i]) then
    local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    local free_in = tonumber(oldest[2]) + window - now
    if free_in > wait then wait = free_in end
  end
end
if wait > 0 then return wait end
for _, key in ipairs(KEYS) do
  redis.call('ZADD', key, now, ARGV[2])
  redis.call('PEXPIRE', key, window)
end
return 0
";

/// Uncounts one attempt from the first `ARGV[2]` keys, and deletes any keys after them.
/// `KEYS`: the sets, then the sets to forget. `ARGV`: attempt ID, how many sets to uncount from.
const UNCOUNT: &str = r"
local counted = tonumber(ARGV[2])
for i = 1, #KEYS do
  if i <= counted then
    redis.call('ZREM', KEYS[i], ARGV[1])
  else
    redis.call('DEL', KEYS[i])
  end
end
return 0
";

/// How to reach Redis. `Debug` never shows the password.
///
/// | variable | meaning | default |
/// |---|---|---|
/// | `REDIS_URL` | `redis://[user:password@]host:port[/db]` (or `rediss://`) | `redis://127.0.0.1:6379` |
/// | `REDIS_KEY_PREFIX` | prepended to every key (several apps, or tests, on one Redis) | `shop:` |
/// | `REDIS_TIMEOUT_MS` | longest wait to connect or for an answer | `250` |
#[derive(Clone)]
#[non_exhaustive]
pub struct RedisThrottleConfig {
    /// Redis URL (may hold credentials).
    pub url: SecretString,
    /// Prefix of every key.
    pub key_prefix: String,
    /// Longest wait to connect or for an answer before the throttle counts as unavailable.
    pub timeout: Duration,
}

impl Default for RedisThrottleConfig {
    fn default() -> Self {
        Self {
            url: SecretString::from("redis://127.0.0.1:6379"),
            key_prefix: "shop:".into(),
            timeout: Duration::from_millis(250),
        }
    }
}

impl fmt::Debug for RedisThrottleConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisThrottleConfig")
            .field("url", &redact_url(self.url.expose_secret()))
            .field("key_prefix", &self.key_prefix)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl RedisThrottleConfig {
    /// Reads the variables in the table above.
    ///
    /// # Errors
    /// A [`ConfigError`] naming a malformed variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        let var = |name| {
            std::env::var(name)
                .ok()
                .filter(|v: &String| !v.trim().is_empty())
        };
        let mut c = Self::default();
        if let Some(url) = var("REDIS_URL") {
            if !(url.starts_with("redis://") || url.starts_with("rediss://")) {
                return Err(ConfigError::new(
                    "REDIS_URL",
                    "must start with redis:// or rediss://",
                ));
            }
            c.url = SecretString::from(url);
        }
        if let Some(prefix) = var("REDIS_KEY_PREFIX") {
            c.key_prefix = prefix;
        }
        if let Some(ms) = var("REDIS_TIMEOUT_MS") {
            let ms: u64 = ms.trim().parse().map_err(|_| {
                ConfigError::new("REDIS_TIMEOUT_MS", "must be a whole number of milliseconds")
            })?;
            c.timeout = Duration::from_millis(ms.max(1));
        }
        Ok(c)
    }
}

/// A throttle every replica shares: a sorted set of attempts per key, changed only by Lua
/// scripts, so each call is one atomic round trip on Redis's own clock (see [`crate::throttle`]).
pub struct RedisThrottle {
    connection: ConnectionManager,
    config: RedisThrottleConfig,
    window: Duration,
    admit: Script,
    uncount: Script,
}

impl fmt::Debug for RedisThrottle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisThrottle")
            .field("config", &self.config)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::error::Error + Send + Sync + 'static) -> ThrottleUnavailable {
    ThrottleUnavailable(Box::new(e))
}

impl RedisThrottle {
    /// A throttle counting attempts within a sliding `window`. Connects lazily
    /// (and reconnects after failures), so Redis need not be up when the app starts; must be
    /// called inside a Tokio runtime.
    ///
    /// # Errors
    /// A malformed URL.
    pub fn new(config: RedisThrottleConfig, window: Duration) -> Result<Self, ThrottleUnavailable> {
        let client = Client::open(config.url.expose_secret()).map_err(unavailable)?;
        let manager = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(config.timeout))
            .set_response_timeout(Some(config.timeout))
            // Fail this call fast; the next one tries to reconnect again.
            .set_number_of_retries(1);
        let connection =
            ConnectionManager::new_lazy_with_config(client, manager).map_err(unavailable)?;
        Ok(Self {
            connection,
            config,
            window,
            admit: Script::new(ADMIT),
            uncount: Script::new(UNCOUNT),
        })
    }

    /// The Redis key of a throttle key: hashed, so no email address is stored in Redis, and
    /// under one hash tag, so a script's keys share a slot on a Redis Cluster.
    fn redis_key(&self, key: &str) -> String {
        let digest = Sha256::digest(key.as_bytes());
        let hashed = hex::encode(&digest[..16]);
        format!("{}{{login-throttle}}:{hashed}", self.config.key_prefix)
    }
}

#[async_trait]
impl LoginThrottle for RedisThrottle {
    async fn admit(&self, keys: &[ThrottleKey<'_>]) -> Result<Admission, ThrottleUnavailable> {
        let attempt = AttemptId::generate();
        let mut call = self.admit.prepare_invoke();
        let window_ms = u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX);
        call.arg(window_ms).arg(attempt.as_str());
        for ThrottleKey { key, limit } in keys {
            call.key(self.redis_key(key)).arg((*limit).max(1));
        }
        let wait_ms: u64 = call
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        Ok(if wait_ms == 0 {
            Admission::Admitted(attempt)
        } else {
            Admission::Refused {
                retry_after: Duration::from_millis(wait_ms).max(Duration::from_secs(1)),
            }
        })
    }

    async fn uncount(
        &self,
        attempt: &AttemptId,
        keys: &[&str],
        forget: Option<&str>,
    ) -> Result<(), ThrottleUnavailable> {
        let mut call = self.uncount.prepare_invoke();
        for key in keys.iter().chain(forget.as_ref()) {
            call.key(self.redis_key(key));
        }
        call.arg(attempt.as_str()).arg(keys.len());
        let _: i64 = call
            .invoke_async(&mut self.connection.clone())
            .await
            .map_err(unavailable)?;
        Ok(())
    }
}
