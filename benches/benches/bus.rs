//! The bus's broadcast ring against a plain `crossbeam_queue::ArrayQueue` handoff,
//! measured in the same run: throughput and round-trip latency of one producer
//! (the bench thread) feeding 1, 2 and 4 spinning consumer threads the same
//! `RecordBuf` (152 bytes in record layout 2, 96 in layout 1).
//!
//! A broadcast ring hands every record to every consumer, so the fair queue
//! baseline is one `ArrayQueue` per consumer, each record pushed into each queue.
//! Both transports run under the same harness: the producer stays at most
//! `WINDOW` records ahead of the slowest consumer (so the ring never laps anyone
//! and the queues never fill), and an iteration ends when every consumer has
//! acknowledged every record through its own padded progress counter.
//!
//! `bus/round_trip/ring_parked/1` is the same round trip with a consumer that
//! sleeps in `recv_timeout`: the cost of waking a parked thread.
//!
//! `bus/publish_only` is the producer's own cost with nobody reading (the ring
//! still fences and checks for sleepers), beside an uncontended `ArrayQueue`
//! push + pop on one thread.
//!
//! This machine has 2 cores: with 2 or 4 consumers the spinning threads
//! outnumber the cores, and those numbers measure the scheduler as much as the
//! transport. Consumers and the producer yield after a short spin so that
//! oversubscribed runs still progress.
//!
//! After the criterion groups, an interleaved comparison alternates the ring and
//! the queues round by round and prints min / median per round (see `interleaved`).
//!
//! `cargo bench -p tickd-benches --bench bus -- --warm-up-time 1 --measurement-time 3`

use std::hint::{black_box, spin_loop};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use criterion::{criterion_group, BenchmarkId, Criterion, Throughput};
use crossbeam_queue::ArrayQueue;
use tickd_bus::ring::{ring, Consumer, Producer, TryRecv};
use tickd_bus::RecordBuf;

const CAPACITY: usize = 4096;
/// Most records in flight: half the ring, so no consumer is ever lapped.
const WINDOW: u64 = CAPACITY as u64 / 2;
const CONSUMERS: [usize; 3] = [1, 2, 4];
/// Empty polls before a thread yields its core.
const SPINS_BEFORE_YIELD: u32 = 256;

/// A one-producer, many-consumer transport under test.
trait Fanout: Sized {
    type Rx: Send + 'static;
    fn open(consumers: usize) -> (Self, Vec<Self::Rx>);
    fn send(&mut self, record: &RecordBuf);
    fn poll(rx: &mut Self::Rx) -> Option<RecordBuf>;
}

struct Ring(Producer);

impl Fanout for Ring {
    type Rx = Consumer;

    fn open(consumers: usize) -> (Self, Vec<Consumer>) {
        let (producer, handle) = ring(CAPACITY);
        let rxs = (0..consumers).map(|_| handle.subscribe()).collect();
        (Ring(producer), rxs)
    }

    fn send(&mut self, record: &RecordBuf) {
        self.0.publish(record);
    }

    fn poll(rx: &mut Consumer) -> Option<RecordBuf> {
        match rx.try_recv() {
            TryRecv::Record(record) => Some(record),
            TryRecv::Empty | TryRecv::Closed => None,
            // The window makes this impossible; a lag would void the numbers.
            TryRecv::Lagged(lost) => panic!("bench consumer lagged by {lost}"),
        }
    }
}

/// The ring with consumers that sleep in `recv_timeout` instead of spinning: what
/// a gateway thread that must not burn a core pays per wake-up.
struct ParkedRing(Producer);

impl Fanout for ParkedRing {
    type Rx = Consumer;

    fn open(consumers: usize) -> (Self, Vec<Consumer>) {
        let (ring, rxs) = Ring::open(consumers);
        (ParkedRing(ring.0), rxs)
    }

    fn send(&mut self, record: &RecordBuf) {
        self.0.publish(record);
    }

    fn poll(rx: &mut Consumer) -> Option<RecordBuf> {
        match rx.recv_timeout(Duration::from_millis(1)) {
            TryRecv::Record(record) => Some(record),
            TryRecv::Empty | TryRecv::Closed => None,
            TryRecv::Lagged(lost) => panic!("bench consumer lagged by {lost}"),
        }
    }
}

