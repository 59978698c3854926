//! Sleeping consumers: parked threads and async tasks are woken by publishes and
//! by the producer's drop, and never miss a wake-up (a miss would stall a
//! ping-pong until its generous timeout and fail the test).

use std::future::Future;
use std::pin::pin;
use std::sync::{mpsc, Arc};
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};
use std::time::{Duration, Instant};

use tickd_bus::ring::{ring, Bus, MultiRecv, TryRecv};
use tickd_bus::RecordBuf;

const ROUNDS: u64 = 3_000;
const PATIENCE: Duration = Duration::from_secs(20);

fn record(counter: u64) -> RecordBuf {
    RecordBuf::from_words([counter; RecordBuf::WORDS])
}

/// A minimal executor: poll, park until woken. Fails if the future is not woken
/// within `PATIENCE` (a lost wake-up), instead of re-polling on a timer.
fn block_on<F: Future>(future: F) -> F::Output {
    struct Unpark(Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        let parked = Instant::now();
        thread::park_timeout(PATIENCE);
        assert!(parked.elapsed() < PATIENCE, "future was never woken");
    }
}

#[test]
fn recv_timeout_returns_empty_when_nothing_arrives() {
    let (_producer, handle) = ring(4);
    let mut consumer = handle.subscribe();
    assert_eq!(
        consumer.recv_timeout(Duration::from_millis(20)),
        TryRecv::Empty
    );
}

/// Thread A publishes on ring 1 and parks for the echo on ring 2; thread B parks
/// on ring 1 (or awaits it, with `use_async`) and echoes on ring 2.
fn ping_pong(use_async: bool) {
    let (mut ping, ping_handle) = ring(16);
    let (mut pong, pong_handle) = ring(16);
    let mut pings = ping_handle.subscribe();
    let mut pongs = pong_handle.subscribe();
    let echo = thread::spawn(move || {
        for round in 0..ROUNDS {
            let got = if use_async {
                block_on(pings.recv())
            } else {
                pings.recv_timeout(PATIENCE)
            };
            assert_eq!(got, TryRecv::Record(record(round)));
            pong.publish(&record(round));
        }
        let end = if use_async {
            block_on(pings.recv())
        } else {
            pings.recv_timeout(PATIENCE)
        };
        assert_eq!(end, TryRecv::Closed);
    });
    for round in 0..ROUNDS {
        ping.publish(&record(round));
        assert_eq!(
            pongs.recv_timeout(PATIENCE),
            TryRecv::Record(record(round)),
            "round {round}"
        );
    }
    drop(ping);
    echo.join().expect("echo thread panicked");
    assert_eq!(pongs.recv_timeout(PATIENCE), TryRecv::Closed);
}

#[test]
fn parked_threads_are_woken_by_every_publish() {
    ping_pong(false);
}

#[test]
fn async_tasks_are_woken_by_every_publish() {
    ping_pong(true);
}

#[test]
fn producer_drop_wakes_parked_and_async_consumers() {
    let (producer, handle) = ring(4);
    let (ready, waiting) = mpsc::channel();
    let sleepers: Vec<_> = [false, true]
        .into_iter()
        .map(|use_async| {
            let mut consumer = handle.subscribe();
            let ready = ready.clone();
            thread::spawn(move || {
                ready.send(()).expect("test thread gone");
                if use_async {
                    block_on(consumer.recv())
                } else {
                    consumer.recv_timeout(PATIENCE)
                }
            })
        })
        .collect();
    for _ in 0..2 {
        waiting.recv().expect("sleeper died");
    }
    drop(producer);
    for sleeper in sleepers {
        assert_eq!(sleeper.join().expect("sleeper panicked"), TryRecv::Closed);
    }
}

/// Three producer threads, one consumer of all of them that parks (or awaits):
/// each ring's records arrive complete and in order, then `Closed`.
fn multi_ring_wakes(use_async: bool) {
    let mut bus = Bus::new();
    let mut producers = Vec::new();
    for _ in 0..3 {
        let (producer, handle) = ring(1 << 14);
        bus.add(handle);
        producers.push(producer);
    }
    let mut all = bus.subscribe_all();
    let reader = thread::spawn(move || {
        let mut next = [0u64; 3];
        loop {
            let got = if use_async {
                block_on(all.recv())
            } else {
                all.recv_timeout(PATIENCE)
            };
            match got {
                MultiRecv::Record { ring, record: r } => {
                    assert_eq!(r, record(next[ring]), "ring {ring}");
                    next[ring] += 1;
                }
                MultiRecv::Closed => return next,
                other => panic!("unexpected {other:?}"),
            }
        }
    });
    let writers: Vec<_> = producers
        .into_iter()
        .map(|mut producer| {
            thread::spawn(move || {
                for counter in 0..ROUNDS {
                    producer.publish(&record(counter));
                    if counter % 64 == 0 {
                        // Pause now and then so the reader drains and sleeps.
                        thread::sleep(Duration::from_micros(200));
                    }
                }
            })
        })
        .collect();
    for writer in writers {
        writer.join().expect("writer panicked");
    }
    assert_eq!(reader.join().expect("reader panicked"), [ROUNDS; 3]);
}

#[test]
fn multi_consumer_parks_across_rings() {
    multi_ring_wakes(false);
}

#[test]
fn multi_consumer_awaits_across_rings() {
    multi_ring_wakes(true);
}

/// A waker that counts its wakes.
struct CountWakes(std::sync::atomic::AtomicUsize);
impl Wake for CountWakes {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

#[test]
fn quiet_publishes_wake_no_one_until_the_producer_wakes_once() {
    let (mut producer, handle) = ring(16);
    let mut consumer = handle.subscribe();
    let wakes = Arc::new(CountWakes(0.into()));
    let waker = Waker::from(Arc::clone(&wakes));
    let mut cx = Context::from_waker(&waker);
    let count = || wakes.0.load(std::sync::atomic::Ordering::SeqCst);
    {
        let mut recv = pin!(consumer.recv());
        assert!(recv.as_mut().poll(&mut cx).is_pending(), "ring is empty");
        for n in 0..3 {
            producer.publish_quiet(&record(n));
        }
        assert_eq!(count(), 0, "a quiet publish must not wake the sleeper");
        producer.wake();
        assert_eq!(count(), 1, "one wake for the batch");
        producer.wake();
        assert_eq!(count(), 1, "the woken consumer is off the waiter stack");
        assert_eq!(
            recv.as_mut().poll(&mut cx),
            Poll::Ready(TryRecv::Record(record(0)))
        );
    }
    // The rest of the batch is there without another wake.
    assert_eq!(consumer.try_recv(), TryRecv::Record(record(1)));
    assert_eq!(consumer.try_recv(), TryRecv::Record(record(2)));
    assert_eq!(consumer.try_recv(), TryRecv::Empty);
}
