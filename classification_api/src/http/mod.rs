//! The HTTP layer: the endpoint table ([`endpoints`]) and the router
//! ([`routes`]) that sends each request through [`auth`] to a handler
//! ([`handlers`], [`admin`], [`web`]); handlers read their query ([`query`])
//! and body ([`input`]), score through [`scoring`] and answer through
//! [`output`], failing with [`errors::ApiError`]. [`openapi`] describes it
//! all.

pub mod admin;
pub mod auth;
pub mod endpoints;
pub mod errors;
pub mod handlers;
pub mod ids;
pub mod input;
pub mod openapi;
pub mod output;
pub mod query;
pub mod request;
pub mod routes;
pub mod scoring;
pub mod state;
pub mod web;
