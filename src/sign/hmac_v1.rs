//! HmacSHA1 / HmacSHA256, Tencent Cloud's older signature (v1) for GET and form POST.
//!
//! ```text
//! StringToSign = Method + Host + Path + "?" + join("&", sorted(k + "=" + v))   // raw values
//! Signature    = Base64(HMAC_<alg>(SecretKey, StringToSign))
//! ```
//!
//! Parameters are the request's own (flattened as `Filters.0.Name`) plus the common ones
//! (`Action`, `Region`, `Timestamp`, `Nonce`, `SecretId`, `SignatureMethod`, `Version`, `Token`);
//! everything but `Signature` is signed. Values are used raw, not URL-encoded, as the SDK does.

use std::collections::BTreeMap;
use std::fmt;

use base64::Engine;

use super::{hmac_sha1, hmac_sha256, SignMethod};

/// The string to sign; `Display` prints the spec text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StringToSign(pub String);

impl fmt::Display for StringToSign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl StringToSign {
    /// Build from every parameter of the request; a `Signature` entry is ignored.
    pub fn new(method: &str, host: &str, path: &str, params: &BTreeMap<String, String>) -> Self {
        let joined = params
            .iter()
            .filter(|(k, _)| k.as_str() != "Signature")
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("&");
        StringToSign(format!("{method}{host}{path}?{joined}"))
    }
}

/// Base64 signature of the string to sign. `method` must be a v1 method.
pub fn signature(method: SignMethod, secret_key: &str, string_to_sign: &StringToSign) -> String {
    let engine = base64::engine::general_purpose::STANDARD;
    match method {
        SignMethod::HmacSha1 => engine.encode(hmac_sha1(
            secret_key.as_bytes(),
            string_to_sign.0.as_bytes(),
        )),
        SignMethod::HmacSha256 | SignMethod::Tc3 => engine.encode(hmac_sha256(
            secret_key.as_bytes(),
            string_to_sign.0.as_bytes(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parameters_are_sorted_and_signature_left_out() {
        let params: BTreeMap<String, String> = [("b", "2"), ("a", "x y"), ("Signature", "zzz")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let sts = StringToSign::new("GET", "h.example", "/", &params);
        assert_eq!(sts.to_string(), "GETh.example/?a=x y&b=2");
    }
}
