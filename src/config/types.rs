//! Small value types shared by several kinds: Kubernetes' int-or-string and
//! quantities, and Istio's protobuf durations.

use std::fmt;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

use crate::sim::SimDuration;

use super::validate::Validator;

/// Kubernetes `IntOrString` (`targetPort: 9080` or `targetPort: http`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum IntOrString {
    Int(i64),
    Str(String),
}

impl<'de> Deserialize<'de> for IntOrString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = IntOrString;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an integer or a string")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<IntOrString, E> {
                Ok(IntOrString::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<IntOrString, E> {
                i64::try_from(v)
                    .map(IntOrString::Int)
                    .map_err(|_| E::custom(format!("{v} is out of range")))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<IntOrString, E> {
                Ok(IntOrString::Str(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl fmt::Display for IntOrString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            IntOrString::Int(i) => write!(f, "{i}"),
            IntOrString::Str(s) => f.write_str(s),
        }
    }
}

/// A Kubernetes resource quantity (`100m`, `0.5`, `128Mi`), kept as written
/// and parsed on demand.
#[derive(Clone, Debug, PartialEq)]
pub struct Quantity(pub String);

impl<'de> Deserialize<'de> for Quantity {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Quantity;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a quantity such as 100m or 128Mi")
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<Quantity, E> {
                Ok(Quantity(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}

impl Quantity {
    /// The value as a number of base units (cores, bytes), or `None` when
    /// the text is not a quantity.
    pub fn value(&self) -> Option<f64> {
        let s = self.0.trim();
        let split = s
            .find(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | '+' | '-')))
            .unwrap_or(s.len());
        let (number, suffix) = s.split_at(split);
        let n: f64 = number.parse().ok()?;
        let scale = match suffix {
            "" => 1.0,
            "n" => 1e-9,
            "u" => 1e-6,
            "m" => 1e-3,
            "k" => 1e3,
            "M" => 1e6,
            "G" => 1e9,
            "T" => 1e12,
            "P" => 1e15,
            "E" => 1e18,
            "Ki" => 1024.0,
            "Mi" => 1024.0 * 1024.0,
            "Gi" => 1024.0 * 1024.0 * 1024.0,
            "Ti" => 1024f64.powi(4),
            "Pi" => 1024f64.powi(5),
            "Ei" => 1024f64.powi(6),
            _ => {
                let exp = suffix.strip_prefix(['e', 'E'])?;
                10f64.powi(exp.parse().ok()?)
            }
        };
        Some(n * scale)
    }

    pub fn validate(&self, v: &mut Validator) {
        if self.value().is_none() {
            v.invalid(
                &self.0,
                "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'",
            );
        }
    }
}

/// An Istio `google.protobuf.Duration` field. The CRD schema types it as a
/// string and checks it with the CEL rule `duration(self) >= duration('1ms')`
/// (Go duration syntax, so `1m` and `1h30m` work); istiod then insists on
/// millisecond precision. The raw text is kept so validation can report it;
/// [`Duration::get`] is only meaningful after validation passed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Duration {
    pub text: String,
    parsed: Option<SimDuration>,
}

impl Duration {
    pub fn new(text: &str) -> Self {
        Duration {
            text: text.to_string(),
            parsed: SimDuration::parse(text).ok(),
        }
    }

    /// The parsed value; zero if the text was invalid (validation reports it).
    pub fn get(&self) -> SimDuration {
        self.parsed.unwrap_or(SimDuration::ZERO)
    }

    /// The CRD rule, then istiod's `ValidateDuration` precision check.
    pub fn validate(&self, v: &mut Validator) {
        if self.validate_rule(v) && !self.get().as_nanos().is_multiple_of(1_000_000) {
            v.error("only durations to ms precision are supported");
        }
    }

    /// The CRD rule alone, for fields istiod does not check itself (so
    /// sub-millisecond precision passes). Returns whether it held.
    pub fn validate_rule(&self, v: &mut Validator) -> bool {
        const RULE: &str = "must be a valid duration greater than 1ms";
        match self.parsed {
            None => v.cel_error(
                "string",
                "type conversion error from 'string' to 'google.protobuf.Duration'",
                RULE,
            ),
            Some(d) if d < SimDuration::from_millis(1) => v.cel("string", RULE),
            Some(_) => return true,
        }
        false
    }

    /// For fields without the CEL rule (`tcp.idleTimeout`): only the decode
    /// step checks the text, and zero is allowed. Returns whether it
    /// decoded.
    pub fn validate_decode_only(&self, v: &mut Validator) -> bool {
        let decoded = SimDuration::parse(&self.text);
        if let Err(e) = &decoded {
            v.error(format!("error decoding configuration: bad Duration: {e}"));
        }
        decoded.is_ok()
    }
}

impl<'de> Deserialize<'de> for Duration {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Ok(Duration::new(&text))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("100m", 0.1)]
    #[test_case("2", 2.0)]
    #[test_case("128Mi", 134_217_728.0)]
    #[test_case("1e3", 1000.0)]
    fn quantities(text: &str, want: f64) {
        assert_eq!(Quantity(text.into()).value(), Some(want));
    }

    #[test_case("2s", None)]
    #[test_case("1m", None)]
    #[test_case(
        "0s",
        Some("Invalid value: \"string\": must be a valid duration greater than 1ms")
    )]
    #[test_case(
        "abc",
        Some(
            "Invalid value: \"string\": type conversion error from 'string' to 'google.protobuf.Duration' evaluating rule: must be a valid duration greater than 1ms"
        )
    )]
    #[test_case("1.5ms", Some("only durations to ms precision are supported"))]
    fn istio_durations(text: &str, want: Option<&str>) {
        let mut v = Validator::new();
        Duration::new(text).validate(&mut v);
        let got = v.into_findings().first().map(|f| f.message.clone());
        assert_eq!(got.as_deref(), want);
    }
}
