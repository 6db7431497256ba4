//! `istioctl proxy-status [POD[.NAMESPACE]]` (alias `ps`): the proxies
//! istiod serves and what they subscribe to, or, for one pod, whether its
//! Envoy holds what istiod would send.
//!
//! Sources (istio/istio 1.27.9):
//! - `istioctl/pkg/writer/pilot/status.go`: since 1.27 (istio/istio#56441)
//!   the table is `NAME CLUSTER ISTIOD VERSION SUBSCRIBED TYPES`, a
//!   proxy's types counted and listed as `4 (CDS,LDS,EDS,RDS)` (CDS, LDS,
//!   EDS, RDS first, then the others sorted by type URL: a ztunnel's
//!   `istio.security.Authorization` and `istio.workload.Address` give
//!   `2 (WADS,WDS)`); rows sorted by proxy ID `NAME.NAMESPACE`, filtered
//!   by namespace only with `--namespace`; `--output` is accepted and
//!   unused; padding 5. Published 1.27 output shows sidecars and gateways
//!   with `4 (CDS,LDS,EDS,RDS)` and ztunnels with `2 (WADS,WDS)`.
//! - `pilot/pkg/xds/statusgen.go` (`debugSyncz`): every connected Envoy
//!   (sidecar, gateway, waypoint) and every ztunnel; the CLUSTER column is
//!   the proxy's cluster ID, `Kubernetes` by default.
//! - `istioctl/pkg/multixds/gather.go`: istiod pods are `app=istiod` pods
//!   in phase Running in the Istio namespace; without one the command
//!   fails with `no running Istio pods in "istio-system"`.
//! - `istioctl/pkg/proxystatus/proxystatus.go`: with a pod, a ztunnel gets
//!   `Sync diff is not available for ztunnel pod NAME.NS`; otherwise the
//!   pod's Envoy config dump is compared with istiod's
//!   (`writer/compare`: `Clusters Match`, `Listeners Match`,
//!   `Routes Match`).
//!
//! Left out: `--verbosity 1`, whose columns show each type's status with
//! the time since istiod last sent it, which meshsim does not record; and
//! the `(RDS last loaded at …)` time after `Routes Match`, likewise.

use crate::control::install::ISTIO_VERSION;
use crate::exec::Exec;
use crate::k8s::{Pod, PodPhase};
use crate::world::World;

use super::proxy_config::envoy;

/// The flags `proxy-status` takes.
#[derive(Debug, Default, PartialEq)]
struct Flags {
    target: Option<String>,
    namespace: Option<String>,
    istio_namespace: String,
    verbosity: u32,
}

/// Flags that take a value and that meshsim accepts without using.
const IGNORED: &[&str] = &[
    "output",
    "o",
    "revision",
    "r",
    "xds-address",
    "xds-label",
    "xds-port",
    "cert-dir",
    "timeout",
    "context",
    "kubeconfig",
    "c",
    "vklog",
];

fn parse(args: &[String]) -> Result<Flags, String> {
    let mut f = Flags {
        istio_namespace: "istio-system".into(),
        ..Flags::default()
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        let Some(flag) = arg.strip_prefix('-') else {
            if f.target.is_some() {
                return Err(format!(
                    "unknown command {arg:?} for \"istioctl proxy-status\""
                ));
            }
            f.target = Some(arg.clone());
            continue;
        };
        let flag = flag.strip_prefix('-').unwrap_or(flag);
        let (name, inline) = match flag.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (flag, None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| it.next().cloned())
                .ok_or_else(|| format!("flag needs an argument: {arg}"))
        };
        match name {
            "n" | "namespace" => f.namespace = Some(value()?),
            "i" | "istioNamespace" => f.istio_namespace = value()?,
            "v" | "verbosity" => {
                let v = value()?;
                f.verbosity = v.parse().map_err(|_| {
                    format!(
                        "invalid argument {v:?} for \"-v, --verbosity\" flag: strconv.ParseInt: parsing {v:?}: invalid syntax"
                    )
                })?;
            }
            "file" => return Err("meshsim's istioctl has no config dump files".into()),
            n if IGNORED.contains(&n) => {
                value()?;
            }
            _ => return Err(format!("unknown flag: {arg}")),
        }
    }
    Ok(f)
}

