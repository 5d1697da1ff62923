//! Configuration from the environment (or the same settings as flags):
//! every variable is declared once, in [`SETTINGS`], with its default and
//! what it means; `classification_api --help` lists them, and
//! [`Config::from_lookup`] reads each into its type.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

use crate::errors::ConfigError;

/// Every setting: its environment variable, its default (`None`: unset)
/// and what it means. `--help` lists them; each is also a flag (`PORT` is
/// `--port`).
pub const SETTINGS: &[(&str, Option<&str>, &str)] = &[
    (
        "HOST",
        Some("0.0.0.0"),
        "Address to listen on (Railway needs 0.0.0.0; `localhost` is 127.0.0.1)",
    ),
    (
        "PORT",
        Some("8002"),
        "Port to listen on (0 picks a free one)",
    ),
    (
        "GRPC_PORT",
        Some("8081"),
        "Port of the Open Inference Protocol's gRPC service (0 picks a free one; `off` serves none)",
    ),
    (
        "RUST_LOG",
        Some("info"),
        "Log filter: a level, or `target=level` directives; `info` logs one line per request, `warn` drops them",
    ),
    (
        "API_KEY",
        None,
        "When set (16+ characters), /predict and inference require `Authorization: Bearer <key>`",
    ),
    (
        "MODEL_PATH",
        None,
        "Serve this artifact file instead of the embedded model",
    ),
    (
        "MODELS_DIR",
        None,
        "Serve the artifacts in this directory beside it, reloaded when it changes",
    ),
    (
        "DEFAULT_MODEL_VERSION",
        None,
        "The version requests without one get (default: the base model's)",
    ),
    (
        "SHADOW_MODEL_VERSION",
        None,
        "A version that also scores every request, off the response path",
    ),
    (
        "MAX_BODY_BYTES",
        Some("1048576"),
        "Larger bodies get 413 (larger gRPC messages RESOURCE_EXHAUSTED)",
    ),
    (
        "MAX_BATCH",
        Some("10000"),
        "More records in one request get 413",
    ),
    (
        "MAX_IN_FLIGHT",
        Some("256"),
        "More predictions computed at once get 503 with Retry-After",
    ),
    (
        "MAX_CONNECTIONS",
        Some("4096"),
        "More open connections get 503 and are closed",
    ),
    (
        "HEADER_TIMEOUT_SECS",
        Some("10"),
        "Request head deadline; idle keep-alive connections close after it",
    ),
    (
        "REQUEST_TIMEOUT_SECS",
        Some("30"),
        "Body deadline (408 after it)",
    ),
    (
        "SHUTDOWN_GRACE_SECS",
        Some("10"),
        "How long in-flight requests may finish after SIGTERM or Ctrl-C",
    ),
    (
        "CORS_ORIGINS",
        None,
        "Origins allowed to call the API from a browser, comma-separated, or `*` (unset: no CORS)",
    ),
    (
        "HISTORY",
        Some("on"),
        "`off` stores nothing and removes the history endpoints",
    ),
    (
        "HISTORY_PATH",
        Some(DEFAULT_HISTORY_PATH),
        "The SQLite history file (created with its directory)",
    ),
    (
        "DATABASE_URL",
        None,
        "postgres://...: keep the history in PostgreSQL instead",
    ),
    (
        "HISTORY_KEEP_NAMES",
        Some("false"),
        "`true` stores names; by default only their titles",
    ),
    (
        "HISTORY_RETENTION_DAYS",
        None,
        "Prune history rows older than this many days (unset: keep)",
    ),
    (
        "MONITORING_REFRESH_SECS",
        Some("30"),
        "How often the monitoring gauges of /metrics are recomputed",
    ),
    (
        "ADMIN_API_KEY",
        None,
        "When set (16+ characters), the admin endpoints require `Authorization: Bearer <key>`",
    ),
    (
        "ADMIN_LOOPBACK",
        Some("true"),
        "Whether, without ADMIN_API_KEY, loopback clients through no proxy reach the admin endpoints",
    ),
    (
        "ADDRESS_FILE",
        None,
        "Once ready, write the address listened on (then the gRPC one) to this file",
    ),
    (
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        None,
        "Export traces to this OTLP collector (unset: no traces)",
    ),
    (
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
        None,
        "The collector's URL for traces, as it is",
    ),
    (
        "OTEL_EXPORTER_OTLP_PROTOCOL",
        Some("http/protobuf"),
        "`grpc` or `http/protobuf`",
    ),
    (
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL",
        None,
        "As OTEL_EXPORTER_OTLP_PROTOCOL, for traces",
    ),
    (
        "OTEL_EXPORTER_OTLP_TIMEOUT",
        Some("10000"),
        "Export timeout, in milliseconds",
    ),
    (
        "OTEL_EXPORTER_OTLP_TRACES_TIMEOUT",
        None,
        "As OTEL_EXPORTER_OTLP_TIMEOUT, for traces",
    ),
    (
        "OTEL_SERVICE_NAME",
        Some("classification_api"),
        "The service's name in traces",
    ),
    (
        "OTEL_RESOURCE_ATTRIBUTES",
        None,
        "`key=value` pairs, comma-separated, on every span",
    ),
    (
        "OTEL_TRACES_SAMPLER",
        Some("parentbased_always_on"),
        "always_on, always_off, traceidratio or parentbased_ of these",
    ),
    (
        "OTEL_TRACES_SAMPLER_ARG",
        Some("1"),
        "The ratio of traceidratio samplers, from 0 to 1",
    ),
    (
        "OTEL_BSP_MAX_QUEUE_SIZE",
        Some("2048"),
        "Finished spans waiting for export, at most; more are dropped and counted",
    ),
    (
        "OTEL_SDK_DISABLED",
        Some("false"),
        "`true` exports no traces",
    ),
    (
        "OTEL_TRACES_EXPORTER",
        Some("otlp"),
        "`none` exports no traces",
    ),
];

