//! The configuration istiod watches: Istio and Gateway API objects, with
//! the order they were created in (istiod breaks ties between conflicting
//! objects by creation time) and a revision that changes on every write,
//! so per-proxy configuration can be rebuilt only when something changed.

use std::collections::BTreeMap;

use crate::config::Object;

#[derive(Clone, Debug, Default)]
pub struct ConfigStore {
    objects: BTreeMap<(String, String, String), (u64, Object)>,
    next_seq: u64,
    revision: u64,
}

impl ConfigStore {
    /// Creates or replaces an object; a replaced object keeps its creation
    /// order, as an update keeps `creationTimestamp`.
    pub fn apply(&mut self, obj: Object) {
        let key = (
            obj.kind().to_string(),
            obj.namespace().to_string(),
            obj.name().to_string(),
        );
        let seq = match self.objects.get(&key) {
            Some((seq, _)) => *seq,
            None => {
                self.next_seq += 1;
                self.next_seq
            }
        };
        self.objects.insert(key, (seq, obj));
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

    /// Objects of one kind, oldest first (then by name and namespace, as
    /// istiod's `sortConfigByCreationTime` orders equal timestamps).
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
