//! Deterministic single-threaded checks of cursors, lag accounting and closing.

use tickd_bus::ring::{ring, Consumer, Producer, TryRecv};
use tickd_bus::RecordBuf;

/// A record whose every word is `counter`.
fn record(counter: u64) -> RecordBuf {
    RecordBuf::from_words([counter; RecordBuf::WORDS])
}

fn publish_range(producer: &mut Producer, range: std::ops::Range<u64>) {
    for counter in range {
        producer.publish(&record(counter));
    }
}

/// Read records until the ring says something else; assert they are `range`.
fn expect_records(consumer: &mut Consumer, range: std::ops::Range<u64>) {
    for counter in range {
        match consumer.try_recv() {
            TryRecv::Record(r) => assert_eq!(r, record(counter)),
            other => panic!("expected record {counter}, got {other:?}"),
        }
    }
}

#[test]
fn consumer_reads_in_order_then_empty() {
    let (mut producer, handle) = ring(8);
    let mut consumer = handle.subscribe();
    assert_eq!(consumer.try_recv(), TryRecv::Empty);
    publish_range(&mut producer, 0..5);
    assert_eq!(producer.published(), 5);
    assert_eq!(consumer.pending(), 5);
    expect_records(&mut consumer, 0..5);
    assert_eq!(consumer.try_recv(), TryRecv::Empty);
    assert_eq!(consumer.position(), 5);
}

#[test]
fn lapped_consumer_gets_exact_count_and_resumes_at_oldest_live() {
    let (mut producer, handle) = ring(8);
    let mut slow = handle.subscribe();
    let mut fast = handle.subscribe();
    publish_range(&mut producer, 0..20);
    expect_records(&mut fast, 0..0); // untouched so far
    assert_eq!(slow.try_recv(), TryRecv::Lagged(12));
    assert_eq!(slow.position(), 12);
    expect_records(&mut slow, 12..20);
    assert_eq!(slow.try_recv(), TryRecv::Empty);

    // Lapped again, several times over, after reading part of the ring.
    publish_range(&mut producer, 20..23);
    expect_records(&mut slow, 20..22);
    publish_range(&mut producer, 23..100);
    assert_eq!(slow.try_recv(), TryRecv::Lagged(92 - 22));
    expect_records(&mut slow, 92..100);
    assert_eq!(slow.try_recv(), TryRecv::Empty);

    // The other consumer lost its own records, counted independently.
    assert_eq!(fast.try_recv(), TryRecv::Lagged(92));
    expect_records(&mut fast, 92..100);
}

#[test]
fn exactly_full_ring_is_not_a_lag() {
    let (mut producer, handle) = ring(4);
    let mut consumer = handle.subscribe();
    publish_range(&mut producer, 0..4);
    expect_records(&mut consumer, 0..4);
    publish_range(&mut producer, 4..9);
    assert_eq!(consumer.try_recv(), TryRecv::Lagged(1));
    expect_records(&mut consumer, 5..9);
}

#[test]
fn subscribe_starts_at_next_and_subscribe_oldest_at_oldest_live() {
    let (mut producer, handle) = ring(8);
    publish_range(&mut producer, 0..3);
    let mut oldest = handle.subscribe_oldest();
    assert_eq!(oldest.position(), 0);
    expect_records(&mut oldest, 0..3);

    publish_range(&mut producer, 3..20);
    let mut next = handle.subscribe();
    assert_eq!(next.position(), 20);
    assert_eq!(next.try_recv(), TryRecv::Empty);
    let mut oldest = handle.subscribe_oldest();
    assert_eq!(oldest.position(), 12);
    expect_records(&mut oldest, 12..20);

    publish_range(&mut producer, 20..21);
    expect_records(&mut next, 20..21);
    assert_eq!(handle.capacity(), 8);
    assert_eq!(handle.published(), 21);
    assert_eq!(producer.handle().published(), 21);
}

