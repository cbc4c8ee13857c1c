//! A CSV source's [`Layout`] worked out: its files and their agreement,
//! whole-file type inference, the conversions of text columns to what
//! their values are (verified on every value), the read options their
//! values hint at, and the records that cannot be read.

use std::collections::HashMap;
use std::sync::Arc;

use polars::prelude::*;

use super::contradictions::{first_where, first_where_in, unconverted_checks};
use super::encoding::transcoded;
use super::pieces::{self, Pieces};
use super::shape::Shape;
use super::{
    conversions, inference, parse_options, place_of, read, read_error, read_files, skips, Layout, NearMiss,
    ROW,
};
use crate::check::types::Type;
use crate::data::diagnostics as diag;
use crate::data::text::conversion::{declared_conversion, not_in_utc, unconverted, Conversion, NumberForm};
use crate::data::text::guess::{
    case_twin, date_hint, dotted_thousands, guess, later_datetimes, leading_zeros, nine_in_ten, padded_twin,
};
use crate::data::SourceInfo;
use crate::diagnostic::Diagnostic;

/// Values sampled to guess whether a text column holds dates or numbers;
/// the guess is then verified over the whole column.
pub(super) const SAMPLE: usize = 1_000;

/// Files, header agreement, whole-file inference and the conversions.
pub(super) fn work_out(src: &SourceInfo) -> Result<Layout, Diagnostic> {
    if let Some(z) = &src.read.timezone {
        if !matches!(TimeZone::opt_try_new(Some(z.value.as_str())), Ok(Some(_))) {
            return Err(diag::invalid_timezone(z.span, &z.value));
        }
    }
    let files = crate::data::files::expand(src)?;
    let text = transcoded(src, &files)?;
    let separator = src.read.delimiter.as_ref().map_or(',', |d| d.value);
    let header = super::shape::agreeing_header(src, &files, text.as_deref().map(|t| &t[..]), separator)?;
    let mut layout = Layout::of_files(files, text);
    layout.repeated = repeated_names(&header);
    // Every file's shape, checked now to count its records for places in
    // messages, find its blank ones and where to cut it; what is wrong
    // with it is said after the other checks.
    let texts = layout.text.as_deref().map(|t| &t[..]);
    let shapes = super::shape::shapes(&layout.files, texts, separator);
    place_records(src, &mut layout, &shapes)?;
    let mut pieces = text_pieces(src, &layout, &header, &shapes);
    let (inferred, seen) = inferred_types(src, &mut layout, &header, &mut pieces)?;
    let types = Inferred {
        header: &header,
        schema: &inferred,
        seen: seen.as_ref(),
    };
    convert_texts(src, &mut layout, &types, pieces.as_ref())?;
    in_utc_unless_zoned(src, &mut layout, pieces.as_ref())?;
    malformed_records(src, layout, shapes)
}

/// Header names given to more than one column, with how many; columns
/// without a name (spreadsheets' empty columns) are no one's.
fn repeated_names(header: &[String]) -> Vec<(String, usize)> {
    // Counted in one pass: counting each name's copies over the header
    // took seconds for a header of 50,000 columns.
    let mut counts: std::collections::HashMap<&str, usize> = std::collections::HashMap::new();
    for h in header.iter().filter(|h| !h.trim().is_empty()) {
        *counts.entry(h.as_str()).or_default() += 1;
    }
    let mut repeated = Vec::new();
    for name in header {
        if let Some(n) = counts.remove(name.as_str()).filter(|&n| n > 1) {
            repeated.push((name.clone(), n));
        }
    }
    repeated
}

