//! `kpi diff`: what changed between two versions of a spec, by meaning.
//! Expressions are compared in normal form (whitespace, quoting and the
//! order of commutative operands do not count; a changed filter does), and
//! KPIs above a changed one are reported as affected.

pub mod git;
#[cfg(feature = "eval")]
pub mod values;

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use serde::Serialize;

use crate::spec::model::{ExprField, Keyword, Name, PeriodSpec, ReadOptions, Row, Spec, TableSource, Value};
use crate::syntax::normalize::normal_form;

/// How an entity differs.
#[derive(Clone, Debug, PartialEq, Serialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum ChangeKind {
    Added,
    Removed,
    /// Removed under `from`, added under the new name with the same definition.
    Renamed {
        from: String,
    },
    /// Its definition changed: its values may change.
    Changed,
    /// Only descriptive fields changed (title, unit, owner, …): values do not.
    Described,
    /// Its own definition is the same, but something beneath it changed.
    Affected {
        through: Vec<String>,
    },
}

/// A field's old and new normal form (empty: not set; `null` in JSON).
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct FieldChange {
    pub field: String,
    #[serde(serialize_with = "text_or_null")]
    pub old: String,
    #[serde(serialize_with = "text_or_null")]
    pub new: String,
}

/// A field that is not set as JSON's `null`, not an empty text.
fn text_or_null<S: serde::Serializer>(v: &str, s: S) -> Result<S::Ok, S::Error> {
    match v {
        "" => s.serialize_none(),
        v => s.serialize_str(v),
    }
}

#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Change {
    /// `calendar`, `connection`, `dataset`, `segment`, `kpi`, `target`, `funnel` or `test`.
    pub entity: &'static str,
    pub name: String,
    #[serde(flatten)]
    pub kind: ChangeKind,
    pub fields: Vec<FieldChange>,
}

/// An entity's fields in normal form: those that define its values, then
/// those that only describe it.
struct Print {
    definition: Vec<Field>,
    description: Vec<Field>,
}

