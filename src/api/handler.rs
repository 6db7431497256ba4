//! The apiserver's request handling, sans-IO: a parsed HTTP request in,
//! a reply out. The HTTP server (`server.rs`) owns sockets and streams;
//! everything kubectl's requests mean is decided here, which is what the
//! unit tests drive.

use std::sync::Arc;

use serde_json::{Value, json};

use super::cluster::{ApiCluster, FieldValidation, KUBE_VERSION};
use super::patch;
use super::resources::{self, Resource, gv};
use super::selectors::{FieldSelector, LabelSelector};
use super::status::ApiError;
use super::store::{Change, Event, Key, string_map};
use super::table;

/// An HTTP request, as far as the API cares.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub method: String,
    /// The path, percent-decoded.
    pub path: String,
    /// Query parameters, percent-decoded, in order.
    pub query: Vec<(String, String)>,
    pub accept: String,
    pub content_type: String,
    pub body: Vec<u8>,
}

impl Request {
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    fn wants_table(&self) -> bool {
        self.accept.contains("as=Table")
    }
}

/// What to send back.
#[derive(Debug)]
pub enum Reply {
    Full {
        status: u16,
        content_type: &'static str,
        body: Vec<u8>,
        /// `Warning: 299 - "…"` headers.
        warnings: Vec<String>,
    },
    /// A stream of watch events, which the server drives.
    Watch(Watch),
    /// `kubectl logs -f`: what the container printed, then what it prints
    /// next, which the server streams.
    Follow(Follow),
}

/// A followed container log: where it is, and how far it was sent.
#[derive(Debug)]
pub struct Follow {
    pub namespace: String,
    pub pod: String,
    pub container: String,
    pub timestamps: bool,
    /// The output so far, sent first.
    pub first: String,
    /// Lines written when `first` was cut.
    pub seen: u64,
}

impl Reply {
    pub(super) fn json(status: u16, v: &Value) -> Self {
        Reply::Full {
            status,
            content_type: "application/json",
            body: v.to_string().into_bytes(),
            warnings: Vec::new(),
        }
    }

    fn text(body: String) -> Self {
        Reply::Full {
            status: 200,
            content_type: "text/plain",
            body: body.into_bytes(),
            warnings: Vec::new(),
        }
    }

    fn error(e: &ApiError) -> Self {
        Reply::json(e.code, &e.to_status())
    }

    fn with_warnings(mut self, more: Vec<String>) -> Self {
        if let Reply::Full { warnings, .. } = &mut self {
            warnings.extend(more);
        }
        self
    }
}

/// A watch: which changes, from where, in which form.
#[derive(Debug)]
pub struct Watch {
    pub resource: &'static Resource,
    pub version: String,
    pub namespace: Option<String>,
    pub labels: LabelSelector,
    pub fields: FieldSelector,
    /// Changes after this resourceVersion are sent.
    pub from: u64,
    /// Each event's object as a one-row Table (`kubectl get -w`).
    pub table: bool,
    /// `timeoutSeconds`: the server ends the stream after this long.
    pub timeout_seconds: Option<u64>,
    /// The objects to send first as ADDED (a watch without a
    /// resourceVersion starts from the current state).
    pub initial: Vec<Arc<Value>>,
}

impl Watch {
    /// Whether a change concerns this watch.
    pub fn wants(&self, e: &Event) -> bool {
        self.seen_as(e).is_some()
    }

    fn selects(&self, obj: &Value) -> bool {
        self.labels.matches(&string_map(&obj["metadata"]["labels"])) && self.fields.matches(obj)
    }

