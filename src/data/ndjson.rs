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

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::Path;

use polars::prelude::*;
use polars_arrow::array::StructArray;

/// Files shorter than this are inferred in one piece.
const PIECE: u64 = 8 << 20;

/// The schema of the NDJSON file at `path`, the reader's inference from
/// every line; `None` when a piece has nothing to infer from or fails, so
/// that the reader infers the whole file itself and words its own error.
pub(super) fn schema(path: &Path) -> Option<Schema> {
    let len = std::fs::metadata(path).ok()?.len();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u64;
    let pieces = (len / PIECE).clamp(1, cores);
    let mut starts = vec![0];
    for k in 1..pieces {
        let at = line_after(path, k * len / pieces).ok()?;
        if starts.last().is_some_and(|&last| at > last) && at < len {
            starts.push(at);
        }
    }
    schema_in_pieces(path, &starts, len)
}

/// The schema inferred from the pieces of the file starting at `starts`
/// (the first 0, each at a line's start), the file `len` bytes long.
fn schema_in_pieces(path: &Path, starts: &[u64], len: u64) -> Option<Schema> {
    let ends = starts.iter().skip(1).copied().chain(std::iter::once(len));
    let ranges: Vec<(u64, u64)> = starts.iter().copied().zip(ends).collect();
    let schemas = crate::cores::on_cores(ranges, |(from, to)| piece_schema(path, from, to)).ok()?;
    let mut joined: Option<DataType> = None;
    for s in schemas {
        let piece = DataType::Struct(s.iter_fields().collect());
        joined = Some(match joined {
            None => piece,
            Some(j) => polars_core::utils::try_get_supertype(&j, &piece).ok()?,
        });
    }
    // As the reader turns its joined type into a schema.
    let arrow = joined?.to_arrow(CompatLevel::newest());
    Some(
        StructArray::get_fields(&arrow)
            .iter()
            .map(Into::<Field>::into)
            .collect(),
    )
}

/// The reader's inference from bytes `from..to` of the file.
fn piece_schema(path: &Path, from: u64, to: u64) -> PolarsResult<Schema> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(from))?;
    let mut piece = BufReader::new(file.take(to - from));
    polars::io::ndjson::infer_schema(&mut piece, None)
}

/// Where the first line starting after byte `at` starts (the file's
/// length if none does).
fn line_after(path: &Path, at: u64) -> std::io::Result<u64> {
    let mut file = File::open(path)?;
    file.seek(SeekFrom::Start(at))?;
    let mut rest_of_line = Vec::new();
    let n = BufReader::new(file).read_until(b'\n', &mut rest_of_line)?;
    Ok(at + n as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let dir = std::env::temp_dir().join(format!("kpi-ndjson-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
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
        let pieces = |starts: &[u64]| schema_in_pieces(&path, starts, len).map(|s| sorted(&s));
        assert_eq!(schema(&path).map(|s| sorted(&s)), whole);
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
        let _ = std::fs::remove_dir_all(&dir);
    }
}
