//! An NDJSON file's text as every reader of it sees it: the file itself,
//! or a gzipped file (`events.ndjson.gz`, as warehouses export) decompressed
//! once into memory and kept while the file is unchanged, as gzipped CSV
//! is read (src/data/csv/encoding.rs); an object in storage is fetched
//! once per run and read so too, whole-file types and all. Lines are the
//! decompressed text's, as `zcat` shows them.

use std::collections::HashMap;
use std::io::{Cursor, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use crate::data::files::{first_bytes, gunzipped, gzipped, modified};

/// An NDJSON file opened to read: on disk, or its text held in memory.
pub(crate) enum Text {
    File(std::fs::File),
    Memory(Cursor<Shared>),
}

/// A file's text held in memory (decompressed, or fetched), shared by
/// every reader of it.
#[derive(Clone)]
pub(crate) struct Shared(Arc<Vec<u8>>);

impl AsRef<[u8]> for Shared {
    fn as_ref(&self) -> &[u8] {
        &self.0
    }
}

impl Read for Text {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Text::File(f) => f.read(buf),
            Text::Memory(m) => m.read(buf),
        }
    }
}

impl Seek for Text {
    fn seek(&mut self, to: SeekFrom) -> std::io::Result<u64> {
        match self {
            Text::File(f) => f.seek(to),
            Text::Memory(m) => m.seek(to),
        }
    }
}

/// The NDJSON file at `path`, opened to read its text.
pub(crate) fn open(path: &Path) -> std::io::Result<Text> {
    Ok(match held(path)? {
        Some(text) => Text::Memory(Cursor::new(text)),
        None => Text::File(std::fs::File::open(path)?),
    })
}

/// The length of the text of the NDJSON file at `path`.
pub(crate) fn length(path: &Path) -> std::io::Result<u64> {
    Ok(match held(path)? {
        Some(text) => text.0.len() as u64,
        None => std::fs::metadata(path)?.len(),
    })
}

/// The text of the file at `path` held in memory: a gzipped file's
/// (`None` for a file on disk that is not, or cannot be opened),
/// decompressed once per run while the file is unchanged, since a command
/// reads a file's text several times (its types, its dates, its rows); an
/// object in storage (`s3://…/events.ndjson`, gzipped or not), fetched
/// once per run, so that it is typed from every record as a file on disk
/// is (Polars' reader of objects typed it from its own guess, and stopped
/// at a field of `true` on one line and `3` on another).
pub(crate) fn held(path: &Path) -> std::io::Result<Option<Shared>> {
    let shown = path.to_string_lossy();
    let object = crate::spec::model::is_object_url(&shown);
    if !object && !first_bytes(path, 2).is_ok_and(|head| gzipped(&head)) {
        return Ok(None);
    }
    type Kept = HashMap<PathBuf, (Option<(std::time::SystemTime, u64)>, Shared)>;
    static KEPT: OnceLock<Mutex<Kept>> = OnceLock::new();
    let kept = KEPT.get_or_init(|| Mutex::new(HashMap::new()));
    let stamp = modified(path);
    let hit = kept.lock().ok().and_then(|k| {
        k.get(path)
            .filter(|(at, _)| object || (stamp.is_some() && *at == stamp))
            .map(|(_, text)| text.clone())
    });
    if let Some(text) = hit {
        return Ok(Some(text));
    }
    let bytes = match object {
        true => crate::data::objects::fetch_all(&[shown.into_owned()])
            .pop()
            .unwrap_or_else(|| Err("no object fetched".to_string()))
            .map_err(std::io::Error::other)?,
        false => std::fs::read(path)?,
    };
    let text = Shared(Arc::new(match gzipped(&bytes) {
        true => gunzipped(&bytes)?,
        false => bytes,
    }));
    if let Ok(mut k) = kept.lock() {
        k.insert(path.to_path_buf(), (stamp, text.clone()));
    }
    Ok(Some(text))
}
