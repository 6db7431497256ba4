//! Decoding the Kubernetes protobuf bodies that `kubectl create <generator>`
//! sends, into the JSON object the same request would carry as JSON.
//!
//! Since client-go v0.32 the typed clients prefer protobuf for built-in kinds
//! (`rest.Request.UseProtobufAsDefault`), so `kubectl create namespace`,
//! `configmap`, `secret generic`, `serviceaccount` and `deployment` POST
//! `Content-Type: application/vnd.kubernetes.protobuf`. The apiserver's
//! protobuf serializer reads such a body as the four bytes `k8s\0` and then a
//! `runtime.Unknown` envelope: its `typeMeta` names the kind, its `raw` holds
//! the typed object's own protobuf (which carries no `TypeMeta`), and
//! `contentEncoding`/`contentType` are empty for a plain object.
//!
//! Sources, in kubernetes (staging repositories `k8s.io/api` and
//! `k8s.io/apimachinery`, tag v0.32.9):
//! - `apimachinery/pkg/runtime/serializer/protobuf/protobuf.go` (the magic
//!   and the envelope), `apimachinery/pkg/runtime/types_proto.go` and
//!   `generated.proto` (`Unknown`, `TypeMeta`);
//! - `apimachinery/pkg/apis/meta/v1/generated.proto` (`ObjectMeta`,
//!   `OwnerReference`, `LabelSelector`, `Time` as `Timestamp`), with
//!   `time_proto.go` (an empty `Time` message is the zero time);
//! - `apimachinery/pkg/util/intstr/generated.proto`,
//!   `apimachinery/pkg/api/resource/generated.proto` (`Quantity`);
//! - `api/core/v1/generated.proto` (`Namespace`, `ConfigMap`, `Secret`,
//!   `ServiceAccount`, `PodTemplateSpec`, `PodSpec`, `Container`, ...) and
//!   `api/apps/v1/generated.proto` (`Deployment`).
//!
//! gogo-protobuf writes every non-pointer field, empty or not (an
//! `ObjectMeta` with only a name still carries `generateName` as `12 00`), so
//! the JSON is built the way Go's `encoding/json` would print the decoded
//! struct: `omitempty` scalars, maps and lists are left out when empty,
//! pointer fields appear whenever they were sent, embedded structs always
//! appear (`"spec":{}`), and `bytes` are base64. The only deliberate
//! difference is the zero `creationTimestamp`, left out rather than `null`.
//! Keys follow the Go structs' field order.
//!
//! Only the fields the generators fill, and their close neighbours, are
//! decoded; every other field is skipped by its wire type. A malformed
//! buffer is an error, never a panic.

use std::collections::BTreeMap;

use base64::Engine as _;
use serde_json::{Map, Value};

/// The prefix of every Kubernetes protobuf body (`protobuf.go`'s
/// `protoEncodingPrefix`).
const MAGIC: &[u8] = b"k8s\0";

/// Why a protobuf body could not be turned into JSON; the messages go back to
/// the client in a `Status`, so they name the message and field at fault.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ProtoError {
    /// The body does not start with `k8s\0`.
    #[error("protobuf body has no k8s magic")]
    NoMagic,
    /// A tag could not be read (cut short, or longer than ten bytes).
    #[error("malformed tag in {message}")]
    BadTag {
        /// The message being read.
        message: &'static str,
    },
    /// A field number of 0 or beyond 2^29-1.
    #[error("invalid field number {field} in {message}")]
    BadFieldNumber {
        /// The message being read.
        message: &'static str,
        /// The field number found.
        field: u64,
    },
    /// A value or a length ran past the end of its buffer.
    #[error("truncated field {field} of {message}")]
    Truncated {
        /// The message being read.
        message: &'static str,
        /// The field whose value is cut short.
        field: u32,
    },
    /// Wire types 3 and 4 (groups) and 6 and 7 (undefined) are not skippable.
    #[error("unsupported wire type {wire} in field {field} of {message}")]
    UnsupportedWireType {
        /// The message being read.
        message: &'static str,
        /// The field carrying it.
        field: u32,
        /// The wire type found.
        wire: u8,
    },
    /// A known field arrived with a wire type its declared type cannot have.
    #[error("field {field} of {message} has wire type {wire}, expected {expected}")]
    WrongWireType {
        /// The message being read.
        message: &'static str,
        /// The field at fault.
        field: u32,
        /// The wire type found.
        wire: u8,
        /// What the field's type needs.
        expected: &'static str,
    },
    /// A `string` field that is not UTF-8, which JSON cannot carry.
    #[error("field {field} of {message} is not valid UTF-8")]
    NotUtf8 {
        /// The message being read.
        message: &'static str,
        /// The field at fault.
        field: u32,
    },
    /// The envelope names no kind, so there is nothing to decode into.
    #[error("protobuf body names no kind")]
    NoKind,
    /// The envelope has no `raw` object.
    #[error("protobuf body carries no object for kind {0}")]
    NoObject(String),
    /// `contentEncoding` is set (the serializer never does this for a plain
    /// object).
    #[error("protobuf content encoding {0:?} is not supported")]
    ContentEncoding(String),
    /// A kind outside what the generators send; the client can send JSON.
    #[error(
        "kind {kind} ({api_version}) is not decodable from protobuf; send JSON (kubectl create ... --dry-run=client -o yaml | kubectl apply -f -)"
    )]
    UnsupportedKind {
        /// The envelope's `apiVersion`.
        api_version: String,
        /// The envelope's `kind`.
        kind: String,
    },
}

