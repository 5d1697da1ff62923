//! The OpenAPI 3.1 description of the API, generated from the request and
//! response types (utoipa), and the Swagger UI page that shows it.

use std::sync::OnceLock;

use utoipa::OpenApi;

use warp::Reply;
use warp::reply::Response;

use std::sync::Arc;

use crate::history::monitoring::{
    DriftBin, FeatureDrift, HistogramBin, MonitoringReport, ShadowAgreement, TimeBucket, Timeline,
};
use crate::http::admin;
use crate::http::errors::{ErrorItem, ErrorResponse, ProtocolError};
use crate::http::handlers;
use crate::http::input::{FeedbackBody, FeedbackItem, PredictBody};
use crate::http::output::{
    self, FeedbackResponse, HealthResponse, HistoryItem, HistoryPage, ModelInfo, PredictResponse,
    StatusResponse, VersionInfo,
};
use crate::http::paths::ADMIN_PREFIXES;
use crate::http::state::AppState;
use crate::http::web;
use crate::serving::models::{Refused, ReloadReport};
use crate::v2;
use crate::v2::request::{InferRequest, Parameters, RequestInput, RequestOutput};
use crate::v2::response::{
    InferResponse, ModelMetadata, ResponseOutput, ServerMetadata, TensorMetadata,
};

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
`?version=X.Y.Z` scores with another version served (`GET /model` lists them).\n\n\
When the server runs with `API_KEY`, `POST /predict` requires `Authorization: Bearer <key>` (401 otherwise).",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        web::index, web::asset, web::report, handlers::health, handlers::live, handlers::ready, handlers::model_info,
        handlers::metrics, handlers::predict, openapi_json, docs,
        admin::list, admin::item, admin::feedback, admin::monitoring, admin::admin_reload,
        v2::server_metadata, v2::live, v2::ready, v2::model_metadata, v2::model_ready, v2::infer,
        v2::version_metadata, v2::version_ready, v2::infer_version,
    ),
    modifiers(&AdminKey),
    components(schemas(
        HealthResponse, StatusResponse, PredictBody, PredictResponse, ErrorItem, ErrorResponse,
        ModelInfo, VersionInfo, ReloadReport, Refused, classification_model::PipelineSummary, classification_model::ColumnSummary,
        classification_model::Passenger, classification_model::Explanation,
        classification_model::FeatureSpec,
        HistoryItem, HistoryPage, FeedbackResponse, FeedbackBody, FeedbackItem,
        MonitoringReport, HistogramBin, FeatureDrift, DriftBin, ShadowAgreement, Timeline, TimeBucket,
        classification_model::LiveScores, classification_model::Scores,
        ProtocolError, ServerMetadata, ModelMetadata, TensorMetadata, InferRequest, RequestInput,
        RequestOutput, Parameters, InferResponse, ResponseOutput,
    )),
    tags(
        (name = "prediction", description = "Survival predictions"),
        (name = "model", description = "The model versions served: the embedded one, and those in MODELS_DIR \
(reloaded when it changes, on SIGHUP and on `POST /admin/reload`, which takes the admin key)"),
        (name = "operations", description = "Health, readiness and metrics"),
        (name = "inference protocol", description = "The Open Inference Protocol (KServe V2, REST), with Triton's binary tensor data extension: \
one input per dataset column (MLServer's pandas convention)"),
        (name = "history", description = "Admin: stored predictions, feedback and monitoring (absent with HISTORY=off; \
`Authorization: Bearer <ADMIN_API_KEY>` when that is set, else loopback clients only)"),
    )
)]
pub struct ApiDoc;

/// The bearer scheme of the admin endpoints.
struct AdminKey;

impl utoipa::Modify for AdminKey {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "admin_key",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("ADMIN_API_KEY"))
                    .build(),
            ),
        );
    }
}

/// The description as JSON (built once per variant): with the history
/// endpoints, or without them for `HISTORY=off`.
pub fn spec_json(history: bool) -> &'static str {
    static WITH: OnceLock<String> = OnceLock::new();
    static WITHOUT: OnceLock<String> = OnceLock::new();
    (if history { &WITH } else { &WITHOUT }).get_or_init(|| {
        let mut doc = ApiDoc::openapi();
        doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
        let mut value = serde_json::to_value(&doc).unwrap_or_default();
        // the exact record schema, with the validator's own patterns, and
        // the record's own id
        let mut passenger = classification_model::json_schema();
        passenger["properties"][classification_model::ID_KEY] = serde_json::json!({
            "type": "string",
            "minLength": 1,
            "maxLength": crate::http::input::MAX_ID_CHARS,
            "pattern": "^[^\\u0000-\\u001f\\u007f-\\u009f]*$",
            "description": "The record's own id, unique among stored records; the server makes one (a UUIDv7) when absent"
        });
        value["components"]["schemas"]["Passenger"] = passenger;
        if !history {
            if let Some(paths) = value["paths"].as_object_mut() {
                paths.retain(|p, _| !ADMIN_PREFIXES.iter().any(|a| p.starts_with(a)));
            }
        }
        value.to_string()
    })
}

/// `GET /openapi.json`: the OpenAPI 3.1 description.
#[utoipa::path(get, path = "/openapi.json", tag = "operations",
    responses((status = 200, description = "OpenAPI 3.1", content_type = "application/json", body = Object)))]
pub fn openapi_json(state: Arc<AppState>) -> Response {
    output::typed(
        Response::new(spec_json(state.history.is_some()).into()),
        "application/json",
    )
}

/// `GET /docs`: Swagger UI.
#[utoipa::path(get, path = "/docs", tag = "operations",
    responses((status = 200, description = "Swagger UI", content_type = "text/html", body = String)))]
pub fn docs(state: Arc<AppState>) -> Response {
    warp::reply::html(docs_html(state.history.is_some())).into_response()
}

/// The Swagger UI page, loaded from a CDN as FastAPI does, with the
/// description inline.
pub fn docs_html(history: bool) -> &'static str {
    static WITH: OnceLock<String> = OnceLock::new();
    static WITHOUT: OnceLock<String> = OnceLock::new();
    (if history { &WITH } else { &WITHOUT }).get_or_init(|| {
        // keep `</script>` inside the JSON from closing the script element
        let spec = spec_json(history).replace("</", "<\\/");
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
