//! Every sample in `testdata/exchanges/samples/htx/` decodes to the expected
//! records or book events (as the gzip binary frame HTX sends and as text),
//! extremes included; the spot snapshot-then-update chain splices; swap
//! snapshots and `version` + 1 updates keep the book.

mod htx_common;

use htx_common::*;
use tickd_bus::record::{BboMsg, LiquidationMsg, MarkFundingMsg, Side, TradeMsg};
use tickd_bus::{Flags, Rate, RecordBuf, Venue};
use tickd_normalizer::engine::{BookEvent, BookSync, ControlReply, Frame, FrameDecoder, SyncState};
use tickd_normalizer::htx::HtxRule;

fn one(dec: &mut tickd_normalizer::htx::HtxDecoder, text: &str) -> (Owned, Vec<RecordBuf>) {
    let mut sink = Vec::new();
    let ev = decode(dec, text, &mut sink).unwrap_or_else(|e| panic!("{text}: {e}"));
    (ev, sink)
}

#[test]
fn spot_trade_uses_trade_id_and_reads_e_notation() {
    let mut dec = decoder(Venue::Htx);
    let (ev, sink) = one(&mut dec, &sample("trades.jsonl")[0]);
    assert_eq!(ev, Owned::Records(1));
    let t = sink[0].get::<TradeMsg>().unwrap();
    assert_eq!(t.hd.venue, Venue::Htx as u8);
    assert_eq!(t.hd.instrument_id, 1);
    assert_eq!(t.price, p("58911.07"));
    assert_eq!(t.size, q("0.000198"));
    // Not the legacy 27-digit `id`.
    assert_eq!((t.trade_id, t.trade_id_hi), (102_357_140_867, 0));
    assert_eq!(t.side(), Side::Sell);
    assert_eq!(t.hd.ts_event, ms(1_616_243_199_156));
    assert_eq!(t.hd.ts_recv, TS_RECV);
}

#[test]
fn spot_bbo() {
    let mut dec = decoder(Venue::Htx);
    let (ev, sink) = one(&mut dec, &sample("bbo.jsonl")[0]);
    assert_eq!(ev, Owned::Records(1));
    let b = sink[0].get::<BboMsg>().unwrap();
    assert_eq!(
        (b.bid_price, b.bid_size, b.ask_price, b.ask_size),
        (p("31764.08"), q("4.378544"), p("31764.09"), q("0.794873"))
    );
    assert_eq!(b.hd.ts_event, ms(1_654_031_600_064));
    // quoteTime 0 is not a quote.
    let zero = r#"{"ch":"market.btcusdt.bbo","ts":1,"tick":{"seqId":1,"ask":1,"askSize":1,"bid":1,"bidSize":1,"quoteTime":0,"symbol":"btcusdt"}}"#;
    assert_eq!(one(&mut dec, zero), (Owned::Records(0), vec![]));
}

#[test]
fn spot_mbp_samples_and_extremes() {
    let mut dec = decoder(Venue::Htx);
    let lines = sample("book_mbp.jsonl");
    let (ev, sink) = one(&mut dec, &lines[0]);
    assert!(sink.is_empty());
    assert_eq!(
        ev,
        Owned::Book {
            instrument_id: 1,
            snapshot: false,
            last: 129_803_485_567,
            prev: Some(129_803_485_424),
            ts_event: 0,
            bids: vec![lv("38765.39", "0"), lv("38762.87", "0.009708")],
            asks: vec![lv("38762.88", "0.102302")],
        }
    );
    let (ev, _) = one(&mut dec, &lines[1]);
    let Owned::Book { bids, asks, .. } = ev else {
        panic!()
    };
    assert!(bids.is_empty(), "one side only");
    assert_eq!(asks, vec![lv("61945.07", "0.000533")]);
    let (ev, _) = one(&mut dec, &lines[2]);
    let Owned::Book {
        snapshot,
        last,
        prev,
        bids,
        asks,
        ..
    } = ev
    else {
        panic!()
    };
    assert!(snapshot);
    assert_eq!(
        (last, prev, bids.len(), asks.len()),
        (109_409_288_160, None, 4, 9)
    );
    // The meme coin: prices of 9.485E-11, sizes of 5.1E12, exact.
    let (ev, _) = one(&mut dec, &lines[4]);
    let Owned::Book {
        instrument_id,
        bids,
        asks,
        ..
    } = ev
    else {
        panic!()
    };
    assert_eq!(instrument_id, 2);
    assert!(bids.is_empty());
    assert_eq!(
        asks,
        vec![
            lv("0.00000000009485", "3241279678416.32"),
            lv("0.00000000009486", "5106999000000"),
            lv("0.00000000009487", "0"),
            lv("0.00000000009505", "177482488238.36"),
            lv("0.00000000025083", "0"),
        ]
    );
}

