//! The fake tenant's data and what each operation does to it, with Auth0's rules: ids,
//! conflicts, system grants, PATCH nulls, organization associations, filters and paging.
//! Nothing here knows about HTTP; `routes.rs` parses requests into these calls.

use std::collections::{BTreeMap, HashMap};

use axum::http::StatusCode;
use serde_json::{Map, Value};

use super::failure::Failure;
use crate::api::generated::types::{self, ClientGrant, Organization, OrganizationClientGrant};
use crate::api::models::{DefaultFor, OrganizationUsage, SubjectType};

/// How many client grants one organization may hold.
pub(crate) const MAX_GRANTS_PER_ORGANIZATION: usize = 100;

/// The fields a PATCH may send; the read-only ones (`id`, `client_id`, `audience`, …) are refused.
const UPDATABLE: [&str; 5] = [
    "scope",
    "organization_usage",
    "allow_any_organization",
    "allow_all_scopes",
    "authorization_details_types",
];

/// What Auth0 answers when `allow_all_scopes` is sent, even as `false`, for a system API.
const SYSTEM_API_ALL_SCOPES: &str = "allow_all_scopes cannot be provided when audience is a system API";

/// A body that breaks one of Auth0's rules about scopes: a 400 with Auth0's words.
fn bad_request(message: impl Into<String>) -> Failure {
    Failure {
        status: StatusCode::BAD_REQUEST,
        message: message.into(),
        error_code: None,
    }
}

/// Auth0's rules for the scopes of a grant being written: no scope twice, and `allow_all_scopes`
/// never beside listed scopes. `stored` is what the grant allows now: Auth0 checks listed scopes
/// against it too, which is why a grant goes back from every scope to listed ones in two
/// writes (`{"allow_all_scopes": false, "scope": []}`, then the scopes), as terraform does.
fn check_scopes(
    scope: Option<&[String]>,
    allow_all_scopes: Option<bool>,
    stored: bool,
) -> Result<(), Failure> {
    let scope = scope.unwrap_or_default();
    let mut seen = std::collections::HashSet::new();
    if let Some(twice) = scope.iter().find(|item| !seen.insert(item.as_str())) {
        return Err(Failure::invalid_body(format!("scope: {twice:?} is listed twice")));
    }
    if !scope.is_empty() && (allow_all_scopes == Some(true) || stored) {
        // Auth0's wording of this refusal is not recorded; its status is.
        return Err(bad_request(
            "scope cannot be provided when allow_all_scopes is true",
        ));
    }
    Ok(())
}

/// Whether `audience` is a system API, for which Auth0 refuses `allow_all_scopes`: the tenant's
/// own Management API (whose identifier is always `{origin}/api/v2/`; the fake serves one
/// tenant), or an API Auth0 holds system grants on.
fn is_system_api<'a>(audience: &str, mut grants: impl Iterator<Item = &'a ClientGrant>) -> bool {
    let management_api = url::Url::parse(audience)
        .is_ok_and(|url| url.path() == "/api/v2/" && url.query().is_none() && url.has_host());
    management_api || grants.any(|grant| grant.audience == audience && is_system(grant))
}

/// Which grants a list returns; every filter that is set must match.
#[derive(Debug, Default, Clone)]
pub(crate) struct GrantFilter {
    pub(crate) audience: Option<String>,
    pub(crate) client_id: Option<String>,
    pub(crate) allow_any_organization: bool,
    pub(crate) subject_type: Option<SubjectType>,
    pub(crate) default_for: Option<DefaultFor>,
    /// Only for the organization list: at most 10 ids, any of which may match.
    pub(crate) grant_ids: Vec<String>,
}

