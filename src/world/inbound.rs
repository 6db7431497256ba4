//! The server's proxy on the way in: the connection's mTLS as the
//! workload's PeerAuthentication demands, then the request's JWT
//! ([`crate::dataplane::jwt`], from RequestAuthentications) and its
//! AuthorizationPolicies ([`crate::dataplane::authz`]), before the
//! application sees anything. Gateways run the same JWT and authorization
//! filters on what enters them.
//!
//! Clients with a sidecar (and gateways) send Istio mTLS to a server with a
//! sidecar unless its mode is DISABLE (auto mTLS: istiod configures the
//! client from the server's policy); a client without a sidecar sends
//! plaintext. A STRICT server resets a plaintext connection: curl sees
//! exit 56, "Connection reset by peer". A rejected token gets 401 with
//! Envoy's reason; a denied HTTP request gets 403 `RBAC: access denied`; a
//! denied TCP connection is reset.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::apps::{Body, Failure};
use crate::config::networking::destination_rule::TlsMode;
use crate::config::security::{AuthorizationPolicy, MtlsMode};
use crate::control::security::{
    authentication_for, authorization_for, mtls_mode, waypoint_authentication,
    waypoint_authorization,
};
use crate::dataplane::ResponseFlags;
use crate::dataplane::authz::{self, Attributes, Http, Verdict};
use crate::dataplane::jwt::{self, Authenticator, Outcome};
use crate::dataplane::xds::HeaderOps;
use crate::k8s::{PodId, ServiceId};

use super::World;
use super::calls::CallId;
use super::pods::RESET_BODY;

/// Envoy's answer when the server refused the client's certificate.
const TLS_CLIENT_CERT_EXPIRED: &str = "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS_error:|268436501:SSL routines:OPENSSL_internal:SSLV3_ALERT_CERTIFICATE_EXPIRED:TLS_error_end";
/// Envoy's answer when it could not verify the server's certificate.
const TLS_VERIFY_FAILED: &str = "upstream connect error or disconnect/reset before headers. reset reason: connection failure, transport failure reason: TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end";

/// What a workload's proxy enforces inbound, for one configuration.
pub struct InboundSecurity {
    revision: u64,
    authn: Authenticator,
    authz: Vec<(String, AuthorizationPolicy)>,
    modes: BTreeMap<u16, MtlsMode>,
}

/// Who answers a request the proxy refuses.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Enforcer {
    Sidecar,
    Gateway,
    /// A waypoint serving the Service: it enforces the policies whose
    /// `targetRefs` name it or the Service, not those selecting its pod.
    Waypoint(ServiceId),
}

impl World {
    /// Whether the sidecar of `pod` lets call `id`, arriving on `port`,
    /// through to the application; when not, it has answered the call
    /// (401, 403) or reset its connection.
    pub(super) fn inbound_admits(&mut self, id: CallId, pod: PodId, port: u16) -> bool {
        let mode = self.inbound_mode(pod, port);
        let call = self.calls.get(id);
        // Auto mTLS follows the server's mode; a DestinationRule `tls`
        // overrides it (only ISTIO_MUTUAL is Istio mTLS).
        // ztunnel always tunnels (HBONE) to a sidecar on an ambient
        // install, whatever its mode.
        let mtls = !call.external
            && (call.client_ztunnel
                || call.client_sidecar
                    && match call.tls {
                        None => mode != MtlsMode::Disable,
                        Some(tls) => tls == TlsMode::IstioMutual,
                    });
        if mode == MtlsMode::Strict && !mtls {
            self.note(id, || {
                "the server's PeerAuthentication is STRICT: the plaintext connection is reset"
                    .to_string()
            });
            self.reset_inbound(id);
            return false;
        }
        if mtls && !self.handshake(id, pod) {
            return false;
        }
        self.request_admitted(id, pod, port, mtls, Enforcer::Sidecar, "http")
    }

    /// The mTLS handshake between call `id`'s client proxy and `pod`'s:
    /// each side must hold a certificate valid now. When one does not, the
    /// handshake fails and the client's proxy sees a connection failure
    /// with BoringSSL's reason: the server alerts an expired client
    /// certificate, the client refuses an expired server certificate.
    pub(super) fn handshake(&mut self, id: CallId, pod: PodId) -> bool {
        // TLS 1.3: the client checks the server's certificate before it
        // sends its own.
        let client = self.calls.get(id).src_pod;
        let failure = match self.peer_cert(pod) {
            Err(why) => Some(("server", why, TLS_VERIFY_FAILED)),
            Ok(()) => match client.map(|c| self.peer_cert(c)) {
                Some(Err(why)) => Some(("client", why, TLS_CLIENT_CERT_EXPIRED)),
                _ => None,
            },
        };
        let Some((side, why, body)) = failure else {
            return true;
        };
        self.note(id, || {
            format!("the mTLS handshake fails: the {side}'s proxy has {why}")
        });
        self.broken(id, Failure::ConnectionReset, body, ResponseFlags::UF);
        false
    }

