//! Reconcile errors and their classification.
//!
//! Every failure ends as one of three kinds, because the reconciler treats
//! each differently: [`Terminal`](ReconcileError::Terminal) sets
//! `ACK.Terminal` and waits for the user, [`Recoverable`](ReconcileError::Recoverable)
//! sets `ACK.Recoverable` and backs off, [`NotFound`](ReconcileError::NotFound)
//! feeds the adoption decision (see [`crate::adopt`]).
//!
//! Which AWS error codes mean "fix your spec" and which mean "not found" differ
//! by service, so services pass their lists to [`classify`]; only what is
//! common to every AWS API (throttling codes, HTTP status classes) is built in.

use thiserror::Error;

use crate::annotations::AnnotationError;
use crate::deletion::DeletionError;
use crate::tags::TagError;

/// Throttling error codes used across AWS APIs. Always recoverable.
pub const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    // SQS's own (HTTP 400 in its JSON protocol, 403 in its old Query protocol).
    "RequestThrottled",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "PriorRequestNotComplete",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "SlowDown",
];

/// Other codes AWS APIs use for transient server-side trouble. Always
/// recoverable, whatever HTTP status they arrive with.
pub const TRANSIENT_CODES: &[&str] = &[
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "InternalServerError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
];

/// The kind of a failure; see [`classify`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    /// Retrying will not help until the user changes something.
    Terminal,
    /// Transient; retry with backoff.
    Recoverable,
    /// The AWS resource does not exist.
    NotFound,
}

/// Classifies an AWS error from its code and HTTP status.
///
/// In order of precedence:
/// 1. a code in `terminal_codes` (the service's list) → `Terminal`;
/// 2. a code in `not_found_codes` (the service's list) → `NotFound`;
/// 3. a code in [`THROTTLING_CODES`] or [`TRANSIENT_CODES`] → `Recoverable`
///    (AWS sends some throttling as HTTP 400);
/// 4. no HTTP status (timeout, connection failure) → `Recoverable`;
/// 5. HTTP 5xx, 408 (timeout), 409 (conflict: another operation is in
///    progress) and 429 (too many requests) → `Recoverable`;
/// 6. any other HTTP 3xx or 4xx → `Terminal` (validation, access denied,
///    wrong region...);
/// 7. anything else (an error with a 1xx/2xx status, e.g. an unreadable
///    response) → `Recoverable`.
///
/// A 404 whose code is not in `not_found_codes` is `Terminal`: services must
/// list their not-found codes, or a vanished resource is never recreated.
pub fn classify(
    code: Option<&str>,
    http_status: Option<u16>,
    terminal_codes: &[&str],
    not_found_codes: &[&str],
) -> ErrorClass {
    if let Some(code) = code {
        if terminal_codes.contains(&code) {
            return ErrorClass::Terminal;
        }
        if not_found_codes.contains(&code) {
            return ErrorClass::NotFound;
        }
        if THROTTLING_CODES.contains(&code) || TRANSIENT_CODES.contains(&code) {
            return ErrorClass::Recoverable;
        }
    }
    match http_status {
        None => ErrorClass::Recoverable,
        Some(500..=599 | 408 | 409 | 429) => ErrorClass::Recoverable,
        Some(300..=499) => ErrorClass::Terminal,
        Some(_) => ErrorClass::Recoverable,
    }
}

/// What a recoverable AWS failure was, in words for the condition message.
pub fn transient_cause(code: Option<&str>, http_status: Option<u16>) -> &'static str {
    match (code, http_status) {
        (Some(c), _) if THROTTLING_CODES.contains(&c) => "AWS throttled the request",
        (_, Some(429)) => "AWS throttled the request",
        (_, None) => "no answer from AWS (timeout, connection reset or refused)",
        (_, Some(408)) => "the request timed out at AWS",
        (_, Some(409)) => "another operation on the resource is in progress at AWS",
        (_, Some(500..=599)) => "AWS had a server error",
        _ => "AWS had a transient error",
    }
}

