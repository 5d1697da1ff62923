//! The standard `grpc.health.v1.Health` service, for Kubernetes' gRPC
//! probes: `SERVING` while the server is ready (as `/health/ready` says),
//! `NOT_SERVING` while shutting down or while the history store is down.
//! It knows the whole server (`""`) and `inference.GRPCInferenceService`.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures_util::Stream;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::Health;
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

use crate::serving::state::AppState;

/// The services a check may name.
pub const SERVICES: [&str; 2] = ["", "inference.GRPCInferenceService"];

/// How often `Watch` looks at readiness.
const WATCH_EVERY: Duration = Duration::from_millis(500);

/// The health service over the HTTP server's state.
#[derive(Debug, Clone)]
pub struct Checks {
    state: Arc<AppState>,
}

impl Checks {
    /// The health service over `state`.
    pub fn new(state: Arc<AppState>) -> Self {
        Self { state }
    }
}

fn serving(state: &AppState) -> ServingStatus {
    if state.unready().is_none() {
        ServingStatus::Serving
    } else {
        ServingStatus::NotServing
    }
}

fn known(service: &str) -> Result<(), Status> {
    if SERVICES.contains(&service) {
        Ok(())
    } else {
        Err(Status::not_found(format!(
            "no service {:?}: this server reports on \"\" (all) and inference.GRPCInferenceService",
            crate::serving::errors::shorten(service)
        )))
    }
}

#[tonic::async_trait]
impl Health for Checks {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        known(&request.get_ref().service)?;
        Ok(Response::new(HealthCheckResponse {
            status: serving(&self.state) as i32,
        }))
    }

    type WatchStream =
        Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send + 'static>>;

    /// The status now, then each change (looked at every half second).
    async fn watch(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        known(&request.get_ref().service)?;
        let state = self.state.clone();
        let stream = futures_util::stream::unfold(None, move |last| {
            let state = state.clone();
            async move {
                loop {
                    let now = serving(&state);
                    if last != Some(now) {
                        let answer = HealthCheckResponse { status: now as i32 };
                        return Some((Ok(answer), Some(now)));
                    }
                    tokio::time::sleep(WATCH_EVERY).await;
                }
            }
        });
        Ok(Response::new(Box::pin(stream)))
    }
}
