//! Latency histograms (HdrHistogram, microsecond resolution, three
//! significant digits from 1 µs to one hour), their percentiles and a small
//! text drawing.

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::sim::SimDuration;

const MAX_US: u64 = 3_600_000_000;

#[derive(Clone, Debug)]
pub struct Latency(Histogram<u64>);

impl Default for Latency {
    fn default() -> Self {
        Latency(Histogram::new_with_bounds(1, MAX_US, 3).expect("valid histogram bounds"))
    }
}

/// Percentiles in milliseconds, as reports print them.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub count: u64,
    pub mean: f64,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    #[serde(rename = "p99.9")]
    pub p999: f64,
    pub max: f64,
}

/// One bar of the text histogram: requests that took at most `le_ms`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Bucket {
    pub le_ms: f64,
    pub count: u64,
}

/// Bucket bounds in ms: 1-2-5 steps, a scale people read at a glance.
const BOUNDS_MS: &[f64] = &[
    0.5,
    1.0,
    2.0,
    5.0,
    10.0,
    20.0,
    50.0,
    100.0,
    200.0,
    500.0,
    1000.0,
    2000.0,
    5000.0,
    10000.0,
    30000.0,
    60000.0,
    f64::INFINITY,
];

impl Latency {
    pub fn record(&mut self, d: SimDuration) {
        let us = d.as_nanos().div_ceil(1000).clamp(1, MAX_US);
        self.0.saturating_record(us);
    }

    pub fn count(&self) -> u64 {
        self.0.len()
    }

    pub fn merge(&mut self, other: &Latency) {
        let _ = self.0.add(&other.0);
    }

    fn ms(us: u64) -> f64 {
        (us as f64 / 1000.0 * 1000.0).round() / 1000.0
    }

    pub fn summary(&self) -> Summary {
        if self.0.is_empty() {
            return Summary::default();
        }
        let q = |x: f64| Self::ms(self.0.value_at_quantile(x));
        Summary {
            count: self.0.len(),
            mean: (self.0.mean() / 1000.0 * 1000.0).round() / 1000.0,
            p50: q(0.5),
            p90: q(0.9),
            p99: q(0.99),
            p999: q(0.999),
            max: Self::ms(self.0.max()),
        }
    }

    /// Counts per 1-2-5 bucket, from the first non-empty bucket to the last.
    pub fn buckets(&self) -> Vec<Bucket> {
        let mut counts = vec![0u64; BOUNDS_MS.len()];
        for v in self.0.iter_recorded() {
            let ms = self.0.highest_equivalent(v.value_iterated_to()) as f64 / 1000.0;
            let i = BOUNDS_MS
                .iter()
                .position(|b| ms <= *b)
                .unwrap_or(BOUNDS_MS.len() - 1);
            counts[i] += v.count_at_value();
        }
        let first = counts.iter().position(|c| *c > 0);
        let last = counts.iter().rposition(|c| *c > 0);
        match (first, last) {
            (Some(a), Some(b)) => (a..=b)
                .map(|i| Bucket {
                    le_ms: BOUNDS_MS[i],
                    count: counts[i],
                })
                .collect(),
            _ => Vec::new(),
        }
    }
}

/// Draws buckets as bars of `█`, the longest `width` wide.
pub fn draw(buckets: &[Bucket], width: usize) -> String {
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let total: u64 = buckets.iter().map(|b| b.count).sum::<u64>().max(1);
    let mut out = String::new();
    for b in buckets {
        let label = if b.le_ms.is_infinite() {
            "   > 60 s".to_string()
        } else if b.le_ms >= 1000.0 {
            format!("≤ {:>4} s ", b.le_ms / 1000.0)
        } else {
            format!("≤ {:>4} ms", b.le_ms)
        };
        let bar = (b.count as f64 / max as f64 * width as f64).round() as usize;
        let bar = if b.count > 0 { bar.max(1) } else { 0 };
        out.push_str(&format!(
            "  {label} {:<width$} {:>6.2}%  {}\n",
            "█".repeat(bar),
            b.count as f64 * 100.0 / total as f64,
            b.count
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_in_milliseconds() {
        let mut l = Latency::default();
        for ms in 1..=100 {
            l.record(SimDuration::from_millis(ms));
        }
        let s = l.summary();
        assert_eq!(s.count, 100);
        assert!((s.p50 - 50.0).abs() < 0.1, "{s:?}");
        assert!((s.p99 - 99.0).abs() < 0.1, "{s:?}");
        assert!((s.max - 100.0).abs() < 0.1, "{s:?}");
    }

    #[test]
    fn buckets_cover_the_recorded_range() {
        let mut l = Latency::default();
        l.record(SimDuration::from_micros(800));
        l.record(SimDuration::from_millis(3));
        l.record(SimDuration::from_millis(3));
        let b = l.buckets();
        assert_eq!(b.first().unwrap().le_ms, 1.0);
        assert_eq!(b.last().unwrap().le_ms, 5.0);
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 3);
        let text = draw(&b, 10);
        assert!(text.contains("██████████"), "{text}");
    }
}
