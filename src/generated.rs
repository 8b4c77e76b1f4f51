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

/// The runtime the generated code calls as `progenitor_client`: progenitor's own
/// (`progenitor-runtime` in Cargo.toml), except that every path parameter is encoded by
/// [`crate::path_segment::encode_path`], which keeps it one path segment whatever it holds.
/// Shadowing one function of the runtime is a progenitor setting in all but name: progenitor
/// offers no setting for it, and its own encoding leaves `\` unencoded.
mod progenitor_client {
    pub(crate) use crate::path_segment::encode_path;
    pub use progenitor_runtime::*;
}

include!(concat!(env!("OUT_DIR"), "/client_grants_api.rs"));
