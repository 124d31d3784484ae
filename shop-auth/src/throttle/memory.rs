//! An in-process [`LoginThrottle`]: a sliding window of attempt times per key.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;

use super::{Admission, AttemptId, LoginThrottle, ThrottleUnavailable};

/// Per-process throttle: limits are per replica. Use `RedisThrottle` to share them.
#[derive(Debug)]
pub struct MemoryThrottle {
    max_failures: usize,
    window: Duration,
    attempts: Mutex<HashMap<String, VecDeque<(Instant, AttemptId)>>>,
}

/// Keys tracked before a sweep drops the ones with nothing left in the window.
const SWEEP_AT: usize = 10_000;

impl MemoryThrottle {
    /// Refuses after `max_failures` failures within `window`.
    #[must_use]
    pub fn new(max_failures: usize, window: Duration) -> Self {
        Self {
            max_failures: max_failures.max(1),
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// The limit and window this throttle applies.
    #[must_use]
    pub fn limits(&self) -> (usize, Duration) {
        (self.max_failures, self.window)
    }

    /// [`LoginThrottle::admit`] at a given instant (tests drive the clock through this).
    pub fn admit_at(&self, keys: &[&str], now: Instant) -> Admission {
        let mut map = self.attempts.lock();
        if map.len() >= SWEEP_AT {
            map.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|(t, _)| now.saturating_duration_since(*t) < self.window)
            });
        }
        let mut wait = Duration::ZERO;
        for key in keys {
            if let Some(times) = map.get_mut(*key) {
                while times
                    .front()
                    .is_some_and(|(t, _)| now.saturating_duration_since(*t) >= self.window)
                {
                    times.pop_front();
                }
                if times.len() >= self.max_failures
                    && let Some((oldest, _)) = times.front()
                {
                    wait = wait.max((*oldest + self.window).saturating_duration_since(now));
                }
            }
        }
        if !wait.is_zero() {
            return Admission::Refused {
                retry_after: wait.max(Duration::from_secs(1)),
            };
        }
        let attempt = AttemptId::generate();
        for key in keys {
            map.entry((*key).to_owned())
                .or_default()
                .push_back((now, attempt.clone()));
        }
        Admission::Admitted(attempt)
    }
}

impl Default for MemoryThrottle {
    /// 5 failures per 15 minutes.
    fn default() -> Self {
        Self::new(5, Duration::from_secs(15 * 60))
    }
}

#[async_trait]
impl LoginThrottle for MemoryThrottle {
    async fn admit(&self, keys: &[&str]) -> Result<Admission, ThrottleUnavailable> {
        Ok(self.admit_at(keys, Instant::now()))
    }

    async fn succeeded(
        &self,
        attempt: &AttemptId,
        keys: &[&str],
        forget: &str,
    ) -> Result<(), ThrottleUnavailable> {
        let mut map = self.attempts.lock();
        for key in keys {
            if let Some(times) = map.get_mut(*key) {
                times.retain(|(_, id)| id != attempt);
            }
        }
        map.remove(forget);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(a: &Admission) -> bool {
        matches!(a, Admission::Admitted(_))
    }

    #[test]
    fn refuses_at_the_limit_until_the_oldest_failure_leaves_the_window() {
        let t = MemoryThrottle::new(3, Duration::from_secs(60));
        let t0 = Instant::now();
        for i in 0..3 {
            assert!(
                admitted(&t.admit_at(&["email:a", "ip:1"], t0 + Duration::from_secs(i))),
                "attempt {i}"
            );
        }
        assert_eq!(
            t.admit_at(&["email:a"], t0 + Duration::from_secs(10)),
            Admission::Refused {
                retry_after: Duration::from_secs(50)
            }
        );
        assert!(
            !admitted(&t.admit_at(&["ip:1"], t0 + Duration::from_secs(10))),
            "per address too"
        );
        assert!(admitted(
            &t.admit_at(&["email:b"], t0 + Duration::from_secs(10))
        ));
        assert!(admitted(
            &t.admit_at(&["email:a"], t0 + Duration::from_secs(61))
        ));
    }

    #[test]
    fn a_refused_attempt_is_not_counted() {
        let t = MemoryThrottle::new(1, Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(admitted(&t.admit_at(&["k"], t0)));
        for s in 1..30 {
            assert!(!admitted(&t.admit_at(&["k"], t0 + Duration::from_secs(s))));
        }
        assert!(
            admitted(&t.admit_at(&["k"], t0 + Duration::from_secs(60))),
            "refusals did not extend the window"
        );
    }
}
