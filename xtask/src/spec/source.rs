//! Reads Auth0's upstream OpenAPI document from a file or a URL, showing progress.

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result, bail};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Where `cargo xtask spec refresh` reads Auth0's document when `--from` is not given.
pub const DEFAULT_UPSTREAM_URL: &str = "https://raw.githubusercontent.com/auth0/docs-v2/main/main/docs/oas/management/v2/management-api-oas.json";

/// The whole upstream document as read, with the facts the provenance file records.
pub struct Upstream {
    pub source: String,
    pub sha256: String,
    pub size: u64,
    pub document: Value,
}

/// Reads and parses the document at `source`, a path or an `http(s)://` URL.
pub fn load_upstream(source: &str) -> Result<Upstream> {
    let bytes = if source.starts_with("https://") || source.starts_with("http://") {
        download(source)?
    } else {
        read_file(Path::new(source))?
    };
    let started = Instant::now();
    eprintln!("parsing {} of JSON…", megabytes(bytes.len() as u64));
    let document: Value = serde_json::from_slice(&bytes).with_context(|| format!("{source} is not JSON"))?;
    eprintln!("parsed in {} ms", started.elapsed().as_millis());
    Ok(Upstream {
        source: source.to_owned(),
        sha256: sha256_hex(&bytes),
        size: bytes.len() as u64,
        document,
    })
}

/// The lowercase hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    eprintln!("read {} from {}", megabytes(bytes.len() as u64), path.display());
    Ok(bytes)
}

fn download(url: &str) -> Result<Vec<u8>> {
    eprintln!("downloading {url}");
    let mut response = reqwest::blocking::Client::builder()
        .user_agent(concat!("auth0-client-grants-xtask/", env!("CARGO_PKG_VERSION")))
        .build()
        .context("cannot set up an HTTP client")?
        .get(url)
        .send()
        .with_context(|| format!("cannot download {url}"))?;
    if !response.status().is_success() {
        bail!("cannot download {url}: the server answered {}", response.status());
    }
    let total = response.content_length();
    let mut bytes = Vec::with_capacity(total.unwrap_or(0) as usize);
    let mut chunk = vec![0; 64 * 1024];
    let mut next_report = 0;
    loop {
        let read = response
            .read(&mut chunk)
            .with_context(|| format!("the download of {url} broke off"))?;
        if read == 0 {
            break;
        }
        bytes.extend_from_slice(&chunk[..read]);
        if bytes.len() >= next_report {
            match total {
                Some(total) => eprintln!("  {} of {}", megabytes(bytes.len() as u64), megabytes(total)),
                None => eprintln!("  {}", megabytes(bytes.len() as u64)),
            }
            next_report = bytes.len() + 512 * 1024;
        }
    }
    eprintln!("downloaded {}", megabytes(bytes.len() as u64));
    Ok(bytes)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_000_000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_is_named() {
        let error = format!("{:#}", load_upstream("/nonexistent/upstream.json").err().unwrap());
        assert!(
            error.starts_with("cannot read /nonexistent/upstream.json: "),
            "{error}"
        );
    }

    #[test]
    fn a_file_that_is_not_json_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("page.html");
        std::fs::write(&path, "<html>not found</html>").unwrap();
        let error = format!("{:#}", load_upstream(path.to_str().unwrap()).err().unwrap());
        assert!(
            error.starts_with(&format!("{} is not JSON: ", path.display())),
            "{error}"
        );
    }

    #[test]
    fn the_digest_is_lowercase_hex_sha256() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
