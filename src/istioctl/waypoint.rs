//! `istioctl waypoint apply|list|delete` (Istio 1.27
//! `istioctl/pkg/waypoint/waypoint.go`).
//!
//! - `apply [-n NS] [--name waypoint] [--for service|workload|all|none]
//!   [--enroll-namespace] [--wait] [--overwrite]` writes the Gateway
//!   (`gatewayClassName: istio-waypoint`, one listener `{name: mesh, port:
//!   15008, protocol: HBONE}`, the `istio.io/waypoint-for` label only when
//!   `--for` is given); istiod's deployment controller then deploys it
//!   ([`crate::control::waypoint`]). It prints `✅ waypoint NS/NAME
//!   applied`; with `--enroll-namespace` it also labels the namespace
//!   `istio.io/use-waypoint=NAME`, warning first when the namespace is not
//!   in ambient, and stops at a warning when the namespace already has a
//!   waypoint (unless `--overwrite`). meshsim waits (in virtual time) for the waypoint to be ready
//!   before it answers, as a person typing the next command would.
//! - `list [-n NS | -A]`: `NAME REVISION TRAFFIC TYPE PROGRAMMED`, with
//!   `NAMESPACE` first under `-A`; `No waypoints found.` when there are
//!   none. TRAFFIC TYPE is the `istio.io/waypoint-for` label, `none` when
//!   it is absent (though istiod then takes service traffic).
//! - `delete NAME... | --all [-n NS]`: `waypoint NS/NAME deleted`.

use serde_json::json;

use crate::api::ApiCluster;
use crate::api::resources;
use crate::control::waypoint::{DATAPLANE_MODE, GATEWAY_NAME, USE_WAYPOINT, WAYPOINT_FOR};
use crate::exec::Exec;
use crate::sim::SimDuration;

/// How long `apply` waits for the waypoint's pod.
const READY_TIMEOUT: SimDuration = SimDuration::from_secs(300);

#[derive(Default)]
struct Flags {
    namespace: Option<String>,
    all_namespaces: bool,
    name: Option<String>,
    traffic: Option<String>,
    revision: Option<String>,
    enroll: bool,
    overwrite: bool,
    wait: bool,
    all: bool,
    names: Vec<String>,
}

fn parse(args: &[String]) -> Result<Flags, String> {
    let mut f = Flags::default();
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((k, v)) if k.starts_with('-') => (k, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = |name: &str| -> Result<String, String> {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("Error: flag needs an argument: {name}"))
        };
        match flag {
            "-n" | "--namespace" => f.namespace = Some(value(flag)?),
            "--name" => f.name = Some(value(flag)?),
            "--for" => f.traffic = Some(value(flag)?),
            "-r" | "--revision" => f.revision = Some(value(flag)?),
            "-A" | "--all-namespaces" => f.all_namespaces = true,
            "--enroll-namespace" => f.enroll = true,
            "--wait" | "-w" => f.wait = true,
            "--overwrite" => f.overwrite = true,
            "--all" => f.all = true,
            s if s.starts_with('-') => return Err(format!("Error: unknown flag: {s}")),
            s => f.names.push(s.to_string()),
        }
    }
    Ok(f)
}

/// `istioctl waypoint ARGS`.
pub fn run(cluster: &mut ApiCluster, args: &[String]) -> Exec {
    let (cmd, rest) = match args.split_first() {
        Some((c, rest)) => (c.as_str(), rest),
        None => {
            return Exec::fail(
                "Usage:\n  istioctl waypoint [command]\n\nAvailable Commands:\n  apply\n  delete\n  list".into(),
                0,
            );
        }
    };
    let flags = match parse(rest) {
        Ok(f) => f,
        // cobra's flag errors: EX_USAGE.
        Err(e) => return Exec::fail(e, 64),
    };
    if let Some(e) = misplaced(cmd, &flags) {
        return Exec::fail(e, 64);
    }
    let result = match cmd {
        "apply" => match apply(cluster, &flags) {
            Ok((stdout, note)) => {
                return Exec {
                    stdout: stdout.into_bytes(),
                    stderr: note.into_bytes(),
                    code: 0,
                };
            }
            Err(e) => Err(e),
        },
        "list" => list(cluster, &flags),
        "delete" => delete(cluster, &flags),
        "generate" | "status" => Err(format!(
            "meshsim: `istioctl waypoint {cmd}` is not simulated (try apply, list, delete)"
        )),
        other => Err(format!("Error: unknown subcommand {other:?}")),
    };
    match result {
        Ok(stdout) => Exec {
            stdout: stdout.into_bytes(),
            ..Exec::default()
        },
        Err(e) => Exec::fail(e, 1),
    }
}

