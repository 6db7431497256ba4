//! The patch algorithms of the Kubernetes API server, as pure functions over
//! JSON values.
//!
//! A `PATCH` request names its algorithm by Content-Type, and the apiserver
//! (k8s.io/apiserver/pkg/endpoints/handlers/patch.go) applies it to the live
//! object's JSON:
//!
//! - `application/merge-patch+json`: RFC 7386, [`merge_patch`].
//! - `application/json-patch+json`: RFC 6902, [`json_patch`], with the error
//!   wording of gopkg.in/evanphx/json-patch.v4, which the apiserver uses. A
//!   body that is not a list of operations is a 400, more than 10000
//!   operations a 413, and a failing operation a 422; nothing is changed.
//! - `application/strategic-merge-patch+json`: [`strategic_merge_patch`],
//!   after k8s.io/apimachinery/pkg/util/strategicpatch/patch.go (`mergeMap`,
//!   `mergeSlice`, `mergePatchIntoOriginal`), steered by the
//!   `patchStrategy`/`patchMergeKey` struct tags of k8s.io/api, which
//!   `list_meta` tabulates. Only built-in kinds have those tags: for custom
//!   resources (Istio's included) the apiserver answers 415 before patching,
//!   which is the caller's job. `interpretStrategicMergePatchError` answers
//!   400 for [`PatchError::InvalidJsonDocument`] and
//!   [`PatchError::InvalidPatchFormat`], 422 for [`PatchError::ListOfLists`],
//!   and passes the others through unwrapped, which becomes a 500 with the
//!   message as is.
//! - `application/apply-patch+yaml`: server-side apply, simplified here to
//!   "create or merge" without managed fields: [`apply_merge`].
//!
//! Where Go prints a map (`map[name:x]`) in an error, these print JSON.

use serde_json::{Map, Value};

type Obj = Map<String, Value>;

/// Why a patch was refused (see the module doc for the HTTP status of each).
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum PatchError {
    /// The JSON patch body is not a list of objects (Go's decoder wording).
    #[error("json: cannot unmarshal {found} into Go value of type jsonpatch.{target}")]
    JsonPatchDecode {
        found: &'static str,
        target: &'static str,
    },
    /// apiserver's `maxJSONPatchOperations`.
    #[error("the allowed maximum operations in a JSON patch is {max}, got {got}")]
    TooManyOperations { max: usize, got: usize },
    /// An unknown `op`, or one missing its `path`, `from` or `value`.
    #[error("{0}")]
    InvalidOperation(String),
    #[error("{op} operation does not apply: doc is missing path: \"{path}\": missing value")]
    PathNotFound { op: &'static str, path: String },
    #[error(
        "error in {op} for path: '{path}': unable to access invalid index: {index}: invalid index referenced"
    )]
    InvalidIndex {
        op: &'static str,
        path: String,
        index: String,
    },
    #[error("testing value {path} failed: test failed")]
    TestFailed { path: String },
    /// RFC 6902 §4.4: "from" must not be a proper prefix of "path".
    #[error("move operation does not apply: from {from} is a prefix of path {path}")]
    MoveIntoChild { from: String, path: String },
    /// A strategic merge patch that is not a JSON object.
    #[error("invalid JSON document")]
    InvalidJsonDocument,
    #[error("unknown patch type: {directive} in map: {map}")]
    UnknownPatchType { directive: String, map: String },
    #[error("merging lists cannot yet be specified in the patch")]
    ListMergeDirective,
    #[error("map: {map} does not contain declared merge key: {key}")]
    NoMergeKey { map: String, key: &'static str },
    #[error("cannot merge lists without merge key for {0}")]
    NoMergeKeyForList(String),
    /// `of primitive list`, `of retainKeys` or `of setElementOrder list`.
    #[error("invalid patch format of {0}")]
    InvalidPatchFormat(&'static str),
    #[error("the order in patch list: {patch} doesn't match $setElementOrder list: {order}")]
    SetElementOrderMismatch { patch: String, order: String },
    #[error("lists of lists are not supported")]
    ListOfLists,
    #[error("list element types are not identical: {0}")]
    MixedListTypes(String),
    #[error("expected a {expected}, but received a {actual}")]
    BadArgType {
        expected: &'static str,
        actual: &'static str,
    },
}

use PatchError as E;

/// RFC 7386 JSON merge patch (Content-Type application/merge-patch+json): null deletes, objects merge recursively, anything else replaces.
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(patch) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Obj::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in patch {
            if v.is_null() {
                t.shift_remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// apiserver's `maxJSONPatchOperations`.
const MAX_JSON_PATCH_OPS: usize = 10_000;

/// RFC 6902 JSON patch (application/json-patch+json): add/remove/replace/move/copy/test with JSON pointers (~0 ~1 escapes, "-" appends). All-or-nothing: on error target is unchanged.
pub fn json_patch(target: &mut Value, ops: &Value) -> Result<(), PatchError> {
    let decode = |v: &Value, target| E::JsonPatchDecode {
        found: crate::go::json_type(v),
        target,
    };
    let ops = ops.as_array().ok_or_else(|| decode(ops, "Patch"))?;
    if ops.len() > MAX_JSON_PATCH_OPS {
        return Err(E::TooManyOperations {
            max: MAX_JSON_PATCH_OPS,
            got: ops.len(),
        });
    }
    let ops = ops
        .iter()
        .map(|op| op.as_object().ok_or_else(|| decode(op, "Operation")))
        .collect::<Result<Vec<_>, _>>()?;
    let mut doc = target.clone();
    for op in ops {
        apply_op(&mut doc, op)?;
    }
    *target = doc;
    Ok(())
}

fn apply_op(doc: &mut Value, op: &Obj) -> Result<(), PatchError> {
    let kind = op.get("op").and_then(Value::as_str).unwrap_or("unknown");
    let field = |name: &str| {
        op.get(name).and_then(Value::as_str).ok_or_else(|| {
            E::InvalidOperation(format!(
                "{kind} operation failed to decode {name}: missing value"
            ))
        })
    };
    let value = || {
        op.get("value").ok_or_else(|| {
            E::InvalidOperation(format!(
                "{kind} operation, missing value field: missing value"
            ))
        })
    };
    match kind {
        "add" => add(doc, "add", field("path")?, value()?.clone()),
        "remove" => remove(doc, "remove", field("path")?).map(drop),
        "replace" => {
            let (path, value) = (field("path")?, value()?.clone());
            let Some(slot) = doc.pointer_mut(path) else {
                return Err(missing_or_bad_index(doc, "replace", path));
            };
            *slot = value;
            Ok(())
        }
        "move" => {
            let (from, path) = (field("from")?, field("path")?);
            if path
                .strip_prefix(from)
                .is_some_and(|rest| rest.starts_with('/'))
            {
                return Err(E::MoveIntoChild {
                    from: from.into(),
                    path: path.into(),
                });
            }
            if from == path {
                return doc
                    .pointer(from)
                    .map(drop)
                    .ok_or_else(|| not_found("move", from));
            }
            let value = remove(doc, "move", from)?;
            add(doc, "move", path, value)
        }
        "copy" => {
            let (from, path) = (field("from")?, field("path")?);
            let value = doc
                .pointer(from)
                .cloned()
                .ok_or_else(|| not_found("copy", from))?;
            add(doc, "copy", path, value)
        }
        "test" => {
            let (path, value) = (field("path")?, value()?);
            let current = doc.pointer(path).ok_or_else(|| not_found("test", path))?;
            if json_eq(current, value) {
                Ok(())
            } else {
                Err(E::TestFailed { path: path.into() })
            }
        }
        other => Err(E::InvalidOperation(format!("unexpected kind: {other}"))),
    }
}

fn not_found(op: &'static str, path: &str) -> PatchError {
    let path = path.into();
    E::PathNotFound { op, path }
}

fn bad_index(op: &'static str, path: &str, index: String) -> PatchError {
    let path = path.into();
    E::InvalidIndex { op, path, index }
}

/// Splits a pointer into its parent pointer and its unescaped last token
/// (RFC 6901 §4: `~1` before `~0`); `None` for the root or a malformed one.
fn split_pointer(path: &str) -> Option<(&str, String)> {
    let (parent, last) = path.rsplit_once('/')?;
    Some((parent, last.replace("~1", "/").replace("~0", "~")))
}

/// RFC 6901 §4: an array index is `0` or digits without a leading zero.
fn array_index(token: &str) -> Option<usize> {
    let digits = !token.is_empty() && token.bytes().all(|b| b.is_ascii_digit());
    if !digits || (token.len() > 1 && token.starts_with('0')) {
        return None;
    }
    token.parse().ok()
}

/// The error for a pointer that did not resolve: an out-of-range index if
/// its parent is an array, else a missing path.
fn missing_or_bad_index(doc: &Value, op: &'static str, path: &str) -> PatchError {
    match split_pointer(path) {
        Some((parent, index)) if doc.pointer(parent).is_some_and(Value::is_array) => {
            bad_index(op, path, index)
        }
        _ => not_found(op, path),
    }
}

fn add(doc: &mut Value, op: &'static str, path: &str, value: Value) -> Result<(), PatchError> {
    if path.is_empty() {
        *doc = value;
        return Ok(());
    }
    let (parent, last) = split_pointer(path).ok_or_else(|| not_found(op, path))?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.insert(last, value);
            Ok(())
        }
        Some(Value::Array(a)) => {
            let at = if last == "-" {
                Some(a.len())
            } else {
                array_index(&last)
            };
            let at = at.filter(|i| *i <= a.len());
            let at = at.ok_or_else(|| bad_index(op, path, last))?;
            a.insert(at, value);
            Ok(())
        }
        _ => Err(not_found(op, path)),
    }
}

/// Removes and returns the value at `path`; removing the root is refused,
/// as evanphx/json-patch does.
fn remove(doc: &mut Value, op: &'static str, path: &str) -> Result<Value, PatchError> {
    let (parent, last) = split_pointer(path).ok_or_else(|| not_found(op, path))?;
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => m.shift_remove(&last).ok_or_else(|| not_found(op, path)),
        Some(Value::Array(a)) => match array_index(&last).filter(|i| *i < a.len()) {
            Some(i) => Ok(a.remove(i)),
            None => Err(bad_index(op, path, last)),
        },
        _ => Err(not_found(op, path)),
    }
}

