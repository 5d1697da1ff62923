//! Data preparation: the steps before the pipeline, identical for training
//! and prediction (PIPELINE.md section 2), and reading the dataset.

use std::borrow::Cow;

use crate::errors::{Error, FieldError, FieldErrors, Result};
use crate::passenger::{ALL_FIELDS, Passenger};
use crate::validation;

/// The categorical features, in pipeline order.
pub const CATEGORICAL_FEATURES: [&str; 4] = ["sex", "cabin", "embarked", "title"];

/// The numeric features with missing values (they get indicators and median imputation).
pub const NUMERIC_WITH_MISSING: [&str; 2] = ["age", "fare"];

/// One passenger after validation and preparation: the features the pipeline uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Record<'a> {
    /// Ticket class, 1, 2 or 3.
    pub pclass: f64,
    /// `"male"` or `"female"`.
    pub sex: Option<&'static str>,
    /// Age in years, if known.
    pub age: Option<f64>,
    /// Siblings and spouses aboard.
    pub sibsp: f64,
    /// Parents and children aboard.
    pub parch: f64,
    /// Fare, if known.
    pub fare: Option<f64>,
    /// The first whitespace-separated token of the cabin, if known.
    pub cabin: Option<Cow<'a, str>>,
    /// `"C"`, `"Q"` or `"S"`, if known.
    pub embarked: Option<&'static str>,
    /// The title derived from the name, if there is a name.
    pub title: Option<&'static str>,
}

impl<'a> Record<'a> {
    /// The categorical features in [`CATEGORICAL_FEATURES`] order.
    pub fn categorical(&self) -> [Option<&str>; 4] {
        [self.sex, self.cabin.as_deref(), self.embarked, self.title]
    }

    /// The numeric features in [`NUMERIC_WITH_MISSING`] order.
    pub fn numeric_with_missing(&self) -> [Option<f64>; 2] {
        [self.age, self.fare]
    }
}

/// The title for a name: `Mrs`, `Mr`, `Miss`, `Master` by case-sensitive
/// substring search in that order, else `Other`.
pub fn title(name: &str) -> &'static str {
    // One pass over the `M`s instead of four substring searches; the same
    // answer as testing `name.contains(t)` for each title in turn.
    let (mut mrs, mut mr, mut miss, mut master) = (false, false, false, false);
    let bytes = name.as_bytes();
    for (i, _) in bytes.iter().enumerate().filter(|(_, b)| **b == b'M') {
        let rest = &bytes[i..];
        mr |= rest.starts_with(b"Mr");
        mrs |= rest.starts_with(b"Mrs");
        miss |= rest.starts_with(b"Miss");
        master |= rest.starts_with(b"Master");
    }
    match (mrs, mr, miss, master) {
        (true, ..) => "Mrs",
        (_, true, ..) => "Mr",
        (_, _, true, _) => "Miss",
        (.., true) => "Master",
        _ => "Other",
    }
}

/// The first whitespace-separated token of a cabin; `None` if it is blank.
pub fn cabin_token(cabin: &str) -> Option<&str> {
    cabin.split_whitespace().next()
}

/// A labelled dataset: passengers and whether each survived.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Dataset {
    /// The passengers, in file order.
    pub passengers: Vec<Passenger>,
    /// `survived` (0 or 1) for each passenger.
    pub survived: Vec<u8>,
}

/// Reads a labelled dataset from CSV with the dataset's header.
///
/// Every column must be a dataset column; `survived` must be 0 or 1 on every
/// row. Errors name the data row (0-based) and the field.
pub fn read_dataset(csv_bytes: &[u8]) -> Result<Dataset> {
    let mut reader = csv::Reader::from_reader(csv_bytes);
    let headers = reader
        .headers()
        .map_err(|e| Error::Data(format!("cannot read the header: {e}")))?
        .clone();
    if let Some(unknown) = headers.iter().find(|h| !ALL_FIELDS.contains(h)) {
        return Err(Error::Data(format!(
            "column {unknown:?} is not a dataset column (expected: {})",
            ALL_FIELDS.join(", ")
        )));
    }
    let survived_col = headers
        .iter()
        .position(|h| h == "survived")
        .ok_or_else(|| Error::Data("there is no `survived` column".into()))?;
    let mut data = Dataset::default();
    let mut errors = Vec::new();
    for (row, record) in reader.records().enumerate() {
        let record = record.map_err(|e| Error::Data(format!("row {row}: {e}")))?;
        let passenger: Passenger = record
            .deserialize(Some(&headers))
            .map_err(|e| Error::Data(format!("row {row}: {e}")))?;
        match record.get(survived_col).map(str::trim) {
            Some("0") => data.survived.push(0),
            Some("1") => data.survived.push(1),
            other => errors.push(FieldError::new(
                row,
                "survived",
                format!("must be 0 or 1, got {:?}", other.unwrap_or("")),
            )),
        }
        data.passengers.push(passenger);
    }
    if let Err(e) = validation::validate(&data.passengers) {
        errors.extend(e.0);
    }
    if !errors.is_empty() {
        errors.sort_by_key(|e| e.row);
        return Err(Error::Invalid(FieldErrors(errors)));
    }
    if data.passengers.is_empty() {
        return Err(Error::Data("the dataset has no rows".into()));
    }
    Ok(data)
}

/// SHA-256 of some bytes, as lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_follow_the_reference_order() {
        assert_eq!(title("Allison, Mrs. Hudson"), "Mrs");
        assert_eq!(title("Allison, Mr. Hudson"), "Mr");
        assert_eq!(title("Allen, Miss. Elisabeth"), "Miss");
        assert_eq!(title("Allison, Master. Hudson"), "Master");
        assert_eq!(title("Brewe, Dr. Arthur"), "Other");
        // plain substring search, case-sensitive, Mrs before Mr
        assert_eq!(title("Mrsx Mr"), "Mrs");
        assert_eq!(title("mrs. lower"), "Other");
    }

    #[test]
    fn title_equals_the_substring_definition() {
        let reference = |name: &str| {
            ["Mrs", "Mr", "Miss", "Master"]
                .into_iter()
                .find(|t| name.contains(t))
                .unwrap_or("Other")
        };
        let data = read_dataset(include_bytes!("../datasets/titanic.csv")).unwrap();
        let mut names: Vec<String> = data
            .passengers
            .iter()
            .filter_map(|p| match &p.name {
                crate::FieldValue::Text(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        names.extend(
            [
                "",
                "M",
                "Mr",
                "Mis",
                "Maste",
                "MMrs",
                "xMasterMiss",
                "Ms. Mrx",
                "ÉMr",
            ]
            .map(String::from),
        );
        for name in names {
            assert_eq!(title(&name), reference(&name), "{name:?}");
        }
    }

    #[test]
    fn cabin_is_its_first_token() {
        assert_eq!(cabin_token("C22 C26"), Some("C22"));
        assert_eq!(cabin_token("  F G73"), Some("F"));
        assert_eq!(cabin_token("   "), None);
        assert_eq!(cabin_token(""), None);
    }

    #[test]
    fn reads_the_committed_dataset() {
        let data = read_dataset(include_bytes!("../datasets/titanic.csv")).unwrap();
        assert_eq!(data.passengers.len(), 1309);
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
    }
}
