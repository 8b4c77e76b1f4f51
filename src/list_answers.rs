//! The list answers that come in two or three shapes (a bare array, an offset page with
//! totals, and for the lists that have it a checkpoint page with `next`), decoded in one pass.
//!
//! The spec describes each as a `oneOf`, which progenitor turns into a `#[serde(untagged)]`
//! enum: serde then copies the whole page into an intermediate tree and tries each shape in
//! turn, which costs about as much again as decoding it, and a bad item comes out as "did not
//! match any variant" with no place named. These types replace those enums (build.rs) with the
//! same variants, and read the page once: a `[` is the array; an object is the offset page if
//! it has `total`, else the checkpoint page (or, for a list without one, an offset page that
//! lacks its `total`); a bad item is reported where it is.

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::generated::types::{
    ClientGrant, ListClientGrantOffsetPaginatedResponseContent,
    ListClientGrantOrganizationsOffsetPaginatedResponseContent,
    ListClientGrantOrganizationsPaginatedResponseContent, ListClientGrantPaginatedResponseContent,
    ListOrganizationClientGrantsOffsetPaginatedResponseContent, Organization, OrganizationClientGrant,
};

/// The keys of a page object; anything else is skipped, as Auth0 adds fields.
#[derive(serde::Deserialize)]
#[serde(field_identifier, rename_all = "snake_case")]
enum Key {
    ClientGrants,
    Organizations,
    Next,
    Start,
    Limit,
    Total,
    #[serde(other)]
    Other,
}

/// `Some(value)`, or `None` when no value is given.
macro_rules! some_or_none {
    () => {
        None
    };
    ($value:expr) => {
        Some($value)
    };
}

macro_rules! one_pass_list_answer {
    (
        $(#[$doc:meta])*
        $name:ident {
            items: $item:ty, field: $field:ident, key: $items_key:ident,
            offset: $offset:ident $(, checkpoint: $checkpoint:ident)? $(,)?
        }
    ) => {
        $(#[$doc])*
        #[derive(Serialize, Clone, Debug)]
        #[serde(untagged)]
        pub enum $name {
            /// A bare array (no paging parameters).
            Array(Vec<$item>),
            /// An offset page with totals (`include_totals=true`).
            $offset($offset),
            $(
                /// A checkpoint page (`from`/`take`).
                $checkpoint($checkpoint),
            )?
        }

        impl From<Vec<$item>> for $name {
            fn from(items: Vec<$item>) -> Self {
                Self::Array(items)
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Shapes;

                impl<'de> Visitor<'de> for Shapes {
                    type Value = $name;

                    fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        write!(formatter, "an array of items or an object with `{}`", stringify!($field))
                    }

                    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<$name, A::Error> {
                        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(100));
                        while let Some(item) = seq.next_element()? {
                            items.push(item);
                        }
                        Ok($name::Array(items))
                    }

                    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<$name, A::Error> {
                        let mut items: Option<Vec<$item>> = None;
                        let (mut next, mut start, mut limit, mut total) = (None, None, None, None);
                        while let Some(key) = map.next_key::<Key>()? {
                            match key {
                                Key::$items_key => items = Some(map.next_value()?),
                                Key::Next => next = map.next_value()?,
                                Key::Start => start = map.next_value()?,
                                Key::Limit => limit = map.next_value()?,
                                Key::Total => total = map.next_value::<Option<f64>>()?,
                                _ => {
                                    map.next_value::<IgnoredAny>()?;
                                }
                            }
                        }
                        // How a page without `total` is read, for the lists that have checkpoints.
                        let checkpoint: Option<fn(Vec<$item>, Option<String>) -> $name> = some_or_none!($(
                            |items, next| $name::$checkpoint($checkpoint { $field: items, next })
                        )?);
                        match (total, checkpoint) {
                            (Some(total), _) => Ok($name::$offset($offset {
                                $field: items.ok_or_else(|| de::Error::missing_field(stringify!($field)))?,
                                start,
                                limit,
                                total,
                            })),
                            (None, Some(checkpoint)) => Ok(checkpoint(items.unwrap_or_default(), next)),
                            (None, None) => Err(de::Error::missing_field("total")),
                        }
                    }
                }

                deserializer.deserialize_any(Shapes)
            }
        }
    };
}

one_pass_list_answer! {
    /// The answer of `GET /client-grants`.
    ListClientGrantResponseContent {
        items: ClientGrant, field: client_grants, key: ClientGrants,
        offset: ListClientGrantOffsetPaginatedResponseContent,
        checkpoint: ListClientGrantPaginatedResponseContent,
    }
}

