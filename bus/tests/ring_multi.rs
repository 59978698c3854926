//! `Bus` / `MultiConsumer`: fair round-robin over rings, per-ring lag, closing.

use tickd_bus::ring::{ring, Bus, MultiRecv, Producer};
use tickd_bus::RecordBuf;

fn record(counter: u64) -> RecordBuf {
    RecordBuf::from_words([counter; RecordBuf::WORDS])
}

fn bus_of(capacities: &[usize]) -> (Bus, Vec<Producer>) {
    let mut bus = Bus::new();
    let producers = capacities
        .iter()
        .enumerate()
        .map(|(index, &capacity)| {
            let (producer, handle) = ring(capacity);
            assert_eq!(bus.add(handle), index);
            producer
        })
        .collect();
    (bus, producers)
}

/// Drain until `Empty`, as (ring, counter) pairs.
fn drain(all: &mut tickd_bus::ring::MultiConsumer) -> Vec<(usize, u64)> {
    let mut seen = Vec::new();
    loop {
        match all.try_recv() {
            MultiRecv::Record { ring, record } => seen.push((ring, record.words()[0])),
            MultiRecv::Empty => return seen,
            other => panic!("unexpected {other:?}"),
        }
    }
}

#[test]
fn rings_are_served_round_robin() {
    let (bus, mut producers) = bus_of(&[8, 8, 8]);
    let mut all = bus.subscribe_all();
    for (index, producer) in producers.iter_mut().enumerate() {
        for n in 0..3 {
            producer.publish(&record(index as u64 * 100 + n));
        }
    }
    let expected: Vec<_> = (0..3)
        .flat_map(|n| (0..3).map(move |ring| (ring, ring as u64 * 100 + n)))
        .collect();
    assert_eq!(drain(&mut all), expected);
}

#[test]
fn a_busy_ring_does_not_starve_a_quiet_one() {
    let (bus, mut producers) = bus_of(&[16, 16, 16]);
    let mut all = bus.subscribe_all();
    for n in 0..10 {
        producers[0].publish(&record(n));
    }
    producers[2].publish(&record(500));
    let seen = drain(&mut all);
    assert_eq!(seen[..3], [(0, 0), (2, 500), (0, 1)]);
    assert_eq!(seen.len(), 11);
}

#[test]
fn lag_names_the_ring_that_lagged() {
    let (bus, mut producers) = bus_of(&[8, 4]);
    let mut all = bus.subscribe_all();
    for n in 0..10 {
        producers[1].publish(&record(n));
    }
    assert_eq!(all.try_recv(), MultiRecv::Lagged { ring: 1, lost: 6 });
    assert_eq!(drain(&mut all), [(1, 6), (1, 7), (1, 8), (1, 9)]);
    assert_eq!(all.consumers()[1].position(), 10);
}

#[test]
fn closed_only_when_every_ring_is_closed_and_drained() {
    let (bus, mut producers) = bus_of(&[4, 4]);
    let mut all = bus.subscribe_all_oldest();
    producers[0].publish(&record(1));
    let second = producers.pop().expect("two producers");
    drop(producers);
    assert_eq!(
        all.try_recv(),
        MultiRecv::Record {
            ring: 0,
            record: record(1)
        }
    );
    assert_eq!(all.try_recv(), MultiRecv::Empty);
    drop(second);
    assert_eq!(all.try_recv(), MultiRecv::Closed);
}

#[test]
fn a_bus_without_rings_is_closed() {
    assert_eq!(Bus::new().subscribe_all().try_recv(), MultiRecv::Closed);
}
