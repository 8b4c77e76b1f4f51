//! Pages and the streams that walk them: checkpoint paging (`from`/`take`, safe over a list
//! that changes) and offset paging (`page`/`per_page`, with totals). Streams are lazy: nothing
//! is sent until they are first polled, and only one page is held at a time. They are boxed
//! once, so callers can use `.next()` without pinning them first.

use std::collections::HashSet;
use std::future::Future;

use futures_util::{Stream, StreamExt, TryStreamExt, stream};

use crate::error::{Error, PaginationError};

/// One page of a checkpoint-paged list.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct Page<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The cursor of the next page (pass it to `from`), or `None` on the last page.
    pub next: Option<String>,
}

/// One page of an offset-paged list, with the totals Auth0 reports.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct OffsetPage<T> {
    /// The items of this page.
    pub items: Vec<T>,
    /// The index of the first item of this page in the whole list.
    pub start: u64,
    /// The page size the server applied.
    pub limit: u64,
    /// How many items the whole list holds.
    pub total: u64,
}

impl<T> IntoIterator for Page<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

impl<T> IntoIterator for OffsetPage<T> {
    type Item = T;
    type IntoIter = std::vec::IntoIter<T>;

    fn into_iter(self) -> Self::IntoIter {
        self.items.into_iter()
    }
}

/// Auth0 sends offset totals as JSON numbers that may be floats (`50.0`).
pub(crate) fn whole_number(value: Option<f64>) -> u64 {
    value
        .filter(|number| number.is_finite() && *number >= 0.0)
        .map_or(0, |number| number as u64)
}

/// The cursor to ask `operation` for next: `None` when the page says the list ended (`next`
/// absent, null or empty); an error when the server hands out a cursor it handed out before,
/// which would otherwise loop forever.
pub(crate) fn next_cursor(
    operation: &'static str,
    next: Option<&str>,
    seen: &mut HashSet<String>,
) -> Result<Option<String>, Error> {
    match next {
        None | Some("") => Ok(None),
        Some(cursor) if !seen.insert(cursor.to_owned()) => Err(Error::Pagination(
            PaginationError::repeated_cursor(operation, cursor),
        )),
        Some(cursor) => Ok(Some(cursor.to_owned())),
    }
}

/// Whether an offset list goes on after a page of `len` items starting at `start`.
pub(crate) fn offset_has_more(start: u64, len: usize, total: u64, per_page: u64) -> bool {
    // `start` is the server's: it may be anything up to `u64::MAX`.
    len > 0 && (len as u64) >= per_page && start.saturating_add(len as u64) < total
}

/// Where a walk over checkpoint pages stands between two pages.
enum WalkState<S> {
    /// The next page is to be fetched from this state (its cursor and the cursors seen).
    FetchNext(S),
    /// The last page fetched ended the walk with this error, yielded after its items.
    Failed(Error),
    /// Nothing more to yield.
    Done,
}

/// The pages of the checkpoint-paged list of `operation`, starting at cursor `from`.
pub(crate) fn checkpoint_pages<T, F, Fut>(
    operation: &'static str,
    from: Option<String>,
    fetch: F,
) -> impl Stream<Item = Result<Page<T>, Error>> + Send + Unpin + 'static
where
    T: Send + 'static,
    F: FnMut(Option<String>) -> Fut + Send + 'static,
    Fut: Future<Output = Result<Page<T>, Error>> + Send,
{
    let start = WalkState::FetchNext((from, HashSet::new()));
    stream::unfold((start, fetch), move |(walk, mut fetch)| async move {
        let (from, mut seen) = match walk {
            WalkState::FetchNext(state) => state,
            WalkState::Failed(error) => return Some((Err(error), (WalkState::Done, fetch))),
            WalkState::Done => return None,
        };
        let page = match fetch(from).await {
            Ok(page) => page,
            Err(error) => return Some((Err(error), (WalkState::Done, fetch))),
        };
        let walk = match next_cursor(operation, page.next.as_deref(), &mut seen) {
            Ok(Some(cursor)) => WalkState::FetchNext((Some(cursor), seen)),
            Ok(None) => WalkState::Done,
            Err(error) => WalkState::Failed(error),
        };
        Some((Ok(page), (walk, fetch)))
    })
    .boxed()
}

/// The pages of an offset-paged list, from page `first` with `per_page` items a page.
pub(crate) fn offset_pages<T, F, Fut>(
    first: u64,
    per_page: u64,
    fetch: F,
) -> impl Stream<Item = Result<OffsetPage<T>, Error>> + Send + Unpin + 'static
where
    T: Send + 'static,
    F: FnMut(u64) -> Fut + Send + 'static,
    Fut: Future<Output = Result<OffsetPage<T>, Error>> + Send,
{
    stream::unfold(
        (WalkState::FetchNext(first), fetch),
        move |(walk, mut fetch)| async move {
            let page_number = match walk {
                WalkState::FetchNext(page_number) => page_number,
                WalkState::Failed(error) => return Some((Err(error), (WalkState::Done, fetch))),
                WalkState::Done => return None,
            };
            match fetch(page_number).await {
                Ok(page) => {
                    let more = offset_has_more(page.start, page.items.len(), page.total, per_page);
                    let walk = match page_number.checked_add(1) {
                        Some(next) if more => WalkState::FetchNext(next),
                        _ => WalkState::Done,
                    };
                    Some((Ok(page), (walk, fetch)))
                }
                Err(error) => Some((Err(error), (WalkState::Done, fetch))),
            }
        },
    )
    .boxed()
}

