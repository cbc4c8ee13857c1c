//! NDJSON types from every line (LANGUAGE.md §2a), inferred as Polars'
//! reader infers them, but on the cores. The reader infers a file's types
//! on one thread, parsing every line into a tree of values: about five
//! seconds of a six-second evaluation of a million deals (370 MB). Here the
//! file is cut at line ends into a piece per core, each piece's types are
//! inferred by the reader's own inference, and the pieces' types are joined
//! as the reader joins its lines' (the supertype of each pair, in order),
//! then given to the reader, which infers nothing. The columns and their
//! types are the reader's; their order may differ (the reader's own puts
//! the fields of its longest lines first, which depends on where it is cut).
//! Within a piece, lines of a shape already seen are not parsed again
//! ([`shape`]); integers too long for 64 bits are floats; a line that
//! cannot be typed is an error naming it. Text fields of dates become
//! dates afterwards (`dates`), as CSV's text columns do.

mod dates;
mod text;

pub(super) use dates::{dates, with_dates, Dates};
pub(super) use text::held;

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

use polars::prelude::*;
use polars_arrow::array::StructArray;

/// Files shorter than this are inferred in one piece.
const PIECE: u64 = 8 << 20;

/// The schema of the NDJSON file at `path`, the reader's inference from
/// every line; `None` when the file cannot be read in pieces or its lines'
/// types do not join, so that the reader infers the whole file itself and
/// words its own error. A line that cannot be typed (not JSON, not an
/// object) is an error naming it.
pub(super) fn schema(path: &Path) -> Result<Option<Schema>, String> {
    // Each command reads a file's schema more than once (to check, to
    // evaluate, to say what is amiss): one pass over the file, kept while
    // the file is unchanged.
    static CACHE: OnceLock<Mutex<HashMap<PathBuf, Inferred>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    let stamp = crate::data::files::modified(path);
    if let Some((at, found)) = cache.lock().ok().and_then(|c| c.get(path).cloned()) {
        if stamp.is_some() && at == stamp {
            return found;
        }
    }
    let found = inferred_schema(path);
    if let Ok(mut c) = cache.lock() {
        c.insert(path.to_path_buf(), (stamp, found.clone()));
    }
    found
}

/// A file's schema as [`schema`] gives it, by the file's modification time and length.
type Inferred = (
    Option<(std::time::SystemTime, u64)>,
    Result<Option<Schema>, String>,
);

