//! Properties of authorization and mTLS over generated policies. The
//! evaluator is meshsim's sans-IO `dataplane::authz`; the mTLS property
//! runs whole worlds. Rules from Istio's authorization concepts page and
//! `pilot/pkg/security/authz`: DENY before ALLOW; no policy allows; an
//! ALLOW policy can only ever add permission where nothing denies.

use std::net::Ipv4Addr;

use meshsim::config::security::AuthorizationPolicy;
use meshsim::dataplane::authz::{Attributes, Http, Verdict, evaluate};
use proptest::prelude::*;
use proptest::test_runner::RngSeed;

fn config(cases: u32) -> ProptestConfig {
    ProptestConfig {
        cases,
        rng_seed: RngSeed::Fixed(0xa072),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

const PRINCIPALS: [&str; 3] = [
    "cluster.local/ns/default/sa/curl",
    "cluster.local/ns/bookinfo/sa/bookinfo-productpage",
    "cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account",
];
const PATHS: [&str; 4] = [
    "/productpage",
    "/api/v1/products",
    "/admin",
    "/static/x.css",
];
const METHODS: [&str; 2] = ["GET", "POST"];

/// One `from`/`to` rule over a small vocabulary, as JSON.
fn rule() -> impl Strategy<Value = String> {
    (
        prop::option::of(prop::sample::select(vec![
            r#""principals": ["cluster.local/ns/default/sa/curl"]"#,
            r#""namespaces": ["bookinfo"]"#,
            r#""notNamespaces": ["default"]"#,
            r#""principals": ["*"]"#,
        ])),
        prop::option::of(prop::sample::select(vec![
            r#""paths": ["/productpage"]"#,
            r#""paths": ["/api/*"]"#,
            r#""notPaths": ["/admin"]"#,
            r#""methods": ["GET"]"#,
        ])),
    )
        .prop_map(|(from, to)| {
            let mut parts = Vec::new();
            if let Some(f) = from {
                parts.push(format!(r#""from": [{{"source": {{{f}}}}}]"#));
            }
            if let Some(t) = to {
                parts.push(format!(r#""to": [{{"operation": {{{t}}}}}]"#));
            }
            format!("{{{}}}", parts.join(", "))
        })
}

fn policy(action: &'static str) -> impl Strategy<Value = AuthorizationPolicy> {
    prop::collection::vec(rule(), 0..3).prop_map(move |rules| {
        serde_json::from_str(&format!(
            r#"{{"action": "{action}", "rules": [{}]}}"#,
            rules.join(", ")
        ))
        .unwrap()
    })
}

fn request() -> impl Strategy<Value = (Option<usize>, usize, usize)> {
    (
        prop::option::of(0..PRINCIPALS.len()),
        0..PATHS.len(),
        0..METHODS.len(),
    )
}

fn decide(
    policies: &[AuthorizationPolicy],
    (principal, path, method): (Option<usize>, usize, usize),
) -> Verdict {
    let named: Vec<(String, AuthorizationPolicy)> = policies
        .iter()
        .enumerate()
        .map(|(i, p)| (format!("ns/p{i}"), p.clone()))
        .collect();
    let attrs = Attributes {
        principal: principal.map(|i| PRINCIPALS[i]),
        source_ip: Some(Ipv4Addr::new(10, 244, 0, 9)),
        destination_port: 9080,
        http: Some(Http {
            host: "productpage.bookinfo",
            method: METHODS[method],
            path: PATHS[path],
            headers: &[],
        }),
        ..Attributes::default()
    };
    evaluate(&named, &attrs)
}

proptest! {
    #![proptest_config(config(512))]

    #[test]
    fn with_no_policy_everything_is_allowed(req in request()) {
        prop_assert_eq!(decide(&[], req), Verdict::Allow);
    }

    /// A DENY policy whose rule matches the request wins over any ALLOW.
    #[test]
    fn a_matching_deny_beats_any_allow(
        allows in prop::collection::vec(policy("ALLOW"), 0..4),
        req in request(),
    ) {
        let deny: AuthorizationPolicy = serde_json::from_str(&format!(
            r#"{{"action": "DENY", "rules": [{{"to": [{{"operation": {{"paths": ["{}"]}}}}]}}]}}"#,
            PATHS[req.1]
        ))
        .unwrap();
        let mut policies = allows;
        policies.push(deny);
        let deny_name = format!("ns/p{}", policies.len() - 1);
        prop_assert_eq!(decide(&policies, req), Verdict::Deny(Some(deny_name)));
    }

    /// Adding an ALLOW policy never allows what a DENY policy denied.
    #[test]
    fn an_allow_never_overrides_a_deny(
        denies in prop::collection::vec(policy("DENY"), 1..3),
        allows in prop::collection::vec(policy("ALLOW"), 0..3),
        extra in policy("ALLOW"),
        req in request(),
    ) {
        let mut policies = denies;
        policies.extend(allows);
        let before = decide(&policies, req);
        policies.push(extra);
        let after = decide(&policies, req);
        if let Verdict::Deny(Some(_)) = before {
            prop_assert_eq!(after, before);
        }
    }
}

mod strict_mtls {
    use super::*;
    use meshsim::dataplane::xds::OutboundPolicy;
    use meshsim::scenario::{Manifest, ManifestSource};
    use meshsim::world::probe::{ProbeFrom, ProbeRequest, world_from};

    const MODES: [&str; 4] = ["UNSET", "DISABLE", "PERMISSIVE", "STRICT"];

    fn pa(name: &str, ns: &str, selector: bool, mode: &str) -> String {
        let selector = if selector {
            "  selector: {matchLabels: {app: httpbin}}\n"
        } else {
            ""
        };
        format!(
            "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n{selector}  mtls: {{mode: {mode}}}\n"
        )
    }

    proptest! {
        #![proptest_config(config(16))]

        /// Whatever the mesh, namespace and workload policies say, the
        /// effective mode is the most specific one set (PERMISSIVE when
        /// none is), and under STRICT a plaintext client never gets in,
        /// while a client with a sidecar always does.
        #[test]
        fn strict_never_admits_plaintext(
            mesh in prop::option::of(0..4usize),
            namespace in prop::option::of(0..4usize),
            workload in prop::option::of(0..4usize),
        ) {
            let mut text = String::from(
                "apiVersion: v1\nkind: Namespace\nmetadata: {name: foo, labels: {istio-injection: enabled}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: legacy}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: sleep, namespace: legacy}\nspec: {containers: [{name: sleep, image: curlimages/curl}]}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: client, namespace: foo}\nspec: {containers: [{name: curl, image: curlimages/curl}]}\n",
            );
            if let Some(m) = mesh { text.push_str(&pa("mesh", "istio-system", false, MODES[m])); }
            if let Some(m) = namespace { text.push_str(&pa("ns", "foo", false, MODES[m])); }
            if let Some(m) = workload { text.push_str(&pa("wl", "foo", true, MODES[m])); }
            let manifests = vec![
                Manifest { source: ManifestSource::Inline { name: "pa.yaml".to_string(), text }, namespace: None },
                Manifest {
                    source: ManifestSource::File("manifests/samples/httpbin.yaml".into()),
                    namespace: Some("foo".to_string()),
                },
            ];
            let (mut w, _, _) = world_from(manifests, &[], 5, OutboundPolicy::AllowAny).unwrap();
            let effective = [workload, namespace, mesh]
                .into_iter()
                .flatten()
                .map(|i| MODES[i])
                .find(|m| *m != "UNSET")
                .unwrap_or("PERMISSIVE");
            let mut get = |ns: &str, pod: &str| {
                let from = w.find_pod(ns, pod).expect("the client runs");
                let p = ProbeRequest {
                    from: ProbeFrom::Pod(from),
                    host: "httpbin.foo".to_string(),
                    port: 8000,
                    method: "GET".to_string(),
                    path: "/get".to_string(),
                    headers: Vec::new(),
                };
                w.probe(&p, false).unwrap().0
            };
            let plaintext = get("legacy", "sleep");
            if effective == "STRICT" {
                prop_assert_eq!(plaintext.error.as_deref(), Some("connection reset"));
            } else {
                prop_assert_eq!(plaintext.status, Some(200));
            }
            prop_assert_eq!(get("foo", "client").status, Some(200));
        }
    }
}
