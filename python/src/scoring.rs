//! Scoring columns in chunks, through the model crate: checked once by
//! `CheckedBatch`, scored by `Model::score`. Nothing here knows a rule.

use std::cell::RefCell;

use classification_model::schema::N_FIELDS;
use classification_model::{CheckedBatch, Error, Model, Passenger, PredictOptions};

use crate::columns::Columns;
use crate::problems::Problem;

/// Rows read and checked at a time: enough to amortise the calls, few
/// enough that the reused passengers stay in cache.
const CHUNK: usize = 1024;

thread_local! {
    /// The chunk's passengers, kept from one call to the next on the same
    /// thread, so that their text buffers are allocated once rather than per
    /// row and call (at most `CHUNK` passengers: some hundreds of KiB).
    static BUFFER: RefCell<Vec<Passenger>> = const { RefCell::new(Vec::new()) };
}

/// What the model gave for every row, column by column.
pub struct Scored {
    /// `P(survived = 1)`.
    pub probability: Vec<f64>,
    /// 1 above the threshold, else 0.
    pub prediction: Vec<u8>,
    /// When asked: the intercept, and each feature's contributions.
    pub explanation: Option<(f64, [Vec<f64>; N_FIELDS])>,
}

impl Scored {
    fn with_capacity(rows: usize, explain: bool) -> Self {
        Scored {
            probability: Vec::with_capacity(rows),
            prediction: Vec::with_capacity(rows),
            explanation: explain.then(|| (0.0, std::array::from_fn(|_| Vec::with_capacity(rows)))),
        }
    }
}

/// Scores every row, or lists every problem of every row (and scores none).
pub fn score(
    model: &Model,
    columns: &Columns,
    options: &PredictOptions,
) -> Result<Scored, Vec<Problem>> {
    let rows = columns.rows();
    let mut scored = Scored::with_capacity(rows, options.explain);
    let mut problems = Vec::new();
    BUFFER.with_borrow_mut(|buffer| {
        if buffer.len() < rows.min(CHUNK) {
            buffer.resize_with(rows.min(CHUNK), Passenger::default);
        }
        for start in (0..rows).step_by(CHUNK) {
            let chunk = &mut buffer[..CHUNK.min(rows - start)];
            columns.fill(start, chunk);
            match CheckedBatch::new(&chunk[..]) {
                Ok(batch) if problems.is_empty() => {
                    for p in model.score(&batch, options) {
                        scored.probability.push(p.probability);
                        scored.prediction.push(p.label);
                        if let (Some(e), Some((baseline, columns))) =
                            (p.explanation, &mut scored.explanation)
                        {
                            *baseline = e.baseline;
                            for (column, c) in columns.iter_mut().zip(e.contributions.values()) {
                                column.push(c);
                            }
                        }
                    }
                }
                Ok(_) => {}
                Err(Error::Invalid(errors)) => {
                    problems.extend(errors.0.into_iter().map(|e| Problem::shifted(e, start)));
                }
                Err(e) => problems.push(Problem::column("data".into(), e.to_string())),
            }
        }
    });
    if problems.is_empty() {
        Ok(scored)
    } else {
        Err(problems)
    }
}
