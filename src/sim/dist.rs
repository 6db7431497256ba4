//! Probability distributions for service times, latencies and think times,
//! with a small text syntax shared by scenario files and pod annotations:
//!
//! | text | meaning |
//! |---|---|
//! | `5ms` | always 5 ms |
//! | `exp(5ms)` | exponential, mean 5 ms (the M in M/M/1) |
//! | `uniform(1ms, 3ms)` | uniform between the two |
//! | `lognormal(5ms, 40ms)` | log-normal with median 5 ms and 99th percentile 40 ms |
//! | `normal(5ms, 1ms)` | normal with mean and standard deviation, cut at zero |
//!
//! Log-normal is parameterised by median and p99 because those are the two
//! numbers people know about their services.

use std::fmt;

use super::rng::Rng;
use super::time::SimDuration;

/// z-score of the 99th percentile of the standard normal distribution.
const Z99: f64 = 2.326_347_874_040_841;

#[derive(Clone, Debug, PartialEq)]
pub enum Dist {
    Constant(SimDuration),
    Exponential {
        mean: SimDuration,
    },
    Uniform {
        min: SimDuration,
        max: SimDuration,
    },
    /// `sigma` is derived from median and p99 once, at construction
    /// ([`Dist::lognormal`]): sampling is the hot path.
    LogNormal {
        median: SimDuration,
        p99: SimDuration,
        sigma: f64,
    },
    Normal {
        mean: SimDuration,
        stddev: SimDuration,
    },
}

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid distribution {text:?}: {why}")]
pub struct DistError {
    pub text: String,
    pub why: String,
}

impl Dist {
    pub const ZERO: Dist = Dist::Constant(SimDuration::ZERO);

    /// Log-normal with the given median and 99th percentile (`p99 >= median > 0`).
    pub fn lognormal(median: SimDuration, p99: SimDuration) -> Dist {
        let sigma = (p99.as_secs_f64() / median.as_secs_f64()).ln() / Z99;
        Dist::LogNormal { median, p99, sigma }
    }

    /// Draws one value. Normal and log-normal draws use a ziggurat sampler,
    /// which usually takes one number from `rng` and occasionally more; the
    /// count depends only on the stream, so runs stay repeatable.
    pub fn sample(&self, rng: &mut Rng) -> SimDuration {
        match *self {
            Dist::Constant(d) => d,
            Dist::Exponential { mean } => {
                SimDuration::from_secs_f64(-rng.next_f64_open0().ln() * mean.as_secs_f64())
            }
            Dist::Uniform { min, max } => {
                let span = max.as_nanos() - min.as_nanos();
                SimDuration(min.as_nanos() + (rng.next_f64() * span as f64) as u64)
            }
            Dist::LogNormal { median, sigma, .. } => {
                let z = standard_normal(rng);
                SimDuration::from_secs_f64(median.as_secs_f64() * (sigma * z).exp())
            }
            Dist::Normal { mean, stddev } => {
                let z = standard_normal(rng);
                SimDuration::from_secs_f64(mean.as_secs_f64() + z * stddev.as_secs_f64())
            }
        }
    }

    /// The mean of the distribution (before the cut at zero for `normal`).
    pub fn mean(&self) -> SimDuration {
        match *self {
            Dist::Constant(d) => d,
            Dist::Exponential { mean } | Dist::Normal { mean, .. } => mean,
            Dist::Uniform { min, max } => SimDuration((min.as_nanos() + max.as_nanos()) / 2),
            Dist::LogNormal { median, sigma, .. } => {
                SimDuration::from_secs_f64(median.as_secs_f64() * (sigma * sigma / 2.0).exp())
            }
        }
    }

