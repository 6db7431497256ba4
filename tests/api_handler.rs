//! The API server's request handling without sockets: requests as kubectl
//! v1.32 sends them (`facts/kubectl-api.md`), answers as a real apiserver
//! gives them — status codes, reasons, messages, content types — and the
//! world moving behind the objects.

use meshsim::api::ApiCluster;
use meshsim::api::handler::{Reply, Request, handle};
use meshsim::k8s::NodeSpec;
use serde_json::{Value, json};

fn cluster() -> ApiCluster {
    let nodes = (0..2)
        .map(|i| NodeSpec {
            name: format!("n{i}"),
            zone: "z".into(),
            region: "r".into(),
        })
        .collect();
    ApiCluster::new("t", nodes, 7, meshsim::sim::time::EPOCH_UNIX_SECS).unwrap()
}

fn request(method: &str, path_and_query: &str, content_type: &str, body: Value) -> Request {
    let (path, query) = path_and_query
        .split_once('?')
        .unwrap_or((path_and_query, ""));
    Request {
        method: method.into(),
        path: path.into(),
        query: query
            .split('&')
            .filter(|kv| !kv.is_empty())
            .map(|kv| {
                let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
                (k.to_string(), v.to_string())
            })
            .collect(),
        accept: "application/json".into(),
        content_type: content_type.into(),
        body: if body.is_null() {
            Vec::new()
        } else {
            body.to_string().into_bytes()
        },
    }
}

/// Sends a request; returns the status and the JSON body.
fn send(c: &mut ApiCluster, req: Request) -> (u16, Value) {
    match handle(c, &req) {
        Reply::Full { status, body, .. } => {
            (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
        }
        Reply::Watch(_) => (200, json!("watch")),
        Reply::Follow(f) => (200, json!(f.first)),
    }
}

fn call(c: &mut ApiCluster, method: &str, path: &str, body: Value) -> (u16, Value) {
    let ct = if body.is_null() {
        ""
    } else {
        "application/json"
    };
    send(c, request(method, path, ct, body))
}

/// A cluster with namespace `shop` and a two-replica Deployment `web` in
/// it.
fn shop_with_web() -> ApiCluster {
    let mut c = cluster();
    call(
        &mut c,
        "POST",
        "/api/v1/namespaces",
        json!({"metadata": {"name": "shop"}}),
    );
    call(
        &mut c,
        "POST",
        "/apis/apps/v1/namespaces/shop/deployments",
        deployment("web", "nginx:1.27"),
    );
    c
}

/// The name of the first object a list returns.
fn first_name(c: &mut ApiCluster, path: &str) -> String {
    let (_, list) = call(c, "GET", path, Value::Null);
    list["items"][0]["metadata"]["name"]
        .as_str()
        .unwrap()
        .to_string()
}

fn deployment(name: &str, image: &str) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
        "spec": {"replicas": 2, "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}},
                "spec": {"containers": [{"name": name, "image": image, "ports": [{"containerPort": 8080}]}]}}}})
}

#[test]
fn objects_are_created_read_and_refused_in_the_apiservers_words() {
    let mut c = cluster();
    let (code, ns) = call(
        &mut c,
        "POST",
        "/api/v1/namespaces",
        json!({"metadata": {"name": "shop"}}),
    );
    assert_eq!(code, 201);
    assert_eq!(
        ns["metadata"]["labels"]["kubernetes.io/metadata.name"],
        "shop"
    );
    assert_eq!(ns["status"]["phase"], "Active");
    let (code, again) = call(
        &mut c,
        "POST",
        "/api/v1/namespaces",
        json!({"metadata": {"name": "shop"}}),
    );
    assert_eq!(
        (code, again["reason"].as_str()),
        (409, Some("AlreadyExists"))
    );
    assert_eq!(again["message"], "namespaces \"shop\" already exists");
    let (code, missing) = call(
        &mut c,
        "POST",
        "/apis/apps/v1/namespaces/nowhere/deployments",
        deployment("web", "nginx:1.27"),
    );
    assert_eq!(
        (code, missing["message"].as_str()),
        (404, Some("namespaces \"nowhere\" not found"))
    );
    let (code, d) = call(
        &mut c,
        "POST",
        "/apis/apps/v1/namespaces/shop/deployments",
        deployment("web", "nginx:1.27"),
    );
    assert_eq!(code, 201);
    assert_eq!(d["metadata"]["generation"], 1);
    assert_eq!(
        d["spec"]["template"]["spec"]["containers"][0]["ports"][0]["protocol"],
        "TCP"
    );
    let (code, nope) = call(
        &mut c,
        "GET",
        "/apis/apps/v1/namespaces/shop/deployments/nope",
        Value::Null,
    );
    assert_eq!(
        (code, nope["message"].as_str()),
        (404, Some("deployments.apps \"nope\" not found"))
    );
    assert_eq!(
        nope["details"],
        json!({"name": "nope", "kind": "deployments"})
    );
    // Its pods exist at once, waiting for their containers.
    let (_, pods) = call(
        &mut c,
        "GET",
        "/api/v1/namespaces/shop/pods?labelSelector=app=web",
        Value::Null,
    );
    let pods = pods["items"].as_array().unwrap();
    assert_eq!(pods.len(), 2);
    assert_eq!(pods[0]["status"]["phase"], "Pending");
    assert_eq!(
        pods[0]["metadata"]["ownerReferences"][0]["kind"],
        "ReplicaSet"
    );
}

