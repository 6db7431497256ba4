//! Server-side `meta.k8s.io/v1` Table rendering for `kubectl get`.
//!
//! kubectl asks list/get requests with `Accept: application/json;as=Table;v=v1;g=meta.k8s.io`
//! and prints the cells it gets back verbatim, so the columns, their order and every cell's
//! text must be what the real kube-apiserver would send. The rules here follow, for
//! Kubernetes 1.32:
//!
//! - built-in kinds: `pkg/printers/internalversion/printers.go`, rendered by
//!   `pkg/printers/storage` with `GenerateOptions{Wide: true}`, so the server always sends the
//!   `-o wide` (priority 1) cells too and kubectl hides them itself;
//! - built-in kinds without a printer: `apiserver/pkg/registry/rest/table.go`
//!   (`defaultTableConvertor`: Name, Created At);
//! - custom resources: `apiextensions-apiserver/pkg/registry/customresource/tableconvertor`
//!   over the CRD's `additionalPrinterColumns` (Istio 1.27 `crd-all.gen.yaml`, Gateway API
//!   v1.3.0 standard CRDs), or the single default `Age` column of
//!   `apiextensions-apiserver/pkg/apiserver/helpers.go` (`serveDefaultColumnsIfEmpty`);
//! - each row's object: `meta.AsPartialObjectMetadata`, the default `includeObject=Metadata`.
//!
//! Objects arrive as stored (versioned JSON). Where the real server would see a value that
//! the API's read path fills in (defaulting on decode, v1→internal conversion, registry
//! decorators) the printers below apply that first; each such place says so.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// Renders objects of one resource as a `meta.k8s.io/v1` Table.
///
/// `objects` are full JSON objects as stored (`apiVersion`, `kind`, `metadata`, `spec`,
/// `status`) of the kind `kind` in API group `group` (`""` for core); they render in the
/// order given. `now_unix` is the server clock (Unix seconds) used for AGE and "x ago" cells;
/// `resource_version` goes into the Table's `metadata`.
pub fn render(
    group: &str,
    kind: &str,
    objects: &[&Value],
    now_unix: u64,
    resource_version: &str,
) -> Value {
    let now = i128::from(now_unix) * NANOS;
    let (columns, rows): (Vec<Value>, Vec<Value>) =
        if let Some((cols, row_fn)) = builtin(group, kind) {
            let rows = objects
                .iter()
                .map(|o| {
                    let conditions = if (group, kind) == ("", "Pod") {
                        pod_conditions(o)
                    } else {
                        None
                    };
                    table_row(row_fn(o, now), conditions, o)
                })
                .collect();
            (cols.iter().map(Col::definition).collect(), rows)
        } else if is_builtin_group(group) {
            let cols = [NAME, col("Created At", "date", doc::CREATION_TIMESTAMP)];
            let rows = objects
                .iter()
                .map(|o| table_row(created_at_row(o), None, o))
                .collect();
            (cols.iter().map(Col::definition).collect(), rows)
        } else {
            let crd_cols = crd_columns(group, kind).unwrap_or(CRD_DEFAULT);
            let mut cols = vec![NAME.definition()];
            cols.extend(crd_cols.iter().map(CrdCol::definition));
            let rows = objects
                .iter()
                .map(|o| {
                    let mut cells = vec![Value::from(name(o))];
                    cells.extend(crd_cols.iter().map(|c| crd_cell(c, o, now)));
                    table_row(cells, None, o)
                })
                .collect();
            (cols, rows)
        };
    // `ListMeta.resourceVersion` is `omitempty`.
    let mut meta = Map::new();
    if !resource_version.is_empty() {
        meta.insert("resourceVersion".into(), resource_version.into());
    }
    json!({
        "kind": "Table",
        "apiVersion": "meta.k8s.io/v1",
        "metadata": meta,
        "columnDefinitions": columns,
        "rows": rows,
    })
}

/// Kubernetes' `duration.HumanDuration` (`k8s.io/apimachinery/pkg/util/duration`) of a
/// whole number of seconds: `"59s"`, `"119s"`, `"2m"`, `"9m59s"`, `"10m"`, `"179m"`, `"3h"`,
/// `"7h59m"`, `"8h"`, `"47h"`, `"2d"`, `"7d23h"`, `"8d"`, `"729d"`, `"2y"`, `"7y364d"`,
/// `"8y"`; `"0s"` for -1 (clock skew), `"<invalid>"` below that.
pub fn human_duration(seconds: i64) -> String {
    human_duration_nanos(i128::from(seconds) * NANOS)
}

/// Parses an RFC 3339 timestamp such as `"2026-01-01T00:00:05Z"` (optionally with a
/// fraction and a `±hh:mm` offset) into Unix seconds, rounded down; `None` if malformed.
pub fn parse_rfc3339(s: &str) -> Option<i64> {
    i64::try_from(parse_rfc3339_nanos(s)?.div_euclid(NANOS)).ok()
}

// ---------------------------------------------------------------------------------------
// Time
// ---------------------------------------------------------------------------------------

const NANOS: i128 = 1_000_000_000;
/// Go's zero `time.Time`, 0001-01-01T00:00:00Z, in Unix seconds: `metav1.Time.IsZero`.
const GO_ZERO_TIME_SECS: i128 = -62_135_596_800;

/// `duration.HumanDuration` on a duration in nanoseconds, as Go's `time.Duration` is.
fn human_duration_nanos(d: i128) -> String {
    // `int(d.Seconds())` truncates toward zero; a second of skew still reads "0s".
    let seconds = d / NANOS;
    if seconds < -1 {
        return "<invalid>".into();
    } else if seconds < 0 {
        return "0s".into();
    } else if seconds < 60 * 2 {
        return format!("{seconds}s");
    }
    let minutes = d / (60 * NANOS);
    if minutes < 10 {
        let s = seconds % 60;
        return if s == 0 {
            format!("{minutes}m")
        } else {
            format!("{minutes}m{s}s")
        };
    } else if minutes < 60 * 3 {
        return format!("{minutes}m");
    }
    let hours = d / (3600 * NANOS);
    if hours < 8 {
        let m = minutes % 60;
        if m == 0 {
            format!("{hours}h")
        } else {
            format!("{hours}h{m}m")
        }
    } else if hours < 48 {
        format!("{hours}h")
    } else if hours < 24 * 8 {
        let h = hours % 24;
        if h == 0 {
            format!("{}d", hours / 24)
        } else {
            format!("{}d{h}h", hours / 24)
        }
    } else if hours < 24 * 365 * 2 {
        format!("{}d", hours / 24)
    } else if hours < 24 * 365 * 8 {
        let dy = (hours / 24) % 365;
        if dy == 0 {
            format!("{}y", hours / 24 / 365)
        } else {
            format!("{}y{dy}d", hours / 24 / 365)
        }
    } else {
        format!("{}y", hours / 24 / 365)
    }
}

/// RFC 3339 as Go's `time.Parse(time.RFC3339, …)` takes it on its fast path
/// (`metav1.Time` JSON and `UnmarshalQueryParameter`): fixed-width fields, an optional
/// fraction (nanosecond precision, further digits ignored), then `Z` or `±hh:mm`.
fn parse_rfc3339_nanos(s: &str) -> Option<i128> {
    let b = s.as_bytes();
    let num = |from: usize, to: usize| -> Option<i64> {
        let digits = b.get(from..to)?;
        digits.iter().try_fold(0i64, |acc, d| {
            d.is_ascii_digit().then(|| acc * 10 + i64::from(d - b'0'))
        })
    };
    let seps = [(4, b'-'), (7, b'-'), (10, b'T'), (13, b':'), (16, b':')];
    if b.len() < 20 || seps.iter().any(|&(i, c)| b[i] != c) {
        return None;
    }
    let (year, month, day) = (num(0, 4)?, num(5, 7)?, num(8, 10)?);
    let (hour, min, sec) = (num(11, 13)?, num(14, 16)?, num(17, 19)?);
    if !(1..=12).contains(&month)
        || !(1..=days_in_month(year, month)).contains(&day)
        || hour > 23
        || min > 59
        || sec > 59
    {
        return None;
    }
    let mut rest = &b[19..];
    let mut frac: i128 = 0;
    if let Some(after_dot) = rest.strip_prefix(b".") {
        let len = after_dot.iter().take_while(|d| d.is_ascii_digit()).count();
        if len == 0 {
            return None;
        }
        for k in 0..9 {
            frac = frac * 10
                + after_dot
                    .get(k)
                    .filter(|_| k < len)
                    .map_or(0, |d| i128::from(d - b'0'));
        }
        rest = &after_dot[len..];
    }
    let offset = match rest {
        b"Z" => 0,
        [sign @ (b'+' | b'-'), h1, h2, b':', m1, m2] => {
            let two = |a: u8, c: u8| {
                (a.is_ascii_digit() && c.is_ascii_digit())
                    .then(|| i64::from(a - b'0') * 10 + i64::from(c - b'0'))
            };
            let (h, m) = (two(*h1, *h2)?, two(*m1, *m2)?);
            if h > 23 || m > 59 {
                return None;
            }
            if *sign == b'-' {
                -(h * 3600 + m * 60)
            } else {
                h * 3600 + m * 60
            }
        }
        _ => return None,
    };
    let secs = days_from_civil(year, month, day) * 86_400 + hour * 3600 + min * 60 + sec - offset;
    Some(i128::from(secs) * NANOS + frac)
}

fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's `days_from_civil`).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * ((m + 9) % 12) + 2) / 5 + d - 1;
    era * 146_097 + yoe * 365 + yoe / 4 - yoe / 100 + doy - 719_468
}

/// `t.UTC().Format(time.RFC3339)`: whole seconds, `Z`.
fn format_rfc3339(t: i128) -> String {
    crate::sim::time::rfc3339_signed(i64::try_from(t.div_euclid(NANOS)).unwrap_or(0))
}

/// A `metav1.Time`/`MicroTime` field: `None` when absent, null, unparseable or Go's zero
/// time, which is what `IsZero` reports for all of them after decoding.
fn ts(v: &Value) -> Option<i128> {
    parse_rfc3339_nanos(v.as_str()?).filter(|&t| t != GO_ZERO_TIME_SECS * NANOS)
}

/// printers.go `translateTimestampSince` / `translateMicroTimestampSince`.
fn since(t: Option<i128>, now: i128) -> String {
    t.map_or_else(|| "<unknown>".into(), |t| human_duration_nanos(now - t))
}

/// `a.Before(&b)` fold used for the last restart: keeps the later time.
fn later(a: Option<i128>, b: Option<i128>) -> Option<i128> {
    a.max(b)
}

// ---------------------------------------------------------------------------------------
// JSON access (never panics: serde_json indexing yields Null for anything missing)
// ---------------------------------------------------------------------------------------

fn s(v: &Value) -> &str {
    v.as_str().unwrap_or("")
}

/// An integer field as Go decodes it (int32/int64); 0 when absent or not a number.
fn n(v: &Value) -> i64 {
    v.as_i64()
        .or_else(|| v.as_u64().map(|u| i64::try_from(u).unwrap_or(i64::MAX)))
        .or_else(|| v.as_f64().map(|f| f as i64))
        .unwrap_or(0)
}

fn list(v: &Value) -> &[Value] {
    v.as_array().map_or(&[], Vec::as_slice)
}

fn len_of(v: &Value) -> usize {
    v.as_object().map_or(0, Map::len)
}

/// A Go pointer/struct field that decoding would leave non-nil.
fn present(v: &Value) -> bool {
    !v.is_null()
}

fn is_true(v: &Value) -> bool {
    v.as_bool() == Some(true)
}

fn name(o: &Value) -> &str {
    s(&o["metadata"]["name"])
}

fn age(o: &Value, now: i128) -> Value {
    since(ts(&o["metadata"]["creationTimestamp"]), now).into()
}

/// printers.go `layoutContainerCells`: names and images, each joined with ",".
fn containers_and_images(pod_spec: &Value) -> (Value, Value) {
    let cs = list(&pod_spec["containers"]);
    let names: Vec<&str> = cs.iter().map(|c| s(&c["name"])).collect();
    let images: Vec<&str> = cs.iter().map(|c| s(&c["image"])).collect();
    (names.join(",").into(), images.join(",").into())
}

/// `labels.FormatLabels`: `k=v` pairs sorted as whole strings (not by key), joined with
/// ","; `<none>` when empty.
fn format_labels(m: &Value) -> String {
    let mut pairs: Vec<String> = m
        .as_object()
        .into_iter()
        .flatten()
        .map(|(k, v)| format!("{k}={}", s(v)))
        .collect();
    pairs.sort();
    if pairs.is_empty() {
        "<none>".into()
    } else {
        pairs.join(",")
    }
}

/// `metav1.LabelSelectorAsSelector(sel).String()`: `Err` where Go returns an error.
/// Requirements are sorted by key (`internalSelector.Add`), `In`/`NotIn` values sorted.
/// A missing selector (`labels.Nothing()`) and an empty one (`labels.Everything()`) both
/// print as "". Label key/value syntax is not validated here.
fn selector_string(sel: &Value) -> Result<String, ()> {
    let mut reqs: Vec<(String, String)> = Vec::new();
    for (k, v) in sel["matchLabels"].as_object().into_iter().flatten() {
        reqs.push((k.clone(), format!("{k}={}", s(v))));
    }
    for e in list(&sel["matchExpressions"]) {
        let key = s(&e["key"]);
        let mut vals: Vec<&str> = list(&e["values"]).iter().map(s).collect();
        vals.sort_unstable();
        let req = match (s(&e["operator"]), vals.is_empty()) {
            ("In", false) => format!("{key} in ({})", vals.join(",")),
            ("NotIn", false) => format!("{key} notin ({})", vals.join(",")),
            ("Exists", true) => key.to_string(),
            ("DoesNotExist", true) => format!("!{key}"),
            _ => return Err(()),
        };
        reqs.push((key.to_string(), req));
    }
    reqs.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(reqs.into_iter().map(|r| r.1).collect::<Vec<_>>().join(","))
}

/// `metav1.FormatLabelSelector`: `<error>` on a bad selector, `<none>` when it prints empty.
fn format_label_selector(sel: &Value) -> String {
    match selector_string(sel) {
        Err(()) => "<error>".into(),
        Ok(l) if l.is_empty() => "<none>".into(),
        Ok(l) => l,
    }
}

/// `intstr.IntOrString.String()`.
fn int_or_string(v: &Value) -> String {
    v.as_str().map_or_else(|| n(v).to_string(), str::to_string)
}

