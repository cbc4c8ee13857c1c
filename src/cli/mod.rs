//! Argument parsing and printing; every command is a library call.

pub(crate) mod allocator;
mod check;
#[cfg(feature = "eval")]
mod diff;
#[cfg(feature = "eval")]
mod eval;
#[cfg(feature = "eval")]
mod explain;
mod generate;
mod list;
#[cfg(feature = "eval")]
mod names;
#[cfg(feature = "eval")]
mod report;
mod schema;
#[cfg(feature = "eval")]
mod sql;
#[cfg(feature = "eval")]
mod status;
#[cfg(feature = "eval")]
mod test;

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Declarative, typed KPIs for sales data.
#[derive(Parser)]
#[command(name = "kpi", version, about, propagate_version = true, after_help = EXIT_CODES)]
struct Cli {
    /// Spec file or folder (searched recursively for *.yaml / *.yml).
    #[arg(long, global = true, env = "KPI_SPEC", default_value = "kpis")]
    spec: PathBuf,
    /// No notes or warnings on stderr (errors are still printed).
    #[arg(long, short, global = true)]
    quiet: bool,
    /// Colour on a terminal (auto), always, or never; NO_COLOR is honoured under auto.
    #[arg(long, global = true, value_enum, default_value_t = ColorArg::Auto)]
    color: ColorArg,
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum ColorArg {
    Auto,
    Always,
    Never,
}

const EXIT_CODES: &str = "Exit codes: 0 ok; 1 findings (spec errors, evaluation errors, failed tests, --fail-on); 2 usage: a bad flag, an unknown name, an unreadable spec, a file that cannot be written.";

#[derive(Subcommand)]
enum Command {
    /// Parse, resolve, type-check and SMART-check the spec.
    #[command(
        after_help = "Exit codes: 0 clean or warnings only; 1 errors (or warnings with --deny-warnings); 2 unreadable spec or usage."
    )]
    Check(check::Args),
    /// Evaluate KPIs over the data.
    #[cfg(feature = "eval")]
    #[command(
        after_help = "Exit codes: 0 ok; 1 spec or evaluation errors; 2 usage (an unknown KPI, segment or dimension, a bad flag, an output that cannot be written)."
    )]
    Eval(eval::Args),
    /// Explain KPIs: resolved expressions, types, additivity, datasets and the query plan.
    #[cfg(feature = "eval")]
    Explain(explain::Args),
    /// SMART target status: pacing, projection, status and trend.
    #[cfg(feature = "eval")]
    #[command(
        after_help = "Exit codes: 0 ok; 1 spec or evaluation errors, or a target at the --fail-on status; 2 usage (an unknown target, a bad flag)."
    )]
    Status(status::Args),
    /// One self-contained HTML page of KPIs against their targets.
    #[cfg(feature = "eval")]
    #[command(
        after_help = "Exit codes: 0 written; 1 spec or evaluation errors, or a template that cannot be rendered; 2 usage (an unknown KPI, segment or dimension, a bad flag, an output that cannot be written)."
    )]
    Report(report::Args),
    /// The SQL that evaluates the query's datasets on a database, one statement per scan.
    #[cfg(feature = "eval")]
    #[command(
        after_help = "Exit codes: 0 printed; 1 spec errors, or an aggregate the dialect has only approximately; 2 usage (an unknown KPI, segment or dimension, a bad flag, an output that cannot be written)."
    )]
    Sql(sql::Args),
    /// The KPI catalog.
    List(list::Args),
    /// Run the spec's tests: inline rows in, expected values out.
    #[cfg(feature = "eval")]
    #[command(
        after_help = "Exit codes: 0 all tests pass; 1 a test fails or the spec has errors; 2 usage (an unknown test name)."
    )]
    Test(test::Args),
    /// What changed between two versions of a spec (paths or git revisions).
    #[cfg(feature = "eval")]
    Diff(diff::Args),
    /// Print the JSON Schema of spec files (for editors).
    Schema(schema::Args),
    /// Write the standard sales data model with generated data.
    #[command(
        after_help = "Exit codes: 0 written; 2 usage (files exist without --force, a folder that cannot be written)."
    )]
    Generate(generate::Args),
    /// Print a shell completion script: `kpi completions bash > /etc/bash_completion.d/kpi`.
    Completions(CompletionsArgs),
}

