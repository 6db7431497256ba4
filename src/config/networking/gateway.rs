//! networking.istio.io `Gateway`: the listeners of an ingress or egress
//! gateway (port, hosts, TLS). Also the pieces Sidecar and ServiceEntry share
//! with it: [`Port`], [`Protocol`], [`ServerTlsSettings`], and the host and
//! bind-address checks they have in common.
//!
//! Validation is the CRD schema rules first, then istiod's `ValidateGateway`,
//! `validateServer`, `validateServerPort`, `validateServerBind` and
//! `validateTLSOptions` (`pkg/config/validation/validation.go`, Istio 1.27).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use serde::Deserialize;

use super::common::{
    is_dns1123_label, is_ip, validate_istio_metadata, validate_port, validate_wildcard_domain,
};
use crate::config::kinds::Validate;
use crate::config::meta::ObjectMeta;
use crate::config::validate::Validator;
use crate::spec_resources;

/// A set of listeners run by the gateway workloads that `selector` picks.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Gateway {
    /// Labels of the gateway pods that get these listeners
    /// (`istio: ingressgateway`). Matched against pods in every namespace.
    pub selector: BTreeMap<String, String>,
    pub servers: Vec<Server>,
}

/// One listener: connections on `port` for one of `hosts` are accepted and
/// handed to the VirtualServices that name this gateway and the host.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Server {
    /// Required by the schema, so always present once validated; see
    /// [`Server::port`].
    pub port: Option<Port>,
    /// An IP or `unix://` path to listen on; empty means every address.
    pub bind: String,
    /// `[namespace/]dnsName` entries: which hosts this listener serves, and
    /// from which namespaces VirtualServices may bind to them. See
    /// [`split_namespace_host`].
    pub hosts: Vec<String>,
    /// TLS termination or passthrough; required for HTTPS and TLS ports.
    pub tls: Option<ServerTlsSettings>,
    pub default_endpoint: String,
    pub name: String,
}

/// A port as Gateway (`Port`), ServiceEntry (`ServicePort`) and Sidecar
/// (`SidecarPort`) declare it; the three protos have the same fields. Which
/// of them are required differs per kind, so all are optional here and the
/// accessors give the proto defaults.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct Port {
    pub number: Option<u32>,
    /// Case-insensitive; see [`Protocol::parse`].
    pub protocol: Option<String>,
    pub name: Option<String>,
    /// Only meaningful on ServiceEntry ports (the endpoint port); deprecated
    /// and rejected on Gateway and Sidecar ports.
    pub target_port: Option<u32>,
}

static NO_PORT: Port = Port {
    number: None,
    protocol: None,
    name: None,
    target_port: None,
};

impl Server {
    /// The port, or an empty one when it is missing (validation reports it).
    pub fn port(&self) -> &Port {
        self.port.as_ref().unwrap_or(&NO_PORT)
    }
}

impl Port {
    pub fn number(&self) -> u32 {
        self.number.unwrap_or(0)
    }

    pub fn protocol(&self) -> Protocol {
        Protocol::parse(self.protocol.as_deref().unwrap_or(""))
    }

    pub fn name(&self) -> &str {
        self.name.as_deref().unwrap_or("")
    }

    /// `ValidatePortName` and `ValidateProtocol`, for ServiceEntry and
    /// Sidecar ports (an empty protocol means sniffing). A Sidecar port's
    /// name is optional; a missing ServiceEntry port name is the schema's
    /// to report.
    pub fn validate_name_and_protocol(&self, name_optional: bool, v: &mut Validator) {
        if let Some(name) = &self.name
            && !(name_optional && name.is_empty())
            && !is_dns1123_label(name)
        {
            v.field("name", |v| v.error(format!("invalid port name: {name}")));
        }
        if let Some(p) = self.protocol.as_deref().filter(|p| !p.is_empty())
            && self.protocol() == Protocol::Unsupported
        {
            v.field("protocol", |v| {
                v.error(format!("unsupported protocol: {p}"))
            });
        }
    }

    /// The port as Go prints the proto message (`%v`) in istiod's messages.
    fn proto_text(&self) -> String {
        let mut parts = Vec::new();
        if let Some(n) = self.number.filter(|n| *n != 0) {
            parts.push(format!("number:{n}"));
        }
        if let Some(p) = self.protocol.as_deref().filter(|p| !p.is_empty()) {
            parts.push(format!("protocol:{p:?}"));
        }
        if let Some(n) = self.name.as_deref().filter(|n| !n.is_empty()) {
            parts.push(format!("name:{n:?}"));
        }
        if let Some(t) = self.target_port.filter(|t| *t != 0) {
            parts.push(format!("target_port:{t}"));
        }
        parts.join(" ")
    }
}

