//! The validation walk: a [`Validator`] carries the current field path and
//! collects findings, which the loader later pins to lines through the YAML
//! tree. The name and label checks here reproduce the apiserver's
//! (`k8s.io/apimachinery/pkg/util/validation`) messages word for word, and
//! so do the CRD schema ones (apiextensions-apiserver's
//! `kubeOpenAPIResultToFieldErrors` with kube-openapi's texts, and the
//! results of the CEL rules in `x-kubernetes-validations`), which every
//! custom kind shares.

use std::fmt::Display;
use std::sync::OnceLock;

use regex::Regex;

use crate::yaml::node::{PathSeg, format_path};

use super::diag::Severity;

/// One validation result, before it is located in a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finding {
    pub severity: Severity,
    pub path: Vec<PathSeg>,
    pub message: String,
}

impl Finding {
    pub fn path_text(&self) -> String {
        format_path(&self.path)
    }
}

#[derive(Default)]
pub struct Validator {
    path: Vec<PathSeg>,
    findings: Vec<Finding>,
}

impl Validator {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn into_findings(self) -> Vec<Finding> {
        self.findings
    }

    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }

    /// An error at the current path.
    pub fn error(&mut self, message: impl Into<String>) {
        self.push(Severity::Error, message.into());
    }

    /// A warning at the current path (accepted, but a real cluster prints
    /// `Warning: …`).
    pub fn warn(&mut self, message: impl Into<String>) {
        self.push(Severity::Warning, message.into());
    }

    fn push(&mut self, severity: Severity, message: String) {
        self.findings.push(Finding {
            severity,
            path: self.path.clone(),
            message,
        });
    }

    /// The current path as Kubernetes writes field paths
    /// (`spec.http[0].route`). CRD schema messages repeat it in their text.
    pub fn path_text(&self) -> String {
        format_path(&self.path)
    }

    /// Runs `f` with `key` appended to the path.
    pub fn field(&mut self, key: &str, f: impl FnOnce(&mut Self)) {
        self.path.push(PathSeg::Key(key.to_string()));
        f(self);
        self.path.pop();
    }

    /// Runs `f` with `[i]` appended to the path.
    pub fn index(&mut self, i: usize, f: impl FnOnce(&mut Self)) {
        self.path.push(PathSeg::Index(i));
        f(self);
        self.path.pop();
    }

    /// Runs `f` for every item of the list under `key`.
    pub fn each<'a, T>(
        &mut self,
        key: &str,
        items: &'a [T],
        mut f: impl FnMut(&mut Self, usize, &'a T),
    ) {
        self.field(key, |v| {
            for (i, item) in items.iter().enumerate() {
                v.index(i, |v| f(v, i, item));
            }
        });
    }

    /// `Required value` (a field the schema requires is missing).
    pub fn required(&mut self) {
        self.error("Required value");
    }

    /// `Required value` under `key`.
    pub fn required_field(&mut self, key: &str) {
        self.field(key, |v| v.required());
    }

    /// `Invalid value: "x": detail`, with the value quoted as the apiserver
    /// quotes strings.
    pub fn invalid(&mut self, value: &str, detail: &str) {
        self.error(format!("Invalid value: {value:?}: {detail}"));
    }

    /// `Invalid value: 3: detail`, for numbers and booleans.
    pub fn invalid_num(&mut self, value: impl Display, detail: &str) {
        self.error(format!("Invalid value: {value}: {detail}"));
    }

    /// `Unsupported value: "x": supported values: "a", "b"`.
    pub fn unsupported(&mut self, value: &str, supported: &[&str]) {
        let list = supported
            .iter()
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ");
        self.error(format!(
            "Unsupported value: {value:?}: supported values: {list}"
        ));
    }

    /// `Duplicate value: "x"`.
    pub fn duplicate(&mut self, value: &str) {
        self.error(format!("Duplicate value: {value:?}"));
    }
}

/// CRD schema failures. kube-openapi's messages repeat the field's path
/// (`spec.x in body should match '…'`), which these take from the current
/// path.
impl Validator {
    /// `maxLength` (the value is left out of the message).
    pub fn too_long(&mut self, max: usize) {
        self.error(format!("Too long: may not be more than {max} bytes"));
    }

