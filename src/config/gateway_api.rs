//! The Kubernetes Gateway API kinds Istio implements: GatewayClass, Gateway
//! and HTTPRoute, at Gateway API v1.3.0 (the version Istio 1.27 is built
//! against; `v1` and `v1beta1` have the same schema).
//!
//! The fields are those of the experimental-channel CRDs. That channel is a
//! superset of the standard one, so every standard manifest loads, and so do
//! manifests using retries, session persistence, CORS, rule names or
//! frontend TLS validation. Where the two channels word a rule differently
//! (the parentRefs uniqueness rules), the experimental wording is used.
//!
//! Istio's webhook does not look at these kinds; the apiserver checks them
//! against the CRD, and this module does the same, in the same order:
//! 1. the OpenAPI schema (required fields, lengths, patterns, ranges, list
//!    sizes) and list-map key uniqueness, with kube-openapi's messages, which
//!    repeat the field path (`spec.x in body should match '…'`);
//! 2. the CEL rules (`x-kubernetes-validations`), printed as
//!    `Invalid value: "object": <message>` (the value is the schema type of
//!    the node the rule sits on), but only when step 1 found no "blocking"
//!    error; otherwise a single line says they were skipped.
//!
//! The defaults the CRD declares (weight 1, path match `PathPrefix /`,
//! backend kind `Service`, listener routes from the `Same` namespace…) are
//! applied while decoding, as the apiserver applies them before validating.
//! A required string or list that is empty is reported as missing (`Required
//! value`), where the apiserver would tell an explicit `""` from an absent
//! field.
//!
//! Sources: the CRDs in gateway-api `config/crd/experimental/` at v1.3.0
//! (rules and messages); apiextensions-apiserver
//! `pkg/apiserver/validation/validation.go` (`kubeOpenAPIResultToFieldErrors`,
//! schema messages), `pkg/apiserver/schema/listtype` (duplicate keys),
//! `pkg/apiserver/schema/cel/validation.go` (rule messages) and
//! `pkg/registry/customresource/strategy.go` (order, `hasBlockingErr`), as
//! of Kubernetes 1.32.

use std::collections::BTreeMap;
use std::net::IpAddr;

use serde::Deserialize;

use super::diag::Severity;
use super::kinds::Validate;
use super::meta::{LabelSelector, NameRule, ObjectMeta};
use super::validate::{GROUP, KIND, OBJECT_NAME, Pattern, StringSchema, Validator};
use crate::sim::SimDuration;
use crate::spec_resources;

// ---------------------------------------------------------------------------
// GatewayClass

/// A class of Gateways and the controller that implements them. Istio
/// installs `istio` (`istio.io/gateway-controller`, ingress/egress
/// gateways) and `istio-waypoint` (`istio.io/mesh-controller`, ambient
/// waypoints).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct GatewayClass {
    pub controller_name: String,
    /// Implementation-specific configuration (a ConfigMap for Istio).
    pub parameters_ref: Option<ObjectReference>,
    pub description: Option<String>,
}

impl Validate for GatewayClass {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(NameRule::Dns1123Subdomain, v);
        // The only CEL rule (controllerName is immutable) applies to updates.
        v.field("spec", |v| {
            CONTROLLER_NAME.required_str(v, "controllerName", &self.controller_name);
            DESCRIPTION.optional(v, "description", self.description.as_deref());
            if let Some(r) = &self.parameters_ref {
                v.field("parametersRef", |v| check_ref(v, r.fields()));
            }
        });
    }
}

// ---------------------------------------------------------------------------
// Gateway

/// The `gatewayClassName` of ambient waypoints.
pub const WAYPOINT_CLASS: &str = "istio-waypoint";

/// A Gateway API `Gateway`: a set of listeners a class of proxy serves. With
/// `gatewayClassName: istio` Istio deploys an Envoy gateway for it; with
/// `istio-waypoint` it is an ambient waypoint, whose one listener
/// `{name: mesh, port: 15008, protocol: HBONE}` is what `istioctl waypoint
/// apply` writes.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Gateway {
    pub gateway_class_name: String,
    pub listeners: Vec<Listener>,
    pub addresses: Vec<GatewayAddress>,
    pub infrastructure: Option<GatewayInfrastructure>,
    pub allowed_listeners: Option<AllowedListeners>,
    #[serde(rename = "backendTLS")]
    pub backend_tls: Option<GatewayBackendTls>,
}

impl Gateway {
    pub fn is_waypoint(&self) -> bool {
        self.gateway_class_name == WAYPOINT_CLASS
    }
}

/// One port/protocol/hostname the Gateway accepts traffic on, and which
/// routes may attach to it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Listener {
    pub name: String,
    /// Host the listener serves (`*.example.com` allowed); unset means any.
    pub hostname: Option<String>,
    pub port: i32,
    /// `HTTP`, `HTTPS`, `TLS`, `TCP`, `UDP`, or an implementation's own
    /// (Istio: `HBONE` for waypoints). A free string, not an enum.
    pub protocol: String,
    pub tls: Option<GatewayTlsConfig>,
    pub allowed_routes: AllowedRoutes,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct GatewayTlsConfig {
    pub mode: TlsMode,
    /// Secrets holding the certificate and key the listener presents.
    pub certificate_refs: Vec<SecretObjectReference>,
    pub frontend_validation: Option<FrontendTlsValidation>,
    pub options: BTreeMap<String, String>,
}

/// Whether the Gateway ends TLS itself or passes the encrypted stream on,
/// routed by SNI.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum TlsMode {
    #[default]
    #[serde(rename = "Terminate")]
    Terminate,
    #[serde(rename = "Passthrough")]
    Passthrough,
}

/// CA certificates used to verify client certificates (mutual TLS at the
/// Gateway).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct FrontendTlsValidation {
    pub ca_certificate_refs: Vec<ObjectReference>,
}

/// Which routes may attach to a listener: from which namespaces, and of
/// which kinds (empty: those matching the protocol).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct AllowedRoutes {
    pub namespaces: RouteNamespaces,
    pub kinds: Vec<RouteGroupKind>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RouteNamespaces {
    pub from: FromNamespaces,
    /// Namespace labels, used when `from: Selector`.
    pub selector: Option<LabelSelector>,
}

/// Where attached routes may live, relative to the Gateway's namespace.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum FromNamespaces {
    #[serde(rename = "All")]
    All,
    #[serde(rename = "Selector")]
    Selector,
    #[default]
    #[serde(rename = "Same")]
    Same,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RouteGroupKind {
    pub group: String,
    pub kind: String,
}

impl Default for RouteGroupKind {
    fn default() -> Self {
        RouteGroupKind {
            group: GATEWAY_GROUP.to_string(),
            kind: String::new(),
        }
    }
}

/// An address requested for the Gateway (`IPAddress`, `Hostname`, or an
/// implementation-specific type).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct GatewayAddress {
    #[serde(rename = "type")]
    pub type_: String,
    pub value: Option<String>,
}

impl Default for GatewayAddress {
    fn default() -> Self {
        GatewayAddress {
            type_: "IPAddress".to_string(),
            value: None,
        }
    }
}

/// Labels and annotations for the resources the controller creates for the
/// Gateway (Istio copies them onto the Deployment and Service).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct GatewayInfrastructure {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub parameters_ref: Option<LocalObjectReference>,
}

/// Which ListenerSets may attach listeners to this Gateway.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct AllowedListeners {
    pub namespaces: ListenerNamespaces,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ListenerNamespaces {
    pub from: FromListenerNamespaces,
    pub selector: Option<LabelSelector>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum FromListenerNamespaces {
    #[serde(rename = "All")]
    All,
    #[serde(rename = "Selector")]
    Selector,
    #[serde(rename = "Same")]
    Same,
    #[default]
    #[serde(rename = "None")]
    None,
}

/// The client certificate the Gateway presents to backends.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct GatewayBackendTls {
    pub client_certificate_ref: Option<SecretObjectReference>,
}

impl Validate for Gateway {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(NameRule::Dns1123Subdomain, v);
        v.field("spec", |v| self.check_schema(v));
        unless_blocked(v, |v| v.field("spec", |v| self.check_rules(v)));
    }
}

impl Gateway {
    fn check_schema(&self, v: &mut Validator) {
        OBJECT_NAME.required_str(v, "gatewayClassName", &self.gateway_class_name);
        if self.listeners.is_empty() {
            v.required_field("listeners");
        }
        v.list("listeners", &self.listeners, 64, |v, _, l| {
            l.check_schema(v)
        });
        unique_names(v, "listeners", &self.listeners, |l| &l.name);
        v.list("addresses", &self.addresses, 16, |v, _, a| {
            a.check_schema(v)
        });
        if let Some(infra) = &self.infrastructure {
            v.field("infrastructure", |v| infra.check_schema(v));
        }
        if let Some(allowed) = &self.allowed_listeners {
            v.field("allowedListeners", |v| {
                if let Some(sel) = &allowed.namespaces.selector {
                    v.field("namespaces", |v| {
                        v.field("selector", |v| check_selector(v, sel))
                    });
                }
            });
        }
        if let Some(r) = self
            .backend_tls
            .as_ref()
            .and_then(|b| b.client_certificate_ref.as_ref())
        {
            v.field("backendTLS", |v| {
                v.field("clientCertificateRef", |v| check_ref(v, r.fields()))
            });
        }
    }

