//! Applications named in a grants file (`client = "Billing Service"`): resolved to their ids
//! before a plan is made, so that one file serves tenants whose ids differ; and the other way,
//! an export that names applications where the name is unique.

use std::collections::HashMap;

use auth0_client_grants::{Client, ClientSummary};

use super::{DesiredError, DesiredGrant, DesiredState, ReconcileError};

/// How many close names an unknown name's error suggests at most.
const SUGGESTIONS: usize = 3;
/// How alike (0 to 1, normalized Damerau-Levenshtein) a name must be to be suggested.
const ALIKE: f64 = 0.7;

impl DesiredState {
    /// Whether a grant names its application by `client`, a name to resolve.
    pub fn uses_names(&self) -> bool {
        self.grants.iter().any(|grant| grant.client.is_some())
    }

    /// This state with each application name (`client`) replaced by the id (`client_id`) of
    /// the one application of `applications` that has it. Names are compared exactly, as Auth0
    /// stores them. No application with the name, or several (Auth0 does not require names to
    /// be unique), is a [`DesiredError`] naming the grant and its line: for several, their
    /// ids; for none, the names most like it. The error holds every name of the file that does
    /// not resolve, in file order ([`DesiredError::all`]), so that one run shows them all. A
    /// name that resolves to an application another grant names by id is the same grant twice,
    /// refused too.
    pub fn resolve_names(&self, applications: &[ClientSummary]) -> Result<Self, DesiredError> {
        let mut ids_by_name: HashMap<&str, Vec<&str>> = HashMap::new();
        for application in applications {
            ids_by_name
                .entry(application.name.as_str())
                .or_default()
                .push(application.client_id.as_str());
        }
        let mut grants = self.grants.clone();
        let mut unresolved = Vec::new();
        for (index, grant) in grants.iter_mut().enumerate() {
            let Some(name) = grant.client.take() else {
                continue;
            };
            match ids_by_name.get(name.as_str()).map(Vec::as_slice) {
                Some([id]) => grant.client_id = Some((*id).to_owned()),
                Some(ids) => unresolved.push(self.refuse(
                    index,
                    "client",
                    format!(
                        "{} applications are named `{name}` ({}): name the one meant by \
                         `client_id` instead",
                        ids.len(),
                        ids.join(", ")
                    ),
                )),
                None => {
                    let close = close_names(&name, ids_by_name.keys().copied());
                    let hint = match close.as_slice() {
                        [] => format!("the tenant has {} applications", applications.len()),
                        close => format!(
                            "did you mean {}?",
                            close
                                .iter()
                                .map(|name| format!("`{name}`"))
                                .collect::<Vec<_>>()
                                .join(", ")
                        ),
                    };
                    unresolved.push(self.refuse(
                        index,
                        "client",
                        format!("no application is named `{name}`; {hint}"),
                    ));
                }
            }
        }
        if let Some(error) = DesiredError::of_all(unresolved) {
            return Err(error);
        }
        let resolved = self.with_grants(grants);
        resolved.check()?;
        Ok(resolved)
    }

