//! The located YAML tree and the parser that builds it.
//!
//! Plain scalars are resolved the way `kubectl` (sigs.k8s.io/yaml on top of
//! go-yaml v2, i.e. YAML 1.1 rules) resolves them before the API server sees
//! JSON: `yes`/`no`/`on`/`off` are booleans, `~` and `null` are null, and
//! numbers become numbers. A quoted scalar is always a string. This is why
//! `version: 1` is an integer that a string field rejects, exactly as a real
//! cluster does.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use saphyr_parser::{Event, Parser, ScalarStyle, Span};

/// A position in a source file: 1-based line and column.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord)]
pub struct Loc {
    pub line: u32,
    pub col: u32,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A resolved scalar with the text it was written as.
#[derive(Clone, Debug, PartialEq)]
pub enum Scalar {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
}

#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    /// Keys keep their own nodes so errors about a key point at the key.
    Map(Vec<(Node, Node)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub value: Value,
    pub loc: Loc,
}

/// One document of a multi-document stream.
#[derive(Clone, Debug)]
pub struct Document {
    /// 0-based position in the stream, counting empty documents too, so the
    /// number matches what a person counts between `---` lines.
    pub index: usize,
    pub root: Node,
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct SyntaxError {
    pub loc: Loc,
    pub message: String,
}

impl Node {
    pub fn null(loc: Loc) -> Node {
        Node {
            value: Value::Scalar(Scalar::Null),
            loc,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.value, Value::Scalar(Scalar::Null))
    }

    /// The value under `key` if this node is a mapping that has it.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_key().as_deref() == Some(key))
                .map(|(_, v)| v),
            _ => None,
        }
    }

