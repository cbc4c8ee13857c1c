//! Targets, funnels and tests.

use super::*;

impl Reader<'_> {
    pub(super) fn period(&mut self, node: &Node) -> Option<Spanned<PeriodSpec>> {
        match &node.kind {
            NodeKind::Map(_) => {
                let f = self.fields(node, "a period", &["from", "to"])?;
                let from = f.get("from").and_then(|n| self.date(n));
                let to = f.get("to").and_then(|n| self.date(n));
                match (from, to) {
                    (Some(from), Some(to)) => Some(Spanned::new(
                        PeriodSpec::Range {
                            from: from.value,
                            to: to.value,
                        },
                        node.span,
                    )),
                    _ => {
                        let missing = match (f.get("from"), f.get("to")) {
                            (None, None) => Some("from` and `to"),
                            (None, Some(_)) => Some("from"),
                            (Some(_), None) => Some("to"),
                            (Some(_), Some(_)) => None,
                        };
                        if let Some(key) = missing {
                            self.missing_key(
                                &f,
                                node.span,
                                key,
                                "a period",
                                "period: {from: 2025-07-01, to: 2025-09-30}",
                            );
                        }
                        None
                    }
                }
            }
            _ => self
                .string(node)
                .map(|t| Spanned::new(PeriodSpec::Label(t.value.trim().to_string()), node.span)),
        }
    }

    /// A target's time: `period:` (a label or `{from, to}`) or `every:`. The
    /// contract's comment beside `period:` ("a label, {from: D, to: D}, or
    /// every: month") is read both ways, so `period: {every: month}` is a
    /// recurrence like `every: month`.
    fn period_or_every(&mut self, f: &Fields) -> (Option<Spanned<PeriodSpec>>, Option<Spanned<Grain>>) {
        let every = f.get("every").and_then(|n| self.keyword(n));
        let Some(node) = f.get("period") else {
            return (None, every);
        };
        if !is_recurrence(node) {
            return (self.period(node), every);
        }
        let inner = self
            .fields(node, "a recurring period", &["every"])
            .and_then(|p| p.get("every"))
            .and_then(|n| self.keyword(n));
        match (every, inner) {
            (Some(e), Some(i)) => {
                self.push(diag::period_conflict(
                    e.span,
                    (i.span, "another recurrence"),
                    "keep one of them",
                ));
                (None, None)
            }
            (e, i) => (None, e.or(i)),
        }
    }

    pub(super) fn target(&mut self, name: Name, node: &Node) -> Option<Target> {
        let what = format!("target `{}`", name.value);
        let f = self.fields(node, &what, TARGET_KEYS)?;
        let change = match f.get("change") {
            Some(n) => {
                let text = self.string(n)?;
                match parse_change(&text.value) {
                    Some(c) => Some(Spanned::new(c, n.span)),
                    None => {
                        self.push(diag::invalid_change(n.span, &text.value));
                        None
                    }
                }
            }
            None => None,
        };
        let baseline = match f.get("baseline") {
            Some(n) => self.string(n).map(|t| {
                let b = match t.value.as_str() {
                    "previous" => Baseline::Previous,
                    "same_last_year" => Baseline::SameLastYear,
                    other => Baseline::Period(other.to_string()),
                };
                Spanned::new(b, n.span)
            }),
            None => None,
        };
        let (period, every) = self.period_or_every(&f);
        Some(Target {
            keys: f.written(),
            kpi: f.get("kpi").and_then(|n| self.one_name(n, ONE_KPI_TARGET)),
            segment: f.get("segment").and_then(|n| self.one_name(n, ONE_SEGMENT)),
            by: f.get("by").and_then(|n| self.one_name(n, ONE_BY)),
            period,
            every,
            value: f.get("value").and_then(|n| self.number(n, "a number")),
            value_in_percent: f.get("value").is_some_and(
                |n| matches!(&n.kind, NodeKind::Scalar { value, .. } if value.trim().ends_with('%')),
            ),
            change,
            baseline,
            tolerance: f
                .get("tolerance")
                .and_then(|n| self.number(n, "a tolerance such as 10%")),
            pacing: f.get("pacing").and_then(|n| self.keyword(n)),
            objective: f.get("objective").and_then(|n| self.string(n)),
            owner: f.get("owner").and_then(|n| self.string(n)),
            description: f.get("description").and_then(|n| self.string(n)),
            name,
        })
    }

    pub(super) fn funnel(&mut self, name: Name, node: &Node) -> Option<Funnel> {
        let what = format!("funnel `{}`", name.value);
        let f = self.fields(node, &what, FUNNEL_KEYS)?;
        let mut steps = Vec::new();
        match f.get("steps") {
            Some(n) => match &n.kind {
                NodeKind::Seq(items) => {
                    for item in items {
                        // `- created`: a step's name alone, as a list of names is written.
                        if let Some((step, _)) = item.as_scalar() {
                            self.push(
                                diag::wrong_type(item.span, "a mapping for a funnel step", item.describe())
                                    .help(format!("a step is a mapping: `{{name: {step}}}`, with `where:` for its condition")),
                            );
                            continue;
                        }
                        let Some(sf) = self.fields(item, "a funnel step", &["name", "where"]) else {
                            continue;
                        };
                        let Some(step_name) = sf.get("name").and_then(|n| self.string(n)) else {
                            if sf.get("name").is_none() {
                                self.missing_key(
                                    &sf,
                                    item.span,
                                    "name",
                                    "a funnel step",
                                    "{name: contacted, where: first_contact_at is not null}",
                                );
                            }
                            continue;
                        };
                        if !is_valid_name(&step_name.value) {
                            self.push(diag::invalid_name(step_name.span, &step_name.value));
                        }
                        let filter = sf.get("where").and_then(|n| self.expr(n));
                        steps.push(FunnelStep {
                            name: step_name,
                            filter,
                        });
                    }
                }
                _ => self.push(diag::wrong_type(n.span, "a list of steps", n.describe())),
            },
            None => self.missing_key(&f, name.span, "steps", &what, "steps: [{name: created}]"),
        }
        Some(Funnel {
            dataset: f.get("dataset").and_then(|n| self.string(n)),
            time: f.get("time").and_then(|n| self.string(n)),
            title: f.get("title").and_then(|n| self.string(n)),
            description: f.get("description").and_then(|n| self.string(n)),
            steps,
            name,
        })
    }

    pub(super) fn test(&mut self, name: Name, node: &Node) -> Option<Test> {
        let what = format!("test `{}`", name.value);
        let f = self.fields(node, &what, TEST_KEYS)?;
        let mut data = Vec::new();
        if let Some(n) = f.get("data") {
            match &n.kind {
                NodeKind::Map(entries) => {
                    for (k, v) in entries {
                        let Some(ds) = self.string(k) else { continue };
                        let rows = self.rows(v);
                        data.push((ds, rows, v.span));
                    }
                }
                _ => self.push(diag::wrong_type(
                    n.span,
                    "a mapping of dataset names to rows",
                    n.describe(),
                )),
            }
        }
        Some(Test {
            keys: f.written(),
            kpi: f.get("kpi").and_then(|n| self.one_name(n, ONE_KPI_TEST)),
            funnel: f.get("funnel").and_then(|n| self.one_name(n, ONE_FUNNEL_TEST)),
            target: f.get("target").and_then(|n| self.one_name(n, ONE_TARGET_TEST)),
            grain: f.get("grain").and_then(|n| self.keyword(n)),
            by: f.get("by").map(|n| self.strings(n)).unwrap_or_default(),
            segment: f.get("segment").map(|n| self.strings(n)).unwrap_or_default(),
            period: f.get("period").and_then(|n| self.period(n)),
            as_of: f.get("as_of").and_then(|n| self.date(n)),
            member: f.get("member").and_then(|n| self.string(n)),
            expect: f.get("expect").map(|n| self.rows(n)).unwrap_or_default(),
            status: f.get("status").and_then(|n| self.keyword(n)),
            tolerance: f.get("tolerance").and_then(|n| self.number(n, "a tolerance")),
            data,
            name,
        })
    }

    pub(super) fn rows(&mut self, node: &Node) -> Vec<Row> {
        if node.is_null() {
            return Vec::new();
        }
        let NodeKind::Seq(items) = &node.kind else {
            self.push(diag::wrong_type(node.span, "a list of rows", node.describe()));
            return Vec::new();
        };
        let mut rows = Vec::new();
        for item in items {
            let NodeKind::Map(entries) = &item.kind else {
                self.push(diag::wrong_type(
                    item.span,
                    "a row (a mapping of columns to values)",
                    item.describe(),
                ));
                continue;
            };
            let mut row: Row = Vec::new();
            let split = self.numbers_split_by_commas(entries, "column");
            for (i, (k, v)) in entries.iter().enumerate() {
                if split[i] {
                    continue;
                }
                let Some(col) = self.string(k) else { continue };
                if let Some((first, _)) = row.iter().find(|(n, _)| n.value == col.value) {
                    self.push(diag::duplicate_key(k.span, first.span, &col.value));
                    continue;
                }
                let value = match &v.kind {
                    NodeKind::Scalar { value, style } => scalar_value(value, *style),
                    _ => {
                        self.push(diag::wrong_type(v.span, "a single value", v.describe()));
                        continue;
                    }
                };
                if let Value::String(text) = &value {
                    if v.as_scalar()
                        .is_some_and(|(_, style)| style == ScalarStyle::Plain)
                    {
                        if let Some(number) = diag::thousands_written(text) {
                            self.push(diag::number_with_separators(v.span, text, &number));
                        }
                    }
                }
                row.push((col, Spanned::new(value, v.span)));
            }
            rows.push(row);
        }
        rows
    }
}

/// `period: {every: month}`: a mapping that names a recurrence.
fn is_recurrence(node: &Node) -> bool {
    let NodeKind::Map(entries) = &node.kind else {
        return false;
    };
    entries
        .iter()
        .any(|(k, _)| k.as_scalar().is_some_and(|(key, _)| key == "every"))
}

/// Why a target or test names one KPI, segment, dimension or target, and
/// how to say more (a list written there by habit).
const ONE_KPI_TARGET: &str = "a target measures one KPI: write a target for each";
const ONE_SEGMENT: &str =
    "a target has one segment: define one whose `where` joins the conditions with `and`";
const ONE_BY: &str = "a target is per member of one dimension: a computed dimension (`dimensions:`) can join two, `concat(region, \"/\", owner)`";
const ONE_KPI_TEST: &str = "a test names one KPI; its expected rows may give other KPIs' values beside it (`{won_deals: 3, lost_deals: 1}`), which are checked too";
const ONE_TARGET_TEST: &str = "a test names one target: write a test for each";
const ONE_FUNNEL_TEST: &str = "a test names one funnel: write a test for each";
