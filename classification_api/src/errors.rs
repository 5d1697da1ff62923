//! What stops the service ([`ServiceError`]): its configuration, its model
//! versions, its address, its history store. What a request gets wrong is
//! the core's (`serving::errors`).

use std::net::SocketAddr;

/// Everything that stops the service from starting or running.
#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// A setting in the environment is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The address could not be bound.
    #[error(
        "{what} {} on {} is taken ({source}): set {setting} to another port, or 0 for a free one",
        addr.port(),
        addr.ip()
    )]
    Bind {
        /// What it is for: `port`, `gRPC port`.
        what: &'static str,
        /// The setting that chooses it: `PORT`, `GRPC_PORT`.
        setting: &'static str,
        /// The address.
        addr: SocketAddr,
        /// Why.
        source: std::io::Error,
    },
    /// `ADDRESS_FILE` could not be written.
    #[error("cannot write the address to ADDRESS_FILE {}: {source}", path.display())]
    AddressFile {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The embedded model could not be loaded.
    #[error("cannot load the model: {0}")]
    Model(#[from] classification_model::Error),
    /// The configured model versions cannot be served.
    #[error("cannot serve the model versions: {0}")]
    Models(String),
    /// The trace exporter could not be made.
    #[error("cannot export traces (check OTEL_EXPORTER_OTLP_ENDPOINT and _PROTOCOL): {0}")]
    Traces(String),
    /// Waiting for a shutdown signal failed.
    #[error("cannot install the signal handlers: {0}")]
    Signal(std::io::Error),
    /// The history store could not be opened or migrated.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What went wrong with the history store.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    /// The store cannot be reached or refuses writes (a database down, a
    /// full disk, a lock held too long).
    #[error("the history store ({backend}) is unavailable: {reason}")]
    Unavailable {
        /// `sqlite` or `postgres`.
        backend: &'static str,
        /// What the driver said.
        reason: String,
    },
    /// The database was migrated by a newer build.
    #[error(
        "the history database is at schema version {found}, newer than the {known} this build knows: \
         run a newer build, or point HISTORY_PATH/DATABASE_URL at another database"
    )]
    NewerSchema {
        /// The newest version applied to the database.
        found: i64,
        /// The newest version this build has.
        known: i64,
    },
    /// The schema could not be created or upgraded.
    #[error("cannot migrate the history database: {0}")]
    Migration(String),
    /// The SQLite file or its directory cannot be created.
    #[error("cannot create the history file {path}: {reason} (set HISTORY_PATH, or HISTORY=off)")]
    Create {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
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
