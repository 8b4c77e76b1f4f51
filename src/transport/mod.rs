//! How one call reaches the API and comes back: the attempt loop (`call`), the token each
//! attempt carries (`token`), its turn within the tenant's rate limit (`pacing`), the send that
//! every request goes through and what it accepts of a response (`send`, `response_limits`),
//! progenitor's hooks around it (`hooks`), the retry decision (`retry`), the rate-limit headers
//! (`rate_limit`), the `Auth0-Client` header (`telemetry`) and the one seam for time (`clock`).

pub(crate) mod call;
pub(crate) mod clock;
pub(crate) mod hooks;
pub(crate) mod pacing;
pub(crate) mod rate_limit;
pub(crate) mod response_limits;
pub(crate) mod retry;
pub(crate) mod send;
pub(crate) mod telemetry;
pub(crate) mod token;
