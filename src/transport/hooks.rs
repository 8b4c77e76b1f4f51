//! progenitor's hooks, the per-request work of one attempt: headers (`pre`), then sending
//! (`exec`, through src/transport/send.rs, as every request of this client goes) and giving the pacer's
//! permit back with what the response says of the rate limit. Everything around one attempt
//! (its token, its turn in the pacing queue, retries, errors) is
//! [`Client::run`](crate::Client)'s, which learns what `exec` saw through the attempt's
//! [`Exchange`].

use std::sync::{Arc, Mutex};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue, USER_AGENT};

use crate::api::generated;
use crate::client::{ClientState, locked};
use crate::error::RedirectError;
use crate::transport::pacing::Permit;
use crate::transport::rate_limit::RateLimit;
use crate::transport::send::{Received, send};

/// What the hooks of one attempt need, as the generated client's inner value: the client's
/// state, the `Authorization` header of the token this attempt sends, and the exchange with
/// the attempt loop.
#[derive(Clone, Debug)]
pub(crate) struct Attempt {
    pub(crate) state: Arc<ClientState>,
    pub(crate) authorization: HeaderValue,
    pub(crate) exchange: Arc<Mutex<Exchange>>,
}

/// The one channel between the attempt loop and `exec`, which progenitor calls in between:
/// the pacer's permit goes in, and what `exec` saw of the response comes out. The loop must
/// read it whatever progenitor returns: a response without a body (a delete's) is never read,
/// so a refused one would otherwise pass for a success.
#[derive(Debug, Default)]
pub(crate) struct Exchange {
    /// The pacer's permit for the request, taken by `exec` when it sends.
    pub(crate) permit: Option<Permit>,
    /// The path the request went to, for the call's span.
    pub(crate) path: Option<String>,
    /// The response's status, when one came.
    pub(crate) status: Option<u16>,
    /// Its rate-limit headers, read once.
    pub(crate) rate_limit: Option<RateLimit>,
    /// Why the response was refused unread, if it was.
    pub(crate) refused: Option<RedirectError>,
}

/// The generated client for one attempt (a cheap request builder over the shared HTTP client),
/// and the exchange through which its `exec` reports.
pub(crate) fn request_builder(
    state: &Arc<ClientState>,
    authorization: HeaderValue,
    permit: Option<Permit>,
) -> (generated::Client, Arc<Mutex<Exchange>>) {
    let exchange = Arc::new(Mutex::new(Exchange {
        permit,
        ..Exchange::default()
    }));
    let attempt = Attempt {
        state: state.clone(),
        authorization,
        exchange: exchange.clone(),
    };
    let api = generated::Client::new_with_client(&state.api_root, state.http.clone(), attempt);
    (api, exchange)
}

const AUTH0_CLIENT: HeaderName = HeaderName::from_static("auth0-client");

impl ClientHooks<Attempt> for generated::Client {
    async fn pre<E>(
        &self,
        request: &mut reqwest::Request,
        _info: &OperationInfo,
    ) -> Result<(), progenitor_client::Error<E>> {
        let attempt = self.inner();
        let headers = request.headers_mut();
        headers.insert(AUTHORIZATION, attempt.authorization.clone());
        headers.insert(USER_AGENT, attempt.state.user_agent.clone());
        if let Some(telemetry) = &attempt.state.telemetry {
            headers.insert(AUTH0_CLIENT, telemetry.clone());
        }
        // progenitor sends the spec's version in `api-version`; Auth0 reads no such header.
        headers.remove("api-version");
        Ok(())
    }

    async fn exec(
        &self,
        request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let attempt = self.inner();
        let state = &attempt.state;
        let path = request.url().path().to_owned();
        let permit = {
            let mut exchange = locked(&attempt.exchange);
            exchange.path = Some(path);
            exchange.permit.take()
        };
        let unanswered = |permit: Option<Permit>| {
            if let (Some(pacer), Some(permit)) = (&state.pacer, permit) {
                pacer.unanswered(permit);
            }
        };
        let received = match send(self.client(), request, state.timeout, state.max_response_size).await {
            Ok(received) => received,
            Err(failed) => {
                unanswered(permit);
                return Err(failed);
            }
        };
        let mut exchange = locked(&attempt.exchange);
        let response = match received {
            Received::Refused { response, why } => {
                unanswered(permit);
                exchange.refused = Some(why);
                response
            }
            Received::Accepted { response, rate_limit } => {
                let status = response.status().as_u16();
                if let (Some(pacer), Some(permit)) = (&state.pacer, permit) {
                    match &rate_limit {
                        Some(limit) => pacer.observe(permit, limit, status, state.clock.now()),
                        None => pacer.unmetered(permit),
                    }
                }
                if rate_limit.is_some() {
                    *locked(&state.last_rate_limit) = rate_limit;
                }
                exchange.rate_limit = rate_limit;
                response
            }
        };
        exchange.status = Some(response.status().as_u16());
        Ok(response)
    }
}
