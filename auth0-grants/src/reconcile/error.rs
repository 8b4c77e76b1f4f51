//! What can go wrong with grants as code: a desired state that cannot be, and a plan, export or
//! apply that could not read or write the tenant.

/// A desired state refused before anything is read or written: a grants file that does not
/// parse or breaks its rules, grants built in code that break them, or a grant of the tenant
/// that an export could not write back.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid `{field}`: {problem}")]
pub struct DesiredError {
    field: String,
    line: Option<usize>,
    problem: String,
}

impl DesiredError {
    pub(crate) fn new(field: impl Into<String>, line: Option<usize>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            line,
            problem: problem.into(),
        }
    }

    /// Where: the field's path (`grant[1].scope`), a whole grant (`grant[1]`), `file` for TOML
    /// that does not parse, or for an export the setting of the tenant's grant (`subject_type`).
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The line of the file the problem is on, when the problem comes from a file.
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// What is wrong, as a sentence a person can act on; it names the line too.
    pub fn problem(&self) -> &str {
        &self.problem
    }
}

/// Why a plan, an export or one change of an apply failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReconcileError {
    /// Reading or writing the tenant failed; the bindings' error says how (`is_not_found()`,
    /// `status()`, …).
    #[error(transparent)]
    Client(#[from] auth0_client_grants::Error),
    /// The desired state cannot be planned against this tenant (an application name that
    /// resolves to none or several, a scope or audience the tenant's APIs do not define, names
    /// not resolved before planning), or the tenant has a grant a desired state cannot hold (an
    /// export). The error names the field and its line.
    #[error(transparent)]
    Desired(#[from] DesiredError),
    /// The plan does not fit the desired state it is applied with.
    #[error("invalid `plan`: {0}")]
    Mismatch(String),
    /// The plan would delete, take scopes from, or make require an organization, the grant by
    /// which the credentials in use reach the Management API; nothing was written.
    /// [`Reconcile::allow_self_lockout`](super::Reconcile::allow_self_lockout) lets it go ahead.
    /// Boxed, so that every result that may hold this error stays small.
    #[error("refused: {0}; nothing was written")]
    SelfLockout(Box<super::SelfLockout>),
}