impl GrantFilter {
    fn matches(&self, grant: &ClientGrant) -> bool {
        self.audience
            .as_ref()
            .is_none_or(|audience| *audience == grant.audience)
            && self
                .client_id
                .as_ref()
                .is_none_or(|client_id| grant.client_id.as_ref() == Some(client_id))
            && (!self.allow_any_organization || grant.allow_any_organization == Some(true))
            && self
                .subject_type
                .as_ref()
                .is_none_or(|subject| subject_of(grant) == *subject)
            && self
                .default_for
                .as_ref()
                .is_none_or(|group| grant.default_for.as_ref() == Some(group))
            && (self.grant_ids.is_empty() || self.grant_ids.contains(&grant.id))
    }
}

/// How a list is cut into pages, and which of Auth0's three response shapes it takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Window {
    /// `page`/`per_page`: a bare JSON array.
    Offset { page: u64, per_page: u64 },
    /// `page`/`per_page` with `include_totals=true`: `{start, limit, total, <items>}`.
    OffsetWithTotals { page: u64, per_page: u64 },
    /// `from`/`take`: `{next, <items>}`; `next` is left out on the last page.
    Checkpoint { from: Option<String>, take: u64 },
}

/// Cuts `items` (sort key and item, in sort-key order) by `window`, and renders the response
/// with the items under `key`. A checkpoint cursor names the sort key of the next page's
/// first item, so it stays valid while items before it come and go.
pub(crate) fn render_page<T: serde::Serialize>(
    items: Vec<(String, T)>,
    window: &Window,
    key: &str,
) -> Result<Value, Failure> {
    let offset = |page: u64, per_page: u64, items: Vec<(String, T)>| -> (u64, Vec<T>) {
        let start = page.saturating_mul(per_page);
        let chosen = items
            .into_iter()
            .skip(usize::try_from(start).unwrap_or(usize::MAX))
            .take(usize::try_from(per_page).unwrap_or(usize::MAX))
            .map(|(_, item)| item)
            .collect();
        (start, chosen)
    };
    match window {
        Window::Offset { page, per_page } => Ok(Value::from_iter(
            offset(*page, *per_page, items)
                .1
                .into_iter()
                .map(|item| serde_json::to_value(item).expect("models serialize")),
        )),
        Window::OffsetWithTotals { page, per_page } => {
            let total = items.len();
            let (start, chosen) = offset(*page, *per_page, items);
            let mut response = Map::new();
            response.insert("start".into(), start.into());
            response.insert("limit".into(), (*per_page).into());
            response.insert("total".into(), total.into());
            response.insert(
                key.into(),
                serde_json::to_value(chosen).expect("models serialize"),
            );
            Ok(Value::Object(response))
        }
        Window::Checkpoint { from, take } => {
            let first = match from {
                None => 0,
                Some(cursor) => {
                    let position = decode_cursor(cursor)
                        .ok_or_else(|| Failure::invalid_query(format!("invalid from cursor {cursor:?}")))?;
                    items.partition_point(|(sort_key, _)| *sort_key < position)
                }
            };
            let take = usize::try_from(*take).unwrap_or(usize::MAX);
            let mut rest = items.into_iter().skip(first);
            let chosen: Vec<T> = rest.by_ref().take(take).map(|(_, item)| item).collect();
            let mut response = Map::new();
            response.insert(
                key.into(),
                serde_json::to_value(chosen).expect("models serialize"),
            );
            if let Some((sort_key, _)) = rest.next() {
                response.insert("next".into(), encode_cursor(&sort_key).into());
            }
            Ok(Value::Object(response))
        }
    }
}

/// Cursors are opaque to clients, as Auth0's are: base64 of the first item's sort key.
fn encode_cursor(sort_key: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(sort_key)
}

fn decode_cursor(cursor: &str) -> Option<String> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(cursor)
        .ok()?;
    String::from_utf8(bytes).ok()
}

/// A grant's subject type; Auth0 treats an absent one as `client`.
fn subject_of(grant: &ClientGrant) -> SubjectType {
    grant.subject_type.clone().unwrap_or(SubjectType::Client)
}

