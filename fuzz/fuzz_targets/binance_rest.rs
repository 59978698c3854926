//! Any bytes as a Binance REST body: depth snapshot, open interest, exchangeInfo.
//! Must not panic; a decoded book is sorted best first.

#![no_main]

use libfuzzer_sys::fuzz_target;
use tickd_normalizer::binance::{
    decode_exchange_info, decode_open_interest, decode_rest_depth, BinanceMarket,
};
use tickd_normalizer::SymbolMap;

fuzz_target!(|body: &[u8]| {
    if let Ok(snapshot) = decode_rest_depth(body) {
        assert!(snapshot.bids.windows(2).all(|w| w[0].price >= w[1].price));
        assert!(snapshot.asks.windows(2).all(|w| w[0].price <= w[1].price));
    }
    let symbols: SymbolMap = [("BTCUSDT".to_string(), 1u32)].into_iter().collect();
    let _ = decode_open_interest(body, &symbols, 1);
    for market in [BinanceMarket::Spot, BinanceMarket::UsdmFutures] {
        let _ = decode_exchange_info(market, body);
    }
});