/// The declared default of the variable `name`.
fn default_of(name: &str) -> Option<&'static str> {
    SETTINGS
        .iter()
        .find(|(n, _, _)| *n == name)
        .and_then(|(_, default, _)| *default)
}

/// The command line: every setting as its flag, read from its environment
/// variable when the flag is not given; `--help` lists them with their
/// defaults, `--version` gives the API's and the model's versions.
pub fn command() -> clap::Command {
    let version = format!(
        "{} (model {})",
        env!("CARGO_PKG_VERSION"),
        classification_model::model_version()
    );
    clap::Command::new("classification_api")
        .version(version)
        .about("Serves the classification model: REST, the Open Inference Protocol (REST and gRPC), the web app")
        .after_help("Each setting is an environment variable, or the flag of the same name.")
        .args(SETTINGS.iter().map(|&(name, default, help)| {
            clap::Arg::new(name)
                .long(name.to_ascii_lowercase().replace('_', "-"))
                .env(name)
                .value_name(name)
                .help(help)
                .hide_env_values(true)
                .default_value(default)
        }))
}

/// Service settings, each read from its variable of [`SETTINGS`], which
/// holds its default and meaning; the notes here are what the type adds.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `HOST`.
    pub host: IpAddr,
    /// `PORT`; 0 picks a free port.
    pub port: u16,
    /// `GRPC_PORT`; `None` for `off` (no gRPC).
    pub grpc_port: Option<u16>,
    /// `MAX_BODY_BYTES`: for a request body and a gRPC message alike.
    pub max_body_bytes: usize,
    /// `MAX_BATCH`.
    pub max_batch: usize,
    /// `SHUTDOWN_GRACE_SECS`.
    pub shutdown_grace: Duration,
    /// `HEADER_TIMEOUT_SECS`.
    pub header_timeout: Duration,
    /// `REQUEST_TIMEOUT_SECS`.
    pub request_timeout: Duration,
    /// `MAX_IN_FLIGHT`.
    pub max_in_flight: usize,
    /// `MAX_CONNECTIONS`.
    pub max_connections: usize,
    /// `API_KEY`: when set, `/predict` requires `Authorization: Bearer <key>`.
    pub api_key: Option<Secret>,
    /// `MODEL_PATH`: serve this artifact file instead of the embedded model.
    pub model_path: Option<PathBuf>,
    /// `MODELS_DIR`: further versions' artifacts, served beside the base
    /// model and read again on reload.
    pub models_dir: Option<PathBuf>,
    /// `DEFAULT_MODEL_VERSION`; `None`: the base model's.
    pub default_version: Option<semver::Version>,
    /// `SHADOW_MODEL_VERSION`: a version that also scores every request, off
    /// the response path, for comparison.
    pub shadow_version: Option<semver::Version>,
    /// `CORS_ORIGINS`, split at commas; `None`: no CORS headers.
    pub cors_origins: Option<Vec<String>>,
    /// Where the prediction history is kept (`HISTORY`, `HISTORY_PATH`,
    /// `DATABASE_URL`).
    pub history: HistoryStore,
    /// `HISTORY_KEEP_NAMES`.
    pub keep_names: bool,
    /// `HISTORY_RETENTION_DAYS`; `None`: keep every row.
    pub retention_days: Option<u32>,
    /// `MONITORING_REFRESH_SECS`.
    pub monitoring_refresh: Duration,
    /// `ADMIN_API_KEY`: when set, the history endpoints require
    /// `Authorization: Bearer <key>`; unset = loopback clients only.
    pub admin_key: Option<Secret>,
    /// `ADMIN_LOOPBACK` (the image sets `false`).
    pub admin_loopback: bool,
    /// `ADDRESS_FILE`: once ready, the server writes the address it listens
    /// on to this file, for a supervisor that starts it with `PORT=0`: the
    /// HTTP address on the first line, the gRPC one (if on) on the second.
    pub address_file: Option<PathBuf>,
    /// `OTEL_*`: where traces go; `None` exports none.
    pub traces: Option<TraceSettings>,
    /// `RUST_LOG`: the log filter.
    pub log: String,
}

