//! The admin handlers: the prediction history (pages, one record, CSV
//! export), ground-truth feedback and monitoring. Only routed when history
//! is on, behind the admin key or loopback ([`crate::rest::auth::check`]).

use bytes::Bytes;
use futures_util::StreamExt;
use warp::http::{HeaderMap, StatusCode};
use warp::reply::Response;

use crate::history::monitoring::MonitoringReport;
use crate::history::recorder::Recorder;
use crate::history::report::report;
use crate::history::store::{FeedbackProblem, Filter};
use crate::http::input::{self, Format};
use crate::http::output::{self, FeedbackResponse, HistoryPage};
use crate::http::query::{self, HistoryQuery, MonitoringQuery};
use crate::rest::errors::ApiError;
use crate::rest::reply;
use crate::rest::request::{Body, Request};
use crate::serving::errors::{ErrorItem, RequestError};
use crate::serving::models::ReloadReport;
use crate::serving::reload;
use crate::serving::state::AppState;

fn answer(result: Result<Response, ApiError>) -> Response {
    result.unwrap_or_else(warp::Reply::into_response)
}

fn history(state: &AppState) -> Result<&Recorder, ApiError> {
    state.history.as_ref().ok_or(ApiError::NoRoute)
}

fn failed(recorder: &Recorder, e: &sqlx::Error) -> RequestError {
    tracing::warn!(error = %e, "history query failed");
    RequestError::StoreUnavailable(recorder.store.unavailable(e).to_string())
}

/// `GET /history`: a page of stored predictions, newest first; every
/// matching row as streamed CSV with `Accept: text/csv`.
#[utoipa::path(get, path = "/history", tag = "history",
    params(HistoryQuery),
    security((), ("admin_key" = [])),
    responses(
        (status = 200, description = "A page (JSON), or every matching record (CSV with `Accept: text/csv`)", content(
            (HistoryPage = "application/json"),
            (String = "text/csv"),
        )),
        (status = 400, description = "A bad query parameter (named)", body = crate::rest::errors::ErrorResponse),
        (status = 401, description = "`ADMIN_API_KEY` is set and the bearer token is missing or wrong", body = crate::rest::errors::ErrorResponse),
        (status = 403, description = "No `ADMIN_API_KEY` is set and the client is not on loopback", body = crate::rest::errors::ErrorResponse),
        (status = 503, description = "The history store is unavailable", body = crate::rest::errors::ErrorResponse),
    ))]
pub async fn list(r: Request) -> Response {
    answer(list_page(&r.state, r.query.as_deref(), &r.headers).await)
}

async fn list_page(
    state: &AppState,
    query: Option<&str>,
    headers: &HeaderMap,
) -> Result<Response, ApiError> {
    let recorder = history(state)?;
    let query: HistoryQuery = query::parse(query)?;
    let filter = query.filter();
    if input::answer_format(headers) == Format::Csv {
        query.without_pages()?;
        return Ok(csv_export(recorder, filter));
    }
    let limit = query.page();
    let cursor = query.cursor;
    let mut rows = recorder
        .store
        .page(&filter, cursor.as_ref(), limit + 1)
        .await
        .map_err(|e| failed(recorder, &e))?;
    let next_cursor = if rows.len() > limit {
        rows.truncate(limit);
        rows.last().map(|r| query::cursor_text(r.time_us, &r.id))
    } else {
        None
    };
    Ok(reply::json(
        &HistoryPage {
            items: rows.into_iter().map(output::history_item).collect(),
            next_cursor,
        },
        StatusCode::OK,
    ))
}

/// Every matching row as CSV, streamed: the body is written as the
/// database sends rows, so memory stays flat at any size. A failure after
/// the first bytes ends the body early (the client sees a truncated CSV
/// without the final newline, and the log says why).
fn csv_export(recorder: &Recorder, filter: Filter) -> Response {
    let header = futures_util::stream::once(async {
        Ok::<Bytes, std::io::Error>(output::history_csv_header().into())
    });
    let rows = recorder
        .store
        .stream(filter)
        .ready_chunks(256)
        .map(|chunk| {
            let mut out = Vec::with_capacity(chunk.len() * 128);
            for row in chunk {
                match row {
                    Ok(row) => output::history_csv_line(&row, &mut out),
                    Err(e) => {
                        tracing::error!(error = %e, "history export failed");
                        return Err(std::io::Error::other(e.to_string()));
                    }
                }
            }
            Ok(Bytes::from(out))
        });
    reply::streamed(header.chain(rows), "text/csv; charset=utf-8")
}

