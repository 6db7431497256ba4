//! Istio's traffic-management task pages replayed through meshsim: each
//! test applies the task's YAML, makes the request(s) the task makes, and
//! checks the outcome the page documents (quoted in the test's comment).
//! Expected values come from the pages (and, where a page only implies
//! them, from the Istio 1.27 or Envoy source cited), never from meshsim.
//!
//! Fixtures (`tests/fixtures/istio_tasks/`): the istio/istio 1.27.7 samples
//! verbatim (`bookinfo.yaml`, `destination-rule-all.yaml`,
//! `virtual-service-*.yaml`, `bookinfo-gateway.yaml`, `httpbin.yaml`,
//! `curl.yaml`, `tcp-echo-*.yaml`), `helloworld-v1.yaml` (the parts of
//! samples/helloworld/helloworld.yaml the Secure Gateways task selects),
//! the YAML the task pages write inline, each file naming its page, and
//! `ingressgateway-demo-ports.yaml` (the gateway Service with the demo
//! profile's `tcp` port 31400, which the TCP task reads).
//!
//! Out of scope here: timeouts, retries, circuit breaking,
//! mTLS/authorization, JWT, ambient.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::scenario::{Manifest, ManifestSource};
use meshsim::world::World;
use meshsim::world::probe::{ProbeFrom, ProbeRequest, ProbeResult, world_from};

fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/istio_tasks")
        .join(name)
}

/// The cluster after `kubectl apply -f FILE [-n NS]` of each file in order,
/// with `meshConfig.outboundTrafficPolicy.mode` set to `policy`.
fn cluster_ns(files: &[(&str, Option<&str>)], policy: OutboundPolicy) -> World {
    let manifests: Vec<Manifest> = files
        .iter()
        .map(|(f, ns)| Manifest {
            source: ManifestSource::File(fixture(f)),
            namespace: ns.map(str::to_string),
        })
        .collect();
    match world_from(manifests, &[], 1, policy) {
        Ok((w, _, _)) => w,
        Err(d) => panic!("{d:?}"),
    }
}

/// The files applied to the `default` namespace (labelled
/// `istio-injection=enabled`, as every task assumes), `ALLOW_ANY`.
fn cluster(files: &[&str]) -> World {
    let files: Vec<_> = files.iter().map(|f| (*f, None)).collect();
    cluster_ns(&files, OutboundPolicy::AllowAny)
}

/// A request as the task makes it: `curl -X METHOD http://HOST:PORT/PATH`.
struct Curl {
    from: ProbeFrom,
    host: String,
    port: u16,
    method: &'static str,
    path: String,
    headers: Vec<(String, String)>,
}

impl Curl {
    /// From inside the first pod of workload `ns/name`, through its sidecar.
    fn from_pod(w: &World, ns: &str, name: &str, host: &str, port: u16, path: &str) -> Curl {
        let pod = w
            .find_pod(ns, name)
            .unwrap_or_else(|| panic!("no pod {ns}/{name}"));
        Curl::new(ProbeFrom::Pod(pod), host, port, path)
    }

    /// From outside the cluster to the ingress gateway, `Host: host`.
    fn external(host: &str, port: u16, path: &str) -> Curl {
        Curl::new(ProbeFrom::External, host, port, path)
    }

    fn new(from: ProbeFrom, host: &str, port: u16, path: &str) -> Curl {
        Curl {
            from,
            host: host.to_string(),
            port,
            method: "GET",
            path: path.to_string(),
            headers: Vec::new(),
        }
    }

    fn method(mut self, m: &'static str) -> Curl {
        self.method = m;
        self
    }

    fn header(mut self, k: &str, v: &str) -> Curl {
        self.headers.push((k.to_string(), v.to_string()));
        self
    }

    fn send(&self, w: &mut World) -> ProbeResult {
        let p = ProbeRequest {
            from: self.from.clone(),
            host: self.host.clone(),
            port: self.port,
            method: self.method.to_string(),
            path: self.path.clone(),
            headers: self.headers.clone(),
        };
        w.probe(&p, false).expect("probe runs").0
    }

    fn send_n(&self, w: &mut World, n: usize) -> Vec<ProbeResult> {
        (0..n).map(|_| self.send(w)).collect()
    }
}

/// The Deployment that owns the pod that served `r` (`default/reviews-v2-…`
/// → `reviews-v2`): the pod name without its ReplicaSet hash and suffix.
fn workload(r: &ProbeResult) -> String {
    let pod = r.pod.as_deref().unwrap_or("-");
    let name = pod.rsplit('/').next().unwrap_or(pod);
    let parts: Vec<&str> = name.split('-').collect();
    if parts.len() > 2 {
        parts[..parts.len() - 2].join("-")
    } else {
        name.to_string()
    }
}

fn count_by<F: Fn(&ProbeResult) -> String>(rs: &[ProbeResult], f: F) -> BTreeMap<String, usize> {
    let mut m = BTreeMap::new();
    for r in rs {
        *m.entry(f(r)).or_default() += 1;
    }
    m
}

/// What the Bookinfo product page shows for reviews, from productpage's
/// template (samples/bookinfo/src/productpage/templates/productpage.html):
/// a rating is `<div class="flex gap-x-1 text-{{ color }}-500">` followed
/// by one `<svg id="glyphicon glyphicon-star" …>` per star.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
enum Stars {
    None,
    Black,
    Red,
}

