//! The API resources the server serves: every kind meshsim parses (from
//! [`crate::config::kinds::KINDS`]) plus the kinds only the cluster's
//! controllers write (Node, ReplicaSet, Endpoints, Event), with what
//! discovery says about them — plural, singular, short names, categories,
//! verbs, subresources — and the stub OpenAPI v3 documents kubectl's
//! client-side validation needs (`facts/kubectl-api.md` §2).

use serde_json::{Value, json};

use crate::config::kinds::{KINDS, KindInfo, written_kind};

/// One served resource type.
#[derive(Clone, Debug)]
pub struct Resource {
    pub group: &'static str,
    /// Served versions, the preferred (storage) one first.
    pub versions: &'static [&'static str],
    pub kind: &'static str,
    pub plural: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Subresources (`status`, `scale`, `log`, `exec`).
    pub subresources: &'static [&'static str],
    /// How meshsim's config layer parses and validates it; `None` for the
    /// kinds only controllers write.
    pub info: Option<&'static KindInfo>,
    /// What clients may do with it.
    pub verbs: &'static [&'static str],
}

/// What controllers alone write, users only read.
const READ_VERBS: &[&str] = &["get", "list", "watch"];
/// Nodes are the kubelet's, but their labels and taints are the user's.
const NODE_VERBS: &[&str] = &["get", "list", "patch", "update", "watch"];

const VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

impl Resource {
    /// `apps/v1`, or `v1` for the core group, at the preferred version.
    pub fn api_version(&self) -> String {
        gv(self.group, self.versions[0])
    }

    /// The lower-case kind, as discovery's `singularResource`.
    pub fn singular(&self) -> String {
        self.kind.to_ascii_lowercase()
    }

    /// `deployments.apps`, or `pods` for the core group: how the apiserver
    /// names the resource in its messages.
    pub fn qualified(&self) -> String {
        qualified(self.group, self.plural)
    }

    /// Whether `version` is one of the served versions.
    pub fn serves_version(&self, version: &str) -> bool {
        self.versions.contains(&version)
    }
}

pub use crate::config::kinds::join_api_version as gv;

/// `deployments.apps`, or `pods` for the core group: how the apiserver
/// names a resource in its messages.
pub fn qualified(group: &str, plural: &str) -> String {
    if group.is_empty() {
        plural.to_string()
    } else {
        format!("{plural}.{group}")
    }
}

/// Categories as the real definitions give them: the built-in `all` and
/// Istio's CRDs' `istio-io` + `<group>-istio-io`.
fn categories(group: &str, kind: &str) -> &'static [&'static str] {
    match group {
        "" if matches!(kind, "Pod" | "Service") => &["all"],
        "apps" => &["all"],
        "networking.istio.io" => &["istio-io", "networking-istio-io"],
        "security.istio.io" => &["istio-io", "security-istio-io"],
        "telemetry.istio.io" => &["istio-io", "telemetry-istio-io"],
        "gateway.networking.k8s.io" => &["gateway-api"],
        _ => &[],
    }
}

fn subresources(group: &str, kind: &str) -> &'static [&'static str] {
    match (group, kind) {
        ("", "Pod") => &["exec", "log", "status"],
        ("apps", "Deployment") | ("apps", "ReplicaSet") => &["scale", "status"],
        ("", "Namespace" | "Service" | "Node") | ("apps", "DaemonSet") => &["status"],
        ("", _) => &[],
        _ => &["status"],
    }
}

/// The kinds the cluster's controllers write; users may read them.
const CONTROLLED: &[(&str, &str, &str, &[&str], bool)] = &[
    ("", "Node", "nodes", &["no"], false),
    ("", "Endpoints", "endpoints", &["ep"], true),
    ("", "Event", "events", &["ev"], true),
    ("apps", "ReplicaSet", "replicasets", &["rs"], true),
];

/// Every served resource, in a fixed order.
pub fn all() -> &'static [Resource] {
    static ALL: std::sync::OnceLock<Vec<Resource>> = std::sync::OnceLock::new();
    ALL.get_or_init(|| {
        let mut out: Vec<Resource> = KINDS
            .iter()
            .map(|k| Resource {
                group: k.group,
                versions: k.versions,
                kind: written_kind(k),
                plural: k.plural,
                namespaced: k.namespaced,
                short_names: k.short_names,
                categories: categories(k.group, written_kind(k)),
                subresources: subresources(k.group, written_kind(k)),
                info: Some(k),
                verbs: VERBS,
            })
            .collect();
        for &(group, kind, plural, short_names, namespaced) in CONTROLLED {
            out.push(Resource {
                group,
                versions: &["v1"],
                kind,
                plural,
                namespaced,
                short_names,
                categories: categories(group, kind),
                subresources: subresources(group, kind),
                info: None,
                verbs: if kind == "Node" {
                    NODE_VERBS
                } else {
                    READ_VERBS
                },
            });
        }
        // metrics-server's readings (`kubectl top`), served by `metrics.rs`.
        for (kind, plural, namespaced) in [
            ("NodeMetrics", "nodes", false),
            ("PodMetrics", "pods", true),
        ] {
            out.push(Resource {
                group: super::metrics::GROUP,
                versions: &["v1beta1"],
                kind,
                plural,
                namespaced,
                short_names: &[],
                categories: &[],
                subresources: &[],
                info: None,
                verbs: &["get", "list"],
            });
        }
        out
    })
}

