//! Instruments across nodes. Ids agree by construction: a feed node hands out ids from
//! each of its venues' own ranges (`venue << 20 | n`, see
//! [`tickd_bus::instrument::venue_id_range`]), exactly one feed node owns a venue, and
//! it writes the venue's instruments to the registry bucket (key: the venue's name)
//! before publishing any record that carries a new id. Edge nodes adopt those
//! instruments with their ids; nobody else ever assigns an id in that range.

use async_nats::jetstream::kv;
use bytes::Bytes;
use tickd_bus::{Instrument, SharedRegistry, Venue};

const FORMAT: &str = "tickd-venue-instruments";

/// The value under a venue's key.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct VenueRegistry {
    pub format: String,
    pub version: u32,
    pub venue: Venue,
    /// The feed node that owns the venue.
    pub node: String,
    pub instruments: Vec<Instrument>,
}

#[derive(Debug, thiserror::Error)]
pub enum RegistryKvError {
    #[error(
        "venue {venue} is owned by feed node {owner:?} in bucket {bucket}; one feed node per \
         venue keeps instrument ids unique (stop that node and delete the key to move the venue)"
    )]
    OwnedByAnother {
        venue: Venue,
        owner: String,
        bucket: String,
    },
    #[error("registry bucket value for {key}: {source}")]
    BadValue {
        key: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("{0}")]
    Registry(#[from] tickd_bus::RegistryError),
    #[error("registry bucket: {0}")]
    Nats(#[from] async_nats::Error),
    #[error("the instrument registry lock is poisoned")]
    Poisoned,
}

impl VenueRegistry {
    pub fn of(
        venue: Venue,
        node: &str,
        registry: &SharedRegistry,
    ) -> Result<Self, RegistryKvError> {
        let registry = registry.read().map_err(|_| RegistryKvError::Poisoned)?;
        Ok(VenueRegistry {
            format: FORMAT.into(),
            version: 1,
            venue,
            node: node.into(),
            instruments: registry.venue_instruments(venue).cloned().collect(),
        })
    }

    pub fn decode(key: &str, bytes: &[u8]) -> Result<Self, RegistryKvError> {
        serde_json::from_slice(bytes).map_err(|source| RegistryKvError::BadValue {
            key: key.into(),
            source,
        })
    }

    /// Add these instruments, with their ids, to `registry`. Returns how many were new.
    pub fn adopt_into(&self, registry: &SharedRegistry) -> Result<usize, RegistryKvError> {
        let mut registry = registry.write().map_err(|_| RegistryKvError::Poisoned)?;
        let before = registry.len();
        for instrument in &self.instruments {
            if instrument.spec.venue != self.venue {
                continue;
            }
            registry.adopt(instrument.clone())?;
        }
        Ok(registry.len() - before)
    }
}

/// A feed node at start-up: refuse a venue another node owns; take back the ids this
/// node published before (so they stay the same without a local registry file).
pub async fn claim(
    store: &kv::Store,
    venue: Venue,
    node: &str,
    registry: &SharedRegistry,
) -> Result<(), RegistryKvError> {
    let key = venue.as_str();
    if let Some(bytes) = store.get(key).await.map_err(async_nats::Error::from)? {
        let existing = VenueRegistry::decode(key, &bytes)?;
        if existing.node != node {
            return Err(RegistryKvError::OwnedByAnother {
                venue,
                owner: existing.node,
                bucket: store.name.clone(),
            });
        }
        existing.adopt_into(registry)?;
    }
    Ok(())
}

/// Write the venue's instruments under its key; returns how many were written.
pub async fn publish(
    store: &kv::Store,
    venue: Venue,
    node: &str,
    registry: &SharedRegistry,
) -> Result<usize, RegistryKvError> {
    let value = VenueRegistry::of(venue, node, registry)?;
    let count = value.instruments.len();
    let bytes = serde_json::to_vec(&value).map_err(|source| RegistryKvError::BadValue {
        key: venue.as_str().into(),
        source,
    })?;
    store
        .put(venue.as_str(), Bytes::from(bytes))
        .await
        .map_err(async_nats::Error::from)?;
    Ok(count)
}

/// An edge node: read a venue's key and adopt it. `Ok(false)` if the key is absent.
pub async fn load(
    store: &kv::Store,
    venue: Venue,
    registry: &SharedRegistry,
) -> Result<bool, RegistryKvError> {
    let key = venue.as_str();
    match store.get(key).await.map_err(async_nats::Error::from)? {
        Some(bytes) => {
            VenueRegistry::decode(key, &bytes)?.adopt_into(registry)?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// The venues present in the bucket (an edge node configured with no venue list).
pub async fn venues(store: &kv::Store) -> Result<Vec<Venue>, RegistryKvError> {
    use futures_util::StreamExt;
    let mut keys = store.keys().await.map_err(async_nats::Error::from)?;
    let mut venues = Vec::new();
    while let Some(key) = keys.next().await {
        let key = key.map_err(async_nats::Error::from)?;
        if let Ok(venue) = key.parse::<Venue>() {
            venues.push(venue);
        }
    }
    venues.sort();
    Ok(venues)
}

/// A feed node before its feeds start: make ids venue-scoped, refuse ids another node
/// could also hand out, and take back the ids this node published before. If the
/// server cannot be reached within `wait`, start anyway (the publisher claims the
/// venues when it connects); a venue owned by another node is an error.
pub async fn prepare_feed_node(
    settings: &crate::NatsSettings,
    venues: &[Venue],
    registry: &SharedRegistry,
    wait: std::time::Duration,
) -> Result<(), String> {
    {
        let mut r = registry
            .write()
            .map_err(|_| "registry lock poisoned".to_string())?;
        r.scope_ids_by_venue();
        let outside = r.ids_outside_venue_ranges(venues);
        if let Some(first) = outside.first() {
            return Err(format!(
                "{} instruments in the local registry have ids from before [nats] was set \
                 (e.g. {} {} = id {}); feed nodes need venue-scoped ids: move the registry \
                 file away (or use a new storage.dir) and start again",
                outside.len(),
                first.spec.venue,
                first.symbol,
                first.id
            ));
        }
    }
    let attempt = async {
        let client = settings.connect().await?;
        let js = async_nats::jetstream::new(client);
        let store = settings.ensure_stream_and_bucket(&js).await?;
        for venue in venues {
            match claim(&store, *venue, &settings.node, registry).await {
                Ok(()) => {}
                Err(err @ RegistryKvError::OwnedByAnother { .. }) => {
                    return Ok(Err(err.to_string()))
                }
                Err(err) => tracing::warn!(%venue, "taking back this node's instrument ids: {err}"),
            }
        }
        Ok::<_, async_nats::Error>(Ok(()))
    };
    match tokio::time::timeout(wait, attempt).await {
        Ok(Ok(result)) => result,
        Ok(Err(err)) => {
            tracing::warn!("NATS not ready at start-up ({err}); the publisher keeps trying");
            Ok(())
        }
        Err(_) => {
            tracing::warn!("NATS not reachable within {wait:?}; the publisher keeps trying");
            Ok(())
        }
    }
}
