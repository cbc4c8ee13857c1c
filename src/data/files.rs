//! The files of a source, looked at as bytes before any reader sees them:
//! globs that match nothing, headers that disagree or look like data,
//! records with too many or too few fields, unclosed quotes, bytes that are
//! not UTF-8. Each finding names the file and the line.

use std::path::{Path, PathBuf};

use super::diagnostics as diag;
use super::SourceInfo;
use crate::diagnostic::Diagnostic;

/// The files of a source: the glob's matches, sorted; or the one file.
pub fn expand(src: &SourceInfo) -> Result<Vec<PathBuf>, Diagnostic> {
    // Object storage: the reader lists a glob and reports a missing object.
    if crate::spec::model::is_object_url(&src.path_str()) {
        return Ok(vec![src.path.clone()]);
    }
    if !src.is_glob() {
        if !src.path.exists() {
            return Err(diag::source_not_found(src.span, &src.name, &src.path_str()));
        }
        return Ok(vec![src.path.clone()]);
    }
    let matches = glob::glob(&src.path_str()).map_err(|e| {
        diag::data_error(
            src.span,
            &src.name,
            &src.path_str(),
            &format!("not a valid glob: {e}"),
        )
    })?;
    let mut files: Vec<PathBuf> = matches.filter_map(Result::ok).filter(|p| p.is_file()).collect();
    files.sort();
    if files.is_empty() {
        return Err(diag::glob_matches_nothing(src.span, &src.name, &src.path_str()));
    }
    Ok(files)
}

/// One record's fields, honouring quotes (`""` inside quotes is a quote).
fn fields(record: &[u8], separator: u8) -> Vec<String> {
    let mut out = Vec::new();
    let mut field = Vec::new();
    let mut quoted = false;
    let mut i = 0;
    while i < record.len() {
        let b = record[i];
        match b {
            b'"' if quoted && record.get(i + 1) == Some(&b'"') => {
                field.push(b'"');
                i += 1;
            }
            b'"' => quoted = !quoted,
            b if b == separator && !quoted => {
                out.push(String::from_utf8_lossy(&std::mem::take(&mut field)).into_owned())
            }
            b'\r' if !quoted && i + 1 == record.len() => {}
            b => field.push(b),
        }
        i += 1;
    }
    out.push(String::from_utf8_lossy(&field).into_owned());
    out
}

/// How many fields a record has, as [`fields`] splits it, without making
/// them: a separator outside quotes starts one (a `""` inside quotes closes
/// and reopens them, with nothing between).
fn field_count(record: &[u8], separator: u8) -> usize {
    let mut quoted = false;
    let mut n = 1;
    for &b in record {
        if b == b'"' {
            quoted = !quoted;
        } else if b == separator && !quoted {
            n += 1;
        }
    }
    n
}

/// Each record of a CSV text: (first line number, bytes), quotes honoured
/// so a quoted line break stays inside its record.
fn records(bytes: &[u8]) -> impl Iterator<Item = (usize, &[u8])> {
    let mut start = 0;
    let mut line = 1;
    let mut quoted = false;
    let mut i = 0;
    std::iter::from_fn(move || {
        while i < bytes.len() {
            let b = bytes[i];
            i += 1;
            match b {
                b'"' => quoted = !quoted,
                b'\n' if !quoted => {
                    let rec = (line, &bytes[start..i - 1]);
                    line += 1 + bytecount_newlines(&bytes[start..i - 1]);
                    start = i;
                    return Some(rec);
                }
                _ => {}
            }
        }
        if start < bytes.len() {
            let rec = (line, &bytes[start..]);
            start = bytes.len();
            return Some(rec);
        }
        None
    })
}

fn bytecount_newlines(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count()
}

fn is_blank(record: &[u8]) -> bool {
    record.iter().all(u8::is_ascii_whitespace)
}

/// The number of data records (not the header, not blank lines) of a CSV text.
pub fn count_records(bytes: &[u8]) -> u64 {
    records(bytes).skip(1).filter(|(_, r)| !is_blank(r)).count() as u64
}

