//! Scalars: text, keywords, numbers, dates, expressions, and the number
//! and change syntaxes of targets.

use super::*;

impl Reader<'_> {
    pub(super) fn string(&mut self, node: &Node) -> Option<Text> {
        match &node.kind {
            NodeKind::Scalar { value, .. } if !node.is_null() => Some(Spanned::new(value.clone(), node.span)),
            _ => {
                self.push(diag::wrong_type(node.span, "a string", node.describe()));
                None
            }
        }
    }

    /// One name where a list may be written by habit: `help` says why
    /// there is one and how to say more.
    pub(super) fn one_name(&mut self, node: &Node, help: &str) -> Option<Text> {
        if let NodeKind::Seq(_) = node.kind {
            self.push(diag::wrong_type(node.span, "a string", node.describe()).help(help));
            return None;
        }
        self.string(node)
    }

    pub(super) fn strings(&mut self, node: &Node) -> Vec<Text> {
        match &node.kind {
            NodeKind::Seq(items) => items.iter().filter_map(|i| self.string(i)).collect(),
            NodeKind::Scalar { value, .. } if !node.is_null() => value
                .split(',')
                .map(|s| Spanned::new(s.trim().to_string(), node.span))
                .filter(|s| !s.value.is_empty())
                .collect(),
            _ => {
                self.push(diag::wrong_type(node.span, "a list of names", node.describe()));
                Vec::new()
            }
        }
    }

    pub(super) fn keyword<K: Keyword + PartialEq>(&mut self, node: &Node) -> Option<Spanned<K>> {
        let text = self.string(node)?;
        match K::parse(&text.value) {
            Some(k) => Some(Spanned::new(k, node.span)),
            None => {
                let allowed: Vec<&str> = K::ALL.iter().map(|(k, _)| *k).collect();
                self.push(diag::invalid_value(node.span, &text.value, K::WHAT, &allowed));
                None
            }
        }
    }

    pub(super) fn number(&mut self, node: &Node, what: &str) -> Option<Spanned<f64>> {
        let text = self.string(node)?;
        match parse_number(&text.value) {
            Some(n) => Some(Spanned::new(n, node.span)),
            None => {
                self.push(diag::invalid_number(node.span, &text.value, what));
                None
            }
        }
    }

    pub(super) fn uint(
        &mut self,
        node: &Node,
        what: &str,
        range: std::ops::RangeInclusive<u32>,
    ) -> Option<Spanned<u32>> {
        let text = self.string(node)?;
        match text.value.parse::<u32>() {
            Ok(n) if range.contains(&n) => Some(Spanned::new(n, node.span)),
            _ => {
                self.push(diag::invalid_number(node.span, &text.value, what));
                None
            }
        }
    }

    pub(super) fn date(&mut self, node: &Node) -> Option<Spanned<Date>> {
        let text = self.string(node)?;
        match Date::parse(text.value.trim()) {
            Some(d) => Some(Spanned::new(d, node.span)),
            None => {
                self.push(diag::invalid_date(node.span, &text.value));
                None
            }
        }
    }

    pub(super) fn expr(&mut self, node: &Node) -> Option<ExprField> {
        let (value, style) = match &node.kind {
            NodeKind::Scalar { value, style } => (value.clone(), *style),
            _ => {
                self.push(diag::wrong_type(node.span, "an expression", node.describe()));
                return None;
            }
        };
        let rebase = Rebase::for_scalar(self.text, node.span, &value, style);
        let expr = match syntax::parse(&value, &rebase) {
            Ok(e) => Some(e),
            Err(d) => {
                self.push(d);
                None
            }
        };
        Some(ExprField {
            text: value,
            span: node.span,
            expr,
        })
    }

    pub(super) fn boolean(&mut self, node: &Node) -> Option<Spanned<bool>> {
        let text = self.string(node)?;
        match text.value.as_str() {
            "true" => Some(Spanned::new(true, node.span)),
            "false" => Some(Spanned::new(false, node.span)),
            other => {
                self.push(diag::invalid_value(
                    node.span,
                    other,
                    "boolean",
                    &["true", "false"],
                ));
                None
            }
        }
    }
}

