//! Tests of the whole pipeline: the committed files, and refresh/check/diff on scratch copies.

use std::path::Path;

use serde_json::Value;

use super::*;

const OLD_RELEASE: &str = "fixtures/management-api-oas.2026-04-14.client-grants.json";
const NEW_RELEASE: &str = "fixtures/management-api-oas.2026-06-25.client-grants.json";
/// The June release with exactly the client-grant changes of Auth0's release of 2026-08-20.
const AUGUST_RELEASE: &str = "fixtures/management-api-oas.2026-08-20.client-grants.json";
const AUGUST_PATCH: &str = "fixtures/management-api-oas.2026-08-20.client-grants.patch.json";

fn fixture(relative: &str) -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(relative)
        .to_str()
        .unwrap()
        .to_owned()
}

fn fixture_json(relative: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(fixture(relative)).unwrap()).unwrap()
}

/// A scratch workspace holding only the committed overlay, as a fresh clone has before its
/// first refresh.
fn scratch_root() -> tempfile::TempDir {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(root.path().join("spec")).unwrap();
    std::fs::copy(
        workspace_root().join(OVERLAY_PATH),
        root.path().join(OVERLAY_PATH),
    )
    .unwrap();
    root
}

fn error_text(result: Result<impl std::fmt::Debug>) -> String {
    format!("{:#}", result.unwrap_err())
}

#[test]
fn the_committed_spec_is_what_the_pipeline_produces() {
    if let Err(error) = check(&workspace_root()) {
        panic!("{error:#}");
    }
}

#[test]
fn the_four_grant_schemas_the_overlay_merges_are_identical_upstream() {
    let subset: Value = serde_json::from_str(&read(&workspace_root(), SUBSET_PATH).unwrap()).unwrap();
    let schemas = &subset["components"]["schemas"];
    let kept = &schemas["ClientGrantResponseContent"];
    assert!(kept.is_object());
    for merged in [
        "GetClientGrantResponseContent",
        "CreateClientGrantResponseContent",
        "UpdateClientGrantResponseContent",
    ] {
        assert_eq!(
            &schemas[merged], kept,
            "{merged} now differs from ClientGrantResponseContent upstream: revisit the merge in {OVERLAY_PATH}"
        );
    }
}

#[test]
fn adding_default_for_is_a_minor_change() {
    let changes = api_diff(&fixture_json(OLD_RELEASE), &fixture_json(NEW_RELEASE)).unwrap();
    let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        lines,
        [
            "minor  get_client-grant: response 200 field `default_for` added",
            "minor  get_client-grant-organizations: response 404 added",
            "minor  get_client-grants: parameter `default_for (query)` added",
            "minor  get_client-grants: response 200 field `(shape 1)[].default_for` added",
            "minor  get_client-grants: response 200 field `(shape 2).client_grants[].default_for` added",
            "minor  get_client-grants: response 200 field `(shape 3).client_grants[].default_for` added",
            "minor  patch_client-grants_by_id: response 200 field `default_for` added",
            "minor  post_client-grants: request body field `default_for` added",
            "minor  post_client-grants: response 201 field `default_for` added",
        ]
    );
    assert_eq!(diff::needed_bump(&changes), diff::Bump::Minor);
}

#[test]
fn removing_default_for_is_a_major_change() {
    let changes = api_diff(&fixture_json(NEW_RELEASE), &fixture_json(OLD_RELEASE)).unwrap();
    assert_eq!(changes.len(), 9);
    // Every change is major, the removed 404 too: it was a method of the operation's typed mock.
    let not_major: Vec<String> = changes
        .iter()
        .filter(|change| change.bump != diff::Bump::Major)
        .map(ToString::to_string)
        .collect();
    assert_eq!(not_major, Vec::<String>::new());
    assert_eq!(diff::needed_bump(&changes), diff::Bump::Major);
}

