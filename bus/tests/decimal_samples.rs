//! Every number in the recorded exchange samples of every venue (Binance spot and
//! USD-M, Bybit, Coinbase, HTX, Kraken, OKX) parses exactly into its type.
//!
//! Numbers are taken from the raw line text by a small JSON scanner, so Kraken's
//! unquoted floats (`29430.2`, `0.0001`) are checked as the exact characters the
//! venue sent, not as whatever `f64` made of them. serde_json parses each line too,
//! to prove the scanner saw every value.

mod support;

use std::path::{Path, PathBuf};
use support::canonical;
use tickd_bus::{DecimalError, Fixed, Price, Size};

/// A scalar found in a line: the field it belongs to (`p`, `b[0]` for the first
/// element of a level array under `b`), its raw text, and whether it was quoted.
#[derive(Debug)]
struct Leaf {
    field: String,
    text: String,
    quoted: bool,
}

/// Minimal JSON scanner that keeps number tokens and string contents as raw text.
struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Scanner<'_> {
    fn skip_ws(&mut self) {
        while self
            .bytes
            .get(self.pos)
            .is_some_and(u8::is_ascii_whitespace)
        {
            self.pos += 1;
        }
    }

    fn expect(&mut self, byte: u8) -> Result<(), String> {
        self.skip_ws();
        if self.bytes.get(self.pos) == Some(&byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(format!("expected {:?} at byte {}", byte as char, self.pos))
        }
    }

    /// The raw contents of a string (escapes left as written).
    fn string(&mut self) -> Result<String, String> {
        self.expect(b'"')?;
        let start = self.pos;
        loop {
            match self.bytes.get(self.pos) {
                None => return Err("unterminated string".into()),
                Some(b'\\') => self.pos += 2,
                Some(b'"') => break,
                Some(_) => self.pos += 1,
            }
        }
        let text = String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned();
        self.pos += 1;
        Ok(text)
    }

    fn value(&mut self, field: &str, out: &mut Vec<Leaf>) -> Result<(), String> {
        self.skip_ws();
        match self.bytes.get(self.pos) {
            Some(b'{') => {
                self.pos += 1;
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b'}') {
                    self.pos += 1;
                    return Ok(());
                }
                loop {
                    let key = self.string()?;
                    self.expect(b':')?;
                    self.value(&key, out)?;
                    self.skip_ws();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(());
                        }
                        _ => return Err(format!("bad object at byte {}", self.pos)),
                    }
                    self.skip_ws();
                }
            }
            Some(b'[') => {
                self.pos += 1;
                self.skip_ws();
                if self.bytes.get(self.pos) == Some(&b']') {
                    self.pos += 1;
                    return Ok(());
                }
                for index in 0.. {
                    self.skip_ws();
                    // Scalars in arrays are named by position (`b[0]` price, `b[1]` size);
                    // nested containers keep the outer field name.
                    let nested = matches!(self.bytes.get(self.pos), Some(b'[' | b'{'));
                    let name = if nested {
                        field.to_string()
                    } else {
                        format!("{field}[{index}]")
                    };
                    self.value(&name, out)?;
                    self.skip_ws();
                    match self.bytes.get(self.pos) {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            break;
                        }
                        _ => return Err(format!("bad array at byte {}", self.pos)),
                    }
                }
                Ok(())
            }
            Some(b'"') => {
                let text = self.string()?;
                out.push(Leaf {
                    field: field.to_string(),
                    text,
                    quoted: true,
                });
                Ok(())
            }
            Some(b't' | b'f' | b'n') => {
                while self
                    .bytes
                    .get(self.pos)
                    .is_some_and(u8::is_ascii_alphabetic)
                {
                    self.pos += 1;
                }
                Ok(())
            }
            Some(_) => {
                let start = self.pos;
                while self
                    .bytes
                    .get(self.pos)
                    .is_some_and(|b| b.is_ascii_digit() || b"-+.eE".contains(b))
                {
                    self.pos += 1;
                }
                if start == self.pos {
                    return Err(format!("unexpected byte at {}", self.pos));
                }
                let text = String::from_utf8_lossy(&self.bytes[start..self.pos]).into_owned();
                out.push(Leaf {
                    field: field.to_string(),
                    text,
                    quoted: false,
                });
                Ok(())
            }
            None => Err("unexpected end of line".into()),
        }
    }
}

