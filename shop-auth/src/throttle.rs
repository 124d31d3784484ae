//! Login throttling: after too many failures for one key (an email, a client address) within
//! a window, further attempts are refused until the oldest failure leaves the window.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

/// Counts failed logins per key. Implement it over Redis or a database to share limits
/// between instances; [`MemoryThrottle`] keeps them per process.
pub trait LoginThrottle: Send + Sync {
    /// `Err(retry_after)` when any of `keys` has too many recent failures.
    ///
    /// # Errors
    /// How long until the next attempt would be accepted.
    fn check(&self, keys: &[&str], now: Instant) -> Result<(), Duration>;
    /// Records a failure against every key.
    fn record_failure(&self, keys: &[&str], now: Instant);
    /// Forgets a key's failures (after a successful login).
    fn reset(&self, key: &str);
}

/// An in-process [`LoginThrottle`]: a sliding window of failure times per key.
#[derive(Debug)]
pub struct MemoryThrottle {
    max_failures: usize,
    window: Duration,
    failures: Mutex<HashMap<String, VecDeque<Instant>>>,
}

/// Keys tracked before a sweep drops the ones with no failure left in the window.
const SWEEP_AT: usize = 10_000;

impl MemoryThrottle {
    /// Refuses after `max_failures` failures within `window`.
    #[must_use]
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn prune(&self, times: &mut VecDeque<Instant>, now: Instant) {
        while times
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
    }
}

impl Default for MemoryThrottle {
    /// 5 failures per 15 minutes.
    fn default() -> Self {
        Self::new(5, Duration::from_secs(15 * 60))
    }
}

impl LoginThrottle for MemoryThrottle {
    fn check(&self, keys: &[&str], now: Instant) -> Result<(), Duration> {
        let mut map = self.failures.lock();
        let mut wait = Duration::ZERO;
        for key in keys {
            if let Some(times) = map.get_mut(*key) {
                self.prune(times, now);
                if times.len() >= self.max_failures
                    && let Some(oldest) = times.front()
                {
                    let free_at = *oldest + self.window;
                    wait = wait.max(free_at.saturating_duration_since(now));
                }
            }
        }
        if wait.is_zero() {
            Ok(())
        } else {
            Err(wait.max(Duration::from_secs(1)))
        }
    }

    fn record_failure(&self, keys: &[&str], now: Instant) {
        let mut map = self.failures.lock();
        if map.len() >= SWEEP_AT {
            map.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|t| now.saturating_duration_since(*t) < self.window)
            });
        }
        for key in keys {
            let times = map.entry((*key).to_owned()).or_default();
            self.prune(times, now);
            times.push_back(now);
            // Never keep more than needed to decide.
            while times.len() > self.max_failures {
                times.pop_front();
            }
        }
    }

    fn reset(&self, key: &str) {
        self.failures.lock().remove(key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_after_the_limit_until_the_window_passes() {
        let t = MemoryThrottle::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(t.check(&["email:a"], t0).is_ok(), "attempt {i}");
            t.record_failure(&["email:a", "ip:1"], t0 + Duration::from_secs(i));
        }
        let wait = t
            .check(&["email:a"], t0 + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        assert!(
            t.check(&["ip:1"], t0 + Duration::from_secs(10)).is_err(),
            "per IP too"
        );
        assert!(t.check(&["email:b"], t0 + Duration::from_secs(10)).is_ok());
        assert!(t.check(&["email:a"], t0 + Duration::from_secs(61)).is_ok());
    }

    #[test]
    fn reset_forgets() {
        let t = MemoryThrottle::new(1, Duration::from_secs(60));
        let now = Instant::now();
        t.record_failure(&["k"], now);
        assert!(t.check(&["k"], now).is_err());
        t.reset("k");
        assert!(t.check(&["k"], now).is_ok());
    }
}
