//! The VirtualService analyzers of Istio 1.27
//! (`pkg/config/analysis/analyzers/virtualservice/`): destination hosts,
//! subsets, gateways, and hosts shared on the mesh gateway.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::Object;
use crate::config::networking::VirtualService;
use crate::config::networking::virtual_service::Destination;

use super::message::{self as msg, Message};
use super::snapshot::{
    Snapshot, Target, destination_host, full_name, host_matches, origin, resource_name_from_host,
    scoped_fqdn, short_or_full_name,
};

pub fn run(s: &Snapshot, out: &mut Vec<Message>) {
    destination_hosts(s, out);
    destination_rule_subsets(s, out);
    gateways(s, out);
    conflicting_mesh_gateway_hosts(s, out);
}

/// `getRouteDestinations`: TCP, then TLS, then HTTP route destinations.
fn route_destinations(vs: &VirtualService) -> Vec<&Destination> {
    let tcp = vs.tcp.iter().flat_map(|r| &r.route);
    let tls = vs.tls.iter().flat_map(|r| &r.route);
    let l4 = tcp.chain(tls).filter_map(|d| d.destination.as_ref());
    let http = vs
        .http
        .iter()
        .flat_map(|r| &r.route)
        .filter_map(|d| d.destination.as_ref());
    l4.chain(http).collect()
}

/// `getHTTPMirrorDestinations`: each rule's `mirror`, then its `mirrors`.
fn mirror_destinations(vs: &VirtualService) -> Vec<&Destination> {
    vs.http
        .iter()
        .flat_map(|r| {
            let mirrors = r.mirrors.iter().filter_map(|m| m.destination.as_ref());
            r.mirror.iter().chain(mirrors)
        })
        .collect()
}

/// `DestinationHostAnalyzer`: every destination must name a Service or
/// ServiceEntry visible from the VirtualService's namespace (IST0101
/// host / mirror host), with a port it has (IST0101 host:port, IST0112);
/// and IST0140 for gateway-bound routes without a subset to a host
/// another VirtualService splits by subset.
fn destination_hosts(s: &Snapshot, out: &mut Vec<Message>) {
    let hosts = super::snapshot::host_map(s);
    let subset_routes = subset_destinations(s);
    for (obj, vs) in s.virtual_services() {
        let o = origin(obj);
        let checks = [
            ("host", route_destinations(vs)),
            ("mirror host", mirror_destinations(vs)),
        ];
        for (reftype, dests) in checks {
            for d in dests {
                match destination_host(&hosts, obj.namespace(), &vs.export_to, d.host()) {
                    None => out.push(msg::referenced_resource_not_found(&o, reftype, d.host())),
                    Some(t) => check_ports(&o, d, t, out),
                }
            }
        }
        if !vs.gateways.is_empty() {
            ingress_subsets(obj, vs, &subset_routes, out);
        }
    }
}

/// `checkServiceEntryPorts`.
fn check_ports(o: &msg::Origin, d: &Destination, t: &Target, out: &mut Vec<Message>) {
    match &d.port {
        None if t.ports.len() > 1 => {
            out.push(msg::destination_port_selector_required(
                o,
                d.host(),
                &t.ports,
            ));
        }
        None => {}
        Some(p) if !t.ports.contains(&p.number) => {
            let hp = format!("{}:{}", d.host(), p.number);
            out.push(msg::referenced_resource_not_found(o, "host:port", &hp));
        }
        Some(_) => {}
    }
}

/// `initVirtualServiceDestinations`: per VirtualService, its HTTP
/// destinations that pick a subset of one of its own hosts.
fn subset_destinations<'w>(s: &Snapshot<'w>) -> BTreeMap<String, Vec<&'w Destination>> {
    let mut map: BTreeMap<String, Vec<&Destination>> = BTreeMap::new();
    for (obj, vs) in s.virtual_services() {
        let dests = vs.http.iter().flat_map(|r| &r.route);
        for d in dests.filter_map(|d| d.destination.as_ref()) {
            if d.subset.is_empty() {
                continue;
            }
            if vs.hosts.iter().any(|h| h == d.host()) {
                map.entry(full_name(obj)).or_default().push(d);
            }
        }
    }
    map
}

