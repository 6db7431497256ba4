//! `fortio load`, sans-IO: argument parsing as fortio's Go `flag` package
//! does it, the call plan (threads, calls per thread, qps pacing), fortio's
//! own histogram (`stats/stats.go`, not HdrHistogram) and the text report
//! fortio prints at the end of a load run.
//!
//! Modelled on fortio 1.69.5 (`fortio/fortio:latest_release` as pulled by
//! Istio's `samples/httpbin/sample-client/fortio-deploy.yaml`; 1.69.5 is the
//! release seen in real 2025 circuit-breaking transcripts) built with
//! `fortio.org/log` 1.17.2. Format strings, file names and line numbers in
//! the JSON log lines come from that source (`cli/fortio_main.go`,
//! `periodic/periodic.go`, `fhttp/httprunner.go`, `fhttp/http_client.go`,
//! `stats/stats.go`, `log/logger.go`).
//!
//! Where the output goes: fortio's `fortioLoad` writes its whole report to
//! **stderr** (`out := os.Stderr`), and the JSON logger writes to stderr too.
//! stdout only receives the JSON result of `-json -`.
//!
//! Nothing here reads a clock, a file, the network or a random source: the
//! simulation runs the calls and hands the outcome to [`report`].

use std::collections::BTreeMap;
use std::fmt::Write as _;

/// Short version printed in the header and the `Version` JSON field.
pub const FORTIO_VERSION: &str = "1.69.5";
/// Long version logged by `scli` at startup (`"version"` attribute of the
/// `Starting` log line), as printed by the released 1.69.5 image.
pub const FORTIO_VERSION_LONG: &str =
    "1.69.5 h1:h+42fJ1HF61Jj+WgPmC+C2wPtM5Ct8JLHSLDyEgGID4= go1.23.9 amd64 linux";

/// Goroutine id (`"r"` in JSON logs) of the main goroutine.
const R_MAIN: u32 = 1;
/// Goroutine id of load thread 0; thread N logs with `R_THREAD_BASE + N`.
/// Real ids vary from run to run (11, 12, 130, ...); this one is fixed.
const R_THREAD_BASE: u32 = 12;

// ---------------------------------------------------------------------------
// Go formatting helpers
// ---------------------------------------------------------------------------

/// Decimal digits (no trailing zeros) and decimal-point position of |x|,
/// either shortest round-trip (`prec == None`) or rounded to `prec`
/// significant digits (round half to even on the exact binary value, as Go).
fn decimal_digits(x: f64, prec: Option<usize>) -> (Vec<u8>, i32) {
    let x = x.abs();
    if x == 0.0 {
        return (Vec::new(), 0);
    }
    let s = match prec {
        None => format!("{x:e}"),
        Some(p) => format!("{:.*e}", p.max(1) - 1, x),
    };
    let (mant, exp) = s.split_once('e').unwrap_or((s.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let mut digits: Vec<u8> = mant.bytes().filter(u8::is_ascii_digit).collect();
    while digits.last() == Some(&b'0') {
        digits.pop();
    }
    if digits.is_empty() {
        return (Vec::new(), 0);
    }
    (digits, exp + 1)
}

fn fmt_e(out: &mut String, digits: &[u8], dp: i32, prec: usize) {
    out.push(char::from(*digits.first().unwrap_or(&b'0')));
    if prec > 0 {
        out.push('.');
        for i in 1..=prec {
            out.push(char::from(*digits.get(i).unwrap_or(&b'0')));
        }
    }
    let exp = if digits.is_empty() { 0 } else { dp - 1 };
    out.push('e');
    out.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        out.push('0');
    }
    let _ = write!(out, "{e}");
}

fn fmt_f(out: &mut String, digits: &[u8], dp: i32, prec: usize) {
    if dp > 0 {
        for i in 0..dp as usize {
            out.push(char::from(*digits.get(i).unwrap_or(&b'0')));
        }
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i64 {
            let j = i64::from(dp) + i - 1;
            let c = if j >= 0 { digits.get(j as usize) } else { None };
            out.push(char::from(*c.unwrap_or(&b'0')));
        }
    }
}

fn go_special(x: f64) -> Option<String> {
    if x.is_nan() {
        Some("NaN".into())
    } else if x.is_infinite() {
        Some(if x > 0.0 { "+Inf" } else { "-Inf" }.into())
    } else {
        None
    }
}

/// Go's `%g` (and `%v`) for a float64 when `prec` is `None`; `%.<prec>g`
/// otherwise. Go's `%g` differs from Rust's formatting: shortest digits,
/// `%e` form when the exponent is < -4 or >= the precision (6 for the
/// shortest form), two-digit exponents (`6.854e-05`), no trailing zeros.
pub fn go_g(x: f64, prec: Option<usize>) -> String {
    if let Some(s) = go_special(x) {
        return s;
    }
    let (digits, dp) = decimal_digits(x, prec);
    let nd = digits.len() as i32;
    let mut out = String::new();
    if x.is_sign_negative() && x != 0.0 {
        out.push('-');
    }
    let shortest = prec.is_none();
    let mut p = match prec {
        None => nd,
        Some(0) => 1,
        Some(p) => p as i32,
    };
    let mut eprec = p;
    if eprec > nd && nd >= dp {
        eprec = nd;
    }
    if shortest {
        eprec = 6;
    }
    let exp = dp - 1;
    if exp < -4 || exp >= eprec {
        if p > nd {
            p = nd;
        }
        fmt_e(&mut out, &digits, dp, (p - 1).max(0) as usize);
    } else {
        if p > dp {
            p = nd;
        }
        fmt_f(&mut out, &digits, dp, (p - dp).max(0) as usize);
    }
    out
}

/// Go's `%.<prec>f`.
pub fn go_f(x: f64, prec: usize) -> String {
    go_special(x).unwrap_or_else(|| format!("{x:.prec$}"))
}

/// Go's `time.Duration.String()` for a duration in nanoseconds:
/// `0s`, `812ns`, `812.3µs`, `59.8524ms`, `1.234567891s`, `1m0s`, `1h2m3.5s`.
pub fn go_duration(ns: i64) -> String {
    fn frac(buf: &mut Vec<u8>, mut v: u64, prec: u32) -> u64 {
        // Writes (backwards) the fraction of v / 10^prec, dropping trailing zeros.
        let mut print = false;
        for _ in 0..prec {
            let digit = (v % 10) as u8;
            print = print || digit != 0;
            if print {
                buf.push(b'0' + digit);
            }
            v /= 10;
        }
        if print {
            buf.push(b'.');
        }
        v
    }
    fn int(buf: &mut Vec<u8>, mut v: u64) {
        if v == 0 {
            buf.push(b'0');
        }
        while v > 0 {
            buf.push(b'0' + (v % 10) as u8);
            v /= 10;
        }
    }
    if ns == 0 {
        return "0s".into();
    }
    let neg = ns < 0;
    let mut u = ns.unsigned_abs();
    // Built reversed, then flipped.
    let mut rev: Vec<u8> = Vec::with_capacity(32);
    let mut suffix = "";
    if u < 1_000_000_000 {
        let prec = if u < 1_000 {
            suffix = "ns";
            0
        } else if u < 1_000_000 {
            suffix = "µs";
            3
        } else {
            suffix = "ms";
            6
        };
        u = frac(&mut rev, u, prec);
        int(&mut rev, u);
    } else {
        rev.push(b's');
        u = frac(&mut rev, u, 9);
        int(&mut rev, u % 60);
        u /= 60;
        if u > 0 {
            rev.push(b'm');
            int(&mut rev, u % 60);
            u /= 60;
            if u > 0 {
                rev.push(b'h');
                int(&mut rev, u);
            }
        }
    }
    if neg {
        rev.push(b'-');
    }
    rev.reverse();
    let mut s = String::from_utf8(rev).unwrap_or_default();
    s.push_str(suffix);
    s
}

/// Go's `time.Duration.Seconds()`.
fn go_seconds(ns: i64) -> f64 {
    let sec = ns / 1_000_000_000;
    let nsec = ns % 1_000_000_000;
    sec as f64 + nsec as f64 / 1e9
}

/// Seconds (as the simulation measures them) to whole nanoseconds.
fn to_ns(s: f64) -> i64 {
    (s * 1e9).round() as i64
}

// ---------------------------------------------------------------------------
// stats.go: Counter and Histogram
// ---------------------------------------------------------------------------

/// fortio's `stats.Counter`: count, min, max, sum and sum of squares.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Counter {
    pub count: i64,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub sum_of_squares: f64,
}

impl Counter {
    pub fn record(&mut self, v: f64) {
        let first = self.count == 0;
        self.count += 1;
        if first {
            self.min = v;
            self.max = v;
        } else if v < self.min {
            self.min = v;
        } else if v > self.max {
            self.max = v;
        }
        self.sum += v;
        self.sum_of_squares += v * v;
    }

    pub fn avg(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        self.sum / self.count as f64
    }

    pub fn std_dev(&self) -> f64 {
        if self.count == 0 {
            return 0.0;
        }
        let n = self.count as f64;
        let sigma = (self.sum_of_squares - self.sum * self.sum / n) / n;
        if sigma < 0.0 {
            return 0.0;
        }
        sigma.sqrt()
    }

    /// `Counter.Print`: `msg : count N avg %.8g +/- %.4g min %g max %g sum %.9g`.
    pub fn line(&self, msg: &str) -> String {
        counter_line(
            msg,
            self.count,
            self.avg(),
            self.std_dev(),
            self.min,
            self.max,
            self.sum,
        )
    }

    /// `Counter.Transfer`: merge `src` into `self` (fortio merges the
    /// per-thread counters in thread order; float sums depend on it).
    pub fn transfer(&mut self, src: &Counter) {
        if src.count == 0 {
            return;
        }
        if self.count == 0 {
            *self = src.clone();
            return;
        }
        self.count += src.count;
        if src.min < self.min {
            self.min = src.min;
        }
        if src.max > self.max {
            self.max = src.max;
        }
        self.sum += src.sum;
        self.sum_of_squares += src.sum_of_squares;
    }
}

fn counter_line(msg: &str, count: i64, avg: f64, sd: f64, min: f64, max: f64, sum: f64) -> String {
    format!(
        "{msg} : count {count} avg {} +/- {} min {} max {} sum {}\n",
        go_g(avg, Some(8)),
        go_g(sd, Some(4)),
        go_g(min, None),
        go_g(max, None),
        go_g(sum, Some(9)),
    )
}

/// Bucket upper bounds of fortio's histogram, before `× divider + offset`.
/// Intervals are `]previous, bound]`; one extra bucket holds `> 100000`.
pub const BUCKET_BOUNDS: [i32; 56] = [
    0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, // step 1
    12, 14, 16, 18, 20, // step 2
    25, 30, 35, 40, 45, 50, // step 5
    60, 70, 80, 90, 100, // step 10
    120, 140, 160, 180, 200, // step 20
    250, 300, 350, 400, 450, 500, // step 50
    600, 700, 800, 900, 1000, // step 100
    2000, 3000, 4000, 5000, 7500, 10000, //
    20000, 30000, 40000, 50000, 75000, 100000,
];
const NUM_BUCKETS: usize = BUCKET_BOUNDS.len() + 1;

/// fortio's `stats.Histogram`: a [`Counter`] plus counts in fixed buckets.
#[derive(Clone, Debug, PartialEq)]
pub struct Histogram {
    pub counter: Counter,
    pub offset: f64,
    pub divider: f64,
    pub buckets: [i32; NUM_BUCKETS],
}

/// One exported bucket: `[start, end]`, cumulative percent and count.
#[derive(Clone, Debug, PartialEq)]
pub struct Bucket {
    pub start: f64,
    pub end: f64,
    pub percent: f64,
    pub count: i64,
}