/// The header of every file; they must agree, and must look like a header.
pub fn agreeing_header(
    src: &SourceInfo,
    files: &[PathBuf],
    texts: Option<&[Vec<u8>]>,
    separator: char,
) -> Result<Vec<String>, Diagnostic> {
    let sep = separator as u8;
    let mut first: Option<(Vec<String>, &Path)> = None;
    for (i, f) in files.iter().enumerate() {
        let bytes = match texts {
            Some(t) => t.get(i).cloned().unwrap_or_default(),
            None => head_bytes(f).map_err(|e| {
                diag::data_error(src.span, &src.name, &f.display().to_string(), &e.to_string())
            })?,
        };
        let Some((_, line)) = records(&bytes).next() else {
            return Err(diag::empty_source(src.span, &src.name, &f.display().to_string()));
        };
        let header = fields(line, sep);
        look_like_a_header(src, f, &header, separator)?;
        match &first {
            None => first = Some((header, f)),
            Some((h, at)) if *h != header => {
                let column = h
                    .iter()
                    .zip(&header)
                    .find(|(a, b)| a != b)
                    .map(|(a, b)| format!("`{a}` against `{b}`"))
                    .unwrap_or_else(|| format!("{} columns against {}", h.len(), header.len()));
                return Err(diag::headers_differ(
                    src.span,
                    &src.name,
                    &at.display().to_string(),
                    &f.display().to_string(),
                    &column,
                ));
            }
            Some(_) => {}
        }
    }
    Ok(first.map(|(h, _)| h).unwrap_or_default())
}

/// The start of a file, enough for its header line.
fn head_bytes(f: &Path) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    std::fs::File::open(f)?.take(1 << 20).read_to_end(&mut out)?;
    Ok(out)
}

/// A header of one field holding another delimiter, or a header whose
/// fields look like values (a damaged or missing header line).
fn look_like_a_header(
    src: &SourceInfo,
    f: &Path,
    header: &[String],
    separator: char,
) -> Result<(), Diagnostic> {
    if let [only] = header {
        if let Some(other) = [';', '\t', '|', ',']
            .into_iter()
            .find(|c| *c != separator && only.contains(*c))
        {
            return Err(diag::wrong_delimiter(
                src.span,
                &src.name,
                &f.display().to_string(),
                separator,
                other,
            ));
        }
    }
    let looks_like_data = |h: &String| {
        let t = h.trim();
        t.is_empty()
            || t.parse::<f64>().is_ok()
            || crate::time::Date::parse(t.get(..10).unwrap_or(t)).is_some()
    };
    // A date is never a column name; numbers and empty names are, rarely.
    let dated = header
        .iter()
        .any(|h| crate::time::Date::parse(h.trim().get(..10).unwrap_or("")).is_some());
    let data = header.iter().filter(|h| looks_like_data(h)).count();
    if header.len() > 1 && (dated || data * 2 >= header.len()) {
        let line = header.join(&separator.to_string());
        return Err(diag::header_looks_like_data(
            src.span,
            &src.name,
            &f.display().to_string(),
            &line,
        ));
    }
    Ok(())
}

/// The first ragged record or unclosed quote of the files, as a diagnostic.
pub fn malformed(
    src: &SourceInfo,
    files: &[PathBuf],
    texts: Option<&[Vec<u8>]>,
    separator: char,
) -> Option<Diagnostic> {
    let sep = separator as u8;
    for (i, f) in files.iter().enumerate() {
        let shape = match texts {
            Some(t) => shape(t.get(i)?, sep),
            None => file_shape(f, sep).ok()?,
        };
        let shown = f.display().to_string();
        if let Some(line) = shape.unclosed {
            return Some(diag::unclosed_quote(src.span, &src.name, &shown, line));
        }
        if let Some((line, want, got)) = shape.ragged {
            return Some(diag::malformed_row(src.span, &src.name, &shown, line, want, got));
        }
    }
    None
}

