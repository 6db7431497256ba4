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
    LogNormal {
        median: SimDuration,
        p99: SimDuration,
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

    /// Draws one value. Uses exactly one or two draws from `rng` depending on
    /// the shape, never a data-dependent number, so streams stay aligned.
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
            Dist::LogNormal { median, p99 } => {
                let sigma = (p99.as_secs_f64() / median.as_secs_f64()).ln() / Z99;
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
            Dist::LogNormal { median, p99 } => {
                let sigma = (p99.as_secs_f64() / median.as_secs_f64()).ln() / Z99;
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
                Ok(Dist::LogNormal {
                    median: args[0],
                    p99: args[1],
                })
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
            Dist::LogNormal { median, p99 } => write!(f, "lognormal({median}, {p99})"),
            Dist::Normal { mean, stddev } => write!(f, "normal({mean}, {stddev})"),
        }
    }
}

/// Box–Muller with both uniforms drawn every time (two draws per sample).
fn standard_normal(rng: &mut Rng) -> f64 {
    let u1 = rng.next_f64_open0();
    let u2 = rng.next_f64();
    (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    #[test_case("5ms", Dist::Constant(SimDuration::from_millis(5)))]
    #[test_case("exp(5ms)", Dist::Exponential { mean: SimDuration::from_millis(5) })]
    #[test_case("uniform(1ms, 3ms)", Dist::Uniform { min: SimDuration::from_millis(1), max: SimDuration::from_millis(3) })]
    #[test_case("lognormal(5ms,40ms)", Dist::LogNormal { median: SimDuration::from_millis(5), p99: SimDuration::from_millis(40) })]
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
