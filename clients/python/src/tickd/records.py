"""Records: numpy dtypes mirroring tickd's binary layout, frame decoding, and the
`Record` objects both encodings produce.

The dtypes are built from `_layout.py`, which is generated from the Rust definitions
(`bus/src/record/`), so they cannot drift from the server. A binary frame becomes one
structured array per run of same-type records through `np.frombuffer`, without a
Python loop over records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Dict, FrozenSet, Iterator, List, Mapping, Optional, Tuple

import numpy as np

from . import _layout
from .errors import FrameError

if TYPE_CHECKING:  # pandas is an optional dependency
    import pandas

LAYOUT_VERSION: int = _layout.LAYOUT_VERSION
HEADER_SIZE: int = _layout.HEADER_SIZE

#: Code tables, value -> name: RecordType, Venue, Flags, Side, BookSide, BookAction,
#: StatusKind, StatusReason.
CODES: Mapping[str, Mapping[int, str]] = _layout.CODES
VENUE_NAMES: Mapping[int, str] = CODES["Venue"]
VENUE_IDS: Mapping[str, int] = {name: code for code, name in VENUE_NAMES.items()}
KIND_NAMES: Mapping[int, str] = CODES["RecordType"]
KIND_IDS: Mapping[str, int] = {name: code for code, name in KIND_NAMES.items()}
FLAG_BITS: Mapping[str, int] = {name: bit for bit, name in CODES["Flags"].items()}
_DERIVED = FLAG_BITS["derived"]

# Which code table names a field's values.
_FIELD_CODES = {
    ("trade", "side"): "Side",
    ("liquidation", "side"): "Side",
    ("book", "side"): "BookSide",
    ("book", "action"): "BookAction",
    ("status", "kind"): "StatusKind",
    ("status", "reason"): "StatusReason",
}
# JSON names differing from the binary field names.
_JSON_NAMES = {("status", "kind"): "status", ("bar", "interval_s"): "interval"}
_NUMPY_TYPES = {"u8": "<u1", "u16": "<u2", "u32": "<u4", "u64": "<u8", "i64": "<i8"}
# Signed integers wider than numpy's: little-endian 64-bit words (a `(<u8, n)` field).
_WIDE_INTS = {"i128": 2, "i256": 4}
UNDEF_U64 = (1 << 64) - 1  # `lost` when unknown


@dataclass(frozen=True)
class FieldInfo:
    """One field of a record, as `_layout.py` describes it."""

    name: str
    offset: int
    size: int
    type: str
    scale: Optional[int]
    undef: Optional[int]


@dataclass(frozen=True)
class RecordLayout:
    """One record type: its number, name, size, fields and numpy dtype."""

    rtype: int
    kind: str
    size: int
    fields: Tuple[FieldInfo, ...]
    wide: Tuple[Tuple[str, str, str, int], ...]
    dtype: np.dtype


def _fields(raw: Any) -> Tuple[FieldInfo, ...]:
    return tuple(FieldInfo(*f) for f in raw)


def _dtype(fields: Tuple[FieldInfo, ...], size: int) -> np.dtype:
    names, formats, offsets = [], [], []
    for f in fields:
        if f.type == "pad" or f.name.startswith("_"):
            continue
        if f.type in _WIDE_INTS:
            formats.append(("<u8", (_WIDE_INTS[f.type],)))
        elif f.type in _NUMPY_TYPES:
            formats.append(_NUMPY_TYPES[f.type])
        else:
            raise FrameError(f"layout field {f.name} has type {f.type}, unknown to this client")
        names.append(f.name)
        offsets.append(f.offset)
    return np.dtype({"names": names, "formats": formats, "offsets": offsets, "itemsize": size})


HEADER_FIELDS: Tuple[FieldInfo, ...] = _fields(_layout.HEADER)
HEADER_DTYPE: np.dtype = _dtype(HEADER_FIELDS, HEADER_SIZE)

#: Every record type by its `rtype` number.
LAYOUTS: Dict[int, RecordLayout] = {}
for _rtype, (_kind, _size, _body, _wide) in _layout.RECORDS.items():
    _all = HEADER_FIELDS + _fields(_body)
    LAYOUTS[_rtype] = RecordLayout(_rtype, _kind, _size, _all, tuple(_wide), _dtype(_all, _size))

#: The numpy dtype of each record kind (`"trade"`, `"book"`, ...).
DTYPES: Dict[str, np.dtype] = {layout.kind: layout.dtype for layout in LAYOUTS.values()}
MAX_RECORD_SIZE = max(layout.size for layout in LAYOUTS.values())


def check_layout_version(version: int) -> None:
    """Raise `FrameError` unless the server's record layout is the one this client reads."""
    if version != LAYOUT_VERSION:
        raise FrameError(
            f"server sends record layout version {version}; this tickd client reads version "
            f"{LAYOUT_VERSION}: install the client matching the server"
        )


