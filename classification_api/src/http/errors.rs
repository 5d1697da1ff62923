//! What a request gets wrong ([`ApiError`], which renders itself as the
//! JSON error of `/predict`'s shape, the Open Inference Protocol's, or the
//! plain one), and the lower layers' errors mapped to it.

use serde::Serialize;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

/// A value a client sent, cut for quoting in an error: the model crate's
/// one rule (at most 40 characters, then `…`).
pub fn shorten(s: &str) -> String {
    classification_model::schema::shorten(s).into_owned()
}

/// One problem, as it appears in a response's `errors` list.
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

/// What a request got wrong, or why it could not be served now. Renders
/// itself as `{"errors": [...]}` with its status (and, for a prediction, in
/// `/predict`'s response shape).
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// 400: the request cannot be read.
    BadRequest(Vec<ErrorItem>),
    /// 401: a key is required and was not given.
    Unauthorized,
    /// 403: refused (a CORS origin, or an admin endpoint from afar).
    Forbidden(ErrorItem),
    /// 404: no such path.
    NotFound,
    /// 404: no such item.
    NotFoundItem(ErrorItem),
    /// 405: the path takes only this method.
    MethodNotAllowed(&'static str),
    /// 408: the body did not arrive in time.
    Timeout(ErrorItem),
    /// 411: a body needs a length.
    LengthRequired(ErrorItem),
    /// 413: the body or the batch is too large.
    TooLarge(ErrorItem),
    /// 415: neither JSON nor CSV.
    UnsupportedMediaType(ErrorItem),
    /// 422: the records are invalid; every problem is listed.
    Invalid(Vec<ErrorItem>),
    /// 409: record ids already used.
    Conflict(Vec<ErrorItem>),
    /// 503: at capacity; retry after a second.
    Busy,
    /// 503: the history store cannot take the records now.
    StoreUnavailable(String),
    /// 500: a fault of the service (logged).
    Internal,
    /// An error of the Open Inference Protocol's routes, answered as
    /// `{"error": "..."}` (invalid records: 400, as the protocol has it).
    Protocol(Box<ApiError>),
    /// An error of `/predict`, answered in its response shape.
    Prediction {
        /// The model version that would have answered.
        version: String,
        /// The error.
        error: Box<ApiError>,
    },
}

/// `{"errors": [...]}`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ErrorResponse {
    /// What went wrong.
    pub errors: Vec<ErrorItem>,
}

/// The Open Inference Protocol's error shape: `{"error": "..."}`.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize, utoipa::ToSchema)]
pub struct ProtocolError {
    /// Every problem, each with its input and row where it has them.
    pub error: String,
}

/// The problems in one line: `input "age", row 3: must be ...; ...` (the
/// first 20, and how many more).
fn protocol_message(items: &[ErrorItem]) -> String {
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

/// `/predict`'s failure shape: no predictions, the version, the errors.
#[derive(Serialize)]
struct PredictionFailure<'a> {
    predictions: Option<()>,
    probabilities: Option<()>,
    version: &'a str,
    errors: Vec<ErrorItem>,
}

impl ApiError {
    /// The same error, answered in `/predict`'s shape.
    pub fn in_prediction(self, version: &str) -> Self {
        ApiError::Prediction {
            version: version.to_owned(),
            error: Box::new(self),
        }
    }

    /// The same error, answered as the Open Inference Protocol does.
    pub fn in_protocol(self) -> Self {
        ApiError::Protocol(Box::new(self))
    }