/// `stats.HistogramData`: the exported histogram plus requested percentiles.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct HistogramData {
    pub count: i64,
    pub min: f64,
    pub max: f64,
    pub sum: f64,
    pub avg: f64,
    pub std_dev: f64,
    pub data: Vec<Bucket>,
    pub percentiles: Vec<(f64, f64)>,
}

impl Histogram {
    /// `NewHistogram(offset, divider)`; fortio uses offset 0 and divider
    /// `-r` (0.001 by default) for latencies.
    pub fn new(offset: f64, divider: f64) -> Self {
        Self {
            counter: Counter::default(),
            offset,
            divider,
            buckets: [0; NUM_BUCKETS],
        }
    }

    pub fn record(&mut self, v: f64) {
        self.counter.record(v);
        let scaled = (v - self.offset) / self.divider;
        let idx = if scaled <= f64::from(BUCKET_BOUNDS[0]) {
            0
        } else if scaled > f64::from(BUCKET_BOUNDS[BUCKET_BOUNDS.len() - 1]) {
            NUM_BUCKETS - 1
        } else {
            // Intervals are open on the left: a value exactly on a bound
            // belongs to the bucket that ends there (fortio's epsilon trick).
            let mut sv = scaled as i64;
            if scaled - (sv as f64) < 1e-12 {
                sv -= 1;
            }
            BUCKET_BOUNDS
                .iter()
                .position(|&b| i64::from(b) > sv)
                .unwrap_or(NUM_BUCKETS - 1)
                .max(1)
        };
        self.buckets[idx] += 1;
    }

    /// `Histogram.Transfer` for histograms with the same offset and divider.
    pub fn transfer(&mut self, src: &Histogram) {
        if src.counter.count == 0 {
            return;
        }
        for (d, s) in self.buckets.iter_mut().zip(src.buckets.iter()) {
            *d += *s;
        }
        self.counter.transfer(&src.counter);
    }

    /// `Histogram.Export`: the non-empty buckets, first starting at min and
    /// last ending at max.
    pub fn export(&self) -> HistogramData {
        let c = &self.counter;
        let mut res = HistogramData {
            count: c.count,
            min: c.min,
            max: c.max,
            sum: c.sum,
            avg: c.avg(),
            std_dev: c.std_dev(),
            ..HistogramData::default()
        };
        let Some(last) = self.buckets.iter().rposition(|&n| n > 0) else {
            return res;
        };
        let mut prev = BUCKET_BOUNDS[0];
        let mut total: i64 = 0;
        for (i, &n) in self.buckets.iter().enumerate().take(last + 1) {
            if n == 0 {
                if i < BUCKET_BOUNDS.len() {
                    prev = BUCKET_BOUNDS[i];
                }
                continue;
            }
            total += i64::from(n);
            let start = if res.data.is_empty() {
                c.min
            } else {
                self.divider * f64::from(prev) + self.offset
            };
            let percent = 100.0 * total as f64 / c.count as f64;
            let end = if i < BUCKET_BOUNDS.len() {
                prev = BUCKET_BOUNDS[i];
                self.divider * f64::from(prev) + self.offset
            } else {
                c.max
            };
            res.data.push(Bucket {
                start,
                end,
                percent,
                count: i64::from(n),
            });
        }
        if let Some(b) = res.data.last_mut() {
            b.end = c.max;
        }
        res
    }
}

impl HistogramData {
    /// `CalcPercentile`: linear interpolation inside the bucket; at or below
    /// `100/count` it is min, at or above 100 it is max.
    pub fn percentile(&self, p: f64) -> f64 {
        if self.data.is_empty() {
            return 0.0;
        }
        if p >= 100.0 {
            return self.max;
        }
        let mut pp = 100.0 / self.count as f64;
        if p <= pp {
            return self.min;
        }
        for b in &self.data {
            if p <= b.percent {
                return b.start + (p - pp) / (b.percent - pp) * (b.end - b.start);
            }
            pp = b.percent;
        }
        self.max
    }

    /// `CalcPercentiles` (no-op without data).
    pub fn with_percentiles(mut self, ps: &[f64]) -> Self {
        if self.count == 0 {
            return self;
        }
        for &p in ps {
            let v = self.percentile(p);
            self.percentiles.push((p, v));
        }
        self
    }

    /// `HistogramData.Print`: counter line, `# range, mid point, percentile,
    /// count` rows and `# target` lines, or `msg : no data`.
    pub fn print(&self, msg: &str) -> String {
        if self.data.is_empty() {
            return format!("{msg} : no data\n");
        }
        let mut out = counter_line(
            msg,
            self.count,
            self.avg,
            self.std_dev,
            self.min,
            self.max,
            self.sum,
        );
        out.push_str("# range, mid point, percentile, count\n");
        for (i, b) in self.data.iter().enumerate() {
            let sep = if i == 0 { ">=" } else { ">" };
            let _ = writeln!(
                out,
                "{sep} {} <= {} , {} , {}, {}",
                go_g(b.start, Some(6)),
                go_g(b.end, Some(6)),
                go_g((b.start + b.end) / 2.0, Some(6)),
                go_f(b.percent, 2),
                b.count
            );
        }
        out.push_str(&self.target_lines());
        out
    }

    /// The `# target 50% 0.0605556` lines.
    pub fn target_lines(&self) -> String {
        let mut out = String::new();
        for (p, v) in &self.percentiles {
            let _ = writeln!(out, "# target {}% {}", go_g(*p, None), go_g(*v, Some(6)));
        }
        out
    }
}

// ---------------------------------------------------------------------------
// Arguments
// ---------------------------------------------------------------------------

/// fortio.org/log levels, in order.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Debug = 0,
    Verbose = 1,
    Info = 2,
    Warning = 3,
    Error = 4,
    Critical = 5,
    Fatal = 6,
}

impl LogLevel {
    pub fn name(self) -> &'static str {
        match self {
            Self::Debug => "Debug",
            Self::Verbose => "Verbose",
            Self::Info => "Info",
            Self::Warning => "Warning",
            Self::Error => "Error",
            Self::Critical => "Critical",
            Self::Fatal => "Fatal",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        let all = [
            Self::Debug,
            Self::Verbose,
            Self::Info,
            Self::Warning,
            Self::Error,
            Self::Critical,
            Self::Fatal,
        ];
        let s = s.trim().to_ascii_lowercase();
        all.into_iter().find(|l| l.name().to_ascii_lowercase() == s)
    }

    /// `log.Log(l)`: whether a message at level `msg` is emitted.
    fn logs(self, msg: LogLevel) -> bool {
        msg >= self
    }
}

/// Parsed `fortio load` arguments (raw flag values; see [`LoadArgs::threads`]
/// and [`plan`] for the normalized ones).
#[derive(Clone, Debug, PartialEq)]
pub struct LoadArgs {
    /// `-c` as given (default 4; 0 means 4, negative means 1).
    pub connections: i64,
    /// `-qps` (default 8); 0 or negative means max speed.
    pub qps: f64,
    /// `-n`: exact number of calls (0 = unset, then `-t` applies).
    pub exactly: i64,
    /// `-t` in nanoseconds (default 5s).
    pub duration_ns: i64,
    /// `-H` headers, `(name, value)` as given (value untrimmed).
    pub headers: Vec<(String, String)>,
    /// Level requested with `-loglevel`, if any.
    pub loglevel_flag: Option<LogLevel>,
    /// `-quiet`: level Error, set without logging the change.
    pub quiet: bool,
    /// `-p` (default 50,75,90,99,99.9).
    pub percentiles: Vec<f64>,
    /// `-r` histogram resolution in seconds (default 0.001).
    pub resolution: f64,
    /// `-json -`: JSON result on stdout.
    pub json_stdout: bool,
    /// `-timeout` per request in nanoseconds (default 3s).
    pub timeout_ns: i64,
    pub allow_initial_errors: bool,
    /// `-X`.
    pub method: Option<String>,
    /// `-payload` (makes the request a POST unless `-X` says otherwise).
    pub payload: Option<String>,
    pub uniform: bool,
    pub jitter: bool,
    /// `-a`: save the JSON result to a file named after labels and date.
    pub auto_save: bool,
    /// `-log-errors` (default true): log non-2xx/418 codes as warnings.
    pub log_errors: bool,
    /// `-labels` (default: short URL and hostname).
    pub labels: Option<String>,
    /// The single positional argument.
    pub url: String,
}

impl Default for LoadArgs {
    fn default() -> Self {
        Self {
            connections: 4,
            qps: 8.0,
            exactly: 0,
            duration_ns: 5_000_000_000,
            headers: Vec::new(),
            loglevel_flag: None,
            quiet: false,
            percentiles: vec![50.0, 75.0, 90.0, 99.0, 99.9],
            resolution: 0.001,
            json_stdout: false,
            timeout_ns: 3_000_000_000,
            allow_initial_errors: false,
            method: None,
            payload: None,
            uniform: false,
            jitter: false,
            auto_save: false,
            log_errors: true,
            labels: None,
            url: String::new(),
        }
    }
}

impl LoadArgs {
    /// Effective log level after `-loglevel` and `-quiet`. `Fatal` is
    /// refused by fortio's logger (level stays Info).
    pub fn log_level(&self) -> LogLevel {
        if self.quiet {
            return LogLevel::Error;
        }
        match self.loglevel_flag {
            Some(LogLevel::Fatal) | None => LogLevel::Info,
            Some(l) => l,
        }
    }

    /// Threads before fortio's qps-mode lowering (`Normalize`).
    pub fn threads(&self) -> u32 {
        match self.connections {
            0 => 4,
            c if c < 1 => 1,
            c => u32::try_from(c).unwrap_or(u32::MAX),
        }
    }

    /// `-qps` as the runner sees it: `None` for max speed.
    pub fn target_qps(&self) -> Option<f64> {
        (self.qps > 0.0).then_some(self.qps)
    }

    /// HTTP method fortio sends.
    pub fn http_method(&self) -> &str {
        match (&self.method, &self.payload) {
            (Some(m), _) => m,
            (None, Some(p)) if !p.is_empty() => "POST",
            _ => "GET",
        }
    }

    /// The URL fortio uses (it prefixes `http://` when the scheme is missing).
    pub fn normalized_url(&self) -> String {
        if url_has_scheme(&self.url) {
            self.url.clone()
        } else {
            format!("http://{}", self.url)
        }
    }

    /// Warmup calls (one per thread) happen unless `-n` is given.
    pub fn has_warmup(&self) -> bool {
        self.exactly <= 0
    }
}

fn url_has_scheme(url: &str) -> bool {
    let head: String = url.chars().take(8).collect::<String>();
    let lc = if url.len() > 8 {
        head.to_ascii_lowercase()
    } else {
        head
    };
    lc.starts_with("https://") || lc.starts_with("http://")
}

#[derive(Clone, Copy, PartialEq)]
enum FlagKind {
    Bool,
    Value,
}

/// Flags meshsim understands.
const SUPPORTED_FLAGS: &[(&str, FlagKind)] = &[
    ("c", FlagKind::Value),
    ("qps", FlagKind::Value),
    ("n", FlagKind::Value),
    ("t", FlagKind::Value),
    ("H", FlagKind::Value),
    ("loglevel", FlagKind::Value),
    ("p", FlagKind::Value),
    ("r", FlagKind::Value),
    ("json", FlagKind::Value),
    ("quiet", FlagKind::Bool),
    ("timeout", FlagKind::Value),
    ("allow-initial-errors", FlagKind::Bool),
    ("X", FlagKind::Value),
    ("payload", FlagKind::Value),
    ("uniform", FlagKind::Bool),
    ("jitter", FlagKind::Bool),
    ("a", FlagKind::Bool),
    ("log-errors", FlagKind::Bool),
    ("labels", FlagKind::Value),
];

