//! What every generated operation goes through: progenitor's hooks, implemented once.

use progenitor_client::{ClientHooks, Error, OperationInfo};

use crate::generated::Client;

/// The state the generated client carries into every request.
#[derive(Clone, Debug, Default)]
pub(crate) struct Transport;

impl ClientHooks<Transport> for Client {
    async fn pre<E>(&self, request: &mut reqwest::Request, _info: &OperationInfo) -> Result<(), Error<E>> {
        // progenitor adds the spec's version; Auth0 has no such header and it means nothing there.
        request.headers_mut().remove("api-version");
        Ok(())
    }
}