    /// The CEL rules of the Gateway CRD.
    fn check_rules(&self, v: &mut Validator) {
        v.field("listeners", |v| {
            let ls = &self.listeners;
            if ls
                .iter()
                .any(|l| matches!(l.protocol.as_str(), "HTTP" | "TCP" | "UDP") && l.tls.is_some())
            {
                v.cel(
                    "array",
                    "tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']",
                );
            }
            if ls.iter().any(|l| {
                l.protocol == "HTTPS"
                    && l.tls.as_ref().is_some_and(|t| t.mode != TlsMode::Terminate)
            }) {
                v.cel("array", "tls mode must be Terminate for protocol HTTPS");
            }
            if ls.iter().any(|l| {
                matches!(l.protocol.as_str(), "TCP" | "UDP")
                    && l.hostname.as_deref().is_some_and(|h| !h.is_empty())
            }) {
                v.cel(
                    "array",
                    "hostname must not be specified for protocols ['TCP', 'UDP']",
                );
            }
            if has_duplicates(ls.iter().map(|l| &l.name)) {
                v.cel("array", "Listener name must be unique within the Gateway");
            }
            if has_duplicates(ls.iter().map(|l| (l.port, &l.protocol, &l.hostname))) {
                v.cel(
                    "array",
                    "Combination of port, protocol and hostname must be unique for each listener",
                );
            }
        });
        v.each("listeners", &self.listeners, |v, _, l| {
            if let Some(tls) = &l.tls {
                v.field("tls", |v| tls.check_rules(v));
            }
        });
        v.field("addresses", |v| {
            for (ty, message) in [
                ("IPAddress", "IPAddress values must be unique"),
                ("Hostname", "Hostname values must be unique"),
            ] {
                let values = self.addresses.iter().filter(|a| a.type_ == ty);
                if has_duplicates(values.map(|a| &a.value)) {
                    v.cel("array", message);
                }
            }
        });
        v.each("addresses", &self.addresses, |v, _, a| a.check_rules(v));
        if let Some(infra) = &self.infrastructure {
            v.field("infrastructure", |v| {
                v.field("labels", |v| metadata_key_rules(v, "Label", &infra.labels));
                v.field("annotations", |v| {
                    metadata_key_rules(v, "Annotation", &infra.annotations)
                });
            });
        }
    }
}

impl Listener {
    fn check_schema(&self, v: &mut Validator) {
        SECTION_NAME.required_str(v, "name", &self.name);
        HOSTNAME.optional(v, "hostname", self.hostname.as_deref());
        if self.port == 0 {
            v.required_field("port");
        } else {
            port(v, "port", self.port);
        }
        PROTOCOL.required_str(v, "protocol", &self.protocol);
        if let Some(tls) = &self.tls {
            v.field("tls", |v| tls.check_schema(v));
        }
        v.field("allowedRoutes", |v| {
            if let Some(sel) = &self.allowed_routes.namespaces.selector {
                v.field("namespaces", |v| {
                    v.field("selector", |v| check_selector(v, sel))
                });
            }
            v.list("kinds", &self.allowed_routes.kinds, 8, |v, _, k| {
                GROUP.optional(v, "group", Some(&k.group));
                KIND.required_str(v, "kind", &k.kind);
            });
        });
    }
}

impl GatewayTlsConfig {
    fn check_schema(&self, v: &mut Validator) {
        v.list("certificateRefs", &self.certificate_refs, 64, |v, _, r| {
            check_ref(v, r.fields())
        });
        if let Some(fv) = &self.frontend_validation {
            v.field("frontendValidation", |v| {
                v.list(
                    "caCertificateRefs",
                    &fv.ca_certificate_refs,
                    8,
                    |v, _, r| check_ref(v, r.fields()),
                );
            });
        }
        string_map(v, "options", &self.options, 16, &LONG_VALUE);
    }

    fn check_rules(&self, v: &mut Validator) {
        // `size(self.certificateRefs) > 0 || size(self.options) > 0`: with
        // neither field present the rule fails to evaluate instead.
        const MESSAGE: &str = "certificateRefs or options must be specified when mode is Terminate";
        if self.mode == TlsMode::Terminate
            && self.certificate_refs.is_empty()
            && self.options.is_empty()
        {
            v.cel_error("object", "no such key: certificateRefs", MESSAGE);
        }
    }
}

impl GatewayAddress {
    fn check_schema(&self, v: &mut Validator) {
        ADDRESS_TYPE.required_str(v, "type", &self.type_);
        ADDRESS_VALUE.optional(v, "value", self.value.as_deref());
        // The schema's oneOf: an IPAddress value must have format ipv4 or
        // ipv6; kube-openapi reports the first alternative.
        if let Some(value) = self.value.as_deref().filter(|s| !s.is_empty())
            && self.type_ == "IPAddress"
            && value.parse::<IpAddr>().is_err()
        {
            v.field("value", |v| v.wrong_type(value, "ipv4"));
        }
    }

    fn check_rules(&self, v: &mut Validator) {
        const MESSAGE: &str = r"Hostname value must only contain valid characters (matching ^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)";
        if self.type_ != "Hostname" {
            return;
        }
        match &self.value {
            None => v.cel_error("object", "no such key: value", MESSAGE),
            Some(value) if !HOSTNAME_VALUE.is_match(value) => v.cel("object", MESSAGE),
            Some(_) => {}
        }
    }
}

impl GatewayInfrastructure {
    fn check_schema(&self, v: &mut Validator) {
        string_map(v, "labels", &self.labels, 8, &LABEL_VALUE);
        string_map(v, "annotations", &self.annotations, 8, &LONG_VALUE);
        if let Some(r) = &self.parameters_ref {
            v.field("parametersRef", |v| check_ref(v, r.fields()));
        }
    }
}

/// The two CEL rules on `infrastructure.labels` and `.annotations` keys.
fn metadata_key_rules(v: &mut Validator, what: &str, map: &BTreeMap<String, String>) {
    if !map.keys().all(|k| METADATA_KEY.is_match(k)) {
        v.cel(
            "object",
            &format!(
                "{what} keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters."
            ),
        );
    }
    if !map
        .keys()
        .all(|k| k.split('/').next().unwrap_or("").chars().count() < 253)
    {
        let lower = what.to_ascii_lowercase();
        v.cel(
            "object",
            &format!(
                "If specified, the {lower} key's prefix must be a DNS subdomain not longer than 253 characters in total."
            ),
        );
    }
}

/// A label selector as the CRD schema checks it: only that each expression
/// has a key and an operator (the apiserver's own selector rules do not run
/// on custom resources).
fn check_selector(v: &mut Validator, sel: &LabelSelector) {
    v.each("matchExpressions", &sel.match_expressions, |v, _, e| {
        if e.key.is_empty() {
            v.required_field("key");
        }
        if e.operator.is_empty() {
            v.required_field("operator");
        }
    });
}

// ---------------------------------------------------------------------------
// HTTPRoute

/// An `HTTPRoute`: HTTP routing rules attached to parents. A parent is a
/// Gateway (north-south), or, in the mesh, a Service (`group: ""`, `kind:
/// Service`), whose traffic the rules then govern, as a VirtualService would.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRoute {
    pub parent_refs: Vec<ParentReference>,
    /// Host headers the route matches; empty means the parent's.
    pub hostnames: Vec<String>,
    /// Absent rules default to one rule matching every path, with no
    /// backends.
    pub rules: Vec<HttpRouteRule>,
}

impl Default for HttpRoute {
    fn default() -> Self {
        HttpRoute {
            parent_refs: Vec::new(),
            hostnames: Vec::new(),
            rules: vec![HttpRouteRule::default()],
        }
    }
}

/// What a route attaches to. `sectionName` picks a Gateway listener by
/// name; `port` picks a listener (or a Service port) by number.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ParentReference {
    pub group: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    pub section_name: Option<String>,
    pub port: Option<i32>,
}

impl Default for ParentReference {
    fn default() -> Self {
        ParentReference {
            group: GATEWAY_GROUP.to_string(),
            kind: "Gateway".to_string(),
            namespace: None,
            name: String::new(),
            section_name: None,
            port: None,
        }
    }
}

impl ParentReference {
    /// Whether the parent is a Service (a mesh route) rather than a Gateway.
    pub fn is_service(&self) -> bool {
        self.group.is_empty() && self.kind == SERVICE_KIND
    }

    /// The parent itself, as the CRD rules compare it: an empty namespace
    /// counts as none, as do an empty sectionName and port 0 below.
    fn parent_key(&self) -> (&str, &str, &str, Option<&str>) {
        let ns = self.namespace.as_deref().filter(|n| !n.is_empty());
        (&self.group, &self.kind, &self.name, ns)
    }

    fn section(&self) -> Option<&str> {
        self.section_name.as_deref().filter(|s| !s.is_empty())
    }

    fn listener_port(&self) -> Option<i32> {
        self.port.filter(|n| *n != 0)
    }
}

/// One rule: requests matching any of `matches` get `filters` applied and
/// go to `backendRefs`, split by weight.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRouteRule {
    pub name: Option<String>,
    /// Absent matches default to one match of every path (`PathPrefix /`).
    pub matches: Vec<HttpRouteMatch>,
    pub filters: Vec<HttpRouteFilter>,
    pub backend_refs: Vec<HttpBackendRef>,
    pub timeouts: Option<HttpRouteTimeouts>,
    pub retry: Option<HttpRouteRetry>,
    pub session_persistence: Option<SessionPersistence>,
}

impl Default for HttpRouteRule {
    fn default() -> Self {
        HttpRouteRule {
            name: None,
            matches: vec![HttpRouteMatch::default()],
            filters: Vec::new(),
            backend_refs: Vec::new(),
            timeouts: None,
            retry: None,
            session_persistence: None,
        }
    }
}

/// A request matches when every condition given holds.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRouteMatch {
    /// Always present: the CRD defaults it to `PathPrefix /`.
    pub path: HttpPathMatch,
    pub headers: Vec<HttpHeaderMatch>,
    pub query_params: Vec<HttpQueryParamMatch>,
    pub method: Option<HttpMethod>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpPathMatch {
    #[serde(rename = "type")]
    pub type_: PathMatchType,
    pub value: String,
}

impl Default for HttpPathMatch {
    fn default() -> Self {
        HttpPathMatch {
            type_: PathMatchType::PathPrefix,
            value: "/".to_string(),
        }
    }
}

/// `PathPrefix` matches whole path segments (`/static` matches
/// `/static/x` but not `/staticx`); `RegularExpression` is RE2, matched
/// against the whole path.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum PathMatchType {
    #[serde(rename = "Exact")]
    Exact,
    #[default]
    #[serde(rename = "PathPrefix")]
    PathPrefix,
    #[serde(rename = "RegularExpression")]
    RegularExpression,
}

/// A header (or query parameter) that must be present with a value.
/// Header names match case-insensitively; query parameter names exactly.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpHeaderMatch {
    #[serde(rename = "type")]
    pub type_: HeaderMatchType,
    pub name: String,
    pub value: String,
}

/// Query parameter matches have the header match's shape.
pub type HttpQueryParamMatch = HttpHeaderMatch;

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum HeaderMatchType {
    #[default]
    #[serde(rename = "Exact")]
    Exact,
    #[serde(rename = "RegularExpression")]
    RegularExpression,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum HttpMethod {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "HEAD")]
    Head,
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "DELETE")]
    Delete,
    #[serde(rename = "CONNECT")]
    Connect,
    #[serde(rename = "OPTIONS")]
    Options,
    #[serde(rename = "TRACE")]
    Trace,
    #[serde(rename = "PATCH")]
    Patch,
}

