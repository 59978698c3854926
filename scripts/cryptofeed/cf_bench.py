"""Run cryptofeed's Binance feed against the tickd simulator and print one JSON line.

cryptofeed only accepts wss:// WebSocket addresses and fetches exchangeInfo and depth
snapshots from api.binance.com; both are pointed at the simulator here (plain ws:// and
http:// on 127.0.0.1) by patching the endpoint tables and the address check, nothing else.

Measures, while measuring: callbacks (normalized messages), the process's CPU seconds,
and receive → callback latency (callback time − cryptofeed's receipt_timestamp).
"""
import argparse
import asyncio
import json
import sys
import time

from cryptofeed import FeedHandler
from cryptofeed import connection as cf_connection
from cryptofeed.connection import RestEndpoint, Routes, WebsocketEndpoint
from cryptofeed.defines import L2_BOOK, TRADES
from cryptofeed.exchanges import Binance


def point_at_simulator(ws_url: str, rest_url: str) -> None:
    original_init = cf_connection.WSAsyncConn.__init__

    def init(self, address, conn_id, *args, **kwargs):
        plain = address.startswith("ws://")
        original_init(self, "wss://" + address[len("ws://"):] if plain else address, conn_id, *args, **kwargs)
        self.address = address

    cf_connection.WSAsyncConn.__init__ = init
    Binance.websocket_endpoints = [WebsocketEndpoint(ws_url)]
    Binance.rest_endpoints = [RestEndpoint(rest_url, routes=Routes(
        '/api/v3/exchangeInfo', l2book='/api/v3/depth?symbol={}&limit={}',
        authentication='/api/v3/userDataStream'))]


def percentiles(samples):
    if not samples:
        return {"count": 0}
    s = sorted(samples)
    pick = lambda q: s[min(len(s) - 1, int(q * len(s)))]
    ns = lambda v: int(v * 1e9)
    return {"count": len(s), "p50_ns": ns(pick(0.5)), "p90_ns": ns(pick(0.9)), "p99_ns": ns(pick(0.99)),
            "p999_ns": ns(pick(0.999)), "max_ns": ns(s[-1])}


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ws", required=True)
    ap.add_argument("--rest", required=True)
    ap.add_argument("--symbols", required=True, help="BTC-USDT,ETH-USDT,...")
    ap.add_argument("--channel", choices=["trades", "book"], required=True)
    ap.add_argument("--decode-frame", help="decode-only: feed this raw frame to message_handler in a loop")
    ap.add_argument("--warmup", type=float, default=2.0)
    ap.add_argument("--secs", type=float, default=5.0)
    args = ap.parse_args()
    point_at_simulator(args.ws, args.rest)

    state = {"measuring": False, "count": 0, "lat": [], "total": 0}

    async def on_message(_msg, receipt_timestamp):
        now = time.time()
        state["total"] += 1
        if state["measuring"]:
            state["count"] += 1
            state["lat"].append(now - receipt_timestamp)

    channel = TRADES if args.channel == "trades" else L2_BOOK
    if args.decode_frame:
        return decode_only(args, channel, on_message, state)
    fh = FeedHandler(config={"log": {"disabled": True}})
    fh.add_feed(Binance(symbols=args.symbols.split(","), channels=[channel], callbacks={channel: on_message},
                        max_depth=100 if channel == L2_BOOK else 0))
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    fh.run(start_loop=False, install_signal_handlers=False)
    loop.run_until_complete(asyncio.sleep(args.warmup))
    cpu0, wall0 = time.process_time(), time.time()
    state["measuring"] = True
    loop.run_until_complete(asyncio.sleep(args.secs))
    state["measuring"] = False
    cpu, wall = time.process_time() - cpu0, time.time() - wall0
    print(json.dumps({
        "tool": "cryptofeed", "channel": args.channel, "messages": state["count"],
        "messages_before": state["total"] - state["count"],
        "cpu_secs": cpu, "wall_secs": wall, "latency": percentiles(state["lat"]),
    }), flush=True)
    sys.stdout.flush()
    # cryptofeed's own shutdown can hang on open sockets; the measurement is done.
    import os
    os._exit(0)


def decode_only(args, channel, on_message, state) -> int:
    """cryptofeed's own per-message work (json.loads with Decimal, normalization, the
    callback) on one recorded frame, no network: the counterpart of tickd's decoder."""
    feed = Binance(symbols=args.symbols.split(","), channels=[channel], callbacks={channel: on_message})
    loop = asyncio.new_event_loop()
    state["measuring"] = True

    async def spin(deadline):
        n = 0
        while time.process_time() < deadline:
            for _ in range(1000):
                await feed.message_handler(args.decode_frame, None, time.time())
            n += 1000
        return n

    loop.run_until_complete(spin(time.process_time() + args.warmup / 4))
    cpu0 = time.process_time()
    n = loop.run_until_complete(spin(cpu0 + args.secs))
    cpu = time.process_time() - cpu0
    print(json.dumps({"tool": "cryptofeed", "mode": "decode", "messages": n, "cpu_secs": cpu,
                      "callbacks": state["count"]}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