/// Each file's first record index, the blank records, those of empty
/// fields and, under `on_error: skip`, the ragged ones, from the files'
/// shapes (or, where a file could not be read whole, by reading it).
fn place_records(src: &SourceInfo, layout: &mut Layout, shapes: &[Option<Shape>]) -> Result<(), Diagnostic> {
    layout.starts = match starts_of(shapes) {
        Some(starts) => starts,
        None => record_starts(layout).map_err(|e| read_error(src, layout, &e))?,
    };
    let across = |of: fn(&Shape) -> &Vec<u64>| -> Vec<u64> {
        shapes
            .iter()
            .zip(&layout.starts)
            .flat_map(|(shape, start)| {
                shape
                    .iter()
                    .flat_map(move |s| of(s).iter().map(move |b| start + b))
            })
            .collect()
    };
    layout.blank = across(|s| &s.blank);
    layout.empty_rows = across(|s| &s.empty_rows);
    // Skipped first of all: the ragged records (those whose values do not
    // convert join them once types are known).
    if skips(src) {
        layout.skipped = across(|s| &s.ragged_rows);
    }
    Ok(())
}

/// What the values of the columns the reader parses were seen to be, in
/// pieces: the columns sampled, and what was seen.
type Seen = (Vec<usize>, inference::Seen);

/// The columns' types: declared columns as text, the others inferred from
/// every row, in pieces where the files can be cut (`pieces` is dropped
/// when a piece cannot be parsed: Polars' reader then reads the files,
/// and says why). Sets the schema the reader is given.
fn inferred_types(
    src: &SourceInfo,
    layout: &mut Layout,
    header: &[String],
    pieces: &mut Option<Pieces>,
) -> Result<(Schema, Option<Seen>), Diagnostic> {
    let declared_text: Schema = src
        .declared
        .iter()
        .filter(|(n, _)| header.iter().any(|h| h == n))
        .map(|(n, _)| Field::new(n.as_str().into(), DataType::String))
        .collect();
    let all_declared = all_declared(src, header);
    let seen = match pieces {
        Some(p) => seen_in_pieces(src, p, header, all_declared.is_some()),
        None => Ok(None),
    };
    let seen = seen.unwrap_or_else(|_| {
        *pieces = None;
        None
    });
    let inferred = match (all_declared, &seen) {
        (Some(schema), _) => schema,
        (None, Some((_, seen))) => merged(seen.schemas(header), &declared_text),
        (None, None) => {
            let inferred = infer(src, layout, &declared_text).map_err(|e| read_error(src, layout, &e))?;
            let inferred = dots_between_thousands(src, inferred);
            long_integers_as_text(src, layout, inferred).map_err(|e| read_error(src, layout, &e))?
        }
    };
    let mut read_schema = inferred.clone();
    for (n, _) in &src.declared {
        if read_schema.contains(n) {
            read_schema.with_column(n.as_str().into(), DataType::String);
        }
    }
    layout.read_schema = Arc::new(read_schema);
    Ok((inferred, seen))
}

/// The source's columns as the reader types them.
struct Inferred<'a> {
    header: &'a [String],
    schema: &'a Schema,
    seen: Option<&'a Seen>,
}

