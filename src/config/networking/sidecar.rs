//! networking.istio.io `Sidecar`: narrows what a workload's sidecar proxy
//! listens on (ingress) and which services it knows about (egress), and
//! whether it may reach hosts outside the registry. Validation is the CRD
//! schema rules, then istiod's `ValidateSidecar`,
//! `validateSidecarIngressPortAndBind`,
//! `validateSidecarEgressPortBindAndCaptureMode` and
//! `validateSidecarOutboundTrafficPolicy`
//! (`pkg/config/validation/validation.go`, Istio 1.27).

use std::collections::{BTreeMap, BTreeSet};

use serde::Deserialize;

use super::common::{
    WorkloadSelector, is_ip, validate_fqdn, validate_istio_metadata, validate_port,
    validate_wildcard_domain,
};
use super::destination_rule::{ConnectionPoolSettings, validate_connection_pool};
use super::gateway::{
    Port, Protocol, ServerTlsMode, ServerTlsSettings, unix_address_problem,
    validate_namespace_slash_host,
};
use super::virtual_service::{Destination, validate_destination};
use crate::config::kinds::Validate;
use crate::config::meta::ObjectMeta;
use crate::config::validate::Validator;
use crate::spec_resources;

/// The scope and listeners of the sidecars of the selected workloads (all
/// workloads of the namespace when there is no selector).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Sidecar {
    pub workload_selector: Option<WorkloadSelector>,
    pub ingress: Vec<IngressListener>,
    /// The hosts the sidecar gets configuration for; services not listed
    /// are unknown to it (and so `REGISTRY_ONLY` blocks them).
    pub egress: Vec<EgressListener>,
    /// Limits on connections from the sidecar to the application, for
    /// every ingress listener without its own.
    pub inbound_connection_pool: Option<ConnectionPoolSettings>,
    pub outbound_traffic_policy: Option<OutboundTrafficPolicy>,
}

/// A listener for traffic arriving at the workload.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct IngressListener {
    /// Required by the schema.
    pub port: Option<Port>,
    pub bind: String,
    pub capture_mode: CaptureMode,
    /// Where the sidecar forwards: `127.0.0.1:PORT`, `0.0.0.0:PORT`,
    /// `[::1]:PORT`, `[::]:PORT` or `unix://path`.
    pub default_endpoint: String,
    pub tls: Option<ServerTlsSettings>,
    pub connection_pool: Option<ConnectionPoolSettings>,
}

/// Outbound listener(s): on `port` (or every port when it is unset), the
/// sidecar knows only the services of `hosts`.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct EgressListener {
    pub port: Option<Port>,
    pub bind: String,
    pub capture_mode: CaptureMode,
    /// `namespace/dnsName` entries: `./*` (this namespace), `istio-system/*`,
    /// `*/httpbin.org`, `~/*` (nothing).
    pub hosts: Vec<String>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum CaptureMode {
    /// Whatever the workload's capture setup does (normally iptables).
    #[default]
    #[serde(rename = "DEFAULT")]
    Default,
    #[serde(rename = "IPTABLES")]
    Iptables,
    /// No redirection: the application must talk to the listener directly.
    #[serde(rename = "NONE")]
    None,
}

/// What happens to traffic for hosts the sidecar does not know.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct OutboundTrafficPolicy {
    pub mode: OutboundMode,
    /// Where ALLOW_ANY traffic for unknown hosts goes instead of straight
    /// to its original destination.
    pub egress_proxy: Option<Destination>,
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum OutboundMode {
    /// Unknown hosts get no route: the request fails (502, or a reset for
    /// TCP) in the sidecar.
    #[default]
    #[serde(rename = "REGISTRY_ONLY")]
    RegistryOnly,
    /// Unknown hosts are passed through to their original destination.
    #[serde(rename = "ALLOW_ANY")]
    AllowAny,
}

