//! The operations of the spec (the nine client-grant operations and two read-only lookups), as
//! [`Client::run`](crate::Client) needs to know them: the name progenitor gives each, its
//! method (which decides what may be retried) and the success status whose body it decodes
//! (named in decode errors). A test holds them to the spec.

use reqwest::Method;

/// One generated operation.
#[derive(Debug)]
pub(crate) struct Operation {
    /// progenitor's name for it (the spec's `operationId` in snake case).
    pub(crate) id: &'static str,
    pub(crate) method: Method,
    /// Its first documented success status (the deletes answer 200 or 204, with no body).
    pub(crate) success: u16,
}

impl Operation {
    const fn new(id: &'static str, method: Method, success: u16) -> Self {
        Self { id, method, success }
    }
}

pub(crate) static GET_CLIENT_GRANTS: Operation = Operation::new("get_client_grants", Method::GET, 200);
pub(crate) static POST_CLIENT_GRANTS: Operation = Operation::new("post_client_grants", Method::POST, 201);
pub(crate) static GET_CLIENT_GRANT: Operation = Operation::new("get_client_grant", Method::GET, 200);
pub(crate) static PATCH_CLIENT_GRANTS_BY_ID: Operation =
    Operation::new("patch_client_grants_by_id", Method::PATCH, 200);
pub(crate) static DELETE_CLIENT_GRANTS_BY_ID: Operation =
    Operation::new("delete_client_grants_by_id", Method::DELETE, 200);
pub(crate) static GET_CLIENT_GRANT_ORGANIZATIONS: Operation =
    Operation::new("get_client_grant_organizations", Method::GET, 200);
pub(crate) static GET_ORGANIZATION_CLIENT_GRANTS: Operation =
    Operation::new("get_organization_client_grants", Method::GET, 200);
pub(crate) static CREATE_ORGANIZATION_CLIENT_GRANTS: Operation =
    Operation::new("create_organization_client_grants", Method::POST, 201);
pub(crate) static DELETE_CLIENT_GRANTS_BY_GRANT_ID: Operation =
    Operation::new("delete_client_grants_by_grant_id", Method::DELETE, 200);
pub(crate) static GET_CLIENTS: Operation = Operation::new("get_clients", Method::GET, 200);
pub(crate) static GET_RESOURCE_SERVERS_BY_ID: Operation =
    Operation::new("get_resource_servers_by_id", Method::GET, 200);

#[cfg(test)]
mod tests {
    use super::*;

    static ALL: [&Operation; 11] = [
        &GET_CLIENT_GRANTS,
        &POST_CLIENT_GRANTS,
        &GET_CLIENT_GRANT,
        &PATCH_CLIENT_GRANTS_BY_ID,
        &DELETE_CLIENT_GRANTS_BY_ID,
        &GET_CLIENT_GRANT_ORGANIZATIONS,
        &GET_ORGANIZATION_CLIENT_GRANTS,
        &CREATE_ORGANIZATION_CLIENT_GRANTS,
        &DELETE_CLIENT_GRANTS_BY_GRANT_ID,
        &GET_CLIENTS,
        &GET_RESOURCE_SERVERS_BY_ID,
    ];

    #[test]
    fn every_operation_has_the_method_and_success_status_of_the_spec() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/client-grants.json")).expect("the spec is JSON");
        let mut in_spec = Vec::new();
        for (path, item) in spec["paths"].as_object().expect("paths") {
            for (method, operation) in item.as_object().expect("a path item") {
                let Some(id) = operation["operationId"].as_str() else {
                    continue;
                };
                let responses = operation["responses"].as_object().expect("responses");
                let success = responses
                    .keys()
                    .filter_map(|status| status.parse::<u16>().ok())
                    .find(|status| (200..300).contains(status))
                    .unwrap_or_else(|| panic!("{id} has no success status"));
                in_spec.push((id.replace('-', "_"), method.to_uppercase(), success, path.clone()));
            }
        }
        assert_eq!(in_spec.len(), ALL.len(), "{in_spec:?}");
        for (id, method, success, path) in in_spec {
            let known = ALL
                .iter()
                .find(|operation| operation.id == id)
                .unwrap_or_else(|| panic!("{id} ({method} {path}) is not in src/api/operations.rs"));
            assert_eq!(known.method.as_str(), method, "{id}");
            assert_eq!(known.success, success, "{id}");
        }
    }
}
