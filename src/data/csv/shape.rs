//! A CSV source's files looked at as bytes before any reader sees them:
//! headers that disagree or look like data, records with too many or too
//! few fields, unclosed quotes. Each finding names the file and the line.
//! The same pass counts the records, finds the blank ones (no records, but
//! rows of nulls to Polars' reader) and where a file can be cut between
//! records to be read in pieces (`csv::pieces`).

use std::path::{Path, PathBuf};

use crate::data::diagnostics as diag;
use crate::data::SourceInfo;
use crate::diagnostic::Diagnostic;

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
/// and reopens them, with nothing between). The rule the shape check
/// follows, kept as its tests' reference.
#[cfg(test)]
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

/// The line (1-based) on which each of the `wanted` records (indices
/// after the header, as `records` counts them) starts, read a mebibyte
/// at a time: a record with a line break inside quotes spans several
/// lines, so its index alone does not say. A record past the end is put
/// on the line its index would have.
pub fn record_lines(mut input: impl std::io::Read, wanted: &[u64]) -> std::io::Result<Vec<u64>> {
    let mut order: Vec<usize> = (0..wanted.len()).collect();
    order.sort_by_key(|&i| wanted[i]);
    let mut out: Vec<u64> = wanted.iter().map(|r| r + 2).collect();
    let mut next = 0;
    let (mut quoted, mut line, mut ends) = (false, 1u64, 0u64);
    let mut buf = vec![0u8; 1 << 20];
    while next < order.len() {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        for &b in buf.get(..n).unwrap_or_default() {
            match b {
                b'"' => quoted = !quoted,
                b'\n' => {
                    line += 1;
                    if !quoted {
                        // Record `ends` starts here (the header ends at the first).
                        ends += 1;
                        while let Some(&i) = order.get(next).filter(|&&i| wanted[i] + 1 == ends) {
                            out[i] = line;
                            next += 1;
                        }
                    }
                }
                _ => {}
            }
        }
    }
    Ok(out)
}

fn bytecount_newlines(b: &[u8]) -> usize {
    b.iter().filter(|&&c| c == b'\n').count()
}

/// Whether a record is blank: white space alone. A separator makes it a
/// record of empty fields (a tab-separated `\t\t` is a row of nulls, as
/// `,,` is), not a blank line.
fn is_blank(record: &[u8], sep: u8) -> bool {
    record.iter().all(|&b| b != sep && b.is_ascii_whitespace())
}

/// The number of records after the header of a CSV text, blank ones too:
/// the rows Polars' reader makes of it (a blank line is a row of nulls
/// there, dropped afterwards; see [`Shape::blank`]).
pub fn count_records(bytes: &[u8]) -> u64 {
    records(bytes).skip(1).count() as u64
}

