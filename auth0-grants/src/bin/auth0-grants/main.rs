//! `auth0-grants`: an Auth0 tenant's client grants as code. `export` writes them as a desired
//! state, `plan` says what a desired state would change, `apply` makes it so, `audit` lists
//! least-privilege findings. Credentials come from `AUTH0_DOMAIN`, `AUTH0_CLIENT_ID` and
//! `AUTH0_CLIENT_SECRET`; `--demo` runs against an in-process fake tenant instead.

mod demo;
mod output;

use std::io::{BufRead, IsTerminal};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};

use auth0_client_grants::{Client, ClientGrant};
use auth0_grants::reconcile::{
    self, ApplyError, DEFAULT_PARALLELISM, DesiredState, Mode, Progress, ReconcileError, ReconcileExt,
    SavedPlan, Variables,
};
use clap::{Args, Parser, Subcommand};
use futures_util::TryStreamExt;

/// Exit codes, as `terraform plan -detailed-exitcode` has them.
const NOTHING_TO_DO: u8 = 0;
const FAILED: u8 = 1;
const SOMETHING_TO_DO: u8 = 2;

#[derive(Parser)]
#[command(
    name = "auth0-grants",
    version,
    about = "An Auth0 tenant's client grants as code: export, plan, apply, audit."
)]
struct Cli {
    /// Run against an in-process fake tenant with sample grants and organizations (no Auth0
    /// account needed; the package's examples/grants.toml is written for it).
    #[arg(long, global = true)]
    demo: bool,
    /// How many changes `apply` writes at once, and how many grants' organizations `plan` and
    /// `export` read at once. Every request still keeps to the tenant's rate limit.
    #[arg(long, global = true, value_name = "N", default_value_t = DEFAULT_PARALLELISM,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    parallelism: usize,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Write the tenant's grants and their organizations as a desired state (TOML).
    Export {
        /// Where to write it (default: standard output).
        #[arg(short, long)]
        output: Option<PathBuf>,
        /// Name each application by its name (`client = "…"`) where no other application has
        /// it, so that the file serves another tenant; `client_id` otherwise. Needs read:clients.
        #[arg(long)]
        by_name: bool,
    },
    /// Say what applying FILE would change. Exit 0 when nothing, 2 when something, 1 on error.
    Plan {
        file: PathBuf,
        /// Also delete grants and dissociate organizations FILE does not name, on the audiences it names.
        #[arg(long)]
        authoritative: bool,
        /// The plan as JSON.
        #[arg(long)]
        json: bool,
        /// Also save the plan, with what it read of the tenant, to PLAN for `apply PLAN`.
        #[arg(long, value_name = "PLAN")]
        out: Option<PathBuf>,
        /// Plan even if it deletes, takes scopes from, or makes require an organization, the
        /// grant by which these credentials reach the Management API (refused otherwise: they
        /// would lock themselves out).
        #[arg(long)]
        allow_self_lockout: bool,
        #[command(flatten)]
        variables: VariableArgs,
    },
    /// Make the tenant match FILE: shows the plan, and asks unless --yes. Given a plan saved by
    /// `plan --out` (a JSON file) instead, applies exactly that plan without asking, or nothing
    /// if the tenant changed since.
    Apply {
        file: PathBuf,
        /// Also delete grants and dissociate organizations FILE does not name, on the audiences it names.
        #[arg(long)]
        authoritative: bool,
        /// Apply without asking.
        #[arg(long)]
        yes: bool,
        /// Apply even if it deletes, takes scopes from, or makes require an organization, the
        /// grant by which these credentials reach the Management API (refused otherwise: they
        /// would lock themselves out).
        #[arg(long)]
        allow_self_lockout: bool,
        #[command(flatten)]
        variables: VariableArgs,
    },
    /// Print the grants file's JSON Schema, for editors and CI (needs no tenant).
    Schema,
    /// List least-privilege findings, and grants whose application or API is gone or whose
    /// scopes the API does not define, one line each. Exit 2 when there are any.
    Audit {
        /// The findings and the checks skipped for want of a permission as JSON:
        /// {"findings": [{id, key, kind, message}], "skipped": [{kind, message}]}.
        #[arg(long)]
        json: bool,
    },
}

