//! Stage 1, load: files → YAML nodes → the typed [`Spec`], with every shape
//! error reported (never only the first).

use std::path::{Path, PathBuf};

use super::decode::Reader;
use super::diagnostics as diag;
use super::model::*;
use super::yaml;
use crate::diagnostic::Diagnostics;
use crate::source::{SourceFile, SourceMap};
use crate::span::Span;

/// A loaded spec with the files it came from and what loading found.
#[derive(Debug, Default)]
pub struct Loaded {
    pub spec: Spec,
    pub sources: SourceMap,
    pub diagnostics: Diagnostics,
}

/// One file's bytes, its display name and the folder its paths are relative to.
pub struct InputFile {
    pub name: String,
    pub bytes: Vec<u8>,
    pub base_dir: PathBuf,
}

/// Loads a spec file, or every `*.yaml`/`*.yml` below a folder.
pub fn load(path: &Path) -> Loaded {
    let shown = path.display().to_string();
    let mut files = Vec::new();
    let mut diagnostics = Diagnostics::new();
    if path.is_dir() {
        let mut found = Vec::new();
        collect_yaml(path, &mut found, &mut diagnostics);
        found.sort();
        for f in found {
            read_input(&f, &mut files, &mut diagnostics);
        }
    } else if path.exists() {
        read_input(path, &mut files, &mut diagnostics);
    } else {
        diagnostics.push(diag::spec_not_found(&shown, near_spec(path).as_deref()));
        return Loaded {
            diagnostics,
            ..Loaded::default()
        };
    }
    let mut loaded = load_files(files);
    diagnostics.extend(std::mem::take(&mut loaded.diagnostics));
    // Funnels are measures too: a spec of funnels alone evaluates.
    if !diagnostics.has_errors() && loaded.spec.kpis.is_empty() && loaded.spec.funnels.is_empty() {
        diagnostics.push(diag::empty_spec(&shown));
    }
    loaded.diagnostics = diagnostics;
    loaded
}

/// A spec file or folder beside `path` that it was likely meant to name:
/// the name with `.yaml` or `.yml` (the default `kpis` beside a
/// `kpis.yaml`), or a YAML file or folder named nearly as it is
/// (`kpi`, `kpis.yml`), written as `path` was.
fn near_spec(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
    let shown = |near: &str| match parent {
        Some(p) => p.join(near).display().to_string(),
        None => near.to_string(),
    };
    let beside: Vec<String> = std::fs::read_dir(parent.unwrap_or(Path::new(".")))
        .ok()?
        .flatten()
        .filter(|e| e.path().is_dir() || is_yaml(&e.path()))
        .filter_map(|e| e.file_name().to_str().map(str::to_string))
        .filter(|name| !name.starts_with('.'))
        .collect();
    let with_extension = [format!("{name}.yaml"), format!("{name}.yml")];
    if let Some(file) = with_extension.iter().find(|f| beside.contains(f)) {
        return Some(shown(file));
    }
    crate::diagnostic::did_you_mean(name, beside.iter().map(String::as_str)).map(shown)
}

/// Loads a spec from text, as if it were a file named `name` in the working folder.
pub fn load_str(name: &str, text: &str) -> Loaded {
    let base_dir = Path::new(name)
        .parent()
        .map(Path::to_path_buf)
        .unwrap_or_default();
    load_files(vec![InputFile {
        name: name.to_string(),
        bytes: text.as_bytes().to_vec(),
        base_dir,
    }])
}

fn collect_yaml(dir: &Path, out: &mut Vec<PathBuf>, diags: &mut Diagnostics) {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) => {
            diags.push(diag::unreadable_file(&dir.display().to_string(), &e.to_string()));
            return;
        }
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let hidden = entry.file_name().to_string_lossy().starts_with('.');
        if hidden {
            continue;
        }
        if path.is_dir() {
            collect_yaml(&path, out, diags);
        } else if is_yaml(&path) {
            out.push(path);
        }
    }
}

fn is_yaml(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

fn read_input(path: &Path, files: &mut Vec<InputFile>, diags: &mut Diagnostics) {
    let name = path.display().to_string();
    match std::fs::read(path) {
        Ok(bytes) => files.push(InputFile {
            name,
            bytes,
            base_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
        }),
        Err(e) => diags.push(diag::unreadable_file(&name, &e.to_string())),
    }
}

/// Loads already-read files (from disk, a git revision or a test).
pub fn load_files(files: Vec<InputFile>) -> Loaded {
    let mut loaded = Loaded::default();
    let mut calendar_span: Option<Span> = None;
    for input in files {
        if input.bytes.contains(&0) {
            loaded.diagnostics.push(diag::binary_file(&input.name));
            continue;
        }
        let text = match String::from_utf8(input.bytes) {
            Ok(t) => t,
            Err(e) => {
                let valid = e.utf8_error().valid_up_to();
                let lossy = String::from_utf8_lossy(e.as_bytes()).into_owned();
                let at = String::from_utf8_lossy(&e.as_bytes()[..valid]).len();
                let file = loaded.sources.add(SourceFile::new(input.name, lossy));
                loaded
                    .diagnostics
                    .push(diag::not_utf8(Span::new(file, at, at + 1)));
                continue;
            }
        };
        let file = loaded.sources.add(SourceFile::new(input.name.clone(), text));
        let Some(source) = loaded.sources.get(file) else {
            continue;
        };
        let text = source.text.as_str();
        let root = match yaml::parse(file, text) {
            Ok(Some(root)) => root,
            Ok(None) => {
                loaded.diagnostics.push(diag::empty_file(&input.name));
                continue;
            }
            Err(d) => {
                loaded.diagnostics.push(d);
                continue;
            }
        };
        if root.is_null() {
            loaded.diagnostics.push(diag::empty_file(&input.name));
            continue;
        }
        let mut reader = Reader {
            text,
            base_dir: &input.base_dir,
            diags: &mut loaded.diagnostics,
            left_out: Vec::new(),
        };
        reader.file_root(&input.name, &root, &mut loaded.spec, &mut calendar_span);
    }
    check_duplicates(&loaded.spec, &mut loaded.diagnostics);
    loaded
}

fn check_duplicates(spec: &Spec, diags: &mut Diagnostics) {
    fn dups<'a>(names: impl Iterator<Item = &'a Name>, what: &str, diags: &mut Diagnostics) {
        let mut seen: std::collections::HashMap<&str, Span> = std::collections::HashMap::new();
        for n in names {
            match seen.get(n.value.as_str()) {
                Some(first) => diags.push(diag::duplicate_name(n.span, *first, what, &n.value)),
                None => {
                    seen.insert(&n.value, n.span);
                }
            }
        }
    }
    dups(spec.connections.iter().map(|d| &d.name), "connection", diags);
    dups(spec.datasets.iter().map(|d| &d.name), "dataset", diags);
    dups(spec.segments.iter().map(|d| &d.name), "segment", diags);
    dups(spec.kpis.iter().map(|d| &d.name), "KPI", diags);
    dups(spec.targets.iter().map(|d| &d.name), "target", diags);
    dups(spec.funnels.iter().map(|d| &d.name), "funnel", diags);
    dups(spec.tests.iter().map(|d| &d.name), "test", diags);
    // `kpi eval NAME` and `kpi report NAME` take KPIs and funnels alike.
    for f in &spec.funnels {
        if let Some(k) = spec.kpis.iter().find(|k| k.name.value == f.name.value) {
            diags.push(diag::kpi_and_funnel(f.name.span, k.name.span, &f.name.value));
        }
    }
}
