//! Credential sources, in the order Tencent's SDKs and tccli look:
//! flags, environment, the shared INI file (`~/.tencentcloud/credentials`, then
//! `/etc/tencentcloud/credentials`), tccli's `~/.tccli/NAME.credential`, and last the CVM
//! instance role from the metadata service (refreshed before it expires).
//!
//! Secrets live in [`Secret`], whose `Debug` prints `** REDACTED **` and which has no
//! `Display`, so a secret cannot reach a log or an error by accident.

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::sync::Mutex;

use crate::error::{Error, Result};

/// A secret string (secret key or session token). Never printed.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    /// Wrap a secret and register it with the redaction layer.
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        crate::redact::register(&value);
        Secret(value)
    }

    /// The secret itself, for signing. Call sites are few and obvious on purpose.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("** REDACTED **")
    }
}

/// A SecretId, SecretKey and optional session token.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    pub secret_id: String,
    pub secret_key: Secret,
    pub token: Option<Secret>,
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("secret_id", &secret_id_prefix(&self.secret_id))
            .field("secret_key", &self.secret_key)
            .field("token", &self.token.as_ref().map(|_| "** REDACTED **"))
            .finish()
    }
}

impl Credentials {
    pub fn new(secret_id: &str, secret_key: &str, token: Option<&str>) -> Self {
        Credentials {
            secret_id: secret_id.to_string(),
            secret_key: Secret::new(secret_key),
            token: token.filter(|t| !t.is_empty()).map(Secret::new),
        }
    }
}

/// The first characters of a SecretId, the most any output shows of it.
pub fn secret_id_prefix(secret_id: &str) -> String {
    let prefix: String = secret_id.chars().take(8).collect();
    format!("{prefix}***")
}

/// Everything the chain reads, gathered up front so tests can supply their own.
#[derive(Debug, Clone, Default)]
pub struct ChainInputs {
    pub flag_secret_id: Option<String>,
    pub flag_secret_key: Option<Secret>,
    pub profile: Option<String>,
    pub env: HashMap<String, String>,
    pub home: Option<PathBuf>,
    /// Folder holding the system-wide `credentials` file (`/etc/tencentcloud`).
    pub etc_dir: PathBuf,
    /// Base URL of the metadata service (`http://metadata.tencentyun.com`).
    pub metadata_endpoint: String,
}

impl ChainInputs {
    /// Read the process environment and the user's home directory.
    pub fn from_process(
        flag_secret_id: Option<String>,
        flag_secret_key: Option<String>,
        profile: Option<String>,
    ) -> Self {
        let env: HashMap<String, String> = std::env::vars()
            .filter(|(k, _)| k.starts_with("TENCENTCLOUD_") || k.starts_with("TCRL_"))
            .collect();
        let metadata_endpoint = env
            .get("TCRL_METADATA_ENDPOINT")
            .cloned()
            .unwrap_or_else(|| "http://metadata.tencentyun.com".to_string());
        ChainInputs {
            flag_secret_id,
            flag_secret_key: flag_secret_key.map(Secret::new),
            profile,
            env,
            home: dirs::home_dir(),
            etc_dir: PathBuf::from("/etc/tencentcloud"),
            metadata_endpoint,
        }
    }
}

/// Where credentials come from for the life of a runtime.
pub struct CredentialProvider {
    source: Source,
}

impl fmt::Debug for CredentialProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.source {
            Source::Fixed { origin, .. } => write!(f, "CredentialProvider({origin})"),
            Source::InstanceRole { .. } => f.write_str("CredentialProvider(instance role)"),
        }
    }
}

enum Source {
    Fixed {
        credentials: Credentials,
        origin: String,
    },
    InstanceRole {
        metadata_endpoint: String,
        looked: Vec<String>,
        cache: Mutex<Option<(Credentials, i64)>>,
    },
}

/// Refresh instance-role credentials this long before they expire.
const REFRESH_MARGIN_SECS: i64 = 300;

impl CredentialProvider {
    /// Always the given credentials (the emulator's demo key, tests).
    pub fn fixed(credentials: Credentials, origin: &str) -> Self {
        CredentialProvider {
            source: Source::Fixed {
                credentials,
                origin: origin.to_string(),
            },
        }
    }

