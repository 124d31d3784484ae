//! Mapping driver errors onto shop-core's kinds; driver text stays in the source, for logs.

use std::sync::Mutex;

use ::mongodb::error::{ErrorKind, WriteFailure};
use shop_core::{Conflict, Error};

/// A domain error raised inside a transaction callback, carried through the driver's error
/// type (which the retry helper requires) and taken out again afterwards.
pub(super) struct Carried(Mutex<Option<Error>>);

/// Wraps a domain error so a transaction callback can return it.
pub(super) fn carry(e: impl Into<Error>) -> ::mongodb::error::Error {
    ::mongodb::error::Error::custom(Carried(Mutex::new(Some(e.into()))))
}

const DUPLICATE_KEY: i32 = 11000;
const WRITE_CONFLICT: i32 = 112;

fn server_code(e: &::mongodb::error::Error) -> Option<(i32, &str)> {
    match e.kind.as_ref() {
        ErrorKind::Write(WriteFailure::WriteError(w)) => Some((w.code, w.message.as_str())),
        ErrorKind::Command(c) => Some((c.code, c.message.as_str())),
        ErrorKind::InsertMany(m) => m
            .write_errors
            .as_ref()
            .and_then(|errs| errs.first())
            .map(|w| (w.code, w.message.as_str())),
        _ => None,
    }
}

/// Whether the error is a duplicate-key violation.
pub(super) fn is_duplicate(e: &::mongodb::error::Error) -> bool {
    server_code(e).is_some_and(|(code, _)| code == DUPLICATE_KEY)
}

/// Maps a driver error (or a carried domain error) to the domain's kinds.
pub(super) fn map(e: ::mongodb::error::Error) -> Error {
    if let Some(carried) = e.get_custom::<Carried>()
        && let Some(inner) = carried.0.lock().ok().and_then(|mut slot| slot.take())
    {
        return inner;
    }
    if let Some((code, message)) = server_code(&e) {
        return match code {
            DUPLICATE_KEY => Error::Conflict(duplicate_kind(message)),
            WRITE_CONFLICT => Error::Conflict(Conflict::ConcurrentModification),
            _ => Error::internal(e),
        };
    }
    match e.kind.as_ref() {
        ErrorKind::Io(_)
        | ErrorKind::ServerSelection { .. }
        | ErrorKind::ConnectionPoolCleared { .. }
        | ErrorKind::DnsResolve { .. }
        | ErrorKind::Authentication { .. }
        | ErrorKind::Shutdown
        | ErrorKind::SessionsNotSupported => Error::unavailable(e),
        _ if e.contains_label(::mongodb::error::TRANSIENT_TRANSACTION_ERROR) => {
            Error::Conflict(Conflict::ConcurrentModification)
        }
        _ => Error::internal(e),
    }
}

/// Which unique index an E11000 message names (indexes are created with these names).
fn duplicate_kind(message: &str) -> Conflict {
    if message.contains("uq_sku") {
        Conflict::SkuTaken
    } else if message.contains("uq_slug") {
        Conflict::SlugTaken
    } else if message.contains("uq_email") {
        Conflict::EmailTaken
    } else if message.contains("uq_review_author") {
        Conflict::ReviewExists
    } else {
        Conflict::ConcurrentModification
    }
}