/// `spec.replicas` after v1 defaulting (`SetDefaults_Deployment` / `_ReplicaSet` /
/// `_StatefulSet` set a missing value to 1 when the object is decoded).
fn replicas(spec: &Value) -> i64 {
    if present(&spec["replicas"]) {
        n(&spec["replicas"])
    } else {
        1
    }
}

// ---------------------------------------------------------------------------------------
// Rows and columns
// ---------------------------------------------------------------------------------------

/// A `metav1.TableColumnDefinition`; every field is serialized (none is `omitempty`).
#[derive(Clone, Copy)]
struct Col {
    name: &'static str,
    ty: &'static str,
    format: &'static str,
    desc: &'static str,
    priority: u8,
}

impl Col {
    fn definition(&self) -> Value {
        json!({"name": self.name, "type": self.ty, "format": self.format,
               "description": self.desc, "priority": self.priority})
    }
}

const fn col(name: &'static str, ty: &'static str, desc: &'static str) -> Col {
    Col {
        name,
        ty,
        format: "",
        desc,
        priority: 0,
    }
}

/// A priority-1 column: shown by `kubectl get -o wide` only.
const fn wide(name: &'static str, ty: &'static str, desc: &'static str) -> Col {
    Col {
        name,
        ty,
        format: "",
        desc,
        priority: 1,
    }
}

const NAME: Col = Col {
    name: "Name",
    ty: "string",
    format: "name",
    desc: doc::NAME,
    priority: 0,
};
const AGE: Col = col("Age", "string", doc::CREATION_TIMESTAMP);
const CONTAINERS: Col = wide("Containers", "string", doc::CONTAINERS);
const IMAGES: Col = wide("Images", "string", doc::IMAGES);

/// One `metav1.TableRow`: `cells`, `conditions` (omitempty), and the object as
/// `PartialObjectMetadata`.
fn table_row(cells: Vec<Value>, conditions: Option<Value>, obj: &Value) -> Value {
    let mut row = Map::new();
    row.insert("cells".into(), Value::Array(cells));
    if let Some(c) = conditions {
        row.insert("conditions".into(), c);
    }
    row.insert("object".into(), partial_object_metadata(obj));
    Value::Object(row)
}

/// `meta.AsPartialObjectMetadata` as the handler sends it for `includeObject=Metadata`: the
/// `ObjectMeta` fields in Go's field order. `creationTimestamp` is always written (a zero
/// `metav1.Time` marshals as `null`); other empty fields are `omitempty`. Keys that are not
/// `ObjectMeta` fields do not survive a real server and are dropped.
fn partial_object_metadata(obj: &Value) -> Value {
    const FIELDS: [&str; 15] = [
        "name",
        "generateName",
        "namespace",
        "selfLink",
        "uid",
        "resourceVersion",
        "generation",
        "creationTimestamp",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
        "labels",
        "annotations",
        "ownerReferences",
        "finalizers",
        "managedFields",
    ];
    let meta = &obj["metadata"];
    let mut out = Map::new();
    for f in FIELDS {
        match &meta[f] {
            Value::Null if f == "creationTimestamp" => {
                out.insert(f.into(), Value::Null);
            }
            Value::Null => {}
            v => {
                out.insert(f.into(), v.clone());
            }
        }
    }
    json!({"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": out})
}

type RowFn = fn(&Value, i128) -> Vec<Value>;

/// The printers.go handler for a built-in kind, if it has one.
fn builtin(group: &str, kind: &str) -> Option<(&'static [Col], RowFn)> {
    Some(match (group, kind) {
        ("", "Pod") => (POD_COLS, pod_row),
        ("", "Service") => (SERVICE_COLS, service_row),
        ("", "Endpoints") => (ENDPOINTS_COLS, endpoints_row),
        ("", "Namespace") => (NAMESPACE_COLS, namespace_row),
        ("", "Node") => (NODE_COLS, node_row),
        ("", "Event") => (EVENT_COLS, event_row),
        // events.k8s.io shares the core Event storage and so its printer.
        ("events.k8s.io", "Event") => (EVENT_COLS, |o, now| event_row(&core_event_view(o), now)),
        ("", "ConfigMap") => (CONFIGMAP_COLS, configmap_row),
        ("", "Secret") => (SECRET_COLS, secret_row),
        ("", "ServiceAccount") => (SERVICEACCOUNT_COLS, serviceaccount_row),
        ("apps", "Deployment") => (DEPLOYMENT_COLS, deployment_row),
        ("apps", "ReplicaSet") => (REPLICASET_COLS, replicaset_row),
        ("apps", "DaemonSet") => (DAEMONSET_COLS, daemonset_row),
        ("apps", "StatefulSet") => (STATEFULSET_COLS, statefulset_row),
        ("batch", "Job") => (JOB_COLS, job_row),
        ("discovery.k8s.io", "EndpointSlice") => (ENDPOINTSLICE_COLS, endpointslice_row),
        ("policy", "PodDisruptionBudget") => (PDB_COLS, pdb_row),
        ("autoscaling", "HorizontalPodAutoscaler") => (HPA_COLS, hpa_row),
        (
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration" | "ValidatingWebhookConfiguration",
        ) => (WEBHOOK_COLS, webhook_row),
        ("rbac.authorization.k8s.io", "RoleBinding") => (ROLEBINDING_COLS, rolebinding_row),
        ("rbac.authorization.k8s.io", "ClusterRoleBinding") => {
            (CLUSTERROLEBINDING_COLS, rolebinding_row)
        }
        ("coordination.k8s.io", "Lease") => (LEASE_COLS, lease_row),
        _ => return None,
    })
}

/// API groups served by kube-apiserver itself (not CRDs): kinds of these without a printer
/// get `defaultTableConvertor`'s Name / Created At table.
fn is_builtin_group(group: &str) -> bool {
    matches!(
        group,
        "" | "apps"
            | "batch"
            | "autoscaling"
            | "policy"
            | "rbac.authorization.k8s.io"
            | "networking.k8s.io"
            | "storage.k8s.io"
            | "admissionregistration.k8s.io"
            | "apiextensions.k8s.io"
            | "apiregistration.k8s.io"
            | "coordination.k8s.io"
            | "discovery.k8s.io"
            | "events.k8s.io"
            | "certificates.k8s.io"
            | "scheduling.k8s.io"
            | "node.k8s.io"
            | "flowcontrol.apiserver.k8s.io"
            | "resource.k8s.io"
            | "internal.apiserver.k8s.io"
            | "storagemigration.k8s.io"
            | "authentication.k8s.io"
            | "authorization.k8s.io"
    )
}

/// `rest.defaultTableConvertor`: the name and `creationTimestamp.UTC().Format(RFC3339)`
/// (a zero time prints as `0001-01-01T00:00:00Z`).
fn created_at_row(o: &Value) -> Vec<Value> {
    let t = ts(&o["metadata"]["creationTimestamp"]).unwrap_or(GO_ZERO_TIME_SECS * NANOS);
    vec![name(o).into(), format_rfc3339(t).into()]
}

// ---------------------------------------------------------------------------------------
// Pod
// ---------------------------------------------------------------------------------------

