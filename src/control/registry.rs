//! istiod's service registry: every host a proxy can be configured for,
//! from Kubernetes Services and ServiceEntries, with the ports, protocols,
//! addresses and visibility (`exportTo`) that shape route configuration.
//!
//! Rules from Istio 1.27.9 (`pilot/pkg/serviceregistry/kube/conversion.go`,
//! `serviceentry/conversion.go`, `pilot/pkg/model/push_context.go`):
//! a Kubernetes Service is `name.ns.svc.cluster.local`, visible to every
//! namespace unless annotated `networking.istio.io/exportTo`; each
//! ServiceEntry host is a service of its own; when two registries define
//! one hostname the Kubernetes Service wins, then the oldest.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use crate::config::networking::gateway::Protocol;
use crate::config::networking::service_entry::{Location, Resolution, ServiceEntry};
use crate::config::{Body, Object};
use crate::k8s::{Cluster, ServiceId};

/// Where a namespace-scoped object may be seen from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    Public,
    /// The listed namespaces (the object's own, for `.`).
    Namespaces(Vec<String>),
    /// `~`: no one.
    Hidden,
}

impl Visibility {
    /// Parses `exportTo` entries for an object in `own` namespace; an empty
    /// list means the mesh default, `*`.
    pub fn parse(entries: &[String], own: &str) -> Visibility {
        if entries.is_empty() || entries.iter().any(|e| e == "*") {
            return Visibility::Public;
        }
        if entries.iter().all(|e| e == "~") {
            return Visibility::Hidden;
        }
        Visibility::Namespaces(
            entries
                .iter()
                .filter(|e| *e != "~")
                .map(|e| if e == "." { own.to_string() } else { e.clone() })
                .collect(),
        )
    }

