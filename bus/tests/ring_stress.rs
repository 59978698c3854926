//! Multi-threaded stress: one producer, 1, 2 and 4 consumer threads, millions of
//! records (scaled down in debug builds). Every word of record `n` is `n`, so a
//! torn copy shows as unequal words; each consumer checks it sees consecutive
//! counters except where `Lagged(k)` says exactly `k` were skipped.

use std::thread;
use std::time::Duration;

use tickd_bus::ring::{ring, Consumer, TryRecv};
use tickd_bus::RecordBuf;

const RECORDS: u64 = if cfg!(debug_assertions) {
    300_000
} else {
    4_000_000
};

/// How a consumer thread waits for the next record.
#[derive(Debug, Clone, Copy)]
enum Wait {
    /// `try_recv` in a loop, yielding so oversubscribed cores still progress.
    Spin,
    /// `recv_timeout`, parking the thread.
    Park,
}

#[derive(Debug, Default)]
struct Tally {
    /// Where the consumer started.
    start: u64,
    received: u64,
    lost: u64,
    lag_events: u64,
}

/// Read until `Closed`, checking every record; panics on any violation.
fn check_stream(mut consumer: Consumer, wait: Wait) -> Tally {
    let mut expected = consumer.position();
    let mut tally = Tally {
        start: expected,
        ..Tally::default()
    };
    loop {
        let next = match wait {
            Wait::Spin => consumer.try_recv(),
            Wait::Park => consumer.recv_timeout(Duration::from_secs(20)),
        };
        match next {
            TryRecv::Record(record) => {
                let words = record.words();
                assert!(
                    words.iter().all(|w| *w == words[0]),
                    "torn record: {words:?}"
                );
                assert_eq!(words[0], expected, "duplicated, reordered or skipped");
                expected += 1;
                tally.received += 1;
            }
            TryRecv::Lagged(lost) => {
                assert!(lost > 0, "Lagged(0)");
                expected += lost;
                tally.lost += lost;
                tally.lag_events += 1;
                assert_eq!(consumer.position(), expected);
            }
            TryRecv::Empty => match wait {
                Wait::Spin => thread::yield_now(),
                Wait::Park => panic!("no record for 20 s: lost wake-up"),
            },
            TryRecv::Closed => break,
        }
    }
    assert_eq!(expected, RECORDS, "stream ended early");
    tally
}

fn stress(capacity: usize, waits: &[Wait]) {
    stress_yielding(capacity, waits, 4096)
}

/// The producer yields every `yield_every` records so consumers on the
/// oversubscribed cores get to run while it writes.
fn stress_yielding(capacity: usize, waits: &[Wait], yield_every: u64) {
    let (mut producer, handle) = ring(capacity);
    let readers: Vec<_> = waits
        .iter()
        .map(|&wait| {
            let consumer = handle.subscribe();
            thread::spawn(move || check_stream(consumer, wait))
        })
        .collect();
    for counter in 0..RECORDS {
        producer.publish(&RecordBuf::from_words([counter; RecordBuf::WORDS]));
        if counter % yield_every == 0 {
            thread::yield_now();
        }
    }
    drop(producer);
    for (reader, wait) in readers.into_iter().zip(waits) {
        let tally = reader.join().expect("consumer thread panicked");
        assert_eq!(tally.start + tally.received + tally.lost, RECORDS);
        // After the producer stops, a lapped consumer resumes at the oldest live
        // record and reads the whole last ring-full.
        assert!(tally.received >= capacity as u64, "{wait:?}: {tally:?}");
        eprintln!("capacity {capacity} {wait:?}: {tally:?}");
    }
}

#[test]
fn one_spinning_consumer() {
    stress(1024, &[Wait::Spin]);
}

#[test]
fn two_consumers_spin_and_park() {
    stress(256, &[Wait::Spin, Wait::Park]);
}

#[test]
fn four_consumers_oversubscribed() {
    stress(4096, &[Wait::Spin, Wait::Park, Wait::Spin, Wait::Park]);
}

/// A two-slot ring makes nearly every read race the writer on the same slot:
/// the seqlock must discard every mixed copy.
#[test]
fn no_torn_reads_when_the_writer_laps_constantly() {
    stress_yielding(2, &[Wait::Spin], 16);
}

/// Consumers that subscribe while the producer runs start at a consistent place
/// (`subscribe`: the next record; `subscribe_oldest`: the oldest live one, or a
/// `Lagged` if that is being overwritten) and account for every later record.
#[test]
fn late_subscribers_join_mid_stream() {
    let (mut producer, handle) = ring(512);
    let mut readers = Vec::new();
    for counter in 0..RECORDS {
        if counter == RECORDS / 3 {
            let late = handle.subscribe();
            assert_eq!(late.position(), counter);
            readers.push(thread::spawn(move || check_stream(late, Wait::Park)));
            let oldest = handle.subscribe_oldest();
            assert_eq!(oldest.position(), counter - 512);
            readers.push(thread::spawn(move || check_stream(oldest, Wait::Spin)));
        }
        producer.publish(&RecordBuf::from_words([counter; RecordBuf::WORDS]));
        if counter % 4096 == 0 {
            thread::yield_now();
        }
    }
    drop(producer);
    for reader in readers {
        let tally = reader.join().expect("consumer thread panicked");
        assert_eq!(tally.start + tally.received + tally.lost, RECORDS);
        assert!(tally.received >= 512, "{tally:?}");
    }
}