const POD_COLS: &[Col] = &[
    NAME,
    col(
        "Ready",
        "string",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    col(
        "Status",
        "string",
        "The aggregate status of the containers in this pod.",
    ),
    col(
        "Restarts",
        "string",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide("IP", "string", doc::POD_IP),
    wide("Node", "string", doc::NODE_NAME),
    wide("Nominated Node", "string", doc::NOMINATED_NODE_NAME),
    wide("Readiness Gates", "string", doc::READINESS_GATES),
];

/// printers.go `podSuccessConditions` / `podFailedConditions`.
fn pod_conditions(pod: &Value) -> Option<Value> {
    let (reason, message) = match s(&pod["status"]["phase"]) {
        "Succeeded" => ("Succeeded", "The pod has completed successfully."),
        "Failed" => ("Failed", "The pod failed."),
        _ => return None,
    };
    Some(json!([{"type": "Completed", "status": "True", "reason": reason, "message": message}]))
}

/// `podutil.IsRestartableInitContainer`: a sidecar (`restartPolicy: Always`) init container.
fn is_restartable(c: &Value) -> bool {
    s(&c["restartPolicy"]) == "Always"
}

/// First pod condition of `ty` has status True (`isPodInitializedConditionTrue`).
fn first_condition_true(status: &Value, ty: &str) -> bool {
    list(&status["conditions"])
        .iter()
        .find(|c| s(&c["type"]) == ty)
        .is_some_and(|c| s(&c["status"]) == "True")
}

/// printers.go `printPod`. The status cell is the reason logic of kubectl: the phase or
/// `status.reason`, `SchedulingGated`, then the first unfinished init container
/// (`Init:N/M`, `Init:<reason>`, `Init:ExitCode:N`), then the containers scanned last to
/// first (waiting/terminated reasons, `Completed` back to `Running`/`NotReady` while one still
/// runs), and `Terminating` / `Unknown` for a pod being deleted.
fn pod_row(pod: &Value, now: i128) -> Vec<Value> {
    let (spec, status) = (&pod["spec"], &pod["status"]);
    let init_specs = list(&spec["initContainers"]);
    let total =
        list(&spec["containers"]).len() + init_specs.iter().filter(|c| is_restartable(c)).count();
    let mut ready = 0;
    let (mut restarts, mut sidecar_restarts) = (0, 0);
    let (mut last_restart, mut last_sidecar_restart) = (None, None);
    let phase = s(&status["phase"]);
    let mut reason = match s(&status["reason"]) {
        "" => phase.to_string(),
        r => r.to_string(),
    };
    let gated = list(&status["conditions"])
        .iter()
        .any(|c| s(&c["type"]) == "PodScheduled" && s(&c["reason"]) == "SchedulingGated");
    if gated {
        reason = "SchedulingGated".into();
    }

    let mut initializing = false;
    for (i, c) in list(&status["initContainerStatuses"]).iter().enumerate() {
        let count = n(&c["restartCount"]);
        let finished = ts(&c["lastState"]["terminated"]["finishedAt"]);
        restarts += count;
        last_restart = later(last_restart, finished);
        // printers.go looks the spec up in a map by name: the last one of that name wins.
        let sidecar = init_specs
            .iter()
            .rev()
            .find(|x| x["name"] == c["name"])
            .is_some_and(is_restartable);
        if sidecar {
            sidecar_restarts += count;
            last_sidecar_restart = later(last_sidecar_restart, finished);
        }
        let (term, waiting) = (&c["state"]["terminated"], &c["state"]["waiting"]);
        if present(term) && n(&term["exitCode"]) == 0 {
            continue;
        }
        if sidecar && is_true(&c["started"]) {
            if is_true(&c["ready"]) {
                ready += 1;
            }
            continue;
        }
        reason = if present(term) {
            match s(&term["reason"]) {
                "" if n(&term["signal"]) != 0 => format!("Init:Signal:{}", n(&term["signal"])),
                "" => format!("Init:ExitCode:{}", n(&term["exitCode"])),
                r => format!("Init:{r}"),
            }
        } else if present(waiting) && !matches!(s(&waiting["reason"]), "" | "PodInitializing") {
            format!("Init:{}", s(&waiting["reason"]))
        } else {
            format!("Init:{i}/{}", init_specs.len())
        };
        initializing = true;
        break;
    }

    if !initializing || first_condition_true(status, "Initialized") {
        restarts = sidecar_restarts;
        last_restart = last_sidecar_restart;
        let mut has_running = false;
        for c in list(&status["containerStatuses"]).iter().rev() {
            restarts += n(&c["restartCount"]);
            last_restart = later(
                last_restart,
                ts(&c["lastState"]["terminated"]["finishedAt"]),
            );
            let (term, waiting) = (&c["state"]["terminated"], &c["state"]["waiting"]);
            if present(waiting) && !s(&waiting["reason"]).is_empty() {
                reason = s(&waiting["reason"]).into();
            } else if present(term) && !s(&term["reason"]).is_empty() {
                reason = s(&term["reason"]).into();
            } else if present(term) {
                reason = match n(&term["signal"]) {
                    0 => format!("ExitCode:{}", n(&term["exitCode"])),
                    sig => format!("Signal:{sig}"),
                };
            } else if is_true(&c["ready"]) && present(&c["state"]["running"]) {
                has_running = true;
                ready += 1;
            }
        }
        if reason == "Completed" && has_running {
            let pod_ready = list(&status["conditions"])
                .iter()
                .any(|c| s(&c["type"]) == "Ready" && s(&c["status"]) == "True");
            reason = if pod_ready { "Running" } else { "NotReady" }.into();
        }
    }

    if present(&pod["metadata"]["deletionTimestamp"]) {
        // `node.NodeUnreachablePodReason`; `IsPodPhaseTerminal` = Succeeded or Failed.
        if s(&status["reason"]) == "NodeLost" {
            reason = "Unknown".into();
        } else if !matches!(phase, "Succeeded" | "Failed") {
            reason = "Terminating".into();
        }
    }

    let restarts_cell = match last_restart {
        Some(t) if restarts != 0 => format!("{restarts} ({} ago)", since(Some(t), now)),
        _ => restarts.to_string(),
    };
    // v1→internal `PodStatus` conversion: a set `podIP` is authoritative over `podIPs[0]`.
    let ip = match s(&status["podIP"]) {
        "" => s(&list(&status["podIPs"]).first().unwrap_or(&Value::Null)["ip"]),
        ip => ip,
    };
    let gates = list(&spec["readinessGates"]);
    let gates_cell = if gates.is_empty() {
        "<none>".to_string()
    } else {
        let conds = list(&status["conditions"]);
        let passing = gates
            .iter()
            .filter(|g| {
                conds
                    .iter()
                    .find(|c| c["type"] == g["conditionType"])
                    .is_some_and(|c| s(&c["status"]) == "True")
            })
            .count();
        format!("{passing}/{}", gates.len())
    };
    vec![
        name(pod).into(),
        format!("{ready}/{total}").into(),
        reason.into(),
        restarts_cell.into(),
        age(pod, now),
        or_none(ip).into(),
        or_none(s(&spec["nodeName"])).into(),
        or_none(s(&status["nominatedNodeName"])).into(),
        gates_cell.into(),
    ]
}

fn or_none(v: &str) -> &str {
    if v.is_empty() { "<none>" } else { v }
}

// ---------------------------------------------------------------------------------------
// Workloads
// ---------------------------------------------------------------------------------------

const DEPLOYMENT_COLS: &[Col] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    col("Up-to-date", "string", doc::DEPLOYMENT_UPDATED),
    col("Available", "string", doc::DEPLOYMENT_AVAILABLE),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", doc::DEPLOYMENT_SELECTOR),
];

/// printers.go `printDeployment`. Its selector cell is `selector.String()` itself: ""
/// when empty, `<invalid>` on error (unlike the `<none>`/`<error>` of ReplicaSet's).
fn deployment_row(o: &Value, now: i128) -> Vec<Value> {
    let (spec, status) = (&o["spec"], &o["status"]);
    let (names, images) = containers_and_images(&spec["template"]["spec"]);
    let selector = selector_string(&spec["selector"]).unwrap_or_else(|()| "<invalid>".into());
    vec![
        name(o).into(),
        format!("{}/{}", n(&status["readyReplicas"]), replicas(spec)).into(),
        n(&status["updatedReplicas"]).into(),
        n(&status["availableReplicas"]).into(),
        age(o, now),
        names,
        images,
        selector.into(),
    ]
}

const REPLICASET_COLS: &[Col] = &[
    NAME,
    col("Desired", "integer", doc::REPLICASET_SPEC_REPLICAS),
    col("Current", "integer", doc::REPLICASET_STATUS_REPLICAS),
    col("Ready", "integer", doc::REPLICASET_READY),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", doc::REPLICASET_SELECTOR),
];

fn replicaset_row(o: &Value, now: i128) -> Vec<Value> {
    let (spec, status) = (&o["spec"], &o["status"]);
    let (names, images) = containers_and_images(&spec["template"]["spec"]);
    vec![
        name(o).into(),
        replicas(spec).into(),
        n(&status["replicas"]).into(),
        n(&status["readyReplicas"]).into(),
        age(o, now),
        names,
        images,
        format_label_selector(&spec["selector"]).into(),
    ]
}

const DAEMONSET_COLS: &[Col] = &[
    NAME,
    col("Desired", "integer", doc::DS_DESIRED),
    col("Current", "integer", doc::DS_CURRENT),
    col("Ready", "integer", doc::DS_READY),
    col("Up-to-date", "integer", doc::DS_UPDATED),
    col("Available", "integer", doc::DS_AVAILABLE),
    col("Node Selector", "string", doc::NODE_SELECTOR),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", doc::DS_SELECTOR),
];

fn daemonset_row(o: &Value, now: i128) -> Vec<Value> {
    let (spec, status) = (&o["spec"], &o["status"]);
    let (names, images) = containers_and_images(&spec["template"]["spec"]);
    vec![
        name(o).into(),
        n(&status["desiredNumberScheduled"]).into(),
        n(&status["currentNumberScheduled"]).into(),
        n(&status["numberReady"]).into(),
        n(&status["updatedNumberScheduled"]).into(),
        n(&status["numberAvailable"]).into(),
        format_labels(&spec["template"]["spec"]["nodeSelector"]).into(),
        age(o, now),
        names,
        images,
        format_label_selector(&spec["selector"]).into(),
    ]
}

const STATEFULSET_COLS: &[Col] = &[
    NAME,
    col("Ready", "string", "Number of the pod with ready state"),
    AGE,
    CONTAINERS,
    IMAGES,
];

fn statefulset_row(o: &Value, now: i128) -> Vec<Value> {
    let (spec, status) = (&o["spec"], &o["status"]);
    let (names, images) = containers_and_images(&spec["template"]["spec"]);
    vec![
        name(o).into(),
        format!("{}/{}", n(&status["readyReplicas"]), replicas(spec)).into(),
        age(o, now),
        names,
        images,
    ]
}

const JOB_COLS: &[Col] = &[
    NAME,
    col("Status", "string", "Status of the job."),
    col("Completions", "string", doc::JOB_SUCCEEDED),
    col("Duration", "string", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", "string", doc::JOB_SELECTOR),
];

/// printers.go `printJob`. With neither `completions` nor `parallelism` set, batch/v1
/// `SetDefaults_Job` makes both 1.
fn job_row(o: &Value, now: i128) -> Vec<Value> {
    let (spec, status) = (&o["spec"], &o["status"]);
    let succeeded = n(&status["succeeded"]);
    let (completions, parallelism) = (&spec["completions"], &spec["parallelism"]);
    let completions = if present(completions) {
        format!("{succeeded}/{}", n(completions))
    } else if !present(parallelism) {
        format!("{succeeded}/1")
    } else if n(parallelism) > 1 {
        format!("{succeeded}/1 of {}", n(parallelism))
    } else {
        format!("{succeeded}/1")
    };
    let duration = match (ts(&status["startTime"]), ts(&status["completionTime"])) {
        (None, _) => String::new(),
        (Some(start), None) => human_duration_nanos(now - start),
        (Some(start), Some(end)) => human_duration_nanos(end - start),
    };
    // `hasJobCondition`: the first condition of the type decides.
    let has = |ty: &str| {
        list(&status["conditions"])
            .iter()
            .find(|c| s(&c["type"]) == ty)
            .is_some_and(|c| s(&c["status"]) == "True")
    };
    let state = if has("Complete") {
        "Complete"
    } else if has("Failed") {
        "Failed"
    } else if present(&o["metadata"]["deletionTimestamp"]) {
        "Terminating"
    } else if has("Suspended") {
        "Suspended"
    } else if has("FailureTarget") {
        "FailureTarget"
    } else {
        "Running"
    };
    let (names, images) = containers_and_images(&spec["template"]["spec"]);
    vec![
        name(o).into(),
        state.into(),
        completions.into(),
        duration.into(),
        age(o, now),
        names,
        images,
        format_label_selector(&spec["selector"]).into(),
    ]
}

const PDB_COLS: &[Col] = &[
    NAME,
    col(
        "Min Available",
        "string",
        "The minimum number of pods that must be available.",
    ),
    col(
        "Max Unavailable",
        "string",
        "The maximum number of pods that may be unavailable.",
    ),
    col(
        "Allowed Disruptions",
        "integer",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

fn pdb_row(o: &Value, now: i128) -> Vec<Value> {
    let spec = &o["spec"];
    let field = |v: &Value| {
        if present(v) {
            int_or_string(v)
        } else {
            "N/A".into()
        }
    };
    vec![
        name(o).into(),
        field(&spec["minAvailable"]).into(),
        field(&spec["maxUnavailable"]).into(),
        n(&o["status"]["disruptionsAllowed"]).into(),
        age(o, now),
    ]
}

const HPA_COLS: &[Col] = &[
    NAME,
    col("Reference", "string", doc::HPA_SCALE_TARGET_REF),
    col("Targets", "string", doc::HPA_METRICS),
    col("MinPods", "string", doc::HPA_MIN_REPLICAS),
    col("MaxPods", "string", doc::HPA_MAX_REPLICAS),
    col("Replicas", "string", doc::HPA_CURRENT_REPLICAS),
    AGE,
];

/// printers.go `printHorizontalPodAutoscaler` over an autoscaling/v2 object, after v2
/// `SetDefaults_HorizontalPodAutoscaler` (minReplicas 1; no metrics = CPU at 80%).
fn hpa_row(o: &Value, now: i128) -> Vec<Value> {
    let (spec, status) = (&o["spec"], &o["status"]);
    let target = &spec["scaleTargetRef"];
    let default_metrics = json!([{"type": "Resource", "resource": {"name": "cpu",
        "target": {"type": "Utilization", "averageUtilization": 80}}}]);
    let metrics = if list(&spec["metrics"]).is_empty() {
        list(&default_metrics)
    } else {
        list(&spec["metrics"])
    };
    let min = if present(&spec["minReplicas"]) {
        n(&spec["minReplicas"])
    } else {
        1
    };
    vec![
        name(o).into(),
        format!("{}/{}", s(&target["kind"]), s(&target["name"])).into(),
        format_hpa_metrics(metrics, list(&status["currentMetrics"])).into(),
        min.to_string().into(),
        n(&spec["maxReplicas"]).into(),
        n(&status["currentReplicas"]).into(),
        age(o, now),
    ]
}

/// printers.go `formatHPAMetrics`: at most two, then `+ N more...`. A metric without its
/// status entry reads `<unknown>`; a missing quantity prints as Go's nil `Quantity`
/// (`<nil>`). Quantities print as stored (the real server prints them canonicalized,
/// which stored values already are).
fn format_hpa_metrics(specs: &[Value], statuses: &[Value]) -> String {
    if specs.is_empty() {
        return "<none>".into();
    }
    let q = |v: &Value| {
        if present(v) {
            int_or_string(v)
        } else {
            "<nil>".into()
        }
    };
    let items: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let field = match s(&m["type"]) {
                "External" => "external",
                "Pods" => "pods",
                "Object" => "object",
                "Resource" => "resource",
                "ContainerResource" => "containerResource",
                _ => return "<unknown type>".into(),
            };
            let target = &m[field]["target"];
            let cur = &statuses.get(i).unwrap_or(&Value::Null)[field];
            let current = |key: &str| {
                if present(cur) {
                    q(&cur["current"][key])
                } else {
                    "<unknown>".into()
                }
            };
            match field {
                "pods" => format!("{}/{}", current("averageValue"), q(&target["averageValue"])),
                "external" | "object" if present(&target["averageValue"]) => {
                    let c = if present(&cur["current"]["averageValue"]) {
                        current("averageValue")
                    } else {
                        "<unknown>".into()
                    };
                    format!("{c}/{} (avg)", q(&target["averageValue"]))
                }
                "external" | "object" => format!("{}/{}", current("value"), q(&target["value"])),
                _ if present(&target["averageValue"]) => {
                    format!(
                        "{}: {}/{}",
                        s(&m[field]["name"]),
                        current("averageValue"),
                        q(&target["averageValue"])
                    )
                }
                _ => {
                    let pct = |v: &Value| {
                        if present(v) {
                            format!("{}%", n(v))
                        } else {
                            String::new()
                        }
                    };
                    let c = match pct(&cur["current"]["averageUtilization"]) {
                        c if c.is_empty() => "<unknown>".to_string(),
                        c => c,
                    };
                    let t = match pct(&target["averageUtilization"]) {
                        t if t.is_empty() => "<auto>".to_string(),
                        t => t,
                    };
                    format!("{}: {c}/{t}", s(&m[field]["name"]))
                }
            }
        })
        .collect();
    if items.len() > 2 {
        format!("{} + {} more...", items[..2].join(", "), items.len() - 2)
    } else {
        items.join(", ")
    }
}

// ---------------------------------------------------------------------------------------
// Networking
// ---------------------------------------------------------------------------------------

const SERVICE_COLS: &[Col] = &[
    NAME,
    col("Type", "string", doc::SERVICE_TYPE),
    col("Cluster-IP", "string", doc::CLUSTER_IP),
    col("External-IP", "string", doc::EXTERNAL_IPS),
    col("Port(s)", "string", doc::SERVICE_PORTS),
    AGE,
    wide("Selector", "string", doc::SERVICE_SELECTOR),
];

/// printers.go `printService`, after v1 `SetDefaults_Service` (type ClusterIP, port
/// protocol TCP) and the service registry's read decorator (`normalizeClusterIPs` copies a
/// lone `clusterIP` into `clusterIPs`).
fn service_row(o: &Value, now: i128) -> Vec<Value> {
    let (spec, status) = (&o["spec"], &o["status"]);
    let ty = match s(&spec["type"]) {
        "" => "ClusterIP",
        t => t,
    };
    let cluster_ip = list(&spec["clusterIPs"])
        .first()
        .map(s)
        .unwrap_or_else(|| s(&spec["clusterIP"]));
    let external_ips: Vec<&str> = list(&spec["externalIPs"]).iter().map(s).collect();
    let external = match ty {
        "ClusterIP" | "NodePort" if external_ips.is_empty() => "<none>".into(),
        "ClusterIP" | "NodePort" => external_ips.join(","),
        "LoadBalancer" => {
            // `loadBalancerStatusStringer` (wide, so never clipped): sorted, de-duplicated.
            let lb: BTreeSet<&str> = list(&status["loadBalancer"]["ingress"])
                .iter()
                .filter_map(|i| {
                    [s(&i["ip"]), s(&i["hostname"])]
                        .into_iter()
                        .find(|x| !x.is_empty())
                })
                .collect();
            let all: Vec<&str> = lb.into_iter().chain(external_ips).collect();
            if all.is_empty() {
                "<pending>".into()
            } else {
                all.join(",")
            }
        }
        "ExternalName" => s(&spec["externalName"]).into(),
        _ => "<unknown>".into(),
    };
    let ports: Vec<String> = list(&spec["ports"])
        .iter()
        .map(|p| {
            let proto = match s(&p["protocol"]) {
                "" => "TCP",
                pr => pr,
            };
            match n(&p["nodePort"]) {
                np if np > 0 => format!("{}:{np}/{proto}", n(&p["port"])),
                _ => format!("{}/{proto}", n(&p["port"])),
            }
        })
        .collect();
    let ports = if ports.is_empty() {
        "<none>".into()
    } else {
        ports.join(",")
    };
    vec![
        name(o).into(),
        ty.into(),
        or_none(cluster_ip).into(),
        external.into(),
        ports.into(),
        age(o, now),
        format_labels(&spec["selector"]).into(),
    ]
}

const ENDPOINTS_COLS: &[Col] = &[
    NAME,
    col("Endpoints", "string", doc::ENDPOINTS_SUBSETS),
    AGE,
];

fn endpoints_row(o: &Value, now: i128) -> Vec<Value> {
    vec![
        name(o).into(),
        format_endpoints(list(&o["subsets"])).into(),
        age(o, now),
    ]
}

/// `net.JoinHostPort`.
fn join_host_port(host: &str, port: i64) -> String {
    if host.contains(':') {
        format!("[{host}]:{port}")
    } else {
        format!("{host}:{port}")
    }
}

/// printers.go `formatEndpoints(endpoints, nil)`: the first three `ip:port` (ready
/// addresses × ports, subset by subset), then `+ N more...` counting every pair; bare IPs
/// for a subset without ports; `<none>` without subsets.
fn format_endpoints(subsets: &[Value]) -> String {
    if subsets.is_empty() {
        return "<none>".into();
    }
    const MAX: usize = 3;
    let (mut shown, mut count, mut more) = (Vec::new(), 0, false);
    for ss in subsets {
        let addrs = list(&ss["addresses"]);
        let ports = list(&ss["ports"]);
        let port_list: Vec<Option<i64>> = if ports.is_empty() {
            vec![None]
        } else {
            ports.iter().map(|p| Some(n(&p["port"]))).collect()
        };
        for port in port_list {
            count += addrs.len();
            for a in addrs {
                if shown.len() == MAX {
                    more = true;
                    break;
                }
                let ip = s(&a["ip"]);
                shown.push(port.map_or_else(|| ip.to_string(), |p| join_host_port(ip, p)));
            }
        }
    }
    let joined = shown.join(",");
    if more {
        format!("{joined} + {} more...", count - MAX)
    } else {
        joined
    }
}

const ENDPOINTSLICE_COLS: &[Col] = &[
    NAME,
    col("AddressType", "string", doc::SLICE_ADDRESS_TYPE),
    col("Ports", "string", doc::SLICE_PORTS),
    col("Endpoints", "string", doc::SLICE_ENDPOINTS),
    AGE,
];

/// printers.go `listWithMoreString`: three items, `+ N more...`, `<unset>` when empty.
fn list_with_more(items: Vec<String>) -> String {
    match items.len() {
        0 => "<unset>".into(),
        len if len > 3 => format!("{} + {} more...", items[..3].join(","), len - 3),
        _ => items.join(","),
    }
}

fn endpointslice_row(o: &Value, now: i128) -> Vec<Value> {
    // `formatDiscoveryPorts`: the port number, else its name, else "*".
    let ports = list(&o["ports"])
        .iter()
        .map(|p| match (&p["port"], &p["name"]) {
            (port, _) if present(port) => n(port).to_string(),
            (_, Value::String(name)) => name.clone(),
            _ => "*".into(),
        })
        .collect();
    let addrs = list(&o["endpoints"])
        .iter()
        .flat_map(|e| list(&e["addresses"]).iter().map(|a| s(a).to_string()))
        .collect();
    vec![
        name(o).into(),
        s(&o["addressType"]).into(),
        list_with_more(ports).into(),
        list_with_more(addrs).into(),
        age(o, now),
    ]
}

// ---------------------------------------------------------------------------------------
// Cluster and configuration
// ---------------------------------------------------------------------------------------

const NAMESPACE_COLS: &[Col] = &[
    NAME,
    col("Status", "string", "The status of the namespace"),
    AGE,
];

/// v1 `SetDefaults_NamespaceStatus` makes an empty phase `Active`.
fn namespace_row(o: &Value, now: i128) -> Vec<Value> {
    let phase = match s(&o["status"]["phase"]) {
        "" => "Active",
        p => p,
    };
    vec![name(o).into(), phase.into(), age(o, now)]
}

const NODE_COLS: &[Col] = &[
    NAME,
    col("Status", "string", "The status of the node"),
    col("Roles", "string", "The roles of the node"),
    AGE,
    col("Version", "string", doc::KUBELET_VERSION),
    wide("Internal-IP", "string", doc::NODE_ADDRESSES),
    wide("External-IP", "string", doc::NODE_ADDRESSES),
    wide("OS-Image", "string", doc::OS_IMAGE),
    wide("Kernel-Version", "string", doc::KERNEL_VERSION),
    wide("Container-Runtime", "string", doc::CONTAINER_RUNTIME),
];

/// printers.go `printNode`: the Ready condition (the last one of that type, as the map
/// built from the list keeps) or `Unknown`, plus `SchedulingDisabled`; roles from
/// `node-role.kubernetes.io/<role>` keys and `kubernetes.io/role` values, sorted.
fn node_row(o: &Value, now: i128) -> Vec<Value> {
    let (spec, status, info) = (&o["spec"], &o["status"], &o["status"]["nodeInfo"]);
    let mut state: Vec<&str> = match list(&status["conditions"])
        .iter()
        .rev()
        .find(|c| s(&c["type"]) == "Ready")
    {
        Some(c) if s(&c["status"]) == "True" => vec!["Ready"],
        Some(_) => vec!["NotReady"],
        None => vec!["Unknown"],
    };
    if is_true(&spec["unschedulable"]) {
        state.push("SchedulingDisabled");
    }
    let roles: BTreeSet<&str> = o["metadata"]["labels"]
        .as_object()
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| match k.strip_prefix("node-role.kubernetes.io/") {
            Some(role) => Some(role),
            None if k == "kubernetes.io/role" => Some(s(v)),
            None => None,
        })
        .filter(|r| !r.is_empty())
        .collect();
    let roles = roles.into_iter().collect::<Vec<_>>().join(",");
    let address = |ty: &str| {
        list(&status["addresses"])
            .iter()
            .find(|a| s(&a["type"]) == ty)
            .map_or("<none>", |a| s(&a["address"]))
    };
    let unknown = |v: &Value| {
        if s(v).is_empty() {
            "<unknown>".to_string()
        } else {
            s(v).to_string()
        }
    };
    vec![
        name(o).into(),
        state.join(",").into(),
        or_none(&roles).into(),
        age(o, now),
        s(&info["kubeletVersion"]).into(),
        address("InternalIP").into(),
        address("ExternalIP").into(),
        unknown(&info["osImage"]).into(),
        unknown(&info["kernelVersion"]).into(),
        unknown(&info["containerRuntimeVersion"]).into(),
    ]
}

const EVENT_COLS: &[Col] = &[
    col("Last Seen", "string", doc::EVENT_LAST_TIMESTAMP),
    col("Type", "string", doc::EVENT_TYPE),
    col("Reason", "string", doc::EVENT_REASON),
    col("Object", "string", doc::EVENT_INVOLVED_OBJECT),
    wide("Subobject", "string", doc::FIELD_PATH),
    wide("Source", "string", doc::EVENT_SOURCE),
    col("Message", "string", doc::EVENT_MESSAGE),
    wide("First Seen", "string", doc::EVENT_FIRST_TIMESTAMP),
    wide("Count", "string", doc::EVENT_COUNT),
    Col {
        priority: 1,
        ..NAME
    },
];

/// printers.go `printEvent`. First Seen falls back to `eventTime`, Last Seen to First
/// Seen; a `series` overrides Last Seen and Count; a count of 0 reads 1.
fn event_row(o: &Value, now: i128) -> Vec<Value> {
    let first = match ts(&o["firstTimestamp"]) {
        None => since(ts(&o["eventTime"]), now),
        t => since(t, now),
    };
    let mut last = match ts(&o["lastTimestamp"]) {
        None => first.clone(),
        t => since(t, now),
    };
    let mut count = n(&o["count"]);
    if present(&o["series"]) {
        last = since(ts(&o["series"]["lastObservedTime"]), now);
        count = n(&o["series"]["count"]);
    } else if count == 0 {
        count = 1;
    }
    let involved = &o["involvedObject"];
    let kind = s(&involved["kind"]).to_lowercase();
    let target = match s(&involved["name"]) {
        "" => kind,
        nm => format!("{kind}/{nm}"),
    };
    // `formatEventSource`: component (else reportingComponent), then ", host" (else
    // reportingInstance) when there is one.
    let pick = |a: &'static str, b: &'static str| -> String {
        [s(&o["source"][a]), s(&o[b])]
            .into_iter()
            .find(|x| !x.is_empty())
            .unwrap_or("")
            .to_string()
    };
    let (component, instance) = (
        pick("component", "reportingComponent"),
        pick("host", "reportingInstance"),
    );
    let source = if instance.is_empty() {
        component
    } else {
        format!("{component}, {instance}")
    };
    vec![
        last.into(),
        s(&o["type"]).into(),
        s(&o["reason"]).into(),
        target.into(),
        s(&involved["fieldPath"]).into(),
        source.into(),
        s(&o["message"]).trim().into(),
        first.into(),
        count.into(),
        name(o).into(),
    ]
}

/// An events.k8s.io/v1 Event in the core/v1 shape: the fields the internal type shares
/// (`pkg/apis/events/v1` conversion: regarding, note, deprecated* fields).
fn core_event_view(e: &Value) -> Value {
    json!({
        "metadata": e["metadata"], "involvedObject": e["regarding"], "message": e["note"],
        "type": e["type"], "reason": e["reason"], "source": e["deprecatedSource"],
        "reportingComponent": e["reportingController"], "reportingInstance": e["reportingInstance"],
        "firstTimestamp": e["deprecatedFirstTimestamp"], "lastTimestamp": e["deprecatedLastTimestamp"],
        "count": e["deprecatedCount"], "eventTime": e["eventTime"], "series": e["series"],
    })
}

const CONFIGMAP_COLS: &[Col] = &[NAME, col("Data", "string", doc::CONFIGMAP_DATA), AGE];

fn configmap_row(o: &Value, now: i128) -> Vec<Value> {
    vec![
        name(o).into(),
        (len_of(&o["data"]) + len_of(&o["binaryData"])).into(),
        age(o, now),
    ]
}

const SECRET_COLS: &[Col] = &[
    NAME,
    col("Type", "string", doc::SECRET_TYPE),
    col("Data", "string", doc::SECRET_DATA),
    AGE,
];

/// v1 `SetDefaults_Secret` types an untyped secret `Opaque`; the v1→internal conversion
/// merges `stringData` into `data`, so Data counts the union of their keys.
fn secret_row(o: &Value, now: i128) -> Vec<Value> {
    let ty = match s(&o["type"]) {
        "" => "Opaque",
        t => t,
    };
    let keys: BTreeSet<&String> = [&o["data"], &o["stringData"]]
        .into_iter()
        .filter_map(Value::as_object)
        .flat_map(Map::keys)
        .collect();
    vec![name(o).into(), ty.into(), keys.len().into(), age(o, now)]
}

const SERVICEACCOUNT_COLS: &[Col] = &[NAME, col("Secrets", "string", doc::SA_SECRETS), AGE];

fn serviceaccount_row(o: &Value, now: i128) -> Vec<Value> {
    vec![
        name(o).into(),
        list(&o["secrets"]).len().into(),
        age(o, now),
    ]
}

const WEBHOOK_COLS: &[Col] = &[
    NAME,
    col(
        "Webhooks",
        "integer",
        "Webhooks indicates the number of webhooks registered in this configuration",
    ),
    AGE,
];

fn webhook_row(o: &Value, now: i128) -> Vec<Value> {
    vec![
        name(o).into(),
        list(&o["webhooks"]).len().into(),
        age(o, now),
    ]
}

const ROLEBINDING_COLS: &[Col] = &[
    NAME,
    col("Role", "string", doc::ROLEBINDING_ROLE_REF),
    AGE,
    wide("Users", "string", "Users in the roleBinding"),
    wide("Groups", "string", "Groups in the roleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the roleBinding",
    ),
];

const CLUSTERROLEBINDING_COLS: &[Col] = &[
    NAME,
    col("Role", "string", doc::CLUSTERROLEBINDING_ROLE_REF),
    AGE,
    wide("Users", "string", "Users in the clusterRoleBinding"),
    wide("Groups", "string", "Groups in the clusterRoleBinding"),
    wide(
        "ServiceAccounts",
        "string",
        "ServiceAccounts in the clusterRoleBinding",
    ),
];

/// printers.go `printRoleBinding` / `printClusterRoleBinding`: `Kind/name` of the role, then
/// `rbac.SubjectsStrings` (users, groups, `namespace/name` service accounts) joined by ", ".
fn rolebinding_row(o: &Value, now: i128) -> Vec<Value> {
    let role = &o["roleRef"];
    let subjects = list(&o["subjects"]);
    let of_kind = |kind: &str| -> Value {
        let names: Vec<String> = subjects
            .iter()
            .filter(|x| s(&x["kind"]) == kind)
            .map(|x| match kind {
                "ServiceAccount" => format!("{}/{}", s(&x["namespace"]), s(&x["name"])),
                _ => s(&x["name"]).to_string(),
            })
            .collect();
        names.join(", ").into()
    };
    vec![
        name(o).into(),
        format!("{}/{}", s(&role["kind"]), s(&role["name"])).into(),
        age(o, now),
        of_kind("User"),
        of_kind("Group"),
        of_kind("ServiceAccount"),
    ]
}

const LEASE_COLS: &[Col] = &[NAME, col("Holder", "string", doc::LEASE_HOLDER), AGE];

fn lease_row(o: &Value, now: i128) -> Vec<Value> {
    vec![
        name(o).into(),
        s(&o["spec"]["holderIdentity"]).into(),
        age(o, now),
    ]
}

// ---------------------------------------------------------------------------------------
// Custom resources
// ---------------------------------------------------------------------------------------

/// One `additionalPrinterColumns` entry; an empty `desc` means the CRD gives none.
struct CrdCol {
    name: &'static str,
    ty: &'static str,
    path: &'static str,
    desc: &'static str,
    priority: u8,
}

impl CrdCol {
    /// tableconvertor `New`: a column without a description gets one naming its path.
    fn definition(&self) -> Value {
        let desc = if self.desc.is_empty() {
            format!(
                "Custom resource definition column (in JSONPath format): {}",
                self.path
            )
        } else {
            self.desc.to_string()
        };
        json!({"name": self.name, "type": self.ty, "format": "", "description": desc, "priority": self.priority})
    }
}

const fn crd(
    name: &'static str,
    ty: &'static str,
    path: &'static str,
    desc: &'static str,
) -> CrdCol {
    CrdCol {
        name,
        ty,
        path,
        desc,
        priority: 0,
    }
}

const CREATION: &str = ".metadata.creationTimestamp";
/// `serveDefaultColumnsIfEmpty`: a CRD version without printer columns.
const CRD_DEFAULT: &[CrdCol] = &[crd("Age", "date", CREATION, doc::CREATION_TIMESTAMP)];
const ISTIO_AGE: CrdCol = crd("Age", "date", CREATION, doc::ISTIO_AGE);
const ISTIO_AGE_ONLY: &[CrdCol] = &[ISTIO_AGE];
const GATEWAY_API_AGE: CrdCol = crd("Age", "date", CREATION, "");

/// The served columns of Istio 1.27's CRDs (`crd-all.gen.yaml`, same for every served
/// version) and Gateway API v1.3.0's standard CRDs. Istio's Gateway, Sidecar, EnvoyFilter,
/// ProxyConfig and RequestAuthentication define none and get [`CRD_DEFAULT`].
fn crd_columns(group: &str, kind: &str) -> Option<&'static [CrdCol]> {
    const VS: &[CrdCol] = &[
        crd(
            "Gateways",
            "string",
            ".spec.gateways",
            "The names of gateways and sidecars that should apply these routes",
        ),
        crd(
            "Hosts",
            "string",
            ".spec.hosts",
            "The destination hosts to which traffic is being sent",
        ),
        ISTIO_AGE,
    ];
    const DR: &[CrdCol] = &[
        crd(
            "Host",
            "string",
            ".spec.host",
            "The name of a service from the service registry",
        ),
        crd("Age", "date", CREATION, doc::ISTIO_DR_AGE),
    ];
    const SE: &[CrdCol] = &[
        crd(
            "Hosts",
            "string",
            ".spec.hosts",
            "The hosts associated with the ServiceEntry",
        ),
        crd(
            "Location",
            "string",
            ".spec.location",
            "Whether the service is external to the mesh or part of the mesh (MESH_EXTERNAL or MESH_INTERNAL)",
        ),
        crd(
            "Resolution",
            "string",
            ".spec.resolution",
            "Service resolution mode for the hosts (NONE, STATIC, or DNS)",
        ),
        ISTIO_AGE,
    ];
    const WE: &[CrdCol] = &[
        ISTIO_AGE,
        crd(
            "Address",
            "string",
            ".spec.address",
            "Address associated with the network endpoint.",
        ),
    ];
    const PA: &[CrdCol] = &[
        crd(
            "Mode",
            "string",
            ".spec.mtls.mode",
            "Defines the mTLS mode used for peer authentication.",
        ),
        ISTIO_AGE,
    ];
    const AP: &[CrdCol] = &[
        crd("Action", "string", ".spec.action", "The operation to take."),
        ISTIO_AGE,
    ];
    const GATEWAY_CLASS: &[CrdCol] = &[
        crd("Controller", "string", ".spec.controllerName", ""),
        crd(
            "Accepted",
            "string",
            ".status.conditions[?(@.type==\"Accepted\")].status",
            "",
        ),
        GATEWAY_API_AGE,
        CrdCol {
            priority: 1,
            ..crd("Description", "string", ".spec.description", "")
        },
    ];
    const GATEWAY: &[CrdCol] = &[
        crd("Class", "string", ".spec.gatewayClassName", ""),
        crd("Address", "string", ".status.addresses[*].value", ""),
        crd(
            "Programmed",
            "string",
            ".status.conditions[?(@.type==\"Programmed\")].status",
            "",
        ),
        GATEWAY_API_AGE,
    ];
    const ROUTE: &[CrdCol] = &[
        crd("Hostnames", "string", ".spec.hostnames", ""),
        GATEWAY_API_AGE,
    ];
    const GATEWAY_API_AGE_ONLY: &[CrdCol] = &[GATEWAY_API_AGE];
    Some(match (group, kind) {
        ("networking.istio.io", "VirtualService") => VS,
        ("networking.istio.io", "DestinationRule") => DR,
        ("networking.istio.io", "ServiceEntry") => SE,
        ("networking.istio.io", "WorkloadEntry") => WE,
        ("networking.istio.io", "WorkloadGroup")
        | ("telemetry.istio.io", "Telemetry")
        | ("extensions.istio.io", "WasmPlugin") => ISTIO_AGE_ONLY,
        ("security.istio.io", "PeerAuthentication") => PA,
        ("security.istio.io", "AuthorizationPolicy") => AP,
        ("gateway.networking.k8s.io", "GatewayClass") => GATEWAY_CLASS,
        ("gateway.networking.k8s.io", "Gateway") => GATEWAY,
        ("gateway.networking.k8s.io", "HTTPRoute" | "GRPCRoute") => ROUTE,
        ("gateway.networking.k8s.io", "ReferenceGrant") => GATEWAY_API_AGE_ONLY,
        _ => return None,
    })
}