/// The conversions of text columns to their types: declared columns to
/// theirs, columns nobody declared to what every value is (dates,
/// datetimes, decimal-comma numbers), with near misses, and the hints of
/// read options for those left text.
fn convert_texts(
    src: &SourceInfo,
    layout: &mut Layout,
    types: &Inferred,
    pieces: Option<&Pieces>,
) -> Result<(), Diagnostic> {
    let inferred = types.schema;
    let undeclared: Vec<String> = inferred
        .iter()
        .filter(|(n, dt)| **dt == DataType::String && !src.declared.iter().any(|(d, _)| d == n.as_str()))
        .map(|(n, _)| n.to_string())
        .collect();
    let declared_as = |t: Type| -> Vec<String> {
        let of_type = src
            .declared
            .iter()
            .filter(move |(n, d)| *d == t && inferred.contains(n));
        of_type.map(|(n, _)| n.clone()).collect()
    };
    let sampled: Vec<String> = declared_as(Type::Datetime)
        .into_iter()
        .chain(undeclared.iter().cloned())
        .collect();
    let dated = declared_as(Type::Date);
    let mut samples: HashMap<String, Vec<String>> = match types.seen {
        Some((columns, seen)) => columns
            .iter()
            .zip(&seen.samples)
            .filter_map(|(&k, values)| Some((types.header.get(k)?.clone(), values.clone())))
            .filter(|(n, _)| sampled.contains(n) || dated.contains(n))
            .collect(),
        None => self::samples(src, layout, &sampled, None).map_err(|e| read_error(src, layout, &e))?,
    };
    // Declared dates, whether an export wrote them as datetimes: their
    // first rows say (every value's sample, read for them alone, took a
    // sixth of the time of evaluating a million deals).
    let unsampled: Vec<String> = dated.into_iter().filter(|n| !samples.contains_key(n)).collect();
    let first_rows = Some(SAMPLE as IdxSize);
    let firsts =
        self::samples(src, layout, &unsampled, first_rows).map_err(|e| read_error(src, layout, &e))?;
    samples.extend(firsts);
    let none = Vec::new();
    for (n, t) in &src.declared {
        if inferred.contains(n) {
            let sample = samples.get(n).unwrap_or(&none);
            if let Some(conv) = declared_conversion(src, sample, *t) {
                layout.conversions.push((n.clone(), conv));
            }
        }
    }
    let (found, near_misses) =
        detect(src, layout, pieces, &undeclared, &samples).map_err(|e| read_error(src, layout, &e))?;
    // Text columns of dates in another format: say which `date_format`.
    if src.read.date_format.is_none() || src.read.datetime_format.is_none() {
        let left_text = undeclared
            .iter()
            .filter(|c| !found.iter().any(|(f, _)| f == *c) && !near_misses.iter().any(|m| m.column == **c));
        layout.date_hints = left_text
            .filter_map(|c| Some((c.clone(), date_hint(src, samples.get(c)?)?)))
            .collect();
    }
    // Text columns left text, with their samples: which option reads them,
    // one value in two spellings?
    let texts: Vec<(&String, &Vec<String>)> = undeclared
        .iter()
        .filter(|c| !found.iter().any(|(f, _)| f == *c))
        .filter_map(|c| Some((c, samples.get(c)?)))
        .collect();
    hint_options(src, layout, &texts);
    layout.near_misses = near_misses;
    if let Some((columns, seen)) = types.seen {
        layout.leading_zeros = leading_zeros(src, inferred, types.header, columns, &seen.samples);
        layout.dotted_thousands = dotted_thousands(src, inferred, types.header, columns, &seen.samples);
    }
    let valueless = undeclared
        .iter()
        .filter(|c| samples.get(*c).is_none_or(|v| v.iter().all(String::is_empty)))
        .map(|c| (c.clone(), Conversion::NoValues));
    let found: Vec<(String, Conversion)> = found.into_iter().chain(valueless).collect();
    for (n, conv) in found {
        Arc::make_mut(&mut layout.read_schema).with_column(n.as_str().into(), DataType::String);
        layout.conversions.push((n, conv));
    }
    Ok(())
}

/// The read options that would turn text columns into what their values
/// look like (a currency, percents, `,` between thousands), and values
/// written two ways (padded, another case): said as hints, never guessed.
fn hint_options(src: &SourceInfo, layout: &mut Layout, texts: &[(&String, &Vec<String>)]) {
    // Amounts with a currency symbol: say the option.
    if src.read.currency.is_none() {
        layout.currency_hints = texts
            .iter()
            .filter_map(|(c, v)| Some(((*c).clone(), crate::data::text::money::symbol_of(v)?)))
            .collect();
    }
    // Those whose values hold `mark` and are numbers as `more` writes them.
    let read_with = |more: NumberForm, mark: char| -> Vec<String> {
        texts
            .iter()
            .filter(|(_, v)| {
                v.iter().any(|x| x.contains(mark))
                    && nine_in_ten(v.iter().map(|x| x.trim()), |x| more.reads(x))
            })
            .map(|(c, _)| (*c).clone())
            .collect()
    };
    // Percents (`45%`), numbers with `,` between thousands: say the option.
    if !src.read.percent {
        let more = NumberForm {
            percent: true,
            ..NumberForm::of(src)
        };
        layout.percent_hints = read_with(more, '%');
    }
    if src.read.thousands.is_none() && !src.read.decimal_comma {
        let more = NumberForm {
            thousands: Some(','),
            ..NumberForm::of(src)
        };
        layout.thousands_hints = read_with(more, ',');
    }
    layout.padded = texts
        .iter()
        .filter_map(|(c, v)| Some(((*c).clone(), padded_twin(v)?)))
        .collect();
    layout.case_twins = texts
        .iter()
        .filter_map(|(c, v)| Some(((*c).clone(), case_twin(v)?)))
        .collect();
}