impl HttpMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            HttpMethod::Get => "GET",
            HttpMethod::Head => "HEAD",
            HttpMethod::Post => "POST",
            HttpMethod::Put => "PUT",
            HttpMethod::Delete => "DELETE",
            HttpMethod::Connect => "CONNECT",
            HttpMethod::Options => "OPTIONS",
            HttpMethod::Trace => "TRACE",
            HttpMethod::Patch => "PATCH",
        }
    }
}

/// A processing step on a request; `type` says which one of the other
/// fields holds its settings.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRouteFilter {
    #[serde(rename = "type")]
    pub type_: Option<HttpRouteFilterType>,
    pub request_header_modifier: Option<HttpHeaderFilter>,
    pub response_header_modifier: Option<HttpHeaderFilter>,
    pub request_mirror: Option<HttpRequestMirrorFilter>,
    pub request_redirect: Option<HttpRequestRedirectFilter>,
    pub url_rewrite: Option<HttpUrlRewriteFilter>,
    pub cors: Option<HttpCorsFilter>,
    pub extension_ref: Option<LocalObjectReference>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum HttpRouteFilterType {
    #[serde(rename = "RequestHeaderModifier")]
    RequestHeaderModifier,
    #[serde(rename = "ResponseHeaderModifier")]
    ResponseHeaderModifier,
    #[serde(rename = "RequestMirror")]
    RequestMirror,
    #[serde(rename = "RequestRedirect")]
    RequestRedirect,
    #[serde(rename = "URLRewrite")]
    UrlRewrite,
    #[serde(rename = "ExtensionRef")]
    ExtensionRef,
    #[serde(rename = "CORS")]
    Cors,
}

/// Headers to overwrite (`set`), append (`add`) or delete (`remove`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpHeaderFilter {
    pub set: Vec<HttpHeader>,
    pub add: Vec<HttpHeader>,
    pub remove: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

/// Sends a copy of (a share of) the requests to another backend, ignoring
/// its responses.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRequestMirrorFilter {
    pub backend_ref: Option<BackendObjectReference>,
    pub percent: Option<i32>,
    pub fraction: Option<Fraction>,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct Fraction {
    pub numerator: Option<i32>,
    pub denominator: i32,
}

impl Default for Fraction {
    fn default() -> Self {
        Fraction {
            numerator: None,
            denominator: 100,
        }
    }
}

/// Answers with a redirect instead of forwarding; unset parts keep the
/// request's.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRequestRedirectFilter {
    pub scheme: Option<RedirectScheme>,
    pub hostname: Option<String>,
    pub path: Option<HttpPathModifier>,
    pub port: Option<i32>,
    pub status_code: i64,
}

impl Default for HttpRequestRedirectFilter {
    fn default() -> Self {
        HttpRequestRedirectFilter {
            scheme: None,
            hostname: None,
            path: None,
            port: None,
            status_code: 302,
        }
    }
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum RedirectScheme {
    #[serde(rename = "http")]
    Http,
    #[serde(rename = "https")]
    Https,
}

/// Rewrites the Host header and/or path before forwarding.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpUrlRewriteFilter {
    pub hostname: Option<String>,
    pub path: Option<HttpPathModifier>,
}

/// A path rewrite: the whole path, or only the part the rule's
/// `PathPrefix` match matched.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpPathModifier {
    #[serde(rename = "type")]
    pub type_: Option<PathModifierType>,
    pub replace_full_path: Option<String>,
    pub replace_prefix_match: Option<String>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum PathModifierType {
    #[serde(rename = "ReplaceFullPath")]
    ReplaceFullPath,
    #[serde(rename = "ReplacePrefixMatch")]
    ReplacePrefixMatch,
}

/// CORS answered at the proxy (preflights and response headers).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpCorsFilter {
    pub allow_origins: Vec<String>,
    pub allow_credentials: Option<bool>,
    pub allow_methods: Vec<CorsMethod>,
    pub allow_headers: Vec<String>,
    pub expose_headers: Vec<String>,
    /// Seconds a browser may cache a preflight answer.
    pub max_age: i32,
}

impl Default for HttpCorsFilter {
    fn default() -> Self {
        HttpCorsFilter {
            allow_origins: Vec::new(),
            allow_credentials: None,
            allow_methods: Vec::new(),
            allow_headers: Vec::new(),
            expose_headers: Vec::new(),
            max_age: 5,
        }
    }
}

/// A CORS allowed method: an HTTP method, or `*` for any.
#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
pub enum CorsMethod {
    #[serde(rename = "GET")]
    Get,
    #[serde(rename = "HEAD")]
    Head,
    #[serde(rename = "POST")]
    Post,
    #[serde(rename = "PUT")]
    Put,
    #[serde(rename = "DELETE")]
    Delete,
    #[serde(rename = "CONNECT")]
    Connect,
    #[serde(rename = "OPTIONS")]
    Options,
    #[serde(rename = "TRACE")]
    Trace,
    #[serde(rename = "PATCH")]
    Patch,
    #[serde(rename = "*")]
    Any,
}

impl CorsMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            CorsMethod::Get => "GET",
            CorsMethod::Head => "HEAD",
            CorsMethod::Post => "POST",
            CorsMethod::Put => "PUT",
            CorsMethod::Delete => "DELETE",
            CorsMethod::Connect => "CONNECT",
            CorsMethod::Options => "OPTIONS",
            CorsMethod::Trace => "TRACE",
            CorsMethod::Patch => "PATCH",
            CorsMethod::Any => "*",
        }
    }
}

/// A backend of a rule: a Service port by default. Requests are split
/// across a rule's backends in proportion to `weight`; weight 0 gets none.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpBackendRef {
    pub group: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub port: Option<i32>,
    pub weight: i32,
    /// Filters applied only to requests sent to this backend.
    pub filters: Vec<HttpRouteFilter>,
}

impl Default for HttpBackendRef {
    fn default() -> Self {
        HttpBackendRef {
            group: String::new(),
            kind: SERVICE_KIND.to_string(),
            name: String::new(),
            namespace: None,
            port: None,
            weight: 1,
            filters: Vec::new(),
        }
    }
}

/// Time limits: `request` for the whole exchange with the client (retries
/// included), `backendRequest` for each try against a backend.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpRouteTimeouts {
    pub request: Option<GatewayDuration>,
    pub backend_request: Option<GatewayDuration>,
}

/// Retries of failed backend requests: on which status codes, how many
/// times, with what pause between tries.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpRouteRetry {
    pub codes: Vec<i64>,
    pub attempts: Option<i64>,
    pub backoff: Option<GatewayDuration>,
}

/// Sticky sessions: requests carrying the same cookie or header go to the
/// same backend.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct SessionPersistence {
    pub session_name: Option<String>,
    pub absolute_timeout: Option<GatewayDuration>,
    pub idle_timeout: Option<GatewayDuration>,
    #[serde(rename = "type")]
    pub type_: SessionPersistenceType,
    pub cookie_config: Option<CookieConfig>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum SessionPersistenceType {
    #[default]
    #[serde(rename = "Cookie")]
    Cookie,
    #[serde(rename = "Header")]
    Header,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct CookieConfig {
    pub lifetime_type: CookieLifetimeType,
}

/// `Session` cookies end with the browser session; `Permanent` ones last
/// `absoluteTimeout`.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum CookieLifetimeType {
    #[serde(rename = "Permanent")]
    Permanent,
    #[default]
    #[serde(rename = "Session")]
    Session,
}

/// A Gateway API `Duration` (GEP-2257): up to four `<number><unit>` parts
/// with units `h`, `m`, `s`, `ms` (`1h30m`, `500ms`). A subset of Go's
/// syntax, checked by a schema pattern rather than Istio's CEL rule; `0s`
/// is allowed and means "no limit" for timeouts.
#[derive(Clone, Debug, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct GatewayDuration(pub String);

impl GatewayDuration {
    /// The value, or `None` if the text is not a duration at all.
    pub fn get(&self) -> Option<SimDuration> {
        SimDuration::parse(&self.0).ok()
    }
}

impl Validate for HttpRoute {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(NameRule::Dns1123Subdomain, v);
        v.field("spec", |v| self.check_schema(v));
        unless_blocked(v, |v| v.field("spec", |v| self.check_rules(v)));
    }
}

impl HttpRoute {
    fn check_schema(&self, v: &mut Validator) {
        v.list("parentRefs", &self.parent_refs, 32, |v, _, p| {
            check_ref(v, p.fields());
            SECTION_NAME.optional(v, "sectionName", p.section_name.as_deref());
        });
        v.list("hostnames", &self.hostnames, 16, |v, _, h| {
            HOSTNAME.check(v, h);
        });
        v.list("rules", &self.rules, 16, |v, _, r| r.check_schema(v));
    }

    /// The CEL rules of the HTTPRoute CRD.
    fn check_rules(&self, v: &mut Validator) {
        v.field("parentRefs", |v| parent_ref_rules(v, &self.parent_refs));
        v.field("rules", |v| {
            if self.rules.iter().map(|r| r.matches.len()).sum::<usize>() > 128 {
                v.cel("array", "While 16 rules and 64 matches per rule are allowed, the total number of matches across all rules in a route must be less than 128");
            }
            if has_duplicates(self.rules.iter().filter_map(|r| r.name.as_ref())) {
                v.cel("array", "Rule name must be unique within the route");
            }
        });
        v.each("rules", &self.rules, |v, _, r| r.check_rules(v));
    }
}

/// The parentRefs rules: several references to one parent must each name a
/// different listener (by sectionName or port).
fn parent_ref_rules(v: &mut Validator, refs: &[ParentReference]) {
    let mixed = refs.iter().any(|p1| {
        refs.iter().any(|p2| {
            p1.parent_key() == p2.parent_key()
                && (p1.section().is_some() != p2.section().is_some()
                    || p1.listener_port().is_some() != p2.listener_port().is_some())
        })
    });
    if mixed {
        v.cel(
            "array",
            "sectionName or port must be specified when parentRefs includes 2 or more references to the same parent",
        );
    }
    if has_duplicates(
        refs.iter()
            .map(|p| (p.parent_key(), p.section(), p.listener_port())),
    ) {
        v.cel(
            "array",
            "sectionName or port must be unique when parentRefs includes 2 or more references to the same parent",
        );
    }
}

