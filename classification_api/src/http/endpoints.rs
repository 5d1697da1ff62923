//! The course's REST endpoints (`/predict`, operations, the model, the
//! web app, the admin endpoints, the OpenAPI description), each declared
//! once: its handler's `#[utoipa::path]` and its line of [`endpoints`].

use std::sync::OnceLock;

use warp::reply::Response;

use crate::http::{admin, handlers, openapi, web};
use crate::rest::endpoint::{Endpoint, boxed};
use crate::rest::reply;
use crate::rest::request::{Access, Request};

/// This adapter's endpoints, the hot ones first.
pub fn endpoints() -> Vec<Endpoint> {
    use Access::*;
    use handlers::*;
    let admin = Admin { always: false };
    vec![
        Endpoint::new::<__path_predict>(Predict, |r| boxed(predict(r))),
        Endpoint::new::<__path_health>(Open, |r| boxed(health(r))),
        Endpoint::new::<__path_live>(Open, |r| boxed(live(r))),
        Endpoint::new::<__path_ready>(Open, |r| boxed(ready(r))),
        Endpoint::new::<__path_model_info>(Open, |r| boxed(model_info(r))),
        Endpoint::new::<__path_metrics>(Open, |r| boxed(metrics(r))),
        Endpoint::new::<web::__path_index>(Open, |r| boxed(web::index(r))),
        Endpoint::new::<web::__path_asset>(Open, |r| boxed(web::asset(r))),
        Endpoint::new::<web::__path_report>(Open, |r| boxed(web::report(r))),
        Endpoint::new::<__path_openapi_json>(Open, |r| boxed(openapi_json(r))),
        Endpoint::new::<__path_docs>(Open, |r| boxed(docs(r))),
        Endpoint::new::<admin::__path_list>(admin, |r| boxed(admin::list(r))),
        Endpoint::new::<admin::__path_item>(admin, |r| boxed(admin::item(r))),
        Endpoint::new::<admin::__path_feedback>(admin, |r| boxed(admin::feedback(r))),
        Endpoint::new::<admin::__path_monitoring>(admin, |r| boxed(admin::monitoring(r))),
        Endpoint::new::<admin::__path_admin_reload>(Admin { always: true }, |r| {
            boxed(admin::admin_reload(r))
        }),
    ]
}

/// `GET /openapi.json`: the OpenAPI 3.1 description.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json", body = Object)))]
pub async fn openapi_json(r: Request) -> Response {
    reply::typed(
        Response::new(r.spec.json(r.state.history.is_some()).into()),
        "application/json",
    )
}

/// `GET /docs`: Swagger UI.
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 200, description = "Swagger UI", content_type = "text/html", body = String)))]
pub async fn docs(r: Request) -> Response {
    // built once per variant: the table is the binary's, fixed at start
    static PAGES: [OnceLock<String>; 2] = [OnceLock::new(), OnceLock::new()];
    let history = r.state.history.is_some();
    let page = PAGES[usize::from(history)].get_or_init(|| openapi::docs_page(r.spec.json(history)));
    warp::Reply::into_response(warp::reply::html(page.as_str()))
}