/// JSON equality with RFC 6902 §4.6's numbers (1 equals 1.0, as Go's
/// float64s do); also how merge keys and primitive list items compare.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x == y || x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// How a list field merges, from the k8s.io/api struct tags.
#[derive(Clone, Copy, Debug, PartialEq)]
enum ListMeta {
    /// No `patchStrategy:"merge"`: the patch's list replaces the live one.
    Atomic,
    /// `patchStrategy:"merge"` without a key: a set of primitives.
    Set,
    /// `patchStrategy:"merge" patchMergeKey:"…"`: maps matched by that key.
    Keyed(&'static str),
}

/// Kinds whose `status.conditions` is `patchMergeKey:"type"` (core/v1,
/// apps/v1 and batch/v1 `*Status` types).
const CONDITION_KINDS: &[&str] = &[
    "Pod",
    "Deployment",
    "DaemonSet",
    "ReplicaSet",
    "StatefulSet",
    "Job",
    "Node",
    "Namespace",
    "Service",
    "ReplicationController",
    "PersistentVolumeClaim",
];

/// The merge strategy of the list at `path` (field names from the object's
/// root; list items add nothing) in an object of `kind`. Lists not named
/// here are atomic; e.g. `tolerations`, `readinessGates`, `envFrom`,
/// `args`, Service `externalIPs` and Endpoints `subsets` have no tags.
fn list_meta(kind: &str, path: &[String]) -> ListMeta {
    use ListMeta::{Atomic, Keyed, Set};
    let p: Vec<&str> = path.iter().map(String::as_str).collect();
    // meta/v1 ObjectMeta, at the root and in every template.
    match p.as_slice() {
        [.., "metadata", "finalizers"] => return Set,
        [.., "metadata", "ownerReferences"] => return Keyed("uid"),
        _ => {}
    }
    let pod_spec: &[&str] = match kind {
        "Pod" => &["spec"],
        "PodTemplate" => &["template", "spec"],
        "Deployment"
        | "DaemonSet"
        | "ReplicaSet"
        | "StatefulSet"
        | "Job"
        | "ReplicationController" => &["spec", "template", "spec"],
        "CronJob" => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => &[],
    };
    // core/v1 PodSpec, Container and EphemeralContainerCommon.
    if let Some(rest) = p.strip_prefix(pod_spec).filter(|_| !pod_spec.is_empty()) {
        const CONTAINERS: [&str; 3] = ["containers", "initContainers", "ephemeralContainers"];
        return match rest {
            [f] if CONTAINERS.contains(f) => Keyed("name"),
            ["volumes" | "imagePullSecrets" | "schedulingGates" | "resourceClaims"] => {
                Keyed("name")
            }
            ["hostAliases"] => Keyed("ip"),
            // Unique by topologyKey and whenUnsatisfiable, but tagged with one key.
            ["topologySpreadConstraints"] => Keyed("topologyKey"),
            [c, "env"] if CONTAINERS.contains(c) => Keyed("name"),
            [c, "ports"] if CONTAINERS.contains(c) => Keyed("containerPort"),
            [c, "volumeMounts"] if CONTAINERS.contains(c) => Keyed("mountPath"),
            [c, "volumeDevices"] if CONTAINERS.contains(c) => Keyed("devicePath"),
            _ => Atomic,
        };
    }
    match (kind, p.as_slice()) {
        ("Service", ["spec", "ports"]) => Keyed("port"),
        ("ServiceAccount", ["secrets"]) => Keyed("name"),
        ("Node", ["spec", "podCIDRs"]) => Set,
        ("Node", ["status", "addresses"]) => Keyed("type"),
        ("Pod", ["status", "podIPs" | "hostIPs"]) => Keyed("ip"),
        (k, ["status", "conditions"]) if CONDITION_KINDS.contains(&k) => Keyed("type"),
        _ => Atomic,
    }
}

const DIRECTIVE: &str = "$patch";
const RETAIN_KEYS: &str = "$retainKeys";
const SET_ORDER: &str = "$setElementOrder";
const DELETE_PRIMITIVE: &str = "$deleteFromPrimitiveList";

/// Kubernetes strategic merge patch (application/strategic-merge-patch+json) for a built-in kind.
/// `kind` is "Pod", "Deployment", "DaemonSet", "ReplicaSet", "StatefulSet", "Job", "Service", "Namespace", "ConfigMap", "Secret", "ServiceAccount", "Node", "Endpoints", ...
///
/// All-or-nothing: on error `target` is unchanged (a `target` that is not
/// an object counts as `{}`). Follows `StrategicMergeMapPatch` (null
/// deletes, unmatched nulls are dropped) and strips every directive from
/// the result.
pub fn strategic_merge_patch(
    target: &mut Value,
    patch: &Value,
    kind: &str,
) -> Result<(), PatchError> {
    let Value::Object(patch) = patch else {
        return Err(E::InvalidJsonDocument);
    };
    let original = target.as_object().cloned().unwrap_or_default();
    *target = Value::Object(merge_map(original, patch.clone(), kind, &[])?);
    Ok(())
}

fn child(path: &[String], key: &str) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(key.to_owned());
    p
}