/// Trace export, from OpenTelemetry's standard variables.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSettings {
    /// The collector's URL for traces: `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`
    /// as it is, or `OTEL_EXPORTER_OTLP_ENDPOINT` (with `/v1/traces`
    /// appended for HTTP).
    pub endpoint: String,
    /// `OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL`.
    pub protocol: OtlpProtocol,
    /// `OTEL_SERVICE_NAME`.
    pub service_name: String,
    /// `OTEL_RESOURCE_ATTRIBUTES`: `key=value` pairs.
    pub resource: Vec<(String, String)>,
    /// `OTEL_TRACES_SAMPLER` and `OTEL_TRACES_SAMPLER_ARG`.
    pub sampler: TraceSampler,
    /// `OTEL_EXPORTER_OTLP_[TRACES_]TIMEOUT` (given in milliseconds).
    pub timeout: Duration,
    /// `OTEL_BSP_MAX_QUEUE_SIZE`: more finished spans are dropped and counted.
    pub queue: usize,
}

/// How spans reach the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OtlpProtocol {
    /// OTLP over gRPC.
    Grpc,
    /// OTLP over HTTP, protobuf bodies.
    HttpProtobuf,
}

/// Which traces are kept, as `OTEL_TRACES_SAMPLER` names them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TraceSampler {
    /// `always_on`.
    AlwaysOn,
    /// `always_off`.
    AlwaysOff,
    /// `traceidratio`: this fraction of traces.
    Ratio(f64),
    /// `parentbased_*`: as the caller's `traceparent` says, else the inner
    /// sampler.
    ParentBased(ParentlessSampler),
}

/// What a parent-based sampler does for a trace that starts here.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ParentlessSampler {
    /// Keep it.
    AlwaysOn,
    /// Drop it.
    AlwaysOff,
    /// Keep this fraction.
    Ratio(f64),
}

