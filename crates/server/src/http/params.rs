//! Typed reading of query parameters that names the offending field, and collects every problem
//! before answering (serde's query decoding stops at the first and names fields loosely).

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};

use crate::error::{AppError, ErrorItem};

/// Raw query parameters plus the errors found while reading them.
pub struct Params {
    raw: HashMap<String, String>,
    errors: Vec<ErrorItem>,
}

impl Params {
    pub fn new(raw: HashMap<String, String>) -> Self {
        Self { raw, errors: Vec::new() }
    }

    /// A trimmed, non-empty string.
    pub fn string(&mut self, name: &str, max_len: usize) -> Option<String> {
        let value = self.raw.get(name)?.trim();
        if value.is_empty() {
            return None;
        }
        if value.chars().count() > max_len {
            self.fail(name, format!("must be at most {max_len} characters"));
            return None;
        }
        Some(value.to_owned())
    }

    pub fn int(&mut self, name: &str, min: i64, max: i64) -> Option<i64> {
        let raw = self.string(name, 40)?;
        match raw.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            Ok(_) => {
                self.fail(name, format!("must be between {min} and {max}"));
                None
            }
            Err(_) => {
                self.fail(name, "must be a whole number");
                None
            }
        }
    }

    pub fn id(&mut self, name: &str) -> Option<i64> {
        self.int(name, 1, i64::MAX)
    }

    /// A date (`2026-12-01`, meaning its start in UTC; or `end_of_day` for inclusive upper
    /// bounds) or a full RFC 3339 timestamp.
    pub fn datetime(&mut self, name: &str, end_of_day: bool) -> Option<DateTime<Utc>> {
        let raw = self.string(name, 40)?;
        if let Ok(t) = DateTime::parse_from_rfc3339(&raw) {
            return Some(t.with_timezone(&Utc));
        }
        match NaiveDate::parse_from_str(&raw, "%Y-%m-%d") {
            Ok(day) => {
                let time = if end_of_day {
                    day.and_hms_micro_opt(23, 59, 59, 999_999)
                } else {
                    day.and_hms_opt(0, 0, 0)
                };
                time.map(|t| t.and_utc())
            }
            Err(_) => {
                self.fail(name, "must be a date (YYYY-MM-DD) or an RFC 3339 timestamp");
                None
            }
        }
    }

    pub fn bool(&mut self, name: &str) -> Option<bool> {
        match self.string(name, 10)?.as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => {
                self.fail(name, "must be true or false");
                None
            }
        }
    }

    /// One of a fixed set of values.
    pub fn choice<'a>(&mut self, name: &str, allowed: &[&'a str]) -> Option<&'a str> {
        let raw = self.string(name, 40)?;
        match allowed.iter().find(|a| **a == raw) {
            Some(found) => Some(found),
            None => {
                self.fail(name, format!("must be one of: {}", allowed.join(", ")));
                None
            }
        }
    }

    pub fn fail(&mut self, name: &str, message: impl Into<String>) {
        self.errors.push(ErrorItem::field(name, message));
    }

    /// Ends reading: every problem found, or nothing.
    pub fn finish(self) -> Result<(), AppError> {
        if self.errors.is_empty() { Ok(()) } else { Err(AppError::Validation(self.errors)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::new(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
    }

    #[test]
    fn every_bad_parameter_is_named() {
        let mut p = params(&[("page", "-1"), ("page_size", "abc"), ("date_from", "yesterday")]);
        assert_eq!(p.int("page", 1, 10_000), None);
        assert_eq!(p.int("page_size", 1, 100), None);
        assert_eq!(p.datetime("date_from", false), None);
        let Err(AppError::Validation(items)) = p.finish() else { panic!("expected errors") };
        let fields: Vec<_> = items.iter().filter_map(|i| i.field.as_deref()).collect();
        assert_eq!(fields, ["page", "page_size", "date_from"]);
    }

    #[test]
    fn dates_and_timestamps_parse() {
        let mut p = params(&[("a", "2026-12-01"), ("b", "2026-12-01T10:00:00+07:00")]);
        assert_eq!(p.datetime("a", true).unwrap().to_rfc3339(), "2026-12-01T23:59:59.999999+00:00");
        assert_eq!(p.datetime("b", false).unwrap().to_rfc3339(), "2026-12-01T03:00:00+00:00");
        assert!(p.finish().is_ok());
    }

    #[test]
    fn absent_and_empty_parameters_are_none() {
        let mut p = params(&[("q", "  ")]);
        assert_eq!(p.string("q", 10), None);
        assert_eq!(p.int("page", 1, 5), None);
        assert!(p.finish().is_ok());
    }
}
