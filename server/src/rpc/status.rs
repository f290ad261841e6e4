//! The one place engine errors become gRPC statuses. Caller mistakes keep their message and
//! name the offending field (a tonic-types `BadRequest`); internal failures are logged once
//! and sent as a plain `INTERNAL`.

use crate::corpus::CorpusError;
use crate::index::IndexError;
use crate::store::{QueryError, StoreError};
use http::HeaderMap;
use prost::Message;
use tonic::{Code, Status};
use tonic_types::{pb, ErrorDetails, StatusExt};

/// The `ErrorInfo.domain` of every error Dossier sends.
pub const ERROR_DOMAIN: &str = "dossier.v1";

/// A status with an `ErrorInfo` detail naming why (`reason`, UPPER_SNAKE_CASE).
pub fn status_with_reason(code: Code, reason: &str, message: impl Into<String>) -> Status {
    Status::with_error_details(
        code,
        message,
        ErrorDetails::with_error_info(reason, ERROR_DOMAIN, std::collections::HashMap::new()),
    )
}

/// `CANCELLED`: the caller went away, so the work it asked for was stopped.
pub fn cancelled(message: &str) -> Status {
    Status::cancelled(message)
}

/// `DEADLINE_EXCEEDED` for a stream whose caller's deadline passed while it was sending.
pub fn deadline_exceeded(message: &str) -> Status {
    Status::deadline_exceeded(message)
}

/// `INVALID_ARGUMENT` naming `field`, with a `BadRequest` field violation.
pub fn invalid_argument(field: &str, description: impl Into<String>) -> Status {
    let description = description.into();
    Status::with_error_details(
        Code::InvalidArgument,
        format!("{field}: {description}"),
        ErrorDetails::with_bad_request_violation(field, description),
    )
}

/// `UNAVAILABLE` with an `ErrorInfo` (`reason`) and a `RetryInfo` saying when to try again:
/// nothing of the call was applied, so retrying it is safe.
pub fn unavailable(reason: &str, message: &str, retry_after: std::time::Duration) -> Status {
    let mut details =
        ErrorDetails::with_error_info(reason, ERROR_DOMAIN, std::collections::HashMap::new());
    details.set_retry_info(Some(retry_after));
    Status::with_error_details(
        Code::Unavailable,
        format!(
            "{message}; nothing was written, retry in {} ms",
            retry_after.as_millis()
        ),
        details,
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
            StoreError::Unavailable {
                ref message,
                retry_after,
            } => unavailable("STORE_UNAVAILABLE", message, retry_after),
            StoreError::Index(e) => e.into(),
        }
    }
}

