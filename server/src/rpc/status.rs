//! The one place engine errors become gRPC statuses. Caller mistakes keep their message and
//! name the offending field (a tonic-types `BadRequest`); internal failures are logged once
//! and sent as a plain `INTERNAL`.

use crate::corpus::CorpusError;
use crate::index::IndexError;
use crate::store::StoreError;
use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// `INVALID_ARGUMENT` naming `field`, with a `BadRequest` field violation.
pub fn invalid_argument(field: &str, description: impl Into<String>) -> Status {
    let description = description.into();
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {description}"),
        ErrorDetails::with_bad_request_violation(field, description),
    )
}

/// `INTERNAL` for a failure the caller cannot fix; the cause is logged, not sent.
pub fn internal(context: &str, error: &dyn std::error::Error) -> Status {
    tracing::error!(error = %error, context, "internal error");
    Status::internal(format!("internal error while {context}"))
}

impl From<CorpusError> for Status {
    fn from(err: CorpusError) -> Self {
        match err {
            CorpusError::InvalidField { field, reason } => invalid_argument(field, reason),
            CorpusError::Io { .. } | CorpusError::Json { .. } => {
                internal("reading the corpus", &err)
            }
        }
    }
}

impl From<StoreError> for Status {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::NotFound { .. } => Status::not_found(err.to_string()),
            StoreError::Invalid(e) => e.into(),
            StoreError::Persist(_) => internal("persisting a write", &err),
            StoreError::Index(e) => e.into(),
        }
    }
}

impl From<IndexError> for Status {
    fn from(err: IndexError) -> Self {
        match err {
            IndexError::InvalidQuery { .. } => invalid_argument("query", err.to_string()),
            IndexError::InvalidDocument(reason) => invalid_argument("document", reason),
            IndexError::DocumentNotFound(_) => Status::not_found(err.to_string()),
            IndexError::Tantivy(_) => internal("searching the index", &err),
        }
    }
}

/// The gRPC code name of a status ("INVALID_ARGUMENT"), as per-item errors report it.
pub fn code_name(code: Code) -> &'static str {
    match code {
        Code::Ok => "OK",
        Code::Cancelled => "CANCELLED",
        Code::Unknown => "UNKNOWN",
        Code::InvalidArgument => "INVALID_ARGUMENT",
        Code::DeadlineExceeded => "DEADLINE_EXCEEDED",
        Code::NotFound => "NOT_FOUND",
        Code::AlreadyExists => "ALREADY_EXISTS",
        Code::PermissionDenied => "PERMISSION_DENIED",
        Code::ResourceExhausted => "RESOURCE_EXHAUSTED",
        Code::FailedPrecondition => "FAILED_PRECONDITION",
        Code::Aborted => "ABORTED",
        Code::OutOfRange => "OUT_OF_RANGE",
        Code::Unimplemented => "UNIMPLEMENTED",
        Code::Internal => "INTERNAL",
        Code::Unavailable => "UNAVAILABLE",
        Code::DataLoss => "DATA_LOSS",
        Code::Unauthenticated => "UNAUTHENTICATED",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_fields_become_bad_requests_naming_the_field() {
        let status: Status = CorpusError::InvalidField {
            field: "document.text",
            reason: "must not be empty".into(),
        }
        .into();
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        let violations = &details.bad_request().unwrap().field_violations;
        assert_eq!(violations[0].field, "document.text");
    }

    #[test]
    fn missing_items_are_not_found() {
        let status: Status = StoreError::NotFound {
            kind: "document",
            id: "x".into(),
        }
        .into();
        assert_eq!(status.code(), Code::NotFound);
    }
}
