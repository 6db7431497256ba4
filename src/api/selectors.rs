//! Label and field selectors as the apiserver parses and applies them.
//!
//! A list or watch carries `labelSelector` and `fieldSelector` query
//! parameters. The apiserver turns the first into a `labels.Selector` with
//! `labels.Parse`: a lexer and recursive-descent parser over `a=b`, `a==b`,
//! `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, joined by
//! commas (AND), whose keys must be qualified names and values label values.
//! The second it turns into a `fields.Selector` with `fields.ParseSelector`:
//! comma-separated `field=value`, `field==value` or `field!=value` terms whose
//! values escape `\`, `,` and `=` with a backslash. A malformed selector is a
//! 400 whose message is the parser's error text, reproduced here word for
//! word. Objects store selectors too (`Deployment.spec.selector`,
//! `Service`-like `matchLabels`); `metav1.LabelSelectorAsSelector` turns those
//! into the same requirements.
//!
//! Sources, in kubernetes (staging repository `k8s.io/apimachinery`, tag
//! v0.32.9):
//! - `pkg/labels/selector.go` (lexer, parser, `NewRequirement`, matching);
//! - `pkg/selection/operator.go` (the operators);
//! - `pkg/util/validation/validation.go` (`IsQualifiedName`,
//!   `IsValidLabelValue`, `IsDNS1123Subdomain` and their messages) and
//!   `pkg/util/validation/field/{errors,path}.go` (how a field error prints);
//! - `pkg/util/errors/errors.go` (how several errors print together);
//! - `pkg/apis/meta/v1/helpers.go` (`LabelSelectorAsSelector`);
//! - `pkg/fields/selector.go` (`ParseSelector`, `UnescapeValue`).
//!
//! Which fields a kind supports (`field label not supported: X`) and the
//! field values of special cases (an Event's `source` is
//! `source.component`) are the caller's: [`FieldSelector::fields`] lists
//! the fields used.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

/// Why a selector was refused, with the apiserver's message so a client
/// sees the error a real cluster would give.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SelectorError {
    /// A label selector that does not parse or holds an invalid key or
    /// value: `unable to parse requirement: ...`, `found 'x', expected: ...`,
    /// or a `NewRequirement` field error for a stored selector.
    #[error("{0}")]
    Label(String),
    /// A `matchExpressions` operator other than In, NotIn, Exists and
    /// DoesNotExist.
    #[error("{} is not a valid label selector operator", crate::go::quote(.0))]
    Operator(String),
    /// A stored label selector whose JSON has the wrong shape (Go's JSON
    /// decoding would already refuse it).
    #[error("invalid label selector: {0}")]
    Shape(String),
    /// A field selector term with no `=`, `==` or `!=`.
    #[error("invalid selector: '{selector}'; can't understand '{term}'")]
    FieldTerm {
        /// The whole selector, as the apiserver quotes it.
        selector: String,
        /// The term at fault.
        term: String,
    },
    /// A backslash not followed by `\`, `,` or `=`.
    #[error("invalid field selector: invalid escape sequence: {0}")]
    FieldEscape(String),
    /// An unescaped `,` or `=` in a field selector value; Go prints the
    /// character as its code point.
    #[error("invalid field selector: unescaped character in value: {}", u32::from(*.0))]
    FieldUnescaped(char),
}

/// A selection operator (`selection.Operator`); `==` is kept as `=`, which
/// it means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    Equals,
    NotEquals,
    In,
    NotIn,
    Exists,
    DoesNotExist,
    GreaterThan,
    LessThan,
}

/// One requirement of a label selector: all must hold.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Requirement {
    key: String,
    op: Op,
    values: Vec<String>,
}

impl Requirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        let listed = value.is_some_and(|v| self.values.contains(v));
        let number = |s: &str| s.parse::<i64>().ok();
        let compare = || Some((number(value?)?, number(self.values.first()?)?));
        match self.op {
            Op::Equals | Op::In => listed,
            Op::NotEquals | Op::NotIn => !listed,
            Op::Exists => value.is_some(),
            Op::DoesNotExist => value.is_none(),
            Op::GreaterThan => compare().is_some_and(|(l, r)| l > r),
            Op::LessThan => compare().is_some_and(|(l, r)| l < r),
        }
    }
}

/// A parsed label selector: the requirements of a `labelSelector` query or
/// of an object's `metav1.LabelSelector`, ready to match label sets.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
    /// A null stored selector selects nothing (`labels.Nothing()`).
    nothing: bool,
}

