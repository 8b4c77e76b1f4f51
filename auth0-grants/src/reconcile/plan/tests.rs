//! The planner as a table: what the tenant has, what is desired, the mode, and the changes.

use serde_json::json;

use auth0_client_grants::{DefaultFor, SubjectType};

use super::*;

const API: &str = "https://api.example.com/";
const OTHER_API: &str = "https://other.example.com/";

fn grant(value: serde_json::Value) -> ClientGrant {
    serde_json::from_value(value).expect("a grant as the API sends it")
}

fn tenant(grants: Vec<ClientGrant>) -> TenantState {
    TenantState::new(grants, HashMap::new())
}

fn desired(grants: Vec<DesiredGrant>) -> DesiredState {
    DesiredState::new(grants).expect("a valid desired state")
}

/// The plan's changes, one short line each.
fn lines(plan: &Plan) -> Vec<String> {
    plan.changes()
        .iter()
        .map(|change| match change {
            Change::Create { key, .. } => format!("create {}", key.subject),
            Change::Update { id, fields, .. } => format!(
                "update {id} {}",
                fields
                    .iter()
                    .map(|field| field.field)
                    .collect::<Vec<_>>()
                    .join(",")
            ),
            Change::Recreate { id, key, .. } => format!("recreate {id} as {}", key.subject_type),
            Change::Delete { id, .. } => format!("delete {id}"),
            Change::Associate {
                id, organization_id, ..
            } => format!("associate {organization_id} {}", id.as_deref().unwrap_or("new")),
            Change::Dissociate {
                id, organization_id, ..
            } => format!("dissociate {organization_id} {id}"),
        })
        .collect()
}

fn app(id: &str, client: &str, audience: &str, scope: &[&str]) -> ClientGrant {
    grant(json!({"id": id, "client_id": client, "audience": audience, "scope": scope}))
}

#[test]
fn an_empty_tenant_gets_every_grant_then_its_organizations() {
    let plan = Plan::compute(
        &tenant(vec![]),
        &desired(vec![
            DesiredGrant::new("b", API)
                .scope(["read"])
                .organizations(["org_1"]),
            DesiredGrant::new("a", API).scope(["read"]),
        ]),
        Mode::Additive,
    );
    assert_eq!(lines(&plan), ["create a", "create b", "associate org_1 new"]);
}

#[test]
fn a_matching_grant_needs_nothing_whatever_the_order_of_its_scopes() {
    let plan = Plan::compute(
        &tenant(vec![app("cgr_1", "a", API, &["write", "read"])]),
        &desired(vec![DesiredGrant::new("a", API).scope(["read", "write"])]),
        Mode::Authoritative,
    );
    assert!(plan.is_empty(), "{plan}");
    assert!(plan.to_string().contains("No changes"));
}

