use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Output format (default: from the extension of -o: .csv, .json,
    /// .ndjson, .parquet, .md; otherwise a table).
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
    #[value(alias = "jsonl")]
    Ndjson,
    // Written by Polars, which a check-only build leaves out.
    #[cfg(feature = "eval")]
    Parquet,
    #[value(alias = "md")]
    Markdown,
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    if let Err(code) = super::foreign_output(
        args.format.is_some(),
        args.output.as_deref(),
        // A check-only build writes no Parquet.
        match cfg!(feature = "eval") {
            true => super::Writes::Results,
            false => super::Writes::TextOnly,
        },
    ) {
        return code;
    }
    let outcome = kpi::check_path(spec, false);
    if let Some(code) = super::report_spec_errors(&outcome) {
        return code;
    }
    let table = kpi::report::explain::catalog(&outcome.checked.model);
    let format = super::output_format(args.format, args.output.as_deref(), Format::Table);
    #[cfg(feature = "eval")]
    if let Format::Parquet = format {
        if let Err(code) = super::parquet_needs_a_file(args.output.as_deref(), "catalog") {
            return code;
        }
        return super::emit_with(args.output.as_deref(), |w| table.write_parquet(w));
    }
    let text = match format {
        // On a terminal, descriptions wrap to its width.
        Format::Table => match terminal_size::terminal_size().filter(|_| args.output.is_none()) {
            Some((terminal_size::Width(w), _)) => table.to_table_width(w),
            None => table.to_table(),
        },
        Format::Csv => table.to_csv(),
        Format::Json => table.to_json(),
        Format::Ndjson => table.to_ndjson(),
        #[cfg(feature = "eval")]
        Format::Parquet => String::new(),
        Format::Markdown => table.to_markdown(),
    };
    super::emit(args.output.as_deref(), &text)
}
