//! The TC3 `Authorization` header the client sends with every call: the same value as
//! [`tc3::sign`](super::tc3::sign) gives, built without the intermediate `String`s — texts on the
//! stack, hashed with [`super::blocks`], the day's signing key derived once per thread.
//! `tc3::sign` keeps every stage, with the sha2 and hmac crates' own types, for the emulator's
//! verifier and as the reference the tests compare this with (`tests/it/properties.rs`).
//!
//! Why a second signer: the bench's signing workload (issue 9) found three quarters of a
//! signature's time outside SHA-256 in the staged version — allocation, formatting, the hashers'
//! buffering.

use super::blocks;
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
    let mut headers: SmallVec<[(&str, &str); 4]> = parts
        .headers
        .iter()
        .map(|(n, v)| (trim(n), trim(v)))
        .collect();
    let lowercase = |name: &'a str| name.bytes().map(|b| b.to_ascii_lowercase());
    headers.sort_by(|a, b| lowercase(a.0).cmp(lowercase(b.0)));

    let mut signed_headers = Text::<64>::new();
    for (i, (name, _)) in headers.iter().enumerate() {
        if i > 0 {
            signed_headers.push(b";");
        }
        signed_headers.push_ascii_lowercase(name.as_bytes());
    }

    let mut canonical = Text::<512>::new();
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
    canonical.push(&hex_digest(&blocks::sha256(parts.payload)));

    let (key, date) = signing_key(secret_key, timestamp, service);
    let mut digits = itoa::Buffer::new();
    let mut string_to_sign = Text::<192>::new();
    for piece in [
        ALGORITHM.as_bytes(),
        b"\n",
        digits.format(timestamp).as_bytes(),
        b"\n",
        &date,
        b"/",
        service.as_bytes(),
        b"/tc3_request\n",
        &hex_digest(&blocks::sha256_same_start(canonical.as_bytes())),
    ] {
        string_to_sign.push(piece);
    }
    let signature = hex_digest(&key.mac(string_to_sign.as_bytes()));

    let pieces: [&[u8]; 11] = [
        ALGORITHM.as_bytes(),
        b" Credential=",
        secret_id.as_bytes(),
        b"/",
        &date,
        b"/",
        service.as_bytes(),
        b"/tc3_request, SignedHeaders=",
        signed_headers.as_bytes(),
        b", Signature=",
        &signature,
    ];
    let mut header = Vec::with_capacity(pieces.iter().map(|p| p.len()).sum());
    for piece in pieces {
        header.extend_from_slice(piece);
    }
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

/// Text assembled on the stack while it fits in `N` bytes, on the heap beyond.
struct Text<const N: usize> {
    stack: [u8; N],
    len: usize,
    heap: Vec<u8>,
}

impl<const N: usize> Text<N> {
    fn new() -> Self {
        Text {
            stack: [0; N],
            len: 0,
            heap: Vec::new(),
        }
    }

    #[inline(always)]
    fn push(&mut self, piece: &[u8]) {
        let end = self.len + piece.len();
        if end <= N {
            self.stack[self.len..end].copy_from_slice(piece);
        } else {
            if self.len <= N {
                self.heap.extend_from_slice(&self.stack[..self.len]);
            }
            self.heap.extend_from_slice(piece);
        }
        self.len = end;
    }

    /// `push` with ASCII letters lowercased (a loop the compiler vectorises).
    #[inline(always)]
    fn push_ascii_lowercase(&mut self, piece: &[u8]) {
        let end = self.len + piece.len();
        if end <= N {
            for (to, from) in self.stack[self.len..end].iter_mut().zip(piece) {
                *to = from.to_ascii_lowercase();
            }
            self.len = end;
        } else {
            self.push(&piece.to_ascii_lowercase());
        }
    }

    fn as_bytes(&self) -> &[u8] {
        if self.len <= N {
            &self.stack[..self.len]
        } else {
            &self.heap
        }
    }
}

/// Lowercase hex of a SHA-256 digest, on the stack.
fn hex_digest(digest: &[u8; 32]) -> [u8; 64] {
    let mut hex = [0u8; 64];
    faster_hex::hex_encode(digest, &mut hex).expect("64 bytes hold 32 in hex");
    hex
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
