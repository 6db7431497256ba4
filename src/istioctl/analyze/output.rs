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

/// The `log` format: one line per message, uncoloured (meshsim's output
/// is never a terminal).
pub fn log(ms: &[Message]) -> String {
    let lines: Vec<String> = ms.iter().map(Message::line).collect();
    lines.join("\n")
}

/// `json.MarshalIndent(ms, "", "\t")`, with Go's escaping of `<`, `>`, `&`
/// and the line separators; no trailing newline.
pub fn json(ms: &[Message]) -> String {
    let list: Vec<Value> = ms
        .iter()
        .map(|m| {
            let map: Map<String, Value> = fields(m)
                .into_iter()
                .map(|(k, v)| (k.to_string(), Value::String(v)))
                .collect();
            Value::Object(map)
        })
        .collect();
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

/// go-yaml v2's emitter for a sequence of flat string maps: `- ` items,
/// keys at column 2, long values folded past column 80 onto lines
/// indented 4.
pub fn yaml(ms: &[Message]) -> String {
    if ms.is_empty() {
        return "[]\n".to_string();
    }
    let mut out = String::new();
    for m in ms {
        for (i, (k, v)) in fields(m).into_iter().enumerate() {
            out.push_str(if i == 0 { "- " } else { "  " });
            out.push_str(k);
            out.push(':');
            out.push_str(&yaml_scalar(&v, 2 + k.len() + 1));
            out.push('\n');
        }
    }
    out
}

/// Width past which go-yaml breaks a line at the next single space.
const BEST_WIDTH: usize = 80;
/// The indentation of a folded value's continuation lines.
const CONTINUATION: &str = "\n    ";

/// A block mapping value starting at `column` (after the `:`), in the
/// style go-yaml picks: plain when the text allows it, else single
/// quotes, else double quotes.
fn yaml_scalar(v: &str, column: usize) -> String {
    match style(v) {
        Style::Plain => format!(" {}", fold(v, column + 1, false)),
        Style::Single => format!(" '{}'", fold(&v.replace('\'', "''"), column + 2, true)),
        Style::Double => format!(" {}", serde_json::Value::String(v.to_string())),
    }
}

enum Style {
    Plain,
    Single,
    Double,
}

/// `yaml_emitter_analyze_scalar` and `select_scalar_style`, for
/// single-line strings in block context.
fn style(v: &str) -> Style {
    let special = v.chars().any(|c| c.is_control());
    if special || v.contains('\n') {
        return Style::Double;
    }
    if v.is_empty() || v.starts_with(' ') || v.ends_with(' ') || resolves_to_non_string(v) {
        return if v.is_empty() || resolves_to_non_string(v) {
            Style::Double
        } else {
            Style::Single
        };
    }
    let first = v.chars().next().unwrap_or(' ');
    let followed_by_space = |i: usize| v[i + 1..].starts_with(' ') || i + 1 == v.len();
    let indicator_first = "#,[]{}&*!|>'\"%@`".contains(first)
        || ((first == '?' || first == ':' || first == '-') && followed_by_space(0))
        || v.starts_with("---")
        || v.starts_with("...");
    let indicator_inside = v
        .char_indices()
        .skip(1)
        .any(|(i, c)| (c == ':' && followed_by_space(i)) || (c == '#' && v[..i].ends_with(' ')));
    if indicator_first || indicator_inside {
        Style::Single
    } else {
        Style::Plain
    }
}

/// Strings go-yaml would read back as something else (booleans, null,
/// numbers) and so double-quotes.
fn resolves_to_non_string(v: &str) -> bool {
    matches!(
        v,
        "~" | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
            | "y"
            | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "on"
            | "On"
            | "ON"
            | "off"
            | "Off"
            | "OFF"
    ) || v.parse::<f64>().is_ok()
}

/// go-yaml's line breaking inside a scalar: at a single space (not the
/// first or last character of a quoted scalar) once the column is past
/// the best width, the space becomes the break.
fn fold(v: &str, start: usize, quoted: bool) -> String {
    let chars: Vec<char> = v.chars().collect();
    let mut out = String::new();
    let mut column = start;
    let mut spaces = false;
    for (i, &c) in chars.iter().enumerate() {
        if c == ' ' {
            let next_is_space = chars.get(i + 1) == Some(&' ');
            let edge = quoted && (i == 0 || i + 1 == chars.len());
            if !spaces && column > BEST_WIDTH && !next_is_space && !edge {
                out.push_str(CONTINUATION);
                column = CONTINUATION.len() - 1;
            } else {
                out.push(c);
                column += 1;
            }
            spaces = true;
        } else {
            out.push(c);
            column += 1;
            spaces = false;
        }
    }
    out
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
