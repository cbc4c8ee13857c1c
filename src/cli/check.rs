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
    /// Leave out these warnings (codes, comma-separated: `lookup_unmatched` or `kpi::lookup_unmatched`), looked at and accepted; errors always count.
    #[arg(long, value_delimiter = ',', value_name = "CODES")]
    allow: Vec<String>,
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
    let allowed = match allowed_warnings(&args.allow) {
        Ok(codes) => codes,
        Err(code) => return code,
    };
    let mut outcome = kpi::check_path(spec, args.data);
    outcome.allow(&allowed);
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

/// The warning codes of `--allow`, each with its `kpi::`; a name that is
/// no warning is a usage error (an error code among them too: errors are
/// never allowed), so a typo never lets warnings through unseen.
fn allowed_warnings(asked: &[String]) -> Result<Vec<&'static str>, u8> {
    let known = kpi::diagnostic::warning_codes();
    let mut out = Vec::new();
    for a in asked.iter().map(|a| a.trim()).filter(|a| !a.is_empty()) {
        let asked = a.strip_prefix("kpi::").unwrap_or(a);
        match known.iter().find(|k| k.strip_prefix("kpi::") == Some(asked)) {
            Some(k) => out.push(*k),
            None => {
                let bare: Vec<&str> = known.iter().map(|k| k.trim_start_matches("kpi::")).collect();
                let help = match kpi::diagnostic::did_you_mean(asked, bare.iter().copied()) {
                    Some(m) => format!("did you mean `{m}`? Only warnings can be allowed; docs/diagnostics.md lists them"),
                    None => "only warnings can be allowed, by their code (`lookup_unmatched`); docs/diagnostics.md lists them".to_string(),
                };
                return Err(super::usage_error(
                    "kpi::usage",
                    &format!("--allow: `{a}` is no warning"),
                    &help,
                ));
            }
        }
    }
    Ok(out)
}
