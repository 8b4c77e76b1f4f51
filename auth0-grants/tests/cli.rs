//! `auth0-grants` as a user runs it: the built binary as a process, against the demo tenant
//! or against a fake tenant this test starts and points it at.

use std::path::Path;
use std::process::{Command, Output, Stdio};

use auth0_client_grants::NewClientGrant;
use auth0_client_grants::testing::FakeTenant;

const BINARY: &str = env!("CARGO_BIN_EXE_auth0-grants");

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/grants.toml")
        .display()
        .to_string()
}

/// Runs the binary with `args` and only the environment given, stdin closed.
fn run(args: &[&str], environment: &[(&str, &str)]) -> Output {
    Command::new(BINARY)
        .args(args)
        .env_clear()
        .envs(environment.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("the binary runs")
}

fn code(output: &Output) -> i32 {
    output.status.code().expect("an exit code")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs the binary on a thread where blocking is fine, while this runtime serves the tenant.
async fn run_against(tenant: &FakeTenant, args: &[&str]) -> Output {
    let environment = [
        ("AUTH0_BASE_URL".to_owned(), tenant.base_url()),
        ("AUTH0_CLIENT_ID".to_owned(), tenant.client_id().to_owned()),
        (
            "AUTH0_CLIENT_SECRET".to_owned(),
            tenant.client_secret().to_owned(),
        ),
    ];
    let args: Vec<String> = args.iter().map(|arg| (*arg).to_owned()).collect();
    tokio::task::spawn_blocking(move || {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let environment: Vec<(&str, &str)> = environment
            .iter()
            .map(|(name, value)| (name.as_str(), value.as_str()))
            .collect();
        run(&args, &environment)
    })
    .await
    .unwrap()
}

/// The id `plan` says the file's application name resolved to.
fn resolved_id(output: &Output, name: &str) -> String {
    let shown = format!("client = {name:?} is ");
    stderr(output)
        .lines()
        .find_map(|line| line.strip_prefix(shown.as_str()))
        .unwrap_or_else(|| panic!("no `{shown}` in {}", stderr(output)))
        .to_owned()
}

#[test]
fn plan_on_the_demo_exits_2_with_the_changes_and_no_colour_when_piped() {
    let output = run(&["--demo", "plan", &example()], &[]);
    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let text = stdout(&output);
    assert_eq!(resolved_id(&output, "Analytics"), "analytics");
    assert!(
        text.contains("+ create      analytics → https://api.example.com/ (client)"),
        "{text}"
    );
    assert!(text.contains("allow_any_organization: true → false"), "{text}");
    assert!(!text.contains("- delete"), "additive: {text}");
    assert!(
        !text.contains('\u{1b}'),
        "no colour codes when not on a terminal: {text:?}"
    );
    let authoritative = run(&["--demo", "plan", "--authoritative", &example()], &[]);
    assert!(
        stdout(&authoritative).contains("- delete      "),
        "{}",
        stdout(&authoritative)
    );
}

#[test]
fn plan_json_is_for_machines() {
    let output = run(&["--demo", "plan", "--json", &example()], &[]);
    assert_eq!(code(&output), 2);
    let plan: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(plan["mode"], "additive");
    assert_eq!(plan["changes"][0]["action"], "create");
}

#[test]
fn a_bad_file_exits_1_naming_the_field_and_the_line() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("grants.toml");
    std::fs::write(
        &file,
        "[[grant]]\nclient_id = \"a\"\naudience = \"x\"\nscopes = [\"read\"]\n",
    )
    .unwrap();
    let output = run(&["--demo", "plan", file.to_str().unwrap()], &[]);
    assert_eq!(code(&output), 1);
    let text = stderr(&output);
    assert!(
        text.contains("grant[0].scopes") && text.contains("line 4"),
        "{text}"
    );
}

#[test]
fn without_credentials_it_says_what_to_set_and_how_to_try_it() {
    let output = run(&["audit"], &[]);
    assert_eq!(code(&output), 1);
    let text = stderr(&output);
    assert!(
        text.contains("AUTH0_CLIENT_ID") && text.contains("--demo"),
        "{text}"
    );
}

#[test]
fn audit_exits_2_with_one_line_per_finding() {
    let output = run(&["--demo", "audit"], &[]);
    assert_eq!(code(&output), 2);
    let text = stdout(&output);
    assert_eq!(text.lines().count(), 5, "{text}");
    assert!(
        text.contains("legacy-sync") && text.contains("allow_all_scopes"),
        "{text}"
    );
    assert!(
        text.lines().any(
            |line| line.contains("legacy-sync → https://api.example.com/ (client)")
                && line.ends_with("the application legacy-sync no longer exists")
        ),
        "the demo's legacy-sync application is gone: {text}"
    );
    assert!(!stderr(&output).contains("note:"), "the demo may read everything");
    let json = run(&["--demo", "audit", "--json"], &[]);
    assert_eq!(code(&json), 2);
    let report: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(report["findings"][0]["kind"], "allow_all_scopes");
    assert_eq!(
        report["findings"].as_array().map(Vec::len),
        Some(5),
        "as many as lines: {report}"
    );
    assert_eq!(
        report["skipped"],
        serde_json::json!([]),
        "the demo may read everything"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_yes_twice_converges_and_the_second_changes_nothing() {
    let tenant = FakeTenant::start().await;
    tenant.add_api("https://api.example.com/", ["read:invoices"]);
    tenant
        .client()
        .client_grants()
        .create(NewClientGrant::new("legacy-sync", "https://api.example.com/"))
        .await
        .unwrap();
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("grants.toml");
    std::fs::write(
        &file,
        "[[grant]]\nclient_id = \"analytics\"\naudience = \"https://api.example.com/\"\nscope = [\"read:invoices\"]\n",
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let refused = run_against(&tenant, &["apply", "--authoritative", file]).await;
    assert_eq!(code(&refused), 1, "no terminal to ask and no --yes");
    assert_eq!(tenant.grants().len(), 1, "nothing applied");

    let first = run_against(&tenant, &["apply", "--authoritative", "--yes", file]).await;
    assert_eq!(code(&first), 0, "{}", stderr(&first));
    assert!(
        stdout(&first).contains("Applied: 2 written"),
        "{}",
        stdout(&first)
    );
    let second = run_against(&tenant, &["apply", "--authoritative", "--yes", file]).await;
    assert_eq!(code(&second), 0);
    assert!(stdout(&second).contains("No changes"), "{}", stdout(&second));
    let plan = run_against(&tenant, &["plan", "--authoritative", file]).await;
    assert_eq!(code(&plan), 0);
    let grants = tenant.grants();
    assert_eq!(grants.len(), 1);
    assert_eq!(grants[0].client_id.as_deref(), Some("analytics"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_stops_apply_with_exit_1_saying_what_was_written_and_what_did_not_start() {
    // The application may do everything but create grants: the create fails with a 403.
    let tenant = FakeTenant::builder()
        .scopes(
            auth0_client_grants::testing::ALL_SCOPES
                .iter()
                .filter(|scope| **scope != "create:client_grants")
                .copied(),
        )
        .start()
        .await;
    tenant.seed_grants(1);
    tenant.add_api("https://seed.example.com/", ["read:things"]);
    let acme = tenant.add_organization("acme");
    let globex = tenant.add_organization("globex");
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("grants.toml");
    std::fs::write(
        &file,
        format!(
            "[[grant]]\nclient_id = \"reports\"\naudience = \"https://seed.example.com/\"\n\
             scope = [\"read:things\"]\norganization_usage = \"allow\"\n\
             organizations = [\"{}\", \"{}\"]\n",
            acme.id, globex.id
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();

    let output = run_against(
        &tenant,
        &["apply", "--authoritative", "--yes", "--parallelism", "4", file],
    )
    .await;

    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stdout(&output).contains("Stopped: 1 written, 0 found already done, 0 planned again, 2 not started."),
        "the seeded grant deleted, the associations never started: {}",
        stdout(&output)
    );
    assert!(
        stderr(&output).contains("apply stopped at create")
            && stderr(&output).contains("Run apply again to converge."),
        "{}",
        stderr(&output)
    );
    assert!(tenant.grants().is_empty());
}

/// Ctrl-C, as a terminal sends it: SIGINT to the process.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_stops_apply_cleanly_with_exit_1_saying_what_did_not_start() {
    let tenant = FakeTenant::builder()
        .latency(std::time::Duration::from_millis(250))
        .start()
        .await;
    tenant.seed_grants(40);
    tenant.add_api("https://seed.example.com/", ["read:things"]);
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("grants.toml");
    std::fs::write(
        &file,
        "[[grant]]\nclient_id = \"seed-client-0\"\naudience = \"https://seed.example.com/\"\nscope = [\"read:things\"]\n",
    )
    .unwrap();
    let mut child = Command::new(BINARY)
        .args(["apply", "--authoritative", "--yes", "--parallelism", "2"])
        .arg(&file)
        .env_clear()
        .env("AUTH0_BASE_URL", tenant.base_url())
        .env("AUTH0_CLIENT_ID", tenant.client_id())
        .env("AUTH0_CLIENT_SECRET", tenant.client_secret())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The apply is under way once a delete has arrived: about 10 s of deletes are left.
    while !tenant.requests().iter().any(|request| request.method == "DELETE") {
        assert!(
            child.try_wait().unwrap().is_none(),
            "apply ended before it deleted anything"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let interrupted = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let output = tokio::task::spawn_blocking(move || child.wait_with_output())
        .await
        .unwrap()
        .unwrap();

    assert_eq!(code(&output), 1, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("Interrupted: no more changes start"),
        "{}",
        stderr(&output)
    );
    let report = stdout(&output);
    // 39 deletes planned: the file keeps one of the 40 grants.
    let deleted = 40 - tenant.grants().len();
    assert!(
        report.contains(&format!(
            "Stopped: {deleted} written, 0 found already done, 0 planned again, {} not started.",
            39 - deleted
        )),
        "the deletes written and the rest: {report}"
    );
    assert!(deleted < 39, "{report}");
    assert!(
        tenant.requests().iter().all(|request| request.status.is_some()),
        "every request under way was answered"
    );
}

#[test]
fn a_parallelism_of_0_is_refused() {
    let output = run(&["--demo", "plan", "--parallelism", "0", &example()], &[]);
    assert_eq!(code(&output), 2, "a usage error: {}", stderr(&output));
    assert!(stderr(&output).contains("--parallelism"), "{}", stderr(&output));
}

#[test]
fn export_refuses_a_parallelism_of_0_by_name_too() {
    let output = run(&["--demo", "export", "--by-name", "--parallelism", "0"], &[]);
    assert_eq!(code(&output), 2, "a usage error: {}", stderr(&output));
    assert!(stderr(&output).contains("--parallelism"), "{}", stderr(&output));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn export_by_name_takes_the_parallelism_and_writes_the_same_file_whatever_it_is() {
    // Each request and response takes 20 ms: one grant's organizations at a time take 40 ms a
    // grant at least.
    let latency = std::time::Duration::from_millis(20);
    let tenant = FakeTenant::builder().latency(latency).start().await;
    tenant.add_api("https://seed.example.com/", ["read:things"]);
    let organization = tenant.add_organization("acme");
    let grants = 10;
    for n in 0..grants {
        let client_id = tenant.add_client(&format!("app-{n}")).client_id;
        let grant = tenant.insert_grant(
            serde_json::from_value(serde_json::json!({
                "id": "",
                "client_id": client_id,
                "audience": "https://seed.example.com/",
                "scope": ["read:things"],
                "subject_type": "client",
                "organization_usage": "allow",
            }))
            .unwrap(),
        );
        tenant.associate(&organization.id, &grant.id);
    }
    let directory = tempfile::tempdir().unwrap();
    let path = |name: &str| directory.path().join(name).to_str().unwrap().to_owned();
    let (one, default, three) = (path("one.toml"), path("default.toml"), path("three.toml"));

    let started = std::time::Instant::now();
    let by_one = run_against(
        &tenant,
        &["export", "--by-name", "--parallelism", "1", "-o", &one],
    )
    .await;
    let took = started.elapsed();
    let by_default = run_against(&tenant, &["export", "--by-name", "-o", &default]).await;
    let by_three = run_against(
        &tenant,
        &["--parallelism", "3", "export", "--by-name", "-o", &three],
    )
    .await;

    for output in [&by_one, &by_default, &by_three] {
        assert_eq!(code(output), 0, "{}", stderr(output));
    }
    let text = std::fs::read_to_string(&default).unwrap();
    assert_eq!(text.matches("client = \"app-").count(), grants, "{text}");
    assert!(text.contains(&organization.id), "{text}");
    assert_eq!(std::fs::read_to_string(&one).unwrap(), text);
    assert_eq!(std::fs::read_to_string(&three).unwrap(), text);
    let one_at_a_time = 2 * latency * u32::try_from(grants).unwrap();
    assert!(
        took >= one_at_a_time,
        "--parallelism 1 reads one grant's organizations at a time: {one_at_a_time:?} at least, not {took:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_export_plans_to_nothing_even_when_authoritative() {
    let tenant = FakeTenant::start().await;
    let organization = tenant.add_organization("acme");
    tenant.add_api("https://seed.example.com/", ["read:things"]);
    tenant.seed_grants(3);
    let client = tenant.client();
    let grant = client
        .client_grants()
        .create(
            NewClientGrant::new("reports", "https://seed.example.com/")
                .scope(["read:things"])
                .organization_usage(auth0_client_grants::OrganizationUsage::Allow),
        )
        .await
        .unwrap();
    client
        .organization(organization.id.clone())
        .client_grants()
        .associate(&grant.id)
        .await
        .unwrap();
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("exported.toml");
    let file = file.to_str().unwrap();
    let export = run_against(&tenant, &["export", "-o", file]).await;
    assert_eq!(code(&export), 0, "{}", stderr(&export));
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(&organization.id), "{text}");
    let plan = run_against(&tenant, &["plan", "--authoritative", file]).await;
    assert_eq!(code(&plan), 0, "{}{}", stdout(&plan), stderr(&plan));
}

#[test]
fn a_file_with_scopes_the_api_refuses_exits_1_before_reading_the_tenant() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("grants.toml");
    std::fs::write(
        &file,
        "[[grant]]\nclient_id = \"a\"\naudience = \"x\"\nscope = [\"read\", \"read\"]\n",
    )
    .unwrap();
    let output = run(&["--demo", "plan", file.to_str().unwrap()], &[]);
    assert_eq!(code(&output), 1);
    let text = stderr(&output);
    assert!(
        text.contains("grant[0].scope") && text.contains("line 4") && text.contains("listed twice"),
        "{text}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_all_scopes_on_the_management_api_fails_the_plan_with_exit_1_and_writes_nothing() {
    let tenant = FakeTenant::start().await;
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("grants.toml");
    std::fs::write(
        &file,
        format!(
            "[[grant]]\nclient_id = \"deployer\"\naudience = \"{}/\"\nallow_all_scopes = true\n",
            tenant.base_url()
        ),
    )
    .unwrap();

    let output = run_against(&tenant, &["apply", "--yes", file.to_str().unwrap()]).await;

    assert_eq!(code(&output), 1);
    let text = stderr(&output);
    assert!(
        text.contains("grant[0].allow_all_scopes") && text.contains("is a system API"),
        "{text}"
    );
    assert!(
        tenant
            .requests()
            .iter()
            .all(|request| request.method == "GET" || request.path == "/oauth/token")
    );
}

#[test]
fn the_demo_takes_legacy_sync_back_from_every_scope_to_listed_ones() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("grants.toml");
    // By id: the demo's Legacy Sync application is gone, its grant stayed behind.
    std::fs::write(
        &file,
        "[[grant]]\nclient_id = \"legacy-sync\"\naudience = \"https://api.example.com/\"\n\
         scope = [\"read:invoices\"]\nallow_all_scopes = false\n",
    )
    .unwrap();
    let output = run(&["--demo", "apply", "--yes", file.to_str().unwrap()], &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let text = stdout(&output);
    assert!(text.contains("allow_all_scopes: true → false"), "{text}");
    assert!(text.contains("Applied: 1 written"), "{text}");
}

#[test]
fn schema_prints_the_grants_files_schema_with_no_tenant() {
    let output = run(&["schema"], &[]);
    assert_eq!(code(&output), 0, "{}", stderr(&output));
    let committed = include_str!("../grants.schema.json");
    assert_eq!(stdout(&output).trim_end(), committed.trim_end());
    assert!(stdout(&output).starts_with("{\n  \"$schema\""), "pretty JSON");
}

/// A tenant with `billing` on too little scope, a file that widens it, and the path of the
/// plan of it `plan --out` saved (exit 2).
async fn tenant_file_and_saved_plan(directory: &Path) -> (FakeTenant, String, String) {
    let tenant = FakeTenant::start().await;
    tenant.add_api("https://api.example.com/", ["read:invoices", "write:invoices"]);
    tenant
        .client()
        .client_grants()
        .create(NewClientGrant::new("billing", "https://api.example.com/").scope(["read:invoices"]))
        .await
        .unwrap();
    let file = directory.join("grants.toml");
    std::fs::write(
        &file,
        "[[grant]]\nclient_id = \"billing\"\naudience = \"https://api.example.com/\"\n\
         scope = [\"read:invoices\", \"write:invoices\"]\n",
    )
    .unwrap();
    let file = file.to_str().unwrap().to_owned();
    let saved = directory.join("grants.plan.json").to_str().unwrap().to_owned();
    let plan = run_against(&tenant, &["plan", &file, "--out", &saved]).await;
    assert_eq!(code(&plan), 2, "{}", stderr(&plan));
    assert!(stdout(&plan).contains("~ update"), "{}", stdout(&plan));
    (tenant, file, saved)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_applies_without_asking_and_then_plans_to_no_changes() {
    let directory = tempfile::tempdir().unwrap();
    let (tenant, file, saved) = tenant_file_and_saved_plan(directory.path()).await;

    let apply = run_against(&tenant, &["apply", &saved]).await;

    assert_eq!(code(&apply), 0, "{}", stderr(&apply));
    assert!(
        stdout(&apply).contains("Applied: 1 written"),
        "{}",
        stdout(&apply)
    );
    let again = run_against(&tenant, &["plan", &file]).await;
    assert_eq!(code(&again), 0, "{}", stdout(&again));
    let refused = run_against(&tenant, &["apply", "--authoritative", &saved]).await;
    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains("keeps the mode"),
        "{}",
        stderr(&refused)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_of_a_tenant_changed_since_exits_1_naming_the_grant_and_writes_nothing() {
    let directory = tempfile::tempdir().unwrap();
    let (tenant, _, saved) = tenant_file_and_saved_plan(directory.path()).await;
    let billing = tenant.grants()[0].id.clone();
    tenant
        .client()
        .client_grants()
        .update(
            &billing,
            auth0_client_grants::ClientGrantUpdate::new().scope(["admin"]),
        )
        .await
        .unwrap();
    let before = tenant.requests().len();

    let apply = run_against(&tenant, &["apply", "--yes", &saved]).await;

    assert_eq!(code(&apply), 1);
    let text = stderr(&apply);
    assert!(
        text.contains("the tenant changed since the plan was saved")
            && text.contains(&format!(
                "billing → https://api.example.com/ (client) ({billing})"
            )),
        "{text}"
    );
    assert!(
        tenant.requests()[before..]
            .iter()
            .all(|request| request.method == "GET" || request.path == "/oauth/token"),
        "nothing is written"
    );
    assert_eq!(tenant.grants()[0].scope, ["admin"]);
}

/// A tenant where the CLI's credentials reach the Management API through a grant (returned),
/// and a file that names only another grant on it: authoritative, it deletes the CLI's own.
async fn tenant_with_own_grant(directory: &Path) -> (FakeTenant, String, String) {
    let tenant = FakeTenant::start().await;
    let management_api = format!("{}/", tenant.base_url());
    let own = tenant
        .client()
        .client_grants()
        .create(NewClientGrant::new(tenant.client_id(), management_api.clone()).scope(["read:client_grants"]))
        .await
        .unwrap();
    let file = directory.join("grants.toml");
    std::fs::write(
        &file,
        format!(
            "[[grant]]\nclient_id = \"reports\"\naudience = \"{management_api}\"\nscope = [\"read:client_grants\"]\n"
        ),
    )
    .unwrap();
    (tenant, file.to_str().unwrap().to_owned(), own.id)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_apply_refuse_to_delete_the_credentials_own_grant_without_the_flag() {
    let directory = tempfile::tempdir().unwrap();
    let (tenant, file, own) = tenant_with_own_grant(directory.path()).await;

    for command in [
        vec!["plan", "--authoritative", &file],
        vec!["apply", "--authoritative", "--yes", &file],
    ] {
        let refused = run_against(&tenant, &command).await;
        assert_eq!(code(&refused), 1, "{command:?}");
        let text = stderr(&refused);
        assert!(
            text.contains(&format!("the plan deletes {own}")) && text.contains("--allow-self-lockout"),
            "{command:?}: {text}"
        );
    }
    assert_eq!(tenant.grants().len(), 1, "nothing written");

    let plan = run_against(
        &tenant,
        &["plan", "--authoritative", "--allow-self-lockout", &file],
    )
    .await;
    assert_eq!(code(&plan), 2, "{}", stderr(&plan));
    let apply = run_against(
        &tenant,
        &["apply", "--authoritative", "--yes", "--allow-self-lockout", &file],
    )
    .await;
    assert_eq!(code(&apply), 0, "{}", stderr(&apply));
    assert!(tenant.grants().iter().all(|grant| grant.id != own));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_saved_plan_that_locks_the_credentials_out_needs_the_flag_when_applied_too() {
    let directory = tempfile::tempdir().unwrap();
    let (tenant, file, own) = tenant_with_own_grant(directory.path()).await;
    let saved = directory.path().join("plan.json").to_str().unwrap().to_owned();
    let plan = run_against(
        &tenant,
        &[
            "plan",
            "--authoritative",
            "--allow-self-lockout",
            &file,
            "--out",
            &saved,
        ],
    )
    .await;
    assert_eq!(code(&plan), 2, "{}", stderr(&plan));

    let refused = run_against(&tenant, &["apply", &saved]).await;

    assert_eq!(code(&refused), 1);
    assert!(
        stderr(&refused).contains(&format!("the plan deletes {own}")),
        "{}",
        stderr(&refused)
    );
    let grants = tenant.grants();
    assert!(
        grants.len() == 1 && grants[0].id == own,
        "nothing written: {grants:?}"
    );
    let allowed = run_against(&tenant, &["apply", "--allow-self-lockout", &saved]).await;
    assert_eq!(code(&allowed), 0, "{}", stderr(&allowed));
    assert!(tenant.grants().iter().all(|grant| grant.id != own));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plan_and_apply_refuse_to_make_the_credentials_own_grant_require_an_organization() {
    let directory = tempfile::tempdir().unwrap();
    let (tenant, _, own) = tenant_with_own_grant(directory.path()).await;
    let file = directory.path().join("require.toml");
    std::fs::write(
        &file,
        format!(
            "[[grant]]\nclient_id = \"{}\"\naudience = \"{}/\"\nscope = [\"read:client_grants\"]\n\
             organization_usage = \"require\"\n",
            tenant.client_id(),
            tenant.base_url()
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap();

    for command in [vec!["plan", file], vec!["apply", "--yes", file]] {
        let refused = run_against(&tenant, &command).await;
        assert_eq!(code(&refused), 1, "{command:?}");
        let text = stderr(&refused);
        assert!(
            text.contains(&format!("the plan makes {own}"))
                && text.contains("require an organization")
                && text.contains("--allow-self-lockout"),
            "{command:?}: {text}"
        );
    }
    assert_eq!(tenant.grants()[0].organization_usage, None, "nothing written");

    let apply = run_against(&tenant, &["apply", "--yes", "--allow-self-lockout", file]).await;
    assert_eq!(code(&apply), 0, "{}", stderr(&apply));
    assert_eq!(
        tenant.grants()[0].organization_usage,
        Some(auth0_client_grants::OrganizationUsage::Require)
    );
}

#[test]
fn a_scope_the_demo_api_does_not_define_exits_1_listing_its_scopes() {
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("grants.toml");
    std::fs::write(
        &file,
        "[[grant]]\nclient_id = \"analytics\"\naudience = \"https://api.example.com/\"\n\
         scope = [\"read:invoice\"]\n",
    )
    .unwrap();

    let output = run(&["--demo", "plan", file.to_str().unwrap()], &[]);

    assert_eq!(code(&output), 1);
    let text = stderr(&output);
    assert!(
        text.contains("grant[0].scope")
            && text.contains("line 4")
            && text.contains("`read:invoice` is not a scope of `https://api.example.com/`")
            && text.contains("`read:invoices`, `write:invoices`"),
        "{text}"
    );
}

/// A fake tenant whose credentials have every scope but `missing`.
async fn tenant_without(missing: &str) -> FakeTenant {
    let scopes = auth0_client_grants::testing::ALL_SCOPES
        .into_iter()
        .filter(|scope| *scope != missing);
    FakeTenant::builder().scopes(scopes).start().await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_read_resource_servers_the_plan_warns_on_stderr_and_goes_on() {
    let tenant = tenant_without("read:resource_servers").await;
    let directory = tempfile::tempdir().unwrap();
    let file = directory.path().join("grants.toml");
    std::fs::write(
        &file,
        "[[grant]]\nclient_id = \"a\"\naudience = \"https://api.example.com/\"\nscope = [\"read\"]\n",
    )
    .unwrap();

    let output = run_against(&tenant, &["plan", file.to_str().unwrap()]).await;

    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("warning: the scopes were not checked"),
        "{}",
        stderr(&output)
    );
    assert!(!stdout(&output).contains("warning"), "the plan alone on stdout");
}

/// A tenant whose credentials may not read applications, with one grant, for an application
/// that does not exist, listing `read:old`, a scope its API does not define.
async fn audited_without_read_clients() -> FakeTenant {
    let tenant = tenant_without("read:clients").await;
    tenant.add_api("https://api.example.com/", ["read:invoices"]);
    tenant
        .client()
        .client_grants()
        .create(
            NewClientGrant::new("gone-app", "https://api.example.com/").scope(["read:invoices", "read:old"]),
        )
        .await
        .unwrap();
    tenant
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_without_read_clients_notes_the_check_it_skipped() {
    let tenant = audited_without_read_clients().await;

    let output = run_against(&tenant, &["audit"]).await;

    assert_eq!(code(&output), 2, "{}", stderr(&output));
    assert!(
        stderr(&output).contains("note: applications that no longer exist were not looked for"),
        "{}",
        stderr(&output)
    );
    let text = stdout(&output);
    assert!(
        text.contains("scopes the API does not define: read:old"),
        "{text}"
    );
    assert!(!text.contains("no longer exists"), "{text}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_json_names_each_skipped_check_by_kind_with_its_sentence() {
    let tenant = audited_without_read_clients().await;

    let output = run_against(&tenant, &["audit", "--json"]).await;

    assert_eq!(code(&output), 2, "{}", stderr(&output));
    let report: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    assert_eq!(
        report["skipped"],
        serde_json::json!([{
            "kind": "applications_gone",
            "message": "applications that no longer exist were not looked for: the credentials may \
                        not read applications (they lack `read:clients`)",
        }])
    );
    let kinds: Vec<&serde_json::Value> = report["findings"]
        .as_array()
        .expect("an array of findings")
        .iter()
        .map(|finding| &finding["kind"])
        .collect();
    assert_eq!(kinds, ["scope_not_defined"]);
    assert!(
        stderr(&output).contains("note: applications that no longer exist were not looked for"),
        "the note stays on standard error: {}",
        stderr(&output)
    );
}