fn scan(line: &str) -> Result<Vec<Leaf>, String> {
    let mut scanner = Scanner {
        bytes: line.as_bytes(),
        pos: 0,
    };
    let mut leaves = Vec::new();
    scanner.value("", &mut leaves)?;
    scanner.skip_ws();
    if scanner.pos != line.len() {
        return Err(format!("trailing bytes at {}", scanner.pos));
    }
    Ok(leaves)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    Price,
    Size,
    Rate,
    /// Ids, timestamps, sequence numbers, counts, checksums.
    Integer,
    /// A decimal in a field this table does not name yet.
    Unclassified,
}

#[rustfmt::skip]
const PRICE_FIELDS: &[&str] = &[
    "p", "px", "P", "i", "a", "b", "a[0]", "b[0]", "asks[0]", "bids[0]", "ap", "ask", "bid",
    "askPx", "bidPx", "ask1Price", "bid1Price", "basis", "best_ask", "best_bid", "bkPx",
    "bkLoss", "high", "low", "high24h", "low24h", "highPrice24h", "lowPrice24h", "high_24_h",
    "low_24_h", "high_52_w", "low_52_w", "open24h", "last", "lastPrice", "markPrice", "markPx",
    "indexPrice", "prevPrice1h", "prevPrice24h", "price", "price_level",
    "predictedDeliveryPrice", "sodUtc0", "sodUtc8", "vwap", "change", "openInterestValue",
    "turnover24h", "volCcy24h",
];
#[rustfmt::skip]
const SIZE_FIELDS: &[&str] = &[
    "A", "B", "a[1]", "b[1]", "asks[1]", "bids[1]", "askSz", "bidSz", "ask1Size", "bid1Size",
    "ask_qty", "bid_qty", "best_ask_quantity", "best_bid_quantity", "lastSz", "new_quantity",
    "oi", "oiCcy", "openInterest", "q", "qty", "size", "sz", "v", "vol24h", "volume",
    "volume24h", "volume_24_h", "l", "z", "amount", "askSize", "bidSize", "quantity",
];
#[rustfmt::skip]
const RATE_FIELDS: &[&str] = &[
    "fundingRate", "nextFundingRate", "r", "basisRate", "deliveryFeeRate", "price24hPcnt",
    "change_pct", "price_percent_chg_24_h", "funding_rate",
];
/// Fields Kraken sends as bare JSON numbers: an integer token there is still a price/size.
#[rustfmt::skip]
const BARE_NUMBER_FIELDS: &[&str] = &[
    "price", "qty", "bid", "ask", "bid_qty", "ask_qty", "last", "volume", "vwap", "low", "high",
    "change", "change_pct",
];

fn is_decimal_text(text: &str) -> bool {
    let body = text.strip_prefix('-').unwrap_or(text);
    let (mantissa, exponent) = match body.find(['e', 'E']) {
        Some(at) => (&body[..at], Some(&body[at + 1..])),
        None => (body, None),
    };
    let all_digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = match mantissa.split_once('.') {
        Some((int, frac)) => all_digits(int) && all_digits(frac),
        None => all_digits(mantissa),
    };
    let exponent_ok = exponent.is_none_or(|e| all_digits(e.trim_start_matches(['+', '-'])));
    mantissa_ok && exponent_ok
}

fn is_plain_integer(text: &str) -> bool {
    let body = text.strip_prefix('-').unwrap_or(text);
    !body.is_empty() && body.bytes().all(|b| b.is_ascii_digit())
}

fn kind_of(leaf: &Leaf) -> Kind {
    let field = leaf.field.as_str();
    if is_plain_integer(&leaf.text) && !leaf.quoted && !BARE_NUMBER_FIELDS.contains(&field) {
        return Kind::Integer;
    }
    if PRICE_FIELDS.contains(&field) {
        Kind::Price
    } else if SIZE_FIELDS.contains(&field) {
        Kind::Size
    } else if RATE_FIELDS.contains(&field) {
        Kind::Rate
    } else if is_plain_integer(&leaf.text) {
        Kind::Integer
    } else {
        Kind::Unclassified
    }
}

