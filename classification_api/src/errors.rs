//! The service's error type, and the JSON every error response carries.

use std::net::SocketAddr;

use serde::Serialize;

/// Everything that stops the service from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A setting in the environment is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The address could not be bound.
    #[error(
        "cannot listen on {addr}: {source} (is another process using the port? set PORT to another one)"
    )]
    Bind {
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// The embedded model could not be loaded.
    #[error("cannot load the model: {0}")]
    Model(#[from] classification_model::Error),
    /// Waiting for a shutdown signal failed.
    #[error("cannot install the signal handlers: {0}")]
    Signal(std::io::Error),
}

/// An invalid environment variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {name}={value:?}: expected {expected}")]
pub struct ConfigError {
    /// The variable.
    pub name: &'static str,
    /// Its value.
    pub value: String,
    /// What it should be.
    pub expected: &'static str,
}

impl ConfigError {
    pub(crate) fn new(name: &'static str, value: &str, expected: &'static str) -> Self {
        Self {
            name,
            value: value.to_owned(),
            expected,
        }
    }
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
