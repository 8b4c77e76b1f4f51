//! The desired state: the grants a tenant should have, as a TOML file of `[[grant]]` tables or
//! built in code, checked before anything is read or written.

use std::collections::{HashMap, HashSet};
use std::fmt;

use auth0_client_grants::{ClientGrant, DefaultFor, NewClientGrant, OrganizationUsage, SubjectType};
use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize};

use super::DesiredError;

/// The grants a tenant should have. In TOML, one `[[grant]]` table per grant:
///
/// ```toml
/// [[grant]]
/// client = "Billing Service"        # or client_id = "…", or default_for = "third_party_clients"
/// audience = "https://api.example.com/"
/// scope = ["read:things", "write:things"]
/// organization_usage = "allow"
/// organizations = ["org_abc123"]
/// ```
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "auth0-grants grants file",
    description = "The client grants an Auth0 tenant should have, for `auth0-grants plan` and `apply`."
)]
#[non_exhaustive]
pub struct DesiredState {
    /// The grants, each identified by its [`GrantKey`].
    #[serde(rename = "grant", default)]
    #[schemars(
        description = "One `[[grant]]` table per grant, identified by its application (`client`, \
        its name, or `client_id`) or `default_for`, `audience` and `subject_type`."
    )]
    pub grants: Vec<DesiredGrant>,
    /// Where each grant was written, for errors found once the tenant is read.
    #[serde(skip)]
    lines: Lines,
}

/// Scope items: 1 to 280 characters, as the API takes them.
const SCOPE_LENGTH: std::ops::RangeInclusive<usize> = 1..=280;

/// The lines of a file's grants: each `[[grant]]` header and the keys under it.
#[derive(Debug, Clone, Default)]
struct Lines(Vec<GrantLines>);

#[derive(Debug, Clone, Default)]
struct GrantLines {
    header: usize,
    keys: HashMap<String, usize>,
}

/// Where a grant was written is not part of what it says: two states with the same grants are
/// equal.
impl PartialEq for Lines {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}

impl Lines {
    /// `grant[3].scope (line 9)` and the line: the key's own line when the file has it, else
    /// its grant's header.
    fn at(&self, index: usize, field: &str) -> (String, Option<usize>) {
        let grant = self.0.get(index);
        let line = grant.map(|grant| grant.keys.get(field).copied().unwrap_or(grant.header));
        let place = match line {
            Some(line) => format!("grant[{index}] (line {line})"),
            None => format!("grant[{index}]"),
        };
        (place, line)
    }

    /// The error of `grant[index].field`, at its line.
    fn refuse(&self, index: usize, field: &str, problem: String) -> DesiredError {
        let (place, line) = self.at(index, field);
        DesiredError::new(
            format!("grant[{index}].{field}"),
            line,
            format!("{place}: {problem}"),
        )
    }
}

/// One grant as it should be. `scope` and `organizations` are always managed (absent means
/// none); the other settings only when given (absent leaves the tenant's value alone, and a new
/// grant gets Auth0's default).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The rules `check` holds each grant to that a schema can say too.
#[schemars(extend(
    "oneOf" = [{"required": ["client"]}, {"required": ["client_id"]}, {"required": ["default_for"]}],
    "allOf" = [
        {
            "if": {"properties": {"allow_all_scopes": {"const": true}}, "required": ["allow_all_scopes"]},
            "then": {"properties": {"scope": {"maxItems": 0}}}
        },
        {
            "if": {"properties": {"organization_usage": {"const": "deny"}}, "required": ["organization_usage"]},
            "then": {"properties": {"organizations": {"maxItems": 0}}}
        }
    ]
))]
#[non_exhaustive]
pub struct DesiredGrant {
    /// The application the grant is for, by its name; exactly one of `client`, `client_id`
    /// and `default_for`. The name is resolved to the id of the one application that has it
    /// before a plan is made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1))]
    pub client: Option<String>,
    /// The application the grant is for, by its client id; exactly one of `client`,
    /// `client_id` and `default_for`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "String", length(min = 1))]
    pub client_id: Option<String>,
    /// The group of clients a default grant applies to (`third_party_clients`).
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "known")]
    #[schemars(schema_with = "known_schema::<DefaultFor>")]
    pub default_for: Option<DefaultFor>,
    /// The API (its identifier).
    #[schemars(length(min = 1))]
    pub audience: String,
    /// Who the grant is for; default `client`.
    #[serde(default = "client", deserialize_with = "known_value")]
    #[schemars(schema_with = "known_schema::<SubjectType>")]
    pub subject_type: SubjectType,
    /// The scopes allowed, each 1 to 280 characters and listed once; none with
    /// `allow_all_scopes = true`.
    #[serde(default)]
    #[schemars(inner(length(min = 1, max = 280)), extend("uniqueItems" = true))]
    pub scope: Vec<String>,
    /// Whether the grant may, must or must not be used with organizations.
    #[serde(default, skip_serializing_if = "Option::is_none", deserialize_with = "known")]
    #[schemars(schema_with = "known_schema::<OrganizationUsage>")]
    pub organization_usage: Option<OrganizationUsage>,
    /// Whether any organization may use the grant, not only those associated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub allow_any_organization: Option<bool>,
    /// Whether every scope of the API is allowed, those added later included.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "bool")]
    pub allow_all_scopes: Option<bool>,
    /// The `authorization_details` types allowed, each 1 to 255 characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(with = "Vec<String>", inner(length(min = 1, max = 255)))]
    pub authorization_details_types: Option<Vec<String>>,
    /// The ids of the organizations the grant must be associated with, each once.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    #[schemars(extend("uniqueItems" = true))]
    pub organizations: Vec<String>,
}

