//! The web app (`GET /`, `GET /app/{file}`) and the training reports
//! (`GET /reports/{file}`), embedded in the binary. Every page is sent with a
//! strict Content-Security-Policy: the app runs only its own scripts, and a
//! report runs none.

use include_dir::{Dir, include_dir};
use warp::http::Response as HttpResponse;
use warp::http::header::{self, HeaderValue};
use warp::reply::Response;

use warp::Reply as _;

use crate::http::errors::ApiError;
use crate::http::request::Request;

/// The app's files: HTML, CSS and JS modules, written by hand, with no build step.
static APP: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/web");

/// The training reports `cargo xtask train` writes, one per version.
static REPORTS: Dir<'_> = include_dir!("$CARGO_MANIFEST_DIR/../reports");

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
    params(("file" = String, Path, description = "A file of the web app", example = "app.js")),
    responses((status = 200, description = "The file", content_type = "text/javascript", body = String),
        (status = 404, description = "No such file", body = crate::http::errors::ErrorResponse)))]
pub async fn asset(r: Request) -> Response {
    app_file(r.param(0))
}

fn app_file(name: &str) -> Response {
    match APP.get_file(name) {
        Some(file) => page(
            file.contents(),
            content_type(file.path().to_str()),
            APP_POLICY,
        ),
        None => ApiError::NotFound.into_response(),
    }
}

/// `GET /reports/{file}`: a training report (`GET /model` links each version's).
#[utoipa::path(get, path = "/reports/{file}", tag = "operations",
    params(("file" = String, Path, description = "The report's file name")),
    responses((status = 200, description = "The report: HTML with inline SVG figures", content_type = "text/html", body = String),
        (status = 404, description = "No such report", body = crate::http::errors::ErrorResponse)))]
pub async fn report(r: Request) -> Response {
    report_file(r.param(0))
}

fn report_file(name: &str) -> Response {
    match REPORTS
        .get_file(name)
        .filter(|f| f.path().extension().is_some_and(|e| e == "html"))
    {
        Some(file) => page(file.contents(), "text/html; charset=utf-8", REPORT_POLICY),
        None => ApiError::NotFound.into_response(),
    }
}

/// Where the training report of `name` at `version` is served, if the
/// binary carries one.
pub fn report_path(name: &str, version: &str) -> Option<String> {
    let file = format!("{name}_v{version}.html");
    REPORTS.get_file(&file).map(|_| format!("/reports/{file}"))
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
        let path = report_path(model.name(), model.version()).unwrap();
        let r = report_file(path.trim_start_matches("/reports/"));
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()[header::CONTENT_SECURITY_POLICY], REPORT_POLICY);
        assert!(report_path(model.name(), "9.9.9").is_none());
        assert_eq!(report_file("README.md").status(), 404);
    }
}
