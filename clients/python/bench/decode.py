"""Records decoded per second: binary frames through numpy (vectorised) vs JSON.

    python bench/decode.py [--records 1000000] [--frame 256]

Trades are built once as both encodings, byte for byte what tickd sends (binary
frames of `--frame` records; one JSON text message per record), then decoded:
  binary -> numpy      decode_frame(): structured arrays, no per-record Python code
  binary -> floats     + to float64 price/size columns
  JSON -> dict         json.loads only
  JSON -> Record       json.loads + tickd.record_from_json (Decimal prices)
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

import tickd
from tickd.records import _float_column


def build(count: int, frame_records: int):
    dtype = tickd.DTYPES["trade"]
    rng = np.random.default_rng(1)
    a = np.zeros(count, dtype=dtype)
    a["length"], a["rtype"], a["venue"], a["instrument_id"] = dtype.itemsize // 4, 1, 1, 1
    a["sequence"] = np.arange(1, count + 1)
    a["ts_event"] = 1_700_000_000_000_000_000 + np.arange(count) * 1_000_000
    a["ts_recv"] = a["ts_event"] + 700_000
    a["price"] = 58_942_010_000_000 + rng.integers(-10**9, 10**9, count) // 10**7 * 10**7
    a["size"] = rng.integers(1, 10**8, count)
    a["trade_id"] = 716_849_523 + np.arange(count)
    a["side"] = rng.integers(1, 3, count)
    raw = a.tobytes()
    step = frame_records * dtype.itemsize
    frames = [raw[i : i + step] for i in range(0, len(raw), step)]
    # One JSON message per record, formatted as the server formats them (gateway/src/protocol/json.rs).
    texts = [
        f'{{"type":"data","stream":"trades.binance.BTC-USDT","seq":{r.seq},"kind":"trade","venue":"binance",'
        f'"instrument_id":1,"symbol":"BTC-USDT","flags":[],"ts_event":{r.ts_event},"ts_recv":{r.ts_recv},'
        f'"price":"{r.price}","size":"{r.size:f}","side":"{r.side}","trade_id":"{r.trade_id}"}}'
        for batch in tickd.decode_frame(raw) for r in batch.records()
    ]
    return frames, texts


def rate(label: str, count: int, fn) -> float:
    start = time.perf_counter()
    fn()
    elapsed = time.perf_counter() - start
    per_sec = count / elapsed
    print(f"{label:<22} {per_sec:>14,.0f} records/s  ({elapsed:.3f} s for {count:,})")
    return per_sec


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--json-records", type=int, default=200_000)
    parser.add_argument("--frame", type=int, default=256, help="records per binary frame")
    args = parser.parse_args()
    frames, _ = build(args.records, args.frame)
    _, texts = build(args.json_records, args.frame)
    print(f"python {'.'.join(map(str, sys.version_info[:3]))}, numpy {np.__version__}, load {os.getloadavg()[0]:.2f}")

    def binary():
        for f in frames:
            tickd.decode_frame(f)

    def binary_floats():
        for f in frames:
            for b in tickd.decode_frame(f):
                _float_column(b.array["price"], 9, None)
                _float_column(b.array["size"], 8, None)

    def json_loads():
        for t in texts:
            json.loads(t)

    def json_records():
        for t in texts:
            tickd.record_from_json(json.loads(t))

    b = rate("binary -> numpy", args.records, binary)
    rate("binary -> floats", args.records, binary_floats)
    rate("JSON -> dict", args.json_records, json_loads)
    j = rate("JSON -> Record", args.json_records, json_records)
    print(f"binary (numpy) / JSON (Record): {b / j:,.0f}x")


if __name__ == "__main__":
    main()
