//! What can go wrong with grants as code: a desired state that cannot be, and a plan, export or
//! apply that could not read or write the tenant.

use std::fmt;

/// A desired state refused before anything is read or written: a grants file that does not
/// parse or breaks its rules, grants built in code that break them, or a grant of the tenant
/// that an export could not write back.
///
/// Most are one problem. Where a check goes through the whole file (the application names that
/// do not resolve), the error holds every problem it found, in file order: [`field`](Self::field),
/// [`line`](Self::line) and [`problem`](Self::problem) are the first's, [`all`](Self::all) gives
/// each, and the message has one line per problem.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DesiredError {
    field: String,
    line: Option<usize>,
    problem: String,
    /// The problems found besides this one, in file order; each has none of its own.
    more: Vec<DesiredError>,
}

impl fmt::Display for DesiredError {
    /// `invalid `{field}`: {problem}`, and the same for each further problem on a line of its
    /// own, indented.
    fn fmt(&self, out: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, error) in self.all().enumerate() {
            if index > 0 {
                out.write_str("\n  ")?;
            }
            write!(out, "invalid `{}`: {}", error.field, error.problem)?;
        }
        Ok(())
    }
}

impl std::error::Error for DesiredError {}

impl DesiredError {
    pub(crate) fn new(field: impl Into<String>, line: Option<usize>, problem: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            line,
            problem: problem.into(),
            more: Vec::new(),
        }
    }

    /// One error of `problems` (each of one problem), in their order; `None` when there are
    /// none.
    pub(crate) fn of_all(problems: impl IntoIterator<Item = DesiredError>) -> Option<Self> {
        let mut problems = problems.into_iter();
        let mut first = problems.next()?;
        first.more.extend(problems);
        Some(first)
    }

    /// Every problem of this error, this one first, in file order: one for most errors, one per
    /// application name for names that do not resolve. Each has its own field, line and
    /// problem, and no further ones.
    pub fn all(&self) -> impl Iterator<Item = &DesiredError> {
        std::iter::once(self).chain(&self.more)
    }

    /// Where: the field's path (`grant[1].scope`), a whole grant (`grant[1]`), `file` for TOML
    /// that does not parse, or for an export the setting of the tenant's grant (`subject_type`).
    /// For an error of several problems, the first's.
    pub fn field(&self) -> &str {
        &self.field
    }

    /// The line of the file the problem is on, when the problem comes from a file (the first
    /// problem's, for an error of several).
    pub fn line(&self) -> Option<usize> {
        self.line
    }

    /// What is wrong, as a sentence a person can act on; it names the line too (the first
    /// problem, for an error of several: [`all`](Self::all) gives each).
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
