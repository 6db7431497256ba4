//! security.istio.io: PeerAuthentication (which connections must use
//! mTLS), AuthorizationPolicy (who may call what) and RequestAuthentication
//! (which JWTs are accepted), as istio/api `security/v1beta1` defines them
//! in Istio 1.27 (served as v1 and v1beta1, which share one schema).
//!
//! Validation runs in the order a cluster applies it. First the CRD schema
//! and its CEL rules (`manifests/charts/base/files/crd-all.gen.yaml`); only
//! when they pass does istiod's webhook run (`ValidateAuthorizationPolicy`
//! and friends in `pkg/config/validation/validation.go`, helpers in
//! `pkg/config/security/security.go`, tag 1.27.9), and its warnings are only
//! printed when it accepts the object. Webhook checks that the CRD always
//! catches first are not repeated.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::kinds::Validate;
use super::meta::{NameRule, ObjectMeta};
use super::networking::common::{
    PolicyTargets, STRICT_HEADER_NAME, TargetRef, WorkloadMatchSelector,
    reject_reserved_annotations,
};
use super::types::Duration;
use super::validate::{NON_EMPTY, StringSchema, Validator};
use crate::spec_resources;

// ---------------------------------------------------------------------------
// PeerAuthentication
// ---------------------------------------------------------------------------

/// Whether a workload's inbound connections must, may or must not use
/// Istio mTLS; `portLevelMtls` overrides it per container port.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct PeerAuthentication {
    pub selector: Option<WorkloadMatchSelector>,
    pub mtls: Option<MutualTls>,
    pub port_level_mtls: Option<BTreeMap<u32, MutualTls>>,
}

/// The mTLS setting of a workload or one of its ports.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct MutualTls {
    pub mode: MtlsMode,
}

/// `UNSET` inherits from the parent policy (workload → namespace → mesh;
/// PERMISSIVE at the top).
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum MtlsMode {
    #[default]
    #[serde(rename = "UNSET")]
    Unset,
    /// Plaintext only.
    #[serde(rename = "DISABLE")]
    Disable,
    /// Accepts both mTLS and plaintext.
    #[serde(rename = "PERMISSIVE")]
    Permissive,
    /// mTLS only: plaintext connections are reset.
    #[serde(rename = "STRICT")]
    Strict,
}

impl Validate for PeerAuthentication {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(NameRule::Dns1123Subdomain, v);
        let targets = PolicyTargets::new(&self.selector, &None, &[]);
        v.field("spec", |v| {
            targets.validate_schema(v);
            if let Some(ports) = &self.port_level_mtls {
                v.field("portLevelMtls", |v| {
                    if ports.is_empty() {
                        v.too_few_properties(0, 1);
                    }
                    if ports.keys().any(|p| !(1..=65535).contains(p)) {
                        v.cel("object", "port must be between 1-65535");
                    }
                });
                if self
                    .selector
                    .as_ref()
                    .is_none_or(|s| s.match_labels.is_empty())
                {
                    v.cel("object", "portLevelMtls requires selector");
                }
            }
        });
        // istiod's own port checks in ValidatePeerAuthentication repeat the
        // CRD's rules above; what is left for the webhook is the warning.
        if v.has_errors() || !reject_reserved_annotations(meta, None, v) {
            return;
        }
        v.field("spec", |v| targets.warn_empty_selector(v));
    }
}

// ---------------------------------------------------------------------------
// AuthorizationPolicy
// ---------------------------------------------------------------------------

/// Access control for the selected workloads (or the targeted waypoint or
/// gateway). With `action: ALLOW` (the default) a request is allowed when
/// any rule matches; `spec: {}` has no rules and so denies everything, while
/// `rules: [{}]` has one rule that matches everything.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct AuthorizationPolicy {
    pub selector: Option<WorkloadMatchSelector>,
    pub target_ref: Option<TargetRef>,
    pub target_refs: Vec<TargetRef>,
    pub rules: Vec<Rule>,
    pub action: Action,
    pub provider: Option<ExtensionProvider>,
}

/// Evaluation order in the proxy: CUSTOM, then DENY, then ALLOW; AUDIT only
/// marks requests for logging.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum Action {
    #[default]
    #[serde(rename = "ALLOW")]
    Allow,
    #[serde(rename = "DENY")]
    Deny,
    #[serde(rename = "AUDIT")]
    Audit,
    /// Delegates the decision to the `provider` (an ext_authz server from
    /// the mesh config).
    #[serde(rename = "CUSTOM")]
    Custom,
}

impl Action {
    pub fn name(self) -> &'static str {
        match self {
            Action::Allow => "ALLOW",
            Action::Deny => "DENY",
            Action::Audit => "AUDIT",
            Action::Custom => "CUSTOM",
        }
    }
}

/// The mesh config `extensionProviders` entry a CUSTOM policy asks.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ExtensionProvider {
    pub name: Option<String>,
}

/// A rule matches when every non-empty part matches: any `from`, any `to`,
/// all `when` conditions.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Rule {
    pub from: Vec<RuleFrom>,
    pub to: Vec<RuleTo>,
    pub when: Vec<Condition>,
}

/// One alternative caller (the proto's `Rule.From`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RuleFrom {
    pub source: Option<Source>,
}

/// One alternative operation (the proto's `Rule.To`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RuleTo {
    pub operation: Option<Operation>,
}

/// Who the caller is. Principals come from the peer's mTLS certificate
/// (`cluster.local/ns/<ns>/sa/<sa>`), request principals from a verified
/// JWT (`<iss>/<sub>`), IP blocks from the connection (`remote` honours
/// X-Forwarded-For). All fields are ANDed; values within one are ORed.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Source {
    pub principals: Vec<String>,
    pub not_principals: Vec<String>,
    pub request_principals: Vec<String>,
    pub not_request_principals: Vec<String>,
    pub namespaces: Vec<String>,
    pub not_namespaces: Vec<String>,
    pub service_accounts: Vec<String>,
    pub not_service_accounts: Vec<String>,
    pub ip_blocks: Vec<String>,
    pub not_ip_blocks: Vec<String>,
    pub remote_ip_blocks: Vec<String>,
    pub not_remote_ip_blocks: Vec<String>,
}

/// What is called. Hosts, methods and paths are HTTP-only: a rule using
/// them never matches TCP traffic.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Operation {
    pub hosts: Vec<String>,
    pub not_hosts: Vec<String>,
    pub ports: Vec<String>,
    pub not_ports: Vec<String>,
    pub methods: Vec<String>,
    pub not_methods: Vec<String>,
    pub paths: Vec<String>,
    pub not_paths: Vec<String>,
}

/// An extra attribute check such as `request.headers[x-token]`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Condition {
    pub key: Option<String>,
    pub values: Vec<String>,
    pub not_values: Vec<String>,
}

/// One list of a Source or Operation: its JSON name, the Go field name
/// istiod's messages use, and the values.
type NamedList<'a> = (&'static str, &'static str, &'a [String]);

impl Source {
    /// The lists in the order istiod checks them for empty values.
    fn lists(&self) -> [NamedList<'_>; 12] {
        [
            ("principals", "Principals", &self.principals),
            (
                "requestPrincipals",
                "RequestPrincipals",
                &self.request_principals,
            ),
            ("namespaces", "Namespaces", &self.namespaces),
            ("serviceAccounts", "ServiceAccounts", &self.service_accounts),
            ("ipBlocks", "IpBlocks", &self.ip_blocks),
            ("remoteIpBlocks", "RemoteIpBlocks", &self.remote_ip_blocks),
            ("notPrincipals", "NotPrincipals", &self.not_principals),
            (
                "notRequestPrincipals",
                "NotRequestPrincipals",
                &self.not_request_principals,
            ),
            ("notNamespaces", "NotNamespaces", &self.not_namespaces),
            (
                "notServiceAccounts",
                "NotServiceAccounts",
                &self.not_service_accounts,
            ),
            ("notIpBlocks", "NotIpBlocks", &self.not_ip_blocks),
            (
                "notRemoteIpBlocks",
                "NotRemoteIpBlocks",
                &self.not_remote_ip_blocks,
            ),
        ]
    }

    fn list(&self, json: &str) -> &[String] {
        self.lists()
            .into_iter()
            .find(|(j, _, _)| *j == json)
            .map_or(&[], |(_, _, l)| l)
    }

    fn is_empty(&self) -> bool {
        self.lists().iter().all(|(_, _, l)| l.is_empty())
    }

    /// Whether the source uses anything besides request principals, i.e.
    /// something a TCP connection can be matched on.
    fn has_tcp_attributes(&self) -> bool {
        self.lists().iter().any(|(json, _, l)| {
            !l.is_empty() && !matches!(*json, "requestPrincipals" | "notRequestPrincipals")
        })
    }
}

impl Operation {
    /// The lists in the order istiod checks them for empty values.
    fn lists(&self) -> [NamedList<'_>; 8] {
        [
            ("ports", "Ports", &self.ports),
            ("methods", "Methods", &self.methods),
            ("paths", "Paths", &self.paths),
            ("hosts", "Hosts", &self.hosts),
            ("notPorts", "NotPorts", &self.not_ports),
            ("notMethods", "NotMethods", &self.not_methods),
            ("notPaths", "NotPaths", &self.not_paths),
            ("notHosts", "NotHosts", &self.not_hosts),
        ]
    }

