//! The types Polars' CSV reader infers for a source's columns, found in
//! pieces on the cores. The reader's inference splits every record of the
//! file on one thread and runs a regular expression or three on each field
//! (a fifth of the time of reading a million deals whose columns are not
//! declared, and run on two threads at once, its regular expressions' cache
//! is a contended lock). Here every column is parsed as text in pieces,
//! each value's type told by a few tests of its bytes, a value they cannot
//! settle by Polars' own function: the same types, blank records left out
//! (and, under `on_error: skip`, the records to skip).

use polars::io::csv::read::schema_inference::{finish_infer_field_schema, infer_field_schema};
use polars::prelude::*;

use super::pieces::Pieces;

/// What the text of a source's columns says of them.
pub struct Seen {
    /// Each file's types of the columns asked, in order.
    pub types: Vec<Vec<DataType>>,
    /// The first non-null values (up to the sample size) of each column
    /// asked, in file order.
    pub samples: Vec<Vec<String>>,
}

impl Seen {
    /// Each file's schema: the columns asked, named `names`, of its types.
    pub fn schemas<'a>(&'a self, names: &'a [String]) -> impl Iterator<Item = Schema> + 'a {
        self.types.iter().map(move |types| {
            names
                .iter()
                .zip(types)
                .map(|(n, t)| Field::new(n.as_str().into(), t.clone()))
                .collect()
        })
    }
}

/// The columns at `projection` of the source's `pieces` (a text schema),
/// read once: each file's types as the reader is to read them (if `types`;
/// `decimal_comma`: the `read:` option, see [`seen_type`]) and up to
/// `sample` values of each column.
pub fn seen(
    pieces: &Pieces,
    projection: &[usize],
    (types, decimal_comma): (bool, bool),
    sample: usize,
) -> PolarsResult<Seen> {
    let per_piece = pieces.each_parsed(projection, |df, first| {
        let df = pieces.without_dropped(df, first)?;
        df.columns()
            .iter()
            .map(|c| column_seen(c.str()?, types, decimal_comma, sample))
            .collect::<PolarsResult<Vec<_>>>()
    })?;
    let mut files: Vec<Vec<Vec<DataType>>> = vec![vec![Vec::new(); projection.len()]; pieces.files()];
    let mut samples: Vec<Vec<String>> = vec![Vec::new(); projection.len()];
    for (file, columns) in per_piece {
        for (k, (kinds, values)) in columns.into_iter().enumerate() {
            if let Some(set) = files.get_mut(file).and_then(|f| f.get_mut(k)) {
                for t in kinds {
                    if !set.contains(&t) {
                        set.push(t);
                    }
                }
            }
            if let Some(s) = samples.get_mut(k) {
                let room = sample.saturating_sub(s.len());
                s.extend(values.into_iter().take(room));
            }
        }
    }
    let types = files
        .into_iter()
        .map(|columns| columns.iter().map(|set| finish(set)).collect())
        .collect();
    Ok(Seen { types, samples })
}

/// A column's distinct value types (if `types`) and first `sample` values.
fn column_seen(
    text: &StringChunked,
    types: bool,
    decimal_comma: bool,
    sample: usize,
) -> PolarsResult<(Vec<DataType>, Vec<String>)> {
    let mut kinds: Vec<DataType> = Vec::new();
    let mut firsts = Vec::new();
    let mut last = None;
    let mut spaces = false;
    // `""` is an empty value, and so are spaces alone (values are trimmed
    // before they are converted): no type, and no sample (the reader's
    // inference would make the column text).
    for v in text.iter().flatten().filter(|v| !v.is_empty()) {
        if v.trim().is_empty() {
            spaces = true;
            continue;
        }
        if firsts.len() < sample {
            firsts.push(v.to_string());
        } else if !types {
            break;
        }
        if types {
            let t = seen_type(v, decimal_comma);
            if last.as_ref() != Some(&t) {
                if !kinds.contains(&t) {
                    kinds.push(t.clone());
                }
                last = Some(t);
            }
        }
    }
    // Booleans are parsed by the reader itself, which reads no spaces as
    // one: such a column stays text, as it was.
    if spaces && kinds.contains(&DataType::Boolean) {
        kinds.push(DataType::String);
    }
    Ok((kinds, firsts))
}

