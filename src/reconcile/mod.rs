//! Declarative client grants: make the tenant's grants match a list.
//!
//! ```no_run
//! use auth0_client_grants::reconcile::{DesiredState, Mode};
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
//! needs (one walk of the grants, and the organizations only of grants where they matter), and
//! [`Reconcile::apply`] writes through the same client as every other call, paced and retried.

mod apply;
mod desired;
mod plan;

pub use apply::{ApplyError, ApplyReport};
pub use desired::{DesiredGrant, DesiredState, GrantKey};
pub use plan::{Change, FieldChange, Mode, Plan, TenantState, Untouched};

use futures_util::TryStreamExt;

use crate::{Client, ClientGrant, Error};

impl Client {
    /// Plans and applies `desired` against this client's tenant (see [`reconcile`](crate::reconcile)).
    pub fn reconcile<'a>(&'a self, desired: &'a DesiredState) -> Reconcile<'a> {
        Reconcile {
            client: self,
            desired,
            mode: Mode::default(),
        }
    }
}

/// A desired state and a tenant: [`plan`](Self::plan) what would change, [`apply`](Self::apply) it.
#[derive(Debug, Clone)]
pub struct Reconcile<'a> {
    client: &'a Client,
    desired: &'a DesiredState,
    mode: Mode,
}

impl Reconcile<'_> {
    /// Additive (the default) or authoritative.
    #[must_use]
    pub fn mode(mut self, mode: Mode) -> Self {
        self.mode = mode;
        self
    }

    /// Reads what the tenant has, as far as the plan needs it: one checkpoint walk of the
    /// grants, then the organizations of the grants where they matter.
    pub async fn tenant(&self) -> Result<TenantState, Error> {
        let grants: Vec<ClientGrant> = self.client.client_grants().list().stream().try_collect().await?;
        let mut organizations = std::collections::HashMap::new();
        for id in TenantState::needs_organizations(&grants, self.desired, self.mode) {
            let ids: Vec<String> = self
                .client
                .client_grants()
                .organizations(id.clone())
                .stream()
                .map_ok(|organization| organization.id)
                .try_collect()
                .await?;
            organizations.insert(id, ids);
        }
        Ok(TenantState::new(grants, organizations))
    }

    /// What would make the tenant match the desired state; writes nothing.
    pub async fn plan(&self) -> Result<Plan, Error> {
        Ok(Plan::compute(&self.tenant().await?, self.desired, self.mode))
    }

    /// Writes `plan`, in its order: creates before associations, dissociations before deletes.
    /// It converges: a create that meets a 409 (the grant was created meanwhile) brings that
    /// grant in line; deleting or dissociating what is gone, and associating what is, are done;
    /// an update reads the grant first and writes what differs now, never what the plan saw.
    /// A failure stops it with an [`ApplyError`] saying what was done; running again converges.
    pub async fn apply(&self, plan: &Plan) -> Result<ApplyReport, ApplyError> {
        apply::apply(self.client, self.desired, plan).await
    }
}
