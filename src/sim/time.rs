//! Virtual time. Nanoseconds in a `u64` cover 584 years, far more than any
//! scenario, and integer arithmetic keeps every run bit-for-bit repeatable.

use std::fmt;
use std::ops::{Add, AddAssign, Sub};

/// The calendar instant virtual time 0 stands for, in Unix seconds
/// (2026-01-01T00:00:00Z), so timestamps printed by simulated tools make
/// sense.
pub const EPOCH_UNIX_SECS: u64 = 1_767_225_600;

/// A Unix time on the proleptic Gregorian calendar, UTC.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Civil {
    pub year: i64,
    /// 1–12.
    pub month: usize,
    pub day: i64,
    pub hour: u64,
    pub minute: u64,
    pub second: u64,
    /// Thursday = 0 (1970-01-01 was a Thursday).
    pub weekday: usize,
}

impl Civil {
    pub fn from_unix(unix: u64) -> Civil {
        Civil::from_unix_signed(i64::try_from(unix).unwrap_or(i64::MAX))
    }

    /// Howard Hinnant's `civil_from_days`, for any second since 1970 (Go's
    /// zero time, year 1, is before it).
    pub fn from_unix_signed(unix: i64) -> Civil {
        let days = unix.div_euclid(86_400);
        let secs = unix.rem_euclid(86_400) as u64;
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = doy - (153 * mp + 2) / 5 + 1;
        let month = if mp < 10 { mp + 3 } else { mp - 9 };
        Civil {
            year: yoe + era * 400 + i64::from(month <= 2),
            month: month as usize,
            day,
            hour: secs / 3600,
            minute: secs % 3600 / 60,
            second: secs % 60,
            weekday: days.rem_euclid(7) as usize,
        }
    }
}

