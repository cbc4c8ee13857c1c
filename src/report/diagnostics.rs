//! Diagnostics rendered for people (miette), scripts (JSON), GitHub
//! workflow annotations and SARIF 2.1.0 code-scanning reports.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan};
use serde::Serialize;
use serde_json::json;

use crate::diagnostic::{Diagnostic, Severity};
use crate::source::SourceMap;

/// One diagnostic with its resolved position, as `--format json` prints it.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Located {
    pub code: String,
    pub severity: String,
    pub message: String,
    pub file: Option<String>,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub help: Option<String>,
    /// The other places the finding points at (where a name defined twice
    /// was first defined), each with its label; left out when none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub related: Vec<Place>,
}

/// A place in a spec file that a finding points at besides its own.
#[derive(Clone, Debug, Serialize, PartialEq, Eq)]
pub struct Place {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end_line: usize,
    pub end_column: usize,
    pub message: String,
}

impl fmt::Display for Place {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}:{}:{}", self.message, self.file, self.line, self.column)
    }
}

/// The places of a finding's secondary labels.
fn related_places(d: &Diagnostic, sources: &SourceMap) -> Vec<Place> {
    d.labels
        .iter()
        .filter(|l| !l.primary)
        .filter_map(|l| {
            let ((line, column), (end_line, end_column)) = sources.position(l.span)?;
            Some(Place {
                file: sources.name(l.span.file).to_string(),
                line,
                column,
                end_line,
                end_column,
                message: l.message.clone(),
            })
        })
        .collect()
}

pub fn locate(d: &Diagnostic, sources: &SourceMap) -> Located {
    let (file, (line, column), (end_line, end_column)) = match d.primary_span() {
        Some(span) => {
            let pos = sources.position(span).unwrap_or(((1, 1), (1, 1)));
            (Some(sources.name(span.file).to_string()), pos.0, pos.1)
        }
        None => (d.path.clone(), (1, 1), (1, 1)),
    };
    Located {
        code: d.code.to_string(),
        severity: d.severity.as_str().to_string(),
        message: d.message.clone(),
        file,
        line,
        column,
        end_line,
        end_column,
        help: d.help.clone(),
        related: related_places(d, sources),
    }
}

pub fn to_json(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let located: Vec<Located> = diags.iter().map(|d| locate(d, sources)).collect();
    serde_json::to_string_pretty(&located).unwrap_or_else(|_| "[]".to_string())
}

/// GitHub shows at most ten annotations of each kind per step.
const GITHUB_LIMIT: usize = 10;

pub fn to_github(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut out = String::new();
    let mut shown = [0usize; 2];
    for d in diags {
        let l = locate(d, sources);
        let k = usize::from(d.severity == Severity::Warning);
        shown[k] += 1;
        if shown[k] > GITHUB_LIMIT {
            continue;
        }
        let mut message = d.message.clone();
        // The annotation sits on its own line; places elsewhere are named.
        let elsewhere = |p: &&Place| l.file.as_deref() != Some(p.file.as_str()) || p.line != l.line;
        for place in l.related.iter().filter(elsewhere) {
            message.push_str(&format!("\n{place}"));
        }
        if let Some(h) = &d.help {
            message.push_str("\nhelp: ");
            message.push_str(h);
        }
        out.push_str(&format!(
            "::{} file={},line={},col={},endLine={},endColumn={},title={}::{}\n",
            d.severity.as_str(),
            escape_property(l.file.as_deref().unwrap_or("")),
            l.line,
            l.column,
            l.end_line,
            l.end_column,
            escape_property(d.code),
            escape_data(&message),
        ));
    }
    let errors = diags.iter().filter(|d| d.is_error()).count();
    let warnings = diags.len() - errors;
    if shown.iter().any(|&n| n > GITHUB_LIMIT) {
        out.push_str(&format!(
            "::notice title=kpi::summary::{errors} errors and {warnings} warnings; annotations beyond the first {GITHUB_LIMIT} of each kind are not shown (run `kpi check` locally)\n"
        ));
    }
    out
}

fn escape_data(s: &str) -> String {
    s.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
}

fn escape_property(s: &str) -> String {
    escape_data(s).replace(':', "%3A").replace(',', "%2C")
}

pub fn to_sarif(diags: &[Diagnostic], sources: &SourceMap) -> String {
    let mut rules: Vec<&'static str> = diags.iter().map(|d| d.code).collect();
    rules.sort_unstable();
    rules.dedup();
    let rules: Vec<serde_json::Value> = rules
        .iter()
        .map(|code| {
            let example = diags.iter().find(|d| d.code == *code);
            json!({
                "id": code,
                "name": code.trim_start_matches("kpi::"),
                "shortDescription": { "text": code.trim_start_matches("kpi::").replace('_', " ") },
                "help": { "text": example.and_then(|d| d.help.clone()).unwrap_or_default() },
                // `helpUri` must be absolute; the docs travel with the spec's repository.
                "properties": {
                    "documentation": format!("docs/diagnostics.md#{}", code.replace("::", ""))
                },
            })
        })
        .collect();
    let results: Vec<serde_json::Value> = diags
        .iter()
        .map(|d| {
            let l = locate(d, sources);
            let mut text = d.message.clone();
            if let Some(h) = &d.help {
                text.push_str(" (help: ");
                text.push_str(h);
                text.push(')');
            }
            let related: Vec<serde_json::Value> = l
                .related
                .iter()
                .map(|p| {
                    json!({
                        "physicalLocation": sarif_location(&p.file, (p.line, p.column), (p.end_line, p.end_column)),
                        "message": { "text": p.message },
                    })
                })
                .collect();
            let mut result = json!({
                "ruleId": d.code,
                "level": match d.severity { Severity::Error => "error", Severity::Warning => "warning" },
                "message": { "text": text },
                "locations": [{
                    "physicalLocation": sarif_location(l.file.as_deref().unwrap_or_default(), (l.line, l.column), (l.end_line, l.end_column)),
                }]
            });
            if !related.is_empty() {
                result["relatedLocations"] = serde_json::Value::Array(related);
            }
            result
        })
        .collect();
    let sarif = json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": { "driver": {
                "name": "kpi",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules,
            }},
            "results": results,
        }]
    });
    serde_json::to_string_pretty(&sarif).unwrap_or_default()
}

