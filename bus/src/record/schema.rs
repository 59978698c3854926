//! The record layout as data: every record's fields with offset, size, wire type and
//! decimal scale, read off the Rust definitions (`offset_of!`, `size_of`, the
//! [`WireType`] of each field). `docs/binary-format.md` and the Python client's
//! `_layout.py` are generated from this (see `schema_files.rs`), so they cannot drift
//! from `record/`.

use super::enums::{BookAction, BookSide, RecordType, Side, StatusKind, StatusReason};
use super::header::{Flags, RecordHeader};
use super::types::*;
use crate::decimal::{Fixed, Notional, NOTIONAL_SCALE};
use crate::venue::Venue;

/// How a field's bytes are read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wire {
    /// Little-endian integer type: `u8`, `u16`, `u32`, `u64`, `i64`; `pad` for reserved bytes.
    pub ty: &'static str,
    /// For exact decimals: the value is `raw × 10^-scale`.
    pub scale: Option<u32>,
    /// The raw value meaning "not provided", if the type has one.
    pub undef: Option<i128>,
}

/// A type that appears in a record: how its bytes are read.
pub trait WireType {
    const WIRE: Wire;
}

macro_rules! plain_wire {
    ($($t:ty => $name:literal),+) => {
        $(impl WireType for $t {
            const WIRE: Wire = Wire { ty: $name, scale: None, undef: None };
        })+
    };
}
plain_wire!(u8 => "u8", u16 => "u16", u32 => "u32", u64 => "u64", i64 => "i64");

impl<const N: usize> WireType for [u8; N] {
    const WIRE: Wire = Wire {
        ty: "pad",
        scale: None,
        undef: None,
    };
}

impl<const SCALE: u32> WireType for Fixed<SCALE> {
    const WIRE: Wire = Wire {
        ty: "i128",
        scale: Some(SCALE),
        undef: Some(Fixed::<SCALE>::UNDEF.raw()),
    };
}

/// A bar's exact notional: a 256-bit two's-complement count of 1e-42, as four
/// little-endian 64-bit words, least significant first.
impl WireType for Notional {
    const WIRE: Wire = Wire {
        ty: "i256",
        scale: Some(NOTIONAL_SCALE),
        undef: None,
    };
}

impl WireType for Flags {
    const WIRE: Wire = Wire {
        ty: "u8",
        scale: None,
        undef: None,
    };
}

/// One field of a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    pub name: &'static str,
    pub offset: usize,
    pub size: usize,
    pub wire: Wire,
    /// The field's doc comment, as `doc = "..."` lines (see `Field::meaning`).
    pub doc: &'static str,
}

impl Field {
    pub const fn of<T: WireType>(name: &'static str, offset: usize, doc: &'static str) -> Field {
        Field {
            name,
            offset,
            size: std::mem::size_of::<T>(),
            wire: T::WIRE,
            doc,
        }
    }

    /// The doc comment as one line of text (rustdoc links become code spans).
    pub fn meaning(&self) -> String {
        let mut text = String::new();
        // `stringify!` of `#[doc = r" text"]` attributes (`///` comments), possibly
        // broken over lines; the header's are `doc = "text"`.
        for part in self.doc.replace('\n', " ").split("doc =").skip(1) {
            let part = part.trim();
            let raw = part.strip_prefix("r\"");
            let Some(body) = raw
                .or_else(|| part.strip_prefix('"'))
                .and_then(|l| l.strip_suffix('"'))
            else {
                continue;
            };
            let body = if raw.is_some() {
                body.to_string()
            } else {
                body.replace("\\\"", "\"")
            };
            if !text.is_empty() {
                text.push(' ');
            }
            text.push_str(body.trim());
        }
        text.replace("[`", "`").replace("`]", "`")
    }
}

/// A signed 128-bit value split over two 64-bit fields (`lo` unsigned, `hi` signed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Wide {
    pub name: &'static str,
    pub lo: &'static str,
    pub hi: &'static str,
    pub scale: u32,
}

/// One record type's layout.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordSchema {
    pub rtype: RecordType,
    /// The Rust struct.
    pub struct_name: &'static str,
    pub size: usize,
    /// The body's fields (after the header), in offset order.
    pub fields: &'static [Field],
    pub wide: &'static [Wide],
}

macro_rules! header_field {
    ($name:ident : $ty:ty, $doc:literal) => {
        Field::of::<$ty>(
            stringify!($name),
            std::mem::offset_of!(RecordHeader, $name),
            concat!("doc = \"", $doc, "\""),
        )
    };
}

