//! The listings of real worlds: Bookinfo in namespace `bookinfo` with the
//! course's reviews DestinationRule (subsets v1, v2, v3) and the
//! VirtualService sending everything to v1 (Lab 2), as a learner lists
//! them from productpage's sidecar and the ingress gateway.

use test_case::test_case;

use super::*;
use crate::dataplane::xds::OutboundPolicy;
use crate::scenario::{Manifest, ManifestSource};

const BOOKINFO: &[&str] = &[
    "manifests/bookinfo/namespace.yaml",
    "manifests/bookinfo/bookinfo.yaml",
    "manifests/course/destination-rule-reviews.yaml",
    "manifests/course/virtual-service-reviews-v1.yaml",
];

fn world_with(extra: &[&str], outbound: OutboundPolicy) -> World {
    let manifests: Vec<Manifest> = BOOKINFO
        .iter()
        .chain(extra)
        .map(|f| Manifest {
            source: ManifestSource::File((*f).into()),
            // Bookinfo and Istio's samples go where they are applied
            // (`kubectl apply -n bookinfo`); the course's files name their
            // namespaces, the task fixtures stay in `default`.
            namespace: ["manifests/bookinfo", "manifests/samples"]
                .iter()
                .any(|d| f.starts_with(d))
                .then(|| "bookinfo".into()),
        })
        .collect();
    match crate::world::probe::world_from(manifests, &[], 7, outbound) {
        Ok((w, _, _)) => w,
        Err(d) => panic!("{d:?}"),
    }
}

fn bookinfo() -> World {
    world_with(&[], OutboundPolicy::AllowAny)
}

/// The Envoy of the first pod of `ns/workload`.
fn proxy(w: &mut World, ns: &str, workload: &str) -> Proxy {
    let pod = w.find_pod(ns, workload).expect("the workload has a pod");
    Proxy::of(w, pod).expect("the pod has an Envoy")
}

fn row(cells: &[&str]) -> Vec<String> {
    cells.iter().map(|c| c.to_string()).collect()
}

/// `istioctl ARGS`: (stdout, stderr, exit code).
fn istioctl(w: &mut World, line: &str) -> (String, String, i32) {
    let words: Vec<String> = line.split_whitespace().map(String::from).collect();
    let out = crate::istioctl::run(w, &words);
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.code,
    )
}

#[test_case(&["9080", "reviews.bookinfo.svc.cluster.local:9080", "reviews.bookinfo.svc.cluster.local., reviews + 2 more...", "/*", "reviews.bookinfo"]; "the VirtualService's route to v1")]
#[test_case(&["9080", "details.bookinfo.svc.cluster.local:9080", "details.bookinfo.svc.cluster.local., details + 2 more...", "/*", ""]; "a service's default route")]
#[test_case(&["", "backend", "*", "/stats/prometheus*", ""]; "the bootstrap's prometheus route")]
#[test_case(&["inbound|9080||", "inbound|http|9080", "*", "/*", ""]; "the inbound chain's route")]
#[test_case(&["InboundPassthroughCluster", "inbound|http|0", "*", "/*", ""]; "the catch-all inbound route")]
fn productpage_routes_include(want: &[&str]) {
    let mut w = bookinfo();
    let p = proxy(&mut w, "bookinfo", "productpage-v1");
    let rows = routes::table(&routes::route_configs(&w, &p), "");
    assert!(rows.contains(&row(want)), "{rows:#?}");
}

#[test]
fn routes_come_in_istioctls_order() {
    let mut w = bookinfo();
    let p = proxy(&mut w, "bookinfo", "productpage-v1");
    let names: Vec<String> = routes::route_configs(&w, &p)
        .into_iter()
        .map(|rc| rc.name)
        .collect();
    // RDS ones (numeric first, ascending), then the static ones; a
    // PERMISSIVE port has an mTLS and a plaintext HTTP chain, each with
    // its inline route configuration.
    assert_eq!(
        names,
        [
            "80",
            "9080",
            "15010",
            "15014",
            "istio-ingressgateway.istio-system.svc.cluster.local:15021",
            "",
            "",
            "InboundPassthroughCluster",
            "InboundPassthroughCluster",
            "inbound|9080||",
            "inbound|9080||",
        ]
    );
}

