//! Helpers shared by the test modules.

use std::path::{Path, PathBuf};

use kpi::diagnostic::Diagnostic;
use kpi::report::diagnostics::{locate, Located};
use kpi::source::SourceMap;
use kpi::spec::InputFile;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Checks a spec given as text, as a file named `name`.
pub fn check_str(name: &str, text: &str) -> kpi::CheckOutcome {
    kpi::check_loaded(kpi::spec::load_str(name, text), false)
}

pub fn located(diags: &[Diagnostic], sources: &SourceMap) -> Vec<Located> {
    diags.iter().map(|d| locate(d, sources)).collect()
}

/// `code@line:col` of every diagnostic, for compact assertions.
pub fn positions(outcome: &kpi::CheckOutcome) -> Vec<String> {
    located(&outcome.diagnostics, &outcome.sources)
        .into_iter()
        .map(|l| format!("{}@{}:{}", l.code, l.line, l.column))
        .collect()
}

pub fn kpi_bin() -> &'static str {
    env!("CARGO_BIN_EXE_kpi")
}

/// Runs the binary in the repository root, with no spec from the environment.
pub fn kpi(args: &[&str]) -> std::process::Output {
    std::process::Command::new(kpi_bin())
        .current_dir(root())
        .env_remove("KPI_SPEC")
        .args(args)
        .output()
        .unwrap()
}

/// Runs the binary in `dir`, with no spec from the environment: the exit
/// code, stdout and stderr.
pub fn kpi_in(dir: &Path, args: &[&str]) -> (Option<i32>, String, String) {
    let out = std::process::Command::new(kpi_bin())
        .current_dir(dir)
        .env_remove("KPI_SPEC")
        .args(args)
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

/// The standard output of `kpi args` run from the repository's root,
/// which must succeed (its standard error shown if it does not).
pub fn kpi_stdout(args: &[&str]) -> String {
    let out = kpi(args);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Everything a run printed, standard output then error.
pub fn printed(out: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// What a run printed (standard output, then error), as one line: messages
/// are wrapped to the terminal's width, their margins drawn with `│`.
pub fn printed_flat(out: &std::process::Output) -> String {
    flat(printed(out).as_bytes())
}

/// A text as one line, its wrapping and margins (`│`) undone.
pub fn flat(text: &[u8]) -> String {
    String::from_utf8_lossy(text)
        .replace('│', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// What `kpi check --data` finds in the spec at `spec`, as its JSON array.
pub fn checked_data_json(spec: &Path) -> Vec<serde_json::Value> {
    let out = kpi(&[
        "--spec",
        &spec.to_string_lossy(),
        "check",
        "--data",
        "--format",
        "json",
    ]);
    serde_json::from_slice(&out.stdout).unwrap_or_default()
}

/// A fresh temporary folder under the target directory, unique to the call.
pub fn temp_dir(name: &str) -> PathBuf {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A fresh temporary folder (see [`temp_dir`]) holding `files`, each a
/// (name, text) pair: the data and spec of a test.
pub fn dir_with(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = temp_dir(name);
    for (file, text) in files {
        std::fs::write(dir.join(file), text).unwrap();
    }
    dir
}

pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// Two optional numbers agree: both null, or equal within a relative 1e-9.
pub fn close(a: Option<f64>, b: Option<f64>) -> bool {
    match (a, b) {
        (Some(x), Some(y)) => (x - y).abs() <= 1e-9 * x.abs().max(y.abs()).max(1.0),
        (None, None) => true,
        _ => false,
    }
}

#[track_caller]
pub fn assert_close(got: Option<f64>, want: Option<f64>) {
    assert!(close(got, want), "got {got:?}, want {want:?}");
}

/// A number cell of a result row (by column name); panics on a text cell.
pub fn number(
    row: &std::collections::HashMap<String, kpi::report::table::Cell>,
    column: &str,
) -> Option<f64> {
    match row.get(column) {
        Some(kpi::report::table::Cell::Number(x)) => *x,
        other => panic!("{column}: {other:?}"),
    }
}

/// The rows of a command's JSON output; the command must have succeeded.
#[track_caller]
pub fn json_rows(out: &std::process::Output) -> Vec<serde_json::Value> {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Each JSON row's text in column `label` and number in column `value`.
pub fn labelled_numbers(rows: &[serde_json::Value], label: &str, value: &str) -> Vec<(String, f64)> {
    rows.iter()
        .map(|r| (r[label].as_str().unwrap().to_string(), r[value].as_f64().unwrap()))
        .collect()
}

/// kpis/ as in-memory files, each text passed through `edit`.
pub fn library(edit: impl Fn(&str, String) -> String) -> Vec<InputFile> {
    let dir = root().join("kpis");
    let mut paths: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().to_string();
            let text = edit(&name, std::fs::read_to_string(&p).unwrap());
            InputFile {
                name: p.display().to_string(),
                bytes: text.into_bytes(),
                base_dir: dir.clone(),
            }
        })
        .collect()
}
