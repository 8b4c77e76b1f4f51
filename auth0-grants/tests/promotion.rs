//! One grants file promoted from dev to prod: two tenants whose applications have the same
//! names and different ids, and an API whose identifier differs per environment, given by a
//! variable. Through the library and through the CLI.

use std::process::{Command, Output, Stdio};

use auth0_client_grants::testing::FakeTenant;
use auth0_client_grants::{Client, NewClientGrant};
use auth0_grants::reconcile::{DesiredState, ReconcileError, ReconcileExt, SavedPlan, Variables};

const BINARY: &str = env!("CARGO_BIN_EXE_auth0-grants");

/// The file both environments share: applications by name, the API by a variable.
const FILE: &str = r#"#:schema ./grants.schema.json
[[grant]]
client = "Billing Service"
audience = "${API}"
scope = ["read:invoices", "write:invoices"]

[[grant]]
client = "Reports"
audience = "${API}"
scope = ["read:invoices"]
"#;

/// One environment: its tenant, with the two applications and its API, and the API's identifier.
struct Environment {
    tenant: FakeTenant,
    api: String,
    billing: String,
    reports: String,
}

async fn environment(name: &str) -> Environment {
    let tenant = FakeTenant::start().await;
    let api = format!("https://api.{name}.example.com/");
    tenant.add_api(&api, ["read:invoices", "write:invoices"]);
    let billing = tenant.add_client("Billing Service").client_id;
    let reports = tenant.add_client("Reports").client_id;
    Environment {
        tenant,
        api,
        billing,
        reports,
    }
}

impl Environment {
    fn variables(&self) -> Variables {
        Variables::from_toml(&format!("API = {:?}\n", self.api)).unwrap()
    }

    /// The shared file with this environment's variables and names.
    async fn desired(&self) -> DesiredState {
        DesiredState::from_toml_with(FILE, &self.variables())
            .unwrap()
            .resolve(&self.client())
            .await
            .unwrap()
    }

    fn client(&self) -> Client {
        self.tenant.client()
    }

    /// The grants the tenant has, as (client id, audience, scopes).
    fn grants(&self) -> Vec<(String, String, Vec<String>)> {
        let mut grants: Vec<_> = self
            .tenant
            .grants()
            .into_iter()
            .map(|grant| (grant.client_id.unwrap_or_default(), grant.audience, grant.scope))
            .collect();
        grants.sort();
        grants
    }

    fn expected(&self) -> Vec<(String, String, Vec<String>)> {
        let mut expected = vec![
            (
                self.billing.clone(),
                self.api.clone(),
                vec!["read:invoices".to_owned(), "write:invoices".to_owned()],
            ),
            (
                self.reports.clone(),
                self.api.clone(),
                vec!["read:invoices".to_owned()],
            ),
        ];
        expected.sort();
        expected
    }

    /// Nothing but reads (and tokens) reached the tenant.
    fn only_read(&self) -> bool {
        self.tenant
            .requests()
            .iter()
            .all(|request| request.method == "GET" || request.path == "/oauth/token")
    }
}

#[tokio::test]
async fn one_file_applied_to_dev_and_prod_plans_to_no_changes_in_both() {
    let dev = environment("dev").await;
    let prod = environment("prod").await;
    assert_ne!(dev.billing, prod.billing, "the environments' ids differ");

    for environment in [&dev, &prod] {
        let client = environment.client();
        let desired = environment.desired().await;
        let reconcile = client.reconcile(&desired);
        let plan = reconcile.plan().await.unwrap();
        assert_eq!(plan.changes().len(), 2, "{plan}");
        reconcile.apply(&plan).await.unwrap();
        assert!(reconcile.plan().await.unwrap().is_empty());
        assert_eq!(environment.grants(), environment.expected());
    }
}

#[tokio::test]
async fn a_saved_plan_applies_to_the_applications_it_resolved_even_if_a_name_is_shared_since() {
    let prod = environment("prod").await;
    let client = prod.client();
    let desired = prod.desired().await;
    let saved = client.reconcile(&desired).save_plan().await.unwrap();
    let saved = SavedPlan::from_json(&saved.to_json()).unwrap();
    // Now the name no longer resolves; the plan, reviewed with the ids, still holds.
    prod.tenant.add_client("Billing Service");

    saved.reconcile(&client).apply_saved(&saved).await.unwrap();

    assert_eq!(prod.grants(), prod.expected());
}

