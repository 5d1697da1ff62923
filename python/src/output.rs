//! Scores as an Arrow record batch: `probability`, `prediction` and, when
//! explained, `baseline` and one `contribution_<feature>` column per feature.

use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, RecordBatch, UInt8Array};
use arrow_schema::{ArrowError, DataType, Field, Schema};
use classification_model::schema::features;

use crate::scoring::Scored;

/// The name of the column holding `feature`'s contributions.
pub fn contribution_column(feature: &str) -> String {
    format!("contribution_{feature}")
}

/// `scored` as a record batch (moving its vectors, copying nothing).
pub fn batch(scored: Scored) -> Result<RecordBatch, ArrowError> {
    let rows = scored.probability.len();
    let mut fields = vec![
        Field::new("probability", DataType::Float64, false),
        Field::new("prediction", DataType::UInt8, false),
    ];
    let mut columns: Vec<ArrayRef> = vec![
        Arc::new(Float64Array::from(scored.probability)),
        Arc::new(UInt8Array::from(scored.prediction)),
    ];
    if let Some((baseline, contributions)) = scored.explanation {
        fields.push(Field::new("baseline", DataType::Float64, false));
        columns.push(Arc::new(Float64Array::from(vec![baseline; rows])));
        for (feature, values) in features().into_iter().zip(contributions) {
            fields.push(Field::new(
                contribution_column(feature),
                DataType::Float64,
                false,
            ));
            columns.push(Arc::new(Float64Array::from(values)));
        }
    }
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
}