/// Real fortio flags meshsim does not simulate: refused with a clear message
/// rather than Go's "not defined", which would be wrong.
const UNSIMULATED_FLAGS: &[(&str, FlagKind)] = &[
    ("keepalive", FlagKind::Bool),
    ("halfclose", FlagKind::Bool),
    ("stdclient", FlagKind::Bool),
    ("http1.0", FlagKind::Bool),
    ("h2", FlagKind::Bool),
    ("k", FlagKind::Bool),
    ("https-insecure", FlagKind::Bool),
    ("resolve", FlagKind::Value),
    ("L", FlagKind::Bool),
    ("user", FlagKind::Value),
    ("content-type", FlagKind::Value),
    ("payload-size", FlagKind::Value),
    ("payload-file", FlagKind::Value),
    ("unix-socket", FlagKind::Value),
    ("cert", FlagKind::Value),
    ("key", FlagKind::Value),
    ("cacert", FlagKind::Value),
    ("sequential-warmup", FlagKind::Bool),
    ("no-reresolve", FlagKind::Bool),
    ("httpbufferkb", FlagKind::Value),
    ("httpccch", FlagKind::Bool),
    ("offset", FlagKind::Value),
    ("gomaxprocs", FlagKind::Value),
    ("profile", FlagKind::Value),
    ("grpc", FlagKind::Bool),
    ("abort-on", FlagKind::Value),
    ("nocatchup", FlagKind::Bool),
    ("access-log-file", FlagKind::Value),
    ("access-log-format", FlagKind::Value),
    ("calc-qps", FlagKind::Bool),
    ("curl", FlagKind::Bool),
    ("connection-reuse", FlagKind::Value),
    ("s", FlagKind::Value),
    ("ping", FlagKind::Bool),
    ("health", FlagKind::Bool),
    ("healthservice", FlagKind::Value),
    ("data-dir", FlagKind::Value),
    ("runid", FlagKind::Value),
];

fn parse_go_bool(s: &str) -> Option<bool> {
    match s {
        "1" | "t" | "T" | "TRUE" | "true" | "True" => Some(true),
        "0" | "f" | "F" | "FALSE" | "false" | "False" => Some(false),
        _ => None,
    }
}

/// `strconv.ParseInt(s, 0, 64)`; the error is the text Go's flag package
/// prints after the colon (`parse error` / `value out of range`).
fn parse_go_int(s: &str) -> Result<i64, &'static str> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    if body.is_empty() {
        return Err("parse error");
    }
    let lower = body.to_ascii_lowercase();
    let (radix, digits, prefixed) = if let Some(r) = lower.strip_prefix("0x") {
        (16, r.to_string(), true)
    } else if let Some(r) = lower.strip_prefix("0b") {
        (2, r.to_string(), true)
    } else if let Some(r) = lower.strip_prefix("0o") {
        (8, r.to_string(), true)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (8, lower[1..].to_string(), true)
    } else {
        (10, lower.clone(), false)
    };
    let digits = if prefixed {
        digits.replace('_', "")
    } else {
        digits
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return Err("parse error");
    }
    let mag = u64::from_str_radix(&digits, radix).map_err(|_| "value out of range")?;
    if neg {
        if mag > i64::MAX as u64 + 1 {
            return Err("value out of range");
        }
        Ok((mag as i128).wrapping_neg() as i64)
    } else {
        i64::try_from(mag).map_err(|_| "value out of range")
    }
}

fn parse_go_float(s: &str) -> Result<f64, String> {
    s.parse::<f64>().map_err(|_| {
        format!(
            "strconv.ParseFloat: parsing {}: invalid syntax",
            crate::go::quote(s)
        )
    })
}

/// Go's `time.ParseDuration`, in nanoseconds.
pub fn parse_go_duration(orig: &str) -> Result<i64, String> {
    let err = || format!("time: invalid duration {}", crate::go::quote(orig));
    let mut s = orig;
    let mut neg = false;
    if let Some(c) = s.chars().next()
        && (c == '-' || c == '+')
    {
        neg = c == '-';
        s = &s[1..];
    }
    if s == "0" {
        return Ok(0);
    }
    if s.is_empty() {
        return Err(err());
    }
    let mut total: u128 = 0;
    while !s.is_empty() {
        let b = s.as_bytes();
        if !(b[0] == b'.' || b[0].is_ascii_digit()) {
            return Err(err());
        }
        let int_len = b.iter().take_while(|c| c.is_ascii_digit()).count();
        let int_part: u128 = if int_len > 0 {
            s[..int_len].parse().map_err(|_| err())?
        } else {
            0
        };
        s = &s[int_len..];
        let mut frac = String::new();
        if s.starts_with('.') {
            s = &s[1..];
            let fl = s.bytes().take_while(u8::is_ascii_digit).count();
            frac = s[..fl].to_string();
            s = &s[fl..];
        }
        if int_len == 0 && frac.is_empty() {
            return Err(err());
        }
        let unit_len = s
            .char_indices()
            .find(|(_, c)| *c == '.' || c.is_ascii_digit())
            .map_or(s.len(), |(i, _)| i);
        let unit: u128 = match &s[..unit_len] {
            "ns" => 1,
            "us" | "µs" | "μs" => 1_000,
            "ms" => 1_000_000,
            "s" => 1_000_000_000,
            "m" => 60_000_000_000,
            "h" => 3_600_000_000_000,
            "" => {
                return Err(format!(
                    "time: missing unit in duration {}",
                    crate::go::quote(orig)
                ));
            }
            u => {
                return Err(format!(
                    "time: unknown unit {} in duration {}",
                    crate::go::quote(u),
                    crate::go::quote(orig)
                ));
            }
        };
        s = &s[unit_len..];
        let mut v = int_part.checked_mul(unit).ok_or_else(err)?;
        if !frac.is_empty() {
            let f: f64 = format!("0.{frac}").parse().map_err(|_| err())?;
            v += (f * unit as f64) as u128;
        }
        total += v;
        if total > 1u128 << 63 {
            return Err(err());
        }
    }
    if neg {
        return Ok((total as i128).wrapping_neg() as i64);
    }
    i64::try_from(total).map_err(|_| err())
}

/// `stats.ParsePercentiles`.
fn parse_percentiles(s: &str) -> Result<Vec<f64>, String> {
    let mut res = Vec::new();
    for p in s.split(',') {
        let p = p.trim();
        if p.is_empty() {
            continue;
        }
        let v = parse_go_float(p)?;
        if v <= 0.0 || v >= 100.0 {
            return Err(format!(
                "percentile {} must be > 0 and < 100",
                go_g(v, None)
            ));
        }
        res.push(v);
    }
    if res.is_empty() {
        return Err("list can't be empty".into());
    }
    Ok(res)
}

/// Parses what follows `fortio load`, the way Go's `flag` package and
/// fortio's `cli` do: `-flag value`, `-flag=value`, `--flag`, boolean flags
/// without value, flags stop at the first positional argument or `--`.
/// Errors are the one-line message fortio prints (before its usage text).
pub fn parse_load(args: &[String]) -> Result<LoadArgs, String> {
    let mut a = LoadArgs::default();
    let mut percentiles_flag = "50,75,90,99,99.9".to_string();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        if arg.len() < 2 || !arg.starts_with('-') {
            break;
        }
        let mut name = &arg[1..];
        if name.starts_with('-') {
            name = &name[1..];
            if name.is_empty() {
                i += 1; // "--" ends the flags
                break;
            }
        }
        if name.is_empty() || name.starts_with('-') || name.starts_with('=') {
            return Err(format!("bad flag syntax: {arg}"));
        }
        i += 1;
        let (name, inline) = match name.split_once('=') {
            Some((n, v)) => (n, Some(v.to_string())),
            None => (name, None),
        };
        let kind = if let Some((_, k)) = SUPPORTED_FLAGS.iter().find(|(n, _)| *n == name) {
            *k
        } else if UNSIMULATED_FLAGS.iter().any(|(n, _)| *n == name) {
            return Err(format!(
                "fortio flag -{name} is not simulated by meshsim (supported: -c -qps -n -t -H \
                 -loglevel -p -r -json - -quiet -timeout -allow-initial-errors -X -payload \
                 -uniform -jitter -a -log-errors -labels)"
            ));
        } else if name == "h" || name == "help" {
            return Err("flag: help requested".into());
        } else {
            return Err(format!("flag provided but not defined: -{name}"));
        };
        if kind == FlagKind::Bool {
            let v = match &inline {
                None => true,
                Some(s) => parse_go_bool(s).ok_or_else(|| {
                    format!(
                        "invalid boolean value {} for -{name}: parse error",
                        crate::go::quote(s)
                    )
                })?,
            };
            match name {
                "quiet" => a.quiet = v,
                "allow-initial-errors" => a.allow_initial_errors = v,
                "uniform" => a.uniform = v,
                "jitter" => a.jitter = v,
                "a" => a.auto_save = v,
                "log-errors" => a.log_errors = v,
                _ => {}
            }
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => {
                let Some(v) = args.get(i) else {
                    return Err(format!("flag needs an argument: -{name}"));
                };
                i += 1;
                v.clone()
            }
        };
        let invalid = |why: &str| {
            format!(
                "invalid value {} for flag -{name}: {why}",
                crate::go::quote(&value)
            )
        };
        match name {
            "c" => a.connections = parse_go_int(&value).map_err(invalid)?,
            "n" => a.exactly = parse_go_int(&value).map_err(invalid)?,
            "qps" => a.qps = value.parse().map_err(|_| invalid("parse error"))?,
            "r" => a.resolution = value.parse().map_err(|_| invalid("parse error"))?,
            "t" => a.duration_ns = parse_go_duration(&value).map_err(|_| invalid("parse error"))?,
            "timeout" => {
                a.timeout_ns = parse_go_duration(&value).map_err(|_| invalid("parse error"))?;
            }
            "H" => {
                let Some((k, v)) = value.split_once(':') else {
                    return Err(invalid(&format!(
                        "invalid extra header '{value}', expecting Key: Value"
                    )));
                };
                a.headers.push((k.trim().to_string(), v.to_string()));
            }
            "loglevel" => {
                let lvl = LogLevel::parse(&value).ok_or_else(|| {
                    invalid("should be one of [Debug Verbose Info Warning Error Critical Fatal]")
                })?;
                a.loglevel_flag = Some(lvl);
            }
            "p" => percentiles_flag = value,
            "json" => {
                if value != "-" {
                    return Err(format!(
                        "-json {value}: meshsim cannot write files, use -json - for stdout"
                    ));
                }
                a.json_stdout = true;
            }
            "X" => a.method = Some(value),
            "payload" => a.payload = Some(value),
            "labels" => a.labels = Some(value),
            _ => {}
        }
    }
    let rest = &args[i.min(args.len())..];
    if rest.len() > 1 {
        return Err(format!("At most 1 argument expected, got {}", rest.len()));
    }
    a.percentiles = parse_percentiles(&percentiles_flag)
        .map_err(|e| format!("Unable to extract percentiles from -p: {e}"))?;
    let Some(url) = rest.first() else {
        return Err("Error: fortio load/curl needs a URL or destination".into());
    };
    a.url = url.clone();
    if a.exactly <= 0 && a.duration_ns <= 0 {
        return Err(format!(
            "-t {}: fortio would run until interrupted (^C), which a simulation cannot do; \
             give -t a positive duration or -n a number of calls",
            go_duration(a.duration_ns)
        ));
    }
    if a.resolution <= 0.0 {
        a.resolution = 0.001; // periodic.Normalize
    }
    Ok(a)
}

// ---------------------------------------------------------------------------
// Plan: how fortio spreads the calls over threads and paces them
// ---------------------------------------------------------------------------

