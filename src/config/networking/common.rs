//! Pieces shared by the Istio kinds: host names, `exportTo`, string
//! matches, selectors, policy targets, ports and percentages, and istiod's
//! metadata checks, with istiod's validation messages
//! (`pkg/config/validation/agent/validation.go`,
//! `pkg/config/validation/validation.go`, `pkg/config/labels`,
//! `pkg/config/visibility`, Istio 1.27) and the CRD rules the Istio CRDs
//! share (`manifests/charts/base/files/crd-all.gen.yaml`).

use std::collections::BTreeMap;

use serde::Deserialize;

use crate::config::meta::{NameRule, ObjectMeta};
use crate::config::validate::{GROUP, KIND, OBJECT_NAME, StringSchema, Validator};

/// Istio's DNS-1123 label (`pkg/config/labels`): unlike Kubernetes' it
/// allows upper case.
pub fn is_dns1123_label(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
}

/// `IsWildcardDNS1123Label`: `*`, or a label optionally prefixed `*` / `*-`.
pub fn is_wildcard_dns1123_label(s: &str) -> bool {
    if s == "*" {
        return true;
    }
    let rest = s
        .strip_prefix("*-")
        .or_else(|| s.strip_prefix('*'))
        .unwrap_or(s);
    s.len() <= 63 && is_dns1123_label(rest)
}

fn dns1123_preconditions(name: &str) -> Option<String> {
    if name.len() > 255 {
        return Some(format!("domain name {name:?} too long (max 255)"));
    }
    if name.is_empty() {
        return Some("empty domain name not allowed".to_string());
    }
    None
}

/// `ValidateDNS1123Labels`.
pub fn validate_dns1123_labels(domain: &str) -> Option<String> {
    let parts: Vec<&str> = domain.split('.').collect();
    let tld = parts[parts.len() - 1];
    if tld.parse::<i64>().is_ok() {
        return Some(format!(
            "domain name {domain:?} invalid (top level domain {tld:?} cannot be all-numeric)"
        ));
    }
    for (i, label) in parts.iter().enumerate() {
        if i == parts.len() - 1 && label.is_empty() {
            return None;
        }
        if !is_dns1123_label(label) {
            return Some(format!(
                "domain name {domain:?} invalid (label {label:?} invalid)"
            ));
        }
    }
    None
}

/// `ValidateWildcardDomain`: wildcards only in the first label.
pub fn validate_wildcard_domain(domain: &str) -> Option<String> {
    if let Some(e) = dns1123_preconditions(domain) {
        return Some(e);
    }
    let (first, rest) = match domain.split_once('.') {
        Some((f, r)) => (f, Some(r)),
        None => (domain, None),
    };
    if !is_wildcard_dns1123_label(first) {
        return Some(format!(
            "domain name {domain:?} invalid (label {first:?} invalid)"
        ));
    }
    rest.and_then(validate_dns1123_labels)
}

/// `ValidateFQDN`.
pub fn validate_fqdn(fqdn: &str) -> Option<String> {
    dns1123_preconditions(fqdn).or_else(|| validate_dns1123_labels(fqdn))
}

pub fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// `ValidatePort`.
pub fn validate_port(port: u32, v: &mut Validator) {
    if let Some(e) = port_problem(port) {
        v.error(e);
    }
}

/// `ValidatePort`'s error, for callers that wrap it in their own message.
pub fn port_problem(port: u32) -> Option<String> {
    (!(1..=65535).contains(&port))
        .then(|| format!("port number {port} must be in the range 1..65535"))
}

/// The CRD's CEL rule on port numbers in WorkloadEntry-shaped objects and
/// probes.
pub fn crd_port_range(port: u32, v: &mut Validator) {
    if !(1..=65535).contains(&port) {
        v.cel("integer", "port must be between 1-65535");
    }
}

