//! Declarative client grants: make the tenant's grants match a list.
//!
//! ```no_run
//! use auth0_grants::reconcile::{DesiredState, Mode, ReconcileExt};
//!
//! # async fn example(client: auth0_client_grants::Client) -> Result<(), Box<dyn std::error::Error>> {
//! let desired = DesiredState::from_toml(&std::fs::read_to_string("grants.toml")?)?;
//! let reconcile = client.reconcile(&desired).mode(Mode::Authoritative);
//! let plan = reconcile.plan().await?; // reads the tenant, writes nothing
//! print!("{plan}"); // the diff, one line per change
//! let report = reconcile.apply(&plan).await?; // writes; idempotent
//! assert!(reconcile.plan().await?.is_empty());
//! # let _ = report;
//! # Ok(())
//! # }
//! ```
//!
//! A grant is identified by who it is for (`client_id`, or `default_for`), its audience and its
//! subject type, which is how Auth0 keeps them unique. [`Plan::compute`] is a pure function of
//! what the tenant has, the desired state and the [`Mode`]; [`Reconcile::plan`] reads what it
//! needs (one walk of the grants, and the organizations only of grants where they matter, many
//! at a time), and [`Reconcile::apply`] writes through the same client as every other call, paced
//! and retried, many changes at a time in the order that matters (see
//! [`parallelism`](Reconcile::parallelism)). [`export`] gives the tenant as a desired state (an
//! [`Export`]: by name or by id, many grants' organizations read at a time).

mod api_scopes;
mod apply;
mod desired;
mod error;
mod lockout;
mod names;
mod plan;
mod saved;
mod schedule;
mod variables;

pub use apply::{ApplyError, ApplyReport, DEFAULT_PARALLELISM, FailedChange};
pub use desired::{DesiredGrant, DesiredState, GrantKey};
pub use error::{DesiredError, ReconcileError};
pub use lockout::SelfLockout;
pub use plan::{Change, FieldChange, Mode, Plan, PlanWarning, TenantState, Untouched};
pub use saved::{Drift, GrantSeen, ReadGrant, SavedPlan, SavedPlanError};
pub use variables::Variables;

use std::collections::HashMap;
use std::sync::atomic::AtomicBool;

use auth0_client_grants::{Client, ClientGrant, Error};
use futures_util::{StreamExt, TryStreamExt};

/// `client.reconcile(&desired)` on the bindings' [`Client`]: import this trait (or
/// `auth0_grants::reconcile::*`) to call it.
pub trait ReconcileExt: sealed::Sealed {
    /// Plans and applies `desired` against this client's tenant (see [`reconcile`](crate::reconcile)).
    fn reconcile<'a>(&'a self, desired: &'a DesiredState) -> Reconcile<'a>;
}

impl ReconcileExt for Client {
    fn reconcile<'a>(&'a self, desired: &'a DesiredState) -> Reconcile<'a> {
        Reconcile {
            client: self,
            desired,
            mode: Mode::default(),
            progress: None,
            management_api: None,
            own_client_id: None,
            allow_self_lockout: false,
            parallelism: DEFAULT_PARALLELISM,
            stop: None,
        }
    }
}

/// Only `Client` implements [`ReconcileExt`], so adding a method to it is not a breaking change.
mod sealed {
    pub trait Sealed {}
    impl Sealed for auth0_client_grants::Client {}
}

/// How far a long read or apply has come, for a progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Progress {
    /// Grants read so far.
    Read {
        /// How many.
        grants: usize,
    },
    /// Changes applied so far, of the plan's.
    Applied {
        /// Changes done.
        done: usize,
        /// Changes in the plan.
        total: usize,
    },
}

/// A desired state and a tenant: [`plan`](Self::plan) what would change, [`apply`](Self::apply) it.
#[derive(Clone)]
pub struct Reconcile<'a> {
    client: &'a Client,
    desired: &'a DesiredState,
    mode: Mode,
    progress: Option<&'a (dyn Fn(Progress) + Sync)>,
    management_api: Option<String>,
    /// The credentials' client, where the bindings' client does not know it.
    own_client_id: Option<String>,
    allow_self_lockout: bool,
    parallelism: usize,
    stop: Option<&'a AtomicBool>,
}

impl std::fmt::Debug for Reconcile<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        out.debug_struct("Reconcile")
            .field("desired", &self.desired)
            .field("mode", &self.mode)
            .field("management_api", &self.management_api)
            .field("own_client_id", &self.own_client_id)
            .field("allow_self_lockout", &self.allow_self_lockout)
            .field("parallelism", &self.parallelism)
            .finish_non_exhaustive()
    }
}

