//! Differential test of evaluation: random small datasets (nulls, NaN, empty
//! groups and months) and random KPIs drawn from the grammar, evaluated by
//! `kpi eval --by g --grain month` and by a naive row-by-row evaluator
//! written here, equal to 1e-9.

use std::collections::{BTreeMap, BTreeSet};

use crate::support::*;

/// A small deterministic generator (xorshift64*), so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
}

#[derive(Clone, Debug)]
struct Row {
    g: Option<&'static str>,
    stage: Option<&'static str>,
    amount: Option<f64>,
    qty: Option<f64>,
    /// Month 1..=5 of 2025 and a day, or no time.
    closed: Option<(u32, u32)>,
}

fn rows(rng: &mut Rng) -> Vec<Row> {
    let n = 5 + rng.below(40);
    (0..n)
        .map(|_| Row {
            g: *rng.pick(&[Some("a"), Some("b"), Some("c"), None]),
            stage: *rng.pick(&[Some("won"), Some("lost"), Some("open"), None]),
            amount: *rng.pick(&[
                Some(10.0),
                Some(25.5),
                Some(-4.0),
                Some(0.0),
                Some(1000.0),
                Some(f64::NAN),
                None,
            ]),
            qty: *rng.pick(&[Some(1.0), Some(2.0), Some(3.0), Some(7.0), None]),
            // March is never drawn: an empty month inside the range.
            closed: match rng.below(6) {
                0 => None,
                k => Some((*rng.pick(&[1, 2, 4, 5]), 1 + (k as u32 * 4) % 28)),
            },
        })
        .collect()
}

fn csv(rows: &[Row]) -> String {
    let mut out = String::from("g,stage,amount,qty,closed_at\n");
    let num = |x: Option<f64>| match x {
        Some(v) if v.is_nan() => "NaN".to_string(),
        Some(v) => format!("{v}"),
        None => String::new(),
    };
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{},{}\n",
            r.g.unwrap_or(""),
            r.stage.unwrap_or(""),
            num(r.amount),
            num(r.qty),
            r.closed
                .map(|(m, d)| format!("2025-{m:02}-{d:02}"))
                .unwrap_or_default()
        ));
    }
    out
}

/// A row expression of numbers: its text and its value on a row.
#[derive(Clone, Copy, Debug)]
enum Arg {
    Amount,
    Qty,
    Product,
    Difference,
    Abs,
}

