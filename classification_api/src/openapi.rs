//! The OpenAPI 3.1 description of the API, generated from the request and
//! response types (utoipa), and the Swagger UI page that shows it.

use std::sync::OnceLock;

use utoipa::OpenApi;

use crate::errors::ErrorItem;
use crate::handlers;
use crate::models::{
    ColumnSummary, ErrorResponse, HealthResponse, ModelInfo, PipelineSummary, PredictBody,
    PredictResponse, StatusResponse,
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
When the server runs with `API_KEY`, `POST /predict` requires `Authorization: Bearer <key>` (401 otherwise).",
        license(name = "MIT OR Apache-2.0")
    ),
    paths(
        handlers::index, handlers::health, handlers::live, handlers::ready, handlers::model_info,
        handlers::metrics, handlers::predict, handlers::openapi_json, handlers::docs,
    ),
    components(schemas(
        HealthResponse, StatusResponse, PredictBody, PredictResponse, ErrorItem, ErrorResponse,
        ModelInfo, PipelineSummary, ColumnSummary, classification_model::Passenger,
        classification_model::Explanation,
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
        value["components"]["schemas"]["Passenger"] =
            classification_model::passenger::json_schema();
        value.to_string()
    })
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