/// An export: the tenant's grants and their organizations as a desired state (see
/// [`DesiredState::from_tenant`]), which applied to the same tenant changes nothing. Made by
/// [`export`] or [`Export::new`], set with [`parallelism`](Self::parallelism),
/// [`by_name`](Self::by_name) and [`on_progress`](Self::on_progress), and read by
/// [`run`](Self::run) or by `.await` on it.
///
/// It reads every grant, in one checkpoint walk (`read:client_grants`), and the organizations of
/// those whose `organization_usage` lets them have any (`read:organizations`), many at a time
/// while the walk goes on; by name, the applications too (`read:clients`).
///
/// ```no_run
/// use auth0_grants::reconcile::{Export, export};
///
/// # async fn example(client: auth0_client_grants::Client) -> Result<(), Box<dyn std::error::Error>> {
/// let desired = export(&client).await?; // every grant, applications by `client_id`
/// let named = Export::new(&client).by_name(true).parallelism(4).run().await?;
/// std::fs::write("grants.toml", named.to_toml())?;
/// # let _ = desired;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
#[must_use = "an export reads nothing until it is run or awaited"]
pub struct Export<'a> {
    client: &'a Client,
    parallelism: usize,
    by_name: bool,
    progress: Option<&'a (dyn Fn(Progress) + Sync)>,
}

/// The export of `client`'s tenant, [`Export::new`] by a shorter name: `export(&client).await`
/// is the tenant as a desired state.
pub fn export(client: &Client) -> Export<'_> {
    Export::new(client)
}

impl std::fmt::Debug for Export<'_> {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        out.debug_struct("Export")
            .field("parallelism", &self.parallelism)
            .field("by_name", &self.by_name)
            .finish_non_exhaustive()
    }
}

impl<'a> Export<'a> {
    /// The export of `client`'s tenant: [`DEFAULT_PARALLELISM`] grants' organizations read at a
    /// time, applications by `client_id`.
    pub fn new(client: &'a Client) -> Self {
        Self {
            client,
            parallelism: DEFAULT_PARALLELISM,
            by_name: false,
            progress: None,
        }
    }

    /// How many grants' organizations are read at once while the walk of the grants goes on:
    /// [`DEFAULT_PARALLELISM`] unless set, and at least one, as for
    /// [`Reconcile::parallelism`]. Every request goes through this client, whose pacer holds
    /// them to the tenant's rate limit.
    pub fn parallelism(mut self, parallelism: usize) -> Self {
        self.parallelism = parallelism.max(1);
        self
    }

    /// Whether to name each application by its name (`client`) where no other application has
    /// that name, and by `client_id` where one does (see [`DesiredState::name_applications`]),
    /// so that the file serves another tenant; reads the applications (`read:clients`) after
    /// the grants. Off unless set.
    pub fn by_name(mut self, by_name: bool) -> Self {
        self.by_name = by_name;
        self
    }

    /// Called as grants are read ([`Progress::Read`]), for a progress bar.
    pub fn on_progress(mut self, progress: &'a (dyn Fn(Progress) + Sync)) -> Self {
        self.progress = Some(progress);
        self
    }

    /// Reads the tenant and gives it as a desired state. `.await` on the export does the same.
    /// It takes the export, as a builder's `send()` does, so that the future can be held past
    /// the statement that built it (`let pending = export(&client).run();`); clone the export to
    /// run it again.
    pub async fn run(self) -> Result<DesiredState, ReconcileError> {
        let exported = read_export(self.client, self.parallelism, self.progress).await?;
        if !self.by_name {
            return Ok(exported);
        }
        let applications = crate::lookups::applications(self.client).await?;
        Ok(exported.name_applications(&applications))
    }
}

/// `export(&client).await`: [`Export::run`], for an export used as it is built.
impl<'a> std::future::IntoFuture for Export<'a> {
    type Output = Result<DesiredState, ReconcileError>;
    type IntoFuture = std::pin::Pin<Box<dyn Future<Output = Self::Output> + Send + 'a>>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(self.run())
    }
}

/// The tenant's grants and their organizations, as [`DesiredState::from_tenant`] needs them.
async fn read_export(
    client: &Client,
    parallelism: usize,
    progress: Option<&(dyn Fn(Progress) + Sync)>,
) -> Result<DesiredState, ReconcileError> {
    let has_organizations = |grant: &ClientGrant| {
        plan::allows_organizations(grant.organization_usage.as_ref()) && grant.is_system != Some(true)
    };
    let tenant = read_tenant(client, has_organizations, parallelism, progress).await?;
    Ok(DesiredState::from_tenant(&tenant)?)
}

