//! Hostile input: every sample truncated at every byte, bytes overwritten, wrong JSON
//! types, huge numbers, deep nesting, oversized frames, and proptest mutations of the
//! samples' JSON structure plus random bytes. Each frame must give `Ok` or `Err`, never
//! panic, and be counted exactly once. (The cargo-fuzz targets in `fuzz/` run the same
//! entry points unbounded.)

use proptest::prelude::*;
use serde_json::Value;
use tickd_bus::RecordBuf;
use tickd_normalizer::binance::{
    decode_exchange_info, decode_open_interest, decode_rest_depth, BinanceDecoder, BinanceFrame,
    BinanceMarket, JsonBackend, MAX_FRAME_BYTES,
};
use tickd_normalizer::error::{DecodeError, DecodeErrorKind};
use tickd_normalizer::SymbolMap;

const FILES: &[&str] = &[
    "binance_spot/agg_trades.jsonl",
    "binance_spot/bbo.jsonl",
    "binance_spot/book_sync_sequence.jsonl",
    "binance_spot/control.jsonl",
    "binance_spot/depth_diff.jsonl",
    "binance_spot/depth_partial.jsonl",
    "binance_spot/rest_depth_snapshot.jsonl",
    "binance_spot/trades.jsonl",
    "binance_usdm/agg_trades.jsonl",
    "binance_usdm/bbo.jsonl",
    "binance_usdm/depth_diff.jsonl",
    "binance_usdm/funding_mark_price.jsonl",
    "binance_usdm/liquidations.jsonl",
    "binance_usdm/rest_depth_snapshot.jsonl",
    "binance_usdm/rest_open_interest.jsonl",
    "binance_usdm/trades.jsonl",
];

fn all_lines() -> Vec<String> {
    let dir = format!(
        "{}/../testdata/exchanges/samples",
        env!("CARGO_MANIFEST_DIR")
    );
    let mut lines = Vec::new();
    for file in FILES {
        let text = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        lines.extend(
            text.lines()
                .filter(|l| !l.trim().is_empty())
                .map(str::to_string),
        );
    }
    assert!(lines.len() > 40, "samples missing");
    lines
}

fn symbols() -> SymbolMap {
    [
        "BNBBTC",
        "BTCUSDT",
        "GNTBTC",
        "ETHUSDT",
        "BNBUSDT",
        "BALUSDT",
        "ETHUSDT_210625",
    ]
    .iter()
    .enumerate()
    .map(|(i, s)| (s.to_string(), i as u32 + 1))
    .collect()
}

/// One decoder per market and parser, fed everything; checks the invariants.
struct Harness {
    decoders: Vec<BinanceDecoder>,
    symbols: SymbolMap,
    sink: Vec<RecordBuf>,
    calls: u64,
}

impl Harness {
    fn new() -> Self {
        let mut decoders = Vec::new();
        for market in [BinanceMarket::Spot, BinanceMarket::UsdmFutures] {
            for backend in [JsonBackend::Sonic, JsonBackend::SimdJson] {
                let mut decoder = BinanceDecoder::new(market, symbols());
                decoder.set_backend_override(Some(backend));
                decoders.push(decoder);
            }
        }
        Self {
            decoders,
            symbols: symbols(),
            sink: Vec::new(),
            calls: 0,
        }
    }

    fn feed(&mut self, frame: &[u8]) {
        self.calls += 1;
        for decoder in &mut self.decoders {
            self.sink.clear();
            let before = decoder.stats().frames();
            match decoder.decode(frame, 7, &mut self.sink) {
                Ok(BinanceFrame::Records(n)) => assert_eq!(n, self.sink.len()),
                Ok(BinanceFrame::Depth(diff)) => {
                    assert!(self.sink.is_empty());
                    assert!(diff.bids.len() + diff.asks.len() <= frame.len());
                }
                Ok(_) | Err(_) => assert!(self.sink.is_empty()),
            }
            assert_eq!(
                decoder.stats().frames(),
                before + 1,
                "every frame counted once"
            );
        }
        let _ = decode_rest_depth(frame);
        let _ = decode_open_interest(frame, &self.symbols, 7);
        let _ = decode_exchange_info(BinanceMarket::UsdmFutures, frame);
    }

    fn errors(&self) -> u64 {
        self.decoders.iter().map(|d| d.stats().errors_total()).sum()
    }
}

#[test]
fn every_truncation_of_every_sample() {
    let mut harness = Harness::new();
    for line in all_lines() {
        let bytes = line.as_bytes();
        for end in 0..bytes.len() {
            harness.feed(&bytes[..end]);
        }
    }
    // A strict prefix of a JSON object is never valid JSON.
    assert_eq!(harness.errors(), harness.calls * 4);
}