#[test]
fn an_enum_value_and_an_optional_field_added_are_minor_and_a_required_request_field_major() {
    let old = fixture_json(NEW_RELEASE);
    let mut new = old.clone();
    let schemas = new["components"]["schemas"].as_object_mut().unwrap();
    schemas["ClientGrantSubjectTypeEnum"]["enum"]
        .as_array_mut()
        .unwrap()
        .push("anonymous_user".into());
    schemas["ClientGrantResponseContent"]["properties"]["added_later"] =
        serde_json::json!({"type": "string"});
    let changes = api_diff(&old, &new).unwrap();
    assert!(!changes.is_empty());
    assert_eq!(diff::needed_bump(&changes), diff::Bump::Minor, "{changes:?}");

    let create = &mut new["components"]["schemas"]["CreateClientGrantRequestContent"];
    create["properties"]["now_needed"] = serde_json::json!({"type": "string"});
    create["required"]
        .as_array_mut()
        .unwrap()
        .push("now_needed".into());
    let changes = api_diff(&old, &new).unwrap();
    assert_eq!(diff::needed_bump(&changes), diff::Bump::Major, "{changes:?}");
}

#[test]
fn a_release_diffed_with_itself_has_no_changes() {
    assert_eq!(
        api_diff(&fixture_json(NEW_RELEASE), &fixture_json(NEW_RELEASE)).unwrap(),
        []
    );
}

#[test]
fn refresh_writes_all_three_files_and_check_then_passes() {
    let root = scratch_root();
    refresh(root.path(), &fixture(OLD_RELEASE)).unwrap();
    check(root.path()).unwrap();

    let provenance = Provenance::parse(&read(root.path(), PROVENANCE_PATH).unwrap()).unwrap();
    assert_eq!(provenance.source, fixture(OLD_RELEASE));
    assert_eq!(
        provenance.sha256,
        sha256_hex(&std::fs::read(fixture(OLD_RELEASE)).unwrap())
    );
    assert_eq!(
        provenance.size,
        std::fs::metadata(fixture(OLD_RELEASE)).unwrap().len()
    );
    assert_eq!(provenance.openapi, "3.1.0");
    assert_eq!(provenance.info_version, "2.0");
    assert_eq!(provenance.operations.len(), 11);
    let client_spec: Value = serde_json::from_str(&read(root.path(), CLIENT_SPEC_PATH).unwrap()).unwrap();
    assert_eq!(client_spec["openapi"], "3.0.3");
    assert!(client_spec["components"]["schemas"]["ClientGrantDefaultForEnum"].is_null());

    // The newer release regenerates the spec with `default_for` in it.
    refresh(root.path(), &fixture(NEW_RELEASE)).unwrap();
    check(root.path()).unwrap();
    let client_spec: Value = serde_json::from_str(&read(root.path(), CLIENT_SPEC_PATH).unwrap()).unwrap();
    assert_eq!(
        client_spec["components"]["schemas"]["ClientGrantResponseContent"]["properties"]["default_for"]["$ref"],
        "#/components/schemas/ClientGrantDefaultForEnum"
    );
}

#[test]
fn refreshing_from_the_same_document_twice_changes_nothing() {
    let root = scratch_root();
    refresh(root.path(), &fixture(NEW_RELEASE)).unwrap();
    let first = read(root.path(), PROVENANCE_PATH).unwrap();
    refresh(root.path(), &fixture(NEW_RELEASE)).unwrap();
    assert_eq!(read(root.path(), PROVENANCE_PATH).unwrap(), first);
}

#[test]
fn a_document_lacking_an_operation_is_refused_and_nothing_is_written() {
    let root = scratch_root();
    let mut document = fixture_json(NEW_RELEASE);
    document["paths"]["/client-grants/{id}"]
        .as_object_mut()
        .unwrap()
        .remove("patch");
    let source = root.path().join("upstream.json");
    std::fs::write(&source, document.to_string()).unwrap();

    let error = error_text(refresh(root.path(), source.to_str().unwrap()));
    assert_eq!(
        error,
        "the upstream document lacks operation `patch_client-grants_by_id` (PATCH /client-grants/{id})"
    );
    assert!(!root.path().join(SUBSET_PATH).exists());
    assert!(!root.path().join(CLIENT_SPEC_PATH).exists());
}