fn exact<const S: u32>(text: &str) -> Result<(), String> {
    let value = Fixed::<S>::parse_str(text).map_err(|e| format!("{e}"))?;
    let formatted = value.to_string();
    if formatted == canonical(text) {
        Ok(())
    } else {
        Err(format!(
            "formatted as {formatted}, expected {}",
            canonical(text)
        ))
    }
}

/// Integers: exact as a Size where they fit; beyond that a typed OutOfRange, never a wrap.
fn check_integer(text: &str) -> Result<(), String> {
    let magnitude: u128 = text
        .trim_start_matches('-')
        .parse()
        .map_err(|e| format!("{e}"))?;
    let size_max = Size::MAX.raw() as u128 / Size::ONE_RAW as u128;
    let price_max = Price::MAX.raw() as u128 / Price::ONE_RAW as u128;
    if magnitude <= size_max {
        exact::<18>(text)?;
    } else if Size::parse_str(text) != Err(DecimalError::OutOfRange { scale: 18 }) {
        return Err("beyond Size range but not OutOfRange".into());
    }
    if magnitude <= price_max {
        exact::<24>(text)?;
    } else if Price::parse_str(text) != Err(DecimalError::OutOfRange { scale: 24 }) {
        return Err("beyond Price range but not OutOfRange".into());
    }
    Ok(())
}

fn check(leaf: &Leaf, kind: Kind) -> Result<(), String> {
    match kind {
        Kind::Price => exact::<24>(&leaf.text),
        Kind::Size => exact::<18>(&leaf.text),
        Kind::Rate => exact::<18>(&leaf.text),
        Kind::Integer => check_integer(&leaf.text),
        Kind::Unclassified => exact::<24>(&leaf.text).or_else(|_| exact::<18>(&leaf.text)),
    }
}

fn sample_files() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/exchanges/samples");
    let mut files = Vec::new();
    let mut dirs = vec![root];
    while let Some(dir) = dirs.pop() {
        let entries = std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display()));
        for entry in entries {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "jsonl") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// Count serde_json's leaves (strings and numbers) to prove the scanner missed none.
fn count_json_leaves(value: &serde_json::Value, strings: &mut usize, numbers: &mut Vec<f64>) {
    match value {
        serde_json::Value::String(_) => *strings += 1,
        serde_json::Value::Number(n) => numbers.push(n.as_f64().unwrap_or(f64::NAN)),
        serde_json::Value::Array(items) => items
            .iter()
            .for_each(|v| count_json_leaves(v, strings, numbers)),
        serde_json::Value::Object(map) => map
            .values()
            .for_each(|v| count_json_leaves(v, strings, numbers)),
        _ => {}
    }
}

