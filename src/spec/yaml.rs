//! YAML text → a tree of spanned nodes. The only module that touches the
//! YAML library.
//!
//! We read parser *events* (granit-parser, the parser under serde-saphyr)
//! rather than deserialising into structs: events carry each scalar's style
//! and raw byte range, which rebasing expression spans needs, and building
//! our own tree lets the loader report every shape error at once instead of
//! stopping at the first. The budgets below stop alias bombs and deep nesting.
//!
//! One liberty is taken with YAML: an unquoted expression in a flow mapping
//! runs to the `,` or `}` outside its brackets and quotes, so that
//! `{where: lead_source in ["web", "event"]}` and `{measure: rolling(x, 2)}`
//! read as written (see [`expression_end`]).

use std::collections::HashMap;
use std::ops::Range;

use granit_parser::{Event, Parser, ScalarStyle as YStyle, StructureStyle};

use crate::diagnostic::Diagnostic;
use crate::span::{FileId, Span};
use crate::syntax::ScalarStyle;

/// Deepest nesting of mappings and sequences.
pub const MAX_DEPTH: usize = 64;
/// Most nodes a file may expand to, aliases included.
pub const MAX_NODES: usize = 200_000;

#[derive(Clone, Debug)]
pub struct Node {
    pub kind: NodeKind,
    pub span: Span,
}

#[derive(Clone, Debug)]
pub enum NodeKind {
    Scalar { value: String, style: ScalarStyle },
    Seq(Vec<Node>),
    Map(Vec<(Node, Node)>),
}

impl Node {
    /// What the node is, for "expected X, found Y" messages.
    pub fn describe(&self) -> &'static str {
        match &self.kind {
            NodeKind::Seq(_) => "a list",
            NodeKind::Map(_) => "a mapping",
            NodeKind::Scalar { value, style } => {
                if *style != ScalarStyle::Plain {
                    "a string"
                } else if is_null(value) {
                    "nothing (null)"
                } else if value == "true" || value == "false" {
                    "a boolean"
                } else if value.parse::<f64>().is_ok() {
                    "a number"
                } else {
                    "a string"
                }
            }
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(&self.kind, NodeKind::Scalar { value, style: ScalarStyle::Plain } if is_null(value))
    }

    pub fn as_scalar(&self) -> Option<(&str, ScalarStyle)> {
        match &self.kind {
            NodeKind::Scalar { value, style } => Some((value, *style)),
            _ => None,
        }
    }

    fn size(&self) -> usize {
        match &self.kind {
            NodeKind::Scalar { .. } => 1,
            NodeKind::Seq(items) => 1 + items.iter().map(Node::size).sum::<usize>(),
            NodeKind::Map(entries) => 1 + entries.iter().map(|(k, v)| k.size() + v.size()).sum::<usize>(),
        }
    }
}

fn is_null(value: &str) -> bool {
    matches!(value, "" | "~" | "null" | "Null" | "NULL")
}

enum Frame {
    Seq {
        items: Vec<Node>,
        start: usize,
        anchor: usize,
    },
    Map {
        entries: Vec<(Node, Node)>,
        key: Option<Node>,
        start: usize,
        anchor: usize,
        /// Written `{…}`.
        flow: bool,
    },
}

/// Most readings of one file while finding its expressions in flow
/// mappings (usually two: one finds the first, the second reads them all).
const MAX_READINGS: usize = 1_000;

