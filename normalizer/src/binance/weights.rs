//! REST request weights of Binance's depth snapshot endpoints, and how many snapshots
//! a per-minute weight budget allows. Pure arithmetic: the feed does the fetching and
//! the rate limiting, this says what each request costs.
//!
//! Numbers (Binance API docs, checked 2026-11; spot's also in
//! `docs/exchanges/binance_spot.md` §7):
//! - spot `GET /api/v3/depth`, `limit` 1..=5000: weight 5 (1-100), 25 (101-500),
//!   50 (501-1000), 250 (1001-5000); IP budget `REQUEST_WEIGHT` 6000 per minute.
//! - USD-M `GET /fapi/v1/depth`, `limit` ∈ {5,10,20,50,100,500,1000}: weight 2 (5-50),
//!   5 (100), 10 (500), 20 (1000); IP budget 2400 per minute.

use super::BinanceMarket;

/// A snapshot depth the endpoint does not accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum WeightError {
    #[error("depth limit {limit} is not accepted by the {market:?} depth endpoint")]
    InvalidLimit { market: BinanceMarket, limit: u32 },
    #[error(
        "a budget of {budget} weight per minute cannot pay for one snapshot of weight {weight}"
    )]
    BudgetTooSmall { budget: u32, weight: u32 },
}

/// Request weight of one depth snapshot with `limit` levels per side.
pub const fn depth_weight(market: BinanceMarket, limit: u32) -> Result<u32, WeightError> {
    let weight = match market {
        BinanceMarket::Spot => match limit {
            1..=100 => 5,
            101..=500 => 25,
            501..=1000 => 50,
            1001..=5000 => 250,
            _ => 0,
        },
        BinanceMarket::UsdmFutures => match limit {
            5 | 10 | 20 | 50 => 2,
            100 => 5,
            500 => 10,
            1000 => 20,
            _ => 0,
        },
    };
    if weight == 0 {
        Err(WeightError::InvalidLimit { market, limit })
    } else {
        Ok(weight)
    }
}

/// The venue's `REQUEST_WEIGHT` limit per minute per IP.
pub const fn weight_limit_per_minute(market: BinanceMarket) -> u32 {
    match market {
        BinanceMarket::Spot => 6000,
        BinanceMarket::UsdmFutures => 2400,
    }
}

/// What the book sync may spend on snapshots: a depth and a share of the per-minute budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SnapshotBudget {
    pub market: BinanceMarket,
    /// `limit` query parameter: levels per side.
    pub depth: u32,
    /// Weight of one request at that depth.
    pub weight: u32,
    /// Weight per minute the snapshots may use (a share of the venue's limit, leaving
    /// room for other REST calls such as exchangeInfo).
    pub budget_per_minute: u32,
}

impl SnapshotBudget {
    /// `budget_per_minute` above the venue's limit is capped to it.
    pub fn new(
        market: BinanceMarket,
        depth: u32,
        budget_per_minute: u32,
    ) -> Result<Self, WeightError> {
        let weight = depth_weight(market, depth)?;
        let budget = budget_per_minute.min(weight_limit_per_minute(market));
        if budget < weight {
            return Err(WeightError::BudgetTooSmall { budget, weight });
        }
        Ok(Self {
            market,
            depth,
            weight,
            budget_per_minute: budget,
        })
    }

    /// Snapshots that fit in one minute.
    pub const fn snapshots_per_minute(&self) -> u32 {
        self.budget_per_minute / self.weight
    }

    /// Smallest spacing between snapshot requests that stays within the budget, in ns.
    pub const fn min_interval_ns(&self) -> u64 {
        60_000_000_000 / self.snapshots_per_minute() as u64
    }

    /// Whether `spent` weight already used this minute leaves room for one more request.
    pub const fn allows(&self, spent: u32) -> bool {
        spent.saturating_add(self.weight) <= self.budget_per_minute
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use BinanceMarket::{Spot, UsdmFutures as UsdM};

    #[test]
    fn weights_follow_the_documented_tables() {
        let cases: &[(BinanceMarket, u32, Result<u32, ()>)] = &[
            (Spot, 0, Err(())),
            (Spot, 1, Ok(5)),
            (Spot, 100, Ok(5)),
            (Spot, 101, Ok(25)),
            (Spot, 500, Ok(25)),
            (Spot, 501, Ok(50)),
            (Spot, 1000, Ok(50)),
            (Spot, 1001, Ok(250)),
            (Spot, 5000, Ok(250)),
            (Spot, 5001, Err(())),
            (UsdM, 5, Ok(2)),
            (UsdM, 50, Ok(2)),
            (UsdM, 100, Ok(5)),
            (UsdM, 500, Ok(10)),
            (UsdM, 1000, Ok(20)),
            (UsdM, 200, Err(())),
            (UsdM, 5000, Err(())),
        ];
        for &(market, limit, expected) in cases {
            assert_eq!(
                depth_weight(market, limit).map_err(|_| ()),
                expected,
                "{market:?} {limit}"
            );
        }
    }

    #[test]
    fn budget_counts_snapshots_and_caps_at_the_venue_limit() {
        let b = SnapshotBudget::new(Spot, 5000, 100_000).unwrap();
        assert_eq!((b.budget_per_minute, b.snapshots_per_minute()), (6000, 24));
        assert_eq!(b.min_interval_ns(), 2_500_000_000);
        assert!(b.allows(5750) && !b.allows(5751));
        let f = SnapshotBudget::new(UsdM, 1000, 1200).unwrap();
        assert_eq!(f.snapshots_per_minute(), 60);
        assert_eq!(
            SnapshotBudget::new(UsdM, 1000, 10),
            Err(WeightError::BudgetTooSmall {
                budget: 10,
                weight: 20
            })
        );
        assert!(SnapshotBudget::new(UsdM, 7, 2400).is_err());
    }
}
