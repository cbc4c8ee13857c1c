//! Text fields of an NDJSON source that hold dates or datetimes: guessed
//! from the first records, verified on every value, converted after the
//! reader (as CSV's text columns are), with near misses and hints of the
//! formats that would read them; declared date fields the files hold as
//! texts converted as declared. Worked out once per file and cached.

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use polars::prelude::*;

use crate::data::csv::NearMiss;
use crate::data::files::modified;
use crate::data::text::conversion::{declared_text_conversions, not_in_utc, unconverted, Conversion};
use crate::data::text::guess::{date_hint, guess, later_datetimes};
use crate::data::SourceInfo;
use crate::diagnostic::Diagnostic;

/// How many values of a text column its date or datetime guess is made
/// from (the first records'), as for CSV.
const SAMPLE: u32 = 1_000;

/// What the text fields of an NDJSON source say of dates: the fields that
/// convert, and the fields one value kept from converting.
pub(crate) struct Dates {
    conversions: Vec<(String, Conversion)>,
    /// Declared `date` and `datetime` fields the files hold as texts, with
    /// how they convert (as a CSV column declared so: a datetime's format
    /// from its first values, offsets in `read.timezone` or UTC's).
    declared: Vec<(String, Conversion)>,
    pub near_misses: Vec<NearMiss>,
    /// Text fields of dates in a format `read:` does not say, with the
    /// formats that read them (as for CSV).
    pub hints: Vec<(String, Vec<String>)>,
}

impl Dates {
    /// The dates of a source with no record: none.
    pub(crate) fn none() -> Dates {
        Dates {
            conversions: Vec::new(),
            declared: Vec::new(),
            near_misses: Vec::new(),
            hints: Vec::new(),
        }
    }

    /// How the declared date or datetime field `column`, held as texts,
    /// converts.
    pub(crate) fn declared(&self, column: &str) -> Option<&Conversion> {
        self.declared
            .iter()
            .find(|(c, _)| c == column)
            .map(|(_, conv)| conv)
    }
}

/// The dates of the NDJSON source `src` (its files `files`, each read with
/// its dates as texts by `texts`, all of them together by `all`): the
/// source's undeclared text fields whose every value is an ISO 8601 date or
/// datetime (JSON has no dates, so exports write them as texts), the shape
/// guessed from the first records and verified on every value of every
/// file, as CSV columns are (a value that does not fit keeps the field text
/// in every file, and is named). Worked out once per source and process:
/// every scan of the run reads the same columns.
pub(crate) fn dates(
    src: &SourceInfo,
    files: &[PathBuf],
    texts: &dyn Fn(&Path) -> Result<LazyFrame, Diagnostic>,
    all: &dyn Fn() -> Result<LazyFrame, Diagnostic>,
) -> Result<Arc<Dates>, Diagnostic> {
    let stamps: Vec<_> = files.iter().map(|f| modified(f)).collect();
    let key = format!("{files:?}|{stamps:?}|{:?}|{:?}", src.read, src.declared);
    if let Some(found) = dates_cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(found);
    }
    let every = all()?;
    let (mut conversions, missed, hints) =
        date_conversions(src, every.clone()).map_err(|e| crate::data::read_error(src, &e))?;
    let mut declared = every
        .clone()
        .collect_schema()
        .and_then(|schema| declared_text_conversions(src, every, &schema, SAMPLE))
        .map_err(|e| crate::data::read_error(src, &e))?;
    let mut near_misses = Vec::new();
    for (column, conv) in missed {
        if let Some((value, file, line)) = first_where(files, texts, &column, unconverted(&column, &conv))? {
            near_misses.push(NearMiss {
                looked_like: conv.ty(),
                column,
                value,
                file,
                line,
            });
        }
    }
    // Offsets that are all UTC's are UTC's times; others need a zone.
    let unzoned = conversions
        .iter_mut()
        .chain(declared.iter_mut())
        .filter(|(_, c)| c.needs_zone());
    for (column, conv) in unzoned {
        if let Some((value, file, line)) = first_where(files, texts, column, not_in_utc(column))? {
            let path = file.display().to_string();
            return Err(crate::data::diagnostics::timezone_needed(
                src.span,
                &src.name,
                column,
                (&value, &path, line),
            ));
        }
        conv.take_utc();
    }
    let found = Arc::new(Dates {
        conversions,
        declared,
        near_misses,
        hints,
    });
    if let Ok(mut c) = dates_cache().lock() {
        c.insert(key, found.clone());
    }
    Ok(found)
}

/// `lf`, one file of the NDJSON source `src`, with the fields [`dates`]
/// found as dates and datetimes.
pub(crate) fn with_dates(src: &SourceInfo, lf: LazyFrame, dates: &Dates) -> Result<LazyFrame, Diagnostic> {
    let conversions = &dates.conversions;
    if conversions.is_empty() {
        return Ok(lf);
    }
    // A file whose records all leave the field null has it as nulls.
    let mut lf = lf;
    let schema = lf
        .collect_schema()
        .map_err(|e| crate::data::read_error(src, &e))?;
    let converted: Vec<Expr> = conversions
        .iter()
        .filter_map(|(c, conv)| {
            Some(match schema.get(c.as_str())? {
                DataType::String => conv.expr(c, true).alias(c.as_str()),
                _ => col(c.as_str())
                    .cast(crate::data::dtype_of(conv.ty()))
                    .alias(c.as_str()),
            })
        })
        .collect();
    Ok(lf.with_columns(converted))
}

