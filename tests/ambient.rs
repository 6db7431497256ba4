//! Ambient mode's data path: enrolment without restarts, ztunnel's HBONE
//! mTLS and L4 authorization, waypoints for L7, and what it costs next to
//! sidecars. Each test names the Istio 1.27 behaviour it checks and where
//! that is documented or coded.

use std::path::Path;

use meshsim::config::load_str;
use meshsim::world::World;
use meshsim::world::probe::{ProbeFrom, ProbeRequest, ProbeResult, world_for_scenario};

/// Bookinfo and a curl pod in namespace `bookinfo` (not enrolled) and a
/// curl pod in `outside` (never enrolled), on the ambient profile.
fn ambient_world(extra: &str) -> World {
    let text = format!(
        "name: ambient\nseed: 7\nduration: 1s\ncluster: {{nodes: 3, zones: [zone-a, zone-b, zone-c], region: region-1}}\nmesh: {{profile: ambient}}\nmanifests:\n- path: tests/fixtures/plain-namespaces.yaml\n- path: manifests/bookinfo/bookinfo.yaml\n  namespace: bookinfo\n- path: manifests/samples/curl.yaml\n  namespace: bookinfo\n- path: manifests/samples/curl.yaml\n  namespace: outside\n{extra}"
    );
    let scenario = meshsim::scenario::parse(Path::new("ambient.yaml"), &text)
        .unwrap_or_else(|d| panic!("{d:?}"));
    let (world, _, _) = world_for_scenario(scenario, &[]).unwrap_or_else(|d| panic!("{d:?}"));
    world
}

/// Applies YAML as `kubectl apply` would, and lets istiod push it.
fn apply(w: &mut World, yaml: &str) {
    let loaded = load_str("test.yaml", yaml, None);
    for d in w.apply_loaded(loaded) {
        assert_ne!(d.severity, meshsim::config::Severity::Error, "{d:?}");
    }
    w.settle_push();
    w.settle();
}

fn label_namespace(w: &mut World, ns: &str, labels: &str) {
    apply(
        w,
        &format!(
            "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n  labels: {{{labels}}}\n"
        ),
    );
}

