use tickd_bus::{Price, Size};

/// One price level as a venue sends it: size 0 means "delete this level".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Level {
    pub price: Price,
    pub size: Size,
}

impl Level {
    pub const fn new(price: Price, size: Size) -> Self {
        Self { price, size }
    }
}
