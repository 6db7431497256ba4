//! Envoy's outlier detection (passive health checking) for one cluster of
//! one proxy, sans-IO, as istiod configures it (`applyOutlierDetection`):
//! consecutive 5xx and consecutive gateway errors only (success-rate
//! detection is forced off), ejection for `baseEjectionTime` × the times
//! the host was ejected (at most Envoy's `max_ejection_time`, 300 s),
//! within `maxEjectionPercent` (Envoy always lets one host go), and the
//! interval timer that brings hosts back and forgives them.
//!
//! Without `splitExternalLocalOriginErrors`, errors the proxy met itself
//! (connect failure, reset, timeout) count like the 5xx it answers for
//! them (E outlier.rst, "locally originated errors"); with it they count
//! only towards `consecutiveLocalOriginFailures`.

use std::collections::BTreeMap;

use crate::config::networking::destination_rule::OutlierDetection;
use crate::sim::{SimDuration, SimTime};

/// Envoy's `max_ejection_time` default.
const MAX_EJECTION_TIME: SimDuration = SimDuration::from_secs(300);

/// The detector's settings, as Envoy receives them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutlierConfig {
    /// Consecutive 5xx that eject (0: never).
    pub consecutive_5xx: u32,
    /// Consecutive 502/503/504 that eject (0: never).
    pub consecutive_gateway: u32,
    /// With split local-origin errors: consecutive ones that eject.
    pub consecutive_local_origin: Option<u32>,
    pub interval: SimDuration,
    pub base_ejection_time: SimDuration,
    pub max_ejection_percent: u32,
    /// Envoy's `healthy_panic_threshold`, which Istio sets to
    /// `minHealthPercent` (0 by default: no panic mode).
    pub panic_threshold: u32,
}

impl OutlierConfig {
    /// `applyOutlierDetection`. The removed `consecutiveErrors` is not
    /// read (validation warns); unset counts keep Envoy's defaults: 5
    /// consecutive 5xx eject, gateway errors do not.
    pub fn from_rule(o: &OutlierDetection) -> OutlierConfig {
        let base = o
            .base_ejection_time
            .as_ref()
            .map_or(SimDuration::from_secs(30), |d| d.get());
        OutlierConfig {
            consecutive_5xx: o.consecutive_5xx_errors.unwrap_or(5),
            consecutive_gateway: o.consecutive_gateway_errors.unwrap_or(0),
            consecutive_local_origin: o
                .split_external_local_origin_errors
                .then(|| o.consecutive_local_origin_failures.unwrap_or(5)),
            interval: o
                .interval
                .as_ref()
                .map_or(SimDuration::from_secs(10), |d| d.get()),
            base_ejection_time: base,
            max_ejection_percent: if o.max_ejection_percent > 0 {
                o.max_ejection_percent as u32
            } else {
                10
            },
            panic_threshold: o.min_health_percent.max(0) as u32,
        }
    }
}

/// What an attempt's host did, as outlier detection sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Result {
    /// The host answered with this status.
    Status(u16),
    /// The proxy could not reach or hear the host (connect failure,
    /// reset, timeout).
    LocalOrigin,
}

#[derive(Clone, Debug, Default)]
struct HostState {
    consecutive_5xx: u32,
    consecutive_gateway: u32,
    consecutive_local: u32,
    times_ejected: u32,
    ejected_at: Option<SimTime>,
}

/// Envoy's `cluster.<name>.outlier_detection.*` counters.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutlierStats {
    pub ejections_active: u64,
    pub ejections_enforced_total: u64,
    pub ejections_enforced_consecutive_5xx: u64,
    pub ejections_detected_consecutive_5xx: u64,
    pub ejections_enforced_consecutive_gateway_failure: u64,
    pub ejections_detected_consecutive_gateway_failure: u64,
    pub ejections_enforced_consecutive_local_origin_failure: u64,
    pub ejections_overflow: u64,
}

