//! telemetry.istio.io Telemetry: which metrics, traces and access logs the
//! selected proxies produce, as istio/api `telemetry/v1alpha1` defines it in
//! Istio 1.27 (served as v1 and v1alpha1, which share one schema).
//!
//! Validation follows the same order as the security kinds (see
//! [`super::security`]): the CRD rules, then istiod's `ValidateTelemetry`
//! (`pkg/config/validation/validation.go`, with `validateTelemetryFilter`
//! from `validation_istiod.go`, tag 1.27.9) and its warnings.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::kinds::Validate;
use super::meta::{NameRule, ObjectMeta};
use super::networking::common::{
    PolicyTargets, TargetRef, WorkloadMatchSelector, reject_reserved_annotations,
};
use super::types::Duration;
use super::validate::{NON_EMPTY, Validator};
use crate::spec_resources;

/// Telemetry for the selected workloads (a `selector`, or `targetRef(s)`
/// for waypoints and gateways); one in the root namespace with neither
/// applies mesh-wide. Lists override, not merge with, the parent's.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Telemetry {
    pub selector: Option<WorkloadMatchSelector>,
    pub target_ref: Option<TargetRef>,
    pub target_refs: Vec<TargetRef>,
    pub tracing: Vec<Tracing>,
    pub metrics: Vec<Metrics>,
    pub access_logging: Vec<AccessLogging>,
}

/// Span reporting: to which providers, how often, with which extra tags.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Tracing {
    pub r#match: Option<ModeSelector>,
    pub providers: Vec<ProviderRef>,
    /// Percentage of requests traced when no upstream decision exists.
    pub random_sampling_percentage: Option<f64>,
    pub disable_span_reporting: Option<bool>,
    pub custom_tags: BTreeMap<String, CustomTag>,
    pub use_request_id_for_trace_sampling: Option<bool>,
    pub enable_istio_tags: Option<bool>,
}

/// Which side of the proxied traffic a setting applies to (the proto's
/// `TracingSelector` and `LogSelector`, which are the same shape).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ModeSelector {
    pub mode: WorkloadMode,
}

/// Outbound (`CLIENT`), inbound (`SERVER`) or both.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum WorkloadMode {
    #[default]
    #[serde(rename = "CLIENT_AND_SERVER")]
    ClientAndServer,
    #[serde(rename = "CLIENT")]
    Client,
    #[serde(rename = "SERVER")]
    Server,
}

/// A span tag: a constant, an environment variable of the proxy, or a
/// request header (exactly one).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct CustomTag {
    pub literal: Option<Literal>,
    pub environment: Option<TagSource>,
    pub header: Option<TagSource>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Literal {
    pub value: Option<String>,
}

/// The proto's `Environment` and `RequestHeader`, which are the same shape.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TagSource {
    pub name: Option<String>,
    pub default_value: Option<String>,
}

/// A provider from the mesh config's `extensionProviders` (or a built-in
/// one such as `prometheus`, `envoy`, `stackdriver`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ProviderRef {
    pub name: Option<String>,
}

/// Metric generation for some providers (all when empty).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Metrics {
    pub providers: Vec<ProviderRef>,
    pub overrides: Vec<MetricsOverrides>,
    pub reporting_interval: Option<Duration>,
}

/// Changes to the standard metrics: disable some, or add, change or
/// remove their labels (`tagOverrides` values are CEL expressions over the
/// request attributes).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct MetricsOverrides {
    pub r#match: Option<MetricSelector>,
    pub disabled: Option<bool>,
    pub tag_overrides: BTreeMap<String, TagOverride>,
}

/// One standard metric or a custom one by name (not both), and the mode.
/// Matching nothing means all metrics.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct MetricSelector {
    pub metric: Option<IstioMetric>,
    pub custom_metric: Option<String>,
    pub mode: WorkloadMode,
}

/// The Istio standard metrics (`istio_requests_total` is REQUEST_COUNT).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum IstioMetric {
    #[default]
    #[serde(rename = "ALL_METRICS")]
    AllMetrics,
    #[serde(rename = "REQUEST_COUNT")]
    RequestCount,
    #[serde(rename = "REQUEST_DURATION")]
    RequestDuration,
    #[serde(rename = "REQUEST_SIZE")]
    RequestSize,
    #[serde(rename = "RESPONSE_SIZE")]
    ResponseSize,
    #[serde(rename = "TCP_OPENED_CONNECTIONS")]
    TcpOpenedConnections,
    #[serde(rename = "TCP_CLOSED_CONNECTIONS")]
    TcpClosedConnections,
    #[serde(rename = "TCP_SENT_BYTES")]
    TcpSentBytes,
    #[serde(rename = "TCP_RECEIVED_BYTES")]
    TcpReceivedBytes,
    #[serde(rename = "GRPC_REQUEST_MESSAGES")]
    GrpcRequestMessages,
    #[serde(rename = "GRPC_RESPONSE_MESSAGES")]
    GrpcResponseMessages,
}

/// Sets a label to the value of a CEL expression, or removes it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TagOverride {
    /// UPSERT when absent.
    pub operation: Option<TagOperation>,
    pub value: Option<String>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum TagOperation {
    #[default]
    #[serde(rename = "UPSERT")]
    Upsert,
    #[serde(rename = "REMOVE")]
    Remove,
}

/// Access logs: to which providers, for which requests, or turned off.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct AccessLogging {
    pub r#match: Option<ModeSelector>,
    pub providers: Vec<ProviderRef>,
    pub disabled: Option<bool>,
    pub filter: Option<Filter>,
}

/// A CEL expression over the request attributes; only matching requests
/// are logged (`response.code >= 400`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Filter {
    pub expression: Option<String>,
}