#[derive(clap::Args)]
struct CompletionsArgs {
    shell: clap_complete::Shell,
}

/// Exit codes (LANGUAGE.md §8): 0 ok, 1 findings, 2 usage.
pub const OK: u8 = 0;
pub const USAGE: u8 = 2;

pub fn run() -> ExitCode {
    kpi::quiet_engine_warnings();
    // Ctrl-C or SIGTERM while an output file is written: leave no temporary file behind.
    let _ = ctrlc::set_handler(|| {
        kpi::report::remove_temporary_files();
        std::process::exit(130);
    });
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        // `--help` and `--version` print as they are.
        Err(e) if !e.use_stderr() => {
            let _ = e.print();
            return ExitCode::from(OK);
        }
        Err(e) => return ExitCode::from(parse_error(&e)),
    };
    let _ = COLOR.set(match cli.color {
        ColorArg::Auto => None,
        ColorArg::Always => Some(true),
        ColorArg::Never => Some(false),
    });
    QUIET.store(cli.quiet, std::sync::atomic::Ordering::Relaxed);
    let code = match cli.command {
        Command::Completions(args) => {
            let mut text = Vec::new();
            clap_complete::generate(
                args.shell,
                &mut <Cli as clap::CommandFactory>::command(),
                "kpi",
                &mut text,
            );
            emit(None, &String::from_utf8_lossy(&text))
        }
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
        Command::Sql(args) => sql::run(&cli.spec, &args),
        #[cfg(feature = "eval")]
        Command::Status(args) => status::run(&cli.spec, &args),
        #[cfg(feature = "eval")]
        Command::Report(args) => report::run(&cli.spec, &args),
        #[cfg(feature = "eval")]
        Command::Test(args) => test::run(&cli.spec, &args),
    };
    // Database connections are closed, not left to the process's end: a
    // Spark Connect server keeps each connection's session until it has
    // been idle for its timeout, so every run left one behind (a small
    // server ran out of memory after a few dozen runs).
    #[cfg(feature = "eval")]
    kpi::data::adbc::disconnect();
    ExitCode::from(code)
}

/// The format of an output: `--format` when given, else the format that
/// the extension of `-o` names (`out.csv`, `out.md`), else `table`.
pub fn output_format<F: clap::ValueEnum + Copy>(flag: Option<F>, output: Option<&Path>, table: F) -> F {
    let named = || {
        let path = output.filter(|p| *p != Path::new("-"))?;
        F::from_str(path.extension()?.to_str()?, true).ok()
    };
    flag.or_else(named).unwrap_or(table)
}

/// A flag the parser refused (unknown, missing, or a value outside its
/// set), said as kpi's other command-line errors are, under a code of its
/// own (`kpi::usage`): the parser's message, its tips and the command's
/// usage as the help line.
fn parse_error(e: &clap::Error) -> u8 {
    // No command at all: the parser's overview of the commands is the help.
    if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
        let _ = e.print();
        return USAGE;
    }
    let text = e.render().to_string();
    // Blocks of lines apart by blank lines: the message (what it lists on
    // lines of its own included), then tips, possible values and usage.
    let mut message = Vec::new();
    let mut help = Vec::new();
    for (i, block) in text.split("\n\n").enumerate() {
        let lines = block.lines().map(str::trim).filter(|l| !l.is_empty());
        for line in lines {
            if let Some(tip) = line.strip_prefix("tip:") {
                help.push(tip.trim().to_string());
            } else if let Some(values) = line.strip_prefix("[possible values:") {
                help.push(format!("one of: {}", values.trim_end_matches(']').trim()));
            } else if let Some(usage) = line.strip_prefix("Usage:") {
                help.push(format!("usage: {}", usage.trim()));
            } else if i == 0 {
                message.push(line.trim_start_matches("error:").trim());
            }
        }
    }
    help.push("`--help` lists every flag".to_string());
    let message = match message.is_empty() {
        true => "the command line is not valid".to_string(),
        false => message.join(" "),
    };
    usage_error("kpi::usage", &message, &help.join("; "))
}