/// Whether Auth0 manages the grant, which refuses changes to it; an absent `is_system` means it
/// does not.
fn is_system(grant: &ClientGrant) -> bool {
    grant.is_system == Some(true)
}

#[derive(Debug)]
struct StoredOrganization {
    organization: Organization,
    /// Associated grant ids, oldest first.
    grants: Vec<String>,
}

/// Everything the fake tenant holds.
#[derive(Debug, Default)]
pub(crate) struct Store {
    /// Grants by a sort key that grows with creation, so lists keep creation order and a
    /// checkpoint cursor stays valid while grants are added and deleted.
    grants: BTreeMap<String, ClientGrant>,
    sort_key_of: HashMap<String, String>,
    created: u64,
    organizations: BTreeMap<String, StoredOrganization>,
}

impl Store {
    pub(crate) fn grants(&self) -> Vec<ClientGrant> {
        self.grants.values().cloned().collect()
    }

    /// Stores `grant` as it is (seeding, system grants), with a new id when it has none.
    pub(crate) fn insert(&mut self, mut grant: ClientGrant) -> ClientGrant {
        if grant.id.is_empty() {
            grant.id = new_id("cgr_");
        }
        self.created += 1;
        let sort_key = format!("{:020}", self.created);
        self.sort_key_of.insert(grant.id.clone(), sort_key.clone());
        self.grants.insert(sort_key, grant.clone());
        grant
    }

    pub(crate) fn add_organization(&mut self, name: &str, display_name: Option<&str>) -> Organization {
        let organization = Organization::builder()
            .id(new_id("org_"))
            .name(Some(name.to_owned()))
            .display_name(display_name.map(str::to_owned));
        self.insert_organization(organization.try_into().expect("the id is set"))
    }

    /// Stores `organization` as it is; an empty `id` gets a new one.
    pub(crate) fn insert_organization(&mut self, mut organization: Organization) -> Organization {
        if organization.id.is_empty() {
            organization.id = new_id("org_");
        }
        self.organizations.insert(
            organization.id.clone(),
            StoredOrganization {
                organization: organization.clone(),
                grants: Vec::new(),
            },
        );
        organization
    }

    pub(crate) fn get(&self, id: &str) -> Result<&ClientGrant, Failure> {
        self.sort_key_of
            .get(id)
            .and_then(|key| self.grants.get(key))
            .ok_or_else(Failure::grant_not_found)
    }

    fn get_mut(&mut self, id: &str) -> Result<&mut ClientGrant, Failure> {
        self.sort_key_of
            .get(id)
            .and_then(|key| self.grants.get_mut(key))
            .ok_or_else(Failure::grant_not_found)
    }

    /// `POST /client-grants`.
    pub(crate) fn create(&mut self, body: Value) -> Result<ClientGrant, Failure> {
        // The generated request type holds the spec's rules: required fields, lengths, no
        // unknown properties.
        let request: types::CreateClientGrantRequestContent =
            serde_json::from_value(body).map_err(|error| Failure::invalid_body(error.to_string()))?;
        match (&request.client_id, &request.default_for) {
            (Some(_), Some(_)) => {
                return Err(Failure::invalid_body("default_for cannot be used with client_id"));
            }
            (None, None) => {
                return Err(Failure::invalid_body(
                    "one of client_id or default_for is required",
                ));
            }
            _ => {}
        }
        check_scopes(
            Some(
                &request
                    .scope
                    .iter()
                    .map(|scope| scope.to_string())
                    .collect::<Vec<_>>(),
            ),
            request.allow_all_scopes,
            false,
        )?;
        if request.allow_all_scopes.is_some() && is_system_api(&request.audience, self.grants.values()) {
            return Err(bad_request(SYSTEM_API_ALL_SCOPES));
        }
        // A grant is what was asked for, with what only Auth0 sets; read through JSON, so that a
        // field Auth0 adds to both is kept with no line here.
        let mut fields = serde_json::to_value(&request).unwrap_or_default();
        fields["id"] = "".into();
        fields["subject_type"] =
            serde_json::to_value(request.subject_type.clone().unwrap_or(SubjectType::Client))
                .unwrap_or_default();
        let grant: ClientGrant =
            serde_json::from_value(fields).map_err(|error| Failure::invalid_body(error.to_string()))?;
        let duplicate = self.grants.values().any(|existing| {
            existing.client_id == grant.client_id
                && existing.default_for == grant.default_for
                && existing.audience == grant.audience
                && subject_of(existing) == subject_of(&grant)
        });
        if duplicate {
            return Err(Failure::conflict("client_grant already exists"));
        }
        Ok(self.insert(grant))
    }