/// `ValidateIPSubnet`: an IP, or a CIDR block when there is one `/`.
pub fn ip_subnet_problem(subnet: &str) -> Option<String> {
    if subnet.matches('/').count() == 1 {
        return (!is_cidr(subnet)).then(|| format!("{subnet} is not a valid CIDR block"));
    }
    (!is_ip(subnet)).then(|| format!("{subnet} is not a valid IP"))
}

/// Go's `netip.ParsePrefix`: an address, `/`, and a decimal prefix length
/// without leading zeros that fits the address family.
fn is_cidr(s: &str) -> bool {
    let Some((addr, bits)) = s.split_once('/') else {
        return false;
    };
    let Ok(addr) = addr.parse::<std::net::IpAddr>() else {
        return false;
    };
    let max = if addr.is_ipv4() { 32 } else { 128 };
    !bits.is_empty()
        && bits.bytes().all(|b| b.is_ascii_digit())
        && !(bits.len() > 1 && bits.starts_with('0'))
        && bits.parse::<u32>().is_ok_and(|b| b <= max)
}

/// `ValidatePercent` (`maxEjectionPercent`, `minHealthPercent`).
pub fn validate_percent(value: i64, v: &mut Validator) {
    if !(0..=100).contains(&value) {
        v.error(format!("percentage {value} is not in range 0..100"));
    }
}

/// `validateExportTo`. `.` means the object's own namespace, `*` everyone,
/// `~` no one (ServiceEntry only).
pub fn validate_export_to(
    namespace: &str,
    export_to: &[String],
    service_entry: bool,
    dr_with_selector: bool,
    v: &mut Validator,
) {
    if export_to.is_empty() {
        return;
    }
    v.field("exportTo", |v| {
        let mut seen: Vec<&str> = Vec::new();
        for e in export_to {
            let key = if e == "." { namespace } else { e.as_str() };
            if seen.contains(&key) {
                if key != e {
                    v.error(format!(
                        "duplicate entries in exportTo: . and current namespace {namespace}"
                    ));
                } else {
                    v.error(format!("duplicate entries in exportTo for entry {e}"));
                }
            } else if service_entry && key == "~" {
                seen.push(key);
            } else if key == "~" {
                v.error("exportTo ~ (none) is not allowed for Istio configuration objects");
            } else if key == "." || key == "*" || is_dns1123_label(key) {
                seen.push(key);
            } else {
                v.error("only .,*, or a valid DNS 1123 label is allowed as exportTo entry");
            }
        }
        if dr_with_selector {
            if export_to.len() > 1 {
                v.error("destination rule with workload selector cannot have multiple entries in exportTo");
            } else if !seen.contains(&namespace) {
                v.error("destination rule with workload selector cannot have exportTo beyond current namespace");
            }
        }
        if seen.contains(&"*") && export_to.len() > 1 {
            v.error("cannot have both public (*) and non-public exportTo values for a resource");
        }
        if seen.contains(&"~") && export_to.len() > 1 {
            v.error("cannot export service entry to no one (~) and someone");
        }
    });
}

/// `labels.Instance.Validate`: the label maps of subsets, `sourceLabels`
/// and endpoints.
pub fn validate_label_instance(labels: &BTreeMap<String, String>, v: &mut Validator) {
    for (k, val) in labels {
        if let Some(why) = tag_key_problem(k) {
            v.error(why);
        }
        if !val.is_empty() && !is_label_value(val) {
            v.error(format!("invalid tag value: {val:?}"));
        }
    }
}

fn tag_key_problem(key: &str) -> Option<String> {
    let (prefix, name) = match key.split_once('/') {
        Some((p, n)) => (Some(p), n),
        None => (None, key),
    };
    if let Some(p) = prefix {
        if p.len() > 253 {
            return Some(format!("invalid tag key: {key:?} (DNS prefix is too long)"));
        }
        if validate_dns1123_labels(p).is_some() {
            return Some(format!("invalid tag key: {key:?}"));
        }
    }
    if name.len() > 63 {
        return Some(format!("invalid tag key: {key:?} (name is too long)"));
    }
    (!is_label_value(name) || name.is_empty()).then(|| format!("invalid tag key: {key:?}"))
}

