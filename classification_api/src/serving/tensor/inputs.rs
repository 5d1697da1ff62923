//! Input tensors, whichever protocol brought them (REST's JSON and binary
//! data, gRPC's messages), read into a [`Batch`] by MLServer's pandas
//! convention: one input per dataset column, `[N]` or `[N, 1]`, missing
//! values as `null` (or NaN).

use std::borrow::Cow;

use classification_model::schema::{Column, FIELDS};
use classification_model::{FieldValue, Passenger};

use crate::serving::batch::Batch;
use crate::serving::errors::{ErrorItem, RequestError, shorten};
use crate::serving::ids::{ID_KEY, check_ids};
use crate::serving::tensor::datatype::{self, Datatype, Elements, INPUT_DATATYPES};

/// A problem with the request's inputs as a whole.
pub fn bad(field: &str, message: impl Into<String>) -> RequestError {
    RequestError::BadRequest(vec![ErrorItem::field(field, message)])
}

/// A problem with one input as a whole: `input "age" has ...`.
fn bad_input(name: &str, message: impl std::fmt::Display) -> RequestError {
    RequestError::BadRequest(vec![input_item(name, message)])
}

fn input_item(name: &str, message: impl std::fmt::Display) -> ErrorItem {
    ErrorItem::message(format!("input {:?} {message}", shorten(name)))
}

/// One input tensor, whichever protocol brought it (REST's JSON, or gRPC).
#[derive(Debug)]
pub struct Tensor<'a> {
    /// The input's name: a dataset column, or `id`.
    pub name: Cow<'a, str>,
    /// Its shape: `[N]` or `[N, 1]`.
    pub shape: Vec<i64>,
    /// Its datatype's protocol name.
    pub datatype: Cow<'a, str>,
    /// Its values.
    pub data: TensorData<'a>,
}

/// An input tensor's values, as its protocol carries them.
#[derive(Debug)]
pub enum TensorData<'a> {
    /// Elements (REST's JSON `data`, gRPC's typed `contents`).
    Elements(Elements),
    /// Triton's binary encoding (REST's binary part, gRPC's raw contents).
    Binary(&'a [u8]),
    /// No usable values: what is wrong, said of the input.
    Unusable(String),
}

