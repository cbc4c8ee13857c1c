//! Argument parsing and printing; every command is a library call.

mod check;
mod generate;

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
    };
    ExitCode::from(code)
}

/// Colour only for a terminal, and never under NO_COLOR.
pub fn color_stdout() -> bool {
    use std::io::IsTerminal;
    std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}