/// How fortio will run the calls (periodic.go `runQPSSetup` /
/// `runMaxQPSSetup` / `runOne`).
#[derive(Clone, Debug, PartialEq)]
pub struct LoadPlan {
    /// Threads actually used (qps mode may lower `-c`).
    pub threads: u32,
    /// Calls each thread makes, when fixed in advance (`-n`, or qps mode).
    /// Thread 0 also takes the leftover of `-n / threads`.
    /// `None` in max-speed `-t` mode: every thread keeps starting calls while
    /// its call start time is not after `duration_ns`.
    pub calls_per_thread: Option<Vec<u64>>,
    /// `numCalls / threads` as fortio prints it.
    pub per_thread: u64,
    /// `-n` leftover (`n - per_thread * threads`).
    pub left_over: u64,
    /// Per-thread target qps (`qps / threads`), `None` at max speed.
    pub per_thread_qps: Option<f64>,
    /// `-t` in nanoseconds (still set with `-n`; qps pacing uses it).
    pub duration_ns: i64,
    /// Start delay of each thread (`-uniform`), nanoseconds from run start.
    pub thread_start_ns: Vec<i64>,
    /// One warmup call per thread before the run (not with `-n`).
    pub warmup: bool,
    /// Warnings fortio logs while planning (`periodic.go` line, message).
    pub warnings: Vec<(u32, String)>,
}

/// Splits `-n` calls over threads at max speed as fortio does: `n / c` per
/// thread and the remainder to thread 0 (`for exactly 20 calls (10 per
/// thread + 0)`). Each thread makes at least one call even when `n < c`
/// (fortio's loop calls before it checks the count).
pub fn split_exactly(n: u64, threads: u32) -> (u64, u64, Vec<u64>) {
    let t = u64::from(threads.max(1));
    let per = n / t;
    let left = n % t;
    let calls = (0..t)
        .map(|i| (per + if i == 0 { left } else { 0 }).max(1))
        .collect();
    (per, left, calls)
}

/// Computes the [`LoadPlan`] for parsed arguments.
pub fn plan(a: &LoadArgs) -> LoadPlan {
    let mut threads = a.threads();
    let mut warnings = Vec::new();
    let exactly = u64::try_from(a.exactly.max(0)).unwrap_or(0);
    let mut p = LoadPlan {
        threads,
        calls_per_thread: None,
        per_thread: 0,
        left_over: 0,
        per_thread_qps: None,
        duration_ns: a.duration_ns,
        thread_start_ns: Vec::new(),
        warmup: a.has_warmup(),
        warnings: Vec::new(),
    };
    match a.target_qps() {
        None => {
            if exactly > 0 {
                let (per, left, calls) = split_exactly(exactly, threads);
                p.per_thread = per;
                p.left_over = left;
                p.calls_per_thread = Some(calls);
            }
        }
        Some(qps) => {
            let mut num_calls: i64 = if exactly > 0 {
                a.exactly
            } else {
                (qps * go_seconds(a.duration_ns)) as i64
            };
            if num_calls < 2 {
                warnings.push((
                    440,
                    "Increasing the number of calls to the minimum of 2 with 1 thread. total duration will increase"
                        .to_string(),
                ));
                num_calls = 2;
                threads = 1;
            }
            if 2 * i64::from(threads) > num_calls {
                let new_n = u32::try_from(num_calls / 2).unwrap_or(1);
                warnings.push((
                    446,
                    format!(
                        "Lowering number of threads - total call {num_calls} -> lowering from {threads} to {new_n} threads"
                    ),
                ));
                threads = new_n;
            }
            let per = num_calls / i64::from(threads);
            let total = per * i64::from(threads);
            let left = if exactly > 0 { a.exactly - total } else { 0 };
            let per = u64::try_from(per).unwrap_or(0);
            let left = u64::try_from(left).unwrap_or(0);
            p.per_thread = per;
            p.left_over = left;
            p.calls_per_thread = Some(
                (0..threads)
                    .map(|t| per + if t == 0 { left } else { 0 })
                    .collect(),
            );
            p.per_thread_qps = Some(qps / f64::from(threads));
        }
    }
    p.threads = threads;
    p.warnings = warnings;
    p.thread_start_ns = (0..threads)
        .map(|id| match p.per_thread_qps {
            Some(tq) if a.uniform => {
                let delay = 1.0 / tq;
                let s = delay - (delay / f64::from(threads) * f64::from(threads - id));
                (s * 1e9) as i64
            }
            _ => 0,
        })
        .collect();
    p
}

impl LoadPlan {
    /// Earliest start (ns from run start) of call `i` (0-based) of `thread`
    /// in qps mode: `(i + i/(numCalls-1)) / perThreadQPS` after the thread's
    /// start; fortio starts late (no sleep) when the previous call ran over.
    /// `None` at max speed (calls go back to back).
    pub fn target_start_ns(&self, thread: u32, i: u64) -> Option<i64> {
        let tq = self.per_thread_qps?;
        let base = *self.thread_start_ns.get(thread as usize)?;
        if i == 0 {
            return Some(base);
        }
        let n = *self.calls_per_thread.as_ref()?.get(thread as usize)?;
        let i_f = i as f64;
        let target = if self.duration_ns > 0 {
            (i_f + i_f / (n as f64 - 1.0)) / tq
        } else {
            i_f / tq
        };
        Some(base + (target * 1e9) as i64)
    }

    /// The `Starting at ...` line (without newline), as `periodic.go` prints
    /// it for this plan.
    pub fn starting_line(&self, a: &LoadArgs, gomaxprocs: u32) -> String {
        let t = self.threads;
        match self.per_thread_qps {
            None if a.exactly > 0 => format!(
                "Starting at max qps with {t} thread(s) [gomax {gomaxprocs}] for exactly {} calls ({} per thread + {})",
                a.exactly, self.per_thread, self.left_over
            ),
            None => format!(
                "Starting at max qps with {t} thread(s) [gomax {gomaxprocs}] for {}",
                go_duration(a.duration_ns)
            ),
            Some(_) if a.exactly > 0 => format!(
                "Starting at {} qps with {t} thread(s) [gomax {gomaxprocs}] : exactly {}, {} calls each (total {} + {})",
                go_g(a.qps, None),
                a.exactly,
                self.per_thread,
                self.per_thread * u64::from(t),
                self.left_over
            ),
            Some(_) => format!(
                "Starting at {} qps with {t} thread(s) [gomax {gomaxprocs}] for {} : {} calls each (total {})",
                go_g(a.qps, None),
                go_duration(a.duration_ns),
                self.per_thread,
                self.per_thread * u64::from(t)
            ),
        }
    }
}

// ---------------------------------------------------------------------------
// Sockets
// ---------------------------------------------------------------------------

/// fortio's `codeIsOK`: 2xx, and 418 (teapot).
pub fn code_is_ok(code: i32) -> bool {
    (200..=299).contains(&code) || code == 418
}

/// Whether fortio's fast HTTP client opens a new TCP connection for the
/// next call of a thread, given the code of that thread's previous call.
///
/// fortio (fhttp/http_client.go, `FastClient.readResponse`) keeps the
/// socket only when keep-alive holds **and** `codeIsOK(code)`; after any
/// non-2xx/418 response it stops reading at the status line and closes the
/// socket, and after a socket error (code -1) there is no socket either.
/// The next call then `connect()`s again, and every connect attempt counts
/// in "Sockets used" (`connectStats.Count`) and re-resolves the host (one
/// more count in "IP addresses distribution"). Warmup calls use the same
/// per-thread client, so they count too. This is why a circuit-breaking run
/// with many 503s reports far more sockets than `-c`.
pub fn opens_new_socket(previous_code: Option<i32>) -> bool {
    previous_code.is_none_or(|c| !code_is_ok(c))
}

/// Sockets one thread uses for calls with these codes, in order (warmup
/// first): one for the first call plus one after each non-OK call that is
/// followed by another call.
pub fn sockets_after(codes: &[i32]) -> u32 {
    socket_indices(codes).last().map_or(0, |s| s + 1)
}

/// The socket index (0-based, per thread) each call uses.
pub fn socket_indices(codes: &[i32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(codes.len());
    let mut socket: Option<u32> = None;
    let mut prev: Option<i32> = None;
    for &c in codes {
        let s = if opens_new_socket(prev) {
            socket.map_or(0, |s| s + 1)
        } else {
            socket.unwrap_or(0)
        };
        socket = Some(s);
        out.push(s);
        prev = Some(c);
    }
    out
}

/// The sizes fortio records for a response: header size is 0 for non-OK
/// codes (fortio stops parsing at the status line), total is header + body
/// bytes (fortio's "Response Body/Total Sizes" counts everything read).
pub fn fortio_sizes(c: &CallResult) -> (u64, u64) {
    if c.code < 0 {
        return (0, 0);
    }
    let header = if code_is_ok(c.code) { c.header_size } else { 0 };
    (header, c.header_size + c.body_size)
}

// ---------------------------------------------------------------------------
// Run and report
// ---------------------------------------------------------------------------

/// One call as the simulation made it.
#[derive(Clone, Debug, PartialEq)]
pub struct CallResult {
    /// Start, seconds since the run start (warmup calls: negative or 0).
    pub start_s: f64,
    pub duration_s: f64,
    /// HTTP status, -1 for a socket error.
    pub code: i32,
    /// Bytes of status line and headers, including the blank line.
    pub header_size: u64,
    /// Bytes of body.
    pub body_size: u64,
    pub thread: u32,
    /// Socket index within the thread (see [`socket_indices`]).
    pub socket: u32,
}

/// One TCP connection fortio opened (a "socket used").
#[derive(Clone, Debug, PartialEq)]
pub struct Connection {
    pub thread: u32,
    /// `ip:port` it resolved to.
    pub ip: String,
    /// Connect time in seconds.
    pub connect_s: f64,
}

/// Everything [`report`] needs about a finished run.
#[derive(Clone, Debug, PartialEq)]
pub struct LoadRun {
    pub args: LoadArgs,
    pub version: String,
    /// Long version for the startup log line.
    pub version_long: String,
    /// URL as given on the command line.
    pub url: String,
    /// Measured calls (warmup excluded).
    pub results: Vec<CallResult>,
    /// Warmup calls, one per thread (empty with `-n`).
    pub warmup: Vec<CallResult>,
    /// From run start to the end of the last call (fortio's `Ended after`).
    pub actual_duration_s: f64,
    /// Total sockets (see [`sockets_after`]).
    pub sockets_used: u32,
    /// `ip:port` and count, any order (sorted like fortio when printed).
    pub ip_distribution: Vec<(String, u32)>,
    /// Every connection opened, in order per thread.
    pub connections: Vec<Connection>,
    pub gomaxprocs: u32,
    /// Unix time of the run start (virtual), for log timestamps.
    pub start_unix_s: f64,
    /// Pod hostname (default labels, `-a` file name).
    pub hostname: String,
}

impl LoadRun {
    /// Builds a run, deriving connections, `sockets_used` and
    /// `ip_distribution` from the codes per thread the way fortio counts
    /// them, every connection to `ip` taking `connect_s`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        args: LoadArgs,
        results: Vec<CallResult>,
        warmup: Vec<CallResult>,
        ip: &str,
        connect_s: f64,
        actual_duration_s: f64,
        gomaxprocs: u32,
        start_unix_s: f64,
    ) -> Self {
        let threads = plan(&args).threads;
        let mut connections = Vec::new();
        for t in 0..threads {
            let codes: Vec<i32> = ordered(&warmup, t)
                .into_iter()
                .chain(ordered(&results, t))
                .map(|c| c.code)
                .collect();
            for _ in 0..sockets_after(&codes) {
                connections.push(Connection {
                    thread: t,
                    ip: ip.to_string(),
                    connect_s,
                });
            }
        }
        let sockets_used = u32::try_from(connections.len()).unwrap_or(u32::MAX);
        let url = args.url.clone();
        Self {
            args,
            version: FORTIO_VERSION.into(),
            version_long: FORTIO_VERSION_LONG.into(),
            url,
            results,
            warmup,
            actual_duration_s,
            sockets_used,
            ip_distribution: if sockets_used > 0 {
                vec![(ip.to_string(), sockets_used)]
            } else {
                Vec::new()
            },
            connections,
            gomaxprocs,
            start_unix_s,
            hostname: "fortio-deploy".into(),
        }
    }

    /// Process exit status: 1 when fortio aborts on a warmup error.
    pub fn exit_code(&self) -> i32 {
        i32::from(self.warmup_abort().is_some())
    }

    fn warmup_abort(&self) -> Option<&CallResult> {
        if self.args.allow_initial_errors {
            return None;
        }
        self.warmup
            .iter()
            .filter(|c| !code_is_ok(c.code))
            .min_by_key(|c| (to_ns(c.start_s + c.duration_s), c.thread))
    }
}

