//! Canary control-plane upgrades (Istio's "Canary upgrades" page):
//! `istioctl install --revision canary` runs `istiod-canary` beside
//! `istiod`; a namespace labelled `istio.io/rev=canary` (without
//! `istio-injection`, which would win) gets canary's sidecars at its pods'
//! next creation, and their proxies connect to `istiod-canary`.

use meshsim::api::ApiCluster;
use meshsim::api::resources;
use meshsim::api::store::Key;
use meshsim::istioctl::remote;
use serde_json::json;

fn istioctl(c: &mut ApiCluster, line: &str) -> (String, String, i32) {
    let args: Vec<String> = line.split_whitespace().map(str::to_string).collect();
    let out = remote::run(c, &args);
    (
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
        out.code,
    )
}

fn settle(c: &mut ApiCluster) {
    let deadline = c.world.queue.now() + meshsim::sim::SimDuration::from_secs(60);
    c.fast_forward(deadline, &|_| false);
}

fn label_namespace(c: &mut ApiCluster, labels: serde_json::Value) {
    c.create_or_update(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "test-ns", "labels": labels}}))
        .unwrap();
}

/// `kubectl rollout restart deployment/httpbin -n test-ns`.
fn rollout_restart(c: &mut ApiCluster, at: &str) {
    let r = resources::find("apps", "deployments").unwrap();
    let key = Key::new(r, "test-ns", "httpbin");
    let mut obj = serde_json::Value::clone(c.store.get(&key).unwrap());
    obj["spec"]["template"]["metadata"]["annotations"] =
        json!({"kubectl.kubernetes.io/restartedAt": at});
    c.update(r, "test-ns", "httpbin", obj).unwrap();
    settle(c);
}

fn httpbin_revisions(c: &ApiCluster) -> Vec<Option<String>> {
    c.world
        .cluster
        .live_pods()
        .filter(|p| p.namespace == "test-ns" && p.phase == meshsim::k8s::PodPhase::Running)
        .filter(|p| p.labels.get("app").is_some_and(|a| a == "httpbin"))
        .map(|p| p.annotations.get("istio.io/rev").cloned())
        .collect()
}

#[test]
fn a_canary_revision_takes_the_namespaces_labelled_for_it() {
    let nodes = (0..2)
        .map(|i| meshsim::k8s::NodeSpec {
            name: format!("kind-worker{i}"),
            zone: "zone-a".into(),
            region: "region-1".into(),
        })
        .collect();
    let mut c = ApiCluster::new("kind", nodes, 1, meshsim::sim::time::EPOCH_UNIX_SECS).unwrap();
    assert_eq!(istioctl(&mut c, "install -y").2, 0);
    label_namespace(&mut c, json!({"istio-injection": "enabled"}));
    c.create_or_update(json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "httpbin", "namespace": "test-ns"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "httpbin"}},
            "template": {"metadata": {"labels": {"app": "httpbin", "version": "v1"}},
                "spec": {"containers": [{"name": "httpbin", "image": "mccutchen/go-httpbin:v2.15.0",
                    "ports": [{"containerPort": 8080}]}]}}}}))
        .unwrap();
    settle(&mut c);
    assert_eq!(httpbin_revisions(&c), [Some("default".to_string())]);

    let (out, err, code) = istioctl(&mut c, "install --set revision=canary -y");
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "✔ Istio core installed ⛵️\n✔ Istiod installed 🧠\n✔ Installation complete\n"
    );
    let istiods: Vec<String> = c
        .world
        .cluster
        .live_pods()
        .filter(|p| p.labels.get("app").is_some_and(|a| a == "istiod"))
        .map(|p| p.name.clone())
        .collect();
    assert_eq!(istiods.len(), 2, "{istiods:?}");
    assert!(istiods.iter().any(|n| n.starts_with("istiod-canary-")));
    assert!(
        c.world
            .cluster
            .find_service("istio-system", "istiod-canary")
            .is_some()
    );

    // Both labels: istio-injection wins.
    label_namespace(
        &mut c,
        json!({"istio-injection": "enabled", "istio.io/rev": "canary"}),
    );
    rollout_restart(&mut c, "2026-01-01T00:01:00Z");
    assert_eq!(httpbin_revisions(&c), [Some("default".to_string())]);

    label_namespace(&mut c, json!({"istio.io/rev": "canary"}));
    // Relabelling alone changes no running pod.
    assert_eq!(httpbin_revisions(&c), [Some("default".to_string())]);
    rollout_restart(&mut c, "2026-01-01T00:02:00Z");
    assert_eq!(httpbin_revisions(&c), [Some("canary".to_string())]);

    let (out, _, _) = istioctl(&mut c, "proxy-status");
    let row = out
        .lines()
        .find(|l| l.starts_with("httpbin-"))
        .expect("httpbin's proxy is listed");
    assert!(row.contains(" istiod-canary-"), "{out}");
    let gateway = out
        .lines()
        .find(|l| l.starts_with("istio-ingressgateway-"))
        .expect("the gateway is listed");
    assert!(
        !gateway.contains("istiod-canary-"),
        "the gateway stays on the default revision: {out}"
    );

    let pod = row.split('.').next().unwrap().to_string();
    let (out, _, _) = istioctl(&mut c, &format!("x describe pod {pod} -n test-ns"));
    assert!(out.contains("\n   Pod Revision: canary\n"), "{out}");

    // A waypoint applied for the canary revision runs with its proxies.
    let (_, err, code) = istioctl(&mut c, "waypoint apply -n test-ns -r canary");
    assert_eq!(code, 0, "{err}");
    let (out, _, _) = istioctl(&mut c, "proxy-status");
    let waypoint = out
        .lines()
        .find(|l| l.starts_with("waypoint-"))
        .expect("the waypoint is listed");
    assert!(waypoint.contains(" istiod-canary-"), "{out}");
    assert!(
        istioctl(&mut c, "waypoint list -n test-ns")
            .0
            .contains("waypoint     canary ")
    );

    // An unknown revision injects nothing.
    label_namespace(&mut c, json!({"istio.io/rev": "stable"}));
    rollout_restart(&mut c, "2026-01-01T00:03:00Z");
    assert_eq!(httpbin_revisions(&c), [None]);
}
