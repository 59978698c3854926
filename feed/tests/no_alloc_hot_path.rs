//! No allocation per message on the hot path: the simulator streams Binance trades,
//! best bid/offer and depth diffs over 127.0.0.1; the real feed reads, decodes, runs the
//! books and publishes. A counting allocator counts every allocation made on the feed's
//! own thread (the simulator and the test run on other threads).
//!
//! Measured: tickd's code (decode → book → publish) allocates nothing per message; what
//! remains is tungstenite 0.30's read buffer, which `split_to`s each frame's payload out
//! of a shared `BytesMut` and so allocates a fresh 4 KiB block (+ a 40-byte shared
//! header) every ~2 KiB of input — about 0.15 allocations per message at ~150-byte
//! frames. The test holds the feed to exactly that bound (any per-message allocation
//! would be ≥ 1 per message, 7x over it) and checks where the sampled allocations came
//! from (by source file, see `allowed_site`; an unknown site seen only once among the
//! samples is a library's one-off initialization: reported, tolerated). Frames reach the
//! core through the venue thread's event queue (`tickd_feed::events`), a `VecDeque` that
//! keeps its capacity: no site there (the tokio mpsc it replaced allocated a 32-slot
//! block whenever its backlog outgrew the blocks tokio keeps, ~4% of the samples under
//! load).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use tickd_bus::instrument::InstrumentRegistry;
use tickd_bus::ring::ring;
use tickd_bus::{Channel, Venue};
use tickd_feed::runtime::shutdown_channel;
use tickd_feed::sim::{SimConfig, SimServer, SimSymbol};
use tickd_feed::venue::{spawn_venue, FeedFuture, VenueContext, VenueFeed, VenueSettings};

struct Counting;

thread_local! {
    /// Set on the feed thread only.
    static COUNTED_THREAD: Cell<bool> = const { Cell::new(false) };
}
static ALLOCS: AtomicU64 = AtomicU64::new(0);
static ALLOC_BYTES: AtomicU64 = AtomicU64::new(0);

/// While measuring, the first few allocation sites are kept (as backtraces) so a
/// failure says where the allocation came from.
static TRACE: AtomicBool = AtomicBool::new(false);
/// Captured unresolved: symbolizing (reading debug info) on the measured thread would
/// stall it long enough for the simulator to drop it as a slow consumer.
static TRACES: Mutex<Vec<(usize, std::backtrace::Backtrace)>> = Mutex::new(Vec::new());
const MAX_TRACES: usize = 16;

thread_local! {
    static IN_TRACE: Cell<bool> = const { Cell::new(false) };
}

