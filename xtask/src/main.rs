//! `cargo xtask …`: maintenance commands for auth0-client-grants.

mod bench;
mod spec;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cargo xtask", about = "Maintenance commands for auth0-client-grants")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Keep spec/ true to Auth0's published OpenAPI document.
    #[command(subcommand)]
    Spec(spec::SpecCommand),
    /// Measure the client against a hand-written baseline, and the build cost for users;
    /// write BENCHMARKS.md.
    Bench(bench::BenchArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Spec(command) => spec::run(command),
        Command::Bench(args) => bench::run(args).map(|()| ExitCode::SUCCESS),
    };
    match outcome {
        Ok(code) => code,
        Err(error) => {
            // One line a person can act on; the chain of causes is joined with ": ".
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
