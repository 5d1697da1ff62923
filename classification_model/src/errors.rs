//! The crate's error type.

use std::fmt;
use std::path::PathBuf;

use serde::{Deserialize, Serialize};

/// One problem with one input row: which row, which field, and what is wrong.
///
/// `row` is the 0-based index of the passenger in the slice given to
/// [`make_prediction`](crate::make_prediction) (for a CSV file, the 0-based
/// index of the data row, not counting the header).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// 0-based index of the row.
    pub row: usize,
    /// The field (column) at fault, as named in the dataset.
    pub field: String,
    /// What is wrong and what would be accepted.
    pub message: String,
}

impl FieldError {
    /// A new error for `row` and `field`.
    pub fn new(row: usize, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row,
            field: field.into(),
            message: message.into(),
        }
    }
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "row {}, field `{}`: {}",
            self.row, self.field, self.message
        )
    }
}

/// Every invalid field of a batch, in row order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldErrors(pub Vec<FieldError>);

impl fmt::Display for FieldErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} invalid field(s)", self.0.len())?;
        for (i, e) in self.0.iter().enumerate() {
            f.write_str(if i == 0 { ": " } else { "; " })?;
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

/// A problem with a CSV file: its line, and the record's row and the column
/// where there is one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CsvError {
    /// 1-based line of the file (the header is line 1).
    pub line: u64,
    /// 0-based index of the data record, if the problem is in one.
    pub row: Option<usize>,
    /// The column at fault, `header` or `row`.
    pub field: String,
    /// What is wrong.
    pub message: String,
}

impl CsvError {
    pub(crate) fn new(line: u64, row: Option<usize>, field: &str, message: String) -> Self {
        Self {
            line,
            row,
            field: field.to_owned(),
            message,
        }
    }
}

impl fmt::Display for CsvError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, `{}`: {}", self.line, self.field, self.message)
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Some input rows are invalid; every problem is listed.
    #[error("invalid input: {0}")]
    Invalid(FieldErrors),

    /// A file could not be read or written.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },

    /// A CSV file is malformed or its header is wrong; every problem is listed.
    #[error("invalid CSV: {}", list(.0))]
    Csv(Vec<CsvError>),

    /// The input holds more records than the caller allows (see
    /// [`read_passengers_csv_at_most`](crate::csv::read_passengers_csv_at_most)).
    #[error("more than {max_rows} records: split the data")]
    TooManyRows {
        /// The most records allowed.
        max_rows: usize,
    },

    /// The training data cannot be used.
    #[error("training data: {0}")]
    Data(String),

    /// The artifact is not a model this build can use (corrupt, truncated,
    /// inconsistent, or of another format revision or model version).
    #[error("model artifact: {0}")]
    Artifact(String),

    /// Fitting the pipeline failed.
    #[error("training failed: {0}")]
    Training(String),

    /// A version string is not valid semver.
    #[error("invalid version {text:?}: {source}")]
    Version {
        /// The text that was parsed.
        text: String,
        /// The parse error.
        source: semver::Error,
    },
}

impl Error {
    /// The field errors, if this is a validation error.
    pub fn field_errors(&self) -> Option<&[FieldError]> {
        match self {
            Error::Invalid(errors) => Some(&errors.0),
            _ => None,
        }
    }
}

fn list(errors: &[CsvError]) -> String {
    errors
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