    /// `minLength`.
    pub fn too_short(&mut self, value: &str, min: usize) {
        let at = self.path_text();
        self.invalid(
            value,
            &format!("{at} in body should be at least {min} chars long"),
        );
    }

    /// `pattern`.
    pub fn pattern_mismatch(&mut self, value: &str, pattern: &str) {
        let at = self.path_text();
        self.invalid(value, &format!("{at} in body should match '{pattern}'"));
    }

    /// `type` or `format` (`must be of type ipv4`): kube-openapi shows the
    /// value twice.
    pub fn wrong_type(&mut self, value: &str, expected: &str) {
        let at = self.path_text();
        self.invalid(
            value,
            &format!("{at} in body must be of type {expected}: {value:?}"),
        );
    }

    /// `maxItems` or `maxProperties` (both say "items").
    pub fn too_many(&mut self, len: usize, max: usize) {
        self.error(format!("Too many: {len}: must have at most {max} items"));
    }

    /// `maxItems` on the list under `key`.
    pub fn max_items(&mut self, key: &str, len: usize, max: usize) {
        if len > max {
            self.field(key, |v| v.too_many(len, max));
        }
    }

    /// `minItems`.
    pub fn too_few_items(&mut self, len: usize, min: usize) {
        let at = self.path_text();
        self.invalid_num(
            len,
            &format!("{at} in body should have at least {min} items"),
        );
    }

    /// `minProperties`.
    pub fn too_few_properties(&mut self, len: usize, min: usize) {
        let at = self.path_text();
        self.invalid_num(
            len,
            &format!("{at} in body should have at least {min} properties"),
        );
    }

    /// `minimum` and `maximum` (either may be absent), the numbers printed
    /// as Go's `%v` prints them.
    pub fn bounds<N: GoNumber>(&mut self, value: N, min: Option<N>, max: Option<N>) {
        let (bound, word) = match (min, max) {
            (Some(m), _) if value < m => (m, "greater"),
            (_, Some(m)) if value > m => (m, "less"),
            _ => return,
        };
        let at = self.path_text();
        self.invalid_num(
            value.go_text(),
            &format!(
                "{at} in body should be {word} than or equal to {}",
                bound.go_text()
            ),
        );
    }

    /// A list with `maxItems`: the size check, then `f` on every item.
    pub fn list<'a, T>(
        &mut self,
        key: &str,
        items: &'a [T],
        max: usize,
        f: impl FnMut(&mut Self, usize, &'a T),
    ) {
        self.max_items(key, items.len(), max);
        self.each(key, items, f);
    }

    /// `oneOf` over a proto oneof, given which members are set. Returns
    /// whether at most one is, so callers can stop there as istiod does.
    pub fn one_of(&mut self, set: &[bool]) -> bool {
        let n = set.iter().filter(|s| **s).count();
        if n > 1 {
            self.error(format!(
                "must validate one and only one schema (oneOf). Found {n} valid alternatives"
            ));
        }
        n <= 1
    }

    /// A CEL rule that evaluated to false. The value shown is the schema
    /// type of the node the rule sits on (`object`, `array`, `string`…).
    pub fn cel(&mut self, schema_type: &str, message: &str) {
        self.invalid(schema_type, message);
    }

    /// A CEL rule that could not be evaluated (`no such key: x`, a failed
    /// type conversion).
    pub fn cel_error(&mut self, schema_type: &str, error: &str, message: &str) {
        self.invalid(schema_type, &format!("{error} evaluating rule: {message}"));
    }
}

/// A number as Go's `%v` prints it, for messages that show values.
pub trait GoNumber: Copy + PartialOrd {
    fn go_text(self) -> String;
}

impl GoNumber for i64 {
    fn go_text(self) -> String {
        self.to_string()
    }
}

impl GoNumber for f64 {
    fn go_text(self) -> String {
        go_float(self)
    }
}

