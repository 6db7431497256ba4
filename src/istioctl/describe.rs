//! `istioctl x describe pod|service` (Istio 1.27
//! `istioctl/pkg/describe/describe.go`): a pod, the Services that select
//! it, the DestinationRule and VirtualService its proxy uses for each
//! Service port, the RBAC policies on its inbound listener, its effective
//! PeerAuthentication, and the ingress gateways that expose it.
//!
//! istioctl reads the DestinationRule and VirtualService names from the
//! pod's Envoy `config_dump` (cluster and route metadata); meshsim reads
//! the same from the configuration the data path runs with. A pod with no
//! `istio-proxy` (also an ambient pod: describe knows nothing of ztunnel)
//! gets the "not part of mesh" warning, then the failed port-forward to
//! its missing Envoy admin port, exit 1, as istioctl does.

use std::collections::BTreeMap;

use crate::config::Body;
use crate::config::networking::DestinationRule;
use crate::config::networking::common::StringMatch;
use crate::config::networking::virtual_service::{HttpMatchRequest, HttpRoute, VirtualService};
use crate::control::registry::resolve_short_name;
use crate::control::routing::ROOT_NAMESPACE;
use crate::dataplane::xds::{Action, RouteOrigin};
use crate::exec::Exec;
use crate::k8s::{Pod, PodId, PodPhase, Service};
use crate::world::World;

/// LoadBalancer Services' ingress IPs by (namespace, name), as the
/// cluster's API shows them (empty outside `meshsim up`).
pub type LbIps = BTreeMap<(String, String), String>;

const SEPARATOR: &str = "--------------------\n";
const REQUIREMENTS: &str = "https://istio.io/v1.27/docs/ops/deployment/requirements/";

/// The flags and the one argument of `describe pod|service`.
struct Args {
    target: String,
    namespace: String,
    ignore_unmeshed: bool,
}

/// The arguments, or an error and its exit code (64 for cobra's flag
/// errors, 1 for the command's own).
fn parse(args: &[String], what: &str) -> Result<Args, (String, i32)> {
    let mut target = None;
    let mut namespace = None;
    let mut ignore_unmeshed = false;
    let mut it = args.iter();
    let expecting = || (format!("Error: expecting {what} name"), 1);
    while let Some(a) = it.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((k, v)) if k.starts_with('-') => (k, Some(v.to_string())),
            _ => (a.as_str(), None),
        };
        match flag {
            "-n" | "--namespace" => {
                namespace = Some(
                    inline
                        .or_else(|| it.next().cloned())
                        .ok_or((format!("Error: flag needs an argument: {flag}"), 64))?,
                );
            }
            "--ignoreUnmeshed" => ignore_unmeshed = true,
            s if s.starts_with('-') => return Err((format!("Error: unknown flag: {s}"), 64)),
            s if target.is_none() => target = Some(s.to_string()),
            _ => return Err(expecting()),
        }
    }
    Ok(Args {
        target: target.ok_or_else(expecting)?,
        namespace: namespace.unwrap_or_else(|| "default".to_string()),
        ignore_unmeshed,
    })
}

/// `name[.namespace]` as istioctl's `InferPodInfo` splits it.
fn split_target(target: &str, namespace: &str) -> (String, String) {
    match target.rsplit_once('.') {
        Some((name, ns)) => (name.to_string(), ns.to_string()),
        None => (target.to_string(), namespace.to_string()),
    }
}

/// What the output is written against: the namespace names are printed
/// relative to (`kname`).
struct Out<'a> {
    text: String,
    namespace: &'a str,
}

impl Out<'_> {
    fn kname(&self, name: &str, ns: &str) -> String {
        if ns == self.namespace {
            name.to_string()
        } else {
            format!("{name}.{ns}")
        }
    }

    fn line(&mut self, indent: usize, s: &str) {
        self.text.push_str(&" ".repeat(indent));
        self.text.push_str(s);
        self.text.push('\n');
    }
}

