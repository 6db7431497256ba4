//! `schema.ValidationAnalyzer` (Istio 1.27, `analyzers/schema/validation.go`):
//! istiod's validation re-run on every Istio object. What was stored passed
//! it, so only its warnings remain: the VirtualService rule analysis
//! becomes IST0130/IST0131, any other warning IST0133.

use crate::config::Object;
use crate::config::networking::envoy_filter::NOT_SIMULATED;
use crate::config::validate::Validator;
use crate::config::{Severity, kinds::Body};

use super::message::{self as msg, Message};
use super::snapshot::{Snapshot, origin};

pub fn run(s: &Snapshot, out: &mut Vec<Message>) {
    for obj in s.objects.iter().filter(|o| is_istio(o)) {
        let mut v = Validator::new();
        obj.body.validate(&obj.meta, &mut v);
        let warnings = v
            .into_findings()
            .into_iter()
            .filter(|f| f.severity == Severity::Warning && f.message != NOT_SIMULATED);
        for w in warnings {
            out.push(message(obj, &w.message));
        }
    }
}

/// The `*.istio.io` kinds (`collections.Istio`); Gateway API kinds have no
/// istiod validation.
fn is_istio(obj: &Object) -> bool {
    obj.info.group.ends_with("istio.io")
}

/// `morePreciseMessage`. Istio's validation raises the rule analysis as
/// `virtualService rule …` warnings carrying their parameters; the
/// analyzer's templates say the same with a capital V and a full stop.
fn message(obj: &Object, warning: &str) -> Message {
    let o = origin(obj);
    let rule = match &obj.body {
        Body::VirtualService(_) => warning.strip_prefix("virtualService rule "),
        _ => None,
    };
    match rule {
        Some(rest) if rest.contains(" is not used (duplicate/overlapping match in rule ") => {
            msg::ineffective_match(&o, rest)
        }
        Some(rest) if rest.contains(" not used (") => msg::unreachable_rule(&o, rest),
        _ => msg::schema_warning(&o, warning),
    }
}
