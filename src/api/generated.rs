//! The client progenitor generates from `spec/client-grants.json` at build time (see `build.rs`).
//! Nothing here is public API: the hand-written modules re-export what they promise.
#![allow(
    dead_code,
    unused_imports,
    unused_mut,
    unreachable_pub,
    missing_docs,
    clippy::all,
    rustdoc::all
)]

/// What the generated code's top level imports as `progenitor_client`: progenitor's runtime,
/// except that every path parameter of every operation is encoded by
/// [`crate::api::path_segment::encode_path`], which keeps it one path segment whatever it holds
/// (progenitor's own leaves `\` as it is, which URL parsers read as `/`). A module declared here
/// takes the place of the crate for this module's imports; the generated request builders
/// import `encode_path` from here too, and reach the crate itself for everything else.
/// progenitor offers no setting for the encoding; nothing generated is edited.
mod progenitor_client {
    pub(crate) use crate::api::path_segment::encode_path;
    pub use ::progenitor_client::*;
}

include!(concat!(env!("OUT_DIR"), "/client_grants_api.rs"));
