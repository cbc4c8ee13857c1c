//! The rows of `kpi status` as a table: formatted by each KPI's unit for
//! people (table, markdown), raw numbers for programs (csv).

use super::table::{format_gap, format_value, Cell, NumberFormat, ResultTable};
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
            let gap = |x: Option<f64>| match format_gap(x, unit, decimals).filter(|_| !raw) {
                Some(text) => Cell::Text(Some(text)),
                None => n(x),
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
                gap(r.gap),
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

/// The rows as a JSON array, indented as serde_json's pretty printer does,
/// its pieces written on every core: `kpi status` of a target per rep
/// over a year is tens of thousands of rows (62,000 for 50 targets over a
/// million deals: about 60 ms on one core).
pub fn status_json(rows: &[StatusRow]) -> String {
    pretty_array(rows, 8192)
}

/// The rows as NDJSON: each row's JSON object (as [`status_json`] writes
/// it) on a line of its own.
pub fn status_ndjson(rows: &[StatusRow]) -> String {
    let mut out = String::new();
    for r in rows {
        out.push_str(&serde_json::to_string(r).unwrap_or_default());
        out.push('\n');
    }
    out
}

/// `items` as `serde_json::to_string_pretty` writes them, `per_piece` at a
/// time on the cores: each piece is a pretty array whose elements are
/// indented as the whole array's, so the pieces' insides joined by commas
/// are the whole.
fn pretty_array<T: serde::Serialize + Sync>(items: &[T], per_piece: usize) -> String {
    let pretty = |piece: &[T]| serde_json::to_string_pretty(piece).unwrap_or_default();
    if items.len() <= per_piece {
        return pretty(items);
    }
    let pieces: Vec<&[T]> = items.chunks(per_piece).collect();
    let Ok(texts) = crate::cores::on_cores(pieces, |p| Ok(pretty(p))) else {
        return pretty(items);
    };
    let mut out = String::with_capacity(texts.iter().map(String::len).sum::<usize>());
    out.push_str("[\n");
    for (i, t) in texts.iter().enumerate() {
        if i > 0 {
            out.push_str(",\n");
        }
        let inside = t.strip_prefix("[\n").and_then(|t| t.strip_suffix("\n]"));
        out.push_str(inside.unwrap_or_default());
    }
    out.push_str("\n]");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Serialize)]
    struct Row {
        name: String,
        value: Option<f64>,
        tags: Vec<&'static str>,
    }

    /// Joined pieces are the whole array's text, byte for byte, at lengths
    /// around the piece size.
    #[test]
    fn pieces_of_a_pretty_array_join_into_the_whole() {
        for n in [0, 1, 2, 3, 4, 5, 6, 7, 10] {
            let rows: Vec<Row> = (0..n)
                .map(|i| Row {
                    name: format!("row \"{i}\"\n"),
                    value: (i % 3 != 0).then_some(i as f64 / 7.0),
                    tags: vec!["a"; i % 3],
                })
                .collect();
            let whole = serde_json::to_string_pretty(&rows).unwrap();
            assert_eq!(pretty_array(&rows, 3), whole, "{n} rows");
        }
    }
}