    /// Walk the chain's local sources now; if none has a key, fall back to the instance role,
    /// asked lazily at the first call so scripts that make no call need no credentials.
    ///
    /// # Errors
    /// `Config` for a half-given pair of flags or an unreadable/invalid credentials file.
    pub fn from_chain(inputs: &ChainInputs) -> Result<Self> {
        let mut looked = Vec::new();
        match (&inputs.flag_secret_id, &inputs.flag_secret_key) {
            (Some(id), Some(key)) => {
                return Ok(Self::fixed(
                    Credentials {
                        secret_id: id.clone(),
                        secret_key: key.clone(),
                        token: inputs.env.get("TENCENTCLOUD_TOKEN").map(Secret::new),
                    },
                    "--secret-id/--secret-key flags",
                ))
            }
            (None, None) => looked.push("--secret-id/--secret-key flags".to_string()),
            _ => {
                return Err(Error::Config(
                    "--secret-id and --secret-key must be given together".into(),
                ))
            }
        }
        let env = &inputs.env;
        match (
            env.get("TENCENTCLOUD_SECRET_ID"),
            env.get("TENCENTCLOUD_SECRET_KEY"),
        ) {
            (Some(id), Some(key)) if !id.is_empty() && !key.is_empty() => {
                let token = env.get("TENCENTCLOUD_TOKEN").map(String::as_str);
                return Ok(Self::fixed(
                    Credentials::new(id, key, token),
                    "environment TENCENTCLOUD_SECRET_ID/TENCENTCLOUD_SECRET_KEY",
                ));
            }
            _ => looked
                .push("environment TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY".to_string()),
        }
        let profile = inputs.profile.as_deref().unwrap_or("default");
        let mut ini_files = Vec::new();
        if let Some(home) = &inputs.home {
            ini_files.push(home.join(".tencentcloud").join("credentials"));
        }
        ini_files.push(inputs.etc_dir.join("credentials"));
        for file in ini_files {
            if let Some(credentials) = read_ini_profile(&file, profile)? {
                let origin = format!("{} [{profile}]", file.display());
                return Ok(Self::fixed(credentials, &origin));
            }
            looked.push(format!("{} [{profile}]", file.display()));
        }
        if let Some(home) = &inputs.home {
            let file = home.join(".tccli").join(format!("{profile}.credential"));
            if let Some(credentials) = read_tccli_profile(&file)? {
                return Ok(Self::fixed(credentials, &file.display().to_string()));
            }
            looked.push(file.display().to_string());
        }
        Ok(CredentialProvider {
            source: Source::InstanceRole {
                metadata_endpoint: inputs.metadata_endpoint.trim_end_matches('/').to_string(),
                looked,
                cache: Mutex::new(None),
            },
        })
    }

    /// Credentials valid for at least the next few minutes.
    ///
    /// # Errors
    /// `NoCredentials` listing every place looked, when the instance role is not available.
    pub async fn get(&self, http: &reqwest::Client) -> Result<Credentials> {
        match &self.source {
            Source::Fixed { credentials, .. } => Ok(credentials.clone()),
            Source::InstanceRole {
                metadata_endpoint,
                looked,
                cache,
            } => {
                let mut cache = cache.lock().await;
                let now = chrono::Utc::now().timestamp();
                if let Some((credentials, expires)) = cache.as_ref() {
                    if expires - now > REFRESH_MARGIN_SECS {
                        return Ok(credentials.clone());
                    }
                }
                match fetch_instance_role(http, metadata_endpoint).await {
                    Ok((credentials, expires)) => {
                        tracing::debug!(expires, "refreshed CVM instance role credentials");
                        *cache = Some((credentials.clone(), expires));
                        Ok(credentials)
                    }
                    Err(why) => {
                        let mut looked = looked.clone();
                        looked.push(format!("CVM instance role at {metadata_endpoint} ({why})"));
                        Err(Error::NoCredentials { looked })
                    }
                }
            }
        }
    }
}

fn read_ini_profile(file: &Path, profile: &str) -> Result<Option<Credentials>> {
    if !file.exists() {
        return Ok(None);
    }
    let ini = ini::Ini::load_from_file(file)
        .map_err(|e| Error::Config(format!("{}: cannot read credentials: {e}", file.display())))?;
    let Some(section) = ini.section(Some(profile)) else {
        return Ok(None);
    };
    match (section.get("secret_id"), section.get("secret_key")) {
        (Some(id), Some(key)) if !id.trim().is_empty() && !key.trim().is_empty() => Ok(Some(
            Credentials::new(id.trim(), key.trim(), section.get("token").map(str::trim)),
        )),
        _ => Err(Error::Config(format!(
            "{}: profile [{profile}] needs both secret_id and secret_key",
            file.display()
        ))),
    }
}

#[derive(serde::Deserialize)]
struct TccliCredential {
    #[serde(rename = "secretId")]
    secret_id: Option<String>,
    #[serde(rename = "secretKey")]
    secret_key: Option<String>,
    token: Option<String>,
}

fn read_tccli_profile(file: &Path) -> Result<Option<Credentials>> {
    let text = match std::fs::read_to_string(file) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(Error::Io {
                path: file.display().to_string(),
                source,
            })
        }
    };
    let parsed: TccliCredential = serde_json::from_str(&text).map_err(|e| {
        Error::Config(format!(
            "{}: not a tccli credential file: {e}",
            file.display()
        ))
    })?;
    match (parsed.secret_id, parsed.secret_key) {
        (Some(id), Some(key)) if !id.is_empty() && !key.is_empty() => {
            Ok(Some(Credentials::new(&id, &key, parsed.token.as_deref())))
        }
        _ => Ok(None),
    }
}

#[derive(serde::Deserialize)]
struct RoleResponse {
    #[serde(rename = "TmpSecretId")]
    tmp_secret_id: String,
    #[serde(rename = "TmpSecretKey")]
    tmp_secret_key: String,
    #[serde(rename = "Token")]
    token: String,
    #[serde(rename = "ExpiredTime")]
    expired_time: i64,
}