impl TraceSettings {
    /// The settings `lookup` gives; `None` when no endpoint is set, or when
    /// `OTEL_SDK_DISABLED=true` or `OTEL_TRACES_EXPORTER=none`.
    fn from_lookup(
        get: impl Fn(&'static str) -> Option<String>,
    ) -> Result<Option<TraceSettings>, ConfigError> {
        let disabled = get("OTEL_SDK_DISABLED")
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
            || get("OTEL_TRACES_EXPORTER").is_some_and(|v| v.trim().eq_ignore_ascii_case("none"));
        let protocol = match get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
            .or_else(|| get("OTEL_EXPORTER_OTLP_PROTOCOL"))
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("http/protobuf") => OtlpProtocol::HttpProtobuf,
            Some("grpc") => OtlpProtocol::Grpc,
            Some(other) => {
                return Err(ConfigError::new(
                    "OTEL_EXPORTER_OTLP_PROTOCOL",
                    other,
                    "grpc or http/protobuf",
                ));
            }
        };
        let endpoint = match (
            get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
            get("OTEL_EXPORTER_OTLP_ENDPOINT"),
        ) {
            (Some(url), _) => url.trim().to_owned(),
            (None, Some(url)) if protocol == OtlpProtocol::HttpProtobuf => {
                format!("{}/v1/traces", url.trim().trim_end_matches('/'))
            }
            (None, Some(url)) => url.trim().to_owned(),
            (None, None) => return Ok(None),
        };
        if disabled {
            return Ok(None);
        }
        if !(endpoint.starts_with("http://") || endpoint.starts_with("https://")) {
            return Err(ConfigError::new(
                "OTEL_EXPORTER_OTLP_ENDPOINT",
                &endpoint,
                "an http:// or https:// URL, such as http://localhost:4318",
            ));
        }
        let ratio = || -> Result<f64, ConfigError> {
            match get("OTEL_TRACES_SAMPLER_ARG") {
                None => Ok(1.0),
                Some(v) => v
                    .trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|r| (0.0..=1.0).contains(r))
                    .ok_or_else(|| {
                        ConfigError::new("OTEL_TRACES_SAMPLER_ARG", &v, "a number from 0 to 1")
                    }),
            }
        };
        let sampler = match get("OTEL_TRACES_SAMPLER")
            .map(|v| v.trim().to_ascii_lowercase())
            .as_deref()
        {
            None | Some("parentbased_always_on") => {
                TraceSampler::ParentBased(ParentlessSampler::AlwaysOn)
            }
            Some("parentbased_always_off") => {
                TraceSampler::ParentBased(ParentlessSampler::AlwaysOff)
            }
            Some("parentbased_traceidratio") => {
                TraceSampler::ParentBased(ParentlessSampler::Ratio(ratio()?))
            }
            Some("always_on") => TraceSampler::AlwaysOn,
            Some("always_off") => TraceSampler::AlwaysOff,
            Some("traceidratio") => TraceSampler::Ratio(ratio()?),
            Some(other) => {
                return Err(ConfigError::new(
                    "OTEL_TRACES_SAMPLER",
                    other,
                    "always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off or parentbased_traceidratio",
                ));
            }
        };
        let resource = get("OTEL_RESOURCE_ATTRIBUTES")
            .map(|v| {
                v.split(',')
                    .filter_map(|pair| pair.split_once('='))
                    .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
                    .filter(|(k, _)| !k.is_empty())
                    .collect()
            })
            .unwrap_or_default();
        let timeout =
            match get("OTEL_EXPORTER_OTLP_TRACES_TIMEOUT")
                .or_else(|| get("OTEL_EXPORTER_OTLP_TIMEOUT"))
            {
                None => Duration::from_secs(10),
                Some(v) => Duration::from_millis(v.trim().parse().map_err(|_| {
                    ConfigError::new("OTEL_EXPORTER_OTLP_TIMEOUT", &v, "milliseconds")
                })?),
            };
        let queue = match get("OTEL_BSP_MAX_QUEUE_SIZE") {
            None => 2048,
            Some(v) => v
                .trim()
                .parse::<usize>()
                .ok()
                .filter(|n| (1..=1 << 20).contains(n))
                .ok_or_else(|| {
                    ConfigError::new(
                        "OTEL_BSP_MAX_QUEUE_SIZE",
                        &v,
                        "a whole number from 1 to 1048576",
                    )
                })?,
        };
        Ok(Some(TraceSettings {
            queue,
            endpoint,
            protocol,
            service_name: get("OTEL_SERVICE_NAME")
                .map_or_else(|| "classification_api".to_owned(), |v| v.trim().to_owned()),
            resource,
            sampler,
            timeout,
        }))
    }
}

