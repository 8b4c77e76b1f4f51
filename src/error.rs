//! The one error type of the crate, classified by what the caller can do next.

use std::fmt;
use std::time::Duration;

use crate::RateLimit;

/// Everything that can go wrong with a call, by what the caller can do about it.
///
/// ```no_run
/// # async fn example(client: auth0_client_grants::Client) {
/// match client.client_grants().get("cgr_123").await {
///     Ok(grant) => println!("{grant:?}"),
///     Err(error) if error.is_not_found() => println!("no such grant"),
///     Err(error) if error.is_rate_limited() => {
///         println!("try again after {:?}", error.rate_limit().map(|limit| limit.reset))
///     }
///     Err(error) => eprintln!("{error}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The server answered with a status that is not a success (after any retries).
    #[error(transparent)]
    Api(ApiError),
    /// An argument was refused before anything was sent: fix the input.
    #[error(transparent)]
    InvalidInput(InvalidInput),
    /// No access token could be had from the token endpoint or the token provider.
    #[error(transparent)]
    Token(TokenError),
    /// No response came within the configured timeout (after any retries).
    #[error("the request timed out: {0}")]
    Timeout(TransportError),
    /// The connection failed or broke off (after any retries).
    #[error("the request failed: {0}")]
    Transport(TransportError),
    /// A success response whose body is not what the API promises.
    #[error(transparent)]
    Decode(DecodeError),
    /// The client was configured with something unusable: [`ConfigError::setting`] names the
    /// builder method to fix.
    #[error("invalid configuration: {0}")]
    Config(ConfigError),
    /// The server's paging went wrong (a cursor that repeats): walking on would never end.
    /// [`PaginationError::kind`] says what went wrong.
    #[error("paging failed: {0}")]
    Pagination(PaginationError),
    /// The server answered with a redirect, which is never followed since Auth0 never
    /// redirects these endpoints; or the HTTP client given to
    /// [`http_client`](crate::ClientBuilder::http_client) followed one to another origin, whose
    /// response is refused.
    #[error(transparent)]
    Redirect(RedirectError),
    /// The request was not sent: the client's model of the tenant's rate limit held it back
    /// until waiting longer would have passed the call's
    /// [`rate_limit_budget`](crate::RetryPolicy::rate_limit_budget) (or one wait would have
    /// been longer than [`max_delay`](crate::RetryPolicy::max_delay)). Retry later, as after a
    /// 429: [`is_rate_limited`](Self::is_rate_limited) is true for it.
    #[error(transparent)]
    HeldBack(HeldBackError),
    /// A response longer than [`max_response_size`](crate::ClientBuilder::max_response_size): it was
    /// not read further, and nothing of it is used.
    #[error(
        "the response is longer than the limit of {limit} bytes (max_response_size); it was not read further"
    )]
    ResponseTooLarge {
        /// The limit in bytes.
        limit: usize,
    },
}

impl Error {
    /// The HTTP status of the response behind this error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(error) => Some(error.status),
            Error::Token(error) => error.status,
            Error::Decode(error) => Some(error.status),
            Error::Redirect(error) => Some(error.status),
            _ => None,
        }
    }

    /// Auth0's `errorCode` (such as `inexistent_client_grant`), if the response had one.
    pub fn error_code(&self) -> Option<&str> {
        match self {
            Error::Api(error) => error.error_code(),
            _ => None,
        }
    }

    /// The API answered 404 Not Found.
    pub fn is_not_found(&self) -> bool {
        matches!(self, Error::Api(error) if error.status == 404)
    }

    /// The API answered 409 Conflict (for example, the grant already exists).
    pub fn is_conflict(&self) -> bool {
        matches!(self, Error::Api(error) if error.status == 409)
    }

    /// The tenant's rate limit stopped the call: the API or the token endpoint answered 429
    /// Too Many Requests and retrying within the policy did not help, or pacing held the
    /// request back ([`Error::HeldBack`]) for as long as the policy allows.
    pub fn is_rate_limited(&self) -> bool {
        match self {
            Error::Api(error) => error.status == 429,
            Error::Token(error) => error.status == Some(429),
            Error::HeldBack(_) => true,
            _ => false,
        }
    }

    /// The rate-limit headers of the response behind this error, if it had them; for
    /// [`Error::HeldBack`], those of the latest response the client had seen.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        match self {
            Error::Api(error) => error.rate_limit(),
            Error::HeldBack(error) => error.rate_limit(),
            _ => None,
        }
    }

    pub(crate) fn config(setting: &'static str, problem: impl Into<String>) -> Self {
        Error::Config(ConfigError::new(setting, problem))
    }

    pub(crate) fn invalid_input(
        parameter: impl Into<std::borrow::Cow<'static, str>>,
        problem: impl Into<String>,
    ) -> Self {
        Error::InvalidInput(InvalidInput {
            parameter: parameter.into(),
            problem: problem.into(),
        })
    }
}