/// A flag the subcommand does not define, as cobra refuses it.
fn misplaced(cmd: &str, f: &Flags) -> Option<String> {
    let allowed: &[&str] = match cmd {
        "apply" => &[
            "--name",
            "--for",
            "--enroll-namespace",
            "--overwrite",
            "--wait",
            "--revision",
        ],
        "list" => &["--all-namespaces"],
        "delete" => &["--all", "--revision"],
        _ => return None,
    };
    let given = [
        ("--name", f.name.is_some()),
        ("--for", f.traffic.is_some()),
        ("--enroll-namespace", f.enroll),
        ("--overwrite", f.overwrite),
        ("--wait", f.wait),
        ("--revision", f.revision.is_some()),
        ("--all-namespaces", f.all_namespaces),
        ("--all", f.all),
    ];
    let bad = given
        .iter()
        .find(|(flag, set)| *set && !allowed.contains(flag))
        .map(|(flag, _)| format!("Error: unknown flag: {flag}"));
    bad.or_else(|| {
        (cmd != "delete" && !f.names.is_empty()).then(|| {
            format!(
                "Error: unknown command {:?} for \"istioctl waypoint {cmd}\"",
                f.names[0]
            )
        })
    })
}

fn namespace(f: &Flags) -> String {
    f.namespace.clone().unwrap_or_else(|| "default".to_string())
}

/// `waypoint apply`: what istioctl prints, and meshsim's note when
/// nothing will send traffic through the waypoint yet.
fn apply(cluster: &mut ApiCluster, f: &Flags) -> Result<(String, String), String> {
    let ns = namespace(f);
    let name = f.name.clone().unwrap_or_else(|| "waypoint".to_string());
    if name == "none" {
        return Err(
            "Error: invalid name provided for waypoint, 'none' is a reserved value".to_string(),
        );
    }
    let Some(ns_labels) = cluster
        .world
        .cluster
        .namespaces
        .get(&ns)
        .map(|n| n.labels.clone())
    else {
        return Err(format!("Error: namespaces \"{ns}\" not found"));
    };
    let mut out = String::new();
    if f.enroll {
        if !f.overwrite && ns_labels.contains_key(USE_WAYPOINT) {
            out.push_str(&format!(
                "⚠️ Warning: namespace ({ns}) already has an enrolled Waypoint. Consider adding the `--overwrite` flag to your apply command.\n"
            ));
            return Ok((out, String::new()));
        }
        if ns_labels.get(DATAPLANE_MODE).map(String::as_str) != Some("ambient") {
            out.push_str(&format!(
                "⚠️ Warning: namespace is not enrolled in ambient. Consider running\t`kubectl label namespace {ns} {DATAPLANE_MODE}=ambient`\n"
            ));
        }
    }
    if let Some(t) = &f.traffic
        && !["service", "workload", "all", "none"].contains(&t.as_str())
    {
        return Err(format!(
            "{out}Error: failed to create gateway: invalid traffic type: {t}. Valid options are: [all none service workload]"
        ));
    }
    let mut labels = serde_json::Map::new();
    if let Some(t) = &f.traffic {
        labels.insert(WAYPOINT_FOR.into(), json!(t));
    }
    if let Some(rev) = &f.revision {
        labels.insert(crate::k8s::cluster::REVISION.into(), json!(rev));
    }
    let gateway = json!({
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": name, "namespace": ns, "labels": labels},
        "spec": {
            "gatewayClassName": crate::config::gateway_api::WAYPOINT_CLASS,
            "listeners": [{"name": "mesh", "port": 15008, "protocol": "HBONE"}],
        },
    });
    cluster
        .create_or_update(gateway)
        .map_err(|e| format!("Error: {e}"))?;
    cluster.settle_push();
    let deadline = cluster.world.queue.now() + READY_TIMEOUT;
    while !ready(cluster, &ns, &name) {
        if !cluster.fast_forward(deadline, &|_| true) {
            break;
        }
    }
    out.push_str(&format!("✅ waypoint {ns}/{name} applied\n"));
    if f.wait {
        if !ready(cluster, &ns, &name) {
            return Err(format!(
                "{out}Error: timed out while waiting for waypoint\t{ns}/{name}"
            ));
        }
        out.push_str(&format!("✅ waypoint {ns}/{name} is ready!\n"));
    }
    if f.enroll {
        label_namespace(cluster, &ns, &name)?;
        out.push_str(&format!(
            "✅ namespace {ns} labeled with \"{USE_WAYPOINT}: {name}\"\n"
        ));
    }
    let used = f.enroll
        || ns_labels.contains_key(USE_WAYPOINT)
        || cluster
            .world
            .cluster
            .services
            .iter()
            .any(|s| !s.deleted && s.namespace == ns && s.labels.contains_key(USE_WAYPOINT));
    let note = if used {
        String::new()
    } else {
        format!(
            "meshsim: no namespace, Service or pod uses waypoint {ns}/{name} yet, so traffic bypasses it; label one `{USE_WAYPOINT}={name}` (`kubectl label namespace {ns} {USE_WAYPOINT}={name}`) or apply with --enroll-namespace\n"
        )
    };
    Ok((out, note))
}