fn obj_json(m: &Obj) -> String {
    serde_json::to_string(m).unwrap_or_default()
}

fn list_json(a: &[Value]) -> String {
    serde_json::to_string(a).unwrap_or_default()
}

/// patch.go `mergeMap`.
fn merge_map(
    mut orig: Obj,
    mut patch: Obj,
    kind: &str,
    path: &[String],
) -> Result<Obj, PatchError> {
    // `handleDirectiveInMergeMap`: replace keeps only the patch, delete leaves
    // an empty map (not no key), and anything else, `merge` too, is an error.
    if let Some(d) = patch.get(DIRECTIVE) {
        return match d.as_str() {
            Some("replace") => Ok(strip_map(&patch)),
            Some("delete") => Ok(Obj::new()),
            _ => Err(unknown_patch_type(d, &patch)),
        };
    }
    retain_keys(&mut orig, &mut patch)?;
    set_element_order(&mut orig, &mut patch, kind, path)?;
    for (key, pv) in patch {
        let (key, delete_list) = match key.strip_prefix(DELETE_PRIMITIVE) {
            Some(rest) => {
                let list = rest
                    .strip_prefix('/')
                    .ok_or(E::InvalidPatchFormat("primitive list"))?;
                (list.to_owned(), true)
            }
            None => (key, false),
        };
        if pv.is_null() {
            orig.shift_remove(&key);
            continue;
        }
        let sub = child(path, &key);
        let Some(ov) = orig.get_mut(&key) else {
            // Not in the live object: take the patch's value, directives
            // and nulls removed (a map with `$patch` is dropped whole).
            if let (false, Some(v)) = (delete_list, strip(&pv)) {
                orig.insert(key, v);
            }
            continue;
        };
        match (ov, pv) {
            (Value::Object(o), Value::Object(p)) => {
                *o = merge_map(std::mem::take(o), p, kind, &sub)?
            }
            (Value::Array(o), Value::Array(p)) => {
                let meta = list_meta(kind, &sub);
                *o = if meta == ListMeta::Atomic && !delete_list {
                    strip_list(&p)
                } else {
                    merge_list(std::mem::take(o), p, meta, delete_list, kind, &sub)?.0
                }
            }
            (ov, pv) if !delete_list || crate::go::json_type(ov) == crate::go::json_type(&pv) => {
                match strip(&pv) {
                    Some(v) => *ov = v,
                    None => drop(orig.shift_remove(&key)),
                }
            }
            _ => {}
        }
    }
    Ok(orig)
}

fn unknown_patch_type(directive: &Value, map: &Obj) -> PatchError {
    E::UnknownPatchType {
        directive: directive
            .as_str()
            .map_or_else(|| directive.to_string(), str::to_owned),
        map: obj_json(map),
    }
}

/// patch.go `applyRetainKeysDirective`: every key the patch sets must be in
/// the list, and live keys not in it are cleared before merging.
fn retain_keys(orig: &mut Obj, patch: &mut Obj) -> Result<(), PatchError> {
    let Some(list) = patch.shift_remove(RETAIN_KEYS) else {
        return Ok(());
    };
    let Value::Array(list) = list else {
        return Err(E::InvalidPatchFormat("retainKeys"));
    };
    let keep = |k: &str| list.iter().any(|v| v.as_str() == Some(k));
    let undeclared = patch.iter().any(|(k, v)| {
        !v.is_null() && !k.starts_with(DELETE_PRIMITIVE) && !k.starts_with(SET_ORDER) && !keep(k)
    });
    if undeclared {
        return Err(E::InvalidPatchFormat("retainKeys"));
    }
    orig.retain(|k, _| keep(k));
    Ok(())
}

/// patch.go `mergePatchIntoOriginal`: merges each list that has a
/// `$setElementOrder/<list>` and orders it: items named in the order list
/// in that order, server-only items interleaved by their live order.
fn set_element_order(
    orig: &mut Obj,
    patch: &mut Obj,
    kind: &str,
    path: &[String],
) -> Result<(), PatchError> {
    let keys: Vec<String> = patch
        .keys()
        .filter(|k| k.starts_with(SET_ORDER))
        .cloned()
        .collect();
    for directive in keys {
        let Some(order) = patch.shift_remove(&directive) else {
            continue;
        };
        let field = directive
            .strip_prefix(SET_ORDER)
            .and_then(|r| r.strip_prefix('/'));
        let field = field
            .ok_or(E::InvalidPatchFormat("setElementOrder list"))?
            .to_owned();
        let order = as_list(order)?;
        let sub = child(path, &field);
        let meta = list_meta(kind, &sub);
        let key = match meta {
            ListMeta::Keyed(k) => Some(k),
            _ => None,
        };
        let live = orig
            .get_mut(&field)
            .map(|v| as_list(std::mem::take(v)))
            .transpose()?;
        let patch_list = patch.shift_remove(&field).map(as_list).transpose()?;
        validate_order(patch_list.as_deref().unwrap_or_default(), &order, key)?;
        let (merged, server_order) = match (live, patch_list) {
            (None, None) => continue,
            (Some(live), None) => (live.clone(), live),
            (None, Some(p)) => (strip_list(&p), Vec::new()),
            (Some(live), Some(p)) if meta == ListMeta::Atomic => (strip_list(&p), live),
            (Some(live), Some(p)) => merge_list(live, p, meta, false, kind, &sub)?,
        };
        let (ordered, server_only) = partition(merged, &order, key)?;
        let merged = normalize_order(ordered, server_only, &order, &server_order, key)?;
        orig.insert(field, Value::Array(merged));
    }
    Ok(())
}

fn as_list(v: Value) -> Result<Vec<Value>, PatchError> {
    match v {
        Value::Array(a) => Ok(a),
        other => Err(E::BadArgType {
            expected: "array",
            actual: crate::go::json_type(&other),
        }),
    }
}

/// patch.go `validatePatchWithSetOrderList`: the patch's items (deletions
/// and directives aside) must appear in the order list, in its order.
fn validate_order(
    patch: &[Value],
    order: &[Value],
    key: Option<&'static str>,
) -> Result<(), PatchError> {
    let items: Vec<&Value> = patch
        .iter()
        .filter(|v| key.is_none() || v.get(DIRECTIVE).and_then(Value::as_str) != Some("delete"))
        .collect();
    let (mut i, mut j) = (0, 0);
    while i < items.len() && j < order.len() {
        if items[i].get(DIRECTIVE).is_some() {
            i += 1;
            continue;
        }
        if same_item(items[i], &order[j], key)? {
            i += 1;
        }
        j += 1;
    }
    if i < items.len() {
        return Err(E::SetElementOrderMismatch {
            patch: list_json(patch),
            order: list_json(order),
        });
    }
    Ok(())
}

/// Whether two list items are the same item: by merge key for maps (both
/// must carry it), by value for primitives.
fn same_item(a: &Value, b: &Value, key: Option<&'static str>) -> Result<bool, PatchError> {
    let Some(key) = key else {
        return Ok(json_eq(a, b));
    };
    Ok(json_eq(key_of(a, key)?, key_of(b, key)?))
}

