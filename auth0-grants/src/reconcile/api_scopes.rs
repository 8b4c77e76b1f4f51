//! The scopes a desired state lists, checked against those its APIs define. Auth0 accepts a
//! scope its API does not define and puts it in tokens, so a typo would otherwise go unnoticed
//! until something is refused at run time.

use std::collections::HashMap;

use auth0_client_grants::Client;

use super::{DesiredError, DesiredState, PlanWarning, ReconcileError};
use crate::lookups;

/// The scopes each API defines, by identifier; `None` for an identifier that names no API.
pub(crate) type ApiScopes = HashMap<String, Option<Vec<String>>>;

/// Reads the APIs `desired` names and checks its grants against them. Without the permission
/// to read APIs nothing is checked, and the warning that says so is returned.
pub(super) async fn check(
    client: &Client,
    desired: &DesiredState,
) -> Result<Option<PlanWarning>, ReconcileError> {
    let audiences = desired.grants.iter().map(|grant| grant.audience.as_str());
    match lookups::api_scopes(client, audiences).await? {
        Some(apis) => {
            refuse_undefined(desired, &apis)?;
            Ok(None)
        }
        None => Ok(Some(PlanWarning::ScopesNotChecked)),
    }
}

/// The first grant of `desired` whose audience names no API, or that lists a scope its API
/// does not define, naming the grant, its line and the API's scopes.
pub(crate) fn refuse_undefined(desired: &DesiredState, apis: &ApiScopes) -> Result<(), DesiredError> {
    for (index, grant) in desired.grants.iter().enumerate() {
        let Some(defined) = apis.get(&grant.audience) else {
            continue;
        };
        let Some(defined) = defined else {
            return Err(desired.refuse(
                index,
                "audience",
                format!("`{}` names no API of the tenant", grant.audience),
            ));
        };
        if let Some(undefined) = grant.scope.iter().find(|scope| !defined.contains(scope)) {
            return Err(desired.refuse(
                index,
                "scope",
                format!(
                    "`{undefined}` is not a scope of `{}`, which defines {}",
                    grant.audience,
                    listed(defined)
                ),
            ));
        }
    }
    Ok(())
}

/// `read:a`, `write:a`, or `no scopes`.
fn listed(scopes: &[String]) -> String {
    if scopes.is_empty() {
        return "no scopes".to_owned();
    }
    scopes
        .iter()
        .map(|scope| format!("`{scope}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = "[[grant]]\nclient_id = \"billing\"\naudience = \"https://api.example.com/\"\n\
                        scope = [\"read:invoices\", \"wirte:invoices\"]\n\n\
                        [[grant]]\nclient_id = \"reports\"\naudience = \"https://gone.example.com/\"\n";

    fn apis(entries: &[(&str, Option<&[&str]>)]) -> ApiScopes {
        entries
            .iter()
            .map(|(identifier, scopes)| {
                let scopes = scopes.map(|scopes| scopes.iter().map(|scope| (*scope).to_owned()).collect());
                ((*identifier).to_owned(), scopes)
            })
            .collect()
    }

    #[test]
    fn a_scope_the_api_does_not_define_names_the_grant_its_line_and_the_apis_scopes() {
        let desired = DesiredState::from_toml(FILE).unwrap();
        let defined: &[&str] = &["read:invoices", "write:invoices"];

        let error =
            refuse_undefined(&desired, &apis(&[("https://api.example.com/", Some(defined))])).unwrap_err();

        assert_eq!(error.field(), "grant[0].scope");
        assert_eq!(error.line(), Some(4));
        assert_eq!(
            error.problem(),
            "grant[0] (line 4): `wirte:invoices` is not a scope of `https://api.example.com/`, \
             which defines `read:invoices`, `write:invoices`"
        );
    }

    #[test]
    fn an_audience_that_names_no_api_is_refused_at_its_line() {
        let desired = DesiredState::from_toml(FILE).unwrap();
        let defined: &[&str] = &["read:invoices", "wirte:invoices"];

        let error = refuse_undefined(
            &desired,
            &apis(&[
                ("https://api.example.com/", Some(defined)),
                ("https://gone.example.com/", None),
            ]),
        )
        .unwrap_err();

        assert_eq!(error.field(), "grant[1].audience");
        assert_eq!(error.line(), Some(8));
        assert!(
            error
                .problem()
                .contains("`https://gone.example.com/` names no API"),
            "{}",
            error.problem()
        );
    }

    #[test]
    fn an_api_with_no_scopes_says_so_and_defined_scopes_pass() {
        let desired = DesiredState::from_toml(FILE).unwrap();
        let error =
            refuse_undefined(&desired, &apis(&[("https://api.example.com/", Some(&[]))])).unwrap_err();
        assert!(
            error.problem().ends_with("which defines no scopes"),
            "{}",
            error.problem()
        );

        let defined: &[&str] = &["read:invoices", "wirte:invoices", "write:invoices"];
        let no_scope: &[&str] = &[];
        assert_eq!(
            refuse_undefined(
                &desired,
                &apis(&[
                    ("https://api.example.com/", Some(defined)),
                    ("https://gone.example.com/", Some(no_scope)),
                ]),
            ),
            Ok(())
        );
    }
}