    /// This state with its application names resolved against `client`'s tenant (see
    /// [`resolve_names`](Self::resolve_names)). It reads the tenant's applications (`GET
    /// /clients`, scope `read:clients`) only when a grant names one, and writes nothing. A
    /// [`Reconcile`](super::Reconcile) plans only a resolved state, so a saved plan holds the
    /// ids it was planned with and applies to exactly those applications.
    ///
    /// ```no_run
    /// use auth0_grants::reconcile::{DesiredState, ReconcileExt, Variables};
    ///
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), Box<dyn std::error::Error>> {
    /// let variables = Variables::from_toml(&std::fs::read_to_string("prod.vars.toml")?)?;
    /// let file = std::fs::read_to_string("grants.toml")?;
    /// let desired = DesiredState::from_toml_with(&file, &variables)?.resolve(&client).await?;
    /// let plan = client.reconcile(&desired).plan().await?;
    /// # let _ = plan;
    /// # Ok(())
    /// # }
    /// ```
    pub async fn resolve(&self, client: &Client) -> Result<Self, ReconcileError> {
        if !self.uses_names() {
            return Ok(self.clone());
        }
        let applications = crate::lookups::applications(client).await?;
        Ok(self.resolve_names(&applications)?)
    }

    /// This state with each grant's `client_id` replaced by its application's name (`client`)
    /// where exactly one of `applications` has that name, so that the file serves a tenant
    /// whose ids differ; `client_id` stays where the name is shared or the application unknown.
    /// The grants are sorted by who they are for, names first, so that the file does not
    /// change with the tenant's ids.
    pub fn name_applications(&self, applications: &[ClientSummary]) -> Self {
        let mut named: HashMap<&str, usize> = HashMap::new();
        for application in applications {
            *named.entry(application.name.as_str()).or_default() += 1;
        }
        let names: HashMap<&str, &str> = applications
            .iter()
            .filter(|application| named.get(application.name.as_str()) == Some(&1))
            .map(|application| (application.client_id.as_str(), application.name.as_str()))
            .collect();
        let mut grants = self.grants.clone();
        for grant in &mut grants {
            if let Some(name) = grant.client_id.as_deref().and_then(|id| names.get(id)) {
                grant.client = Some((*name).to_owned());
                grant.client_id = None;
            }
        }
        grants.sort_by_key(DesiredGrant::key);
        self.with_grants(grants)
    }

    /// The first grant that names its application, for the error of a state planned unresolved.
    pub(super) fn refuse_unresolved(&self) -> Result<(), DesiredError> {
        let unresolved = self
            .grants
            .iter()
            .enumerate()
            .find_map(|(index, grant)| grant.client.as_ref().map(|name| (index, name)));
        match unresolved {
            None => Ok(()),
            Some((index, name)) => Err(self.refuse(
                index,
                "client",
                format!(
                    "the application name `{name}` is not resolved to its id: plan \
                     `DesiredState::resolve(&client)`'s result"
                ),
            )),
        }
    }
}