/// Datetimes with UTC offsets and no `read.timezone`: a column whose every
/// offset is UTC's (`Z`, `+00:00`) holds UTC's times, as a Parquet column
/// in UTC does; one with another offset is an error naming the first, as
/// nothing says in which zone its days count.
fn in_utc_unless_zoned(
    src: &SourceInfo,
    layout: &mut Layout,
    text: Option<&Pieces>,
) -> Result<(), Diagnostic> {
    let unzoned: Vec<usize> = (0..layout.conversions.len())
        .filter(|&i| layout.conversions[i].1.needs_zone())
        .collect();
    if unzoned.is_empty() {
        return Ok(());
    }
    let checks: Vec<(&str, Expr)> = unzoned
        .iter()
        .map(|&i| {
            let c = layout.conversions[i].0.as_str();
            (c, not_in_utc(c))
        })
        .collect();
    let found = first_where_in(src, layout, text, &checks).map_err(|e| read_error(src, layout, &e))?;
    for (i, bad) in unzoned.into_iter().zip(found) {
        if let Some((value, row)) = bad {
            let (file, line) = place_of(layout, row);
            let (column, path) = (&layout.conversions[i].0, file.display().to_string());
            return Err(diag::timezone_needed(
                src.span,
                &src.name,
                column,
                (&value, &path, line),
            ));
        }
        layout.conversions[i].1.take_utc();
    }
    Ok(())
}

/// The first record index of each file from the files' shapes; none if a
/// file could not be read.
fn starts_of(shapes: &[Option<Shape>]) -> Option<Vec<u64>> {
    let mut n = 0;
    let mut starts = Vec::with_capacity(shapes.len());
    for shape in shapes {
        starts.push(n);
        n += shape.as_ref()?.records;
    }
    Some(starts)
}

/// Rows the reader cannot read: skipped and counted under `on_error:
/// skip`, otherwise the first one is an error.
fn malformed_records(
    src: &SourceInfo,
    mut layout: Layout,
    shapes: Vec<Option<Shape>>,
) -> Result<Layout, Diagnostic> {
    if skips(src) {
        let ragged = std::mem::take(&mut layout.skipped);
        layout.skipped =
            unreadable_records(src, &layout, ragged).map_err(|e| read_error(src, &layout, &e))?;
        return Ok(layout);
    }
    super::shape::first_problem(src, &layout.files, &shapes)?;
    let cuts: Vec<Vec<super::shape::Cut>> = shapes
        .into_iter()
        .map(|s| s.map(|s| s.cuts).unwrap_or_default())
        .collect();
    if layout.text.is_none() {
        let (schema, parse) = (layout.read_schema.clone(), parse_options(src, false));
        let cut = (&layout.files[..], &None, &cuts[..], pieces::PIECE);
        let rows = (&layout.starts[..], &layout.blank[..]);
        let pieces = Pieces::new(cut, rows, schema, parse, conversions(&layout, true));
        layout.pieces = pieces.map_err(|e| read_error(src, &layout, &e))?.map(Arc::new);
    }
    Ok(layout)
}

/// With every column of the header declared (no name twice, none holding
/// a quote, which the reader keeps doubled in a name), the schema [`infer`]
/// would give: each column as text, to be converted to its declared type.
/// The reader's inference reads every row on one thread (about 0.9 s of
/// 2.2 for a file of a million deals) for types the declarations replace.
pub(super) fn all_declared(src: &SourceInfo, header: &[String]) -> Option<Schema> {
    let distinct: std::collections::HashSet<&String> = header.iter().collect();
    let declared = |h: &String| !h.contains('"') && src.declared.iter().any(|(n, _)| n == h);
    (distinct.len() == header.len() && header.iter().all(declared)).then(|| {
        header
            .iter()
            .map(|h| Field::new(h.as_str().into(), DataType::String))
            .collect()
    })
}