/// tableconvertor `ConvertToTable` for one column: the first JSONPath result, or `null`
/// (kubectl prints nothing) when there is none. A `string` column prints the value as the
/// JSONPath printer does (compact Go JSON for arrays and maps, `%v` otherwise, `<no value>`
/// for a JSON null); other types go through `cellForJSONValue`.
fn crd_cell(c: &CrdCol, obj: &Value, now: i128) -> Value {
    let Some(v) = eval_jsonpath(obj, c.path).into_iter().next() else {
        return Value::Null;
    };
    match (c.ty, v) {
        ("string", Value::Array(_) | Value::Object(_)) => {
            let mut out = String::new();
            go_json(v, &mut out);
            out.into()
        }
        ("string", Value::String(s)) => s.clone().into(),
        ("string", Value::Bool(b)) => b.to_string().into(),
        ("string", Value::Number(num)) => go_number(num, false).into(),
        ("string", Value::Null) => "<no value>".into(),
        ("integer", Value::Number(_)) => n(v).into(),
        ("number", Value::Number(num)) => num.as_f64().map_or(Value::Null, |f| {
            // Go's JSON writes an integral float64 without a fraction.
            if f.fract() == 0.0 && f.abs() < 1e15 {
                (f as i64).into()
            } else {
                f.into()
            }
        }),
        ("boolean", Value::Bool(b)) => (*b).into(),
        // `metav1.Time.UnmarshalQueryParameter` then `ConvertToHumanReadableDateType`.
        ("date", Value::String(t)) => match t.as_str() {
            "" | "null" => "<unknown>".into(),
            t => match parse_rfc3339_nanos(t) {
                None => "<invalid>".into(),
                Some(t) if t == GO_ZERO_TIME_SECS * NANOS => "<unknown>".into(),
                Some(t) => human_duration_nanos(now - t).into(),
            },
        },
        _ => Value::Null,
    }
}