/// A command-line error, on stderr: `error[CODE]: MESSAGE`, the message
/// naming the flag or path at fault, then a help line. Gives the usage
/// exit code.
pub fn usage_error(code: &str, message: &str, help: &str) -> u8 {
    say_error(code, message, help);
    USAGE
}

/// Prints a command-line error as [`usage_error`] does. stderr may be
/// closed too; there is nowhere else to say it.
pub fn say_error(code: &str, message: &str, help: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "error[{code}]: {message}\n  help: {help}");
}

/// Why an output could not be written to `-o FILE` (`Some`) or standard
/// output.
pub fn output_failed(file: Option<&Path>, e: &dyn std::fmt::Display) -> u8 {
    match file {
        Some(path) => usage_error(
            "kpi::output_failed",
            &format!("cannot write {}: {e}", path.display()),
            "check that the folder exists, is writable and has room; a file is written whole or not at all, so nothing was left there",
        ),
        None => usage_error(
            "kpi::output_failed",
            &format!("cannot write standard output: {e}"),
            "check where standard output goes (a full disk, a closed file); or write to a file with -o",
        ),
    }
}

/// What a command writes under `-o`: every result format (`kpi eval`,
/// `kpi status`, `kpi list`), those that are text (`kpi list` of a
/// check-only build, which has no Parquet writer), or an HTML page (`kpi
/// report`).
#[derive(Clone, Copy, PartialEq, Eq)]
// A check-only build has no `kpi eval` or `kpi report`, and the default one
// always writes Parquet.
#[allow(dead_code)]
pub enum Writes {
    Results,
    TextOnly,
    Page,
}

/// Refuses Parquet for a terminal: it is binary, written to `-o FILE` or
/// to a pipe (`-o -`); `what` names the file in the help (`results`).
#[cfg(feature = "eval")]
pub fn parquet_needs_a_file(output: Option<&Path>, what: &str) -> Result<(), u8> {
    use std::io::IsTerminal;
    let to_terminal = output == Some(Path::new("-")) && std::io::stdout().is_terminal();
    if output.is_none() || to_terminal {
        return Err(usage_error(
            "kpi::flag_conflict",
            "--format parquet needs -o FILE",
            &format!("Parquet is binary: write it to a file (-o {what}.parquet) or a pipe (-o - | …), or choose csv or json for a terminal"),
        ));
    }
    Ok(())
}

/// Refuses `-o` naming a kind of file the command does not write (a
/// spreadsheet, a PDF, a web page for a table) when no `--format` says
/// what to write there: what it writes under that name is a file the
/// name's application cannot open.
pub fn foreign_output(format_given: bool, output: Option<&Path>, writes: Writes) -> Result<(), u8> {
    let Some(path) = output.filter(|_| !format_given) else {
        return Ok(());
    };
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
        .unwrap_or_default();
    let refused = match writes {
        Writes::Page => {
            not_a_page(&ext).map(|help| (format!("kpi report writes an HTML page, not a .{ext} file"), help))
        }
        // A build without evaluation writes no Parquet: it would fill such
        // a file with a table.
        Writes::TextOnly if matches!(ext.as_str(), "parquet" | "pq") => Some((
            format!("this build of kpi does not write .{ext} files"),
            "write CSV, JSON, NDJSON or Markdown (-o FILE.csv, .json, .ndjson, .md); a build with the default features writes Parquet",
        )),
        _ => not_a_table(&ext).map(|help| (format!("kpi does not write .{ext} files"), help)),
    };
    match refused {
        Some((why, help)) => Err(usage_error(
            "kpi::flag_conflict",
            &format!("-o {}: {why}", path.display()),
            help,
        )),
        None => Ok(()),
    }
}