    fn is_empty(&self) -> bool {
        self.lists().iter().all(|(_, _, l)| l.is_empty())
    }
}

/// Source fields a CUSTOM policy cannot use (the ext_authz filter runs
/// before identities are known), in istiod's order.
const CUSTOM_UNSUPPORTED_SOURCE: [(&str, &str); 8] = [
    ("namespaces", "From.Namespaces"),
    ("notNamespaces", "From.NotNamespaces"),
    ("serviceAccounts", "From.ServiceAccounts"),
    ("notServiceAccounts", "From.NotServiceAccounts"),
    ("principals", "From.Principals"),
    ("notPrincipals", "From.NotPrincipals"),
    ("requestPrincipals", "From.RequestPrincipals"),
    ("notRequestPrincipals", "From.NotRequestPrincipals"),
];

const NO_RULES: &str = "action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request";

impl Validate for AuthorizationPolicy {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(NameRule::Dns1123Subdomain, v);
        v.field("spec", |v| self.validate_schema(v));
        if v.has_errors() || !reject_reserved_annotations(meta, Some(self.action.name()), v) {
            return;
        }
        // `multierror.Prefix(errs, "invalid policy <name>.<namespace>:")`.
        let prefix = format!("invalid policy {}.{}: ", meta.name, meta.namespace());
        v.field("spec", |v| self.validate_webhook(&prefix, v));
        if !v.has_errors() {
            v.field("spec", |v| self.warnings(v));
        }
    }
}

impl AuthorizationPolicy {
    fn targets(&self) -> PolicyTargets<'_> {
        PolicyTargets::new(&self.selector, &self.target_ref, &self.target_refs)
    }

    /// The CRD's OpenAPI and CEL rules.
    fn validate_schema(&self, v: &mut Validator) {
        self.targets().validate_schema(v);
        v.list("rules", &self.rules, 512, |v, _, rule| {
            v.list("from", &rule.from, 512, |v, _, from| {
                let Some(src) = &from.source else { return };
                v.field("source", |v| {
                    for key in ["serviceAccounts", "notServiceAccounts"] {
                        v.list(key, src.list(key), 16, |v, _, sa| {
                            if sa.len() > 320 {
                                v.too_long(320);
                            }
                        });
                    }
                    let has_accounts =
                        !src.service_accounts.is_empty() || !src.not_service_accounts.is_empty();
                    let has_identities = !src.principals.is_empty()
                        || !src.not_principals.is_empty()
                        || !src.namespaces.is_empty()
                        || !src.not_namespaces.is_empty();
                    if has_accounts && has_identities {
                        v.cel(
                            "object",
                            "Cannot set serviceAccounts with namespaces or principals",
                        );
                    }
                });
            });
            v.each("when", &rule.when, |v, _, cond| {
                if cond.key.is_none() {
                    v.required_field("key");
                }
            });
        });
    }

    /// `ValidateAuthorizationPolicy`, less what the CRD already rejected
    /// (selector labels, several target kinds, serviceAccounts limits and
    /// the serviceAccounts/principals conflict). Lists that are empty and
    /// lists that are absent are the same thing to istiod (its JSON decoder
    /// leaves both nil), so its "`from` must not be empty" and the null
    /// checks cannot fire for YAML input.
    fn validate_webhook(&self, prefix: &str, v: &mut Validator) {
        let err = |v: &mut Validator, msg: &str| v.error(format!("{prefix}{msg}"));
        self.targets().validate_webhook(prefix, v);
        if self.action == Action::Custom {
            if self.rules.is_empty() {
                v.field("action", |v| err(v, &format!("CUSTOM {NO_RULES}")));
            } else if self
                .provider
                .as_ref()
                .and_then(|p| p.name.as_deref())
                .is_none_or(str::is_empty)
            {
                v.field("provider", |v| err(v, "`provider.name` must not be empty"));
            }
            v.each("rules", &self.rules, |v, _, rule| {
                v.each("from", &rule.from, |v, _, from| {
                    let Some(src) = &from.source else { return };
                    v.field("source", |v| {
                        for (json, go) in CUSTOM_UNSUPPORTED_SOURCE {
                            if !src.list(json).is_empty() {
                                v.field(json, |v| {
                                    err(
                                        v,
                                        &format!(
                                            "{go} is currently not supported with CUSTOM action"
                                        ),
                                    )
                                });
                            }
                        }
                    });
                });
                v.each("when", &rule.when, |v, _, cond| {
                    let key = cond.key.as_deref().unwrap_or("");
                    if matches!(
                        key,
                        "source.namespace" | "source.serviceAccount" | "source.principal"
                    ) || key.starts_with("request.auth.")
                    {
                        v.field("key", |v| {
                            err(
                                v,
                                &format!("{key} is currently not supported with CUSTOM action"),
                            )
                        });
                    }
                });
            });
        }
        if self.provider.is_some() && self.action != Action::Custom {
            v.field("provider", |v| {
                err(
                    v,
                    &format!(
                        "`provider` must not be with non CUSTOM action, found {}",
                        self.action.name()
                    ),
                )
            });
        }
        if self.action == Action::Deny && self.rules.is_empty() {
            v.field("action", |v| err(v, &format!("DENY {NO_RULES}")));
        }
        v.each("rules", &self.rules, |v, i, rule| {
            v.each("from", &rule.from, |v, _, from| match &from.source {
                None => err(
                    v,
                    &format!("`from.source` must not be nil, found at rule {i}"),
                ),
                Some(src) => v.field("source", |v| {
                    if src.is_empty() {
                        err(
                            v,
                            &format!("`from.source` must not be empty, found at rule {i}"),
                        );
                    }
                    for key in [
                        "ipBlocks",
                        "notIpBlocks",
                        "remoteIpBlocks",
                        "notRemoteIpBlocks",
                    ] {
                        for e in validate_ips(src.list(key)) {
                            v.field(key, |v| err(v, &e));
                        }
                    }
                    for (json, go, list) in src.lists() {
                        let problem = if matches!(json, "serviceAccounts" | "notServiceAccounts") {
                            check_service_account(go, list)
                        } else {
                            check_empty_values(go, list)
                        };
                        if let Some(e) = problem {
                            v.field(json, |v| err(v, &e));
                        }
                    }
                }),
            });
            v.each("to", &rule.to, |v, _, to| match &to.operation {
                None => err(
                    v,
                    &format!("`to.operation` must not be nil, found at rule {i}"),
                ),
                Some(op) => v.field("operation", |v| {
                    if op.is_empty() {
                        err(
                            v,
                            &format!("`to.operation` must not be empty, found at rule {i}"),
                        );
                    }
                    for (key, list) in [("ports", &op.ports), ("notPorts", &op.not_ports)] {
                        for e in validate_ports(list) {
                            v.field(key, |v| err(v, &e));
                        }
                    }
                    for (json, go, list) in op.lists() {
                        if let Some(e) = check_empty_values(go, list) {
                            v.field(json, |v| err(v, &e));
                        }
                    }
                    for (json, go, list) in [
                        ("paths", "Paths", &op.paths),
                        ("notPaths", "NotPaths", &op.not_paths),
                    ] {
                        if let Some(e) = check_valid_path_template(go, list) {
                            v.field(json, |v| err(v, &e));
                        }
                    }
                }),
            });
            v.each("when", &rule.when, |v, _, cond| {
                let Some(key) = cond.key.as_deref() else {
                    return;
                };
                if key.is_empty() {
                    v.field("key", |v| err(v, "`key` must not be empty"));
                } else if cond.values.is_empty() && cond.not_values.is_empty() {
                    err(
                        v,
                        &format!(
                            "at least one of `values` or `notValues` must be set for key {key}"
                        ),
                    );
                } else {
                    // Both lists are checked even when one is empty, so an
                    // unknown key is reported twice.
                    if let Some(e) = validate_attribute(key, &cond.values) {
                        v.field("values", |v| {
                            err(v, &format!("invalid `value` for `key` {key}: {e}"))
                        });
                    }
                    if let Some(e) = validate_attribute(key, &cond.not_values) {
                        v.field("notValues", |v| {
                            err(v, &format!("invalid `notValue` for `key` {key}: {e}"))
                        });
                    }
                }
            });
        });
    }

    fn warnings(&self, v: &mut Validator) {
        self.targets().warn_empty_selector(v);
        if self.action != Action::Deny {
            return;
        }
        v.each("rules", &self.rules, |v, _, rule| {
            let sources: Vec<&Source> = rule.from.iter().filter_map(|f| f.source.as_ref()).collect();
            let operations: Vec<&Operation> =
                rule.to.iter().filter_map(|t| t.operation.as_ref()).collect();
            let tcp_in_from = sources.iter().any(|s| s.has_tcp_attributes());
            let tcp_in_to = operations
                .iter()
                .any(|o| !o.ports.is_empty() || !o.not_ports.is_empty());
            let from_only_http = !sources.is_empty() && operations.is_empty() && !tcp_in_from;
            let to_only_http = !operations.is_empty() && !tcp_in_to;
            if from_only_http || to_only_http {
                v.warn("configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port");
            }
        });
    }
}

// ---------------------------------------------------------------------------
// RequestAuthentication
// ---------------------------------------------------------------------------

