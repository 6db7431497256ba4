//! Ambient mode: which pods ztunnel captures, which Services a waypoint
//! serves, and what the destination's ztunnel enforces.
//!
//! - A pod is in the ambient mesh when ztunnel is installed, the pod has
//!   no sidecar (a sidecar wins, as istio-cni skips injected pods) and
//!   `istio.io/dataplane-mode=ambient` is on the pod or on its namespace,
//!   the pod's own label not being `none` (Istio 1.27 `pkg/kube/util.go`
//!   `PodRedirectionEnabled`, istio-cni's `nodeagent`). Enrolment is read
//!   at each connection, so labelling a namespace takes effect at once,
//!   with no restart (istio-cni redirects running pods in place). Pods in
//!   `istio-system` and Istio's own proxies are never captured.
//! - A Service uses a waypoint when `istio.io/use-waypoint` names one on
//!   the Service or, failing that, on its namespace (`none` opts out); the
//!   waypoint is a Gateway of class `istio-waypoint` in the namespace
//!   `istio.io/use-waypoint-namespace` names (default: the Service's; from
//!   another namespace only as its listeners' `allowedRoutes` allow), for
//!   `service` or `all` traffic (its `istio.io/waypoint-for` label,
//!   default `service`) (pilot/pkg/serviceregistry/kube/controller/ambient
//!   `waypoints.go`); a waypoint with no ready pod has no address yet, so
//!   until then traffic goes straight to the pods. Only ambient clients'
//!   ztunnels, and ingress gateways for Services (or namespaces) labelled
//!   `istio.io/ingress-use-waypoint: "true"`, send through it; sidecars and
//!   plain clients go straight to the pods.
//! - ztunnel speaks HBONE (mTLS on port 15008) to ztunnels, sidecars and
//!   waypoints, so ambient traffic is always mutual TLS; PeerAuthentication
//!   `DISABLE` does nothing in ambient, `STRICT` makes the destination's
//!   ztunnel reset plaintext from outside the mesh. Its authorization is
//!   L4 only: of the policies that select the workload (not those with
//!   `targetRefs`, which waypoints enforce), ALLOW rules with HTTP fields
//!   never match and DENY rules lose their HTTP conditions
//!   (pilot/pkg/serviceregistry/kube/controller/ambient/authorization.go),
//!   which is what `dataplane::authz` does for any TCP connection.

use crate::apps::model::Behavior;
use crate::config::Body;
use crate::config::gateway_api::FromNamespaces;
use crate::config::security::{Action, MtlsMode};
use crate::control::security::{authorization_for, mtls_mode};
use crate::dataplane::authz::{self, Attributes, Verdict};
use crate::k8s::{PodId, ServiceId};

use super::World;
use super::calls::CallId;
use super::pods::RESET_BODY;

use crate::control::waypoint::{
    DATAPLANE_MODE, GATEWAY_NAME, MANAGED, MESH_CONTROLLER, USE_WAYPOINT, USE_WAYPOINT_NAMESPACE,
    WAYPOINT_FOR,
};

/// The label (on a Service or its namespace) that sends ingress gateways'
/// traffic through the Service's waypoint.
pub const INGRESS_USE_WAYPOINT: &str = "istio.io/ingress-use-waypoint";

/// The DENY policy istiod writes for ztunnel from a STRICT
/// PeerAuthentication (`ambient/authorization.go`).
const STRICT_POLICY: &str = "istio-system/istio_converted_static_strict";

impl World {
    /// Whether ztunnel is part of the installation (the ambient profile).
    pub fn ztunnel_installed(&self) -> bool {
        self.ztunnel
    }

    /// The ztunnel of `pod`'s node, if it runs.
    pub(super) fn node_ztunnel(&self, pod: PodId) -> Option<PodId> {
        let node = self.cluster.pod(pod).node;
        self.ztunnels.get(node.0 as usize).copied().flatten()
    }

    /// Charges one request's CPU to the ztunnel on `pod`'s node.
    pub(super) fn charge_ztunnel(&mut self, pod: PodId) {
        if let Some(z) = self.node_ztunnel(pod) {
            self.pods[z.0 as usize].proxy_cpu += self.costs.ztunnel_cpu;
        }
    }

