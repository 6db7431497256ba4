//! The course's Lab 6 through meshsim's istioctl against the cluster the
//! API serves (sans-IO: no sockets, no kubectl), checking what istioctl
//! 1.27 prints for waypoints, ztunnel's view and `x describe`
//! (`istioctl/pkg/waypoint/waypoint.go`, `istioctl/pkg/writer/ztunnel/
//! configdump`, `istioctl/pkg/describe/describe.go`).

use meshsim::api::ApiCluster;
use meshsim::exec::Exec;
use meshsim::istioctl::remote;
use serde_json::json;

fn args(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

fn istioctl(c: &mut ApiCluster, line: &str) -> (String, String, i32) {
    let Exec {
        stdout,
        stderr,
        code,
    } = remote::run(c, &args(line));
    (
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
        code,
    )
}

/// An ambient install with Lab 6's `web` (nginx hello, 2 replicas) in
/// `sidecar-app`, its pods ready.
fn lab6() -> ApiCluster {
    let nodes = (0..3)
        .map(|i| meshsim::k8s::NodeSpec {
            name: format!("meshsim-worker{i}"),
            zone: "zone-a".into(),
            region: "region-1".into(),
        })
        .collect();
    let mut c = ApiCluster::new("meshsim", nodes, 1, meshsim::sim::time::EPOCH_UNIX_SECS).unwrap();
    let (_, err, code) = istioctl(&mut c, "install --set profile=ambient -y");
    assert_eq!(code, 0, "{err}");
    for obj in [
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "sidecar-app"}}),
        json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web-frontend", "namespace": "sidecar-app"},
            "spec": {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
                "template": {"metadata": {"labels": {"app": "web", "version": "v1"}},
                    "spec": {"containers": [{"name": "web", "image": "nginxdemos/hello:latest",
                        "ports": [{"containerPort": 80}]}]}}}}),
        json!({"apiVersion": "v1", "kind": "Service",
            "metadata": {"name": "web", "namespace": "sidecar-app"},
            "spec": {"selector": {"app": "web"}, "ports": [{"port": 80, "targetPort": 80}]}}),
    ] {
        c.create_or_update(obj).unwrap();
    }
    let deadline = c.world.queue.now() + meshsim::sim::SimDuration::from_secs(60);
    c.fast_forward(deadline, &|_| false);
    c
}

fn label_namespace(c: &mut ApiCluster, labels: serde_json::Value) {
    c.create_or_update(json!({"apiVersion": "v1", "kind": "Namespace",
        "metadata": {"name": "sidecar-app", "labels": labels}}))
        .unwrap();
}

/// Lab 6 step 7 as the course spells it: the promoted command runs with a
/// note of today's spelling, and a note that nothing uses the waypoint
/// yet; istiod deploys it; `waypoint list` shows it programmed, its
/// TRAFFIC TYPE `none` because `apply` without `--for` writes no
/// `istio.io/waypoint-for` label.
#[test]
fn waypoint_apply_list_delete() {
    let mut c = lab6();
    assert_eq!(
        istioctl(&mut c, "waypoint list -n sidecar-app"),
        ("No waypoints found.\n".to_string(), String::new(), 0)
    );
    let (out, err, code) = istioctl(&mut c, "experimental waypoint apply -n sidecar-app");
    assert_eq!(
        (out.as_str(), code),
        ("✅ waypoint sidecar-app/waypoint applied\n", 0)
    );
    assert!(
        err.starts_with(
            "meshsim: `istioctl experimental waypoint` is `istioctl waypoint` in Istio 1.27.9\n"
        ),
        "{err}"
    );
    assert!(err.contains("traffic bypasses it"), "{err}");
    assert_eq!(
        istioctl(&mut c, "waypoint list -n sidecar-app").0,
        "NAME         REVISION     TRAFFIC TYPE     PROGRAMMED\nwaypoint     default      none             True\n"
    );
    assert_eq!(
        istioctl(&mut c, "waypoint list -A").0,
        "NAMESPACE       NAME         REVISION     TRAFFIC TYPE     PROGRAMMED\nsidecar-app     waypoint     default      none             True\n"
    );
    // --enroll-namespace on a namespace not in ambient: the warning (a TAB
    // before the command), then the label.
    let (out, _, code) = istioctl(&mut c, "waypoint apply -n sidecar-app --enroll-namespace");
    assert_eq!(code, 0);
    assert_eq!(
        out,
        "⚠️ Warning: namespace is not enrolled in ambient. Consider running\t`kubectl label namespace sidecar-app istio.io/dataplane-mode=ambient`\n✅ waypoint sidecar-app/waypoint applied\n✅ namespace sidecar-app labeled with \"istio.io/use-waypoint: waypoint\"\n"
    );
    assert_eq!(
        c.world.cluster.namespaces["sidecar-app"]
            .labels
            .get("istio.io/use-waypoint")
            .map(String::as_str),
        Some("waypoint")
    );
    // A second enrolment without --overwrite stops at a warning.
    let (out, _, _) = istioctl(&mut c, "waypoint apply -n sidecar-app --enroll-namespace");
    assert_eq!(
        out,
        "⚠️ Warning: namespace (sidecar-app) already has an enrolled Waypoint. Consider adding the `--overwrite` flag to your apply command.\n"
    );
    let (_, err, code) = istioctl(&mut c, "waypoint apply -n sidecar-app --for everything");
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "Error: failed to create gateway: invalid traffic type: everything. Valid options are: [all none service workload]\n"
    );
    assert_eq!(
        istioctl(&mut c, "waypoint delete waypoint -n sidecar-app").0,
        "waypoint sidecar-app/waypoint deleted\n"
    );
    assert!(
        c.world
            .cluster
            .find_workload("sidecar-app", "waypoint")
            .is_none()
    );
    assert!(
        c.world
            .cluster
            .find_service("sidecar-app", "waypoint")
            .is_none()
    );
}