impl Validate for Telemetry {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(NameRule::Dns1123Subdomain, v);
        let targets = self.targets();
        v.field("spec", |v| {
            targets.validate_schema(v);
            self.validate_schema(v);
        });
        if v.has_errors() || !reject_reserved_annotations(meta, None, v) {
            return;
        }
        v.field("spec", |v| {
            targets.validate_webhook("", v);
            self.validate_webhook(v);
        });
        if !v.has_errors() {
            v.field("spec", |v| self.warnings(v));
        }
    }
}

/// `ProviderRef.name`: required, `minLength: 1`. (istiod's "providers.name
/// may not be empty" repeats it.)
fn validate_providers(providers: &[ProviderRef], v: &mut Validator) {
    v.each("providers", providers, |v, _, p| {
        NON_EMPTY.required(v, "name", p.name.as_deref());
    });
}

impl Telemetry {
    fn targets(&self) -> PolicyTargets<'_> {
        PolicyTargets::new(&self.selector, &self.target_ref, &self.target_refs)
    }

    /// The CRD's OpenAPI and CEL rules.
    fn validate_schema(&self, v: &mut Validator) {
        v.each("tracing", &self.tracing, |v, _, t| {
            validate_providers(&t.providers, v);
            if let Some(p) = t.random_sampling_percentage {
                v.field("randomSamplingPercentage", |v| {
                    v.bounds(p, Some(0.0), Some(100.0))
                });
            }
            v.field("customTags", |v| {
                for (name, tag) in &t.custom_tags {
                    v.field(name, |v| tag.validate_schema(v));
                }
            });
        });
        v.each("metrics", &self.metrics, |v, _, m| {
            validate_providers(&m.providers, v);
            v.each("overrides", &m.overrides, |v, _, o| {
                if let Some(sel) = &o.r#match {
                    v.field("match", |v| {
                        v.one_of(&[sel.metric.is_some(), sel.custom_metric.is_some()]);
                        NON_EMPTY.optional(v, "customMetric", sel.custom_metric.as_deref());
                    });
                }
                v.field("tagOverrides", |v| {
                    for (name, tag) in &o.tag_overrides {
                        v.field(name, |v| validate_tag_override_rules(tag, v));
                    }
                });
            });
            if let Some(d) = &m.reporting_interval {
                // istiod does not check this one, so sub-millisecond
                // precision is accepted.
                v.field("reportingInterval", |v| {
                    d.validate_rule(v);
                });
            }
        });
        v.each("accessLogging", &self.access_logging, |v, _, l| {
            validate_providers(&l.providers, v);
        });
    }

    /// `ValidateTelemetry`, less what the CRD already rejected.
    fn validate_webhook(&self, v: &mut Validator) {
        v.each("metrics", &self.metrics, |v, _, m| {
            v.each("overrides", &m.overrides, |v, _, o| {
                v.field("tagOverrides", |v| {
                    for (name, tag) in &o.tag_overrides {
                        // An absent operation means UPSERT, which the CRD
                        // rule (written for an explicit one) lets through.
                        let upsert = tag.operation.unwrap_or_default() == TagOperation::Upsert;
                        if upsert && tag.value.as_deref().unwrap_or("").is_empty() {
                            v.field(name, |v| {
                                v.error("tagOverrides.value must be set when operation is UPSERT")
                            });
                        }
                    }
                });
            });
        });
        v.each("tracing", &self.tracing, |v, _, t| {
            if t.custom_tags.contains_key("") {
                v.field("customTags", |v| {
                    v.field("", |v| v.error("tag name may not be empty"))
                });
            }
        });
        v.each("accessLogging", &self.access_logging, |v, _, l| {
            let Some(filter) = &l.filter else { return };
            let expression = filter.expression.as_deref().unwrap_or("");
            if let Some(e) = cel_syntax_error(expression) {
                v.field("filter", |v| {
                    v.field("expression", |v| {
                        v.error(format!("must be a valid CEL expression, {e}"))
                    })
                });
            }
        });
    }

    fn warnings(&self, v: &mut Validator) {
        self.targets().warn_empty_selector(v);
        v.each("metrics", &self.metrics, |v, _, m| {
            v.each("overrides", &m.overrides, |v, _, o| {
                if o.tag_overrides.contains_key("") {
                    v.field("tagOverrides", |v| {
                        v.warn("tagOverrides.name may not be empty")
                    });
                }
            });
        });
        if self.tracing.len() > 1 {
            v.field("tracing", |v| {
                v.warn("multiple tracing is not currently supported")
            });
        }
        v.each("tracing", &self.tracing, |v, _, t| {
            if t.providers.len() > 1 {
                v.field("providers", |v| {
                    v.warn("multiple providers is not currently supported")
                });
            }
        });
    }
}

impl CustomTag {
    /// The CRD's `oneOf` between the tag's sources, and their required
    /// fields.
    fn validate_schema(&self, v: &mut Validator) {
        v.one_of(&[
            self.literal.is_some(),
            self.environment.is_some(),
            self.header.is_some(),
        ]);
        if let Some(l) = &self.literal {
            v.field("literal", |v| {
                NON_EMPTY.required(v, "value", l.value.as_deref())
            });
        }
        for (key, source) in [("environment", &self.environment), ("header", &self.header)] {
            if let Some(s) = source {
                v.field(key, |v| NON_EMPTY.required(v, "name", s.name.as_deref()));
            }
        }
    }
}

