//! Request signing for the Tencent Cloud API: TC3-HMAC-SHA256 and the older HmacSHA1/HmacSHA256.
//!
//! Pure functions only: time, nonce and credentials are inputs, nothing here reads the clock or
//! touches the network. The client signs outgoing requests with these functions and the
//! emulator verifies incoming ones with them; both signers are checked against vectors computed
//! by Tencent's own SDK, and a property test holds them to the same header for any input.
//!
//! `tc3` has each stage of a TC3 signature as a value (the verifier's and the tests' reference);
//! `tc3_fast` builds the same `Authorization` header for every call the client sends, on
//! `blocks` (SHA-256/HMAC over whole messages with precomputed states). Its per-thread caches
//! (the day's signing key, a canonical request's first block) change speed, never results.

mod blocks;
pub mod hmac_v1;
pub mod tc3;
mod tc3_fast;

use std::fmt;
use std::str::FromStr;

/// Which signature algorithm a request uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignMethod {
    /// `TC3-HMAC-SHA256` (signature v3): JSON POST, GET, multipart POST.
    Tc3,
    /// `HmacSHA256` (signature v1): GET and form POST.
    HmacSha256,
    /// `HmacSHA1` (signature v1): GET and form POST.
    HmacSha1,
}

impl SignMethod {
    /// The name Tencent uses on the wire and in documentation.
    pub fn as_str(self) -> &'static str {
        match self {
            SignMethod::Tc3 => "TC3-HMAC-SHA256",
            SignMethod::HmacSha256 => "HmacSHA256",
            SignMethod::HmacSha1 => "HmacSHA1",
        }
    }
}

impl fmt::Display for SignMethod {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for SignMethod {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "TC3-HMAC-SHA256" => Ok(SignMethod::Tc3),
            "HmacSHA256" => Ok(SignMethod::HmacSha256),
            "HmacSHA1" => Ok(SignMethod::HmacSha1),
            other => Err(format!(
                "unknown sign_method {other:?} (expected TC3-HMAC-SHA256, HmacSHA256 or HmacSHA1)"
            )),
        }
    }
}

/// HMAC-SHA256 of `data` under `key`.
pub(crate) fn hmac_sha256(key: &[u8], data: &[u8]) -> [u8; 32] {
    use hmac::{KeyInit, Mac};
    let mut mac =
        hmac::Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// HMAC-SHA1 of `data` under `key`.
pub(crate) fn hmac_sha1(key: &[u8], data: &[u8]) -> [u8; 20] {
    use hmac::{KeyInit, Mac};
    let mut mac =
        hmac::Hmac::<sha1::Sha1>::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(data);
    mac.finalize().into_bytes().into()
}

/// Lowercase hex SHA-256 of `data`.
pub fn sha256_hex(data: &[u8]) -> String {
    use sha2::Digest;
    hex32(&sha2::Sha256::digest(data).into())
}

/// Lowercase hex of a 32-byte digest, without `hex::encode`'s char-by-char collect (signing
/// runs on every call).
pub(crate) fn hex32(digest: &[u8; 32]) -> String {
    let mut out = [0u8; 64];
    hex::encode_to_slice(digest, &mut out).expect("64 bytes hold 32 in hex");
    String::from_utf8(out.to_vec()).expect("hex is ASCII")
}

/// Compare two signatures without leaking where they differ through timing.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