    /// `PATCH /client-grants/{id}`: `null` resets a field to Auth0's default.
    pub(crate) fn update(&mut self, id: &str, body: Value) -> Result<ClientGrant, Failure> {
        let Value::Object(fields) = body else {
            return Err(Failure::invalid_body("Expected type object"));
        };
        if fields.is_empty() {
            return Err(Failure::invalid_body("Too few properties defined (0), minimum 1"));
        }
        if let Some(field) = fields.keys().find(|field| !UPDATABLE.contains(&field.as_str())) {
            return Err(Failure::invalid_body(format!(
                "Additional properties not allowed: {field}"
            )));
        }
        let changes = Changes::parse(&fields)?;
        let grant = self.get(id)?;
        if is_system(grant) {
            return Err(Failure::system_grant());
        }
        if changes.allow_all_scopes.is_some() && is_system_api(&grant.audience, self.grants.values()) {
            return Err(bad_request(SYSTEM_API_ALL_SCOPES));
        }
        check_scopes(
            changes.scope.as_ref().and_then(Option::as_deref),
            changes.allow_all_scopes.flatten(),
            grant.allow_all_scopes == Some(true),
        )?;
        let grant = self.get_mut(id)?;
        changes.apply(grant);
        Ok(grant.clone())
    }

    /// `DELETE /client-grants/{id}`: also a success when the grant is already gone.
    pub(crate) fn delete(&mut self, id: &str) -> Result<(), Failure> {
        let Some(sort_key) = self.sort_key_of.get(id).cloned() else {
            return Ok(());
        };
        if is_system(&self.grants[&sort_key]) {
            return Err(Failure::system_grant());
        }
        self.grants.remove(&sort_key);
        self.sort_key_of.remove(id);
        for organization in self.organizations.values_mut() {
            organization.grants.retain(|grant| grant != id);
        }
        Ok(())
    }

    /// `GET /client-grants`.
    pub(crate) fn list(&self, filter: &GrantFilter, window: &Window) -> Result<Value, Failure> {
        let items = match window {
            // A checkpoint page needs only its own items and the next one's key: walking a
            // large tenant page by page then costs a page each time, not the whole tenant.
            Window::Checkpoint { from, take } => {
                let start = from.as_deref().and_then(decode_cursor).unwrap_or_default();
                let needed = usize::try_from(*take).unwrap_or(usize::MAX).saturating_add(1);
                self.grants
                    .range(start..)
                    .filter(|(_, grant)| filter.matches(grant))
                    .take(needed)
                    .map(|(key, grant)| (key.clone(), grant))
                    .collect()
            }
            _ => self
                .grants
                .iter()
                .filter(|(_, grant)| filter.matches(grant))
                .map(|(key, grant)| (key.clone(), grant))
                .collect(),
        };
        render_page(items, window, "client_grants")
    }

    /// `GET /client-grants/{id}/organizations`, in order of organization id.
    pub(crate) fn organizations_of(&self, grant_id: &str, window: &Window) -> Result<Value, Failure> {
        self.get(grant_id)?;
        let items = self
            .organizations
            .iter()
            .filter(|(_, stored)| stored.grants.iter().any(|grant| grant == grant_id))
            .map(|(id, stored)| (id.clone(), &stored.organization))
            .collect();
        render_page(items, window, "organizations")
    }

