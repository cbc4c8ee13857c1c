//! `kpi diff --values`: both versions of the changed and affected KPIs
//! evaluated on the same data, and the values that moved.

use serde::ser::SerializeStruct;
use serde::{Serialize, Serializer};

use super::{Change, ChangeKind};
use crate::check::ir::{KpiKind, Model, TimeBasis};
use crate::check::types::Type;
use crate::diagnostic::Diagnostic;
use crate::plan::Query;
use crate::report::table::{temporal_text, units_per_day, Cell, NumberFormat, ResultTable};
use crate::spec::model::{Keyword, Status};
use crate::status::StatusRow;

/// A KPI value that differs between the versions.
#[derive(Clone, Debug, PartialEq)]
pub struct ValueChange {
    pub kpi: String,
    /// The `--by` values and the period, as labelled in `kpi eval`.
    pub group: Group,
    pub old: Option<f64>,
    pub new: Option<f64>,
    /// The KPI's type: a date or datetime KPI's values (days or
    /// microseconds since 1970) are shown as dates (in JSON too, as `kpi
    /// eval` writes them), their move in days.
    pub ty: Type,
    /// How the new version's KPI reads (unit, decimals), for people.
    pub format: NumberFormat,
}

impl Serialize for ValueChange {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_struct("ValueChange", 4)?;
        m.serialize_field("kpi", &self.kpi)?;
        m.serialize_field("group", &self.group)?;
        match units_per_day(self.ty) {
            Some(_) => {
                let date = |x: Option<f64>| x.and_then(|x| temporal_text(self.ty, x));
                m.serialize_field("old", &date(self.old))?;
                m.serialize_field("new", &date(self.new))?;
            }
            None => {
                m.serialize_field("old", &self.old)?;
                m.serialize_field("new", &self.new)?;
            }
        }
        m.end()
    }
}

/// Which version's data sources both versions read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DataFrom {
    Old,
    New,
}

/// The KPIs whose values `kpi diff --values` compares.
#[derive(Debug, Default)]
pub struct Candidates {
    pub kpis: Vec<String>,
    /// Changed KPIs that cannot take the query (`--by`, `--segment`, a
    /// grain) in one version or both: `kpi::left_out`, each with why.
    pub left_out: Vec<Diagnostic>,
}

/// KPIs in both versions whose values may differ and that take the query:
/// the changed and affected ones, and, when the query applies a segment
/// that changed, every KPI.
pub fn candidates(changes: &[Change], (old, new): (&Model, &Model), query: &Query) -> Candidates {
    // Why the KPI cannot take the query, in the new version or the old.
    let refusal = |k: &str| {
        [new, old].into_iter().find_map(|m| {
            let id = m.kpi_id(k)?;
            let why = crate::check::query::kpi_refusals(m, query, id)
                .into_iter()
                .next()?;
            Some(crate::check::diagnostics::left_out(k, &why))
        })
    };
    let mut out = Candidates::default();
    let changed = changed_in_both(changes, "kpi", |m, n| m.kpi_id(n).is_some(), old, new);
    for k in changed {
        match refusal(&k) {
            Some(why) => out.left_out.push(why),
            None => out.kpis.push(k),
        }
    }
    if in_changed_segment(changes, query) {
        for k in &new.kpis {
            if old.kpi_id(&k.name).is_some() && !out.kpis.contains(&k.name) && refusal(&k.name).is_none() {
                out.kpis.push(k.name.clone());
            }
        }
    }
    out
}

/// Funnels in both versions whose steps' values may differ: the changed and
/// affected ones, and, when the query applies a segment that changed, every
/// funnel that takes the query in both versions.
pub fn funnel_candidates(changes: &[Change], (old, new): (&Model, &Model), query: &Query) -> Vec<String> {
    let mut funnels = changed_in_both(changes, "funnel", crate::execute::is_funnel, old, new);
    if in_changed_segment(changes, query) {
        let takes = |m: &Model, f: &str| matches!(crate::plan::plan_funnel(m, f, query), Some(Ok(_)));
        for f in &new.funnels {
            if takes(new, &f.name) && takes(old, &f.name) && !funnels.contains(&f.name) {
                funnels.push(f.name.clone());
            }
        }
    }
    funnels
}