/// Parses one file. `Ok(None)` for a file with no document (empty or only comments).
pub fn parse(file: FileId, text: &str) -> Result<Option<Node>, Diagnostic> {
    // The first expression YAML cuts short is found by reading the file;
    // the next reading has it masked, with every other value that looks
    // alike. Guesses that turn out not to be values of flow mappings (text
    // in a quoted string, say) are dropped and the file read again.
    let mut cuts: Vec<Range<usize>> = Vec::new();
    // A value YAML cannot read at all (`uri: ${WAREHOUSE_URI}` in `{…}`:
    // a brace in a plain value) is a syntax error, not a value cut short:
    // the file is read once more with every likely value masked, and if
    // that fails too the first reading's error is the one to show.
    let mut first_error: Option<Diagnostic> = None;
    for _ in 0..MAX_READINGS {
        let masked = masked(text, &cuts);
        let parsed = match parse_masked(file, text, &masked, &cuts) {
            Ok(parsed) => parsed,
            Err(e) if first_error.is_none() && cuts.is_empty() => {
                cuts = likely_cuts(text);
                if cuts.is_empty() {
                    return Err(e);
                }
                first_error = Some(e);
                continue;
            }
            Err(e) => return Err(first_error.unwrap_or(e)),
        };
        match parsed {
            Parsed::Tree(root, unused) if unused.is_empty() => return Ok(root),
            Parsed::Tree(_, unused) => cuts.retain(|c| !unused.contains(c)),
            Parsed::Cut(cut) => {
                if cuts.is_empty() {
                    cuts = likely_cuts(text);
                }
                cuts.retain(|c| c.end <= cut.start || c.start >= cut.end);
                cuts.push(cut);
                cuts.sort_by_key(|c| c.start);
            }
        }
    }
    Err(yaml_syntax(
        Span::new(file, 0, 0),
        "this file's unquoted expressions in `{…}` could not be told apart",
    )
    .help("quote the expressions with `,` or brackets in `{…}` mappings"))
}

/// What one reading of a file found: its tree and the masked ranges no
/// value turned out to be, or an expression YAML cut short (its whole
/// extent in the file).
enum Parsed {
    Tree(Option<Node>, Vec<Range<usize>>),
    Cut(Range<usize>),
}

/// Unquoted values after `{` or `,` and a key whose extent as an
/// expression holds what YAML would end them at: guesses at the values
/// YAML cuts short, checked by the reading that masks them.
fn likely_cuts(text: &str) -> Vec<Range<usize>> {
    let bytes = text.as_bytes();
    let mut out: Vec<Range<usize>> = Vec::new();
    for (i, &b) in bytes.iter().enumerate() {
        if !(b == b'{' || b == b',') || out.last().is_some_and(|c| c.end > i) {
            continue;
        }
        let spaces = |mut j: usize| {
            while bytes.get(j) == Some(&b' ') {
                j += 1;
            }
            j
        };
        let key = spaces(i + 1);
        let mut j = key;
        while bytes
            .get(j)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            j += 1;
        }
        if j == key || bytes.get(j) != Some(&b':') || bytes.get(j + 1) != Some(&b' ') {
            continue;
        }
        let value = spaces(j + 1);
        if bytes
            .get(value)
            .is_none_or(|c| b"\"'[{&*!|>%@`#,}\r\n".contains(c))
        {
            continue;
        }
        if let Some(end) = expression_end(text, value) {
            if bytes[value..end].iter().any(|c| b",[]{}".contains(c)) {
                out.push(value..end);
            }
        }
    }
    out
}

/// `text` with the characters YAML would end an unquoted value at (`,`,
/// brackets, braces, `#`, `:`) blanked inside `cuts`, each byte kept in its
/// place so that every position is the file's.
fn masked(text: &str, cuts: &[Range<usize>]) -> String {
    let mut bytes = text.as_bytes().to_vec();
    for cut in cuts {
        for b in bytes.get_mut(cut.clone()).into_iter().flatten() {
            if b",[]{}#:".contains(b) {
                *b = b'_';
            }
        }
    }
    // Only ASCII bytes were replaced, by ASCII, so the text is still UTF-8.
    String::from_utf8(bytes).unwrap_or_else(|_| text.to_string())
}

/// Where an unquoted value of a flow mapping that starts at `start` ends
/// when read as an expression: before the `,`, `}` or `]` outside its
/// brackets and quotes, or a comment, on its line (`None`: its brackets or
/// quotes are not closed on the line). Strict YAML ends it at the first
/// `,` or bracket; expressions need both (`in ["a", "b"]`, `round(x, 2)`).
fn expression_end(text: &str, start: usize) -> Option<usize> {
    let bytes = text.as_bytes();
    let (mut depth, mut quote, mut end) = (0usize, None::<u8>, start);
    let mut variables = 0usize;
    let mut i = start;
    while let Some(&b) = bytes.get(i) {
        match quote {
            _ if b == b'\n' || b == b'\r' => break,
            Some(q) => {
                if b == b'\\' && q != b'`' {
                    i += 1;
                } else if b == q {
                    quote = None;
                }
            }
            None => match b {
                b'"' | b'\'' | b'`' => quote = Some(b),
                b'(' | b'[' => depth += 1,
                // `${VAR}` and `${VAR:-default}`, from the environment.
                b'{' if i > 0 && bytes[i - 1] == b'$' => variables += 1,
                b'}' if variables > 0 => variables -= 1,
                b')' | b']' if depth > 0 => depth -= 1,
                b',' | b'}' | b']' if depth == 0 => break,
                b'#' if bytes.get(i.wrapping_sub(1)).is_some_and(u8::is_ascii_whitespace) => break,
                _ => {}
            },
        }
        i += 1;
        if quote.is_some() || !b.is_ascii_whitespace() {
            end = i.min(bytes.len());
        }
    }
    (depth == 0 && variables == 0 && quote.is_none()).then_some(end)
}

