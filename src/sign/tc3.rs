//! TC3-HMAC-SHA256, Tencent Cloud's signature v3.
//!
//! Each stage is a value whose `Display` is exactly the text the specification defines, so a
//! failing comparison shows the differing line:
//!
//! ```text
//! CanonicalRequest = Method \n Path \n CanonicalQueryString \n CanonicalHeaders \n
//!                    SignedHeaders \n Lowercase(HexEncode(SHA256(Payload)))
//! StringToSign     = "TC3-HMAC-SHA256" \n Timestamp \n Date/service/tc3_request \n
//!                    Lowercase(HexEncode(SHA256(CanonicalRequest)))
//! SecretDate       = HMAC_SHA256("TC3" + SecretKey, Date)
//! SecretService    = HMAC_SHA256(SecretDate, Service)
//! SecretSigning    = HMAC_SHA256(SecretService, "tc3_request")
//! Signature        = HexEncode(HMAC_SHA256(SecretSigning, StringToSign))
//! ```
//!
//! The headers to sign are an input (the SDKs sign `content-type;host`; Tencent's current
//! documentation also signs `x-tc-action`). Header names are lowercased; values are trimmed and,
//! as the documentation says, lowercased.

use std::borrow::Cow;
use std::fmt;

use super::{hmac_sha256, sha256_hex};

pub use super::tc3_fast::authorization;

/// The algorithm name that opens the string to sign and the `Authorization` header.
pub const ALGORITHM: &str = "TC3-HMAC-SHA256";

/// The headers the SDKs sign by default.
pub const DEFAULT_SIGNED_HEADERS: &[&str] = &["content-type", "host"];

/// Everything the canonical request is built from.
#[derive(Debug, Clone)]
pub struct RequestParts<'a> {
    pub method: &'a str,
    pub path: &'a str,
    /// The query string exactly as sent (empty for POST).
    pub query: &'a str,
    /// `(name, value)` of each header to sign, in any order and any case.
    pub headers: &'a [(Cow<'a, str>, Cow<'a, str>)],
    pub payload: &'a [u8],
}

/// The canonical request; `Display` prints the spec text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CanonicalRequest {
    pub text: String,
    /// The `SignedHeaders` list, `;`-separated, sorted.
    pub signed_headers: String,
}

impl fmt::Display for CanonicalRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl CanonicalRequest {
    /// Build the canonical request from the parts of an HTTP request, lowercasing header
    /// values as the documentation says.
    pub fn new(parts: &RequestParts<'_>) -> Self {
        Self::build(parts, true)
    }

    /// Build with header values kept as given (trimmed only), which is what the SDKs do; a
    /// verifier accepts either form.
    pub fn build(parts: &RequestParts<'_>, lowercase_values: bool) -> Self {
        let mut headers: Vec<(String, String)> = parts
            .headers
            .iter()
            .map(|(n, v)| {
                let v = v.trim();
                // `to_lowercase` whenever lowercasing: titlecase letters (`ᾈ`) change too,
                // though `is_uppercase` is false for them.
                let v = if lowercase_values {
                    v.to_lowercase()
                } else {
                    v.to_string()
                };
                (n.trim().to_ascii_lowercase(), v)
            })
            .collect();
        headers.sort_by(|a, b| a.0.cmp(&b.0));
        let signed_headers = signed_header_list(headers.iter().map(|(n, _)| n.as_str()));
        // One buffer, written in order: signing is on the path of every call.
        let mut text = String::with_capacity(
            parts.method.len()
                + parts.path.len()
                + parts.query.len()
                + 2 * signed_headers.len()
                + headers.iter().map(|(_, v)| v.len() + 2).sum::<usize>()
                + 72,
        );
        for part in [parts.method, parts.path, parts.query] {
            text.push_str(part);
            text.push('\n');
        }
        for (name, value) in &headers {
            text.push_str(name);
            text.push(':');
            text.push_str(value);
            text.push('\n');
        }
        text.push('\n');
        text.push_str(&signed_headers);
        text.push('\n');
        text.push_str(&sha256_hex(parts.payload));
        CanonicalRequest {
            text,
            signed_headers,
        }
    }
}

/// `SignedHeaders`: the sorted, lowercased header names joined with `;`.
fn signed_header_list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let mut list = String::with_capacity(64);
    for (i, name) in names.enumerate() {
        if i > 0 {
            list.push(';');
        }
        list.push_str(name);
    }
    list
}