impl HttpRouteRule {
    fn check_schema(&self, v: &mut Validator) {
        SECTION_NAME.optional(v, "name", self.name.as_deref());
        v.list("matches", &self.matches, 64, |v, _, m| m.check_schema(v));
        v.list("filters", &self.filters, 16, |v, _, f| f.check_schema(v));
        v.list("backendRefs", &self.backend_refs, 16, |v, _, b| {
            check_ref(v, b.fields());
            int_range(v, "weight", i64::from(b.weight), 0, Some(1_000_000));
            v.list("filters", &b.filters, 16, |v, _, f| f.check_schema(v));
        });
        if let Some(t) = &self.timeouts {
            v.field("timeouts", |v| {
                duration(v, "request", t.request.as_ref());
                duration(v, "backendRequest", t.backend_request.as_ref());
            });
        }
        if let Some(r) = &self.retry {
            v.field("retry", |v| {
                duration(v, "backoff", r.backoff.as_ref());
                v.each("codes", &r.codes, |v, _, code| {
                    v.bounds(*code, Some(400), Some(599))
                });
            });
        }
        if let Some(s) = &self.session_persistence {
            v.field("sessionPersistence", |v| {
                SESSION_NAME.optional(v, "sessionName", s.session_name.as_deref());
                duration(v, "absoluteTimeout", s.absolute_timeout.as_ref());
                duration(v, "idleTimeout", s.idle_timeout.as_ref());
            });
        }
    }

    fn check_rules(&self, v: &mut Validator) {
        let redirect = |f: &HttpRouteFilter| {
            f.request_redirect
                .as_ref()
                .is_some_and(|r| replaces_prefix(r.path.as_ref()))
        };
        let rewrite = |f: &HttpRouteFilter| {
            f.url_rewrite
                .as_ref()
                .is_some_and(|r| replaces_prefix(r.path.as_ref()))
        };
        let one_prefix_match =
            self.matches.len() == 1 && self.matches[0].path.type_ == PathMatchType::PathPrefix;
        if !self.backend_refs.is_empty()
            && self.filters.iter().any(|f| f.request_redirect.is_some())
        {
            v.cel(
                "object",
                "RequestRedirect filter must not be used together with backendRefs",
            );
        }
        if exactly_one(&self.filters, redirect) && !one_prefix_match {
            v.cel(
                "object",
                "When using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified",
            );
        }
        if exactly_one(&self.filters, rewrite) && !one_prefix_match {
            v.cel(
                "object",
                "When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified",
            );
        }
        if exactly_one(&self.backend_refs, |b| exactly_one(&b.filters, redirect))
            && !one_prefix_match
        {
            v.cel(
                "object",
                "Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified",
            );
        }
        if exactly_one(&self.backend_refs, |b| exactly_one(&b.filters, rewrite))
            && !one_prefix_match
        {
            v.cel(
                "object",
                "Within backendRefs, When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified",
            );
        }
        v.each("matches", &self.matches, |v, _, m| {
            v.field("path", |v| m.path.check_rules(v))
        });
        v.field("filters", |v| filter_list_rules(v, &self.filters, 1));
        v.each("filters", &self.filters, |v, _, f| f.check_rules(v));
        v.each("backendRefs", &self.backend_refs, |v, _, b| {
            if b.fields().needs_port() {
                v.cel("object", "Must have port for Service reference");
            }
            // The CRD lists the redirect-or-rewrite rule twice for backend
            // filters, so a violation is reported twice.
            v.field("filters", |v| filter_list_rules(v, &b.filters, 2));
            v.each("filters", &b.filters, |v, _, f| f.check_rules(v));
        });
        if let Some(t) = &self.timeouts {
            v.field("timeouts", |v| t.check_rules(v));
        }
        if let Some(s) = &self.session_persistence {
            let permanent = s
                .cookie_config
                .as_ref()
                .is_some_and(|c| c.lifetime_type == CookieLifetimeType::Permanent);
            if permanent && s.absolute_timeout.is_none() {
                v.field("sessionPersistence", |v| {
                    v.cel(
                        "object",
                        "AbsoluteTimeout must be specified when cookie lifetimeType is Permanent",
                    )
                });
            }
        }
    }
}

/// A redirect or rewrite that replaces the matched prefix.
fn replaces_prefix(path: Option<&HttpPathModifier>) -> bool {
    path.is_some_and(|p| {
        p.type_ == Some(PathModifierType::ReplacePrefixMatch) && p.replace_prefix_match.is_some()
    })
}

/// CEL's `exists_one`.
fn exactly_one<T>(items: &[T], pred: impl Fn(&T) -> bool) -> bool {
    items.iter().filter(|i| pred(i)).count() == 1
}

/// The rules on a list of filters (a rule's, or a backend's).
fn filter_list_rules(v: &mut Validator, filters: &[HttpRouteFilter], either_rule_copies: usize) {
    use HttpRouteFilterType as T;
    let count = |t: T| filters.iter().filter(|f| f.type_ == Some(t)).count();
    if count(T::RequestRedirect) > 0 && count(T::UrlRewrite) > 0 {
        for _ in 0..either_rule_copies {
            v.cel(
                "array",
                "May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both",
            );
        }
    }
    for (t, name) in [
        (T::RequestHeaderModifier, "RequestHeaderModifier"),
        (T::ResponseHeaderModifier, "ResponseHeaderModifier"),
        (T::RequestRedirect, "RequestRedirect"),
        (T::UrlRewrite, "URLRewrite"),
    ] {
        if count(t) > 1 {
            v.cel("array", &format!("{name} filter cannot be repeated"));
        }
    }
}

impl HttpRouteMatch {
    fn check_schema(&self, v: &mut Validator) {
        v.field("path", |v| {
            PATH_VALUE.optional(v, "value", Some(&self.path.value))
        });
        for (key, items, value_rule) in [
            ("headers", &self.headers, &HEADER_VALUE),
            ("queryParams", &self.query_params, &QUERY_VALUE),
        ] {
            v.list(key, items, 16, |v, _, h| {
                HEADER_NAME.required_str(v, "name", &h.name);
                value_rule.required_str(v, "value", &h.value);
            });
            unique_names(v, key, items, |h| &h.name);
        }
    }
}

impl HttpPathMatch {
    /// The path value rules, which apply to `Exact` and `PathPrefix`.
    fn check_rules(&self, v: &mut Validator) {
        if self.type_ == PathMatchType::RegularExpression {
            return;
        }
        let s = self.value.as_str();
        let rules = [
            (
                !s.starts_with('/'),
                "value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
            ),
            (
                s.contains("//"),
                "must not contain '//' when type one of ['Exact', 'PathPrefix']",
            ),
            (
                s.contains("/./"),
                "must not contain '/./' when type one of ['Exact', 'PathPrefix']",
            ),
            (
                s.contains("/../"),
                "must not contain '/../' when type one of ['Exact', 'PathPrefix']",
            ),
            (
                s.contains("%2f"),
                "must not contain '%2f' when type one of ['Exact', 'PathPrefix']",
            ),
            (
                s.contains("%2F"),
                "must not contain '%2F' when type one of ['Exact', 'PathPrefix']",
            ),
            (
                s.contains('#'),
                "must not contain '#' when type one of ['Exact', 'PathPrefix']",
            ),
            (
                s.ends_with("/.."),
                "must not end with '/..' when type one of ['Exact', 'PathPrefix']",
            ),
            (
                s.ends_with("/."),
                "must not end with '/.' when type one of ['Exact', 'PathPrefix']",
            ),
            (
                !PATH_CHARS.is_match(s),
                "must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']",
            ),
        ];
        for (broken, message) in rules {
            if broken {
                v.cel("object", message);
            }
        }
    }
}

impl HttpRouteFilter {
    fn check_schema(&self, v: &mut Validator) {
        if self.type_.is_none() {
            v.required_field("type");
        }
        for (key, modifier) in [
            ("requestHeaderModifier", &self.request_header_modifier),
            ("responseHeaderModifier", &self.response_header_modifier),
        ] {
            if let Some(m) = modifier {
                v.field(key, |v| m.check_schema(v));
            }
        }
        if let Some(m) = &self.request_mirror {
            v.field("requestMirror", |v| m.check_schema(v));
        }
        if let Some(r) = &self.request_redirect {
            v.field("requestRedirect", |v| {
                PRECISE_HOSTNAME.optional(v, "hostname", r.hostname.as_deref());
                if let Some(p) = &r.path {
                    v.field("path", |v| p.check_schema(v));
                }
                if let Some(n) = r.port {
                    port(v, "port", n);
                }
                if !matches!(r.status_code, 301 | 302) {
                    v.field("statusCode", |v| {
                        v.error(format!(
                            "Unsupported value: {}: supported values: \"301\", \"302\"",
                            r.status_code
                        ))
                    });
                }
            });
        }
        if let Some(r) = &self.url_rewrite {
            v.field("urlRewrite", |v| {
                PRECISE_HOSTNAME.optional(v, "hostname", r.hostname.as_deref());
                if let Some(p) = &r.path {
                    v.field("path", |v| p.check_schema(v));
                }
            });
        }
        if let Some(c) = &self.cors {
            v.field("cors", |v| c.check_schema(v));
        }
        if let Some(r) = &self.extension_ref {
            v.field("extensionRef", |v| check_ref(v, r.fields()));
        }
    }

    /// The rules tying `type` to the field that must (and must alone) be set.
    fn check_rules(&self, v: &mut Validator) {
        use HttpRouteFilterType as T;
        let fields = [
            (
                "requestHeaderModifier",
                "RequestHeaderModifier",
                T::RequestHeaderModifier,
                self.request_header_modifier.is_some(),
            ),
            (
                "responseHeaderModifier",
                "ResponseHeaderModifier",
                T::ResponseHeaderModifier,
                self.response_header_modifier.is_some(),
            ),
            (
                "requestMirror",
                "RequestMirror",
                T::RequestMirror,
                self.request_mirror.is_some(),
            ),
            (
                "requestRedirect",
                "RequestRedirect",
                T::RequestRedirect,
                self.request_redirect.is_some(),
            ),
            (
                "urlRewrite",
                "URLRewrite",
                T::UrlRewrite,
                self.url_rewrite.is_some(),
            ),
            (
                "extensionRef",
                "ExtensionRef",
                T::ExtensionRef,
                self.extension_ref.is_some(),
            ),
            ("cors", "CORS", T::Cors, self.cors.is_some()),
        ];
        for (key, name, t, present) in fields {
            let selected = self.type_ == Some(t);
            if present && !selected {
                v.cel(
                    "object",
                    &format!("filter.{key} must be nil if the filter.type is not {name}"),
                );
            }
            if !present && selected {
                v.cel(
                    "object",
                    &format!("filter.{key} must be specified for {name} filter.type"),
                );
            }
        }
        if let Some(m) = &self.request_mirror {
            v.field("requestMirror", |v| m.check_rules(v));
        }
        for (key, path) in [
            (
                "requestRedirect",
                self.request_redirect.as_ref().and_then(|r| r.path.as_ref()),
            ),
            (
                "urlRewrite",
                self.url_rewrite.as_ref().and_then(|r| r.path.as_ref()),
            ),
        ] {
            if let Some(p) = path {
                v.field(key, |v| v.field("path", |v| p.check_rules(v)));
            }
        }
        if let Some(c) = &self.cors
            && c.allow_methods.contains(&CorsMethod::Any)
            && c.allow_methods.len() > 1
        {
            v.field("cors", |v| {
                v.field("allowMethods", |v| {
                    v.cel(
                        "array",
                        "AllowMethods cannot contain '*' alongside other methods",
                    )
                })
            });
        }
    }
}

