//! A typed client for the client-grant operations of Auth0's Management API.

mod generated;
mod transport;