/// `kubectl exec -n NS curl -- curl [-H K:V] http://HOST:PORT/PATH`.
fn curl(w: &mut World, ns: &str, url: (&str, u16, &str), headers: &[(&str, &str)]) -> ProbeResult {
    let curl = w.find_pod(ns, "curl").expect("curl runs");
    let p = ProbeRequest {
        from: ProbeFrom::Pod(curl),
        host: url.0.to_string(),
        port: url.1,
        method: "GET".to_string(),
        path: url.2.to_string(),
        headers: headers
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    w.probe(&p, false).unwrap().0
}

fn pod_names(w: &World, ns: &str) -> Vec<String> {
    w.cluster
        .live_pods()
        .filter(|p| p.namespace == ns)
        .map(|p| p.name.clone())
        .collect()
}

/// An L4 AuthorizationPolicy on details allowing only `principal`.
fn details_only_from(principal: &str) -> String {
    format!(
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {{name: details-from, namespace: bookinfo}}\nspec:\n  selector: {{matchLabels: {{app: details}}}}\n  action: ALLOW\n  rules:\n  - from: [{{source: {{principals: [{principal}]}}}}]\n"
    )
}

/// Namespace labels: in ambient, and through the waypoint named `waypoint`.
const AMBIENT_WAYPOINT: &str = "istio.io/dataplane-mode: ambient, istio.io/use-waypoint: waypoint";

/// The `x-canary` response header a `test: canary` request to details
/// comes back with, if any (Lab 6's header route).
fn canary(w: &mut World) -> Option<String> {
    let r = curl(
        w,
        "bookinfo",
        ("details", 9080, "/details/0"),
        &[("test", "canary")],
    );
    assert_eq!(r.status, Some(200), "{r:?}");
    r.response_headers.get("x-canary").cloned()
}

const STRICT: &str = "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: bookinfo}\nspec: {mtls: {mode: STRICT}}\n";

/// Lab 1 step 5: `kubectl label namespace bookinfo
/// istio.io/dataplane-mode=ambient` enrols the running pods at once (istio-cni
/// redirects them in place; "No pod restarts required"), and their traffic
/// is then HBONE mTLS: a STRICT PeerAuthentication, which did nothing to
/// pods outside the mesh, now makes the destination's ztunnel reset
/// plaintext from a pod outside the mesh (curl exit 56) while enrolled
/// clients get through.
#[test]
fn labelling_a_namespace_enrols_running_pods_without_restart() {
    let mut w = ambient_world("");
    apply(&mut w, STRICT);
    let before = pod_names(&w, "bookinfo");
    let productpage = w.find_pod("bookinfo", "productpage-v1").unwrap();
    assert!(!w.in_ambient(productpage));
    assert_eq!(
        curl(
            &mut w,
            "outside",
            ("productpage.bookinfo", 9080, "/productpage"),
            &[]
        )
        .status,
        Some(200)
    );

    label_namespace(&mut w, "bookinfo", "istio.io/dataplane-mode: ambient");
    assert_eq!(pod_names(&w, "bookinfo"), before, "no pod was re-created");
    assert!(w.in_ambient(productpage));
    let inside = curl(
        &mut w,
        "bookinfo",
        ("productpage", 9080, "/productpage"),
        &[],
    );
    assert_eq!(inside.status, Some(200), "{inside:?}");
    assert!(inside.body.contains("glyphicon-star") || inside.body.contains("Book Details"));
    let outside = curl(
        &mut w,
        "outside",
        ("productpage.bookinfo", 9080, "/productpage"),
        &[],
    );
    assert_eq!(outside.status, None);
    assert!(
        outside.error.as_deref().unwrap_or("").contains("reset"),
        "{outside:?}"
    );
}

/// A pod can opt out with `istio.io/dataplane-mode=none`, and a pod with a
/// sidecar is never captured by ztunnel (istio-cni skips it): sidecar wins.
#[test]
fn none_opts_out_and_sidecars_win() {
    let mut w = ambient_world("");
    label_namespace(&mut w, "bookinfo", "istio.io/dataplane-mode: ambient");
    apply(
        &mut w,
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: optout\n  namespace: bookinfo\n  labels: {istio.io/dataplane-mode: none}\nspec:\n  containers: [{name: curl, image: curlimages/curl}]\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: injected\n  namespace: bookinfo\n  labels: {sidecar.istio.io/inject: \"true\"}\nspec:\n  containers: [{name: curl, image: curlimages/curl}]\n",
    );
    let optout = w.find_pod("bookinfo", "optout").unwrap();
    let injected = w.find_pod("bookinfo", "injected").unwrap();
    assert!(!w.in_ambient(optout));
    assert!(
        w.cluster.pod(injected).sidecar,
        "the injector honours the pod label"
    );
    assert!(!w.in_ambient(injected));
}

/// ztunnel enforces AuthorizationPolicies at L4 with the peer's SPIFFE
/// identity (its service account): an ALLOW naming curl's identity lets
/// curl through and resets productpage's connection. A policy with HTTP
/// fields is not enforced as written: its ALLOW rules with HTTP fields
/// never match (errata 19, `ambient/authorization.go`), so it denies.
#[test]
fn ztunnel_enforces_l4_policy_and_drops_http_rules() {
    let mut w = ambient_world("");
    label_namespace(&mut w, "bookinfo", "istio.io/dataplane-mode: ambient");
    apply(
        &mut w,
        &details_only_from("cluster.local/ns/bookinfo/sa/curl"),
    );
    let direct = curl(&mut w, "bookinfo", ("details", 9080, "/details/0"), &[]);
    assert_eq!(direct.status, Some(200), "{direct:?}");
    // productpage's call to details is reset by details' ztunnel: the page
    // says the details are unavailable.
    let page = curl(
        &mut w,
        "bookinfo",
        ("productpage", 9080, "/productpage"),
        &[],
    );
    assert_eq!(page.status, Some(200));
    assert!(
        page.body.contains("Error fetching product details"),
        "{}",
        page.body
    );

    apply(
        &mut w,
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: details-from, namespace: bookinfo}\nspec:\n  selector: {matchLabels: {app: details}}\n  action: ALLOW\n  rules:\n  - to: [{operation: {methods: [GET]}}]\n",
    );
    let l7 = curl(&mut w, "bookinfo", ("details", 9080, "/details/0"), &[]);
    assert_eq!(
        l7.status, None,
        "an ALLOW rule with HTTP fields matches nothing at L4: {l7:?}"
    );
}

const WAYPOINT: &str = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: waypoint, namespace: bookinfo}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners: [{name: mesh, port: 15008, protocol: HBONE}]\n";

