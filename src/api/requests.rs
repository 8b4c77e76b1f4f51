//! What callers send: [`NewClientGrant`] for a create, [`ClientGrantUpdate`] for a PATCH.
//! Both are checked against the API's limits and then turned into the generated request
//! bodies, which carry exactly the fields the caller set.

use crate::api::generated::types;
use crate::api::models::{DefaultFor, OrganizationUsage, SubjectType};
use crate::api::validate::{built, convert, item_lengths, no_duplicates};
use crate::error::Error;

/// Scope items: 1 to 280 characters.
const SCOPE_LENGTH: (usize, usize) = (1, 280);
/// `authorization_details_types` items: 1 to 255 characters.
const AUTHORIZATION_DETAILS_TYPE_LENGTH: (usize, usize) = (1, 255);

/// A client grant to create, for [`ClientGrants::create`](crate::ClientGrants::create).
///
/// ```
/// use auth0_client_grants::{NewClientGrant, OrganizationUsage};
///
/// let grant = NewClientGrant::new("CLIENT_ID", "https://api.example.com/")
///     .scope(["read:things", "write:things"])
///     .organization_usage(OrganizationUsage::Allow);
/// # let _ = grant;
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct NewClientGrant {
    client_id: Option<String>,
    default_for: Option<DefaultFor>,
    audience: String,
    scope: Vec<String>,
    organization_usage: Option<OrganizationUsage>,
    allow_any_organization: Option<bool>,
    subject_type: Option<SubjectType>,
    authorization_details_types: Vec<String>,
    allow_all_scopes: Option<bool>,
}

impl NewClientGrant {
    /// A grant letting the application `client_id` call the API `audience`.
    pub fn new(client_id: impl Into<String>, audience: impl Into<String>) -> Self {
        Self::with_owner(Some(client_id.into()), None, audience.into())
    }

    /// A grant that is the default for a group of clients (such as all third-party clients)
    /// instead of one client; per-client grants for the same audience take precedence.
    pub fn default_for(group: DefaultFor, audience: impl Into<String>) -> Self {
        Self::with_owner(None, Some(group), audience.into())
    }

    fn with_owner(client_id: Option<String>, default_for: Option<DefaultFor>, audience: String) -> Self {
        Self {
            client_id,
            default_for,
            audience,
            scope: Vec::new(),
            organization_usage: None,
            allow_any_organization: None,
            subject_type: None,
            authorization_details_types: Vec::new(),
            allow_all_scopes: None,
        }
    }

    /// The scopes granted (each 1 to 280 characters, none twice; none when
    /// [`allow_all_scopes`](Self::allow_all_scopes) is `true`).
    #[must_use]
    pub fn scope<S: Into<String>>(mut self, scope: impl IntoIterator<Item = S>) -> Self {
        self.scope = scope.into_iter().map(Into::into).collect();
        self
    }

    /// Whether organizations may or must be used with this grant.
    #[must_use]
    pub fn organization_usage(mut self, usage: OrganizationUsage) -> Self {
        self.organization_usage = Some(usage);
        self
    }

    /// Whether any organization may be used, instead of only those the grant is associated with.
    #[must_use]
    pub fn allow_any_organization(mut self, allow: bool) -> Self {
        self.allow_any_organization = Some(allow);
        self
    }

    /// The kind of access: a machine-to-machine `Client` grant or a `User` grant.
    #[must_use]
    pub fn subject_type(mut self, subject_type: SubjectType) -> Self {
        self.subject_type = Some(subject_type);
        self
    }