/// Every grant, in one checkpoint walk (100 a page), and the organizations of those
/// `needs_organizations` picks, `parallelism` grants at a time (at least one) while the walk
/// goes on; the client's pacer holds the reads to the tenant's rate limit.
async fn read_tenant(
    client: &Client,
    needs_organizations: impl Fn(&ClientGrant) -> bool,
    parallelism: usize,
    progress: Option<&(dyn Fn(Progress) + Sync)>,
) -> Result<TenantState, Error> {
    // The walk hands on the grants to read as it goes rather than being read from: pulled by
    // the reads, it asked for its next page only once they had room, and the rate limit's
    // allowance went unused while that page crossed the network.
    let (to_read, mut ids) = tokio::sync::mpsc::unbounded_channel();
    let walk = async move {
        let mut grants = Vec::new();
        let mut pages = client.client_grants().list().take(100).stream();
        while let Some(grant) = pages.try_next().await? {
            if needs_organizations(&grant) {
                // Refused only once the reads have failed, and then the walk's caller fails
                // with them.
                let _ = to_read.send(grant.id.clone());
            }
            grants.push(grant);
            if let Some(progress) = progress
                && grants.len() % 100 == 0
            {
                progress(Progress::Read { grants: grants.len() });
            }
        }
        Ok(grants)
    };
    let ids = futures_util::stream::poll_fn(move |context| ids.poll_recv(context));
    let reads = read_organizations_of(client, ids, parallelism);
    let (grants, organizations) = futures_util::future::try_join(walk, reads).await?;
    Ok(TenantState::new(grants, organizations))
}

/// `https://{tenant}[.{region}].auth0.com/api/v2/`: the identifier of every tenant's Management
/// API, whatever custom domain the tenant has.
fn looks_like_a_management_api(audience: &str) -> bool {
    audience
        .strip_prefix("https://")
        .and_then(|rest| rest.strip_suffix("/api/v2/"))
        .is_some_and(|host| host.ends_with(".auth0.com") && !host.contains('/'))
}

/// The organizations of each grant of `ids`, `parallelism` grants at a time (at least one).
async fn read_organizations_of(
    client: &Client,
    ids: impl futures_util::Stream<Item = String>,
    parallelism: usize,
) -> Result<HashMap<String, Vec<String>>, Error> {
    ids.map(|id| async move {
        let organizations = read_organizations(client, &id).await?;
        Ok((id, organizations))
    })
    .buffer_unordered(parallelism.max(1))
    .try_collect()
    .await
}

async fn read_organizations(client: &Client, grant_id: &str) -> Result<Vec<String>, Error> {
    client
        .client_grants()
        .organizations(grant_id.to_owned())
        .stream()
        .map_ok(|organization| organization.id)
        .try_collect()
        .await
}

impl<'a> Reconcile<'a> {
    /// Additive (the default) or authoritative.
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// How many changes [`apply`](Self::apply) writes at once, and how many grants'
    /// organizations [`plan`](Self::plan) reads at once: [`DEFAULT_PARALLELISM`] unless set,
    /// and at least one. Every request goes through this client, whose pacer holds them to the
    /// tenant's rate limit, so more than the rate times the round trip gains nothing.
    #[must_use]
    pub fn parallelism(mut self, parallelism: usize) -> Self {
        self.parallelism = parallelism.max(1);
        self
    }

    /// Lets the caller stop an apply cleanly (on Ctrl-C, say): once `stop` is true, no change
    /// starts; those already running finish, and the apply returns its report with the rest in
    /// [`ApplyReport::not_started`]. Running the apply again converges.
    #[must_use]
    pub fn stop_when(mut self, stop: &'a AtomicBool) -> Self {
        self.stop = Some(stop);
        self
    }

    /// Called as grants are read and changes applied, for a progress bar.
    #[must_use]
    pub fn on_progress(mut self, progress: &'a (dyn Fn(Progress) + Sync)) -> Self {
        self.progress = Some(progress);
        self
    }