/// The resource served as `plural` in `group`.
pub fn find(group: &str, plural: &str) -> Option<&'static Resource> {
    all()
        .iter()
        .find(|r| r.group == group && r.plural == plural)
}

/// The resource of `kind` in `group`.
pub fn by_kind(group: &str, kind: &str) -> Option<&'static Resource> {
    all().iter().find(|r| r.group == group && r.kind == kind)
}

/// The groups in discovery order (core first), each with its versions.
fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in all() {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) => {
                for v in r.versions {
                    if !versions.contains(v) {
                        versions.push(v);
                    }
                }
            }
            None => out.push((r.group, r.versions.to_vec())),
        }
    }
    // The aggregator's order: built-in groups by their priority, then the
    // CRDs' groups (all at priority 1000) by APIService name, so
    // `gateway.networking.k8s.io` before `networking.istio.io` — which is
    // how `kubectl get gateway` means Gateway API's — then metrics-server
    // (priority 100).
    out.sort_by_key(|(g, _)| {
        let rank = match *g {
            "" => 0,
            "apps" => 1,
            g if g == super::metrics::GROUP => 3,
            _ => 2,
        };
        (rank, if rank == 2 { *g } else { "" })
    });
    out
}

/// `GET /api` or `/apis` in the aggregated format
/// (`apidiscovery.k8s.io/v2` `APIGroupDiscoveryList`): `core` selects
/// the legacy group alone.
pub fn aggregated_discovery(core: bool) -> Value {
    let items: Vec<Value> = groups()
        .into_iter()
        .filter(|(g, _)| g.is_empty() == core)
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| {
                    let resources: Vec<Value> = all()
                        .iter()
                        .filter(|r| r.group == group && r.serves_version(v))
                        .map(|r| discovery_resource(r, v))
                        .collect();
                    json!({"version": v, "freshness": "Current", "resources": resources})
                })
                .collect();
            json!({"metadata": {"name": group, "creationTimestamp": null}, "versions": versions})
        })
        .collect();
    json!({"kind": "APIGroupDiscoveryList", "apiVersion": "apidiscovery.k8s.io/v2", "metadata": {}, "items": items})
}

fn discovery_resource(r: &Resource, version: &str) -> Value {
    let response_kind = json!({"group": r.group, "version": version, "kind": r.kind});
    let subresources: Vec<Value> = r
        .subresources
        .iter()
        .map(|s| {
            let (kind, verbs): (Value, &[&str]) = match *s {
                "scale" => (
                    json!({"group": "autoscaling", "version": "v1", "kind": "Scale"}),
                    &["get", "patch", "update"],
                ),
                "exec" => (
                    json!({"group": "", "version": "v1", "kind": "PodExecOptions"}),
                    &["create", "get"],
                ),
                "log" => (
                    json!({"group": "", "version": "v1", "kind": "Pod"}),
                    &["get"],
                ),
                _ => (response_kind.clone(), &["get", "patch", "update"]),
            };
            json!({"subresource": s, "responseKind": kind, "verbs": verbs})
        })
        .collect();
    let mut out = json!({
        "resource": r.plural,
        "responseKind": response_kind,
        "scope": if r.namespaced { "Namespaced" } else { "Cluster" },
        "singularResource": r.singular(),
        "verbs": r.verbs,
    });
    if !r.short_names.is_empty() {
        out["shortNames"] = json!(r.short_names);
    }
    if !r.categories.is_empty() {
        out["categories"] = json!(r.categories);
    }
    if !subresources.is_empty() {
        out["subresources"] = json!(subresources);
    }
    out
}

