//! One call of an operation, from the resource handle to its result: [`Client::run`] gets the
//! token, runs the generated method (whose hooks, in src/transport/hooks.rs, send the request), and
//! decides on what came back: the value, a retry (src/transport/retry.rs decides), the one token refresh
//! after a 401, or this crate's [`Error`].
//!
//! The client is generated from the spec without its error responses (build.rs), so every
//! response that is not a documented success reaches `run` unread, as progenitor's
//! `UnexpectedResponse`, and `run` reads its body once.

use std::sync::Mutex;
use std::time::Instant;

use progenitor_client::ResponseValue;
use reqwest::StatusCode;
use serde::de::DeserializeOwned;
use tracing::Instrument;

use crate::api::generated;
use crate::api::operations::Operation;
use crate::client::{Client, locked};
use crate::error::{ApiError, DecodeError, Error, HeldBackError, TokenError, TransportError};
use crate::transport::hooks::{Exchange, request_builder};
use crate::transport::response_limits::too_large;
use crate::transport::retry::{Decision, Outcome, Spent, decide};

/// What the generated methods return.
pub(crate) type GeneratedResult<T> = Result<ResponseValue<T>, progenitor_client::Error<()>>;

impl Client {
    /// Runs `operation` through `call`, which makes it with the generated method of the
    /// request builder it is given (a new one each attempt, holding that attempt's token),
    /// retrying as the policy allows. The call is one `tracing` span, however many attempts it
    /// takes.
    pub(crate) async fn run<T: DeserializeOwned, Call: Future<Output = GeneratedResult<T>>>(
        &self,
        operation: &'static Operation,
        call: impl Fn(generated::Client) -> Call,
    ) -> Result<T, Error> {
        let span = tracing::info_span!(
            "auth0_request",
            operation = operation.id,
            method = %operation.method,
            path = tracing::field::Empty,
            attempt = 1,
            status = tracing::field::Empty,
            elapsed_ms = tracing::field::Empty,
        );
        self.attempts(operation, call, &span)
            .instrument(span.clone())
            .await
    }

