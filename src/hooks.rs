//! progenitor's hooks, the per-request work of one attempt: headers (`pre`), then the timeout,
//! sending, and what the answer says about the rate limit (`exec`). Everything around one
//! attempt (its token, its turn in the pacing queue, retries, errors) is
//! [`Client::run`](crate::Client)'s.

use std::sync::{Arc, Mutex, OnceLock};

use progenitor_client::{ClientHooks, ClientInfo, OperationInfo};
use reqwest::header::{AUTHORIZATION, HeaderName, HeaderValue, USER_AGENT};

use crate::client::{ClientState, locked};
use crate::error::RedirectError;
use crate::generated;
use crate::pacing::Permit;
use crate::rate_limit::RateLimit;
use crate::response_limits::{self, from_another_origin};

/// What the hooks of one attempt need, as the generated client's inner value: the client's
/// state, the `Authorization` header of the token this attempt sends, the pacer's permit for
/// it (given back with what the answer says of the rate limit), and where `exec` records an
/// answer it refused for coming from another origin.
#[derive(Clone, Debug)]
pub(crate) struct Attempt {
    pub(crate) state: Arc<ClientState>,
    pub(crate) authorization: HeaderValue,
    pub(crate) permit: Arc<Mutex<Option<Permit>>>,
    pub(crate) refused: Arc<OnceLock<RedirectError>>,
}

/// The generated client for one attempt (a cheap request builder over the shared HTTP client),
/// and what its `exec` refused, which the caller must check whatever progenitor returns: an
/// answer without a body (a delete's) is never read, so refusing its body would not be enough.
pub(crate) fn request_builder(
    state: &Arc<ClientState>,
    authorization: HeaderValue,
    permit: Option<Permit>,
) -> (generated::Client, Arc<OnceLock<RedirectError>>) {
    let refused = Arc::new(OnceLock::new());
    let attempt = Attempt {
        state: state.clone(),
        authorization,
        permit: Arc::new(Mutex::new(permit)),
        refused: refused.clone(),
    };
    let api = generated::Client::new_with_client(&state.api_root, state.http.clone(), attempt);
    (api, refused)
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
        mut request: reqwest::Request,
        _info: &OperationInfo,
    ) -> reqwest::Result<reqwest::Response> {
        let attempt = self.inner();
        let state = &attempt.state;
        let span = tracing::Span::current();
        span.record("path", request.url().path());
        *request.timeout_mut() = Some(state.timeout);
        let requested = request.url().origin();
        let permit = locked(&attempt.permit).take();
        let response = self.client().execute(request).await?;
        let status = response.status();
        span.record("status", status.as_u16());
        // A caller's HTTP client that follows redirects reaches other origins: nothing of their
        // answer is used, not even what it says about the rate limit.
        if let Some(refused) = from_another_origin(&requested, &response) {
            let _ = attempt.refused.set(refused);
            return Ok(response);
        }
        let limit = RateLimit::from_headers(response.headers());
        if let (Some(pacer), Some(permit)) = (&state.pacer, permit) {
            match &limit {
                Some(limit) => pacer.observe(permit, limit, status.as_u16(), state.clock.now()),
                None => pacer.unmetered(permit),
            }
        }
        if limit.is_some() {
            *locked(&state.last_rate_limit) = limit;
        }
        Ok(response_limits::guard(response, state.max_answer_size))
    }
}
