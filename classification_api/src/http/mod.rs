//! The HTTP layer: the route table ([`paths`]) and the router ([`routes`])
//! that sends each request through [`auth`] to a handler ([`handlers`],
//! [`admin`], [`web`], [`openapi`]); handlers read through [`input`] and
//! answer through [`output`], failing with [`crate::http::errors::ApiError`].

pub mod admin;
pub mod auth;
pub mod errors;
pub mod handlers;
pub mod input;
pub mod openapi;
pub mod output;
pub mod paths;
pub mod routes;
pub mod scoring;
pub mod state;
pub mod web;
