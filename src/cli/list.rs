use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Output format (default: from the extension of -o: .csv, .json, .md;
    /// otherwise a table).
    #[arg(long, value_enum)]
    format: Option<Format>,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    #[value(alias = "human")]
    Table,
    Csv,
    Json,
    #[value(alias = "md")]
    Markdown,
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    if let Err(code) = super::foreign_output(
        args.format.is_some(),
        args.output.as_deref(),
        super::Writes::Reports,
    ) {
        return code;
    }
    let outcome = kpi::check_path(spec, false);
    if let Some(code) = super::report_spec_errors(&outcome) {
        return code;
    }
    let table = kpi::report::explain::catalog(&outcome.checked.model);
    let text = match super::output_format(args.format, args.output.as_deref(), Format::Table) {
        // On a terminal, descriptions wrap to its width.
        Format::Table => match terminal_size::terminal_size().filter(|_| args.output.is_none()) {
            Some((terminal_size::Width(w), _)) => table.to_table_width(w),
            None => table.to_table(),
        },
        Format::Csv => table.to_csv(),
        Format::Json => table.to_json(),
        Format::Markdown => table.to_markdown(),
    };
    super::emit(args.output.as_deref(), &text)
}
