//! `kpi report`: one self-contained HTML page of KPIs against their targets.
//! The numbers come from the same evaluation as `kpi eval`, `kpi status`
//! and funnels; this module only arranges them: a [`Page`] of plain values
//! (every text still raw), rendered by a minijinja template that escapes
//! everything it prints, with charts as inline SVG drawn by [`svg`].

pub mod svg;

use serde::Serialize;

use crate::check::ir::{Additivity, KpiId, Model};
use crate::diagnostic::Diagnostic;
use crate::execute::{self, Evaluation};
use crate::period::{Grain, Period};
use crate::plan::Query;
use crate::report::table::{Cell, NumberFormat};
use crate::spec::model::{Direction, Indicator, Keyword};
use crate::status::{assess::Status, StatusRow};
use crate::time::Date;

/// The built-in template; `--template FILE` replaces it.
pub const TEMPLATE: &str = include_str!("report.html.j2");

/// What the page is about (the flags of `kpi report`).
#[derive(Clone, Debug)]
pub struct Request {
    /// KPI names; empty for every KPI.
    pub kpis: Vec<String>,
    /// Funnel names; empty for every funnel.
    pub funnels: Vec<String>,
    pub query: Query,
    pub as_of: Option<Date>,
    pub title: String,
    /// When the page was made, shown only if given (the same inputs give the same bytes).
    pub stamp: Option<String>,
}

/// Everything on the page, as plain values.
#[derive(Debug, Serialize)]
pub struct Page {
    pub title: String,
    pub range: String,
    pub as_of: String,
    pub grain: String,
    pub segments: Vec<String>,
    pub by: Vec<String>,
    pub stamp: Option<String>,
    pub groups: Vec<Group>,
    pub targets: Vec<TargetCard>,
    pub funnels: Vec<FunnelCard>,
    pub breakdowns: Vec<Breakdown>,
    /// What the page leaves out: for the command to say, not for the page.
    #[serde(skip)]
    pub left_out: LeftOut,
    /// Every KPI by period: the compact table at the end.
    pub periods: Vec<String>,
    pub rows: Vec<(String, Vec<String>)>,
}

/// The KPIs and funnels that cannot take the page's query, none of them
/// named (LANGUAGE.md §4: those that can are shown, the others listed), each
/// a `kpi::left_out` warning saying why.
#[derive(Debug, Default)]
pub struct LeftOut {
    /// KPIs with no card: a `--segment` their datasets lack, periods of a
    /// KPI with no time column.
    pub kpis: Vec<Diagnostic>,
    /// Funnels with no card, for the same reasons.
    pub funnels: Vec<Diagnostic>,
    /// KPIs on the page with no breakdown: a `--by` their datasets lack.
    pub from_breakdowns: Vec<Diagnostic>,
}

#[derive(Debug, Serialize)]
pub struct Group {
    pub name: String,
    pub cards: Vec<KpiCard>,
}

#[derive(Debug, Serialize)]
pub struct KpiCard {
    pub name: String,
    pub title: String,
    pub description: Option<String>,
    pub owner: Option<String>,
    /// The latest complete period and its value, formatted by unit.
    pub period: String,
    pub value: String,
    pub vs_previous: Option<Change>,
    pub vs_year: Option<Change>,
    pub sparkline: String,
}

/// A change, with its sign coloured by the KPI's direction.
#[derive(Debug, Serialize)]
pub struct Change {
    pub text: String,
    /// ▲, ▼ or ▶.
    pub arrow: &'static str,
    /// `good`, `bad` or `flat`.
    pub tone: &'static str,
}

#[derive(Debug, Serialize)]
pub struct TargetCard {
    pub target: String,
    pub kpi: String,
    pub period: String,
    pub status: &'static str,
    pub icon: &'static str,
    pub actual: String,
    pub target_value: String,
    pub expected: String,
    pub projected: String,
    pub gap: String,
    /// How far past the target the value is (the gap, when it is
    /// negative, as a distance): what the card shows in its place.
    pub ahead: Option<String>,
    pub days_left: Option<i32>,
    pub bullet: String,
    /// For a per-member target: how many members are at each status.
    pub summary: String,
    /// Per-member rows of a `by` target, worst status first.
    pub members: Vec<MemberRow>,
}

