//! Envoy's router retries as istiod configures them
//! (`pilot/pkg/networking/core/route/retry/retry.go`), sans-IO: which
//! outcomes of an attempt may be retried, and how long to back off.
//!
//! Istio puts a retry policy on every HTTP route: without a VirtualService
//! `retries`, 2 retries on `connect-failure,refused-stream,unavailable,
//! cancelled,retriable-status-codes` with no status codes (since 1.24), so
//! only failures to connect are retried; `attempts: 0` removes it. Retries
//! avoid hosts already tried (`previous_hosts`, up to 5 picks) unless the
//! route hashes to a host. Backoff is Envoy's fully jittered exponential:
//! retry N waits `U[0, (2^N - 1) × base)`, at most 10 × base (base 25 ms).

use crate::config::networking::virtual_service::HttpRetry;
use crate::sim::{Rng, SimDuration};

use super::flags::ResponseFlags;

/// `retry_on` conditions meshsim can meet, as bits.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RetryOn(u16);

impl RetryOn {
    pub const FIVE_XX: RetryOn = RetryOn(1);
    pub const GATEWAY_ERROR: RetryOn = RetryOn(1 << 1);
    pub const RESET: RetryOn = RetryOn(1 << 2);
    pub const CONNECT_FAILURE: RetryOn = RetryOn(1 << 3);
    pub const RETRIABLE_4XX: RetryOn = RetryOn(1 << 4);
    pub const RETRIABLE_STATUS_CODES: RetryOn = RetryOn(1 << 5);

    fn has(self, c: RetryOn) -> bool {
        self.0 & c.0 != 0
    }

    /// Envoy's `retry_on` names; gRPC and HTTP/2 conditions
    /// (`refused-stream`, `unavailable`, `cancelled`, …) never occur in
    /// meshsim's HTTP/1.1 traffic and are accepted without effect.
    fn parse(list: &str) -> RetryOn {
        let mut on = RetryOn::default();
        for name in list.split(',').map(str::trim) {
            on.0 |= match name {
                "5xx" => RetryOn::FIVE_XX.0,
                "gateway-error" => RetryOn::GATEWAY_ERROR.0,
                "reset" | "reset-before-request" => RetryOn::RESET.0,
                "connect-failure" => RetryOn::CONNECT_FAILURE.0,
                "retriable-4xx" => RetryOn::RETRIABLE_4XX.0,
                "retriable-status-codes" => RetryOn::RETRIABLE_STATUS_CODES.0,
                _ => 0,
            };
        }
        on
    }
}

/// What became of one attempt, as the retry decision sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attempt {
    /// The upstream answered with this status.
    Status(u16),
    /// The connection could not be made (UF).
    ConnectFailure,
    /// The upstream reset the stream before answering (UC).
    Reset,
    /// The per-try timeout fired first.
    PerTryTimeout,
}

