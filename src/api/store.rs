//! The apiserver's object store: every object as JSON, keyed by resource,
//! namespace and name, with the server-owned metadata (uid,
//! resourceVersion, generation, creationTimestamp) and a bounded log of
//! changes that watches replay from a resourceVersion.
//!
//! One counter numbers every change, as etcd's revision does, so a list's
//! resourceVersion is where a watch of any resource starts.

use std::collections::{BTreeMap, VecDeque};
use std::sync::Arc;

use serde_json::{Value, json};

use super::resources::Resource;
use super::status::ApiError;
use crate::sim::Rng;

/// Where an object lives: its resource (group, plural), namespace (empty
/// for cluster-scoped kinds) and name. The order is the apiserver's list
/// order (by namespace, then name).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key {
    pub group: &'static str,
    pub plural: &'static str,
    pub namespace: String,
    pub name: String,
}

impl Key {
    pub fn new(r: &Resource, namespace: &str, name: &str) -> Self {
        Key {
            group: r.group,
            plural: r.plural,
            namespace: if r.namespaced {
                namespace.to_string()
            } else {
                String::new()
            },
            name: name.to_string(),
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Added,
    Modified,
    Deleted,
}

impl Change {
    /// The watch event's `type`.
    pub fn as_str(self) -> &'static str {
        match self {
            Change::Added => "ADDED",
            Change::Modified => "MODIFIED",
            Change::Deleted => "DELETED",
        }
    }
}

/// One change, as a watch replays it.
#[derive(Clone, Debug)]
pub struct Event {
    pub rv: u64,
    pub change: Change,
    pub key: Key,
    /// The object after the change (before it, for a deletion, with the
    /// deletion's resourceVersion).
    pub object: Arc<Value>,
    /// The object before a modification, so that a watch can tell an
    /// object entering or leaving its selection.
    pub previous: Option<Arc<Value>>,
}

/// How many changes watches can replay; older resourceVersions get 410.
const LOG_LEN: usize = 20_000;

pub struct Store {
    objects: BTreeMap<Key, Arc<Value>>,
    /// When each object was created, as the version counter then: the
    /// order a snapshot replays them in (updates leave it alone).
    created: BTreeMap<Key, u64>,
    rv: u64,
    log: VecDeque<Event>,
    uids: Rng,
    /// Every uid given out or restored, so none is given twice.
    uids_used: std::collections::BTreeSet<String>,
}

impl Store {
    pub fn new(seed: u64) -> Self {
        Store {
            objects: BTreeMap::new(),
            created: BTreeMap::new(),
            rv: 1,
            log: VecDeque::new(),
            uids: Rng::stream(seed, "api-uid"),
            uids_used: std::collections::BTreeSet::new(),
        }
    }

    /// The latest resourceVersion.
    pub fn rv(&self) -> u64 {
        self.rv
    }

    pub fn get(&self, key: &Key) -> Option<&Arc<Value>> {
        self.objects.get(key)
    }

