use std::io::IsTerminal;
use std::path::PathBuf;

use kpi::report::table::Cell;
use kpi::spec::model::Keyword;
use kpi::status::assess::{Status, Trend};
use kpi::status::StatusRow;

/// `--by` and `--grain` are each target's own (`by:`, `period:`): refused
/// if given, so not offered in the help.
#[derive(clap::Args)]
#[command(
    mut_arg("by", |a| a.hide(true)),
    mut_arg("grain", |a| a.hide(true)),
    mut_arg("segment", |a| a.help("Only the targets on these segments (comma-separated)")),
    mut_arg("period", |a| a.help("Only the periods overlapping this one: 2025, 2025-Q3, 2025-08, FY2025, …")),
    mut_arg("from", |a| a.help("Only the periods overlapping the range from this day (with --to)")),
)]
pub struct Args {
    /// Targets to show (default: all).
    #[arg(value_delimiter = ',', value_parser = super::names::listed_name_or_none)]
    targets: Vec<String>,
    /// The date to assess at (default: the latest date in the data beneath each KPI, never after today).
    #[arg(long)]
    as_of: Option<String>,
    /// Output format (default: from the extension of -o: .csv, .json, .md;
    /// otherwise a table).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
    /// Exit 1 when a target reaches this status or worse (`missed` is worse than `off_track`).
    #[arg(long, value_enum)]
    fail_on: Option<FailOn>,
    /// Only targets on these segments, and periods overlapping the range
    /// (`--by` and `--grain` are the targets' own).
    #[command(flatten)]
    query: super::eval::QueryArgs,
}

