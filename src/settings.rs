//! Resolved settings of a runtime (from flags and environment), and how one call's options
//! (`tcr.call(..., opts)`) are merged over them into a complete [`CallOptions`].

use std::time::Duration;

use crate::api::retry::RetryPolicy;
use crate::api::{CallOptions, HttpMethod};
use crate::error::{Error, Result};
use crate::region::{self, Endpoint, EndpointPolicy};
use crate::sign::SignMethod;

/// Defaults for every call a runtime makes.
#[derive(Debug, Clone)]
pub struct Settings {
    pub region: String,
    pub service: String,
    pub version: String,
    /// Explicit endpoint (`--endpoint`, `TCRL_ENDPOINT`, the emulator); overrides the policy.
    pub endpoint: Option<Endpoint>,
    pub policy: EndpointPolicy,
    pub insecure_http: bool,
    /// Extra CA certificates (PEM) to trust: a private CA, the emulator over HTTPS.
    pub ca_cert: Option<std::path::PathBuf>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub language: Option<String>,
    pub sign_method: SignMethod,
    pub retry: RetryPolicy,
    /// Requests per second per action (0: unlimited), and per-action exceptions.
    pub rate_limit: u32,
    pub action_rate_limits: std::collections::HashMap<String, u32>,
    /// What scripts may touch, and how long and how much memory a run may take.
    pub sandbox: crate::lua::sandbox::Sandbox,
    pub limits: crate::limits::Limits,
    /// Largest response body the client accepts.
    pub max_response_bytes: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            region: region::DEFAULT_REGION.to_string(),
            service: "tcr".to_string(),
            version: "2019-09-24".to_string(),
            endpoint: None,
            policy: EndpointPolicy::default(),
            insecure_http: false,
            ca_cert: None,
            connect_timeout: Duration::from_secs(10),
            request_timeout: Duration::from_secs(60),
            language: None,
            sign_method: SignMethod::Tc3,
            retry: RetryPolicy::default(),
            rate_limit: crate::api::ratelimit::DEFAULT_PER_SECOND,
            action_rate_limits: Default::default(),
            sandbox: Default::default(),
            limits: Default::default(),
            max_response_bytes: 64 * 1024 * 1024,
        }
    }
}

/// Per-call overrides, as given in a script's `opts` table.
#[derive(Debug, Clone, Default)]
pub struct CallOverrides {
    pub region: Option<String>,
    pub service: Option<String>,
    pub version: Option<String>,
    pub endpoint: Option<String>,
    pub timeout: Option<Duration>,
    pub sign_method: Option<SignMethod>,
    pub http_method: Option<HttpMethod>,
    pub language: Option<String>,
    pub retries: Option<u32>,
    pub retry_base: Option<Duration>,
}

impl Settings {
    /// Merge `overrides` over these settings and resolve the endpoint.
    ///
    /// # Errors
    /// Unknown region, bad endpoint, the financial-zone rule, or a sign method that cannot
    /// carry the chosen HTTP method.
    pub fn call_options(&self, overrides: &CallOverrides) -> Result<CallOptions> {
        let region = overrides
            .region
            .clone()
            .unwrap_or_else(|| self.region.clone());
        let service = overrides
            .service
            .clone()
            .unwrap_or_else(|| self.service.clone());
        let version = match (&overrides.version, &overrides.service) {
            (Some(v), _) => v.clone(),
            (None, Some(s)) if *s != self.service => {
                return Err(Error::Config(format!(
                    "service {s} needs a version too (for example version = \"2017-03-12\")"
                )))
            }
            (None, _) => self.version.clone(),
        };
        let explicit = match &overrides.endpoint {
            Some(e) => Some(Endpoint::parse(e, self.insecure_http)?),
            None => self.endpoint.clone(),
        };
        let endpoint = self.policy.resolve(&service, &region, explicit.as_ref())?;
        Ok(CallOptions {
            service,
            version,
            region,
            endpoint,
            timeout: overrides.timeout.unwrap_or(self.request_timeout),
            sign_method: overrides.sign_method.unwrap_or(self.sign_method),
            http_method: overrides.http_method.unwrap_or(HttpMethod::Post),
            language: overrides.language.clone().or_else(|| self.language.clone()),
            retry: RetryPolicy {
                retries: overrides.retries.unwrap_or(self.retry.retries),
                base_delay: overrides.retry_base.unwrap_or(self.retry.base_delay),
                max_delay: self.retry.max_delay,
            },
        })
    }
}

/// `200ms`, `2s`, `1.5s`, `5m`: the shortest exact form for messages.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms % 60_000 == 0 && ms >= 60_000 {
        format!("{}m", ms / 60_000)
    } else if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else if ms < 1000 {
        format!("{ms}ms")
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Parse a duration such as `30s`, `500ms`, `5m`, `2h`, `1d` or a bare number of seconds.
///
/// # Errors
/// A message naming the value.
pub fn parse_duration(text: &str) -> std::result::Result<Duration, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: f64 = number
        .parse()
        .map_err(|_| format!("invalid duration {text:?} (expected e.g. 500ms, 30s, 5m, 2h, 1d)"))?;
    let secs = match unit.trim() {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        "d" => n * 86400.0,
        "w" => n * 7.0 * 86400.0,
        _ => return Err(format!("invalid duration {text:?}: unknown unit {unit:?}")),
    };
    if !secs.is_finite() || secs < 0.0 {
        return Err(format!("invalid duration {text:?}"));
    }
    Ok(Duration::from_secs_f64(secs))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_merge_over_defaults() {
        let s = Settings::default();
        let o = s.call_options(&CallOverrides::default()).unwrap();
        assert_eq!(
            (o.service.as_str(), o.version.as_str()),
            ("tcr", "2019-09-24")
        );
        assert_eq!(o.endpoint.host, "tcr.intl.tencentcloudapi.com");
        let cvm = s
            .call_options(&CallOverrides {
                service: Some("cvm".into()),
                version: Some("2017-03-12".into()),
                region: Some("ap-tokyo".into()),
                ..Default::default()
            })
            .unwrap();
        assert_eq!(cvm.endpoint.host, "cvm.intl.tencentcloudapi.com");
        assert_eq!(cvm.region, "ap-tokyo");
    }

    #[test]
    fn another_service_without_a_version_is_an_error() {
        let err = Settings::default()
            .call_options(&CallOverrides {
                service: Some("cvm".into()),
                ..Default::default()
            })
            .unwrap_err();
        assert!(err.to_string().contains("needs a version"), "{err}");
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert_eq!(parse_duration("2m").unwrap(), Duration::from_secs(120));
        assert_eq!(parse_duration("3").unwrap(), Duration::from_secs(3));
        assert!(parse_duration("abc").is_err());
        assert!(parse_duration("5y").is_err());
    }
}
