//! A cheap scan before the grammar runs: it finds unterminated strings,
//! unbalanced brackets and runaway nesting with precise positions, so the
//! recursive-descent parser never sees input that could exhaust the stack.

use super::diagnostics as diag;
use super::rebase::Rebase;
use crate::diagnostic::Diagnostic;

pub fn scan(text: &str, rebase: &Rebase, max_depth: usize) -> Result<(), Diagnostic> {
    let b = text.as_bytes();
    let mut stack: Vec<(u8, usize)> = Vec::new();
    let mut prefix_run = 0usize;
    // Whether the previous token ends an operand (so a `-` after it is binary).
    let mut after_operand = false;
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        match c {
            b' ' | b'\t' | b'\r' | b'\n' => {
                i += 1;
                continue;
            }
            b'"' | b'\'' => {
                let start = i;
                i += 1;
                loop {
                    match b.get(i) {
                        None => return Err(diag::unterminated_string(rebase.span(start, start + 1))),
                        Some(&q) if q == c => break,
                        Some(b'\\') => {
                            let esc = text.get(i..).and_then(|r| r.chars().nth(1));
                            match esc {
                                Some('"' | '\'' | '\\' | 'n' | 't' | 'r') => i += 2,
                                Some(e) => {
                                    let end = i + 1 + e.len_utf8();
                                    let shown = text.get(i..end).unwrap_or("\\");
                                    return Err(diag::unknown_escape(rebase.span(i, end), shown));
                                }
                                None => return Err(diag::unterminated_string(rebase.span(start, start + 1))),
                            }
                        }
                        Some(_) => i += 1,
                    }
                }
                i += 1;
                after_operand = true;
                prefix_run = 0;
                continue;
            }
            b'`' => {
                let start = i;
                match text.get(i + 1..).and_then(|r| r.find('`')) {
                    Some(n) => i += n + 2,
                    None => return Err(diag::unterminated_string(rebase.span(start, start + 1))),
                }
                after_operand = true;
                prefix_run = 0;
                continue;
            }
            b'(' | b'[' => {
                stack.push((c, i));
                if stack.len() + prefix_run > max_depth {
                    return Err(diag::too_deep(rebase.span(i, i + 1), max_depth));
                }
                after_operand = false;
            }
            b')' | b']' => {
                let open = if c == b')' { b'(' } else { b'[' };
                match stack.pop() {
                    None => return Err(diag::unexpected_closing(rebase.span(i, i + 1), c as char)),
                    Some((o, at)) if o != open => {
                        return Err(diag::mismatched_delimiter(
                            rebase.span(i, i + 1),
                            rebase.span(at, at + 1),
                            o as char,
                            c as char,
                        ))
                    }
                    Some(_) => {}
                }
                after_operand = true;
                prefix_run = 0;
            }
            b'-' if !after_operand => {
                prefix_run += 1;
                if stack.len() + prefix_run > max_depth {
                    return Err(diag::too_deep(rebase.span(i, i + 1), max_depth));
                }
            }
            _ if c.is_ascii_alphanumeric() || c == b'_' || c == b'.' || c == b'@' => {
                let start = i;
                while i < b.len()
                    && (b[i].is_ascii_alphanumeric() || matches!(b[i], b'_' | b'.' | b'@' | b':'))
                {
                    i += 1;
                }
                let word = text.get(start..i).unwrap_or("");
                match word {
                    "not" if !after_operand => {
                        prefix_run += 1;
                        if stack.len() + prefix_run > max_depth {
                            return Err(diag::too_deep(rebase.span(start, i), max_depth));
                        }
                    }
                    "if" => after_operand = false,
                    "and" | "or" | "not" | "in" | "between" | "is" | "then" | "elif" | "else" | "per"
                    | "where" => {
                        after_operand = false;
                        prefix_run = 0;
                    }
                    _ => {
                        after_operand = true;
                        prefix_run = 0;
                    }
                }
                continue;
            }
            b'%' if after_operand => {}
            _ => {
                after_operand = false;
                prefix_run = 0;
            }
        }
        i += 1;
    }
    if let Some((o, at)) = stack.pop() {
        let close = if o == b'(' { ')' } else { ']' };
        return Err(diag::unclosed_delimiter(
            rebase.span(at, at + 1),
            o as char,
            close,
        ));
    }
    Ok(())
}
