//! TLS (rustls, ring provider only): server configs from PEM files or a generated
//! self-signed certificate, and a TLS listener for the WebSocket/HTTP port.

use std::io;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::server::TlsStream;
use tokio_rustls::TlsAcceptor;

use super::gate::{Gate, Guarded};

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("reading {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("{path} holds no certificate or no private key")]
    Empty { path: String },
    #[error("TLS setup: {0}")]
    Rustls(#[from] rustls::Error),
    #[error("generating a self-signed certificate: {0}")]
    Generate(String),
}

pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// A certificate chain and its key.
pub struct CertKey {
    pub certs: Vec<CertificateDer<'static>>,
    pub key: PrivateKeyDer<'static>,
}

impl CertKey {
    pub fn from_pem_files(cert: &Path, key: &Path) -> Result<CertKey, TlsError> {
        let read = |path: &Path| TlsError::Read {
            path: path.display().to_string(),
            reason: "not PEM".into(),
        };
        let certs: Vec<_> = CertificateDer::pem_file_iter(cert)
            .map_err(|e| TlsError::Read {
                path: cert.display().to_string(),
                reason: e.to_string(),
            })?
            .collect::<Result<_, _>>()
            .map_err(|_| read(cert))?;
        if certs.is_empty() {
            return Err(TlsError::Empty {
                path: cert.display().to_string(),
            });
        }
        let key = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsError::Read {
            path: key.display().to_string(),
            reason: e.to_string(),
        })?;
        Ok(CertKey { certs, key })
    }

    /// A self-signed certificate for `localhost` and 127.0.0.1 (tests, QUIC without files).
    pub fn self_signed() -> Result<CertKey, TlsError> {
        let generated = rcgen::generate_simple_self_signed(vec![
            "localhost".to_string(),
            "127.0.0.1".to_string(),
        ])
        .map_err(|e| TlsError::Generate(e.to_string()))?;
        let cert = generated.cert.der().clone();
        let key = PrivatePkcs8KeyDer::from(generated.signing_key.serialize_der());
        Ok(CertKey {
            certs: vec![cert],
            key: PrivateKeyDer::Pkcs8(key),
        })
    }

    pub fn clone_key(&self) -> PrivateKeyDer<'static> {
        self.key.clone_key()
    }

    /// A server config with the given ALPN protocols (TLS 1.3 and 1.2; QUIC uses 1.3).
    pub fn server_config(&self, alpn: &[&[u8]]) -> Result<rustls::ServerConfig, TlsError> {
        let mut config = rustls::ServerConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(self.certs.clone(), self.clone_key())?;
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        Ok(config)
    }
}

/// Accepts TCP connections and completes TLS handshakes off the accept path, so a
/// client that stalls its handshake delays nobody.
pub struct TlsListener {
    local: SocketAddr,
    ready: mpsc::Receiver<(TlsIo, SocketAddr)>,
}

/// A TLS connection behind the gate: the slot and the handshake deadline on the TCP
/// stream, the request-header deadline on the decrypted one.
pub type TlsIo = Guarded<TlsStream<Guarded<TcpStream>>>;

impl TlsListener {
    pub fn new(
        listener: TcpListener,
        config: rustls::ServerConfig,
        gate: Arc<Gate>,
    ) -> io::Result<TlsListener> {
        let local = listener.local_addr()?;
        let acceptor = TlsAcceptor::from(Arc::new(config));
        let (tx, ready) = mpsc::channel(128);
        tokio::spawn(async move {
            loop {
                let Ok((tcp, peer)) = listener.accept().await else {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                };
                let Ok(slot) = gate.admit(peer) else {
                    drop(tcp);
                    continue;
                };
                let acceptor = acceptor.clone();
                let _ = tcp.set_nodelay(true);
                let ready = tx.clone();
                let gate = Arc::clone(&gate);
                tokio::spawn(async move {
                    let tcp = gate.deadline(tcp, Some(slot));
                    let handshake =
                        tokio::time::timeout(Duration::from_secs(10), acceptor.accept(tcp));
                    if let Ok(Ok(stream)) = handshake.await {
                        let _ = ready.send((gate.deadline(stream, None), peer)).await;
                    }
                });
                if tx.is_closed() {
                    return;
                }
            }
        });
        Ok(TlsListener { local, ready })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsIo;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(conn) => conn,
            // The accept task only ends with the runtime; wait forever like a listener.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local)
    }
}
