//! Placing pods on nodes. The default kube-scheduler spreads replicas of one
//! workload across nodes and zones (default topology spread constraints)
//! and otherwise prefers the least loaded node; this does the same with a
//! fixed tie-break on node order, so placement is deterministic.

use std::collections::BTreeMap;

/// What the scheduler needs to know about one node.
pub struct Candidate<'a> {
    pub labels: &'a BTreeMap<String, String>,
    pub zone: &'a str,
    /// Pods of any owner running or pending on the node.
    pub pods: usize,
    /// Pods of the workload being scheduled on the node.
    pub siblings: usize,
    /// Pods of the workload being scheduled in the node's zone.
    pub zone_siblings: usize,
}

/// The index of the chosen node, or `None` if no node satisfies the pod's
/// `nodeSelector`.
pub fn choose(
    candidates: &[Candidate<'_>],
    node_selector: &BTreeMap<String, String>,
) -> Option<usize> {
    candidates
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            node_selector
                .iter()
                .all(|(k, v)| c.labels.get(k) == Some(v))
        })
        .min_by_key(|(i, c)| (c.zone_siblings, c.siblings, c.pods, *i))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_a_workload_across_zones_then_nodes() {
        let l = BTreeMap::new();
        let nodes = [
            Candidate {
                labels: &l,
                zone: "a",
                pods: 3,
                siblings: 1,
                zone_siblings: 1,
            },
            Candidate {
                labels: &l,
                zone: "b",
                pods: 5,
                siblings: 0,
                zone_siblings: 0,
            },
            Candidate {
                labels: &l,
                zone: "a",
                pods: 0,
                siblings: 0,
                zone_siblings: 1,
            },
        ];
        assert_eq!(choose(&nodes, &BTreeMap::new()), Some(1));
    }

    #[test]
    fn respects_node_selectors() {
        let mut gpu = BTreeMap::new();
        gpu.insert("gpu".to_string(), "true".to_string());
        let none = BTreeMap::new();
        let nodes = [
            Candidate {
                labels: &none,
                zone: "a",
                pods: 0,
                siblings: 0,
                zone_siblings: 0,
            },
            Candidate {
                labels: &gpu,
                zone: "a",
                pods: 9,
                siblings: 0,
                zone_siblings: 0,
            },
        ];
        assert_eq!(choose(&nodes, &gpu), Some(1));
        let mut other = BTreeMap::new();
        other.insert("disk".to_string(), "ssd".to_string());
        assert_eq!(choose(&nodes, &other), None);
    }
}
