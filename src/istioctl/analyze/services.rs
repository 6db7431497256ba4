//! Istio 1.27's analyzers of Services and the gateways behind them:
//! `service/portname.go`, `gateway/gateway.go`, `gateway/secret.go`.

use std::collections::{BTreeMap, BTreeSet};

use crate::config::networking::Gateway;
use crate::config::types::IntOrString;
use crate::k8s::cluster::{Pod, Service};

use super::message::{self as msg, Message};
use super::snapshot::{Snapshot, origin, selector_string, selects, short_or_full_name};

pub fn run(s: &Snapshot, out: &mut Vec<Message>) {
    port_names(s, out);
    gateway_ports(s, out);
    gateway_secrets(s, out);
}

/// `gateway.istio.io/managed` values of the Services Istio deploys for
/// Gateway API gateways and waypoints: not the user's to name.
const MANAGED_GATEWAYS: [&str; 3] = [
    "istio.io-gateway-controller",
    "istio.io-mesh-controller",
    "istio.io-eastwest-controller",
];

/// `PortNameAnalyzer`: a Service port whose name (or appProtocol) gives
/// no protocol leaves Istio to sniff it (IST0118; IST0150 for
/// ExternalName Services). Istio's own Services are skipped.
fn port_names(s: &Snapshot, out: &mut Vec<Message>) {
    for svc in &s.services {
        let control_plane = svc.labels.contains_key("istio")
            || svc.labels.get("release").is_some_and(|v| v == "istio");
        let managed = svc
            .labels
            .get("gateway.istio.io/managed")
            .is_some_and(|v| MANAGED_GATEWAYS.contains(&v.as_str()));
        if control_plane || managed {
            continue;
        }
        let o = msg::Origin::new("Service", &svc.namespace, &svc.name).annotated(&svc.annotations);
        let external = svc.type_ == "ExternalName";
        for p in &svc.ports {
            let sniffed = protocol_unknown(p.port, &p.name, &p.protocol, p.app_protocol.as_deref());
            if !(sniffed || (p.name == "tcp" && external)) {
                continue;
            }
            if external {
                out.push(msg::external_name_invalid_port_name(&o));
            } else {
                let target = match &p.target_port {
                    IntOrString::Int(n) => n.to_string(),
                    IntOrString::Str(s) => s.clone(),
                };
                out.push(msg::port_name_not_under_convention(
                    &o, &p.name, p.port, &target,
                ));
            }
        }
    }
}

/// Whether `kube.ConvertProtocol` finds no protocol (`UnsupportedProtocol`):
/// UDP is known; `appProtocol` wins over the name; a name's prefix before
/// `-` is the protocol; the well-known ports of SMTP, DNS, MySQL and
/// MongoDB are TCP.
fn protocol_unknown(port: u16, name: &str, protocol: &str, app_protocol: Option<&str>) -> bool {
    if protocol == "UDP" {
        return false;
    }
    let name = app_protocol.unwrap_or(name);
    if matches!(
        name,
        "kubernetes.io/h2c" | "kubernetes.io/ws" | "kubernetes.io/wss"
    ) {
        return false;
    }
    if name
        .get(..8)
        .is_some_and(|p| p.eq_ignore_ascii_case("grpc-web"))
    {
        return false;
    }
    let prefix = name.split('-').next().unwrap_or(name);
    // `protocol.Parse` compares lower-cased names; its "DoubleHBONE" case
    // can never match, so that name is unknown too.
    let known = crate::istioctl::validate::known_protocol(prefix);
    !known && !matches!(port, 25 | 53 | 3306 | 27017)
}

/// The pods a gateway's selector picks, in any namespace.
fn gateway_pods<'w>(s: &Snapshot<'w>, gw: &Gateway) -> Vec<&'w Pod> {
    s.pods
        .iter()
        .filter(|p| selects(&gw.selector, &p.labels))
        .copied()
        .collect()
}