/// Parts a byte plays in a CSV text's shape (a separator may be a space).
const SPACE: u8 = 1;
const QUOTE: u8 = 2;
const SEPARATOR: u8 = 4;
const LINE_END: u8 = 8;

/// What is wrong with the shape of a CSV text.
#[derive(Debug, Default, PartialEq)]
struct Shape {
    /// The line where a quote opens that never closes.
    unclosed: Option<usize>,
    /// (line, fields in the header, fields on the line) of the first data
    /// record, blank ones left out, whose number of fields differs from the
    /// header's.
    ragged: Option<(usize, usize, usize)>,
}

/// The shape of a CSV text: records split as [`records`] splits them,
/// fields counted as [`field_count`] counts them, in one pass over its
/// bytes, a long text in pieces on the cores (each piece read from the
/// quote state its start has: quotes counted before it), the pieces then
/// joined in order. A text of a million records (140 MB) is checked in
/// about 0.2 s on two cores, where making each record's fields took 1.6 s.
fn shape(bytes: &[u8], sep: u8) -> Shape {
    let runs: Vec<&[u8]> = pieces_of(bytes.len())
        .into_iter()
        .map(|(a, b)| bytes.get(a..b).unwrap_or_default())
        .collect();
    shape_of_runs(&runs, sep, true)
}

/// [`shape`] of the CSV file at `path`, its pieces read on the cores too
/// (each into its own buffer: a file read whole took a quarter of the
/// check, on one thread).
fn file_shape(path: &Path, sep: u8) -> std::io::Result<Shape> {
    let len = std::fs::metadata(path)?.len() as usize;
    file_shape_in(path, sep, pieces_of(len))
}

/// [`file_shape`] with the file read in `pieces` ((first byte, end) each).
fn file_shape_in(path: &Path, sep: u8, pieces: Vec<(usize, usize)>) -> std::io::Result<Shape> {
    use std::os::unix::fs::FileExt;
    let read = |(a, b): (usize, usize)| -> std::io::Result<Vec<u8>> {
        let mut run = vec![0; b - a];
        std::fs::File::open(path)?.read_exact_at(&mut run, a as u64)?;
        Ok(run)
    };
    let runs = each_piece(pieces, true, read)
        .into_iter()
        .collect::<std::io::Result<Vec<_>>>()?;
    let runs: Vec<&[u8]> = runs.iter().map(Vec::as_slice).collect();
    Ok(shape_of_runs(&runs, sep, true))
}

/// A text of `len` bytes in pieces of at least 16 MiB, at most one per
/// core: (first byte, end) of each.
fn pieces_of(len: usize) -> Vec<(usize, usize)> {
    const PIECE: usize = 16 << 20;
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let pieces = (len / PIECE).clamp(1, cores);
    let step = len.div_ceil(pieces).max(1);
    (0..pieces)
        .map(|k| (k * step, ((k + 1) * step).min(len)))
        .collect()
}

/// [`shape`] of `bytes` read in pieces starting at `starts` (the first 0),
/// on the cores or one after the other.
#[cfg(test)]
fn shape_in_pieces(bytes: &[u8], sep: u8, starts: &[usize], on_cores: bool) -> Shape {
    let runs: Vec<&[u8]> = starts
        .iter()
        .zip(starts.iter().skip(1).chain(std::iter::once(&bytes.len())))
        .map(|(&a, &b)| bytes.get(a.min(b)..b).unwrap_or_default())
        .collect();
    shape_of_runs(&runs, sep, on_cores)
}

