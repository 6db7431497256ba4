//! Istio 1.27's analyzers that look at pods and namespaces: DestinationRule
//! subsets (`destinationrule/subset.go`), sidecar injection
//! (`injection/injection.go`), policies' workload selectors
//! (`authz/authorizationpolicies.go`, `sidecar/selector.go`,
//! `telemetry/selector.go`).

use std::collections::BTreeMap;

use crate::config::kinds::Body;
use crate::config::{Object, networking, security, telemetry};
use crate::k8s::cluster::Pod;

use super::message::{self as msg, Message, Origin};
use super::snapshot::{ISTIO_SYSTEM, Snapshot, destination_host, origin, selector_string, selects};

pub fn run(s: &Snapshot, out: &mut Vec<Message>) {
    destination_rule_subsets(s, out);
    injection(s, out);
    authorization_policies(s, out);
    sidecar_selectors(s, out);
    telemetry_selectors(s, out);
}

/// `PodNotSelectedAnalyzer`: a DestinationRule's host must be a known
/// service (IST0174), and each subset's labels (with the ServiceEntry's
/// workload selector) must select some pod — in any namespace, as Istio
/// checks (IST0173).
fn destination_rule_subsets(s: &Snapshot, out: &mut Vec<Message>) {
    let hosts = super::snapshot::host_map(s);
    for (obj, dr) in s.destination_rules() {
        let o = origin(obj);
        let host = dr.host.as_deref().unwrap_or("");
        let Some(target) = destination_host(&hosts, obj.namespace(), &dr.export_to, host) else {
            out.push(msg::unknown_destination_rule_host(&o, host));
            continue;
        };
        for subset in &dr.subsets {
            let mut selector = target.workload_selector.clone();
            selector.extend(subset.labels.clone());
            if !s.pods.iter().any(|p| selects(&selector, &p.labels)) {
                out.push(msg::subset_not_select_pods(&o, subset.name()));
            }
        }
    }
}

const INJECTION_LABEL: &str = "istio-injection";
const REVISION_LABEL: &str = "istio.io/rev";
const DATAPLANE_MODE_LABEL: &str = "istio.io/dataplane-mode";

/// `injection.Analyzer`: namespaces other than istio-system and ambient
/// ones should say whether they want sidecars (IST0102), with one kind of
/// label (IST0123); pods of injected namespaces should have their proxy
/// (IST0103). meshsim installs no `istio-sidecar-injector` ConfigMap, so
/// `enableNamespacesByDefault` is its default, false (no IST0148).
fn injection(s: &Snapshot, out: &mut Vec<Message>) {
    let mut injected = Vec::new();
    for (name, ns) in &s.namespaces {
        if *name == ISTIO_SYSTEM {
            continue;
        }
        let o = Origin::new("Namespace", "", name).annotated(&ns.annotations);
        let injection = ns.labels.get(INJECTION_LABEL);
        let mut labels: Vec<String> = injection
            .map(|v| format!("{INJECTION_LABEL}={v}"))
            .into_iter()
            .collect();
        for l in [REVISION_LABEL, DATAPLANE_MODE_LABEL] {
            if let Some(v) = ns.labels.get(l)
                && injection.is_none_or(|v| v == "enabled")
            {
                labels.push(format!("{l}={v}"));
            }
        }
        if labels.len() > 1 {
            out.push(msg::namespace_multiple_injection_labels(&o, &labels));
        }
        if ns
            .labels
            .get(DATAPLANE_MODE_LABEL)
            .is_some_and(|v| v == "ambient")
        {
            continue;
        }
        let value = injection.map_or("", String::as_str);
        if value.is_empty() && !ns.labels.contains_key(REVISION_LABEL) {
            out.push(msg::namespace_not_injected(&o, name));
        } else if value == "enabled" {
            injected.push(*name);
        }
    }
    for pod in s
        .pods
        .iter()
        .filter(|p| injected.contains(&p.namespace.as_str()))
    {
        let opt = pod
            .labels
            .get("sidecar.istio.io/inject")
            .or_else(|| pod.annotations.get("sidecar.istio.io/inject"));
        let opted_out = opt.is_some_and(|v| v.eq_ignore_ascii_case("false"));
        let host_network = pod.template.spec.host_network == Some(true);
        if !opted_out && !host_network && !has_proxy(pod) {
            let o = Origin::new("Pod", &pod.namespace, &pod.name).annotated(&pod.annotations);
            out.push(msg::pod_missing_proxy(&o, &pod.key()));
        }
    }
}

/// Whether the pod runs an `istio-proxy` container: injected, or a
/// gateway deployment that names one.
fn has_proxy(pod: &Pod) -> bool {
    let spec = &pod.template.spec;
    pod.sidecar
        || spec
            .containers
            .iter()
            .chain(&spec.init_containers)
            .any(|c| c.name == "istio-proxy" && !c.image.is_empty())
}