/// The CRD's CEL rule on selector label values, then istiod's
/// `ValidateAlphaWorkloadSelector` with the kind's warning wording (`who`:
/// `sidecar`, `service entry`, `Envoy filter`). Returns false when the
/// selector is invalid: istiod then stops validating the object.
pub fn validate_alpha_selector(
    selector: Option<&WorkloadSelector>,
    who: &str,
    v: &mut Validator,
) -> bool {
    let Some(selector) = selector else {
        return true;
    };
    let mut ok = true;
    v.field("workloadSelector", |v| {
        if selector.labels.is_empty() {
            v.warn(format!(
                "{who}: workload selector specified without labels, will be applied to all services in namespace"
            ));
        }
        v.field("labels", |v| {
            for (key, value) in &selector.labels {
                v.field(key, |v| {
                    let pair = format!("{key}={value}");
                    if key.is_empty() {
                        v.error(format!("empty key is not supported in selector: {pair:?}"));
                        ok = false;
                    }
                    if value.contains('*') {
                        v.cel("string", "wildcard is not supported in selector");
                        ok = false;
                    } else if key.contains('*') {
                        v.error(format!("wildcard is not supported in selector: {pair:?}"));
                        ok = false;
                    }
                });
            }
        });
    });
    ok
}

fn validate_bind_ip(bind: &str, v: &mut Validator) {
    if !bind.is_empty() && !is_ip(bind) {
        v.field("bind", |v| v.error(format!("{bind} is not a valid IP")));
    }
}

fn reject_target_port(port: &Port, v: &mut Validator) {
    if port.target_port.is_some_and(|t| t > 0) {
        v.field("port", |v| {
            v.field("targetPort", |v| {
                v.error("targetPort has no impact on Sidecars")
            })
        });
    }
}

impl IngressListener {
    fn validate(&self, port: &Port, v: &mut Validator) {
        reject_target_port(port, v);
        v.field("port", |v| {
            port.validate_name_and_protocol(true, v);
            v.field("number", |v| validate_port(port.number(), v));
        });
        validate_bind_ip(&self.bind, v);
        if !self.default_endpoint.is_empty() {
            v.field("defaultEndpoint", |v| {
                validate_default_endpoint(&self.default_endpoint, v)
            });
        }
        if let Some(tls) = &self.tls {
            v.field("tls", |v| validate_ingress_tls(tls, port.protocol(), v));
        }
        if let Some(pool) = &self.connection_pool {
            v.field("connectionPool", |v| {
                validate_connection_pool(pool, v);
                if pool.http.is_some() && !port.protocol().is_http() {
                    v.warn(format!(
                        "sidecar: HTTP connection pool settings are configured for port {} ({:?}) but its protocol is not HTTP ({}); only TCP settings will apply",
                        port.number(),
                        port.name(),
                        port.protocol.as_deref().unwrap_or("")
                    ));
                }
            });
        }
    }
}

/// The sidecar-specific rules on ingress `tls`, then the Gateway's.
fn validate_ingress_tls(tls: &ServerTlsSettings, protocol: Protocol, v: &mut Validator) {
    let unsupported = [
        (
            "subjectAltNames",
            !tls.subject_alt_names.is_empty(),
            "sidecar: subjectAltNames is not supported in ingress tls",
        ),
        (
            "httpsRedirect",
            tls.https_redirect,
            "sidecar: httpsRedirect is not supported",
        ),
        (
            "credentialName",
            !tls.credential_name.is_empty(),
            "sidecar: credentialName is not currently supported",
        ),
        (
            "credentialNames",
            tls.credential_names.as_ref().is_some_and(|n| !n.is_empty()),
            "sidecar: credentialNames is not currently supported",
        ),
        (
            "tlsCertificates",
            tls.tls_certificates.as_ref().is_some_and(|c| !c.is_empty()),
            "sidecar: tls_certificates is not currently supported",
        ),
    ];
    for (key, set, message) in unsupported {
        if set {
            v.field(key, |v| v.error(message));
        }
    }
    if matches!(
        tls.mode,
        ServerTlsMode::IstioMutual | ServerTlsMode::AutoPassthrough
    ) {
        v.field("mode", |v| {
            v.error(format!(
                "configuration is invalid: cannot set mode to {} in sidecar ingress tls",
                tls.mode
            ))
        });
    }
    if !protocol.is_tls() {
        v.error("server cannot have TLS settings for non HTTPS/TLS ports");
    }
    tls.validate_options(v);
}

