//! Variables: `${NAME}` in a grants file's string values, so that one file serves every tenant
//! it is promoted to (an audience per environment, say).
//!
//! Substitution happens in the values the TOML parser read, never in the text: a value cannot
//! add keys or tables, whatever it holds, and the result is not scanned again.

use std::borrow::Cow;
use std::collections::BTreeMap;

use super::DesiredError;

/// The values of the `${NAME}` references in a grants file, for
/// [`DesiredState::from_toml_with`](super::DesiredState::from_toml_with).
///
/// A name is letters, digits and `_`, not starting with a digit. `$${` is a literal `${`.
/// Layers are merged with [`extend`](Self::extend), the later winning; the CLI takes the
/// environment ([`from_environment`](Self::from_environment)), then `--var-file` files
/// ([`from_toml`](Self::from_toml)), then `--var NAME=VALUE`.
///
/// ```
/// use auth0_grants::reconcile::{DesiredState, Variables};
///
/// let mut variables = Variables::from_toml("API = \"https://api.prod.example.com/\"")?;
/// variables.set("APP", "Billing Service")?;
/// let file = "[[grant]]\nclient = \"${APP}\"\naudience = \"${API}\"\nscope = [\"read:invoices\"]\n";
/// let desired = DesiredState::from_toml_with(file, &variables)?;
/// assert_eq!(desired.grants[0].audience, "https://api.prod.example.com/");
/// # Ok::<(), auth0_grants::reconcile::DesiredError>(())
/// ```
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Variables {
    values: BTreeMap<String, String>,
}

/// Why a string value could not be substituted.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Unsubstituted {
    /// `${NAME}` names a variable that has no value.
    Undefined(String),
    /// `${` that does not start a reference (no closing `}`, or not a name inside).
    Malformed(String),
}

impl std::fmt::Display for Unsubstituted {
    fn fmt(&self, out: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Undefined(name) => write!(out, "the variable `{name}` is not defined"),
            Self::Malformed(reference) => write!(
                out,
                "`{reference}` is not a variable reference `${{NAME}}` (NAME: letters, digits \
                 and `_`, not starting with a digit); write `$${{` for a literal `${{`"
            ),
        }
    }
}

impl Variables {
    /// The prefix of the environment variables [`from_environment`](Self::from_environment)
    /// reads: `AUTH0_GRANTS_VAR_AUDIENCE` is the value of `${AUDIENCE}`.
    pub const ENVIRONMENT_PREFIX: &'static str = "AUTH0_GRANTS_VAR_";

    /// No variables: any `${NAME}` is an error.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `name` to `value`, replacing any value it had. A name that no `${..}` could refer
    /// to is refused.
    pub fn set(
        &mut self,
        name: impl Into<String>,
        value: impl Into<String>,
    ) -> Result<&mut Self, DesiredError> {
        let name = name.into();
        if !is_name(&name) {
            return Err(DesiredError::new(
                name.clone(),
                None,
                format!(
                    "`{name}` is not a variable name: letters, digits and `_`, not starting with a digit"
                ),
            ));
        }
        self.values.insert(name, value.into());
        Ok(self)
    }

    /// The value of `name`, if it has one.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.values.get(name).map(String::as_str)
    }

    /// Adds every variable of `other`, whose values win over this one's.
    pub fn extend(&mut self, other: &Variables) {
        self.values.extend(
            other
                .values
                .iter()
                .map(|(name, value)| (name.clone(), value.clone())),
        );
    }

    /// A variables file: TOML whose top-level keys are the names and whose values are strings
    /// (`AUDIENCE = "https://api.prod.example.com/"`). Anything else is refused with its line.
    pub fn from_toml(text: &str) -> Result<Self, DesiredError> {
        let table: toml::Table =
            toml::from_str(text).map_err(|error| super::desired::file_error(text, "variables", &error))?;
        let mut variables = Self::new();
        for (name, value) in table {
            let line = line_of_key(text, &name);
            let toml::Value::String(value) = value else {
                return Err(DesiredError::new(
                    name.clone(),
                    line,
                    format!(
                        "{}`{name}` is a {}; a variable's value is a string",
                        line.map(|line| format!("line {line}: ")).unwrap_or_default(),
                        value.type_str()
                    ),
                ));
            };
            variables.set(name.clone(), value).map_err(|error| {
                DesiredError::new(
                    name,
                    line,
                    format!(
                        "{}{}",
                        line.map(|line| format!("line {line}: ")).unwrap_or_default(),
                        error.problem()
                    ),
                )
            })?;
        }
        Ok(variables)
    }

    /// The environment variables named [`ENVIRONMENT_PREFIX`](Self::ENVIRONMENT_PREFIX)`NAME`,
    /// each the value of `${NAME}`. One whose value is not UTF-8 is refused.
    pub fn from_environment() -> Result<Self, DesiredError> {
        let mut variables = Self::new();
        for (key, value) in std::env::vars_os() {
            let Some(name) = key
                .to_str()
                .and_then(|key| key.strip_prefix(Self::ENVIRONMENT_PREFIX))
            else {
                continue;
            };
            let Some(value) = value.to_str() else {
                return Err(DesiredError::new(
                    name,
                    None,
                    format!("the value of {} is not UTF-8", key.to_string_lossy()),
                ));
            };
            variables.set(name, value).map_err(|error| {
                DesiredError::new(
                    key.to_string_lossy(),
                    None,
                    format!(
                        "{} (an environment variable with the prefix {})",
                        error.problem(),
                        Self::ENVIRONMENT_PREFIX
                    ),
                )
            })?;
        }
        Ok(variables)
    }

    /// `text` with every `${NAME}` replaced by its value and every `$${` by `${`; `None` when
    /// it has neither, so that most values are not copied.
    pub(crate) fn substitute(&self, text: &str) -> Result<Option<String>, Unsubstituted> {
        if !text.contains("${") {
            return Ok(None);
        }
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(at) = rest.find("${") {
            if rest[..at].ends_with('$') {
                out.push_str(&rest[..at - 1]);
                out.push_str("${");
                rest = &rest[at + 2..];
                continue;
            }
            out.push_str(&rest[..at]);
            let after = &rest[at + 2..];
            let Some(end) = after.find('}') else {
                return Err(Unsubstituted::Malformed(rest[at..].to_owned()));
            };
            let name = &after[..end];
            if !is_name(name) {
                return Err(Unsubstituted::Malformed(format!("${{{name}}}")));
            }
            let value = self
                .get(name)
                .ok_or_else(|| Unsubstituted::Undefined(name.to_owned()))?;
            out.push_str(value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(Some(out))
    }
}

/// `text` as a file must spell it to be read back as `text`: each `${` written `$${`.
pub(crate) fn escape(text: &str) -> Cow<'_, str> {
    if text.contains("${") {
        Cow::Owned(text.replace("${", "$${"))
    } else {
        Cow::Borrowed(text)
    }
}