    /// What a change is to this watch: an object that starts to match its
    /// selectors is ADDED, one that stops matching is DELETED, as the
    /// apiserver's watch cache reports them.
    fn seen_as(&self, e: &Event) -> Option<Change> {
        let here = e.key.group == self.resource.group
            && e.key.plural == self.resource.plural
            && self
                .namespace
                .as_deref()
                .is_none_or(|ns| e.key.namespace == ns);
        if !here {
            return None;
        }
        let now = self.selects(&e.object);
        match (e.change, e.previous.as_deref().map(|p| self.selects(p))) {
            (Change::Modified, Some(true)) if !now => Some(Change::Deleted),
            (Change::Modified, Some(false)) if now => Some(Change::Added),
            (change, _) if now => Some(change),
            _ => None,
        }
    }

    /// One change as the line the stream sends.
    pub fn line(&self, cluster: &ApiCluster, e: &Event) -> Option<Vec<u8>> {
        let change = self.seen_as(e)?;
        // An object leaving the selection is reported as it was.
        let object = match (change, e.change, &e.previous) {
            (Change::Deleted, Change::Modified, Some(previous)) => previous,
            _ => &e.object,
        };
        Some(self.object_line(cluster, change, object, e.rv))
    }

    /// The lines of the objects that exist when a watch starts without a
    /// resourceVersion: the apiserver sends each as ADDED.
    pub fn initial_lines(&self, cluster: &ApiCluster) -> Vec<Vec<u8>> {
        self.initial
            .iter()
            .map(|o| self.object_line(cluster, Change::Added, o, cluster.store.rv()))
            .collect()
    }

    fn object_line(
        &self,
        cluster: &ApiCluster,
        change: Change,
        object: &Value,
        rv: u64,
    ) -> Vec<u8> {
        let object = at_version(object, self.resource, &self.version);
        let object = if self.table {
            table::render(
                self.resource.group,
                self.resource.kind,
                &[&object],
                cluster.now_unix(),
                &rv.to_string(),
            )
        } else {
            object
        };
        let mut line = json!({"type": change.as_str(), "object": object}).to_string();
        line.push('\n');
        line.into_bytes()
    }
}

/// Handles one request.
pub fn handle(cluster: &mut ApiCluster, req: &Request) -> Reply {
    cluster.dry_run = req.param("dryRun") == Some("All");
    // Without the parameter the apiserver warns (kubectl sends Strict).
    cluster.field_validation = match req.param("fieldValidation") {
        Some("Ignore") => FieldValidation::Ignore,
        Some("Strict") => FieldValidation::Strict,
        _ => FieldValidation::Warn,
    };
    let reply = match route(cluster, req) {
        Ok(reply) => reply,
        Err(e) => Reply::error(&e),
    };
    cluster.dry_run = false;
    cluster.field_validation = FieldValidation::Strict;
    if req.method != "GET" && cluster.step_clock {
        // On the step clock the next command comes at once: the write
        // takes the time istiod needs to push it, so the proxies have it.
        cluster.settle_push();
    }
    reply
}

fn route(cluster: &mut ApiCluster, req: &Request) -> Result<Reply, ApiError> {
    let path = req.path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let aggregated = req.accept.contains("as=APIGroupDiscoveryList");
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["version"]) => Ok(Reply::json(200, &version())),
        ("GET", ["healthz" | "readyz" | "livez"]) => Ok(Reply::text("ok".into())),
        ("GET", ["api"]) if aggregated => Ok(discovery(resources::aggregated_discovery(true))),
        ("GET", ["apis"]) if aggregated => Ok(discovery(resources::aggregated_discovery(false))),
        ("GET", ["api"]) => Ok(Reply::json(200, &resources::legacy_versions("127.0.0.1"))),
        ("GET", ["apis"]) => Ok(Reply::json(200, &resources::legacy_groups())),
        ("GET", ["api", v]) => legacy_resources("", v, path),
        ("GET", ["apis", g, v]) => legacy_resources(g, v, path),
        ("GET", ["openapi", "v3"]) => Ok(Reply::json(200, &resources::openapi_index())),
        ("GET", ["openapi", "v3", "api", v]) => openapi("", v, path),
        ("GET", ["openapi", "v3", "apis", g, v]) => openapi(g, v, path),
        ("GET", ["apis", super::metrics::GROUP, "v1beta1", rest @ ..]) => {
            super::metrics::request(cluster, req, rest)
        }
        (_, ["apis", super::metrics::GROUP, ..]) => Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({} {path})",
            req.method
        ))),
        (_, ["api", v, rest @ ..]) => resource_request(cluster, req, "", v, rest),
        (_, ["apis", g, v, rest @ ..]) => resource_request(cluster, req, g, v, rest),
        _ => Err(ApiError::no_route(path)),
    }
}