#[test]
fn invalid_objects_are_refused_by_the_apiserver_or_istiods_webhook() {
    let mut c = cluster();
    let (code, e) = call(
        &mut c,
        "POST",
        "/api/v1/namespaces/default/services?fieldValidation=Strict",
        json!({"metadata": {"name": "s"}, "spec": {"bogus": 1, "ports": [{"port": 80}]}}),
    );
    assert_eq!(code, 400);
    assert_eq!(
        e["message"],
        "Service in version \"v1\" cannot be handled as a Service: strict decoding error: unknown field \"spec.bogus\""
    );
    let (code, e) = call(
        &mut c,
        "POST",
        "/apis/networking.istio.io/v1/namespaces/default/virtualservices",
        json!({"metadata": {"name": "r"}, "spec": {"hosts": ["r"], "http": [{"route": [{"destination": {"host": "r"}, "weight": -1}]}]}}),
    );
    assert_eq!(code, 400);
    assert!(e["message"].as_str().unwrap().starts_with("admission webhook \"validation.istio.io\" denied the request: configuration is invalid: "), "{e}");
    let (code, e) = call(
        &mut c,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        json!({"metadata": {"name": "d"}, "spec": {"replicas": -1, "selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": [{"name": "c", "image": "i"}]}}}}),
    );
    assert_eq!((code, e["reason"].as_str()), (422, Some("Invalid")));
    assert_eq!(e["details"]["causes"][0]["field"], "spec.replicas");
}

#[test]
fn discovery_and_openapi_are_what_kubectl_reads() {
    let mut c = cluster();
    let mut req = request("GET", "/apis", "", Value::Null);
    req.accept =
        "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"
            .into();
    match handle(&mut c, &req) {
        Reply::Full { content_type, .. } => {
            assert_eq!(
                content_type,
                "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
            );
        }
        Reply::Watch(_) | Reply::Follow(_) => panic!("discovery is not a stream"),
    }
    let (code, v) = call(&mut c, "GET", "/version", Value::Null);
    assert_eq!(
        (code, v["minor"].as_str(), v["gitVersion"].as_str()),
        (200, Some("32"), Some("v1.32.4"))
    );
    let (code, _) = call(&mut c, "GET", "/openapi/v2", Value::Null);
    assert_eq!(code, 404);
    let (code, legacy) = call(&mut c, "GET", "/apis/security.istio.io/v1", Value::Null);
    assert_eq!(code, 200);
    assert!(
        legacy["resources"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["name"] == "authorizationpolicies" && r["shortNames"] == json!(["ap"]))
    );
}

#[test]
fn tables_carry_the_apiservers_columns_and_each_rows_metadata() {
    let mut c = shop_with_web();
    let mut req = request("GET", "/api/v1/pods", "", Value::Null);
    req.accept = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json".into();
    let (_, table) = send(&mut c, req);
    let columns: Vec<&str> = table["columnDefinitions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(
        columns,
        [
            "Name",
            "Ready",
            "Status",
            "Restarts",
            "Age",
            "IP",
            "Node",
            "Nominated Node",
            "Readiness Gates"
        ]
    );
    let row = &table["rows"][0];
    assert_eq!(row["cells"][1], "0/1");
    assert_eq!(row["cells"][2], "ContainerCreating");
    assert_eq!(row["object"]["kind"], "PartialObjectMetadata");
    assert_eq!(row["object"]["metadata"]["namespace"], "shop");
}