/// Decodes a kubectl protobuf body into the JSON object the same request
/// would carry as JSON, so the rest of the apiserver only ever sees JSON:
/// `{"apiVersion", "kind", "metadata", ...}` with only the fields present
/// (empty ones omitted as Go's `omitempty` would) and `bytes` fields
/// (`Secret.data`, `ConfigMap.binaryData`) base64-encoded as in JSON.
pub fn decode(body: &[u8]) -> Result<Value, ProtoError> {
    let envelope = body.strip_prefix(MAGIC).ok_or(ProtoError::NoMagic)?;
    let unknown = Msg::parse("Unknown", envelope)?;
    let type_meta = unknown.message(1, "TypeMeta")?;
    let field = |n| type_meta.as_ref().map_or(Ok(None), |m| m.str(n));
    let (api_version, kind) = (field(1)?.unwrap_or(""), field(2)?.unwrap_or(""));
    if kind.is_empty() {
        return Err(ProtoError::NoKind);
    }
    let encoding = unknown.str(3)?.unwrap_or("");
    if !encoding.is_empty() {
        return Err(ProtoError::ContentEncoding(encoding.to_string()));
    }
    let spec = KINDS
        .iter()
        .find(|(v, k, _)| *v == api_version && *k == kind)
        .map(|(_, _, spec)| *spec)
        .ok_or_else(|| ProtoError::UnsupportedKind {
            api_version: api_version.to_string(),
            kind: kind.to_string(),
        })?;
    let raw = unknown
        .bytes(2)?
        .ok_or_else(|| ProtoError::NoObject(kind.to_string()))?;
    let mut out = Map::new();
    out.insert("apiVersion".into(), api_version.into());
    out.insert("kind".into(), kind.into());
    out.extend(object(&Msg::parse(spec.name, raw)?, spec)?);
    Ok(Value::Object(out))
}

/// One field as read off the wire: what is needed to decode it, or to say
/// that it came with the wrong wire type.
#[derive(Clone, Copy)]
enum Wire<'a> {
    Varint(u64),
    Bytes(&'a [u8]),
    Fixed(u8),
}

/// A parsed message: its fields in wire order, values borrowed from the body.
struct Msg<'a> {
    name: &'static str,
    fields: Vec<(u32, Wire<'a>)>,
}

/// Reads a base-128 varint; `None` when cut short or longer than ten bytes.
fn varint(buf: &mut &[u8]) -> Option<u64> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&byte, rest) = buf.split_first()?;
        *buf = rest;
        value |= u64::from(byte & 0x7f) << (7 * i);
        if byte < 0x80 {
            return Some(value);
        }
    }
    None
}

/// Splits `n` bytes off the front of `buf`.
fn take<'a>(buf: &mut &'a [u8], n: u64) -> Option<&'a [u8]> {
    let n = usize::try_from(n).ok()?;
    let (head, rest) = (buf.get(..n)?, buf.get(n..)?);
    *buf = rest;
    Some(head)
}

impl<'a> Msg<'a> {
    /// Splits a message into its fields, skipping values by wire type.
    fn parse(name: &'static str, mut buf: &'a [u8]) -> Result<Self, ProtoError> {
        let mut fields = Vec::new();
        while !buf.is_empty() {
            let tag = varint(&mut buf).ok_or(ProtoError::BadTag { message: name })?;
            let field = u32::try_from(tag >> 3)
                .ok()
                .filter(|f| (1..1 << 29).contains(f))
                .ok_or(ProtoError::BadFieldNumber {
                    message: name,
                    field: tag >> 3,
                })?;
            let truncated = || ProtoError::Truncated {
                message: name,
                field,
            };
            let wire = match tag & 7 {
                0 => Wire::Varint(varint(&mut buf).ok_or_else(truncated)?),
                1 => take(&mut buf, 8)
                    .map(|_| Wire::Fixed(1))
                    .ok_or_else(truncated)?,
                2 => {
                    let len = varint(&mut buf).ok_or_else(truncated)?;
                    Wire::Bytes(take(&mut buf, len).ok_or_else(truncated)?)
                }
                5 => take(&mut buf, 4)
                    .map(|_| Wire::Fixed(5))
                    .ok_or_else(truncated)?,
                wire => {
                    return Err(ProtoError::UnsupportedWireType {
                        message: name,
                        field,
                        wire: wire as u8,
                    });
                }
            };
            fields.push((field, wire));
        }
        Ok(Msg { name, fields })
    }

    fn wrong(&self, field: u32, wire: &Wire, expected: &'static str) -> ProtoError {
        let wire = match wire {
            Wire::Varint(_) => 0,
            Wire::Bytes(_) => 2,
            Wire::Fixed(w) => *w,
        };
        ProtoError::WrongWireType {
            message: self.name,
            field,
            wire,
            expected,
        }
    }

