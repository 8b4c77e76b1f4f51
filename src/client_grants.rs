//! `client.client_grants()`: the operations on `/client-grants`.

use std::num::NonZeroU64;

use futures_util::Stream;

use crate::Client;
use crate::error::Error;
use crate::generated;
use crate::generated::types::Organization;
use crate::generated::types::{self, ClientGrant};
use crate::list_answers::ListClientGrantOrganizationsResponseContent as OrgList;
use crate::list_answers::ListClientGrantResponseContent as GrantList;
use crate::models::{DefaultFor, SubjectType};
use crate::operations;
use crate::pagination::{self, OffsetPage, Page};
use crate::path_segment;
use crate::requests::{ClientGrantUpdate, NewClientGrant};
use crate::validate::{page_number, page_size};

/// The page size of checkpoint paging when `take` is not set, as in Auth0's own SDKs.
pub const DEFAULT_TAKE: u64 = 50;
/// The page size of offset paging when `per_page` is not set (Auth0's default).
pub const DEFAULT_PER_PAGE: u64 = 50;

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
        ListClientGrants {
            client: self.client.clone(),
            query: GrantQuery::default(),
        }
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
        ListGrantOrganizations {
            client: self.client.clone(),
            grant_id: id.into(),
            paging: Paging::default(),
        }
    }
}

/// Page settings shared by the lists that offer both paging styles.
#[derive(Clone, Debug, Default)]
struct Paging {
    take: Option<u64>,
    from: Option<String>,
    page: Option<u64>,
    per_page: Option<u64>,
}

impl Paging {
    fn checkpoint(&self) -> Result<NonZeroU64, Error> {
        if self.page.is_some() || self.per_page.is_some() {
            return Err(Error::invalid_input(
                "page",
                "page and per_page apply to send_offset(); send(), pages() and stream() use take and from",
            ));
        }
        page_size("take", self.take.unwrap_or(DEFAULT_TAKE))
    }

    fn offset(&self) -> Result<(u64, NonZeroU64), Error> {
        if self.take.is_some() || self.from.is_some() {
            return Err(Error::invalid_input(
                "take",
                "take and from apply to checkpoint paging, not send_offset()",
            ));
        }
        let per_page = page_size("per_page", self.per_page.unwrap_or(DEFAULT_PER_PAGE))?;
        Ok((page_number(self.page.unwrap_or(0), per_page)?, per_page))
    }
}

#[derive(Clone, Debug, Default)]
struct GrantQuery {
    audience: Option<String>,
    client_id: Option<String>,
    allow_any_organization: bool,
    subject_type: Option<SubjectType>,
    default_for: Option<DefaultFor>,
    paging: Paging,
}

impl GrantQuery {
    fn check_filters(&self) -> Result<(), Error> {
        if self.client_id.is_some() && self.default_for.is_some() {
            return Err(Error::invalid_input(
                "default_for",
                "cannot be combined with client_id",
            ));
        }
        Ok(())
    }

    async fn fetch(
        &self,
        client: &Client,
        from: Option<&str>,
        take: Option<NonZeroU64>,
        offset: Option<(u64, NonZeroU64)>,
    ) -> Result<GrantList, Error> {
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
            if let Some(from) = from {
                request = request.from(from);
            }
            if let Some(take) = take {
                request = request.take(take);
            }
            if let Some((page, per_page)) = offset {
                request = request.include_totals(true).page(page).per_page(per_page);
            }
            request.send().await
        };
        client.run(&operations::GET_CLIENT_GRANTS, call).await
    }
}

/// A list of client grants to run, from [`ClientGrants::list`]. Filters are sent with every
/// page.
///
/// Use [`stream`](Self::stream) or [`pages`](Self::pages) to list everything: they use
/// checkpoint paging (`from`/`take`), which neither skips nor repeats grants while the list
/// changes. Offset paging ([`send_offset`](Self::send_offset)) gives totals but, over a
/// changing list, can skip or repeat items.
#[derive(Clone, Debug)]
#[must_use = "a list sends nothing until it is run"]
pub struct ListClientGrants {
    client: Client,
    query: GrantQuery,
}

impl ListClientGrants {
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

    /// Checkpoint page size, 1 to 100 (default 50).
    pub fn take(mut self, take: u64) -> Self {
        self.query.paging.take = Some(take);
        self
    }

    /// Start at this checkpoint cursor (a page's `next`).
    pub fn from(mut self, cursor: impl Into<String>) -> Self {
        self.query.paging.from = Some(cursor.into());
        self
    }

    /// Offset page index for [`send_offset`](Self::send_offset), from 0.
    pub fn page(mut self, page: u64) -> Self {
        self.query.paging.page = Some(page);
        self
    }

    /// Offset page size for [`send_offset`](Self::send_offset), 1 to 100 (default 50).
    pub fn per_page(mut self, per_page: u64) -> Self {
        self.query.paging.per_page = Some(per_page);
        self
    }