/// Whether the query applies (`--segment`) a segment whose definition changed.
fn in_changed_segment(changes: &[Change], query: &Query) -> bool {
    changes
        .iter()
        .any(|c| c.entity == "segment" && c.kind == ChangeKind::Changed && query.segments.contains(&c.name))
}

/// The changed or affected `entity`s that both versions have.
fn changed_in_both(
    changes: &[Change],
    entity: &str,
    has: impl Fn(&Model, &str) -> bool,
    old: &Model,
    new: &Model,
) -> Vec<String> {
    changes
        .iter()
        .filter(|c| c.entity == entity && matches!(c.kind, ChangeKind::Changed | ChangeKind::Affected { .. }))
        .map(|c| c.name.clone())
        .filter(|n| has(old, n) && has(new, n))
        .collect()
}

/// The `--by` values and period of a row, as (column, value); a null
/// member is `None` (JSON's `null`, as `kpi eval` writes it), apart from
/// a member that is the empty text.
type Group = Vec<(String, Option<String>)>;

/// A result's values of one KPI (or funnel measure), by group.
type Values = Vec<(Group, Option<f64>)>;

fn rows(t: &ResultTable, kpi: &str) -> Values {
    let k = t.columns.iter().position(|c| c == kpi);
    t.rows
        .iter()
        .map(|r| {
            // A funnel's rows are its own: its name is no part of the group.
            let group = t
                .columns
                .iter()
                .zip(r)
                .filter_map(|(c, cell)| match cell {
                    Cell::Text(_) if c == "funnel" => None,
                    Cell::Text(v) => Some((c.clone(), v.clone())),
                    Cell::Number(_) => None,
                })
                .collect();
            let value = match k.and_then(|i| r.get(i)) {
                Some(Cell::Number(x)) => *x,
                _ => None,
            };
            (group, value)
        })
        .collect()
}

/// Those of `kpis` that are (or are computed from) a stock taken at the
/// start (`at: start`), whose value under `--grain all` without a range is
/// taken the day before the data's first (nothing is active yet: 0 in
/// both versions), so that a change to them shows only by a grain or in a
/// range.
pub fn unseen_at_start(model: &Model, kpis: &[String], query: &Query) -> Vec<String> {
    if query.grain != crate::period::Grain::All || query.range.is_some() {
        return Vec::new();
    }
    kpis.iter()
        .filter(|k| {
            model.kpi_id(k).is_some_and(|id| {
                model.bases_beneath(&[id]).iter().any(|&b| {
                    matches!(
                        &model.kpis[b].kind,
                        KpiKind::Base {
                            time: TimeBasis::Active { at_start: true, .. },
                            ..
                        }
                    )
                })
            })
        })
        .cloned()
        .collect()
}

