//! Venue threads: each venue's feed runs on its own OS thread with a
//! single-threaded tokio runtime, optionally pinned to one core, so a busy venue
//! never shares a scheduler (or a cache) with another.

use std::future::Future;
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::watch;

/// Nanoseconds since the Unix epoch (the `ts_recv` clock).
#[inline]
pub fn now_ns() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64)
}

/// Tells venue tasks to stop. Cloneable, works across threads and runtimes.
#[derive(Clone, Debug)]
pub struct Shutdown {
    rx: watch::Receiver<bool>,
}

/// The sending half of [`Shutdown`].
#[derive(Debug)]
pub struct ShutdownTrigger {
    tx: watch::Sender<bool>,
}

pub fn shutdown_channel() -> (ShutdownTrigger, Shutdown) {
    let (tx, rx) = watch::channel(false);
    (ShutdownTrigger { tx }, Shutdown { rx })
}

impl ShutdownTrigger {
    pub fn trigger(&self) {
        let _ = self.tx.send(true);
    }
}

impl Shutdown {
    pub fn is_triggered(&self) -> bool {
        *self.rx.borrow()
    }

    /// Resolves once shutdown is triggered (or the trigger is dropped).
    pub async fn wait(&mut self) {
        let _ = self.rx.wait_for(|stop| *stop).await;
    }
}

/// Why a venue thread could not start.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("cannot build the venue's tokio runtime: {0}")]
    Runtime(std::io::Error),
    #[error("cannot spawn the venue thread: {0}")]
    Thread(std::io::Error),
}

/// Where a venue thread ended up running.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pinning {
    NotRequested,
    Pinned(usize),
    /// The core does not exist or the OS refused; the thread runs unpinned.
    Failed(usize),
}

fn pin(core: Option<usize>) -> Pinning {
    let Some(wanted) = core else {
        return Pinning::NotRequested;
    };
    let found = core_affinity::get_core_ids()
        .unwrap_or_default()
        .into_iter()
        .find(|c| c.id == wanted);
    match found {
        Some(id) if core_affinity::set_for_current(id) => Pinning::Pinned(wanted),
        _ => Pinning::Failed(wanted),
    }
}

/// Run `make()`'s future to completion on a new thread named `name`, on a
/// current-thread runtime inside a `LocalSet` (so venue tasks may be `!Send`),
/// pinned to `core` when given. Returns the thread's join handle.
pub fn spawn_venue_thread<F, Fut>(
    name: String,
    core: Option<usize>,
    make: F,
) -> Result<std::thread::JoinHandle<Result<Fut::Output, RuntimeError>>, RuntimeError>
where
    F: FnOnce(Pinning) -> Fut + Send + 'static,
    Fut: Future + 'static,
    Fut::Output: Send + 'static,
{
    std::thread::Builder::new()
        .name(name.clone())
        .spawn(move || {
            let pinning = pin(core);
            match pinning {
                Pinning::Pinned(c) => tracing::info!(thread = %name, core = c, "venue thread pinned"),
                Pinning::Failed(c) => tracing::warn!(thread = %name, core = c, "cannot pin venue thread to core {c}; running unpinned"),
                Pinning::NotRequested => {}
            }
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(RuntimeError::Runtime)?;
            let local = tokio::task::LocalSet::new();
            Ok(local.block_on(&runtime, make(pinning)))
        })
        .map_err(RuntimeError::Thread)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_local_tasks_on_a_named_thread_and_stops_on_shutdown() {
        let (trigger, shutdown) = shutdown_channel();
        let handle = spawn_venue_thread("venue-test".into(), None, move |pinning| async move {
            assert_eq!(pinning, Pinning::NotRequested);
            let mut shutdown = shutdown;
            // A !Send task: proves the LocalSet is there.
            let rc = std::rc::Rc::new(5);
            let task = tokio::task::spawn_local(async move { *rc + 1 });
            let value = task.await.unwrap_or(0);
            shutdown.wait().await;
            (std::thread::current().name().map(String::from), value)
        })
        .expect("spawn");
        trigger.trigger();
        let (name, value) = handle.join().expect("join").expect("runtime");
        assert_eq!(name.as_deref(), Some("venue-test"));
        assert_eq!(value, 6);
    }

    #[test]
    fn pinning_to_a_missing_core_is_reported_not_fatal() {
        let handle = spawn_venue_thread("pin-test".into(), Some(100_000), |p| async move { p })
            .expect("spawn");
        assert_eq!(
            handle.join().expect("join").expect("rt"),
            Pinning::Failed(100_000)
        );
        let handle =
            spawn_venue_thread("pin-test0".into(), Some(0), |p| async move { p }).expect("spawn");
        let p = handle.join().expect("join").expect("rt");
        assert!(matches!(p, Pinning::Pinned(0) | Pinning::Failed(0)));
        assert!(now_ns() > 1_600_000_000_000_000_000);
    }
}
