//! networking.istio.io `WorkloadEntry` (a non-Kubernetes workload, such as
//! a VM, or one endpoint of a ServiceEntry) and `WorkloadGroup` (the template
//! VMs register themselves from). Validation is the CRD schema rules, then
//! istiod's `ValidateWorkloadEntry`/`validateWorkloadEntry` and
//! `ValidateWorkloadGroup`/`validateReadinessProbe`
//! (`pkg/config/validation/validation.go`, Istio 1.27).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::common::{
    STRICT_HEADER_NAME, crd_port_range, is_dns1123_label, is_ip, validate_fqdn,
    validate_istio_metadata, validate_label_instance,
};
use super::gateway::unix_address_problem;
use crate::config::kinds::Validate;
use crate::config::meta::ObjectMeta;
use crate::config::validate::{NON_EMPTY, Validator};
use crate::spec_resources;

/// One workload outside Kubernetes' Pod model: where to reach it and the
/// labels that let Services and ServiceEntries select it.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct WorkloadEntry {
    /// IP, DNS name (for DNS-resolved ServiceEntries) or `unix://` path.
    pub address: String,
    /// Service port name → the port this workload listens on, when it
    /// differs from the service port.
    pub ports: BTreeMap<String, u32>,
    pub labels: BTreeMap<String, String>,
    /// The network the workload is on; traffic from another network goes
    /// through that network's east-west gateway.
    pub network: String,
    /// `region/zone/subzone`, for locality load balancing.
    pub locality: String,
    /// Relative load-balancing weight; 0 means the default (1).
    pub weight: u32,
    pub service_account: String,
}

/// The template from which VMs create their WorkloadEntry when they join.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct WorkloadGroup {
    pub metadata: Option<WorkloadGroupMetadata>,
    /// Required by the schema.
    pub template: Option<WorkloadEntry>,
    pub probe: Option<ReadinessProbe>,
}

/// Labels and annotations copied onto each generated WorkloadEntry.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct WorkloadGroupMetadata {
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
}

