//! Waking consumers that sleep, without ever blocking the producer.
//!
//! Each consumer owns one [`WaitNode`] holding its current waker (an async task's,
//! or one that unparks its thread). To sleep it registers the waker, pushes the node
//! onto the ring's lock-free [`WaiterStack`], issues a SeqCst fence and checks the
//! ring once more. The producer, after publishing, issues a SeqCst fence and loads
//! the stack head: null (nobody waits) costs one load, no RMW, no syscall. Otherwise
//! it takes the whole stack with one swap and wakes each node. The two fences make
//! sure that either the consumer's re-check sees the record or the producer sees the
//! node, so no wake-up is lost. Only the producer ever takes from the stack, so the
//! push-only Treiber stack has no ABA problem.

use std::ptr;
use std::task::{Wake, Waker};
use std::thread::{Thread, ThreadId};
use std::time::Instant;

use super::sync::{
    fence, spin_loop, Arc, AtomicBool, AtomicPtr, AtomicUsize, Ordering::SeqCst, UnsafeCell,
};

/// One consumer's waiting place. `queued` is true while the node is on a stack or
/// in a list the producer is waking, so a node is never linked twice.
pub(crate) struct WaitNode {
    next: AtomicPtr<WaitNode>,
    queued: AtomicBool,
    waker: AtomicWaker,
}

impl WaitNode {
    pub(crate) fn new() -> Arc<Self> {
        Arc::new(Self {
            next: AtomicPtr::new(ptr::null_mut()),
            queued: AtomicBool::new(false),
            waker: AtomicWaker::new(),
        })
    }
}

/// Nodes of consumers that wait for the next publish.
pub(crate) struct WaiterStack {
    head: AtomicPtr<WaitNode>,
}

impl WaiterStack {
    pub(crate) fn new() -> Self {
        Self {
            head: AtomicPtr::new(ptr::null_mut()),
        }
    }

    /// Consumer side: store `waker` in `node`, make sure the node is on the stack,
    /// then fence so the caller's re-check of the ring is ordered after both.
    pub(crate) fn register(&self, node: &Arc<WaitNode>, waker: &Waker) {
        node.waker.register(waker);
        if !node.queued.swap(true, SeqCst) {
            let raw = Arc::into_raw(Arc::clone(node)).cast_mut();
            let mut head = self.head.load(SeqCst);
            loop {
                node.next.store(head, SeqCst);
                match self.head.compare_exchange_weak(head, raw, SeqCst, SeqCst) {
                    Ok(_) => break,
                    Err(current) => head = current,
                }
            }
        }
        fence(SeqCst);
    }

    /// Producer side, after its writes: wake everyone waiting. Must only be called
    /// by the one producer (or the ring's drop), never concurrently with itself.
    pub(crate) fn wake_all(&self) {
        fence(SeqCst);
        if self.head.load(SeqCst).is_null() {
            return;
        }
        let mut node = self.head.swap(ptr::null_mut(), SeqCst);
        while !node.is_null() {
            // SAFETY: every pointer on the stack came from `Arc::into_raw` in
            // `register` and is taken off the stack exactly once, here.
            let arc = unsafe { Arc::from_raw(node) };
            node = arc.next.load(SeqCst);
            // Read `next` before clearing `queued`: from here the consumer may
            // push the node again, rewriting `next`. A swap, not a store: every
            // access to `queued` is then an RMW, totally ordered even in loom's
            // model (which may order a plain store before an earlier RMW).
            arc.queued.swap(false, SeqCst);
            arc.waker.wake();
        }
    }
}

impl Drop for WaiterStack {
    fn drop(&mut self) {
        let mut node = self.head.load(SeqCst);
        while !node.is_null() {
            // SAFETY: as in `wake_all`; nobody else can reach the stack any more.
            let arc = unsafe { Arc::from_raw(node) };
            node = arc.next.load(SeqCst);
        }
    }
}