/// The delimiter a first line such as `sep=;` names: Excel reads such a
/// line as the file's delimiter, and some exports meant for Excel write it
/// above the header.
fn excel_separator(line: &[u8]) -> Option<char> {
    let line = line.strip_prefix(crate::data::BOM).unwrap_or(line);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    match line {
        [s, e, p, b'=', said] if [s, e, p].map(u8::to_ascii_lowercase) == *b"sep" => Some(char::from(*said)),
        _ => None,
    }
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
        // Excel's "CSV UTF-8" starts with a byte order mark, not a name;
        // a line of only that, or of spaces, is blank.
        let blank = |line: &'_ [u8]| -> bool {
            line.strip_prefix(crate::data::BOM)
                .unwrap_or(line)
                .trim_ascii()
                .is_empty()
        };
        let Some((_, line)) = records(&bytes).next() else {
            return Err(diag::empty_source(src.span, &src.name, &f.display().to_string()));
        };
        if blank(line) {
            let shown = f.display().to_string();
            return Err(match records(&bytes).all(|(_, l)| blank(l)) {
                true => diag::empty_source(src.span, &src.name, &shown),
                false => diag::blank_header_line(src.span, &src.name, &shown),
            });
        }
        if let Some(said) = excel_separator(line) {
            let shown = f.display().to_string();
            let delimiter = src.read.delimiter.as_ref().map_or(',', |d| d.value);
            return Err(diag::excel_separator_line(
                src.span, &src.name, &shown, said, delimiter,
            ));
        }
        let header: Vec<String> = fields(line.strip_prefix(crate::data::BOM).unwrap_or(line), sep)
            .into_iter()
            .map(|n| n.trim().to_string())
            .collect();
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
    crate::data::files::first_bytes(f, 1 << 20)
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
    let looks_like_data = |h: &&String| {
        let t = h.trim();
        t.parse::<f64>().is_ok() || crate::time::Date::parse(t.get(..10).unwrap_or(t)).is_some()
    };
    // A date is never a column name; numbers are, rarely. Empty names say
    // nothing either way: spreadsheets export the formatted empty columns
    // beside a table (`amount,closed_at,,`), and rows of data have empty
    // fields; a header of nothing but empty names is no header.
    let dated = header
        .iter()
        .any(|h| crate::time::Date::parse(h.trim().get(..10).unwrap_or("")).is_some());
    let named: Vec<&String> = header.iter().filter(|h| !h.trim().is_empty()).collect();
    let data = named.iter().filter(|h| looks_like_data(h)).count();
    if header.len() > 1 && (dated || data * 2 >= named.len()) {
        let line = header.join(&separator.to_string());
        return Err(diag::header_looks_like_data(
            src.span,
            &src.name,
            &f.display().to_string(),
            (&line, header.len(), separator),
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
    first_problem(src, files, &shapes(files, texts, separator)).err()
}

/// The shape of each CSV file (or of its transcoded text); none for one
/// that could not be read (its reader will say why).
pub fn shapes(files: &[PathBuf], texts: Option<&[Vec<u8>]>, separator: char) -> Vec<Option<Shape>> {
    let sep = separator as u8;
    (0..files.len())
        .map(|i| match texts {
            Some(t) => t.get(i).map(|text| shape(text, sep)),
            None => files.get(i).and_then(|f| file_shape(f, sep).ok()),
        })
        .collect()
}

/// The first ragged record or unclosed quote of the files' `shapes`.
pub fn first_problem(
    src: &SourceInfo,
    files: &[PathBuf],
    shapes: &[Option<Shape>],
) -> Result<(), Diagnostic> {
    for (f, shape) in files.iter().zip(shapes) {
        let Some(shape) = shape else { continue };
        let shown = f.display().to_string();
        if let Some(line) = shape.unclosed {
            return Err(diag::unclosed_quote(src.span, &src.name, &shown, line));
        }
        if let Some((line, want, got)) = shape.ragged {
            let footer = shape.ragged_footer();
            return Err(diag::malformed_row(
                src.span,
                &src.name,
                &shown,
                (line, footer),
                want,
                got,
            ));
        }
    }
    Ok(())
}

/// The shape of a CSV text: what is wrong with it, its data records, and
/// where it can be cut.
#[derive(Debug, Default, PartialEq)]
pub struct Shape {
    /// The line where a quote opens that never closes.
    unclosed: Option<usize>,
    /// (line, fields in the header, fields on the line) of the first data
    /// record, blank ones left out, whose number of fields differs from the
    /// header's.
    ragged: Option<(usize, usize, usize)>,
    /// Where records begin, at most one per chunk read (about a mebibyte
    /// apart), the first just after the header: places the text can be
    /// cut to be read in pieces.
    pub cuts: Vec<Cut>,
    /// Its records after the header, blank ones too (as [`count_records`]
    /// counts them: the rows the reader makes).
    pub records: u64,
    /// The blank records (empty, or only white space) among them, by
    /// index: not records, but rows of nulls to the reader.
    pub blank: Vec<u64>,
    /// The records whose number of fields is not the header's, blank ones
    /// left out, by index (what `on_error: skip` skips).
    pub ragged_rows: Vec<u64>,
    /// The records of the header's number of empty fields (`,,`), by index:
    /// rows of nulls, said by `kpi check --data`.
    pub empty_rows: Vec<u64>,
}

impl Shape {
    /// Whether the records from the first ragged one on, blank ones
    /// aside, are all ragged and end the text: the lines a CRM's report
    /// export adds below its table (`"Confidential Information - Do Not
    /// Distribute"`, a copyright), not rows with a comma missing.
    pub fn ragged_footer(&self) -> bool {
        let Some(first) = self.ragged_rows.first() else {
            return false;
        };
        let blank = self.blank.iter().filter(|b| *b > first).count() as u64;
        self.ragged_rows.len() as u64 + blank == self.records.saturating_sub(*first)
    }
}

/// A place where a CSV text can be cut: the byte a record begins at, and
/// the number of record ends (line ends outside quotes) before it.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct Cut {
    pub at: usize,
    pub ends: usize,
}

/// Bytes of a CSV text handed to the check at a time: a file is read
/// into one buffer of this size per core, not whole (a file read whole
/// took a quarter of the check on one thread, and as much memory as the
/// file).
const CHUNK: usize = 1 << 20;

/// A CSV text's bytes, in memory or in a file, handed out `chunk` bytes
/// at a time.
#[derive(Clone, Copy)]
enum Text<'a> {
    Bytes { bytes: &'a [u8], chunk: usize },
    File { path: &'a Path, chunk: usize },
}

impl Text<'_> {
    fn len(&self) -> std::io::Result<usize> {
        match self {
            Text::Bytes { bytes, .. } => Ok(bytes.len()),
            Text::File { path, .. } => Ok(std::fs::metadata(path)?.len() as usize),
        }
    }

    /// `work` on the bytes `from..to`, a chunk at a time in order, while
    /// it asks for more.
    fn each_chunk(
        &self,
        (from, to): (usize, usize),
        mut work: impl FnMut(&[u8]) -> bool,
    ) -> std::io::Result<()> {
        use std::os::unix::fs::FileExt;
        let chunk = match *self {
            Text::Bytes { chunk, .. } | Text::File { chunk, .. } => chunk.max(1),
        };
        let (file, mut buffer) = match *self {
            Text::File { path, .. } => (
                Some(std::fs::File::open(path)?),
                vec![0; chunk.min(to.saturating_sub(from))],
            ),
            Text::Bytes { .. } => (None, Vec::new()),
        };
        let mut at = from;
        loop {
            let end = to.min(at + chunk);
            let bytes = match (self, &file) {
                (Text::Bytes { bytes, .. }, _) => bytes.get(at..end).unwrap_or_default(),
                (_, Some(file)) => {
                    let run = buffer.get_mut(..end.saturating_sub(at)).unwrap_or_default();
                    file.read_exact_at(run, at as u64)?;
                    run
                }
                (_, None) => &[],
            };
            if !work(bytes) || end >= to {
                return Ok(());
            }
            at = end;
        }
    }
}

/// The shape of a CSV text: records split as [`records`] splits them,
/// fields counted as [`fields`] splits them, in one pass over its
/// bytes, a long text in pieces on the cores (each piece read from the
/// quote state its start has: quotes counted before it), the pieces then
/// joined in order. A text of a million records (140 MB) is checked in
/// about 0.2 s on two cores, where making each record's fields took 1.6 s.
fn shape(bytes: &[u8], sep: u8) -> Shape {
    let text = Text::Bytes { bytes, chunk: CHUNK };
    shape_in(text, sep, &pieces_of(bytes.len()), true).unwrap_or_default()
}

/// [`shape`] of the CSV file at `path`, its pieces read on the cores too.
fn file_shape(path: &Path, sep: u8) -> std::io::Result<Shape> {
    let text = Text::File { path, chunk: CHUNK };
    shape_in(text, sep, &pieces_of(text.len()?), true)
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

/// The shape of the text read in `pieces` ((first byte, end) of each, in
/// order, covering it): each piece scanned a chunk at a time from the
/// quote state its start has (the quotes before it counted first), on the
/// cores or one after the other, the chunks then joined in order.
fn shape_in(text: Text, sep: u8, pieces: &[(usize, usize)], on_cores: bool) -> std::io::Result<Shape> {
    let want = header_fields(text, sep)?;
    let quotes = |piece| {
        let mut n = 0;
        text.each_chunk(piece, |b| {
            n += quotes_in(b);
            true
        })
        .map(|()| n)
    };
    let counts = each_piece(pieces.to_vec(), on_cores, quotes);
    let mut quoted = false;
    let mut work = Vec::with_capacity(pieces.len());
    for (piece, count) in pieces.iter().zip(counts) {
        work.push((*piece, quoted));
        quoted ^= count? % 2 == 1;
    }
    let scanned = each_piece(work, on_cores, |(piece, mut quoted)| {
        let mut chunks = Vec::new();
        text.each_chunk(piece, |b| {
            let p = Piece::scan(b, sep, quoted, want);
            quoted = p.quoted;
            chunks.push(p);
            true
        })
        .map(|()| chunks)
    });
    let mut chunks = Vec::new();
    for s in scanned {
        chunks.extend(s?);
    }
    Ok(join(chunks, want))
}

/// The number of quotes in `bytes`, counted in bytes 255 at a time (the
/// compiler then adds 16 flags an instruction, not 2 as with a count in
/// words).
fn quotes_in(bytes: &[u8]) -> usize {
    bytes
        .chunks(255)
        .map(|run| usize::from(run.iter().fold(0u8, |n, &b| n + u8::from(b == b'"'))))
        .sum()
}

/// The records of a CSV text but its header and blank ones, split one by one.
#[cfg(test)]
pub(crate) fn data_records(bytes: &[u8]) -> usize {
    records(bytes).skip(1).filter(|(_, r)| !is_blank(r, b',')).count()
}

/// Every place a CSV text can be cut: after each record end.
#[cfg(test)]
pub(crate) fn every_cut(bytes: &[u8], sep: u8) -> Vec<Cut> {
    let text = Text::Bytes { bytes, chunk: 1 };
    shape_in(text, sep, &[(0, bytes.len())], false).map_or_else(|_| Vec::new(), |s| s.cuts)
}

/// The number of fields of the text's first record (its header), read up
/// to its end; none for an empty text.
fn header_fields(text: Text, sep: u8) -> std::io::Result<Option<usize>> {
    let len = text.len()?;
    let (mut header, mut quoted) = (Part::EMPTY, false);
    text.each_chunk((0, len), |b| {
        let p = Piece::scan(b, sep, quoted, None);
        (header, quoted) = (header.then(p.head), p.quoted);
        !p.ends
    })?;
    Ok((len > 0).then_some(header.fields))
}

/// `work` applied to each piece in order, on the cores (one after the
/// other if there is one piece, or if a core's thread failed).
fn each_piece<T: Clone + Send, R: Send>(
    pieces: Vec<T>,
    on_cores: bool,
    work: impl Fn(T) -> R + Sync,
) -> Vec<R> {
    let spread = (on_cores && pieces.len() > 1)
        .then(|| crate::cores::each_on_cores(pieces.clone(), |p| Ok::<_, ()>(work(p)), |_| ()).ok())
        .flatten();
    spread.unwrap_or_else(|| pieces.into_iter().map(work).collect())
}

/// Part of a record: its fields so far, whether its bytes so far are all
/// white space, or white space and separators, and whether it has any.
#[derive(Clone, Copy)]
struct Part {
    fields: usize,
    blank: bool,
    void: bool,
    any: bool,
}

impl Part {
    const EMPTY: Part = Part {
        fields: 1,
        blank: true,
        void: true,
        any: false,
    };

    /// A part of `fields` fields made of `bytes`, separated by `sep`.
    fn of(fields: usize, bytes: &[u8], sep: u8) -> Part {
        Part {
            fields,
            blank: is_blank(bytes, sep),
            void: bytes.iter().all(|&b| b == sep || b.is_ascii_whitespace()),
            any: !bytes.is_empty(),
        }
    }

    /// This part followed by `next`.
    fn then(self, next: Part) -> Part {
        Part {
            fields: self.fields + next.fields - 1,
            blank: self.blank && next.blank,
            void: self.void && next.void,
            any: self.any || next.any,
        }
    }

    /// Whether the record is the header's number of empty fields (`,,`), as
    /// a spreadsheet writes a row it once formatted: a row of nulls.
    fn is_empty_row(&self, want: Option<usize>) -> bool {
        !self.blank && self.void && Some(self.fields) == want
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
    /// Its length, where its first record end is (a line end), and how
    /// many record ends it has.
    len: usize,
    first_end: Option<usize>,
    record_ends: usize,
    /// Records begun and ended within the piece, and the blank and the
    /// ragged ones among them (indices from 0).
    records: u64,
    blank: Vec<u64>,
    ragged_rows: Vec<u64>,
    empty_rows: Vec<u64>,
}

impl Piece {
    /// The piece read 64 bytes at a time: the quotes, separators and line
    /// ends of a block as bitmasks, the bytes inside quotes found from the
    /// quotes' running parity, separators counted by their bits between
    /// record ends, and each record's bytes looked at once more only to
    /// tell whether it is blank (which its first byte almost always
    /// settles). About ten times faster than a byte at a time.
    fn scan(bytes: &[u8], sep: u8, quoted: bool, want: Option<usize>) -> Piece {
        let mut p = Piece {
            head: Part::EMPTY,
            ends: false,
            ragged: None,
            tail: Part::EMPTY,
            tail_line: 0,
            lines: 0,
            quoted,
            opened: None,
            len: bytes.len(),
            first_end: None,
            record_ends: 0,
            records: 0,
            blank: Vec::new(),
            ragged_rows: Vec::new(),
            empty_rows: Vec::new(),
        };
        // Every bit set while inside quotes at the end of the last block.
        let mut inside = if quoted { u64::MAX } else { 0 };
        let (mut fields, mut start) = (1, 0);
        for (k, block) in bytes.chunks(64).enumerate() {
            let m = Masks::of(block, sep);
            // Bit i: inside quotes once byte i is read.
            let in_quotes = prefix_xor(m.quote) ^ inside;
            inside = 0u64.wrapping_sub(in_quotes >> 63);
            let seps = m.separator & !in_quotes;
            let lines = p.lines;
            let (mut ends, mut from) = (m.line_end & !in_quotes, 0);
            p.record_ends += ends.count_ones() as usize;
            while ends != 0 {
                let at = ends.trailing_zeros();
                fields += (seps & bits(from, at)).count_ones() as usize;
                let end = k * 64 + at as usize;
                let part = Part::of(fields, bytes.get(start..end).unwrap_or_default(), sep);
                if p.ends {
                    if part.blank {
                        p.blank.push(p.records);
                    } else if Some(fields) != want {
                        p.ragged_rows.push(p.records);
                    } else if part.is_empty_row(want) {
                        p.empty_rows.push(p.records);
                    }
                    p.records += 1;
                }
                if !p.ends {
                    (p.head, p.ends, p.first_end) = (part, true, Some(end));
                } else if Some(fields) != want && !part.blank && p.ragged.is_none() {
                    p.ragged = Some((p.tail_line, fields));
                }
                p.tail_line = lines + (m.line_end & bits(0, at + 1)).count_ones() as usize;
                (fields, start, from) = (1, end + 1, at + 1);
                ends &= ends - 1;
            }
            fields += (seps & bits(from, 64)).count_ones() as usize;
            p.lines += m.line_end.count_ones() as usize;
            if m.quote != 0 {
                let last = 63 - m.quote.leading_zeros();
                p.opened = Some(lines + (m.line_end & bits(0, last)).count_ones() as usize);
            }
        }
        let part = Part::of(fields, bytes.get(start..).unwrap_or_default(), sep);
        match p.ends {
            true => p.tail = part,
            false => p.head = part,
        }
        p.quoted = inside != 0;
        p
    }
}

/// The quotes, separators and line ends of a block of at most 64 bytes,
/// bit i for byte i.
struct Masks {
    quote: u64,
    separator: u64,
    line_end: u64,
}

impl Masks {
    /// Written so that the compiler compares 16 bytes at a time (a flag
    /// byte per byte, then packed eight at a time by a multiplication).
    fn of(block: &[u8], sep: u8) -> Masks {
        let mut padded = [0u8; 64];
        let n = block.len().min(64);
        if let (Some(to), Some(from)) = (padded.get_mut(..n), block.get(..n)) {
            to.copy_from_slice(from);
        }
        let (mut quote, mut separator, mut line_end) = ([0u8; 64], [0u8; 64], [0u8; 64]);
        for i in 0..64 {
            let b = padded[i];
            quote[i] = 0u8.wrapping_sub(u8::from(b == b'"'));
            separator[i] = 0u8.wrapping_sub(u8::from(b == sep));
            line_end[i] = 0u8.wrapping_sub(u8::from(b == b'\n'));
        }
        let valid = bits(0, n as u32);
        Masks {
            quote: pack(&quote) & valid,
            separator: pack(&separator) & valid,
            line_end: pack(&line_end) & valid,
        }
    }
}

/// 64 flag bytes (0 or 0xFF) as 64 bits: each byte's top bit, eight bytes
/// gathered into the top byte of a product by a multiplier whose bits put
/// byte i's at bit 56 + i without carries.
fn pack(flags: &[u8; 64]) -> u64 {
    let mut m = 0;
    for (k, word) in flags.chunks_exact(8).enumerate() {
        let w = word.try_into().map_or(0, u64::from_le_bytes) & 0x8080_8080_8080_8080;
        m |= (w.wrapping_mul(0x0002_0408_1020_4081) >> 56) << (8 * k);
    }
    m
}

/// Bit i set where an odd number of bits 0..=i of `x` are.
fn prefix_xor(mut x: u64) -> u64 {
    for shift in [1, 2, 4, 8, 16, 32] {
        x ^= x << shift;
    }
    x
}

/// The bits `from..to` (both at most 64).
fn bits(from: u32, to: u32) -> u64 {
    let below = |n: u32| if n >= 64 { u64::MAX } else { (1u64 << n) - 1 };
    below(to) & !below(from)
}

impl Shape {
    /// One more record after the header, blank, ragged (not of `want`
    /// fields) or neither.
    fn row(&mut self, record: Part, want: Option<usize>) {
        if record.blank {
            self.blank.push(self.records);
        } else if Some(record.fields) != want {
            self.ragged_rows.push(self.records);
        } else if record.is_empty_row(want) {
            self.empty_rows.push(self.records);
        }
        self.records += 1;
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
    let (mut base, mut quoted, mut offset, mut ends) = (1, false, 0, 0);
    for p in pieces {
        if let Some(end) = p.first_end {
            out.cuts.push(Cut {
                at: offset + end + 1,
                ends: ends + 1,
            });
        }
        (offset, ends) = (offset + p.len, ends + p.record_ends);
        let record = open.then(p.head);
        if p.ends {
            if header && !record.blank && Some(record.fields) != want {
                ragged(open_line, record.fields, &mut out);
            }
            if header {
                out.row(record, want);
            }
            out.blank.extend(p.blank.iter().map(|b| out.records + b));
            out.empty_rows
                .extend(p.empty_rows.iter().map(|b| out.records + b));
            out.ragged_rows
                .extend(p.ragged_rows.iter().map(|r| out.records + r));
            out.records += p.records;
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
    if open.any && header {
        out.row(open, want);
        if !open.blank && Some(open.fields) != want {
            ragged(open_line, open.fields, &mut out);
        }
    }
    if !quoted {
        out.unclosed = None;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excels_separator_line_is_told_from_a_header() {
        assert_eq!(excel_separator(b"sep=;"), Some(';'));
        assert_eq!(excel_separator(b"\xEF\xBB\xBFSEP=|\r"), Some('|'));
        assert_eq!(excel_separator(b"sep=\t"), Some('\t'));
        for header in [&b"sep"[..], b"sep=", b"sep=;;", b"step=;", b"sep,amount"] {
            assert_eq!(excel_separator(header), None, "{header:?}");
        }
    }

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
        assert_eq!(count_records(b"a\n1\n\n  \n2"), 4);
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
                it.filter(|(_, r)| !is_blank(r, sep))
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
                cuts: Vec::new(),
                records: count_records(text),
                blank: records(text)
                    .skip(1)
                    .enumerate()
                    .filter(|(_, (_, r))| is_blank(r, sep))
                    .map(|(i, _)| i as u64)
                    .collect(),
                // As `on_error: skip` found them one record at a time.
                ragged_rows: records(text)
                    .next()
                    .map(|(_, header)| fields(header, sep).len())
                    .map_or_else(Vec::new, |want| {
                        records(text)
                            .skip(1)
                            .enumerate()
                            .filter(|(_, (_, r))| !is_blank(r, sep) && fields(r, sep).len() != want)
                            .map(|(i, _)| i as u64)
                            .collect()
                    }),
                empty_rows: records(text)
                    .next()
                    .map(|(_, header)| fields(header, sep).len())
                    .map_or_else(Vec::new, |want| {
                        let empty = |r: &[u8]| r.iter().all(|&b| b == sep || b.is_ascii_whitespace());
                        records(text)
                            .skip(1)
                            .enumerate()
                            .filter(|(_, (_, r))| {
                                !is_blank(r, sep) && empty(r) && fields(r, sep).len() == want
                            })
                            .map(|(i, _)| i as u64)
                            .collect()
                    }),
            }
        };
        // Each chunk's first record end (a line end outside quotes), the
        // place after it.
        let cuts = |text: &[u8], chunk: usize| -> Vec<Cut> {
            let mut quoted = false;
            let mut ends: Vec<usize> = Vec::new();
            for (i, &b) in text.iter().enumerate() {
                quoted ^= b == b'"';
                if b == b'\n' && !quoted && ends.last().is_none_or(|&e: &usize| e / chunk != i / chunk) {
                    ends.push(i);
                }
            }
            let all = |e: usize| {
                let mut quoted = false;
                text[..=e]
                    .iter()
                    .filter(|&&b| {
                        quoted ^= b == b'"';
                        b == b'\n' && !quoted
                    })
                    .count()
            };
            ends.into_iter()
                .map(|e| Cut {
                    at: e + 1,
                    ends: all(e),
                })
                .collect()
        };
        // Runs of plain bytes too.
        let alphabet = b"aaaaaaaaaaaaaaaaaaaaaaaaaaaa,\"\n \t\r;";
        let mut bits = crate::testing::random_bits(7);
        for _ in 0..1_500 {
            let seed = bits();
            let len = (seed >> 56) as usize;
            let text: Vec<u8> = (0..len)
                .map(|i| alphabet[((seed >> (i % 50)) as usize + i * 7 + i * i) % alphabet.len()])
                .collect();
            for sep in [b',', b'\t', b';'] {
                let want = reference(&text, sep);
                let shown = String::from_utf8_lossy(&text);
                assert_eq!(problems(shape(&text, sep)), want, "{shown:?}");
                // Handed out a few bytes at a time, across and within
                // blocks of 64.
                for chunk in [1, 5, 64, 100] {
                    let found = shape_in_pieces(&text, sep, &[0], chunk);
                    assert_eq!(found.cuts, cuts(&text, chunk), "{shown:?} cut by {chunk}");
                    assert_eq!(problems(found), want, "{shown:?} by {chunk}");
                }
                // Read in pieces, split anywhere: in a record, in quotes,
                // at a line end; two splits, an empty piece.
                for k in (0..=text.len()).filter(|_| len <= 64) {
                    for chunk in [3, CHUNK] {
                        assert_eq!(
                            problems(shape_in_pieces(&text, sep, &[0, k], chunk)),
                            want,
                            "{shown:?} at {k} by {chunk}"
                        );
                        let m = (k + len / 3).min(text.len());
                        assert_eq!(
                            problems(shape_in_pieces(&text, sep, &[0, k, m], chunk)),
                            want,
                            "{shown:?} at {k}, {m} by {chunk}"
                        );
                    }
                }
            }
        }
    }

    /// A shape, where it can be cut left out.
    fn problems(shape: Shape) -> Shape {
        Shape {
            cuts: Vec::new(),
            ..shape
        }
    }

    /// [`shape`] of `bytes` read in pieces starting at `starts` (the first
    /// 0), one after the other, handed out `chunk` bytes at a time.
    fn shape_in_pieces(bytes: &[u8], sep: u8, starts: &[usize], chunk: usize) -> Shape {
        let ends = starts.iter().skip(1).copied().chain([bytes.len()]);
        let pieces: Vec<(usize, usize)> = starts.iter().zip(ends).map(|(&a, b)| (a.min(b), b)).collect();
        shape_in(Text::Bytes { bytes, chunk }, sep, &pieces, false).unwrap()
    }

    /// The bitmasks of a block are its bytes', at every length.
    #[test]
    fn masks_of_a_block_are_its_bytes() {
        let block: Vec<u8> = (0..64u32)
            .map(|i| b"a,\"\n;x"[(i * i + 3 * i) as usize % 6])
            .collect();
        for n in 0..=64 {
            let m = Masks::of(&block[..n], b';');
            let bit = |c: u8| (0..n).filter(|&i| block[i] == c).fold(0u64, |m, i| m | 1 << i);
            assert_eq!(
                (m.quote, m.separator, m.line_end),
                (bit(b'"'), bit(b';'), bit(b'\n')),
                "{n}"
            );
        }
        assert_eq!(prefix_xor(0b1001_0100), 0b1000_1100 | u64::MAX << 8);
        assert_eq!(bits(3, 64), u64::MAX << 3);
        assert_eq!(bits(0, 0), 0);
        let quotes: Vec<u8> = (0..1_000).map(|i| if i % 3 == 0 { b'"' } else { b'x' }).collect();
        assert_eq!(quotes_in(&quotes), 334);
    }

    /// A file read in pieces on the cores, cut anywhere: its shape is
    /// the text's (a ragged record, then an unclosed quote).
    #[test]
    fn a_file_in_pieces_has_the_shape_of_its_text() {
        let dir = crate::testing::temp_dir("shape");
        let path = dir.join("d.csv");
        for text in [
            &b"a,b\n1,\"x\ny\"\n2,3\n\n4,5,6\n7,8\n"[..],
            b"a,b\n1,2\n\"3,4\n5,6\n",
        ] {
            std::fs::write(&path, text).unwrap();
            let want = problems(shape(text, b','));
            assert!(want.ragged.is_some() || want.unclosed.is_some());
            for k in 0..=text.len() {
                let pieces = [(0, k), (k, text.len())];
                for chunk in [1, 4, CHUNK] {
                    let file = Text::File { path: &path, chunk };
                    assert_eq!(
                        problems(shape_in(file, b',', &pieces, true).unwrap()),
                        want,
                        "cut at {k} by {chunk}"
                    );
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn unclosed_quotes_and_bad_bytes() {
        assert_eq!(shape(b"a,b\n1,2\n\"3,4\n5,6\n", b',').unclosed, Some(3));
        assert_eq!(shape(b"a,b\n\"1\",2\n", b',').unclosed, None);
    }
}