/// A float as Go's `%v` prints it: the shortest form, switching to an
/// exponent (`1e-05`, `1e+06`) below 1e-4 and from 1e6 up.
pub fn go_float(x: f64) -> String {
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if x == 0.0 || !x.is_finite() || (-4..6).contains(&exp) {
        return format!("{x}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// A string field's schema: kube-openapi checks `maxLength`, then
/// `minLength`, then `pattern`, and reports only the first failure.
pub struct StringSchema {
    min: usize,
    max: Option<usize>,
    pattern: Option<Pattern>,
}

impl StringSchema {
    pub const fn new(min: usize, max: Option<usize>, pattern: Option<&'static str>) -> Self {
        StringSchema {
            min,
            max,
            pattern: match pattern {
                Some(p) => Some(Pattern::new(p)),
                None => None,
            },
        }
    }

    /// Checks `s` at the current path; returns whether it passed.
    pub fn check(&self, v: &mut Validator, s: &str) -> bool {
        let len = s.chars().count();
        if let Some(max) = self.max
            && len > max
        {
            v.too_long(max);
        } else if len < self.min {
            v.too_short(s, self.min);
        } else if let Some(p) = &self.pattern
            && !p.is_match(s)
        {
            v.pattern_mismatch(s, p.text);
        } else {
            return true;
        }
        false
    }

    /// A field the schema requires under `key`: absent (`None`) is
    /// `Required value`.
    pub fn required(&self, v: &mut Validator, key: &str, value: Option<&str>) {
        match value {
            None => v.required_field(key),
            Some(s) => v.field(key, |v| {
                self.check(v, s);
            }),
        }
    }

    /// A required field decoded as a plain string, where serde's default
    /// leaves an absent field empty: empty counts as missing.
    pub fn required_str(&self, v: &mut Validator, key: &str, value: &str) {
        self.required(v, key, Some(value).filter(|s| !s.is_empty()));
    }

    /// An optional field under `key`, checked when present.
    pub fn optional(&self, v: &mut Validator, key: &str, value: Option<&str>) {
        if let Some(s) = value {
            v.field(key, |v| {
                self.check(v, s);
            });
        }
    }
}

/// A schema `pattern` or a CEL rule's regex (RE2, unanchored unless it
/// anchors itself), compiled on first use.
pub struct Pattern {
    text: &'static str,
    re: OnceLock<Regex>,
}

impl Pattern {
    pub const fn new(text: &'static str) -> Self {
        Pattern {
            text,
            re: OnceLock::new(),
        }
    }

    pub fn is_match(&self, s: &str) -> bool {
        self.re
            .get_or_init(|| Regex::new(self.text).expect("CRD patterns compile"))
            .is_match(s)
    }
}

/// `minLength: 1`, on its own.
pub static NON_EMPTY: StringSchema = StringSchema::new(1, None, None);

/// The fields object references share (Gateway API's `Group`, `Kind` and
/// `ObjectName`, which Istio's `PolicyTargetReference` copies).
pub static GROUP: StringSchema = StringSchema::new(
    0,
    Some(253),
    Some(r"^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
);
pub static KIND: StringSchema =
    StringSchema::new(1, Some(63), Some(r"^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$"));
pub static OBJECT_NAME: StringSchema = StringSchema::new(1, Some(253), None);

const DNS1123_LABEL_MSG: &str = "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1123_SUBDOMAIN_MSG: &str = "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const DNS1035_LABEL_MSG: &str = "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";
const LABEL_VALUE_MSG: &str = "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')";
const QUALIFIED_NAME_MSG: &str = "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')";

fn is_lower_alnum(c: char) -> bool {
    c.is_ascii_lowercase() || c.is_ascii_digit()
}

fn label_shape(s: &str, inner: impl Fn(char) -> bool, edge: impl Fn(char) -> bool) -> bool {
    let (Some(first), Some(last)) = (s.chars().next(), s.chars().last()) else {
        return false;
    };
    edge(first) && edge(last) && s.chars().all(inner)
}

fn is_dns1123_label(s: &str) -> bool {
    label_shape(s, |c| is_lower_alnum(c) || c == '-', is_lower_alnum)
}

/// `IsDNS1123Label`: `None` when valid, else the apiserver's message.
pub fn dns1123_label(s: &str) -> Option<String> {
    if s.len() > 63 {
        return Some("must be no more than 63 characters".to_string());
    }
    (!is_dns1123_label(s)).then(|| DNS1123_LABEL_MSG.to_string())
}

/// `IsDNS1123Subdomain`.
pub fn dns1123_subdomain(s: &str) -> Option<String> {
    if s.len() > 253 {
        return Some("must be no more than 253 characters".to_string());
    }
    let ok = !s.is_empty() && s.split('.').all(is_dns1123_label);
    (!ok).then(|| DNS1123_SUBDOMAIN_MSG.to_string())
}

/// `IsDNS1035Label` (Service names).
pub fn dns1035_label(s: &str) -> Option<String> {
    if s.len() > 63 {
        return Some("must be no more than 63 characters".to_string());
    }
    let ok = label_shape(s, |c| is_lower_alnum(c) || c == '-', is_lower_alnum)
        && s.starts_with(|c: char| c.is_ascii_lowercase());
    (!ok).then(|| DNS1035_LABEL_MSG.to_string())
}

fn is_qualified_name_part(s: &str) -> bool {
    label_shape(
        s,
        |c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'),
        |c| c.is_ascii_alphanumeric(),
    )
}

/// `IsQualifiedName`, used for label and annotation keys.
pub fn label_key(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.is_empty() {
            return Some("prefix part must be non-empty".to_string());
        }
        if let Some(msg) = dns1123_subdomain(p) {
            return Some(format!("prefix part {msg}"));
        }
    }
    if name.is_empty() {
        return Some("name part must be non-empty".to_string());
    }
    if name.len() > 63 {
        return Some("name part must be no more than 63 characters".to_string());
    }
    (!is_qualified_name_part(name)).then(|| QUALIFIED_NAME_MSG.to_string())
}

/// `IsValidLabelValue`.
pub fn label_value(value: &str) -> Option<String> {
    if value.len() > 63 {
        return Some("must be no more than 63 characters".to_string());
    }
    (!value.is_empty() && !is_qualified_name_part(value)).then(|| LABEL_VALUE_MSG.to_string())
}

/// `IsValidPortNum` as the apiserver phrases it.
pub fn port_number(port: i64) -> Option<String> {
    (!(1..=65535).contains(&port)).then(|| "must be between 1 and 65535, inclusive".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("reviews", true)]
    #[test_case("reviews-v2", true)]
    #[test_case("Reviews", false)]
    #[test_case("-reviews", false)]
    #[test_case("a.b", false)]
    #[test_case("", false)]
    fn dns_labels(name: &str, ok: bool) {
        assert_eq!(dns1123_label(name).is_none(), ok);
    }

    #[test_case("details.bookinfo", true)]
    #[test_case("a..b", false)]
    fn dns_subdomains(name: &str, ok: bool) {
        assert_eq!(dns1123_subdomain(name).is_none(), ok);
    }

    #[test_case("app", true)]
    #[test_case("istio.io/rev", true)]
    #[test_case("sidecar.istio.io/inject", true)]
    #[test_case("bad key", false)]
    #[test_case("/x", false)]
    #[test_case("Upper.Example/x", false)]
    fn label_keys(key: &str, ok: bool) {
        assert_eq!(label_key(key).is_none(), ok, "{key}");
    }

    #[test_case("v1", true)]
    #[test_case("", true)]
    #[test_case("my_value.1", true)]
    #[test_case("bad value!", false)]
    fn label_values(value: &str, ok: bool) {
        assert_eq!(label_value(value).is_none(), ok);
    }

    #[test_case(150.0, "150")]
    #[test_case(0.5, "0.5")]
    #[test_case(0.00001, "1e-05")]
    #[test_case(1_234_567.0, "1.234567e+06")]
    #[test_case(-1.0, "-1")]
    fn floats_print_as_go_prints_them(x: f64, want: &str) {
        assert_eq!(go_float(x), want);
    }

    #[test]
    fn paths_accumulate_and_unwind() {
        let mut v = Validator::new();
        v.field("spec", |v| {
            v.each("ports", &[1, 2], |v, i, _| {
                if i == 1 {
                    v.field("port", |v| v.required());
                }
            });
            v.unsupported("Foo", &["ClusterIP", "NodePort"]);
        });
        let f = v.into_findings();
        assert_eq!(f[0].path_text(), "spec.ports[1].port");
        assert_eq!(f[0].message, "Required value");
        assert_eq!(f[1].path_text(), "spec");
        assert_eq!(
            f[1].message,
            "Unsupported value: \"Foo\": supported values: \"ClusterIP\", \"NodePort\""
        );
    }
}