    pub fn parse(text: &str) -> Result<Dist, DistError> {
        let fail = |why: &str| DistError {
            text: text.to_string(),
            why: why.to_string(),
        };
        let t = text.trim();
        let Some(open) = t.find('(') else {
            return SimDuration::parse(t)
                .map(Dist::Constant)
                .map_err(|e| fail(&e.to_string()));
        };
        let name = t[..open].trim();
        let Some(inner) = t[open + 1..].strip_suffix(')') else {
            return Err(fail("missing closing parenthesis"));
        };
        let args: Vec<SimDuration> = inner
            .split(',')
            .map(|a| SimDuration::parse(a.trim()))
            .collect::<Result<_, _>>()
            .map_err(|e| fail(&e.to_string()))?;
        let want = |n: usize| {
            if args.len() == n {
                Ok(())
            } else {
                Err(fail(&format!(
                    "{name} takes {n} argument(s), got {}",
                    args.len()
                )))
            }
        };
        match name {
            "const" | "constant" => {
                want(1)?;
                Ok(Dist::Constant(args[0]))
            }
            "exp" | "exponential" => {
                want(1)?;
                Ok(Dist::Exponential { mean: args[0] })
            }
            "uniform" => {
                want(2)?;
                if args[0] > args[1] {
                    return Err(fail("min is greater than max"));
                }
                Ok(Dist::Uniform {
                    min: args[0],
                    max: args[1],
                })
            }
            "lognormal" => {
                want(2)?;
                if args[0].is_zero() || args[1] < args[0] {
                    return Err(fail("need 0 < median <= p99"));
                }
                Ok(Dist::lognormal(args[0], args[1]))
            }
            "normal" => {
                want(2)?;
                Ok(Dist::Normal {
                    mean: args[0],
                    stddev: args[1],
                })
            }
            other => Err(fail(&format!(
                "unknown distribution {other:?}; use exp, uniform, lognormal, normal or const"
            ))),
        }
    }
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Dist::Constant(d) => write!(f, "{d}"),
            Dist::Exponential { mean } => write!(f, "exp({mean})"),
            Dist::Uniform { min, max } => write!(f, "uniform({min}, {max})"),
            Dist::LogNormal { median, p99, .. } => write!(f, "lognormal({median}, {p99})"),
            Dist::Normal { mean, stddev } => write!(f, "normal({mean}, {stddev})"),
        }
    }
}

/// The ziggurat of Marsaglia and Tsang ("The Ziggurat Method for
/// Generating Random Variables", 2000) with 256 layers: a table lookup and a
/// multiply for 98.8% of draws, where Box–Muller needs a logarithm, a square
/// root and a cosine every time. Latency samples are the simulator's hottest
/// arithmetic, so this matters for `meshsim bench`.
fn standard_normal(rng: &mut Rng) -> f64 {
    let z = ziggurat();
    loop {
        let bits = rng.next_u64();
        let i = (bits & 0xff) as usize;
        // A uniform in (-1, 1) from the remaining bits.
        let u = ((bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)) * 2.0 - 1.0;
        let x = u * z.x[i];
        if x.abs() < z.x[i + 1] {
            return x;
        }
        if i == 0 {
            // The base layer's tail beyond R (Marsaglia's tail method).
            loop {
                let a = -rng.next_f64_open0().ln() / ZIG_R;
                let b = -rng.next_f64_open0().ln();
                if 2.0 * b > a * a {
                    return if u < 0.0 { -(ZIG_R + a) } else { ZIG_R + a };
                }
            }
        }
        if z.f[i + 1] + (z.f[i] - z.f[i + 1]) * rng.next_f64() < (-0.5 * x * x).exp() {
            return x;
        }
    }
}

/// Start of the tail and area of each layer for 256 layers.
const ZIG_R: f64 = 3.654_152_885_361_009;
const ZIG_V: f64 = 0.004_928_673_233_99;

struct Ziggurat {
    x: [f64; 257],
    f: [f64; 257],
}