/// The items of a stream of pages, one page in memory at a time.
pub(crate) fn items<P, T>(pages: impl Stream<Item = Result<P, Error>>) -> impl Stream<Item = Result<T, Error>>
where
    P: IntoIterator<Item = T>,
{
    pages
        .map_ok(|page| stream::iter(page.into_iter().map(Ok)))
        .try_flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::PaginationErrorKind;

    #[test]
    fn the_last_checkpoint_page_has_next_absent_null_or_empty() {
        let mut seen = HashSet::new();
        let next = |cursor, seen: &mut _| next_cursor("get_client_grants", cursor, seen);
        assert_eq!(next(None, &mut seen).unwrap(), None);
        assert_eq!(next(Some(""), &mut seen).unwrap(), None);
        assert_eq!(next(Some("c1"), &mut seen).unwrap(), Some("c1".to_owned()));
        assert_eq!(next(Some("c2"), &mut seen).unwrap(), Some("c2".to_owned()));
        let Err(Error::Pagination(repeated)) = next(Some("c1"), &mut seen) else {
            panic!("expected a pagination error")
        };
        assert_eq!(repeated.kind(), PaginationErrorKind::RepeatedCursor);
        assert_eq!(repeated.operation(), "get_client_grants");
        assert_eq!(repeated.cursor(), Some("c1"));
        assert_eq!(
            Error::Pagination(repeated).to_string(),
            r#"paging failed: the server returned the cursor "c1" twice; stopping instead of looping"#
        );
    }

    #[test]
    fn offset_paging_ends_on_total_on_a_short_page_or_on_an_empty_page() {
        #[rustfmt::skip]
        let table = [
            // start, len, total, per_page, more
            (0,   50, 120, 50, true),
            (50,  50, 120, 50, true),
            (100, 20, 120, 50, false), // short page, and total reached
            (0,   50,  50, 50, false), // exactly total
            (0,   30, 999, 50, false), // short page although total says more
            (0,    0, 999, 50, false), // empty page
            (0,   50,   0, 50, false), // a total of 0 with items: trust the total
        ];
        for (start, len, total, per_page, more) in table {
            assert_eq!(
                offset_has_more(start, len, total, per_page),
                more,
                "{start} {len} {total} {per_page}"
            );
        }
    }

    #[test]
    fn float_totals_become_whole_numbers() {
        assert_eq!(whole_number(Some(50.0)), 50);
        assert_eq!(whole_number(Some(-1.0)), 0);
        assert_eq!(whole_number(Some(f64::NAN)), 0);
        assert_eq!(whole_number(None), 0);
    }
}

/// Fuzzing the paging arithmetic and cursor walks (inputs in src/tests/fuzz_inputs.rs), and what it
/// found.
#[cfg(test)]
mod fuzzed {
    use std::collections::HashSet;

    use proptest::collection::vec;
    use proptest::option::weighted;
    use proptest::prelude::*;

    use super::*;
    use crate::tests::fuzz_inputs::fuzz;

    #[test]
    fn fuzz_paging_arithmetic_takes_any_totals() {
        let total = prop_oneof![
            any::<f64>(),
            any::<u64>().prop_map(|number| number as f64),
            Just(1.8446744073709552e19)
        ];
        let input = (weighted(0.9, total.clone()), total, 0usize..=100, 1u64..=100);
        fuzz("paging totals", 4096, input, |(start, total, len, per_page)| {
            let (start, total) = (whole_number(start), whole_number(Some(total)));
            if offset_has_more(start, len, total, per_page) {
                assert!(len as u64 >= per_page && start < total);
            }
            1
        });
    }

    #[test]
    fn fuzz_cursor_walks_end_on_the_first_repeat() {
        let cursors = vec(weighted(0.95, "[ab]{0,2}"), 1..12);
        fuzz("cursors", 1024, cursors, |cursors| {
            let mut seen = HashSet::new();
            for (index, cursor) in cursors.iter().enumerate() {
                let repeated = cursor.as_deref().is_some_and(|cursor| {
                    !cursor.is_empty()
                        && cursors[..index]
                            .iter()
                            .any(|earlier| earlier.as_deref() == Some(cursor))
                });
                match next_cursor("get_client_grants", cursor.as_deref(), &mut seen) {
                    Ok(Some(next)) => assert_eq!(Some(next.as_str()), cursor.as_deref()),
                    Ok(None) => {
                        assert!(cursor.as_deref().is_none_or(str::is_empty));
                        break;
                    }
                    Err(error) => {
                        assert!(repeated, "{error}");
                        break;
                    }
                }
            }
            1
        });
    }

    #[test]
    fn found_an_offset_page_starting_past_u64() {
        // Overflowed (a panic in debug builds) when the server's `start` saturated to u64::MAX.
        let start = whole_number(Some(1.8446744073709552e19));
        assert!(!offset_has_more(start, 14, whole_number(Some(0.0)), 1));
        assert!(!offset_has_more(start, 100, u64::MAX, 100));
    }
}