#[test]
fn allow_any_is_hidden_and_block_all_shown() {
    let mut w = bookinfo();
    let p = proxy(&mut w, "bookinfo", "productpage-v1");
    let rows = routes::table(&routes::route_configs(&w, &p), "9080");
    assert!(!rows.iter().any(|r| r[1] == "allow_any"), "{rows:#?}");
    let mut w = world_with(&[], OutboundPolicy::RegistryOnly);
    let p = proxy(&mut w, "bookinfo", "productpage-v1");
    let rows = routes::table(&routes::route_configs(&w, &p), "9080");
    assert_eq!(
        rows.last(),
        Some(&row(&["9080", "block_all", "*", "/*", ""]))
    );
}

#[test_case(&["reviews.bookinfo.svc.cluster.local", "9080", "-", "outbound", "EDS", "reviews.bookinfo"]; "the default cluster carries the rule")]
#[test_case(&["reviews.bookinfo.svc.cluster.local", "9080", "v1", "outbound", "EDS", "reviews.bookinfo"]; "subset v1")]
#[test_case(&["reviews.bookinfo.svc.cluster.local", "9080", "v3", "outbound", "EDS", "reviews.bookinfo"]; "subset v3")]
#[test_case(&["ratings.bookinfo.svc.cluster.local", "9080", "-", "outbound", "EDS", ""]; "no rule")]
#[test_case(&["", "9080", "-", "inbound", "ORIGINAL_DST", ""]; "inbound")]
#[test_case(&["PassthroughCluster", "-", "-", "-", "ORIGINAL_DST", ""]; "passthrough")]
#[test_case(&["xds-grpc", "-", "-", "-", "STATIC", ""]; "bootstrap")]
fn productpage_clusters_include(want: &[&str]) {
    let mut w = bookinfo();
    let p = proxy(&mut w, "bookinfo", "productpage-v1");
    let rows = clusters::table(&clusters::clusters(&w, &p), &clusters::Filter::default());
    assert!(rows.contains(&row(want)), "{rows:#?}");
}

#[test]
fn clusters_sort_by_fqdn_then_subset() {
    let mut w = bookinfo();
    let p = proxy(&mut w, "bookinfo", "productpage-v1");
    let filter = clusters::Filter {
        fqdn: "reviews",
        ..clusters::Filter::default()
    };
    let rows = clusters::table(&clusters::clusters(&w, &p), &filter);
    let subsets: Vec<&str> = rows[1..].iter().map(|r| r[2].as_str()).collect();
    assert_eq!(subsets, ["-", "v1", "v2", "v3"]);
    let first = clusters::table(&clusters::clusters(&w, &p), &clusters::Filter::default());
    assert_eq!(
        first[1],
        row(&["", "9080", "-", "inbound", "ORIGINAL_DST", ""])
    );
}

#[test]
fn subset_endpoints_are_the_subsets_pods() {
    let mut w = bookinfo();
    let p = proxy(&mut w, "bookinfo", "productpage-v1");
    let v1 = w
        .find_pod("bookinfo", "reviews-v1")
        .expect("reviews-v1 runs");
    let ip = w.cluster.pod(v1).ip.to_string();
    let list = clusters::clusters(&w, &p);
    let rows = endpoints::endpoints(&w, p.pod, &list);
    let filter = endpoints::Filter {
        cluster: "outbound|9080|v1|reviews.bookinfo.svc.cluster.local",
        ..endpoints::Filter::default()
    };
    assert_eq!(
        endpoints::table(&rows, &filter)[1..],
        [row(&[
            &format!("{ip}:9080"),
            "HEALTHY",
            "OK",
            "outbound|9080|v1|reviews.bookinfo.svc.cluster.local"
        ])]
    );
    let all = endpoints::table(&rows, &endpoints::Filter::default());
    assert_eq!(
        all.last(),
        Some(&row(&[
            "unix://./var/run/secrets/workload-spiffe-uds/socket",
            "HEALTHY",
            "OK",
            "sds-grpc"
        ]))
    );
}

