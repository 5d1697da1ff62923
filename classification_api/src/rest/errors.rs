//! The error answer of the REST adapters ([`ApiError`]): a
//! [`RequestError`] or an HTTP-only refusal, rendered as JSON with its
//! status in the endpoint's own shape (`/predict`'s, the inference
//! protocol's, or the plain `{"errors": [...]}`).

use serde::Serialize;
use warp::http::{HeaderValue, StatusCode, header};
use warp::reply::{Reply, Response};

use crate::serving::errors::{ErrorItem, RequestError, one_line};

/// What a request got wrong, or why it could not be served now, as an HTTP
/// answer. Renders itself as `{"errors": [...]}` with its status (and, for
/// a prediction, in `/predict`'s response shape).
#[derive(Debug, Clone, PartialEq)]
pub enum ApiError {
    /// What the core refused.
    Request(RequestError),
    /// 404: no such path.
    NoRoute,
    /// 405: the path takes only this method.
    MethodNotAllowed(&'static str),
    /// 411: a body needs a length.
    LengthRequired(ErrorItem),
    /// 415: neither JSON nor CSV.
    UnsupportedMediaType(ErrorItem),
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

impl From<RequestError> for ApiError {
    fn from(e: RequestError) -> Self {
        ApiError::Request(e)
    }
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

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::Protocol(error) => match error.status() {
                StatusCode::UNPROCESSABLE_ENTITY => StatusCode::BAD_REQUEST,
                status => status,
            },
            ApiError::Request(e) => match e {
                RequestError::BadRequest(_) => StatusCode::BAD_REQUEST,
                RequestError::Unauthorized => StatusCode::UNAUTHORIZED,
                RequestError::Forbidden(_) => StatusCode::FORBIDDEN,
                RequestError::NotFound(_) => StatusCode::NOT_FOUND,
                RequestError::Timeout(_) => StatusCode::REQUEST_TIMEOUT,
                RequestError::TooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
                RequestError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
                RequestError::Conflict(_) => StatusCode::CONFLICT,
                RequestError::Busy | RequestError::StoreUnavailable(_) => {
                    StatusCode::SERVICE_UNAVAILABLE
                }
                RequestError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            },
            ApiError::NoRoute => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::LengthRequired(_) => StatusCode::LENGTH_REQUIRED,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Prediction { error, .. } => error.status(),
        }
    }

    /// The problems the body lists.
    pub fn items(&self) -> Vec<ErrorItem> {
        match self {
            ApiError::Request(e) => e.items(),
            ApiError::LengthRequired(item) | ApiError::UnsupportedMediaType(item) => {
                vec![item.clone()]
            }
            ApiError::NoRoute => vec![ErrorItem::field(
                "path",
                "not found: see GET / or GET /docs for the endpoints",
            )],
            ApiError::MethodNotAllowed(allow) => vec![ErrorItem::field(
                "method",
                format!("method not allowed: use {allow}"),
            )],
            ApiError::Prediction { error, .. } | ApiError::Protocol(error) => error.items(),
        }
    }

    fn headers(&self, response: &mut Response) {
        let headers = response.headers_mut();
        match self {
            ApiError::Request(RequestError::Unauthorized) => {
                headers.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            ApiError::Request(RequestError::Busy | RequestError::StoreUnavailable(_)) => {
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
                error: one_line(&self.items()),
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocol_errors_name_input_and_row() {
        let items = vec![
            ErrorItem::at(3, "age", "must be a number from 0 to 120, got 130"),
            ErrorItem::message("input \"sex\" is required"),
            ErrorItem::field("body", "is not JSON"),
        ];
        let e = ApiError::from(RequestError::Invalid(items.clone())).in_protocol();
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
        assert_eq!(
            one_line(&e.items()),
            "input \"age\", row 3: must be a number from 0 to 120, got 130; \
             input \"sex\" is required; body: is not JSON"
        );
        assert_eq!(
            ApiError::from(RequestError::Busy).in_protocol().status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
    }
}
