//! JSON as istioctl prints it with `-o yaml`: `sigs.k8s.io/yaml`
//! `JSONToYAML`, which decodes the JSON into Go maps and encodes them with
//! go-yaml v2: keys sorted (go-yaml's `keyList.Less`: non-letters before
//! letters, runs of digits by value), sequences at their key's indentation,
//! strings quoted with `'` when plain would read as something else.

use std::cmp::Ordering;

use serde_json::Value;

/// The YAML document for `v`, ending in a newline.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => {
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
    out
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

fn write_map(out: &mut String, m: &serde_json::Map<String, Value>, level: usize) {
    let mut keys: Vec<&String> = m.keys().collect();
    keys.sort_by(|a, b| key_order(a, b));
    for (i, k) in keys.into_iter().enumerate() {
        // The first key of a map inside a sequence follows its `- `.
        if i > 0 || !out.ends_with("- ") {
            indent(out, level);
        }
        out.push_str(&quote(k));
        out.push(':');
        write_value(out, &m[k], level);
    }
}

fn write_seq(out: &mut String, a: &[Value], level: usize) {
    for item in a {
        if !out.ends_with("- ") {
            indent(out, level);
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_map(out, m, level + 2),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, level + 2),
            other => {
                out.push_str(&scalar(other));
                out.push('\n');
            }
        }
    }
}

/// A value after `key:`; maps nest two deeper, sequences stay at the
/// key's indentation.
fn write_value(out: &mut String, v: &Value, level: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, level + 2);
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, level);
        }
        other => {
            out.push(' ');
            out.push_str(&scalar(other));
            out.push('\n');
        }
    }
}

fn scalar(v: &Value) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => quote(s),
        Value::Object(_) => "{}".to_string(),
        Value::Array(_) => "[]".to_string(),
    }
}

/// go-yaml's choice between a plain and a single-quoted string.
fn quote(s: &str) -> String {
    if needs_quotes(s) {
        format!("'{}'", s.replace('\'', "''"))
    } else {
        s.to_string()
    }
}

fn needs_quotes(s: &str) -> bool {
    const INDICATORS: &str = "-?:,[]{}#&*!|>'\"%@`";
    const RESERVED: [&str; 22] = [
        "y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True", "TRUE", "false",
        "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
    ];
    let Some(first) = s.chars().next() else {
        return true;
    };
    INDICATORS.contains(first)
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.ends_with(':')
        || s.contains(": ")
        || s.contains(" #")
        || RESERVED.contains(&s)
        || matches!(s, "null" | "Null" | "NULL" | "~")
        || s.parse::<f64>().is_ok()
}

/// go-yaml v2 `keyList.Less` for string keys.
fn key_order(a: &str, b: &str) -> Ordering {
    let (ar, br): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
    for i in 0..ar.len().min(br.len()) {
        if ar[i] == br[i] {
            continue;
        }
        let (al, bl) = (ar[i].is_alphabetic(), br[i].is_alphabetic());
        if al && bl {
            return ar[i].cmp(&br[i]);
        }
        if al || bl {
            return if bl {
                Ordering::Less
            } else {
                Ordering::Greater
            };
        }
        let digits = |r: &[char]| -> (u64, usize) {
            let run: String = r[i..].iter().take_while(|c| c.is_ascii_digit()).collect();
            (run.parse().unwrap_or(0), run.len())
        };
        let ((an, alen), (bn, blen)) = (digits(&ar), digits(&br));
        return an.cmp(&bn).then(alen.cmp(&blen)).then(ar[i].cmp(&br[i]));
    }
    ar.len().cmp(&br.len())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sequences_stay_at_their_keys_indentation() {
        let v = json!([{"name": "9080", "virtualHosts": [{"domains": ["*"], "name": "a"}]}]);
        assert_eq!(
            to_yaml(&v),
            "- name: \"9080\"\n".replace('"', "'")
                + "  virtualHosts:\n  - domains:\n    - '*'\n    name: a\n"
        );
    }

    #[test]
    fn keys_sort_non_letters_first() {
        let v = json!({"typedConfig": {"rds": {}, "@type": "x"}});
        assert_eq!(to_yaml(&v), "typedConfig:\n  '@type': x\n  rds: {}\n");
    }
}
