"""History over the HTTP API (`/v1/bars`, `/v1/trades`, `/v1/book`, `/v1/instruments`),
as pandas DataFrames with exact `decimal.Decimal` prices (or floats on request).

Large ranges are fetched in pages: trades in time windows split where a response was
cut off at the request limit, bars in windows of `page_bars` bars, so no response has
to hold the whole result and nothing is lost or repeated at a page edge.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from datetime import date, datetime, timezone
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Dict, List, Optional, Tuple, Union

from . import _layout
from .errors import HistoryError
from .records import decimal_from_raw

if TYPE_CHECKING:
    import pandas

DEFAULT_HTTP = "http://127.0.0.1:8080"
TimeLike = Union[int, str, datetime, date, None]
_MAX_TRADES_PER_REQUEST = 100_000


def to_ns(value: TimeLike, default: int) -> int:
    """Nanoseconds since the epoch from ns, an RFC 3339 string, a date string
    (`2026-01-01`, midnight UTC), a `datetime` (naive means UTC), a `date`, or a pandas
    Timestamp; `None` gives `default`."""
    if value is None:
        return default
    if isinstance(value, bool):
        raise TypeError("a time, not a bool")
    if isinstance(value, int):
        return value
    if hasattr(value, "value") and hasattr(value, "tz_localize"):  # pandas.Timestamp
        return int(value.value)
    if isinstance(value, str):
        text = value.strip()
        if text.isdigit():
            return int(text)
        if len(text) == 10:
            value = date.fromisoformat(text)
        else:
            value = datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        delta = value - datetime(1970, 1, 1, tzinfo=timezone.utc)
        return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000
    if isinstance(value, date):
        return to_ns(datetime(value.year, value.month, value.day, tzinfo=timezone.utc), default)
    raise TypeError(f"cannot read {value!r} as a time")


def _get(url: str, path: str, params: Dict[str, Any], api_key: Optional[str], timeout: float) -> Any:
    query = urllib.parse.urlencode({k: v for k, v in params.items() if v is not None})
    request = urllib.request.Request(f"{url.rstrip('/')}{path}?{query}")
    if api_key:
        request.add_header("Authorization", f"Bearer {api_key}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            body = response.read()
    except urllib.error.HTTPError as err:
        text = err.read().decode("utf-8", "replace")
        try:
            text = json.loads(text).get("error", text)
        except (ValueError, AttributeError):
            pass
        raise HistoryError(err.code, text) from None
    except (urllib.error.URLError, OSError) as err:
        raise HistoryError(0, f"{url}{path}: {err}") from None
    try:
        return json.loads(body)
    except ValueError:
        raise HistoryError(200, f"{path} answered with something that is not JSON: {body[:200]!r}") from None


def instruments(url: str = DEFAULT_HTTP, venue: Optional[str] = None, *, api_key: Optional[str] = None,
                timeout: float = 10.0) -> List[Dict[str, Any]]:
    """The server's instruments (`id`, `symbol`, `venue`, ...), optionally of one venue."""
    listed = _get(url, "/v1/instruments", {"venue": venue}, api_key, timeout)
    out = []
    for item in listed:
        flat = dict(item)
        spec = flat.pop("spec", None)
        if isinstance(spec, dict):
            flat = {**spec, **flat}
        out.append(flat)
    return out


def _decimals(rows: List[Dict[str, Any]], names: Tuple[str, ...], decimals: str) -> None:
    if decimals not in ("decimal", "float"):
        raise ValueError("decimals must be 'decimal' or 'float'")
    convert = Decimal if decimals == "decimal" else float
    for row in rows:
        for name in names:
            value = row.get(name)
            row[name] = None if value is None else convert(value)


_BAR_DECIMALS = ("open", "high", "low", "close", "volume", "notional")
_BAR_COLUMNS = ["start_ns", "open", "high", "low", "close", "volume", "vwap", "trade_count", "notional", "partial"]


