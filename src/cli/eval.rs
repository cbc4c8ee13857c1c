use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use kpi::period::Grain;
use kpi::plan::{Compare, Query};

#[derive(clap::Args)]
pub struct Args {
    /// KPIs to evaluate (default: all, in spec order); also comma-separated.
    #[arg(value_delimiter = ',', value_parser = super::names::listed_name_or_none)]
    kpis: Vec<String>,
    #[command(flatten)]
    query: QueryArgs,
    /// Beside each KPI, its value in an earlier period and the change:
    /// `previous`, `year` (same period a year earlier) or N periods earlier.
    #[arg(long, value_name = "previous|year|N")]
    compare: Option<String>,
    /// Output format (default: from the extension of -o: .csv, .json,
    /// .ndjson or .jsonl, .parquet, .md; otherwise a table).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

impl Args {
    fn format(&self) -> Format {
        super::output_format(self.format, self.output.as_deref(), Format::Table)
    }
}

/// The flags of a query, the same on every command that evaluates.
#[derive(clap::Args, Clone)]
pub struct QueryArgs {
    /// Group by these dimensions (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = super::names::listed_name)]
    pub by: Vec<String>,
    /// Time bucket of each row.
    #[arg(long, value_enum, default_value_t = GrainArg::All)]
    pub grain: GrainArg,
    /// First day of the range (with --to).
    #[arg(long, requires = "to")]
    pub from: Option<String>,
    /// Last day of the range, inclusive (with --from).
    #[arg(long, requires = "from")]
    pub to: Option<String>,
    /// A period label as the range: 2025, 2025-Q3, 2025-08, 2025-W33, FY2025, …
    #[arg(long, conflicts_with_all = ["from", "to"])]
    pub period: Option<String>,
    /// Apply these segments (comma-separated; all of them).
    #[arg(long, value_delimiter = ',', value_parser = super::names::listed_name)]
    pub segment: Vec<String>,
}

/// The help for `text`, not a date: the date it was likely meant to be
/// (`2025-1-5`), or, for a period label (`2025-01`), its first and last
/// days (and, for a range's `--from`/`--to`, that `--period` takes the
/// period whole); else `otherwise`.
pub fn date_help(text: &str, otherwise: &str, cal: &kpi::period::Calendar, range: bool) -> String {
    if let Some(meant) = kpi::period::meant_label(text).filter(|m| kpi::time::Date::parse(m).is_some()) {
        return format!("did you mean `{meant}`? Dates are written YYYY-MM-DD");
    }
    if let Some(meant) = kpi::time::meant_date_help(text) {
        return format!("{meant} Dates are written YYYY-MM-DD");
    }
    let Some((_, period)) = kpi::period::parse_label(text, cal) else {
        return otherwise.to_string();
    };
    let whole = match range {
        true => format!(" (`--period {text}` takes it whole)"),
        false => String::new(),
    };
    format!(
        "`{text}` is a period, and a day is asked here (YYYY-MM-DD): its first day is {}, its last {}{whole}",
        period.start, period.end
    )
}

impl QueryArgs {
    /// The query of these flags for `kpis`, or the usage error's exit code.
    pub fn query(&self, kpis: Vec<String>, cal: &kpi::period::Calendar) -> Result<Query, u8> {
        let range = match (&self.from, &self.to, &self.period) {
            (Some(f), Some(t), _) => match (kpi::time::Date::parse(f), kpi::time::Date::parse(t)) {
                (Some(start), Some(end)) if start <= end => Some(kpi::period::Period { start, end }),
                (Some(_), Some(_)) => {
                    return Err(super::usage_error(
                        "kpi::period_reversed",
                        &format!("--from {f} is after --to {t}"),
                        "--from is the range's first day and --to its last (both included): swap them",
                    ))
                }
                (start, _) => {
                    let bad = if start.is_none() {
                        ("--from", f)
                    } else {
                        ("--to", t)
                    };
                    return Err(super::usage_error(
                        "kpi::invalid_date",
                        &format!("{}: `{}` is not a date", bad.0, bad.1),
                        &date_help(
                            bad.1,
                            "write dates as YYYY-MM-DD, e.g. --from 2025-01-01 --to 2025-03-31",
                            cal,
                            true,
                        ),
                    ));
                }
            },
            (_, _, Some(p)) => match kpi::period::parse_label(p, cal) {
                Some((_, period)) => Some(period),
                None => {
                    let why = kpi::period::why_not_a_label(p).map_or(String::new(), |w| format!(": {w}"));
                    return Err(super::usage_error(
                        "kpi::invalid_period",
                        &format!("--period: `{p}` is not a period label{why}"),
                        &kpi::period::label_help(p),
                    ));
                }
            },
            _ => None,
        };
        Ok(Query {
            kpis,
            by: self.by.clone(),
            grain: self.grain.into(),
            range,
            segments: self.segment.clone(),
            compare: None,
            range_grain: None,
            history: None,
        })
    }
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
pub enum GrainArg {
    Day,
    Week,
    Month,
    Quarter,
    Year,
    All,
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

pub fn run(spec: &Path, args: &Args) -> u8 {
    let kpis = super::names::given(&args.kpis);
    if let Err(code) = super::foreign_output(
        args.format.is_some(),
        args.output.as_deref(),
        super::Writes::Results,
    ) {
        return code;
    }
    // Names may be KPIs or funnels; no names means every KPI, or every
    // funnel of a spec of funnels alone (an empty table said "no rows").
    let names = kpis;
    let (outcome, funnels, kpis) =
        match super::checked_names(spec, &names, &args.query, super::DataWarnings::Printed) {
            Ok(checked) => checked,
            Err(code) => return code,
        };
    let model = &outcome.checked.model;
    let funnels = super::names::funnels_to_run(model, funnels, &names);
    let query = match query_of(args, kpis, &funnels, &outcome.checked.model.calendar) {
        Ok(q) => q,
        Err(code) => return code,
    };
    let want_kpis = !query.kpis.is_empty() || funnels.is_empty();
    let spinner = Spinner::start();
    let result = if want_kpis {
        kpi::execute::evaluate(model, &query).map(Some)
    } else {
        Ok(None)
    };
    let funnel_result = match (&result, funnels.is_empty()) {
        (Ok(_), false) => kpi::execute::evaluate_funnels(model, &funnels, &query).map(Some),
        _ => Ok(None),
    };
    drop(spinner);
    let (evaluation, funnel_eval) = match (result, funnel_result) {
        (Ok(e), Ok(f)) => (e, f),
        (Err(diags), _) | (_, Err(diags)) => {
            eprint!(
                "{}",
                kpi::report::diagnostics::to_human(&diags, &outcome.sources, super::color_stderr())
            );
            return 1;
        }
    };
    say_notes(&outcome, evaluation.as_ref(), funnel_eval.as_ref());
    write(args, model, evaluation.as_ref(), funnel_eval.as_ref())
}

/// The query of the flags, or the exit code of a usage error.
fn query_of(
    args: &Args,
    kpis: Vec<String>,
    funnels: &[String],
    cal: &kpi::period::Calendar,
) -> Result<Query, u8> {
    if args.format() == Format::Parquet {
        super::parquet_needs_a_file(args.output.as_deref(), "results")?;
    }
    let compare = match args.compare.as_deref() {
        None => None,
        Some("previous") => Some(Compare::Previous),
        Some("year") => Some(Compare::Year),
        Some(n) => match n.parse::<u32>() {
            Ok(n) if (1..=10_000).contains(&n) => Some(Compare::Periods(n)),
            _ => {
                return Err(super::usage_error(
                    "kpi::invalid_value",
                    &format!("--compare: `{n}` is not a comparison"),
                    "--compare takes `previous`, `year` or a number of periods back (1 to 10000)",
                ))
            }
        },
    };
    let mut query = args.query.query(kpis, cal)?;
    query.compare = compare;
    if compare.is_some() && query.grain == Grain::All && query.range.is_none() {
        return Err(super::usage_error(
            "kpi::compare_needs_periods",
            "--compare needs periods to compare",
            "add --grain (month, quarter, …) or a range (--period, --from/--to)",
        ));
    }
    let want_kpis = !query.kpis.is_empty() || funnels.is_empty();
    if !funnels.is_empty() && compare.is_some() {
        return Err(super::usage_error(
            "kpi::flag_conflict",
            "--compare applies to KPIs, and funnels are named",
            "evaluate the funnels in a run without --compare",
        ));
    }
    if want_kpis
        && !funnels.is_empty()
        && matches!(args.format(), Format::Csv | Format::Ndjson | Format::Parquet)
    {
        return Err(super::usage_error(
            "kpi::flag_conflict",
            "KPIs and funnels have different columns, and csv, ndjson and parquet hold one table",
            "evaluate them in separate runs, or use --format json (one object with both) or table",
        ));
    }
    Ok(query)
}

/// What the evaluation has to say beside its numbers, on stderr (unless `--quiet`).
fn say_notes(
    outcome: &kpi::CheckOutcome,
    evaluation: Option<&kpi::execute::Evaluation>,
    funnels: Option<&kpi::execute::FunnelEvaluation>,
) {
    let warnings: Vec<_> = evaluation
        .iter()
        .flat_map(|e| e.warnings.iter())
        .chain(funnels.iter().flat_map(|f| f.warnings.iter()))
        .cloned()
        .collect();
    let (left_out, warnings): (Vec<_>, Vec<_>) =
        warnings.into_iter().partition(|d| d.code == "kpi::left_out");
    super::left_out_notice(&left_out);
    if !warnings.is_empty() {
        super::notice(&kpi::report::diagnostics::to_human(
            &warnings,
            &outcome.sources,
            super::color_stderr(),
        ));
    }
    let height = evaluation.map_or(0, |e| e.frame.height()) + funnels.map_or(0, |f| f.frame.height());
    if height == 0 {
        super::notice(
            "note: no rows: the data beneath these KPIs is empty or has no period in the range, or (a stock KPI under `--grain all`) no row is active on the day it is taken\n",
        );
    }
    let no_time = evaluation
        .map_or(0, |e| e.left_out)
        .max(funnels.map_or(0, |f| f.left_out));
    if no_time > 0 {
        let (rows, belong, were) = if no_time == 1 {
            ("row", "belongs", "was")
        } else {
            ("rows", "belong", "were")
        };
        super::notice(&format!(
            "note: {} {rows} with no time value {belong} to no period and {were} left out\n",
            kpi::diagnostic::grouped(&no_time.to_string())
        ));
    }
}

/// The results in the asked format, to `-o` or standard output.
fn write(
    args: &Args,
    model: &kpi::check::ir::Model,
    evaluation: Option<&kpi::execute::Evaluation>,
    funnels: Option<&kpi::execute::FunnelEvaluation>,
) -> u8 {
    if args.format() == Format::Parquet {
        // To `-o FILE`, or standard output under `-o -` (a pipe).
        return super::emit_with(args.output.as_deref(), |w| match (evaluation, funnels) {
            (Some(e), _) => e.write_parquet(model, w),
            (None, Some(f)) => f.write_parquet(w),
            (None, None) => Ok(()),
        });
    }
    // One table is written from its columns, a block of rows at a time,
    // never whole in memory as cells or text.
    let one = match (evaluation, funnels) {
        (Some(e), None) => Some(e.cells(model)),
        (None, Some(f)) => Some(f.cells()),
        _ => None,
    };
    if let Some(cells) = one {
        use kpi::report::text::{self, TextFormat};
        let format = args.format();
        return super::emit_with(args.output.as_deref(), |w| match format {
            Format::Table => text::write_table(&cells, w),
            Format::Markdown => text::write_markdown(&cells, w),
            Format::Csv => text::write_text(&cells, TextFormat::Csv, w),
            Format::Json => text::write_text(&cells, TextFormat::Json, w),
            Format::Ndjson => text::write_text(&cells, TextFormat::Ndjson, w),
            Format::Parquet => Ok(()),
        });
    }
    let tables: Vec<_> = evaluation
        .map(|e| e.table(model))
        .into_iter()
        .chain(funnels.map(|f| f.table()))
        .collect();
    let render = |t: &kpi::report::table::ResultTable| match args.format() {
        Format::Table => t.to_table(),
        Format::Csv => t.to_csv(),
        Format::Json => t.to_json(),
        Format::Ndjson => t.to_ndjson(),
        Format::Markdown => t.to_markdown(),
        Format::Parquet => String::new(),
    };
    let text = match (args.format(), &tables[..]) {
        (Format::Json, [k, f]) => format!(
            "{{\"kpis\": {}, \"funnels\": {}}}\n",
            render(k).trim_end(),
            render(f).trim_end()
        ),
        _ => tables.iter().map(render).collect::<Vec<_>>().join("\n"),
    };
    super::emit(args.output.as_deref(), &text)
}

/// Elapsed time on stderr while data loads, only on a terminal.
struct Spinner {
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    handle: Option<std::thread::JoinHandle<()>>,
}

impl Spinner {
    fn start() -> Spinner {
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let handle = std::io::stderr().is_terminal().then(|| {
            let stop = stop.clone();
            std::thread::spawn(move || {
                let start = std::time::Instant::now();
                let frames = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
                let mut i = 0;
                // Quick evaluations show nothing.
                std::thread::sleep(std::time::Duration::from_millis(1000));
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    eprint!(
                        "\r{} reading data and evaluating… {:.1}s",
                        frames[i % frames.len()],
                        start.elapsed().as_secs_f64()
                    );
                    i += 1;
                    std::thread::sleep(std::time::Duration::from_millis(100));
                }
                if i > 0 {
                    eprint!("\r\x1b[2K");
                }
            })
        });
        Spinner { stop, handle }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        if let Some(h) = self.handle.take() {
            let _ = h.join();
        }
    }
}

impl From<GrainArg> for Grain {
    fn from(g: GrainArg) -> Grain {
        match g {
            GrainArg::Day => Grain::Day,
            GrainArg::Week => Grain::Week,
            GrainArg::Month => Grain::Month,
            GrainArg::Quarter => Grain::Quarter,
            GrainArg::Year => Grain::Year,
            GrainArg::All => Grain::All,
        }
    }
}
