#!/usr/bin/env python3
"""Check a live QuestDB's tables against tickd's journal: counts per symbol and
exact prices and sizes, trade by trade.

    scripts/questdb-check.py --data ./data --questdb http://127.0.0.1:9000 \
        --venue binance --symbols BTC-USDT,ETH-USDT \
        --from 2026-01-01T00:00:00Z --to 2026-01-01T01:00:00Z

The journal side is read with `tickd trades --format csv` (the journal is the source
of truth); the QuestDB side with its HTTP `/exec` endpoint. Leave a minute after the
range's end for the sink and QuestDB's WAL to catch up. Exits 0 when every symbol
matches, 1 on a difference (each one printed), 2 on a usage or connection error.
Standard library only.
"""

import argparse
import csv
import io
import json
import subprocess
import sys
import urllib.parse
import urllib.request
from decimal import Decimal, InvalidOperation


def journal_trades(tickd, data, venue, symbol, start, end):
    """trade_id -> (price, size) from the journal, via the tickd CLI."""
    cmd = [tickd, "trades", "--data", data, "--venue", venue, "--symbol", symbol,
           "--from", start, "--to", end, "--format", "csv"]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if run.returncode != 0:
        # No trades in the range is an error for the CLI, an empty set here.
        if "no trades" in run.stderr.lower():
            return {}
        raise RuntimeError(f"{' '.join(cmd)} failed: {run.stderr.strip()}")
    trades = {}
    for row in csv.DictReader(io.StringIO(run.stdout)):
        trades[row["trade_id"]] = (Decimal(row["price"]), Decimal(row["size"]))
    return trades


def questdb_query(base, sql):
    url = base.rstrip("/") + "/exec?" + urllib.parse.urlencode({"query": sql})
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.load(response)


def questdb_trades(base, venue, symbol, start, end):
    """trade_id -> (price, size) from QuestDB's trades table."""
    sql = (
        "SELECT trade_id, price, size FROM trades "
        f"WHERE venue = '{venue}' AND symbol = '{symbol}' "
        f"AND ts >= '{start}' AND ts < '{end}'"
    )
    answer = questdb_query(base, sql)
    if "error" in answer:
        raise RuntimeError(f"QuestDB: {answer['error']} ({sql})")
    trades = {}
    for trade_id, price, size in answer.get("dataset", []):
        # Decimals arrive as strings or numbers; str() keeps what the server sent.
        trades[str(trade_id)] = (to_decimal(price), to_decimal(size))
    return trades


def to_decimal(value):
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def compare(symbol, journal, questdb, show=10):
    problems = []
    missing = sorted(set(journal) - set(questdb))
    extra = sorted(set(questdb) - set(journal))
    if missing:
        problems.append(f"{symbol}: {len(missing)} journal trades missing in QuestDB, e.g. {missing[:show]}")
    if extra:
        problems.append(f"{symbol}: {len(extra)} QuestDB trades not in the journal, e.g. {extra[:show]}")
    differ = [t for t in journal if t in questdb and journal[t] != questdb[t]]
    for t in differ[:show]:
        problems.append(f"{symbol}: trade {t}: journal {journal[t]} vs QuestDB {questdb[t]}")
    if len(differ) > show:
        problems.append(f"{symbol}: ... {len(differ) - show} more trades differ")
    return problems


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="tickd's data directory (the journal)")
    parser.add_argument("--questdb", default="http://127.0.0.1:9000", help="QuestDB HTTP address")
    parser.add_argument("--venue", required=True)
    parser.add_argument("--symbols", required=True, help="comma-separated, e.g. BTC-USDT,ETH-USDT")
    parser.add_argument("--from", dest="start", required=True, help="RFC 3339, UTC")
    parser.add_argument("--to", dest="end", required=True, help="RFC 3339, UTC")
    parser.add_argument("--tickd", default="tickd", help="the tickd binary")
    args = parser.parse_args(argv)
    failures = 0
    for symbol in [s.strip() for s in args.symbols.split(",") if s.strip()]:
        try:
            journal = journal_trades(args.tickd, args.data, args.venue, symbol, args.start, args.end)
            questdb = questdb_trades(args.questdb, args.venue, symbol, args.start, args.end)
        except (OSError, RuntimeError, ValueError) as err:
            print(f"error: {err}", file=sys.stderr)
            return 2
        problems = compare(symbol, journal, questdb)
        status = "ok" if not problems else "DIFFERS"
        print(f"{args.venue} {symbol}: journal {len(journal)} trades, QuestDB {len(questdb)}: {status}")
        for problem in problems:
            print("  " + problem)
        failures += bool(problems)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
