//! Type-erased records: [`RecordBuf`] (owned, one bus slot) and [`RecordRef`] (borrowed).

use super::types::*;
use super::{Record, RecordHeader, RecordType, MAX_RECORD_SIZE};

/// Any record, stored inline in `MAX_RECORD_SIZE` (152) 8-byte-aligned bytes: what the bus carries.
#[repr(C, align(8))]
#[derive(Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
pub struct RecordBuf {
    words: [u64; MAX_RECORD_SIZE / 8],
}

impl Default for RecordBuf {
    fn default() -> Self {
        bytemuck::Zeroable::zeroed()
    }
}

impl RecordBuf {
    /// Number of 8-byte words in a buffer.
    pub const WORDS: usize = MAX_RECORD_SIZE / 8;

    pub fn new<R: Record>(record: &R) -> Self {
        let mut buf = Self::default();
        let bytes = record.as_bytes();
        bytemuck::bytes_of_mut(&mut buf)[..bytes.len()].copy_from_slice(bytes);
        buf
    }

    /// Rebuild from the bytes of one record (read from a journal or a network frame;
    /// any alignment). `bytes` may be longer than the record; it is validated like
    /// [`RecordRef::from_bytes`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, RecordError> {
        const HEADER: usize = std::mem::size_of::<RecordHeader>();
        if bytes.len() < HEADER {
            return Err(RecordError::TooShort(bytes.len()));
        }
        let size = usize::from(bytes[0]) * 4;
        let available = bytes.len().min(MAX_RECORD_SIZE);
        if size > available {
            if size > MAX_RECORD_SIZE {
                let rtype =
                    RecordType::from_u8(bytes[1]).ok_or(RecordError::UnknownType(bytes[1]))?;
                let expected = rtype.record_size();
                return Err(RecordError::BadLength {
                    rtype,
                    expected,
                    found: size,
                });
            }
            return Err(RecordError::Truncated {
                needed: size,
                available: bytes.len(),
            });
        }
        let mut buf = Self::default();
        bytemuck::bytes_of_mut(&mut buf)[..size].copy_from_slice(&bytes[..size]);
        // Validate the aligned copy: type known, length right for the type.
        RecordRef::from_bytes(&bytemuck::bytes_of(&buf)[..size.max(HEADER)])?;
        Ok(buf)
    }

    pub fn words(&self) -> &[u64; MAX_RECORD_SIZE / 8] {
        &self.words
    }

    pub fn from_words(words: [u64; MAX_RECORD_SIZE / 8]) -> Self {
        Self { words }
    }

    pub fn header(&self) -> &RecordHeader {
        bytemuck::from_bytes(&bytemuck::bytes_of(self)[..std::mem::size_of::<RecordHeader>()])
    }

    pub fn header_mut(&mut self) -> &mut RecordHeader {
        bytemuck::from_bytes_mut(
            &mut bytemuck::bytes_of_mut(self)[..std::mem::size_of::<RecordHeader>()],
        )
    }

    /// The record's own bytes (its length from the header, capped at the buffer).
    pub fn as_bytes(&self) -> &[u8] {
        let size = self.header().record_size().min(MAX_RECORD_SIZE);
        &bytemuck::bytes_of(self)[..size]
    }

    /// The record as type `R`, if it is one.
    pub fn get<R: Record>(&self) -> Option<&R> {
        if self.header().rtype != R::RTYPE as u8 {
            return None;
        }
        Some(bytemuck::from_bytes(
            &bytemuck::bytes_of(self)[..std::mem::size_of::<R>()],
        ))
    }

    pub fn as_ref(&self) -> Result<RecordRef<'_>, RecordError> {
        RecordRef::from_bytes(bytemuck::bytes_of(self))
    }
}

impl std::fmt::Debug for RecordBuf {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.as_ref() {
            Ok(record) => record.fmt(f),
            Err(err) => write!(f, "RecordBuf(invalid: {err})"),
        }
    }
}

impl PartialEq for RecordBuf {
    fn eq(&self, other: &Self) -> bool {
        self.as_bytes() == other.as_bytes()
    }
}

impl Eq for RecordBuf {}

