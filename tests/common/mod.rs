//! What the library-level tests of a simulated Bookinfo share: its world,
//! and one request from a pod.

use meshsim::dataplane::xds::OutboundPolicy;
use meshsim::scenario::{Manifest, ManifestSource};
use meshsim::world::World;
use meshsim::world::probe::{ProbeFrom, ProbeRequest, ProbeResult, world_from};

/// Bookinfo in namespace `bookinfo` with sidecars and the curl pod, then
/// `extra` files, on three nodes, settled.
pub fn bookinfo(extra: &[&str]) -> World {
    let file = |path: &str, ns: Option<&str>| Manifest {
        source: ManifestSource::File(path.into()),
        namespace: ns.map(str::to_string),
    };
    let mut manifests = vec![
        file("manifests/bookinfo/namespace.yaml", None),
        file("manifests/bookinfo/bookinfo.yaml", Some("bookinfo")),
        file("manifests/samples/curl.yaml", Some("bookinfo")),
    ];
    manifests.extend(extra.iter().map(|f| file(f, None)));
    match world_from(manifests, &[], 3, OutboundPolicy::AllowAny) {
        Ok((w, _, _)) => w,
        Err(d) => panic!("{d:?}"),
    }
}

/// `kubectl exec -n bookinfo curl -- curl http://HOST:PORT/PATH`.
pub fn curl(w: &mut World, host: &str, port: u16, path: &str) -> ProbeResult {
    let curl = w.find_pod("bookinfo", "curl").expect("curl runs");
    let p = ProbeRequest {
        from: ProbeFrom::Pod(curl),
        host: host.to_string(),
        port,
        method: "GET".to_string(),
        path: path.to_string(),
        headers: Vec::new(),
    };
    w.probe(&p, false).unwrap().0
}
