/// Which Binance market: the decoder, the book rule and the feed all key on it. The
/// continuity rules differ: spot ids are contiguous per symbol (`U == last u + 1`);
/// USD-M ids come from a shared sequence and events are linked by `pu`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinanceMarket {
    /// `binance`.
    Spot,
    /// `binance-usdm`.
    UsdmFutures,
}
