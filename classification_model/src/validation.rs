//! Validation: raw [`Passenger`]s to prepared [`Record`]s by the field
//! table's rules, or every problem with its row and field. Stricter than the
//! reference (`docs/PIPELINE.md`, "Input rules").

use crate::data_preparation::Record;
use crate::errors::{FieldError, FieldErrors};
use crate::fields::FIELDS;
use crate::passenger::Passenger;
use crate::value::Checked;

/// Validates and prepares every passenger; on failure lists every invalid field.
pub fn validate(passengers: &[Passenger]) -> Result<Vec<Record<'_>>, FieldErrors> {
    let mut records = Vec::with_capacity(passengers.len());
    let mut errors = Vec::new();
    for (row, p) in passengers.iter().enumerate() {
        match validate_one(row, p, &mut errors) {
            Some(r) if errors.is_empty() => records.push(r),
            _ => {}
        }
    }
    if errors.is_empty() {
        Ok(records)
    } else {
        Err(FieldErrors(errors))
    }
}

/// Validates one passenger (row `row`), pushing its problems to `errors`.
/// Returns the prepared record when the passenger is valid.
pub fn validate_one<'a>(
    row: usize,
    p: &'a Passenger,
    errors: &mut Vec<FieldError>,
) -> Option<Record<'a>> {
    let before = errors.len();
    let values = p.values();
    let checked = std::array::from_fn(|i| {
        let field = &FIELDS[i];
        field.check(values[i]).unwrap_or_else(|message| {
            errors.push(FieldError::new(row, field.name, message));
            Checked::Missing
        })
    });
    (errors.len() == before).then(|| Record::prepare(checked))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::value::FieldValue;

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
    fn accepts_a_valid_passenger_and_prepares_it() {
        let p = Passenger {
            sex: " FeMale ".into(),
            embarked: "s".into(),
            cabin: "  C22 C26".into(),
            name: "Allison, Mrs. X".into(),
            sibsp: "2".into(),
            ..valid()
        };
        let r = validate(std::slice::from_ref(&p)).unwrap().remove(0);
        assert_eq!(r.sex, Some("female"));
        assert_eq!(r.embarked, Some("S"));
        assert_eq!(r.cabin.as_deref(), Some("C22"));
        assert_eq!(r.title, Some("Mrs"));
        assert_eq!(r.sibsp, 2.0);
    }

    #[test]
    fn missing_optional_fields_stay_missing() {
        let p = Passenger {
            age: "?".into(),
            fare: FieldValue::Missing,
            cabin: " ".into(),
            embarked: "".into(),
            name: "\t".into(),
            ..valid()
        };
        let r = validate(std::slice::from_ref(&p)).unwrap().remove(0);
        assert_eq!(
            (r.age, r.fare, r.cabin, r.embarked, r.title),
            (None, None, None, None, None)
        );
    }

    #[test]
    fn lists_every_problem_with_row_and_field() {
        let bad = Passenger {
            pclass: 0.into(),
            sex: "x".into(),
            age: (-1).into(),
            ..valid()
        };
        let errors = validate(&[valid(), bad]).unwrap_err().0;
        let at: Vec<(usize, &str)> = errors.iter().map(|e| (e.row, e.field.as_str())).collect();
        assert_eq!(at, [(1, "pclass"), (1, "sex"), (1, "age")]);
    }
}
