//! When a failed call is worth repeating, and how long to wait first.
//!
//! Rules (the SDKs retry nothing by default; these are the safe cases):
//! - `RequestLimitExceeded*`: always; the service refused the request before doing anything.
//! - a connection that failed before the request was sent: always.
//! - `InternalError*`, HTTP-level failures and network errors after sending: only for read-only
//!   actions (`Describe*`, `Get*`, ...) or requests carrying a `ClientToken`, because a
//!   mutating request that may have been applied must not be applied twice.
//!
//! Waits use exponential backoff with full jitter: a uniform random delay between zero and
//! `min(max_delay, base * 2^attempt)`.

use std::time::Duration;

use serde_json::Value;

use super::catalog::is_read_only_name;
use crate::error::Error;

/// How many times to try and how long to wait between tries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Retries after the first attempt (0: never retry).
    pub retries: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            retries: 4,
            base_delay: Duration::from_millis(200),
            max_delay: Duration::from_secs(10),
        }
    }
}

impl RetryPolicy {
    /// The wait before retry number `attempt` (0-based), given a random fraction in [0, 1).
    pub fn delay(&self, attempt: u32, random_fraction: f64) -> Duration {
        let ceiling = self
            .base_delay
            .saturating_mul(2u32.saturating_pow(attempt.min(20)))
            .min(self.max_delay);
        ceiling.mul_f64(random_fraction.clamp(0.0, 1.0))
    }
}

/// Why a call is retried, for the debug log; `None` means do not retry.
pub fn reason_to_retry(action: &str, params: &Value, error: &Error) -> Option<&'static str> {
    let idempotent = is_read_only_name(action) || params.get("ClientToken").is_some();
    match error {
        Error::Api { code, .. } if code.starts_with("RequestLimitExceeded") => {
            Some("rate limited by the service")
        }
        Error::Api { code, .. } if code.starts_with("InternalError") && idempotent => {
            Some("internal error")
        }
        Error::Transport { not_sent: true, .. } => {
            Some("connection failed before the request was sent")
        }
        Error::Transport { .. } if idempotent => Some("network error"),
        Error::BadResponse { .. } if idempotent => Some("unexpected HTTP response"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn api(code: &str) -> Error {
        Error::Api {
            action: "X".into(),
            code: code.into(),
            message: String::new(),
            request_id: String::new(),
            region: String::new(),
        }
    }

    fn transport(not_sent: bool) -> Error {
        Error::Transport {
            action: "X".into(),
            endpoint: "h".into(),
            detail: String::new(),
            not_sent,
            timed_out: false,
        }
    }

    #[test]
    fn which_failures_are_retried() {
        let none = json!({});
        let token = json!({"ClientToken": "abc"});
        let cases = [
            ("DescribeImages", &none, api("RequestLimitExceeded"), true),
            (
                "DeleteImage",
                &none,
                api("RequestLimitExceeded.UinLimitExceeded"),
                true,
            ),
            ("DescribeImages", &none, api("InternalError"), true),
            ("DeleteImage", &none, api("InternalError"), false),
            ("DeleteImage", &token, api("InternalError"), true),
            ("DescribeImages", &none, api("ResourceNotFound"), false),
            (
                "DescribeImages",
                &none,
                api("AuthFailure.SignatureFailure"),
                false,
            ),
            ("DeleteImage", &none, transport(true), true),
            ("DeleteImage", &none, transport(false), false),
            ("DescribeImages", &none, transport(false), true),
        ];
        for (action, params, error, retried) in cases {
            assert_eq!(
                reason_to_retry(action, params, &error).is_some(),
                retried,
                "{action} {error}"
            );
        }
    }

    #[test]
    fn backoff_grows_exponentially_with_full_jitter_and_a_cap() {
        let p = RetryPolicy {
            retries: 5,
            base_delay: Duration::from_millis(100),
            max_delay: Duration::from_secs(1),
        };
        assert_eq!(p.delay(0, 1.0), Duration::from_millis(100));
        assert_eq!(p.delay(3, 1.0), Duration::from_millis(800));
        assert_eq!(p.delay(10, 1.0), Duration::from_secs(1));
        assert_eq!(p.delay(3, 0.0), Duration::ZERO);
        assert_eq!(p.delay(3, 0.5), Duration::from_millis(400));
    }
}