/// A waker that unparks one thread: how `recv_timeout` sleeps on the same wait
/// path as async tasks.
fn thread_waker(thread: Thread) -> Waker {
    struct Unparker(Thread);
    impl Wake for Unparker {
        fn wake(self: std::sync::Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &std::sync::Arc<Self>) {
            self.0.unpark();
        }
    }
    Waker::from(std::sync::Arc::new(Unparker(thread)))
}

const WAITING: usize = 0;
const REGISTERING: usize = 0b01;
const WAKING: usize = 0b10;

/// One waker slot shared by a registering consumer and a waking producer: the
/// state machine of `futures`' `AtomicWaker`, with SeqCst so the ordering argument
/// in the module docs holds across `queued` and this state.
struct AtomicWaker {
    state: AtomicUsize,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: `waker` is only touched by whoever moved `state` out of WAITING (into
// REGISTERING or WAKING), which is exclusive.
unsafe impl Send for AtomicWaker {}
unsafe impl Sync for AtomicWaker {}

impl AtomicWaker {
    fn new() -> Self {
        Self {
            state: AtomicUsize::new(WAITING),
            waker: UnsafeCell::new(None),
        }
    }

    fn register(&self, waker: &Waker) {
        match self
            .state
            .compare_exchange(WAITING, REGISTERING, SeqCst, SeqCst)
            .unwrap_or_else(|state| state)
        {
            WAITING => {
                self.waker.with_mut(|slot| {
                    // SAFETY: we hold REGISTERING, so no one else touches the slot.
                    let slot = unsafe { &mut *slot };
                    if !slot.as_ref().is_some_and(|old| old.will_wake(waker)) {
                        *slot = Some(waker.clone());
                    }
                });
                if self
                    .state
                    .compare_exchange(REGISTERING, WAITING, SeqCst, SeqCst)
                    .is_err()
                {
                    // A wake arrived while we registered: it could not take the
                    // waker, so deliver it ourselves.
                    // SAFETY: still REGISTERING (plus WAKING): exclusive.
                    let pending = self.waker.with_mut(|slot| unsafe { (*slot).take() });
                    self.state.swap(WAITING, SeqCst);
                    if let Some(waker) = pending {
                        waker.wake();
                    }
                }
            }
            // A wake is in progress: it may have read the old waker, so wake the
            // new one now (the caller re-checks the ring anyway), and let the
            // waking thread finish before we are polled again.
            _ => {
                waker.wake_by_ref();
                spin_loop();
            }
        }
    }

    fn wake(&self) {
        if self.state.fetch_or(WAKING, SeqCst) == WAITING {
            // SAFETY: we moved the state from WAITING to WAKING: exclusive access.
            let waker = self.waker.with_mut(|slot| unsafe { (*slot).take() });
            self.state.fetch_and(!WAKING, SeqCst);
            if let Some(waker) = waker {
                waker.wake();
            }
        }
    }
}

/// The thread waker a blocking receive parks with, rebuilt only if the receiver
/// moved to another thread.
#[derive(Debug, Default)]
pub(crate) struct Parker {
    current: Option<(ThreadId, Waker)>,
}

impl Parker {
    pub(crate) fn waker(&mut self) -> Waker {
        let thread = std::thread::current();
        match &self.current {
            Some((id, waker)) if *id == thread.id() => waker.clone(),
            _ => {
                let waker = thread_waker(thread.clone());
                self.current = Some((thread.id(), waker.clone()));
                waker
            }
        }
    }

    /// Park until unparked (or spuriously woken) or `deadline`; false if the
    /// deadline had already passed.
    pub(crate) fn park_until(deadline: Option<Instant>) -> bool {
        match deadline {
            None => std::thread::park(),
            Some(deadline) => {
                let now = Instant::now();
                if now >= deadline {
                    return false;
                }
                std::thread::park_timeout(deadline - now);
            }
        }
        true
    }
}
