//! What the service tells its operators: Prometheus [`metrics`], the
//! batched [`logging`] (one access line per request) and OpenTelemetry
//! [`traces`].

pub mod logging;
pub mod metrics;
pub mod traces;