/// `analyzeSubset`: a gateway's route without a subset to a host that
/// another VirtualService routes by subset: the subset rules do not apply
/// to requests through the gateway (IST0140).
fn ingress_subsets(
    obj: &Object,
    vs: &VirtualService,
    subset_routes: &BTreeMap<String, Vec<&Destination>>,
    out: &mut Vec<Message>,
) {
    let o = origin(obj);
    let routes = vs.http.iter().flat_map(|r| &r.route);
    for d in routes.filter_map(|d| d.destination.as_ref()) {
        if !d.subset.is_empty() {
            continue;
        }
        for (other, dests) in subset_routes {
            if dests.iter().any(|x| x.host() == d.host()) {
                out.push(msg::ingress_route_rules_not_affected(
                    &o,
                    other,
                    &full_name(obj),
                ));
            }
        }
    }
}

/// `virtualservice.DestinationRuleAnalyzer`: a destination's subset must
/// be defined by a DestinationRule for that host (IST0101 host+subset in
/// destinationrule / mirror+subset in destinationrule). Hosts are compared
/// as names: `reviews` and `reviews.default.svc.cluster.local` agree.
fn destination_rule_subsets(s: &Snapshot, out: &mut Vec<Message>) {
    let mut defined = BTreeSet::new();
    for (obj, dr) in s.destination_rules() {
        let host = dr.host.as_deref().unwrap_or("");
        let name = resource_name_from_host(obj.namespace(), host);
        for subset in &dr.subsets {
            defined.insert((name.clone(), subset.name().to_string()));
        }
    }
    for (obj, vs) in s.virtual_services() {
        let o = origin(obj);
        let checks = [
            ("host+subset in destinationrule", route_destinations(vs)),
            ("mirror+subset in destinationrule", mirror_destinations(vs)),
        ];
        for (reftype, dests) in checks {
            for d in dests.into_iter().filter(|d| !d.subset.is_empty()) {
                let name = resource_name_from_host(obj.namespace(), d.host());
                if !defined.contains(&(name, d.subset.clone())) {
                    let hs = format!("{}+{}", d.host(), d.subset);
                    out.push(msg::referenced_resource_not_found(&o, reftype, &hs));
                }
            }
        }
    }
}

/// `virtualservice.GatewayAnalyzer`: each named gateway must exist
/// (IST0101 gateway) and serve one of the VirtualService's hosts (IST0132);
/// Gateway API's generated gateways are not to be named (IST0165).
fn gateways(s: &Snapshot, out: &mut Vec<Message>) {
    let gateways = s.gateways();
    for (obj, vs) in s.virtual_services() {
        let o = origin(obj);
        for gw in vs.gateways.iter().filter(|g| *g != "mesh") {
            let bare = gw.split_once('/').map_or(gw.as_str(), |(_, n)| n);
            if bare.contains("-istio-autogenerated-k8s-gateway-") {
                out.push(msg::referenced_internal_gateway(&o, &full_name(obj), gw));
                continue;
            }
            let (ns, name) = short_or_full_name(obj.namespace(), gw);
            let found = gateways
                .iter()
                .find(|(g, _)| g.namespace() == ns && g.name() == name);
            if found.is_none() {
                out.push(msg::referenced_resource_not_found(&o, "gateway", gw));
            }
            let gateway_hosts = found.map(|(g, spec)| served_hosts(g.namespace(), spec));
            if !vs_host_in_gateway(gateway_hosts.unwrap_or_default(), vs, obj.namespace()) {
                let gw_full = format!("{ns}/{name}");
                out.push(msg::host_not_found_in_gateway(
                    &o,
                    &vs.hosts,
                    &full_name(obj),
                    &gw_full,
                ));
            }
        }
    }
}

