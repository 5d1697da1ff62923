//! Traces: spans of the target [`SPANS`] go to an OpenTelemetry collector
//! over OTLP when `OTEL_EXPORTER_OTLP_ENDPOINT` is set (`config`'s
//! [`TraceSettings`]); without it no layer records them, and each span is a
//! disabled callsite (nothing is allocated). Export runs on its own thread:
//! a finished span goes into a bounded queue without waiting, and a span
//! that finds the queue full is dropped and counted ([`SPANS_DROPPED`],
//! `otel_spans_dropped_total`), so a collector that is down or slow never
//! slows or fails a request.

use std::sync::LazyLock;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::time::Duration;

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::{TraceContextExt as _, TracerProvider as _};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    Sampler, SdkTracerProvider, Span, SpanData, SpanExporter as _, SpanProcessor,
};
use prometheus_client::metrics::counter::Counter;
use tracing_opentelemetry::OpenTelemetrySpanExt as _;
use warp::http::{HeaderMap, HeaderName, HeaderValue};

use crate::config::{OtlpProtocol, ParentlessSampler, TraceSampler, TraceSettings};
use crate::errors::ServiceError;

/// The target of the service's spans (and only of them: the log leaves
/// it out, and the trace layer takes only it).
pub const SPANS: &str = "classification_api::trace";

/// Spans sent to the collector in one export, at most.
const BATCH: usize = 512;

/// How long the exporter gathers spans before sending what it has.
const EVERY: Duration = Duration::from_millis(500);

/// How long the exports at shutdown may take in all; spans left after it
/// are dropped (and counted), so that a collector that hangs cannot hold
/// the process.
const LAST_EXPORTS: Duration = Duration::from_secs(5);

/// Spans this process dropped because the export queue was full.
pub static SPANS_DROPPED: LazyLock<Counter> = LazyLock::new(Counter::default);

/// The tracer of the service's spans, and the provider that exports them
/// (flushed and stopped when dropped).
pub struct Tracing {
    provider: SdkTracerProvider,
}

impl std::fmt::Debug for Tracing {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Tracing")
    }
}

impl Tracing {
    /// Starts exporting spans as `settings` say.
    pub fn start(settings: &TraceSettings) -> Result<Tracing, ServiceError> {
        let resource = Resource::builder_empty()
            .with_attributes(
                settings
                    .resource
                    .iter()
                    .map(|(k, v)| KeyValue::new(k.clone(), v.clone())),
            )
            .with_service_name(settings.service_name.clone())
            .with_attribute(KeyValue::new("service.version", env!("CARGO_PKG_VERSION")))
            .build();
        let processor = Bounded::start(settings.clone(), resource.clone())?;
        let provider = SdkTracerProvider::builder()
            .with_span_processor(processor)
            .with_sampler(sampler(settings.sampler))
            .with_resource(resource)
            .build();
        Ok(Tracing { provider })
    }

    /// The layer that records the service's spans into this tracer.
    pub fn layer<S>(&self) -> impl tracing_subscriber::Layer<S> + use<S>
    where
        S: tracing::Subscriber + for<'a> tracing_subscriber::registry::LookupSpan<'a>,
    {
        use tracing_subscriber::Layer as _;
        tracing_opentelemetry::layer()
            .with_tracer(self.provider.tracer("classification_api"))
            // only what the spans need: no code location, thread, level or
            // target attributes, no busy/idle timings, and no OpenTelemetry
            // context made current on each enter (nothing here reads it: the
            // parent comes from the tracing span)
            .with_location(false)
            .with_threads(false)
            .with_level(false)
            .with_target(false)
            .with_tracked_inactivity(false)
            .with_context_activation(false)
            .with_filter(
                tracing_subscriber::filter::Targets::new().with_target(SPANS, tracing::Level::INFO),
            )
    }
}

impl Drop for Tracing {
    fn drop(&mut self) {
        if let Err(e) = self.provider.shutdown() {
            tracing::warn!(error = %e, "traces: the last spans were not exported");
        }
    }
}