/// What a port carries, which decides how the proxy handles it: HTTP ports
/// get HTTP routing, TLS ports SNI routing, the rest plain TCP proxying.
/// Istio's `protocol.Parse`, case-insensitive.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Protocol {
    Http,
    Http2,
    Https,
    Grpc,
    GrpcWeb,
    HttpProxy,
    Tcp,
    Tls,
    Udp,
    Mongo,
    Redis,
    MySql,
    /// Empty or unknown. On Service and ServiceEntry ports this means the
    /// sidecar sniffs the protocol; on a Gateway it is invalid.
    Unsupported,
}

impl Protocol {
    pub fn parse(s: &str) -> Protocol {
        match s.to_ascii_lowercase().as_str() {
            "http" => Protocol::Http,
            "http2" => Protocol::Http2,
            "https" => Protocol::Https,
            "grpc" => Protocol::Grpc,
            "grpc-web" => Protocol::GrpcWeb,
            "http_proxy" => Protocol::HttpProxy,
            "tcp" => Protocol::Tcp,
            "tls" => Protocol::Tls,
            "udp" => Protocol::Udp,
            "mongo" => Protocol::Mongo,
            "redis" => Protocol::Redis,
            "mysql" => Protocol::MySql,
            _ => Protocol::Unsupported,
        }
    }

    /// Routed by HTTP attributes (VirtualService `http` routes).
    pub fn is_http(self) -> bool {
        matches!(
            self,
            Protocol::Http
                | Protocol::Http2
                | Protocol::HttpProxy
                | Protocol::Grpc
                | Protocol::GrpcWeb
        )
    }

    /// Carried over TCP without HTTP awareness (including TLS).
    pub fn is_tcp(self) -> bool {
        matches!(
            self,
            Protocol::Tcp
                | Protocol::Https
                | Protocol::Tls
                | Protocol::Mongo
                | Protocol::Redis
                | Protocol::MySql
        )
    }

    /// TLS on the wire: routed by SNI, or terminated at a gateway.
    pub fn is_tls(self) -> bool {
        matches!(self, Protocol::Https | Protocol::Tls)
    }
}

/// `ns/host` → (`ns`, `host`); a bare `host` means any namespace (`*`).
pub fn split_namespace_host(entry: &str) -> (&str, &str) {
    entry.split_once('/').unwrap_or(("*", entry))
}

/// How a server (or a Sidecar ingress listener) handles TLS.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ServerTlsSettings {
    /// Answer plain HTTP requests with a 301 to https.
    pub https_redirect: bool,
    pub mode: ServerTlsMode,
    pub server_certificate: String,
    pub private_key: String,
    pub ca_certificates: String,
    pub ca_crl: String,
    /// Kubernetes Secret holding the key and certificates (SDS).
    pub credential_name: String,
    pub credential_names: Option<Vec<String>>,
    pub tls_certificates: Option<Vec<TlsCertificate>>,
    pub subject_alt_names: Vec<String>,
    pub verify_certificate_spki: Vec<String>,
    pub verify_certificate_hash: Vec<String>,
    pub min_protocol_version: TlsProtocol,
    pub max_protocol_version: TlsProtocol,
    pub cipher_suites: Vec<String>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct TlsCertificate {
    pub server_certificate: String,
    pub private_key: String,
    pub ca_certificates: String,
}

/// Whether the listener terminates TLS, and whether it asks for client
/// certificates.
#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum ServerTlsMode {
    /// Forward the TLS stream untouched, routed by SNI.
    #[default]
    #[serde(rename = "PASSTHROUGH")]
    Passthrough,
    /// Terminate TLS with the server certificate.
    #[serde(rename = "SIMPLE")]
    Simple,
    /// Terminate TLS and require a client certificate.
    #[serde(rename = "MUTUAL")]
    Mutual,
    /// Passthrough routed by the SNI Istio encodes (multi-network).
    #[serde(rename = "AUTO_PASSTHROUGH")]
    AutoPassthrough,
    /// Terminate with Istio's own mTLS certificates.
    #[serde(rename = "ISTIO_MUTUAL")]
    IstioMutual,
    /// Like MUTUAL, but a client certificate is optional.
    #[serde(rename = "OPTIONAL_MUTUAL")]
    OptionalMutual,
}

impl fmt::Display for ServerTlsMode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ServerTlsMode::Passthrough => "PASSTHROUGH",
            ServerTlsMode::Simple => "SIMPLE",
            ServerTlsMode::Mutual => "MUTUAL",
            ServerTlsMode::AutoPassthrough => "AUTO_PASSTHROUGH",
            ServerTlsMode::IstioMutual => "ISTIO_MUTUAL",
            ServerTlsMode::OptionalMutual => "OPTIONAL_MUTUAL",
        })
    }
}