/// `GET /api` in the legacy format.
pub fn legacy_versions(server: &str) -> Value {
    json!({"kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server}]})
}

/// `GET /apis` in the legacy format.
pub fn legacy_groups() -> Value {
    let groups: Vec<Value> = groups()
        .into_iter()
        .filter(|(g, _)| !g.is_empty())
        .map(|(group, versions)| {
            let versions: Vec<Value> = versions
                .iter()
                .map(|v| json!({"groupVersion": gv(group, v), "version": v}))
                .collect();
            json!({"name": group, "versions": versions, "preferredVersion": versions[0]})
        })
        .collect();
    json!({"kind": "APIGroupList", "apiVersion": "v1", "groups": groups})
}

/// `GET /api/v1` or `/apis/g/v` in the legacy format; `None` for a
/// group/version nothing serves.
pub fn legacy_resources(group: &str, version: &str) -> Option<Value> {
    let mut resources = Vec::new();
    for r in all()
        .iter()
        .filter(|r| r.group == group && r.serves_version(version))
    {
        let mut one = json!({"name": r.plural, "singularName": r.singular(),
            "namespaced": r.namespaced, "kind": r.kind, "verbs": r.verbs});
        if !r.short_names.is_empty() {
            one["shortNames"] = json!(r.short_names);
        }
        if !r.categories.is_empty() {
            one["categories"] = json!(r.categories);
        }
        resources.push(one);
        for s in r.subresources {
            resources.push(
                json!({"name": format!("{}/{s}", r.plural), "singularName": "",
                "namespaced": r.namespaced, "kind": r.kind, "verbs": ["get"]}),
            );
        }
    }
    (!resources.is_empty()).then(|| {
        json!({"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": gv(group, version), "resources": resources})
    })
}

/// `api/v1` or `apis/g/v`: the OpenAPI v3 path of a group/version.
fn openapi_path(group: &str, version: &str) -> String {
    if group.is_empty() {
        format!("api/{version}")
    } else {
        format!("apis/{group}/{version}")
    }
}

/// `GET /openapi/v3`: every served group/version, each with a hash of its
/// document (kubectl caches documents by URL, so the hash must change when
/// the document does).
pub fn openapi_index() -> Value {
    let mut paths = serde_json::Map::new();
    for (group, versions) in groups() {
        for v in versions {
            let path = openapi_path(group, v);
            let doc = openapi_document(group, v).unwrap_or(Value::Null);
            let hash = format!(
                "{:08X}",
                crate::k8s::names::fnv32a(doc.to_string().as_bytes())
            );
            paths.insert(
                path.clone(),
                json!({"serverRelativeURL": format!("/openapi/v3/{path}?hash={hash}")}),
            );
        }
    }
    json!({ "paths": paths })
}

/// The stub document of one group/version: a PATCH operation per kind
/// carrying its group-version-kind and the `fieldValidation` parameter,
/// which is all kubectl's validation looks for; the server itself checks
/// the fields (`fieldValidation=Strict`).
pub fn openapi_document(group: &str, version: &str) -> Option<Value> {
    let mut paths = serde_json::Map::new();
    for r in all()
        .iter()
        .filter(|r| r.group == group && r.serves_version(version))
    {
        let prefix = format!("/{}", openapi_path(group, version));
        let path = if r.namespaced {
            format!("{prefix}/namespaces/{{namespace}}/{}/{{name}}", r.plural)
        } else {
            format!("{prefix}/{}/{{name}}", r.plural)
        };
        paths.insert(
            path,
            json!({"patch": {
                "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": r.kind},
                "parameters": [{"name": "fieldValidation", "in": "query", "schema": {"type": "string"}}],
                "responses": {}
            }}),
        );
    }
    (!paths.is_empty()).then(|| {
        json!({"openapi": "3.0.0",
            "info": {"title": "Kubernetes", "version": crate::api::KUBE_VERSION},
            "paths": paths, "components": {"schemas": {}}})
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_kinds_are_found_by_plural_with_their_short_names() {
        let vs = find("networking.istio.io", "virtualservices").unwrap();
        assert_eq!(vs.kind, "VirtualService");
        assert_eq!(vs.short_names, &["vs"]);
        assert_eq!(vs.categories, &["istio-io", "networking-istio-io"]);
        assert_eq!(vs.api_version(), "networking.istio.io/v1");
        let gw = find("gateway.networking.k8s.io", "gateways").unwrap();
        assert_eq!(gw.kind, "Gateway");
        assert_eq!(find("apps", "replicasets").unwrap().short_names, &["rs"]);
    }

    #[test]
    fn aggregated_discovery_splits_core_from_groups() {
        let core = aggregated_discovery(true);
        assert_eq!(core["items"].as_array().unwrap().len(), 1);
        assert_eq!(core["items"][0]["metadata"]["name"], "");
        let pods = core["items"][0]["versions"][0]["resources"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["resource"] == "pods")
            .unwrap();
        assert_eq!(pods["shortNames"], json!(["po"]));
        assert_eq!(pods["responseKind"]["kind"], "Pod");
        let groups = aggregated_discovery(false);
        let names: Vec<&str> = groups["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["metadata"]["name"].as_str().unwrap())
            .collect();
        assert!(names.contains(&"apps") && names.contains(&"security.istio.io"));
        let net = groups["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|g| g["metadata"]["name"] == "networking.istio.io")
            .unwrap();
        // v1 is preferred: it comes first.
        assert_eq!(net["versions"][0]["version"], "v1");
    }

    #[test]
    fn openapi_index_lists_every_applied_group_version() {
        let index = openapi_index();
        for p in [
            "api/v1",
            "apis/apps/v1",
            "apis/networking.istio.io/v1",
            "apis/networking.istio.io/v1beta1",
            "apis/security.istio.io/v1",
        ] {
            let url = index["paths"][p]["serverRelativeURL"].as_str().unwrap();
            assert!(url.starts_with(&format!("/openapi/v3/{p}?hash=")), "{url}");
        }
        let doc = openapi_document("networking.istio.io", "v1").unwrap();
        let vs = &doc["paths"]["/apis/networking.istio.io/v1/namespaces/{namespace}/virtualservices/{name}"];
        assert_eq!(
            vs["patch"]["x-kubernetes-group-version-kind"]["kind"],
            "VirtualService"
        );
        assert!(openapi_document("nope.io", "v1").is_none());
    }
}
