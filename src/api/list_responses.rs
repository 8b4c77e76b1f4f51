//! Where a page is decoded: the list responses, which come in two or three shapes (a bare array,
//! an offset page with totals, and for the lists that have it a checkpoint page with `next`),
//! as one generic type read in one pass.
//!
//! The spec describes each list response as a `oneOf`, which progenitor would turn into a
//! `#[serde(untagged)]` enum: serde then copies the whole page into an intermediate tree and
//! tries each shape in turn, and a bad item comes out as "did not match any variant" with no
//! place named. build.rs replaces the four with [`ListResponse`] of their item type, which
//! reads the page once: a `[` is the array; an object is the offset page if it has `total`,
//! else the checkpoint page (or, for a list without checkpoints, an offset page that lacks its
//! `total`); a bad item is reported where it is.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};

use crate::api::generated::types::{ClientGrant, ClientSummary, Organization, OrganizationClientGrant};
use crate::api::pagination::{OffsetPage, Page, whole_number};
use crate::error::{DecodeError, Error};

/// An item of a list response: the key under which a page object holds the items, and whether
/// the list has checkpoint paging.
pub trait ListItem {
    /// The key of the items in a page object, such as `client_grants`.
    const KEY: &'static str;
    /// Whether the list answers `from`/`take` with a checkpoint page.
    const CHECKPOINTS: bool;
}

impl ListItem for ClientGrant {
    const KEY: &'static str = "client_grants";
    const CHECKPOINTS: bool = true;
}

impl ListItem for Organization {
    const KEY: &'static str = "organizations";
    const CHECKPOINTS: bool = true;
}

impl ListItem for OrganizationClientGrant {
    const KEY: &'static str = "client_grants";
    const CHECKPOINTS: bool = false;
}

impl ListItem for ClientSummary {
    const KEY: &'static str = "clients";
    const CHECKPOINTS: bool = true;
}

/// A list response, in the shape the query asked for.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum ListResponse<T> {
    /// A bare array (no paging parameters).
    Array(Vec<T>),
    /// An offset page with totals (`include_totals=true`).
    Offset {
        /// The items of the page.
        items: Vec<T>,
        /// The index of the first item in the whole list.
        start: Option<f64>,
        /// The page size the server applied.
        limit: Option<f64>,
        /// How many items the whole list holds.
        total: f64,
    },
    /// A checkpoint page (`from`/`take`).
    Checkpoint {
        /// The items of the page.
        items: Vec<T>,
        /// The cursor of the next page; absent on the last.
        next: Option<String>,
    },
}

/// The response of `GET /client-grants`.
pub type ListClientGrantResponseContent = ListResponse<ClientGrant>;
/// The response of `GET /client-grants/{id}/organizations`.
pub type ListClientGrantOrganizationsResponseContent = ListResponse<Organization>;
/// The response of `GET /organizations/{id}/client-grants`, which has only offset paging.
pub type ListOrganizationClientGrantsResponseContent = ListResponse<OrganizationClientGrant>;
/// The response of `GET /clients`.
pub type ListClientsResponseContent = ListResponse<ClientSummary>;

impl<T> From<Vec<T>> for ListResponse<T> {
    fn from(items: Vec<T>) -> Self {
        Self::Array(items)
    }
}

impl<T> ListResponse<T> {
    /// The response as a checkpoint page; only a checkpoint response names a next page.
    pub(crate) fn into_page(self) -> Page<T> {
        match self {
            Self::Array(items) | Self::Offset { items, .. } => Page { items, next: None },
            Self::Checkpoint { items, next } => Page { items, next },
        }
    }

    /// The response as an offset page with totals. A response without them (to a query that asked
    /// for them) is an error: making them up from the page would end a walk over the pages
    /// early.
    pub(crate) fn into_offset_page(self, operation: &'static str) -> Result<OffsetPage<T>, Error> {
        match self {
            Self::Offset {
                items,
                start,
                limit,
                total,
            } => Ok(OffsetPage {
                items,
                start: whole_number(start),
                limit: whole_number(limit),
                total: whole_number(Some(total)),
            }),
            Self::Array(_) | Self::Checkpoint { .. } => {
                Err(Error::Decode(DecodeError::missing(operation, 200, "total")))
            }
        }
    }
}

