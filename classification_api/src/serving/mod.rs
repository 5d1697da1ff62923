//! The core, which knows no protocol: what every request's handlers share
//! ([`state`]), the model versions ([`models`], [`versions`], [`reports`])
//! and their reloads ([`reload`]); a batch as any protocol reads it
//! ([`batch`], [`ids`]) and the tensor model the inference protocol's
//! adapters share ([`tensor`]); admission, checking, scoring, the history
//! write and the shadow hand-off ([`scoring`], [`shadow`]); and what a
//! request can get wrong ([`errors`]).

pub mod batch;
pub mod errors;
pub mod ids;
pub mod models;
pub mod reload;
pub mod reports;
pub mod scoring;
pub mod shadow;
pub mod state;
pub mod tensor;
pub mod versions;
