//! Checks made before anything is sent: what the API would refuse, or what could not be sent
//! safely, becomes an [`Error::InvalidInput`] naming the parameter and the limit.

use crate::error::Error;

/// The page size limit of `take` and `per_page`.
pub(crate) const MAX_PAGE_SIZE: u64 = 100;

/// An organization id: a path segment of at most 50 characters.
pub(crate) fn organization_id(value: &str) -> Result<(), Error> {
    crate::api::path_segment::check("id", value)?;
    at_most_chars("id", value, 50)
}

/// `take` or `per_page`: 1 to 100.
pub(crate) fn page_size(parameter: &'static str, value: u64) -> Result<std::num::NonZeroU64, Error> {
    std::num::NonZeroU64::new(value)
        .filter(|size| size.get() <= MAX_PAGE_SIZE)
        .ok_or_else(|| {
            Error::invalid_input(
                parameter,
                format!("must be between 1 and {MAX_PAGE_SIZE}, got {value}"),
            )
        })
}

/// Refuses an offset `page` whose items could not be numbered in 64 bits.
pub(crate) fn page_number(page: u64, per_page: std::num::NonZeroU64) -> Result<u64, Error> {
    page.checked_mul(per_page.get())
        .and_then(|start| start.checked_add(MAX_PAGE_SIZE))
        .map(|_| page)
        .ok_or_else(|| Error::invalid_input("page", format!("{page} is too large for {per_page} per page")))
}

pub(crate) fn at_most_chars(parameter: &'static str, value: &str, max: usize) -> Result<(), Error> {
    let chars = value.chars().count();
    if chars > max {
        return Err(Error::invalid_input(
            parameter,
            format!("must be at most {max} characters, got {chars}"),
        ));
    }
    Ok(())
}

/// Every item of a list is `min..=max` characters long.
pub(crate) fn item_lengths(
    parameter: &'static str,
    items: &[String],
    min: usize,
    max: usize,
) -> Result<(), Error> {
    for (index, item) in items.iter().enumerate() {
        let chars = item.chars().count();
        if !(min..=max).contains(&chars) {
            return Err(Error::invalid_input(
                parameter,
                format!("item {index} must be {min} to {max} characters long, got {chars}"),
            ));
        }
    }
    Ok(())
}

/// No item of a list is there twice.
pub(crate) fn no_duplicates(parameter: &'static str, items: &[String]) -> Result<(), Error> {
    let mut seen = std::collections::HashSet::new();
    match items.iter().find(|item| !seen.insert(item.as_str())) {
        Some(twice) => Err(Error::invalid_input(
            parameter,
            format!("`{twice}` is listed twice"),
        )),
        None => Ok(()),
    }
}

/// A generated value from its generated builder, which is how hand-written code makes them: a
/// field Auth0 adds is then one more setter, not a struct literal that stops compiling.
pub(crate) fn built<T, B: TryInto<T>>(parameter: &'static str, builder: B) -> Result<T, Error>
where
    B::Error: std::fmt::Display,
{
    builder
        .try_into()
        .map_err(|error| Error::invalid_input(parameter, error.to_string()))
}

/// Turns a string into a generated, checked newtype (a path parameter, a body field).
pub(crate) fn convert<T: TryFrom<String>>(parameter: &'static str, value: String) -> Result<T, Error>
where
    T::Error: std::fmt::Display,
{
    T::try_from(value).map_err(|error| Error::invalid_input(parameter, error.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn problem(result: Result<impl std::fmt::Debug, Error>) -> String {
        result.unwrap_err().to_string()
    }

    #[test]
    fn the_limits_name_the_parameter_and_the_limit() {
        assert_eq!(
            problem(page_size("take", 0)),
            "invalid `take`: must be between 1 and 100, got 0"
        );
        assert_eq!(
            problem(page_size("per_page", 101)),
            "invalid `per_page`: must be between 1 and 100, got 101"
        );
        assert_eq!(page_size("take", 100).unwrap().get(), 100);
        assert_eq!(
            problem(organization_id(&"o".repeat(51))),
            "invalid `id`: must be at most 50 characters, got 51"
        );
        assert!(organization_id(&"o".repeat(50)).is_ok());
        let scopes = vec!["read:a".to_owned(), String::new()];
        assert_eq!(
            problem(item_lengths("scope", &scopes, 1, 280)),
            "invalid `scope`: item 1 must be 1 to 280 characters long, got 0"
        );
        assert!(item_lengths("scope", &["é".repeat(280)], 1, 280).is_ok());
    }

    #[test]
    fn a_page_whose_items_cannot_be_numbered_is_refused() {
        let per_page = std::num::NonZeroU64::new(100).unwrap();
        assert_eq!(page_number(7, per_page).unwrap(), 7);
        assert_eq!(
            problem(page_number(u64::MAX / 100, per_page)),
            format!("invalid `page`: {} is too large for 100 per page", u64::MAX / 100)
        );
    }
}
