//! Checks made before anything is sent: what the API would refuse, or what could not be sent
//! safely, becomes an [`Error::InvalidInput`] naming the parameter.

use crate::error::Error;

/// An id that goes into the URL path as one segment. Every other character is
/// percent-encoded by the generated code; `.` and `..` cannot be, since URL parsers resolve
/// them (also as `%2e`) and the request would reach another path.
pub(crate) fn path_segment(parameter: &'static str, value: &str) -> Result<(), Error> {
    match value {
        "" => Err(Error::invalid_input(parameter, "must not be empty")),
        "." | ".." => Err(Error::invalid_input(
            parameter,
            format!("must not be {value:?}, which names another path"),
        )),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_dot_segments_are_refused_and_everything_else_passes() {
        for refused in ["", ".", ".."] {
            assert!(
                matches!(path_segment("id", refused), Err(Error::InvalidInput(_))),
                "{refused:?}"
            );
        }
        assert_eq!(
            path_segment("id", "").unwrap_err().to_string(),
            "invalid `id`: must not be empty"
        );
        for allowed in ["cgr_123", "...", "../clients", "a/b", "x?y#z", "%2F", "a b", "ü"] {
            assert!(path_segment("id", allowed).is_ok(), "{allowed:?}");
        }
    }
}
