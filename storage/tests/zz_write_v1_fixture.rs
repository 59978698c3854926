//! Throwaway: writes testdata/journal-v1 with the v1 record layout (not committed).
use tickd_bus::record::*;
use tickd_bus::{Price, Rate, RecordBuf, RecordHeader, Size, Venue};
use tickd_storage::journal::{FsyncPolicy, Journal, JournalConfig};

#[test]
#[ignore]
fn write_v1_fixture() {
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/journal-v1");
    let dir = out.join("journal");
    let _ = std::fs::remove_dir_all(&dir);
    let (mut journal, _) = Journal::open(JournalConfig { fsync: FsyncPolicy::Never, ..JournalConfig::new(&dir) }).unwrap();
    let p = |s: &str| Price::parse_str(s).unwrap();
    let q = |s: &str| Size::parse_str(s).unwrap();
    let t0: u64 = 1_764_979_200_000_000_000; // 2025-12-06T00:00:00Z
    let mut seq = 0u64;
    let mut hd = |r: RecordHeader, i: u64| {
        let mut r = r;
        r.sequence = seq;
        seq += 1;
        r.ts_event = t0 + i * 1_000_000;
        r.ts_recv = t0 + i * 1_000_000 + 250_000;
        r
    };
    let mut recs: Vec<RecordBuf> = Vec::new();
    let v = Venue::BinanceUsdm;
    recs.push(RecordBuf::new(&TradeMsg { hd: hd(RecordHeader::new::<TradeMsg>(v, 1, 0, 0), 0), price: p("58942.01"), size: q("0.000356"), trade_id: 716_849_523, trade_id_hi: 0, side: Side::Sell as u8, _reserved: [0; 7] }));
    recs.push(RecordBuf::new(&TradeMsg { hd: hd(RecordHeader::new::<TradeMsg>(v, 2, 0, 0), 1), price: p("0.00002246"), size: q("50000000000.12345678"), trade_id: 0x9112_a178_eb60_23af, trade_id_hi: 0x20f4_3950_d8dd_5b31, side: Side::Buy as u8, _reserved: [0; 7] }));
    recs.push(RecordBuf::new(&BboMsg { hd: hd(RecordHeader::new::<BboMsg>(v, 1, 0, 0), 2), bid_price: p("29010.9"), bid_size: q("13.94302"), ask_price: Price::UNDEF, ask_size: Size::ZERO }));
    let mut clear = BookDeltaMsg { hd: hd(RecordHeader::new::<BookDeltaMsg>(v, 1, 0, 0), 3), price: Price::UNDEF, size: Size::ZERO, update_id: 41_603_412, side: 0, action: BookAction::Clear as u8, _reserved: [0; 6] };
    clear.hd.flags = Flags::SNAPSHOT;
    recs.push(RecordBuf::new(&clear));
    let mut set = BookDeltaMsg { hd: hd(RecordHeader::new::<BookDeltaMsg>(v, 1, 0, 0), 4), price: p("-9223372036.854775806"), size: q("92233720368.54775806"), update_id: 41_603_413, side: BookSide::Ask as u8, action: BookAction::Set as u8, _reserved: [0; 6] };
    set.hd.flags = Flags::SNAPSHOT | Flags::LAST;
    recs.push(RecordBuf::new(&set));
    let mut bar = BarMsg { hd: hd(RecordHeader::new::<BarMsg>(v, 1, 0, 0), 5), interval_s: 60, trade_count: 2, open: p("58942.01"), high: p("58942.5"), low: p("58942.01"), close: p("58942.5"), volume: q("1.000356"), notional_lo: 0, notional_hi: 0 };
    bar.set_notional(tickd_bus::decimal::notional(p("58942.01"), q("0.000356")) + tickd_bus::decimal::notional(p("58942.5"), q("1")));
    recs.push(RecordBuf::new(&bar));
    recs.push(RecordBuf::new(&MarkFundingMsg { hd: hd(RecordHeader::new::<MarkFundingMsg>(v, 1, 0, 0), 6), mark_price: p("11794.15"), index_price: Price::UNDEF, funding_rate: Rate::parse_str("-0.0001542145319804").unwrap(), next_funding_time: 1_597_392_000_000_000_000 }));
    recs.push(RecordBuf::new(&LiquidationMsg { hd: hd(RecordHeader::new::<LiquidationMsg>(v, 1, 0, 0), 7), price: p("9910"), size: q("0.014"), side: Side::Sell as u8, _reserved: [0; 7] }));
    recs.push(RecordBuf::new(&OpenInterestMsg { hd: hd(RecordHeader::new::<OpenInterestMsg>(v, 1, 0, 0), 8), open_interest: q("10659.509"), open_interest_value: Size::UNDEF }));
    recs.push(RecordBuf::new(&StatusMsg { hd: hd(RecordHeader::new::<StatusMsg>(v, 0, 0, 0), 9), kind: StatusKind::Gap as u8, _reserved: 0, reason: StatusReason::SequenceGap as u16, conn: 2, lost: LOST_UNKNOWN, detail: 160 }));
    let mut expected = String::new();
    for r in &recs {
        journal.append(r).unwrap();
        expected.push_str(&line(r));
        expected.push('\n');
    }
    journal.close().unwrap();
    std::fs::write(out.join("expected.txt"), expected).unwrap();
}

fn d<const S: u32>(v: tickd_bus::Fixed<S>) -> String {
    match v.defined() { Some(v) => v.to_string(), None => "undef".into() }
}

/// One line per record: header fields, then the body's numbers as canonical decimals.
fn line(r: &RecordBuf) -> String {
    let h = r.header();
    let head = format!("{} {} {} {} {} {} {:?}", h.rtype, h.venue, h.instrument_id, h.sequence, h.ts_event, h.ts_recv, h.flags);
    let body = match r.as_ref().unwrap() {
        RecordRef::Trade(t) => format!("trade {} {} {} {} {}", d(t.price), d(t.size), t.trade_id_string(), t.side, t.trade_id),
        RecordRef::Bbo(b) => format!("bbo {} {} {} {}", d(b.bid_price), d(b.bid_size), d(b.ask_price), d(b.ask_size)),
        RecordRef::BookDelta(x) => format!("delta {} {} {} {} {}", d(x.price), d(x.size), x.update_id, x.side, x.action),
        RecordRef::Bar(b) => format!("bar {} {} {} {} {} {} {} {}", b.interval_s, b.trade_count, d(b.open), d(b.high), d(b.low), d(b.close), d(b.volume), tickd_bus::decimal::format_i128(b.notional(), tickd_bus::decimal::NOTIONAL_SCALE)),
        RecordRef::MarkFunding(m) => format!("mark {} {} {} {}", d(m.mark_price), d(m.index_price), d(m.funding_rate), m.next_funding_time),
        RecordRef::Liquidation(l) => format!("liq {} {} {}", d(l.price), d(l.size), l.side),
        RecordRef::OpenInterest(o) => format!("oi {} {}", d(o.open_interest), d(o.open_interest_value)),
        RecordRef::Status(s) => format!("status {} {} {} {} {}", s.kind, s.reason, s.conn, s.lost, s.detail),
    };
    format!("{head} {body}")
}
