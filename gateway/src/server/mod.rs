//! The gateway's servers: WebSocket and HTTP on one TCP port (TLS when configured),
//! QUIC on a UDP port, all fed by one router reading the bus.
//!
//! ```no_run
//! # async fn run(bus: tickd_bus::ring::Bus, registry: tickd_bus::SharedRegistry) {
//! use tickd_gateway::{Gateway, GatewayConfig};
//! let handle = Gateway::start(GatewayConfig::default(), bus, registry, None).await.unwrap();
//! println!("ws://{}/v1/stream", handle.local_addr());
//! handle.shutdown().await;
//! # }
//! ```

pub mod auth;
pub mod encode;
pub mod gate;
mod outbox;
pub mod quic;
pub mod replay;
pub mod session;
pub mod tls;
mod ws;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Instant;

use tickd_bus::ring::Bus;
use tickd_bus::SharedRegistry;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::config::GatewayConfig;
use crate::fanout::Router;
use crate::metrics::Metrics;

/// What every handler shares.
#[derive(Clone)]
pub struct Shared {
    pub config: Arc<GatewayConfig>,
    pub router: Router,
    pub auth: Arc<auth::Auth>,
    pub metrics: Arc<Metrics>,
    pub journal_dir: Option<PathBuf>,
    pub shutdown: watch::Receiver<bool>,
    pub started: Instant,
    /// History queries in flight across the server.
    pub history: Arc<crate::http::stream::HistoryLimits>,
    /// Bytes of records queued across all connections.
    pub buffers: Arc<crate::fanout::Budget>,
}

impl Shared {
    /// The protocol state of one admitted connection, WebSocket or QUIC: its byte
    /// budget under the server's, and the keys a later `hello` may bring.
    pub fn session(
        &self,
        admission: auth::Admission,
        encoding: crate::protocol::Encoding,
        make_notify: Box<dyn Fn() -> Arc<tokio::sync::Notify> + Send>,
    ) -> session::Session {
        let mut session = session::Session::new(
            self.router.clone(),
            Arc::clone(&self.config),
            admission,
            encoding,
            make_notify,
        );
        session.set_budget(crate::fanout::Budget::new(
            self.config.max_connection_buffer_bytes,
            Some(Arc::clone(&self.buffers)),
        ));
        session.set_auth(Arc::clone(&self.auth));
        session
    }
}

#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("listening on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error(transparent)]
    Tls(#[from] tls::TlsError),
    #[error("QUIC: {0}")]
    Quic(String),
}

pub struct Gateway;

impl Gateway {
    /// Binds the configured ports and starts serving. Call inside a tokio runtime.
    pub async fn start(
        config: GatewayConfig,
        bus: Bus,
        registry: SharedRegistry,
        journal_dir: Option<PathBuf>,
    ) -> Result<GatewayHandle, GatewayError> {
        let metrics = Arc::new(Metrics::default());
        let router = Router::new(registry, Arc::clone(&metrics));
        let (shutdown_tx, shutdown) = watch::channel(false);
        let history = Arc::new(crate::http::stream::HistoryLimits::new(
            config.max_history_queries,
        ));
        let buffers = crate::fanout::Budget::new(config.max_total_buffer_bytes, None);
        let shared = Shared {
            history,
            buffers,
            auth: Arc::new(auth::Auth::new(&config)),
            config: Arc::new(config),
            router: router.clone(),
            metrics: Arc::clone(&metrics),
            journal_dir,
            shutdown,
            started: Instant::now(),
        };
        let mut tasks = vec![router.spawn(&bus)];
        let app = crate::http::routes(&shared)
            .route("/v1/stream", axum::routing::get(ws::upgrade))
            .with_state(shared.clone());
        let addr = shared.config.listen;
        let tcp = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| GatewayError::Bind { addr, source })?;
        let local_addr = tcp
            .local_addr()
            .map_err(|source| GatewayError::Bind { addr, source })?;
        let mut stop = shared.shutdown.clone();
        let graceful = async move {
            let _ = stop.changed().await;
        };
        let files_cert = match &shared.config.tls {
            Some(files) => Some(tls::CertKey::from_pem_files(&files.cert, &files.key)?),
            None => None,
        };
        let gate = gate::Gate::new(&shared.config, Arc::clone(&shared.metrics));
        if let Some(cert) = &files_cert {
            let config = cert.server_config(&[b"http/1.1"])?;
            let listener = tls::TlsListener::new(tcp, config, Arc::clone(&gate))
                .map_err(|source| GatewayError::Bind { addr, source })?;
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(graceful)
                    .await;
            }));
        } else {
            let listener = gate::GatedListener {
                tcp,
                gate: Arc::clone(&gate),
            };
            tasks.push(tokio::spawn(async move {
                let _ = axum::serve(listener, app)
                    .with_graceful_shutdown(graceful)
                    .await;
            }));
        }
        let mut quic_addr = None;
        let mut quic_cert = None;
        if let Some(addr) = shared.config.quic_listen {
            let cert = match files_cert {
                Some(cert) => cert,
                None => tls::CertKey::self_signed()?,
            };
            quic_cert = cert.certs.first().cloned();
            let (bound, task) = quic::start(addr, &cert, shared.clone(), Arc::clone(&gate))?;
            quic_addr = Some(bound);
            tasks.push(task);
        }
        Ok(GatewayHandle {
            local_addr,
            quic_addr,
            quic_cert,
            shutdown: shutdown_tx,
            tasks,
            metrics,
            router,
            buffers: Arc::clone(&shared.buffers),
        })
    }
}

/// A running gateway.
pub struct GatewayHandle {
    local_addr: SocketAddr,
    quic_addr: Option<SocketAddr>,
    quic_cert: Option<rustls::pki_types::CertificateDer<'static>>,
    shutdown: watch::Sender<bool>,
    tasks: Vec<JoinHandle<()>>,
    metrics: Arc<Metrics>,
    router: Router,
    buffers: Arc<crate::fanout::Budget>,
}

impl GatewayHandle {
    /// The WebSocket + HTTP address actually bound (port 0 in the config → ephemeral).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn quic_addr(&self) -> Option<SocketAddr> {
        self.quic_addr
    }

    /// The QUIC server's certificate (DER), for clients to trust when it is self-signed.
    pub fn quic_cert(&self) -> Option<&rustls::pki_types::CertificateDer<'static>> {
        self.quic_cert.as_ref()
    }

    /// Bytes of records queued across all connections now.
    pub fn buffered_bytes(&self) -> usize {
        self.buffers.used()
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.metrics
    }

    pub fn router(&self) -> &Router {
        &self.router
    }

    /// Tells every connection `closing`, stops accepting, and waits briefly for the tasks.
    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        for task in self.tasks {
            task.abort();
            let _ = task.await;
        }
    }
}
