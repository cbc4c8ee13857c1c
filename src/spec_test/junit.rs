//! JUnit XML of test results, the format CI dashboards read.

use std::fmt::Write as _;

use super::TestResult;

/// The `type` of every failure (documented with the diagnostics).
const FAILURE: &str = "kpi::test_failed";

fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // Characters XML 1.0 cannot hold.
            c if (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r') => {}
            c => out.push(c),
        }
    }
    out
}

/// One `<testsuite>` named `suite`, one `<testcase>` per test (classname: its file).
pub fn to_junit(suite: &str, results: &[TestResult]) -> String {
    let failures = results.iter().filter(|r| !r.passed).count();
    let seconds: f64 = results.iter().map(|r| r.seconds).sum();
    let mut s = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        s,
        "<testsuites name=\"kpi\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" time=\"{seconds:.3}\">",
        results.len()
    );
    let _ = writeln!(
        s,
        "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"0\" time=\"{seconds:.3}\">",
        escape(suite),
        results.len()
    );
    for r in results {
        let _ = write!(
            s,
            "    <testcase name=\"{}\" classname=\"{}\" file=\"{}\" line=\"{}\" time=\"{:.3}\"",
            escape(&r.name),
            escape(&r.file),
            escape(&r.file),
            r.line,
            r.seconds
        );
        if r.passed {
            s.push_str("/>\n");
            continue;
        }
        s.push_str(">\n");
        let message = r.failures.first().map(String::as_str).unwrap_or("failed");
        let mut body = r.failures.join("\n");
        if let Some(d) = &r.diff {
            body.push('\n');
            body.push_str(d);
        }
        let _ = writeln!(
            s,
            "      <failure message=\"{}\" type=\"{FAILURE}\">{}</failure>",
            escape(message),
            escape(&body)
        );
        s.push_str("    </testcase>\n");
    }
    s.push_str("  </testsuite>\n</testsuites>\n");
    s
}
