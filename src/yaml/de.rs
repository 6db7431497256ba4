//! A serde `Deserializer` over [`Node`] that records problems instead of
//! giving up at the first one.
//!
//! Structural problems the deserializer can see for itself are recorded and
//! deserialization carries on with a neutral value, so one pass finds them
//! all: unknown fields (checked against the `FIELDS` list serde derive passes
//! to `deserialize_struct`, so no `deny_unknown_fields` is needed), duplicate
//! keys, a scalar of the wrong type, an unsupported enum value. Errors raised
//! by a type's own `Deserialize` code (a bad duration, a missing required
//! field) cannot be recovered from inside serde; they are recorded once, at
//! the deepest node they came from, and end that document.

use std::cell::RefCell;
use std::fmt;

use serde::de::{self, DeserializeOwned, DeserializeSeed, IntoDeserializer, Visitor};

use super::node::{Loc, Node, PathSeg, Scalar, Value, format_path};

/// One problem found in a document, with where it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Problem {
    pub loc: Loc,
    /// `spec.template.spec.containers[0].image`; empty for the document root.
    pub path: String,
    pub message: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

/// Deserializes `node` into `T`. Any problem at all makes this an `Err` with
/// every problem that was found, in document order.
pub fn from_node<T: DeserializeOwned>(node: &Node) -> Result<T, Vec<Problem>> {
    let cx = Cx::default();
    let result = T::deserialize(De { node, cx: &cx });
    let mut problems = cx.problems.into_inner();
    match result {
        Ok(value) if problems.is_empty() => Ok(value),
        Ok(_) => Err(problems),
        Err(e) => {
            if !e.recorded {
                problems.push(Problem {
                    loc: node.loc,
                    path: String::new(),
                    message: e.message,
                });
            }
            problems.sort_by_key(|p| p.loc);
            Err(problems)
        }
    }
}

#[derive(Default)]
struct Cx {
    problems: RefCell<Vec<Problem>>,
    path: RefCell<Vec<PathSeg>>,
}

impl Cx {
    fn record(&self, loc: Loc, message: String) {
        let path = format_path(&self.path.borrow());
        self.problems
            .borrow_mut()
            .push(Problem { loc, path, message });
    }

    fn with_seg<T>(&self, seg: PathSeg, f: impl FnOnce() -> T) -> T {
        self.path.borrow_mut().push(seg);
        let out = f();
        self.path.borrow_mut().pop();
        out
    }
}

/// The error type threaded through serde. `recorded` means it is already in
/// the problem list and only needs to unwind.
#[derive(Debug)]
pub struct DeError {
    message: String,
    recorded: bool,
}

impl DeError {
    fn recorded() -> Self {
        DeError {
            message: String::new(),
            recorded: true,
        }
    }
}

impl fmt::Display for DeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: fmt::Display>(msg: T) -> Self {
        DeError {
            message: msg.to_string(),
            recorded: false,
        }
    }
}

#[derive(Clone, Copy)]
struct De<'a> {
    node: &'a Node,
    cx: &'a Cx,
}

static EMPTY_ENTRIES: [(Node, Node); 0] = [];
static EMPTY_ITEMS: [Node; 0] = [];

impl<'a> De<'a> {
    /// Records an error a visitor raised, at this node, unless it already is.
    fn guard<T>(&self, result: Result<T, DeError>) -> Result<T, DeError> {
        result.map_err(|e| {
            if !e.recorded {
                self.cx.record(self.node.loc, e.message);
            }
            DeError::recorded()
        })
    }

    fn mismatch(&self, expected: &str) {
        self.cx.record(
            self.node.loc,
            format!("expected {expected}, got {}", self.node.describe()),
        );
    }

    fn int(&self, min: i128, max: i128, type_name: &str) -> i128 {
        match self.node.value {
            Value::Scalar(Scalar::Int(i)) => {
                let i = i128::from(i);
                if i < min || i > max {
                    self.cx.record(
                        self.node.loc,
                        format!("value {i} is out of range for {type_name}"),
                    );
                    0
                } else {
                    i
                }
            }
            _ => {
                self.mismatch("integer");
                0
            }
        }
    }

