//! `metadata` and label selectors, shared by every kind.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::validate::{Validator, dns1123_label, dns1123_subdomain, label_key, label_value};

/// `metadata` of any object. Only name, namespace, labels and annotations
/// change what the simulation does; the server-owned fields are accepted so
/// that `kubectl get -o yaml` output can be fed back in.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct ObjectMeta {
    pub name: String,
    pub generate_name: String,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub uid: Option<serde_json::Value>,
    pub resource_version: Option<serde_json::Value>,
    pub generation: Option<serde_json::Value>,
    pub creation_timestamp: Option<serde_json::Value>,
    pub deletion_timestamp: Option<serde_json::Value>,
    pub deletion_grace_period_seconds: Option<serde_json::Value>,
    pub owner_references: Option<serde_json::Value>,
    pub finalizers: Option<serde_json::Value>,
    pub managed_fields: Option<serde_json::Value>,
    pub self_link: Option<serde_json::Value>,
}

/// How strictly an object's name is checked; the API server uses different
/// rules per kind (e.g. Services must be DNS-1035 labels).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameRule {
    Dns1123Subdomain,
    Dns1123Label,
    Dns1035Label,
}

impl ObjectMeta {
    /// The apiserver's checks on metadata (`ValidateObjectMeta`).
    pub fn validate(&self, rule: NameRule, v: &mut Validator) {
        v.field("metadata", |v| {
            if self.name.is_empty() && self.generate_name.is_empty() {
                v.field("name", |v| {
                    v.error("Required value: name or generateName is required")
                });
            } else if !self.name.is_empty() {
                v.field("name", |v| {
                    let problem = match rule {
                        NameRule::Dns1123Subdomain => dns1123_subdomain(&self.name),
                        NameRule::Dns1123Label => dns1123_label(&self.name),
                        NameRule::Dns1035Label => super::validate::dns1035_label(&self.name),
                    };
                    if let Some(msg) = problem {
                        v.invalid(&self.name, &msg);
                    }
                });
            }
            if let Some(ns) = &self.namespace
                && let Some(msg) = dns1123_label(ns)
            {
                v.field("namespace", |v| v.invalid(ns, &msg));
            }
            v.field("labels", |v| validate_labels(&self.labels, v));
            v.field("annotations", |v| {
                for key in self.annotations.keys() {
                    if let Some(msg) = label_key(key) {
                        v.invalid(key, &msg);
                    }
                }
            });
        });
    }

    /// The namespace; empty when unset. The loader sets it for every
    /// namespaced kind before validation, as kubectl does before the
    /// server sees the object, so validators read it from here.
    pub fn namespace(&self) -> &str {
        self.namespace.as_deref().unwrap_or_default()
    }

    /// `namespace/name`, or just `name` when no namespace is set.
    pub fn display_name(&self) -> String {
        match &self.namespace {
            Some(ns) if !ns.is_empty() => format!("{ns}/{}", self.name),
            _ => self.name.clone(),
        }
    }
}

/// Label keys and values as `ValidateLabels` checks them.
pub fn validate_labels(labels: &BTreeMap<String, String>, v: &mut Validator) {
    for (key, value) in labels {
        if let Some(msg) = label_key(key) {
            v.invalid(key, &msg);
        }
        if let Some(msg) = label_value(value) {
            v.invalid(value, &msg);
        }
    }
}

/// A Kubernetes label selector (`matchLabels` AND `matchExpressions`).
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<LabelSelectorRequirement>,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct LabelSelectorRequirement {
    pub key: String,
    pub operator: String,
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Whether `labels` satisfy the selector. An empty selector matches
    /// everything, as in Kubernetes.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.match_labels
            .iter()
            .all(|(k, v)| labels.get(k) == Some(v))
            && self.match_expressions.iter().all(|e| e.matches(labels))
    }

    pub fn is_empty(&self) -> bool {
        self.match_labels.is_empty() && self.match_expressions.is_empty()
    }

    pub fn validate(&self, v: &mut Validator) {
        v.field("matchLabels", |v| validate_labels(&self.match_labels, v));
        v.each("matchExpressions", &self.match_expressions, |v, _, e| {
            v.field("operator", |v| match e.operator.as_str() {
                "In" | "NotIn" => {
                    if e.values.is_empty() {
                        v.error("Required value: must be specified when `operator` is 'In' or 'NotIn'");
                    }
                }
                "Exists" | "DoesNotExist" => {
                    if !e.values.is_empty() {
                        v.error("Forbidden: may not be specified when `operator` is 'Exists' or 'DoesNotExist'");
                    }
                }
                other => v.unsupported(other, &["In", "NotIn", "Exists", "DoesNotExist"]),
            });
            if let Some(msg) = label_key(&e.key) {
                v.field("key", |v| v.invalid(&e.key, &msg));
            }
        });
    }
}

impl LabelSelectorRequirement {
    fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator.as_str() {
            "In" => value.is_some_and(|v| self.values.contains(v)),
            "NotIn" => value.is_none_or(|v| !self.values.contains(v)),
            "Exists" => value.is_some(),
            "DoesNotExist" => value.is_none(),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn selectors_and_their_expressions() {
        let sel = LabelSelector {
            match_labels: labels(&[("app", "reviews")]),
            match_expressions: vec![LabelSelectorRequirement {
                key: "version".into(),
                operator: "In".into(),
                values: vec!["v2".into(), "v3".into()],
            }],
        };
        assert!(sel.matches(&labels(&[("app", "reviews"), ("version", "v2")])));
        assert!(!sel.matches(&labels(&[("app", "reviews"), ("version", "v1")])));
        assert!(!sel.matches(&labels(&[("version", "v2")])));
        assert!(LabelSelector::default().matches(&labels(&[])));
    }
}
