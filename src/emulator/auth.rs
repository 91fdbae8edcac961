//! Reading and authenticating an incoming request the way the Tencent Cloud API does.
//!
//! TC3-HMAC-SHA256 is verified against whatever `SignedHeaders` the request lists, with the
//! `Host` header exactly as received and, for GET, the raw query string as sent; header values
//! are accepted either as sent (what the SDKs sign) or lowercased (what the documentation
//! says). HmacSHA1/HmacSHA256 read the common parameters from the query (GET) or the form body
//! (POST); a missing `SignatureMethod` means HmacSHA1.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, Method};
use serde_json::Value;

use super::ApiError;
use crate::api::catalog::Catalog;
use crate::api::client::{MAX_GET_BYTES, MAX_TC3_POST_BYTES, MAX_V1_POST_BYTES};
use crate::api::params::unflatten;
use crate::credentials::Credentials;
use crate::sign::{constant_time_eq, hmac_v1, tc3, SignMethod};

/// How far a request's timestamp may be from the server clock.
pub const MAX_CLOCK_SKEW_SECS: i64 = 300;

/// The raw request as it arrived.
pub struct RawRequest<'a> {
    pub method: &'a Method,
    pub headers: &'a HeaderMap,
    /// The query string exactly as sent, without `?`.
    pub query: &'a str,
    pub body: &'a [u8],
}

/// An authenticated request: who, what, where, and the parameters as JSON.
#[derive(Debug)]
pub struct Incoming {
    pub action: String,
    pub region: String,
    pub version: String,
    pub secret_id: String,
    pub params: Value,
    pub sign_method: SignMethod,
    /// The `Host` header as received.
    pub host: String,
}

/// What the caller knows before authenticating: the action, for error responses.
pub fn peek_action(raw: &RawRequest<'_>) -> String {
    if let Some(a) = header(raw.headers, "x-tc-action") {
        return a.to_string();
    }
    let source = if raw.method == Method::GET {
        raw.query.as_bytes()
    } else {
        raw.body
    };
    form_urlencoded::parse(source)
        .find(|(k, _)| k == "Action")
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// Parse, size-check and authenticate a request.
///
/// `lookup` finds the credentials of a SecretId; `now` is the server clock.
///
/// # Errors
/// The API error the real service would answer with.
pub fn authenticate(
    raw: &RawRequest<'_>,
    lookup: impl Fn(&str) -> Option<Credentials>,
    catalog: &Catalog,
    now: i64,
) -> Result<Incoming, ApiError> {
    check_size(raw)?;
    if std::str::from_utf8(raw.body).is_err() || std::str::from_utf8(raw.query.as_bytes()).is_err()
    {
        return Err(ApiError::new(
            "InvalidParameter",
            "The request is not valid UTF-8.",
        ));
    }
    match header(raw.headers, "authorization") {
        Some(auth) => authenticate_tc3(raw, auth, lookup, catalog, now),
        None => authenticate_v1(raw, lookup, catalog, now),
    }
}

fn check_size(raw: &RawRequest<'_>) -> Result<(), ApiError> {
    let is_tc3 = raw.headers.contains_key("authorization");
    let (size, limit) = if raw.method == Method::GET {
        (raw.query.len(), MAX_GET_BYTES)
    } else if is_tc3 {
        (raw.body.len(), MAX_TC3_POST_BYTES)
    } else {
        (raw.body.len(), MAX_V1_POST_BYTES)
    };
    if size > limit {
        return Err(ApiError::new(
            "RequestSizeLimitExceeded",
            format!("The request size {size} exceeds the limit of {limit} bytes."),
        ));
    }
    Ok(())
}

fn check_timestamp(timestamp: i64, now: i64) -> Result<(), ApiError> {
    if (timestamp - now).abs() > MAX_CLOCK_SKEW_SECS {
        return Err(ApiError::new(
            "AuthFailure.SignatureExpire",
            format!(
                "Signature expired. Timestamp {timestamp} is more than {MAX_CLOCK_SKEW_SECS} seconds from server time {now}."
            ),
        ));
    }
    Ok(())
}

fn check_token(expected: &Credentials, sent: Option<&str>) -> Result<(), ApiError> {
    let expected = expected.token.as_ref().map(|t| t.expose());
    if expected != sent.filter(|t| !t.is_empty()) {
        return Err(ApiError::new(
            "AuthFailure.TokenFailure",
            "Token verification failed.",
        ));
    }
    Ok(())
}

fn signature_failure() -> ApiError {
    ApiError::new(
        "AuthFailure.SignatureFailure",
        "The provided credentials could not be validated. Please check your signature is correct.",
    )
}

fn secret_id_not_found() -> ApiError {
    ApiError::new(
        "AuthFailure.SecretIdNotFound",
        "The SecretId is not found, please ensure that your SecretId is correct.",
    )
}

fn authenticate_tc3(
    raw: &RawRequest<'_>,
    auth: &str,
    lookup: impl Fn(&str) -> Option<Credentials>,
    catalog: &Catalog,
    now: i64,
) -> Result<Incoming, ApiError> {
    let parsed = tc3::parse_authorization(auth).map_err(|why| {
        ApiError::new(
            "AuthFailure.InvalidAuthorization",
            format!("Authorization is invalid: {why}."),
        )
    })?;
    let required = |name: &str| {
        header(raw.headers, name)
            .map(str::to_string)
            .ok_or_else(|| {
                ApiError::new(
                    "MissingParameter",
                    format!("The request is missing a required header `{name}`."),
                )
            })
    };
    let action = required("X-TC-Action")?;
    let version = required("X-TC-Version")?;
    let timestamp: i64 = required("X-TC-Timestamp")?.parse().map_err(|_| {
        ApiError::new(
            "InvalidParameter",
            "The header `X-TC-Timestamp` must be an integer.",
        )
    })?;
    let region = header(raw.headers, "x-tc-region").unwrap_or("").to_string();
    let credentials = lookup(&parsed.secret_id).ok_or_else(secret_id_not_found)?;
    check_timestamp(timestamp, now)?;
    if parsed.date != tc3::utc_date(timestamp) {
        return Err(ApiError::new(
            "AuthFailure.InvalidAuthorization",
            "Authorization is invalid: the credential date does not match X-TC-Timestamp.",
        ));
    }
    let mut headers = Vec::with_capacity(parsed.signed_headers.len());
    for name in &parsed.signed_headers {
        let value = header(raw.headers, name).ok_or_else(|| {
            ApiError::new(
                "AuthFailure.InvalidAuthorization",
                format!("Authorization is invalid: signed header `{name}` is missing."),
            )
        })?;
        headers.push((name.as_str().into(), value.into()));
    }
    let parts = tc3::RequestParts {
        method: raw.method.as_str(),
        path: "/",
        query: raw.query,
        headers: &headers,
        payload: raw.body,
    };
    let verified = [false, true].into_iter().any(|lowercase| {
        let canonical = tc3::CanonicalRequest::build(&parts, lowercase);
        let sig = tc3::sign_canonical(
            canonical,
            &parsed.service,
            timestamp,
            &parsed.secret_id,
            credentials.secret_key.expose(),
        );
        constant_time_eq(sig.signature.as_bytes(), parsed.signature.as_bytes())
    });
    if !verified {
        return Err(signature_failure());
    }
    check_token(&credentials, header(raw.headers, "x-tc-token"))?;
    let params = if raw.method == Method::GET {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.query.as_bytes())
            .into_owned()
            .collect();
        unflatten(&pairs, catalog, &action)
    } else {
        let content_type = header(raw.headers, "content-type").unwrap_or("");
        if content_type.starts_with("multipart/form-data") {
            return Err(ApiError::new(
                "UnsupportedOperation",
                "multipart/form-data requests are verified but not used by any TCR action.",
            ));
        }
        if raw.body.is_empty() {
            Value::Object(Default::default())
        } else {
            serde_json::from_slice(raw.body).map_err(|e| {
                ApiError::new(
                    "InvalidParameter",
                    format!("The request body is not valid JSON: {e}."),
                )
            })?
        }
    };
    if !params.is_object() {
        return Err(ApiError::new(
            "InvalidParameter",
            "The request body must be a JSON object.",
        ));
    }
    Ok(Incoming {
        action,
        region,
        version,
        secret_id: parsed.secret_id,
        params,
        sign_method: SignMethod::Tc3,
        host: header(raw.headers, "host").unwrap_or("").to_string(),
    })
}

