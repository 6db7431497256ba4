//! Every kind meshsim understands, in one table: its API group and served
//! versions, plural and short names (for the API server and istioctl), and
//! how to parse and validate it.

use serde::Deserialize;
use serde::de::DeserializeOwned;

use crate::yaml::{Node, Problem, from_node};

use super::meta::{NameRule, ObjectMeta};
use super::validate::Validator;
use super::{apps_v1, core_v1, gateway_api, networking, security, telemetry};

/// Semantic validation of one kind: the CRD schema rules and the admission
/// (istiod webhook or apiserver) rules, in their own words.
pub trait Validate {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator);
}

/// A kind as it is written in a document.
pub trait Resource: Sized + Validate {
    /// The whole document: `apiVersion`, `kind`, `metadata` and the rest.
    type Doc: DeserializeOwned;
    fn split(doc: Self::Doc) -> (ObjectMeta, Self);
}

/// The document of the common shape `{apiVersion, kind, metadata, spec,
/// status}`. `status` is owned by the server and ignored.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
#[serde(bound = "S: DeserializeOwned + Default")]
pub struct SpecDoc<S> {
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: S,
    #[serde(default)]
    pub status: Option<serde_json::Value>,
}

/// Implements [`Resource`] for kinds whose body is `spec`.
#[macro_export]
macro_rules! spec_resources {
    ($($t:ty),* $(,)?) => {$(
        impl $crate::config::kinds::Resource for $t {
            type Doc = $crate::config::kinds::SpecDoc<$t>;
            fn split(doc: Self::Doc) -> ($crate::config::meta::ObjectMeta, Self) {
                (doc.metadata, doc.spec)
            }
        }
    )*};
}

/// A decoded document: its metadata and typed body, not yet validated.
pub type Decoded = (ObjectMeta, Body);

/// Static facts about a kind.
pub struct KindInfo {
    pub kind: &'static str,
    /// API group; empty for the core group.
    pub group: &'static str,
    /// Served versions, storage version first.
    pub versions: &'static [&'static str],
    pub plural: &'static str,
    pub short_names: &'static [&'static str],
    pub namespaced: bool,
    pub name_rule: NameRule,
    /// Decodes a document of this kind; [`Body::validate`] checks it once
    /// the loader has settled its namespace.
    pub decode: fn(&Node) -> Result<Decoded, Vec<Problem>>,
}

impl KindInfo {
    /// `apiVersion` for the given version: `apps/v1`, or `v1` for core.
    pub fn api_version(&self, version: &str) -> String {
        join_api_version(self.group, version)
    }

    pub fn serves(&self, api_version: &str) -> bool {
        let (group, version) = split_api_version(api_version);
        group == self.group && self.versions.contains(&version)
    }
}

/// (`apps`, `v1`) → `apps/v1`; (``, `v1`) → `v1`.
pub fn join_api_version(group: &str, version: &str) -> String {
    if group.is_empty() {
        version.to_string()
    } else {
        format!("{group}/{version}")
    }
}

/// `apps/v1` → (`apps`, `v1`); `v1` → (``, `v1`).
pub fn split_api_version(api_version: &str) -> (&str, &str) {
    api_version.split_once('/').unwrap_or(("", api_version))
}

/// Decodes a document as `R`.
pub fn decode_as<R: Resource>(node: &Node, wrap: fn(R) -> Body) -> Result<Decoded, Vec<Problem>> {
    let doc: R::Doc = from_node(node)?;
    let (meta, resource) = R::split(doc);
    Ok((meta, wrap(resource)))
}