/// The values of `${NAME}` in a grants file. Precedence: `--var` over `--var-file` (a later file
/// over an earlier one) over the environment (`AUTH0_GRANTS_VAR_NAME`).
#[derive(Args)]
struct VariableArgs {
    /// The value of `${NAME}` in FILE's string values (repeatable; wins over --var-file and the
    /// environment's AUTH0_GRANTS_VAR_NAME).
    #[arg(long = "var", value_name = "NAME=VALUE")]
    assignments: Vec<String>,
    /// A TOML file of variables, `NAME = "value"` lines (repeatable; a later file wins).
    #[arg(long = "var-file", value_name = "FILE")]
    files: Vec<PathBuf>,
}

impl VariableArgs {
    fn given(&self) -> bool {
        !self.assignments.is_empty() || !self.files.is_empty()
    }

    /// The environment's variables, then each file's, then each `--var`, later ones winning.
    fn read(&self) -> Result<Variables, String> {
        let mut variables = Variables::from_environment().map_err(|error| error.to_string())?;
        for file in &self.files {
            let text =
                std::fs::read_to_string(file).map_err(|error| format!("{}: {error}", file.display()))?;
            let layer =
                Variables::from_toml(&text).map_err(|error| format!("{}: {error}", file.display()))?;
            variables.extend(&layer);
        }
        for assignment in &self.assignments {
            let Some((name, value)) = assignment.split_once('=') else {
                return Err(format!("--var {assignment}: expected NAME=VALUE"));
            };
            variables
                .set(name, value)
                .map_err(|error| format!("--var {assignment}: {error}"))?;
        }
        Ok(variables)
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(error) => return fail(&format!("cannot start: {error}")),
    };
    match runtime.block_on(run(cli)) {
        Ok(code) => ExitCode::from(code),
        Err(message) => fail(&message),
    }
}

fn fail(message: &str) -> ExitCode {
    anstream::eprintln!(
        "{}error:{} {message}",
        output::ERROR.render(),
        output::ERROR.render_reset()
    );
    ExitCode::from(FAILED)
}