struct Queues(Vec<Arc<ArrayQueue<RecordBuf>>>);

impl Fanout for Queues {
    type Rx = Arc<ArrayQueue<RecordBuf>>;

    fn open(consumers: usize) -> (Self, Vec<Self::Rx>) {
        let queues: Vec<_> = (0..consumers)
            .map(|_| Arc::new(ArrayQueue::new(CAPACITY)))
            .collect();
        (Queues(queues.clone()), queues)
    }

    fn send(&mut self, record: &RecordBuf) {
        for queue in &self.0 {
            while queue.push(*record).is_err() {
                spin_loop();
            }
        }
    }

    fn poll(rx: &mut Self::Rx) -> Option<RecordBuf> {
        rx.pop()
    }
}

/// A counter alone on its cache-line pair.
#[repr(align(128))]
#[derive(Default)]
struct Progress(AtomicU64);

/// A transport with its consumer threads running, each spinning on `poll` and
/// publishing how many records it has seen.
struct Fixture<F: Fanout> {
    tx: F,
    sent: u64,
    progress: Vec<Arc<Progress>>,
    stop: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
}

impl<F: Fanout> Fixture<F> {
    fn start(consumers: usize) -> Self {
        let (tx, rxs) = F::open(consumers);
        let stop = Arc::new(AtomicBool::new(false));
        let mut progress = Vec::new();
        let threads = rxs
            .into_iter()
            .map(|mut rx| {
                let seen = Arc::new(Progress::default());
                progress.push(Arc::clone(&seen));
                let stop = Arc::clone(&stop);
                thread::spawn(move || {
                    let mut count = 0u64;
                    let mut idle = 0u32;
                    loop {
                        if let Some(record) = F::poll(&mut rx) {
                            black_box(&record);
                            count += 1;
                            seen.0.store(count, Ordering::Release);
                            idle = 0;
                        } else if stop.load(Ordering::Relaxed) {
                            return;
                        } else {
                            idle = backoff(idle);
                        }
                    }
                })
            })
            .collect();
        Self {
            tx,
            sent: 0,
            progress,
            stop,
            threads,
        }
    }

    /// Records the slowest consumer has seen.
    fn slowest(&self) -> u64 {
        self.progress
            .iter()
            .map(|p| p.0.load(Ordering::Acquire))
            .min()
            .unwrap_or(self.sent)
    }

    fn wait_until_all_seen(&self, count: u64) {
        let mut idle = 0;
        while self.slowest() < count {
            idle = backoff(idle);
        }
    }

    fn send(&mut self, counter: u64) {
        self.tx
            .send(&RecordBuf::from_words([counter; RecordBuf::WORDS]));
        self.sent += 1;
    }

    /// Send `count` records as fast as the window allows; time until all are seen.
    fn stream(&mut self, count: u64) -> Duration {
        let start = Instant::now();
        let end = self.sent + count;
        let mut allowed = self.slowest() + WINDOW;
        while self.sent < end {
            if self.sent >= allowed {
                let mut idle = 0;
                loop {
                    allowed = self.slowest() + WINDOW;
                    if self.sent < allowed {
                        break;
                    }
                    idle = backoff(idle);
                }
            }
            let counter = self.sent;
            self.send(counter);
        }
        self.wait_until_all_seen(end);
        start.elapsed()
    }

    /// `count` round trips: send one record, wait until every consumer has it.
    fn ping(&mut self, count: u64) -> Duration {
        let start = Instant::now();
        for _ in 0..count {
            let counter = self.sent;
            self.send(counter);
            self.wait_until_all_seen(self.sent);
        }
        start.elapsed()
    }
}

impl<F: Fanout> Drop for Fixture<F> {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Spin a little, then give the core away (2 cores, up to 5 busy threads).
fn backoff(idle: u32) -> u32 {
    if idle < SPINS_BEFORE_YIELD {
        spin_loop();
        idle + 1
    } else {
        thread::yield_now();
        0
    }
}

fn throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("bus/throughput");
    group.throughput(Throughput::Elements(1));
    for consumers in CONSUMERS {
        let mut ring = Fixture::<Ring>::start(consumers);
        group.bench_function(BenchmarkId::new("ring", consumers), |b| {
            b.iter_custom(|iters| ring.stream(iters))
        });
        drop(ring);
        let mut queues = Fixture::<Queues>::start(consumers);
        group.bench_function(BenchmarkId::new("array_queue", consumers), |b| {
            b.iter_custom(|iters| queues.stream(iters))
        });
    }
    group.finish();
}

