//! The tenant's applications and APIs, which the client-grant operations refer to and the two
//! read-only lookups serve: `GET /clients` (paged, with `fields`) and
//! `GET /resource-servers/{id}` (by id or identifier). Nothing here knows about HTTP.

use std::collections::BTreeMap;

use serde_json::{Map, Value, json};

use super::failure::Failure;
use super::store::{Window, render_page};
use crate::api::generated::types::{ClientSummary, ResourceServer, ResourceServerScope};

/// The name Auth0 gives the Management API's resource server.
const MANAGEMENT_API_NAME: &str = "Auth0 Management API";

/// Which applications `GET /clients` returns; every filter that is set must match.
#[derive(Debug, Default, Clone)]
pub(crate) struct ClientFilter {
    pub(crate) is_first_party: Option<bool>,
    /// Any of these application types.
    pub(crate) app_types: Vec<String>,
}

/// Which fields of each application a response holds (`fields`, `include_fields`).
#[derive(Debug, Default, Clone)]
pub(crate) struct Fields {
    pub(crate) names: Vec<String>,
    pub(crate) include: bool,
}

impl Fields {
    fn apply(&self, mut client: Map<String, Value>) -> Map<String, Value> {
        if !self.names.is_empty() {
            client.retain(|name, _| self.names.contains(name) == self.include);
        }
        client
    }
}

/// The applications (whole, as Auth0 sends them) and the APIs of one tenant.
#[derive(Debug)]
pub(crate) struct Directory {
    /// Applications by a sort key that grows with creation, so the list keeps creation order
    /// and a checkpoint cursor stays valid while applications come and go.
    clients: BTreeMap<String, Map<String, Value>>,
    created: u64,
    apis: Vec<ResourceServer>,
}

impl Directory {
    /// A tenant's directory as Auth0 makes one: the application whose credentials the tests
    /// use, and the Management API (`audience`) as a system API with `scopes`.
    pub(crate) fn new(own_client_id: &str, audience: &str, scopes: &[&str]) -> Self {
        let mut directory = Self {
            clients: BTreeMap::new(),
            created: 0,
            apis: Vec::new(),
        };
        directory.insert_client(own_client_id.to_owned(), "Fake tenant application");
        let management_api = ResourceServer::builder()
            .id(new_api_id())
            .identifier(audience)
            .name(Some(MANAGEMENT_API_NAME.to_owned()))
            .is_system(Some(true))
            .scopes(scopes.iter().map(|scope| scope_of(scope)).collect::<Vec<_>>());
        directory
            .apis
            .push(management_api.try_into().expect("id and identifier are set"));
        directory
    }

    /// Adds a machine-to-machine application named `name`, with a new client id.
    pub(crate) fn add_client(&mut self, name: &str) -> ClientSummary {
        let client = self.insert_client(new_client_id(), name);
        serde_json::from_value(Value::Object(client)).expect("a stored application is a ClientSummary")
    }

    /// Adds an application with `client_id` and `name`.
    pub(crate) fn insert_client_with_id(&mut self, client_id: &str, name: &str) -> ClientSummary {
        assert!(
            self.clients
                .values()
                .all(|client| client.get("client_id").and_then(Value::as_str) != Some(client_id)),
            "the fake tenant already has an application with the client id {client_id:?}"
        );
        let client = self.insert_client(client_id.to_owned(), name);
        serde_json::from_value(Value::Object(client)).expect("a stored application is a ClientSummary")
    }

    fn insert_client(&mut self, client_id: String, name: &str) -> Map<String, Value> {
        // The fields Auth0 sends for a new machine-to-machine application (recorded traffic),
        // without its secret, which needs another scope.
        let client = json!({
            "client_id": client_id,
            "name": name,
            "description": "",
            "app_type": "non_interactive",
            "is_first_party": true,
            "is_token_endpoint_ip_header_trusted": false,
            "oidc_conformant": true,
            "jwt_configuration": {"secret_encoded": false, "alg": "RS256"},
            "sso_disabled": false,
            "cross_origin_authentication": false,
            "grant_types": ["client_credentials"],
            "custom_login_page_on": true,
            "token_endpoint_auth_method": "client_secret_post",
        });
        let Value::Object(client) = client else {
            unreachable!("a JSON object literal")
        };
        self.created += 1;
        self.clients
            .insert(format!("{:020}", self.created), client.clone());
        client
    }