/// A field's name, its normal form (compared) and its text as written (shown).
type Field = (&'static str, String, String);

fn expr(f: Option<&ExprField>) -> String {
    match f {
        Some(ExprField { expr: Some(e), .. }) => normal_form(e),
        Some(f) => f.text.trim().to_string(),
        None => String::new(),
    }
}

fn written(f: &Option<ExprField>) -> String {
    f.as_ref().map(|f| f.text.trim().to_string()).unwrap_or_default()
}

/// The `title` and `description` fields.
fn titled(
    title: &Option<crate::spec::model::Text>,
    description: &Option<crate::spec::model::Text>,
) -> Vec<Field> {
    vec![
        plain("title", opt(title.as_ref().map(|t| &t.value))),
        plain("description", opt(description.as_ref().map(|t| &t.value))),
    ]
}

/// A field compared as shown.
fn plain(name: &'static str, value: String) -> Field {
    (name, value.clone(), value)
}

/// An expression field, compared in normal form.
fn expression(name: &'static str, f: &Option<ExprField>) -> Field {
    (name, expr(f.as_ref()), written(f))
}

fn opt<T: ToString>(x: Option<T>) -> String {
    x.map(|v| v.to_string()).unwrap_or_default()
}

fn kw<K: Keyword + PartialEq>(x: Option<K>) -> String {
    x.map(|k| k.as_str().to_string()).unwrap_or_default()
}

fn kpis(spec: &Spec) -> Vec<(String, Print)> {
    spec.kpis
        .iter()
        .map(|k| {
            let p = Print {
                definition: vec![
                    plain("dataset", opt(k.dataset.as_ref().map(|d| &d.value))),
                    expression("measure", &k.measure),
                    expression("where", &k.filter),
                    plain("time", opt(k.time.as_ref().map(|d| &d.value))),
                    plain("active.from", opt(k.active.as_ref().map(|a| &a.from.value))),
                    plain(
                        "active.to",
                        opt(k.active.as_ref().and_then(|a| a.to.as_ref()).map(|t| &t.value)),
                    ),
                    plain("at", kw(k.at.as_ref().map(|a| a.value))),
                ],
                description: [
                    titled(&k.title, &k.description),
                    vec![
                        plain("unit", kw(k.unit.as_ref().map(|u| u.value))),
                        plain("decimals", opt(k.decimals.as_ref().map(|d| d.value))),
                        plain("direction", kw(k.direction.as_ref().map(|d| d.value))),
                        plain("indicator", kw(k.indicator.as_ref().map(|d| d.value))),
                        plain("owner", opt(k.owner.as_ref().map(|t| &t.value))),
                        plain(
                            "tags",
                            k.tags
                                .iter()
                                .map(|t| t.value.as_str())
                                .collect::<Vec<_>>()
                                .join(", "),
                        ),
                    ],
                ]
                .concat(),
            };
            (k.name.value.clone(), p)
        })
        .collect()
}

fn datasets(spec: &Spec) -> Vec<(String, Print)> {
    spec.datasets
        .iter()
        .map(|d| {
            let mut columns: Vec<String> = d
                .columns
                .iter()
                .map(|(c, t)| format!("{}: {}", c.value, t.value.as_str()))
                .collect();
            columns.sort();
            // Compared in normal form, shown as written, in name order.
            let dims = |text: &dyn Fn(&ExprField) -> String| -> String {
                let mut each: Vec<(&str, String)> = d
                    .dimensions
                    .iter()
                    .map(|(n, e)| (n.value.as_str(), text(e)))
                    .collect();
                each.sort();
                let each: Vec<String> = each.into_iter().map(|(n, e)| format!("{n} = {e}")).collect();
                each.join(", ")
            };
            let mut lookups: Vec<String> = d
                .lookups
                .iter()
                .map(|l| format!("{} on {} = {}", l.dataset.value, l.left.value, l.right.value))
                .collect();
            lookups.sort();
            let source = match (&d.source, &d.table) {
                (Some(s), _) => s.value.clone(),
                (None, Some(t)) => table_source(t),
                (None, None) => String::new(),
            };
            let p = Print {
                definition: vec![
                    plain("source", source),
                    plain("read", read_options(&d.read)),
                    plain("format", kw(d.format.as_ref().map(|f| f.value))),
                    plain("time", opt(d.time.as_ref().map(|t| &t.value))),
                    plain("columns", columns.join(", ")),
                    (
                        "dimensions",
                        dims(&|e| expr(Some(e))),
                        dims(&|e| e.text.trim().to_string()),
                    ),
                    plain("lookups", lookups.join(", ")),
                ],
                description: vec![plain(
                    "description",
                    opt(d.description.as_ref().map(|t| &t.value)),
                )],
            };
            (d.name.value.clone(), p)
        })
        .collect()
}

/// A table or query of a connection: `warehouse: table analytics.deals`.
fn table_source(t: &TableSource) -> String {
    let what = match (&t.table, &t.query) {
        (Some(table), _) => format!("table {}", table.value),
        (None, Some(q)) => format!(
            "query {}",
            q.value.split_whitespace().collect::<Vec<_>>().join(" ")
        ),
        (None, None) => String::new(),
    };
    format!("{}: {what}", t.connection.value)
}

/// The `read:` options that are set, in the order the language lists them.
fn read_options(r: &ReadOptions) -> String {
    let text = |name: &str, v: &Option<crate::spec::model::Text>| {
        v.as_ref().map(|t| format!("{name} {:?}", t.value))
    };
    let nulls: Vec<String> = r.null_values.iter().map(|t| format!("{:?}", t.value)).collect();
    [
        r.delimiter
            .as_ref()
            .map(|c| format!("delimiter {:?}", c.value.to_string())),
        (!nulls.is_empty()).then(|| format!("null_values [{}]", nulls.join(", "))),
        r.decimal_comma.then(|| "decimal_comma".to_string()),
        r.thousands
            .as_ref()
            .map(|c| format!("thousands {:?}", c.value.to_string())),
        text("currency", &r.currency),
        r.percent.then(|| "percent".to_string()),
        text("date_format", &r.date_format),
        text("datetime_format", &r.datetime_format),
        text("timezone", &r.timezone),
        r.encoding
            .as_ref()
            .map(|e| format!("encoding {}", e.value.as_str())),
        r.on_error
            .as_ref()
            .map(|e| format!("on_error {}", e.value.as_str())),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(", ")
}

/// The calendar, as one entity: it moves weeks and fiscal periods.
fn calendar(spec: &Spec) -> Vec<(String, Print)> {
    let c = spec.calendar.clone().unwrap_or_default();
    let p = Print {
        definition: vec![
            plain("week_start", c.week_start.as_str().to_string()),
            plain("fiscal_year_start", c.fiscal_year_start.to_string()),
        ],
        description: Vec::new(),
    };
    vec![("calendar".to_string(), p)]
}

/// Connections: where datasets on them are read (the URI as written, a
/// `${VAR}` most often; a password written there is not shown).
fn connections(spec: &Spec) -> Vec<(String, Print)> {
    spec.connections
        .iter()
        .map(|c| {
            let mut options: Vec<String> = c
                .options
                .iter()
                .map(
                    |(k, v)| match crate::spec::env::is_secret_option(&k.value) && !v.value.contains("${") {
                        true => format!("{} = (a secret)", k.value),
                        false => format!("{} = {}", k.value, hidden(&v.value)),
                    },
                )
                .collect();
            options.sort();
            let p = Print {
                definition: vec![
                    plain("driver", opt(c.driver.as_ref().map(|d| &d.value))),
                    plain("uri", opt(c.uri.as_ref().map(|u| hidden(&u.value)))),
                    plain("dialect", kw(c.dialect.as_ref().map(|d| d.value))),
                    plain("options", options.join(", ")),
                ],
                description: Vec::new(),
            };
            (c.name.value.clone(), p)
        })
        .collect()
}

/// A connection's text as a diff shows it: a `${VAR}` as written, a literal
/// value only when it holds no password (`user:secret@host`).
fn hidden(text: &str) -> String {
    let literal_secret = !crate::spec::env::password_spans(text).is_empty();
    match literal_secret {
        true => "(a URI with a password)".to_string(),
        false => text.to_string(),
    }
}

fn segments(spec: &Spec) -> Vec<(String, Print)> {
    spec.segments
        .iter()
        .map(|s| {
            let p = Print {
                definition: vec![expression("where", &s.filter)],
                description: titled(&s.title, &s.description),
            };
            (s.name.value.clone(), p)
        })
        .collect()
}

fn targets(spec: &Spec) -> Vec<(String, Print)> {
    spec.targets
        .iter()
        .map(|t| {
            let period = t.period.as_ref().map(|p| period_text(&p.value));
            let p = Print {
                definition: vec![
                    plain("kpi", opt(t.kpi.as_ref().map(|k| &k.value))),
                    plain("segment", opt(t.segment.as_ref().map(|k| &k.value))),
                    plain("by", opt(t.by.as_ref().map(|k| &k.value))),
                    plain("period", opt(period)),
                    plain("every", kw(t.every.as_ref().map(|g| g.value))),
                    plain("value", opt(t.value.as_ref().map(|v| v.value))),
                    plain(
                        "change",
                        opt(t
                            .change
                            .as_ref()
                            .map(|c| format!("{:?} {}", c.value.kind, c.value.amount))),
                    ),
                    plain(
                        "baseline",
                        opt(t.baseline.as_ref().map(|b| format!("{:?}", b.value))),
                    ),
                    plain("tolerance", opt(t.tolerance.as_ref().map(|v| v.value))),
                    plain("pacing", kw(t.pacing.as_ref().map(|p| p.value))),
                ],
                description: vec![
                    plain("objective", opt(t.objective.as_ref().map(|x| &x.value))),
                    plain("owner", opt(t.owner.as_ref().map(|x| &x.value))),
                    plain("description", opt(t.description.as_ref().map(|x| &x.value))),
                ],
            };
            (t.name.value.clone(), p)
        })
        .collect()
}

/// A period as a target or test names it: a label, or `from..to`.
fn period_text(p: &PeriodSpec) -> String {
    match p {
        PeriodSpec::Label(l) => l.clone(),
        PeriodSpec::Range { from, to } => format!("{from}..{to}"),
    }
}

/// The fields that hold rows (a test's `data` and `expect`): compared as a
/// set of rows, whatever their order, and shown as the rows one version
/// has and the other has not.
const ROW_FIELDS: [&str; 2] = ["data", "expect"];

/// A test's rows, one per line, sorted: the order of rows and of a row's
/// keys does not change what a test checks.
fn rows_text<'a>(rows: impl Iterator<Item = (Option<&'a str>, &'a Row)>) -> String {
    let mut lines: Vec<String> = rows
        .map(|(dataset, row)| {
            let mut cells: Vec<String> = row
                .iter()
                .map(|(k, v)| format!("{}: {}", k.value, value_text(&v.value)))
                .collect();
            cells.sort();
            let row = format!("{{{}}}", cells.join(", "));
            match dataset {
                Some(d) => format!("{d} {row}"),
                None => row,
            }
        })
        .collect();
    lines.sort();
    lines.join("\n")
}

fn value_text(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(x) => x.to_string(),
        Value::String(t) => format!("{t:?}"),
    }
}