/// The CRD's CEL rules on one `tagOverrides` entry. They only apply to an
/// explicit `operation`; reading an absent `value` is an evaluation error.
fn validate_tag_override_rules(tag: &TagOverride, v: &mut Validator) {
    const UPSERT: &str = "value must be set when operation is UPSERT";
    match (tag.operation, tag.value.as_deref()) {
        (Some(TagOperation::Upsert), None) => v.cel_error("object", "no such key: value", UPSERT),
        (Some(TagOperation::Upsert), Some("")) => v.cel("object", UPSERT),
        (Some(TagOperation::Remove), Some(_)) => {
            v.cel("object", "value must not be set when operation is REMOVE")
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------
// CEL syntax (cel-go v0.25's grammar, parser/gen/CEL.g4)
// ---------------------------------------------------------------------------

/// What `cel.NewEnv().Parse(expr)` reports, or `None` when `expr` parses:
/// the first syntax error in cel-go's display form
/// (`ERROR: <input>:1:17: Syntax error: mismatched input '<EOF>' expecting
/// {...}` followed by the source line and a caret). Only syntax is checked,
/// as istiod does (no type checking); ANTLR's wording is followed for the
/// common errors, and only the first error is reported where cel-go would
/// list every one.
pub fn cel_syntax_error(expr: &str) -> Option<String> {
    let (tokens, lex_error) = lex(expr);
    let parse_error = Parser {
        toks: &tokens,
        i: 0,
    }
    .start()
    .err();
    let error = match (lex_error, parse_error) {
        (Some(a), Some(b)) => Some(if (b.line, b.col) < (a.line, a.col) {
            b
        } else {
            a
        }),
        (a, b) => a.or(b),
    }?;
    Some(display_error(expr, &error))
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Ident,
    EscIdent,
    Literal,
    /// An operator, punctuation, or `in`.
    Sym(&'static str),
    Eof,
}

#[derive(Clone, Debug)]
struct Token {
    kind: Kind,
    text: String,
    line: usize,
    /// 0-based, in characters.
    col: usize,
}

impl Token {
    /// The token's name in ANTLR's sets (literals by their kind).
    fn name(&self) -> String {
        match self.kind {
            Kind::Ident => "IDENTIFIER".to_string(),
            Kind::EscIdent => "ESC_IDENTIFIER".to_string(),
            Kind::Eof => "<EOF>".to_string(),
            Kind::Sym(s) => format!("'{s}'"),
            Kind::Literal if self.text == "null" => "'null'".to_string(),
            Kind::Literal
                if self
                    .text
                    .starts_with(|c: char| c.is_ascii_digit() || c == '.') =>
            {
                "NUM_INT".to_string()
            }
            Kind::Literal => "STRING".to_string(),
        }
    }

    fn starts_expression(&self) -> bool {
        EXPR_START.contains(&self.name().as_str())
    }

    /// ANTLR's quoting of a token in messages.
    fn display(&self) -> String {
        format!("'{}'", escape_display(&self.text))
    }
}

#[derive(Debug)]
struct CelError {
    line: usize,
    col: usize,
    message: String,
}

const SYMBOLS: [&str; 27] = [
    "==", "!=", "<=", ">=", "&&", "||", "<", ">", "[", "]", "{", "}", "(", ")", ".", ",", "-", "!",
    "?", ":", "+", "*", "/", "%", "in", "true", "false",
];

/// Token names in ANTLR's order (their token type numbers), which is how
/// its "expecting {...}" sets list them.
const TOKEN_ORDER: [&str; 21] = [
    "'['",
    "']'",
    "'{'",
    "'}'",
    "'('",
    "')'",
    "'.'",
    "','",
    "'-'",
    "'!'",
    "'?'",
    "'true'",
    "'false'",
    "'null'",
    "NUM_FLOAT",
    "NUM_INT",
    "NUM_UINT",
    "STRING",
    "BYTES",
    "IDENTIFIER",
    "ESC_IDENTIFIER",
];

/// The tokens an expression may start with.
const EXPR_START: [&str; 15] = [
    "'['",
    "'{'",
    "'('",
    "'.'",
    "'-'",
    "'!'",
    "'true'",
    "'false'",
    "'null'",
    "NUM_FLOAT",
    "NUM_INT",
    "NUM_UINT",
    "STRING",
    "BYTES",
    "IDENTIFIER",
];

/// The tokens a message field list (`Msg{...}`) may start with.
const FIELD_START: [&str; 5] = ["'}'", "','", "'?'", "IDENTIFIER", "ESC_IDENTIFIER"];

/// Tokens that may follow a complete operand.
const AFTER_OPERAND: [&str; 22] = [
    "==", "!=", "<", "<=", ">", ">=", "in", "&&", "||", "+", "-", "*", "/", "%", ".", "[", "?",
    ":", ",", ")", "]", "}",
];

/// Splits `src` into tokens, skipping past characters that form no token
/// as ANTLR's lexer does, and returns the first such error.
fn lex(src: &str) -> (Vec<Token>, Option<CelError>) {
    let chars: Vec<char> = src.chars().collect();
    // The (line, column) of every character, and of the end.
    let mut pos = Vec::with_capacity(chars.len() + 1);
    let (mut line, mut col) = (1, 0);
    for &c in &chars {
        pos.push((line, col));
        (line, col) = if c == '\n' {
            (line + 1, 0)
        } else {
            (line, col + 1)
        };
    }
    pos.push((line, col));
    let mut toks = Vec::new();
    let mut first_error = None;
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let at = |k: usize| chars.get(k).copied();
        let lexed: Result<(Kind, usize), usize> = if matches!(c, '\t' | ' ' | '\r' | '\n' | '\u{c}')
        {
            i += 1;
            continue;
        } else if c == '/' && at(i + 1) == Some('/') {
            i = (i..chars.len())
                .find(|&k| chars[k] == '\n')
                .unwrap_or(chars.len());
            continue;
        } else if c.is_ascii_digit() || (c == '.' && at(i + 1).is_some_and(|d| d.is_ascii_digit()))
        {
            Ok((Kind::Literal, number_end(&chars, i)))
        } else if let Some(quote) = string_start(&chars, i) {
            string_end(&chars, quote).map(|end| (Kind::Literal, end))
        } else if c.is_ascii_alphabetic() || c == '_' {
            let end = (i..chars.len())
                .find(|&k| !(chars[k].is_ascii_alphanumeric() || chars[k] == '_'))
                .unwrap_or(chars.len());
            let word: String = chars[i..end].iter().collect();
            let kind = match SYMBOLS.iter().find(|s| **s == word) {
                Some(s) => Kind::Sym(s),
                None if word == "null" => Kind::Literal,
                None => Kind::Ident,
            };
            Ok((kind, end))
        } else if c == '`' {
            let end = (i + 1..chars.len())
                .find(|&k| !(chars[k].is_ascii_alphanumeric() || "_.-/ ".contains(chars[k])))
                .unwrap_or(chars.len());
            if at(end) == Some('`') && end > i + 1 {
                Ok((Kind::EscIdent, end + 1))
            } else {
                Err(end)
            }
        } else {
            let two: String = chars[i..(i + 2).min(chars.len())].iter().collect();
            match SYMBOLS.iter().find(|s| **s == two || **s == c.to_string()) {
                Some(s) => Ok((Kind::Sym(s), i + s.len())),
                // `=`, `&` and `|` start a token only when doubled.
                None if "=&|".contains(c) => Err(i + 1),
                None => Err(i),
            }
        };
        let (line, col) = pos[i];
        match lexed {
            Ok((kind, end)) => {
                let text = chars[i..end].iter().collect();
                toks.push(Token {
                    kind,
                    text,
                    line,
                    col,
                });
                i = end;
            }
            // The text runs up to and including the character that failed,
            // and lexing resumes after it.
            Err(fail) => {
                let stop = (fail + 1).min(chars.len());
                let text: String = chars[i..stop].iter().collect();
                first_error.get_or_insert(CelError {
                    line,
                    col,
                    message: format!("token recognition error at: '{}'", escape_display(&text)),
                });
                i = stop;
            }
        }
    }
    let (line, col) = pos[chars.len()];
    toks.push(Token {
        kind: Kind::Eof,
        text: "<EOF>".to_string(),
        line,
        col,
    });
    (toks, first_error)
}

/// End of a NUM_INT, NUM_UINT or NUM_FLOAT starting at `i`.
fn number_end(chars: &[char], i: usize) -> usize {
    let digits = |mut k: usize, hex: bool| {
        while chars.get(k).is_some_and(|c| {
            if hex {
                c.is_ascii_hexdigit()
            } else {
                c.is_ascii_digit()
            }
        }) {
            k += 1;
        }
        k
    };
    let unsigned = |k: usize| k + usize::from(matches!(chars.get(k), Some('u' | 'U')));
    if chars[i] == '0' && matches!(chars.get(i + 1), Some('x' | 'X')) {
        let end = digits(i + 2, true);
        if end > i + 2 {
            return unsigned(end);
        }
    }
    let mut end = digits(i, false);
    let mut float = false;
    if chars.get(end) == Some(&'.') && chars.get(end + 1).is_some_and(char::is_ascii_digit) {
        end = digits(end + 1, false);
        float = true;
    }
    if matches!(chars.get(end), Some('e' | 'E')) {
        let sign = usize::from(matches!(chars.get(end + 1), Some('+' | '-')));
        let exp_end = digits(end + 1 + sign, false);
        if exp_end > end + 1 + sign {
            end = exp_end;
            float = true;
        }
    }
    if float { end } else { unsigned(end) }
}

/// If a string or bytes literal starts at `i`: the index of its opening
/// quote and whether it is raw.
fn string_start(chars: &[char], i: usize) -> Option<(usize, bool)> {
    let mut k = i;
    if matches!(chars.get(k), Some('b' | 'B')) {
        k += 1;
    }
    let raw = matches!(chars.get(k), Some('r' | 'R'));
    if raw {
        k += 1;
    }
    matches!(chars.get(k), Some('"' | '\'')).then_some((k, raw))
}

/// The end of the string literal whose quote is at `q`, or the index of the
/// character where it stopped being one.
fn string_end(chars: &[char], (q, raw): (usize, bool)) -> Result<usize, usize> {
    let quote = chars[q];
    let triple = chars.get(q + 1) == Some(&quote) && chars.get(q + 2) == Some(&quote);
    let mut k = if triple { q + 3 } else { q + 1 };
    loop {
        let Some(&c) = chars.get(k) else {
            return Err(chars.len());
        };
        if triple
            && c == quote
            && chars.get(k + 1) == Some(&quote)
            && chars.get(k + 2) == Some(&quote)
        {
            return Ok(k + 3);
        }
        if !triple && c == quote {
            return Ok(k + 1);
        }
        if !triple && (c == '\n' || c == '\r') {
            return Err(k);
        }
        if c == '\\' && !raw {
            k = escape_end(chars, k)?;
        } else {
            k += 1;
        }
    }
}

/// The end of the escape sequence at `k` (a backslash), or where it broke.
fn escape_end(chars: &[char], k: usize) -> Result<usize, usize> {
    let hex = |from: usize, n: usize| {
        (from..from + n)
            .find(|&j| !chars.get(j).is_some_and(char::is_ascii_hexdigit))
            .map_or(Ok(from + n), Err)
    };
    match chars.get(k + 1) {
        Some('a' | 'b' | 'f' | 'n' | 'r' | 't' | 'v' | '"' | '\'' | '\\' | '?' | '`') => Ok(k + 2),
        Some('x' | 'X') => hex(k + 2, 2),
        Some('u') => hex(k + 2, 4),
        Some('U') => hex(k + 2, 8),
        Some('0'..='3') => (k + 2..k + 4)
            .find(|&j| !matches!(chars.get(j), Some('0'..='7')))
            .map_or(Ok(k + 4), Err),
        Some(_) => Err(k + 1),
        None => Err(chars.len()),
    }
}

/// ANTLR's escaping of token text in messages.
fn escape_display(text: &str) -> String {
    text.replace('\n', "\\n")
        .replace('\r', "\\r")
        .replace('\t', "\\t")
}

/// cel-go's `Error.ToDisplayString`: the message, then the source line and
/// a caret under the column.
fn display_error(src: &str, e: &CelError) -> String {
    let mut out = format!(
        "ERROR: <input>:{}:{}: Syntax error: {}",
        e.line,
        e.col + 1,
        e.message
    );
    if let Some(line) = src.split('\n').nth(e.line - 1) {
        let line = line.replace('\t', " ");
        let marker: String = line
            .chars()
            .take(e.col)
            .map(|c| if c.len_utf8() > 1 { '\u{ff0e}' } else { '.' })
            .collect();
        let caret = match line.chars().nth(e.col) {
            Some(c) if c.len_utf8() > 1 => '\u{ff3e}',
            _ => '^',
        };
        out.push_str(&format!("\n | {line}\n | {marker}{caret}"));
    }
    out
}

/// A recursive-descent recognizer for CEL.g4, reporting errors as ANTLR's
/// default error strategy words them.
struct Parser<'a> {
    toks: &'a [Token],
    i: usize,
}

type Parsed = Result<(), CelError>;

impl Parser<'_> {
    fn peek(&self) -> &Token {
        &self.toks[self.i.min(self.toks.len() - 1)]
    }

    fn peek_at(&self, n: usize) -> &Token {
        &self.toks[(self.i + n).min(self.toks.len() - 1)]
    }

    fn is(&self, sym: &str) -> bool {
        self.peek().kind == Kind::Sym(sym_static(sym))
    }

    fn eat(&mut self, sym: &str) -> bool {
        let hit = self.is(sym);
        if hit {
            self.i += 1;
        }
        hit
    }

    fn error_at(tok: &Token, message: String) -> CelError {
        CelError {
            line: tok.line,
            col: tok.col,
            message,
        }
    }

    /// `start: expr EOF`.
    fn start(mut self) -> Parsed {
        self.expr()?;
        let tok = self.peek();
        if tok.kind == Kind::Eof {
            return Ok(());
        }
        let how = if self.peek_at(1).kind == Kind::Eof {
            "extraneous"
        } else {
            "mismatched"
        };
        Err(Self::error_at(
            tok,
            format!("{how} input {} expecting <EOF>", tok.display()),
        ))
    }

    fn expr(&mut self) -> Parsed {
        self.binary(0)?;
        if self.eat("?") {
            self.binary(0)?;
            self.expect(":")?;
            self.expr()?;
        }
        Ok(())
    }

    /// The binary operator levels, loosest first: `||`, `&&`, relations,
    /// `+ -`, `* / %`.
    fn binary(&mut self, level: usize) -> Parsed {
        const LEVELS: [&[&str]; 5] = [
            &["||"],
            &["&&"],
            &["<", "<=", ">=", ">", "==", "!=", "in"],
            &["+", "-"],
            &["*", "/", "%"],
        ];
        let Some(ops) = LEVELS.get(level) else {
            return self.unary();
        };
        self.binary(level + 1)?;
        while ops.iter().any(|op| self.is(op)) {
            self.i += 1;
            self.binary(level + 1)?;
        }
        Ok(())
    }

    fn unary(&mut self) -> Parsed {
        for op in ["!", "-"] {
            if self.is(op) {
                while self.eat(op) {}
                break;
            }
        }
        self.member()
    }

    fn member(&mut self) -> Parsed {
        self.primary()?;
        loop {
            if self.eat(".") {
                self.eat("?");
                match self.peek().kind {
                    Kind::Ident => {
                        self.i += 1;
                        if self.is("(") {
                            self.args()?;
                        }
                    }
                    Kind::EscIdent => self.i += 1,
                    kind => {
                        let tok = self.peek();
                        let text = if kind == Kind::Eof { "" } else { &tok.text };
                        return Err(Self::error_at(
                            tok,
                            format!("no viable alternative at input '.{}'", escape_display(text)),
                        ));
                    }
                }
            } else if self.eat("[") {
                self.eat("?");
                self.expr()?;
                self.expect("]")?;
            } else {
                return Ok(());
            }
        }
    }

    fn primary(&mut self) -> Parsed {
        match self.peek().kind {
            Kind::Literal | Kind::Sym("true" | "false") => {
                self.i += 1;
                Ok(())
            }
            Kind::Sym(".") | Kind::Ident => {
                if self.eat(".") && self.peek().kind != Kind::Ident {
                    let tok = self.peek();
                    return Err(Self::error_at(
                        tok,
                        format!("mismatched input {} expecting IDENTIFIER", tok.display()),
                    ));
                }
                self.i += 1;
                if self.is("(") {
                    return self.args();
                }
                // `a.b.C{...}` creates a message.
                let mut k = 0;
                while self.peek_at(k).kind == Kind::Sym(".")
                    && self.peek_at(k + 1).kind == Kind::Ident
                {
                    k += 2;
                }
                if self.peek_at(k).kind != Kind::Sym("{") {
                    return Ok(());
                }
                self.i += k + 1;
                self.items("}", &FIELD_START, |p| {
                    p.eat("?");
                    if !matches!(p.peek().kind, Kind::Ident | Kind::EscIdent) {
                        return Err(p.unexpected(&["IDENTIFIER", "ESC_IDENTIFIER"]));
                    }
                    p.i += 1;
                    p.expect(":")?;
                    p.expr()
                })
            }
            Kind::Sym("(") => {
                self.i += 1;
                self.expr()?;
                self.expect(")")
            }
            Kind::Sym("[") => {
                self.i += 1;
                self.items("]", &[], |p| {
                    p.eat("?");
                    p.expr()
                })
            }
            Kind::Sym("{") => {
                self.i += 1;
                self.items("}", &[], |p| {
                    p.eat("?");
                    p.expr()?;
                    p.expect(":")?;
                    p.expr()
                })
            }
            _ => Err(self.unexpected(&EXPR_START)),
        }
    }

    /// `(item (',' item)*)? ','? close`, after the opening token. `start`
    /// lists what an item may begin with; empty means an expression.
    fn items(&mut self, close: &str, start: &[&str], item: impl Fn(&mut Self) -> Parsed) -> Parsed {
        let tok = self.peek();
        let at_item = if start.is_empty() {
            tok.starts_expression() || self.is("?")
        } else {
            start.contains(&tok.name().as_str()) && !self.is(close) && !self.is(",")
        };
        if !at_item && !self.is(close) && !self.is(",") {
            let mut set = if start.is_empty() {
                EXPR_START.to_vec()
            } else {
                start.to_vec()
            };
            let close_name = format!("'{close}'");
            let close_name = TOKEN_ORDER
                .iter()
                .find(|t| **t == close_name)
                .copied()
                .unwrap_or("");
            set.extend([close_name, "','", "'?'"]);
            return Err(self.unexpected(&set));
        }
        if at_item {
            item(self)?;
            while self.is(",") && self.peek_at(1).kind != Kind::Sym(sym_static(close)) {
                self.i += 1;
                item(self)?;
            }
        }
        self.eat(",");
        self.expect(close)
    }

    /// `'(' (expr (',' expr)*)? ')'`.
    fn args(&mut self) -> Parsed {
        self.i += 1;
        if !self.is(")") {
            if !self.peek().starts_expression() {
                let mut set = EXPR_START.to_vec();
                set.push("')'");
                return Err(self.unexpected(&set));
            }
            self.expr()?;
            while self.eat(",") {
                self.expr()?;
            }
        }
        self.expect(")")
    }

    /// A token outside `set`, the tokens allowed here. ANTLR calls it
    /// extraneous when the token after it is allowed (dropping it repairs
    /// the input).
    fn unexpected(&self, set: &[&str]) -> CelError {
        let tok = self.peek();
        let next = self.peek_at(1).name();
        let how = if tok.kind != Kind::Eof && set.contains(&next.as_str()) {
            "extraneous"
        } else {
            "mismatched"
        };
        let names: Vec<&str> = TOKEN_ORDER
            .into_iter()
            .filter(|t| set.contains(t))
            .collect();
        Self::error_at(
            tok,
            format!(
                "{how} input {} expecting {{{}}}",
                tok.display(),
                names.join(", ")
            ),
        )
    }

    /// A required token, with ANTLR's single-token repairs: an extra token
    /// before it, or a missing one before a token that may follow it.
    fn expect(&mut self, sym: &str) -> Parsed {
        if self.eat(sym) {
            return Ok(());
        }
        let tok = self.peek();
        let may_follow = if sym == ":" {
            tok.starts_expression()
        } else {
            match tok.kind {
                Kind::Eof => true,
                Kind::Sym(s) => AFTER_OPERAND.contains(&s),
                _ => false,
            }
        };
        let message = if self.peek_at(1).kind == Kind::Sym(sym_static(sym)) {
            format!("extraneous input {} expecting '{sym}'", tok.display())
        } else if may_follow {
            format!("missing '{sym}' at {}", tok.display())
        } else {
            format!("mismatched input {} expecting '{sym}'", tok.display())
        };
        Err(Self::error_at(tok, message))
    }
}

fn sym_static(sym: &str) -> &'static str {
    SYMBOLS.iter().find(|s| **s == sym).copied().unwrap_or("")
}

