//! Results as text, a block of rows at a time: terminal tables, Markdown,
//! CSV, JSON and NDJSON, each written from any [`Cells`] (a table of
//! cells, or an evaluation's columns read where they are). What a number
//! looks like to people and programs is `table`'s.

use std::fmt::Write as _;

use super::table::{
    format_value, is_whole, raw_number, write_raw_number, CellRef, Cells, NumberFormat, ResultTable,
};

/// The formats that carry raw values as text.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TextFormat {
    Csv,
    Json,
    Ndjson,
}

/// Writes `cells` as `format` to `w` a block of rows at a time, so that a
/// large result is never whole in memory as text. CSV has a header line;
/// JSON is an array of objects, keys in column order (a map would sort
/// them); NDJSON an object per line.
pub fn write_text(cells: &impl Cells, format: TextFormat, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let (columns, formats) = (cells.columns(), cells.formats());
    let mut out = String::with_capacity(BLOCK + 4096);
    if format == TextFormat::Csv {
        for (i, c) in columns.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_csv_text(&mut out, c);
        }
        out.push('\n');
    }
    let keys: Vec<String> = match format {
        TextFormat::Csv => Vec::new(),
        _ => columns
            .iter()
            .map(|c| serde_json::Value::String(c.clone()).to_string())
            .collect(),
    };
    let height = cells.height();
    if format == TextFormat::Json {
        out.push_str(if height == 0 { "[]\n" } else { "[\n  " });
    }
    for r in 0..height {
        if format == TextFormat::Csv {
            for c in 0..columns.len() {
                if c > 0 {
                    out.push(',');
                }
                match cells.cell(r, c) {
                    CellRef::Text(Some(t)) => write_csv_text(&mut out, t),
                    CellRef::Number(Some(x)) => write_raw_number(&mut out, x),
                    CellRef::Text(None) | CellRef::Number(None) => {}
                }
            }
        } else {
            if r > 0 && format == TextFormat::Json {
                out.push_str(",\n  ");
            }
            out.push('{');
            for (c, (k, f)) in keys.iter().zip(formats).enumerate() {
                if c > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(": ");
                write_json_value(&mut out, cells.cell(r, c), f.as_ref());
            }
            out.push('}');
        }
        match format {
            TextFormat::Json => {}
            TextFormat::Csv | TextFormat::Ndjson => out.push('\n'),
        }
        if out.len() >= BLOCK {
            w.write_all(out.as_bytes())?;
            out.clear();
        }
    }
    if format == TextFormat::Json && height > 0 {
        out.push_str("\n]\n");
    }
    w.write_all(out.as_bytes())
}

/// Bytes of text gathered before each write to the output.
const BLOCK: usize = 1 << 16;

/// Cell `row`, `column` of `cells` as a person reads it: a text as it is
/// (a null group empty), a number by its column's format.
fn shown(cells: &impl Cells, row: usize, column: usize) -> String {
    let format = cells.formats().get(column).copied().flatten();
    match (cells.cell(row, column), format) {
        (CellRef::Text(t), _) => t.unwrap_or_default().to_string(),
        (CellRef::Number(x), Some(f)) => f.format(x),
        (CellRef::Number(x), None) => format_value(x, None, None),
    }
}

/// Writes `cells` as terminal tables: one, or with many KPIs several of at
/// most eight KPIs each, every one repeating the dimensions and period.
pub fn write_table(cells: &impl Cells, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    const MAX_COLUMNS: usize = 8;
    let formats = cells.formats();
    let all: Vec<usize> = (0..cells.columns().len()).collect();
    let (keys, values): (Vec<usize>, Vec<usize>) = all.iter().partition(|&&i| formats[i].is_none());
    if values.len() <= MAX_COLUMNS {
        return write_one_table(cells, &all, w);
    }
    for chunk in values.chunks(MAX_COLUMNS) {
        let pick: Vec<usize> = keys.iter().chain(chunk).copied().collect();
        write_one_table(cells, &pick, w)?;
        w.write_all(b"\n")?;
    }
    Ok(())
}

/// Writes the columns `pick` of `cells` as one table, exactly as the table
/// library draws it (its condensed UTF-8 preset, numbers on the right),
/// a block of rows at a time: the library lays out each cell through
/// several texts of its own (2.5 s for a result of 30 KPIs by owner and
/// month, 2.2 million cells), and holding every cell's text took 280 MB.
/// Each cell is formatted twice, for the widths and then to be written.
/// Tables the library lays out otherwise (a cell with a line break or
/// another control character, an empty column, no rows) are left to it.
fn write_one_table(cells: &impl Cells, pick: &[usize], w: &mut dyn std::io::Write) -> std::io::Result<()> {
    if drawn(cells, pick, w)? {
        return Ok(());
    }
    writeln!(w, "{}", comfy(&ResultTable::picked(cells, pick)))
}