impl LabelSelector {
    /// Parses the `labelSelector` query parameter syntax: `a=b`, `a==b`,
    /// `a!=b`, `a in (x,y)`, `a notin (x)`, `a`, `!a`, `a>1`, `a<1`, comma =
    /// AND, whitespace tolerant; keys must be qualified names and values label
    /// values (at most 63 characters), with `labels.Parse`'s error texts.
    /// The empty string selects everything. Decoding the URL query is the
    /// caller's job (`app%3Dreviews` arrives here as `app=reviews`).
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut parser = Parser {
            tokens: lex(s),
            pos: 0,
        };
        let mut requirements = parser.parse().map_err(SelectorError::Label)?;
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            nothing: false,
        })
    }

    /// Builds one from a `metav1.LabelSelector` JSON object
    /// (`{"matchLabels":{...},"matchExpressions":[{"key","operator","values"}]}`)
    /// as `LabelSelectorAsSelector` does, so stored selectors match like
    /// query ones: `{}` selects everything, `null` nothing; an operator other
    /// than In, NotIn, Exists and DoesNotExist is an error.
    pub fn from_json(v: &Value) -> Result<Self, SelectorError> {
        let shape = |what: &str| SelectorError::Shape(what.to_string());
        let object = match v {
            Value::Null => return Ok(LabelSelector::nothing()),
            Value::Object(o) => o,
            _ => return Err(shape("a label selector must be an object")),
        };
        let mut requirements = Vec::new();
        match object.get("matchLabels") {
            None | Some(Value::Null) => {}
            Some(Value::Object(labels)) => {
                for (key, value) in labels {
                    let value = value
                        .as_str()
                        .ok_or_else(|| shape("matchLabels values must be strings"))?;
                    requirements.push(new_requirement(key, Op::Equals, vec![value.to_string()])?);
                }
            }
            Some(_) => return Err(shape("matchLabels must be an object")),
        }
        let expressions = match object.get("matchExpressions") {
            None | Some(Value::Null) => &Vec::new(),
            Some(Value::Array(expressions)) => expressions,
            Some(_) => return Err(shape("matchExpressions must be a list")),
        };
        for expression in expressions {
            let text = |name: &str| match expression.get(name) {
                None | Some(Value::Null) => Ok(""),
                Some(Value::String(s)) => Ok(s.as_str()),
                Some(_) => Err(shape("matchExpressions key and operator must be strings")),
            };
            let op = match text("operator")? {
                "In" => Op::In,
                "NotIn" => Op::NotIn,
                "Exists" => Op::Exists,
                "DoesNotExist" => Op::DoesNotExist,
                other => return Err(SelectorError::Operator(other.to_string())),
            };
            let values = match expression.get("values") {
                None | Some(Value::Null) => Vec::new(),
                Some(Value::Array(values)) => values
                    .iter()
                    .map(|v| v.as_str().map(str::to_string))
                    .collect::<Option<Vec<_>>>()
                    .ok_or_else(|| shape("matchExpressions values must be strings"))?,
                Some(_) => return Err(shape("matchExpressions values must be a list")),
            };
            requirements.push(new_requirement(text("key")?, op, values)?);
        }
        requirements.sort_by(|a, b| a.key.cmp(&b.key));
        Ok(LabelSelector {
            requirements,
            nothing: false,
        })
    }

    /// The selector a null stored selector means: it matches no labels.
    fn nothing() -> Self {
        LabelSelector {
            requirements: Vec::new(),
            nothing: true,
        }
    }

    /// Whether an object with these labels is selected: every requirement
    /// holds (a missing key satisfies `!=`, `notin` and `!`, and fails the
    /// rest).
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        !self.nothing && self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Whether the selector selects everything, so a caller can skip
    /// matching (`Selector.Empty()`; a null stored selector is not empty).
    pub fn is_empty(&self) -> bool {
        !self.nothing && self.requirements.is_empty()
    }
}

/// A lexer token of the label selector syntax.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Tok {
    End,
    Ident(String),
    In,
    NotIn,
    Equals,
    DoubleEquals,
    NotEquals,
    Not,
    GreaterThan,
    LessThan,
    Open,
    Close,
    Comma,
}

impl Tok {
    /// The literal an error message quotes.
    fn literal(&self) -> &str {
        match self {
            Tok::End => "",
            Tok::Ident(s) => s,
            Tok::In => "in",
            Tok::NotIn => "notin",
            Tok::Equals => "=",
            Tok::DoubleEquals => "==",
            Tok::NotEquals => "!=",
            Tok::Not => "!",
            Tok::GreaterThan => ">",
            Tok::LessThan => "<",
            Tok::Open => "(",
            Tok::Close => ")",
            Tok::Comma => ",",
        }
    }
}

