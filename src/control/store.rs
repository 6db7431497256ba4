//! The configuration istiod watches: Istio and Gateway API objects, with
//! their creation time (istiod breaks ties between conflicting objects by
//! it) and a revision that changes on every write, so per-proxy
//! configuration can be rebuilt only when something changed.

use std::collections::BTreeMap;

use crate::config::Object;
use crate::sim::SimTime;

#[derive(Clone, Debug, Default)]
pub struct ConfigStore {
    /// Each object with its `creationTimestamp`, in whole seconds of
    /// simulated time as the apiserver stores it.
    objects: BTreeMap<(String, String, String), (u64, Object)>,
    revision: u64,
}

impl ConfigStore {
    /// Creates or replaces an object at `now`; a replaced object keeps its
    /// creation time, as an update keeps `creationTimestamp`.
    pub fn apply(&mut self, obj: Object, now: SimTime) {
        // The registry's kind: Istio's `Gateway` and Gateway API's
        // (`KubernetesGateway`) may share a name.
        let key = (
            obj.info.kind.to_string(),
            obj.namespace().to_string(),
            obj.name().to_string(),
        );
        let created = match self.objects.get(&key) {
            Some((created, _)) => *created,
            None => now.as_nanos() / 1_000_000_000,
        };
        self.objects.insert(key, (created, obj));
        self.revision += 1;
    }

    pub fn delete(&mut self, kind: &str, namespace: &str, name: &str) -> Option<Object> {
        let removed = self
            .objects
            .remove(&(kind.to_string(), namespace.to_string(), name.to_string()))
            .map(|(_, o)| o);
        if removed.is_some() {
            self.revision += 1;
        }
        removed
    }

    pub fn get(&self, kind: &str, namespace: &str, name: &str) -> Option<&Object> {
        self.objects
            .get(&(kind.to_string(), namespace.to_string(), name.to_string()))
            .map(|(_, o)| o)
    }

    /// Changes on every write.
    pub fn revision(&self) -> u64 {
        self.revision
    }

    /// Objects of one kind, oldest first, then by name and namespace: how
    /// istiod's `sortConfigByCreationTime` orders them. Timestamps are
    /// whole seconds, so objects applied together (one `kubectl apply`, or
    /// every file `meshsim eval` is given) are ordered by name.
    pub fn of_kind(&self, kind: &str) -> Vec<&Object> {
        let mut v: Vec<(u64, &Object)> = self
            .objects
            .iter()
            .filter(|((k, _, _), _)| k == kind)
            .map(|(_, (seq, o))| (*seq, o))
            .collect();
        v.sort_by(|a, b| {
            (a.0, a.1.name(), a.1.namespace()).cmp(&(b.0, b.1.name(), b.1.namespace()))
        });
        v.into_iter().map(|(_, o)| o).collect()
    }

    /// Every object, in key order.
    pub fn iter(&self) -> impl Iterator<Item = &Object> {
        self.objects.values().map(|(_, o)| o)
    }

    pub fn len(&self) -> usize {
        self.objects.len()
    }

    pub fn is_empty(&self) -> bool {
        self.objects.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::SimDuration;

    fn vs(name: &str) -> Object {
        let yaml = format!(
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {name}, namespace: default}}\nspec: {{hosts: [reviews], http: [{{route: [{{destination: {{host: reviews}}}}]}}]}}\n"
        );
        let mut loaded = crate::config::load_str("t.yaml", &yaml, None);
        assert!(loaded.diagnostics.is_empty(), "{:?}", loaded.diagnostics);
        loaded.objects.remove(0)
    }

    fn names(store: &ConfigStore) -> Vec<&str> {
        store
            .of_kind("VirtualService")
            .iter()
            .map(|o| o.name())
            .collect()
    }

    #[test]
    fn objects_created_in_the_same_second_are_ordered_by_name() {
        let mut store = ConfigStore::default();
        let t0 = SimTime::ZERO;
        store.apply(vs("z-reviews"), t0);
        store.apply(vs("a-reviews"), t0 + SimDuration::from_millis(300));
        store.apply(vs("0-late"), t0 + SimDuration::from_secs(2));
        assert_eq!(names(&store), ["a-reviews", "z-reviews", "0-late"]);
        // An update keeps the creation time.
        store.apply(vs("z-reviews"), t0 + SimDuration::from_secs(9));
        assert_eq!(names(&store), ["a-reviews", "z-reviews", "0-late"]);
    }
}