    fn map_access(&self, fields: Option<&'static [&'static str]>) -> MapAcc<'a> {
        let entries: &'a [(Node, Node)] = match &self.node.value {
            Value::Map(entries) => entries,
            _ => &EMPTY_ENTRIES,
        };
        MapAcc {
            entries,
            pos: 0,
            fields,
            seen: Vec::new(),
            pending: None,
            cx: self.cx,
        }
    }

    fn seq_access(&self) -> SeqAcc<'a> {
        let items: &'a [Node] = match &self.node.value {
            Value::Seq(items) => items,
            _ => &EMPTY_ITEMS,
        };
        SeqAcc {
            items,
            pos: 0,
            cx: self.cx,
        }
    }
}

macro_rules! int_methods {
    ($($method:ident => $visit:ident, $ty:ty, $name:literal;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            let v = self.int(<$ty>::MIN as i128, <$ty>::MAX as i128, $name);
            self.guard(visitor.$visit(v as $ty))
        }
    )*};
}

impl<'de> de::Deserializer<'de> for De<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let result = match &self.node.value {
            Value::Scalar(Scalar::Null) => visitor.visit_unit(),
            Value::Scalar(Scalar::Bool(b)) => visitor.visit_bool(*b),
            Value::Scalar(Scalar::Int(i)) => visitor.visit_i64(*i),
            Value::Scalar(Scalar::Float(f)) => visitor.visit_f64(*f),
            Value::Scalar(Scalar::Str(s)) => visitor.visit_str(s),
            Value::Seq(_) => visitor.visit_seq(self.seq_access()),
            Value::Map(_) => visitor.visit_map(self.map_access(None)),
        };
        self.guard(result)
    }

    fn deserialize_bool<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let b = match self.node.value {
            Value::Scalar(Scalar::Bool(b)) => b,
            _ => {
                self.mismatch("boolean");
                false
            }
        };
        self.guard(visitor.visit_bool(b))
    }

    int_methods! {
        deserialize_i8 => visit_i8, i8, "int8";
        deserialize_i16 => visit_i16, i16, "int16";
        deserialize_i32 => visit_i32, i32, "int32";
        deserialize_i64 => visit_i64, i64, "int64";
        deserialize_u8 => visit_u8, u8, "uint8";
        deserialize_u16 => visit_u16, u16, "uint16";
        deserialize_u32 => visit_u32, u32, "uint32";
        deserialize_u64 => visit_u64, u64, "uint64";
    }

    fn deserialize_f32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_f64(visitor)
    }

    fn deserialize_f64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        let f = match self.node.value {
            Value::Scalar(Scalar::Int(i)) => i as f64,
            Value::Scalar(Scalar::Float(f)) => f,
            _ => {
                self.mismatch("number");
                0.0
            }
        };
        self.guard(visitor.visit_f64(f))
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        match &self.node.value {
            Value::Scalar(Scalar::Str(s)) => self.guard(visitor.visit_str(s)),
            _ => {
                let hint = if matches!(self.node.value, Value::Scalar(_)) {
                    " (quote it to make it a string)"
                } else {
                    ""
                };
                self.cx.record(
                    self.node.loc,
                    format!("expected string, got {}{hint}", self.node.describe()),
                );
                self.guard(visitor.visit_str(""))
            }
        }
    }

    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if self.node.is_null() {
            self.guard(visitor.visit_none())
        } else {
            visitor.visit_some(self)
        }
    }

    fn deserialize_unit<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if !self.node.is_null() {
            self.mismatch("null");
        }
        self.guard(visitor.visit_unit())
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if !matches!(self.node.value, Value::Seq(_)) && !self.node.is_null() {
            self.mismatch("array");
        }
        self.guard(visitor.visit_seq(self.seq_access()))
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_map<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if !matches!(self.node.value, Value::Map(_)) && !self.node.is_null() {
            self.mismatch("object");
        }
        self.guard(visitor.visit_map(self.map_access(None)))
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if !matches!(self.node.value, Value::Map(_)) && !self.node.is_null() {
            self.mismatch("object");
        }
        self.guard(visitor.visit_map(self.map_access(Some(fields))))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        let (tag, content): (String, Option<&Node>) = match &self.node.value {
            Value::Scalar(Scalar::Str(s)) => (s.clone(), None),
            Value::Map(entries) if entries.len() == 1 => {
                let (k, v) = &entries[0];
                (
                    k.as_key().map(|k| k.into_owned()).unwrap_or_default(),
                    Some(v),
                )
            }
            _ => {
                self.cx.record(
                    self.node.loc,
                    format!(
                        "expected one of {}, got {}",
                        quoted_list(variants),
                        self.node.describe()
                    ),
                );
                (
                    variants.first().copied().unwrap_or_default().to_string(),
                    None,
                )
            }
        };
        let tag = if variants.contains(&tag.as_str()) {
            tag
        } else {
            self.cx.record(
                self.node.loc,
                format!(
                    "Unsupported value: {tag:?}: supported values: {}",
                    quoted_list(variants)
                ),
            );
            variants.first().copied().unwrap_or_default().to_string()
        };
        let access = EnumAcc {
            tag,
            content,
            loc: self.node.loc,
            cx: self.cx,
        };
        self.guard(visitor.visit_enum(access))
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_str(visitor)
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_unit()
    }
}