    /// Whether one side of a handshake presents a valid certificate: an
    /// Envoy its own; an ambient workload the one its node's ztunnel holds
    /// for it ([`World::ztunnel_cert`]).
    fn peer_cert(&mut self, pod: PodId) -> Result<(), &'static str> {
        if self.pods[pod.0 as usize].proxy.is_some() {
            self.valid_cert(pod).map(|_| ())
        } else if self.in_ambient(pod) {
            self.ztunnel_cert(pod)
        } else {
            Ok(())
        }
    }

    /// The SPIFFE ID (without `spiffe://`) `pod` authenticates with over
    /// mTLS: its Envoy's certificate, or for an ambient workload the
    /// identity of its service account that ztunnel presents.
    pub(super) fn peer_principal(&self, pod: PodId) -> Option<std::borrow::Cow<'_, str>> {
        match self.pods[pod.0 as usize].cert.as_ref() {
            Some(c) => Some(
                c.spiffe
                    .strip_prefix("spiffe://")
                    .unwrap_or(&c.spiffe)
                    .into(),
            ),
            None if self.in_ambient(pod) => {
                let p = self.cluster.pod(pod);
                let id = format!(
                    "{}/ns/{}/sa/{}",
                    crate::control::ca::TRUST_DOMAIN,
                    p.namespace,
                    p.service_account
                );
                Some(id.into())
            }
            None => None,
        }
    }

    /// The JWT and authorization filters of `pod`'s proxy (a sidecar or a
    /// gateway) for call `id`; `mtls` when the peer authenticated with its
    /// workload certificate; `scheme` as the client sees the URL (`https`
    /// on a gateway's TLS server), for the JWT challenge.
    pub(super) fn request_admitted(
        &mut self,
        id: CallId,
        pod: PodId,
        port: u16,
        mtls: bool,
        enforcer: Enforcer,
        scheme: &str,
    ) -> bool {
        self.refresh_security(pod, enforcer);
        let security = self.security(pod, enforcer);
        let call = self.calls.get(id);
        let l4 = call.l4;
        if security.authz.is_empty() && (l4 || security.authn.is_empty()) {
            return true;
        }
        let mut request = Arc::clone(self.request(call.req));
        let mut verified = None;
        if !l4 && !security.authn.is_empty() {
            let now = self.now_unix();
            match security
                .authn
                .authenticate(&request.headers, &request.path, now)
            {
                Outcome::Missing => {}
                Outcome::Verified(v) => {
                    let mut rewritten = (*request).clone();
                    security.authn.rewrite_headers(&mut rewritten.headers, &v);
                    let req = self.intern(rewritten);
                    self.calls.get_mut(id).req = req;
                    request = Arc::clone(self.request(req));
                    verified = Some(v);
                }
                Outcome::Rejected(failure) => {
                    let challenge =
                        jwt::www_authenticate(scheme, &request.authority, &request.path);
                    self.note(id, || {
                        format!("the request's JWT is refused: {}", failure.message())
                    });
                    self.refuse(
                        id,
                        enforcer,
                        failure.status(),
                        failure.message(),
                        Some(challenge),
                    );
                    return false;
                }
            }
        }
        let security = self.security(pod, enforcer);
        if security.authz.is_empty() {
            return true;
        }
        let call = self.calls.get(id);
        // The peer's principal is its certificate's SPIFFE ID (the
        // handshake checked it), without the scheme.
        let principal = call
            .src_pod
            .filter(|_| mtls)
            .and_then(|p| self.peer_principal(p));
        let attrs = Attributes {
            principal: principal.as_deref(),
            request_principal: verified.as_ref().map(|v| v.principal.as_str()),
            claims: verified.as_ref().map(|v| &v.claims),
            source_ip: call.src_pod.map(|p| self.cluster.pod(p).ip),
            destination_ip: Some(self.cluster.pod(pod).ip),
            destination_port: port,
            http: (!l4).then(|| Http {
                host: &request.authority,
                method: &request.method,
                path: &request.path,
                headers: &request.headers,
            }),
        };
        match authz::evaluate(&security.authz, &attrs) {
            Verdict::Allow => true,
            Verdict::Deny(policy) => {
                self.note(id, || match &policy {
                    Some(p) => format!("AuthorizationPolicy {p} denies the request"),
                    None => "no ALLOW AuthorizationPolicy matches: denied".to_string(),
                });
                if l4 {
                    self.reset_inbound(id);
                } else {
                    self.refuse(id, enforcer, 403, authz::DENIED_BODY, None);
                }
                false
            }
        }
    }

    /// The proxy answers a refused request itself.
    fn refuse(
        &mut self,
        id: CallId,
        enforcer: Enforcer,
        status: u16,
        body: &'static str,
        challenge: Option<String>,
    ) {
        if let Some(c) = challenge {
            self.calls.get_mut(id).response_ops = Some(Box::new(HeaderOps {
                set: vec![("www-authenticate".to_string(), c)],
                ..HeaderOps::default()
            }));
        }
        match enforcer {
            Enforcer::Sidecar => self.proxy_answers(id, status, Body::Static(body)),
            Enforcer::Gateway | Enforcer::Waypoint(_) => {
                self.gateway_refuses(id, status, Body::Static(body));
            }
        }
    }

    /// What `enforcer` in `pod` enforces (after [`World::refresh_security`]).
    fn security(&self, pod: PodId, enforcer: Enforcer) -> &InboundSecurity {
        let rt = &self.pods[pod.0 as usize];
        match enforcer {
            Enforcer::Waypoint(svc) => &rt.waypoint_security[&svc],
            _ => rt.security.as_ref().expect("refresh_security filled it"),
        }
    }

    /// Recomputes what `enforcer` in `pod` enforces when the configuration
    /// changed: a sidecar's or gateway's policies select its pod; a
    /// waypoint's attach by `targetRefs` to it or to the Service
    /// (`attaches_to_waypoint`).
    fn refresh_security(&mut self, pod: PodId, enforcer: Enforcer) {
        let revision = self.mesh.store.revision();
        let rt = &self.pods[pod.0 as usize];
        let current = match enforcer {
            Enforcer::Waypoint(svc) => rt.waypoint_security.get(&svc),
            _ => rt.security.as_ref(),
        };
        if current.is_some_and(|s| s.revision == revision) {
            return;
        }
        let p = self.cluster.pod(pod);
        let (store, web) = (&self.mesh.store, &self.mesh.web);
        let (authz, authn) = match enforcer {
            Enforcer::Waypoint(svc) => {
                let gateway = p
                    .labels
                    .get(crate::control::waypoint::GATEWAY_NAME)
                    .map_or("", String::as_str);
                let s = self.cluster.service(svc);
                let (waypoint, service) = (
                    (p.namespace.as_str(), gateway),
                    (s.namespace.as_str(), s.name.as_str()),
                );
                (
                    waypoint_authorization(store, waypoint, service),
                    waypoint_authentication(store, waypoint, service, web),
                )
            }
            _ => (
                authorization_for(store, &p.namespace, &p.labels),
                authentication_for(store, &p.namespace, &p.labels, web),
            ),
        };
        let fresh = Box::new(InboundSecurity {
            revision,
            authn,
            authz,
            modes: BTreeMap::new(),
        });
        let rt = &mut self.pods[pod.0 as usize];
        match enforcer {
            Enforcer::Waypoint(svc) => {
                rt.waypoint_security.insert(svc, fresh);
            }
            _ => rt.security = Some(fresh),
        }
    }

    /// The mTLS mode `pod`'s proxy enforces on `port`, refreshing the
    /// pod's inbound policies when the configuration changed.
    fn inbound_mode(&mut self, pod: PodId, port: u16) -> MtlsMode {
        self.refresh_security(pod, Enforcer::Sidecar);
        if let Some(mode) = self.pods[pod.0 as usize]
            .security
            .as_ref()
            .and_then(|s| s.modes.get(&port))
        {
            return *mode;
        }
        let p = self.cluster.pod(pod);
        let mode = mtls_mode(&self.mesh.store, &p.namespace, &p.labels, port);
        if let Some(s) = self.pods[pod.0 as usize].security.as_mut() {
            s.modes.insert(port, mode);
        }
        mode
    }

    /// The server's proxy closes the connection: a client's sidecar
    /// answers 503 UC, a client without one sees the reset.
    fn reset_inbound(&mut self, id: CallId) {
        self.broken(id, Failure::ConnectionReset, RESET_BODY, ResponseFlags::UC);
    }
}
