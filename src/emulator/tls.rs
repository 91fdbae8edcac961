//! HTTPS for the emulator, for clients that speak nothing else (Tencent's CLI) and for
//! rehearsing a private endpoint with an internal CA.
//!
//! `--tls-cert/--tls-key` serve a certificate the user brings. `--tls-self-signed DIR` makes a
//! small local CA and a server certificate for `127.0.0.1`, `::1` and `localhost` signed by it:
//! clients trust `DIR/ca.pem` (rustls and reqwest refuse a bare self-signed server
//! certificate). The files are reused on the next start, so a client told once to trust the CA
//! keeps working.

use std::path::{Path, PathBuf};

use axum_server::tls_rustls::RustlsConfig;
use rcgen::{
    BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// Where the certificate files of a TLS emulator are.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    /// The server certificate (PEM).
    pub cert: PathBuf,
    /// The server's private key (PEM).
    pub key: PathBuf,
    /// The CA clients should trust, when tcrl made it.
    pub ca: Option<PathBuf>,
}

/// Names the self-signed server certificate is valid for.
const LOCAL_NAMES: [&str; 3] = ["127.0.0.1", "::1", "localhost"];

/// Make (or reuse) a local CA and server certificate in `dir`: `ca.pem`, `cert.pem`, `key.pem`.
///
/// # Errors
/// A message naming the file that could not be written or read.
pub fn self_signed(dir: &Path) -> Result<TlsFiles, String> {
    let (ca, cert, key) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    if ![&ca, &cert, &key].iter().all(|p| p.exists()) {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let generated = generate().map_err(|e| format!("cannot make a certificate: {e}"))?;
        write(&ca, &generated.ca_pem, false)?;
        write(&cert, &generated.cert_pem, false)?;
        write(&key, &generated.key_pem, true)?;
    }
    Ok(TlsFiles {
        cert,
        key,
        ca: Some(ca),
    })
}

struct Generated {
    ca_pem: String,
    cert_pem: String,
    key_pem: String,
}

/// A CA valid for ten years and a server certificate it signed, valid for one year.
fn generate() -> Result<Generated, rcgen::Error> {
    let today = chrono::Utc::now().date_naive();
    let start = today - chrono::Days::new(1);
    let date = |d: chrono::NaiveDate| {
        use chrono::Datelike;
        rcgen::date_time_ymd(d.year(), d.month() as u8, d.day() as u8)
    };

    let ca_key = KeyPair::generate()?;
    let mut ca = CertificateParams::new(Vec::<String>::new())?;
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    // A name of its own: two generated CAs with one name make a verifier try the wrong one
    // and report a bad signature instead of an unknown issuer.
    let id = uuid::Uuid::new_v4().simple().to_string();
    ca.distinguished_name.push(
        DnType::CommonName,
        format!("tcrl emulator local CA {}", &id[..8]),
    );
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = date(start);
    ca.not_after = date(today + chrono::Days::new(3650));
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let key = KeyPair::generate()?;
    let mut server = CertificateParams::new(
        LOCAL_NAMES
            .iter()
            .map(|n| n.to_string())
            .collect::<Vec<_>>(),
    )?;
    server
        .distinguished_name
        .push(DnType::CommonName, "tcrl emulator");
    server.use_authority_key_identifier_extension = true;
    server.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    server.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server.not_before = date(start);
    server.not_after = date(today + chrono::Days::new(365));
    let cert = server.signed_by(&key, &issuer)?;
    Ok(Generated {
        ca_pem: ca_cert.pem(),
        cert_pem: cert.pem(),
        key_pem: key.serialize_pem(),
    })
}

/// Write a PEM file; the private key readable by its owner only.
fn write(path: &Path, text: &str, private: bool) -> Result<(), String> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    if private {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let _ = private;
    options
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("{}: {e}", path.display()))
}

/// The rustls server configuration for `files`.
///
/// # Errors
/// A message naming the certificate or key file that is missing or not PEM.
pub async fn server_config(files: &TlsFiles) -> Result<RustlsConfig, String> {
    crate::install_crypto_provider();
    let read = |path: &Path| std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()));
    let (cert, key) = (read(&files.cert)?, read(&files.key)?);
    RustlsConfig::from_pem(cert, key).await.map_err(|e| {
        format!(
            "{} / {}: not a PEM certificate chain and private key: {e}",
            files.cert.display(),
            files.key.display()
        )
    })
}

/// Serve `router` over TLS on `listener` until `shutdown` completes.
///
/// # Errors
/// I/O errors of the listener.
pub async fn serve(
    listener: tokio::net::TcpListener,
    config: RustlsConfig,
    router: axum::Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let handle = axum_server::Handle::new();
    let stopper = handle.clone();
    tokio::spawn(async move {
        shutdown.await;
        stopper.graceful_shutdown(Some(std::time::Duration::from_secs(5)));
    });
    let listener = listener.into_std()?;
    // TCP_NODELAY: small answers go out at once instead of waiting on a delayed ACK (Nagle).
    let acceptor = axum_server::tls_rustls::RustlsAcceptor::new(config)
        .acceptor(axum_server::accept::NoDelayAcceptor::new());
    axum_server::from_tcp(listener)?
        .acceptor(acceptor)
        .handle(handle)
        .serve(router.into_make_service())
        .await
}
