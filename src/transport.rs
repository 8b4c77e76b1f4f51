//! What every generated operation goes through, implemented once through progenitor's hooks:
//! headers (`pre`), then one attempt with its token and rate-limit bookkeeping (`exec`), and
//! around them [`Transport::run`], which decides on retries and errors.
//!
//! progenitor's `exec` can only return a `reqwest` result. An attempt that did not succeed
//! therefore hands what happened (the whole error answer, a broken connection, a token error)
//! to [`Transport::run`] inside the extensions of a placeholder answer, with a status no
//! operation documents, which progenitor passes back untouched as an unexpected response.
//!
//! A retry runs the whole operation again, so progenitor builds a fresh request: no attempt
//! keeps a copy of its request in case it fails. Every answer is read whole in `exec`, within
//! the size limit (src/response_limits.rs); if its body breaks off, the operation runs again.
//! A success answer's body then goes to progenitor to decode, and its headers stay here.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use progenitor_runtime::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue, USER_AGENT};
use reqwest::{Method, StatusCode};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::clock::Clock;
use crate::error::{ApiError, DecodeError, Error, TokenError, TransportError};
use crate::generated::{self, types::ErrorBody};
use crate::pacing::{Pacer, Permit};
use crate::rate_limit::RateLimit;
use crate::response_limits::{BodyError, read_body, refuse_redirect};
use crate::retry::{Decision, Outcome, RetryPolicy, decide};
use crate::token::{AccessToken, Tokens};

/// One generated operation, as [`Transport::run`] needs to know it.
#[derive(Debug)]
pub(crate) struct Operation {
    /// progenitor's name for it (the spec's `operationId`).
    pub(crate) id: &'static str,
    pub(crate) method: Method,
    /// Its first documented success status: the one whose body progenitor decodes, for the
    /// operations that answer with one (the deletes answer 200 or 204, with no body).
    pub(crate) success: u16,
}

impl Operation {
    const fn new(id: &'static str, method: Method, success: u16) -> Self {
        Self { id, method, success }
    }
}

/// The nine operations of the spec, as spec/client-grants.json describes them (a test checks).
pub(crate) mod operations {
    use reqwest::Method;

    use super::Operation;

    pub(crate) static GET_CLIENT_GRANTS: Operation = Operation::new("get_client_grants", Method::GET, 200);
    pub(crate) static POST_CLIENT_GRANTS: Operation = Operation::new("post_client_grants", Method::POST, 201);
    pub(crate) static GET_CLIENT_GRANT: Operation = Operation::new("get_client_grant", Method::GET, 200);
    pub(crate) static PATCH_CLIENT_GRANTS_BY_ID: Operation =
        Operation::new("patch_client_grants_by_id", Method::PATCH, 200);
    pub(crate) static DELETE_CLIENT_GRANTS_BY_ID: Operation =
        Operation::new("delete_client_grants_by_id", Method::DELETE, 200);
    pub(crate) static GET_CLIENT_GRANT_ORGANIZATIONS: Operation =
        Operation::new("get_client_grant_organizations", Method::GET, 200);
    pub(crate) static GET_ORGANIZATION_CLIENT_GRANTS: Operation =
        Operation::new("get_organization_client_grants", Method::GET, 200);
    pub(crate) static CREATE_ORGANIZATION_CLIENT_GRANTS: Operation =
        Operation::new("create_organization_client_grants", Method::POST, 201);
    pub(crate) static DELETE_CLIENT_GRANTS_BY_GRANT_ID: Operation =
        Operation::new("delete_client_grants_by_grant_id", Method::DELETE, 200);