/// Runs `istioctl proxy-status ARGS`.
pub fn run(world: &mut World, args: &[String]) -> Exec {
    let result = parse(args).and_then(|f| match &f.target {
        Some(t) => one(world, &f, t),
        None => all(world, &f),
    });
    match result {
        Ok(stdout) => Exec {
            stdout: stdout.into_bytes(),
            ..Exec::default()
        },
        Err(e) => Exec::fail(format!("Error: {e}"), 1),
    }
}

/// The running istiod pods, sorted by name.
fn istiods<'w>(world: &'w World, istio_ns: &str) -> Result<Vec<&'w Pod>, String> {
    let mut pods: Vec<&Pod> = world
        .cluster
        .live_pods()
        .filter(|p| p.namespace == istio_ns && p.phase == PodPhase::Running)
        .filter(|p| p.labels.get("app").is_some_and(|a| a == "istiod"))
        .collect();
    pods.sort_by(|a, b| a.name.cmp(&b.name));
    if pods.is_empty() {
        return Err(format!("no running Istio pods in {istio_ns:?}"));
    }
    Ok(pods)
}

/// ztunnel, by its label, else by its name (`util/ambient.IsZtunnelPod`).
fn is_ztunnel(p: &Pod) -> bool {
    match p.labels.get("app") {
        Some(app) => app == "ztunnel",
        None => p.name.starts_with("ztunnel"),
    }
}

/// What a connected proxy subscribes to, if it is one istiod serves:
/// Envoys (sidecars and gateways) the four xDS types, ztunnels the
/// workload and authorization types.
fn subscribed(world: &World, p: &Pod) -> Option<&'static str> {
    if !matches!(p.phase, PodPhase::Running | PodPhase::Terminating) {
        return None;
    }
    if world.pods[p.id.0 as usize].proxy.is_some() {
        Some("4 (CDS,LDS,EDS,RDS)")
    } else if is_ztunnel(p) {
        Some("2 (WADS,WDS)")
    } else {
        None
    }
}

/// The whole table.
fn all(world: &World, f: &Flags) -> Result<String, String> {
    if f.verbosity > 0 {
        return Err(
            "meshsim's istioctl does not show --verbosity: istiod's per-type send times are not simulated"
                .into(),
        );
    }
    let istiods = istiods(world, &f.istio_namespace)?;
    let mut rows: Vec<Vec<String>> = world
        .cluster
        .live_pods()
        .filter(|p| f.namespace.as_ref().is_none_or(|ns| *ns == p.namespace))
        .filter_map(|p| {
            let types = subscribed(world, p)?;
            let id = format!("{}.{}", p.name, p.namespace);
            let istiod = connected_to(&istiods, p, &id);
            Some(vec![
                id,
                "Kubernetes".to_string(),
                istiod.to_string(),
                ISTIO_VERSION.to_string(),
                types.to_string(),
            ])
        })
        .collect();
    rows.sort();
    let mut table = vec![
        ["NAME", "CLUSTER", "ISTIOD", "VERSION", "SUBSCRIBED TYPES"]
            .map(String::from)
            .to_vec(),
    ];
    table.extend(rows);
    Ok(super::tabwrite(&table, 5))
}

