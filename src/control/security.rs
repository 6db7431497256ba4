//! Which security policies istiod gives a workload's proxy: the
//! AuthorizationPolicies that select it, the JWT providers of the
//! RequestAuthentications that select it (same scoping), and the mTLS mode
//! its inbound ports enforce from the PeerAuthentications.
//!
//! - AuthorizationPolicy (`pilot/pkg/model/authorization.go`): one in the
//!   root namespace (`istio-system`) applies mesh-wide, or to the workloads
//!   its selector matches in every namespace; one in the workload's
//!   namespace applies to all of it, or to those its selector matches.
//!   Policies with `targetRef(s)` bind to gateways and waypoints, not to
//!   sidecars.
//! - PeerAuthentication (`pilot/pkg/security/authn/policy_applier.go`): the
//!   workload-specific policy (selector, in the workload's namespace) wins
//!   over the namespace's (no selector), which wins over the mesh's (root
//!   namespace, no selector); among peers the oldest wins. `UNSET`
//!   inherits from the next level; with nothing set the mode is
//!   PERMISSIVE. `portLevelMtls` (keyed by the workload's port) only counts
//!   in a policy with a selector.

use std::collections::BTreeMap;

use crate::config::diag::{Diagnostic, Severity};
use crate::config::networking::common::{TargetRef, WorkloadMatchSelector};
use crate::config::security::{
    AuthorizationPolicy, JwtRule, MtlsMode, PeerAuthentication, RequestAuthentication,
};
use crate::config::{Body, Object};
use crate::dataplane::jwt::{Authenticator, Location, Provider, parse_jwks};
use crate::web::Web;

use super::routing::ROOT_NAMESPACE;
use super::store::ConfigStore;

fn selects(selector: &Option<WorkloadMatchSelector>, labels: &BTreeMap<String, String>) -> bool {
    selector
        .as_ref()
        .is_none_or(|s| s.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v)))
}

/// Whether a policy in `o`'s namespace reaches a sidecar (or gateway) in
/// `namespace` with `labels`: policies in the root namespace apply
/// everywhere, others in their own namespace; a selector narrows them to
/// the pods it matches; `targetRef(s)` bind to gateways and waypoints
/// instead.
fn binds_sidecar(
    o: &Object,
    selector: &Option<WorkloadMatchSelector>,
    targeted: bool,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> bool {
    (o.namespace() == namespace || o.namespace() == ROOT_NAMESPACE)
        && !targeted
        && selects(selector, labels)
}

fn request_authentications(
    store: &ConfigStore,
) -> impl Iterator<Item = (&Object, &RequestAuthentication)> {
    store
        .of_kind("RequestAuthentication")
        .into_iter()
        .filter_map(|o| match &o.body {
            Body::RequestAuthentication(p) => Some((o, p)),
            _ => None,
        })
}

/// Whether a policy is annotated `istio.io/dry-run` with a true value (Go's
/// `strconv.ParseBool`): istiod turns it into shadow rules that only log,
/// so the proxy does not enforce it (the authz-dry-run task).
fn dry_run(o: &Object) -> bool {
    o.meta
        .annotations
        .get("istio.io/dry-run")
        .is_some_and(|v| matches!(v.as_str(), "1" | "t" | "T" | "true" | "TRUE" | "True"))
}

/// The AuthorizationPolicies a sidecar in `namespace` with `labels`
/// enforces, named `ns/name`, oldest first; dry-run policies are not
/// enforced.
pub fn authorization_for(
    store: &ConfigStore,
    namespace: &str,
    labels: &BTreeMap<String, String>,
) -> Vec<(String, AuthorizationPolicy)> {
    enforced_policies(store)
        .filter(|(o, p)| {
            binds_sidecar(
                o,
                &p.selector,
                p.target_ref.is_some() || !p.target_refs.is_empty(),
                namespace,
                labels,
            )
        })
        .map(|(o, p)| (format!("{}/{}", o.namespace(), o.name()), p.clone()))
        .collect()
}

/// The AuthorizationPolicies a proxy may enforce, oldest first: all but
/// the dry-run ones.
fn enforced_policies(store: &ConfigStore) -> impl Iterator<Item = (&Object, &AuthorizationPolicy)> {
    store
        .of_kind("AuthorizationPolicy")
        .into_iter()
        .filter_map(|o| match &o.body {
            Body::AuthorizationPolicy(p) => Some((o, p)),
            _ => None,
        })
        .filter(|(o, _)| !dry_run(o))
}

/// Whether a policy in namespace `ns` with these `targetRefs` attaches to
/// waypoint `waypoint` (its namespace and name) serving `service` (its
/// namespace and name): a reference to its Gateway, to the Service, or,
/// from the root namespace, to the `istio-waypoint` GatewayClass (Istio
/// 1.27 `pilot/pkg/model/policyattachment.go`; waypoints never use
/// selectors, so a policy without targetRefs does not attach).
fn attaches_to_waypoint<'t>(
    ns: &str,
    mut refs: impl Iterator<Item = &'t TargetRef>,
    waypoint: (&str, &str),
    service: (&str, &str),
) -> bool {
    refs.any(|t| match (t.group.as_str(), t.kind.as_str()) {
        ("gateway.networking.k8s.io", "Gateway") => (ns, t.name.as_str()) == waypoint,
        ("" | "core", "Service") => (ns, t.name.as_str()) == service,
        ("gateway.networking.k8s.io", "GatewayClass") => {
            ns == ROOT_NAMESPACE && t.name == crate::config::gateway_api::WAYPOINT_CLASS
        }
        _ => false,
    })
}