/// Calls of one thread in start order.
fn ordered(calls: &[CallResult], thread: u32) -> Vec<&CallResult> {
    let mut v: Vec<&CallResult> = calls.iter().filter(|c| c.thread == thread).collect();
    v.sort_by_key(|c| to_ns(c.start_s));
    v
}

#[derive(Clone)]
enum Attr {
    Int(i64),
    Float(f64),
    Str(String),
}

struct Logger {
    level: LogLevel,
    start_us: i64,
}

impl Logger {
    /// One fortio.org/log JSON line at `t_ns` from run start.
    #[allow(clippy::too_many_arguments)]
    fn line(
        &self,
        t_ns: i64,
        lvl: LogLevel,
        r: u32,
        file: &str,
        line: u32,
        msg: &str,
        attrs: &[(&str, Attr)],
    ) -> Option<String> {
        if !self.level.logs(lvl) {
            return None;
        }
        let us = self.start_us + t_ns.div_euclid(1000);
        let level = match lvl {
            LogLevel::Debug => "dbug",
            LogLevel::Verbose => "trace",
            LogLevel::Info => "info",
            LogLevel::Warning => "warn",
            LogLevel::Error => "err",
            LogLevel::Critical => "crit",
            LogLevel::Fatal => "fatal",
        };
        let mut s = format!(
            "{{\"ts\":{}.{:06},\"level\":\"{level}\",\"r\":{r},\"file\":\"{file}\",\"line\":{line},\"msg\":{}",
            us.div_euclid(1_000_000),
            us.rem_euclid(1_000_000),
            crate::go::quote(msg)
        );
        for (k, v) in attrs {
            let v = match v {
                Attr::Int(i) => i.to_string(),
                Attr::Float(f) => go_g(*f, None),
                Attr::Str(st) => crate::go::quote(st),
            };
            let _ = write!(s, ",{}:{v}", crate::go::quote(k));
        }
        s.push_str("}\n");
        Some(s)
    }
}

fn non_ok_log(log: &Logger, c: &CallResult, r: u32) -> Option<String> {
    if c.code < 0 {
        return None;
    }
    log.line(
        to_ns(c.start_s + c.duration_s),
        LogLevel::Warning,
        r,
        "http_client.go",
        1151,
        "Non ok http code",
        &[
            ("code", Attr::Int(i64::from(c.code))),
            ("status", Attr::Str(format!("HTTP/1.1 {:03}", c.code))),
            ("thread", Attr::Int(i64::from(c.thread))),
            ("run", Attr::Int(0)),
        ],
    )
}

/// Renders what `fortio load` prints for this run: `(stdout, stderr)`.
/// The human-readable report and all logs go to stderr; stdout carries only
/// the `-json -` result. Honours `-loglevel`/`-quiet` the way fortio does
/// (Warning hides info logs, Error also hides the histograms and most
/// summary lines).
pub fn report(run: &LoadRun) -> (String, String) {
    let a = &run.args;
    let level = a.log_level();
    let log = Logger {
        level,
        start_us: (run.start_unix_s * 1e6).round() as i64,
    };
    let p = plan(a);
    let mut err = String::new();
    let mut out = String::new();
    let first_ns = run
        .warmup
        .iter()
        .map(|c| to_ns(c.start_s))
        .min()
        .unwrap_or(0)
        .min(0);

    // Flag parsing: the level change is logged while the level is still Info.
    if let Some(req) = a.loglevel_flag {
        let info = Logger {
            level: LogLevel::Info,
            start_us: log.start_us,
        };
        let msg = if req == LogLevel::Fatal {
            info.line(
                first_ns,
                LogLevel::Error,
                R_MAIN,
                "logger.go",
                298,
                "SetLogLevel called with level 6 higher than Critical!",
                &[],
            )
        } else if req != LogLevel::Info {
            info.line(
                first_ns,
                LogLevel::Info,
                R_MAIN,
                "logger.go",
                298,
                &format!(
                    "Log level is now {} {} (was 2 Info)",
                    req as i32,
                    req.name()
                ),
                &[],
            )
        } else {
            None
        };
        err.extend(msg);
    }
    err.extend(log.line(
        first_ns,
        LogLevel::Info,
        R_MAIN,
        "scli.go",
        122,
        "Starting",
        &[
            ("command", Attr::Str("Φορτίο".into())),
            ("version", Attr::Str(run.version_long.clone())),
            ("go-max-procs", Attr::Int(i64::from(run.gomaxprocs))),
        ],
    ));
    let procs = run.gomaxprocs;
    let _ = write!(
        err,
        "Fortio {} running at {} queries per second, {procs}->{procs} procs",
        run.version,
        go_g(a.qps, None)
    );
    if a.exactly > 0 {
        let _ = writeln!(err, ", for {} calls: {}", a.exactly, run.url);
    } else {
        let _ = writeln!(err, ", for {}: {}", go_duration(a.duration_ns), run.url);
    }
    let runner_qps = a.target_qps().unwrap_or(-1.0);
    err.extend(log.line(
        first_ns,
        LogLevel::Info,
        R_MAIN,
        "httprunner.go",
        121,
        "Starting http test",
        &[
            ("run", Attr::Int(0)),
            ("url", Attr::Str(run.url.clone())),
            ("threads", Attr::Int(a.connections)),
            ("qps", Attr::Str(go_f(runner_qps, 1))),
            ("warmup", Attr::Str("parallel".into())),
            ("conn-reuse", Attr::Str(String::new())),
        ],
    ));
    let url = if url_has_scheme(&run.url) {
        run.url.clone()
    } else {
        err.extend(log.line(
            first_ns,
            LogLevel::Warning,
            R_MAIN,
            "http_client.go",
            172,
            &format!("Assuming http:// on missing scheme for '{}'", run.url),
            &[],
        ));
        format!("http://{}", run.url)
    };

    // Warmup (parallel, one per thread).
    let mut warm: Vec<&CallResult> = run.warmup.iter().collect();
    warm.sort_by_key(|c| (to_ns(c.start_s + c.duration_s), c.thread));
    for c in &warm {
        if a.log_errors && !code_is_ok(c.code) {
            err.extend(non_ok_log(&log, c, R_THREAD_BASE + p.threads + c.thread));
        }
    }
    if let Some(c) = run.warmup_abort() {
        let (_, total) = fortio_sizes(c);
        let _ = writeln!(
            err,
            "Aborting because of error {} for {url} ({total} bytes)",
            c.code
        );
        return (out, err);
    }

    // periodic.Run
    for (line, msg) in &p.warnings {
        err.extend(log.line(0, LogLevel::Warning, R_MAIN, "periodic.go", *line, msg, &[]));
    }
    if level.logs(LogLevel::Warning) {
        let _ = writeln!(err, "{}", p.starting_line(a, procs));
    }
    let res = &run.results;
    let mut events: Vec<(i64, u32, String)> = Vec::new();
    let mut func = Histogram::new(0.0, a.resolution);
    let mut errs = Histogram::new(0.0, a.resolution);
    let mut sleep = Histogram::new(-0.001, 0.001);
    let mut sizes = Histogram::new(0.0, 100.0);
    let mut header_sizes = Histogram::new(0.0, 5.0);
    let mut codes: BTreeMap<i32, i64> = BTreeMap::new();
    for t in 0..p.threads {
        let calls = ordered(res, t);
        let mut f = Histogram::new(0.0, a.resolution);
        let mut e = Histogram::new(0.0, a.resolution);
        let mut s = Histogram::new(-0.001, 0.001);
        let mut sz = Histogram::new(0.0, 100.0);
        let mut hs = Histogram::new(0.0, 5.0);
        let r = R_THREAD_BASE + t;
        let base = p.thread_start_ns.get(t as usize).copied().unwrap_or(0);
        let planned = p
            .calls_per_thread
            .as_ref()
            .and_then(|v| v.get(t as usize).copied());
        for (k, c) in calls.iter().enumerate() {
            let latency = go_seconds(to_ns(c.duration_s));
            f.record(latency);
            if !code_is_ok(c.code) {
                e.record(latency);
                if a.log_errors
                    && let Some(l) = non_ok_log(&log, c, r)
                {
                    events.push((to_ns(c.start_s + c.duration_s), 0, l));
                }
            }
            *codes.entry(c.code).or_default() += 1;
            let (h, total) = fortio_sizes(c);
            sz.record(total as f64);
            hs.record(h as f64);
            let next = k as u64 + 1;
            let last_planned = planned.is_some_and(|n| next >= n);
            if !last_planned && let Some(target) = p.target_start_ns(t, next) {
                let end = to_ns(c.start_s + c.duration_s);
                s.record(go_seconds(target - end));
            }
        }
        if let (Some(n), Some(last)) = (planned, calls.last())
            && p.per_thread_qps.is_some()
            && a.exactly <= 0
            && (calls.len() as u64) < n
        {
            events.push((
                to_ns(last.start_s + last.duration_s),
                1,
                log.line(
                    to_ns(last.start_s + last.duration_s),
                    LogLevel::Warning,
                    r,
                    "periodic.go",
                    782,
                    &format!(
                        "T{t:03} warning only did {} out of {n} calls before reaching {}",
                        calls.len(),
                        go_duration(a.duration_ns)
                    ),
                    &[],
                )
                .unwrap_or_default(),
            ));
        }
        let end = calls.last().map_or(0, |c| to_ns(c.start_s + c.duration_s));
        let elapsed = end - base;
        let tq = calls.len() as f64 / go_seconds(elapsed);
        if let Some(l) = log.line(
            end,
            LogLevel::Info,
            r,
            "periodic.go",
            851,
            &format!(
                "T{t:03} ended after {} : {} calls. qps={}",
                go_duration(elapsed),
                calls.len(),
                go_g(tq, None)
            ),
            &[],
        ) {
            events.push((end, 2, l));
        }
        func.transfer(&f);
        errs.transfer(&e);
        sleep.transfer(&s);
        sizes.transfer(&sz);
        header_sizes.transfer(&hs);
    }
    events.sort_by_key(|(t, o, _)| (*t, *o));
    for (_, _, l) in events {
        err.push_str(&l);
    }
    let elapsed = to_ns(run.actual_duration_s);
    let actual_qps = func.counter.count as f64 / go_seconds(elapsed);
    if level.logs(LogLevel::Warning) {
        let _ = writeln!(
            err,
            "Ended after {} : {} calls. qps={}",
            go_duration(elapsed),
            func.counter.count,
            go_g(actual_qps, Some(5))
        );
        err.extend(log.line(
            elapsed,
            LogLevel::Info,
            R_MAIN,
            "periodic.go",
            581,
            "Run ended",
            &[
                ("run", Attr::Int(0)),
                ("elapsed", Attr::Str(go_duration(elapsed))),
                ("calls", Attr::Int(func.counter.count)),
                ("qps", Attr::Float(actual_qps)),
            ],
        ));
    }
    if p.per_thread_qps.is_some() {
        let negative = 100.0 * f64::from(sleep.buckets[0]) / sleep.counter.count as f64;
        if negative > 5.0 {
            err.push_str(
                &sleep
                    .export()
                    .with_percentiles(&[50.0])
                    .print("Aggregated Sleep Time"),
            );
            let _ = writeln!(
                err,
                "WARNING {}% of sleep were falling behind",
                go_f(negative, 2)
            );
        } else if level.logs(LogLevel::Verbose) {
            err.push_str(
                &sleep
                    .export()
                    .with_percentiles(&[50.0])
                    .print("Aggregated Sleep Time"),
            );
        } else if level.logs(LogLevel::Warning) {
            err.push_str(&sleep.counter.line("Sleep times"));
        }
    }
    let dur = func.export().with_percentiles(&a.percentiles);
    let err_data = errs.export().with_percentiles(&a.percentiles);
    if level.logs(LogLevel::Warning) {
        err.push_str(&dur.print("Aggregated Function Time"));
        err.push_str(&err_data.print("Error cases"));
    } else {
        err.push_str(&func.counter.line("Aggregated Function Time"));
        err.push_str(&dur.target_lines());
        err.push_str(&errs.counter.line("Error cases"));
    }

    // httprunner.go: sockets, IPs, codes, sizes.
    err.push_str("# Socket and IP used for each connection:\n");
    let mut conn_total = Histogram::new(0.0, a.resolution);
    for t in 0..p.threads {
        let mut h = Histogram::new(0.0, a.resolution);
        let mut ips: BTreeMap<&str, u32> = BTreeMap::new();
        for c in run.connections.iter().filter(|c| c.thread == t) {
            h.record(go_seconds(to_ns(c.connect_s)));
            *ips.entry(c.ip.as_str()).or_default() += 1;
        }
        let resolved = if ips.len() == 1 {
            ips.keys()
                .next()
                .map(|s| (*s).to_string())
                .unwrap_or_default()
        } else {
            let parts: Vec<String> = ips.iter().map(|(ip, n)| format!("{ip} ({n})")).collect();
            format!("[{}]", parts.join(", "))
        };
        let _ = write!(
            err,
            "[{t}] {:3} socket used, resolved to {resolved}",
            h.counter.count
        );
        err.push_str(&h.counter.line(", connection timing"));
        conn_total.transfer(&h);
    }
    if level.logs(LogLevel::Info) {
        err.push_str(
            &conn_total
                .export()
                .with_percentiles(&a.percentiles)
                .print("Connection time histogram (s)"),
        );
    } else if level.logs(LogLevel::Warning) {
        err.push_str(&conn_total.counter.line("Connection time (s)"));
    }
    let _ = writeln!(
        err,
        "Sockets used: {} (for perfect keepalive, would be {})",
        run.sockets_used,
        a.threads()
    );
    let _ = writeln!(
        err,
        "Uniform: {}, Jitter: {}, Catchup allowed: true",
        a.uniform, a.jitter
    );
    err.push_str("IP addresses distribution:\n");
    let mut ips = run.ip_distribution.clone();
    ips.sort_by(|x, y| y.1.cmp(&x.1).then_with(|| x.0.cmp(&y.0)));
    for (ip, n) in &ips {
        let _ = writeln!(err, "{ip}: {n}");
    }
    let total = func.counter.count as f64;
    for (code, n) in &codes {
        let _ = writeln!(
            err,
            "Code {code:3} : {n} ({} %)",
            go_f(100.0 * *n as f64 / total, 1)
        );
    }
    if level.logs(LogLevel::Verbose) {
        err.push_str(
            &header_sizes
                .export()
                .print("Response Header Sizes Histogram"),
        );
        err.push_str(&sizes.export().print("Response Body/Total Sizes Histogram"));
    } else if level.logs(LogLevel::Warning) {
        err.push_str(&header_sizes.counter.line("Response Header Sizes"));
        err.push_str(&sizes.counter.line("Response Body/Total Sizes"));
    }
    let warmup = if a.exactly > 0 { 0 } else { a.connections };
    let _ = writeln!(
        err,
        "All done {} calls (plus {warmup} warmup) {} ms avg, {} qps",
        func.counter.count,
        go_f(1000.0 * dur.avg, 3),
        go_f(actual_qps, 1)
    );
    if a.json_stdout || a.auto_save {
        let json = json_result(run, &p, &dur, &err_data, elapsed, actual_qps, &codes, &url);
        let n = json.len() + 1;
        if a.json_stdout {
            out.push_str(&json);
            out.push('\n');
            let _ = writeln!(err, "Successfully wrote {n} bytes of Json data to stdout");
        } else {
            let _ = writeln!(
                err,
                "Successfully wrote {n} bytes of Json data to {}.json",
                run_id(run)
            );
        }
    }
    (out, err)
}