fn stars(page: &str) -> Stars {
    if page.contains("gap-x-1 text-red-500") {
        Stars::Red
    } else if page.contains("gap-x-1 text-black-500") {
        Stars::Black
    } else {
        assert!(!page.contains("glyphicon-star"), "stars of no colour");
        Stars::None
    }
}

const BOOKINFO: [&str; 3] = [
    "bookinfo.yaml",
    "bookinfo-gateway.yaml",
    "destination-rule-all.yaml",
];

fn bookinfo_with(extra: &[&str]) -> World {
    let mut files = BOOKINFO.to_vec();
    files.extend_from_slice(extra);
    cluster(&files)
}

/// `http://$GATEWAY_URL/productpage`, as the browser in the Bookinfo tasks.
fn productpage() -> Curl {
    Curl::external("192.0.2.10", 80, "/productpage")
}

/// The browser logged in as `user`: productpage's Flask session cookie
/// (`{"user": …}` base64url, a timestamp and a signature), which
/// productpage turns into the `end-user` header it sends downstream.
fn productpage_as(user: &str) -> Curl {
    let payload: String = base64url(format!("{{\"user\":\"{user}\"}}").as_bytes());
    productpage().header("cookie", &format!("session={payload}.aGVsbG8.c2lnbmF0dXJl"))
}

fn base64url(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().fold(0u32, |n, b| (n << 8) | u32::from(*b)) << (8 * (3 - chunk.len()));
        for i in 0..=chunk.len() {
            out.push(char::from(A[((n >> (18 - 6 * i)) & 63) as usize]));
        }
    }
    out
}

// ---------------------------------------------------------------------------
// Bookinfo (https://istio.io/latest/docs/examples/bookinfo/)

/// https://istio.io/latest/docs/examples/bookinfo/
/// Bookinfo, "Determine the ingress IP and port" / "Confirm the app is
/// accessible from outside the cluster":
///   $ curl -s "http://${GATEWAY_URL}/productpage" | grep -o "<title>.*</title>"
///   <title>Simple Bookstore App</title>
/// and from inside the mesh, from the ratings pod:
///   $ kubectl exec "$(kubectl get pod -l app=ratings …)" -c ratings -- curl -sS productpage:9080/productpage | grep -o "<title>.*</title>"
///   <title>Simple Bookstore App</title>
#[test]
fn bookinfo_product_page_is_served_through_the_gateway_and_inside_the_mesh() {
    let mut w = cluster(&["bookinfo.yaml", "bookinfo-gateway.yaml"]);
    let r = productpage().send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert!(
        r.body.contains("<title>Simple Bookstore App</title>"),
        "{}",
        r.body
    );
    assert_eq!(workload(&r), "productpage-v1");
    let r = Curl::from_pod(
        &w,
        "default",
        "ratings-v1",
        "productpage",
        9080,
        "/productpage",
    )
    .send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert!(r.body.contains("<title>Simple Bookstore App</title>"));
}

// ---------------------------------------------------------------------------
// Request Routing: https://istio.io/latest/docs/tasks/traffic-management/request-routing/

/// https://istio.io/latest/docs/tasks/traffic-management/request-routing/
/// Request Routing, "About this task": "sometimes the book review output
/// contains star ratings and other times it does not. This is because
/// without an explicit default service version to route to, Istio routes
/// requests to all available versions in a round robin fashion."
#[test]
fn request_routing_without_virtual_services_every_reviews_version_serves() {
    let mut w = bookinfo_with(&[]);
    let pages = productpage().send_n(&mut w, 60);
    let seen = count_by(&pages, |r| format!("{:?}", stars(&r.body)));
    assert_eq!(
        seen.len(),
        3,
        "no stars, black and red all appear: {seen:?}"
    );
    let r = Curl::from_pod(
        &w,
        "default",
        "productpage-v1",
        "reviews",
        9080,
        "/reviews/0",
    );
    let versions = count_by(&r.send_n(&mut w, 60), workload);
    assert_eq!(
        versions.keys().collect::<Vec<_>>(),
        ["reviews-v1", "reviews-v2", "reviews-v3"],
        "{versions:?}"
    );
}

/// https://istio.io/latest/docs/tasks/traffic-management/request-routing/
/// Request Routing, "Apply a virtual service" (virtual-service-all-v1.yaml)
/// then "Test the new routing configuration": "Notice that the reviews part
/// of the page displays with no rating stars, no matter how many times you
/// refresh. This is because you configured Istio to route all traffic for
/// the reviews service to the version reviews:v1".
#[test]
fn request_routing_all_v1_shows_no_stars() {
    let mut w = bookinfo_with(&["virtual-service-all-v1.yaml"]);
    for r in productpage().send_n(&mut w, 30) {
        assert_eq!(r.status, Some(200), "{r:?}");
        assert_eq!(stars(&r.body), Stars::None);
        assert!(r.body.contains("Reviewer1"), "reviews were shown");
    }
    // productpage's own calls to reviews all go to subset v1.
    let c = Curl::from_pod(
        &w,
        "default",
        "productpage-v1",
        "reviews",
        9080,
        "/reviews/0",
    );
    for r in c.send_n(&mut w, 30) {
        assert_eq!(
            r.cluster,
            "outbound|9080|v1|reviews.default.svc.cluster.local"
        );
        assert_eq!(workload(&r), "reviews-v1");
    }
}

