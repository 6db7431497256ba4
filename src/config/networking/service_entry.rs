//! networking.istio.io `ServiceEntry`: adds a service to the mesh's registry,
//! most often one outside the mesh (`httpbin.org`), so sidecars can route to
//! it and policies can apply. Validation is the CRD schema and CEL rules,
//! then istiod's `ValidateServiceEntry` (`pkg/config/validation/validation.go`,
//! Istio 1.27).

use std::collections::BTreeSet;

use serde::Deserialize;

use super::common::{
    WorkloadSelector, crd_port_range, ip_subnet_problem, is_ip, validate_export_to, validate_fqdn,
    validate_istio_metadata, validate_label_instance, validate_wildcard_domain,
};
use super::gateway::{Port, partial_wildcard_problem};
use super::sidecar::validate_alpha_selector;
use super::workload::{WorkloadEntry, validate_endpoint_ports};
use crate::config::kinds::Validate;
use crate::config::meta::ObjectMeta;
use crate::config::validate::Validator;
use crate::spec_resources;

/// A service known to the mesh by its host names, with the ports it serves
/// and where its endpoints come from (`resolution`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ServiceEntry {
    /// The names clients use (`httpbin.org`, `*.example.com`). Matched
    /// against the HTTP Host header, TLS SNI, or (for TCP) the address.
    pub hosts: Vec<String>,
    /// Virtual IPs or CIDRs of the service; TCP traffic to them is captured
    /// for this entry.
    pub addresses: Vec<String>,
    /// Each port's protocol decides HTTP vs TCP handling, as for a Service.
    /// `name` is required and unique; `targetPort` is the endpoint port.
    pub ports: Vec<Port>,
    pub location: Location,
    pub resolution: Resolution,
    /// Static endpoints (for STATIC, DNS and DNS_ROUND_ROBIN).
    pub endpoints: Vec<WorkloadEntry>,
    /// Alternatively, select Pods and WorkloadEntries by label as endpoints.
    pub workload_selector: Option<WorkloadSelector>,
    pub export_to: Vec<String>,
    /// Identities the endpoints' certificates must carry (for mTLS).
    pub subject_alt_names: Vec<String>,
}

/// Whether the service counts as part of the mesh: an external service gets
/// no mTLS, and its metrics are reported as outside the mesh.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum Location {
    #[default]
    #[serde(rename = "MESH_EXTERNAL")]
    MeshExternal,
    #[serde(rename = "MESH_INTERNAL")]
    MeshInternal,
}

/// How the proxy finds the endpoints of the hosts.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum Resolution {
    /// Forward to the address the client connected to (no load balancing).
    #[default]
    #[serde(rename = "NONE")]
    None,
    /// The listed endpoints' IPs.
    #[serde(rename = "STATIC")]
    Static,
    /// Resolve the endpoints' addresses (or the hosts) by DNS, and balance
    /// over every address returned.
    #[serde(rename = "DNS")]
    Dns,
    /// Resolve by DNS, connect to the first address only.
    #[serde(rename = "DNS_ROUND_ROBIN")]
    DnsRoundRobin,
}

impl std::fmt::Display for Resolution {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Resolution::None => "NONE",
            Resolution::Static => "STATIC",
            Resolution::Dns => "DNS",
            Resolution::DnsRoundRobin => "DNS_ROUND_ROBIN",
        })
    }
}

/// The label with which a ServiceEntry opts out of address auto-allocation.
const AUTOALLOCATE_LABEL: &str = "networking.istio.io/enable-autoallocate-ip";

impl ServiceEntry {
    /// `ShouldV2AutoAllocateIPFromConfig` (PILOT_ENABLE_IP_AUTOALLOCATE is
    /// on by default): istiod gives the hosts virtual IPs itself.
    fn auto_allocates(&self, meta: &ObjectMeta) -> bool {
        self.resolution != Resolution::None
            && !meta
                .labels
                .get(AUTOALLOCATE_LABEL)
                .is_some_and(|v| v.eq_ignore_ascii_case("false"))
            && self.addresses.is_empty()
    }