/// Reads `masked` (the file's `text` with `cuts`, in order, masked), the
/// values at `cuts` taken from `text`.
fn parse_masked(file: FileId, text: &str, masked: &str, cuts: &[Range<usize>]) -> Result<Parsed, Diagnostic> {
    let options = granit_parser::options! {
        flow_nesting_limit: MAX_DEPTH,
        block_nesting_limit: MAX_DEPTH,
    };
    let mut parser = Parser::new_from_str_with_options(masked, options);
    let mut used = vec![false; cuts.len()];
    let cut_at = |span: &Range<usize>| {
        let i = cuts.partition_point(|c| c.start < span.start);
        cuts.get(i).filter(|c| *c == span).map(|_| i)
    };
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut nodes = 0usize;
    let mut root: Option<Node> = None;
    let mut documents = 0;
    let offset = |m: &granit_parser::Marker| m.byte_offset().unwrap_or_else(|| char_to_byte(text, m.index()));

    while let Some(event) = parser.next_event() {
        let (event, yspan) = event.map_err(|e| {
            let at = offset(e.marker());
            // The library marks the byte after a tab it refuses: mark the tab.
            let tab = e.to_string().contains("tab") && at > 0 && text.as_bytes().get(at - 1) == Some(&b'\t');
            let span = match tab {
                true => Span::new(file, at - 1, at),
                false => Span::new(file, at, at),
            };
            yaml_syntax(span, &e.to_string())
        })?;
        let span = Span::new(file, offset(&yspan.start), offset(&yspan.end));
        let done: Option<Node> = match event {
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd => None,
            Event::DocumentStart(..) => {
                documents += 1;
                if documents > 1 {
                    return Err(Diagnostic::error(
                        "kpi::yaml_multiple_documents",
                        "a spec file holds one YAML document",
                    )
                    .at(span, "a second document starts here")
                    .help("split the documents into separate files"));
                }
                None
            }
            Event::Alias(id) => {
                let Some(node) = anchors.get(&id) else {
                    return Err(yaml_syntax(span, "alias to an unknown anchor"));
                };
                nodes += node.size();
                if nodes > MAX_NODES {
                    return Err(too_large(span));
                }
                Some(node.clone())
            }
            Event::Scalar(value, style, anchor, tag) => {
                if tag.is_some_and(|t| t.handle() != CORE_TAGS) {
                    return Err(local_tag(text, span));
                }
                nodes += 1;
                let value_in_flow = matches!(
                    stack.last(),
                    Some(Frame::Map {
                        flow: true,
                        key: Some(_),
                        ..
                    })
                );
                let (start, end) = (span.start as usize, span.end as usize);
                let flow_value = value_in_flow && style == YStyle::Plain;
                let value = match cut_at(&(start..end)).filter(|_| flow_value) {
                    Some(i) => {
                        used[i] = true;
                        text.get(start..end).map_or(value, std::borrow::Cow::Borrowed)
                    }
                    None => {
                        if let Some(whole) = expression_end(text, start).filter(|&e| flow_value && e > end) {
                            return Ok(Parsed::Cut(start..whole));
                        }
                        value
                    }
                };
                let style = match style {
                    YStyle::Plain => ScalarStyle::Plain,
                    YStyle::SingleQuoted => ScalarStyle::SingleQuoted,
                    YStyle::DoubleQuoted => ScalarStyle::DoubleQuoted,
                    YStyle::Literal => ScalarStyle::Literal,
                    _ => ScalarStyle::Folded,
                };
                let node = Node {
                    kind: NodeKind::Scalar {
                        value: value.into_owned(),
                        style,
                    },
                    span,
                };
                if anchor != 0 {
                    anchors.insert(anchor, node.clone());
                }
                Some(node)
            }
            Event::SequenceStart(_, anchor, _) => {
                nodes += 1;
                push(
                    &mut stack,
                    Frame::Seq {
                        items: Vec::new(),
                        start: span.start as usize,
                        anchor,
                    },
                    span,
                )?;
                None
            }
            Event::MappingStart(structure, anchor, _) => {
                nodes += 1;
                push(
                    &mut stack,
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        start: span.start as usize,
                        anchor,
                        flow: structure == StructureStyle::Flow,
                    },
                    span,
                )?;
                None
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let Some(frame) = stack.pop() else {
                    return Err(yaml_syntax(span, "unbalanced collection"));
                };
                let (kind, start, anchor) = match frame {
                    Frame::Seq { items, start, anchor } => (NodeKind::Seq(items), start, anchor),
                    Frame::Map {
                        entries,
                        start,
                        anchor,
                        ..
                    } => (NodeKind::Map(entries), start, anchor),
                };
                let end = last_end(&kind).max(span.end as usize).max(start);
                let start = first_start(&kind).map_or(start, |s| s.min(start));
                let kind = match kind {
                    NodeKind::Map(entries) => NodeKind::Map(merged(entries)?),
                    other => other,
                };
                let node = Node {
                    kind,
                    span: Span::new(file, start, end),
                };
                if anchor != 0 {
                    anchors.insert(anchor, node.clone());
                }
                Some(node)
            }
            _ => None,
        };
        if nodes > MAX_NODES {
            return Err(too_large(span));
        }
        if let Some(node) = done {
            match stack.last_mut() {
                None => root = Some(node),
                Some(Frame::Seq { items, .. }) => items.push(node),
                Some(Frame::Map { entries, key, .. }) => match key.take() {
                    None => *key = Some(node),
                    Some(k) => entries.push((k, node)),
                },
            }
        }
    }
    let unused = cuts
        .iter()
        .zip(used)
        .filter(|(_, u)| !u)
        .map(|(c, _)| c.clone())
        .collect();
    Ok(Parsed::Tree(root, unused))
}

