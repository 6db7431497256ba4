//! networking.istio.io `EnvoyFilter` (raw patches to the generated Envoy
//! configuration) and networking.istio.io/v1beta1 `ProxyConfig` (per-workload
//! proxy settings).
//!
//! meshsim does not model Envoy's configuration objects, so EnvoyFilters are
//! parsed and validated but their patches change nothing; every EnvoyFilter
//! gets a warning saying so. Validation is the CRD schema rules, then
//! istiod's `ValidateEnvoyFilter` (`pkg/config/validation/envoyfilter`) and
//! `ValidateProxyConfig` (`pkg/config/validation/validation.go`), Istio 1.27.
//! istiod also decodes each patch value as the Envoy proto `applyTo` names
//! and rejects unknown types or fields; that check needs Envoy's protos and
//! is not reproduced.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::common::{
    TargetRef, WorkloadMatchSelector, WorkloadSelector, re2_error, validate_istio_metadata,
    validate_match_labels,
};
use super::sidecar::validate_alpha_selector;
use crate::config::kinds::Validate;
use crate::config::meta::ObjectMeta;
use crate::config::validate::Validator;
use crate::spec_resources;

/// The warning meshsim adds to every EnvoyFilter.
pub const NOT_SIMULATED: &str = "EnvoyFilter is accepted but not simulated by meshsim: its patches do not change simulated traffic";

