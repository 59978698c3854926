//! The QuestDB sink against a local socket that answers like QuestDB's HTTP endpoints
//! (`/settings`, `/write`) or its TCP ILP port: the exact ILP bytes it receives for
//! every table, the ILP version negotiated with servers before and after QuestDB 9.2,
//! an outage and the backfill, and a clean stop that sends to the journal's end.

use std::net::{SocketAddr, TcpListener};
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tickd_bus::record::*;
use tickd_bus::{Price, Rate, Record, RecordBuf, Size, Venue};
use tickd_storage::questdb::{
    Decimals, QuestDbConfig, QuestDbError, QuestDbSink, RecordSource, SourceBatch,
};

mod questdb_support;
use questdb_support::{
    acknowledged_rows, ilp_server, ilp_server_speaking, tcp_ilp_server, wait_until,
};

/// Records handed out in order, `per_read` at a time; remembers what was committed.
struct VecSource {
    records: Vec<RecordBuf>,
    next: usize,
    per_read: usize,
    committed: Arc<Mutex<usize>>,
}

impl RecordSource for VecSource {
    fn read(&mut self, max: usize, out: &mut Vec<RecordBuf>) -> std::io::Result<SourceBatch> {
        if self.next == self.records.len() {
            return Ok(SourceBatch::End);
        }
        let end = (self.next + max.min(self.per_read)).min(self.records.len());
        out.extend_from_slice(&self.records[self.next..end]);
        let n = end - self.next;
        self.next = end;
        Ok(SourceBatch::Read(n))
    }

    fn commit(&mut self) -> std::io::Result<()> {
        *self.committed.lock().unwrap() = self.next;
        Ok(())
    }
}

fn header<R: Record>(seq: u64, ts: u64) -> RecordHeader {
    let mut hd = RecordHeader::new::<R>(Venue::Binance, 1, ts, ts + 1_000);
    hd.sequence = seq;
    hd
}

fn trade(seq: u64, ts: u64, price: &str) -> RecordBuf {
    RecordBuf::new(&TradeMsg {
        hd: header::<TradeMsg>(seq, ts),
        price: Price::parse_str(price).unwrap(),
        size: Size::parse_str("0.000356").unwrap(),
        trade_id: 100 + seq,
        trade_id_hi: 0,
        side: Side::Sell as u8,
        _reserved: [0; 7],
    })
}

fn names(venue: Venue, id: u32) -> Option<String> {
    (venue == Venue::Binance && id == 1).then(|| "BTC-USDT".to_string())
}

fn config(addr: SocketAddr, batch_rows: usize) -> QuestDbConfig {
    QuestDbConfig {
        conf: format!("http::addr={addr};protocol_version=3;retry_timeout=0;request_timeout=2000;"),
        batch_rows,
        flush_interval: Duration::from_millis(20),
        retry_initial: Duration::from_millis(10),
        retry_max: Duration::from_millis(50),
        ..QuestDbConfig::default()
    }
}

fn source(records: Vec<RecordBuf>, per_read: usize) -> (VecSource, Arc<Mutex<usize>>) {
    let committed = Arc::new(Mutex::new(0));
    let src = VecSource {
        records,
        next: 0,
        per_read,
        committed: committed.clone(),
    };
    (src, committed)
}

