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
    /// Rows of the file without a label (blank or `?`), left out.
    pub unlabelled: usize,
}

impl Dataset {
    /// The passengers, in file order, as read.
    pub fn passengers(&self) -> &[Passenger] {
        self.batch.passengers()
    }

    /// The passengers, checked: what prediction takes, as it is.
    pub fn batch(&self) -> &CheckedBatch<'static> {
        &self.batch
    }

    /// The passengers prepared for the pipeline, in file order.
    pub(crate) fn records(&self) -> Vec<Record<'_>> {
        self.batch.records().collect()
    }
}

/// Reads a labelled dataset from CSV with the dataset's header.
///
/// Every column must be a dataset column; `survived` must be 0 or 1, or
/// missing (blank or `?`: the row is left out, and counted); every labelled
/// passenger valid. Errors name the data row (0-based, as in the file) and
/// the field.
pub fn read_dataset(csv_bytes: &[u8]) -> Result<Dataset> {
    read_dataset_from(csv_bytes)
}

/// [`read_dataset`] from a reader (a file), as its bytes arrive: the text is
/// never held whole beside the values read from it.
pub fn read_dataset_from(source: impl std::io::Read) -> Result<Dataset> {
    let rows = read_csv(source, Some(LABEL.name), usize::MAX)?;
    let mut errors = Vec::new();
    let mut survived = Vec::with_capacity(rows.labels.len());
    // the file's row of each passenger kept
    let mut file_rows = Vec::with_capacity(rows.labels.len());
    let mut kept = Vec::with_capacity(rows.passengers.len());
    for (row, (label, passenger)) in rows.labels.iter().zip(rows.passengers).enumerate() {
        match LABEL.check(label) {
            Ok(Checked::Number(n)) => {
                survived.push(u8::from(n == 1.0));
                file_rows.push(row);
                kept.push(passenger);
            }
            Ok(_) => {}
            Err(message) => {
                errors.push(FieldError::new(row, LABEL.name, message));
                file_rows.push(row);
                kept.push(passenger);
            }
        }
    }
    let unlabelled = rows.labels.len() - file_rows.len();
    if kept.is_empty() {
        return Err(Error::Data(match unlabelled {
            0 => "the dataset has no rows".into(),
            n => format!(
                "the dataset has no labelled rows ({n} without a {})",
                LABEL.name
            ),
        }));
    }
    // each record is checked here, once: training takes the batch as it is
    let batch = match CheckedBatch::new(kept) {
        Ok(batch) => Some(batch),
        Err(Error::Invalid(e)) => {
            errors.extend(e.0.into_iter().map(|mut error| {
                error.row = file_rows[error.row];
                error
            }));
            None
        }
        Err(other) => return Err(other),
    };
    match batch {
        Some(batch) if errors.is_empty() => Ok(Dataset {
            batch,
            survived,
            unlabelled,
        }),
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
        assert_eq!(data.batch().len(), 1309);
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
        // a row without a label is left out and counted; rows keep the file's numbers
        let csv = "pclass,survived,sex,sibsp,parch\n1,,female,0,0\n1,1,female,0,0\n9,0,male,0,0\n";
        let err = read_dataset(csv.as_bytes()).unwrap_err();
        assert_eq!(err.field_errors().unwrap()[0].row, 2);
        let data = read_dataset(csv.replace("9,0", "3,0").as_bytes()).unwrap();
        assert_eq!(
            (data.survived.as_slice(), data.unlabelled),
            (&[1u8, 0][..], 1)
        );
        let none = read_dataset(b"pclass,survived,sex,sibsp,parch\n1,?,male,0,0\n").unwrap_err();
        assert!(
            none.to_string().contains("no labelled rows (1 without"),
            "{none}"
        );
        assert!(read_dataset(b"pclass,sex,sibsp,parch\n1,male,0,0\n").is_err());
    }
}