/// The lines of `a` that `b` has not (each line of `b` answers one of `a`).
fn lines_only_in(a: &str, b: &str) -> String {
    let mut others: Vec<&str> = b.lines().collect();
    let mut only = Vec::new();
    for line in a.lines() {
        match others.iter().position(|o| *o == line) {
            Some(i) => {
                others.swap_remove(i);
            }
            None => only.push(line),
        }
    }
    only.join("; ")
}

fn tests(spec: &Spec) -> Vec<(String, Print)> {
    let names = |v: &[Name]| v.iter().map(|n| n.value.as_str()).collect::<Vec<_>>().join(", ");
    spec.tests
        .iter()
        .map(|t| {
            let data = rows_text(
                t.data
                    .iter()
                    .flat_map(|(d, rows, _)| rows.iter().map(move |r| (Some(d.value.as_str()), r))),
            );
            let expect = rows_text(t.expect.iter().map(|r| (None, r)));
            let p = Print {
                definition: vec![
                    plain("kpi", opt(t.kpi.as_ref().map(|k| &k.value))),
                    plain("funnel", opt(t.funnel.as_ref().map(|k| &k.value))),
                    plain("target", opt(t.target.as_ref().map(|k| &k.value))),
                    plain("grain", kw(t.grain.as_ref().map(|g| g.value))),
                    plain("by", names(&t.by)),
                    plain("segment", names(&t.segment)),
                    plain("period", opt(t.period.as_ref().map(|p| period_text(&p.value)))),
                    plain("as_of", opt(t.as_of.as_ref().map(|d| d.value))),
                    plain("member", opt(t.member.as_ref().map(|m| &m.value))),
                    plain("data", data),
                    plain("expect", expect),
                    plain("status", kw(t.status.as_ref().map(|s| s.value))),
                    plain("tolerance", opt(t.tolerance.as_ref().map(|v| v.value))),
                ],
                description: Vec::new(),
            };
            (t.name.value.clone(), p)
        })
        .collect()
}

