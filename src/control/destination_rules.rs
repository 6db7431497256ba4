//! Which DestinationRule a proxy uses for a host, as istiod 1.27 picks it.
//!
//! istiod indexes the rules three ways (`PushContext.setDestinationRules`,
//! `pilot/pkg/model/push_context.go`): per namespace, the rules that
//! namespace's own proxies see (`namespaceLocal`: every rule exported to
//! its own namespace); per namespace, the rules exported beyond it
//! (`exportedByNamespace`: all but the private-only ones); and the root
//! namespace's private-only rules. Rules for one host in one index are
//! consolidated (`mergeDestinationRule`): same `exportTo`, same or no
//! selector → subsets concatenated, the first top-level policy kept;
//! otherwise kept side by side.
//!
//! A proxy looks (`PushContext.destinationRule`) in its own namespace's
//! local index (a root-namespace proxy: the root's private rules only, so
//! a mesh-wide `*.local` rule does not hide the service's own rule from a
//! gateway), then in the service's namespace's exported rules, then in the
//! root namespace's exported rules; in each, the exact host before the
//! most specific wildcard, and the first index with a host match decides
//! (the service namespace's only if one survives the client's `exportTo`
//! filter). Of the consolidated rules found, the proxy takes the first
//! whose workload selector (in its own namespace) matches it, else the
//! last without a selector (`SidecarScope.DestinationRule`).

use std::collections::{BTreeMap, BTreeSet};

use crate::config::networking::destination_rule::{DestinationRule, Subset, TrafficPolicy};
use crate::config::{Body, Object};

use super::registry::{host_matches, resolve_short_name};
use super::store::ConfigStore;

/// Rules for one host consolidated into one, as a proxy gets it.
#[derive(Clone, Debug)]
pub struct MergedRule {
    /// `ns/name` of the first rule merged.
    pub key: String,
    pub policy: Option<TrafficPolicy>,
    pub subsets: Vec<Subset>,
    namespace: String,
    export_to: BTreeSet<String>,
    selector: Option<BTreeMap<String, String>>,
}

/// One index: consolidated rules by their (FQDN) host.
#[derive(Default)]
struct Index {
    by_host: BTreeMap<String, Vec<MergedRule>>,
}

impl Index {
    /// `mergeDestinationRule` with enhanced merging (the 1.27 default).
    fn merge(
        &mut self,
        obj: &Object,
        dr: &DestinationRule,
        host: &str,
        export_to: &BTreeSet<String>,
    ) {
        let selector = selector_of(dr);
        let list = self.by_host.entry(host.to_string()).or_default();
        let mut separately = true;
        for existing in list.iter_mut() {
            if *export_to == existing.export_to {
                separately = false;
            } else if existing.export_to.is_empty() || !export_to.is_superset(&existing.export_to) {
                separately = true;
                continue;
            } else {
                separately = true;
            }
            match (&selector, &existing.selector) {
                (Some(a), Some(b)) if a != b => {
                    separately = true;
                    continue;
                }
                (None, None) | (Some(_), Some(_)) => separately = false,
                _ => {}
            }
            for s in &dr.subsets {
                if !existing.subsets.iter().any(|m| m.name() == s.name()) {
                    existing.subsets.push(s.clone());
                }
            }
            if existing.policy.is_none() {
                existing.policy = dr.traffic_policy.clone();
            }
        }
        if separately {
            list.push(MergedRule {
                key: format!("{}/{}", obj.namespace(), obj.name()),
                policy: dr.traffic_policy.clone(),
                subsets: dr.subsets.clone(),
                namespace: obj.namespace().to_string(),
                export_to: export_to.clone(),
                selector,
            });
        }
    }

    /// `MostSpecificHostMatch`: the exact host, else the longest wildcard
    /// covering it.
    fn lookup(&self, host: &str) -> Option<&[MergedRule]> {
        if let Some(list) = self.by_host.get(host) {
            return Some(list);
        }
        self.by_host
            .iter()
            .filter(|(h, _)| h.starts_with('*') && host_matches(h, host))
            .max_by_key(|(h, _)| h.len())
            .map(|(_, list)| list.as_slice())
    }
}

fn selector_of(dr: &DestinationRule) -> Option<BTreeMap<String, String>> {
    dr.workload_selector
        .as_ref()
        .map(|s| s.match_labels.clone())
}

/// The three indexes of every DestinationRule in the store.
pub struct DestinationRules {
    local: BTreeMap<String, Index>,
    exported: BTreeMap<String, Index>,
    root_private: Index,
    root: String,
}