# --- exact decimals --------------------------------------------------------------


def decimal_from_raw(raw: int, scale: int) -> Decimal:
    """The exact decimal `raw × 10^-scale`, printed canonically (no trailing zeros),
    exactly as the server's JSON prints it."""
    digits = str(abs(raw)).rjust(scale + 1, "0")
    whole, frac = digits[: len(digits) - scale], digits[len(digits) - scale :].rstrip("0")
    text = f"{'-' if raw < 0 else ''}{whole}{'.' + frac if frac else ''}"
    return Decimal(text)


def _ints(raw: np.ndarray) -> List[int]:
    """A column as Python ints; wide columns (rows of little-endian u64 words) signed."""
    if raw.ndim == 1:
        return [int(v) for v in raw.tolist()]
    bits = 64 * raw.shape[1]
    out = []
    for words in raw.tolist():
        value = sum(int(w) << (64 * i) for i, w in enumerate(words))
        out.append(value - (1 << bits) if value >> (bits - 1) else value)
    return out


def _decimal_column(raw: np.ndarray, scale: int, undef: Optional[int]) -> List[Optional[Decimal]]:
    return [None if undef is not None and v == undef else decimal_from_raw(v, scale) for v in _ints(raw)]


def _float_column(raw: np.ndarray, scale: int, undef: Optional[int]) -> np.ndarray:
    if raw.ndim == 1:
        values = raw.astype(np.float64) / (10.0**scale)
        if undef is not None:
            values[raw == undef] = np.nan
        return values
    ints = _ints(raw)
    return np.array([np.nan if undef is not None and v == undef else v / 10**scale for v in ints], dtype=np.float64)


def _wide_raw(lo: int, hi: int) -> int:
    return (hi << 64) | lo


def trade_id_text(lo: int, hi: int) -> str:
    """The trade id as the venue wrote it: a number, or a UUID for 128-bit ids."""
    if hi == 0:
        return str(lo)
    h = f"{(hi << 64) | lo:032x}"
    return f"{h[0:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:32]}"


def flag_names(flags: int) -> FrozenSet[str]:
    """The names of the bits set in a header's `flags` byte."""
    return frozenset(name for name, bit in FLAG_BITS.items() if flags & bit)


def interval_text(seconds: int) -> str:
    """`60` -> `1m`, `90` -> `90s`, as stream names and JSON print intervals."""
    for unit, scale in (("d", 86_400), ("h", 3_600), ("m", 60)):
        if seconds >= scale and seconds % scale == 0:
            return f"{seconds // scale}{unit}"
    return f"{seconds}s"


# --- records as objects ------------------------------------------------------------


@dataclass
class Record:
    """One record, from either encoding. Decimal fields are `decimal.Decimal` (`None`
    when the venue did not send them); codes are names (`"buy"`, `"bid"`, `"set"`).

    Body fields are in `fields` and readable as attributes: `rec.price`, `rec.side`.
    """

    kind: str
    venue: str
    instrument_id: int
    seq: int
    ts_event: int
    ts_recv: int
    flags: FrozenSet[str]
    fields: Dict[str, Any]
    stream: str = ""
    symbol: Optional[str] = None

    def __getattr__(self, name: str) -> Any:
        fields = self.__dict__.get("fields", {})
        if name in fields:
            return fields[name]
        raise AttributeError(f"{self.kind} record has no field {name!r}")

    @property
    def is_last(self) -> bool:
        """Last record of one exchange event."""
        return "last" in self.flags

    @property
    def is_snapshot(self) -> bool:
        """Part of a full book image."""
        return "snapshot" in self.flags

    def key(self) -> Tuple[Any, ...]:
        """What identifies the record's content independently of the encoding."""
        return (self.kind, self.venue, self.instrument_id, self.seq, self.ts_event, self.ts_recv,
                tuple(sorted(self.flags)), tuple(sorted(self.fields.items())))


