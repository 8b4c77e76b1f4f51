//! What every generated operation goes through, implemented once through progenitor's hooks:
//! headers (`pre`), then tokens, retries and rate-limit bookkeeping (`exec`).
//!
//! progenitor's `exec` can only return a `reqwest` result, so anything richer (a token error,
//! the final error answer with its body) is left in a per-call slot that [`Transport::run`]
//! reads when the generated method returns: what the slot holds wins.
//!
//! A success answer goes back unread, and progenitor reads its body once. If that body breaks
//! off, [`Transport::run`] runs the operation again, as the retry policy allows; the slot
//! carries the count of retries across those runs.

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
        let mut retries_done = 0;
        let (result, status) = loop {
            let mut scoped = pin!(CALL.scope(CallSlot::after_retries(retries_done), call()));
            let result = scoped.as_mut().await;
            let slot = scoped.take_value().unwrap_or_default();
            if let Some(error) = slot.failure.take() {
                return Err(error);
            }
            let Err(progenitor_client::Error::ResponseBodyError(broken)) = &result else {
                break (result, slot.status.get());
            };
            let Some(handed_on) = slot.handed_on.take() else {
                break (result, slot.status.get());
            };
            let shared = &handed_on.transport.0;
            let decision = decide(
                &shared.retry,
                &handed_on.method,
                Outcome::NoAnswer,
                handed_on.retries_done,
                shared.clock.now(),
                fastrand::f64(),
            );
            match decision {
                Decision::RetryAfter(delay) => {
                    tracing::warn!(reason = %broken, delay_ms = delay.as_millis() as u64, "retrying");
                    shared.clock.sleep(delay).await;
                    retries_done = handed_on.retries_done + 1;
                }
                Decision::GiveUp(why) => {
                    tracing::debug!(?why, "not retrying");
                    break (result, slot.status.get());
                }
            }
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
    static CALL: CallSlot;
}

/// What `exec` leaves for [`Transport::run`] about the call in progress. It lives in the
/// task-local scope around one run of the operation, and `run` takes it back afterwards.
#[derive(Debug, Default)]
struct CallSlot {
    failure: RefCell<Option<Error>>,
    status: Cell<u16>,
    /// The success answer last handed to progenitor, whose body it reads after `exec`.
    handed_on: RefCell<Option<HandedOn>>,
    /// Retries already made when the operation runs again after a body broke off.
    retries_done: u32,
}

/// What deciding on a success body that broke off needs.
#[derive(Debug)]
struct HandedOn {
    transport: Transport,
    method: reqwest::Method,
    retries_done: u32,
}

impl CallSlot {
    fn after_retries(retries_done: u32) -> Self {
        Self {
            retries_done,
            ..Self::default()
        }
    }

    /// Does `action` with the slot of the call in progress; nothing outside [`Transport::run`].
    fn with(action: impl FnOnce(&CallSlot)) {
        let _outside_run = CALL.try_with(action);
    }
}

/// The value behind `mutex`: a panic elsewhere while it was held leaves nothing half-done
/// here (every write is one assignment), so a poisoned lock is used as it is.
fn locked<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

// Names made from a `&str` at each use are copied into a new allocation every time.
const API_VERSION: HeaderName = HeaderName::from_static("api-version");
const AUTH0_CLIENT: HeaderName = HeaderName::from_static("auth0-client");

impl ClientHooks<Transport> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let shared = &self.inner().0;
        let headers = request.headers_mut();
        // progenitor adds the spec's version; the header means nothing to Auth0.
        headers.remove(API_VERSION);
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
        let span = tracing::info_span!(
            "auth0_request",
            operation = info.operation_id,
            method = %request.method(),
            path = request.url().path(),
            attempt = tracing::field::Empty,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        let started = Instant::now();
        // Boxed: the retry loop's state is several KB, and every future that holds it inline
        // is copied whole each time it moves (into the task-local scope, into the caller's
        // future, into a task). One allocation per call is cheaper.
        let result = Box::pin(send_with_retries(self.inner(), self.client(), request, &span))
            .instrument(span.clone())
            .await;
        span.record("elapsed_ms", started.elapsed().as_millis() as u64);
        result
    }
}

