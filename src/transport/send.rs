//! One HTTP exchange, for an API attempt and a token request alike: the request goes with the
//! attempt's timeout, and the response is checked (src/transport/response_limits.rs) before anything of
//! it is used. Its rate-limit headers are read here, once.

use std::time::Duration;

use crate::error::RedirectError;
use crate::transport::rate_limit::RateLimit;
use crate::transport::response_limits::{from_another_origin, guard, redirect, without_body};

/// What came back from one request.
#[derive(Debug)]
pub(crate) enum Received {
    /// A response that may be used: its body reads at most the size limit.
    Accepted {
        response: reqwest::Response,
        rate_limit: Option<RateLimit>,
    },
    /// A redirect, or a response from another origin than the request went to (a caller's
    /// HTTP client that follows redirects reaches one): nothing of it is used, not even what
    /// it says about the rate limit. progenitor must be handed a response, so this one is
    /// kept, with its body emptied: progenitor reads a success's body before the attempt loop
    /// can refuse it, and the size limit must hold for that read too.
    Refused {
        response: reqwest::Response,
        why: RedirectError,
    },
}

/// Sends `request` with `http`, allowing it `timeout` from sending to the end of the body, and
/// reading at most `max_response_size` bytes of body.
pub(crate) async fn send(
    http: &reqwest::Client,
    mut request: reqwest::Request,
    timeout: Duration,
    max_response_size: usize,
) -> reqwest::Result<Received> {
    *request.timeout_mut() = Some(timeout);
    let requested = request.url().origin();
    let response = http.execute(request).await?;
    let refused = from_another_origin(&requested, &response)
        .or_else(|| redirect(response.status(), response.headers()));
    if let Some(why) = refused {
        let response = without_body(response);
        return Ok(Received::Refused { response, why });
    }
    let rate_limit = RateLimit::from_headers(response.headers());
    Ok(Received::Accepted {
        response: guard(response, max_response_size),
        rate_limit,
    })
}