#[test]
fn every_number_in_the_samples_parses_exactly() {
    let mut counts = std::collections::BTreeMap::<Kind, usize>::new();
    let mut bare_numbers = 0usize;
    let mut unclassified = std::collections::BTreeSet::new();
    let mut failures = Vec::new();
    let files = sample_files();
    assert!(
        files.len() >= 20,
        "expected the sample corpus, found {} files",
        files.len()
    );
    for file in &files {
        let content = std::fs::read_to_string(file).unwrap();
        for (index, line) in content.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let place = format!("{}:{}", file.display(), index + 1);
            let leaves = scan(line).unwrap_or_else(|e| panic!("{place}: {e}"));
            let json: serde_json::Value = serde_json::from_str(line).unwrap();
            let (mut strings, mut numbers) = (0, Vec::new());
            count_json_leaves(&json, &mut strings, &mut numbers);
            let scanned_numbers: Vec<f64> = leaves
                .iter()
                .filter(|l| !l.quoted)
                .map(|l| l.text.parse::<f64>().unwrap_or(f64::NAN))
                .collect();
            assert_eq!(
                leaves.iter().filter(|l| l.quoted).count(),
                strings,
                "{place}"
            );
            let sorted = |mut v: Vec<f64>| {
                v.sort_by(f64::total_cmp);
                v
            };
            // serde_json's fast float parsing may differ from std's in the last bit
            // for huge integers (HTX's 27-digit trade ids): compare to 1e-15.
            let (scanned, parsed) = (sorted(scanned_numbers), sorted(numbers));
            assert_eq!(scanned.len(), parsed.len(), "{place}");
            for (a, b) in scanned.iter().zip(&parsed) {
                assert!((a - b).abs() <= a.abs() * 1e-15, "{place}: {a} vs {b}");
            }

            for leaf in leaves.iter().filter(|l| is_decimal_text(&l.text)) {
                let kind = kind_of(leaf);
                if kind == Kind::Unclassified {
                    unclassified.insert(leaf.field.clone());
                }
                if !leaf.quoted {
                    bare_numbers += 1;
                }
                *counts.entry(kind).or_default() += 1;
                if let Err(why) = check(leaf, kind) {
                    failures.push(format!(
                        "{place} {}={} as {kind:?}: {why}",
                        leaf.field, leaf.text
                    ));
                }
            }
        }
    }
    let total: usize = counts.values().sum();
    println!(
        "checked {total} numbers in {} files ({bare_numbers} bare JSON numbers): {counts:?}; \
         unclassified fields: {unclassified:?}",
        files.len()
    );
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(
        unclassified.is_empty(),
        "decimal fields {unclassified:?} have no type: add them to PRICE_FIELDS, SIZE_FIELDS or RATE_FIELDS"
    );
    assert!(total >= 5_000, "only {total} numbers checked");
    assert!(counts.get(&Kind::Price).copied().unwrap_or(0) >= 1_000);
    assert!(counts.get(&Kind::Size).copied().unwrap_or(0) >= 1_000);
    assert!(counts.get(&Kind::Rate).copied().unwrap_or(0) >= 10);
    assert!(bare_numbers >= 1_000, "Kraken's bare floats were not seen");
}

/// The extremes HTX sends (`../shared/exchanges/htx.md` §5) are in the corpus, as
/// the venue wrote them, so the table above checks them; the ones the recorded frames
/// happen not to contain are checked here against their canonical text.
#[test]
fn htx_extremes_are_in_the_table() {
    let corpus: String = sample_files()
        .iter()
        .filter(|f| f.to_string_lossy().contains("/htx/"))
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect();
    for text in [
        "9.485E-11",
        "5.106999E12",
        "3080.000000000000000000",
        "2.5083E-10",
    ] {
        assert!(corpus.contains(text), "{text} not in the HTX samples");
    }
    for (text, expected) in [
        ("5.79108367147E9", "5791083671.47"),
        ("1.3640078E7", "13640078"),
        ("5.4329174972728E12", "5432917497272.8"),
        ("5.33E-4", "0.000533"),
    ] {
        assert_eq!(Size::parse_str(text).unwrap().to_string(), expected);
    }
    assert_eq!(
        tickd_bus::Rate::parse_str("0E-18"),
        Ok(tickd_bus::Rate::ZERO)
    );
}

#[test]
fn scanner_keeps_raw_number_text() {
    let leaves =
        scan(r#"{"a":[{"price":29430.2,"qty":4.0}],"b":[["1.50","2"]],"e":1e-8,"s":"x\"y"}"#)
            .unwrap();
    let seen: Vec<(&str, &str, bool)> = leaves
        .iter()
        .map(|l| (l.field.as_str(), l.text.as_str(), l.quoted))
        .collect();
    assert_eq!(
        seen,
        vec![
            ("price", "29430.2", false),
            ("qty", "4.0", false),
            ("b[0]", "1.50", true),
            ("b[1]", "2", true),
            ("e", "1e-8", false),
            ("s", "x\\\"y", true),
        ]
    );
}

#[test]
fn canonical_text_reference() {
    assert_eq!(canonical("58942.01000000"), "58942.01");
    assert_eq!(canonical("000000000"), "0");
    assert_eq!(canonical("-0.000"), "0");
    assert_eq!(canonical("4.0"), "4");
    assert_eq!(canonical("1e-8"), "0.00000001");
    assert_eq!(canonical("2.5E+3"), "2500");
    assert_eq!(canonical("-0.00017"), "-0.00017");
    assert!(exact::<8>("0.000000001").is_err());
    assert!(exact::<18>("50000000000.12345678").is_ok());
    assert!(exact::<24>("1e15").is_err());
    assert!(exact::<18>("9.485E-11").is_ok());
    assert!(exact::<18>("1E-19").is_err());
}