/// The passengers and ids the input tensors give, one tensor per dataset
/// column (and `id`), of at most `max_rows` rows (413 beyond, before
/// anything is allocated). `leftover` counts binary bytes no input took.
pub fn columns(
    tensors: Vec<Tensor<'_>>,
    max_rows: usize,
    leftover: usize,
) -> Result<Batch, RequestError> {
    let n = rows(&tensors)?;
    if n > max_rows {
        return Err(RequestError::TooLarge(ErrorItem::field(
            "inputs",
            format!(
                "have {n} rows, more than the {max_rows} one request may carry: split the batch"
            ),
        )));
    }
    let mut passengers = vec![Passenger::default(); n];
    let mut ids = None;
    // the columns given, as bits (Column::bit), and whether `id` was
    let (mut seen, mut seen_id) = (0u32, false);
    let mut items = Vec::new();
    for input in tensors {
        let name = input.name.as_ref();
        let column = Column::of(name);
        if column.is_none() && name != ID_KEY {
            return Err(bad_input(
                name,
                format!(
                    "is no input of this model: the inputs are the dataset's columns ({}) and {ID_KEY}",
                    classification_model::schema::column_names()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        let repeated = match column {
            Some(c) => {
                let bit = 1u32 << c.position();
                let before = seen;
                seen |= bit;
                before & bit != 0
            }
            None => std::mem::replace(&mut seen_id, true),
        };
        if repeated {
            return Err(bad_input(name, "is given more than once"));
        }
        let datatype = Datatype::parse(&input.datatype).ok_or_else(|| {
            bad_input(
                name,
                format!(
                    "has datatype {:?}: send {INPUT_DATATYPES}",
                    shorten(&input.datatype)
                ),
            )
        })?;
        if column.is_none() {
            ids = Some(vec![None; n]);
        }
        match input.data {
            TensorData::Unusable(why) => return Err(bad_input(name, why)),
            TensorData::Binary(data) => {
                let values =
                    datatype::binary_values(datatype, n, data).map_err(|e| bad_input(name, e))?;
                for (row, v) in values.into_iter().enumerate() {
                    place(column, row, v, &mut passengers, &mut ids, &mut items);
                }
            }
            TensorData::Elements(Elements(elements)) => {
                if elements.len() != n {
                    return Err(bad_input(
                        name,
                        format!("has {} values for its shape's {n} rows", elements.len()),
                    ));
                }
                for (row, element) in elements.into_iter().enumerate() {
                    match datatype::json_value(datatype, element) {
                        Ok(v) => place(column, row, v, &mut passengers, &mut ids, &mut items),
                        Err(e) => items.push(ErrorItem::at(row, name, e)),
                    }
                }
            }
        }
    }
    if leftover > 0 {
        return Err(bad(
            "body",
            format!(
                "has {leftover} bytes of binary data that no input's binary_data_size accounts for"
            ),
        ));
    }
    if !items.is_empty() {
        return Err(RequestError::BadRequest(items));
    }
    let missing: Vec<ErrorItem> = FIELDS
        .iter()
        .enumerate()
        // a feature field's position among the columns is its index
        .filter(|(i, f)| f.required && seen & (1u32 << i) == 0)
        .map(|(_, f)| f)
        .map(|f| input_item(f.name, format!("is required: {}", f.expected())))
        .collect();
    if !missing.is_empty() {
        return Err(RequestError::BadRequest(missing));
    }
    let ids = check_ids(
        ids.unwrap_or_else(|| vec![None; n])
            .iter()
            .map(Option::as_deref),
    )?;
    Ok(Batch {
        passengers,
        ids,
        lines: None,
    })
}

/// The number of rows every input's shape gives, `[N]` or `[N, 1]` alike.
fn rows(inputs: &[Tensor<'_>]) -> Result<usize, RequestError> {
    let mut n: Option<(usize, &str)> = None;
    for input in inputs {
        let rows = match input.shape.as_slice() {
            [rows] | [rows, 1] => usize::try_from(*rows).ok(),
            _ => None,
        }
        .ok_or_else(|| {
            bad_input(
                &input.name,
                format!(
                    "has shape {:?}: send [N] or [N, 1], N rows of one column",
                    input.shape
                ),
            )
        })?;
        match n {
            Some((first, first_name)) if first != rows => {
                return Err(bad_input(
                    &input.name,
                    format!(
                        "has {rows} rows, but input {first_name:?} has {first}: every input must have the same"
                    ),
                ));
            }
            Some(_) => {}
            None => n = Some((rows, &input.name)),
        }
    }
    n.map(|(rows, _)| rows)
        .ok_or_else(|| bad("inputs", "is empty: send one input per column"))
}

/// Puts one value where its input goes: a passenger's field, a record's
/// id (`column` is `None`: text, or missing for none), or nowhere (an
/// ignored column).
fn place(
    column: Option<Column>,
    row: usize,
    value: FieldValue,
    passengers: &mut [Passenger],
    ids: &mut Option<Vec<Option<String>>>,
    items: &mut Vec<ErrorItem>,
) {
    match column {
        Some(column) => {
            let slot = column
                .field_index()
                .and_then(|i| passengers.get_mut(row).and_then(|p| p.value_mut(i)));
            if let Some(slot) = slot {
                *slot = value;
            }
        }
        None => {
            let id = match value {
                FieldValue::Missing => None,
                FieldValue::Text(t) => Some(t),
                _ => {
                    items.push(ErrorItem::at(
                        row,
                        ID_KEY,
                        "must be text (BYTES): a record's id",
                    ));
                    None
                }
            };
            if let Some(slot) = ids.as_mut().and_then(|ids| ids.get_mut(row)) {
                *slot = id;
            }
        }
    }
}