impl Default for DesiredGrant {
    fn default() -> Self {
        Self {
            client: None,
            client_id: None,
            default_for: None,
            audience: String::new(),
            subject_type: SubjectType::Client,
            scope: Vec::new(),
            organization_usage: None,
            allow_any_organization: None,
            allow_all_scopes: None,
            authorization_details_types: None,
            organizations: Vec::new(),
        }
    }
}

fn client() -> SubjectType {
    SubjectType::Client
}

/// An open enum from the file, refused unless this crate knows the value: a typo must not
/// become a grant. A value that still holds a reference, while a file is read for its
/// structure ([`reading_structure_only`]), is not judged: what it stands for is unknown.
fn known_value<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: KnownValue,
{
    let value = String::deserialize(deserializer)?;
    let unjudged = STRUCTURE_ONLY.get() && value.contains("${");
    if unjudged || T::known().contains(&value.as_str()) {
        Ok(T::from(value.as_str()))
    } else {
        Err(serde::de::Error::custom(format!(
            "unknown value `{value}`, expected one of {}",
            T::known()
                .iter()
                .map(|known| format!("`{known}`"))
                .collect::<Vec<_>>()
                .join(", ")
        )))
    }
}

/// The schema of what [`known_value`] reads: a string, one of the values this crate knows.
fn known_schema<T: KnownValue>(_: &mut SchemaGenerator) -> Schema {
    json_schema!({"type": "string", "enum": T::known()})
}

fn known<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: KnownValue,
{
    known_value(deserializer).map(Some)
}

trait KnownValue: for<'a> From<&'a str> {
    fn known() -> &'static [&'static str];
}

impl KnownValue for SubjectType {
    fn known() -> &'static [&'static str] {
        Self::KNOWN
    }
}

impl KnownValue for OrganizationUsage {
    fn known() -> &'static [&'static str] {
        Self::KNOWN
    }
}

impl KnownValue for DefaultFor {
    fn known() -> &'static [&'static str] {
        Self::KNOWN
    }
}

/// Who a grant is for: Auth0 keeps one grant per client (or `default_for` group), audience
/// and subject type, so that triple is a grant's identity.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[non_exhaustive]
pub struct GrantKey {
    /// `client_id`, or `default_for:{group}` for a default grant; in a file whose names are
    /// not resolved yet, the application's name in quotes (`"Billing Service"`).
    pub subject: String,
    /// The API's identifier.
    pub audience: String,
    /// `client` or `user`, as the API spells it.
    pub subject_type: String,
}

impl GrantKey {
    /// The key of a grant the tenant has.
    pub fn of(grant: &ClientGrant) -> Self {
        Self::new(
            None,
            grant.client_id.as_deref(),
            grant.default_for.as_ref(),
            &grant.audience,
            grant.subject_type.as_ref().unwrap_or(&SubjectType::Client),
        )
    }

