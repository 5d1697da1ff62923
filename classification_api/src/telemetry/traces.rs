//! Traces, exported to an OpenTelemetry collector over OTLP when
//! `OTEL_EXPORTER_OTLP_ENDPOINT` is set (`config`'s [`TraceSettings`]).
//! A request's span and its short children ([`Request`], [`Child`]) are
//! made through the OpenTelemetry API; the spans away from the request path
//! (a group commit, a shadow job, a reload) are `tracing` spans of the
//! target [`SPANS`], which `tracing-opentelemetry` turns into OpenTelemetry
//! ones. Without traces, neither kind costs anything: there is no tracer,
//! and each `tracing` span is a disabled callsite. Export runs on its own
//! thread: a finished span goes into a bounded queue without waiting, and a
//! span that finds the queue full is dropped and counted
//! ([`SPANS_DROPPED`], `otel_spans_dropped_total`), so a collector that is
//! down or slow never slows or fails a request.

use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use opentelemetry::propagation::{Extractor, Injector, TextMapPropagator as _};
use opentelemetry::trace::{
    SpanKind, TraceContextExt as _, TraceId, Tracer as _, TracerProvider as _,
};
use opentelemetry::{Context, KeyValue};
use opentelemetry_otlp::WithExportConfig as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::error::{OTelSdkError, OTelSdkResult};
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::{
    Sampler, SdkTracer, SdkTracerProvider, Span, SpanData, SpanExporter as _, SpanProcessor,
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

/// The tracer of [`Request`] spans and their [`Child`] spans. It sits in
/// the `tracing` subscriber beside the layer that turns the other spans
/// into OpenTelemetry ones (a layer that does nothing else), so that a
/// request finds it where those spans go: with the subscriber of the
/// thread, which is this process's, or a test server's.
#[derive(Clone)]
struct Tracer(SdkTracer);

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for Tracer {}

impl Tracer {
    /// Calls `f` with the current subscriber's tracer, when traces are on
    /// (lent, not cloned: a clone is an atomic count that both workers'
    /// requests would pass between their cores).
    fn with<T>(f: impl FnOnce(&SdkTracer) -> T) -> Option<T> {
        // `get_default` takes an `FnMut`; it calls it once
        let mut f = Some(f);
        tracing::dispatcher::get_default(|d| {
            let tracer = d.downcast_ref::<Tracer>()?;
            f.take().map(|f| f(&tracer.0))
        })
    }
}

/// A request's span (HTTP or gRPC), made through the OpenTelemetry API
/// rather than as a `tracing` span, as are its [`Child`] spans: a `tracing`
/// span passes through the registry and both layers' filters on each
/// enter, exit and record, and is converted into an OpenTelemetry span at
/// its close, which made traces cost a third of a one-record request's
/// throughput. Spans away from the request path (a group commit, a shadow
/// job, a reload) stay `tracing` spans. Without traces it is nothing.
pub struct Request(Option<Context>);

impl Request {
    /// Starts a server span, continuing the trace the request's
    /// `traceparent` (and `tracestate`) names, if any. `describe` gives its
    /// name and attributes; it is called only when traced.
    pub fn start(
        describe: impl FnOnce() -> (std::borrow::Cow<'static, str>, Vec<KeyValue>),
        headers: &HeaderMap,
    ) -> Request {
        Request(Tracer::with(|tracer| {
            let parent = if headers.contains_key("traceparent") {
                TraceContextPropagator::new().extract(&Headers(headers))
            } else {
                Context::new()
            };
            let (name, mut attributes) = describe();
            // room for what the request adds (model version, records, status)
            attributes.reserve(3);
            let span = tracer
                .span_builder(name)
                .with_kind(SpanKind::Server)
                .with_attributes(attributes)
                .start_with_context(tracer, &parent);
            parent.with_span(span)
        }))
    }

    /// Runs `future` in this span: its [`Child`] spans, [`record`] and
    /// [`link_of_current`] find it.
    pub async fn around<F: std::future::Future>(&self, future: F) -> F::Output {
        use opentelemetry::context::FutureExt as _;
        match &self.0 {
            Some(context) => future.with_context(context.clone()).await,
            None => future.await,
        }
    }

    /// Sets the answer's `key` (its status code) to `code`, ends the span,
    /// and writes its `traceparent` (and `tracestate`) into `headers`; gives
    /// the trace's id for the access log (`None` when not traced).
    pub fn finish(self, key: &'static str, code: i64, headers: &mut HeaderMap) -> Option<TraceId> {
        let context = self.0?;
        let span = context.span();
        span.set_attribute(KeyValue::new(key, code));
        span.end();
        TraceContextPropagator::new().inject_context(&context, &mut HeadersMut(headers));
        let id = span.span_context().trace_id();
        (id != TraceId::INVALID).then_some(id)
    }
}

/// Sets attributes of the current request's span (nothing when not traced).
pub fn record<A: IntoIterator<Item = KeyValue>>(attributes: impl FnOnce() -> A) {
    Context::map_current(|context| {
        if context.has_active_span() {
            let span = context.span();
            for attribute in attributes() {
                span.set_attribute(attribute);
            }
        }
    });
}

/// The current request's span, for a span elsewhere to link to (a group
/// commit, a shadow job); `None` when not traced.
pub fn link_of_current() -> Option<opentelemetry::trace::SpanContext> {
    Context::map_current(|context| {
        let span = context.span().span_context().clone();
        span.is_valid().then_some(span)
    })
}

/// A short span inside a request (reading its body, parsing, scoring, the
/// history write), a child of the current [`Request`]; it has no children
/// of its own, and ends when dropped. Nothing when not traced, or when the
/// request's span is not sampled (every standard sampler would sample the
/// child out too).
pub struct Child(Option<Span>);

impl Child {
    /// Starts `name` under the current request's span.
    pub fn start(name: &'static str) -> Child {
        Child(Context::map_current(|context| {
            if !context.span().span_context().is_sampled() {
                return None;
            }
            Tracer::with(|tracer| tracer.start_with_context(name, context))
        }))
    }

    /// Runs `f` within a span `name` under the current request's span.
    pub fn within<T>(name: &'static str, f: impl FnOnce() -> T) -> T {
        let _span = Child::start(name);
        f()
    }

    /// Sets an attribute (nothing when not traced).
    pub fn set(&mut self, key: &'static str, value: impl Into<opentelemetry::Value>) {
        if let Some(span) = &mut self.0 {
            use opentelemetry::trace::Span as _;
            span.set_attribute(KeyValue::new(key, value));
        }
    }
}

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
        let tracer = self.provider.tracer("classification_api");
        tracing_opentelemetry::layer()
            .with_tracer(tracer.clone())
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
            .and_then(Tracer(tracer))
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

/// Finished spans waiting for the export thread, and what it is asked to do.
#[derive(Default)]
struct Pending {
    spans: Vec<SpanData>,
    /// Flushes asked for: export what is queued, then answer each.
    flushes: Vec<SyncSender<()>>,
    /// Export what is queued, then stop.
    stop: bool,
}

/// The queue between the spans' threads and the export thread. A finished
/// span is pushed under a short lock and wakes nobody, unless it fills a
/// batch: waking the export thread for each span cost a futex call and a
/// context switch per span, most of what traces cost a request.
struct Queue {
    pending: Mutex<Pending>,
    wake: Condvar,
    capacity: usize,
}

impl Queue {
    fn lock(&self) -> MutexGuard<'_, Pending> {
        self.pending
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// A span processor with a bounded queue and its own export thread.
struct Bounded {
    queue: Arc<Queue>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl std::fmt::Debug for Bounded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Bounded")
            .field("capacity", &self.queue.capacity)
            .finish()
    }
}

impl Bounded {
    /// Starts the export thread, which makes the exporter on its own
    /// runtime (the exporter's connection lives there, off the service's).
    fn start(settings: TraceSettings, resource: Resource) -> Result<Bounded, ServiceError> {
        let queue = Arc::new(Queue {
            pending: Mutex::new(Pending::default()),
            wake: Condvar::new(),
            capacity: settings.queue,
        });
        let (made, made_rx) = std::sync::mpsc::sync_channel(1);
        let exported = queue.clone();
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
                        export_loop(&runtime, exporter, &exported);
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
            thread: Mutex::new(Some(thread)),
        })
    }
}

