//! The writer's hot path does not allocate: appends, block seals, fsyncs and
//! ticks all reuse the buffers made when the segment was opened.

mod journal_support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use journal_support::*;
use tickd_bus::{RecordBuf, Venue};
use tickd_storage::journal::{FsyncPolicy, Journal, JournalConfig};

struct Counting;

static COUNTING: AtomicBool = AtomicBool::new(false);
static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.load(Ordering::Relaxed) {
            ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        }
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn appending_sealing_and_syncing_do_not_allocate() {
    let dir = tempfile::tempdir().unwrap();
    for fsync in [
        FsyncPolicy::EveryBlock,
        FsyncPolicy::Interval(Duration::ZERO),
        FsyncPolicy::Never,
    ] {
        let cfg = JournalConfig {
            fsync,
            block_bytes: 4096,
            block_max_age: Duration::ZERO,
            ..JournalConfig::new(dir.path().join(format!("{fsync:?}")))
        };
        let (mut journal, _) = Journal::open(cfg).unwrap();
        let records: Vec<RecordBuf> = (0..5_000)
            .map(|i| trade(i, if i % 2 == 0 { Venue::Okx } else { Venue::Bybit }))
            .collect();
        // The first record of each venue opens its segment: that allocates.
        journal.append(&records[0]).unwrap();
        journal.append(&records[1]).unwrap();

        COUNTING.store(true, Ordering::SeqCst);
        for (i, record) in records[2..].iter().enumerate() {
            journal.append(record).unwrap();
            if i % 100 == 0 {
                journal.tick().unwrap();
            }
        }
        journal.sync().unwrap();
        let durable = journal.durable_position();
        COUNTING.store(false, Ordering::SeqCst);

        assert_eq!(durable, 5_000);
        assert!(journal.stats().blocks_written > 50);
        assert_eq!(ALLOCATIONS.swap(0, Ordering::SeqCst), 0, "{fsync:?}");
        journal.close().unwrap();
    }
}

#[test]
fn fsync_policies_parse_from_config_text() {
    assert_eq!("every-block".parse(), Ok(FsyncPolicy::EveryBlock));
    assert_eq!("never".parse(), Ok(FsyncPolicy::Never));
    assert_eq!(
        "250ms".parse(),
        Ok(FsyncPolicy::Interval(Duration::from_millis(250)))
    );
    assert!("always".parse::<FsyncPolicy>().is_err());
    assert!("ms".parse::<FsyncPolicy>().is_err());
}
