//! What a sequence's next value must be: pure arithmetic, shared by check
//! and fix, in `i128` so no bound can overflow.
//!
//! For an ascending sequence the next value must be the largest of
//! - the maximum over every column it feeds, plus the increment,
//! - the start value (an empty table starts there, not at 2 as pgloader's
//!   reset makes it), and
//! - the current next value (a repair never moves a sequence backwards).
//!
//! A descending sequence mirrors it with minima.

/// A sequence's definition and where it stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sequence {
    pub start: i64,
    pub increment: i64,
    pub min: i64,
    pub max: i64,
    pub last_value: i64,
    pub is_called: bool,
}

/// The values of the columns a sequence feeds: `None` when every one is
/// empty.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Fed {
    pub max: Option<i64>,
    pub min: Option<i64>,
}

/// What the next value must become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The next value is already past the data.
    Sound,
    /// The next value must become this.
    Restart(i64),
    /// The value needed lies outside the sequence's range: its type (or
    /// bounds) must change first, which keel leaves to a person.
    OutOfRange(i128),
}

impl Sequence {
    fn ascending(&self) -> bool {
        self.increment > 0
    }

    /// The value `nextval` would return now.
    pub fn current_next(&self) -> i128 {
        if self.is_called {
            i128::from(self.last_value) + i128::from(self.increment)
        } else {
            i128::from(self.last_value)
        }
    }

    /// Whether the next value collides with (or falls behind) the data.
    pub fn is_behind(&self, fed: Fed) -> bool {
        let next = self.current_next();
        if self.ascending() {
            fed.max.is_some_and(|m| next <= i128::from(m))
        } else {
            fed.min.is_some_and(|m| next >= i128::from(m))
        }
    }

    /// The next value a repair sets, or `Sound` when none is needed.
    pub fn verdict(&self, fed: Fed) -> Verdict {
        if !self.is_behind(fed) {
            return Verdict::Sound;
        }
        let (start, inc, current) = (
            i128::from(self.start),
            i128::from(self.increment),
            self.current_next(),
        );
        let wanted = if self.ascending() {
            let past_data = fed.max.map_or(start, |m| i128::from(m) + inc);
            past_data.max(start).max(current)
        } else {
            let past_data = fed.min.map_or(start, |m| i128::from(m) + inc);
            past_data.min(start).min(current)
        };
        if wanted < i128::from(self.min) || wanted > i128::from(self.max) {
            return Verdict::OutOfRange(wanted);
        }
        match i64::try_from(wanted) {
            Ok(v) => Verdict::Restart(v),
            Err(_) => Verdict::OutOfRange(wanted),
        }
    }

    /// The share of the range already used, counting the column's type
    /// bounds when they are narrower than the sequence's (an `integer`
    /// column fed by a `bigint` sequence still stops at 2^31−1).
    pub fn used(&self, column_bounds: (i64, i64)) -> f64 {
        let lo = i128::from(self.min.max(column_bounds.0));
        let hi = i128::from(self.max.min(column_bounds.1));
        let span = (hi - lo) as f64;
        if span <= 0.0 {
            return 1.0;
        }
        let next = self.current_next();
        let used = if self.ascending() {
            next - lo
        } else {
            hi - next
        };
        (used as f64 / span).clamp(0.0, 1.0)
    }
}

/// The first value an id column with no generator gets: one past the
/// largest id, and never below 1 (negative ids leave the start alone).
pub fn first_value(column_max: Option<i64>) -> i128 {
    column_max.map_or(1, |m| (i128::from(m) + 1).max(1))
}

/// The bounds of an integer column type by its PostgreSQL name.
pub fn type_bounds(type_name: &str) -> (i64, i64) {
    match type_name {
        "smallint" | "int2" => (i64::from(i16::MIN), i64::from(i16::MAX)),
        "integer" | "int4" | "int" => (i64::from(i32::MIN), i64::from(i32::MAX)),
        _ => (i64::MIN, i64::MAX),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn asc(last_value: i64, is_called: bool) -> Sequence {
        Sequence {
            start: 1,
            increment: 1,
            min: 1,
            max: i64::from(i32::MAX),
            last_value,
            is_called,
        }
    }

    fn fed(max: i64) -> Fed {
        Fed {
            max: Some(max),
            min: Some(1),
        }
    }

    #[test]
    fn a_fresh_sequence_behind_imported_rows_restarts_past_the_maximum() {
        assert_eq!(asc(1, false).verdict(fed(100)), Verdict::Restart(101));
        // last_value 100 already handed out: next is 101, which is sound
        assert_eq!(asc(100, true).verdict(fed(100)), Verdict::Sound);
        assert_eq!(asc(100, false).verdict(fed(100)), Verdict::Restart(101));
    }

    #[test]
    fn an_empty_table_starts_at_the_start_value_not_two() {
        let empty = Fed::default();
        assert_eq!(asc(1, false).verdict(empty), Verdict::Sound);
        let s = Sequence {
            start: 1000,
            last_value: 1000,
            min: 1,
            ..asc(1000, false)
        };
        assert_eq!(s.verdict(empty), Verdict::Sound);
        // rows below the start value leave the start alone
        assert_eq!(s.verdict(fed(5)), Verdict::Sound);
    }

    #[test]
    fn a_repair_never_moves_a_sequence_backwards() {
        // already ahead of the data: sound, untouched
        assert_eq!(asc(500, true).verdict(fed(100)), Verdict::Sound);
    }

    #[test]
    fn the_increment_is_respected() {
        let s = Sequence {
            increment: 10,
            ..asc(1, false)
        };
        assert_eq!(s.verdict(fed(95)), Verdict::Restart(105));
    }

    #[test]
    fn descending_sequences_mirror_with_minima() {
        let s = Sequence {
            start: -1,
            increment: -1,
            min: i64::MIN,
            max: -1,
            last_value: -1,
            is_called: false,
        };
        let data = Fed {
            max: Some(-1),
            min: Some(-50),
        };
        assert_eq!(s.verdict(data), Verdict::Restart(-51));
        assert_eq!(
            Sequence {
                last_value: -51,
                ..s
            }
            .verdict(data),
            Verdict::Sound
        );
    }

    #[test]
    fn a_value_past_the_type_is_out_of_range_not_wrapped() {
        let s = asc(1, false);
        let full = fed(i64::from(i32::MAX));
        assert_eq!(
            s.verdict(full),
            Verdict::OutOfRange(i128::from(i32::MAX) + 1)
        );
    }

    #[test]
    fn usage_counts_the_narrower_of_column_and_sequence() {
        let s = Sequence {
            max: i64::MAX,
            ..asc(1_900_000_000, true)
        };
        assert!(s.used(type_bounds("integer")) > 0.8);
        assert!(s.used(type_bounds("bigint")) < 0.01);
    }

    #[test]
    fn first_values_follow_the_data_and_never_start_below_one() {
        assert_eq!(first_value(None), 1);
        assert_eq!(first_value(Some(41)), 42);
        assert_eq!(first_value(Some(-5)), 1);
    }
}
