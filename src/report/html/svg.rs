//! Charts as inline SVG, drawn here: deterministic (the same numbers give
//! the same bytes), readable without JavaScript, labelled for screen readers.

use std::fmt::Write as _;

/// Escapes text for an SVG/HTML attribute or element.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A number for SVG coordinates: two decimals, no trailing zeros.
fn n(x: f64) -> String {
    let s = format!("{x:.2}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// How empty periods are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gaps {
    /// A sum or count: an empty period is 0.
    Zero,
    /// A ratio or average: an empty period has no value, a gap in the line.
    Gap,
}

/// A sparkline of `values` (one per period), with an optional target line.
pub fn sparkline(label: &str, values: &[Option<f64>], gaps: Gaps, target: Option<f64>) -> String {
    let (w, h, pad) = (240.0, 48.0, 4.0);
    let values: Vec<Option<f64>> = values
        .iter()
        .map(|v| match (v, gaps) {
            (None, Gaps::Zero) => Some(0.0),
            (v, _) => v.filter(|x| x.is_finite()),
        })
        .collect();
    let known = values.iter().flatten().copied().chain(target);
    let (lo, hi) = known.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), x| {
        (a.min(x), b.max(x))
    });
    let mut out = format!(
        "<svg class=\"spark\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    if !lo.is_finite() || values.is_empty() {
        out.push_str("<text x=\"4\" y=\"28\" class=\"muted\">no data</text></svg>");
        return out;
    }
    let span = if hi > lo { hi - lo } else { 1.0 };
    let x = |i: usize| {
        pad + (w - 2.0 * pad)
            * if values.len() > 1 {
                i as f64 / (values.len() - 1) as f64
            } else {
                0.5
            }
    };
    let y = |v: f64| h - pad - (h - 2.0 * pad) * (v - if hi > lo { lo } else { lo - 0.5 }) / span;
    if let Some(t) = target {
        let _ = write!(
            out,
            "<line class=\"target\" x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\"/>",
            n(pad),
            n(w - pad),
            n(y(t)),
            n(y(t))
        );
    }
    // One path per run of known values: an unknown period is a gap.
    let mut runs: Vec<Vec<(f64, f64)>> = vec![Vec::new()];
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => runs.last_mut().into_iter().for_each(|r| r.push((x(i), y(*v)))),
            None => runs.push(Vec::new()),
        }
    }
    for run in runs.iter().filter(|r| !r.is_empty()) {
        let d: Vec<String> = run
            .iter()
            .enumerate()
            .map(|(j, (px, py))| format!("{}{} {}", if j == 0 { "M" } else { "L" }, n(*px), n(*py)))
            .collect();
        let _ = write!(out, "<path class=\"line\" d=\"{}\"/>", d.join(" "));
        if run.len() == 1 {
            let (px, py) = run[0];
            let _ = write!(
                out,
                "<circle class=\"dot\" cx=\"{}\" cy=\"{}\" r=\"2\"/>",
                n(px),
                n(py)
            );
        }
    }
    if let Some((i, Some(v))) = values.iter().enumerate().rev().find(|(_, v)| v.is_some()) {
        let _ = write!(
            out,
            "<circle class=\"last\" cx=\"{}\" cy=\"{}\" r=\"3\"/>",
            n(x(i)),
            n(y(*v))
        );
    }
    out.push_str("</svg>");
    out
}

/// A bullet bar: the actual value as a bar, the expected pace and the
/// projected end as marks, the target as a line; scaled to the largest.
pub fn bullet(
    label: &str,
    actual: Option<f64>,
    expected: Option<f64>,
    projected: Option<f64>,
    target: f64,
) -> String {
    let (w, h) = (240.0, 28.0);
    let top = [actual, expected, projected, Some(target)]
        .into_iter()
        .flatten()
        .filter(|v| v.is_finite())
        .fold(0.0_f64, f64::max);
    let scale = if top > 0.0 { (w - 8.0) / (top * 1.05) } else { 0.0 };
    let at = |v: f64| 4.0 + (v.max(0.0) * scale);
    let mut out = format!(
        "<svg class=\"bullet\" viewBox=\"0 0 {w} {h}\" width=\"{w}\" height=\"{h}\" role=\"img\" aria-label=\"{}\">",
        escape(label)
    );
    let _ = write!(
        out,
        "<rect class=\"track\" x=\"4\" y=\"8\" width=\"{}\" height=\"12\"/>",
        n(w - 8.0)
    );
    if let Some(a) = actual.filter(|v| v.is_finite()) {
        let _ = write!(
            out,
            "<rect class=\"actual\" x=\"4\" y=\"8\" width=\"{}\" height=\"12\"/>",
            n(at(a) - 4.0)
        );
    }
    if let Some(p) = projected.filter(|v| v.is_finite()) {
        let _ = write!(
            out,
            "<rect class=\"projected\" x=\"{}\" y=\"11\" width=\"3\" height=\"6\"/>",
            n(at(p) - 1.5)
        );
    }
    if let Some(e) = expected.filter(|v| v.is_finite()) {
        let _ = write!(
            out,
            "<rect class=\"expected\" x=\"{}\" y=\"4\" width=\"2\" height=\"20\"/>",
            n(at(e) - 1.0)
        );
    }
    let _ = write!(
        out,
        "<rect class=\"goal\" x=\"{}\" y=\"2\" width=\"3\" height=\"24\"/>",
        n(at(target) - 1.5)
    );
    out.push_str("</svg>");
    out
}

/// A funnel: each step's count as a horizontal bar, its share of the first.
pub fn funnel(label: &str, steps: &[(String, f64)]) -> String {
    let (w, row) = (320.0, 22.0);
    let h = row * steps.len().max(1) as f64;
    let first = steps.first().map_or(0.0, |s| s.1).max(0.0);
    let mut out = format!(
        "<svg class=\"funnel\" viewBox=\"0 0 {w} {}\" width=\"{w}\" height=\"{}\" role=\"img\" aria-label=\"{}\">",
        n(h),
        n(h),
        escape(label)
    );
    for (i, (step, count)) in steps.iter().enumerate() {
        let share = if first > 0.0 { count.max(0.0) / first } else { 0.0 };
        let y = i as f64 * row;
        let _ = write!(
            out,
            "<rect class=\"step\" x=\"0\" y=\"{}\" width=\"{}\" height=\"{}\"><title>{}</title></rect>",
            n(y + 2.0),
            n((w * share).max(1.0)),
            n(row - 4.0),
            escape(step)
        );
    }
    out.push_str("</svg>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_escaped() {
        assert_eq!(
            escape("<b>\"A&B\"</b>'"),
            "&lt;b&gt;&quot;A&amp;B&quot;&lt;/b&gt;&#39;"
        );
    }
}
