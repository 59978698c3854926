"""Spread monitor across two venues: the best bid/offer of the same asset on two
venues, and the gap between their mid prices, live.

    python examples/spread_monitor.py --url ws://127.0.0.1:8080/v1/stream \\
        --a bbo.binance.BTC-USDT --b bbo.binance-usdm.BTC-USDT-PERP --seconds 10

(`tickd demo` serves both of these.)
"""

import argparse
import asyncio
import time
from decimal import Decimal

import tickd


async def monitor(url: str, a: str, b: str, seconds: float) -> int:
    mids = {}
    updates = 0
    deadline = time.monotonic() + seconds
    next_print = 0.0
    async for item in tickd.subscribe([a, b], url=url):
        if isinstance(item, tickd.Gap):
            print(f"gap on {item.stream}: {item.lost if item.lost is not None else 'unknown'} lost ({item.reason})")
            continue
        if item.bid_price is None or item.ask_price is None:
            continue  # one side of the book is empty
        mids[item.stream] = (item.bid_price + item.ask_price) / 2
        updates += 1
        if len(mids) == 2 and time.monotonic() >= next_print:
            next_print = time.monotonic() + 0.5
            mid_a, mid_b = mids[a], mids[b]
            bps = (mid_b - mid_a) / mid_a * Decimal(10_000)
            print(f"{a} {mid_a:.4f}  {b} {mid_b:.4f}  spread {mid_b - mid_a:+.4f} ({bps:+.2f} bps)")
        if time.monotonic() > deadline:
            break
    return updates


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=tickd.DEFAULT_URL)
    parser.add_argument("--a", default="bbo.binance.BTC-USDT")
    parser.add_argument("--b", default="bbo.binance-usdm.BTC-USDT-PERP")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    updates = asyncio.run(monitor(args.url, args.a, args.b, args.seconds))
    print(f"{updates} quotes")


if __name__ == "__main__":
    main()
