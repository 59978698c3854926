//! `orderbook.full` (`bybit.md` §6.2): a delta-only stream with no pushed image,
//! seeded from REST `/v5/market/full_orderbook`, whose body carries both `u` (the
//! update id, linking the stream's messages) and `seq` (the cross sequence,
//! ordering the image against them). The procedure, as the engine's hooks:
//!
//! - buffering ([`chains`]): a delta whose `seq` went backwards (or a repeat of
//!   the last one) is dropped; any other `u` discontinuity restarts the buffer
//!   with it;
//! - the splice ([`splice`]): an image with `seq` below the oldest buffered delta's
//!   is fetched again; deltas with `seq` below the image's are dropped; the delta
//!   with the image's `seq` must have its `u` (then it is the image's own, dropped),
//!   else fetch again; the first delta past the image must be `u + 1`;
//! - steady state ([`links`]): `u == book_u + 1` applies, `u <= book_u` is stale,
//!   `u > book_u + 1` is a gap, `u == 1` (restart, delisting, auction, tick size
//!   change) is a gap of unknown size: each resyncs the one book over REST.

use crate::engine::{BookEvent, ImageIds, Link, Splice};

/// Steady state: the delta after the book's `u` (`last`).
pub(super) fn links(last: u64, ev: &BookEvent<'_>) -> Link {
    let u = ev.last;
    let expected = last.saturating_add(1);
    if u == 1 && last != 0 {
        Link::gap_unknown(expected)
    } else if u == expected {
        Link::Continues
    } else if u <= last {
        Link::Stale
    } else {
        Link::Gap {
            lost: u - expected,
            expected,
        }
    }
}

/// Buffering: the delta after the last buffered one.
pub(super) fn chains(back: &BookEvent<'_>, ev: &BookEvent<'_>) -> Link {
    if ev.record_id() < back.record_id() {
        // `seq` went backwards: an old delta again.
        Link::Stale
    } else if ev.last == back.last.saturating_add(1) {
        Link::Continues
    } else if ev.last == back.last && ev.record_id() == back.record_id() {
        // The same delta twice.
        Link::Stale
    } else {
        Link::gap_unknown(back.last.saturating_add(1))
    }
}

/// The REST image against one buffered delta, oldest first.
pub(super) fn splice(image: ImageIds, ev: &BookEvent<'_>, oldest: bool) -> Splice {
    // An image without `seq` cannot be placed on the stream.
    let Some(image_seq) = image.record_id else {
        return Splice::Refetch;
    };
    let seq = ev.record_id();
    if seq < image_seq {
        Splice::Covered
    } else if oldest && seq > image_seq {
        // Older than the stream: what lies between is in neither.
        Splice::Refetch
    } else if seq == image_seq {
        if ev.last == image.update_id {
            Splice::Covered
        } else {
            Splice::Refetch
        }
    } else if ev.last == image.update_id.saturating_add(1) {
        Splice::Bridges
    } else {
        Splice::Refetch
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::delta;
    use super::*;

    fn image(u: u64, seq: u64) -> ImageIds {
        ImageIds {
            update_id: u,
            record_id: Some(seq),
        }
    }

    #[test]
    fn buffering_drops_a_seq_that_went_back_and_restarts_on_a_u_jump() {
        let back = delta(10, 500);
        assert_eq!(chains(&back, &delta(11, 507)), Link::Continues);
        assert_eq!(chains(&back, &delta(11, 499)), Link::Stale, "seq went back");
        assert_eq!(
            chains(&back, &delta(10, 500)),
            Link::Stale,
            "the same delta"
        );
        assert_eq!(chains(&back, &delta(12, 514)), Link::gap_unknown(11));
        assert_eq!(chains(&back, &delta(10, 507)), Link::gap_unknown(11));
        assert_eq!(
            chains(&back, &delta(1, 507)),
            Link::gap_unknown(11),
            "u == 1"
        );
    }

    #[test]
    fn the_splice_orders_by_seq_and_links_by_u() {
        // Older than the oldest buffered delta: fetch again; the same from a later one
        // is the delta after the image.
        assert_eq!(
            splice(image(9, 490), &delta(11, 507), true),
            Splice::Refetch
        );
        assert_eq!(
            splice(image(10, 500), &delta(11, 507), true),
            Splice::Refetch
        );
        assert_eq!(
            splice(image(10, 500), &delta(11, 507), false),
            Splice::Bridges
        );
        // Below the image's seq: in the image.
        assert_eq!(
            splice(image(12, 520), &delta(11, 507), true),
            Splice::Covered
        );
        // At the image's seq: must be at its u.
        assert_eq!(
            splice(image(11, 507), &delta(11, 507), true),
            Splice::Covered
        );
        assert_eq!(
            splice(image(12, 507), &delta(11, 507), true),
            Splice::Refetch
        );
        // Past it: must be u + 1.
        assert_eq!(
            splice(image(11, 507), &delta(13, 514), false),
            Splice::Refetch
        );
        assert_eq!(
            splice(image(11, 507), &delta(11, 514), false),
            Splice::Refetch
        );
        // No seq in the image: it cannot be placed.
        let no_seq = ImageIds {
            update_id: 11,
            record_id: None,
        };
        assert_eq!(splice(no_seq, &delta(11, 507), true), Splice::Refetch);
    }

    #[test]
    fn the_synced_book_takes_u_plus_one_only() {
        assert_eq!(links(20, &delta(21, 1)), Link::Continues);
        assert_eq!(links(20, &delta(20, 1)), Link::Stale);
        assert_eq!(links(20, &delta(5, 1)), Link::Stale);
        assert_eq!(
            links(20, &delta(24, 1)),
            Link::Gap {
                lost: 3,
                expected: 21
            }
        );
        assert_eq!(links(20, &delta(1, 1)), Link::gap_unknown(21), "restart");
    }
}
