use std::path::{Path, PathBuf};

use kpi::report::diagnostics as render;

#[derive(clap::Args)]
pub struct Args {
    /// Also read each dataset's source: schemas, declared types, lookup keys.
    #[arg(long)]
    data: bool,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Exit 1 on warnings too.
    #[arg(long)]
    deny_warnings: bool,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    #[value(alias = "table")]
    Human,
    Json,
    Github,
    Sarif,
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    let outcome = kpi::check_path(spec, args.data);
    let diags = &outcome.diagnostics;
    let out = match args.format {
        Format::Human => {
            let mut s = render::to_human(diags, &outcome.sources, super::color_stdout());
            s.push_str(&outcome.summary());
            s.push('\n');
            s
        }
        Format::Json => outcome.to_json() + "\n",
        Format::Github => render::to_github(diags, &outcome.sources),
        Format::Sarif => render::to_sarif(diags, &outcome.sources) + "\n",
    };
    let code = match super::emit(args.output.as_deref(), &out) {
        super::OK => outcome.exit_code(args.deny_warnings),
        failed => failed,
    };
    // The process ends next: freeing a large spec's trees node by node
    // would cost a tenth of the run, for memory the exit returns anyway.
    std::mem::forget(outcome);
    code
}
