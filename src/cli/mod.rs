//! Argument parsing and printing; every command is a library call.

mod check;
#[cfg(feature = "eval")]
mod diff;
#[cfg(feature = "eval")]
mod eval;
#[cfg(feature = "eval")]
mod explain;
mod generate;
mod list;
mod schema;
#[cfg(feature = "eval")]
mod status;
#[cfg(feature = "eval")]
mod test;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Declarative, typed KPIs for sales data.
#[derive(Parser)]
#[command(name = "kpi", version, about, propagate_version = true)]
struct Cli {
    /// Spec file or folder (searched recursively for *.yaml / *.yml).
    #[arg(long, global = true, env = "KPI_SPEC", default_value = "kpis")]
    spec: PathBuf,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Parse, resolve, type-check and SMART-check the spec.
    Check(check::Args),
    /// Evaluate KPIs over the data.
    #[cfg(feature = "eval")]
    Eval(eval::Args),
    /// Explain KPIs: resolved expressions, types, additivity, datasets and the query plan.
    #[cfg(feature = "eval")]
    Explain(explain::Args),
    /// SMART target status: pacing, projection, status and trend.
    #[cfg(feature = "eval")]
    Status(status::Args),
    /// The KPI catalog.
    List(list::Args),
    /// Run the spec's tests: inline rows in, expected values out.
    #[cfg(feature = "eval")]
    Test(test::Args),
    /// What changed between two versions of a spec (paths or git revisions).
    #[cfg(feature = "eval")]
    Diff(diff::Args),
    /// Print the JSON Schema of spec files (for editors).
    Schema(schema::Args),
    /// Write the standard sales data model with generated data.
    Generate(generate::Args),
}

/// Exit codes (LANGUAGE.md §8): 0 ok, 1 findings, 2 usage.
pub const OK: u8 = 0;
pub const USAGE: u8 = 2;

pub fn run() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { USAGE } else { OK });
        }
    };
    let code = match cli.command {
        Command::Check(args) => check::run(&cli.spec, &args),
        Command::Generate(args) => generate::run(&args),
        Command::Schema(args) => schema::run(&args),
        #[cfg(feature = "eval")]
        Command::Diff(args) => diff::run(&cli.spec, &args),
        #[cfg(feature = "eval")]
        Command::Eval(args) => eval::run(&cli.spec, &args),
        #[cfg(feature = "eval")]
        Command::Explain(args) => explain::run(&cli.spec, &args),
        Command::List(args) => list::run(&cli.spec, &args),
        #[cfg(feature = "eval")]
        Command::Status(args) => status::run(&cli.spec, &args),
        #[cfg(feature = "eval")]
        Command::Test(args) => test::run(&cli.spec, &args),
    };
    ExitCode::from(code)
}

/// Colour only for a terminal, and never under NO_COLOR.
pub fn color_stdout() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

pub fn color_stderr() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stderr().is_terminal()
}

/// Prints a spec's errors (on stderr) and gives the exit code, if it has any.
pub fn report_spec_errors(outcome: &kpi::CheckOutcome) -> Option<u8> {
    if outcome.errors() == 0 {
        return None;
    }
    let errors: Vec<_> = outcome
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .cloned()
        .collect();
    eprint!(
        "{}",
        kpi::report::diagnostics::to_human(&errors, &outcome.sources, color_stderr())
    );
    Some(outcome.exit_code(false).max(1))
}
