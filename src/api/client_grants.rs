//! `client.client_grants()`: the operations on `/client-grants`.

use crate::Client;
use crate::api::generated;
use crate::api::generated::types::Organization;
use crate::api::generated::types::{self, ClientGrant};
use crate::api::list::List;
use crate::api::list::query::{ListQuery, PageRequest};
use crate::api::list_responses::ListClientGrantOrganizationsResponseContent as OrgList;
use crate::api::list_responses::ListClientGrantResponseContent as GrantList;
use crate::api::models::{DefaultFor, SubjectType};
use crate::api::operations;
use crate::api::path_segment;
use crate::api::requests::{ClientGrantUpdate, NewClientGrant};
use crate::error::Error;

/// The client-grant operations, from [`Client::client_grants`].
#[derive(Clone, Debug)]
pub struct ClientGrants {
    client: Client,
}

impl ClientGrants {
    pub(crate) fn new(client: Client) -> Self {
        Self { client }
    }

    /// Lists client grants (`GET /client-grants`); needs `read:client_grants`. Nothing is sent
    /// until the returned builder is run.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    ///
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// let grants: Vec<_> = client.client_grants().list().audience("https://api.example.com/").stream().try_collect().await?;
    /// # let _ = grants;
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> ListClientGrants {
        List::new(self.client.clone(), ClientGrantQuery::default())
    }

    /// Gets one client grant (`GET /client-grants/{id}`); needs `read:client_grants`. An
    /// unknown id fails with an error whose [`is_not_found()`](Error::is_not_found) is true.
    ///
    /// ```no_run
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// match client.client_grants().get("cgr_123").await {
    ///     Ok(grant) => println!("{:?} may call {}", grant.client_id, grant.audience),
    ///     Err(error) if error.is_not_found() => println!("no such grant"),
    ///     Err(error) => return Err(error),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn get(&self, id: &str) -> Result<ClientGrant, Error> {
        path_segment::check("id", id)?;
        self.client
            .run(&operations::GET_CLIENT_GRANT, |api| async move {
                api.get_client_grant().id(id).send().await
            })
            .await
    }

    /// Creates a client grant (`POST /client-grants`); needs `create:client_grants`. A grant
    /// for the same client, audience and subject type fails with an error whose
    /// [`is_conflict()`](Error::is_conflict) is true. A create is never sent twice.
    ///
    /// ```no_run
    /// use auth0_client_grants::{NewClientGrant, OrganizationUsage};
    ///
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// let grant = NewClientGrant::new("CLIENT_ID", "https://api.example.com/").scope(["read:things"]);
    /// match client.client_grants().create(grant).await {
    ///     Ok(created) => println!("created {}", created.id),
    ///     Err(error) if error.is_conflict() => println!("already granted"),
    ///     Err(error) => return Err(error),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub async fn create(&self, grant: NewClientGrant) -> Result<ClientGrant, Error> {
        let body = &grant.to_body()?;
        self.client
            .run(&operations::POST_CLIENT_GRANTS, |api| async move {
                api.post_client_grants().body(body.clone()).send().await
            })
            .await
    }

    /// Changes a client grant (`PATCH /client-grants/{id}`); needs `update:client_grants`.
    /// Only what the update sets is sent; an update that sets nothing is refused.
    ///
    /// ```no_run
    /// use auth0_client_grants::ClientGrantUpdate;
    ///
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// let update = ClientGrantUpdate::new().scope(["read:things"]).reset_organization_usage();
    /// let changed = client.client_grants().update("cgr_123", update).await?;
    /// # let _ = changed;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn update(&self, id: &str, update: ClientGrantUpdate) -> Result<ClientGrant, Error> {
        path_segment::check("id", id)?;
        let body = &update.to_body()?;
        let call = |api: generated::Client| async move {
            api.patch_client_grants_by_id()
                .id(id)
                .body(body.clone())
                .send()
                .await
        };
        self.client
            .run(&operations::PATCH_CLIENT_GRANTS_BY_ID, call)
            .await
    }

    /// Deletes a client grant (`DELETE /client-grants/{id}`); needs `delete:client_grants`.
    /// Auth0 answers success also when the grant is already gone. Grants with `is_system`
    /// cannot be deleted.
    ///
    /// ```no_run
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// client.client_grants().delete("cgr_123").await?;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn delete(&self, id: &str) -> Result<(), Error> {
        path_segment::check("id", id)?;
        self.client
            .run(&operations::DELETE_CLIENT_GRANTS_BY_ID, |api| async move {
                api.delete_client_grants_by_id().id(id).send().await
            })
            .await
    }

    /// Lists the organizations a grant is associated with
    /// (`GET /client-grants/{id}/organizations`); needs `read:organization_client_grants`.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    ///
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// let organizations: Vec<_> = client.client_grants().organizations("cgr_123").stream().try_collect().await?;
    /// # let _ = organizations;
    /// # Ok(())
    /// # }
    /// ```
    pub fn organizations(&self, id: impl Into<String>) -> ListGrantOrganizations {
        let query = GrantOrganizationQuery { grant_id: id.into() };
        List::new(self.client.clone(), query)
    }
}