/// The JWT providers of the RequestAuthentications attached to a waypoint
/// serving a Service ([`attaches_to_waypoint`]), sorted by issuer.
pub fn waypoint_authentication(
    store: &ConfigStore,
    waypoint: (&str, &str),
    service: (&str, &str),
    web: &Web,
) -> Authenticator {
    authenticator(
        request_authentications(store).filter(|(o, p)| {
            attaches_to_waypoint(
                o.namespace(),
                p.target_ref.iter().chain(&p.target_refs),
                waypoint,
                service,
            )
        }),
        web,
    )
}

/// The providers of `policies`' rules, sorted by issuer as istiod sorts
/// them.
fn authenticator<'p>(
    policies: impl Iterator<Item = (&'p Object, &'p RequestAuthentication)>,
    web: &Web,
) -> Authenticator {
    let mut rules: Vec<&JwtRule> = policies.flat_map(|(_, p)| &p.jwt_rules).collect();
    rules.sort_by(|a, b| a.issuer.cmp(&b.issuer));
    Authenticator {
        providers: rules.into_iter().map(|r| provider(r, web)).collect(),
    }
}

/// The AuthorizationPolicies a waypoint enforces for one Service (Istio
/// 1.27 `pilot/pkg/model/authorization.go` `PolicyMatcherForProxy`): those
/// whose `targetRefs` name the waypoint's Gateway (`waypoint`: its
/// namespace and name), the Service (`service`: its namespace and name),
/// or, from the root namespace, the `istio-waypoint` GatewayClass.
pub fn waypoint_authorization(
    store: &ConfigStore,
    waypoint: (&str, &str),
    service: (&str, &str),
) -> Vec<(String, AuthorizationPolicy)> {
    enforced_policies(store)
        .filter(|(o, p)| {
            attaches_to_waypoint(
                o.namespace(),
                p.target_ref.iter().chain(&p.target_refs),
                waypoint,
                service,
            )
        })
        .map(|(o, p)| (format!("{}/{}", o.namespace(), o.name()), p.clone()))
        .collect()
}

/// The JWT providers of the RequestAuthentications that select a workload
/// (same scoping as AuthorizationPolicy), sorted by issuer as istiod sorts
/// them. A `jwksUri` is fetched from `web`; when it cannot be, istiod
/// configures its fake JWKS and no token verifies.
pub fn authentication_for(
    store: &ConfigStore,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    web: &Web,
) -> Authenticator {
    authenticator(
        request_authentications(store).filter(|(o, p)| {
            binds_sidecar(
                o,
                &p.selector,
                p.target_ref.is_some() || !p.target_refs.is_empty(),
                namespace,
                labels,
            )
        }),
        web,
    )
}

