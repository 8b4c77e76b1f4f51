//! What an upstream release changes for users of this crate, in API terms.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde_json::{Map, Value};

use super::operations::HTTP_METHODS;

/// What a change means for the crate's version, by semver, for crates that depend on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Bump {
    /// Nothing a dependent crate can see changes.
    Patch,
    /// Something is added (a field, a variant, a parameter, a method): code written against the
    /// old release still builds and works, since models and enums are `#[non_exhaustive]` and
    /// parameters are set by name.
    Minor,
    /// Code written against the old release can break: fail to compile, be refused by the
    /// API, or fail to decode a response.
    Major,
}

impl fmt::Display for Bump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Patch => "patch",
            Self::Minor => "minor",
            Self::Major => "major",
        })
    }
}

/// The bump a release with all of `changes` needs: the largest of theirs (patch for none).
pub fn needed_bump(changes: &[Change]) -> Bump {
    changes
        .iter()
        .map(|change| change.bump)
        .max()
        .unwrap_or(Bump::Patch)
}

/// One difference between two releases of the client-grant operations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Change {
    pub operation: String,
    pub description: String,
    pub bump: Bump,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:<5}  {}: {}", self.bump, self.operation, self.description)
    }
}

/// The changes from `old` to `new`, both OpenAPI 3.0 subsets as `spec::convert` produces them.
pub fn diff_api(old: &Value, new: &Value) -> Vec<Change> {
    let old_operations = operations(old);
    let new_operations = operations(new);
    let mut changes = Vec::new();
    for (id, old_op) in &old_operations {
        let mut push = |description: String, bump: Bump| {
            changes.push(Change {
                operation: id.clone(),
                description,
                bump,
            });
        };
        let Some(new_op) = new_operations.get(id) else {
            push(
                format!(
                    "operation removed ({} {})",
                    old_op.method.to_uppercase(),
                    old_op.path
                ),
                Bump::Major,
            );
            continue;
        };
        if (old_op.method.as_str(), old_op.path.as_str()) != (new_op.method.as_str(), new_op.path.as_str()) {
            push(
                format!(
                    "operation moved from {} {} to {} {}",
                    old_op.method.to_uppercase(),
                    old_op.path,
                    new_op.method.to_uppercase(),
                    new_op.path
                ),
                Bump::Major,
            );
        }
        compare_fields(
            "parameter",
            Side::Request,
            &old_op.parameters,
            &new_op.parameters,
            &mut push,
        );
        compare_fields(
            "request body field",
            Side::Request,
            &old_op.body,
            &new_op.body,
            &mut push,
        );
        let statuses: BTreeSet<&String> = old_op.responses.keys().chain(new_op.responses.keys()).collect();
        for status in statuses {
            // A documented status is a method of the operation's typed mock (feature `mock`).
            match (old_op.responses.get(status), new_op.responses.get(status)) {
                (Some(_), None) => push(format!("response {status} removed"), Bump::Major),
                (None, Some(_)) => push(format!("response {status} added"), Bump::Minor),
                (Some(old_fields), Some(new_fields)) => compare_fields(
                    &format!("response {status} field"),
                    Side::Response,
                    old_fields,
                    new_fields,
                    &mut push,
                ),
                (None, None) => unreachable!("the status came from one of the two maps"),
            }
        }
    }
    for (id, new_op) in &new_operations {
        if !old_operations.contains_key(id) {
            changes.push(Change {
                operation: id.clone(),
                description: format!(
                    "operation added ({} {})",
                    new_op.method.to_uppercase(),
                    new_op.path
                ),
                bump: Bump::Minor,
            });
        }
    }
    changes
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Side {
    Request,
    Response,
}

fn compare_fields(
    kind: &str,
    side: Side,
    old: &BTreeMap<String, Field>,
    new: &BTreeMap<String, Field>,
    push: &mut dyn FnMut(String, Bump),
) {
    for (key, old_field) in old {
        let name = display_name(key);
        let Some(new_field) = new.get(key) else {
            push(format!("{kind} `{name}` removed"), Bump::Major);
            continue;
        };
        if old_field.ty != new_field.ty {
            push(
                format!(
                    "{kind} `{name}` changed type from {} to {}",
                    old_field.ty, new_field.ty
                ),
                Bump::Major,
            );
        }
        if old_field.required != new_field.required {
            let now = if new_field.required {
                "required"
            } else {
                "optional"
            };
            push(format!("{kind} `{name}` is now {now}"), Bump::Major);
        }
        if old_field.nullable != new_field.nullable {
            let now = if new_field.nullable {
                "nullable"
            } else {
                "no longer nullable"
            };
            push(format!("{kind} `{name}` is now {now}"), Bump::Major);
        }
        for value in new_field.enum_values.difference(&old_field.enum_values) {
            // A variant of an open enum: the old release decodes it as `Unknown`, this one names it.
            push(format!("{kind} `{name}` gained the value {value}"), Bump::Minor);
        }
        for value in old_field.enum_values.difference(&new_field.enum_values) {
            push(format!("{kind} `{name}` lost the value {value}"), Bump::Major);
        }
    }
    for (key, new_field) in new {
        let name = display_name(key);
        if !old.contains_key(key) {
            let required = new_field.required && side == Side::Request;
            let (note, bump) = if required {
                (" (required)", Bump::Major)
            } else {
                ("", Bump::Minor)
            };
            push(format!("{kind} `{name}` added{note}"), bump);
        }
    }
}

/// Fields are keyed by their path inside the body; the body itself has the empty path.
fn display_name(key: &str) -> &str {
    if key.is_empty() { "(the whole body)" } else { key }
}

struct OperationModel {
    method: String,
    path: String,
    parameters: BTreeMap<String, Field>,
    body: BTreeMap<String, Field>,
    responses: BTreeMap<String, BTreeMap<String, Field>>,
}

/// What the diff compares of one field, parameter or nested schema.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Field {
    ty: String,
    required: bool,
    nullable: bool,
    enum_values: BTreeSet<String>,
}

