"""History DataFrames against the CLI reading the same journal."""

import csv
import io
import time
from decimal import Decimal

import pandas as pd

import tickd
from conftest import wait_for_registry


def _range(demo):
    """A few whole seconds of the demo's data, sealed in the journal."""
    demo.wait_for_journal()
    wait_for_registry(demo)
    first = (demo.started_ns // 1_000_000_000 + 1) * 1_000_000_000
    while time.time_ns() < first + 4_500_000_000:
        time.sleep(0.1)
    last = (time.time_ns() // 1_000_000_000 - 1) * 1_000_000_000
    return first, last


def _cli_csv(demo, *args):
    return list(csv.DictReader(io.StringIO(demo.cli(*args, "--format", "csv"))))


def test_bars_equal_the_cli(demo):
    start, end = _range(demo)
    frame = tickd.bars("binance", "BTC-USDT", "1s", start, end, url=demo.http, page_bars=2)
    rows = _cli_csv(demo, "bars", "--venue", "binance", "--symbol", "BTC-USDT", "--interval", "1s",
                    "--from", str(start), "--to", str(end))
    assert len(rows) >= 3 and len(frame) == len(rows)
    for bar, row in zip(frame.itertuples(), rows):
        assert bar.time == pd.Timestamp(row["time"])
        for name in ("open", "high", "low", "close", "volume", "vwap", "notional"):
            assert getattr(bar, name) == Decimal(row[name]), (name, bar, row)
            assert isinstance(getattr(bar, name), Decimal)
        assert bar.trade_count == int(row["trade_count"])
        assert bar.partial == (row["partial"] == "true")
    one_page = tickd.bars("binance", "BTC-USDT", "1s", start, end, url=demo.http)
    assert one_page.equals(frame)
    floats = tickd.bars("binance", "BTC-USDT", "1s", start, end, url=demo.http, decimals="float")
    assert floats["close"].dtype == "float64"
    assert (floats["close"] - frame["close"].astype(float)).abs().max() < 1e-9


def test_trades_page_exactly_and_equal_the_cli(demo):
    start, end = _range(demo)
    paged = tickd.trades("binance", "ETH-USDT", start, end, url=demo.http, page_size=7)
    whole = tickd.trades("binance", "ETH-USDT", start, end, url=demo.http)
    assert len(whole) > 20
    # Pages follow the server's `next` links: the same trades in the same order.
    assert paged.equals(whole)
    rows = _cli_csv(demo, "trades", "--venue", "binance", "--symbol", "ETH-USDT", "--from", str(start), "--to", str(end))
    assert [(Decimal(r["price"]), Decimal(r["size"]), r["side"], r["trade_id"]) for r in rows] == list(
        whole[["price", "size", "side", "trade_id"]].itertuples(index=False, name=None))


def test_book_at_a_past_time(demo):
    start, end = _range(demo)
    book = tickd.book_at("binance", "BTC-USDT", at=end, depth=10, url=demo.http)
    bids, asks = book[book.side == "bid"], book[book.side == "ask"]
    assert len(bids) == 10 and len(asks) == 10
    assert bids.price.iloc[0] < asks.price.iloc[0]
    assert list(bids.price) == sorted(bids.price, reverse=True)
    assert isinstance(book.attrs["update_id"], int)


def test_history_errors_carry_the_servers_message(demo):
    try:
        tickd.bars("binance", "NOPE-USDT", "1m", url=demo.http)
    except tickd.HistoryError as err:
        assert err.status == 400 and "unknown symbol" in err.message
    else:
        raise AssertionError("no error")