    /// The identifier of the tenant's Management API (`https://{domain}/api/v2/`), a system API:
    /// a desired `allow_all_scopes = true` for it is refused when planning, and a grant on it
    /// never sends the field. Needed where the identifier is not Auth0's own shape,
    /// `https://{tenant}[.{region}].auth0.com/api/v2/`, which is known without it (a proxy, a
    /// fake tenant). APIs that Auth0 holds `is_system` grants on are system APIs too.
    #[must_use]
    pub fn management_api(mut self, identifier: impl Into<String>) -> Self {
        self.management_api = Some(identifier.into());
        self
    }

    /// The system APIs among the audiences of the desired state and the tenant.
    fn system_apis(&self, tenant: &TenantState) -> std::collections::HashSet<String> {
        let named = self
            .desired
            .grants
            .iter()
            .map(|grant| &grant.audience)
            .filter(|audience| self.is_management_api(audience))
            .cloned();
        let of_system_grants = tenant
            .grants
            .iter()
            .filter(|grant| grant.is_system == Some(true))
            .map(|grant| grant.audience.clone());
        named.chain(of_system_grants).collect()
    }

    /// Reads what the tenant has, as far as the plan needs it: one checkpoint walk of the
    /// grants (100 a page) and, while it goes on, the organizations of the grants where they
    /// matter ([`TenantState::needs_organizations`]). A desired state that names applications
    /// must be [resolved](DesiredState::resolve) first: one that is not is a
    /// [`ReconcileError::Desired`], and nothing is read.
    pub async fn tenant(&self) -> Result<TenantState, ReconcileError> {
        self.desired.refuse_unresolved()?;
        let needs_organizations = TenantState::organizations_needed(self.desired, self.mode);
        Ok(read_tenant(self.client, needs_organizations, self.parallelism, self.progress).await?)
    }

    /// What would make the tenant match the desired state; writes nothing. A desired state the
    /// API would refuse given what the tenant has is a [`ReconcileError::Desired`] naming the
    /// field and the line (see [`management_api`](Self::management_api)), and so is an audience
    /// that names no API of the tenant or a scope its API does not define; without
    /// `read:resource_servers` the scopes are not checked and [`Plan::warnings`] says so. A plan
    /// that would take away the credentials' own access to the Management API (delete their
    /// grant on it, take scopes from it, or make it require an organization) is a
    /// [`ReconcileError::SelfLockout`] (see [`allow_self_lockout`](Self::allow_self_lockout)).
    pub async fn plan(&self) -> Result<Plan, ReconcileError> {
        Ok(self.read_and_plan().await?.1)
    }

    /// What the tenant has, and the plan made from it once the desired state is checked
    /// against it.
    async fn read_and_plan(&self) -> Result<(TenantState, Plan), ReconcileError> {
        let tenant = self.tenant().await?;
        self.desired.check_against(&tenant, &self.system_apis(&tenant))?;
        let scopes_unchecked = api_scopes::check(self.client, self.desired).await?;
        let mut plan = Plan::compute(&tenant, self.desired, self.mode);
        let lockout_unchecked = self.check_lockout(&plan)?;
        for warning in scopes_unchecked.into_iter().chain(lockout_unchecked) {
            plan.warn(warning);
        }
        Ok((tenant, plan))
    }

    /// Writes `plan`, [`parallelism`](Self::parallelism) changes at a time, in the order that
    /// matters: a grant is created before its organizations are associated, a recreate creates
    /// the new grant before it deletes the old, organizations are dissociated before their grant
    /// is deleted; changes of different grants run concurrently. It converges: a create that
    /// meets a 409 (the grant was created meanwhile) brings that grant in line; deleting or
    /// dissociating what is gone, and associating what is, are done; an update reads the grant
    /// first and writes what differs now, never what the plan saw. A failure stops it cleanly:
    /// no change starts after it, those running finish, and the [`ApplyError`] says what was
    /// done, what failed and why, and what did not start; running again converges.
    /// A plan that would take away the credentials' own access to the Management API is
    /// refused before anything is written, as when planning, and so is a desired state whose
    /// application names are not resolved ([`DesiredState::resolve`]).
    pub async fn apply(&self, plan: &Plan) -> Result<ApplyReport, ApplyError> {
        if let Some(refusal) = self.refuse_lockout(plan) {
            return Err(refusal);
        }
        if let (Err(unresolved), Some(first)) = (self.desired.refuse_unresolved(), plan.changes().first()) {
            return Err(ApplyError::refused(plan, first, unresolved.into()));
        }
        let settings = apply::Settings {
            parallelism: self.parallelism,
            progress: self.progress,
            stop: self.stop,
        };
        apply::apply(self.client, self.desired, plan, &settings).await
    }
}
