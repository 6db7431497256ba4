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
        Some("describe" | "des") => {
            let lb_ips = cluster.ingress_ips();
            super::describe::run(&mut cluster.world, &args[1..], &lb_ips)
        }
        Some(cmd) => Exec::fail(
            format!(
                "Error: unknown command \"{cmd}\" for \"istioctl experimental\"\nRun 'istioctl experimental --help' for usage."
            ),
            64,
        ),
        None => Exec::fail("Usage:\n  istioctl experimental [command]".into(), 1),
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