/// `/version`: kubectl's dispatcher asks it, with a 5 s timeout, before
/// every command, so the server answers it without waiting for the world.
pub fn version() -> Value {
    let minor = KUBE_VERSION.split('.').nth(1).unwrap_or("32");
    json!({"major": "1", "minor": minor, "emulationMajor": "1", "emulationMinor": minor,
        "minCompatibilityMajor": "1", "minCompatibilityMinor": "31",
        "gitVersion": KUBE_VERSION, "gitCommit": "meshsim", "gitTreeState": "clean",
        "buildDate": "2026-01-01T00:00:00Z", "goVersion": "go1.23.6", "compiler": "gc",
        "platform": "linux/amd64"})
}

/// Aggregated discovery: kubectl recognises the format by this
/// Content-Type.
fn discovery(v: Value) -> Reply {
    Reply::Full {
        status: 200,
        content_type: "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList",
        body: v.to_string().into_bytes(),
        warnings: Vec::new(),
    }
}

fn legacy_resources(group: &str, version: &str, path: &str) -> Result<Reply, ApiError> {
    resources::legacy_resources(group, version)
        .map(|v| Reply::json(200, &v))
        .ok_or_else(|| ApiError::no_route(path))
}

fn openapi(group: &str, version: &str, path: &str) -> Result<Reply, ApiError> {
    resources::openapi_document(group, version)
        .map(|v| Reply::json(200, &v))
        .ok_or_else(|| ApiError::no_route(path))
}

/// A request under `/api/v1` or `/apis/g/v`: which resource, namespace,
/// object and subresource it names.
struct Target {
    resource: &'static Resource,
    version: String,
    namespace: Option<String>,
    name: Option<String>,
    sub: Option<String>,
}

fn parse_target(group: &str, version: &str, rest: &[&str], path: &str) -> Result<Target, ApiError> {
    let served =
        |plural: &str| resources::find(group, plural).filter(|r| r.serves_version(version));
    let (namespace, rest) = match rest {
        ["namespaces", ns, plural, more @ ..] if served(plural).is_some_and(|r| r.namespaced) => {
            (Some(ns.to_string()), [&[*plural][..], more].concat())
        }
        _ => (None, rest.to_vec()),
    };
    let (plural, name, sub) = match rest.as_slice() {
        [plural] => (*plural, None, None),
        [plural, name] => (*plural, Some(name.to_string()), None),
        [plural, name, sub] => (*plural, Some(name.to_string()), Some(sub.to_string())),
        _ => return Err(ApiError::no_route(path)),
    };
    let resource = served(plural).ok_or_else(|| ApiError::no_route(path))?;
    if let Some(s) = &sub
        && !resource.subresources.contains(&s.as_str())
    {
        return Err(ApiError::no_route(path));
    }
    if resource.namespaced && namespace.is_none() && name.is_some() {
        return Err(ApiError::no_route(path));
    }
    Ok(Target {
        resource,
        version: version.to_string(),
        namespace,
        name,
        sub,
    })
}