    /// Whether ztunnel captures `pod`'s traffic now.
    pub fn in_ambient(&self, pod: PodId) -> bool {
        if !self.ztunnel {
            return false;
        }
        let p = self.cluster.pod(pod);
        if p.sidecar || p.namespace == "istio-system" {
            return false;
        }
        if !matches!(
            self.pods[pod.0 as usize].model.behavior,
            Behavior::Generic(_) | Behavior::Client | Behavior::Bookinfo(_)
        ) {
            return false;
        }
        // istio-cni's selectors: the pod's label not `none`, and `ambient`
        // on the pod or its namespace.
        match p.labels.get(DATAPLANE_MODE).map(String::as_str) {
            Some("ambient") => true,
            Some("none") => false,
            _ => self
                .cluster
                .namespaces
                .get(&p.namespace)
                .and_then(|n| n.labels.get(DATAPLANE_MODE))
                .is_some_and(|m| m == "ambient"),
        }
    }

    /// The waypoint Gateway (namespace, name) `svc` is bound to, if its
    /// Gateway exists and takes Service traffic.
    pub fn waypoint_of(&self, svc: ServiceId) -> Option<(String, String)> {
        let s = self.cluster.service(svc);
        // A waypoint's own Service does not go through a waypoint.
        if s.labels.get(MANAGED).is_some_and(|m| m == MESH_CONTROLLER) {
            return None;
        }
        self.waypoint_bound(&s.namespace, &s.labels, "service")
    }

    /// The waypoint Gateway (namespace, name) that an object in `ns` with
    /// `labels` (a Service, or a pod) is bound to by its own
    /// `istio.io/use-waypoint`, else its namespace's, if the Gateway exists
    /// and takes `traffic` (`service` or `workload`; `istio.io/waypoint-for`
    /// says which, `service` by default, `all` both).
    pub fn waypoint_bound(
        &self,
        ns: &str,
        labels: &std::collections::BTreeMap<String, String>,
        traffic: &str,
    ) -> Option<(String, String)> {
        let ns_labels = self.cluster.namespaces.get(ns).map(|n| &n.labels);
        let (name, wp_ns) = match labels.get(USE_WAYPOINT) {
            Some(name) => (name, labels.get(USE_WAYPOINT_NAMESPACE)),
            None => {
                let labels = ns_labels?;
                (
                    labels.get(USE_WAYPOINT)?,
                    labels.get(USE_WAYPOINT_NAMESPACE),
                )
            }
        };
        if name == "none" {
            return None;
        }
        let wp_ns = wp_ns.map_or(ns, String::as_str);
        let obj = self.mesh.store.get("KubernetesGateway", wp_ns, name)?;
        let Body::KubernetesGateway(gw) = &obj.body else {
            return None;
        };
        let takes = match obj.meta.labels.get(WAYPOINT_FOR).map(String::as_str) {
            None => traffic == "service",
            Some("all") => true,
            Some(t) => t == traffic,
        };
        // A waypoint in another namespace takes the object only when its
        // listener allows routes from there (`AllowsAttachmentFromNamespace`).
        let allowed = wp_ns == ns
            || gw.listeners.iter().any(|l| {
                let from = &l.allowed_routes.namespaces;
                match from.from {
                    FromNamespaces::All => true,
                    FromNamespaces::Same => false,
                    FromNamespaces::Selector => from
                        .selector
                        .as_ref()
                        .zip(ns_labels)
                        .is_some_and(|(sel, labels)| sel.matches(labels)),
                }
            });
        (gw.is_waypoint() && takes && allowed).then(|| (wp_ns.to_string(), name.clone()))
    }

    /// Where an ingress gateway sends what it routed to `up`, an endpoint of
    /// registry service `service` on `port`: the Service's waypoint when
    /// the Service (or its namespace) says `istio.io/ingress-use-waypoint:
    /// "true"` (Istio 1.27's `ENABLE_INGRESS_WAYPOINT_ROUTING`, on by
    /// default: istiod gives the gateway the waypoint as the Service's
    /// endpoint), else `up` itself. The waypoint then routes and enforces
    /// as for an ambient client.
    pub(super) fn ingress_waypoint(
        &mut self,
        id: CallId,
        proxy: PodId,
        service: usize,
        port: u16,
        up: crate::dataplane::Upstream,
    ) -> crate::dataplane::Upstream {
        if !self.ztunnel
            || !matches!(
                self.pods[proxy.0 as usize].model.behavior,
                Behavior::Gateway
            )
        {
            return up;
        }
        let reg = self.mesh.registry.get(service);
        let Some(svc) = reg
            .k8s_name
            .as_ref()
            .and_then(|name| self.cluster.find_service(&reg.namespace, name))
        else {
            return up;
        };
        let s = self.cluster.service(svc);
        let opted_in = |labels: &std::collections::BTreeMap<String, String>| {
            labels
                .get(INGRESS_USE_WAYPOINT)
                .is_some_and(|v| v == "true")
        };
        let wants = opted_in(&s.labels)
            || self
                .cluster
                .namespaces
                .get(&s.namespace)
                .is_some_and(|n| opted_in(&n.labels));
        let waypoint = wants
            .then(|| self.waypoint_of(svc))
            .flatten()
            .and_then(|(ns, name)| self.waypoint_pod(&ns, &name));
        match waypoint {
            Some(wp) => {
                self.note(id, || {
                    "the Service is labelled istio.io/ingress-use-waypoint: through its waypoint"
                        .to_string()
                });
                self.calls.get_mut(id).waypoint_target = Some((svc, port));
                crate::dataplane::Upstream::Pod(crate::k8s::Endpoint {
                    pod: wp,
                    port: super::flow::HBONE_PORT,
                })
            }
            None => up,
        }
    }

