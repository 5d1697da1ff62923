//! An HTTP service for the Titanic `classification_model`.
//!
//! The folders are the layers (`docs/ARCHITECTURE.md` has the map and the
//! path of one prediction through them); each names only those below it:
//!
//! - the adapters, each on the core and none on another:
//!   - [`http`]: the course's REST endpoints (`/predict`, operations, the
//!     model, the admin endpoints, the web app, the OpenAPI description);
//!   - [`v2`]: the Open Inference Protocol over REST;
//!   - [`grpc`]: the same protocol over gRPC, on its own port;
//! - [`rest`]: what the two REST adapters share: the router over their
//!   endpoint tables, access, body reading, the error answer;
//! - [`serving`]: the core, which knows no protocol: the model versions and
//!   their reloads, admission, checking and scoring a batch, the tensor
//!   model, ids, the shadow, and what a request can get wrong;
//! - [`history`]: the store, its group-commit recorder, rows and monitoring;
//! - [`telemetry`]: metrics, logs and traces, on plain values.
//!
//! [`server`] assembles the adapters and runs them with the settings from
//! [`config`].

pub mod accept;
pub mod clock;
pub mod config;
pub mod errors;
pub mod grpc;
pub mod history;
pub mod http;
pub mod rest;
pub mod server;
pub mod serving;
pub mod telemetry;
pub mod v2;

/// The repository README's Rust examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