const HEADER_ROUTE: &str = "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: details, namespace: bookinfo}\nspec:\n  hosts: [details]\n  http:\n  - match: [{headers: {test: {exact: canary}}}]\n    route:\n    - destination: {host: details}\n      headers: {response: {add: {x-canary: \"true\"}}}\n  - route: [{destination: {host: details}}]\n";

/// Lab 6 steps 7–8: a waypoint Gateway makes istiod deploy the waypoint
/// (Deployment and Service named after it); a VirtualService's L7 routing
/// reaches ambient clients only through the waypoint, and traffic uses the
/// waypoint only once `istio.io/use-waypoint` binds the namespace (or
/// Service) to it (`istioctl waypoint apply --enroll-namespace`).
#[test]
fn l7_routing_needs_a_bound_waypoint() {
    let mut w = ambient_world("");
    label_namespace(&mut w, "bookinfo", "istio.io/dataplane-mode: ambient");
    apply(&mut w, WAYPOINT);
    apply(&mut w, HEADER_ROUTE);
    let wp = w
        .cluster
        .live_pods()
        .find(|p| p.namespace == "bookinfo" && p.name.starts_with("waypoint-"))
        .map(|p| p.id)
        .expect("istiod deployed the waypoint");
    assert!(w.cluster.pod(wp).ready);
    assert!(w.cluster.find_service("bookinfo", "waypoint").is_some());

    assert_eq!(canary(&mut w), None, "no waypoint in the path yet");

    label_namespace(&mut w, "bookinfo", AMBIENT_WAYPOINT);
    assert_eq!(canary(&mut w).as_deref(), Some("true"));
    let plain = curl(&mut w, "bookinfo", ("details", 9080, "/details/0"), &[]);
    assert!(!plain.response_headers.contains_key("x-canary"));

    // `istio.io/use-waypoint: none` on the Service opts it out again.
    apply(
        &mut w,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: details\n  namespace: bookinfo\n  labels: {app: details, service: details, istio.io/use-waypoint: none}\nspec:\n  ports: [{port: 9080, name: http}]\n  selector: {app: details}\n",
    );
    assert_eq!(canary(&mut w), None);
}

/// The waypoint enforces AuthorizationPolicies that target it
/// (`targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name:
/// waypoint}]`) at L7: a denied request gets 403 `RBAC: access denied`
/// from the waypoint (errata 17); the policy does nothing to traffic that
/// does not pass the waypoint. Behind the waypoint, the destination's
/// ztunnel sees the waypoint's identity, not the client's.
#[test]
fn waypoint_enforces_targeted_l7_policy() {
    let mut w = ambient_world("");
    label_namespace(&mut w, "bookinfo", AMBIENT_WAYPOINT);
    apply(&mut w, WAYPOINT);
    apply(
        &mut w,
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: no-details-post, namespace: bookinfo}\nspec:\n  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\n  action: DENY\n  rules:\n  - to: [{operation: {paths: [/details/1]}}]\n",
    );
    let denied = curl(&mut w, "bookinfo", ("details", 9080, "/details/1"), &[]);
    assert_eq!(denied.status, Some(403), "{denied:?}");
    assert_eq!(denied.body, "RBAC: access denied");
    assert_eq!(
        curl(&mut w, "bookinfo", ("details", 9080, "/details/0"), &[]).status,
        Some(200)
    );

    // An L4 policy on details admitting only curl's identity now refuses
    // everything: the connection comes from the waypoint.
    apply(
        &mut w,
        &details_only_from("cluster.local/ns/bookinfo/sa/curl"),
    );
    let via_waypoint = curl(&mut w, "bookinfo", ("details", 9080, "/details/0"), &[]);
    assert_eq!(
        via_waypoint.status,
        Some(503),
        "the waypoint's upstream connection is reset: {via_waypoint:?}"
    );
    apply(
        &mut w,
        &details_only_from("cluster.local/ns/bookinfo/sa/waypoint"),
    );
    assert_eq!(
        curl(&mut w, "bookinfo", ("details", 9080, "/details/0"), &[]).status,
        Some(200)
    );
}