    /// The objects of a resource, in one namespace or all, in list order.
    pub fn list<'a>(
        &'a self,
        r: &Resource,
        namespace: Option<&'a str>,
    ) -> impl Iterator<Item = (&'a Key, &'a Arc<Value>)> + 'a {
        let (group, plural) = (r.group, r.plural);
        self.objects
            .range(
                Key {
                    group,
                    plural,
                    namespace: namespace.unwrap_or("").to_string(),
                    name: String::new(),
                }..,
            )
            .take_while(move |(k, _)| {
                k.group == group
                    && k.plural == plural
                    && namespace.is_none_or(|ns| k.namespace == ns)
            })
    }

    /// Stores a new object, filling uid, resourceVersion, generation and
    /// creationTimestamp (`now`, RFC 3339).
    pub fn create(&mut self, key: Key, mut obj: Value, now: &str) -> Result<Arc<Value>, ApiError> {
        if self.objects.contains_key(&key) {
            return Err(ApiError::already_exists(
                &super::resources::qualified(key.group, key.plural),
                &key.name,
            ));
        }
        self.rv += 1;
        let uid = self.uid();
        let meta = metadata(&mut obj);
        meta.insert("uid".into(), json!(uid));
        meta.insert("resourceVersion".into(), json!(self.rv.to_string()));
        meta.insert("generation".into(), json!(1));
        meta.insert("creationTimestamp".into(), json!(now));
        meta.remove("deletionTimestamp");
        let obj = Arc::new(obj);
        self.created.insert(key.clone(), self.rv);
        self.objects.insert(key.clone(), obj.clone());
        self.record(Change::Added, key, obj.clone(), None);
        Ok(obj)
    }

    /// Puts back an object saved from an earlier run with its own uid,
    /// creationTimestamp and generation (a new resourceVersion: versions
    /// do not survive a restart, as they would not across an etcd
    /// restore).
    pub fn restore(&mut self, key: Key, mut obj: Value) -> Arc<Value> {
        self.rv += 1;
        let meta = metadata(&mut obj);
        meta.insert("resourceVersion".into(), json!(self.rv.to_string()));
        if let Some(uid) = meta.get("uid").and_then(Value::as_str) {
            self.uids_used.insert(uid.to_string());
        }
        let obj = Arc::new(obj);
        self.created.insert(key.clone(), self.rv);
        self.objects.insert(key.clone(), obj.clone());
        self.record(Change::Added, key, obj.clone(), None);
        obj
    }

    /// The order objects were created in (a version number).
    pub fn creation(&self, key: &Key) -> u64 {
        self.created.get(key).copied().unwrap_or(u64::MAX)
    }

    /// Replaces an object, keeping what the server owns (uid,
    /// creationTimestamp) and bumping `generation` when anything but
    /// metadata and status changed. Nothing is recorded when the object did
    /// not change.
    pub fn update(&mut self, key: &Key, mut obj: Value) -> Result<Arc<Value>, ApiError> {
        let Some(old) = self.objects.get(key).cloned() else {
            return Err(ApiError::not_found(
                &super::resources::qualified(key.group, key.plural),
                &key.name,
            ));
        };
        let old_meta = old.get("metadata").cloned().unwrap_or(Value::Null);
        let generation = old_meta["generation"].as_i64().unwrap_or(1);
        let meta = metadata(&mut obj);
        for owned in ["uid", "creationTimestamp", "deletionTimestamp"] {
            match old_meta.get(owned) {
                Some(v) => meta.insert(owned.into(), v.clone()),
                None => meta.remove(owned),
            };
        }
        meta.insert("generation".into(), json!(generation));
        meta.insert(
            "resourceVersion".into(),
            old_meta["resourceVersion"].clone(),
        );
        if obj == *old {
            return Ok(old);
        }
        if spec_of(&obj) != spec_of(&old) {
            metadata(&mut obj).insert("generation".into(), json!(generation + 1));
        }
        self.rv += 1;
        metadata(&mut obj).insert("resourceVersion".into(), json!(self.rv.to_string()));
        let obj = Arc::new(obj);
        self.objects.insert(key.clone(), obj.clone());
        self.record(Change::Modified, key.clone(), obj.clone(), Some(old));
        Ok(obj)
    }

    pub fn delete(&mut self, key: &Key) -> Option<Arc<Value>> {
        let old = self.objects.remove(key)?;
        self.created.remove(key);
        self.rv += 1;
        let mut gone = Value::clone(&old);
        metadata(&mut gone).insert("resourceVersion".into(), json!(self.rv.to_string()));
        self.record(Change::Deleted, key.clone(), Arc::new(gone), None);
        Some(old)
    }

    /// The changes after `rv`, oldest first; 410 Gone when the log no
    /// longer reaches back that far.
    pub fn events_since(&self, rv: u64) -> Result<impl Iterator<Item = &Event>, ApiError> {
        if let Some(first) = self.log.front()
            && rv.saturating_add(1) < first.rv
        {
            return Err(ApiError::gone(rv));
        }
        let start = self.log.partition_point(|e| e.rv <= rv);
        Ok(self.log.range(start..))
    }

    fn record(
        &mut self,
        change: Change,
        key: Key,
        object: Arc<Value>,
        previous: Option<Arc<Value>>,
    ) {
        if self.log.len() == LOG_LEN {
            self.log.pop_front();
        }
        self.log.push_back(Event {
            rv: self.rv,
            change,
            key,
            object,
            previous,
        });
    }

    /// A version-4 UUID from the seeded stream: unique, and the same on
    /// every run.
    fn uid(&mut self) -> String {
        loop {
            let uid = self.draw_uid();
            if self.uids_used.insert(uid.clone()) {
                return uid;
            }
        }
    }

    fn draw_uid(&mut self) -> String {
        let (a, b) = (self.uids.next_u64(), self.uids.next_u64());
        format!(
            "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
            a >> 32,
            (a >> 16) & 0xffff,
            a & 0xfff,
            (b >> 48) & 0x3fff | 0x8000,
            b & 0xffff_ffff_ffff
        )
    }
}

/// The object's `metadata` map, made (and the object made a map) if
/// missing.
pub fn metadata(obj: &mut Value) -> &mut serde_json::Map<String, Value> {
    if !obj.is_object() {
        *obj = json!({});
    }
    if !obj["metadata"].is_object() {
        obj["metadata"] = json!({});
    }
    match &mut obj["metadata"] {
        Value::Object(m) => m,
        _ => unreachable!("made a map just above"),
    }
}