fn sampler(s: TraceSampler) -> Sampler {
    match s {
        TraceSampler::AlwaysOn => Sampler::AlwaysOn,
        TraceSampler::AlwaysOff => Sampler::AlwaysOff,
        TraceSampler::Ratio(r) => Sampler::TraceIdRatioBased(r),
        TraceSampler::ParentBased(root) => Sampler::ParentBased(Box::new(match root {
            ParentlessSampler::AlwaysOn => Sampler::AlwaysOn,
            ParentlessSampler::AlwaysOff => Sampler::AlwaysOff,
            ParentlessSampler::Ratio(r) => Sampler::TraceIdRatioBased(r),
        })),
    }
}

/// What the export thread is sent.
enum Message {
    Span(Box<SpanData>),
    /// Export what is queued, then answer.
    Flush(SyncSender<()>),
    /// Export what is queued, then stop.
    Stop,
}

/// A span processor with a bounded queue and its own export thread.
#[derive(Debug)]
struct Bounded {
    queue: SyncSender<Message>,
    thread: std::sync::Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Bounded {
    /// Starts the export thread, which makes the exporter on its own
    /// runtime (the exporter's connection lives there, off the service's).
    fn start(settings: TraceSettings, resource: Resource) -> Result<Bounded, ServiceError> {
        let (queue, received) = std::sync::mpsc::sync_channel(settings.queue);
        let (made, made_rx) = std::sync::mpsc::sync_channel(1);
        let thread = std::thread::Builder::new()
            .name("otlp-export".into())
            .spawn(move || {
                let runtime = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(runtime) => runtime,
                    Err(e) => {
                        let _ = made.send(Err(e.to_string()));
                        return;
                    }
                };
                let exporter = runtime.block_on(async {
                    match settings.protocol {
                        OtlpProtocol::Grpc => opentelemetry_otlp::SpanExporter::builder()
                            .with_tonic()
                            .with_endpoint(settings.endpoint.clone())
                            .with_timeout(settings.timeout)
                            .build(),
                        OtlpProtocol::HttpProtobuf => opentelemetry_otlp::SpanExporter::builder()
                            .with_http()
                            .with_endpoint(settings.endpoint.clone())
                            .with_timeout(settings.timeout)
                            .build(),
                    }
                });
                match exporter {
                    Ok(mut exporter) => {
                        exporter.set_resource(&resource);
                        let _ = made.send(Ok(()));
                        export_loop(&runtime, exporter, received);
                    }
                    Err(e) => {
                        let _ = made.send(Err(e.to_string()));
                    }
                }
            })
            .map_err(|e| ServiceError::Traces(e.to_string()))?;
        made_rx
            .recv()
            .map_err(|_| ServiceError::Traces("the export thread ended".into()))?
            .map_err(ServiceError::Traces)?;
        Ok(Bounded {
            queue,
            thread: std::sync::Mutex::new(Some(thread)),
        })
    }
}

impl SpanProcessor for Bounded {
    fn on_start(&self, _: &mut Span, _: &Context) {}

    fn on_end(&self, span: SpanData) {
        match self.queue.try_send(Message::Span(Box::new(span))) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                SPANS_DROPPED.inc();
            }
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        let (done, wait) = std::sync::mpsc::sync_channel(1);
        self.queue
            .send(Message::Flush(done))
            .map_err(|_| OTelSdkError::AlreadyShutdown)?;
        wait.recv().map_err(|_| OTelSdkError::AlreadyShutdown)
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        let _ = self.queue.send(Message::Stop);
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .take();
        if let Some(thread) = thread {
            let _ = thread.join();
        }
        Ok(())
    }
}

