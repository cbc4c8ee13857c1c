//! Files in another encoding than UTF-8 (the `encoding` read option's,
//! and UTF-16 with its byte order mark), files whose lines end with a
//! carriage return alone, and gzipped files (`deals.csv.gz`), read,
//! decompressed and transcoded to UTF-8 lines once.

use std::sync::Arc;

use crate::data::diagnostics as diag;
use crate::data::files::{gunzipped, gzipped};
use crate::data::SourceInfo;
use crate::diagnostic::Diagnostic;
use crate::spec::model::Encoding;

/// Files in another encoding than UTF-8, read and transcoded once: the
/// `encoding` read option's, and files that start with UTF-16's byte order
/// mark whatever it says (Excel's "Unicode Text" export), with the others
/// of their glob as they are.
pub(super) fn transcoded(
    src: &SourceInfo,
    files: &[std::path::PathBuf],
) -> Result<Option<Arc<Vec<Vec<u8>>>>, Diagnostic> {
    let failed = |f: &std::path::PathBuf, e: std::io::Error| {
        diag::data_error(src.span, &src.name, &f.display().to_string(), &e.to_string())
    };
    let is_object = |f: &std::path::PathBuf| crate::spec::model::is_object_url(&f.to_string_lossy());
    let e = match src.read.encoding.as_ref().map(|e| e.value) {
        // An object in storage is read into memory whatever it holds.
        None | Some(Encoding::Utf8) if files.iter().any(is_object) => Encoding::Utf8,
        None | Some(Encoding::Utf8) => {
            let mut other = false;
            for f in files {
                let head = crate::data::files::first_bytes(f, HEAD).map_err(|e| failed(f, e))?;
                other |= utf16_order(&head).is_some() || returns_alone(&head) || gzipped(&head);
            }
            if !other {
                return Ok(None);
            }
            Encoding::Utf8
        }
        Some(e) => e,
    };
    // Objects in storage are fetched side by side, local files read.
    let urls: Vec<String> = files
        .iter()
        .filter(|f| is_object(f))
        .map(|f| f.to_string_lossy().into_owned())
        .collect();
    let mut fetched = crate::data::objects::fetch_all(&urls).into_iter().zip(urls);
    let mut bytes = Vec::with_capacity(files.len());
    for f in files {
        bytes.push(match is_object(f) {
            true => match fetched.next() {
                Some((b, url)) => {
                    b.map_err(|e| diag::object_store_error(src.span, &src.name, &url, false, &e))?
                }
                None => return Err(failed(f, std::io::ErrorKind::NotFound.into())),
            },
            false => std::fs::read(f).map_err(|e| failed(f, e))?,
        });
    }
    let decoded = |(f, b): (&std::path::PathBuf, Vec<u8>)| -> Result<Vec<u8>, Diagnostic> {
        let b = match gzipped(&b) {
            true => gunzipped(&b).map_err(|e| failed(f, e))?,
            false => b,
        };
        let b = match utf16_order(&b) {
            Some(little) => from_utf16(&b[2..], little),
            None if e == Encoding::Utf8 => b,
            None => transcode(&b, e),
        };
        Ok(match returns_alone(&b[..b.len().min(HEAD as usize)]) {
            true => b
                .into_iter()
                .map(|c| if c == b'\r' { b'\n' } else { c })
                .collect(),
            false => b,
        })
    };
    Ok(Some(Arc::new(
        files
            .iter()
            .zip(bytes)
            .map(decoded)
            .collect::<Result<Vec<_>, _>>()?,
    )))
}

/// The start of a file, where its line ends are seen.
const HEAD: u64 = 16 << 10;

/// Whether the lines of a file's start `head` end with a carriage return
/// alone, as old Mac exports write them (Excel's "CSV (Macintosh)"): the
/// reader ends lines at `\n` only, and read so, the file is one line, its
/// rows a header of many columns and no row, so every count is 0.
fn returns_alone(head: &[u8]) -> bool {
    head.contains(&b'\r') && !head.contains(&b'\n')
}

/// Whether `bytes` start with UTF-16's byte order mark: little-endian
/// (`FF FE`, as Windows writes it) or big-endian (`FE FF`).
pub(crate) fn utf16_order(bytes: &[u8]) -> Option<bool> {
    match bytes {
        [0xFF, 0xFE, ..] => Some(true),
        [0xFE, 0xFF, ..] => Some(false),
        _ => None,
    }
}

/// UTF-16 text as UTF-8; a unit that is no character (an unpaired
/// surrogate, an odd last byte) as U+FFFD, as a text editor shows it.
fn from_utf16(bytes: &[u8], little: bool) -> Vec<u8> {
    let units = bytes.chunks(2).map(|p| match (p, little) {
        ([a, b], true) => u16::from_le_bytes([*a, *b]),
        ([a, b], false) => u16::from_be_bytes([*a, *b]),
        _ => 0xFFFD,
    });
    char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect::<String>()
        .into_bytes()
}

/// Latin-1 maps bytes to the first 256 code points; Windows-1252 differs in 0x80–0x9F.
pub(super) fn transcode(bytes: &[u8], e: Encoding) -> Vec<u8> {
    const CP1252: [char; 32] = [
        '€', '\u{81}', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\u{8d}', 'Ž', '\u{8f}',
        '\u{90}', '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', '\u{9d}', 'ž', 'Ÿ',
    ];
    let text: String = bytes
        .iter()
        .map(|&b| match (e, b) {
            (Encoding::Windows1252, 0x80..=0x9f) => CP1252[(b - 0x80) as usize],
            _ => b as char,
        })
        .collect();
    text.into_bytes()
}