/// A request that pacing held back and never sent: see [`Error::HeldBack`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBackError {
    held_for: Duration,
    rate_limit: Option<RateLimit>,
}

impl HeldBackError {
    pub(crate) fn new(held_for: Duration, rate_limit: Option<RateLimit>) -> Self {
        Self { held_for, rate_limit }
    }

    /// How long the call waited for the rate limit in all before it gave up: in the pacing
    /// queue, and for any 429 before.
    pub fn held_for(&self) -> Duration {
        self.held_for
    }

    /// The rate-limit headers of the latest response the client had seen when it gave up.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.rate_limit.as_ref()
    }
}

impl fmt::Display for HeldBackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not sent: the tenant's rate limit held the request back for {:.1} s, and waiting longer would pass \
             the retry policy's rate_limit_budget or max_delay",
            self.held_for.as_secs_f64()
        )
    }
}

impl std::error::Error for HeldBackError {}

/// A response of the Management API that is not a success.
///
/// Built from Auth0's JSON error body when there is one
/// (`{"statusCode":404,"error":"Not Found","message":"…","errorCode":"…"}`), and still
/// carrying the status and a readable message when the body is empty, HTML or cut off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    status: u16,
    error: Option<String>,
    message: String,
    error_code: Option<String>,
    rate_limit: Option<RateLimit>,
}

/// How much of a body that is not what we expected an error message quotes.
pub(crate) const SNIPPET_CHARS: usize = 200;

impl ApiError {
    /// Reads an error response: Auth0's JSON body if it is one, else a snippet of whatever came.
    pub(crate) fn from_parts(status: u16, body: &[u8], rate_limit: Option<RateLimit>) -> Self {
        let parsed: Option<crate::api::generated::types::ErrorBody> = serde_json::from_slice(body).ok();
        let parsed = parsed.unwrap_or_default();
        let message = [&parsed.message, &parsed.error_description, &parsed.error]
            .into_iter()
            .flatten()
            .find(|text| !text.trim().is_empty())
            .cloned()
            .unwrap_or_else(|| match snippet(body) {
                text if text.is_empty() => "(empty body)".to_owned(),
                text => text,
            });
        Self {
            status,
            error: parsed.error,
            message,
            error_code: parsed.error_code,
            rate_limit,
        }
    }

    /// The HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The body's `error` field: the reason phrase (`Not Found`) or an OAuth-style code
    /// (`too_many_requests`).
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// What went wrong, for people: the body's `message` (or `error_description`), else a
    /// snippet of the body as it came.
    pub fn message(&self) -> &str {
        &self.message
    }

    /// Auth0's stable `errorCode`, such as `inexistent_client_grant`; often absent.
    pub fn error_code(&self) -> Option<&str> {
        self.error_code.as_deref()
    }

    /// The rate-limit headers of the response, if it had them.
    pub fn rate_limit(&self) -> Option<&RateLimit> {
        self.rate_limit.as_ref()
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let reason = reqwest::StatusCode::from_u16(self.status)
            .ok()
            .and_then(|status| status.canonical_reason())
            .unwrap_or("Unknown Status");
        write!(f, "{} {reason}: {}", self.status, self.message)?;
        if let Some(code) = &self.error_code {
            write!(f, " ({code})")?;
        }
        Ok(())
    }
}

impl std::error::Error for ApiError {}

/// A redirect that was not followed, or a response from another origin than the request went
/// to (see [`Error::Redirect`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct RedirectError {
    status: u16,
    location: Option<String>,
    followed: bool,
}

impl RedirectError {
    pub(crate) fn not_followed(status: u16, location: Option<String>) -> Self {
        Self {
            status,
            location,
            followed: false,
        }
    }

    pub(crate) fn followed(status: u16, origin: String) -> Self {
        Self {
            status,
            location: Some(origin),
            followed: true,
        }
    }

    /// The status of the response: the redirect's (3xx), or the status of the response that came
    /// from another origin.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// Where the server pointed (its `Location` header), or the origin that answered.
    pub fn location(&self) -> Option<&str> {
        self.location.as_deref()
    }