fn resource_request(
    cluster: &mut ApiCluster,
    req: &Request,
    group: &str,
    version: &str,
    rest: &[&str],
) -> Result<Reply, ApiError> {
    let t = parse_target(group, version, rest, &req.path)?;
    let ns = t.namespace.clone().unwrap_or_default();
    let verb = match (req.method.as_str(), &t.name) {
        ("POST", _) => "create",
        ("PUT", _) => "update",
        ("PATCH", _) => "patch",
        ("DELETE", _) => "delete",
        _ => "get",
    };
    // Subresources keep their own rules (a Deployment's scale is the
    // user's); a resource only controllers write is read-only.
    if verb != "get" && t.sub.is_none() && !t.resource.verbs.contains(&verb) {
        return Err(ApiError::method_not_allowed(format!(
            "{} are written by meshsim's controllers and cannot be {verb}d; change what owns them",
            t.resource.qualified()
        )));
    }
    let watching = matches!(req.param("watch"), Some("true" | "1"));
    match (req.method.as_str(), &t.name, t.sub.as_deref()) {
        ("GET", None, _) if watching => watch(cluster, req, &t),
        ("GET", None, _) => list(cluster, req, &t),
        ("POST", None, _) => {
            let obj = decode_body(req)?;
            let w = cluster.create(t.resource, &ns, obj)?;
            Ok(
                Reply::json(201, &at_version(&w.object, t.resource, &t.version))
                    .with_warnings(w.warnings),
            )
        }
        ("DELETE", None, _) => delete_collection(cluster, req, &t),
        ("GET", Some(name), None | Some("status")) => {
            let obj = get(cluster, &t, name)?;
            if req.wants_table() {
                let table = table::render(
                    t.resource.group,
                    t.resource.kind,
                    &[&obj],
                    cluster.now_unix(),
                    &cluster.store.rv().to_string(),
                );
                return Ok(Reply::json(200, &table));
            }
            Ok(Reply::json(200, &obj))
        }
        ("GET", Some(name), Some("scale")) => {
            Ok(Reply::json(200, &scale_of(&get(cluster, &t, name)?)))
        }
        ("GET", Some(name), Some("log")) => pod_log(cluster, &get(cluster, &t, name)?, req),
        (_, Some(_), Some("exec")) => Err(ApiError::bad_request(
            "pods/exec is a WebSocket upgrade (v5.channel.k8s.io), which the server answers itself",
        )),
        ("PUT", Some(name), sub) => {
            let mut obj = decode_body(req)?;
            if sub == Some("scale") {
                let replicas = obj["spec"]["replicas"].clone();
                obj = Value::clone(&get(cluster, &t, name)?);
                obj["spec"]["replicas"] = replicas;
            }
            let w = write(cluster, &t, name, obj, sub)?;
            Ok(Reply::json(200, &present(&w.object, &t, sub)).with_warnings(w.warnings))
        }
        ("PATCH", Some(name), sub) => patch_request(cluster, req, &t, name, sub),
        ("DELETE", Some(name), None) => {
            let old = cluster.delete(t.resource, &ns, name)?;
            Ok(Reply::json(200, &at_version(&old, t.resource, &t.version)))
        }
        (method, _, _) => Err(ApiError::method_not_allowed(format!(
            "the server does not allow this method on the requested resource ({method} {})",
            req.path
        ))),
    }
}