/// `istioctl ztunnel-config`: every workload istiod knows, HBONE once
/// enrolled; services with their waypoint and healthy/total endpoints;
/// tabwriter padding 1.
#[test]
fn ztunnel_config_shows_enrolment_and_waypoints() {
    let mut c = lab6();
    let (out, _, code) = istioctl(
        &mut c,
        "ztunnel-config workloads --workload-namespace sidecar-app",
    );
    assert_eq!(code, 0);
    let rows: Vec<&str> = out.lines().collect();
    assert_eq!(
        rows[0].split_whitespace().collect::<Vec<_>>(),
        [
            "NAMESPACE",
            "POD",
            "NAME",
            "ADDRESS",
            "NODE",
            "WAYPOINT",
            "PROTOCOL"
        ]
    );
    assert_eq!(rows.len(), 3, "{out}");
    assert!(
        rows[1..]
            .iter()
            .all(|r| r.starts_with("sidecar-app web-frontend-") && r.ends_with(" None     TCP")),
        "{out}"
    );

    label_namespace(&mut c, json!({"istio.io/dataplane-mode": "ambient"}));
    let (out, _, _) = istioctl(&mut c, "zc workloads --workload-namespace sidecar-app");
    assert!(
        out.lines().skip(1).all(|r| r.ends_with(" None     HBONE")),
        "{out}"
    );

    istioctl(&mut c, "waypoint apply -n sidecar-app --enroll-namespace");
    let (out, _, _) = istioctl(&mut c, "zc services --service-namespace sidecar-app");
    let rows: Vec<Vec<&str>> = out
        .lines()
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert_eq!(
        rows[0],
        [
            "NAMESPACE",
            "SERVICE",
            "NAME",
            "SERVICE",
            "VIP",
            "WAYPOINT",
            "ENDPOINTS"
        ]
    );
    let web = rows.iter().find(|r| r[1] == "web").expect("web is listed");
    assert_eq!((web[3], web[4]), ("waypoint", "2/2"));
    let wp = rows
        .iter()
        .find(|r| r[1] == "waypoint")
        .expect("the waypoint's Service");
    assert_eq!(
        (wp[3], wp[4]),
        ("None", "1/1"),
        "a waypoint does not use itself"
    );

    // A waypoint for all traffic also serves the pods themselves.
    istioctl(&mut c, "waypoint apply -n sidecar-app --for all");
    let (out, _, _) = istioctl(&mut c, "zc workloads --workload-namespace sidecar-app");
    let web: Vec<&str> = out
        .lines()
        .filter(|l| l.contains(" web-frontend-"))
        .collect();
    assert_eq!(web.len(), 2, "{out}");
    assert!(web.iter().all(|r| r.ends_with(" waypoint HBONE")), "{out}");

    let (_, err, code) = istioctl(&mut c, "zc workloads -n default");
    assert_eq!(code, 1);
    assert_eq!(
        err,
        "Error: failed retrieving: daemonsets.apps \"ztunnel\" not found in the \"default\" namespace\n"
    );
}

