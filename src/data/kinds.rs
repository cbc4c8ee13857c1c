//! The kinds of value a column holds (a number, a text, a list, an
//! object) and where two types the readers infer do not join: the
//! column, with the lines (NDJSON) or files (a glob) of each kind, in the
//! words of JSON, where Polars says "failed to determine supertype of
//! struct[2] and i64".

use std::path::{Path, PathBuf};

use polars::prelude::*;

/// A file of a glob, and the kind of value a column holds there.
pub(super) type FileKind<'a> = (&'a Path, &'static str);

/// Why the files of a glob (their schemas, `None` where unknown) are not
/// joined: a column of two kinds of value in two files, as the column,
/// the later file with its kind and the earlier with its own.
pub(super) fn files_unjoinable<'a>(
    files: &'a [PathBuf],
    schemas: &[Option<SchemaRef>],
) -> Option<(String, FileKind<'a>, FileKind<'a>)> {
    let line_type = |s: &SchemaRef| DataType::Struct(s.iter_fields().collect());
    for (i, here) in schemas.iter().enumerate() {
        for (e, earlier) in schemas[..i].iter().enumerate() {
            let (Some(here), Some(earlier)) = (here, earlier) else {
                continue;
            };
            if let Some((column, k_here, k_there)) = clash(&line_type(earlier), &line_type(here), "") {
                return Some((column, (files.get(i)?, k_here), (files.get(e)?, k_there)));
            }
        }
    }
    None
}

/// Where two types the reader infers do not join: the field (`a.b` in
/// nested objects, under `path`) and the kinds of its value in each.
pub(super) fn clash(
    earlier: &DataType,
    here: &DataType,
    path: &str,
) -> Option<(String, &'static str, &'static str)> {
    if polars_core::utils::try_get_supertype(earlier, here).is_ok() {
        return None;
    }
    let inner = match (earlier, here) {
        (DataType::Struct(a), DataType::Struct(b)) => b.iter().find_map(|fb| {
            let fa = a.iter().find(|fa| fa.name == fb.name)?;
            let field = match path {
                "" => fb.name.to_string(),
                p => format!("{p}.{}", fb.name),
            };
            clash(&fa.dtype, &fb.dtype, &field)
        }),
        (DataType::List(a), DataType::List(b)) => clash(a, b, &format!("{path}[]")),
        _ => None,
    };
    inner.or_else(|| Some((path.to_string(), json_kind(here), json_kind(earlier))))
}

/// A JSON value's kind, for a type the reader infers.
fn json_kind(t: &DataType) -> &'static str {
    match t {
        DataType::Struct(_) => "an object",
        DataType::List(_) => "a list",
        DataType::String => "a text",
        DataType::Boolean => "a boolean",
        DataType::Null => "null",
        t if t.is_primitive_numeric() => "a number",
        _ => "a value of another kind",
    }
}