    fn describe(&self) -> String {
        let location = self.location.as_deref().unwrap_or("(no Location)");
        if self.followed {
            format!(
                "the {} response came from {location}, not from the origin the request was sent to: the \
                 HTTP client given to http_client(..) followed a redirect (build it with \
                 reqwest::redirect::Policy::none()); the response is refused",
                self.status
            )
        } else {
            format!(
                "the server answered {} with a redirect to {location}, which is not followed: Auth0 \
                 never redirects these endpoints (check domain(..) or base_url(..))",
                self.status
            )
        }
    }
}

/// An argument refused before anything was sent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{parameter}`: {problem}")]
pub struct InvalidInput {
    parameter: std::borrow::Cow<'static, str>,
    problem: String,
}

impl InvalidInput {
    /// The name of the refused parameter, as the API spells it.
    pub fn parameter(&self) -> &str {
        &self.parameter
    }

    /// What is wrong with it, naming the limit.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

/// A setting of the [`ClientBuilder`](crate::ClientBuilder) that cannot be used: see
/// [`Error::Config`].
#[derive(Debug, thiserror::Error)]
#[error("{problem}")]
pub struct ConfigError {
    setting: &'static str,
    problem: String,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl ConfigError {
    pub(crate) fn new(setting: &'static str, problem: impl Into<String>) -> Self {
        Self {
            setting,
            problem: problem.into(),
            source: None,
        }
    }

    /// The same refusal, with the error behind it as its [`source`](std::error::Error::source).
    pub(crate) fn caused_by(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// The [`ClientBuilder`](crate::ClientBuilder) method whose value is refused, such as
    /// `base_url`, `domain`, `token` or `timeout`. When a choice between methods was not made,
    /// or was made twice, the first of that choice: `domain` (or `base_url`),
    /// `client_credentials` (or `token`, `token_provider`); `connect_timeout` when it was
    /// combined with `http_client`; and `http_client` when the HTTP client this crate builds
    /// could not be set up, which one of your own replaces.
    pub fn setting(&self) -> &str {
        self.setting
    }

    /// What is wrong, and how to fix it: the message, as `Display` shows it.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

/// A walk over the pages of a list that cannot go on: see [`Error::Pagination`]. The pages
/// before it were yielded.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct PaginationError {
    operation: &'static str,
    kind: PaginationErrorKind,
    cursor: Option<String>,
}

/// What went wrong in a walk over pages (see [`PaginationError`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum PaginationErrorKind {
    /// The server handed out a `next` cursor it had handed out before in the same walk:
    /// following it would fetch the same pages again, without end.
    RepeatedCursor,
}

impl PaginationError {
    pub(crate) fn repeated_cursor(operation: &'static str, cursor: &str) -> Self {
        Self {
            operation,
            kind: PaginationErrorKind::RepeatedCursor,
            cursor: Some(cursor.to_owned()),
        }
    }

    /// The list operation whose pages were walked, such as `get_client_grants`.
    pub fn operation(&self) -> &str {
        self.operation
    }

    /// What went wrong.
    pub fn kind(&self) -> PaginationErrorKind {
        self.kind
    }

    /// The cursor concerned: for [`PaginationErrorKind::RepeatedCursor`], the one that came back.
    pub fn cursor(&self) -> Option<&str> {
        self.cursor.as_deref()
    }