impl HttpHeaderFilter {
    fn check_schema(&self, v: &mut Validator) {
        for (key, headers) in [("set", &self.set), ("add", &self.add)] {
            v.list(key, headers, 16, |v, _, h| {
                HEADER_NAME.required_str(v, "name", &h.name);
                HEADER_VALUE.required_str(v, "value", &h.value);
            });
            unique_names(v, key, headers, |h| &h.name);
        }
        v.max_items("remove", self.remove.len(), 16);
        unique_values(v, "remove", self.remove.iter().map(String::as_str));
    }
}

impl HttpRequestMirrorFilter {
    fn check_schema(&self, v: &mut Validator) {
        match &self.backend_ref {
            None => v.required_field("backendRef"),
            Some(b) => v.field("backendRef", |v| check_ref(v, b.fields())),
        }
        if let Some(p) = self.percent {
            int_range(v, "percent", i64::from(p), 0, Some(100));
        }
        if let Some(f) = &self.fraction {
            v.field("fraction", |v| {
                match f.numerator {
                    None => v.required_field("numerator"),
                    Some(n) => int_range(v, "numerator", i64::from(n), 0, None),
                }
                int_range(v, "denominator", i64::from(f.denominator), 1, None);
            });
        }
    }

    fn check_rules(&self, v: &mut Validator) {
        if self.percent.is_some() && self.fraction.is_some() {
            v.cel(
                "object",
                "Only one of percent or fraction may be specified in HTTPRequestMirrorFilter",
            );
        }
        if self
            .backend_ref
            .as_ref()
            .is_some_and(|b| b.fields().needs_port())
        {
            v.field("backendRef", |v| {
                v.cel("object", "Must have port for Service reference")
            });
        }
        if let Some(f) = &self.fraction
            && f.numerator.is_some_and(|n| n > f.denominator)
        {
            v.field("fraction", |v| {
                v.cel(
                    "object",
                    "numerator must be less than or equal to denominator",
                )
            });
        }
    }
}

impl HttpPathModifier {
    fn check_schema(&self, v: &mut Validator) {
        if self.type_.is_none() {
            v.required_field("type");
        }
        PATH_VALUE.optional(v, "replaceFullPath", self.replace_full_path.as_deref());
        PATH_VALUE.optional(
            v,
            "replacePrefixMatch",
            self.replace_prefix_match.as_deref(),
        );
    }

    fn check_rules(&self, v: &mut Validator) {
        for (t, label, value, name) in [
            (
                PathModifierType::ReplaceFullPath,
                "ReplaceFullPath",
                &self.replace_full_path,
                "replaceFullPath",
            ),
            (
                PathModifierType::ReplacePrefixMatch,
                "ReplacePrefixMatch",
                &self.replace_prefix_match,
                "replacePrefixMatch",
            ),
        ] {
            let selected = self.type_ == Some(t);
            if selected && value.is_none() {
                v.cel(
                    "object",
                    &format!("{name} must be specified when type is set to '{label}'"),
                );
            }
            if value.is_some() && !selected {
                v.cel(
                    "object",
                    &format!("type must be '{label}' when {name} is set"),
                );
            }
        }
    }
}

impl HttpCorsFilter {
    fn check_schema(&self, v: &mut Validator) {
        v.list("allowOrigins", &self.allow_origins, 64, |v, _, o| {
            ORIGIN.check(v, o);
        });
        unique_values(
            v,
            "allowOrigins",
            self.allow_origins.iter().map(String::as_str),
        );
        if self.allow_credentials == Some(false) {
            v.field("allowCredentials", |v| {
                v.error("Unsupported value: false: supported values: \"true\"")
            });
        }
        v.max_items("allowMethods", self.allow_methods.len(), 9);
        unique_values(
            v,
            "allowMethods",
            self.allow_methods.iter().map(|m| m.as_str()),
        );
        for (key, headers) in [
            ("allowHeaders", &self.allow_headers),
            ("exposeHeaders", &self.expose_headers),
        ] {
            v.list(key, headers, 64, |v, _, h| {
                HEADER_NAME.check(v, h);
            });
            unique_values(v, key, headers.iter().map(String::as_str));
        }
        int_range(v, "maxAge", i64::from(self.max_age), 1, None);
    }
}

impl HttpRouteTimeouts {
    /// `backendRequest` may not exceed a non-zero `request`. CEL's
    /// `duration()` takes Go's syntax, wider than the schema pattern, and
    /// fails on text Go cannot parse.
    fn check_rules(&self, v: &mut Validator) {
        const MESSAGE: &str = "backendRequest timeout cannot be longer than request timeout";
        let (Some(request), Some(backend)) = (&self.request, &self.backend_request) else {
            return;
        };
        match (request.get(), backend.get()) {
            (Some(r), Some(b)) => {
                if !r.is_zero() && b > r {
                    v.cel("object", MESSAGE);
                }
            }
            _ => v.cel_error(
                "object",
                "type conversion error from 'string' to 'google.protobuf.Duration'",
                MESSAGE,
            ),
        }
    }
}

/// The Gateway API duration pattern check.
fn duration(v: &mut Validator, key: &str, d: Option<&GatewayDuration>) {
    DURATION.optional(v, key, d.map(|d| d.0.as_str()));
}

// ---------------------------------------------------------------------------
// Object references

const GATEWAY_GROUP: &str = "gateway.networking.k8s.io";
const SERVICE_KIND: &str = "Service";

/// A reference to any object, its group required (`""` for core). Used
/// for GatewayClass `parametersRef` (Go's ParametersReference, same shape)
/// and for CA certificate references.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ObjectReference {
    pub group: Option<String>,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

/// A reference to an object in the referrer's namespace (filter
/// `extensionRef`, infrastructure `parametersRef`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct LocalObjectReference {
    pub group: Option<String>,
    pub kind: String,
    pub name: String,
}

/// A reference to a Secret (or another kind holding a certificate).
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct SecretObjectReference {
    pub group: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
}

impl Default for SecretObjectReference {
    fn default() -> Self {
        SecretObjectReference {
            group: String::new(),
            kind: "Secret".to_string(),
            name: String::new(),
            namespace: None,
        }
    }
}

/// A reference to a backend: a Service port by default.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(default)]
pub struct BackendObjectReference {
    pub group: String,
    pub kind: String,
    pub name: String,
    pub namespace: Option<String>,
    pub port: Option<i32>,
}

impl Default for BackendObjectReference {
    fn default() -> Self {
        BackendObjectReference {
            group: String::new(),
            kind: SERVICE_KIND.to_string(),
            name: String::new(),
            namespace: None,
            port: None,
        }
    }
}

/// The fields every reference type has, borrowed so one schema check serves
/// them all. `group` is `None` only when it is required and missing.
struct RefFields<'a> {
    group: Option<&'a str>,
    kind: &'a str,
    name: &'a str,
    namespace: Option<&'a str>,
    port: Option<i32>,
}

impl ObjectReference {
    fn fields(&self) -> RefFields<'_> {
        RefFields {
            group: self.group.as_deref(),
            kind: &self.kind,
            name: &self.name,
            namespace: self.namespace.as_deref(),
            port: None,
        }
    }
}

impl LocalObjectReference {
    fn fields(&self) -> RefFields<'_> {
        RefFields {
            group: self.group.as_deref(),
            kind: &self.kind,
            name: &self.name,
            namespace: None,
            port: None,
        }
    }
}

impl SecretObjectReference {
    fn fields(&self) -> RefFields<'_> {
        RefFields {
            group: Some(&self.group),
            kind: &self.kind,
            name: &self.name,
            namespace: self.namespace.as_deref(),
            port: None,
        }
    }
}

impl BackendObjectReference {
    fn fields(&self) -> RefFields<'_> {
        RefFields {
            group: Some(&self.group),
            kind: &self.kind,
            name: &self.name,
            namespace: self.namespace.as_deref(),
            port: self.port,
        }
    }
}

impl HttpBackendRef {
    fn fields(&self) -> RefFields<'_> {
        RefFields {
            group: Some(&self.group),
            kind: &self.kind,
            name: &self.name,
            namespace: self.namespace.as_deref(),
            port: self.port,
        }
    }
}

impl ParentReference {
    fn fields(&self) -> RefFields<'_> {
        RefFields {
            group: Some(&self.group),
            kind: &self.kind,
            name: &self.name,
            namespace: self.namespace.as_deref(),
            port: self.port,
        }
    }
}

impl RefFields<'_> {
    /// The rule `Must have port for Service reference`.
    fn needs_port(&self) -> bool {
        self.group == Some("") && self.kind == SERVICE_KIND && self.port.is_none()
    }
}

fn check_ref(v: &mut Validator, r: RefFields<'_>) {
    GROUP.required(v, "group", r.group);
    KIND.required_str(v, "kind", r.kind);
    OBJECT_NAME.required_str(v, "name", r.name);
    NAMESPACE.optional(v, "namespace", r.namespace);
    if let Some(n) = r.port {
        port(v, "port", n);
    }
}

// ---------------------------------------------------------------------------
// The schema checks only these CRDs use, and their string schemas.

/// A map of strings with `maxProperties`, its values checked by `rule`.
fn string_map(
    v: &mut Validator,
    key: &str,
    map: &BTreeMap<String, String>,
    max: usize,
    rule: &StringSchema,
) {
    v.field(key, |v| {
        if map.len() > max {
            v.too_many(map.len(), max);
        }
        for (k, value) in map {
            rule.optional(v, k, Some(value));
        }
    });
}