#[test]
fn every_byte_overwritten() {
    let mut harness = Harness::new();
    for line in all_lines() {
        let mut bytes = line.into_bytes();
        for i in 0..bytes.len() {
            let original = bytes[i];
            for replacement in [b'"', b'}', b'\\', b'9', 0xff] {
                bytes[i] = replacement;
                harness.feed(&bytes);
            }
            bytes[i] = original;
        }
    }
    assert!(harness.errors() > 0);
}

#[test]
fn wrong_types_and_huge_numbers_are_typed_errors() {
    let mut harness = Harness::new();
    let cases: &[&str] = &[
        r#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":1.5,"q":"1","m":true}"#,
        r#"{"e":"trade","E":1,"s":"BTCUSDT","t":"1","p":"1","q":"1","m":true}"#,
        r#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1","m":"true"}"#,
        r#"{"e":"trade","E":1,"s":["BTCUSDT"],"t":1,"p":"1","q":"1","m":true}"#,
        r#"{"e":"trade","E":99999999999999999999999999,"s":"BTCUSDT","t":1,"p":"1","q":"1"}"#,
        r#"{"e":"trade","E":-1,"s":"BTCUSDT","t":1,"p":"1","q":"1"}"#,
        r#"{"e":"trade","E":1e30,"s":"BTCUSDT","t":1,"p":"1","q":"1"}"#,
        r#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"99999999999999999999","q":"1"}"#,
        r#"{"e":"trade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"0.0000000000000000001"}"#,
        r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[["1"]],"a":[]}"#,
        r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":{"1":"2"},"a":[]}"#,
        r#"{"e":"depthUpdate","E":1,"s":"BTCUSDT","U":1,"u":2,"b":[[1,2]],"a":[]}"#,
        r#"{"e":"markPriceUpdate","E":1,"s":"BTCUSDT","p":"1","r":"1e21"}"#,
        r#"{"stream":"x@markPrice","data":[{"e":"markPriceUpdate","s":"BTCUSDT","p":"1"},{"e":"markPriceUpdate","s":"BTCUSDT","p":"x"}]}"#,
        r#"{"e":"forceOrder","E":1,"o":"BTCUSDT"}"#,
        r#"{"result":null,"id":-5}"#,
        r#"{"result":null,"id":{"a":1}}"#,
        r#"{"result":[1,2],"id":1}"#,
        r#"{"code":"2","msg":"x"}"#,
        r#"{"stream":"a","data":null}"#,
        r#"{"stream":"a","data":"text"}"#,
        r#"{"e":"trade","e":"aggTrade"}"#,
        r#"{"e":"\u0074rade","E":1,"s":"BTCUSDT","t":1,"p":"1","q":"1"}"#,
        "null",
        "\"trade\"",
        "",
        "{}",
    ];
    for case in cases {
        let before = harness.errors();
        harness.feed(case.as_bytes());
        assert_eq!(harness.errors(), before + 4, "not rejected: {case}");
    }
    // An empty mark-price array is a valid frame with nothing in it.
    let mut decoder = BinanceDecoder::new(BinanceMarket::UsdmFutures, symbols());
    let mut sink = Vec::new();
    assert_eq!(
        decoder.decode(b"[]", 7, &mut sink).unwrap(),
        BinanceFrame::Records(0)
    );
    // No partial output: a bad element in the mark-price array pushed nothing.
    let mut decoder = BinanceDecoder::new(BinanceMarket::UsdmFutures, symbols());
    let mut sink = Vec::new();
    let err = decoder
        .decode(cases[13].as_bytes(), 7, &mut sink)
        .unwrap_err();
    assert_eq!(err.kind(), DecodeErrorKind::BadDecimal);
    assert!(sink.is_empty());
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    let mut harness = Harness::new();
    for depth in [64, 1_000, 100_000] {
        let open = "[".repeat(depth);
        let close = "]".repeat(depth);
        harness.feed(format!("{open}{close}").as_bytes());
        harness.feed(format!(r#"{{"e":"trade","x":{open}{close},"s":"BTCUSDT"}}"#).as_bytes());
        harness.feed(format!(r#"{{"stream":"a","data":{open}{close}}}"#).as_bytes());
        harness.feed(format!(r#"{{"e":"depthUpdate","b":{open}"#).as_bytes());
        let objects = r#"{"a":"#.repeat(depth) + "1" + &"}".repeat(depth);
        harness.feed(objects.as_bytes());
    }
}

#[test]
fn oversized_frames_are_rejected_before_parsing() {
    let mut decoder = BinanceDecoder::new(BinanceMarket::Spot, symbols());
    let mut sink = Vec::new();
    let padding = " ".repeat(10 << 20);
    let frame = format!(r#"{{"e":"trade","E":1,"s":"BNBBTC","t":1,"p":"1","q":"1"}}{padding}"#);
    let err = decoder.decode(frame.as_bytes(), 7, &mut sink).unwrap_err();
    assert_eq!(
        err,
        DecodeError::FrameTooLarge {
            len: frame.len(),
            max: MAX_FRAME_BYTES
        }
    );
    assert_eq!(decoder.stats().errors(DecodeErrorKind::FrameTooLarge), 1);
    assert!(matches!(
        decode_rest_depth(frame.as_bytes()),
        Err(DecodeError::FrameTooLarge { .. })
    ));
    // Whitespace around a normal frame is fine.
    let padded = format!(
        "\n  {}  \r\n",
        r#"{"e":"trade","E":1,"s":"BNBBTC","t":1,"p":"1","q":"1"}"#
    );
    assert_eq!(
        decoder.decode(padded.as_bytes(), 7, &mut sink).unwrap(),
        BinanceFrame::Records(1)
    );
}

/// A random JSON value for replacing a leaf.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        "[0-9.eE+-]{0,24}".prop_map(Value::String),
        ".{0,12}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 16, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec(("[a-zA-Z]{1,3}", inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Every path to a value in `root`.
fn paths(root: &Value, prefix: &mut Vec<PathStep>, out: &mut Vec<Vec<PathStep>>) {
    out.push(prefix.clone());
    match root {
        Value::Object(map) => {
            for (k, v) in map {
                prefix.push(PathStep::Key(k.clone()));
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                prefix.push(PathStep::Index(i));
                paths(v, prefix, out);
                prefix.pop();
            }
        }
        _ => {}
    }
}

#[derive(Clone, Debug)]
enum PathStep {
    Key(String),
    Index(usize),
}

fn at_mut<'v>(root: &'v mut Value, path: &[PathStep]) -> Option<&'v mut Value> {
    let mut node = root;
    for step in path {
        node = match step {
            PathStep::Key(k) => node.get_mut(k.as_str())?,
            PathStep::Index(i) => node.get_mut(*i)?,
        };
    }
    Some(node)
}

#[derive(Clone, Debug)]
enum Mutation {
    Replace(Value),
    Remove,
    Duplicate,
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => any_json().prop_map(Mutation::Replace),
        1 => Just(Mutation::Remove),
        1 => Just(Mutation::Duplicate),
    ]
}

fn apply(line: &str, picks: &[(prop::sample::Index, Mutation)]) -> String {
    let Ok(mut root) = serde_json::from_str::<Value>(line) else {
        return line.to_string();
    };
    for (pick, mutation) in picks {
        let mut all = Vec::new();
        paths(&root, &mut Vec::new(), &mut all);
        let path = pick.get(&all).clone();
        let Some((last, parent_path)) = path.split_last() else {
            continue;
        };
        let Some(parent) = at_mut(&mut root, parent_path) else {
            continue;
        };
        match (mutation, parent, last) {
            (Mutation::Replace(v), parent, _) => {
                if let Some(node) = at_mut(parent, std::slice::from_ref(last)) {
                    *node = v.clone();
                }
            }
            (Mutation::Remove, Value::Object(map), PathStep::Key(k)) => {
                map.remove(k);
            }
            (Mutation::Remove, Value::Array(items), PathStep::Index(i)) => {
                items.remove(*i);
            }
            (Mutation::Duplicate, Value::Array(items), PathStep::Index(i)) => {
                let copy = items[*i].clone();
                items.push(copy);
            }
            _ => {}
        }
    }
    let mut text = root.to_string();
    // serde_json cannot express duplicate keys: splice one in textually sometimes.
    if picks.len() > 2 {
        text = text.replacen("{\"", "{\"s\":\"BTCUSDT\",\"", 1);
    }
    text
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn structure_aware_mutations_never_panic(
        line in prop::sample::select(all_lines()),
        picks in prop::collection::vec((any::<prop::sample::Index>(), mutation()), 1..4),
    ) {
        let mut harness = Harness::new();
        harness.feed(apply(&line, &picks).as_bytes());
    }

    #[test]
    fn random_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut harness = Harness::new();
        harness.feed(&bytes);
    }

    #[test]
    fn spliced_samples_never_panic(
        a in prop::sample::select(all_lines()),
        b in prop::sample::select(all_lines()),
        cut_a in any::<prop::sample::Index>(),
        cut_b in any::<prop::sample::Index>(),
    ) {
        let a = a.as_bytes();
        let b = b.as_bytes();
        let mut frame = a[..cut_a.index(a.len())].to_vec();
        frame.extend_from_slice(&b[cut_b.index(b.len())..]);
        let mut harness = Harness::new();
        harness.feed(&frame);
    }
}