#[test]
fn closed_after_producer_drop_and_everything_read() {
    let (mut producer, handle) = ring(8);
    let mut consumer = handle.subscribe();
    let mut lapped = handle.subscribe();
    publish_range(&mut producer, 0..3);
    expect_records(&mut consumer, 0..1);
    publish_range(&mut producer, 3..20);
    assert!(!handle.is_closed());
    drop(producer);
    assert!(handle.is_closed());

    assert_eq!(lapped.try_recv(), TryRecv::Lagged(12));
    expect_records(&mut lapped, 12..20);
    assert_eq!(lapped.try_recv(), TryRecv::Closed);
    assert_eq!(lapped.try_recv(), TryRecv::Closed);

    assert_eq!(consumer.try_recv(), TryRecv::Lagged(11));
    expect_records(&mut consumer, 12..20);
    assert_eq!(consumer.try_recv(), TryRecv::Closed);

    // Subscribing after the close still sees what is left, then Closed.
    let mut late = handle.subscribe_oldest();
    expect_records(&mut late, 12..20);
    assert_eq!(late.try_recv(), TryRecv::Closed);
    assert_eq!(handle.subscribe().try_recv(), TryRecv::Closed);
}

#[test]
fn empty_ring_closes_immediately() {
    let (producer, handle) = ring(2);
    let mut consumer = handle.subscribe();
    drop(producer);
    assert_eq!(consumer.try_recv(), TryRecv::Closed);
}

#[test]
fn capacity_one_holds_only_the_latest() {
    let (mut producer, handle) = ring(1);
    let mut consumer = handle.subscribe();
    publish_range(&mut producer, 0..3);
    assert_eq!(consumer.try_recv(), TryRecv::Lagged(2));
    expect_records(&mut consumer, 2..3);
}

#[test]
#[should_panic(expected = "power of two")]
fn capacity_must_be_a_power_of_two() {
    let _ = ring(12);
}

#[test]
#[should_panic(expected = "power of two")]
fn capacity_must_not_be_zero() {
    let _ = ring(0);
}

#[test]
fn ends_are_send_and_the_handle_is_sync() {
    fn send<T: Send>() {}
    fn sync<T: Sync + Clone>() {}
    send::<Producer>();
    send::<Consumer>();
    send::<tickd_bus::ring::RingHandle>();
    sync::<tickd_bus::ring::RingHandle>();
    send::<tickd_bus::ring::MultiConsumer>();
}

#[test]
fn receive_futures_are_send_for_multi_threaded_runtimes() {
    fn send_value<T: Send>(_: &T) {}
    let (_producer, handle) = ring(2);
    let mut consumer = handle.subscribe();
    send_value(&consumer.recv());
    let mut bus = tickd_bus::ring::Bus::new();
    bus.add(handle);
    let mut all = bus.subscribe_all();
    send_value(&all.recv());
}

/// Named consumers report how far behind they are; a dropped one disappears; unnamed
/// ones are not listed.
#[test]
fn named_consumers_report_their_lag() {
    use tickd_bus::ring::ConsumerLag;
    let (mut producer, handle) = ring(8);
    let mut journal = handle.subscribe().named("journal");
    let gateway = handle.subscribe().named("gateway");
    let _unnamed = handle.subscribe();
    for n in 0..5 {
        producer.publish(&RecordBuf::from_words([n; RecordBuf::WORDS]));
    }
    for _ in 0..3 {
        assert!(matches!(journal.try_recv(), TryRecv::Record(_)));
    }
    let lag = |name: &str, behind| ConsumerLag {
        name: name.into(),
        behind,
    };
    assert_eq!(
        handle.consumer_lags(),
        vec![lag("journal", 2), lag("gateway", 5)]
    );
    // Lapped: the consumer stands at the oldest live record, a ring behind at most.
    for n in 0..20 {
        producer.publish(&RecordBuf::from_words([n; RecordBuf::WORDS]));
    }
    assert!(matches!(journal.try_recv(), TryRecv::Lagged(_)));
    assert_eq!(handle.consumer_lags()[0], lag("journal", 8));
    drop(gateway);
    assert_eq!(handle.consumer_lags(), vec![lag("journal", 8)]);
}