fn operations(document: &Value) -> BTreeMap<String, OperationModel> {
    let flattener = Flattener { document };
    let mut operations = BTreeMap::new();
    let empty = Map::new();
    for (path, item) in document.get("paths").and_then(Value::as_object).unwrap_or(&empty) {
        let shared_parameters = item
            .get("parameters")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        for method in HTTP_METHODS {
            let Some(operation) = item.get(method) else {
                continue;
            };
            let Some(id) = operation.get("operationId").and_then(Value::as_str) else {
                continue;
            };
            let mut parameters = BTreeMap::new();
            let own = operation
                .get("parameters")
                .and_then(Value::as_array)
                .cloned()
                .unwrap_or_default();
            for parameter in shared_parameters.iter().chain(&own) {
                let parameter = flattener.resolve(parameter);
                let name = format!(
                    "{} ({})",
                    parameter.get("name").and_then(Value::as_str).unwrap_or("?"),
                    parameter.get("in").and_then(Value::as_str).unwrap_or("?")
                );
                let required = parameter
                    .get("required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                let schema = parameter.get("schema").cloned().unwrap_or(Value::Null);
                flattener.flatten(&schema, &name, required, &mut parameters, &mut BTreeSet::new());
            }
            let mut body = BTreeMap::new();
            if let Some(schema) = operation.pointer("/requestBody/content/application~1json/schema") {
                let required = operation
                    .pointer("/requestBody/required")
                    .and_then(Value::as_bool)
                    .unwrap_or(false);
                flattener.flatten(schema, "", required, &mut body, &mut BTreeSet::new());
            }
            let mut responses = BTreeMap::new();
            for (status, response) in operation
                .get("responses")
                .and_then(Value::as_object)
                .unwrap_or(&empty)
            {
                let mut fields = BTreeMap::new();
                if let Some(schema) = response.pointer("/content/application~1json/schema") {
                    flattener.flatten(schema, "", true, &mut fields, &mut BTreeSet::new());
                }
                responses.insert(status.clone(), fields);
            }
            operations.insert(
                id.to_owned(),
                OperationModel {
                    method: method.to_owned(),
                    path: path.clone(),
                    parameters,
                    body,
                    responses,
                },
            );
        }
    }
    operations
}

struct Flattener<'a> {
    document: &'a Value,
}

impl<'a> Flattener<'a> {
    /// What `value` points at when it is a local `$ref`; `value` itself otherwise.
    fn resolve(&self, value: &'a Value) -> &'a Value {
        value
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|reference| reference.strip_prefix('#'))
            .and_then(|pointer| self.document.pointer(pointer))
            .unwrap_or(value)
    }

    /// Records `schema` at `at` and every field nested in it, following `$ref`s.
    fn flatten(
        &self,
        schema: &Value,
        at: &str,
        required: bool,
        into: &mut BTreeMap<String, Field>,
        visiting: &mut BTreeSet<String>,
    ) {
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            if !visiting.insert(reference.to_owned()) {
                let ty = format!("recursive {reference}");
                into.insert(
                    at.to_owned(),
                    Field {
                        ty,
                        required,
                        nullable: false,
                        enum_values: BTreeSet::new(),
                    },
                );
                return;
            }
            self.flatten(self.resolve(schema), at, required, into, visiting);
            visiting.remove(reference);
            return;
        }
        let Some(node) = schema.as_object() else { return };
        let ty = node
            .get("type")
            .and_then(Value::as_str)
            .map(str::to_owned)
            .unwrap_or_else(|| {
                ["oneOf", "anyOf", "allOf"]
                    .into_iter()
                    .find(|key| node.contains_key(*key))
                    .unwrap_or("any")
                    .to_owned()
            });
        let enum_values = node
            .get("enum")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .map(Value::to_string)
            .collect();
        let nullable = node.get("nullable").and_then(Value::as_bool).unwrap_or(false);
        into.insert(
            at.to_owned(),
            Field {
                ty,
                required,
                nullable,
                enum_values,
            },
        );

        let required_names: BTreeSet<&str> = node
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        if let Some(properties) = node.get("properties").and_then(Value::as_object) {
            for (name, property) in properties {
                let child = if at.is_empty() {
                    name.clone()
                } else {
                    format!("{at}.{name}")
                };
                self.flatten(
                    property,
                    &child,
                    required_names.contains(name.as_str()),
                    into,
                    visiting,
                );
            }
        }
        if let Some(items) = node.get("items") {
            self.flatten(items, &format!("{at}[]"), true, into, visiting);
        }
        if let Some(values @ Value::Object(_)) = node.get("additionalProperties") {
            self.flatten(values, &format!("{at}{{}}"), true, into, visiting);
        }
        for key in ["oneOf", "anyOf"] {
            for (index, member) in node
                .get(key)
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                self.flatten(
                    member,
                    &format!("{at}(shape {})", index + 1),
                    true,
                    into,
                    visiting,
                );
            }
        }
        for member in node.get("allOf").and_then(Value::as_array).into_iter().flatten() {
            self.flatten(member, at, required, into, visiting);
        }
    }
}
