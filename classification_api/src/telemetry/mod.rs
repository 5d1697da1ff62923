//! What the service tells its operators: Prometheus [`metrics`] and the
//! batched [`logging`] (one access line per request).

pub mod logging;
pub mod metrics;
