//! The history's rows: what is written, what is read back, and how a
//! query picks them.

use classification_model::schema::FIELDS;

/// A record to store: who asked, what was asked (validated, names minimised)
/// and what was answered.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRow {
    /// The record's id (the caller's, or made by the server).
    pub id: String,
    /// Whether the caller chose the id (only those can collide).
    pub client_id: bool,
    /// The request's `X-Request-Id`.
    pub request_id: String,
    /// Microseconds since the Unix epoch.
    pub time_us: i64,
    /// The model version that answered.
    pub version: String,
    /// The validated inputs, in [`FIELDS`] order.
    pub inputs: [Input; classification_model::schema::N_FIELDS],
    /// `P(survived = 1)`.
    pub probability: f64,
    /// 0 or 1.
    pub prediction: i64,
    /// The packed drift bins (see `monitoring::pack`).
    pub bins: i64,
}

/// One validated input value, as stored.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Input {
    /// Missing.
    #[default]
    Null,
    /// A whole number (integer fields).
    Integer(i64),
    /// A number.
    Number(f64),
    /// A label or text.
    Text(String),
}

/// What the shadow version answered for a served record.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowRow {
    /// The served record's id.
    pub id: String,
    /// The shadow version.
    pub version: String,
    /// Its `P(survived = 1)`.
    pub probability: f64,
    /// Its prediction, 0 or 1.
    pub prediction: i64,
    /// The served record's time (microseconds since the Unix epoch).
    pub time_us: i64,
}

/// How a shadow version's answers compare with the served ones, over the
/// records both answered.
#[derive(Debug, Clone, PartialEq)]
pub struct ShadowSums {
    /// The shadow version.
    pub version: String,
    /// Records it answered.
    pub records: i64,
    /// Of those, how many got the same prediction.
    pub agreements: i64,
    /// Sum of |served probability - shadow probability|.
    pub sum_abs_difference: f64,
    /// Largest |served probability - shadow probability|.
    pub max_abs_difference: f64,
}

/// A stored record.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredRow {
    /// Its id.
    pub id: String,
    /// The request's id.
    pub request_id: String,
    /// Microseconds since the Unix epoch.
    pub time_us: i64,
    /// The model version.
    pub version: String,
    /// The inputs, in [`FIELDS`] order.
    pub inputs: [Input; classification_model::schema::N_FIELDS],
    /// `P(survived = 1)`.
    pub probability: f64,
    /// 0 or 1.
    pub prediction: i64,
    /// The ground truth, once sent.
    pub survived: Option<i64>,
    /// When it was sent (microseconds since the Unix epoch).
    pub feedback_time_us: Option<i64>,
}

/// Which rows a query covers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// From this time on (microseconds since the epoch, inclusive).
    pub since: Option<i64>,
    /// Before this time (exclusive).
    pub until: Option<i64>,
    /// Only this model version.
    pub version: Option<String>,
    /// Only this prediction.
    pub prediction: Option<i64>,
    /// Only rows with (true) or without (false) feedback.
    pub has_feedback: Option<bool>,
}

/// Where a page starts: after the row with this time and id.
pub type Cursor = (i64, String);

/// A feedback item that cannot be applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedbackProblem {
    /// No record has this id.
    Unknown,
    /// The record already has the other value.
    Conflict(i64),
}

pub(super) fn columns() -> String {
    let mut c = String::from("id, request_id, time_us, version");
    for f in &FIELDS {
        c.push_str(", ");
        c.push_str(f.name);
    }
    c.push_str(", probability, prediction, survived, feedback_time_us");
    c
}
