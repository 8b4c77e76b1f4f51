//! The physical limit the crate is measured against: a minimal hand-written client doing the
//! same requests correctly with nothing but `reqwest` and `serde_json` (token once, bearer
//! header, status check, typed decoding; on a 429, of the API or the token endpoint, wait for
//! what the server asks and send again). "The same requests" means the same bytes on the wire: it also sends the headers
//! the crate sends (see `identifying_headers`), because the in-process fake tenant shares the
//! machine, and the work of reading headers only one side sends would count as the crate's.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Deserialize;

/// The fields of a grant, decoded as a hand-written client would.
#[derive(Debug, Deserialize)]
#[allow(dead_code)] // Decoded for the cost of decoding; only `id` is read.
pub struct Grant {
    pub id: String,
    client_id: Option<String>,
    audience: String,
    scope: Vec<String>,
    organization_usage: Option<String>,
    allow_any_organization: Option<bool>,
    is_system: Option<bool>,
    subject_type: Option<String>,
    authorization_details_types: Option<Vec<String>>,
    allow_all_scopes: Option<bool>,
    default_for: Option<String>,
}

#[derive(Deserialize)]
struct CheckpointPage {
    client_grants: Vec<Grant>,
    next: Option<String>,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
}

#[derive(Clone)]
pub struct Baseline {
    http: reqwest::Client,
    api: String,
    authorization: String,
}

impl Baseline {
    /// Gets a token with client credentials from the tenant at `api` (`…/api/v2`).
    pub async fn connect(api: &str, client_id: &str, client_secret: &str) -> Self {
        // The same 30 s limit per request as the crate's default: a loop without one can hang.
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .default_headers(identifying_headers())
            .build()
            .expect("an HTTP client");
        let origin = api.trim_end_matches("/api/v2");
        let response: TokenResponse = loop {
            let response = http
                .post(format!("{origin}/oauth/token"))
                .json(&serde_json::json!({
                    "grant_type": "client_credentials",
                    "client_id": client_id,
                    "client_secret": client_secret,
                    "audience": format!("{api}/"),
                }))
                .send()
                .await
                .expect("token request");
            if response.status() == 429 {
                tokio::time::sleep(wait_asked(response.headers())).await;
                continue;
            }
            break response
                .error_for_status()
                .expect("token granted")
                .json()
                .await
                .expect("token response");
        };
        Self {
            http,
            api: api.to_owned(),
            authorization: format!("Bearer {}", response.access_token),
        }
    }

    /// `GET /client-grants/{id}`; a 429 is waited out and sent again, anything else fails.
    pub async fn get(&self, id: &str) -> Result<Grant, String> {
        loop {
            let response = self
                .http
                .get(format!("{}/client-grants/{id}", self.api))
                .header("authorization", &self.authorization)
                .send()
                .await
                .map_err(|error| error.to_string())?;
            if response.status() == 429 {
                tokio::time::sleep(wait_asked(response.headers())).await;
                continue;
            }
            if !response.status().is_success() {
                return Err(format!("status {}", response.status()));
            }
            let body = response.bytes().await.map_err(|error| error.to_string())?;
            return serde_json::from_slice(&body).map_err(|error| error.to_string());
        }
    }

    /// Walks every grant with checkpoint paging (`take`), one page in memory at a time, and
    /// counts them.
    pub async fn count_all(&self, take: u32) -> Result<usize, String> {
        let mut count = 0;
        let mut from: Option<String> = None;
        loop {
            let mut request = self
                .http
                .get(format!("{}/client-grants", self.api))
                .header("authorization", &self.authorization)
                .query(&[("take", take.to_string())]);
            if let Some(cursor) = &from {
                request = request.query(&[("from", cursor)]);
            }
            let response = request.send().await.map_err(|error| error.to_string())?;
            if !response.status().is_success() {
                return Err(format!("status {}", response.status()));
            }
            let body = response.bytes().await.map_err(|error| error.to_string())?;
            let page: CheckpointPage = serde_json::from_slice(&body).map_err(|error| error.to_string())?;
            count += page.client_grants.len();
            match page.next {
                Some(next) => from = Some(next),
                None => return Ok(count),
            }
        }
    }
}

/// The headers every request of the crate carries besides the token, with values of the
/// same length, so that both sides send the same bytes and the fake tenant does the same
/// work to read them: `Accept`, `User-Agent` and Auth0's `Auth0-Client` telemetry (base64
/// JSON naming the client and its environment, as Auth0's SDKs send it).
fn identifying_headers() -> reqwest::header::HeaderMap {
    use base64::Engine;
    use reqwest::header::{ACCEPT, HeaderMap, HeaderValue, USER_AGENT};
    let telemetry = serde_json::json!({
        "name": "auth0-client-grants",
        "version": env!("CARGO_PKG_VERSION"),
        "env": {"rust": "1.95.0"},
    });
    let telemetry = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(telemetry.to_string());
    let mut headers = HeaderMap::new();
    headers.insert(ACCEPT, HeaderValue::from_static("application/json"));
    headers.insert(
        USER_AGENT,
        HeaderValue::from_static(concat!("auth0-client-grants/", env!("CARGO_PKG_VERSION"))),
    );
    headers.insert(
        "auth0-client",
        HeaderValue::try_from(telemetry).expect("base64 is header-safe"),
    );
    headers
}

/// `Retry-After` in seconds, else until `X-RateLimit-Reset`, else one second.
fn wait_asked(headers: &reqwest::header::HeaderMap) -> Duration {
    let number = |name: &str| headers.get(name)?.to_str().ok()?.parse::<u64>().ok();
    if let Some(seconds) = number("retry-after") {
        return Duration::from_secs(seconds);
    }
    if let Some(reset) = number("x-ratelimit-reset") {
        let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
        return Duration::from_secs(reset).saturating_sub(now);
    }
    Duration::from_secs(1)
}
