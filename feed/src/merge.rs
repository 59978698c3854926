//! Exactly-once across overlapping connections.
//!
//! During a proactive rotation two connections carry the same streams. Each
//! stream's messages carry venue ids (a trade id, a depth event's `[U, u]` and
//! `pu`), so the merge keeps, per stream, the last id passed on and decides:
//!
//! - from the **primary** (the old connection, or the only one): pass on; an id
//!   past `last + 1` is a loss the caller flags;
//! - from the **secondary** (the new one, while both are up): pass on only what
//!   continues the stream exactly; drop what was already passed (duplicates) and
//!   hold back nothing — anything *ahead* is dropped because the primary, still
//!   up, will deliver it itself.
//!
//! The overlap ends when every stream the primary delivered during the overlap has
//! been met by the secondary (a duplicate or an exact continuation): from then on
//! the secondary alone covers the stream and the primary can close.

use std::collections::{HashMap, HashSet};

/// A stream: `(instrument id, record type or channel tag)`.
pub type StreamKey = (u32, u8);

/// The ids one message covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Span {
    pub first: u64,
    pub last: u64,
    /// The id of the stream's previous message, where the venue links messages
    /// explicitly (Binance USD-M `pu`); `None` when ids are contiguous.
    pub prev: Option<u64>,
}