/// `IngressGatewayPortAnalyzer`: a gateway's selector must pick pods
/// (IST0101 selector), and each server port must be a (target) port of a
/// TCP port of a Service in front of them (IST0162).
fn gateway_ports(s: &Snapshot, out: &mut Vec<Message>) {
    for (obj, gw) in s.gateways() {
        let o = origin(obj);
        let selector = selector_string(&gw.selector);
        let pods = gateway_pods(s, gw);
        if pods.is_empty() {
            out.push(msg::referenced_resource_not_found(
                &o, "selector", &selector,
            ));
            continue;
        }
        let mut target_ports = BTreeSet::new();
        let mut service_ports = BTreeMap::new();
        for pod in &pods {
            for svc in s.services.iter().filter(|svc| fronts(svc, pod)) {
                add_service_ports(svc, &mut target_ports, &mut service_ports);
            }
        }
        let server_ports = gw.servers.iter().filter_map(|srv| srv.port.as_ref());
        for number in server_ports.map(|p| p.number.unwrap_or(0)) {
            if !target_ports.contains(&number) && !service_ports.contains_key(&number) {
                out.push(msg::gateway_port_not_on_service(&o, number, &selector));
            }
        }
    }
}

/// A Service selects the pod: same namespace, and its selector (none
/// selects everything here, as `SelectorFromSet` of an empty set does).
fn fronts(svc: &Service, pod: &Pod) -> bool {
    let empty = BTreeMap::new();
    svc.namespace == pod.namespace && selects(svc.selector.as_ref().unwrap_or(&empty), &pod.labels)
}

/// TCP ports: the numeric target port (`IntValue`, so a numeric string
/// counts), else the port itself; and port → target port.
fn add_service_ports(svc: &Service, targets: &mut BTreeSet<u32>, mapping: &mut BTreeMap<u32, u32>) {
    for p in svc.ports.iter().filter(|p| p.protocol == "TCP") {
        let target = match &p.target_port {
            IntOrString::Int(n) => u32::try_from(*n).unwrap_or(0),
            IntOrString::Str(s) => s.parse().unwrap_or(0),
        };
        if target != 0 {
            targets.insert(target);
            mapping.entry(u32::from(p.port)).or_insert(target);
        } else {
            targets.insert(u32::from(p.port));
        }
    }
}

/// `gateway.SecretAnalyzer`: a TLS server's `credentialName` must be a
/// Secret in the namespace of the gateway's (first) pod (IST0101
/// credentialName). The certificate check (IST0161) is not simulated.
fn gateway_secrets(s: &Snapshot, out: &mut Vec<Message>) {
    for (obj, gw) in s.gateways() {
        let o = origin(obj);
        let Some(pod) = gateway_pods(s, gw).first().copied() else {
            let selector = selector_string(&gw.selector);
            out.push(msg::referenced_resource_not_found(
                &o, "selector", &selector,
            ));
            continue;
        };
        let names = gw
            .servers
            .iter()
            .filter_map(|srv| srv.tls.as_ref())
            .map(|tls| tls.credential_name.as_str())
            .filter(|cn| !cn.is_empty());
        for cn in names {
            let (ns, name) = short_or_full_name(&pod.namespace, cn);
            if !s.secret_exists(&ns, &name) {
                out.push(msg::referenced_resource_not_found(&o, "credentialName", cn));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::protocol_unknown;
    use test_case::test_case;

    #[test_case(9080, "http", None, false; "http")]
    #[test_case(9080, "http-web", None, false; "prefix before dash")]
    #[test_case(9080, "HTTP2", None, false; "any case")]
    #[test_case(9080, "grpc-web-x", None, false; "grpc-web prefix")]
    #[test_case(9080, "web", None, true; "unknown name")]
    #[test_case(9080, "", None, true; "no name")]
    #[test_case(9080, "web", Some("http"), false; "appProtocol wins")]
    #[test_case(9080, "http", Some("web"), true; "unknown appProtocol")]
    #[test_case(3306, "db", None, false; "well-known port")]
    #[test_case(9080, "doublehbone", None, true; "DoubleHBONE never parses")]
    fn port_protocols_as_istio_converts_them(
        port: u16,
        name: &str,
        app: Option<&str>,
        unknown: bool,
    ) {
        assert_eq!(protocol_unknown(port, name, "TCP", app), unknown);
    }
}
