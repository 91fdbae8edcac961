//! The one redaction layer: every secret the process learns is registered here, and every
//! path that writes text a person or a log collector reads (log lines, script `print`, error
//! messages, REPL output) passes through [`redact`], which masks each registered secret as
//! `***`. A secret that is never registered is still kept out of output by the types in
//! `credentials` (no `Display`, redacting `Debug`).

use std::sync::{LazyLock, RwLock};

static SECRETS: LazyLock<RwLock<Vec<String>>> = LazyLock::new(|| RwLock::new(Vec::new()));

/// Secrets shorter than this are not masked: masking "a" would garble every line.
const MIN_SECRET_LEN: usize = 6;

/// Remember a secret so that it is masked wherever it would be printed.
pub fn register(secret: &str) {
    if secret.len() < MIN_SECRET_LEN {
        return;
    }
    let mut secrets = SECRETS.write().unwrap_or_else(|e| e.into_inner());
    if !secrets.iter().any(|s| s == secret) {
        secrets.push(secret.to_string());
        // Longest first, so a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }
}

/// `text` with every registered secret replaced by `***`.
pub fn redact(text: &str) -> String {
    let secrets = SECRETS.read().unwrap_or_else(|e| e.into_inner());
    let mut out = text.to_string();
    for secret in secrets.iter() {
        if out.contains(secret.as_str()) {
            out = out.replace(secret.as_str(), "***");
        }
    }
    out
}

/// Mask the signature of an `Authorization` header value, keeping what helps debugging.
pub fn redact_authorization(value: &str) -> String {
    match value.find("Signature=") {
        Some(i) => format!("{}Signature=***", &value[..i]),
        None => "***".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_secrets_are_masked() {
        register("redact-test-secret-123");
        assert_eq!(redact("key=redact-test-secret-123!"), "key=***!");
        assert_eq!(redact("nothing here"), "nothing here");
    }

    #[test]
    fn authorization_keeps_credential_scope_only() {
        let v = "TC3-HMAC-SHA256 Credential=AKID/2020-01-01/tcr/tc3_request, SignedHeaders=host, Signature=abcdef";
        assert_eq!(
            redact_authorization(v),
            "TC3-HMAC-SHA256 Credential=AKID/2020-01-01/tcr/tc3_request, SignedHeaders=host, Signature=***"
        );
    }
}
