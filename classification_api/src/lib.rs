//! An HTTP service for the Titanic `classification_model`.
//!
//! The folders are the layers (`docs/ARCHITECTURE.md` has the map and the
//! path of one prediction through them); each names only those below it:
//!
//! - [`http`]: the route table, authentication, reading requests and
//!   writing answers, the OpenAPI description and the web app;
//! - [`v2`]: the Open Inference Protocol (REST), on the same steps;
//! - [`grpc`]: the same protocol over gRPC, on its own port;
//! - [`serving`]: the model versions, their reloads, scoring and the shadow;
//! - [`history`]: the store, its group-commit recorder, rows and monitoring;
//! - [`telemetry`]: metrics and logs.
//!
//! [`server`] runs it all with the limits from [`config`].

pub mod accept;
pub mod clock;
pub mod config;
pub mod errors;
pub mod grpc;
pub mod history;
pub mod http;
pub mod server;
pub mod serving;
pub mod telemetry;
pub mod v2;

/// The repository README's Rust examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