/// The schema the reader infers from every row of every file; where files
/// disagree (an integer column in one, a float in another) the wider type.
pub(super) fn infer(src: &SourceInfo, l: &Layout, declared_text: &Schema) -> PolarsResult<Schema> {
    let files = (0..l.files.len())
        .map(|i| Ok((*read_files(src, l, &[i], None, false)?.collect_schema()?).clone()))
        .collect::<PolarsResult<Vec<Schema>>>()?;
    Ok(merged(files, declared_text))
}

/// The reader's types with its float columns made text where a decimal
/// comma puts a dot between thousands (`1.000`, which the reader reads as
/// 1.0), to be guessed and converted as the columns read in pieces are
/// ([`inference::seen`]).
fn dots_between_thousands(src: &SourceInfo, mut inferred: Schema) -> Schema {
    if src.read.decimal_comma {
        for (_, dt) in inferred.iter_mut() {
            if *dt == DataType::Float64 {
                *dt = DataType::String;
            }
        }
    }
    inferred
}

/// The reader's types with its integer columns that hold an integer too
/// long for 64 bits made text, as they are read in pieces
/// ([`inference::field_type`]): the reader types such a column
/// an integer, then cannot read it.
fn long_integers_as_text(src: &SourceInfo, layout: &mut Layout, inferred: Schema) -> PolarsResult<Schema> {
    let integers: Vec<String> = inferred
        .iter()
        .filter(|(n, dt)| dt.is_integer() && !src.declared.iter().any(|(d, _)| d == n.as_str()))
        .map(|(n, _)| n.to_string())
        .collect();
    if integers.is_empty() {
        return Ok(inferred);
    }
    let mut as_text = inferred.clone();
    for n in &integers {
        as_text.with_column(n.as_str().into(), DataType::String);
    }
    layout.read_schema = Arc::new(as_text);
    let checks: Vec<(&str, Expr)> = integers
        .iter()
        .map(|n| {
            let text = col(n.as_str()).str().strip_chars(lit(NULL));
            let long = text
                .clone()
                .neq(lit(""))
                .and(text.cast(DataType::Int64).is_null());
            (n.as_str(), long)
        })
        .collect();
    let found = first_where(src, layout, &checks)?;
    let mut schema = inferred;
    for (n, long) in integers.iter().zip(found) {
        if long.is_some() {
            schema.with_column(n.as_str().into(), DataType::String);
        }
    }
    Ok(schema)
}

/// One schema of the files' schemas: each column of the wider type of its
/// files', declared ones (`declared_text`) as text.
pub(super) fn merged(files: impl IntoIterator<Item = Schema>, declared_text: &Schema) -> Schema {
    let mut merged: Option<Schema> = None;
    for mut s in files {
        for (n, dt) in declared_text.iter() {
            if s.contains(n) {
                s.with_column(n.clone(), dt.clone());
            }
        }
        merged = Some(match merged {
            None => s,
            Some(mut m) => {
                for (n, dt) in s.iter() {
                    let wider = match m.get(n) {
                        Some(a) => inference::wider(a, dt),
                        None => DataType::String,
                    };
                    m.with_column(n.clone(), wider);
                }
                m
            }
        });
    }
    merged.unwrap_or_default()
}

/// What the source's columns as text in `pieces` say: every column's types
/// and first values, or, with every column declared, the first values of
/// the datetime ones (none: nothing read). Each with the columns' indices.
fn seen_in_pieces(
    src: &SourceInfo,
    pieces: &Pieces,
    header: &[String],
    all_declared: bool,
) -> PolarsResult<Option<Seen>> {
    let sampled: Vec<usize> = match all_declared {
        false => (0..header.len()).collect(),
        true => src
            .declared
            .iter()
            .filter(|(_, t)| *t == Type::Datetime)
            .filter_map(|(n, _)| header.iter().position(|h| h == n))
            .collect(),
    };
    if all_declared && sampled.is_empty() {
        return Ok(None);
    }
    let seen = inference::seen(pieces, &sampled, (!all_declared, src.read.decimal_comma), SAMPLE)?;
    Ok(Some((sampled, seen)))
}