/// The servers' hosts after `sanitizeServerHostNamespace`: `./h` is the
/// gateway's namespace, `*/h` any namespace, and `*/*` makes the whole
/// server `*`.
fn served_hosts(gw_ns: &str, gw: &crate::config::networking::Gateway) -> Vec<String> {
    let mut hosts = Vec::new();
    for server in &gw.servers {
        let mut sanitized = Vec::new();
        for h in &server.hosts {
            match h.split_once('/') {
                Some(("*", "*")) => {
                    sanitized = vec!["*".to_string()];
                    break;
                }
                Some((".", rest)) => sanitized.push(format!("{gw_ns}/{rest}")),
                Some(("*", rest)) => sanitized.push(rest.to_string()),
                _ => sanitized.push(h.clone()),
            }
        }
        hosts.extend(sanitized);
    }
    hosts
}

/// `vsHostInGateway`: hosts for another namespace do not count.
fn vs_host_in_gateway(gateway_hosts: Vec<String>, vs: &VirtualService, vs_ns: &str) -> bool {
    gateway_hosts
        .iter()
        .filter_map(|h| match h.split_once('/') {
            Some((ns, name)) if ns == vs_ns || ns == "*" => Some(name),
            Some(_) => None,
            None => Some(h.as_str()),
        })
        .any(|gh| vs.hosts.iter().any(|vh| host_matches(gh, vh)))
}

/// `ConflictingMeshGatewayHostsAnalyzer`: two VirtualServices for the
/// sidecars (no gateways, or `mesh`) with the same host, visible in the
/// same namespaces (IST0109), each reported once.
fn conflicting_mesh_gateway_hosts(s: &Snapshot, out: &mut Vec<Message>) {
    let hosts = mesh_gateway_hosts(s);
    let mut reported = BTreeSet::new();
    for (key, list) in &hosts {
        let (scope, fqdn) = key.split_once('/').unwrap_or(("", key));
        let mut list = list.clone();
        if scope != "*" {
            for (other, vss) in &hosts {
                let (other_scope, other_fqdn) = other.split_once('/').unwrap_or(("", other));
                if other_scope == "*" && host_matches(fqdn, other_fqdn) {
                    list.extend(vss.iter().copied());
                }
            }
        }
        if list.len() < 2 {
            continue;
        }
        let mut names: Vec<String> = list.iter().map(|o| full_name(o)).collect();
        names.sort();
        let names = names.join(",");
        for obj in list {
            if reported.insert(full_name(obj)) {
                out.push(msg::conflicting_mesh_gateway_hosts(
                    &origin(obj),
                    &names,
                    key,
                ));
            }
        }
    }
}

/// `initMeshGatewayHosts`: `scope/fqdn` → the mesh-bound VirtualServices
/// for it, scope `*` when exported everywhere.
fn mesh_gateway_hosts<'w>(s: &Snapshot<'w>) -> BTreeMap<String, Vec<&'w Object>> {
    let mut map: BTreeMap<String, Vec<&Object>> = BTreeMap::new();
    for (obj, vs) in s.virtual_services() {
        if !(vs.gateways.is_empty() || vs.gateways.iter().any(|g| g == "mesh")) {
            continue;
        }
        let ns = obj.namespace();
        let scopes: BTreeSet<&str> =
            if vs.export_to.is_empty() || vs.export_to.iter().any(|e| e == "*") {
                BTreeSet::from(["*"])
            } else {
                vs.export_to
                    .iter()
                    .map(|e| if e == "." { ns } else { e.as_str() })
                    .collect()
            };
        for scope in scopes {
            for h in &vs.hosts {
                map.entry(scoped_fqdn(scope, ns, h)).or_default().push(obj);
            }
        }
    }
    map
}
