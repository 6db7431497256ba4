//! The server side of the `istioctl` that `meshsim shell-env` puts on
//! PATH: the client sends its arguments to the cluster
//! (`POST /meshsim/v1/istioctl`), which runs them against the same world
//! the API serves and answers with what to print.

use serde_json::{Value, json};

use crate::api::ApiCluster;
use crate::control::install::ISTIO_VERSION;
use crate::exec::Exec;

/// Runs one istioctl invocation from its JSON request
/// (`{"args": [...]}`); the answer is `{"stdout", "stderr", "code"}`.
pub fn serve(cluster: &mut ApiCluster, body: &[u8]) -> Vec<u8> {
    let args: Vec<String> = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| serde_json::from_value(v["args"].clone()).ok())
        .unwrap_or_default();
    let out = run(cluster, &args);
    json!({
        "stdout": String::from_utf8_lossy(&out.stdout),
        "stderr": String::from_utf8_lossy(&out.stderr),
        "code": out.code,
    })
    .to_string()
    .into_bytes()
}

/// Commands the course spells with `experimental`/`x` that Istio has
/// since promoted, and which `x` commands still exist.
const PROMOTED: &[&str] = &[
    "waypoint",
    "version",
    "proxy-config",
    "proxy-status",
    "analyze",
    "install",
];

pub fn run(cluster: &mut ApiCluster, args: &[String]) -> Exec {
    match args.first().map(String::as_str) {
        Some("install") => super::install::run(cluster, &args[1..]),
        Some("version") => version(cluster),
        Some("x" | "experimental") => experimental(cluster, &args[1..]),
        Some("analyze") => super::analyze::analyze(&cluster.world, &args[1..]),
        Some("waypoint") => super::waypoint::run(cluster, &args[1..]),
        Some("ztunnel-config" | "zc") => super::ztunnel_config::run(&cluster.world, &args[1..]),
        Some("proxy-config" | "pc" | "proxy-status" | "ps") => super::run(&mut cluster.world, args),
        // istioctl's exit code for an unknown command is 64 (EX_USAGE,
        // istioctl/cmd/sysexits.go).
        Some(other) => Exec::fail(
            format!("Error: unknown command \"{other}\" for \"istioctl\"\nRun 'istioctl --help' for usage."),
            64,
        ),
        None => Exec::fail(
            "Istio configuration command line utility.\n\nUsage:\n  istioctl [command]\n\nmeshsim's istioctl has: install, version, analyze, validate, proxy-config, proxy-status, waypoint, ztunnel-config, x describe".into(),
            0,
        ),
    }
}

/// `istioctl x CMD`: a promoted command runs with a note of its current
/// spelling (course errata 1 and 2).
fn experimental(cluster: &mut ApiCluster, args: &[String]) -> Exec {
    match args.first().map(String::as_str) {
        // 1.27 keeps `x proxy-status` beside the stable one (istioctl/cmd/root.go).
        Some("proxy-status" | "ps") => run(cluster, args),
        Some(cmd) if PROMOTED.contains(&cmd) => {
            let mut out = run(cluster, args);
            let note = format!(
                "meshsim: `istioctl experimental {cmd}` is `istioctl {cmd}` in Istio {ISTIO_VERSION}\n"
            );
            out.stderr.splice(0..0, note.into_bytes());
            out
        }
        Some("describe" | "des") => describe(cluster, &args[1..]),
        Some(cmd) => Exec::fail(
            format!(
                "Error: unknown command \"{cmd}\" for \"istioctl experimental\"\nRun 'istioctl experimental --help' for usage."
            ),
            64,
        ),
        None => Exec::fail("Usage:\n  istioctl experimental [command]".into(), 1),
    }
}

/// `istioctl x describe`: its subcommands are `pod` and `service`; any
/// other word is refused by its argument check, without usage (so the
/// course's `describe namespace bookinfo` is an error on Istio 1.27 too,
/// shown beside its current equivalent on an ambient install).
fn describe(cluster: &mut ApiCluster, args: &[String]) -> Exec {
    let lb_ips = cluster.ingress_ips();
    match args.first().map(String::as_str) {
        Some("pod" | "po") => super::describe::pod(&mut cluster.world, &args[1..], &lb_ips),
        Some("service" | "svc") => super::describe::service(&mut cluster.world, &args[1..], &lb_ips),
        Some("namespace" | "ns") if cluster.world.ztunnel_installed() => {
            describe_namespace(cluster, args.get(1).map_or("default", String::as_str))
        }
        Some(other) => Exec::fail(format!("Error: unknown resource type {other:?}"), 1),
        None => Exec::fail(
            "Usage:\n  istioctl experimental describe [command]\n\nAvailable Commands:\n  pod\n  service".into(),
            0,
        ),
    }
}

/// The course's `istioctl x describe namespace NS` on an ambient install:
/// Istio 1.27 refuses it (exit 1, its error last), and meshsim shows what
/// the course wanted with today's command — the namespace's workloads as
/// ztunnel sees them (`HBONE`: in the ambient mesh).
fn describe_namespace(cluster: &mut ApiCluster, ns: &str) -> Exec {
    let args: Vec<String> = ["workloads", "--workload-namespace", ns]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let shown = super::ztunnel_config::run(&cluster.world, &args);
    let mut stderr = format!(
        "meshsim: Istio {ISTIO_VERSION}'s `istioctl x describe` has no `namespace`; the ambient enrolment of {ns} is what `istioctl ztunnel-config workloads --workload-namespace {ns}` shows (above, PROTOCOL HBONE: in the mesh)\n"
    )
    .into_bytes();
    stderr.extend_from_slice(b"Error: unknown resource type \"namespace\"\n");
    Exec {
        stdout: shown.stdout,
        stderr,
        code: 1,
    }
}

/// `istioctl version`: the client's, and the control and data planes' as
/// their pods report them.
fn version(cluster: &ApiCluster) -> Exec {
    let c = &cluster.world.cluster;
    let istiod_running = c
        .live_pods()
        .any(|p| p.namespace == "istio-system" && p.name.starts_with("istiod-") && p.ready);
    let mut out = String::new();
    let mut err = String::new();
    if istiod_running {
        let proxies = c.live_pods().filter(|p| p.sidecar || is_gateway(p)).count();
        out.push_str(&format!(
            "client version: {ISTIO_VERSION}\ncontrol plane version: {ISTIO_VERSION}\ndata plane version: {ISTIO_VERSION} ({proxies} proxies)\n"
        ));
    } else {
        err.push_str("Istio is not present in the cluster: no running Istio pods in namespace \"istio-system\"\n");
        out.push_str(&format!("client version: {ISTIO_VERSION}\n"));
    }
    Exec {
        stdout: out.into_bytes(),
        stderr: err.into_bytes(),
        code: 0,
    }
}

fn is_gateway(p: &crate::k8s::Pod) -> bool {
    p.labels
        .get("istio")
        .is_some_and(|v| v == "ingressgateway" || v == "egressgateway")
}