/// The subset of `k8s.io/client-go/util/jsonpath` the printer columns use: `.field`,
/// `[*]`, `[N]` (negative from the end) and `[?(@.field=="x")]` / `!=`. Returns the single
/// result list `FindResults` yields for a one-expression template; evaluation errors
/// (wildcard or filter over a non-array, index out of range, comparing a non-string) yield
/// nothing, as they make the cell `null` too.
fn eval_jsonpath<'v>(root: &'v Value, path: &str) -> Vec<&'v Value> {
    let mut cur = vec![root];
    let mut rest = path;
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            let key = &r[..end];
            rest = &r[end..];
            // `evalField`: a nil parent is skipped; a present key is a result even if null.
            cur = cur
                .into_iter()
                .filter_map(|v| v.as_object()?.get(key))
                .collect();
        } else if let Some(r) = rest.strip_prefix('[') {
            let Some(end) = r.find(']') else {
                return vec![];
            };
            let inner = &r[..end];
            rest = &r[end + 1..];
            let mut next = Vec::new();
            for v in cur.into_iter().filter(|v| !v.is_null()) {
                let Some(items) = v.as_array() else {
                    return vec![];
                };
                if inner == "*" {
                    next.extend(items);
                } else if let Some(filter) =
                    inner.strip_prefix("?(@").and_then(|f| f.strip_suffix(')'))
                {
                    let Some(matched) = filter_items(items, filter) else {
                        return vec![];
                    };
                    next.extend(matched);
                } else {
                    let Ok(i) = inner.trim().parse::<i64>() else {
                        return vec![];
                    };
                    let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
                    let i = if i < 0 { i + len } else { i };
                    let Some(item) = usize::try_from(i).ok().and_then(|i| items.get(i)) else {
                        return vec![];
                    };
                    next.push(item);
                }
            }
            cur = next;
        } else {
            return vec![];
        }
    }
    cur
}

/// `evalFilter` for `.a.b=="lit"` / `!=`: elements where the left side is missing are
/// skipped; a non-string left side is a comparison error (`None`).
fn filter_items<'v>(items: &'v [Value], filter: &str) -> Option<Vec<&'v Value>> {
    let (left, op, lit) = ["==", "!="].iter().find_map(|op| {
        filter
            .split_once(op)
            .map(|(l, r)| (l.trim(), *op, r.trim()))
    })?;
    let lit = lit
        .strip_prefix('"')
        .and_then(|l| l.strip_suffix('"'))
        .or_else(|| lit.strip_prefix('\'').and_then(|l| l.strip_suffix('\'')))?;
    let mut out = Vec::new();
    for item in items {
        let lefts = eval_jsonpath(item, left);
        match lefts.as_slice() {
            [] => continue,
            [Value::String(l)] => {
                if (l == lit) == (op == "==") {
                    out.push(item);
                }
            }
            _ => return None,
        }
    }
    Some(out)
}

/// Go `encoding/json` `Marshal` of a decoded JSON value: map keys sorted, HTML-safe
/// escaping of `<`, `>`, `&`, U+2028 and U+2029, `\b`/`\f` short escapes (Go ≥ 1.22).
fn go_json(v: &Value, out: &mut String) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(num) => out.push_str(&go_number(num, true)),
        Value::String(st) => go_json_string(st, out),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json(item, out);
            }
            out.push(']');
        }
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                go_json_string(k, out);
                out.push(':');
                go_json(&m[k], out);
            }
            out.push('}');
        }
    }
}

fn go_json_string(st: &str, out: &mut String) {
    out.push('"');
    for ch in st.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                out.push_str(&format!("\\u{:04x}", u32::from(ch)))
            }
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A number as Go prints the int64/float64 it decodes to: `json` = `encoding/json`
/// (exponent only below 1e-6 or from 1e21), else `fmt` `%v` (`%g` shortest: exponent below
/// 1e-4 or from 1e6, at least two exponent digits).
fn go_number(num: &serde_json::Number, json: bool) -> String {
    let Some(f) = num.as_f64().filter(|_| num.is_f64()) else {
        return num.to_string();
    };
    let sci = format!("{f:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let use_exp = if json {
        f != 0.0 && !(1e-6..1e21).contains(&f.abs())
    } else {
        !(-4..6).contains(&exp)
    };
    if !use_exp {
        return format!("{f}");
    }
    let sign = if exp < 0 { '-' } else { '+' };
    if json {
        format!("{mantissa}e{sign}{}", exp.unsigned_abs())
    } else {
        format!("{mantissa}e{sign}{:02}", exp.unsigned_abs())
    }
}

// ---------------------------------------------------------------------------------------
// Column descriptions: the API's swagger docs (k8s.io/api v0.32, apimachinery v0.32) that
// printers.go references, and the descriptions in Istio 1.27's CRDs.
// ---------------------------------------------------------------------------------------