fn event(o: &Owned) -> BookEvent<'_> {
    let Owned::Book {
        instrument_id,
        snapshot,
        last,
        prev,
        ts_event,
        bids,
        asks,
    } = o
    else {
        panic!("{o:?}")
    };
    BookEvent {
        instrument_id: *instrument_id,
        snapshot: *snapshot,
        first: *last,
        last: *last,
        prev: *prev,
        checksum: None,
        record_id: None,
        ts_event: *ts_event,
        bids,
        asks,
    }
}

/// The `req` image (line 3) and the update whose `prevSeqNum` is its `seqNum`
/// (line 4), in both arrival orders.
#[test]
fn spot_snapshot_then_update_splices() {
    let lines = sample("book_mbp.jsonl");
    let mut dec = decoder(Venue::Htx);
    let snapshot = one(&mut dec, &lines[2]).0;
    let update = one(&mut dec, &lines[3]).0;
    for order in [[&snapshot, &update], [&update, &snapshot]] {
        let mut sync = BookSync::new(Venue::Htx, 1, HtxRule::SpotMbp, 64);
        let mut out = Vec::new();
        for ev in order {
            let _ = sync.on_event(&event(ev), TS_RECV, &mut out);
        }
        assert_eq!(sync.state(), SyncState::Synced);
        assert_eq!(sync.last_update_id(), Some(109_409_288_204));
        let book = sync.book();
        assert!(!book.is_crossed());
        let asks: Vec<_> = book.asks().collect();
        let bids: Vec<_> = book.bids().collect();
        assert_eq!(
            asks,
            vec![
                lv("9137.68", "0.190075"),
                lv("9137.75", "0.01"),
                lv("9138.23", "0.010945"),
                lv("9138.27", "0.131941"),
                lv("9138.47", "0.003"),
                lv("9138.62", "0.0074"),
                lv("9138.67", "0.033924"),
                lv("9144.0", "0.05"),
                lv("9146.84", "1.0"),
                lv("9146.9", "0.001598"),
            ]
        );
        assert_eq!(
            bids,
            vec![
                lv("9137.67", "4.683547"),
                lv("9137.35", "0.0089"),
                lv("9137.17", "0.00606"),
                lv("9137.06", "0.11"),
                lv("9134.5", "0.002232"),
                lv("9134.4", "0.164064"),
            ]
        );
        let snapshots = out
            .iter()
            .filter(|r| r.header().flags.contains(Flags::SNAPSHOT))
            .count();
        assert_eq!(
            snapshots,
            1 + 13,
            "the image is published as SNAPSHOT records (clear + levels)"
        );
        assert_eq!(sync.stats().gaps, 0);
    }
}

#[test]
fn swap_books_snapshot_update_and_null_side() {
    let lines = sample("swap_book.jsonl");
    let mut dec = decoder(Venue::HtxUsdm);
    let snapshot = one(&mut dec, &lines[0]).0;
    let update = one(&mut dec, &lines[1]).0;
    let mut sync = BookSync::new(Venue::HtxUsdm, 11, HtxRule::SwapIncremental, 64);
    let mut out = Vec::new();
    let _ = sync.on_event(&event(&snapshot), TS_RECV, &mut out);
    let _ = sync.on_event(&event(&update), TS_RECV, &mut out);
    assert_eq!(sync.last_update_id(), Some(1_789_895_280_798));
    let bids: Vec<_> = sync.book().bids().collect();
    assert_eq!(
        bids,
        vec![
            lv("86859.8", "6172"),
            lv("86858.5", "147"),
            lv("86858.4", "306"),
            lv("86853.4", "2")
        ]
    );
    assert_eq!(sync.book().ask_len(), 3);
    // ETH-USDT is not in the map: counted, not an error.
    assert_eq!(
        one(&mut dec, &lines[2]).0,
        Owned::Other("UnknownSymbol".into())
    );

    let mut coinm = decoder(Venue::HtxCoinm);
    let Owned::Book {
        instrument_id,
        snapshot,
        last,
        bids,
        asks,
        ts_event,
        ..
    } = one(&mut coinm, &lines[3]).0
    else {
        panic!()
    };
    assert_eq!((instrument_id, snapshot, last), (21, false, 1_300_632_845));
    assert_eq!(bids, vec![lv("38880.6", "0"), lv("38868.2", "50")]);
    assert_eq!(asks, vec![lv("38895.7", "1635")]);
    assert_eq!(ts_event, ms(1_622_711_368_355));
    let Owned::Book {
        instrument_id,
        snapshot,
        bids,
        asks,
        ..
    } = one(&mut coinm, &lines[4]).0
    else {
        panic!()
    };
    assert_eq!(
        (instrument_id, snapshot, bids.len(), asks.len()),
        (22, true, 0, 3)
    );
}

