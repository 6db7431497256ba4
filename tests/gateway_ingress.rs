//! The ingress gateway's listeners: which ports it listens on, TLS
//! termination, `httpsRedirect`, servers without VirtualServices, and
//! several Gateways on one gateway workload. Behaviour is Istio 1.27's
//! (istiod `pilot/pkg/networking/core/gateway.go`, cited per test) and
//! Envoy's for the listener and virtual host it is given.

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::scenario::ManifestSource;
use meshsim::world::World;
use meshsim::world::probe::{ProbeFrom, ProbeRequest, ProbeResult, world_from};

const HTTPBIN: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: httpbin, labels: {app: httpbin}}
spec:
  selector: {app: httpbin}
  ports: [{name: http, port: 8000, targetPort: 8080}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: httpbin}
spec:
  selector: {matchLabels: {app: httpbin}}
  template:
    metadata: {labels: {app: httpbin}}
    spec:
      containers:
      - name: httpbin
        image: docker.io/mccutchen/go-httpbin:v2.15.0
        ports: [{containerPort: 8080}]
"#;

/// `httpbin.example.com` routed to httpbin through gateway `gw`.
const VS: &str = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin.example.com]
  gateways: [gw]
  http:
  - route:
    - destination: {host: httpbin, port: {number: 8000}}
"#;

fn gateway(servers: &str) -> String {
    format!(
        "apiVersion: networking.istio.io/v1\nkind: Gateway\nmetadata: {{name: gw}}\nspec:\n  selector: {{istio: ingressgateway}}\n  servers:\n{servers}"
    )
}

fn world(yaml: &[&str]) -> World {
    let mut text = HTTPBIN.to_string();
    for y in yaml {
        text.push_str("\n---\n");
        text.push_str(y);
    }
    let source = ManifestSource::Inline {
        name: "gateway.yaml".to_string(),
        text,
    };
    match world_from(vec![source], &[], 1, OutboundPolicy::AllowAny) {
        Ok((w, _, _)) => w,
        Err(d) => panic!("{d:?}"),
    }
}

fn external(world: &mut World, port: u16, path: &str) -> ProbeResult {
    let p = ProbeRequest {
        from: ProbeFrom::External,
        host: "httpbin.example.com".to_string(),
        port,
        method: "GET".to_string(),
        path: path.to_string(),
        headers: Vec::new(),
    };
    world.probe(&p, false).expect("probe runs").0
}

fn served_by_httpbin(r: &ProbeResult) -> bool {
    r.pod
        .as_deref()
        .is_some_and(|p| p.starts_with("default/httpbin-"))
}

const HTTP_80: &str =
    "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: [httpbin.example.com]\n";

fn https_443(mode: &str) -> String {
    format!(
        "  - port: {{number: 443, name: https, protocol: HTTPS}}\n    hosts: [httpbin.example.com]\n    tls: {{mode: {mode}, credentialName: httpbin-credential}}\n"
    )
}

/// An HTTPS server that terminates TLS gets an HTTP connection manager and
/// routes like an HTTP server (gateway.go `buildGatewayListeners`); the
/// request arrives with scheme https, which a `scheme` match sees.
#[test]
fn a_simple_tls_server_terminates_and_routes_http() {
    let vs_by_scheme = VS.replace(
        "  - route:",
        "  - match: [{scheme: {exact: https}}]\n    route:",
    );
    let mut w = world(&[&gateway(&https_443("SIMPLE")), &vs_by_scheme]);
    let r = external(&mut w, 443, "/status/200");
    assert_eq!(r.status, Some(200), "{r:?}");
    assert!(served_by_httpbin(&r), "{r:?}");
    assert_eq!(
        r.cluster,
        "outbound|8000||httpbin.default.svc.cluster.local"
    );
}

/// `MUTUAL` needs a client certificate; a client without one fails the
/// handshake before any HTTP (the probe clients present none).
#[test]
fn a_mutual_tls_server_resets_a_client_without_a_certificate() {
    let mut w = world(&[&gateway(&https_443("MUTUAL")), VS]);
    let r = external(&mut w, 443, "/status/200");
    assert_eq!(r.status, None);
    assert_eq!(r.error.as_deref(), Some("connection reset"));
    assert_eq!((&r.pod, &r.upstream), (&None, &None), "{r:?}");
}