fn round_trip(c: &mut Criterion) {
    let mut group = c.benchmark_group("bus/round_trip");
    for consumers in CONSUMERS {
        let mut ring = Fixture::<Ring>::start(consumers);
        group.bench_function(BenchmarkId::new("ring", consumers), |b| {
            b.iter_custom(|iters| ring.ping(iters))
        });
        drop(ring);
        let mut queues = Fixture::<Queues>::start(consumers);
        group.bench_function(BenchmarkId::new("array_queue", consumers), |b| {
            b.iter_custom(|iters| queues.ping(iters))
        });
    }
    let mut parked = Fixture::<ParkedRing>::start(1);
    group.bench_function(BenchmarkId::new("ring_parked", 1), |b| {
        b.iter_custom(|iters| parked.ping(iters))
    });
    group.finish();
}

/// The producer's own cost: publishing with nobody reading (nobody to wake).
fn publish_only(c: &mut Criterion) {
    let mut group = c.benchmark_group("bus/publish_only");
    group.throughput(Throughput::Elements(1));
    let (mut producer, _handle) = ring(CAPACITY);
    let record = RecordBuf::from_words([7; RecordBuf::WORDS]);
    group.bench_function("ring", |b| b.iter(|| producer.publish(black_box(&record))));
    let queue = ArrayQueue::new(CAPACITY);
    group.bench_function("array_queue_push_pop", |b| {
        b.iter(|| {
            let _ = queue.push(*black_box(&record));
            queue.pop()
        })
    });
    group.finish();
}

/// Criterion runs one benchmark after another, and on this shared machine the
/// load drifts between them. This alternates the transports round by round (each
/// round starts its own consumer threads, so no idle fixture spins meanwhile) and
/// prints each one's fastest and median round: the minimum is the cost when not
/// preempted, and both transports see the same conditions.
fn interleaved() {
    const ROUNDS: usize = 20;
    const STREAM: u64 = 100_000;
    const PINGS: u64 = 1_000;
    println!("\ninterleaved, {ROUNDS} rounds: ns per record (min / median)");
    println!(
        "{:<10} {:>22} {:>22} {:>22} {:>22}",
        "consumers",
        "ring stream",
        "array_queue stream",
        "ring round trip",
        "array_queue round trip"
    );
    for consumers in CONSUMERS {
        let mut rounds: [Vec<f64>; 4] = Default::default();
        for _ in 0..ROUNDS {
            let (stream, ping) = measure::<Ring>(consumers, STREAM, PINGS);
            rounds[0].push(stream);
            rounds[2].push(ping);
            let (stream, ping) = measure::<Queues>(consumers, STREAM, PINGS);
            rounds[1].push(stream);
            rounds[3].push(ping);
        }
        let cells: Vec<String> = rounds
            .iter_mut()
            .map(|ns| {
                ns.sort_by(f64::total_cmp);
                format!("{:.0} / {:.0}", ns[0], ns[ns.len() / 2])
            })
            .collect();
        println!(
            "{consumers:<10} {:>22} {:>22} {:>22} {:>22}",
            cells[0], cells[1], cells[2], cells[3]
        );
    }
}

/// One round: fresh consumer threads, a short warm-up, then ns per streamed
/// record and ns per round trip.
fn measure<F: Fanout>(consumers: usize, stream: u64, pings: u64) -> (f64, f64) {
    let mut fixture = Fixture::<F>::start(consumers);
    fixture.stream(stream / 10);
    let streamed = fixture.stream(stream).as_nanos() as f64 / stream as f64;
    let pinged = fixture.ping(pings).as_nanos() as f64 / pings as f64;
    (streamed, pinged)
}

criterion_group!(benches, publish_only, throughput, round_trip);

fn main() {
    benches();
    interleaved();
    Criterion::default().configure_from_args().final_summary();
}
