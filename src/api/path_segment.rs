//! An id in a URL path: refused when it would still name another path, else encoded so that
//! it is exactly one path segment, whatever it holds.
//!
//! The generated code puts every path parameter of every operation through
//! [`encode_path`] (src/api/generated.rs says how), and every resource handle checks its ids with
//! [`check`] before anything is sent.

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};

use crate::error::Error;

/// Everything but RFC 3986's unreserved characters (letters, digits, `-`, `.`, `_`, `~`).
/// progenitor's own set leaves `\` as it is, which URL parsers read as `/` in http(s) URLs;
/// encoding all the rest, as Auth0's own SDKs do (`encodeURIComponent`), leaves no character
/// that a parser or a proxy could read as a separator.
const OUTSIDE_UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// `segment`, percent-encoded as one path segment. Called by the generated code in place of
/// progenitor's `encode_path`, with the same signature.
pub(crate) fn encode_path(segment: &str) -> String {
    utf8_percent_encode(segment, OUTSIDE_UNRESERVED).to_string()
}

/// Refuses an id that no encoding keeps in its place: an empty one, and `.` or `..` (also
/// percent-encoded, as `%2e`, or encoded more than once), which URL parsers and servers
/// resolve to another path.
pub(crate) fn check(parameter: &'static str, value: &str) -> Result<(), Error> {
    if value.is_empty() {
        return Err(Error::invalid_input(parameter, "must not be empty"));
    }
    if names_a_dot_segment(value) {
        return Err(Error::invalid_input(
            parameter,
            format!("must not be {value:?}, which names another path"),
        ));
    }
    Ok(())
}

/// Whether `value`, decoded any number of times, is `.` or `..`.
fn names_a_dot_segment(value: &str) -> bool {
    let mut current = value.to_owned();
    loop {
        if current == "." || current == ".." {
            return true;
        }
        // Each decoding that changes anything makes the text shorter, so this ends.
        let decoded = percent_decode_str(&current).decode_utf8_lossy().into_owned();
        if decoded == current {
            return false;
        }
        current = decoded;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_that_could_end_or_split_a_segment_is_encoded() {
        for (id, encoded) in [
            ("cgr_AbC-123.x~y", "cgr_AbC-123.x~y"),
            ("..\\clients", "..%5Cclients"),
            ("\\", "%5C"),
            ("a/b", "a%2Fb"),
            ("x?y#z", "x%3Fy%23z"),
            ("%2e%2e", "%252e%252e"),
            ("a b\tc\r\n", "a%20b%09c%0D%0A"),
            ("ü", "%C3%BC"),
            ("auth0|123", "auth0%7C123"),
            ("a;b=c&d+e", "a%3Bb%3Dc%26d%2Be"),
        ] {
            assert_eq!(encode_path(id), encoded, "{id:?}");
            assert_eq!(percent_decode_str(encoded).decode_utf8().unwrap(), id);
        }
    }

    #[test]
    fn empty_and_dot_segments_are_refused_also_when_encoded() {
        for refused in [
            "",
            ".",
            "..",
            "%2e",
            "%2E",
            ".%2e",
            "%2e%2E",
            "%252e",
            "%25252E%2e",
        ] {
            assert!(
                matches!(check("id", refused), Err(Error::InvalidInput(_))),
                "{refused:?}"
            );
        }
        assert_eq!(
            check("id", "").unwrap_err().to_string(),
            "invalid `id`: must not be empty"
        );
        assert_eq!(
            check("grant_id", "%2e").unwrap_err().to_string(),
            r#"invalid `grant_id`: must not be "%2e", which names another path"#
        );
        for allowed in [
            "cgr_123",
            "...",
            "../clients",
            "..\\x",
            "a/b",
            "x?y#z",
            "%2F",
            "a b",
            "ü",
            "%",
            "%zz",
        ] {
            assert!(check("id", allowed).is_ok(), "{allowed:?}");
        }
    }
}