/// What to write instead of a table under a name of extension `ext`, if
/// it names a kind of file no table is.
fn not_a_table(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "xlsx" | "xlsm" | "xls" | "ods" | "numbers" => {
            "write CSV (-o results.csv), which spreadsheets open; or give --format to write that format under this name"
        }
        "html" | "htm" => "`kpi report -o FILE.html` writes a page of the KPIs and targets; or give --format to write that format under this name",
        // A table drawn with box characters is no tab-separated file.
        "tsv" | "tab" => "write CSV (-o results.csv), which every tool that reads TSV reads too; or give --format to write that format under this name",
        "pdf" | "docx" | "doc" | "pptx" => {
            "write markdown (-o results.md) or a page with `kpi report -o FILE.html`; or give --format to write that format under this name"
        }
        _ => return None,
    })
}

/// How to make the file a name of extension `ext` asks for instead of the
/// HTML page, if it names another kind of file (`report.pdf`, `.png`,
/// `.csv`); `.html`, `.htm` and other names take the page.
fn not_a_page(ext: &str) -> Option<&'static str> {
    Some(match ext {
        "pdf" => {
            "write the page (-o report.html) and print it to PDF from a browser; it is laid out for print"
        }
        "png" | "jpg" | "jpeg" | "svg" => "write the page (-o report.html) and capture it from a browser",
        "csv" | "json" | "md" | "parquet" | "xlsx" => {
            "`kpi eval -o FILE` writes the values; `kpi report` writes one HTML page (-o report.html)"
        }
        _ => return None,
    })
}

/// Writes a command's output to `-o FILE` (whole or not at all, see
/// [`kpi::report::write_output`]) or to standard output. A closed pipe
/// (`kpi eval | head -1`) ends the output quietly; any other failure, such
/// as a full disk, is an error naming where the output was going.
pub fn emit(output: Option<&Path>, text: &str) -> u8 {
    emit_with(output, |w| w.write_all(text.as_bytes()))
}

/// Writes a command's output as [`emit`] does, with `write`, which may
/// write it a part at a time.
pub fn emit_with(
    output: Option<&Path>,
    write: impl FnOnce(&mut dyn std::io::Write) -> std::io::Result<()>,
) -> u8 {
    use std::io::Write;
    let written = match output {
        Some(path) if path != Path::new("-") => {
            // Parts of a few bytes (a table's rows) gathered before each write.
            kpi::report::write_output(path, |f| {
                let mut buffered = std::io::BufWriter::new(f);
                write(&mut buffered)?;
                buffered.flush()
            })
        }
        _ => {
            let mut out = std::io::stdout().lock();
            write(&mut out).and_then(|()| out.flush())
        }
    };
    match written {
        Ok(()) => OK,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => OK,
        Err(e) => output_failed(output.filter(|p| *p != Path::new("-")), &e),
    }
}

/// Whether a command prints the data's warnings (non-finite values,
/// skipped rows) beside its output: those that evaluate do.
#[cfg(feature = "eval")]
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum DataWarnings {
    Printed,
    Unsaid,
}

/// A query command's spec checked (schemas read) with its names, which
/// may be KPIs or funnels, and its `--by` and `--segment` names, split:
/// (the outcome, the funnels, the KPIs); or the exit code of its errors or
/// of a name it does not have.
#[cfg(feature = "eval")]
pub fn checked_names(
    spec: &Path,
    names: &[String],
    query: &eval::QueryArgs,
    warnings: DataWarnings,
) -> Result<(kpi::CheckOutcome, Vec<String>, Vec<String>), u8> {
    let outcome = kpi::check_path_with(spec, kpi::DataAccess::Schemas);
    if let Some(code) = report_spec_errors(&outcome) {
        return Err(code);
    }
    names::query_names(&outcome, names, &query.by, &query.segment)?;
    let (funnels, kpis) = names::funnels_and_kpis(&outcome.checked.model, names);
    if warnings == DataWarnings::Printed {
        let read = names::datasets_read(&outcome.checked.model, &kpis, &funnels);
        data_warnings(&outcome, &query.by, &read);
        unmatched_lookup_warnings(&outcome, &query.by, &read);
    }
    Ok((outcome, funnels, kpis))
}