impl Attempt {
    /// An attempt's outcome from the status and flags the proxy saw.
    pub fn from_response(status: u16, flags: ResponseFlags) -> Attempt {
        if flags.contains(ResponseFlags::UF) {
            Attempt::ConnectFailure
        } else if flags.contains(ResponseFlags::UC) {
            Attempt::Reset
        } else {
            Attempt::Status(status)
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct RetryPolicy {
    pub num_retries: u32,
    on: RetryOn,
    statuses: Vec<u16>,
    pub per_try_timeout: Option<SimDuration>,
    /// Retries avoid hosts already tried.
    pub previous_hosts: bool,
    backoff_base: SimDuration,
}

/// Envoy's default backoff base interval.
const BACKOFF_BASE: SimDuration = SimDuration::from_millis(25);

/// Istio's `defaultRetryOn`.
const ISTIO_RETRY_ON: &str =
    "connect-failure,refused-stream,unavailable,cancelled,retriable-status-codes";

impl RetryPolicy {
    /// `ConvertPolicy`: the route's policy from a VirtualService `retries`
    /// (`None`: Istio's default); `None` when `attempts` is 0 or less.
    pub fn convert(retries: Option<&HttpRetry>) -> Option<RetryPolicy> {
        let mut policy = RetryPolicy {
            num_retries: 2,
            on: RetryOn::parse(ISTIO_RETRY_ON),
            statuses: Vec::new(),
            per_try_timeout: None,
            previous_hosts: true,
            backoff_base: BACKOFF_BASE,
        };
        let Some(r) = retries else {
            return Some(policy);
        };
        if r.attempts <= 0 {
            return None;
        }
        policy.num_retries = r.attempts as u32;
        if !r.retry_on.trim().is_empty() {
            // Integers are status codes (`parseRetryOn`), which imply
            // `retriable-status-codes`.
            let (codes, names): (Vec<&str>, Vec<&str>) = r
                .retry_on
                .split(',')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .partition(|p| p.parse::<u16>().is_ok_and(|c| (100..600).contains(&c)));
            policy.statuses = codes.iter().filter_map(|c| c.parse().ok()).collect();
            policy.on = RetryOn::parse(&names.join(","));
            if !policy.statuses.is_empty() {
                policy.on.0 |= RetryOn::RETRIABLE_STATUS_CODES.0;
            }
        }
        policy.per_try_timeout = r.per_try_timeout.as_ref().map(|d| d.get());
        if let Some(ignore) = r.retry_ignore_previous_hosts {
            policy.previous_hosts = ignore;
        }
        if let Some(b) = &r.backoff {
            policy.backoff_base = b.get();
        }
        Some(policy)
    }

    /// Whether Envoy retries after `attempt` (Envoy
    /// `RetryStateImpl::wouldRetryFromHeaders` / `wouldRetryFromReset`; a
    /// per-try timeout counts as a reset that `5xx`, `gateway-error` and
    /// `reset` retry).
    pub fn retries(&self, attempt: Attempt) -> bool {
        let on = self.on;
        match attempt {
            Attempt::ConnectFailure => {
                on.has(RetryOn::CONNECT_FAILURE)
                    || on.has(RetryOn::FIVE_XX)
                    || on.has(RetryOn::GATEWAY_ERROR)
                    || on.has(RetryOn::RESET)
            }
            Attempt::Reset | Attempt::PerTryTimeout => {
                on.has(RetryOn::FIVE_XX) || on.has(RetryOn::GATEWAY_ERROR) || on.has(RetryOn::RESET)
            }
            Attempt::Status(s) => {
                (on.has(RetryOn::FIVE_XX) && (500..600).contains(&s))
                    || (on.has(RetryOn::GATEWAY_ERROR) && matches!(s, 502..=504))
                    || (on.has(RetryOn::RETRIABLE_4XX) && s == 409)
                    || (on.has(RetryOn::RETRIABLE_STATUS_CODES) && self.statuses.contains(&s))
            }
        }
    }

    /// The wait before retry `n` (1 for the first): Envoy's
    /// `JitteredExponentialBackOffStrategy`, in whole milliseconds.
    pub fn backoff(&self, n: u32, rng: &mut Rng) -> SimDuration {
        let base_ms = (self.backoff_base.as_nanos() / 1_000_000).max(1);
        let ceiling = (1u64 << n.min(30)) - 1;
        let window = ceiling * base_ms;
        let max = 10 * base_ms;
        SimDuration::from_millis((rng.below(window.max(1))).min(max))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use test_case::test_case;

    fn retry(yaml: &str) -> HttpRetry {
        serde_json::from_str(yaml).unwrap()
    }

    #[test]
    fn istios_default_retries_only_failures_to_connect() {
        let p = RetryPolicy::convert(None).unwrap();
        assert_eq!(p.num_retries, 2);
        assert!(p.previous_hosts);
        assert!(p.retries(Attempt::ConnectFailure));
        assert!(!p.retries(Attempt::Status(503)), "no 503 since 1.24");
        assert!(!p.retries(Attempt::Reset));
        assert!(!p.retries(Attempt::PerTryTimeout));
        assert!(
            !RetryPolicy::convert(Some(&retry(
                r#"{"attempts": 1, "retryIgnorePreviousHosts": false}"#
            )))
            .unwrap()
            .previous_hosts
        );
    }

    #[test]
    fn zero_attempts_removes_the_policy() {
        assert_eq!(
            RetryPolicy::convert(Some(&retry(r#"{"attempts": 0}"#))),
            None
        );
    }

    #[test_case("5xx", Attempt::Status(500), true)]
    #[test_case("5xx", Attempt::Reset, true)]
    #[test_case("5xx", Attempt::PerTryTimeout, true)]
    #[test_case("5xx", Attempt::Status(404), false)]
    #[test_case("gateway-error", Attempt::Status(500), false)]
    #[test_case("gateway-error", Attempt::Status(503), true)]
    #[test_case("reset", Attempt::Status(503), false)]
    #[test_case("reset", Attempt::Reset, true)]
    #[test_case("connect-failure", Attempt::Reset, false)]
    #[test_case("retriable-4xx", Attempt::Status(409), true)]
    #[test_case("503", Attempt::Status(503), true; "a bare status code")]
    #[test_case("connect-failure,refused-stream,503", Attempt::Status(502), false)]
    fn retry_on(on: &str, attempt: Attempt, retried: bool) {
        let spec = retry(&format!(r#"{{"attempts": 3, "retryOn": "{on}"}}"#));
        let p = RetryPolicy::convert(Some(&spec)).unwrap();
        assert_eq!(p.retries(attempt), retried);
    }

    #[test]
    fn a_policy_without_retry_on_keeps_istios_conditions() {
        let spec = retry(r#"{"attempts": 3, "perTryTimeout": "2s"}"#);
        let p = RetryPolicy::convert(Some(&spec)).unwrap();
        assert_eq!(p.num_retries, 3);
        assert_eq!(p.per_try_timeout, Some(SimDuration::from_secs(2)));
        assert!(!p.retries(Attempt::PerTryTimeout));
    }

    #[test]
    fn backoff_is_jittered_and_capped() {
        let p = RetryPolicy::convert(None).unwrap();
        let mut rng = Rng::stream(1, "t");
        for n in 1..8 {
            for _ in 0..200 {
                let b = p.backoff(n, &mut rng).as_nanos() / 1_000_000;
                let window = ((1u64 << n) - 1) * 25;
                assert!(b < window && b <= 250, "retry {n}: {b} ms");
            }
        }
    }
}
