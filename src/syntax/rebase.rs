//! Maps byte offsets inside a YAML scalar's value to byte offsets in the file.
//!
//! An expression is parsed on the scalar's *value*, which differs from the
//! file text: quotes are stripped, escapes are cooked, plain multi-line
//! scalars fold line breaks into spaces, block scalars drop indentation. We
//! align value and raw text character by character; when the alignment
//! fails, every span falls back to the whole scalar.

use crate::span::{FileId, Span};

/// How a scalar was written in YAML.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScalarStyle {
    Plain,
    SingleQuoted,
    DoubleQuoted,
    Literal,
    Folded,
}

/// Maps value offsets to file spans.
#[derive(Clone, Debug)]
pub struct Rebase {
    file: FileId,
    whole: Span,
    /// `table[i]` is the file range of value byte `i`; one extra entry for the end.
    table: Option<Vec<(u32, u32)>>,
}

impl Rebase {
    /// Every span maps to `whole`.
    pub fn whole(whole: Span) -> Rebase {
        Rebase {
            file: whole.file,
            whole,
            table: None,
        }
    }

    /// The value is the file text starting at `start` (a test or a one-line input).
    pub fn shifted(file: FileId, start: usize, value: &str) -> Rebase {
        let at = |i: usize| u32::try_from(start + i).unwrap_or(u32::MAX);
        let table = (0..=value.len()).map(|i| (at(i), at(i + 1))).collect();
        Rebase {
            file,
            whole: Span::new(file, start, start + value.len()),
            table: Some(table),
        }
    }

    /// Aligns `value` with the raw text of a scalar found at `raw_span` of `file_text`.
    pub fn for_scalar(file_text: &str, raw_span: Span, value: &str, style: ScalarStyle) -> Rebase {
        let raw = file_text.get(raw_span.range()).unwrap_or("");
        let table = align(raw, value, style).map(|t| {
            t.into_iter()
                .map(|(a, b)| (raw_span.start.saturating_add(a), raw_span.start.saturating_add(b)))
                .collect()
        });
        Rebase {
            file: raw_span.file,
            whole: raw_span,
            table,
        }
    }

    pub fn span(&self, start: usize, end: usize) -> Span {
        match &self.table {
            None => self.whole,
            Some(t) => {
                let s = t.get(start).map_or(self.whole.end, |r| r.0);
                // The end maps through the last character (its escape included),
                // so trailing folded whitespace is not swallowed.
                let e = if end > start {
                    t.get(end - 1).map_or(self.whole.end, |r| r.1).max(s)
                } else {
                    s
                };
                Span {
                    file: self.file,
                    start: s,
                    end: e.max(s),
                }
            }
        }
    }

    pub fn whole_span(&self) -> Span {
        self.whole
    }
}

/// Raw range (relative to the scalar's raw start) of every value byte, plus the end.
fn align(raw: &str, value: &str, style: ScalarStyle) -> Option<Vec<(u32, u32)>> {
    let raw_b = raw.as_bytes();
    let mut j = match style {
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => 1,
        _ => 0,
    };
    let mut table = Vec::with_capacity(value.len() + 1);
    let at = |j: usize| u32::try_from(j).unwrap_or(u32::MAX);
    let push = |table: &mut Vec<(u32, u32)>, j: usize, len: usize, n: usize| {
        for k in 0..n {
            let start = if len == n { j + k } else { j };
            let end = if len == n { j + k + 1 } else { j + len };
            table.push((at(start), at(end)));
        }
    };
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        let n = c.len_utf8();
        loop {
            let rest = raw.get(j..)?;
            if style == ScalarStyle::DoubleQuoted && rest.starts_with('\\') {
                let len = escape_len(rest);
                if rest.get(1..2) == Some("\n") {
                    // A line continuation: produces nothing; skip it and the indentation.
                    j += 2;
                    while matches!(raw_b.get(j), Some(b' ' | b'\t')) {
                        j += 1;
                    }
                    continue;
                }
                push(&mut table, j, len, n);
                j += len;
                break;
            }
            if style == ScalarStyle::SingleQuoted && rest.starts_with("''") && c == '\'' {
                push(&mut table, j, 2, n);
                j += 2;
                break;
            }
            if rest.starts_with(c) {
                push(&mut table, j, n, n);
                j += n;
                break;
            }
            if c == ' ' || c == '\n' {
                // A folded line break: the value has one space where the file
                // has a line break and indentation.
                if rest.starts_with(['\n', '\r', ' ', '\t']) {
                    push(&mut table, j, 1, n);
                    while matches!(raw_b.get(j), Some(b'\n' | b'\r' | b' ' | b'\t')) {
                        j += 1;
                        if chars.peek().is_some_and(|p| *p == ' ') && raw_b.get(j) == Some(&b' ') {
                            break;
                        }
                    }
                    break;
                }
                return None;
            }
            // Indentation and line breaks the value does not keep.
            if rest.starts_with(['\n', '\r', ' ', '\t']) {
                j += 1;
                continue;
            }
            return None;
        }
    }
    table.push((at(j), at(j)));
    Some(table)
}

fn escape_len(rest: &str) -> usize {
    match rest.as_bytes().get(1) {
        Some(b'x') => 4,
        Some(b'u') => 6,
        Some(b'U') => 10,
        Some(_) => {
            1 + rest
                .get(1..)
                .and_then(|r| r.chars().next())
                .map_or(1, char::len_utf8)
        }
        None => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(raw: &str, value: &str, style: ScalarStyle) -> Vec<u32> {
        align(raw, value, style)
            .unwrap()
            .into_iter()
            .map(|r| r.0)
            .collect()
    }

    #[test]
    fn plain_folded_lines() {
        let raw = "sum(a)\n  / count()";
        let t = map(raw, "sum(a) / count()", ScalarStyle::Plain);
        // `/` is at value offset 7 and raw offset 9.
        assert_eq!(t[7], 9);
        assert_eq!(&raw[t[9] as usize..], "count()");
    }

    #[test]
    fn double_quoted_escapes() {
        let raw = r#""x == \"won\" and y""#;
        let t = map(raw, "x == \"won\" and y", ScalarStyle::DoubleQuoted);
        assert_eq!(&raw[t[11] as usize..t[11] as usize + 3], "and");
    }

    #[test]
    fn literal_block() {
        let raw = "a +\n    b\n";
        let t = map(raw, "a +\nb\n", ScalarStyle::Literal);
        assert_eq!(&raw[t[4] as usize..t[4] as usize + 1], "b");
    }
}
