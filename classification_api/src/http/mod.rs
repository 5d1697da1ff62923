//! The course's REST adapter: its endpoint table ([`endpoints`]) and
//! handlers ([`handlers`], [`admin`], [`web`]), which read their query
//! ([`query`]) and body ([`input`]), score through the core and answer
//! through [`output`]. [`openapi`] is the frame of the OpenAPI description
//! the other adapters' parts join.

pub mod admin;
pub mod endpoints;
pub mod handlers;
pub mod input;
pub mod openapi;
pub mod output;
pub mod query;
pub mod web;
