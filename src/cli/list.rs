use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    #[value(alias = "human")]
    Table,
    Json,
    Markdown,
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    let outcome = kpi::check_path(spec, false);
    if let Some(code) = super::report_spec_errors(&outcome) {
        return code;
    }
    let table = kpi::report::explain::catalog(&outcome.checked.model);
    let text = match args.format {
        // On a terminal, descriptions wrap to its width.
        Format::Table => match terminal_size::terminal_size().filter(|_| args.output.is_none()) {
            Some((terminal_size::Width(w), _)) => table.to_table_width(w),
            None => table.to_table(),
        },
        Format::Json => table.to_json(),
        Format::Markdown => table.to_markdown(),
    };
    super::emit(args.output.as_deref(), &text)
}