    /// The `authorization_details` types allowed (each 1 to 255 characters).
    #[must_use]
    pub fn authorization_details_types<S: Into<String>>(
        mut self,
        types: impl IntoIterator<Item = S>,
    ) -> Self {
        self.authorization_details_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// Whether every scope of the API is allowed; `true` needs an empty `scope`. Leave it unset
    /// for a system API (the Management API), which refuses the field even as `false`.
    #[must_use]
    pub fn allow_all_scopes(mut self, allow: bool) -> Self {
        self.allow_all_scopes = Some(allow);
        self
    }

    /// The generated request body, or the first limit this grant breaks.
    pub(crate) fn to_body(&self) -> Result<types::CreateClientGrantRequestContent, Error> {
        if let Some(client_id) = &self.client_id {
            crate::api::path_segment::check("client_id", client_id)?;
        }
        item_lengths("scope", &self.scope, SCOPE_LENGTH.0, SCOPE_LENGTH.1)?;
        no_duplicates("scope", &self.scope)?;
        all_scopes_or_listed(self.allow_all_scopes, Some(&self.scope))?;
        let (min, max) = AUTHORIZATION_DETAILS_TYPE_LENGTH;
        item_lengths(
            "authorization_details_types",
            &self.authorization_details_types,
            min,
            max,
        )?;
        let audience: types::CreateClientGrantRequestContentAudience =
            convert("audience", self.audience.clone())?;
        let scope: Vec<types::CreateClientGrantRequestContentScopeItem> = convert_all("scope", &self.scope)?;
        let authorization_details_types: Vec<
            types::CreateClientGrantRequestContentAuthorizationDetailsTypesItem,
        > = convert_all("authorization_details_types", &self.authorization_details_types)?;
        let body = types::CreateClientGrantRequestContent::builder()
            .allow_all_scopes(self.allow_all_scopes)
            .allow_any_organization(self.allow_any_organization)
            .audience(audience)
            .authorization_details_types(authorization_details_types)
            .client_id(self.client_id.clone())
            .default_for(self.default_for.clone())
            .organization_usage(self.organization_usage.clone())
            .scope(scope)
            .subject_type(self.subject_type.clone());
        built("body", body)
    }
}

/// A change to a client grant, for [`ClientGrants::update`](crate::ClientGrants::update).
/// Only what you set is sent; `reset_*` sends `null`, which restores the API's default.
///
/// ```
/// use auth0_client_grants::ClientGrantUpdate;
///
/// let update = ClientGrantUpdate::new()
///     .scope(["read:things"])
///     .reset_organization_usage()
///     .authorization_details_types(Vec::<String>::new()); // sends [] to clear them
/// # let _ = update;
/// ```
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ClientGrantUpdate {
    scope: Option<Option<Vec<String>>>,
    organization_usage: Option<Option<OrganizationUsage>>,
    allow_any_organization: Option<Option<bool>>,
    allow_all_scopes: Option<Option<bool>>,
    authorization_details_types: Option<Vec<String>>,
}

impl ClientGrantUpdate {
    /// An update that changes nothing yet (sending it as is is refused).
    pub fn new() -> Self {
        Self::default()
    }

    /// Replaces the scopes (each 1 to 280 characters, none twice; none in the same update as
    /// `allow_all_scopes(true)`).
    #[must_use]
    pub fn scope<S: Into<String>>(mut self, scope: impl IntoIterator<Item = S>) -> Self {
        self.scope = Some(Some(scope.into_iter().map(Into::into).collect()));
        self
    }

    /// Sends `scope: null`, resetting the scopes.
    #[must_use]
    pub fn reset_scope(mut self) -> Self {
        self.scope = Some(None);
        self
    }

    /// Sets whether organizations may or must be used.
    #[must_use]
    pub fn organization_usage(mut self, usage: OrganizationUsage) -> Self {
        self.organization_usage = Some(Some(usage));
        self
    }

    /// Sends `organization_usage: null`, restoring the default.
    #[must_use]
    pub fn reset_organization_usage(mut self) -> Self {
        self.organization_usage = Some(None);
        self
    }

    /// Sets whether any organization may be used.
    #[must_use]
    pub fn allow_any_organization(mut self, allow: bool) -> Self {
        self.allow_any_organization = Some(Some(allow));
        self
    }

    /// Sends `allow_any_organization: null`, restoring the default.
    #[must_use]
    pub fn reset_allow_any_organization(mut self) -> Self {
        self.allow_any_organization = Some(None);
        self
    }

    /// Sets whether every scope of the API is allowed. Auth0 takes a grant from `true` back
    /// to listed scopes in two updates: `allow_all_scopes(false)` with an empty `scope`, then
    /// the scopes. Never set it for a system API (the Management API), which refuses the field.
    #[must_use]
    pub fn allow_all_scopes(mut self, allow: bool) -> Self {
        self.allow_all_scopes = Some(Some(allow));
        self
    }