    /// The CRD schema and CEL rules.
    fn validate_schema(&self, v: &mut Validator) {
        let has_cidr = self.addresses.iter().any(|a| a.contains('/'));
        let rules = [
            (
                self.workload_selector.is_some() && !self.endpoints.is_empty(),
                "only one of WorkloadSelector or Endpoints can be set",
            ),
            (
                has_cidr && !matches!(self.resolution, Resolution::None | Resolution::Static),
                "CIDR addresses are allowed only for NONE/STATIC resolution types",
            ),
            (
                self.resolution == Resolution::None && !self.endpoints.is_empty(),
                "NONE mode cannot set endpoints",
            ),
            (
                self.resolution == Resolution::DnsRoundRobin && self.endpoints.len() > 1,
                "DNS_ROUND_ROBIN mode cannot have multiple endpoints",
            ),
        ];
        for (broken, message) in rules {
            if broken {
                v.cel("object", message);
            }
        }
        if self.hosts.is_empty() {
            v.required_field("hosts");
        }
        v.each("hosts", &self.hosts, |v, _, host| {
            if host == "*" {
                v.cel("string", "hostname cannot be wildcard");
            }
        });
        let mut names = BTreeSet::new();
        let mut numbers = BTreeSet::new();
        let mut duplicate_number = false;
        v.each("ports", &self.ports, |v, _, port| {
            match &port.name {
                None => v.required_field("name"),
                Some(name) if !names.insert(name) => v.error(format!(
                    "Duplicate value: map[string]interface {{}}{{\"name\":{name:?}}}"
                )),
                Some(_) => {}
            }
            match port.number {
                None => v.required_field("number"),
                Some(n) => {
                    duplicate_number |= !numbers.insert(n);
                    v.field("number", |v| crd_port_range(n, v));
                }
            }
            if let Some(t) = port.target_port {
                v.field("targetPort", |v| crd_port_range(t, v));
            }
        });
        if duplicate_number {
            v.field("ports", |v| {
                v.cel("array", "port number cannot be duplicated")
            });
        }
        v.each("endpoints", &self.endpoints, |v, _, e| {
            e.validate_schema(true, v)
        });
    }

    /// istiod's `ValidateServiceEntry`, leaving out what the schema already
    /// rejected.
    fn validate_webhook(&self, meta: &ObjectMeta, v: &mut Validator) {
        if !validate_alpha_selector(self.workload_selector.as_ref(), "service entry", v) {
            return;
        }
        v.each("hosts", &self.hosts, |v, _, host| {
            if host == "*" {
                return;
            }
            if let Some(e) = validate_wildcard_domain(host) {
                v.error(e);
            }
            if let Some(w) = partial_wildcard_problem(host) {
                v.warn(w);
            }
        });
        v.each("addresses", &self.addresses, |v, _, a| {
            if let Some(e) = ip_subnet_problem(a) {
                v.error(e);
            }
        });
        let auto_allocates = self.auto_allocates(meta);
        v.each("ports", &self.ports, |v, _, port| {
            let protocol = port.protocol.as_deref().unwrap_or("");
            if self.addresses.is_empty()
                && !auto_allocates
                && (protocol.is_empty() || protocol == "TCP")
            {
                v.warn("addresses are required for ports serving TCP (or unset) protocol when IP Autoallocation is not enabled");
            }
            port.validate_name_and_protocol(false, v);
        });
        let service_ports: BTreeSet<&str> = self.ports.iter().map(Port::name).collect();
        match self.resolution {
            Resolution::None => {
                if self.workload_selector.is_some() {
                    v.field("workloadSelector", |v| {
                        v.warn("workloadSelector should not be set when resolution mode is NONE")
                    });
                }
            }
            Resolution::Static => {
                v.each("endpoints", &self.endpoints, |v, _, e| {
                    e.validate_entry(Some(&service_ports), false, v)
                });
            }
            Resolution::Dns | Resolution::DnsRoundRobin => {
                self.validate_dns(&service_ports, v);
            }
        }
        // Plain TCP cannot tell the hosts apart (no Host header, no SNI), so
        // one resolved entry may only have several hosts on HTTP/TLS ports.
        let plain_tcp = self.ports.iter().position(|p| {
            let p = p.protocol();
            !p.is_http() && !p.is_tls()
        });
        if let Some(i) = plain_tcp
            && self.resolution != Resolution::None
            && self.hosts.len() > 1
        {
            v.field("ports", |v| {
                v.index(i, |v| {
                    v.error("multiple hosts provided with non-HTTP, non-TLS ports")
                })
            });
        }
        validate_export_to(meta.namespace(), &self.export_to, true, false, v);
    }