#[derive(Debug, Serialize)]
pub struct MemberRow {
    pub member: String,
    pub status: &'static str,
    pub icon: &'static str,
    pub actual: String,
    pub target_value: String,
    /// The member's bullet bar (SVG): actual, pace, projection, target.
    pub bullet: String,
}

#[derive(Debug, Serialize)]
pub struct FunnelCard {
    pub name: String,
    pub title: String,
    pub steps: Vec<FunnelStep>,
    pub chart: String,
}

#[derive(Debug, Serialize)]
pub struct FunnelStep {
    pub step: String,
    pub count: String,
    pub conversion: String,
    pub leakage: String,
}

#[derive(Debug, Serialize)]
pub struct Breakdown {
    pub kpi: String,
    pub rows: Vec<(String, String)>,
}

/// Builds the page: the KPIs over the range by period, the targets' status,
/// the funnels, and with `--by` a breakdown of each KPI by member.
pub fn build(model: &Model, req: &Request) -> Result<Page, Vec<Diagnostic>> {
    let by_period = |req: &Request| Query {
        kpis: req.kpis.clone(),
        by: Vec::new(),
        ..req.query.clone()
    };
    // The page's KPIs, as the evaluation will choose them (cheap: no data).
    let (fitting, kpis_left_out) = crate::check::query::with_fitting_kpis(model, &by_period(req))?;
    let mut names = fitting.kpis.clone();
    for t in &model.targets {
        let k = &model.kpis[t.kpi].name;
        if !names.contains(k) {
            names.push(k.clone());
        }
    }
    let asked_range = req.query.range;
    // The days of the data beneath the page's KPIs and the targets' KPIs,
    // read once when the range or the as-of date needs them (the status
    // piece takes each target's latest date from them too).
    let spans = match (req.as_of, req.query.range) {
        (None, Some(_)) | (Some(_), None) => Some(execute::data_spans(model, &names)?),
        _ => None,
    };
    let days = spans.as_ref().and_then(data_days);
    // A page of a range that ends before the data does is as of the
    // range's last day: a report of last quarter shows the targets as they
    // stood at its end, not today's periods beside last quarter's months.
    // (A range reaching the data's end keeps each target's own as-of date.)
    let at_range_end;
    let req = match (req.as_of, req.query.range) {
        (None, Some(r)) if days.is_some_and(|(_, last)| r.end < last) => {
            at_range_end = Request {
                as_of: Some(r.end),
                ..req.clone()
            };
            &at_range_end
        }
        _ => req,
    };
    // Asked as of a day without a range, the page reads no data after that
    // day (as `kpi status` does): a sparkline ends in the as-of date's
    // period and counts only what had come by then. The KPIs by period run
    // over their data's days up to it (an as-of date after the data adds
    // no empty periods); the rest, with no periods, from any day.
    let up_to_as_of;
    let (req, by_period) = match (req.as_of, req.query.range) {
        (Some(as_of), None) => {
            up_to_as_of = until(req, ANY_DAY, as_of);
            let (first, last) = days.unwrap_or((as_of, as_of));
            let end = last.min(as_of);
            (&up_to_as_of, by_period(&until(req, first.min(end), end)))
        }
        _ => (req, by_period(req)),
    };
    let pieces = evaluate_pieces(model, req, &by_period, (&fitting.kpis, &names), spans.as_ref())?;
    let Pieces {
        ev,
        latest,
        statuses,
        funnels: (funnels, funnels_left_out),
        breakdowns: (breakdowns, from_breakdowns),
    } = pieces;
    let left_out = LeftOut {
        kpis: kpis_left_out,
        funnels: funnels_left_out,
        from_breakdowns,
    };
    let as_of = match req.as_of {
        Some(d) => d,
        None => ev
            .kpis
            .iter()
            .filter_map(|k| latest.get(k))
            .max()
            .copied()
            .unwrap_or_else(execute::today),
    };
    let periods = period_labels(&ev);
    let complete = complete_periods(model, &ev, &by_period, as_of);
    let (groups, rows) = kpi_cards(model, &ev, &periods, complete, by_period.grain);
    let range = range_label(asked_range, &periods);
    Ok(Page {
        title: req.title.clone(),
        range,
        as_of: as_of.to_string(),
        grain: by_period.grain.as_str().to_string(),
        segments: req.query.segments.clone(),
        by: req.query.by.clone(),
        stamp: req.stamp.clone(),
        groups,
        targets: target_cards(model, &statuses, as_of),
        funnels,
        breakdowns,
        left_out,
        periods,
        rows,
    })
}

