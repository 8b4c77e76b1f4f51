//! What several test files ask of the fake tenant.

use auth0_client_grants::testing::FakeTenant;

/// Every request that writes (not a read, not a token request), as `METHOD path body`.
pub fn writes(tenant: &FakeTenant) -> Vec<String> {
    tenant
        .requests()
        .iter()
        .filter(|request| request.method != "GET" && request.path != "/oauth/token")
        .map(|request| format!("{} {} {:?}", request.method, request.path, request.body))
        .collect()
}
