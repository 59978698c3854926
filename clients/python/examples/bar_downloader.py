"""Bar downloader: OHLCV bars of one instrument over a time range, to CSV, fetched
page by page over tickd's HTTP API.

    python examples/bar_downloader.py --url http://127.0.0.1:8080 \\
        --venue binance --symbol BTC-USDT --interval 1m --from 2026-01-01 --out bars.csv
"""

import argparse

import tickd


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default="http://127.0.0.1:8080")
    parser.add_argument("--api-key")
    parser.add_argument("--venue", default="binance")
    parser.add_argument("--symbol", default="BTC-USDT")
    parser.add_argument("--interval", default="1m")
    parser.add_argument("--from", dest="start", required=True, help="RFC 3339, a date, or ns since the epoch")
    parser.add_argument("--to", dest="end", help="default: now")
    parser.add_argument("--out", default="bars.csv")
    args = parser.parse_args()
    bars = tickd.bars(args.venue, args.symbol, args.interval, args.start, args.end, url=args.url, api_key=args.api_key)
    bars.to_csv(args.out, index=False)  # exact decimals are written as their digits
    print(f"{len(bars)} bars of {args.venue} {args.symbol} {args.interval} -> {args.out}")
    if len(bars):
        last = bars.iloc[-1]
        print(f"last: {last.time}  close {last.close}  volume {last.volume}  vwap {last.vwap}")


if __name__ == "__main__":
    main()