/// A mapping's entries with its merge keys (`<<: *defaults`, or a list of
/// aliases) replaced by the merged mappings' entries that the mapping does
/// not give itself, in their place; of two merged mappings, the first
/// wins. Each merged entry keeps its place in the file (the anchor's), so
/// a mistake in it is shown where it is written.
fn merged(entries: Vec<(Node, Node)>) -> Result<Vec<(Node, Node)>, Diagnostic> {
    let is_merge = |k: &Node| matches!(k.as_scalar(), Some(("<<", ScalarStyle::Plain)));
    if !entries.iter().any(|(k, _)| is_merge(k)) {
        return Ok(entries);
    }
    let own: Vec<String> = entries
        .iter()
        .filter(|(k, _)| !is_merge(k))
        .filter_map(|(k, _)| k.as_scalar().map(|(v, _)| v.to_string()))
        .collect();
    let mut taken: Vec<String> = Vec::new();
    let mut out = Vec::with_capacity(entries.len());
    for (k, v) in entries {
        if !is_merge(&k) {
            out.push((k, v));
            continue;
        }
        let maps: Vec<Node> = match v.kind {
            NodeKind::Map(_) => vec![v],
            NodeKind::Seq(items) if items.iter().all(|i| matches!(i.kind, NodeKind::Map(_))) => items,
            _ => {
                return Err(Diagnostic::error(
                    "kpi::yaml_syntax",
                    "a merge key `<<` takes a mapping, or a list of mappings",
                )
                .at(k.span, "merges no mapping")
                .help("write `<<: *defaults`, where `&defaults` marks a mapping, or `<<: [*a, *b]`"))
            }
        };
        for map in maps {
            let NodeKind::Map(items) = map.kind else { continue };
            for (mk, mv) in items {
                let name = mk.as_scalar().map(|(n, _)| n.to_string());
                if let Some(name) = name {
                    if own.contains(&name) || taken.contains(&name) {
                        continue;
                    }
                    taken.push(name);
                }
                out.push((mk, mv));
            }
        }
    }
    Ok(out)
}

