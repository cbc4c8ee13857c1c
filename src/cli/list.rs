use std::path::Path;

#[derive(clap::Args)]
pub struct Args {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    format: Format,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Format {
    Table,
    Json,
    Markdown,
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    let outcome = kpi::check_path(spec, false);
    if let Some(code) = super::report_spec_errors(&outcome) {
        return code;
    }
    let table = kpi::report::explain::catalog(&outcome.spec, &outcome.checked.model);
    print!(
        "{}",
        match args.format {
            Format::Table => table.to_table(),
            Format::Json => table.to_json(),
            Format::Markdown => table.to_markdown(),
        }
    );
    super::OK
}
