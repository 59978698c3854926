//! Order books.

pub mod apply;
pub mod image;
mod l2;
mod level;

pub use apply::{Applied, BookReplay, DeltaError};
pub use l2::L2Book;
pub use level::Level;
