//! YAML text → a tree of spanned nodes. The only module that touches the
//! YAML library.
//!
//! We read parser *events* (granit-parser, the parser under serde-saphyr)
//! rather than deserialising into structs: events carry each scalar's style
//! and raw byte range, which rebasing expression spans needs, and building
//! our own tree lets the loader report every shape error at once instead of
//! stopping at the first. The budgets below stop alias bombs and deep nesting.

use std::collections::HashMap;

use granit_parser::{Event, Parser, ScalarStyle as YStyle};

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
    },
}

/// Parses one file. `Ok(None)` for a file with no document (empty or only comments).
pub fn parse(file: FileId, text: &str) -> Result<Option<Node>, Diagnostic> {
    let options = granit_parser::options! {
        flow_nesting_limit: MAX_DEPTH,
        block_nesting_limit: MAX_DEPTH,
    };
    let mut parser = Parser::new_from_str_with_options(text, options);
    let mut stack: Vec<Frame> = Vec::new();
    let mut anchors: HashMap<usize, Node> = HashMap::new();
    let mut nodes = 0usize;
    let mut root: Option<Node> = None;
    let mut documents = 0;
    let offset = |m: &granit_parser::Marker| m.byte_offset().unwrap_or_else(|| char_to_byte(text, m.index()));

    while let Some(event) = parser.next_event() {
        let (event, yspan) = event.map_err(|e| {
            let at = offset(e.marker());
            let span = Span::new(file, at, at);
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
            Event::Scalar(value, style, anchor, _) => {
                nodes += 1;
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
            Event::MappingStart(_, anchor, _) => {
                nodes += 1;
                push(
                    &mut stack,
                    Frame::Map {
                        entries: Vec::new(),
                        key: None,
                        start: span.start as usize,
                        anchor,
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
    Ok(root)
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
    Diagnostic::error("kpi::yaml_syntax", format!("YAML syntax error: {message}"))
        .at(span, "here")
        .help("fix the YAML; a linter such as yamllint shows the structure")
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