/// The 32-byte header every record starts with.
pub const HEADER: &[Field] = &[
    header_field!(length: u8, "Record length in 4-byte words: bytes = length × 4."),
    header_field!(rtype: u8, "Record type: which body follows (`RecordType`)."),
    header_field!(venue: u8, "Venue id (`Venue`)."),
    header_field!(flags: Flags, "Bit flags (`Flags`)."),
    header_field!(instrument_id: u32, "Instrument id from the registry (`GET /v1/instruments`)."),
    header_field!(sequence: u64, "Per-stream sequence number, 1, 2, 3, …: a jump is a gap."),
    header_field!(ts_event: u64, "Exchange event time, ns since the Unix epoch (0: not sent)."),
    header_field!(ts_recv: u64, "When tickd read the frame from the socket, ns since the epoch."),
];

pub const HEADER_SIZE: usize = std::mem::size_of::<RecordHeader>();

/// Every record type, in `RecordType` order.
pub fn records() -> Vec<RecordSchema> {
    fn schema<R: super::Record + HasFields>(name: &'static str) -> RecordSchema {
        RecordSchema {
            rtype: R::RTYPE,
            struct_name: name,
            size: std::mem::size_of::<R>(),
            fields: R::FIELDS,
            wide: R::WIDE,
        }
    }
    RecordType::ALL
        .iter()
        .map(|rtype| match rtype {
            RecordType::Trade => schema::<TradeMsg>("TradeMsg"),
            RecordType::Bbo => schema::<BboMsg>("BboMsg"),
            RecordType::BookDelta => schema::<BookDeltaMsg>("BookDeltaMsg"),
            RecordType::Bar => schema::<BarMsg>("BarMsg"),
            RecordType::MarkFunding => schema::<MarkFundingMsg>("MarkFundingMsg"),
            RecordType::Liquidation => schema::<LiquidationMsg>("LiquidationMsg"),
            RecordType::OpenInterest => schema::<OpenInterestMsg>("OpenInterestMsg"),
            RecordType::Status => schema::<StatusMsg>("StatusMsg"),
        })
        .collect()
}

/// Implemented by the `record!` macro: the body's fields, read off the struct.
pub trait HasFields {
    const FIELDS: &'static [Field];
    /// 128-bit values stored as two fields.
    const WIDE: &'static [Wide] = &[];
}

/// A named code table (an enum stored in records).
pub struct CodeTable {
    pub name: &'static str,
    /// Where it is stored.
    pub used_in: &'static str,
    pub codes: Vec<(u64, &'static str)>,
}

/// Every code table: record types, venues, flags (bit values), sides, actions, status.
pub fn code_tables() -> Vec<CodeTable> {
    fn table<T: Copy>(
        name: &'static str,
        used_in: &'static str,
        all: &[T],
        code: impl Fn(T) -> u64,
        text: impl Fn(T) -> &'static str,
    ) -> CodeTable {
        CodeTable {
            name,
            used_in,
            codes: all.iter().map(|v| (code(*v), text(*v))).collect(),
        }
    }
    vec![
        table(
            "RecordType",
            "header.rtype",
            RecordType::ALL,
            |v| v as u64,
            RecordType::as_str,
        ),
        table(
            "Venue",
            "header.venue",
            &Venue::ALL,
            |v| v as u64,
            Venue::as_str,
        ),
        table(
            "Flags",
            "header.flags (bit values, OR-ed)",
            &Flags::NAMED,
            |(f, _)| u64::from(f.0),
            |(_, n)| n,
        ),
        table(
            "Side",
            "trade.side, liquidation.side",
            Side::ALL,
            |v| v as u64,
            Side::as_str,
        ),
        table(
            "BookSide",
            "book.side",
            BookSide::ALL,
            |v| v as u64,
            BookSide::as_str,
        ),
        table(
            "BookAction",
            "book.action",
            BookAction::ALL,
            |v| v as u64,
            BookAction::as_str,
        ),
        table(
            "StatusKind",
            "status.kind",
            StatusKind::ALL,
            |v| v as u64,
            StatusKind::as_str,
        ),
        table(
            "StatusReason",
            "status.reason",
            StatusReason::ALL,
            |v| v as u64,
            StatusReason::as_str,
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Fields cover each record exactly once, in order: a field added to a struct
    /// without appearing here (impossible via the macro, possible in `HEADER`) fails.
    #[test]
    fn fields_tile_every_record() {
        let check = |name: &str, start: usize, fields: &[Field], size: usize| {
            let mut at = start;
            for f in fields {
                assert_eq!(f.offset, at, "{name}.{} starts at {at}", f.name);
                at += f.size;
            }
            assert_eq!(at, size, "{name}: fields end at {at}, record is {size}");
        };
        check("header", 0, HEADER, HEADER_SIZE);
        for r in records() {
            check(r.struct_name, HEADER_SIZE, r.fields, r.size);
            assert_eq!(r.size, r.rtype.record_size());
            for w in r.wide {
                assert!(r.fields.iter().any(|f| f.name == w.lo));
                assert!(r.fields.iter().any(|f| f.name == w.hi));
            }
        }
    }
}