impl DestinationRules {
    pub fn build(store: &ConfigStore, root: &str) -> DestinationRules {
        let mut rules: Vec<(&Object, &DestinationRule)> = store
            .of_kind("DestinationRule")
            .into_iter()
            .filter_map(|o| match &o.body {
                Body::DestinationRule(dr) => Some((o, dr)),
                _ => None,
            })
            .collect();
        // `sortConfigBySelectorAndCreationTime`: selector rules first,
        // each group oldest first (the store's order; the sort is stable).
        rules.sort_by_key(|(_, dr)| dr.workload_selector.is_none());
        let mut out = DestinationRules {
            local: BTreeMap::new(),
            exported: BTreeMap::new(),
            root_private: Index::default(),
            root: root.to_string(),
        };
        for (obj, dr) in rules {
            let ns = obj.namespace();
            let host = resolve_short_name(dr.host(), ns);
            // Rules with a selector are never exported.
            let export_to: BTreeSet<String> = if dr.workload_selector.is_some() {
                [".".to_string()].into()
            } else {
                dr.export_to.iter().cloned().collect()
            };
            let to_own = export_to.is_empty()
                || export_to.contains("*")
                || export_to.contains(".")
                || export_to.contains(ns);
            if to_own {
                out.local
                    .entry(ns.to_string())
                    .or_default()
                    .merge(obj, dr, &host, &export_to);
            }
            let private_only =
                export_to.len() == 1 && (export_to.contains(".") || export_to.contains(ns));
            if !private_only {
                out.exported
                    .entry(ns.to_string())
                    .or_default()
                    .merge(obj, dr, &host, &export_to);
            } else if ns == root {
                out.root_private.merge(obj, dr, &host, &export_to);
            }
        }
        out
    }

    /// The rule a proxy in `proxy_ns` with `labels` uses for `host`, a
    /// service of `service_ns` (when the registry knows it).
    pub fn for_proxy(
        &self,
        proxy_ns: &str,
        labels: &BTreeMap<String, String>,
        host: &str,
        service_ns: Option<&str>,
    ) -> Option<MergedRule> {
        let found = self.candidates(proxy_ns, host, service_ns)?;
        // `SidecarScope.DestinationRule`.
        let mut catch_all = None;
        for r in &found {
            match &r.selector {
                None => catch_all = Some(r),
                Some(sel)
                    if r.namespace == proxy_ns
                        && sel.iter().all(|(k, v)| labels.get(k) == Some(v)) =>
                {
                    return Some(r.clone());
                }
                Some(_) => {}
            }
        }
        catch_all.cloned()
    }