/// `defaultEndpoint` must be a loopback/any address with a port, or a unix
/// socket. The messages are Go's `net.SplitHostPort` and `strconv.Atoi`
/// errors, as istiod passes them on.
fn validate_default_endpoint(endpoint: &str, v: &mut Validator) {
    if let Some(path) = endpoint.strip_prefix("unix://") {
        if let Some(e) = unix_address_problem(path) {
            v.error(e);
        }
        return;
    }
    let (host, port) = match split_host_port(endpoint) {
        Ok(parts) => parts,
        Err(e) => {
            v.error(format!("address {endpoint}: {e}"));
            ("", "")
        }
    };
    if !matches!(host, "" | "127.0.0.1" | "0.0.0.0" | "::1" | "::") {
        v.error("sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset");
    }
    match port.parse::<i64>() {
        Ok(n) if (1..=65535).contains(&n) => {}
        Ok(n) => v.error(format!("port number {n} must be in the range 1..65535")),
        Err(e) => {
            use std::num::IntErrorKind::{NegOverflow, PosOverflow};
            let why = match e.kind() {
                PosOverflow | NegOverflow => "value out of range",
                _ => "invalid syntax",
            };
            v.error(format!(
                "sidecar: defaultEndpoint port ({port}) is not a number: strconv.Atoi: parsing {port:?}: {why}"
            ));
        }
    }
}

/// Go's `net.SplitHostPort`, with its error texts.
fn split_host_port(hostport: &str) -> Result<(&str, &str), &'static str> {
    const MISSING_PORT: &str = "missing port in address";
    const TOO_MANY_COLONS: &str = "too many colons in address";
    let i = hostport.rfind(':').ok_or(MISSING_PORT)?;
    let (host, j, k) = if hostport.starts_with('[') {
        let end = hostport.find(']').ok_or("missing ']' in address")?;
        if end + 1 == hostport.len() {
            return Err(MISSING_PORT);
        }
        if end + 1 != i {
            return Err(if hostport.as_bytes()[end + 1] == b':' {
                TOO_MANY_COLONS
            } else {
                MISSING_PORT
            });
        }
        (&hostport[1..end], 1, end + 1)
    } else {
        let host = &hostport[..i];
        if host.contains(':') {
            return Err(TOO_MANY_COLONS);
        }
        (host, 0, 0)
    };
    if hostport[j..].contains('[') {
        return Err("unexpected '[' in address");
    }
    if hostport[k..].contains(']') {
        return Err("unexpected ']' in address");
    }
    Ok((host, &hostport[i + 1..]))
}

impl EgressListener {
    /// `validateSidecarEgressPortBindAndCaptureMode`; port 0 means a unix
    /// domain socket listener.
    fn validate_port(&self, port: &Port, v: &mut Validator) {
        reject_target_port(port, v);
        v.field("port", |v| port.validate_name_and_protocol(true, v));
        if port.number() != 0 {
            v.field("port", |v| {
                v.field("number", |v| validate_port(port.number(), v))
            });
            validate_bind_ip(&self.bind, v);
            return;
        }
        v.field("bind", |v| match self.bind.strip_prefix("unix://") {
            None => {
                v.error("sidecar: ports with 0 value must have a unix domain socket bind address")
            }
            Some(path) => {
                if let Some(e) = unix_address_problem(path) {
                    v.error(e);
                }
            }
        });
        if !matches!(self.capture_mode, CaptureMode::Default | CaptureMode::None) {
            v.field("captureMode", |v| {
                v.error(
                    "sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners",
                )
            });
        }
    }

