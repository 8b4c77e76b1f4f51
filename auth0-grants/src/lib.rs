#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub mod audit;
mod lookups;
pub mod reconcile;
