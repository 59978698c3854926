"""An order book kept from `book` records: a snapshot image, then deltas."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING, Dict, List, Optional, Tuple, Union

from .records import Record, RecordBatch

if TYPE_CHECKING:
    import pandas

    from .live import Gap

Level = Tuple[Decimal, Decimal]


class Book:
    """One instrument's book, built from the records of a `book.<venue>.<symbol>`
    subscription (a subscription starts with a full image).

    Feed it every item of the subscription with `apply()` (records of other streams and
    kinds are ignored). `gap` is True from a gap (a `Gap` notice for this stream, a
    sequence jump, a `maybe_bad_book` flag, a gap or book-resync status record) until
    the next complete snapshot image; `complete` is True once an image was applied.
    """

    def __init__(self, venue: Optional[str] = None, instrument_id: Optional[int] = None) -> None:
        self.venue = venue
        self.instrument_id = instrument_id
        self.bids: Dict[Decimal, Decimal] = {}
        self.asks: Dict[Decimal, Decimal] = {}
        #: The venue's update id of the last record applied.
        self.update_id: int = 0
        #: Sequence number of the last record applied.
        self.seq: int = 0
        self.complete = False
        self.gap = False
        self._in_image = False

    def _mine(self, record: Record) -> bool:
        if self.venue is None:
            self.venue, self.instrument_id = record.venue, record.instrument_id
        return record.venue == self.venue and record.instrument_id == self.instrument_id

    def apply(self, item: Union[Record, RecordBatch, "Gap"]) -> bool:
        """Apply one item of a subscription; returns True if it changed the book's state."""
        if isinstance(item, RecordBatch):
            changed = False
            if item.kind in ("book", "status"):
                for record in item.records():
                    changed |= self.apply(record)
            return changed
        if not isinstance(item, Record):
            return self._on_gap(item)
        if item.kind == "status":
            if self._mine(item) and item.fields.get("status") in ("gap", "book_resync"):
                self.gap = True
                return True
            return False
        if item.kind != "book" or not self._mine(item):
            return False
        if "maybe_bad_book" in item.flags:
            self.gap = True
        if not item.is_snapshot and self.complete and item.seq > self.seq + 1:
            self.gap = True
        if item.fields.get("action") == "clear":
            self.bids.clear()
            self.asks.clear()
            self._in_image = item.is_snapshot
        else:
            side = self.bids if item.fields.get("side") == "bid" else self.asks
            price, size = item.fields["price"], item.fields["size"]
            if size == 0:
                side.pop(price, None)
            else:
                side[price] = size
        self.seq = item.seq
        self.update_id = int(item.fields.get("update_id") or self.update_id)
        if self._in_image and item.is_last:
            self._in_image = False
            self.complete = True
            self.gap = False
        return True

    def _on_gap(self, gap: "Gap") -> bool:
        parts = gap.stream.split(".")
        if len(parts) < 3 or parts[0] != "book" or parts[1] != self.venue:
            return False
        self.gap = True
        return True

    def best_bid(self) -> Optional[Level]:
        """(price, size) of the best bid, or None."""
        if not self.bids:
            return None
        price = max(self.bids)
        return price, self.bids[price]

    def best_ask(self) -> Optional[Level]:
        """(price, size) of the best ask, or None."""
        if not self.asks:
            return None
        price = min(self.asks)
        return price, self.asks[price]

    def spread(self) -> Optional[Decimal]:
        bid, ask = self.best_bid(), self.best_ask()
        return None if bid is None or ask is None else ask[0] - bid[0]

    def depth(self, levels: int = 10) -> Tuple[List[Level], List[Level]]:
        """The best `levels` bids (highest first) and asks (lowest first)."""
        bids = sorted(self.bids.items(), key=lambda kv: kv[0], reverse=True)[:levels]
        asks = sorted(self.asks.items(), key=lambda kv: kv[0])[:levels]
        return bids, asks

    def to_pandas(self, levels: int = 10) -> "pandas.DataFrame":
        """The top `levels` of each side: columns side, level, price, size (as `book_at`)."""
        import pandas as pd

        bids, asks = self.depth(levels)
        rows = [{"side": "bid", "level": i, "price": p, "size": s} for i, (p, s) in enumerate(bids)]
        rows += [{"side": "ask", "level": i, "price": p, "size": s} for i, (p, s) in enumerate(asks)]
        return pd.DataFrame(rows, columns=["side", "level", "price", "size"])