    /// Adds an API with `identifier` and `scopes`; its name is its identifier.
    ///
    /// # Panics
    ///
    /// If an API already has this identifier: Auth0 refuses a second one (409).
    pub(crate) fn add_api(&mut self, identifier: &str, scopes: &[String]) -> ResourceServer {
        assert!(
            self.apis.iter().all(|api| api.identifier != identifier),
            "the fake tenant already has an API with the identifier {identifier:?}"
        );
        let api: ResourceServer = ResourceServer::builder()
            .id(new_api_id())
            .identifier(identifier)
            .name(Some(identifier.to_owned()))
            .is_system(Some(false))
            .scopes(scopes.iter().map(|scope| scope_of(scope)).collect::<Vec<_>>())
            .try_into()
            .expect("id and identifier are set");
        self.apis.push(api.clone());
        api
    }

    /// The applications, oldest first, as `GET /clients` would list them with no fields named.
    pub(crate) fn clients(&self) -> Vec<ClientSummary> {
        self.clients
            .values()
            .map(|client| {
                serde_json::from_value(Value::Object(client.clone()))
                    .expect("a stored application is a ClientSummary")
            })
            .collect()
    }

    /// `GET /clients`: the matching applications, cut by `window`, each with `fields`.
    pub(crate) fn list_clients(
        &self,
        filter: &ClientFilter,
        fields: &Fields,
        window: &Window,
    ) -> Result<Value, Failure> {
        let matching = self
            .clients
            .iter()
            .filter(|(_, client)| {
                filter
                    .is_first_party
                    .is_none_or(|wanted| client.get("is_first_party") == Some(&Value::Bool(wanted)))
                    && (filter.app_types.is_empty()
                        || client
                            .get("app_type")
                            .and_then(Value::as_str)
                            .is_some_and(|app_type| filter.app_types.iter().any(|t| t == app_type)))
            })
            .map(|(sort_key, client)| (sort_key.clone(), fields.apply(client.clone())))
            .collect();
        render_page(matching, window, "clients")
    }

    /// `GET /resource-servers/{id}`: the API with this id or identifier.
    pub(crate) fn api(&self, id: &str) -> Result<&ResourceServer, Failure> {
        self.apis
            .iter()
            .find(|api| api.id == id || api.identifier == id)
            .ok_or_else(Failure::resource_server_not_found)
    }
}

fn scope_of(value: &str) -> ResourceServerScope {
    ResourceServerScope::builder()
        .value(value)
        .description(Some(value.to_owned()))
        .try_into()
        .expect("the value is set")
}

/// 32 alphanumerics, the shape of Auth0's client ids (`vMlLcitIrYwysng0hqWjQSREGa2RSdTK`).
fn new_client_id() -> String {
    std::iter::repeat_with(fastrand::alphanumeric).take(32).collect()
}

/// 24 hexadecimal digits, the shape of Auth0's resource server ids (`6894adff31e56f3d4b1be230`).
fn new_api_id() -> String {
    std::iter::repeat_with(|| char::from_digit(fastrand::u32(0..16), 16).expect("below 16"))
        .take(24)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn directory() -> Directory {
        Directory::new("own-app", "https://tenant.example.com/api/v2/", &["read:clients"])
    }

    #[test]
    fn ids_look_like_auth0_ids() {
        let mut directory = directory();
        let client = directory.add_client("billing");
        assert_eq!(client.client_id.len(), 32);
        let api = directory.add_api("https://api.example.com/", &[]);
        assert_eq!(api.id.len(), 24);
        assert!(api.id.chars().all(|c| c.is_ascii_hexdigit()));
    }

    #[test]
    fn the_management_api_is_a_system_api_found_by_identifier_or_id() {
        let directory = directory();
        let api = directory
            .api("https://tenant.example.com/api/v2/")
            .unwrap()
            .clone();
        assert_eq!(api.is_system, Some(true));
        assert_eq!(api.scopes[0].value, "read:clients");
        assert_eq!(directory.api(&api.id).unwrap(), &api);
        assert_eq!(
            directory.api("https://nowhere.example.com/").unwrap_err(),
            Failure::resource_server_not_found()
        );
    }

    #[test]
    fn fields_keep_or_drop_what_they_name() {
        let mut directory = directory();
        directory.add_client("billing");
        let window = Window::Offset {
            page: 0,
            per_page: 50,
        };
        let only = Fields {
            names: vec!["client_id".into(), "name".into()],
            include: true,
        };
        let response = directory
            .list_clients(&ClientFilter::default(), &only, &window)
            .unwrap();
        let keys: Vec<&String> = response[1].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["client_id", "name"]);
        let without = Fields {
            names: vec!["grant_types".into()],
            include: false,
        };
        let response = directory
            .list_clients(&ClientFilter::default(), &without, &window)
            .unwrap();
        assert!(response[1].get("grant_types").is_none());
        assert_eq!(response[1]["name"], "billing");
    }
}