impl Span {
    /// A message with one id (a trade).
    pub const fn single(id: u64) -> Self {
        Self {
            first: id,
            last: id,
            prev: None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Primary,
    Secondary,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Continues the stream: pass it on.
    Accept,
    /// From the primary, but ids were skipped: pass it on and flag the loss.
    /// `lost` is exact for contiguous ids, `None` for linked ids.
    AcceptAfterGap { expected: u64, lost: Option<u64> },
    /// Already passed on.
    Duplicate,
    /// From the secondary and ahead of the stream: the primary will deliver it.
    Ahead,
}

#[derive(Debug, Default)]
pub struct Merge {
    last: HashMap<StreamKey, u64>,
    overlapping: bool,
    primary_seen: HashSet<StreamKey>,
    caught_up: HashSet<StreamKey>,
}

impl Merge {
    pub fn new() -> Self {
        Self::default()
    }

    /// The last id passed on for `key`.
    pub fn last(&self, key: StreamKey) -> Option<u64> {
        self.last.get(&key).copied()
    }

    /// Forget a stream's position (its book resynced from scratch, say).
    pub fn forget(&mut self, key: StreamKey) {
        self.last.remove(&key);
    }

    pub fn begin_overlap(&mut self) {
        self.overlapping = true;
        self.primary_seen.clear();
        self.caught_up.clear();
    }

    pub fn end_overlap(&mut self) {
        self.overlapping = false;
        self.primary_seen.clear();
        self.caught_up.clear();
    }

    pub fn is_overlapping(&self) -> bool {
        self.overlapping
    }

    /// Whether the secondary has met every stream the primary delivered during the
    /// overlap (and at least one, unless the primary delivered nothing).
    pub fn overlap_complete(&self) -> bool {
        self.overlapping
            && self.primary_seen.iter().all(|k| self.caught_up.contains(k))
            && (!self.caught_up.is_empty() || self.primary_seen.is_empty())
    }

    /// Streams the secondary has not met yet.
    pub fn lagging(&self) -> usize {
        self.primary_seen.difference(&self.caught_up).count()
    }

    /// Judge one message and, when it is passed on, advance the stream.
    pub fn check(&mut self, key: StreamKey, span: Span, role: Role) -> Verdict {
        let last = self.last.get(&key).copied();
        let verdict = match (last, role) {
            (Some(last), _) if span.last <= last => Verdict::Duplicate,
            (Some(last), _) if continues(last, span) => Verdict::Accept,
            (Some(last), Role::Primary) => Verdict::AcceptAfterGap {
                expected: last + 1,
                lost: match span.prev {
                    None => Some(span.first.saturating_sub(last + 1)),
                    Some(_) => None,
                },
            },
            (Some(_), Role::Secondary) => Verdict::Ahead,
            (None, Role::Primary) => Verdict::Accept,
            // Nothing passed on yet: the primary still owns the stream.
            (None, Role::Secondary) => {
                if self.overlapping {
                    Verdict::Ahead
                } else {
                    Verdict::Accept
                }
            }
        };
        if self.overlapping {
            match role {
                Role::Primary => {
                    self.primary_seen.insert(key);
                }
                Role::Secondary => {
                    if matches!(verdict, Verdict::Accept | Verdict::Duplicate) {
                        self.caught_up.insert(key);
                    }
                }
            }
        }
        if matches!(verdict, Verdict::Accept | Verdict::AcceptAfterGap { .. }) {
            self.last.insert(key, span.last);
        }
        verdict
    }
}

fn continues(last: u64, span: Span) -> bool {
    match span.prev {
        Some(prev) => prev == last,
        None => span.first <= last.saturating_add(1),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const K: StreamKey = (1, 1);

    #[test]
    fn primary_alone_passes_everything_and_flags_skips() {
        let mut m = Merge::new();
        assert_eq!(m.check(K, Span::single(10), Role::Primary), Verdict::Accept);
        assert_eq!(m.check(K, Span::single(11), Role::Primary), Verdict::Accept);
        assert_eq!(
            m.check(K, Span::single(11), Role::Primary),
            Verdict::Duplicate
        );
        assert_eq!(
            m.check(K, Span::single(15), Role::Primary),
            Verdict::AcceptAfterGap {
                expected: 12,
                lost: Some(3)
            }
        );
        assert_eq!(m.last(K), Some(15));
    }

    #[test]
    fn rotation_with_a_lagging_old_connection_loses_and_duplicates_nothing() {
        let mut m = Merge::new();
        for id in 1..=5 {
            m.check(K, Span::single(id), Role::Primary);
        }
        m.begin_overlap();
        let mut out = Vec::new();
        // The new connection is ahead: 8, 9 arrive before the old one sent 6, 7.
        for (id, role) in [
            (8, Role::Secondary),
            (6, Role::Primary),
            (9, Role::Secondary),
            (7, Role::Primary),
            (8, Role::Primary),
            (9, Role::Primary),
            (10, Role::Secondary),
            (9, Role::Secondary),
        ] {
            if matches!(m.check(K, Span::single(id), role), Verdict::Accept) {
                out.push(id);
            }
        }
        assert!(m.overlap_complete());
        m.end_overlap();
        assert_eq!(
            m.check(K, Span::single(11), Role::Secondary),
            Verdict::Accept
        );
        out.push(11);
        // Every id exactly once, in order, although 8 and 9 first came early on
        // the new connection and 9 came twice.
        assert_eq!(out, vec![6, 7, 8, 9, 10, 11]);
    }

    #[test]
    fn linked_ids_continue_only_on_their_link() {
        let mut m = Merge::new();
        let span = |first, last, prev| Span {
            first,
            last,
            prev: Some(prev),
        };
        assert_eq!(
            m.check(K, span(100, 110, 90), Role::Primary),
            Verdict::Accept
        );
        m.begin_overlap();
        assert_eq!(
            m.check(K, span(130, 140, 120), Role::Secondary),
            Verdict::Ahead
        );
        assert_eq!(m.lagging(), 0);
        assert_eq!(
            m.check(K, span(115, 120, 110), Role::Primary),
            Verdict::Accept
        );
        assert_eq!(m.lagging(), 1);
        assert!(!m.overlap_complete());
        assert_eq!(
            m.check(K, span(115, 120, 110), Role::Secondary),
            Verdict::Duplicate
        );
        assert!(m.overlap_complete());
        assert_eq!(
            m.check(K, span(150, 160, 145), Role::Primary),
            Verdict::AcceptAfterGap {
                expected: 121,
                lost: None
            }
        );
    }
}