/// The query of a client-grant list ([`ListClientGrants`]): its filters.
#[derive(Clone, Debug, Default)]
pub struct ClientGrantQuery {
    audience: Option<String>,
    client_id: Option<String>,
    allow_any_organization: bool,
    subject_type: Option<SubjectType>,
    default_for: Option<DefaultFor>,
}

impl ListQuery for ClientGrantQuery {
    type Item = ClientGrant;
    const OPERATION: &'static str = operations::GET_CLIENT_GRANTS.id;

    fn check(&self) -> Result<(), Error> {
        if self.client_id.is_some() && self.default_for.is_some() {
            return Err(Error::invalid_input(
                "default_for",
                "cannot be combined with client_id",
            ));
        }
        Ok(())
    }

    async fn fetch(&self, client: &Client, page: PageRequest<'_>) -> Result<GrantList, Error> {
        let call = |api: generated::Client| async move {
            let mut request = api.get_client_grants();
            if self.allow_any_organization {
                request = request.allow_any_organization(types::ClientGrantAllowAnyOrganizationEnum(true));
            }
            if let Some(audience) = &self.audience {
                request = request.audience(audience.clone());
            }
            if let Some(client_id) = &self.client_id {
                request = request.client_id(client_id.clone());
            }
            if let Some(group) = &self.default_for {
                request = request.default_for(group.clone());
            }
            if let Some(subject_type) = &self.subject_type {
                request = request.subject_type(subject_type.clone());
            }
            request = match page {
                PageRequest::Checkpoint { from, take } => match from {
                    Some(from) => request.from(from).take(take),
                    None => request.take(take),
                },
                PageRequest::Offset { page, per_page } => {
                    request.include_totals(true).page(page).per_page(per_page)
                }
            };
            request.send().await
        };
        client.run(&operations::GET_CLIENT_GRANTS, call).await
    }
}

/// A list of client grants to run, from [`ClientGrants::list`]: the filters below, and the
/// paging of every [`List`].
pub type ListClientGrants = List<ClientGrantQuery>;

impl List<ClientGrantQuery> {
    /// Only grants for this API.
    pub fn audience(mut self, audience: impl Into<String>) -> Self {
        self.query.audience = Some(audience.into());
        self
    }

    /// Only grants of this application (not together with `default_for`).
    pub fn client_id(mut self, client_id: impl Into<String>) -> Self {
        self.query.client_id = Some(client_id.into());
        self
    }

    /// Only grants that allow any organization (the API accepts only `true` here).
    pub fn allow_any_organization(mut self) -> Self {
        self.query.allow_any_organization = true;
        self
    }

    /// Only grants of this subject type.
    pub fn subject_type(mut self, subject_type: SubjectType) -> Self {
        self.query.subject_type = Some(subject_type);
        self
    }

    /// Only grants that are the default for this group (not together with `client_id`).
    pub fn default_for(mut self, group: DefaultFor) -> Self {
        self.query.default_for = Some(group);
        self
    }
}

/// The query of the list of a grant's organizations ([`ListGrantOrganizations`]).
#[derive(Clone, Debug)]
pub struct GrantOrganizationQuery {
    grant_id: String,
}

impl ListQuery for GrantOrganizationQuery {
    type Item = Organization;
    const OPERATION: &'static str = operations::GET_CLIENT_GRANT_ORGANIZATIONS.id;

    fn check(&self) -> Result<(), Error> {
        path_segment::check("id", &self.grant_id)
    }

    async fn fetch(&self, client: &Client, page: PageRequest<'_>) -> Result<OrgList, Error> {
        let grant_id = self.grant_id.as_str();
        let call = |api: generated::Client| async move {
            let request = api.get_client_grant_organizations().id(grant_id);
            let request = match page {
                PageRequest::Checkpoint { from, take } => match from {
                    Some(from) => request.from(from).take(take),
                    None => request.take(take),
                },
                PageRequest::Offset { page, per_page } => {
                    request.include_totals(true).page(page).per_page(per_page)
                }
            };
            request.send().await
        };
        client
            .run(&operations::GET_CLIENT_GRANT_ORGANIZATIONS, call)
            .await
    }
}

/// The organizations of a grant, from [`ClientGrants::organizations`]: the paging of every
/// [`List`], no filters.
pub type ListGrantOrganizations = List<GrantOrganizationQuery>;