fn is_whitespace(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\n')
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

/// Splits a label selector into tokens, ending with [`Tok::End`]. As in Go,
/// where reading past the end and reading a NUL byte both give 0, a NUL where
/// a token could start ends the input, and a NUL right after a token is
/// swallowed.
fn lex(s: &str) -> Vec<Tok> {
    let mut chars = s.chars().peekable();
    let mut tokens = Vec::new();
    loop {
        while chars.next_if(|&c| is_whitespace(c)).is_some() {}
        let tok = match chars.next() {
            None | Some('\0') => break,
            Some('=') if chars.next_if_eq(&'=').is_some() => Tok::DoubleEquals,
            Some('=') => Tok::Equals,
            Some('!') if chars.next_if_eq(&'=').is_some() => Tok::NotEquals,
            Some('!') => Tok::Not,
            Some('(') => Tok::Open,
            Some(')') => Tok::Close,
            Some(',') => Tok::Comma,
            Some('>') => Tok::GreaterThan,
            Some('<') => Tok::LessThan,
            Some(first) => {
                let mut id = String::from(first);
                while let Some(c) =
                    chars.next_if(|&c| c != '\0' && !is_whitespace(c) && !is_special(c))
                {
                    id.push(c);
                }
                match id.as_str() {
                    "in" => Tok::In,
                    "notin" => Tok::NotIn,
                    _ => Tok::Ident(id),
                }
            }
        };
        chars.next_if_eq(&'\0');
        tokens.push(tok);
    }
    tokens.push(Tok::End);
    tokens
}

/// The recursive-descent parser of `labels.Parse`, over the token list.
struct Parser {
    tokens: Vec<Tok>,
    pos: usize,
}

/// Where a token is read: among values `in` and `notin` are identifiers
/// (`x in (in)`), only after a key are they operators.
#[derive(Clone, Copy, PartialEq)]
enum Context {
    KeyAndOperator,
    Values,
}

impl Parser {
    fn peek(&self, context: Context) -> Tok {
        let tok = self.tokens.get(self.pos).cloned().unwrap_or(Tok::End);
        match tok {
            Tok::In | Tok::NotIn if context == Context::Values => Tok::Ident(tok.literal().into()),
            tok => tok,
        }
    }

    fn next(&mut self, context: Context) -> Tok {
        let tok = self.peek(context);
        self.pos += 1;
        tok
    }

    fn parse(&mut self) -> Result<Vec<Requirement>, String> {
        let mut requirements = Vec::new();
        loop {
            match self.peek(Context::Values) {
                Tok::Ident(_) | Tok::Not => {
                    let r = self
                        .requirement()
                        .map_err(|e| format!("unable to parse requirement: {e}"))?;
                    requirements.push(r);
                    match self.next(Context::Values) {
                        Tok::End => return Ok(requirements),
                        Tok::Comma => match self.peek(Context::Values) {
                            Tok::Ident(_) | Tok::Not => {}
                            t => {
                                let lit = t.literal();
                                return Err(format!(
                                    "found '{lit}', expected: identifier after ','"
                                ));
                            }
                        },
                        t => {
                            let lit = t.literal();
                            return Err(format!("found '{lit}', expected: ',' or 'end of string'"));
                        }
                    }
                }
                Tok::End => return Ok(requirements),
                t => {
                    let lit = t.literal();
                    return Err(format!(
                        "found '{lit}', expected: !, identifier, or 'end of string'"
                    ));
                }
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let (key, unary) = self.key_and_inferred_operator()?;
        if let Some(op) = unary {
            return new_requirement(&key, op, Vec::new()).map_err(|e| e.to_string());
        }
        let op = match self.next(Context::KeyAndOperator) {
            Tok::In => Op::In,
            Tok::NotIn => Op::NotIn,
            Tok::Equals | Tok::DoubleEquals => Op::Equals,
            Tok::NotEquals => Op::NotEquals,
            Tok::GreaterThan => Op::GreaterThan,
            Tok::LessThan => Op::LessThan,
            t => {
                let lit = t.literal();
                return Err(format!(
                    "found '{lit}', expected: in, notin, =, ==, !=, gt, lt"
                ));
            }
        };
        let values = match op {
            Op::In | Op::NotIn => self.value_set()?,
            _ => self.exact_value()?,
        };
        new_requirement(&key, op, values.into_iter().collect()).map_err(|e| e.to_string())
    }

    /// Reads `[!] KEY` and, when nothing but `,` or the end follows, the
    /// unary operator it implies. A `!key` followed by anything else stops
    /// here too, leaving the rest to fail as the next token.
    fn key_and_inferred_operator(&mut self) -> Result<(String, Option<Op>), String> {
        let mut tok = self.next(Context::Values);
        let negated = tok == Tok::Not;
        if negated {
            tok = self.next(Context::Values);
        }
        let Tok::Ident(key) = tok else {
            return Err(format!("found '{}', expected: identifier", tok.literal()));
        };
        let errors = qualified_name(&key);
        if !errors.is_empty() {
            return Err(format!(
                "<nil>: Invalid value: {}: {}",
                crate::go::quote(&key),
                errors.join("; ")
            ));
        }
        let alone = matches!(self.peek(Context::Values), Tok::End | Tok::Comma);
        let op = match (negated, alone) {
            (true, _) => Some(Op::DoesNotExist),
            (false, true) => Some(Op::Exists),
            (false, false) => None,
        };
        Ok((key, op))
    }

    /// `( v1, v2, ... )`; empty entries (`(,a)`, `()`) are the empty value.
    fn value_set(&mut self) -> Result<BTreeSet<String>, String> {
        let open = self.next(Context::Values);
        if open != Tok::Open {
            return Err(format!("found '{}' expected: '('", open.literal()));
        }
        let first = self.peek(Context::Values);
        match first {
            Tok::Ident(_) | Tok::Comma => {
                let set = self.identifiers()?;
                if self.next(Context::Values) != Tok::Close {
                    return Err(format!("found '{}', expected: ')'", first.literal()));
                }
                Ok(set)
            }
            Tok::Close => {
                self.pos += 1;
                Ok(BTreeSet::from([String::new()]))
            }
            t => Err(format!(
                "found '{}', expected: ',', ')' or identifier",
                t.literal()
            )),
        }
    }

    fn identifiers(&mut self) -> Result<BTreeSet<String>, String> {
        let mut set = BTreeSet::new();
        loop {
            match self.next(Context::Values) {
                Tok::Ident(value) => {
                    set.insert(value);
                    match self.peek(Context::Values) {
                        Tok::Comma => {}
                        Tok::Close => return Ok(set),
                        t => return Err(format!("found '{}', expected: ',' or ')'", t.literal())),
                    }
                }
                Tok::Comma => {
                    if set.is_empty() {
                        set.insert(String::new());
                    }
                    match self.peek(Context::Values) {
                        Tok::Close => {
                            set.insert(String::new());
                            return Ok(set);
                        }
                        Tok::Comma => {
                            self.pos += 1;
                            set.insert(String::new());
                        }
                        _ => {}
                    }
                }
                t => {
                    return Err(format!(
                        "found '{}', expected: ',', or identifier",
                        t.literal()
                    ));
                }
            }
        }
    }

    /// The value after `=`, `==`, `!=`, `>` or `<`; nothing at all is the
    /// empty value (`a=` selects `a` set to "").
    fn exact_value(&mut self) -> Result<BTreeSet<String>, String> {
        match self.peek(Context::Values) {
            Tok::End | Tok::Comma => return Ok(BTreeSet::from([String::new()])),
            _ => {}
        }
        match self.next(Context::Values) {
            Tok::Ident(value) => Ok(BTreeSet::from([value])),
            t => Err(format!("found '{}', expected: identifier", t.literal())),
        }
    }
}

/// `labels.NewRequirement`: checks the key, the number of values for the
/// operator and each value, printing each failure as a `field.Error` and
/// several of them as an aggregate (`[e1, e2]`).
fn new_requirement(key: &str, op: Op, values: Vec<String>) -> Result<Requirement, SelectorError> {
    let mut errors = Vec::new();
    let key_errors = qualified_name(key);
    if !key_errors.is_empty() {
        errors.push(format!(
            "key: Invalid value: {}: {}",
            crate::go::quote(key),
            key_errors.join("; ")
        ));
    }
    let count = |detail: &str| format!("values: Invalid value: {}: {detail}", go_slice(&values));
    match op {
        Op::In | Op::NotIn if values.is_empty() => {
            errors.push(count(
                "for 'in', 'notin' operators, values set can't be empty",
            ));
        }
        Op::Equals | Op::NotEquals if values.len() != 1 => {
            errors.push(count("exact-match compatibility requires one single value"));
        }
        Op::Exists | Op::DoesNotExist if !values.is_empty() => {
            errors.push(count(
                "values set must be empty for exists and does not exist",
            ));
        }
        Op::GreaterThan | Op::LessThan => {
            if values.len() != 1 {
                errors.push(count(
                    "for 'Gt', 'Lt' operators, exactly one value is required",
                ));
            }
            for (i, v) in values.iter().enumerate() {
                if v.parse::<i64>().is_err() {
                    let v = crate::go::quote(v);
                    let detail = "for 'Gt', 'Lt' operators, the value must be an integer";
                    errors.push(format!("values[{i}]: Invalid value: {v}: {detail}"));
                }
            }
        }
        _ => {}
    }
    for (i, v) in values.iter().enumerate() {
        let value_errors = label_value(v);
        if !value_errors.is_empty() {
            let (v, detail) = (crate::go::quote(v), value_errors.join("; "));
            errors.push(format!("values[{i}][{key}]: Invalid value: {v}: {detail}"));
        }
    }
    let mut unique: Vec<String> = Vec::new();
    for e in errors {
        if !unique.contains(&e) {
            unique.push(e);
        }
    }
    match unique.as_slice() {
        [] => Ok(Requirement {
            key: key.to_string(),
            op,
            values,
        }),
        [one] => Err(SelectorError::Label(one.clone())),
        many => Err(SelectorError::Label(format!("[{}]", many.join(", ")))),
    }
}

const QUALIFIED_NAME_FMT: &str = "([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]";
const QUALIFIED_NAME_MSG: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const LABEL_VALUE_FMT: &str = "(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const DNS1123_SUBDOMAIN_FMT: &str =
    "[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";

/// `validation.RegexError`: the message, examples and the regex.
fn regex_error(msg: &str, fmt: &str, examples: &[&str]) -> String {
    let examples: String = examples
        .iter()
        .map(|e| format!("'{e}', "))
        .collect::<Vec<_>>()
        .join(" or ");
    format!("{msg} (e.g. {examples}regex used for validation is '{fmt}')")
}

/// Matches `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` (or `[a-z0-9]` and
/// `[-a-z0-9]` when `lower`, for DNS labels).
fn is_name(s: &str, inner: fn(char) -> bool, lower: bool) -> bool {
    let edge = |c: char| {
        c.is_ascii_digit()
            || if lower {
                c.is_ascii_lowercase()
            } else {
                c.is_ascii_alphabetic()
            }
    };
    let (first, last) = (s.chars().next(), s.chars().next_back());
    first.is_some_and(edge) && last.is_some_and(edge) && s.chars().all(|c| edge(c) || inner(c))
}

fn qualified_char(c: char) -> bool {
    matches!(c, '-' | '_' | '.')
}

/// `validation.IsQualifiedName`: `[prefix/]name`, the prefix a DNS
/// subdomain, the name at most 63 characters.
fn qualified_name(value: &str) -> Vec<String> {
    let examples = ["MyName", "my.name", "123-abc"];
    let mut errors = Vec::new();
    let parts: Vec<&str> = value.split('/').collect();
    let name = match parts.as_slice() {
        [name] => name,
        [prefix, name] => {
            if prefix.is_empty() {
                errors.push("prefix part must be non-empty".to_string());
            } else {
                if prefix.len() > 253 {
                    errors.push("prefix part must be no more than 253 characters".to_string());
                }
                if !prefix.split('.').all(|l| is_name(l, |c| c == '-', true)) {
                    let e = regex_error(
                        DNS1123_SUBDOMAIN_MSG,
                        DNS1123_SUBDOMAIN_FMT,
                        &["example.com"],
                    );
                    errors.push(format!("prefix part {e}"));
                }
            }
            name
        }
        _ => {
            let e = regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &examples);
            let tail = "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')";
            return vec![format!("a qualified name {e} {tail}")];
        }
    };
    if name.is_empty() {
        errors.push("name part must be non-empty".to_string());
    } else if name.len() > 63 {
        errors.push("name part must be no more than 63 characters".to_string());
    }
    if !is_name(name, qualified_char, false) {
        errors.push(format!(
            "name part {}",
            regex_error(QUALIFIED_NAME_MSG, QUALIFIED_NAME_FMT, &examples)
        ));
    }
    errors
}

/// `validation.IsValidLabelValue`: empty, or a name of at most 63
/// characters.
fn label_value(value: &str) -> Vec<String> {
    let mut errors = Vec::new();
    if value.len() > 63 {
        errors.push("must be no more than 63 characters".to_string());
    }
    if !value.is_empty() && !is_name(value, qualified_char, false) {
        errors.push(regex_error(
            LABEL_VALUE_MSG,
            LABEL_VALUE_FMT,
            &["MyValue", "my_value", "12345"],
        ));
    }
    errors
}

/// Go's `%#v` of a `[]string` built by appending to nil.
fn go_slice(values: &[String]) -> String {
    if values.is_empty() {
        return "[]string(nil)".to_string();
    }
    let quoted: Vec<String> = values.iter().map(|v| crate::go::quote(v)).collect();
    format!("[]string{{{}}}", quoted.join(", "))
}

/// One `field=value` or `field!=value` term.
#[derive(Debug, Clone, PartialEq, Eq)]
struct FieldTerm {
    field: String,
    value: String,
    negated: bool,
}

/// A parsed field selector: terms over an object's fields, all of which
/// must hold.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FieldSelector {
    terms: Vec<FieldTerm>,
}

impl FieldSelector {
    /// Parses the `fieldSelector` query parameter as `fields.ParseSelector`
    /// does: `a=b`, `a==b`, `a!=b`, comma-separated AND (terms sorted, empty
    /// ones skipped); values may escape `\,` `\=` `\\` as `fields.EscapeValue`
    /// writes them. The empty string selects everything.
    pub fn parse(s: &str) -> Result<Self, SelectorError> {
        let mut parts = split_terms(s);
        parts.sort_unstable();
        let mut terms = Vec::new();
        for part in parts.into_iter().filter(|p| !p.is_empty()) {
            let (field, negated, value) =
                split_term(part).ok_or_else(|| SelectorError::FieldTerm {
                    selector: s.to_string(),
                    term: part.to_string(),
                })?;
            terms.push(FieldTerm {
                field: field.to_string(),
                value: unescape(value)?,
                negated,
            });
        }
        Ok(FieldSelector { terms })
    }

    /// Whether an object, given as JSON, is selected: each term's dotted
    /// path (`metadata.name`, `status.phase`, `involvedObject.uid`, `type`,
    /// ...) is read from it, a missing field reading as "", booleans and
    /// numbers as Go prints them.
    pub fn matches(&self, object: &Value) -> bool {
        self.terms
            .iter()
            .all(|t| (field_value(object, &t.field) == t.value) != t.negated)
    }

    /// The field paths used, in term order, so the server can reject
    /// fields a kind does not support (`field label not supported: X`).
    pub fn fields(&self) -> Vec<&str> {
        self.terms.iter().map(|t| t.field.as_str()).collect()
    }

    /// Whether the selector selects everything, so a caller can skip
    /// matching.
    pub fn is_empty(&self) -> bool {
        self.terms.is_empty()
    }
}

/// Splits on commas not escaped by a backslash (`splitTerms`).
fn split_terms(s: &str) -> Vec<&str> {
    if s.is_empty() {
        return Vec::new();
    }
    let (mut terms, mut start, mut escaped) = (Vec::new(), 0, false);
    for (i, c) in s.char_indices() {
        match c {
            _ if escaped => escaped = false,
            '\\' => escaped = true,
            ',' => {
                terms.push(s.get(start..i).unwrap_or_default());
                start = i + 1;
            }
            _ => {}
        }
    }
    terms.push(s.get(start..).unwrap_or_default());
    terms
}

/// Splits a term at its first operator (`splitTerm`): the field, whether
/// it is `!=`, and the still-escaped value.
fn split_term(term: &str) -> Option<(&str, bool, &str)> {
    term.char_indices().find_map(|(i, _)| {
        let rest = term.get(i..)?;
        let (op_len, negated) = match () {
            _ if rest.starts_with("!=") => (2, true),
            _ if rest.starts_with("==") => (2, false),
            _ if rest.starts_with('=') => (1, false),
            _ => return None,
        };
        Some((term.get(..i)?, negated, term.get(i + op_len..)?))
    })
}

/// `fields.UnescapeValue`: `\\`, `\,` and `\=` are the only escapes, and
/// a bare `,` or `=` is an error.
fn unescape(s: &str) -> Result<String, SelectorError> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(e) => return Err(SelectorError::FieldEscape(format!("\\{e}"))),
                None => return Err(SelectorError::FieldEscape("\\".to_string())),
            },
            ',' | '=' => return Err(SelectorError::FieldUnescaped(c)),
            c => out.push(c),
        }
    }
    Ok(out)
}