    /// The DNS and DNS_ROUND_ROBIN cases of `ValidateServiceEntry`.
    fn validate_dns(&self, service_ports: &BTreeSet<&str>, v: &mut Validator) {
        if self.endpoints.is_empty() {
            // Without endpoints the hosts themselves are resolved.
            v.each("hosts", &self.hosts, |v, _, host| {
                if validate_fqdn(host).is_some() {
                    v.error(format!(
                        "hosts must be FQDN if no endpoints are provided for resolution mode {}",
                        self.resolution
                    ));
                }
            });
        }
        v.each("endpoints", &self.endpoints, |v, _, e| {
            if !is_ip(&e.address) && validate_fqdn(&e.address).is_some() {
                v.field("address", |v| {
                    v.error(format!(
                        "endpoint address {:?} is not a valid FQDN or an IP address",
                        e.address
                    ))
                });
            }
            v.field("labels", |v| validate_label_instance(&e.labels, v));
            validate_endpoint_ports(&e.ports, Some(service_ports), v);
        });
        let tcp_port = self.ports.iter().any(|p| p.protocol().is_tcp());
        if !self.addresses.is_empty() && tcp_port && self.hosts.len() > 1 {
            v.field("addresses", |v| {
                v.warn("service entry can not have more than one host specified simultaneously with address and tcp port")
            });
        }
    }
}

impl Validate for ServiceEntry {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        validate_istio_metadata(meta, v);
        v.field("spec", |v| {
            self.validate_schema(v);
            self.validate_webhook(meta, v);
        });
    }
}