/// The istiod a proxy keeps its xDS stream with: one of its revision's
/// (`istiod-REV.istio-system.svc`), as that Service balances the
/// connections; a hash of the proxy ID stands in, stable across runs.
fn connected_to<'p>(istiods: &[&'p Pod], proxy: &Pod, proxy_id: &str) -> &'p str {
    use crate::k8s::cluster::REVISION;
    fn revision(m: Option<&String>) -> &str {
        m.map_or("default", String::as_str)
    }
    // An injected sidecar's annotation, or a waypoint's label.
    let wanted = revision(
        proxy
            .annotations
            .get(REVISION)
            .or(proxy.labels.get(REVISION)),
    );
    let own: Vec<&Pod> = istiods
        .iter()
        .copied()
        .filter(|i| revision(i.labels.get(REVISION)) == wanted)
        .collect();
    let hash = proxy_id
        .bytes()
        .fold(0u64, |h, b| h.wrapping_mul(31).wrapping_add(u64::from(b)));
    let i = (hash % own.len().max(1) as u64) as usize;
    own.get(i).map_or("", |p| p.name.as_str())
}

/// One pod: its sync diff.
fn one(world: &World, f: &Flags, target: &str) -> Result<String, String> {
    let ns = f.namespace.clone().unwrap_or_else(|| "default".into());
    let (name, ns, pod) = envoy::resolve(world, target, &ns)?;
    let ztunnel = match pod {
        Some(id) => is_ztunnel(world.cluster.pod(id)),
        None => name.starts_with("ztunnel"),
    };
    if ztunnel {
        return Ok(format!(
            "Sync diff is not available for ztunnel pod {name}.{ns}\n"
        ));
    }
    envoy::reachability(world, pod).map_err(|why| {
        format!(
            "could not contact sidecar: {}",
            envoy::unreachable_message(&why, &name, &ns, "config_dump")
        )
    })?;
    istiods(world, &f.istio_namespace)?;
    Ok("Clusters Match\nListeners Match\nRoutes Match\n".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::ApiCluster;
    use crate::dataplane::xds::OutboundPolicy;
    use crate::scenario::{Manifest, ManifestSource};
    use test_case::test_case;

    fn args(line: &str) -> Vec<String> {
        line.split_whitespace().map(String::from).collect()
    }

    /// (stdout, stderr, code).
    fn text(out: Exec) -> (String, String, i32) {
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.code,
        )
    }

    /// Bookinfo in `default` with the default profile (istiod and the
    /// ingress gateway), plus a pod outside the mesh.
    fn bookinfo() -> World {
        let manifests = [
            ("manifests/course/namespace-default-injected.yaml", None),
            ("manifests/bookinfo/bookinfo.yaml", Some("default")),
            ("manifests/course/outside-mesh-sleep.yaml", None),
        ]
        .map(|(f, ns)| Manifest {
            source: ManifestSource::File(f.into()),
            namespace: ns.map(String::from),
        });
        match crate::world::probe::world_from(manifests.to_vec(), &[], 3, OutboundPolicy::AllowAny)
        {
            Ok((w, _, _)) => w,
            Err(d) => panic!("{d:?}"),
        }
    }

    fn istiod_name(w: &World) -> String {
        istiods(w, "istio-system").expect("istiod runs")[0]
            .name
            .clone()
    }

    #[test]
    fn flags_parse_like_cobra() {
        let f = parse(&args("-n bookinfo -o json --istioNamespace=mesh")).unwrap();
        assert_eq!(f.namespace.as_deref(), Some("bookinfo"));
        assert_eq!(f.istio_namespace, "mesh");
        assert_eq!(
            parse(&args("--bogus")).unwrap_err(),
            "unknown flag: --bogus"
        );
    }

    #[test]
    fn every_envoy_istiod_serves_is_a_row() {
        let mut w = bookinfo();
        let (out, err, code) = text(run(&mut w, &args("")));
        assert_eq!(code, 0, "{err}");
        let istiod = istiod_name(&w);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(
            lines[0],
            "NAME                                                   CLUSTER        ISTIOD                      VERSION     SUBSCRIBED TYPES"
        );
        // Six Bookinfo sidecars and the gateway; not the sleep pod.
        assert_eq!(lines.len(), 8, "{out}");
        for l in &lines[1..] {
            let cells: Vec<&str> = l
                .split("     ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect();
            assert_eq!(
                cells[1..],
                [
                    "Kubernetes",
                    istiod.as_str(),
                    "1.27.9",
                    "4 (CDS,LDS,EDS,RDS)"
                ],
                "{l}"
            );
        }
        assert!(lines[1].starts_with("details-v1-"), "sorted by name: {out}");
        assert!(
            lines
                .iter()
                .any(|l| l.starts_with("istio-ingressgateway-") && l.contains(".istio-system "))
        );
        assert!(!out.contains("sleep"));
    }

    #[test]
    fn a_namespace_narrows_the_rows() {
        let mut w = bookinfo();
        let (out, _, _) = text(run(&mut w, &args("-n istio-system")));
        assert_eq!(out.lines().count(), 2, "{out}");
        assert!(
            out.lines()
                .nth(1)
                .is_some_and(|l| l.starts_with("istio-ingressgateway-"))
        );
    }

    #[test_case("deploy/productpage-v1", "Clusters Match\nListeners Match\nRoutes Match\n", "", 0; "a sidecar")]
    #[test_case("sleep.outside-mesh", "", "^Error: could not contact sidecar: failure running port forward process: Get \"http://localhost:\\d+/config_dump\": EOF\n$", 1; "no sidecar")]
    #[test_case("nosuch", "", "^Error: could not contact sidecar: failure running port forward process: failure running port forward process: building port forwarded: failed retrieving: pods \"nosuch\" not found in the \"default\" namespace\n$", 1; "no pod")]
    fn one_pod(target: &str, stdout: &str, stderr: &str, code: i32) {
        let mut w = bookinfo();
        let (out, err, c) = text(run(&mut w, &args(target)));
        assert_eq!((out.as_str(), c), (stdout, code), "{err}");
        let re =
            regex::Regex::new(if stderr.is_empty() { "^$" } else { stderr }).expect("a pattern");
        assert!(re.is_match(&err), "{err}");
    }

    fn api_cluster() -> ApiCluster {
        let nodes = (0..2)
            .map(|i| crate::k8s::NodeSpec {
                name: format!("kind-worker{i}"),
                zone: "zone-a".into(),
                region: "region-1".into(),
            })
            .collect();
        ApiCluster::new("kind", nodes, 1, crate::sim::time::EPOCH_UNIX_SECS).expect("a cluster")
    }

    /// Lab 1, step 3: `istioctl proxy-status` before and after the ambient
    /// profile, whose ztunnels are all istiod serves.
    #[test]
    fn ambient_lists_the_ztunnels() {
        let mut c = api_cluster();
        let (_, err, code) = text(super::super::remote::run(&mut c, &args("proxy-status")));
        assert_eq!(
            (err.as_str(), code),
            ("Error: no running Istio pods in \"istio-system\"\n", 1)
        );
        let install = super::super::remote::run(&mut c, &args("install --set profile=ambient -y"));
        assert_eq!(
            install.code,
            0,
            "{}",
            String::from_utf8_lossy(&install.stderr)
        );
        let (out, err, code) = text(super::super::remote::run(&mut c, &args("ps")));
        assert_eq!(code, 0, "{err}");
        let istiod = istiod_name(&c.world);
        let rows: Vec<&str> = out.lines().skip(1).collect();
        assert_eq!(rows.len(), 2, "one ztunnel per node: {out}");
        for r in rows {
            assert!(
                r.starts_with("ztunnel-") && r.contains(".istio-system "),
                "{r}"
            );
            assert!(
                r.ends_with(&format!(
                    "Kubernetes     {istiod}     1.27.9      2 (WADS,WDS)"
                )),
                "{r}"
            );
        }
        let ztunnel = out
            .lines()
            .nth(1)
            .and_then(|l| l.split(' ').next())
            .unwrap_or_default()
            .to_string();
        let (out, _, code) = text(super::super::remote::run(
            &mut c,
            &args(&format!("x ps {ztunnel}")),
        ));
        assert_eq!(
            (out, code),
            (
                format!("Sync diff is not available for ztunnel pod {ztunnel}\n"),
                0
            )
        );
    }
}