fn funnels(spec: &Spec) -> Vec<(String, Print)> {
    spec.funnels
        .iter()
        .map(|f| {
            // Compared in normal form, shown as written.
            let steps = |text: &dyn Fn(&Option<ExprField>) -> String| -> String {
                let each: Vec<String> = f
                    .steps
                    .iter()
                    .map(|s| match text(&s.filter) {
                        w if w.is_empty() => s.name.value.clone(),
                        w => format!("{} ({w})", s.name.value),
                    })
                    .collect();
                each.join(" → ")
            };
            let p = Print {
                definition: vec![
                    plain("dataset", opt(f.dataset.as_ref().map(|d| &d.value))),
                    plain("time", opt(f.time.as_ref().map(|d| &d.value))),
                    ("steps", steps(&|e| expr(e.as_ref())), steps(&written)),
                ],
                description: titled(&f.title, &f.description),
            };
            (f.name.value.clone(), p)
        })
        .collect()
}

fn compare(
    entity: &'static str,
    old: Vec<(String, Print)>,
    new: Vec<(String, Print)>,
    out: &mut Vec<Change>,
) {
    let fields = |a: &[Field], b: &[Field]| -> Vec<FieldChange> {
        a.iter()
            .zip(b)
            .filter(|((_, x, _), (_, y, _))| x != y)
            .map(|((f, x, xs), (_, y, ys))| {
                let (old, new) = match ROW_FIELDS.contains(f) {
                    true => (lines_only_in(x, y), lines_only_in(y, x)),
                    false => (xs.clone(), ys.clone()),
                };
                FieldChange {
                    field: f.to_string(),
                    old,
                    new,
                }
            })
            .collect()
    };
    let same = |a: &[Field], b: &[Field]| a.iter().zip(b).all(|(x, y)| x.1 == y.1);
    // Definitions are matched by name through indexes: specs of thousands.
    let new_names: HashSet<&str> = new.iter().map(|(n, _)| n.as_str()).collect();
    let old_by_name: HashMap<&str, &Print> = old.iter().rev().map(|(n, p)| (n.as_str(), p)).collect();
    let mut removed: Vec<&(String, Print)> = old
        .iter()
        .filter(|(n, _)| !new_names.contains(n.as_str()))
        .collect();
    for (name, p) in &new {
        match old_by_name.get(name.as_str()) {
            Some(q) => {
                let definition = fields(&q.definition, &p.definition);
                let description = fields(&q.description, &p.description);
                let kind = if !definition.is_empty() {
                    ChangeKind::Changed
                } else if !description.is_empty() {
                    ChangeKind::Described
                } else {
                    continue;
                };
                let mut all = definition;
                all.extend(description);
                out.push(Change {
                    entity,
                    name: name.clone(),
                    kind,
                    fields: all,
                });
            }
            None => {
                // The same definition under another name: a rename.
                match removed
                    .iter()
                    .position(|(_, q)| same(&q.definition, &p.definition))
                {
                    Some(i) => {
                        let (from, q) = removed.remove(i);
                        out.push(Change {
                            entity,
                            name: name.clone(),
                            kind: ChangeKind::Renamed { from: from.clone() },
                            fields: fields(&q.description, &p.description),
                        });
                    }
                    None => out.push(Change {
                        entity,
                        name: name.clone(),
                        kind: ChangeKind::Added,
                        fields: Vec::new(),
                    }),
                }
            }
        }
    }
    for (name, _) in removed {
        out.push(Change {
            entity,
            name: name.clone(),
            kind: ChangeKind::Removed,
            fields: Vec::new(),
        });
    }
}

