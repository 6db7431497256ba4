//! TCP routing for non-HTTP ports: VirtualService `tcp` rules pick
//! weighted clusters without looking at HTTP (Istio 1.27
//! `buildSidecarOutboundTCP*`); without a rule the service's own cluster
//! takes the connection. TLS ports are routed by SNI with `tls` rules
//! (`buildSidecarOutboundTLSFilterChainOpts`), and connections to outside
//! names follow their ServiceEntry or the outbound traffic policy.

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::scenario::{Manifest, ManifestSource};
use std::collections::BTreeMap;

use meshsim::world::World;
use meshsim::world::probe::{ProbeFrom, ProbeRequest, ProbeResult, world_from};

const APP: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {istio-injection: enabled}}
---
apiVersion: v1
kind: Service
metadata: {name: db, namespace: shop}
spec:
  selector: {app: db}
  ports: [{name: tcp-db, port: 5432}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: db, version: v1}}
  template:
    metadata: {labels: {app: db, version: v1}}
    spec: {containers: [{name: db, image: example.com/db:1, ports: [{containerPort: 5432}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db-v2, namespace: shop}
spec:
  selector: {matchLabels: {app: db, version: v2}}
  template:
    metadata: {labels: {app: db, version: v2}}
    spec: {containers: [{name: db, image: example.com/db:2, ports: [{containerPort: 5432}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: client, namespace: shop}
spec:
  selector: {matchLabels: {app: client}}
  template:
    metadata: {labels: {app: client}}
    spec: {containers: [{name: c, image: docker.io/curlimages/curl:8.16.0}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: db, namespace: shop}
spec:
  host: db
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
---
apiVersion: v1
kind: Service
metadata: {name: secure, namespace: shop}
spec:
  selector: {app: secure}
  ports: [{name: https, port: 443, targetPort: 8443}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: secure-v1, namespace: shop}
spec:
  selector: {matchLabels: {app: secure, version: v1}}
  template:
    metadata: {labels: {app: secure, version: v1}}
    spec: {containers: [{name: s, image: example.com/secure:1, ports: [{containerPort: 8443}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: secure-v2, namespace: shop}
spec:
  selector: {matchLabels: {app: secure, version: v2}}
  template:
    metadata: {labels: {app: secure, version: v2}}
    spec: {containers: [{name: s, image: example.com/secure:2, ports: [{containerPort: 8443}]}]}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: secure, namespace: shop}
spec:
  host: secure
  subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}]
"#;

/// The shop with `extra` applied, and a probe from its client to
/// `host:port`.
fn shop(extra: &str, outbound: OutboundPolicy, host: &str, port: u16) -> (World, ProbeRequest) {
    let source = ManifestSource::Inline {
        name: "tcp.yaml".into(),
        text: format!("{APP}{extra}"),
    };
    let (world, _, _) = world_from(
        vec![Manifest {
            source,
            namespace: None,
        }],
        &[],
        1,
        outbound,
    )
    .unwrap();
    let client = world.find_pod("shop", "client").unwrap();
    let probe = ProbeRequest {
        from: ProbeFrom::Pod(client),
        host: host.into(),
        port,
        method: "GET".into(),
        path: "/".into(),
        headers: vec![],
    };
    (world, probe)
}

fn counts_to(extra: &str, host: &str, port: u16, n: u32) -> BTreeMap<String, u32> {
    let (mut world, probe) = shop(extra, OutboundPolicy::AllowAny, host, port);
    let mut out = BTreeMap::new();
    for _ in 0..n {
        let (r, _) = world.probe(&probe, false).unwrap();
        *out.entry(r.cluster).or_default() += 1;
    }
    out
}

fn counts(extra: &str, n: u32) -> BTreeMap<String, u32> {
    counts_to(extra, "db", 5432, n)
}

fn once(extra: &str, outbound: OutboundPolicy, host: &str, port: u16) -> ProbeResult {
    let (mut world, probe) = shop(extra, outbound, host, port);
    world.probe(&probe, false).unwrap().0
}

#[test]
fn without_a_rule_the_service_cluster_takes_the_connection() {
    let c = counts("", 20);
    assert_eq!(
        c,
        [("outbound|5432||db.shop.svc.cluster.local".to_string(), 20)].into()
    );
}

#[test]
fn tcp_rules_split_by_weight() {
    let vs = "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: db, namespace: shop}\nspec:\n  hosts: [db]\n  tcp:\n  - match: [{port: 5432}]\n    route:\n    - {destination: {host: db, subset: v1}, weight: 80}\n    - {destination: {host: db, subset: v2}, weight: 20}\n";
    let c = counts(vs, 1000);
    let v2 = c["outbound|5432|v2|db.shop.svc.cluster.local"];
    assert!((150..=250).contains(&v2), "{c:?}");
    assert_eq!(c.values().sum::<u32>(), 1000);
}

#[test]
fn a_rule_for_another_port_does_not_apply() {
    let vs = "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: db, namespace: shop}\nspec:\n  hosts: [db]\n  tcp:\n  - match: [{port: 6000}]\n    route: [{destination: {host: db, subset: v2}}]\n";
    let c = counts(vs, 10);
    assert_eq!(
        c,
        [("outbound|5432||db.shop.svc.cluster.local".to_string(), 10)].into()
    );
}

const SECURE_FQDN: &str = "secure.shop.svc.cluster.local";

fn secure_tls_vs(sni: &str) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: secure, namespace: shop}}\nspec:\n  hosts: [{sni}]\n  tls:\n  - match: [{{port: 443, sniHosts: [{sni}]}}]\n    route:\n    - {{destination: {{host: secure, subset: v1}}, weight: 25}}\n    - {{destination: {{host: secure, subset: v2}}, weight: 75}}\n"
    )
}

/// A TLS port without `tls` rules is opaque TCP to the service's cluster.
#[test]
fn a_tls_port_without_rules_goes_to_the_service_cluster() {
    let c = counts_to("", SECURE_FQDN, 443, 10);
    assert_eq!(
        c,
        [(
            "outbound|443||secure.shop.svc.cluster.local".to_string(),
            10
        )]
        .into()
    );
}

/// `tls` rules route by the SNI the client sends (the name it dialled),
/// weighted like any route. (Istio's validation wants each `sniHosts`
/// entry within the VirtualService's `hosts` as written, so they name the
/// FQDN.)
#[test]
fn tls_rules_route_by_sni_and_weight() {
    let c = counts_to(&secure_tls_vs(SECURE_FQDN), SECURE_FQDN, 443, 1000);
    let v2 = c["outbound|443|v2|secure.shop.svc.cluster.local"];
    assert!((700..=800).contains(&v2), "{c:?}");
    assert_eq!(c.values().sum::<u32>(), 1000);
}

/// A wildcard SNI name takes the names under it.
#[test]
fn a_wildcard_sni_host_takes_the_names_under_it() {
    let c = counts_to(
        &secure_tls_vs("'*.shop.svc.cluster.local'"),
        SECURE_FQDN,
        443,
        20,
    );
    assert_eq!(c.values().sum::<u32>(), 20);
    assert!(
        c.keys().all(|k| k.contains("|v1|") || k.contains("|v2|")),
        "{c:?}"
    );
}

/// Once a `tls` match applies, the port's only filter chains are the SNI
/// ones; a client whose SNI (here the short name it dialled) none of them
/// names matches no filter chain and is reset (flag NR: "no matching filter
/// chain for a downstream connection", Envoy access log docs).
#[test]
fn an_sni_no_chain_names_is_reset() {
    let r = once(
        &secure_tls_vs(SECURE_FQDN),
        OutboundPolicy::AllowAny,
        "secure",
        443,
    );
    assert_eq!(r.status, None, "{r:?}");
    assert_eq!(r.error.as_deref(), Some("connection reset"));
    assert_eq!(r.flags, "NR");
}

/// Istio's egress task (tasks/traffic-management/egress/egress-control):
/// with REGISTRY_ONLY, `curl https://www.google.com` fails ("command
/// terminated with exit code 35") until a ServiceEntry for
/// www.google.com:443 (protocol TLS, resolution DNS) exists; then it gets
/// `HTTP/2 200`, through cluster `outbound|443||www.google.com`.
#[test]
fn registry_only_resets_tls_to_unknown_hosts_until_a_service_entry() {
    let blocked = once("", OutboundPolicy::RegistryOnly, "www.google.com", 443);
    assert_eq!(blocked.status, None, "{blocked:?}");
    assert_eq!(blocked.error.as_deref(), Some("connection reset"));
    // The BlackHole cluster is a static cluster without hosts.
    assert_eq!(
        (blocked.cluster.as_str(), blocked.flags.as_str()),
        ("BlackHoleCluster", "UH")
    );
    let se = "---\napiVersion: networking.istio.io/v1\nkind: ServiceEntry\nmetadata: {name: google, namespace: shop}\nspec:\n  hosts: [www.google.com]\n  ports: [{number: 443, name: https, protocol: TLS}]\n  resolution: DNS\n  location: MESH_EXTERNAL\n";
    let allowed = once(se, OutboundPolicy::RegistryOnly, "www.google.com", 443);
    assert_eq!(allowed.status, Some(200), "{allowed:?}");
    assert_eq!(allowed.cluster, "outbound|443||www.google.com");
}

/// With ALLOW_ANY an unknown TLS destination passes through Envoy's
/// `PassthroughCluster`.
#[test]
fn allow_any_passes_unknown_tls_through() {
    let r = once("", OutboundPolicy::AllowAny, "www.google.com", 443);
    assert_eq!(
        (r.status, r.cluster.as_str()),
        (Some(200), "PassthroughCluster"),
        "{r:?}"
    );
}