/// Ask the metadata service for the instance's role and its temporary credentials.
async fn fetch_instance_role(
    http: &reqwest::Client,
    endpoint: &str,
) -> std::result::Result<(Credentials, i64), String> {
    let base = format!("{endpoint}/latest/meta-data/cam/security-credentials/");
    let timeout = Duration::from_secs(2);
    let roles = http
        .get(&base)
        .timeout(timeout)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("no role: {}", short_reqwest_error(&e)))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let role = roles
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .ok_or("no role attached to this instance")?
        .to_string();
    let body = http
        .get(format!("{base}{role}"))
        .timeout(timeout)
        .send()
        .await
        .and_then(|r| r.error_for_status())
        .map_err(|e| format!("role {role}: {}", short_reqwest_error(&e)))?
        .text()
        .await
        .map_err(|e| e.to_string())?;
    let parsed: RoleResponse =
        serde_json::from_str(&body).map_err(|e| format!("role {role}: unreadable answer: {e}"))?;
    Ok((
        Credentials::new(
            &parsed.tmp_secret_id,
            &parsed.tmp_secret_key,
            Some(&parsed.token),
        ),
        parsed.expired_time,
    ))
}

fn short_reqwest_error(e: &reqwest::Error) -> String {
    if e.is_connect() {
        "cannot connect".into()
    } else if e.is_timeout() {
        "timed out".into()
    } else if let Some(status) = e.status() {
        format!("HTTP {status}")
    } else {
        "request failed".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inputs(home: &Path) -> ChainInputs {
        ChainInputs {
            home: Some(home.to_path_buf()),
            etc_dir: home.join("etc"),
            metadata_endpoint: "http://127.0.0.1:9".into(),
            ..Default::default()
        }
    }

    fn origin(p: &CredentialProvider) -> String {
        format!("{p:?}")
    }

    #[test]
    fn debug_never_shows_the_secret() {
        let c = Credentials::new("AKIDabcdefghijkl", "verysecretkey", Some("sessiontoken"));
        let text = format!("{c:?}");
        assert!(
            !text.contains("verysecretkey") && !text.contains("sessiontoken"),
            "{text}"
        );
        assert!(!text.contains("AKIDabcdefghijkl"), "{text}");
        assert!(text.contains("AKIDabcd***"), "{text}");
    }

    #[test]
    fn flags_win_over_everything_and_must_come_in_pairs() {
        let dir = tempfile::tempdir().unwrap();
        let mut i = inputs(dir.path());
        i.env
            .insert("TENCENTCLOUD_SECRET_ID".into(), "env-id".into());
        i.env
            .insert("TENCENTCLOUD_SECRET_KEY".into(), "env-key".into());
        i.flag_secret_id = Some("flag-id".into());
        i.flag_secret_key = Some(Secret::new("flag-key"));
        assert!(origin(&CredentialProvider::from_chain(&i).unwrap()).contains("flags"));
        i.flag_secret_key = None;
        assert!(CredentialProvider::from_chain(&i).is_err());
        i.flag_secret_id = None;
        assert!(origin(&CredentialProvider::from_chain(&i).unwrap()).contains("environment"));
    }

    #[test]
    fn ini_profile_then_tccli_file() {
        let dir = tempfile::tempdir().unwrap();
        let i = inputs(dir.path());
        std::fs::create_dir_all(dir.path().join(".tccli")).unwrap();
        std::fs::write(
            dir.path().join(".tccli/default.credential"),
            r#"{"secretId": "tccli-id", "secretKey": "tccli-key"}"#,
        )
        .unwrap();
        assert!(origin(&CredentialProvider::from_chain(&i).unwrap()).contains(".tccli"));
        std::fs::create_dir_all(dir.path().join(".tencentcloud")).unwrap();
        std::fs::write(
            dir.path().join(".tencentcloud/credentials"),
            "[default]\nsecret_id = ini-id\nsecret_key = ini-key\n[prod]\nsecret_id = p\nsecret_key = k\ntoken = t\n",
        )
        .unwrap();
        assert!(origin(&CredentialProvider::from_chain(&i).unwrap()).contains("[default]"));
        let mut prod = i.clone();
        prod.profile = Some("prod".into());
        assert!(origin(&CredentialProvider::from_chain(&prod).unwrap()).contains("[prod]"));
    }

    #[tokio::test]
    async fn nothing_found_lists_every_place_looked() {
        let dir = tempfile::tempdir().unwrap();
        let provider = CredentialProvider::from_chain(&inputs(dir.path())).unwrap();
        let err = provider
            .get(&crate::http_client_builder().build().unwrap())
            .await
            .unwrap_err();
        let text = err.to_string();
        for place in [
            "flags",
            "TENCENTCLOUD_SECRET_ID",
            ".tencentcloud/credentials",
            "etc/credentials",
            ".tccli/default.credential",
            "instance role",
        ] {
            assert!(text.contains(place), "{place} missing from: {text}");
        }
    }
}