    /// The string value of a scalar, if it is a string.
    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar(Scalar::Str(s)) => Some(s),
            _ => None,
        }
    }

    /// A scalar as a mapping key: JSON keys are strings, so numbers and
    /// booleans used as keys are stringified as sigs.k8s.io/yaml does.
    pub fn as_key(&self) -> Option<Cow<'_, str>> {
        match &self.value {
            Value::Scalar(Scalar::Str(s)) => Some(Cow::Borrowed(s)),
            Value::Scalar(Scalar::Int(i)) => Some(Cow::Owned(i.to_string())),
            Value::Scalar(Scalar::Float(f)) => Some(Cow::Owned(f.to_string())),
            Value::Scalar(Scalar::Bool(b)) => Some(Cow::Owned(b.to_string())),
            Value::Scalar(Scalar::Null) => Some(Cow::Borrowed("null")),
            _ => None,
        }
    }

    /// The node as JSON, the way sigs.k8s.io/yaml converts a manifest
    /// before the apiserver sees it (keys stringified).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Scalar(Scalar::Null) => J::Null,
            Value::Scalar(Scalar::Bool(b)) => J::Bool(*b),
            Value::Scalar(Scalar::Int(i)) => J::from(*i),
            Value::Scalar(Scalar::Float(f)) => {
                serde_json::Number::from_f64(*f).map_or(J::Null, J::Number)
            }
            Value::Scalar(Scalar::Str(s)) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.as_key().unwrap_or_default().into_owned(), v.to_json()))
                    .collect(),
            ),
        }
    }

    /// A short description for error messages: `string "two"`, `integer 3`,
    /// `array`, `object`.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Scalar(Scalar::Null) => "null".to_string(),
            Value::Scalar(Scalar::Bool(b)) => format!("boolean {b}"),
            Value::Scalar(Scalar::Int(i)) => format!("integer {i}"),
            Value::Scalar(Scalar::Float(f)) => format!("number {f}"),
            Value::Scalar(Scalar::Str(s)) => format!("string {s:?}"),
            Value::Seq(_) => "array".to_string(),
            Value::Map(_) => "object".to_string(),
        }
    }

    /// Follows a path of keys and indices as far as it exists and returns
    /// the location of the deepest node reached, so that a problem found
    /// after deserialization can still be pinned to a line.
    pub fn locate(&self, path: &[PathSeg]) -> Loc {
        let mut node = self;
        for seg in path {
            let next = match (seg, &node.value) {
                (PathSeg::Key(k), Value::Map(entries)) => entries
                    .iter()
                    .find(|(key, _)| key.as_key().as_deref() == Some(k.as_str()))
                    .map(|(_, v)| v),
                (PathSeg::Index(i), Value::Seq(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        node.loc
    }
}

/// One step of a path into a document.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

/// Renders a path as Kubernetes field paths are written: `spec.ports[0].port`.
pub fn format_path(path: &[PathSeg]) -> String {
    let mut out = String::new();
    for seg in path {
        match seg {
            PathSeg::Key(k) => {
                if !out.is_empty() {
                    out.push('.');
                }
                out.push_str(k);
            }
            PathSeg::Index(i) => {
                out.push('[');
                out.push_str(&i.to_string());
                out.push(']');
            }
        }
    }
    out
}

/// Parses a multi-document stream. Documents before a syntax error are
/// returned along with the error; nothing after it can be trusted.
pub fn parse_documents(text: &str) -> (Vec<Document>, Option<SyntaxError>) {
    let mut builder = Builder::default();
    let mut parser = Parser::new_from_str(text);
    loop {
        match parser.next() {
            None => break,
            Some(Ok((event, span))) => {
                if let Err(e) = builder.on_event(event, span) {
                    return (builder.docs, Some(e));
                }
            }
            Some(Err(e)) => {
                let m = e.marker();
                let loc = Loc {
                    line: m.line() as u32,
                    col: m.col() as u32 + 1,
                };
                return (
                    builder.docs,
                    Some(SyntaxError {
                        loc,
                        message: e.info().to_string(),
                    }),
                );
            }
        }
    }
    (builder.docs, None)
}

enum Frame {
    Seq(Node, usize),
    /// A mapping under construction and the key waiting for its value.
    Map(Node, Option<Node>, usize),
}

#[derive(Default)]
struct Builder {
    docs: Vec<Document>,
    stack: Vec<Frame>,
    anchors: BTreeMap<usize, Node>,
    doc_index: usize,
    in_doc: bool,
}

impl Builder {
    fn on_event(&mut self, event: Event<'_>, span: Span) -> Result<(), SyntaxError> {
        let loc = Loc {
            line: span.start.line() as u32,
            col: span.start.col() as u32 + 1,
        };
        match event {
            Event::DocumentStart(_) => {
                self.in_doc = true;
                self.anchors.clear();
            }
            Event::DocumentEnd => {
                if self.in_doc {
                    self.doc_index += 1;
                }
                self.in_doc = false;
            }
            Event::Scalar(text, style, anchor, tag) => {
                let scalar = resolve(&text, style, tag.as_deref().map(tag_name).as_deref(), loc)?;
                let node = Node {
                    value: Value::Scalar(scalar),
                    loc,
                };
                self.complete(node, anchor);
            }
            Event::SequenceStart(anchor, _) => self.stack.push(Frame::Seq(
                Node {
                    value: Value::Seq(Vec::new()),
                    loc,
                },
                anchor,
            )),
            Event::MappingStart(anchor, _) => self.stack.push(Frame::Map(
                Node {
                    value: Value::Map(Vec::new()),
                    loc,
                },
                None,
                anchor,
            )),
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, anchor) = match self.stack.pop() {
                    Some(Frame::Seq(n, a)) | Some(Frame::Map(n, _, a)) => (n, a),
                    None => return Ok(()),
                };
                self.complete(node, anchor);
            }
            Event::Alias(id) => {
                let Some(target) = self.anchors.get(&id).cloned() else {
                    return Err(SyntaxError {
                        loc,
                        message: "unknown anchor".to_string(),
                    });
                };
                self.complete(target, 0);
            }
            Event::StreamStart | Event::StreamEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// Attaches a finished node to its parent, or ends the document.
    fn complete(&mut self, node: Node, anchor: usize) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            Some(Frame::Seq(parent, _)) => {
                if let Value::Seq(items) = &mut parent.value {
                    items.push(node);
                }
            }
            Some(Frame::Map(parent, pending, _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => {
                    if let Value::Map(entries) = &mut parent.value {
                        entries.push((key, node));
                    }
                }
            },
            None => self.docs.push(Document {
                index: self.doc_index,
                root: node,
            }),
        }
    }
}

fn tag_name(tag: &saphyr_parser::Tag) -> String {
    format!("{}{}", tag.handle, tag.suffix)
}

/// Resolves a scalar's type from its style, tag and text.
fn resolve(
    text: &str,
    style: ScalarStyle,
    tag: Option<&str>,
    loc: Loc,
) -> Result<Scalar, SyntaxError> {
    match tag {
        None => {}
        Some("!!str" | "tag:yaml.org,2002:str") => return Ok(Scalar::Str(text.to_string())),
        Some("!!int" | "tag:yaml.org,2002:int") => {
            return parse_int(text).map(Scalar::Int).ok_or_else(|| SyntaxError {
                loc,
                message: format!("cannot decode !!str `{text}` as a !!int"),
            });
        }
        Some("!!float" | "tag:yaml.org,2002:float") => {
            return parse_float(text)
                .map(Scalar::Float)
                .ok_or_else(|| SyntaxError {
                    loc,
                    message: format!("cannot decode !!str `{text}` as a !!float"),
                });
        }
        Some("!!bool" | "tag:yaml.org,2002:bool") => {
            return parse_bool(text)
                .map(Scalar::Bool)
                .ok_or_else(|| SyntaxError {
                    loc,
                    message: format!("cannot decode !!str `{text}` as a !!bool"),
                });
        }
        Some("!!null" | "tag:yaml.org,2002:null") => return Ok(Scalar::Null),
        Some(other) => {
            return Err(SyntaxError {
                loc,
                message: format!("unsupported tag {other}"),
            });
        }
    }
    if style != ScalarStyle::Plain {
        return Ok(Scalar::Str(text.to_string()));
    }
    Ok(resolve_plain(text))
}

/// YAML 1.1 plain-scalar resolution as go-yaml v2 does it.
pub fn resolve_plain(text: &str) -> Scalar {
    if matches!(text, "" | "~" | "null" | "Null" | "NULL") {
        return Scalar::Null;
    }
    if let Some(b) = parse_bool(text) {
        return Scalar::Bool(b);
    }
    if let Some(i) = parse_int(text) {
        return Scalar::Int(i);
    }
    if let Some(f) = parse_float(text) {
        return Scalar::Float(f);
    }
    Scalar::Str(text.to_string())
}

fn parse_bool(text: &str) -> Option<bool> {
    match text {
        "y" | "Y" | "yes" | "Yes" | "YES" | "true" | "True" | "TRUE" | "on" | "On" | "ON" => {
            Some(true)
        }
        "n" | "N" | "no" | "No" | "NO" | "false" | "False" | "FALSE" | "off" | "Off" | "OFF" => {
            Some(false)
        }
        _ => None,
    }
}

fn parse_int(text: &str) -> Option<i64> {
    let t = text.replace('_', "");
    let (neg, digits) = match t.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, t.strip_prefix('+').unwrap_or(&t)),
    };
    if digits.is_empty() {
        return None;
    }
    let magnitude = if let Some(hex) = digits.strip_prefix("0x") {
        i64::from_str_radix(hex, 16).ok()?
    } else if let Some(oct) = digits.strip_prefix("0o") {
        i64::from_str_radix(oct, 8).ok()?
    } else if let Some(bin) = digits.strip_prefix("0b") {
        i64::from_str_radix(bin, 2).ok()?
    } else if digits.len() > 1
        && digits.starts_with('0')
        && digits.bytes().all(|b| b.is_ascii_digit())
    {
        // YAML 1.1: a leading zero means octal.
        i64::from_str_radix(&digits[1..], 8).ok()?
    } else if digits.bytes().all(|b| b.is_ascii_digit()) {
        digits.parse().ok()?
    } else {
        return None;
    };
    Some(if neg { -magnitude } else { magnitude })
}