fn note(size: usize) {
    if !COUNTED_THREAD.try_with(Cell::get).unwrap_or(false)
        || IN_TRACE.try_with(Cell::get).unwrap_or(true)
    {
        return;
    }
    ALLOCS.fetch_add(1, Relaxed);
    ALLOC_BYTES.fetch_add(size as u64, Relaxed);
    if TRACE.load(Relaxed) {
        IN_TRACE.with(|t| t.set(true));
        if let Ok(mut traces) = TRACES.lock() {
            if traces.len() < MAX_TRACES {
                traces.push((size, std::backtrace::Backtrace::force_capture()));
            } else {
                TRACE.store(false, Relaxed);
            }
        }
        IN_TRACE.with(|t| t.set(false));
    }
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc_zeroed(layout)
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// The Binance feed, marking its thread as the counted one before it starts.
struct CountedFeed(Box<dyn VenueFeed>);

impl VenueFeed for CountedFeed {
    fn venue(&self) -> Venue {
        self.0.venue()
    }
    fn run(self: Box<Self>, ctx: VenueContext) -> FeedFuture {
        COUNTED_THREAD.with(|c| c.set(true));
        self.0.run(ctx)
    }
}

/// tungstenite's read-buffer turnover, per message (measured ~0.15 at ~150-byte frames);
/// a single allocation per message anywhere in the feed would be ≥ 1.
const MAX_ALLOCS_PER_MESSAGE: f64 = 0.25;

const WARMUP_MESSAGES: u64 = 20_000;
const MEASURED_MESSAGES: u64 = 50_000;

#[test]
fn feed_hot_path_allocates_only_the_websocket_read_buffer() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let config = SimConfig {
        symbols: SimSymbol::generate(Venue::Binance, 4),
        rate_per_sec: 20_000,
        // A debug build on a loaded machine reads slower than 20k steps/s: held back
        // instead of dropped as a slow consumer (a drop means reconnect, resync and
        // REST snapshots: allocations, but not the per-message ones measured here).
        wait_for_slowest: true,
        ..SimConfig::default()
    };
    let sim = rt
        .block_on(SimServer::start(config.clone()))
        .expect("simulator starts");
    let addr = sim.local_addr();
    let mut settings = VenueSettings::new(
        Venue::Binance,
        &format!("ws://{addr}"),
        &format!("http://{addr}"),
    );
    settings.symbols = config.symbols.iter().map(|s| s.raw.clone()).collect();
    settings.channels = vec![Channel::Trades, Channel::Bbo, Channel::Book];
    settings.book_depth = 100;
    settings.snapshot_requests_per_minute = 600;
    let (producer, handle) = ring(1 << 16);
    let _consumer = handle.subscribe(); // a reader, as in production (the producer never waits)
    let (trigger, shutdown) = shutdown_channel();
    let feed = CountedFeed(tickd_feed::engine::registry::feed(Venue::Binance).expect("binance"));
    let venue = spawn_venue(
        Box::new(feed),
        settings,
        producer,
        InstrumentRegistry::new().into_shared(),
        shutdown,
    )
    .expect("feed starts");
    let counters = || venue.stats.counters.snapshot();
    let wait_for = |what: &str, done: &dyn Fn() -> bool| {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !done() {
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            std::thread::sleep(Duration::from_millis(20));
        }
    };
    wait_for("books in sync", &|| {
        let c = counters();
        c.books_total > 0 && c.books_synced == c.books_total
    });
    let start = counters().messages;
    wait_for("warm-up", &|| {
        counters().messages >= start + WARMUP_MESSAGES
    });

    let (allocs0, bytes0, before) = (ALLOCS.load(Relaxed), ALLOC_BYTES.load(Relaxed), counters());
    TRACE.store(true, Relaxed);
    wait_for("measured messages", &|| {
        counters().messages >= before.messages + MEASURED_MESSAGES
    });
    let (allocs1, bytes1, after) = (ALLOCS.load(Relaxed), ALLOC_BYTES.load(Relaxed), counters());
    TRACE.store(false, Relaxed);

    let sim_stats = sim.stats();
    trigger.trigger();
    venue.join().expect("feed ends cleanly");
    rt.block_on(sim.shutdown());

    let messages = after.messages - before.messages;
    let records = after.records - before.records;
    assert!(
        allocs0 > 0,
        "the counter saw the feed thread's start-up allocations"
    );
    assert_eq!(
        (after.resyncs, after.reconnects),
        (before.resyncs, before.reconnects),
        "no resync or reconnect during the measurement: feed {after:?}, simulator {sim_stats:?}"
    );
    assert!(
        records >= messages,
        "{records} records from {messages} messages"
    );
    let allocs = allocs1 - allocs0;
    let bytes_read = after.bytes - before.bytes;
    let traces: Vec<(usize, String)> = TRACES
        .lock()
        .map(|traces| {
            traces
                .iter()
                .map(|(size, trace)| (*size, trace.to_string()))
                .collect()
        })
        .unwrap_or_default();
    let sites: Vec<String> = traces.iter().map(|(size, t)| site(*size, t)).collect();
    // Sites outside the allowed ones, by where they asked for memory, shown whole.
    let mut unexplained: std::collections::BTreeMap<&str, Vec<&str>> = Default::default();
    for ((_, full), site) in traces.iter().zip(&sites) {
        if !allowed_site(site) {
            let location = requesting_location(full).unwrap_or("(no source location)");
            unexplained.entry(location).or_default().push(full);
        }
    }
    let unexplained_text: Vec<String> = unexplained
        .iter()
        .map(|(at, traces)| format!("{} × {at}:\n{}", traces.len(), traces[0]))
        .collect();
    if !unexplained.is_empty() {
        eprintln!(
            "unexplained sites, in full:\n{}",
            unexplained_text.join("\n---\n")
        );
    }
    let report = format!(
        "{allocs} allocations ({} bytes) on the feed thread for {messages} messages \
         ({records} records, {bytes_read} bytes read): {:.3} per message; first sites:\n{}",
        bytes1 - bytes0,
        allocs as f64 / messages as f64,
        sites.join("\n---\n")
    );
    eprintln!("{report}");
    assert!(
        (allocs as f64) <= MAX_ALLOCS_PER_MESSAGE * messages as f64,
        "over {MAX_ALLOCS_PER_MESSAGE} allocations per message: {report}"
    );
    // The samples are consecutive allocations: anything made per message (or per few
    // messages) shows up in them again and again. A site seen once is a one-off (a
    // library initializing something lazily the first time a path runs): reported
    // above, tolerated up to MAX_ONE_OFF_SITES.
    let one_offs = unexplained.values().filter(|t| t.len() == 1).count();
    assert!(
        unexplained.values().all(|t| t.len() == 1) && one_offs <= MAX_ONE_OFF_SITES,
        "an allocation outside tungstenite's frame reader recurs: \
         {report}\nunexplained, in full:\n{}",
        unexplained_text.join("\n---\n")
    );
}

/// Distinct unexplained sites, each seen once among the samples, that are tolerated.
const MAX_ONE_OFF_SITES: usize = 2;

/// tungstenite's read buffer, or a book side's `Vec` doubling when the book reaches a new largest size (an insert in
/// `Ladder::apply`): O(log levels) allocations over a book's life, never per message.
/// The per-message bound above still catches any allocation made for every message.
///
/// Sites are told apart by the source file of the innermost frame that asked for the
/// memory, not by function names: how much of a name a backtrace shows depends on the
/// debug-info level (line tables only give `read_frame<…>` for
/// `FrameCodec::read_frame`), while the file is always there.
fn allowed_site(site: &str) -> bool {
    let Some(file) = requesting_location(site).map(|at| at.rsplitn(3, ':').last().unwrap_or(at))
    else {
        return false;
    };
    (file.contains("/tungstenite-") && file.contains("/src/protocol/frame/"))
        || file.ends_with("normalizer/src/book/l2.rs")
}

/// `file:line:column` of the innermost frame outside the allocator, the standard
/// library and `bytes` (which allocate on someone's behalf).
fn requesting_location(site: &str) -> Option<&str> {
    site.lines()
        .filter_map(|line| line.trim_start().strip_prefix("at "))
        .find(|at| {
            !(at.contains("no_alloc_hot_path.rs")
                || at.starts_with("/rustc/")
                || at.contains("/bytes-"))
        })
}

/// An allocation site: its size and the first frames past the allocator.
fn site(size: usize, trace: &str) -> String {
    let past_allocator = |l: &&str| !l.contains("__rust_alloc") && !l.contains("__rust_realloc");
    let mut frames: Vec<&str> = trace.lines().skip_while(past_allocator).take(40).collect();
    if frames.is_empty() {
        frames = trace.lines().take(40).collect();
    }
    format!("{size} bytes at:\n{}", frames.join("\n"))
}
