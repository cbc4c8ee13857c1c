use std::path::Path;

use kpi::diff::values::DataFrom;

#[derive(clap::Args)]
pub struct Args {
    /// The old version: a spec path or a git revision (default: --base, or HEAD).
    old: Option<String>,
    /// The new version: a spec path or a git revision (default: the working tree).
    new: Option<String>,
    /// Compare the working tree with this revision.
    #[arg(long, conflicts_with_all = ["old", "new"])]
    base: Option<String>,
    /// Also evaluate both versions on the same data and show the values that change.
    #[arg(long)]
    values: bool,
    /// Whose data sources both versions read.
    #[arg(long, value_enum, default_value_t = DataArg::New)]
    data_from: DataArg,
    /// Values by these dimensions (with --values).
    #[arg(long, value_delimiter = ',')]
    by: Vec<String>,
    /// Values per period of this grain (with --values).
    #[arg(long, value_enum, default_value_t = super::eval::GrainArg::All)]
    grain: super::eval::GrainArg,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DataArg {
    New,
    Old,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Format {
    Human,
    Json,
    Markdown,
}

/// A version: a path on disk, else a git revision of the spec path.
fn load(version: Option<&str>, spec: &Path) -> Result<kpi::CheckOutcome, String> {
    match version {
        None => Ok(kpi::check_path(spec, false)),
        Some(v) if Path::new(v).exists() => Ok(kpi::check_path(Path::new(v), false)),
        Some(rev) => kpi::diff::git::load_revision(rev, spec).map(|l| kpi::check_loaded(l, false)),
    }
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    let old_version = args.base.as_deref().or(args.old.as_deref()).unwrap_or("HEAD");
    let (old, new) = match (load(Some(old_version), spec), load(args.new.as_deref(), spec)) {
        (Ok(o), Ok(n)) => (o, n),
        (Err(e), _) | (_, Err(e)) => {
            eprintln!("error: {e}");
            return super::USAGE;
        }
    };
    for (what, outcome) in [("old", &old), ("new", &new)] {
        if outcome.errors() > 0 {
            eprint!(
                "{}",
                kpi::report::diagnostics::to_human(
                    &outcome.diagnostics,
                    &outcome.sources,
                    super::color_stderr()
                )
            );
            eprintln!("error: the {what} version of the spec has errors");
            return 1;
        }
    }
    let changes = kpi::diff::diff(&old.spec, &new.spec);
    let moved = if args.values {
        let kpis = kpi::diff::values::candidates(&changes, &old.checked.model, &new.checked.model);
        let query = kpi::plan::Query {
            by: args.by.clone(),
            grain: args.grain.into(),
            ..kpi::plan::Query::default()
        };
        let from = match args.data_from {
            DataArg::New => DataFrom::New,
            DataArg::Old => DataFrom::Old,
        };
        match kpi::diff::values::values(
            (&old.spec, &old.checked.model),
            (&new.spec, &new.checked.model),
            &kpis,
            &query,
            from,
        ) {
            Ok(v) => Some(v),
            Err(diags) => {
                eprint!(
                    "{}",
                    kpi::report::diagnostics::to_human(&diags, &new.sources, super::color_stderr())
                );
                return 1;
            }
        }
    } else {
        None
    };
    let text = match args.format {
        Format::Human => {
            let mut s = kpi::diff::to_human(&changes);
            if let Some(v) = &moved {
                s.push_str(&kpi::diff::values::to_human(v));
            }
            s
        }
        Format::Markdown => {
            let mut s = kpi::diff::to_markdown(&changes);
            if let Some(v) = &moved {
                s.push_str(&kpi::diff::values::to_markdown(v));
            }
            s
        }
        Format::Json => {
            let v = serde_json::json!({"changes": changes, "values": moved});
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
        }
    };
    print!("{text}");
    super::OK
}
