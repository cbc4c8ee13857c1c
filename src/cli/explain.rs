use std::path::Path;

use kpi::plan::Query;

#[derive(clap::Args)]
pub struct Args {
    /// KPIs to explain (default: all); their query plan is shown together.
    kpis: Vec<String>,
    /// Group by these dimensions (comma-separated), as `eval` would.
    #[arg(long, value_delimiter = ',')]
    by: Vec<String>,
    /// Time bucket, as `eval` would.
    #[arg(long, value_enum, default_value_t = super::eval::GrainArg::All)]
    grain: super::eval::GrainArg,
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    let outcome = kpi::check_path(spec, false);
    if let Some(code) = super::report_spec_errors(&outcome) {
        return code;
    }
    let model = &outcome.checked.model;
    let mut ids = Vec::new();
    for name in &args.kpis {
        match model.kpi_id(name) {
            Some(id) => ids.push(id),
            None => {
                let help =
                    kpi::diagnostic::suggestion(name, model.kpis.iter().map(|k| k.name.as_str()), "KPI");
                eprintln!("error[kpi::unknown_kpi]: no KPI is named `{name}`\n  help: {help}");
                return 1;
            }
        }
    }
    if ids.is_empty() {
        ids = (0..model.kpis.len()).collect();
    }
    for &id in &ids {
        println!("{}", kpi::report::explain::describe_kpi(model, id));
    }
    let query = Query {
        kpis: ids.iter().map(|&i| model.kpis[i].name.clone()).collect(),
        by: args.by.clone(),
        grain: args.grain.into(),
        ..Query::default()
    };
    match kpi::execute::describe(&outcome.spec, model, &query) {
        Ok(units) => {
            println!(
                "query plan: {} scan{} and group-by{} (one per dataset and time basis)",
                units.len(),
                if units.len() == 1 { "" } else { "s" },
                if units.len() == 1 { "" } else { "s" }
            );
            for (title, plan) in units {
                println!("\n── {title}\n{plan}");
            }
            super::OK
        }
        Err(diags) => {
            eprint!(
                "{}",
                kpi::report::diagnostics::to_human(&diags, &outcome.sources, super::color_stderr())
            );
            1
        }
    }
}
