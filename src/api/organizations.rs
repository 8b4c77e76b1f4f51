//! `client.organization(id).client_grants()`: the grants associated with one organization.

use std::num::NonZeroU64;

use futures_util::Stream;

use crate::Client;
use crate::api::generated;
use crate::api::generated::types;
use crate::api::generated::types::OrganizationClientGrant;
use crate::api::list::DEFAULT_PER_PAGE;
use crate::api::operations;
use crate::api::pagination::{self, OffsetPage};
use crate::api::path_segment;
use crate::api::validate::{at_most_chars, convert, organization_id, page_number, page_size};
use crate::error::{DecodeError, Error};

/// At most this many `grant_ids` in one list request.
const MAX_GRANT_IDS: usize = 10;
/// The organization list's `audience` filter: at most this many characters.
const MAX_AUDIENCE_CHARS: usize = 600;

impl Client {
    /// One organization's view of the API (`/organizations/{id}/…`). The id (at most 50
    /// characters) is checked when a request is made.
    pub fn organization(&self, id: impl Into<String>) -> OrganizationHandle {
        OrganizationHandle {
            client: self.clone(),
            id: id.into(),
        }
    }
}

/// One organization, from [`Client::organization`].
#[derive(Clone, Debug)]
pub struct OrganizationHandle {
    client: Client,
    id: String,
}

impl OrganizationHandle {
    /// The client grants associated with this organization.
    pub fn client_grants(&self) -> OrganizationClientGrants {
        OrganizationClientGrants {
            client: self.client.clone(),
            organization_id: self.id.clone(),
        }
    }
}

/// The client grants of one organization, from [`OrganizationHandle::client_grants`].
#[derive(Clone, Debug)]
pub struct OrganizationClientGrants {
    client: Client,
    organization_id: String,
}

impl OrganizationClientGrants {
    /// Lists the grants associated with the organization
    /// (`GET /organizations/{id}/client-grants`); needs `read:organization_client_grants`.
    /// This list has offset paging only, as the API offers.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    ///
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// let grants: Vec<_> = client.organization("org_123").client_grants().list().stream().try_collect().await?;
    /// # let _ = grants;
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> ListOrganizationClientGrants {
        ListOrganizationClientGrants {
            client: self.client.clone(),
            query: OrgGrantQuery {
                organization_id: self.organization_id.clone(),
                ..OrgGrantQuery::default()
            },
        }
    }

    /// Associates a grant with the organization (`POST /organizations/{id}/client-grants`);
    /// needs `create:organization_client_grants`. A grant already associated fails with an
    /// error whose [`is_conflict()`](Error::is_conflict) is true, as does a 101st grant (an
    /// organization holds at most 100).
    ///
    /// ```no_run
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// let association = client.organization("org_123").client_grants().associate("cgr_123").await?;
    /// assert_eq!(association.id, "cgr_123");
    /// # Ok(())
    /// # }
    /// ```
    pub async fn associate(&self, grant_id: &str) -> Result<OrganizationClientGrant, Error> {
        organization_id(&self.organization_id)?;
        path_segment::check("grant_id", grant_id)?;
        let id: types::CreateOrganizationClientGrantsId = convert("id", self.organization_id.clone())?;
        let call = |api: generated::Client| {
            let id = id.clone();
            async move {
                api.create_organization_client_grants()
                    .id(id)
                    .body_map(|body| body.grant_id(grant_id))
                    .send()
                    .await
            }
        };
        let response = self
            .client
            .run(&operations::CREATE_ORGANIZATION_CLIENT_GRANTS, call)
            .await?;
        // The live API names the grant `grant_id`; the published spec says `id`.
        let operation = operations::CREATE_ORGANIZATION_CLIENT_GRANTS.id;
        let Some(id) = response.grant_id.clone().or(response.id.clone()) else {
            return Err(Error::Decode(DecodeError::missing(operation, 201, "grant_id")));
        };
        // Read through JSON, so that every field the two types share (those Auth0 adds to both
        // included) carries over without a line here.
        let mut fields = serde_json::to_value(&response).unwrap_or_default();
        fields["id"] = id.into();
        if fields.get("audience").is_none_or(serde_json::Value::is_null) {
            fields["audience"] = "".into();
        }
        serde_json::from_value(fields.clone()).map_err(|_| {
            let body = serde_json::to_vec(&fields).unwrap_or_default();
            Error::Decode(DecodeError::locate::<OrganizationClientGrant>(
                operation, 201, &body,
            ))
        })
    }