    /// All of them, for the test below.
    #[cfg(test)]
    pub(crate) static ALL: [&Operation; 9] = [
        &GET_CLIENT_GRANTS,
        &POST_CLIENT_GRANTS,
        &GET_CLIENT_GRANT,
        &PATCH_CLIENT_GRANTS_BY_ID,
        &DELETE_CLIENT_GRANTS_BY_ID,
        &GET_CLIENT_GRANT_ORGANIZATIONS,
        &GET_ORGANIZATION_CLIENT_GRANTS,
        &CREATE_ORGANIZATION_CLIENT_GRANTS,
        &DELETE_CLIENT_GRANTS_BY_GRANT_ID,
    ];
}

/// The state every request of one [`Client`](crate::Client) and its clones shares.
#[derive(Clone, Debug)]
pub(crate) struct Transport(Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) tokens: Tokens,
    pub(crate) retry: RetryPolicy,
    /// Set on each attempt; `None` when the HTTP client already limits every request.
    pub(crate) attempt_timeout: Option<Duration>,
    /// The longest answer body read, in bytes.
    pub(crate) max_answer_size: usize,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) user_agent: HeaderValue,
    pub(crate) telemetry: Option<HeaderValue>,
    pub(crate) last_rate_limit: Mutex<Option<RateLimit>>,
    /// `None` when pacing is off.
    pub(crate) pacer: Option<Pacer>,
}

impl Transport {
    pub(crate) fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    pub(crate) fn last_rate_limit(&self) -> Option<RateLimit> {
        *locked(&self.0.last_rate_limit)
    }

    /// Runs `operation`, which `call` makes with progenitor's generated method, retrying as
    /// the policy allows, and turns its outcome into this crate's [`Error`]. The operation is
    /// one `tracing` span, however many attempts it takes.
    ///
    /// Not an `async fn`, and boxed: the generated method's state is about 1.5 KB, and every
    /// future that held it inline (each public method's, then the caller's, then a task's or a
    /// `FuturesUnordered`'s) would copy it whole each time it moved. One allocation per call
    /// costs less than those copies (benches/instructions.rs counts it).
    pub(crate) fn run<'a, T, F, Fut>(
        &'a self,
        operation: &'a Operation,
        call: F,
    ) -> impl Future<Output = Result<T, Error>> + 'a
    where
        T: DeserializeOwned + 'a,
        F: Fn() -> Fut + 'a,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_runtime::Error<ErrorBody>>> + 'a,
    {
        let span = tracing::info_span!(
            "auth0_request",
            operation = operation.id,
            method = %operation.method,
            path = tracing::field::Empty,
            attempt = 1,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        Box::pin(self.attempts(operation, call, span.clone()).instrument(span))
    }

    async fn attempts<T, F, Fut>(
        &self,
        operation: &Operation,
        call: F,
        span: tracing::Span,
    ) -> Result<T, Error>
    where
        T: DeserializeOwned,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_runtime::Error<ErrorBody>>>,
    {
        // Recorded when the call ends, however it ends: cancelled (dropped) included.
        let _elapsed = RecordsElapsed {
            span: &span,
            started: Instant::now(),
        };
        let shared = &*self.0;
        let mut retries_done = 0;
        let mut refreshed_token = false;
        loop {
            // Every request counts, the one sent again with a fresh token included.
            let attempt = 1 + retries_done + u32::from(refreshed_token);
            if attempt > 1 {
                span.record("attempt", attempt);
            }
            let attempted = match call().await {
                // Its headers were read, and taken, in `send_once`.
                Ok(answer) => break Ok(answer.into_inner()),
                Err(progenitor_runtime::Error::UnexpectedResponse(mut answer)) => {
                    match Attempted::take_from(&mut answer) {
                        Some(attempted) => attempted,
                        None => break Err(undocumented_success::<T>(operation, answer.status())),
                    }
                }
                // A success answer whose body broke off while progenitor read it.
                Err(progenitor_runtime::Error::ResponseBodyError(broken)) => Attempted::NoAnswer(broken),
                Err(other) => break Err(from_progenitor::<T>(operation, other)),
            };
            match self.what_next(operation, attempted, retries_done, &mut refreshed_token) {
                Next::Fail(error) => break Err(error),
                Next::SendAgain => {}
                Next::RetryAfter(delay) => {
                    shared.clock.sleep(delay).await;
                    retries_done += 1;
                }
            }
        }
    }

    /// What to do after an attempt that did not succeed. Not generic, unlike the loop in
    /// [`attempts`](Self::attempts) that calls it: compiled once, not once per operation.
    fn what_next(
        &self,
        operation: &Operation,
        attempted: Attempted,
        retries_done: u32,
        refreshed_token: &mut bool,
    ) -> Next {
        let shared = &*self.0;
        let policy = |seen: Outcome<'_>| {
            decide(
                &shared.retry,
                &operation.method,
                seen,
                retries_done,
                shared.clock.now(),
                fastrand::f64(),
            )
        };
        let (delay, reason) = match attempted {
            Attempted::Failed(error) => return Next::Fail(error),
            Attempted::Answered { answer, token } => {
                if answer.status == StatusCode::UNAUTHORIZED
                    && !*refreshed_token
                    && shared.tokens.invalidate(&token)
                {
                    tracing::info!("the API refused the access token; retrying once with a new one");
                    *refreshed_token = true;
                    return Next::SendAgain;
                }
                let seen = Outcome::Status {
                    status: answer.status.as_u16(),
                    headers: &answer.headers,
                };
                match policy(seen) {
                    Decision::RetryAfter(delay) => (delay, answer.status.to_string()),
                    Decision::GiveUp(why) => {
                        tracing::debug!(?why, "not retrying");
                        let status = answer.status.as_u16();
                        return Next::Fail(Error::Api(ApiError::from_parts(
                            status,
                            &answer.body,
                            answer.rate_limit,
                        )));
                    }
                }
            }
            Attempted::NoAnswer(error) => {
                let seen = if error.is_connect() {
                    Outcome::ConnectFailed
                } else {
                    Outcome::NoAnswer
                };
                match policy(seen) {
                    Decision::RetryAfter(delay) => (delay, error.to_string()),
                    Decision::GiveUp(why) => {
                        tracing::debug!(?why, "not retrying");
                        return Next::Fail(transport_error(error));
                    }
                }
            }
        };
        tracing::warn!(%reason, delay_ms = delay.as_millis() as u64, "retrying");
        Next::RetryAfter(delay)
    }
}

