//! Traces across the broker. An event's `traceparent` (W3C, see [`shop_core::trace`]) goes out
//! in the message's `traceparent` header; the consumer reads it back, so the handler's span
//! continues the trace that made the event. With the `otel` feature the publish and handle
//! spans are joined to that trace through `tracing-opentelemetry` (the application installs
//! the OpenTelemetry layer and a W3C propagator); without it the header is passed on as is.

#[cfg(feature = "rabbitmq")]
use shop_core::DomainEvent;
use tracing::Span;

/// The message header that carries the trace context.
pub(crate) const TRACEPARENT: &str = "traceparent";

#[cfg(feature = "rabbitmq")]
/// The span that publishes `event`, a child of the operation that made it.
pub(crate) fn publish_span(event: &DomainEvent) -> Span {
    let span = tracing::debug_span!(
        "outbox.publish",
        otel.kind = "producer",
        messaging.system = "rabbitmq",
        messaging.message.id = %event.id,
        event.r#type = event.event_type.as_str(),
    );
    continue_trace(&span, event.traceparent.as_deref());
    span
}

#[cfg(feature = "rabbitmq")]
/// The span a consumer handles `event` in, a child of the span that published it.
pub(crate) fn handle_span(queue: &str, event: &DomainEvent) -> Span {
    let span = tracing::debug_span!(
        "event.handle",
        otel.kind = "consumer",
        messaging.system = "rabbitmq",
        messaging.destination.name = queue,
        messaging.message.id = %event.id,
        event.r#type = event.event_type.as_str(),
    );
    continue_trace(&span, event.traceparent.as_deref());
    span
}

#[cfg(feature = "rabbitmq")]
/// The `traceparent` header to send with `event` from inside `span`: the span's own context
/// when spans are exported (so the consumer's span is its child), else the event's.
pub(crate) fn outgoing(span: &Span, event: &DomainEvent) -> Option<String> {
    #[cfg(feature = "otel")]
    if let Some(tp) = traceparent_of(span) {
        return Some(tp);
    }
    #[cfg(not(feature = "otel"))]
    let _ = span;
    event.traceparent.clone()
}

/// The W3C `traceparent` of `span` as the installed propagator writes it; `None` when it is
/// not part of an exported trace. An application gives `tracing::Span::current()` to it in
/// the function it hands to [`shop_core::trace::set_traceparent_source`].
#[cfg(feature = "otel")]
#[must_use]
pub fn traceparent_of(span: &Span) -> Option<String> {
    use tracing_opentelemetry::OpenTelemetrySpanExt;
    let mut carrier = std::collections::HashMap::new();
    opentelemetry::global::get_text_map_propagator(|p| {
        p.inject_context(&span.context(), &mut carrier);
    });
    carrier.remove(TRACEPARENT)
}

#[cfg(feature = "rabbitmq")]
fn continue_trace(span: &Span, traceparent: Option<&str>) {
    let Some(tp) = traceparent.filter(|t| shop_core::trace::is_traceparent(t)) else {
        return;
    };
    #[cfg(feature = "otel")]
    {
        use tracing_opentelemetry::OpenTelemetrySpanExt;
        let mut carrier = std::collections::HashMap::new();
        carrier.insert(TRACEPARENT.to_owned(), tp.to_owned());
        let parent = opentelemetry::global::get_text_map_propagator(|p| p.extract(&carrier));
        let _ = span.set_parent(parent);
    }
    #[cfg(not(feature = "otel"))]
    let _ = (span, tp);
}
