//! Client-side rate limiting: one limiter per service and action, shared by every task of the
//! process, so `tcr.map` with high concurrency never provokes throttling by itself.
//!
//! Requests are spaced evenly (a GCRA limiter with no burst, from the `governor` crate): at
//! 20 requests per second, one every 50 ms, which also keeps any one-second window of the
//! service's own counter at or under the limit.

use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

/// TCR's documented default limit for its common actions: 20 requests per second.
pub const DEFAULT_PER_SECOND: u32 = 20;

/// Limits per action and the limiters created so far.
pub struct RateLimits {
    default_per_second: u32,
    per_action: HashMap<String, u32>,
    limiters: Mutex<HashMap<String, Arc<DefaultDirectRateLimiter>>>,
}

impl RateLimits {
    /// `default_per_second` of 0 turns limiting off for actions without their own limit.
    pub fn new(default_per_second: u32, per_action: HashMap<String, u32>) -> Self {
        RateLimits {
            default_per_second,
            per_action,
            limiters: Mutex::new(HashMap::new()),
        }
    }

    /// The limit that applies to `action` (0: none).
    pub fn limit_for(&self, action: &str) -> u32 {
        self.per_action
            .get(action)
            .copied()
            .unwrap_or(self.default_per_second)
    }

    /// Wait until `service`'s `action` may be sent.
    pub async fn wait(&self, service: &str, action: &str) {
        let Some(per_second) = NonZeroU32::new(self.limit_for(action)) else {
            return;
        };
        let limiter = {
            let mut limiters = self.limiters.lock().unwrap_or_else(|e| e.into_inner());
            limiters
                .entry(format!("{service}:{action}"))
                .or_insert_with(|| {
                    let quota = Quota::per_second(per_second).allow_burst(NonZeroU32::MIN);
                    Arc::new(RateLimiter::direct(quota))
                })
                .clone()
        };
        limiter.until_ready().await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_action_limits_override_the_default() {
        let limits = RateLimits::new(
            20,
            [("DescribeImages".to_string(), 50)].into_iter().collect(),
        );
        assert_eq!(limits.limit_for("DescribeImages"), 50);
        assert_eq!(limits.limit_for("DeleteImage"), 20);
        assert_eq!(RateLimits::new(0, HashMap::new()).limit_for("X"), 0);
    }

    #[tokio::test]
    async fn requests_are_spaced_evenly() {
        let limits = RateLimits::new(50, HashMap::new());
        let started = std::time::Instant::now();
        for _ in 0..6 {
            limits.wait("tcr", "DescribeImages").await;
        }
        // Six requests at 50/s: the first at once, five more 20 ms apart.
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(95),
            "{:?}",
            started.elapsed()
        );
    }
}
