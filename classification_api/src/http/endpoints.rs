//! The course's REST endpoints (`/predict`, operations, the model, the
//! web app, the admin endpoints, the OpenAPI description), each declared
//! once: its handler's `#[utoipa::path]` and its line of [`endpoints`]'s
//! table.

use std::sync::OnceLock;

use warp::reply::Response;

use crate::http::admin::{
    __path_admin_reload, __path_feedback, __path_item, __path_list, __path_monitoring,
    admin_reload, feedback, item, list, monitoring,
};
use crate::http::handlers::{
    __path_health, __path_live, __path_metrics, __path_model_info, __path_predict, __path_ready,
    health, live, metrics, model_info, predict, ready,
};
use crate::http::openapi;
use crate::http::web::{__path_asset, __path_index, __path_report, asset, index, report};
use crate::rest::endpoint::endpoint_table;
use crate::rest::reply;
use crate::rest::request::{Access, Request};

endpoint_table!(Described {
    predict: Access::Predict,
    health: Access::Open,
    live: Access::Open,
    ready: Access::Open,
    model_info: Access::Open,
    metrics: Access::Open,
    index: Access::Open,
    asset: Access::Open,
    report: Access::Open,
    openapi_json: Access::Open,
    docs: Access::Open,
    list: ADMIN,
    item: ADMIN,
    feedback: ADMIN,
    monitoring: ADMIN,
    admin_reload: Access::Admin { always: true },
});

/// The history's admin endpoints: absent with `HISTORY=off`.
const ADMIN: Access = Access::Admin { always: false };

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
