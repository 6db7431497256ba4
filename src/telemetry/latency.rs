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

    /// Counts in about a dozen equal buckets of a round width (1, 2 or 5
    /// times a power of ten) covering the bulk of the distribution, from
    /// the minimum to the 99.9th percentile; the rest go to a last bucket
    /// bounded by the maximum.
    pub fn buckets(&self) -> Vec<Bucket> {
        if self.0.is_empty() {
            return Vec::new();
        }
        let us = |v: u64| v as f64 / 1000.0;
        let lo = us(self.0.min());
        let hi = us(self.0.value_at_quantile(0.999)).max(lo + 0.001);
        let width = nice_width((hi - lo) / 12.0);
        let first = (lo / width).floor() * width;
        let n = (((hi - first) / width).ceil() as usize).max(1);
        let mut counts = vec![0u64; n + 1];
        for v in self.0.iter_recorded() {
            let ms = us(self.0.highest_equivalent(v.value_iterated_to()));
            let i = (((ms - first) / width).ceil() as usize)
                .saturating_sub(1)
                .min(n);
            counts[i] += v.count_at_value();
        }
        let max = us(self.0.max());
        let mut out: Vec<Bucket> = counts
            .iter()
            .enumerate()
            .map(|(i, &count)| Bucket {
                le_ms: if i == n {
                    max
                } else {
                    round3(first + width * (i + 1) as f64)
                },
                count,
            })
            .collect();
        if out.last().is_some_and(|b| b.count == 0) {
            out.pop();
        }
        out
    }
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// The smallest of 1, 2, 5 times a power of ten that is at least `x`.
fn nice_width(x: f64) -> f64 {
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|w| *w >= x)
        .unwrap_or(10.0 * p)
}

/// Milliseconds without trailing zeros: `12`, `12.5`, `0.25`.
fn format_ms(ms: f64) -> String {
    let s = format!("{ms:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// Draws buckets as bars of `█`, the longest `width` wide.
pub fn draw(buckets: &[Bucket], width: usize) -> String {
    let max = buckets.iter().map(|b| b.count).max().unwrap_or(0).max(1);
    let total: u64 = buckets.iter().map(|b| b.count).sum::<u64>().max(1);
    let labels: Vec<String> = buckets.iter().map(|b| format_ms(b.le_ms)).collect();
    let lw = labels.iter().map(String::len).max().unwrap_or(0);
    let mut out = String::new();
    for (b, label) in buckets.iter().zip(&labels) {
        let label = format!("≤ {label:>lw$} ms");
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
    fn buckets_have_round_widths_and_count_everything() {
        let mut l = Latency::default();
        for ms in [5, 6, 6, 7, 9, 12, 14, 20, 31] {
            l.record(SimDuration::from_millis(ms));
        }
        let b = l.buckets();
        assert_eq!(b.iter().map(|b| b.count).sum::<u64>(), 9);
        // Range 5..31 ms over ~12 buckets: width 5 ms from 5 ms.
        assert_eq!(b[0].le_ms, 10.0);
        assert_eq!(b[1].le_ms, 15.0);
        assert_eq!(b.last().unwrap().le_ms, 35.0);
        let text = draw(&b, 10);
        assert!(text.contains("██████████"), "{text}");
        assert!(text.contains("≤ 10 ms"), "{text}");
    }

    #[test]
    fn nice_widths() {
        assert_eq!(nice_width(0.3), 0.5);
        assert_eq!(nice_width(1.0), 1.0);
        assert_eq!(nice_width(1.1), 2.0);
        assert_eq!(nice_width(17.0), 20.0);
    }
}