/// A `x-kubernetes-list-type: map` list keyed by `name`: the apiserver
/// reports the second use of a key (once per key).
fn unique_names<T>(v: &mut Validator, key: &str, items: &[T], name: impl Fn(&T) -> &String) {
    v.field(key, |v| {
        for i in second_uses(items.iter().map(&name)) {
            let n = name(&items[i]);
            v.index(i, |v| {
                v.error(format!(
                    "Duplicate value: map[string]interface {{}}{{\"name\":{n:?}}}"
                ))
            });
        }
    });
}

/// A `x-kubernetes-list-type: set` list.
fn unique_values<'a>(v: &mut Validator, key: &str, values: impl Iterator<Item = &'a str>) {
    let all: Vec<&str> = values.collect();
    v.field(key, |v| {
        for i in second_uses(all.iter()) {
            v.index(i, |v| v.duplicate(all[i]));
        }
    });
}

/// Indexes where a value occurs for the second time.
fn second_uses<T: PartialEq>(values: impl Iterator<Item = T>) -> Vec<usize> {
    let values: Vec<T> = values.collect();
    (0..values.len())
        .filter(|&i| values[..i].iter().filter(|x| **x == values[i]).count() == 1)
        .collect()
}

fn has_duplicates<T: PartialEq>(values: impl Iterator<Item = T>) -> bool {
    !second_uses(values).is_empty()
}

/// `minimum`/`maximum` on the integer field `key`.
fn int_range(v: &mut Validator, key: &str, value: i64, min: i64, max: Option<i64>) {
    v.field(key, |v| v.bounds(value, Some(min), max));
}

fn port(v: &mut Validator, key: &str, n: i32) {
    int_range(v, key, i64::from(n), 1, Some(65535));
}

const DNS_SUBDOMAIN_PATTERN: &str =
    r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$";