/// Evaluates `kpis` and `funnels` in both versions (reading one version's
/// data, as [`on_one_data`] makes them) and returns the values that differ
/// (relative tolerance 1e-9); a funnel's as `funnel.count`,
/// `funnel.conversion`, … by step.
pub fn values(
    (old_model, new_model): (&Model, &Model),
    (kpis, funnels): (&[String], &[String]),
    query: &Query,
) -> Result<Vec<ValueChange>, Vec<Diagnostic>> {
    if kpis.is_empty() && funnels.is_empty() {
        return Ok(Vec::new());
    }
    let mut out = Vec::new();
    if !kpis.is_empty() {
        let q = Query {
            kpis: kpis.to_vec(),
            ..query.clone()
        };
        // KPIs as numbers: a date KPI shown as text would be taken for a key.
        let before = crate::execute::evaluate(old_model, &q)?.numbers(old_model);
        let after = crate::execute::evaluate(new_model, &q)?.numbers(new_model);
        for k in kpis {
            let kpi = new_model.kpi_id(k).map(|id| &new_model.kpis[id]);
            let ty = kpi.map_or(Type::Unknown, |k| k.ty);
            let format = kpi.map_or_else(NumberFormat::default, |k| NumberFormat::new(k.unit, k.decimals));
            let (was, is) = (rows(&before, k), rows(&after, k));
            out.extend(moved(k, (was, is), ty, format));
        }
    }
    for f in funnels {
        let q = Query {
            kpis: Vec::new(),
            ..query.clone()
        };
        let one = std::slice::from_ref(f);
        let before = crate::execute::evaluate_funnels(old_model, one, &q)?.table();
        let after = crate::execute::evaluate_funnels(new_model, one, &q)?.table();
        for (measure, unit) in crate::execute::FUNNEL_MEASURES {
            let (was, is) = (rows(&before, measure), rows(&after, measure));
            let format = NumberFormat::new(Some(unit), None);
            out.extend(moved(&format!("{f}.{measure}"), (was, is), Type::Number, format));
        }
    }
    Ok(out)
}

/// Both versions reading one version's data: its files, or its tables
/// through its connections. [`values`] and [`statuses`] compare these.
pub fn on_one_data((old, new): (&Model, &Model), data_from: DataFrom) -> (Model, Model) {
    let (mut old_model, mut new_model) = (old.clone(), new.clone());
    let (from, to) = match data_from {
        DataFrom::New => (new, &mut old_model),
        DataFrom::Old => (old, &mut new_model),
    };
    to.connections = from.connections.clone();
    for d in &mut to.datasets {
        if let Some(src) = from.datasets.iter().find(|x| x.name == d.name) {
            d.source = src.source.clone();
            d.format = src.format;
            d.read = src.read.clone();
            d.remote = src.remote.clone();
        }
    }
    (old_model, new_model)
}

/// Targets in both versions whose status rows may differ.
pub fn target_candidates(changes: &[Change], (old, new): (&Model, &Model)) -> Vec<String> {
    let has = |m: &Model, n: &str| m.targets.iter().any(|t| t.name == n);
    changed_in_both(changes, "target", has, old, new)
}

/// Where a target's row stands in one version.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Standing {
    pub status: Status,
    #[serde(serialize_with = "crate::status::raw_number")]
    pub actual: Option<f64>,
    #[serde(serialize_with = "crate::status::raw_number")]
    pub target_value: Option<f64>,
}

/// A target's row (by member and period) whose status, actual or target
/// value differs between the versions; a row one version has not is
/// `None` on that side.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct StatusChange {
    pub target: String,
    pub member: Option<String>,
    pub period: String,
    pub old: Option<Standing>,
    pub new: Option<Standing>,
    /// How the new version's KPI reads, for people.
    #[serde(skip)]
    pub format: NumberFormat,
    /// Whether the target is by member: its row of no member (`None`) is
    /// the null member's, shown as `(none)`.
    #[serde(skip)]
    pub by_member: bool,
}