#[test]
fn check_catches_a_hand_edited_subset_and_names_the_fix() {
    let root = scratch_root();
    refresh(root.path(), &fixture(NEW_RELEASE)).unwrap();
    let subset = read(root.path(), SUBSET_PATH)
        .unwrap()
        .replace("\"2.0\"", "\"2.1\"");
    std::fs::write(root.path().join(SUBSET_PATH), subset).unwrap();

    let error = error_text(check(root.path()));
    assert!(
        error.starts_with(&format!(
            "{SUBSET_PATH} does not match the sha256 in {PROVENANCE_PATH}"
        )),
        "{error}"
    );
    assert!(
        error.ends_with(&format!(
            "run `cargo xtask spec refresh --from {}`",
            fixture(NEW_RELEASE)
        )),
        "{error}"
    );
}

#[test]
fn check_catches_a_drifted_client_spec_and_generate_repairs_it() {
    let root = scratch_root();
    refresh(root.path(), &fixture(NEW_RELEASE)).unwrap();
    let edited = read(root.path(), CLIENT_SPEC_PATH)
        .unwrap()
        .replacen("\"3.0.3\"", "\"3.0.2\"", 1);
    std::fs::write(root.path().join(CLIENT_SPEC_PATH), edited).unwrap();

    let error = error_text(check(root.path()));
    assert!(
        error.starts_with(&format!("{CLIENT_SPEC_PATH} differs from what")),
        "{error}"
    );
    assert!(error.ends_with("run `cargo xtask spec generate`"), "{error}");

    assert!(generate(root.path()).unwrap());
    check(root.path()).unwrap();
}

#[test]
fn an_overlay_action_that_no_longer_matches_fails_the_check() {
    let root = scratch_root();
    refresh(root.path(), &fixture(NEW_RELEASE)).unwrap();
    let overlay = read(root.path(), OVERLAY_PATH).unwrap()
        + "  - target: $.components.schemas.NoSuchSchema\n    description: Stale. Long gone.\n    remove: true\n";
    std::fs::write(root.path().join(OVERLAY_PATH), overlay).unwrap();

    let error = error_text(check(root.path()));
    assert!(
        error.starts_with(&format!("{OVERLAY_PATH} is out of date: overlay action ")),
        "{error}"
    );
    assert!(
        error.contains("(target `$.components.schemas.NoSuchSchema`: \"Stale.\") selects nothing"),
        "{error}"
    );
}

#[test]
fn a_correction_whose_target_upstream_renamed_stops_refresh_naming_it_and_spec_is_left_as_it_was() {
    let root = scratch_root();
    refresh(root.path(), &fixture(NEW_RELEASE)).unwrap();
    let before = spec_files(root.path());

    // Upstream renames Organization, which several overlay actions correct.
    let renamed = std::fs::read_to_string(fixture(NEW_RELEASE))
        .unwrap()
        .replace(
            "\"#/components/schemas/Organization\"",
            "\"#/components/schemas/OrganizationSummary\"",
        )
        .replace("\"Organization\": {", "\"OrganizationSummary\": {");
    let source = root.path().join("renamed.json");
    std::fs::write(&source, renamed).unwrap();

    let error = error_text(refresh(root.path(), source.to_str().unwrap()));
    let overlay = overlay::parse_overlay(&read(root.path(), OVERLAY_PATH).unwrap()).unwrap();
    let index = overlay
        .actions
        .iter()
        .position(|action| {
            let target = action.target.trim();
            target == "$.components.schemas.Organization"
                || target.starts_with("$.components.schemas.Organization.")
        })
        .unwrap();
    assert!(
        error.starts_with(&format!(
            "{OVERLAY_PATH} is out of date: overlay action {index} (target `{}`: ",
            overlay.actions[index].target
        )),
        "{error}"
    );
    assert!(
        error.ends_with(
            "selects nothing in the upstream document, which renamed or removed what it corrects: \
             point the action at the new place, or drop it if it is no longer needed"
        ),
        "{error}"
    );
    assert_eq!(spec_files(root.path()), before);
}