#[derive(Clone, Copy, Debug, Default, Deserialize, PartialEq, Eq)]
pub enum TlsProtocol {
    #[default]
    #[serde(rename = "TLS_AUTO")]
    TlsAuto,
    #[serde(rename = "TLSV1_0")]
    TlsV10,
    #[serde(rename = "TLSV1_1")]
    TlsV11,
    #[serde(rename = "TLSV1_2")]
    TlsV12,
    #[serde(rename = "TLSV1_3")]
    TlsV13,
}

/// `security.ValidCipherSuites`.
const VALID_CIPHER_SUITES: &[&str] = &[
    "ECDHE-ECDSA-AES128-GCM-SHA256",
    "ECDHE-RSA-AES128-GCM-SHA256",
    "ECDHE-ECDSA-AES256-GCM-SHA384",
    "ECDHE-RSA-AES256-GCM-SHA384",
    "ECDHE-ECDSA-CHACHA20-POLY1305",
    "ECDHE-RSA-CHACHA20-POLY1305",
    "ECDHE-ECDSA-AES128-SHA",
    "ECDHE-RSA-AES128-SHA",
    "ECDHE-ECDSA-AES256-SHA",
    "ECDHE-RSA-AES256-SHA",
    "AES128-GCM-SHA256",
    "AES256-GCM-SHA384",
    "AES128-SHA",
    "AES256-SHA",
    "DES-CBC3-SHA",
];

/// `security.IsValidCipherSuite`: expressions starting with an operator
/// (`-`, `+`, `!`, `[`) are let through unparsed.
fn is_valid_cipher_suite(cs: &str) -> bool {
    match cs.chars().next() {
        None => true,
        Some(c) if !c.is_alphanumeric() => true,
        _ => cs == "ALL" || VALID_CIPHER_SUITES.contains(&cs),
    }
}

impl ServerTlsSettings {
    fn credential_names(&self) -> &[String] {
        self.credential_names.as_deref().unwrap_or_default()
    }

    fn tls_certificates(&self) -> &[TlsCertificate] {
        self.tls_certificates.as_deref().unwrap_or_default()
    }

    /// The CRD schema: the CEL rules on the `tls` object (the third rule's
    /// message is a copy-paste slip in the CRD; it really checks
    /// credentialNames against tlsCertificates) and the list sizes.
    pub fn validate_schema(&self, v: &mut Validator) {
        let has_names = self.credential_names.is_some();
        let has_certs = self.tls_certificates.is_some();
        let has_name = !self.credential_name.is_empty();
        let rules = [
            (
                has_certs && has_names,
                "only one of credentialNames or tlsCertificates can be set",
            ),
            (
                has_name && has_names,
                "only one of credentialName or credentialNames can be set",
            ),
            (
                has_names && has_certs,
                "only one of credentialName or tlsCertificates can be set",
            ),
        ];
        for (broken, message) in rules {
            if broken {
                v.cel("object", message);
            }
        }
        let sizes = [
            (
                "credentialNames",
                self.credential_names.as_ref().map(Vec::len),
            ),
            (
                "tlsCertificates",
                self.tls_certificates.as_ref().map(Vec::len),
            ),
        ];
        for (key, len) in sizes {
            v.field(key, |v| match len {
                Some(0) => v.too_few_items(0, 1),
                Some(n) if n > 2 => v.too_many(n, 2),
                _ => {}
            });
        }
    }