/// Why a reconcile did not complete.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReconcileError {
    /// Needs the user: shown in `ACK.Terminal`.
    #[error("{code}: {message}")]
    Terminal { code: String, message: String },
    /// Transient: shown in `ACK.Recoverable`, retried with backoff.
    #[error("{code}: {message}")]
    Recoverable { code: String, message: String },
    /// The AWS resource does not exist.
    #[error("resource not found")]
    NotFound,
    /// Not a failure: AWS is still working on an earlier request that must finish first (a
    /// part removed before its whole can be deleted). `ACK.ResourceSynced=False` says what it
    /// waits for, and the resource is polled on the not-synced schedule, not backed off.
    #[error("{code}: {message}")]
    Pending { code: String, message: String },
}

impl ReconcileError {
    /// A terminal error.
    pub fn terminal(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Terminal {
            code: code.into(),
            message: message.into(),
        }
    }

    /// A recoverable error.
    pub fn recoverable(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Recoverable {
            code: code.into(),
            message: message.into(),
        }
    }

    /// AWS is still working on an earlier request (see [`ReconcileError::Pending`]).
    pub fn pending(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self::Pending {
            code: code.into(),
            message: message.into(),
        }
    }

    /// Builds the error for an AWS failure, classified by [`classify`].
    ///
    /// Without a code, the code becomes `HTTP<status>` or `NoResponse`, so the
    /// condition reason is never empty. A recoverable error's message starts
    /// with what happened ([`transient_cause`]) and that it will be retried.
    pub fn from_aws(
        code: Option<&str>,
        message: impl Into<String>,
        http_status: Option<u16>,
        terminal_codes: &[&str],
        not_found_codes: &[&str],
    ) -> Self {
        let code_text = || match (code, http_status) {
            (Some(c), _) => c.to_owned(),
            (None, Some(s)) => format!("HTTP{s}"),
            (None, None) => "NoResponse".to_owned(),
        };
        match classify(code, http_status, terminal_codes, not_found_codes) {
            ErrorClass::Terminal => Self::terminal(code_text(), message),
            ErrorClass::Recoverable => Self::recoverable(
                code_text(),
                format!(
                    "{}; retrying with backoff: {}",
                    transient_cause(code, http_status),
                    message.into()
                ),
            ),
            ErrorClass::NotFound => Self::NotFound,
        }
    }

    /// The error's class.
    pub fn class(&self) -> ErrorClass {
        match self {
            Self::Terminal { .. } => ErrorClass::Terminal,
            // Retried like a recoverable error wherever the class decides.
            Self::Recoverable { .. } | Self::Pending { .. } => ErrorClass::Recoverable,
            Self::NotFound => ErrorClass::NotFound,
        }
    }

    /// Whether the error is terminal.
    pub fn is_terminal(&self) -> bool {
        matches!(self, Self::Terminal { .. })
    }

    /// Whether the error is recoverable.
    pub fn is_recoverable(&self) -> bool {
        matches!(self, Self::Recoverable { .. })
    }

    /// The code, suitable as a condition reason; `None` for `NotFound`.
    pub fn code(&self) -> Option<&str> {
        match self {
            Self::Terminal { code, .. }
            | Self::Recoverable { code, .. }
            | Self::Pending { code, .. } => Some(code),
            Self::NotFound => None,
        }
    }
}

/// Bad tags in the spec need the user: terminal, code `InvalidTags`.
impl From<TagError> for ReconcileError {
    fn from(e: TagError) -> Self {
        Self::terminal("InvalidTags", e.to_string())
    }
}

/// A resource held by another cluster or CR needs the user: terminal, code
/// `ResourceOwnedElsewhere`.
impl From<crate::tags::ForeignOwner> for ReconcileError {
    fn from(e: crate::tags::ForeignOwner) -> Self {
        Self::terminal("ResourceOwnedElsewhere", e.to_string())
    }
}