    fn new(
        name: Option<&str>,
        client_id: Option<&str>,
        default_for: Option<&DefaultFor>,
        audience: &str,
        subject_type: &SubjectType,
    ) -> Self {
        let subject = match (client_id, default_for, name) {
            (Some(client_id), _, _) => client_id.to_owned(),
            (None, Some(group), _) => format!("default_for:{}", group.as_str()),
            (None, None, Some(name)) => format!("{name:?}"),
            (None, None, None) => String::new(),
        };
        Self {
            subject,
            audience: audience.to_owned(),
            subject_type: subject_type.as_str().to_owned(),
        }
    }
}

impl fmt::Display for GrantKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            formatter,
            "{} → {} ({})",
            self.subject, self.audience, self.subject_type
        )
    }
}

impl DesiredGrant {
    /// A grant for `client_id` on `audience`, with no scope yet.
    pub fn new(client_id: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            client_id: Some(client_id.into()),
            audience: audience.into(),
            subject_type: SubjectType::Client,
            ..Self::default()
        }
    }

    /// A grant for the application named `name` on `audience`, with no scope yet; the name is
    /// resolved to the application's id before a plan is made ([`DesiredState::resolve`]).
    pub fn named(name: impl Into<String>, audience: impl Into<String>) -> Self {
        Self {
            client: Some(name.into()),
            audience: audience.into(),
            subject_type: SubjectType::Client,
            ..Self::default()
        }
    }

    /// A default grant for every client of `group` on `audience`.
    pub fn default_for(group: DefaultFor, audience: impl Into<String>) -> Self {
        Self {
            default_for: Some(group),
            audience: audience.into(),
            subject_type: SubjectType::Client,
            ..Self::default()
        }
    }

    /// The scopes allowed.
    #[must_use]
    pub fn scope<S: Into<String>>(mut self, scope: impl IntoIterator<Item = S>) -> Self {
        self.scope = scope.into_iter().map(Into::into).collect();
        self
    }

    /// The organizations the grant must be associated with.
    #[must_use]
    pub fn organizations<S: Into<String>>(mut self, ids: impl IntoIterator<Item = S>) -> Self {
        self.organizations = ids.into_iter().map(Into::into).collect();
        self
    }

    /// Whether the grant may, must or must not be used with organizations.
    #[must_use]
    pub fn organization_usage(mut self, usage: OrganizationUsage) -> Self {
        self.organization_usage = Some(usage);
        self
    }

    /// Who the grant is for (default: `client`).
    #[must_use]
    pub fn subject_type(mut self, subject_type: SubjectType) -> Self {
        self.subject_type = subject_type;
        self
    }

    /// Who the grant is for.
    pub fn key(&self) -> GrantKey {
        GrantKey::new(
            self.client.as_deref(),
            self.client_id.as_deref(),
            self.default_for.as_ref(),
            &self.audience,
            &self.subject_type,
        )
    }
}

impl DesiredState {
    /// The desired state of these grants, checked as [`from_toml`](Self::from_toml) checks a file.
    pub fn new(grants: impl IntoIterator<Item = DesiredGrant>) -> Result<Self, DesiredError> {
        let state = Self {
            grants: grants.into_iter().collect(),
            lines: Lines::default(),
        };
        state.check()?;
        Ok(state)
    }

    /// Reads a desired state from TOML. A bad file is a [`DesiredError`] naming the field
    /// (`grant[1].scope`) and the line: broken TOML, an unknown field, a missing `audience`, an
    /// unknown enum value, not exactly one of `client`, `client_id` and `default_for`, the same
    /// grant twice, or scopes the API would refuse (empty, longer than 280 characters, listed
    /// twice, or beside `allow_all_scopes = true`).
    ///
    /// A file with variables is read with [`from_toml_with`](Self::from_toml_with): here every
    /// `${NAME}` is an undefined variable, so that a reference is never sent to Auth0 as it is
    /// written. `$${` is a literal `${`.
    pub fn from_toml(text: &str) -> Result<Self, DesiredError> {
        Self::from_toml_with(text, &super::Variables::new())
    }

