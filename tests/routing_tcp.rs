//! TCP routing for non-HTTP ports: VirtualService `tcp` rules pick
//! weighted clusters without looking at HTTP (Istio 1.27
//! `buildSidecarOutboundTCP*`); without a rule the service's own cluster
//! takes the connection.

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::scenario::{Manifest, ManifestSource};
use meshsim::world::probe::{ProbeFrom, ProbeRequest, world_from};

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
"#;

fn counts(extra: &str, n: u32) -> std::collections::BTreeMap<String, u32> {
    let source = ManifestSource::Inline {
        name: "tcp.yaml".into(),
        text: format!("{APP}{extra}"),
    };
    let (mut world, _, _) = world_from(
        vec![Manifest {
            source,
            namespace: None,
        }],
        &[],
        1,
        OutboundPolicy::AllowAny,
    )
    .unwrap();
    let client = world.find_pod("shop", "client").unwrap();
    let probe = ProbeRequest {
        from: ProbeFrom::Pod(client),
        host: "db".into(),
        port: 5432,
        method: "GET".into(),
        path: "/".into(),
        headers: vec![],
    };
    let mut out = std::collections::BTreeMap::new();
    for _ in 0..n {
        let (r, _) = world.probe(&probe, false).unwrap();
        *out.entry(r.cluster).or_default() += 1;
    }
    out
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
