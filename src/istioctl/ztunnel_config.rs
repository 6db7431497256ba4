//! `istioctl ztunnel-config workloads|services` (alias `zc`; Istio 1.27
//! `istioctl/pkg/ztunnelconfig`, `istioctl/pkg/writer/ztunnel/configdump`):
//! what a ztunnel knows from istiod, which is every workload and Service
//! in the cluster, not only ambient ones.
//!
//! - workloads: `NAMESPACE POD NAME ADDRESS NODE WAYPOINT PROTOCOL`, sorted
//!   by `namespace.name`; every pod with an address. PROTOCOL is `HBONE`
//!   for ambient pods (and sidecars on an ambient install, whose injector
//!   labels them for tunnels), else `TCP`; WAYPOINT names a waypoint only
//!   when the pod uses one for `workload` or `all` traffic, else `None`.
//!   `--workload-namespace` filters.
//! - services: `NAMESPACE SERVICE NAME SERVICE VIP WAYPOINT ENDPOINTS`,
//!   sorted by namespace and name; ENDPOINTS is healthy/total.
//!   `--service-namespace` filters.
//! - `-n` names where the ztunnel DaemonSet is (default `istio-system`);
//!   tabwriter padding 1.

use crate::exec::Exec;
use crate::k8s::PodPhase;
use crate::world::World;

struct Flags {
    istio_namespace: String,
    filter: Option<String>,
    /// The ztunnel pod named (`[<type>/]<name>[.<namespace>]`).
    pod: Option<String>,
}

fn parse(args: &[String], filter_flag: &str) -> Result<Flags, String> {
    let mut f = Flags {
        istio_namespace: "istio-system".to_string(),
        filter: None,
        pod: None,
    };
    let mut it = args.iter();
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((k, v)) if k.starts_with('-') => (k, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("Error: flag needs an argument: {flag}"))
        };
        match flag {
            "-n" | "--namespace" | "-i" | "--istioNamespace" => f.istio_namespace = value()?,
            "-o" | "--output" => {
                let o = value()?;
                if o != "short" {
                    return Err(format!(
                        "meshsim: `istioctl ztunnel-config -o {o}` is not simulated (short only)"
                    ));
                }
            }
            s if s == filter_flag => f.filter = Some(value()?),
            s if s.starts_with('-') => return Err(format!("Error: unknown flag: {s}")),
            // The ztunnel pod to ask: any one knows the same.
            s => f.pod = Some(s.split('.').next().unwrap_or(s).to_string()),
        }
    }
    Ok(f)
}

/// `istioctl ztunnel-config ARGS`.
pub fn run(world: &World, args: &[String]) -> Exec {
    let result = match args.first().map(String::as_str) {
        Some("workload" | "workloads" | "w") => parse(&args[1..], "--workload-namespace")
            .and_then(|f| ztunnel(world, &f).map(|()| workloads(world, &f))),
        Some("service" | "services" | "s" | "svc") => parse(&args[1..], "--service-namespace")
            .and_then(|f| ztunnel(world, &f).map(|()| services(world, &f))),
        Some(
            other @ ("certificate" | "certificates" | "certs" | "cert" | "policy" | "policies"
            | "connections" | "all" | "log"),
        ) => Err(format!(
            "meshsim: `istioctl ztunnel-config {other}` is not simulated (try workloads, services)"
        )),
        Some(other) => {
            return Exec::fail(
                format!(
                    "Error: unknown command \"{other}\" for \"istioctl ztunnel-config\"\nRun 'istioctl ztunnel-config --help' for usage."
                ),
                64,
            );
        }
        None => Err("Error: ztunnel-config needs a command: workloads, services".to_string()),
    };
    match result {
        Ok(stdout) => Exec {
            stdout: stdout.into_bytes(),
            ..Exec::default()
        },
        // cobra's flag errors are EX_USAGE.
        Err(e) if e.starts_with("Error: unknown flag") || e.starts_with("Error: flag needs") => {
            Exec::fail(e, 64)
        }
        Err(e) => Exec::fail(e, 1),
    }
}

