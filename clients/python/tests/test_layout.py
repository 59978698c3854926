"""The numpy dtypes against the layout generated from the Rust definitions (the Rust
test `schema_files` checks `_layout.py` equals `bus/src/record`)."""

import struct
from decimal import Decimal

import numpy as np
import pytest

import tickd
from tickd import _layout
from tickd.records import FrameError, decimal_from_raw, decode_frame


def test_dtypes_match_the_generated_layout():
    assert tickd.HEADER_DTYPE.itemsize == _layout.HEADER_SIZE == 32
    for rtype, (kind, size, body, _wide) in _layout.RECORDS.items():
        dtype = tickd.DTYPES[kind]
        assert dtype.itemsize == size, kind
        assert size % 8 == 0 and size <= 152
        at = 0
        for name, offset, width, ty, _scale, _undef in _layout.HEADER + body:
            assert offset == at, f"{kind}.{name} should start at {at}"
            at += width
            if ty == "pad" or name.startswith("_"):
                assert name not in dtype.names
                continue
            field_dtype, field_offset = dtype.fields[name][:2]
            assert field_offset == offset, f"{kind}.{name}"
            assert field_dtype.itemsize == width, f"{kind}.{name}"
            if ty in ("i128", "i256"):
                # Wider than numpy's integers: little-endian 64-bit words.
                assert field_dtype.subdtype[0] == np.dtype("<u8"), f"{kind}.{name}"
            else:
                assert field_dtype.kind == ("i" if ty.startswith("i") else "u"), f"{kind}.{name}"
        assert at == size, kind
        assert tickd.LAYOUTS[rtype].kind == kind


def _i128(raw: int) -> bytes:
    return raw.to_bytes(16, "little", signed=True)


def _trade_bytes(seq: int, price_raw: int, size_raw: int, side: int = 1) -> bytes:
    """A layout-2 trade; `price_raw` at scale 9 and `size_raw` at scale 8 (readable
    numbers), widened to the layout's scales 24 and 18."""
    header = struct.pack("<BBBBIQQQ", 88 // 4, 1, 1, 0x80, 7, seq, 1_000 + seq, 2_000 + seq)
    body = _i128(price_raw * 10**15) + _i128(size_raw * 10**10)
    return header + body + struct.pack("<QQB7x", 100 + seq, 0, side)


def test_a_frame_decodes_without_a_loop_and_decimals_are_exact():
    frame = b"".join(_trade_bytes(i, 5894201000000 + i, 35600, side=1 + i % 2) for i in range(1, 1001))
    (batch,) = decode_frame(frame)
    assert batch.kind == "trade" and len(batch) == 1000
    assert batch.array["sequence"][-1] == 1000
    frame_df = batch.to_pandas()
    assert frame_df["price"][0] == Decimal("5894.201000001")
    assert str(frame_df["size"][0]) == "0.000356"
    assert list(frame_df["side"][:2]) == ["sell", "buy"]
    floats = batch.to_pandas(decimals="float")
    assert floats["price"].dtype == np.float64
    assert abs(floats["price"][0] - 5894.201000001) < 1e-6
    first = next(batch.records())
    assert first.flags == {"last"} and first.price == Decimal("5894.201000001") and first.trade_id == "101"


def test_decimals_are_those_of_the_servers_canonical_strings():
    # The same Decimal (value and exponent) as parsing the server's JSON string.
    for raw, scale, text in [(5894201000000, 9, "5894.201"), (-1, 8, "-0.00000001"), (0, 9, "0"),
                             (100_000_000_000, 9, "100"), (-1234500000000, 9, "-1234.5")]:
        value = decimal_from_raw(raw, scale)
        assert value.as_tuple() == Decimal(text).as_tuple(), (raw, scale)


@pytest.mark.parametrize(
    "frame, message",
    [
        (b"\x12\x01" + b"\x00" * 10, "too short"),
        (_trade_bytes(1, 1, 1)[:50], "needs 88 bytes"),
        (b"\x12\xc8" + b"\x00" * 70, "unknown record type 200"),
        (b"\xff\x01" + b"\x00" * 70, "must be 88 bytes"),
        (_trade_bytes(1, 1, 1) + b"\x00" * 40, "unknown record type 0"),
    ],
)
def test_corrupt_frames_are_errors(frame, message):
    with pytest.raises(FrameError, match=message):
        decode_frame(frame)


def test_numbers_wider_than_64_bits_decode_exactly():
    # Layouts may store decimals as i128 (two little-endian u64 words): ready for them.
    from tickd.records import FieldInfo, _decimal_column, _dtype, _float_column

    undef = (1 << 127) - 1
    dtype = _dtype((FieldInfo("price", 0, 16, "i128", 24, undef),), 16)
    values = [9485 * 10**9, -(10**37) - 7, undef]  # 9.485e-11, a huge negative, not provided
    raw = b"".join((v & ((1 << 128) - 1)).to_bytes(16, "little") for v in values)
    column = np.frombuffer(raw, dtype=dtype)["price"]
    assert _decimal_column(column, 24, undef) == [Decimal("9.485E-12"), Decimal("-10000000000000.000000000000000000000007"), None]
    floats = _float_column(column, 24, undef)
    assert abs(floats[0] - 9.485e-12) < 1e-24 and np.isnan(floats[2])
