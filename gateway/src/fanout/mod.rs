//! Fan-out: the router reads the bus and fills each subscription's bounded queue.

mod bars;
pub mod budget;
mod queue;
mod router;

pub use budget::Budget;
pub use queue::{GapReason, Item, PushOutcome, StreamInfo, SubQueue};
pub use router::{Router, StreamPosition};