/// istioctl reads the dump of the first pod of `daemonset/ztunnel`.
fn ztunnel(world: &World, f: &Flags) -> Result<(), String> {
    let ns = &f.istio_namespace;
    if let Some(pod) = &f.pod {
        let name = pod.rsplit('/').next().unwrap_or(pod);
        let found = world
            .cluster
            .live_pods()
            .find(|p| p.namespace == *ns && p.name == name);
        return match found {
            None => Err(format!("Error: pods \"{name}\" not found")),
            Some(p) if p.labels.get("app").is_none_or(|a| a != "ztunnel") => Err(format!(
                "Error: workloads command is only supported by Ztunnel proxies: {name}"
            )),
            Some(_) => Ok(()),
        };
    }
    match world.cluster.find_workload(ns, "ztunnel") {
        Some(_) => Ok(()),
        None => Err(format!(
            "Error: failed retrieving: daemonsets.apps \"ztunnel\" not found in the \"{ns}\" namespace"
        )),
    }
}

fn workloads(world: &World, f: &Flags) -> String {
    let hbone_sidecars = world.ztunnel_installed();
    let mut rows: Vec<(String, Vec<String>)> = world
        .cluster
        .live_pods()
        .filter(|p| p.phase != PodPhase::Pending)
        .filter(|p| {
            f.filter
                .as_ref()
                .is_none_or(|n| n.eq_ignore_ascii_case(&p.namespace))
        })
        .map(|p| {
            let hbone = world.in_ambient(p.id) || (p.sidecar && hbone_sidecars);
            let node = world.cluster.node(p.node).name.clone();
            (
                format!("{}.{}", p.namespace, p.name),
                vec![
                    p.namespace.clone(),
                    p.name.clone(),
                    p.ip.to_string(),
                    node,
                    workload_waypoint(world, p),
                    if hbone { "HBONE" } else { "TCP" }.to_string(),
                ],
            )
        })
        .collect();
    rows.sort_by(|a, b| (&a.0, &a.1[3]).cmp(&(&b.0, &b.1[3])));
    let header = [
        "NAMESPACE",
        "POD NAME",
        "ADDRESS",
        "NODE",
        "WAYPOINT",
        "PROTOCOL",
    ];
    table(&header, rows.into_iter().map(|r| r.1))
}

/// The waypoint a pod's own traffic goes through: only one for `workload`
/// or `all` traffic counts (`ambient/waypoints.go`).
fn workload_waypoint(world: &World, p: &crate::k8s::Pod) -> String {
    world
        .waypoint_bound(&p.namespace, &p.labels, "workload")
        .map_or_else(|| "None".to_string(), |(_, name)| name)
}

fn services(world: &World, f: &Flags) -> String {
    let mut rows: Vec<Vec<String>> = world
        .cluster
        .services
        .iter()
        .filter(|s| !s.deleted && s.type_ != "ExternalName")
        .filter(|s| {
            f.filter
                .as_ref()
                .is_none_or(|n| n.eq_ignore_ascii_case(&s.namespace))
        })
        .map(|s| {
            let pods: Vec<&crate::k8s::Pod> = world
                .cluster
                .live_pods()
                .filter(|p| p.phase != PodPhase::Pending && s.selects(p))
                .collect();
            let healthy = pods.iter().filter(|p| p.ready).count();
            vec![
                s.namespace.clone(),
                s.name.clone(),
                s.cluster_ip.map(|ip| ip.to_string()).unwrap_or_default(),
                world
                    .waypoint_of(s.id)
                    .map_or_else(|| "None".to_string(), |(_, name)| name),
                format!("{healthy}/{}", pods.len()),
            ]
        })
        .collect();
    rows.sort();
    let header = [
        "NAMESPACE",
        "SERVICE NAME",
        "SERVICE VIP",
        "WAYPOINT",
        "ENDPOINTS",
    ];
    table(&header, rows.into_iter())
}

fn table(header: &[&str], rows: impl Iterator<Item = Vec<String>>) -> String {
    let mut all = vec![header.iter().map(|h| h.to_string()).collect::<Vec<_>>()];
    all.extend(rows);
    super::tabwrite(&all, 1)
}