impl Arg {
    fn text(self) -> &'static str {
        match self {
            Arg::Amount => "amount",
            Arg::Qty => "qty",
            Arg::Product => "amount * qty",
            Arg::Difference => "amount - qty",
            Arg::Abs => "abs(amount)",
        }
    }
    fn eval(self, r: &Row) -> Option<f64> {
        // NaN in data is null.
        let a = r.amount.filter(|x| x.is_finite());
        match self {
            Arg::Amount => a,
            Arg::Qty => r.qty,
            Arg::Product => Some(a? * r.qty?),
            Arg::Difference => Some(a? - r.qty?),
            Arg::Abs => a.map(f64::abs),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Cond {
    Won,
    Closed,
    Big,
    NoGroup,
    NotSmallQty,
}

impl Cond {
    fn text(self) -> &'static str {
        match self {
            Cond::Won => "stage == \"won\"",
            Cond::Closed => "stage in [\"won\", \"lost\"]",
            Cond::Big => "amount > 10",
            Cond::NoGroup => "g is null",
            Cond::NotSmallQty => "not (qty < 3)",
        }
    }
    /// SQL's three values: `None` is unknown, which `where` drops.
    fn eval(self, r: &Row) -> Option<bool> {
        match self {
            Cond::Won => r.stage.map(|s| s == "won"),
            Cond::Closed => r.stage.map(|s| s == "won" || s == "lost"),
            Cond::Big => r.amount.filter(|x| x.is_finite()).map(|a| a > 10.0),
            Cond::NoGroup => Some(r.g.is_none()),
            Cond::NotSmallQty => r.qty.map(|q| q >= 3.0),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Agg {
    Rows,
    Count(Arg),
    Sum(Arg),
    Avg(Arg),
    Min(Arg),
    Max(Arg),
    Distinct(Arg),
}

#[derive(Clone, Copy, Debug)]
struct Aggregate {
    agg: Agg,
    filter: Option<Cond>,
}

impl Aggregate {
    fn text(&self) -> String {
        let w = self
            .filter
            .map(|c| format!(" where {}", c.text()))
            .unwrap_or_default();
        let f = |name: &str, a: Arg| format!("{name}({}{w})", a.text());
        match self.agg {
            Agg::Rows => format!("count({})", w.trim_start()),
            Agg::Count(a) => f("count", a),
            Agg::Sum(a) => f("sum", a),
            Agg::Avg(a) => f("avg", a),
            Agg::Min(a) => f("min", a),
            Agg::Max(a) => f("max", a),
            Agg::Distinct(a) => f("count_distinct", a),
        }
    }

    fn eval(&self, rows: &[&Row]) -> Option<f64> {
        let kept: Vec<&&Row> = rows
            .iter()
            .filter(|r| self.filter.is_none_or(|c| c.eval(r) == Some(true)))
            .collect();
        let values = |a: Arg| kept.iter().filter_map(|r| a.eval(r)).collect::<Vec<f64>>();
        match self.agg {
            Agg::Rows => Some(kept.len() as f64),
            Agg::Count(a) => Some(values(a).len() as f64),
            Agg::Sum(a) => Some(values(a).iter().sum()),
            Agg::Avg(a) => {
                let v = values(a);
                (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64)
            }
            Agg::Min(a) => values(a).into_iter().reduce(f64::min),
            Agg::Max(a) => values(a).into_iter().reduce(f64::max),
            Agg::Distinct(a) => {
                let set: BTreeSet<u64> = values(a).iter().map(|x| x.to_bits()).collect();
                Some(set.len() as f64)
            }
        }
    }
}

#[derive(Clone, Debug)]
struct Kpi {
    left: Aggregate,
    right: Option<(char, Aggregate)>,
}

impl Kpi {
    fn text(&self) -> String {
        match &self.right {
            None => self.left.text(),
            Some((op, r)) => format!("{} {op} {}", self.left.text(), r.text()),
        }
    }

    fn eval(&self, rows: &[&Row]) -> Option<f64> {
        let l = self.left.eval(rows);
        let v = match &self.right {
            None => l,
            Some((op, r)) => {
                let (a, b) = (l?, r.eval(rows)?);
                match op {
                    '+' => Some(a + b),
                    '-' => Some(a - b),
                    '*' => Some(a * b),
                    _ => (b != 0.0).then(|| a / b),
                }
            }
        };
        v.filter(|x| x.is_finite())
    }
}

fn aggregate(rng: &mut Rng) -> Aggregate {
    let arg = *rng.pick(&[Arg::Amount, Arg::Qty, Arg::Product, Arg::Difference, Arg::Abs]);
    let agg = match rng.below(7) {
        0 => Agg::Rows,
        1 => Agg::Count(arg),
        2 => Agg::Sum(arg),
        3 => Agg::Avg(arg),
        4 => Agg::Min(arg),
        5 => Agg::Max(arg),
        _ => Agg::Distinct(arg),
    };
    let filter = match rng.below(7) {
        0..=1 => None,
        _ => Some(*rng.pick(&[
            Cond::Won,
            Cond::Closed,
            Cond::Big,
            Cond::NoGroup,
            Cond::NotSmallQty,
        ])),
    };
    Aggregate { agg, filter }
}

fn kpis(rng: &mut Rng) -> Vec<Kpi> {
    (0..12)
        .map(|_| Kpi {
            left: aggregate(rng),
            right: (rng.below(2) == 0).then(|| (*rng.pick(&['+', '-', '*', '/']), aggregate(rng))),
        })
        .collect()
}

/// The naive evaluation: every group with a row in some month × every month
/// from the first to the last, each KPI over the rows of the cell.
fn naive(rows: &[Row], kpis: &[Kpi]) -> BTreeMap<(Option<String>, String), Vec<Option<f64>>> {
    let timed: Vec<&Row> = rows.iter().filter(|r| r.closed.is_some()).collect();
    let groups: BTreeSet<Option<&str>> = timed.iter().map(|r| r.g).collect();
    let months: Vec<u32> = match (
        timed.iter().filter_map(|r| r.closed).map(|c| c.0).min(),
        timed.iter().filter_map(|r| r.closed).map(|c| c.0).max(),
    ) {
        (Some(a), Some(b)) => (a..=b).collect(),
        _ => Vec::new(),
    };
    let mut out = BTreeMap::new();
    for g in &groups {
        for m in &months {
            let cell: Vec<&Row> = timed
                .iter()
                .copied()
                .filter(|r| r.g == *g && r.closed.map(|c| c.0) == Some(*m))
                .collect();
            out.insert(
                (g.map(str::to_string), format!("2025-{m:02}")),
                kpis.iter().map(|k| k.eval(&cell)).collect(),
            );
        }
    }
    out
}

/// The rows of `kpi eval --by g --grain month` (and `more` arguments) of
/// `spec`, written to `path`.
fn eval_by_g_and_month(path: &std::path::Path, spec: &str, more: &[&str]) -> Vec<serde_json::Value> {
    std::fs::write(path, spec).unwrap();
    let args = [
        "--spec",
        path.to_str().unwrap(),
        "eval",
        "--by",
        "g",
        "--grain",
        "month",
    ];
    let out = kpi(&[&args[..], more, &["--format", "json"]].concat());
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{spec}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

#[test]
fn random_kpis_equal_a_naive_evaluator() {
    let mut rng = Rng(0x5eed_1234_abcd_0001);
    let dir = temp_dir("property");
    let mut compared = 0;
    for case in 0..25 {
        let data = rows(&mut rng);
        let ks = kpis(&mut rng);
        let path = dir.join(format!("d{case}.csv"));
        std::fs::write(&path, csv(&data)).unwrap();
        let mut spec = format!(
            "datasets:\n  d:\n    source: {}\n    time: closed_at\n    columns: {{g: string, stage: string, amount: number, qty: number, closed_at: date}}\nkpis:\n",
            path.display()
        );
        for (i, k) in ks.iter().enumerate() {
            spec.push_str(&format!("  k{i}: {{dataset: d, measure: '{}'}}\n", k.text()));
        }
        let got = eval_by_g_and_month(&dir.join(format!("s{case}.yaml")), &spec, &[]);
        let want = naive(&data, &ks);
        assert_eq!(got.len(), want.len(), "case {case}: rows\n{spec}\n{}", csv(&data));
        for r in &got {
            let key = (
                r["g"].as_str().map(str::to_string),
                r["period"].as_str().unwrap().to_string(),
            );
            let w = want
                .get(&key)
                .unwrap_or_else(|| panic!("case {case}: unexpected row {key:?}"));
            for (i, k) in ks.iter().enumerate() {
                let g = r[format!("k{i}")].as_f64();
                assert!(
                    close(g, w[i]),
                    "case {case}, {key:?}, `{}`: kpi {g:?}, naive {:?}\n{}",
                    k.text(),
                    w[i],
                    csv(&data)
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 1000, "{compared} values compared");
}

/// Stocks by month against a day-by-day check of `from <= d < to` (at each
/// month's last day, and with `at: start` the day before its first): random
/// intervals with unknown starts and ends, ends before or on the start's
/// day, and values without a number.
#[test]
fn random_stocks_equal_a_day_by_day_check() {
    let mut rng = Rng(0x5eed_5707_c0de_0002);
    let dir = temp_dir("property-stocks");
    let mut compared = 0;
    // (group, start, end, value), days of 2025 (1 = January 1st).
    type Interval = (Option<&'static str>, Option<i64>, Option<i64>, Option<f64>);
    let date = |day: i64| {
        let (mut m, mut d) = (1u32, day);
        for len in [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] {
            if d <= len {
                break;
            }
            d -= len;
            m += 1;
        }
        format!("2025-{m:02}-{d:02}")
    };
    let month_ends = [
        (1, 0, 31),
        (2, 31, 59),
        (3, 59, 90),
        (4, 90, 120),
        (5, 120, 151),
        (6, 151, 181),
    ];
    for case in 0..15 {
        let data: Vec<Interval> = (0..5 + rng.below(40))
            .map(|_| {
                let start = 1 + rng.below(150) as i64;
                let end = start + rng.below(100) as i64 - 30;
                (
                    *rng.pick(&[Some("a"), Some("b"), None]),
                    (rng.below(10) != 0).then_some(start),
                    (rng.below(4) != 0 && end >= 1).then_some(end),
                    *rng.pick(&[Some(5.0), Some(12.5), Some(-3.0), None]),
                )
            })
            .collect();
        let mut text = String::from("g,started_at,ended_at,v\n");
        for (g, s, e, v) in &data {
            let v = v.map(|v| v.to_string()).unwrap_or_default();
            let (s, e) = (s.map(date).unwrap_or_default(), e.map(date).unwrap_or_default());
            text.push_str(&format!("{},{s},{e},{v}\n", g.unwrap_or("")));
        }
        let path = dir.join(format!("i{case}.csv"));
        std::fs::write(&path, &text).unwrap();
        let spec = format!(
            "datasets:\n  d:\n    source: {}\n    columns: {{g: string, started_at: date, ended_at: date, v: number}}\nkpis:\n  \
             n: {{dataset: d, measure: count(), active: {{from: started_at, to: ended_at}}}}\n  \
             s: {{dataset: d, measure: sum(v), active: {{from: started_at, to: ended_at}}}}\n  \
             n_start: {{dataset: d, measure: count(), active: {{from: started_at, to: ended_at}}, at: start}}\n",
            path.display()
        );
        let range = ["--from", "2025-01-01", "--to", "2025-06-30"];
        let got = eval_by_g_and_month(&dir.join(format!("i{case}.yaml")), &spec, &range);
        // Active on `day` (of 2025; 0 is December 31st, 2024), in group `g`.
        let level = |g: Option<&str>, day: i64| -> (f64, f64) {
            let active = data
                .iter()
                .filter(|r| r.0 == g && r.1.is_some_and(|s| s <= day) && r.2.is_none_or(|e| e > day));
            active.fold((0.0, 0.0), |(n, s), r| (n + 1.0, s + r.3.unwrap_or(0.0)))
        };
        // Every group and month with something active has its row.
        for g in [Some("a"), Some("b"), None] {
            for (m, _, last) in month_ends {
                let period = format!("2025-{m:02}");
                let row = got
                    .iter()
                    .any(|r| r["g"].as_str() == g && r["period"] == period.as_str());
                assert!(
                    row || level(g, last).0 == 0.0,
                    "case {case}: no row for {g:?} {period}"
                );
            }
        }
        for r in &got {
            let g = r["g"].as_str();
            let period = r["period"].as_str().unwrap();
            let &(_, first, last) = month_ends
                .iter()
                .find(|(m, _, _)| period == format!("2025-{m:02}"))
                .unwrap_or_else(|| panic!("case {case}: period {period}"));
            let ((n, s), (n_start, _)) = (level(g, last), level(g, first));
            for (kpi, want) in [("n", n), ("s", s), ("n_start", n_start)] {
                let value = r[kpi].as_f64();
                assert!(
                    close(value, Some(want)),
                    "case {case}, {g:?} {period}, {kpi}: kpi {value:?}, by day {want}\n{text}"
                );
                compared += 1;
            }
        }
    }
    assert!(compared > 300, "{compared} values compared");
}