    /// istiod's `validateTLSOptions`.
    pub fn validate_options(&self, v: &mut Validator) {
        if matches!(
            self.min_protocol_version,
            TlsProtocol::TlsV10 | TlsProtocol::TlsV11
        ) && self.cipher_suites.is_empty()
        {
            v.field("minProtocolVersion", |v| {
                v.warn("TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers.")
            });
        }
        let mut valid = BTreeSet::new();
        let mut invalid = BTreeSet::new();
        let mut duplicate = BTreeSet::new();
        for cs in &self.cipher_suites {
            if !is_valid_cipher_suite(cs) {
                invalid.insert(cs.as_str());
            } else if !valid.insert(cs.as_str()) {
                duplicate.insert(cs.as_str());
            }
        }
        v.field("cipherSuites", |v| {
            for (set, what) in [(&invalid, "invalid"), (&duplicate, "duplicate")] {
                if !set.is_empty() {
                    let list: Vec<&str> = set.iter().copied().collect();
                    v.warn(format!(
                        "ignoring {what} cipher suites: [{}]",
                        list.join(" ")
                    ));
                }
            }
        });

        let has_certs = !self.tls_certificates().is_empty();
        let has_names = !self.credential_names().is_empty();
        if self.mode == ServerTlsMode::IstioMutual {
            let set = [
                (
                    "serverCertificate",
                    !self.server_certificate.is_empty(),
                    "server certificate",
                ),
                ("privateKey", !self.private_key.is_empty(), "private key"),
                (
                    "caCertificates",
                    !self.ca_certificates.is_empty(),
                    "CA bundle",
                ),
                ("tlsCertificates", has_certs, "tlsCertificates"),
                (
                    "credentialName",
                    !self.credential_name.is_empty(),
                    "credentialName",
                ),
                ("credentialNames", has_names, "credentialNames"),
            ];
            for (key, present, what) in set {
                if present {
                    v.field(key, |v| {
                        v.error(format!("ISTIO_MUTUAL TLS cannot have associated {what}"))
                    });
                }
            }
            return;
        }
        let any_cert = !self.ca_crl.is_empty()
            || !self.server_certificate.is_empty()
            || !self.private_key.is_empty()
            || !self.ca_certificates.is_empty()
            || has_certs
            || !self.credential_name.is_empty()
            || has_names;
        if matches!(
            self.mode,
            ServerTlsMode::Passthrough | ServerTlsMode::AutoPassthrough
        ) && any_cert
        {
            v.warn(format!(
                "{} mode does not use certificates, they will be ignored",
                self.mode
            ));
        }
        let sources = [
            !self.server_certificate.is_empty() && !self.private_key.is_empty(),
            !self.credential_name.is_empty(),
            has_names,
            has_certs,
        ];
        if sources.iter().filter(|s| **s).count() > 1 {
            v.error("only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified");
        }
        let terminating = matches!(
            self.mode,
            ServerTlsMode::Simple | ServerTlsMode::Mutual | ServerTlsMode::OptionalMutual
        );
        // With a credential the certificates come from a Secret over SDS.
        if terminating && (!self.credential_name.is_empty() || has_names) {
            return;
        }
        if terminating {
            let prefix = if self.mode == ServerTlsMode::Simple {
                "SIMPLE TLS"
            } else {
                if self.ca_certificates.is_empty() {
                    v.field("caCertificates", |v| {
                        v.error("MUTUAL TLS requires a client CA bundle")
                    });
                }
                "MUTUAL TLS"
            };
            if self.tls_certificates().len() > 2 {
                v.field("tlsCertificates", |v| {
                    v.warn(format!("{prefix} can support up to 2 server certificates"))
                });
            }
            if has_certs {
                v.each("tlsCertificates", self.tls_certificates(), |v, _, c| {
                    require_key_pair(prefix, &c.server_certificate, &c.private_key, v)
                });
            } else {
                require_key_pair(prefix, &self.server_certificate, &self.private_key, v);
            }
        }
        if !self.ca_crl.is_empty() {
            v.field("caCrl", |v| {
                if !self.credential_name.is_empty() {
                    v.error("CRL is not supported with credentialName. CRL has to be specified in the credential");
                }
                if self.mode == ServerTlsMode::Simple {
                    v.error("CRL is not supported with SIMPLE TLS");
                }
            });
        }
    }
}

fn require_key_pair(prefix: &str, certificate: &str, key: &str, v: &mut Validator) {
    if certificate.is_empty() {
        v.field("serverCertificate", |v| {
            v.error(format!("{prefix} requires a server certificate"))
        });
    }
    if key.is_empty() {
        v.field("privateKey", |v| {
            v.error(format!("{prefix} requires a private key"))
        });
    }
}

/// `ValidateUnixAddress`, for the path after `unix://`.
pub fn unix_address_problem(addr: &str) -> Option<String> {
    if addr.is_empty() {
        Some("unix address must not be empty".to_string())
    } else if addr.starts_with('@') {
        None
    } else if !addr.starts_with('/') || addr.ends_with('/') {
        Some(format!("{addr} is not an absolute path to a file"))
    } else {
        None
    }
}

/// `ValidateNamespaceSlashWildcardHostname` for Gateway servers
/// (`is_gateway`, where the namespace part is optional and an IP is a valid
/// host) and Sidecar egress listeners.
pub fn validate_namespace_slash_host(host: &str, is_gateway: bool, v: &mut Validator) {
    let Some((ns, dns_name)) = host.split_once('/') else {
        if is_gateway {
            validate_host_part(host, true, v);
        } else {
            v.error("host must be of form namespace/dnsName");
        }
        return;
    };
    if ns.is_empty() || dns_name.is_empty() {
        v.error("config namespace and dnsName in host entry cannot be empty");
    }
    let special = if is_gateway {
        &["*", "."][..]
    } else {
        &["*", ".", "~"][..]
    };
    if !special.contains(&ns) && !is_dns1123_label(ns) {
        let kind = if is_gateway { "gateway" } else { "sidecar" };
        v.error(format!("invalid namespace value {ns:?} in {kind}"));
    }
    validate_host_part(dns_name, is_gateway, v);
}