/// Same input, same bytes: two ambient worlds answer a waypoint-routed
/// request identically.
#[test]
fn ambient_probes_are_deterministic() {
    let run = || {
        let mut w = ambient_world("");
        label_namespace(&mut w, "bookinfo", AMBIENT_WAYPOINT);
        apply(&mut w, WAYPOINT);
        let r = curl(
            &mut w,
            "bookinfo",
            ("productpage", 9080, "/productpage"),
            &[],
        );
        (r.status, r.body, r.latency_ms.to_bits(), w.queue.now())
    };
    assert_eq!(run(), run());
}

/// The course's canary behind a waypoint (scenarios/bookinfo-ambient-
/// waypoint.yaml): the VirtualService splits reviews 90/10 in the waypoint,
/// and the HTTP metrics are the waypoint's (`reporter="waypoint"`, Istio's
/// server-gateway reporter): ztunnel reports TCP only and the pods have no
/// sidecar. The waypoint is the run's one Envoy.
#[test]
fn a_waypoint_routes_and_reports_the_canary() {
    let scenario =
        meshsim::scenario::load(Path::new("scenarios/bookinfo-ambient-waypoint.yaml")).unwrap();
    let report = meshsim::cli::run::simulate(&scenario).unwrap().unwrap();
    assert_eq!(report.overhead.proxies, 1, "{:?}", report.overhead);
    for s in &report.services {
        assert_eq!(s.reporter, "waypoint", "{s:?}");
        assert_eq!(s.outcomes.keys().collect::<Vec<_>>(), ["200"], "{s:?}");
    }
    let share = |version: &str| {
        report
            .versions
            .iter()
            .find(|v| v.service.starts_with("reviews.") && v.version == version)
            .map_or(0.0, |v| v.share)
    };
    assert!((85.0..95.0).contains(&share("v1")), "{:?}", report.versions);
    assert!((5.0..15.0).contains(&share("v2")), "{:?}", report.versions);
    assert_eq!(share("v3"), 0.0);
}

/// A RequestAuthentication attaches to a waypoint only by `targetRefs`
/// (`policyattachment.go`: waypoints never use selectors): one targeting
/// the waypoint rejects a malformed token with 401 at the waypoint, while
/// a namespace-wide one, which would bind sidecars, leaves it alone.
#[test]
fn waypoint_authenticates_with_targeted_request_authentication() {
    let jwks = std::fs::read_to_string("manifests/samples/jwt/jwks.json").unwrap();
    let ra = |name: &str, attach: &str| {
        format!(
            "apiVersion: security.istio.io/v1\nkind: RequestAuthentication\nmetadata: {{name: {name}, namespace: bookinfo}}\nspec:\n{attach}  jwtRules:\n  - issuer: testing@secure.istio.io\n    jwks: '{}'\n",
            jwks.trim()
        )
    };
    let mut w = ambient_world("");
    label_namespace(&mut w, "bookinfo", AMBIENT_WAYPOINT);
    apply(&mut w, WAYPOINT);
    let bad = [("authorization", "Bearer not-a-jwt")];
    apply(&mut w, &ra("namespace-wide", ""));
    let r = curl(&mut w, "bookinfo", ("details", 9080, "/details/0"), &bad);
    assert_eq!(
        r.status,
        Some(200),
        "a selector policy does not bind a waypoint: {r:?}"
    );
    apply(
        &mut w,
        &ra(
            "at-waypoint",
            "  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\n",
        ),
    );
    let r = curl(&mut w, "bookinfo", ("details", 9080, "/details/0"), &bad);
    assert_eq!(r.status, Some(401), "{r:?}");
    let token = std::fs::read_to_string("manifests/samples/jwt/demo.jwt").unwrap();
    let good = [("authorization", format!("Bearer {}", token.trim()))];
    let good: Vec<(&str, &str)> = good.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_eq!(
        curl(&mut w, "bookinfo", ("details", 9080, "/details/0"), &good).status,
        Some(200)
    );
}

