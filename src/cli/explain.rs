use std::path::Path;

#[derive(clap::Args)]
pub struct Args {
    /// KPIs to explain (default: all); their query plan is shown together.
    #[arg(value_delimiter = ',', value_parser = super::names::listed_name_or_none)]
    kpis: Vec<String>,
    /// The query's flags, as `eval` takes them.
    #[command(flatten)]
    query: super::eval::QueryArgs,
    /// Write to this file (whole or not at all) instead of standard output.
    #[arg(long, short)]
    output: Option<std::path::PathBuf>,
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    let kpis = super::names::given(&args.kpis);
    let q = &args.query;
    let (outcome, funnels, named) = match super::checked_names(spec, &kpis, q, super::DataWarnings::Unsaid) {
        Ok(checked) => checked,
        Err(code) => return code,
    };
    let model = &outcome.checked.model;
    let funnels = super::names::funnels_to_run(model, funnels, &kpis);
    let mut ids: Vec<usize> = named.iter().filter_map(|n| model.kpi_id(n)).collect();
    if kpis.is_empty() {
        ids = (0..model.kpis.len()).collect();
    }
    let mut text = String::new();
    for &id in &ids {
        text.push_str(&kpi::report::explain::describe_kpi(model, id));
        text.push('\n');
    }
    let query = match q.query(
        ids.iter().map(|&i| model.kpis[i].name.clone()).collect(),
        &model.calendar,
    ) {
        Ok(query) => query,
        Err(code) => return code,
    };
    let kpis = match ids.is_empty() {
        true => Ok(Vec::new()),
        false => kpi::execute::describe(model, &query),
    };
    let plans = funnels.iter().fold(kpis, |acc, f| {
        let mut all = acc?;
        all.extend(kpi::execute::describe_funnel(model, f, &query)?);
        Ok(all)
    });
    match plans {
        Ok(units) => {
            let s = if units.len() == 1 { "" } else { "s" };
            text.push_str(&format!(
                "query plan: {} scan{s} and group-by{s} (one per dataset and time basis; the inner query of a nested aggregate and a funnel's steps have their own)\n",
                units.len()
            ));
            for (title, plan) in units {
                text.push_str(&format!("\n── {title}\n{plan}\n"));
            }
            super::emit(args.output.as_deref(), &text)
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