/// Why bytes are not a record.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RecordError {
    #[error("{0} bytes is too short for a record header")]
    TooShort(usize),
    #[error("unknown record type {0}")]
    UnknownType(u8),
    #[error("record type {rtype} must be {expected} bytes, header says {found}")]
    BadLength {
        rtype: RecordType,
        expected: usize,
        found: usize,
    },
    #[error("record needs {needed} bytes, only {available} available")]
    Truncated { needed: usize, available: usize },
    #[error("record bytes are not 8-byte aligned")]
    Misaligned,
}

/// A borrowed record of any type, for matching.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RecordRef<'a> {
    Trade(&'a TradeMsg),
    Bbo(&'a BboMsg),
    BookDelta(&'a BookDeltaMsg),
    Bar(&'a BarMsg),
    MarkFunding(&'a MarkFundingMsg),
    Liquidation(&'a LiquidationMsg),
    OpenInterest(&'a OpenInterestMsg),
    Status(&'a StatusMsg),
}

impl<'a> RecordRef<'a> {
    /// Check the header against the record type's size and view the bytes as that
    /// record. Every bit pattern of a record body is valid, so this is all the
    /// validation bytes from outside need; `bytes` may be longer than the record.
    pub fn from_bytes(bytes: &'a [u8]) -> Result<Self, RecordError> {
        const HEADER: usize = std::mem::size_of::<RecordHeader>();
        if bytes.len() < HEADER {
            return Err(RecordError::TooShort(bytes.len()));
        }
        if !(bytes.as_ptr() as usize).is_multiple_of(8) {
            return Err(RecordError::Misaligned);
        }
        let header: &RecordHeader = bytemuck::from_bytes(&bytes[..HEADER]);
        let rtype = header
            .record_type()
            .ok_or(RecordError::UnknownType(header.rtype))?;
        fn view<'b, R: Record>(
            bytes: &'b [u8],
            header: &RecordHeader,
        ) -> Result<&'b R, RecordError> {
            let expected = std::mem::size_of::<R>();
            if header.record_size() != expected {
                return Err(RecordError::BadLength {
                    rtype: R::RTYPE,
                    expected,
                    found: header.record_size(),
                });
            }
            if bytes.len() < expected {
                return Err(RecordError::Truncated {
                    needed: expected,
                    available: bytes.len(),
                });
            }
            Ok(bytemuck::from_bytes(&bytes[..expected]))
        }
        Ok(match rtype {
            RecordType::Trade => RecordRef::Trade(view(bytes, header)?),
            RecordType::Bbo => RecordRef::Bbo(view(bytes, header)?),
            RecordType::BookDelta => RecordRef::BookDelta(view(bytes, header)?),
            RecordType::Bar => RecordRef::Bar(view(bytes, header)?),
            RecordType::MarkFunding => RecordRef::MarkFunding(view(bytes, header)?),
            RecordType::Liquidation => RecordRef::Liquidation(view(bytes, header)?),
            RecordType::OpenInterest => RecordRef::OpenInterest(view(bytes, header)?),
            RecordType::Status => RecordRef::Status(view(bytes, header)?),
        })
    }

    pub fn header(&self) -> &'a RecordHeader {
        match self {
            RecordRef::Trade(r) => &r.hd,
            RecordRef::Bbo(r) => &r.hd,
            RecordRef::BookDelta(r) => &r.hd,
            RecordRef::Bar(r) => &r.hd,
            RecordRef::MarkFunding(r) => &r.hd,
            RecordRef::Liquidation(r) => &r.hd,
            RecordRef::OpenInterest(r) => &r.hd,
            RecordRef::Status(r) => &r.hd,
        }
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            RecordRef::Trade(r) => r.as_bytes(),
            RecordRef::Bbo(r) => r.as_bytes(),
            RecordRef::BookDelta(r) => r.as_bytes(),
            RecordRef::Bar(r) => r.as_bytes(),
            RecordRef::MarkFunding(r) => r.as_bytes(),
            RecordRef::Liquidation(r) => r.as_bytes(),
            RecordRef::OpenInterest(r) => r.as_bytes(),
            RecordRef::Status(r) => r.as_bytes(),
        }
    }
}