/// The keys of a page object; anything else is skipped, as Auth0 adds fields.
enum Key {
    Items,
    Next,
    Start,
    Limit,
    Total,
    Other,
}

/// Reads a key of a page object whose items are under `items`.
struct KeyOf(&'static str);

impl<'de> de::DeserializeSeed<'de> for KeyOf {
    type Value = Key;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<Key, D::Error> {
        let key = std::borrow::Cow::<str>::deserialize(deserializer)?;
        Ok(match key.as_ref() {
            items if items == self.0 => Key::Items,
            "next" => Key::Next,
            "start" => Key::Start,
            "limit" => Key::Limit,
            "total" => Key::Total,
            _ => Key::Other,
        })
    }
}

impl<'de, T: ListItem + Deserialize<'de>> Deserialize<'de> for ListResponse<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Shapes<T>(PhantomData<T>);

        impl<'de, T: ListItem + Deserialize<'de>> Visitor<'de> for Shapes<T> {
            type Value = ListResponse<T>;

            fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(formatter, "an array of items or an object with `{}`", T::KEY)
            }

            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(100));
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(ListResponse::Array(items))
            }

            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut items: Option<Vec<T>> = None;
                let (mut next, mut start, mut limit, mut total) = (None, None, None, None);
                while let Some(key) = map.next_key_seed(KeyOf(T::KEY))? {
                    match key {
                        Key::Items => items = Some(map.next_value()?),
                        Key::Next => next = map.next_value()?,
                        Key::Start => start = map.next_value()?,
                        Key::Limit => limit = map.next_value()?,
                        Key::Total => total = map.next_value::<Option<f64>>()?,
                        Key::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                match total {
                    Some(total) => Ok(ListResponse::Offset {
                        items: items.ok_or_else(|| de::Error::missing_field(T::KEY))?,
                        start,
                        limit,
                        total,
                    }),
                    None if T::CHECKPOINTS => Ok(ListResponse::Checkpoint {
                        items: items.unwrap_or_default(),
                        next,
                    }),
                    None => Err(de::Error::missing_field("total")),
                }
            }
        }

        deserializer.deserialize_any(Shapes(PhantomData))
    }
}