fn quoted_list(items: &[&str]) -> String {
    items
        .iter()
        .map(|v| format!("{v:?}"))
        .collect::<Vec<_>>()
        .join(", ")
}

struct MapAcc<'a> {
    entries: &'a [(Node, Node)],
    pos: usize,
    fields: Option<&'static [&'static str]>,
    seen: Vec<(String, u32)>,
    pending: Option<(String, &'a Node)>,
    cx: &'a Cx,
}

impl<'de> de::MapAccess<'de> for MapAcc<'_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        while let Some((key_node, value)) = self.entries.get(self.pos) {
            self.pos += 1;
            let Some(key) = key_node.as_key().map(|k| k.into_owned()) else {
                self.cx
                    .record(key_node.loc, "mapping keys must be strings".to_string());
                continue;
            };
            if let Some((_, first_line)) = self.seen.iter().find(|(k, _)| *k == key) {
                let message =
                    format!("key {key:?} already set in map (first set on line {first_line})");
                self.cx.with_seg(PathSeg::Key(key.clone()), || {
                    self.cx.record(key_node.loc, message)
                });
                continue;
            }
            self.seen.push((key.clone(), key_node.loc.line));
            if let Some(fields) = self.fields
                && !fields.contains(&key.as_str())
            {
                let message = match suggest(&key, fields) {
                    Some(s) => format!("unknown field {key:?} (did you mean {s:?}?)"),
                    None => format!("unknown field {key:?}"),
                };
                self.cx.with_seg(PathSeg::Key(key.clone()), || {
                    self.cx.record(key_node.loc, message)
                });
                continue;
            }
            let out = seed.deserialize(KeyDe { text: &key })?;
            self.pending = Some((key, value));
            return Ok(Some(out));
        }
        Ok(None)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let Some((key, node)) = self.pending.take() else {
            return Err(de::Error::custom("value requested before key"));
        };
        let cx = self.cx;
        cx.with_seg(PathSeg::Key(key), || {
            let de = De { node, cx };
            let result = seed.deserialize(de);
            de.guard(result)
        })
    }
}

struct SeqAcc<'a> {
    items: &'a [Node],
    pos: usize,
    cx: &'a Cx,
}

