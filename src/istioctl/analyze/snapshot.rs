//! What the analyzers read: the cluster as istioctl's analysis sources
//! list it (`local/istiod_analyze.go`), and the lookups Istio's analyzer
//! utilities (`analyzers/util`) build over it.

use std::collections::BTreeMap;

use crate::config::kinds::Body;
use crate::config::{Object, networking};
use crate::k8s::cluster::{Namespace, Pod, Service};
use crate::world::World;

use super::message::Origin;

/// `inject.IgnoredNamespaces`: istioctl lists Namespaces, Services, Pods
/// and Deployments with field selectors that leave these out.
const IGNORED_NAMESPACES: [&str; 4] = [
    "kube-system",
    "kube-public",
    "kube-node-lease",
    "local-path-storage",
];

/// `constants.IstioSystemNamespace`, also the mesh config's root namespace.
pub const ISTIO_SYSTEM: &str = "istio-system";

fn listed(ns: &str) -> bool {
    !IGNORED_NAMESPACES.contains(&ns)
}

pub struct Snapshot<'w> {
    pub namespaces: Vec<(&'w str, &'w Namespace)>,
    /// Live pods (Pending, Running or Terminating), in creation order.
    pub pods: Vec<&'w Pod>,
    pub services: Vec<&'w Service>,
    /// istiod's configuration: Istio and Gateway API objects.
    pub objects: Vec<&'w Object>,
    world: &'w World,
}

impl<'w> Snapshot<'w> {
    pub fn new(world: &'w World) -> Snapshot<'w> {
        let c = &world.cluster;
        Snapshot {
            namespaces: c
                .namespaces
                .iter()
                .filter(|(n, _)| listed(n))
                .map(|(n, ns)| (n.as_str(), ns))
                .collect(),
            pods: c.live_pods().filter(|p| listed(&p.namespace)).collect(),
            services: c
                .services
                .iter()
                .filter(|s| !s.deleted && listed(&s.namespace))
                .collect(),
            objects: world.mesh.desired.iter().collect(),
            world,
        }
    }

    pub fn namespace(&self, name: &str) -> Option<&'w Namespace> {
        self.namespaces
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, ns)| *ns)
    }

    pub fn secret_exists(&self, namespace: &str, name: &str) -> bool {
        self.world
            .cluster
            .secrets
            .contains_key(&(namespace.to_string(), name.to_string()))
    }

    /// The objects whose body `pick` accepts, with their typed body.
    pub fn each<T>(&self, pick: fn(&Body) -> Option<&T>) -> Vec<(&'w Object, &'w T)> {
        self.objects
            .iter()
            .filter_map(|o| pick(&o.body).map(|b| (*o, b)))
            .collect()
    }

    pub fn virtual_services(&self) -> Vec<(&'w Object, &'w networking::VirtualService)> {
        self.each(|b| match b {
            Body::VirtualService(vs) => Some(vs),
            _ => None,
        })
    }

    pub fn destination_rules(&self) -> Vec<(&'w Object, &'w networking::DestinationRule)> {
        self.each(|b| match b {
            Body::DestinationRule(dr) => Some(dr),
            _ => None,
        })
    }

    /// Istio's Gateways (not Gateway API ones, which share the kind name).
    pub fn gateways(&self) -> Vec<(&'w Object, &'w networking::Gateway)> {
        self.each(|b| match b {
            Body::Gateway(gw) => Some(gw),
            _ => None,
        })
    }
}

/// The origin of a message about `obj`.
pub fn origin(obj: &Object) -> Origin {
    Origin::new(obj.kind(), obj.namespace(), obj.name()).annotated(&obj.meta.annotations)
}

/// `resource.FullName.String()`: `ns/name`.
pub fn full_name(obj: &Object) -> String {
    format!("{}/{}", obj.namespace(), obj.name())
}

/// `labels.SelectorFromSet(set).String()`: `k=v` pairs sorted by key.
pub fn selector_string(set: &BTreeMap<String, String>) -> String {
    let pairs: Vec<String> = set.iter().map(|(k, v)| format!("{k}={v}")).collect();
    pairs.join(",")
}

/// `labels.SelectorFromSet(set).Matches(labels)`: an empty set selects
/// everything.
pub fn selects(set: &BTreeMap<String, String>, labels: &BTreeMap<String, String>) -> bool {
    set.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// `host.Name.Matches`: wildcards match by suffix, in either direction.
pub fn host_matches(a: &str, b: &str) -> bool {
    match (a.strip_prefix('*'), b.strip_prefix('*')) {
        (Some(a1), Some(b1)) if a.len() < b.len() => b1.ends_with(a1),
        (Some(a1), Some(b1)) => a1.ends_with(b1),
        (Some(a1), None) => b.ends_with(a1),
        (None, Some(b1)) => a.ends_with(b1),
        (None, None) => a == b,
    }
}

/// `util.ConvertHostToFQDN`: a host without a dot (and no wildcard) is a
/// short Service name in `ns`. A dotted short name (`reviews.default`) is
/// left as it is, which is why the analyzers do not find it.
pub fn host_to_fqdn(ns: &str, host: &str) -> String {
    if !host.starts_with('*') && !host.contains('.') {
        format!("{host}.{ns}.svc.cluster.local")
    } else {
        host.to_string()
    }
}

/// `util.GetResourceNameFromHost`: (namespace, name) of a Service FQDN
/// (`^(.+)\.(.+)\.svc\.cluster\.local$`, greedy), else (`ns`, host).
pub fn resource_name_from_host(ns: &str, host: &str) -> (String, String) {
    host.strip_suffix(".svc.cluster.local")
        .and_then(|rest| rest.rsplit_once('.'))
        .filter(|(name, ns)| !name.is_empty() && !ns.is_empty())
        .map_or_else(
            || (ns.to_string(), host.to_string()),
            |(name, ns)| (ns.to_string(), name.to_string()),
        )
}

/// `resource.NewShortOrFullName`: `ns/name`, or `name` in `ns`.
pub fn short_or_full_name(ns: &str, name: &str) -> (String, String) {
    match name.split_once('/') {
        Some((n, rest)) => (n.to_string(), rest.to_string()),
        None => (ns.to_string(), name.to_string()),
    }
}

/// A destination as `util.InitServiceEntryHostMap` records it: a
/// ServiceEntry, or a Service turned into one (ports only).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Target {
    pub ports: Vec<u32>,
    pub workload_selector: BTreeMap<String, String>,
}