#[test]
fn patches_of_each_kind_apply_as_kubectl_sends_them() {
    let mut c = shop_with_web();
    // kubectl label: a merge patch.
    let (code, ns) = send(
        &mut c,
        request(
            "PATCH",
            "/api/v1/namespaces/shop",
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"istio.io/dataplane-mode": "ambient"}}}),
        ),
    );
    assert_eq!(
        (code, &ns["metadata"]["labels"]["istio.io/dataplane-mode"]),
        (200, &json!("ambient"))
    );
    // kubectl set image: a strategic merge patch by container name.
    let smp = json!({"spec": {"template": {"spec": {"$setElementOrder/containers": [{"name": "web"}], "containers": [{"name": "web", "image": "nginx:1.28"}]}}}});
    let (code, d) = send(
        &mut c,
        request(
            "PATCH",
            "/apis/apps/v1/namespaces/shop/deployments/web",
            "application/strategic-merge-patch+json",
            smp,
        ),
    );
    assert_eq!(code, 200);
    let container = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        (&container["image"], &container["ports"][0]["containerPort"]),
        (&json!("nginx:1.28"), &json!(8080))
    );
    assert_eq!(d["metadata"]["generation"], 2);
    // kubectl scale: the Scale subresource.
    let (code, scale) = send(
        &mut c,
        request(
            "PATCH",
            "/apis/apps/v1/namespaces/shop/deployments/web/scale",
            "application/merge-patch+json",
            json!({"spec": {"replicas": 3}}),
        ),
    );
    assert_eq!(
        (code, scale["kind"].as_str(), &scale["spec"]["replicas"]),
        (200, Some("Scale"), &json!(3))
    );
    assert_eq!(scale["apiVersion"], "autoscaling/v1");
    // kubectl patch --type=json, failing: 422.
    let (code, e) = send(
        &mut c,
        request(
            "PATCH",
            "/apis/apps/v1/namespaces/shop/deployments/web",
            "application/json-patch+json",
            json!([{"op": "remove", "path": "/spec/nope"}]),
        ),
    );
    assert_eq!((code, e["reason"].as_str()), (422, Some("Invalid")));
    // A strategic merge patch of a custom resource: 415.
    call(
        &mut c,
        "POST",
        "/apis/networking.istio.io/v1/namespaces/shop/virtualservices",
        json!({"metadata": {"name": "web"}, "spec": {"hosts": ["web"], "http": [{"route": [{"destination": {"host": "web"}}]}]}}),
    );
    let (code, _) = send(
        &mut c,
        request(
            "PATCH",
            "/apis/networking.istio.io/v1/namespaces/shop/virtualservices/web",
            "application/strategic-merge-patch+json",
            json!({"spec": {}}),
        ),
    );
    assert_eq!(code, 415);
    // Server-side apply creates what is missing: 201.
    let (code, cm) = send(
        &mut c,
        request(
            "PATCH",
            "/api/v1/namespaces/shop/configmaps/conf?fieldManager=kubectl",
            "application/apply-patch+yaml",
            json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "conf"}, "data": {"a": "b"}}),
        ),
    );
    assert_eq!((code, &cm["data"]["a"]), (201, &json!("b")));
}

#[test]
fn protobuf_bodies_of_kubectl_create_are_understood() {
    let mut c = cluster();
    // `kubectl create namespace bookinfo`, byte for byte as kubectl 1.32
    // sends it (see src/api/protobuf.rs).
    let mut body = b"k8s\0".to_vec();
    let raw: &[u8] = &[
        0x0a, 0x18, 0x0a, 0x08, b'b', b'o', b'o', b'k', b'i', b'n', b'f', b'o', 0x12, 0, 0x1a, 0,
        0x22, 0, 0x2a, 0, 0x32, 0, 0x38, 0, 0x42, 0, 0x12, 0, 0x1a, 0x02, 0x0a, 0,
    ];
    body.extend_from_slice(&[0x0a, 0x0f, 0x0a, 0x02, b'v', b'1', 0x12, 0x09]);
    body.extend_from_slice(b"Namespace");
    body.push(0x12);
    body.push(raw.len() as u8);
    body.extend_from_slice(raw);
    body.extend_from_slice(&[0x1a, 0, 0x22, 0]);
    let mut req = request(
        "POST",
        "/api/v1/namespaces?fieldManager=kubectl-create&fieldValidation=Strict",
        "application/vnd.kubernetes.protobuf",
        Value::Null,
    );
    req.body = body;
    let (code, ns) = send(&mut c, req);
    assert_eq!((code, &ns["metadata"]["name"]), (201, &json!("bookinfo")));
}