mod doc {
    pub const NAME: &str = "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names";
    pub const CREATION_TIMESTAMP: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC.\n\nPopulated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata";
    pub const CONTAINERS: &str = "Names of each container in the template.";
    pub const IMAGES: &str = "Images referenced by each container in the template.";
    pub const POD_IP: &str = "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.";
    pub const NODE_NAME: &str = "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename";
    pub const NOMINATED_NODE_NAME: &str = "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.";
    pub const READINESS_GATES: &str = "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates";
    pub const NODE_SELECTOR: &str = "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/";
    pub const DEPLOYMENT_UPDATED: &str = "Total number of non-terminated pods targeted by this deployment that have the desired template spec.";
    pub const DEPLOYMENT_AVAILABLE: &str = "Total number of available pods (ready for at least minReadySeconds) targeted by this deployment.";
    pub const DEPLOYMENT_SELECTOR: &str = "Label selector for pods. Existing ReplicaSets whose pods are selected by this will be the ones affected by this deployment.";
    pub const REPLICASET_SPEC_REPLICAS: &str = "Replicas is the number of desired replicas. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller";
    pub const REPLICASET_STATUS_REPLICAS: &str = "Replicas is the most recently observed number of replicas. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicationcontroller/#what-is-a-replicationcontroller";
    pub const REPLICASET_READY: &str = "The number of ready replicas for this replica set.";
    pub const REPLICASET_SELECTOR: &str = "Selector is a label query over pods that should match the replica count. If the selector is empty, it is defaulted to the labels present on the pod template. Label keys and values that must match in order to be controlled by this replica set. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
    pub const DS_DESIRED: &str = "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/";
    pub const DS_CURRENT: &str = "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/";
    pub const DS_READY: &str = "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and ready.";
    pub const DS_UPDATED: &str = "The total number of nodes that are running updated daemon pod";
    pub const DS_AVAILABLE: &str = "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)";
    pub const DS_SELECTOR: &str = "A label query over pods that are managed by the daemon set. Must match in order to be controlled. If empty, defaulted to labels on Pod template. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
    pub const JOB_SUCCEEDED: &str = "The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.";
    pub const JOB_SELECTOR: &str = "A label query over pods that should match the pod count. Normally, the system sets this field for you. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors";
    pub const HPA_SCALE_TARGET_REF: &str = "scaleTargetRef points to the target resource to scale, and is used to the pods for which metrics should be collected, as well as to actually change the replica count.";
    pub const HPA_METRICS: &str = "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond.";
    pub const HPA_MIN_REPLICAS: &str = "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.";
    pub const HPA_MAX_REPLICAS: &str = "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.";
    pub const HPA_CURRENT_REPLICAS: &str = "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.";
    pub const SERVICE_TYPE: &str = "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types";
    pub const CLUSTER_IP: &str = "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies";
    pub const EXTERNAL_IPS: &str = "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.";
    pub const SERVICE_PORTS: &str = "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies";
    pub const SERVICE_SELECTOR: &str = "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/";
    pub const ENDPOINTS_SUBSETS: &str = "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.";
    pub const SLICE_ADDRESS_TYPE: &str = "addressType specifies the type of address carried by this EndpointSlice. All addresses in this slice must be the same type. This field is immutable after creation. The following address types are currently supported: * IPv4: Represents an IPv4 Address. * IPv6: Represents an IPv6 Address. * FQDN: Represents a Fully Qualified Domain Name.";
    pub const SLICE_PORTS: &str = "ports specifies the list of network ports exposed by each endpoint in this slice. Each port must have a unique name. When ports is empty, it indicates that there are no defined ports. When a port is defined with a nil port value, it indicates \"all ports\". Each slice may include a maximum of 100 ports.";
    pub const SLICE_ENDPOINTS: &str = "endpoints is a list of unique endpoints in this slice. Each slice may include a maximum of 1000 endpoints.";
    pub const KUBELET_VERSION: &str = "Kubelet Version reported by the node.";
    pub const NODE_ADDRESSES: &str = "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).";
    pub const OS_IMAGE: &str =
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).";
    pub const KERNEL_VERSION: &str =
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).";
    pub const CONTAINER_RUNTIME: &str = "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).";
    pub const EVENT_LAST_TIMESTAMP: &str =
        "The time at which the most recent occurrence of this event was recorded.";
    pub const EVENT_TYPE: &str =
        "Type of this event (Normal, Warning), new types could be added in the future";
    pub const EVENT_REASON: &str = "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.";
    pub const EVENT_INVOLVED_OBJECT: &str = "The object that this event is about.";
    pub const FIELD_PATH: &str = "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.";
    pub const EVENT_SOURCE: &str =
        "The component reporting this event. Should be a short machine understandable string.";
    pub const EVENT_MESSAGE: &str = "A human-readable description of the status of this operation.";
    pub const EVENT_FIRST_TIMESTAMP: &str =
        "The time at which the event was first recorded. (Time of server receipt is in TypeMeta.)";
    pub const EVENT_COUNT: &str = "The number of times this event has occurred.";
    pub const CONFIGMAP_DATA: &str = "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.";
    pub const SECRET_TYPE: &str = "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types";
    pub const SECRET_DATA: &str = "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4";
    pub const SA_SECRETS: &str = "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret";
    pub const ROLEBINDING_ROLE_REF: &str = "RoleRef can reference a Role in the current namespace or a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.";
    pub const CLUSTERROLEBINDING_ROLE_REF: &str = "RoleRef can only reference a ClusterRole in the global namespace. If the RoleRef cannot be resolved, the Authorizer must return an error.";
    pub const LEASE_HOLDER: &str = "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.";
    pub const ISTIO_AGE: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC. Populated by the system. Read-only. Null for lists. More info: https://git.k8s.io/community/contributors/devel/api-conventions.md#metadata";
    pub const ISTIO_DR_AGE: &str = "CreationTimestamp is a timestamp representing the server time when this object was created. It is not guaranteed to be set in happens-before order across separate operations. Clients may not set this value. It is represented in RFC3339 form and is in UTC. Populated by the system. Read-only. Null for lists. For more information, see [Kubernetes API Conventions](https://github.com/kubernetes/community/blob/master/contributors/devel/sig-architecture/api-conventions.md#metadata)";
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    /// The server clock of every test: 2026-01-01T01:00:00Z.
    const NOW: u64 = 1_767_229_200;
    const CREATED: &str = "2026-01-01T00:00:00Z";

    fn table(group: &str, kind: &str, obj: Value) -> Value {
        render(group, kind, &[&obj], NOW, "42")
    }

    fn cells(group: &str, kind: &str, obj: Value) -> Vec<Value> {
        table(group, kind, obj)["rows"][0]["cells"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    fn column_names(group: &str, kind: &str) -> Vec<String> {
        let t = render(group, kind, &[], NOW, "");
        list(&t["columnDefinitions"])
            .iter()
            .map(|c| {
                format!(
                    "{}{}",
                    s(&c["name"]),
                    if n(&c["priority"]) == 1 { "*" } else { "" }
                )
            })
            .collect()
    }

    /// `now - secs` as an RFC 3339 string.
    fn ago(secs: i128) -> String {
        format_rfc3339((i128::from(NOW) - secs) * NANOS)
    }

    #[test_case(-5, "<invalid>"; "skew beyond a second")]
    #[test_case(-2, "<invalid>"; "two seconds early")]
    #[test_case(-1, "0s"; "one second early")]
    #[test_case(0, "0s"; "zero")]
    #[test_case(59, "59s"; "59s")]
    #[test_case(60, "60s"; "one minute still seconds")]
    #[test_case(90, "90s"; "ninety")]
    #[test_case(119, "119s"; "last seconds value")]
    #[test_case(120, "2m"; "two minutes")]
    #[test_case(123, "2m3s"; "minutes and seconds")]
    #[test_case(599, "9m59s"; "under ten minutes")]
    #[test_case(600, "10m"; "ten minutes")]
    #[test_case(3540, "59m"; "59 minutes")]
    #[test_case(7500, "125m"; "2h5m in minutes")]
    #[test_case(10_799, "179m"; "under three hours")]
    #[test_case(10_800, "3h"; "three hours")]
    #[test_case(11_100, "3h5m"; "hours and minutes")]
    #[test_case(28_799, "7h59m"; "under eight hours")]
    #[test_case(28_800, "8h"; "eight hours")]
    #[test_case(172_799, "47h"; "under two days")]
    #[test_case(172_800, "2d"; "two days")]
    #[test_case(190_800, "2d5h"; "days and hours")]
    #[test_case(691_199, "7d23h"; "under eight days")]
    #[test_case(691_200, "8d"; "eight days")]
    #[test_case(63_071_999, "729d"; "under two years")]
    #[test_case(63_072_000, "2y"; "two years")]
    #[test_case(94_608_000, "3y"; "three years")]
    #[test_case(94_694_400, "3y1d"; "years and days")]
    #[test_case(252_288_000, "8y"; "eight years")]
    fn human_duration_matches_go(secs: i64, want: &str) {
        assert_eq!(human_duration(secs), want);
    }

    #[test_case("2026-01-01T00:00:05Z", Some(1_767_225_605); "utc")]
    #[test_case("2026-01-01T00:00:05.999999Z", Some(1_767_225_605); "fraction rounds down")]
    #[test_case("2026-01-01T02:00:05+02:00", Some(1_767_225_605); "offset")]
    #[test_case("1970-01-01T00:00:00Z", Some(0); "epoch")]
    #[test_case("1969-12-31T23:59:59.5Z", Some(-1); "before epoch")]
    #[test_case("2024-02-29T00:00:00Z", Some(1_709_164_800); "leap day")]
    #[test_case("2023-02-29T00:00:00Z", None; "not a leap year")]
    #[test_case("2026-01-01 00:00:05Z", None; "space separator")]
    #[test_case("2026-01-01T00:00:05", None; "no zone")]
    #[test_case("2026-13-01T00:00:05Z", None; "month 13")]
    #[test_case("2026-01-01T24:00:00Z", None; "hour 24")]
    #[test_case("", None; "empty")]
    fn parses_rfc3339(input: &str, want: Option<i64>) {
        assert_eq!(parse_rfc3339(input), want);
    }

    #[test]
    fn rfc3339_round_trips() {
        for t in [0, 1_767_225_605, -62_135_596_800, 951_782_400] {
            let text = format_rfc3339(i128::from(t) * NANOS);
            assert_eq!(parse_rfc3339(&text), Some(t), "{text}");
        }
        assert_eq!(
            format_rfc3339(GO_ZERO_TIME_SECS * NANOS),
            "0001-01-01T00:00:00Z"
        );
    }

    #[test]
    fn table_envelope_and_partial_object_metadata() {
        let obj = json!({"apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"labels": {"a": "b"}, "name": "cm", "namespace": "default", "uid": "u-1",
                         "resourceVersion": "7", "bogus": 1, "annotations": {"x": "y"}},
            "data": {"k": "v"}});
        let t = table("", "ConfigMap", obj);
        assert_eq!(t["kind"], "Table");
        assert_eq!(t["apiVersion"], "meta.k8s.io/v1");
        assert_eq!(t["metadata"], json!({"resourceVersion": "42"}));
        assert_eq!(
            t["columnDefinitions"][0],
            json!({"name": "Name", "type": "string", "format": "name", "description": doc::NAME, "priority": 0})
        );
        let object = &t["rows"][0]["object"];
        assert_eq!(object["kind"], "PartialObjectMetadata");
        assert_eq!(object["apiVersion"], "meta.k8s.io/v1");
        // Go field order, creationTimestamp always written, unknown keys dropped.
        let keys: Vec<&String> = object["metadata"].as_object().unwrap().keys().collect();
        assert_eq!(
            keys,
            [
                "name",
                "namespace",
                "uid",
                "resourceVersion",
                "creationTimestamp",
                "labels",
                "annotations"
            ]
        );
        assert_eq!(object["metadata"]["creationTimestamp"], Value::Null);
        assert_eq!(t["rows"][0]["cells"], json!(["cm", 1, "<unknown>"]));
        assert!(t["rows"][0].get("conditions").is_none());
        assert_eq!(render("", "Pod", &[], NOW, "")["metadata"], json!({}));
    }

    #[test_case(
        "",
        "Pod",
        "Name Ready Status Restarts Age IP* Node* Nominated Node* Readiness Gates*"
    )]
    #[test_case(
        "apps",
        "Deployment",
        "Name Ready Up-to-date Available Age Containers* Images* Selector*"
    )]
    #[test_case(
        "apps",
        "ReplicaSet",
        "Name Desired Current Ready Age Containers* Images* Selector*"
    )]
    #[test_case(
        "apps",
        "DaemonSet",
        "Name Desired Current Ready Up-to-date Available Node Selector Age Containers* Images* Selector*"
    )]
    #[test_case("apps", "StatefulSet", "Name Ready Age Containers* Images*")]
    #[test_case(
        "batch",
        "Job",
        "Name Status Completions Duration Age Containers* Images* Selector*"
    )]
    #[test_case(
        "",
        "Service",
        "Name Type Cluster-IP External-IP Port(s) Age Selector*"
    )]
    #[test_case("", "Endpoints", "Name Endpoints Age")]
    #[test_case("", "Namespace", "Name Status Age")]
    #[test_case(
        "",
        "Node",
        "Name Status Roles Age Version Internal-IP* External-IP* OS-Image* Kernel-Version* Container-Runtime*"
    )]
    #[test_case(
        "",
        "Event",
        "Last Seen Type Reason Object Subobject* Source* Message First Seen* Count* Name*"
    )]
    #[test_case("", "ConfigMap", "Name Data Age")]
    #[test_case("", "Secret", "Name Type Data Age")]
    #[test_case("", "ServiceAccount", "Name Secrets Age")]
    #[test_case("", "LimitRange", "Name Created At"; "built-in kind without a printer")]
    #[test_case("rbac.authorization.k8s.io", "ClusterRole", "Name Created At"; "rbac default")]
    #[test_case("networking.istio.io", "VirtualService", "Name Gateways Hosts Age")]
    #[test_case("networking.istio.io", "DestinationRule", "Name Host Age")]
    #[test_case("networking.istio.io", "Gateway", "Name Age"; "istio gateway has no columns")]
    #[test_case(
        "networking.istio.io",
        "ServiceEntry",
        "Name Hosts Location Resolution Age"
    )]
    #[test_case("networking.istio.io", "WorkloadEntry", "Name Age Address")]
    #[test_case("security.istio.io", "PeerAuthentication", "Name Mode Age")]
    #[test_case("security.istio.io", "AuthorizationPolicy", "Name Action Age")]
    #[test_case("security.istio.io", "RequestAuthentication", "Name Age")]
    #[test_case(
        "gateway.networking.k8s.io",
        "GatewayClass",
        "Name Controller Accepted Age Description*"
    )]
    #[test_case(
        "gateway.networking.k8s.io",
        "Gateway",
        "Name Class Address Programmed Age"
    )]
    #[test_case("gateway.networking.k8s.io", "HTTPRoute", "Name Hostnames Age")]
    #[test_case("example.com", "Widget", "Name Age"; "unknown crd")]
    fn columns(group: &str, kind: &str, want: &str) {
        let want: Vec<String> = want.split(' ').map(str::to_string).collect();
        let got = column_names(group, kind).join(" ");
        assert_eq!(got, want.join(" "));
    }

    fn pod(status: Value) -> Value {
        json!({"metadata": {"name": "p", "creationTimestamp": CREATED},
               "spec": {"containers": [{"name": "app"}, {"name": "istio-proxy"}], "nodeName": "n1"},
               "status": status})
    }

    fn running(name: &str) -> Value {
        json!({"name": name, "ready": true, "restartCount": 0, "state": {"running": {"startedAt": CREATED}}})
    }

    #[test_case(json!({"phase": "Pending"}), "0/2", "Pending"; "pending without statuses")]
    #[test_case(json!({"phase": "Running", "containerStatuses": [running("app"), running("istio-proxy")]}), "2/2", "Running"; "running")]
    #[test_case(json!({"phase": "Pending", "containerStatuses": [
        {"name": "app", "ready": false, "state": {"waiting": {"reason": "ContainerCreating"}}},
        {"name": "istio-proxy", "ready": false, "state": {"waiting": {"reason": "ContainerCreating"}}}]}), "0/2", "ContainerCreating"; "creating")]
    #[test_case(json!({"phase": "Running", "containerStatuses": [
        running("app"), {"name": "istio-proxy", "ready": false, "state": {"running": {}}}]}), "1/2", "Running"; "running not ready")]
    #[test_case(json!({"phase": "Running", "containerStatuses": [
        {"name": "app", "ready": false, "restartCount": 3, "state": {"waiting": {"reason": "CrashLoopBackOff"}}}, running("istio-proxy")]}), "1/2", "CrashLoopBackOff"; "crash loop")]
    #[test_case(json!({"phase": "Running", "containerStatuses": [
        {"name": "app", "ready": false, "state": {"terminated": {"reason": "Error", "exitCode": 1}}}, running("istio-proxy")]}), "1/2", "Error"; "error")]
    #[test_case(json!({"phase": "Running", "containerStatuses": [
        {"name": "app", "ready": false, "state": {"terminated": {"exitCode": 137}}}, running("istio-proxy")]}), "1/2", "ExitCode:137"; "exit code")]
    #[test_case(json!({"phase": "Running", "containerStatuses": [
        {"name": "app", "ready": false, "state": {"terminated": {"exitCode": 0, "signal": 9}}}, running("istio-proxy")]}), "1/2", "Signal:9"; "signal")]
    #[test_case(json!({"phase": "Succeeded", "containerStatuses": [
        {"name": "app", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}},
        {"name": "istio-proxy", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]}), "0/2", "Completed"; "completed")]
    #[test_case(json!({"phase": "Running", "containerStatuses": [
        running("app"), {"name": "istio-proxy", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]}), "1/2", "NotReady"; "completed but one runs")]
    #[test_case(json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}], "containerStatuses": [
        running("app"), {"name": "istio-proxy", "state": {"terminated": {"reason": "Completed", "exitCode": 0}}}]}), "1/2", "Running"; "completed but one runs and ready")]
    #[test_case(json!({"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}), "0/2", "SchedulingGated"; "gated")]
    #[test_case(json!({"phase": "Failed", "reason": "Evicted"}), "0/2", "Evicted"; "status reason")]
    fn pod_status(status: Value, ready: &str, want: &str) {
        let c = cells("", "Pod", pod(status));
        assert_eq!((s(&c[1]), s(&c[2])), (ready, want));
    }

    fn init_pod(init_status: Value, statuses: Value) -> Value {
        json!({"metadata": {"name": "p"},
               "spec": {"initContainers": [{"name": "istio-init"}, {"name": "istio-validation"}], "containers": [{"name": "app"}]},
               "status": {"phase": "Pending", "initContainerStatuses": init_status, "containerStatuses": statuses}})
    }

    #[test_case(json!([{"name": "istio-init", "state": {"waiting": {"reason": "PodInitializing"}}}]), "Init:0/2"; "first waiting to start")]
    #[test_case(json!([{"name": "istio-init", "state": {"terminated": {"exitCode": 0}}}, {"name": "istio-validation", "state": {"running": {}}}]), "Init:1/2"; "second running")]
    #[test_case(json!([{"name": "istio-init", "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]), "Init:CrashLoopBackOff"; "init crash loop")]
    #[test_case(json!([{"name": "istio-init", "state": {"terminated": {"reason": "Error", "exitCode": 1}}}]), "Init:Error"; "init error")]
    #[test_case(json!([{"name": "istio-init", "state": {"terminated": {"exitCode": 2}}}]), "Init:ExitCode:2"; "init exit code")]
    #[test_case(json!([{"name": "istio-init", "state": {"terminated": {"exitCode": 0}}}, {"name": "istio-validation", "state": {"terminated": {"exitCode": 0}}}]), "PodInitializing"; "init done")]
    fn pod_init_status(init: Value, want: &str) {
        let statuses = json!([{"name": "app", "ready": false, "state": {"waiting": {"reason": "PodInitializing"}}}]);
        assert_eq!(cells("", "Pod", init_pod(init, statuses))[2], want);
    }

    #[test]
    fn native_sidecar_counts_as_a_container() {
        let p = json!({"metadata": {"name": "p"},
            "spec": {"initContainers": [{"name": "istio-proxy", "restartPolicy": "Always"}], "containers": [{"name": "app"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Initialized", "status": "True"}],
                "initContainerStatuses": [{"name": "istio-proxy", "started": true, "ready": true, "restartCount": 2,
                    "lastState": {"terminated": {"finishedAt": ago(300)}}, "state": {"running": {}}}],
                "containerStatuses": [running("app")]}});
        let c = cells("", "Pod", p);
        assert_eq!(
            (s(&c[1]), s(&c[2]), s(&c[3])),
            ("2/2", "Running", "2 (5m ago)")
        );
    }

    #[test_case(json!([running("app")]), "0"; "no restarts")]
    #[test_case(json!([{"name": "app", "restartCount": 3, "state": {"running": {}}, "ready": true,
        "lastState": {"terminated": {"finishedAt": ago(120)}}}]), "3 (2m ago)"; "restarted two minutes ago")]
    #[test_case(json!([{"name": "app", "restartCount": 1, "state": {"running": {}},
        "lastState": {"terminated": {"finishedAt": ago(3600 * 26)}}},
        {"name": "istio-proxy", "restartCount": 4, "state": {"running": {}},
        "lastState": {"terminated": {"finishedAt": ago(45)}}}]), "5 (45s ago)"; "sum and latest")]
    #[test_case(json!([{"name": "app", "restartCount": 2, "state": {"running": {}}}]), "2"; "restarts without a time")]
    fn pod_restarts(statuses: Value, want: &str) {
        let c = cells(
            "",
            "Pod",
            pod(json!({"phase": "Running", "containerStatuses": statuses})),
        );
        assert_eq!(c[3], want);
    }

    #[test]
    fn pod_age_wide_cells_and_conditions() {
        let mut p = pod(json!({"phase": "Running", "podIPs": [{"ip": "10.244.0.5"}],
            "conditions": [{"type": "example.com/gate", "status": "True"}]}));
        p["spec"]["readinessGates"] =
            json!([{"conditionType": "example.com/gate"}, {"conditionType": "other"}]);
        let c = cells("", "Pod", p);
        assert_eq!(
            c[4..],
            [
                json!("60m"),
                json!("10.244.0.5"),
                json!("n1"),
                json!("<none>"),
                json!("1/2")
            ]
        );
        let bare = cells("", "Pod", json!({"metadata": {"name": "x"}}));
        assert_eq!(
            bare,
            json!([
                "x",
                "0/0",
                "",
                "0",
                "<unknown>",
                "<none>",
                "<none>",
                "<none>",
                "<none>"
            ])
            .as_array()
            .unwrap()
            .clone()
        );
        let done = table("", "Pod", pod(json!({"phase": "Succeeded"})));
        assert_eq!(done["rows"][0]["conditions"][0]["reason"], "Succeeded");
    }

    #[test_case(json!({"deletionTimestamp": CREATED}), json!({"phase": "Running"}), "Terminating"; "deleting")]
    #[test_case(json!({"deletionTimestamp": CREATED}), json!({"phase": "Running", "reason": "NodeLost"}), "Unknown"; "node lost")]
    #[test_case(json!({"deletionTimestamp": CREATED}), json!({"phase": "Succeeded"}), "Succeeded"; "terminal phase kept")]
    fn pod_deletion(meta: Value, status: Value, want: &str) {
        let mut p = pod(status);
        p["metadata"]["deletionTimestamp"] = meta["deletionTimestamp"].clone();
        assert_eq!(cells("", "Pod", p)[2], want);
    }

    fn svc(spec: Value, status: Value) -> Value {
        json!({"metadata": {"name": "s", "creationTimestamp": CREATED}, "spec": spec, "status": status})
    }

    #[test_case(json!({"clusterIP": "10.96.0.10", "ports": [{"port": 9080, "protocol": "TCP"}], "selector": {"app": "reviews"}}), json!({}),
        ["ClusterIP", "10.96.0.10", "<none>", "9080/TCP", "app=reviews"]; "cluster ip")]
    #[test_case(json!({"type": "NodePort", "clusterIPs": ["10.96.1.1"], "ports": [{"port": 80, "nodePort": 31380}, {"port": 443, "nodePort": 31390, "protocol": "TCP"}]}), json!({}),
        ["NodePort", "10.96.1.1", "<none>", "80:31380/TCP,443:31390/TCP", "<none>"]; "node port")]
    #[test_case(json!({"type": "LoadBalancer", "clusterIP": "10.96.2.2", "ports": [{"port": 15021, "nodePort": 30021, "protocol": "TCP"}], "selector": {"istio": "ingressgateway", "app": "istio-ingressgateway"}}), json!({}),
        ["LoadBalancer", "10.96.2.2", "<pending>", "15021:30021/TCP", "app=istio-ingressgateway,istio=ingressgateway"]; "lb pending")]
    #[test_case(json!({"type": "LoadBalancer", "clusterIP": "10.96.2.2", "ports": [{"port": 80, "protocol": "UDP"}]}), json!({"loadBalancer": {"ingress": [{"ip": "172.18.0.9"}, {"hostname": "lb.example.com"}, {"ip": "172.18.0.10"}]}}),
        ["LoadBalancer", "10.96.2.2", "172.18.0.10,172.18.0.9,lb.example.com", "80/UDP", "<none>"]; "lb ingress sorted unclipped")]
    #[test_case(json!({"type": "ClusterIP", "clusterIP": "None", "clusterIPs": ["None"], "externalIPs": ["1.2.3.4", "5.6.7.8"]}), json!({}),
        ["ClusterIP", "None", "1.2.3.4,5.6.7.8", "<none>", "<none>"]; "headless with external ips")]
    #[test_case(json!({"type": "ExternalName", "externalName": "httpbin.org"}), json!({}),
        ["ExternalName", "<none>", "httpbin.org", "<none>", "<none>"]; "external name")]
    fn service(spec: Value, status: Value, want: [&str; 5]) {
        let c = cells("", "Service", svc(spec, status));
        let got: Vec<&str> = [1, 2, 3, 4, 6].iter().map(|&i| s(&c[i])).collect();
        assert_eq!(got, want);
        assert_eq!(c[5], "60m");
    }

    #[test_case(json!([]), "<none>"; "no subsets")]
    #[test_case(json!([{"addresses": [{"ip": "10.244.0.5"}], "ports": [{"port": 9080}]}]), "10.244.0.5:9080"; "one")]
    #[test_case(json!([{"addresses": [{"ip": "10.244.0.5"}, {"ip": "10.244.1.3"}, {"ip": "10.244.1.4"}, {"ip": "10.244.2.1"}, {"ip": "10.244.2.2"}], "ports": [{"port": 9080}]}]),
        "10.244.0.5:9080,10.244.1.3:9080,10.244.1.4:9080 + 2 more..."; "more")]
    #[test_case(json!([{"addresses": [{"ip": "10.0.0.1"}, {"ip": "10.0.0.2"}], "ports": [{"port": 80}, {"port": 443}]}]),
        "10.0.0.1:80,10.0.0.2:80,10.0.0.1:443 + 1 more..."; "ports multiply")]
    #[test_case(json!([{"addresses": [{"ip": "fd00::1"}]}, {"addresses": [{"ip": "10.0.0.9"}], "ports": [{"port": 53}]}]), "fd00::1,10.0.0.9:53"; "headless then ported")]
    #[test_case(json!([{"notReadyAddresses": [{"ip": "10.0.0.1"}], "ports": [{"port": 80}]}]), ""; "only not ready")]
    fn endpoints(subsets: Value, want: &str) {
        let c = cells(
            "",
            "Endpoints",
            json!({"metadata": {"name": "e"}, "subsets": subsets}),
        );
        assert_eq!(c[1], want);
    }

    #[test_case(json!({"replicas": 3, "selector": {"matchLabels": {"app": "reviews", "version": "v1"}}}), json!({"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}),
        json!(["2/3", 3, 2]), "app=reviews,version=v1"; "partly ready")]
    #[test_case(json!({"selector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}, {"key": "canary", "operator": "DoesNotExist"}]}}), json!({}),
        json!(["0/1", 0, 0]), "!canary,tier in (api,web)"; "defaulted replicas and expressions")]
    #[test_case(json!({"replicas": 0, "selector": {}}), json!({}), json!(["0/0", 0, 0]), ""; "empty selector prints empty")]
    #[test_case(json!({"replicas": 1, "selector": {"matchExpressions": [{"key": "a", "operator": "Bogus"}]}}), json!({}), json!(["0/1", 0, 0]), "<invalid>"; "bad selector")]
    fn deployment(spec: Value, status: Value, want: Value, selector: &str) {
        let mut spec = spec;
        spec["template"] = json!({"spec": {"containers": [{"name": "reviews", "image": "reviews:v1"}, {"name": "sidecar", "image": "proxyv2:1.27.0"}]}});
        let c = cells(
            "apps",
            "Deployment",
            json!({"metadata": {"name": "d"}, "spec": spec, "status": status}),
        );
        assert_eq!(json!(c[1..4]), want);
        assert_eq!(
            c[5..],
            [
                json!("reviews,sidecar"),
                json!("reviews:v1,proxyv2:1.27.0"),
                json!(selector)
            ]
        );
    }

    #[test]
    fn replica_daemon_stateful_sets() {
        let rs = cells(
            "apps",
            "ReplicaSet",
            json!({"metadata": {"name": "r"}, "spec": {"replicas": 2, "selector": {}}, "status": {"replicas": 2, "readyReplicas": 1}}),
        );
        assert_eq!(
            rs,
            json!(["r", 2, 2, 1, "<unknown>", "", "", "<none>"])
                .as_array()
                .unwrap()
                .clone()
        );
        let ds = cells(
            "apps",
            "DaemonSet",
            json!({"metadata": {"name": "ztunnel"},
            "spec": {"selector": {"matchLabels": {"app": "ztunnel"}}, "template": {"spec": {"nodeSelector": {"kubernetes.io/os": "linux"}, "containers": [{"name": "istio-proxy", "image": "ztunnel:1.27.0"}]}}},
            "status": {"desiredNumberScheduled": 3, "currentNumberScheduled": 3, "numberReady": 2, "updatedNumberScheduled": 3, "numberAvailable": 2}}),
        );
        assert_eq!(
            ds,
            json!([
                "ztunnel",
                3,
                3,
                2,
                3,
                2,
                "kubernetes.io/os=linux",
                "<unknown>",
                "istio-proxy",
                "ztunnel:1.27.0",
                "app=ztunnel"
            ])
            .as_array()
            .unwrap()
            .clone()
        );
        let sts = cells(
            "apps",
            "StatefulSet",
            json!({"metadata": {"name": "db"}, "spec": {"replicas": 3}, "status": {"readyReplicas": 3}}),
        );
        assert_eq!(sts[1], "3/3");
    }

    #[test_case(json!({"completions": 1}), json!({"succeeded": 1, "startTime": ago(600), "completionTime": ago(540), "conditions": [{"type": "Complete", "status": "True"}]}), ["Complete", "1/1", "60s"]; "complete")]
    #[test_case(json!({"parallelism": 3}), json!({"startTime": ago(150)}), ["Running", "0/1 of 3", "2m30s"]; "parallel running")]
    #[test_case(json!({}), json!({}), ["Running", "0/1", ""]; "defaulted not started")]
    #[test_case(json!({"completions": 2}), json!({"conditions": [{"type": "Failed", "status": "True"}]}), ["Failed", "0/2", ""]; "failed")]
    fn job(spec: Value, status: Value, want: [&str; 3]) {
        let c = cells(
            "batch",
            "Job",
            json!({"metadata": {"name": "j"}, "spec": spec, "status": status}),
        );
        assert_eq!([s(&c[1]), s(&c[2]), s(&c[3])], want);
    }

    #[test_case(json!({"node-role.kubernetes.io/control-plane": ""}), "control-plane"; "control plane")]
    #[test_case(json!({"kubernetes.io/hostname": "w1"}), "<none>"; "worker")]
    #[test_case(json!({"node-role.kubernetes.io/worker": "", "node-role.kubernetes.io/infra": "", "kubernetes.io/role": "master", "node-role.kubernetes.io/": ""}), "infra,master,worker"; "several sorted")]
    fn node_roles(labels: Value, want: &str) {
        let c = cells(
            "",
            "Node",
            json!({"metadata": {"name": "n", "labels": labels}}),
        );
        assert_eq!(c[2], want);
    }

    #[test_case(json!({"conditions": [{"type": "Ready", "status": "True"}]}), json!({}), "Ready"; "ready")]
    #[test_case(json!({"conditions": [{"type": "Ready", "status": "True"}]}), json!({"unschedulable": true}), "Ready,SchedulingDisabled"; "cordoned")]
    #[test_case(json!({"conditions": [{"type": "MemoryPressure", "status": "False"}, {"type": "Ready", "status": "Unknown"}]}), json!({}), "NotReady"; "not ready")]
    #[test_case(json!({}), json!({"unschedulable": true}), "Unknown,SchedulingDisabled"; "no condition")]
    fn node_status(status: Value, spec: Value, want: &str) {
        let c = cells(
            "",
            "Node",
            json!({"metadata": {"name": "n"}, "spec": spec, "status": status}),
        );
        assert_eq!(c[1], want);
    }

    #[test]
    fn node_wide_cells() {
        let c = cells(
            "",
            "Node",
            json!({"metadata": {"name": "kind-control-plane", "creationTimestamp": ago(3 * 86_400)},
            "status": {"addresses": [{"type": "InternalIP", "address": "172.18.0.2"}, {"type": "Hostname", "address": "kind-control-plane"}],
                       "nodeInfo": {"kubeletVersion": "v1.32.2", "osImage": "Debian GNU/Linux 12 (bookworm)", "containerRuntimeVersion": "containerd://2.0.2"}}}),
        );
        assert_eq!(
            c[3..],
            json!([
                "3d",
                "v1.32.2",
                "172.18.0.2",
                "<none>",
                "Debian GNU/Linux 12 (bookworm)",
                "<unknown>",
                "containerd://2.0.2"
            ])
            .as_array()
            .unwrap()[..]
        );
    }

    #[test_case(json!({"count": 4, "firstTimestamp": ago(600), "lastTimestamp": ago(30)}), ["30s", "10m", "4"]; "counted")]
    #[test_case(json!({"eventTime": ago(90)}), ["90s", "90s", "1"]; "event time only")]
    #[test_case(json!({"eventTime": ago(900), "series": {"count": 7, "lastObservedTime": ago(5)}}), ["5s", "15m", "7"]; "series")]
    #[test_case(json!({}), ["<unknown>", "<unknown>", "1"]; "no times")]
    fn event_times(times: Value, want: [&str; 3]) {
        let mut e = json!({"metadata": {"name": "reviews.1"}, "type": "Normal", "reason": "Pulled",
            "involvedObject": {"kind": "Pod", "name": "reviews-v1", "fieldPath": "spec.containers{reviews}"},
            "source": {"component": "kubelet", "host": "w1"}, "message": "  Pulled image \n"});
        for (k, v) in times.as_object().unwrap() {
            e[k] = v.clone();
        }
        let c = cells("", "Event", e);
        assert_eq!([s(&c[0]), s(&c[7]), &n(&c[8]).to_string()], want);
        assert_eq!(
            c[1..7],
            json!([
                "Normal",
                "Pulled",
                "pod/reviews-v1",
                "spec.containers{reviews}",
                "kubelet, w1",
                "Pulled image"
            ])
            .as_array()
            .unwrap()[..]
        );
        assert_eq!(c[9], "reviews.1");
    }

    #[test]
    fn events_k8s_io_event() {
        let e = json!({"metadata": {"name": "x"}, "regarding": {"kind": "Deployment", "name": "d"}, "note": "Scaled",
            "reason": "ScalingReplicaSet", "type": "Normal", "reportingController": "deployment-controller", "eventTime": ago(10)});
        let c = cells("events.k8s.io", "Event", e);
        assert_eq!(
            c,
            json!([
                "10s",
                "Normal",
                "ScalingReplicaSet",
                "deployment/d",
                "",
                "deployment-controller",
                "Scaled",
                "10s",
                1,
                "x"
            ])
            .as_array()
            .unwrap()
            .clone()
        );
    }

    #[test]
    fn config_kinds() {
        let cm = cells(
            "",
            "ConfigMap",
            json!({"metadata": {"name": "istio"}, "data": {"mesh": "", "meshNetworks": ""}, "binaryData": {"b": ""}}),
        );
        assert_eq!(cm[1], 3);
        let secret = cells(
            "",
            "Secret",
            json!({"metadata": {"name": "s"}, "data": {"a": "", "b": ""}, "stringData": {"b": "", "c": ""}}),
        );
        assert_eq!(secret[1..3], [json!("Opaque"), json!(3)]);
        let sa = cells(
            "",
            "ServiceAccount",
            json!({"metadata": {"name": "default"}, "secrets": [{"name": "t"}]}),
        );
        assert_eq!(sa[1], 1);
        let ns = cells(
            "",
            "Namespace",
            json!({"metadata": {"name": "istio-system", "creationTimestamp": ago(7200)}}),
        );
        assert_eq!(ns, [json!("istio-system"), json!("Active"), json!("120m")]);
    }

    #[test]
    fn hpa_pdb_webhooks_slices() {
        let hpa = cells(
            "autoscaling",
            "HorizontalPodAutoscaler",
            json!({"metadata": {"name": "istiod"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "istiod"}, "maxReplicas": 5},
            "status": {"currentReplicas": 1, "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 3, "averageValue": "3m"}}}]}}),
        );
        assert_eq!(
            hpa[1..6],
            json!(["Deployment/istiod", "cpu: 3%/80%", "1", 5, 1])
                .as_array()
                .unwrap()[..]
        );
        let pdb = cells(
            "policy",
            "PodDisruptionBudget",
            json!({"metadata": {"name": "istiod"}, "spec": {"minAvailable": 1}, "status": {"disruptionsAllowed": 0}}),
        );
        assert_eq!(pdb[1..4], json!(["1", "N/A", 0]).as_array().unwrap()[..]);
        let wh = cells(
            "admissionregistration.k8s.io",
            "MutatingWebhookConfiguration",
            json!({"metadata": {"name": "istio-sidecar-injector"}, "webhooks": [{}, {}, {}, {}]}),
        );
        assert_eq!(wh[1], 4);
        let slice = cells(
            "discovery.k8s.io",
            "EndpointSlice",
            json!({"metadata": {"name": "reviews-abc"}, "addressType": "IPv4",
            "ports": [{"name": "http", "port": 9080}, {"name": "grpc"}, {}],
            "endpoints": [{"addresses": ["10.0.0.1"]}, {"addresses": ["10.0.0.2"]}, {"addresses": ["10.0.0.3"]}, {"addresses": ["10.0.0.4"]}]}),
        );
        assert_eq!(
            slice[1..4],
            json!([
                "IPv4",
                "9080,grpc,*",
                "10.0.0.1,10.0.0.2,10.0.0.3 + 1 more..."
            ])
            .as_array()
            .unwrap()[..]
        );
    }

    #[test]
    fn rbac_and_lease() {
        let rb = cells(
            "rbac.authorization.k8s.io",
            "ClusterRoleBinding",
            json!({"metadata": {"name": "istiod"},
            "roleRef": {"kind": "ClusterRole", "name": "istiod-clusterrole"},
            "subjects": [{"kind": "ServiceAccount", "name": "istiod", "namespace": "istio-system"}, {"kind": "User", "name": "alice"},
                         {"kind": "Group", "name": "devs"}, {"kind": "User", "name": "bob"}]}),
        );
        assert_eq!(
            rb,
            json!([
                "istiod",
                "ClusterRole/istiod-clusterrole",
                "<unknown>",
                "alice, bob",
                "devs",
                "istio-system/istiod"
            ])
            .as_array()
            .unwrap()
            .clone()
        );
        let lease = cells(
            "coordination.k8s.io",
            "Lease",
            json!({"metadata": {"name": "istio-leader"}, "spec": {"holderIdentity": "istiod-1"}}),
        );
        assert_eq!(lease[1], "istiod-1");
        assert_eq!(
            column_names("rbac.authorization.k8s.io", "RoleBinding").join(" "),
            "Name Role Age Users* Groups* ServiceAccounts*"
        );
    }

    #[test]
    fn default_tables() {
        let t = table(
            "rbac.authorization.k8s.io",
            "ClusterRole",
            json!({"metadata": {"name": "istiod", "creationTimestamp": "2026-01-01T00:00:00.5Z"}}),
        );
        assert_eq!(t["columnDefinitions"][1]["type"], "date");
        assert_eq!(
            t["rows"][0]["cells"],
            json!(["istiod", "2026-01-01T00:00:00Z"])
        );
        assert_eq!(
            cells("", "LimitRange", json!({"metadata": {"name": "l"}})),
            [json!("l"), json!("0001-01-01T00:00:00Z")]
        );
        let crd = table(
            "example.com",
            "Widget",
            json!({"metadata": {"name": "w", "creationTimestamp": ago(42)}}),
        );
        assert_eq!(crd["rows"][0]["cells"], json!(["w", "42s"]));
        assert_eq!(
            crd["columnDefinitions"][1],
            json!({"name": "Age", "type": "date", "format": "", "description": doc::CREATION_TIMESTAMP, "priority": 0})
        );
    }

    #[test_case(json!({"hosts": ["reviews"]}), json!(["vs", null, "[\"reviews\"]", "60m"]); "hosts as json")]
    #[test_case(json!({"hosts": ["*"], "gateways": ["bookinfo-gateway", "mesh"]}), json!(["vs", "[\"bookinfo-gateway\",\"mesh\"]", "[\"*\"]", "60m"]); "gateways too")]
    #[test_case(json!({"hosts": "a<b&c"}), json!(["vs", null, "a<b&c", "60m"]); "plain string unescaped")]
    #[test_case(json!({"hosts": ["a<b"], "gateways": null}), json!(["vs", "<no value>", "[\"a\\u003cb\"]", "60m"]); "html escaped and null")]
    #[test_case(json!({"hosts": [{"z": 1, "a": 1.5e-7}]}), json!(["vs", null, "[{\"a\":1.5e-7,\"z\":1}]", "60m"]); "keys sorted")]
    fn virtual_service(spec: Value, want: Value) {
        let t = table(
            "networking.istio.io",
            "VirtualService",
            json!({"metadata": {"name": "vs", "creationTimestamp": CREATED}, "spec": spec}),
        );
        assert_eq!(t["rows"][0]["cells"], want);
        assert_eq!(
            t["columnDefinitions"][1]["description"],
            "The names of gateways and sidecars that should apply these routes"
        );
    }

    #[test]
    fn istio_kinds() {
        let dr = cells(
            "networking.istio.io",
            "DestinationRule",
            json!({"metadata": {"name": "r", "creationTimestamp": ago(5)}, "spec": {"host": "reviews"}}),
        );
        assert_eq!(dr, [json!("r"), json!("reviews"), json!("5s")]);
        let pa = cells(
            "security.istio.io",
            "PeerAuthentication",
            json!({"metadata": {"name": "default"}, "spec": {}}),
        );
        assert_eq!(pa, [json!("default"), Value::Null, Value::Null]);
        let ap = cells(
            "security.istio.io",
            "AuthorizationPolicy",
            json!({"metadata": {"name": "deny", "creationTimestamp": "garbage"}, "spec": {"action": "DENY"}}),
        );
        assert_eq!(ap, [json!("deny"), json!("DENY"), json!("<invalid>")]);
        let we = cells(
            "networking.istio.io",
            "WorkloadEntry",
            json!({"metadata": {"name": "vm", "creationTimestamp": "0001-01-01T00:00:00Z"}, "spec": {"address": "10.1.2.3"}}),
        );
        assert_eq!(we, [json!("vm"), json!("<unknown>"), json!("10.1.2.3")]);
        let se = cells(
            "networking.istio.io",
            "ServiceEntry",
            json!({"metadata": {"name": "httpbin"}, "spec": {"hosts": ["httpbin.org"], "location": "MESH_EXTERNAL", "resolution": "DNS"}}),
        );
        assert_eq!(
            se[1..4],
            [
                json!("[\"httpbin.org\"]"),
                json!("MESH_EXTERNAL"),
                json!("DNS")
            ]
        );
    }

    #[test]
    fn gateway_api_kinds() {
        let conds = json!([{"type": "Accepted", "status": "True"}, {"type": "Programmed", "status": "False"}]);
        let gc = table(
            "gateway.networking.k8s.io",
            "GatewayClass",
            json!({"metadata": {"name": "istio"},
            "spec": {"controllerName": "istio.io/gateway-controller", "description": "The default Istio GatewayClass"}, "status": {"conditions": conds}}),
        );
        assert_eq!(
            gc["rows"][0]["cells"],
            json!([
                "istio",
                "istio.io/gateway-controller",
                "True",
                null,
                "The default Istio GatewayClass"
            ])
        );
        assert_eq!(
            gc["columnDefinitions"][1]["description"],
            "Custom resource definition column (in JSONPath format): .spec.controllerName"
        );
        let gw = cells(
            "gateway.networking.k8s.io",
            "Gateway",
            json!({"metadata": {"name": "gw"}, "spec": {"gatewayClassName": "istio"},
            "status": {"addresses": [{"value": "172.18.0.9"}, {"value": "172.18.0.10"}], "conditions": conds}}),
        );
        assert_eq!(
            gw[1..4],
            [json!("istio"), json!("172.18.0.9"), json!("False")]
        );
        let pending = cells(
            "gateway.networking.k8s.io",
            "Gateway",
            json!({"metadata": {"name": "gw"}, "status": {"addresses": [], "conditions": [{"type": 1}]}}),
        );
        assert_eq!(pending[1..4], [Value::Null, Value::Null, Value::Null]);
        let route = cells(
            "gateway.networking.k8s.io",
            "HTTPRoute",
            json!({"metadata": {"name": "r"}, "spec": {"hostnames": ["bookinfo.example.com"]}}),
        );
        assert_eq!(route[1], "[\"bookinfo.example.com\"]");
    }

    #[test_case(json!(3), "3"; "int")]
    #[test_case(json!(3.0), "3"; "integral float")]
    #[test_case(json!(0.5), "0.5"; "fraction")]
    #[test_case(json!(1_000_000.0), "1e+06"; "million")]
    #[test_case(json!(123_456.0), "123456"; "below million")]
    #[test_case(json!(0.000_01), "1e-05"; "small")]
    #[test_case(json!(true), "true"; "bool")]
    fn string_column_scalars(v: Value, want: &str) {
        let c = cells(
            "networking.istio.io",
            "DestinationRule",
            json!({"metadata": {"name": "r"}, "spec": {"host": v}}),
        );
        assert_eq!(c[1], want);
    }

    #[test]
    fn never_panics_on_odd_input() {
        let odd = [
            json!(null),
            json!(7),
            json!("x"),
            json!([1]),
            json!({"metadata": 3, "spec": [], "status": "y"}),
            json!({"spec": {"containers": "no", "ports": [3], "selector": {"matchExpressions": [1]}}, "status": {"containerStatuses": [null, 2]}}),
        ];
        let kinds = [
            ("", "Pod"),
            ("", "Service"),
            ("", "Endpoints"),
            ("", "Node"),
            ("", "Event"),
            ("", "Secret"),
            ("apps", "Deployment"),
            ("apps", "DaemonSet"),
            ("batch", "Job"),
            ("autoscaling", "HorizontalPodAutoscaler"),
            ("discovery.k8s.io", "EndpointSlice"),
            ("networking.istio.io", "VirtualService"),
            ("gateway.networking.k8s.io", "Gateway"),
            ("", "Whatever"),
            ("x.io", "Y"),
        ];
        for (g, k) in kinds {
            let refs: Vec<&Value> = odd.iter().collect();
            let t = render(g, k, &refs, NOW, "1");
            let width = list(&t["columnDefinitions"]).len();
            assert!(
                list(&t["rows"])
                    .iter()
                    .all(|r| list(&r["cells"]).len() == width),
                "{g}/{k}"
            );
        }
    }
}
