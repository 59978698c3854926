//! The registry file: readable JSON next to the data, replaced atomically.
//!
//! ```json
//! { "format": "tickd-instruments", "version": 1, "next_id": 3,
//!   "instruments": [ { "id": 1, "symbol": "BTC-USDT", "venue": "binance",
//!     "raw_symbol": "BTCUSDT", "base": "BTC", "quote": "USDT", "kind": "spot",
//!     "tick_size": "0.01", "step_size": "0.00001" }, ... ] }
//! ```
//!
//! A file that exists but cannot be read back exactly is an error naming the file,
//! never an empty registry: starting empty would hand out ids the journal already
//! uses for other instruments.

use super::error::RegistryError;
use super::registry::InstrumentRegistry;
use super::spec::Instrument;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

const FORMAT: &str = "tickd-instruments";
/// The registry's file name inside a data directory, next to the journal.
pub const REGISTRY_FILE_NAME: &str = "instruments.json";
/// Bump when the file layout changes incompatibly.
pub const FORMAT_VERSION: u64 = 1;

#[derive(serde::Serialize)]
struct FileOut<'a> {
    format: &'static str,
    version: u64,
    next_id: u32,
    instruments: &'a [Instrument],
}

/// Read in two steps so a wrong version is reported as such, not as a field error.
#[derive(serde::Deserialize)]
struct Header {
    format: String,
    version: u64,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct FileIn {
    #[allow(dead_code)]
    format: String,
    #[allow(dead_code)]
    version: u64,
    next_id: u32,
    instruments: Vec<Instrument>,
}

impl InstrumentRegistry {
    /// Load the registry at `path`, or start empty if there is no file yet. Later
    /// [`save`](Self::save) calls write back to `path`.
    pub fn open(path: &Path) -> Result<Self, RegistryError> {
        let text = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
                let mut registry = InstrumentRegistry::new();
                registry.path = Some(path.to_path_buf());
                return Ok(registry);
            }
            Err(source) => return Err(io_error("read", path, source)),
        };
        let mut registry = parse(&text, path)?;
        registry.path = Some(path.to_path_buf());
        Ok(registry)
    }

    /// Write to the file given to [`open`](Self::open).
    pub fn save(&self) -> Result<(), RegistryError> {
        let path = self.path.as_deref().ok_or(RegistryError::NoPath)?;
        self.save_to(path)
    }

    /// Write atomically: a temp file in the same directory (`<name>.tmp`), fsync,
    /// rename over `path`, fsync the directory. A crash or error at any point leaves
    /// either the old file or the new one, whole.
    pub fn save_to(&self, path: &Path) -> Result<(), RegistryError> {
        let out = FileOut {
            format: FORMAT,
            version: FORMAT_VERSION,
            next_id: self.next_id,
            instruments: &self.instruments,
        };
        let mut json = serde_json::to_vec_pretty(&out).map_err(|e| RegistryError::Corrupt {
            path: path.to_path_buf(),
            reason: format!("cannot encode: {e}"),
        })?;
        json.push(b'\n');
        let dir = match path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() => dir.to_path_buf(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&dir).map_err(|e| io_error("create the directory of", path, e))?;
        let temp = temp_path(path);
        let written = write_synced(&temp, &json);
        if let Err(source) = written {
            // Best effort: the temp file is ours and useless now; the old file is untouched.
            if temp.is_file() {
                let _ = std::fs::remove_file(&temp);
            }
            return Err(io_error("write the temporary file for", path, source));
        }
        std::fs::rename(&temp, path).map_err(|e| io_error("replace", path, e))?;
        File::open(&dir)
            .and_then(|d| d.sync_all())
            .map_err(|e| io_error("sync the directory of", path, e))
    }

    /// The file `save` writes, if any.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }
}

/// `<dir>/<name>.tmp`: same directory, so the rename is atomic.
pub fn temp_path(path: &Path) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(".tmp");
    path.with_file_name(name)
}

fn write_synced(temp: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .open(temp)?;
    file.write_all(bytes)?;
    file.sync_all()
}

fn io_error(action: &'static str, path: &Path, source: std::io::Error) -> RegistryError {
    RegistryError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

fn parse(bytes: &[u8], path: &Path) -> Result<InstrumentRegistry, RegistryError> {
    let corrupt = |reason: String| RegistryError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    let header: Header =
        serde_json::from_slice(bytes).map_err(|e| corrupt(format!("not a registry file: {e}")))?;
    if header.format != FORMAT {
        return Err(corrupt(format!(
            "format is {:?}, expected {FORMAT:?}",
            header.format
        )));
    }
    if header.version != FORMAT_VERSION {
        return Err(RegistryError::UnsupportedVersion {
            path: path.to_path_buf(),
            found: header.version,
            supported: FORMAT_VERSION,
        });
    }
    let file: FileIn = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    let mut instruments = file.instruments;
    instruments.sort_by_key(|i| i.id);
    let mut registry = InstrumentRegistry::new();
    let mut previous = 0;
    for instrument in instruments {
        let id = instrument.id;
        if id == 0 || id == previous {
            return Err(corrupt(format!("id {id} is reserved or used twice")));
        }
        previous = id;
        let spec = instrument
            .spec
            .validated()
            .map_err(|reason| corrupt(format!("id {id}: {reason}")))?;
        registry
            .insert(id, spec)
            .map_err(|e| corrupt(format!("id {id}: {e}")))?;
    }
    // Never hand out an id the file says was used, even if its entry was removed.
    registry.next_id = registry.next_id.max(file.next_id);
    Ok(registry)
}