/// Where the prediction history is kept.
#[derive(Clone, PartialEq, Eq)]
pub enum HistoryStore {
    /// `HISTORY=off`: no history, no history endpoints.
    Off,
    /// A SQLite file (`HISTORY_PATH`),
    /// created with its directory.
    Sqlite(PathBuf),
    /// `DATABASE_URL=postgres://...`.
    Postgres(Secret),
}

impl fmt::Debug for HistoryStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryStore::Off => f.write_str("Off"),
            HistoryStore::Sqlite(p) => write!(f, "Sqlite({})", p.display()),
            // the URL may carry a password
            HistoryStore::Postgres(_) => f.write_str("Postgres(<redacted>)"),
        }
    }
}

/// A secret that never appears in logs or `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(pub String);

impl Secret {
    /// Whether an `Authorization` value (HTTP's header, gRPC's metadata),
    /// `Bearer <token>`, carries this key (compared in constant time).
    pub fn is_bearer_of(&self, authorization: Option<&[u8]>) -> bool {
        use subtle::ConstantTimeEq as _;
        let Some((scheme, token)) = authorization.and_then(|v| v.split_at_checked(7)) else {
            return false;
        };
        scheme.eq_ignore_ascii_case(b"bearer ") && bool::from(token.ct_eq(self.0.as_bytes()))
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Default for Config {
    /// Every setting at its declared default.
    fn default() -> Self {
        Config::from_lookup(|_| None).expect("the declared defaults are valid")
    }
}

impl Config {
    /// Reads the configuration from the command line and the process
    /// environment; `--help` and `--version` answer and exit, as does an
    /// unknown flag.
    pub fn from_env() -> Result<Self, ConfigError> {
        let matches = command().get_matches();
        Self::from_lookup(|name| matches.try_get_one::<String>(name).ok().flatten().cloned())
    }

    /// Reads the configuration through `lookup` (a variable's value, if
    /// set); a variable unset or blank has its declared default.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Self, ConfigError> {
        let get = |name: &'static str| {
            lookup(name)
                .filter(|v| !v.trim().is_empty())
                .or_else(|| default_of(name).map(str::to_owned))
        };
        let host = match get("HOST").unwrap_or_default() {
            h if h.trim() == "localhost" => IpAddr::V4(Ipv4Addr::LOCALHOST),
            h => h.trim().parse().map_err(|_| {
                ConfigError::new("HOST", &h, "an IP address such as 0.0.0.0 or 127.0.0.1")
            })?,
        };
        Ok(Config {
            host,
            port: parse(get("PORT"), "PORT", "a port number from 0 to 65535")?,
            grpc_port: match get("GRPC_PORT") {
                Some(off) if off.trim().eq_ignore_ascii_case("off") => None,
                port => Some(parse(
                    port,
                    "GRPC_PORT",
                    "a port number from 0 to 65535, or off",
                )?),
            },
            max_body_bytes: positive(get("MAX_BODY_BYTES"), "MAX_BODY_BYTES")?,
            max_batch: positive(get("MAX_BATCH"), "MAX_BATCH")?,
            shutdown_grace: Duration::from_secs(parse(
                get("SHUTDOWN_GRACE_SECS"),
                "SHUTDOWN_GRACE_SECS",
                "a whole number of seconds",
            )?),
            header_timeout: Duration::from_secs(positive(
                get("HEADER_TIMEOUT_SECS"),
                "HEADER_TIMEOUT_SECS",
            )?),
            request_timeout: Duration::from_secs(positive(
                get("REQUEST_TIMEOUT_SECS"),
                "REQUEST_TIMEOUT_SECS",
            )?),
            max_in_flight: positive(get("MAX_IN_FLIGHT"), "MAX_IN_FLIGHT")?,
            max_connections: positive(get("MAX_CONNECTIONS"), "MAX_CONNECTIONS")?,
            api_key: key(lookup("API_KEY"), "API_KEY")?,
            model_path: get("MODEL_PATH").map(PathBuf::from),
            models_dir: get("MODELS_DIR").map(PathBuf::from),
            default_version: version(get("DEFAULT_MODEL_VERSION"), "DEFAULT_MODEL_VERSION")?,
            shadow_version: version(get("SHADOW_MODEL_VERSION"), "SHADOW_MODEL_VERSION")?,
            history: match (
                get("HISTORY").map(|v| v.trim().to_ascii_lowercase()),
                get("DATABASE_URL"),
            ) {
                (Some(off), _) if off == "off" || off == "false" || off == "0" => HistoryStore::Off,
                (Some(on), _) if !(on == "on" || on == "true" || on == "1") => {
                    return Err(ConfigError::new("HISTORY", &on, "on or off"));
                }
                (_, Some(url)) => {
                    let url = url.trim().to_owned();
                    if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
                        return Err(ConfigError::new(
                            "DATABASE_URL",
                            "<redacted>",
                            "a PostgreSQL URL, postgres://user:password@host:5432/database",
                        ));
                    }
                    HistoryStore::Postgres(Secret(url))
                }
                (_, None) => HistoryStore::Sqlite(
                    get("HISTORY_PATH")
                        .map_or_else(|| PathBuf::from(DEFAULT_HISTORY_PATH), PathBuf::from),
                ),
            },
            keep_names: flag(get("HISTORY_KEEP_NAMES"), "HISTORY_KEEP_NAMES")?,
            admin_loopback: flag(get("ADMIN_LOOPBACK"), "ADMIN_LOOPBACK")?,
            retention_days: match get("HISTORY_RETENTION_DAYS") {
                None => None,
                v => Some(positive(v, "HISTORY_RETENTION_DAYS")?),
            },
            monitoring_refresh: Duration::from_secs(positive(
                get("MONITORING_REFRESH_SECS"),
                "MONITORING_REFRESH_SECS",
            )?),
            admin_key: key(lookup("ADMIN_API_KEY"), "ADMIN_API_KEY")?,
            address_file: get("ADDRESS_FILE").map(PathBuf::from),
            log: get("RUST_LOG").unwrap_or_default(),
            traces: TraceSettings::from_lookup(get)?,
            cors_origins: match get("CORS_ORIGINS") {
                None => None,
                Some(list) => {
                    let origins: Vec<String> = list
                        .split(',')
                        .map(|o| o.trim().trim_end_matches('/').to_owned())
                        .filter(|o| !o.is_empty())
                        .collect();
                    if let Some(bad) = origins.iter().find(|o| {
                        o.as_str() != "*"
                            && !(o.starts_with("http://") || o.starts_with("https://"))
                    }) {
                        return Err(ConfigError::new(
                            "CORS_ORIGINS",
                            bad,
                            "`*` or comma-separated origins such as https://example.com",
                        ));
                    }
                    Some(origins)
                }
            },
        })
    }

    /// The address to listen on.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.host, self.port)
    }

    /// The address of the gRPC service, if it is on.
    pub fn grpc_addr(&self) -> Option<SocketAddr> {
        self.grpc_port.map(|port| SocketAddr::new(self.host, port))
    }
}

