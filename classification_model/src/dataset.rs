//! Reading a labelled dataset: the same CSV reader and field rules as
//! prediction, plus the `survived` label, checked once into the
//! [`CheckedBatch`] that training takes as it is.

use crate::checked::CheckedBatch;
use crate::data_preparation::Record;
use crate::errors::{Error, FieldError, FieldErrors, Result};
use crate::fields::LABEL;
use crate::passenger::{Passenger, read_csv};
use crate::value::Checked;

/// A labelled dataset, checked: passengers and whether each survived.
#[derive(Debug, Clone, PartialEq)]
pub struct Dataset {
    /// The passengers, in file order, checked.
    batch: CheckedBatch<'static>,
    /// `survived` (0 or 1) for each passenger.
    pub survived: Vec<u8>,
}

impl Dataset {
    /// The passengers, in file order, as read.
    pub fn passengers(&self) -> &[Passenger] {
        self.batch.passengers()
    }

    /// The passengers prepared for the pipeline, in file order.
    pub(crate) fn records(&self) -> Vec<Record<'_>> {
        self.batch.records().collect()
    }
}

/// Reads a labelled dataset from CSV with the dataset's header.
///
/// Every column must be a dataset column; `survived` must be 0 or 1 on every
/// row, and every passenger valid. Errors name the data row (0-based) and
/// the field.
pub fn read_dataset(csv_bytes: &[u8]) -> Result<Dataset> {
    let rows = read_csv(csv_bytes, Some(LABEL.name), usize::MAX)?;
    let mut errors = Vec::new();
    let mut survived = Vec::with_capacity(rows.labels.len());
    for (row, label) in rows.labels.iter().enumerate() {
        match LABEL.required().check(label) {
            Ok(Checked::Number(n)) => survived.push(u8::from(n == 1.0)),
            Ok(_) => {}
            Err(message) => errors.push(FieldError::new(row, LABEL.name, message)),
        }
    }
    if rows.passengers.is_empty() {
        return Err(Error::Data("the dataset has no rows".into()));
    }
    // each record is checked here, once: training takes the batch as it is
    let batch = match CheckedBatch::new(rows.passengers) {
        Ok(batch) => Some(batch),
        Err(Error::Invalid(e)) => {
            errors.extend(e.0);
            None
        }
        Err(other) => return Err(other),
    };
    match batch {
        Some(batch) if errors.is_empty() => Ok(Dataset { batch, survived }),
        _ => {
            errors.sort_by_key(|e| e.row);
            Err(Error::Invalid(FieldErrors(errors)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_committed_dataset() {
        let data = read_dataset(include_bytes!("../datasets/titanic.csv")).unwrap();
        assert_eq!(data.passengers().len(), 1309);
        assert_eq!(data.records().len(), 1309);
        assert_eq!(data.survived.iter().filter(|s| **s == 1).count(), 500);
    }

    #[test]
    fn dataset_errors_name_row_and_field() {
        let csv = "pclass,survived,sex,sibsp,parch\n1,1,female,0,0\n4,2,male,0,0\n";
        let err = read_dataset(csv.as_bytes()).unwrap_err();
        let fields: Vec<_> = err
            .field_errors()
            .unwrap()
            .iter()
            .map(|e| (e.row, e.field.as_str()))
            .collect();
        assert_eq!(fields, [(1, "survived"), (1, "pclass")]);
        assert!(read_dataset(b"pclass,Survived\n1,1\n").is_err());
        assert!(read_dataset(b"pclass,sex,sibsp,parch\n1,male,0,0\n").is_err());
    }
}