fn is_label_value(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 63
        && b[0].is_ascii_alphanumeric()
        && b[b.len() - 1].is_ascii_alphanumeric()
        && b.iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'-' | b'_' | b'.'))
}

/// `^[-_A-Za-z0-9]+$`, the CRDs' pattern for header names istiod checks
/// with `ValidateStrictHTTPHeaderName` (JWT claim headers, probe headers).
pub static STRICT_HEADER_NAME: StringSchema = StringSchema::new(1, None, Some("^[-_A-Za-z0-9]+$"));

/// `StringMatch`: exactly one of `exact`, `prefix`, `regex` (a oneof in the
/// proto, enforced by the CRD schema).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct StringMatch {
    pub exact: Option<String>,
    pub prefix: Option<String>,
    pub regex: Option<String>,
}

impl StringMatch {
    /// The CRD's oneOf check, then `validateStringMatch` (or, for `uri`,
    /// `validateStringMatchRegexp`, which allows an empty prefix).
    /// `where_` is the field label istiod quotes (`"headers"`, `"uri"`…).
    pub fn validate(&self, where_: &str, v: &mut Validator) {
        if !v.one_of(&[
            self.exact.is_some(),
            self.prefix.is_some(),
            self.regex.is_some(),
        ]) {
            return;
        }
        if where_ != "uri" && self.prefix.as_deref() == Some("") {
            v.error(format!(
                "{where_:?}: prefix string match should not be empty"
            ));
        }
        if let Some(re) = &self.regex {
            validate_regex(re, where_, v);
        }
    }
}

/// `validateStringRegexp`: RE2 syntax, at most 1024 bytes.
pub fn validate_regex(re: &str, where_: &str, v: &mut Validator) {
    if re.is_empty() {
        v.error(format!(
            "{where_:?}: regex string match should not be empty"
        ));
    } else if re.len() > 1024 {
        v.error(format!(
            "{where_:?}: regex is too large, max length allowed is 1024"
        ));
    } else if let Some(e) = re2_error(re) {
        v.error(format!(
            "{where_:?}: {e}; Istio uses RE2 style regex-based match (https://github.com/google/re2/wiki/Syntax)"
        ));
    }
}

/// Why `expr` is not a valid RE2 expression, worded as Go's `regexp/syntax`
/// words it (`error parsing regexp: missing closing ]: `[a-z``), or `None`.
pub fn re2_error(expr: &str) -> Option<String> {
    use regex_syntax::ast::ErrorKind as K;
    let err = match regex_syntax::ast::parse::Parser::new().parse(expr) {
        Ok(ast) => {
            return regex_syntax::hir::translate::Translator::new()
                .translate(expr, &ast)
                .err()
                .map(|e| format!("error parsing regexp: {}: `{expr}`", e.kind()));
        }
        Err(e) => e,
    };
    let from = |start: usize| expr.get(start..).unwrap_or(expr).to_string();
    let span = err.span();
    let (code, arg) = match err.kind() {
        K::ClassUnclosed => ("missing closing ]", from(span.start.offset)),
        K::GroupUnclosed => ("missing closing )", expr.to_string()),
        K::GroupUnopened => ("unexpected )", expr.to_string()),
        K::RepetitionMissing => (
            "missing argument to repetition operator",
            expr.get(span.start.offset..)
                .and_then(|s| s.chars().next())
                .map(String::from)
                .unwrap_or_default(),
        ),
        K::EscapeUnrecognized | K::EscapeUnexpectedEof => (
            "invalid escape sequence",
            expr.get(span.start.offset..span.end.offset)
                .unwrap_or(expr)
                .to_string(),
        ),
        K::UnsupportedLookAround | K::UnsupportedBackreference => (
            "invalid or unsupported Perl syntax",
            expr.get(span.start.offset..span.end.offset)
                .unwrap_or(expr)
                .to_string(),
        ),
        K::RepetitionCountInvalid | K::RepetitionCountUnclosed | K::RepetitionCountDecimalEmpty => {
            (
                "invalid repeat count",
                expr.get(span.start.offset..span.end.offset)
                    .unwrap_or(expr)
                    .to_string(),
            )
        }
        K::ClassRangeInvalid => (
            "invalid character class range",
            expr.get(span.start.offset..span.end.offset)
                .unwrap_or(expr)
                .to_string(),
        ),
        other => return Some(format!("error parsing regexp: {other}: `{expr}`")),
    };
    Some(format!("error parsing regexp: {code}: `{arg}`"))
}