/// The history file when neither `HISTORY_PATH` nor `DATABASE_URL` is set.
pub const DEFAULT_HISTORY_PATH: &str = "data/history.sqlite3";

/// A model version.
fn version(
    value: Option<String>,
    name: &'static str,
) -> Result<Option<semver::Version>, ConfigError> {
    value
        .map(|v| {
            semver::Version::parse(v.trim())
                .map_err(|_| ConfigError::new(name, &v, "a semver version such as 0.2.0"))
        })
        .transpose()
}

/// `true`/`1` or `false`/`0`, any case.
fn flag(value: Option<String>, name: &'static str) -> Result<bool, ConfigError> {
    match value.map(|v| v.trim().to_ascii_lowercase()).as_deref() {
        Some("true" | "1") => Ok(true),
        Some("false" | "0") => Ok(false),
        other => Err(ConfigError::new(name, other.unwrap_or(""), "true or false")),
    }
}

/// A bearer key: at least 16 characters, no surrounding spaces.
fn key(value: Option<String>, name: &'static str) -> Result<Option<Secret>, ConfigError> {
    match value {
        None => Ok(None),
        Some(k) if k.trim().len() >= 16 && k.trim() == k => Ok(Some(Secret(k))),
        Some(_) => Err(ConfigError::new(
            name,
            "<redacted>",
            "at least 16 characters, without surrounding spaces (or unset it)",
        )),
    }
}