static NAMESPACE: StringSchema =
    StringSchema::new(1, Some(63), Some(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"));
static SECTION_NAME: StringSchema = StringSchema::new(1, Some(253), Some(DNS_SUBDOMAIN_PATTERN));
static PRECISE_HOSTNAME: StringSchema =
    StringSchema::new(1, Some(253), Some(DNS_SUBDOMAIN_PATTERN));
static HOSTNAME: StringSchema = StringSchema::new(
    1,
    Some(253),
    Some(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"),
);
static CONTROLLER_NAME: StringSchema = StringSchema::new(
    1,
    Some(253),
    Some(
        r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$",
    ),
);
static DESCRIPTION: StringSchema = StringSchema::new(0, Some(64), None);
static PROTOCOL: StringSchema = StringSchema::new(
    1,
    Some(255),
    Some(
        r"^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$",
    ),
);
static ADDRESS_TYPE: StringSchema = StringSchema::new(
    1,
    Some(253),
    Some(
        r"^Hostname|IPAddress|NamedAddress|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$",
    ),
);
static ADDRESS_VALUE: StringSchema = StringSchema::new(0, Some(253), None);
static LABEL_VALUE: StringSchema = StringSchema::new(
    0,
    Some(63),
    Some(r"^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$"),
);
static LONG_VALUE: StringSchema = StringSchema::new(0, Some(4096), None);
static HEADER_NAME: StringSchema =
    StringSchema::new(1, Some(256), Some(r"^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$"));
static HEADER_VALUE: StringSchema = StringSchema::new(1, Some(4096), None);
static QUERY_VALUE: StringSchema = StringSchema::new(1, Some(1024), None);
static PATH_VALUE: StringSchema = StringSchema::new(0, Some(1024), None);
static SESSION_NAME: StringSchema = StringSchema::new(0, Some(128), None);
static ORIGIN: StringSchema = StringSchema::new(
    1,
    Some(253),
    Some(r"^(([^:/?#]+):)(//([^/?#]*))([^?#]*)(\?([^#]*))?(#(.*))?"),
);
static DURATION: StringSchema = StringSchema::new(0, None, Some(r"^([0-9]{1,5}(h|m|s|ms)){1,4}$"));

// Regular expressions of CEL rules.
static HOSTNAME_VALUE: Pattern =
    Pattern::new(r"^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$");
static METADATA_KEY: Pattern = Pattern::new(
    r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9]$",
);
static PATH_CHARS: Pattern =
    Pattern::new(r"^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$");

/// Runs the CEL rules unless an earlier error blocks them, as the
/// apiserver does (`hasBlockingErr` in apiextensions-apiserver's
/// customresource strategy): a missing field, an unsupported value, a
/// too-long string, a too-long list or a wrong type would make the rules
/// evaluate garbage, so they are skipped with one line saying so.
fn unless_blocked(v: &mut Validator, rules: impl FnOnce(&mut Validator)) {
    const BLOCKING: &[&str] = &[
        "Required value",
        "Unsupported value",
        "Too long",
        "Too many",
    ];
    let blocked = v.findings().iter().any(|f| {
        f.severity == Severity::Error
            && (BLOCKING.iter().any(|b| f.message.starts_with(b))
                || f.message.contains(" in body must be of type "))
    });
    if blocked {
        v.error("Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation");
    } else {
        rules(v);
    }
}

spec_resources!(GatewayClass, Gateway, HttpRoute);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Body;
    use crate::config::testing::{clean, located, problems};
    use test_case::test_case;

    const GW: &str =
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n";
    const ROUTE: &str =
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\n";
    const CLASS: &str =
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: c\n";
    const BLOCKED: &str = "Invalid value: \"null\": some validation rules were not checked because the object was invalid; correct the existing errors to complete validation";

    fn assert_error(doc: &str, spec: &str, want: &str) {
        let got = problems(&format!("{doc}spec: {spec}\n"));
        assert!(got.iter().any(|e| e == want), "want {want:?} in {got:#?}");
    }

    /// Exactly as `istioctl waypoint generate --for service` prints it
    /// (istioctl/pkg/waypoint/waypoint.go).
    #[test]
    fn waypoint_from_istioctl_loads() {
        let loaded = clean(
            "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  labels:
    istio.io/waypoint-for: service
  name: waypoint
  namespace: default
spec:
  gatewayClassName: istio-waypoint
  listeners:
  - name: mesh
    port: 15008
    protocol: HBONE
",
        );
        let Body::KubernetesGateway(gw) = &loaded.objects[0].body else {
            panic!("not a Gateway API Gateway");
        };
        assert!(gw.is_waypoint());
        let l = &gw.listeners[0];
        assert_eq!(
            (l.name.as_str(), l.port, l.protocol.as_str()),
            ("mesh", 15008, "HBONE")
        );
        assert_eq!(l.allowed_routes.namespaces.from, FromNamespaces::Same);
    }

    /// samples/bookinfo/gateway-api/bookinfo-gateway.yaml (Istio 1.27).
    const BOOKINFO: &str = "apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
spec:
  gatewayClassName: istio
  listeners:
  - name: http
    port: 80
    protocol: HTTP
    allowedRoutes:
      namespaces:
        from: Same
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: bookinfo
spec:
  parentRefs:
  - name: bookinfo-gateway
  rules:
  - matches:
    - path:
        type: Exact
        value: /productpage
    - path:
        type: PathPrefix
        value: /static
    - path:
        type: Exact
        value: /login
    - path:
        type: Exact
        value: /logout
    - path:
        type: PathPrefix
        value: /api/v1/products
    backendRefs:
    - name: productpage
      port: 9080
";

    #[test]
    fn bookinfo_gateway_and_route_load_with_defaults() {
        let loaded = clean(BOOKINFO);
        let Body::HTTPRoute(route) = &loaded.objects[1].body else {
            panic!("not an HTTPRoute");
        };
        let parent = &route.parent_refs[0];
        assert_eq!(
            (parent.group.as_str(), parent.kind.as_str()),
            (GATEWAY_GROUP, "Gateway")
        );
        let rule = &route.rules[0];
        assert_eq!(rule.matches.len(), 5);
        assert_eq!(rule.matches[0].path.type_, PathMatchType::Exact);
        assert_eq!(rule.matches[1].path.value, "/static");
        let backend = &rule.backend_refs[0];
        assert_eq!(
            (backend.kind.as_str(), backend.port, backend.weight),
            ("Service", Some(9080), 1)
        );
    }

    /// samples/bookinfo/gateway-api/route-reviews-90-10.yaml.
    #[test]
    fn weighted_split_loads() {
        let loaded = clean(
            "apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata:
  name: reviews
spec:
  parentRefs:
  - group: \"\"
    kind: Service
    name: reviews
    port: 9080
  rules:
  - backendRefs:
    - name: reviews-v1
      port: 9080
      weight: 90
    - name: reviews-v2
      port: 9080
      weight: 10
",
        );
        let Body::HTTPRoute(route) = &loaded.objects[0].body else {
            panic!("not an HTTPRoute");
        };
        assert!(route.parent_refs[0].is_service());
        let rule = &route.rules[0];
        let split: Vec<(&str, i32)> = rule
            .backend_refs
            .iter()
            .map(|b| (b.name.as_str(), b.weight))
            .collect();
        assert_eq!(split, [("reviews-v1", 90), ("reviews-v2", 10)]);
        // No matches written: the CRD's default, every path.
        assert_eq!(rule.matches, [HttpRouteMatch::default()]);
        assert_eq!(rule.matches[0].path.value, "/");
    }

    #[test]
    fn absent_rules_default_to_match_everything() {
        let loaded = clean(&format!("{ROUTE}spec:\n  parentRefs:\n  - name: gw\n"));
        let Body::HTTPRoute(route) = &loaded.objects[0].body else {
            panic!("not an HTTPRoute");
        };
        assert_eq!(route.rules, [HttpRouteRule::default()]);
    }

    #[test]
    fn feature_rich_route_loads() {
        clean(&format!(
            "{ROUTE}spec:
  parentRefs:
  - name: gw
    sectionName: https
  hostnames: [\"*.example.com\", bookinfo.example.com]
  rules:
  - name: api
    matches:
    - path: {{type: RegularExpression, value: \"/v[0-9]+/.*\"}}
      headers: [{{name: x-user, value: jason}}]
      queryParams: [{{type: RegularExpression, name: debug, value: \"1|true\"}}]
      method: GET
    filters:
    - type: RequestHeaderModifier
      requestHeaderModifier: {{set: [{{name: x-a, value: b}}], remove: [x-c]}}
    - type: URLRewrite
      urlRewrite: {{hostname: api.internal, path: {{type: ReplaceFullPath, replaceFullPath: /}}}}
    - type: RequestMirror
      requestMirror: {{backendRef: {{name: shadow, port: 80}}, fraction: {{numerator: 1}}}}
    - type: CORS
      cors: {{allowOrigins: [\"https://a.example\"], allowMethods: [GET, POST], allowCredentials: true}}
    backendRefs:
    - name: api
      port: 8080
      filters:
      - type: ResponseHeaderModifier
        responseHeaderModifier: {{add: [{{name: x-b, value: c}}]}}
    timeouts: {{request: 10s, backendRequest: 2s}}
    retry: {{codes: [503], attempts: 3, backoff: 100ms}}
    sessionPersistence: {{sessionName: s, absoluteTimeout: 1h, cookieConfig: {{lifetimeType: Permanent}}}}
  - matches: [{{path: {{type: PathPrefix, value: /old}}}}]
    filters:
    - type: RequestRedirect
      requestRedirect: {{scheme: https, statusCode: 301, path: {{type: ReplacePrefixMatch, replacePrefixMatch: /new}}}}
"
        ));
    }

    #[test]
    fn tls_gateway_and_class_load() {
        clean(&format!(
            "{CLASS}spec:
  controllerName: istio.io/gateway-controller
  description: The default Istio GatewayClass
---
{GW}spec:
  gatewayClassName: istio
  addresses: [{{value: 10.0.0.1}}, {{type: Hostname, value: gw.example.com}}]
  infrastructure: {{labels: {{team: a}}, annotations: {{networking.istio.io/service-type: ClusterIP}}}}
  listeners:
  - name: https
    hostname: \"*.example.com\"
    port: 443
    protocol: HTTPS
    tls: {{certificateRefs: [{{name: cert}}]}}
    allowedRoutes: {{namespaces: {{from: Selector, selector: {{matchLabels: {{shared: \"true\"}}}}}}, kinds: [{{kind: HTTPRoute}}]}}
  - name: tls
    port: 443
    protocol: TLS
    hostname: db.example.com
    tls: {{mode: Passthrough}}
"
        ));
    }

    // Schema rules: apiextensions-apiserver `kubeOpenAPIResultToFieldErrors`
    // with kube-openapi's messages; CRD: config/crd/experimental/
    // gateway.networking.k8s.io_gateways.yaml (v1.3.0).
    #[test_case("{listeners: [{name: http, port: 80, protocol: HTTP}]}",
        "error: spec.gatewayClassName: Required value"; "class name required")]
    #[test_case("{gatewayClassName: istio}", "error: spec.listeners: Required value"; "listeners required")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: http, protocol: HTTP}]}",
        "error: spec.listeners[0].port: Required value"; "port required")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP}, {port: 81, protocol: HTTP}]}",
        "error: spec.listeners[1].name: Required value"; "listener name required")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: http, port: 80}]}",
        &format!("error: : {BLOCKED}"); "cel skipped after a blocking error")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: HTTP, port: 80, protocol: HTTP}]}",
        r#"error: spec.listeners[0].name: Invalid value: "HTTP": spec.listeners[0].name in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'"#; "listener name pattern")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: http, port: 70000, protocol: HTTP}]}",
        "error: spec.listeners[0].port: Invalid value: 70000: spec.listeners[0].port in body should be less than or equal to 65535"; "port range")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP/2}]}",
        r#"error: spec.listeners[0].protocol: Invalid value: "HTTP/2": spec.listeners[0].protocol in body should match '^[a-zA-Z0-9]([-a-zA-Z0-9]*[a-zA-Z0-9])?$|[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9]+$'"#; "protocol pattern")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP, hostname: Foo.com}]}",
        r#"error: spec.listeners[0].hostname: Invalid value: "Foo.com": spec.listeners[0].hostname in body should match '^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'"#; "hostname pattern")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP}, {name: a, port: 81, protocol: HTTP}]}",
        r#"error: spec.listeners[1]: Duplicate value: map[string]interface {}{"name":"a"}"#; "listener list map key")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP}, {name: a, port: 81, protocol: HTTP}]}",
        r#"error: spec.listeners: Invalid value: "array": Listener name must be unique within the Gateway"#; "listener names unique")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP}, {name: b, port: 80, protocol: HTTP}]}",
        r#"error: spec.listeners: Invalid value: "array": Combination of port, protocol and hostname must be unique for each listener"#; "listener combination unique")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP, tls: {certificateRefs: [{name: c}]}}]}",
        r#"error: spec.listeners: Invalid value: "array": tls must not be specified for protocols ['HTTP', 'TCP', 'UDP']"#; "no tls on http")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 443, protocol: HTTPS, tls: {mode: Passthrough}}]}",
        r#"error: spec.listeners: Invalid value: "array": tls mode must be Terminate for protocol HTTPS"#; "https terminates")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 5432, protocol: TCP, hostname: db.example.com}]}",
        r#"error: spec.listeners: Invalid value: "array": hostname must not be specified for protocols ['TCP', 'UDP']"#; "no hostname on tcp")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 443, protocol: HTTPS, tls: {}}]}",
        r#"error: spec.listeners[0].tls: Invalid value: "object": no such key: certificateRefs evaluating rule: certificateRefs or options must be specified when mode is Terminate"#; "terminate needs certificates")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 443, protocol: HTTPS, tls: {certificateRefs: [{name: c, namespace: Bad}]}}]}",
        r#"error: spec.listeners[0].tls.certificateRefs[0].namespace: Invalid value: "Bad": spec.listeners[0].tls.certificateRefs[0].namespace in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$'"#; "reference namespace pattern")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP}], addresses: [{value: \"1.2.3.4:8080\"}]}",
        r#"error: spec.addresses[0].value: Invalid value: "1.2.3.4:8080": spec.addresses[0].value in body must be of type ipv4: "1.2.3.4:8080""#; "ip address format")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP}], addresses: [{value: 10.0.0.1}, {value: 10.0.0.1}]}",
        r#"error: spec.addresses: Invalid value: "array": IPAddress values must be unique"#; "ip addresses unique")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP}], addresses: [{type: Hostname, value: Bad_Host}]}",
        r#"error: spec.addresses[0]: Invalid value: "object": Hostname value must only contain valid characters (matching ^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$)"#; "hostname address")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP}], infrastructure: {labels: {\"-bad\": x}}}",
        r#"error: spec.infrastructure.labels: Invalid value: "object": Label keys must be in the form of an optional DNS subdomain prefix followed by a required name segment of up to 63 characters."#; "infrastructure label keys")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP}], infrastructure: {labels: {team: \"a b\"}}}",
        r#"error: spec.infrastructure.labels.team: Invalid value: "a b": spec.infrastructure.labels.team in body should match '^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$'"#; "infrastructure label values")]
    #[test_case("{gatewayClassName: istio, listeners: [{name: a, port: 80, protocol: HTTP, allowedRoutes: {kinds: [{group: gateway.networking.k8s.io}]}}]}",
        "error: spec.listeners[0].allowedRoutes.kinds[0].kind: Required value"; "route kind required")]
    fn gateway_errors(spec: &str, want: &str) {
        assert_error(GW, spec, want);
    }

    #[test]
    fn too_many_listeners() {
        let listeners: Vec<String> = (0..65)
            .map(|i| format!("{{name: l{i}, port: {}, protocol: HTTP}}", 1000 + i))
            .collect();
        let spec = format!(
            "{{gatewayClassName: istio, listeners: [{}]}}",
            listeners.join(", ")
        );
        assert_error(
            GW,
            &spec,
            "error: spec.listeners: Too many: 65: must have at most 64 items",
        );
    }

    // CRD: config/crd/experimental/gateway.networking.k8s.io_gatewayclasses.yaml.
    #[test_case("{description: x}", "error: spec.controllerName: Required value"; "controller required")]
    #[test_case("{controllerName: istio}",
        r#"error: spec.controllerName: Invalid value: "istio": spec.controllerName in body should match '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/[A-Za-z0-9\/\-._~%!$&'()*+,;=:]+$'"#; "controller pattern")]
    #[test_case("{controllerName: istio.io/gateway-controller, description: abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij}",
        "error: spec.description: Too long: may not be more than 64 bytes"; "description length")]
    #[test_case("{controllerName: istio.io/gateway-controller, parametersRef: {kind: ConfigMap, name: p}}",
        "error: spec.parametersRef.group: Required value"; "parameters group required")]
    fn gateway_class_errors(spec: &str, want: &str) {
        assert_error(CLASS, spec, want);
    }

    // CRD: config/crd/experimental/gateway.networking.k8s.io_httproutes.yaml.
    #[test_case("{rules: [{matches: [{path: {type: Exact, value: productpage}}]}]}",
        r#"error: spec.rules[0].matches[0].path: Invalid value: "object": value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']"#; "absolute path")]
    #[test_case("{rules: [{matches: [{path: {value: /a//b}}]}]}",
        r#"error: spec.rules[0].matches[0].path: Invalid value: "object": must not contain '//' when type one of ['Exact', 'PathPrefix']"#; "double slash")]
    #[test_case("{rules: [{matches: [{path: {value: \"/a b\"}}]}]}",
        r#"error: spec.rules[0].matches[0].path: Invalid value: "object": must only contain valid characters (matching ^(?:[-A-Za-z0-9/._~!$&'()*+,;=:@]|[%][0-9a-fA-F]{2})+$) for types ['Exact', 'PathPrefix']"#; "path characters")]
    #[test_case("{rules: [{backendRefs: [{name: a, port: 80, weight: 1000001}]}]}",
        "error: spec.rules[0].backendRefs[0].weight: Invalid value: 1000001: spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000"; "weight range")]
    #[test_case("{rules: [{backendRefs: [{name: a, port: 80, weight: -1}]}]}",
        "error: spec.rules[0].backendRefs[0].weight: Invalid value: -1: spec.rules[0].backendRefs[0].weight in body should be greater than or equal to 0"; "negative weight")]
    #[test_case("{rules: [{backendRefs: [{name: reviews}]}]}",
        r#"error: spec.rules[0].backendRefs[0]: Invalid value: "object": Must have port for Service reference"#; "service port")]
    #[test_case("{rules: [{backendRefs: [{port: 80}]}]}",
        "error: spec.rules[0].backendRefs[0].name: Required value"; "backend name required")]
    #[test_case("{rules: [{matches: [{headers: [{name: \"bad header\", value: x}]}]}]}",
        r#"error: spec.rules[0].matches[0].headers[0].name: Invalid value: "bad header": spec.rules[0].matches[0].headers[0].name in body should match '^[A-Za-z0-9!#$%&'*+\-.^_\x60|~]+$'"#; "header name")]
    #[test_case("{rules: [{matches: [{headers: [{name: x, value: a}, {name: x, value: b}]}]}]}",
        r#"error: spec.rules[0].matches[0].headers[1]: Duplicate value: map[string]interface {}{"name":"x"}"#; "header names unique")]
    #[test_case("{rules: [{filters: [{type: RequestHeaderModifier}]}]}",
        r#"error: spec.rules[0].filters[0]: Invalid value: "object": filter.requestHeaderModifier must be specified for RequestHeaderModifier filter.type"#; "filter field missing")]
    #[test_case("{rules: [{filters: [{type: URLRewrite, urlRewrite: {hostname: a}, requestMirror: {backendRef: {name: m, port: 80}}}]}]}",
        r#"error: spec.rules[0].filters[0]: Invalid value: "object": filter.requestMirror must be nil if the filter.type is not RequestMirror"#; "filter field extra")]
    #[test_case("{rules: [{filters: [{requestHeaderModifier: {}}]}]}",
        "error: spec.rules[0].filters[0].type: Required value"; "filter type required")]
    #[test_case("{rules: [{filters: [{type: RequestRedirect, requestRedirect: {statusCode: 303}}]}]}",
        r#"error: spec.rules[0].filters[0].requestRedirect.statusCode: Unsupported value: 303: supported values: "301", "302""#; "redirect status")]
    #[test_case("{rules: [{filters: [{type: RequestRedirect, requestRedirect: {scheme: https}}], backendRefs: [{name: a, port: 80}]}]}",
        r#"error: spec.rules[0]: Invalid value: "object": RequestRedirect filter must not be used together with backendRefs"#; "redirect without backends")]
    #[test_case("{rules: [{matches: [{path: {type: Exact, value: /a}}], filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}]}]}",
        r#"error: spec.rules[0]: Invalid value: "object": When using URLRewrite filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified"#; "prefix rewrite needs prefix match")]
    #[test_case("{rules: [{matches: [{path: {type: Exact, value: /a}}], backendRefs: [{name: a, port: 80, filters: [{type: RequestRedirect, requestRedirect: {path: {type: ReplacePrefixMatch, replacePrefixMatch: /b}}}]}]}]}",
        r#"error: spec.rules[0]: Invalid value: "object": Within backendRefs, when using RequestRedirect filter with path.replacePrefixMatch, exactly one PathPrefix match must be specified"#; "backend prefix redirect")]
    #[test_case("{rules: [{filters: [{type: RequestRedirect, requestRedirect: {port: 8443}}, {type: URLRewrite, urlRewrite: {hostname: a}}]}]}",
        r#"error: spec.rules[0].filters: Invalid value: "array": May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both"#; "redirect or rewrite")]
    #[test_case("{rules: [{filters: [{type: URLRewrite, urlRewrite: {hostname: a}}, {type: URLRewrite, urlRewrite: {hostname: b}}]}]}",
        r#"error: spec.rules[0].filters: Invalid value: "array": URLRewrite filter cannot be repeated"#; "filter repeated")]
    #[test_case("{rules: [{filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath}}}]}]}",
        r#"error: spec.rules[0].filters[0].urlRewrite.path: Invalid value: "object": replaceFullPath must be specified when type is set to 'ReplaceFullPath'"#; "full path value")]
    #[test_case("{rules: [{filters: [{type: URLRewrite, urlRewrite: {path: {type: ReplaceFullPath, replacePrefixMatch: /x}}}]}]}",
        r#"error: spec.rules[0].filters[0].urlRewrite.path: Invalid value: "object": type must be 'ReplacePrefixMatch' when replacePrefixMatch is set"#; "prefix value needs its type")]
    #[test_case("{rules: [{filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}, percent: 10, fraction: {numerator: 1}}}]}]}",
        r#"error: spec.rules[0].filters[0].requestMirror: Invalid value: "object": Only one of percent or fraction may be specified in HTTPRequestMirrorFilter"#; "mirror percent or fraction")]
    #[test_case("{rules: [{filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m, port: 80}, fraction: {numerator: 3, denominator: 2}}}]}]}",
        r#"error: spec.rules[0].filters[0].requestMirror.fraction: Invalid value: "object": numerator must be less than or equal to denominator"#; "mirror fraction")]
    #[test_case("{rules: [{filters: [{type: RequestMirror, requestMirror: {backendRef: {name: m}}}]}]}",
        r#"error: spec.rules[0].filters[0].requestMirror.backendRef: Invalid value: "object": Must have port for Service reference"#; "mirror port")]
    #[test_case("{rules: [{filters: [{type: CORS, cors: {allowMethods: [\"*\", GET]}}]}]}",
        r#"error: spec.rules[0].filters[0].cors.allowMethods: Invalid value: "array": AllowMethods cannot contain '*' alongside other methods"#; "cors wildcard")]
    #[test_case("{rules: [{filters: [{type: CORS, cors: {allowCredentials: false}}]}]}",
        r#"error: spec.rules[0].filters[0].cors.allowCredentials: Unsupported value: false: supported values: "true""#; "cors credentials")]
    #[test_case("{rules: [{timeouts: {request: 1d}}]}",
        r#"error: spec.rules[0].timeouts.request: Invalid value: "1d": spec.rules[0].timeouts.request in body should match '^([0-9]{1,5}(h|m|s|ms)){1,4}$'"#; "duration pattern")]
    #[test_case("{rules: [{timeouts: {request: 1s, backendRequest: 2s}}]}",
        r#"error: spec.rules[0].timeouts: Invalid value: "object": backendRequest timeout cannot be longer than request timeout"#; "backend timeout")]
    #[test_case("{rules: [{timeouts: {request: 1d, backendRequest: 2s}}]}",
        r#"error: spec.rules[0].timeouts: Invalid value: "object": type conversion error from 'string' to 'google.protobuf.Duration' evaluating rule: backendRequest timeout cannot be longer than request timeout"#; "unparsable timeout")]
    #[test_case("{rules: [{retry: {codes: [600]}}]}",
        "error: spec.rules[0].retry.codes[0]: Invalid value: 600: spec.rules[0].retry.codes[0] in body should be less than or equal to 599"; "retry code")]
    #[test_case("{rules: [{sessionPersistence: {cookieConfig: {lifetimeType: Permanent}}}]}",
        r#"error: spec.rules[0].sessionPersistence: Invalid value: "object": AbsoluteTimeout must be specified when cookie lifetimeType is Permanent"#; "permanent cookie")]
    #[test_case("{rules: [{name: a}, {name: a}]}",
        r#"error: spec.rules: Invalid value: "array": Rule name must be unique within the route"#; "rule names")]
    #[test_case("{parentRefs: [{name: gw}, {name: gw}]}",
        r#"error: spec.parentRefs: Invalid value: "array": sectionName or port must be unique when parentRefs includes 2 or more references to the same parent"#; "parent refs unique")]
    #[test_case("{parentRefs: [{name: gw, sectionName: http}, {name: gw}]}",
        r#"error: spec.parentRefs: Invalid value: "array": sectionName or port must be specified when parentRefs includes 2 or more references to the same parent"#; "parent refs specific")]
    #[test_case("{hostnames: [\"foo..com\"]}",
        r#"error: spec.hostnames[0]: Invalid value: "foo..com": spec.hostnames[0] in body should match '^(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'"#; "route hostname")]
    #[test_case("{rules: [{matches: [{path: {type: Prefix}}]}]}",
        r#"error: spec.rules[0].matches[0].path.type: Unsupported value: "Prefix": supported values: "Exact", "PathPrefix", "RegularExpression""#; "path type enum")]
    #[test_case("{parentRefs: [{name: gw, kind: \"9x\"}]}",
        r#"error: spec.parentRefs[0].kind: Invalid value: "9x": spec.parentRefs[0].kind in body should match '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$'"#; "kind pattern")]
    fn http_route_errors(spec: &str, want: &str) {
        assert_error(ROUTE, spec, want);
    }

    #[test]
    fn backend_filters_repeat_the_redirect_or_rewrite_rule() {
        let spec = "{rules: [{backendRefs: [{name: a, port: 80, filters: [{type: RequestRedirect, requestRedirect: {port: 1}}, {type: URLRewrite, urlRewrite: {hostname: a}}]}]}]}";
        let got = problems(&format!("{ROUTE}spec: {spec}\n"));
        let want = r#"error: spec.rules[0].backendRefs[0].filters: Invalid value: "array": May specify either httpRouteFilterRequestRedirect or httpRouteFilterRequestRewrite, but not both"#;
        assert_eq!(got.iter().filter(|e| *e == want).count(), 2, "{got:#?}");
    }

    #[test]
    fn too_many_rules_block_the_cel_rules() {
        let rules = vec!["{name: a}"; 17].join(", ");
        assert_eq!(
            problems(&format!("{ROUTE}spec: {{rules: [{rules}]}}\n")),
            [
                "error: spec.rules: Too many: 17: must have at most 16 items".to_string(),
                format!("error: : {BLOCKED}"),
            ]
        );
    }

    #[test]
    fn several_problems_are_each_located() {
        let text = format!(
            "{ROUTE}spec:
  parentRefs:
  - name: gw
  rules:
  - matches:
    - path:
        type: Exact
        value: productpage
    backendRefs:
    - name: reviews-v1
      port: 9080
      weight: 2000000
    - name: reviews-v2
"
        );
        assert_eq!(
            located(&text),
            [
                "16: error: spec.rules[0].backendRefs[0].weight: Invalid value: 2000000: spec.rules[0].backendRefs[0].weight in body should be less than or equal to 1000000",
                "11: error: spec.rules[0].matches[0].path: Invalid value: \"object\": value must be an absolute path and start with '/' when type one of ['Exact', 'PathPrefix']",
                "17: error: spec.rules[0].backendRefs[1]: Invalid value: \"object\": Must have port for Service reference",
            ]
        );
    }

    #[test]
    fn gateway_durations() {
        assert_eq!(
            GatewayDuration("1h30m".into()).get(),
            Some(SimDuration::from_secs(5400))
        );
        assert_eq!(GatewayDuration("1d".into()).get(), None);
    }
}