/// `Date/service/tc3_request`, with Date the UTC day of the timestamp.
pub fn credential_scope(timestamp: i64, service: &str) -> String {
    format!("{}/{service}/tc3_request", utc_date(timestamp))
}

/// The UTC calendar day (`YYYY-MM-DD`) of a Unix timestamp.
pub fn utc_date(timestamp: i64) -> String {
    String::from_utf8(utc_date_bytes(timestamp).to_vec()).expect("digits and dashes")
}

/// [`utc_date`] without allocating (signing runs on every call). Timestamps outside years
/// 0..=9999 give `1970-01-01`, as no request can carry them.
pub(super) fn utc_date_bytes(timestamp: i64) -> [u8; 10] {
    use chrono::Datelike;
    let Some(day) = chrono::DateTime::from_timestamp(timestamp, 0)
        .map(|t| t.date_naive())
        .filter(|d| (0..=9999).contains(&d.year()))
    else {
        return *b"1970-01-01";
    };
    let (year, month, day) = (day.year() as u32, day.month(), day.day());
    let digit = |n: u32| b'0' + (n % 10) as u8;
    [
        digit(year / 1000),
        digit(year / 100),
        digit(year / 10),
        digit(year),
        b'-',
        digit(month / 10),
        digit(month),
        b'-',
        digit(day / 10),
        digit(day),
    ]
}

/// The string to sign; `Display` prints the spec text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringToSign(pub String);

impl fmt::Display for StringToSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StringToSign {
    pub fn new(timestamp: i64, scope: &str, canonical: &CanonicalRequest) -> Self {
        StringToSign(format!(
            "{ALGORITHM}\n{timestamp}\n{scope}\n{}",
            sha256_hex(canonical.text.as_bytes())
        ))
    }
}

/// The three derived keys; kept apart so tests can compare each one.
#[derive(Clone)]
pub struct DerivedKeys {
    pub secret_date: [u8; 32],
    pub secret_service: [u8; 32],
    pub secret_signing: [u8; 32],
}

impl fmt::Debug for DerivedKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DerivedKeys(** REDACTED **)")
    }
}

impl DerivedKeys {
    /// The key derivation chain from the module documentation.
    pub fn derive(secret_key: &str, date: &str, service: &str) -> Self {
        let secret_date = hmac_sha256(format!("TC3{secret_key}").as_bytes(), date.as_bytes());
        let secret_service = hmac_sha256(&secret_date, service.as_bytes());
        let secret_signing = hmac_sha256(&secret_service, b"tc3_request");
        DerivedKeys {
            secret_date,
            secret_service,
            secret_signing,
        }
    }
}

/// Every stage of one TC3 signature, for the client, the verifier and the tests.
#[derive(Debug, Clone)]
pub struct Tc3Signature {
    pub canonical_request: CanonicalRequest,
    pub credential_scope: String,
    pub string_to_sign: StringToSign,
    pub keys: DerivedKeys,
    /// Lowercase hex.
    pub signature: String,
    /// The full `Authorization` header value.
    pub authorization: String,
}

/// Sign a request.
pub fn sign(
    parts: &RequestParts<'_>,
    service: &str,
    timestamp: i64,
    secret_id: &str,
    secret_key: &str,
) -> Tc3Signature {
    sign_canonical(
        CanonicalRequest::new(parts),
        service,
        timestamp,
        secret_id,
        secret_key,
    )
}

/// Sign an already built canonical request (the verifier builds it both ways).
pub fn sign_canonical(
    canonical_request: CanonicalRequest,
    service: &str,
    timestamp: i64,
    secret_id: &str,
    secret_key: &str,
) -> Tc3Signature {
    let date = utc_date_bytes(timestamp);
    let credential_scope = format!(
        "{}/{service}/tc3_request",
        std::str::from_utf8(&date).expect("digits and dashes")
    );
    let string_to_sign = StringToSign::new(timestamp, &credential_scope, &canonical_request);
    let keys = DerivedKeys::derive(
        secret_key,
        std::str::from_utf8(&date).expect("digits and dashes"),
        service,
    );
    let signature = super::hex32(&hmac_sha256(
        &keys.secret_signing,
        string_to_sign.0.as_bytes(),
    ));
    let authorization = format!(
        "{ALGORITHM} Credential={secret_id}/{credential_scope}, SignedHeaders={}, Signature={signature}",
        canonical_request.signed_headers
    );
    Tc3Signature {
        canonical_request,
        credential_scope,
        string_to_sign,
        keys,
        signature,
        authorization,
    }
}