    /// Reads a desired state from TOML as [`from_toml`](Self::from_toml) does, with each
    /// `${NAME}` in a string value replaced by the value of `NAME` in `variables` and each
    /// `$${` by `${`. Values are substituted after the file is parsed, so a value is only ever
    /// a string's content. An undefined variable is a [`DesiredError`] naming it, the field
    /// (`grant[0].audience`) and the line; but the file's structure is checked first, so that
    /// an unknown field (a misspelled `scopes = ["${X}"]`), a missing `audience`, a value of
    /// the wrong type or an unknown enum value written out is the error even where a value
    /// holds an undefined variable.
    pub fn from_toml_with(text: &str, variables: &super::Variables) -> Result<Self, DesiredError> {
        let mut table = toml::de::DeTable::parse(text).map_err(|error| file_error(text, "file", &error))?;
        let unsubstituted = substitute_table(table.get_mut(), variables, "", text);
        // The file's structure is checked first, whatever its references: a misspelled key
        // (`scopes = ["${X}"]`) is the mistake to hear about, not the variable in its value.
        let deserializer = toml::Deserializer::from(table);
        let read = reading_structure_only(unsubstituted.is_some(), || {
            serde_path_to_error::deserialize(deserializer)
        });
        let mut state: Self = read.map_err(|error| {
            let path = error.path().to_string();
            file_error(text, &path, error.inner())
        })?;
        if let Some(error) = unsubstituted {
            return Err(error);
        }
        state.lines = grant_lines(text);
        state.check()?;
        Ok(state)
    }

    /// The JSON Schema of the grants file, derived from the types the file is read into: for
    /// editors (taplo's `#:schema` directive) and for checking files in CI. Draft 7, with no
    /// references, which every TOML editor's validator reads.
    pub fn json_schema() -> serde_json::Value {
        let generator = schemars::generate::SchemaSettings::draft07()
            .with(|settings| settings.inline_subschemas = true)
            .into_generator();
        generator.into_root_schema_for::<Self>().to_value()
    }

    /// The desired state as TOML, one `[[grant]]` table per grant; a `${` in a value is written
    /// `$${`, so that the file reads back as this state.
    pub fn to_toml(&self) -> String {
        let mut escaped = self.clone();
        for grant in &mut escaped.grants {
            grant.escape_references();
        }
        toml::to_string(&escaped).expect("a desired state is plain data")
    }

    /// This state's file lines with other grants, for a state derived from this one.
    pub(super) fn with_grants(&self, grants: Vec<DesiredGrant>) -> Self {
        Self {
            grants,
            lines: self.lines.clone(),
        }
    }

    /// The rules the file format cannot say: who each grant is for, each grant once, and
    /// scopes the API takes.
    pub(super) fn check(&self) -> Result<(), DesiredError> {
        let line = |index: usize| self.lines.at(index, "").1;
        let at = |index: usize| self.lines.at(index, "").0;
        let mut seen: HashMap<GrantKey, usize> = HashMap::new();
        for (index, grant) in self.grants.iter().enumerate() {
            let given: Vec<&str> = [
                ("client", grant.client.is_some()),
                ("client_id", grant.client_id.is_some()),
                ("default_for", grant.default_for.is_some()),
            ]
            .into_iter()
            .filter_map(|(key, given)| given.then_some(key))
            .collect();
            // The error is at the key to remove or fill in: the second of two, an empty one,
            // or (none given) `client_id` at the grant's header.
            let empty = [("client", &grant.client), ("client_id", &grant.client_id)]
                .into_iter()
                .find_map(|(key, value)| (value.as_deref() == Some("")).then_some(key));
            let wrong = match (given.as_slice(), empty) {
                (_, Some(key)) => Some((key, format!("`{key}` is empty; "))),
                ([], None) => Some(("client_id", String::new())),
                ([_], None) => None,
                ([first, second, ..], None) => {
                    Some((*second, format!("`{first}` and `{second}` are both given; ")))
                }
            };
            if let Some((key, why)) = wrong {
                return Err(self.refuse(
                    index,
                    key,
                    format!(
                        "{why}exactly one of `client`, `client_id` and `default_for` names who the \
                         grant is for"
                    ),
                ));
            }
            if grant.audience.is_empty() {
                return Err(DesiredError::new(
                    format!("grant[{index}].audience"),
                    line(index),
                    format!("{}: the audience is empty", at(index)),
                ));
            }
            if grant.organization_usage == Some(OrganizationUsage::Deny) && !grant.organizations.is_empty() {
                return Err(DesiredError::new(
                    format!("grant[{index}].organizations"),
                    line(index),
                    format!(
                        "{}: organizations are listed, but organization_usage is `deny`",
                        at(index)
                    ),
                ));
            }
            let mut organizations: Vec<&str> = grant.organizations.iter().map(String::as_str).collect();
            organizations.sort_unstable();
            if let Some(twice) = organizations.windows(2).find(|pair| pair[0] == pair[1]) {
                return Err(DesiredError::new(
                    format!("grant[{index}].organizations"),
                    line(index),
                    format!("{}: `{}` is listed twice", at(index), twice[0]),
                ));
            }
            self.check_scopes(index, grant)?;
            if let Some(first) = seen.insert(grant.key(), index) {
                return Err(DesiredError::new(
                    format!("grant[{index}]"),
                    line(index),
                    format!("{}: the same grant as {} ({})", at(index), at(first), grant.key()),
                ));
            }
        }
        Ok(())
    }
}