/// A TLS server's hosts are its filter chain's server names
/// (model/gateway.go `GetSNIHostsForServer`): a client whose SNI none of
/// them takes matches no filter chain and the handshake fails.
#[test]
fn a_tls_server_refuses_an_sni_it_does_not_serve() {
    let mut w = world(&[&gateway(&https_443("SIMPLE")), VS]);
    let p = ProbeRequest {
        from: ProbeFrom::External,
        host: "other.example.com".to_string(),
        port: 443,
        method: "GET".to_string(),
        path: "/".to_string(),
        headers: Vec::new(),
    };
    let r = w.probe(&p, false).unwrap().0;
    assert_eq!(r.error.as_deref(), Some("connection reset"), "{r:?}");
}

/// `./host` in a server's hosts means the Gateway's own namespace
/// (model/gateway.go `sanitizeServerHostNamespace`).
#[test]
fn a_dot_namespace_server_host_is_the_gateways_namespace() {
    let servers = "  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['./*']\n";
    let mut w = world(&[&gateway(servers), VS]);
    let r = external(&mut w, 80, "/status/200");
    assert_eq!(r.status, Some(200), "{r:?}");
}

/// `httpsRedirect` sets `require_tls: ALL` on the server's virtual hosts
/// (gateway.go `buildGatewayHTTPRouteConfig`), and Envoy answers plain HTTP
/// with a 301 to `https://` + Host + path before looking at routes.
#[test]
fn https_redirect_answers_plain_http_with_301() {
    let servers = format!(
        "{}    tls: {{httpsRedirect: true}}\n{}",
        HTTP_80,
        https_443("SIMPLE")
    );
    let mut w = world(&[&gateway(&servers), VS]);
    let r = external(&mut w, 80, "/status/200?x=1");
    assert_eq!(r.status, Some(301), "{r:?}");
    assert_eq!(
        r.response_headers.get("location").map(String::as_str),
        Some("https://httpbin.example.com/status/200?x=1")
    );
    // The gateway answered itself: no pod served it, nothing upstream
    // saw it, and the gateway's HCM names itself (`server_name:
    // istio-envoy`).
    assert_eq!((&r.pod, &r.upstream), (&None, &None), "{r:?}");
    assert_eq!(
        r.response_headers.get("server").map(String::as_str),
        Some("istio-envoy")
    );
    let r = external(&mut w, 443, "/status/200");
    assert_eq!(r.status, Some(200), "{r:?}");
}

/// A redirecting server's hosts redirect even with no VirtualService.
#[test]
fn https_redirect_needs_no_virtual_service() {
    let servers = format!("{HTTP_80}    tls: {{httpsRedirect: true}}\n");
    let mut w = world(&[&gateway(&servers)]);
    let r = external(&mut w, 80, "/");
    assert_eq!(r.status, Some(301), "{r:?}");
}

/// A server with no VirtualService bound still listens; its route
/// configuration's only virtual host has no routes, so Envoy answers 404
/// NR ("no vhosts; Setting up a default 404 vhost", gateway.go).
#[test]
fn a_server_without_virtual_services_answers_404_nr() {
    let mut w = world(&[&gateway(HTTP_80)]);
    let r = external(&mut w, 80, "/status/200");
    assert_eq!((r.status, r.flags.as_str()), (Some(404), "NR"), "{r:?}");
}

/// A Service port of the gateway with no Gateway server behind it has no
/// listener: the connection is refused.
#[test]
fn a_port_without_a_server_refuses_connections() {
    let mut w = world(&[&gateway(HTTP_80), VS]);
    let r = external(&mut w, 443, "/status/200");
    assert_eq!(r.status, None, "{r:?}");
    assert_eq!(r.error.as_deref(), Some("connection refused"));
    assert_eq!((&r.pod, &r.upstream), (&None, &None), "{r:?}");
}

/// Routes are written per Gateway (`BuildHTTPRoutesForVirtualService(…,
/// sets.New(gatewayName))`), so on a workload two Gateways select, a match
/// naming the second Gateway holds for requests through its server.
#[test]
fn a_match_naming_the_second_gateway_on_a_workload_holds() {
    let second = gateway("  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [httpbin.example.com]\n    tls: {mode: SIMPLE, credentialName: c}\n")
        .replace("{name: gw}", "{name: gw-tls}");
    let vs = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: httpbin}
spec:
  hosts: [httpbin.example.com]
  gateways: [gw, gw-tls]
  http:
  - match: [{gateways: [gw-tls]}]
    route:
    - destination: {host: httpbin, port: {number: 8000}}
    headers: {response: {set: {via: tls}}}
  - route:
    - destination: {host: httpbin, port: {number: 8000}}
    headers: {response: {set: {via: plain}}}