async fn run(cli: Cli) -> Result<u8, String> {
    if let Command::Schema = cli.command {
        let schema =
            serde_json::to_string_pretty(&DesiredState::json_schema()).map_err(|error| error.to_string())?;
        println!("{schema}");
        return Ok(NOTHING_TO_DO);
    }
    // The demo tenant lives as long as the command.
    let demo = if cli.demo {
        Some(
            demo::tenant()
                .await
                .map_err(|error| format!("the demo tenant: {error}"))?,
        )
    } else {
        None
    };
    let (client, management_api) = match &demo {
        Some(tenant) => (tenant.client(), format!("{}/", tenant.base_url())),
        None => client_from_environment()?,
    };
    let tenant = Tenant {
        client: &client,
        management_api: &management_api,
        allow_self_lockout: matches!(
            cli.command,
            Command::Plan {
                allow_self_lockout: true,
                ..
            } | Command::Apply {
                allow_self_lockout: true,
                ..
            }
        ),
        parallelism: cli.parallelism,
    };
    match cli.command {
        Command::Export { output, by_name } => {
            export(&client, output.as_deref(), by_name, cli.parallelism).await
        }
        Command::Plan {
            file,
            authoritative,
            json,
            out,
            variables,
            ..
        } => {
            let desired = read_desired(&file, &variables)?;
            let desired = resolve_names(&client, &file, desired).await?;
            let plan = match out {
                Some(out) => {
                    let saved = save_plan(tenant, &desired, mode(authoritative)).await?;
                    std::fs::write(&out, saved.to_json())
                        .map_err(|error| format!("{}: {error}", out.display()))?;
                    eprintln!(
                        "Plan saved to {}: `auth0-grants apply {0}` applies it.",
                        out.display()
                    );
                    saved.plan
                }
                None => plan(tenant, &desired, mode(authoritative)).await?,
            };
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&plan).map_err(|error| error.to_string())?
                );
            } else {
                output::plan(&plan);
            }
            Ok(if plan.is_empty() {
                NOTHING_TO_DO
            } else {
                SOMETHING_TO_DO
            })
        }
        Command::Apply {
            file,
            authoritative,
            yes,
            variables,
            ..
        } => {
            let text =
                std::fs::read_to_string(&file).map_err(|error| format!("{}: {error}", file.display()))?;
            if is_saved_plan(&text) {
                if authoritative {
                    return Err("--authoritative: a saved plan keeps the mode it was planned in".into());
                }
                if variables.given() {
                    return Err(
                        "--var, --var-file: a saved plan keeps the values it was planned with".into(),
                    );
                }
                return apply_saved(tenant, &file, &text).await;
            }
            let desired = read_desired(&file, &variables)?;
            let desired = resolve_names(&client, &file, desired).await?;
            let reconcile = tenant.reconcile(&desired).mode(mode(authoritative));
            let plan = plan(tenant, &desired, mode(authoritative)).await?;
            output::plan(&plan);
            if plan.is_empty() {
                return Ok(NOTHING_TO_DO);
            }
            if !yes && !confirmed()? {
                eprintln!("Nothing applied.");
                return Ok(FAILED);
            }
            let bar = output::bar(plan.changes().len() as u64, "applying");
            let progress = |progress: Progress| {
                if let Progress::Applied { done, .. } = progress {
                    bar.set_position(done as u64);
                }
            };
            let applied = reconcile
                .on_progress(&progress)
                .stop_when(stop_on_interrupt())
                .apply(&plan)
                .await;
            bar.finish_and_clear();
            match applied {
                Ok(report) => Ok(report_applied(&report)),
                Err(error) => Err(report_stopped(&error)),
            }
        }
        Command::Schema => unreachable!("answered before a tenant is needed"),
        Command::Audit { json } => {
            let grants: Vec<ClientGrant> = client
                .client_grants()
                .list()
                .take(100)
                .stream()
                .try_collect()
                .await
                .map_err(|error| error.to_string())?;
            let directory = auth0_grants::audit::read_directory(&client, &grants)
                .await
                .map_err(|error| error.to_string())?;
            let report = auth0_grants::audit::audit_against(&grants, &directory);
            for skipped in &report.skipped {
                eprintln!("note: {skipped}");
            }
            if json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).map_err(|error| error.to_string())?
                );
            } else {
                for finding in &report.findings {
                    println!("{finding}");
                }
                eprintln!("{} findings in {} grants.", report.findings.len(), grants.len());
            }
            Ok(if report.findings.is_empty() {
                NOTHING_TO_DO
            } else {
                SOMETHING_TO_DO
            })
        }
    }
}

fn mode(authoritative: bool) -> Mode {
    if authoritative {
        Mode::Authoritative
    } else {
        Mode::Additive
    }
}

/// The tenant a command works on: its client, its Management API's identifier, whether a
/// plan may take away the credentials' own access to it, and how many requests a command keeps
/// going at once.
#[derive(Clone, Copy)]
struct Tenant<'a> {
    client: &'a Client,
    management_api: &'a str,
    allow_self_lockout: bool,
    parallelism: usize,
}

