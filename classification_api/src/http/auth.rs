//! Who may call what, as filters: the bearer key for `/predict`, and the
//! admin key or loopback for the history endpoints.

use subtle::ConstantTimeEq;
use warp::Filter;
use warp::http::HeaderValue;

use crate::config::ApiKey;
use crate::http::errors::{ApiError, ErrorItem};

/// Passes when no key is configured or `Authorization: Bearer <key>` carries
/// it (compared in constant time); otherwise rejects with a 401 [`ApiError`].
pub fn bearer(key: Option<ApiKey>) -> impl Filter<Extract = (), Error = warp::Rejection> + Clone {
    warp::header::optional::<HeaderValue>("authorization")
        .and_then(move |given: Option<HeaderValue>| {
            let ok = key
                .as_ref()
                .is_none_or(|key| authorized(given.as_ref(), key));
            async move {
                if ok {
                    Ok::<(), warp::Rejection>(())
                } else {
                    Err(warp::reject::custom(ApiError::Unauthorized))
                }
            }
        })
        .untuple_one()
}

/// The address of the client, as the server puts it in each request's
/// extensions.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peer(pub std::net::SocketAddr);

/// Guards the admin endpoints: with a key, `Authorization: Bearer <key>`
/// (else 401); without one, loopback clients only (else 403).
pub fn admin(key: Option<ApiKey>) -> impl Filter<Extract = (), Error = warp::Rejection> + Clone {
    warp::header::optional::<HeaderValue>("authorization")
        .and(warp::ext::optional::<Peer>())
        .and_then(move |given: Option<HeaderValue>, peer: Option<Peer>| {
            let verdict = match &key {
                Some(key) if authorized(given.as_ref(), key) => Ok(()),
                Some(_) => Err(ApiError::Unauthorized),
                None if peer.is_some_and(|p| p.0.ip().to_canonical().is_loopback()) => Ok(()),
                None => Err(ApiError::Forbidden(ErrorItem::field(
                    "Authorization",
                    "the history endpoints answer only loopback clients unless the server sets ADMIN_API_KEY",
                ))),
            };
            async move { verdict.map_err(warp::reject::custom) }
        })
        .untuple_one()
}

/// Whether `Authorization: Bearer <token>` carries the key.
fn authorized(header: Option<&HeaderValue>, key: &ApiKey) -> bool {
    let Some(value) = header.map(HeaderValue::as_bytes) else {
        return false;
    };
    let Some((scheme, token)) = value.split_at_checked(7) else {
        return false;
    };
    scheme.eq_ignore_ascii_case(b"bearer ") && bool::from(token.ct_eq(key.0.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_exact_bearer_key_passes() {
        let key = ApiKey("0123456789abcdef".into());
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
