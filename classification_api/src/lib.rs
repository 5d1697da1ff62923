//! An HTTP service for the Titanic `classification_model`: `GET /health`,
//! `POST /predict`, `GET /`.
//!
//! Laid out like warp's `todos` example: [`filters`] route requests to
//! [`handlers`], which speak in [`models`]; [`server`] runs it all with the
//! limits from [`config`].

pub mod config;
pub mod errors;
pub mod filters;
pub mod handlers;
pub mod metrics;
pub mod models;
pub mod openapi;
pub mod server;