/// English month abbreviations, January first.
pub const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// The Common Log Format's time, `01/Jan/2026:00:00:05` followed by
/// `zone` (`+0000` for nginx, `UTC` for WEBrick).
pub fn common_log_time(unix: u64, zone: &str) -> String {
    let c = Civil::from_unix(unix);
    format!(
        "{:02}/{}/{:04}:{:02}:{:02}:{:02} {zone}",
        c.day,
        MONTHS[c.month - 1],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// An HTTP `date` header value (IMF-fixdate).
pub fn http_date(unix: u64) -> String {
    const DAYS: [&str; 7] = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"];
    let c = Civil::from_unix(unix);
    format!(
        "{}, {:02} {} {} {:02}:{:02}:{:02} GMT",
        DAYS[c.weekday],
        c.day,
        MONTHS[c.month - 1],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

/// RFC 3339 in UTC, as Go's `time.RFC3339` prints it.
pub fn rfc3339(unix: u64) -> String {
    rfc3339_signed(i64::try_from(unix).unwrap_or(i64::MAX))
}

/// [`rfc3339`] for any second, before 1970 too.
pub fn rfc3339_signed(unix: i64) -> String {
    let c = Civil::from_unix_signed(unix);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    )
}

/// RFC 3339 in UTC with `digits` (1–9) fractional digits of `nanos`:
/// 3 for Envoy's `START_TIME` and slog, 6 for Istio's log lines, 9 for the
/// kubelet's `--timestamps`.
pub fn rfc3339_fraction(unix: u64, nanos: u32, digits: u32) -> String {
    let digits = digits.clamp(1, 9);
    let fraction = nanos / 10u32.pow(9 - digits);
    let whole = rfc3339(unix);
    format!(
        "{}.{fraction:0width$}Z",
        &whole[..whole.len() - 1],
        width = digits as usize
    )
}

/// An instant on the virtual clock: nanoseconds since the simulation began.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimTime(pub u64);

/// A span of virtual time in nanoseconds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SimDuration(pub u64);

impl SimTime {
    pub const ZERO: SimTime = SimTime(0);
    pub const MAX: SimTime = SimTime(u64::MAX);

    pub fn as_nanos(self) -> u64 {
        self.0
    }

    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }

    /// Time elapsed since `earlier`, saturating at zero.
    pub fn since(self, earlier: SimTime) -> SimDuration {
        SimDuration(self.0.saturating_sub(earlier.0))
    }
}

impl SimDuration {
    pub const ZERO: SimDuration = SimDuration(0);

    pub const fn from_nanos(ns: u64) -> Self {
        SimDuration(ns)
    }
    pub const fn from_micros(us: u64) -> Self {
        SimDuration(us * 1_000)
    }
    pub const fn from_millis(ms: u64) -> Self {
        SimDuration(ms * 1_000_000)
    }
    pub const fn from_secs(s: u64) -> Self {
        SimDuration(s * 1_000_000_000)
    }
    /// Rounds to the nearest nanosecond; negative and NaN inputs become zero.
    pub fn from_secs_f64(s: f64) -> Self {
        if s.is_nan() || s <= 0.0 {
            SimDuration(0)
        } else if s >= u64::MAX as f64 / 1e9 {
            SimDuration(u64::MAX)
        } else {
            // Positive here, so adding a half and truncating rounds; this is
            // a hot path and `f64::round` is a library call.
            SimDuration((s * 1e9 + 0.5) as u64)
        }
    }
    pub fn as_nanos(self) -> u64 {
        self.0
    }
    pub fn as_secs_f64(self) -> f64 {
        self.0 as f64 / 1e9
    }
    pub fn as_millis_f64(self) -> f64 {
        self.0 as f64 / 1e6
    }
    pub fn is_zero(self) -> bool {
        self.0 == 0
    }
}

impl Add<SimDuration> for SimTime {
    type Output = SimTime;
    fn add(self, d: SimDuration) -> SimTime {
        SimTime(self.0.saturating_add(d.0))
    }
}

impl AddAssign<SimDuration> for SimTime {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Add for SimDuration {
    type Output = SimDuration;
    fn add(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_add(d.0))
    }
}

impl AddAssign for SimDuration {
    fn add_assign(&mut self, d: SimDuration) {
        self.0 = self.0.saturating_add(d.0);
    }
}

impl Sub for SimDuration {
    type Output = SimDuration;
    fn sub(self, d: SimDuration) -> SimDuration {
        SimDuration(self.0.saturating_sub(d.0))
    }
}

/// Why a duration string was rejected.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("time: invalid duration {0:?}")]
    Invalid(String),
    #[error("time: missing unit in duration {0:?}")]
    MissingUnit(String),
    #[error("time: unknown unit {unit:?} in duration {text:?}")]
    UnknownUnit { unit: String, text: String },
    #[error("duration {0:?} is negative")]
    Negative(String),
}

impl SimDuration {
    /// Parses a duration the way Go's `time.ParseDuration` does (`300ms`,
    /// `1.5s`, `2h45m`, `10us`, `0`), which is the syntax Istio accepts in
    /// its YAML (`timeout: 2s`, `baseEjectionTime: 1m`). The error texts are
    /// Go's, since that is what a user of a real cluster sees.
    pub fn parse(text: &str) -> Result<SimDuration, DurationError> {
        let invalid = || DurationError::Invalid(text.to_string());
        let mut s = text;
        if let Some(rest) = s.strip_prefix('-') {
            if rest == "0" {
                return Ok(SimDuration::ZERO);
            }
            return Err(DurationError::Negative(text.to_string()));
        }
        s = s.strip_prefix('+').unwrap_or(s);
        if s == "0" {
            return Ok(SimDuration::ZERO);
        }
        if s.is_empty() {
            return Err(invalid());
        }
        let mut total: f64 = 0.0;
        while !s.is_empty() {
            let num_len = s
                .find(|c: char| !(c.is_ascii_digit() || c == '.'))
                .unwrap_or(s.len());
            let number = &s[..num_len];
            if number.is_empty() || number == "." || number.matches('.').count() > 1 {
                return Err(invalid());
            }
            let value: f64 = number.parse().map_err(|_| invalid())?;
            s = &s[num_len..];
            let unit_len = s
                .find(|c: char| c.is_ascii_digit() || c == '.')
                .unwrap_or(s.len());
            let unit = &s[..unit_len];
            s = &s[unit_len..];
            let scale = match unit {
                "" => return Err(DurationError::MissingUnit(text.to_string())),
                "ns" => 1.0,
                "us" | "µs" | "μs" => 1e3,
                "ms" => 1e6,
                "s" => 1e9,
                "m" => 60e9,
                "h" => 3600e9,
                other => {
                    return Err(DurationError::UnknownUnit {
                        unit: other.to_string(),
                        text: text.to_string(),
                    });
                }
            };
            total += value * scale;
        }
        if total >= u64::MAX as f64 {
            return Err(invalid());
        }
        Ok(SimDuration(total.round() as u64))
    }
}

/// Prints the way Go's `time.Duration` does (`1.5s`, `250ms`, `2m0s`), which
/// is also how Istio and Kubernetes print durations back to a user.
impl fmt::Display for SimDuration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let ns = self.0;
        if ns == 0 {
            return f.write_str("0s");
        }
        if ns < 1_000 {
            return write!(f, "{ns}ns");
        }
        if ns < 1_000_000 {
            return write!(f, "{}µs", trim_fraction(ns, 1_000));
        }
        if ns < 1_000_000_000 {
            return write!(f, "{}ms", trim_fraction(ns, 1_000_000));
        }
        let total_secs = ns / 1_000_000_000;
        let frac = ns % 1_000_000_000;
        let hours = total_secs / 3600;
        let mins = (total_secs % 3600) / 60;
        let secs = total_secs % 60;
        let sec_text = trim_fraction(secs * 1_000_000_000 + frac, 1_000_000_000);
        if hours > 0 {
            write!(f, "{hours}h{mins}m{sec_text}s")
        } else if mins > 0 {
            write!(f, "{mins}m{sec_text}s")
        } else {
            write!(f, "{sec_text}s")
        }
    }
}