#[test]
fn every_table_gets_exact_ilp_rows() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = ilp_server(listener, vec![]);

    let mut bar = BarMsg {
        hd: header::<BarMsg>(3, 1_700_000_000_000_000_000),
        interval_s: 1,
        trade_count: 2,
        open: Price::parse_str("100").unwrap(),
        high: Price::parse_str("101.5").unwrap(),
        low: Price::parse_str("99.25").unwrap(),
        close: Price::parse_str("101").unwrap(),
        volume: Size::parse_str("3").unwrap(),
        notional: tickd_bus::decimal::Notional::ZERO,
    };
    bar.set_notional(tickd_bus::decimal::Notional::parse_str("301.75").unwrap());
    let records = vec![
        trade(1, 1_700_000_000_123_000_000, "58942.01"),
        RecordBuf::new(&BboMsg {
            hd: header::<BboMsg>(2, 1_700_000_000_200_000_000),
            bid_price: Price::parse_str("29010.9").unwrap(),
            bid_size: Size::parse_str("13.94302").unwrap(),
            ask_price: Price::UNDEF,
            ask_size: Size::ZERO,
        }),
        RecordBuf::new(&bar),
        RecordBuf::new(&MarkFundingMsg {
            hd: header::<MarkFundingMsg>(4, 1_700_000_000_300_000_000),
            mark_price: Price::parse_str("1").unwrap(),
            index_price: Price::UNDEF,
            funding_rate: Rate::ZERO,
            next_funding_time: 0,
        }),
        RecordBuf::new(&BookDeltaMsg {
            hd: RecordHeader {
                flags: Flags::SNAPSHOT | Flags::LAST,
                ..header::<BookDeltaMsg>(5, 0)
            },
            price: Price::parse_str("0.00002246").unwrap(),
            size: Size::ZERO,
            update_id: 41_603_413,
            side: BookSide::Ask as u8,
            action: BookAction::Set as u8,
            _reserved: [0; 6],
        }),
        RecordBuf::new(&StatusMsg {
            hd: header::<StatusMsg>(6, 1_700_000_000_400_000_000),
            kind: StatusKind::Gap as u8,
            _reserved: 0,
            reason: StatusReason::SequenceGap as u16,
            conn: 0,
            lost: 12,
            detail: 160,
        }),
        RecordBuf::new(&LiquidationMsg {
            hd: header::<LiquidationMsg>(7, 1_700_000_000_500_000_000),
            price: Price::parse_str("57000.5").unwrap(),
            size: Size::parse_str("0.25").unwrap(),
            side: Side::Buy as u8,
            _reserved: [0; 7],
        }),
        RecordBuf::new(&OpenInterestMsg {
            hd: header::<OpenInterestMsg>(8, 1_700_000_000_600_000_000),
            open_interest: Size::parse_str("81234.5").unwrap(),
            open_interest_value: Size::UNDEF,
        }),
        // A venue-wide connection status (instrument 0): no symbol column.
        RecordBuf::new(&StatusMsg {
            hd: RecordHeader {
                instrument_id: 0,
                ..header::<StatusMsg>(9, 1_700_000_000_700_000_000)
            },
            kind: StatusKind::Connected as u8,
            _reserved: 0,
            reason: StatusReason::None as u16,
            conn: 1,
            lost: LOST_UNKNOWN,
            detail: 0,
        }),
        // Longer bars are a SAMPLE BY away: not sent.
        RecordBuf::new(&BarMsg {
            interval_s: 60,
            ..bar
        }),
    ];
    let (src, committed) = source(records, 100);
    let sink = QuestDbSink::start(config(addr, 100), src, names).unwrap();
    let stats = sink.stats().clone();
    sink.join();

    let expected = concat!(
        "trades,venue=binance,symbol=BTC-USDT,side=sell price=58942.01d,size=0.000356d,trade_id=\"101\",seq=1i,ts_recv=1700000000123001000n 1700000000123000000n\n",
        "bbo,venue=binance,symbol=BTC-USDT bid_price=29010.9d,bid_size=13.94302d,ask_size=0d,seq=2i,ts_recv=1700000000200001000n 1700000000200000000n\n",
        "bars_1s,venue=binance,symbol=BTC-USDT open=100d,high=101.5d,low=99.25d,close=101d,volume=3d,notional=301.75d,trade_count=2i,seq=3i,ts_recv=1700000000000001000n 1700000000000000000n\n",
        "mark_funding,venue=binance,symbol=BTC-USDT mark_price=1d,funding_rate=0d,seq=4i,ts_recv=1700000000300001000n 1700000000300000000n\n",
        "book_deltas,venue=binance,symbol=BTC-USDT,side=ask,action=set price=0.00002246d,size=0d,update_id=41603413i,flags=160i,seq=5i,ts_recv=1000n 1000n\n",
        "status,venue=binance,symbol=BTC-USDT,kind=gap,reason=sequence_gap lost=12i,detail=160i,seq=6i,ts_recv=1700000000400001000n 1700000000400000000n\n",
        "liquidations,venue=binance,symbol=BTC-USDT,side=buy price=57000.5d,size=0.25d,seq=7i,ts_recv=1700000000500001000n 1700000000500000000n\n",
        "open_interest,venue=binance,symbol=BTC-USDT open_interest=81234.5d,seq=8i,ts_recv=1700000000600001000n 1700000000600000000n\n",
        "status,venue=binance,kind=connected,reason=none detail=0i,seq=9i,ts_recv=1700000000700001000n 1700000000700000000n\n",
    );
    let seen = seen.lock().unwrap();
    let body: Vec<u8> = seen.iter().flat_map(|(_, b)| b.clone()).collect();
    assert_eq!(String::from_utf8_lossy(&body), expected);
    assert_eq!(stats.rows_sent.load(Ordering::Relaxed), 9);
    assert_eq!(
        stats.skipped_records.load(Ordering::Relaxed),
        1,
        "the 1 m bar has no table"
    );
    assert_eq!(*committed.lock().unwrap(), 10);
}