    /// The problems in one line, as the Open Inference Protocol answers
    /// them: `input "age", row 3: must be ...; ...`.
    pub fn protocol_message(&self) -> String {
        protocol_message(&self.items())
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Protocol(error) => match error.status() {
                StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
                status => status,
            },
            ApiError::BadRequest(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthorized => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound | ApiError::NotFoundItem(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
            ApiError::LengthRequired(_) => StatusCode::LENGTH_REQUIRED,
            ApiError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::Busy | ApiError::StoreUnavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            ApiError::Prediction { error, .. } => error.status(),
        }
    }

    /// The problems the body lists.
    pub fn items(&self) -> Vec<ErrorItem> {
        match self {
            ApiError::BadRequest(items) | ApiError::Invalid(items) | ApiError::Conflict(items) => {
                items.clone()
            }
            ApiError::StoreUnavailable(reason) => vec![ErrorItem::field(
                "history",
                format!(
                    "{reason}; nothing was predicted or stored: retry after `Retry-After` seconds"
                ),
            )],
            ApiError::Forbidden(item)
            | ApiError::NotFoundItem(item)
            | ApiError::Timeout(item)
            | ApiError::LengthRequired(item)
            | ApiError::TooLarge(item)
            | ApiError::UnsupportedMediaType(item) => vec![item.clone()],
            ApiError::Unauthorized => vec![ErrorItem::field(
                "Authorization",
                "send the API key as `Authorization: Bearer <key>`",
            )],
            ApiError::NotFound => vec![ErrorItem::field(
                "path",
                "not found: see GET / or GET /docs for the endpoints",
            )],
            ApiError::MethodNotAllowed(allow) => vec![ErrorItem::field(
                "method",
                format!("method not allowed: use {allow}"),
            )],
            ApiError::Busy => vec![ErrorItem::message(
                "the server is at capacity: retry shortly",
            )],
            ApiError::Internal => vec![ErrorItem::message("internal error; see the server log")],
            ApiError::Prediction { error, .. } | ApiError::Protocol(error) => error.items(),
        }
    }

    fn headers(&self, response: &mut Response) {
        let headers = response.headers_mut();
        match self {
            ApiError::Unauthorized => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Busy | ApiError::StoreUnavailable(_) => {
                headers.insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            ApiError::MethodNotAllowed(allow) => {
                headers.insert(header::ALLOW, HeaderValue::from_static(allow));
            }
            ApiError::Prediction { error, .. } | ApiError::Protocol(error) => {
                error.headers(response)
            }
            _ => {}
        }
    }
}

impl Reply for ApiError {
    fn into_response(self) -> Response {
        let body = match &self {
            ApiError::Prediction { version, .. } => serde_json::to_vec(&PredictionFailure {
                predictions: None,
                probabilities: None,
                version,
                errors: self.items(),
            }),
            ApiError::Protocol(_) => serde_json::to_vec(&ProtocolError {
                error: protocol_message(&self.items()),
            }),
            _ => serde_json::to_vec(&ErrorResponse {
                errors: self.items(),
            }),
        };
        let mut response = Response::new(body.unwrap_or_default().into());
        *response.status_mut() = self.status();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        self.headers(&mut response);
        response
    }
}

impl warp::reject::Reject for ApiError {}

impl From<crate::serving::models::ModelsError> for ApiError {
    fn from(e: crate::serving::models::ModelsError) -> Self {
        use crate::serving::models::ModelsError;
        match e {
            ModelsError::NotServed { asked, served } => ApiError::NotFoundItem(ErrorItem::field(
                "version",
                format!(
                    "no version {:?} is served: the versions are {}",
                    shorten(&asked),
                    served.join(", ")
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_errors_name_input_and_row() {
        let mut items = vec![
            ErrorItem::at(3, "age", "must be a number from 0 to 120, got 130"),
            ErrorItem::message("input \"sex\" is required"),
            ErrorItem::field("body", "is not JSON"),
        ];
        let e = ApiError::Invalid(items.clone()).in_protocol();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            protocol_message(&e.items()),
            "input \"age\", row 3: must be a number from 0 to 120, got 130; \
             input \"sex\" is required; body: is not JSON"
        );
        items.extend(vec![ErrorItem::message("x"); 30]);
        assert!(protocol_message(&items).ends_with("; and 13 more"));
        assert_eq!(
            ApiError::Busy.in_protocol().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
