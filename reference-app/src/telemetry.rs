//! Logs and traces. Logs: JSON or pretty lines on stdout, filtered by `RUST_LOG`. Traces:
//! only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set — then spans (the HTTP request, the service
//! call, each store call with `db.system`, the relay's publish, a consumer's handling) are
//! exported over OTLP/HTTP (protobuf) in batches, an incoming W3C `traceparent` is continued,
//! and events carry the trace to their consumers. Unset, no exporter exists and the spans
//! below `info` that only traces want are never even created.

use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{EnvFilter, Layer};

use crate::config::LogFormat;

/// What is never logged nor traced, whatever `RUST_LOG` says, because it carries what a log
/// must not hold: lapin's line for a message the broker returned (the whole event body as a
/// byte array — customers' e-mail addresses among it; the relay counts and reports those
/// events itself, at most once a minute per type) and its debug/trace lines (AMQP frames,
/// bodies and credentials included).
fn never_logged(target: &str, level: tracing::Level) -> bool {
    target.starts_with("lapin::returned_messages")
        || ((target.starts_with("lapin") || target.starts_with("amq_protocol"))
            && level > tracing::Level::INFO)
}

/// The log filter: `RUST_LOG`, else `info` with the chattier dependencies quieter.
fn log_filter() -> EnvFilter {
    EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,tower_http=info,sqlx=warn,lapin=warn"))
}

/// With traces on, what any layer may see: the log filter, plus the service and store calls
/// and the event spans of the shop's crates, which are `debug` so that logs never pay for
/// them (the log output filters them out again on its own). A global filter rather than one
/// on the trace layer: with a per-layer filter there too, the request span was now and then
/// left out of the traces, so that its children started traces of their own.
fn trace_filter() -> EnvFilter {
    ["shop_core=debug", "shop_store=debug", "shop_events=debug"]
        .into_iter()
        .filter_map(|d| d.parse().ok())
        .fold(log_filter(), EnvFilter::add_directive)
}

/// Keeps the log writer and the trace exporter alive; [`Telemetry::shutdown`] sends what is
/// still buffered.
#[derive(Debug)]
pub(crate) struct Telemetry {
    traces: Option<SdkTracerProvider>,
    logs: tracing_appender::non_blocking::WorkerGuard,
}

impl Telemetry {
    /// Flushes and stops the trace exporter and the log writer (outside the async runtime:
    /// it blocks).
    pub(crate) fn shutdown(self) {
        if let Some(provider) = self.traces
            && let Err(e) = provider.shutdown()
        {
            tracing::warn!(error = %e, "traces not fully exported at shutdown");
        }
        drop(self.logs);
    }
}

/// Installs the log output and, when configured, the trace exporter.
pub(crate) fn init(format: LogFormat) -> Telemetry {
    // Lines are written to stdout by a thread of their own, so a request never waits on the
    // write (one access-log line per request). Not lossy: when the buffer is full, logging
    // waits rather than dropping lines an operator relies on.
    let (stdout, guard) = tracing_appender::non_blocking::NonBlockingBuilder::default()
        .lossy(false)
        .finish(std::io::stdout());
    let logs = match format {
        LogFormat::Json => tracing_subscriber::fmt::layer()
            .with_writer(stdout.clone())
            .json()
            .with_current_span(true)
            // The request span already names the request; the list would repeat it.
            .with_span_list(false)
            .flatten_event(true)
            .with_filter(log_filter())
            .boxed(),
        LogFormat::Pretty => tracing_subscriber::fmt::layer()
            .with_writer(stdout)
            .pretty()
            .with_filter(log_filter())
            .boxed(),
    };
    let (global, traces, provider, not_exported) = match tracer_provider() {
        Ok(Some(provider)) => {
            let layer = tracing_opentelemetry::layer().with_tracer(provider.tracer("shop"));
            (Some(trace_filter()), Some(layer), Some(provider), None)
        }
        Ok(None) => (None, None, None, None),
        Err(e) => (None, None, None, Some(e)),
    };
    tracing_subscriber::registry()
        .with(tracing_subscriber::filter::filter_fn(|meta| {
            !never_logged(meta.target(), *meta.level())
        }))
        .with(global)
        .with(logs)
        .with(traces)
        .init();
    if provider.is_some() {
        tracing::info!("traces are exported over OTLP");
    }
    if let Some(e) = not_exported {
        tracing::warn!(error = %e, "traces are not exported: the OTLP exporter cannot be built");
    }
    Telemetry {
        traces: provider,
        logs: guard,
    }
}

/// The OTLP trace pipeline, when `OTEL_EXPORTER_OTLP_ENDPOINT` (or the traces-only
/// `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) is set; the exporter reads the standard `OTEL_*`
/// variables itself (headers, timeout; `OTEL_SERVICE_NAME`, default `shop`).
fn tracer_provider() -> Result<Option<SdkTracerProvider>, opentelemetry_otlp::ExporterBuildError> {
    let configured = [
        "OTEL_EXPORTER_OTLP_ENDPOINT",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    ]
    .iter()
    .any(|v| std::env::var(v).is_ok_and(|s| !s.trim().is_empty()));
    if !configured {
        return Ok(None);
    }
    let exporter = opentelemetry_otlp::SpanExporter::builder()
        .with_http()
        .build()?;
    let service = std::env::var("OTEL_SERVICE_NAME").unwrap_or_else(|_| "shop".into());
    let provider = SdkTracerProvider::builder()
        .with_batch_exporter(exporter)
        .with_resource(Resource::builder().with_service_name(service).build())
        .build();
    opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
    opentelemetry::global::set_tracer_provider(provider.clone());
    shop_core::trace::set_traceparent_source(current_traceparent);
    Ok(Some(provider))
}

/// The W3C `traceparent` of the current span, for events made inside it.
fn current_traceparent() -> Option<String> {
    shop_events::traceparent_of(&tracing::Span::current())
}

#[cfg(test)]
mod tests {
    use tracing::Level;

    #[test]
    fn returned_messages_and_frames_are_never_logged() {
        use super::never_logged;
        assert!(never_logged("lapin::returned_messages", Level::WARN));
        assert!(never_logged("lapin::channels", Level::TRACE));
        assert!(never_logged("amq_protocol::frame", Level::DEBUG));
        assert!(!never_logged("lapin::channel", Level::INFO));
        assert!(!never_logged("shop_events::relay", Level::WARN));
        assert!(!never_logged("reference_app", Level::TRACE));
    }
}