    /// One checkpoint page.
    pub async fn send(&self) -> Result<Page<ClientGrant>, Error> {
        self.query.check_filters()?;
        let take = self.query.paging.checkpoint()?;
        let answer = self
            .query
            .fetch(&self.client, self.query.paging.from.as_deref(), Some(take), None)
            .await?;
        Ok(answer.into_page())
    }

    /// Every checkpoint page, lazily, one at a time.
    pub fn pages(&self) -> impl Stream<Item = Result<Page<ClientGrant>, Error>> + Send + Unpin + 'static {
        let (client, query) = (self.client.clone(), self.query.clone());
        pagination::checkpoint_pages(query.paging.from.clone(), move |from| {
            let (client, query) = (client.clone(), query.clone());
            async move {
                query.check_filters()?;
                let take = query.paging.checkpoint()?;
                let answer = query.fetch(&client, from.as_deref(), Some(take), None).await?;
                Ok(answer.into_page())
            }
        })
    }

    /// Every grant of every page, lazily; memory holds one page at a time.
    pub fn stream(&self) -> impl Stream<Item = Result<ClientGrant, Error>> + Send + Unpin + 'static {
        pagination::items(self.pages())
    }

    /// One offset page with totals (`page`, `per_page`, `include_totals=true`).
    pub async fn send_offset(&self) -> Result<OffsetPage<ClientGrant>, Error> {
        self.query.check_filters()?;
        let (page, per_page) = self.query.paging.offset()?;
        let answer = self
            .query
            .fetch(&self.client, None, None, Some((page, per_page)))
            .await?;
        answer.into_offset_page(operations::GET_CLIENT_GRANTS.id)
    }
}

/// The organizations of a grant, from [`ClientGrants::organizations`]: the same paging as
/// [`ListClientGrants`].
#[derive(Clone, Debug)]
#[must_use = "a list sends nothing until it is run"]
pub struct ListGrantOrganizations {
    client: Client,
    grant_id: String,
    paging: Paging,
}

impl ListGrantOrganizations {
    /// Checkpoint page size, 1 to 100 (default 50).
    pub fn take(mut self, take: u64) -> Self {
        self.paging.take = Some(take);
        self
    }

    /// Start at this checkpoint cursor (a page's `next`).
    pub fn from(mut self, cursor: impl Into<String>) -> Self {
        self.paging.from = Some(cursor.into());
        self
    }

    /// Offset page index for [`send_offset`](Self::send_offset), from 0.
    pub fn page(mut self, page: u64) -> Self {
        self.paging.page = Some(page);
        self
    }

    /// Offset page size for [`send_offset`](Self::send_offset), 1 to 100 (default 50).
    pub fn per_page(mut self, per_page: u64) -> Self {
        self.paging.per_page = Some(per_page);
        self
    }

    async fn fetch(
        client: &Client,
        grant_id: &str,
        from: Option<&str>,
        take: Option<NonZeroU64>,
        offset: Option<(u64, NonZeroU64)>,
    ) -> Result<OrgList, Error> {
        path_segment::check("id", grant_id)?;
        let call = |api: generated::Client| async move {
            let mut request = api.get_client_grant_organizations().id(grant_id);
            if let Some(from) = from {
                request = request.from(from);
            }
            if let Some(take) = take {
                request = request.take(take);
            }
            if let Some((page, per_page)) = offset {
                request = request.include_totals(true).page(page).per_page(per_page);
            }
            request.send().await
        };
        client
            .run(&operations::GET_CLIENT_GRANT_ORGANIZATIONS, call)
            .await
    }

    /// One checkpoint page.
    pub async fn send(&self) -> Result<Page<Organization>, Error> {
        let take = self.paging.checkpoint()?;
        let answer = Self::fetch(
            &self.client,
            &self.grant_id,
            self.paging.from.as_deref(),
            Some(take),
            None,
        )
        .await?;
        Ok(answer.into_page())
    }

    /// Every checkpoint page, lazily, one at a time.
    pub fn pages(&self) -> impl Stream<Item = Result<Page<Organization>, Error>> + Send + Unpin + 'static {
        let (client, grant_id, paging) = (self.client.clone(), self.grant_id.clone(), self.paging.clone());
        pagination::checkpoint_pages(paging.from.clone(), move |from| {
            let (client, grant_id, paging) = (client.clone(), grant_id.clone(), paging.clone());
            async move {
                let take = paging.checkpoint()?;
                let answer = Self::fetch(&client, &grant_id, from.as_deref(), Some(take), None).await?;
                Ok(answer.into_page())
            }
        })
    }

    /// Every organization of every page, lazily.
    pub fn stream(&self) -> impl Stream<Item = Result<Organization, Error>> + Send + Unpin + 'static {
        pagination::items(self.pages())
    }

    /// One offset page with totals.
    pub async fn send_offset(&self) -> Result<OffsetPage<Organization>, Error> {
        let (page, per_page) = self.paging.offset()?;
        let answer = Self::fetch(&self.client, &self.grant_id, None, None, Some((page, per_page))).await?;
        answer.into_offset_page(operations::GET_CLIENT_GRANT_ORGANIZATIONS.id)
    }
}
