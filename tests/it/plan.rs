//! The planner on its own: what a query lowers to, before any engine runs.
//! Each test states the plan a reader of LANGUAGE.md §9 would expect.

use kpi::check::functions::AggFn;
use kpi::check::ir::{Model, TKind};
use kpi::period::{Grain, Period};
use kpi::plan::{self, Compare, Plan, Query, UnitTime};
use kpi::time::Date;

use crate::support::*;

const SPEC: &str = r#"
datasets:
  deals:
    source: nowhere.csv
    time: closed_at
    columns: {owner: string, stage: string, amount: number, closed_at: date, created_at: date}
    lookups:
      - {dataset: reps, on: owner}
  reps:
    source: reps.csv
    columns: {owner: string, team: string}
  subscriptions:
    source: subs.csv
    columns: {customer: string, started_at: date, ended_at: date, mrr: number}
  notes:
    source: notes.csv
    columns: {owner: string, words: number}
segments:
  big: {where: amount > 1000}
kpis:
  won: {dataset: deals, measure: count(where stage == "won")}
  closed: {dataset: deals, measure: 'count(where stage in ["won", "lost"])'}
  won_revenue: {dataset: deals, measure: sum(amount), where: stage == "won"}
  avg_deal: {dataset: deals, measure: avg(amount)}
  created: {dataset: deals, measure: count(), time: created_at}
  win_rate: {measure: won / closed}
  win_rate_prev2: {measure: 'prev(win_rate, 2)'}
  per_rep: {dataset: deals, measure: avg(sum(amount) per owner)}
  mrr: {dataset: subscriptions, measure: sum(mrr), active: {from: started_at, to: ended_at}}
  words: {dataset: notes, measure: sum(words)}
"#;

fn model() -> Model {
    let outcome = check_str("spec.yaml", SPEC);
    assert_eq!(outcome.errors(), 0, "{:?}", positions(&outcome));
    outcome.checked.model
}

fn query(kpis: &[&str]) -> Query {
    Query {
        kpis: kpis.iter().map(|k| k.to_string()).collect(),
        ..Query::default()
    }
}

fn names(plan: &Plan, ids: &[usize]) -> Vec<String> {
    ids.iter().map(|&k| plan.model.kpis[k].name.clone()).collect()
}

fn date(s: &str) -> Date {
    Date::parse(s).unwrap()
}

#[test]
fn kpis_of_one_dataset_and_time_basis_share_one_unit() {
    let model = model();
    let plan = plan::plan(
        &model,
        &query(&["won", "closed", "won_revenue", "avg_deal", "created"]),
    )
    .unwrap();
    // Four on closed_at, one on created_at: two scans of deals.
    assert_eq!(plan.units.len(), 2);
    assert_eq!(plan.units[0].time, UnitTime::Flow("closed_at".into()));
    assert_eq!(plan.units[1].time, UnitTime::Flow("created_at".into()));
    assert_eq!(plan.units[0].outputs.len(), 4);
    // avg is a sum over a count, so it recombines; the KPI's `where` joins each part's filter.
    let funcs: Vec<AggFn> = plan.units[0].parts.iter().map(|p| p.func).collect();
    assert_eq!(
        funcs,
        [AggFn::Count, AggFn::Count, AggFn::Sum, AggFn::Sum, AggFn::Count]
    );
    let won_revenue = &plan.units[0].parts[2];
    assert!(
        won_revenue.filter.is_some(),
        "the KPI's where is the part's filter"
    );
    assert!(plan.derived.is_empty());
    assert!(plan.nests.is_empty() && plan.compare.is_none() && plan.first.is_none());
}

#[test]
fn derived_kpis_pull_in_their_bases_in_dependency_order() {
    let model = model();
    let plan = plan::plan(&model, &query(&["win_rate_prev2"])).unwrap();
    assert_eq!(names(&plan, &plan.outputs), ["win_rate_prev2"]);
    assert_eq!(names(&plan, &plan.derived), ["win_rate", "win_rate_prev2"]);
    let bases: Vec<usize> = plan
        .units
        .iter()
        .flat_map(|u| u.outputs.iter().map(|o| o.kpi))
        .collect();
    assert_eq!(names(&plan, &bases), ["won", "closed"]);
}

#[test]
fn history_reaches_back_as_far_as_prev_needs() {
    let model = model();
    let q = Query {
        grain: Grain::Month,
        range: Some(Period {
            start: date("2025-03-01"),
            end: date("2025-05-31"),
        }),
        ..query(&["win_rate_prev2"])
    };
    let plan = plan::plan(&model, &q).unwrap();
    // prev(·, 2) in March needs January; those months are read, not output.
    assert_eq!(plan.query.history, Some(date("2025-01-01")));
    assert_eq!(plan.first, Some(date("2025-03-01")));
    let plain = plan::plan(
        &model,
        &Query {
            kpis: vec!["won".into()],
            ..q
        },
    )
    .unwrap();
    assert_eq!(plain.query.history, None);
    assert_eq!(plain.first, None);
}