#[tokio::test]
async fn a_shared_name_fails_listing_its_ids_and_nothing_is_written() {
    let prod = environment("prod").await;
    let second = prod.tenant.add_client("Reports").client_id;
    let client = prod.client();
    let desired = DesiredState::from_toml_with(FILE, &prod.variables()).unwrap();

    let Err(ReconcileError::Desired(error)) = desired.resolve(&client).await else {
        panic!("a shared name must be refused");
    };

    assert_eq!((error.field(), error.line()), ("grant[1].client", Some(8)));
    assert!(
        error.problem().contains(&format!(
            "2 applications are named `Reports` ({}, {second})",
            prod.reports
        )),
        "{}",
        error.problem()
    );
    assert!(prod.only_read());
    assert!(prod.tenant.grants().is_empty());
}

#[tokio::test]
async fn an_unknown_name_fails_with_the_closest_names() {
    let dev = environment("dev").await;
    let typo = FILE.replace("\"Reports\"", "\"reports\"");
    let desired = DesiredState::from_toml_with(&typo, &dev.variables()).unwrap();

    let Err(ReconcileError::Desired(error)) = desired.resolve(&dev.client()).await else {
        panic!("an unknown name must be refused");
    };

    assert_eq!((error.field(), error.line()), ("grant[1].client", Some(8)));
    assert!(
        error
            .problem()
            .contains("no application is named `reports`; did you mean `Reports`?"),
        "{}",
        error.problem()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_name_that_does_not_resolve_is_reported_at_once_by_the_library_and_the_cli() {
    let prod = environment("prod").await;
    let second = prod.tenant.add_client("Reports").client_id;
    let file = FILE.replace("\"Billing Service\"", "\"Billing Servce\"");
    let desired = DesiredState::from_toml_with(&file, &prod.variables()).unwrap();

    let Err(ReconcileError::Desired(error)) = desired.resolve(&prod.client()).await else {
        panic!("names that do not resolve must be refused");
    };

    let each: Vec<(&str, Option<usize>)> = error.all().map(|error| (error.field(), error.line())).collect();
    assert_eq!(each, [("grant[0].client", Some(3)), ("grant[1].client", Some(8))]);
    let unknown =
        "grant[0] (line 3): no application is named `Billing Servce`; did you mean `Billing Service`?";
    let shared = format!(
        "grant[1] (line 8): 2 applications are named `Reports` ({}, {second})",
        prod.reports
    );
    assert_eq!(error.problem(), unknown);
    assert!(
        error.all().nth(1).unwrap().problem().starts_with(&shared),
        "{error}"
    );

    let directory = tempfile::tempdir().unwrap();
    let path = directory.path().join("grants.toml");
    std::fs::write(&path, &file).unwrap();
    let var = format!("API={}", prod.api);
    let output = cli(&prod, &["plan", path.to_str().unwrap(), "--var", &var], &[]).await;
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output).contains(unknown) && text(&output).contains(&shared),
        "{}",
        text(&output)
    );
    assert!(prod.only_read());
}

#[tokio::test]
async fn names_are_read_only_when_the_file_uses_them_and_never_planned_unresolved() {
    let dev = environment("dev").await;
    let client = dev.client();
    let by_id = DesiredState::from_toml(&format!(
        "[[grant]]\nclient_id = {:?}\naudience = {:?}\n",
        dev.billing, dev.api
    ))
    .unwrap();
    assert_eq!(by_id.resolve(&client).await.unwrap(), by_id);
    assert!(
        dev.tenant.requests().is_empty(),
        "no request for a file without names"
    );

    let named = DesiredState::from_toml_with(FILE, &dev.variables()).unwrap();
    let Err(ReconcileError::Desired(error)) = client.reconcile(&named).plan().await else {
        panic!("an unresolved name must not be planned");
    };
    assert_eq!(error.field(), "grant[0].client");
    assert!(error.problem().contains("not resolved"), "{}", error.problem());
    assert!(dev.tenant.requests().is_empty(), "refused before reading");
}

#[test]
fn an_undefined_variable_is_refused_naming_it_and_its_line() {
    let error = DesiredState::from_toml(FILE).unwrap_err();
    assert_eq!((error.field(), error.line()), ("grant[0].audience", Some(4)));
    assert!(
        error
            .problem()
            .starts_with("grant[0].audience (line 4): the variable `API` is not defined"),
        "{}",
        error.problem()
    );

    let mut variables = Variables::new();
    variables.set("API", "https://api.example.com/").unwrap();
    let scopes = FILE.replace("\"write:invoices\"", "\"${WRITE}\"");
    let error = DesiredState::from_toml_with(&scopes, &variables).unwrap_err();
    assert_eq!((error.field(), error.line()), ("grant[0].scope[1]", Some(5)));
}

