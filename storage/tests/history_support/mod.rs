//! Shared helpers for the history tests: a data dir with a registry, journals written
//! by the real writer (with and without bar writing), and bars by brute force.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;

use tickd_bus::decimal::notional;
use tickd_bus::instrument::{InstrumentRegistry, REGISTRY_FILE_NAME};
use tickd_bus::record::{BarMsg, TradeMsg};
use tickd_bus::ring::ring;
use tickd_bus::{InstrumentKind, InstrumentSpec, Price, RecordBuf, RecordHeader, Size, Venue};
use tickd_storage::bar_writer::BarTap;
use tickd_storage::bars::{bucket_start, trade_time, NANOS_PER_SEC};
use tickd_storage::journal::{BusWriter, BusWriterConfig, Journal, JournalConfig};

/// 2026-01-01T00:00:00Z.
pub const JAN1: u64 = 1_767_225_600 * NANOS_PER_SEC;
pub const SEC: u64 = NANOS_PER_SEC;

/// Register BTC-USDT (id 1) and ETH-USDT (id 2) on binance, BTC-USDT-PERP on okx (3).
pub fn registry(dir: &Path) {
    let mut reg = InstrumentRegistry::open(&dir.join(REGISTRY_FILE_NAME)).unwrap();
    for (venue, raw, base, kind) in [
        (Venue::Binance, "BTCUSDT", "BTC", InstrumentKind::Spot),
        (Venue::Binance, "ETHUSDT", "ETH", InstrumentKind::Spot),
        (
            Venue::Okx,
            "BTC-USDT-SWAP",
            "BTC",
            InstrumentKind::Perpetual,
        ),
    ] {
        reg.upsert(InstrumentSpec {
            venue,
            raw_symbol: raw.into(),
            base: base.into(),
            quote: "USDT".into(),
            kind,
            tick_size: Price::parse_str("0.01").unwrap(),
            step_size: Size::parse_str("0.00001").unwrap(),
            contract: None,
        })
        .unwrap();
    }
    reg.save().unwrap();
}

pub fn trade(venue: Venue, id: u32, ts: u64, price: &str, size: &str) -> TradeMsg {
    TradeMsg {
        hd: RecordHeader::new::<TradeMsg>(venue, id, ts, ts + 1_000),
        price: Price::parse_str(price).unwrap(),
        size: Size::parse_str(size).unwrap(),
        trade_id: ts,
        trade_id_hi: 0,
        side: 1,
        _reserved: [0; 7],
    }
}

/// Append records straight to a journal (no bar writing: a journal from before it).
pub fn write_plain(dir: &Path, records: &[RecordBuf]) {
    let (mut journal, _) = Journal::open(JournalConfig::new(dir)).unwrap();
    for r in records {
        journal.append(r).unwrap();
    }
    journal.close().unwrap();
}

/// Publish records on a real ring to the bus writer with bar writing, and wait.
pub fn write_with_bars(dir: &Path, records: &[RecordBuf]) {
    // Capacity above the record count: the writer cannot be lapped.
    let capacity = (records.len() + 1).next_power_of_two().max(1024);
    let (mut producer, handle) = ring(capacity);
    let consumer = handle.subscribe();
    for r in records {
        producer.publish(r);
    }
    drop(producer);
    let journal = Journal::open(JournalConfig::new(dir)).unwrap().0;
    let writer =
        BusWriter::spawn(BarTap::new(consumer), journal, BusWriterConfig::default()).unwrap();
    writer.join().unwrap();
}

pub fn bufs(trades: &[TradeMsg]) -> Vec<RecordBuf> {
    trades.iter().map(RecordBuf::new).collect()
}

/// Bars whose start is in `[from, to)` (whole buckets), straight from the trades.
pub fn brute_force(trades: &[TradeMsg], interval_s: u32, from: u64, to: u64) -> Vec<BarKey> {
    let width = u64::from(interval_s) * SEC;
    let mut buckets: BTreeMap<u64, Vec<&TradeMsg>> = BTreeMap::new();
    for t in trades {
        let start = bucket_start(trade_time(t), interval_s);
        if start >= from.div_ceil(width) * width && start < to.div_ceil(width) * width {
            buckets.entry(start).or_default().push(t);
        }
    }
    buckets
        .into_iter()
        .map(|(start, ts)| BarKey {
            start,
            interval_s,
            open: ts[0].price,
            high: ts.iter().map(|t| t.price).max().unwrap(),
            low: ts.iter().map(|t| t.price).min().unwrap(),
            close: ts[ts.len() - 1].price,
            volume: Size::from_raw(ts.iter().map(|t| t.size.raw()).sum()),
            count: ts.len() as u32,
            notional: ts.iter().map(|t| notional(t.price, t.size)).sum(),
        })
        .collect()
}

/// A bar's values, for comparing (the header's ts_recv differs between paths).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BarKey {
    pub start: u64,
    pub interval_s: u32,
    pub open: Price,
    pub high: Price,
    pub low: Price,
    pub close: Price,
    pub volume: Size,
    pub count: u32,
    pub notional: i128,
}

pub fn key(bar: &BarMsg) -> BarKey {
    BarKey {
        start: bar.hd.ts_event,
        interval_s: bar.interval_s,
        open: bar.open,
        high: bar.high,
        low: bar.low,
        close: bar.close,
        volume: bar.volume,
        count: bar.trade_count,
        notional: bar.notional(),
    }
}
