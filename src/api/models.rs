//! Models that progenitor cannot express: enums that keep values Auth0 adds later. build.rs
//! makes one for each string enum of `spec/client-grants.json`, with the spec's values as
//! variants, and wires it into the generated client with progenitor's `with_replacement`; the
//! tests below hold each to its schemas.

use std::fmt;
use std::str::FromStr;

/// An enum over the values the spec lists, plus `Unknown` keeping any value it does not, so
/// that one new value from Auth0 does not fail the decoding of a whole list.
macro_rules! open_enum {
    (
        $(#[$meta:meta])*
        $name:ident { $( $(#[$variant_meta:meta])* $variant:ident = $value:literal ),+ $(,)? }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone)]
        #[non_exhaustive]
        pub enum $name {
            $( $(#[$variant_meta])* $variant, )+
            /// A value this version of the crate does not know, kept as sent.
            Unknown(String),
        }

        impl $name {
            /// The values the spec lists, in its order.
            pub const KNOWN: &'static [&'static str] = &[$($value),+];

            /// The value as the API spells it.
            pub fn as_str(&self) -> &str {
                match self {
                    $( Self::$variant => $value, )+
                    Self::Unknown(value) => value,
                }
            }
        }

        impl FromStr for $name {
            type Err = std::convert::Infallible;

            fn from_str(value: &str) -> Result<Self, Self::Err> {
                Ok(match value {
                    $( $value => Self::$variant, )+
                    other => Self::Unknown(other.to_owned()),
                })
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                match value.parse() {
                    Ok(parsed) => parsed,
                    Err(never) => match never {},
                }
            }
        }

        // Compared, hashed and ordered by the value as the API spells it, not by variant: a value
        // added upstream then never changes how two known values compare, as a derived order
        // would, and `Unknown("user")` is `User`, as it reads.
        impl PartialEq for $name {
            fn eq(&self, other: &Self) -> bool {
                self.as_str() == other.as_str()
            }
        }

        impl Eq for $name {}

        impl std::hash::Hash for $name {
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                self.as_str().hash(state);
            }
        }

        impl PartialOrd for $name {
            fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
                Some(self.cmp(other))
            }
        }

        impl Ord for $name {
            fn cmp(&self, other: &Self) -> std::cmp::Ordering {
                self.as_str().cmp(other.as_str())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.as_str())
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let value = String::deserialize(deserializer)?;
                Ok(Self::from(value.as_str()))
            }
        }
    };
}

// One `open_enum!` for each string enum of the spec, made by build.rs with its values.
include!(concat!(env!("OUT_DIR"), "/open_enums.rs"));

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    fn spec_enum(schema: &str) -> Vec<String> {
        let spec: Value = serde_json::from_str(include_str!("../../spec/client-grants.json")).unwrap();
        let values = spec["components"]["schemas"][schema]["enum"]
            .as_array()
            .unwrap_or_else(|| panic!("spec/client-grants.json has no enum schema {schema}"));
        values
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn each_open_enum_knows_exactly_the_values_of_the_schemas_it_replaces() {
        for (schema, known) in [
            ("ClientGrantSubjectTypeEnum", SubjectType::KNOWN),
            ("ClientGrantOrganizationUsageEnum", OrganizationUsage::KNOWN),
            ("OrganizationUsageEnum", OrganizationUsage::KNOWN),
            ("ClientGrantDefaultForEnum", DefaultFor::KNOWN),
            (
                "OrganizationThirdPartyClientAccessEnum",
                ThirdPartyClientAccess::KNOWN,
            ),
        ] {
            assert_eq!(
                spec_enum(schema),
                known,
                "{schema}: build.rs generated other values"
            );
        }
    }

    #[test]
    fn anonymous_user_which_the_live_api_knows_since_july_2026_is_a_named_variant() {
        let grant: crate::ClientGrant = serde_json::from_str(
            r#"{"id":"cgr_1","audience":"https://api/","subject_type":"anonymous_user"}"#,
        )
        .unwrap();
        assert_eq!(grant.subject_type, Some(SubjectType::AnonymousUser));
        assert_eq!(SubjectType::AnonymousUser.as_str(), "anonymous_user");
    }

    #[test]
    fn the_organization_fields_of_auth0s_august_2026_release_are_typed() {
        let organization: crate::Organization = serde_json::from_str(
            r#"{"id":"org_1","third_party_client_access":"allow","is_app_entitlement_active":true,
                "client":{"use_for_member_access":true,"added_later":1}}"#,
        )
        .unwrap();
        assert_eq!(
            organization.third_party_client_access,
            Some(ThirdPartyClientAccess::Allow)
        );
        assert_eq!(organization.is_app_entitlement_active, Some(true));
        let client = organization.client.unwrap();
        assert_eq!(client.use_for_member_access, Some(true));
        assert_eq!(ThirdPartyClientAccess::KNOWN, ["block", "allow"]);
    }

    #[test]
    fn equality_hashing_and_order_all_follow_the_value() {
        use std::collections::{BTreeSet, HashSet};
        let spelled_out = SubjectType::Unknown("user".to_owned());
        assert_eq!(spelled_out, SubjectType::User);
        assert_eq!(HashSet::from([spelled_out.clone(), SubjectType::User]).len(), 1);
        assert_eq!(BTreeSet::from([spelled_out, SubjectType::User]).len(), 1);
        assert!(OrganizationUsage::Allow < OrganizationUsage::Deny);
    }

    #[test]
    fn known_values_round_trip_and_unknown_ones_are_kept() {
        let known: SubjectType = serde_json::from_str(r#""user""#).unwrap();
        assert_eq!(known, SubjectType::User);
        assert_eq!(serde_json::to_string(&known).unwrap(), r#""user""#);
        let new: SubjectType = serde_json::from_str(r#""service""#).unwrap();
        assert_eq!(new, SubjectType::Unknown("service".into()));
        assert_eq!(serde_json::to_string(&new).unwrap(), r#""service""#);
        assert_eq!(OrganizationUsage::Require.to_string(), "require");
        assert_eq!(
            "third_party_clients".parse::<DefaultFor>().unwrap(),
            DefaultFor::ThirdPartyClients
        );
    }
}

/// Fuzzing the open enums with any string (inputs in src/tests/fuzz_inputs.rs).
#[cfg(test)]
mod fuzzed {
    use super::*;
    use crate::tests::fuzz_inputs::{fuzz, string};

    #[test]
    fn fuzz_open_enums_keep_any_value() {
        fuzz("open enums", 1024, string(), |value| {
            let json = serde_json::to_string(&value).expect("a string serializes");
            macro_rules! check {
                ($name:ident) => {{
                    let parsed = $name::from(value.as_str());
                    assert_eq!(parsed.as_str(), value);
                    assert_eq!(parsed.to_string(), value);
                    assert_eq!(
                        matches!(parsed, $name::Unknown(_)),
                        !$name::KNOWN.contains(&value.as_str())
                    );
                    let decoded: $name = serde_json::from_str(&json).expect("any string decodes");
                    assert_eq!(decoded, parsed);
                    assert_eq!(serde_json::to_string(&decoded).expect("serializes"), json);
                }};
            }
            check!(SubjectType);
            check!(OrganizationUsage);
            check!(DefaultFor);
            check!(ThirdPartyClientAccess);
            4
        });
    }
}