#[test]
fn swap_trade_in_contracts_with_its_own_id() {
    let mut dec = decoder(Venue::HtxUsdm);
    let (ev, sink) = one(&mut dec, &sample("swap_trades.jsonl")[0]);
    assert_eq!(ev, Owned::Records(1));
    let t = sink[0].get::<TradeMsg>().unwrap();
    assert_eq!(t.hd.venue, Venue::HtxUsdm as u8);
    assert_eq!((t.price, t.size), (p("0.02645"), q("308")));
    assert_eq!(t.trade_id, 1_000_000_231_311_610_000);
    assert_eq!(t.side(), Side::Buy);
    // A `req` reply of the same channel sends strings.
    let pulled = r#"{"id":"1","rep":"market.PEOPLE-USDT.trade.detail","status":"ok","ts":1,"data":[{"amount":"2","quantity":"20","ts":1677643151577,"id":1000000231311610001,"price":"0.02646","direction":"sell"}]}"#;
    let (ev, sink) = one(&mut dec, pulled);
    assert_eq!(ev, Owned::Records(1));
    let t = sink[0].get::<TradeMsg>().unwrap();
    assert_eq!(
        (t.price, t.size, t.side()),
        (p("0.02646"), q("2"), Side::Sell)
    );
}

#[test]
fn funding_and_liquidations() {
    let mut dec = decoder(Venue::HtxUsdm);
    let (ev, sink) = one(&mut dec, &sample("funding.jsonl")[0]);
    assert_eq!(ev, Owned::Records(1));
    let f = sink[0].get::<MarkFundingMsg>().unwrap();
    assert_eq!(
        f.funding_rate,
        Rate::parse_str("0.000064355479737646").unwrap()
    );
    assert_eq!(f.hd.ts_event, ms(1_790_135_110_000));
    assert_eq!(f.next_funding_time, ms(1_790_150_400_000));
    let zero = sample("funding.jsonl")[0].replace("0.000064355479737646", "0E-18");
    let f = one(&mut dec, &zero).1[0];
    assert_eq!(f.get::<MarkFundingMsg>().unwrap().funding_rate, Rate::ZERO);
    // htx.md §6.9 (doc example).
    let liq = r#"{"op":"notify","topic":"public.O3-USDT.liquidation_orders","ts":1639122193214,"data":[{"symbol":"O3","contract_code":"O3-USDT","direction":"sell","offset":"close","volume":432,"price":0.7858,"created_at":1639122193172,"amount":432,"trade_turnover":339.4656,"contract_type":"swap","pair":"O3-USDT","business_type":"swap"}]}"#;
    let (ev, sink) = one(&mut dec, liq);
    assert_eq!(ev, Owned::Records(1));
    let l = sink[0].get::<LiquidationMsg>().unwrap();
    assert_eq!(
        (l.hd.instrument_id, l.price, l.size),
        (14, p("0.7858"), q("432"))
    );
    assert_eq!(l.hd.ts_event, ms(1_639_122_193_172));
}