impl From<QueryError> for Status {
    fn from(err: QueryError) -> Self {
        match err {
            QueryError::NotFound { .. } => Status::not_found(err.to_string()),
            QueryError::UnknownFilterEntity { field, ref id } => {
                invalid_argument(field, format!("unknown entity {id:?}"))
            }
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
                    ERROR_DOMAIN,
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
                ERROR_DOMAIN,
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

/// Reads the gRPC status in `headers` (response headers or trailers), adds error details
/// to a failed one and rewrites it in place. `None` when `headers` hold no status.
pub(crate) fn finish_status(headers: &mut HeaderMap, request_id: &str) -> Option<Code> {
    let status = from_headers(headers)?;
    if status.code() == Code::Ok {
        return Some(Code::Ok);
    }
    let status = with_details(&status, request_id);
    if let Err(e) = status.add_header(headers) {
        tracing::warn!(error = %e, "cannot rewrite the status headers");
    }
    Some(status.code())
}

/// The gRPC status in `headers` (response headers or trailers), if they hold one.
pub(crate) fn from_headers(headers: &HeaderMap) -> Option<Status> {
    headers.get(Status::GRPC_STATUS)?;
    Status::from_header_map(headers)
}

/// `status` with an `ErrorInfo` (unless it has one) and a `RequestInfo` (unless it has one),
/// other details kept; a status from tonic's codec is first rewritten by
/// [`from_codec`] (an oversize message is `RESOURCE_EXHAUSTED`, an
/// undecodable one `INVALID_ARGUMENT`).
fn with_details(status: &Status, request_id: &str) -> Status {
    let rewritten = from_codec(status);
    let status = rewritten.as_ref().unwrap_or(status);
    let code = status.code();
    let mut rpc_status = pb::Status::decode(status.details()).unwrap_or_default();
    rpc_status.code = code as i32;
    rpc_status.message = status.message().to_string();
    let has = |type_url: &str| rpc_status.details.iter().any(|d| d.type_url == type_url);
    let (has_error_info, has_request_info) = (
        has(tonic_types::ErrorInfo::TYPE_URL),
        has(tonic_types::RequestInfo::TYPE_URL),
    );
    if !has_error_info {
        let reason = code_name(code);
        rpc_status.details.push(prost_types::Any {
            type_url: tonic_types::ErrorInfo::TYPE_URL.to_string(),
            value: pb::ErrorInfo {
                reason: reason.to_string(),
                domain: ERROR_DOMAIN.to_string(),
                metadata: Default::default(),
            }
            .encode_to_vec(),
        });
    }
    if !has_request_info {
        rpc_status.details.push(prost_types::Any {
            type_url: tonic_types::RequestInfo::TYPE_URL.to_string(),
            value: pb::RequestInfo {
                request_id: request_id.to_string(),
                serving_data: String::new(),
            }
            .encode_to_vec(),
        });
    }
    Status::with_details(code, status.message(), rpc_status.encode_to_vec().into())
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

    fn headers_of(status: &Status) -> HeaderMap {
        let mut headers = HeaderMap::new();
        status.add_header(&mut headers).unwrap();
        headers
    }

    #[test]
    fn failed_statuses_gain_error_info_and_request_info_and_keep_their_details() {
        let bad = invalid_argument("query", "unbalanced quote");
        let mut headers = headers_of(&bad);
        assert_eq!(
            finish_status(&mut headers, "req-1"),
            Some(Code::InvalidArgument)
        );
        let status = Status::from_header_map(&headers).unwrap();
        let details = status.get_error_details();
        assert_eq!(details.error_info().unwrap().reason, "INVALID_ARGUMENT");
        assert_eq!(details.error_info().unwrap().domain, ERROR_DOMAIN);
        assert_eq!(details.request_info().unwrap().request_id, "req-1");
        assert_eq!(
            details.bad_request().unwrap().field_violations[0].field,
            "query"
        );
        assert_eq!(status.message(), "query: unbalanced quote");
    }

    #[test]
    fn an_existing_error_info_is_kept() {
        let mut headers = headers_of(&status_with_reason(
            Code::Unauthenticated,
            "MISSING_CREDENTIALS",
            "no token",
        ));
        finish_status(&mut headers, "r");
        let status = Status::from_header_map(&headers).unwrap();
        let infos: Vec<_> = status
            .get_error_details_vec()
            .into_iter()
            .filter(|d| matches!(d, tonic_types::ErrorDetail::ErrorInfo(_)))
            .collect();
        assert_eq!(infos.len(), 1);
        assert_eq!(
            status.get_details_error_info().unwrap().reason,
            "MISSING_CREDENTIALS"
        );
    }

    #[test]
    fn oversize_messages_become_resource_exhausted() {
        let tonic_says = Status::out_of_range(
            "Error, decoded message length too large: found 2048 bytes, the limit is: 1024 bytes",
        );
        let mut headers = headers_of(&tonic_says);
        assert_eq!(
            finish_status(&mut headers, "r"),
            Some(Code::ResourceExhausted)
        );
        let status = Status::from_header_map(&headers).unwrap();
        assert_eq!(
            status.get_details_error_info().unwrap().reason,
            "MESSAGE_TOO_LARGE"
        );
        // A handler's own OUT_OF_RANGE stays what it is.
        let mut headers = headers_of(&Status::out_of_range("page 9 of 3"));
        assert_eq!(finish_status(&mut headers, "r"), Some(Code::OutOfRange));
    }

    #[test]
    fn ok_and_absent_statuses_are_left_alone() {
        let mut headers = headers_of(&Status::ok(""));
        let before = headers.clone();
        assert_eq!(finish_status(&mut headers, "r"), Some(Code::Ok));
        assert_eq!(headers, before);
        assert_eq!(finish_status(&mut HeaderMap::new(), "r"), None);
    }
}