/// https://istio.io/latest/docs/tasks/traffic-management/request-routing/
/// Request Routing, "Route based on user identity"
/// (virtual-service-reviews-test-v2.yaml): "all traffic from a user named
/// Jason will be routed to the service reviews:v2" — "the productpage
/// service adds a custom end-user header to all outbound HTTP requests to
/// the reviews service". Logged in as jason: "The star ratings appear next
/// to each review"; as another user: "Now the stars are gone. This is
/// because traffic is routed to reviews:v1 for all users except Jason."
///
/// The login itself (a form POST and a session cookie) cannot be replayed,
/// so the request is the one productpage then sends: `end-user: jason`.
#[test]
fn request_routing_jason_gets_reviews_v2() {
    let mut w = bookinfo_with(&[
        "virtual-service-all-v1.yaml",
        "virtual-service-reviews-test-v2.yaml",
    ]);
    let as_user = |user: &str| {
        Curl::from_pod(
            &w,
            "default",
            "productpage-v1",
            "reviews",
            9080,
            "/reviews/0",
        )
        .header("end-user", user)
    };
    let (jason, other) = (as_user("jason"), as_user("alice"));
    for r in jason.send_n(&mut w, 20) {
        assert_eq!(
            r.cluster,
            "outbound|9080|v2|reviews.default.svc.cluster.local"
        );
        assert_eq!(workload(&r), "reviews-v2");
        // reviews v2 rates with black stars (LibertyRestEndpoint.java).
        assert!(r.body.contains(r#""color": "black""#), "{}", r.body);
    }
    for r in other.send_n(&mut w, 20) {
        assert_eq!(workload(&r), "reviews-v1");
        assert!(!r.body.contains("rating"), "{}", r.body);
    }
    // The browser without a login: no stars.
    for r in productpage().send_n(&mut w, 10) {
        assert_eq!(stars(&r.body), Stars::None);
    }
}

// ---------------------------------------------------------------------------
// Traffic Shifting: https://istio.io/latest/docs/tasks/traffic-management/traffic-shifting/

/// https://istio.io/latest/docs/tasks/traffic-management/traffic-shifting/
/// Traffic Shifting, step 3-5 (virtual-service-reviews-50-v3.yaml):
/// "Refresh the /productpage in your browser and you now see red colored
/// star ratings approximately 50% of the time."
#[test]
fn traffic_shifting_50_50_shows_red_stars_half_the_time() {
    let mut w = bookinfo_with(&[
        "virtual-service-all-v1.yaml",
        "virtual-service-reviews-50-v3.yaml",
    ]);
    let pages = productpage().send_n(&mut w, 200);
    let seen = count_by(&pages, |r| format!("{:?}", stars(&r.body)));
    let red = seen.get("Red").copied().unwrap_or(0);
    let none = seen.get("None").copied().unwrap_or(0);
    assert_eq!(red + none, 200, "only v1 and v3 serve: {seen:?}");
    assert!((70..=130).contains(&red), "about half red: {seen:?}");
}

/// https://istio.io/latest/docs/tasks/traffic-management/traffic-shifting/
/// Traffic Shifting, step 6-7 (virtual-service-reviews-v3.yaml): "Now you
/// will always see book reviews with red colored star ratings for each
/// review."
#[test]
fn traffic_shifting_all_v3_always_shows_red_stars() {
    let mut w = bookinfo_with(&[
        "virtual-service-all-v1.yaml",
        "virtual-service-reviews-v3.yaml",
    ]);
    for r in productpage().send_n(&mut w, 30) {
        assert_eq!(r.status, Some(200));
        assert_eq!(stars(&r.body), Stars::Red);
        // Both reviews are rated: 5 + 4 filled stars.
        assert_eq!(r.body.matches("glyphicon glyphicon-star").count(), 9);
    }
}

// ---------------------------------------------------------------------------
// TCP Traffic Shifting: https://istio.io/latest/docs/tasks/traffic-management/tcp-traffic-shifting/

const TCP_NS: &str = "istio-io-tcp-traffic-shifting";

/// The TCP task's cluster: the ingress gateway with the demo profile's
/// `tcp` port 31400 (the task reads TCP_INGRESS_PORT from it), curl and
/// tcp-echo v1/v2 in istio-io-tcp-traffic-shifting, and the given rules.
fn tcp_echo_with(rules: &[&str]) -> World {
    let mut files = vec![
        ("ingressgateway-demo-ports.yaml", None),
        ("curl.yaml", Some(TCP_NS)),
        ("tcp-echo-services.yaml", Some(TCP_NS)),
    ];
    files.extend(rules.iter().map(|f| (*f, Some(TCP_NS))));
    cluster_ns(&files, OutboundPolicy::AllowAny)
}

/// `(date; sleep 1) | nc $INGRESS_HOST $TCP_INGRESS_PORT`, 20 times.
fn nc_ingress(w: &mut World) -> Vec<ProbeResult> {
    Curl::external("192.0.2.10", 31400, "/").send_n(w, 20)
}

/// https://istio.io/latest/docs/tasks/traffic-management/tcp-traffic-shifting/
/// TCP Traffic Shifting, step 1-3 (tcp-echo-all-v1.yaml, a TCP Gateway
/// server on 31400 and a `tcp` route to subset v1):
///   one Mon Nov 12 23:24:57 UTC 2022
///   one Mon Nov 12 23:25:00 UTC 2022 …
/// "all the timestamps have a prefix of one, which means that all traffic
/// was routed to the v1 version of the tcp-echo service."
#[test]
fn tcp_traffic_shifting_all_v1() {
    let mut w = tcp_echo_with(&["tcp-echo-all-v1.yaml"]);
    for r in nc_ingress(&mut w) {
        assert_eq!(r.error, None, "{r:?}");
        assert_eq!(
            r.cluster,
            format!("outbound|9000|v1|tcp-echo.{TCP_NS}.svc.cluster.local")
        );
        assert_eq!(workload(&r), "tcp-echo-v1");
        // tcp-echo-server (samples/tcp-echo/src/main.go) writes its prefix
        // argument ("one") and a space before echoing each line.
        assert!(r.body.starts_with("one "), "{:?}", r.body);
    }
}

/// https://istio.io/latest/docs/tasks/traffic-management/tcp-traffic-shifting/
/// TCP Traffic Shifting, step 4-6 (tcp-echo-20-v2.yaml, weights 80/20):
/// "about 20% of the timestamps have a prefix of two, which means that 80%
/// of the TCP traffic was routed to the v1 version of the tcp-echo
/// service, while 20% was routed to v2."
#[test]
fn tcp_traffic_shifting_20_percent_to_v2() {
    let mut w = tcp_echo_with(&["tcp-echo-all-v1.yaml", "tcp-echo-20-v2.yaml"]);
    let rs: Vec<_> = (0..10).flat_map(|_| nc_ingress(&mut w)).collect();
    let by = count_by(&rs, workload);
    let v2 = by.get("tcp-echo-v2").copied().unwrap_or(0);
    assert_eq!(
        by.get("tcp-echo-v1").copied().unwrap_or(0) + v2,
        200,
        "{by:?}"
    );
    assert!((20..=60).contains(&v2), "about 20% to v2: {by:?}");
}

// ---------------------------------------------------------------------------
// Mirroring: https://istio.io/latest/docs/tasks/traffic-management/mirroring/

fn mirroring_with(rules: &[&str]) -> World {
    let mut files = vec!["mirroring-httpbin.yaml", "curl.yaml"];
    files.extend_from_slice(rules);
    cluster(&files)
}

/// `kubectl exec "${CURL_POD}" -c curl -- curl -sS http://httpbin:8000/headers`
fn curl_headers(w: &World) -> Curl {
    Curl::from_pod(w, "default", "curl", "httpbin", 8000, "/headers")
        .header("user-agent", "curl/8.16.0")
        .header("accept", "*/*")
}

/// https://istio.io/latest/docs/tasks/traffic-management/mirroring/
/// Mirroring, "Creating a default routing policy": "Now all traffic goes
/// to the httpbin:v1 service." — "You should see access log entries for v1
/// and none for v2".
#[test]
fn mirroring_default_route_sends_everything_to_v1_and_nothing_to_v2() {
    let mut w = mirroring_with(&["mirroring-route-v1.yaml"]);
    let c = curl_headers(&w);
    for r in c.send_n(&mut w, 10) {
        assert_eq!(r.status, Some(200), "{r:?}");
        assert_eq!(workload(&r), "httpbin-v1");
        assert_eq!(
            r.cluster,
            "outbound|8000|v1|httpbin.default.svc.cluster.local"
        );
        assert!(r.mirrored_to.is_empty(), "{r:?}");
    }
}

/// https://istio.io/latest/docs/tasks/traffic-management/mirroring/
/// Mirroring, "Mirroring traffic to v2": "This route rule sends 100% of
/// the traffic to v1. The last stanza specifies that you want to mirror
/// (i.e., also send) 100% of the same traffic to the httpbin:v2 service."
/// "Now, you should see access logging for both v1 and v2."
#[test]
fn mirroring_copies_every_request_to_v2_while_v1_answers() {
    let mut w = mirroring_with(&["mirroring-route-v1.yaml", "mirroring-mirror-v2.yaml"]);
    let c = curl_headers(&w);
    for r in c.send_n(&mut w, 10) {
        assert_eq!(r.status, Some(200), "{r:?}");
        assert_eq!(workload(&r), "httpbin-v1");
        assert_eq!(
            r.mirrored_to,
            ["outbound|8000|v2|httpbin.default.svc.cluster.local"]
        );
    }
}

/// https://istio.io/latest/docs/tasks/traffic-management/mirroring/
/// Mirroring, the answer of `curl -sS http://httpbin:8000/headers`:
///   {
///     "headers": {
///       "Accept": "*/*",
///       "Content-Length": "0",
///       "Host": "httpbin:8000",
///       "User-Agent": "curl/7.35.0",
///       …
///       "X-Envoy-Attempt-Count": "1",
///       …
/// The client sidecar adds `x-envoy-attempt-count` because istiod sets
/// `include_request_attempt_count: true` on every outbound virtual host
/// (pilot/pkg/networking/core/httproute.go, `IncludeRequestAttemptCount`).
#[test]
fn mirroring_httpbin_sees_the_attempt_count_the_sidecar_adds() {
    let mut w = mirroring_with(&["mirroring-route-v1.yaml"]);
    let r = curl_headers(&w).send(&mut w);
    let up = r.upstream.as_ref().expect("httpbin was reached");
    assert_eq!(
        up.headers.get("x-envoy-attempt-count").map(String::as_str),
        Some("1"),
        "{up:?}"
    );
    assert!(r.body.contains("X-Envoy-Attempt-Count"), "{}", r.body);
}

/// https://istio.io/latest/docs/tasks/traffic-management/mirroring/
/// Mirroring, the same answer's format: the task's httpbin is
/// `docker.io/kennethreitz/httpbin` (Flask), whose `/headers` maps each
/// header to a string — `"Host": "httpbin:8000"` — not go-httpbin's lists.
#[test]
fn mirroring_kennethreitz_httpbin_echoes_headers_as_strings() {
    let mut w = mirroring_with(&["mirroring-route-v1.yaml"]);
    let r = curl_headers(&w).send(&mut w);
    assert!(r.body.contains(r#""Host": "httpbin:8000""#), "{}", r.body);
    assert!(r.body.contains(r#""Accept": "*/*""#), "{}", r.body);
}

/// https://istio.io/latest/docs/tasks/observability/logs/access-log/
/// "Test the access log", with the same httpbin sample (go-httpbin) the
/// ingress tasks use:
///   $ kubectl exec "$SOURCE_POD" -c curl -- curl -sS -v httpbin:8000/status/418
///   < HTTP/1.1 418 Unknown
///   < server: envoy
///   I'm a teapot!
#[test]
fn httpbin_status_418_is_a_teapot() {
    let mut w = cluster(&["httpbin.yaml", "curl.yaml"]);
    let r = Curl::from_pod(&w, "default", "curl", "httpbin", 8000, "/status/418").send(&mut w);
    assert_eq!(r.status, Some(418), "{r:?}");
    assert_eq!(
        r.response_headers.get("server").map(String::as_str),
        Some("envoy")
    );
    assert!(r.body.contains("I'm a teapot!"), "{r:?}");
}

// ---------------------------------------------------------------------------
// Ingress Gateways (Istio classic tab):
// https://istio.io/latest/docs/tasks/traffic-management/ingress/ingress-control/

/// https://istio.io/latest/docs/tasks/traffic-management/ingress/ingress-control/
/// Ingress Gateways, "Accessing ingress services":
///   $ curl -s -I -HHost:httpbin.example.com "http://$INGRESS_HOST:$INGRESS_PORT/status/200"
///   HTTP/1.1 200 OK
///   server: istio-envoy
#[test]
fn ingress_exposes_status_through_the_gateway() {
    let mut w = cluster(&["httpbin.yaml", "ingress-httpbin-gateway.yaml"]);
    let r = Curl::external("httpbin.example.com", 80, "/status/200")
        .method("HEAD")
        .send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(
        r.response_headers.get("server").map(String::as_str),
        Some("istio-envoy")
    );
    assert_eq!(workload(&r), "httpbin");
    assert_eq!(
        r.cluster,
        "outbound|8000||httpbin.default.svc.cluster.local"
    );
}

/// https://istio.io/latest/docs/tasks/traffic-management/ingress/ingress-control/
/// Ingress Gateways: "Access any other URL that has not been explicitly
/// exposed. You should see an HTTP 404 error:"
///   $ curl -s -I -HHost:httpbin.example.com "http://$INGRESS_HOST:$INGRESS_PORT/headers"
///   HTTP/1.1 404 Not Found
/// and, for `/delay`, the second exposed prefix: routed to httpbin.
#[test]
fn ingress_answers_404_for_paths_not_exposed() {
    let mut w = cluster(&["httpbin.yaml", "ingress-httpbin-gateway.yaml"]);
    let r = Curl::external("httpbin.example.com", 80, "/headers")
        .method("HEAD")
        .send(&mut w);
    assert_eq!(r.status, Some(404), "{r:?}");
    assert_eq!(r.pod, None, "the gateway answered itself");
    let r = Curl::external("httpbin.example.com", 80, "/delay/1").send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(workload(&r), "httpbin");
}

/// https://istio.io/latest/docs/tasks/traffic-management/ingress/ingress-control/
/// Ingress Gateways, the warning: "Internal requests from other services
/// in the mesh are not subject to these rules but instead will default to
/// round-robin routing." — `/headers`, 404 at the gateway, is served to a
/// client inside the mesh.
#[test]
fn ingress_rules_do_not_apply_inside_the_mesh() {
    let mut w = cluster(&["httpbin.yaml", "curl.yaml", "ingress-httpbin-gateway.yaml"]);
    let r = Curl::from_pod(&w, "default", "curl", "httpbin", 8000, "/headers").send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(workload(&r), "httpbin");
}

/// https://istio.io/latest/docs/tasks/traffic-management/ingress/ingress-control/
/// Ingress Gateways, "Accessing ingress services using a browser": with
/// `*` hosts in the Gateway and the VirtualService and a `/headers` route,
/// "`http://$INGRESS_HOST:$INGRESS_PORT/headers` will display all the
/// headers that your browser sends" — whatever Host the browser sends.
#[test]
fn ingress_wildcard_host_serves_headers_for_any_host() {
    let mut w = cluster(&["httpbin.yaml", "ingress-httpbin-wildcard.yaml"]);
    let r = Curl::external("192.0.2.10", 80, "/headers")
        .header("user-agent", "Mozilla/5.0")
        .send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(workload(&r), "httpbin");
    assert!(r.body.contains("Mozilla/5.0"), "{}", r.body);
    // The old `/status` route is gone with the new VirtualService.
    let r = Curl::external("192.0.2.10", 80, "/status/200").send(&mut w);
    assert_eq!(r.status, Some(404), "{r:?}");
}

/// https://istio.io/latest/docs/tasks/traffic-management/ingress/ingress-control/
/// Ingress Gateways: every check on the page is `curl -s -I`, a HEAD
/// request, answered with the status line and headers only ("HTTP/1.1 200
/// OK / server: istio-envoy / ..."). A HEAD response carries no content
/// (RFC 9110 section 9.3.2); go-httpbin answers HEAD like GET minus the
/// body, and Envoy forwards none.
#[test]
fn ingress_head_request_gets_no_body() {
    let mut w = cluster(&["httpbin.yaml", "ingress-httpbin-wildcard.yaml"]);
    let r = Curl::external("192.0.2.10", 80, "/headers")
        .method("HEAD")
        .send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(r.body, "", "{r:?}");
}

// ---------------------------------------------------------------------------
// Secure Gateways: https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/

/// https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/
/// Secure Gateways, "Configure a TLS ingress gateway for a single host":
///   $ curl -v -HHost:httpbin.example.com --resolve "httpbin.example.com:$SECURE_INGRESS_PORT:$INGRESS_HOST" \
///     --cacert example_certs1/example.com.crt "https://httpbin.example.com:$SECURE_INGRESS_PORT/status/418"
///   HTTP/2 418
/// and plain HTTP on 80, where mygateway has no server, is not served.
#[test]
fn secure_ingress_simple_tls_returns_the_teapot() {
    let mut w = cluster(&["httpbin.yaml", "secure-gateway-single-host.yaml"]);
    let r = Curl::external("httpbin.example.com", 443, "/status/418").send(&mut w);
    assert_eq!(r.status, Some(418), "{r:?}");
    assert_eq!(workload(&r), "httpbin");
    // No Gateway server on 80: the gateway has no listener there.
    let r = Curl::external("httpbin.example.com", 80, "/status/418").send(&mut w);
    assert_eq!(r.status, None, "{r:?}");
}

/// https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/
/// Secure Gateways, "SNI Routing": "An HTTPS Gateway with a hosts field
/// value other than * will perform SNI matching before forwarding a
/// request". istiod puts the server's hosts in the filter chain's
/// `server_names` (pilot/pkg/model/gateway.go `GetSNIHostsForServer`,
/// core/gateway.go `sniHosts`); a ClientHello for another name matches no
/// filter chain and Envoy closes the connection — no HTTP 404.
#[test]
fn secure_ingress_other_sni_fails_the_handshake() {
    let mut w = cluster(&["httpbin.yaml", "secure-gateway-single-host.yaml"]);
    let r = Curl::external("other.example.com", 443, "/status/418").send(&mut w);
    assert_eq!(r.status, None, "{r:?}");
    assert!(r.error.is_some(), "{r:?}");
}

/// https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/
/// Secure Gateways, "Configure a TLS ingress gateway for multiple hosts":
///   curl … "https://helloworld.example.com:$SECURE_INGRESS_PORT/hello"
///   HTTP/2 200
/// "Send an HTTPS request to httpbin.example.com and still get a teapot in
/// return".
#[test]
fn secure_ingress_two_hosts_on_one_port() {
    let mut w = cluster(&[
        "httpbin.yaml",
        "helloworld-v1.yaml",
        "secure-gateway-multiple-hosts.yaml",
    ]);
    let r = Curl::external("helloworld.example.com", 443, "/hello").send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(workload(&r), "helloworld-v1");
    let r = Curl::external("httpbin.example.com", 443, "/status/418").send(&mut w);
    assert_eq!(r.status, Some(418), "{r:?}");
    assert_eq!(workload(&r), "httpbin");
}

/// https://istio.io/latest/docs/tasks/traffic-management/ingress/secure-ingress/
/// Secure Gateways, "Configure a mutual TLS ingress gateway": "Attempt to
/// send an HTTPS request using the prior approach and see how it fails":
///   * TLSv1.3 (IN), TLS alert, unknown (628):
///   * OpenSSL SSL_read: error:1409445C:SSL routines:ssl3_read_bytes:tlsv13 alert certificate required, errno 0
#[test]
fn secure_ingress_mutual_tls_rejects_a_client_without_a_certificate() {
    let mut w = cluster(&["httpbin.yaml", "secure-gateway-mutual.yaml"]);
    let r = Curl::external("httpbin.example.com", 443, "/status/418").send(&mut w);
    assert_eq!(r.status, None, "{r:?}");
    assert!(r.error.is_some(), "{r:?}");
    assert_ne!(workload(&r), "httpbin", "httpbin never saw it: {r:?}");
}

/// The Gateway reference's example server
/// (https://istio.io/latest/docs/reference/config/networking/gateway/):
/// `httpsRedirect: true # sends 301 redirect for http requests`;
/// ServerTLSSettings.httpsRedirect: "If set to true, the load balancer will
/// send a 301 redirect for all http connections, asking the clients to use
/// HTTPS." The HTTPS server on 443 serves the page.
#[test]
fn secure_ingress_https_redirect_sends_301_to_https() {
    let mut w = cluster(&["bookinfo.yaml", "gateway-https-redirect.yaml"]);
    let r = Curl::external("uk.bookinfo.com", 80, "/productpage").send(&mut w);
    assert_eq!(r.status, Some(301), "{r:?}");
    assert_eq!(
        r.response_headers.get("location").map(String::as_str),
        Some("https://uk.bookinfo.com/productpage")
    );
    assert_eq!(r.upstream, None, "productpage never saw it");
    let r = Curl::external("uk.bookinfo.com", 443, "/productpage").send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert!(r.body.contains("<title>Simple Bookstore App</title>"));
}

// ---------------------------------------------------------------------------
// Accessing External Services:
// https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/

fn egress_with(files: &[&str], policy: OutboundPolicy) -> World {
    let mut all = vec![("curl.yaml", None)];
    all.extend(files.iter().map(|f| (*f, None)));
    cluster_ns(&all, policy)
}

/// `kubectl exec "$SOURCE_POD" -c curl -- curl -sI https://HOST | grep "HTTP/"`
fn curl_https_head(w: &World, host: &str) -> Curl {
    Curl::from_pod(w, "default", "curl", host, 443, "/").method("HEAD")
}

/// https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
/// Accessing External Services, "Envoy passthrough to external services"
/// (ALLOW_ANY, the default):
///   $ kubectl exec "$SOURCE_POD" -c curl -- curl -sI https://www.google.com | grep  "HTTP/"; … https://edition.cnn.com …
///   HTTP/2 200
///   HTTP/2 200
#[test]
fn egress_allow_any_passes_https_through() {
    let mut w = egress_with(&[], OutboundPolicy::AllowAny);
    for host in ["www.google.com", "edition.cnn.com"] {
        let r = curl_https_head(&w, host).send(&mut w);
        assert_eq!(r.status, Some(200), "{host}: {r:?}");
    }
}

/// https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
/// Accessing External Services, "Envoy passthrough to external services":
/// with ALLOW_ANY "the Istio proxy lets calls to unknown services pass
/// through". istiod sends them to the cluster it names `PassthroughCluster`
/// (pilot/pkg/networking/util/util.go `PassthroughCluster`; the HTTP
/// catch-all virtual host `allow_any` routes to it, and the TCP
/// fall-through filter chain of the outbound listener too), which the
/// sidecar's access log and stats report as the upstream cluster.
#[test]
fn egress_allow_any_goes_through_passthrough_cluster() {
    let mut w = egress_with(&[], OutboundPolicy::AllowAny);
    let r = Curl::from_pod(&w, "default", "curl", "httpbin.org", 80, "/headers").send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(r.cluster, "PassthroughCluster", "{r:?}");
    let r = curl_https_head(&w, "www.google.com").send(&mut w);
    assert_eq!(r.cluster, "PassthroughCluster", "{r:?}");
}

/// https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
/// Accessing External Services, `curl -sI https://www.google.com`: the
/// sidecar sees TLS, not HTTP — port 443 of an outside name is proxied by
/// Envoy's `tcp_proxy` (pilot/pkg/networking/core/listener.go builds no
/// HTTP connection manager for it), so the HTTP answer is Google's alone:
/// no `x-envoy-upstream-service-time` (added by the router HTTP filter) and
/// no `server: envoy`.
#[test]
fn egress_https_passthrough_gets_no_envoy_response_headers() {
    let mut w = egress_with(&[], OutboundPolicy::AllowAny);
    let r = curl_https_head(&w, "www.google.com").send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(
        r.response_headers.get("x-envoy-upstream-service-time"),
        None,
        "{r:?}"
    );
    assert_ne!(
        r.response_headers.get("server").map(String::as_str),
        Some("envoy"),
        "{r:?}"
    );
}

/// https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
/// Accessing External Services, "Change to the blocking-by-default policy"
/// (REGISTRY_ONLY): "Make a couple of requests to external HTTPS services
/// from SOURCE_POD to verify that they are now blocked":
///   command terminated with exit code 35
///   command terminated with exit code 35
/// (curl's 35 is a failed TLS handshake: the sidecar sends the connection
/// to BlackHoleCluster and closes it — no HTTP answer at all.)
#[test]
fn egress_registry_only_blocks_https() {
    let mut w = egress_with(&[], OutboundPolicy::RegistryOnly);
    for host in ["www.google.com", "edition.cnn.com"] {
        let r = curl_https_head(&w, host).send(&mut w);
        assert_eq!(r.status, None, "{host}: {r:?}");
        assert!(r.error.is_some(), "{host}: {r:?}");
    }
}

/// https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
/// Accessing External Services, "Access an external HTTP service"
/// (ServiceEntry httpbin-ext, REGISTRY_ONLY):
///   $ kubectl exec "$SOURCE_POD" -c curl -- curl -sS http://httpbin.org/headers
///   { "headers": { "Accept": "*/*", "Host": "httpbin.org", …
/// and the sidecar's access log entry "outbound|80||httpbin.org" (the
/// page's test.sh checks for exactly that string).
#[test]
fn egress_service_entry_opens_httpbin_org() {
    let mut w = egress_with(
        &["egress-serviceentry-httpbin.yaml"],
        OutboundPolicy::RegistryOnly,
    );
    let r = Curl::from_pod(&w, "default", "curl", "httpbin.org", 80, "/headers").send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(r.cluster, "outbound|80||httpbin.org");
    let up = r.upstream.as_ref().expect("httpbin.org was reached");
    assert_eq!(up.authority, "httpbin.org");
}

/// https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
/// Accessing External Services, the same answer: "Note the headers added
/// by the Istio sidecar proxy: X-Envoy-Decorator-Operation."
///   "X-Envoy-Decorator-Operation": "httpbin.org:80/*",
/// (Envoy's HCM sets it on egress requests from the route's decorator when
/// tracing is configured, which istiod does by default:
/// MeshConfig.enableTracing defaults to true, pkg/config/mesh/mesh.go.)
#[test]
#[ignore = "meshsim bug: the sidecar does not add x-envoy-decorator-operation to requests for a ServiceEntry host"]
fn egress_service_entry_request_carries_the_decorator_operation() {
    let mut w = egress_with(
        &["egress-serviceentry-httpbin.yaml"],
        OutboundPolicy::RegistryOnly,
    );
    let r = Curl::from_pod(&w, "default", "curl", "httpbin.org", 80, "/headers").send(&mut w);
    let up = r.upstream.as_ref().expect("httpbin.org was reached");
    assert_eq!(
        up.headers
            .get("x-envoy-decorator-operation")
            .map(String::as_str),
        Some("httpbin.org:80/*"),
        "{up:?}"
    );
}

/// https://istio.io/latest/docs/tasks/traffic-management/egress/egress-control/
/// Accessing External Services, "Access an external HTTPS service"
/// (ServiceEntry google, REGISTRY_ONLY):
///   $ kubectl exec "$SOURCE_POD" -c curl -- curl -sI https://www.google.com | grep  "HTTP/"
///   HTTP/2 200
/// with the sidecar's log entry naming "outbound|443||www.google.com"
/// (checked by the page's test.sh). edition.cnn.com stays blocked: "the
/// Istio proxy blocks any host without an HTTP service or service entry
/// defined within the mesh."
#[test]
fn egress_service_entry_opens_www_google_com_only() {
    let mut w = egress_with(
        &["egress-serviceentry-google.yaml"],
        OutboundPolicy::RegistryOnly,
    );
    let r = curl_https_head(&w, "www.google.com").send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert_eq!(r.cluster, "outbound|443||www.google.com");
    let r = curl_https_head(&w, "edition.cnn.com").send(&mut w);
    assert_eq!(r.status, None, "{r:?}");
}

// ---------------------------------------------------------------------------
// Fault Injection: https://istio.io/latest/docs/tasks/traffic-management/fault-injection/

const FAULT_BASE: [&str; 2] = [
    "virtual-service-all-v1.yaml",
    "virtual-service-reviews-test-v2.yaml",
];

/// Fault Injection, "Injecting an HTTP delay fault"
/// (virtual-service-ratings-test-delay.yaml: 7 s for jason): "the Bookinfo
/// home page loads in about 6 seconds" and shows "Sorry, product reviews
/// are currently unavailable for this book." — productpage gives reviews
/// 3 s and one retry, reviews v2 gives ratings 10 s. Other users see no
/// delay.
#[test]
fn fault_injection_delay_makes_jason_lose_the_reviews_after_6s() {
    let mut files = FAULT_BASE.to_vec();
    files.push("virtual-service-ratings-test-delay.yaml");
    let mut w = bookinfo_with(&files);
    let r = productpage_as("jason").send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert!(
        r.body
            .contains("Sorry, product reviews are currently unavailable for this book."),
        "{}",
        r.body
    );
    assert!((6000.0..6500.0).contains(&r.latency_ms), "{}", r.latency_ms);
    let r = productpage_as("alice").send(&mut w);
    assert!(!r.body.contains("Sorry"), "{}", r.body);
    assert!(r.latency_ms < 500.0, "{}", r.latency_ms);
}

/// Fault Injection, "Injecting an HTTP abort fault"
/// (virtual-service-ratings-test-abort.yaml: 500 for jason): "the page
/// loads immediately and the Ratings service is currently unavailable
/// message appears". Envoy answers the abort itself: 500, flag FI, body
/// "fault filter abort" (fault filter).
#[test]
fn fault_injection_abort_shows_ratings_unavailable_for_jason() {
    let mut files = FAULT_BASE.to_vec();
    files.push("virtual-service-ratings-test-abort.yaml");
    let mut w = bookinfo_with(&files);
    let r = productpage_as("jason").send(&mut w);
    assert_eq!(r.status, Some(200), "{r:?}");
    assert!(
        r.body.contains("Ratings service is currently unavailable"),
        "{}",
        r.body
    );
    assert!(r.latency_ms < 500.0, "{}", r.latency_ms);
    // What reviews v2 got from its sidecar.
    let ratings = Curl::from_pod(&w, "default", "reviews-v2", "ratings", 9080, "/ratings/0")
        .header("end-user", "jason")
        .send(&mut w);
    assert_eq!(
        (
            ratings.status,
            ratings.flags.as_str(),
            ratings.body.as_str()
        ),
        (Some(500), "FI", "fault filter abort")
    );
    assert_eq!(ratings.pod, None);
}

/// Request Timeouts: with ratings 2 s late, the page takes about 2 s; a
/// 0.5 s timeout on reviews makes it "return in about 1 second, instead of
/// 2, and the reviews are unavailable" (productpage tries reviews twice,
/// each cut at 0.5 s by Envoy's 504 UT).
#[test]
fn request_timeouts_cut_the_page_to_one_second() {
    let mut w = bookinfo_with(&[
        "virtual-service-all-v1.yaml",
        "request-timeouts-ratings-delay.yaml",
    ]);
    let r = productpage().send(&mut w);
    assert!((2000.0..2100.0).contains(&r.latency_ms), "{}", r.latency_ms);
    assert!(r.body.contains("glyphicon-star"), "reviews v2 shows stars");
    let mut w = bookinfo_with(&[
        "virtual-service-all-v1.yaml",
        "request-timeouts-ratings-delay.yaml",
        "request-timeouts-reviews-timeout.yaml",
    ]);
    let r = productpage().send(&mut w);
    assert_eq!(r.status, Some(200));
    assert!((1000.0..1100.0).contains(&r.latency_ms), "{}", r.latency_ms);
    assert!(
        r.body
            .contains("Sorry, product reviews are currently unavailable for this book."),
        "{}",
        r.body
    );
}