/// The page's KPI cards, grouped under their headings in the order the
/// KPIs come, and the rows of the table of values (each KPI's title and
/// its values by period, formatted).
fn kpi_cards(
    model: &Model,
    ev: &Evaluation,
    periods: &[String],
    complete: usize,
    grain: Grain,
) -> (Vec<Group>, Vec<(String, Vec<String>)>) {
    let mut groups: Vec<Group> = Vec::new();
    let mut rows = Vec::new();
    for name in &ev.kpis {
        let Some(id) = model.kpi_id(name) else { continue };
        let values = column(ev, name);
        let card = kpi_card(model, id, periods, &values, complete, grain);
        rows.push((card.title.clone(), formatted(model, id, &values)));
        let group = group_of(model, id);
        match groups.iter_mut().find(|g| g.name == group) {
            Some(g) => g.cards.push(card),
            None => groups.push(Group {
                name: group,
                cards: vec![card],
            }),
        }
    }
    (groups, rows)
}

/// The range the page shows: the one asked, else its periods' first to last.
fn range_label(asked: Option<Period>, periods: &[String]) -> String {
    match (asked, periods.first(), periods.last()) {
        (Some(r), _, _) => format!("{} to {}", r.start, r.end),
        // One period (`--grain all` has the one, `all`): its label alone.
        (None, Some(a), Some(b)) if a == b => a.clone(),
        (None, Some(a), Some(b)) => format!("{a} to {b}"),
        _ => "no data".to_string(),
    }
}

/// The first day a page asked as of a day reads its funnels and breakdowns
/// from (they have no periods, so no spine is laid from it).
const ANY_DAY: Date = Date(-719_162);

/// The first and last days of the data of `spans` (the last never after
/// today; none without data): a KPI with no dated rows adds none.
fn data_days(spans: &execute::DataSpans) -> Option<(Date, Date)> {
    spans
        .values()
        .flatten()
        .copied()
        .reduce(|(a, b), (c, d)| (a.min(c), b.max(d)))
}

/// `req` over the days from `first` to `last`.
fn until(req: &Request, first: Date, last: Date) -> Request {
    Request {
        query: Query {
            range: Some(Period {
                start: first,
                end: last,
            }),
            ..req.query.clone()
        },
        ..req.clone()
    }
}

/// The numbers beneath the page, each from its own evaluation.
struct Pieces {
    ev: Evaluation,
    latest: std::collections::HashMap<String, Date>,
    statuses: Vec<StatusRow>,
    /// The funnels, and those left out.
    funnels: (Vec<FunnelCard>, Vec<Diagnostic>),
    /// The breakdowns, and the page's KPIs they leave out.
    breakdowns: (Vec<Breakdown>, Vec<Diagnostic>),
}

/// The KPIs by period, the targets' status, the funnels and the breakdowns
/// do not depend on one another, and none of them keeps both cores busy
/// alone (reading files, joins and the final steps run on one), so over
/// files they run side by side. Over connections they run one after the
/// other: a database file may take only one connection of a process.
fn evaluate_pieces(
    model: &Model,
    req: &Request,
    by_period: &Query,
    (kpis, names): (&[String], &[String]),
    spans: Option<&execute::DataSpans>,
) -> Result<Pieces, Vec<Diagnostic>> {
    let series = || execute::evaluate(model, by_period);
    // The latest data beneath the page's KPIs and the targets' KPIs, every
    // unit read once (or taken from the data's days read for the range):
    // the page's as-of date, and each target's (as `kpi status` decides
    // it). An as-of date given is every one of them.
    let status = || {
        let latest = match (req.as_of, spans) {
            (Some(_), _) => std::collections::HashMap::new(),
            (None, Some(spans)) => execute::latest_of(spans),
            (None, None) => execute::latest_dates(model, names)?,
        };
        let by_id = latest
            .iter()
            .filter_map(|(k, d)| model.kpi_id(k).map(|id| (id, *d)))
            .collect();
        // The targets on the page's segments; none, no cards.
        let asked = crate::status::targets_on(model, &[], &req.query.segments);
        let statuses = match asked.is_empty() {
            true => Vec::new(),
            false => crate::status::status_with_latest(model, &asked, req.as_of, by_id)?,
        };
        Ok((latest, statuses))
    };
    let funnels = || funnel_cards(model, &req.query, &req.funnels);
    let breakdowns = || breakdowns(model, req, kpis);
    let on_connections = model.has_connections();
    let (ev, status, funnels, breakdowns) = if on_connections {
        (series(), status(), funnels(), breakdowns())
    } else {
        std::thread::scope(|s| {
            let status = s.spawn(status);
            let funnels = s.spawn(funnels);
            let breakdowns = s.spawn(breakdowns);
            let ev = series();
            (ev, joined(status), joined(funnels), joined(breakdowns))
        })
    };
    // The first failure in page order, as when the pieces ran one by one.
    let ev = ev?;
    let (latest, statuses) = status?;
    Ok(Pieces {
        ev,
        latest,
        statuses,
        funnels: funnels?,
        breakdowns: breakdowns?,
    })
}

