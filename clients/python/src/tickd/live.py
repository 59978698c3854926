"""Live subscriptions over WebSocket: `subscribe(...)` returns a `Subscription`, which
is both an async iterator (`async for`) and a plain iterator (`for`).

Items are `Record`s (or, with `batches=True` on a binary connection, `RecordBatch`es of
numpy records) and `Gap` notices, in the order the server sent them.
"""

from __future__ import annotations

import asyncio
import json
import random
import urllib.parse
from dataclasses import dataclass
from typing import Any, AsyncGenerator, AsyncIterator, Dict, Iterator, List, Optional, Sequence, Set, Tuple, Union

import numpy as np
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidURI

from .errors import ConnectError, FrameError, ServerError
from .records import (
    CODES,
    VENUE_NAMES,
    Record,
    RecordBatch,
    channel_of_rtype,
    check_layout_version,
    decode_frame,
    record_from_json,
)

DEFAULT_URL = "ws://127.0.0.1:8080/v1/stream"
_SUBSCRIBE_ID = 1
_STATUS_GAP = 3  # StatusKind::Gap
_UNKNOWN = (1 << 64) - 1


@dataclass(frozen=True)
class Gap:
    """Records of `stream` that this client did not get.

    `lost` is the exact count when known, else `None`. `source` is `"server"` (the
    server's gap notice: the subscriber's queue overflowed or the gateway lagged) or
    `"reconnect"` (found by comparing sequence numbers across a reconnect; `lost` is
    `None` when the server restarted and its numbering began again)."""

    stream: str
    lost: Optional[int]
    reason: str
    source: str = "server"


Item = Union[Record, RecordBatch, Gap]


def _stream_key(kind: str, venue: str, instrument_id: int) -> Tuple[str, str, int]:
    return (kind, venue, instrument_id)


