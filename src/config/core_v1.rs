//! The core/v1 kinds meshsim simulates: Namespace, Pod, Service,
//! ServiceAccount, ConfigMap and Secret. Field lists follow Kubernetes 1.32
//! so that real manifests load; fields that do not change what the mesh does
//! (volumes, security contexts, probes' details…) are accepted as opaque
//! values and documented in `docs/fidelity.md`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::kinds::Validate;
use super::meta::{ObjectMeta, validate_labels};
use super::types::{IntOrString, Quantity};
use super::validate::{Validator, dns1123_label, port_number};
use crate::spec_resources;

type Opaque = Option<serde_json::Value>;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Namespace {
    pub finalizers: Vec<String>,
}

impl Validate for Namespace {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(super::meta::NameRule::Dns1123Label, v);
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct PodSpec {
    pub active_deadline_seconds: Opaque,
    pub affinity: Opaque,
    pub automount_service_account_token: Option<bool>,
    pub containers: Vec<Container>,
    pub dns_config: Opaque,
    pub dns_policy: Option<String>,
    pub enable_service_links: Option<bool>,
    pub ephemeral_containers: Opaque,
    pub host_aliases: Opaque,
    #[serde(rename = "hostIPC")]
    pub host_ipc: Option<bool>,
    pub host_network: Option<bool>,
    #[serde(rename = "hostPID")]
    pub host_pid: Option<bool>,
    pub host_users: Option<bool>,
    pub hostname: Option<String>,
    pub image_pull_secrets: Opaque,
    pub init_containers: Vec<Container>,
    pub node_name: Option<String>,
    pub node_selector: BTreeMap<String, String>,
    pub os: Opaque,
    pub overhead: Opaque,
    pub preemption_policy: Option<String>,
    pub priority: Option<i32>,
    pub priority_class_name: Option<String>,
    pub readiness_gates: Opaque,
    pub resource_claims: Opaque,
    pub resources: Opaque,
    pub restart_policy: Option<String>,
    pub runtime_class_name: Option<String>,
    pub scheduler_name: Option<String>,
    pub scheduling_gates: Opaque,
    pub security_context: Opaque,
    pub service_account: Option<String>,
    pub service_account_name: Option<String>,
    #[serde(rename = "setHostnameAsFQDN")]
    pub set_hostname_as_fqdn: Option<bool>,
    pub share_process_namespace: Option<bool>,
    pub subdomain: Option<String>,
    pub termination_grace_period_seconds: Option<i64>,
    pub tolerations: Opaque,
    pub topology_spread_constraints: Opaque,
    pub volumes: Opaque,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Container {
    pub args: Vec<String>,
    pub command: Vec<String>,
    pub env: Vec<EnvVar>,
    pub env_from: Opaque,
    pub image: String,
    pub image_pull_policy: Option<String>,
    pub lifecycle: Opaque,
    pub liveness_probe: Opaque,
    pub name: String,
    pub ports: Vec<ContainerPort>,
    pub readiness_probe: Opaque,
    pub resize_policy: Opaque,
    pub resources: ResourceRequirements,
    pub restart_policy: Option<String>,
    pub security_context: Opaque,
    pub startup_probe: Opaque,
    pub stdin: Option<bool>,
    pub stdin_once: Option<bool>,
    pub termination_message_path: Option<String>,
    pub termination_message_policy: Option<String>,
    pub tty: Option<bool>,
    pub volume_devices: Opaque,
    pub volume_mounts: Opaque,
    pub working_dir: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct EnvVar {
    pub name: String,
    pub value: Option<String>,
    pub value_from: Opaque,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ContainerPort {
    pub container_port: i32,
    #[serde(rename = "hostIP")]
    pub host_ip: Option<String>,
    pub host_port: Option<i32>,
    pub name: Option<String>,
    pub protocol: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ResourceRequirements {
    pub limits: BTreeMap<String, Quantity>,
    pub requests: BTreeMap<String, Quantity>,
    pub claims: Opaque,
}

const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

impl PodSpec {
    /// `ValidatePodSpec`, for the fields meshsim reads.
    pub fn validate_spec(&self, v: &mut Validator) {
        if self.containers.is_empty() {
            v.required_field("containers");
        }
        let mut names: Vec<&str> = Vec::new();
        v.each("initContainers", &self.init_containers, |v, _, c| {
            c.validate(&mut names, v);
        });
        v.each("containers", &self.containers, |v, _, c| {
            c.validate(&mut names, v);
        });
        if let Some(policy) = &self.restart_policy
            && !matches!(policy.as_str(), "Always" | "OnFailure" | "Never")
        {
            v.field("restartPolicy", |v| {
                v.unsupported(policy, &["Always", "OnFailure", "Never"])
            });
        }
        if let Some(sa) = &self.service_account_name
            && let Some(msg) = super::validate::dns1123_subdomain(sa)
        {
            v.field("serviceAccountName", |v| v.invalid(sa, &msg));
        }
        v.field("nodeSelector", |v| validate_labels(&self.node_selector, v));
    }

    /// The service account the pod runs as (`default` when unset).
    pub fn service_account(&self) -> &str {
        self.service_account_name
            .as_deref()
            .or(self.service_account.as_deref())
            .filter(|s| !s.is_empty())
            .unwrap_or("default")
    }
}

impl Container {
    fn validate<'a>(&'a self, names: &mut Vec<&'a str>, v: &mut Validator) {
        if self.name.is_empty() {
            v.required_field("name");
        } else if let Some(msg) = dns1123_label(&self.name) {
            v.field("name", |v| v.invalid(&self.name, &msg));
        } else if names.contains(&self.name.as_str()) {
            v.field("name", |v| v.duplicate(&self.name));
        } else {
            names.push(&self.name);
        }
        if self.image.trim().is_empty() {
            v.required_field("image");
        }
        v.each("ports", &self.ports, |v, _, p| {
            if let Some(msg) = port_number(i64::from(p.container_port)) {
                v.field("containerPort", |v| v.invalid_num(p.container_port, &msg));
            }
            if let Some(proto) = &p.protocol
                && !PROTOCOLS.contains(&proto.as_str())
            {
                v.field("protocol", |v| v.unsupported(proto, PROTOCOLS));
            }
        });
        v.field("resources", |v| {
            for (key, map) in [
                ("limits", &self.resources.limits),
                ("requests", &self.resources.requests),
            ] {
                v.field(key, |v| {
                    for (name, q) in map {
                        v.field(name, |v| q.validate(v));
                    }
                });
            }
        });
        if let Some(policy) = &self.image_pull_policy
            && !matches!(policy.as_str(), "Always" | "IfNotPresent" | "Never")
        {
            v.field("imagePullPolicy", |v| {
                v.unsupported(policy, &["Always", "IfNotPresent", "Never"])
            });
        }
    }

    /// The value of an environment variable set literally in the manifest.
    pub fn env_value(&self, name: &str) -> Option<&str> {
        self.env
            .iter()
            .find(|e| e.name == name)
            .and_then(|e| e.value.as_deref())
    }
}

impl Validate for PodSpec {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(super::meta::NameRule::Dns1123Subdomain, v);
        v.field("metadata", |v| {
            v.field("annotations", |v| {
                super::sim_annotations::SimAnnotations::parse(&meta.annotations, v);
            })
        });
        v.field("spec", |v| self.validate_spec(v));
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ServiceSpec {
    pub allocate_load_balancer_node_ports: Option<bool>,
    #[serde(rename = "clusterIP")]
    pub cluster_ip: Option<String>,
    #[serde(rename = "clusterIPs")]
    pub cluster_ips: Vec<String>,
    #[serde(rename = "externalIPs")]
    pub external_ips: Vec<String>,
    pub external_name: Option<String>,
    pub external_traffic_policy: Option<String>,
    pub health_check_node_port: Option<i32>,
    pub internal_traffic_policy: Option<String>,
    pub ip_families: Opaque,
    pub ip_family_policy: Option<String>,
    pub load_balancer_class: Option<String>,
    #[serde(rename = "loadBalancerIP")]
    pub load_balancer_ip: Option<String>,
    pub load_balancer_source_ranges: Vec<String>,
    pub ports: Vec<ServicePort>,
    pub publish_not_ready_addresses: Option<bool>,
    pub selector: Option<BTreeMap<String, String>>,
    pub session_affinity: Option<String>,
    pub session_affinity_config: Opaque,
    pub traffic_distribution: Option<String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ServicePort {
    pub app_protocol: Option<String>,
    pub name: Option<String>,
    pub node_port: Option<i32>,
    pub port: i32,
    pub protocol: Option<String>,
    pub target_port: Option<IntOrString>,
}

/// `IsValidPortName`: at most 15 characters, with at least one letter.
fn is_port_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 15 && s.chars().any(|c| c.is_ascii_lowercase())
}

const SERVICE_TYPES: &[&str] = &["ClusterIP", "ExternalName", "LoadBalancer", "NodePort"];

impl ServiceSpec {
    pub fn service_type(&self) -> &str {
        self.type_.as_deref().unwrap_or("ClusterIP")
    }
}

impl Validate for ServiceSpec {
    /// `ValidateService` for the fields meshsim reads.
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(super::meta::NameRule::Dns1035Label, v);
        v.field("spec", |v| {
            let ty = self.service_type();
            if !SERVICE_TYPES.contains(&ty) {
                v.field("type", |v| v.unsupported(ty, SERVICE_TYPES));
            }
            if ty == "ExternalName" {
                if self.external_name.as_deref().unwrap_or("").is_empty() {
                    v.required_field("externalName");
                }
            } else if self.ports.is_empty() && self.cluster_ip.as_deref() != Some("None") {
                v.required_field("ports");
            }
            let multiple = self.ports.len() > 1;
            let mut names: Vec<&str> = Vec::new();
            v.each("ports", &self.ports, |v, _, p| {
                match p.name.as_deref() {
                    None | Some("") if multiple => v.required_field("name"),
                    Some(name) if !name.is_empty() => {
                        // `validateServicePort` checks port names as
                        // DNS-1123 labels (they may start with a digit).
                        if let Some(msg) = dns1123_label(name) {
                            v.field("name", |v| v.invalid(name, &msg));
                        } else if names.contains(&name) {
                            v.field("name", |v| v.duplicate(name));
                        }
                        names.push(name);
                    }
                    _ => {}
                }
                if let Some(msg) = port_number(i64::from(p.port)) {
                    v.field("port", |v| v.invalid_num(p.port, &msg));
                }
                match &p.target_port {
                    Some(IntOrString::Int(t)) => {
                        if let Some(msg) = port_number(*t) {
                            v.field("targetPort", |v| v.invalid_num(t, &msg));
                        }
                    }
                    Some(IntOrString::Str(s)) if !is_port_name(s) => v.field("targetPort", |v| {
                        v.invalid(s, "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
                    }),
                    _ => {}
                }
                if let Some(proto) = &p.protocol
                    && !PROTOCOLS.contains(&proto.as_str()) {
                        v.field("protocol", |v| v.unsupported(proto, PROTOCOLS));
                    }
            });
            if let Some(sel) = &self.selector {
                v.field("selector", |v| validate_labels(sel, v));
            }
        });
    }
}

/// ServiceAccount, ConfigMap and Secret keep their data at the top level
/// rather than under `spec`, so each has its own document type.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ServiceAccountDoc {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub automount_service_account_token: Option<bool>,
    pub image_pull_secrets: Opaque,
    pub secrets: Opaque,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceAccount {
    pub automount_token: Option<bool>,
}

impl super::kinds::Resource for ServiceAccount {
    type Doc = ServiceAccountDoc;
    fn split(doc: ServiceAccountDoc) -> (ObjectMeta, Self) {
        (
            doc.metadata,
            ServiceAccount {
                automount_token: doc.automount_service_account_token,
            },
        )
    }
}

impl Validate for ServiceAccount {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(super::meta::NameRule::Dns1123Subdomain, v);
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ConfigMapDoc {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub data: BTreeMap<String, String>,
    pub binary_data: BTreeMap<String, String>,
    pub immutable: Option<bool>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConfigMap {
    pub data: BTreeMap<String, String>,
    pub binary_data: BTreeMap<String, String>,
}

impl super::kinds::Resource for ConfigMap {
    type Doc = ConfigMapDoc;
    fn split(doc: ConfigMapDoc) -> (ObjectMeta, Self) {
        (
            doc.metadata,
            ConfigMap {
                data: doc.data,
                binary_data: doc.binary_data,
            },
        )
    }
}

impl Validate for ConfigMap {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(super::meta::NameRule::Dns1123Subdomain, v);
        validate_data_keys(self.data.keys().chain(self.binary_data.keys()), v);
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct SecretDoc {
    pub api_version: String,
    pub kind: String,
    pub metadata: ObjectMeta,
    pub data: BTreeMap<String, String>,
    pub string_data: BTreeMap<String, String>,
    #[serde(rename = "type")]
    pub type_: Option<String>,
    pub immutable: Option<bool>,
}

/// A Secret with `data` (base64) and `stringData` merged, as the apiserver
/// stores it; values here are the decoded text.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Secret {
    pub type_: String,
    pub data: BTreeMap<String, String>,
    /// Keys of `data` whose value was not valid base64.
    bad_base64: Vec<String>,
}

impl super::kinds::Resource for Secret {
    type Doc = SecretDoc;
    fn split(doc: SecretDoc) -> (ObjectMeta, Self) {
        let mut data = BTreeMap::new();
        let mut bad_base64 = Vec::new();
        for (k, v) in doc.data {
            match base64_decode(&v) {
                Some(text) => {
                    data.insert(k, text);
                }
                None => bad_base64.push(k),
            }
        }
        data.extend(doc.string_data);
        (
            doc.metadata,
            Secret {
                type_: doc.type_.unwrap_or_else(|| "Opaque".to_string()),
                data,
                bad_base64,
            },
        )
    }
}

impl Validate for Secret {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(super::meta::NameRule::Dns1123Subdomain, v);
        validate_data_keys(self.data.keys(), v);
        v.field("data", |v| {
            for k in &self.bad_base64 {
                v.field(k, |v| v.error("illegal base64 data"));
            }
        });
    }
}

fn validate_data_keys<'a>(keys: impl Iterator<Item = &'a String>, v: &mut Validator) {
    v.field("data", |v| {
        for k in keys {
            let ok = !k.is_empty()
                && k.len() <= 253
                && k.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
            if !ok {
                v.invalid(k, "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')");
            }
        }
    });
}

/// Standard base64 with padding, as Kubernetes encodes Secret data.
fn base64_decode(text: &str) -> Option<String> {
    let clean: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if !clean.len().is_multiple_of(4) {
        return None;
    }
    let value = |b: u8| -> Option<u32> {
        Some(match b {
            b'A'..=b'Z' => u32::from(b - b'A'),
            b'a'..=b'z' => u32::from(b - b'a') + 26,
            b'0'..=b'9' => u32::from(b - b'0') + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        })
    };
    let mut out = Vec::with_capacity(clean.len() / 4 * 3);
    for chunk in clean.chunks(4) {
        let pad = chunk.iter().rev().take_while(|&&b| b == b'=').count();
        if pad > 2 {
            return None;
        }
        let mut n: u32 = 0;
        for &b in &chunk[..4 - pad] {
            n = (n << 6) | value(b)?;
        }
        n <<= 6 * pad as u32;
        let bytes = n.to_be_bytes();
        out.extend_from_slice(&bytes[1..4 - pad]);
    }
    String::from_utf8(out).ok()
}

spec_resources!(Namespace, PodSpec, ServiceSpec);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_round_trips() {
        assert_eq!(base64_decode("aGVsbG8=").as_deref(), Some("hello"));
        assert_eq!(base64_decode("aGk=").as_deref(), Some("hi"));
        assert_eq!(base64_decode("abc"), None);
        assert_eq!(base64_decode("a*==").as_deref(), None);
    }
}