/// A JSON map of strings (labels, annotations) as a map; values that are
/// not strings count as empty.
pub fn string_map(v: &Value) -> std::collections::BTreeMap<String, String> {
    v.as_object()
        .map(|m| {
            m.iter()
                .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
                .collect()
        })
        .unwrap_or_default()
}

/// Everything but metadata and status: what `generation` counts.
fn spec_of(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(o) = v.as_object_mut() {
        o.remove("metadata");
        o.remove("status");
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::api::resources::find;

    fn key(ns: &str, name: &str) -> Key {
        Key::new(find("", "pods").unwrap(), ns, name)
    }

    #[test]
    fn create_fills_server_fields_and_refuses_twins() {
        let mut s = Store::new(1);
        let o = s
            .create(
                key("a", "p"),
                json!({"metadata": {"name": "p"}}),
                "2026-01-01T00:00:00Z",
            )
            .unwrap();
        assert_eq!(o["metadata"]["resourceVersion"], "2");
        assert_eq!(o["metadata"]["generation"], 1);
        assert_eq!(o["metadata"]["creationTimestamp"], "2026-01-01T00:00:00Z");
        assert_eq!(o["metadata"]["uid"].as_str().unwrap().len(), 36);
        let e = s
            .create(key("a", "p"), json!({}), "2026-01-01T00:00:00Z")
            .unwrap_err();
        assert_eq!(e.message, "pods \"p\" already exists");
    }

    #[test]
    fn updates_bump_generation_only_for_spec_changes() {
        let mut s = Store::new(1);
        let k = key("a", "p");
        s.create(
            k.clone(),
            json!({"metadata": {"name": "p"}, "spec": {"x": 1}}),
            "t",
        )
        .unwrap();
        let o = s
            .update(
                &k,
                json!({"metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {"x": 1}}),
            )
            .unwrap();
        assert_eq!(o["metadata"]["generation"], 1);
        assert_eq!(o["metadata"]["resourceVersion"], "3");
        let o = s
            .update(
                &k,
                json!({"metadata": {"name": "p", "labels": {"a": "b"}}, "spec": {"x": 2}}),
            )
            .unwrap();
        assert_eq!(o["metadata"]["generation"], 2);
        // The same object again changes nothing, not even the version.
        let same = Value::clone(&o);
        let o = s.update(&k, same).unwrap();
        assert_eq!(o["metadata"]["resourceVersion"], "4");
        assert_eq!(s.rv(), 4);
    }

    #[test]
    fn lists_are_per_resource_and_namespace_in_name_order() {
        let mut s = Store::new(1);
        for (ns, n) in [("b", "x"), ("a", "z"), ("a", "y")] {
            s.create(key(ns, n), json!({"metadata": {"name": n}}), "t")
                .unwrap();
        }
        let svc = Key::new(find("", "services").unwrap(), "a", "s");
        s.create(svc, json!({}), "t").unwrap();
        let pods = find("", "pods").unwrap();
        let all: Vec<&str> = s.list(pods, None).map(|(k, _)| k.name.as_str()).collect();
        assert_eq!(all, ["y", "z", "x"]);
        let a: Vec<&str> = s
            .list(pods, Some("a"))
            .map(|(k, _)| k.name.as_str())
            .collect();
        assert_eq!(a, ["y", "z"]);
    }

    #[test]
    fn a_version_older_than_the_log_is_gone() {
        let mut s = Store::new(1);
        let k = key("a", "p");
        s.create(k.clone(), json!({"metadata": {"name": "p"}}), "t")
            .unwrap();
        let first = s.rv();
        for i in 0..LOG_LEN {
            s.update(
                &k,
                json!({"metadata": {"name": "p", "labels": {"i": i.to_string()}}}),
            )
            .unwrap();
        }
        let e = s.events_since(first - 1).err().unwrap();
        assert_eq!((e.code, e.reason), (410, "Expired"));
        assert_eq!(s.events_since(s.rv() - 1).unwrap().count(), 1);
    }

    #[test]
    fn watches_replay_changes_after_a_version() {
        let mut s = Store::new(1);
        let k = key("a", "p");
        s.create(k.clone(), json!({"metadata": {"name": "p"}}), "t")
            .unwrap();
        let rv = s.rv();
        s.update(&k, json!({"metadata": {"name": "p", "labels": {"x": "y"}}}))
            .unwrap();
        s.delete(&k).unwrap();
        let seen: Vec<(&str, u64)> = s
            .events_since(rv)
            .unwrap()
            .map(|e| (e.change.as_str(), e.rv))
            .collect();
        assert_eq!(seen, [("MODIFIED", rv + 1), ("DELETED", rv + 2)]);
    }
}