class Subscription:
    """A live subscription; see `subscribe` for the arguments. Iterate it with
    `async for` or `for`; `close()` (or leaving an `async with` block) stops it."""

    def __init__(
        self,
        streams: Union[str, Sequence[str]],
        url: str = DEFAULT_URL,
        *,
        encoding: str = "json",
        api_key: Optional[str] = None,
        from_: Union[str, int, None] = None,
        policy: Optional[str] = None,
        batches: bool = False,
        reconnect: bool = True,
        max_retries: Optional[int] = None,
        backoff: Tuple[float, float] = (0.1, 5.0),
        open_timeout: float = 5.0,
        resolve_symbols: bool = True,
    ) -> None:
        if encoding not in ("json", "binary"):
            raise ValueError("encoding must be 'json' or 'binary'")
        if batches and encoding != "binary":
            raise ValueError("batches=True needs encoding='binary'")
        self.streams: List[str] = [streams] if isinstance(streams, str) else list(streams)
        self.url = url
        self.encoding = encoding
        self.api_key = api_key
        self.from_ = from_
        self.policy = policy
        self.batches = batches
        self.reconnect = reconnect
        self.max_retries = max_retries
        self.backoff = backoff
        self.open_timeout = open_timeout
        self.resolve_symbols = resolve_symbols
        #: The concrete streams the server resolved the patterns to (from the last ack).
        self.resolved: List[str] = []
        #: The server's hello on the current connection.
        self.hello: Dict[str, Any] = {}
        #: Connections made so far (1 after the first connect).
        self.connections = 0
        self._symbols: Dict[int, str] = {}
        self._last_seq: Dict[Tuple[str, str, int], int] = {}
        self._unchecked: Set[Tuple[str, str, int]] = set()
        self._ws: Optional[ClientConnection] = None
        self._closed = False

    # -- iteration ---------------------------------------------------------------------

    def __aiter__(self) -> AsyncIterator[Item]:
        return self._run()

    def __iter__(self) -> Iterator[Item]:
        """Synchronous iteration, driving a private event loop (do not call from
        inside a running event loop; use `async for` there)."""
        loop = asyncio.new_event_loop()
        agen = self._run()
        try:
            while True:
                try:
                    yield loop.run_until_complete(agen.__anext__())
                except StopAsyncIteration:
                    return
        finally:
            loop.run_until_complete(agen.aclose())
            loop.close()

    async def __aenter__(self) -> "Subscription":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        """Stop: close the connection; iteration ends."""
        self._closed = True
        if self._ws is not None:
            await self._ws.close()

    def close(self) -> None:
        """Stop iterating (from a synchronous loop: break out, or call this)."""
        self._closed = True

    # -- connection ------------------------------------------------------------------

    def _connect_url(self) -> str:
        parts = urllib.parse.urlsplit(self.url)
        query = dict(urllib.parse.parse_qsl(parts.query))
        query["encoding"] = self.encoding
        return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))

    def http_base(self) -> str:
        """The server's HTTP API base (`http://host:port`), from the WebSocket URL."""
        parts = urllib.parse.urlsplit(self.url)
        scheme = "https" if parts.scheme == "wss" else "http"
        return f"{scheme}://{parts.netloc}"

    async def _open(self, first: bool) -> ClientConnection:
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else None
        ws = await connect(
            self._connect_url(),
            additional_headers=headers,
            open_timeout=self.open_timeout,
            max_size=None,
            compression=None,
        )
        try:
            hello = await self._hello(ws)
            if self.encoding == "binary":
                check_layout_version(int(hello.get("records", 1)))
                if self.resolve_symbols:
                    await self._load_symbols()
            request: Dict[str, Any] = {"op": "subscribe", "id": _SUBSCRIBE_ID, "streams": self.streams}
            if self.policy:
                request["policy"] = self.policy
            if self.from_ is not None and first:
                request["from"] = self.from_
            await ws.send(json.dumps(request))
        except BaseException:
            await ws.close()
            raise
        return ws

    async def _hello(self, ws: ClientConnection) -> Dict[str, Any]:
        try:
            first = await asyncio.wait_for(ws.recv(), self.open_timeout)
        except asyncio.TimeoutError:
            raise ConnectError(f"{self.url}: no hello from the server within {self.open_timeout} s") from None
        if not isinstance(first, str):
            raise FrameError(f"expected the server's JSON hello first, got a {len(first)}-byte binary frame")
        hello = _parse_json(first)
        if hello.get("type") == "error":  # e.g. unauthorized: refused before hello
            raise ServerError(str(hello.get("code")), str(hello.get("message")))
        if hello.get("type") == "closing":
            raise ServerError("closing", str(hello.get("reason")))
        if hello.get("type") != "hello":
            raise FrameError(f"expected the server's hello first, got {first[:200]!r}")
        self.hello = hello
        return hello

    async def _load_symbols(self) -> None:
        from .history import instruments  # the HTTP API on the same port

        try:
            listed = await asyncio.get_running_loop().run_in_executor(
                None, lambda: instruments(url=self.http_base(), api_key=self.api_key)
            )
        except Exception:  # symbols are a convenience; ids are in every record
            return
        self._symbols = {int(i["id"]): str(i["symbol"]) for i in listed if "id" in i and "symbol" in i}

    async def _run(self) -> AsyncGenerator[Item, None]:
        attempt = 0
        delay = self.backoff[0]
        while not self._closed:
            try:
                self._ws = await self._open(first=self.connections == 0)
            except (OSError, InvalidHandshake, ConnectionClosed, asyncio.TimeoutError, ConnectError) as err:
                if isinstance(err, InvalidHandshake) and "401" in str(err):
                    raise ServerError("unauthorized", f"{self.url}: {err}") from None
                attempt += 1
                if not self.reconnect or (self.max_retries is not None and attempt > self.max_retries):
                    raise ConnectError(f"{self.url}: {err}") from err
                await asyncio.sleep(delay * (0.5 + random.random()))
                delay = min(delay * 2, self.backoff[1])
                continue
            except InvalidURI as err:
                raise ConnectError(str(err)) from err
            if self.connections > 0:
                self._unchecked = set(self._last_seq)
            self.connections += 1
            attempt, delay = 0, self.backoff[0]
            try:
                async for item in self._receive(self._ws):
                    yield item
            except (ConnectionClosed, OSError, asyncio.TimeoutError) as err:
                if self._closed:
                    return
                if not self.reconnect:
                    raise ConnectError(f"{self.url}: connection lost: {err}") from err
            finally:
                await self._ws.close()
        return

    async def _receive(self, ws: ClientConnection) -> AsyncIterator[Item]:
        heartbeat_s = float(self.hello.get("heartbeat_ms", 5000)) / 1000.0
        silence = max(3 * heartbeat_s, 1.0)
        while not self._closed:
            try:
                message = await asyncio.wait_for(ws.recv(), silence)
            except asyncio.TimeoutError:
                raise asyncio.TimeoutError(f"nothing from the server for {silence:.1f} s (heartbeats stopped)") from None
            if isinstance(message, str):
                for item in self._on_text(message):
                    yield item
            else:
                for item in self._on_binary(message):
                    yield item

    def _on_text(self, text: str) -> List[Item]:
        message = _parse_json(text)
        kind = message.get("type")
        if kind == "data":
            record = record_from_json(message)
            return self._checked(record)
        if kind == "gap":
            try:
                return [Gap(str(message["stream"]), int(message["lost"]), str(message["reason"]))]
            except (KeyError, TypeError, ValueError) as err:
                raise FrameError(f"malformed gap message: {text[:200]!r}") from err
        if kind == "ack":
            if message.get("id") == _SUBSCRIBE_ID:
                self.resolved = list(message.get("streams", []))
            return []
        if kind == "error":
            raise ServerError(str(message.get("code")), str(message.get("message")))
        if kind in ("heartbeat", "pong", "subscriptions", "hello"):
            return []
        if kind == "closing":
            # The server closes next; that ends this connection (and may reconnect).
            self.hello["closing"] = message.get("reason")
            return []
        raise FrameError(f"unknown message type {kind!r}: {text[:200]!r}")

    def _on_binary(self, frame: bytes) -> List[Item]:
        if self.encoding != "binary":
            raise FrameError(f"binary frame of {len(frame)} bytes on a JSON connection")
        out: List[Item] = []
        for batch in decode_frame(frame, self._symbols):
            if batch.kind == "status":
                is_gap = batch.array["kind"] == _STATUS_GAP
                if is_gap.any():
                    for row in batch.array[is_gap]:
                        out.append(self._binary_gap(row))
                    batch = RecordBatch("status", batch.array[~is_gap], batch.symbols)
                    if len(batch) == 0:
                        continue
            if self.batches:
                self._track_batch(batch)
                out.append(batch)
            else:
                for record in batch.records():
                    out.extend(self._checked(record))
        return out

    def _binary_gap(self, row: np.void) -> Gap:
        venue = VENUE_NAMES.get(int(row["venue"]), str(int(row["venue"])))
        lost = int(row["lost"])
        reason = CODES["StatusReason"].get(int(row["reason"]), "unknown")
        detail = int(row["detail"])
        # The record type lost; +256 marks the derived best bid/offer stream (`top`).
        channel = "top" if detail & 0x100 else channel_of_rtype(detail & 0xFF)
        stream = f"{channel}.{venue}.#{int(row['instrument_id'])}"
        return Gap(stream, None if lost == _UNKNOWN else lost, reason)

    # -- sequence numbers across reconnects ---------------------------------------------

    def _checked(self, record: Record) -> List[Item]:
        # By channel (`bbo` and `top` are both bbo records, numbered apart).
        channel = record.stream.split(".", 1)[0] if record.stream else record.kind
        key = _stream_key(channel, record.venue, record.instrument_id)
        out: List[Item] = []
        gap = self._reconnect_gap(key, record.seq, record.stream or f"{record.kind}.{record.venue}.#{record.instrument_id}")
        if gap is not None:
            out.append(gap)
        self._last_seq[key] = record.seq
        out.append(record)
        return out

    def _track_batch(self, batch: RecordBatch) -> None:
        if len(batch) == 0:
            return
        a = batch.array
        for venue_id, instrument_id in set(zip(a["venue"].tolist(), a["instrument_id"].tolist())):
            mask = (a["venue"] == venue_id) & (a["instrument_id"] == instrument_id)
            seqs = a["sequence"][mask]
            venue = VENUE_NAMES.get(venue_id, str(venue_id))
            key = _stream_key(batch.kind, venue, instrument_id)
            self._last_seq[key] = int(seqs[-1])
            self._unchecked.discard(key)

    def _reconnect_gap(self, key: Tuple[str, str, int], seq: int, stream: str) -> Optional[Gap]:
        if key not in self._unchecked:
            return None
        self._unchecked.discard(key)
        last = self._last_seq.get(key, 0)
        if seq == last + 1 or (seq == last and key[0] == "book"):
            return None
        if seq > last + 1:
            return Gap(stream, seq - last - 1, "reconnect", source="reconnect")
        return Gap(stream, None, "reconnect: the server's sequence numbers restarted", source="reconnect")