    /// A ready pod of waypoint `ns/name`, picked as kube-proxy would pick
    /// among its Service's endpoints.
    pub(super) fn waypoint_pod(&mut self, ns: &str, name: &str) -> Option<PodId> {
        let ready: Vec<PodId> = self
            .cluster
            .live_pods()
            .filter(|p| {
                p.namespace == ns
                    && p.ready
                    && p.labels.get(GATEWAY_NAME).is_some_and(|g| g == name)
            })
            .map(|p| p.id)
            .collect();
        if ready.is_empty() {
            return None;
        }
        Some(ready[self.kube_rng.below(ready.len() as u64) as usize])
    }

    /// Whether the ztunnel of `pod`'s node lets call `id`, arriving on
    /// `port`, through to the pod: mTLS as PeerAuthentication demands
    /// (only STRICT counts), the handshake's certificates, and the L4
    /// authorization policies that select the pod.
    pub(super) fn ztunnel_admits(&mut self, id: CallId, pod: PodId, port: u16) -> bool {
        let call = self.calls.get(id);
        let hbone = (call.client_sidecar || call.client_ztunnel) && !call.external;
        let src = call.src_pod;
        let p = self.cluster.pod(pod);
        let mode = mtls_mode(&self.mesh.store, &p.namespace, &p.labels, port);
        let mut policies = authorization_for(&self.mesh.store, &p.namespace, &p.labels);
        // istiod sends ztunnel only ALLOW and DENY policies ("ztunnel does
        // not support the CUSTOM/AUDIT action").
        policies.retain(|(_, p)| matches!(p.action, Action::Allow | Action::Deny));
        if mode == MtlsMode::Strict && !hbone {
            // istiod hands STRICT to ztunnel as a DENY policy.
            self.calls.get_mut(id).ztunnel_denial =
                Some(format!("explicitly denied by: {STRICT_POLICY}").into());
            self.note(id, || {
                "the destination's ztunnel: PeerAuthentication STRICT, a plaintext connection is reset"
                    .to_string()
            });
            self.broken(
                id,
                crate::apps::Failure::ConnectionReset,
                RESET_BODY,
                crate::dataplane::ResponseFlags::UC,
            );
            return false;
        }
        if hbone && !self.handshake(id, pod) {
            return false;
        }
        if policies.is_empty() {
            return true;
        }
        let principal = src.filter(|_| hbone).and_then(|s| self.peer_principal(s));
        let attrs = Attributes {
            principal: principal.as_deref(),
            request_principal: None,
            claims: None,
            source_ip: src.map(|s| self.cluster.pod(s).ip),
            destination_ip: Some(self.cluster.pod(pod).ip),
            destination_port: port,
            http: None,
        };
        match authz::evaluate(&policies, &attrs) {
            Verdict::Allow => true,
            Verdict::Deny(policy) => {
                self.note(id, || match &policy {
                    Some(p) => format!("the destination's ztunnel: AuthorizationPolicy {p} denies the connection"),
                    None => "the destination's ztunnel: no ALLOW AuthorizationPolicy matches the connection: reset".to_string(),
                });
                let why = match &policy {
                    Some(p) => format!("explicitly denied by: {p}"),
                    None => "allow policies exist, but none allowed".to_string(),
                };
                self.calls.get_mut(id).ztunnel_denial = Some(why.into());
                // ztunnel closes the connection: a client's Envoy (a
                // sidecar or waypoint reading HTTP) answers 503 UC, a plain
                // client sees the reset.
                self.broken(
                    id,
                    crate::apps::Failure::ConnectionReset,
                    RESET_BODY,
                    crate::dataplane::ResponseFlags::UC,
                );
                false
            }
        }
    }
}
