"""A fake server sending broken protocol: the client raises a clear error, never hangs.
(The one place a fake server is used: tickd itself never sends these.)"""

import asyncio
import json
import struct

import pytest
from websockets.asyncio.server import serve

import tickd

HELLO = {"type": "hello", "server": "tickd", "protocol": 2, "encoding": "binary", "heartbeat_ms": 200, "records": 2}
TRADE = (
    struct.pack("<BBBBIQQQ", 22, 1, 1, 0, 1, 1, 1, 1)
    + (100).to_bytes(16, "little", signed=True) * 2
    + struct.pack("<QQB7x", 1, 0, 1)
)


def run_against(messages, encoding="binary", hello=True, **options):
    """Serve `messages` after a hello to one client; return what the client raised."""

    async def handler(ws):
        if hello:
            await ws.send(json.dumps({**HELLO, "encoding": encoding}) if hello is True else hello)
        await ws.recv()  # the subscribe
        for message in messages:
            await ws.send(message)
        await ws.wait_closed()  # until the client gives up on us

    async def main():
        async with serve(handler, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            sub = tickd.subscribe("trades.binance.*", url=f"ws://127.0.0.1:{port}/v1/stream", encoding=encoding,
                                  reconnect=False, open_timeout=1.0, resolve_symbols=False)
            got = []
            async for item in sub:
                got.append(item)
            return got

    with pytest.raises(tickd.TickdError) as err:
        asyncio.run(asyncio.wait_for(main(), 10))
    return err.value


@pytest.mark.parametrize(
    "frame, message",
    [
        (b"\xff\x01" + b"\x00" * 298, "must be 88 bytes"),
        (TRADE[:40], "needs 88 bytes"),
        (TRADE + TRADE[:60], "record at byte 88"),
        (b"\x12\xc8" + b"\x00" * 70, "unknown record type 200"),
        (b"\x01\x01\x00", "too short"),
    ],
)
def test_corrupt_binary_frames(frame, message):
    err = run_against([frame])
    assert isinstance(err, tickd.FrameError) and message in str(err), err


def test_text_that_is_not_json():
    err = run_against(["{not json"], encoding="json")
    assert isinstance(err, tickd.FrameError) and "not JSON" in str(err)


def test_a_data_message_missing_fields():
    err = run_against([json.dumps({"type": "data", "kind": "trade", "venue": "binance"})], encoding="json")
    assert isinstance(err, tickd.FrameError) and "malformed data message" in str(err)


def test_an_unknown_layout_version_is_refused():
    err = run_against([TRADE], hello=json.dumps({**HELLO, "records": 99}))
    assert isinstance(err, tickd.FrameError) and "layout version 99" in str(err)


def test_a_server_that_never_says_hello():
    err = run_against([], hello=False)
    assert isinstance(err, tickd.ConnectError) and "no hello" in str(err)


def test_a_server_that_falls_silent():
    # hello says heartbeats every 200 ms; nothing follows: the connection is declared dead.
    err = run_against([TRADE])
    assert isinstance(err, tickd.ConnectError) and "heartbeats stopped" in str(err)


def test_binary_on_a_json_connection():
    err = run_against([TRADE], encoding="json")
    assert isinstance(err, tickd.FrameError) and "binary frame" in str(err)