/// An ambient client whose Service has no endpoint sees a reset, not a
/// refusal: its ztunnel accepted the connection first (ztunnel
/// `src/proxy/outbound.rs`).
#[test]
fn an_ambient_client_sees_resets_where_nothing_listens() {
    let mut w = ambient_world("");
    label_namespace(&mut w, "bookinfo", "istio.io/dataplane-mode: ambient");
    w.scale("bookinfo", "details-v1", 0).unwrap();
    w.settle();
    let r = curl(&mut w, "bookinfo", ("details", 9080, "/details/0"), &[]);
    assert_eq!(r.status, None);
    assert_eq!(r.error.as_deref(), Some("connection reset"), "{r:?}");
    let outside = curl(
        &mut w,
        "outside",
        ("details.bookinfo", 9080, "/details/0"),
        &[],
    );
    assert_eq!(
        outside.error.as_deref(),
        Some("connection refused"),
        "{outside:?}"
    );
}

/// A Service can use a waypoint in another namespace
/// (`istio.io/use-waypoint-namespace`) only when the waypoint's listener
/// allows routes from the Service's namespace (`allowedRoutes`; Istio's
/// `AllowsAttachmentFromNamespace`), as istioctl's `--for` docs show for
/// shared waypoints.
#[test]
fn a_shared_waypoint_must_allow_the_namespace() {
    let mut w = ambient_world("");
    label_namespace(
        &mut w,
        "bookinfo",
        "istio.io/dataplane-mode: ambient, istio.io/use-waypoint: shared, istio.io/use-waypoint-namespace: outside",
    );
    apply(&mut w, HEADER_ROUTE);
    let shared = |from: &str| {
        format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: shared, namespace: outside}}\nspec:\n  gatewayClassName: istio-waypoint\n  listeners:\n  - name: mesh\n    port: 15008\n    protocol: HBONE\n    allowedRoutes: {{namespaces: {{from: {from}}}}}\n"
        )
    };
    apply(&mut w, &shared("Same"));
    assert_eq!(canary(&mut w), None);
    apply(&mut w, &shared("All"));
    assert_eq!(canary(&mut w).as_deref(), Some("true"));
}

/// ztunnel's access log words a policy refusal as ztunnel does
/// (`src/proxy.rs`): the destination's `error` line ends `error="connection
/// closed due to policy rejection: allow policies exist, but none
/// allowed"`.
#[test]
fn ztunnel_logs_policy_rejections() {
    let mut w = ambient_world("");
    w.keep_logs = true;
    label_namespace(&mut w, "bookinfo", "istio.io/dataplane-mode: ambient");
    apply(
        &mut w,
        &details_only_from("cluster.local/ns/bookinfo/sa/nobody"),
    );
    let r = curl(&mut w, "bookinfo", ("details", 9080, "/details/0"), &[]);
    assert_eq!(r.error.as_deref(), Some("connection reset"), "{r:?}");
    let details = w.find_pod("bookinfo", "details-v1").unwrap();
    let node = w.cluster.pod(details).node;
    let ztunnel = w
        .cluster
        .live_pods()
        .find(|p| p.node == node && p.name.starts_with("ztunnel-"))
        .map(|p| p.id)
        .unwrap();
    let log = w
        .container_log(ztunnel, "istio-proxy")
        .expect("ztunnel logged");
    let line = log
        .lines()
        .map(|(_, l)| l.as_str())
        .find(|l| {
            l.contains("\terror\taccess\tconnection complete\t")
                && l.contains(" direction=\"inbound\" ")
        })
        .expect("the refused connection is logged");
    assert!(
        line.ends_with(" error=\"connection closed due to policy rejection: allow policies exist, but none allowed\""),
        "{line}"
    );
}

