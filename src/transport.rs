//! What every generated operation goes through, implemented once through progenitor's hooks:
//! headers (`pre`), then one attempt with its token and rate-limit bookkeeping (`exec`), and
//! around them [`Transport::run`], which retries.
//!
//! progenitor's `exec` can only return a `reqwest` result, so anything richer (a token error,
//! the final error answer with its body, a request to send again) is left in a per-call slot
//! that [`Transport::run`] reads when the generated method returns: what the slot holds wins.
//!
//! A retry runs the whole operation again, so progenitor builds a fresh request: no attempt
//! keeps a copy of its request in case it fails. A success answer goes back unread, and
//! progenitor reads its body once; if that body breaks off, the operation runs again too.

use std::cell::{Cell, RefCell};
use std::pin::pin;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo, ResponseValue};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue, USER_AGENT};
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::clock::Clock;
use crate::error::{ApiError, DecodeError, Error, TokenError, TransportError};
use crate::generated::{self, types::ErrorBody};
use crate::pacing::{Pacer, Permit};
use crate::rate_limit::RateLimit;
use crate::retry::{Decision, Outcome, RetryPolicy, decide};
use crate::token::Tokens;

/// The state every request of one [`Client`](crate::Client) and its clones shares.
#[derive(Clone, Debug)]
pub(crate) struct Transport(Arc<Shared>);

#[derive(Debug)]
pub(crate) struct Shared {
    pub(crate) tokens: Tokens,
    pub(crate) retry: RetryPolicy,
    /// Set on each attempt; `None` when the HTTP client already limits every request.
    pub(crate) attempt_timeout: Option<Duration>,
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

    /// Runs one generated operation and turns its outcome into this crate's [`Error`].
    ///
    /// `call` makes the operation's future; it runs again when the body of a success answer
    /// breaks off while progenitor reads it and the retry policy allows another attempt.
    pub(crate) async fn run<T, F, Fut>(operation: &'static str, call: F) -> Result<T, Error>
    where
        T: DeserializeOwned,
        F: Fn() -> Fut,
        Fut: Future<Output = Result<ResponseValue<T>, progenitor_client::Error<ErrorBody>>>,
    {
        let mut tries = Tries::default();
        let (result, status) = loop {
            let mut scoped = pin!(CALL.scope(Box::new(CallSlot::new(tries)), call()));
            let result = scoped.as_mut().await;
            let slot = scoped.take_value().unwrap_or_default();
            if let Some(error) = slot.failure.take() {
                return Err(error);
            }
            let status = slot.status.get();
            let Some(attempt) = slot.attempt.take() else {
                break (result, status);
            };
            let shared = &attempt.transport.0;
            let delay = match attempt.next {
                Next::SendAgainAfter(delay) => delay,
                Next::SendAgainWithNewToken => {
                    tries.refreshed_token = true;
                    continue;
                }
                Next::BodyReadByProgenitor => {
                    let Err(progenitor_client::Error::ResponseBodyError(broken)) = &result else {
                        break (result, status);
                    };
                    let decision = decide(
                        &shared.retry,
                        &attempt.method,
                        Outcome::NoAnswer,
                        tries.retries_done,
                        shared.clock.now(),
                        fastrand::f64(),
                    );
                    match decision {
                        Decision::RetryAfter(delay) => {
                            tracing::warn!(reason = %broken, delay_ms = delay.as_millis() as u64, "retrying");
                            delay
                        }
                        Decision::GiveUp(why) => {
                            tracing::debug!(?why, "not retrying");
                            break (result, status);
                        }
                    }
                }
            };
            shared.clock.sleep(delay).await;
            tries.retries_done += 1;
        };
        result
            .map(ResponseValue::into_inner)
            .map_err(|error| match error {
                progenitor_client::Error::InvalidResponsePayload(body, _) => {
                    Error::Decode(DecodeError::locate::<T>(operation, status, &body))
                }
                progenitor_client::Error::CommunicationError(error)
                | progenitor_client::Error::ResponseBodyError(error)
                | progenitor_client::Error::InvalidUpgrade(error) => transport_error(error),
                progenitor_client::Error::InvalidRequest(problem) => Error::invalid_input("request", problem),
                progenitor_client::Error::ErrorResponse(answer) => {
                    Error::Api(ApiError::from_parts(answer.status().as_u16(), &[], None))
                }
                progenitor_client::Error::UnexpectedResponse(answer) => {
                    Error::Decode(DecodeError::locate::<T>(
                        operation,
                        answer.status().as_u16(),
                        b"(a success status the API does not document for this operation)",
                    ))
                }
                progenitor_client::Error::Custom(problem) => Error::Config(problem),
            })
    }
}

fn transport_error(error: reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::Timeout(TransportError::new(error))
    } else {
        Error::Transport(TransportError::new(error))
    }
}

