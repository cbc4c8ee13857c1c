use std::path::{Path, PathBuf};

#[derive(clap::Args)]
pub struct Args {
    /// Tests to run (default: all).
    names: Vec<String>,
    /// Also write the results as JUnit XML to this file.
    #[arg(long)]
    junit: Option<PathBuf>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(Clone, Copy, PartialEq, clap::ValueEnum)]
enum Format {
    Human,
    Json,
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    let outcome = kpi::check_path(spec, false);
    if let Some(code) = super::report_spec_errors(&outcome) {
        return code;
    }
    let known: Vec<&str> = outcome.spec.tests.iter().map(|t| t.name.value.as_str()).collect();
    if let Some(unknown) = args.names.iter().find(|n| !known.contains(&n.as_str())) {
        eprintln!(
            "error: no test is named `{unknown}`{}",
            kpi::diagnostic::did_you_mean(unknown, known.iter().copied())
                .map(|s| format!("; did you mean `{s}`?"))
                .unwrap_or_default()
        );
        return super::USAGE;
    }
    let results = kpi::spec_test::run(
        &outcome.spec,
        &outcome.checked.model,
        &outcome.sources,
        &args.names,
    );
    match args.format {
        Format::Human => print!("{}", kpi::spec_test::to_human(&results)),
        Format::Json => println!("{}", serde_json::to_string_pretty(&results).unwrap_or_default()),
    }
    if let Some(path) = &args.junit {
        let xml = kpi::spec_test::junit::to_junit(&spec.display().to_string(), &results);
        if let Err(e) = kpi::report::write_atomic(path, |f| std::io::Write::write_all(f, xml.as_bytes())) {
            eprintln!("error: cannot write {}: {e}", path.display());
            return super::USAGE;
        }
    }
    if results.iter().all(|r| r.passed) {
        super::OK
    } else {
        1
    }
}
