//! The crate's error type, its exit codes, and the `Result` alias.
//!
//! Every variant names what went wrong and where (action, parameter path, region, request id)
//! so a message read in a log is enough to act on. Secrets never enter an error: callers pass
//! only identifiers and public values.

use std::fmt;

/// Result alias used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Process exit code for success.
pub const EXIT_OK: i32 = 0;
/// Process exit code for a script or API failure.
pub const EXIT_FAILURE: i32 = 1;
/// Process exit code for a usage or configuration error.
pub const EXIT_USAGE: i32 = 2;

/// Everything that can go wrong in tcrl, grouped by who can fix it.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The cloud answered with `Response.Error`; code, message and request id are Tencent's own.
    #[error("{action}: {code}: {message} (request {request_id})")]
    Api {
        action: String,
        code: String,
        message: String,
        request_id: String,
        region: String,
    },

    /// A parameter could not be turned into a request (bad type, invalid UTF-8, ...).
    #[error("{action}: parameter {path}: {problem}")]
    InvalidParameter {
        action: String,
        path: String,
        problem: String,
    },

    /// The request was refused before sending because it exceeds a documented size limit.
    #[error("{action}: request of {size} bytes exceeds the {limit} byte limit for {kind}")]
    RequestTooLarge {
        action: String,
        size: usize,
        limit: usize,
        kind: &'static str,
    },

    /// The server answered with something that is not a Tencent Cloud API response.
    #[error("{action}: unexpected response from {endpoint} (HTTP {status}): {detail}")]
    BadResponse {
        action: String,
        endpoint: String,
        status: u16,
        detail: String,
    },

    /// The answer is larger than the client accepts (`--max-response-size`).
    #[error("{action}: response from {endpoint} of {size} bytes or more exceeds the limit of {limit} bytes (--max-response-size)")]
    ResponseTooLarge {
        action: String,
        endpoint: String,
        size: usize,
        limit: usize,
    },

    /// Connecting, sending or receiving failed, or the call timed out.
    #[error("{action}: {endpoint}: {detail}")]
    Transport {
        action: String,
        endpoint: String,
        detail: String,
        /// True when the request provably never reached the server (connect failure).
        not_sent: bool,
        timed_out: bool,
    },

    /// A region name that is not in the table.
    #[error("unknown region {region:?}{hint}")]
    UnknownRegion { region: String, hint: DidYouMean },

    /// Settings that cannot work together (endpoint, scheme, financial-zone rule, files).
    #[error("configuration: {0}")]
    Config(String),

    /// No credential source produced a key.
    #[error("no credentials found; looked in: {}", looked.join("; "))]
    NoCredentials { looked: Vec<String> },

    /// The script failed to load or raised an error.
    #[error("{0}")]
    Script(String),

    /// The script stopped on a configuration problem (no credentials): exit code 2.
    #[error("{0}")]
    ScriptConfig(String),

    /// Reading or writing a local file failed.
    #[error("{path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

impl From<mlua::Error> for Error {
    /// Lua errors outside a script's own code (building a state, internal chunks).
    fn from(e: mlua::Error) -> Self {
        Error::Script(crate::lua::error_message(&e))
    }
}

impl Error {
    /// The exit code this error should end the process with.
    pub fn exit_code(&self) -> i32 {
        match self {
            Error::UnknownRegion { .. }
            | Error::Config(_)
            | Error::NoCredentials { .. }
            | Error::ScriptConfig(_) => EXIT_USAGE,
            _ => EXIT_FAILURE,
        }
    }

    /// A short, stable code for errors raised into Lua (`err.code`).
    ///
    /// API errors keep Tencent's code; local errors use a `Client.` prefix so scripts can tell
    /// them apart from anything the service says.
    pub fn code(&self) -> String {
        match self {
            Error::Api { code, .. } => code.clone(),
            Error::InvalidParameter { .. } => "Client.InvalidParameter".into(),
            Error::RequestTooLarge { .. } => "Client.RequestTooLarge".into(),
            Error::BadResponse { .. } => "Client.BadResponse".into(),
            Error::ResponseTooLarge { .. } => "Client.ResponseTooLarge".into(),
            Error::Transport {
                timed_out: true, ..
            } => "Client.Timeout".into(),
            Error::Transport { .. } => "Client.Network".into(),
            Error::UnknownRegion { .. } => "Client.UnknownRegion".into(),
            Error::Config(_) => "Client.Configuration".into(),
            Error::NoCredentials { .. } => "Client.NoCredentials".into(),
            Error::Script(_) | Error::ScriptConfig(_) => "Client.Script".into(),
            Error::Io { .. } => "Client.Io".into(),
        }
    }

    /// The message part without the action prefix, for `err.message`.
    pub fn message(&self) -> String {
        match self {
            Error::Api { message, .. } => message.clone(),
            Error::InvalidParameter { path, problem, .. } => format!("parameter {path}: {problem}"),
            other => other.to_string(),
        }
    }
}

/// The "did you mean ...?" tail of an error; empty when nothing is close.
#[derive(Debug, Clone, Default)]
pub struct DidYouMean(pub Vec<String>);

impl fmt::Display for DidYouMean {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.as_slice() {
            [] => Ok(()),
            [one] => write!(f, " (did you mean {one}?)"),
            many => write!(f, " (did you mean one of {}?)", many.join(", ")),
        }
    }
}

impl DidYouMean {
    /// The known names closest to `wanted` by edit distance (ignoring case), when close enough
    /// to be a likely typo; up to three that tie for closest.
    pub fn among<'a>(wanted: &str, known: impl IntoIterator<Item = &'a str>) -> Self {
        let wanted_lower = wanted.to_ascii_lowercase();
        let limit = (wanted.chars().count() / 3).max(2);
        let mut scored: Vec<(usize, &str)> = known
            .into_iter()
            .map(|k| {
                (
                    strsim::levenshtein(&wanted_lower, &k.to_ascii_lowercase()),
                    k,
                )
            })
            .filter(|(distance, _)| *distance <= limit)
            .collect();
        scored.sort();
        let best = scored.first().map(|(d, _)| *d).unwrap_or(0);
        DidYouMean(
            scored
                .into_iter()
                .filter(|(d, _)| *d == best)
                .take(3)
                .map(|(_, k)| k.to_string())
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn did_you_mean_suggests_the_closest_region() {
        let hint = DidYouMean::among("ap-guangzou", ["ap-guangzhou", "ap-tokyo", "eu-frankfurt"]);
        assert_eq!(hint.to_string(), " (did you mean ap-guangzhou?)");
    }

    #[test]
    fn did_you_mean_is_silent_when_nothing_is_close() {
        let hint = DidYouMean::among("zzzz", ["ap-guangzhou", "ap-tokyo"]);
        assert_eq!(hint.to_string(), "");
    }

    #[test]
    fn configuration_errors_exit_with_usage_code() {
        assert_eq!(Error::Config("x".into()).exit_code(), EXIT_USAGE);
        assert_eq!(Error::Script("x".into()).exit_code(), EXIT_FAILURE);
    }
}