/// `x describe pod` knows only sidecars: an ambient pod is "not part of
/// mesh", then the port-forward to its missing Envoy fails (exit 1); the
/// course's `describe namespace` is refused as 1.27 refuses it, beside
/// its current equivalent.
#[test]
fn describe_sees_no_sidecar_in_ambient() {
    let mut c = lab6();
    label_namespace(&mut c, json!({"istio.io/dataplane-mode": "ambient"}));
    let pod = c
        .world
        .cluster
        .live_pods()
        .find(|p| p.namespace == "sidecar-app")
        .map(|p| p.name.clone())
        .unwrap();
    let (out, err, code) = istioctl(&mut c, &format!("x describe pod {pod} -n sidecar-app"));
    assert_eq!(code, 1);
    assert_eq!(
        out,
        format!(
            "Pod: {pod}\n   Pod Revision: \n   Pod Ports: 80 (web)\nWARNING: {pod} is not part of mesh; no Istio sidecar\n--------------------\n"
        )
    );
    assert!(err.starts_with("Error: failed to execute command on sidecar: failure running port forward process: Get \"http://localhost:"), "{err}");
    assert!(err.contains("is in the ambient mesh"), "{err}");

    let (out, err, code) = istioctl(&mut c, "x describe namespace sidecar-app");
    assert_eq!(code, 1);
    assert!(
        err.ends_with("Error: unknown resource type \"namespace\"\n"),
        "{err}"
    );
    assert!(out.lines().skip(1).all(|r| r.ends_with("HBONE")), "{out}");
}

/// istioctl's refusals: cobra's flag errors exit 64 (EX_USAGE,
/// `istioctl/cmd/sysexits.go`), the commands' own errors 1, and `waypoint
/// delete` touches only waypoints (`waypoint.go`).
#[test]
fn refusals_read_as_istioctl_words_them() {
    let mut c = lab6();
    for (line, err, code) in [
        (
            "waypoint apply -n sidecar-app --bogus",
            "Error: unknown flag: --bogus\n",
            64,
        ),
        (
            "waypoint list --for service",
            "Error: unknown flag: --for\n",
            64,
        ),
        (
            "waypoint apply -n sidecar-app --name",
            "Error: flag needs an argument: --name\n",
            64,
        ),
        (
            "waypoint apply -n sidecar-app --name none",
            "Error: invalid name provided for waypoint, 'none' is a reserved value\n",
            1,
        ),
        ("waypoint frob", "Error: unknown subcommand \"frob\"\n", 1),
        (
            "waypoint delete -n sidecar-app",
            "Error: must specify a waypoint name or delete all using --all or delete specific revision using --revision\n",
            1,
        ),
        (
            "waypoint delete waypoint --all -n sidecar-app",
            "Error: cannot specify waypoint names when deleting all waypoints\n",
            1,
        ),
        ("zc workloads --bogus", "Error: unknown flag: --bogus\n", 64),
        ("zc workloads nope", "Error: pods \"nope\" not found\n", 1),
        ("x describe pod", "Error: expecting pod name\n", 1),
        (
            "x describe pod web -n",
            "Error: flag needs an argument: -n\n",
            64,
        ),
        (
            "x describe svc nope -n sidecar-app",
            "Error: services \"nope\" not found\n",
            1,
        ),
    ] {
        let (_, e, rc) = istioctl(&mut c, line);
        assert_eq!((e.as_str(), rc), (err, code), "istioctl {line}");
    }
    // An ingress Gateway API Gateway of the same name is not a waypoint.
    c.create_or_update(json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway",
        "metadata": {"name": "web-gateway", "namespace": "sidecar-app"},
        "spec": {"gatewayClassName": "istio", "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]}}))
        .unwrap();
    assert_eq!(
        istioctl(&mut c, "waypoint delete web-gateway -n sidecar-app"),
        (
            "waypoint sidecar-app/web-gateway not found\n".to_string(),
            String::new(),
            0
        )
    );
}