#[test_case(&[], 9080, &[
    &["0.0.0.0", "9080", "Trans: raw_buffer; App: http/1.1,h2c", "Route: 9080"],
    &["0.0.0.0", "9080", "ALL", "PassthroughCluster"],
]; "an HTTP port")]
#[test_case(&[], 15001, &[
    &["0.0.0.0", "15001", "ALL", "PassthroughCluster"],
    &["0.0.0.0", "15001", "Addr: *:15001", "Non-HTTP/Non-TCP"],
]; "the virtual outbound listener")]
#[test_case(&[], 15006, &[
    &["0.0.0.0", "15006", "Addr: *:15006", "Non-HTTP/Non-TCP"],
    &["0.0.0.0", "15006", "Trans: tls; App: istio-http/1.0,istio-http/1.1,istio-h2", "InboundPassthroughCluster"],
    &["0.0.0.0", "15006", "Trans: raw_buffer; App: http/1.1,h2c", "InboundPassthroughCluster"],
    &["0.0.0.0", "15006", "Trans: tls; App: TCP TLS", "InboundPassthroughCluster"],
    &["0.0.0.0", "15006", "Trans: raw_buffer", "InboundPassthroughCluster"],
    &["0.0.0.0", "15006", "Trans: tls", "InboundPassthroughCluster"],
    &["0.0.0.0", "15006", "Trans: tls; App: istio,istio-peer-exchange,istio-http/1.0,istio-http/1.1,istio-h2; Addr: *:9080", "Cluster: inbound|9080||"],
    &["0.0.0.0", "15006", "Trans: raw_buffer; Addr: *:9080", "Cluster: inbound|9080||"],
]; "PERMISSIVE inbound")]
#[test_case(&["manifests/course/peer-authentication-strict.yaml"], 15006, &[
    &["0.0.0.0", "15006", "Addr: *:15006", "Non-HTTP/Non-TCP"],
    &["0.0.0.0", "15006", "Trans: tls; App: istio-http/1.0,istio-http/1.1,istio-h2", "InboundPassthroughCluster"],
    &["0.0.0.0", "15006", "Trans: tls", "InboundPassthroughCluster"],
    &["0.0.0.0", "15006", "Trans: tls; Addr: *:9080", "Cluster: inbound|9080||"],
]; "STRICT inbound")]
#[test_case(&[], 15090, &[
    &["0.0.0.0", "15090", "ALL", "Inline Route: /stats/prometheus*"],
]; "the bootstrap's prometheus listener")]
fn productpage_listeners_on(extra: &[&str], port: u16, want: &[&[&str]]) {
    let mut w = world_with(extra, OutboundPolicy::AllowAny);
    let p = proxy(&mut w, "bookinfo", "productpage-v1");
    let filter = listeners::Filter {
        port,
        ..listeners::Filter::default()
    };
    let rows = listeners::table(&listeners::listeners(&w, &p), &filter);
    let want: Vec<Vec<String>> = want.iter().map(|r| row(r)).collect();
    assert_eq!(rows[1..], want[..]);
}

#[test]
fn registry_only_falls_through_to_the_black_hole() {
    let mut w = world_with(&[], OutboundPolicy::RegistryOnly);
    let p = proxy(&mut w, "bookinfo", "productpage-v1");
    let filter = listeners::Filter {
        port: 9080,
        ..listeners::Filter::default()
    };
    let rows = listeners::table(&listeners::listeners(&w, &p), &filter);
    assert_eq!(
        rows[2],
        row(&["0.0.0.0", "9080", "ALL", "Non-HTTP/Non-TCP"])
    );
}