#[derive(Clone, Debug)]
pub struct Detector {
    pub config: OutlierConfig,
    hosts: BTreeMap<u64, HostState>,
    /// The hosts of the cluster, for `maxEjectionPercent`.
    host_count: usize,
    /// Bumped whenever the set of ejected hosts changes.
    pub generation: u64,
    /// Whether the interval timer is running (it runs while some host is
    /// ejected or has past ejections to forget).
    pub timer_armed: bool,
    pub stats: OutlierStats,
}

impl Detector {
    pub fn new(config: OutlierConfig) -> Detector {
        Detector {
            config,
            hosts: BTreeMap::new(),
            host_count: 0,
            generation: 0,
            timer_armed: false,
            stats: OutlierStats::default(),
        }
    }

    /// The cluster has `n` hosts now.
    pub fn set_host_count(&mut self, n: usize) {
        self.host_count = n;
    }

    pub fn is_ejected(&self, host: u64) -> bool {
        self.hosts
            .get(&host)
            .is_some_and(|h| h.ejected_at.is_some())
    }

    /// Records what `host` did; true when this ejected it.
    pub fn record(&mut self, host: u64, result: Result, now: SimTime) -> bool {
        let cfg = self.config;
        let h = self.hosts.entry(host).or_default();
        let (five_xx, gateway, local) = match result {
            Result::Status(s) => ((500..600).contains(&s), matches!(s, 502..=504), false),
            // Unsplit, a local-origin error is the 503 the proxy answers.
            Result::LocalOrigin if cfg.consecutive_local_origin.is_none() => (true, true, false),
            Result::LocalOrigin => (false, false, true),
        };
        h.consecutive_5xx = if five_xx { h.consecutive_5xx + 1 } else { 0 };
        h.consecutive_gateway = if gateway {
            h.consecutive_gateway + 1
        } else {
            0
        };
        h.consecutive_local = if local { h.consecutive_local + 1 } else { 0 };
        if h.ejected_at.is_some() {
            return false;
        }
        let reason = if cfg.consecutive_5xx > 0 && h.consecutive_5xx >= cfg.consecutive_5xx {
            Some(Reason::FiveXx)
        } else if cfg.consecutive_gateway > 0 && h.consecutive_gateway >= cfg.consecutive_gateway {
            Some(Reason::Gateway)
        } else if cfg
            .consecutive_local_origin
            .is_some_and(|n| n > 0 && h.consecutive_local >= n)
        {
            Some(Reason::LocalOrigin)
        } else {
            None
        };
        let Some(reason) = reason else {
            return false;
        };
        // The counters start again whether or not the host goes.
        h.consecutive_5xx = 0;
        h.consecutive_gateway = 0;
        h.consecutive_local = 0;
        match reason {
            Reason::FiveXx => self.stats.ejections_detected_consecutive_5xx += 1,
            Reason::Gateway => self.stats.ejections_detected_consecutive_gateway_failure += 1,
            Reason::LocalOrigin => {}
        }
        self.eject(host, reason, now)
    }

    /// `DetectorImpl::ejectHost`: within `max_ejection_percent`, but one
    /// host may always go.
    fn eject(&mut self, host: u64, reason: Reason, now: SimTime) -> bool {
        let active = self.stats.ejections_active;
        let total = self.host_count.max(1) as f64;
        let percent = 100.0 * (active + 1) as f64 / total;
        if percent > f64::from(self.config.max_ejection_percent) && active > 0 {
            self.stats.ejections_overflow += 1;
            return false;
        }
        let h = self.hosts.get_mut(&host).expect("recorded hosts exist");
        h.times_ejected += 1;
        h.ejected_at = Some(now);
        self.stats.ejections_active += 1;
        self.stats.ejections_enforced_total += 1;
        match reason {
            Reason::FiveXx => self.stats.ejections_enforced_consecutive_5xx += 1,
            Reason::Gateway => self.stats.ejections_enforced_consecutive_gateway_failure += 1,
            Reason::LocalOrigin => {
                self.stats
                    .ejections_enforced_consecutive_local_origin_failure += 1
            }
        }
        self.generation += 1;
        true
    }

