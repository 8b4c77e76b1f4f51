//! Tests of the whole pipeline over the committed files.

use super::*;

#[test]
fn the_committed_spec_is_what_the_pipeline_produces() {
    if let Err(error) = check(&workspace_root()) {
        panic!("{error:#}");
    }
}