impl DesiredState {
    /// The error of `grant[index].field`, at the line the file has it on.
    pub(crate) fn refuse(&self, index: usize, field: &str, problem: String) -> DesiredError {
        self.lines.refuse(index, field, problem)
    }

    /// What the API refuses of a grant's scopes, whatever the tenant has.
    fn check_scopes(&self, index: usize, grant: &DesiredGrant) -> Result<(), DesiredError> {
        let refuse = |field: &str, problem: String| self.lines.refuse(index, field, problem);
        let mut seen = HashSet::new();
        for scope in &grant.scope {
            let chars = scope.chars().count();
            if !SCOPE_LENGTH.contains(&chars) {
                return Err(refuse(
                    "scope",
                    format!("the scope `{scope}` is {chars} characters long; a scope is 1 to 280"),
                ));
            }
            if !seen.insert(scope.as_str()) {
                return Err(refuse("scope", format!("`{scope}` is listed twice")));
            }
        }
        for kind in grant.authorization_details_types.iter().flatten() {
            let chars = kind.chars().count();
            if !(1..=255).contains(&chars) {
                return Err(refuse(
                    "authorization_details_types",
                    format!("the type `{kind}` is {chars} characters long; a type is 1 to 255"),
                ));
            }
        }
        if grant.allow_all_scopes == Some(true) && !grant.scope.is_empty() {
            return Err(refuse(
                "allow_all_scopes",
                "allow_all_scopes = true with scopes listed, which Auth0 refuses: leave out `scope` \
                 or `allow_all_scopes`"
                    .to_owned(),
            ));
        }
        Ok(())
    }

    /// The rules that need the tenant, checked before a plan is made of this state: a file the
    /// API would refuse fails here, not halfway through an apply. `allow_all_scopes = true` on
    /// a system API (one of `system_apis`) is refused, and so are listed scopes that leave
    /// `allow_all_scopes` as the tenant has it when the tenant's grant allows every scope.
    pub(crate) fn check_against(
        &self,
        tenant: &super::TenantState,
        system_apis: &HashSet<String>,
    ) -> Result<(), DesiredError> {
        let current: HashMap<GrantKey, &ClientGrant> = tenant
            .grants
            .iter()
            .map(|grant| (GrantKey::of(grant), grant))
            .collect();
        for (index, grant) in self.grants.iter().enumerate() {
            let refuse = |field: &str, problem: String| self.lines.refuse(index, field, problem);
            if grant.allow_all_scopes == Some(true) && system_apis.contains(&grant.audience) {
                return Err(refuse(
                    "allow_all_scopes",
                    format!(
                        "`{}` is a system API, which refuses allow_all_scopes: list its scopes instead",
                        grant.audience
                    ),
                ));
            }
            let allows_all = current
                .get(&grant.key())
                .is_some_and(|existing| existing.allow_all_scopes == Some(true));
            if allows_all && grant.allow_all_scopes.is_none() && !grant.scope.is_empty() {
                return Err(refuse(
                    "scope",
                    "the tenant's grant allows every scope, which Auth0 refuses beside listed \
                     scopes: add `allow_all_scopes = false` to list them"
                        .to_owned(),
                ));
            }
        }
        Ok(())
    }
}

