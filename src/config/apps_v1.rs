//! apps/v1 Deployment and DaemonSet.

use serde::Deserialize;

use super::core_v1::PodSpec;
use super::kinds::Validate;
use super::meta::{LabelSelector, NameRule, ObjectMeta, validate_labels};
use super::sim_annotations::SimAnnotations;
use super::validate::Validator;
use crate::spec_resources;

type Opaque = Option<serde_json::Value>;

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct PodTemplateSpec {
    pub metadata: ObjectMeta,
    pub spec: PodSpec,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct DeploymentSpec {
    pub min_ready_seconds: Option<i32>,
    pub paused: Option<bool>,
    pub progress_deadline_seconds: Option<i32>,
    pub replicas: Option<i32>,
    pub revision_history_limit: Option<i32>,
    pub selector: Option<LabelSelector>,
    pub strategy: Opaque,
    pub template: PodTemplateSpec,
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default, rename_all = "camelCase")]
pub struct DaemonSetSpec {
    pub min_ready_seconds: Option<i32>,
    pub revision_history_limit: Option<i32>,
    pub selector: Option<LabelSelector>,
    pub template: PodTemplateSpec,
    pub update_strategy: Opaque,
}

impl DeploymentSpec {
    /// `spec.replicas`, which defaults to 1.
    pub fn replicas(&self) -> u32 {
        self.replicas.unwrap_or(1).max(0) as u32
    }
}

/// The checks `ValidateDeployment`/`ValidateDaemonSet` share: a selector
/// that is present, non-empty and matches the template's labels, and a valid
/// pod template.
fn validate_workload(
    selector: Option<&LabelSelector>,
    template: &PodTemplateSpec,
    v: &mut Validator,
) {
    match selector {
        None => v.required_field("selector"),
        Some(sel) => {
            v.field("selector", |v| {
                sel.validate(v);
                if sel.is_empty() {
                    v.invalid("null", "empty selector is invalid for deployment");
                }
            });
            if !sel.is_empty() && !sel.matches(&template.metadata.labels) {
                v.field("template", |v| {
                    v.field("metadata", |v| {
                        v.field("labels", |v| {
                            let labels = template
                                .metadata
                                .labels
                                .iter()
                                .map(|(k, val)| format!("{k:?}:{val:?}"))
                                .collect::<Vec<_>>()
                                .join(", ");
                            v.error(format!(
                                "Invalid value: map[string]string{{{labels}}}: `selector` does not match template `labels`"
                            ));
                        })
                    })
                });
            }
        }
    }
    v.field("template", |v| {
        v.field("metadata", |v| {
            v.field("labels", |v| validate_labels(&template.metadata.labels, v));
            v.field("annotations", |v| {
                SimAnnotations::parse(&template.metadata.annotations, v);
            });
        });
        v.field("spec", |v| template.spec.validate_spec(v));
    });
}

impl Validate for DeploymentSpec {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(NameRule::Dns1123Subdomain, v);
        v.field("spec", |v| {
            if let Some(r) = self.replicas
                && r < 0
            {
                v.field("replicas", |v| {
                    v.invalid_num(r, "must be greater than or equal to 0")
                });
            }
            validate_workload(self.selector.as_ref(), &self.template, v);
        });
    }
}

impl Validate for DaemonSetSpec {
    fn validate(&self, meta: &ObjectMeta, v: &mut Validator) {
        meta.validate(NameRule::Dns1123Subdomain, v);
        v.field("spec", |v| {
            validate_workload(self.selector.as_ref(), &self.template, v)
        });
    }
}

spec_resources!(DeploymentSpec, DaemonSetSpec);