/// `validateSidecarOrGatewayHostnamePart`. (For Sidecars istiod appends a
/// bad domain's error twice; it is reported once here.)
fn validate_host_part(host: &str, is_gateway: bool, v: &mut Validator) {
    if host != "*" && !host.contains('.') {
        v.error("short names (non FQDN) are not allowed");
    }
    if let Some(e) = validate_wildcard_domain(host)
        && (!is_gateway || !is_ip(host))
    {
        v.error(e);
    }
    if let Some(e) = partial_wildcard_problem(host) {
        v.error(e);
    }
}

/// `ValidatePartialWildCard`: `*` only as the whole host or a leading `*.`.
pub fn partial_wildcard_problem(host: &str) -> Option<String> {
    (host.contains('*') && host != "*" && !host.starts_with("*."))
        .then(|| format!("partial wildcard {host:?} not allowed"))
}

impl Server {
    /// The schema's required fields, then `validateServer`.
    fn validate(&self, v: &mut Validator) {
        let port_ok = match &self.port {
            None => {
                v.required_field("port");
                false
            }
            Some(port) => {
                let mut ok = true;
                v.field("port", |v| ok = port.validate_for_gateway(&self.bind, v));
                ok
            }
        };
        if self.hosts.is_empty() {
            v.required_field("hosts");
        }
        v.each("hosts", &self.hosts, |v, _, host| {
            validate_namespace_slash_host(host, true, v)
        });
        self.validate_bind(v);
        if let Some(tls) = &self.tls {
            v.field("tls", |v| {
                tls.validate_schema(v);
                tls.validate_options(v);
            });
        }
        if port_ok {
            self.validate_tls_matches_protocol(v);
        }
    }

    /// `validateServerBind`.
    fn validate_bind(&self, v: &mut Validator) {
        if self.bind.is_empty() {
            return;
        }
        v.field("bind", |v| match self.bind.strip_prefix("unix://") {
            Some(path) => {
                if let Some(e) = unix_address_problem(path) {
                    v.error(e);
                }
                if self.port().number() != 0 {
                    v.error(format!(
                        "port number must be 0 for unix domain socket: {}",
                        self.port().proto_text()
                    ));
                }
            }
            None => {
                if !is_ip(&self.bind) {
                    v.error(format!("{} is not a valid IP", self.bind));
                }
            }
        });
    }

    /// HTTPS and TLS ports need `tls`; plain-text ports may only carry an
    /// httpsRedirect.
    fn validate_tls_matches_protocol(&self, v: &mut Validator) {
        let protocol = self.port().protocol();
        v.field("tls", |v| match &self.tls {
            None if protocol.is_tls() => {
                v.error("server must have TLS settings for HTTPS/TLS protocols")
            }
            Some(tls) if !protocol.is_tls() => {
                if !protocol.is_http() {
                    v.error("server cannot have TLS settings for non HTTPS/TLS ports");
                } else if !matches!(
                    tls.mode,
                    ServerTlsMode::Passthrough | ServerTlsMode::AutoPassthrough
                ) || !tls.ca_certificates.is_empty()
                    || !tls.private_key.is_empty()
                    || !tls.server_certificate.is_empty()
                {
                    v.error("server cannot have TLS settings for plain text HTTP ports");
                }
            }
            _ => {}
        });
    }
}

impl Port {
    /// The schema's required fields, then `validateServerPort`. Returns
    /// whether the port is valid, which gates istiod's TLS checks.
    fn validate_for_gateway(&self, bind: &str, v: &mut Validator) -> bool {
        let before = v.findings().len();
        for (key, missing) in [
            ("number", self.number.is_none()),
            ("protocol", self.protocol.is_none()),
            ("name", self.name.is_none()),
        ] {
            if missing {
                v.required_field(key);
            }
        }
        if let Some(p) = &self.protocol
            && Protocol::parse(p) == Protocol::Unsupported
        {
            v.field("protocol", |v| {
                v.error(format!("invalid protocol {p:?}, supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP"))
            });
        }
        if let Some(n) = self.number
            && (n > 0 || !bind.starts_with("unix://"))
        {
            v.field("number", |v| validate_port(n, v));
        }
        if self.target_port.is_some_and(|t| t > 0) {
            v.field("targetPort", |v| {
                v.error("targetPort has no impact on Gateways")
            });
        }
        if self.name.as_deref() == Some("") {
            v.field("name", |v| {
                v.error(format!("port name must be set: {}", self.proto_text()))
            });
        }
        v.findings().len() == before
    }
}