/// Prints, on stderr, the lookups a `--by` (or a target's `by:`) groups
/// through whose keys no looked-up row holds (`kpi::lookup_unmatched`, as
/// `check --data` says it): their rows are the group without a member,
/// which says nothing of why. Only for the datasets the run reads
/// (`read`, by dataset), and only when a dimension is a looked-up column
/// (`teams.manager`, or `manager` that only a lookup has): it costs
/// another pass over the keys.
#[cfg(feature = "eval")]
pub fn unmatched_lookup_warnings(outcome: &kpi::CheckOutcome, by: &[String], read: &[bool]) {
    let model = &outcome.checked.model;
    let mut chosen = Vec::new();
    for ds in (0..model.datasets.len()).filter(|i| read.get(*i) == Some(&true)) {
        for dim in by {
            if let Some(li) =
                kpi::plan::lookup_of_dimension(model, ds, dim).filter(|li| !chosen.contains(&(ds, *li)))
            {
                chosen.push((ds, li));
            }
        }
    }
    if chosen.is_empty() {
        return;
    }
    let said = kpi::execute::unmatched_lookup_keys_of(model, &chosen);
    if !said.is_empty() {
        notice(&kpi::report::diagnostics::to_human(
            &said,
            &outcome.sources,
            color_stderr(),
        ));
    }
}

/// The KPIs a query naming none left out (`kpi::left_out`), on stderr.
#[cfg(feature = "eval")]
pub fn left_out_notice(left_out: &[kpi::diagnostic::Diagnostic]) {
    said_left_out(left_out, "left out (name KPIs to evaluate only those)");
}

/// The KPIs `left_out` (`kpi::left_out`), on stderr: `whence` they are
/// left out, and why each is.
#[cfg(feature = "eval")]
pub fn said_left_out(left_out: &[kpi::diagnostic::Diagnostic], whence: &str) {
    said_left_out_of((left_out, &[]), whence);
}

/// The KPIs and funnels left out (`kpi::left_out`), on stderr: `whence`
/// they are left out, and why each is.
#[cfg(feature = "eval")]
pub fn said_left_out_of(
    (kpis, funnels): (&[kpi::diagnostic::Diagnostic], &[kpi::diagnostic::Diagnostic]),
    whence: &str,
) {
    let counted = |list: &[kpi::diagnostic::Diagnostic], noun| {
        (!list.is_empty()).then(|| kpi::diagnostic::counted(list.len() as u64, noun))
    };
    let what: Vec<String> = [counted(kpis, "KPI"), counted(funnels, "funnel")]
        .into_iter()
        .flatten()
        .collect();
    if what.is_empty() {
        return;
    }
    let lines: Vec<String> = (kpis.iter().chain(funnels))
        .map(|d| format!("  - {}: {}\n", d.path.as_deref().unwrap_or(""), d.message))
        .collect();
    notice(&format!(
        "warning[kpi::left_out]: {} cannot take the query and {} {whence}:\n{}",
        what.join(" and "),
        if lines.len() == 1 { "is" } else { "are" },
        lines.concat()
    ));
}

/// `--color always|never`; `None` (auto): a terminal without NO_COLOR.
static COLOR: std::sync::OnceLock<Option<bool>> = std::sync::OnceLock::new();
/// `--quiet`: no notes or warnings on stderr.
static QUIET: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

fn color_for(terminal: bool) -> bool {
    match COLOR.get().copied().flatten() {
        Some(choice) => choice,
        None => std::env::var_os("NO_COLOR").is_none() && terminal,
    }
}

