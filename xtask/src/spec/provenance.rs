//! `spec/upstream/provenance.json`: where the committed subset came from.

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::canonical::to_canonical_json;
use super::operations::HTTP_METHODS;
use super::source::{Upstream, sha256_hex};

#[derive(Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Provenance {
    /// The path or URL the whole upstream document was read from.
    pub source: String,
    /// sha256 of the whole upstream document, as read.
    pub sha256: String,
    /// Size in bytes of the whole upstream document.
    pub size: u64,
    /// The upstream document's `openapi` version.
    pub openapi: String,
    /// The upstream document's `info.version`.
    pub info_version: String,
    /// The operationIds extracted into the subset, in extraction order.
    pub operations: Vec<String>,
    /// When the subset was extracted (RFC 3339, UTC).
    pub extracted_at: String,
    /// sha256 of the committed subset file, so a hand edit of it is caught.
    pub subset_sha256: String,
}

impl Provenance {
    pub fn describe(upstream: &Upstream, subset: &Value, subset_text: &str) -> Result<Self> {
        let field = |pointer: &str| {
            upstream
                .document
                .pointer(pointer)
                .and_then(Value::as_str)
                .map(str::to_owned)
                .with_context(|| format!("the upstream document has no `{pointer}` string"))
        };
        Ok(Self {
            source: upstream.source.clone(),
            sha256: upstream.sha256.clone(),
            size: upstream.size,
            openapi: field("/openapi")?,
            info_version: field("/info/version")?,
            operations: operation_ids(subset).into_iter().map(str::to_owned).collect(),
            extracted_at: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            subset_sha256: sha256_hex(subset_text.as_bytes()),
        })
    }

    pub fn parse(text: &str) -> Result<Self> {
        serde_json::from_str(text).context("spec/upstream/provenance.json is not a provenance record")
    }

    pub fn to_text(&self) -> String {
        to_canonical_json(&serde_json::to_value(self).expect("provenance always serializes"))
    }
}

/// The operationIds of `document`, in the order of `OPERATIONS` where they appear
/// there, then any others.
pub fn operation_ids(document: &Value) -> Vec<&str> {
    let mut found: Vec<&str> = document
        .get("paths")
        .and_then(Value::as_object)
        .into_iter()
        .flat_map(|paths| paths.values())
        .flat_map(|item| HTTP_METHODS.iter().filter_map(move |method| item.get(*method)))
        .filter_map(|operation| operation.get("operationId").and_then(Value::as_str))
        .collect();
    let rank = |id: &str| {
        super::operations::OPERATIONS
            .iter()
            .position(|op| op.operation_id == id)
            .unwrap_or(usize::MAX)
    };
    found.sort_by_key(|id| (rank(id), id.to_string()));
    found
}
