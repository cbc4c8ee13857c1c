//! Stage 1, load: files → YAML nodes → the typed [`Spec`], with every shape
//! error reported (never only the first).

use std::path::{Path, PathBuf};

use super::diagnostics as diag;
use super::model::*;
use super::yaml::{self, Node, NodeKind};
use crate::diagnostic::{Diagnostic, Diagnostics};
use crate::source::{SourceFile, SourceMap};
use crate::span::{Span, Spanned};
use crate::syntax::{self, Rebase, ScalarStyle};
use crate::time::Date;

/// A loaded spec with the files it came from and what loading found.
#[derive(Debug, Default)]
pub struct Loaded {
    pub spec: Spec,
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
}

/// One file's bytes, its display name and the folder its paths are relative to.
pub struct InputFile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub base_dir: PathBuf,
}

/// Loads a spec file, or every `*.yaml`/`*.yml` below a folder.
pub fn load(path: &Path) -> Loaded {
    let shown = path.display().to_string();
    let mut files = Vec::new();
    let mut diagnostics = Diagnostics::new();
    if path.is_dir() {
        let mut found = Vec::new();
        collect_yaml(path, &mut found, &mut diagnostics);
        found.sort();
        for f in found {
            read_input(&f, &mut files, &mut diagnostics);
        }
    } else if path.exists() {
        read_input(path, &mut files, &mut diagnostics);
    } else {
        diagnostics.push(diag::spec_not_found(&shown));
        return Loaded {
            diagnostics,
            ..Loaded::default()
        };
    }
    let mut loaded = load_files(files);
    diagnostics.extend(std::mem::take(&mut loaded.diagnostics));
    // Funnels are measures too: a spec of funnels alone evaluates.
    if !diagnostics.has_errors() && loaded.spec.kpis.is_empty() && loaded.spec.funnels.is_empty() {
        diagnostics.push(diag::empty_spec(&shown));
    }
    loaded.diagnostics = diagnostics;
    loaded
}

/// Loads a spec from text, as if it were a file named `name` in the working folder.
pub fn load_str(name: &str, text: &str) -> Loaded {
    let base_dir = Path::new(name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    load_files(vec![InputFile {
        name: name.to_string(),
        bytes: text.as_bytes().to_vec(),
        base_dir,
    }])
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>, diags: &mut Diagnostics) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(diag::unreadable_file(&dir.display().to_string(), &e.to_string()));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_yaml(&path, out, diags);
        } else if matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
            out.push(path);
        }
    }
}

fn read_input(path: &Path, files: &mut Vec<InputFile>, diags: &mut Diagnostics) {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => files.push(InputFile {
            name,
            bytes,
            base_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        }),
        Err(e) => diags.push(diag::unreadable_file(&name, &e.to_string())),
    }
}

/// Loads already-read files (from disk, a git revision or a test).
pub fn load_files(files: Vec<InputFile>) -> Loaded {
    let mut loaded = Loaded::default();
    let mut calendar_span: Option<Span> = None;
    for input in files {
        if input.bytes.contains(&0) {
            loaded.diagnostics.push(diag::binary_file(&input.name));
            continue;
        }
        let text = match String::from_utf8(input.bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let at = String::from_utf8_lossy(&e.as_bytes()[..valid]).len();
                let file = loaded.sources.add(SourceFile::new(input.name, lossy));
                loaded
                    .diagnostics
                    .push(diag::not_utf8(Span::new(file, at, at + 1)));
                continue;
            }
        };
        let file = loaded.sources.add(SourceFile::new(input.name.clone(), text));
        let Some(source) = loaded.sources.get(file) else {
            continue;
        };
        let text = source.text.as_str();
        let root = match yaml::parse(file, text) {
            Ok(Some(root)) => root,
            Ok(None) => {
                loaded.diagnostics.push(diag::empty_file(&input.name));
                continue;
            }
            Err(d) => {
                loaded.diagnostics.push(d);
                continue;
            }
        };
        if root.is_null() {
            loaded.diagnostics.push(diag::empty_file(&input.name));
            continue;
        }
        let mut reader = Reader {
            text,
            base_dir: &input.base_dir,
            diags: &mut loaded.diagnostics,
        };
        reader.file_root(&root, &mut loaded.spec, &mut calendar_span);
    }
    check_duplicates(&loaded.spec, &mut loaded.diagnostics);
    loaded
}