/// Compiles an Envoy `safe_regex` (RE2) for full-string matching, as Envoy
/// matches it.
pub fn full_match_regex(expr: &str) -> Result<regex::Regex, regex::Error> {
    regex::Regex::new(&format!("^(?:{expr})$"))
}

/// `PortSelector`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct PortSelector {
    pub number: u32,
}

/// `Percent`: a double in [0, 100].
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Percent {
    pub value: f64,
}

/// networking's `WorkloadSelector` (`labels`), used by Sidecar and
/// ServiceEntry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct WorkloadSelector {
    pub labels: BTreeMap<String, String>,
}

/// `type.v1beta1.WorkloadSelector` (`matchLabels`), used by
/// DestinationRule, the security kinds, Telemetry, ProxyConfig.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct WorkloadMatchSelector {
    pub match_labels: BTreeMap<String, String>,
}

impl WorkloadMatchSelector {
    /// The CRD's rules on `matchLabels`.
    pub fn validate_schema(&self, v: &mut Validator) {
        v.field("matchLabels", |v| {
            validate_match_labels(&self.match_labels, v)
        });
    }

    /// `validateWorkloadSelector`'s warning: a selector without labels
    /// selects every workload in the namespace, which is rarely what was
    /// meant.
    pub fn warn_if_empty(&self, v: &mut Validator) {
        if self.match_labels.is_empty() {
            v.warn("workload selector specified without labels");
        }
    }
}

/// The CRD's CEL rules on a `matchLabels` map: two on the map itself (no
/// wildcard keys, no empty keys), each reported once, and one on every
/// value string (no wildcards).
pub fn validate_match_labels(labels: &BTreeMap<String, String>, v: &mut Validator) {
    if labels.keys().any(|k| k.contains('*')) {
        v.cel("object", "wildcard not allowed in label key match");
    }
    if labels.keys().any(String::is_empty) {
        v.cel("object", "key must not be empty");
    }
    for (key, value) in labels {
        if value.contains('*') {
            v.field(key, |v| {
                v.cel("string", "wildcard not allowed in label value match")
            });
        }
    }
}

/// `PolicyTargetReference`, used by the security kinds, Telemetry and
/// EnvoyFilter to bind to a Service, ServiceEntry, Gateway or GatewayClass.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct TargetRef {
    pub group: String,
    pub kind: String,
    pub name: String,
    pub namespace: String,
}

impl TargetRef {
    /// The CRD schema: required fields, lengths, patterns, and the CEL rule
    /// against other namespaces.
    pub fn validate_schema(&self, v: &mut Validator) {
        GROUP.optional(v, "group", Some(&self.group));
        KIND.required_str(v, "kind", &self.kind);
        OBJECT_NAME.required_str(v, "name", &self.name);
        if !self.namespace.is_empty() {
            v.field("namespace", |v| {
                v.cel(
                    "string",
                    "cross namespace referencing is not currently supported",
                )
            });
        }
    }