#[test]
fn a_misspelled_key_is_reported_before_an_undefined_variable_in_its_value_or_elsewhere() {
    let own_value = "[[grant]]\nclient_id = \"app\"\naudience = \"https://api.example.com/\"\n\
                     scopes = [\"${SCOPE}\"]\n";
    let error = DesiredState::from_toml(own_value).unwrap_err();
    assert_eq!((error.field(), error.line()), ("grant[0].scopes", Some(4)));
    assert!(
        error.problem().starts_with("line 4: unknown field `scopes`"),
        "{}",
        error.problem()
    );

    let earlier = "[[grant]]\nclient_id = \"${APP}\"\naudience = \"${API}\"\n\
                   organization_usage = \"${USAGE}\"\nsubject_type = \"${TYPE}\"\n\n\
                   [[grant]]\nclient_id = \"other\"\naudience = \"https://api.example.com/\"\n\
                   scopes = [\"read:invoices\"]\n";
    let error = DesiredState::from_toml(earlier).unwrap_err();
    assert_eq!(
        (error.field(), error.line()),
        ("grant[1].scopes", Some(10)),
        "an undefined variable in a value checked against known values does not hide it: {error}"
    );

    let fixed = earlier.replace("scopes", "scope");
    let error = DesiredState::from_toml(&fixed).unwrap_err();
    assert_eq!((error.field(), error.line()), ("grant[0].client_id", Some(2)));
    assert!(
        error.problem().ends_with("the variable `APP` is not defined"),
        "with the key fixed, the first undefined variable: {}",
        error.problem()
    );
    let mut variables = Variables::new();
    for (name, value) in [
        ("APP", "app"),
        ("API", "https://api.example.com/"),
        ("USAGE", "allow"),
        ("TYPE", "user"),
    ] {
        variables.set(name, value).unwrap();
    }
    let desired = DesiredState::from_toml_with(&fixed, &variables).unwrap();
    assert_eq!(desired.grants[0].subject_type.as_str(), "user");

    let wrong_type = "[[grant]]\nclient_id = \"app\"\naudience = \"${API}\"\nscope = \"read\"\n";
    let error = DesiredState::from_toml(wrong_type).unwrap_err();
    assert_eq!(
        (error.field(), error.line()),
        ("grant[0].scope", Some(4)),
        "a value of the wrong type is the file's structure too: {error}"
    );
}

#[test]
fn a_value_is_only_ever_a_string_and_dollar_dollar_brace_is_literal() {
    let mut variables = Variables::new();
    variables
        .set("API", "x\"\n[[grant]]\nclient_id = \"injected")
        .unwrap();
    let desired = DesiredState::from_toml_with(FILE, &variables).unwrap();
    assert_eq!(desired.grants.len(), 2);
    assert!(desired.grants[0].audience.contains("injected"));

    let literal = "[[grant]]\nclient_id = \"app\"\naudience = \"https://api.example.com/$${path}\"\n";
    let desired = DesiredState::from_toml(literal).unwrap();
    assert_eq!(desired.grants[0].audience, "https://api.example.com/${path}");
    assert_eq!(
        DesiredState::from_toml(&desired.to_toml()).unwrap(),
        desired,
        "an export writes `${{` so that it reads back"
    );
}

