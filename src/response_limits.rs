//! What the client accepts of a server's response, for the API and the token endpoint alike:
//! no redirect (Auth0 never redirects these endpoints), nothing from another origin than the
//! request went to, and no body longer than the configured limit.
//!
//! The limits are enforced on the body itself ([`guard`]), so they hold wherever it is read:
//! by progenitor decoding a success, by [`Client::run`](crate::Client) reading an error, by
//! the token request. A refused body fails to read with a [`Refused`] error, which
//! [`refusal`] turns into this crate's [`Error`].

use bytes::Bytes;
use http_body_util::{LengthLimitError, Limited, StreamBody};
use reqwest::StatusCode;
use reqwest::header::{CONTENT_LENGTH, HeaderMap, LOCATION};

use crate::error::{Error, RedirectError};

/// The default of [`ClientBuilder::max_answer_size`](crate::ClientBuilder::max_answer_size):
/// 4 MiB. A page of 100 grants is far below 1 MiB.
pub const DEFAULT_MAX_ANSWER_SIZE: usize = 4 * 1024 * 1024;

/// Why a body is not read.
#[derive(Debug, Clone, thiserror::Error)]
pub(crate) enum Refused {
    /// Its `Content-Length` is longer than the limit.
    #[error("the answer announces more than {limit} bytes")]
    TooLarge { limit: usize },
    /// It came from another origin than the request went to.
    #[error("the answer came from another origin")]
    OtherOrigin(RedirectError),
}

/// `response` to a request sent to `requested`, with a body that reads at most `limit` bytes
/// (memory holds at most the limit and one chunk), and that cannot be read at all when its
/// `Content-Length` says it is longer, or when it came from another origin: a caller's HTTP
/// client (`http_client(..)`) reaches one by following a redirect.
///
/// A body whose `Content-Length` is within the limit is bounded by it already (hyper reads no
/// more than that), and goes on as it is; only a body of unknown length is wrapped.
pub(crate) fn guard(response: reqwest::Response, requested: &url::Origin, limit: usize) -> reqwest::Response {
    let refused = if response.url().origin() != *requested {
        let origin = response.url().origin().ascii_serialization();
        Refused::OtherOrigin(RedirectError::followed(response.status().as_u16(), origin))
    } else {
        match announced_length(response.headers()) {
            Some(length) if length <= limit as u64 => return response,
            Some(_) => Refused::TooLarge { limit },
            None => return with_body(response, |body| reqwest::Body::wrap(Limited::new(body, limit))),
        }
    };
    with_body(response, |_| {
        let frames = futures_util::stream::iter([Err::<http_body::Frame<Bytes>, _>(refused)]);
        reqwest::Body::wrap(StreamBody::new(frames))
    })
}

/// `response` with its body replaced by what `replace` makes of it.
fn with_body(
    response: reqwest::Response,
    replace: impl FnOnce(reqwest::Body) -> reqwest::Body,
) -> reqwest::Response {
    let (parts, body) = http::Response::from(response).into_parts();
    reqwest::Response::from(http::Response::from_parts(parts, replace(body)))
}

fn announced_length(headers: &HeaderMap) -> Option<u64> {
    headers.get(CONTENT_LENGTH)?.to_str().ok()?.parse().ok()
}

/// The error a guarded body that was refused, or that passed `limit`, failed to read with.
pub(crate) fn refusal(error: &reqwest::Error, limit: usize) -> Option<Error> {
    let mut cause: Option<&(dyn std::error::Error + 'static)> = std::error::Error::source(error);
    while let Some(current) = cause {
        if current.is::<LengthLimitError>() {
            return Some(Error::AnswerTooLarge { limit });
        }
        if let Some(refused) = current.downcast_ref::<Refused>() {
            return Some(match refused {
                Refused::TooLarge { limit } => Error::AnswerTooLarge { limit: *limit },
                Refused::OtherOrigin(redirect) => Error::Redirect(redirect.clone()),
            });
        }
        cause = current.source();
    }
    None
}

/// A redirect answer (`status` 3xx, with `headers`), which is never followed.
pub(crate) fn redirect(status: StatusCode, headers: &HeaderMap) -> Option<RedirectError> {
    status.is_redirection().then(|| {
        let location = headers
            .get(LOCATION)
            .map(|location| String::from_utf8_lossy(location.as_bytes()).into_owned());
        RedirectError::not_followed(status.as_u16(), location)
    })
}
