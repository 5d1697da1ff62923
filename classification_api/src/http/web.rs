//! The web app (`GET /`, `GET /app/{file}`) and the training reports
//! (`GET /reports/{file}`), embedded in the binary. Every page is sent with a
//! strict Content-Security-Policy: the app runs only its own scripts, and a
//! report runs none.

use include_dir::{Dir, include_dir};
use warp::http::Response as HttpResponse;
use warp::http::header::{self, HeaderValue};
use warp::reply::Response;

use warp::Reply as _;

use crate::rest::errors::ApiError;
use crate::rest::request::Request;

/// The app's files: HTML, CSS and JS modules, written by hand, with no build step.
static APP: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/web");

/// The app's policy: its own files and the API, nothing inline, no frames.
const APP_POLICY: &str = "default-src 'self'; img-src 'self' data:; object-src 'none'; \
     base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/// A report's policy: its one `<style>` element and inline SVG, no script.
const REPORT_POLICY: &str = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; \
     base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

/// `GET /`: the web app's page.
#[utoipa::path(get, path = "/", tag = "operations",
    responses((status = 200, description = "The web app: predict with explanations, score a CSV, history, monitoring, model card", content_type = "text/html", body = String)))]
pub async fn index(_: Request) -> Response {
    app_file("index.html")
}

/// `GET /app/{file}`: one of the app's files.
#[utoipa::path(get, path = "/app/{file}", tag = "operations",
    params(AppPath),
    responses((status = 200, description = "The file", content_type = "text/javascript", body = String),
        (status = 404, description = "No such file", body = crate::rest::errors::ErrorResponse)))]
pub async fn asset(r: Request) -> Response {
    match r.path::<AppPath>() {
        Ok(path) => app_file(&path.file),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The path of one of the web app's files.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
struct AppPath {
    /// A file of the web app.
    #[param(example = "app.js")]
    file: String,
}

fn app_file(name: &str) -> Response {
    match APP.get_file(name) {
        Some(file) => page(
            file.contents(),
            content_type(file.path().to_str()),
            APP_POLICY,
        ),
        None => ApiError::NoRoute.into_response(),
    }
}

/// `GET /reports/{file}`: a training report (`GET /model` links each version's).
#[utoipa::path(get, path = "/reports/{file}", tag = "operations",
    params(ReportPath),
    responses((status = 200, description = "The report: HTML with inline SVG figures", content_type = "text/html", body = String),
        (status = 404, description = "No such report", body = crate::rest::errors::ErrorResponse)))]
pub async fn report(r: Request) -> Response {
    match r.path::<ReportPath>() {
        Ok(path) => report_file(&path.file),
        Err(e) => ApiError::from(e).into_response(),
    }
}

/// The path of a training report.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
struct ReportPath {
    /// The report's file name.
    file: String,
}

fn report_file(name: &str) -> Response {
    match crate::serving::reports::report(name) {
        Some(contents) => page(contents, "text/html; charset=utf-8", REPORT_POLICY),
        None => ApiError::NoRoute.into_response(),
    }
}

fn content_type(path: Option<&str>) -> &'static str {
    match path.and_then(|p| p.rsplit_once('.')).map(|(_, ext)| ext) {
        Some("html") => "text/html; charset=utf-8",
        Some("css") => "text/css; charset=utf-8",
        Some("js") => "text/javascript; charset=utf-8",
        Some("svg") => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn page(body: &'static [u8], content_type: &'static str, policy: &'static str) -> Response {
    let mut response = HttpResponse::new(body.into());
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(policy),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    // the files change only with the binary; revalidate, never serve stale
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_app_file_is_served_with_its_type_and_the_policy() {
        assert!(APP.get_file("index.html").is_some());
        for file in APP.files() {
            let name = file.path().to_str().unwrap();
            let r = app_file(name);
            assert_eq!(r.status(), 200, "{name}");
            assert_ne!(
                r.headers()[header::CONTENT_TYPE],
                "application/octet-stream",
                "{name}"
            );
            assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], APP_POLICY);
        }
        assert_eq!(app_file("missing.js").status(), 404);
        assert_eq!(app_file("../Cargo.toml").status(), 404);
    }

    #[test]
    fn the_embedded_models_report_is_served_without_scripts() {
        let model = classification_model::Model::embedded().unwrap();
        let report_path = crate::serving::reports::report_path;
        let path = report_path(model.name(), model.version()).unwrap();
        let r = report_file(path.trim_start_matches("/reports/"));
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], REPORT_POLICY);
        assert!(report_path(model.name(), "9.9.9").is_none());
        assert_eq!(report_file("README.md").status(), 404);
    }
}
