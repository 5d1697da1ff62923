//! The API's integration tests, one binary (one link of the crate): the
//! server runs in-process on a bound loopback listener; a subprocess only
//! where the process itself is tested (signals, exit codes, its memory).

mod api;
mod common;
mod grpc;
mod hardening;
mod history;
mod odd_inputs;
mod openapi;
mod properties;
mod readme;
mod routes;
mod serving;
mod text_rules;
mod traces;
mod v2;
mod versions;
