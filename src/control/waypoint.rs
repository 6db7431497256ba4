//! What istiod's deployment controller makes for an ambient waypoint: for
//! each Gateway API Gateway of class `istio-waypoint`, a ServiceAccount, a
//! Deployment running `proxy waypoint` and a Service with the HBONE port,
//! all named after the Gateway (Istio 1.27 `pilot/pkg/config/kube/gateway/
//! deploymentcontroller.go`, `files/waypoint.yaml`).

use crate::config::{Body, Object};

/// The namespace and pod label that enrols workloads in ambient.
pub const DATAPLANE_MODE: &str = "istio.io/dataplane-mode";
/// The label that binds a namespace or Service to a waypoint.
pub const USE_WAYPOINT: &str = "istio.io/use-waypoint";
/// The label naming the waypoint's namespace when it is another one.
pub const USE_WAYPOINT_NAMESPACE: &str = "istio.io/use-waypoint-namespace";
/// A waypoint Gateway's label saying which traffic it takes.
pub const WAYPOINT_FOR: &str = "istio.io/waypoint-for";
/// The label Istio's deployment controller puts on a Gateway's pods.
pub const GATEWAY_NAME: &str = "gateway.networking.k8s.io/gateway-name";
/// The label on what Istio's deployment controller made, and its value
/// for waypoints.
pub const MANAGED: &str = "gateway.istio.io/managed";
pub const MESH_CONTROLLER: &str = "istio.io-mesh-controller";

const TEMPLATE: &str = include_str!("profiles/waypoint.yaml");

/// The Gateway's `istio.io/waypoint-for`: which traffic it takes. istiod's
/// default is `service`.
pub fn traffic_type(gateway: &Object) -> &str {
    gateway
        .meta
        .labels
        .get(WAYPOINT_FOR)
        .map_or("service", String::as_str)
}

/// Whether `obj` is a waypoint Gateway.
pub fn is_waypoint(obj: &Object) -> bool {
    matches!(&obj.body, Body::KubernetesGateway(g) if g.is_waypoint())
}

/// The objects deployed for waypoint Gateway `gateway`, as YAML.
pub fn manifests(gateway: &Object) -> String {
    TEMPLATE
        .replace("{{ns}}", gateway.namespace())
        .replace("{{name}}", gateway.name())
        .replace("{{for}}", traffic_type(gateway))
        .replace(
            "{{rev}}",
            gateway
                .meta
                .labels
                .get(crate::k8s::cluster::REVISION)
                .map_or("default", String::as_str),
        )
}

/// The kinds of [`manifests`], for deleting them with their Gateway.
pub const KINDS: [&str; 3] = ["Deployment", "Service", "ServiceAccount"];
