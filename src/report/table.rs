//! KPI results as people and programs read them: tables formatted by unit;
//! CSV, JSON and NDJSON with raw values.

use std::fmt::Write as _;

use crate::spec::model::Unit;

/// A value of an output cell.
#[derive(Clone, Debug, PartialEq)]
pub enum Cell {
    Text(Option<String>),
    Number(Option<f64>),
}

/// Rows of an evaluation, independent of the engine that computed them.
#[derive(Clone, Debug)]
pub struct ResultTable {
    pub columns: Vec<String>,
    /// Unit and decimals of each column (`None` for dimensions and periods).
    pub formats: Vec<Option<(Option<Unit>, Option<u32>)>>,
    pub rows: Vec<Vec<Cell>>,
}

/// `1234567.8` → `1,234,568` (with `decimals` digits after the point).
pub fn thousands(x: f64, decimals: usize) -> String {
    let s = format!("{:.*}", decimals, x.abs());
    let (int, frac) = s
        .split_once('.')
        .map_or((s.as_str(), None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if let Some(f) = frac {
        out.push('.');
        out.push_str(f);
    }
    if x < 0.0 && out.chars().any(|c| c.is_ascii_digit() && c != '0') {
        out.insert(0, '-');
    }
    out
}

/// A number as a person reads it, by the KPI's unit.
pub fn format_value(x: Option<f64>, unit: Option<Unit>, decimals: Option<u32>) -> String {
    let Some(x) = x else { return "–".to_string() };
    let d = |default: u32| decimals.unwrap_or(default) as usize;
    match unit {
        Some(Unit::Percent) => format!("{}%", thousands(x * 100.0, d(1))),
        Some(Unit::Currency) | Some(Unit::Count) => thousands(x, d(0)),
        Some(Unit::Days) | Some(Unit::Hours) | Some(Unit::Minutes) => thousands(x, d(1)),
        Some(Unit::Ratio) => thousands(x, d(2)),
        Some(Unit::Number) | None => {
            if decimals.is_none() && x.fract() == 0.0 {
                thousands(x, 0)
            } else {
                thousands(x, d(2))
            }
        }
    }
}

impl ResultTable {
    fn display(&self) -> Vec<Vec<String>> {
        self.rows
            .iter()
            .map(|r| {
                r.iter()
                    .zip(&self.formats)
                    .map(|(c, f)| match (c, f) {
                        (Cell::Text(t), _) => t.clone().unwrap_or_else(|| "–".into()),
                        (Cell::Number(x), Some((u, d))) => format_value(*x, *u, *d),
                        (Cell::Number(x), None) => format_value(*x, None, None),
                    })
                    .collect()
            })
            .collect()
    }

    /// A terminal table; with many KPIs, several tables of at most
    /// `MAX_COLUMNS` KPIs each, every one repeating the dimensions and period.
    pub fn to_table(&self) -> String {
        const MAX_COLUMNS: usize = 8;
        let keys: Vec<usize> = (0..self.columns.len())
            .filter(|&i| self.formats[i].is_none())
            .collect();
        let values: Vec<usize> = (0..self.columns.len())
            .filter(|&i| self.formats[i].is_some())
            .collect();
        if values.len() <= MAX_COLUMNS {
            return self.one_table();
        }
        let mut out = String::new();
        for chunk in values.chunks(MAX_COLUMNS) {
            let pick: Vec<usize> = keys.iter().chain(chunk).copied().collect();
            let part = ResultTable {
                columns: pick.iter().map(|&i| self.columns[i].clone()).collect(),
                formats: pick.iter().map(|&i| self.formats[i]).collect(),
                rows: self
                    .rows
                    .iter()
                    .map(|r| pick.iter().map(|&i| r[i].clone()).collect())
                    .collect(),
            };
            out.push_str(&part.one_table());
            out.push('\n');
        }
        out
    }

    fn one_table(&self) -> String {
        let mut t = comfy_table::Table::new();
        t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
        t.set_header(self.columns.clone());
        for (i, f) in self.formats.iter().enumerate() {
            if f.is_some() {
                if let Some(c) = t.column_mut(i) {
                    c.set_cell_alignment(comfy_table::CellAlignment::Right);
                }
            }
        }
        for r in self.display() {
            t.add_row(r);
        }
        format!("{t}\n")
    }

    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| {} |", self.columns.join(" | "));
        let aligns: Vec<&str> = self
            .formats
            .iter()
            .map(|f| if f.is_some() { "---:" } else { "---" })
            .collect();
        let _ = writeln!(out, "| {} |", aligns.join(" | "));
        for r in self.display() {
            let cells: Vec<String> = r.iter().map(|c| c.replace('|', "\\|")).collect();
            let _ = writeln!(out, "| {} |", cells.join(" | "));
        }
        out
    }

    pub fn to_csv(&self) -> String {
        let mut out = String::new();
        let quote = |s: &str| {
            if s.contains([',', '"', '\n', '\r']) {
                format!("\"{}\"", s.replace('"', "\"\""))
            } else {
                s.to_string()
            }
        };
        let header: Vec<String> = self.columns.iter().map(|c| quote(c)).collect();
        let _ = writeln!(out, "{}", header.join(","));
        for r in &self.rows {
            let cells: Vec<String> = r
                .iter()
                .map(|c| match c {
                    Cell::Text(t) => t.as_deref().map(quote).unwrap_or_default(),
                    Cell::Number(x) => x.map(|v| format!("{v}")).unwrap_or_default(),
                })
                .collect();
            let _ = writeln!(out, "{}", cells.join(","));
        }
        out
    }

    fn json_rows(&self) -> Vec<serde_json::Value> {
        self.rows
            .iter()
            .map(|r| {
                let mut m = serde_json::Map::new();
                for (c, v) in self.columns.iter().zip(r) {
                    let v = match v {
                        Cell::Text(t) => t
                            .clone()
                            .map_or(serde_json::Value::Null, serde_json::Value::String),
                        Cell::Number(x) => x
                            .and_then(serde_json::Number::from_f64)
                            .map_or(serde_json::Value::Null, serde_json::Value::Number),
                    };
                    m.insert(c.clone(), v);
                }
                serde_json::Value::Object(m)
            })
            .collect()
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(&self.json_rows()).unwrap_or_default() + "\n"
    }

    pub fn to_ndjson(&self) -> String {
        self.json_rows().iter().map(|v| v.to_string() + "\n").collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_by_unit() {
        assert_eq!(
            format_value(Some(1_234_567.4), Some(Unit::Currency), None),
            "1,234,567"
        );
        assert_eq!(format_value(Some(0.23456), Some(Unit::Percent), None), "23.5%");
        assert_eq!(format_value(Some(-1234.5), Some(Unit::Number), None), "-1,234.50");
        assert_eq!(format_value(Some(12.26), Some(Unit::Days), None), "12.3");
        assert_eq!(format_value(None, Some(Unit::Count), None), "–");
        assert_eq!(format_value(Some(999.0), Some(Unit::Count), None), "999");
    }
}
