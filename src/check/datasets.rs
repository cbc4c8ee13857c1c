//! Datasets: sources and formats, declared and read columns, lookups,
//! time columns and computed dimensions.

use super::*;

/// `open`: the columns of `data` are typed, but a name they lack may still
/// be a column (a test's rows, which hold some columns only).
pub(super) fn datasets(
    spec: &Spec,
    data: Option<&DataSchemas>,
    open: bool,
    model: &mut Model,
    diags: &mut Diagnostics,
) -> Vec<bool> {
    let mut closed = Vec::new();
    for d in &spec.datasets {
        let declared: Vec<(String, Type)> = d
            .columns
            .iter()
            .map(|(n, t)| (n.value.clone(), Type::from(t.value)))
            .collect();
        let mut columns = declared.clone();
        let from_data = data.and_then(|s| s.get(&d.name.value));
        if let Some(cols) = from_data {
            // The data's columns after the declared ones, each once: looked
            // up in a set (a search of the list per column took seconds
            // for a file of 50,000 columns).
            let mut named: std::collections::HashSet<String> =
                declared.iter().map(|(c, _)| c.clone()).collect();
            for (n, t) in cols {
                if named.insert(n.clone()) {
                    columns.push((n.clone(), *t));
                }
            }
        }
        let read = from_data.is_some() && !open;
        closed.push(read);
        let schema = match (read, declared.is_empty()) {
            (true, _) => SchemaState::Read,
            (false, false) => SchemaState::Declared,
            (false, true) => SchemaState::Open,
        };
        let remote = d
            .table
            .as_ref()
            .and_then(|t| super::connections::remote_source(t, spec, model, diags));
        if remote.is_some() {
            super::connections::no_file_options(d, diags);
        }
        let source_text = match (&d.table, &d.source) {
            (Some(t), _) => super::connections::describe(t),
            (None, s) => s.as_ref().map(|s| s.value.clone()).unwrap_or_default(),
        };
        let source = match d.source_path() {
            Some(Ok(p)) => {
                if let Some(s) = d.source.as_ref().filter(|_| is_unread_url(&p)) {
                    diags.push(diag::source_url_unsupported(s.span, &d.name.value, &s.value));
                }
                p
            }
            Some(Err(e)) => {
                if let Some(s) = &d.source {
                    diags.push(diag::source_variable(s.span, &d.name.value, &e));
                }
                d.base_dir.join(&source_text)
            }
            None => d.base_dir.join(&source_text),
        };
        let format = match &d.format {
            Some(f) => f.value,
            None if d.table.is_some() => Format::Csv,
            None => match format_of(&source_text) {
                Some(f) => f,
                None => {
                    if let Some(s) = &d.source {
                        diags.push(diag::unknown_format(s.span, &s.value));
                    }
                    Format::Csv
                }
            },
        };
        if d.table.is_none() && format != Format::Csv {
            csv_options_elsewhere(d, format, diags);
        }
        model.datasets.push(DatasetModel {
            name: d.name.value.clone(),
            source,
            source_text,
            format,
            time: d.time.as_ref().map(|t| t.value.clone()),
            columns,
            declared,
            declared_at: d.columns.iter().map(|(_, t)| t.span).collect(),
            schema,
            dimensions: Vec::new(),
            lookups: Vec::new(),
            span: d.name.span,
            source_span: d
                .table
                .as_ref()
                .map(|t| t.span)
                .or(d.source.as_ref().map(|s| s.span))
                .unwrap_or(d.name.span),
            read: d.read.clone(),
            remote,
        });
    }
    // Lookups and time columns, once every dataset's columns are known.
    lookups_and_time(spec, model, &closed, diags);
    closed
}

