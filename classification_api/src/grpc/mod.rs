//! The Open Inference Protocol (V2) over gRPC, on its own port
//! (`GRPC_PORT`): the `inference.GRPCInferenceService` of
//! `proto/grpc_service.proto` ([`service`]), whose requests take the same
//! steps as REST's `infer` through the same code ([`convert`] turns its
//! messages into the core's [`crate::serving::tensor::inputs::Tensor`]s and
//! back), and the standard
//! `grpc.health.v1.Health` ([`health`]); [`server`] serves both.

pub mod convert;
pub mod health;
pub mod server;
pub mod service;

/// The protocol's messages, client and server, generated from
/// `proto/grpc_service.proto` by `cargo xtask codegen`.
#[allow(
    missing_docs,
    clippy::all,
    clippy::pedantic,
    rustdoc::bare_urls,
    rustdoc::invalid_html_tags
)]
pub mod inference {
    include!("generated/inference.rs");
}
