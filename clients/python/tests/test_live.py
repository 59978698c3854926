"""Live subscriptions against a real `tickd demo`."""

import asyncio
import json
import time
import urllib.request
from collections import defaultdict
from decimal import Decimal

import pytest

import tickd
from conftest import API_KEY

STREAMS = ["trades.binance.BTC-USDT", "bbo.binance.ETH-USDT", "trades.binance-usdm.SOL-USDT-PERP"]


async def collect_for(sub, count, seconds):
    """Up to `count` records (a batch counts by its records), or what arrived within
    `seconds`, without a timeout error: the simulator splits its rate over every symbol
    of every venue, so a count due by a fixed time fails as venues are added; the
    caller asserts what it needs."""
    items = []

    async def run():
        async for item in sub:
            items.append(item)
            if sum(len(i) if isinstance(i, tickd.RecordBatch) else 1 for i in items) >= count:
                break

    try:
        await asyncio.wait_for(run(), seconds)
    except asyncio.TimeoutError:
        pass
    return items


def per_stream(records):
    # The `replay` flag depends on where each connection's replay/live seam fell.
    streams = defaultdict(list)
    for r in records:
        r = tickd.Record(**{**r.__dict__, "flags": r.flags - {"replay"}})
        streams[(r.kind, r.venue, r.instrument_id)].append((r.key(), r.symbol))
    return streams


def test_json_and_binary_give_the_same_records(demo):
    # Replayed from the same time, both encodings must carry the same records.
    demo.wait_for_journal()
    start = time.time_ns()
    time.sleep(1.5)  # so the replay's start is well inside the journal

    async def main():
        as_json = tickd.subscribe(STREAMS, url=demo.url, from_=start)
        as_binary = tickd.subscribe(STREAMS, url=demo.url, encoding="binary", from_=start)
        as_batches = tickd.subscribe(STREAMS, url=demo.url, encoding="binary", batches=True, from_=start)
        # About 13-15 records/s over these streams at the fixture's rate (the venue's bbo
        # only: tickd's derived one is the `top` stream; 14.5/s with eight demo venues,
        # 12.7/s with nine): 20 s give each connection some 270 records.
        return await asyncio.gather(collect_for(as_json, 400, 20.0), collect_for(as_binary, 400, 20.0),
                                    collect_for(as_batches, 400, 20.0))

    json_items, binary_items, batch_items = asyncio.run(main())
    assert not [i for i in json_items + binary_items if isinstance(i, tickd.Gap)]
    from_batches = [r for b in batch_items if isinstance(b, tickd.RecordBatch) for r in b.records()]
    assert all(isinstance(b.array, __import__("numpy").ndarray) for b in batch_items if isinstance(b, tickd.RecordBatch))
    a, b, c = per_stream(json_items), per_stream(binary_items), per_stream(from_batches)
    assert set(a) == set(b) == set(c) and len(a) == 3, (set(a), set(b), set(c))
    compared = 0
    for stream in a:
        n = min(len(a[stream]), len(b[stream]), len(c[stream]))
        assert n > 10, stream
        assert a[stream][:n] == b[stream][:n], stream
        assert a[stream][:n] == c[stream][:n], stream
        compared += n
    assert compared > 200, compared  # a connection that fell silent has far fewer
    trade = next(r for r in json_items if r.kind == "trade" and r.instrument_id == 1)
    assert isinstance(trade.price, Decimal) and trade.symbol == "BTC-USDT"
    assert "replay" in json_items[0].flags and "replay" in binary_items[0].flags


def test_synchronous_iteration(demo):
    seen = []
    for item in tickd.subscribe("trades.binance.*", url=demo.url, encoding="binary"):
        seen.append(item)
        if len(seen) == 20:
            break
    assert {r.kind for r in seen} == {"trade"}
    assert all(r.symbol.endswith("-USDT") for r in seen)


def test_bad_pattern_is_a_server_error(demo):
    async def main():
        async for _ in tickd.subscribe("trades.nowhere.*", url=demo.url):
            pass

    with pytest.raises(tickd.ServerError) as err:
        asyncio.run(asyncio.wait_for(main(), 10))
    assert err.value.code == "unknown_venue"