/// Which JWTs the selected workloads accept. A request without a token is
/// still let through (an AuthorizationPolicy on `requestPrincipals` is what
/// requires one); a token that fails verification gets 401.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RequestAuthentication {
    pub selector: Option<WorkloadMatchSelector>,
    pub target_ref: Option<TargetRef>,
    pub target_refs: Vec<TargetRef>,
    pub jwt_rules: Vec<JwtRule>,
}

/// One accepted issuer and where its keys and tokens come from.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct JwtRule {
    pub issuer: Option<String>,
    pub audiences: Vec<String>,
    pub jwks_uri: Option<String>,
    /// The proto's original field name, which the CRD and istiod also
    /// accept; see [`JwtRule::jwks_uri`].
    #[serde(rename = "jwks_uri")]
    pub jwks_uri_alt: Option<String>,
    /// An inline JSON Web Key Set, instead of fetching `jwksUri`.
    pub jwks: Option<String>,
    /// Where to look for the token; by default the `Authorization: Bearer`
    /// header and the `access_token` query parameter.
    pub from_headers: Vec<JwtHeader>,
    pub from_params: Vec<String>,
    pub output_payload_to_header: Option<String>,
    pub from_cookies: Vec<String>,
    pub forward_original_token: Option<bool>,
    pub output_claim_to_headers: Vec<ClaimToHeader>,
    /// How long istiod waits when fetching the JWKS.
    pub timeout: Option<Duration>,
}

/// A header carrying the token.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct JwtHeader {
    pub name: Option<String>,
    /// Stripped from the header value, e.g. `Bearer `.
    pub prefix: Option<String>,
}

/// Copies a claim of a verified token into a request header for the
/// backend.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ClaimToHeader {
    pub header: Option<String>,
    pub claim: Option<String>,
}

impl JwtRule {
    /// The JWKS URI under either spelling (`jwksUri` wins when both are
    /// given, as in istiod's JSON decoder).
    pub fn jwks_uri(&self) -> Option<&str> {
        self.jwks_uri.as_deref().or(self.jwks_uri_alt.as_deref())
    }

    /// The CRD's rules for one entry of `jwtRules`.
    fn validate_schema(&self, v: &mut Validator) {
        NON_EMPTY.optional(v, "issuer", self.issuer.as_deref());
        for (key, list) in [
            ("audiences", &self.audiences),
            ("fromParams", &self.from_params),
            ("fromCookies", &self.from_cookies),
        ] {
            v.each(key, list, |v, _, item| {
                NON_EMPTY.check(v, item);
            });
        }
        for (key, uri) in [
            ("jwksUri", &self.jwks_uri),
            ("jwks_uri", &self.jwks_uri_alt),
        ] {
            if let Some(uri) = uri {
                v.field(key, |v| validate_jwks_uri_schema(uri, v));
            }
        }
        v.each("fromHeaders", &self.from_headers, |v, _, h| {
            NON_EMPTY.required(v, "name", h.name.as_deref());
        });
        v.each(
            "outputClaimToHeaders",
            &self.output_claim_to_headers,
            |v, _, c| {
                STRICT_HEADER_NAME.required(v, "header", c.header.as_deref());
                NON_EMPTY.required(v, "claim", c.claim.as_deref());
            },
        );
        if let Some(t) = &self.timeout {
            // The CRD's duration rule, then ValidateDuration's precision
            // check from validateJwtRule.
            v.field("timeout", |v| t.validate(v));
        }
        let sources = [&self.jwks_uri, &self.jwks_uri_alt, &self.jwks]
            .iter()
            .filter(|s| s.is_some())
            .count();
        if sources > 1 {
            v.cel("object", "only one of jwks or jwksUri can be set");
        }
    }

    /// What `validateJwtRule` adds to the CRD: an issuer or a JWKS URI, and
    /// an inline JWKS that parses. (Its URI, header and duration checks
    /// repeat the CRD's.)
    fn validate_webhook(&self, v: &mut Validator) {
        if self.issuer.as_deref().unwrap_or("").is_empty()
            && self.jwks_uri().unwrap_or("").is_empty()
        {
            v.error("issuer or jwksUri must be non-empty string");
        }
        if let Some(e) = self
            .jwks
            .as_deref()
            .filter(|j| !j.is_empty())
            .and_then(jwks_parse_error)
        {
            v.field("jwks", |v| v.error(format!("jwks parse error: {e}")));
        }
    }
}

impl Validate for RequestAuthentication {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(NameRule::Dns1123Subdomain, v);
        let targets = PolicyTargets::new(&self.selector, &self.target_ref, &self.target_refs);
        v.field("spec", |v| {
            targets.validate_schema(v);
            v.list("jwtRules", &self.jwt_rules, 4096, |v, _, rule| {
                rule.validate_schema(v)
            });
        });
        if v.has_errors() || !reject_reserved_annotations(meta, None, v) {
            return;
        }
        v.field("spec", |v| {
            targets.validate_webhook("", v);
            v.each("jwtRules", &self.jwt_rules, |v, _, rule| {
                rule.validate_webhook(v)
            });
        });
        if !v.has_errors() {
            v.field("spec", |v| targets.warn_empty_selector(v));
        }
    }
}

spec_resources!(
    PeerAuthentication,
    AuthorizationPolicy,
    RequestAuthentication
);

// ---------------------------------------------------------------------------
// pkg/config/security: the attribute, IP, port and path checks
// ---------------------------------------------------------------------------

/// `CheckEmptyValues`.
fn check_empty_values(key: &str, values: &[String]) -> Option<String> {
    values
        .iter()
        .any(String::is_empty)
        .then(|| format!("empty value not allowed, found in {key}"))
}

/// `CheckServiceAccount`: `name` or `namespace/name`, no wildcards. Only
/// the first problem is reported.
fn check_service_account(key: &str, values: &[String]) -> Option<String> {
    if values.len() > 16 {
        return Some("may not have more than 16 values".to_string());
    }
    const FORMAT: &str = "expected format 'serviceAccount' or 'namespace/serviceAccount', found";
    values.iter().find_map(|value| {
        if value.is_empty() {
            Some(format!("empty value not allowed, found in {key}"))
        } else if value.contains('*') {
            Some(format!("wildcard not allowed, found in {key}"))
        } else if value.matches('/').count() > 1 {
            Some(format!("{FORMAT} {value:?} in {key}"))
        } else if value.len() > 320 {
            Some(format!(
                "value cannot exceed 320 characters, found {value:?} in {key}"
            ))
        } else {
            match value.split_once('/') {
                Some(("", _)) => Some(format!("{FORMAT} empty namespace {value:?} in {key}")),
                Some((_, "")) => Some(format!("{FORMAT} empty serviceAccount {value:?} in {key}")),
                _ => None,
            }
        }
    })
}

/// `CheckValidPathTemplate`: `{*}` matches one segment, `{**}` the rest
/// and must come last; with a template, other segments must be plain.
fn check_valid_path_template(key: &str, paths: &[String]) -> Option<String> {
    paths.iter().find_map(|path| {
        let has_template = path.contains("{*}") || path.contains("{**}");
        let path = path.trim_matches('/');
        let mut seen_any = false;
        for glob in path.split('/') {
            let invalid = |why: String| {
                Some(format!(
                    "invalid or unsupported path {path}, found in {key}. {why}"
                ))
            };
            match glob {
                "{*}" | "{**}" if seen_any => {
                    return invalid("{**} is not the last operator".to_string());
                }
                "{*}" => continue,
                "{**}" => {
                    seen_any = true;
                    continue;
                }
                _ => {}
            }
            if glob.contains(['{', '}']) {
                return invalid("Contains '{' or '}' beyond a supported path template".to_string());
            }
            if has_template && !is_valid_literal(glob) {
                return invalid(format!(
                    "Contains segment {glob} with invalid string literal"
                ));
            }
        }
        None
    })
}

/// `^[a-zA-Z0-9-._~%!$&'()+,;:@=]+$`: an RFC 3986 pchar run.
fn is_valid_literal(glob: &str) -> bool {
    !glob.is_empty()
        && glob
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || b"-._~%!$&'()+,;:@=".contains(&c))
}

/// `ValidateAttribute`: the keys a `when` condition may test, and their
/// values' formats.
fn validate_attribute(key: &str, values: &[String]) -> Option<String> {
    if let Some(e) = check_empty_values(key, values) {
        return Some(e);
    }
    match key {
        _ if key.starts_with("request.headers") => validate_map_key(key),
        "source.ip" | "remote.ip" | "destination.ip" => multierror_text(&validate_ips(values)),
        "source.serviceAccount" => check_service_account(key, values),
        "source.namespace"
        | "source.principal"
        | "request.auth.principal"
        | "request.auth.audiences"
        | "request.auth.presenter"
        | "connection.sni" => None,
        _ if key.starts_with("request.auth.claims") => validate_map_key(key),
        "destination.port" => multierror_text(&validate_ports(values)),
        _ if key.starts_with("experimental.envoy.filters.") => validate_map_key(key),
        "destination.namespace" => Some(format!(
            "attribute {key} is replaced by the metadata.namespace"
        )),
        _ if key.starts_with("destination.labels") => Some(format!(
            "attribute {key} is replaced by the workload selector"
        )),
        "destination.name" | "destination.user" => Some(format!(
            "deprecated attribute {key}: only supported in v1alpha1"
        )),
        _ => Some(format!("unknown attribute: {key}")),
    }
}