    /// `validatePolicyTargetReference`'s kind check.
    fn kind_problem(&self) -> Option<String> {
        /// The targets istiod allows, as `%v` prints its
        /// `[]GroupVersionKind`.
        const ALLOWED: &str = "[core/v1/Service networking.istio.io/v1/ServiceEntry gateway.networking.k8s.io/v1beta1/Gateway gateway.networking.k8s.io/v1beta1/GatewayClass]";
        let group = if self.group.is_empty() {
            "core"
        } else {
            &self.group
        };
        let allowed = matches!(
            (group, self.kind.as_str()),
            ("core", "Service")
                | ("networking.istio.io", "ServiceEntry")
                | ("gateway.networking.k8s.io", "Gateway" | "GatewayClass")
        );
        (!allowed).then(|| {
            format!(
                "targetRef must be to one of {ALLOWED} but was {}/{}",
                self.group, self.kind
            )
        })
    }
}

/// How a security policy or Telemetry picks the proxies it applies to: a
/// workload selector, or references to a Service, ServiceEntry, Gateway or
/// GatewayClass (for waypoints and gateways). At most one of the three may
/// be set.
pub struct PolicyTargets<'a> {
    selector: Option<&'a WorkloadMatchSelector>,
    target_ref: Option<&'a TargetRef>,
    target_refs: &'a [TargetRef],
}

impl<'a> PolicyTargets<'a> {
    pub fn new(
        selector: &'a Option<WorkloadMatchSelector>,
        target_ref: &'a Option<TargetRef>,
        target_refs: &'a [TargetRef],
    ) -> Self {
        PolicyTargets {
            selector: selector.as_ref(),
            target_ref: target_ref.as_ref(),
            target_refs,
        }
    }

    /// The CRD rules: the spec-level CEL rule, the selector's label rules,
    /// and each reference's schema.
    pub fn validate_schema(&self, v: &mut Validator) {
        if let Some(s) = self.selector {
            v.field("selector", |v| s.validate_schema(v));
        }
        if let Some(t) = self.target_ref {
            v.field("targetRef", |v| t.validate_schema(v));
        }
        v.list("targetRefs", self.target_refs, 16, |v, _, t| {
            t.validate_schema(v)
        });
        let set = [
            self.selector.is_some(),
            self.target_ref.is_some(),
            !self.target_refs.is_empty(),
        ];
        if set.iter().filter(|s| **s).count() > 1 {
            v.cel("object", "only one of targetRefs or selector can be set");
        }
    }

    /// `validatePolicyTargetReference(s)`: the kinds a policy may target,
    /// each message after `prefix`. (The name, namespace and one-of checks
    /// repeat the CRD's.)
    pub fn validate_webhook(&self, prefix: &str, v: &mut Validator) {
        if let Some(e) = self.target_ref.and_then(TargetRef::kind_problem) {
            v.field("targetRef", |v| v.error(format!("{prefix}{e}")));
        }
        v.each("targetRefs", self.target_refs, |v, _, t| {
            if let Some(e) = t.kind_problem() {
                v.error(format!("{prefix}{e}"));
            }
        });
    }

    /// `validateWorkloadSelector`'s warning on an empty selector.
    pub fn warn_empty_selector(&self, v: &mut Validator) {
        if let Some(s) = self.selector {
            v.field("selector", |v| s.warn_if_empty(v));
        }
    }
}

const DRY_RUN: &str = "istio.io/dry-run";

/// What `validateMetadata`, which wraps every Istio validator, rejects an
/// object for: the annotation and istiod's message, the first problem
/// only. `authz_action` is the action of an AuthorizationPolicy, the only
/// kind that may carry `istio.io/dry-run` (and only with ALLOW or DENY).
fn reserved_annotation_problem(
    meta: &ObjectMeta,
    authz_action: Option<&str>,
) -> Option<(&'static str, String)> {
    const ALWAYS_REJECT: &str = "internal.istio.io/webhook-always-reject";
    const PARENTS: [&str; 2] = [
        "internal.istio.io/parent-namespace",
        "internal.istio.io/parents",
    ];
    if let Some(e) = dry_run_problem(meta, authz_action) {
        return Some((DRY_RUN, e));
    }
    if meta.annotations.contains_key(ALWAYS_REJECT) {
        return Some((
            ALWAYS_REJECT,
            format!("{ALWAYS_REJECT:?} annotation found, rejecting"),
        ));
    }
    PARENTS
        .into_iter()
        .find(|a| meta.annotations.contains_key(*a))
        .map(|a| {
            (
                a,
                format!("{a:?} annotation found, this may not be set by users"),
            )
        })
}