/// `GET /history/{id}`: one record with its feedback.
#[utoipa::path(get, path = "/history/{id}", tag = "history",
    params(RecordPath),
    security((), ("admin_key" = [])),
    responses(
        (status = 200, description = "The record", body = crate::http::output::HistoryItem),
        (status = 401, description = "`ADMIN_API_KEY` is set and the bearer token is missing or wrong", body = crate::rest::errors::ErrorResponse),
        (status = 403, description = "No `ADMIN_API_KEY` is set and the client is not on loopback", body = crate::rest::errors::ErrorResponse),
        (status = 404, description = "No record has this id", body = crate::rest::errors::ErrorResponse),
        (status = 503, description = "The history store is unavailable", body = crate::rest::errors::ErrorResponse),
    ))]
pub async fn item(r: Request) -> Response {
    let path = r.path::<RecordPath>();
    answer(match path {
        Ok(path) => one(&r.state, &path.id).await,
        Err(e) => Err(e.into()),
    })
}

/// The path of one stored record.
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Path)]
struct RecordPath {
    /// The record's id (percent-encoded as any path segment).
    id: String,
}

async fn one(state: &AppState, id: &str) -> Result<Response, ApiError> {
    let recorder = history(state)?;
    let id = percent_decode(id).ok_or_else(|| {
        RequestError::BadRequest(vec![ErrorItem::field(
            "id",
            "is not valid percent-encoded UTF-8",
        )])
    })?;
    match recorder
        .store
        .get(&id)
        .await
        .map_err(|e| failed(recorder, &e))?
    {
        Some(row) => {
            let models = state.models.current();
            let explanation = models
                .get(Some(row.version.as_str()))
                .ok()
                .and_then(|model| output::explain_stored(model, &row.inputs));
            let mut item = output::history_item(row);
            item.explanation = explanation;
            Ok(reply::json(&item, StatusCode::OK))
        }
        None => Err(RequestError::NotFound(ErrorItem::field(
            "id",
            format!("no record has the id {id:?}"),
        ))
        .into()),
    }
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            out.push(crate::http::input::hex_byte(bytes.get(i + 1..i + 3)?)?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// `POST /feedback`: the true outcomes of served records, all or nothing.
#[utoipa::path(post, path = "/feedback", tag = "history",
    request_body(content = crate::http::input::FeedbackBody, content_type = "application/json"),
    security((), ("admin_key" = [])),
    responses(
        (status = 200, description = "Every item applied", body = FeedbackResponse),
        (status = 400, description = "Not a feedback body", body = crate::rest::errors::ErrorResponse),
        (status = 401, description = "`ADMIN_API_KEY` is set and the bearer token is missing or wrong", body = crate::rest::errors::ErrorResponse),
        (status = 403, description = "No `ADMIN_API_KEY` is set and the client is not on loopback", body = crate::rest::errors::ErrorResponse),
        (status = 413, description = "Body over `MAX_BODY_BYTES` or more than `MAX_BATCH` items", body = crate::rest::errors::ErrorResponse),
        (status = 415, description = "Content-Type is not JSON", body = crate::rest::errors::ErrorResponse),
        (status = 422, description = "Bad items: an unknown id, a value other than 0 or 1, or a value conflicting with the stored or an earlier one; nothing was applied", body = crate::rest::errors::ErrorResponse),
        (status = 503, description = "The history store is unavailable", body = crate::rest::errors::ErrorResponse),
    ))]
pub async fn feedback(r: Request) -> Response {
    let Request {
        state,
        headers,
        body,
        ..
    } = r;
    answer(apply_feedback(&state, &headers, body).await)
}