    fn organization(&self, id: &str) -> Result<&StoredOrganization, Failure> {
        self.organizations
            .get(id)
            .ok_or_else(Failure::organization_not_found)
    }

    /// `GET /organizations/{id}/client-grants`, oldest association first.
    pub(crate) fn organization_grants(
        &self,
        organization_id: &str,
        filter: &GrantFilter,
        window: &Window,
    ) -> Result<Value, Failure> {
        let organization = self.organization(organization_id)?;
        let items = organization
            .grants
            .iter()
            .enumerate()
            .filter_map(|(position, id)| Some((position, self.get(id).ok()?)))
            .filter(|(_, grant)| filter.matches(grant))
            .map(|(position, grant)| (format!("{position:020}"), organization_grant(grant)))
            .collect();
        render_page(items, window, "client_grants")
    }

    /// `POST /organizations/{id}/client-grants`.
    pub(crate) fn associate(&mut self, organization_id: &str, body: Value) -> Result<Value, Failure> {
        let request: types::AssociateOrganizationClientGrantRequestContent =
            serde_json::from_value(body).map_err(|error| Failure::invalid_body(error.to_string()))?;
        let grant = self.get(&request.grant_id)?.clone();
        let organization = self
            .organizations
            .get_mut(organization_id)
            .ok_or_else(Failure::organization_not_found)?;
        if organization.grants.contains(&grant.id) {
            return Err(Failure::conflict(
                "The client grant is already associated with the organization.",
            ));
        }
        if organization.grants.len() >= MAX_GRANTS_PER_ORGANIZATION {
            return Err(Failure::conflict(format!(
                "An organization can have at most {MAX_GRANTS_PER_ORGANIZATION} client grants."
            )));
        }
        organization.grants.push(grant.id.clone());
        // The live API names the grant `grant_id` here, not `id` as the spec says.
        let mut response = serde_json::to_value(organization_grant(&grant)).expect("models serialize");
        let fields = response.as_object_mut().expect("a grant is an object");
        let id = fields.remove("id").expect("a grant has an id");
        fields.remove("subject_type");
        fields.insert("grant_id".into(), id);
        Ok(response)
    }

    /// `DELETE /organizations/{id}/client-grants/{grant_id}`.
    pub(crate) fn dissociate(&mut self, organization_id: &str, grant_id: &str) -> Result<(), Failure> {
        self.organization(organization_id)?;
        let organization = self
            .organizations
            .get_mut(organization_id)
            .expect("checked above");
        organization.grants.retain(|grant| grant != grant_id);
        Ok(())
    }
}

/// A grant as an organization's list shows it (with `subject_type`, as the live API sends).
fn organization_grant(grant: &ClientGrant) -> OrganizationClientGrant {
    // Through JSON: the fields the two share (those Auth0 adds to both included) carry over.
    let mut fields = serde_json::to_value(grant).unwrap_or_default();
    fields["subject_type"] = serde_json::to_value(subject_of(grant)).unwrap_or_default();
    serde_json::from_value(fields).expect("a grant has every field an organization's grant needs")
}

/// One PATCH body, read field by field: absent, `null` (reset) or a value.
#[derive(Debug, Default)]
struct Changes {
    scope: Option<Option<Vec<String>>>,
    organization_usage: Option<Option<OrganizationUsage>>,
    allow_any_organization: Option<Option<bool>>,
    allow_all_scopes: Option<Option<bool>>,
    authorization_details_types: Option<Vec<String>>,
}

