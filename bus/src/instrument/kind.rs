//! What an instrument is: spot, perpetual, dated future or option, and the
//! calendar date that futures and options expire on.

use super::error::RegistryError;
use crate::decimal::Price;
use std::fmt;

/// A calendar date (UTC), always valid when built through [`Date::new`] or parsed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

impl Date {
    /// A valid Gregorian date from year 1 to 9999; `2026-02-30` is an error.
    pub fn new(year: u16, month: u8, day: u8) -> Result<Date, RegistryError> {
        let date = Date { year, month, day };
        if date.is_valid() {
            Ok(date)
        } else {
            Err(RegistryError::InvalidDate(format!(
                "{year:04}-{month:02}-{day:02}"
            )))
        }
    }

    /// Fields are public, so a hand-built date is checked again wherever it enters
    /// the registry.
    pub fn is_valid(self) -> bool {
        let leap = self.year.is_multiple_of(4)
            && (!self.year.is_multiple_of(100) || self.year.is_multiple_of(400));
        let days = match self.month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => return false,
        };
        (1..=9999).contains(&self.year) && (1..=days).contains(&self.day)
    }

    /// `20261225`, as it appears in normalized symbols.
    pub fn compact(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// Parse `20261225` (symbols) or `2026-12-25` (the registry file).
    pub fn parse(text: &str) -> Result<Date, RegistryError> {
        let invalid = || RegistryError::InvalidDate(text.to_string());
        let digits: String = match text.len() {
            8 => text.to_string(),
            10 if text.as_bytes().get(4) == Some(&b'-')
                && text.as_bytes().get(7) == Some(&b'-') =>
            {
                text.replace('-', "")
            }
            _ => return Err(invalid()),
        };
        if digits.len() != 8 || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return Err(invalid());
        }
        let year: Option<u16> = digits.get(0..4).and_then(|s| s.parse().ok());
        let month: Option<u8> = digits.get(4..6).and_then(|s| s.parse().ok());
        let day: Option<u8> = digits.get(6..8).and_then(|s| s.parse().ok());
        match (year, month, day) {
            (Some(year), Some(month), Some(day)) => Date::new(year, month, day),
            _ => Err(invalid()),
        }
    }
}

/// ISO form, `2026-12-25`.
impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl serde::Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Date {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str> as serde::Deserialize>::deserialize(d)?;
        Date::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// Call or put.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum OptionRight {
    Call,
    Put,
}

impl OptionRight {
    /// `C` or `P`, the last part of an option's normalized symbol.
    pub const fn letter(self) -> char {
        match self {
            OptionRight::Call => 'C',
            OptionRight::Put => 'P',
        }
    }

    pub fn from_letter(letter: &str) -> Option<OptionRight> {
        match letter {
            "C" | "c" => Some(OptionRight::Call),
            "P" | "p" => Some(OptionRight::Put),
            _ => None,
        }
    }
}

/// The kind of contract. Stored in the registry file as `"kind": "spot" | "perpetual"
/// | "future" | "option"` with the extra fields beside it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum InstrumentKind {
    Spot,
    Perpetual,
    Future {
        expiry: Date,
    },
    Option {
        expiry: Date,
        strike: Price,
        right: OptionRight,
    },
}

impl InstrumentKind {
    /// The suffix after `BASE-QUOTE` in a normalized symbol (empty for spot).
    pub fn symbol_suffix(&self) -> String {
        match self {
            InstrumentKind::Spot => String::new(),
            InstrumentKind::Perpetual => "-PERP".to_string(),
            InstrumentKind::Future { expiry } => format!("-{}", expiry.compact()),
            InstrumentKind::Option {
                expiry,
                strike,
                right,
            } => format!("-{}-{}-{}", expiry.compact(), strike, right.letter()),
        }
    }

    /// Checks the parts a hand-built kind could get wrong.
    pub(crate) fn validate(&self) -> Result<(), String> {
        match self {
            InstrumentKind::Spot | InstrumentKind::Perpetual => Ok(()),
            InstrumentKind::Future { expiry } => check_date(*expiry),
            InstrumentKind::Option { expiry, strike, .. } => {
                check_date(*expiry)?;
                if strike.defined().is_some_and(|s| s.raw() > 0) {
                    Ok(())
                } else {
                    Err(format!(
                        "option strike must be a positive price, got {strike}"
                    ))
                }
            }
        }
    }
}

fn check_date(date: Date) -> Result<(), String> {
    if date.is_valid() {
        Ok(())
    } else {
        Err(format!("expiry {date} is not a calendar date"))
    }
}