/// The first value of `column` that `bad` holds for, in file order, with
/// its file and line.
fn first_where(
    files: &[PathBuf],
    texts: &dyn Fn(&Path) -> Result<LazyFrame, Diagnostic>,
    column: &str,
    bad: Expr,
) -> Result<Option<(String, PathBuf, u64)>, Diagnostic> {
    const ROW: &str = "__record";
    for file in files {
        let lf = texts(file)?;
        let Ok(found) = lf
            .with_row_index(ROW, None)
            .filter(bad.clone())
            .select([col(column), col(ROW).cast(DataType::UInt64)])
            .slice(0, 1)
            .collect()
        else {
            continue;
        };
        let value = found
            .column(column)
            .ok()
            .and_then(|c| c.str().ok()?.iter().next().flatten().map(str::to_string));
        let record = found
            .column(ROW)
            .ok()
            .and_then(|c| c.u64().ok()?.iter().next().flatten());
        if let (Some(value), Some(record)) = (value, record) {
            let line = line_of_record(file, record).unwrap_or(record + 1);
            return Ok(Some((value, file.clone(), line)));
        }
    }
    Ok(None)
}

/// The line (from 1) of the file's `record`th record (from 0): blank lines
/// hold none.
fn line_of_record(path: &Path, record: u64) -> Option<u64> {
    let mut seen = 0;
    for (i, line) in BufReader::new(super::text::open(path).ok()?)
        .split(b'\n')
        .enumerate()
    {
        if line.ok()?.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if seen == record {
            return Some(i as u64 + 1);
        }
        seen += 1;
    }
    None
}

type Found = Arc<Dates>;

fn dates_cache() -> &'static Mutex<HashMap<String, Found>> {
    static CACHE: OnceLock<Mutex<HashMap<String, Found>>> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

/// The undeclared text columns of `lf` that convert, whole, to dates or
/// datetimes, those that look like them but hold a value that does not,
/// and those of dates in a format `read:` does not say.
fn date_conversions(src: &SourceInfo, mut lf: LazyFrame) -> PolarsResult<(Conversions, Conversions, Hints)> {
    let schema = lf.collect_schema()?;
    let texts: Vec<String> = schema
        .iter()
        .filter(|(n, dt)| **dt == DataType::String && !src.declared.iter().any(|(d, _)| d == n.as_str()))
        .map(|(n, _)| n.to_string())
        .collect();
    if texts.is_empty() {
        return Ok((Vec::new(), Vec::new(), Vec::new()));
    }
    let first = lf
        .clone()
        .select(texts.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
        .slice(0, SAMPLE)
        .collect()?;
    let zone = src.read.timezone.as_ref().map(|z| z.value.clone());
    let sample = |c: &str| -> Option<Vec<String>> {
        let values = first.column(c).ok()?.str().ok()?.iter().flatten();
        Some(values.map(str::to_string).collect())
    };
    let mut guesses: Vec<(String, Conversion)> = Vec::new();
    let mut hints: Hints = Vec::new();
    for c in &texts {
        let Some(values) = sample(c) else { continue };
        match guess(&values, src, zone.clone()) {
            Some(conv @ (Conversion::Date { .. } | Conversion::Datetime { .. })) => {
                guesses.push((c.clone(), conv))
            }
            _ => hints.extend(date_hint(src, &values).map(|formats| (c.clone(), formats))),
        }
    }
    let (mut found, mut missed) = verified(&lf, guesses)?;
    // A field of dates whose first time of day comes after the sample:
    // datetimes, its dates at midnight (verified again).
    let dates: Vec<&String> = missed
        .iter()
        .filter(|(_, g)| matches!(g, Conversion::Date { .. }))
        .map(|(c, _)| c)
        .collect();
    if !dates.is_empty() {
        let with_time = |c: &str| col(c).filter(col(c).str().contains_literal(lit(":"))).first();
        let firsts = lf
            .clone()
            .select(dates.iter().map(|c| with_time(c)).collect::<Vec<_>>())
            .collect()?;
        let later: Conversions = dates
            .iter()
            .filter_map(|c| {
                let first = firsts
                    .column(c.as_str())
                    .ok()?
                    .str()
                    .ok()?
                    .iter()
                    .next()??
                    .to_string();
                Some(((*c).clone(), later_datetimes(&first, zone.clone())?))
            })
            .collect();
        let (times, _) = verified(&lf, later)?;
        missed.retain(|(c, _)| !times.iter().any(|(t, _)| t == c));
        found.extend(times);
    }
    Ok((found, missed, hints))
}

/// The `guesses` that every value of their field fits, and the others.
fn verified(lf: &LazyFrame, guesses: Conversions) -> PolarsResult<(Conversions, Conversions)> {
    if guesses.is_empty() {
        return Ok((guesses, Vec::new()));
    }
    // Verified on every record: how many values each guess does not read.
    let misses = lf
        .clone()
        .select(
            guesses
                .iter()
                .enumerate()
                .map(|(i, (c, conv))| unconverted(c, conv).sum().alias(format!("m{i}")))
                .collect::<Vec<_>>(),
        )
        .collect()?;
    let read_whole = |m: &Column| {
        m.cast(&DataType::UInt64)
            .ok()
            .and_then(|m| m.u64().ok().and_then(|m| m.iter().next().flatten()))
            == Some(0)
    };
    let (found, missed): (Vec<_>, Vec<_>) = guesses
        .into_iter()
        .zip(misses.columns())
        .partition(|(_, m)| read_whole(m));
    let strip = |v: Vec<((String, Conversion), &Column)>| v.into_iter().map(|(g, _)| g).collect();
    Ok((strip(found), strip(missed)))
}

/// Text fields and how they convert.
type Conversions = Vec<(String, Conversion)>;

/// Text fields and the date formats that would read them.
type Hints = Vec<(String, Vec<String>)>;
