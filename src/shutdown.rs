//! Stop requests: Ctrl-C (SIGINT) and SIGTERM (systemd, Docker, Kubernetes) end a
//! command the same clean way: journal flushed, final summary logged.

use std::fmt;

/// The signal that asked the process to stop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopSignal {
    Interrupt,
    Terminate,
}

impl fmt::Display for StopSignal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            StopSignal::Interrupt => "Ctrl-C",
            StopSignal::Terminate => "SIGTERM",
        })
    }
}

/// Resolves at the first SIGINT or SIGTERM. Call inside a tokio runtime.
pub async fn stop_requested() -> StopSignal {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => tokio::select! {
                _ = tokio::signal::ctrl_c() => StopSignal::Interrupt,
                _ = term.recv() => StopSignal::Terminate,
            },
            Err(err) => {
                tracing::warn!("cannot listen for SIGTERM ({err}); only Ctrl-C stops cleanly");
                interrupt().await
            }
        }
    }
    #[cfg(not(unix))]
    interrupt().await
}

async fn interrupt() -> StopSignal {
    if tokio::signal::ctrl_c().await.is_err() {
        // No signal handling at all: never resolve rather than stop at once.
        std::future::pending::<()>().await;
    }
    StopSignal::Interrupt
}