    fn describe(&self) -> String {
        match self.kind {
            PaginationErrorKind::RepeatedCursor => format!(
                "the server returned the cursor {:?} twice; stopping instead of looping",
                self.cursor().unwrap_or_default()
            ),
        }
    }
}

/// The token endpoint (or a [`TokenProvider`](crate::TokenProvider)) could not give a token.
#[derive(Debug, thiserror::Error)]
#[error("{}", self.describe())]
pub struct TokenError {
    status: Option<u16>,
    error: Option<String>,
    error_description: Option<String>,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl TokenError {
    pub(crate) fn from_response(status: u16, body: &[u8]) -> Self {
        #[derive(serde::Deserialize)]
        struct OAuthError {
            error: Option<String>,
            error_description: Option<String>,
        }
        let parsed: Option<OAuthError> = serde_json::from_slice(body).ok();
        let (error, error_description) = match parsed {
            Some(OAuthError {
                error,
                error_description,
            }) => (non_blank(error), non_blank(error_description)),
            None => (None, Some(snippet(body)).filter(|text| !text.is_empty())),
        };
        Self {
            status: Some(status),
            error,
            error_description,
            source: None,
        }
    }

    /// A response of the token endpoint that was refused unread: a redirect, or one too long.
    pub(crate) fn refused_response(status: u16, why: String) -> Self {
        Self {
            status: Some(status),
            error: None,
            error_description: Some(why),
            source: None,
        }
    }

    /// A token request that got no usable response, or a provider that failed.
    pub fn other(
        description: impl Into<String>,
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    ) -> Self {
        Self {
            status: None,
            error: None,
            error_description: Some(description.into()),
            source,
        }
    }

    /// The same failure, for another call that waited for the same token request: its status
    /// and OAuth fields, and its cause as text (a cause cannot be shared).
    pub(crate) fn for_another_call(&self) -> Self {
        Self {
            status: self.status,
            error: self.error.clone(),
            error_description: self.error_description.clone(),
            source: self.source.as_ref().map(|cause| {
                Box::new(CauseText(cause.to_string())) as Box<dyn std::error::Error + Send + Sync>
            }),
        }
    }

    /// The token endpoint's HTTP status, if it answered.
    pub fn status(&self) -> Option<u16> {
        self.status
    }

    /// The OAuth `error` code, such as `access_denied`.
    pub fn error(&self) -> Option<&str> {
        self.error.as_deref()
    }

    /// The OAuth `error_description`.
    pub fn error_description(&self) -> Option<&str> {
        self.error_description.as_deref()
    }

    fn describe(&self) -> String {
        let mut text = String::from("no access token");
        if let Some(status) = self.status {
            text.push_str(&format!(": the token endpoint answered {status}"));
        }
        for part in [&self.error, &self.error_description].into_iter().flatten() {
            text.push_str(": ");
            text.push_str(part);
        }
        text
    }
}

/// A cause known only by its message.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct CauseText(String);

/// A connection that failed, broke off or timed out.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct TransportError {
    message: String,
    #[source]
    source: Box<dyn std::error::Error + Send + Sync>,
}

impl TransportError {
    pub(crate) fn new(source: reqwest::Error) -> Self {
        // reqwest's own message names the URL; keep it, minus any query string. It says only
        // "error sending request"; the innermost cause says what happened (reset, closed…).
        let source = source.without_url();
        let mut message = source.to_string();
        let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(&source);
        let mut innermost = None;
        while let Some(current) = cause {
            innermost = Some(current);
            cause = current.source();
        }
        if let Some(innermost) = innermost.map(ToString::to_string)
            && !message.contains(&innermost)
        {
            message = format!("{message}: {innermost}");
        }
        Self {
            message,
            source: Box::new(source),
        }
    }
}

/// A success response whose body could not be read as the API promises.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct DecodeError {
    operation: &'static str,
    status: u16,
    path: String,
    problem: String,
    /// `None` when the body was not kept, which a message must not show as an empty body.
    snippet: Option<String>,
}

impl DecodeError {
    /// Decodes `body` as `T` to find where it fails, and describes that place.
    pub(crate) fn locate<T: serde::de::DeserializeOwned>(
        operation: &'static str,
        status: u16,
        body: &[u8],
    ) -> Self {
        let (path, problem) = find_problem::<T>(body)
            .unwrap_or_else(|| (".".to_owned(), "the body decodes on a second reading".to_owned()));
        Self {
            operation,
            status,
            path,
            problem,
            snippet: Some(snippet(body)),
        }
    }

    /// A success response that lacks a field the client cannot do without.
    pub(crate) fn missing(operation: &'static str, status: u16, field: &str) -> Self {
        Self::of_whole_response(operation, status, format!("the response has no `{field}`"))
    }

    /// A response with a success status that `operation` does not document: there is no
    /// decoder for its body, so it is not read.
    pub(crate) fn undocumented_success(operation: &'static str, status: u16) -> Self {
        Self::of_whole_response(
            operation,
            status,
            "a success status the API does not document for this operation".to_owned(),
        )
    }

    fn of_whole_response(operation: &'static str, status: u16, problem: String) -> Self {
        Self {
            operation,
            status,
            path: ".".to_owned(),
            problem,
            snippet: None,
        }
    }

    /// The operation whose response failed to decode.
    pub fn operation(&self) -> &str {
        self.operation
    }

    /// The JSON path where decoding failed (`.` for the whole body).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The start of the body as received, at most 200 characters; empty when the body was
    /// not read (an undocumented success status) or not kept (a missing field).
    pub fn body_snippet(&self) -> &str {
        self.snippet.as_deref().unwrap_or_default()
    }

