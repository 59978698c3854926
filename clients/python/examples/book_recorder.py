"""Book recorder: subscribes to an order book in the binary encoding, writes the raw
records to a file exactly as tickd sent them (read it back with
`tickd.decode_frame(open(path, "rb").read())`), and keeps the book to print its top
each second.

    python examples/book_recorder.py --url ws://127.0.0.1:8080/v1/stream \\
        --stream book.binance.BTC-USDT --out book.bin --seconds 10
"""

import argparse
import asyncio
import time

import tickd


async def record(url: str, stream: str, out: str, seconds: float) -> int:
    book = tickd.Book()
    written = 0
    deadline = time.monotonic() + seconds
    next_print = time.monotonic() + 1
    with open(out, "wb") as file:
        async for item in tickd.subscribe(stream, url=url, encoding="binary", batches=True):
            if isinstance(item, tickd.RecordBatch):
                file.write(item.array.tobytes())  # the records' own bytes
                written += len(item)
            else:
                print(f"gap: {item}")
            book.apply(item)
            now = time.monotonic()
            if now >= next_print and book.complete:
                next_print = now + 1
                state = "GAP: waiting for a snapshot" if book.gap else "ok"
                print(f"bid {book.best_bid()}  ask {book.best_ask()}  levels {len(book.bids)}/{len(book.asks)}  {state}")
            if now > deadline:
                break
    print(f"book: complete={book.complete} gap={book.gap} bid {book.best_bid()} ask {book.best_ask()}")
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", default=tickd.DEFAULT_URL)
    parser.add_argument("--stream", default="book.binance.BTC-USDT")
    parser.add_argument("--out", default="book.bin")
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    written = asyncio.run(record(args.url, args.stream, args.out, args.seconds))
    print(f"{written} records -> {args.out}")


if __name__ == "__main__":
    main()