spec_resources!(Telemetry);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Body;
    use crate::config::testing::{clean, located, manifest, problems};
    use crate::sim::SimDuration;
    use test_case::test_case;

    /// Step 8 of the course's observability lab, as written there.
    const COURSE: &str = r#"apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata:
  name: custom-metrics
  namespace: bookinfo
spec:
  metrics:
  - providers:
    - name: prometheus
    dimensions:
      request_host: request.host
      request_protocol: request.protocol
    overrides:
    - match:
        metric: REQUEST_COUNT
      tagOverrides:
        destination_port:
          value: "string(destination.port)"
"#;

    // `dimensions` was never a Telemetry field (it belonged to the
    // pre-1.12 `stats` EnvoyFilter config); in 1.27 extra labels are
    // tagOverrides, so the apiserver's strict decoding rejects it.
    #[test]
    fn the_courses_dimensions_field_is_unknown() {
        assert_eq!(
            located(COURSE),
            ["10: error: spec.metrics[0].dimensions: unknown field \"dimensions\""]
        );
        let fixed = COURSE.replace(
            "    dimensions:\n      request_host: request.host\n      request_protocol: request.protocol\n",
            "",
        );
        let loaded = clean(&fixed);
        let Body::Telemetry(t) = &loaded.objects[0].body else {
            panic!("not a Telemetry");
        };
        let o = &t.metrics[0].overrides[0];
        assert_eq!(
            o.r#match.as_ref().and_then(|m| m.metric),
            Some(IstioMetric::RequestCount)
        );
        assert_eq!(
            o.tag_overrides["destination_port"].value.as_deref(),
            Some("string(destination.port)")
        );
    }

    #[test]
    fn istio_docs_examples_load_cleanly() {
        let text = r#"apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: mesh-default
  namespace: istio-system
spec:
  tracing:
  - providers:
    - name: zipkin
    randomSamplingPercentage: 10.00
    customTags:
      my_tag_header:
        header:
          name: x-custom
          defaultValue: unknown
      hostname:
        environment:
          name: HOSTNAME
      cluster:
        literal:
          value: east
  accessLogging:
  - providers:
    - name: envoy
    filter:
      expression: response.code >= 400 || xds.cluster_name.startsWith("outbound")
  metrics:
  - providers:
    - name: prometheus
    overrides:
    - match:
        metric: REQUEST_COUNT
        mode: CLIENT_AND_SERVER
      tagOverrides:
        request_protocol:
          operation: REMOVE
        request_host:
          value: request.host
    - match:
        customMetric: my_metric
      disabled: true
    reportingInterval: 15s
---
apiVersion: telemetry.istio.io/v1alpha1
kind: Telemetry
metadata:
  name: waypoint-logs
  namespace: default
spec:
  targetRefs:
  - kind: Gateway
    group: gateway.networking.k8s.io
    name: waypoint
  accessLogging:
  - match:
      mode: SERVER
    providers:
    - name: otel
    disabled: false
"#;
        let loaded = clean(text);
        let Body::Telemetry(t) = &loaded.objects[0].body else {
            panic!("not a Telemetry");
        };
        assert_eq!(t.tracing[0].random_sampling_percentage, Some(10.0));
        assert_eq!(
            t.metrics[0].reporting_interval.as_ref().map(|d| d.get()),
            Some(SimDuration::from_secs(15))
        );
    }

    fn telemetry(spec: &str) -> Vec<String> {
        problems(&manifest(
            "telemetry.istio.io/v1",
            "Telemetry",
            "t",
            "ns",
            spec,
        ))
    }

    // The CRD's rules, then ValidateTelemetry.
    #[test_case("{}", &[]; "empty")]
    #[test_case(
        "{metrics: [{providers: [{}, {name: ''}]}]}",
        &[
            "error: spec.metrics[0].providers[0].name: Required value",
            r#"error: spec.metrics[0].providers[1].name: Invalid value: "": spec.metrics[0].providers[1].name in body should be at least 1 chars long"#,
        ];
        "provider names"
    )]
    #[test_case(
        "{tracing: [{randomSamplingPercentage: 150}]}",
        &["error: spec.tracing[0].randomSamplingPercentage: Invalid value: 150: spec.tracing[0].randomSamplingPercentage in body should be less than or equal to 100"];
        "sampling above 100"
    )]
    #[test_case(
        "{tracing: [{randomSamplingPercentage: -0.5}]}",
        &["error: spec.tracing[0].randomSamplingPercentage: Invalid value: -0.5: spec.tracing[0].randomSamplingPercentage in body should be greater than or equal to 0"];
        "negative sampling"
    )]
    #[test_case(
        "{tracing: [{customTags: {a: {literal: {value: x}, header: {name: hdr}}}}]}",
        &["error: spec.tracing[0].customTags.a: must validate one and only one schema (oneOf). Found 2 valid alternatives"];
        "two tag sources"
    )]
    #[test_case(
        "{tracing: [{customTags: {a: {literal: {}}, b: {environment: {name: ''}}}}]}",
        &[
            "error: spec.tracing[0].customTags.a.literal.value: Required value",
            r#"error: spec.tracing[0].customTags.b.environment.name: Invalid value: "": spec.tracing[0].customTags.b.environment.name in body should be at least 1 chars long"#,
        ];
        "tag source fields"
    )]
    #[test_case(
        "{tracing: [{customTags: {'': {literal: {value: x}}}}]}",
        &["error: spec.tracing[0].customTags.: tag name may not be empty"];
        "empty tag name"
    )]
    #[test_case(
        "{metrics: [{overrides: [{match: {metric: REQUEST_COUNT, customMetric: x}}]}]}",
        &["error: spec.metrics[0].overrides[0].match: must validate one and only one schema (oneOf). Found 2 valid alternatives"];
        "metric and custom metric"
    )]
    #[test_case(
        "{metrics: [{overrides: [{match: {metric: REQUEST_TOTAL}}]}]}",
        &[r#"error: spec.metrics[0].overrides[0].match.metric: Unsupported value: "REQUEST_TOTAL": supported values: "ALL_METRICS", "REQUEST_COUNT", "REQUEST_DURATION", "REQUEST_SIZE", "RESPONSE_SIZE", "TCP_OPENED_CONNECTIONS", "TCP_CLOSED_CONNECTIONS", "TCP_SENT_BYTES", "TCP_RECEIVED_BYTES", "GRPC_REQUEST_MESSAGES", "GRPC_RESPONSE_MESSAGES""#];
        "unknown metric"
    )]
    #[test_case(
        "{metrics: [{overrides: [{match: {customMetric: ''}}]}]}",
        &[r#"error: spec.metrics[0].overrides[0].match.customMetric: Invalid value: "": spec.metrics[0].overrides[0].match.customMetric in body should be at least 1 chars long"#];
        "empty custom metric"
    )]
    #[test_case(
        "{metrics: [{overrides: [{tagOverrides: {a: {operation: UPSERT}, b: {operation: UPSERT, value: ''}, c: {operation: REMOVE, value: x}}}]}]}",
        &[
            r#"error: spec.metrics[0].overrides[0].tagOverrides.a: Invalid value: "object": no such key: value evaluating rule: value must be set when operation is UPSERT"#,
            r#"error: spec.metrics[0].overrides[0].tagOverrides.b: Invalid value: "object": value must be set when operation is UPSERT"#,
            r#"error: spec.metrics[0].overrides[0].tagOverrides.c: Invalid value: "object": value must not be set when operation is REMOVE"#,
        ];
        "tag override rules"
    )]
    #[test_case(
        "{metrics: [{overrides: [{tagOverrides: {a: {}}}]}]}",
        &["error: spec.metrics[0].overrides[0].tagOverrides.a: tagOverrides.value must be set when operation is UPSERT"];
        "implicit upsert without value"
    )]
    #[test_case(
        "{metrics: [{overrides: [{tagOverrides: {'': {value: x}}}]}]}",
        &["warning: spec.metrics[0].overrides[0].tagOverrides: tagOverrides.name may not be empty"];
        "empty tag override name"
    )]
    #[test_case(
        "{metrics: [{reportingInterval: 0s}]}",
        &[r#"error: spec.metrics[0].reportingInterval: Invalid value: "string": must be a valid duration greater than 1ms"#];
        "reporting interval"
    )]
    #[test_case("{metrics: [{reportingInterval: 1500us}]}", &[]; "istiod does not check precision here")]
    #[test_case(
        "{accessLogging: [{filter: {expression: 'response.code >='}}]}",
        &["error: spec.accessLogging[0].filter.expression: must be a valid CEL expression, ERROR: <input>:1:17: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | response.code >=\n | ................^"];
        "bad filter"
    )]
    #[test_case(
        "{tracing: [{providers: [{name: a}, {name: b}]}, {}]}",
        &[
            "warning: spec.tracing: multiple tracing is not currently supported",
            "warning: spec.tracing[0].providers: multiple providers is not currently supported",
        ];
        "several tracing settings"
    )]
    #[test_case(
        "{selector: {}, targetRef: {kind: Service, name: x}}",
        &[r#"error: spec: Invalid value: "object": only one of targetRefs or selector can be set"#];
        "selector and target"
    )]
    #[test_case(
        "{targetRef: {group: networking.istio.io, kind: VirtualService, name: x}}",
        &["error: spec.targetRef: targetRef must be to one of [core/v1/Service networking.istio.io/v1/ServiceEntry gateway.networking.k8s.io/v1beta1/Gateway gateway.networking.k8s.io/v1beta1/GatewayClass] but was networking.istio.io/VirtualService"];
        "target kind"
    )]
    #[test_case(
        "{selector: {}}",
        &["warning: spec.selector: workload selector specified without labels"];
        "empty selector"
    )]
    fn telemetry_rules(spec: &str, want: &[&str]) {
        assert_eq!(telemetry(spec), want);
    }

    #[test_case("response.code >= 400")]
    #[test_case("a && b || !c ? d : -e")]
    #[test_case(r#"has(request.headers["x-id"]) && request.url_path.matches("^/api")"#)]
    #[test_case("[1, 2, 3].exists(x, x > 1)")]
    #[test_case(r#"{"a": 1, "b": [2u, 0x1F, 1.5e3, .5, 1e-3]}"#)]
    #[test_case("google.protobuf.Duration{seconds: 1, ?nanos: 2}")]
    #[test_case(
        r#""s\n\u263A\303" + 'x' + """multi