/// Every file under `spec/` with its bytes.
fn spec_files(root: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    for relative in [OVERLAY_PATH, SUBSET_PATH, PROVENANCE_PATH, CLIENT_SPEC_PATH] {
        files.push((relative.to_owned(), std::fs::read(root.join(relative)).unwrap()));
    }
    assert_eq!(
        walk(&root.join("spec")),
        files.len(),
        "spec/ holds files this test does not compare"
    );
    files
}

fn walk(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| {
            let path = entry.unwrap().path();
            if path.is_dir() { walk(&path) } else { 1 }
        })
        .sum()
}

#[test]
fn a_spec_progenitor_rejects_fails_with_its_reason() {
    let mut subset = fixture_json(NEW_RELEASE);
    // Two success answers with different bodies: progenitor allows one success type.
    subset["paths"]["/client-grants/{id}"]["get"]["responses"]["202"] =
        serde_json::json!({"content": {"application/json": {"schema": {"type": "string"}}}});
    let overlay = std::fs::read_to_string(workspace_root().join(OVERLAY_PATH)).unwrap();
    let error = format!("{:#}", derive_client_spec(&subset, &overlay).unwrap_err());
    assert!(error.starts_with("progenitor cannot use the result: "), "{error}");
}

#[test]
fn a_new_response_schema_is_corrected_by_rule_and_a_request_schema_stays_strict() {
    let mut subset = fixture_json(NEW_RELEASE);
    let schemas = subset["components"]["schemas"].as_object_mut().unwrap();
    // A new closed object under a response, with every limit Auth0 writes, in OpenAPI 3.1.
    schemas.insert(
        "GrantExtra".into(),
        serde_json::json!({"type": "object", "additionalProperties": false, "properties": {
            "label": {"type": ["string", "null"], "maxLength": 10, "pattern": "^[a-z]+$",
                      "format": "date-time", "default": "example"}
        }}),
    );
    schemas["ClientGrantResponseContent"]["properties"]["extra"] =
        serde_json::json!({"$ref": "#/components/schemas/GrantExtra"});
    let overlay = std::fs::read_to_string(workspace_root().join(OVERLAY_PATH)).unwrap();

    let derived = derive_client_spec(&subset, &overlay).unwrap();
    let spec: Value = serde_json::from_str(&derived.text).unwrap();
    let schemas = &spec["components"]["schemas"];
    assert_eq!(
        schemas["GrantExtra"],
        serde_json::json!({"type": "object", "additionalProperties": true, "properties": {
            "label": {"type": "string", "nullable": true}
        }})
    );
    let create = &schemas["CreateClientGrantRequestContent"];
    assert_eq!(create["additionalProperties"], false);
    assert_eq!(create["properties"]["scope"]["items"]["maxLength"], 280);
    assert_eq!(derived.notes, Vec::<String>::new());
}

#[test]
fn the_anonymous_user_correction_is_reported_redundant_once_upstream_lists_the_value() {
    let root = workspace_root();
    let overlay = read(&root, OVERLAY_PATH).unwrap();
    let mut subset: Value = serde_json::from_str(&read(&root, SUBSET_PATH).unwrap()).unwrap();
    assert_eq!(
        redundant_corrections(&subset, &overlay).unwrap(),
        Vec::<String>::new()
    );

    let values = subset["components"]["schemas"]["ClientGrantSubjectTypeEnum"]["enum"]
        .as_array_mut()
        .unwrap();
    values.push("anonymous_user".into());
    let redundant = redundant_corrections(&subset, &overlay).unwrap();
    assert_eq!(redundant.len(), 1, "{redundant:?}");
    assert!(
        redundant[0].contains("ClientGrantSubjectTypeEnum.enum"),
        "{redundant:?}"
    );
}

#[test]
fn the_august_fixture_is_the_june_release_with_exactly_the_changes_of_its_patch() {
    let mut june = fixture_json(NEW_RELEASE);
    let patch: json_patch::Patch = serde_json::from_value(fixture_json(AUGUST_PATCH)).unwrap();
    json_patch::patch(&mut june, &patch).unwrap();
    assert_eq!(june, fixture_json(AUGUST_RELEASE));
}