/// A value of a setting that has a default (so is always given).
fn parse<T: std::str::FromStr>(
    value: Option<String>,
    name: &'static str,
    expected: &'static str,
) -> Result<T, ConfigError> {
    let v = value.unwrap_or_default();
    v.trim()
        .parse()
        .map_err(|_| ConfigError::new(name, &v, expected))
}

fn positive<T: std::str::FromStr + PartialOrd + Default>(
    value: Option<String>,
    name: &'static str,
) -> Result<T, ConfigError> {
    let v = parse(value.clone(), name, "a positive whole number")?;
    if v > T::default() {
        Ok(v)
    } else {
        Err(ConfigError::new(
            name,
            value.as_deref().unwrap_or(""),
            "a positive whole number",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|k| pairs.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone()))
    }

    #[test]
    fn every_variable_read_is_declared() {
        let read = std::cell::RefCell::new(Vec::new());
        Config::from_lookup(|name| {
            read.borrow_mut().push(name.to_owned());
            None
        })
        .unwrap();
        for name in read.into_inner() {
            assert!(
                default_of(&name).is_some() || SETTINGS.iter().any(|(n, _, _)| *n == name),
                "{name}"
            );
        }
        assert_eq!(Config::default().log, "info");
    }

    #[test]
    fn defaults() {
        let c = from(&[]).unwrap();
        assert_eq!(c.addr().to_string(), "0.0.0.0:8002");
        assert_eq!(c.max_body_bytes, 1 << 20);
        assert_eq!(c.max_batch, 10_000);
    }

    #[test]
    fn reads_and_checks_variables() {
        let c = from(&[("PORT", "8080"), ("HOST", "127.0.0.1"), ("MAX_BATCH", "5")]).unwrap();
        assert_eq!(c.addr().to_string(), "127.0.0.1:8080");
        assert_eq!(c.max_batch, 5);
        let e = from(&[("PORT", "80a")]).unwrap_err().to_string();
        assert!(e.contains("PORT") && e.contains("80a"), "{e}");
        assert!(from(&[("PORT", "70000")]).is_err());
        assert_eq!(from(&[]).unwrap().grpc_port, Some(8081));
        assert_eq!(from(&[]).unwrap().traces, None);
        let t = from(&[("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4318/")])
            .unwrap()
            .traces
            .unwrap();
        assert_eq!(t.endpoint, "http://c:4318/v1/traces");
        assert_eq!(t.protocol, OtlpProtocol::HttpProtobuf);
        assert_eq!(
            t.sampler,
            TraceSampler::ParentBased(ParentlessSampler::AlwaysOn)
        );
        let t = from(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c:4317"),
            ("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc"),
            ("OTEL_TRACES_SAMPLER", "traceidratio"),
            ("OTEL_TRACES_SAMPLER_ARG", "0.25"),
            ("OTEL_SERVICE_NAME", "titanic"),
            (
                "OTEL_RESOURCE_ATTRIBUTES",
                "deployment.environment=test, team=ml",
            ),
        ])
        .unwrap()
        .traces
        .unwrap();
        assert_eq!(t.endpoint, "http://c:4317");
        assert_eq!(t.sampler, TraceSampler::Ratio(0.25));
        assert_eq!(t.service_name, "titanic");
        assert_eq!(t.resource[1], ("team".to_owned(), "ml".to_owned()));
        for (bad, name) in [
            (("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json"), None),
            (("OTEL_TRACES_SAMPLER", "sometimes"), None),
            (("OTEL_TRACES_SAMPLER_ARG", "2"), Some("traceidratio")),
        ] {
            let mut pairs = vec![("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"), bad];
            if let Some(sampler) = name {
                pairs.push(("OTEL_TRACES_SAMPLER", sampler));
            }
            let e = from(&pairs).unwrap_err().to_string();
            assert!(e.contains(bad.0), "{e}");
        }
        let off = from(&[
            ("OTEL_EXPORTER_OTLP_ENDPOINT", "http://c"),
            ("OTEL_SDK_DISABLED", "true"),
        ]);
        assert_eq!(off.unwrap().traces, None);
        assert_eq!(from(&[("GRPC_PORT", "0")]).unwrap().grpc_port, Some(0));
        assert_eq!(from(&[("GRPC_PORT", "OFF")]).unwrap().grpc_port, None);
        let e = from(&[("GRPC_PORT", "h2")]).unwrap_err().to_string();
        assert!(e.contains("GRPC_PORT") && e.contains("or off"), "{e}");
        assert!(from(&[("MAX_BODY_BYTES", "0")]).is_err());
        assert!(from(&[("HOST", "nowhere")]).is_err());
        assert!(from(&[("MAX_IN_FLIGHT", "-1")]).is_err());
    }

    #[test]
    fn model_versions() {
        let c = from(&[
            ("MODELS_DIR", "models"),
            ("DEFAULT_MODEL_VERSION", " 0.2.0"),
            ("SHADOW_MODEL_VERSION", "0.3.0-rc.1"),
        ])
        .unwrap();
        assert_eq!(c.models_dir, Some(PathBuf::from("models")));
        assert_eq!(c.default_version.unwrap().to_string(), "0.2.0");
        assert_eq!(c.shadow_version.unwrap().to_string(), "0.3.0-rc.1");
        let e = from(&[("DEFAULT_MODEL_VERSION", "2")])
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("DEFAULT_MODEL_VERSION") && e.contains("semver"),
            "{e}"
        );
        assert!(from(&[("SHADOW_MODEL_VERSION", "v1.0.0")]).is_err());
    }

    #[test]
    fn api_key_is_checked_and_never_printed() {
        let c = from(&[("API_KEY", "0123456789abcdef-secret")]).unwrap();
        assert_eq!(c.api_key.as_ref().unwrap().0, "0123456789abcdef-secret");
        assert!(!format!("{c:?}").contains("secret"));
        let e = from(&[("API_KEY", "short")]).unwrap_err().to_string();
        assert!(e.contains("API_KEY") && !e.contains("short"), "{e}");
        assert_eq!(from(&[]).unwrap().api_key, None);
    }

    #[test]
    fn history_store_and_its_settings() {
        let c = from(&[]).unwrap();
        assert_eq!(c.history, HistoryStore::Sqlite(DEFAULT_HISTORY_PATH.into()));
        assert!(!c.keep_names && c.retention_days.is_none() && c.admin_key.is_none());
        assert_eq!(
            from(&[("HISTORY", "off")]).unwrap().history,
            HistoryStore::Off
        );
        assert_eq!(
            from(&[("HISTORY_PATH", "/tmp/h.db")]).unwrap().history,
            HistoryStore::Sqlite("/tmp/h.db".into())
        );
        let pg = from(&[("DATABASE_URL", "postgres://u:secret@db/x")]).unwrap();
        assert!(matches!(pg.history, HistoryStore::Postgres(_)));
        assert!(!format!("{pg:?}").contains("secret"));
        assert!(from(&[("DATABASE_URL", "mysql://x")]).is_err());
        assert!(from(&[("HISTORY", "maybe")]).is_err());
        assert!(from(&[("HISTORY_RETENTION_DAYS", "0")]).is_err());
        assert_eq!(
            from(&[
                ("HISTORY_RETENTION_DAYS", "30"),
                ("HISTORY_KEEP_NAMES", "true")
            ])
            .unwrap()
            .retention_days,
            Some(30)
        );
        assert!(from(&[("ADMIN_API_KEY", "short")]).is_err());
        assert!(c.admin_loopback);
        assert!(!from(&[("ADMIN_LOOPBACK", "FALSE")]).unwrap().admin_loopback);
        assert!(from(&[("ADMIN_LOOPBACK", "0")]).is_ok());
        let e = from(&[("ADMIN_LOOPBACK", "no")]).unwrap_err().to_string();
        assert!(
            e.contains("ADMIN_LOOPBACK") && e.contains("true or false"),
            "{e}"
        );
    }
}
