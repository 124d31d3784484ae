//! Where an event came from, for distributed tracing, without a tracing library here: the
//! W3C `traceparent` of the operation that made an event travels with it (the outbox keeps
//! it; the publisher puts it in the message headers; a consumer continues the trace).
//!
//! The application says how to read the current trace context once, at start-up
//! ([`set_traceparent_source`]); until it does, events carry none and making one costs a
//! single atomic load more.

use std::sync::OnceLock;

static SOURCE: OnceLock<fn() -> Option<String>> = OnceLock::new();

/// Sets the function that returns the current `traceparent`
/// (`00-<trace id>-<span id>-<flags>`), or `None` outside a trace. Only the first call takes
/// effect; `false` when one was already set.
pub fn set_traceparent_source(source: fn() -> Option<String>) -> bool {
    SOURCE.set(source).is_ok()
}

/// The current `traceparent`, when a source is set and there is a trace.
#[must_use]
pub fn current_traceparent() -> Option<String> {
    SOURCE.get().and_then(|source| source())
}

/// Whether `value` is a well-formed W3C `traceparent` (version 00): what adapters and
/// publishers accept from outside before they store or forward it.
#[must_use]
pub fn is_traceparent(value: &str) -> bool {
    let parts: Vec<&str> = value.split('-').collect();
    let hex = |s: &str, len: usize| {
        s.len() == len
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    };
    parts.len() == 4
        && parts[0] == "00"
        && hex(parts[1], 32)
        && parts[1] != "0".repeat(32)
        && hex(parts[2], 16)
        && parts[2] != "0".repeat(16)
        && hex(parts[3], 2)
}

#[cfg(test)]
mod tests {
    use super::is_traceparent;

    #[test]
    fn traceparents_are_checked() {
        assert!(is_traceparent(
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        ));
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",
        ] {
            assert!(!is_traceparent(bad), "{bad}");
        }
    }
}
