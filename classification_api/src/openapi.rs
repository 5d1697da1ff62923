//! The OpenAPI 3.1 description of the API, generated from the request and
//! response types (utoipa), and the Swagger UI page that shows it.

use std::sync::OnceLock;

use utoipa::OpenApi;

use warp::Reply;
use warp::reply::Response;

use crate::errors::{ErrorItem, ErrorResponse};
use crate::handlers;
use crate::input::PredictBody;
use crate::output::{self, HealthResponse, ModelInfo, PredictResponse, StatusResponse};

/// The API description.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "Titanic Survival Classification API",
        description = "Predicts whether a Titanic passenger survived, with the trained `classification_model` pipeline \
(imputation, rare-label grouping, one-hot encoding, scaling, logistic regression).\n\n\
`POST /predict` also takes CSV (`Content-Type: text/csv`, the dataset's header, any subset of its columns that \
includes pclass, sex, sibsp and parch) and answers CSV `row,prediction,probability` when asked with \
`Accept: text/csv`; CSV errors name the line and column.\n\n\
When the server runs with `API_KEY`, `POST /predict` requires `Authorization: Bearer <key>` (401 otherwise).",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        handlers::index, handlers::health, handlers::live, handlers::ready, handlers::model_info,
        handlers::metrics, handlers::predict, openapi_json, docs,
    ),
    components(schemas(
        HealthResponse, StatusResponse, PredictBody, PredictResponse, ErrorItem, ErrorResponse,
        ModelInfo, classification_model::PipelineSummary, classification_model::ColumnSummary,
        classification_model::Passenger, classification_model::Explanation,
        classification_model::FeatureSpec,
    )),
    tags(
        (name = "prediction", description = "Survival predictions"),
        (name = "model", description = "The model served"),
        (name = "operations", description = "Health, readiness and metrics"),
    )
)]
pub struct ApiDoc;

/// The description as JSON (built once).
pub fn spec_json() -> &'static str {
    static SPEC: OnceLock<String> = OnceLock::new();
    SPEC.get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        let mut value = serde_json::to_value(&doc).unwrap_or_default();
        // the exact record schema, with the validator's own patterns
        value["components"]["schemas"]["Passenger"] = classification_model::json_schema();
        value.to_string()
    })
}

/// `GET /openapi.json`: the OpenAPI 3.1 description.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json", body = Object)))]
pub fn openapi_json() -> Response {
    output::typed(Response::new(spec_json().into()), "application/json")
}

/// `GET /docs`: Swagger UI.
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 200, description = "Swagger UI", content_type = "text/html", body = String)))]
pub fn docs() -> Response {
    warp::reply::html(docs_html()).into_response()
}

/// The Swagger UI page, loaded from a CDN as FastAPI does, with the
/// description inline.
pub fn docs_html() -> &'static str {
    static HTML: OnceLock<String> = OnceLock::new();
    HTML.get_or_init(|| {
        // keep `</script>` inside the JSON from closing the script element
        let spec = spec_json().replace("</", "<\\/");
        format!(
            r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Titanic Survival Classification API - Swagger UI</title>
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>
window.ui = SwaggerUIBundle({{ spec: {spec}, dom_id: "#swagger-ui", deepLinking: true }});
</script>
</body>
</html>
"##
        )
    })
}