/// The semantic differences from `old` to `new`.
pub fn diff(old: &Spec, new: &Spec) -> Vec<Change> {
    let mut out = Vec::new();
    compare("calendar", calendar(old), calendar(new), &mut out);
    compare("connection", connections(old), connections(new), &mut out);
    compare("dataset", datasets(old), datasets(new), &mut out);
    compare("segment", segments(old), segments(new), &mut out);
    compare("kpi", kpis(old), kpis(new), &mut out);
    compare("target", targets(old), targets(new), &mut out);
    compare("funnel", funnels(old), funnels(new), &mut out);
    compare("test", tests(old), tests(new), &mut out);
    affected(new, &mut out);
    out
}

/// What can change because something beneath it did: a dataset on a
/// changed connection, every KPI and funnel under a changed calendar, a
/// base KPI or funnel on a changed dataset, a derived KPI over a changed
/// KPI, a target on one or in a changed segment, a test of any of them.
fn affected(new: &Spec, out: &mut Vec<Change>) {
    let standing = standing(new);
    // Until nothing more is found: `through` names everything beneath that
    // changed, however deep.
    loop {
        let found: Vec<(&'static str, String, Vec<String>)> = (standing.iter())
            .filter(|s| !said(out, s.entity, &s.name))
            .filter_map(|s| {
                let mut through: Vec<String> = Vec::new();
                for (entity, name) in &s.beneath {
                    if changed(out, entity, name) && !through.contains(name) {
                        through.push(name.clone());
                    }
                }
                (!through.is_empty()).then(|| (s.entity, s.name.clone(), through))
            })
            .collect();
        if !recorded(found, out) {
            return;
        }
    }
}

/// An entity of the new spec and what it stands on: the entities beneath
/// it whose change can change its values, in the order it names them.
struct Standing {
    entity: &'static str,
    name: String,
    beneath: Vec<(&'static str, String)>,
}

/// What each dataset, KPI, funnel, target and test of `spec` stands on.
fn standing(spec: &Spec) -> Vec<Standing> {
    let on = |entity, name: &Name| (entity, name.value.clone());
    let named = |refs: &[(&'static str, &Option<Name>)]| -> Vec<(&'static str, String)> {
        refs.iter()
            .filter_map(|(e, n)| n.as_ref().map(|n| on(*e, n)))
            .collect()
    };
    let stands = |entity, name: &Name, beneath| Standing {
        entity,
        name: name.value.clone(),
        beneath,
    };
    // Weeks and fiscal periods move every KPI's and funnel's periods.
    let calendar = || ("calendar", "calendar".to_string());
    let datasets = spec.datasets.iter().map(|d| {
        let connection = d.table.as_ref().map(|t| on("connection", &t.connection));
        stands("dataset", &d.name, connection.into_iter().collect())
    });
    let kpis = spec.kpis.iter().map(|k| {
        let mut beneath = vec![calendar()];
        match (&k.dataset, k.measure.as_ref().and_then(|m| m.expr.as_ref())) {
            (Some(d), _) => beneath.push(on("dataset", d)),
            (None, Some(e)) => beneath.extend(
                (e.names().into_iter())
                    .filter(|n| n.qualifier.is_none())
                    .map(|n| ("kpi", n.ident.name.clone())),
            ),
            (None, None) => {}
        }
        stands("kpi", &k.name, beneath)
    });
    let funnels = spec.funnels.iter().map(|f| {
        let mut beneath = vec![calendar()];
        beneath.extend(named(&[("dataset", &f.dataset)]));
        stands("funnel", &f.name, beneath)
    });
    // A target's KPI and the segment it is measured in.
    let targets = (spec.targets.iter()).map(|t| {
        stands(
            "target",
            &t.name,
            named(&[("kpi", &t.kpi), ("segment", &t.segment)]),
        )
    });
    // What a test tests, and the segments it is run in: its outcome can change.
    let tests = spec.tests.iter().map(|t| {
        let mut beneath = named(&[("kpi", &t.kpi), ("funnel", &t.funnel), ("target", &t.target)]);
        beneath.extend(t.segment.iter().map(|n| on("segment", n)));
        stands("test", &t.name, beneath)
    });
    datasets
        .chain(kpis)
        .chain(funnels)
        .chain(targets)
        .chain(tests)
        .collect()
}

/// Whether `entity` `name` changed in a way that can move what stands on it.
fn changed(out: &[Change], entity: &str, name: &str) -> bool {
    out.iter().any(|c| {
        c.entity == entity
            && c.name == name
            && matches!(
                c.kind,
                ChangeKind::Changed
                    | ChangeKind::Added
                    | ChangeKind::Affected { .. }
                    | ChangeKind::Renamed { .. }
            )
    })
}

/// Said already: an entity whose own definition changed (or that is new,
/// or renamed). One only described differently can still be affected, and
/// then its values can change; one found affected is looked at again, as
/// what lies beneath it may be found affected later.
fn said(out: &[Change], entity: &str, name: &str) -> bool {
    out.iter().any(|c| {
        c.entity == entity
            && c.name == name
            && !matches!(c.kind, ChangeKind::Described | ChangeKind::Affected { .. })
    })
}

/// Records each entity `found` affected; whether any of them is new or
/// is affected through more than it was.
fn recorded(found: Vec<(&'static str, String, Vec<String>)>, out: &mut Vec<Change>) -> bool {
    let mut more = false;
    for (entity, name, through) in found {
        let kind = ChangeKind::Affected { through };
        // Described differently and affected: one change, its fields kept.
        match out.iter_mut().find(|c| c.entity == entity && c.name == name) {
            Some(c) if c.kind == kind => {}
            Some(c) => {
                c.kind = kind;
                more = true;
            }
            None => {
                out.push(Change {
                    entity,
                    name,
                    kind,
                    fields: Vec::new(),
                });
                more = true;
            }
        }
    }
    more
}

fn headline(c: &Change) -> String {
    if c.entity == "calendar" {
        let fields: Vec<&str> = c.fields.iter().map(|f| f.field.as_str()).collect();
        return format!("changed the calendar: {}", fields.join(", "));
    }
    match &c.kind {
        ChangeKind::Added => format!("added {} `{}`", c.entity, c.name),
        ChangeKind::Removed => format!("removed {} `{}`", c.entity, c.name),
        ChangeKind::Renamed { from } => format!("renamed {} `{from}` to `{}`", c.entity, c.name),
        ChangeKind::Changed => format!(
            "changed {} `{}`: {}",
            c.entity,
            c.name,
            c.fields
                .iter()
                .map(|f| f.field.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ChangeKind::Described => format!(
            "described {} `{}` differently: {}",
            c.entity,
            c.name,
            c.fields
                .iter()
                .map(|f| f.field.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
        ChangeKind::Affected { through } => {
            let mut s = format!(
                "affected {} `{}` (through {})",
                c.entity,
                c.name,
                through
                    .iter()
                    .map(|t| format!("`{t}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            );
            // Its descriptive fields changed too.
            if !c.fields.is_empty() {
                let fields: Vec<&str> = c.fields.iter().map(|f| f.field.as_str()).collect();
                let _ = write!(s, "; described differently: {}", fields.join(", "));
            }
            s
        }
    }
}

/// The changes for people.
pub fn to_human(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no changes\n".to_string();
    }
    let mut s = String::new();
    for c in changes {
        let _ = writeln!(s, "{}", headline(c));
        for f in &c.fields {
            let shown = |v: &str| {
                if v.is_empty() {
                    "(none)".to_string()
                } else {
                    v.to_string()
                }
            };
            let _ = writeln!(
                s,
                "    {}:\n      - {}\n      + {}",
                f.field,
                shown(&f.old),
                shown(&f.new)
            );
        }
    }
    s
}

/// The changes as Markdown, for a pull-request comment.
pub fn to_markdown(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "**kpi diff:** no changes to KPI definitions.\n".to_string();
    }
    let mut s = String::from("### kpi diff\n\n");
    for c in changes {
        let _ = writeln!(s, "- {}", headline(c));
        for f in &c.fields {
            // An empty code span is no span in Markdown: a field that was
            // not set is said so.
            let shown = |v: &str| match v {
                "" => "*none*".to_string(),
                // A code span holds one line.
                v => format!("`{}`", v.replace('`', "'").replace(['\n', '\r'], " ")),
            };
            let _ = writeln!(s, "  - `{}`: {} → {}", f.field, shown(&f.old), shown(&f.new));
        }
    }
    s
}