fn push(stack: &mut Vec<Frame>, frame: Frame, span: Span) -> Result<(), Diagnostic> {
    if stack.len() >= MAX_DEPTH {
        return Err(Diagnostic::error(
            "kpi::yaml_too_deep",
            format!("YAML is nested more than {MAX_DEPTH} levels deep"),
        )
        .at(span, "too deeply nested")
        .help("a spec never needs this depth; check the indentation"));
    }
    stack.push(frame);
    Ok(())
}

fn first_start(kind: &NodeKind) -> Option<usize> {
    match kind {
        NodeKind::Seq(items) => items.first().map(|n| n.span.start as usize),
        NodeKind::Map(entries) => entries.first().map(|(k, _)| k.span.start as usize),
        NodeKind::Scalar { .. } => None,
    }
}

fn last_end(kind: &NodeKind) -> usize {
    match kind {
        NodeKind::Seq(items) => items.last().map_or(0, |n| n.span.end as usize),
        NodeKind::Map(entries) => entries.last().map_or(0, |(_, v)| v.span.end as usize),
        NodeKind::Scalar { .. } => 0,
    }
}

fn char_to_byte(text: &str, chars: usize) -> usize {
    text.char_indices().nth(chars).map_or(text.len(), |(b, _)| b)
}

fn yaml_syntax(span: Span, message: &str) -> Diagnostic {
    // The library appends its own position; ours is in the label.
    let message = match message.find(" at char ").or_else(|| message.find(" at line ")) {
        Some(i) => &message[..i],
        None => message,
    };
    // YAML reserves `@` and `` ` `` at a value's start (and `%` at a
    // line's), which a date literal or a quoted column name may take.
    let said = match message.strip_prefix("unexpected character: `") {
        Some("@'") => "a value cannot start with `@`".to_string(),
        Some("`'") => "a value cannot start with a backtick".to_string(),
        Some("%'") => "a value cannot start with `%`".to_string(),
        _ => message.to_string(),
    };
    Diagnostic::error("kpi::yaml_syntax", format!("YAML syntax error: {said}"))
        .at(span, "here")
        .help(syntax_help(&said))
}

/// What to do about a YAML syntax error, for the mistakes a spec's
/// expressions invite; otherwise a general word.
fn syntax_help(message: &str) -> &'static str {
    if message.contains("tab") {
        "indent with spaces: YAML does not allow tabs for indentation"
    } else if message.contains("trailing content after") && message.contains("quoted scalar") {
        "a value that starts with a quote ends at its closing quote: quote an expression that starts with a text whole, with the other quote (`where: '\"won\" == stage'`)"
    } else if message.contains("unknown anchor") {
        "a value that starts with `*` is a YAML alias: quote a glob (`source: \"*.csv\"`)"
    } else if message.starts_with("a value cannot start with") {
        "YAML keeps `@`, `` ` `` and `%` for itself at the start of a value: quote the expression whole (`where: '`Deal Stage` == \"won\"'`)"
    } else if message.contains("mapping values are not allowed") {
        "a `: ` inside a value starts a key: quote the value whole (`description: 'Note: won only'`); in an expression, compare with `==`"
    } else {
        "fix the YAML; a linter such as yamllint shows the structure"
    }
}

/// The handle of YAML's own tags (`!!str`), which a spec may use.
const CORE_TAGS: &str = "tag:yaml.org,2002:";

/// A value tagged with `!…`: YAML reads `where: ! is_test` as `is_test`,
/// the negation an analyst meant dropped in silence, and `where: !is_test`
/// as no value.
fn local_tag(text: &str, value: Span) -> Diagnostic {
    let start = value.start as usize;
    let line_start = text.get(..start).and_then(|t| t.rfind('\n')).map_or(0, |i| i + 1);
    let bang = text
        .get(line_start..start)
        .and_then(|t| t.rfind('!'))
        .map_or(start, |i| line_start + i);
    let end = (value.end as usize).max(bang + 1);
    let span = Span::new(value.file, bang, end);
    Diagnostic::error(
        "kpi::yaml_syntax",
        "YAML syntax error: `!` starts a YAML tag, which a spec does not use",
    )
    .at(span, "a YAML tag, not a negation")
    .help("negate a condition with `not` (`where: not is_test`); YAML tags (`!include`, `!env`) are not read: quote a value that starts with `!`")
}