impl fmt::Display for SimTime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        SimDuration(self.0).fmt(f)
    }
}

/// `value / unit` as a decimal without trailing zeros (`1500, 1000` → `1.5`).
fn trim_fraction(value: u64, unit: u64) -> String {
    let whole = value / unit;
    let frac = value % unit;
    if frac == 0 {
        return whole.to_string();
    }
    let width = unit.ilog10() as usize;
    let digits = format!("{frac:0width$}");
    format!("{whole}.{}", digits.trim_end_matches('0'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case(0, "0s")]
    #[test_case(999, "999ns")]
    #[test_case(1_500, "1.5\u{b5}s"; "micro")]
    #[test_case(250_000_000, "250ms")]
    #[test_case(1_500_000_000, "1.5s")]
    #[test_case(120_000_000_000, "2m0s")]
    #[test_case(3_723_500_000_000, "1h2m3.5s")]
    fn prints_like_go(ns: u64, want: &str) {
        assert_eq!(SimDuration(ns).to_string(), want);
    }

    #[test_case(3, "2026-01-01T00:00:05.043Z")]
    #[test_case(6, "2026-01-01T00:00:05.043210Z")]
    #[test_case(9, "2026-01-01T00:00:05.043210987Z")]
    fn fractions_truncate_as_go_formats_them(digits: u32, want: &str) {
        assert_eq!(
            rfc3339_fraction(EPOCH_UNIX_SECS + 5, 43_210_987, digits),
            want
        );
    }

    #[test_case("300ms", 300_000_000)]
    #[test_case("1.5s", 1_500_000_000)]
    #[test_case("2h45m", 9_900_000_000_000)]
    #[test_case("1m", 60_000_000_000)]
    #[test_case("10us", 10_000)]
    #[test_case("10\u{b5}s", 10_000; "micro sign")]
    #[test_case("0", 0)]
    #[test_case(".5s", 500_000_000)]
    fn parses_go_durations(text: &str, ns: u64) {
        assert_eq!(SimDuration::parse(text), Ok(SimDuration(ns)));
    }

    #[test_case("", "time: invalid duration \"\"")]
    #[test_case("5", "time: missing unit in duration \"5\"")]
    #[test_case("5 s", "time: unknown unit \" s\" in duration \"5 s\"")]
    #[test_case("2d", "time: unknown unit \"d\" in duration \"2d\"")]
    #[test_case("-1s", "duration \"-1s\" is negative")]
    #[test_case("1..2s", "time: invalid duration \"1..2s\"")]
    #[test_case("two", "time: invalid duration \"two\"")]
    fn rejects_bad_durations_with_gos_words(text: &str, want: &str) {
        assert_eq!(SimDuration::parse(text).unwrap_err().to_string(), want);
    }

    #[test]
    fn float_seconds_round_and_clamp() {
        assert_eq!(SimDuration::from_secs_f64(0.0015), SimDuration(1_500_000));
        assert_eq!(SimDuration::from_secs_f64(-1.0), SimDuration(0));
        assert_eq!(SimDuration::from_secs_f64(f64::NAN), SimDuration(0));
    }

    #[test]
    fn calendar_dates() {
        assert_eq!(http_date(EPOCH_UNIX_SECS), "Thu, 01 Jan 2026 00:00:00 GMT");
        assert_eq!(http_date(1_700_000_000), "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(
            rfc3339(EPOCH_UNIX_SECS + 86_400 + 61),
            "2026-01-02T00:01:01Z"
        );
        assert_eq!(rfc3339(1_684_200_772), "2023-05-16T01:32:52Z");
    }
}