fn labels(run: &LoadRun) -> String {
    if let Some(l) = &run.args.labels {
        return l.clone();
    }
    let short = ["https://", "http://"]
        .iter()
        .find_map(|p| run.url.strip_prefix(p))
        .unwrap_or(&run.url);
    let host = run.hostname.split('.').next().unwrap_or("");
    format!("{short} , {host}")
}

/// `RunnerOptions.GenID`: `YYYY-MM-DD-HHMMSS_labels` (UTC).
fn run_id(run: &LoadRun) -> String {
    let c = crate::sim::time::Civil::from_unix(run.start_unix_s.max(0.0).floor() as u64);
    let mut id = format!(
        "{}-{:02}-{:02}-{:02}{:02}{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    let l = labels(run);
    if !l.is_empty() {
        let mut last = '_';
        id.push(last);
        for c in l.chars() {
            if c.is_ascii_alphanumeric() {
                last = c;
            } else if last == '_' {
                continue;
            } else {
                last = '_';
            }
            id.push(last);
        }
        if last == '_' {
            id.pop();
        }
    }
    id.truncate(96);
    id
}

fn hist_json(h: &HistogramData) -> serde_json::Value {
    let data: Vec<serde_json::Value> = h
        .data
        .iter()
        .map(|b| serde_json::json!({"Start": b.start, "End": b.end, "Percent": b.percent, "Count": b.count}))
        .collect();
    let mut v = serde_json::json!({
        "Count": h.count, "Min": h.min, "Max": h.max, "Sum": h.sum,
        "Avg": h.avg, "StdDev": h.std_dev, "Data": data,
    });
    if !h.percentiles.is_empty() {
        let ps: Vec<serde_json::Value> = h
            .percentiles
            .iter()
            .map(|(p, v)| serde_json::json!({"Percentile": p, "Value": v}))
            .collect();
        v["Percentiles"] = serde_json::Value::Array(ps);
    }
    v
}

/// The `-json` result: the main fields of fortio's `HTTPRunnerResults`, in
/// its field order (not byte-exact: Go's JSON float format and the many
/// `HTTPOptions` fields are not reproduced).
#[allow(clippy::too_many_arguments)]
fn json_result(
    run: &LoadRun,
    p: &LoadPlan,
    dur: &HistogramData,
    errs: &HistogramData,
    elapsed_ns: i64,
    actual_qps: f64,
    codes: &BTreeMap<i32, i64>,
    url: &str,
) -> String {
    let a = &run.args;
    let ret: serde_json::Map<String, serde_json::Value> = codes
        .iter()
        .map(|(k, v)| (k.to_string(), (*v).into()))
        .collect();
    let ips: serde_json::Map<String, serde_json::Value> = run
        .ip_distribution
        .iter()
        .map(|(k, v)| (k.clone(), (*v).into()))
        .collect();
    let mut per_thread = vec![0i64; p.threads as usize];
    for c in &run.connections {
        if let Some(n) = per_thread.get_mut(c.thread as usize) {
            *n += 1;
        }
    }
    let v = serde_json::json!({
        "RunType": "HTTP",
        "Labels": labels(run),
        "RequestedQPS": a.target_qps().map_or("max".to_string(), |q| go_g(q, Some(9))),
        "RequestedDuration": if a.exactly > 0 { format!("exactly {} calls", a.exactly) } else { go_duration(a.duration_ns) },
        "ActualQPS": actual_qps,
        "ActualDuration": elapsed_ns,
        "NumThreads": p.threads,
        "Version": run.version,
        "DurationHistogram": hist_json(dur),
        "ErrorsDurationHistogram": hist_json(errs),
        "Exactly": a.exactly,
        "Jitter": a.jitter,
        "Uniform": a.uniform,
        "NoCatchUp": false,
        "RunID": 0,
        "AccessLoggerInfo": "",
        "ID": run_id(run),
        "RetCodes": ret,
        "IPCountMap": ips,
        "URL": url,
        "Sockets": per_thread,
        "SocketCount": run.sockets_used,
        "AbortOn": 0,
    });
    serde_json::to_string_pretty(&v).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(s: &str) -> Vec<String> {
        s.split_whitespace().map(String::from).collect()
    }

    fn hist(offset: f64, divider: f64, values: &[f64]) -> Histogram {
        let mut h = Histogram::new(offset, divider);
        for &v in values {
            h.record(v);
        }
        h
    }

    #[test]
    fn go_g_shortest() {
        for (x, want) in [
            (0.0, "0"),
            (23.1, "23.1"),
            (50.0, "50"),
            (99.9, "99.9"),
            (-977.0, "-977"),
            (0.052549016, "0.052549016"),
            (0.000487853, "0.000487853"),
            (0.00001, "1e-05"),
            (0.0001, "0.0001"),
            (100000.0, "100000"),
            (1e6, "1e+06"),
            (742.8129688310479, "742.8129688310479"),
            (f64::NAN, "NaN"),
            (f64::INFINITY, "+Inf"),
        ] {
            assert_eq!(go_g(x, None), want, "{x}");
        }
    }

    #[test]
    fn go_g_precision() {
        for (x, p, want) in [
            (0.06, 6, "0.06"),
            (0.0605555555, 6, "0.0605556"),
            (0.0, 6, "0"),
            (0.0, 4, "0"),
            (6.854e-05, 4, "6.854e-05"),
            (2.38045e-05, 4, "2.38e-05"),
            (100000.0, 6, "100000"),
            (1e6, 6, "1e+06"),
            (1234567.0, 6, "1.23457e+06"),
            (70710.678, 4, "7.071e+04"),
            (577.35, 4, "577.4"),
            (187.8357, 5, "187.84"),
            (1408.739595, 5, "1408.7"),
            (422.2222, 5, "422.22"),
            (0.0053360199333, 8, "0.0053360199"),
            (0.160080597, 9, "0.160080597"),
            (2.42350566, 9, "2.42350566"),
            (-0.5, 6, "-0.5"),
            (0.0995, 1, "0.1"),
        ] {
            assert_eq!(go_g(x, Some(p)), want, "{x} %.{p}g");
        }
        assert_eq!(go_f(63.333333, 1), "63.3");
        assert_eq!(go_f(47.5, 2), "47.50");
        assert_eq!(go_f(-1.0, 1), "-1.0");
    }

    #[test]
    fn go_duration_string() {
        for (ns, want) in [
            (0, "0s"),
            (1, "1ns"),
            (812, "812ns"),
            (812_300, "812.3µs"),
            (1_000, "1µs"),
            (59_852_400, "59.8524ms"),
            (106_474_079, "106.474079ms"),
            (1_000_000_000, "1s"),
            (1_234_567_891, "1.234567891s"),
            (5_000_000_000, "5s"),
            (60_000_000_000, "1m0s"),
            (600_024_321_553, "10m0.024321553s"),
            (3_723_500_000_000, "1h2m3.5s"),
            (-1_500_000_000, "-1.5s"),
        ] {
            assert_eq!(go_duration(ns), want, "{ns}");
        }
    }

    #[test]
    fn parse_go_durations() {
        assert_eq!(parse_go_duration("5s"), Ok(5_000_000_000));
        assert_eq!(parse_go_duration("1m"), Ok(60_000_000_000));
        assert_eq!(parse_go_duration("100ms"), Ok(100_000_000));
        assert_eq!(parse_go_duration("1.5h"), Ok(5_400_000_000_000));
        assert_eq!(parse_go_duration("1m30s"), Ok(90_000_000_000));
        assert_eq!(parse_go_duration("2µs"), Ok(2_000));
        assert_eq!(parse_go_duration("0"), Ok(0));
        assert!(parse_go_duration("5").is_err());
        assert!(parse_go_duration("5x").is_err());
        assert!(parse_go_duration("").is_err());
    }

    // stats_test.go TestCounter (fortio 1.69.5): offset 22, divider 0.1.
    #[test]
    fn counter_and_histogram_like_stats_test_counter() {
        let mut h = Histogram::new(22.0, 0.1);
        assert_eq!(
            h.counter.line("test1c"),
            "test1c : count 0 avg 0 +/- 0 min 0 max 0 sum 0\n"
        );
        assert_eq!(
            h.export().with_percentiles(&[50.0]).print("test1h"),
            "test1h : no data\n"
        );
        h.record(23.1);
        assert_eq!(
            h.counter.line("test2"),
            "test2 : count 1 avg 23.1 +/- 0 min 23.1 max 23.1 sum 23.1\n"
        );
        h.record(22.9);
        assert_eq!(
            h.counter.line("test3"),
            "test3 : count 2 avg 23 +/- 0.1 min 22.9 max 23.1 sum 46\n"
        );
        h.record(23.1);
        h.record(22.9);
        assert_eq!(
            h.counter.line("test4"),
            "test4 : count 4 avg 23 +/- 0.1 min 22.9 max 23.1 sum 92\n"
        );
        h.record(1023.0);
        h.record(-977.0);
        assert_eq!(
            h.export().print("testLogH"),
            "testLogH : count 6 avg 23 +/- 577.4 min -977 max 1023 sum 138\n\
             # range, mid point, percentile, count\n\
             >= -977 <= 22 , -477.5 , 16.67, 1\n\
             > 22.8 <= 22.9 , 22.85 , 50.00, 2\n\
             > 23 <= 23.1 , 23.05 , 83.33, 2\n\
             > 1022 <= 1023 , 1022.5 , 100.00, 1\n"
        );
    }

    // stats_test.go TestHistogram.
    #[test]
    fn percentiles_like_stats_test_histogram() {
        let h = hist(0.0, 10.0, &[1.0, 251.0, 501.0, 751.0, 1001.0]);
        let e = h.export();
        assert_eq!(h.counter.avg(), 501.0);
        for (p, want) in [
            (-1.0, 1.0),
            (0.0, 1.0),
            (1.0, 1.0),
            (20.0, 1.0),
            (20.01, 250.025),
            (39.99, 299.975),
            (40.0, 300.0),
            (50.0, 550.0),
            (75.0, 775.0),
            (90.0, 1000.5),
            (99.0, 1000.95),
            (99.9, 1000.995),
            (100.0, 1001.0),
            (101.0, 1001.0),
        ] {
            assert_eq!(e.percentile(p), want, "p{p}");
        }
    }

    // stats_test.go TestPercentiles1 (rounded to 5 decimals like the Go test).
    #[test]
    fn percentiles_like_stats_test_percentiles1() {
        let e = hist(0.0, 10.0, &[10.0, 20.0, 30.0]).export();
        for (p, want) in [
            (33.33, 10.0),
            (33.34, 10.002),
            (50.0, 15.0),
            (66.66, 19.998),
            (66.67, 20.001),
            (75.0, 22.5),
            (99.0, 29.7),
            (99.9, 29.97),
        ] {
            let got = (e.percentile(p) * 100_000.0 + 0.5).floor() / 100_000.0;
            assert_eq!(got, want, "p{p}");
        }
    }

    // stats_test.go TestHistogramData.
    #[test]
    fn percentiles_like_stats_test_histogram_data() {
        let e = hist(
            0.0,
            1.0,
            &[-1.0, 0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 5.0],
        )
        .export()
        .with_percentiles(&[
            0.0, 1.0, 10.0, 25.0, 40.0, 50.0, 60.0, 70.0, 80.0, 90.0, 99.0, 100.0,
        ]);
        assert_eq!(e.avg, 1.9);
        let got: Vec<f64> = e.percentiles.iter().map(|(_, v)| *v).collect();
        assert_eq!(
            got,
            vec![
                -1.0, -1.0, -1.0, -0.5, 0.0, 1.0, 2.0, 3.0, 4.0, 4.5, 4.95, 5.0
            ]
        );
    }

    // stats_test.go TestHistogramLastBucket and TestHistogramNegativeNumbers.
    #[test]
    fn print_like_stats_test_last_bucket_and_negative() {
        let h = hist(
            -1.0,
            1.0,
            &[-1.0, 0.0, 1.0, 3.0, 10.0, 99999.0, 100000.0, 200000.0],
        );
        assert_eq!(
            h.export().with_percentiles(&[90.0]).print("testLastBucket"),
            "testLastBucket : count 8 avg 50001.5 +/- 7.071e+04 min -1 max 200000 sum 400012\n\
             # range, mid point, percentile, count\n\
             >= -1 <= -1 , -1 , 12.50, 1\n\
             > -1 <= 0 , -0.5 , 25.00, 1\n\
             > 0 <= 1 , 0.5 , 37.50, 1\n\
             > 2 <= 3 , 2.5 , 50.00, 1\n\
             > 9 <= 10 , 9.5 , 62.50, 1\n\
             > 74999 <= 99999 , 87499 , 75.00, 1\n\
             > 99999 <= 200000 , 150000 , 100.00, 2\n\
             # target 90% 160000\n"
        );
        let h = hist(-10.0, 1.0, &[-10.0, 10.0]);
        assert_eq!(
            h.export()
                .with_percentiles(&[1.0, 50.0, 75.0])
                .print("testHistogramWithNegativeNumbers"),
            "testHistogramWithNegativeNumbers : count 2 avg 0 +/- 10 min -10 max 10 sum 0\n\
             # range, mid point, percentile, count\n\
             >= -10 <= -10 , -10 , 50.00, 1\n\
             > 8 <= 10 , 9 , 100.00, 1\n\
             # target 1% -10\n\
             # target 50% -10\n\
             # target 75% 9\n"
        );
    }

    // Real fortio 1.60.3 output (Cilium circuit-breaking lab): one error case
    // of 0.001431811 s, and connection times merged thread by thread.
    #[test]
    fn matches_real_fortio_output() {
        let e = hist(0.0, 0.001, &[0.001431811])
            .export()
            .with_percentiles(&[50.0, 75.0, 90.0, 99.0, 99.9]);
        assert_eq!(
            e.print("Error cases"),
            "Error cases : count 1 avg 0.001431811 +/- 0 min 0.001431811 max 0.001431811 sum 0.001431811\n\
             # range, mid point, percentile, count\n\
             >= 0.00143181 <= 0.00143181 , 0.00143181 , 100.00, 1\n\
             # target 50% 0.00143181\n\
             # target 75% 0.00143181\n\
             # target 90% 0.00143181\n\
             # target 99% 0.00143181\n\
             # target 99.9% 0.00143181\n"
        );
        let t0 = hist(0.0, 0.001, &[0.000231171]);
        let t1 = hist(0.0, 0.001, &[0.000173872, 0.000221481]);
        assert_eq!(
            t1.counter.line(", connection timing"),
            ", connection timing : count 2 avg 0.0001976765 +/- 2.38e-05 min 0.000173872 max 0.000221481 sum 0.000395353\n"
        );
        let mut total = Histogram::new(0.0, 0.001);
        total.transfer(&t0);
        total.transfer(&t1);
        assert_eq!(
            total
                .export()
                .with_percentiles(&[50.0, 75.0, 90.0, 99.0, 99.9])
                .print("Connection time histogram (s)"),
            "Connection time histogram (s) : count 3 avg 0.00020884133 +/- 2.504e-05 min 0.000173872 max 0.000231171 sum 0.000626524\n\
             # range, mid point, percentile, count\n\
             >= 0.000173872 <= 0.000231171 , 0.000202522 , 100.00, 3\n\
             # target 50% 0.000188197\n\
             # target 75% 0.000209684\n\
             # target 90% 0.000222576\n\
             # target 99% 0.000230312\n\
             # target 99.9% 0.000231085\n"
        );
    }

    #[test]
    fn bucket_boundaries_are_left_open() {
        let h = hist(0.0, 0.001, &[0.001, 0.0010001, 0.012, 0.013, 2.0]);
        let e = h.export();
        let rows: Vec<(String, String, i64)> = e
            .data
            .iter()
            .map(|b| (go_g(b.start, Some(6)), go_g(b.end, Some(6)), b.count))
            .collect();
        assert_eq!(
            rows,
            vec![
                ("0.001".into(), "0.001".into(), 1),
                ("0.001".into(), "0.002".into(), 1),
                ("0.011".into(), "0.012".into(), 1),
                ("0.012".into(), "0.014".into(), 1),
                ("1".into(), "2".into(), 1),
            ]
        );
    }

    #[test]
    fn parse_defaults_and_values() {
        let a = parse_load(&args("http://httpbin:8000/get")).unwrap();
        assert_eq!(a.connections, 4);
        assert_eq!(a.qps, 8.0);
        assert_eq!(a.duration_ns, 5_000_000_000);
        assert_eq!(a.percentiles, vec![50.0, 75.0, 90.0, 99.0, 99.9]);
        assert_eq!(a.log_level(), LogLevel::Info);
        assert_eq!(a.url, "http://httpbin:8000/get");
        let a = parse_load(&args(
            "-c 3 --qps=0 -n 30 -loglevel warning -H X-A:1 -H Host:b -t=1m -p 50,99 -json - -quiet=false -X PUT http://h/",
        ))
        .unwrap();
        assert_eq!((a.connections, a.qps, a.exactly), (3, 0.0, 30));
        assert_eq!(a.loglevel_flag, Some(LogLevel::Warning));
        assert_eq!(
            a.headers,
            vec![("X-A".into(), "1".into()), ("Host".into(), "b".into())]
        );
        assert_eq!(a.duration_ns, 60_000_000_000);
        assert_eq!(a.percentiles, vec![50.0, 99.0]);
        assert!(a.json_stdout && !a.quiet);
        assert_eq!(a.http_method(), "PUT");
        let a = parse_load(&args("-payload x -quiet -loglevel Debug u")).unwrap();
        assert_eq!(a.http_method(), "POST");
        assert_eq!(a.log_level(), LogLevel::Error);
        // -t 0 is fine with -n (fortio then uses the 5s default).
        assert!(parse_load(&args("-t 0 -n 5 u")).is_ok());
    }

    #[test]
    fn parse_errors() {
        for (cmd, want) in [
            ("-foo u", "flag provided but not defined: -foo"),
            ("--foo=1 u", "flag provided but not defined: -foo"),
            ("-c", "flag needs an argument: -c"),
            ("-c abc u", "invalid value \"abc\" for flag -c: parse error"),
            ("-t 5x u", "invalid value \"5x\" for flag -t: parse error"),
            (
                "-quiet=maybe u",
                "invalid boolean value \"maybe\" for -quiet: parse error",
            ),
            ("---c 1 u", "bad flag syntax: ---c"),
            (
                "-loglevel loud u",
                "invalid value \"loud\" for flag -loglevel: should be one of [Debug Verbose Info Warning Error Critical Fatal]",
            ),
            (
                "-H nocolon u",
                "invalid value \"nocolon\" for flag -H: invalid extra header 'nocolon', expecting Key: Value",
            ),
            (
                "-p 50,100 u",
                "Unable to extract percentiles from -p: percentile 100 must be > 0 and < 100",
            ),
            (
                "-p x u",
                "Unable to extract percentiles from -p: strconv.ParseFloat: parsing \"x\": invalid syntax",
            ),
            ("-c 2", "Error: fortio load/curl needs a URL or destination"),
            ("u1 u2", "At most 1 argument expected, got 2"),
            ("u -c 2", "At most 1 argument expected, got 3"),
        ] {
            assert_eq!(parse_load(&args(cmd)), Err(want.to_string()), "{cmd}");
        }
        let e = parse_load(&args("-t 0 u")).unwrap_err();
        assert!(e.contains("until interrupted") && !e.contains('\n'), "{e}");
        let e = parse_load(&args("-json out.json u")).unwrap_err();
        assert!(e.contains("-json -"), "{e}");
        let e = parse_load(&args("-keepalive=false u")).unwrap_err();
        assert!(e.contains("not simulated"), "{e}");
    }

    #[test]
    fn plans() {
        let p = plan(&parse_load(&args("-c 2 -qps 0 -n 20 u")).unwrap());
        assert_eq!(p.calls_per_thread, Some(vec![10, 10]));
        assert_eq!(
            p.starting_line(&parse_load(&args("-c 2 -qps 0 -n 20 u")).unwrap(), 2),
            "Starting at max qps with 2 thread(s) [gomax 2] for exactly 20 calls (10 per thread + 0)"
        );
        let a = parse_load(&args("-c 3 -qps 0 -n 50 u")).unwrap();
        let p = plan(&a);
        assert_eq!(p.calls_per_thread, Some(vec![18, 16, 16]));
        assert_eq!(
            p.starting_line(&a, 8),
            "Starting at max qps with 3 thread(s) [gomax 8] for exactly 50 calls (16 per thread + 2)"
        );
        // n < c at max speed: every thread still makes one call.
        assert_eq!(
            plan(&parse_load(&args("-c 4 -qps 0 -n 2 u")).unwrap()).calls_per_thread,
            Some(vec![2, 1, 1, 1])
        );
        let a = parse_load(&args("u")).unwrap();
        let p = plan(&a);
        assert_eq!(
            p.starting_line(&a, 8),
            "Starting at 8 qps with 4 thread(s) [gomax 8] for 5s : 10 calls each (total 40)"
        );
        assert_eq!(p.per_thread_qps, Some(2.0));
        // (i + i/(n-1)) / perThreadQPS: call 9 of 10 at 5s.
        assert_eq!(p.target_start_ns(0, 9), Some(5_000_000_000));
        assert_eq!(p.target_start_ns(1, 1), Some(555_555_555));
        let a = parse_load(&args("-qps 10 -n 7 -c 4 u")).unwrap();
        let p = plan(&a);
        assert_eq!(p.threads, 3);
        assert_eq!(
            p.warnings[0].1,
            "Lowering number of threads - total call 7 -> lowering from 4 to 3 threads"
        );
        assert_eq!(
            p.starting_line(&a, 2),
            "Starting at 10 qps with 3 thread(s) [gomax 2] : exactly 7, 2 calls each (total 6 + 1)"
        );
        let a = parse_load(&args("-qps 4 -c 4 -uniform u")).unwrap();
        assert_eq!(
            plan(&a).thread_start_ns,
            vec![0, 250_000_000, 500_000_000, 750_000_000]
        );
    }

    #[test]
    fn sockets() {
        assert_eq!(sockets_after(&[]), 0);
        assert_eq!(sockets_after(&[200, 200, 200]), 1);
        assert_eq!(
            socket_indices(&[200, 503, 200, 200, 503, 503]),
            vec![0, 0, 1, 1, 1, 2]
        );
        assert_eq!(sockets_after(&[200, 503, 200, 200, 503, 503]), 3);
        assert_eq!(sockets_after(&[-1, -1, 418, 200]), 3);
        assert!(opens_new_socket(None));
        assert!(!opens_new_socket(Some(204)));
        assert!(opens_new_socket(Some(404)));
    }

    fn call(thread: u32, start_ms: f64, dur_ms: f64, code: i32) -> CallResult {
        let (h, b) = if code == 200 { (230, 450) } else { (160, 81) };
        CallResult {
            start_s: start_ms / 1000.0,
            duration_s: dur_ms / 1000.0,
            code,
            header_size: h,
            body_size: b,
            thread,
            socket: 0,
        }
    }

    fn small_run(cmd: &str) -> LoadRun {
        let a = parse_load(&args(cmd)).unwrap();
        let results = vec![
            call(0, 0.0, 5.5, 200),
            call(1, 0.0, 0.8, 503),
            call(1, 0.8, 6.2, 200),
            call(0, 5.5, 2.25, 200),
            call(0, 7.75, 1.5, 503),
            call(1, 7.0, 3.0, 200),
        ];
        LoadRun::new(
            a,
            results,
            Vec::new(),
            "10.96.1.2:8000",
            0.00025,
            0.01,
            2,
            1_750_000_000.0,
        )
    }

    #[test]
    fn golden_report_warning_level() {
        let run = small_run("-c 2 -qps 0 -n 6 -loglevel Warning http://httpbin:8000/get");
        assert_eq!(run.sockets_used, 3);
        let (out, err) = report(&run);
        assert_eq!(out, "");
        let want = r#"{"ts":1750000000.000000,"level":"info","r":1,"file":"logger.go","line":298,"msg":"Log level is now 3 Warning (was 2 Info)"}
Fortio 1.69.5 running at 0 queries per second, 2->2 procs, for 6 calls: http://httpbin:8000/get
Starting at max qps with 2 thread(s) [gomax 2] for exactly 6 calls (3 per thread + 0)
{"ts":1750000000.000800,"level":"warn","r":13,"file":"http_client.go","line":1151,"msg":"Non ok http code","code":503,"status":"HTTP/1.1 503","thread":1,"run":0}
{"ts":1750000000.009250,"level":"warn","r":12,"file":"http_client.go","line":1151,"msg":"Non ok http code","code":503,"status":"HTTP/1.1 503","thread":0,"run":0}
Ended after 10ms : 6 calls. qps=600
Aggregated Function Time : count 6 avg 0.0032083333 +/- 0.001995 min 0.0008 max 0.0062 sum 0.01925
# range, mid point, percentile, count
>= 0.0008 <= 0.001 , 0.0009 , 16.67, 1
> 0.001 <= 0.002 , 0.0015 , 33.33, 1
> 0.002 <= 0.003 , 0.0025 , 66.67, 2
> 0.005 <= 0.006 , 0.0055 , 83.33, 1
> 0.006 <= 0.0062 , 0.0061 , 100.00, 1
# target 50% 0.0025
# target 75% 0.0055
# target 90% 0.00608
# target 99% 0.006188
# target 99.9% 0.0061988
Error cases : count 2 avg 0.00115 +/- 0.00035 min 0.0008 max 0.0015 sum 0.0023
# range, mid point, percentile, count
>= 0.0008 <= 0.001 , 0.0009 , 50.00, 1
> 0.001 <= 0.0015 , 0.00125 , 100.00, 1
# target 50% 0.0008
# target 75% 0.00125
# target 90% 0.0014
# target 99% 0.00149
# target 99.9% 0.001499
# Socket and IP used for each connection:
[0]   1 socket used, resolved to 10.96.1.2:8000, connection timing : count 1 avg 0.00025 +/- 0 min 0.00025 max 0.00025 sum 0.00025
[1]   2 socket used, resolved to 10.96.1.2:8000, connection timing : count 2 avg 0.00025 +/- 0 min 0.00025 max 0.00025 sum 0.0005
Connection time (s) : count 3 avg 0.00025 +/- 0 min 0.00025 max 0.00025 sum 0.00075
Sockets used: 3 (for perfect keepalive, would be 2)
Uniform: false, Jitter: false, Catchup allowed: true
IP addresses distribution:
10.96.1.2:8000: 3
Code 200 : 4 (66.7 %)
Code 503 : 2 (33.3 %)
Response Header Sizes : count 6 avg 153.33333 +/- 108.4 min 0 max 230 sum 920
Response Body/Total Sizes : count 6 avg 533.66667 +/- 206.9 min 241 max 680 sum 3202
All done 6 calls (plus 0 warmup) 3.208 ms avg, 600.0 qps
"#;
        assert_eq!(err, want);
    }

    #[test]
    fn info_level_qps_run_with_warmup_and_abort() {
        let a = parse_load(&args("-c 2 -qps 4 -t 1s httpbin:8000/get")).unwrap();
        let p = plan(&a);
        let mut results = Vec::new();
        for t in 0..2u32 {
            for i in 0..2u64 {
                let st = p.target_start_ns(t, i).unwrap() as f64 / 1e6;
                let code = if t == 1 && i == 0 { 503 } else { 200 };
                results.push(call(t, st, 2.0 + f64::from(t), code));
            }
        }
        let warm = vec![call(0, -10.0, 4.0, 200), call(1, -10.0, 5.0, 200)];
        let run = LoadRun::new(
            a,
            results,
            warm,
            "10.0.0.1:8000",
            0.0003,
            1.003,
            8,
            1_750_000_000.25,
        );
        let (out, err) = report(&run);
        assert_eq!(out, "");
        for want in [
            "{\"ts\":1750000000.240000,\"level\":\"info\",\"r\":1,\"file\":\"scli.go\",\"line\":122,\"msg\":\"Starting\",\"command\":\"Φορτίο\",\"version\":\"1.69.5 h1:h+42fJ1HF61Jj+WgPmC+C2wPtM5Ct8JLHSLDyEgGID4= go1.23.9 amd64 linux\",\"go-max-procs\":8}\n",
            "\"msg\":\"Starting http test\",\"run\":0,\"url\":\"httpbin:8000/get\",\"threads\":2,\"qps\":\"4.0\",\"warmup\":\"parallel\",\"conn-reuse\":\"\"}\n",
            "\"msg\":\"Assuming http:// on missing scheme for 'httpbin:8000/get'\"}\n",
            "Starting at 4 qps with 2 thread(s) [gomax 8] for 1s : 2 calls each (total 4)\n",
            "\"msg\":\"T000 ended after 1.002s : 2 calls. qps=1.996007984031936\"}\n",
            "Ended after 1.003s : 4 calls. qps=3.988\n",
            "\"msg\":\"Run ended\",\"run\":0,\"elapsed\":\"1.003s\",\"calls\":4,\"qps\":3.9880358923230315}\n",
            "Sleep times : count 2 avg 0.9975 +/- 0.0005 min 0.997 max 0.998 sum 1.995\n",
            "Connection time histogram (s) : count 3 avg 0.0003 +/- 0 min 0.0003 max 0.0003 sum 0.0009\n",
            "All done 4 calls (plus 2 warmup) 2.500 ms avg, 4.0 qps\n",
        ] {
            assert!(err.contains(want), "missing {want} in\n{err}");
        }
        let mut quiet = run.clone();
        quiet.args.quiet = true;
        let err = report(&quiet).1;
        assert!(
            !err.contains("Sleep times") && !err.contains("{\"ts\""),
            "{err}"
        );
        assert!(err.contains(
            "Error cases : count 1 avg 0.003 +/- 0 min 0.003 max 0.003 sum 0.003\n# Socket"
        ));
        let mut abort = run.clone();
        abort.warmup[1] = call(1, -10.0, 5.0, 503);
        let err = report(&abort).1;
        assert!(err.ends_with(
            "\"thread\":1,\"run\":0}\nAborting because of error 503 for http://httpbin:8000/get (241 bytes)\n"
        ), "{err}");
        assert_eq!(abort.exit_code(), 1);
    }
}