/// `util.PodInMesh`: a proxy, else the pod's `sidecar.istio.io/inject`
/// label or annotation, else its namespace's `istio-injection=enabled`.
fn pod_in_mesh(s: &Snapshot, pod: &Pod) -> bool {
    if has_proxy(pod) {
        return true;
    }
    let key = "sidecar.istio.io/inject";
    if let Some(v) = pod.labels.get(key).or_else(|| pod.annotations.get(key)) {
        return v == "true";
    }
    s.namespace(&pod.namespace).is_some_and(|ns| {
        ns.labels
            .get(INJECTION_LABEL)
            .is_some_and(|v| v == "enabled")
    })
}

/// `util.PodInAmbientMode` reads the `ambient.istio.io/redirection:
/// enabled` annotation istio-cni puts on ambient pods; meshsim's pods do
/// not carry it, so it is derived the way the CNI decides: a pod without
/// a sidecar labelled `ambient` itself, or in an ambient namespace without
/// opting out (`none`) — [`crate::world::World::in_ambient`]'s rule.
fn pod_in_ambient(s: &Snapshot, pod: &Pod) -> bool {
    let annotated = pod
        .annotations
        .get("ambient.istio.io/redirection")
        .is_some_and(|v| v == "enabled");
    let enrolled = match pod.labels.get(DATAPLANE_MODE_LABEL).map(String::as_str) {
        Some("ambient") => true,
        Some("none") => false,
        _ => s.namespace(&pod.namespace).is_some_and(|ns| {
            ns.labels
                .get(DATAPLANE_MODE_LABEL)
                .is_some_and(|v| v == "ambient")
        }),
    };
    annotated || (enrolled && !pod.sidecar)
}

/// `AuthorizationPoliciesAnalyzer`: a policy must select some mesh
/// workload (IST0127; in the root namespace only a selector is checked,
/// against every namespace), and the namespaces its rules name must
/// exist (IST0101 namespace).
fn authorization_policies(s: &Snapshot, out: &mut Vec<Message>) {
    let mut mesh_pods: BTreeMap<&str, Vec<&Pod>> = BTreeMap::new();
    for pod in &s.pods {
        let entry = mesh_pods.entry(pod.namespace.as_str()).or_default();
        if pod_in_mesh(s, pod) || pod_in_ambient(s, pod) {
            entry.push(pod);
        }
    }
    let policies = s.each(|b| match b {
        Body::AuthorizationPolicy(ap) => Some(ap),
        _ => None,
    });
    for (obj, ap) in policies {
        no_matching_workloads(obj, ap, &mesh_pods, out);
        unknown_namespaces(s, obj, ap, out);
    }
}

fn no_matching_workloads(
    obj: &Object,
    ap: &security::AuthorizationPolicy,
    mesh_pods: &BTreeMap<&str, Vec<&Pod>>,
    out: &mut Vec<Message>,
) {
    let o = origin(obj);
    let ns = obj.namespace();
    let any = |pods: &[&Pod], sel: &BTreeMap<String, String>| {
        pods.iter().any(|p| selects(sel, &p.labels))
    };
    let in_ns = mesh_pods.get(ns).map_or(&[][..], Vec::as_slice);
    let matched = match &ap.selector {
        Some(sel) if ns == ISTIO_SYSTEM => {
            mesh_pods.values().any(|pods| any(pods, &sel.match_labels))
        }
        None if ns == ISTIO_SYSTEM => true,
        Some(sel) => any(in_ns, &sel.match_labels),
        None => !in_ns.is_empty(),
    };
    if !matched {
        let labels = ap
            .selector
            .as_ref()
            .map(|sel| selector_string(&sel.match_labels));
        out.push(msg::no_matching_workloads(&o, &labels.unwrap_or_default()));
    }
}

fn unknown_namespaces(
    s: &Snapshot,
    obj: &Object,
    ap: &security::AuthorizationPolicy,
    out: &mut Vec<Message>,
) {
    let o = origin(obj);
    let sources = ap
        .rules
        .iter()
        .flat_map(|r| &r.from)
        .filter_map(|f| f.source.as_ref());
    for src in sources {
        for exp in src.namespaces.iter().chain(&src.not_namespaces) {
            if !s.namespaces.iter().any(|(ns, _)| namespace_match(ns, exp)) {
                out.push(msg::referenced_resource_not_found(&o, "namespace", exp));
            }
        }
    }
}

/// `namespaceMatch`: `*`, a `*suffix`, a `prefix*`, or the name in any case.
fn namespace_match(ns: &str, exp: &str) -> bool {
    if exp == "*" {
        true
    } else if let Some(suffix) = exp.strip_prefix('*') {
        ns.ends_with(suffix)
    } else if let Some(prefix) = exp.strip_suffix('*') {
        ns.starts_with(prefix)
    } else {
        ns.eq_ignore_ascii_case(exp)
    }
}