/// The shape of the text the runs make, one after another: each run
/// scanned from the quote state its start has (the quotes before it
/// counted first), on the cores or one after the other.
fn shape_of_runs(runs: &[&[u8]], sep: u8, on_cores: bool) -> Shape {
    let first = runs.first().copied().unwrap_or_default();
    let header = records(first).next();
    // A header longer than the first run (never, in practice): one run.
    if runs.len() > 1 && header.is_none_or(|(_, h)| h.len() == first.len()) {
        return shape_of_runs(&[&runs.concat()], sep, false);
    }
    let want = header.map(|(_, header)| field_count(header, sep));
    let quotes = |run: &[u8]| run.iter().filter(|&&b| b == b'"').count();
    let counts = each_piece(runs.to_vec(), on_cores, quotes);
    let mut quoted = false;
    let mut work = Vec::with_capacity(runs.len());
    for (k, run) in runs.iter().enumerate() {
        work.push((*run, quoted));
        quoted ^= counts.get(k).is_some_and(|n| n % 2 == 1);
    }
    let pieces = each_piece(work, on_cores, |(run, quoted)| {
        Piece::scan(run, sep, quoted, want)
    });
    join(pieces, want)
}

/// `work` applied to each piece in order, on the cores (one after the
/// other if there is one piece, or if a core's thread failed).
fn each_piece<T: Clone + Send, R: Send>(
    pieces: Vec<T>,
    on_cores: bool,
    work: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let spread = (on_cores && pieces.len() > 1)
        .then(|| crate::cores::each_on_cores(pieces.clone(), |p| Ok::<_, ()>(work(p)), || ()).ok())
        .flatten();
    spread.unwrap_or_else(|| pieces.into_iter().map(work).collect())
}

/// Part of a record: its fields so far, whether its bytes so far are all
/// white space, whether it has any.
#[derive(Clone, Copy)]
struct Part {
    fields: usize,
    blank: bool,
    any: bool,
}

impl Part {
    const EMPTY: Part = Part {
        fields: 1,
        blank: true,
        any: false,
    };

    /// This part followed by `next`.
    fn then(self, next: Part) -> Part {
        Part {
            fields: self.fields + next.fields - 1,
            blank: self.blank && next.blank,
            any: self.any || next.any,
        }
    }
}

/// A piece of a CSV text, read from the quote state at its start. Lines
/// are counted from the piece's start (0: its first line).
struct Piece {
    /// The bytes up to the first record end: the end of a record begun
    /// before (or the header); the whole piece if no record ends in it.
    head: Part,
    ends: bool,
    /// The first record begun and ended within the piece whose number of
    /// fields is not `want`: (line, fields).
    ragged: Option<(usize, usize)>,
    /// The record begun last, left open at the piece's end, and its line.
    tail: Part,
    tail_line: usize,
    lines: usize,
    quoted: bool,
    /// The line of the piece's last quote.
    opened: Option<usize>,
}

impl Piece {
    /// Each byte's part is read from a table and the counts kept without a
    /// branch (quotes and separators come every few bytes, unpredictably):
    /// one branch per record.
    fn scan(bytes: &[u8], sep: u8, quoted: bool, want: Option<usize>) -> Piece {
        let mut class = [0u8; 256];
        for (b, c) in (0..=u8::MAX).zip(class.iter_mut()) {
            *c = u8::from(b.is_ascii_whitespace()) * SPACE;
        }
        class[usize::from(b'"')] |= QUOTE;
        class[usize::from(sep)] |= SEPARATOR;
        class[usize::from(b'\n')] |= LINE_END;
        let mut p = Piece {
            head: Part::EMPTY,
            ends: false,
            ragged: None,
            tail: Part::EMPTY,
            tail_line: 0,
            lines: 0,
            quoted,
            opened: None,
        };
        let (mut fields, mut blank, mut any) = (1, true, false);
        let mut opened = usize::MAX;
        for &b in bytes {
            let c = class[usize::from(b)];
            let line_end = c & LINE_END != 0;
            p.lines += usize::from(line_end);
            if line_end & !p.quoted {
                let part = Part { fields, blank, any };
                if !p.ends {
                    (p.head, p.ends) = (part, true);
                } else if !blank && Some(fields) != want && p.ragged.is_none() {
                    p.ragged = Some((p.tail_line, fields));
                }
                (fields, blank, any) = (1, true, false);
                p.tail_line = p.lines;
                continue;
            }
            let quote = c & QUOTE != 0;
            p.quoted ^= quote;
            opened = if quote { p.lines } else { opened };
            fields += usize::from((c & SEPARATOR != 0) & !p.quoted);
            blank &= c & SPACE != 0;
            any = true;
        }
        let part = Part { fields, blank, any };
        match p.ends {
            true => p.tail = part,
            false => p.head = part,
        }
        p.opened = (opened != usize::MAX).then_some(opened);
        p
    }
}

