//! Output files: written whole or not at all, without changing what the
//! path is. A regular file is replaced through a temporary file renamed over
//! it (keeping its permissions); a symlink is written through to its target;
//! a FIFO or a device is written straight into, since a rename would replace
//! it with a file, and so is the process's own standard output or error
//! (`-o /dev/stdout`), after what it holds, as the shell set it up. An
//! interrupted run removes its temporary file ([`remove_temporary_files`],
//! called from the signal handler).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// Temporary files being written now, for the signal handler to remove.
static IN_PROGRESS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());

/// Removes every temporary file still being written (on Ctrl-C or SIGTERM).
pub fn remove_temporary_files() {
    if let Ok(files) = IN_PROGRESS.lock() {
        for f in files.iter() {
            let _ = std::fs::remove_file(f);
        }
    }
}

/// Writes `path` with `write`, whole or not at all (see the module's doc).
pub fn write_output(
    path: &Path,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    // What the path is, every link followed as the system follows it: the
    // links of `/dev/stdout` and `/dev/fd/N` end in a name such as
    // `pipe:[1234]`, which is no path to resolve by hand.
    match std::fs::metadata(path) {
        Ok(m) if m.is_dir() => Err(std::io::Error::new(
            std::io::ErrorKind::IsADirectory,
            "it is a directory",
        )),
        Ok(m) if is_stream(&m.file_type()) => write_into(path, false, write),
        // Standard output sent to a file (`-o /dev/stdout >> log.csv`):
        // added after what the file holds, as `>>` asks, not renamed over it.
        Ok(m) if is_standard_output(&m) => write_into(path, true, write),
        _ => {
            let target = resolve_links(path)?;
            match std::fs::metadata(&target) {
                Ok(m) => replace(&target, Some(m.permissions()), write),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => replace(&target, None, write),
                Err(e) => Err(e),
            }
        }
    }
}

/// Writes straight into what `path` opens (at its end with `append`).
fn write_into(
    path: &Path,
    append: bool,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut f = OpenOptions::new().write(true).append(append).open(path)?;
    write(&mut f)?;
    f.flush()
}

/// A FIFO, character or block device, or socket: nothing to rename over.
fn is_stream(t: &std::fs::FileType) -> bool {
    t.is_fifo() || t.is_char_device() || t.is_block_device() || t.is_socket()
}

/// Whether `m` is the file this process's standard output or error goes to.
fn is_standard_output(m: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    ["/dev/stdout", "/dev/stderr"]
        .iter()
        .filter_map(|s| std::fs::metadata(s).ok())
        .any(|s| s.dev() == m.dev() && s.ino() == m.ino())
}

/// Follows symlinks (dangling ones too) to the path that holds the data.
fn resolve_links(path: &Path) -> std::io::Result<PathBuf> {
    let mut p = path.to_path_buf();
    for _ in 0..40 {
        match std::fs::symlink_metadata(&p) {
            Ok(m) if m.file_type().is_symlink() => {
                let link = std::fs::read_link(&p)?;
                p = match p.parent() {
                    Some(dir) if link.is_relative() => dir.join(link),
                    _ => link,
                };
            }
            _ => return Ok(p),
        }
    }
    Err(std::io::Error::other("too many levels of symbolic links"))
}

/// Writes a temporary file beside `target` and renames it over it.
fn replace(
    target: &Path,
    permissions: Option<std::fs::Permissions>,
    write: impl FnOnce(&mut File) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let dir = target
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    track(&tmp, true);
    let result = (|| {
        let mut file = OpenOptions::new().write(true).create_new(true).open(&tmp)?;
        write(&mut file)?;
        file.flush()?;
        file.sync_all()?;
        if let Some(p) = permissions {
            file.set_permissions(p)?;
        }
        std::fs::rename(&tmp, target)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    track(&tmp, false);
    result
}

fn track(tmp: &Path, add: bool) {
    if let Ok(mut files) = IN_PROGRESS.lock() {
        if add {
            files.push(tmp.to_path_buf());
        } else {
            files.retain(|f| f != tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_interrupted_write_leaves_no_temporary_file() {
        let dir = crate::testing::temp_dir("write");
        let path = dir.join("out.csv");
        // The signal handler runs while the file is half written.
        let result = write_output(&path, |f| {
            f.write_all(b"half")?;
            let tmp: Vec<_> = std::fs::read_dir(&dir)
                .unwrap()
                .map(|e| e.unwrap().path())
                .collect();
            assert_eq!(tmp.len(), 1, "{tmp:?}");
            remove_temporary_files();
            assert!(!tmp[0].exists());
            Ok(())
        });
        assert!(result.is_err(), "the rename of a removed file fails");
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 0);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
