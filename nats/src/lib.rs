//! tickd-nats: scale-out over NATS JetStream (`docs/scale-out.md`).
//!
//! - [`publisher`]: on a feed node, a bus consumer that publishes every record's bytes,
//!   unchanged and batched, to `tickd.<venue>.<channel>.<symbol>` subjects that a
//!   JetStream stream captures; it answers book-snapshot requests and keeps the
//!   venue's instrument registry in a JetStream key-value bucket.
//! - [`edge`]: on an edge node, one consumer per venue that reads the stream into a
//!   local bus ring (the gateway and journal read that ring as in `tickd serve`),
//!   seeds books from the feed node's snapshots, turns lost records into gap records
//!   and a silent feed node into a disconnected status.
//! - [`settings`]: connection (servers, credentials, TLS), stream and bucket settings.
//! - [`wire`] and [`subject`]: the message layout and the subject names.

pub mod books;
pub mod edge;
pub mod position;
pub mod publisher;
pub mod registry_kv;
pub mod settings;
pub mod subject;
pub mod testkit;
pub mod wire;

pub use edge::{spawn_edge, EdgeHandle, EdgeStats};
pub use publisher::{spawn_publisher, PublisherHandle, PublisherStats};
pub use settings::{NatsAuth, NatsSettings, NatsTls, Secret, StreamSettings};
