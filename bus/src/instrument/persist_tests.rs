//! Persistence tests: ids across restarts, atomic save, corrupt files.

use super::tests::{sample_specs, spec};
use super::*;
use crate::venue::Venue;
use std::path::Path;

#[test]
fn ids_survive_save_and_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(REGISTRY_FILE_NAME);
    let mut registry = InstrumentRegistry::open(&path).unwrap();
    assert!(registry.is_empty(), "no file yet: empty");
    for s in sample_specs() {
        registry.upsert(s).unwrap();
    }
    registry.save().unwrap();
    assert!(!temp_path(&path).exists(), "temp file renamed away");

    let mut reopened = InstrumentRegistry::open(&path).unwrap();
    let before: Vec<&Instrument> = registry.iter().collect();
    let after: Vec<&Instrument> = reopened.iter().collect();
    assert_eq!(before, after);
    assert_eq!(reopened.resolve(Venue::Okx, "btc-usdt-swap").unwrap().id, 3);
    // Re-registering in another order after a restart keeps every id.
    for s in sample_specs().into_iter().rev() {
        let expected = registry.by_raw(s.venue, &s.raw_symbol).unwrap().id;
        assert_eq!(reopened.upsert(s).unwrap(), expected);
    }
    let new = spec(
        Venue::Coinbase,
        "BTC-USD",
        "BTC",
        "USD",
        InstrumentKind::Spot,
    );
    assert_eq!(reopened.upsert(new).unwrap(), 7);
    reopened.save().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.contains("\"version\": 1")
            && text.contains("\"symbol\": \"BTC-USD-20261225-100000-C\""),
        "{text}"
    );
    assert_eq!(InstrumentRegistry::open(&path).unwrap().len(), 7);
}

#[test]
fn ids_are_never_reused_after_an_entry_is_removed_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(REGISTRY_FILE_NAME);
    let mut registry = InstrumentRegistry::open(&path).unwrap();
    for s in sample_specs() {
        registry.upsert(s).unwrap();
    }
    registry.save().unwrap();
    // Drop the last instrument (id 6) from the file, keeping next_id.
    let mut json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    json["instruments"].as_array_mut().unwrap().pop();
    std::fs::write(&path, json.to_string()).unwrap();
    let mut reopened = InstrumentRegistry::open(&path).unwrap();
    assert_eq!(reopened.len(), 5);
    let new = spec(
        Venue::Bybit,
        "BTCUSDT",
        "BTC",
        "USDT",
        InstrumentKind::Perpetual,
    );
    assert_eq!(reopened.upsert(new).unwrap(), 7);
}

#[test]
fn failed_save_leaves_the_old_file_intact() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(REGISTRY_FILE_NAME);
    let mut registry = InstrumentRegistry::open(&path).unwrap();
    registry.upsert(sample_specs()[0].clone()).unwrap();
    registry.save().unwrap();
    let old = std::fs::read(&path).unwrap();

    registry.upsert(sample_specs()[1].clone()).unwrap();
    // The temp file cannot be created: a directory is in its way.
    std::fs::create_dir(temp_path(&path)).unwrap();
    let err = registry.save().unwrap_err();
    assert!(matches!(err, RegistryError::Io { .. }), "{err}");
    assert!(err.to_string().contains("instruments.json"), "{err}");
    assert_eq!(std::fs::read(&path).unwrap(), old);
    assert_eq!(InstrumentRegistry::open(&path).unwrap().len(), 1);

    std::fs::remove_dir(temp_path(&path)).unwrap();
    registry.save().unwrap();
    assert_eq!(InstrumentRegistry::open(&path).unwrap().len(), 2);
}

fn open_err(path: &Path, contents: &str) -> RegistryError {
    std::fs::write(path, contents).unwrap();
    InstrumentRegistry::open(path).unwrap_err()
}

#[test]
fn corrupt_or_unknown_files_are_errors_naming_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(REGISTRY_FILE_NAME);
    let mut registry = InstrumentRegistry::open(&path).unwrap();
    for s in sample_specs() {
        registry.upsert(s).unwrap();
    }
    registry.save().unwrap();
    let good = std::fs::read_to_string(&path).unwrap();

    let truncated = &good[..good.len() / 2];
    let duplicate_id = good.replacen("\"id\": 2", "\"id\": 1", 1);
    let zero_id = good.replacen("\"id\": 1", "\"id\": 0", 1);
    let bad_date = good.replacen("2026-12-25", "2026-02-30", 1);
    let bad_price = good.replacen("\"tick_size\": \"0.01\"", "\"tick_size\": \"0.01x\"", 1);
    let unknown_kind = good.replacen("\"kind\": \"spot\"", "\"kind\": \"swap\"", 1);
    let duplicate_raw = good.replacen("BTC-USDT-SWAP", "BTC-USDT-261225", 1);
    let wrong_format = good.replacen("tickd-instruments", "something-else", 1);
    for (what, contents) in [
        ("empty", ""),
        ("truncated", truncated),
        ("not json", "hello"),
        ("duplicate id", &duplicate_id),
        ("zero id", &zero_id),
        ("bad date", &bad_date),
        ("bad price", &bad_price),
        ("unknown kind", &unknown_kind),
        ("duplicate raw", &duplicate_raw),
        ("wrong format", &wrong_format),
    ] {
        let err = open_err(&path, contents);
        assert!(
            matches!(err, RegistryError::Corrupt { .. }),
            "{what}: {err}"
        );
        assert!(
            err.to_string().contains(&path.display().to_string()),
            "{what}: {err}"
        );
    }
    let future = good.replacen("\"version\": 1", "\"version\": 2", 1);
    let err = open_err(&path, &future);
    assert!(
        matches!(
            err,
            RegistryError::UnsupportedVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{err}"
    );
    assert!(err.to_string().contains("instruments.json"), "{err}");
    // The good file still loads: the checks above are about the contents.
    assert_eq!(open_err_free(&path, &good).len(), 6);
}

fn open_err_free(path: &Path, contents: &str) -> InstrumentRegistry {
    std::fs::write(path, contents).unwrap();
    InstrumentRegistry::open(path).unwrap()
}

#[test]
fn save_without_a_path_says_how_to_fix() {
    let err = InstrumentRegistry::new().save().unwrap_err();
    assert!(matches!(err, RegistryError::NoPath));
    assert!(err.to_string().contains("open(path)"));
}
