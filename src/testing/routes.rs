//! The fake tenant's HTTP surface: `POST /oauth/token`, the nine client-grant operations and
//! the two read-only lookups under `/api/v2`, each checking its token and scope, parsing its query as
//! Auth0 does (unknown parameters and out-of-range values are refused) and calling the store.

use std::sync::Arc;

use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde_json::{Value, json};

use super::directory::{ClientFilter, Fields};
use super::failure::Failure;
use super::faults;
use super::store::{GrantFilter, Window};
use super::{RecordedRequest, Tenant};
use crate::api::models::{DefaultFor, SubjectType};

/// The largest page Auth0 serves (`per_page`, `take`).
const MAX_PAGE_SIZE: u64 = 100;
/// The page size when a list does not say.
const DEFAULT_PAGE_SIZE: u64 = 50;
/// The longest organization id Auth0 accepts in a path.
const MAX_ORGANIZATION_ID: usize = 50;
/// The longest `audience` filter of the organization list.
const MAX_AUDIENCE_FILTER: usize = 600;
/// The most `grant_ids` one organization list may ask for.
const MAX_GRANT_IDS: usize = 10;

pub(crate) fn router(tenant: Arc<Tenant>) -> axum::Router {
    let api = axum::Router::new()
        .route("/client-grants", get(list_grants).post(create_grant))
        .route(
            "/client-grants/{id}",
            get(get_grant).patch(update_grant).delete(delete_grant),
        )
        .route("/client-grants/{id}/organizations", get(grant_organizations))
        .route(
            "/organizations/{id}/client-grants",
            get(organization_grants).post(associate),
        )
        .route(
            "/organizations/{id}/client-grants/{grant_id}",
            axum::routing::delete(dissociate),
        )
        .route("/clients", get(list_clients))
        .route("/resource-servers/{id}", get(get_resource_server))
        .fallback(|| async { Failure::not_found_route() })
        .layer(middleware::from_fn_with_state(tenant.clone(), faults::gate));
    axum::Router::new()
        .nest("/api/v2", api)
        .route(
            "/oauth/token",
            post(issue_token).layer(middleware::from_fn_with_state(tenant.clone(), faults::token_gate)),
        )
        .fallback(|| async { Failure::not_found_route() })
        .layer(middleware::from_fn_with_state(tenant.clone(), record))
        .layer(middleware::from_fn_with_state(tenant.clone(), faults::latency))
        .with_state(tenant)
}

/// Keeps a log entry of every request (never a token or a secret) and the status answered.
async fn record(State(tenant): State<Arc<Tenant>>, request: Request, next: Next) -> Response {
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, usize::MAX).await else {
        return Failure::invalid_body("the body could not be read").into_response();
    };
    let is_token_request = parts.uri.path() == "/oauth/token";
    let index = tenant.log(RecordedRequest {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().map(str::to_owned),
        body: if is_token_request {
            None
        } else {
            serde_json::from_slice(&bytes).ok()
        },
        status: None,
    });
    let response = next.run(Request::from_parts(parts, Body::from(bytes))).await;
    tenant.log_status(index, response.status().as_u16());
    response
}

/// `POST /oauth/token` with the client-credentials grant, as JSON or a form.
async fn issue_token(State(tenant): State<Arc<Tenant>>, headers: HeaderMap, body: Bytes) -> Response {
    let is_form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
    let fields: Option<serde_json::Map<String, Value>> = if is_form {
        Some(
            url::form_urlencoded::parse(&body)
                .map(|(name, value)| (name.into_owned(), Value::String(value.into_owned())))
                .collect(),
        )
    } else {
        serde_json::from_slice(&body).ok()
    };
    let field = |name: &str| {
        fields
            .as_ref()
            .and_then(|fields| fields.get(name))
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    };
    let refuse = |status: StatusCode, error: &str, description: &str| {
        (
            status,
            Json(json!({"error": error, "error_description": description})),
        )
            .into_response()
    };
    if field("grant_type") != "client_credentials" {
        return refuse(
            StatusCode::FORBIDDEN,
            "unauthorized_client",
            "Grant type not allowed for the client.",
        );
    }
    if field("client_id") != tenant.settings.client_id
        || field("client_secret") != tenant.settings.client_secret
    {
        return refuse(StatusCode::UNAUTHORIZED, "access_denied", "Unauthorized");
    }
    if field("audience") != tenant.audience() {
        return refuse(
            StatusCode::FORBIDDEN,
            "access_denied",
            &format!("Service not enabled within domain: {}", field("audience")),
        );
    }
    let scopes = tenant.settings.scopes.clone();
    let (token, expires_in) = tenant.issue_token(scopes.clone());
    Json(json!({
        "access_token": token,
        "token_type": "Bearer",
        "expires_in": expires_in,
        "scope": scopes.join(" "),
    }))
    .into_response()
}