/// `checkDryRunAnnotation`.
fn dry_run_problem(meta: &ObjectMeta, authz_action: Option<&str>) -> Option<String> {
    let value = meta.annotations.get(DRY_RUN)?;
    let at = format!("{}/{}", meta.namespace(), meta.name);
    match authz_action {
        None => Some(format!(
            "{at} has unsupported annotation {DRY_RUN}, please remove the annotation"
        )),
        Some("ALLOW" | "DENY") => (!is_go_bool(value)).then(|| {
            format!(
                "{at} has annotation {DRY_RUN} with invalid value ({value}): strconv.ParseBool: parsing {value:?}: invalid syntax"
            )
        }),
        Some(action) => Some(format!(
            "the annotation {DRY_RUN} currently only supports action ALLOW/DENY, found action {action} in {at}"
        )),
    }
}

/// `strconv.ParseBool`'s accepted spellings.
fn is_go_bool(s: &str) -> bool {
    matches!(
        s,
        "1" | "t" | "T" | "TRUE" | "true" | "True" | "0" | "f" | "F" | "FALSE" | "false" | "False"
    )
}

/// `validateMetadata` for the security kinds and Telemetry: it runs once
/// the CRD rules passed, reports at `metadata.annotations` and, on a
/// problem, ends validation, as istiod's webhook does. Returns whether
/// validation goes on.
pub fn reject_reserved_annotations(
    meta: &ObjectMeta,
    authz_action: Option<&str>,
    v: &mut Validator,
) -> bool {
    let Some((_, message)) = reserved_annotation_problem(meta, authz_action) else {
        return true;
    };
    v.field("metadata", |v| v.field("annotations", |v| v.error(message)));
    false
}