#[test]
fn a_nested_aggregate_has_its_own_plan_grouped_by_its_members() {
    let model = model();
    let q = Query {
        by: vec!["team".into()],
        ..query(&["per_rep"])
    };
    let plan = plan::plan(&model, &q).unwrap();
    assert_eq!(plan.nests.len(), 1);
    let inner = &plan.nests[0];
    assert_eq!(inner.nest.per, ["owner"]);
    assert_eq!(inner.nest.func, AggFn::Avg);
    // The outer groups and the members: by team, then owner.
    assert_eq!(inner.plan.query.by, ["team", "owner"]);
    assert_eq!(inner.plan.depth, 1);
    assert_eq!(inner.plan.units.len(), 1);
    assert_eq!(inner.plan.units[0].parts[0].func, AggFn::Sum);
    // `team` is looked up from reps.
    assert_eq!(inner.plan.units[0].lookups, [0]);
    // The outer measure reads the nest's column.
    let reads_nest = plan
        .units
        .iter()
        .flat_map(|u| &u.outputs)
        .any(|o| matches!(&o.post.kind, TKind::Part(c) if *c == inner.nest.column));
    assert!(reads_nest);
}

#[test]
fn a_comparison_of_a_range_plans_the_earlier_range() {
    let model = model();
    let q = Query {
        range: Some(Period {
            start: date("2025-04-01"),
            end: date("2025-06-30"),
        }),
        compare: Some(Compare::Year),
        ..query(&["won"])
    };
    let plan = plan::plan(&model, &q).unwrap();
    let earlier = plan.compare.as_ref().expect("a plan of the earlier range");
    assert_eq!(
        earlier.query.range,
        Some(Period {
            start: date("2024-04-01"),
            end: date("2024-06-30"),
        })
    );
    assert!(earlier.query.compare.is_none());
    // With a grain, earlier periods come from the history instead.
    let monthly = plan::plan(
        &model,
        &Query {
            grain: Grain::Month,
            ..q
        },
    )
    .unwrap();
    assert!(monthly.compare.is_none());
    assert_eq!(monthly.query.history, Some(date("2024-04-01")));
}

#[test]
fn stocks_segments_and_dimensions_are_lowered_onto_the_unit() {
    let model = model();
    let q = Query {
        by: vec!["reps.team".into()],
        segments: vec!["big".into()],
        ..query(&["won"])
    };
    let plan = plan::plan(&model, &q).unwrap();
    let u = &plan.units[0];
    assert_eq!(u.filters.len(), 1, "the segment is a row filter");
    assert_eq!(u.dims.len(), 1);
    assert_eq!(u.lookups, [0], "the dimension comes through the lookup");
    let stock = plan::plan(&model, &query(&["mrr"])).unwrap();
    assert_eq!(
        stock.units[0].time,
        UnitTime::Stock {
            from: "started_at".into(),
            to: Some("ended_at".into()),
            at_start: false
        }
    );
}

#[test]
fn every_mistake_in_a_query_is_found_before_execution() {
    let model = model();
    let codes = |q: Query| -> Vec<&'static str> {
        match plan::plan(&model, &q) {
            Ok(_) => Vec::new(),
            Err(d) => d.iter().map(|d| d.code).collect(),
        }
    };
    assert_eq!(codes(query(&["nope"])), ["kpi::unknown_kpi"]);
    assert_eq!(
        codes(Query {
            by: vec!["team".into()],
            ..query(&["mrr"])
        }),
        ["kpi::dimension_missing"]
    );
    assert_eq!(
        codes(Query {
            segments: vec!["big".into()],
            ..query(&["words"])
        }),
        ["kpi::segment_column_missing"]
    );
    assert_eq!(
        codes(Query {
            grain: Grain::Month,
            ..query(&["words"])
        }),
        ["kpi::no_time_column"]
    );
    assert_eq!(
        codes(Query {
            compare: Some(Compare::Previous),
            ..query(&["won"])
        }),
        ["kpi::compare_needs_periods"]
    );
}

#[test]
fn a_query_of_every_kpi_leaves_out_those_that_cannot_take_it() {
    let model = model();
    let q = Query {
        grain: Grain::Month,
        ..Query::default()
    };
    let (fitting, left_out) = kpi::check::query::with_fitting_kpis(&model, &q).unwrap();
    assert!(!fitting.kpis.contains(&"words".to_string()));
    assert!(fitting.kpis.contains(&"won".to_string()));
    assert_eq!(left_out.len(), 1);
    assert_eq!(left_out[0].code, "kpi::left_out");
    assert!(plan::plan(&model, &fitting).is_ok());
}

#[test]
fn a_funnel_is_one_unit_counting_every_step() {
    let spec = format!(
        "{SPEC}funnels:\n  pipeline:\n    dataset: deals\n    steps:\n      - {{name: created}}\n      - {{name: closed, where: 'stage in [\"won\", \"lost\"]'}}\n      - {{name: won, where: stage == \"won\"}}\n"
    );
    let outcome = check_str("spec.yaml", &spec);
    assert_eq!(outcome.errors(), 0, "{:?}", positions(&outcome));
    let model = outcome.checked.model;
    let fp = plan::plan_funnel(&model, "pipeline", &Query::default())
        .unwrap()
        .unwrap();
    assert_eq!(fp.plan.units.len(), 1);
    assert_eq!(fp.plan.units[0].parts.len(), 3);
    let steps: Vec<&str> = fp.steps.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(steps, ["created", "closed", "won"]);
    // A dimension the funnel's dataset lacks is refused when planning.
    let by_mrr = Query {
        by: vec!["customer".into()],
        ..Query::default()
    };
    assert!(plan::plan_funnel(&model, "pipeline", &by_mrr).unwrap().is_err());
    assert!(plan::plan_funnel(&model, "nope", &Query::default()).is_none());
}
