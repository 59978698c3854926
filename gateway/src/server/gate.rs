//! Admission of TCP connections before any byte is read: a server-wide cap that keeps
//! a reserve of file descriptors the feeds, the journal and the sinks never compete
//! for, a per-address cap for anonymous access, and a deadline for a new connection
//! to send its request headers (or finish its TLS handshake).

use std::collections::HashMap;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use parking_lot::Mutex;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Sleep;

use crate::config::GatewayConfig;
use crate::metrics::Metrics;

/// File descriptors kept free for everything but subscriber connections.
pub const FD_RESERVE: u64 = 512;

/// Counts open connections, in total and per address.
pub struct Gate {
    max_total: usize,
    /// 0: no per-address cap (API keys required: keys carry their own limits).
    max_per_ip: usize,
    open: AtomicUsize,
    per_ip: Mutex<HashMap<IpAddr, usize>>,
    header_timeout: Duration,
    metrics: Arc<Metrics>,
}

/// Why a connection was closed at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    ServerFull,
    AddressFull,
}

impl Gate {
    pub fn new(config: &GatewayConfig, metrics: Arc<Metrics>) -> Arc<Gate> {
        let fds = raise_fd_limit();
        let fd_cap = fds.saturating_sub(FD_RESERVE).max(16) as usize;
        let max_total = config.max_connections.min(fd_cap);
        if max_total < config.max_connections {
            tracing::warn!(
                "gateway: max_connections {} lowered to {max_total}: the process may open {fds} files and {FD_RESERVE} stay reserved for feeds and storage",
                config.max_connections
            );
        }
        Arc::new(Gate {
            max_total,
            max_per_ip: if config.allow_anonymous {
                config.max_connections_per_ip
            } else {
                0
            },
            open: AtomicUsize::new(0),
            per_ip: Mutex::new(HashMap::new()),
            header_timeout: Duration::from_millis(config.header_timeout_ms.max(1)),
            metrics,
        })
    }

    pub fn max_total(&self) -> usize {
        self.max_total
    }

    /// A slot for a connection from `peer`, or why there is none.
    pub fn admit(self: &Arc<Self>, peer: SocketAddr) -> Result<Slot, Refused> {
        let ok = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
                (n < self.max_total).then_some(n + 1)
            })
            .is_ok();
        if !ok {
            self.metrics.error("connection_refused_server_full");
            return Err(Refused::ServerFull);
        }
        let ip = peer.ip();
        if self.max_per_ip > 0 {
            let mut per_ip = self.per_ip.lock();
            let count = per_ip.entry(ip).or_default();
            if *count >= self.max_per_ip {
                drop(per_ip);
                self.open.fetch_sub(1, Ordering::AcqRel);
                self.metrics.error("connection_refused_address_full");
                return Err(Refused::AddressFull);
            }
            *count += 1;
        }
        Ok(Slot {
            gate: Arc::clone(self),
            ip,
        })
    }

    /// Wraps a stream so it must send something the server answers (its request
    /// headers, its TLS hello) within the header timeout.
    pub fn deadline<T>(&self, inner: T, slot: Option<Slot>) -> Guarded<T> {
        Guarded {
            inner,
            _slot: slot,
            deadline: Some(Box::pin(tokio::time::sleep(self.header_timeout))),
        }
    }

    pub fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

/// One admitted connection; frees its place when dropped.
pub struct Slot {
    gate: Arc<Gate>,
    ip: IpAddr,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.gate.open.fetch_sub(1, Ordering::AcqRel);
        if self.gate.max_per_ip > 0 {
            let mut per_ip = self.gate.per_ip.lock();
            if let Some(count) = per_ip.get_mut(&self.ip) {
                *count -= 1;
                if *count == 0 {
                    per_ip.remove(&self.ip);
                }
            }
        }
    }
}

/// A stream holding its [`Slot`], failing its reads once the header deadline passes
/// before the server wrote anything (so hyper drops a half-sent request).
pub struct Guarded<T> {
    inner: T,
    _slot: Option<Slot>,
    deadline: Option<Pin<Box<Sleep>>>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Guarded<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        match Pin::new(&mut this.inner).poll_read(cx, buf) {
            Poll::Pending => {
                if let Some(deadline) = this.deadline.as_mut() {
                    if deadline.as_mut().poll(cx).is_ready() {
                        return Poll::Ready(Err(io::Error::new(
                            io::ErrorKind::TimedOut,
                            "no complete request within the header timeout",
                        )));
                    }
                }
                Poll::Pending
            }
            ready => ready,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Guarded<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_write(cx, buf);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.deadline = None;
        }
        result
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = &mut *self;
        let result = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        if matches!(result, Poll::Ready(Ok(n)) if n > 0) {
            this.deadline = None;
        }
        result
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Plain TCP behind the gate.
pub struct GatedListener {
    pub tcp: TcpListener,
    pub gate: Arc<Gate>,
}

impl axum::serve::Listener for GatedListener {
    type Io = Guarded<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (tcp, peer) = match self.tcp.accept().await {
                Ok(conn) => conn,
                Err(e) => {
                    // Out of descriptors or similar: wait instead of spinning.
                    tracing::warn!("gateway: accept failed: {e}");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match self.gate.admit(peer) {
                Ok(slot) => {
                    // Small messages go out at once (no Nagle delay behind an unacked packet).
                    let _ = tcp.set_nodelay(true);
                    return (self.gate.deadline(tcp, Some(slot)), peer);
                }
                Err(_) => drop(tcp),
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Raises the soft limit on open files to the hard limit; returns the limit in force.
fn raise_fd_limit() -> u64 {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) != 0 {
            return 1024;
        }
        if limit.rlim_cur < limit.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: limit.rlim_max,
                rlim_max: limit.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                return raised.rlim_cur;
            }
        }
    }
    limit.rlim_cur
}