/// How the VM's agent decides the workload is ready. Exactly one of
/// `httpGet`, `tcpSocket`, `exec`, `grpc` (a proto oneof).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ReadinessProbe {
    pub initial_delay_seconds: i32,
    pub timeout_seconds: i32,
    pub period_seconds: i32,
    pub success_threshold: i32,
    pub failure_threshold: i32,
    pub http_get: Option<HttpHealthCheck>,
    pub tcp_socket: Option<TcpHealthCheck>,
    pub exec: Option<ExecHealthCheck>,
    pub grpc: Option<GrpcHealthCheck>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct HttpHealthCheck {
    pub path: String,
    /// Required by the schema.
    pub port: Option<u32>,
    pub host: String,
    pub scheme: String,
    pub http_headers: Vec<HttpHeader>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct HttpHeader {
    pub name: String,
    pub value: String,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct TcpHealthCheck {
    pub host: String,
    /// Required by the schema.
    pub port: Option<u32>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct ExecHealthCheck {
    /// Required by the schema.
    pub command: Option<Vec<String>>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct GrpcHealthCheck {
    pub port: Option<u32>,
    pub service: String,
}

impl WorkloadEntry {
    /// The CRD schema rules on a WorkloadEntry spec, a ServiceEntry endpoint
    /// (both with `address_required`) or a WorkloadGroup template.
    pub(super) fn validate_schema(&self, address_required: bool, v: &mut Validator) {
        let unix = self.address.strip_prefix("unix://");
        if address_required && self.address.is_empty() && self.network.is_empty() {
            v.cel("object", "Address is required");
        }
        if unix.is_some() && !self.ports.is_empty() {
            v.cel("object", "UDS may not include ports");
        }
        if let Some(path) = unix {
            v.field("address", |v| {
                if !path.starts_with(['/', '@']) && !path.is_empty() {
                    v.cel("string", "UDS must be an absolute path or abstract socket");
                }
                if self.address.ends_with('/') {
                    v.cel("string", "UDS may not be a dir");
                }
            });
        }
        v.field("ports", |v| {
            // The CRD's pattern is IsDNS1123Label's, with a length below 63.
            if self
                .ports
                .keys()
                .any(|k| k.len() >= 63 || !is_dns1123_label(k))
            {
                v.cel("object", "port name must be valid");
            }
            for (name, port) in &self.ports {
                v.field(name, |v| crd_port_range(*port, v));
            }
        });
    }

    /// istiod's `validateWorkloadEntry`. `service_ports` are the port names
    /// of the ServiceEntry this is an endpoint of (`None` for a standalone
    /// WorkloadEntry); `allow_fqdn` is false for STATIC endpoints, which
    /// must be IPs.
    pub(super) fn validate_entry(
        &self,
        service_ports: Option<&BTreeSet<&str>>,
        allow_fqdn: bool,
        v: &mut Validator,
    ) {
        let addr = self.address.as_str();
        if addr.is_empty() {
            if self.network.is_empty() {
                return; // the schema's "Address is required"
            }
            v.field("address", |v| {
                v.warn(format!("address is unset with network {:?}", self.network))
            });
        }
        let unix = addr.strip_prefix("unix://");
        v.field("address", |v| match unix {
            // The schema rules cover the rest of the path checks.
            Some("") => v.error(unix_address_problem("").unwrap_or_default()),
            Some(_) => {}
            None if addr.is_empty() || is_ip(addr) => {}
            None if !allow_fqdn => v.error(format!(
                "endpoint address {addr:?} is not a valid IP address"
            )),
            None => {
                if validate_fqdn(addr).is_some() {
                    v.error(format!(
                        "endpoint address {addr:?} is not a valid FQDN or an IP address"
                    ));
                }
            }
        });
        validate_endpoint_ports(&self.ports, service_ports, v);
        v.field("labels", |v| validate_label_instance(&self.labels, v));
        if unix.is_some() && service_ports.is_some_and(|p| p.len() != 1) {
            v.error("exactly 1 service port required for unix endpoints");
        }
    }
}

/// An endpoint's `ports` must name ports of its ServiceEntry (the schema
/// already checked names and numbers).
pub(super) fn validate_endpoint_ports(
    ports: &BTreeMap<String, u32>,
    service_ports: Option<&BTreeSet<&str>>,
    v: &mut Validator,
) {
    let Some(service_ports) = service_ports else {
        return;
    };
    v.field("ports", |v| {
        for (name, port) in ports {
            if !service_ports.contains(name.as_str()) {
                v.field(name, |v| {
                    v.error(format!(
                        "endpoint port {port} is not defined by the service entry"
                    ))
                });
            }
        }
    });
}

impl Validate for WorkloadEntry {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        validate_istio_metadata(meta, v);
        v.field("spec", |v| {
            self.validate_schema(true, v);
            self.validate_entry(None, true, v);
        });
    }
}

impl ReadinessProbe {
    /// The CRD schema, then `validateReadinessProbe`.
    fn validate(&self, v: &mut Validator) {
        for (key, value) in [
            ("initialDelaySeconds", self.initial_delay_seconds),
            ("timeoutSeconds", self.timeout_seconds),
            ("periodSeconds", self.period_seconds),
            ("successThreshold", self.success_threshold),
            ("failureThreshold", self.failure_threshold),
        ] {
            v.field(key, |v| v.bounds(i64::from(value), Some(0), None));
        }
        if !v.one_of(&[
            self.http_get.is_some(),
            self.tcp_socket.is_some(),
            self.exec.is_some(),
            self.grpc.is_some(),
        ]) {
            return;
        }
        if let Some(h) = &self.http_get {
            v.field("httpGet", |v| h.validate(v));
        } else if let Some(t) = &self.tcp_socket {
            v.field("tcpSocket", |v| match t.port {
                None => v.required_field("port"),
                Some(p) => v.field("port", |v| crd_port_range(p, v)),
            });
        } else if let Some(e) = &self.exec {
            v.field("exec", |v| e.validate(v));
        } else if let Some(g) = &self.grpc {
            if let Some(p) = g.port {
                v.field("grpc", |v| v.field("port", |v| crd_port_range(p, v)));
            }
            // validateReadinessProbe has no case for grpc.
            v.field("grpc", |v| {
                v.error("unknown health check method *v1alpha3.ReadinessProbe_Grpc")
            });
        } else {
            v.error("unknown health check method <nil>");
        }
    }
}

impl HttpHealthCheck {
    fn validate(&self, v: &mut Validator) {
        match self.port {
            None => v.required_field("port"),
            Some(p) => v.field("port", |v| crd_port_range(p, v)),
        }
        if !matches!(self.scheme.as_str(), "" | "HTTP" | "HTTPS") {
            v.field("scheme", |v| {
                v.cel("string", "scheme must be one of [HTTP, HTTPS]")
            });
        }
        v.each("httpHeaders", &self.http_headers, |v, _, h| {
            v.field("name", |v| {
                if h.name.is_empty() {
                    // An absent name is not checked by the schema.
                    v.error("header name cannot be empty");
                } else if STRICT_HEADER_NAME.check(v, &h.name) && h.name.contains('_') {
                    // ValidateProbeHeaderName is stricter than the schema.
                    v.error(format!("header name {} is not a valid header name", h.name));
                }
            })
        });
    }
}

impl ExecHealthCheck {
    fn validate(&self, v: &mut Validator) {
        match &self.command {
            None => v.required_field("command"),
            Some(cmd) if cmd.is_empty() => {
                v.field("command", |v| v.error("exec.command is required"))
            }
            Some(cmd) => v.each("command", cmd, |v, _, arg| {
                NON_EMPTY.check(v, arg);
            }),
        }
    }
}

impl Validate for WorkloadGroup {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        validate_istio_metadata(meta, v);
        v.field("spec", |v| {
            // istiod deliberately skips validateWorkloadEntry here: address
            // and the like are filled in when a VM registers.
            match &self.template {
                None => v.required_field("template"),
                Some(t) => v.field("template", |v| t.validate_schema(false, v)),
            }
            if let Some(m) = &self.metadata {
                v.field("metadata", |v| {
                    v.field("labels", |v| {
                        let mut inner = Validator::new();
                        validate_label_instance(&m.labels, &mut inner);
                        for f in inner.into_findings() {
                            v.error(format!("invalid labels: {}", f.message));
                        }
                    })
                });
            }
            if let Some(p) = &self.probe {
                v.field("probe", |v| p.validate(v));
            }
        });
    }
}

spec_resources!(WorkloadEntry, WorkloadGroup);

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use crate::config::testing::{clean, located, manifest, problems};

    fn workload_entry(spec: &str) -> Vec<String> {
        problems(&manifest(
            "networking.istio.io/v1",
            "WorkloadEntry",
            "vm-1",
            "ns1",
            spec,
        ))
    }

    fn workload_group(spec: &str) -> Vec<String> {
        problems(&manifest(
            "networking.istio.io/v1",
            "WorkloadGroup",
            "vms",
            "ns1",
            spec,
        ))
    }

    // CRD rules, then validateWorkloadEntry (FQDN addresses allowed)
    #[test_case("{address: 10.0.0.5, labels: {app: ratings}, ports: {http: 9080}, serviceAccount: ratings}", &[]; "valid")]
    #[test_case("{address: vm1.example.com}", &[]; "fqdn address")]
    #[test_case("{labels: {app: ratings}}", &["error: spec: Invalid value: \"object\": Address is required"]; "address required")]
    #[test_case("{network: vm-net}", &["warning: spec.address: address is unset with network \"vm-net\""]; "network only")]
    #[test_case("{address: \"unix:///var/run/a/\"}", &["error: spec.address: Invalid value: \"string\": UDS may not be a dir"]; "uds dir")]
    #[test_case("{address: \"bad_host\"}", &["error: spec.address: endpoint address \"bad_host\" is not a valid FQDN or an IP address"]; "bad address")]
    #[test_case("{address: 10.0.0.5, ports: {\"-bad\": 80}}", &["error: spec.ports: Invalid value: \"object\": port name must be valid"]; "bad port name")]
    #[test_case("{address: 10.0.0.5, labels: {\"bad key\": a}}", &["error: spec.labels: invalid tag key: \"bad key\""]; "bad label")]
    fn workload_entry_rules(spec: &str, want: &[&str]) {
        assert_eq!(workload_entry(spec), want);
    }

    // CRD rules, then ValidateWorkloadGroup / validateReadinessProbe
    #[test_case("{metadata: {labels: {app: a}}, template: {serviceAccount: a}, probe: {httpGet: {port: 8080, path: /ready}}}", &[]; "valid")]
    #[test_case("{probe: {tcpSocket: {port: 80}}}", &["error: spec.template: Required value"]; "template required")]
    #[test_case("{template: {address: \"unix://sock\"}}", &["error: spec.template.address: Invalid value: \"string\": UDS must be an absolute path or abstract socket"]; "template uds")]
    #[test_case("{metadata: {labels: {\"a b\": x}}, template: {}}", &["error: spec.metadata.labels: invalid labels: invalid tag key: \"a b\""]; "bad labels")]
    #[test_case("{template: {}, probe: {periodSeconds: -1, tcpSocket: {port: 80}}}", &["error: spec.probe.periodSeconds: Invalid value: -1: spec.probe.periodSeconds in body should be greater than or equal to 0"]; "negative period")]
    #[test_case("{template: {}, probe: {tcpSocket: {port: 80}, exec: {command: [x]}}}", &["error: spec.probe: must validate one and only one schema (oneOf). Found 2 valid alternatives"]; "two methods")]
    #[test_case("{template: {}, probe: {periodSeconds: 5}}", &["error: spec.probe: unknown health check method <nil>"]; "no method")]
    #[test_case("{template: {}, probe: {grpc: {port: 9000}}}", &["error: spec.probe.grpc: unknown health check method *v1alpha3.ReadinessProbe_Grpc"]; "grpc is not handled by istiod")]
    #[test_case("{template: {}, probe: {httpGet: {path: /}}}", &["error: spec.probe.httpGet.port: Required value"]; "http port required")]
    #[test_case("{template: {}, probe: {httpGet: {port: 0, scheme: FTP}}}", &["error: spec.probe.httpGet.port: Invalid value: \"integer\": port must be between 1-65535", "error: spec.probe.httpGet.scheme: Invalid value: \"string\": scheme must be one of [HTTP, HTTPS]"]; "http port and scheme")]
    #[test_case("{template: {}, probe: {httpGet: {port: 80, httpHeaders: [{name: \"a b\"}, {name: x_y}, {value: v}]}}}", &[
        "error: spec.probe.httpGet.httpHeaders[0].name: Invalid value: \"a b\": spec.probe.httpGet.httpHeaders[0].name in body should match '^[-_A-Za-z0-9]+$'",
        "error: spec.probe.httpGet.httpHeaders[1].name: header name x_y is not a valid header name",
        "error: spec.probe.httpGet.httpHeaders[2].name: header name cannot be empty",
    ]; "http headers")]
    #[test_case("{template: {}, probe: {exec: {command: []}}}", &["error: spec.probe.exec.command: exec.command is required"]; "empty command")]
    #[test_case("{template: {}, probe: {exec: {command: [\"\"]}}}", &["error: spec.probe.exec.command[0]: Invalid value: \"\": spec.probe.exec.command[0] in body should be at least 1 chars long"]; "empty command item")]
    fn workload_group_rules(spec: &str, want: &[&str]) {
        assert_eq!(workload_group(spec), want);
    }

    #[test]
    fn vm_workload_entry_loads_cleanly() {
        // From Istio's "Virtual Machine Installation" guide.
        let text = "apiVersion: networking.istio.io/v1\nkind: WorkloadEntry\nmetadata:\n  name: details-vm\n  namespace: bookinfo\nspec:\n  serviceAccount: details-legacy\n  address: 2.2.2.2\n  labels:\n    app: details-legacy\n    instance-id: vm1\n";
        clean(text);
    }

    #[test]
    fn vm_workload_group_loads_cleanly() {
        // From Istio's WorkloadGroup reference page.
        let text = r#"apiVersion: networking.istio.io/v1
kind: WorkloadGroup
metadata:
  name: reviews
  namespace: bookinfo
spec:
  metadata:
    labels:
      app.kubernetes.io/name: reviews
      app.kubernetes.io/version: "1.3.4"
  template:
    ports:
      grpc: 3550
      http: 8080
    serviceAccount: default
  probe:
    initialDelaySeconds: 5
    timeoutSeconds: 3
    periodSeconds: 4
    successThreshold: 3
    failureThreshold: 3
    httpGet:
     path: /foo/bar
     host: 127.0.0.1
     port: 3100
     scheme: HTTPS
     httpHeaders:
     - name: Lit-Header
       value: Im-The-Best
"#;
        clean(text);
    }

    #[test]
    fn several_problems_are_each_located() {
        let text = "apiVersion: networking.istio.io/v1\nkind: WorkloadGroup\nmetadata:\n  name: reviews\nspec:\n  template:\n    address: \"unix://sock\"\n    ports:\n      http: 0\n  probe:\n    initialDelaySeconds: -5\n    httpGet:\n      port: 8080\n";
        assert_eq!(
            located(text),
            [
                "7: error: spec.template: Invalid value: \"object\": UDS may not include ports",
                "7: error: spec.template.address: Invalid value: \"string\": UDS must be an absolute path or abstract socket",
                "9: error: spec.template.ports.http: Invalid value: \"integer\": port must be between 1-65535",
                "11: error: spec.probe.initialDelaySeconds: Invalid value: -5: spec.probe.initialDelaySeconds in body should be greater than or equal to 0",
            ]
        );
    }
}