/// Sends `request`, refreshing the token once on 401 and retrying as the policy allows.
///
/// A success answer goes back to progenitor as it came, for progenitor to read its body: a
/// body that breaks off then is retried by [`Transport::run`], which runs the operation
/// again. Any other answer is read here whole, since deciding what to do needs its body.
async fn send_with_retries(
    transport: &Transport,
    http: &reqwest::Client,
    request: reqwest::Request,
    span: &tracing::Span,
) -> reqwest::Result<reqwest::Response> {
    let shared = &*transport.0;
    let recipe = Recipe::new(request);
    let mut retries_done = CALL.try_with(|slot| slot.retries_done).unwrap_or(0);
    let mut refreshed_token = false;
    loop {
        span.record("attempt", retries_done + 1);
        let token = match shared.tokens.token().await {
            Ok(token) => token,
            Err(error) => return Ok(failed(Error::Token(error), 401)),
        };
        let mut attempt = recipe.attempt();
        // A custom provider can hand out anything; never panic on it.
        let Some(authorization) = token.authorization() else {
            let unusable = TokenError::other(
                "the access token cannot be sent in an Authorization header (empty, or control characters)",
                None,
            );
            return Ok(failed(Error::Token(unusable), 401));
        };
        attempt.headers_mut().insert(AUTHORIZATION, authorization);
        if let Some(timeout) = shared.attempt_timeout {
            *attempt.timeout_mut() = Some(timeout);
        }

        let permit = match &shared.pacer {
            Some(pacer) => Some(pacer.admit(&*shared.clock, shared.retry.longest_wait()).await),
            None => None,
        };
        let outcome = match http.execute(attempt).await {
            Ok(response) if response.status().is_success() => {
                let rate_limit = RateLimit::from_headers(response.headers());
                note_answer(shared, permit, response.status(), rate_limit, span);
                CallSlot::with(|slot| {
                    *slot.handed_on.borrow_mut() = Some(HandedOn {
                        transport: transport.clone(),
                        method: recipe.method().clone(),
                        retries_done,
                    });
                });
                return Ok(response);
            }
            Ok(response) => read_answer(response).await,
            Err(error) => Err(error),
        };
        let decision = match &outcome {
            Ok(answer) => {
                note_answer(shared, permit, answer.status, answer.rate_limit, span);
                if answer.status == 401 && !refreshed_token && shared.tokens.invalidate(&token) {
                    refreshed_token = true;
                    tracing::info!("the API refused the access token; retrying once with a new one");
                    continue;
                }
                let outcome = Outcome::Status {
                    status: answer.status.as_u16(),
                    headers: &answer.headers,
                };
                decide(
                    &shared.retry,
                    recipe.method(),
                    outcome,
                    retries_done,
                    shared.clock.now(),
                    fastrand::f64(),
                )
            }
            Err(error) => {
                let outcome = if error.is_connect() {
                    Outcome::ConnectFailed
                } else {
                    Outcome::NoAnswer
                };
                decide(
                    &shared.retry,
                    recipe.method(),
                    outcome,
                    retries_done,
                    shared.clock.now(),
                    fastrand::f64(),
                )
            }
        };
        match decision {
            Decision::RetryAfter(delay) => {
                let reason = match &outcome {
                    Ok(answer) => answer.status.to_string(),
                    Err(error) => error.to_string(),
                };
                tracing::warn!(%reason, delay_ms = delay.as_millis() as u64, "retrying");
                shared.clock.sleep(delay).await;
                retries_done += 1;
            }
            Decision::GiveUp(why) => {
                tracing::debug!(?why, "not retrying");
                return match outcome {
                    Ok(answer) => {
                        let error =
                            ApiError::from_parts(answer.status.as_u16(), &answer.body, answer.rate_limit);
                        Ok(failed(Error::Api(error), answer.status.as_u16()))
                    }
                    Err(error) => Err(error),
                };
            }
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

/// What every attempt of one call sends: the generated request, without its body, which is
/// kept apart so that each attempt shares it. `Request::try_clone` would also copy reqwest's
/// extension map, which reqwest 0.13 allocates even when it is empty; the generated requests
/// carry no extensions, and the timeout, the only one used here, is set on each attempt.
struct Recipe {
    request: reqwest::Request,
    /// Bodies are JSON that progenitor built in memory.
    body: Option<bytes::Bytes>,
}

impl Recipe {
    fn new(mut request: reqwest::Request) -> Self {
        let body = request
            .body_mut()
            .take()
            .map(|body| bytes::Bytes::copy_from_slice(body.as_bytes().expect("request bodies are buffered")));
        Self { request, body }
    }

    fn method(&self) -> &reqwest::Method {
        self.request.method()
    }

    fn attempt(&self) -> reqwest::Request {
        let original = &self.request;
        let mut attempt = reqwest::Request::new(original.method().clone(), original.url().clone());
        *attempt.headers_mut() = original.headers().clone();
        *attempt.version_mut() = original.version();
        *attempt.body_mut() = self.body.clone().map(reqwest::Body::from);
        attempt
    }
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
    let mut response = http::Response::new(bytes::Bytes::new());
    *response.status_mut() =
        reqwest::StatusCode::from_u16(status).unwrap_or(reqwest::StatusCode::UNAUTHORIZED);
    reqwest::Response::from(response)
}
