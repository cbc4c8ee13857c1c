use std::path::Path;

use kpi::diff::values::{DataFrom, StatusChange, ValueChange};

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
    /// With --values: the query's flags, as `eval` takes them.
    #[command(flatten)]
    query: super::eval::QueryArgs,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum DataArg {
    New,
    Old,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Format {
    #[value(alias = "table")]
    Human,
    Json,
    Markdown,
}

/// How the version that is no revision is named in messages.
const WORKING_TREE: &str = "the working tree";

/// A version: a path on disk, else a git revision of the spec path or
/// git's `REV:PATH` (`None`: the revision has no spec files there). With `--values`,
/// datasets' schemas are read as for `kpi eval`.
fn load(
    version: Option<&str>,
    spec: &Path,
    access: kpi::DataAccess,
) -> Result<Option<kpi::CheckOutcome>, String> {
    match version {
        // A spec removed from the working tree (kept at the other version).
        None if !spec.exists() => Ok(None),
        None => Ok(Some(kpi::check_path_with(spec, access))),
        Some(v) if Path::new(v).exists() => Ok(Some(kpi::check_path_with(Path::new(v), access))),
        Some(rev) => {
            kpi::diff::git::load_version(rev, spec).map(|l| l.map(|l| kpi::check_loaded_with(l, access)))
        }
    }
}

/// The two versions; a revision without the spec is an empty spec (every
/// definition added, or removed), said on stderr, unless neither has it.
fn versions(
    old: (&str, Result<Option<kpi::CheckOutcome>, String>),
    new: (&str, Result<Option<kpi::CheckOutcome>, String>),
    spec: &Path,
    access: kpi::DataAccess,
) -> Result<(kpi::CheckOutcome, kpi::CheckOutcome), String> {
    let empty = || kpi::check_loaded_with(kpi::spec::Loaded::default(), access);
    let when = |rev: &str| match rev {
        WORKING_TREE => format!("in {rev}"),
        rev => format!("at `{rev}`"),
    };
    // Where a version's spec was looked for: `REV:PATH` names its own.
    let at = |rev: &str| match rev.contains(':') && rev != WORKING_TREE {
        true => when(rev),
        false => format!("under `{}` {}", spec.display(), when(rev)),
    };
    let note = |rev: &str, what: &str| {
        super::notice(&format!(
            "note: there is no spec {}: every definition is {what}\n",
            at(rev)
        ));
    };
    match (old.1?, new.1?) {
        (Some(o), Some(n)) => Ok((o, n)),
        (None, Some(n)) => {
            note(old.0, "added");
            Ok((empty(), n))
        }
        (Some(o), None) => {
            note(new.0, "removed");
            Ok((o, empty()))
        }
        (None, None) => Err(format!("no spec files {} nor {}", at(old.0), when(new.0))),
    }
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    let old_version = args.base.as_deref().or(args.old.as_deref()).unwrap_or("HEAD");
    let access = if args.values {
        kpi::DataAccess::Schemas
    } else {
        kpi::DataAccess::None
    };
    let new_version = args.new.as_deref().unwrap_or(WORKING_TREE);
    let (old, new) = match versions(
        (old_version, load(Some(old_version), spec, access)),
        (new_version, load(args.new.as_deref(), spec, access)),
        spec,
        access,
    ) {
        Ok(both) => both,
        Err(e) => {
            return super::usage_error(
                "kpi::spec_version_not_found",
                &e,
                "OLD and NEW are spec paths, git revisions (HEAD~1, main, a tag) of the repository holding --spec, or REV:PATH",
            )
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
            super::say_error(
                "kpi::spec_version_has_errors",
                &format!("the {what} version of the spec has errors"),
                "the diagnostics above say where; `kpi diff` compares specs that check",
            );
            return 1;
        }
    }
    let changes = kpi::diff::diff(&old.spec, &new.spec);
    let moved = match args.values {
        true => match changed_values(args, &old, &new, &changes) {
            Ok(v) => Some(v),
            Err(code) => return code,
        },
        false => None,
    };
    let text = rendered(args.format, &changes, moved.as_ref());
    super::emit(args.output.as_deref(), &text)
}

/// What `--values` found: the values that move, and the target statuses
/// that move (none when no target changed).
struct Moved {
    values: Vec<ValueChange>,
    statuses: Option<Vec<StatusChange>>,
}

/// With `--values`: the values of the changed and affected KPIs and the
/// status rows of the changed and affected targets that differ between the
/// versions, over one version's data (an exit code when the query or the
/// evaluation fails, said on stderr).
fn changed_values(
    args: &Args,
    old: &kpi::CheckOutcome,
    new: &kpi::CheckOutcome,
    changes: &[kpi::diff::Change],
) -> Result<Moved, u8> {
    let query = args.query.query(Vec::new(), &new.checked.model.calendar)?;
    let models = (&old.checked.model, &new.checked.model);
    let candidates = kpi::diff::values::candidates(changes, models, &query);
    super::said_left_out(&candidates.left_out, "left out of the values compared");
    let kpis = candidates.kpis;
    let from = match args.data_from {
        DataArg::New => DataFrom::New,
        DataArg::Old => DataFrom::Old,
    };
    let unseen = kpi::diff::values::unseen_at_start(&new.checked.model, &kpis, &query);
    if !unseen.is_empty() {
        let names: Vec<String> = unseen.iter().map(|k| format!("`{k}`")).collect();
        super::notice(&format!(
            "note: {} {} taken at the start (`at: start`): under `--grain all` without a range that is the day before the data's first, when nothing is active, so {} values cannot change there; compare them by a grain (`--grain month`)\n",
            names.join(", "),
            if unseen.len() == 1 { "is a level" } else { "are levels" },
            if unseen.len() == 1 { "its" } else { "their" },
        ));
    }
    let funnels = kpi::diff::values::funnel_candidates(changes, models, &query);
    let failed = |diags: Vec<kpi::diagnostic::Diagnostic>| {
        eprint!(
            "{}",
            kpi::report::diagnostics::to_human(&diags, &new.sources, super::color_stderr())
        );
        1
    };
    let targets = kpi::diff::values::target_candidates(changes, models);
    // Both versions read one version's data, the same for values and statuses.
    let (old_model, new_model) = kpi::diff::values::on_one_data(models, from);
    let both = (&old_model, &new_model);
    let values = kpi::diff::values::values(both, (&kpis, &funnels), &query).map_err(failed)?;
    let statuses = match targets.is_empty() {
        true => None,
        false => Some(kpi::diff::values::statuses(both, &targets, query.range).map_err(failed)?),
    };
    Ok(Moved { values, statuses })
}

/// The diff (and the values that change) in the asked format.
fn rendered(format: Format, changes: &[kpi::diff::Change], moved: Option<&Moved>) -> String {
    use kpi::diff::values as v;
    let statuses = moved.and_then(|m| m.statuses.as_deref());
    match format {
        Format::Human => {
            let mut s = kpi::diff::to_human(changes);
            if let Some(m) = moved {
                s.push_str(&v::to_human(&m.values));
            }
            if let Some(st) = statuses {
                s.push_str(&v::statuses_to_human(st));
            }
            s
        }
        Format::Markdown => {
            let mut s = kpi::diff::to_markdown(changes);
            if let Some(m) = moved {
                s.push_str(&v::to_markdown(&m.values));
            }
            if let Some(st) = statuses {
                s.push_str(&v::statuses_to_markdown(st));
            }
            s
        }
        Format::Json => {
            let values = moved.map(|m| &m.values);
            let v = serde_json::json!({"changes": changes, "values": values, "statuses": statuses});
            format!("{}\n", serde_json::to_string_pretty(&v).unwrap_or_default())
        }
    }
}
