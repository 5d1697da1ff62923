//! What the two REST adapters (the course's endpoints and the inference
//! protocol's) share, and nothing of either: the request a handler gets
//! ([`request`]), the endpoint table ([`endpoint`]) and the router over it
//! ([`routes`]) with its access check ([`auth`]), the OpenAPI description
//! ([`spec`]), body reading ([`body`]), the error answer ([`errors`]) and
//! the common answers ([`reply`]).

pub mod auth;
pub mod body;
pub mod endpoint;
pub mod errors;
pub mod reply;
pub mod request;
pub mod routes;
pub mod spec;
