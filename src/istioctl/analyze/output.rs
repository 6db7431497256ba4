//! istioctl's three renderings of analysis messages
//! (`istioctl/pkg/util/formatting/formatter.go`): `log` lines, `json`
//! (Go's `json.MarshalIndent` with a tab), `yaml` (`sigs.k8s.io/yaml`, which
//! is go-yaml v2 over the JSON form).

use serde_json::{Map, Value};

use super::message::Message;

/// `Message.Unstructured(true)`: the keys in the order Go's encoder sorts
/// a map's keys. Live-cluster origins carry no `reference`.
fn fields(m: &Message) -> Vec<(&'static str, String)> {
    vec![
        ("code", m.code.to_string()),
        ("documentationUrl", m.documentation_url()),
        ("level", m.level.to_string()),
        ("message", m.text.clone()),
        ("origin", m.origin.friendly_name()),
    ]
}

/// The messages as JSON objects.
fn list(ms: &[Message]) -> Vec<Value> {
    ms.iter()
        .map(|m| {
            let map: Map<String, Value> = fields(m)
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::String(v)))
                .collect();
            Value::Object(map)
        })
        .collect()
}

/// The `log` format: one line per message, uncoloured (meshsim's output
/// is never a terminal).
pub fn log(ms: &[Message]) -> String {
    let lines: Vec<String> = ms.iter().map(Message::line).collect();
    lines.join("\n")
}

/// `json.MarshalIndent(ms, "", "\t")`, with Go's escaping of `<`, `>`, `&`
/// and the line separators; no trailing newline.
pub fn json(ms: &[Message]) -> String {
    let list = list(ms);
    let mut out = Vec::new();
    let fmt = serde_json::ser::PrettyFormatter::with_indent(b"\t");
    let mut ser = serde_json::Serializer::with_formatter(&mut out, fmt);
    // Serialising strings into a Vec cannot fail.
    let _ = serde::Serialize::serialize(&list, &mut ser);
    String::from_utf8_lossy(&out)
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
        .replace('\u{2028}', "\\u2028")
        .replace('\u{2029}', "\\u2029")
}

/// `sigs.k8s.io/yaml` of the JSON form.
pub fn yaml(ms: &[Message]) -> String {
    crate::istioctl::go_yaml::to_yaml(&Value::Array(list(ms)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::istioctl::analyze::message::{
        Origin, namespace_not_injected, referenced_resource_not_found,
    };

    fn ms() -> Vec<Message> {
        vec![
            referenced_resource_not_found(
                &Origin::new("VirtualService", "default", "reviews"),
                "host+subset in destinationrule",
                "reviews+v4",
            ),
            namespace_not_injected(&Origin::new("Namespace", "", "default"), "default"),
        ]
    }

    #[test]
    fn json_is_go_indented_with_sorted_keys() {
        let want = "[\n\t{\n\t\t\"code\": \"IST0101\",\n\t\t\"documentationUrl\": \"https://istio.io/v1.27/docs/reference/config/analysis/ist0101/?ref=istioctl-analyze\",\n\t\t\"level\": \"Error\",\n\t\t\"message\": \"Referenced host+subset in destinationrule not found: \\\"reviews+v4\\\"\",\n\t\t\"origin\": \"VirtualService default/reviews\"\n\t}";
        assert!(json(&ms()).starts_with(want), "{}", json(&ms()));
        assert_eq!(json(&[]), "[]");
    }

    /// go-yaml breaks at the first space once past column 80, so lines
    /// run a word over: `label` ends at column 79, `namespace` at 89.
    #[test]
    fn yaml_quotes_and_folds_as_go_yaml() {
        let want = "- code: IST0101
  documentationUrl: https://istio.io/v1.27/docs/reference/config/analysis/ist0101/?ref=istioctl-analyze
  level: Error
  message: 'Referenced host+subset in destinationrule not found: \"reviews+v4\"'
  origin: VirtualService default/reviews
- code: IST0102
  documentationUrl: https://istio.io/v1.27/docs/reference/config/analysis/ist0102/?ref=istioctl-analyze
  level: Info
  message: The namespace is not enabled for Istio injection. Run 'kubectl label namespace
    default istio-injection=enabled' to enable it, or 'kubectl label namespace default
    istio-injection=disabled' to explicitly mark it as not needing injection.
  origin: Namespace default
";
        assert_eq!(yaml(&ms()), want);
        assert_eq!(yaml(&[]), "[]\n");
    }
}
