"""The examples run against the demo (bounded: a couple of seconds each)."""

import subprocess
import sys
import time
from pathlib import Path

import tickd
from conftest import wait_for_registry

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def run(*args: str) -> str:
    out = subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_spread_monitor(demo):
    out = run(str(EXAMPLES / "spread_monitor.py"), "--url", demo.url, "--seconds", "3")
    assert "bps" in out and "quotes" in out


def test_bar_downloader(demo, tmp_path):
    demo.wait_for_journal()
    wait_for_registry(demo)
    time.sleep(1.2)
    target = tmp_path / "bars.csv"
    out = run(str(EXAMPLES / "bar_downloader.py"), "--url", demo.http, "--interval", "1s",
              "--from", str(demo.started_ns), "--out", str(target))
    assert "bars of binance BTC-USDT 1s" in out
    assert target.read_text().startswith("time,start_ns,open,high,low,close,volume,vwap,trade_count,notional,partial\n")
    assert len(target.read_text().splitlines()) > 1


def test_book_recorder(demo, tmp_path):
    target = tmp_path / "book.bin"
    out = run(str(EXAMPLES / "book_recorder.py"), "--url", demo.url, "--out", str(target), "--seconds", "3")
    assert "records ->" in out and "book: complete=" in out
    batches = tickd.decode_frame(target.read_bytes())
    assert {b.kind for b in batches} <= {"book", "status"} and sum(len(b) for b in batches) > 10
