//! Check once: a batch whose every record passed the field table's rules,
//! in a form every later step takes as it is (scoring, explanations, drift
//! bins, the stored form). Nothing is checked twice.

use std::borrow::Cow;

use crate::data_preparation::{Record, title_of};
use crate::errors::{Error, FieldError, FieldErrors};
use crate::fields::{FIELDS, Kind, N_FIELDS, Passenger, TABLE};
use crate::value::{Checked, FieldValue};

/// One checked value, owning nothing: text stays in its passenger.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Value {
    Missing,
    Number(f64),
    Label(&'static str),
    /// The passenger's own text for this field.
    Text,
}

/// A batch of passengers that passed every field rule, and what the checks
/// found. Build one with [`CheckedBatch::new`] (or
/// [`Model::predict`](crate::Model::predict), which checks then scores).
/// Built from a `Vec` it owns its passengers, so it can go on to another
/// thread (a shadow model) and be scored again without another check; built
/// from a slice it borrows them.
///
/// ```
/// use classification_model::{CheckedBatch, Model, Passenger};
///
/// let p = Passenger { pclass: 3.into(), sex: "male".into(), sibsp: 0.into(),
///                     parch: "0".into(), ..Default::default() };
/// let batch = CheckedBatch::new(vec![p])?;
/// let model = Model::embedded()?;
/// let scored = model.score(&batch, &Default::default());
/// assert_eq!(scored[0].label, 0);
/// # Ok::<(), classification_model::Error>(())
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct CheckedBatch<'a> {
    passengers: Cow<'a, [Passenger]>,
    values: Vec<[Value; N_FIELDS]>,
}

/// A field's value in the form a store keeps: typed by the field's kind.
#[derive(Debug, Clone, PartialEq)]
pub enum Stored<'a> {
    /// No value.
    Missing,
    /// A whole-number field's value.
    Integer(i64),
    /// A number field's value.
    Number(f64),
    /// A choice's label (as the field table writes it) or free text (as given).
    Text(std::borrow::Cow<'a, str>),
}

impl<'a> CheckedBatch<'a> {
    /// Checks every passenger; on failure lists every invalid field of
    /// every row (and checks nothing again later).
    pub fn new(passengers: impl Into<Cow<'a, [Passenger]>>) -> Result<CheckedBatch<'a>, Error> {
        let passengers = passengers.into();
        let mut errors = Vec::new();
        let values = passengers
            .iter()
            .enumerate()
            .map(|(row, p)| check_row(row, p, &mut errors))
            .collect();
        if errors.is_empty() {
            Ok(CheckedBatch { passengers, values })
        } else {
            Err(Error::Invalid(FieldErrors(errors)))
        }
    }

    /// Number of passengers.
    pub fn len(&self) -> usize {
        self.passengers.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.passengers.is_empty()
    }

    /// The passengers, as given.
    pub fn passengers(&self) -> &[Passenger] {
        &self.passengers
    }

    /// Row `row`'s checked values, in [`FIELDS`] order.
    fn checked(&self, row: usize) -> [Checked<'_>; N_FIELDS] {
        checked(&self.passengers[row], &self.values[row])
    }

    /// Row `row` prepared for the pipeline.
    pub(crate) fn record(&self, row: usize) -> Record<'_> {
        Record::prepare(self.checked(row))
    }

    /// The prepared records, in order.
    pub(crate) fn records(&self) -> impl Iterator<Item = Record<'_>> + '_ {
        (0..self.len()).map(|row| self.record(row))
    }

    /// Row `row`'s values as a store keeps them, in [`FIELDS`] order: whole
    /// numbers as integers, labels as the table writes them, text as given
    /// (a JSON number given for a text field as its text).
    pub fn stored(&self, row: usize) -> [Stored<'_>; N_FIELDS] {
        let checked = self.checked(row);
        std::array::from_fn(|i| match checked[i] {
            Checked::Missing => Stored::Missing,
            Checked::Number(n) => match FIELDS[i].kind {
                Kind::Integer { .. } => Stored::Integer(n as i64),
                Kind::Text | Kind::Choice(_) => Stored::Text(n.to_string().into()),
                Kind::Number { .. } => Stored::Number(n),
            },
            Checked::Label(l) => Stored::Text(l.into()),
            Checked::Text(t) => Stored::Text(t.into()),
        })
    }

    /// Row `row`'s title (from its name; `None` without one): what a store
    /// that minimises names keeps instead of the name.
    pub fn title(&self, row: usize) -> Option<&'static str> {
        // the name alone, not the whole record prepared again
        let name = crate::fields::index_of("name");
        title_of(&self.checked(row)[name])
    }

    /// The batch, owning its passengers (for another thread).
    pub fn into_owned(self) -> CheckedBatch<'static> {
        CheckedBatch {
            passengers: Cow::Owned(self.passengers.into_owned()),
            values: self.values,
        }
    }
}