#[test]
fn outage_then_backfill_loses_and_duplicates_nothing() {
    // QuestDB is down at first: the port refuses connections.
    let probe = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = probe.local_addr().unwrap();
    drop(probe);

    let records: Vec<RecordBuf> = (1..=1000)
        .map(|i| {
            trade(
                i,
                1_700_000_000_000_000_000 + i * 1_000_000,
                &format!("{}.5", 100 + i),
            )
        })
        .collect();
    let (src, committed) = source(records, 37);
    let sink = QuestDbSink::start(config(addr, 100), src, names).unwrap();
    let stats = sink.stats().clone();

    wait_until("failed sends while down", || {
        stats.send_errors.load(Ordering::Relaxed) >= 3
    });
    assert_eq!(
        *committed.lock().unwrap(),
        0,
        "nothing is committed while QuestDB is down"
    );

    // QuestDB comes back, but fails a few requests with 5xx before recovering.
    let listener = TcpListener::bind(addr).unwrap();
    let seen = ilp_server(listener, vec![204, 503, 500, 204, 503]);
    sink.join();

    let rows = acknowledged_rows(&seen);
    assert_eq!(rows.len(), 1000, "every record acknowledged exactly once");
    for (i, row) in rows.iter().enumerate() {
        let seq = i + 1;
        assert!(
            row.contains(&format!(",seq={seq}i,")),
            "row {i} out of order: {row}"
        );
        assert!(row.contains(&format!("price={}.5d", 100 + seq)));
    }
    assert!(stats.send_errors.load(Ordering::Relaxed) >= 6);
    assert_eq!(stats.rows_sent.load(Ordering::Relaxed), 1000);
    assert_eq!(*committed.lock().unwrap(), 1000);
    let failed_bodies = seen
        .lock()
        .unwrap()
        .iter()
        .filter(|(s, _)| *s != 204)
        .count();
    assert_eq!(failed_bodies, 3, "the three 5xx answers were each retried");
}

/// The trade above as each protocol carries it.
fn one_trade() -> Vec<RecordBuf> {
    vec![trade(1, 1_700_000_000_123_000_000, "58942.01")]
}

fn conf(addr: SocketAddr, extra: &str) -> QuestDbConfig {
    QuestDbConfig {
        conf: format!("http::addr={addr};retry_timeout=0;request_timeout=2000;{extra}"),
        ..config(addr, 100)
    }
}

#[test]
fn a_server_speaking_ilp_v3_gets_exact_decimals_without_being_told() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = ilp_server_speaking(listener, vec![], &[1, 2, 3]);
    let (src, _) = source(one_trade(), 100);
    let sink = QuestDbSink::start(conf(addr, ""), src, names).unwrap();
    let stats = sink.stats().clone();
    sink.join();
    assert_eq!(stats.protocol_version.load(Ordering::Relaxed), 3);
    let rows = acknowledged_rows(&seen);
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].contains(" price=58942.01d,size=0.000356d,"),
        "{}",
        rows[0]
    );
}

#[test]
fn a_server_before_questdb_9_2_is_refused_at_start_naming_the_version_needed() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = ilp_server_speaking(listener, vec![], &[1, 2]);
    let (src, committed) = source(one_trade(), 100);
    let Err(err) = QuestDbSink::start(conf(addr, ""), src, names) else {
        panic!("the sink started against a server without ILP v3");
    };
    assert!(matches!(err, QuestDbError::Version(_)), "{err:?}");
    let msg = err.to_string();
    assert!(
        msg.contains("QuestDB 9.2 or newer") && msg.contains("decimals = \"string\""),
        "{msg}"
    );
    assert!(acknowledged_rows(&seen).is_empty());
    assert_eq!(*committed.lock().unwrap(), 0);
}