impl SpanProcessor for Bounded {
    fn on_start(&self, _: &mut Span, _: &Context) {}

    fn on_end(&self, span: SpanData) {
        let mut pending = self.queue.lock();
        if pending.stop || pending.spans.len() >= self.queue.capacity {
            drop(pending);
            SPANS_DROPPED.inc();
            return;
        }
        pending.spans.push(span);
        let full = pending.spans.len() == BATCH;
        drop(pending);
        if full {
            self.queue.wake.notify_one();
        }
    }

    fn force_flush(&self) -> OTelSdkResult {
        let (done, wait) = std::sync::mpsc::sync_channel(1);
        {
            let mut pending = self.queue.lock();
            if pending.stop {
                return Err(OTelSdkError::AlreadyShutdown);
            }
            pending.flushes.push(done);
        }
        self.queue.wake.notify_one();
        wait.recv().map_err(|_| OTelSdkError::AlreadyShutdown)
    }

    fn shutdown_with_timeout(&self, _: Duration) -> OTelSdkResult {
        self.queue.lock().stop = true;
        self.queue.wake.notify_one();
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

/// Takes what is queued when a batch is full, a flush or stop is asked
/// for, or [`EVERY`] has passed, and exports it in batches of at most
/// [`BATCH`] (a failed export is logged; its spans are lost, the service
/// goes on). At a stop, what is queued is exported within
/// [`LAST_EXPORTS`], or dropped and counted.
fn export_loop(
    runtime: &tokio::runtime::Runtime,
    exporter: opentelemetry_otlp::SpanExporter,
    queue: &Queue,
) {
    let export = |spans: Vec<SpanData>, deadline: Option<Instant>| {
        let n = spans.len();
        let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
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
    let mut due = Instant::now() + EVERY;
    loop {
        let (mut spans, flushes, stop) = {
            let mut pending = queue.lock();
            loop {
                let now = Instant::now();
                if pending.stop
                    || !pending.flushes.is_empty()
                    || pending.spans.len() >= BATCH
                    || now >= due
                {
                    break;
                }
                pending = queue
                    .wake
                    .wait_timeout(pending, due - now)
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .0;
            }
            // the next queue starts with the room this one needed, so
            // that requests do not grow it (a copy of every span so far)
            let room = pending.spans.len();
            (
                std::mem::replace(&mut pending.spans, Vec::with_capacity(room)),
                std::mem::take(&mut pending.flushes),
                pending.stop,
            )
        };
        // what was queued when stopping is exported in time, or dropped
        let deadline = stop.then(|| Instant::now() + LAST_EXPORTS);
        while !spans.is_empty() {
            let rest = spans.split_off(spans.len().min(BATCH));
            export(std::mem::replace(&mut spans, rest), deadline);
        }
        for done in flushes {
            let _ = done.send(());
        }
        if stop {
            return;
        }
        due = Instant::now() + EVERY;
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
        // the W3C propagator's two names, known without parsing (every
        // traced answer carries the first)
        let name = match key {
            "traceparent" => HeaderName::from_static("traceparent"),
            "tracestate" => HeaderName::from_static("tracestate"),
            other => match HeaderName::from_bytes(other.as_bytes()) {
                Ok(name) => name,
                Err(_) => return,
            },
        };
        if let Ok(value) = HeaderValue::try_from(value) {
            self.0.insert(name, value);
        }
    }
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
