//! The rows of `kpi status` as a table: formatted by each KPI's unit for
//! people (table, markdown), raw numbers for programs (csv).

use super::table::{format_value, Cell, NumberFormat, ResultTable};
use crate::check::ir::Model;
use crate::spec::model::Keyword;
use crate::status::StatusRow;

/// One row per status row; `raw`: numbers as numbers, not formatted text.
pub fn status_table(rows: &[StatusRow], model: &Model, raw: bool) -> ResultTable {
    let columns = [
        "target",
        "kpi",
        "segment",
        "member",
        "period",
        "actual",
        "target_value",
        "baseline",
        "progress",
        "expected",
        "projected",
        "gap",
        "status",
        "trend",
    ];
    let out = rows
        .iter()
        .map(|r| {
            let unit = model.kpi_id(&r.kpi).and_then(|k| model.kpis[k].unit);
            let decimals = model.kpi_id(&r.kpi).and_then(|k| model.kpis[k].decimals);
            let n = |x: Option<f64>| {
                if raw {
                    Cell::Number(x)
                } else {
                    Cell::Text(Some(format_value(x, unit, decimals)))
                }
            };
            let pct = |x: Option<f64>| {
                if raw {
                    Cell::Number(x)
                } else {
                    Cell::Text(Some(format_value(
                        x,
                        Some(crate::spec::model::Unit::Percent),
                        Some(0),
                    )))
                }
            };
            let t = |s: Option<&str>| Cell::Text(s.map(str::to_string));
            vec![
                t(Some(&r.target)),
                t(Some(&r.kpi)),
                t(r.segment.as_deref()),
                t(r.member.as_deref()),
                t(Some(&r.period)),
                n(r.actual),
                n(r.target_value),
                n(r.baseline),
                pct(r.progress),
                n(r.expected),
                n(r.projected),
                n(r.gap),
                t(Some(r.status.as_str())),
                t(Some(r.trend.as_str())),
            ]
        })
        .collect();
    let formats = columns
        .iter()
        .map(|c| {
            if raw
                && !matches!(
                    *c,
                    "target" | "kpi" | "segment" | "member" | "period" | "status" | "trend"
                )
            {
                Some(NumberFormat::default())
            } else {
                None
            }
        })
        .collect();
    ResultTable {
        columns: columns.iter().map(|c| c.to_string()).collect(),
        formats,
        rows: out,
    }
}
