//! `client.clients()`: the applications of the tenant, read-only, as grants as code needs them
//! to turn an application's name into its id.

use crate::Client;
use crate::api::generated;
use crate::api::generated::types::ClientSummary;
use crate::api::list::List;
use crate::api::list::query::{ListQuery, PageRequest};
use crate::api::list_responses::ListClientsResponseContent as ClientList;
use crate::api::operations;
use crate::error::Error;

/// The fields every page asks for: exactly those of [`ClientSummary`]. Asking for them keeps
/// each page small (a whole application is dozens of fields, secrets among them) and makes the
/// ones the model requires always present.
const FIELDS: &str = "client_id,name,app_type,is_first_party";

impl Client {
    /// The applications of the tenant (`/clients`), read-only.
    pub fn clients(&self) -> Clients {
        Clients { client: self.clone() }
    }
}

/// The applications of the tenant, from [`Client::clients`].
#[derive(Clone, Debug)]
pub struct Clients {
    client: Client,
}

impl Clients {
    /// Lists the applications (`GET /clients`); needs `read:clients`. Each is a
    /// [`ClientSummary`]: its id, name, type and whether it is first-party, the fields every
    /// page asks for (`fields`, `include_fields=true`). Names are not unique: two applications
    /// can share one, so a lookup by name must expect several.
    ///
    /// ```no_run
    /// use futures_util::TryStreamExt;
    ///
    /// # async fn example(client: auth0_client_grants::Client) -> Result<(), auth0_client_grants::Error> {
    /// let named: Vec<_> = client
    ///     .clients()
    ///     .list()
    ///     .stream()
    ///     .try_filter(|app| std::future::ready(app.name == "billing"))
    ///     .try_collect()
    ///     .await?;
    /// match named.as_slice() {
    ///     [app] => println!("billing is {}", app.client_id),
    ///     [] => println!("no application is named billing"),
    ///     _ => println!("{} applications are named billing", named.len()),
    /// }
    /// # Ok(())
    /// # }
    /// ```
    pub fn list(&self) -> ListClients {
        List::new(self.client.clone(), ClientQuery::default())
    }
}

/// The query of the application list ([`ListClients`]). It has no filters: every page asks for
/// the fields of [`ClientSummary`].
#[derive(Clone, Debug, Default)]
pub struct ClientQuery {
    _private: (),
}

impl ListQuery for ClientQuery {
    type Item = ClientSummary;
    const OPERATION: &'static str = operations::GET_CLIENTS.id;

    fn check(&self) -> Result<(), Error> {
        Ok(())
    }

    async fn fetch(&self, client: &Client, page: PageRequest<'_>) -> Result<ClientList, Error> {
        let call = |api: generated::Client| async move {
            let request = api.get_clients().fields(FIELDS).include_fields(true);
            let request = match page {
                PageRequest::Checkpoint { from, take } => match from {
                    Some(from) => request.from(from).take(take),
                    None => request.take(take),
                },
                PageRequest::Offset { page, per_page } => {
                    request.include_totals(true).page(page).per_page(per_page.get())
                }
            };
            request.send().await
        };
        client.run(&operations::GET_CLIENTS, call).await
    }
}

/// The application list to run, from [`Clients::list`], with the paging of every [`List`].
pub type ListClients = List<ClientQuery>;

#[cfg(test)]
mod tests {
    use super::FIELDS;

    #[test]
    fn the_fields_asked_for_are_those_of_the_model_in_the_spec() {
        let spec: serde_json::Value =
            serde_json::from_str(include_str!("../../spec/client-grants.json")).expect("the spec is JSON");
        let mut in_spec: Vec<&str> = spec["components"]["schemas"]["Client"]["properties"]
            .as_object()
            .expect("the application schema has properties")
            .keys()
            .map(String::as_str)
            .collect();
        let mut asked: Vec<&str> = FIELDS.split(',').collect();
        in_spec.sort_unstable();
        asked.sort_unstable();
        assert_eq!(asked, in_spec);
    }
}