    /// The interval timer: ejected hosts whose time is up come back; hosts
    /// that stayed in forget one past ejection. Returns whether the
    /// detector still has anything to wait for.
    pub fn tick(&mut self, now: SimTime) -> bool {
        let cfg = self.config;
        let mut changed = false;
        for h in self.hosts.values_mut() {
            match h.ejected_at {
                Some(at) => {
                    let time = SimDuration::from_nanos(
                        cfg.base_ejection_time
                            .as_nanos()
                            .saturating_mul(u64::from(h.times_ejected)),
                    )
                    .min(MAX_EJECTION_TIME.max(cfg.base_ejection_time));
                    if now.since(at) >= time {
                        h.ejected_at = None;
                        self.stats.ejections_active -= 1;
                        changed = true;
                    }
                }
                None => h.times_ejected = h.times_ejected.saturating_sub(1),
            }
        }
        if changed {
            self.generation += 1;
        }
        self.hosts
            .values()
            .any(|h| h.ejected_at.is_some() || h.times_ejected > 0)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Reason {
    FiveXx,
    Gateway,
    LocalOrigin,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn detector(consecutive_5xx: u32, max_percent: u32, hosts: usize) -> Detector {
        let mut d = Detector::new(OutlierConfig {
            consecutive_5xx,
            consecutive_gateway: 0,
            consecutive_local_origin: None,
            interval: SimDuration::from_secs(1),
            base_ejection_time: SimDuration::from_secs(30),
            max_ejection_percent: max_percent,
            panic_threshold: 0,
        });
        d.set_host_count(hosts);
        d
    }

    fn at(s: u64) -> SimTime {
        SimTime::ZERO + SimDuration::from_secs(s)
    }

    #[test]
    fn consecutive_5xx_eject_and_a_success_forgives() {
        let mut d = detector(3, 100, 2);
        assert!(!d.record(1, Result::Status(503), at(0)));
        assert!(!d.record(1, Result::Status(200), at(0)));
        assert!(!d.record(1, Result::Status(500), at(0)));
        assert!(!d.record(1, Result::LocalOrigin, at(0)));
        assert!(d.record(1, Result::Status(502), at(0)));
        assert!(d.is_ejected(1));
        assert_eq!(d.stats.ejections_enforced_consecutive_5xx, 1);
    }

    /// Ejection lasts base × times ejected, checked at interval ticks.
    #[test]
    fn ejections_grow_with_each_one_and_end_at_a_tick() {
        let mut d = detector(1, 100, 2);
        assert!(d.record(1, Result::Status(500), at(0)));
        assert!(d.tick(at(29)));
        assert!(d.is_ejected(1));
        d.tick(at(30));
        assert!(!d.is_ejected(1));
        assert!(d.record(1, Result::Status(500), at(31)));
        d.tick(at(60));
        assert!(d.is_ejected(1), "the second ejection lasts 60 s");
        d.tick(at(91));
        assert!(!d.is_ejected(1));
    }

    /// `maxEjectionPercent` 10 of 2 hosts: the first may still go (Envoy
    /// ejects at least one), the second overflows.
    #[test]
    fn max_ejection_percent_lets_one_go() {
        let mut d = detector(1, 10, 2);
        assert!(d.record(1, Result::Status(500), at(0)));
        assert!(!d.record(2, Result::Status(500), at(0)));
        assert_eq!(d.stats.ejections_overflow, 1);
    }

    #[test]
    fn istio_defaults_eject_after_five() {
        let c = OutlierConfig::from_rule(&OutlierDetection::default());
        assert_eq!(
            (
                c.consecutive_5xx,
                c.consecutive_gateway,
                c.max_ejection_percent
            ),
            (5, 0, 10)
        );
        assert_eq!(c.interval, SimDuration::from_secs(10));
        assert_eq!(c.base_ejection_time, SimDuration::from_secs(30));
    }
}