/// Whether a pod of waypoint `ns/name` is ready.
fn ready(cluster: &ApiCluster, ns: &str, name: &str) -> bool {
    cluster.world.cluster.live_pods().any(|p| {
        p.namespace == ns && p.ready && p.labels.get(GATEWAY_NAME).is_some_and(|g| g == name)
    })
}

/// `--enroll-namespace`: the namespace's traffic goes through the waypoint.
fn label_namespace(cluster: &mut ApiCluster, ns: &str, name: &str) -> Result<(), String> {
    let r = resources::find("", "namespaces").expect("namespaces are served");
    let key = crate::api::store::Key::new(r, "", ns);
    let mut obj = cluster
        .store
        .get(&key)
        .map(|o| serde_json::Value::clone(o))
        .ok_or_else(|| format!("Error: namespaces \"{ns}\" not found"))?;
    obj["metadata"]["labels"][USE_WAYPOINT] = json!(name);
    cluster
        .update(r, "", ns, obj)
        .map(|_| ())
        .map_err(|e| format!("Error: {}", e.message))
}

/// The waypoint Gateways in `ns` (all namespaces when `None`), by
/// namespace and name.
fn waypoints(
    cluster: &ApiCluster,
    ns: Option<&str>,
) -> Vec<(String, String, String, String, bool)> {
    let store = &cluster.world.mesh.desired;
    store
        .of_kind("KubernetesGateway")
        .into_iter()
        .filter(|o| crate::control::waypoint::is_waypoint(o))
        .filter(|o| ns.is_none_or(|n| o.namespace() == n))
        .map(|o| {
            (
                o.namespace().to_string(),
                o.name().to_string(),
                o.meta
                    .labels
                    .get(crate::k8s::cluster::REVISION)
                    .map_or("default", String::as_str)
                    .to_string(),
                // The label as written: istiod's default (`service`)
                // shows as `none`.
                o.meta
                    .labels
                    .get(WAYPOINT_FOR)
                    .map_or("none", String::as_str)
                    .to_string(),
                ready(cluster, o.namespace(), o.name()),
            )
        })
        .collect()
}

fn list(cluster: &mut ApiCluster, f: &Flags) -> Result<String, String> {
    let ns = namespace(f);
    let mut found = waypoints(cluster, (!f.all_namespaces).then_some(ns.as_str()));
    if found.is_empty() {
        return Ok("No waypoints found.\n".to_string());
    }
    found.sort();
    let mut rows = vec![];
    let header = ["NAME", "REVISION", "TRAFFIC TYPE", "PROGRAMMED"];
    let mut head: Vec<String> = header.iter().map(|s| s.to_string()).collect();
    if f.all_namespaces {
        head.insert(0, "NAMESPACE".into());
    }
    rows.push(head);
    for (wns, name, revision, traffic, programmed) in found {
        let mut row = vec![
            name,
            revision,
            traffic,
            if programmed { "True" } else { "False" }.to_string(),
        ];
        if f.all_namespaces {
            row.insert(0, wns);
        }
        rows.push(row);
    }
    Ok(super::tabwrite(&rows, 5))
}

fn delete(cluster: &mut ApiCluster, f: &Flags) -> Result<String, String> {
    let ns = namespace(f);
    if f.all && !f.names.is_empty() {
        return Err("Error: cannot specify waypoint names when deleting all waypoints".into());
    }
    let existing = waypoints(cluster, Some(&ns));
    let revision =
        |w: &(String, String, String, String, bool)| f.revision.as_ref().is_none_or(|r| *r == w.2);
    let names: Vec<String> = if f.all || (f.names.is_empty() && f.revision.is_some()) {
        existing
            .iter()
            .filter(|w| revision(w))
            .map(|w| w.1.clone())
            .collect()
    } else {
        f.names.clone()
    };
    if names.is_empty() && !f.all && f.revision.is_none() {
        return Err("Error: must specify a waypoint name or delete all using --all or delete specific revision using --revision".into());
    }
    let r = resources::find("gateway.networking.k8s.io", "gateways").expect("served");
    let mut out = String::new();
    for name in names {
        // Only waypoints: another class's Gateway of that name is not one.
        if !existing.iter().any(|w| w.1 == name) {
            out.push_str(&format!("waypoint {ns}/{name} not found\n"));
            continue;
        }
        cluster
            .delete(r, &ns, &name)
            .map_err(|e| format!("{out}Error: {}", e.message))?;
        out.push_str(&format!("waypoint {ns}/{name} deleted\n"));
    }
    cluster.settle_push();
    Ok(out)
}
