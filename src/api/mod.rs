//! What a caller sees of the API: the resource handles (`client_grants`, `organizations`, and
//! the read-only lookups `clients` and `resource_servers`), the requests they send
//! (`requests`) after checking their arguments (`validate`, `path_segment`), the lists and their pages (`list`, `pagination`, `list_responses`, where a
//! page is decoded), and what is generated from the spec (`generated`, with the open enums of
//! `models` and the operations as the attempt loop knows them in `operations`).

pub(crate) mod client_grants;
pub(crate) mod clients;
pub(crate) mod generated;
pub(crate) mod list;
pub(crate) mod list_responses;
pub(crate) mod models;
pub(crate) mod operations;
pub(crate) mod organizations;
pub(crate) mod pagination;
pub(crate) mod path_segment;
pub(crate) mod requests;
pub(crate) mod resource_servers;
pub(crate) mod validate;