/// How go-multierror prints a list of errors when it is formatted into
/// another message, as `ValidateAttribute`'s IP and port errors are.
fn multierror_text(errors: &[String]) -> Option<String> {
    match errors {
        [] => None,
        [one] => Some(format!("1 error occurred:\n\t* {one}\n\n")),
        many => Some(format!(
            "{} errors occurred:\n\t* {}\n\n",
            many.len(),
            many.join("\n\t* ")
        )),
    }
}

/// `validateMapKey`: `name[key]` with a non-empty key.
fn validate_map_key(key: &str) -> Option<String> {
    let ok = key.ends_with(']')
        && key
            .find('[')
            .is_some_and(|open| open > 0 && open + 2 < key.len());
    (!ok).then(|| format!("bad key ({key}): should have format a[b]"))
}

/// `ValidateIPs`: one error per bad address or CIDR.
fn validate_ips(ips: &[String]) -> Vec<String> {
    ips.iter()
        .filter_map(|ip| {
            if ip.contains('/') {
                parse_prefix_error(ip).map(|e| format!("bad CIDR range ({ip}): {e}"))
            } else {
                parse_addr_error(ip).map(|_| format!("bad IP address ({ip})"))
            }
        })
        .collect()
}

/// `ValidatePorts`: decimal numbers up to 65535. istiod prints the parse
/// error, which is `<nil>` when the number parsed but is too big.
fn validate_ports(ports: &[String]) -> Vec<String> {
    ports
        .iter()
        .filter_map(|port| {
            let err = if port.is_empty() || !port.bytes().all(|c| c.is_ascii_digit()) {
                format!("strconv.ParseUint: parsing {port:?}: invalid syntax")
            } else {
                match port.parse::<u32>() {
                    Err(_) => format!("strconv.ParseUint: parsing {port:?}: value out of range"),
                    Ok(p) if p > 65535 => "<nil>".to_string(),
                    Ok(_) => return None,
                }
            };
            Some(format!("bad port ({port}): {err}"))
        })
        .collect()
}

// Go's net/netip parsers, for their error messages.

/// `netip.ParsePrefix`'s error, or `None` when `s` is a valid CIDR.
fn parse_prefix_error(s: &str) -> Option<String> {
    let wrap = |msg: String| Some(format!("netip.ParsePrefix({s:?}): {msg}"));
    let slash = s.rfind('/')?;
    let (addr, bits) = (&s[..slash], &s[slash + 1..]);
    if let Some(e) = parse_addr_error(addr) {
        return wrap(e);
    }
    let v6 = addr.contains(':');
    if v6 && addr.contains('%') {
        return wrap("IPv6 zones cannot be present in a prefix".to_string());
    }
    let leading_ok = bits.len() <= 1 || matches!(bits.as_bytes()[0], b'1'..=b'9');
    let Some(n) = bits
        .parse::<u64>()
        .ok()
        .filter(|_| leading_ok && !bits.starts_with('+'))
    else {
        return wrap(format!("bad bits after slash: {bits:?}"));
    };
    if n > if v6 { 128 } else { 32 } {
        return wrap("prefix length out of range".to_string());
    }
    None
}

/// `netip.ParseAddr`'s error, or `None` when `s` is a valid address.
fn parse_addr_error(s: &str) -> Option<String> {
    let (msg, at) = match s.bytes().find(|c| matches!(c, b'.' | b':' | b'%')) {
        Some(b'.') => ipv4_error(s)?,
        Some(b':') => ipv6_error(s)?,
        Some(_) => ("missing IPv6 address", String::new()),
        None => ("unable to parse IP", String::new()),
    };
    Some(if at.is_empty() {
        format!("ParseAddr({s:?}): {msg}")
    } else {
        format!("ParseAddr({s:?}): {msg} (at {at:?})")
    })
}

type AddrError = (&'static str, String);

/// `parseIPv4Fields`.
fn ipv4_error(s: &str) -> Option<AddrError> {
    let b = s.as_bytes();
    let (mut val, mut digits, mut dots) = (0u32, 0, 0);
    for (i, &c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            if digits == 1 && val == 0 {
                return Some(("IPv4 field has octet with leading zero", String::new()));
            }
            val = val * 10 + u32::from(c - b'0');
            digits += 1;
            if val > 255 {
                return Some(("IPv4 field has value >255", String::new()));
            }
        } else if c == b'.' {
            if i == 0 || i == b.len() - 1 || b[i - 1] == b'.' {
                return Some((
                    "IPv4 field must have at least one digit",
                    s[i..].to_string(),
                ));
            }
            if dots == 3 {
                return Some(("IPv4 address too long", String::new()));
            }
            dots += 1;
            val = 0;
            digits = 0;
        } else {
            return Some(("unexpected character", s[i..].to_string()));
        }
    }
    (dots < 3).then(|| ("IPv4 address too short", String::new()))
}