/// A piece's result; a piece that panicked is an evaluation error, not a crash.
fn joined<T>(h: std::thread::ScopedJoinHandle<'_, Result<T, Vec<Diagnostic>>>) -> Result<T, Vec<Diagnostic>> {
    h.join().unwrap_or_else(|payload| {
        let panic = crate::panics::message(payload.as_ref());
        Err(vec![execute::evaluation_error(&format!(
            "a part of the report failed unexpectedly ({panic})"
        ))])
    })
}

/// Renders the page with `template` (its name, as messages place it, and
/// its text; the built-in one by default).
pub fn render(page: &Page, template: Option<(&str, &str)>) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    // Every text is escaped, whatever the template's name.
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    let (name, text) = template.unwrap_or(("report.html", TEMPLATE));
    env.add_template(name, text).map_err(|e| e.to_string())?;
    let t = env.get_template(name).map_err(|e| e.to_string())?;
    t.render(minijinja::value::Serde(page)).map_err(|e| e.to_string())
}

fn period_labels(ev: &Evaluation) -> Vec<String> {
    let Ok(c) = ev.frame.column("period") else {
        return vec!["all".to_string()];
    };
    (0..ev.frame.height())
        .map(|i| {
            c.get(i)
                .ok()
                .and_then(|v| v.get_str().map(str::to_string))
                .unwrap_or_default()
        })
        .collect()
}

fn column(ev: &Evaluation, name: &str) -> Vec<Option<f64>> {
    let table = ev.frame.column(name).ok();
    (0..ev.frame.height())
        .map(|i| {
            table
                .and_then(|c| c.get(i).ok())
                .and_then(|v| v.extract::<f64>())
                .filter(|x| x.is_finite())
        })
        .collect()
}

/// How many leading periods are complete at `as_of` (the last one may not be).
fn complete_periods(model: &Model, ev: &Evaluation, q: &Query, as_of: Date) -> usize {
    let n = ev.frame.height();
    if q.grain == Grain::All || n == 0 {
        return n;
    }
    let labels = period_labels(ev);
    labels
        .iter()
        .take_while(|l| crate::period::parse_label(l, &model.calendar).is_some_and(|(_, p)| p.end <= as_of))
        .count()
        .max(1)
        .min(n)
}

/// A KPI's value as shown; a date or datetime KPI (computed as days or
/// microseconds since 1970) as the date or datetime.
fn format(model: &Model, id: KpiId, v: Option<f64>) -> String {
    formatted(model, id, &[v]).pop().unwrap_or_default()
}

/// A KPI's values side by side (by period, by member), with the same
/// decimals, as a table's column has them (`4.00` beside `3.76`); a value
/// alone with the decimals it has.
fn formatted(model: &Model, id: KpiId, values: &[Option<f64>]) -> Vec<String> {
    let k = &model.kpis[id];
    let f = NumberFormat::new(k.unit, k.decimals).for_column(values.iter().flatten().copied());
    values
        .iter()
        .map(|v| {
            v.and_then(|x| crate::report::table::temporal_text(k.ty, x))
                .unwrap_or_else(|| f.format(*v))
        })
        .collect()
}

fn group_of(model: &Model, id: KpiId) -> String {
    let k = &model.kpis[id];
    match (k.tags.first(), k.indicator) {
        // A tag as a heading: `pipeline_health` is "Pipeline health".
        (Some(t), _) => crate::spec::model::humanise(t),
        (None, Some(Indicator::Leading)) => "Leading indicators".to_string(),
        (None, Some(Indicator::Lagging)) => "Lagging indicators".to_string(),
        (None, None) => "KPIs".to_string(),
    }
}