/// istiod's warning on every EnvoyFilter.
const IMPLEMENTATION_DETAILS: &str = "EnvoyFilter exposes internal implementation details that may change at any time. Prefer other APIs if possible, and exercise extreme caution, especially around upgrades.";

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct EnvoyFilter {
    pub workload_selector: Option<WorkloadSelector>,
    pub target_refs: Vec<TargetRef>,
    pub config_patches: Vec<EnvoyConfigObjectPatch>,
    pub priority: i32,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct EnvoyConfigObjectPatch {
    pub apply_to: ApplyTo,
    pub r#match: Option<EnvoyConfigObjectMatch>,
    pub patch: Option<Patch>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum ApplyTo {
    #[default]
    #[serde(rename = "INVALID")]
    Invalid,
    #[serde(rename = "LISTENER")]
    Listener,
    #[serde(rename = "FILTER_CHAIN")]
    FilterChain,
    #[serde(rename = "NETWORK_FILTER")]
    NetworkFilter,
    #[serde(rename = "HTTP_FILTER")]
    HttpFilter,
    #[serde(rename = "ROUTE_CONFIGURATION")]
    RouteConfiguration,
    #[serde(rename = "VIRTUAL_HOST")]
    VirtualHost,
    #[serde(rename = "HTTP_ROUTE")]
    HttpRoute,
    #[serde(rename = "CLUSTER")]
    Cluster,
    #[serde(rename = "EXTENSION_CONFIG")]
    ExtensionConfig,
    #[serde(rename = "BOOTSTRAP")]
    Bootstrap,
    #[serde(rename = "LISTENER_FILTER")]
    ListenerFilter,
}

/// Which object a patch applies to. At most one of `listener`,
/// `routeConfiguration`, `cluster` (a proto oneof).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct EnvoyConfigObjectMatch {
    pub context: PatchContext,
    pub proxy: Option<ProxyMatch>,
    pub listener: Option<ListenerMatch>,
    pub route_configuration: Option<RouteConfigurationMatch>,
    pub cluster: Option<ClusterMatch>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum PatchContext {
    #[default]
    #[serde(rename = "ANY")]
    Any,
    #[serde(rename = "SIDECAR_INBOUND")]
    SidecarInbound,
    #[serde(rename = "SIDECAR_OUTBOUND")]
    SidecarOutbound,
    #[serde(rename = "GATEWAY")]
    Gateway,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ProxyMatch {
    /// A regular expression (RE2) on the proxy's Istio version.
    pub proxy_version: String,
    pub metadata: BTreeMap<String, String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ClusterMatch {
    pub port_number: u32,
    pub service: String,
    pub subset: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RouteConfigurationMatch {
    pub port_number: u32,
    pub port_name: String,
    pub gateway: String,
    pub vhost: Option<VirtualHostMatch>,
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct VirtualHostMatch {
    pub name: String,
    pub domain_name: String,
    pub route: Option<RouteMatch>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct RouteMatch {
    pub name: String,
    pub action: RouteAction,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum RouteAction {
    #[default]
    #[serde(rename = "ANY")]
    Any,
    #[serde(rename = "ROUTE")]
    Route,
    #[serde(rename = "REDIRECT")]
    Redirect,
    #[serde(rename = "DIRECT_RESPONSE")]
    DirectResponse,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ListenerMatch {
    pub port_number: u32,
    pub port_name: String,
    pub filter_chain: Option<FilterChainMatch>,
    pub listener_filter: String,
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct FilterChainMatch {
    pub name: String,
    pub sni: String,
    pub transport_protocol: String,
    pub application_protocols: String,
    pub filter: Option<FilterMatch>,
    pub destination_port: u32,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct FilterMatch {
    pub name: String,
    pub sub_filter: Option<SubFilterMatch>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct SubFilterMatch {
    pub name: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Patch {
    pub operation: Operation,
    /// The Envoy configuration fragment (a `google.protobuf.Struct`).
    pub value: Option<serde_json::Value>,
    pub filter_class: FilterClass,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum Operation {
    #[default]
    #[serde(rename = "INVALID")]
    Invalid,
    #[serde(rename = "MERGE")]
    Merge,
    #[serde(rename = "ADD")]
    Add,
    #[serde(rename = "REMOVE")]
    Remove,
    #[serde(rename = "INSERT_BEFORE")]
    InsertBefore,
    #[serde(rename = "INSERT_AFTER")]
    InsertAfter,
    #[serde(rename = "INSERT_FIRST")]
    InsertFirst,
    #[serde(rename = "REPLACE")]
    Replace,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum FilterClass {
    #[default]
    #[serde(rename = "UNSPECIFIED")]
    Unspecified,
    #[serde(rename = "AUTHN")]
    Authn,
    #[serde(rename = "AUTHZ")]
    Authz,
    #[serde(rename = "STATS")]
    Stats,
}

const HTTP_CONNECTION_MANAGER: &str = "envoy.filters.network.http_connection_manager";

/// `xds.ReverseDeprecatedFilterNames`: old filter name → canonical name.
/// (istiod maps `envoy.ext_authz` to the HTTP or the network filter at
/// random, from a Go map; here a sub-filter gets the HTTP one.)
fn canonical_filter_name(name: &str, http: bool) -> Option<&'static str> {
    Some(match name {
        "envoy.buffer" => "envoy.filters.http.buffer",
        "envoy.cors" => "envoy.filters.http.cors",
        "envoy.csrf" => "envoy.filters.http.csrf",
        "envoy.http_dynamo_filter" => "envoy.filters.http.dynamo",
        "envoy.ext_authz" if http => "envoy.filters.http.ext_authz",
        "envoy.ext_authz" => "envoy.filters.network.ext_authz",
        "envoy.fault" => "envoy.filters.http.fault",
        "envoy.grpc_http1_bridge" => "envoy.filters.http.grpc_http1_bridge",
        "envoy.grpc_json_transcoder" => "envoy.filters.http.grpc_json_transcoder",
        "envoy.grpc_web" => "envoy.filters.http.grpc_web",
        "envoy.gzip" => "envoy.filters.http.gzip",
        "envoy.health_check" => "envoy.filters.http.health_check",
        "envoy.ip_tagging" => "envoy.filters.http.ip_tagging",
        "envoy.lua" => "envoy.filters.http.lua",
        "envoy.rate_limit" => "envoy.filters.http.ratelimit",
        "envoy.router" => "envoy.filters.http.router",
        "envoy.squash" => "envoy.filters.http.squash",
        "envoy.listener.http_inspector" => "envoy.filters.listener.http_inspector",
        "envoy.listener.original_dst" => "envoy.filters.listener.original_dst",
        "envoy.listener.original_src" => "envoy.filters.listener.original_src",
        "envoy.listener.proxy_protocol" => "envoy.filters.listener.proxy_protocol",
        "envoy.listener.tls_inspector" => "envoy.filters.listener.tls_inspector",
        "envoy.client_ssl_auth" => "envoy.filters.network.client_ssl_auth",
        "envoy.http_connection_manager" => HTTP_CONNECTION_MANAGER,
        "envoy.mongo_proxy" => "envoy.filters.network.mongo_proxy",
        "envoy.ratelimit" => "envoy.filters.network.ratelimit",
        "envoy.redis_proxy" => "envoy.filters.network.redis_proxy",
        "envoy.tcp_proxy" => "envoy.filters.network.tcp_proxy",
        _ => return None,
    })
}

/// `validateListenerMatchName`.
fn warn_deprecated_filter_name(name: &str, http: bool, v: &mut Validator) {
    if let Some(canonical) = canonical_filter_name(name, http) {
        v.field("name", |v| {
            v.warn(format!(
                "using deprecated filter name {name:?}; use {canonical:?} instead"
            ))
        });
    }
}

impl EnvoyConfigObjectMatch {
    /// Which of the oneof's object types are set.
    fn object_types(&self) -> [bool; 3] {
        [
            self.listener.is_some(),
            self.route_configuration.is_some(),
            self.cluster.is_some(),
        ]
    }
}

impl EnvoyFilter {
    fn validate_schema(&self, v: &mut Validator) {
        if self.workload_selector.is_some() && !self.target_refs.is_empty() {
            v.cel(
                "object",
                "only one of targetRefs or workloadSelector can be set",
            );
        }
        v.list("targetRefs", &self.target_refs, 16, |v, _, r| {
            r.validate_schema(v)
        });
        v.each("configPatches", &self.config_patches, |v, _, cp| {
            if let Some(m) = &cp.r#match {
                v.field("match", |v| {
                    v.one_of(&m.object_types());
                });
            }
            let value = cp.patch.as_ref().and_then(|p| p.value.as_ref());
            if let Some(kind) = value.and_then(json_type_if_not_object) {
                v.field("patch", |v| {
                    v.field("value", |v| v.wrong_type(kind, "object"))
                });
            }
        });
    }
}

/// The JSON type name the apiserver reports for a value that should have
/// been an object.
fn json_type_if_not_object(value: &serde_json::Value) -> Option<&'static str> {
    use serde_json::Value as J;
    Some(match value {
        J::Object(_) | J::Null => return None,
        J::Bool(_) => "boolean",
        J::Number(n) if n.is_f64() => "number",
        J::Number(_) => "integer",
        J::String(_) => "string",
        J::Array(_) => "array",
    })
}

impl EnvoyConfigObjectPatch {
    /// One iteration of `validateEnvoyFilter`'s loop: it stops at the first
    /// error of a patch.
    fn validate(&self, v: &mut Validator) {
        if self.apply_to == ApplyTo::Invalid {
            v.field("applyTo", |v| v.error("Envoy filter: missing applyTo"));
            return;
        }
        let Some(patch) = &self.patch else {
            v.field("patch", |v| v.error("Envoy filter: missing patch"));
            return;
        };
        if patch.operation == Operation::Invalid {
            v.field("patch", |v| {
                v.field("operation", |v| {
                    v.error("Envoy filter: missing patch operation")
                })
            });
            return;
        }
        if patch.operation != Operation::Remove && patch.value.is_none() {
            v.field("patch", |v| {
                v.error("Envoy filter: missing patch value for non-remove operation")
            });
            return;
        }
        let Some(m) = &self.r#match else { return };
        v.field("match", |v| self.validate_match(m, v));
    }

    fn validate_match(&self, m: &EnvoyConfigObjectMatch, v: &mut Validator) {
        if let Some(proxy) = m.proxy.as_ref().filter(|p| !p.proxy_version.is_empty())
            && let Some(e) = re2_error(&proxy.proxy_version)
        {
            v.field("proxy", |v| {
                v.field("proxyVersion", |v| {
                    v.error(format!(
                        "Envoy filter: invalid regex for proxy version, [{e}]"
                    ))
                })
            });
            return;
        }
        if !m.object_types().contains(&true) {
            return;
        }
        match self.apply_to {
            ApplyTo::Listener | ApplyTo::FilterChain | ApplyTo::NetworkFilter | ApplyTo::HttpFilter => {
                match &m.listener {
                    None => v.error("Envoy filter: applyTo for listener class objects cannot have non listener match"),
                    Some(l) => v.field("listener", |v| self.validate_listener_match(l, v)),
                }
            }
            ApplyTo::RouteConfiguration | ApplyTo::VirtualHost | ApplyTo::HttpRoute
                if m.route_configuration.is_none() =>
            {
                v.error("Envoy filter: applyTo for http route class objects cannot have non route configuration match");
            }
            ApplyTo::Cluster if m.cluster.is_none() => {
                v.error("Envoy filter: applyTo for cluster class objects cannot have non cluster match");
            }
            _ => {}
        }
    }

    fn validate_listener_match(&self, l: &ListenerMatch, v: &mut Validator) {
        let Some(filter) = l.filter_chain.as_ref().and_then(|fc| fc.filter.as_ref()) else {
            return;
        };
        v.field("filterChain", |v| {
            v.field("filter", |v| {
                let applies_to = match self.apply_to {
                    ApplyTo::Listener => Some("LISTENER"),
                    ApplyTo::FilterChain => Some("FILTER_CHAIN"),
                    _ => None,
                };
                if let Some(a) = applies_to {
                    // An error in spirit; a warning for backwards compatibility.
                    v.warn(format!("Envoy filter: filter match has no effect when used with {a}"));
                }
                if filter.name.is_empty() {
                    v.field("name", |v| v.error("Envoy filter: filter match has no name to match on"));
                    return;
                }
                if let Some(sub) = &filter.sub_filter {
                    let problem = if self.apply_to != ApplyTo::HttpFilter {
                        Some("Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only".to_string())
                    } else if filter.name != HTTP_CONNECTION_MANAGER
                        && filter.name != "envoy.http_connection_manager"
                    {
                        Some(format!(
                            "Envoy filter: subfilter match requires filter match with {HTTP_CONNECTION_MANAGER}"
                        ))
                    } else if sub.name.is_empty() {
                        Some("Envoy filter: subfilter match has no name to match on".to_string())
                    } else {
                        None
                    };
                    if let Some(p) = problem {
                        v.field("subFilter", |v| v.error(p));
                        return;
                    }
                }
                warn_deprecated_filter_name(&filter.name, false, v);
                if let Some(sub) = &filter.sub_filter {
                    v.field("subFilter", |v| warn_deprecated_filter_name(&sub.name, true, v));
                }
            })
        });
    }
}

impl Validate for EnvoyFilter {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        validate_istio_metadata(meta, v);
        v.warn(NOT_SIMULATED);
        v.warn(IMPLEMENTATION_DETAILS);
        v.field("spec", |v| {
            self.validate_schema(v);
            if !validate_alpha_selector(self.workload_selector.as_ref(), "Envoy filter", v) {
                return;
            }
            v.each("configPatches", &self.config_patches, |v, _, cp| {
                cp.validate(v)
            });
        });
    }
}

/// Per-workload proxy settings; the most specific one (workload, then
/// namespace, then root namespace) wins.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ProxyConfig {
    pub selector: Option<WorkloadMatchSelector>,
    /// Envoy worker threads; 0 means one per CPU. Unset keeps the mesh
    /// default (2).
    pub concurrency: Option<i32>,
    pub environment_variables: BTreeMap<String, String>,
    pub image: Option<ProxyImage>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ProxyImage {
    /// `default`, `debug` or `distroless`.
    pub image_type: String,
}

impl Validate for ProxyConfig {
    /// The CRD schema, then `ValidateProxyConfig` (whose checks the schema
    /// already makes, except the empty-selector warning).
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        validate_istio_metadata(meta, v);
        v.field("spec", |v| {
            if let Some(c) = self.concurrency {
                v.field("concurrency", |v| v.bounds(i64::from(c), Some(0), None));
            }
            if let Some(selector) = &self.selector {
                v.field("selector", |v| {
                    v.field("matchLabels", |v| {
                        selector.warn_if_empty(v);
                        validate_match_labels(&selector.match_labels, v);
                    })
                });
            }
        });
    }
}

spec_resources!(EnvoyFilter, ProxyConfig);

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::{IMPLEMENTATION_DETAILS, NOT_SIMULATED};
    use crate::config::testing::{clean, located, manifest, problems};

    /// The diagnostics of an EnvoyFilter, without the two warnings every
    /// EnvoyFilter gets.
    fn envoy_filter(spec: &str) -> Vec<String> {
        let always = [
            format!("warning: : {NOT_SIMULATED}"),
            format!("warning: : {IMPLEMENTATION_DETAILS}"),
        ];
        let mut all = problems(&manifest(
            "networking.istio.io/v1alpha3",
            "EnvoyFilter",
            "ef",
            "ns1",
            spec,
        ));
        assert_eq!(all[..2.min(all.len())], always, "{all:?}");
        all.split_off(2)
    }

    fn proxy_config(spec: &str) -> Vec<String> {
        problems(&manifest(
            "networking.istio.io/v1beta1",
            "ProxyConfig",
            "pc",
            "ns1",
            spec,
        ))
    }

    const LUA: &str = "patch: {operation: INSERT_BEFORE, value: {name: envoy.lua}}";

    // CRD schema
    #[test_case("{workloadSelector: {labels: {app: a}}, targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: gw}]}", &["error: spec: Invalid value: \"object\": only one of targetRefs or workloadSelector can be set"]; "selector and target refs")]
    #[test_case("{targetRefs: [{kind: \"1Gateway\", group: Gateway.Networking, namespace: other}]}", &[
        "error: spec.targetRefs[0].group: Invalid value: \"Gateway.Networking\": spec.targetRefs[0].group in body should match '^$|^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$'",
        "error: spec.targetRefs[0].kind: Invalid value: \"1Gateway\": spec.targetRefs[0].kind in body should match '^[a-zA-Z]([-a-zA-Z0-9]*[a-zA-Z0-9])?$'",
        "error: spec.targetRefs[0].name: Required value",
        "error: spec.targetRefs[0].namespace: Invalid value: \"string\": cross namespace referencing is not currently supported",
    ]; "target ref schema")]
    #[test_case("{configPatches: [{applyTo: CLUSTER, match: {cluster: {name: a}, listener: {name: b}}, patch: {operation: MERGE, value: {}}}]}", &["error: spec.configPatches[0].match: must validate one and only one schema (oneOf). Found 2 valid alternatives"]; "two object types")]
    #[test_case("{configPatches: [{applyTo: CLUSTER, patch: {operation: MERGE, value: text}}]}", &["error: spec.configPatches[0].patch.value: Invalid value: \"string\": spec.configPatches[0].patch.value in body must be of type object: \"string\""]; "value not an object")]
    // validateEnvoyFilter
    #[test_case("{workloadSelector: {labels: {\"\": a}}, configPatches: [{}]}", &["error: spec.workloadSelector.labels.: empty key is not supported in selector: \"=a\""]; "selector empty key stops validation")]
    #[test_case(&format!("{{configPatches: [{{{LUA}}}]}}"), &["error: spec.configPatches[0].applyTo: Envoy filter: missing applyTo"]; "missing apply to")]
    #[test_case("{configPatches: [{applyTo: HTTP_FILTER}]}", &["error: spec.configPatches[0].patch: Envoy filter: missing patch"]; "missing patch")]
    #[test_case("{configPatches: [{applyTo: HTTP_FILTER, patch: {value: {}}}]}", &["error: spec.configPatches[0].patch.operation: Envoy filter: missing patch operation"]; "missing operation")]
    #[test_case("{configPatches: [{applyTo: HTTP_FILTER, patch: {operation: ADD}}, {applyTo: CLUSTER, patch: {operation: REMOVE}}]}", &["error: spec.configPatches[0].patch: Envoy filter: missing patch value for non-remove operation"]; "missing value")]
    #[test_case(&format!("{{configPatches: [{{applyTo: HTTP_FILTER, match: {{proxy: {{proxyVersion: \"1.2[\"}}}}, {LUA}}}]}}"), &["error: spec.configPatches[0].match.proxy.proxyVersion: Envoy filter: invalid regex for proxy version, [error parsing regexp: missing closing ]: `[`]"]; "bad proxy version")]
    #[test_case(&format!("{{configPatches: [{{applyTo: HTTP_FILTER, match: {{cluster: {{name: a}}}}, {LUA}}}]}}"), &["error: spec.configPatches[0].match: Envoy filter: applyTo for listener class objects cannot have non listener match"]; "listener class")]
    #[test_case(&format!("{{configPatches: [{{applyTo: HTTP_ROUTE, match: {{cluster: {{name: a}}}}, {LUA}}}]}}"), &["error: spec.configPatches[0].match: Envoy filter: applyTo for http route class objects cannot have non route configuration match"]; "route class")]
    #[test_case(&format!("{{configPatches: [{{applyTo: CLUSTER, match: {{listener: {{name: a}}}}, {LUA}}}]}}"), &["error: spec.configPatches[0].match: Envoy filter: applyTo for cluster class objects cannot have non cluster match"]; "cluster class")]
    #[test_case(&format!("{{configPatches: [{{applyTo: LISTENER, match: {{listener: {{filterChain: {{filter: {{}}}}}}}}, {LUA}}}]}}"), &["warning: spec.configPatches[0].match.listener.filterChain.filter: Envoy filter: filter match has no effect when used with LISTENER", "error: spec.configPatches[0].match.listener.filterChain.filter.name: Envoy filter: filter match has no name to match on"]; "filter match without name")]
    #[test_case(&format!("{{configPatches: [{{applyTo: NETWORK_FILTER, match: {{listener: {{filterChain: {{filter: {{name: x, subFilter: {{name: sub}}}}}}}}}}, {LUA}}}]}}"), &["error: spec.configPatches[0].match.listener.filterChain.filter.subFilter: Envoy filter: subfilter match can be used with applyTo HTTP_FILTER only"]; "sub filter apply to")]
    #[test_case(&format!("{{configPatches: [{{applyTo: HTTP_FILTER, match: {{listener: {{filterChain: {{filter: {{name: x, subFilter: {{name: sub}}}}}}}}}}, {LUA}}}]}}"), &["error: spec.configPatches[0].match.listener.filterChain.filter.subFilter: Envoy filter: subfilter match requires filter match with envoy.filters.network.http_connection_manager"]; "sub filter needs hcm")]
    #[test_case(&format!("{{configPatches: [{{applyTo: HTTP_FILTER, match: {{listener: {{filterChain: {{filter: {{name: envoy.filters.network.http_connection_manager, subFilter: {{}}}}}}}}}}, {LUA}}}]}}"), &["error: spec.configPatches[0].match.listener.filterChain.filter.subFilter: Envoy filter: subfilter match has no name to match on"]; "sub filter without name")]
    #[test_case(&format!("{{configPatches: [{{applyTo: HTTP_FILTER, match: {{listener: {{filterChain: {{filter: {{name: envoy.http_connection_manager, subFilter: {{name: envoy.router}}}}}}}}}}, {LUA}}}]}}"), &[
        "warning: spec.configPatches[0].match.listener.filterChain.filter.name: using deprecated filter name \"envoy.http_connection_manager\"; use \"envoy.filters.network.http_connection_manager\" instead",
        "warning: spec.configPatches[0].match.listener.filterChain.filter.subFilter.name: using deprecated filter name \"envoy.router\"; use \"envoy.filters.http.router\" instead",
    ]; "deprecated filter names")]
    fn envoy_filter_rules(spec: &str, want: &[&str]) {
        assert_eq!(envoy_filter(spec), want);
    }

    // CRD schema, then ValidateProxyConfig
    #[test_case("{concurrency: 0, selector: {matchLabels: {app: a}}, environmentVariables: {A: b}, image: {imageType: distroless}}", &[]; "valid")]
    #[test_case("{concurrency: -1}", &["error: spec.concurrency: Invalid value: -1: spec.concurrency in body should be greater than or equal to 0"]; "negative concurrency")]
    #[test_case("{selector: {}}", &["warning: spec.selector.matchLabels: workload selector specified without labels"]; "empty selector")]
    #[test_case("{selector: {matchLabels: {app: \"*\"}}}", &["error: spec.selector.matchLabels.app: Invalid value: \"string\": wildcard not allowed in label value match"]; "wildcard selector")]
    fn proxy_config_rules(spec: &str, want: &[&str]) {
        assert_eq!(proxy_config(spec), want);
    }

    #[test]
    fn lua_envoy_filter_loads_with_only_its_warnings() {
        // From Istio's EnvoyFilter reference page.
        let text = r#"apiVersion: networking.istio.io/v1alpha3
kind: EnvoyFilter
metadata:
  name: reviews-lua
  namespace: bookinfo
spec:
  workloadSelector:
    labels:
      app: reviews
  configPatches:
    # The first patch adds the lua filter to the listener/http connection manager
  - applyTo: HTTP_FILTER
    match:
      context: SIDECAR_INBOUND
      listener:
        portNumber: 8080
        filterChain:
          filter:
            name: "envoy.filters.network.http_connection_manager"
            subFilter:
              name: "envoy.filters.http.router"
    patch:
      operation: INSERT_BEFORE
      value: # lua filter specification
       name: envoy.lua
       typed_config:
          "@type": "type.googleapis.com/envoy.extensions.filters.http.lua.v3.Lua"
          inlineCode: |
            function envoy_on_request(request_handle)
              request_handle:logInfo("Hello World")
            end
"#;
        let loaded = crate::config::load_str("ef.yaml", text, None);
        let messages: Vec<&str> = loaded
            .diagnostics
            .iter()
            .map(|d| d.message.as_str())
            .collect();
        assert_eq!(messages, [NOT_SIMULATED, IMPLEMENTATION_DETAILS]);
        assert_eq!(loaded.objects.len(), 1);
    }

    #[test]
    fn per_workload_proxy_config_loads_cleanly() {
        // From Istio's ProxyConfig reference page.
        let text = "apiVersion: networking.istio.io/v1beta1\nkind: ProxyConfig\nmetadata:\n  name: per-workload-proxyconfig\n  namespace: example\nspec:\n  selector:\n    matchLabels:\n      app: ratings\n  concurrency: 0\n  image:\n    imageType: debug\n";
        clean(text);
    }

    #[test]
    fn several_problems_are_each_located() {
        let text = "apiVersion: networking.istio.io/v1alpha3\nkind: EnvoyFilter\nmetadata:\n  name: broken\nspec:\n  configPatches:\n  - applyTo: CLUSTER\n    patch:\n      operation: MERGE\n  - applyTo: HTTP_ROUTE\n    match:\n      cluster:\n        service: reviews\n    patch:\n      operation: MERGE\n      value: {}\n";
        assert_eq!(
            located(text),
            [
                format!("1: warning: : {NOT_SIMULATED}"),
                format!("1: warning: : {IMPLEMENTATION_DETAILS}"),
                "9: error: spec.configPatches[0].patch: Envoy filter: missing patch value for non-remove operation".to_string(),
                "12: error: spec.configPatches[1].match: Envoy filter: applyTo for http route class objects cannot have non route configuration match".to_string(),
            ]
        );
    }
}
