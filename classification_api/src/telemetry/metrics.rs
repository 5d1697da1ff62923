//! Prometheus metrics: requests by route and status, latency, predictions by
//! class, validation failures, the model versions loaded and their reloads.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::metrics::info::Info;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

/// A route's path pattern (`/history/{id}`) and its method, as labels.
pub type Route = (&'static str, &'static str);

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    protocol: &'static str,
    method: &'static str,
    code: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcMethodLabels {
    protocol: &'static str,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ClassLabels {
    class: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FieldLabels {
    field: &'static str,
}

/// The service's metrics.
///
/// The series every ordinary request touches (a route's 200 count, its
/// latency histogram, the two prediction classes) are created up front and
/// kept as handles, so the request path does no label hashing or map locking
/// for them; they also show in `/metrics` at zero from the start. Paths
/// outside the route table count as `other`, so that clients cannot create
/// unbounded label values.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    /// The routes' labels, in the route table's order.
    routes: Vec<Route>,
    requests: Family<RequestLabels, Counter>,
    /// Per route of the route table: its method's 200 count.
    ok_by_route: Vec<Counter>,
    /// Per route of the route table, then `other`.
    latency_by_route: Vec<Histogram>,
    rpc_requests: Family<RpcLabels, Counter>,
    rpc_latency: Family<RpcMethodLabels, Histogram>,
    survived: Counter,
    died: Counter,
    rejected_requests: Counter,
    field_errors: Family<FieldLabels, Counter>,
    monitoring: Family<FigureLabels, Gauge<f64, AtomicU64>>,
    drift: Family<FeatureLabels, Gauge<f64, AtomicU64>>,
    store_up: Gauge,
    versions: Family<VersionLabels, Gauge>,
    loads: Counter,
    refused: Counter,
    shadow_records: Counter,
    shadow_agreements: Counter,
    shadow_difference: Histogram,
    shadow_dropped: Counter,
    shadow_unstored: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct VersionLabels {
    version: String,
    /// `default`, `shadow` or `other`.
    role: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FigureLabels {
    figure: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct FeatureLabels {
    feature: String,
}

impl Metrics {
    /// Fresh metrics for a service serving `model_version`.
    pub fn new(model_name: &str, model_version: &str, routes: &[Route]) -> Self {
        let mut registry = Registry::default();
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests by route, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            // 25 µs to about 0.8 s
            Histogram::new(exponential_buckets(0.000_025, 2.0, 16))
        });
        registry.register(
            "http_request_duration_seconds",
            "Time to answer, by route",
            latency.clone(),
        );
        let rpc_requests = Family::<RpcLabels, Counter>::default();
        registry.register(
            "rpc_requests",
            "Calls by protocol (grpc), method and status code",
            rpc_requests.clone(),
        );
        let rpc_latency = Family::<RpcMethodLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_025, 2.0, 16))
        });
        registry.register(
            "rpc_request_duration_seconds",
            "Time to answer a call, by protocol and method",
            rpc_latency.clone(),
        );
        let predictions = Family::<ClassLabels, Counter>::default();
        registry.register(
            "predictions",
            "Passengers predicted, by predicted class",
            predictions.clone(),
        );
        let rejected_requests = Counter::default();
        registry.register(
            "validation_failures",
            "Prediction requests rejected because some record was invalid (422)",
            rejected_requests.clone(),
        );
        let field_errors = Family::<FieldLabels, Counter>::default();
        registry.register(
            "validation_errors",
            "Invalid fields, by field",
            field_errors.clone(),
        );
        registry.register(
            "model",
            "The model served",
            Info::new(vec![
                ("name", model_name.to_owned()),
                ("version", model_version.to_owned()),
            ]),
        );
        let monitoring = Family::<FigureLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "monitoring",
            "What /monitoring reports on the served version's whole history (records, positive_rate; on the records with feedback: feedback_rows, accuracy, roc_auc, log_loss, brier), refreshed every MONITORING_REFRESH_SECS",
            monitoring.clone(),
        );
        let drift = Family::<FeatureLabels, Gauge<f64, AtomicU64>>::default();
        registry.register(
            "monitoring_psi",
            "Population stability index of each feature against the training data (drifted above 0.2)",
            drift.clone(),
        );
        let store_up = Gauge::default();
        registry.register(
            "history_store_up",
            "1 while the history store accepts writes, 0 while it is down (absent with HISTORY=off)",
            store_up.clone(),
        );
        let versions = Family::<VersionLabels, Gauge>::default();
        registry.register(
            "model_versions_loaded",
            "1 for each model version served, by role (default, shadow or other)",
            versions.clone(),
        );
        let loads = Counter::default();
        registry.register(
            "model_loads",
            "Loads of the model versions: the start, then each reload (MODELS_DIR changed, SIGHUP or POST /admin/reload)",
            loads.clone(),
        );
        let refused = Counter::default();
        registry.register(
            "model_artifacts_refused",
            "Artifact files a load refused (corrupt, inconsistent, misnamed...; the log says why)",
            refused.clone(),
        );
        let shadow_records = Counter::default();
        registry.register(
            "shadow_records",
            "Records the shadow version (SHADOW_MODEL_VERSION) scored",
            shadow_records.clone(),
        );
        let shadow_agreements = Counter::default();
        registry.register(
            "shadow_agreements",
            "Records the shadow version gave the served prediction",
            shadow_agreements.clone(),
        );
        let shadow_difference = Histogram::new(exponential_buckets(0.0001, 4.0, 8));
        registry.register(
            "shadow_probability_difference",
            "|served probability - shadow probability| per record",
            shadow_difference.clone(),
        );
        let shadow_dropped = Counter::default();
        registry.register(
            "shadow_dropped",
            "Records the shadow did not score (its queue was full)",
            shadow_dropped.clone(),
        );
        registry.register(
            "otel_spans_dropped",
            "Spans not exported because the export queue was full (the collector down or slow; traces on only)",
            crate::telemetry::traces::SPANS_DROPPED.clone(),
        );
        let shadow_unstored = Counter::default();
        registry.register(
            "shadow_unstored",
            "Shadow answers the history store did not take (it was down)",
            shadow_unstored.clone(),
        );
        let ok_by_route = routes
            .iter()
            .map(|&(route, method)| {
                requests
                    .get_or_create(&RequestLabels {
                        route,
                        method,
                        status: 200,
                    })
                    .clone()
            })
            .collect();
        let latency_by_route = routes
            .iter()
            .map(|r| r.0)
            .chain(["other"])
            .map(|route| latency.get_or_create(&RouteLabels { route }).clone())
            .collect();
        let class = |class| predictions.get_or_create(&ClassLabels { class }).clone();
        let (survived, died) = (class("1"), class("0"));
        Self {
            routes: routes.to_vec(),
            registry,
            requests,
            ok_by_route,
            latency_by_route,
            rpc_requests,
            rpc_latency,
            survived,
            died,
            rejected_requests,
            field_errors,
            monitoring,
            drift,
            store_up,
            versions,
            loads,
            refused,
            shadow_records,
            shadow_agreements,
            shadow_difference,
            shadow_dropped,
            shadow_unstored,
        }
    }

    /// Records how the shadow's answers compare with the served ones.
    pub fn record_shadow(&self, served: &[u8], shadow: &[u8], served_p: &[f64], shadow_p: &[f64]) {
        self.shadow_records.inc_by(served.len() as u64);
        let same = served.iter().zip(shadow).filter(|(a, b)| a == b).count();
        self.shadow_agreements.inc_by(same as u64);
        for (a, b) in served_p.iter().zip(shadow_p) {
            self.shadow_difference.observe((a - b).abs());
        }
    }

    /// Records records the shadow did not score.
    pub fn record_shadow_dropped(&self, records: usize) {
        self.shadow_dropped.inc_by(records as u64);
    }

    /// Records shadow answers the store did not take.
    pub fn record_shadow_unstored(&self, records: usize) {
        self.shadow_unstored.inc_by(records as u64);
    }

    /// Records a load of the model versions: what is served, and how many
    /// files were refused.
    pub fn record_reload(
        &self,
        versions: impl IntoIterator<Item = (String, &'static str)>,
        refused: usize,
    ) {
        self.loads.inc();
        self.refused.inc_by(refused as u64);
        self.versions.clear();
        for (version, role) in versions {
            self.versions
                .get_or_create(&VersionLabels { version, role })
                .set(1);
        }
    }

    /// Sets the monitoring gauges: each figure (`records`, `accuracy`...,
    /// NaN where there is none yet) and each feature's PSI.
    pub fn record_monitoring<'a>(
        &self,
        figures: impl IntoIterator<Item = (&'static str, f64)>,
        drift: impl IntoIterator<Item = (&'a str, f64)>,
    ) {
        for (figure, value) in figures {
            self.monitoring
                .get_or_create(&FigureLabels { figure })
                .set(value);
        }
        for (feature, psi) in drift {
            self.drift
                .get_or_create(&FeatureLabels {
                    feature: feature.to_owned(),
                })
                .set(psi);
        }
    }

    /// Records whether the history store accepts writes.
    pub fn record_store_up(&self, up: bool) {
        self.store_up.set(i64::from(up));
    }

    /// Records one answered call of an RPC protocol (`grpc`): its method
    /// and status code (`OK`, `INVALID_ARGUMENT`...).
    pub fn record_rpc(
        &self,
        protocol: &'static str,
        method: &'static str,
        code: &'static str,
        seconds: f64,
    ) {
        self.rpc_requests
            .get_or_create(&RpcLabels {
                protocol,
                method,
                code,
            })
            .inc();
        self.rpc_latency
            .get_or_create(&RpcMethodLabels { protocol, method })
            .observe(seconds);
    }

    /// Records one answered request.
    pub fn record_request(&self, index: Option<usize>, method: &str, status: u16, seconds: f64) {
        let index = index.filter(|i| *i < self.routes.len());
        let route = index.map_or("other", |i| self.routes[i].0);
        let method = ["GET", "POST", "HEAD", "OPTIONS"]
            .into_iter()
            .find(|m| *m == method)
            .unwrap_or("other");
        match index {
            Some(i) if status == 200 && method == self.routes[i].1 => {
                self.ok_by_route[i].inc();
            }
            _ => {
                self.requests
                    .get_or_create(&RequestLabels {
                        route,
                        method,
                        status,
                    })
                    .inc();
            }
        }
        self.latency_by_route[index.unwrap_or(self.routes.len())].observe(seconds);
    }

    /// Records the predicted classes of a batch.
    pub fn record_predictions(&self, predictions: &[u8]) {
        let survived = predictions.iter().filter(|p| **p == 1).count() as u64;
        self.survived.inc_by(survived);
        self.died.inc_by(predictions.len() as u64 - survived);
    }

    /// Records a request rejected for invalid records, with its fields.
    pub fn record_validation_failure<'a>(&self, fields: impl Iterator<Item = &'a str>) {
        self.rejected_requests.inc();
        for field in fields {
            let field = classification_model::schema::column_names()
                .find(|f| *f == field)
                .unwrap_or("other");
            self.field_errors
                .get_or_create(&FieldLabels { field })
                .inc();
        }
    }

    /// The metrics in Prometheus' text format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // writing to a String cannot fail
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_what_was_recorded() {
        let routes = [("/predict", "POST"), ("/health", "GET"), ("/model", "GET")];
        let m = Metrics::new("titanic", "1.2.3", &routes);
        m.record_request(Some(0), "POST", 200, 0.001);
        m.record_request(None, "BREW", 404, 0.001);
        m.record_request(Some(1), "GET", 200, 0.001);
        m.record_request(Some(1), "GET", 200, 0.001);
        m.record_request(Some(1), "POST", 200, 0.001);
        m.record_request(Some(7), "GET", 200, 0.001);
        m.record_predictions(&[1, 0, 0]);
        m.record_validation_failure(["age", "Age"].into_iter());
        let text = m.render();
        for line in [
            r#"http_requests_total{route="/predict",method="POST",status="200"} 1"#,
            r#"http_requests_total{route="other",method="other",status="404"} 1"#,
            r#"http_requests_total{route="/health",method="GET",status="200"} 2"#,
            r#"http_requests_total{route="/health",method="POST",status="200"} 1"#,
            r#"http_requests_total{route="/model",method="GET",status="200"} 0"#,
            r#"http_request_duration_seconds_count{route="/health"} 3"#,
            r#"http_request_duration_seconds_count{route="other"} 2"#,
            r#"predictions_total{class="1"} 1"#,
            r#"predictions_total{class="0"} 2"#,
            "validation_failures_total 1",
            r#"validation_errors_total{field="age"} 1"#,
            r#"validation_errors_total{field="other"} 1"#,
            r#"model_info{name="titanic",version="1.2.3"} 1"#,
        ] {
            assert!(text.contains(line), "{line} not in\n{text}");
        }
        assert!(text.contains("http_request_duration_seconds_bucket"));
        assert!(text.ends_with("# EOF\n"));
    }
}