/// `sidecar.SelectorAnalyzer`: a Sidecar's selector must match a pod of
/// its namespace (IST0101 selector); two Sidecars must not select one pod
/// (IST0110), a namespace has at most one without a selector (IST0111);
/// in ambient mode a Sidecar does nothing (IST0167).
fn sidecar_selectors(s: &Snapshot, out: &mut Vec<Message>) {
    let sidecars = s.each(|b| match b {
        Body::Sidecar(sc) => Some(sc),
        _ => None,
    });
    let mut by_pod: BTreeMap<(&str, &str), (&Pod, Vec<&Object>)> = BTreeMap::new();
    let mut by_ns: BTreeMap<&str, Vec<&Object>> = BTreeMap::new();
    for (obj, sc) in &sidecars {
        let labels = sidecar_labels(sc);
        if labels.is_empty() {
            by_ns.entry(obj.namespace()).or_default().push(obj);
            continue;
        }
        let selected: Vec<&Pod> = s
            .pods
            .iter()
            .filter(|p| p.namespace == obj.namespace() && selects(labels, &p.labels))
            .copied()
            .collect();
        if selected.is_empty() {
            out.push(msg::referenced_resource_not_found(
                &origin(obj),
                "selector",
                &selector_string(labels),
            ));
        }
        for p in selected {
            let entry = by_pod
                .entry((&p.namespace, &p.name))
                .or_insert((p, Vec::new()));
            entry.1.push(obj);
        }
    }
    let mut ineffective = std::collections::BTreeSet::new();
    for ((ns, pod_name), (pod, list)) in &by_pod {
        let ambient = pod_in_ambient(s, pod);
        if list.len() == 1 && !ambient {
            continue;
        }
        let names = sorted_names(list);
        for obj in list {
            if ambient {
                if ineffective.insert(super::snapshot::full_name(obj)) {
                    out.push(msg::ineffective_policy(
                        &origin(obj),
                        "selected workload is in ambient mode, the policy has no impact",
                    ));
                }
                continue;
            }
            out.push(msg::conflicting_sidecar_selectors(
                &origin(obj),
                &names,
                ns,
                pod_name,
            ));
        }
    }
    for (ns, list) in &by_ns {
        let ambient = s.namespace(ns).is_some_and(|n| {
            n.labels.get(INJECTION_LABEL).is_none_or(|v| v != "enabled")
                && n.labels.get(REVISION_LABEL).is_none_or(String::is_empty)
                && n.labels
                    .get(DATAPLANE_MODE_LABEL)
                    .is_some_and(|v| v == "ambient")
        });
        if ambient {
            for obj in list {
                if ineffective.insert(super::snapshot::full_name(obj)) {
                    out.push(msg::ineffective_policy(
                        &origin(obj),
                        "namespace is in ambient mode, the policy has no impact",
                    ));
                }
            }
        } else if list.len() > 1 {
            let names = sorted_names(list);
            for obj in list {
                out.push(msg::multiple_sidecars_without_selectors(
                    &origin(obj),
                    &names,
                    ns,
                ));
            }
        }
    }
}

fn sidecar_labels(sc: &networking::Sidecar) -> &BTreeMap<String, String> {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    sc.workload_selector.as_ref().map_or(&EMPTY, |w| &w.labels)
}

/// `getNames`: the objects' names, sorted.
fn sorted_names(list: &[&Object]) -> Vec<String> {
    let mut names: Vec<String> = list.iter().map(|o| o.name().to_string()).collect();
    names.sort();
    names
}

/// `telemetry.SelectorAnalyzer`: a Telemetry's selector must match a pod
/// of its namespace (IST0101 selector), one pod per Telemetry (IST0159).
fn telemetry_selectors(s: &Snapshot, out: &mut Vec<Message>) {
    let telemetries = s.each(|b| match b {
        Body::Telemetry(t) => Some(t),
        _ => None,
    });
    let mut by_pod: BTreeMap<(&str, &str), Vec<&Object>> = BTreeMap::new();
    for (obj, t) in &telemetries {
        let Some(labels) = telemetry_labels(t) else {
            continue;
        };
        let mut found = false;
        for p in s.pods.iter().filter(|p| p.namespace == obj.namespace()) {
            if selects(labels, &p.labels) {
                found = true;
                by_pod.entry((&p.namespace, &p.name)).or_default().push(obj);
            }
        }
        if !found {
            out.push(msg::referenced_resource_not_found(
                &origin(obj),
                "selector",
                &selector_string(labels),
            ));
        }
    }
    for ((ns, pod), list) in by_pod.iter().filter(|(_, l)| l.len() > 1) {
        let names = sorted_names(list);
        for obj in list {
            out.push(msg::conflicting_telemetry_selectors(
                &origin(obj),
                &names,
                ns,
                pod,
            ));
        }
    }
}

/// A Telemetry's selector labels, when it has any.
fn telemetry_labels(t: &telemetry::Telemetry) -> Option<&BTreeMap<String, String>> {
    t.selector
        .as_ref()
        .map(|s| &s.match_labels)
        .filter(|l| !l.is_empty())
}

#[cfg(test)]
mod tests {
    use super::namespace_match;
    use test_case::test_case;

    #[test_case("prod", "*", true; "star")]
    #[test_case("team-prod", "*prod", true; "suffix")]
    #[test_case("prod-eu", "prod*", true; "prefix")]
    #[test_case("Prod", "prod", true; "any case")]
    #[test_case("dev", "prod", false; "other")]
    fn policy_namespaces_match_as_istio_does(ns: &str, exp: &str, want: bool) {
        assert_eq!(namespace_match(ns, exp), want);
    }
}
