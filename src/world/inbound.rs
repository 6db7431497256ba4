//! The server's sidecar on the way in: the connection's mTLS as the
//! workload's PeerAuthentication demands, then its AuthorizationPolicies
//! ([`crate::dataplane::authz`]), before the application sees anything.
//!
//! Clients with a sidecar (and gateways) send Istio mTLS to a server with a
//! sidecar unless its mode is DISABLE (auto mTLS: istiod configures the
//! client from the server's policy); a client without a sidecar sends
//! plaintext. A STRICT server resets a plaintext connection: curl sees
//! exit 56, "Connection reset by peer". A denied HTTP request gets 403
//! `RBAC: access denied` from the server's proxy; a denied TCP connection
//! is reset.

use std::collections::BTreeMap;

use crate::apps::{Body, Failure};
use crate::config::networking::destination_rule::TlsMode;
use crate::config::security::{AuthorizationPolicy, MtlsMode};
use crate::control::security::{authorization_for, mtls_mode};
use crate::dataplane::ResponseFlags;
use crate::dataplane::authz::{self, Attributes, Http, Verdict};
use crate::k8s::PodId;

use super::World;
use super::calls::CallId;
use super::pods::RESET_BODY;

/// What a workload's proxy enforces inbound, for one configuration.
pub struct InboundSecurity {
    revision: u64,
    authz: Vec<(String, AuthorizationPolicy)>,
    modes: BTreeMap<u16, MtlsMode>,
}

impl World {
    /// Whether the sidecar of `pod` lets call `id`, arriving on `port`,
    /// through to the application; when not, it has answered the call
    /// (403) or reset its connection.
    pub(super) fn inbound_admits(&mut self, id: CallId, pod: PodId, port: u16) -> bool {
        let mode = self.inbound_mode(pod, port);
        let call = self.calls.get(id);
        // Auto mTLS follows the server's mode; a DestinationRule `tls`
        // overrides it (only ISTIO_MUTUAL is Istio mTLS).
        let mtls = call.client_sidecar
            && !call.external
            && match call.tls {
                None => mode != MtlsMode::Disable,
                Some(tls) => tls == TlsMode::IstioMutual,
            };
        if mode == MtlsMode::Strict && !mtls {
            self.note(id, || {
                "the server's PeerAuthentication is STRICT: the plaintext connection is reset"
                    .to_string()
            });
            self.reset_inbound(id);
            return false;
        }
        let security = self.pods[pod.0 as usize]
            .security
            .as_ref()
            .expect("inbound_mode filled it");
        if security.authz.is_empty() {
            return true;
        }
        let call = self.calls.get(id);
        let principal = call.src_pod.filter(|_| mtls).map(|p| {
            let p = self.cluster.pod(p);
            format!("cluster.local/ns/{}/sa/{}", p.namespace, p.service_account)
        });
        let request = std::sync::Arc::clone(self.request(call.req));
        let attrs = Attributes {
            principal: principal.as_deref(),
            request_principal: None,
            source_ip: call.src_pod.map(|p| self.cluster.pod(p).ip),
            destination_ip: Some(self.cluster.pod(pod).ip),
            destination_port: port,
            http: (!call.l4).then(|| Http {
                host: &request.authority,
                method: &request.method,
                path: &request.path,
                headers: &request.headers,
            }),
        };
        let verdict = authz::evaluate(&security.authz, &attrs);
        let l4 = call.l4;
        match verdict {
            Verdict::Allow => true,
            Verdict::Deny(policy) => {
                self.note(id, || match &policy {
                    Some(p) => format!("AuthorizationPolicy {p} denies the request"),
                    None => "no ALLOW AuthorizationPolicy matches: denied".to_string(),
                });
                if l4 {
                    self.reset_inbound(id);
                } else {
                    self.proxy_answers(id, 403, Body::Static(authz::DENIED_BODY));
                }
                false
            }
        }
    }

    /// The mTLS mode `pod`'s proxy enforces on `port`, refreshing the
    /// pod's inbound policies when the configuration changed.
    fn inbound_mode(&mut self, pod: PodId, port: u16) -> MtlsMode {
        let revision = self.mesh.store.revision();
        let stale = self.pods[pod.0 as usize]
            .security
            .as_ref()
            .is_none_or(|s| s.revision != revision);
        if stale {
            let p = self.cluster.pod(pod);
            let authz = authorization_for(&self.mesh.store, &p.namespace, &p.labels);
            self.pods[pod.0 as usize].security = Some(Box::new(InboundSecurity {
                revision,
                authz,
                modes: BTreeMap::new(),
            }));
        }
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
