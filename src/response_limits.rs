//! What the client accepts of a server's response, for the API and the token endpoint alike:
//! no redirect (Auth0 never redirects these endpoints), nothing from another origin than the
//! request went to, and no body longer than the configured limit.

use bytes::{Bytes, BytesMut};
use reqwest::header::{CONTENT_LENGTH, HeaderMap, LOCATION};
use reqwest::{StatusCode, Url};

use crate::error::RedirectError;

/// The default of [`ClientBuilder::max_answer_size`](crate::ClientBuilder::max_answer_size):
/// 4 MiB. A page of 100 grants is far below 1 MiB.
pub const DEFAULT_MAX_ANSWER_SIZE: usize = 4 * 1024 * 1024;

/// Refuses an answer (`status`, `headers`, from `answered`) to a request sent to `requested`:
/// a redirect (3xx), which the client's own HTTP client never follows, or an answer from
/// another origin, which a caller's HTTP client (`http_client(..)`) reached by following one.
pub(crate) fn refuse_redirect(
    requested: &url::Origin,
    status: StatusCode,
    headers: &HeaderMap,
    answered: &Url,
) -> Result<(), RedirectError> {
    if status.is_redirection() {
        let location = headers
            .get(LOCATION)
            .map(|location| String::from_utf8_lossy(location.as_bytes()).into_owned());
        return Err(RedirectError::not_followed(status.as_u16(), location));
    }
    let answered = answered.origin();
    if &answered != requested {
        return Err(RedirectError::followed(
            status.as_u16(),
            answered.ascii_serialization(),
        ));
    }
    Ok(())
}

/// Why a body could not be read whole.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Longer than the limit: reading stopped there.
    TooLarge,
    /// The connection broke off or timed out while reading.
    Broken(reqwest::Error),
}

/// Reads the body of `response` (whose headers are `headers`), refusing one longer than
/// `limit` bytes: one whose `Content-Length` says so is not read at all, and any other stops
/// being read as soon as it passes the limit, so memory never holds more than the limit and
/// one chunk.
pub(crate) async fn read_body(
    mut response: reqwest::Response,
    headers: &HeaderMap,
    limit: usize,
) -> Result<Bytes, BodyError> {
    let announced = headers
        .get(CONTENT_LENGTH)
        .and_then(|length| length.to_str().ok()?.parse::<u64>().ok());
    if announced.is_some_and(|length| length > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let mut body = BytesMut::new();
    while let Some(chunk) = response.chunk().await.map_err(BodyError::Broken)? {
        if body.len() + chunk.len() > limit {
            return Err(BodyError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body.freeze())
}