    async fn attempts<T: DeserializeOwned, Call: Future<Output = GeneratedResult<T>>>(
        &self,
        operation: &'static Operation,
        call: impl Fn(generated::Client) -> Call,
        span: &tracing::Span,
    ) -> Result<T, Error> {
        // Recorded when the call ends, however it ends: cancelled (dropped) included.
        let _elapsed = RecordsElapsed {
            span,
            started: Instant::now(),
        };
        let state = self.state();
        let mut spent = Spent::default();
        let mut refreshed_token = false;
        let mut last_rate_limited = None;
        'attempts: loop {
            // Every request counts, the one sent again with a fresh token included.
            let attempt = 1 + spent.resent() + u32::from(refreshed_token);
            if attempt > 1 {
                span.record("attempt", attempt);
            }
            let token = state.tokens.token(&mut spent).await?;
            // A custom provider can hand out anything; never panic on it.
            let Some(authorization) = token.authorization() else {
                return Err(Error::Token(TokenError::other(
                    "the access token cannot be sent in an Authorization header (empty, or control characters)",
                    None,
                )));
            };
            let permit = match &state.pacer {
                Some(pacer) => {
                    let queued_at = state.clock.now();
                    let budget = spent.rate_limit_budget_left(&state.retry);
                    let permit = pacer
                        .admit(&*state.clock, state.retry.longest_wait(), budget)
                        .await;
                    spent.held(state.clock.now().duration_since(queued_at).unwrap_or_default());
                    let Some(permit) = permit else {
                        // The last 429 if the call met one, else what held it back.
                        return Err(last_rate_limited.unwrap_or_else(|| {
                            Error::HeldBack(HeldBackError::new(
                                spent.rate_limit_wait,
                                *locked(&state.last_rate_limit),
                            ))
                        }));
                    };
                    Some(permit)
                }
                None => None,
            };
            let (api, exchange) = request_builder(state, authorization, permit);
            let outcome = {
                // Recorded however the attempt ends, cancelled included.
                let _recorded = RecordsExchange {
                    span,
                    exchange: &exchange,
                };
                call(api).await
            };
            let seen = std::mem::take(&mut *locked(&exchange));
            // A response refused unread, whatever progenitor made of it.
            if let Some(refused) = seen.refused {
                return Err(Error::Redirect(refused));
            }
            let failure = match outcome {
                Ok(response) => return Ok(response.into_inner()),
                Err(failure) => failure,
            };
            let decision = |outcome: Outcome<'_>| {
                decide(
                    &state.retry,
                    &operation.method,
                    outcome,
                    spent,
                    state.clock.now(),
                    fastrand::f64(),
                )
            };
            let limit = state.max_response_size;
            let (decision, error) = match failure {
                progenitor_client::Error::UnexpectedResponse(response) => 'responded: {
                    let status = response.status();
                    if status.is_success() {
                        return Err(Error::Decode(DecodeError::undocumented_success(
                            operation.id,
                            status.as_u16(),
                        )));
                    }
                    let headers = response.headers().clone();
                    let body = match response.bytes().await {
                        Ok(body) => body,
                        Err(broken) if too_large(&broken) => return Err(Error::ResponseTooLarge { limit }),
                        Err(broken) => {
                            break 'responded (decision(Outcome::NoResponse), transport_error(broken));
                        }
                    };
                    if status == StatusCode::UNAUTHORIZED
                        && !refreshed_token
                        && state.tokens.invalidate(&token)
                    {
                        tracing::info!("the API refused the access token; retrying once with a new one");
                        refreshed_token = true;
                        continue 'attempts;
                    }
                    let outcome = Outcome::Status {
                        status: status.as_u16(),
                        headers: &headers,
                        rate_limit: seen.rate_limit,
                    };
                    let error = ApiError::from_parts(status.as_u16(), &body, seen.rate_limit);
                    (decision(outcome), Error::Api(error))
                }
                // The generated code could not build the request: no retry builds it better.
                progenitor_client::Error::CommunicationError(error) if error.is_builder() => {
                    return Err(Error::invalid_input("request", error.to_string()));
                }
                progenitor_client::Error::CommunicationError(error) => {
                    let outcome = if error.is_connect() {
                        Outcome::ConnectFailed
                    } else {
                        Outcome::NoResponse
                    };
                    (decision(outcome), transport_error(error))
                }
                // A success body that was refused, or broke off while progenitor read it.
                progenitor_client::Error::ResponseBodyError(error) if too_large(&error) => {
                    return Err(Error::ResponseTooLarge { limit });
                }
                progenitor_client::Error::ResponseBodyError(error) => {
                    (decision(Outcome::NoResponse), transport_error(error))
                }
                // The request was carried out: a retry would repeat it to get the same body.
                progenitor_client::Error::InvalidResponsePayload(body, _) => {
                    return Err(Error::Decode(DecodeError::locate::<T>(
                        operation.id,
                        operation.success,
                        &body,
                    )));
                }
                // A value the generated request builder could not convert: no retry builds it better.
                progenitor_client::Error::InvalidRequest(problem) => {
                    return Err(Error::invalid_input("request", problem));
                }
                // Outcomes this client never meets: it is generated without error responses, no
                // operation upgrades the connection, and its hooks (src/transport/hooks.rs) return no error
                // of their own. One that comes all the same is a bug of this crate; the call still
                // ends with an error, as a request that could not be made, never with a panic.
                impossible @ (progenitor_client::Error::ErrorResponse(_)
                | progenitor_client::Error::InvalidUpgrade(_)
                | progenitor_client::Error::Custom(_)) => {
                    return Err(Error::invalid_input(
                        "request",
                        format!(
                            "progenitor reported an outcome this client never receives, a bug of \
                             auth0-client-grants: {impossible}"
                        ),
                    ));
                }
            };
            match decision {
                Decision::RetryAfter(delay) => {
                    tracing::warn!(reason = %error, delay_ms = delay.as_millis() as u64, "retrying");
                    state.clock.sleep(delay).await;
                    spent.add(error.is_rate_limited(), delay);
                    last_rate_limited = error.is_rate_limited().then_some(error);
                }
                Decision::GiveUp(why) => {
                    tracing::debug!(?why, "not retrying");
                    return Err(error);
                }
            }
        }
    }
}

fn transport_error(error: reqwest::Error) -> Error {
    if error.is_timeout() {
        Error::Timeout(TransportError::new(error))
    } else {
        Error::Transport(TransportError::new(error))
    }
}

/// Records on `span` the path and status of an attempt's exchange when it is dropped.
struct RecordsExchange<'a> {
    span: &'a tracing::Span,
    exchange: &'a Mutex<Exchange>,
}

impl Drop for RecordsExchange<'_> {
    fn drop(&mut self) {
        let exchange = locked(self.exchange);
        if let Some(path) = &exchange.path {
            self.span.record("path", path.as_str());
        }
        if let Some(status) = exchange.status {
            self.span.record("status", status);
        }
    }
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

#[cfg(test)]
mod decoding_properties;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::operations::GET_CLIENT_GRANT;

    #[tokio::test]
    async fn an_outcome_progenitor_never_reports_for_this_client_still_ends_the_call_with_an_error() {
        let client = Client::builder()
            .domain("example.eu.auth0.com")
            .token("TOKEN")
            .pacing(false)
            .build()
            .unwrap();

        let result = client
            .run(&GET_CLIENT_GRANT, |_api| async {
                GeneratedResult::<()>::Err(progenitor_client::Error::Custom("from a hook".into()))
            })
            .await;

        let Err(Error::InvalidInput(error)) = result else {
            panic!("expected an error, got {result:?}")
        };
        assert_eq!(error.parameter(), "request");
        assert!(
            error.problem().contains("a bug of auth0-client-grants"),
            "{error}"
        );
        assert!(error.problem().ends_with("from a hook"), "{error}");
    }
}