/// Writes the columns `pick` of `cells` drawn by hand as the library
/// draws them, if it would lay them out that way: `false`, with nothing
/// written, for a table it lays out otherwise.
fn drawn(cells: &impl Cells, pick: &[usize], w: &mut dyn std::io::Write) -> std::io::Result<bool> {
    use unicode_width::UnicodeWidthStr;
    let columns: Vec<&str> = pick.iter().map(|&i| cells.columns()[i].as_str()).collect();
    let control = |t: &str| t.chars().any(char::is_control);
    let mut widths: Vec<usize> = columns.iter().map(|c| c.width()).collect();
    let mut drawable = cells.height() > 0 && !columns.iter().any(|c| control(c));
    'rows: for r in (0..cells.height()).take_while(|_| drawable) {
        for (width, &c) in widths.iter_mut().zip(pick) {
            let text = shown(cells, r, c);
            if control(&text) {
                drawable = false;
                break 'rows;
            }
            *width = (*width).max(text.width());
        }
    }
    if !drawable || widths.contains(&0) {
        return Ok(false);
    }
    let right: Vec<bool> = pick.iter().map(|&i| cells.formats()[i].is_some()).collect();
    let rule = |out: &mut String, [left, between, end, fill]: [char; 4]| {
        out.push(left);
        for (i, width) in widths.iter().enumerate() {
            if i > 0 {
                out.push(between);
            }
            out.extend(std::iter::repeat_n(fill, width + 2));
        }
        out.push(end);
    };
    let line = |out: &mut String, texts: &mut dyn Iterator<Item = String>| {
        out.push('│');
        for (i, (text, width)) in texts.zip(&widths).enumerate() {
            if i > 0 {
                out.push('┆');
            }
            let pad = width - text.width();
            out.push(' ');
            if right.get(i).copied().unwrap_or(false) {
                out.extend(std::iter::repeat_n(' ', pad));
                out.push_str(&text);
            } else {
                out.push_str(&text);
                out.extend(std::iter::repeat_n(' ', pad));
            }
            out.push(' ');
        }
        out.push('│');
    };
    let mut out = String::with_capacity(BLOCK + 4096);
    rule(&mut out, ['┌', '┬', '┐', '─']);
    out.push('\n');
    line(&mut out, &mut columns.iter().map(|c| c.to_string()));
    out.push('\n');
    rule(&mut out, ['╞', '╪', '╡', '═']);
    for r in 0..cells.height() {
        out.push('\n');
        line(&mut out, &mut pick.iter().map(|&c| shown(cells, r, c)));
        if out.len() >= BLOCK {
            w.write_all(out.as_bytes())?;
            out.clear();
        }
    }
    out.push('\n');
    rule(&mut out, ['└', '┴', '┘', '─']);
    out.push('\n');
    w.write_all(out.as_bytes())?;
    Ok(true)
}

/// A cell's text in a Markdown table: a `|` would end the cell and a line
/// break the table, so the one is escaped and the other is `<br>`.
/// A text as one cell of a Markdown table: its `|` escaped, its line
/// breaks as `<br>`, and `<`, `>`, `&` as HTML writes them, so a value of
/// the data (`<!--`, `<img …>`) reads as itself where the table is shown
/// (a pull-request comment) and breaks nothing after it.
pub(crate) fn markdown_cell(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace("\r\n", "<br>")
        .replace(['\n', '\r'], "<br>")
}

/// Writes `cells` as a Markdown table, numbers as people read them and on
/// the right, a block of rows at a time.
pub fn write_markdown(cells: &impl Cells, w: &mut dyn std::io::Write) -> std::io::Result<()> {
    let mut out = String::with_capacity(BLOCK + 4096);
    let _ = writeln!(out, "| {} |", cells.columns().join(" | "));
    let aligns: Vec<&str> = cells
        .formats()
        .iter()
        .map(|f| if f.is_some() { "---:" } else { "---" })
        .collect();
    let _ = writeln!(out, "| {} |", aligns.join(" | "));
    for r in 0..cells.height() {
        out.push('|');
        for c in 0..cells.columns().len() {
            out.push(' ');
            out.push_str(&markdown_cell(&shown(cells, r, c)));
            out.push_str(" |");
        }
        out.push('\n');
        if out.len() >= BLOCK {
            w.write_all(out.as_bytes())?;
            out.clear();
        }
    }
    w.write_all(out.as_bytes())
}

