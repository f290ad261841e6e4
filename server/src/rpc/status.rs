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

/// What tonic's codec writes before a protobuf decoding error (`prost::DecodeError`).
const DECODE_ERROR_PREFIX: &str = "failed to decode Protobuf message: ";

/// The status a call should end with when tonic's transport or codec, not a handler, made
/// `status`; `None` leaves it as it is. Two of tonic's choices are not gRPC's conventions:
///
/// - a message over the size limit is `OUT_OF_RANGE` in tonic; it becomes
///   `RESOURCE_EXHAUSTED` (reason `MESSAGE_TOO_LARGE`);
/// - a request that is not a valid message of its type (a string field holding invalid
///   UTF-8, a truncated field) is `INTERNAL` in tonic, though the caller sent it; it becomes
///   `INVALID_ARGUMENT` (reason `MALFORMED_MESSAGE`) with a `BadRequest` naming the field
///   ("document.text") when the decoder said which.
///
/// # Examples
///
/// ```
/// use dossier_server::rpc::status::from_codec;
/// let tonic_says = tonic::Status::internal("failed to decode Protobuf message: \
///     Document.text: IngestDocumentsRequest.document: invalid string value: data is not UTF-8 encoded");
/// let status = from_codec(&tonic_says).unwrap();
/// assert_eq!(status.code(), tonic::Code::InvalidArgument);
/// assert_eq!(status.message(), "malformed request: document.text: invalid string value: data is not UTF-8 encoded");
/// ```
pub fn from_codec(status: &Status) -> Option<Status> {
    match status.code() {
        Code::OutOfRange if status.message().contains("message length too large") => {
            Some(Status::with_error_details(
                Code::ResourceExhausted,
                status.message(),
                ErrorDetails::with_error_info(
                    "MESSAGE_TOO_LARGE",
                    crate::rpc::layers::ERROR_DOMAIN,
                    std::collections::HashMap::new(),
                ),
            ))
        }
        Code::Internal => {
            let rest = status.message().strip_prefix(DECODE_ERROR_PREFIX)?;
            // prost lists the fields it was in, innermost first, as `Message.field: `.
            let mut fields = Vec::new();
            let mut description = rest;
            while let Some((head, tail)) = description.split_once(": ") {
                let Some((message, field)) = head.split_once('.') else {
                    break;
                };
                let ident = |s: &str| {
                    !s.is_empty() && s.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_')
                };
                if !ident(message) || !ident(field) {
                    break;
                }
                fields.push(field);
                description = tail;
            }
            fields.reverse();
            let field = fields.join(".");
            let message = if field.is_empty() {
                format!("malformed request: {description}")
            } else {
                format!("malformed request: {field}: {description}")
            };
            let mut details = ErrorDetails::with_error_info(
                "MALFORMED_MESSAGE",
                crate::rpc::layers::ERROR_DOMAIN,
                std::collections::HashMap::new(),
            );
            if !field.is_empty() {
                details.add_bad_request_violation(field, description);
            }
            Some(Status::with_error_details(
                Code::InvalidArgument,
                message,
                details,
            ))
        }
        _ => None,
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
    fn undecodable_requests_are_invalid_argument_naming_the_field() {
        let status = from_codec(&Status::internal(
            "failed to decode Protobuf message: SearchRequest.query: invalid string value: data is not UTF-8 encoded",
        ))
        .unwrap();
        assert_eq!(status.code(), Code::InvalidArgument);
        let details = status.get_error_details();
        assert_eq!(details.error_info().unwrap().reason, "MALFORMED_MESSAGE");
        let violation = &details.bad_request().unwrap().field_violations[0];
        assert_eq!(violation.field, "query");
        assert_eq!(
            violation.description,
            "invalid string value: data is not UTF-8 encoded"
        );
        // Without a field path, the message still says what is wrong.
        let status = from_codec(&Status::internal(
            "failed to decode Protobuf message: buffer underflow",
        ))
        .unwrap();
        assert_eq!(status.message(), "malformed request: buffer underflow");
        assert!(status.get_error_details().bad_request().is_none());
        // A handler's own INTERNAL is left alone.
        assert!(from_codec(&Status::internal("internal error while searching")).is_none());
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
