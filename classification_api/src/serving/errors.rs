//! What a request got wrong, or why it cannot be served now
//! ([`RequestError`]), whatever protocol brought it: each adapter maps it to
//! its own answer (an HTTP status and body, a gRPC status).

use serde::Serialize;

/// A value a client sent, cut for quoting in an error: the model crate's
/// one rule (at most 40 characters, then `…`).
pub fn shorten(s: &str) -> String {
    classification_model::schema::shorten(s).into_owned()
}

/// One problem, as it appears in an answer's `errors` list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorItem {
    /// 0-based index of the input record at fault, if there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub row: Option<usize>,
    /// For CSV input: the 1-based line of the body at fault (the header is line 1).
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub line: Option<u64>,
    /// The field at fault, if there is one.
    #[serde(skip_serializing_if = "Option::is_none", default)]
    pub field: Option<String>,
    /// What is wrong.
    pub message: String,
}

impl ErrorItem {
    /// A problem with the request as a whole.
    pub fn message(message: impl Into<String>) -> Self {
        Self {
            row: None,
            line: None,
            field: None,
            message: message.into(),
        }
    }

    /// A problem with a field of one input record (row `row`).
    pub fn at(row: usize, field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row: Some(row),
            ..Self::field(field, message)
        }
    }

    /// A problem with a field of the request.
    pub fn field(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            row: None,
            line: None,
            field: Some(field.into()),
            message: message.into(),
        }
    }
}

impl From<classification_model::csv::CsvError> for ErrorItem {
    fn from(e: classification_model::csv::CsvError) -> Self {
        Self {
            row: e.row,
            line: Some(e.line),
            field: Some(e.field),
            message: e.message,
        }
    }
}

impl From<classification_model::FieldError> for ErrorItem {
    fn from(e: classification_model::FieldError) -> Self {
        Self {
            row: Some(e.row),
            line: None,
            field: Some(e.field),
            message: e.message,
        }
    }
}

/// What a request got wrong, or why it cannot be served now. Its message
/// lists every problem ([`RequestError::items`]) in one line.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{}", one_line(&self.items()))]
pub enum RequestError {
    /// The request cannot be read (its shape, a parameter, an input).
    BadRequest(Vec<ErrorItem>),
    /// A key is required and was not given.
    Unauthorized,
    /// Refused (a CORS origin, or an admin endpoint from afar).
    Forbidden(ErrorItem),
    /// No such model, version or record.
    NotFound(ErrorItem),
    /// The request did not arrive in time.
    Timeout(ErrorItem),
    /// The request or its batch is too large.
    TooLarge(ErrorItem),
    /// The records are invalid; every problem is listed.
    Invalid(Vec<ErrorItem>),
    /// Record ids already used (stored, or repeated in the request).
    Conflict(Vec<ErrorItem>),
    /// At capacity; retry shortly.
    Busy,
    /// The history store cannot take the records now.
    StoreUnavailable(String),
    /// A fault of the service (logged).
    Internal,
}

impl RequestError {
    /// The problems, each with its row and field where it has them.
    pub fn items(&self) -> Vec<ErrorItem> {
        match self {
            RequestError::BadRequest(items)
            | RequestError::Invalid(items)
            | RequestError::Conflict(items) => items.clone(),
            RequestError::StoreUnavailable(reason) => vec![ErrorItem::field(
                "history",
                format!(
                    "{reason}; nothing was predicted or stored: retry after `Retry-After` seconds"
                ),
            )],
            RequestError::Forbidden(item)
            | RequestError::NotFound(item)
            | RequestError::Timeout(item)
            | RequestError::TooLarge(item) => vec![item.clone()],
            RequestError::Unauthorized => vec![ErrorItem::field(
                "Authorization",
                "send the API key as `Authorization: Bearer <key>`",
            )],
            RequestError::Busy => vec![ErrorItem::message(
                "the server is at capacity: retry shortly",
            )],
            RequestError::Internal => {
                vec![ErrorItem::message("internal error; see the server log")]
            }
        }
    }

    /// The fields at fault in invalid records (for the metrics).
    pub fn invalid_fields(&self) -> impl Iterator<Item = &str> {
        let items: &[ErrorItem] = match self {
            RequestError::Invalid(items) => items,
            _ => &[],
        };
        items.iter().filter_map(|i| i.field.as_deref())
    }
}

/// The problems in one line: `input "age", row 3: must be ...; ...` (the
/// first 20, and how many more), as the inference protocol answers them.
pub fn one_line(items: &[ErrorItem]) -> String {
    const SHOWN: usize = 20;
    let mut parts: Vec<String> = items
        .iter()
        .take(SHOWN)
        .map(|item| match (&item.field, item.row) {
            (Some(field), Some(row)) => format!("input {field:?}, row {row}: {}", item.message),
            (Some(field), None) => format!("{field}: {}", item.message),
            (None, _) => item.message.clone(),
        })
        .collect();
    if items.len() > SHOWN {
        parts.push(format!("and {} more", items.len() - SHOWN));
    }
    parts.join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_line_names_input_and_row() {
        let mut items = vec![
            ErrorItem::at(3, "age", "must be a number from 0 to 120, got 130"),
            ErrorItem::message("input \"sex\" is required"),
            ErrorItem::field("body", "is not JSON"),
        ];
        assert_eq!(
            RequestError::Invalid(items.clone()).to_string(),
            "input \"age\", row 3: must be a number from 0 to 120, got 130; \
             input \"sex\" is required; body: is not JSON"
        );
        items.extend(vec![ErrorItem::message("x"); 30]);
        assert!(one_line(&items).ends_with("; and 13 more"));
    }
}