/// A value's type as the reader is to read it: the reader reads numbers
/// with a decimal point alone, those with a decimal comma are text to it
/// (`2,5`), and its column is then guessed as numbers written so and
/// converted ([`crate::data::text::guess`]). With a decimal comma, a dot stands
/// between thousands (`1.000` is a thousand, `12.345,5` twelve thousand),
/// where the reader would take it for a decimal point (1.0): such a value
/// is text too, and converted with its column.
fn seen_type(v: &str, decimal_comma: bool) -> DataType {
    match field_type(v, false) {
        DataType::Float64 if decimal_comma && v.contains('.') => DataType::String,
        t => t,
    }
}

/// The type of a set of value types, as the reader settles it.
fn finish(set: &[DataType]) -> DataType {
    let set: PlIndexSet<DataType> = set.iter().cloned().collect();
    finish_infer_field_schema(&set)
}

/// ASCII bytes that some number, boolean, `inf` or `NaN` the reader
/// recognises may hold; a value with any other is text.
const MAY_NOT_BE_TEXT: [bool; 128] = {
    let mut table = [false; 128];
    let chars = b"0123456789+-.,eEinfNatrulsTRUFALS";
    let mut i = 0;
    while i < chars.len() {
        table[chars[i] as usize] = true;
        i += 1;
    }
    table
};

/// The type the reader's inference gives a non-empty field's value
/// (`infer_field_schema` without dates), told by its bytes where they
/// settle it. An ASCII value is text if it has a byte no number or boolean
/// has, a letter but in `true`, `false` (any case), `inf`, `NaN` or an
/// exponent's `e`, or a sign inside that does not follow that `e`; an
/// integer if it is up to 18 digits after an optional minus (it fits 64
/// bits); a float if it is digits around one decimal separator. Anything
/// else goes to Polars' function, as do values with other bytes: its
/// patterns take any Unicode digit for a digit and `ſ` for an `s`; a
/// number type it gives is then one the reader can read ([`readable`]).
pub fn field_type(v: &str, decimal_comma: bool) -> DataType {
    let b = v.as_bytes();
    if b.iter().any(|&c| MAY_NOT_BE_TEXT.get(c as usize) == Some(&false)) {
        return DataType::String;
    }
    if !v.is_ascii() {
        return readable(infer_field_schema(v, false, decimal_comma), v, decimal_comma);
    }
    if v.eq_ignore_ascii_case("true") || v.eq_ignore_ascii_case("false") {
        return DataType::Boolean;
    }
    let unsigned = b.strip_prefix(b"-").or_else(|| b.strip_prefix(b"+")).unwrap_or(b);
    if unsigned == b"inf" || unsigned == b"NaN" {
        return DataType::Float64;
    }
    let other_letter = b
        .iter()
        .any(|&c| c.is_ascii_alphabetic() && !matches!(c, b'e' | b'E'));
    let misplaced_sign = b
        .windows(2)
        .any(|w| matches!(w[1], b'-' | b'+') && !matches!(w[0], b'e' | b'E'));
    if other_letter || misplaced_sign {
        return DataType::String;
    }
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let magnitude = b.strip_prefix(b"-").unwrap_or(b);
    if !magnitude.is_empty() && magnitude.len() <= 18 && digits(magnitude) {
        return DataType::Int64;
    }
    let separator = if decimal_comma { b',' } else { b'.' };
    if let Some(at) = unsigned.iter().position(|&c| c == separator) {
        let (whole, fraction) = (&unsigned[..at], &unsigned[at + 1..]);
        if digits(whole) && !fraction.is_empty() && digits(fraction) {
            return DataType::Float64;
        }
    }
    readable(infer_field_schema(v, false, decimal_comma), v, decimal_comma)
}

/// A number type the reader could not read the value as, made one it can:
/// an integer too long for 64 bits is text (an identifier, as a rule: as a
/// float two such values would become one, in groups and distinct counts),
/// and so is a number written with digits other than ASCII ones (which
/// Polars' patterns take, but not its parser). The reader would stop at
/// such a value, naming neither its file nor its line.
fn readable(t: DataType, v: &str, decimal_comma: bool) -> DataType {
    let as_float = || match decimal_comma {
        true => v.replacen(',', ".", 1).parse::<f64>().is_ok(),
        false => v.parse::<f64>().is_ok(),
    };
    match t {
        DataType::Int64 if v.parse::<i64>().is_err() => DataType::String,
        DataType::Float64 if !as_float() => DataType::String,
        t => t,
    }
}