/// A bad annotation needs the user: terminal, code `InvalidAnnotation`.
impl From<AnnotationError> for ReconcileError {
    fn from(e: AnnotationError) -> Self {
        Self::terminal("InvalidAnnotation", e.to_string())
    }
}

/// A bad deletion annotation needs the user: terminal, code `InvalidAnnotation`.
impl From<DeletionError> for ReconcileError {
    fn from(e: DeletionError) -> Self {
        Self::terminal("InvalidAnnotation", e.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use ErrorClass::*;
    use proptest::prelude::*;

    const TERMINAL_CODES: &[&str] = &["InvalidBucketName", "SlowDown"];
    const NOT_FOUND_CODES: &[&str] = &["NoSuchBucket", "ResourceNotFoundException"];

    #[test]
    fn classify_table() {
        #[rustfmt::skip]
        let cases: &[(Option<&str>, Option<u16>, ErrorClass)] = &[
            // service lists win
            (Some("InvalidBucketName"), Some(400), Terminal),
            (Some("InvalidBucketName"), Some(503), Terminal),
            (Some("InvalidBucketName"), None, Terminal),
            (Some("SlowDown"), Some(503), Terminal), // listed terminal beats built-in throttling
            (Some("NoSuchBucket"), Some(404), NotFound),
            (Some("ResourceNotFoundException"), Some(400), NotFound),
            (Some("NoSuchBucket"), None, NotFound),
            // throttling, any status
            (Some("Throttling"), Some(400), Recoverable),
            (Some("ThrottlingException"), Some(400), Recoverable),
            (Some("RequestLimitExceeded"), Some(503), Recoverable),
            (Some("RequestThrottled"), Some(400), Recoverable), // SQS
            (Some("RequestThrottled"), Some(403), Recoverable),
            (Some("SlowDown"), Some(503), Terminal), // (the test's service lists it terminal)
            (Some("ServiceUnavailable"), Some(503), Recoverable),
            (Some("InternalServerError"), Some(500), Recoverable),
            (Some("TooManyRequestsException"), Some(429), Recoverable),
            (Some("ProvisionedThroughputExceededException"), Some(400), Recoverable),
            (Some("RequestTimeout"), Some(400), Recoverable),
            (Some("InternalError"), Some(200), Recoverable),
            // by status
            (None, None, Recoverable),
            (Some("SomethingOdd"), None, Recoverable),
            (Some("InternalFailure"), Some(500), Recoverable),
            (None, Some(502), Recoverable),
            (None, Some(599), Recoverable),
            (Some("OperationAborted"), Some(409), Recoverable),
            (Some("ResourceInUseException"), Some(409), Recoverable),
            (None, Some(408), Recoverable),
            (None, Some(429), Recoverable),
            (Some("ValidationException"), Some(400), Terminal),
            (Some("AccessDenied"), Some(403), Terminal),
            (Some("NotFound"), Some(404), Terminal), // not listed by the service
            (None, Some(404), Terminal),
            (Some("PermanentRedirect"), Some(301), Terminal),
            (None, Some(499), Terminal),
            (None, Some(200), Recoverable),
            (None, Some(600), Recoverable),
            // codes are case-sensitive, as AWS's
            (Some("throttling"), Some(400), Terminal),
        ];
        for &(code, status, expected) in cases {
            assert_eq!(
                classify(code, status, TERMINAL_CODES, NOT_FOUND_CODES),
                expected,
                "{code:?} {status:?}"
            );
        }
    }

    #[test]
    fn from_aws_table() {
        let cases = [
            (
                Some("ValidationException"),
                Some(400),
                ReconcileError::terminal("ValidationException", "bad"),
                "ValidationException: bad",
            ),
            (
                Some("Throttling"),
                Some(400),
                ReconcileError::recoverable(
                    "Throttling",
                    "AWS throttled the request; retrying with backoff: bad",
                ),
                "Throttling: AWS throttled the request; retrying with backoff: bad",
            ),
            (
                Some("RequestThrottled"),
                Some(400),
                ReconcileError::recoverable(
                    "RequestThrottled",
                    "AWS throttled the request; retrying with backoff: bad",
                ),
                "RequestThrottled: AWS throttled the request; retrying with backoff: bad",
            ),
            (
                None,
                Some(503),
                ReconcileError::recoverable(
                    "HTTP503",
                    "AWS had a server error; retrying with backoff: bad",
                ),
                "HTTP503: AWS had a server error; retrying with backoff: bad",
            ),
            (
                None,
                Some(403),
                ReconcileError::terminal("HTTP403", "bad"),
                "HTTP403: bad",
            ),
            (
                None,
                None,
                ReconcileError::recoverable(
                    "NoResponse",
                    "no answer from AWS (timeout, connection reset or refused); retrying with backoff: bad",
                ),
                "NoResponse: no answer from AWS (timeout, connection reset or refused); retrying with backoff: bad",
            ),
            (
                Some("NoSuchBucket"),
                Some(404),
                ReconcileError::NotFound,
                "resource not found",
            ),
        ];
        for (code, status, expected, text) in cases {
            let got =
                ReconcileError::from_aws(code, "bad", status, TERMINAL_CODES, NOT_FOUND_CODES);
            assert_eq!(got, expected);
            assert_eq!(got.to_string(), text);
            assert_eq!(
                got.class(),
                classify(code, status, TERMINAL_CODES, NOT_FOUND_CODES)
            );
        }
    }

    #[test]
    fn accessors() {
        let t = ReconcileError::terminal("A", "m");
        let r = ReconcileError::recoverable("B", "m");
        assert!(t.is_terminal() && !t.is_recoverable());
        assert!(r.is_recoverable() && !r.is_terminal());
        assert!(
            !ReconcileError::NotFound.is_terminal() && !ReconcileError::NotFound.is_recoverable()
        );
        assert_eq!(t.code(), Some("A"));
        assert_eq!(r.code(), Some("B"));
        assert_eq!(ReconcileError::NotFound.code(), None);
        assert_eq!(ReconcileError::NotFound.class(), NotFound);
    }

    #[test]
    fn conversions_are_terminal() {
        let e: ReconcileError = TagError::TooMany { count: 51 }.into();
        assert_eq!(
            e,
            ReconcileError::terminal(
                "InvalidTags",
                "51 tags requested; AWS allows at most 50 user tags per resource"
            )
        );
        let e: ReconcileError = AnnotationError::UnknownDeletionPolicy { value: "x".into() }.into();
        assert_eq!(
            e,
            ReconcileError::terminal(
                "InvalidAnnotation",
                r#"unknown deletion policy "x"; expected "delete" or "retain""#
            )
        );
        let e: ReconcileError =
            DeletionError::ReadOnly(AnnotationError::InvalidReadOnly { value: "x".into() }).into();
        assert!(e.is_terminal());
        assert_eq!(e.code(), Some("InvalidAnnotation"));
    }

    proptest! {
        #[test]
        fn service_lists_take_precedence(code in "[A-Za-z]{1,12}", status in prop::option::of(0u16..700)) {
            prop_assert_eq!(classify(Some(&code), status, &[code.as_str()], &[]), Terminal);
            prop_assert_eq!(classify(Some(&code), status, &[], &[code.as_str()]), NotFound);
        }

        #[test]
        fn server_errors_and_throttling_are_recoverable(
            status in 500u16..600,
            throttle in prop::sample::select(THROTTLING_CODES),
            any_status in prop::option::of(0u16..700),
        ) {
            prop_assert_eq!(classify(None, Some(status), &[], &[]), Recoverable);
            prop_assert_eq!(classify(Some(throttle), any_status, &[], &[]), Recoverable);
        }
    }
}