#[test]
fn the_chosen_fallback_sends_exact_strings_or_doubles_to_an_older_server() {
    for (decimals, price) in [
        (Decimals::String, " price=\"58942.01\",size=\"0.000356\","),
        (Decimals::Double, " price=="),
    ] {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = ilp_server_speaking(listener, vec![], &[1, 2]);
        let (src, committed) = source(one_trade(), 100);
        let config = QuestDbConfig {
            decimals,
            ..conf(addr, "")
        };
        let sink = QuestDbSink::start(config, src, names).unwrap();
        let stats = sink.stats().clone();
        sink.join();
        assert_eq!(stats.protocol_version.load(Ordering::Relaxed), 2);
        let seen = seen.lock().unwrap();
        let body: Vec<u8> = seen.iter().flat_map(|(_, b)| b.clone()).collect();
        let text = String::from_utf8_lossy(&body);
        assert!(
            text.starts_with("trades,venue=binance,symbol=BTC-USDT,side=sell"),
            "{text}"
        );
        assert!(text.contains(price), "{decimals:?}: {text}");
        assert_eq!(*committed.lock().unwrap(), 1);
    }
}

#[test]
fn tcp_needs_protocol_version_3_for_exact_decimals() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = tcp_ilp_server(listener);
    // TCP cannot ask the server: without protocol_version it is v1, refused.
    let (src, _) = source(one_trade(), 100);
    let tcp = |extra: &str| QuestDbConfig {
        conf: format!("tcp::addr={addr};{extra}"),
        ..config(addr, 100)
    };
    let err = QuestDbSink::start(tcp(""), src, names)
        .err()
        .expect("refused");
    assert!(err.to_string().contains("protocol_version=3"), "{err}");
    let (src, committed) = source(one_trade(), 100);
    QuestDbSink::start(tcp("protocol_version=3;"), src, names)
        .unwrap()
        .join();
    wait_until("the row over TCP", || !seen.lock().unwrap().is_empty());
    let text = String::from_utf8_lossy(&seen.lock().unwrap()).to_string();
    assert!(text.contains(" price=58942.01d,"), "{text}");
    assert_eq!(*committed.lock().unwrap(), 1);
}

/// Records appended while the sink runs, as a live journal grows: `Idle` when all
/// were read.
struct GrowingSource {
    records: Arc<Mutex<Vec<RecordBuf>>>,
    next: usize,
    committed: Arc<Mutex<usize>>,
}

impl RecordSource for GrowingSource {
    fn read(&mut self, max: usize, out: &mut Vec<RecordBuf>) -> std::io::Result<SourceBatch> {
        let records = self.records.lock().unwrap();
        if self.next == records.len() {
            return Ok(SourceBatch::Idle);
        }
        let end = (self.next + max.min(7)).min(records.len());
        out.extend_from_slice(&records[self.next..end]);
        let n = end - self.next;
        self.next = end;
        Ok(SourceBatch::Read(n))
    }

    fn commit(&mut self) -> std::io::Result<()> {
        *self.committed.lock().unwrap() = self.next;
        Ok(())
    }
}

#[test]
fn a_clean_stop_sends_everything_up_to_the_journals_end() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = ilp_server(listener, vec![]);
    let records = Arc::new(Mutex::new(Vec::new()));
    let committed = Arc::new(Mutex::new(0));
    let src = GrowingSource {
        records: records.clone(),
        next: 0,
        committed: committed.clone(),
    };
    let config = QuestDbConfig {
        // Nothing would go out on its own before the stop but full batches.
        flush_interval: Duration::from_secs(3600),
        ..config(addr, 50)
    };
    let sink = QuestDbSink::start(config, src, names).unwrap();
    let all: Vec<RecordBuf> = (1..=500)
        .map(|i| trade(i, 1_700_000_000_000_000_000 + i * 1_000_000, "1.5"))
        .collect();
    records.lock().unwrap().extend_from_slice(&all[..120]);
    wait_until("the first batches", || *committed.lock().unwrap() >= 100);
    // The journal grows, then the server stops at once.
    records.lock().unwrap().extend_from_slice(&all[120..]);
    sink.stop();
    let rows = acknowledged_rows(&seen);
    assert_eq!(
        rows.len(),
        500,
        "a clean stop leaves QuestDB at the journal's end"
    );
    assert_eq!(*committed.lock().unwrap(), 500);
}