fn is_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|first| first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The line a bare top-level key is written on, for a value of the wrong type.
fn line_of_key(text: &str, name: &str) -> Option<usize> {
    text.lines()
        .position(|line| {
            line.split_once('=')
                .is_some_and(|(key, _)| key.trim().trim_matches('"') == name)
        })
        .map(|index| index + 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn variables() -> Variables {
        let mut variables = Variables::new();
        variables.set("API", "https://api.example.com/").unwrap();
        variables.set("ENV", "dev").unwrap();
        variables
    }

    #[test]
    fn references_are_replaced_and_values_are_not_scanned_again() {
        let mut variables = variables();
        variables.set("LOOP", "${ENV}").unwrap();
        assert_eq!(
            variables.substitute("${API}v1/${ENV}").unwrap().as_deref(),
            Some("https://api.example.com/v1/dev")
        );
        assert_eq!(
            variables.substitute("${LOOP}").unwrap().as_deref(),
            Some("${ENV}")
        );
        assert_eq!(variables.substitute("read:$things {x}").unwrap(), None);
    }

    #[test]
    fn dollar_dollar_brace_is_a_literal_reference_and_escape_undoes_substitution() {
        let variables = variables();
        assert_eq!(
            variables.substitute("$${ENV} is ${ENV}").unwrap().as_deref(),
            Some("${ENV} is dev")
        );
        for text in ["${ENV}", "$${ENV}", "a$$${b", "$", "${", "x}${y"] {
            let escaped = escape(text);
            let back = variables.substitute(&escaped).unwrap();
            assert_eq!(back.as_deref().unwrap_or(&escaped), text, "{escaped}");
        }
    }

    #[test]
    fn an_undefined_or_malformed_reference_is_refused() {
        let variables = variables();
        assert_eq!(
            variables.substitute("${API}${MISSING}"),
            Err(Unsubstituted::Undefined("MISSING".into()))
        );
        assert_eq!(
            variables.substitute("a ${ENV"),
            Err(Unsubstituted::Malformed("${ENV".into()))
        );
        assert_eq!(
            variables.substitute("${1X}"),
            Err(Unsubstituted::Malformed("${1X}".into()))
        );
        assert!(
            Unsubstituted::Malformed("${ENV".into())
                .to_string()
                .contains("write `$${` for a literal `${`")
        );
    }

    #[test]
    fn a_variables_file_holds_strings_under_names() {
        let variables = Variables::from_toml("# prod\nAPI = \"https://api.prod/\"\n").unwrap();
        assert_eq!(variables.get("API"), Some("https://api.prod/"));
        let error = Variables::from_toml("API = \"x\"\nPORT = 8080\n").unwrap_err();
        assert_eq!((error.field(), error.line()), ("PORT", Some(2)));
        assert!(error.problem().contains("integer"), "{}", error.problem());
        let error = Variables::from_toml("API = \n").unwrap_err();
        assert_eq!(error.line(), Some(1));
        let error = Variables::from_toml("\"not a name\" = \"x\"\n").unwrap_err();
        assert!(
            error.problem().contains("not a variable name"),
            "{}",
            error.problem()
        );
    }

    #[test]
    fn later_layers_win() {
        let mut layered = variables();
        let mut file = Variables::new();
        file.set("ENV", "prod").unwrap();
        layered.extend(&file);
        assert_eq!(layered.get("ENV"), Some("prod"));
        assert_eq!(layered.get("API"), Some("https://api.example.com/"));
    }
}