#[test]
fn pings_acks_and_errors() {
    let mut dec = decoder(Venue::Htx);
    assert_eq!(
        one(&mut dec, r#"{"ping":1492420473027}"#).0,
        Owned::Other(r#"ping {"pong":1492420473027}"#.into())
    );
    let mut swap = decoder(Venue::HtxUsdm);
    assert_eq!(
        one(&mut swap, r#"{"op":"ping","ts":"1489474081631"}"#).0,
        Owned::Other(r#"ping {"op":"pong","ts":"1489474081631"}"#.into())
    );
    let ack = r#"{"id":"7","status":"ok","subbed":"market.btcusdt.trade.detail","ts":1}"#;
    assert_eq!(
        one(&mut dec, ack).0,
        Owned::Other(format!(
            "{:?}",
            tickd_normalizer::engine::VenueEvent::Reply(ControlReply::Ack { id: Some(7) })
        ))
    );
    let Owned::Other(err) = one(&mut swap, &sample("control.jsonl")[0]).0 else {
        panic!()
    };
    assert!(
        err.contains("Rejected") && err.contains("invalid topic market.BTC-USDT.depth.size_400"),
        "{err}"
    );
    let notif_err = r#"{"op":"sub","cid":"c1","topic":"public.XX-USDT.funding_rate","ts":1,"err-code":2011,"err-msg":"contract doesn't exist"}"#;
    let Owned::Other(err) = one(&mut swap, notif_err).0 else {
        panic!()
    };
    assert!(err.contains("2011"), "{err}");
}

#[test]
fn klines_become_venue_bars_when_the_next_candle_starts() {
    // Stateful (the open candle is kept), so each frame is decoded once, as sent.
    let mut dec = decoder(Venue::Htx);
    let one = |dec: &mut tickd_normalizer::htx::HtxDecoder, text: &str| {
        let mut sink = Vec::new();
        let gz = tickd_normalizer::htx::encode::gzip(text.as_bytes());
        let ev = owned(dec.decode(Frame::Binary(&gz), TS_RECV, &mut sink)).unwrap();
        (ev, sink)
    };
    let kline = |id: u64, close: &str| {
        format!(
            r#"{{"ch":"market.btcusdt.kline.1min","ts":1,"tick":{{"id":{id},"open":1.5E4,"close":{close},"low":14999.5,"high":15001,"amount":2.5,"vol":37500.25,"count":7}}}}"#
        )
    };
    assert_eq!(
        one(&mut dec, &kline(1_700_000_040, "15000")).0,
        Owned::Records(0)
    );
    assert_eq!(
        one(&mut dec, &kline(1_700_000_040, "15000.5")).0,
        Owned::Records(0)
    );
    let (ev, sink) = one(&mut dec, &kline(1_700_000_100, "1"));
    assert_eq!(ev, Owned::Records(1));
    let bar = sink[0].get::<tickd_bus::record::BarMsg>().unwrap();
    assert!(bar.hd.flags.contains(Flags::VENUE_BAR));
    assert_eq!(bar.hd.ts_event, 1_700_000_100 * 1_000_000_000);
    assert_eq!(
        (bar.open, bar.close, bar.volume),
        (p("15000"), p("15000.5"), q("2.5"))
    );
    assert_eq!((bar.interval_s, bar.trade_count), (60, 7));
    assert_eq!(bar.notional().to_string(), "37500.25");
}

/// Coin-M candles count contracts and their turnover in coin: the bar's notional
/// is the contracts times the contract's USD value from the registry, exactly
/// (100 USD a BTC contract: 12.5 contracts = 1 250 USD); unknown until learned.
#[test]
fn coin_margined_bar_notional_is_contracts_times_the_contract_value() {
    use tickd_bus::instrument::{ContractSpec, ContractType, InstrumentKind, InstrumentSpec};
    let kline = |id: u64| {
        format!(
            r#"{{"ch":"market.BTC-USD.kline.1min","ts":1,"tick":{{"id":{id},"mrid":{id},"open":6.0E4,"close":60010.5,"low":59990,"high":60020,"amount":2.0828E-2,"vol":12.5,"count":3}}}}"#
        )
    };
    let bar_notional = |dec: &mut tickd_normalizer::htx::HtxDecoder| {
        let mut sink: Vec<RecordBuf> = Vec::new();
        for id in [1_700_000_040, 1_700_000_100] {
            dec.decode(Frame::Text(kline(id).as_bytes()), TS_RECV, &mut sink)
                .map(|_| ())
                .unwrap();
        }
        assert_eq!(sink.len(), 1);
        let bar = sink[0].get::<tickd_bus::record::BarMsg>().unwrap();
        assert_eq!(bar.volume, q("12.5"), "volume in contracts");
        bar.notional().to_string()
    };
    let mut dec = decoder(Venue::HtxCoinm);
    assert_eq!(bar_notional(&mut dec), "0", "contract size not yet known");
    let mut dec = decoder(Venue::HtxCoinm);
    let spec = InstrumentSpec {
        venue: Venue::HtxCoinm,
        raw_symbol: "BTC-USD".into(),
        base: "BTC".into(),
        quote: "USD".into(),
        kind: InstrumentKind::Perpetual,
        tick_size: p("0.1"),
        step_size: q("1"),
        contract: Some(ContractSpec {
            value: q("100"),
            value_currency: "USD".into(),
            kind: ContractType::Inverse,
            settle_currency: "BTC".into(),
        }),
    };
    let id = dec.symbols().get("BTC-USD").expect("known symbol");
    dec.learn_instrument(id, &spec);
    assert_eq!(bar_notional(&mut dec), "1250");
}