def test_book_helper_equals_v1_book(demo):
    # Keep the book from a live subscription; fetch /v1/book; the book at the same
    # update id (kept at each event boundary) must equal it level for level.
    deadline = time.monotonic() + 20
    while True:  # a subscription starts with the gateway's image: wait until it has one
        try:
            tickd.book_at("binance", "BTC-USDT", depth=1, url=demo.http)
            break
        except tickd.HistoryError:
            assert time.monotonic() < deadline, "the gateway never had a complete book"
            time.sleep(0.2)

    async def main():
        book = tickd.Book()
        by_update = {}
        fetched_ids = []
        loop = asyncio.get_running_loop()
        fetch = None
        deadline = time.monotonic() + 40
        first = []
        async for item in tickd.subscribe("book.binance.BTC-USDT", url=demo.url, encoding="binary"):
            book.apply(item)
            if len(first) < 4:
                first.append(item)
            if time.monotonic() > deadline:
                raise AssertionError(f"no match: fetched {fetched_ids}, book ids {min(by_update, default=None)}"
                                     f"..{max(by_update, default=None)} ({len(by_update)}), complete {book.complete}; first {first}")
            if not (book.complete and item.is_last):
                continue
            assert not book.gap
            by_update[book.update_id] = book.depth(50)
            if fetch is None:
                fetch = loop.run_in_executor(None, lambda: tickd.book_at("binance", "BTC-USDT", depth=50, url=demo.http))
            if not fetch.done():
                continue
            fetched = fetch.result()
            update_id = fetched.attrs["update_id"]
            if update_id in by_update:
                return book, by_update[update_id], fetched
            if update_id < book.update_id:
                # Our stream never stood at that state (e.g. conflated into a fresh image): again.
                fetched_ids.append(update_id)
                fetch = None
        raise AssertionError("subscription ended")

    book, (bids, asks), fetched = asyncio.run(asyncio.wait_for(main(), 60))
    http_bids = [(p, s) for p, s in fetched[fetched.side == "bid"][["price", "size"]].itertuples(index=False)]
    http_asks = [(p, s) for p, s in fetched[fetched.side == "ask"][["price", "size"]].itertuples(index=False)]
    assert len(bids) > 5 and len(asks) > 5
    assert bids == http_bids and asks == http_asks
    assert book.best_bid()[0] < book.best_ask()[0] and book.spread() > 0


def test_api_key_and_reconnect_across_a_server_restart(keyed_demo):
    demo = keyed_demo

    async def refused():
        async for _ in tickd.subscribe("trades.binance.*", url=demo.url, reconnect=False):
            pass

    with pytest.raises(tickd.ServerError) as err:
        asyncio.run(asyncio.wait_for(refused(), 10))
    assert err.value.code == "unauthorized"

    async def main():
        sub = tickd.subscribe("trades.binance-usdm.BTC-USDT-PERP", url=demo.url, api_key=API_KEY,
                              encoding="binary", backoff=(0.05, 0.5), max_retries=200)
        before, after, gaps = [], [], []
        restarted = None
        async for item in sub:
            if isinstance(item, tickd.Gap):
                gaps.append(item)
            elif sub.connections < 2:
                # Until the server stops, the first connection may still bring records
                # after the restart began: they belong before it.
                before.append(item)
                if len(before) == 20 and restarted is None:
                    restarted = asyncio.get_running_loop().run_in_executor(None, demo.restart)
            else:
                after.append(item)
                if len(after) == 20:
                    break
        await restarted
        return sub, before, after, gaps

    sub, before, after, gaps = asyncio.run(asyncio.wait_for(main(), 60))
    assert sub.connections >= 2
    assert len(gaps) == 1, gaps
    gap = gaps[0]
    assert gap.source == "reconnect" and gap.stream.startswith("trades.binance-usdm.#")
    # A restarted server numbers its streams from 1 again: the count is unknown.
    assert after[0].seq <= before[-1].seq and gap.lost is None
    # The HTTP API takes the key too.
    request = urllib.request.Request(f"{demo.http}/v1/instruments", headers={"Authorization": f"Bearer {API_KEY}"})
    with urllib.request.urlopen(request, timeout=5) as r:
        assert json.load(r)