/// What [`Transport::attempts`] does after an attempt that did not succeed.
enum Next {
    /// Wait this long, then retry.
    RetryAfter(Duration),
    /// Send the request again at once (with a fresh token).
    SendAgain,
    /// The call ends with this error.
    Fail(Error),
}

/// Records on `span` the time since `started` when it is dropped.
struct RecordsElapsed<'a> {
    span: &'a tracing::Span,
    started: Instant,
}

impl Drop for RecordsElapsed<'_> {
    fn drop(&mut self) {
        self.span
            .record("elapsed_ms", self.started.elapsed().as_millis() as u64);
    }
}

/// What progenitor reports that no attempt handed over: a request it could not build, or a
/// success body it could not decode.
fn from_progenitor<T: DeserializeOwned>(
    operation: &Operation,
    error: progenitor_runtime::Error<ErrorBody>,
) -> Error {
    match error {
        progenitor_runtime::Error::InvalidResponsePayload(body, _) => {
            Error::Decode(DecodeError::locate::<T>(operation.id, operation.success, &body))
        }
        progenitor_runtime::Error::CommunicationError(error)
        | progenitor_runtime::Error::ResponseBodyError(error)
        | progenitor_runtime::Error::InvalidUpgrade(error) => transport_error(error),
        progenitor_runtime::Error::InvalidRequest(problem) => Error::invalid_input("request", problem),
        progenitor_runtime::Error::ErrorResponse(answer) => {
            Error::Api(ApiError::from_parts(answer.status().as_u16(), &[], None))
        }
        progenitor_runtime::Error::UnexpectedResponse(answer) => {
            undocumented_success::<T>(operation, answer.status())
        }
        progenitor_runtime::Error::Custom(problem) => Error::Config(problem),
    }
}