fn check_duplicates(spec: &Spec, diags: &mut Diagnostics) {
    fn dups<'a>(names: impl Iterator<Item = &'a Name>, what: &str, diags: &mut Diagnostics) {
        let mut seen: std::collections::HashMap<&str, Span> = std::collections::HashMap::new();
        for n in names {
            match seen.get(n.value.as_str()) {
                Some(first) => diags.push(diag::duplicate_name(n.span, *first, what, &n.value)),
                None => {
                    seen.insert(&n.value, n.span);
                }
            }
        }
    }
    dups(spec.datasets.iter().map(|d| &d.name), "dataset", diags);
    dups(spec.segments.iter().map(|d| &d.name), "segment", diags);
    dups(spec.kpis.iter().map(|d| &d.name), "KPI", diags);
    dups(spec.targets.iter().map(|d| &d.name), "target", diags);
    dups(spec.funnels.iter().map(|d| &d.name), "funnel", diags);
    dups(spec.tests.iter().map(|d| &d.name), "test", diags);
}

/// The keys of a mapping, checked against the known ones.
struct Fields<'n> {
    entries: Vec<(&'n str, Span, &'n Node)>,
    span: Span,
}

impl<'n> Fields<'n> {
    fn get(&self, key: &str) -> Option<&'n Node> {
        self.entries
            .iter()
            .find(|(k, _, _)| *k == key)
            .map(|(_, _, v)| *v)
    }
}

struct Reader<'a> {
    text: &'a str,
    base_dir: &'a Path,
    diags: &'a mut Diagnostics,
}

pub(crate) const TOP_KEYS: &[&str] = &[
    "version", "calendar", "datasets", "segments", "kpis", "targets", "funnels", "tests",
];
pub(crate) const CALENDAR_KEYS: &[&str] = &["week_start", "fiscal_year_start"];
pub(crate) const DATASET_KEYS: &[&str] = &[
    "source",
    "format",
    "time",
    "columns",
    "dimensions",
    "lookups",
    "read",
    "description",
];
pub(crate) const READ_KEYS: &[&str] = &[
    "delimiter",
    "null_values",
    "decimal_comma",
    "date_format",
    "datetime_format",
    "timezone",
    "encoding",
    "on_error",
];
pub(crate) const LOOKUP_KEYS: &[&str] = &["dataset", "on"];
pub(crate) const SEGMENT_KEYS: &[&str] = &["where", "title", "description"];
pub(crate) const KPI_KEYS: &[&str] = &[
    "title",
    "description",
    "dataset",
    "measure",
    "where",
    "time",
    "unit",
    "decimals",
    "direction",
    "indicator",
    "owner",
    "tags",
    "active",
    "at",
];
pub(crate) const TARGET_KEYS: &[&str] = &[
    "kpi",
    "segment",
    "by",
    "period",
    "every",
    "value",
    "change",
    "baseline",
    "tolerance",
    "pacing",
    "objective",
    "owner",
    "description",
];
pub(crate) const FUNNEL_KEYS: &[&str] = &["dataset", "time", "steps", "title", "description"];
pub(crate) const TEST_KEYS: &[&str] = &[
    "kpi",
    "target",
    "grain",
    "by",
    "segment",
    "period",
    "as_of",
    "data",
    "expect",
    "status",
    "tolerance",
];

