//! Which server certificates API calls trust: the system's trust store plus any CA given with
//! `--ca-cert`, exactly as before, but loaded only when needed.
//!
//! Loading the system store reads and parses about 150 certificates, twice on Debian-like
//! systems (the bundle file and the hashed directory): about 4 ms, more than the rest of a
//! one-off call to a local endpoint. A server signed by a `--ca-cert` CA (a private endpoint,
//! the emulator) is verified against that CA alone; any other answer falls through to the full
//! system verifier (which also holds the extra CAs), so what is accepted is unchanged.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

/// Verifies servers against the extra CAs first, then against system store + extra CAs.
#[derive(Debug)]
pub struct Trust {
    provider: Arc<CryptoProvider>,
    extra_roots: Vec<CertificateDer<'static>>,
    /// Only the extra CAs; `None` without `--ca-cert`.
    extra: Option<Arc<WebPkiServerVerifier>>,
    /// The platform verifier, built on first need; holds the build error as text.
    system: OnceLock<Result<Arc<rustls_platform_verifier::Verifier>, String>>,
}

impl Trust {
    /// Trust for API calls: the system store plus `extra_roots`.
    ///
    /// # Errors
    /// What is wrong with the extra roots when one is not a usable CA certificate.
    pub fn new(extra_roots: Vec<CertificateDer<'static>>) -> Result<Self, String> {
        crate::install_crypto_provider();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let extra = if extra_roots.is_empty() {
            None
        } else {
            let mut store = RootCertStore::empty();
            for cert in &extra_roots {
                store
                    .add(cert.clone())
                    .map_err(|e| format!("not a usable CA certificate: {e}"))?;
            }
            let verifier =
                WebPkiServerVerifier::builder_with_provider(Arc::new(store), provider.clone())
                    .build()
                    .map_err(|e| format!("cannot use the CA certificates: {e}"))?;
            Some(verifier)
        };
        Ok(Trust {
            provider,
            extra_roots,
            extra,
            system: OnceLock::new(),
        })
    }

    /// Whether a `--ca-cert` CA is trusted besides the system store.
    pub fn has_extra_roots(&self) -> bool {
        self.extra.is_some()
    }

    /// The system verifier (built now if not yet); callers racing here wait for one build.
    pub fn system(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        let built = self.system.get_or_init(|| {
            rustls_platform_verifier::Verifier::new_with_extra_roots(
                self.extra_roots.iter().cloned(),
                self.provider.clone(),
            )
            .map(Arc::new)
            .map_err(|e| format!("cannot load the system's trusted certificates: {e}"))
        });
        built
            .as_deref()
            .map_err(|e| rustls::Error::General(e.clone()))
    }

    /// A rustls client configuration using this trust, offering HTTP/1.1 only: API calls are
    /// small JSON requests, for which HTTP/2's connection set-up costs more than it saves
    /// (a one-off call to a local endpoint takes 1.6 ms longer over h2; `tcr.map` is as fast
    /// over a pool of keep-alive connections). Tencent's SDKs speak HTTP/1.1 too.
    ///
    /// # Errors
    /// What went wrong if the crypto provider refuses the default protocol versions.
    pub fn client_config(self: &Arc<Self>) -> Result<rustls::ClientConfig, String> {
        let mut config = rustls::ClientConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("cannot set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(self.clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(config)
    }
}

impl ServerCertVerifier for Trust {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if let Some(extra) = &self.extra {
            let verified = extra.verify_server_cert(
                end_entity,
                intermediates,
                server_name,
                ocsp_response,
                now,
            );
            if verified.is_ok() {
                return verified;
            }
        }
        self.system()?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}