_JSON_HEADER = {"type", "stream", "seq", "kind", "venue", "instrument_id", "symbol", "flags", "ts_event", "ts_recv"}


def record_from_json(message: Mapping[str, Any]) -> Record:
    """A `data` message of the JSON encoding as a `Record`."""
    try:
        kind = message["kind"]
        layout = LAYOUTS[KIND_IDS[kind]]
        fields: Dict[str, Any] = {}
        for name, value in message.items():
            if name in _JSON_HEADER:
                continue
            fields[name] = value
        for f in layout.fields:
            if f.scale is not None and f.name in fields and fields[f.name] is not None:
                fields[f.name] = Decimal(fields[f.name])
        for name, _lo, _hi, _scale in layout.wide:
            if fields.get(name) is not None:
                fields[name] = Decimal(fields[name])
        return Record(
            kind=kind,
            venue=message["venue"],
            instrument_id=int(message["instrument_id"]),
            seq=int(message["seq"]),
            ts_event=int(message["ts_event"] or 0),  # null: the venue sent no event time
            ts_recv=int(message["ts_recv"]),
            flags=frozenset(message["flags"]),
            fields=fields,
            stream=message.get("stream", ""),
            symbol=message.get("symbol"),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as err:
        raise FrameError(f"malformed data message ({type(err).__name__}: {err}): {dict(message)!r:.300}") from err


# --- batches ---------------------------------------------------------------------------


@dataclass
class RecordBatch:
    """Records of one type from one binary frame: `array` is a numpy structured array
    with the record's dtype (`DTYPES[kind]`), a view on the frame's bytes."""

    kind: str
    array: np.ndarray
    symbols: Mapping[int, str] = field(default_factory=dict)

    @property
    def layout(self) -> RecordLayout:
        return LAYOUTS[KIND_IDS[self.kind]]

    def __len__(self) -> int:
        return len(self.array)

    def columns(self, decimals: str = "decimal") -> Dict[str, Any]:
        """Columns as a dict of arrays/lists. `decimals`: `"decimal"` (exact
        `decimal.Decimal`, `None` when not provided), `"float"` (float64, NaN when not
        provided) or `"raw"` (the integer counts)."""
        if decimals not in ("decimal", "float", "raw"):
            raise ValueError("decimals must be 'decimal', 'float' or 'raw'")
        a = self.array
        layout = self.layout
        out: Dict[str, Any] = {}
        wide_parts = {part for w in layout.wide for part in (w[1], w[2])}
        for f in layout.fields:
            if f.name.startswith("_") or f.type == "pad" or f.name in ("length", "rtype") or f.name in wide_parts:
                continue
            column = a[f.name]
            if f.name == "venue":
                out["venue"] = [VENUE_NAMES.get(v, str(v)) for v in column.tolist()]
                if self.symbols:
                    out["symbol"] = [self.symbols.get(i) for i in a["instrument_id"].tolist()]
            elif f.scale is not None and decimals == "decimal":
                out[f.name] = _decimal_column(column, f.scale, f.undef)
            elif f.scale is not None and decimals == "float":
                out[f.name] = _float_column(column, f.scale, f.undef)
            elif (self.kind, f.name) in _FIELD_CODES:
                names = CODES[_FIELD_CODES[(self.kind, f.name)]]
                out[f.name] = [names.get(v, "unknown") for v in column.tolist()]
            elif column.ndim > 1:
                out[f.name] = _ints(column)
            else:
                out[f.name] = column
        for name, lo, hi, scale in layout.wide:
            raws = [_wide_raw(int(x), int(y)) for x, y in zip(a[lo].tolist(), a[hi].tolist())]
            if decimals == "decimal":
                out[name] = [decimal_from_raw(r, scale) for r in raws]
            elif decimals == "float":
                out[name] = np.array([r / 10**scale for r in raws], dtype=np.float64)
            else:
                out[name] = raws
        if self.kind == "trade":
            out["trade_id"] = [trade_id_text(lo, hi) for lo, hi in zip(a["trade_id"].tolist(), a["trade_id_hi"].tolist())]
            out.pop("trade_id_hi", None)
        return out

    def to_pandas(self, decimals: str = "decimal") -> "pandas.DataFrame":
        """The batch as a DataFrame (needs pandas: `pip install tickd[pandas]`).

        Decimal fields are exact `decimal.Decimal` objects by default; pass
        `decimals="float"` for fast float64 columns or `"raw"` for the integer counts."""
        import pandas as pd

        return pd.DataFrame(self.columns(decimals))

    def records(self) -> Iterator[Record]:
        """The batch as `Record` objects (one Python object per record: convenient, slower)."""
        layout = self.layout
        cols = self.columns("decimal")
        n = len(self.array)
        body = [k for k in cols if k not in ("venue", "symbol", "instrument_id", "sequence", "ts_event", "ts_recv", "flags")]
        venues, ids, seqs = cols["venue"], self.array["instrument_id"].tolist(), self.array["sequence"].tolist()
        tse, tsr, flags = self.array["ts_event"].tolist(), self.array["ts_recv"].tolist(), self.array["flags"].tolist()
        lists = {k: (cols[k].tolist() if isinstance(cols[k], np.ndarray) else cols[k]) for k in body}
        for i in range(n):
            fields = {k: lists[k][i] for k in body}
            _json_shape(layout.kind, fields)
            yield Record(
                kind=layout.kind, venue=venues[i], instrument_id=ids[i], seq=seqs[i], ts_event=tse[i],
                ts_recv=tsr[i], flags=flag_names(flags[i]), fields=fields,
                stream=f"{_channel(layout.kind, fields, flags[i])}.{venues[i]}.#{ids[i]}",
                symbol=self.symbols.get(ids[i]),
            )


def _json_shape(kind: str, fields: Dict[str, Any]) -> None:
    """Give a binary record's fields the names and values the JSON encoding uses."""
    for (k, name), json_name in _JSON_NAMES.items():
        if k == kind and name in fields:
            fields[json_name] = fields.pop(name)
    if kind == "bar":
        fields["interval"] = interval_text(fields["interval"])
    if kind == "status" and fields.get("lost") == UNDEF_U64:
        fields["lost"] = None


_CHANNELS = {"trade": "trades", "bbo": "bbo", "book": "book", "funding": "funding",
             "liquidation": "liquidations", "oi": "oi", "status": "status"}


def _channel(kind: str, fields: Mapping[str, Any], flags: int = 0) -> str:
    if kind == "bar":
        return f"bars.{fields['interval']}"
    if kind == "bbo" and flags & _DERIVED:
        return "top"  # tickd's best bid/offer from its own book, apart from the venue's
    return _CHANNELS[kind]


def channel_of_rtype(rtype: int) -> str:
    """The stream channel of a record type number (`1` -> `trades`)."""
    kind = KIND_NAMES.get(rtype)
    if kind is None:
        return f"rtype{rtype}"
    return "bars" if kind == "bar" else _CHANNELS[kind]


def decode_frame(frame: bytes, symbols: Optional[Mapping[int, str]] = None) -> List[RecordBatch]:
    """Split one binary frame into batches of same-type records.

    Runs of records with the same length and type become one array each via
    `np.frombuffer` (a trades-only frame is one array). Raises `FrameError` for a
    length or type that is not a record, or a truncated record: the frame is corrupt."""
    buf = memoryview(frame).cast("B") if not isinstance(frame, (bytes, bytearray)) else frame
    raw = np.frombuffer(buf, dtype=np.uint8)
    total = len(raw)
    batches: List[RecordBatch] = []
    offset = 0
    symbols = symbols or {}
    while offset < total:
        if total - offset < HEADER_SIZE:
            raise FrameError(f"record at byte {offset}: {total - offset} bytes is too short for a record header")
        length = int(raw[offset]) * 4
        rtype = int(raw[offset + 1])
        layout = LAYOUTS.get(rtype)
        if layout is None:
            raise FrameError(f"record at byte {offset}: unknown record type {rtype}")
        if length != layout.size:
            raise FrameError(f"record at byte {offset}: record type {rtype} ({layout.kind}) must be {layout.size} bytes, header says {length}")
        count = (total - offset) // length
        if count == 0:
            raise FrameError(f"record at byte {offset}: record needs {length} bytes, only {total - offset} available")
        # How many records from here share this length and type (one vectorised check).
        heads = raw[offset : offset + count * length].reshape(count, length)[:, :2]
        same = (heads[:, 0] == raw[offset]) & (heads[:, 1] == rtype)
        run = count if same.all() else int(np.argmin(same))
        array = np.frombuffer(buf, dtype=layout.dtype, count=run, offset=offset)
        batches.append(RecordBatch(layout.kind, array, symbols))
        offset += run * length
    return batches
