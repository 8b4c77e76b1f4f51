//! The lists that offer both paging styles, written once: their page settings, one checkpoint
//! page, the streams of pages and of items, and one offset page. What differs from one list to
//! the next, its filters and the request that carries them, is its query's
//! ([`query::ListQuery`]).

use std::num::NonZeroU64;

use futures_util::Stream;

use crate::Client;
use crate::api::pagination::{self, OffsetPage, Page};
use crate::api::validate::{page_number, page_size};
use crate::error::Error;

/// The page size of checkpoint paging when `take` is not set, as in Auth0's own SDKs.
pub const DEFAULT_TAKE: u64 = 50;
/// The page size of offset paging when `per_page` is not set (Auth0's default).
pub const DEFAULT_PER_PAGE: u64 = 50;

/// A list to run, with checkpoint paging (`from`/`take`) and offset paging
/// (`page`/`per_page`). Its filters are sent with every page; nothing is sent until it is run.
///
/// Use [`stream`](Self::stream) or [`pages`](Self::pages) to list everything: they use
/// checkpoint paging, which neither skips nor repeats items while the list changes. Offset
/// paging ([`send_offset`](Self::send_offset)) gives totals but, over a changing list, can
/// skip or repeat items.
#[derive(Clone, Debug)]
#[must_use = "a list sends nothing until it is run"]
pub struct List<Q> {
    client: Client,
    pub(crate) query: Q,
    paging: Paging,
}

pub(crate) mod query {
    use std::num::NonZeroU64;

    use crate::Client;
    use crate::api::list_responses::ListResponse;
    use crate::error::Error;

    /// Which page one request asks for.
    #[derive(Clone, Copy, Debug)]
    pub enum PageRequest<'a> {
        Checkpoint { from: Option<&'a str>, take: NonZeroU64 },
        Offset { page: u64, per_page: NonZeroU64 },
    }

    /// What makes one list: its filters, checked before anything is sent, and the request of
    /// one page. Not nameable outside the crate, so that only its lists implement it.
    pub trait ListQuery: Clone + Send + Sync + 'static {
        type Item: Send + 'static;
        /// The operation's id, for errors about its responses.
        const OPERATION: &'static str;

        fn check(&self) -> Result<(), Error>;

        fn fetch(
            &self,
            client: &Client,
            page: PageRequest<'_>,
        ) -> impl Future<Output = Result<ListResponse<Self::Item>, Error>> + Send;
    }
}

use query::{ListQuery, PageRequest};

/// Page settings: which style applies is decided when the list is run, so that setting those
/// of the other style is refused before anything is sent rather than ignored.
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

impl<Q: ListQuery> List<Q> {
    pub(crate) fn new(client: Client, query: Q) -> Self {
        Self {
            client,
            query,
            paging: Paging::default(),
        }
    }

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

    /// One checkpoint page.
    pub async fn send(&self) -> Result<Page<Q::Item>, Error> {
        checkpoint_page(
            &self.client,
            &self.query,
            &self.paging,
            self.paging.from.as_deref(),
        )
        .await
    }

    /// Every checkpoint page, lazily, one at a time.
    pub fn pages(&self) -> impl Stream<Item = Result<Page<Q::Item>, Error>> + Send + Unpin + 'static {
        let (client, query, paging) = (self.client.clone(), self.query.clone(), self.paging.clone());
        pagination::checkpoint_pages(Q::OPERATION, paging.from.clone(), move |from| {
            let (client, query, paging) = (client.clone(), query.clone(), paging.clone());
            async move { checkpoint_page(&client, &query, &paging, from.as_deref()).await }
        })
    }

    /// Every item of every page, lazily; memory holds one page at a time.
    pub fn stream(&self) -> impl Stream<Item = Result<Q::Item, Error>> + Send + Unpin + 'static {
        pagination::items(self.pages())
    }

    /// One offset page with totals (`page`, `per_page`, `include_totals=true`).
    pub async fn send_offset(&self) -> Result<OffsetPage<Q::Item>, Error> {
        self.query.check()?;
        let (page, per_page) = self.paging.offset()?;
        let response = self
            .query
            .fetch(&self.client, PageRequest::Offset { page, per_page })
            .await?;
        response.into_offset_page(Q::OPERATION)
    }
}

async fn checkpoint_page<Q: ListQuery>(
    client: &Client,
    query: &Q,
    paging: &Paging,
    from: Option<&str>,
) -> Result<Page<Q::Item>, Error> {
    query.check()?;
    let take = paging.checkpoint()?;
    let response = query
        .fetch(client, PageRequest::Checkpoint { from, take })
        .await?;
    Ok(response.into_page())
}
