use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Tests to run (default: all).
    #[arg(value_delimiter = ',', value_parser = super::names::listed_name_or_none)]
    names: Vec<String>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Format {
    #[value(alias = "table")]
    Human,
    Json,
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    let names = super::names::given(&args.names);
    let outcome = kpi::check_path(spec, false);
    if let Some(code) = super::report_spec_errors(&outcome) {
        return code;
    }
    let known: Vec<&str> = outcome
        .checked
        .model
        .tests
        .iter()
        .map(|t| t.name.as_str())
        .collect();
    if let Err(code) = super::names::all_known("test", "TEST", &names, known.iter().copied()) {
        return code;
    }
    let results = kpi::spec_test::run(&outcome.spec, &outcome.checked.model, &outcome.sources, &names);
    let text = match args.format {
        Format::Human => kpi::spec_test::to_human(&results),
        Format::Json => serde_json::to_string_pretty(&results).unwrap_or_default() + "\n",
    };
    let written = super::emit(args.output.as_deref(), &text);
    if written != super::OK {
        return written;
    }
    if let Some(path) = &args.junit {
        let xml = kpi::spec_test::junit::to_junit(&spec.display().to_string(), &results);
        let written = super::emit(Some(path), &xml);
        if written != super::OK {
            return written;
        }
    }
    if results.iter().all(|r| r.passed) {
        super::OK
    } else {
        1
    }
}
