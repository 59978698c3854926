//! Bybit's product categories (`bybit.md` §1, §4): one WebSocket URL each, and the
//! `category` of every REST request.

/// A category tickd feeds. Options and spreads are not fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Category {
    Spot,
    /// USDT and USDC perpetuals and dated futures (sizes in the base coin).
    Linear,
    /// Coin-margined perpetuals and futures (sizes in USD contracts).
    Inverse,
}

impl Category {
    pub const ALL: [Category; 3] = [Category::Spot, Category::Linear, Category::Inverse];

    /// `spot`, `linear`, `inverse`: the URL path's last segment and REST `category`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Spot => "spot",
            Category::Linear => "linear",
            Category::Inverse => "inverse",
        }
    }

    pub fn from_name(name: &str) -> Option<Category> {
        Self::ALL.into_iter().find(|c| c.as_str() == name)
    }

    /// The engine's market number for the category (`FrameDecoder::set_market`);
    /// 0 means "not said" and reads as linear.
    pub const fn market(self) -> u8 {
        match self {
            Category::Spot => 1,
            Category::Linear => 2,
            Category::Inverse => 3,
        }
    }

    pub const fn from_market(market: u8) -> Category {
        match market {
            1 => Category::Spot,
            3 => Category::Inverse,
            _ => Category::Linear,
        }
    }

    /// The category a WebSocket URL serves: its path ends in `/v5/public/<category>`
    /// (a query string is allowed).
    pub fn of_url(url: &str) -> Option<Category> {
        let path = url.split(['?', '#']).next().unwrap_or(url);
        Category::from_name(path.trim_end_matches('/').rsplit('/').next()?)
    }

    /// The `orderbook.{depth}` depths the category offers (`bybit.md` §6.1): 1
    /// (the BBO) and the books, fewest levels first. Spot and the futures push the
    /// same depths (at different cadences); options' 25 and 100 are not fed.
    /// `orderbook.full` (spot only, seeded over REST) is chosen by `full_book`, not
    /// by depth.
    pub const fn book_depths(self) -> &'static [u32] {
        match self {
            Category::Spot => &[1, 50, 200, 1000],
            Category::Linear | Category::Inverse => &[1, 50, 200, 1000],
        }
    }

    /// The book depth to subscribe for a configured depth: the smallest the
    /// category offers beyond level 1 that holds `depth` levels, else its deepest.
    pub fn book_depth(self, depth: u32) -> u32 {
        let books = &self.book_depths()[1..];
        books
            .iter()
            .copied()
            .find(|d| *d >= depth)
            .unwrap_or(books[books.len() - 1])
    }

    /// `spot/BTCUSDT`: tickd's raw symbol for a Bybit symbol of this category.
    pub fn raw_symbol(self, symbol: &str) -> String {
        format!("{}/{symbol}", self.as_str())
    }

    /// The category and venue symbol of a tickd raw symbol (`linear/BTCUSDT`).
    pub fn split_raw(raw: &str) -> Option<(Category, &str)> {
        let (category, symbol) = raw.split_once('/')?;
        Some((Category::from_name(category)?, symbol))
    }

    /// `spot/`: the raw-symbol prefix.
    pub(crate) const fn prefix(self) -> &'static str {
        match self {
            Category::Spot => "spot/",
            Category::Linear => "linear/",
            Category::Inverse => "inverse/",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_urls_and_raw_symbols() {
        for c in Category::ALL {
            assert_eq!(Category::from_name(c.as_str()), Some(c));
            assert_eq!(Category::from_market(c.market()), c);
            let raw = c.raw_symbol("BTCUSDT");
            assert!(raw.starts_with(c.prefix()));
            assert_eq!(Category::split_raw(&raw), Some((c, "BTCUSDT")));
        }
        assert_eq!(Category::from_market(0), Category::Linear);
        assert_eq!(
            Category::of_url("wss://stream.bybit.com/v5/public/spot"),
            Some(Category::Spot)
        );
        assert_eq!(
            Category::of_url("ws://127.0.0.1:9/v5/public/inverse/?x=1"),
            Some(Category::Inverse)
        );
        assert_eq!(Category::of_url("ws://127.0.0.1:9/v5/public/option"), None);
        assert_eq!(Category::split_raw("BTCUSDT"), None);
        assert_eq!(Category::split_raw("option:BTC"), None);
    }

    #[test]
    fn configured_depths_map_to_offered_ones() {
        for c in Category::ALL {
            assert_eq!(
                [0, 1, 50, 51, 200, 500, 1000, 5000].map(|d| c.book_depth(d)),
                [50, 50, 50, 200, 200, 1000, 1000, 1000],
                "{c:?}"
            );
            assert!(c.book_depths().contains(&1), "orderbook.1 is the bbo");
        }
    }
}