/// Gathers spans into batches and exports each (a failed export is
/// logged; its spans are lost, the service goes on).
fn export_loop(
    runtime: &tokio::runtime::Runtime,
    exporter: opentelemetry_otlp::SpanExporter,
    received: Receiver<Message>,
) {
    let mut batch = Vec::with_capacity(BATCH);
    // set once stopping: when the last exports must be done
    let mut deadline: Option<std::time::Instant> = None;
    let export = |batch: &mut Vec<SpanData>, deadline: Option<std::time::Instant>| {
        if batch.is_empty() {
            return;
        }
        let spans = std::mem::replace(batch, Vec::with_capacity(BATCH));
        let n = spans.len();
        let left = deadline.map(|d| d.saturating_duration_since(std::time::Instant::now()));
        if left.is_some_and(|l| l.is_zero()) {
            SPANS_DROPPED.inc_by(n as u64);
            return;
        }
        // the export's future is made on the runtime: it starts timers
        let result = runtime.block_on(async {
            match left {
                Some(left) => tokio::time::timeout(left, exporter.export(spans))
                    .await
                    .unwrap_or(Err(OTelSdkError::Timeout(left))),
                None => exporter.export(spans).await,
            }
        });
        if let Err(e) = result {
            tracing::warn!(error = %e, spans = n, "traces: export failed");
        }
    };
    // when the batch being gathered must go, full or not
    let mut due = std::time::Instant::now() + EVERY;
    loop {
        let wait = due.saturating_duration_since(std::time::Instant::now());
        match received.recv_timeout(wait) {
            Ok(Message::Span(span)) => {
                if batch.is_empty() {
                    due = std::time::Instant::now() + EVERY;
                }
                batch.push(*span);
                if batch.len() >= BATCH || std::time::Instant::now() >= due {
                    export(&mut batch, deadline);
                }
            }
            Ok(Message::Flush(done)) => {
                export(&mut batch, deadline);
                let _ = done.send(());
            }
            Ok(Message::Stop) => {
                // what is queued behind the stop is exported in time, or dropped
                let deadline = *deadline.get_or_insert(std::time::Instant::now() + LAST_EXPORTS);
                while let Ok(message) = received.try_recv() {
                    if let Message::Span(span) = message {
                        batch.push(*span);
                        if batch.len() >= BATCH {
                            export(&mut batch, Some(deadline));
                        }
                    }
                }
                export(&mut batch, Some(deadline));
                return;
            }
            Err(RecvTimeoutError::Disconnected) => {
                export(&mut batch, deadline);
                return;
            }
            Err(RecvTimeoutError::Timeout) => {
                export(&mut batch, deadline);
                due = std::time::Instant::now() + EVERY;
            }
        }
    }
}

/// Headers as the W3C propagator reads them.
struct Headers<'a>(&'a HeaderMap);

impl Extractor for Headers<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|v| v.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(HeaderName::as_str).collect()
    }
}

/// Headers as the W3C propagator writes them.
struct HeadersMut<'a>(&'a mut HeaderMap);

impl Injector for HeadersMut<'_> {
    fn set(&mut self, key: &str, value: String) {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(key.as_bytes()),
            HeaderValue::from_str(&value),
        ) {
            self.0.insert(name, value);
        }
    }
}

/// Continues the trace a request's `traceparent` (and `tracestate`) names,
/// if any, in `span`.
pub fn continue_trace(span: &tracing::Span, headers: &HeaderMap) {
    if span.is_disabled() || !headers.contains_key("traceparent") {
        return;
    }
    let parent = TraceContextPropagator::new().extract(&Headers(headers));
    let _ = span.set_parent(parent);
}

/// Writes `span`'s `traceparent` (and `tracestate`) into `headers`, and
/// gives its trace's id for the access log; `None` when not traced.
pub fn answer_trace(span: &tracing::Span, headers: &mut HeaderMap) -> Option<String> {
    if span.is_disabled() {
        return None;
    }
    let context = span.context();
    TraceContextPropagator::new().inject_context(&context, &mut HeadersMut(headers));
    let id = context.span().span_context().trace_id();
    (id != opentelemetry::trace::TraceId::INVALID).then(|| id.to_string())
}

/// `span`'s own context, for a span elsewhere to link to (a group commit, a
/// shadow job); `None` when not traced.
pub fn link_of(span: &tracing::Span) -> Option<opentelemetry::trace::SpanContext> {
    if span.is_disabled() {
        return None;
    }
    let context = span.context().span().span_context().clone();
    context.is_valid().then_some(context)
}

/// Links `span` to each of `links`.
pub fn link(
    span: &tracing::Span,
    links: impl IntoIterator<Item = opentelemetry::trace::SpanContext>,
) {
    if span.is_disabled() {
        return;
    }
    for l in links {
        span.add_link(l);
    }
}
