"""tickd for Python: live market data from a tickd server, and its history.

    import tickd

    async for item in tickd.subscribe("trades.binance.*", url="ws://127.0.0.1:8080/v1/stream"):
        print(item)

    for item in tickd.subscribe("bbo.binance.BTC-USDT", encoding="binary"):  # synchronous
        ...

    df = tickd.bars("binance", "BTC-USDT", "1m", "2026-01-01", url="http://127.0.0.1:8080")

Binary subscriptions decode records with numpy (`batches=True` yields numpy structured
arrays); see `docs/binary-format.md` in the tickd repository for the format.
"""

from .book import Book
from .errors import ConnectError, FrameError, HistoryError, ServerError, TickdError
from .history import bars, book_at, instruments, to_ns, trades
from .live import DEFAULT_URL, Gap, Subscription, subscribe
from .records import (
    CODES,
    DTYPES,
    HEADER_DTYPE,
    LAYOUT_VERSION,
    LAYOUTS,
    Record,
    RecordBatch,
    decimal_from_raw,
    decode_frame,
    record_from_json,
)

__version__ = "0.1.0"

__all__ = [
    "Book",
    "CODES",
    "ConnectError",
    "DEFAULT_URL",
    "DTYPES",
    "FrameError",
    "Gap",
    "HEADER_DTYPE",
    "HistoryError",
    "LAYOUTS",
    "LAYOUT_VERSION",
    "Record",
    "RecordBatch",
    "ServerError",
    "Subscription",
    "TickdError",
    "bars",
    "book_at",
    "decimal_from_raw",
    "decode_frame",
    "instruments",
    "record_from_json",
    "subscribe",
    "to_ns",
    "trades",
]
