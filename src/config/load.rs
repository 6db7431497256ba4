//! Loading files and directories of manifests, as `kubectl apply -f` reads
//! them, into validated [`Object`]s and located [`Diagnostic`]s.

use std::path::{Path, PathBuf};

use crate::yaml::{Document, Node, Value, parse_documents};

use super::diag::{Diagnostic, Severity};
use super::kinds::{KINDS, KindInfo, Object, Source, lookup, split_api_version};
use super::validate::{Finding, Validator};

/// Everything a load produced. Objects with errors are left out; their
/// problems are in `diagnostics`.
#[derive(Debug, Default)]
pub struct Loaded {
    pub objects: Vec<Object>,
    pub diagnostics: Vec<Diagnostic>,
}

impl Loaded {
    pub fn has_errors(&self) -> bool {
        self.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error)
    }

    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
    }

    pub fn extend(&mut self, other: Loaded) {
        self.objects.extend(other.objects);
        self.diagnostics.extend(other.diagnostics);
    }
}

/// Loads files and directories (their `.yaml`, `.yml` and `.json` files,
/// sorted by name, not recursing, as `kubectl apply -f DIR` does).
/// Namespaced objects without a namespace go to `namespace`, or `default`.
pub fn load_paths(paths: &[PathBuf], namespace: Option<&str>) -> Loaded {
    let mut out = Loaded::default();
    for path in paths {
        for file in expand(path, &mut out.diagnostics) {
            match std::fs::read_to_string(&file) {
                Ok(text) => out.extend(load_str(&file.display().to_string(), &text, namespace)),
                Err(e) => out
                    .diagnostics
                    .push(file_error(&file, &format!("cannot read file: {e}"))),
            }
        }
    }
    out
}

fn file_error(file: &Path, message: &str) -> Diagnostic {
    Diagnostic {
        severity: Severity::Error,
        file: file.display().to_string(),
        loc: Default::default(),
        document: None,
        object: None,
        path: String::new(),
        message: message.to_string(),
    }
}

fn expand(path: &Path, diags: &mut Vec<Diagnostic>) -> Vec<PathBuf> {
    if path.is_dir() {
        let mut files: Vec<PathBuf> = match std::fs::read_dir(path) {
            Ok(entries) => entries
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| {
                    p.is_file()
                        && p.extension()
                            .and_then(|e| e.to_str())
                            .is_some_and(|e| matches!(e, "yaml" | "yml" | "json"))
                })
                .collect(),
            Err(e) => {
                diags.push(file_error(path, &format!("cannot read directory: {e}")));
                return Vec::new();
            }
        };
        files.sort();
        files
    } else if path.exists() {
        vec![path.to_path_buf()]
    } else {
        diags.push(file_error(
            path,
            &format!("the path {:?} does not exist", path.display().to_string()),
        ));
        Vec::new()
    }
}

/// Loads one file's text. `file` is only used to label diagnostics.
pub fn load_str(file: &str, text: &str, namespace: Option<&str>) -> Loaded {
    let mut out = Loaded::default();
    let (docs, syntax) = parse_documents(text);
    for doc in &docs {
        load_document(file, doc, namespace, &mut out);
    }
    if let Some(e) = syntax {
        out.diagnostics.push(Diagnostic {
            severity: Severity::Error,
            file: file.to_string(),
            loc: e.loc,
            document: Some(docs.len() + 1),
            object: None,
            path: String::new(),
            message: format!("invalid YAML: {}", e.message),
        });
    }
    out
}

fn load_document(file: &str, doc: &Document, namespace: Option<&str>, out: &mut Loaded) {
    let root = &doc.root;
    let number = doc.index + 1;
    let diag = |severity, loc, object: Option<String>, path: String, message: String| Diagnostic {
        severity,
        file: file.to_string(),
        loc,
        document: Some(number),
        object,
        path,
        message,
    };
    match &root.value {
        _ if root.is_null() => return,
        Value::Map(_) => {}
        _ => {
            out.diagnostics.push(diag(
                Severity::Error,
                root.loc,
                None,
                String::new(),
                format!("expected a Kubernetes object, got {}", root.describe()),
            ));
            return;
        }
    }
    let api_version = root.get("apiVersion").and_then(Node::as_str).unwrap_or("");
    let kind = root.get("kind").and_then(Node::as_str).unwrap_or("");
    let name = root
        .get("metadata")
        .and_then(|m| m.get("name"))
        .and_then(Node::as_str)
        .unwrap_or("");
    let mut missing = Vec::new();
    if api_version.is_empty() {
        missing.push("apiVersion not set");
    }
    if kind.is_empty() {
        missing.push("kind not set");
    }
    if !missing.is_empty() {
        out.diagnostics.push(diag(
            Severity::Error,
            root.loc,
            None,
            String::new(),
            format!("error validating data: [{}]", missing.join(", ")),
        ));
        return;
    }
    let label = if name.is_empty() {
        kind.to_string()
    } else {
        format!("{kind} {name}")
    };
    let Some(info) = lookup(api_version, kind) else {
        let loc = root.get("kind").map_or(root.loc, |k| k.loc);
        out.diagnostics.push(diag(
            Severity::Error,
            loc,
            Some(label),
            String::new(),
            unknown_kind_message(api_version, kind),
        ));
        return;
    };
    let (mut meta, body) = match (info.decode)(root) {
        Ok(decoded) => decoded,
        Err(problems) => {
            for p in problems {
                out.diagnostics.push(diag(
                    Severity::Error,
                    p.loc,
                    Some(label.clone()),
                    p.path,
                    p.message,
                ));
            }
            return;
        }
    };
    match object_namespace(info, meta.namespace(), namespace) {
        Ok(ns) => meta.namespace = ns,
        Err(message) => {
            out.diagnostics.push(diag(
                Severity::Error,
                root.get("metadata").map_or(root.loc, |m| m.loc),
                Some(label),
                "metadata.namespace".to_string(),
                message,
            ));
            return;
        }
    }
    let mut v = Validator::new();
    body.validate(&meta, &mut v);
    let object = Object {
        info,
        api_version: api_version.to_string(),
        meta,
        body,
        source: Source {
            file: file.to_string(),
            document: number,
            line: root.loc.line,
        },
    };
    let label = object.describe();
    let mut failed = false;
    for Finding {
        severity,
        path,
        message,
    } in v.into_findings()
    {
        failed |= severity == Severity::Error;
        let loc = root.locate(&path);
        let path = crate::yaml::node::format_path(&path);
        out.diagnostics
            .push(diag(severity, loc, Some(label.clone()), path, message));
    }
    if !failed {
        out.objects.push(object);
    }
}