/// The shape of the text the pieces make, in order.
fn join(pieces: Vec<Piece>, want: Option<usize>) -> Shape {
    let mut out = Shape::default();
    let mut header = false;
    let ragged = |line: usize, fields: usize, out: &mut Shape| {
        if let (None, Some(want)) = (out.ragged, want) {
            out.ragged = Some((line, want, fields));
        }
    };
    // The record open across pieces, and its first line.
    let (mut open, mut open_line) = (Part::EMPTY, 1);
    let (mut base, mut quoted) = (1, false);
    for p in pieces {
        let record = open.then(p.head);
        if p.ends {
            if header && !record.blank && Some(record.fields) != want {
                ragged(open_line, record.fields, &mut out);
            }
            header = true;
            if let Some((line, fields)) = p.ragged {
                ragged(base + line, fields, &mut out);
            }
            (open, open_line) = (p.tail, base + p.tail_line);
        } else {
            open = record;
        }
        if let Some(line) = p.opened {
            out.unclosed = Some(base + line);
        }
        base += p.lines;
        quoted = p.quoted;
    }
    if open.any && header && !open.blank && Some(open.fields) != want {
        ragged(open_line, open.fields, &mut out);
    }
    if !quoted {
        out.unclosed = None;
    }
    out
}

/// Indices (counted across the files, from 0) of data records with the
/// wrong number of fields.
pub fn ragged_records(files: &[PathBuf], texts: Option<&[Vec<u8>]>, separator: char) -> Vec<u64> {
    let sep = separator as u8;
    let mut out = Vec::new();
    let mut base = 0u64;
    for (i, f) in files.iter().enumerate() {
        let bytes = match texts {
            Some(t) => t.get(i).cloned().unwrap_or_default(),
            None => std::fs::read(f).unwrap_or_default(),
        };
        let mut it = records(&bytes);
        let Some((_, header)) = it.next() else { continue };
        let want = field_count(header, sep);
        let mut n = 0u64;
        for (_, r) in it.filter(|(_, r)| !is_blank(r)) {
            if field_count(r, sep) != want {
                out.push(base + n);
            }
            n += 1;
        }
        base += n;
    }
    out
}