impl Validate for Gateway {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        validate_istio_metadata(meta, v);
        // ValidateGateway: the name is used in Envoy resource names, so no dots.
        if !is_dns1123_label(&meta.name) {
            v.field("metadata", |v| {
                v.field("name", |v| {
                    v.error(format!("invalid gateway name: {:?}", meta.name))
                })
            });
        }
        v.field("spec", |v| {
            if self.servers.is_empty() {
                v.field("servers", |v| {
                    v.error("gateway must have at least one server")
                });
            }
            let mut port_names = BTreeSet::new();
            v.each("servers", &self.servers, |v, _, server| {
                server.validate(v);
                let Some(port) = &server.port else { return };
                if let Some(name) = &port.name
                    && !port_names.insert(name)
                {
                    v.field("port", |v| {
                        v.field("name", |v| {
                            v.error(format!(
                                "port names in servers must be unique: duplicate name {name}"
                            ))
                        })
                    });
                }
                if !port.protocol().is_http()
                    && server.tls.as_ref().is_some_and(|t| t.https_redirect)
                {
                    v.field("tls", |v| {
                        v.field("httpsRedirect", |v| {
                            v.warn("tls.httpsRedirect should only be used with http servers")
                        })
                    });
                }
            });
        });
    }
}

spec_resources!(Gateway);

#[cfg(test)]
mod tests {
    use test_case::test_case;

    use crate::config::testing::{clean, located, manifest, problems};

    fn gateway_named(name: &str, spec: &str) -> Vec<String> {
        problems(&manifest(
            "networking.istio.io/v1",
            "Gateway",
            name,
            "ns1",
            spec,
        ))
    }

    fn gateway(spec: &str) -> Vec<String> {
        gateway_named("gw", spec)
    }

    const HTTP: &str = "port: {number: 80, name: http, protocol: HTTP}";
    const HTTPS: &str = "port: {number: 443, name: https, protocol: HTTPS}";

    fn server(port: &str, rest: &str) -> String {
        format!("{{servers: [{{{port}, hosts: [a.example.com]{rest}}}]}}")
    }