/// Runs the CLI against `environment`'s tenant with `args` and, beside the credentials,
/// `variables` in its environment.
async fn cli(environment: &Environment, args: &[&str], variables: &[(&str, &str)]) -> Output {
    let mut command = Command::new(BINARY);
    command
        .args(args)
        .env_clear()
        .env("AUTH0_BASE_URL", environment.tenant.base_url())
        .env("AUTH0_CLIENT_ID", environment.tenant.client_id())
        .env("AUTH0_CLIENT_SECRET", environment.tenant.client_secret())
        .envs(variables.iter().copied())
        .stdin(Stdio::null());
    tokio::task::spawn_blocking(move || command.output().expect("the binary runs"))
        .await
        .unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_promotes_one_file_from_dev_to_prod_with_variables_and_saved_plans() {
    let dev = environment("dev").await;
    let prod = environment("prod").await;
    let directory = tempfile::tempdir().unwrap();
    let path = |name: &str| directory.path().join(name).to_str().unwrap().to_owned();
    std::fs::write(path("grants.toml"), FILE).unwrap();
    std::fs::write(path("prod.vars.toml"), format!("API = {:?}\n", prod.api)).unwrap();
    let file = path("grants.toml");

    // dev: the API from the environment.
    let dev_api = ("AUTH0_GRANTS_VAR_API", dev.api.as_str());
    let applied = cli(&dev, &["apply", "--yes", &file], &[dev_api]).await;
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    assert!(
        text(&applied).contains(&format!("client = \"Reports\" is {}", dev.reports)),
        "{}",
        text(&applied)
    );
    let again = cli(&dev, &["plan", &file], &[dev_api]).await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
    assert_eq!(dev.grants(), dev.expected());

    // prod: a variables file wins over the environment; plan --out, review, apply PLAN.
    let saved = path("prod.plan.json");
    let planned = cli(
        &prod,
        &[
            "plan",
            &file,
            "--var-file",
            &path("prod.vars.toml"),
            "--out",
            &saved,
        ],
        &[dev_api],
    )
    .await;
    assert_eq!(planned.status.code(), Some(2), "{}", text(&planned));
    assert!(prod.only_read());
    let refused = cli(&prod, &["apply", &saved, "--var", "API=x"], &[]).await;
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused).contains("a saved plan keeps the values it was planned with"),
        "{}",
        text(&refused)
    );
    let applied = cli(&prod, &["apply", &saved], &[]).await;
    assert_eq!(applied.status.code(), Some(0), "{}", text(&applied));
    assert_eq!(prod.grants(), prod.expected());

    // --var wins over the file: the prod API given twice, the wrong one in the file.
    std::fs::write(path("wrong.vars.toml"), "API = \"https://wrong.example.com/\"\n").unwrap();
    let var = format!("API={}", prod.api);
    let again = cli(
        &prod,
        &[
            "plan",
            &file,
            "--var-file",
            &path("wrong.vars.toml"),
            "--var",
            &var,
        ],
        &[],
    )
    .await;
    assert_eq!(again.status.code(), Some(0), "{}", text(&again));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cli_refuses_an_undefined_variable_and_a_shared_name_naming_the_line() {
    let prod = environment("prod").await;
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("grants.toml");
    std::fs::write(&file, FILE).unwrap();
    let file = file.to_str().unwrap();

    let undefined = cli(&prod, &["plan", file], &[]).await;
    assert_eq!(undefined.status.code(), Some(1));
    assert!(
        text(&undefined).contains("grant[0].audience (line 4): the variable `API` is not defined"),
        "{}",
        text(&undefined)
    );
    assert!(prod.tenant.requests().is_empty(), "refused before any request");

    let second = prod.tenant.add_client("Billing Service").client_id;
    let var = format!("API={}", prod.api);
    let shared = cli(&prod, &["apply", "--yes", file, "--var", &var], &[]).await;
    assert_eq!(shared.status.code(), Some(1));
    assert!(
        text(&shared).contains(&format!(
            "grant[0] (line 3): 2 applications are named `Billing Service` ({}, {second})",
            prod.billing
        )),
        "{}",
        text(&shared)
    );
    assert!(prod.only_read());
    assert!(prod.tenant.grants().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_by_name_writes_names_where_unique_and_plans_back_to_no_changes() {
    let dev = environment("dev").await;
    let client = dev.client();
    for (id, scope) in [(&dev.billing, "read:invoices"), (&dev.reports, "read:invoices")] {
        client
            .client_grants()
            .create(NewClientGrant::new(id.clone(), dev.api.clone()).scope([scope]))
            .await
            .unwrap();
    }
    // A name two applications share is written as the id.
    let twin = dev.tenant.add_client("Reports").client_id;
    client
        .client_grants()
        .create(NewClientGrant::new(twin.clone(), dev.api.clone()).scope(["read:invoices"]))
        .await
        .unwrap();
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("exported.toml");
    let file = file.to_str().unwrap();

    let export = cli(&dev, &["export", "--by-name", "-o", file], &[]).await;

    assert_eq!(export.status.code(), Some(0), "{}", text(&export));
    let exported = std::fs::read_to_string(file).unwrap();
    assert!(exported.contains("client = \"Billing Service\""), "{exported}");
    assert!(
        exported.contains(&format!("client_id = \"{}\"", dev.reports))
            && exported.contains(&format!("client_id = \"{twin}\"")),
        "{exported}"
    );
    let plan = cli(&dev, &["plan", "--authoritative", file], &[]).await;
    assert_eq!(plan.status.code(), Some(0), "{}", text(&plan));
}