/// Periods in a year at `grain` (for the change against a year earlier).
fn per_year(grain: Grain) -> usize {
    match grain {
        Grain::Day => 365,
        Grain::Week => 52,
        Grain::Month => 12,
        Grain::Quarter => 4,
        Grain::Year => 1,
        Grain::All => 0,
    }
}

fn kpi_card(
    model: &Model,
    id: KpiId,
    periods: &[String],
    values: &[Option<f64>],
    complete: usize,
    grain: Grain,
) -> KpiCard {
    let k = &model.kpis[id];
    let last = complete.checked_sub(1);
    let now = last.and_then(|i| values.get(i).copied().flatten());
    let earlier = |back: usize| {
        let i = last?.checked_sub(back)?;
        values.get(i).copied().flatten()
    };
    // A date KPI moves later or earlier, in days.
    let change = |then: Option<f64>| match crate::report::table::units_per_day(k.ty) {
        Some(d) => change_in_days(k.direction, now? / d, then? / d),
        None => change(k.direction, NumberFormat::new(k.unit, k.decimals), now, then),
    };
    let gaps = match k.additivity {
        Additivity::Additive => svg::Gaps::Zero,
        Additivity::NonAdditive => svg::Gaps::Gap,
    };
    let target = model
        .targets
        .iter()
        .find(|t| t.kpi == id && t.by.is_none())
        .and_then(|t| match t.goal {
            crate::check::ir::Goal::Value(v) => Some(v),
            _ => None,
        });
    let label = format!("{} by {}", k.title, grain.as_str());
    KpiCard {
        name: k.name.clone(),
        title: k.title.clone(),
        description: k.description.clone(),
        owner: k.owner.clone(),
        period: last.and_then(|i| periods.get(i).cloned()).unwrap_or_default(),
        value: format(model, id, now),
        vs_previous: change(earlier(1)),
        vs_year: match per_year(grain) {
            0 => None,
            n => change(earlier(n)),
        },
        sparkline: svg::sparkline(&label, values, gaps, target),
    }
}

/// `+3 days`, with its arrow and tone, for a date KPI.
fn change_in_days(direction: Direction, now: f64, then: f64) -> Option<Change> {
    let days = NumberFormat::new(Some(crate::spec::model::Unit::Days), None);
    let mut c = change(direction, days, Some(now), Some(then))?;
    let days = now - then;
    c.text = format!("{days:+.1} days").replace(".0 days", " days");
    Some(c)
}

/// `+12.0%` (or `+3.0 pp` for a percentage) with its arrow and tone; from
/// 0, the difference itself as the KPI's values read (`+1,235`).
fn change(direction: Direction, format: NumberFormat, now: Option<f64>, then: Option<f64>) -> Option<Change> {
    let (now, then) = (now?, then?);
    let delta = now - then;
    let text = match format.unit {
        Some(crate::spec::model::Unit::Percent) => format!("{:+.1} pp", delta * 100.0),
        _ if then != 0.0 => format!("{:+.1}%", delta / then.abs() * 100.0),
        _ => format.format_difference(delta),
    };
    let (arrow, better) = if delta > 0.0 {
        ("▲", direction == Direction::Up)
    } else if delta < 0.0 {
        ("▼", direction == Direction::Down)
    } else {
        return Some(Change {
            text,
            arrow: "▶",
            tone: "flat",
        });
    };
    Some(Change {
        text,
        arrow,
        tone: if better { "good" } else { "bad" },
    })
}

/// The null member of a breakdown or of a target by member (a deal with
/// no stage), as the page shows it.
const NO_MEMBER: &str = "(none)";

fn icon(s: Status) -> &'static str {
    match s {
        Status::Achieved => "✔",
        Status::OnTrack => "●",
        Status::AtRisk => "▲",
        Status::OffTrack => "✖",
        Status::Missed => "✖",
        Status::Upcoming => "○",
    }
}

/// Worst first: what needs attention leads.
fn severity(s: Status) -> u8 {
    match s {
        Status::Missed => 0,
        Status::OffTrack => 1,
        Status::AtRisk => 2,
        Status::OnTrack => 3,
        Status::Achieved => 4,
        Status::Upcoming => 5,
    }
}