/// Reads a dotted path from a JSON object as the field-set string the
/// apiserver compares: strings as they are, booleans and numbers printed,
/// anything missing or structured as "".
fn field_value(object: &Value, path: &str) -> String {
    let found = path.split('.').try_fold(object, |v, key| v.get(key));
    match found {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Bool(b)) => b.to_string(),
        Some(Value::Number(n)) => n.to_string(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;
    use test_case::test_case;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    const QNAME_REGEX: &str = "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";
    const VALUE_REGEX: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";

    #[test_case("app=reviews", &[("app", "reviews")], true; "equals")]
    #[test_case("app=reviews", &[("app", "ratings")], false; "equals other value")]
    #[test_case("app=reviews", &[], false; "equals missing key")]
    #[test_case("app==reviews", &[("app", "reviews")], true; "double equals")]
    #[test_case("app!=reviews", &[("app", "ratings")], true; "not equals")]
    #[test_case("app!=reviews", &[], true; "not equals missing key")]
    #[test_case("app!=reviews", &[("app", "reviews")], false; "not equals same value")]
    #[test_case("version in (v1,v2)", &[("version", "v2")], true; "in")]
    #[test_case("version in (v1,v2)", &[("version", "v3")], false; "in other value")]
    #[test_case("version notin (v1)", &[("version", "v2")], true; "notin")]
    #[test_case("version notin (v1)", &[], true; "notin missing key")]
    #[test_case("version notin (v1)", &[("version", "v1")], false; "notin listed value")]
    #[test_case("  version   in ( v1 , v2 )  ,app = reviews ", &[("app", "reviews"), ("version", "v1")], true; "set syntax with spaces")]
    #[test_case("app", &[("app", "")], true; "exists")]
    #[test_case("app", &[("other", "x")], false; "exists missing")]
    #[test_case("!canary", &[("app", "x")], true; "does not exist")]
    #[test_case("!canary", &[("canary", "true")], false; "does not exist present")]
    #[test_case("app=reviews,!canary", &[("app", "reviews"), ("canary", "1")], false; "and of two")]
    #[test_case("app=", &[("app", "")], true; "empty value")]
    #[test_case("tier in (,web)", &[("tier", "")], true; "empty member of a set")]
    #[test_case("in in (in)", &[("in", "in")], true; "keywords as key and value")]
    #[test_case("replicas>2", &[("replicas", "3")], true; "greater than")]
    #[test_case("replicas<2", &[("replicas", "3")], false; "less than")]
    #[test_case("replicas>2", &[("replicas", "many")], false; "greater than non number")]
    #[test_case("example.com/tier=web", &[("example.com/tier", "web")], true; "prefixed key")]
    #[test_case("", &[], true; "empty selects everything")]
    fn label_selector_matches(selector: &str, set: &[(&str, &str)], expected: bool) {
        let parsed = LabelSelector::parse(selector).unwrap();
        assert_eq!(parsed.matches(&labels(set)), expected);
    }

    #[test_case("a=b,=", "found '=', expected: identifier after ','"; "dangling operator")]
    #[test_case("a=b,", "found '', expected: identifier after ','"; "trailing comma")]
    #[test_case("=b", "found '=', expected: !, identifier, or 'end of string'"; "no key")]
    #[test_case("a=b c", "found 'c', expected: ',' or 'end of string'"; "missing comma")]
    #[test_case("!a=b", "found '=', expected: ',' or 'end of string'"; "negated with value")]
    #[test_case("a in b", "unable to parse requirement: found 'b' expected: '('"; "set without parens")]
    #[test_case("a in (b", "unable to parse requirement: found '', expected: ',' or ')'"; "unclosed set")]
    #[test_case("a in (b c)", "unable to parse requirement: found 'c', expected: ',' or ')'"; "set missing comma")]
    #[test_case("a in (=)", "unable to parse requirement: found '=', expected: ',', ')' or identifier"; "operator in set")]
    #[test_case("a x", "unable to parse requirement: found 'x', expected: in, notin, =, ==, !=, gt, lt"; "unknown operator")]
    #[test_case("a=(", "unable to parse requirement: found '(', expected: identifier"; "paren as value")]
    #[test_case("a>b", "unable to parse requirement: values[0]: Invalid value: \"b\": for 'Gt', 'Lt' operators, the value must be an integer"; "gt non integer")]
    fn label_selector_syntax_errors(selector: &str, message: &str) {
        assert_eq!(
            LabelSelector::parse(selector).unwrap_err().to_string(),
            message
        );
    }

    #[test]
    fn label_selector_invalid_keys_and_values_have_the_apiserver_text() {
        let err = |s: &str| LabelSelector::parse(s).unwrap_err().to_string();
        assert_eq!(
            err("-app=x"),
            format!(
                "unable to parse requirement: <nil>: Invalid value: \"-app\": name part {QNAME_REGEX}"
            )
        );
        assert_eq!(
            err("app=-x"),
            format!(
                "unable to parse requirement: values[0][app]: Invalid value: \"-x\": {VALUE_REGEX}"
            )
        );
        let long = "v".repeat(64);
        assert_eq!(
            err(&format!("app={long}")),
            format!(
                "unable to parse requirement: values[0][app]: Invalid value: \"{long}\": must be no more than 63 characters"
            )
        );
        assert_eq!(
            err(&long),
            format!(
                "unable to parse requirement: <nil>: Invalid value: \"{long}\": name part must be no more than 63 characters"
            )
        );
        assert_eq!(
            err("/a"),
            "unable to parse requirement: <nil>: Invalid value: \"/a\": prefix part must be non-empty"
        );
        assert!(err("Example.com/a").contains(
            "prefix part a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
        ));
        assert!(err("a/b/c").contains("a qualified name must consist of"));
        assert!(err("a/b/c").ends_with(
            "with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
        ));
        assert_eq!(
            err("a in (-x,-y)"),
            format!(
                "unable to parse requirement: [values[0][a]: Invalid value: \"-x\": {VALUE_REGEX}, values[1][a]: Invalid value: \"-y\": {VALUE_REGEX}]"
            )
        );
        assert_eq!(
            err("a=\"q\""),
            format!(
                "unable to parse requirement: values[0][a]: Invalid value: \"\\\"q\\\"\": {VALUE_REGEX}"
            )
        );
    }

    #[test]
    fn parse_results_are_normalised() {
        // Sets are sorted and deduplicated, requirements sorted by key, and
        // `==` is `=`.
        assert_eq!(
            LabelSelector::parse("z==1, a in (y,x,y)").unwrap(),
            LabelSelector::from_json(&json!({
                "matchLabels": {"z": "1"},
                "matchExpressions": [{"key": "a", "operator": "In", "values": ["x", "y"]}]
            }))
            .unwrap()
        );
        assert!(LabelSelector::parse("").unwrap().is_empty());
        assert!(LabelSelector::parse(" \t").unwrap().is_empty());
        assert!(!LabelSelector::parse("a").unwrap().is_empty());
        // Go reads a NUL byte as the end of the input where a token starts.
        assert_eq!(LabelSelector::parse("a=b \0c"), LabelSelector::parse("a=b"));
        assert!(LabelSelector::parse("a=b,\0").is_err());
    }

    #[test_case(json!({}), &[], true; "empty matches everything")]
    #[test_case(json!({"matchLabels": {"app": "reviews"}}), &[("app", "reviews")], true; "match labels")]
    #[test_case(json!({"matchLabels": {"app": "reviews"}}), &[("app", "ratings")], false; "match labels other value")]
    #[test_case(json!({"matchExpressions": [{"key": "version", "operator": "In", "values": ["v1", "v2"]}]}), &[("version", "v2")], true; "expression in")]
    #[test_case(json!({"matchExpressions": [{"key": "version", "operator": "NotIn", "values": ["v1"]}]}), &[], true; "expression notin missing")]
    #[test_case(json!({"matchExpressions": [{"key": "canary", "operator": "Exists"}]}), &[("canary", "")], true; "expression exists")]
    #[test_case(json!({"matchExpressions": [{"key": "canary", "operator": "DoesNotExist", "values": null}]}), &[("canary", "")], false; "expression does not exist")]
    #[test_case(json!({"matchLabels": {"app": "reviews"}, "matchExpressions": [{"key": "version", "operator": "In", "values": ["v1"]}]}), &[("app", "reviews"), ("version", "v2")], false; "labels and expressions are ANDed")]
    #[test_case(json!(null), &[], false; "null matches nothing")]
    fn label_selector_from_json(selector: Value, set: &[(&str, &str)], expected: bool) {
        let parsed = LabelSelector::from_json(&selector).unwrap();
        assert_eq!(parsed.matches(&labels(set)), expected);
        assert_eq!(parsed.is_empty(), selector == json!({}));
    }

    #[test_case(json!({"matchExpressions": [{"key": "a", "operator": "Equals", "values": ["b"]}]}), "\"Equals\" is not a valid label selector operator"; "bad operator")]
    #[test_case(json!({"matchExpressions": [{"key": "a", "operator": "In"}]}), "values: Invalid value: []string(nil): for 'in', 'notin' operators, values set can't be empty"; "in without values")]
    #[test_case(json!({"matchExpressions": [{"key": "a", "operator": "Exists", "values": ["b"]}]}), "values: Invalid value: []string{\"b\"}: values set must be empty for exists and does not exist"; "exists with values")]
    #[test_case(json!({"matchLabels": {"app": "a b"}}), &format!("values[0][app]: Invalid value: \"a b\": {VALUE_REGEX}"); "bad match label value")]
    #[test_case(json!({"matchLabels": {"a b": "x"}}), &format!("key: Invalid value: \"a b\": name part {QNAME_REGEX}"); "bad match label key")]
    #[test_case(json!({"matchLabels": {"app": 3}}), "invalid label selector: matchLabels values must be strings"; "number label value")]
    #[test_case(json!("app=reviews"), "invalid label selector: a label selector must be an object"; "string selector")]
    fn label_selector_from_json_errors(selector: Value, message: &str) {
        assert_eq!(
            LabelSelector::from_json(&selector).unwrap_err().to_string(),
            message
        );
    }

    fn pod() -> Value {
        json!({
            "metadata": {"name": "reviews-v1-abc", "namespace": "bookinfo"},
            "spec": {"nodeName": "node-1", "hostNetwork": false},
            "status": {"phase": "Running"}
        })
    }

    fn event() -> Value {
        json!({
            "metadata": {"name": "reviews-v1-abc.17f", "namespace": "bookinfo"},
            "involvedObject": {"kind": "Pod", "uid": "1234-abcd", "name": "reviews-v1-abc", "namespace": "bookinfo"},
            "type": "Normal",
            "reason": "Scheduled"
        })
    }

    #[test_case("metadata.name=reviews-v1-abc", pod(), true; "kubectl get by name")]
    #[test_case("metadata.name==reviews-v1-abc", pod(), true; "double equals")]
    #[test_case("metadata.name!=reviews-v1-abc", pod(), false; "not equals")]
    #[test_case("status.phase!=Running", pod(), false; "phase not running")]
    #[test_case("status.phase=Running,spec.nodeName=node-1", pod(), true; "two terms")]
    #[test_case("status.phase=Running,spec.nodeName=node-2", pod(), false; "second term fails")]
    #[test_case("spec.hostNetwork=false", pod(), true; "boolean printed")]
    #[test_case("spec.serviceAccountName=", pod(), true; "missing field is empty")]
    #[test_case("spec.serviceAccountName!=", pod(), false; "missing field is not non empty")]
    #[test_case("", pod(), true; "empty selects everything")]
    #[test_case(",,", pod(), true; "empty terms skipped")]
    #[test_case("involvedObject.uid=1234-abcd,involvedObject.name=reviews-v1-abc,involvedObject.namespace=bookinfo", event(), true; "kubectl describe events")]
    #[test_case("involvedObject.kind=Pod,type!=Warning,reason=Scheduled", event(), true; "event filters")]
    #[test_case("metadata.name=a\\,b\\=c\\\\", json!({"metadata": {"name": "a,b=c\\"}}), true; "escaped value")]
    fn field_selector_matches(selector: &str, object: Value, expected: bool) {
        assert_eq!(
            FieldSelector::parse(selector).unwrap().matches(&object),
            expected
        );
    }

    #[test_case("metadata.name", "invalid selector: 'metadata.name'; can't understand 'metadata.name'"; "no operator")]
    #[test_case("a=b,c", "invalid selector: 'a=b,c'; can't understand 'c'"; "second term without operator")]
    #[test_case("a=b\\x", "invalid field selector: invalid escape sequence: \\x"; "bad escape")]
    #[test_case("a=b\\", "invalid field selector: invalid escape sequence: \\"; "trailing backslash")]
    #[test_case("a=b=c", "invalid field selector: unescaped character in value: 61"; "unescaped equals")]
    fn field_selector_errors(selector: &str, message: &str) {
        assert_eq!(
            FieldSelector::parse(selector).unwrap_err().to_string(),
            message
        );
    }

    #[test]
    fn field_selector_lists_its_fields_sorted_by_term() {
        let s = FieldSelector::parse("spec.nodeName=n1,metadata.name!=x,a\\,b=c").unwrap();
        assert_eq!(s.fields(), ["a\\,b", "metadata.name", "spec.nodeName"]);
        assert!(FieldSelector::parse("").unwrap().is_empty());
    }
}