#[test]
fn a_watch_is_handed_to_the_server_and_deleting_a_namespace_empties_it() {
    let mut c = shop_with_web();
    match handle(
        &mut c,
        &request(
            "GET",
            "/api/v1/namespaces/shop/pods?watch=true&resourceVersion=1",
            "",
            Value::Null,
        ),
    ) {
        Reply::Watch(w) => assert_eq!((w.from, w.resource.plural), (1, "pods")),
        Reply::Full { status, .. } => panic!("a watch, not {status}"),
        Reply::Follow(_) => panic!("a watch, not a log"),
    }
    let (code, _) = call(
        &mut c,
        "DELETE",
        "/api/v1/namespaces/shop",
        json!({"propagationPolicy": "Background"}),
    );
    assert_eq!(code, 200);
    let (_, pods) = call(&mut c, "GET", "/api/v1/namespaces/shop/pods", Value::Null);
    assert_eq!(pods["items"], json!([]));
    let (code, _) = call(
        &mut c,
        "GET",
        "/apis/apps/v1/namespaces/shop/deployments/web",
        Value::Null,
    );
    assert_eq!(code, 404);
    assert!(c.world.cluster.live_pods().all(|p| p.namespace != "shop"));
}

#[test]
fn logs_of_a_container_not_started_are_refused_as_the_kubelet_does() {
    let mut c = cluster();
    call(
        &mut c,
        "POST",
        "/apis/apps/v1/namespaces/default/deployments",
        deployment("web", "nginx:1.27"),
    );
    let pod = first_name(&mut c, "/api/v1/namespaces/default/pods");
    let (code, e) = call(
        &mut c,
        "GET",
        &format!("/api/v1/namespaces/default/pods/{pod}/log"),
        Value::Null,
    );
    assert_eq!(code, 400);
    assert_eq!(
        e["message"],
        format!("container \"web\" in pod \"{pod}\" is waiting to start: ContainerCreating")
    );
    let (code, e) = call(
        &mut c,
        "GET",
        &format!("/api/v1/namespaces/default/pods/{pod}/log?container=nope"),
        Value::Null,
    );
    assert_eq!(
        (code, e["message"].as_str()),
        (
            400,
            Some(format!("container nope is not valid for pod {pod}").as_str())
        )
    );
}

#[test]
fn unknown_fields_are_dropped_with_a_warning_unless_strict() {
    let mut c = cluster();
    let body = json!({"metadata": {"name": "s"}, "spec": {"bogus": 1, "ports": [{"port": 80}]}});
    let mut req = request(
        "POST",
        "/api/v1/namespaces/default/services",
        "application/json",
        body,
    );
    match handle(&mut c, &req) {
        Reply::Full {
            status,
            body,
            warnings,
            ..
        } => {
            assert_eq!(status, 201);
            assert_eq!(warnings, ["unknown field \"spec.bogus\""]);
            let svc: Value = serde_json::from_slice(&body).unwrap();
            assert!(svc["spec"].get("bogus").is_none(), "{svc}");
        }
        Reply::Watch(_) | Reply::Follow(_) => panic!("not a stream"),
    }
    req.path = "/api/v1/namespaces/default/services".into();
    req.query = vec![("fieldValidation".into(), "Ignore".into())];
    req.body = json!({"metadata": {"name": "t"}, "spec": {"bogus": 1, "ports": [{"port": 80}]}})
        .to_string()
        .into_bytes();
    match handle(&mut c, &req) {
        Reply::Full {
            status, warnings, ..
        } => assert_eq!((status, warnings.len()), (201, 0)),
        Reply::Watch(_) | Reply::Follow(_) => panic!("not a stream"),
    }
}

#[test]
fn dry_runs_answer_without_changing_anything() {
    let mut c = shop_with_web();
    let rv = c.store.rv();
    let (code, ns) = call(
        &mut c,
        "POST",
        "/api/v1/namespaces?dryRun=All",
        json!({"metadata": {"name": "dry"}}),
    );
    assert_eq!((code, &ns["metadata"]["name"]), (201, &json!("dry")));
    let (code, _) = send(
        &mut c,
        request(
            "PATCH",
            "/apis/apps/v1/namespaces/shop/deployments/web/scale?dryRun=All",
            "application/merge-patch+json",
            json!({"spec": {"replicas": 5}}),
        ),
    );
    assert_eq!(code, 200);
    let (code, _) = call(
        &mut c,
        "DELETE",
        "/apis/apps/v1/namespaces/shop/deployments/web?dryRun=All",
        Value::Null,
    );
    assert_eq!(code, 200);
    assert_eq!(c.store.rv(), rv);
    let (code, _) = call(&mut c, "GET", "/api/v1/namespaces/dry", Value::Null);
    assert_eq!(code, 404);
    assert_eq!(c.world.cluster.live_pods().count(), 2);
}