    fn describe(&self) -> String {
        let Self {
            operation,
            status,
            path,
            problem,
            snippet,
        } = self;
        let mut text = format!("cannot decode the {status} response to {operation} at `{path}`: {problem}");
        if let Some(snippet) = snippet {
            text.push_str(&format!(" (body: {snippet})"));
        }
        text
    }
}

/// Where and why `body` does not decode as `T` the way `serde_json::from_slice` reads it;
/// `None` if it does.
fn find_problem<T: serde::de::DeserializeOwned>(body: &[u8]) -> Option<(String, String)> {
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde_path_to_error::deserialize::<_, T>(&mut deserializer) {
        Err(error) => Some((error.path().to_string(), error.inner().to_string())),
        // A whole value followed by more: `from_slice` refuses what follows.
        Ok(_) => deserializer
            .end()
            .err()
            .map(|error| (".".to_owned(), error.to_string())),
    }
}

/// `text`, unless it has nothing to read.
fn non_blank(text: Option<String>) -> Option<String> {
    text.filter(|text| !text.trim().is_empty())
}

/// The start of `body` as text, on one line, at most [`SNIPPET_CHARS`] characters.
fn snippet(body: &[u8]) -> String {
    let text = String::from_utf8_lossy(body);
    let one_line: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one_line.char_indices().nth(SNIPPET_CHARS) {
        Some((cut, _)) => format!("{}…", &one_line[..cut]),
        None => one_line,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auth0_error_bodies_display_as_one_actionable_line() {
        let body = br#"{"statusCode":404,"error":"Not Found","message":"The grant does not exist.","errorCode":"inexistent_client_grant"}"#;
        let error = ApiError::from_parts(404, body, None);
        assert_eq!(
            error.to_string(),
            "404 Not Found: The grant does not exist. (inexistent_client_grant)"
        );
        assert_eq!(error.error(), Some("Not Found"));
        assert_eq!(error.error_code(), Some("inexistent_client_grant"));
    }

    #[test]
    fn bodies_without_error_code_or_in_oauth_style_still_read() {
        let conflict = ApiError::from_parts(
            409,
            br#"{"statusCode":409,"error":"Conflict","message":"exists"}"#,
            None,
        );
        assert_eq!(conflict.to_string(), "409 Conflict: exists");
        let limited = ApiError::from_parts(
            429,
            br#"{"error":"too_many_requests","error_description":"Rate limit exceeded."}"#,
            None,
        );
        assert_eq!(limited.to_string(), "429 Too Many Requests: Rate limit exceeded.");
        assert_eq!(limited.error(), Some("too_many_requests"));
    }

    #[test]
    fn empty_html_and_truncated_bodies_keep_status_and_a_readable_message() {
        assert_eq!(
            ApiError::from_parts(502, b"", None).to_string(),
            "502 Bad Gateway: (empty body)"
        );
        let html = b"<html>\n  <body>\n    <h1>503 Service Temporarily Unavailable</h1>\n  </body>\n</html>";
        assert_eq!(
            ApiError::from_parts(503, html, None).to_string(),
            "503 Service Unavailable: <html> <body> <h1>503 Service Temporarily Unavailable</h1> </body> </html>"
        );
        let truncated = br#"{"statusCode":500,"error":"Internal Ser"#;
        assert_eq!(
            ApiError::from_parts(500, truncated, None).to_string(),
            r#"500 Internal Server Error: {"statusCode":500,"error":"Internal Ser"#
        );
        let long = "x".repeat(1_000);
        assert_eq!(
            ApiError::from_parts(500, long.as_bytes(), None)
                .message()
                .chars()
                .count(),
            SNIPPET_CHARS + 1
        );
    }

    #[test]
    fn decode_errors_name_the_json_path() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Page {
            items: Vec<Item>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Item {
            count: u32,
        }
        let error = DecodeError::locate::<Page>("list", 200, br#"{"items":[{"count":1},{"count":"two"}]}"#);
        assert_eq!(error.path(), "items[1].count");
        assert_eq!(
            error.to_string(),
            r#"cannot decode the 200 response to list at `items[1].count`: invalid type: string "two", expected u32 at line 1 column 36 (body: {"items":[{"count":1},{"count":"two"}]})"#
        );
    }

    #[test]
    fn token_errors_say_what_the_endpoint_said() {
        let error = TokenError::from_response(
            401,
            br#"{"error":"access_denied","error_description":"Unauthorized"}"#,
        );
        assert_eq!(
            error.to_string(),
            "no access token: the token endpoint answered 401: access_denied: Unauthorized"
        );
        let html = TokenError::from_response(502, b"<h1>Bad gateway</h1>");
        assert_eq!(
            html.to_string(),
            "no access token: the token endpoint answered 502: <h1>Bad gateway</h1>"
        );
    }
}
