//! A spec as it was at a git revision of the repository holding it.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::spec::{load_files, InputFile, Loaded};

fn git(dir: &Path, args: &[&str]) -> Result<Vec<u8>, String> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .map_err(|e| format!("cannot run git: {e}"))?;
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// The spec of `version`: a revision (`HEAD~1`, `main`) of the spec at
/// `spec`, or git's `REV:PATH`, the spec at PATH at revision REV, PATH
/// read as git reads it: from the repository's top, or from here when it
/// starts with `./` or `../` (`kpi diff HEAD~1:metrics HEAD:kpis` follows
/// a spec whose folder was renamed).
pub fn load_version(version: &str, spec: &Path) -> Result<Option<Loaded>, String> {
    let Some((rev, path)) = version
        .split_once(':')
        .filter(|(rev, path)| !rev.is_empty() && !path.is_empty())
    else {
        return load_revision(version, spec);
    };
    let from_here = [".", ".."].contains(&path) || path.starts_with("./") || path.starts_with("../");
    let path = match from_here {
        true => PathBuf::from(path),
        false => toplevel(&folder_of(spec))?.join(path),
    };
    load_revision(rev, &path)
}

/// The folder a spec path names or sits in, or here when it is neither.
fn folder_of(spec: &Path) -> PathBuf {
    let here = if spec.is_dir() {
        spec.to_path_buf()
    } else {
        spec.parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."))
            .to_path_buf()
    };
    match here.is_dir() {
        true => here,
        false => PathBuf::from("."),
    }
}

/// The top folder of the repository holding `dir`.
fn toplevel(dir: &Path) -> Result<PathBuf, String> {
    let root = git(dir, &["rev-parse", "--show-toplevel"])?;
    Ok(PathBuf::from(String::from_utf8_lossy(&root).trim()))
}

/// The spec at `spec` (a file or folder, as named in the working tree) at
/// revision `rev` of the repository that holds it; `None` when the
/// revision has no spec files there (a spec added since, or removed).
fn load_revision(rev: &str, spec: &Path) -> Result<Option<Loaded>, String> {
    let root = toplevel(&folder_of(spec))?;
    git(
        &root,
        &["rev-parse", "--verify", "--quiet", &format!("{rev}^{{commit}}")],
    )
    .map_err(|_| format!("`{rev}` is neither a spec path nor a git revision"))?;
    let absolute = std::fs::canonicalize(spec)
        .unwrap_or_else(|_| std::env::current_dir().unwrap_or_default().join(spec));
    let relative = absolute.strip_prefix(&root).unwrap_or(spec).to_path_buf();
    let listing = git(
        &root,
        &[
            "ls-tree",
            "-r",
            "--name-only",
            rev,
            "--",
            &relative.to_string_lossy(),
        ],
    )?;
    let mut files = Vec::new();
    for name in String::from_utf8_lossy(&listing).lines() {
        if !(name.ends_with(".yaml") || name.ends_with(".yml")) {
            continue;
        }
        let bytes = git(&root, &["show", &format!("{rev}:{name}")])?;
        let base_dir = root
            .join(name)
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(|| root.clone());
        files.push(InputFile {
            name: format!("{rev}:{name}"),
            bytes,
            base_dir,
        });
    }
    if files.is_empty() {
        return Ok(None);
    }
    Ok(Some(load_files(files)))
}
