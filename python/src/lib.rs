//! The native half of the `classification_model` Python package (the
//! wheel `classification-model-rs`): the model crate's embedded model,
//! fed with Arrow arrays, pandas columns or Python records. The Python
//! half (`python/python/classification_model`) picks the path by the
//! input's type and shapes the answer.
//!
//! Every rule (fields, parsing, scoring, explanations) is the crate's;
//! this layer only moves values across, and releases the GIL to score.

mod columns;
mod objects;
mod output;
mod problems;
mod scoring;

use arrow_array::{RecordBatch, make_array};
use arrow_pyarrow::{FromPyArrow, ToPyArrow};
use classification_model::schema::{FIELDS, column_names, feature_specs};
use classification_model::{FieldValue, Model, PredictOptions};
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};

use columns::{Cells, Columns};
use problems::{Problem, ValidationError, validation_error};

/// The embedded model, or a `RuntimeError` saying why there is none.
fn model() -> PyResult<&'static Model> {
    Model::embedded().map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

fn options(explain: bool, threshold: f64) -> PyResult<PredictOptions> {
    if !(0.0..=1.0).contains(&threshold) {
        return Err(PyValueError::new_err(format!(
            "threshold must be a number from 0 to 1, got {threshold}"
        )));
    }
    Ok(PredictOptions { explain, threshold })
}

/// Scores `columns` with the GIL released; the answer as a
/// `pyarrow.RecordBatch`.
fn answer<'py>(
    py: Python<'py>,
    columns: Result<Columns, Vec<Problem>>,
    options: PredictOptions,
) -> PyResult<Bound<'py, PyAny>> {
    let model = model()?;
    let columns = columns.map_err(|p| validation_error(py, &p))?;
    let scored = py
        .detach(|| scoring::score(model, &columns, &options))
        .map_err(|p| validation_error(py, &p))?;
    let batch = output::batch(scored).map_err(|e| PyRuntimeError::new_err(e.to_string()))?;
    batch.to_pyarrow(py)
}

/// Scores an Arrow record batch (anything with `__arrow_c_array__`, such as
/// a `pyarrow.RecordBatch`), reading its columns in place.
#[pyfunction]
#[pyo3(signature = (batch, *, explain = false, threshold = 0.5))]
fn predict_arrow<'py>(
    py: Python<'py>,
    batch: &Bound<'py, PyAny>,
    explain: bool,
    threshold: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let options = options(explain, threshold)?;
    let batch = RecordBatch::from_pyarrow_bound(batch)
        .map_err(|e| PyTypeError::new_err(format!("expected an Arrow record batch: {e}")))?;
    answer(py, Columns::of_batch(&batch), options)
}

/// Scores named columns of `rows` rows: each a list of Python values, or an
/// Arrow array (anything with `__arrow_c_array__`).
#[pyfunction]
#[pyo3(signature = (names, columns, rows, *, explain = false, threshold = 0.5))]
fn predict_columns<'py>(
    py: Python<'py>,
    names: Vec<String>,
    columns: Vec<Bound<'py, PyAny>>,
    rows: usize,
    explain: bool,
    threshold: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let options = options(explain, threshold)?;
    if names.len() != columns.len() {
        return Err(PyValueError::new_err("one name per column"));
    }
    let mut named = Vec::with_capacity(names.len());
    for (name, column) in names.into_iter().zip(columns) {
        let cells = if let Ok(list) = column.cast::<PyList>() {
            Cells::Values(list.iter().map(|v| objects::field_value(&v)).collect())
        } else {
            let data = arrow_data::ArrayData::from_pyarrow_bound(&column).map_err(|e| {
                PyTypeError::new_err(format!(
                    "column {name:?} is neither a list nor an Arrow array: {e}"
                ))
            })?;
            Cells::Arrow(make_array(data))
        };
        named.push((name, cells));
    }
    answer(py, Columns::new(rows, named), options)
}

/// Scores records: an iterable of dicts keyed by the dataset's column names,
/// as the API's JSON records are.
#[pyfunction]
#[pyo3(signature = (records, *, explain = false, threshold = 0.5))]
fn predict_records<'py>(
    py: Python<'py>,
    records: &Bound<'py, PyAny>,
    explain: bool,
    threshold: f64,
) -> PyResult<Bound<'py, PyAny>> {
    let options = options(explain, threshold)?;
    let mut values: Vec<Vec<FieldValue>> = vec![Vec::new(); FIELDS.len()];
    let mut problems = Vec::new();
    let mut rows = 0;
    for (row, record) in records.try_iter()?.enumerate() {
        let record = record?;
        rows += 1;
        for column in &mut values {
            column.push(FieldValue::Missing);
        }
        let Ok(record) = record.cast::<PyDict>() else {
            problems.push(Problem {
                row: Some(row),
                field: "record".into(),
                message: format!(
                    "must be a dict keyed by the dataset's column names, got {}",
                    record
                        .get_type()
                        .name()
                        .map_or("?".into(), |n| n.to_string())
                ),
            });
            continue;
        };
        for (key, value) in record.iter() {
            let key = match key.cast::<PyString>() {
                Ok(k) => k.to_cow()?.into_owned(),
                Err(_) => key.str()?.to_cow()?.into_owned(),
            };
            match classification_model::schema::Column::of(&key) {
                Some(column) => {
                    if let Some(i) = column.field_index() {
                        values[i][row] = objects::field_value(&value);
                    }
                }
                None => problems.push(Problem {
                    row: Some(row),
                    message: classification_model::schema::KeyProblem::Unknown(key.clone())
                        .message(),
                    field: key,
                }),
            }
        }
    }
    if !problems.is_empty() {
        return Err(validation_error(py, &problems));
    }
    let named = FIELDS
        .iter()
        .zip(values)
        .map(|(f, v)| (f.name.to_owned(), Cells::Values(v)))
        .collect();
    answer(py, Columns::new(rows, named), options)
}

/// The model version this package carries.
#[pyfunction]
fn model_version() -> &'static str {
    classification_model::model_version()
}

/// The input fields and their rules as JSON, in the dataset's column order:
/// what the API's `/model` lists as its `features`.
#[pyfunction]
fn fields_json() -> PyResult<String> {
    serde_json::to_string(&feature_specs()).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

/// The names a column may have: the fields, then the dataset's ignored
/// columns.
#[pyfunction(name = "column_names")]
fn column_names_() -> Vec<&'static str> {
    column_names().collect()
}

/// The model card as JSON: name, version, format revision, training
/// configuration, training data (with its SHA-256) and metrics.
#[pyfunction]
fn model_card_json() -> PyResult<String> {
    let artifact = model()?.artifact();
    let card = serde_json::json!({
        "name": artifact.model_name(),
        "version": artifact.model_version(),
        "format_revision": artifact.format_revision(),
        "config": artifact.config(),
        "training_data": artifact.training_data(),
        "metrics": artifact.metrics(),
    });
    serde_json::to_string(&card).map_err(|e| PyRuntimeError::new_err(e.to_string()))
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(predict_arrow, m)?)?;
    m.add_function(wrap_pyfunction!(predict_columns, m)?)?;
    m.add_function(wrap_pyfunction!(predict_records, m)?)?;
    m.add_function(wrap_pyfunction!(model_version, m)?)?;
    m.add_function(wrap_pyfunction!(fields_json, m)?)?;
    m.add_function(wrap_pyfunction!(column_names_, m)?)?;
    m.add_function(wrap_pyfunction!(model_card_json, m)?)?;
    m.add("ValidationError", m.py().get_type::<ValidationError>())?;
    Ok(())
}
