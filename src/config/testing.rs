//! What the kinds' tests share: a one-object manifest built from a spec
//! written as YAML flow, and the diagnostics of loading a text, one line
//! each, so a test states what a cluster would print.

use super::{Loaded, load_str};

/// A manifest of one object, its `spec` written as YAML flow
/// (`{hosts: [a.example.com]}`).
pub(crate) fn manifest(
    api_version: &str,
    kind: &str,
    name: &str,
    namespace: &str,
    spec: &str,
) -> String {
    format!(
        "apiVersion: {api_version}\nkind: {kind}\nmetadata:\n  name: {name}\n  namespace: {namespace}\nspec: {spec}\n"
    )
}

/// Every diagnostic of loading `text`, as `severity: path: message`.
pub(crate) fn problems(text: &str) -> Vec<String> {
    problems_of(&load(text))
}

/// [`problems`] of `text` loaded as `kubectl apply -n namespace` would.
pub(crate) fn problems_in(namespace: &str, text: &str) -> Vec<String> {
    problems_of(&load_str("x.yaml", text, Some(namespace)))
}

fn problems_of(loaded: &Loaded) -> Vec<String> {
    loaded
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}: {}", d.severity, d.path, d.message))
        .collect()
}

/// Every diagnostic of loading `text`, as `line: severity: path: message`.
pub(crate) fn located(text: &str) -> Vec<String> {
    load(text)
        .diagnostics
        .iter()
        .map(|d| format!("{}: {}: {}: {}", d.loc.line, d.severity, d.path, d.message))
        .collect()
}

/// Loads `text`, which must load without a single diagnostic.
pub(crate) fn clean(text: &str) -> Loaded {
    let loaded = load(text);
    assert!(loaded.diagnostics.is_empty(), "{:#?}", loaded.diagnostics);
    loaded
}

/// Loads `text` as the file `x.yaml`, with no namespace given.
fn load(text: &str) -> Loaded {
    load_str("x.yaml", text, None)
}