line""""#
    )]
    #[test_case(r#"r"\q" + b'\x00' + Br'x'"#)]
    #[test_case("x in [1, 2,] && {1: 2,}[1] == 2")]
    #[test_case("a[?0].?b.`with-dash`")]
    #[test_case("// a comment\n1 + 2")]
    fn cel_expressions_that_parse(expr: &str) {
        assert_eq!(cel_syntax_error(expr), None);
    }

    // Expected texts from cel-go v0.25's parser_test.go (first error only).
    #[test_case("*@a | b", "1:1: Syntax error: extraneous input '*' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | *@a | b\n | ^"; "extraneous operator")]
    #[test_case("a | b", "1:3: Syntax error: token recognition error at: '| '\n | a | b\n | ..^"; "lone pipe")]
    #[test_case("{", "1:2: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '}', '(', '.', ',', '-', '!', '?', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | {\n | .^"; "open brace")]
    #[test_case("TestAllTypes(){}", "1:15: Syntax error: mismatched input '{' expecting <EOF>\n | TestAllTypes(){}\n | ..............^"; "call then message")]
    #[test_case("1 + $", "1:5: Syntax error: token recognition error at: '$'\n | 1 + $\n | ....^"; "bad character")]
    #[test_case("1 + 2\n3 +", "2:1: Syntax error: mismatched input '3' expecting <EOF>\n | 3 +\n | ^"; "second line")]
    #[test_case("1 + +", "1:5: Syntax error: mismatched input '+' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | 1 + +\n | ....^"; "two operators")]
    #[test_case(r#"{"a": 1}."a""#, "1:10: Syntax error: no viable alternative at input '.\"a\"'\n | {\"a\": 1}.\"a\"\n | .........^"; "select a string")]
    #[test_case(r#""\xFh""#, "1:1: Syntax error: token recognition error at: '\"\\xFh'\n | \"\\xFh\"\n | ^"; "bad escape")]
    #[test_case("func{{a}}", "1:6: Syntax error: extraneous input '{' expecting {'}', ',', '?', IDENTIFIER, ESC_IDENTIFIER}\n | func{{a}}\n | .....^"; "nested brace in message")]
    #[test_case("{a}", "1:3: Syntax error: mismatched input '}' expecting ':'\n | {a}\n | ..^"; "map key without value")]
    #[test_case("{:a}", "1:2: Syntax error: extraneous input ':' expecting {'[', '{', '}', '(', '.', ',', '-', '!', '?', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | {:a}\n | .^"; "map starting with colon")]
    #[test_case("ind[a{b}]", "1:8: Syntax error: mismatched input '}' expecting ':'\n | ind[a{b}]\n | .......^"; "message key without value")]
    #[test_case("a ? b ((?))", "1:9: Syntax error: mismatched input '?' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | a ? b ((?))\n | ........^"; "question mark")]
    #[test_case("", "1:1: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}\n | \n | ^"; "empty")]
    #[test_case("(a + b", "1:7: Syntax error: missing ')' at '<EOF>'\n | (a + b\n | ......^"; "unclosed parenthesis")]
    fn cel_syntax_errors(expr: &str, want: &str) {
        assert_eq!(
            cel_syntax_error(expr),
            Some(format!("ERROR: <input>:{want}"))
        );
    }

    #[test]
    fn several_problems_are_each_reported_at_their_line() {
        let text = r#"apiVersion: telemetry.istio.io/v1
kind: Telemetry
metadata:
  name: multi
  namespace: ns
spec:
  tracing:
  - providers:
    - {}
    randomSamplingPercentage: 101
  metrics:
  - reportingInterval: 10
"#;
        assert_eq!(
            located(text),
            [
                "12: error: spec.metrics[0].reportingInterval: expected string, got integer 10 (quote it to make it a string)"
            ]
        );
        let text = text.replace("reportingInterval: 10", "reportingInterval: 10x");
        assert_eq!(
            located(&text),
            [
                "9: error: spec.tracing[0].providers[0].name: Required value",
                "10: error: spec.tracing[0].randomSamplingPercentage: Invalid value: 101: spec.tracing[0].randomSamplingPercentage in body should be less than or equal to 100",
                "12: error: spec.metrics[0].reportingInterval: Invalid value: \"string\": type conversion error from 'string' to 'google.protobuf.Duration' evaluating rule: must be a valid duration greater than 1ms",
            ]
        );
    }
}
