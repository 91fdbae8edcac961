//! The TC3 `Authorization` header the client sends with every call: the same value as
//! [`tc3::sign`](super::tc3::sign) gives, built without the intermediate `String`s — the canonical
//! request and string to sign are written on the stack in their hash blocks
//! ([`super::blocks::Message`]), the day's signing key derived once per thread.
//! `tc3::sign` keeps every stage, with the sha2 and hmac crates' own types, for the emulator's
//! verifier and as the reference the tests compare this with (`tests/it/properties.rs`).
//!
//! Why a second signer: the bench's signing workload (issue 9) found three quarters of a
//! signature's time outside SHA-256 in the staged version — allocation, formatting, the hashers'
//! buffering.

use super::blocks::{self, Message};
use super::tc3::{utc_date_bytes, DerivedKeys, RequestParts, ALGORITHM};

/// The `Authorization` header of a request (see the module documentation).
pub fn authorization<'a>(
    parts: &RequestParts<'a>,
    service: &str,
    timestamp: i64,
    secret_id: &str,
    secret_key: &str,
) -> String {
    use smallvec::SmallVec;

    // Sorted by lowercased name (stable, as `sign` sorts), lowercased while copied below.
    // Filled in place: `collect` builds the vector elsewhere and copies it here.
    let mut headers: SmallVec<[(&str, &str); 4]> = SmallVec::new();
    for (name, value) in parts.headers {
        headers.push((trim(name), trim(value)));
    }
    let lowercase = |name: &'a str| name.bytes().map(|b| b.to_ascii_lowercase());
    headers.sort_by(|a, b| lowercase(a.0).cmp(lowercase(b.0)));

    let mut signed_headers = Message::<1>::new();
    for (i, (name, _)) in headers.iter().enumerate() {
        if i > 0 {
            signed_headers.push(b";");
        }
        signed_headers.push_ascii_lowercase(name.as_bytes());
    }

    let mut canonical = Message::<4>::new();
    for part in [parts.method, parts.path, parts.query] {
        canonical.push(part.as_bytes());
        canonical.push(b"\n");
    }
    for (name, value) in &headers {
        canonical.push_ascii_lowercase(name.as_bytes());
        canonical.push(b":");
        if value.is_ascii() {
            canonical.push_ascii_lowercase(value.as_bytes());
        } else {
            canonical.push(value.to_lowercase().as_bytes());
        }
        canonical.push(b"\n");
    }
    canonical.push(b"\n");
    canonical.push(signed_headers.as_bytes());
    canonical.push(b"\n");
    canonical.push_hex(&blocks::sha256(parts.payload));

    let (key, date) = signing_key(secret_key, timestamp, service);
    let mut digits = itoa::Buffer::new();
    let canonical_hash = canonical.sha256_same_start();
    // One call per piece rather than a loop over them: the compiler then copies the fixed-size
    // pieces inline instead of calling memcpy for each (a tenth of a signature's time).
    let mut string_to_sign = Message::<3>::new();
    string_to_sign.push(ALGORITHM.as_bytes());
    string_to_sign.push(b"\n");
    string_to_sign.push(digits.format(timestamp).as_bytes());
    string_to_sign.push(b"\n");
    string_to_sign.push(&date);
    string_to_sign.push(b"/");
    string_to_sign.push(service.as_bytes());
    string_to_sign.push(b"/tc3_request\n");
    string_to_sign.push_hex(&canonical_hash);
    let mut signature = [0u8; 64];
    faster_hex::hex_encode(&string_to_sign.mac(&key), &mut signature)
        .expect("64 bytes hold 32 in hex");

    const FIXED: usize = ALGORITHM.len() + 12 + 1 + 10 + 1 + 28 + 12 + 64;
    let len = FIXED + secret_id.len() + service.len() + signed_headers.len();
    let mut header = Vec::with_capacity(len);
    header.extend_from_slice(ALGORITHM.as_bytes());
    header.extend_from_slice(b" Credential=");
    header.extend_from_slice(secret_id.as_bytes());
    header.extend_from_slice(b"/");
    header.extend_from_slice(&date);
    header.extend_from_slice(b"/");
    header.extend_from_slice(service.as_bytes());
    header.extend_from_slice(b"/tc3_request, SignedHeaders=");
    header.extend_from_slice(signed_headers.as_bytes());
    header.extend_from_slice(b", Signature=");
    header.extend_from_slice(&signature);
    debug_assert_eq!(header.len(), len, "FIXED counts the literal pieces");
    String::from_utf8(header).expect("built from UTF-8 pieces")
}

/// `str::trim`, skipping its char-by-char checks when both ends are printable ASCII (the usual
/// header name or value).
fn trim(text: &str) -> &str {
    let printable = |b: &u8| b.is_ascii_graphic();
    match text.as_bytes() {
        [first, .., last] if printable(first) && printable(last) => text,
        [only] if printable(only) => text,
        _ => text.trim(),
    }
}

/// The signing key for `secret_key` and `service` on the UTC day of `timestamp`, ready for the
/// string to sign, and that day's date. Both change once a day, and deriving the key costs three
/// HMACs, so each thread keeps the last pair (a script signs thousands of calls with one key).
fn signing_key(secret_key: &str, timestamp: i64, service: &str) -> (blocks::HmacKey, [u8; 10]) {
    struct Last {
        secret_key: String,
        day: i64,
        service: String,
        key: blocks::HmacKey,
        date: [u8; 10],
    }
    thread_local! {
        static LAST: std::cell::RefCell<Option<Last>> = const { std::cell::RefCell::new(None) };
    }
    let day = timestamp.div_euclid(86_400);
    LAST.with_borrow_mut(|last| {
        match last {
            Some(l) if l.day == day && l.secret_key == secret_key && l.service == service => {}
            _ => {
                let date = utc_date_bytes(timestamp);
                let date_text = std::str::from_utf8(&date).expect("digits and dashes");
                let keys = DerivedKeys::derive(secret_key, date_text, service);
                *last = Some(Last {
                    secret_key: secret_key.to_string(),
                    day,
                    service: service.to_string(),
                    key: blocks::HmacKey::new(&keys.secret_signing),
                    date,
                });
            }
        }
        let l = last.as_ref().expect("filled above");
        (l.key, l.date)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trim_agrees_with_str_trim() {
        for text in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\u{a0}a",
            "a\u{2003}",
            "\tvalue\r\n",
            "x y",
        ] {
            assert_eq!(trim(text), text.trim(), "{text:?}");
        }
    }

    #[test]
    fn a_new_day_or_key_gets_its_own_signing_key() {
        let (monday, monday_date) = signing_key("key", 1_700_000_000, "tcr");
        let (tuesday, tuesday_date) = signing_key("key", 1_700_000_000 + 86_400, "tcr");
        let (other_key, _) = signing_key("other", 1_700_000_000, "tcr");
        let (other_service, _) = signing_key("key", 1_700_000_000, "cvm");
        assert_eq!(&monday_date, b"2023-11-14");
        assert_eq!(&tuesday_date, b"2023-11-15");
        let mac = |k: blocks::HmacKey| k.mac(b"string to sign");
        let macs = [monday, tuesday, other_key, other_service].map(mac);
        for (i, a) in macs.iter().enumerate() {
            for b in &macs[i + 1..] {
                assert_ne!(a, b);
            }
        }
        let derived = DerivedKeys::derive("key", "2023-11-14", "tcr");
        assert_eq!(
            mac(signing_key("key", 1_700_000_000, "tcr").0),
            crate::sign::hmac_sha256(&derived.secret_signing, b"string to sign")
        );
    }
}