impl Changes {
    fn parse(fields: &Map<String, Value>) -> Result<Self, Failure> {
        fn field<T: serde::de::DeserializeOwned>(
            fields: &Map<String, Value>,
            name: &str,
        ) -> Result<Option<T>, Failure> {
            fields
                .get(name)
                .map(|value| {
                    serde_json::from_value(value.clone())
                        .map_err(|error| Failure::invalid_body(format!("{name}: {error}")))
                })
                .transpose()
        }
        let changes = Self {
            scope: field(fields, "scope")?,
            organization_usage: field(fields, "organization_usage")?,
            allow_any_organization: field(fields, "allow_any_organization")?,
            allow_all_scopes: field(fields, "allow_all_scopes")?,
            authorization_details_types: field(fields, "authorization_details_types")?,
        };
        let lengths = |name: &str, items: &[String], max: usize| {
            items
                .iter()
                .find(|item| item.is_empty() || item.chars().count() > max)
                .map_or(Ok(()), |item| {
                    Err(Failure::invalid_body(format!(
                        "{name}: {item:?} must be 1 to {max} characters"
                    )))
                })
        };
        if let Some(Some(scope)) = &changes.scope {
            lengths("scope", scope, 280)?;
        }
        if let Some(types) = &changes.authorization_details_types {
            lengths("authorization_details_types", types, 255)?;
        }
        if let Some(Some(OrganizationUsage::Unknown(value))) = &changes.organization_usage {
            return Err(Failure::invalid_body(format!(
                "organization_usage: {value:?} is not one of deny, allow, require"
            )));
        }
        Ok(changes)
    }

    fn apply(self, grant: &mut ClientGrant) {
        if let Some(scope) = self.scope {
            grant.scope = scope.unwrap_or_default();
        }
        if let Some(usage) = self.organization_usage {
            grant.organization_usage = usage;
        }
        if let Some(allow) = self.allow_any_organization {
            grant.allow_any_organization = allow;
        }
        if let Some(allow) = self.allow_all_scopes {
            grant.allow_all_scopes = allow;
        }
        if let Some(types) = self.authorization_details_types {
            grant.authorization_details_types = types;
        }
    }
}