impl<'a> Tenant<'a> {
    fn reconcile(self, desired: &'a DesiredState) -> reconcile::Reconcile<'a> {
        self.client
            .reconcile(desired)
            .management_api(self.management_api)
            .allow_self_lockout(self.allow_self_lockout)
            .parallelism(self.parallelism)
    }
}

/// The error's message, and for a refused self lock-out the flag that allows it.
fn explained(error: &(dyn std::error::Error + 'static)) -> String {
    let mut cause = Some(error);
    while let Some(error) = cause {
        if let Some(ReconcileError::SelfLockout(_)) = error.downcast_ref::<ReconcileError>() {
            return format!("{error}; --allow-self-lockout lets it go ahead");
        }
        cause = error.source();
    }
    error.to_string()
}

/// Set by the first Ctrl-C during an apply.
static INTERRUPTED: AtomicBool = AtomicBool::new(false);

/// From now on, the first Ctrl-C stops the apply cleanly (no change starts, those running
/// finish, and the report says what did not start); a second ends the process at once, as
/// terraform does.
fn stop_on_interrupt() -> &'static AtomicBool {
    tokio::spawn(async {
        if tokio::signal::ctrl_c().await.is_err() {
            return;
        }
        INTERRUPTED.store(true, Ordering::Relaxed);
        eprintln!(
            "Interrupted: no more changes start; waiting for those under way (Ctrl-C again to quit at once)."
        );
        if tokio::signal::ctrl_c().await.is_ok() {
            std::process::exit(130);
        }
    });
    &INTERRUPTED
}

/// The client for the tenant the environment names, and its Management API's identifier (the
/// API root with a trailing slash). `AUTH0_BASE_URL` (the API root, `https://{domain}/api/v2`)
/// takes the place of `AUTH0_DOMAIN`, for a proxy or a test tenant.
fn client_from_environment() -> Result<(Client, String), String> {
    let variable = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
    let missing = |names: &[&str]| {
        format!(
            "set {} (or run with --demo to try the commands against a fake tenant)",
            names.join(", ")
        )
    };
    let (Some(client_id), Some(secret)) = (variable("AUTH0_CLIENT_ID"), variable("AUTH0_CLIENT_SECRET"))
    else {
        return Err(missing(&["AUTH0_CLIENT_ID", "AUTH0_CLIENT_SECRET"]));
    };
    let (builder, management_api) = match (variable("AUTH0_BASE_URL"), variable("AUTH0_DOMAIN")) {
        (Some(base_url), _) => {
            let management_api = format!("{}/", base_url.trim_end_matches('/'));
            (Client::builder().base_url(base_url), management_api)
        }
        (None, Some(domain)) => {
            let management_api = format!("https://{domain}/api/v2/");
            (Client::builder().domain(domain), management_api)
        }
        (None, None) => return Err(missing(&["AUTH0_DOMAIN"])),
    };
    let client = builder
        .client_credentials(client_id, secret)
        .build()
        .map_err(|error| error.to_string())?;
    Ok((client, management_api))
}

fn read_desired(file: &Path, variables: &VariableArgs) -> Result<DesiredState, String> {
    let text = std::fs::read_to_string(file).map_err(|error| format!("{}: {error}", file.display()))?;
    let variables = variables.read()?;
    DesiredState::from_toml_with(&text, &variables).map_err(|error| format!("{}: {error}", file.display()))
}

/// `desired` with its application names resolved to ids, each shown on standard error for the
/// review of the plan, which names ids.
async fn resolve_names(client: &Client, file: &Path, desired: DesiredState) -> Result<DesiredState, String> {
    if !desired.uses_names() {
        return Ok(desired);
    }
    let spinner = output::spinner("reading applications");
    let resolved = desired.resolve(client).await;
    spinner.finish_and_clear();
    let resolved = resolved.map_err(|error| format!("{}: {error}", file.display()))?;
    let mut shown = std::collections::BTreeSet::new();
    for (named, grant) in desired.grants.iter().zip(&resolved.grants) {
        if let (Some(name), Some(id)) = (&named.client, &grant.client_id)
            && shown.insert(name)
        {
            eprintln!("client = {name:?} is {id}");
        }
    }
    Ok(resolved)
}

/// A saved plan is JSON, an object; a TOML document cannot start with `{`.
fn is_saved_plan(text: &str) -> bool {
    text.trim_start().starts_with('{')
}

async fn save_plan(tenant: Tenant<'_>, desired: &DesiredState, mode: Mode) -> Result<SavedPlan, String> {
    let spinner = output::spinner("reading grants");
    let saved = tenant.reconcile(desired).mode(mode).save_plan().await;
    spinner.finish_and_clear();
    let saved = saved.map_err(|error| explained(&error))?;
    output::warnings(&saved.plan);
    Ok(saved)
}

/// Applies a plan saved by `plan --out`, as `terraform apply PLANFILE` does: without asking
/// (the plan was reviewed when saved), and only if the tenant still has what the plan read.
async fn apply_saved(tenant: Tenant<'_>, file: &Path, text: &str) -> Result<u8, String> {
    let saved = SavedPlan::from_json(text).map_err(|error| format!("{}: {error}", file.display()))?;
    output::plan(&saved.plan);
    output::warnings(&saved.plan);
    if saved.plan.is_empty() {
        return Ok(NOTHING_TO_DO);
    }
    let bar = output::bar(saved.plan.changes().len() as u64, "applying");
    let progress = |progress: Progress| {
        if let Progress::Applied { done, .. } = progress {
            bar.set_position(done as u64);
        }
    };
    let applied = saved
        .reconcile(tenant.client)
        .management_api(tenant.management_api)
        .allow_self_lockout(tenant.allow_self_lockout)
        .parallelism(tenant.parallelism)
        .on_progress(&progress)
        .stop_when(stop_on_interrupt())
        .apply_saved(&saved)
        .await;
    bar.finish_and_clear();
    match applied {
        Ok(report) => Ok(report_applied(&report)),
        Err(reconcile::SavedPlanError::Apply(error)) => Err(report_stopped(&error)),
        Err(error) => Err(explained(&error)),
    }
}

/// Says what an apply did; an apply stopped by Ctrl-C did not finish, and exits 1.
fn report_applied(report: &reconcile::ApplyReport) -> u8 {
    if report.not_started.is_empty() {
        println!("Applied: {}.", summary(report));
        return NOTHING_TO_DO;
    }
    println!("Stopped: {}. Run apply again to finish.", summary(report));
    FAILED
}

/// Says what a failed apply did and each change that failed besides the first, and returns
/// the error.
fn report_stopped(error: &ApplyError) -> String {
    if let ReconcileError::SelfLockout(_) = error.source {
        return explained(error);
    }
    println!("Stopped: {}.", summary(&error.done));
    for failed in &error.also_failed {
        eprintln!("also failed: {failed}");
    }
    format!("{error}. Run apply again to converge.")
}

fn summary(report: &reconcile::ApplyReport) -> String {
    let not_started = match report.not_started.len() {
        0 => String::new(),
        count => format!(", {count} not started"),
    };
    format!(
        "{} written, {} found already done, {} planned again{not_started}",
        report.applied.len(),
        report.already_done.len(),
        report.replanned.len()
    )
}

async fn plan(tenant: Tenant<'_>, desired: &DesiredState, mode: Mode) -> Result<reconcile::Plan, String> {
    let spinner = output::spinner("reading grants");
    let progress = output::grants_read(&spinner);
    let plan = tenant
        .reconcile(desired)
        .mode(mode)
        .on_progress(&progress)
        .plan()
        .await;
    spinner.finish_and_clear();
    let plan = plan.map_err(|error| explained(&error))?;
    output::warnings(&plan);
    Ok(plan)
}

async fn export(
    client: &Client,
    output: Option<&Path>,
    by_name: bool,
    parallelism: usize,
) -> Result<u8, String> {
    let spinner = output::spinner("reading grants");
    let progress = output::grants_read(&spinner);
    let desired = reconcile::export(client)
        .parallelism(parallelism)
        .by_name(by_name)
        .on_progress(&progress)
        .await;
    spinner.finish_and_clear();
    let text = desired.map_err(|error| error.to_string())?.to_toml();
    match output {
        Some(path) => std::fs::write(path, text).map_err(|error| format!("{}: {error}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(NOTHING_TO_DO)
}

/// Asks on the terminal; anything but `yes` is no. Without a terminal there is no one to ask.
fn confirmed() -> Result<bool, String> {
    if !std::io::stdin().is_terminal() {
        return Err("standard input is not a terminal: pass --yes to apply without asking".into());
    }
    eprint!("Apply these changes? Only `yes` is accepted: ");
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|error| error.to_string())?;
    Ok(answer.trim() == "yes")
}
