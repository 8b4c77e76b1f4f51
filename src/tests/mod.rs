//! Support for the unit tests, compiled only for them.

pub(crate) mod fuzz_inputs;