"#;
    let mut w = world(&[&gateway(HTTP_80), &second, vs]);
    let via = |r: &ProbeResult| r.response_headers.get("via").cloned();
    let tls = external(&mut w, 443, "/get");
    assert_eq!(via(&tls).as_deref(), Some("tls"), "{tls:?}");
    let plain = external(&mut w, 80, "/get");
    assert_eq!(via(&plain).as_deref(), Some("plain"), "{plain:?}");
}

/// Routes of VirtualServices merged into one gateway virtual host keep
/// their order, except that catch-alls (a rule without matches, or a block
/// `prefix: /`) go last (route.go `SortVHostRoutes`, `IsCatchAllRoute`), so
/// `b-api`'s `/status` rule wins over `a-all`'s explicit `prefix: /` even
/// though `a-all` sorts first. A rule whose first block is specific keeps
/// that block in place.
#[test]
fn catch_all_blocks_of_merged_virtual_services_go_last() {
    let vs = |name: &str, http: &str| {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {name}}}\nspec:\n  hosts: ['*']\n  gateways: [gw]\n  http:\n{http}"
        )
    };
    let route = |via: &str| {
        format!(
            "    route: [{{destination: {{host: httpbin, port: {{number: 8000}}}}}}]\n    headers: {{response: {{set: {{via: {via}}}}}}}\n"
        )
    };
    let a = vs(
        "a-all",
        &format!(
            "  - match: [{{uri: {{prefix: /get}}}}, {{uri: {{prefix: /}}}}]\n{}",
            route("a")
        ),
    );
    let b = vs(
        "b-api",
        &format!("  - match: [{{uri: {{prefix: /status}}}}]\n{}", route("b")),
    );
    let gw = gateway("  - port: {number: 80, name: http, protocol: HTTP}\n    hosts: ['*']\n");
    let mut w = world(&[&gw, &a, &b]);
    let via = |w: &mut World, path: &str| {
        external(w, 80, path)
            .response_headers
            .get("via")
            .cloned()
            .unwrap_or_default()
    };
    assert_eq!(via(&mut w, "/status/200"), "b");
    assert_eq!(via(&mut w, "/get"), "a");
    assert_eq!(via(&mut w, "/anything"), "a");
}

/// A PASSTHROUGH server routes the TLS stream by SNI with `tls` rules,
/// without terminating it (Istio's "Ingress Gateway without TLS
/// Termination" task: nginx.example.com to my-nginx:443); an SNI no rule
/// takes matches no filter chain.
#[test]
fn a_passthrough_server_routes_tls_by_sni() {
    let nginx = r#"
apiVersion: v1
kind: Service
metadata: {name: my-nginx, labels: {run: my-nginx}}
spec:
  selector: {run: my-nginx}
  ports: [{port: 443, protocol: TCP}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: my-nginx}
spec:
  selector: {matchLabels: {run: my-nginx}}
  template:
    metadata: {labels: {run: my-nginx}}
    spec: {containers: [{name: my-nginx, image: nginx, ports: [{containerPort: 443}]}]}
"#;
    let gw = gateway(
        "  - port: {number: 443, name: https, protocol: HTTPS}\n    hosts: [nginx.example.com]\n    tls: {mode: PASSTHROUGH}\n",
    );
    let vs = r#"
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: nginx}
spec:
  hosts: [nginx.example.com]
  gateways: [gw]
  tls:
  - match: [{port: 443, sniHosts: [nginx.example.com]}]
    route: [{destination: {host: my-nginx, port: {number: 443}}}]
"#;
    let mut w = world(&[nginx, &gw, vs]);
    let to = |w: &mut World, host: &str| {
        let p = ProbeRequest {
            from: ProbeFrom::External,
            host: host.to_string(),
            port: 443,
            method: "GET".to_string(),
            path: "/".to_string(),
            headers: Vec::new(),
        };
        w.probe(&p, false).unwrap().0
    };
    let r = to(&mut w, "nginx.example.com");
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(
        r.cluster,
        "outbound|443||my-nginx.default.svc.cluster.local"
    );
    assert!(
        r.pod
            .as_deref()
            .is_some_and(|p| p.starts_with("default/my-nginx-"))
    );
    // The gateway did not read the HTTP inside: no headers of its own.
    assert!(!r.response_headers.contains_key("server"), "{r:?}");
    let other = to(&mut w, "other.example.com");
    assert_eq!(
        other.error.as_deref(),
        Some("connection reset"),
        "{other:?}"
    );
}