impl<T: ListItem + Serialize> Serialize for ListResponse<T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Array(items) => items.serialize(serializer),
            Self::Offset {
                items,
                start,
                limit,
                total,
            } => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry(T::KEY, items)?;
                if let Some(start) = start {
                    map.serialize_entry("start", start)?;
                }
                if let Some(limit) = limit {
                    map.serialize_entry("limit", limit)?;
                }
                map.serialize_entry("total", total)?;
                map.end()
            }
            Self::Checkpoint { items, next } => {
                let mut map = serializer.serialize_map(None)?;
                map.serialize_entry(T::KEY, items)?;
                if let Some(next) = next {
                    map.serialize_entry("next", next)?;
                }
                map.end()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRANT: &str = r#"{"id":"cgr_1","audience":"https://api/","scope":["read:x"]}"#;

    fn decode<T: ListItem + serde::de::DeserializeOwned>(body: &str) -> Result<ListResponse<T>, String> {
        serde_path_to_error::deserialize(&mut serde_json::Deserializer::from_str(body))
            .map_err(|error| format!("{} at {}", error.inner(), error.path()))
    }

    #[test]
    fn each_shape_decodes_to_its_variant_and_unknown_keys_are_skipped() {
        assert!(matches!(
            decode::<ClientGrant>(&format!("[{GRANT}]")),
            Ok(ListResponse::Array(items)) if items.len() == 1
        ));
        let offset = decode::<ClientGrant>(&format!(
            r#"{{"start":0,"limit":50,"total":1,"client_grants":[{GRANT}],"added_later":{{"x":[1]}}}}"#
        ));
        assert!(matches!(
            offset,
            Ok(ListResponse::Offset { items, total, .. }) if total == 1.0 && items.len() == 1
        ));
        let checkpoint = decode::<ClientGrant>(&format!(r#"{{"client_grants":[{GRANT}],"next":"abc"}}"#));
        assert!(matches!(
            checkpoint,
            Ok(ListResponse::Checkpoint { items, next }) if next.as_deref() == Some("abc") && items.len() == 1
        ));
        let last = decode::<ClientGrant>(r#"{"client_grants":[]}"#);
        assert!(matches!(last, Ok(ListResponse::Checkpoint { next: None, .. })));
        let organizations = decode::<Organization>(r#"{"organizations":[{"id":"org_1"}],"next":"o"}"#);
        assert!(matches!(
            organizations,
            Ok(ListResponse::Checkpoint { items, .. }) if items.len() == 1
        ));
    }

    #[test]
    fn a_bad_item_or_field_is_reported_where_it_is_not_as_another_shape() {
        let bad_item =
            decode::<ClientGrant>(r#"{"client_grants":[{"id":"g","audience":"a","scope":[7]}],"next":"c"}"#);
        assert!(bad_item.unwrap_err().ends_with("at client_grants[0].scope[0]"));
        // Read as a checkpoint page by an untagged enum, which skipped the `total` it could not take.
        let bad_total = decode::<ClientGrant>(r#"{"client_grants":[],"total":"1"}"#);
        assert!(bad_total.unwrap_err().ends_with("at total"));
        let offset_without_items = decode::<ClientGrant>(r#"{"total":3}"#);
        assert!(
            offset_without_items
                .unwrap_err()
                .contains("missing field `client_grants`")
        );
        // The items of another list are not these items.
        let other_key = decode::<Organization>(&format!(r#"{{"client_grants":[{GRANT}],"total":1}}"#));
        assert!(other_key.unwrap_err().contains("missing field `organizations`"));
    }

    #[test]
    fn a_list_without_checkpoints_reads_an_object_as_its_offset_page_and_wants_its_total() {
        let grant = r#"{"id":"cgr_1","audience":"https://api/","client_id":"app","scope":[]}"#;
        assert!(matches!(
            decode::<OrganizationClientGrant>(&format!("[{grant}]")),
            Ok(ListResponse::Array(items)) if items.len() == 1
        ));
        assert!(matches!(
            decode::<OrganizationClientGrant>(&format!(
                r#"{{"client_grants":[{grant}],"start":0,"limit":50,"total":1}}"#
            )),
            Ok(ListResponse::Offset { items, total, .. }) if total == 1.0 && items.len() == 1
        ));
        let without_total =
            decode::<OrganizationClientGrant>(&format!(r#"{{"client_grants":[{grant}],"next":"c"}}"#));
        assert!(without_total.unwrap_err().contains("missing field `total`"));
    }

    #[test]
    fn what_is_serialized_decodes_to_the_same_answer() {
        for body in [
            format!("[{GRANT}]"),
            format!(r#"{{"client_grants":[{GRANT}],"next":"abc"}}"#),
            r#"{"client_grants":[]}"#.to_owned(),
            format!(r#"{{"client_grants":[{GRANT}],"start":0,"limit":50,"total":1}}"#),
            r#"{"client_grants":[],"total":0}"#.to_owned(),
        ] {
            let response = decode::<ClientGrant>(&body).unwrap();
            let written = serde_json::to_string(&response).unwrap();
            let again = decode::<ClientGrant>(&written).unwrap();
            assert_eq!(serde_json::to_string(&again).unwrap(), written, "{body}");
            assert_eq!(
                std::mem::discriminant(&again),
                std::mem::discriminant(&response),
                "{body}"
            );
        }
    }

    #[test]
    fn pages_take_next_only_from_checkpoint_answers_and_totals_only_from_offset_answers() {
        let checkpoint = decode::<ClientGrant>(r#"{"client_grants":[],"next":"c"}"#).unwrap();
        assert_eq!(checkpoint.clone().into_page().next.as_deref(), Some("c"));
        let error = checkpoint.into_offset_page("get_client_grants").unwrap_err();
        assert!(
            error.to_string().contains("the response has no `total`"),
            "{error}"
        );
        let offset =
            decode::<ClientGrant>(r#"{"client_grants":[],"start":50,"limit":50,"total":120.0}"#).unwrap();
        assert_eq!(offset.clone().into_page().next, None);
        let page = offset.into_offset_page("get_client_grants").unwrap();
        assert_eq!((page.start, page.limit, page.total), (50, 50, 120));
    }
}
