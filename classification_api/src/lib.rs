//! An HTTP service for the Titanic `classification_model`.
//!
//! Laid out like warp's `todos` example (`docs/ARCHITECTURE.md` has the map):
//! [`routes`] sends each request of the route table ([`paths`]) through
//! [`auth`] to a handler in [`handlers`] (or [`openapi`]); handlers read
//! their input through [`input`], answer through [`output`] and fail with
//! [`errors::ApiError`], sharing [`state`]. [`server`] runs it all with the
//! limits from [`config`], and [`metrics`] counts what happens.

pub mod admin;
pub mod auth;
pub mod clock;
pub mod config;
pub mod errors;
pub mod handlers;
pub mod history_rows;
pub mod input;
pub mod logging;
pub mod metrics;
pub mod migrations;
pub mod models;
pub mod monitoring;
pub mod openapi;
pub mod output;
pub mod paths;
pub mod recorder;
pub mod reload;
pub mod routes;
pub mod scoring;
pub mod server;
pub mod shadow;
pub mod state;
pub mod store;
pub mod tensor;
pub mod v2;
pub mod v2_input;
pub mod v2_output;
pub mod web;

/// The repository README's Rust examples, run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
struct ReadmeDoctests;