    pub fn visible_from(&self, namespace: &str) -> bool {
        match self {
            Visibility::Public => true,
            Visibility::Namespaces(ns) => ns.iter().any(|n| n == namespace),
            Visibility::Hidden => false,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RegPort {
    pub number: u16,
    pub name: String,
    pub protocol: Protocol,
}

/// A ServiceEntry endpoint.
#[derive(Clone, Debug, PartialEq)]
pub struct SeEndpoint {
    pub address: String,
    pub labels: BTreeMap<String, String>,
    /// Port name → port number on this endpoint.
    pub ports: BTreeMap<String, u16>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum Origin {
    Kubernetes(ServiceId),
    ServiceEntry {
        location: Location,
        resolution: Resolution,
        endpoints: Vec<SeEndpoint>,
        /// Pods selected as endpoints (`workloadSelector`).
        selector: Option<BTreeMap<String, String>>,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct RegService {
    pub hostname: String,
    pub namespace: String,
    pub ports: Vec<RegPort>,
    pub origin: Origin,
    pub visibility: Visibility,
    /// The ClusterIP, or the ServiceEntry's addresses.
    pub addresses: Vec<String>,
    /// The Kubernetes Service's name (short-name vhost domains), if any.
    pub k8s_name: Option<String>,
}

impl RegService {
    pub fn port(&self, number: u16) -> Option<&RegPort> {
        self.ports.iter().find(|p| p.number == number)
    }

    pub fn is_external(&self) -> bool {
        matches!(
            self.origin,
            Origin::ServiceEntry {
                location: Location::MeshExternal,
                ..
            }
        )
    }
}

#[derive(Clone, Debug, Default)]
pub struct Registry {
    pub services: Vec<RegService>,
    by_host: BTreeMap<String, usize>,
}

/// A Service port's protocol, as istiod infers it: `appProtocol` first, then
/// the port name's prefix before `-` (`http-web` is HTTP); anything else is
/// sniffed, which for the HTTP traffic meshsim sends means HTTP.
pub fn port_protocol(name: &str, app_protocol: Option<&str>) -> Protocol {
    let from_app = app_protocol.map(|a| match a {
        "kubernetes.io/h2c" => Protocol::Http2,
        "kubernetes.io/ws" | "kubernetes.io/wss" => Protocol::Http,
        other => Protocol::parse(other),
    });
    match from_app {
        Some(p) if p != Protocol::Unsupported => p,
        _ => Protocol::parse(name.split('-').next().unwrap_or(name)),
    }
}

impl Registry {
    /// Builds the registry from the cluster's Services and the ServiceEntries
    /// in `config`, Kubernetes first.
    pub fn build<'a>(cluster: &Cluster, config: impl Iterator<Item = &'a Object>) -> Registry {
        let mut r = Registry::default();
        for svc in cluster.services.iter().filter(|s| !s.deleted) {
            let export: Vec<String> = svc
                .annotations
                .get("networking.istio.io/exportTo")
                .map(|v| v.split(',').map(|s| s.trim().to_string()).collect())
                .unwrap_or_default();
            r.add(RegService {
                hostname: svc.fqdn(),
                namespace: svc.namespace.clone(),
                ports: svc
                    .ports
                    .iter()
                    .map(|p| RegPort {
                        number: p.port,
                        name: p.name.clone(),
                        protocol: port_protocol(&p.name, p.app_protocol.as_deref()),
                    })
                    .collect(),
                origin: Origin::Kubernetes(svc.id),
                visibility: Visibility::parse(&export, &svc.namespace),
                addresses: svc.cluster_ip.iter().map(Ipv4Addr::to_string).collect(),
                k8s_name: Some(svc.name.clone()),
            });
        }
        for obj in config {
            if let Body::ServiceEntry(se) = &obj.body {
                for host in &se.hosts {
                    r.add(service_entry_host(obj, se, host));
                }
            }
        }
        r
    }

    fn add(&mut self, svc: RegService) {
        // The first definition of a hostname wins: Kubernetes Services are
        // added before ServiceEntries, objects in creation order.
        if self.by_host.contains_key(&svc.hostname) {
            return;
        }
        self.by_host
            .insert(svc.hostname.clone(), self.services.len());
        self.services.push(svc);
    }

    pub fn find(&self, hostname: &str) -> Option<usize> {
        self.by_host.get(hostname).copied()
    }

    pub fn get(&self, i: usize) -> &RegService {
        &self.services[i]
    }

    /// Services whose hostname a VirtualService or DestinationRule host
    /// (exact or `*.suffix` wildcard) covers, visible from `namespace`.
    pub fn matching<'s>(
        &'s self,
        host: &'s str,
        namespace: &'s str,
    ) -> impl Iterator<Item = usize> + 's {
        self.services
            .iter()
            .enumerate()
            .filter(move |(_, s)| {
                s.visibility.visible_from(namespace) && host_matches(host, &s.hostname)
            })
            .map(|(i, _)| i)
    }
}

fn service_entry_host(obj: &Object, se: &ServiceEntry, host: &str) -> RegService {
    let ports: Vec<RegPort> = se
        .ports
        .iter()
        .map(|p| RegPort {
            number: p.number.unwrap_or(0) as u16,
            name: p.name.clone().unwrap_or_default(),
            protocol: p.protocol(),
        })
        .collect();
    let endpoints = se
        .endpoints
        .iter()
        .map(|e| SeEndpoint {
            address: e.address.clone(),
            labels: e.labels.clone(),
            ports: e
                .ports
                .iter()
                .map(|(k, v)| (k.clone(), *v as u16))
                .collect(),
        })
        .collect();
    RegService {
        hostname: host.to_string(),
        namespace: obj.namespace().to_string(),
        ports,
        origin: Origin::ServiceEntry {
            location: se.location,
            resolution: se.resolution,
            endpoints,
            selector: se.workload_selector.as_ref().map(|w| w.labels.clone()),
        },
        visibility: Visibility::parse(&se.export_to, obj.namespace()),
        addresses: se.addresses.clone(),
        k8s_name: None,
    }
}

/// Istio's host matching (`host.Name.Matches`): equal names, or a
/// `*.suffix` wildcard covering a name (or a narrower wildcard).
pub fn host_matches(pattern: &str, name: &str) -> bool {
    if pattern == name || pattern == "*" {
        return true;
    }
    match pattern.strip_prefix('*') {
        Some(suffix) => name.ends_with(suffix) && name.len() > suffix.len(),
        None => false,
    }
}

/// `ResolveShortnameToFQDN`: a host without a dot is a Service in the
/// object's namespace; anything else is taken as written.
pub fn resolve_short_name(host: &str, namespace: &str) -> String {
    if host.contains('.') || host == "*" || host.parse::<std::net::IpAddr>().is_ok() {
        host.to_string()
    } else {
        format!("{host}.{namespace}.svc.cluster.local")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("http", None, Protocol::Http)]
    #[test_case("http-web", None, Protocol::Http)]
    #[test_case("grpc-api", None, Protocol::Grpc)]
    #[test_case("tcp-db", None, Protocol::Tcp)]
    #[test_case("", None, Protocol::Unsupported; "unnamed ports are sniffed")]
    #[test_case("web", Some("http"), Protocol::Http; "appProtocol wins")]
    #[test_case("web", Some("kubernetes.io/h2c"), Protocol::Http2)]
    fn protocols_from_port_names(name: &str, app: Option<&str>, want: Protocol) {
        assert_eq!(port_protocol(name, app), want);
    }

    #[test_case("reviews", "bookinfo", "reviews.bookinfo.svc.cluster.local")]
    #[test_case("reviews.bookinfo", "default", "reviews.bookinfo"; "a dotted name is taken as written")]
    #[test_case("*.example.com", "default", "*.example.com")]
    fn short_names(host: &str, ns: &str, want: &str) {
        assert_eq!(resolve_short_name(host, ns), want);
    }

    #[test]
    fn wildcards_cover_longer_names_only() {
        assert!(host_matches("*.example.com", "a.example.com"));
        assert!(host_matches("*.example.com", "*.b.example.com"));
        assert!(!host_matches("*.example.com", "example.com"));
        assert!(host_matches("*", "anything"));
        assert!(!host_matches("a.example.com", "*.example.com"));
    }

    #[test]
    fn visibility() {
        let v = Visibility::parse(&[".".into(), "istio-system".into()], "bookinfo");
        assert!(
            v.visible_from("bookinfo")
                && v.visible_from("istio-system")
                && !v.visible_from("default")
        );
        assert_eq!(Visibility::parse(&[], "x"), Visibility::Public);
        assert!(!Visibility::parse(&["~".into()], "x").visible_from("x"));
    }
}