/// The type of a column whose files' types are `a` and `b`: the same, a
/// float where they are numbers of two kinds, otherwise text.
pub fn wider(a: &DataType, b: &DataType) -> DataType {
    match (a, b) {
        (a, b) if a == b => a.clone(),
        (a, b) if a.is_primitive_numeric() && b.is_primitive_numeric() => DataType::Float64,
        _ => DataType::String,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every value made of the bytes numbers and booleans are written
    /// with (and a few others, an Arabic-Indic digit and a long s among
    /// them) up to three of them long, 100,000 random
    /// ones up to ten long, and long runs of digits, typed as Polars' own
    /// function types them, with and without a decimal comma.
    #[test]
    fn values_are_typed_as_polars_types_them() {
        let alphabet: Vec<char> = "0123456789+-.,eEinfNatrulsTRUFALSx \"_ſ٣é".chars().collect();
        let mut values: Vec<String> = Vec::new();
        let mut grow = vec![String::new()];
        for _ in 0..3 {
            grow = grow
                .iter()
                .flat_map(|p| alphabet.iter().map(move |c| format!("{p}{c}")))
                .collect();
            values.extend(grow.iter().cloned());
        }
        let mut next = crate::testing::random_below(5);
        for _ in 0..100_000 {
            let len = 4 + next(7);
            // Digits half the time, to make numbers often.
            let v: String = (0..len)
                .map(|_| match next(2) {
                    0 => char::from(b'0' + next(10) as u8),
                    _ => alphabet[next(alphabet.len())],
                })
                .collect();
            values.push(v);
        }
        for w in [
            "true",
            "FALSE",
            "tRuE",
            "inf",
            "-inf",
            "+inf",
            "NaN",
            "nan",
            "1e5",
            "1.",
            ".5",
            "-.5e-3",
            "1,5",
            "2025-01-31",
            "1e+5",
            "1E-5",
            "1-e5",
            "--1",
            "falſe",
            "trUe",
            "٣٣",
            "-٣.5",
            "Zürich",
            "A104158",
            "features",
            "-NaN",
        ] {
            values.push(w.to_string());
        }
        for n in 15..22 {
            values.push("9".repeat(n));
            values.push(format!("-{}", "9".repeat(n)));
            values.push(format!("{}.5", "9".repeat(n)));
        }
        values.push("9223372036854775807".into());
        values.push("-9223372036854775808".into());
        values.push("9223372036854775808".into());
        values.push("ünïcödé".into());
        assert!(values.len() > 150_000);
        // Polars' type, or where its reader cannot read the value as that
        // number, text (a long integer: an identifier, kept as written).
        let expected = |v: &str, comma: bool| {
            let float = v.replacen(',', ".", usize::from(comma)).parse::<f64>().is_ok();
            match infer_field_schema(v, false, comma) {
                DataType::Int64 if v.parse::<i64>().is_err() => DataType::String,
                DataType::Float64 if !float => DataType::String,
                t => t,
            }
        };
        for v in values.iter().filter(|v| !v.is_empty()) {
            for comma in [false, true] {
                assert_eq!(field_type(v, comma), expected(v, comma), "{v:?} {comma}");
            }
        }
        // Polars' reader cannot read these as the numbers its patterns see.
        assert_eq!(field_type("99999999999999999999", false), DataType::String);
        assert_eq!(field_type("٣٣", false), DataType::String);
    }

    #[test]
    fn files_of_two_kinds_of_number_make_floats() {
        assert_eq!(wider(&DataType::Int64, &DataType::Float64), DataType::Float64);
        assert_eq!(wider(&DataType::Int64, &DataType::Int64), DataType::Int64);
        assert_eq!(wider(&DataType::Int64, &DataType::Boolean), DataType::String);
        assert_eq!(wider(&DataType::String, &DataType::Float64), DataType::String);
    }
}
