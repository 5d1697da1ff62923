//! Serving: the model versions ([`models`]) and their reloads ([`reload`]),
//! and the shadow version that scores beside them ([`shadow`]).

pub mod models;
pub mod reload;
pub mod shadow;