/// The token of the request must be one the tenant issued, unexpired, carrying `scope`.
fn authorize(tenant: &Tenant, headers: &HeaderMap, scope: &str) -> Result<(), Failure> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| Failure::unauthorized("Missing authentication"))?;
    tenant.check_token(token, scope)
}

/// The token must carry one of `scopes`; without any, the 403 names the first.
fn authorize_any(tenant: &Tenant, headers: &HeaderMap, scopes: &[&str]) -> Result<(), Failure> {
    let mut first = None;
    for scope in scopes {
        match authorize(tenant, headers, scope) {
            Ok(()) => return Ok(()),
            Err(failure) => {
                first.get_or_insert(failure);
            }
        }
    }
    Err(first.unwrap_or_else(|| Failure::insufficient_scope("")))
}

/// The query string as Auth0 validates it: only the parameters the operation knows.
struct Query(Vec<(String, String)>);

impl Query {
    fn parse(raw: Option<&str>, known: &[&str]) -> Result<Self, Failure> {
        let pairs: Vec<(String, String)> = url::form_urlencoded::parse(raw.unwrap_or_default().as_bytes())
            .into_owned()
            .collect();
        if let Some((name, _)) = pairs.iter().find(|(name, _)| !known.contains(&name.as_str())) {
            return Err(Failure::invalid_query(format!(
                "Additional properties not allowed: {name}"
            )));
        }
        Ok(Self(pairs))
    }

    fn one(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(key, _)| key == name)
            .flat_map(|(_, value)| value.split(','))
            .map(str::to_owned)
            .collect()
    }

    /// A parameter that must be one of `known`, if present.
    fn known(&self, name: &str, known: &[&str]) -> Result<Option<&str>, Failure> {
        match self.one(name) {
            Some(value) if !known.contains(&value) => Err(Failure::invalid_query(format!(
                "{name} must be one of {known:?}, got {value:?}"
            ))),
            value => Ok(value),
        }
    }

    fn number(&self, name: &str, min: u64, max: u64) -> Result<Option<u64>, Failure> {
        self.one(name)
            .map(|value| {
                value
                    .parse::<u64>()
                    .ok()
                    .filter(|number| (min..=max).contains(number))
                    .ok_or_else(|| {
                        Failure::invalid_query(format!(
                            "{name} must be an integer from {min} to {max}, got {value:?}"
                        ))
                    })
            })
            .transpose()
    }

    fn flag(&self, name: &str) -> Result<bool, Failure> {
        match self.one(name) {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(other) => Err(Failure::invalid_query(format!(
                "{name} must be true or false, got {other:?}"
            ))),
        }
    }

    /// `page`/`per_page`/`include_totals`, or `from`/`take` where the list has them.
    fn window(&self) -> Result<Window, Failure> {
        let take = self.number("take", 1, MAX_PAGE_SIZE)?;
        let from = self.one("from").map(str::to_owned);
        if take.is_some() || from.is_some() {
            return Ok(Window::Checkpoint {
                from,
                take: take.unwrap_or(DEFAULT_PAGE_SIZE),
            });
        }
        let page = self.number("page", 0, u64::from(u32::MAX))?.unwrap_or(0);
        let per_page = self
            .number("per_page", 1, MAX_PAGE_SIZE)?
            .unwrap_or(DEFAULT_PAGE_SIZE);
        Ok(if self.flag("include_totals")? {
            Window::OffsetWithTotals { page, per_page }
        } else {
            Window::Offset { page, per_page }
        })
    }
}

fn json_body(body: &Bytes) -> Result<Value, Failure> {
    serde_json::from_slice(body)
        .map_err(|error| Failure::invalid_body(format!("the body is not JSON: {error}")))
}

fn organization_id(id: &str) -> Result<(), Failure> {
    if id.chars().count() > MAX_ORGANIZATION_ID {
        return Err(Failure::invalid_path(format!(
            "id must be at most {MAX_ORGANIZATION_ID} characters"
        )));
    }
    Ok(())
}

type Handled = Result<Response, Failure>;

