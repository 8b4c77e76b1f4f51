//! The Management API operations this crate covers.

/// One operation of Auth0's Management API that the crate wraps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Operation {
    pub method: &'static str,
    pub path: &'static str,
    pub operation_id: &'static str,
}

/// The nine client-grant operations, in the order the spec subset lists them.
pub const CLIENT_GRANT_OPERATIONS: [Operation; 9] = [
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