/// A success status the API does not document for `operation`.
fn undocumented_success<T: DeserializeOwned>(operation: &Operation, status: StatusCode) -> Error {
    Error::Decode(DecodeError::locate::<T>(
        operation.id,
        status.as_u16(),
        b"(a success status the API does not document for this operation)",
    ))
}

fn transport_error(error: reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::Timeout(TransportError::new(error))
    } else {
        Error::Transport(TransportError::new(error))
    }
}

/// What an attempt that did not succeed hands to [`Transport::run`].
#[derive(Debug)]
enum Attempted {
    /// The call ends with this error (a token that could not be had or sent).
    Failed(Error),
    /// An answer that is not a success, read whole, to the request sent with `token`.
    Answered { answer: Answer, token: AccessToken },
    /// No whole answer came back.
    NoAnswer(reqwest::Error),
}

/// A status no operation documents: progenitor hands such an answer back as it is.
const HANDED_OVER: u16 = 599;

/// The extension that carries an [`Attempted`]; extensions must be `Clone`, and it is taken
/// out once.
#[derive(Clone)]
struct HandedOver(Arc<Mutex<Option<Attempted>>>);

impl Attempted {
    /// A placeholder answer for progenitor to pass back, carrying this attempt.
    fn into_answer(self) -> reqwest::Response {
        let mut answer = http::Response::new(bytes::Bytes::new());
        *answer.status_mut() = StatusCode::from_u16(HANDED_OVER).expect("a status in 100..=999");
        answer
            .extensions_mut()
            .insert(HandedOver(Arc::new(Mutex::new(Some(self)))));
        reqwest::Response::from(answer)
    }

    fn take_from(answer: &mut reqwest::Response) -> Option<Self> {
        let handed_over = answer.extensions_mut().remove::<HandedOver>()?;
        locked(&handed_over.0).take()
    }
}

/// The value behind `mutex`: a panic elsewhere while it was held leaves nothing half-done
/// here (every write is one assignment), so a poisoned lock is used as it is.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// Names made from a `&str` at each use are copied into a new allocation every time.
const AUTH0_CLIENT: HeaderName = HeaderName::from_static("auth0-client");

impl ClientHooks<Transport> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_runtime::Error<E>> {
        let shared = &self.inner().0;
        let headers = request.headers_mut();
        headers.insert(USER_AGENT, shared.user_agent.clone());
        if let Some(telemetry) = &shared.telemetry {
            headers.insert(AUTH0_CLIENT, telemetry.clone());
        }
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        // Not boxed: `Transport::run` boxes the whole call once, this attempt included.
        Ok(send_once(&self.inner().0, self.client(), request).await)
    }
}

