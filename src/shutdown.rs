//! Stop requests: Ctrl-C (SIGINT) and SIGTERM (systemd, Docker, Kubernetes) end a
//! command the same clean way: journal flushed, final summary logged.
//!
//! A command installs its [`StopListener`] before it starts any work, so a signal that
//! arrives during start-up is kept and ends the run cleanly once it is waited on
//! (instead of the default action killing the process mid-start).

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

/// SIGINT and SIGTERM handlers, installed when created.
pub struct StopListener {
    #[cfg(unix)]
    interrupt: Option<tokio::signal::unix::Signal>,
    #[cfg(unix)]
    terminate: Option<tokio::signal::unix::Signal>,
}

impl StopListener {
    /// Starts listening now. Call inside a tokio runtime.
    pub fn install() -> Self {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{signal, SignalKind};
            let listen = |kind: SignalKind, name: &str| match signal(kind) {
                Ok(signal) => Some(signal),
                Err(err) => {
                    tracing::warn!(
                        "cannot listen for {name} ({err}): it will not stop tickd cleanly"
                    );
                    None
                }
            };
            Self {
                interrupt: listen(SignalKind::interrupt(), "Ctrl-C"),
                terminate: listen(SignalKind::terminate(), "SIGTERM"),
            }
        }
        #[cfg(not(unix))]
        Self {}
    }

    /// Resolves at the first SIGINT or SIGTERM since [`StopListener::install`].
    pub async fn wait(&mut self) -> StopSignal {
        #[cfg(unix)]
        {
            async fn next(signal: &mut Option<tokio::signal::unix::Signal>) {
                match signal {
                    Some(signal) => {
                        if signal.recv().await.is_none() {
                            std::future::pending::<()>().await;
                        }
                    }
                    None => std::future::pending::<()>().await,
                }
            }
            tokio::select! {
                _ = next(&mut self.interrupt) => StopSignal::Interrupt,
                _ = next(&mut self.terminate) => StopSignal::Terminate,
            }
        }
        #[cfg(not(unix))]
        {
            if tokio::signal::ctrl_c().await.is_err() {
                std::future::pending::<()>().await;
            }
            StopSignal::Interrupt
        }
    }
}

/// Resolves at the first SIGINT or SIGTERM from the first poll on. Commands with a
/// start-up phase install a [`StopListener`] first instead.
pub async fn stop_requested() -> StopSignal {
    StopListener::install().wait().await
}