fn key_of<'a>(item: &'a Value, key: &'static str) -> Result<&'a Value, PatchError> {
    let Value::Object(m) = item else {
        return Err(E::BadArgType {
            expected: "object",
            actual: crate::go::json_type(item),
        });
    };
    m.get(key).ok_or_else(|| E::NoMergeKey {
        map: obj_json(m),
        key,
    })
}

/// patch.go `mergeSlice` for a list whose strategy is merge (or a
/// `$deleteFromPrimitiveList`). Returns the merged list and the live list
/// as `mergePatchIntoOriginal` then sees it for `$setElementOrder`: Go
/// deletes and appends in the live slice's backing array, so deleted items
/// shift left, leaving stale items at the end, and new items overwrite
/// those. k8s's testdata "add map and delete map from merging list" (3-way)
/// shows it: live [1 2 4], `$setElementOrder` [2 3], delete 1, add 3 gives
/// [2 4 3], not [2 3 4].
fn merge_list(
    mut orig: Vec<Value>,
    patch: Vec<Value>,
    meta: ListMeta,
    delete_list: bool,
    kind: &str,
    path: &[String],
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let live = orig.clone();
    if orig.is_empty() && patch.is_empty() {
        return Ok((orig, live));
    }
    let key = match meta {
        ListMeta::Keyed(k) => Some(k),
        _ => None,
    };
    if !elements_are_maps(&orig, &patch)? {
        if delete_list {
            orig.retain(|v| !patch.iter().any(|p| json_eq(v, p)));
            return Ok((orig, live));
        }
        let mut merged: Vec<Value> = Vec::new();
        for v in orig.iter().chain(&patch) {
            if !merged.iter().any(|m| json_eq(m, v)) {
                merged.push(v.clone());
            }
        }
        let (in_patch, server_only) = partition(merged, &patch, key)?;
        return Ok((
            normalize_order(in_patch, server_only, &patch, &orig, key)?,
            live,
        ));
    }
    let Some(key) = key else {
        return Err(E::NoMergeKeyForList(path.join(".")));
    };
    let has_key = |o: &Value, k: &Value| o.get(key).is_some_and(|v| json_eq(v, k));
    // `mergeSliceWithSpecialElements`: `{"$patch": "delete", key: v}` drops
    // every live item with that key, `{"$patch": "replace"}` makes the rest
    // of the patch the whole list.
    let (mut window, mut len) = (live, orig.len());
    let (mut plain, mut replace) = (Vec::new(), false);
    for item in patch {
        let Some(d) = item.get(DIRECTIVE) else {
            plain.push(item);
            continue;
        };
        match d.as_str() {
            Some("delete") => {
                let k = key_of(&item, key)?;
                while let Some(i) = window[..len].iter().position(|o| has_key(o, k)) {
                    window[i..len].rotate_left(1);
                    if i + 1 < len {
                        window[len - 1] = window[len - 2].clone();
                    }
                    len -= 1;
                }
            }
            Some("replace") => replace = true,
            Some("merge") => return Err(E::ListMergeDirective),
            _ => {
                return Err(unknown_patch_type(
                    d,
                    item.as_object().unwrap_or(&Obj::new()),
                ));
            }
        }
    }
    orig = if replace {
        strip_list(&std::mem::take(&mut plain))
    } else {
        window[..len].to_vec()
    };
    let server_order = orig.clone();
    // `mergeSliceWithoutSpecialElements`: merge into the first live item
    // with the same key, else append.
    for item in &plain {
        let k = key_of(item, key)?;
        match (orig.iter_mut().find(|o| has_key(o, k)), item) {
            (Some(Value::Object(o)), Value::Object(p)) => {
                *o = merge_map(std::mem::take(o), p.clone(), kind, path)?;
            }
            _ => {
                let new = strip(item).unwrap_or_default();
                if let Some(slot) = window.get_mut(len) {
                    *slot = new.clone();
                }
                len += 1;
                orig.push(new);
            }
        }
    }
    let (in_patch, server_only) = partition(orig, &plain, Some(key))?;
    let merged = normalize_order(in_patch, server_only, &plain, &server_order, Some(key))?;
    Ok((merged, window))
}

/// patch.go `sliceElementType`: all items of both lists of one JSON type,
/// and not lists; true if they are maps.
fn elements_are_maps(orig: &[Value], patch: &[Value]) -> Result<bool, PatchError> {
    let mut items = orig.iter().chain(patch);
    let first = items.next().map_or("null", crate::go::json_type);
    if first == "array" {
        return Err(E::ListOfLists);
    }
    if items.any(|v| crate::go::json_type(v) != first) {
        return Err(E::MixedListTypes(format!(
            "{} {}",
            list_json(orig),
            list_json(patch)
        )));
    }
    Ok(first == "object")
}

/// patch.go `partitionMapsByPresentInList`/`partitionPrimitivesByPresentInList`:
/// (items that are in `by`, items that are not).
fn partition(
    items: Vec<Value>,
    by: &[Value],
    key: Option<&'static str>,
) -> Result<(Vec<Value>, Vec<Value>), PatchError> {
    let (mut inside, mut outside) = (Vec::new(), Vec::new());
    for item in items {
        let found = match key {
            Some(key) => {
                let k = key_of(&item, key)?;
                by.iter().any(|b| b.get(key).is_some_and(|v| json_eq(v, k)))
            }
            None => by.iter().any(|b| json_eq(b, &item)),
        };
        if found {
            inside.push(item)
        } else {
            outside.push(item)
        }
    }
    Ok((inside, outside))
}

/// Position of `item` in `order` (first match), by merge key or by value.
fn position(order: &[Value], item: &Value, key: Option<&str>) -> Option<usize> {
    order.iter().position(|o| match key {
        Some(key) => match (o.get(key), item.get(key)) {
            (Some(a), Some(b)) => json_eq(a, b),
            (a, b) => a.is_none() && b.is_none(),
        },
        None => json_eq(o, item),
    })
}

/// patch.go `normalizeElementOrder`: sorts the patch's items by the patch
/// order and the server-only items by the live order (stably; an item
/// missing from its order sorts last, where Go's comparator is
/// inconsistent), then `mergeSortedSlice`: a server-only item goes before
/// the first patch item that follows it in the live list, so new items
/// (not in the live list) come before the server-only items after them.
fn normalize_order(
    mut patch_items: Vec<Value>,
    mut server_only: Vec<Value>,
    patch_order: &[Value],
    server_order: &[Value],
    key: Option<&'static str>,
) -> Result<Vec<Value>, PatchError> {
    if let Some(key) = key {
        // `validateMergeKeyInLists`.
        for item in patch_items
            .iter()
            .chain(&server_only)
            .chain(patch_order)
            .chain(server_order)
        {
            key_of(item, key)?;
        }
    }
    patch_items.sort_by_key(|v| position(patch_order, v, key).unwrap_or(usize::MAX));
    server_only.sort_by_key(|v| position(server_order, v, key).unwrap_or(usize::MAX));
    let mut out = Vec::with_capacity(patch_items.len() + server_only.len());
    let (mut left, mut right) = (
        server_only.into_iter().peekable(),
        patch_items.into_iter().peekable(),
    );
    while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
        let (li, ri) = (
            position(server_order, l, key),
            position(server_order, r, key),
        );
        let next = if matches!((li, ri), (Some(li), Some(ri)) if li < ri) {
            left.next()
        } else {
            right.next()
        };
        out.extend(next);
    }
    out.extend(left);
    out.extend(right);
    Ok(out)
}

