//! JSON as istioctl prints it with `-o yaml`: `sigs.k8s.io/yaml`
//! `JSONToYAML`, which decodes the JSON into Go maps and encodes them with
//! go-yaml v2: keys sorted (go-yaml's `keyList.Less`: non-letters before
//! letters, runs of digits by value), sequences at their key's indentation,
//! strings plain, single- or double-quoted as go-yaml's emitter picks, long
//! ones folded past column 80.

use std::cmp::Ordering;

use serde_json::Value;

/// The YAML document for `v`, ending in a newline.
pub fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::Object(m) if !m.is_empty() => write_map(&mut out, m, 0),
        Value::Array(a) if !a.is_empty() => write_seq(&mut out, a, 0),
        other => {
            out.push_str(&scalar(other, 0));
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
        let key = string(k, level);
        out.push_str(&key);
        out.push(':');
        write_value(out, &m[k], level, level + key.len() + 1);
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
                out.push_str(&scalar(other, level + 2));
                out.push('\n');
            }
        }
    }
}

/// A value after `key:` (which ends at `column`); maps nest two deeper,
/// sequences stay at the key's indentation.
fn write_value(out: &mut String, v: &Value, level: usize, column: usize) {
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
            out.push_str(&scalar(other, column));
            out.push('\n');
        }
    }
}

/// A scalar starting at `column` (after `key:` or `- `).
fn scalar(v: &Value, column: usize) -> String {
    match v {
        Value::Null => "null".to_string(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => string(s, column),
        Value::Object(_) => "{}".to_string(),
        Value::Array(_) => "[]".to_string(),
    }
}

/// A string in the style go-yaml picks: plain when the text allows it,
/// else single quotes, else double quotes; long ones folded.
fn string(v: &str, column: usize) -> String {
    match style(v) {
        Style::Plain => fold(v, column + 1, false),
        Style::Single => format!("'{}'", fold(&v.replace('\'', "''"), column + 2, true)),
        Style::Double => Value::String(v.to_string()).to_string(),
    }
}

/// Width past which go-yaml breaks a line at the next single space.
const BEST_WIDTH: usize = 80;
/// The indentation of a folded value's continuation lines.
const CONTINUATION: &str = "\n    ";

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

    /// A string that reads as a number is double-quoted, as go-yaml v2's
    /// `stringv` does (kubectl prints `prometheus.io/port: "15020"`); one
    /// that starts with an indicator is single-quoted by the emitter.
    #[test]
    fn sequences_stay_at_their_keys_indentation() {
        let v = json!([{"name": "9080", "virtualHosts": [{"domains": ["*"], "name": "a"}]}]);
        assert_eq!(
            to_yaml(&v),
            "- name: \"9080\"\n  virtualHosts:\n  - domains:\n    - '*'\n    name: a\n"
        );
    }

    #[test]
    fn keys_sort_non_letters_first() {
        let v = json!({"typedConfig": {"rds": {}, "@type": "x"}});
        assert_eq!(to_yaml(&v), "typedConfig:\n  '@type': x\n  rds: {}\n");
    }
}