/// Hosts keyed `scope/fqdn`, scope `*` or a namespace, as
/// `InitServiceEntryHostMap` keys them. ServiceEntries first, then
/// Services, a later entry replacing an earlier one under the same key.
pub fn host_map(s: &Snapshot) -> BTreeMap<String, Target> {
    let mut map = BTreeMap::new();
    let entries = s.each(|b| match b {
        Body::ServiceEntry(se) => Some(se),
        _ => None,
    });
    for (obj, se) in entries {
        add_service_entry(&mut map, obj.namespace(), se);
    }
    for svc in &s.services {
        let target = Target {
            ports: svc.ports.iter().map(|p| u32::from(p.port)).collect(),
            workload_selector: BTreeMap::new(),
        };
        let export = svc
            .annotations
            .get("networking.istio.io/exportTo")
            .map(String::as_str)
            .unwrap_or("");
        for scope in visible_namespaces(export, &svc.namespace) {
            let key = scoped_fqdn(&scope, &svc.namespace, &svc.name);
            map.insert(key, target.clone());
        }
    }
    map
}

fn add_service_entry(map: &mut BTreeMap<String, Target>, ns: &str, se: &networking::ServiceEntry) {
    let target = Target {
        ports: se.ports.iter().map(|p| p.number.unwrap_or(0)).collect(),
        workload_selector: se
            .workload_selector
            .as_ref()
            .map(|w| w.labels.clone())
            .unwrap_or_default(),
    };
    // Once a host met `*` in `exportTo`, later hosts are only recorded as
    // exported to all, as Istio's loop does.
    let mut exports_to_all = false;
    for host in &se.hosts {
        if se.export_to.is_empty() || exports_to_all {
            map.insert(scoped_fqdn("*", ns, host), target.clone());
            continue;
        }
        for scope in &se.export_to {
            let scope = if scope == "." { ns } else { scope.as_str() };
            map.insert(scoped_fqdn(scope, ns, host), target.clone());
            if scope == "*" {
                exports_to_all = true;
                break;
            }
        }
    }
}

/// `getVisibleNamespacesFromExportToAnno`: a Service is visible
/// everywhere unless `networking.istio.io/exportTo` says otherwise.
fn visible_namespaces(annotation: &str, ns: &str) -> Vec<String> {
    if annotation.is_empty() {
        return vec!["*".to_string()];
    }
    annotation
        .split(',')
        .map(str::trim)
        .map(|e| if e == "." { ns } else { e }.to_string())
        .collect()
}

/// `util.NewScopedFqdn`.
pub fn scoped_fqdn(scope: &str, ns: &str, host: &str) -> String {
    format!("{scope}/{}", host_to_fqdn(ns, host))
}

/// `util.GetDestinationHost`: the ServiceEntry or Service that `host`,
/// written in a resource of namespace `ns` exported to `export_to`, names.
pub fn destination_host<'m>(
    map: &'m BTreeMap<String, Target>,
    ns: &str,
    export_to: &[String],
    host: &str,
) -> Option<&'m Target> {
    if let Some(t) = map.get(&scoped_fqdn("*", ns, host)) {
        return Some(t);
    }
    let scopes: Vec<&str> = if export_to.is_empty() {
        vec![ns]
    } else {
        export_to
            .iter()
            .map(|e| if e == "." { ns } else { e.as_str() })
            .collect()
    };
    if let Some(t) = scopes
        .iter()
        .find_map(|scope| map.get(&scoped_fqdn(scope, ns, host)))
    {
        return Some(t);
    }
    // Wildcard ServiceEntry hosts visible here cover `host` by suffix.
    let bare = host.strip_prefix('*').unwrap_or(host);
    map.iter().find_map(|(key, t)| {
        let (scope, fqdn) = key.split_once('/')?;
        let suffix = fqdn.strip_prefix('*')?;
        ((scope == "*" || scope == ns) && bare.ends_with(suffix)).then_some(t)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("reviews", "default", ("default", "reviews"); "short name")]
    #[test_case("reviews.prod.svc.cluster.local", "default", ("prod", "reviews"); "fqdn")]
    #[test_case("a.b.c.svc.cluster.local", "default", ("c", "a.b"); "greedy name")]
    #[test_case("reviews.prod", "default", ("default", "reviews.prod"); "dotted short name stays")]
    fn resource_names_from_hosts(host: &str, ns: &str, want: (&str, &str)) {
        let (n, name) = resource_name_from_host(ns, host);
        assert_eq!((n.as_str(), name.as_str()), want);
    }

    #[test_case("*.com", "foo.com", true; "wildcard covers host")]
    #[test_case("foo.com", "*.com", true; "host under wildcard")]
    #[test_case("*.foo.com", "*.com", true; "narrower wildcard")]
    #[test_case("*", "anything.example", true; "star")]
    #[test_case("a.com", "b.com", false; "different hosts")]
    fn hosts_match_as_istio_does(a: &str, b: &str, want: bool) {
        assert_eq!(host_matches(a, b), want);
    }
}
