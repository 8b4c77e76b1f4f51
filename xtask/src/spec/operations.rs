//! The Management API operations this crate covers.

/// One operation of Auth0's Management API that the crate wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub operation_id: &'static str,
}

/// The nine client-grant operations, in the order the spec subset lists them.
const CLIENT_GRANT_OPERATIONS: [Operation; 9] = [
    op("get", "/client-grants", "get_client-grants"),
    op("post", "/client-grants", "post_client-grants"),
    op("get", "/client-grants/{id}", "get_client-grant"),
    op("patch", "/client-grants/{id}", "patch_client-grants_by_id"),
    op("delete", "/client-grants/{id}", "delete_client-grants_by_id"),
    op(
        "get",
        "/client-grants/{id}/organizations",
        "get_client-grant-organizations",
    ),
    op(
        "get",
        "/organizations/{id}/client-grants",
        "get_organization-client-grants",
    ),
    op(
        "post",
        "/organizations/{id}/client-grants",
        "create_organization-client-grants",
    ),
    op(
        "delete",
        "/organizations/{id}/client-grants/{grant_id}",
        "delete_client-grants_by_grant_id",
    ),
];

/// The two read-only lookups grants as code needs: an application's id from its name, and the
/// scopes an API defines. Only what it reads is kept of their responses (narrow.rs).
const LOOKUP_OPERATIONS: [Operation; 2] = [
    op("get", "/clients", "get_clients"),
    op("get", "/resource-servers/{id}", "get_resource-servers_by_id"),
];

/// Every operation the crate wraps: the client-grant operations, then the lookups.
pub const OPERATIONS: [Operation; 11] = {
    let mut all = [CLIENT_GRANT_OPERATIONS[0]; 11];
    let mut index = 0;
    while index < all.len() {
        all[index] = if index < CLIENT_GRANT_OPERATIONS.len() {
            CLIENT_GRANT_OPERATIONS[index]
        } else {
            LOOKUP_OPERATIONS[index - CLIENT_GRANT_OPERATIONS.len()]
        };
        index += 1;
    }
    all
};

const fn op(method: &'static str, path: &'static str, operation_id: &'static str) -> Operation {
    Operation {
        method,
        path,
        operation_id,
    }
}

/// The HTTP methods an OpenAPI path item may hold, as its keys spell them.
pub const HTTP_METHODS: [&str; 8] = [
    "get", "put", "post", "delete", "options", "head", "patch", "trace",
];