impl Args {
    fn format(&self) -> Format {
        super::output_format(self.format, self.output.as_deref(), Format::Table)
    }
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Format {
    #[value(alias = "human")]
    Table,
    Csv,
    Json,
    #[value(alias = "jsonl")]
    Ndjson,
    Parquet,
    #[value(alias = "md")]
    Markdown,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum FailOn {
    #[value(name = "off_track")]
    OffTrack,
    Missed,
}

/// `--by` and `--grain` refused: each target sets its own.
fn no_by_or_grain(flags: &super::eval::QueryArgs) -> Result<(), u8> {
    if !flags.by.is_empty() || flags.grain != super::eval::GrainArg::All {
        return Err(super::usage_error(
            "kpi::flag_conflict",
            "--by and --grain are not flags of `kpi status`",
            "each target sets them (`by:`, `period:` or `every:`); choose rows with --segment and a range",
        ));
    }
    Ok(())
}

/// Why `--segment` or a range left no target row.
fn why_no_rows(flags: &super::eval::QueryArgs) -> Option<String> {
    let segments = match flags.segment.as_slice() {
        [] => None,
        [one] => Some(format!("segment `{one}`")),
        many => Some(format!("segments `{}`", many.join("`, `"))),
    };
    let ranged = flags.from.is_some() || flags.period.is_some();
    match (segments, ranged) {
        (Some(s), false) => Some(format!(
            "no target is on {s} (a target names its segment with `segment:`)"
        )),
        (Some(s), true) => Some(format!("no target on {s} has a period overlapping the range")),
        (None, true) => Some("no target has a period overlapping the range".to_string()),
        (None, false) => None,
    }
}

fn colour(status: Status, text: &str) -> String {
    let code = match status {
        Status::OnTrack | Status::Achieved => "32",
        Status::AtRisk => "33",
        Status::OffTrack | Status::Missed => "31",
        Status::Upcoming => "2",
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

pub fn run(spec: &std::path::Path, args: &Args) -> u8 {
    let targets = super::names::given(&args.targets);
    if let Err(code) = super::foreign_output(
        args.format.is_some(),
        args.output.as_deref(),
        super::Writes::Results,
    ) {
        return code;
    }
    if args.format() == Format::Parquet {
        if let Err(code) = super::parquet_needs_a_file(args.output.as_deref(), "status") {
            return code;
        }
    }
    let outcome = kpi::check_path_with(spec, kpi::DataAccess::Schemas);
    if let Some(code) = super::report_spec_errors(&outcome) {
        return code;
    }
    if let Err(code) = super::names::all_known(
        "target",
        "TARGET",
        &targets,
        outcome.checked.model.targets.iter().map(|t| t.name.as_str()),
    ) {
        return code;
    }
    // The data's warnings of the targets asked: of the datasets beneath
    // their KPIs, and of the dimension a target by member groups by.
    let asked: Vec<_> = (outcome.checked.model.targets.iter())
        .filter(|t| targets.is_empty() || targets.contains(&t.name))
        .collect();
    let by: Vec<String> = asked.iter().filter_map(|t| t.by.clone()).collect();
    let kpis: Vec<_> = asked.iter().map(|t| t.kpi).collect();
    let read = outcome.checked.model.datasets_read(&kpis, &[]);
    super::data_warnings(&outcome, &by, &read);
    super::unmatched_lookup_warnings(&outcome, &by, &read);
    if let Err(code) = super::names::all_known(
        "segment",
        "--segment",
        &args.query.segment,
        outcome.checked.model.segments.iter().map(|s| s.name.as_str()),
    ) {
        return code;
    }
    let as_of = match super::as_of(args.as_of.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    if let Err(code) = no_by_or_grain(&args.query) {
        return code;
    }
    let range = match args.query.query(Vec::new(), &outcome.checked.model.calendar) {
        Ok(q) => q.range,
        Err(code) => return code,
    };
    let model = &outcome.checked.model;
    let latest = std::collections::HashMap::new();
    // Only the targets on the `--segment`s are evaluated; none asked, no rows.
    let asked = kpi::status::targets_on(model, &targets, &args.query.segment);
    let rows = match asked.is_empty() {
        true => Ok(Vec::new()),
        false => kpi::status::status_over(model, &asked, as_of, range, latest),
    };
    let rows = match rows {
        Ok(r) => r,
        Err(d) => {
            eprint!(
                "{}",
                kpi::report::diagnostics::to_human(&d, &outcome.sources, super::color_stderr())
            );
            return 1;
        }
    };
    print_notes(&rows, model);
    if model.targets.is_empty() {
        super::notice("note: the spec has no targets: add them under `targets:` (see `kpi schema`)\n");
    } else if rows.is_empty() {
        if let Some(why) = why_no_rows(&args.query) {
            super::notice(&format!("note: no rows: {why}\n"));
        }
    }
    let text = match args.format() {
        Format::Table => human_table(&rows, model, args.output.is_none()),
        Format::Markdown => kpi::report::status_table(&rows, model, false).to_markdown(),
        Format::Csv => kpi::report::status_table(&rows, model, true).to_csv(),
        Format::Json => kpi::report::status_json(&rows) + "\n",
        Format::Ndjson => kpi::report::status_ndjson(&rows),
        Format::Parquet => String::new(),
    };
    let written = match args.format() {
        Format::Parquet => super::emit_with(args.output.as_deref(), |w| {
            kpi::report::status_table(&rows, model, true).write_parquet(w)
        }),
        _ => super::emit(args.output.as_deref(), &text),
    };
    if written != super::OK {
        return written;
    }
    match args.fail_on {
        Some(f) => fail_on(&rows, f),
        None => super::OK,
    }
}

/// The rows' notes (rows computed differently than asked) on stderr, one
/// line per target and note: a note that many members share (no baseline
/// value, as every rep new this month has) names its periods and a few
/// members of each, not a line per row.
fn print_notes(rows: &[StatusRow], model: &kpi::check::ir::Model) {
    let noted = rows
        .iter()
        .filter_map(|r| r.note.as_deref().map(|note| ((r.target.as_str(), note), r)));
    for ((target, note), of) in grouped_in_order(noted) {
        // A target by members has a member on every row: no value is the null group.
        let by_members = model.targets.iter().any(|t| t.name == target && t.by.is_some());
        super::notice(&note_line(target, note, &of, by_members));
    }
}

/// The line of a note of `target` on `rows`.
fn note_line(target: &str, note: &str, rows: &[&StatusRow], by_members: bool) -> String {
    let member = |r: &StatusRow| r.member.clone().unwrap_or_else(|| "null".to_string());
    if let [r] = rows {
        return match by_members {
            true => format!("note: {target} {} ({}): {note}\n", r.period, member(r)),
            false => format!("note: {target} {}: {note}\n", r.period),
        };
    }
    let periods = grouped_in_order(rows.iter().map(|r| (r.period.as_str(), member(r))));
    let shown: Vec<String> = (periods.iter().take(NOTED))
        .map(|(period, members)| match by_members {
            true => format!("{period} ({})", some_members(members)),
            false => period.to_string(),
        })
        .collect();
    let more = if periods.len() > NOTED { ", …" } else { "" };
    format!(
        "note: {target}, {}: {note}: {}{more}\n",
        kpi::diagnostic::counted(rows.len() as u64, "row"),
        shown.join(", ")
    )
}

/// `pairs` grouped by their keys, in the order each key first comes.
fn grouped_in_order<K: PartialEq, V>(pairs: impl Iterator<Item = (K, V)>) -> Vec<(K, Vec<V>)> {
    let mut out: Vec<(K, Vec<V>)> = Vec::new();
    for (k, v) in pairs {
        match out.iter_mut().find(|(x, _)| *x == k) {
            Some((_, values)) => values.push(v),
            None => out.push((k, vec![v])),
        }
    }
    out
}

/// How many periods, and members of each, a shared note names.
const NOTED: usize = 3;

/// A period's members of a shared note: all of a few, or a few of many
/// with their count.
fn some_members(members: &[String]) -> String {
    match members.len() {
        n if n <= NOTED => members.join(", "),
        n => format!("{n} members: {}, …", members[..NOTED].join(", ")),
    }
}

/// The table for people: the trend as an arrow and whether it is better,
/// and on a terminal the status in colour.
fn human_table(rows: &[StatusRow], model: &kpi::check::ir::Model, to_stdout: bool) -> String {
    let mut t = kpi::report::status_table(rows, model, false);
    let tty = to_stdout && std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none();
    for (row, r) in t.rows.iter_mut().zip(rows) {
        let mark = match r.trend {
            Trend::Up => "▲",
            Trend::Down => "▼",
            Trend::Flat => "▶",
        };
        let verdict = match r.improving {
            Some(true) => " (better)",
            Some(false) => " (worse)",
            None => "",
        };
        row[13] = Cell::Text(Some(format!("{mark} {}{verdict}", r.trend)));
        if tty {
            row[12] = Cell::Text(Some(colour(r.status, r.status.as_str())));
        }
    }
    t.to_table()
}

/// `--fail-on`: exit 1 naming every row at that status or worse.
fn fail_on(rows: &[StatusRow], fail_on: FailOn) -> u8 {
    let (flag, failing): (&str, fn(Status) -> bool) = match fail_on {
        FailOn::OffTrack => ("off_track", |s| matches!(s, Status::OffTrack | Status::Missed)),
        FailOn::Missed => ("missed", |s| s == Status::Missed),
    };
    let worst: Vec<String> = rows
        .iter()
        .filter(|r| failing(r.status))
        .map(|r| match &r.member {
            Some(m) => format!("{} {} ({m}): {}", r.target, r.period, r.status.as_str()),
            None => format!("{} {}: {}", r.target, r.period, r.status.as_str()),
        })
        .collect();
    if worst.is_empty() {
        return super::OK;
    }
    super::say_error(
        "kpi::targets_failing",
        &format!(
            "--fail-on {flag}: {} target row{} at that status or worse: {}",
            worst.len(),
            if worst.len() == 1 { "" } else { "s" },
            worst.join("; ")
        ),
        "the status output has each row's actual, target and gap",
    );
    1
}
