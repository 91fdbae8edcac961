//! The region table and endpoint resolution.
//!
//! Follows the TCR API documentation: calls go to the nearest-access host
//! (`tcr.intl.tencentcloudapi.com` by default, `tcr.tencentcloudapi.com` with
//! `--root-domain tencentcloudapi.com`) unless a regional host is asked for; a financial-zone
//! region must use its own financial domain and never the nearest-access one. An explicit
//! endpoint (private network, custom domain, the emulator) overrides all of this.

use crate::error::{DidYouMean, Error, Result};

/// One row of the region table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Region {
    pub name: &'static str,
    pub display_name: &'static str,
    pub financial: bool,
}

/// Every public and financial region TCR documents.
pub const REGIONS: &[Region] = &[
    region("ap-guangzhou", "South China (Guangzhou)"),
    region("ap-shanghai", "East China (Shanghai)"),
    region("ap-nanjing", "East China (Nanjing)"),
    region("ap-beijing", "North China (Beijing)"),
    region("ap-chengdu", "Southwest China (Chengdu)"),
    region("ap-chongqing", "Southwest China (Chongqing)"),
    region(
        "ap-hongkong",
        "Hong Kong, Macau and Taiwan (China) (Hong Kong, China)",
    ),
    region("ap-singapore", "Southeast Asia (Singapore)"),
    region("ap-jakarta", "Southeast Asia (Jakarta)"),
    region("ap-bangkok", "Southeast Asia (Bangkok)"),
    region("ap-seoul", "Northeast Asia (Seoul)"),
    region("ap-tokyo", "Northeast Asia (Tokyo)"),
    region("na-ashburn", "US East (Virginia)"),
    region("na-siliconvalley", "US West (Silicon Valley)"),
    region("sa-saopaulo", "South America (São Paulo)"),
    region("eu-frankfurt", "Europe (Frankfurt)"),
    financial("ap-shanghai-fsi", "East China (Shanghai Finance)"),
    financial("ap-shenzhen-fsi", "South China (Shenzhen Finance)"),
];

const fn region(name: &'static str, display_name: &'static str) -> Region {
    Region {
        name,
        display_name,
        financial: false,
    }
}

const fn financial(name: &'static str, display_name: &'static str) -> Region {
    Region {
        name,
        display_name,
        financial: true,
    }
}

/// The default root domain: the international site's nearest-access domain.
pub const DEFAULT_ROOT_DOMAIN: &str = "intl.tencentcloudapi.com";

/// The region used when none is configured anywhere.
pub const DEFAULT_REGION: &str = "ap-guangzhou";

/// Look a region up by name.
///
/// # Errors
/// `UnknownRegion` with the closest known names.
pub fn lookup(name: &str) -> Result<&'static Region> {
    REGIONS
        .iter()
        .find(|r| r.name == name)
        .ok_or_else(|| Error::UnknownRegion {
            region: name.to_string(),
            hint: DidYouMean::among(name, REGIONS.iter().map(|r| r.name)),
        })
}

/// Where requests go: scheme and `host[:port]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    pub scheme: Scheme,
    /// `host` or `host:port`, sent as the `Host` header and signed.
    pub host: String,
}

/// HTTP or HTTPS.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scheme {
    Http,
    Https,
}

impl Endpoint {
    /// The URL of the API root, e.g. `https://tcr.tencentcloudapi.com/`.
    pub fn url(&self) -> String {
        let scheme = match self.scheme {
            Scheme::Http => "http",
            Scheme::Https => "https",
        };
        format!("{scheme}://{}/", self.host)
    }

    /// The host name without a port.
    pub fn host_name(&self) -> &str {
        host_without_port(&self.host)
    }

    /// Parse an `--endpoint` value: `HOST[:PORT]`, optionally with `http://` or `https://`.
    ///
    /// Plain HTTP is accepted for loopback hosts only, unless `insecure_http` is set, because
    /// the Authorization header and session token would otherwise cross the network in clear.
    ///
    /// # Errors
    /// `Config` naming the value and what is wrong with it.
    pub fn parse(value: &str, insecure_http: bool) -> Result<Self> {
        let (scheme, rest) = if let Some(rest) = value.strip_prefix("https://") {
            (Scheme::Https, rest)
        } else if let Some(rest) = value.strip_prefix("http://") {
            (Scheme::Http, rest)
        } else if value.contains("://") {
            return Err(Error::Config(format!(
                "endpoint {value:?}: only http:// and https:// are supported"
            )));
        } else {
            (Scheme::Https, value)
        };
        let host = rest.trim_end_matches('/');
        if host.is_empty() || host.contains('/') || host.contains(char::is_whitespace) {
            return Err(Error::Config(format!(
                "endpoint {value:?}: expected HOST[:PORT] with an optional http:// or https://"
            )));
        }
        if scheme == Scheme::Http && !is_loopback(host_without_port(host)) && !insecure_http {
            return Err(Error::Config(format!(
                "endpoint {value:?}: plain http is only allowed for loopback addresses; \
                 pass --insecure-http to send signed requests unencrypted to this host"
            )));
        }
        Ok(Endpoint {
            scheme,
            host: host.to_string(),
        })
    }
}

fn host_without_port(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    match host.rsplit_once(':') {
        Some((h, port)) if port.bytes().all(|b| b.is_ascii_digit()) => h,
        _ => host,
    }
}