tokio::task_local! {
    // Boxed: the scope moves its value in and out of the thread-local on every poll, and a
    // pointer moves in a register where the slot itself took two copies of 200 bytes.
    static CALL: Box<CallSlot>;
}

/// What `exec` leaves for [`Transport::run`] about the call in progress. It lives in the
/// task-local scope around one run of the operation, and `run` takes it back afterwards.
#[derive(Debug, Default)]
struct CallSlot {
    /// What the call has been through so far.
    tries: Tries,
    /// The error the call ends with, when it is richer than what progenitor can return.
    failure: RefCell<Option<Error>>,
    /// The status of the last answer.
    status: Cell<u16>,
    /// What the attempt left to do when it did not end the call.
    attempt: RefCell<Option<Attempt>>,
}

/// Counts across the runs of one call.
#[derive(Debug, Default, Clone, Copy)]
struct Tries {
    retries_done: u32,
    /// Whether a 401 has already been answered by fetching a new token.
    refreshed_token: bool,
}

/// What an attempt handed to [`Transport::run`].
#[derive(Debug)]
struct Attempt {
    transport: Transport,
    method: reqwest::Method,
    next: Next,
}

#[derive(Debug)]
enum Next {
    /// A success answer went to progenitor; if its body breaks off, the policy decides.
    BodyReadByProgenitor,
    /// The policy allows a retry after this wait.
    SendAgainAfter(Duration),
    /// The API refused the token; the call runs again at once with a new one, uncounted.
    SendAgainWithNewToken,
}

impl CallSlot {
    fn new(tries: Tries) -> Self {
        Self {
            tries,
            ..Self::default()
        }
    }

