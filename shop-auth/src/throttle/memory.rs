//! An in-process [`LoginThrottle`]: a sliding window of attempt times per key.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use async_trait::async_trait;
use parking_lot::Mutex;

use super::{Admission, AttemptId, LoginThrottle, ThrottleKey, ThrottleUnavailable};

/// Per-process throttle: counts are per replica. Use `RedisThrottle` to share them.
#[derive(Debug)]
pub struct MemoryThrottle {
    window: Duration,
    attempts: Mutex<HashMap<String, VecDeque<(Instant, AttemptId)>>>,
}

/// Keys tracked before a sweep drops the ones with nothing left in the window.
const SWEEP_AT: usize = 10_000;

impl MemoryThrottle {
    /// Counts attempts within a sliding `window`.
    #[must_use]
    pub fn new(window: Duration) -> Self {
        Self {
            window,
            attempts: Mutex::new(HashMap::new()),
        }
    }

    /// [`LoginThrottle::admit`] at a given instant (tests drive the clock through this).
    pub fn admit_at(&self, keys: &[ThrottleKey<'_>], now: Instant) -> Admission {
        let mut map = self.attempts.lock();
        if map.len() >= SWEEP_AT {
            map.retain(|_, times| {
                times
                    .back()
                    .is_some_and(|(t, _)| now.saturating_duration_since(*t) < self.window)
            });
        }
        let mut wait = Duration::ZERO;
        for ThrottleKey { key, limit } in keys {
            if let Some(times) = map.get_mut(*key) {
                while times
                    .front()
                    .is_some_and(|(t, _)| now.saturating_duration_since(*t) >= self.window)
                {
                    times.pop_front();
                }
                if times.len() >= (*limit).max(1)
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
        for ThrottleKey { key, .. } in keys {
            map.entry((*key).to_owned())
                .or_default()
                .push_back((now, attempt.clone()));
        }
        Admission::Admitted(attempt)
    }
}

impl Default for MemoryThrottle {
    /// A 15-minute window.
    fn default() -> Self {
        Self::new(Duration::from_secs(15 * 60))
    }
}

#[async_trait]
impl LoginThrottle for MemoryThrottle {
    async fn admit(&self, keys: &[ThrottleKey<'_>]) -> Result<Admission, ThrottleUnavailable> {
        Ok(self.admit_at(keys, Instant::now()))
    }

    async fn uncount(
        &self,
        attempt: &AttemptId,
        keys: &[&str],
        forget: Option<&str>,
    ) -> Result<(), ThrottleUnavailable> {
        let mut map = self.attempts.lock();
        for key in keys {
            if let Some(times) = map.get_mut(*key) {
                times.retain(|(_, id)| id != attempt);
            }
        }
        if let Some(forget) = forget {
            map.remove(forget);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn admitted(a: &Admission) -> bool {
        matches!(a, Admission::Admitted(_))
    }

    fn keys<'a>(names: &[&'a str], limit: usize) -> Vec<ThrottleKey<'a>> {
        names.iter().map(|key| ThrottleKey { key, limit }).collect()
    }

    #[test]
    fn refuses_at_the_limit_until_the_oldest_failure_leaves_the_window() {
        let t = MemoryThrottle::new(Duration::from_secs(60));
        let t0 = Instant::now();
        let at = |s| t0 + Duration::from_secs(s);
        for i in 0..3 {
            assert!(
                admitted(&t.admit_at(&keys(&["email:a", "ip:1"], 3), at(i))),
                "attempt {i}"
            );
        }
        assert_eq!(
            t.admit_at(&keys(&["email:a"], 3), at(10)),
            Admission::Refused {
                retry_after: Duration::from_secs(50)
            }
        );
        assert!(
            !admitted(&t.admit_at(&keys(&["ip:1"], 3), at(10))),
            "per address too"
        );
        assert!(
            admitted(&t.admit_at(&keys(&["ip:1"], 10), at(10))),
            "limits are per key and per call"
        );
        assert!(admitted(&t.admit_at(&keys(&["email:b"], 3), at(10))));
        assert!(admitted(&t.admit_at(&keys(&["email:a"], 3), at(61))));
    }

    #[test]
    fn a_refused_attempt_is_not_counted() {
        let t = MemoryThrottle::new(Duration::from_secs(60));
        let t0 = Instant::now();
        assert!(admitted(&t.admit_at(&keys(&["k"], 1), t0)));
        for s in 1..30 {
            assert!(!admitted(
                &t.admit_at(&keys(&["k"], 1), t0 + Duration::from_secs(s))
            ));
        }
        assert!(
            admitted(&t.admit_at(&keys(&["k"], 1), t0 + Duration::from_secs(60))),
            "refusals did not extend the window"
        );
    }
}