macro_rules! kinds {
    ($(
        $variant:ident($ty:ty): group $group:literal, versions [$($ver:literal),+],
        plural $plural:literal, short [$($short:literal),*], $scope:ident, $rule:ident;
    )*) => {
        /// The typed body of an object, one variant per kind.
        #[derive(Clone, Debug)]
        pub enum Body {
            $($variant($ty),)*
        }

        impl Body {
            pub fn kind(&self) -> &'static str {
                match self {
                    $(Body::$variant(_) => stringify!($variant),)*
                }
            }

            /// The kind's [`Validate`] rules. `meta.namespace` must already
            /// be what the server would see (see [`super::load`]).
            pub fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
                match self {
                    $(Body::$variant(body) => body.validate(meta, v),)*
                }
            }
        }

        /// The registry of kinds, in a fixed order.
        pub static KINDS: &[KindInfo] = &[$(
            KindInfo {
                kind: stringify!($variant),
                group: $group,
                versions: &[$($ver),+],
                plural: $plural,
                short_names: &[$($short),*],
                namespaced: kinds!(@scope $scope),
                name_rule: NameRule::$rule,
                decode: {
                    fn decode(node: &Node) -> Result<Decoded, Vec<Problem>> {
                        decode_as::<$ty>(node, Body::$variant)
                    }
                    decode
                },
            },
        )*];
    };
    (@scope namespaced) => { true };
    (@scope cluster) => { false };
}

kinds! {
    Namespace(core_v1::Namespace): group "", versions ["v1"], plural "namespaces", short ["ns"], cluster, Dns1123Label;
    Pod(core_v1::PodSpec): group "", versions ["v1"], plural "pods", short ["po"], namespaced, Dns1123Subdomain;
    Service(core_v1::ServiceSpec): group "", versions ["v1"], plural "services", short ["svc"], namespaced, Dns1035Label;
    ServiceAccount(core_v1::ServiceAccount): group "", versions ["v1"], plural "serviceaccounts", short ["sa"], namespaced, Dns1123Subdomain;
    ConfigMap(core_v1::ConfigMap): group "", versions ["v1"], plural "configmaps", short ["cm"], namespaced, Dns1123Subdomain;
    Secret(core_v1::Secret): group "", versions ["v1"], plural "secrets", short [], namespaced, Dns1123Subdomain;
    Deployment(apps_v1::DeploymentSpec): group "apps", versions ["v1"], plural "deployments", short ["deploy"], namespaced, Dns1123Subdomain;
    DaemonSet(apps_v1::DaemonSetSpec): group "apps", versions ["v1"], plural "daemonsets", short ["ds"], namespaced, Dns1123Subdomain;
    VirtualService(networking::VirtualService): group "networking.istio.io", versions ["v1", "v1beta1", "v1alpha3"], plural "virtualservices", short ["vs"], namespaced, Dns1123Subdomain;
    DestinationRule(networking::DestinationRule): group "networking.istio.io", versions ["v1", "v1beta1", "v1alpha3"], plural "destinationrules", short ["dr"], namespaced, Dns1123Subdomain;
    Gateway(networking::Gateway): group "networking.istio.io", versions ["v1", "v1beta1", "v1alpha3"], plural "gateways", short ["gw"], namespaced, Dns1123Subdomain;
    ServiceEntry(networking::ServiceEntry): group "networking.istio.io", versions ["v1", "v1beta1", "v1alpha3"], plural "serviceentries", short ["se"], namespaced, Dns1123Subdomain;
    Sidecar(networking::Sidecar): group "networking.istio.io", versions ["v1", "v1beta1", "v1alpha3"], plural "sidecars", short [], namespaced, Dns1123Subdomain;
    WorkloadEntry(networking::WorkloadEntry): group "networking.istio.io", versions ["v1", "v1beta1", "v1alpha3"], plural "workloadentries", short ["we"], namespaced, Dns1123Subdomain;
    WorkloadGroup(networking::WorkloadGroup): group "networking.istio.io", versions ["v1", "v1beta1", "v1alpha3"], plural "workloadgroups", short ["wg"], namespaced, Dns1123Subdomain;
    EnvoyFilter(networking::EnvoyFilter): group "networking.istio.io", versions ["v1alpha3"], plural "envoyfilters", short [], namespaced, Dns1123Subdomain;
    ProxyConfig(networking::ProxyConfig): group "networking.istio.io", versions ["v1beta1"], plural "proxyconfigs", short [], namespaced, Dns1123Subdomain;
    PeerAuthentication(security::PeerAuthentication): group "security.istio.io", versions ["v1", "v1beta1"], plural "peerauthentications", short ["pa"], namespaced, Dns1123Subdomain;
    AuthorizationPolicy(security::AuthorizationPolicy): group "security.istio.io", versions ["v1", "v1beta1"], plural "authorizationpolicies", short ["ap"], namespaced, Dns1123Subdomain;
    RequestAuthentication(security::RequestAuthentication): group "security.istio.io", versions ["v1", "v1beta1"], plural "requestauthentications", short ["ra"], namespaced, Dns1123Subdomain;
    Telemetry(telemetry::Telemetry): group "telemetry.istio.io", versions ["v1", "v1alpha1"], plural "telemetries", short ["telemetry"], namespaced, Dns1123Subdomain;
    GatewayClass(gateway_api::GatewayClass): group "gateway.networking.k8s.io", versions ["v1", "v1beta1"], plural "gatewayclasses", short ["gc"], cluster, Dns1123Subdomain;
    KubernetesGateway(gateway_api::Gateway): group "gateway.networking.k8s.io", versions ["v1", "v1beta1"], plural "gateways", short ["gtw"], namespaced, Dns1123Subdomain;
    HTTPRoute(gateway_api::HttpRoute): group "gateway.networking.k8s.io", versions ["v1", "v1beta1"], plural "httproutes", short [], namespaced, Dns1123Subdomain;
}