/// `GET pods/NAME/log`: the kubelet's refusals for a container that is
/// not there or not started, else its output ([`crate::world::logs`]),
/// cut as `tailLines`, `sinceSeconds`/`sinceTime` and `limitBytes` ask,
/// with `timestamps`; `follow` streams what it prints next.
fn pod_log(cluster: &ApiCluster, pod: &Value, req: &Request) -> Result<Reply, ApiError> {
    let container = req.param("container");
    let pod_name = pod["metadata"]["name"].as_str().unwrap_or("");
    let containers: Vec<&str> = ["containers", "initContainers"]
        .iter()
        .flat_map(|list| pod["spec"][list].as_array().into_iter().flatten())
        .filter_map(|c| c["name"].as_str())
        .collect();
    let name = match container {
        Some(c) => c,
        None => containers.first().copied().unwrap_or(""),
    };
    if !containers.contains(&name) {
        return Err(ApiError::bad_request(format!(
            "container {name} is not valid for pod {pod_name}"
        )));
    }
    let status = ["containerStatuses", "initContainerStatuses"]
        .iter()
        .flat_map(|list| pod["status"][list].as_array().into_iter().flatten())
        .find(|s| s["name"] == name);
    if let Some(reason) = status.and_then(|s| s["state"]["waiting"]["reason"].as_str()) {
        return Err(ApiError::bad_request(format!(
            "container {name:?} in pod {pod_name:?} is waiting to start: {reason}"
        )));
    }
    if req.param("previous") == Some("true") {
        return Err(ApiError::bad_request(format!(
            "previous terminated container {name:?} in pod {pod_name:?} not found"
        )));
    }
    let number = |key: &str| -> Result<Option<u64>, ApiError> {
        req.param(key)
            .map(|v| {
                v.parse::<u64>().map_err(|_| {
                    ApiError::bad_request(format!(
                        "{key}: invalid value {v:?}: must be a non-negative integer"
                    ))
                })
            })
            .transpose()
    };
    let since = match (number("sinceSeconds")?, req.param("sinceTime")) {
        (Some(s), _) => Some(cluster.now_unix().saturating_sub(s)),
        (None, Some(t)) => Some(
            super::table::parse_rfc3339(t)
                .and_then(|v| u64::try_from(v).ok())
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "sinceTime: invalid value {t:?}: must be RFC 3339"
                    ))
                })?,
        ),
        (None, None) => None,
    };
    let options = super::cluster::LogOptions {
        tail: number("tailLines")?,
        since_unix: since,
        limit_bytes: number("limitBytes")?,
        timestamps: req.param("timestamps") == Some("true"),
    };
    let ns = pod["metadata"]["namespace"].as_str().unwrap_or("");
    let (text, seen) = cluster.container_log(ns, pod_name, name, &options);
    if req.param("follow") == Some("true") {
        return Ok(Reply::Follow(Follow {
            namespace: ns.to_string(),
            pod: pod_name.to_string(),
            container: name.to_string(),
            timestamps: options.timestamps,
            first: text,
            seen,
        }));
    }
    Ok(Reply::text(text))
}

/// The object as the subresource presents it.
fn present(obj: &Value, t: &Target, sub: Option<&str>) -> Value {
    match sub {
        Some("scale") => scale_of(obj),
        _ => at_version(obj, t.resource, &t.version),
    }
}

/// Writes the object whole, or only its status, or its replica count.
fn write(
    cluster: &mut ApiCluster,
    t: &Target,
    name: &str,
    obj: Value,
    sub: Option<&str>,
) -> Result<super::cluster::Written, ApiError> {
    let ns = t.namespace.clone().unwrap_or_default();
    match sub {
        Some("status") if cluster.dry_run => Ok(super::cluster::Written {
            object: std::sync::Arc::new(get(cluster, t, name)?),
            warnings: Vec::new(),
        }),
        Some("status") => {
            // Only the status changes; the controllers may overwrite it.
            let mut live = Value::clone(&get(cluster, t, name)?);
            live["status"] = obj["status"].clone();
            let key = Key::new(t.resource, &ns, name);
            let object = cluster.store.update(&key, live)?;
            Ok(super::cluster::Written {
                object,
                warnings: Vec::new(),
            })
        }
        _ => cluster.update(t.resource, &ns, name, obj),
    }
}