/// The namespace an object lands in, decided as kubectl decides it before
/// the server (and so validation) sees the object: the manifest's own, else
/// the one the load was given (`--namespace`), else `default`; none for a
/// cluster-scoped kind. A manifest namespace that contradicts the given
/// one is kubectl's error.
fn object_namespace(
    info: &KindInfo,
    written: &str,
    given: Option<&str>,
) -> Result<Option<String>, String> {
    if !info.namespaced {
        return Ok(None);
    }
    match given {
        Some(want) if !written.is_empty() && written != want => Err(format!(
            "the namespace from the provided object {written:?} does not match the namespace {want:?}. You must pass '--namespace={written}' to perform this operation."
        )),
        _ if !written.is_empty() => Ok(Some(written.to_string())),
        _ => Ok(Some(given.unwrap_or("default").to_string())),
    }
}

/// kubectl's message for a kind the server does not know, with a hint when
/// the kind exists under another apiVersion.
fn unknown_kind_message(api_version: &str, kind: &str) -> String {
    let mut msg = format!("no matches for kind {kind:?} in version {api_version:?}");
    let known: Vec<String> = KINDS
        .iter()
        .filter(|k| super::kinds::written_kind(k) == kind)
        .flat_map(|k| k.versions.iter().map(|v| k.api_version(v)))
        .collect();
    if !known.is_empty() {
        msg.push_str(&format!(" (served versions: {})", known.join(", ")));
    } else {
        let names: Vec<&str> = KINDS.iter().map(super::kinds::written_kind).collect();
        if let Some(k) = crate::yaml::de::suggest(kind, &names) {
            msg.push_str(&format!(" (did you mean {k:?}?)"));
        }
    }
    let (group, _) = split_api_version(api_version);
    if KINDS.iter().all(|k| k.group != group) {
        msg.push_str(&format!("; meshsim serves no API group {group:?}"));
    }
    msg
}

#[cfg(test)]
mod tests {
    use super::load_str;
    use crate::config::testing::{problems, problems_in};

    const POLICY: &str = "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n  name: x\nspec:\n  action: DENY\n";

    #[test]
    fn validation_sees_the_namespace_the_object_lands_in() {
        let want = |ns: &str| {
            [format!(
                "error: spec.action: invalid policy x.{ns}: DENY action without `rules` is meaningless as it will never be triggered, add an empty rule `{{}}` if you want it be triggered for every request"
            )]
        };
        assert_eq!(problems(POLICY), want("default"));
        assert_eq!(problems_in("bookinfo", POLICY), want("bookinfo"));
    }

    #[test]
    fn a_sidecar_resolves_dot_to_the_loads_namespace() {
        let text = "apiVersion: networking.istio.io/v1\nkind: Sidecar\nmetadata:\n  name: default\nspec:\n  egress:\n  - hosts: [\"bookinfo/*\", \"./a.example.com\"]\n";
        assert_eq!(
            problems_in("bookinfo", text),
            ["warning: spec.egress[0].hosts[1]: duplicated egress host: ./a.example.com"]
        );
        assert_eq!(problems(text), Vec::<String>::new());
    }

    #[test]
    fn objects_get_their_written_the_given_or_the_default_namespace() {
        let text = "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: mine}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: b}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: c, namespace: ignored}\n";
        let namespaces = |given| {
            load_str("x.yaml", text, given)
                .objects
                .iter()
                .map(|o| o.meta.namespace.clone())
                .collect::<Vec<_>>()
        };
        let some = |s: &str| Some(s.to_string());
        assert_eq!(namespaces(None), [some("mine"), some("default"), None]);
        assert_eq!(
            problems_in("other", text),
            [
                "error: metadata.namespace: the namespace from the provided object \"mine\" does not match the namespace \"other\". You must pass '--namespace=mine' to perform this operation."
            ]
        );
        assert_eq!(namespaces(Some("mine")), [some("mine"), some("mine"), None]);
    }
}