spec_resources!(ServiceEntry);

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use super::{Location, Resolution};
    use crate::config::testing::{clean, located, manifest, problems};

    fn service_entry(spec: &str) -> Vec<String> {
        problems(&manifest(
            "networking.istio.io/v1",
            "ServiceEntry",
            "se",
            "ns1",
            spec,
        ))
    }

    // CRD schema and CEL rules
    #[test_case("{ports: [{number: 80, name: http, protocol: HTTP}]}", &["error: spec.hosts: Required value"]; "hosts required")]
    #[test_case("{hosts: [\"*\"], ports: [{number: 80, name: http, protocol: HTTP}]}", &["error: spec.hosts[0]: Invalid value: \"string\": hostname cannot be wildcard"]; "wildcard host")]
    #[test_case(
        "{hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}, {number: 80, name: http, protocol: HTTP}]}",
        &["error: spec.ports[1]: Duplicate value: map[string]interface {}{\"name\":\"http\"}", "error: spec.ports: Invalid value: \"array\": port number cannot be duplicated"];
        "duplicate ports"
    )]
    #[test_case("{hosts: [a.example.com], ports: [{number: 70000, name: http, protocol: HTTP, targetPort: 0}]}", &["error: spec.ports[0].number: Invalid value: \"integer\": port must be between 1-65535", "error: spec.ports[0].targetPort: Invalid value: \"integer\": port must be between 1-65535"]; "port ranges")]
    #[test_case("{hosts: [a.example.com], resolution: DNS, addresses: [10.0.0.0/24], ports: [{number: 80, name: http, protocol: HTTP}]}", &["error: spec: Invalid value: \"object\": CIDR addresses are allowed only for NONE/STATIC resolution types"]; "cidr with dns")]
    #[test_case("{hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}], endpoints: [{address: 1.1.1.1}]}", &["error: spec: Invalid value: \"object\": NONE mode cannot set endpoints"]; "none with endpoints")]
    #[test_case("{hosts: [a.example.com], resolution: DNS_ROUND_ROBIN, ports: [{number: 80, name: http, protocol: HTTP}], endpoints: [{address: a.example.com}, {address: b.example.com}]}", &["error: spec: Invalid value: \"object\": DNS_ROUND_ROBIN mode cannot have multiple endpoints"]; "round robin endpoints")]
    #[test_case("{hosts: [a.example.com], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}], workloadSelector: {labels: {app: a}}, endpoints: [{address: 1.1.1.1}]}", &["error: spec: Invalid value: \"object\": only one of WorkloadSelector or Endpoints can be set"]; "selector and endpoints")]
    #[test_case("{hosts: [a.example.com], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}], endpoints: [{labels: {app: a}}]}", &["error: spec.endpoints[0]: Invalid value: \"object\": Address is required"]; "endpoint address required")]
    #[test_case("{hosts: [a.example.com], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}], endpoints: [{address: \"unix://sock\", ports: {http: 80}}]}", &["error: spec.endpoints[0]: Invalid value: \"object\": UDS may not include ports", "error: spec.endpoints[0].address: Invalid value: \"string\": UDS must be an absolute path or abstract socket"]; "uds endpoint")]
    #[test_case("{hosts: [a.example.com], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}], endpoints: [{address: 1.1.1.1, ports: {http: 0}}]}", &["error: spec.endpoints[0].ports.http: Invalid value: \"integer\": port must be between 1-65535"]; "endpoint port range")]
    // ValidateServiceEntry
    #[test_case("{hosts: [a.example.com], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}], workloadSelector: {labels: {\"ap*\": a}}}", &["error: spec.workloadSelector.labels.ap*: wildcard is not supported in selector: \"ap*=a\""]; "selector key wildcard")]
    #[test_case("{hosts: [a.example.com], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}], workloadSelector: {}}", &["warning: spec.workloadSelector: service entry: workload selector specified without labels, will be applied to all services in namespace"]; "empty selector")]
    #[test_case("{hosts: [a_b.example.com], ports: [{number: 80, name: http, protocol: HTTP}]}", &["error: spec.hosts[0]: domain name \"a_b.example.com\" invalid (label \"a_b\" invalid)"]; "bad host")]
    #[test_case("{hosts: [\"*.example.com\", \"a*.example.com\"], ports: [{number: 80, name: http, protocol: HTTP}]}", &["error: spec.hosts[1]: domain name \"a*.example.com\" invalid (label \"a*\" invalid)", "warning: spec.hosts[1]: partial wildcard \"a*.example.com\" not allowed"]; "partial wildcard host")]
    #[test_case("{hosts: [a.example.com], addresses: [10.0.0.300, 10.0.0.0/33], ports: [{number: 80, name: http, protocol: HTTP}]}", &["error: spec.addresses[0]: 10.0.0.300 is not a valid IP", "error: spec.addresses[1]: 10.0.0.0/33 is not a valid CIDR block"]; "bad addresses")]
    #[test_case("{hosts: [a.example.com], ports: [{number: 5432, name: pg, protocol: TCP}]}", &["warning: spec.ports[0]: addresses are required for ports serving TCP (or unset) protocol when IP Autoallocation is not enabled"]; "tcp without addresses")]
    #[test_case("{hosts: [a.example.com], resolution: DNS, ports: [{number: 5432, name: pg, protocol: TCP}]}", &[]; "tcp with auto allocation")]
    #[test_case("{hosts: [a.example.com], ports: [{number: 80, name: Web_1, protocol: HTTP}]}", &["error: spec.ports[0].name: invalid port name: Web_1"]; "bad port name")]
    #[test_case("{hosts: [a.example.com], ports: [{number: 80, name: web, protocol: FTP}]}", &["error: spec.ports[0].protocol: unsupported protocol: FTP"]; "bad protocol")]
    #[test_case("{hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}], workloadSelector: {labels: {app: a}}}", &["warning: spec.workloadSelector: workloadSelector should not be set when resolution mode is NONE"]; "none with selector")]
    #[test_case("{hosts: [a.example.com], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}], endpoints: [{address: vm.example.com, ports: {grpc: 90}}]}", &["error: spec.endpoints[0].address: endpoint address \"vm.example.com\" is not a valid IP address", "error: spec.endpoints[0].ports.grpc: endpoint port 90 is not defined by the service entry"]; "static endpoint")]
    #[test_case("{hosts: [a.example.com], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}], endpoints: [{network: net2}]}", &["warning: spec.endpoints[0].address: address is unset with network \"net2\""]; "endpoint on another network")]
    #[test_case("{hosts: [a.example.com], resolution: STATIC, ports: [{number: 80, name: http, protocol: HTTP}, {number: 81, name: h2, protocol: HTTP2}], endpoints: [{address: \"unix:///sock\"}]}", &["error: spec.endpoints[0]: exactly 1 service port required for unix endpoints"]; "unix endpoint ports")]
    #[test_case("{hosts: [\"*.example.com\"], resolution: DNS, ports: [{number: 80, name: http, protocol: HTTP}]}", &["error: spec.hosts[0]: hosts must be FQDN if no endpoints are provided for resolution mode DNS"]; "dns wildcard host")]
    #[test_case("{hosts: [a.example.com], resolution: DNS, ports: [{number: 80, name: http, protocol: HTTP}], endpoints: [{address: bad_host}]}", &["error: spec.endpoints[0].address: endpoint address \"bad_host\" is not a valid FQDN or an IP address"]; "dns endpoint address")]
    #[test_case("{hosts: [a.example.com, b.example.com], addresses: [240.0.0.1], resolution: DNS, ports: [{number: 443, name: tls, protocol: TLS}]}", &["warning: spec.addresses: service entry can not have more than one host specified simultaneously with address and tcp port"]; "dns addresses and tcp port")]
    #[test_case("{hosts: [a.example.com, b.example.com], resolution: DNS, ports: [{number: 5432, name: pg, protocol: TCP}]}", &["error: spec.ports[0]: multiple hosts provided with non-HTTP, non-TLS ports"]; "multiple hosts tcp")]
    #[test_case("{hosts: [a.example.com], ports: [{number: 80, name: http, protocol: HTTP}], exportTo: [\"~\", \"*\"]}", &["error: spec.exportTo: cannot have both public (*) and non-public exportTo values for a resource", "error: spec.exportTo: cannot export service entry to no one (~) and someone"]; "export to")]
    fn service_entry_rules(spec: &str, want: &[&str]) {
        assert_eq!(service_entry(spec), want);
    }

    #[test]
    fn required_port_fields() {
        assert_eq!(
            service_entry("{hosts: [a.example.com], ports: [{protocol: HTTP}]}"),
            [
                "error: spec.ports[0].name: Required value",
                "error: spec.ports[0].number: Required value"
            ]
        );
    }

    #[test]
    fn httpbin_service_entry_loads_cleanly() {
        let text = r#"apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: httpbin-ext
spec:
  hosts:
  - httpbin.org
  ports:
  - number: 80
    name: http
    protocol: HTTP
  resolution: DNS
  location: MESH_EXTERNAL
"#;
        let loaded = clean(text);
        let crate::config::Body::ServiceEntry(se) = &loaded.objects[0].body else {
            panic!("not a ServiceEntry");
        };
        assert_eq!(se.hosts, ["httpbin.org"]);
        assert_eq!(se.location, Location::MeshExternal);
        assert_eq!(se.resolution, Resolution::Dns);
        assert_eq!(se.ports[0].number(), 80);
        assert!(se.ports[0].protocol().is_http());
    }

    #[test]
    fn several_problems_are_each_located() {
        let text = r#"apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata:
  name: external-db
spec:
  hosts:
  - db.example.com
  - "*"
  ports:
  - number: 5432
    name: Postgres_1
    protocol: TCP
  resolution: STATIC
  endpoints:
  - address: db.internal
"#;
        assert_eq!(
            located(text),
            [
                "8: error: spec.hosts[1]: Invalid value: \"string\": hostname cannot be wildcard",
                "11: error: spec.ports[0].name: invalid port name: Postgres_1",
                "15: error: spec.endpoints[0].address: endpoint address \"db.internal\" is not a valid IP address",
                "10: error: spec.ports[0]: multiple hosts provided with non-HTTP, non-TLS ports",
            ]
        );
    }
}
