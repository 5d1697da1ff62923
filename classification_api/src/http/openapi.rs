//! The OpenAPI 3.1 description of the API, generated from the request and
//! response types (utoipa) and the operations the endpoint table gives it,
//! and the Swagger UI page that shows it.

use utoipa::OpenApi;
use utoipa::openapi::path::{HttpMethod, Operation};

use crate::history::monitoring::{
    DriftBin, FeatureDrift, HistogramBin, MonitoringReport, ShadowAgreement, TimeBucket, Timeline,
};
use crate::http::input::{FeedbackBody, FeedbackItem, PredictBody};
use crate::http::output::{
    FeedbackResponse, HealthResponse, HistoryItem, HistoryPage, ModelInfo, PredictResponse,
};
use crate::rest::errors::ErrorResponse;
use crate::rest::reply::StatusResponse;
use crate::serving::errors::ErrorItem;
use crate::serving::models::{Refused, ReloadReport};
use crate::serving::versions::VersionInfo;

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
    modifiers(&AdminKey),
    components(schemas(
        HealthResponse, StatusResponse, PredictBody, PredictResponse, ErrorItem, ErrorResponse,
        ModelInfo, VersionInfo, ReloadReport, Refused, classification_model::artifact::PipelineSummary, classification_model::artifact::ColumnSummary,
        classification_model::Passenger, classification_model::Explanation,
        classification_model::schema::FeatureSpec,
        HistoryItem, HistoryPage, FeedbackResponse, FeedbackBody, FeedbackItem,
        MonitoringReport, HistogramBin, FeatureDrift, DriftBin, ShadowAgreement, Timeline, TimeBucket,
        classification_model::metrics::LiveScores, classification_model::metrics::Scores,
    )),
    tags(
        (name = "prediction", description = "Survival predictions"),
        (name = "model", description = "The model versions served: the embedded one, and those in MODELS_DIR \
(reloaded when it changes, on SIGHUP and on `POST /admin/reload`, which takes the admin key)"),
        (name = "operations", description = "Health, readiness and metrics"),
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

/// The description as JSON, with the other adapters' frames (their
/// schemas and tags) merged in, and the operations of `paths` (path,
/// method, operation).
pub fn document(
    others: impl IntoIterator<Item = utoipa::openapi::OpenApi>,
    paths: impl IntoIterator<Item = (&'static str, HttpMethod, Operation)>,
) -> String {
    let mut doc = ApiDoc::openapi();
    for other in others {
        doc.merge(other);
    }
    doc.info.version = env!("CARGO_PKG_VERSION").to_owned();
    for (path, method, operation) in paths {
        doc.paths.add_path_operation(path, vec![method], operation);
    }
    let mut value = serde_json::to_value(&doc).unwrap_or_default();
    // the exact record schema, with the validator's own patterns, and
    // the record's own id
    let mut passenger = classification_model::schema::json_schema();
    passenger["properties"][crate::serving::ids::ID_KEY] = serde_json::json!({
        "type": "string",
        "minLength": 1,
        "maxLength": crate::serving::ids::MAX_ID_CHARS,
        "pattern": crate::serving::ids::ID_PATTERN,
        "description": "The record's own id, unique among stored records; the server makes one (a UUIDv7) when absent"
    });
    value["components"]["schemas"]["Passenger"] = passenger;
    value.to_string()
}

/// The Swagger UI page of `spec`, loaded from a CDN as FastAPI does, with
/// the description inline.
pub fn docs_page(spec: &str) -> String {
    // keep `</script>` inside the JSON from closing the script element
    let spec = spec.replace("</", "<\\/");
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
}