def bars(venue: str, symbol: str, interval: Union[str, int] = "1m", start: TimeLike = None, end: TimeLike = None, *,
         url: str = DEFAULT_HTTP, api_key: Optional[str] = None, decimals: str = "decimal",
         page_bars: int = 10_000, timeout: float = 30.0) -> "pandas.DataFrame":
    """OHLCV bars starting in `[start, end)` (default: the journal's start, now), one row
    per bar with columns time (UTC), start_ns, open, high, low, close, volume, vwap,
    trade_count, notional, partial (the bar may still change: its interval is open or
    closed under 60 s ago): those of `tickd bars --format csv`. Fetched in windows of
    `page_bars` bars."""
    import pandas as pd

    seconds = _interval_seconds(interval)
    lo = to_ns(start, 0)
    hi = to_ns(end, time.time_ns() + 1)
    # Window edges are multiples of page_bars intervals, so no bar straddles two windows.
    step = seconds * 1_000_000_000 * max(1, page_bars)
    rows: List[Dict[str, Any]] = []
    at = lo
    while at < hi:
        upper = min(hi, (at // step + 1) * step)
        page = _get(url, "/v1/bars", {"venue": venue, "symbol": symbol, "interval": f"{seconds}s",
                                      "from": at, "to": upper}, api_key, timeout)
        rows.extend(page.get("bars", []))
        at = upper
    for row in rows:
        row["vwap"] = _vwap(row["notional"], row["volume"])
    _decimals(rows, _BAR_DECIMALS + ("vwap",), decimals)
    frame = pd.DataFrame(rows, columns=_BAR_COLUMNS)
    frame = frame.astype({"start_ns": "int64", "trade_count": "int64"})
    frame.insert(0, "time", pd.to_datetime(frame["start_ns"], unit="ns", utc=True))
    return frame


def _scale(kind: str, field: str) -> int:
    """A field's decimal scale, from the generated layout."""
    for _name, _size, body, _wide in _layout.RECORDS.values():
        if _name == kind:
            for name, _offset, _width, _ty, scale, _undef in body:
                if name == field and scale is not None:
                    return int(scale)
    raise KeyError(f"{kind}.{field}")


_PRICE_SCALE, _SIZE_SCALE = _scale("bar", "close"), _scale("bar", "volume")


def _vwap(notional: str, volume: str) -> Optional[str]:
    """notional / volume truncated to a price's places, as `tickd bars` prints it."""
    n = int(Decimal(notional).scaleb(_PRICE_SCALE + _SIZE_SCALE))
    v = int(Decimal(volume).scaleb(_SIZE_SCALE))
    if v == 0:
        return None
    q = abs(n) // abs(v)
    return str(decimal_from_raw(-q if (n < 0) != (v < 0) else q, _PRICE_SCALE))


def _interval_seconds(interval: Union[str, int]) -> int:
    if isinstance(interval, int):
        return interval
    text = interval.strip()
    units = {"s": 1, "m": 60, "h": 3_600, "d": 86_400}
    if text and text[-1] in units:
        return int(text[:-1]) * units[text[-1]]
    return int(text)


_TRADE_COLUMNS = ["ts_event", "ts_recv", "seq", "price", "size", "side", "trade_id"]


def trades(venue: str, symbol: str, start: TimeLike = None, end: TimeLike = None, *, url: str = DEFAULT_HTTP,
           api_key: Optional[str] = None, decimals: str = "decimal", page_size: int = _MAX_TRADES_PER_REQUEST,
           timeout: float = 30.0) -> "pandas.DataFrame":
    """Trades with trade time in `[start, end)`: columns time (UTC, of ts_event),
    ts_event, ts_recv, seq, price, size, side, trade_id. Fetched in pages of `page_size`
    trades, each following the server's `next` link, so the result is every trade once."""
    import pandas as pd

    page_size = max(1, min(page_size, _MAX_TRADES_PER_REQUEST))
    path = "/v1/trades"
    params: Dict[str, Any] = {"venue": venue, "symbol": symbol, "from": to_ns(start, 0),
                              "to": to_ns(end, time.time_ns() + 1), "limit": page_size}
    rows: List[Dict[str, Any]] = []
    while True:
        page = _get(url, path, params, api_key, timeout)
        rows.extend(page.get("trades", []))
        link = page.get("next")
        if not link:
            break
        # The link carries the whole query, cursor included.
        path, _, query = link.partition("?")
        params = dict(urllib.parse.parse_qsl(query))
    _decimals(rows, ("price", "size"), decimals)
    frame = pd.DataFrame(rows, columns=_TRADE_COLUMNS)
    frame = frame.astype({"ts_event": "int64", "ts_recv": "int64", "seq": "int64"})
    frame.insert(0, "time", pd.to_datetime(frame["ts_event"], unit="ns", utc=True))
    return frame


def book_at(venue: str, symbol: str, at: TimeLike = None, depth: int = 50, *, url: str = DEFAULT_HTTP,
            api_key: Optional[str] = None, decimals: str = "decimal", timeout: float = 30.0) -> "pandas.DataFrame":
    """The order book at time `at` (from the journal), or the live book when `at` is
    None: one row per level, columns side (`bid`/`ask`), level (0 = best), price,
    size. `frame.attrs` holds `update_id` and `gap_since_snapshot`."""
    import pandas as pd

    params: Dict[str, Any] = {"venue": venue, "symbol": symbol, "depth": depth}
    if at is not None:
        params["at"] = to_ns(at, 0)
    book = _get(url, "/v1/book", params, api_key, timeout)
    rows = []
    for side in ("bids", "asks"):
        for level, (price, size) in enumerate(book.get(side, [])):
            rows.append({"side": side[:-1], "level": level, "price": price, "size": size})
    _decimals(rows, ("price", "size"), decimals)
    frame = pd.DataFrame(rows, columns=["side", "level", "price", "size"])
    frame.attrs["update_id"] = book.get("update_id")
    frame.attrs["gap_since_snapshot"] = book.get("gap_since_snapshot")
    return frame