/// Colour on standard output: a terminal (or `--color always`), never under NO_COLOR.
pub fn color_stdout() -> bool {
    use std::io::IsTerminal;
    color_for(std::io::stdout().is_terminal())
}

pub fn color_stderr() -> bool {
    use std::io::IsTerminal;
    color_for(std::io::stderr().is_terminal())
}

/// A note or warning for stderr, unless `--quiet`.
#[cfg_attr(not(feature = "eval"), allow(dead_code))] // only commands that evaluate have notes
pub fn notice(text: &str) {
    if !QUIET.load(std::sync::atomic::Ordering::Relaxed) {
        use std::io::Write;
        let _ = write!(std::io::stderr(), "{text}");
    }
}

/// Warnings said on every run that reads the file, not only by `kpi check
/// --data`: a header naming two columns alike (which one a KPI reads), a
/// declared NDJSON field that no record holds (read as nulls, which a
/// misspelt name would be too), and CSV rows of no value that `count()`
/// counts (a spreadsheet's formatted empty rows).
const EVERY_RUN: [&str; 3] = [
    "kpi::repeated_column",
    "kpi::declared_field_absent",
    "kpi::empty_rows",
];

/// Prints, on stderr, the warnings of the data that every run says, and
/// those about the columns it groups `by`, of the datasets it reads
/// (`read`, by dataset): a file the run does not open is none of its
/// business.
#[cfg(feature = "eval")]
pub fn data_warnings(outcome: &kpi::CheckOutcome, by: &[String], read: &[bool]) {
    let grouped = |d: &kpi::diagnostic::Diagnostic| by.iter().any(|b| kpi::data::is_group_hint_about(d, b));
    // Each is placed at its dataset's `source:` or at a column it declares.
    let of_read = |d: &kpi::diagnostic::Diagnostic| {
        d.primary_span().is_some_and(|at| {
            outcome
                .checked
                .model
                .datasets
                .iter()
                .zip(read)
                .any(|(ds, &r)| r && (ds.source_span == at || ds.declared_at.contains(&at)))
        })
    };
    let said: Vec<_> = outcome
        .diagnostics
        .iter()
        .filter(|d| (EVERY_RUN.contains(&d.code) || grouped(d)) && of_read(d))
        .cloned()
        .collect();
    if !said.is_empty() {
        notice(&kpi::report::diagnostics::to_human(
            &said,
            &outcome.sources,
            color_stderr(),
        ));
    }
}

/// Prints a spec's errors (on stderr) and gives the exit code, if it has any.
pub fn report_spec_errors(outcome: &kpi::CheckOutcome) -> Option<u8> {
    if outcome.errors() == 0 {
        return None;
    }
    // Errors, and what the data says about them (a column read as text).
    let errors: Vec<_> = outcome
        .diagnostics
        .iter()
        .filter(|d| {
            d.is_error()
                || EVERY_RUN.contains(&d.code)
                || matches!(
                    d.code,
                    "kpi::mixed_column"
                        | "kpi::date_format_needed"
                        | "kpi::thousands_needed"
                        | "kpi::currency_needed"
                        | "kpi::percent_needed"
                )
        })
        .cloned()
        .collect();
    eprint!(
        "{}",
        kpi::report::diagnostics::to_human(&errors, &outcome.sources, color_stderr())
    );
    Some(outcome.exit_code(false).max(1))
}

/// `--as-of YYYY-MM-DD`, or the usage error's exit code.
#[cfg(feature = "eval")]
fn as_of(text: Option<&str>) -> Result<Option<kpi::time::Date>, u8> {
    match text.map(kpi::time::Date::parse) {
        None => Ok(None),
        Some(Some(d)) => Ok(Some(d)),
        Some(None) => Err(usage_error(
            "kpi::invalid_date",
            &format!("--as-of: `{}` is not a date", text.unwrap_or_default()),
            &eval::date_help(
                text.unwrap_or_default(),
                "write the date as YYYY-MM-DD, e.g. --as-of 2025-06-30",
                &kpi::period::Calendar::default(),
                false,
            ),
        )),
    }
}