fn patch_request(
    cluster: &mut ApiCluster,
    req: &Request,
    t: &Target,
    name: &str,
    sub: Option<&str>,
) -> Result<Reply, ApiError> {
    let ns = t.namespace.clone().unwrap_or_default();
    let body: Value = serde_json::from_slice(&req.body)
        .map_err(|e| ApiError::bad_request(format!("error decoding patch: {e}")))?;
    let content_type = req.content_type.split(';').next().unwrap_or("").trim();
    let live = cluster.store.get(&Key::new(t.resource, &ns, name)).cloned();
    let Some(live) = live else {
        if content_type == "application/apply-patch+yaml" && sub.is_none() {
            let mut obj = body;
            super::store::metadata(&mut obj).insert("name".into(), json!(name));
            let w = cluster.create(t.resource, &ns, obj)?;
            return Ok(
                Reply::json(201, &at_version(&w.object, t.resource, &t.version))
                    .with_warnings(w.warnings),
            );
        }
        return Err(ApiError::not_found(&t.resource.qualified(), name));
    };
    // The document the patch applies to: the object, or its Scale.
    let mut target = match sub {
        Some("scale") => scale_of(&live),
        _ => at_version(&live, t.resource, &t.version),
    };
    // Built-in kinds (core, apps) take strategic merge patches; custom
    // resources (Istio's, Gateway API's) do not.
    let builtin = t.resource.group.is_empty() || t.resource.group == "apps";
    match content_type {
        "application/merge-patch+json" => patch::merge_patch(&mut target, &body),
        "application/json-patch+json" => {
            patch::json_patch(&mut target, &body).map_err(|e| ApiError::patch_failed(&e))?;
        }
        "application/strategic-merge-patch+json" if builtin => {
            let kind = if sub == Some("scale") {
                "Scale"
            } else {
                t.resource.kind
            };
            patch::strategic_merge_patch(&mut target, &body, kind)
                .map_err(|e| ApiError::patch_failed(&e))?;
        }
        "application/strategic-merge-patch+json" => {
            return Err(ApiError::strategic_patch_of_custom_resource(content_type));
        }
        "application/apply-patch+yaml" => patch::apply_merge(&mut target, &body, t.resource.kind),
        other => return Err(ApiError::unsupported_media_type(other)),
    }
    let obj = match sub {
        Some("scale") => {
            let mut obj = Value::clone(&live);
            obj["spec"]["replicas"] = target["spec"]["replicas"].clone();
            obj
        }
        _ => target,
    };
    let w = write(cluster, t, name, obj, sub)?;
    Ok(Reply::json(200, &present(&w.object, t, sub)).with_warnings(w.warnings))
}

fn get(cluster: &ApiCluster, t: &Target, name: &str) -> Result<Value, ApiError> {
    let ns = t.namespace.clone().unwrap_or_default();
    cluster
        .store
        .get(&Key::new(t.resource, &ns, name))
        .map(|o| at_version(o, t.resource, &t.version))
        .ok_or_else(|| ApiError::not_found(&t.resource.qualified(), name))
}