/// [`schema`], read from the file.
fn inferred_schema(path: &Path) -> Result<Option<Schema>, String> {
    let Ok(len) = text::length(path) else {
        return Ok(None);
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let pieces = (len / PIECE).clamp(1, cores);
    let mut starts = vec![0];
    for k in 1..pieces {
        let Ok(at) = line_after(path, k * len / pieces) else {
            return Ok(None);
        };
        if starts.last().is_some_and(|&last| at > last) && at < len {
            starts.push(at);
        }
    }
    schema_in_pieces(path, &starts, len)
}

/// Why a line is not a JSON object, in JSON's terms and with the column
/// (the reader's own words name its internals: "TapeError at character
/// 17"); `None` when it is one. The line's end is no part of it: a line
/// cut short inside a string was said to hold a control character at
/// column 0 (of the line after it); it is said to end too soon.
fn not_an_object(line: &str) -> Option<String> {
    match serde_json::from_str::<serde_json::Value>(line.trim_end_matches(['\n', '\r'])) {
        Ok(serde_json::Value::Object(_)) => None,
        Ok(_) => Some("not a JSON object (`{…}`)".to_string()),
        Err(e) => {
            let why = e.to_string();
            let why = why.split(" at line ").next().unwrap_or(&why).to_string();
            match e.is_eof() {
                true => Some(format!("not JSON: the line ends before its record does ({why})")),
                false => Some(format!("column {}: not JSON ({why})", e.column())),
            }
        }
    }
}

/// The schema inferred from the pieces of the file starting at `starts`
/// (the first 0, each at a line's start), the file `len` bytes long.
fn schema_in_pieces(path: &Path, starts: &[u64], len: u64) -> Result<Option<Schema>, String> {
    let ends = starts.iter().skip(1).copied().chain(std::iter::once(len));
    let ranges: Vec<(u64, u64)> = starts.iter().copied().zip(ends).collect();
    let Ok(pieces) = crate::cores::on_cores(ranges, |(from, to)| Ok(piece_types(path, from, to)?)) else {
        return Ok(None);
    };
    let (mut types, mut lines) = (Vec::new(), Vec::new());
    let mut lines_before = 0;
    for piece in pieces {
        if let Some((line, why)) = piece.failed {
            return Err(format!("line {}: {why}", lines_before + line + 1));
        }
        lines.extend(piece.first_lines.iter().map(|l| lines_before + l + 1));
        lines_before += piece.lines;
        types.extend(piece.types);
    }
    // The reader joins `true` and `1` as an integer, then fails to read
    // `true` as one (and `true` and `1.5` it does not join): the booleans
    // of such a field are texts, as if quoted, and the field is text.
    let mixed = booleans_and_numbers(&types);
    let types: Vec<DataType> = types.into_iter().map(|t| booleans_as_text(t, &mixed)).collect();
    let mut joined: Option<DataType> = None;
    for (i, t) in types.iter().enumerate() {
        joined = Some(match joined {
            None => t.clone(),
            Some(j) => match polars_core::utils::try_get_supertype(&j, t) {
                Ok(wider) => wider,
                Err(_) => return Err(unjoinable(&types, &lines, i)),
            },
        });
    }
    // As the reader turns its joined type into a schema.
    let Some(joined @ DataType::Struct(_)) = joined else {
        return Ok(None);
    };
    let arrow = joined.to_arrow(CompatLevel::newest());
    Ok(Some(
        StructArray::get_fields(&arrow)
            .iter()
            .map(Into::<Field>::into)
            .collect(),
    ))
}

/// Why line type `i` (first seen on `lines[i]`) does not join the ones
/// before it: a field of two kinds of value, with the line of each, in
/// the words of JSON (the reader says "failed to determine supertype of
/// struct[2] and i64", and no line).
fn unjoinable(types: &[DataType], lines: &[u64], i: usize) -> String {
    for (e, earlier) in types[..i].iter().enumerate() {
        if let Some((field, here, there)) = super::kinds::clash(earlier, &types[i], "") {
            return format!(
                "line {}: the field `{field}` is {here} here and {there} on line {}; a field holds one kind of value",
                lines[i], lines[e]
            );
        }
    }
    format!(
        "line {}: its fields' values are of other kinds than on the lines before it",
        lines[i]
    )
}

/// The fields of the line types that are booleans in some lines and
/// numbers in others.
fn booleans_and_numbers(types: &[DataType]) -> Vec<PlSmallStr> {
    let fields = || {
        types.iter().flat_map(|t| match t {
            DataType::Struct(fields) => fields.as_slice(),
            _ => &[],
        })
    };
    let named = |name: &PlSmallStr, kind: &dyn Fn(&DataType) -> bool| {
        fields().any(|f| f.name == *name && kind(&f.dtype))
    };
    // Only fields of nothing else: the reader joins a text, a list or an
    // object with either into what it reads.
    let scalar = |t: &DataType| t.is_bool() || t.is_primitive_numeric() || t.is_null();
    let mut mixed: Vec<PlSmallStr> = fields()
        .filter(|f| f.dtype.is_bool() && named(&f.name, &DataType::is_primitive_numeric))
        .filter(|f| !named(&f.name, &|t| !scalar(t)))
        .map(|f| f.name.clone())
        .collect();
    mixed.sort();
    mixed.dedup();
    mixed
}

/// A line type with its boolean fields named in `names` typed as text.
fn booleans_as_text(line: DataType, names: &[PlSmallStr]) -> DataType {
    match line {
        DataType::Struct(fields) if !names.is_empty() => DataType::Struct(
            fields
                .into_iter()
                .map(|f| match f.dtype.is_bool() && names.contains(&f.name) {
                    true => Field::new(f.name, DataType::String),
                    false => f,
                })
                .collect(),
        ),
        other => other,
    }
}

/// What the lines of a piece say: how many there are, their distinct
/// types in the order first seen, or the first line (from 0 in the piece)
/// that cannot be typed, and why.
struct PieceTypes {
    lines: u64,
    types: Vec<DataType>,
    /// The line (from 0 in the piece) each of `types` was first seen on.
    first_lines: Vec<u64>,
    failed: Option<(u64, String)>,
}

/// The reader's inference from bytes `from..to` of the file, line by line
/// as the reader infers (its lines' distinct types, in the order first
/// seen, are joined into its type). The reader parses every line into a
/// tree of values to type it; here a line whose shape ([`shape`]) was seen
/// before has that line's type, already counted, and only the first line
/// of each shape (and every line with no shape) is typed by the reader's
/// own inference, its integers too long for 64 bits read as floats
/// (Polars has no type for them).
fn piece_types(path: &Path, from: u64, to: u64) -> std::io::Result<PieceTypes> {
    let mut file = text::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut piece = BufReader::new(file.take(to - from));
    let (mut line, mut sig) = (Vec::new(), Vec::new());
    let mut shapes: std::collections::HashSet<Vec<u8>> = std::collections::HashSet::new();
    let mut out = PieceTypes {
        lines: 0,
        types: Vec::new(),
        first_lines: Vec::new(),
        failed: None,
    };
    loop {
        line.clear();
        if piece.read_until(b'\n', &mut line)? == 0 {
            return Ok(out);
        }
        let n = out.lines;
        out.lines += 1;
        // A byte order mark before the first record is no part of it.
        if from == 0 && n == 0 && line.starts_with(super::BOM) {
            line.drain(..super::BOM.len());
        }
        // As the reader: every line UTF-8, blank ones skipped.
        let text = match std::str::from_utf8(&line) {
            Ok(text) => text,
            Err(e) => {
                out.failed = Some((n, e.to_string()));
                return Ok(out);
            }
        };
        if text.trim().is_empty() {
            continue;
        }
        // The reader's inference gives a line of `null` the null type, but
        // reading it then fails without saying where: named here.
        if text.trim() == "null" {
            out.failed = Some((n, not_an_object(text).unwrap_or_default()));
            return Ok(out);
        }
        let shaped = shape(&line, &mut sig);
        if shaped && shapes.contains(&sig) {
            continue;
        }
        // The reader types a key written twice by its second value and
        // reads its first (`"x"` then `3`: no line can be read), where
        // other JSON readers keep the second: named, never guessed.
        if let Some(key) = (!shaped).then(|| repeated_key(&line)).flatten() {
            out.failed = Some((n, format!("the key `{key}` twice in one object")));
            return Ok(out);
        }
        // The reader's inference recurses once per level, without a limit:
        // a line nested thousands of levels deep overflowed the stack.
        let depth = nesting(&line);
        if depth > MAX_NESTING {
            out.failed = Some((
                n,
                format!("a value nested {depth} levels deep (kpi reads at most {MAX_NESTING})"),
            ));
            return Ok(out);
        }
        let mut one = std::io::Cursor::new(widened(&line));
        let dtype = match polars::io::ndjson::infer_schema(&mut one, None) {
            Ok(schema) => DataType::Struct(schema.iter_fields().collect()),
            Err(e) => {
                out.failed = Some((n, not_an_object(text).unwrap_or_else(|| e.to_string())));
                return Ok(out);
            }
        };
        if !out.types.contains(&dtype) {
            out.types.push(dtype);
            out.first_lines.push(n);
        }
        if shaped {
            shapes.insert(sig.clone());
        }
    }
}

/// How deep a line's values may nest (`{"a": [[1]]}` is 3 deep), as
/// JSON readers commonly allow.
const MAX_NESTING: usize = 128;

/// Inside a JSON text, after byte `c` (`escaped`: the byte before was a
/// backslash): whether the text goes on, and whether the next byte is
/// escaped.
fn in_text_after(escaped: bool, c: u8) -> (bool, bool) {
    match (escaped, c) {
        (true, _) => (true, false),
        (false, b'\\') => (true, true),
        (false, b'"') => (false, false),
        _ => (true, false),
    }
}

/// How deep the line's objects and lists nest, outside texts.
fn nesting(line: &[u8]) -> usize {
    let (mut depth, mut deepest, mut in_text, mut escaped) = (0usize, 0, false, false);
    for &c in line {
        if in_text {
            (in_text, escaped) = in_text_after(escaped, c);
            continue;
        }
        match c {
            b'"' => in_text = true,
            b'{' | b'[' => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    deepest
}

/// The first key a line's JSON object holds twice, if any.
fn repeated_key(line: &[u8]) -> Option<String> {
    use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
    struct Repeated;
    impl<'de> Visitor<'de> for Repeated {
        type Value = Option<String>;
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("a JSON object")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            let mut seen = std::collections::HashSet::new();
            let mut twice = None;
            while let Some(key) = map.next_key::<String>()? {
                map.next_value::<IgnoredAny>()?;
                if twice.is_none() && !seen.insert(key.clone()) {
                    twice = Some(key);
                }
            }
            Ok(twice)
        }
    }
    let mut reader = serde_json::Deserializer::from_slice(line);
    reader.deserialize_map(Repeated).ok().flatten()
}

/// The line with each integer too long for 64 bits (outside texts) written
/// as a float, which the reader's inference would type as a 128-bit
/// integer Polars cannot hold (and stop the process).
fn widened(line: &[u8]) -> std::borrow::Cow<'_, [u8]> {
    let mut out: Option<Vec<u8>> = None;
    let (mut at, mut in_text, mut escaped) = (0, false, false);
    while let Some(&c) = line.get(at) {
        if in_text {
            (in_text, escaped) = in_text_after(escaped, c);
        } else if c == b'"' {
            in_text = true;
        } else if c == b'-' || c.is_ascii_digit() {
            let digits = line[at + 1..].iter().take_while(|c| c.is_ascii_digit()).count() + 1;
            let end = at + digits;
            let integer = !matches!(line.get(end), Some(b'.' | b'e' | b'E'));
            let fits = std::str::from_utf8(&line[at..end]).is_ok_and(|n| n.parse::<i64>().is_ok());
            if integer && !fits {
                let widened = out.get_or_insert_with(|| line[..at].to_vec());
                widened.extend_from_slice(&line[at..end]);
                widened.extend_from_slice(b".0");
            } else if let Some(w) = out.as_mut() {
                w.extend_from_slice(&line[at..end]);
            }
            at = end;
            continue;
        }
        if let Some(w) = out.as_mut() {
            w.push(c);
        }
        at += 1;
    }
    match out {
        Some(w) => std::borrow::Cow::Owned(w),
        None => std::borrow::Cow::Borrowed(line),
    }
}

/// A line's shape, written into `sig`, where it has one that settles its
/// type: one object of at most 32 keys (the parser keeps such keys in
/// order) each named once and plainly (no escape), whose values are
/// `null`, `true`, `false`, text without escapes, integers of up to 18
/// digits or decimals without an exponent. The shape is the keys in order,
/// each with its value's kind; two lines of one shape have one type.
/// Anything else (nesting, escapes, long numbers, odd spacing of bytes
/// the parser would refuse) has no shape and is typed by the reader.
fn shape(line: &[u8], sig: &mut Vec<u8>) -> bool {
    sig.clear();
    let mut at = 0;
    let skip_space = |at: &mut usize| {
        while line
            .get(*at)
            .is_some_and(|c| matches!(c, b' ' | b'\t' | b'\n' | b'\r'))
        {
            *at += 1;
        }
    };
    // A text without escapes or control bytes: its bytes' end, after the quote.
    let text = |at: usize| -> Option<usize> {
        let rest = line.get(at + 1..)?;
        let end = rest.iter().position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        (rest[end] == b'"').then_some(at + 1 + end + 1)
    };
    skip_space(&mut at);
    if line.get(at) != Some(&b'{') {
        return false;
    }
    at += 1;
    skip_space(&mut at);
    let mut keys: Vec<&[u8]> = Vec::new();
    if line.get(at) == Some(&b'}') {
        at += 1;
    } else {
        loop {
            if line.get(at) != Some(&b'"') {
                return false;
            }
            let Some(end) = text(at) else { return false };
            let key = &line[at + 1..end - 1];
            if keys.contains(&key) || keys.len() == 32 {
                return false;
            }
            keys.push(key);
            sig.extend_from_slice(key);
            sig.push(0);
            at = end;
            skip_space(&mut at);
            if line.get(at) != Some(&b':') {
                return false;
            }
            at += 1;
            skip_space(&mut at);
            let Some((kind, end)) = scalar(line, at, &text) else {
                return false;
            };
            sig.push(kind);
            at = end;
            skip_space(&mut at);
            match line.get(at) {
                Some(b',') => {
                    at += 1;
                    skip_space(&mut at);
                }
                Some(b'}') => {
                    at += 1;
                    break;
                }
                _ => return false,
            }
        }
    }
    skip_space(&mut at);
    at == line.len()
}

/// The kind of the scalar value at `at` and where it ends: `n`ull,
/// `b`oolean, `s` text, `i`nteger (up to 18 digits), `f`loat (a decimal
/// without exponent); none for anything else.
fn scalar(line: &[u8], at: usize, text: &dyn Fn(usize) -> Option<usize>) -> Option<(u8, usize)> {
    let rest = line.get(at..)?;
    for (word, kind) in [(&b"null"[..], b'n'), (b"true", b'b'), (b"false", b'b')] {
        if rest.starts_with(word) {
            return Some((kind, at + word.len()));
        }
    }
    if rest.first() == Some(&b'"') {
        return Some((b's', text(at)?));
    }
    // -?(0|[1-9][0-9]*)(\.[0-9]+)?
    let sign = usize::from(rest.first() == Some(&b'-'));
    let whole = rest[sign..].iter().take_while(|c| c.is_ascii_digit()).count();
    if whole == 0 || (whole > 1 && rest[sign] == b'0') {
        return None;
    }
    let mut end = sign + whole;
    let kind = if rest.get(end) == Some(&b'.') {
        let fraction = rest[end + 1..].iter().take_while(|c| c.is_ascii_digit()).count();
        if fraction == 0 {
            return None;
        }
        end += 1 + fraction;
        b'f'
    } else if whole <= 18 {
        b'i'
    } else {
        return None;
    };
    // A number ends at a separator or white space, not in an exponent.
    match rest.get(end) {
        Some(b'e' | b'E') => None,
        _ => Some((kind, at + end)),
    }
}

/// Where the first line starting after byte `at` starts (the file's
/// length if none does).
fn line_after(path: &Path, at: u64) -> std::io::Result<u64> {
    let mut file = text::open(path)?;
    file.seek(SeekFrom::Start(at))?;
    let mut rest_of_line = Vec::new();
    let n = BufReader::new(file).read_until(b'\n', &mut rest_of_line)?;
    Ok(at + n as u64)
}

/// Whether an NDJSON file holds a record: a byte other than white space
/// (and a byte order mark).
pub(super) fn has_records(path: &Path) -> std::io::Result<bool> {
    let mut reader = BufReader::new(text::open(path)?);
    let mut first = true;
    loop {
        let buf = reader.fill_buf()?;
        if buf.is_empty() {
            return Ok(false);
        }
        let mut bytes = buf;
        if first {
            bytes = bytes.strip_prefix(super::BOM).unwrap_or(bytes);
            first = false;
        }
        if bytes.iter().any(|b| !b.is_ascii_whitespace()) {
            return Ok(true);
        }
        let n = buf.len();
        reader.consume(n);
    }
}

/// The line (from 1) of record `k` (from 0) of an NDJSON file, as the
/// reader counts records: blank lines are none. `Err` with the number of
/// records the file holds when they are no more than `k`.
pub(super) fn line_of_record(path: &Path, k: u64) -> std::io::Result<Result<u64, u64>> {
    let mut records = 0;
    for (n, line) in BufReader::new(text::open(path)?).split(b'\n').enumerate() {
        let line = line?;
        let line = match n {
            0 => line.strip_prefix(super::BOM).unwrap_or(&line),
            _ => &line,
        };
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        if records == k {
            return Ok(Ok(n as u64 + 1));
        }
        records += 1;
    }
    Ok(Err(records))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A line nested deeper than readers allow is named with its depth,
    /// never read by the reader's inference, whose recursion overflowed
    /// the stack; texts holding brackets do not count.
    #[test]
    fn a_line_nested_too_deep_is_named() {
        let dir = std::env::temp_dir().join(format!("kpi-ndjson-deep-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("deep.ndjson");
        let deep = format!("{{\"x\": {}{}}}\n", "[".repeat(20_000), "]".repeat(20_000));
        let fine = format!(
            "{{\"x\": {}1{}, \"t\": \"[[[{{\\\"\"}}\n",
            "[".repeat(127),
            "]".repeat(127)
        );
        std::fs::write(&path, format!("{fine}{deep}")).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert_eq!(
            schema_in_pieces(&path, &[0], len),
            Err("line 2: a value nested 20001 levels deep (kpi reads at most 128)".to_string())
        );
        std::fs::write(&path, &fine).unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        assert!(schema_in_pieces(&path, &[0], len).is_ok());
        assert_eq!(nesting(fine.as_bytes()), 128);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    /// A line cut short, as a writer stopped mid-record leaves the last
    /// one, is said to end too soon; other faults are named at their
    /// column on the line.
    #[test]
    fn a_line_cut_short_is_named_where_it_stops() {
        let why = not_an_object("{\"a\": 3, \"d\": \"2025-\r\n");
        assert_eq!(
            why.as_deref(),
            Some("not JSON: the line ends before its record does (EOF while parsing a string)")
        );
        let tab = not_an_object("{\"a\": \"x\ty\"}\n");
        assert_eq!(
            tab.as_deref(),
            Some("column 9: not JSON (control character (\\u0000-\\u001F) found while parsing a string)")
        );
        assert_eq!(not_an_object("{\"a\": 1}\n"), None);
    }

    /// Columns by name, the fields of objects too: the reader orders them
    /// by which lines are longest, so pieces may order them otherwise.
    fn sorted(schema: &Schema) -> Vec<(String, String)> {
        fn shown(dtype: &DataType) -> String {
            match dtype {
                DataType::Struct(fields) => {
                    let mut f: Vec<String> = fields
                        .iter()
                        .map(|f| format!("{}: {}", f.name, shown(&f.dtype)))
                        .collect();
                    f.sort();
                    format!("{{{}}}", f.join(", "))
                }
                d => format!("{d:?}"),
            }
        }
        let mut out: Vec<(String, String)> = schema.iter().map(|(n, d)| (n.to_string(), shown(d))).collect();
        out.sort();
        out
    }

    /// Cut anywhere between lines, the pieces give the columns and types
    /// the reader infers from the whole file: integers then floats, nulls
    /// first, keys missing or first seen late, nested objects whose fields
    /// differ, a key that is text in one line and a number in another,
    /// blank lines.
    #[test]
    fn pieces_infer_what_the_whole_file_infers() {
        let lines = [
            r#"{"id": 1, "amount": null, "tags": {"a": 1}, "when": "2024-01-02"}"#,
            r#"{"id": 2, "amount": 3, "tags": {"a": 2, "b": "x"}, "flag": true}"#,
            "",
            r#"{"id": 3, "amount": 4.5, "mixed": "7"}"#,
            r#"{"id": 4, "mixed": 8, "late": [1, 2]}"#,
            r#"{"amount": -1, "tags": null, "when": null, "flag": false}"#,
        ];
        let text = lines.join("\n") + "\n";
        let dir = crate::testing::temp_dir("ndjson");
        let path = dir.join("d.ndjson");
        std::fs::write(&path, &text).unwrap();
        let whole = LazyJsonLineReader::new(PlRefPath::new(path.to_string_lossy().into_owned()))
            .with_infer_schema_length(None)
            .finish()
            .unwrap()
            .collect_schema()
            .unwrap();
        let line_starts: Vec<u64> = std::iter::once(0)
            .chain(text.match_indices('\n').map(|(i, _)| i as u64 + 1))
            .filter(|&s| s < text.len() as u64)
            .collect();
        let len = text.len() as u64;
        let whole = Some(sorted(&whole));
        let pieces = |starts: &[u64]| schema_in_pieces(&path, starts, len).unwrap().map(|s| sorted(&s));
        assert_eq!(schema(&path).unwrap().map(|s| sorted(&s)), whole);
        for &a in &line_starts[1..] {
            assert_eq!(pieces(&[0, a]), whole, "cut at {a}");
            // (A piece of blank lines alone fails, and the reader infers
            // the whole file itself.)
            let lines_between = |b: u64| !text[a as usize..b as usize].trim().is_empty();
            for &b in line_starts.iter().filter(|&&b| b > a && lines_between(b)) {
                assert_eq!(pieces(&[0, a, b]), whole, "cut at {a} and {b}");
            }
        }
        // A cut inside a line starts the piece at the next line.
        assert_eq!(line_after(&path, 3).unwrap(), line_starts[1]);
        // The reader infers a line of `null` as no record, then fails
        // reading it without a line: it is named.
        std::fs::write(&path, text + "null\n").unwrap();
        let len = std::fs::metadata(&path).unwrap().len();
        let failed = schema_in_pieces(&path, &[0], len);
        assert_eq!(failed, Err("line 7: not a JSON object (`{…}`)".to_string()));
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// Random lines of flat and nested objects, keys in any order, some
    /// missing or twice, values of every kind and spelling (escaped texts,
    /// long integers, exponents, odd spacing), blank lines: the types the
    /// reader infers from the whole file, read in one piece or two, with
    /// lines typed by their shape; a key twice in a line, or a field of two
    /// kinds no type holds, is named. (The reader's are inferred from the
    /// file with its integer too long for 64 bits written as a float: it
    /// cannot type that integer, and stops the process; a field both
    /// boolean and number is compared as text, as it is read.)
    #[test]
    fn lines_of_one_shape_have_one_type() {
        const LONG: &str = "12345678901234567890";
        const VALUES: [&str; 17] = [
            "null",
            "true",
            "false",
            "1",
            "-0",
            LONG,
            "-9223372036854775808",
            "2.5",
            "1e5",
            "-1.5E-2",
            "\"x\"",
            "\"a\\\"b 12345678901234567890\"",
            "\"\u{e9}t\u{e9}\"",
            "{\"k\": 1}",
            "[1, 2.5]",
            "[]",
            "\"\"",
        ];
        let dir = crate::testing::temp_dir("ndjson-shapes");
        let mut next = crate::testing::random_below(9);
        let (mut shaped, mut compared, mut named, mut unjoined) = (0, 0, 0, 0);
        for case in 0..500 {
            // Each key keeps to one to three spellings through a file.
            let kinds: Vec<Vec<&str>> = (0..4)
                .map(|_| (0..1 + next(3)).map(|_| VALUES[next(VALUES.len())]).collect())
                .collect();
            // Each line: its keys with their values, and its spacing; `None` a blank line.
            type Line<'a> = Option<(Vec<(usize, &'a str)>, &'a str)>;
            let mut lines: Vec<Line> = Vec::new();
            for _ in 0..1 + next(40) {
                if next(12) == 0 {
                    lines.push(None);
                    continue;
                }
                let mut keys: Vec<usize> = (0..4).filter(|_| next(5) != 0).collect();
                if next(6) == 0 {
                    keys.reverse();
                }
                if case % 10 == 0 && next(20) == 0 {
                    keys.push(0);
                }
                let space = [" ", "", "\t"][next(3)];
                let fields = keys
                    .iter()
                    .map(|&k| (k, kinds[k][next(kinds[k].len())]))
                    .collect();
                lines.push(Some((fields, space)));
            }
            // Keys written both as booleans and as numbers are text (the
            // reader would read them as numbers, then fail on a boolean).
            let is_bool = |v: &str| v == "true" || v == "false";
            let written = |k: usize, kind: &dyn Fn(&str) -> bool| {
                lines
                    .iter()
                    .flatten()
                    .any(|(f, _)| f.iter().any(|&(fk, v)| fk == k && kind(v)))
            };
            let is_number = |v: &str| v.parse::<f64>().is_ok();
            let text_keys: Vec<usize> = (0..4)
                .filter(|&k| written(k, &is_bool) && written(k, &is_number))
                .filter(|&k| !written(k, &|v| !is_bool(v) && !is_number(v) && v != "null"))
                .collect();
            let render = |value: &dyn Fn(usize, &str) -> String| {
                let mut text = String::new();
                for line in &lines {
                    match line {
                        None => text.push_str("  \n"),
                        Some((fields, space)) => {
                            let fields: Vec<String> = fields
                                .iter()
                                .map(|&(k, v)| format!("\"k{k}\":{space}{}", value(k, v)))
                                .collect();
                            text.push_str(&format!("{{{}}}{space}\n", fields.join(",")));
                        }
                    }
                }
                text
            };
            let text = render(&|_, v| v.to_string());
            let path = dir.join(format!("c{case}.ndjson"));
            std::fs::write(&path, &text).unwrap();
            let reference = dir.join(format!("r{case}.ndjson"));
            let expected = |k: usize, v: &str| match v {
                LONG => format!("{LONG}.0"),
                v if is_bool(v) && text_keys.contains(&k) => format!("\"{v}\""),
                v => v.to_string(),
            };
            std::fs::write(&reference, render(&expected)).unwrap();
            let whole = LazyJsonLineReader::new(PlRefPath::new(reference.to_string_lossy().into_owned()))
                .with_infer_schema_length(None)
                .finish()
                .and_then(|mut lf| lf.collect_schema());
            let len = text.len() as u64;
            let half = line_after(&path, len / 2).unwrap();
            let one = schema_in_pieces(&path, &[0], len);
            let two = schema_in_pieces(&path, &[0, half.min(len)], len);
            let halves_have_lines =
                !text[half as usize..].trim().is_empty() && !text[..half as usize].trim().is_empty();
            // A key twice in a line is named, in one piece or two.
            let twice = lines.iter().position(|l| {
                l.as_ref()
                    .is_some_and(|(f, _)| f.iter().filter(|&&(k, _)| k == 0).count() > 1)
            });
            if let Some(line) = twice {
                let said = format!("line {}: the key `k0` twice in one object", line + 1);
                assert_eq!(one, Err(said.clone()), "{text}");
                assert_eq!(two, Err(said), "{text}");
                named += 1;
                continue;
            }
            match whole {
                Ok(whole) => {
                    let whole = sorted(&whole);
                    assert_eq!(
                        one.map(|s| s.as_ref().map(sorted)),
                        Ok(Some(whole.clone())),
                        "{text}"
                    );
                    if halves_have_lines {
                        assert_eq!(two.map(|s| s.as_ref().map(sorted)), Ok(Some(whole)), "{text}");
                    }
                    compared += 1;
                }
                // A file of blank lines: no type.
                Err(_) if text.trim().is_empty() => assert_eq!(one, Ok(None)),
                // Where the reader cannot join its lines' types, neither do
                // the pieces, which name the field and its lines.
                Err(_) => {
                    let said = one.err().unwrap_or_default();
                    assert!(said.contains("a field holds one kind of value"), "{said}\n{text}");
                    unjoined += 1;
                }
            }
            let mut sig = Vec::new();
            shaped += text.lines().filter(|l| shape(l.as_bytes(), &mut sig)).count();
        }
        assert!(
            shaped > 1_000 && compared > 250 && named > 10 && unjoined > 10,
            "{shaped} {compared} {named} {unjoined}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// An integer too long for 64 bits after lines of the same keys with
    /// short ones makes floats (the reader's inference would stop the
    /// process on it).
    #[test]
    fn a_long_integer_after_short_ones_makes_floats() {
        let dir = crate::testing::temp_dir("ndjson-long");
        let path = dir.join("d.ndjson");
        let text = "{\"a\": 1, \"b\": \"x\"}\n{\"a\": 12345678901234567890, \"b\": \"y\"}\n";
        std::fs::write(&path, text).unwrap();
        let schema = schema(&path).unwrap().unwrap();
        assert_eq!(schema.get("a"), Some(&DataType::Float64));
        let df = LazyJsonLineReader::new(PlRefPath::new(path.to_string_lossy().into_owned()))
            .with_schema(Some(Arc::new(schema)))
            .finish()
            .unwrap()
            .collect()
            .unwrap();
        let a: Vec<Option<f64>> = df.column("a").unwrap().f64().unwrap().to_vec();
        assert_eq!(a, [Some(1.0), Some(12345678901234567890.0)]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A line that is not JSON, or not an object, is an error naming it,
    /// counted across pieces and blank lines.
    #[test]
    fn a_line_that_cannot_be_typed_is_named() {
        let dir = crate::testing::temp_dir("ndjson-bad");
        let path = dir.join("d.ndjson");
        let text = "{\"a\": 1}\n\n{\"a\": 2}\n{\"a\": 3}\n{\"a\": \n{\"a\": 5}\n";
        std::fs::write(&path, text).unwrap();
        let len = text.len() as u64;
        for starts in [&[0][..], &[0, 9], &[0, 19], &[0, 9, 19]] {
            let e = schema_in_pieces(&path, starts, len).unwrap_err();
            assert!(e.starts_with("line 5: "), "{starts:?}: {e}");
        }
        std::fs::write(&path, "{\"a\": 1}\n7\n").unwrap();
        let e = schema_in_pieces(&path, &[0], 11).unwrap_err();
        assert!(e.starts_with("line 2: "), "{e}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