#[test]
fn a_gateway_has_its_servers_routes_and_no_sidecar_entries() {
    let mut w = world_with(
        &["manifests/samples/bookinfo-gateway.yaml"],
        OutboundPolicy::AllowAny,
    );
    let p = proxy(&mut w, "istio-system", "istio-ingressgateway");
    let rows = routes::table(&routes::route_configs(&w, &p), "");
    assert_eq!(
        rows[1],
        row(&[
            "http.8080",
            "*:8080",
            "*",
            "/productpage",
            "bookinfo.bookinfo"
        ])
    );
    let l = listeners::table(&listeners::listeners(&w, &p), &listeners::Filter::default());
    assert_eq!(l[1], row(&["0.0.0.0", "8080", "ALL", "Route: http.8080"]));
    let c = clusters::clusters(&w, &p);
    assert!(
        !c.iter()
            .any(|c| c.name == "PassthroughCluster" || c.name.starts_with("inbound"))
    );
}

/// The whole command, as the learner types it.
#[test]
fn the_command_prints_tabwriter_tables() {
    let mut w = bookinfo();
    let (out, err, code) = istioctl(
        &mut w,
        "proxy-config routes deploy/productpage-v1.bookinfo --name 9080",
    );
    assert_eq!(code, 0, "{err}");
    let want = "\
NAME     VHOST NAME                                      DOMAINS                                                              MATCH     VIRTUAL SERVICE
9080     details.bookinfo.svc.cluster.local:9080         details.bookinfo.svc.cluster.local., details + 2 more...             /*        \n\
9080     productpage.bookinfo.svc.cluster.local:9080     productpage.bookinfo.svc.cluster.local., productpage + 2 more...     /*        \n\
9080     ratings.bookinfo.svc.cluster.local:9080         ratings.bookinfo.svc.cluster.local., ratings + 2 more...             /*        \n\
9080     reviews.bookinfo.svc.cluster.local:9080         reviews.bookinfo.svc.cluster.local., reviews + 2 more...             /*        reviews.bookinfo
";
    assert_eq!(out, want);
}

#[test_case("pc clusters deploy/productpage-v1 -n bookinfo --fqdn reviews --subset v2 -o json", "\"name\": \"outbound|9080|v2|reviews.bookinfo.svc.cluster.local\""; "json")]
#[test_case("pc c deploy/productpage-v1.bookinfo --port 9080 --direction inbound -o yaml", "- name: inbound|9080||\n  type: ORIGINAL_DST\n"; "yaml")]
#[test_case("pc listeners deploy/productpage-v1.bookinfo --port 9080 --verbose=false", "ADDRESSES PORT TYPE\n0.0.0.0   9080 HTTP+TCP\n"; "listener types")]
#[test_case("pc r deploy/productpage-v1.bookinfo --name 80 --verbose=false", "NAME     VIRTUAL HOSTS\n80       2\n"; "route summary: the service and allow_any")]
fn outputs(line: &str, want: &str) {
    let mut w = bookinfo();
    let (out, err, code) = istioctl(&mut w, line);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains(want), "{out}");
}

#[test_case("pc routes nosuch-pod -n bookinfo",
    "Error: failed to execute command on nosuch-pod.bookinfo sidecar: failure running port forward process: failure running port forward process: building port forwarded: failed retrieving: pods \"nosuch-pod\" not found in the \"bookinfo\" namespace\n"; "unknown pod")]
#[test_case("pc ep nosuch-pod.bookinfo",
    "Error: failed to execute command on Envoy: failure running port forward process: failure running port forward process: building port forwarded: failed retrieving: pods \"nosuch-pod\" not found in the \"bookinfo\" namespace\n"; "endpoints' wording")]
#[test_case("pc clusters deploy/nosuch -n bookinfo",
    "Error: failed retrieving: deployments.apps \"nosuch\" not found in the \"bookinfo\" namespace\n"; "unknown deployment")]
#[test_case("pc clusters", "Error: cluster requires pod name or --file parameter\n"; "no pod")]
#[test_case("pc routes x --fqdn a", "Error: unknown flag: --fqdn\n"; "a flag of another listing")]
#[test_case("pc clusters x --port abc", "Error: invalid argument \"abc\" for \"--port\" flag: strconv.ParseInt: parsing \"abc\": invalid syntax\n"; "a bad port")]
#[test_case("pc listeners x -o wide", "Error: output format \"wide\" not supported\n"; "a bad output format")]
fn errors(line: &str, want: &str) {
    let mut w = bookinfo();
    let (out, err, code) = istioctl(&mut w, line);
    assert_eq!((out.as_str(), err.as_str(), code), ("", want, 1));
}

#[test]
fn a_pod_without_sidecar_refuses_the_admin_port() {
    let mut w = world_with(
        &["manifests/course/outside-mesh-sleep.yaml"],
        OutboundPolicy::AllowAny,
    );
    let (_, err, code) = istioctl(&mut w, "pc clusters sleep.outside-mesh");
    assert_eq!(code, 1);
    let re = regex::Regex::new(
        r#"^Error: failed to execute command on sleep.outside-mesh sidecar: failure running port forward process: Get "http://localhost:\d{5}/config_dump\?mask=dynamic_active_clusters,dynamic_warming_clusters,static_clusters": EOF\n$"#,
    )
    .expect("a valid pattern");
    assert!(re.is_match(&err), "{err}");
}

/// Istio's Secure Gateways task, two HTTPS servers on 443: each has its
/// own route configuration (`https.PORT.PORT_NAME.GATEWAY.NAMESPACE`) and
/// filter chain, matched by SNI, on the pod's port 8443.
#[test]
fn https_servers_have_their_own_routes_and_chains() {
    let f = "tests/fixtures/istio_tasks";
    let mut w = world_with(
        &[
            &format!("{f}/httpbin.yaml"),
            &format!("{f}/helloworld-v1.yaml"),
            &format!("{f}/secure-gateway-single-host.yaml"),
            &format!("{f}/secure-gateway-multiple-hosts.yaml"),
        ],
        OutboundPolicy::AllowAny,
    );
    let p = proxy(&mut w, "istio-system", "istio-ingressgateway");
    let routes = routes::table(&routes::route_configs(&w, &p), "");
    assert!(
        routes.contains(&row(&[
            "https.443.https-helloworld.mygateway.default",
            "helloworld.example.com:443",
            "helloworld.example.com",
            "/hello",
            "helloworld.default",
        ])),
        "{routes:#?}"
    );
    let filter = listeners::Filter {
        port: 8443,
        ..listeners::Filter::default()
    };
    assert_eq!(
        listeners::table(&listeners::listeners(&w, &p), &filter)[1..],
        [
            row(&[
                "0.0.0.0",
                "8443",
                "SNI: httpbin.example.com",
                "Route: https.443.https-httpbin.mygateway.default"
            ]),
            row(&[
                "0.0.0.0",
                "8443",
                "SNI: helloworld.example.com",
                "Route: https.443.https-helloworld.mygateway.default"
            ]),
        ]
    );
}

#[test]
fn a_dns_service_entry_is_a_strict_dns_cluster_without_endpoints() {
    let mut w = world_with(
        &["tests/fixtures/istio_tasks/egress-serviceentry-httpbin.yaml"],
        OutboundPolicy::AllowAny,
    );
    let p = proxy(&mut w, "bookinfo", "productpage-v1");
    let list = clusters::clusters(&w, &p);
    let filter = clusters::Filter {
        fqdn: "httpbin.org",
        ..clusters::Filter::default()
    };
    assert_eq!(
        clusters::table(&list, &filter)[1..],
        [row(&[
            "httpbin.org",
            "80",
            "-",
            "outbound",
            "STRICT_DNS",
            ""
        ])]
    );
    let rows = endpoints::endpoints(&w, p.pod, &list);
    assert!(!rows.iter().any(|r| r.cluster.contains("httpbin.org")));
}
