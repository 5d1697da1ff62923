//! The OpenAPI description the REST adapters serve, built once per variant
//! (with the history endpoints, or without them for `HISTORY=off`) by the
//! function whoever assembles the endpoint table gives.

use std::sync::OnceLock;

/// The description, as JSON.
pub struct Spec {
    build: fn(bool) -> String,
    built: [OnceLock<String>; 2],
}

impl Spec {
    /// The description `build` makes (its argument: whether the history
    /// endpoints are served).
    pub const fn new(build: fn(bool) -> String) -> Self {
        Spec {
            build,
            built: [OnceLock::new(), OnceLock::new()],
        }
    }

    /// The description as JSON, with or without the history endpoints.
    pub fn json(&self, history: bool) -> &str {
        self.built[usize::from(history)].get_or_init(|| (self.build)(history))
    }
}