    /// Every occurrence of a length-delimited field, in wire order.
    fn all_bytes(&self, n: u32) -> Result<Vec<&'a [u8]>, ProtoError> {
        let found = self.fields.iter().filter(|(f, _)| *f == n);
        found
            .map(|(_, w)| match w {
                Wire::Bytes(b) => Ok(*b),
                other => Err(self.wrong(n, other, "length-delimited")),
            })
            .collect()
    }

    /// A singular length-delimited field: the last occurrence wins.
    fn bytes(&self, n: u32) -> Result<Option<&'a [u8]>, ProtoError> {
        Ok(self.all_bytes(n)?.pop())
    }

    fn utf8(&self, n: u32, b: &'a [u8]) -> Result<&'a str, ProtoError> {
        std::str::from_utf8(b).map_err(|_| ProtoError::NotUtf8 {
            message: self.name,
            field: n,
        })
    }

    fn str(&self, n: u32) -> Result<Option<&'a str>, ProtoError> {
        self.bytes(n)?.map(|b| self.utf8(n, b)).transpose()
    }

    fn strs(&self, n: u32) -> Result<Vec<&'a str>, ProtoError> {
        self.all_bytes(n)?
            .into_iter()
            .map(|b| self.utf8(n, b))
            .collect()
    }

    /// A varint field (int32, int64, bool): the last occurrence wins.
    fn varint(&self, n: u32) -> Result<Option<u64>, ProtoError> {
        let mut found = self.fields.iter().filter(|(f, _)| *f == n);
        found.try_fold(None, |_, (_, w)| match w {
            Wire::Varint(v) => Ok(Some(*v)),
            other => Err(self.wrong(n, other, "varint")),
        })
    }

    /// An int32 or int64 field; negative int32s arrive sign-extended to 64
    /// bits, so both read as the two's complement of the varint.
    fn int(&self, n: u32) -> Result<Option<i64>, ProtoError> {
        Ok(self.varint(n)?.map(|v| v as i64))
    }

    /// A singular embedded message. Repeated occurrences merge, which for
    /// protobuf is the same as concatenating their fields.
    fn message(&self, n: u32, name: &'static str) -> Result<Option<Msg<'a>>, ProtoError> {
        let parts = self.all_bytes(n)?;
        if parts.is_empty() {
            return Ok(None);
        }
        let mut merged = Msg {
            name,
            fields: Vec::new(),
        };
        for part in parts {
            merged.fields.extend(Msg::parse(name, part)?.fields);
        }
        Ok(Some(merged))
    }

    /// Each occurrence of a repeated embedded message.
    fn messages(&self, n: u32, name: &'static str) -> Result<Vec<Msg<'a>>, ProtoError> {
        let parts = self.all_bytes(n)?;
        parts.into_iter().map(|b| Msg::parse(name, b)).collect()
    }

    /// A `map<string, V>` field: entries `{1: key, 2: value}`, later entries
    /// overriding earlier ones, keys sorted as Go's JSON prints maps.
    fn map(
        &self,
        n: u32,
        name: &'static str,
        value: impl Fn(&Msg<'a>) -> Result<Value, ProtoError>,
    ) -> Result<Map<String, Value>, ProtoError> {
        let mut map = BTreeMap::new();
        for entry in self.messages(n, name)? {
            map.insert(entry.str(1)?.unwrap_or("").to_string(), value(&entry)?);
        }
        Ok(map.into_iter().collect())
    }
}

/// How one field is decoded and when it appears in the JSON, after the Go
/// type and `json` tag of the field.
#[derive(Clone, Copy)]
enum Kind {
    /// `string` with `omitempty`.
    Str,
    /// `string` without `omitempty`: always printed.
    StrReq,
    /// `*string`: printed when sent.
    StrPtr,
    /// `int32`/`int64` with `omitempty`.
    Int,
    /// `int32` without `omitempty`.
    IntReq,
    /// `*int32`/`*int64`.
    IntPtr,
    /// `bool` with `omitempty`.
    Bool,
    /// `*bool`.
    BoolPtr,
    /// `[]string`.
    Strs,
    /// `map[string]string`.
    StrMap,
    /// `map[string][]byte`, base64 in JSON.
    BytesMap,
    /// `map[string]resource.Quantity` (`Quantity {1: string}`).
    QuantityMap,
    /// `metav1.Time` (`Timestamp {1: seconds, 2: nanos}`), RFC 3339.
    Time,
    /// `*intstr.IntOrString` (`{1: type, 2: intVal, 3: strVal}`).
    IntOrString,
    /// An embedded struct or pointer to one: printed when sent.
    Obj(&'static Spec),
    /// A list of structs, left out when empty.
    Objs(&'static Spec),
}

/// A message: its name for errors and its fields as (number, JSON key,
/// kind), in the Go struct's order.
struct Spec {
    name: &'static str,
    fields: &'static [(u32, &'static str, Kind)],
}

/// The decodable kinds: what `kubectl create` generators send.
static KINDS: &[(&str, &str, &Spec)] = &[
    ("v1", "Namespace", &NAMESPACE),
    ("v1", "ConfigMap", &CONFIG_MAP),
    ("v1", "Secret", &SECRET),
    ("v1", "ServiceAccount", &SERVICE_ACCOUNT),
    ("apps/v1", "Deployment", &DEPLOYMENT),
];

use Kind::*;

static OBJECT_META: Spec = Spec {
    name: "ObjectMeta",
    fields: &[
        (1, "name", Str),
        (2, "generateName", Str),
        (3, "namespace", Str),
        (4, "selfLink", Str),
        (5, "uid", Str),
        (6, "resourceVersion", Str),
        (7, "generation", Int),
        (8, "creationTimestamp", Time),
        (9, "deletionTimestamp", Time),
        (10, "deletionGracePeriodSeconds", IntPtr),
        (11, "labels", StrMap),
        (12, "annotations", StrMap),
        (13, "ownerReferences", Objs(&OWNER_REFERENCE)),
        (14, "finalizers", Strs),
    ],
};

static OWNER_REFERENCE: Spec = Spec {
    name: "OwnerReference",
    fields: &[
        (5, "apiVersion", StrReq),
        (1, "kind", StrReq),
        (3, "name", StrReq),
        (4, "uid", StrReq),
        (6, "controller", BoolPtr),
        (7, "blockOwnerDeletion", BoolPtr),
    ],
};

static NAMESPACE: Spec = Spec {
    name: "Namespace",
    fields: &[
        (1, "metadata", Obj(&OBJECT_META)),
        (2, "spec", Obj(&NAMESPACE_SPEC)),
        (3, "status", Obj(&NAMESPACE_STATUS)),
    ],
};

static NAMESPACE_SPEC: Spec = Spec {
    name: "NamespaceSpec",
    fields: &[(1, "finalizers", Strs)],
};

static NAMESPACE_STATUS: Spec = Spec {
    name: "NamespaceStatus",
    fields: &[(1, "phase", Str)],
};

static CONFIG_MAP: Spec = Spec {
    name: "ConfigMap",
    fields: &[
        (1, "metadata", Obj(&OBJECT_META)),
        (4, "immutable", BoolPtr),
        (2, "data", StrMap),
        (3, "binaryData", BytesMap),
    ],
};

static SECRET: Spec = Spec {
    name: "Secret",
    fields: &[
        (1, "metadata", Obj(&OBJECT_META)),
        (5, "immutable", BoolPtr),
        (2, "data", BytesMap),
        (4, "stringData", StrMap),
        (3, "type", Str),
    ],
};

static SERVICE_ACCOUNT: Spec = Spec {
    name: "ServiceAccount",
    fields: &[
        (1, "metadata", Obj(&OBJECT_META)),
        (2, "secrets", Objs(&OBJECT_REFERENCE)),
        (3, "imagePullSecrets", Objs(&LOCAL_OBJECT_REFERENCE)),
        (4, "automountServiceAccountToken", BoolPtr),
    ],
};

static OBJECT_REFERENCE: Spec = Spec {
    name: "ObjectReference",
    fields: &[
        (1, "kind", Str),
        (2, "namespace", Str),
        (3, "name", Str),
        (4, "uid", Str),
        (5, "apiVersion", Str),
        (6, "resourceVersion", Str),
        (7, "fieldPath", Str),
    ],
};

static LOCAL_OBJECT_REFERENCE: Spec = Spec {
    name: "LocalObjectReference",
    fields: &[(1, "name", Str)],
};

static DEPLOYMENT: Spec = Spec {
    name: "Deployment",
    fields: &[
        (1, "metadata", Obj(&OBJECT_META)),
        (2, "spec", Obj(&DEPLOYMENT_SPEC)),
        (3, "status", Obj(&DEPLOYMENT_STATUS)),
    ],
};

static DEPLOYMENT_SPEC: Spec = Spec {
    name: "DeploymentSpec",
    fields: &[
        (1, "replicas", IntPtr),
        (2, "selector", Obj(&LABEL_SELECTOR)),
        (3, "template", Obj(&POD_TEMPLATE_SPEC)),
        (4, "strategy", Obj(&DEPLOYMENT_STRATEGY)),
        (5, "minReadySeconds", Int),
        (6, "revisionHistoryLimit", IntPtr),
        (7, "paused", Bool),
        (9, "progressDeadlineSeconds", IntPtr),
    ],
};

static DEPLOYMENT_STRATEGY: Spec = Spec {
    name: "DeploymentStrategy",
    fields: &[
        (1, "type", Str),
        (2, "rollingUpdate", Obj(&ROLLING_UPDATE_DEPLOYMENT)),
    ],
};

static ROLLING_UPDATE_DEPLOYMENT: Spec = Spec {
    name: "RollingUpdateDeployment",
    fields: &[
        (1, "maxUnavailable", IntOrString),
        (2, "maxSurge", IntOrString),
    ],
};

static DEPLOYMENT_STATUS: Spec = Spec {
    name: "DeploymentStatus",
    fields: &[
        (1, "observedGeneration", Int),
        (2, "replicas", Int),
        (3, "updatedReplicas", Int),
        (7, "readyReplicas", Int),
        (4, "availableReplicas", Int),
        (5, "unavailableReplicas", Int),
        (8, "collisionCount", IntPtr),
    ],
};

static LABEL_SELECTOR: Spec = Spec {
    name: "LabelSelector",
    fields: &[
        (1, "matchLabels", StrMap),
        (2, "matchExpressions", Objs(&LABEL_SELECTOR_REQUIREMENT)),
    ],
};

static LABEL_SELECTOR_REQUIREMENT: Spec = Spec {
    name: "LabelSelectorRequirement",
    fields: &[
        (1, "key", StrReq),
        (2, "operator", StrReq),
        (3, "values", Strs),
    ],
};

static POD_TEMPLATE_SPEC: Spec = Spec {
    name: "PodTemplateSpec",
    fields: &[
        (1, "metadata", Obj(&OBJECT_META)),
        (2, "spec", Obj(&POD_SPEC)),
    ],
};

static POD_SPEC: Spec = Spec {
    name: "PodSpec",
    fields: &[
        (20, "initContainers", Objs(&CONTAINER)),
        (2, "containers", Objs(&CONTAINER)),
        (3, "restartPolicy", Str),
        (4, "terminationGracePeriodSeconds", IntPtr),
        (5, "activeDeadlineSeconds", IntPtr),
        (6, "dnsPolicy", Str),
        (7, "nodeSelector", StrMap),
        (8, "serviceAccountName", Str),
        (9, "serviceAccount", Str),
        (21, "automountServiceAccountToken", BoolPtr),
        (10, "nodeName", Str),
        (11, "hostNetwork", Bool),
        (12, "hostPID", Bool),
        (13, "hostIPC", Bool),
        (15, "imagePullSecrets", Objs(&LOCAL_OBJECT_REFERENCE)),
        (16, "hostname", Str),
        (17, "subdomain", Str),
        (19, "schedulerName", Str),
        (24, "priorityClassName", Str),
        (25, "priority", IntPtr),
        (30, "enableServiceLinks", BoolPtr),
    ],
};

static CONTAINER: Spec = Spec {
    name: "Container",
    fields: &[
        (1, "name", StrReq),
        (2, "image", Str),
        (3, "command", Strs),
        (4, "args", Strs),
        (5, "workingDir", Str),
        (6, "ports", Objs(&CONTAINER_PORT)),
        (7, "env", Objs(&ENV_VAR)),
        (8, "resources", Obj(&RESOURCE_REQUIREMENTS)),
        (24, "restartPolicy", StrPtr),
        (13, "terminationMessagePath", Str),
        (20, "terminationMessagePolicy", Str),
        (14, "imagePullPolicy", Str),
        (16, "stdin", Bool),
        (17, "stdinOnce", Bool),
        (18, "tty", Bool),
    ],
};

static CONTAINER_PORT: Spec = Spec {
    name: "ContainerPort",
    fields: &[
        (1, "name", Str),
        (2, "hostPort", Int),
        (3, "containerPort", IntReq),
        (4, "protocol", Str),
        (5, "hostIP", Str),
    ],
};

static ENV_VAR: Spec = Spec {
    name: "EnvVar",
    fields: &[(1, "name", StrReq), (2, "value", Str)],
};

static RESOURCE_REQUIREMENTS: Spec = Spec {
    name: "ResourceRequirements",
    fields: &[(1, "limits", QuantityMap), (2, "requests", QuantityMap)],
};

/// Builds the JSON object of a message after its spec.
fn object(msg: &Msg, spec: &Spec) -> Result<Map<String, Value>, ProtoError> {
    let mut out = Map::new();
    for &(n, key, kind) in spec.fields {
        if let Some(value) = field(msg, n, key, kind)? {
            out.insert(key.to_string(), value);
        }
    }
    Ok(out)
}

/// One field's JSON value, or `None` when Go's JSON would leave it out.
fn field(msg: &Msg, n: u32, key: &'static str, kind: Kind) -> Result<Option<Value>, ProtoError> {
    let non_empty = |map: Map<String, Value>| (!map.is_empty()).then(|| Value::Object(map));
    let b64 = |b: &[u8]| Value::from(base64::engine::general_purpose::STANDARD.encode(b));
    Ok(match kind {
        Str => msg.str(n)?.filter(|s| !s.is_empty()).map(Value::from),
        StrReq => Some(msg.str(n)?.unwrap_or("").into()),
        StrPtr => msg.str(n)?.map(Value::from),
        Int => msg.int(n)?.filter(|&i| i != 0).map(Value::from),
        IntReq => Some(msg.int(n)?.unwrap_or(0).into()),
        IntPtr => msg.int(n)?.map(Value::from),
        Bool => msg.varint(n)?.filter(|&v| v != 0).map(|_| true.into()),
        BoolPtr => msg.varint(n)?.map(|v| (v != 0).into()),
        Strs => Some(msg.strs(n)?)
            .filter(|v| !v.is_empty())
            .map(Value::from),
        StrMap => non_empty(msg.map(n, key, |e| Ok(e.str(2)?.unwrap_or("").into()))?),
        BytesMap => non_empty(msg.map(n, key, |e| Ok(b64(e.bytes(2)?.unwrap_or_default())))?),
        QuantityMap => non_empty(msg.map(n, key, |e| {
            let quantity = e.message(2, "Quantity")?;
            Ok(quantity
                .map_or(Ok(None), |q| q.str(1))?
                .unwrap_or("")
                .into())
        })?),
        Time => match msg.message(n, "Time")? {
            Some(t) if !t.fields.is_empty() => Some(rfc3339(t.int(1)?.unwrap_or(0)).into()),
            _ => None,
        },
        IntOrString => match msg.message(n, "IntOrString")? {
            Some(v) if v.int(1)? == Some(1) => Some(v.str(3)?.unwrap_or("").into()),
            Some(v) => Some((v.int(2)?.unwrap_or(0) as i32).into()),
            None => None,
        },
        Obj(spec) => match msg.message(n, spec.name)? {
            Some(m) => Some(Value::Object(object(&m, spec)?)),
            None => None,
        },
        Objs(spec) => {
            let items = msg.messages(n, spec.name)?;
            let items: Result<Vec<_>, _> = items.iter().map(|m| object(m, spec)).collect();
            Some(items?).filter(|v| !v.is_empty()).map(Value::from)
        }
    })
}

/// Seconds since the Unix epoch as `metav1.Time` prints them
/// (`2006-01-02T15:04:05Z`, UTC, whole seconds).
fn rfc3339(seconds: i64) -> String {
    let (days, secs) = (seconds.div_euclid(86_400), seconds.rem_euclid(86_400));
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
    format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}Z")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// A minimal protobuf writer, enough to build what gogo-protobuf writes.
    #[derive(Default, Clone)]
    struct Enc(Vec<u8>);

    impl Enc {
        fn varint(mut self, mut v: u64) -> Self {
            while v >= 0x80 {
                self.0.push((v as u8) | 0x80);
                v >>= 7;
            }
            self.0.push(v as u8);
            self
        }
        fn tag(self, field: u32, wire: u8) -> Self {
            self.varint(u64::from(field) << 3 | u64::from(wire))
        }
        fn int(self, field: u32, v: i64) -> Self {
            self.tag(field, 0).varint(v as u64)
        }
        fn bytes(self, field: u32, b: &[u8]) -> Self {
            let mut e = self.tag(field, 2).varint(b.len() as u64);
            e.0.extend_from_slice(b);
            e
        }
        fn str(self, field: u32, s: &str) -> Self {
            self.bytes(field, s.as_bytes())
        }
        fn msg(self, field: u32, m: Enc) -> Self {
            self.bytes(field, &m.0)
        }
        fn entry(self, field: u32, k: &str, v: &[u8]) -> Self {
            self.msg(field, Enc::default().str(1, k).bytes(2, v))
        }
    }

    /// An `ObjectMeta` as gogo writes it: every non-pointer field, then the
    /// labels.
    fn meta(name: &str, namespace: &str, labels: &[(&str, &str)]) -> Enc {
        let mut m = Enc::default().str(1, name).str(2, "").str(3, namespace);
        m = m.str(4, "").str(5, "").str(6, "").int(7, 0).bytes(8, b"");
        for (k, v) in labels {
            m = m.entry(11, k, v.as_bytes());
        }
        m
    }

    /// The body: magic, then `Unknown{typeMeta, raw, "", ""}`.
    fn body(api_version: &str, kind: &str, raw: Enc) -> Vec<u8> {
        let type_meta = Enc::default().str(1, api_version).str(2, kind);
        let unknown = Enc::default().msg(1, type_meta).msg(2, raw);
        [MAGIC, &unknown.str(3, "").str(4, "").0].concat()
    }

    #[test]
    fn real_kubectl_create_namespace_body() {
        // `kubectl create namespace bookinfo` (v1.32): ObjectMeta writes its
        // six strings, generation 0 and an empty creationTimestamp; the
        // NamespaceSpec is empty and the NamespaceStatus writes its empty
        // phase (`1a 02 0a 00`).
        let mut bytes = b"k8s\0".to_vec();
        bytes.extend([0x0a, 0x0f, 0x0a, 0x02]);
        bytes.extend(b"v1");
        bytes.extend([0x12, 0x09]);
        bytes.extend(b"Namespace");
        bytes.extend([0x12, 0x20, 0x0a, 0x18, 0x0a, 0x08]);
        bytes.extend(b"bookinfo");
        bytes.extend([0x12, 0x00, 0x1a, 0x00, 0x22, 0x00, 0x2a, 0x00, 0x32, 0x00]);
        bytes.extend([0x38, 0x00, 0x42, 0x00]);
        bytes.extend([0x12, 0x00, 0x1a, 0x02, 0x0a, 0x00]);
        bytes.extend([0x1a, 0x00, 0x22, 0x00]);
        assert_eq!(
            decode(&bytes),
            Ok(json!({"apiVersion": "v1", "kind": "Namespace",
                "metadata": {"name": "bookinfo"}, "spec": {}, "status": {}}))
        );
        let built = body(
            "v1",
            "Namespace",
            Enc::default()
                .msg(1, meta("bookinfo", "", &[]))
                .msg(2, Enc::default())
                .msg(3, Enc::default().str(1, "")),
        );
        assert_eq!(built, bytes);
    }

    #[test]
    fn namespace_with_labels_keeps_key_order_sorted() {
        let raw = Enc::default().msg(
            1,
            meta(
                "bookinfo",
                "",
                &[("team", "mesh"), ("istio-injection", "enabled")],
            ),
        );
        let got = decode(&body("v1", "Namespace", raw)).unwrap();
        assert_eq!(
            got,
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bookinfo",
                "labels": {"istio-injection": "enabled", "team": "mesh"}}})
        );
        let labels = got["metadata"]["labels"].as_object().unwrap();
        assert_eq!(
            labels.keys().collect::<Vec<_>>(),
            ["istio-injection", "team"]
        );
    }

    #[test]
    fn configmap_with_data_and_binary_data() {
        let raw = Enc::default()
            .msg(1, meta("ratings", "bookinfo", &[]))
            .entry(2, "port", b"9080")
            .entry(2, "mode", b"")
            .entry(3, "blob", &[0xff, 0x00]);
        assert_eq!(
            decode(&body("v1", "ConfigMap", raw)),
            Ok(json!({"apiVersion": "v1", "kind": "ConfigMap",
                "metadata": {"name": "ratings", "namespace": "bookinfo"},
                "data": {"mode": "", "port": "9080"}, "binaryData": {"blob": "/wA="}}))
        );
    }

    #[test]
    fn secret_generic_is_opaque_with_base64_data() {
        let raw = Enc::default()
            .msg(1, meta("db", "", &[]))
            .entry(2, "password", b"s3cr3t")
            .str(3, "Opaque");
        assert_eq!(
            decode(&body("v1", "Secret", raw)),
            Ok(
                json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "db"},
                "data": {"password": "czNjcjN0"}, "type": "Opaque"})
            )
        );
    }

    #[test]
    fn serviceaccount_with_pointer_bool_and_references() {
        let raw = Enc::default()
            .msg(1, meta("bookinfo-reviews", "bookinfo", &[]))
            .msg(2, Enc::default().str(1, "Secret").str(3, "token"))
            .msg(3, Enc::default().str(1, "regcred"))
            .int(4, 0);
        assert_eq!(
            decode(&body("v1", "ServiceAccount", raw)),
            Ok(json!({"apiVersion": "v1", "kind": "ServiceAccount",
                "metadata": {"name": "bookinfo-reviews", "namespace": "bookinfo"},
                "secrets": [{"kind": "Secret", "name": "token"}],
                "imagePullSecrets": [{"name": "regcred"}],
                "automountServiceAccountToken": false}))
        );
    }

    /// `kubectl create deployment reviews --image=docker.io/istio/reviews:1.20
    /// --replicas=3 --port=9080`, laid out as gogo writes it.
    fn deployment(replicas: Option<i64>) -> Vec<u8> {
        let labels = [("app", "reviews")];
        let port = Enc::default()
            .str(1, "")
            .int(2, 0)
            .int(3, 9080)
            .str(4, "")
            .str(5, "");
        let container = Enc::default()
            .str(1, "reviews")
            .str(2, "docker.io/istio/reviews:1.20")
            .str(5, "")
            .msg(6, port)
            .msg(8, Enc::default())
            .str(13, "")
            .str(14, "")
            .int(16, 0)
            .int(17, 0)
            .int(18, 0)
            .str(20, "");
        let pod_spec = Enc::default()
            .msg(2, container)
            .str(3, "")
            .str(6, "")
            .str(8, "")
            .int(11, 0)
            .str(19, "");
        let template = Enc::default()
            .msg(1, meta("", "", &labels))
            .msg(2, pod_spec);
        let selector = Enc::default().entry(1, "app", b"reviews");
        let mut spec = Enc::default();
        if let Some(n) = replicas {
            spec = spec.int(1, n);
        }
        spec = spec
            .msg(2, selector)
            .msg(3, template)
            .msg(4, Enc::default().str(1, ""));
        spec = spec.int(5, 0).int(7, 0);
        let status = Enc::default()
            .int(1, 0)
            .int(2, 0)
            .int(3, 0)
            .int(4, 0)
            .int(5, 0);
        let raw = Enc::default()
            .msg(1, meta("reviews", "", &labels))
            .msg(2, spec)
            .msg(3, status.int(7, 0));
        body("apps/v1", "Deployment", raw)
    }

    #[test]
    fn deployment_with_image_replicas_and_port() {
        assert_eq!(
            decode(&deployment(Some(3))),
            Ok(json!({"apiVersion": "apps/v1", "kind": "Deployment",
                "metadata": {"name": "reviews", "labels": {"app": "reviews"}},
                "spec": {
                    "replicas": 3,
                    "selector": {"matchLabels": {"app": "reviews"}},
                    "template": {
                        "metadata": {"labels": {"app": "reviews"}},
                        "spec": {"containers": [{
                            "name": "reviews",
                            "image": "docker.io/istio/reviews:1.20",
                            "ports": [{"containerPort": 9080}],
                            "resources": {}
                        }]}
                    },
                    "strategy": {}
                },
                "status": {}}))
        );
    }

    #[test]
    fn deployment_replicas_zero_is_kept_because_it_is_a_pointer() {
        assert_eq!(
            decode(&deployment(Some(0))).unwrap()["spec"]["replicas"],
            json!(0)
        );
        assert!(
            decode(&deployment(None)).unwrap()["spec"]
                .get("replicas")
                .is_none()
        );
    }

    #[test]
    fn strategy_selector_expressions_resources_and_times() {
        let rolling = Enc::default()
            .msg(1, Enc::default().int(1, 1).str(3, "25%"))
            .msg(2, Enc::default().int(1, 0).int(2, 1));
        let requirement = Enc::default()
            .str(1, "tier")
            .str(2, "In")
            .str(3, "web")
            .str(3, "api");
        let resources = Enc::default().msg(
            1,
            Enc::default()
                .str(1, "cpu")
                .msg(2, Enc::default().str(1, "500m")),
        );
        let container = Enc::default().str(1, "c").msg(8, resources).int(16, 1);
        let template = Enc::default().msg(2, Enc::default().msg(2, container));
        let spec = Enc::default()
            .msg(2, Enc::default().msg(2, requirement))
            .msg(3, template)
            .msg(4, Enc::default().str(1, "RollingUpdate").msg(2, rolling));
        let meta = Enc::default()
            .str(1, "d")
            .msg(8, Enc::default().int(1, 1_700_000_000));
        let got = decode(&body(
            "apps/v1",
            "Deployment",
            Enc::default().msg(1, meta).msg(2, spec),
        ))
        .unwrap();
        assert_eq!(
            got["metadata"]["creationTimestamp"],
            json!("2023-11-14T22:13:20Z")
        );
        assert_eq!(
            got["spec"]["selector"],
            json!({"matchExpressions": [{"key": "tier", "operator": "In", "values": ["web", "api"]}]})
        );
        assert_eq!(
            got["spec"]["strategy"],
            json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": 1}})
        );
        assert_eq!(
            got["spec"]["template"]["spec"]["containers"],
            json!([{"name": "c", "resources": {"limits": {"cpu": "500m"}}, "stdin": true}])
        );
    }

    #[test]
    fn unknown_fields_of_every_wire_type_are_skipped() {
        let mut m = meta("bookinfo", "", &[]).int(999, 7).str(17, "managed");
        m = m.tag(300, 1);
        m.0.extend([1, 2, 3, 4, 5, 6, 7, 8]);
        m = m.tag(301, 5);
        m.0.extend([1, 2, 3, 4]);
        let raw = Enc::default().msg(1, m).int(42, -1);
        assert_eq!(
            decode(&body("v1", "Namespace", raw)),
            Ok(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "bookinfo"}}))
        );
    }

    #[test]
    fn repeated_singular_fields_follow_protobuf_rules() {
        // The last scalar wins; an embedded message sent twice merges.
        let raw = Enc::default()
            .msg(1, Enc::default().str(1, "first").str(3, "ns"))
            .msg(1, Enc::default().str(1, "second"));
        assert_eq!(
            decode(&body("v1", "Namespace", raw)).unwrap()["metadata"],
            json!({"name": "second", "namespace": "ns"})
        );
    }

    #[test]
    fn errors_name_the_problem() {
        let unsupported = body("v1", "Pod", Enc::default());
        assert_eq!(
            decode(&unsupported).unwrap_err().to_string(),
            "kind Pod (v1) is not decodable from protobuf; send JSON (kubectl create ... \
             --dry-run=client -o yaml | kubectl apply -f -)"
        );
        assert_eq!(
            decode(b"{\"kind\":\"Namespace\"}"),
            Err(ProtoError::NoMagic)
        );
        assert_eq!(decode(b"k8s"), Err(ProtoError::NoMagic));
        assert_eq!(decode(b"k8s\0"), Err(ProtoError::NoKind));
        let type_meta = Enc::default().str(1, "v1").str(2, "Secret");
        let no_raw = [MAGIC, &Enc::default().msg(1, type_meta.clone()).0].concat();
        assert_eq!(decode(&no_raw), Err(ProtoError::NoObject("Secret".into())));
        let gzip = [MAGIC, &Enc::default().msg(1, type_meta).str(3, "gzip").0].concat();
        assert_eq!(
            decode(&gzip).unwrap_err().to_string(),
            "protobuf content encoding \"gzip\" is not supported"
        );
    }

    #[test]
    fn truncated_and_garbage_inputs_are_errors() {
        let good = body(
            "v1",
            "Namespace",
            Enc::default().msg(1, meta("bookinfo", "", &[])),
        );
        // Every proper prefix is an error, not a panic, except the two that
        // stop after `raw` (the empty strings of the envelope are optional).
        for len in 0..good.len() {
            let got = decode(&good[..len]);
            let after_raw = len == good.len() - 4 || len == good.len() - 2;
            assert_eq!(got.is_ok(), after_raw, "{len}: {got:?}");
        }
        assert_eq!(
            decode(&good[..25]),
            Err(ProtoError::Truncated {
                message: "Unknown",
                field: 2
            })
        );
        // The ObjectMeta's name claims 200 bytes but holds 8.
        let short = Enc::default().msg(1, Enc::default().tag(1, 2).varint(200).str(99, "bookinfo"));
        assert_eq!(
            decode(&body("v1", "Namespace", short))
                .unwrap_err()
                .to_string(),
            "truncated field 1 of ObjectMeta"
        );
        let wrong = Enc::default().msg(1, Enc::default().int(1, 5));
        assert_eq!(
            decode(&body("v1", "Namespace", wrong))
                .unwrap_err()
                .to_string(),
            "field 1 of ObjectMeta has wire type 0, expected length-delimited"
        );
        let group = Enc::default().msg(1, Enc::default().tag(9, 3));
        assert_eq!(
            decode(&body("v1", "Namespace", group))
                .unwrap_err()
                .to_string(),
            "unsupported wire type 3 in field 9 of ObjectMeta"
        );
        let bad_utf8 = Enc::default().msg(1, Enc::default().bytes(1, &[0xc3, 0x28]));
        assert_eq!(
            decode(&body("v1", "Namespace", bad_utf8))
                .unwrap_err()
                .to_string(),
            "field 1 of ObjectMeta is not valid UTF-8"
        );
        let overlong = [MAGIC, &[0xff; 11][..]].concat();
        assert_eq!(
            decode(&overlong),
            Err(ProtoError::BadTag { message: "Unknown" })
        );
        let zero = [MAGIC, &[0x02, 0x00][..]].concat();
        assert_eq!(
            decode(&zero).unwrap_err().to_string(),
            "invalid field number 0 in Unknown"
        );
        // Bytes that are not protobuf at all.
        for garbage in [
            &b"k8s\0\x0a\xff\xff\xff\xff\x0f"[..],
            b"k8s\0\x0f\x01",
            b"k8s\0\x0a",
        ] {
            assert!(decode(garbage).is_err(), "{garbage:?}");
        }
    }

    #[test]
    fn times_print_as_rfc3339() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59Z");
    }
}