    /// Removes a grant from the organization
    /// (`DELETE /organizations/{id}/client-grants/{grant_id}`); needs
    /// `delete:organization_client_grants`.
    ///
    /// ```no_run
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// client.organization("org_123").client_grants().remove("cgr_123").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn remove(&self, grant_id: &str) -> Result<(), Error> {
        organization_id(&self.organization_id)?;
        path_segment::check("grant_id", grant_id)?;
        let id: types::DeleteClientGrantsByGrantIdId = convert("id", self.organization_id.clone())?;
        let call = |api: generated::Client| {
            let id = id.clone();
            async move {
                api.delete_client_grants_by_grant_id()
                    .id(id)
                    .grant_id(grant_id)
                    .send()
                    .await
            }
        };
        self.client
            .run(&operations::DELETE_CLIENT_GRANTS_BY_GRANT_ID, call)
            .await
    }
}

#[derive(Clone, Debug, Default)]
struct OrgGrantQuery {
    organization_id: String,
    audience: Option<String>,
    client_id: Option<String>,
    grant_ids: Vec<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

impl OrgGrantQuery {
    fn check(&self) -> Result<NonZeroU64, Error> {
        organization_id(&self.organization_id)?;
        if let Some(audience) = &self.audience {
            at_most_chars("audience", audience, MAX_AUDIENCE_CHARS)?;
        }
        if self.grant_ids.len() > MAX_GRANT_IDS {
            return Err(Error::invalid_input(
                "grant_ids",
                format!(
                    "at most {MAX_GRANT_IDS} ids per request, got {}",
                    self.grant_ids.len()
                ),
            ));
        }
        let per_page = page_size("per_page", self.per_page.unwrap_or(DEFAULT_PER_PAGE))?;
        page_number(self.page.unwrap_or(0), per_page)?;
        Ok(per_page)
    }

    async fn fetch(
        &self,
        client: &Client,
        page: u64,
        per_page: NonZeroU64,
    ) -> Result<OffsetPage<OrganizationClientGrant>, Error> {
        let id: types::GetOrganizationClientGrantsId = convert("id", self.organization_id.clone())?;
        let audience: Option<types::GetOrganizationClientGrantsAudience> = self
            .audience
            .clone()
            .map(|audience| convert("audience", audience))
            .transpose()?;
        let call = |api: generated::Client| {
            let (id, audience) = (id.clone(), audience.clone());
            async move {
                let mut request = api
                    .get_organization_client_grants()
                    .id(id)
                    .include_totals(true)
                    .page(page)
                    .per_page(per_page);
                if let Some(audience) = audience {
                    request = request.audience(audience);
                }
                if let Some(client_id) = &self.client_id {
                    request = request.client_id(client_id.clone());
                }
                if !self.grant_ids.is_empty() {
                    request = request.grant_ids(self.grant_ids.clone());
                }
                request.send().await
            }
        };
        let response = client
            .run(&operations::GET_ORGANIZATION_CLIENT_GRANTS, call)
            .await?;
        response.into_offset_page(operations::GET_ORGANIZATION_CLIENT_GRANTS.id)
    }
}

/// A list of an organization's client grants to run, from
/// [`OrganizationClientGrants::list`]. Filters are sent with every page.
#[derive(Clone, Debug)]
#[must_use = "a list sends nothing until it is run"]
pub struct ListOrganizationClientGrants {
    client: Client,
    query: OrgGrantQuery,
}

impl ListOrganizationClientGrants {
    /// Only grants for this API (at most 600 characters).
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.query.audience = Some(audience.into());
        self
    }

    /// Only grants of this application.
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.query.client_id = Some(client_id.into());
        self
    }

    /// Only these grants (at most 10; sent as repeated `grant_ids`).
    pub fn grant_ids<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.query.grant_ids = ids.into_iter().map(Into::into).collect();
        self
    }

    /// The first page to fetch, from 0.
    pub fn page(mut self, page: u64) -> Self {
        self.query.page = Some(page);
        self
    }

    /// Page size, 1 to 100 (default 50).
    pub fn per_page(mut self, per_page: u64) -> Self {
        self.query.per_page = Some(per_page);
        self
    }

    /// One page with totals.
    pub async fn send_offset(&self) -> Result<OffsetPage<OrganizationClientGrant>, Error> {
        let per_page = self.query.check()?;
        self.query
            .fetch(&self.client, self.query.page.unwrap_or(0), per_page)
            .await
    }

    /// Every page from `page` on, lazily, until the totals say the list ended (or a page
    /// comes back short or empty).
    pub fn pages(
        &self,
    ) -> impl Stream<Item = Result<OffsetPage<OrganizationClientGrant>, Error>> + Send + Unpin + 'static {
        let (client, query) = (self.client.clone(), self.query.clone());
        let per_page = query.per_page.unwrap_or(DEFAULT_PER_PAGE);
        pagination::offset_pages(query.page.unwrap_or(0), per_page, move |page| {
            let (client, query) = (client.clone(), query.clone());
            async move {
                let per_page = query.check()?;
                query.fetch(&client, page, per_page).await
            }
        })
    }

    /// Every grant of every page, lazily.
    pub fn stream(
        &self,
    ) -> impl Stream<Item = Result<OrganizationClientGrant, Error>> + Send + Unpin + 'static {
        pagination::items(self.pages())
    }
}