impl<'a> Reader<'a> {
    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// A mapping with known keys; unknown and repeated keys are reported.
    fn fields<'n>(&mut self, node: &'n Node, what: &str, known: &[&str]) -> Option<Fields<'n>> {
        let NodeKind::Map(entries) = &node.kind else {
            self.push(diag::wrong_type(
                node.span,
                &format!("a mapping for {what}"),
                node.describe(),
            ));
            return None;
        };
        let mut out: Vec<(&'n str, Span, &'n Node)> = Vec::new();
        for (k, v) in entries {
            let Some((key, _)) = k.as_scalar() else {
                self.push(diag::wrong_type(k.span, "a key", k.describe()));
                continue;
            };
            if let Some((_, first, _)) = out.iter().find(|(x, _, _)| *x == key) {
                self.push(diag::duplicate_key(k.span, *first, key));
                continue;
            }
            if !known.contains(&key) {
                self.push(diag::unknown_key(k.span, key, what, known));
                continue;
            }
            out.push((key, k.span, v));
        }
        Some(Fields {
            entries: out,
            span: node.span,
        })
    }

    /// A `NAME: definition` mapping; names are validated.
    fn definitions<'n>(&mut self, node: &'n Node, what: &str) -> Vec<(Name, &'n Node)> {
        if node.is_null() {
            return Vec::new();
        }
        let NodeKind::Map(entries) = &node.kind else {
            self.push(diag::wrong_type(
                node.span,
                &format!("a mapping of {what} names to definitions"),
                node.describe(),
            ));
            return Vec::new();
        };
        let mut out: Vec<(Name, &'n Node)> = Vec::new();
        let mut seen: std::collections::HashMap<&str, Span> = std::collections::HashMap::new();
        for (k, v) in entries {
            let Some((key, _)) = k.as_scalar() else {
                self.push(diag::wrong_type(k.span, &format!("a {what} name"), k.describe()));
                continue;
            };
            if let Some(first) = seen.get(key) {
                self.push(diag::duplicate_key(k.span, *first, key));
                continue;
            }
            seen.insert(key, k.span);
            if !is_valid_name(key) {
                self.push(diag::invalid_name(k.span, key));
            }
            out.push((Spanned::new(key.to_string(), k.span), v));
        }
        out
    }

    fn string(&mut self, node: &Node) -> Option<Text> {
        match &node.kind {
            NodeKind::Scalar { value, .. } if !node.is_null() => Some(Spanned::new(value.clone(), node.span)),
            _ => {
                self.push(diag::wrong_type(node.span, "a string", node.describe()));
                None
            }
        }
    }

    fn strings(&mut self, node: &Node) -> Vec<Text> {
        match &node.kind {
            NodeKind::Seq(items) => items.iter().filter_map(|i| self.string(i)).collect(),
            NodeKind::Scalar { value, .. } if !node.is_null() => value
                .split(',')
                .map(|s| Spanned::new(s.trim().to_string(), node.span))
                .filter(|s| !s.value.is_empty())
                .collect(),
            _ => {
                self.push(diag::wrong_type(node.span, "a list of names", node.describe()));
                Vec::new()
            }
        }
    }

    fn keyword<K: Keyword + PartialEq>(&mut self, node: &Node) -> Option<Spanned<K>> {
        let text = self.string(node)?;
        match K::parse(&text.value) {
            Some(k) => Some(Spanned::new(k, node.span)),
            None => {
                let allowed: Vec<&str> = K::ALL.iter().map(|(k, _)| *k).collect();
                self.push(diag::invalid_value(node.span, &text.value, K::WHAT, &allowed));
                None
            }
        }
    }

    fn number(&mut self, node: &Node, what: &str) -> Option<Spanned<f64>> {
        let text = self.string(node)?;
        match parse_number(&text.value) {
            Some(n) => Some(Spanned::new(n, node.span)),
            None => {
                self.push(diag::invalid_number(node.span, &text.value, what));
                None
            }
        }
    }

    fn uint(
        &mut self,
        node: &Node,
        what: &str,
        range: std::ops::RangeInclusive<u32>,
    ) -> Option<Spanned<u32>> {
        let text = self.string(node)?;
        match text.value.parse::<u32>() {
            Ok(n) if range.contains(&n) => Some(Spanned::new(n, node.span)),
            _ => {
                self.push(diag::invalid_number(node.span, &text.value, what));
                None
            }
        }
    }

    fn date(&mut self, node: &Node) -> Option<Spanned<Date>> {
        let text = self.string(node)?;
        match Date::parse(text.value.trim()) {
            Some(d) => Some(Spanned::new(d, node.span)),
            None => {
                self.push(diag::invalid_date(node.span, &text.value));
                None
            }
        }
    }

    fn expr(&mut self, node: &Node) -> Option<ExprField> {
        let (value, style) = match &node.kind {
            NodeKind::Scalar { value, style } => (value.clone(), *style),
            _ => {
                self.push(diag::wrong_type(node.span, "an expression", node.describe()));
                return None;
            }
        };
        let rebase = Rebase::for_scalar(self.text, node.span, &value, style);
        let expr = match syntax::parse(&value, &rebase) {
            Ok(e) => Some(e),
            Err(d) => {
                self.push(d);
                None
            }
        };
        Some(ExprField {
            text: value,
            span: node.span,
            expr,
        })
    }

    fn file_root(&mut self, root: &Node, spec: &mut Spec, calendar_span: &mut Option<Span>) {
        let Some(f) = self.fields(root, "a spec file", TOP_KEYS) else {
            return;
        };
        if let Some(v) = f.get("version") {
            let text = v.as_scalar().map(|(s, _)| s.to_string()).unwrap_or_default();
            if text != "1" {
                self.push(diag::unsupported_version(v.span, &text));
            }
        }
        if let Some(c) = f.get("calendar") {
            match calendar_span {
                Some(first) => self.push(diag::duplicate_calendar(c.span, *first)),
                None => {
                    *calendar_span = Some(c.span);
                    spec.calendar = self.calendar(c);
                }
            }
        }
        if let Some(n) = f.get("datasets") {
            for (name, def) in self.definitions(n, "dataset") {
                if let Some(d) = self.dataset(name, def) {
                    spec.datasets.push(d);
                }
            }
        }
        if let Some(n) = f.get("segments") {
            for (name, def) in self.definitions(n, "segment") {
                if let Some(s) = self.segment(name, def) {
                    spec.segments.push(s);
                }
            }
        }
        if let Some(n) = f.get("kpis") {
            for (name, def) in self.definitions(n, "KPI") {
                if let Some(k) = self.kpi(name, def) {
                    spec.kpis.push(k);
                }
            }
        }
        if let Some(n) = f.get("targets") {
            for (name, def) in self.definitions(n, "target") {
                if let Some(t) = self.target(name, def) {
                    spec.targets.push(t);
                }
            }
        }
        if let Some(n) = f.get("funnels") {
            for (name, def) in self.definitions(n, "funnel") {
                if let Some(x) = self.funnel(name, def) {
                    spec.funnels.push(x);
                }
            }
        }
        if let Some(n) = f.get("tests") {
            for (name, def) in self.definitions(n, "test") {
                if let Some(t) = self.test(name, def) {
                    spec.tests.push(t);
                }
            }
        }
    }

    fn calendar(&mut self, node: &Node) -> Option<Calendar> {
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
            if let Some(m) = self.uint(n, "month number from 1 to 12", 1..=12) {
                cal.fiscal_year_start = m.value;
            }
        }
        Some(cal)
    }

    fn dataset(&mut self, name: Name, node: &Node) -> Option<Dataset> {
        let f = self.fields(node, &format!("dataset `{}`", name.value), DATASET_KEYS)?;
        let mut d = Dataset {
            name,
            source: None,
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
            Some(n) => d.source = self.string(n),
            None => self.push(diag::missing_key(
                d.name.span,
                "source",
                &format!("dataset `{}`", d.name.value),
                "source: data/deals.csv",
            )),
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
            for (dim, def) in self.definitions(dims, "dimension") {
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
        Some(d)
    }

    fn read_options(&mut self, node: &Node, dataset: &str) -> ReadOptions {
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
            out.null_values = match &n.kind {
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
        }
        if let Some(n) = f.get("decimal_comma") {
            out.decimal_comma = self.boolean(n).is_some_and(|b| b.value);
        }
        out.date_format = f.get("date_format").and_then(|n| self.string(n));
        out.datetime_format = f.get("datetime_format").and_then(|n| self.string(n));
        out.timezone = f.get("timezone").and_then(|n| self.string(n));
        out.encoding = f.get("encoding").and_then(|n| self.keyword(n));
        out.on_error = f.get("on_error").and_then(|n| self.keyword(n));
        out
    }

    fn boolean(&mut self, node: &Node) -> Option<Spanned<bool>> {
        let text = self.string(node)?;
        match text.value.as_str() {
            "true" => Some(Spanned::new(true, node.span)),
            "false" => Some(Spanned::new(false, node.span)),
            other => {
                self.push(diag::invalid_value(
                    node.span,
                    other,
                    "boolean",
                    &["true", "false"],
                ));
                None
            }
        }
    }

    /// Column names come from data files, so any text is allowed.
    fn columns(&mut self, node: &Node) -> Vec<(Name, Spanned<ColumnType>)> {
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

    fn lookups(&mut self, node: &Node) -> Vec<Lookup> {
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
                    self.push(diag::missing_key(
                        item.span,
                        "dataset",
                        "a lookup",
                        "dataset: reps",
                    ));
                }
                continue;
            };
            let Some(on) = f.get("on") else {
                self.push(diag::missing_key(item.span, "on", "a lookup", "on: owner"));
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
                            self.push(diag::missing_key(
                                on.span,
                                "left` and `right",
                                "a lookup key",
                                "on: {left: owner, right: rep}",
                            ));
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

    fn segment(&mut self, name: Name, node: &Node) -> Option<Segment> {
        // `enterprise: segment == "Enterprise"` is shorthand for `{where: …}`.
        if let NodeKind::Scalar { .. } = node.kind {
            let filter = self.expr(node);
            return Some(Segment {
                name,
                filter,
                title: None,
                description: None,
            });
        }
        let f = self.fields(node, &format!("segment `{}`", name.value), SEGMENT_KEYS)?;
        let filter = match f.get("where") {
            Some(n) => self.expr(n),
            None => {
                self.push(diag::missing_key(
                    name.span,
                    "where",
                    &format!("segment `{}`", name.value),
                    "where: segment == \"Enterprise\"",
                ));
                None
            }
        };
        Some(Segment {
            title: f.get("title").and_then(|n| self.string(n)),
            description: f.get("description").and_then(|n| self.string(n)),
            name,
            filter,
        })
    }

    fn kpi(&mut self, name: Name, node: &Node) -> Option<Kpi> {
        let what = format!("KPI `{}`", name.value);
        let f = self.fields(node, &what, KPI_KEYS)?;
        let measure = match f.get("measure") {
            Some(n) => self.expr(n),
            None => {
                self.push(diag::missing_key(
                    name.span,
                    "measure",
                    &what,
                    "measure: sum(amount)",
                ));
                None
            }
        };
        let active = match f.get("active") {
            Some(n) => self.active(n),
            None => None,
        };
        Some(Kpi {
            title: f.get("title").and_then(|n| self.string(n)),
            description: f.get("description").and_then(|n| self.string(n)),
            dataset: f.get("dataset").and_then(|n| self.string(n)),
            measure,
            filter: f.get("where").and_then(|n| self.expr(n)),
            time: f.get("time").and_then(|n| self.string(n)),
            unit: f.get("unit").and_then(|n| self.keyword(n)),
            decimals: f
                .get("decimals")
                .and_then(|n| self.uint(n, "number of decimals from 0 to 12", 0..=12)),
            direction: f.get("direction").and_then(|n| self.keyword(n)),
            indicator: f.get("indicator").and_then(|n| self.keyword(n)),
            owner: f.get("owner").and_then(|n| self.string(n)),
            tags: f.get("tags").map(|n| self.strings(n)).unwrap_or_default(),
            active,
            at: f.get("at").and_then(|n| self.keyword(n)),
            name,
        })
    }

    fn active(&mut self, node: &Node) -> Option<Active> {
        let f = self.fields(node, "`active`", &["from", "to"])?;
        let Some(from) = f.get("from").and_then(|n| self.string(n)) else {
            if f.get("from").is_none() {
                self.push(diag::missing_key(
                    node.span,
                    "from",
                    "`active`",
                    "active: {from: started_at, to: ended_at}",
                ));
            }
            return None;
        };
        let to = f.get("to").and_then(|n| self.string(n));
        Some(Active {
            from,
            to,
            span: f.span,
        })
    }

    fn period(&mut self, node: &Node) -> Option<Spanned<PeriodSpec>> {
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
                        if f.get("from").is_none() || f.get("to").is_none() {
                            self.push(diag::missing_key(
                                node.span,
                                "from` and `to",
                                "a period",
                                "period: {from: 2025-07-01, to: 2025-09-30}",
                            ));
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

    fn target(&mut self, name: Name, node: &Node) -> Option<Target> {
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
        Some(Target {
            keys: f.entries.iter().map(|(k, _, _)| k.to_string()).collect(),
            kpi: f.get("kpi").and_then(|n| self.string(n)),
            segment: f.get("segment").and_then(|n| self.string(n)),
            by: f.get("by").and_then(|n| self.string(n)),
            period: f.get("period").and_then(|n| self.period(n)),
            every: f.get("every").and_then(|n| self.keyword(n)),
            value: f.get("value").and_then(|n| self.number(n, "number")),
            change,
            baseline,
            tolerance: f
                .get("tolerance")
                .and_then(|n| self.number(n, "tolerance such as 10%")),
            pacing: f.get("pacing").and_then(|n| self.keyword(n)),
            objective: f.get("objective").and_then(|n| self.string(n)),
            owner: f.get("owner").and_then(|n| self.string(n)),
            description: f.get("description").and_then(|n| self.string(n)),
            name,
        })
    }

    fn funnel(&mut self, name: Name, node: &Node) -> Option<Funnel> {
        let what = format!("funnel `{}`", name.value);
        let f = self.fields(node, &what, FUNNEL_KEYS)?;
        let mut steps = Vec::new();
        match f.get("steps") {
            Some(n) => match &n.kind {
                NodeKind::Seq(items) => {
                    for item in items {
                        let Some(sf) = self.fields(item, "a funnel step", &["name", "where"]) else {
                            continue;
                        };
                        let Some(step_name) = sf.get("name").and_then(|n| self.string(n)) else {
                            if sf.get("name").is_none() {
                                self.push(diag::missing_key(
                                    item.span,
                                    "name",
                                    "a funnel step",
                                    "{name: contacted, where: first_contact_at is not null}",
                                ));
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
            None => self.push(diag::missing_key(
                name.span,
                "steps",
                &what,
                "steps: [{name: created}]",
            )),
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

    fn test(&mut self, name: Name, node: &Node) -> Option<Test> {
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
            kpi: f.get("kpi").and_then(|n| self.string(n)),
            target: f.get("target").and_then(|n| self.string(n)),
            grain: f.get("grain").and_then(|n| self.keyword(n)),
            by: f.get("by").map(|n| self.strings(n)).unwrap_or_default(),
            segment: f.get("segment").map(|n| self.strings(n)).unwrap_or_default(),
            period: f.get("period").and_then(|n| self.period(n)),
            as_of: f.get("as_of").and_then(|n| self.date(n)),
            expect: f.get("expect").map(|n| self.rows(n)).unwrap_or_default(),
            status: f.get("status").and_then(|n| self.keyword(n)),
            tolerance: f.get("tolerance").and_then(|n| self.number(n, "tolerance")),
            data,
            name,
        })
    }

    fn rows(&mut self, node: &Node) -> Vec<Row> {
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
            for (k, v) in entries {
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
                row.push((col, Spanned::new(value, v.span)));
            }
            rows.push(row);
        }
        rows
    }
}

pub fn is_valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `1_200_000`, `2e6`, `-3.5`, `15%` (0.15).
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let (t, scale) = match t.strip_suffix('%') {
        Some(rest) => (rest.trim_end(), 0.01),
        None => (t, 1.0),
    };
    let clean: String = t.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || clean.starts_with('_') {
        return None;
    }
    clean
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| v * scale)
}

/// `+15%`, `-10%`, `+5pp`, `-2`.
pub fn parse_change(text: &str) -> Option<Change> {
    let t = text.trim();
    let sign = match t.chars().next()? {
        '+' => 1.0,
        '-' => -1.0,
        _ => return None,
    };
    let body = t.get(1..)?.trim();
    let (kind, number) = if let Some(n) = body.strip_suffix("pp") {
        (ChangeKind::Points, n)
    } else if let Some(n) = body.strip_suffix('%') {
        (ChangeKind::Relative, n)
    } else {
        (ChangeKind::Absolute, body)
    };
    let v = parse_number(number.trim())?;
    let amount = match kind {
        ChangeKind::Absolute => sign * v,
        _ => sign * v / 100.0,
    };
    Some(Change { amount, kind })
}

/// YAML's plain scalars take their type from their text; quoted ones are strings.
fn scalar_value(value: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(value.to_string());
    }
    match value {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        _ => match parse_number(value) {
            Some(n) if !value.ends_with('%') => Value::Number(n),
            _ => Value::String(value.to_string()),
        },
    }
}
