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
    /// `table[i]` is the file offset of value byte `i`; one extra entry for the end.
    table: Option<Vec<u32>>,
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
        let table = (0..=value.len())
            .map(|i| u32::try_from(start + i).unwrap_or(u32::MAX))
            .collect();
        Rebase {
            file,
            whole: Span::new(file, start, start + value.len()),
            table: Some(table),
        }
    }

    /// Aligns `value` with the raw text of a scalar found at `raw_span` of `file_text`.
    pub fn for_scalar(file_text: &str, raw_span: Span, value: &str, style: ScalarStyle) -> Rebase {
        let raw = file_text.get(raw_span.range()).unwrap_or("");
        let table = align(raw, value, style)
            .map(|t| t.into_iter().map(|o| raw_span.start.saturating_add(o)).collect());
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
                let s = t.get(start).copied().unwrap_or(self.whole.end);
                // The end maps through the last character, so trailing folded
                // whitespace is not swallowed.
                let e = if end > start {
                    t.get(end - 1).map(|&o| o + 1).unwrap_or(self.whole.end).max(s)
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

/// Raw offset (relative to the scalar's raw start) of every value byte, plus the end.
fn align(raw: &str, value: &str, style: ScalarStyle) -> Option<Vec<u32>> {
    let raw_b = raw.as_bytes();
    let mut j = match style {
        ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => 1,
        _ => 0,
    };
    let mut table = Vec::with_capacity(value.len() + 1);
    let push = |table: &mut Vec<u32>, j: usize, n: usize| {
        for k in 0..n {
            table.push(u32::try_from(j + k).unwrap_or(u32::MAX));
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
                push(&mut table, j, n);
                j += len;
                break;
            }
            if style == ScalarStyle::SingleQuoted && rest.starts_with("''") && c == '\'' {
                push(&mut table, j, n);
                j += 2;
                break;
            }
            if rest.starts_with(c) {
                push(&mut table, j, n);
                j += n;
                break;
            }
            if c == ' ' || c == '\n' {
                // A folded line break: the value has one space where the file
                // has a line break and indentation.
                if rest.starts_with(['\n', '\r', ' ', '\t']) {
                    push(&mut table, j, n);
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
    table.push(u32::try_from(j).unwrap_or(u32::MAX));
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
        align(raw, value, style).unwrap()
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
