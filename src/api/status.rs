//! Failures as the apiserver reports them: a `meta.k8s.io/v1` `Status`
//! with the HTTP code, a machine reason kubectl keys its messages on
//! (`Error from server (NotFound): pods "x" not found`), and details.

use serde_json::{Value, json};

/// An API failure, rendered as a `Status` object.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub code: u16,
    pub reason: &'static str,
    pub message: String,
    /// `details.name` and `details.kind` (the plural, as the apiserver
    /// puts it), when the failure is about one object.
    pub details: Option<(String, String)>,
    /// `details.causes` of an Invalid error: (field, message).
    pub causes: Vec<(String, String)>,
}

impl ApiError {
    fn new(code: u16, reason: &'static str, message: String) -> Self {
        ApiError {
            code,
            reason,
            message,
            details: None,
            causes: Vec::new(),
        }
    }

    fn about(mut self, name: &str, kind: &str) -> Self {
        self.details = Some((name.to_string(), kind.to_string()));
        self
    }

    /// `pods "x" not found`, as the apiserver says it (`qualified` is
    /// `pods` or `deployments.apps`).
    pub fn not_found(qualified: &str, name: &str) -> Self {
        let kind = qualified.split('.').next().unwrap_or(qualified);
        Self::new(404, "NotFound", format!("{qualified} {name:?} not found")).about(name, kind)
    }

    pub fn already_exists(qualified: &str, name: &str) -> Self {
        let kind = qualified.split('.').next().unwrap_or(qualified);
        Self::new(
            409,
            "AlreadyExists",
            format!("{qualified} {name:?} already exists"),
        )
        .about(name, kind)
    }

    /// An update that carried an old `resourceVersion`.
    pub fn conflict(qualified: &str, name: &str) -> Self {
        let kind = qualified.split('.').next().unwrap_or(qualified);
        Self::new(
            409,
            "Conflict",
            format!(
                "Operation cannot be fulfilled on {qualified} {name:?}: the object has been modified; please apply your changes to the latest version and try again"
            ),
        )
        .about(name, kind)
    }

    /// `The Deployment "x" is invalid: <causes>`.
    pub fn invalid(kind: &str, name: &str, causes: Vec<(String, String)>) -> Self {
        let listed: Vec<String> = causes
            .iter()
            .map(|(field, msg)| {
                if field.is_empty() {
                    msg.clone()
                } else {
                    format!("{field}: {msg}")
                }
            })
            .collect();
        let message = match listed.as_slice() {
            [one] => format!("{kind} {name:?} is invalid: {one}"),
            many => format!("{kind} {name:?} is invalid: [{}]", many.join(", ")),
        };
        let mut e = Self::new(422, "Invalid", message).about(name, kind);
        e.causes = causes;
        e
    }

    /// What istiod's validating webhook answers for a rejected Istio
    /// object: the apiserver passes it on as 400 BadRequest with
    /// `admission webhook "validation.istio.io" denied the request:
    /// configuration is invalid: …`.
    pub fn webhook_denied(messages: &[String]) -> Self {
        Self::new(
            400,
            "BadRequest",
            format!(
                "admission webhook \"validation.istio.io\" denied the request: configuration is invalid: {}",
                messages.join("\n")
            ),
        )
    }

    pub fn forbidden(message: &str) -> Self {
        Self::new(403, "Forbidden", message.to_string())
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(400, "BadRequest", message.into())
    }

    pub fn method_not_allowed(message: impl Into<String>) -> Self {
        Self::new(405, "MethodNotAllowed", message.into())
    }

    pub fn unsupported_media_type(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json, application/yaml, application/vnd.kubernetes.protobuf (got {content_type:?})"
            ),
        )
    }

    pub fn unauthorized() -> Self {
        Self::new(401, "Unauthorized", "Unauthorized".to_string())
    }

    /// A watch from a resourceVersion the event log no longer holds.
    pub fn gone(rv: u64) -> Self {
        Self::new(410, "Expired", format!("too old resource version: {rv}"))
    }

    /// The path names nothing the server serves.
    pub fn no_route(path: &str) -> Self {
        Self::new(
            404,
            "NotFound",
            format!("the server could not find the requested resource ({path})"),
        )
    }

    /// A patch that could not be applied, with the status the apiserver
    /// gives its kind of failure (`patcher.go`): a JSON patch whose body
    /// does not decode is 400, one with too many operations 413, one whose
    /// operations fail 422; a strategic merge patch that is not a valid
    /// document is 400, a list of lists 422, anything else 500.
    pub fn patch_failed(e: &super::patch::PatchError) -> Self {
        use super::patch::PatchError as P;
        let message = e.to_string();
        match e {
            P::JsonPatchDecode { .. } | P::InvalidJsonDocument | P::InvalidPatchFormat(_) => {
                Self::new(400, "BadRequest", message)
            }
            P::TooManyOperations { .. } => Self::new(413, "RequestEntityTooLarge", message),
            P::InvalidOperation(_)
            | P::PathNotFound { .. }
            | P::InvalidIndex { .. }
            | P::TestFailed { .. }
            | P::MoveIntoChild { .. }
            | P::ListOfLists => Self::new(422, "Invalid", message),
            _ => Self::new(500, "InternalError", message),
        }
    }

    /// A strategic merge patch sent for a custom resource (Istio's kinds):
    /// the apiserver supports only merge, JSON and apply patches there.
    pub fn strategic_patch_of_custom_resource(content_type: &str) -> Self {
        Self::new(
            415,
            "UnsupportedMediaType",
            format!(
                "the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/apply-patch+yaml (got {content_type:?})"
            ),
        )
    }

    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(500, "InternalError", message.into())
    }

    /// The `Status` object.
    pub fn to_status(&self) -> Value {
        let mut status = json!({
            "kind": "Status",
            "apiVersion": "v1",
            "metadata": {},
            "status": "Failure",
            "message": self.message,
            "reason": self.reason,
            "code": self.code,
        });
        if self.details.is_some() || !self.causes.is_empty() {
            let mut details = json!({});
            if let Some((name, kind)) = &self.details {
                details["name"] = json!(name);
                details["kind"] = json!(kind);
            }
            if !self.causes.is_empty() {
                details["causes"] = self
                    .causes
                    .iter()
                    .map(|(field, msg)| json!({"reason": "FieldValueInvalid", "message": msg, "field": field}))
                    .collect();
            }
            status["details"] = details;
        }
        status
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn not_found_reads_as_kubectl_prints_it() {
        let e = ApiError::not_found("pods", "nope");
        let s = e.to_status();
        assert_eq!(s["message"], "pods \"nope\" not found");
        assert_eq!(s["reason"], "NotFound");
        assert_eq!(s["code"], 404);
        assert_eq!(s["details"], json!({"name": "nope", "kind": "pods"}));
        let e = ApiError::not_found("deployments.apps", "x");
        assert_eq!(e.message, "deployments.apps \"x\" not found");
        assert_eq!(e.to_status()["details"]["kind"], "deployments");
    }

    #[test]
    fn invalid_lists_causes_in_brackets_when_several() {
        let one = ApiError::invalid(
            "Service",
            "a",
            vec![("spec.ports".into(), "Required value".into())],
        );
        assert_eq!(
            one.message,
            "Service \"a\" is invalid: spec.ports: Required value"
        );
        let two = ApiError::invalid(
            "Service",
            "a",
            vec![("x".into(), "m1".into()), ("y".into(), "m2".into())],
        );
        assert_eq!(two.message, "Service \"a\" is invalid: [x: m1, y: m2]");
        assert_eq!(two.to_status()["details"]["causes"][1]["field"], "y");
    }
}
