//! The `Auth0-Client` header Auth0's SDKs send, naming this crate (and a crate that wraps it).

use base64::Engine;

/// The rustc that built this crate, as `build.rs` found it.
const RUSTC_VERSION: &str = env!("AUTH0_CLIENT_GRANTS_RUSTC_VERSION");

/// `base64(JSON)` of `{"name":…,"version":…,"env":{…}}`. A wrapping crate is named first, as
/// Auth0's SDKs do, with this crate in `env`.
pub(crate) fn auth0_client_header(wrapper: Option<(&str, &str)>) -> String {
    let own = ("auth0-client-grants", env!("CARGO_PKG_VERSION"));
    let (name, version) = wrapper.unwrap_or(own);
    let mut env = serde_json::Map::new();
    env.insert("rust".into(), RUSTC_VERSION.into());
    if wrapper.is_some() {
        env.insert(own.0.into(), own.1.into());
    }
    let json = serde_json::json!({"name": name, "version": version, "env": env});
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(json.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(header: &str) -> serde_json::Value {
        let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(header)
            .unwrap();
        serde_json::from_slice(&bytes).unwrap()
    }

    #[test]
    fn names_this_crate_and_the_compiler() {
        let json = decode(&auth0_client_header(None));
        assert_eq!(json["name"], "auth0-client-grants");
        assert_eq!(json["version"], env!("CARGO_PKG_VERSION"));
        assert_eq!(json["env"]["rust"], RUSTC_VERSION);
        assert!(
            RUSTC_VERSION.chars().next().is_some_and(|c| c.is_ascii_digit()),
            "{RUSTC_VERSION}"
        );
    }

    #[test]
    fn a_wrapping_crate_is_named_first_with_this_crate_in_env() {
        let json = decode(&auth0_client_header(Some(("tenant-sync", "2.1.0"))));
        assert_eq!(json["name"], "tenant-sync");
        assert_eq!(json["version"], "2.1.0");
        assert_eq!(json["env"]["auth0-client-grants"], env!("CARGO_PKG_VERSION"));
    }
}
