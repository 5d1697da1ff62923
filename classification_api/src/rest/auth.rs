//! Who may call what: the bearer key for the predictions, and the admin
//! key or loopback for the admin endpoints (each endpoint's [`Access`]).

use warp::http::HeaderValue;

use crate::config::Secret;
use crate::rest::errors::ApiError;
use crate::rest::request::{Access, Request};
use crate::serving::errors::{ErrorItem, RequestError};

/// The address of the client, as the server puts it in each request's
/// extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub std::net::SocketAddr);

/// Whether `request` may call an endpoint of `access`: with a key set, the
/// bearer token must carry it (else 401); the admin endpoints without an
/// admin key answer only loopback clients that come through no proxy, and
/// only while `ADMIN_LOOPBACK` allows it (else 403). A refused key is
/// answered in the endpoint's own error shape.
pub fn check(access: Access, request: &Request) -> Result<(), ApiError> {
    let state = &request.state;
    let given = request.headers.get(warp::http::header::AUTHORIZATION);
    let key_holds = |key: &Option<Secret>| key.as_ref().is_none_or(|k| authorized(given, k));
    match access {
        Access::Open => Ok(()),
        Access::Predict if key_holds(&state.api_key) => Ok(()),
        Access::Predict => {
            let models = state.models.current();
            Err(ApiError::from(RequestError::Unauthorized)
                .in_prediction(models.default_model().version()))
        }
        Access::Protocol if key_holds(&state.api_key) => Ok(()),
        Access::Protocol => Err(ApiError::from(RequestError::Unauthorized).in_protocol()),
        Access::Admin { .. } => match &state.admin_key {
            Some(key) if authorized(given, key) => Ok(()),
            Some(_) => Err(RequestError::Unauthorized.into()),
            None => match local(request) {
                Local::Yes if state.admin_loopback => Ok(()),
                Local::Yes => Err(forbidden(
                    "the admin endpoints need ADMIN_API_KEY: this server does not open them to loopback clients (ADMIN_LOOPBACK=false)",
                )),
                Local::Proxied(header) => Err(forbidden(&format!(
                    "the admin endpoints need ADMIN_API_KEY: a request through a proxy ({header}) never counts as local"
                ))),
                Local::No => Err(forbidden(
                    "the admin endpoints answer only loopback clients unless the server sets ADMIN_API_KEY",
                )),
            },
        },
    }
}

/// Headers a proxy adds: a request carrying one came from elsewhere, however
/// close the proxy is (a sidecar, nginx on the same host).
const PROXY_HEADERS: [&str; 3] = ["forwarded", "x-forwarded-for", "x-real-ip"];

/// Whether a request comes from this machine.
enum Local {
    Yes,
    No,
    /// From loopback, but through a proxy (the header says so).
    Proxied(&'static str),
}

fn local(request: &Request) -> Local {
    if !request
        .peer
        .is_some_and(|p| p.ip().to_canonical().is_loopback())
    {
        return Local::No;
    }
    match PROXY_HEADERS
        .into_iter()
        .find(|h| request.headers.contains_key(*h))
    {
        Some(header) => Local::Proxied(header),
        None => Local::Yes,
    }
}

fn forbidden(message: &str) -> ApiError {
    RequestError::Forbidden(ErrorItem::field("Authorization", message)).into()
}

/// Whether `Authorization: Bearer <token>` carries the key.
fn authorized(header: Option<&HeaderValue>, key: &Secret) -> bool {
    key.is_bearer_of(header.map(HeaderValue::as_bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_key_passes() {
        let key = Secret("0123456789abcdef".into());
        let check = |v: &str| authorized(Some(&HeaderValue::from_str(v).unwrap()), &key);
        assert!(check("Bearer 0123456789abcdef"));
        assert!(check("bearer 0123456789abcdef"));
        for wrong in [
            "Bearer 0123456789abcde",
            "Basic 0123456789abcdef",
            "Bearer",
            "",
        ] {
            assert!(!check(wrong), "{wrong}");
        }
        assert!(!authorized(None, &key));
    }
}