/// Each `[[grant]]` header's line (`[[ grant ]]` too) and the lines of the keys under it. A
/// header-like line inside a multi-line string would shift the count; the path in the error
/// stays right.
fn grant_lines(text: &str) -> Lines {
    let mut grants: Vec<GrantLines> = Vec::new();
    let mut in_grant = false;
    for (index, line) in text.lines().enumerate() {
        let code = line.split('#').next().unwrap_or_default().trim();
        if code.starts_with('[') {
            in_grant = code.chars().filter(|c| !c.is_whitespace()).collect::<String>() == "[[grant]]";
            if in_grant {
                grants.push(GrantLines {
                    header: index + 1,
                    keys: HashMap::new(),
                });
            }
            continue;
        }
        if let (true, Some(grant), Some((key, _))) = (in_grant, grants.last_mut(), code.split_once('=')) {
            grant.keys.entry(key.trim().to_owned()).or_insert(index + 1);
        }
    }
    Lines(grants)
}

thread_local! {
    /// Whether the file being read on this thread is read for its structure only: some of its
    /// references could not be substituted, so values that still hold one are not judged.
    static STRUCTURE_ONLY: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// Runs `read` (the deserialization of a file) for the file's structure only when
/// `structure_only`: keys, types and what every value without a reference must be, leaving
/// values that still hold a reference unjudged. A file with an undefined variable is refused
/// anyway; this only lets a structure error be the one reported.
fn reading_structure_only<T>(structure_only: bool, read: impl FnOnce() -> T) -> T {
    /// Puts the previous setting back, even if `read` panics.
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            STRUCTURE_ONLY.set(self.0);
        }
    }
    let _restore = Restore(STRUCTURE_ONLY.replace(structure_only));
    read()
}

/// Substitutes the variables of every string value under `table` (at `path`), in place; a value
/// with a reference that cannot be substituted stays as written, and the first such reference
/// in the file is the error returned.
fn substitute_table(
    table: &mut toml::de::DeTable<'_>,
    variables: &super::Variables,
    path: &str,
    text: &str,
) -> Option<DesiredError> {
    let mut refused = None;
    for (key, value) in table.iter_mut() {
        let path = if path.is_empty() {
            key.get_ref().to_string()
        } else {
            format!("{path}.{}", key.get_ref())
        };
        substitute_value(value, variables, path, &mut refused);
    }
    refused.map(|(start, path, problem)| {
        let line = line_at(text, start);
        DesiredError::new(
            path.clone(),
            Some(line),
            format!("{path} (line {line}): {problem}"),
        )
    })
}

/// The earliest reference that could not be substituted: where it is, its field, why.
type Refused = Option<(usize, String, super::variables::Unsubstituted)>;

fn substitute_value(
    value: &mut toml::Spanned<toml::de::DeValue<'_>>,
    variables: &super::Variables,
    path: String,
    refused: &mut Refused,
) {
    let start = value.span().start;
    match value.get_mut() {
        toml::de::DeValue::String(string) => match variables.substitute(string) {
            Ok(Some(substituted)) => *string = substituted.into(),
            Ok(None) => {}
            Err(problem) => {
                if refused.as_ref().is_none_or(|(first, ..)| start < *first) {
                    *refused = Some((start, path, problem));
                }
            }
        },
        toml::de::DeValue::Array(items) => {
            for (index, item) in items.iter_mut().enumerate() {
                substitute_value(item, variables, format!("{path}[{index}]"), refused);
            }
        }
        toml::de::DeValue::Table(table) => {
            for (key, item) in table.iter_mut() {
                substitute_value(item, variables, format!("{path}.{}", key.get_ref()), refused);
            }
        }
        _ => {}
    }
}

/// The line (from 1) of the byte at `offset` in `text`.
fn line_at(text: &str, offset: usize) -> usize {
    text[..offset.min(text.len())].matches('\n').count() + 1
}

/// The error of a TOML file that does not parse, or not into what it should, at its line.
pub(super) fn file_error(text: &str, path: &str, error: &toml::de::Error) -> DesiredError {
    let line = error.span().map(|span| line_at(text, span.start));
    let message = error.message().trim_end();
    let problem = match line {
        Some(line) => format!("line {line}: {message}"),
        None => message.to_owned(),
    };
    let path = if path.is_empty() || path == "." {
        "file"
    } else {
        path
    };
    DesiredError::new(path, line, problem)
}