/// A SARIF physical location: a file and a region within it (an empty
/// region ends where it starts).
fn sarif_location(
    file: &str,
    (line, column): (usize, usize),
    (end_line, end_column): (usize, usize),
) -> serde_json::Value {
    json!({
        "artifactLocation": { "uri": uri_reference(file) },
        "region": {
            "startLine": line,
            "startColumn": column,
            "endLine": end_line,
            "endColumn": end_column.max(if end_line == line { column } else { 1 }),
        }
    })
}

/// A file's path as a relative URI reference, as SARIF's `uri` must be:
/// forward slashes, and every byte a URI path cannot hold percent-encoded
/// (`my kpis.yaml` is `my%20kpis.yaml`, a `%` is `%25`), so code-scanning
/// tools find the file rather than reject the result.
fn uri_reference(file: &str) -> String {
    let mut uri = String::with_capacity(file.len());
    for b in file.replace('\\', "/").bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri
}

/// A diagnostic bound to its source text, in the shape miette renders.
#[derive(Debug)]
struct Bound {
    message: String,
    code: &'static str,
    severity: miette::Severity,
    help: Option<String>,
    source: Option<NamedSource<String>>,
    labels: Vec<LabeledSpan>,
    related: Vec<Bound>,
}

impl fmt::Display for Bound {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Bound {}

impl miette::Diagnostic for Bound {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        if self.code.is_empty() {
            None
        } else {
            Some(Box::new(self.code))
        }
    }

    fn severity(&self) -> Option<miette::Severity> {
        Some(self.severity)
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        self.help.as_ref().map(|h| Box::new(h) as Box<dyn fmt::Display>)
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        if self.labels.is_empty() {
            None
        } else {
            Some(Box::new(self.labels.iter().cloned()))
        }
    }

    fn related<'a>(&'a self) -> Option<Box<dyn Iterator<Item = &'a dyn miette::Diagnostic> + 'a>> {
        if self.related.is_empty() {
            None
        } else {
            Some(Box::new(
                self.related.iter().map(|r| r as &dyn miette::Diagnostic),
            ))
        }
    }
}

/// A file as messages quote it: with the passwords written in it blanked
/// (a spec that holds one is warned about, and CI logs keep what they show).
fn shown_source(file: &crate::source::SourceFile) -> NamedSource<String> {
    NamedSource::new(file.name.clone(), crate::spec::env::hide_passwords(&file.text))
}

fn bind(d: &Diagnostic, sources: &SourceMap) -> Bound {
    let primary = d.primary_span();
    let mut labels = Vec::new();
    let mut related = Vec::new();
    for l in &d.labels {
        let span = SourceSpan::new((l.span.start as usize).into(), l.span.len());
        let label = if l.primary {
            LabeledSpan::new_primary_with_span(Some(l.message.clone()), span)
        } else {
            LabeledSpan::new_with_span(Some(l.message.clone()), span)
        };
        if Some(l.span.file) == primary.map(|p| p.file) {
            labels.push(label);
        } else if let Some(file) = sources.get(l.span.file) {
            // A label in another file is shown as a related note with its
            // own source: advice, as a warning's sign and heading would
            // read as a second finding.
            related.push(Bound {
                message: l.message.clone(),
                code: "",
                severity: miette::Severity::Advice,
                help: None,
                source: Some(shown_source(file)),
                labels: vec![LabeledSpan::new_primary_with_span(Some(l.message.clone()), span)],
                related: Vec::new(),
            });
        }
    }
    let source = primary.and_then(|p| sources.get(p.file)).map(shown_source);
    let message = match (&d.path, primary) {
        (Some(p), None) if !d.message.contains(p.as_str()) => format!("{p}: {}", d.message),
        _ => d.message.clone(),
    };
    Bound {
        message,
        code: d.code,
        severity: match d.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
        },
        help: d.help.clone(),
        source,
        labels,
        related,
    }
}

/// The report a person reads: the source line with a label under the exact token.
pub fn to_human(diags: &[Diagnostic], sources: &SourceMap, color: bool) -> String {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    let handler = GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_links(false);
    let mut out = String::new();
    for d in diags {
        let bound = bind(d, sources);
        if handler.render_report(&mut out, &bound).is_err() {
            out.push_str(&format!("{}: {}\n", d.code, d.message));
        }
        out.push('\n');
    }
    out
}

/// Renders one diagnostic for snapshots: no colour, fixed width.
pub fn render_plain(d: &Diagnostic, sources: &SourceMap) -> String {
    let handler = GraphicalReportHandler::new_themed(GraphicalTheme::unicode_nocolor())
        .with_width(80)
        .with_links(false);
    let mut out = String::new();
    let bound = bind(d, sources);
    if handler.render_report(&mut out, &bound).is_err() {
        out = format!("{}: {}", d.code, d.message);
    }
    out
}
