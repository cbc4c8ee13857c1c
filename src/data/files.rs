//! The files of a source: a glob's matches, and their first bytes, as
//! every reader sees them before it parses anything.

use std::path::{Path, PathBuf};

use super::diagnostics as diag;
use super::SourceInfo;
use crate::diagnostic::Diagnostic;

/// The files of a source: the glob's matches, sorted; or the one file.
pub fn expand(src: &SourceInfo) -> Result<Vec<PathBuf>, Diagnostic> {
    // Object storage: Polars' reader of Parquet lists a glob and reports
    // a missing object; CSV and NDJSON, read from bytes here, are listed
    // here (a missing object is found when it is fetched).
    if crate::spec::model::is_object_url(&src.path_str()) {
        let fetched = src.format != crate::spec::model::Format::Parquet;
        if !fetched || !src.is_glob() {
            return Ok(vec![src.path.clone()]);
        }
        let shown = src.path_str();
        let listed = super::objects::list(&shown)
            .map_err(|e| diag::object_store_error(src.span, &src.name, &shown, true, &e))?;
        if listed.is_empty() {
            return Err(diag::no_objects(src.span, &src.name, &shown));
        }
        return Ok(listed.into_iter().map(PathBuf::from).collect());
    }
    if !src.is_glob() {
        if !src.path.exists() {
            return Err(diag::source_not_found(
                src.span,
                &src.name,
                &src.path_str(),
                nearby(&src.path),
            ));
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

/// What is there instead of the missing file `path`: a file of a close
/// name in its folder (`deals.csv` for `Deals.csv` or `deal.csv`), or the
/// first folder on its way that does not exist.
fn nearby(path: &Path) -> Option<String> {
    let folder = path.parent().filter(|p| !p.as_os_str().is_empty());
    let missing = folder.and_then(|f| {
        f.ancestors()
            .filter(|a| !a.as_os_str().is_empty() && !a.exists())
            .last()
    });
    if let Some(missing) = missing {
        return Some(format!("there is no folder `{}`", missing.display()));
    }
    let name = path.file_name()?.to_str()?;
    let names: Vec<String> = std::fs::read_dir(folder.unwrap_or(Path::new(".")))
        .ok()?
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .take(10_000)
        .collect();
    let close = crate::diagnostic::did_you_mean(name, names.iter().map(String::as_str))?;
    Some(format!(
        "did you mean `{}`?",
        folder.map_or_else(|| close.to_string(), |f| f.join(close).display().to_string())
    ))
}

/// A file's modification time and length: what says it changed since a
/// result worked out from it was kept.
pub(crate) fn modified(path: &Path) -> Option<(std::time::SystemTime, u64)> {
    let m = std::fs::metadata(path).ok()?;
    Some((m.modified().ok()?, m.len()))
}

/// Whether `bytes` start as gzip's do (its magic number).
pub(crate) fn gzipped(bytes: &[u8]) -> bool {
    bytes.starts_with(&[0x1f, 0x8b])
}

/// A gzipped file's text (every member of it, as `gunzip` gives them).
pub(crate) fn gunzipped(bytes: &[u8]) -> std::io::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(bytes.len() * 4);
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(bytes), &mut out).map_err(|e| {
        std::io::Error::other(format!(
            "it is gzipped but does not decompress ({e}): a file cut short, or not whole"
        ))
    })?;
    Ok(out)
}

/// The first `n` bytes of a file (fewer in a shorter one).
pub(crate) fn first_bytes(f: &Path, n: u64) -> std::io::Result<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    std::fs::File::open(f)?.take(n).read_to_end(&mut out)?;
    Ok(out)
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

/// Two files a glob matches that are byte for byte the same (a copy left
/// beside the original, `deals (1).csv`): each of their rows would count
/// twice. Only files of the same size are read, so a glob of distinct
/// files costs a look at their sizes.
pub fn identical_files(src: &SourceInfo) -> Option<Diagnostic> {
    if !src.is_glob() || crate::spec::model::is_object_url(&src.path_str()) {
        return None;
    }
    let files = expand(src).ok()?;
    let mut by_size: Vec<(u64, &PathBuf)> = files
        .iter()
        .filter_map(|f| Some((std::fs::metadata(f).ok()?.len(), f)))
        .filter(|(size, _)| *size > 0)
        .collect();
    by_size.sort();
    let mut seen: Vec<(u64, u64, &PathBuf)> = Vec::new();
    for (k, &(size, f)) in by_size.iter().enumerate() {
        let same_size = |j: usize| by_size.get(j).is_some_and(|(s, _)| *s == size);
        if !same_size(k + 1) && (k == 0 || !same_size(k - 1)) {
            continue;
        }
        let digest = content_digest(f).ok()?;
        if let Some((_, _, first)) = seen.iter().find(|(s, d, _)| *s == size && *d == digest) {
            return Some(diag::identical_files(
                src.span,
                &src.name,
                &first.display().to_string(),
                &f.display().to_string(),
            ));
        }
        seen.push((size, digest, f));
    }
    None
}

/// A digest of a file's bytes, read a megabyte at a time.
fn content_digest(f: &Path) -> std::io::Result<u64> {
    use std::hash::Hasher;
    use std::io::Read;
    let mut hasher = std::hash::DefaultHasher::new();
    let mut file = std::fs::File::open(f)?;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buffer)?;
        if n == 0 {
            return Ok(hasher.finish());
        }
        hasher.write(&buffer[..n]);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_byte_that_is_not_utf8_is_placed() {
        assert_eq!(first_invalid_utf8(b"a,b\nok,caf\xe9\n"), Some((2, 7)));
        assert_eq!(first_invalid_utf8(b"a,\xc3\xa9\n"), None);
    }
}