fn parse_float(text: &str) -> Option<f64> {
    match text {
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return Some(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return Some(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return Some(f64::NAN),
        _ => {}
    }
    let t = text.replace('_', "");
    let body = t.strip_prefix(['-', '+']).unwrap_or(&t);
    let mut chars = body.chars().peekable();
    let mut digits = 0;
    while chars.peek().is_some_and(char::is_ascii_digit) {
        chars.next();
        digits += 1;
    }
    if chars.peek() == Some(&'.') {
        chars.next();
        while chars.peek().is_some_and(char::is_ascii_digit) {
            chars.next();
            digits += 1;
        }
    }
    if digits == 0 {
        return None;
    }
    if matches!(chars.peek(), Some('e' | 'E')) {
        chars.next();
        if matches!(chars.peek(), Some('-' | '+')) {
            chars.next();
        }
        let mut exp_digits = 0;
        while chars.peek().is_some_and(char::is_ascii_digit) {
            chars.next();
            exp_digits += 1;
        }
        if exp_digits == 0 {
            return None;
        }
    }
    if chars.next().is_some() {
        return None;
    }
    t.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("two", Scalar::Str("two".into()))]
    #[test_case("3", Scalar::Int(3))]
    #[test_case("-0x1f", Scalar::Int(-31))]
    #[test_case("010", Scalar::Int(8); "yaml 1.1 octal")]
    #[test_case("1.5", Scalar::Float(1.5))]
    #[test_case("1e3", Scalar::Float(1000.0))]
    #[test_case("yes", Scalar::Bool(true))]
    #[test_case("off", Scalar::Bool(false))]
    #[test_case("~", Scalar::Null)]
    #[test_case("v1", Scalar::Str("v1".into()))]
    #[test_case("1.2.3", Scalar::Str("1.2.3".into()))]
    #[test_case("10s", Scalar::Str("10s".into()))]
    fn resolves_plain_scalars_like_kubectl(text: &str, want: Scalar) {
        assert_eq!(resolve_plain(text), want);
    }

    #[test]
    fn quoted_scalars_are_strings() {
        let (docs, err) = parse_documents("a: \"3\"\nb: '3'\nc: 3\n");
        assert!(err.is_none());
        let root = &docs[0].root;
        assert_eq!(root.get("a").unwrap().as_str(), Some("3"));
        assert_eq!(root.get("b").unwrap().as_str(), Some("3"));
        assert_eq!(root.get("c").unwrap().value, Value::Scalar(Scalar::Int(3)));
    }

    #[test]
    fn every_node_knows_its_line() {
        let text = "kind: Deployment\nspec:\n  replicas: 2\n  template:\n    spec:\n      containers:\n      - name: app\n        image: x\n";
        let (docs, _) = parse_documents(text);
        let root = &docs[0].root;
        let path = [
            PathSeg::Key("spec".into()),
            PathSeg::Key("template".into()),
            PathSeg::Key("spec".into()),
            PathSeg::Key("containers".into()),
            PathSeg::Index(0),
            PathSeg::Key("image".into()),
        ];
        assert_eq!(root.locate(&path), Loc { line: 8, col: 16 });
        assert_eq!(format_path(&path), "spec.template.spec.containers[0].image");
        // A path that leaves the tree stops at the deepest node that exists.
        let missing = [PathSeg::Key("spec".into()), PathSeg::Key("selector".into())];
        assert_eq!(root.locate(&missing).line, 3);
    }

    #[test]
    fn documents_are_numbered_as_written_including_empty_ones() {
        let (docs, err) = parse_documents("a: 1\n---\n---\nb: 2\n");
        assert!(err.is_none());
        let indices: Vec<_> = docs.iter().map(|d| d.index).collect();
        // The empty middle document yields a null root at index 1.
        assert_eq!(indices, vec![0, 1, 2]);
        assert!(docs[1].root.is_null());
    }

    #[test]
    fn bad_indentation_is_a_located_syntax_error() {
        let text = "spec:\n  replicas: 1\n template: x\n";
        let (_, err) = parse_documents(text);
        let err = err.expect("syntax error");
        assert_eq!(err.loc.line, 3, "{err:?}");
    }

    #[test]
    fn anchors_and_aliases_expand() {
        let (docs, err) = parse_documents("a: &x {k: v}\nb: *x\n");
        assert!(err.is_none());
        assert_eq!(
            docs[0].root.get("b").unwrap().get("k").unwrap().as_str(),
            Some("v")
        );
    }
}
