//! HTX gzip frames: the inflate cost per frame by library, and the whole decode
//! (inflate + JSON + exact decimals) beside the decode of the same text.
//!
//! Libraries (all from crates.io), each inflating one gzip member into a reused
//! output buffer and checking its CRC-32:
//! - `zlib-rs`: tickd's `Inflater` (flate2 with its zlib-rs backend, what the
//!   decoder uses);
//! - `miniz_oxide`: flate2's default Rust backend, called directly (one flate2
//!   build has one backend);
//! - `libdeflate`: `libdeflater` (C libdeflate, whole-buffer only).
//!
//! Frames: the real spot trade and swap `high_freq` update of
//! `testdata/exchanges/samples/htx`, and a spot `mbp.150` `req` image with 150
//! levels a side in HTX's Java number style, each gzip-compressed as HTX sends it.
//!
//! cargo bench -p tickd-benches --bench inflate_htx -- --warm-up-time 1 --measurement-time 3

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use miniz_oxide::inflate::core::{decompress, inflate_flags, DecompressorOxide};
use miniz_oxide::inflate::TINFLStatus;
use tickd_bus::{RecordBuf, Venue};
use tickd_normalizer::engine::{Frame, FrameDecoder};
use tickd_normalizer::htx::encode::gzip;
use tickd_normalizer::htx::{HtxDecoder, Inflater};
use tickd_normalizer::SymbolMap;

const TRADE: &str = r#"{"ch":"market.btcusdt.trade.detail","ts":1616243199157,"tick":{"id":123140716701,"ts":1616243199156,"data":[{"id":123140716701236887569077664,"ts":1616243199156,"tradeId":102357140867,"amount":1.98E-4,"price":58911.07,"direction":"sell"}]}}"#;
const SWAP_UPDATE: &str = r#"{"ch":"market.BTC-USDT.depth.size_20.high_freq","ts":1790134831873,"tick":{"asks":[],"bids":[[86853.4,2],[86848.5,0]],"ch":"market.BTC-USDT.depth.size_20.high_freq","event":"update","id":100129125618998,"mrid":100129125618998,"ts":1790134831871,"version":1789895280798}}"#;

/// A spot `mbp.150` image: 150 levels a side around 9 137, sizes in the mix of
/// plain decimals and E-notation HTX writes.
fn mbp_image() -> String {
    let side = |sign: i64| {
        (0..150i64)
            .map(|i| {
                let price = 913_768 + sign * (i + 1);
                let size = (i * 7919) % 5000 + 1;
                let size = if i % 3 == 0 {
                    format!("{}.{:04}E-2", size / 1000, size % 1000)
                } else {
                    format!("0.{size:06}")
                };
                format!("[{}.{:02},{size}]", price / 100, price % 100)
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    format!(
        r#"{{"id":"1","status":"ok","ts":1593561601666,"rep":"market.btcusdt.mbp.150","data":{{"seqNum":109409288160,"bids":[{}],"asks":[{}]}}}}"#,
        side(-1),
        side(1)
    )
}

/// miniz_oxide over a gzip member with the plain 10-byte header tickd's encoder
/// (and HTX) writes, into a reused buffer, CRC checked.
struct Miniz {
    state: Box<DecompressorOxide>,
    out: Vec<u8>,
}

impl Miniz {
    fn inflate(&mut self, member: &[u8]) -> usize {
        let body = &member[10..member.len() - 8];
        let expected = u32::from_le_bytes(member[member.len() - 4..].try_into().unwrap()) as usize;
        self.out.resize(expected, 0);
        self.state.init();
        let flags = inflate_flags::TINFL_FLAG_USING_NON_WRAPPING_OUTPUT_BUF;
        let (status, _, written) = decompress(&mut self.state, body, &mut self.out, 0, flags);
        assert_eq!(status, TINFLStatus::Done);
        let crc = u32::from_le_bytes(
            member[member.len() - 8..member.len() - 4]
                .try_into()
                .unwrap(),
        );
        assert_eq!(crc32fast::hash(&self.out[..written]), crc);
        written
    }
}

fn bench_inflate(c: &mut Criterion) {
    let image = mbp_image();
    let frames: [(&str, &str, Venue); 3] = [
        ("spot_trade", TRADE, Venue::Htx),
        ("swap_update", SWAP_UPDATE, Venue::HtxUsdm),
        ("mbp150_image", &image, Venue::Htx),
    ];
    let mut group = c.benchmark_group("inflate_htx");
    let mut inflater = Inflater::new(1 << 20);
    let mut miniz = Miniz {
        state: Box::default(),
        out: Vec::new(),
    };
    let mut libdeflate = libdeflater::Decompressor::new();
    let mut out = vec![0u8; 1 << 20];
    for (name, text, _) in frames {
        let gz = gzip(text.as_bytes());
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.bench_function(format!("{name}/zlib-rs"), |b| {
            b.iter(|| inflater.inflate(&gz).unwrap().len())
        });
        group.bench_function(format!("{name}/miniz_oxide"), |b| {
            b.iter(|| miniz.inflate(&gz))
        });
        group.bench_function(format!("{name}/libdeflate"), |b| {
            b.iter(|| libdeflate.gzip_decompress(&gz, &mut out).unwrap())
        });
    }
    group.finish();

    let mut group = c.benchmark_group("decode_htx");
    for (name, text, venue) in frames {
        let gz = gzip(text.as_bytes());
        let symbol = if venue == Venue::Htx {
            "btcusdt"
        } else {
            "BTC-USDT"
        };
        let symbols: SymbolMap = [(symbol.to_string(), 1)].into_iter().collect();
        let mut decoder = HtxDecoder::new(venue, symbols);
        let mut sink: Vec<RecordBuf> = Vec::with_capacity(16);
        group.bench_function(format!("{name}/gzip"), |b| {
            b.iter(|| {
                sink.clear();
                decoder
                    .decode(Frame::Binary(&gz), 0, &mut sink)
                    .map(|_| ())
                    .unwrap()
            })
        });
        group.bench_function(format!("{name}/text"), |b| {
            b.iter(|| {
                sink.clear();
                decoder
                    .decode(Frame::Text(text.as_bytes()), 0, &mut sink)
                    .map(|_| ())
                    .unwrap()
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench_inflate);
criterion_main!(benches);