async fn list_grants(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Handled {
    authorize(&tenant, &headers, "read:client_grants")?;
    let query = Query::parse(
        raw.as_deref(),
        &[
            "per_page",
            "page",
            "include_totals",
            "from",
            "take",
            "audience",
            "client_id",
            "allow_any_organization",
            "subject_type",
            "default_for",
        ],
    )?;
    // Auth0 accepts only `true` for this filter.
    let allow_any_organization = query.known("allow_any_organization", &["true"])?.is_some();
    let subject_type = query
        .known("subject_type", SubjectType::KNOWN)?
        .map(SubjectType::from);
    let default_for = query
        .known("default_for", DefaultFor::KNOWN)?
        .map(DefaultFor::from);
    let filter = GrantFilter {
        audience: query.one("audience").map(str::to_owned),
        client_id: query.one("client_id").map(str::to_owned),
        allow_any_organization,
        subject_type,
        default_for,
        grant_ids: Vec::new(),
    };
    if filter.client_id.is_some() && filter.default_for.is_some() {
        return Err(Failure::invalid_query(
            "default_for cannot be used with client_id",
        ));
    }
    let response = tenant.store().list(&filter, &query.window()?)?;
    Ok(Json(response).into_response())
}

async fn create_grant(State(tenant): State<Arc<Tenant>>, headers: HeaderMap, body: Bytes) -> Handled {
    authorize(&tenant, &headers, "create:client_grants")?;
    let grant = tenant.store().create(json_body(&body)?)?;
    Ok((StatusCode::CREATED, Json(grant)).into_response())
}

async fn get_grant(State(tenant): State<Arc<Tenant>>, headers: HeaderMap, Path(id): Path<String>) -> Handled {
    authorize(&tenant, &headers, "read:client_grants")?;
    let grant = tenant.store().get(&id)?.clone();
    Ok(Json(grant).into_response())
}

async fn update_grant(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Handled {
    authorize(&tenant, &headers, "update:client_grants")?;
    let grant = tenant.store().update(&id, json_body(&body)?)?;
    Ok(Json(grant).into_response())
}

async fn delete_grant(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Handled {
    authorize(&tenant, &headers, "delete:client_grants")?;
    tenant.store().delete(&id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn grant_organizations(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Handled {
    authorize(&tenant, &headers, "read:organization_client_grants")?;
    let query = Query::parse(
        raw.as_deref(),
        &["page", "per_page", "include_totals", "from", "take"],
    )?;
    let response = tenant.store().organizations_of(&id, &query.window()?)?;
    Ok(Json(response).into_response())
}

async fn organization_grants(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Handled {
    authorize(&tenant, &headers, "read:organization_client_grants")?;
    organization_id(&id)?;
    let query = Query::parse(
        raw.as_deref(),
        &[
            "audience",
            "client_id",
            "grant_ids",
            "page",
            "per_page",
            "include_totals",
        ],
    )?;
    let audience = query.one("audience").map(str::to_owned);
    if audience
        .as_ref()
        .is_some_and(|audience| audience.chars().count() > MAX_AUDIENCE_FILTER)
    {
        return Err(Failure::invalid_query(format!(
            "audience must be at most {MAX_AUDIENCE_FILTER} characters"
        )));
    }
    let grant_ids = query.all("grant_ids");
    if grant_ids.len() > MAX_GRANT_IDS {
        return Err(Failure::invalid_query(format!(
            "grant_ids must hold at most {MAX_GRANT_IDS} ids, got {}",
            grant_ids.len()
        )));
    }
    let filter = GrantFilter {
        audience,
        client_id: query.one("client_id").map(str::to_owned),
        grant_ids,
        ..GrantFilter::default()
    };
    let response = tenant
        .store()
        .organization_grants(&id, &filter, &query.window()?)?;
    Ok(Json(response).into_response())
}

async fn associate(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Handled {
    authorize(&tenant, &headers, "create:organization_client_grants")?;
    organization_id(&id)?;
    let response = tenant.store().associate(&id, json_body(&body)?)?;
    Ok((StatusCode::CREATED, Json(response)).into_response())
}

async fn dissociate(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path((id, grant_id)): Path<(String, String)>,
) -> Handled {
    authorize(&tenant, &headers, "delete:organization_client_grants")?;
    organization_id(&id)?;
    tenant.store().dissociate(&id, &grant_id)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

async fn list_clients(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    RawQuery(raw): RawQuery,
) -> Handled {
    // Auth0 lists applications for any of these; with read:client_summary only a few fields.
    authorize_any(
        &tenant,
        &headers,
        &["read:clients", "read:client_keys", "read:client_summary"],
    )?;
    let query = Query::parse(
        raw.as_deref(),
        &[
            "fields",
            "include_fields",
            "page",
            "per_page",
            "include_totals",
            "from",
            "take",
            "is_first_party",
            "app_type",
        ],
    )?;
    let filter = ClientFilter {
        is_first_party: query
            .known("is_first_party", &["true", "false"])?
            .map(|value| value == "true"),
        app_types: query.all("app_type"),
    };
    let fields = Fields {
        names: query.all("fields"),
        // Auth0 includes the named fields unless told otherwise.
        include: query.known("include_fields", &["true", "false"])? != Some("false"),
    };
    let response = tenant
        .directory()
        .list_clients(&filter, &fields, &query.window()?)?;
    Ok(Json(response).into_response())
}

async fn get_resource_server(
    State(tenant): State<Arc<Tenant>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Handled {
    authorize(&tenant, &headers, "read:resource_servers")?;
    Query::parse(raw.as_deref(), &["include_fields"])?;
    let api = tenant.directory().api(&id)?.clone();
    Ok(Json(api).into_response())
}