/// The status rows of `targets` in both versions (reading one version's
/// data, as [`on_one_data`] makes them; each target's as-of date the latest
/// day of data beneath its KPI, as `kpi status` takes it, within `range`)
/// that differ.
pub fn statuses(
    (old_model, new_model): (&Model, &Model),
    targets: &[String],
    range: Option<crate::period::Period>,
) -> Result<Vec<StatusChange>, Vec<Diagnostic>> {
    if targets.is_empty() {
        return Ok(Vec::new());
    }
    let rows = |m: &Model| crate::status::status_over(m, targets, None, range, Default::default());
    let (was, is) = (rows(old_model)?, rows(new_model)?);
    type Key = (String, Option<String>, String);
    let key = |r: &StatusRow| -> Key { (r.target.clone(), r.member.clone(), r.period.clone()) };
    let standing = |r: &StatusRow| Standing {
        status: r.status,
        actual: r.actual,
        target_value: r.target_value,
    };
    let was_by_key: std::collections::HashMap<Key, Standing> =
        was.iter().map(|r| (key(r), standing(r))).collect();
    let is_keys: std::collections::HashSet<Key> = is.iter().map(key).collect();
    let now_and_then = is
        .iter()
        .map(|r| (key(r), was_by_key.get(&key(r)).cloned(), Some(standing(r))));
    let gone = (was.iter())
        .filter(|r| !is_keys.contains(&key(r)))
        .map(|r| (key(r), Some(standing(r)), None));
    let target_of = |name: &str| new_model.targets.iter().find(|t| t.name == name);
    let format_of = |target: &str| {
        let k = target_of(target).map(|t| &new_model.kpis[t.kpi]);
        k.map_or_else(NumberFormat::default, |k| NumberFormat::new(k.unit, k.decimals))
    };
    Ok(now_and_then
        .chain(gone)
        .filter(|(_, then, now)| !same_standing(then.as_ref(), now.as_ref()))
        .map(|((target, member, period), old, new)| StatusChange {
            format: format_of(&target),
            by_member: target_of(&target).is_some_and(|t| t.by.is_some()),
            target,
            member,
            period,
            old,
            new,
        })
        .collect())
}

/// Whether two standings are the same, numbers within a relative 1e-9.
fn same_standing(a: Option<&Standing>, b: Option<&Standing>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => {
            a.status == b.status
                && same_number(a.actual, b.actual)
                && same_number(a.target_value, b.target_value)
        }
        (None, None) => true,
        _ => false,
    }
}

fn same_number(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(a), Some(b)) => (a - b).abs() <= 1e-9 * a.abs().max(b.abs()),
        (None, None) => true,
        _ => false,
    }
}

/// A status change for people: the status's move, then the actual's and
/// the target value's where they move (`on_track → at_risk; target
/// 3,000,000 → 3,500,000`); a row one version has not, as `none`.
fn status_line(c: &StatusChange) -> String {
    let mut parts = Vec::new();
    let status = |s: Option<&Standing>| s.map_or("none", |s| s.status.as_str());
    let (old, new) = (c.old.as_ref(), c.new.as_ref());
    parts.push(match (old, new) {
        (Some(a), Some(b)) if a.status == b.status => a.status.as_str().to_string(),
        _ => format!("{} → {}", status(old), status(new)),
    });
    let number = |x: Option<f64>| match x {
        Some(x) => c.format.format(Some(x)),
        None => "null".to_string(),
    };
    for (what, a, b) in [
        (
            "target",
            old.and_then(|s| s.target_value),
            new.and_then(|s| s.target_value),
        ),
        ("actual", old.and_then(|s| s.actual), new.and_then(|s| s.actual)),
    ] {
        if !same_number(a, b) {
            parts.push(format!("{what} {} → {}", number(a), number(b)));
        }
    }
    parts.join("; ")
}

/// Where a status change is: its member and period.
fn status_place(c: &StatusChange) -> String {
    match (&c.member, c.by_member) {
        (Some(m), _) => format!("member={m}, period={}", c.period),
        (None, true) => format!("member=(none), period={}", c.period),
        (None, false) => format!("period={}", c.period),
    }
}

/// The status changes for people.
pub fn statuses_to_human(changes: &[StatusChange]) -> String {
    if changes.is_empty() {
        return "no target statuses change\n".to_string();
    }
    let mut s = String::from("target statuses that change:\n");
    for c in changes {
        s.push_str(&format!(
            "  {} [{}]: {}\n",
            c.target,
            status_place(c),
            status_line(c)
        ));
    }
    s
}

/// The status changes as a Markdown table.
pub fn statuses_to_markdown(changes: &[StatusChange]) -> String {
    if changes.is_empty() {
        return "\nNo target statuses change.\n".to_string();
    }
    let mut s =
        String::from("\n#### Target statuses that change\n\n| target | where | change |\n|---|---|---|\n");
    for c in changes {
        s.push_str(&format!(
            "| `{}` | {} | {} |\n",
            c.target,
            crate::report::text::markdown_cell(&status_place(c)),
            crate::report::text::markdown_cell(&status_line(c))
        ));
    }
    s
}