    /// Does `action` with the slot of the call in progress; nothing outside [`Transport::run`].
    fn with(action: impl FnOnce(&CallSlot)) {
        let _outside_run = CALL.try_with(|slot| action(slot));
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
    ) -> Result<(), progenitor_client::Error<E>> {
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
        info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let tries = CALL.try_with(|slot| slot.tries).unwrap_or_default();
        let span = tracing::info_span!(
            "auth0_request",
            operation = info.operation_id,
            method = %request.method(),
            path = request.url().path(),
            attempt = tries.retries_done + 1,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        // Boxed: the attempt's state is a few KB, and every future that holds it inline is
        // copied whole each time it moves (into the task-local scope, into the caller's
        // future, into a task). One allocation per call is cheaper.
        let result = Box::pin(send_once(self.inner(), self.client(), request, tries, &span))
            .instrument(span.clone())
            .await;
        span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        result
    }
}

/// Sends `request` once. A success answer goes back to progenitor as it came, for progenitor
/// to read its body. Any other answer is read here whole, since deciding what to do needs
/// its body: a 401 asks for a new token once, and the retry policy decides on the rest.
async fn send_once(
    transport: &Transport,
    http: &reqwest::Client,
    mut request: reqwest::Request,
    tries: Tries,
    span: &tracing::Span,
) -> reqwest::Result<reqwest::Response> {
    let shared = &*transport.0;
    let token = match shared.tokens.token().await {
        Ok(token) => token,
        Err(error) => return Ok(failed(Error::Token(error), 401)),
    };
    // A custom provider can hand out anything; never panic on it.
    let Some(authorization) = token.authorization() else {
        let unusable = TokenError::other(
            "the access token cannot be sent in an Authorization header (empty, or control characters)",
            None,
        );
        return Ok(failed(Error::Token(unusable), 401));
    };
    request.headers_mut().insert(AUTHORIZATION, authorization);
    if let Some(timeout) = shared.attempt_timeout {
        *request.timeout_mut() = Some(timeout);
    }
    let method = request.method().clone();
    let hand_over = |next: Next| {
        let attempt = Attempt {
            transport: transport.clone(),
            method: method.clone(),
            next,
        };
        CallSlot::with(|slot| *slot.attempt.borrow_mut() = Some(attempt));
    };

    let permit = match &shared.pacer {
        Some(pacer) => Some(pacer.admit(&*shared.clock, shared.retry.longest_wait()).await),
        None => None,
    };
    let outcome = match http.execute(request).await {
        Ok(response) if response.status().is_success() => {
            let rate_limit = RateLimit::from_headers(response.headers());
            note_answer(shared, permit, response.status(), rate_limit, span);
            hand_over(Next::BodyReadByProgenitor);
            return Ok(response);
        }
        Ok(response) => read_answer(response).await,
        Err(error) => Err(error),
    };
    let seen = match &outcome {
        Ok(answer) => {
            note_answer(shared, permit, answer.status, answer.rate_limit, span);
            if answer.status == 401 && !tries.refreshed_token && shared.tokens.invalidate(&token) {
                tracing::info!("the API refused the access token; retrying once with a new one");
                hand_over(Next::SendAgainWithNewToken);
                return Ok(to_step_over(answer.status));
            }
            Outcome::Status {
                status: answer.status.as_u16(),
                headers: &answer.headers,
            }
        }
        Err(error) if error.is_connect() => Outcome::ConnectFailed,
        Err(_) => Outcome::NoAnswer,
    };
    let decision = decide(
        &shared.retry,
        &method,
        seen,
        tries.retries_done,
        shared.clock.now(),
        fastrand::f64(),
    );
    match (decision, outcome) {
        (Decision::RetryAfter(delay), outcome) => {
            let (reason, status) = match outcome {
                Ok(answer) => (answer.status.to_string(), answer.status),
                Err(error) => (error.to_string(), reqwest::StatusCode::SERVICE_UNAVAILABLE),
            };
            tracing::warn!(%reason, delay_ms = delay.as_millis() as u64, "retrying");
            hand_over(Next::SendAgainAfter(delay));
            Ok(to_step_over(status))
        }
        (Decision::GiveUp(why), Ok(answer)) => {
            tracing::debug!(?why, "not retrying");
            let error = ApiError::from_parts(answer.status.as_u16(), &answer.body, answer.rate_limit);
            Ok(failed(Error::Api(error), answer.status.as_u16()))
        }
        (Decision::GiveUp(why), Err(error)) => {
            tracing::debug!(?why, "not retrying");
            Err(error)
        }
    }
}

/// Tells the pacing model, the client's last rate limit, the call slot and the span what an
/// answer's status and headers said.
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
    CallSlot::with(|slot| slot.status.set(status.as_u16()));
}

/// A whole answer that is not a success: reading its body is part of the attempt, so a
/// body cut off midway is retried like any other broken connection.
struct Answer {
    status: reqwest::StatusCode,
    headers: reqwest::header::HeaderMap,
    rate_limit: Option<RateLimit>,
    body: bytes::Bytes,
}

async fn read_answer(mut response: reqwest::Response) -> reqwest::Result<Answer> {
    let status = response.status();
    // The body does not need the headers once it is being read; move them, do not copy.
    let headers = std::mem::take(response.headers_mut());
    let rate_limit = RateLimit::from_headers(&headers);
    let body = response.bytes().await?;
    Ok(Answer {
        status,
        headers,
        rate_limit,
        body,
    })
}

/// Leaves `error` for [`Transport::run`] and gives progenitor an empty answer to step over.
fn failed(error: Error, status: u16) -> reqwest::Response {
    CallSlot::with(|slot| *slot.failure.borrow_mut() = Some(error));
    to_step_over(reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::UNAUTHORIZED))
}

/// An empty answer for progenitor, whose outcome [`Transport::run`] sets aside for what the
/// call slot holds.
fn to_step_over(status: reqwest::StatusCode) -> reqwest::Response {
    let mut response = http::Response::new(bytes::Bytes::new());
    *response.status_mut() = status;
    reqwest::Response::from(response)
}
