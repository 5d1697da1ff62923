//! The prediction history: the store on SQLite or PostgreSQL ([`store`],
//! with its [`migrations`]), the group-commit [`recorder`], the rows a
//! prediction gives ([`rows`]) and the [`monitoring`] report folded from them
//! ([`report`]).

pub mod migrations;
pub mod monitoring;
pub mod recorder;
pub mod report;
pub mod rows;
pub mod store;