/// Every column of the files as text, in pieces, to infer their types and
/// sample and check their values: for files that can be cut whose header
/// names are the reader's (no name twice or holding a quote). Ragged
/// records, read under `on_error: skip`, are left out with the blank
/// ones: they are skipped, so their values say nothing of the columns' types
/// (a report export's footer line, `"Confidential Information"`, made
/// the first column text).
fn text_pieces(src: &SourceInfo, l: &Layout, header: &[String], shapes: &[Option<Shape>]) -> Option<Pieces> {
    let distinct: std::collections::HashSet<&String> = header.iter().collect();
    if distinct.len() != header.len() || header.iter().any(|h| h.contains('"')) {
        return None;
    }
    let cuts: Vec<Vec<super::shape::Cut>> = shapes
        .iter()
        .map(|s| s.as_ref().map(|s| s.cuts.clone()))
        .collect::<Option<_>>()?;
    let text: Schema = header
        .iter()
        .map(|h| Field::new(h.as_str().into(), DataType::String))
        .collect();
    let cut = (&l.files[..], &l.text, &cuts[..], pieces::PIECE);
    let mut left_out = l.blank.clone();
    left_out.extend(&l.skipped);
    left_out.sort_unstable();
    let rows = (&l.starts[..], &left_out[..]);
    Pieces::new(
        cut,
        rows,
        Arc::new(text),
        parse_options(src, skips(src)),
        Vec::new(),
    )
    .ok()
    .flatten()
}

/// The first non-null values of each column, as text, in one pass (of
/// the first `rows` rows alone, if given).
pub(super) fn samples(
    src: &SourceInfo,
    l: &Layout,
    columns: &[String],
    rows: Option<IdxSize>,
) -> PolarsResult<HashMap<String, Vec<String>>> {
    if columns.is_empty() {
        return Ok(HashMap::new());
    }
    let firsts: Vec<Expr> = columns
        .iter()
        .map(|c| {
            col(c.as_str())
                .cast(DataType::String)
                .drop_nulls()
                .head(Some(SAMPLE))
                .implode(false)
        })
        .collect();
    let mut lf = read(src, l, Some(l.read_schema.clone()), false)?;
    if let Some(rows) = rows {
        lf = lf.limit(rows);
    }
    let df = lf.select(firsts).collect()?;
    let mut out = HashMap::new();
    for c in columns {
        let values = df
            .column(c)?
            .list()?
            .get_as_series(0)
            .map(|s| {
                s.str()
                    .map(|x| x.iter().flatten().map(str::to_string).collect())
                    .unwrap_or_default()
            })
            .unwrap_or_default();
        out.insert(c.clone(), values);
    }
    Ok(out)
}

/// Text columns whose every value is a date, a datetime or (with
/// `decimal_comma`) a number: guessed on a sample, verified on all rows.
fn detect(
    src: &SourceInfo,
    l: &Layout,
    text: Option<&Pieces>,
    columns: &[String],
    samples: &HashMap<String, Vec<String>>,
) -> PolarsResult<Detected> {
    let zone = src.read.timezone.as_ref().map(|z| z.value.clone());
    let mut guesses = Vec::new();
    for c in columns {
        let Some(values) = samples.get(c).filter(|v| !v.is_empty()) else {
            continue;
        };
        if let Some(g) = guess(values, src, zone.clone()) {
            guesses.push((c.clone(), g));
        }
    }
    let (mut found, mut near) = verified(src, l, text, guesses)?;
    // A column of dates whose first value with a time of day comes after
    // the sample: datetimes, its dates at midnight (verified again).
    let later: Vec<(String, Conversion)> = near
        .iter()
        .filter(|n| n.looked_like == Type::Date)
        .filter_map(|n| Some((n.column.clone(), later_datetimes(&n.value, zone.clone())?)))
        .collect();
    if !later.is_empty() {
        let (times, _) = verified(src, l, text, later)?;
        near.retain(|n| !times.iter().any(|(c, _)| c == &n.column));
        found.extend(times);
    }
    Ok((found, near))
}

