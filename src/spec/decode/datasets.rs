//! The calendar and datasets: sources, read options, columns, lookups.

use super::*;

impl Reader<'_> {
    pub(super) fn calendar(&mut self, node: &Node) -> Option<Calendar> {
        let f = self.fields(node, "the calendar", CALENDAR_KEYS)?;
        let mut cal = Calendar {
            span: node.span,
            ..Calendar::default()
        };
        if let Some(n) = f.get("week_start") {
            let text = self.string(n)?;
            match text.value.as_str() {
                "monday" => cal.week_start = WeekStart::Monday,
                "sunday" => cal.week_start = WeekStart::Sunday,
                other => self.push(diag::invalid_value(
                    n.span,
                    other,
                    "week start",
                    &["monday", "sunday"],
                )),
            }
        }
        if let Some(n) = f.get("fiscal_year_start") {
            if let Some(m) = self.uint(n, "a month number from 1 to 12", 1..=12) {
                cal.fiscal_year_start = m.value;
            }
        }
        Some(cal)
    }

    pub(super) fn dataset(&mut self, name: Name, node: &Node) -> Option<Dataset> {
        let f = self.fields(node, &format!("dataset `{}`", name.value), DATASET_KEYS)?;
        let mut d = Dataset {
            name,
            source: None,
            table: None,
            format: None,
            time: None,
            columns: Vec::new(),
            dimensions: Vec::new(),
            lookups: Vec::new(),
            description: None,
            read: ReadOptions::default(),
            base_dir: self.base_dir.to_path_buf(),
        };
        match f.get("source") {
            Some(n) if matches!(n.kind, NodeKind::Map(_)) => d.table = self.table_source(n, &d.name.value),
            Some(n) => d.source = self.string(n),
            None => self.missing_key(
                &f,
                d.name.span,
                "source",
                &format!("dataset `{}`", d.name.value),
                "source: data/deals.csv",
            ),
        }
        d.format = f.get("format").and_then(|n| self.keyword(n));
        d.time = f.get("time").and_then(|n| self.string(n));
        d.description = f.get("description").and_then(|n| self.string(n));
        if let Some(cols) = f.get("columns") {
            for (col, ty) in self.columns(cols) {
                d.columns.push((col, ty));
            }
        }
        if let Some(dims) = f.get("dimensions") {
            for (dim, def) in self.definitions(dims, "dimension", &[]) {
                if let Some(e) = self.expr(def) {
                    d.dimensions.push((dim, e));
                }
            }
        }
        if let Some(l) = f.get("lookups") {
            d.lookups = self.lookups(l);
        }
        if let Some(r) = f.get("read") {
            d.read = self.read_options(r, &d.name.value);
        }
        // A `.tsv` file is tab-separated unless `read:` says otherwise.
        if let Some(s) = d.source.as_ref().filter(|s| is_tab_separated(&s.value)) {
            d.read.delimiter = d.read.delimiter.or(Some(Spanned::new('\t', s.span)));
        }
        Some(d)
    }

    pub(super) fn connection(&mut self, name: Name, node: &Node) -> Option<Connection> {
        let f = self.fields(node, &format!("connection `{}`", name.value), CONNECTION_KEYS)?;
        let mut options = Vec::new();
        if let Some(o) = f.get("options") {
            for (key, value) in self.definitions(o, "option", &[]) {
                if let Some(v) = self.string(value) {
                    options.push((key, v));
                }
            }
        }
        let driver = f.get("driver").and_then(|n| self.string(n));
        if driver.is_none() && f.get("driver").is_none() {
            self.missing_key(
                &f,
                name.span,
                "driver",
                &format!("connection `{}`", name.value),
                "driver: postgresql",
            );
        }
        Some(Connection {
            driver,
            uri: f.get("uri").and_then(|n| self.string(n)),
            dialect: f.get("dialect").and_then(|n| self.keyword(n)),
            options,
            name,
            base_dir: self.base_dir.to_path_buf(),
        })
    }

    /// `source: {connection: c, table: t}` or `{connection: c, query: "select …"}`.
    fn table_source(&mut self, node: &Node, dataset: &str) -> Option<TableSource> {
        let f = self.fields(
            node,
            &format!("`source:` of dataset `{dataset}`"),
            TABLE_SOURCE_KEYS,
        )?;
        let Some(connection) = f.get("connection").and_then(|n| self.string(n)) else {
            self.missing_key(
                &f,
                node.span,
                "connection",
                &format!("`source:` of dataset `{dataset}`"),
                "connection: warehouse",
            );
            return None;
        };
        let table = f.get("table").and_then(|n| self.string(n));
        let query = f.get("query").and_then(|n| self.string(n));
        match (&table, &query) {
            (None, None) => self.missing_key(
                &f,
                node.span,
                "table",
                &format!("`source:` of dataset `{dataset}`"),
                "table: analytics.deals",
            ),
            (Some(t), Some(q)) => self.push(
                Diagnostic::error(
                    "kpi::source_conflict",
                    "a source has either `table` or `query`, not both",
                )
                .at(q.span, "second source")
                .also(t.span, "first source")
                .help("read a table with `table:`, or the rows of a query with `query:`"),
            ),
            _ => {}
        }
        Some(TableSource {
            connection,
            table,
            query,
            span: node.span,
        })
    }

    pub(super) fn read_options(&mut self, node: &Node, dataset: &str) -> ReadOptions {
        let mut out = ReadOptions::default();
        let Some(f) = self.fields(node, &format!("`read:` of dataset `{dataset}`"), READ_KEYS) else {
            return out;
        };
        if let Some(n) = f.get("delimiter") {
            if let Some(t) = self.string(n) {
                let t = Spanned::new(t.value.replace("\\t", "\t"), t.span);
                let mut chars = t.value.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if c.is_ascii() && c != '"' && c != '\n' => {
                        out.delimiter = Some(Spanned::new(c, t.span))
                    }
                    _ => self.push(diag::invalid_delimiter(t.span, &t.value)),
                }
            }
        }
        if let Some(n) = f.get("null_values") {
            let words: Vec<Spanned<String>> = match &n.kind {
                NodeKind::Seq(items) => items
                    .iter()
                    .filter_map(|i| match &i.kind {
                        // `- ""` and a bare `-` are both texts here.
                        NodeKind::Scalar { value, .. } => Some(Spanned::new(value.clone(), i.span)),
                        _ => self.string(i),
                    })
                    .collect(),
                _ => self.string(n).into_iter().collect(),
            };
            // `"\N"` in double quotes is YAML's escape of the character NEL,
            // which no one means: it is the `\N` of MySQL's and PostgreSQL's
            // dumps, as the delimiter `"\t"` is a tab.
            out.null_values = words
                .into_iter()
                .map(|w| match w.value.as_str() {
                    "\u{85}" => Spanned::new("\\N".to_string(), w.span),
                    _ => w,
                })
                .collect();
        }
        if let Some(n) = f.get("decimal_comma") {
            out.decimal_comma = self.boolean(n).is_some_and(|b| b.value);
        }
        if let Some(n) = f.get("percent") {
            out.percent = self.boolean(n).is_some_and(|b| b.value);
        }
        if let Some(t) = f.get("thousands").and_then(|n| self.string(n)) {
            let decimal_mark = if out.decimal_comma { ',' } else { '.' };
            let mut chars = t.value.chars();
            match (chars.next(), chars.next()) {
                (Some(c), None)
                    if c != decimal_mark && !c.is_ascii_digit() && !matches!(c, '"' | '\n' | '-' | '+') =>
                {
                    out.thousands = Some(Spanned::new(c, t.span))
                }
                _ => self.push(diag::invalid_thousands(t.span, &t.value, decimal_mark)),
            }
        }
        if let Some(c) = f.get("currency").and_then(|n| self.string(n)) {
            let separator = out.thousands.as_ref().map(|t| t.value);
            let clashes = |ch: char| {
                ch.is_ascii_digit() || ch.is_whitespace() || "-+\"'.,".contains(ch) || Some(ch) == separator
            };
            match c.value.is_empty() || c.value.chars().any(clashes) {
                true => self.push(diag::invalid_currency(c.span, &c.value)),
                false => out.currency = Some(c),
            }
        }
        out.date_format = f.get("date_format").and_then(|n| self.string(n));
        out.datetime_format = f.get("datetime_format").and_then(|n| self.string(n));
        out.timezone = f.get("timezone").and_then(|n| self.string(n));
        out.encoding = f.get("encoding").and_then(|n| self.keyword(n));
        out.on_error = f.get("on_error").and_then(|n| self.keyword(n));
        out
    }

    /// Column names come from data files, so any text is allowed.
    pub(super) fn columns(&mut self, node: &Node) -> Vec<(Name, Spanned<ColumnType>)> {
        let NodeKind::Map(entries) = &node.kind else {
            self.push(diag::wrong_type(
                node.span,
                "a mapping of column names to types",
                node.describe(),
            ));
            return Vec::new();
        };
        let mut out: Vec<(Name, Spanned<ColumnType>)> = Vec::new();
        for (k, v) in entries {
            let Some(name) = self.string(k) else { continue };
            if let Some((first, _)) = out.iter().find(|(n, _)| n.value == name.value) {
                self.push(diag::duplicate_key(k.span, first.span, &name.value));
                continue;
            }
            if let Some(t) = self.keyword::<ColumnType>(v) {
                out.push((name, t));
            }
        }
        out
    }

    pub(super) fn lookups(&mut self, node: &Node) -> Vec<Lookup> {
        let items: Vec<&Node> = match &node.kind {
            NodeKind::Seq(items) => items.iter().collect(),
            NodeKind::Map(_) => vec![node],
            _ => {
                self.push(diag::wrong_type(node.span, "a list of lookups", node.describe()));
                return Vec::new();
            }
        };
        let mut out = Vec::new();
        for item in items {
            let Some(f) = self.fields(item, "a lookup", LOOKUP_KEYS) else {
                continue;
            };
            let Some(dataset) = f.get("dataset").and_then(|n| self.string(n)) else {
                if f.get("dataset").is_none() {
                    self.missing_key(&f, item.span, "dataset", "a lookup", "dataset: reps");
                }
                continue;
            };
            let Some(on) = f.get("on") else {
                self.missing_key(&f, item.span, "on", "a lookup", "on: owner");
                continue;
            };
            let (left, right) = match &on.kind {
                NodeKind::Map(_) => {
                    let Some(of) = self.fields(on, "a lookup key", &["left", "right"]) else {
                        continue;
                    };
                    let left = of.get("left").and_then(|n| self.string(n));
                    let right = of.get("right").and_then(|n| self.string(n));
                    match (left, right) {
                        (Some(l), Some(r)) => (l, r),
                        _ => {
                            self.missing_key(
                                &of,
                                on.span,
                                "left` and `right",
                                "a lookup key",
                                "on: {left: owner, right: rep}",
                            );
                            continue;
                        }
                    }
                }
                _ => {
                    let Some(k) = self.string(on) else { continue };
                    (k.clone(), k)
                }
            };
            out.push(Lookup {
                dataset,
                left,
                right,
                span: item.span,
            });
        }
        out
    }
}

/// Whether a source names tab-separated files (`deals.tsv`, `*.tab`,
/// gzipped or not).
fn is_tab_separated(source: &str) -> bool {
    let lower = source.to_ascii_lowercase();
    let lower = lower.strip_suffix(".gz").unwrap_or(&lower);
    lower.ends_with(".tsv") || lower.ends_with(".tab")
}