impl DesiredGrant {
    /// Writes each `${` of the grant's values as `$${`, which a file reads back as `${`.
    fn escape_references(&mut self) {
        use super::variables::escape;
        let escape_all = |values: &mut Vec<String>| {
            for value in values {
                *value = escape(value).into_owned();
            }
        };
        for value in [&mut self.client, &mut self.client_id].into_iter().flatten() {
            *value = escape(value).into_owned();
        }
        self.audience = escape(&self.audience).into_owned();
        escape_all(&mut self.scope);
        escape_all(&mut self.organizations);
        if let Some(types) = &mut self.authorization_details_types {
            escape_all(types);
        }
    }

    /// The create request for this grant.
    pub(crate) fn to_new(&self) -> NewClientGrant {
        let mut new = match (&self.client_id, &self.default_for) {
            (Some(client_id), _) => NewClientGrant::new(client_id.clone(), self.audience.clone()),
            (None, Some(group)) => NewClientGrant::default_for(group.clone(), self.audience.clone()),
            (None, None) => NewClientGrant::new(String::new(), self.audience.clone()),
        }
        .scope(self.scope.clone())
        .subject_type(self.subject_type.clone());
        if let Some(usage) = &self.organization_usage {
            new = new.organization_usage(usage.clone());
        }
        if let Some(allow) = self.allow_any_organization {
            new = new.allow_any_organization(allow);
        }
        // `false` is Auth0's default, and a system API refuses the field even as `false`.
        if self.allow_all_scopes == Some(true) {
            new = new.allow_all_scopes(true);
        }
        if let Some(types) = &self.authorization_details_types {
            new = new.authorization_details_types(types.clone());
        }
        new
    }
}

impl DesiredState {
    /// The tenant's grants as a desired state: every grant except `is_system` ones, each
    /// setting as the tenant has it, with the organizations `tenant` holds for it. Applying
    /// it to the same tenant changes nothing.
    ///
    /// A grant this crate could not write back is refused, naming it, rather than left out
    /// (an authoritative apply of the file would then delete it): a value this version does
    /// not know (`subject_type`, `organization_usage`, `default_for`), or a grant with neither
    /// a client nor a `default_for` group.
    pub fn from_tenant(tenant: &super::TenantState) -> Result<Self, DesiredError> {
        for grant in tenant.grants.iter().filter(|grant| grant.is_system != Some(true)) {
            let unknown = [
                grant
                    .subject_type
                    .as_ref()
                    .filter(|value| !SubjectType::KNOWN.contains(&value.as_str()))
                    .map(|value| ("subject_type", value.as_str())),
                grant
                    .organization_usage
                    .as_ref()
                    .filter(|value| !OrganizationUsage::KNOWN.contains(&value.as_str()))
                    .map(|value| ("organization_usage", value.as_str())),
                grant
                    .default_for
                    .as_ref()
                    .filter(|value| !DefaultFor::KNOWN.contains(&value.as_str()))
                    .map(|value| ("default_for", value.as_str())),
            ];
            if let Some((field, value)) = unknown.into_iter().flatten().next() {
                return Err(DesiredError::new(
                    field,
                    None,
                    format!(
                        "grant {} has {field} `{value}`, which this version of the crate does not know",
                        grant.id
                    ),
                ));
            }
            if grant.client_id.is_none() && grant.default_for.is_none() {
                return Err(DesiredError::new(
                    "client_id",
                    None,
                    format!(
                        "grant {} names neither a client nor a default_for group",
                        grant.id
                    ),
                ));
            }
        }
        let mut grants: Vec<DesiredGrant> = tenant
            .grants
            .iter()
            .filter(|grant| grant.is_system != Some(true))
            .map(|grant| {
                let mut scope = grant.scope.clone();
                scope.sort();
                let mut organizations = tenant.organizations.get(&grant.id).cloned().unwrap_or_default();
                organizations.sort();
                DesiredGrant {
                    client: None,
                    client_id: grant.client_id.clone(),
                    default_for: grant.default_for.clone(),
                    audience: grant.audience.clone(),
                    subject_type: grant.subject_type.clone().unwrap_or(SubjectType::Client),
                    scope,
                    organization_usage: grant.organization_usage.clone(),
                    allow_any_organization: grant.allow_any_organization,
                    allow_all_scopes: grant.allow_all_scopes,
                    authorization_details_types: (!grant.authorization_details_types.is_empty())
                        .then(|| grant.authorization_details_types.clone()),
                    organizations,
                }
            })
            .collect();
        grants.sort_by_key(DesiredGrant::key);
        Ok(Self {
            grants,
            lines: Lines::default(),
        })
    }
}