/// The keys istiod gives a rule: its inline `jwks`, the set behind its
/// `jwksUri`, or (with neither) the `jwks_uri` of the issuer's OpenID
/// discovery document; or why it has none and uses its fake JWKS.
fn rule_keys(rule: &JwtRule, web: &Web) -> Result<Vec<jsonwebtoken::jwk::Jwk>, String> {
    let (text, from) = match (&rule.jwks, rule.jwks_uri()) {
        (Some(inline), _) => (inline.as_str(), "the inline jwks".to_string()),
        (None, Some(uri)) => (
            web.get(uri)
                .ok_or_else(|| format!("jwksUri {uri} is not reachable offline"))?,
            format!("jwksUri {uri}"),
        ),
        (None, None) => {
            let issuer = rule.issuer.as_deref().unwrap_or("").trim_end_matches('/');
            let discovery = format!("{issuer}/.well-known/openid-configuration");
            let uri = web
                .get(&discovery)
                .and_then(|d| serde_json::from_str::<serde_json::Value>(d).ok())
                .and_then(|d| d.get("jwks_uri")?.as_str().map(str::to_string))
                .ok_or_else(|| format!("no jwks or jwksUri, and the issuer's discovery document {discovery} is not reachable offline"))?;
            (
                web.get(&uri).ok_or_else(|| {
                    format!("{discovery} names jwks_uri {uri}, which is not reachable offline")
                })?,
                format!("jwks_uri {uri}"),
            )
        }
    };
    parse_jwks(text).map_err(|e| format!("{from} is not a JSON Web Key Set: {e}"))
}

fn provider(rule: &JwtRule, web: &Web) -> Provider {
    let mut locations: Vec<Location> = rule
        .from_headers
        .iter()
        .map(|h| Location::Header {
            name: h.name.clone().unwrap_or_default().to_ascii_lowercase(),
            prefix: h.prefix.clone().unwrap_or_default(),
        })
        .chain(rule.from_params.iter().cloned().map(Location::Param))
        .chain(rule.from_cookies.iter().cloned().map(Location::Cookie))
        .collect();
    if locations.is_empty() {
        locations = Location::defaults();
    }
    Provider {
        issuer: rule.issuer.clone().filter(|i| !i.is_empty()),
        audiences: rule.audiences.clone(),
        keys: rule_keys(rule, web).ok(),
        locations,
        forward: rule.forward_original_token.unwrap_or(false),
        payload_header: rule.output_payload_to_header.clone(),
        claim_headers: rule
            .output_claim_to_headers
            .iter()
            .filter_map(|c| Some((c.header.clone()?, c.claim.clone()?)))
            .collect(),
    }
}

/// The `jwtRules` whose keys istiod cannot get (an unreachable or
/// unreadable JWKS): it logs them and configures its fake JWKS, which
/// refuses every token.
pub fn unreachable_jwks(store: &ConfigStore, web: &Web) -> Vec<Diagnostic> {
    request_authentications(store)
        .flat_map(|(o, p)| {
            p.jwt_rules
                .iter()
                .filter_map(|r| rule_keys(r, web).err())
                .map(move |why| {
                    o.diagnostic(
                        Severity::Warning,
                        format!("{why}: tokens are refused, as with istiod's fake JWKS; serve the keys with --url URL=FILE or a scenario's urls"),
                    )
                })
        })
        .collect()
}