one_pass_list_answer! {
    /// The answer of `GET /client-grants/{id}/organizations`.
    ListClientGrantOrganizationsResponseContent {
        items: Organization, field: organizations, key: Organizations,
        offset: ListClientGrantOrganizationsOffsetPaginatedResponseContent,
        checkpoint: ListClientGrantOrganizationsPaginatedResponseContent,
    }
}

one_pass_list_answer! {
    /// The answer of `GET /organizations/{id}/client-grants`, which has only offset paging.
    ListOrganizationClientGrantsResponseContent {
        items: OrganizationClientGrant, field: client_grants, key: ClientGrants,
        offset: ListOrganizationClientGrantsOffsetPaginatedResponseContent,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRANT: &str = r#"{"id":"cgr_1","audience":"https://api/","scope":["read:x"]}"#;

    fn decode(body: &str) -> Result<ListClientGrantResponseContent, String> {
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(body))
            .map_err(|error| format!("{} at {}", error.inner(), error.path()))
    }

    #[test]
    fn each_shape_decodes_to_its_variant_and_unknown_keys_are_skipped() {
        assert!(matches!(
            decode(&format!("[{GRANT}]")),
            Ok(ListClientGrantResponseContent::Array(items)) if items.len() == 1
        ));
        let offset = decode(&format!(
            r#"{{"start":0,"limit":50,"total":1,"client_grants":[{GRANT}],"added_later":{{"x":[1]}}}}"#
        ));
        assert!(matches!(
            offset,
            Ok(ListClientGrantResponseContent::ListClientGrantOffsetPaginatedResponseContent(page))
                if page.total == 1.0 && page.client_grants.len() == 1
        ));
        let checkpoint = decode(&format!(r#"{{"client_grants":[{GRANT}],"next":"abc"}}"#));
        assert!(matches!(
            checkpoint,
            Ok(ListClientGrantResponseContent::ListClientGrantPaginatedResponseContent(page))
                if page.next.as_deref() == Some("abc") && page.client_grants.len() == 1
        ));
        let last = decode(r#"{"client_grants":[]}"#);
        assert!(matches!(
            last,
            Ok(ListClientGrantResponseContent::ListClientGrantPaginatedResponseContent(page)) if page.next.is_none()
        ));
    }

    #[test]
    fn a_bad_item_or_field_is_reported_where_it_is_not_as_another_shape() {
        let bad_item = decode(r#"{"client_grants":[{"id":"g","audience":"a","scope":[7]}],"next":"c"}"#);
        assert!(bad_item.unwrap_err().ends_with("at client_grants[0].scope[0]"));
        // Read as a checkpoint page by an untagged enum, which skipped the `total` it could not take.
        let bad_total = decode(r#"{"client_grants":[],"total":"1"}"#);
        assert!(bad_total.unwrap_err().ends_with("at total"));
        let offset_without_items = decode(r#"{"total":3}"#);
        assert!(
            offset_without_items
                .unwrap_err()
                .contains("missing field `client_grants`")
        );
    }

    #[test]
    fn a_list_without_checkpoints_reads_an_object_as_its_offset_page_and_wants_its_total() {
        let decode = |body: &str| -> Result<ListOrganizationClientGrantsResponseContent, String> {
            serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(body))
                .map_err(|error| format!("{} at {}", error.inner(), error.path()))
        };
        let grant = r#"{"id":"cgr_1","audience":"https://api/","client_id":"app","scope":[]}"#;
        assert!(matches!(
            decode(&format!("[{grant}]")),
            Ok(ListOrganizationClientGrantsResponseContent::Array(items)) if items.len() == 1
        ));
        assert!(matches!(
            decode(&format!(r#"{{"client_grants":[{grant}],"start":0,"limit":50,"total":1}}"#)),
            Ok(ListOrganizationClientGrantsResponseContent::ListOrganizationClientGrantsOffsetPaginatedResponseContent(page))
                if page.total == 1.0 && page.client_grants.len() == 1
        ));
        let without_total = decode(&format!(r#"{{"client_grants":[{grant}],"next":"c"}}"#));
        assert!(without_total.unwrap_err().contains("missing field `total`"));
    }

    #[test]
    fn what_is_serialized_decodes_to_the_same_shape() {
        let page = decode(&format!(r#"{{"client_grants":[{GRANT}],"next":"abc"}}"#)).unwrap();
        let again = decode(&serde_json::to_string(&page).unwrap()).unwrap();
        assert!(matches!(
            again,
            ListClientGrantResponseContent::ListClientGrantPaginatedResponseContent(page) if page.next.as_deref() == Some("abc")
        ));
    }
}