/// `parseIPv6`.
fn ipv6_error(input: &str) -> Option<AddrError> {
    let fail = |msg: &'static str, at: &str| Some((msg, at.to_string()));
    let mut s = match input.split_once('%') {
        Some((_, "")) => return fail("zone must be a non-empty string", ""),
        Some((addr, _)) => addr,
        None => input,
    };
    let mut ellipsis: Option<usize> = None;
    if let Some(rest) = s.strip_prefix("::") {
        ellipsis = Some(0);
        s = rest;
        if s.is_empty() {
            return None;
        }
    }
    let mut i = 0;
    while i < 16 {
        let b = s.as_bytes();
        let mut off = 0;
        let mut acc = 0u32;
        while let Some(d) = b.get(off).and_then(|c| (*c as char).to_digit(16)) {
            acc = (acc << 4) + d;
            if off > 3 {
                return fail("each group must have 4 or less digits", s);
            }
            if acc > 0xffff {
                return fail("IPv6 field has value >=2^16", s);
            }
            off += 1;
        }
        if off == 0 {
            return fail("each colon-separated field must have at least one digit", s);
        }
        if b.get(off) == Some(&b'.') {
            if ellipsis.is_none() && i != 12 {
                return fail(
                    "embedded IPv4 address must replace the final 2 fields of the address",
                    s,
                );
            }
            if i + 4 > 16 {
                return fail(
                    "too many hex fields to fit an embedded IPv4 at the end of the address",
                    s,
                );
            }
            if let Some(e) = ipv4_error(s) {
                return Some(e);
            }
            s = "";
            i += 4;
            break;
        }
        i += 2;
        s = &s[off..];
        if s.is_empty() {
            break;
        }
        let Some(rest) = s.strip_prefix(':') else {
            return fail("unexpected character, want colon", s);
        };
        if rest.is_empty() {
            return fail("colon must be followed by more characters", s);
        }
        s = rest;
        if let Some(rest) = s.strip_prefix(':') {
            if ellipsis.is_some() {
                return fail("multiple :: in address", s);
            }
            ellipsis = Some(i);
            s = rest;
            if s.is_empty() {
                break;
            }
        }
    }
    if !s.is_empty() {
        return fail("trailing garbage after address", s);
    }
    match (i < 16, ellipsis) {
        (true, None) => fail("address string too short", ""),
        (false, Some(_)) => fail("the :: must expand to at least one field of zeros", ""),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// JWKS URIs and inline key sets
// ---------------------------------------------------------------------------

/// The CRD's rules on `jwksUri`: length, then the CEL rule
/// `url(self).getScheme() in ["http", "https"]`.
fn validate_jwks_uri_schema(uri: &str, v: &mut Validator) {
    static JWKS_URI: StringSchema = StringSchema::new(1, Some(2048), None);
    const RULE: &str = "url must have scheme http:// or https://";
    if !JWKS_URI.check(v, uri) {
        return;
    }
    match request_uri_scheme(uri) {
        Err(e) => v.cel_error(
            "string",
            &format!("URL parse error during conversion from string: {e}"),
            RULE,
        ),
        Ok(scheme) if scheme != "http" && scheme != "https" => v.cel("string", RULE),
        Ok(_) => {}
    }
}

/// The scheme Go's `url.ParseRequestURI` finds (lower-cased), or its error
/// (`parse "x": invalid URI for request`). Covers the scheme, the
/// absolute-path rule and the port; not every host check Go makes.
fn request_uri_scheme(s: &str) -> Result<String, String> {
    let fail = |msg: String| Err(format!("parse {s:?}: {msg}"));
    if s.bytes().any(|c| c < 0x20 || c == 0x7f) {
        return fail("net/url: invalid control character in URL".to_string());
    }
    if s == "*" {
        return Ok(String::new());
    }
    let (scheme, rest) = match s.find(|c: char| !(c.is_ascii_alphanumeric() || "+-.".contains(c))) {
        Some(0) if s.starts_with(':') => return fail("missing protocol scheme".to_string()),
        Some(i) if s[i..].starts_with(':') && s.as_bytes()[0].is_ascii_alphabetic() => {
            (s[..i].to_ascii_lowercase(), &s[i + 1..])
        }
        _ => (String::new(), s),
    };
    if !rest.starts_with('/') {
        return if scheme.is_empty() {
            fail("invalid URI for request".to_string())
        } else {
            Ok(scheme)
        };
    }
    if let Some(authority) = rest.strip_prefix("//").filter(|_| !scheme.is_empty()) {
        let authority = authority.split(['/', '?']).next().unwrap_or("");
        let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
        let port = if host.starts_with('[') {
            match host.rsplit_once(']') {
                Some((_, port)) => port,
                None => return fail("missing ']' in host".to_string()),
            }
        } else {
            host.rfind(':').map_or("", |i| &host[i..])
        };
        let valid_port = port.is_empty()
            || (port.starts_with(':') && port[1..].bytes().all(|c| c.is_ascii_digit()));
        if !valid_port {
            return fail(format!("invalid port {port:?} after host"));
        }
    }
    Ok(scheme)
}

/// Why lestrrat-go/jwx v1's `jwk.Parse` (what istiod uses) rejects an
/// inline JWKS, in its words, or `None` when it parses. A set is
/// `{"keys": [...]}`; an object without `keys` is read as one key. Each key
/// needs a known `kty` and that type's required members; their encodings
/// are not checked.
fn jwks_parse_error(text: &str) -> Option<String> {
    set_error(text).map(|e| format!("failed to unmarshal JWK set: {e}"))
}

fn set_error(text: &str) -> Option<String> {
    use serde_json::Value;
    let value: Value = match serde_json::from_str(text) {
        Ok(v) => v,
        Err(e) => return Some(go_json_syntax_error(text, &e)),
    };
    match &value {
        Value::Object(members) => match members.get("keys") {
            None => key_error(&value).map(|e| format!("failed to parse sole key in key set: {e}")),
            Some(Value::Null) => None,
            Some(Value::Array(keys)) => keys.iter().enumerate().find_map(|(i, k)| {
                key_error(k).map(|e| format!("failed to decode key #{i} in \"keys\": {e}"))
            }),
            Some(other) => Some(format!(
                "failed to decode \"keys\": json: cannot unmarshal {} into Go value of type []json.RawMessage",
                crate::go::json_type(other)
            )),
        },
        Value::Array(_) => Some("expected '{', but got '['".to_string()),
        Value::String(s) => Some(format!("failed to decode value for key {s:?}: EOF")),
        _ => Some("error reading token: EOF".to_string()),
    }
}

/// `jwk.ParseKey` for one key.
fn key_error(key: &serde_json::Value) -> Option<String> {
    use serde_json::Value;
    const HINT: &str =
        "struct { Kty string \"json:\\\"kty\\\"\"; D json.RawMessage \"json:\\\"d\\\"\" }";
    let hint_error = |msg: String| Some(format!("failed to unmarshal JSON into key hint: {msg}"));
    let members = match key {
        Value::Object(m) => m,
        Value::Null => return Some("invalid key type from JSON ()".to_string()),
        other => {
            return hint_error(format!(
                "json: cannot unmarshal {} into Go value of type {HINT}",
                crate::go::json_type(other)
            ));
        }
    };
    let kty = match members.get("kty") {
        None | Some(Value::Null) => "",
        Some(Value::String(s)) => s.as_str(),
        Some(other) => {
            return hint_error(format!(
                "json: cannot unmarshal {} into Go struct field .kty of type string",
                crate::go::json_type(other)
            ));
        }
    };
    let private = members.contains_key("d");
    let (go_type, required): (&str, &[&str]) = match (kty, private) {
        ("RSA", false) => ("rsaPublicKey", &["e", "n"]),
        ("RSA", true) => ("rsaPrivateKey", &["d", "e", "n"]),
        ("EC", false) => ("ecdsaPublicKey", &["crv", "x", "y"]),
        ("EC", true) => ("ecdsaPrivateKey", &["crv", "d", "x", "y"]),
        ("oct", _) => ("symmetricKey", &["k"]),
        ("OKP", false) => ("okpPublicKey", &["crv", "x"]),
        ("OKP", true) => ("okpPrivateKey", &["crv", "d", "x"]),
        _ => return Some(format!("invalid key type from JSON ({kty})")),
    };
    required
        .iter()
        .find(|f| members.get(**f).is_none_or(Value::is_null))
        .map(|f| {
            format!(
                "failed to unmarshal JSON into key (*jwk.{go_type}): required field {f} is missing"
            )
        })
}

/// A JSON syntax error as Go's `encoding/json` scanner words it
/// (`invalid character 'x' looking for beginning of value`,
/// `unexpected end of JSON input`), from serde_json's error and position.
fn go_json_syntax_error(text: &str, e: &serde_json::Error) -> String {
    if e.is_eof() {
        return "unexpected end of JSON input".to_string();
    }
    let line_start: usize = text
        .split_inclusive('\n')
        .take(e.line().saturating_sub(1))
        .map(str::len)
        .sum();
    let at = (line_start + e.column().saturating_sub(1)).min(text.len());
    let found = text[at..].chars().next().unwrap_or(' ');
    let what = e.to_string();
    let context = if what.starts_with("expected `:`") {
        "after object key".to_string()
    } else if what.starts_with("expected `,` or `}`") {
        "after object key:value pair".to_string()
    } else if what.starts_with("expected `,` or `]`") {
        "after array element".to_string()
    } else if what.starts_with("key must be a string") {
        "looking for beginning of object key string".to_string()
    } else if what.starts_with("trailing characters") {
        "after top-level value".to_string()
    } else if what.starts_with("invalid number") {
        "in numeric literal".to_string()
    } else if what.starts_with("control character") {
        "in string literal".to_string()
    } else if what.starts_with("invalid escape") {
        "in string escape code".to_string()
    } else if what.starts_with("expected ident") {
        // serde stops on the first wrong letter of true/false/null.
        let word_start = text[..at]
            .rfind(|c: char| !c.is_ascii_alphabetic())
            .map_or(0, |i| i + 1);
        let consumed = at - word_start;
        ["true", "false", "null"]
            .into_iter()
            .find(|w| text[word_start..].starts_with(&w[..1]))
            .and_then(|w| {
                Some(format!(
                    "in literal {w} (expecting '{}')",
                    w.get(consumed..consumed + 1)?
                ))
            })
            .unwrap_or_else(|| "looking for beginning of value".to_string())
    } else {
        "looking for beginning of value".to_string()
    };
    format!("invalid character {} {context}", go_quote_char(found))
}

/// Go's `quoteChar` in encoding/json.
fn go_quote_char(c: char) -> String {
    match c {
        '\'' => r"'\''".to_string(),
        '"' => "'\"'".to_string(),
        '\n' => r"'\n'".to_string(),
        '\r' => r"'\r'".to_string(),
        '\t' => r"'\t'".to_string(),
        c if (c as u32) < 0x20 || c == '\u{7f}' => format!("'\\x{:02x}'", c as u32),
        c => format!("'{c}'"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{clean, located, manifest, problems};
    use crate::config::{Body, load_str};
    use test_case::test_case;

    fn doc(kind: &str, spec: &str) -> String {
        manifest("security.istio.io/v1", kind, "p", "ns", spec)
    }

    /// Lab 3 of the course (module 14), as written there.
    const LAB3: &str = r#"
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: istio-system
spec:
  mtls:
    mode: STRICT
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: deny-all
  namespace: bookinfo
spec:
  {}
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: allow-ingress
  namespace: bookinfo
spec:
  selector:
    matchLabels:
      app: productpage
  action: ALLOW
  rules:
  - from:
    - source:
        namespaces: ["istio-system"]
        principals: ["cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"]
    to:
    - operation:
        methods: ["GET"]
        paths: ["/productpage*"]
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: allow-productpage-details
  namespace: bookinfo
spec:
  selector:
    matchLabels:
      app: details
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/bookinfo/sa/bookinfo-productpage"]
    to:
    - operation:
        methods: ["GET"]
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: allow-productpage-reviews
  namespace: bookinfo
spec:
  selector:
    matchLabels:
      app: reviews
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/bookinfo/sa/bookinfo-productpage"]
    to:
    - operation:
        methods: ["GET"]
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: allow-reviews-ratings
  namespace: bookinfo
spec:
  selector:
    matchLabels:
      app: ratings
  action: ALLOW
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/bookinfo/sa/bookinfo-reviews"]
    to:
    - operation:
        methods: ["GET"]
---
apiVersion: security.istio.io/v1beta1
kind: RequestAuthentication
metadata:
  name: jwt-auth
  namespace: bookinfo
spec:
  selector:
    matchLabels:
      app: productpage
  jwtRules:
  - issuer: "testing@secure.istio.io"
    jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.27/security/tools/jwt/samples/jwks.json"
---
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: bookinfo
spec:
  selector:
    matchLabels:
      app: productpage
  action: ALLOW
  rules:
  - from:
    - source:
        requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"]
"#;

    #[test]
    fn the_courses_lab3_policies_load_cleanly() {
        let loaded = clean(LAB3);
        assert_eq!(loaded.objects.len(), 8);
        let Body::PeerAuthentication(pa) = &loaded.objects[0].body else {
            panic!("not a PeerAuthentication");
        };
        assert_eq!(pa.mtls.as_ref().map(|m| m.mode), Some(MtlsMode::Strict));
        // `spec: {}`: ALLOW with no rules, which denies everything.
        let Body::AuthorizationPolicy(deny_all) = &loaded.objects[1].body else {
            panic!("not an AuthorizationPolicy");
        };
        assert_eq!(deny_all.action, Action::Allow);
        assert!(deny_all.rules.is_empty());
        let Body::AuthorizationPolicy(ingress) = &loaded.objects[2].body else {
            panic!("not an AuthorizationPolicy");
        };
        let source = ingress.rules[0].from[0].source.as_ref().unwrap();
        assert_eq!(source.namespaces, ["istio-system"]);
        let op = ingress.rules[0].to[0].operation.as_ref().unwrap();
        assert_eq!(op.paths, ["/productpage*"]);
        let Body::RequestAuthentication(ra) = &loaded.objects[6].body else {
            panic!("not a RequestAuthentication");
        };
        assert_eq!(
            ra.jwt_rules[0].jwks_uri(),
            Some(
                "https://raw.githubusercontent.com/istio/istio/release-1.27/security/tools/jwt/samples/jwks.json"
            )
        );
    }

    #[test]
    fn istio_docs_examples_load_cleanly() {
        let text = r#"
apiVersion: security.istio.io/v1
kind: PeerAuthentication
metadata:
  name: finance
  namespace: foo
spec:
  selector:
    matchLabels:
      app: finance
  mtls:
    mode: STRICT
  portLevelMtls:
    8080:
      mode: DISABLE
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: httpbin
  namespace: foo
spec:
  action: DENY
  rules:
  - from:
    - source:
        notNamespaces: ["foo"]
        ipBlocks: ["10.1.0.0/16", "2001:db8::/32"]
    to:
    - operation:
        ports: ["8000"]
        paths: ["/admin/{*}/info", "/static/{**}"]
    when:
    - key: request.auth.claims[iss]
      values: ["https://accounts.google.com"]
    - key: source.ip
      notValues: ["10.1.2.3"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: ext-authz
  namespace: foo
spec:
  action: CUSTOM
  provider:
    name: my-ext-authz
  rules:
  - to:
    - operation:
        paths: ["/headers"]
---
apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: waypoint
  namespace: foo
spec:
  targetRefs:
  - kind: Gateway
    group: gateway.networking.k8s.io
    name: waypoint
  rules:
  - from:
    - source:
        serviceAccounts: ["foo/sleep", "curl"]
---
apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: jwt
  namespace: foo
spec:
  jwtRules:
  - issuer: issuer-foo
    jwks: '{"keys": [{"kty": "RSA", "e": "AQAB", "n": "xAE7eB6qugXyCAG3yhh7pkDkT65pHymX-P7KfIupjf59vsdo91bSP9C8H07pSAGQO1MV_xFj9VswgsCg4R6otmg5PV2He95lZdHtOcU5DXIg_pbhLdKXbi66GlVeK6ABZOUW3WYtnNHD-91gVuoeJT_DwtGGcp4ignkgXfkiEm4sw-4sfb4qdt5oLbyVpmW6x9cfa7vs2WTfURiCrBoUqgBo_-4WTiULmmHSGZHOjzwa8WtrtOQGsAFjIbno85jp6MnGGGZPYZbDAa_b3y5u-YpW7ypZrvD8BgtKVjgtQgZhLAGezMt0ua3DRrWnKqTZ0BJ_EyxOGuHJrLsn00fnMQ"}]}'
    outputClaimToHeaders:
    - header: x-jwt-claim-sub
      claim: sub
    fromHeaders:
    - name: x-jwt-assertion
      prefix: "Bearer "
    timeout: 5s
"#;
        let loaded = clean(text);
        let Body::PeerAuthentication(pa) = &loaded.objects[0].body else {
            panic!("not a PeerAuthentication");
        };
        let ports = pa.port_level_mtls.as_ref().unwrap();
        assert_eq!(ports.get(&8080).map(|m| m.mode), Some(MtlsMode::Disable));
    }

    // The CRD rules run first (crd-all.gen.yaml); then
    // ValidatePeerAuthentication, whose own port checks repeat them.
    #[test_case("{mtls: {mode: PERMISSIVE}}", &[]; "namespace wide")]
    #[test_case(
        "{mtls: {mode: FOO}}",
        &[r#"error: spec.mtls.mode: Unsupported value: "FOO": supported values: "UNSET", "DISABLE", "PERMISSIVE", "STRICT""#];
        "enum"
    )]
    #[test_case(
        "{portLevelMtls: {8080: {mode: DISABLE}}}",
        &[r#"error: spec: Invalid value: "object": portLevelMtls requires selector"#];
        "port level needs a selector"
    )]
    #[test_case(
        "{selector: {matchLabels: {app: a}}, portLevelMtls: {0: {mode: DISABLE}}}",
        &[r#"error: spec.portLevelMtls: Invalid value: "object": port must be between 1-65535"#];
        "port range"
    )]
    #[test_case(
        "{selector: {matchLabels: {app: a}}, portLevelMtls: {}}",
        &["error: spec.portLevelMtls: Invalid value: 0: spec.portLevelMtls in body should have at least 1 properties"];
        "empty port map"
    )]
    #[test_case(
        "{portLevelMtls: {http: {mode: DISABLE}}}",
        &[r#"error: spec.portLevelMtls: key "http" is not a valid u32"#];
        "port keys are numbers"
    )]
    #[test_case(
        "{selector: {matchLabels: {app*: a}}}",
        &[r#"error: spec.selector.matchLabels: Invalid value: "object": wildcard not allowed in label key match"#];
        "selector wildcard"
    )]
    #[test_case(
        "{selector: {}, mtls: {mode: STRICT}}",
        &["warning: spec.selector: workload selector specified without labels"];
        "empty selector"
    )]
    fn peer_authentication_rules(spec: &str, want: &[&str]) {
        assert_eq!(problems(&doc("PeerAuthentication", spec)), want);
    }

    const P: &str = "invalid policy p.ns: ";

    // ValidateAuthorizationPolicy and pkg/config/security, after the CRD.
    #[test_case("{}", &[]; "deny all")]
    #[test_case("{rules: [{}]}", &[]; "allow all")]
    #[test_case("{action: AUDIT, rules: [{}]}", &[]; "audit")]
    #[test_case(
        "{action: DENY}",
        &["error: spec.action: {P}DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request"];
        "deny without rules"
    )]
    #[test_case(
        "{action: DENY, rules: []}",
        &["error: spec.action: {P}DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request"];
        "an empty rule list is no rules"
    )]
    #[test_case(
        "{action: CUSTOM, provider: {name: ext}}",
        &["error: spec.action: {P}CUSTOM action without `rules` is meaningless as it will never be triggered, add an empty rule `{}` if you want it be triggered for every request"];
        "custom without rules"
    )]
    #[test_case(
        "{action: CUSTOM, rules: [{}]}",
        &["error: spec.provider: {P}`provider.name` must not be empty"];
        "custom without provider"
    )]
    #[test_case(
        "{action: CUSTOM, provider: {name: ext}, rules: [{from: [{source: {principals: [a], namespaces: [b]}}]}]}",
        &[
            "error: spec.rules[0].from[0].source.namespaces: {P}From.Namespaces is currently not supported with CUSTOM action",
            "error: spec.rules[0].from[0].source.principals: {P}From.Principals is currently not supported with CUSTOM action",
        ];
        "custom with identities"
    )]
    #[test_case(
        "{action: CUSTOM, provider: {name: ext}, rules: [{when: [{key: 'request.auth.claims[iss]', values: [x]}]}]}",
        &["error: spec.rules[0].when[0].key: {P}request.auth.claims[iss] is currently not supported with CUSTOM action"];
        "custom with jwt condition"
    )]
    #[test_case(
        "{provider: {name: ext}, rules: [{}]}",
        &["error: spec.provider: {P}`provider` must not be with non CUSTOM action, found ALLOW"];
        "provider without custom"
    )]
    #[test_case(
        "{rules: [{from: [{}]}]}",
        &["error: spec.rules[0].from[0]: {P}`from.source` must not be nil, found at rule 0"];
        "from without source"
    )]
    #[test_case(
        "{rules: [{}, {from: [{source: {}}]}]}",
        &["error: spec.rules[1].from[0].source: {P}`from.source` must not be empty, found at rule 1"];
        "empty source"
    )]
    #[test_case(
        "{rules: [{to: [{}]}]}",
        &["error: spec.rules[0].to[0]: {P}`to.operation` must not be nil, found at rule 0"];
        "to without operation"
    )]
    #[test_case(
        "{rules: [{to: [{operation: {}}]}]}",
        &["error: spec.rules[0].to[0].operation: {P}`to.operation` must not be empty, found at rule 0"];
        "empty operation"
    )]
    #[test_case(
        "{rules: [{from: [{source: {principals: ['']}}]}]}",
        &["error: spec.rules[0].from[0].source.principals: {P}empty value not allowed, found in Principals"];
        "empty principal"
    )]
    #[test_case(
        "{rules: [{from: [{source: {ipBlocks: ['10.0.0.0/33', '1.2.3', '300.1.1.1/8', '10.0.0.0/x']}}]}]}",
        &[
            r#"error: spec.rules[0].from[0].source.ipBlocks: {P}bad CIDR range (10.0.0.0/33): netip.ParsePrefix("10.0.0.0/33"): prefix length out of range"#,
            "error: spec.rules[0].from[0].source.ipBlocks: {P}bad IP address (1.2.3)",
            r#"error: spec.rules[0].from[0].source.ipBlocks: {P}bad CIDR range (300.1.1.1/8): netip.ParsePrefix("300.1.1.1/8"): ParseAddr("300.1.1.1"): IPv4 field has value >255"#,
            r#"error: spec.rules[0].from[0].source.ipBlocks: {P}bad CIDR range (10.0.0.0/x): netip.ParsePrefix("10.0.0.0/x"): bad bits after slash: "x""#,
        ];
        "ip blocks"
    )]
    #[test_case(
        "{rules: [{from: [{source: {remoteIpBlocks: ['2001:db8:::/64', 'fe80::1%eth0/64']}}]}]}",
        &[
            r#"error: spec.rules[0].from[0].source.remoteIpBlocks: {P}bad CIDR range (2001:db8:::/64): netip.ParsePrefix("2001:db8:::/64"): ParseAddr("2001:db8:::"): each colon-separated field must have at least one digit (at ":")"#,
            r#"error: spec.rules[0].from[0].source.remoteIpBlocks: {P}bad CIDR range (fe80::1%eth0/64): netip.ParsePrefix("fe80::1%eth0/64"): IPv6 zones cannot be present in a prefix"#,
        ];
        "ipv6 blocks"
    )]
    #[test_case(
        "{rules: [{from: [{source: {serviceAccounts: ['a/b/c']}}]}]}",
        &[r#"error: spec.rules[0].from[0].source.serviceAccounts: {P}expected format 'serviceAccount' or 'namespace/serviceAccount', found "a/b/c" in ServiceAccounts"#];
        "service account format"
    )]
    #[test_case(
        "{rules: [{from: [{source: {notServiceAccounts: ['ns/*']}}]}]}",
        &["error: spec.rules[0].from[0].source.notServiceAccounts: {P}wildcard not allowed, found in NotServiceAccounts"];
        "service account wildcard"
    )]
    #[test_case(
        "{rules: [{from: [{source: {serviceAccounts: ['/sa']}}]}]}",
        &[r#"error: spec.rules[0].from[0].source.serviceAccounts: {P}expected format 'serviceAccount' or 'namespace/serviceAccount', found empty namespace "/sa" in ServiceAccounts"#];
        "service account without namespace"
    )]
    #[test_case(
        "{rules: [{from: [{source: {serviceAccounts: [a], namespaces: [b]}}]}]}",
        &[r#"error: spec.rules[0].from[0].source: Invalid value: "object": Cannot set serviceAccounts with namespaces or principals"#];
        "service accounts with namespaces"
    )]
    #[test_case(
        "{rules: [{from: [{source: {serviceAccounts: [s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15, s16, s17]}}]}]}",
        &["error: spec.rules[0].from[0].source.serviceAccounts: Too many: 17: must have at most 16 items"];
        "too many service accounts"
    )]
    #[test_case(
        "{rules: [{to: [{operation: {ports: ['abc', '70000', '']}}]}]}",
        &[
            r#"error: spec.rules[0].to[0].operation.ports: {P}bad port (abc): strconv.ParseUint: parsing "abc": invalid syntax"#,
            "error: spec.rules[0].to[0].operation.ports: {P}bad port (70000): <nil>",
            r#"error: spec.rules[0].to[0].operation.ports: {P}bad port (): strconv.ParseUint: parsing "": invalid syntax"#,
            "error: spec.rules[0].to[0].operation.ports: {P}empty value not allowed, found in Ports",
        ];
        "ports"
    )]
    #[test_case(
        "{rules: [{to: [{operation: {paths: ['/a/{**}/b', '/a/{**}/{*}']}}]}]}",
        &["error: spec.rules[0].to[0].operation.paths: {P}invalid or unsupported path a/{**}/{*}, found in Paths. {**} is not the last operator"];
        "match-any not last"
    )]
    #[test_case(
        "{rules: [{to: [{operation: {notPaths: ['/a/{id}']}}]}]}",
        &["error: spec.rules[0].to[0].operation.notPaths: {P}invalid or unsupported path a/{id}, found in NotPaths. Contains '{' or '}' beyond a supported path template"];
        "unknown template"
    )]
    #[test_case(
        "{rules: [{to: [{operation: {paths: ['/a/{*}/b c']}}]}]}",
        &["error: spec.rules[0].to[0].operation.paths: {P}invalid or unsupported path a/{*}/b c, found in Paths. Contains segment b c with invalid string literal"];
        "bad literal next to a template"
    )]
    #[test_case(
        "{rules: [{when: [{values: [x]}]}]}",
        &["error: spec.rules[0].when[0].key: Required value"];
        "condition without key"
    )]
    #[test_case(
        "{rules: [{when: [{key: '', values: [x]}]}]}",
        &["error: spec.rules[0].when[0].key: {P}`key` must not be empty"];
        "empty key"
    )]
    #[test_case(
        "{rules: [{when: [{key: 'request.headers[x]'}]}]}",
        &["error: spec.rules[0].when[0]: {P}at least one of `values` or `notValues` must be set for key request.headers[x]"];
        "condition without values"
    )]
    #[test_case(
        "{rules: [{when: [{key: foo, values: [x]}]}]}",
        &[
            "error: spec.rules[0].when[0].values: {P}invalid `value` for `key` foo: unknown attribute: foo",
            "error: spec.rules[0].when[0].notValues: {P}invalid `notValue` for `key` foo: unknown attribute: foo",
        ];
        "unknown attribute reported twice"
    )]
    #[test_case(
        "{rules: [{when: [{key: request.headers, notValues: [x]}]}]}",
        &[
            "error: spec.rules[0].when[0].values: {P}invalid `value` for `key` request.headers: bad key (request.headers): should have format a[b]",
            "error: spec.rules[0].when[0].notValues: {P}invalid `notValue` for `key` request.headers: bad key (request.headers): should have format a[b]",
        ];
        "map key without brackets"
    )]
    #[test_case(
        "{rules: [{when: [{key: source.ip, values: [bad, '10.0.0.0/8']}]}]}",
        &["error: spec.rules[0].when[0].values: {P}invalid `value` for `key` source.ip: 1 error occurred:\n\t* bad IP address (bad)\n\n"];
        "condition ip"
    )]
    #[test_case(
        "{rules: [{when: [{key: destination.port, notValues: ['80', '']}]}]}",
        &["error: spec.rules[0].when[0].notValues: {P}invalid `notValue` for `key` destination.port: empty value not allowed, found in destination.port"];
        "condition empty port"
    )]
    #[test_case(
        "{rules: [{when: [{key: destination.namespace, values: [x]}]}]}",
        &[
            "error: spec.rules[0].when[0].values: {P}invalid `value` for `key` destination.namespace: attribute destination.namespace is replaced by the metadata.namespace",
            "error: spec.rules[0].when[0].notValues: {P}invalid `notValue` for `key` destination.namespace: attribute destination.namespace is replaced by the metadata.namespace",
        ];
        "replaced attribute"
    )]
    #[test_case(
        "{targetRef: {kind: Deployment, name: x}}",
        &["error: spec.targetRef: {P}targetRef must be to one of [core/v1/Service networking.istio.io/v1/ServiceEntry gateway.networking.k8s.io/v1beta1/Gateway gateway.networking.k8s.io/v1beta1/GatewayClass] but was /Deployment"];
        "target kind"
    )]
    #[test_case("{targetRefs: [{kind: Service, name: x}, {group: gateway.networking.k8s.io, kind: Gateway, name: w}]}", &[]; "targets")]
    #[test_case(
        "{targetRef: {kind: Service, name: x, namespace: other}}",
        &[r#"error: spec.targetRef.namespace: Invalid value: "string": cross namespace referencing is not currently supported"#];
        "cross namespace target"
    )]
    #[test_case(
        "{targetRefs: [{name: a}, {kind: 'Bad Kind', name: b}]}",
        &[
            "error: spec.targetRefs[0].kind: Required value",
            "error: spec.targetRefs[1].kind: Invalid value: \"Bad Kind\": spec.targetRefs[1].kind in body should match '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$'",
        ];
        "target shape"
    )]
    #[test_case(
        "{selector: {matchLabels: {app: a}}, targetRef: {kind: Service, name: x}}",
        &[r#"error: spec: Invalid value: "object": only one of targetRefs or selector can be set"#];
        "selector and target"
    )]
    #[test_case(
        "{action: DENY, rules: [{to: [{operation: {methods: [POST]}}]}]}",
        &["warning: spec.rules[0]: configured AuthorizationPolicy will deny all traffic to TCP ports under its scope due to the use of only HTTP attributes in a DENY rule; it is recommended to explicitly specify the port"];
        "deny on http attributes only"
    )]
    #[test_case("{action: DENY, rules: [{to: [{operation: {methods: [POST], ports: ['8080']}}]}]}", &[]; "deny with a port")]
    #[test_case("{action: DENY, rules: [{from: [{source: {namespaces: [x]}}]}]}", &[]; "deny on a tcp attribute")]
    fn authorization_policy_rules(spec: &str, want: &[&str]) {
        let want: Vec<String> = want.iter().map(|w| w.replace("{P}", P)).collect();
        assert_eq!(problems(&doc("AuthorizationPolicy", spec)), want);
    }

    // validateMetadata's annotation checks, which run before the spec's.
    #[test_case("AuthorizationPolicy", "ALLOW", "'true'", None; "dry run")]
    #[test_case(
        "AuthorizationPolicy", "ALLOW", "maybe",
        Some(r#"ns/p has annotation istio.io/dry-run with invalid value (maybe): strconv.ParseBool: parsing "maybe": invalid syntax"#);
        "dry run value"
    )]
    #[test_case(
        "AuthorizationPolicy", "AUDIT", "'true'",
        Some("the annotation istio.io/dry-run currently only supports action ALLOW/DENY, found action AUDIT in ns/p");
        "dry run action"
    )]
    #[test_case(
        "PeerAuthentication", "", "'true'",
        Some("ns/p has unsupported annotation istio.io/dry-run, please remove the annotation");
        "dry run elsewhere"
    )]
    fn dry_run_annotation(kind: &str, action: &str, value: &str, want: Option<&str>) {
        let spec = if action.is_empty() {
            "{}".to_string()
        } else {
            format!("{{action: {action}, rules: [{{}}]}}")
        };
        let text = doc(kind, &spec).replace(
            "  namespace: ns\n",
            &format!("  namespace: ns\n  annotations:\n    istio.io/dry-run: {value}\n"),
        );
        let want: Vec<String> = want
            .iter()
            .map(|w| format!("error: metadata.annotations: {w}"))
            .collect();
        assert_eq!(problems(&text), want);
    }

    const RSA_KEY: &str = r#"{"kty": "RSA", "e": "AQAB", "n": "xAE7eB6qugXyCAG3yhh7pkDkT65pHymX"}"#;

    // validateJwtRule after the CRD's rules on JWTRule.
    #[test_case("{jwtRules: [{issuer: a, jwksUri: 'https://a/jwks'}]}", &[]; "issuer and uri")]
    #[test_case("{jwtRules: [{jwks_uri: 'http://a:8080/jwks'}]}", &[]; "uri alone in the proto spelling")]
    #[test_case(
        "{jwtRules: [{audiences: [x]}]}",
        &["error: spec.jwtRules[0]: issuer or jwksUri must be non-empty string"];
        "neither issuer nor uri"
    )]
    #[test_case(
        "{jwtRules: [{issuer: '', audiences: ['']}]}",
        &[
            r#"error: spec.jwtRules[0].issuer: Invalid value: "": spec.jwtRules[0].issuer in body should be at least 1 chars long"#,
            r#"error: spec.jwtRules[0].audiences[0]: Invalid value: "": spec.jwtRules[0].audiences[0] in body should be at least 1 chars long"#,
        ];
        "empty strings"
    )]
    #[test_case(
        "{jwtRules: [{issuer: a, jwksUri: 'ftp://a/jwks'}]}",
        &[r#"error: spec.jwtRules[0].jwksUri: Invalid value: "string": url must have scheme http:// or https://"#];
        "uri scheme"
    )]
    #[test_case(
        "{jwtRules: [{issuer: a, jwksUri: 'example.com/jwks'}]}",
        &[r#"error: spec.jwtRules[0].jwksUri: Invalid value: "string": URL parse error during conversion from string: parse "example.com/jwks": invalid URI for request evaluating rule: url must have scheme http:// or https://"#];
        "uri without scheme"
    )]
    #[test_case(
        "{jwtRules: [{issuer: a, jwksUri: 'https://a:x/jwks'}]}",
        &[r#"error: spec.jwtRules[0].jwksUri: Invalid value: "string": URL parse error during conversion from string: parse "https://a:x/jwks": invalid port ":x" after host evaluating rule: url must have scheme http:// or https://"#];
        "uri port"
    )]
    #[test_case(
        "{jwtRules: [{issuer: a, jwksUri: 'https://a/jwks', jwks: '{}'}]}",
        &[r#"error: spec.jwtRules[0]: Invalid value: "object": only one of jwks or jwksUri can be set"#];
        "uri and inline keys"
    )]
    #[test_case(
        "{jwtRules: [{issuer: a, fromHeaders: [{prefix: 'Bearer '}], fromParams: ['']}]}",
        &[
            r#"error: spec.jwtRules[0].fromParams[0]: Invalid value: "": spec.jwtRules[0].fromParams[0] in body should be at least 1 chars long"#,
            "error: spec.jwtRules[0].fromHeaders[0].name: Required value",
        ];
        "token locations"
    )]
    #[test_case(
        "{jwtRules: [{issuer: a, outputClaimToHeaders: [{header: 'x jwt', claim: sub}, {header: x}]}]}",
        &[
            r#"error: spec.jwtRules[0].outputClaimToHeaders[0].header: Invalid value: "x jwt": spec.jwtRules[0].outputClaimToHeaders[0].header in body should match '^[-_A-Za-z0-9]+$'"#,
            "error: spec.jwtRules[0].outputClaimToHeaders[1].claim: Required value",
        ];
        "claim headers"
    )]
    #[test_case(
        "{jwtRules: [{issuer: a, timeout: 0s}]}",
        &[r#"error: spec.jwtRules[0].timeout: Invalid value: "string": must be a valid duration greater than 1ms"#];
        "timeout"
    )]
    #[test_case(
        "{jwtRules: [{issuer: a, spaceDelimitedClaims: [scope]}]}",
        &[r#"error: spec.jwtRules[0].spaceDelimitedClaims: unknown field "spaceDelimitedClaims""#];
        "a 1.28 field"
    )]
    fn request_authentication_rules(spec: &str, want: &[&str]) {
        assert_eq!(problems(&doc("RequestAuthentication", spec)), want);
    }

    // jwk.Parse (lestrrat-go/jwx v1) as validateJwtRule calls it.
    #[test_case(r#"{"keys": []}"#, None; "empty set")]
    #[test_case(RSA_KEY, None; "a lone key")]
    #[test_case(r#"{"keys": [{"kty": "EC", "crv": "P-256", "x": "a", "y": "b"}, {"kty": "oct", "k": "c"}]}"#, None; "ec and symmetric keys")]
    #[test_case("{", Some("unexpected end of JSON input"); "truncated")]
    #[test_case(r#"{"keys": x}"#, Some("invalid character 'x' looking for beginning of value"); "bad value")]
    #[test_case(r#"{"keys" []}"#, Some("invalid character '[' after object key"); "missing colon")]
    #[test_case(r#"{"keys": [] "a": 1}"#, Some("invalid character '\"' after object key:value pair"); "missing comma")]
    #[test_case(r#"{"keys": [tru]}"#, Some("invalid character ']' in literal true (expecting 'e')"); "bad literal")]
    #[test_case("[]", Some("expected '{', but got '['"); "an array")]
    #[test_case(r#"{"keys": {}}"#, Some(r#"failed to decode "keys": json: cannot unmarshal object into Go value of type []json.RawMessage"#); "keys not a list")]
    #[test_case(r#"{"keys": [{"kty": "RSA", "n": "x"}]}"#, Some(r#"failed to decode key #0 in "keys": failed to unmarshal JSON into key (*jwk.rsaPublicKey): required field e is missing"#); "rsa without exponent")]
    #[test_case(r#"{"keys": [{"kty": "XYZ"}]}"#, Some(r#"failed to decode key #0 in "keys": invalid key type from JSON (XYZ)"#); "unknown key type")]
    #[test_case(r#"{"kty": "EC", "d": "x", "crv": "P-256"}"#, Some("failed to parse sole key in key set: failed to unmarshal JSON into key (*jwk.ecdsaPrivateKey): required field x is missing"); "private key")]
    fn jwks_parsing(jwks: &str, want: Option<&str>) {
        assert_eq!(
            jwks_parse_error(jwks),
            want.map(|w| format!("failed to unmarshal JWK set: {w}"))
        );
    }

    #[test]
    fn jwks_errors_are_reported_at_the_field() {
        let spec = r#"{jwtRules: [{issuer: a, jwks: '{"keys": [{"kty": "RSA", "e": "AQAB"}]}'}]}"#;
        assert_eq!(
            problems(&doc("RequestAuthentication", spec)),
            [
                r#"error: spec.jwtRules[0].jwks: jwks parse error: failed to unmarshal JWK set: failed to decode key #0 in "keys": failed to unmarshal JSON into key (*jwk.rsaPublicKey): required field n is missing"#
            ]
        );
    }

    #[test]
    fn several_problems_are_each_reported_at_their_line() {
        let text = r#"apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: multi
  namespace: ns
spec:
  action: DENY
  rules:
  - from:
    - source:
        principals: [""]
    to:
    - operation:
        ports: ["http"]
    when:
    - key: request.headers
      values: ["x"]
"#;
        let p = "invalid policy multi.ns: ";
        assert_eq!(
            located(text),
            [
                format!(
                    "11: error: spec.rules[0].from[0].source.principals: {p}empty value not allowed, found in Principals"
                ),
                format!(
                    "14: error: spec.rules[0].to[0].operation.ports: {p}bad port (http): strconv.ParseUint: parsing \"http\": invalid syntax"
                ),
                format!(
                    "17: error: spec.rules[0].when[0].values: {p}invalid `value` for `key` request.headers: bad key (request.headers): should have format a[b]"
                ),
                // No such field: the line of the condition.
                format!(
                    "16: error: spec.rules[0].when[0].notValues: {p}invalid `notValue` for `key` request.headers: bad key (request.headers): should have format a[b]"
                ),
            ]
        );
        assert!(load_str("x.yaml", text, None).objects.is_empty());
    }
}
