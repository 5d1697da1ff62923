//! Input as columns: Arrow arrays (read in place) or Python values already
//! read into [`FieldValue`]s, named by the dataset's columns. Each chunk of
//! rows is written into reused [`Passenger`]s, so reading allocates nothing
//! per row once the buffers are warm. Which values a field accepts is the
//! model crate's business: a cell only becomes the raw value it is.

use std::sync::Arc;

use arrow_array::cast::AsArray;
use arrow_array::types::{
    Float16Type, Float32Type, Float64Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type,
    UInt16Type, UInt32Type, UInt64Type,
};
use arrow_array::{Array, ArrayRef, ArrowPrimitiveType, PrimitiveArray, RecordBatch};
use arrow_schema::DataType;
use classification_model::schema::{Column, FIELDS, KeyProblem};
use classification_model::{FieldValue, Passenger};

use crate::problems::Problem;

/// The cells of one column.
pub enum Cells {
    /// An Arrow array of a type [`supported`] accepts.
    Arrow(ArrayRef),
    /// Values read from Python objects.
    Values(Vec<FieldValue>),
    /// A dictionary-encoded Arrow array (a pandas categorical): each row's
    /// index into `values` (`None` for a null).
    Keyed {
        keys: Vec<Option<usize>>,
        values: ArrayRef,
    },
}

impl Cells {
    fn len(&self) -> usize {
        match self {
            Cells::Arrow(a) => a.len(),
            Cells::Values(v) => v.len(),
            Cells::Keyed { keys, .. } => keys.len(),
        }
    }
}

/// Named columns of equal length, each a feature field's.
pub struct Columns {
    rows: usize,
    /// `(index in FIELDS, cells)`; the dataset's ignored columns are dropped.
    fields: Vec<(usize, Cells)>,
}

impl Columns {
    /// Checks the names and types of `columns`: every problem at once, each
    /// naming its column (an unknown or repeated name, a required field
    /// absent, an Arrow type no field can hold).
    pub fn new(rows: usize, columns: Vec<(String, Cells)>) -> Result<Columns, Vec<Problem>> {
        let mut problems = Vec::new();
        let mut fields = Vec::new();
        let mut seen = 0u64;
        for (name, cells) in columns {
            let Some(column) = Column::of(&name) else {
                let message = KeyProblem::Unknown(name.clone()).message();
                problems.push(Problem::column(name, message));
                continue;
            };
            if seen & (1 << column.position()) != 0 {
                let message = format!("the data has column {name:?} twice");
                problems.push(Problem::column(name, message));
                continue;
            }
            seen |= 1 << column.position();
            if cells.len() != rows {
                let message = format!("has {} values for {rows} rows", cells.len());
                problems.push(Problem::column(name, message));
                continue;
            }
            if let Cells::Arrow(array) = &cells
                && let Err(kind) = supported(array.data_type())
            {
                let message = format!(
                    "has Arrow type {kind}, which no field takes: give numbers or text \
                     (with nulls for missing values)"
                );
                problems.push(Problem::column(name, message));
                continue;
            }
            if let Some(index) = column.field_index() {
                fields.push((index, keyed(cells)));
            }
        }
        for (index, field) in FIELDS.iter().enumerate() {
            let given = fields.iter().any(|(i, _)| *i == index);
            let named = problems.iter().any(|p| p.field == field.name);
            if field.required && !given && !named {
                problems.push(Problem::column(
                    field.name.to_owned(),
                    format!(
                        "the data has no such column, and it is required: {}",
                        field.expected()
                    ),
                ));
            }
        }
        if problems.is_empty() {
            Ok(Columns { rows, fields })
        } else {
            Err(problems)
        }
    }

    /// The columns of an Arrow record batch.
    pub fn of_batch(batch: &RecordBatch) -> Result<Columns, Vec<Problem>> {
        let schema = batch.schema();
        let columns = schema
            .fields()
            .iter()
            .zip(batch.columns())
            .map(|(f, a)| (f.name().clone(), Cells::Arrow(Arc::clone(a))))
            .collect();
        Columns::new(batch.num_rows(), columns)
    }

    /// Number of rows.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// Writes rows `start..start + out.len()` into `out`, reusing its text
    /// buffers (`out` may hold an earlier call's rows): fields with no
    /// column become missing.
    pub fn fill(&self, start: usize, out: &mut [Passenger]) {
        for index in 0..FIELDS.len() {
            if !self.fields.iter().any(|(i, _)| *i == index) {
                for slot in out.iter_mut().filter_map(|p| p.value_mut(index)) {
                    *slot = FieldValue::Missing;
                }
            }
        }
        for (index, cells) in &self.fields {
            let slots = out.iter_mut().filter_map(|p| p.value_mut(*index));
            match cells {
                Cells::Values(values) => {
                    for (slot, value) in slots.zip(&values[start..]) {
                        match value {
                            FieldValue::Text(t) => set_text(slot, t),
                            other => other.clone_into(slot),
                        }
                    }
                }
                Cells::Arrow(array) => fill_arrow(array.as_ref(), start, slots),
                Cells::Keyed { keys, values } => {
                    let mut one = [FieldValue::Missing];
                    for (slot, key) in slots.zip(&keys[start..]) {
                        match key {
                            Some(k) => {
                                fill_arrow(values.as_ref(), *k, one.iter_mut());
                                match &one[0] {
                                    FieldValue::Text(t) => set_text(slot, t),
                                    other => other.clone_into(slot),
                                }
                            }
                            None => *slot = FieldValue::Missing,
                        }
                    }
                }
            }
        }
    }
}