/// `istioctl x describe ARGS`: its subcommands are `pod` and `service`;
/// any other word is refused by its argument check, without usage (so the
/// course's `describe namespace bookinfo` is an error on Istio 1.27 too,
/// shown beside its current equivalent on an ambient install).
pub fn run(world: &mut World, args: &[String], lb_ips: &LbIps) -> Exec {
    match args.first().map(String::as_str) {
        Some("pod" | "po") => pod(world, &args[1..], lb_ips),
        Some("service" | "svc") => service(world, &args[1..], lb_ips),
        Some("namespace" | "ns") if world.ztunnel_installed() => {
            namespace(world, args.get(1).map_or("default", String::as_str))
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
fn namespace(world: &World, ns: &str) -> Exec {
    let args: Vec<String> = ["workloads", "--workload-namespace", ns]
        .iter()
        .map(|s| s.to_string())
        .collect();
    let shown = super::ztunnel_config::run(world, &args);
    let mut stderr = format!(
        "meshsim: Istio {}'s `istioctl x describe` has no `namespace`; the ambient enrolment of {ns} is what `istioctl ztunnel-config workloads --workload-namespace {ns}` shows (above, PROTOCOL HBONE: in the mesh)\n",
        crate::control::install::ISTIO_VERSION
    )
    .into_bytes();
    stderr.extend_from_slice(b"Error: unknown resource type \"namespace\"\n");
    Exec {
        stdout: shown.stdout,
        stderr,
        code: 1,
    }
}

/// `istioctl x describe pod NAME[.NS]`.
fn pod(world: &mut World, args: &[String], lb_ips: &LbIps) -> Exec {
    let a = match parse(args, "pod") {
        Ok(a) => a,
        Err(e) => return Exec::fail(e.0, e.1),
    };
    let (name, ns) = split_target(&a.target, &a.namespace);
    let Some(id) = world
        .cluster
        .live_pods()
        .find(|p| p.name == name && p.namespace == ns)
        .map(|p| p.id)
    else {
        return Exec::fail(format!("Error: pods \"{name}\" not found"), 1);
    };
    let mut out = Out {
        text: String::new(),
        namespace: &a.namespace,
    };
    let p = world.cluster.pod(id).clone();
    let meshed = p.sidecar;
    print_pod(&mut out, &p, a.ignore_unmeshed);
    let services = selecting(world, &p);
    if services.is_empty() && !a.ignore_unmeshed {
        let k = out.kname(&p.name, &p.namespace);
        out.line(
            0,
            &format!(
                "Warning: No Kubernetes Services select pod {k} (see https://istio.io/docs/setup/kubernetes/additional-setup/requirements/ )"
            ),
        );
    }
    out.text.push_str(SEPARATOR);
    if !meshed {
        if a.ignore_unmeshed {
            return peer_and_ingress(world, &mut out, &p, &services, lb_ips);
        }
        let port = 30000 + crate::k8s::names::fnv64(p.name.as_bytes()) % 30000;
        let mut stderr = format!(
            "Error: failed to execute command on sidecar: failure running port forward process: Get \"http://localhost:{port}/config_dump\": EOF\n"
        );
        if world.in_ambient(id) {
            stderr.push_str(&format!(
                "meshsim: {} is in the ambient mesh: ztunnel carries its traffic, and describe reads only sidecars (see `istioctl ztunnel-config workloads`)\n",
                p.name
            ));
        }
        return Exec {
            stdout: out.text.into_bytes(),
            stderr: stderr.into_bytes(),
            code: 1,
        };
    }
    let labels = [p.labels.clone()];
    for (row, svc) in services.iter().enumerate() {
        if row != 0 {
            out.text.push_str(SEPARATOR);
        }
        describe_service(world, &mut out, id, &p, svc, &labels);
    }
    peer_and_ingress(world, &mut out, &p, &services, lb_ips)
}

/// The tail of `describe pod`: the effective PeerAuthentication, then the
/// ingress gateways.
fn peer_and_ingress(
    world: &mut World,
    out: &mut Out<'_>,
    p: &Pod,
    services: &[Service],
    lb_ips: &LbIps,
) -> Exec {
    out.text.push_str(SEPARATOR);
    peer_authentication(world, out, p);
    ingress(
        world,
        out,
        services,
        std::slice::from_ref(&p.labels),
        lb_ips,
    );
    Exec {
        stdout: std::mem::take(&mut out.text).into_bytes(),
        ..Exec::default()
    }
}

/// `istioctl x describe service NAME[.NS]`.
fn service(world: &mut World, args: &[String], lb_ips: &LbIps) -> Exec {
    let a = match parse(args, "service") {
        Ok(a) => a,
        Err(e) => return Exec::fail(e.0, e.1),
    };
    let (name, ns) = split_target(&a.target, &a.namespace);
    let Some(svc) = world
        .cluster
        .find_service(&ns, &name)
        .map(|s| world.cluster.service(s).clone())
    else {
        return Exec::fail(format!("Error: services \"{name}\" not found"), 1);
    };
    let mut out = Out {
        text: String::new(),
        namespace: &a.namespace,
    };
    let pods: Vec<Pod> = world
        .cluster
        .live_pods()
        .filter(|p| svc.selects(p))
        .cloned()
        .collect();
    let k = out.kname(&svc.name, &svc.namespace);
    if pods.is_empty() {
        out.line(0, &format!("Service \"{k}\" has no pods."));
        return Exec {
            stdout: out.text.into_bytes(),
            ..Exec::default()
        };
    }
    let mut usable = Vec::new();
    for p in &pods {
        let pk = out.kname(&p.name, &p.namespace);
        if p.phase != PodPhase::Running {
            out.line(3, &format!("Pod is not Running ({})", phase(p)));
            continue;
        }
        if !p.sidecar {
            out.line(0, &format!("Pod {pk}: no container \"istio-proxy\" in pod"));
            continue;
        }
        if !p.ready {
            out.line(
                0,
                &format!("WARNING: Pod {pk} Container istio-proxy NOT READY"),
            );
        }
        usable.push(p);
    }
    let Some(first) = usable.first() else {
        out.line(
            0,
            &format!(
                "Service \"{k}\" has no Istio pods.  ({} pods in service).",
                pods.len()
            ),
        );
        out.line(
            0,
            "Use `istioctl kube-inject` or redeploy with Istio automatic sidecar injection.",
        );
        return Exec {
            stdout: out.text.into_bytes(),
            ..Exec::default()
        };
    };
    let labels: Vec<BTreeMap<String, String>> = usable.iter().map(|p| p.labels.clone()).collect();
    let (id, p) = (first.id, (*first).clone());
    describe_service(world, &mut out, id, &p, &svc, &labels);
    ingress(world, &mut out, std::slice::from_ref(&svc), &labels, lb_ips);
    Exec {
        stdout: out.text.into_bytes(),
        ..Exec::default()
    }
}

fn phase(p: &Pod) -> &'static str {
    match p.phase {
        PodPhase::Pending => "Pending",
        PodPhase::Running | PodPhase::Terminating => "Running",
        PodPhase::Deleted => "Succeeded",
    }
}

/// `printPod`.
fn print_pod(out: &mut Out<'_>, p: &Pod, ignore_unmeshed: bool) {
    let mut ports: Vec<String> = Vec::new();
    for c in &p.template.spec.containers {
        for port in &c.ports {
            let proto = match port.protocol.as_deref() {
                None | Some("TCP") => String::new(),
                Some(other) => format!("/{other}"),
            };
            ports.push(format!("{}{proto} ({})", port.container_port, c.name));
        }
    }
    if p.sidecar {
        ports.push("15090 (istio-proxy)".to_string());
    }
    let k = out.kname(&p.name, &p.namespace);
    out.line(0, &format!("Pod: {k}"));
    // `GetRevisionFromPodAnnotation`: the injector's `istio.io/rev`.
    let revision = p
        .annotations
        .get(crate::k8s::cluster::REVISION)
        .map_or("", String::as_str);
    out.line(3, &format!("Pod Revision: {revision}"));
    if ports.is_empty() {
        out.line(3, "Pod does not expose ports");
    } else {
        out.line(3, &format!("Pod Ports: {}", ports.join(", ")));
    }
    if p.phase != PodPhase::Running {
        out.line(3, &format!("Pod is not Running ({})", phase(p)));
        return;
    }
    if !p.ready {
        let first = p
            .template
            .spec
            .containers
            .first()
            .map_or("", |c| c.name.as_str());
        out.line(0, &format!("WARNING: Pod {k} Container {first} NOT READY"));
    }
    if ignore_unmeshed {
        return;
    }
    if !p.sidecar {
        out.line(
            0,
            &format!("WARNING: {k} is not part of mesh; no Istio sidecar"),
        );
        return;
    }
    let has = |keys: &[&str]| keys.iter().any(|k| p.labels.contains_key(*k));
    if !has(&[
        "service.istio.io/canonical-name",
        "app.kubernetes.io/name",
        "app",
    ]) {
        out.line(0, &format!("Suggestion: add required service name label for Istio telemetry. See {REQUIREMENTS}."));
    }
    if !has(&[
        "service.istio.io/canonical-revision",
        "app.kubernetes.io/version",
        "version",
    ]) {
        out.line(0, &format!("Suggestion: add required service revision label for Istio telemetry. See {REQUIREMENTS}."));
    }
}

/// The Services of the pod's namespace whose selector picks it, by name.
fn selecting(world: &World, p: &Pod) -> Vec<Service> {
    let mut v: Vec<Service> = world
        .cluster
        .services
        .iter()
        .filter(|s| !s.deleted && s.selects(p))
        .cloned()
        .collect();
    v.sort_by(|a, b| a.name.cmp(&b.name));
    v
}

/// `printService` and, per port, the DestinationRule, VirtualService and
/// RBAC policies the proxy of `id` has for it (`describePodServices`).
fn describe_service(
    world: &mut World,
    out: &mut Out<'_>,
    id: PodId,
    p: &Pod,
    svc: &Service,
    pods_labels: &[BTreeMap<String, String>],
) {
    out.line(
        0,
        &format!("Service: {}", out.kname(&svc.name, &svc.namespace)),
    );
    for port in svc.ports.iter().filter(|port| port.protocol == "TCP") {
        match p.resolve_port(&port.target_port) {
            Some(n) => out.line(
                3,
                &format!(
                    "Port: {} {}/{} targets pod port {n}",
                    port.name,
                    port.port,
                    protocol_of(port)
                ),
            ),
            None => out.line(
                3,
                &format!("no matching port found for {:?}", port.target_port),
            ),
        }
    }
    let cfg = world.proxy_config(id);
    let fqdn = svc.fqdn();
    let multi = svc.ports.len() > 1;
    let base = if multi { 3 } else { 0 };
    for port in &svc.ports {
        if multi {
            out.line(0, &format!("{}:", port.port));
        }
        let dr_key = cfg
            .clusters
            .iter()
            .filter(|c| c.port == port.port && c.name.ends_with(&format!("|{fqdn}")))
            .find_map(|c| c.destination_rule.clone());
        let mut dr: Option<(String, String, DestinationRule)> = None;
        if let Some(key) = dr_key {
            let (ns, name) = key.split_once('/').unwrap_or(("", &key));
            match world.mesh.store.get("DestinationRule", ns, name).map(|o| &o.body) {
                Some(Body::DestinationRule(d)) => {
                    print_destination_rule(out, base, name, ns, d, pods_labels);
                    dr = Some((ns.to_string(), name.to_string(), d.clone()));
                }
                _ => out.line(
                    0,
                    &format!("WARNING: Proxy is stale; it references to non-existent destination rule {name}.{ns}"),
                ),
            }
        }
        let vs_key = cfg.routes.values().find_map(|rc| {
            rc.vhosts.iter().find_map(|vh| {
                let for_svc = vh.domains.contains(&fqdn);
                vh.routes
                    .iter()
                    .find(|r| for_svc || routes_to(&r.action, port.port, &fqdn))
                    .and_then(|r| match &r.origin {
                        RouteOrigin::VirtualService { name, .. } => Some(name.clone()),
                        _ => None,
                    })
            })
        });
        if let Some(key) = vs_key {
            let (ns, name) = key.split_once('/').unwrap_or(("", &key));
            if let Some(Body::VirtualService(vs)) = world
                .mesh
                .store
                .get("VirtualService", ns, name)
                .map(|o| &o.body)
            {
                print_virtual_service(out, base, (ns, name), vs, svc, dr.as_ref(), pods_labels);
            }
        }
        let policies = rbac_policies(world, p);
        if !policies.is_empty() {
            let prefix = if multi {
                format!("{} ", port.port)
            } else {
                String::new()
            };
            out.line(
                0,
                &format!("{prefix}RBAC policies: {}", policies.join(", ")),
            );
        }
    }
}

/// Whether a route's first cluster is `outbound|PORT|…|fqdn` (how istioctl
/// recognises a gateway's route to the Service).
fn routes_to(action: &Action, port: u16, fqdn: &str) -> bool {
    match action {
        Action::Forward(clusters) => clusters.first().is_some_and(|c| {
            let name = &c.cluster.name;
            name.starts_with(&format!("outbound|{port}|")) && name.ends_with(&format!("|{fqdn}"))
        }),
        _ => false,
    }
}

/// `findProtocolForPort`: `auto-detect` for an unnamed port, else Istio's
/// protocol of the name or appProtocol.
fn protocol_of(port: &crate::k8s::cluster::ServicePort) -> String {
    use crate::config::networking::gateway::Protocol;
    if port.name.is_empty() && port.app_protocol.is_none() {
        return "auto-detect".to_string();
    }
    let p = crate::control::registry::port_protocol(&port.name, port.app_protocol.as_deref());
    match p {
        Protocol::Http => "HTTP",
        Protocol::Http2 => "HTTP2",
        Protocol::Https => "HTTPS",
        Protocol::Grpc => "GRPC",
        Protocol::GrpcWeb => "GRPC-Web",
        Protocol::HttpProxy => "HTTP_PROXY",
        Protocol::Tcp => "TCP",
        Protocol::Tls => "TLS",
        Protocol::Udp => "UDP",
        Protocol::Mongo => "Mongo",
        Protocol::Redis => "Redis",
        Protocol::MySql => "MySQL",
        Protocol::Unsupported if port.app_protocol.as_deref() == Some("hbone") => "HBONE",
        Protocol::Unsupported => "UnsupportedProtocol",
    }
    .to_string()
}

/// Subsets whose labels some pod carries, and the others, in order.
fn subsets_split(
    dr: &DestinationRule,
    pods: &[BTreeMap<String, String>],
) -> (Vec<String>, Vec<String>) {
    let (mut yes, mut no) = (Vec::new(), Vec::new());
    for s in &dr.subsets {
        let matches = pods
            .iter()
            .any(|l| s.labels.iter().all(|(k, v)| l.get(k) == Some(v)));
        if matches { &mut yes } else { &mut no }.push(s.name.clone().unwrap_or_default());
    }
    (yes, no)
}

/// `printDestinationRule`.
fn print_destination_rule(
    out: &mut Out<'_>,
    base: usize,
    name: &str,
    ns: &str,
    dr: &DestinationRule,
    pods: &[BTreeMap<String, String>],
) {
    let k = out.kname(name, ns);
    out.line(
        base,
        &format!(
            "DestinationRule: {k} for {:?}",
            dr.host.as_deref().unwrap_or("")
        ),
    );
    let (yes, no) = subsets_split(dr, pods);
    if !yes.is_empty() || !no.is_empty() {
        if yes.is_empty() {
            out.line(
                base + 3,
                &format!(
                    "WARNING POD DOES NOT MATCH ANY SUBSETS.  (Non matching subsets {})",
                    no.join(",")
                ),
            );
        }
        out.line(base + 3, &format!("Matching subsets: {}", yes.join(",")));
        if !no.is_empty() {
            out.line(
                base + 6,
                &format!("(Non-matching subsets {})", no.join(",")),
            );
        }
    }
    let Some(tp) = &dr.traffic_policy else {
        out.line(base + 3, "No Traffic Policy");
        return;
    };
    if let Some(tls) = &tp.tls {
        out.line(
            base + 3,
            &format!("Traffic Policy TLS Mode: {}", tls.mode.as_str()),
        );
    }
    let short = |lb: bool, pool: bool, outlier: bool| {
        let v: Vec<&str> = [
            (lb, "load balancer"),
            (pool, "connection pool"),
            (outlier, "outlier detection"),
        ]
        .iter()
        .filter(|(on, _)| *on)
        .map(|(_, s)| *s)
        .collect();
        (!v.is_empty()).then(|| format!("Policies: {}", v.join("/")))
    };
    if let Some(s) = short(
        tp.load_balancer.is_some(),
        tp.connection_pool.is_some(),
        tp.outlier_detection.is_some(),
    ) {
        out.line(base + 3, &s);
    }
    if !tp.port_level_settings.is_empty() {
        out.line(base + 3, "Port Level Settings:");
        for ps in &tp.port_level_settings {
            let number = ps.port.as_ref().map_or(0, |p| p.number);
            out.line(4, &format!("{number}:"));
            if let Some(tls) = &ps.tls {
                out.line(base + 6, &format!("TLS Mode: {}", tls.mode.as_str()));
            }
            if let Some(s) = short(
                ps.load_balancer.is_some(),
                ps.connection_pool.is_some(),
                ps.outlier_detection.is_some(),
            ) {
                out.line(base + 6, &s);
            }
        }
    }
}

/// `renderStringMatch`.
fn render_string_match(m: &StringMatch) -> String {
    if let Some(e) = &m.exact {
        e.clone()
    } else if let Some(p) = &m.prefix {
        format!("{p}*")
    } else {
        // The proto's text form.
        format!("regex:{:?}", m.regex.as_deref().unwrap_or(""))
    }
}

/// `renderMatch`.
fn render_match(m: &HttpMatchRequest) -> String {
    let mut s = "Match: ".to_string();
    if let Some(uri) = &m.uri {
        s.push_str(&render_string_match(uri));
        if m.ignore_uri_case {
            s.push_str(" uncased");
        }
    }
    if !m.headers.is_empty() {
        let conds: Vec<String> = m
            .headers
            .iter()
            .map(|(k, v)| format!("{k}={}", render_string_match(v)))
            .collect();
        s.push_str(" when headers are ");
        s.push_str(&conds.join("; "));
    }
    s.trim().to_string()
}

fn render_matches(ms: &[HttpMatchRequest]) -> String {
    if ms.is_empty() {
        "everything".to_string()
    } else {
        ms.iter().map(render_match).collect::<Vec<_>>().join(", ")
    }
}

/// `httpRouteMatchSvc`: whether the route sends to the pod's subsets, and
/// what to say about it.
fn http_route_facts(
    out: &Out<'_>,
    vs_ns: &str,
    route: &HttpRoute,
    svc: &Service,
    split: &(Vec<String>, Vec<String>),
    dr: Option<&(String, String, DestinationRule)>,
) -> (bool, Vec<String>) {
    let svc_host = svc.fqdn();
    let (mut facts, mut notes, mut matched) = (Vec::new(), Vec::new(), false);
    for d in &route.route {
        let Some(dest) = &d.destination else { continue };
        let host = dest.host();
        if resolve_short_name(host, vs_ns) == svc_host {
            if !dest.subset.is_empty() {
                if split.1.contains(&dest.subset) {
                    notes.push(format!(
                        "Route to non-matching subset {} for ({})",
                        dest.subset,
                        render_matches(&route.r#match)
                    ));
                    continue;
                }
                if !split.0.contains(&dest.subset) {
                    notes.push(match dr {
                        None => format!(
                            "Warning: Route to subset {} but NO DESTINATION RULE defining subsets!",
                            dest.subset
                        ),
                        Some((ns, name, _)) => format!(
                            "Warning: Route to UNKNOWN subset {}; check DestinationRule {}",
                            dest.subset,
                            out.kname(name, ns)
                        ),
                    });
                    continue;
                }
            }
            matched = true;
            if d.weight > 0 {
                let mut fact = format!("Route to host \"{host}\"");
                if !dest.subset.is_empty() {
                    fact.push_str(&format!(" subset \"{}\"", dest.subset));
                }
                fact.push_str(&format!(" with weight {}%", d.weight));
                facts.push(fact);
            }
        } else if dest.subset.is_empty() {
            facts.push(format!(
                "Route to host \"{host}\" with weight {}%",
                d.weight
            ));
        } else {
            facts.push(format!("Route to {host} with invalid config"));
        }
    }
    if matched {
        let mut req = Vec::new();
        if route.fault.is_some() {
            req.push("Fault injection".to_string());
        }
        req.extend(route.r#match.iter().map(render_match));
        if !req.is_empty() {
            facts.push(req.join(", "));
        }
    }
    if !matched {
        facts.extend(notes);
    }
    (matched, facts)
}

/// `printVirtualService`.
fn print_virtual_service(
    out: &mut Out<'_>,
    base: usize,
    (ns, name): (&str, &str),
    vs: &VirtualService,
    svc: &Service,
    dr: Option<&(String, String, DestinationRule)>,
    pods: &[BTreeMap<String, String>],
) {
    let k = out.kname(name, ns);
    out.line(base, &format!("VirtualService: {k}"));
    let split = dr
        .map(|(_, _, d)| subsets_split(d, pods))
        .unwrap_or_default();
    let (mut matches, mut facts, mut mismatch) = (0, 0, Vec::new());
    for route in &vs.http {
        let (m, new) = http_route_facts(out, ns, route, svc, &split, dr);
        if m {
            matches += 1;
            for f in new {
                out.line(base + 3, &f);
                facts += 1;
            }
        } else {
            mismatch.extend(new);
        }
    }
    let svc_host = svc.fqdn();
    for route in &vs.tcp {
        let m = route.route.iter().any(|d| {
            d.destination
                .as_ref()
                .is_some_and(|dest| resolve_short_name(dest.host(), ns) == svc_host)
        });
        if m {
            matches += 1;
        }
    }
    if matches == 0 {
        if !vs.http.is_empty() {
            out.line(
                base + 3,
                &format!(
                    "WARNING: No destinations match pod subsets (checked {} HTTP routes)",
                    vs.http.len()
                ),
            );
        }
        if !vs.tcp.is_empty() {
            out.line(
                base + 3,
                &format!(
                    "WARNING: No destinations match pod subsets (checked {} TCP routes)",
                    vs.tcp.len()
                ),
            );
        }
        for m in &mismatch {
            out.line(base + 6, m);
        }
        return;
    }
    let possible = vs.http.len() + vs.tls.len() + vs.tcp.len();
    if matches < possible {
        out.line(
            base + 3,
            &format!(
                "{} additional destination(s) that will not reach this pod",
                possible - matches
            ),
        );
        if facts == 0 {
            for m in &mismatch {
                out.line(base + 6, m);
            }
        }
        return;
    }
    if facts == 0 {
        if !vs.http.is_empty() {
            out.line(base + 3, &format!("{} HTTP route(s)", vs.http.len()));
        }
        if !vs.tcp.is_empty() {
            out.line(base + 3, &format!("{} TCP route(s)", vs.tcp.len()));
        }
    }
}

/// The names of the RBAC policies on the pod's inbound listener, as
/// istiod names them (`ns[NS]-policy[NAME]-rule[I]`). istioctl prints them
/// in Go's map order; meshsim sorts them.
fn rbac_policies(world: &World, p: &Pod) -> Vec<String> {
    let mut names: Vec<String> =
        crate::control::security::authorization_for(&world.mesh.store, &p.namespace, &p.labels)
            .into_iter()
            .flat_map(|(key, policy)| {
                let (ns, name) = key
                    .split_once('/')
                    .map(|(a, b)| (a.to_string(), b.to_string()))
                    .unwrap_or_default();
                (0..policy.rules.len().max(1))
                    .map(move |i| format!("ns[{ns}]-policy[{name}]-rule[{i}]"))
                    .collect::<Vec<_>>()
            })
            .collect();
    names.sort();
    names
}

/// `describePeerAuthentication`: the workload's mode and the policies
/// that apply, the root namespace's first.
fn peer_authentication(world: &World, out: &mut Out<'_>, p: &Pod) {
    use crate::config::security::MtlsMode;
    let store = &world.mesh.store;
    let applied: Vec<(String, String)> = [ROOT_NAMESPACE, p.namespace.as_str()]
        .iter()
        .enumerate()
        .filter(|(i, ns)| *i == 0 || **ns != ROOT_NAMESPACE)
        .flat_map(|(_, ns)| {
            store
                .of_kind("PeerAuthentication")
                .into_iter()
                .filter(move |o| o.namespace() == *ns)
        })
        .filter(|o| match &o.body {
            Body::PeerAuthentication(pa) => pa.selector.as_ref().is_none_or(|s| {
                s.match_labels
                    .iter()
                    .all(|(k, v)| p.labels.get(k) == Some(v))
            }),
            _ => false,
        })
        .map(|o| (o.name().to_string(), o.namespace().to_string()))
        .collect();
    let mode = crate::control::security::mtls_mode(store, &p.namespace, &p.labels, 0);
    let mode = match mode {
        MtlsMode::Strict => "STRICT",
        MtlsMode::Disable => "DISABLE",
        _ => "PERMISSIVE",
    };
    out.line(0, "Effective PeerAuthentication:");
    out.line(3, &format!("Workload mTLS mode: {mode}"));
    if !applied.is_empty() {
        out.line(0, "Applied PeerAuthentication:");
        let names: Vec<String> = applied.iter().map(|(n, ns)| format!("{n}.{ns}")).collect();
        out.line(3, &names.join(", "));
    }
}

/// `printIngressInfo`: for each running `istio=ingressgateway` pod, the
/// VirtualServices bound to its Gateways that route to the Services.
fn ingress(
    world: &mut World,
    out: &mut Out<'_>,
    services: &[Service],
    pods: &[BTreeMap<String, String>],
    lb_ips: &LbIps,
) {
    let gateways: Vec<Pod> = world
        .cluster
        .live_pods()
        .filter(|p| {
            p.phase == PodPhase::Running
                && p.labels.get("istio").is_some_and(|v| v == "ingressgateway")
        })
        .cloned()
        .collect();
    if gateways.is_empty() {
        out.line(0, "Skipping Gateway information (no ingress gateway pods)");
        return;
    }
    let Some(gw_svc) = world
        .cluster
        .services
        .iter()
        .find(|s| !s.deleted && gateways.iter().any(|g| s.selects(g)))
        .cloned()
    else {
        out.line(
            0,
            "Skipping Gateway information (no ingress gateway service)",
        );
        return;
    };
    let gw = &gateways[0];
    let cfg = world.proxy_config(gw.id);
    let ip = lb_ips
        .get(&(gw_svc.namespace.clone(), gw_svc.name.clone()))
        .cloned()
        .unwrap_or_else(|| gw.node.ip().to_string());
    let http_port = gw_svc
        .ports
        .iter()
        .find(|p| p.name == "http" || p.name == "http2")
        .map(|p| p.port);
    for svc in services {
        let fqdn = svc.fqdn();
        for port in &svc.ports {
            let vs_key = cfg.routes.values().find_map(|rc| {
                rc.vhosts.iter().find_map(|vh| {
                    vh.routes
                        .iter()
                        .find(|r| routes_to(&r.action, port.port, &fqdn))
                        .and_then(|r| match &r.origin {
                            RouteOrigin::VirtualService { name, .. } => Some(name.clone()),
                            _ => None,
                        })
                })
            });
            let Some(key) = vs_key else { continue };
            let (ns, name) = key.split_once('/').unwrap_or(("", &key));
            let Some(Body::VirtualService(vs)) = world
                .mesh
                .store
                .get("VirtualService", ns, name)
                .map(|o| o.body.clone())
            else {
                continue;
            };
            out.text.push_str(SEPARATOR);
            if let Some(p) = http_port {
                let suffix = if p == 80 {
                    String::new()
                } else {
                    format!(":{p}")
                };
                out.line(
                    0,
                    &format!("Exposed on Ingress Gateway http://{ip}{suffix}"),
                );
            }
            print_virtual_service(out, 0, (ns, name), &vs, svc, None, pods);
        }
    }
}