    /// Host format, and the duplicates istiod only warns about.
    fn validate_hosts(&self, namespace: &str, v: &mut Validator) {
        let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
        v.each("hosts", &self.hosts, |v, _, host| {
            if let Some((ns, svc)) = host.split_once('/') {
                let ns = if ns == "." { namespace } else { ns };
                let services = seen.entry(ns).or_default();
                let duplicate = if svc == "*" {
                    !services.is_empty()
                } else {
                    services.contains(svc) || services.contains("*")
                };
                if duplicate {
                    v.warn(format!("duplicated egress host: {host}"));
                }
                services.insert(svc);
            }
            validate_namespace_slash_host(host, false, v);
        });
        if seen.get("*").is_some_and(|s| s.contains("*")) && seen.len() != 1 {
            v.field("hosts", |v| {
                v.warn("`*/*` host select all resources, no other hosts can be added")
            });
        }
    }
}

impl OutboundTrafficPolicy {
    /// `validateSidecarOutboundTrafficPolicy`.
    fn validate(&self, v: &mut Validator) {
        // Without a host the schema already rejected the object.
        let Some(proxy) = self.egress_proxy.as_ref().filter(|p| p.host.is_some()) else {
            return;
        };
        v.field("egressProxy", |v| {
            if self.mode != OutboundMode::AllowAny {
                v.error("sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode");
                return;
            }
            // validateDestination repeats most host problems; report the
            // FQDN one only when it is different or the port check stops
            // validation first.
            let host = proxy.host();
            if let Some(e) = validate_fqdn(host)
                && (proxy.port.is_none() || validate_wildcard_domain(host).as_ref() != Some(&e))
            {
                v.field("host", |v| v.error(e));
            }
            if proxy.port.is_none() {
                v.field("port", |v| {
                    v.error("sidecar: egress_proxy port must be non-nil")
                });
                return;
            }
            validate_destination(proxy, v);
        });
    }
}

impl Sidecar {
    fn validate_schema(&self, v: &mut Validator) {
        v.each("ingress", &self.ingress, |v, _, l| {
            if l.port.is_none() {
                v.required_field("port");
            }
            if let Some(tls) = &l.tls {
                v.field("tls", |v| tls.validate_schema(v));
            }
        });
        v.each("egress", &self.egress, |v, _, l| {
            if l.hosts.is_empty() {
                v.required_field("hosts");
            }
        });
        let proxy_without_host = self
            .outbound_traffic_policy
            .as_ref()
            .and_then(|p| p.egress_proxy.as_ref())
            .is_some_and(|p| p.host.is_none());
        if proxy_without_host {
            v.field("outboundTrafficPolicy", |v| {
                v.field("egressProxy", |v| v.required_field("host"))
            });
        }
    }

    fn validate_webhook(&self, meta: &ObjectMeta, v: &mut Validator) {
        if !validate_alpha_selector(self.workload_selector.as_ref(), "sidecar", v) {
            return;
        }
        if self.egress.is_empty()
            && self.ingress.is_empty()
            && self.outbound_traffic_policy.is_none()
            && self.inbound_connection_pool.is_none()
        {
            v.error("sidecar: empty configuration provided");
            return;
        }
        let mut ports = BTreeSet::new();
        v.each("ingress", &self.ingress, |v, _, listener| {
            let Some(port) = &listener.port else { return };
            listener.validate(port, v);
            if !ports.insert(port.number()) {
                v.field("port", |v| {
                    v.error("sidecar: ports on IP bound listeners must be unique")
                });
            }
        });
        if let Some(pool) = &self.inbound_connection_pool {
            v.field("inboundConnectionPool", |v| {
                validate_connection_pool(pool, v)
            });
        }
        self.validate_egress(meta.namespace(), v);
        if let Some(policy) = &self.outbound_traffic_policy {
            v.field("outboundTrafficPolicy", |v| policy.validate(v));
        }
    }