/// Common parameters of the v1 signature, removed from the action's own parameters.
const V1_COMMON: &[&str] = &[
    "Action",
    "Region",
    "Timestamp",
    "Nonce",
    "SecretId",
    "Signature",
    "SignatureMethod",
    "Version",
    "Token",
    "Language",
    "RequestClient",
];

fn authenticate_v1(
    raw: &RawRequest<'_>,
    lookup: impl Fn(&str) -> Option<Credentials>,
    catalog: &Catalog,
    now: i64,
) -> Result<Incoming, ApiError> {
    let source = if raw.method == Method::GET {
        raw.query.as_bytes()
    } else {
        raw.body
    };
    let pairs: Vec<(String, String)> = form_urlencoded::parse(source).into_owned().collect();
    let all: BTreeMap<String, String> = pairs.iter().cloned().collect();
    let Some(signature) = all.get("Signature") else {
        return Err(ApiError::new(
            "AuthFailure.InvalidAuthorization",
            "The request has neither an Authorization header nor a Signature parameter.",
        ));
    };
    let required = |name: &str| {
        all.get(name).cloned().ok_or_else(|| {
            ApiError::new(
                "MissingParameter",
                format!("The request is missing a required parameter `{name}`."),
            )
        })
    };
    let action = required("Action")?;
    let secret_id = required("SecretId")?;
    let version = required("Version")?;
    let timestamp: i64 = required("Timestamp")?.parse().map_err(|_| {
        ApiError::new(
            "InvalidParameter",
            "The parameter `Timestamp` must be an integer.",
        )
    })?;
    required("Nonce")?;
    let method = match all.get("SignatureMethod").map(String::as_str) {
        None | Some("HmacSHA1") => SignMethod::HmacSha1,
        Some("HmacSHA256") => SignMethod::HmacSha256,
        Some(other) => {
            return Err(ApiError::new(
                "InvalidParameterValue",
                format!("The value `{other}` of parameter `SignatureMethod` is not valid."),
            ))
        }
    };
    let credentials = lookup(&secret_id).ok_or_else(secret_id_not_found)?;
    check_timestamp(timestamp, now)?;
    let host = header(raw.headers, "host").unwrap_or("");
    let sts = hmac_v1::StringToSign::new(raw.method.as_str(), host, "/", &all);
    let expected = hmac_v1::signature(method, credentials.secret_key.expose(), &sts);
    if !constant_time_eq(expected.as_bytes(), signature.as_bytes()) {
        return Err(signature_failure());
    }
    check_token(&credentials, all.get("Token").map(String::as_str))?;
    let own: Vec<(String, String)> = pairs
        .into_iter()
        .filter(|(k, _)| !V1_COMMON.contains(&k.as_str()))
        .collect();
    Ok(Incoming {
        params: unflatten(&own, catalog, &action),
        action,
        region: all.get("Region").cloned().unwrap_or_default(),
        version,
        secret_id,
        sign_method: method,
        host: host.to_string(),
    })
}