/// `prefix` and 16 random alphanumerics, the shape of Auth0's ids (`cgr_1knWIGy7bcAfm7DZ`).
pub(crate) fn new_id(prefix: &str) -> String {
    let mut id = String::with_capacity(prefix.len() + 16);
    id.push_str(prefix);
    id.extend(std::iter::repeat_with(fastrand::alphanumeric).take(16));
    id
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn created(store: &mut Store, client_id: &str, audience: &str) -> ClientGrant {
        store
            .create(json!({"client_id": client_id, "audience": audience, "scope": ["read:x"]}))
            .unwrap()
    }

    #[test]
    fn ids_look_like_auth0_ids() {
        let id = new_id("cgr_");
        assert_eq!(id.len(), 20);
        assert!(id.starts_with("cgr_"));
        assert!(id[4..].chars().all(|c| c.is_ascii_alphanumeric()), "{id}");
    }

    #[test]
    fn a_second_grant_for_the_same_client_audience_and_subject_type_conflicts() {
        let mut store = Store::default();
        created(&mut store, "app", "https://api/");
        let again = store.create(json!({"client_id": "app", "audience": "https://api/"}));
        assert_eq!(again.unwrap_err().status, 409);
        let for_users =
            store.create(json!({"client_id": "app", "audience": "https://api/", "subject_type": "user"}));
        assert!(for_users.is_ok(), "{for_users:?}");
    }

    #[test]
    fn patch_nulls_reset_and_read_only_fields_are_refused() {
        let mut store = Store::default();
        let grant = created(&mut store, "app", "https://api/");
        let updated = store
            .update(
                &grant.id,
                json!({"scope": null, "organization_usage": "allow", "authorization_details_types": []}),
            )
            .unwrap();
        assert!(updated.scope.is_empty());
        assert_eq!(updated.organization_usage, Some(OrganizationUsage::Allow));
        let reset = store
            .update(&grant.id, json!({"organization_usage": null}))
            .unwrap();
        assert_eq!(reset.organization_usage, None);
        for refused in [json!({}), json!({"audience": "x"}), json!({"scope": [""]})] {
            assert_eq!(store.update(&grant.id, refused).unwrap_err().status, 400);
        }
    }

    #[test]
    fn system_grants_cannot_be_changed_or_deleted() {
        let mut store = Store::default();
        let mut system = created(&mut store, "app", "https://api/");
        system.id = String::new();
        system.is_system = Some(true);
        system.audience = "https://system/".into();
        let system = store.insert(system);
        assert_eq!(
            store.update(&system.id, json!({"scope": []})).unwrap_err().status,
            403
        );
        assert_eq!(store.delete(&system.id).unwrap_err().status, 403);
        assert!(store.delete("cgr_gone").is_ok());
    }

    #[test]
    fn checkpoint_pages_walk_every_grant_once_even_when_one_is_deleted_between_pages() {
        let mut store = Store::default();
        let ids: Vec<String> = (0..5)
            .map(|n| created(&mut store, &format!("app{n}"), "https://api/").id)
            .collect();
        let page = |store: &Store, from: Option<String>| {
            store
                .list(&GrantFilter::default(), &Window::Checkpoint { from, take: 2 })
                .unwrap()
        };
        let first = page(&store, None);
        store.delete(&ids[1]).unwrap();
        let next = first["next"].as_str().unwrap().to_owned();
        let second = page(&store, Some(next));
        let third = page(&store, Some(second["next"].as_str().unwrap().to_owned()));
        let seen: Vec<&str> = [&first, &second, &third]
            .iter()
            .flat_map(|page| page["client_grants"].as_array().unwrap())
            .map(|grant| grant["id"].as_str().unwrap())
            .collect();
        assert_eq!(seen, [&ids[0], &ids[1], &ids[2], &ids[3], &ids[4]]);
        assert!(third.get("next").is_none(), "{third}");
    }

    #[test]
    fn offset_pages_report_totals_and_bare_pages_are_arrays() {
        let mut store = Store::default();
        for n in 0..3 {
            created(&mut store, &format!("app{n}"), "https://api/");
        }
        let totals = store
            .list(
                &GrantFilter::default(),
                &Window::OffsetWithTotals { page: 1, per_page: 2 },
            )
            .unwrap();
        assert_eq!(totals["start"], 2);
        assert_eq!(totals["limit"], 2);
        assert_eq!(totals["total"], 3);
        assert_eq!(totals["client_grants"].as_array().unwrap().len(), 1);
        let bare = store
            .list(&GrantFilter::default(), &Window::Offset { page: 0, per_page: 2 })
            .unwrap();
        assert_eq!(bare.as_array().unwrap().len(), 2);
    }

    #[test]
    fn associations_conflict_when_repeated_and_stop_at_one_hundred() {
        let mut store = Store::default();
        let organization = store.add_organization("acme", None);
        let grants: Vec<ClientGrant> = (0..=MAX_GRANTS_PER_ORGANIZATION)
            .map(|n| created(&mut store, &format!("app{n}"), "https://api/"))
            .collect();
        let response = store
            .associate(&organization.id, json!({"grant_id": grants[0].id}))
            .unwrap();
        assert_eq!(response["grant_id"], grants[0].id.as_str());
        assert!(response.get("id").is_none());
        let again = store.associate(&organization.id, json!({"grant_id": grants[0].id}));
        assert_eq!(again.unwrap_err().status, 409);
        for grant in &grants[1..MAX_GRANTS_PER_ORGANIZATION] {
            store
                .associate(&organization.id, json!({"grant_id": grant.id}))
                .unwrap();
        }
        let over = store.associate(
            &organization.id,
            json!({"grant_id": grants[MAX_GRANTS_PER_ORGANIZATION].id}),
        );
        assert_eq!(over.unwrap_err().status, 409);
        let unknown = store.associate("org_missing", json!({"grant_id": grants[0].id}));
        assert_eq!(unknown.unwrap_err().status, 404);
    }
}