    fn candidates(
        &self,
        proxy_ns: &str,
        host: &str,
        service_ns: Option<&str>,
    ) -> Option<Vec<MergedRule>> {
        let own = if proxy_ns == self.root {
            Some(&self.root_private)
        } else {
            self.local.get(proxy_ns)
        };
        if let Some(list) = own.and_then(|i| i.lookup(host)) {
            return Some(list.to_vec());
        }
        let exported_from = |ns: &str| -> Option<Vec<MergedRule>> {
            let list = self.exported.get(ns)?.lookup(host)?;
            let out: Vec<MergedRule> = list
                .iter()
                .filter(|r| {
                    r.export_to.is_empty()
                        || r.export_to.contains("*")
                        || r.export_to.contains(proxy_ns)
                })
                .cloned()
                .collect();
            (!out.is_empty()).then_some(out)
        };
        service_ns
            .and_then(exported_from)
            .or_else(|| exported_from(&self.root))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimTime;

    const REVIEWS: &str = "reviews.default.svc.cluster.local";

    fn rules(yaml: &str) -> DestinationRules {
        let loaded = crate::config::load_str("dr.yaml", yaml, None);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        let mut store = ConfigStore::default();
        for o in loaded.objects {
            store.apply(o, SimTime::ZERO);
        }
        DestinationRules::build(&store, "istio-system")
    }

    fn dr(ns: &str, name: &str, host: &str, extra: &str) -> String {
        format!(
            "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  host: {host}\n{extra}"
        )
    }

    fn subsets(names: &[&str]) -> String {
        let list: Vec<String> = names
            .iter()
            .map(|n| format!("{{name: {n}, labels: {{version: {n}}}}}"))
            .collect();
        format!("  subsets: [{}]\n", list.join(", "))
    }

    fn pick(r: &DestinationRules, proxy_ns: &str, labels: &[(&str, &str)]) -> Option<String> {
        let labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        r.for_proxy(proxy_ns, &labels, REVIEWS, Some("default"))
            .map(|m| {
                let names: Vec<&str> = m.subsets.iter().map(|s| s.name()).collect();
                format!("{} {}", m.key, names.join(","))
            })
    }

    /// A gateway (root-namespace proxy) sees only the root's *private*
    /// rules first, so a public mesh-wide `*.local` rule there does not
    /// hide the service's own rule (push_context.go `destinationRule`;
    /// `TestSetDestinationRuleWithExportTo` "dr in the svc ns takes effect
    /// on proxy in root ns").
    #[test]
    fn a_root_proxy_prefers_the_service_namespace_to_public_root_rules() {
        let r = rules(&format!(
            "{}{}",
            dr("default", "reviews", "reviews", &subsets(&["v1", "v2"])),
            dr(
                "istio-system",
                "default",
                "'*.local'",
                "  trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}\n"
            ),
        ));
        assert_eq!(
            pick(&r, "istio-system", &[]).as_deref(),
            Some("default/reviews v1,v2")
        );
        // A client namespace without rules of its own also gets the
        // service's, before the root's.
        assert_eq!(
            pick(&r, "other", &[]).as_deref(),
            Some("default/reviews v1,v2")
        );
    }

    /// A private root rule does apply to root-namespace proxies first.
    #[test]
    fn a_private_root_rule_applies_to_root_proxies() {
        let r = rules(&format!(
            "{}{}",
            dr("default", "reviews", "reviews", &subsets(&["v1"])),
            dr(
                "istio-system",
                "gw-only",
                REVIEWS,
                &format!("  exportTo: ['.']\n{}", subsets(&["v9"]))
            ),
        ));
        assert_eq!(
            pick(&r, "istio-system", &[]).as_deref(),
            Some("istio-system/gw-only v9")
        );
        assert_eq!(
            pick(&r, "default", &[]).as_deref(),
            Some("default/reviews v1")
        );
    }

    /// A selector rule in the client's namespace ends the search there
    /// even when its selector does not match: the proxy then has no rule
    /// (`SidecarScope.DestinationRule` finds no selector match and no
    /// catch-all in the namespace-local list).
    #[test]
    fn a_non_matching_selector_rule_hides_other_namespaces_rules() {
        let r = rules(&format!(
            "{}{}",
            dr(
                "default",
                "reviews",
                "reviews",
                &subsets(&["v1", "v2", "v3"])
            ),
            dr(
                "client",
                "sel",
                REVIEWS,
                &format!(
                    "  workloadSelector: {{matchLabels: {{app: other}}}}\n{}",
                    subsets(&["v1"])
                )
            ),
        ));
        assert_eq!(pick(&r, "client", &[("app", "curl")]), None);
        assert_eq!(
            pick(&r, "client", &[("app", "other")]).as_deref(),
            Some("client/sel v1")
        );
    }

    /// A rule exported only to another namespace is not in its own
    /// namespace's local index (`setDestinationRules`).
    #[test]
    fn a_rule_not_exported_to_its_own_namespace_does_not_apply_there() {
        let r = rules(&dr(
            "default",
            "reviews",
            "reviews",
            &format!("  exportTo: [istio-system]\n{}", subsets(&["v2"])),
        ));
        assert_eq!(pick(&r, "default", &[]), None);
        assert_eq!(
            pick(&r, "istio-system", &[]).as_deref(),
            Some("default/reviews v2")
        );
    }

    /// Rules for one host with the same `exportTo` merge (subsets
    /// concatenated, the first policy kept); with different `exportTo`
    /// they stay apart and the last without a selector is used
    /// (`mergeDestinationRule` with enhanced merging).
    #[test]
    fn rules_merge_only_with_the_same_export_to() {
        let same = rules(&format!(
            "{}{}",
            dr("default", "a", "reviews", &subsets(&["v1"])),
            dr("default", "b", "reviews", &subsets(&["v2", "v1"])),
        ));
        assert_eq!(
            pick(&same, "default", &[]).as_deref(),
            Some("default/a v1,v2")
        );
        let apart = rules(&format!(
            "{}{}",
            dr("default", "a", "reviews", &subsets(&["v1"])),
            dr(
                "default",
                "b",
                "reviews",
                &format!("  exportTo: ['*']\n{}", subsets(&["v2"]))
            ),
        ));
        assert_eq!(
            pick(&apart, "default", &[]).as_deref(),
            Some("default/b v2")
        );
    }

    /// The exact host beats a wildcard; the longest wildcard beats a
    /// shorter one (`MostSpecificHostMatch`).
    #[test]
    fn the_most_specific_host_wins() {
        let r = rules(&format!(
            "{}{}{}",
            dr("default", "all", "'*.local'", &subsets(&["a"])),
            dr("default", "svc", "'*.svc.cluster.local'", &subsets(&["b"])),
            dr("default", "exact", "reviews", &subsets(&["c"])),
        ));
        assert_eq!(pick(&r, "default", &[]).as_deref(), Some("default/exact c"));
        let r = rules(&format!(
            "{}{}",
            dr("default", "all", "'*.local'", &subsets(&["a"])),
            dr("default", "svc", "'*.svc.cluster.local'", &subsets(&["b"])),
        ));
        assert_eq!(pick(&r, "default", &[]).as_deref(), Some("default/svc b"));
    }
}