/// Two kinds share the name `Gateway` (Istio's and Gateway API's); the
/// registry keys the Gateway API one by a distinct variant, and this is the
/// name documents use for it.
pub fn written_kind(info: &KindInfo) -> &'static str {
    if info.kind == "KubernetesGateway" {
        "Gateway"
    } else {
        info.kind
    }
}

/// The kind registered for `kind` in `api_version`, if any.
pub fn lookup(api_version: &str, kind: &str) -> Option<&'static KindInfo> {
    KINDS
        .iter()
        .find(|k| written_kind(k) == kind && k.serves(api_version))
}

/// A parsed, validated object and where it came from.
#[derive(Clone, Debug)]
pub struct Object {
    pub info: &'static KindInfo,
    pub api_version: String,
    pub meta: ObjectMeta,
    pub body: Body,
    pub source: Source,
}

impl std::fmt::Debug for KindInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.kind)
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Source {
    pub file: String,
    /// 1-based document number in the file.
    pub document: usize,
    pub line: u32,
}

impl Object {
    pub fn kind(&self) -> &'static str {
        written_kind(self.info)
    }

    pub fn name(&self) -> &str {
        &self.meta.name
    }

    /// The namespace; empty for cluster-scoped kinds.
    pub fn namespace(&self) -> &str {
        self.meta.namespace()
    }

    /// A diagnostic about the whole object, located at its document.
    pub fn diagnostic(
        &self,
        severity: super::diag::Severity,
        message: String,
    ) -> super::diag::Diagnostic {
        super::diag::Diagnostic {
            severity,
            file: self.source.file.clone(),
            loc: crate::yaml::Loc {
                line: self.source.line,
                col: 1,
            },
            document: Some(self.source.document),
            object: Some(self.describe()),
            path: String::new(),
            message,
        }
    }

    /// `Deployment bookinfo/reviews-v1`, for messages.
    pub fn describe(&self) -> String {
        format!("{} {}", self.kind(), self.meta.display_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_is_found_by_each_of_its_versions() {
        for k in KINDS {
            for v in k.versions {
                let found = lookup(&k.api_version(v), written_kind(k)).unwrap();
                assert!(std::ptr::eq(found, k));
            }
        }
    }

    #[test]
    fn the_two_gateways_are_told_apart_by_group() {
        assert_eq!(
            lookup("networking.istio.io/v1beta1", "Gateway")
                .unwrap()
                .kind,
            "Gateway"
        );
        assert_eq!(
            lookup("gateway.networking.k8s.io/v1", "Gateway")
                .unwrap()
                .kind,
            "KubernetesGateway"
        );
        assert!(lookup("v1", "Gateway").is_none());
    }
}