/// The parts of an `Authorization` header, as a verifier reads them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedAuthorization {
    pub secret_id: String,
    pub date: String,
    pub service: String,
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parse `TC3-HMAC-SHA256 Credential=ID/DATE/SERVICE/tc3_request, SignedHeaders=a;b, Signature=hex`.
///
/// # Errors
/// A description of the first malformed part, for `AuthFailure.InvalidAuthorization`.
pub fn parse_authorization(header: &str) -> Result<ParsedAuthorization, String> {
    let rest = header
        .trim()
        .strip_prefix(ALGORITHM)
        .ok_or_else(|| format!("authorization does not start with {ALGORITHM}"))?;
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in rest.split(',') {
        let part = part.trim();
        if let Some(v) = part.strip_prefix("Credential=") {
            credential = Some(v);
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            signed = Some(v);
        } else if let Some(v) = part.strip_prefix("Signature=") {
            signature = Some(v);
        }
    }
    let credential = credential.ok_or("authorization has no Credential")?;
    let signed = signed.ok_or("authorization has no SignedHeaders")?;
    let signature = signature.ok_or("authorization has no Signature")?;
    let pieces: Vec<&str> = credential.split('/').collect();
    let [secret_id, date, service, terminator] = pieces.as_slice() else {
        return Err("Credential is not SecretId/Date/service/tc3_request".into());
    };
    if *terminator != "tc3_request" || secret_id.is_empty() {
        return Err("Credential is not SecretId/Date/service/tc3_request".into());
    }
    let signed_headers: Vec<String> = signed
        .split(';')
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    if signed_headers.iter().any(|h| h.is_empty()) {
        return Err("SignedHeaders has an empty name".into());
    }
    if signature.is_empty() || !signature.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err("Signature is not hex".into());
    }
    Ok(ParsedAuthorization {
        secret_id: secret_id.to_string(),
        date: date.to_string(),
        service: service.to_string(),
        signed_headers,
        signature: signature.to_ascii_lowercase(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_headers_are_sorted_and_lowercased() {
        let parts = RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: &[
                ("Host".into(), "h".into()),
                ("Content-Type".into(), "application/json".into()),
            ],
            payload: b"{}",
        };
        let c = CanonicalRequest::new(&parts);
        assert_eq!(c.signed_headers, "content-type;host");
        assert!(c.text.contains("content-type:application/json\nhost:h\n\n"));
    }

    /// Found by a longer run of the property test: `is_uppercase` is false for titlecase
    /// letters, so the staged signer kept `ᾈ` while the streamed one lowercased it.
    #[test]
    fn titlecase_header_values_are_lowercased_by_both_signers() {
        let parts = RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: &[("A".into(), "ᾈ".into())],
            payload: b"",
        };
        let staged = sign(&parts, "tcr", 0, "AKIDx", "a");
        assert!(staged.canonical_request.text.contains("a:ᾀ\n"));
        assert_eq!(
            authorization(&parts, "tcr", 0, "AKIDx", "a"),
            staged.authorization
        );
    }

    #[test]
    fn authorization_round_trips_through_the_parser() {
        let parts = RequestParts {
            method: "POST",
            path: "/",
            query: "",
            headers: &[("content-type".into(), "application/json".into())],
            payload: b"{}",
        };
        let sig = sign(&parts, "tcr", 1_700_000_000, "AKIDtest", "key");
        let parsed = parse_authorization(&sig.authorization).expect("own header parses");
        assert_eq!(parsed.secret_id, "AKIDtest");
        assert_eq!(parsed.date, "2023-11-14");
        assert_eq!(parsed.service, "tcr");
        assert_eq!(parsed.signed_headers, vec!["content-type"]);
        assert_eq!(parsed.signature, sig.signature);
    }

    #[test]
    fn garbled_authorization_is_rejected_with_a_reason() {
        for bad in [
            "",
            "Basic abc",
            "TC3-HMAC-SHA256 Credential=AKID/2020-01-01/tcr, SignedHeaders=host, Signature=ab",
            "TC3-HMAC-SHA256 Credential=AKID/2020-01-01/tcr/tc3_request, Signature=ab",
            "TC3-HMAC-SHA256 Credential=AKID/2020-01-01/tcr/tc3_request, SignedHeaders=host, Signature=zz",
        ] {
            assert!(parse_authorization(bad).is_err(), "{bad:?} should not parse");
        }
    }
}