/// The `guesses` that every value of their column fits, and the first
/// value of each other.
fn verified(
    src: &SourceInfo,
    l: &Layout,
    text: Option<&Pieces>,
    guesses: Vec<(String, Conversion)>,
) -> PolarsResult<Detected> {
    if guesses.is_empty() {
        return Ok((Vec::new(), Vec::new()));
    }
    // Verified on every row: a value that does not convert keeps the column
    // text, and is remembered to explain why. In the same pass, numbers
    // the reader left text for an integer too long for 64 bits (an
    // identifier, as a rule) stay text as it does, without a word: as
    // floats two such values would become one.
    let columns: Vec<(&str, &Conversion)> = guesses.iter().map(|(c, g)| (c.as_str(), g)).collect();
    let plain_numbers: Vec<usize> = (0..columns.len())
        .filter(|&i| matches!(columns[i].1, Conversion::Number(form) if form.is_plain()))
        .collect();
    let mut checks = unconverted_checks(&columns);
    checks.extend(
        plain_numbers
            .iter()
            .map(|&i| (columns[i].0, long_integer(columns[i].0))),
    );
    let mut bad = first_where_in(src, l, text, &checks)?;
    let mut long = vec![false; columns.len()];
    for (&i, hit) in plain_numbers.iter().zip(bad.split_off(columns.len())) {
        long[i] = hit.is_some();
    }
    let mut found = Vec::new();
    let mut near = Vec::new();
    for (((c, g), bad), long) in guesses.into_iter().zip(bad).zip(long) {
        if long {
            continue;
        }
        match bad {
            Some((value, row)) => {
                let (file, line) = place_of(l, row);
                near.push(NearMiss {
                    column: c,
                    looked_like: g.ty(),
                    value,
                    file,
                    line,
                });
            }
            None => found.push((c, g)),
        }
    }
    Ok((found, near))
}

/// A value of a text column that is an integer too long for 64 bits.
fn long_integer(column: &str) -> Expr {
    let text = col(column).str().strip_chars(lit(NULL));
    text.clone()
        .str()
        .contains(lit(r"^[+-]?[0-9]{19,}$"), true)
        .and(text.cast(DataType::Int64).is_null())
}

/// The first record index of each file (for places in messages).
fn record_starts(l: &Layout) -> PolarsResult<Vec<u64>> {
    let mut starts = Vec::with_capacity(l.files.len());
    let mut n = 0u64;
    for i in 0..l.files.len() {
        starts.push(n);
        if i + 1 < l.files.len() {
            n += match &l.text {
                Some(t) => super::shape::count_records(&t[i]),
                None => super::shape::count_records(&std::fs::read(&l.files[i])?),
            };
        }
    }
    Ok(starts)
}

/// With `on_error: skip`: the `ragged` records and records holding a value
/// that their column's type cannot hold.
fn unreadable_records(src: &SourceInfo, l: &Layout, ragged: Vec<u64>) -> PolarsResult<Vec<u64>> {
    let mut out = ragged;
    let mut bad: Option<Expr> = None;
    for (c, conv) in &l.conversions {
        let b = unconverted(c, conv);
        bad = Some(match bad {
            Some(x) => x.or(b),
            None => b,
        });
    }
    if let Some(bad) = bad {
        let df = read(src, l, Some(l.read_schema.clone()), true)?
            .filter(bad)
            .select([col(ROW).cast(DataType::UInt64)])
            .collect()?;
        if let Ok(rows) = df.column(ROW).and_then(|c| c.u64().cloned()) {
            out.extend(rows.iter().flatten());
        }
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

/// Columns that convert, and near misses.
type Detected = (Vec<(String, Conversion)>, Vec<NearMiss>);