    fn validate_egress(&self, namespace: &str, v: &mut Validator) {
        let mut ports = BTreeSet::new();
        let mut sockets = BTreeSet::new();
        let last = self.egress.len().saturating_sub(1);
        let mut catch_all_found = false;
        v.each("egress", &self.egress, |v, i, listener| {
            match &listener.port {
                // The catch-all listener (every port) must come last.
                None if catch_all_found => {
                    v.error("sidecar: egress can have only one listener with empty port");
                    return;
                }
                None if i == last => catch_all_found = true,
                None => v.error(
                    "sidecar: the egress listener with empty port should be the last listener in the list",
                ),
                Some(port) => {
                    listener.validate_port(port, v);
                    let unique = if port.number() == 0 {
                        sockets.insert(listener.bind.as_str())
                    } else {
                        ports.insert(port.number())
                    };
                    if !unique {
                        v.field("port", |v| {
                            v.error(if port.number() == 0 {
                                "sidecar: unix domain socket values for listeners must be unique"
                            } else {
                                "sidecar: ports on IP bound listeners must be unique"
                            })
                        });
                    }
                }
            }
            listener.validate_hosts(namespace, v);
        });
    }
}

impl Validate for Sidecar {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        validate_istio_metadata(meta, v);
        v.field("spec", |v| {
            self.validate_schema(v);
            self.validate_webhook(meta, v);
        });
    }
}

