//! A journal written by record layout 1 (`testdata/journal-v1`, see its README) still
//! reads: every record comes back as the equal layout-2 record, checked against what
//! the layout-1 code printed for it.

use std::path::Path;

use tickd_bus::record::{RecordRef, TradeMsg};
use tickd_bus::{Fixed, Price, RecordBuf};
use tickd_storage::journal::{Filter, JournalReader};

fn d<const S: u32>(v: Fixed<S>) -> String {
    match v.defined() {
        Some(v) => v.to_string(),
        None => "undef".into(),
    }
}

/// The line format `expected.txt` was written in: header fields, then the numbers.
fn line(r: RecordRef<'_>) -> String {
    let h = r.header();
    let head = format!(
        "{} {} {} {} {} {} {:?}",
        h.rtype, h.venue, h.instrument_id, h.sequence, h.ts_event, h.ts_recv, h.flags
    );
    let body = match r {
        RecordRef::Trade(t) => format!(
            "trade {} {} {} {} {}",
            d(t.price),
            d(t.size),
            t.trade_id_string(),
            t.side,
            t.trade_id
        ),
        RecordRef::Bbo(b) => format!(
            "bbo {} {} {} {}",
            d(b.bid_price),
            d(b.bid_size),
            d(b.ask_price),
            d(b.ask_size)
        ),
        RecordRef::BookDelta(x) => format!(
            "delta {} {} {} {} {}",
            d(x.price),
            d(x.size),
            x.update_id,
            x.side,
            x.action
        ),
        RecordRef::Bar(b) => format!(
            "bar {} {} {} {} {} {} {} {}",
            b.interval_s,
            b.trade_count,
            d(b.open),
            d(b.high),
            d(b.low),
            d(b.close),
            d(b.volume),
            b.notional()
        ),
        RecordRef::MarkFunding(m) => format!(
            "mark {} {} {} {}",
            d(m.mark_price),
            d(m.index_price),
            d(m.funding_rate),
            m.next_funding_time
        ),
        RecordRef::Liquidation(l) => format!("liq {} {} {}", d(l.price), d(l.size), l.side),
        RecordRef::OpenInterest(o) => {
            format!("oi {} {}", d(o.open_interest), d(o.open_interest_value))
        }
        RecordRef::Status(s) => format!(
            "status {} {} {} {} {}",
            s.kind, s.reason, s.conn, s.lost, s.detail
        ),
    };
    format!("{head} {body}")
}

fn fixture() -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/journal-v1")
}

#[test]
fn a_layout_1_journal_reads_as_the_same_records() {
    let reader = JournalReader::open(&fixture().join("journal"), Filter::all()).unwrap();
    assert!(reader.problems().is_empty(), "{:?}", reader.problems());
    let got: Vec<String> = reader.records().map(line).collect();
    let expected = std::fs::read_to_string(fixture().join("expected.txt")).unwrap();
    let expected: Vec<&str> = expected.lines().collect();
    assert_eq!(got.len(), 10);
    assert_eq!(got, expected);
    // And they are current-layout records: the trade is 88 bytes, a bar's VWAP derives.
    let trades: Vec<RecordBuf> = reader
        .records()
        .filter(|r| matches!(r, RecordRef::Trade(_)))
        .map(|r| RecordBuf::from_bytes(r.as_bytes()).unwrap())
        .collect();
    assert_eq!(trades[0].header().record_size(), 88);
    assert_eq!(
        trades[0].get::<TradeMsg>().unwrap().price,
        Price::parse_str("58942.01").unwrap()
    );
    let vwap = reader.records().find_map(|r| match r {
        RecordRef::Bar(b) => b.vwap(),
        _ => None,
    });
    // (58942.01 × 0.000356 + 58942.5 × 1) / 1.000356, truncated to 24 places
    assert_eq!(vwap.unwrap().to_string(), "58942.49982562207854003974585");
}

/// The same journal compressed by retention (`.seg.zst`) reads the same.
#[test]
fn a_compressed_layout_1_segment_reads_too() {
    let dir = tempfile::tempdir().unwrap();
    let day = dir.path().join("binance-usdm/2025-12-06");
    std::fs::create_dir_all(&day).unwrap();
    let raw = std::fs::read(fixture().join("journal/binance-usdm/2025-12-06/000000.seg")).unwrap();
    let packed = zstd::encode_all(&raw[..], 3).unwrap();
    std::fs::write(day.join("000000.seg.zst"), packed).unwrap();
    let reader = JournalReader::open(dir.path(), Filter::all()).unwrap();
    assert!(reader.problems().is_empty(), "{:?}", reader.problems());
    let expected = std::fs::read_to_string(fixture().join("expected.txt")).unwrap();
    let got: Vec<String> = reader.records().map(line).collect();
    assert_eq!(got, expected.lines().collect::<Vec<_>>());
}