#[test]
fn a_different_scope_is_an_update_with_before_and_after() {
    let plan = Plan::compute(
        &tenant(vec![app("cgr_1", "a", API, &["read"])]),
        &desired(vec![DesiredGrant::new("a", API).scope(["read", "write"])]),
        Mode::Additive,
    );
    let [Change::Update { id, fields, .. }] = plan.changes() else {
        panic!("one update: {plan}");
    };
    assert_eq!(id, "cgr_1");
    assert_eq!(
        fields,
        &[FieldChange {
            field: "scope",
            before: json!(["read"]),
            after: json!(["read", "write"]),
        }]
    );
    assert!(
        plan.to_string().contains(r#"scope: ["read"] → ["read","write"]"#),
        "{plan}"
    );
}

#[test]
fn settings_the_desired_grant_leaves_out_are_not_compared_and_named_ones_are() {
    let existing = grant(json!({
        "id": "cgr_1", "client_id": "a", "audience": API, "scope": [],
        "organization_usage": "allow", "allow_any_organization": true, "allow_all_scopes": true,
    }));
    let plan = Plan::compute(
        &tenant(vec![existing.clone()]),
        &desired(vec![DesiredGrant::new("a", API)]),
        Mode::Authoritative,
    );
    assert!(plan.is_empty(), "{plan}");
    let mut strict = DesiredGrant::new("a", API).organization_usage(OrganizationUsage::Deny);
    strict.allow_any_organization = Some(false);
    strict.allow_all_scopes = Some(false);
    let plan = Plan::compute(&tenant(vec![existing]), &desired(vec![strict]), Mode::Additive);
    assert_eq!(
        lines(&plan),
        ["update cgr_1 organization_usage,allow_any_organization,allow_all_scopes"]
    );
}

#[test]
fn additive_never_deletes_and_authoritative_deletes_only_on_the_audiences_it_names() {
    let grants = vec![
        app("cgr_keep", "a", API, &[]),
        app("cgr_stray", "b", API, &[]),
        app("cgr_elsewhere", "c", OTHER_API, &[]),
    ];
    let wanted = desired(vec![DesiredGrant::new("a", API)]);
    assert!(Plan::compute(&tenant(grants.clone()), &wanted, Mode::Additive).is_empty());
    let plan = Plan::compute(&tenant(grants), &wanted, Mode::Authoritative);
    assert_eq!(lines(&plan), ["delete cgr_stray"]);
}

#[test]
fn system_grants_are_never_touched_and_are_reported() {
    let system = grant(json!({
        "id": "cgr_sys", "client_id": "auth0", "audience": API, "scope": ["x"], "is_system": true,
    }));
    let named = Plan::compute(
        &tenant(vec![system.clone()]),
        &desired(vec![DesiredGrant::new("auth0", API).scope(["y"])]),
        Mode::Authoritative,
    );
    assert!(named.is_empty(), "{named}");
    assert_eq!(named.untouched()[0].id, "cgr_sys");
    let unnamed = Plan::compute(
        &tenant(vec![system]),
        &desired(vec![DesiredGrant::new("a", API)]),
        Mode::Authoritative,
    );
    assert_eq!(lines(&unnamed), ["create a"], "not deleted");
    assert_eq!(unnamed.untouched().len(), 1);
    assert!(unnamed.to_string().contains("! untouched   cgr_sys"), "{unnamed}");
}

#[test]
fn a_client_and_a_user_grant_of_one_client_on_one_audience_are_two_grants() {
    let user = grant(json!({"id": "cgr_u", "client_id": "a", "audience": API, "subject_type": "user"}));
    let client = app("cgr_c", "a", API, &[]);
    let plan = Plan::compute(
        &tenant(vec![user, client]),
        &desired(vec![
            DesiredGrant::new("a", API),
            DesiredGrant::new("a", API).subject_type(SubjectType::User),
        ]),
        Mode::Authoritative,
    );
    assert!(plan.is_empty(), "{plan}");
}

#[test]
fn a_new_subject_type_is_a_recreate_when_authoritative_and_a_create_when_additive() {
    let existing = app("cgr_1", "a", API, &["read"]);
    let wanted = desired(vec![DesiredGrant::new("a", API).subject_type(SubjectType::User)]);
    let plan = Plan::compute(&tenant(vec![existing.clone()]), &wanted, Mode::Authoritative);
    assert_eq!(lines(&plan), ["recreate cgr_1 as user"]);
    assert!(plan.to_string().contains("subject_type client → user"), "{plan}");
    let plan = Plan::compute(&tenant(vec![existing]), &wanted, Mode::Additive);
    assert_eq!(lines(&plan), ["create a"]);
}

#[test]
fn default_grants_are_matched_on_their_group_and_audience() {
    let existing = grant(json!({
        "id": "cgr_d", "default_for": "third_party_clients", "audience": API, "scope": ["read"],
    }));
    let plan = Plan::compute(
        &tenant(vec![existing]),
        &desired(vec![
            DesiredGrant::default_for(DefaultFor::ThirdPartyClients, API).scope(["read"]),
        ]),
        Mode::Authoritative,
    );
    assert!(plan.is_empty(), "{plan}");
}

#[test]
fn organizations_are_associated_when_missing_and_dissociated_only_when_authoritative() {
    let existing = grant(json!({
        "id": "cgr_1", "client_id": "a", "audience": API, "organization_usage": "allow",
    }));
    let mut state = tenant(vec![existing]);
    state
        .organizations
        .insert("cgr_1".into(), vec!["org_old".into(), "org_kept".into()]);
    let wanted = desired(vec![
        DesiredGrant::new("a", API).organizations(["org_kept", "org_new"]),
    ]);
    assert_eq!(
        lines(&Plan::compute(&state, &wanted, Mode::Additive)),
        ["associate org_new cgr_1"]
    );
    assert_eq!(
        lines(&Plan::compute(&state, &wanted, Mode::Authoritative)),
        ["associate org_new cgr_1", "dissociate org_old cgr_1"]
    );
}

#[test]
fn organizations_are_read_only_for_grants_where_they_matter() {
    let grants = vec![
        grant(json!({"id": "cgr_named", "client_id": "a", "audience": API})),
        grant(json!({"id": "cgr_allows", "client_id": "b", "audience": API, "organization_usage": "allow"})),
        grant(json!({"id": "cgr_denies", "client_id": "c", "audience": API, "organization_usage": "deny"})),
        grant(
            json!({"id": "cgr_unnamed", "client_id": "d", "audience": API, "organization_usage": "require"}),
        ),
    ];
    let wanted = desired(vec![
        DesiredGrant::new("a", API).organizations(["org_1"]),
        DesiredGrant::new("b", API),
        DesiredGrant::new("c", API),
    ]);
    assert_eq!(
        TenantState::needs_organizations(&grants, &wanted, Mode::Additive),
        ["cgr_named"]
    );
    assert_eq!(
        TenantState::needs_organizations(&grants, &wanted, Mode::Authoritative),
        ["cgr_named", "cgr_allows"]
    );
}

#[test]
fn changes_come_in_a_safe_order_and_serialize_for_machines() {
    let mut state = tenant(vec![
        app("cgr_stray", "z", API, &[]),
        grant(json!({"id": "cgr_1", "client_id": "a", "audience": API, "organization_usage": "allow"})),
    ]);
    state.organizations.insert("cgr_1".into(), vec!["org_old".into()]);
    let plan = Plan::compute(
        &state,
        &desired(vec![
            DesiredGrant::new("a", API).scope(["read"]),
            DesiredGrant::new("n", API).organizations(["org_2"]),
        ]),
        Mode::Authoritative,
    );
    assert_eq!(
        lines(&plan),
        [
            "create n",
            "update cgr_1 scope",
            "associate org_2 new",
            "dissociate org_old cgr_1",
            "delete cgr_stray"
        ]
    );
    let json = serde_json::to_value(&plan).unwrap();
    assert_eq!(json["mode"], "authoritative");
    assert_eq!(json["changes"][0]["action"], "create");
    assert_eq!(json["changes"][1]["fields"][0]["after"], json!(["read"]));
    assert_eq!(json["changes"][4]["id"], "cgr_stray");
    assert!(
        plan.to_string()
            .ends_with("Plan: 1 to create, 1 to update, 1 to associate, 1 to dissociate, 1 to delete.\n"),
        "{plan}"
    );
}

#[test]
fn a_recreate_keeps_the_settings_the_file_leaves_out() {
    let existing = grant(json!({
        "id": "cgr_1", "client_id": "a", "audience": API, "scope": ["read"],
        "organization_usage": "allow", "allow_any_organization": true,
        "authorization_details_types": ["payment"],
    }));
    let plan = Plan::compute(
        &tenant(vec![existing]),
        &desired(vec![DesiredGrant::new("a", API).subject_type(SubjectType::User)]),
        Mode::Authoritative,
    );
    let [Change::Recreate { grant, .. }] = plan.changes() else {
        panic!("one recreate: {plan}");
    };
    assert_eq!(grant.organization_usage, Some(OrganizationUsage::Allow));
    assert_eq!(grant.allow_any_organization, Some(true));
    assert_eq!(
        grant.authorization_details_types,
        Some(vec!["payment".to_owned()])
    );
}

#[test]
fn an_export_refuses_what_it_could_not_write_back() {
    let unknown = grant(json!({"id": "cgr_1", "client_id": "a", "audience": API, "subject_type": "robot"}));
    let error = DesiredState::from_tenant(&tenant(vec![unknown])).unwrap_err();
    assert!(
        error.to_string().contains("cgr_1") && error.to_string().contains("robot"),
        "{error}"
    );
    let nobody = grant(json!({"id": "cgr_2", "audience": API}));
    assert!(DesiredState::from_tenant(&tenant(vec![nobody])).is_err());
    let fine = app("cgr_3", "a", API, &["read"]);
    let exported = DesiredState::from_tenant(&tenant(vec![fine.clone()])).unwrap();
    assert!(Plan::compute(&tenant(vec![fine]), &exported, Mode::Authoritative).is_empty());
}
