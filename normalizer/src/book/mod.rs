//! Order books.

mod level;

pub use level::Level;