spec_resources!(Sidecar);

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use crate::config::testing::{clean, located, manifest, problems};

    fn sidecar(spec: &str) -> Vec<String> {
        problems(&manifest(
            "networking.istio.io/v1",
            "Sidecar",
            "default",
            "ns1",
            spec,
        ))
    }

    const IN: &str = "port: {number: 9080, protocol: HTTP, name: http}";

    // CRD schema
    #[test_case("{ingress: [{defaultEndpoint: \"127.0.0.1:8080\"}]}", &["error: spec.ingress[0].port: Required value"]; "ingress port required")]
    #[test_case("{egress: [{port: {number: 80}}]}", &["error: spec.egress[0].hosts: Required value"]; "egress hosts required")]
    #[test_case("{outboundTrafficPolicy: {mode: ALLOW_ANY, egressProxy: {port: {number: 80}}}}", &["error: spec.outboundTrafficPolicy.egressProxy.host: Required value"]; "egress proxy host required")]
    #[test_case("{workloadSelector: {labels: {app: \"rev*\"}}, egress: [{hosts: [\"./*\"]}]}", &["error: spec.workloadSelector.labels.app: Invalid value: \"string\": wildcard is not supported in selector"]; "selector value wildcard")]
    // ValidateSidecar
    #[test_case("{}", &["error: spec: sidecar: empty configuration provided"]; "empty")]
    #[test_case("{workloadSelector: {}, egress: [{hosts: [\"./*\"]}]}", &["warning: spec.workloadSelector: sidecar: workload selector specified without labels, will be applied to all services in namespace"]; "selector without labels")]
    #[test_case("{ingress: [{port: {number: 9080, protocol: HTTP, name: http, targetPort: 1}}]}", &["error: spec.ingress[0].port.targetPort: targetPort has no impact on Sidecars"]; "ingress target port")]
    #[test_case("{ingress: [{port: {number: 0, protocol: FTP, name: Web_1}, bind: 1.2.3}]}", &["error: spec.ingress[0].port.name: invalid port name: Web_1", "error: spec.ingress[0].port.protocol: unsupported protocol: FTP", "error: spec.ingress[0].port.number: port number 0 must be in the range 1..65535", "error: spec.ingress[0].bind: 1.2.3 is not a valid IP"]; "ingress port and bind")]
    #[test_case(&format!("{{ingress: [{{{IN}}}, {{{IN}}}]}}"), &["error: spec.ingress[1].port: sidecar: ports on IP bound listeners must be unique"]; "ingress ports unique")]
    #[test_case(&format!("{{ingress: [{{{IN}, defaultEndpoint: \"10.0.0.1:8080\"}}]}}"), &["error: spec.ingress[0].defaultEndpoint: sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset"]; "default endpoint host")]
    #[test_case(&format!("{{ingress: [{{{IN}, defaultEndpoint: \"127.0.0.1\"}}]}}"), &["error: spec.ingress[0].defaultEndpoint: address 127.0.0.1: missing port in address", "error: spec.ingress[0].defaultEndpoint: sidecar: defaultEndpoint port () is not a number: strconv.Atoi: parsing \"\": invalid syntax"]; "default endpoint without port")]
    #[test_case(&format!("{{ingress: [{{{IN}, defaultEndpoint: \"[::1]:99999\"}}]}}"), &["error: spec.ingress[0].defaultEndpoint: port number 99999 must be in the range 1..65535"]; "default endpoint port range")]
    #[test_case(&format!("{{ingress: [{{{IN}, defaultEndpoint: \"unix://sock\"}}]}}"), &["error: spec.ingress[0].defaultEndpoint: sock is not an absolute path to a file"]; "default endpoint unix")]
    #[test_case(
        &format!("{{ingress: [{{{IN}, tls: {{mode: ISTIO_MUTUAL, httpsRedirect: true, credentialName: c, subjectAltNames: [a]}}}}]}}"),
        &[
            "error: spec.ingress[0].tls.subjectAltNames: sidecar: subjectAltNames is not supported in ingress tls",
            "error: spec.ingress[0].tls.httpsRedirect: sidecar: httpsRedirect is not supported",
            "error: spec.ingress[0].tls.credentialName: sidecar: credentialName is not currently supported",
            "error: spec.ingress[0].tls.mode: configuration is invalid: cannot set mode to ISTIO_MUTUAL in sidecar ingress tls",
            "error: spec.ingress[0].tls: server cannot have TLS settings for non HTTPS/TLS ports",
            "error: spec.ingress[0].tls.credentialName: ISTIO_MUTUAL TLS cannot have associated credentialName",
        ];
        "ingress tls"
    )]
    #[test_case("{ingress: [{port: {number: 9443, protocol: HTTPS, name: https}, tls: {mode: SIMPLE, privateKey: /k.pem, serverCertificate: /c.pem}}]}", &[]; "ingress tls termination")]
    #[test_case(&format!("{{ingress: [{{{IN}, connectionPool: {{}}}}]}}"), &["error: spec.ingress[0].connectionPool: connection pool must have at least one field"]; "empty connection pool")]
    #[test_case("{ingress: [{port: {number: 9000, protocol: TCP, name: tcp}, connectionPool: {http: {maxRetries: 3}}}]}", &["warning: spec.ingress[0].connectionPool: sidecar: HTTP connection pool settings are configured for port 9000 (\"tcp\") but its protocol is not HTTP (TCP); only TCP settings will apply"]; "http pool on tcp port")]
    #[test_case("{inboundConnectionPool: {http: {maxRetries: -1}}}", &["error: spec.inboundConnectionPool.http.maxRetries: max retries must be non-negative"]; "inbound pool")]
    #[test_case("{egress: [{hosts: [\"./*\"]}, {port: {number: 80}, hosts: [\"./*\"]}]}", &["error: spec.egress[0]: sidecar: the egress listener with empty port should be the last listener in the list"]; "catch all last")]
    #[test_case("{egress: [{port: {number: 0}, bind: 1.1.1.1, captureMode: IPTABLES, hosts: [\"./*\"]}]}", &["error: spec.egress[0].bind: sidecar: ports with 0 value must have a unix domain socket bind address", "error: spec.egress[0].captureMode: sidecar: captureMode must be DEFAULT/NONE for unix domain socket listeners"]; "uds egress")]
    #[test_case("{egress: [{port: {number: 0}, bind: \"unix:///s\", hosts: [\"./*\"]}, {port: {number: 0}, bind: \"unix:///s\", hosts: [\"./*\"]}]}", &["error: spec.egress[1].port: sidecar: unix domain socket values for listeners must be unique"]; "uds egress unique")]
    #[test_case("{egress: [{port: {number: 80, targetPort: 8080}, bind: 1.1.1, hosts: [\"./*\"]}, {port: {number: 80}, hosts: [\"./*\"]}]}", &["error: spec.egress[0].port.targetPort: targetPort has no impact on Sidecars", "error: spec.egress[0].bind: 1.1.1 is not a valid IP", "error: spec.egress[1].port: sidecar: ports on IP bound listeners must be unique"]; "egress ports")]
    #[test_case("{egress: [{hosts: [reviews.default.svc.cluster.local]}]}", &["error: spec.egress[0].hosts[0]: host must be of form namespace/dnsName"]; "egress host without namespace")]
    #[test_case("{egress: [{hosts: [\"Bad_ns/*\", \"ns1/reviews\", \"ns1/a*.example.com\"]}]}", &[
        "error: spec.egress[0].hosts[0]: invalid namespace value \"Bad_ns\" in sidecar",
        "error: spec.egress[0].hosts[1]: short names (non FQDN) are not allowed",
        "error: spec.egress[0].hosts[2]: domain name \"a*.example.com\" invalid (label \"a*\" invalid)",
        "error: spec.egress[0].hosts[2]: partial wildcard \"a*.example.com\" not allowed",
    ]; "egress host format")]
    #[test_case("{egress: [{hosts: [\"ns1/*\", \"./a.example.com\", \"*/*\"]}]}", &["warning: spec.egress[0].hosts[1]: duplicated egress host: ./a.example.com", "warning: spec.egress[0].hosts: `*/*` host select all resources, no other hosts can be added"]; "egress duplicates")]
    #[test_case("{outboundTrafficPolicy: {mode: REGISTRY_ONLY, egressProxy: {host: egress.example.com, port: {number: 80}}}}", &["error: spec.outboundTrafficPolicy.egressProxy: sidecar: egress_proxy must be set only with ALLOW_ANY outbound_traffic_policy mode"]; "egress proxy mode")]
    #[test_case("{outboundTrafficPolicy: {mode: ALLOW_ANY, egressProxy: {host: \"*.example.com\"}}}", &["error: spec.outboundTrafficPolicy.egressProxy.host: domain name \"*.example.com\" invalid (label \"*\" invalid)", "error: spec.outboundTrafficPolicy.egressProxy.port: sidecar: egress_proxy port must be non-nil"]; "egress proxy host and port")]
    #[test_case("{outboundTrafficPolicy: {mode: ALLOW_ANY, egressProxy: {host: egress.example.com, subset: v_1, port: {number: 0}}}}", &["error: spec.outboundTrafficPolicy.egressProxy.subset: subset name is invalid: v_1", "error: spec.outboundTrafficPolicy.egressProxy.port.number: port number 0 must be in the range 1..65535"]; "egress proxy destination")]
    fn sidecar_rules(spec: &str, want: &[&str]) {
        assert_eq!(sidecar(spec), want);
    }

    #[test]
    fn namespace_scoping_sidecar_loads_cleanly() {
        // The "default Sidecar" of Istio's Sidecar reference page.
        let text = r#"apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: default
  namespace: istio-config
spec:
  egress:
  - hosts:
    - "./*"
    - "istio-system/*"
  outboundTrafficPolicy:
    mode: REGISTRY_ONLY
"#;
        clean(text);
    }

    #[test]
    fn several_problems_are_each_located() {
        let text = r#"apiVersion: networking.istio.io/v1
kind: Sidecar
metadata:
  name: ratings
  namespace: bookinfo
spec:
  workloadSelector:
    labels:
      app: ratings
  ingress:
  - port:
      number: 9080
      protocol: HTTP
      name: somename
    defaultEndpoint: 10.1.1.1:8080
  egress:
  - hosts:
    - "prod-us1/*"
  - port:
      number: 9080
    hosts:
    - reviews
"#;
        assert_eq!(
            located(text),
            [
                "15: error: spec.ingress[0].defaultEndpoint: sidecar: defaultEndpoint must be of form 127.0.0.1:<port>,0.0.0.0:<port>,[::1]:port,[::]:port,unix://filepath or unset",
                "17: error: spec.egress[0]: sidecar: the egress listener with empty port should be the last listener in the list",
                "22: error: spec.egress[1].hosts[0]: host must be of form namespace/dnsName",
            ]
        );
    }
}