fn ziggurat() -> &'static Ziggurat {
    static TABLES: std::sync::OnceLock<Ziggurat> = std::sync::OnceLock::new();
    TABLES.get_or_init(|| {
        let pdf = |x: f64| (-0.5 * x * x).exp();
        let mut x = [0.0; 257];
        x[0] = ZIG_V / pdf(ZIG_R);
        x[1] = ZIG_R;
        for i in 1..256 {
            let inner = ZIG_V / x[i] + pdf(x[i]);
            x[i + 1] = if inner >= 1.0 {
                0.0
            } else {
                (-2.0 * inner.ln()).sqrt()
            };
        }
        x[256] = 0.0;
        let mut f = [0.0; 257];
        for i in 0..257 {
            f[i] = pdf(x[i]);
        }
        Ziggurat { x, f }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("5ms", Dist::Constant(SimDuration::from_millis(5)))]
    #[test_case("exp(5ms)", Dist::Exponential { mean: SimDuration::from_millis(5) })]
    #[test_case("uniform(1ms, 3ms)", Dist::Uniform { min: SimDuration::from_millis(1), max: SimDuration::from_millis(3) })]
    #[test_case(
        "lognormal(5ms,40ms)",
        Dist::lognormal(SimDuration::from_millis(5), SimDuration::from_millis(40))
    )]
    fn parses(text: &str, want: Dist) {
        assert_eq!(Dist::parse(text), Ok(want.clone()));
        assert_eq!(Dist::parse(&want.to_string()), Ok(want));
    }

    #[test_case("exp(5ms, 1ms)", "exp takes 1 argument(s), got 2")]
    #[test_case("gamma(1ms)", "unknown distribution")]
    #[test_case("exp(5ms", "missing closing parenthesis")]
    #[test_case("uniform(3ms, 1ms)", "min is greater than max")]
    #[test_case("fast", "time: invalid duration")]
    fn rejects(text: &str, why: &str) {
        let err = Dist::parse(text).unwrap_err().to_string();
        assert!(err.contains(why), "{err}");
    }

    fn mean_of(d: &Dist, n: u32) -> f64 {
        let mut rng = Rng::from_seed(11);
        (0..n)
            .map(|_| d.sample(&mut rng).as_secs_f64())
            .sum::<f64>()
            / f64::from(n)
    }

    #[test]
    fn sample_means_match_the_distribution_means() {
        for d in [
            Dist::parse("exp(10ms)").unwrap(),
            Dist::parse("uniform(2ms, 6ms)").unwrap(),
            Dist::parse("lognormal(5ms, 20ms)").unwrap(),
        ] {
            let want = d.mean().as_secs_f64();
            let got = mean_of(&d, 200_000);
            assert!(
                (got - want).abs() / want < 0.02,
                "{d}: mean {got} want {want}"
            );
        }
    }

    #[test]
    fn the_ziggurat_draws_a_standard_normal() {
        let mut rng = Rng::from_seed(5);
        let n = 400_000;
        let xs: Vec<f64> = (0..n).map(|_| standard_normal(&mut rng)).collect();
        let mean = xs.iter().sum::<f64>() / n as f64;
        let var = xs.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.01, "variance {var}");
        // Tail mass beyond 1.96 sigma, both sides: 5%.
        let tails = xs.iter().filter(|x| x.abs() > 1.96).count() as f64 / n as f64;
        assert!((tails - 0.05).abs() < 0.002, "tails {tails}");
        // Beyond the base layer (|x| > R = 3.65): 0.026%.
        let far = xs.iter().filter(|x| x.abs() > ZIG_R).count() as f64 / n as f64;
        assert!(far > 0.0001 && far < 0.0005, "far tail {far}");
    }

    #[test]
    fn lognormal_p99_is_where_it_was_asked_to_be() {
        let d = Dist::parse("lognormal(5ms, 40ms)").unwrap();
        let mut rng = Rng::from_seed(3);
        let mut v: Vec<u64> = (0..100_000)
            .map(|_| d.sample(&mut rng).as_nanos())
            .collect();
        v.sort_unstable();
        let p50 = v[50_000] as f64 / 1e6;
        let p99 = v[99_000] as f64 / 1e6;
        assert!((p50 - 5.0).abs() < 0.2, "p50 {p50}");
        assert!((p99 - 40.0).abs() < 2.0, "p99 {p99}");
    }
}