fn too_large(span: Span) -> Diagnostic {
    Diagnostic::error(
        "kpi::yaml_too_large",
        format!("YAML expands to more than {MAX_NODES} nodes"),
    )
    .at(span, "expansion stopped here")
    .help("aliases that refer to aliases multiply; write the values out instead")
}

/// The JSON value of a node, plain scalars resolved as YAML 1.2's core
/// schema does (null, booleans, numbers; everything else a string), as
/// editors and schema validators see the file.
pub fn to_json(node: &Node) -> serde_json::Value {
    use serde_json::Value;
    match &node.kind {
        NodeKind::Seq(items) => Value::Array(items.iter().map(to_json).collect()),
        NodeKind::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    (
                        k.as_scalar().map_or_else(String::new, |(s, _)| s.to_string()),
                        to_json(v),
                    )
                })
                .collect(),
        ),
        NodeKind::Scalar { value, style } if *style != ScalarStyle::Plain => Value::String(value.clone()),
        NodeKind::Scalar { value, .. } => match value.as_str() {
            "" | "~" | "null" | "Null" | "NULL" => Value::Null,
            "true" | "True" | "TRUE" => Value::Bool(true),
            "false" | "False" | "FALSE" => Value::Bool(false),
            v => {
                let integer = v.strip_prefix(['-', '+']).unwrap_or(v);
                if !integer.is_empty() && integer.bytes().all(|b| b.is_ascii_digit()) {
                    if let Ok(i) = v.parse::<i64>() {
                        return Value::from(i);
                    }
                }
                let numeric = v.bytes().all(|b| b.is_ascii_digit() || b"+-.eE".contains(&b));
                match v.parse::<f64>() {
                    Ok(f) if numeric && f.is_finite() && v.bytes().any(|b| b.is_ascii_digit()) => {
                        Value::from(f)
                    }
                    _ => Value::String(v.to_string()),
                }
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file as JSON, or the YAML error's message.
    fn json(text: &str) -> Result<serde_json::Value, String> {
        match parse(FileId::default(), text) {
            Ok(root) => Ok(root.as_ref().map_or(serde_json::Value::Null, to_json)),
            Err(d) => Err(d.message),
        }
    }

    #[test]
    fn an_expression_in_a_flow_mapping_runs_to_its_closing_comma() {
        // LANGUAGE.md's own segment, which strict YAML cannot read.
        let v = json("inbound: {where: lead_source in [\"web\", \"referral\"], description: In}\n").unwrap();
        assert_eq!(v["inbound"]["where"], "lead_source in [\"web\", \"referral\"]");
        assert_eq!(v["inbound"]["description"], "In");
        // Strict YAML reads `{measure: rolling(x, 2)}` as two keys.
        let v = json("k: {measure: rolling(x, 2), unit: percent} # note\n").unwrap();
        assert_eq!(
            v["k"],
            serde_json::json!({"measure": "rolling(x, 2)", "unit": "percent"})
        );
        // Quotes hold commas, brackets and braces; escapes stay as written.
        let v = json("k: {where: concat(a, \"}, ]\") == 'x, \\\\' and `b, c` > 1}\n").unwrap();
        assert_eq!(v["k"]["where"], "concat(a, \"}, ]\") == 'x, \\\\' and `b, c` > 1");
        // Several on one line, and a mapping in a list.
        let v = json("- {a: f(x, y), b: g([1, 2])}\n- {a: h(z, w)}\n").unwrap();
        assert_eq!(
            v,
            serde_json::json!([{"a": "f(x, y)", "b": "g([1, 2])"}, {"a": "h(z, w)"}])
        );
        // Text that looks alike in a quoted string is left as written.
        let text = "a: {w: f(x, y)}\nb: \"{w: g(1, 2)}\"\nc: |\n  {w: h(1, 2)}\nd: {w: k(3, 4)}\n";
        let v = json(text).unwrap();
        assert_eq!(v["b"], "{w: g(1, 2)}");
        assert_eq!(v["c"], "{w: h(1, 2)}\n");
        assert_eq!(
            (&v["a"]["w"], &v["d"]["w"]),
            (&"f(x, y)".into(), &"k(3, 4)".into())
        );
        // Thousands of them.
        let text: String = (0..5_000)
            .map(|i| format!("k{i}: {{measure: round(x, {i}), n: {i}}}\n"))
            .collect();
        let v = json(&text).unwrap();
        assert_eq!(
            v["k4999"],
            serde_json::json!({"measure": "round(x, 4999)", "n": 4999})
        );
    }

    /// `${VAR}` in a `{…}` mapping (a connection's `uri`, a source) is a
    /// value: strict YAML stops at its brace with a syntax error. Broken
    /// YAML still shows the first reading's error.
    #[test]
    fn an_environment_variable_in_a_flow_mapping_is_a_value() {
        let v = json("pg: {driver: postgresql, uri: ${WAREHOUSE_URI}}\n").unwrap();
        assert_eq!(
            v["pg"],
            serde_json::json!({"driver": "postgresql", "uri": "${WAREHOUSE_URI}"})
        );
        let v = json("d: {source: ${KPI_DATA:-../data}/deals.csv, time: closed_at}\n").unwrap();
        assert_eq!(v["d"]["source"], "${KPI_DATA:-../data}/deals.csv");
        assert_eq!(v["d"]["time"], "closed_at");
        let v = json("k: {measure: sum(amount where stage in [\"won\"]), note: ${X}}\n").unwrap();
        assert_eq!(v["k"]["measure"], "sum(amount where stage in [\"won\"])");
        assert_eq!(v["k"]["note"], "${X}");
        let broken = json("a: {b: [1, 2}\n").unwrap_err();
        assert!(broken.starts_with("YAML syntax error"), "{broken}");
    }

    #[test]
    fn flow_mappings_yaml_reads_alike_are_untouched() {
        // A comma outside brackets still ends a value; sequences stay lists.
        let v = json("k: {note: hello, world, tags: [a, b], n: 2}\n").unwrap();
        assert_eq!(
            v["k"],
            serde_json::json!({"note": "hello", "world": null, "tags": ["a", "b"], "n": 2})
        );
        let v = json("k: {where: a == 1,\n  b: 2}\n").unwrap();
        assert_eq!(v["k"], serde_json::json!({"where": "a == 1", "b": 2}));
        // Brackets not closed on the line are read as YAML reads them.
        assert!(json("k: {where: x in [\"a\", \"b\"}\n").is_err());
        let v = json("k: {where: f(x, y}\n").unwrap();
        assert_eq!(v["k"], serde_json::json!({"where": "f(x", "y": null}));
    }

    #[test]
    fn merge_keys_bring_the_entries_a_mapping_does_not_give() {
        let text = "a: &money {dataset: deals, unit: currency, measure: sum(amount)}\n\
                    b:\n  <<: *money\n  measure: sum(cost)\n\
                    c:\n  <<: [{unit: count, owner: x}, *money]\n  title: C\n";
        let v = json(text).unwrap();
        assert_eq!(
            v["b"],
            serde_json::json!({"dataset": "deals", "unit": "currency", "measure": "sum(cost)"})
        );
        // Of two merged mappings the first wins; the mapping's own keys win over both.
        assert_eq!(
            v["c"],
            serde_json::json!({"unit": "count", "owner": "x", "dataset": "deals", "measure": "sum(amount)", "title": "C"})
        );
        assert!(json("a: {<<: 3}\n").unwrap_err().contains("merge key"));
        // A quoted `<<` is an ordinary key.
        assert_eq!(json("a: {'<<': 3}\n").unwrap()["a"]["<<"], 3);
    }

    #[test]
    fn an_expression_ends_before_its_comma_comment_or_brace() {
        fn end(t: &str) -> Option<&str> {
            expression_end(t, 0).map(|e| &t[..e])
        }
        assert_eq!(end("f(a, b), c"), Some("f(a, b)"));
        assert_eq!(end("x in [1, 2] }"), Some("x in [1, 2]"));
        assert_eq!(end("a  # c, d"), Some("a"));
        assert_eq!(end("\"a#b\" == x\ny"), Some("\"a#b\" == x"));
        assert_eq!(end("(a, b"), None);
        assert_eq!(end("'a, b"), None);
    }
}