/// The names most like `name`, most alike first: those equal but for case, or alike enough.
fn close_names<'a>(name: &str, names: impl Iterator<Item = &'a str>) -> Vec<&'a str> {
    let lower = name.to_lowercase();
    let mut scored: Vec<(f64, &str)> = names
        .map(|candidate| {
            let score = if candidate.to_lowercase() == lower {
                1.0
            } else {
                strsim::normalized_damerau_levenshtein(&lower, &candidate.to_lowercase())
            };
            (score, candidate)
        })
        .filter(|(score, _)| *score >= ALIKE)
        .collect();
    scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(b.1)));
    scored
        .into_iter()
        .take(SUGGESTIONS)
        .map(|(_, name)| name)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn application(client_id: &str, name: &str) -> ClientSummary {
        serde_json::from_value(serde_json::json!({"client_id": client_id, "name": name}))
            .expect("a ClientSummary")
    }

    const API: &str = "https://api.example.com/";

    fn file(grants: &str) -> DesiredState {
        DesiredState::from_toml(grants).unwrap()
    }

    #[test]
    fn a_unique_name_becomes_its_applications_id() {
        let desired = file(
            "[[grant]]\nclient = \"Billing\"\naudience = \"https://api.example.com/\"\n\
             [[grant]]\nclient_id = \"kept\"\naudience = \"https://api.example.com/\"\n",
        );
        assert!(desired.uses_names());
        let resolved = desired
            .resolve_names(&[
                application("id-billing", "Billing"),
                application("id-other", "billing"),
            ])
            .unwrap();
        assert!(!resolved.uses_names());
        assert_eq!(resolved.grants[0].client_id.as_deref(), Some("id-billing"));
        assert_eq!(resolved.grants[0].client, None);
        assert_eq!(resolved.grants[1].client_id.as_deref(), Some("kept"));
    }

    #[test]
    fn a_shared_name_lists_the_ids_and_an_unknown_one_the_closest_names() {
        let desired =
            file("# apps\n[[grant]]\nclient = \"Reports\"\naudience = \"https://api.example.com/\"\n");
        let applications = [
            application("id-1", "Reports"),
            application("id-2", "Reports"),
            application("id-3", "Billing"),
        ];
        let error = desired.resolve_names(&applications).unwrap_err();
        assert_eq!((error.field(), error.line()), ("grant[0].client", Some(3)));
        assert!(
            error
                .problem()
                .contains("2 applications are named `Reports` (id-1, id-2)"),
            "{}",
            error.problem()
        );

        let typo = file("[[grant]]\nclient = \"Reprots\"\naudience = \"https://api.example.com/\"\n");
        let error = typo.resolve_names(&applications).unwrap_err();
        assert!(
            error
                .problem()
                .contains("no application is named `Reprots`; did you mean `Reports`?"),
            "{}",
            error.problem()
        );
        let unknown = file("[[grant]]\nclient = \"Zebra\"\naudience = \"https://api.example.com/\"\n");
        let error = unknown.resolve_names(&applications).unwrap_err();
        assert!(
            error.problem().ends_with("the tenant has 3 applications"),
            "{}",
            error.problem()
        );
    }

    #[test]
    fn every_unresolved_name_of_the_file_is_reported_in_one_error_in_file_order() {
        let desired = file(
            "[[grant]]\nclient = \"Reprots\"\naudience = \"https://api.example.com/\"\n\
             [[grant]]\nclient = \"Billing\"\naudience = \"https://api.example.com/\"\n\
             [[grant]]\naudience = \"https://api.example.com/\"\nclient = \"Reports\"\n\
             [[grant]]\nclient = \"Zebra\"\naudience = \"https://api.example.com/\"\n",
        );
        let applications = [
            application("id-1", "Reports"),
            application("id-2", "Reports"),
            application("id-3", "Billing"),
        ];

        let error = desired.resolve_names(&applications).unwrap_err();

        assert_eq!((error.field(), error.line()), ("grant[0].client", Some(2)));
        let each: Vec<(&str, Option<usize>)> =
            error.all().map(|error| (error.field(), error.line())).collect();
        assert_eq!(
            each,
            [
                ("grant[0].client", Some(2)),
                ("grant[2].client", Some(9)),
                ("grant[3].client", Some(11)),
            ]
        );
        let problems: Vec<&str> = error.all().map(DesiredError::problem).collect();
        assert_eq!(
            problems,
            [
                "grant[0] (line 2): no application is named `Reprots`; did you mean `Reports`?",
                "grant[2] (line 9): 2 applications are named `Reports` (id-1, id-2): name the one \
                 meant by `client_id` instead",
                "grant[3] (line 11): no application is named `Zebra`; the tenant has 3 applications",
            ]
        );
        assert_eq!(
            error.to_string(),
            "invalid `grant[0].client`: grant[0] (line 2): no application is named `Reprots`; did \
             you mean `Reports`?\n  invalid `grant[2].client`: grant[2] (line 9): 2 applications \
             are named `Reports` (id-1, id-2): name the one meant by `client_id` instead\n  invalid \
             `grant[3].client`: grant[3] (line 11): no application is named `Zebra`; the tenant has \
             3 applications"
        );
    }

    #[test]
    fn a_name_and_an_id_of_one_application_are_the_same_grant_twice() {
        let desired = DesiredState::new([
            DesiredGrant::named("Billing", API),
            DesiredGrant::new("id-billing", API),
        ])
        .unwrap();
        let error = desired
            .resolve_names(&[application("id-billing", "Billing")])
            .unwrap_err();
        assert_eq!(error.field(), "grant[1]");
        assert!(
            error.problem().contains("the same grant as grant[0]"),
            "{}",
            error.problem()
        );
    }

    #[test]
    fn an_export_names_applications_only_where_the_name_is_unique() {
        let exported = DesiredState::new([
            DesiredGrant::new("id-billing", API),
            DesiredGrant::new("id-gone", API),
            DesiredGrant::new("id-r1", API),
        ])
        .unwrap();
        let applications = [
            application("id-billing", "Billing"),
            application("id-r1", "Reports"),
            application("id-r2", "Reports"),
        ];
        let named = exported.name_applications(&applications);
        let subjects: Vec<(Option<&str>, Option<&str>)> = named
            .grants
            .iter()
            .map(|grant| (grant.client.as_deref(), grant.client_id.as_deref()))
            .collect();
        assert_eq!(
            subjects,
            [
                (Some("Billing"), None),
                (None, Some("id-gone")),
                (None, Some("id-r1"))
            ]
        );
        let mut resolved = named.resolve_names(&applications).unwrap();
        resolved.grants.sort_by_key(DesiredGrant::key);
        assert_eq!(resolved, exported);
    }
}