/// A card per target: its current period (members of a `by` target in a table).
fn target_cards(model: &Model, rows: &[StatusRow], as_of: Date) -> Vec<TargetCard> {
    let mut out: Vec<TargetCard> = Vec::new();
    // Each target's rows, in one pass: a target per rep has thousands, and
    // filtering every row for each target compared names rows × targets times.
    let mut by_target: std::collections::HashMap<&str, Vec<&StatusRow>> = std::collections::HashMap::new();
    for r in rows {
        by_target.entry(r.target.as_str()).or_default().push(r);
    }
    for t in &model.targets {
        let mine = by_target.remove(t.name.as_str()).unwrap_or_default();
        let Some(last) = mine.last().map(|r| r.period.clone()) else {
            continue;
        };
        let current: Vec<&&StatusRow> = mine.iter().filter(|r| r.period == last).collect();
        let fmt = |v: Option<f64>| format(model, t.kpi, v);
        let k = &model.kpis[t.kpi];
        let gap = |g: Option<f64>| {
            crate::report::table::format_gap(g, k.unit, k.decimals).unwrap_or_else(|| fmt(g))
        };
        let Some(head) = current.iter().min_by_key(|r| severity(r.status)) else {
            continue;
        };
        let days_left = crate::period::parse_label(&last, &model.calendar)
            .map(|(_, p)| p.end)
            .or(match t.time {
                crate::check::ir::TargetTime::Fixed { period, .. } => Some(period.end),
                _ => None,
            })
            .map(|end| (end.0 - as_of.0).max(0));
        let bullet = |r: &StatusRow, label: &str| {
            r.target_value
                .map(|tv| svg::bullet(label, r.actual, r.expected, r.projected, tv))
                .unwrap_or_default()
        };
        // A target by member has a row per member, the null member (a
        // deal with no stage) too, shown as the breakdowns show it.
        let member_row = |r: &StatusRow| {
            let member = r.member.clone().unwrap_or_else(|| NO_MEMBER.to_string());
            MemberRow {
                bullet: bullet(r, &format!("{}, {member}: actual against target", t.name)),
                member,
                status: r.status.as_str(),
                icon: icon(r.status),
                actual: fmt(r.actual),
                target_value: fmt(r.target_value),
            }
        };
        let mut members: Vec<MemberRow> = match t.by {
            Some(_) => current.iter().map(|r| member_row(r)).collect(),
            None => Vec::new(),
        };
        members.sort_by_key(|m| {
            let s = crate::spec::model::Status::parse(m.status).map_or(9, severity);
            (s, m.member.clone())
        });
        let label = format!("{}: actual against target", t.name);
        let mut counts: Vec<(u8, &'static str, usize)> = Vec::new();
        for r in &current {
            match counts.iter_mut().find(|c| c.1 == r.status.as_str()) {
                Some(c) => c.2 += 1,
                None => counts.push((severity(r.status), r.status.as_str(), 1)),
            }
        }
        counts.sort();
        let summary = counts
            .iter()
            .map(|(_, s, n)| format!("{n} {}", s.replace('_', " ")))
            .collect::<Vec<_>>()
            .join(", ");
        out.push(TargetCard {
            target: t.name.clone(),
            kpi: model.kpis[t.kpi].title.clone(),
            period: last,
            status: head.status.as_str(),
            icon: icon(head.status),
            actual: fmt(head.actual),
            target_value: fmt(head.target_value),
            expected: fmt(head.expected),
            projected: fmt(head.projected),
            gap: gap(head.gap),
            ahead: head.gap.filter(|g| *g < 0.0).map(|g| gap(Some(-g))),
            days_left,
            bullet: bullet(head, &label),
            summary,
            members,
        });
    }
    out
}

/// The funnels the page shows: those `named`, or every funnel that can
/// take the query, and a `kpi::left_out` warning for each of the others.
fn fitting_funnels(model: &Model, named: &[String], whole: &Query) -> (Vec<String>, Vec<Diagnostic>) {
    if !named.is_empty() {
        return (named.to_vec(), Vec::new());
    }
    let mut fit = Vec::new();
    let mut left_out = Vec::new();
    for f in &model.funnels {
        match crate::plan::plan_funnel(model, &f.name, whole) {
            Some(Err(why)) => left_out.extend(
                why.first()
                    .map(|d| crate::check::diagnostics::left_out(&f.name, d)),
            ),
            _ => fit.push(f.name.clone()),
        }
    }
    (fit, left_out)
}

/// The funnels' cards over the whole range, every member together, and
/// the funnels left out.
fn funnel_cards(
    model: &Model,
    q: &Query,
    names: &[String],
) -> Result<(Vec<FunnelCard>, Vec<Diagnostic>), Vec<Diagnostic>> {
    let whole = Query {
        by: Vec::new(),
        grain: Grain::All,
        ..q.clone()
    };
    let (names, left_out) = fitting_funnels(model, names, &whole);
    if names.is_empty() {
        return Ok((Vec::new(), left_out));
    }
    let ev = execute::evaluate_funnels(model, &names, &whole)?;
    let table = ev.table();
    let col = |name: &str| table.columns.iter().position(|c| c == name);
    let (Some(f), Some(s), Some(c), Some(cv), Some(l)) = (
        col("funnel"),
        col("step"),
        col("count"),
        col("conversion"),
        col("leakage"),
    ) else {
        return Ok((Vec::new(), left_out));
    };
    let text = |cell: &Cell| match cell {
        Cell::Text(t) => t.clone().unwrap_or_default(),
        Cell::Number(_) => String::new(),
    };
    let mut out: Vec<FunnelCard> = Vec::new();
    let mut counts: Vec<Vec<(String, f64)>> = Vec::new();
    for row in &table.rows {
        let name = text(&row[f]);
        if out.last().is_none_or(|x| x.name != name) {
            let title = model
                .funnels
                .iter()
                .find(|x| x.name == name)
                .map(|x| x.title.clone());
            out.push(FunnelCard {
                title: title.unwrap_or_else(|| name.clone()),
                name: name.clone(),
                steps: Vec::new(),
                chart: String::new(),
            });
            counts.push(Vec::new());
        }
        let count = match row[c] {
            Cell::Number(x) => x.unwrap_or(0.0),
            _ => 0.0,
        };
        let pct = |cell: &Cell| match cell {
            Cell::Number(x) => NumberFormat::new(Some(crate::spec::model::Unit::Percent), Some(1)).format(*x),
            _ => String::new(),
        };
        if let (Some(card), Some(cs)) = (out.last_mut(), counts.last_mut()) {
            card.steps.push(FunnelStep {
                step: text(&row[s]),
                count: NumberFormat::new(Some(crate::spec::model::Unit::Count), None).format(Some(count)),
                conversion: pct(&row[cv]),
                leakage: pct(&row[l]),
            });
            cs.push((text(&row[s]), count));
        }
    }
    for (card, cs) in out.iter_mut().zip(&counts) {
        card.chart = svg::funnel(&format!("{}: count per step", card.title), cs);
    }
    Ok((out, left_out))
}

/// With `--by`: each of the page's `kpis` by member of `--by` over the
/// whole range, and those that cannot take it, left out (`kpi::left_out`),
/// named or not: their cards stay.
fn breakdowns(
    model: &Model,
    req: &Request,
    kpis: &[String],
) -> Result<(Vec<Breakdown>, Vec<Diagnostic>), Vec<Diagnostic>> {
    if req.query.by.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    let mut q = Query {
        kpis: Vec::new(),
        grain: Grain::All,
        ..req.query.clone()
    };
    let ids = kpis.iter().filter_map(|n| model.kpi_id(n));
    let (fit, left_out, _) = crate::check::query::fitting_of(model, &q, ids);
    q.kpis = fit;
    if q.kpis.is_empty() {
        return Ok((Vec::new(), left_out));
    }
    let ev = execute::evaluate(model, &q)?;
    let members: Vec<String> = (0..ev.frame.height())
        .map(|i| {
            ev.dims
                .iter()
                .map(|d| {
                    ev.frame
                        .column(d)
                        .ok()
                        .and_then(|c| c.get(i).ok())
                        .and_then(|v| v.get_str().map(str::to_string))
                        .unwrap_or_else(|| NO_MEMBER.to_string())
                })
                .collect::<Vec<_>>()
                .join(" · ")
        })
        .collect();
    let tables = ev
        .kpis
        .iter()
        .filter_map(|name| {
            let id = model.kpi_id(name)?;
            let values = column(&ev, name);
            Some(Breakdown {
                kpi: model.kpis[id].title.clone(),
                rows: members
                    .iter()
                    .cloned()
                    .zip(formatted(model, id, &values))
                    .collect(),
            })
        })
        .collect();
    Ok((tables, left_out))
}