/// `read:` options about CSV text on a Parquet or NDJSON dataset: they do
/// nothing there (of `read:`, only `timezone` applies, and to NDJSON, whose
/// dates are texts too, `date_format` and `datetime_format`), which a user
/// who wrote `currency: "$"` for a JSON export should hear.
fn csv_options_elsewhere(d: &m::Dataset, format: Format, diags: &mut Diagnostics) {
    let r = &d.read;
    // Each option that is set, where it is written (`decimal_comma` and
    // `percent` are flags without a place of their own: the dataset's).
    let set: [(&str, Option<Span>); 10] = [
        ("delimiter", r.delimiter.as_ref().map(|x| x.span)),
        ("null_values", r.null_values.first().map(|x| x.span)),
        ("decimal_comma", r.decimal_comma.then_some(d.name.span)),
        ("thousands", r.thousands.as_ref().map(|x| x.span)),
        ("currency", r.currency.as_ref().map(|x| x.span)),
        ("percent", r.percent.then_some(d.name.span)),
        ("date_format", r.date_format.as_ref().map(|x| x.span)),
        ("datetime_format", r.datetime_format.as_ref().map(|x| x.span)),
        ("encoding", r.encoding.as_ref().map(|x| x.span)),
        ("on_error", r.on_error.as_ref().map(|x| x.span)),
    ];
    let applies = |key: &str| format == Format::Ndjson && key.ends_with("_format");
    for (key, span) in set {
        if let Some(span) = span.filter(|_| !applies(key)) {
            diags.push(diag::csv_option_elsewhere(span, key, &d.name.value, format));
        }
    }
}

/// Each dataset's lookups and time column, checked against every dataset's columns.
fn lookups_and_time(spec: &Spec, model: &mut Model, closed: &[bool], diags: &mut Diagnostics) {
    let names: Vec<String> = model.datasets.iter().map(|d| d.name.clone()).collect();
    for (id, d) in spec.datasets.iter().enumerate() {
        for l in &d.lookups {
            let Some(target) = names.iter().position(|n| *n == l.dataset.value) else {
                diags.push(diag::unknown_dataset(
                    l.dataset.span,
                    &l.dataset.value,
                    names.iter().map(String::as_str),
                ));
                continue;
            };
            if target == id {
                diags.push(diag::lookup_self(l.dataset.span, &l.dataset.value));
                continue;
            }
            // The left key may be a computed dimension (defined below, checked later).
            if !d.dimensions.iter().any(|(n, _)| n.value == l.left.value) {
                column_must_exist(model, closed, id, &l.left, diags);
            }
            column_must_exist(model, closed, target, &l.right, diags);
            model.datasets[id].lookups.push(LookupModel {
                dataset: target,
                left: l.left.value.clone(),
                right: l.right.value.clone(),
                span: l.span,
            });
        }
        if let Some(t) = &d.time {
            time_column(model, closed, id, t, diags);
        }
    }
}

/// A source that names a URL kpi does not read (`https://`, `ftp://`): the
/// reader would look for a file of that name beside the spec and report it
/// missing, with advice about relative paths.
fn is_unread_url(source: &std::path::Path) -> bool {
    let text = source.to_string_lossy();
    text.contains("://") && !crate::spec::model::is_object_url(&text)
}

pub fn format_of(path: &str) -> Option<Format> {
    let lower = path.to_ascii_lowercase();
    // Gzipped CSV and NDJSON are read decompressed (src/data/csv/encoding.rs,
    // src/data/ndjson/text.rs); Parquet is compressed inside.
    const GZIPPED: [&str; 5] = [".csv", ".tsv", ".tab", ".ndjson", ".jsonl"];
    let lower = match lower.strip_suffix(".gz") {
        Some(inside) if GZIPPED.iter().any(|e| inside.ends_with(e)) => inside.to_string(),
        _ => lower,
    };
    if lower.ends_with(".csv") || lower.ends_with(".tsv") || lower.ends_with(".tab") {
        Some(Format::Csv)
    } else if lower.ends_with(".parquet") || lower.ends_with(".pq") {
        Some(Format::Parquet)
    } else if lower.ends_with(".ndjson") || lower.ends_with(".jsonl") {
        Some(Format::Ndjson)
    } else {
        None
    }
}