/// The mTLS mode a workload's proxy enforces on inbound `port` (the
/// workload's container port); never `Unset`.
pub fn mtls_mode(
    store: &ConfigStore,
    namespace: &str,
    labels: &BTreeMap<String, String>,
    port: u16,
) -> MtlsMode {
    let policies: Vec<(&str, &PeerAuthentication)> = store
        .of_kind("PeerAuthentication")
        .into_iter()
        .filter_map(|o| match &o.body {
            Body::PeerAuthentication(p) => Some((o.namespace(), p)),
            _ => None,
        })
        .collect();
    let workload = policies
        .iter()
        .find(|(ns, p)| *ns == namespace && p.selector.is_some() && selects(&p.selector, labels));
    let namespace_wide = policies
        .iter()
        .find(|(ns, p)| *ns == namespace && p.selector.is_none());
    let mesh = policies
        .iter()
        .find(|(ns, p)| *ns == ROOT_NAMESPACE && p.selector.is_none());
    let mode = |p: &PeerAuthentication| p.mtls.as_ref().map_or(MtlsMode::Unset, |m| m.mode);
    let workload_mode = workload.map(|(_, p)| {
        p.port_level_mtls
            .as_ref()
            .and_then(|ports| ports.get(&u32::from(port)))
            .map_or_else(|| mode(p), |m| m.mode)
    });
    [
        workload_mode,
        namespace_wide.map(|(_, p)| mode(p)),
        mesh.map(|(_, p)| mode(p)),
    ]
    .into_iter()
    .flatten()
    .find(|m| *m != MtlsMode::Unset)
    .unwrap_or(MtlsMode::Permissive)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimTime;

    fn store(yaml: &str) -> ConfigStore {
        let loaded = crate::config::load_str("policies.yaml", yaml, None);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let mut s = ConfigStore::default();
        for o in loaded.objects {
            s.apply(o, SimTime::ZERO);
        }
        s
    }

    fn labels(app: &str) -> BTreeMap<String, String> {
        BTreeMap::from([("app".to_string(), app.to_string())])
    }

    const PA: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\n";

    #[test]
    fn nothing_set_is_permissive() {
        assert_eq!(
            mtls_mode(&store(""), "default", &labels("a"), 80),
            MtlsMode::Permissive
        );
    }

    #[test]
    fn workload_beats_namespace_beats_mesh() {
        let s = store(&format!(
            "{PA}metadata: {{name: mesh, namespace: istio-system}}\nspec: {{mtls: {{mode: STRICT}}}}\n---\n{PA}metadata: {{name: ns, namespace: foo}}\nspec: {{mtls: {{mode: PERMISSIVE}}}}\n---\n{PA}metadata: {{name: wl, namespace: foo}}\nspec:\n  selector: {{matchLabels: {{app: a}}}}\n  mtls: {{mode: DISABLE}}\n  portLevelMtls: {{8080: {{mode: STRICT}}}}\n"
        ));
        assert_eq!(mtls_mode(&s, "bar", &labels("a"), 80), MtlsMode::Strict);
        assert_eq!(mtls_mode(&s, "foo", &labels("b"), 80), MtlsMode::Permissive);
        assert_eq!(mtls_mode(&s, "foo", &labels("a"), 80), MtlsMode::Disable);
        assert_eq!(mtls_mode(&s, "foo", &labels("a"), 8080), MtlsMode::Strict);
    }

    #[test]
    fn unset_inherits() {
        let s = store(&format!(
            "{PA}metadata: {{name: mesh, namespace: istio-system}}\nspec: {{mtls: {{mode: STRICT}}}}\n---\n{PA}metadata: {{name: ns, namespace: foo}}\nspec: {{mtls: {{mode: UNSET}}}}\n"
        ));
        assert_eq!(mtls_mode(&s, "foo", &labels("a"), 80), MtlsMode::Strict);
    }

    #[test]
    fn authorization_policies_by_namespace_and_selector() {
        let ap = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\n";
        let s = store(&format!(
            "{ap}metadata: {{name: root, namespace: istio-system}}\nspec: {{}}\n---\n{ap}metadata: {{name: here, namespace: foo}}\nspec:\n  selector: {{matchLabels: {{app: a}}}}\n  rules: [{{}}]\n---\n{ap}metadata: {{name: other, namespace: bar}}\nspec: {{}}\n---\n{ap}metadata: {{name: waypoint, namespace: foo}}\nspec:\n  targetRefs: [{{kind: Service, group: \"\", name: a}}]\n"
        ));
        let names = |ns: &str, app: &str| -> Vec<String> {
            authorization_for(&s, ns, &labels(app))
                .into_iter()
                .map(|(n, _)| n)
                .collect()
        };
        assert_eq!(names("foo", "a"), vec!["foo/here", "istio-system/root"]);
        assert_eq!(names("foo", "b"), vec!["istio-system/root"]);
        // The authz-dry-run task: an annotated policy only logs.
        let s = store(&format!(
            "{ap}metadata:\n  name: deny-path-headers\n  namespace: foo\n  annotations: {{\"istio.io/dry-run\": \"true\"}}\nspec:\n  action: DENY\n  rules: [{{to: [{{operation: {{ports: [\"8000\"], paths: [/headers]}}}}]}}]\n"
        ));
        assert!(authorization_for(&s, "foo", &labels("a")).is_empty());
    }
}