/// `p`'s values checked by the field table, each problem pushed to
/// `errors` as row `row` (its value then stands as missing).
#[inline(always)]
fn check_row(row: usize, p: &Passenger, errors: &mut Vec<FieldError>) -> [Value; N_FIELDS] {
    let fields = p.values();
    // one call per field with its index a constant, so that each check is
    // specialised to its field's rules (a loop over the table is not)
    [
        check_at::<0>(row, fields[0], errors),
        check_at::<1>(row, fields[1], errors),
        check_at::<2>(row, fields[2], errors),
        check_at::<3>(row, fields[3], errors),
        check_at::<4>(row, fields[4], errors),
        check_at::<5>(row, fields[5], errors),
        check_at::<6>(row, fields[6], errors),
        check_at::<7>(row, fields[7], errors),
        check_at::<8>(row, fields[8], errors),
    ]
}

/// Field `I`'s value checked, as in [`check_row`].
#[inline(always)]
fn check_at<const I: usize>(row: usize, value: &FieldValue, errors: &mut Vec<FieldError>) -> Value {
    let field = &TABLE[I];
    match field.check(value) {
        Ok(Checked::Missing) => Value::Missing,
        Ok(Checked::Number(n)) => Value::Number(n),
        Ok(Checked::Label(l)) => Value::Label(l),
        Ok(Checked::Text(_)) => Value::Text,
        Err(message) => {
            errors.push(FieldError::new(row, field.name, message));
            Value::Missing
        }
    }
}

/// `p`'s checked values, with its own text where a value is text.
#[inline(always)]
fn checked<'p>(p: &'p Passenger, values: &[Value; N_FIELDS]) -> [Checked<'p>; N_FIELDS] {
    let raw = p.values();
    std::array::from_fn(|i| match values[i] {
        Value::Missing => Checked::Missing,
        Value::Number(n) => Checked::Number(n),
        Value::Label(l) => Checked::Label(l),
        Value::Text => match raw[i] {
            FieldValue::Text(t) => Checked::Text(t),
            _ => Checked::Missing,
        },
    })
}

/// Every problem of one passenger, as row `row`; empty when it is valid.
pub fn check_passenger(row: usize, p: &Passenger) -> Vec<FieldError> {
    match CheckedBatch::new(std::slice::from_ref(p)) {
        Ok(_) => Vec::new(),
        Err(Error::Invalid(errors)) => errors
            .0
            .into_iter()
            .map(|mut e| {
                e.row = row;
                e
            })
            .collect(),
        Err(e) => vec![FieldError::new(row, "record", e.to_string())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> Passenger {
        Passenger {
            pclass: 3.into(),
            sex: "male".into(),
            age: 22.into(),
            sibsp: 1.into(),
            parch: 0.into(),
            fare: 7.25.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_passenger_is_prepared_for_the_pipeline() {
        let p = Passenger {
            sex: " FeMale ".into(),
            embarked: "s".into(),
            cabin: "  C22 C26".into(),
            name: "Allison, Mrs. X".into(),
            sibsp: "2".into(),
            ..valid()
        };
        let batch = CheckedBatch::new(vec![p]).unwrap();
        let r = batch.record(0);
        assert_eq!(r.sex, Some("female"));
        assert_eq!(r.embarked, Some("S"));
        assert_eq!(r.cabin.as_deref(), Some("C22"));
        assert_eq!(r.title, Some("Mrs"));
        assert_eq!(r.sibsp, 2.0);
        let missing = Passenger {
            age: "?".into(),
            fare: FieldValue::Missing,
            cabin: " ".into(),
            embarked: "".into(),
            name: "\t".into(),
            ..valid()
        };
        let batch = CheckedBatch::new(vec![missing]).unwrap();
        let r = batch.record(0);
        assert_eq!(
            (r.age, r.fare, r.cabin, r.embarked, r.title),
            (None, None, None, None, None)
        );
    }

    #[test]
    fn every_problem_is_listed_and_valid_batches_keep_their_text() {
        let good = Passenger {
            pclass: "1".into(),
            name: "Allen, Miss. Elisabeth".into(),
            sex: " FEMALE ".into(),
            age: 29.5.into(),
            sibsp: 0.into(),
            parch: 0.into(),
            cabin: "B5 B7".into(),
            ..Default::default()
        };
        let bad = Passenger {
            pclass: 7.into(),
            sex: "x".into(),
            ..good.clone()
        };
        let Err(Error::Invalid(errors)) = CheckedBatch::new(vec![good.clone(), bad]) else {
            panic!("a bad row passed");
        };
        let at: Vec<_> = errors.0.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(at, [(1, "pclass"), (1, "sex")]);
        let batch = CheckedBatch::new(vec![good]).unwrap();
        let stored = batch.stored(0);
        assert_eq!(stored[0], Stored::Integer(1));
        assert_eq!(stored[1], Stored::Text("Allen, Miss. Elisabeth".into()));
        assert_eq!(stored[2], Stored::Text("female".into()));
        assert_eq!(stored[3], Stored::Number(29.5));
        assert_eq!(stored[7], Stored::Text("B5 B7".into()));
        assert_eq!(stored[8], Stored::Missing);
        assert_eq!(batch.title(0), Some("Miss"));
        assert_eq!(batch.record(0).cabin.as_deref(), Some("B5"));
    }
}
