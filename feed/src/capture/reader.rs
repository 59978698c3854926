//! [`CaptureReader`]: stream a capture line by line, plain or zstd (by file name).
//!
//! Captures come from disks that fill up and recorders that get killed: a line that
//! is not a capture object is counted and skipped, a last line cut short (or a zstd
//! stream without its end) is counted as a truncated tail, and nothing panics.

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

use serde::Serialize;

use super::CaptureLine;

/// Longest line accepted (an exchangeInfo body is a few MB); longer is malformed.
pub const MAX_LINE_BYTES: usize = 64 << 20;

/// What was read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReadStats {
    /// Capture lines yielded.
    pub lines: u64,
    /// Lines that were not a capture object (bad JSON, missing field, too long).
    pub malformed: u64,
    /// 1 when the file ended in the middle of a line or of its zstd stream.
    pub truncated: u64,
    /// An I/O error that ended reading early (not a torn tail).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub io_error: Option<String>,
}

/// Why a line was skipped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LineError {
    #[error("line {line}: {why}")]
    Malformed { line: u64, why: String },
    #[error("line {line}: the file ends in the middle of this line")]
    Truncated { line: u64 },
    #[error("line {line}: longer than {MAX_LINE_BYTES} bytes")]
    TooLong { line: u64 },
    #[error("after line {line}: {why}")]
    Io { line: u64, why: String },
}

pub struct CaptureReader {
    input: Box<dyn BufRead + Send>,
    buf: Vec<u8>,
    line_no: u64,
    done: bool,
    consumed: Arc<AtomicU64>,
    stats: ReadStats,
}

/// A zstd frame (`28 B5 2F FD`) or a skippable frame (`5? 2A 4D 18`), RFC 8878.
fn is_zstd_magic(head: &[u8]) -> bool {
    match head {
        [0x28, 0xB5, 0x2F, 0xFD] => true,
        [b0, 0x2A, 0x4D, 0x18] => b0 & 0xF0 == 0x50,
        _ => false,
    }
}

/// Counts the bytes taken from the file (compressed bytes for `.zst`), for progress.
struct Counting<R> {
    inner: R,
    consumed: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.consumed.fetch_add(n as u64, Relaxed);
        Ok(n)
    }
}

impl CaptureReader {
    /// Open a capture file; `.zst` is decompressed. A `.zst` file that does not start
    /// as zstd data is refused here (`InvalidData`), not read as a torn stream.
    pub fn open(path: &Path) -> io::Result<Self> {
        let mut file = File::open(path)?;
        if !super::is_zstd(path) {
            return Self::from_reader(file, false);
        }
        let mut head = Vec::with_capacity(4);
        (&mut file).take(4).read_to_end(&mut head)?;
        if !head.is_empty() && !is_zstd_magic(&head) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "named .zst but not zstd data (it does not start with a zstd magic number)",
            ));
        }
        Self::from_reader(io::Cursor::new(head).chain(file), true)
    }

    /// Read a capture from any byte source.
    pub fn from_reader(source: impl Read + Send + 'static, zstd: bool) -> io::Result<Self> {
        let consumed = Arc::new(AtomicU64::new(0));
        let counting = Counting {
            inner: source,
            consumed: consumed.clone(),
        };
        let input: Box<dyn BufRead + Send> = if zstd {
            Box::new(BufReader::with_capacity(
                1 << 16,
                zstd::Decoder::new(counting)?,
            ))
        } else {
            Box::new(BufReader::with_capacity(1 << 16, counting))
        };
        Ok(Self {
            input,
            buf: Vec::new(),
            line_no: 0,
            done: false,
            consumed,
            stats: ReadStats::default(),
        })
    }

    /// Bytes taken from the file so far (compressed for `.zst`).
    pub fn position(&self) -> u64 {
        self.consumed.load(Relaxed)
    }

    pub fn stats(&self) -> &ReadStats {
        &self.stats
    }

    /// Read one raw line into `self.buf`: `Ok(Some(complete))`, `Ok(None)` at the end.
    /// Bytes past [`MAX_LINE_BYTES`] are discarded (the line is then reported too long).
    fn read_raw(&mut self) -> io::Result<Option<(bool, bool)>> {
        self.buf.clear();
        let mut too_long = false;
        let mut any = false;
        loop {
            let chunk = match self.input.fill_buf() {
                Ok(chunk) => chunk,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if chunk.is_empty() {
                return Ok(any.then_some((false, too_long)));
            }
            any = true;
            let (take, complete) = match chunk.iter().position(|&b| b == b'\n') {
                Some(i) => (i + 1, true),
                None => (chunk.len(), false),
            };
            let room = MAX_LINE_BYTES.saturating_sub(self.buf.len());
            let keep = if complete { take - 1 } else { take };
            if keep > room {
                too_long = true;
            }
            self.buf.extend_from_slice(&chunk[..keep.min(room)]);
            self.input.consume(take);
            if complete {
                return Ok(Some((true, too_long)));
            }
        }
    }
}

impl Iterator for CaptureReader {
    type Item = Result<CaptureLine, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let (complete, too_long) = match self.read_raw() {
                Ok(Some(raw)) => raw,
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Err(err) => {
                    // A zstd stream cut short reads as an error at its end: a torn tail.
                    self.done = true;
                    let torn = matches!(
                        err.kind(),
                        io::ErrorKind::UnexpectedEof | io::ErrorKind::Other
                    );
                    if torn {
                        self.stats.truncated += 1;
                        return Some(Err(LineError::Truncated {
                            line: self.line_no + 1,
                        }));
                    }
                    self.stats.io_error = Some(err.to_string());
                    return Some(Err(LineError::Io {
                        line: self.line_no,
                        why: err.to_string(),
                    }));
                }
            };
            self.line_no += 1;
            let line = self.line_no;
            if too_long {
                self.stats.malformed += 1;
                return Some(Err(LineError::TooLong { line }));
            }
            let text = self.buf.strip_suffix(b"\r").unwrap_or(&self.buf);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(match serde_json::from_slice::<CaptureLine>(text) {
                Ok(parsed) => {
                    self.stats.lines += 1;
                    Ok(parsed)
                }
                Err(_) if !complete => {
                    self.stats.truncated += 1;
                    Err(LineError::Truncated { line })
                }
                Err(err) => {
                    self.stats.malformed += 1;
                    Err(LineError::Malformed {
                        line,
                        why: err.to_string(),
                    })
                }
            });
        }
    }
}