#[test]
fn labelling_a_pod_changes_its_labels_not_the_pod() {
    let mut c = shop_with_web();
    let name = first_name(&mut c, "/api/v1/namespaces/shop/pods");
    let before = c.world.cluster.live_pods().count();
    let path = format!("/api/v1/namespaces/shop/pods/{name}");
    let (code, pod) = send(
        &mut c,
        request(
            "PATCH",
            &path,
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"team": "a"}, "annotations": {"note": "x"}}}),
        ),
    );
    assert_eq!(
        (code, &pod["metadata"]["labels"]["team"]),
        (200, &json!("a"))
    );
    assert_eq!(c.world.cluster.live_pods().count(), before);
    let (_, again) = call(&mut c, "GET", &path, Value::Null);
    assert_eq!(again["metadata"]["annotations"]["note"], "x");
    // The spec, but for images, may not change.
    let (code, e) = send(
        &mut c,
        request(
            "PATCH",
            &path,
            "application/merge-patch+json",
            json!({"spec": {"hostname": "h"}}),
        ),
    );
    assert_eq!(code, 422);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("pod updates may not change fields"),
        "{e}"
    );
}

#[test]
fn what_controllers_own_and_immortal_namespaces_are_refused() {
    let mut c = shop_with_web();
    let (code, e) = call(&mut c, "DELETE", "/api/v1/namespaces/default", Value::Null);
    assert_eq!(
        (code, e["message"].as_str()),
        (
            403,
            Some("namespaces \"default\" is forbidden: this namespace may not be deleted")
        )
    );
    let rs = first_name(&mut c, "/apis/apps/v1/namespaces/shop/replicasets");
    let (code, _) = call(
        &mut c,
        "DELETE",
        &format!("/apis/apps/v1/namespaces/shop/replicasets/{rs}"),
        Value::Null,
    );
    assert_eq!(code, 405);
    let (code, e) = send(
        &mut c,
        request(
            "PATCH",
            "/apis/apps/v1/namespaces/shop/deployments/web",
            "application/merge-patch+json",
            json!({"spec": {"selector": {"matchLabels": {"app": "other"}}}}),
        ),
    );
    assert_eq!(code, 422);
    assert!(
        e["message"]
            .as_str()
            .unwrap()
            .contains("field is immutable"),
        "{e}"
    );
}

#[test]
fn watches_see_objects_enter_and_leave_their_selection() {
    let mut c = shop_with_web();
    let rv = c.store.rv();
    let watch = match handle(
        &mut c,
        &request(
            "GET",
            &format!(
                "/api/v1/namespaces/shop/pods?watch=true&labelSelector=team=a&resourceVersion={rv}"
            ),
            "",
            Value::Null,
        ),
    ) {
        Reply::Watch(w) => w,
        Reply::Full { status, .. } => panic!("a watch, not {status}"),
        Reply::Follow(_) => panic!("a watch, not a log"),
    };
    let path = format!(
        "/api/v1/namespaces/shop/pods/{}",
        first_name(&mut c, "/api/v1/namespaces/shop/pods")
    );
    send(
        &mut c,
        request(
            "PATCH",
            &path,
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"team": "a"}}}),
        ),
    );
    send(
        &mut c,
        request(
            "PATCH",
            &path,
            "application/merge-patch+json",
            json!({"metadata": {"labels": {"team": null}}}),
        ),
    );
    let types: Vec<String> = c
        .store
        .events_since(watch.from)
        .unwrap()
        .filter_map(|e| watch.line(&c, e))
        .map(|l| {
            serde_json::from_slice::<Value>(&l).unwrap()["type"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    assert_eq!(types, ["ADDED", "DELETED"]);
    // Without a resourceVersion, what exists comes first, as ADDED.
    match handle(
        &mut c,
        &request(
            "GET",
            "/api/v1/namespaces/shop/pods?watch=true",
            "",
            Value::Null,
        ),
    ) {
        Reply::Watch(w) => assert_eq!(w.initial_lines(&c).len(), 2),
        Reply::Full { status, .. } => panic!("a watch, not {status}"),
        Reply::Follow(_) => panic!("a watch, not a log"),
    }
}