async fn apply_feedback(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let recorder = history(state)?;
    if input::body_format(headers)? != Format::Json {
        return Err(ApiError::UnsupportedMediaType(ErrorItem::field(
            "Content-Type",
            "send JSON (Content-Type: application/json)",
        )));
    }
    let bytes = crate::rest::body::read_body(headers, body, state.body).await?;
    let items = input::feedback(&bytes, state.max_batch)?;
    let problems = recorder
        .store
        .feedback(&items, crate::clock::now_us())
        .await
        .map_err(|e| failed(recorder, &e))?;
    if !problems.is_empty() {
        return Err(RequestError::Invalid(
            problems
                .into_iter()
                .map(|(row, problem)| match problem {
                    FeedbackProblem::Unknown => ErrorItem::at(
                        row,
                        "id",
                        format!("no record has the id {:?}", items[row].0),
                    ),
                    FeedbackProblem::Conflict(old) => ErrorItem::at(
                        row,
                        "survived",
                        format!(
                            "conflicts with the value {old} already given for {:?}",
                            items[row].0
                        ),
                    ),
                })
                .collect(),
        )
        .into());
    }
    Ok(reply::json(
        &FeedbackResponse {
            accepted: items.len(),
        },
        StatusCode::OK,
    ))
}

/// `GET /monitoring`: counts, positive rate, probability histogram, drift
/// (PSI) per feature, live metrics on the records with feedback, and how
/// far a shadow version agrees.
#[utoipa::path(get, path = "/monitoring", tag = "history",
    params(MonitoringQuery),
    security((), ("admin_key" = [])),
    responses(
        (status = 200, description = "The figures", body = MonitoringReport),
        (status = 400, description = "A bad query parameter (named), or a version not served", body = crate::rest::errors::ErrorResponse),
        (status = 401, description = "`ADMIN_API_KEY` is set and the bearer token is missing or wrong", body = crate::rest::errors::ErrorResponse),
        (status = 403, description = "No `ADMIN_API_KEY` is set and the client is not on loopback", body = crate::rest::errors::ErrorResponse),
        (status = 503, description = "The history store is unavailable", body = crate::rest::errors::ErrorResponse),
    ))]
pub async fn monitoring(r: Request) -> Response {
    answer(monitoring_report(&r.state, r.query.as_deref()).await)
}

async fn monitoring_report(state: &AppState, query: Option<&str>) -> Result<Response, ApiError> {
    let recorder = history(state)?;
    let query: MonitoringQuery = query::parse(query)?;
    let mut filter = query.filter();
    let models = state.models.current();
    // drift is measured against a version's own training data
    let model = models
        .get(filter.version.as_deref())
        .map_err(|e| match e {
            RequestError::NotFound(item) => RequestError::BadRequest(vec![item]),
            other => other,
        })?
        .clone();
    filter.version = Some(model.version().to_owned());
    let report = report(&model, recorder, filter)
        .await
        .map_err(|e| failed(recorder, &e))?;
    Ok(reply::json(&report, StatusCode::OK))
}

/// `POST /admin/reload`: reads `MODELS_DIR` again and says what is served.
#[utoipa::path(post, path = "/admin/reload", tag = "model",
    security((), ("admin_key" = [])),
    responses(
        (status = 200, description = "Reloaded: the versions served now, and the files refused (the others serve; a refused file's version keeps its previous load, if it had one)", body = ReloadReport),
        (status = 401, description = "`ADMIN_API_KEY` is set and the bearer token is missing or wrong", body = crate::rest::errors::ErrorResponse),
        (status = 403, description = "No `ADMIN_API_KEY` is set and the client is not on loopback", body = crate::rest::errors::ErrorResponse),
    ))]
pub async fn admin_reload(r: Request) -> Response {
    let report = reload::reload(r.state.reloader(), "POST /admin/reload").await;
    reply::json(&report, StatusCode::OK)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_in_paths_are_percent_decoded() {
        assert_eq!(percent_decode("a%20b%C3%A9").as_deref(), Some("a bé"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
        assert_eq!(percent_decode("%4"), None);
        assert_eq!(percent_decode("%+f"), None);
        assert_eq!(percent_decode("%-1"), None);
    }
}