/// The line and column (1-based, in bytes) of the first byte that is not UTF-8.
pub fn first_invalid_utf8(bytes: &[u8]) -> Option<(usize, usize)> {
    let err = std::str::from_utf8(bytes).err()?;
    let at = err.valid_up_to();
    let before = &bytes[..at];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let column = at - before.iter().rposition(|&b| b == b'\n').map_or(0, |p| p + 1) + 1;
    Some((line, column))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoted_fields_and_line_breaks() {
        let text = b"a,b\n\"x,1\",2\n\"multi\nline\",3\n4,5,6\n";
        let recs: Vec<(usize, usize)> = records(text).map(|(l, r)| (l, fields(r, b',').len())).collect();
        assert_eq!(recs, vec![(1, 2), (2, 2), (3, 2), (5, 3)]);
        // Counted without making the fields, alike: quotes, doubled quotes,
        // separators inside them, an empty last field, another separator.
        for r in [
            &b"\"x,1\",2"[..],
            b"\"say \"\"hi, there\"\"\",x,",
            b"\"\"\"\",,\"a\"\"\"",
            b"a;b,c",
            b"",
            b"\"unclosed,x",
        ] {
            for sep in [b',', b';'] {
                assert_eq!(
                    field_count(r, sep),
                    fields(r, sep).len(),
                    "{:?}",
                    String::from_utf8_lossy(r)
                );
            }
        }
        assert_eq!(shape(text, b',').ragged, Some((5, 2, 3)));
        assert_eq!(count_records(text), 3);
        assert_eq!(fields(b"\"say \"\"hi\"\"\",x", b','), vec!["say \"hi\"", "x"]);
    }

    /// The one-pass shape, whole or in pieces, agrees with records split
    /// one by one and their fields made, on texts of quotes, separators,
    /// blanks and line ends.
    #[test]
    fn the_shape_in_one_pass_is_that_of_the_records() {
        let reference = |text: &[u8], sep: u8| -> Shape {
            let mut it = records(text);
            let ragged = it.next().and_then(|(_, header)| {
                let want = fields(header, sep).len();
                it.filter(|(_, r)| !is_blank(r))
                    .map(|(line, r)| (line, want, fields(r, sep).len()))
                    .find(|(_, w, got)| w != got)
            });
            let (mut line, mut open) = (1, None);
            for &b in text {
                match b {
                    b'"' => open = if open.is_some() { None } else { Some(line) },
                    b'\n' => line += 1,
                    _ => {}
                }
            }
            Shape {
                unclosed: open,
                ragged,
            }
        };
        // Runs of plain bytes too.
        let alphabet = b"aaaaaaaaaaaaaaaaaaaaaaaaaaaa,\"\n \t\r;";
        let mut seed = 7u64;
        for _ in 0..1_500 {
            seed = seed
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let len = (seed >> 56) as usize;
            let text: Vec<u8> = (0..len)
                .map(|i| alphabet[((seed >> (i % 50)) as usize + i * 7 + i * i) % alphabet.len()])
                .collect();
            for sep in [b',', b'\t', b';'] {
                let want = reference(&text, sep);
                let shown = String::from_utf8_lossy(&text);
                assert_eq!(shape(&text, sep), want, "{shown:?}");
                // Read in pieces, split anywhere: in a record, in quotes,
                // at a line end; two splits, an empty piece.
                for k in (0..=text.len()).filter(|_| len <= 64) {
                    assert_eq!(
                        shape_in_pieces(&text, sep, &[0, k], false),
                        want,
                        "{shown:?} at {k}"
                    );
                    let m = (k + len / 3).min(text.len());
                    assert_eq!(
                        shape_in_pieces(&text, sep, &[0, k, m], false),
                        want,
                        "{shown:?} at {k}, {m}"
                    );
                }
            }
        }
    }

    /// A file read in pieces on the cores, cut anywhere: its shape is
    /// the text's (a ragged record, then an unclosed quote).
    #[test]
    fn a_file_in_pieces_has_the_shape_of_its_text() {
        let dir = std::env::temp_dir().join(format!("kpi-shape-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("d.csv");
        for text in [
            &b"a,b\n1,\"x\ny\"\n2,3\n\n4,5,6\n7,8\n"[..],
            b"a,b\n1,2\n\"3,4\n5,6\n",
        ] {
            std::fs::write(&path, text).unwrap();
            let want = shape(text, b',');
            assert!(want.ragged.is_some() || want.unclosed.is_some());
            for k in 0..=text.len() {
                let pieces = vec![(0, k), (k, text.len())];
                assert_eq!(file_shape_in(&path, b',', pieces).unwrap(), want, "cut at {k}");
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unclosed_quotes_and_bad_bytes() {
        assert_eq!(shape(b"a,b\n1,2\n\"3,4\n5,6\n", b',').unclosed, Some(3));
        assert_eq!(shape(b"a,b\n\"1\",2\n", b',').unclosed, None);
        assert_eq!(first_invalid_utf8(b"a,b\nok,caf\xe9\n"), Some((2, 7)));
        assert_eq!(first_invalid_utf8("a,é\n".as_bytes()), None);
    }
}
