//! Istio's security task pages, replayed: "Authentication Policy",
//! section "End-user authentication"
//! (istio.io/latest/docs/tasks/security/authentication/authn-policy/):
//! httpbin in `foo` behind the ingress gateway, a RequestAuthentication
//! and then AuthorizationPolicies bound to the gateway (`istio:
//! ingressgateway` in `istio-system`). The expected outputs are the task
//! page's.

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::issuer::SigningKey;
use meshsim::scenario::{Manifest, ManifestSource};
use meshsim::sim::SimDuration;
use meshsim::world::World;
use meshsim::world::probe::{ProbeFrom, ProbeRequest, world_from};
use serde_json::json;

const DEMO_TOKEN: &str = include_str!("../manifests/samples/jwt/demo.jwt");

/// `kubectl create ns foo; kubectl apply -f httpbin.yaml -n foo`, and the
/// task's gateway and virtual service for `/headers` and `/ip`.
const SETUP: &str = r#"apiVersion: v1
kind: Namespace
metadata: {name: foo, labels: {istio-injection: enabled}}
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {name: httpbin-gateway, namespace: foo}
spec:
  selector: {istio: ingressgateway}
  servers:
  - port: {number: 80, name: http, protocol: HTTP}
    hosts: ["*"]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin, namespace: foo}
spec:
  hosts: ["*"]
  gateways: [httpbin-gateway]
  http:
  - route:
    - destination: {port: {number: 8000}, host: httpbin.foo.svc.cluster.local}
"#;

const JWT_EXAMPLE: &str = r#"apiVersion: security.istio.io/v1
kind: RequestAuthentication
metadata:
  name: "jwt-example"
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  jwtRules:
  - issuer: "testing@secure.istio.io"
    jwksUri: "https://raw.githubusercontent.com/istio/istio/release-1.27/security/tools/jwt/samples/jwks.json"
"#;

fn frontend_ingress(to: &str) -> String {
    format!(
        r#"apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: "frontend-ingress"
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  action: DENY
  rules:
  - from:
    - source:
        notRequestPrincipals: ["*"]
{to}"#
    )
}

fn world(docs: &[&str]) -> World {
    let inline = |name: &str, text: &str| Manifest {
        source: ManifestSource::Inline {
            name: name.to_string(),
            text: text.to_string(),
        },
        namespace: None,
    };
    let mut manifests = vec![
        inline("setup.yaml", SETUP),
        Manifest {
            source: ManifestSource::File("manifests/samples/httpbin.yaml".into()),
            namespace: Some("foo".to_string()),
        },
    ];
    manifests.extend(docs.iter().map(|d| inline("policy.yaml", d)));
    match world_from(manifests, &[], 2, OutboundPolicy::AllowAny) {
        Ok((w, _, _)) => w,
        Err(d) => panic!("{d:?}"),
    }
}

/// `curl "$INGRESS_HOST:$INGRESS_PORT/PATH" [-H "Authorization: Bearer T"]
/// -s -o /dev/null -w "%{http_code}\n"`.
fn code(w: &mut World, path: &str, token: Option<&str>) -> u16 {
    let p = ProbeRequest {
        from: ProbeFrom::External,
        host: "192.0.2.10".to_string(),
        port: 80,
        method: "GET".to_string(),
        path: path.to_string(),
        headers: token
            .map(|t| vec![("authorization".to_string(), format!("Bearer {t}"))])
            .unwrap_or_default(),
    };
    w.probe(&p, false).unwrap().0.status.unwrap_or(0)
}

#[test]
fn a_request_authentication_on_the_gateway_refuses_only_bad_tokens() {
    let mut w = world(&[JWT_EXAMPLE]);
    let token = DEMO_TOKEN.trim();
    assert_eq!(code(&mut w, "/headers", None), 200);
    assert_eq!(code(&mut w, "/headers", Some("deadbeef")), 401);
    assert_eq!(code(&mut w, "/headers", Some(token)), 200);
}

/// "gen-jwt.py … --expire 5", then ten requests ten seconds apart: "you
/// see the request succeed at first and then fail after 65 seconds" — the
/// 60 s clock skew: seven 200s, then three 401s.
#[test]
fn a_token_that_expires_in_5_seconds_is_accepted_for_65() {
    let mut w = world(&[JWT_EXAMPLE]);
    let key = SigningKey::from_pem(include_str!("../manifests/samples/jwt/key.pem")).unwrap();
    let now = w.now_unix();
    let serde_json::Value::Object(claims) = json!({
        "iss": "testing@secure.istio.io",
        "sub": "testing@secure.istio.io",
        "iat": now,
        "exp": now + 5,
    }) else {
        unreachable!()
    };
    let token = key.sign(&claims).unwrap();
    let mut codes = Vec::new();
    for _ in 0..10 {
        codes.push(code(&mut w, "/headers", Some(&token)));
        w.advance_by(SimDuration::from_secs(10));
    }
    assert_eq!(codes, [200, 200, 200, 200, 200, 200, 200, 401, 401, 401]);
}

#[test]
fn requiring_a_valid_token_at_the_gateway() {
    let mut w = world(&[JWT_EXAMPLE, &frontend_ingress("")]);
    let token = DEMO_TOKEN.trim();
    assert_eq!(code(&mut w, "/headers", None), 403);
    assert_eq!(code(&mut w, "/headers", Some(token)), 200);
}

#[test]
fn requiring_a_valid_token_per_path() {
    let per_path = frontend_ingress("    to:\n    - operation:\n        paths: [\"/headers\"]\n");
    let mut w = world(&[JWT_EXAMPLE, &per_path]);
    assert_eq!(code(&mut w, "/headers", None), 403);
    assert_eq!(code(&mut w, "/ip", None), 200);
}

/// The authz-jwt task's groups claim: `groups-scope.jwt` carries
/// `groups: [group1, group2]`; `demo.jwt` has none.
#[test]
fn a_claim_condition_checks_the_tokens_groups() {
    let require_group1 = r#"apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata:
  name: require-jwt
  namespace: istio-system
spec:
  selector:
    matchLabels:
      istio: ingressgateway
  action: ALLOW
  rules:
  - from:
    - source:
        requestPrincipals: ["testing@secure.istio.io/testing@secure.istio.io"]
    when:
    - key: request.auth.claims[groups]
      values: ["group1"]
"#;
    let mut w = world(&[JWT_EXAMPLE, require_group1]);
    let groups = include_str!("../manifests/samples/jwt/groups-scope.jwt").trim();
    assert_eq!(code(&mut w, "/headers", Some(groups)), 200);
    assert_eq!(code(&mut w, "/headers", Some(DEMO_TOKEN.trim())), 403);
    assert_eq!(code(&mut w, "/headers", None), 403);
}
