//! Checking request bodies field by field: every problem is collected and named, then answered
//! at once as one `validation_failed` (the body-side twin of `http::Params`).

use crate::error::{AppError, AppResult, ErrorItem};

#[derive(Debug, Default)]
pub struct Checks {
    errors: Vec<ErrorItem>,
}

impl Checks {
    pub fn new() -> Self {
        Self::default()
    }

    /// The trimmed text, recording an error when its length (in characters) is outside `min..=max`.
    pub fn text(&mut self, field: &str, value: &str, min: usize, max: usize) -> String {
        let value = value.trim();
        let len = value.chars().count();
        if len < min {
            self.fail(
                field,
                if min == 1 {
                    "must not be empty".to_owned()
                } else {
                    format!("must be at least {min} characters")
                },
            );
        } else if len > max {
            self.fail(field, format!("must be at most {max} characters"));
        }
        value.to_owned()
    }

    /// Records an error unless `value` lies in `min..=max`.
    pub fn range(&mut self, field: &str, value: i64, min: i64, max: i64) {
        if !(min..=max).contains(&value) {
            self.fail(field, format!("must be between {min} and {max}"));
        }
    }

    pub fn fail(&mut self, field: &str, message: impl Into<String>) {
        self.errors.push(ErrorItem::field(field, message));
    }

    pub fn push(&mut self, item: ErrorItem) {
        self.errors.push(item);
    }

    pub fn is_clean(&self) -> bool {
        self.errors.is_empty()
    }

    /// Ends checking: every problem found, or nothing.
    pub fn finish(self) -> AppResult<()> {
        if self.errors.is_empty() { Ok(()) } else { Err(AppError::Validation(self.errors)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_problem_is_named() {
        let mut c = Checks::new();
        assert_eq!(c.text("name", "  Hall  ", 1, 10), "Hall");
        c.text("city", "   ", 1, 10);
        c.text("address", "far too long", 1, 5);
        c.range("price", -1, 0, 10);
        let Err(AppError::Validation(items)) = c.finish() else { panic!("expected errors") };
        let fields: Vec<_> = items.iter().filter_map(|i| i.field.as_deref()).collect();
        assert_eq!(fields, ["city", "address", "price"]);
    }
}