pub fn is_valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// `1_200_000`, `2e6`, `-3.5`, `15%` (0.15).
pub fn parse_number(text: &str) -> Option<f64> {
    let t = text.trim();
    let (t, scale) = match t.strip_suffix('%') {
        Some(rest) => (rest.trim_end(), 0.01),
        None => (t, 1.0),
    };
    let clean: String = t.chars().filter(|&c| c != '_').collect();
    if clean.is_empty() || clean.starts_with('_') {
        return None;
    }
    clean
        .parse::<f64>()
        .ok()
        .filter(|v| v.is_finite())
        .map(|v| v * scale)
}

/// `+15%`, `-10%`, `+5pp`, `-2`.
pub fn parse_change(text: &str) -> Option<Change> {
    let t = text.trim();
    let sign = match t.chars().next()? {
        '+' => 1.0,
        '-' => -1.0,
        _ => return None,
    };
    let body = t.get(1..)?.trim();
    let (kind, number) = if let Some(n) = body.strip_suffix("pp") {
        (ChangeKind::Points, n)
    } else if let Some(n) = body.strip_suffix('%') {
        (ChangeKind::Relative, n)
    } else {
        (ChangeKind::Absolute, body)
    };
    let v = parse_number(number.trim())?;
    let amount = match kind {
        ChangeKind::Absolute => sign * v,
        _ => sign * v / 100.0,
    };
    Some(Change { amount, kind })
}

/// YAML's plain scalars take their type from their text; quoted ones are strings.
pub(super) fn scalar_value(value: &str, style: ScalarStyle) -> Value {
    if style != ScalarStyle::Plain {
        return Value::String(value.to_string());
    }
    match value {
        "" | "~" | "null" | "Null" | "NULL" => Value::Null,
        "true" => Value::Bool(true),
        "false" => Value::Bool(false),
        // YAML's own non-finite floats: a test's rows may hold them as a
        // Parquet file does, to be read as nulls (LANGUAGE.md §3).
        ".nan" | ".NaN" | ".NAN" => Value::Number(f64::NAN),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => Value::Number(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => Value::Number(f64::NEG_INFINITY),
        _ => match parse_number(value) {
            Some(n) if !value.ends_with('%') => Value::Number(n),
            _ => Value::String(value.to_string()),
        },
    }
}

impl Reader<'_> {
    /// `{amount: 1,000}`: in braces YAML reads `amount: 1`, then `000` as
    /// a key of its own (a `what`), without a value. Each such number is said once,
    /// and the keys its digits made are marked to be left out.
    pub(super) fn numbers_split_by_commas(&mut self, entries: &[(Node, Node)], what: &str) -> Vec<bool> {
        let mut split = vec![false; entries.len()];
        for (i, (_, number)) in entries.iter().enumerate() {
            let a_number = number
                .as_scalar()
                .is_some_and(|(n, style)| matches!(scalar_value(n, style), Value::Number(_)));
            if !a_number || split[i] {
                continue;
            }
            let mut end = number.span;
            for (j, (k, v)) in entries.iter().enumerate().skip(i + 1) {
                let digits = k.as_scalar().is_some_and(|(key, style)| {
                    style == ScalarStyle::Plain
                        && key.split('.').next().is_some_and(|whole| whole.len() == 3)
                        && key.bytes().all(|b| b.is_ascii_digit() || b == b'.')
                });
                let between = self
                    .text
                    .get(end.end as usize..k.span.start as usize)
                    .map(str::trim);
                if !(digits && v.is_null() && between == Some(",")) {
                    break;
                }
                split[j] = true;
                end = k.span;
            }
            if end != number.span {
                let span = number.span.to(end);
                let written = self.text.get(span.range()).unwrap_or_default();
                self.push(diag::number_split_by_comma(span, written, what));
            }
        }
        split
    }
}