#[test]
fn the_august_release_is_minor_and_diff_names_each_change() {
    let changes = api_diff(&fixture_json(NEW_RELEASE), &fixture_json(AUGUST_RELEASE)).unwrap();
    let lines: Vec<String> = changes.iter().map(ToString::to_string).collect();
    let mut expected = vec![
        "minor  get_client-grant: response 200 field `subject_type` gained the value \"anonymous_user\""
            .to_owned(),
    ];
    let organizations = [
        "(shape 1)[]",
        "(shape 2).organizations[]",
        "(shape 3).organizations[]",
    ];
    for shape in organizations {
        for field in [
            "client",
            "client.use_for_member_access",
            "is_app_entitlement_active",
            "third_party_client_access",
        ] {
            expected.push(format!(
                "minor  get_client-grant-organizations: response 200 field `{shape}.{field}` added"
            ));
        }
    }
    expected.extend([
        "minor  get_client-grants: parameter `subject_type (query)` gained the value \"anonymous_user\""
            .to_owned(),
    ]);
    for shape in [
        "(shape 1)[]",
        "(shape 2).client_grants[]",
        "(shape 3).client_grants[]",
    ] {
        expected.push(format!(
            "minor  get_client-grants: response 200 field `{shape}.subject_type` gained the value \"anonymous_user\""
        ));
    }
    expected.extend(
        [
            "patch_client-grants_by_id: response 200 field `subject_type`",
            "post_client-grants: request body field `subject_type`",
            "post_client-grants: response 201 field `subject_type`",
        ]
        .map(|place| format!("minor  {place} gained the value \"anonymous_user\"")),
    );
    assert_eq!(lines, expected);
    assert_eq!(lines.len(), 20);
    assert_eq!(diff::needed_bump(&changes), diff::Bump::Minor);
}

#[test]
fn refresh_from_the_august_release_needs_no_edit_and_gives_the_client_spec_the_corrections_gave() {
    let june = scratch_root();
    refresh(june.path(), &fixture(NEW_RELEASE)).unwrap();
    let august = scratch_root();
    refresh(august.path(), &fixture(AUGUST_RELEASE)).unwrap();
    check(august.path()).unwrap();

    // The overlay's corrections say what Auth0 published in August, to the byte: the client
    // generated from either release is the same.
    assert_eq!(
        read(august.path(), CLIENT_SPEC_PATH).unwrap(),
        read(june.path(), CLIENT_SPEC_PATH).unwrap()
    );
}

#[test]
fn once_upstream_has_the_august_changes_refresh_reports_each_of_their_corrections_redundant() {
    let overlay_text = read(&workspace_root(), OVERLAY_PATH).unwrap();
    let overlay = overlay::parse_overlay(&overlay_text).unwrap();
    // The June release needs every correction.
    assert_eq!(
        redundant_corrections(&fixture_json(NEW_RELEASE), &overlay_text).unwrap(),
        Vec::<String>::new()
    );

    let redundant = redundant_corrections(&fixture_json(AUGUST_RELEASE), &overlay_text).unwrap();
    let index_of = |description_part: &str| {
        overlay
            .actions
            .iter()
            .position(|action| {
                action
                    .description
                    .as_deref()
                    .unwrap_or_default()
                    .contains(description_part)
            })
            .unwrap_or_else(|| panic!("no overlay action says {description_part}"))
    };
    let (subject_type, access, entitlement, client) = (
        index_of("`subject_type: anonymous_user`"),
        index_of("`third_party_client_access` (GA)"),
        index_of("`is_app_entitlement_active` (EA)"),
        index_of("`client` (EA)"),
    );
    let (enum_target, organization, schemas) = (
        "`$.components.schemas.ClientGrantSubjectTypeEnum.enum`",
        "`$.components.schemas.Organization.properties`",
        "`$.components.schemas`",
    );
    assert_eq!(
        redundant,
        [
            format!("overlay action {subject_type} (target {enum_target})"),
            format!(
                "overlay actions {access} to {} (targets {organization}, {schemas})",
                access + 1
            ),
            format!("overlay action {entitlement} (target {organization})"),
            format!(
                "overlay actions {client} to {} (targets {organization}, {schemas})",
                client + 1
            ),
        ]
    );
}