/// A text as a CSV field: quoted when it holds a comma, quote or line break.
fn write_csv_text(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// A cell as JSON: text or null; numbers raw, counts as integers.
fn write_json_value(out: &mut String, cell: CellRef<'_>, format: Option<&NumberFormat>) {
    let number = match cell {
        CellRef::Text(Some(t)) => {
            match serde_json::to_string(t) {
                Ok(quoted) => out.push_str(&quoted),
                Err(_) => out.push_str("null"),
            }
            return;
        }
        CellRef::Number(Some(x)) if x.is_finite() => x,
        CellRef::Text(None) | CellRef::Number(_) => {
            out.push_str("null");
            return;
        }
    };
    if format.is_some_and(NumberFormat::integer) && is_whole(number) {
        let _ = write!(out, "{}", number as i64);
        return;
    }
    match serde_json::Number::from_f64(raw_number(number)) {
        Some(n) => {
            let _ = write!(out, "{n}");
        }
        None => out.push_str("null"),
    }
}

/// The table as the table library (comfy-table) lays it out, in its
/// condensed UTF-8 preset, numbers on the right.
pub(super) fn comfy(table: &ResultTable) -> comfy_table::Table {
    let mut t = comfy_table::Table::new();
    t.load_preset(comfy_table::presets::UTF8_FULL_CONDENSED);
    t.set_header(table.columns.clone());
    for (i, f) in table.formats.iter().enumerate() {
        if f.is_some() {
            if let Some(c) = t.column_mut(i) {
                c.set_cell_alignment(comfy_table::CellAlignment::Right);
            }
        }
    }
    for r in 0..table.rows.len() {
        t.add_row(
            (0..table.columns.len())
                .map(|c| shown(table, r, c))
                .collect::<Vec<_>>(),
        );
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::table::Cell;
    use crate::spec::model::Unit;

    /// A text with a `|` or a line break stays in its cell and its row.
    #[test]
    fn markdown_cells_keep_the_table_whole() {
        let t = ResultTable {
            columns: vec!["name".into(), "description".into()],
            formats: vec![None, None],
            rows: vec![vec![
                Cell::Text(Some("rev".into())),
                Cell::Text(Some("Won | lost\nsecond\r\nthird <!-- R&D".into())),
            ]],
        };
        assert_eq!(
            t.to_markdown(),
            "| name | description |\n| --- | --- |\n| rev | Won \\| lost<br>second<br>third &lt;!-- R&amp;D |\n"
        );
    }

    /// The table drawn directly is the library's table, character for
    /// character: texts of every display width (accents, combining marks,
    /// wide characters, emoji), empty and null cells, headers wider and
    /// narrower than their cells, numbers of every unit; and tables it
    /// cannot promise so (a line break in a cell, no rows) are left to it.
    #[test]
    fn tables_are_drawn_as_the_library_draws_them() {
        let fmt = |u: Option<Unit>| Some(NumberFormat::new(u, None));
        let text = |t: &str| Cell::Text(Some(t.to_string()));
        let table = |columns: &[&str], rows: Vec<Vec<Cell>>| ResultTable {
            columns: columns.iter().map(|c| c.to_string()).collect(),
            formats: vec![
                None,
                None,
                fmt(Some(Unit::Currency)),
                fmt(Some(Unit::Percent)),
                fmt(None),
            ],
            rows,
        };
        let names = [
            "ann",
            "Ünïcödé",
            "東京支店",
            "e\u{301}te\u{301}",
            "🚀 rocket",
            "",
            "a very long owner name indeed",
            "  spaced  ",
            "a|b ┆ c",
        ];
        let mut rows = Vec::new();
        for (i, name) in names.iter().enumerate() {
            let x = (i as f64 - 3.0) * 1234.567;
            rows.push(vec![
                if name.is_empty() {
                    Cell::Text(None)
                } else {
                    text(name)
                },
                text(&format!("2025-{:02}", i + 1)),
                Cell::Number((i != 2).then_some(x * 1000.0)),
                Cell::Number(Some(x / 10_000.0)),
                Cell::Number((i != 4).then_some(x)),
            ]);
        }
        let columns = ["owner", "period", "won_revenue", "win_rate", "x"];
        // The table drawn by hand, if it is.
        let drawn_text = |t: &ResultTable| {
            let mut out = Vec::new();
            let pick: Vec<usize> = (0..t.columns.len()).collect();
            drawn(t, &pick, &mut out)
                .unwrap()
                .then(|| String::from_utf8(out).unwrap())
        };
        for t in [
            table(&columns, rows.clone()),
            table(&["o", "p", "w", "r", "a much wider header"], rows[..2].to_vec()),
        ] {
            assert_eq!(drawn_text(&t), Some(format!("{}\n", comfy(&t))));
        }
        let mut broken = rows.clone();
        broken[0][0] = text("two\nlines");
        assert_eq!(drawn_text(&table(&columns, broken)), None);
        assert_eq!(drawn_text(&table(&columns, Vec::new())), None);
    }
}