/// The metadata checks the networking kinds start with: the apiserver's,
/// then `validateMetadata`, whose problem is reported at the annotation
/// (validation goes on).
pub fn validate_istio_metadata(meta: &ObjectMeta, v: &mut Validator) {
    meta.validate(NameRule::Dns1123Subdomain, v);
    if let Some((key, message)) = reserved_annotation_problem(meta, None) {
        v.field("metadata", |v| {
            v.field("annotations", |v| v.field(key, |v| v.error(message)))
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("reviews", None)]
    #[test_case("reviews.bookinfo.svc.cluster.local", None)]
    #[test_case("*.example.com", None)]
    #[test_case("*", None)]
    #[test_case("", Some("empty domain name not allowed"))]
    // istiod checks the labels after the first as their own domain, so the
    // message names only that part.
    #[test_case(
        "foo.*.com",
        Some("domain name \"*.com\" invalid (label \"*\" invalid)")
    )]
    #[test_case(
        "a.123",
        Some("domain name \"123\" invalid (top level domain \"123\" cannot be all-numeric)")
    )]
    #[test_case(
        "bad_host",
        Some("domain name \"bad_host\" invalid (label \"bad_host\" invalid)")
    )]
    fn wildcard_domains(host: &str, want: Option<&str>) {
        assert_eq!(validate_wildcard_domain(host).as_deref(), want);
    }

    #[test_case("[a-z", Some("error parsing regexp: missing closing ]: `[a-z`"))]
    #[test_case("(abc", Some("error parsing regexp: missing closing ): `(abc`"))]
    #[test_case(
        "*abc",
        Some("error parsing regexp: missing argument to repetition operator: `*`")
    )]
    #[test_case(".*Chrome.*", None)]
    #[test_case("^/api/v[0-9]+/.*$", None)]
    fn re2_errors_in_gos_words(expr: &str, want: Option<&str>) {
        assert_eq!(re2_error(expr).as_deref(), want);
    }

    #[test]
    fn export_to_rules() {
        let run = |entries: &[&str], se: bool| {
            let mut v = Validator::new();
            let e: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
            validate_export_to("bookinfo", &e, se, false, &mut v);
            v.into_findings()
                .into_iter()
                .map(|f| f.message)
                .collect::<Vec<_>>()
        };
        assert!(run(&[".", "istio-system"], false).is_empty());
        // The wording depends on which spelling came second, as in istiod.
        assert_eq!(
            run(&["bookinfo", "."], false),
            vec!["duplicate entries in exportTo: . and current namespace bookinfo"]
        );
        assert_eq!(
            run(&[".", "bookinfo"], false),
            vec!["duplicate entries in exportTo for entry bookinfo"]
        );
        assert_eq!(
            run(&["~"], false),
            vec!["exportTo ~ (none) is not allowed for Istio configuration objects"]
        );
        assert!(run(&["~"], true).is_empty());
        assert_eq!(
            run(&["*", "a"], false),
            vec!["cannot have both public (*) and non-public exportTo values for a resource"]
        );
        assert_eq!(
            run(&["Bad_ns"], false),
            vec!["only .,*, or a valid DNS 1123 label is allowed as exportTo entry"]
        );
    }

    #[test]
    fn string_match_oneof_and_regex() {
        let mut v = Validator::new();
        StringMatch {
            exact: Some("a".into()),
            prefix: Some("b".into()),
            regex: None,
        }
        .validate("headers", &mut v);
        StringMatch {
            regex: Some("[".into()),
            ..Default::default()
        }
        .validate("uri", &mut v);
        StringMatch {
            prefix: Some(String::new()),
            ..Default::default()
        }
        .validate("headers", &mut v);
        StringMatch {
            prefix: Some(String::new()),
            ..Default::default()
        }
        .validate("uri", &mut v);
        let msgs: Vec<String> = v.into_findings().into_iter().map(|f| f.message).collect();
        assert_eq!(msgs.len(), 3, "{msgs:?}");
        assert!(msgs[0].contains("oneOf"));
        assert!(msgs[1].starts_with("\"uri\": error parsing regexp: missing closing ]"));
        assert_eq!(
            msgs[2],
            "\"headers\": prefix string match should not be empty"
        );
    }

    // Two CEL rules sit on the matchLabels map and fail once each; the
    // value rule sits on every value string.
    #[test]
    fn match_label_rules_sit_on_the_map_and_on_each_value() {
        let mut v = Validator::new();
        let labels: BTreeMap<String, String> = [("a*", "x"), ("b*", "y"), ("", "*"), ("c", "*")]
            .into_iter()
            .map(|(k, val)| (k.to_string(), val.to_string()))
            .collect();
        v.field("matchLabels", |v| validate_match_labels(&labels, v));
        let got: Vec<String> = v
            .into_findings()
            .iter()
            .map(|f| format!("{}: {}", f.path_text(), f.message))
            .collect();
        assert_eq!(
            got,
            [
                r#"matchLabels: Invalid value: "object": wildcard not allowed in label key match"#,
                r#"matchLabels: Invalid value: "object": key must not be empty"#,
                r#"matchLabels.: Invalid value: "string": wildcard not allowed in label value match"#,
                r#"matchLabels.c: Invalid value: "string": wildcard not allowed in label value match"#,
            ]
        );
    }

    #[test]
    fn regexes_match_the_whole_string() {
        let re = full_match_regex("v1|v2").unwrap();
        assert!(re.is_match("v1"));
        assert!(!re.is_match("v10"));
    }
}
