//! Names given on the command line (KPIs, funnels, targets, tests, segments,
//! dimensions): an unknown one is a usage error with a did-you-mean, so a
//! typo never silently turns a command (or a CI gate) into a no-op.

use kpi::check::ir::Model;

/// One name of a comma-separated flag (`--by owner, region`): without the
/// spaces around it, and without backticks, as a column with a space is
/// written in expressions (`--by '`Deal Owner`'`).
pub fn listed_name(text: &str) -> Result<String, String> {
    let name = text.trim();
    if name.is_empty() {
        return Err("an empty name: a comma or space with no name after it".to_string());
    }
    Ok(name
        .strip_prefix('`')
        .and_then(|n| n.strip_suffix('`'))
        .unwrap_or(name)
        .to_string())
}

/// One name of a command's list of KPIs, targets or tests, comma-separated
/// or one per argument: as [`listed_name`], but a piece with no name is
/// left for [`given`] to drop, so that `kpi eval won_revenue, win_rate`
/// (a comma typed as in a sentence) lists two KPIs.
pub fn listed_name_or_none(text: &str) -> Result<String, String> {
    match text.trim().is_empty() {
        true => Ok(String::new()),
        false => listed_name(text),
    }
}

/// The names of a list read by [`listed_name_or_none`].
pub fn given(names: &[String]) -> Vec<String> {
    names.iter().filter(|n| !n.is_empty()).cloned().collect()
}

/// Prints the usage error for `name`, unknown among `known`; gives the exit code.
pub fn unknown<'a>(
    what: &str,
    flag: &str,
    name: &str,
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> u8 {
    // The codes of the same mistake in a spec.
    let code = match what {
        "segment" => "kpi::unknown_segment",
        "dimension" => "kpi::unknown_dimension",
        "target" => "kpi::unknown_target",
        "test" => "kpi::unknown_test",
        _ => "kpi::unknown_kpi",
    };
    super::usage_error(
        code,
        &format!("{flag}: no {what} is named `{name}`"),
        &kpi::diagnostic::suggestion(name, known, what),
    )
}

/// The first of `names` not in `known`, reported.
pub fn all_known<'a>(
    what: &str,
    flag: &str,
    names: &[String],
    known: impl IntoIterator<Item = &'a str> + Clone,
) -> Result<(), u8> {
    let list: Vec<&str> = known.clone().into_iter().collect();
    match names.iter().find(|n| !list.contains(&n.as_str())) {
        Some(n) => Err(unknown(what, flag, n, known)),
        None => Ok(()),
    }
}

/// The first of `names` given twice, reported: its output column would
/// stand twice (`eval won_revenue won_revenue`, `--by owner,owner`).
fn each_once(what: &str, flag: &str, names: &[String]) -> Result<(), u8> {
    let twice = names.iter().enumerate().find(|(i, n)| names[..*i].contains(n));
    match twice {
        Some((_, n)) => Err(super::usage_error(
            "kpi::named_twice",
            &format!("{flag}: `{n}` is named twice"),
            &format!("name each {what} once"),
        )),
        None => Ok(()),
    }
}

/// KPI (or funnel) names, `--by` dimensions and `--segment` names of a
/// query. A `--by` that no column read has, where a source could not be
/// read, is said as that source's failure (a missing file, a driver not
/// found): that is the reason, not the name.
pub fn query_names(
    outcome: &kpi::CheckOutcome,
    kpis: &[String],
    by: &[String],
    segments: &[String],
) -> Result<(), u8> {
    let model = &outcome.checked.model;
    let measures = model
        .kpis
        .iter()
        .map(|k| k.name.as_str())
        .chain(model.funnels.iter().map(|f| f.name.as_str()));
    all_known("KPI or funnel", "KPI", kpis, measures)?;
    each_once("KPI or funnel", "KPI", kpis)?;
    each_once("dimension", "--by", by)?;
    all_known(
        "segment",
        "--segment",
        segments,
        model.segments.iter().map(|s| s.name.as_str()),
    )?;
    // A dataset whose columns are unknown (its source unreadable) could
    // have any dimension: the query's check reports it if it is used.
    if model.datasets.iter().any(|d| d.columns.is_empty()) {
        return Ok(());
    }
    let dims = dimension_names(model);
    // A typo (a close name exists) is said as one.
    let unexplained = by.iter().any(|b| {
        !dims.contains(b) && kpi::diagnostic::did_you_mean(b, dims.iter().map(String::as_str)).is_none()
    });
    if !outcome.unread.is_empty() && unexplained {
        eprint!(
            "{}",
            kpi::report::diagnostics::to_human(&outcome.unread, &outcome.sources, super::color_stderr())
        );
        return Err(1);
    }
    all_known("dimension", "--by", by, dims.iter().map(String::as_str))
}

/// Every name `--by` could take on some dataset: columns, dimensions and
/// looked-up columns (`teams.manager` and `manager`).
fn dimension_names(model: &Model) -> Vec<String> {
    let mut out = Vec::new();
    for d in &model.datasets {
        out.extend(d.columns.iter().map(|(c, _)| c.clone()));
        out.extend(d.dimensions.iter().map(|x| x.name.clone()));
        for l in &d.lookups {
            let t = &model.datasets[l.dataset];
            for (c, _) in &t.columns {
                out.push(format!("{}.{c}", t.name));
                out.push(c.clone());
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Names given as measures, split into funnels and KPIs (a name is one or the other).
/// The funnels a command runs: those `named`, or with no name at all and
/// a spec of funnels alone (no KPI to take), every funnel.
pub fn funnels_to_run(model: &Model, named: Vec<String>, names: &[String]) -> Vec<String> {
    match names.is_empty() && model.kpis.is_empty() {
        true => model.funnels.iter().map(|f| f.name.clone()).collect(),
        false => named,
    }
}

/// The datasets (by id) a query of `kpis` and `funnels` reads; of every
/// KPI and funnel when it names none.
#[cfg(feature = "eval")]
pub fn datasets_read(model: &Model, kpis: &[String], funnels: &[String]) -> Vec<bool> {
    let every = kpis.is_empty() && funnels.is_empty();
    let kpis: Vec<_> = match every {
        true => (0..model.kpis.len()).collect(),
        false => kpis.iter().filter_map(|k| model.kpi_id(k)).collect(),
    };
    let funnels: Vec<_> = (0..model.funnels.len())
        .filter(|&f| every || funnels.contains(&model.funnels[f].name))
        .collect();
    model.datasets_read(&kpis, &funnels)
}

pub fn funnels_and_kpis(model: &Model, names: &[String]) -> (Vec<String>, Vec<String>) {
    names
        .iter()
        .cloned()
        .partition(|n| kpi::execute::is_funnel(model, n))
}