/// The values of `name` that differ from the old version's rows to the
/// new's, by group.
fn moved(name: &str, (was, is): (Values, Values), ty: Type, format: NumberFormat) -> Vec<ValueChange> {
    let was_by_group: std::collections::HashMap<&Group, Option<f64>> =
        was.iter().map(|(g, v)| (g, *v)).collect();
    let is_by_group: std::collections::HashSet<&Group> = is.iter().map(|(g, _)| g).collect();
    // Groups of the old version only (a member the new filter leaves
    // without rows, a period labelled otherwise) had values too.
    let gone = was
        .iter()
        .filter(|(g, _)| !is_by_group.contains(g))
        .map(|(g, v)| (g.clone(), *v, None));
    let now_and_then = is.iter().map(|(g, now)| {
        let then = was_by_group.get(g).copied().flatten();
        (g.clone(), then, *now)
    });
    let mut out = Vec::new();
    for (group, then, now) in now_and_then.chain(gone) {
        if !same_number(then, now) {
            out.push(ValueChange {
                kpi: name.to_string(),
                group,
                old: then,
                new: now,
                ty,
                format,
            });
        }
    }
    out
}

/// A value as people read it: by the KPI's unit, as `kpi eval`'s table
/// shows it (a date KPI's as its day or instant); no value as `null`.
fn value(v: &ValueChange, x: Option<f64>) -> String {
    match x {
        None => "null".to_string(),
        Some(x) => temporal_text(v.ty, x).unwrap_or_else(|| v.format.format(Some(x))),
    }
}

/// The move, by the KPI's unit: a percentage's in points, a date's in
/// days, any other's with its relative change.
fn change(v: &ValueChange) -> String {
    use crate::spec::model::Unit;
    let (Some(a), Some(b)) = (v.old, v.new) else {
        return String::new();
    };
    if let Some(per_day) = units_per_day(v.ty) {
        let days = (b - a) / per_day;
        let sign = if days >= 0.0 { "+" } else { "" };
        return format!("{sign}{} days", NumberFormat::new(None, None).format(Some(days)));
    }
    if v.format.unit == Some(Unit::Percent) {
        return NumberFormat {
            points: true,
            ..v.format
        }
        .format(Some(b - a));
    }
    let d = v.format.format_difference(b - a);
    if a == 0.0 {
        d
    } else {
        format!("{d} ({:+.1}%)", (b / a - 1.0) * 100.0)
    }
}

fn where_(v: &ValueChange) -> String {
    let g: Vec<String> = v
        .group
        .iter()
        .map(|(c, x)| format!("{c}={}", x.as_deref().unwrap_or("(none)")))
        .collect();
    if g.is_empty() {
        "all".to_string()
    } else {
        g.join(", ")
    }
}

/// The moved values for people.
pub fn to_human(values: &[ValueChange]) -> String {
    if values.is_empty() {
        return "no values change\n".to_string();
    }
    let mut s = String::from("values that change:\n");
    for v in values {
        let line = format!(
            "  {} [{}]: {} → {} {}",
            v.kpi,
            where_(v),
            value(v, v.old),
            value(v, v.new),
            change(v)
        );
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

/// The moved values as a Markdown table.
pub fn to_markdown(values: &[ValueChange]) -> String {
    if values.is_empty() {
        return "\nNo KPI values change.\n".to_string();
    }
    let mut s = String::from(
        "\n#### Values that change\n\n| KPI | where | old | new | change |\n|---|---|---:|---:|---:|\n",
    );
    for v in values {
        s.push_str(&format!(
            "| `{}` | {} | {} | {} | {} |\n",
            v.kpi,
            crate::report::text::markdown_cell(&where_(v)),
            value(v, v.old),
            value(v, v.new),
            change(v)
        ));
    }
    s
}