/// Reports a missing column; returns its type when known.
pub(super) fn column_must_exist(
    model: &Model,
    closed: &[bool],
    ds: DatasetId,
    col: &m::Name,
    diags: &mut Diagnostics,
) -> Option<Type> {
    let names = KpiNames::default();
    let infos: Vec<Option<KpiInfo>> = Vec::new();
    let sc = scope(model, closed, &names, &infos);
    let (found, err) = sc.find(ds, &plain_name(col));
    if let Some(e) = err {
        diags.push(e);
    }
    match found {
        Found::Column(_, _, t) => Some(t),
        Found::Dimension(e) => Some(e.ty),
        Found::Undeclared(_) | Found::Missing => None,
    }
}

pub(super) fn time_column(
    model: &Model,
    closed: &[bool],
    ds: DatasetId,
    col: &m::Name,
    diags: &mut Diagnostics,
) {
    if let Some(t) = column_must_exist(model, closed, ds, col, diags) {
        if !t.is_temporal() && t != Type::Unknown && t != Type::Null {
            diags.push(diag::time_not_temporal(col.span, &col.value, t));
        }
    }
}

/// The most nodes a dimension's formula may have with the dimensions it
/// uses written out: far beyond any formula people write, well below what
/// takes planning seconds.
pub const MAX_DIMENSION_NODES: usize = 10_000;

pub(super) fn dimensions(
    spec: &Spec,
    model: &mut Model,
    closed: &[bool],
    kpi_names: &KpiNames,
    infos: &[Option<KpiInfo>],
    diags: &mut Diagnostics,
) {
    for (id, d) in spec.datasets.iter().enumerate() {
        // Those too large, and those over them: said once, at the first.
        let mut too_large_names: Vec<&str> = Vec::new();
        for (name, field) in &d.dimensions {
            let Some(e) = &field.expr else { continue };
            let t = {
                let sc = scope(model, closed, kpi_names, infos);
                let mut ec = ExprChecker {
                    scope: &sc,
                    dataset: Some(id),
                    owner: &d.name.value,
                    row_what: "a dimension",
                    diags,
                };
                ec.check(e, Ctx::Row)
            };
            // The dimensions a formula uses are written out in it, so one
            // used twice in each of a chain doubles at every link, and a
            // long chain nests as deep as its links (5,000 overflowed the
            // stack of the evaluation, which reads expressions recursively):
            // kept within bounds here, the rest of the spec stays small.
            let over_too_large = (e.names().into_iter())
                .any(|n| n.qualifier.is_none() && too_large_names.contains(&n.ident.name.as_str()));
            let too_large = match (t.size(), t.depth()) {
                _ if over_too_large => None,
                (n, _) if n > MAX_DIMENSION_NODES => Some(diag::dimension_too_large(
                    e.span,
                    &name.value,
                    n,
                    MAX_DIMENSION_NODES,
                )),
                // As deep as any expression may be.
                (_, depth) if depth > crate::syntax::MAX_DEPTH => Some(diag::dimension_too_deep(
                    e.span,
                    &name.value,
                    depth,
                    crate::syntax::MAX_DEPTH,
                )),
                _ => None,
            };
            let t = match (too_large, over_too_large) {
                (None, false) => t,
                (said, _) => {
                    diags.extend(said);
                    too_large_names.push(&name.value);
                    TExpr {
                        kind: TKind::Lit(Literal::Null),
                        ..t
                    }
                }
            };
            model.datasets[id].dimensions.push(Dimension {
                name: name.value.clone(),
                expr: t,
            });
        }
    }
}

/// Whether every name of `e` may be a column of `ds`: it resolves, or the
/// dataset's data was not read and the name is only undeclared there
/// (warned of, not a slip of a declared name).
pub(super) fn may_resolve_on(sc: &Scope, ds: DatasetId, e: &Expr) -> bool {
    e.names().into_iter().all(|n| {
        let (found, err) = sc.find(ds, n);
        !matches!(found, Found::Missing) && err.is_none_or(|d| !d.is_error())
    })
}

/// Whether every name of `e` can be resolved on `ds` (quietly).
pub(super) fn resolves_on(sc: &Scope, ds: DatasetId, e: &Expr) -> Result<(), Name> {
    for n in e.names() {
        let (found, err) = sc.find(ds, n);
        if matches!(found, Found::Missing) || err.as_ref().is_some_and(|d| d.code == "kpi::undeclared_column")
        {
            return Err(n.clone());
        }
    }
    Ok(())
}
