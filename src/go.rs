//! Go's ways of printing values, for messages that must read as the Go
//! programs meshsim stands in for print them (the apiserver, istioctl,
//! fortio, Envoy's Go-side tools).

/// Go's `%q` of a string (`strconv.Quote`): the C-style escapes, `\x` for
/// other ASCII control characters, `\u` for other non-printable ones.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{b}' => out.push_str("\\v"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_ascii_control() => out.push_str(&format!("\\x{:02x}", u32::from(c))),
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `strconv.FormatFloat(x, 'g', -1, 64)`, as slog writes a float: the
/// shortest digits, in exponent form (`1.2e-05`) below 1e-4 and from 1e6.
pub fn format_float_g(x: f64) -> String {
    if x == 0.0 || !x.is_finite() || (1e-4..1e6).contains(&x.abs()) {
        return format!("{x}");
    }
    let e = format!("{x:e}");
    let (mantissa, exp) = e.split_once('e').unwrap_or((&e, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let sign = if exp < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exp.abs())
}

/// How Go's `encoding/json` names a JSON value's type in its errors.
pub fn json_type(v: &serde_json::Value) -> &'static str {
    use serde_json::Value;
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_print_as_strconv_g_shortest() {
        assert_eq!(format_float_g(0.213417), "0.213417");
        assert_eq!(format_float_g(12.0), "12");
        assert_eq!(format_float_g(0.000012), "1.2e-05");
        assert_eq!(format_float_g(1234567.0), "1.234567e+06");
    }

    #[test]
    fn quotes_as_strconv_does() {
        assert_eq!(quote("a\"b\\c\n\u{7}\u{1}é"), "\"a\\\"b\\\\c\\n\\a\\x01é\"");
        assert_eq!(json_type(&serde_json::json!([1])), "array");
    }
}