/// patch.go `discardNullValuesFromPatch` then `removeDirectives`: `None` for
/// a map carrying `$patch`. Also drops the other directive keys, which Go
/// leaves to be ignored when the map is decoded into its type.
fn strip(v: &Value) -> Option<Value> {
    match v {
        Value::Object(m) if m.contains_key(DIRECTIVE) => None,
        Value::Object(m) => Some(Value::Object(strip_map(m))),
        Value::Array(a) => Some(Value::Array(strip_list(a))),
        other => Some(other.clone()),
    }
}

fn strip_map(m: &Obj) -> Obj {
    let directive = |k: &str| {
        k == DIRECTIVE
            || k == RETAIN_KEYS
            || k.starts_with(SET_ORDER)
            || k.starts_with(DELETE_PRIMITIVE)
    };
    m.iter()
        .filter(|(k, v)| !v.is_null() && !directive(k))
        .filter_map(|(k, v)| Some((k.clone(), strip(v)?)))
        .collect()
}

fn strip_list(a: &[Value]) -> Vec<Value> {
    a.iter().filter_map(strip).collect()
}

/// Server-side apply as "create or merge" (application/apply-patch+yaml, body is JSON): deep-merges the applied config into the live object, lists by the same merge keys as SMP (so applying a container list merges by name), without SMP directives.
///
/// Simplified from structured-merge-diff: no managed fields, so nothing
/// the applier stopped setting is removed. A null in the applied config
/// clears the field (a null decodes to the zero value in a built-in type);
/// keyed lists keep the live order and append new items; `Set` lists are
/// unions; atomic lists, scalars and type changes replace.
pub fn apply_merge(target: &mut Value, applied: &Value, kind: &str) {
    apply_value(target, applied, kind, &[]);
}