/// The selectors of a list or watch.
pub(super) fn selectors(req: &Request) -> Result<(LabelSelector, FieldSelector), ApiError> {
    let labels = LabelSelector::parse(req.param("labelSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let fields = FieldSelector::parse(req.param("fieldSelector").unwrap_or(""))
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    Ok((labels, fields))
}

fn selected<'a>(
    cluster: &'a ApiCluster,
    t: &'a Target,
    labels: &'a LabelSelector,
    fields: &'a FieldSelector,
) -> impl Iterator<Item = &'a Arc<Value>> + 'a {
    cluster
        .store
        .list(t.resource, t.namespace.as_deref())
        .map(|(_, o)| o)
        .filter(move |o| labels.matches(&string_map(&o["metadata"]["labels"])) && fields.matches(o))
}

fn list(cluster: &mut ApiCluster, req: &Request, t: &Target) -> Result<Reply, ApiError> {
    let (labels, fields) = selectors(req)?;
    let rv = cluster.store.rv().to_string();
    let items: Vec<Value> = selected(cluster, t, &labels, &fields)
        .map(|o| at_version(o, t.resource, &t.version))
        .collect();
    if req.wants_table() {
        let refs: Vec<&Value> = items.iter().collect();
        return Ok(Reply::json(
            200,
            &table::render(
                t.resource.group,
                t.resource.kind,
                &refs,
                cluster.now_unix(),
                &rv,
            ),
        ));
    }
    Ok(Reply::json(
        200,
        &json!({"kind": format!("{}List", t.resource.kind), "apiVersion": gv(t.resource.group, &t.version),
            "metadata": {"resourceVersion": rv}, "items": items}),
    ))
}

fn watch(cluster: &ApiCluster, req: &Request, t: &Target) -> Result<Reply, ApiError> {
    let (labels, fields) = selectors(req)?;
    // No resourceVersion, or "0": the current state first, then changes.
    // A version the log no longer holds is reported in the stream, as an
    // ERROR event (410 Expired), as the apiserver's watch cache does.
    let (from, initial) = match req.param("resourceVersion") {
        None | Some("" | "0") => {
            let initial = selected(cluster, t, &labels, &fields).cloned().collect();
            (cluster.store.rv(), initial)
        }
        Some(rv) => (
            rv.parse()
                .map_err(|_| ApiError::bad_request(format!("invalid resource version {rv:?}")))?,
            Vec::new(),
        ),
    };
    Ok(Reply::Watch(Watch {
        resource: t.resource,
        version: t.version.clone(),
        namespace: t.namespace.clone(),
        labels,
        fields,
        from,
        table: req.wants_table(),
        timeout_seconds: req.param("timeoutSeconds").and_then(|s| s.parse().ok()),
        initial,
    }))
}

fn delete_collection(
    cluster: &mut ApiCluster,
    req: &Request,
    t: &Target,
) -> Result<Reply, ApiError> {
    let (labels, fields) = selectors(req)?;
    let doomed: Vec<String> = selected(cluster, t, &labels, &fields)
        .filter_map(|o| o["metadata"]["name"].as_str().map(str::to_string))
        .collect();
    let ns = t.namespace.clone().unwrap_or_default();
    let mut items = Vec::new();
    for name in doomed {
        if let Ok(old) = cluster.delete(t.resource, &ns, &name) {
            items.push(at_version(&old, t.resource, &t.version));
        }
    }
    Ok(Reply::json(
        200,
        &json!({"kind": format!("{}List", t.resource.kind), "apiVersion": gv(t.resource.group, &t.version),
            "metadata": {"resourceVersion": cluster.store.rv().to_string()}, "items": items}),
    ))
}

/// A request body as JSON: JSON itself, or the protobuf `kubectl create
/// <generator>` sends.
fn decode_body(req: &Request) -> Result<Value, ApiError> {
    let content_type = req.content_type.split(';').next().unwrap_or("").trim();
    match content_type {
        "application/vnd.kubernetes.protobuf" => {
            super::protobuf::decode(&req.body).map_err(|e| ApiError::bad_request(e.to_string()))
        }
        "application/json" | "" => serde_json::from_slice(&req.body)
            .map_err(|e| ApiError::bad_request(format!("error decoding the request body: {e}"))),
        other => Err(ApiError::unsupported_media_type(other)),
    }
}

/// The object with `apiVersion` at the version the request named.
fn at_version(obj: &Value, r: &Resource, version: &str) -> Value {
    let mut obj = obj.clone();
    obj["apiVersion"] = json!(gv(r.group, version));
    obj
}

/// The autoscaling/v1 Scale of a Deployment or ReplicaSet.
fn scale_of(obj: &Value) -> Value {
    let selector = obj["spec"]["selector"]["matchLabels"]
        .as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or("")))
                .collect::<Vec<_>>()
                .join(",")
        })
        .unwrap_or_default();
    let meta = &obj["metadata"];
    json!({"kind": "Scale", "apiVersion": "autoscaling/v1",
        "metadata": {"name": meta["name"], "namespace": meta["namespace"], "uid": meta["uid"],
            "resourceVersion": meta["resourceVersion"], "creationTimestamp": meta["creationTimestamp"]},
        "spec": {"replicas": obj["spec"]["replicas"]},
        "status": {"replicas": obj["status"]["replicas"].as_u64().unwrap_or(0), "selector": selector}})
}
