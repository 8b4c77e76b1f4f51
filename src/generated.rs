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

include!(concat!(env!("OUT_DIR"), "/client_grants_api.rs"));