fn apply_value(live: &mut Value, applied: &Value, kind: &str, path: &[String]) {
    match (live, applied) {
        (Value::Object(l), Value::Object(a)) => {
            for (k, v) in a {
                if v.is_null() {
                    l.shift_remove(k);
                } else if let Some(lv) = l.get_mut(k) {
                    apply_value(lv, v, kind, &child(path, k));
                } else {
                    l.insert(k.clone(), without_nulls(v));
                }
            }
        }
        (Value::Array(l), Value::Array(a)) => match list_meta(kind, path) {
            ListMeta::Keyed(key) => {
                for item in a {
                    let at = item.get(key).and_then(|k| {
                        l.iter()
                            .position(|x| x.get(key).is_some_and(|v| json_eq(v, k)))
                    });
                    match at.and_then(|i| l.get_mut(i)) {
                        Some(x) => apply_value(x, item, kind, path),
                        None => l.push(without_nulls(item)),
                    }
                }
            }
            ListMeta::Set => {
                for item in a {
                    if !l.iter().any(|x| json_eq(x, item)) {
                        l.push(item.clone());
                    }
                }
            }
            ListMeta::Atomic => *l = a.iter().map(without_nulls).collect(),
        },
        (live, applied) => *live = without_nulls(applied),
    }
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), without_nulls(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::json;
    use test_case::test_case;

    // RFC 7386 Appendix A, in order.
    #[test_case(json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"}))]
    #[test_case(json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"}))]
    #[test_case(json!({"a":"b"}), json!({"a":null}), json!({}))]
    #[test_case(json!({"a":"b","b":"c"}), json!({"a":null}), json!({"b":"c"}))]
    #[test_case(json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"}))]
    #[test_case(json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]}))]
    #[test_case(json!({"a":{"b":"c"}}), json!({"a":{"b":"d","c":null}}), json!({"a":{"b":"d"}}))]
    #[test_case(json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]}))]
    #[test_case(json!(["a","b"]), json!(["c","d"]), json!(["c","d"]))]
    #[test_case(json!({"a":"b"}), json!(["c"]), json!(["c"]))]
    #[test_case(json!({"a":"foo"}), json!(null), json!(null))]
    #[test_case(json!({"a":"foo"}), json!("bar"), json!("bar"))]
    #[test_case(json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1}))]
    #[test_case(json!([1,2]), json!({"a":"b","c":null}), json!({"a":"b"}))]
    #[test_case(json!({}), json!({"a":{"bb":{"ccc":null}}}), json!({"a":{"bb":{}}}))]
    fn merge_patch_rfc7386(mut target: Value, patch: Value, want: Value) {
        merge_patch(&mut target, &patch);
        assert_eq!(target, want);
    }

    #[test_case(json!({"a":1}), json!([{"op":"add","path":"/b","value":2}]), json!({"a":1,"b":2}); "add member")]
    #[test_case(json!({"a":1}), json!([{"op":"add","path":"/a","value":[]}]), json!({"a":[]}); "add replaces member")]
    #[test_case(json!({"a":[1,3]}), json!([{"op":"add","path":"/a/1","value":2}]), json!({"a":[1,2,3]}); "add inserts")]
    #[test_case(json!({"a":[1]}), json!([{"op":"add","path":"/a/-","value":2},{"op":"add","path":"/a/2","value":3}]), json!({"a":[1,2,3]}); "add appends")]
    #[test_case(json!({"a":1}), json!([{"op":"add","path":"","value":[9]}]), json!([9]); "add root")]
    #[test_case(json!({"a":1,"b":2}), json!([{"op":"remove","path":"/a"}]), json!({"b":2}); "remove member")]
    #[test_case(json!([1,2,3]), json!([{"op":"remove","path":"/1"}]), json!([1,3]); "remove element")]
    #[test_case(json!({"spec":{"replicas":1}}), json!([{"op":"replace","path":"/spec/replicas","value":3}]), json!({"spec":{"replicas":3}}); "replace member")]
    #[test_case(json!({"a":[1,2]}), json!([{"op":"replace","path":"/a/0","value":9}]), json!({"a":[9,2]}); "replace element")]
    #[test_case(json!({"a":1}), json!([{"op":"replace","path":"","value":{"b":2}}]), json!({"b":2}); "replace root")]
    #[test_case(json!({"a":{"b":1},"c":{}}), json!([{"op":"move","from":"/a/b","path":"/c/d"}]), json!({"a":{},"c":{"d":1}}); "move member")]
    #[test_case(json!([1,2,3]), json!([{"op":"move","from":"/0","path":"/-"}]), json!([2,3,1]); "move element")]
    #[test_case(json!({"a":{"b":[1]}}), json!([{"op":"copy","from":"/a/b","path":"/c"}]), json!({"a":{"b":[1]},"c":[1]}); "copy")]
    #[test_case(json!({"a":{"n":1,"s":["x"]}}), json!([{"op":"test","path":"/a","value":{"s":["x"],"n":1.0}}]), json!({"a":{"n":1,"s":["x"]}}); "test numbers and key order")]
    #[test_case(json!({"a/b":1,"m~n":2}), json!([{"op":"replace","path":"/a~1b","value":3},{"op":"remove","path":"/m~0n"}]), json!({"a/b":3}); "escapes")]
    fn json_patch_ok(mut target: Value, ops: Value, want: Value) {
        assert_eq!(json_patch(&mut target, &ops), Ok(()));
        assert_eq!(target, want);
    }

    #[test_case(json!([{"op":"remove","path":"/missing"}]), E::PathNotFound { op: "remove", path: "/missing".into() }; "remove missing")]
    #[test_case(json!([{"op":"add","path":"/x/y","value":1}]), E::PathNotFound { op: "add", path: "/x/y".into() }; "add missing parent")]
    #[test_case(json!([{"op":"replace","path":"/b","value":1}]), E::PathNotFound { op: "replace", path: "/b".into() }; "replace missing")]
    #[test_case(json!([{"op":"test","path":"/b","value":1}]), E::PathNotFound { op: "test", path: "/b".into() }; "test missing")]
    #[test_case(json!([{"op":"copy","from":"/b","path":"/c"}]), E::PathNotFound { op: "copy", path: "/b".into() }; "copy missing")]
    #[test_case(json!([{"op":"remove","path":""}]), E::PathNotFound { op: "remove", path: "".into() }; "remove root")]
    #[test_case(json!([{"op":"test","path":"/a","value":2}]), E::TestFailed { path: "/a".into() }; "test failed")]
    #[test_case(json!([{"op":"add","path":"/list/3","value":0}]), E::InvalidIndex { op: "add", path: "/list/3".into(), index: "3".into() }; "add past end")]
    #[test_case(json!([{"op":"add","path":"/list/01","value":0}]), E::InvalidIndex { op: "add", path: "/list/01".into(), index: "01".into() }; "leading zero")]
    #[test_case(json!([{"op":"remove","path":"/list/2"}]), E::InvalidIndex { op: "remove", path: "/list/2".into(), index: "2".into() }; "remove past end")]
    #[test_case(json!([{"op":"replace","path":"/list/-","value":0}]), E::InvalidIndex { op: "replace", path: "/list/-".into(), index: "-".into() }; "replace dash")]
    #[test_case(json!([{"op":"move","from":"/list","path":"/list/0"}]), E::MoveIntoChild { from: "/list".into(), path: "/list/0".into() }; "move into child")]
    #[test_case(json!([{"op":"frob","path":"/a"}]), E::InvalidOperation("unexpected kind: frob".into()); "unknown op")]
    #[test_case(json!([{"op":"add","path":"/b"}]), E::InvalidOperation("add operation, missing value field: missing value".into()); "no value")]
    #[test_case(json!([{"op":"remove"}]), E::InvalidOperation("remove operation failed to decode path: missing value".into()); "no path")]
    #[test_case(json!({"op":"add"}), E::JsonPatchDecode { found: "object", target: "Patch" }; "not a list")]
    #[test_case(json!(["add"]), E::JsonPatchDecode { found: "string", target: "Operation" }; "not an op")]
    #[test_case(json!([{"op":"add","path":"/b","value":2},{"op":"remove","path":"/list/0"},{"op":"test","path":"/a","value":9}]), E::TestFailed { path: "/a".into() }; "all or nothing")]
    fn json_patch_errors(ops: Value, want: PatchError) {
        let original = json!({"a": 1, "list": [1, 2]});
        let mut doc = original.clone();
        assert_eq!(json_patch(&mut doc, &ops), Err(want));
        assert_eq!(doc, original);
    }

    #[test]
    fn json_patch_operation_limit() {
        let ops = Value::Array(vec![json!({"op":"test","path":"","value":{}}); 10_001]);
        let want = E::TooManyOperations {
            max: 10_000,
            got: 10_001,
        };
        assert_eq!(json_patch(&mut json!({}), &ops), Err(want));
    }

    #[test_case(E::PathNotFound { op: "remove", path: "/x".into() }, r#"remove operation does not apply: doc is missing path: "/x": missing value"#)]
    #[test_case(E::InvalidIndex { op: "add", path: "/l/5".into(), index: "5".into() }, "error in add for path: '/l/5': unable to access invalid index: 5: invalid index referenced")]
    #[test_case(E::TestFailed { path: "/a".into() }, "testing value /a failed: test failed")]
    #[test_case(E::UnknownPatchType { directive: "frob".into(), map: r#"{"$patch":"frob"}"#.into() }, r#"unknown patch type: frob in map: {"$patch":"frob"}"#)]
    #[test_case(E::NoMergeKey { map: r#"{"image":"x"}"#.into(), key: "name" }, r#"map: {"image":"x"} does not contain declared merge key: name"#)]
    #[test_case(
        E::InvalidPatchFormat("setElementOrder list"),
        "invalid patch format of setElementOrder list"
    )]
    fn error_messages(err: PatchError, want: &str) {
        assert_eq!(err.to_string(), want);
    }

    fn pod(containers: Value) -> Value {
        json!({"metadata": {"name": "p"}, "spec": {"containers": containers}})
    }

    // Service port 9080 -> 9081, as kubectl apply sends it.
    #[test_case("Service", json!({"spec":{"ports":[{"name":"http","port":9080,"protocol":"TCP","targetPort":9080}],"selector":{"app":"r"}}}), json!({"spec":{"$setElementOrder/ports":[{"port":9081}],"ports":[{"name":"http","port":9081},{"$patch":"delete","port":9080}]}}), json!({"spec":{"ports":[{"name":"http","port":9081}],"selector":{"app":"r"}}}); "kubectl service port")]
    // Deployment image bump, as kubectl apply sends it.
    #[test_case("Deployment", json!({"metadata":{"annotations":{"rev":"1"}},"spec":{"replicas":3,"template":{"spec":{"containers":[{"name":"reviews","image":"r:1.20.0","ports":[{"containerPort":9080}]}]}}}}), json!({"metadata":{"annotations":{"kubectl.kubernetes.io/last-applied-configuration":"{}"}},"spec":{"replicas":1,"template":{"spec":{"$setElementOrder/containers":[{"name":"reviews"}],"containers":[{"name":"reviews","image":"r:1.21.0"}]}}}}), json!({"metadata":{"annotations":{"rev":"1","kubectl.kubernetes.io/last-applied-configuration":"{}"}},"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"reviews","image":"r:1.21.0","ports":[{"containerPort":9080}]}]}}}}); "kubectl deployment image")]
    // kubectl apply after an env var was removed from the manifest.
    #[test_case("Deployment", json!({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"i","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}]}}}}), json!({"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c"}],"containers":[{"$setElementOrder/env":[{"name":"A"}],"env":[{"$patch":"delete","name":"B"}],"name":"c"}]}}}}), json!({"spec":{"template":{"spec":{"containers":[{"name":"c","image":"i","env":[{"name":"A","value":"1"}]}]}}}}); "kubectl env removal")]
    #[test_case("Deployment", json!({"spec":{"template":{"metadata":{"labels":{"app":"r"}}}}}), json!({"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-01T00:00:00Z"}}}}}), json!({"spec":{"template":{"metadata":{"labels":{"app":"r"},"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-01-01T00:00:00Z"}}}}}); "kubectl rollout restart")]
    // patch.go mergeSortedSlice: an item the live list lacks goes first.
    #[test_case("Pod", pod(json!([{"name":"app","image":"a"}])), json!({"spec":{"containers":[{"name":"side","image":"s"}]}}), pod(json!([{"name":"side","image":"s"},{"name":"app","image":"a"}])); "new container without order goes first")]
    #[test_case("Pod", pod(json!([{"name":"app","image":"a"}])), json!({"spec":{"$setElementOrder/containers":[{"name":"app"},{"name":"side"}],"containers":[{"name":"side","image":"s"}]}}), pod(json!([{"name":"app","image":"a"},{"name":"side","image":"s"}])); "set element order appends")]
    // strategicpatch testdata "set elements order in a list with server-only items".
    #[test_case("Pod", pod(json!([{"name":"1"},{"name":"3"},{"name":"4"},{"name":"2"},{"name":"9"}])), json!({"spec":{"$setElementOrder/containers":[{"name":"4"},{"name":"2"},{"name":"3"},{"name":"1"}]}}), pod(json!([{"name":"4"},{"name":"2"},{"name":"3"},{"name":"1"},{"name":"9"}])); "set element order with server-only items")]
    // strategicpatch testdata "preserve the order from the patch in a merging list 2".
    #[test_case("Pod", pod(json!([{"name":"1"},{"name":"2","image":"b"},{"name":"3"}])), json!({"spec":{"containers":[{"name":"3","image":"c"},{"name":"1","image":"a"}]}}), pod(json!([{"name":"2","image":"b"},{"name":"3","image":"c"},{"name":"1","image":"a"}])); "patch order kept")]
    // strategicpatch testdata "add map and delete map from merging list" (3-way): Go's slice aliasing.
    #[test_case("Pod", pod(json!([{"name":"1"},{"name":"2","image":"b"},{"name":"4","image":"c"}])), json!({"spec":{"$setElementOrder/containers":[{"name":"2"},{"name":"3"}],"containers":[{"name":"3"},{"name":"1","$patch":"delete"}]}}), pod(json!([{"name":"2","image":"b"},{"name":"4","image":"c"},{"name":"3"}])); "delete and add with server-only item")]
    #[test_case("Pod", pod(json!([{"name":"a","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]}])), json!({"spec":{"containers":[{"name":"a","env":[{"name":"B","value":"3"}]}]}}), pod(json!([{"name":"a","env":[{"name":"A","value":"1"},{"name":"B","value":"3"}]}])); "env by name")]
    #[test_case("Pod", pod(json!([{"name":"a","ports":[{"containerPort":80,"name":"http"},{"containerPort":443}]}])), json!({"spec":{"containers":[{"name":"a","ports":[{"containerPort":80,"protocol":"TCP"}]}]}}), pod(json!([{"name":"a","ports":[{"containerPort":80,"name":"http","protocol":"TCP"},{"containerPort":443}]}])); "container ports by containerPort")]
    #[test_case("Pod", pod(json!([{"name":"a","volumeMounts":[{"name":"x","mountPath":"/x"},{"name":"y","mountPath":"/y"}]}])), json!({"spec":{"containers":[{"name":"a","volumeMounts":[{"mountPath":"/y","readOnly":true}]}]}}), pod(json!([{"name":"a","volumeMounts":[{"name":"x","mountPath":"/x"},{"name":"y","mountPath":"/y","readOnly":true}]}])); "volume mounts by mountPath")]
    #[test_case("Pod", json!({"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"Initialized","status":"True"}]}}), json!({"status":{"conditions":[{"type":"Ready","status":"True"}]}}), json!({"status":{"conditions":[{"type":"Ready","status":"True"},{"type":"Initialized","status":"True"}]}}); "conditions by type")]
    #[test_case("Node", json!({"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.1"},{"type":"Hostname","address":"n1"}]}}), json!({"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.2"}]}}), json!({"status":{"addresses":[{"type":"InternalIP","address":"10.0.0.2"},{"type":"Hostname","address":"n1"}]}}); "node addresses by type")]
    #[test_case("CronJob", json!({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"1","args":["x"]}]}}}}}}), json!({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"2"}]}}}}}}), json!({"spec":{"jobTemplate":{"spec":{"template":{"spec":{"containers":[{"name":"c","image":"2","args":["x"]}]}}}}}}); "cronjob pod template")]
    #[test_case("ConfigMap", json!({"metadata":{"ownerReferences":[{"uid":"u1","name":"a"},{"uid":"u2","name":"b"}]}}), json!({"metadata":{"ownerReferences":[{"uid":"u2","controller":true}]}}), json!({"metadata":{"ownerReferences":[{"uid":"u1","name":"a"},{"uid":"u2","name":"b","controller":true}]}}); "owner references by uid")]
    #[test_case("Namespace", json!({"metadata":{"finalizers":["a","b"]}}), json!({"metadata":{"finalizers":["b","c"]}}), json!({"metadata":{"finalizers":["a","b","c"]}}); "finalizers union")]
    #[test_case("Namespace", json!({"metadata":{"finalizers":["a","b","c"]}}), json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["b","z"]}}), json!({"metadata":{"finalizers":["a","c"]}}); "delete from primitive list")]
    #[test_case("Namespace", json!({"metadata":{}}), json!({"metadata":{"$deleteFromPrimitiveList/finalizers":["b"]}}), json!({"metadata":{}}); "delete from absent primitive list")]
    #[test_case("ConfigMap", json!({"data":{"a":"1","b":"2"},"metadata":{"labels":{"x":"y"}}}), json!({"data":{"a":null,"zz":null},"metadata":{"labels":null}}), json!({"data":{"b":"2"},"metadata":{}}); "null deletes")]
    #[test_case("Pod", json!({"spec":{"tolerations":[{"key":"a"}],"nodeSelector":{"a":"1"},"x":{"y":[1,2],"z":"s"}}}), json!({"spec":{"tolerations":[{"key":"b"}],"nodeSelector":{"b":"2"},"x":{"y":[3],"z":{"k":null,"v":1}}}}), json!({"spec":{"tolerations":[{"key":"b"}],"nodeSelector":{"a":"1","b":"2"},"x":{"y":[3],"z":{"v":1}}}}); "atomic and unknown fields")]
    #[test_case("Pod", json!({"metadata":{"labels":{"a":"1","b":"2"}}}), json!({"metadata":{"labels":{"$patch":"replace","c":"3"}}}), json!({"metadata":{"labels":{"c":"3"}}}); "replace map")]
    // strategicpatch testdata "delete map from nested map": the key stays, empty.
    #[test_case("Pod", json!({"metadata":{"labels":{"a":"1"}}}), json!({"metadata":{"labels":{"$patch":"delete"}}}), json!({"metadata":{"labels":{}}}); "delete map")]
    #[test_case("Pod", json!({"metadata":{}}), json!({"metadata":{"labels":{"$patch":"delete"}}}), json!({"metadata":{}}); "delete absent map")]
    #[test_case("Pod", pod(json!([{"name":"a"},{"name":"b"}])), json!({"spec":{"containers":[{"$patch":"replace"},{"name":"c","image":"c"}]}}), pod(json!([{"name":"c","image":"c"}])); "replace list")]
    #[test_case("Pod", pod(json!([{"name":"a"},{"name":"b"},{"name":"a","image":"dup"}])), json!({"spec":{"containers":[{"name":"a","$patch":"delete"}]}}), pod(json!([{"name":"b"}])); "delete list items by key")]
    #[test_case("Deployment", json!({"spec":{"strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":1}}}}), json!({"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}), json!({"spec":{"strategy":{"type":"Recreate"}}}); "retain keys")]
    #[test_case("Pod", json!({"metadata":{},"spec":{}}), json!({"metadata":{"annotations":{"a":"1","b":null}},"spec":{"initContainers":[{"name":"i","$setElementOrder/env":[{"name":"A"}],"env":[{"name":"A","value":"1"},{"name":"B","$patch":"delete"}]}]}}), json!({"metadata":{"annotations":{"a":"1"}},"spec":{"initContainers":[{"name":"i","env":[{"name":"A","value":"1"}]}]}}); "directives and nulls stripped from new values")]
    fn strategic(kind: &str, mut target: Value, patch: Value, want: Value) {
        assert_eq!(strategic_merge_patch(&mut target, &patch, kind), Ok(()));
        assert_eq!(target, want);
    }

    #[test_case(json!({"metadata":{"labels":{"$patch":"frob"}}}), E::UnknownPatchType { directive: "frob".into(), map: r#"{"$patch":"frob"}"#.into() }; "unknown map directive")]
    #[test_case(json!({"metadata":{"labels":{"$patch":"merge","a":"2"}}}), E::UnknownPatchType { directive: "merge".into(), map: r#"{"$patch":"merge","a":"2"}"#.into() }; "merge map directive")]
    #[test_case(json!({"spec":{"containers":[{"$patch":"merge"}]}}), E::ListMergeDirective; "merge list directive")]
    #[test_case(json!({"spec":{"containers":[{"$patch":"frob","name":"a"}]}}), E::UnknownPatchType { directive: "frob".into(), map: r#"{"$patch":"frob","name":"a"}"#.into() }; "unknown list directive")]
    #[test_case(json!({"spec":{"containers":[{"image":"x"}]}}), E::NoMergeKey { map: r#"{"image":"x"}"#.into(), key: "name" }; "missing merge key")]
    #[test_case(json!({"spec":{"containers":[{"$patch":"delete"}]}}), E::NoMergeKey { map: r#"{"$patch":"delete"}"#.into(), key: "name" }; "delete without merge key")]
    #[test_case(json!({"spec":{"$setElementOrder/containers":[{"name":"a"}],"containers":[{"name":"b"}]}}), E::SetElementOrderMismatch { patch: r#"[{"name":"b"}]"#.into(), order: r#"[{"name":"a"}]"#.into() }; "order mismatch")]
    #[test_case(json!({"spec":{"$setElementOrderContainers":[]}}), E::InvalidPatchFormat("setElementOrder list"); "bad order key")]
    #[test_case(json!({"metadata":{"$deleteFromPrimitiveListfinalizers":["a"]}}), E::InvalidPatchFormat("primitive list"); "bad delete key")]
    #[test_case(json!({"spec":{"$retainKeys":["containers"],"hostname":"h"}}), E::InvalidPatchFormat("retainKeys"); "retain keys violated")]
    #[test_case(json!({"spec":{"$retainKeys":"containers"}}), E::InvalidPatchFormat("retainKeys"); "retain keys not a list")]
    #[test_case(json!({"metadata":{"finalizers":[1]}}), E::MixedListTypes(r#"["f"] [1]"#.into()); "mixed list")]
    #[test_case(json!({"metadata":{"finalizers":[{"a":1}]}}), E::MixedListTypes(r#"["f"] [{"a":1}]"#.into()); "map in primitive list")]
    #[test_case(json!({"metadata":{"ownerReferences":[["u"]]}}), E::ListOfLists; "list of lists")]
    #[test_case(json!({"spec":{"$setElementOrder/containers":["a"]}}), E::BadArgType { expected: "object", actual: "string" }; "primitive in order list")]
    #[test_case(json!([1]), E::InvalidJsonDocument; "not an object")]
    fn strategic_errors(patch: Value, want: PatchError) {
        let original = json!({"metadata":{"finalizers":["f"],"ownerReferences":[],"labels":{"a":"1"}},"spec":{"containers":[{"name":"a"}],"volumes":[{"name":"v"}]}});
        let mut target = original.clone();
        assert_eq!(strategic_merge_patch(&mut target, &patch, "Pod"), Err(want));
        assert_eq!(target, original);
    }

    #[test]
    fn strategic_maps_in_keyless_merge_list() {
        let mut ns = json!({"metadata": {"finalizers": [{"a": 1}]}});
        let err = strategic_merge_patch(
            &mut ns,
            &json!({"metadata": {"finalizers": [{"b": 2}]}}),
            "Namespace",
        );
        assert_eq!(err, Err(E::NoMergeKeyForList("metadata.finalizers".into())));
    }

    #[test_case("Deployment", json!({"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"app","image":"1","ports":[{"containerPort":80}]}]}}}}), json!({"spec":{"template":{"spec":{"containers":[{"name":"app","image":"2"},{"name":"side","image":"s","args":[null]}]}}}}), json!({"spec":{"replicas":1,"template":{"spec":{"containers":[{"name":"app","image":"2","ports":[{"containerPort":80}]},{"name":"side","image":"s","args":[null]}]}}}}); "containers by name")]
    #[test_case("Pod", pod(json!([{"name":"a","args":["x","y"]}])), json!({"spec":{"containers":[{"name":"a","args":["z"]}]}}), pod(json!([{"name":"a","args":["z"]}])); "atomic list replaced")]
    #[test_case("Service", json!({"spec":{"ports":[{"port":80,"targetPort":8080}]}}), json!({"spec":{"ports":[{"port":80,"name":"http"},{"port":443}]}}), json!({"spec":{"ports":[{"port":80,"targetPort":8080,"name":"http"},{"port":443}]}}); "service ports by port")]
    #[test_case("Namespace", json!({"metadata":{"finalizers":["a"],"labels":{"x":"1","y":"2"}}}), json!({"metadata":{"finalizers":["b","a"],"labels":{"x":null}}}), json!({"metadata":{"finalizers":["a","b"],"labels":{"y":"2"}}}); "finalizers union and null clears")]
    #[test_case("ConfigMap", json!(null), json!({"metadata":{"name":"c","labels":null},"data":{"k":"v"}}), json!({"metadata":{"name":"c"},"data":{"k":"v"}}); "create")]
    #[test_case("Pod", json!({"metadata":{"labels":{"a":"1"}}}), json!({"metadata":{"labels":{"$patch":"replace"}}}), json!({"metadata":{"labels":{"a":"1","$patch":"replace"}}}); "no directives")]
    fn apply(kind: &str, mut live: Value, applied: Value, want: Value) {
        apply_merge(&mut live, &applied, kind);
        assert_eq!(live, want);
    }

    fn arb_json() -> impl Strategy<Value = Value> {
        let keys = [
            "name",
            "spec",
            "containers",
            "env",
            "port",
            "ports",
            "metadata",
            "finalizers",
            "$patch",
        ];
        let keys = keys.into_iter().chain([
            "$retainKeys",
            "$setElementOrder/containers",
            "$deleteFromPrimitiveList/finalizers",
        ]);
        let key = prop::sample::select(keys.collect::<Vec<_>>());
        let words = prop::sample::select(vec!["a", "name", "delete", "replace", "merge"]);
        let leaf = prop_oneof![
            Just(Value::Null),
            (0u8..3).prop_map(Value::from),
            words.prop_map(Value::from)
        ];
        leaf.prop_recursive(4, 40, 4, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((key.clone(), inner), 0..4).prop_map(|kv| Value::Object(
                    kv.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
                )),
            ]
        })
    }

    fn has_directive(v: &Value) -> bool {
        match v {
            Value::Object(m) => m
                .iter()
                .any(|(k, v)| k.starts_with('$') || has_directive(v)),
            Value::Array(a) => a.iter().any(has_directive),
            _ => false,
        }
    }

    proptest! {
        /// No input panics; a refused patch changes nothing; an accepted
        /// strategic merge patch leaves no directive behind.
        #[test]
        fn any_input(target in arb_json(), patch in arb_json()) {
            let mut t = target.clone();
            match strategic_merge_patch(&mut t, &patch, "Pod") {
                Ok(()) => prop_assert!(has_directive(&target) || !has_directive(&t), "{t}"),
                Err(_) => prop_assert_eq!(&t, &target),
            }
            let mut t = target.clone();
            if json_patch(&mut t, &patch).is_err() {
                prop_assert_eq!(&t, &target);
            }
            merge_patch(&mut target.clone(), &patch);
            apply_merge(&mut target.clone(), &patch, "Pod");
        }
    }
}