/// A dictionary-encoded array as [`Cells::Keyed`], read once.
fn keyed(cells: Cells) -> Cells {
    match cells {
        Cells::Arrow(array) if matches!(array.data_type(), DataType::Dictionary(..)) => {
            let dict = array.as_any_dictionary();
            let values = Arc::clone(dict.values());
            let keys = dict
                .normalized_keys()
                .into_iter()
                .enumerate()
                .map(|(i, k)| (array.is_valid(i) && values.is_valid(k)).then_some(k))
                .collect();
            Cells::Keyed { keys, values }
        }
        other => other,
    }
}

/// Whether an Arrow type can carry a field's raw values; `Err` with its
/// name when not.
fn supported(t: &DataType) -> Result<(), String> {
    match t {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::UInt8
        | DataType::UInt16
        | DataType::UInt32
        | DataType::UInt64
        | DataType::Float16
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::LargeUtf8
        | DataType::Utf8View => Ok(()),
        DataType::Dictionary(key, value) if key.is_dictionary_key_type() => {
            supported(value).map_err(|_| t.to_string())
        }
        other => Err(other.to_string()),
    }
}

/// Text into `slot`, keeping the buffer it may already hold.
fn set_text(slot: &mut FieldValue, text: &str) {
    match slot {
        FieldValue::Text(s) => {
            s.clear();
            s.push_str(text);
        }
        _ => *slot = FieldValue::Text(text.to_owned()),
    }
}

fn fill_arrow<'a>(
    array: &dyn Array,
    start: usize,
    slots: impl Iterator<Item = &'a mut FieldValue>,
) {
    fn numbers<'a, T: ArrowPrimitiveType>(
        a: &PrimitiveArray<T>,
        start: usize,
        slots: impl Iterator<Item = &'a mut FieldValue>,
        as_f64: impl Fn(T::Native) -> f64,
    ) {
        for (i, slot) in (start..).zip(slots) {
            if a.is_valid(i) {
                *slot = FieldValue::from_column(as_f64(a.value(i)));
            } else {
                *slot = FieldValue::Missing;
            }
        }
    }
    macro_rules! texts {
        ($a:expr) => {{
            let a = $a;
            for (i, slot) in (start..).zip(slots) {
                if a.is_valid(i) {
                    set_text(slot, a.value(i));
                } else {
                    *slot = FieldValue::Missing;
                }
            }
        }};
    }
    match array.data_type() {
        DataType::Boolean => {
            for (i, slot) in (start..).zip(slots) {
                *slot = if array.is_valid(i) {
                    FieldValue::Invalid("a boolean")
                } else {
                    FieldValue::Missing
                };
            }
        }
        DataType::Int8 => numbers(array.as_primitive::<Int8Type>(), start, slots, f64::from),
        DataType::Int16 => numbers(array.as_primitive::<Int16Type>(), start, slots, f64::from),
        DataType::Int32 => numbers(array.as_primitive::<Int32Type>(), start, slots, f64::from),
        DataType::Int64 => numbers(array.as_primitive::<Int64Type>(), start, slots, |v| {
            v as f64
        }),
        DataType::UInt8 => numbers(array.as_primitive::<UInt8Type>(), start, slots, f64::from),
        DataType::UInt16 => numbers(array.as_primitive::<UInt16Type>(), start, slots, f64::from),
        DataType::UInt32 => numbers(array.as_primitive::<UInt32Type>(), start, slots, f64::from),
        DataType::UInt64 => numbers(array.as_primitive::<UInt64Type>(), start, slots, |v| {
            v as f64
        }),
        DataType::Float16 => numbers(array.as_primitive::<Float16Type>(), start, slots, f64::from),
        DataType::Float32 => numbers(array.as_primitive::<Float32Type>(), start, slots, f64::from),
        DataType::Float64 => numbers(array.as_primitive::<Float64Type>(), start, slots, |v| v),
        DataType::Utf8 => texts!(array.as_string::<i32>()),
        DataType::LargeUtf8 => texts!(array.as_string::<i64>()),
        DataType::Utf8View => texts!(array.as_string_view()),
        // Null; dictionaries are keyed first, and `supported` refuses the
        // rest before any row is read
        _ => {
            for slot in slots {
                *slot = FieldValue::Missing;
            }
        }
    }
}
