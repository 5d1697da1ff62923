//! Every problem with the input, and the `ValidationError` that carries
//! them to Python: the model crate's row and field errors, and problems
//! of a whole column (a row of `None`).

use std::fmt;

use classification_model::FieldError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

pyo3::create_exception!(
    classification_model,
    ValidationError,
    pyo3::exceptions::PyValueError,
    "The input has invalid rows or columns; `errors` lists every one as a \
     dict with `row` (0-based, or None for a whole column), `field` and `message`."
);

/// One problem: a row's field, or a whole column.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The 0-based row, or `None` when the column itself is at fault.
    pub row: Option<usize>,
    /// The column (field) at fault, as given.
    pub field: String,
    /// What is wrong, in the API's words.
    pub message: String,
}

impl Problem {
    /// A problem with a whole column.
    pub fn column(field: String, message: String) -> Self {
        Problem {
            row: None,
            field,
            message,
        }
    }

    /// The crate's error for row `offset + e.row`.
    pub fn shifted(e: FieldError, offset: usize) -> Self {
        Problem {
            row: Some(offset + e.row),
            field: e.field,
            message: e.message,
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.row {
            Some(row) => write!(f, "row {row}, field `{}`: {}", self.field, self.message),
            None => write!(f, "column `{}`: {}", self.field, self.message),
        }
    }
}

/// The `ValidationError` for `problems`: its message lists the first few,
/// and its `errors` all of them.
pub fn validation_error(py: Python<'_>, problems: &[Problem]) -> PyErr {
    const SHOWN: usize = 10;
    let mut message = format!("invalid input: {} invalid field(s)", problems.len());
    for (i, p) in problems.iter().take(SHOWN).enumerate() {
        message.push_str(if i == 0 { ": " } else { "; " });
        message.push_str(&p.to_string());
    }
    if problems.len() > SHOWN {
        message.push_str(&format!("; and {} more", problems.len() - SHOWN));
    }
    let err = ValidationError::new_err(message);
    let errors = || -> PyResult<Bound<'_, PyList>> {
        let list = PyList::empty(py);
        for p in problems {
            let d = PyDict::new(py);
            d.set_item("row", p.row)?;
            d.set_item("field", &p.field)?;
            d.set_item("message", &p.message)?;
            list.append(d)?;
        }
        Ok(list)
    };
    match errors().and_then(|list| err.value(py).setattr("errors", list)) {
        Ok(()) => err,
        Err(e) => e,
    }
}