def _parse_json(text: str) -> Dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError as err:
        raise FrameError(f"server sent text that is not JSON ({err}): {text[:200]!r}") from None
    if not isinstance(value, dict):
        raise FrameError(f"server sent JSON that is not an object: {text[:200]!r}")
    return value


def subscribe(
    streams: Union[str, Sequence[str]],
    url: str = DEFAULT_URL,
    *,
    encoding: str = "json",
    api_key: Optional[str] = None,
    from_: Union[str, int, None] = None,
    policy: Optional[str] = None,
    batches: bool = False,
    reconnect: bool = True,
    max_retries: Optional[int] = None,
    backoff: Tuple[float, float] = (0.1, 5.0),
    open_timeout: float = 5.0,
    resolve_symbols: bool = True,
) -> Subscription:
    """Subscribe to live streams.

    `streams`: one pattern or a list (`"trades.binance.*"`, `"book.binance.BTC-USDT"`).
    `url`: the server's WebSocket endpoint (`ws://HOST:8080/v1/stream`).
    `encoding`: `"json"` or `"binary"` (records' own bytes, decoded with numpy).
    `api_key`: sent as `Authorization: Bearer KEY`.
    `from_`: replay from this time (RFC 3339, a date, or ns since the epoch) out of the
    server's journal, then continue live (first connection only).
    `policy`: what the server does when this client is slow: `conflate` (default),
    `drop` or `disconnect`.
    `batches`: with binary encoding, yield one `RecordBatch` (a numpy structured array)
    per run of same-type records instead of one `Record` per record.
    `reconnect`: reconnect with exponential backoff (`backoff` = (first, max) seconds,
    jittered) when the connection drops or falls silent for 3 heartbeats;
    `max_retries` bounds consecutive failed attempts (`None`: forever).

    Iterate with `async for item in subscribe(...)` or `for item in subscribe(...)`.
    Items are `Record`s / `RecordBatch`es and `Gap` notices (never swallowed). Raises
    `FrameError` on anything that is not tickd protocol, `ServerError` when the server
    refuses the subscription, `ConnectError` when it cannot (re)connect."""
    return Subscription(
        streams, url, encoding=encoding, api_key=api_key, from_=from_, policy=policy, batches=batches,
        reconnect=reconnect, max_retries=max_retries, backoff=backoff, open_timeout=open_timeout,
        resolve_symbols=resolve_symbols,
    )


__all__ = ["DEFAULT_URL", "Gap", "Item", "Subscription", "subscribe"]
