//! What the client accepts of a server's response, for the API and the token endpoint alike:
//! no redirect (Auth0 never redirects these endpoints), nothing from another origin than the
//! request went to, and no body longer than the configured limit.
//!
//! The size limit is enforced on the body itself ([`guard`]), so it holds wherever the body is
//! read: by progenitor decoding a success, by [`Client::run`](crate::Client) reading an error,
//! by the token request; [`too_large`] tells its error from a broken connection. A response from
//! another origin is refused before anything of it is used ([`from_another_origin`]).

use bytes::Bytes;
use http_body_util::{LengthLimitError, Limited, StreamBody};
use reqwest::StatusCode;
use reqwest::header::{HeaderMap, LOCATION};

use crate::error::RedirectError;

/// The default of [`ClientBuilder::max_response_size`](crate::ClientBuilder::max_response_size):
/// 4 MiB. A page of 100 grants is far below 1 MiB.
pub const DEFAULT_MAX_RESPONSE_SIZE: usize = 4 * 1024 * 1024;

/// Why a body is not read.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the response announces more than {limit} bytes")]
pub(crate) struct TooLarge {
    limit: usize,
}

/// The refusal of a response (`response`, to a request sent to `requested`) from another
/// origin, which a caller's HTTP client (`http_client(..)`) reaches by following a redirect.
pub(crate) fn from_another_origin(
    requested: &url::Origin,
    response: &reqwest::Response,
) -> Option<RedirectError> {
    let answered = response.url().origin();
    (answered != *requested)
        .then(|| RedirectError::followed(response.status().as_u16(), answered.ascii_serialization()))
}

/// `response` with a body that reads at most `limit` bytes (memory holds at most the limit and
/// one chunk), and that cannot be read at all when its length is known to be longer.
///
/// A body whose length hyper knows exactly (from `Content-Length`, when no transfer coding
/// overrides it) is bounded by it already, and goes on as it is; any other is wrapped. The
/// wrapped response no longer knows its URL: take anything wanted from it first.
pub(crate) fn guard(response: reqwest::Response, limit: usize) -> reqwest::Response {
    match response.content_length() {
        Some(length) if length <= limit as u64 => response,
        Some(_) => with_body(response, |_| {
            let frames = futures_util::stream::iter([Err::<http_body::Frame<Bytes>, _>(TooLarge { limit })]);
            reqwest::Body::wrap(StreamBody::new(frames))
        }),
        None => with_body(response, |body| reqwest::Body::wrap(Limited::new(body, limit))),
    }
}

/// `response` with an empty body, for one refused unread.
pub(crate) fn without_body(response: reqwest::Response) -> reqwest::Response {
    with_body(response, |_| reqwest::Body::from(Bytes::new()))
}

/// `response` with its body replaced by what `replace` makes of it.
fn with_body(
    response: reqwest::Response,
    replace: impl FnOnce(reqwest::Body) -> reqwest::Body,
) -> reqwest::Response {
    let (parts, body) = http::Response::from(response).into_parts();
    reqwest::Response::from(http::Response::from_parts(parts, replace(body)))
}

/// Whether reading a guarded body failed for its size (`limit`), not for a broken connection.
pub(crate) fn too_large(error: &reqwest::Error) -> bool {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = cause {
        if current.is::<LengthLimitError>() || current.is::<TooLarge>() {
            return true;
        }
        cause = current.source();
    }
    false
}

/// A redirect response (`status` 3xx, with `headers`), which is never followed.
pub(crate) fn redirect(status: StatusCode, headers: &HeaderMap) -> Option<RedirectError> {
    status.is_redirection().then(|| {
        let location = headers
            .get(LOCATION)
            .map(|location| String::from_utf8_lossy(location.as_bytes()).into_owned());
        RedirectError::not_followed(status.as_u16(), location)
    })
}