    /// Sends `allow_all_scopes: null`, restoring the default.
    #[must_use]
    pub fn reset_allow_all_scopes(mut self) -> Self {
        self.allow_all_scopes = Some(None);
        self
    }

    /// Replaces the `authorization_details` types (each 1 to 255 characters); an empty list
    /// is sent as `[]` and clears them (the field is not nullable).
    #[must_use]
    pub fn authorization_details_types<S: Into<String>>(
        mut self,
        types: impl IntoIterator<Item = S>,
    ) -> Self {
        self.authorization_details_types = Some(types.into_iter().map(Into::into).collect());
        self
    }

    /// The generated request body, or why it cannot be sent.
    pub(crate) fn to_body(&self) -> Result<types::UpdateClientGrantRequestContent, Error> {
        if *self == Self::default() {
            return Err(Error::invalid_input(
                "body",
                "an update must set or reset at least one field",
            ));
        }
        all_scopes_or_listed(
            self.allow_all_scopes.flatten(),
            self.scope.as_ref().and_then(Option::as_ref),
        )?;
        let scope = match &self.scope {
            Some(Some(scope)) => {
                item_lengths("scope", scope, SCOPE_LENGTH.0, SCOPE_LENGTH.1)?;
                no_duplicates("scope", scope)?;
                Some(types::ClientGrantScopeUpdate(Some(convert_all("scope", scope)?)))
            }
            Some(None) => Some(types::ClientGrantScopeUpdate(None)),
            None => None,
        };
        let authorization_details_types = match &self.authorization_details_types {
            Some(list) => {
                let (min, max) = AUTHORIZATION_DETAILS_TYPE_LENGTH;
                item_lengths("authorization_details_types", list, min, max)?;
                Some(types::ClientGrantAuthorizationDetailsTypes(convert_all(
                    "authorization_details_types",
                    list,
                )?))
            }
            None => None,
        };
        let body = types::UpdateClientGrantRequestContent::builder()
            .allow_all_scopes(self.allow_all_scopes.map(types::ClientGrantFlagUpdate))
            .allow_any_organization(self.allow_any_organization.map(types::ClientGrantFlagUpdate))
            .authorization_details_types(authorization_details_types)
            .organization_usage(
                self.organization_usage
                    .clone()
                    .map(types::ClientGrantOrganizationNullableUsageEnum),
            )
            .scope(scope);
        built("body", body)
    }
}

/// Auth0 refuses `allow_all_scopes: true` beside a non-empty `scope`: the grant either allows
/// every scope or lists them.
fn all_scopes_or_listed(allow_all_scopes: Option<bool>, scope: Option<&Vec<String>>) -> Result<(), Error> {
    if allow_all_scopes == Some(true) && scope.is_some_and(|scope| !scope.is_empty()) {
        return Err(Error::invalid_input(
            "allow_all_scopes",
            "cannot be true with a non-empty `scope`: a grant allows every scope or lists them",
        ));
    }
    Ok(())
}

fn convert_all<T: TryFrom<String>>(parameter: &'static str, values: &[String]) -> Result<Vec<T>, Error>
where
    T::Error: std::fmt::Display,
{
    values
        .iter()
        .map(|value| convert(parameter, value.clone()))
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn update_json(update: ClientGrantUpdate) -> serde_json::Value {
        serde_json::to_value(update.to_body().unwrap()).unwrap()
    }

    #[test]
    fn an_update_sends_exactly_what_was_set_nulls_and_empty_lists_included() {
        assert_eq!(
            update_json(ClientGrantUpdate::new().scope(["a"])),
            json!({"scope": ["a"]})
        );
        assert_eq!(
            update_json(
                ClientGrantUpdate::new()
                    .reset_scope()
                    .reset_organization_usage()
                    .reset_allow_any_organization()
                    .reset_allow_all_scopes()
            ),
            json!({"scope": null, "organization_usage": null, "allow_any_organization": null, "allow_all_scopes": null})
        );
        assert_eq!(
            update_json(ClientGrantUpdate::new().authorization_details_types(Vec::<String>::new())),
            json!({"authorization_details_types": []})
        );
        assert_eq!(
            update_json(
                ClientGrantUpdate::new()
                    .organization_usage(OrganizationUsage::Require)
                    .allow_any_organization(false)
                    .allow_all_scopes(true)
            ),
            json!({"organization_usage": "require", "allow_any_organization": false, "allow_all_scopes": true})
        );
    }

    #[test]
    fn an_empty_update_and_out_of_range_items_are_refused() {
        assert_eq!(
            ClientGrantUpdate::new().to_body().unwrap_err().to_string(),
            "invalid `body`: an update must set or reset at least one field"
        );
        let too_long = "s".repeat(281);
        assert!(ClientGrantUpdate::new().scope([too_long]).to_body().is_err());
        let error = ClientGrantUpdate::new()
            .authorization_details_types([""])
            .to_body()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid `authorization_details_types`: item 0 must be 1 to 255 characters long, got 0"
        );
    }

    #[test]
    fn all_scopes_beside_listed_scopes_and_a_scope_twice_are_refused() {
        let both = NewClientGrant::new("cid", "https://api/")
            .scope(["read:a"])
            .allow_all_scopes(true)
            .to_body()
            .unwrap_err();
        assert_eq!(
            both.to_string(),
            "invalid `allow_all_scopes`: cannot be true with a non-empty `scope`: a grant allows every scope or lists them"
        );
        assert!(
            NewClientGrant::new("cid", "https://api/")
                .allow_all_scopes(true)
                .to_body()
                .is_ok()
        );
        let twice = NewClientGrant::new("cid", "https://api/")
            .scope(["read:a", "write:a", "read:a"])
            .to_body()
            .unwrap_err();
        assert_eq!(twice.to_string(), "invalid `scope`: `read:a` is listed twice");
        assert!(
            ClientGrantUpdate::new()
                .allow_all_scopes(true)
                .scope(["read:a"])
                .to_body()
                .is_err()
        );
        assert!(ClientGrantUpdate::new().scope(["a", "a"]).to_body().is_err());
        assert_eq!(
            update_json(
                ClientGrantUpdate::new()
                    .allow_all_scopes(false)
                    .scope(Vec::<String>::new())
            ),
            json!({"allow_all_scopes": false, "scope": []})
        );
        assert_eq!(
            update_json(
                ClientGrantUpdate::new()
                    .allow_all_scopes(true)
                    .scope(Vec::<String>::new())
            ),
            json!({"allow_all_scopes": true, "scope": []})
        );
    }

    #[test]
    fn a_new_grant_sends_only_what_was_set() {
        let body = NewClientGrant::new("cid", "https://api/").to_body().unwrap();
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            json!({"client_id": "cid", "audience": "https://api/"})
        );
        let body = NewClientGrant::default_for(DefaultFor::ThirdPartyClients, "https://api/")
            .scope(["read:a"])
            .subject_type(SubjectType::Client)
            .organization_usage(OrganizationUsage::Deny)
            .allow_any_organization(false)
            .allow_all_scopes(false)
            .authorization_details_types(["payment"])
            .to_body()
            .unwrap();
        assert_eq!(
            serde_json::to_value(body).unwrap(),
            json!({
                "default_for": "third_party_clients", "audience": "https://api/", "scope": ["read:a"],
                "subject_type": "client", "organization_usage": "deny", "allow_any_organization": false,
                "allow_all_scopes": false, "authorization_details_types": ["payment"]
            })
        );
    }

    #[test]
    fn a_new_grant_with_an_empty_audience_or_bad_scope_is_refused() {
        let error = NewClientGrant::new("cid", "").to_body().unwrap_err();
        assert!(
            matches!(&error, Error::InvalidInput(invalid) if invalid.parameter() == "audience"),
            "{error:?}"
        );
        let error = NewClientGrant::new("cid", "https://api/")
            .scope(["ok", ""])
            .to_body()
            .unwrap_err();
        assert_eq!(
            error.to_string(),
            "invalid `scope`: item 1 must be 1 to 280 characters long, got 0"
        );
    }
}