/// Sends `request` once and reads the answer whole. A success answer goes back to progenitor
/// to decode; anything else is handed to [`Transport::run`], which decides what to do.
async fn send_once(
    shared: &Shared,
    http: &reqwest::Client,
    mut request: reqwest::Request,
) -> reqwest::Response {
    let span = tracing::Span::current();
    span.record("path", request.url().path());
    let token = match shared.tokens.token().await {
        Ok(token) => token,
        Err(error) => return Attempted::Failed(Error::Token(error)).into_answer(),
    };
    // A custom provider can hand out anything; never panic on it.
    let Some(authorization) = token.authorization() else {
        let unusable = TokenError::other(
            "the access token cannot be sent in an Authorization header (empty, or control characters)",
            None,
        );
        return Attempted::Failed(Error::Token(unusable)).into_answer();
    };
    request.headers_mut().insert(AUTHORIZATION, authorization);
    if let Some(timeout) = shared.attempt_timeout {
        *request.timeout_mut() = Some(timeout);
    }

    let permit = match &shared.pacer {
        Some(pacer) => Some(pacer.admit(&*shared.clock, shared.retry.longest_wait()).await),
        None => None,
    };
    let requested = request.url().origin();
    let mut response = match http.execute(request).await {
        Ok(response) => response,
        Err(error) => return Attempted::NoAnswer(error).into_answer(),
    };
    let status = response.status();
    // A success answer's headers are read here, for the rate limit, and not handed to
    // progenitor, which would only copy them into a value `Transport::run` unwraps unread.
    let headers = std::mem::take(response.headers_mut());
    let rate_limit = RateLimit::from_headers(&headers);
    note_answer(shared, permit, status, rate_limit, &span);
    if let Err(redirect) = refuse_redirect(&requested, status, &headers, response.url()) {
        return Attempted::Failed(Error::Redirect(redirect)).into_answer();
    }
    // Read whole here, within the size limit: a body that breaks off is retried like any
    // other broken connection, and progenitor decodes what was read.
    let body = match read_body(response, &headers, shared.max_answer_size).await {
        Ok(body) => body,
        Err(BodyError::TooLarge) => {
            let limit = shared.max_answer_size;
            return Attempted::Failed(Error::AnswerTooLarge { limit }).into_answer();
        }
        Err(BodyError::Broken(error)) => return Attempted::NoAnswer(error).into_answer(),
    };
    if status.is_success() {
        let mut answer = http::Response::new(body);
        *answer.status_mut() = status;
        return reqwest::Response::from(answer);
    }
    let answer = Answer {
        status,
        headers,
        rate_limit,
        body,
    };
    Attempted::Answered { answer, token }.into_answer()
}

/// Tells the pacing model, the client's last rate limit and the span what an answer's status
/// and headers said.
fn note_answer(
    shared: &Shared,
    permit: Option<Permit<'_>>,
    status: reqwest::StatusCode,
    rate_limit: Option<RateLimit>,
    span: &tracing::Span,
) {
    span.record("status", status.as_u16());
    if let Some(limit) = rate_limit {
        if let (Some(pacer), Some(permit)) = (&shared.pacer, permit) {
            pacer.observe(permit, &limit, status.as_u16(), shared.clock.now());
        }
        *locked(&shared.last_rate_limit) = Some(limit);
    }
}

/// A whole answer that is not a success.
#[derive(Debug)]
struct Answer {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    rate_limit: Option<RateLimit>,
    body: bytes::Bytes,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_operation_has_the_method_and_success_status_of_the_spec_and_no_placeholder_status() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../spec/client-grants.json")).expect("the spec is JSON");
        let mut in_spec = Vec::new();
        for (path, item) in spec["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                let Some(id) = operation["operationId"].as_str() else {
                    continue;
                };
                let responses = operation["responses"].as_object().expect("responses");
                // The placeholder that carries an attempt back must reach `run` untouched.
                assert!(
                    !responses.contains_key(&HANDED_OVER.to_string()) && !responses.contains_key("default"),
                    "{id} documents {HANDED_OVER} or a default answer: progenitor would decode the placeholder"
                );
                let success = responses
                    .keys()
                    .filter_map(|status| status.parse::<u16>().ok())
                    .find(|status| (200..300).contains(status))
                    .unwrap_or_else(|| panic!("{id} has no success status"));
                // progenitor names the operation in snake case.
                in_spec.push((id.replace('-', "_"), method.to_uppercase(), success, path.clone()));
            }
        }
        assert_eq!(in_spec.len(), operations::ALL.len(), "{in_spec:?}");
        for (id, method, success, path) in in_spec {
            let known = operations::ALL
                .iter()
                .find(|operation| operation.id == id)
                .unwrap_or_else(|| panic!("{id} ({method} {path}) is not in transport::operations"));
            assert_eq!(known.method.as_str(), method, "{id}");
            assert_eq!(known.success, success, "{id}");
        }
    }
}
