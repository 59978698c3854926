//! The client's TLS trust, one place for both transports (wss:// and QUIC): the
//! server's own certificate (`--cert`), or none checked at all (`--insecure`, for a
//! self-signed test server whose certificate is not at hand).

use std::sync::Arc;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{verify_tls12_signature, verify_tls13_signature, CryptoProvider};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme, SupportedProtocolVersion};

use super::ClientError;

/// Which server certificates the client accepts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum Trust {
    /// The usual web roots (wss:// only; QUIC servers are tickd's own and need one of
    /// the others).
    #[default]
    WebRoots,
    /// This certificate (DER), and only it: e.g. the server's self-signed one.
    Cert(Vec<u8>),
    /// Any certificate: the connection is encrypted but the server is not authenticated.
    Insecure,
}

impl Trust {
    /// A rustls client configuration, or `None` for the web roots (each transport has its
    /// own default for those).
    pub(crate) fn client_config(
        &self,
        versions: &[&'static SupportedProtocolVersion],
    ) -> Result<Option<rustls::ClientConfig>, ClientError> {
        let provider = crate::server::tls::provider();
        let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
            .with_protocol_versions(versions)
            .map_err(|e| ClientError::Connect(e.to_string()))?;
        Ok(match self {
            Trust::WebRoots => None,
            Trust::Cert(der) => {
                let mut roots = rustls::RootCertStore::empty();
                roots
                    .add(CertificateDer::from(der.clone()))
                    .map_err(|e| ClientError::Address(format!("the certificate to trust: {e}")))?;
                Some(builder.with_root_certificates(roots).with_no_client_auth())
            }
            Trust::Insecure => Some(
                builder
                    .dangerous()
                    .with_custom_certificate_verifier(Arc::new(AnyCertificate(provider)))
                    .with_no_client_auth(),
            ),
        })
    }

    /// The same trust for an HTTPS client (e.g. the gateway's HTTP API), or `None` for
    /// the web roots.
    pub fn https_config(&self) -> Result<Option<Arc<rustls::ClientConfig>>, ClientError> {
        Ok(self.client_config(rustls::DEFAULT_VERSIONS)?.map(Arc::new))
    }
}

/// Accepts any certificate chain, but still checks that the server holds the key of the
/// certificate it sent (the handshake signature), so the session is at least encrypted
/// to whoever answered.
#[derive(Debug)]
struct AnyCertificate(Arc<CryptoProvider>);

impl ServerCertVerifier for AnyCertificate {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