    // ValidateGateway
    #[test_case("{}", &["error: spec.servers: gateway must have at least one server"]; "no servers")]
    #[test_case(
        "{servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [a.example.com]}, {port: {number: 81, name: http, protocol: HTTP}, hosts: [b.example.com]}]}",
        &["error: spec.servers[1].port.name: port names in servers must be unique: duplicate name http"];
        "duplicate port names"
    )]
    #[test_case(
        &server("port: {number: 9000, name: tcp, protocol: TCP}", ", tls: {httpsRedirect: true}"),
        &[
            "error: spec.servers[0].tls: server cannot have TLS settings for non HTTPS/TLS ports",
            "warning: spec.servers[0].tls.httpsRedirect: tls.httpsRedirect should only be used with http servers",
        ];
        "https redirect on a tcp server"
    )]
    // CRD required fields, then validateServerPort
    #[test_case("{servers: [{hosts: [a.example.com]}]}", &["error: spec.servers[0].port: Required value"]; "port required")]
    #[test_case(
        "{servers: [{port: {number: 80}, hosts: [a.example.com]}]}",
        &["error: spec.servers[0].port.protocol: Required value", "error: spec.servers[0].port.name: Required value"];
        "port fields required"
    )]
    #[test_case(&server("port: {number: 80, name: http, protocol: FTP}", ""), &["error: spec.servers[0].port.protocol: invalid protocol \"FTP\", supported protocols are HTTP, HTTP2, GRPC, GRPC-WEB, MONGO, REDIS, MYSQL, TCP"]; "bad protocol")]
    #[test_case(&server("port: {number: 0, name: http, protocol: HTTP}", ""), &["error: spec.servers[0].port.number: port number 0 must be in the range 1..65535"]; "port number")]
    #[test_case(&server("port: {number: 80, name: http, protocol: HTTP, targetPort: 8080}", ""), &["error: spec.servers[0].port.targetPort: targetPort has no impact on Gateways"]; "target port")]
    #[test_case(&server("port: {number: 80, name: \"\", protocol: HTTP}", ""), &["error: spec.servers[0].port.name: port name must be set: number:80 protocol:\"HTTP\""]; "empty port name")]
    // validateServer hosts (ValidateNamespaceSlashWildcardHostname)
    #[test_case(&format!("{{servers: [{{{HTTP}}}]}}"), &["error: spec.servers[0].hosts: Required value"]; "hosts required")]
    #[test_case(&format!("{{servers: [{{{HTTP}, hosts: [reviews]}}]}}"), &["error: spec.servers[0].hosts[0]: short names (non FQDN) are not allowed"]; "short name")]
    #[test_case(&format!("{{servers: [{{{HTTP}, hosts: [/a.example.com]}}]}}"), &["error: spec.servers[0].hosts[0]: config namespace and dnsName in host entry cannot be empty", "error: spec.servers[0].hosts[0]: invalid namespace value \"\" in gateway"]; "empty namespace")]
    #[test_case(&format!("{{servers: [{{{HTTP}, hosts: [Bad_NS/a.example.com]}}]}}"), &["error: spec.servers[0].hosts[0]: invalid namespace value \"Bad_NS\" in gateway"]; "bad namespace")]
    #[test_case(&format!("{{servers: [{{{HTTP}, hosts: [a_b.example.com]}}]}}"), &["error: spec.servers[0].hosts[0]: domain name \"a_b.example.com\" invalid (label \"a_b\" invalid)"]; "bad domain")]
    #[test_case(&format!("{{servers: [{{{HTTP}, hosts: [\"a*.example.com\"]}}]}}"), &["error: spec.servers[0].hosts[0]: domain name \"a*.example.com\" invalid (label \"a*\" invalid)", "error: spec.servers[0].hosts[0]: partial wildcard \"a*.example.com\" not allowed"]; "partial wildcard")]
    #[test_case(&format!("{{servers: [{{{HTTP}, hosts: [\"*\", \"./*\", 10.0.0.1, \"ns1/*.example.com\"]}}]}}"), &[]; "good hosts")]
    // validateServerBind
    #[test_case(&server(HTTP, ", bind: \"unix:///var/run/gw.sock\""), &["error: spec.servers[0].bind: port number must be 0 for unix domain socket: number:80 protocol:\"HTTP\" name:\"http\""]; "unix bind with port")]
    #[test_case(&server("port: {number: 0, name: http, protocol: HTTP}", ", bind: \"unix://relative\""), &["error: spec.servers[0].bind: relative is not an absolute path to a file"]; "unix bind relative")]
    #[test_case(&server(HTTP, ", bind: 1.2.3"), &["error: spec.servers[0].bind: 1.2.3 is not a valid IP"]; "bind not an ip")]
    // TLS presence against the protocol
    #[test_case(&server(HTTPS, ""), &["error: spec.servers[0].tls: server must have TLS settings for HTTPS/TLS protocols"]; "https without tls")]
    #[test_case(&server(HTTP, ", tls: {mode: SIMPLE, credentialName: cert}"), &["error: spec.servers[0].tls: server cannot have TLS settings for plain text HTTP ports"]; "http with tls")]
    #[test_case(&server(HTTP, ", tls: {httpsRedirect: true}"), &[]; "http with redirect only")]
    // validateTLSOptions
    #[test_case(&server(HTTPS, ", tls: {mode: SIMPLE, credentialName: c, minProtocolVersion: TLSV1_1}"), &["warning: spec.servers[0].tls.minProtocolVersion: TLS version below TLSV1_2 require setting compatible ciphers as by default they no longer include compatible ciphers."]; "old tls without ciphers")]
    #[test_case(&server(HTTPS, ", tls: {mode: SIMPLE, credentialName: c, cipherSuites: [FOO, AES128-SHA, AES128-SHA, \"-BAR\"]}"), &["warning: spec.servers[0].tls.cipherSuites: ignoring invalid cipher suites: [FOO]", "warning: spec.servers[0].tls.cipherSuites: ignoring duplicate cipher suites: [AES128-SHA]"]; "cipher suites")]
    #[test_case(&server(HTTPS, ", tls: {mode: ISTIO_MUTUAL, serverCertificate: /c.pem, credentialName: c}"), &["error: spec.servers[0].tls.serverCertificate: ISTIO_MUTUAL TLS cannot have associated server certificate", "error: spec.servers[0].tls.credentialName: ISTIO_MUTUAL TLS cannot have associated credentialName"]; "istio mutual with certs")]
    #[test_case(&server(HTTPS, ", tls: {mode: PASSTHROUGH, credentialName: c}"), &["warning: spec.servers[0].tls: PASSTHROUGH mode does not use certificates, they will be ignored"]; "passthrough with certs")]
    #[test_case(&server(HTTPS, ", tls: {mode: SIMPLE, credentialName: c, serverCertificate: /c.pem, privateKey: /k.pem}"), &["error: spec.servers[0].tls: only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified"]; "two cert sources")]
    #[test_case(&server(HTTPS, ", tls: {mode: SIMPLE}"), &["error: spec.servers[0].tls.serverCertificate: SIMPLE TLS requires a server certificate", "error: spec.servers[0].tls.privateKey: SIMPLE TLS requires a private key"]; "simple without certs")]
    #[test_case(&server(HTTPS, ", tls: {mode: MUTUAL, tlsCertificates: [{serverCertificate: /c.pem}]}"), &["error: spec.servers[0].tls.caCertificates: MUTUAL TLS requires a client CA bundle", "error: spec.servers[0].tls.tlsCertificates[0].privateKey: MUTUAL TLS requires a private key"]; "mutual without ca")]
    #[test_case(&server(HTTPS, ", tls: {mode: SIMPLE, serverCertificate: /c.pem, privateKey: /k.pem, caCrl: /crl.pem}"), &["error: spec.servers[0].tls.caCrl: CRL is not supported with SIMPLE TLS"]; "crl with simple")]
    #[test_case(&server(HTTPS, ", tls: {mode: MUTUAL, credentialName: c, caCrl: /crl.pem}"), &[]; "crl skipped with a credential")]
    // CRD rules on tls
    #[test_case(&server(HTTPS, ", tls: {mode: SIMPLE, credentialName: c, credentialNames: [d]}"), &["error: spec.servers[0].tls: Invalid value: \"object\": only one of credentialName or credentialNames can be set", "error: spec.servers[0].tls: only one of credential_name, credential_names, server_certificate/private_key, tls_certificates should be specified"]; "cel credential name and names")]
    #[test_case(&server(HTTPS, ", tls: {mode: SIMPLE, credentialNames: [a, b, c]}"), &["error: spec.servers[0].tls.credentialNames: Too many: 3: must have at most 2 items"]; "too many credential names")]
    #[test_case(&server(HTTPS, ", tls: {mode: SIMPLE, credentialName: c, tlsCertificates: []}"), &["error: spec.servers[0].tls.tlsCertificates: Invalid value: 0: spec.servers[0].tls.tlsCertificates in body should have at least 1 items"]; "empty tls certificates")]
    fn gateway_rules(spec: &str, want: &[&str]) {
        assert_eq!(gateway(spec), want);
    }

    #[test]
    fn gateway_names_are_dns_labels() {
        // ValidateGateway: no dots, unlike other Istio names.
        assert_eq!(
            gateway_named("my.gw", &server(HTTP, "")),
            ["error: metadata.name: invalid gateway name: \"my.gw\""]
        );
    }

    #[test]
    fn reserved_annotations_are_rejected() {
        // validateMetadata
        let text = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n  annotations:\n    istio.io/dry-run: \"true\"\nspec:\n  servers: [{port: {number: 80, name: http, protocol: HTTP}, hosts: [\"*\"]}]\n";
        assert_eq!(
            located(text),
            [
                "6: error: metadata.annotations.istio.io/dry-run: default/gw has unsupported annotation istio.io/dry-run, please remove the annotation"
            ]
        );
    }

    #[test]
    fn bookinfo_gateway_loads_cleanly() {
        let text = r#"apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: bookinfo-gateway
spec:
  # The selector matches the ingress gateway pod labels.
  # If you installed Istio using Helm following the standard documentation, this would be "istio=ingress"
  selector:
    istio: ingressgateway # use istio default controller
  servers:
  - port:
      number: 8080
      name: http
      protocol: HTTP
    hosts:
    - "*"
"#;
        let loaded = clean(text);
        let crate::config::Body::Gateway(gw) = &loaded.objects[0].body else {
            panic!("not a Gateway");
        };
        assert_eq!(
            gw.selector.get("istio").map(String::as_str),
            Some("ingressgateway")
        );
        let server = &gw.servers[0];
        assert_eq!(server.port().number(), 8080);
        assert_eq!(server.port().protocol(), super::Protocol::Http);
        assert_eq!(super::split_namespace_host(&server.hosts[0]), ("*", "*"));
    }

    #[test]
    fn course_gateway_loads_cleanly() {
        let text = "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata:\n  name: bookinfo-gateway\n  namespace: bookinfo\nspec:\n  selector:\n    istio: ingressgateway\n  servers:\n  - port:\n      number: 80\n      name: http\n      protocol: HTTP\n    hosts:\n    - bookinfo.example.com\n";
        let loaded = clean(text);
        assert_eq!(
            loaded.objects[0].describe(),
            "Gateway bookinfo/bookinfo-gateway"
        );
    }

    #[test]
    fn several_problems_are_each_located() {
        let text = r#"apiVersion: networking.istio.io/v1
kind: Gateway
metadata:
  name: secure-gateway
spec:
  selector:
    istio: ingressgateway
  servers:
  - port:
      number: 443
      name: https
      protocol: HTTPS
    hosts:
    - bookinfo.example.com
  - port:
      number: 80
      name: https
      protocol: HTTP
    hosts:
    - productpage
"#;
        assert_eq!(
            located(text),
            [
                "9: error: spec.servers[0].tls: server must have TLS settings for HTTPS/TLS protocols",
                "20: error: spec.servers[1].hosts[0]: short names (non FQDN) are not allowed",
                "17: error: spec.servers[1].port.name: port names in servers must be unique: duplicate name https",
            ]
        );
    }

    #[test]
    fn protocols_parse_case_insensitively() {
        use super::Protocol;
        assert_eq!(Protocol::parse("grpc-web"), Protocol::GrpcWeb);
        assert_eq!(Protocol::parse("Https"), Protocol::Https);
        assert!(Protocol::parse("HTTP2").is_http());
        assert!(Protocol::parse("TLS").is_tls() && Protocol::parse("TLS").is_tcp());
        assert_eq!(Protocol::parse(""), Protocol::Unsupported);
    }
}