/// ztunnel holds ambient workloads' certificates: fetched from istiod on
/// first use and renewed at half life (ztunnel's `refresh_at`). With
/// 30-minute certificates and istiod gone for an hour, HBONE between
/// ambient pods fails once they expire (the client sees the reset), and
/// works again after istiod returns.
#[test]
fn ambient_certificates_expire_during_a_long_istiod_outage() {
    let mut w = ambient_world("- path: tests/fixtures/mesh/secret-ttl-30m.yaml\n");
    label_namespace(&mut w, "bookinfo", "istio.io/dataplane-mode: ambient");
    let details = ("details", 9080, "/details/0");
    assert_eq!(curl(&mut w, "bookinfo", details, &[]).status, Some(200));
    w.scale("istio-system", "istiod", 0).unwrap();
    w.advance_by(meshsim::sim::SimDuration::from_secs(20 * 60));
    assert_eq!(
        curl(&mut w, "bookinfo", details, &[]).status,
        Some(200),
        "still valid"
    );
    w.advance_by(meshsim::sim::SimDuration::from_secs(40 * 60));
    let expired = curl(&mut w, "bookinfo", details, &[]);
    assert_eq!(
        expired.error.as_deref(),
        Some("connection reset"),
        "{expired:?}"
    );
    w.scale("istio-system", "istiod", 1).unwrap();
    w.advance_by(meshsim::sim::SimDuration::from_secs(60));
    assert_eq!(
        curl(&mut w, "bookinfo", details, &[]).status,
        Some(200),
        "renewed"
    );
}

/// Ingress gateways skip waypoints unless the Service (or namespace) is
/// labelled `istio.io/ingress-use-waypoint: "true"` (Istio 1.27, "Use a
/// waypoint for ingress traffic"): then a policy targeting the waypoint
/// guards traffic from the gateway too.
#[test]
fn ingress_traffic_uses_the_waypoint_when_asked() {
    let mut w = ambient_world(
        "- path: src/control/profiles/ingressgateway.yaml\n- path: manifests/samples/bookinfo-gateway.yaml\n  namespace: bookinfo\n",
    );
    label_namespace(&mut w, "bookinfo", AMBIENT_WAYPOINT);
    apply(&mut w, WAYPOINT);
    apply(
        &mut w,
        "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: no-productpage, namespace: bookinfo}\nspec:\n  targetRefs: [{kind: Gateway, group: gateway.networking.k8s.io, name: waypoint}]\n  action: DENY\n  rules:\n  - to: [{operation: {paths: [/productpage]}}]\n",
    );
    let gateway = w
        .cluster
        .live_pods()
        .find(|p| p.name.starts_with("istio-ingressgateway-"))
        .map(|p| p.id)
        .expect("the ingress gateway runs");
    let page = |w: &mut World| {
        let p = ProbeRequest {
            from: ProbeFrom::Gateway(gateway),
            host: "bookinfo.example".to_string(),
            port: 80,
            method: "GET".to_string(),
            path: "/productpage".to_string(),
            headers: Vec::new(),
        };
        w.probe(&p, false).unwrap().0
    };
    assert_eq!(
        page(&mut w).status,
        Some(200),
        "the gateway goes straight to the pods"
    );
    apply(
        &mut w,
        "apiVersion: v1\nkind: Service\nmetadata:\n  name: productpage\n  namespace: bookinfo\n  labels: {app: productpage, service: productpage, istio.io/ingress-use-waypoint: \"true\"}\nspec:\n  ports: [{port: 9080, name: http}]\n  selector: {app: productpage}\n",
    );
    let denied = page(&mut w);
    assert_eq!(
        (denied.status, denied.body.as_str()),
        (Some(403), "RBAC: access denied"),
        "{denied:?}"
    );
}
