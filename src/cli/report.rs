use std::path::{Path, PathBuf};

use super::eval::{GrainArg, QueryArgs};

#[derive(clap::Args)]
pub struct Args {
    /// KPIs and funnels on the page (default: every KPI and every funnel); every target is shown (with --segment, those on it).
    #[arg(value_delimiter = ',', value_parser = super::names::listed_name_or_none)]
    kpis: Vec<String>,
    /// A breakdown of each KPI by these dimensions (comma-separated).
    #[arg(long, value_delimiter = ',', value_parser = super::names::listed_name)]
    by: Vec<String>,
    /// Periods of the sparklines and of the changes.
    #[arg(long, value_enum, default_value_t = GrainArg::Month)]
    grain: GrainArg,
    /// First day of the range (with --to).
    #[arg(long, requires = "to")]
    from: Option<String>,
    /// Last day of the range, inclusive (with --from).
    #[arg(long, requires = "from")]
    to: Option<String>,
    /// A period label as the range: 2025, 2025-Q3, FY2025, …
    #[arg(long, conflicts_with_all = ["from", "to"])]
    period: Option<String>,
    /// Apply these segments (comma-separated; all of them).
    #[arg(long, value_delimiter = ',', value_parser = super::names::listed_name)]
    segment: Vec<String>,
    /// The day the page is as of (default: the latest day with data, as `kpi status` decides).
    #[arg(long, value_name = "YYYY-MM-DD")]
    as_of: Option<String>,
    /// The page's title.
    #[arg(long, default_value = "Sales KPIs")]
    title: String,
    /// Show when the page was made (off: the same inputs give the same bytes).
    #[arg(long)]
    stamp: bool,
    /// A minijinja template to render instead of the built-in one.
    #[arg(long, value_name = "FILE")]
    template: Option<PathBuf>,
    /// Write to this file (whole or not at all); `-` or none: standard output.
    #[arg(long, short)]
    output: Option<PathBuf>,
}

pub fn run(spec: &Path, args: &Args) -> u8 {
    if let Err(code) = super::foreign_output(false, args.output.as_deref(), super::Writes::Page) {
        return code;
    }
    let kpis = super::names::given(&args.kpis);
    let flags = QueryArgs {
        by: args.by.clone(),
        grain: args.grain,
        from: args.from.clone(),
        to: args.to.clone(),
        period: args.period.clone(),
        segment: args.segment.clone(),
    };
    // Names may be KPIs or funnels: each picks its cards (none named: all).
    let (outcome, funnels, kpis) =
        match super::checked_names(spec, &kpis, &flags, super::DataWarnings::Printed) {
            Ok(checked) => checked,
            Err(code) => return code,
        };
    let model = &outcome.checked.model;
    let query = match flags.query(kpis.clone(), &model.calendar) {
        Ok(q) => q,
        Err(code) => return code,
    };
    let as_of = match super::as_of(args.as_of.as_deref()) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let template = match &args.template {
        None => None,
        Some(p) => match std::fs::read_to_string(p) {
            Ok(t) => Some((p.display().to_string(), t)),
            Err(e) => return super::usage_error(
                "kpi::template_error",
                &format!("--template: cannot read {}: {e}", p.display()),
                "give the path of a minijinja HTML template (kpi's own is src/report/html/report.html.j2)",
            ),
        },
    };
    let request = kpi::report::html::Request {
        kpis,
        funnels,
        query,
        as_of,
        title: args.title.clone(),
        stamp: args.stamp.then(|| format!("{} (UTC)", kpi::execute::today())),
    };
    let page = match kpi::report::html::build(model, &request) {
        Ok(p) => p,
        Err(d) => {
            eprint!(
                "{}",
                kpi::report::diagnostics::to_human(&d, &outcome.sources, super::color_stderr())
            );
            return 1;
        }
    };
    let left = &page.left_out;
    super::said_left_out_of(
        (&left.kpis, &left.funnels),
        "left out of the page (name them to show only those)",
    );
    super::said_left_out(
        &left.from_breakdowns,
        "left out of the breakdowns (the page's cards show them)",
    );
    let template = template
        .as_ref()
        .map(|(name, text)| (name.as_str(), text.as_str()));
    match kpi::report::html::render(&page, template) {
        Ok(html) => {
            let to = args.output.as_deref().filter(|p| *p != Path::new("-"));
            super::emit(to, &html)
        }
        Err(e) => {
            super::say_error(
                "kpi::template_error",
                &format!("--template: the template cannot be rendered: {e}"),
                "check the template's {{ }} and {% %} tags and the names it uses against kpi's own, src/report/html/report.html.j2",
            );
            1
        }
    }
}