/// True for `localhost`, 127.0.0.0/8 and `::1`.
pub fn is_loopback(host: &str) -> bool {
    if host.eq_ignore_ascii_case("localhost") {
        return true;
    }
    host.parse::<std::net::IpAddr>()
        .map(|ip| ip.is_loopback())
        .unwrap_or(false)
}

/// How to pick a host when no endpoint is given.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EndpointPolicy {
    /// Root domain; `intl.tencentcloudapi.com` (international site) by default.
    pub root_domain: String,
    /// Use `service.region.domain` instead of the nearest-access host.
    pub regional: bool,
}

impl Default for EndpointPolicy {
    fn default() -> Self {
        EndpointPolicy {
            root_domain: DEFAULT_ROOT_DOMAIN.to_string(),
            regional: false,
        }
    }
}

impl EndpointPolicy {
    /// The nearest-access host for a service, e.g. `tcr.intl.tencentcloudapi.com`.
    pub fn nearest_host(&self, service: &str) -> String {
        format!("{service}.{}", self.root_domain)
    }

    /// The regional host, e.g. `tcr.ap-guangzhou.tencentcloudapi.com`. Regional hosts are the
    /// same on both sites, so a leading `intl.` of the root domain is dropped.
    pub fn regional_host(&self, service: &str, region: &str) -> String {
        let root = self
            .root_domain
            .strip_prefix("intl.")
            .unwrap_or(&self.root_domain);
        format!("{service}.{region}.{root}")
    }

    /// The endpoint for a call, applying the financial-zone rule.
    ///
    /// # Errors
    /// `UnknownRegion`, or `Config` when a financial region would be sent to an endpoint that
    /// is not that region's financial domain.
    pub fn resolve(
        &self,
        service: &str,
        region: &str,
        explicit: Option<&Endpoint>,
    ) -> Result<Endpoint> {
        let known = lookup(region)?;
        if let Some(endpoint) = explicit {
            if known.financial && !endpoint.host_name().contains(known.name) {
                return Err(Error::Config(format!(
                    "region {region} is a financial zone and must use its own domain \
                     ({}), not {}",
                    self.regional_host(service, region),
                    endpoint.host
                )));
            }
            return Ok(endpoint.clone());
        }
        let host = if known.financial || self.regional {
            self.regional_host(service, region)
        } else {
            self.nearest_host(service)
        };
        Ok(Endpoint {
            scheme: Scheme::Https,
            host,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_has_sixteen_public_and_two_financial_regions() {
        assert_eq!(REGIONS.iter().filter(|r| !r.financial).count(), 16);
        assert_eq!(REGIONS.iter().filter(|r| r.financial).count(), 2);
        assert_eq!(
            lookup("ap-guangzhou").unwrap().display_name,
            "South China (Guangzhou)"
        );
    }

    #[test]
    fn default_is_the_nearest_access_host() {
        let p = EndpointPolicy::default();
        let e = p.resolve("tcr", "ap-tokyo", None).unwrap();
        assert_eq!(e.url(), "https://tcr.intl.tencentcloudapi.com/");
        let china = EndpointPolicy {
            root_domain: "tencentcloudapi.com".into(),
            regional: false,
        };
        assert_eq!(
            china.resolve("tcr", "ap-tokyo", None).unwrap().host,
            "tcr.tencentcloudapi.com"
        );
    }

    #[test]
    fn regional_and_financial_hosts() {
        let p = EndpointPolicy {
            regional: true,
            ..Default::default()
        };
        assert_eq!(
            p.resolve("tcr", "ap-guangzhou", None).unwrap().host,
            "tcr.ap-guangzhou.tencentcloudapi.com"
        );
        let nearest = EndpointPolicy::default();
        assert_eq!(
            nearest
                .resolve("tcr", "ap-shenzhen-fsi", None)
                .unwrap()
                .host,
            "tcr.ap-shenzhen-fsi.tencentcloudapi.com"
        );
    }

    #[test]
    fn financial_region_through_a_non_financial_endpoint_is_refused() {
        let p = EndpointPolicy::default();
        let e = Endpoint::parse("tcr.tencentcloudapi.com", false).unwrap();
        let err = p.resolve("tcr", "ap-shanghai-fsi", Some(&e)).unwrap_err();
        assert!(err.to_string().contains("financial zone"), "{err}");
        let own = Endpoint::parse("tcr.ap-shanghai-fsi.tencentcloudapi.com", false).unwrap();
        assert!(p.resolve("tcr", "ap-shanghai-fsi", Some(&own)).is_ok());
    }

    #[test]
    fn endpoint_parsing_and_plain_http_rule() {
        assert_eq!(
            Endpoint::parse("example.com", false).unwrap().url(),
            "https://example.com/"
        );
        assert_eq!(
            Endpoint::parse("http://127.0.0.1:9400", false)
                .unwrap()
                .url(),
            "http://127.0.0.1:9400/"
        );
        assert!(Endpoint::parse("http://[::1]:80", false).is_ok());
        assert!(Endpoint::parse("http://localhost:80", false).is_ok());
        let err = Endpoint::parse("http://10.0.0.5:80", false).unwrap_err();
        assert!(err.to_string().contains("--insecure-http"), "{err}");
        assert!(Endpoint::parse("http://10.0.0.5:80", true).is_ok());
        assert!(Endpoint::parse("ftp://x", false).is_err());
        assert!(Endpoint::parse("a b", false).is_err());
    }

    #[test]
    fn unknown_region_suggests_a_close_name() {
        let err = lookup("ap-guangzou").unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown region \"ap-guangzou\" (did you mean ap-guangzhou?)"
        );
    }
}