impl<'de> de::SeqAccess<'de> for SeqAcc<'_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        let Some(node) = self.items.get(self.pos) else {
            return Ok(None);
        };
        let index = self.pos;
        self.pos += 1;
        let cx = self.cx;
        cx.with_seg(PathSeg::Index(index), || {
            let de = De { node, cx };
            let result = seed.deserialize(de);
            de.guard(result).map(Some)
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len() - self.pos)
    }
}

struct EnumAcc<'a> {
    tag: String,
    content: Option<&'a Node>,
    loc: Loc,
    cx: &'a Cx,
}

impl<'de, 'a> de::EnumAccess<'de> for EnumAcc<'a> {
    type Error = DeError;
    type Variant = VariantAcc<'a>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, VariantAcc<'a>), DeError> {
        let value = seed.deserialize(KeyDe { text: &self.tag })?;
        Ok((
            value,
            VariantAcc {
                tag: self.tag,
                content: self.content,
                loc: self.loc,
                cx: self.cx,
            },
        ))
    }
}

struct VariantAcc<'a> {
    tag: String,
    content: Option<&'a Node>,
    loc: Loc,
    cx: &'a Cx,
}

impl<'a> VariantAcc<'a> {
    /// Runs `f` on the variant's content with the variant name on the path.
    fn with_content<T>(
        self,
        what: &str,
        f: impl FnOnce(De<'a>) -> Result<T, DeError>,
    ) -> Result<T, DeError> {
        let cx = self.cx;
        match self.content {
            Some(node) => cx.with_seg(PathSeg::Key(self.tag), || f(De { node, cx })),
            None => {
                cx.record(self.loc, format!("{:?} needs {what}", self.tag));
                Err(DeError::recorded())
            }
        }
    }
}

impl<'de> de::VariantAccess<'de> for VariantAcc<'_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        if let Some(node) = self.content
            && !node.is_null()
        {
            self.cx.record(
                node.loc,
                format!("{:?} takes no value, got {}", self.tag, node.describe()),
            );
        }
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        self.with_content("a value", |de| {
            let result = seed.deserialize(de);
            de.guard(result)
        })
    }

    fn tuple_variant<V: Visitor<'de>>(self, _len: usize, visitor: V) -> Result<V::Value, DeError> {
        self.with_content("an array", |de| {
            de::Deserializer::deserialize_seq(de, visitor)
        })
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.with_content("an object", |de| {
            de::Deserializer::deserialize_struct(de, "", fields, visitor)
        })
    }
}

/// Deserializes a mapping key. Keys are strings in JSON; integer-keyed maps
/// (Istio's `portLevelMtls: {8080: …}`) parse the text.
struct KeyDe<'k> {
    text: &'k str,
}

macro_rules! key_int_methods {
    ($($method:ident => $visit:ident, $ty:ty;)*) => {$(
        fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
            match self.text.parse::<$ty>() {
                Ok(v) => visitor.$visit(v),
                Err(_) => Err(de::Error::custom(format!("key {:?} is not a valid {}", self.text, stringify!($ty)))),
            }
        }
    )*};
}

impl<'de> de::Deserializer<'de> for KeyDe<'_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        visitor.visit_str(self.text)
    }

    key_int_methods! {
        deserialize_i8 => visit_i8, i8;
        deserialize_i16 => visit_i16, i16;
        deserialize_i32 => visit_i32, i32;
        deserialize_i64 => visit_i64, i64;
        deserialize_u8 => visit_u8, u8;
        deserialize_u16 => visit_u16, u16;
        deserialize_u32 => visit_u32, u32;
        deserialize_u64 => visit_u64, u64;
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_enum(self.text.into_deserializer())
    }

    serde::forward_to_deserialize_any! {
        bool f32 f64 char str string bytes byte_buf option unit unit_struct
        newtype_struct seq tuple tuple_struct map struct identifier ignored_any
    }
}

/// The closest of `fields` to `key`, if one is close enough to be a likely
/// typo (case-insensitive edit distance).
pub fn suggest(key: &str, fields: &[&str]) -> Option<String> {
    fields
        .iter()
        .map(|f| (edit_distance(&key.to_lowercase(), &f.to_lowercase()), *f))
        .filter(|(d, f)| *d <= 2.max(f.len() / 5))
        .min_by_key(|(d, _)| *d)
        .map(|(_, f)| f.to_string())
}

fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.iter().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse_documents;
    use serde::Deserialize;
    use std::collections::BTreeMap;

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(default, rename_all = "camelCase")]
    struct Spec {
        replicas: Option<i32>,
        image_pull_policy: Option<String>,
        labels: BTreeMap<String, String>,
        ports: Vec<Port>,
        mode: Option<Mode>,
        port_level: BTreeMap<u32, String>,
    }

    #[derive(Debug, Deserialize, PartialEq, Default)]
    #[serde(default)]
    struct Port {
        port: u16,
        name: String,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    enum Mode {
        #[serde(rename = "STRICT")]
        Strict,
        #[serde(rename = "PERMISSIVE")]
        Permissive,
    }

    fn problems(text: &str) -> Vec<String> {
        let (docs, err) = parse_documents(text);
        assert!(err.is_none(), "{err:?}");
        match from_node::<Spec>(&docs[0].root) {
            Ok(_) => vec![],
            Err(ps) => ps.iter().map(|p| format!("{}: {p}", p.loc.line)).collect(),
        }
    }

    #[test]
    fn a_clean_document_deserializes() {
        let (docs, _) = parse_documents(
            "replicas: 2\nlabels: {app: x, version: \"1\"}\nports:\n- {port: 80, name: http}\nmode: STRICT\nportLevel: {8080: a}\n",
        );
        let spec: Spec = from_node(&docs[0].root).unwrap();
        assert_eq!(spec.replicas, Some(2));
        assert_eq!(spec.ports[0].port, 80);
        assert_eq!(spec.mode, Some(Mode::Strict));
        assert_eq!(spec.port_level.get(&8080).map(String::as_str), Some("a"));
    }

    #[test]
    fn every_structural_problem_is_reported_with_its_line() {
        let text = "replicas: two\nimagePullPolicyy: Always\nlabels:\n  version: 1\nports:\n- port: 70000\n  nme: http\nmode: STRICTT\n";
        assert_eq!(
            problems(text),
            vec![
                "1: replicas: expected integer, got string \"two\"",
                "2: imagePullPolicyy: unknown field \"imagePullPolicyy\" (did you mean \"imagePullPolicy\"?)",
                "4: labels.version: expected string, got integer 1 (quote it to make it a string)",
                "6: ports[0].port: value 70000 is out of range for uint16",
                "7: ports[0].nme: unknown field \"nme\" (did you mean \"name\"?)",
                "8: mode: Unsupported value: \"STRICTT\": supported values: \"STRICT\", \"PERMISSIVE\"",
            ]
        );
    }

    #[test]
    fn duplicate_keys_are_reported() {
        assert_eq!(
            problems("replicas: 1\nreplicas: 2\n"),
            vec!["2: replicas: key \"replicas\" already set in map (first set on line 1)"]
        );
    }

    #[test]
    fn wrong_shapes_are_reported_not_panicked_on() {
        assert_eq!(
            problems("ports: 80\nlabels: [a]\n"),
            vec![
                "1: ports: expected array, got integer 80",
                "2: labels: expected object, got array"
            ]
        );
        let (docs, _) = parse_documents("- 1\n- 2\n");
        let err = from_node::<Spec>(&docs[0].root).unwrap_err();
        assert_eq!(err[0].message, "expected object, got array");
    }

    #[derive(Debug, Deserialize)]
    struct Strict {
        #[allow(dead_code)]
        name: String,
    }

    #[test]
    fn errors_from_serde_itself_are_located_and_end_the_document() {
        let (docs, _) = parse_documents("other: 1\n");
        let err = from_node::<Strict>(&docs[0].root).unwrap_err();
        let text: Vec<String> = err.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec!["other: unknown field \"other\"", "missing field `name`"]
        );
    }
}
