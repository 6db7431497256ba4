//! Envoy's response flags (`%RESPONSE_FLAGS%`, the `response_flags` label of
//! `istio_requests_total`): why a request ended as it did.

use std::fmt;

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ResponseFlags(u16);

/// Short codes in the order Envoy prints them
/// (`source/common/stream_info/utility.h`).
const NAMES: &[(u16, &str)] = &[
    (ResponseFlags::DC.0, "DC"),
    (ResponseFlags::UH.0, "UH"),
    (ResponseFlags::UT.0, "UT"),
    (ResponseFlags::UF.0, "UF"),
    (ResponseFlags::UC.0, "UC"),
    (ResponseFlags::UO.0, "UO"),
    (ResponseFlags::URX.0, "URX"),
    (ResponseFlags::NR.0, "NR"),
    (ResponseFlags::DI.0, "DI"),
    (ResponseFlags::FI.0, "FI"),
    (ResponseFlags::NC.0, "NC"),
];

impl ResponseFlags {
    pub const NONE: ResponseFlags = ResponseFlags(0);
    /// Downstream connection terminated.
    pub const DC: ResponseFlags = ResponseFlags(1);
    /// No healthy upstream host (503).
    pub const UH: ResponseFlags = ResponseFlags(1 << 1);
    /// Upstream request timeout (504).
    pub const UT: ResponseFlags = ResponseFlags(1 << 2);
    /// Upstream connection failure (503).
    pub const UF: ResponseFlags = ResponseFlags(1 << 3);
    /// Upstream connection termination (503).
    pub const UC: ResponseFlags = ResponseFlags(1 << 4);
    /// Upstream overflow: circuit breaking (503).
    pub const UO: ResponseFlags = ResponseFlags(1 << 5);
    /// Upstream retry limit exceeded.
    pub const URX: ResponseFlags = ResponseFlags(1 << 6);
    /// No route configured (404).
    pub const NR: ResponseFlags = ResponseFlags(1 << 7);
    /// Delay injected.
    pub const DI: ResponseFlags = ResponseFlags(1 << 8);
    /// Fault injected (abort).
    pub const FI: ResponseFlags = ResponseFlags(1 << 9);
    /// No cluster found (503).
    pub const NC: ResponseFlags = ResponseFlags(1 << 10);

    pub fn contains(self, other: ResponseFlags) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl std::ops::BitOr for ResponseFlags {
    type Output = ResponseFlags;
    fn bitor(self, rhs: ResponseFlags) -> ResponseFlags {
        ResponseFlags(self.0 | rhs.0)
    }
}

/// `-` when empty, else the codes joined by commas, as Envoy prints them.
impl fmt::Display for ResponseFlags {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_empty() {
            return f.write_str("-");
        }
        let mut first = true;
        for (bit, name) in NAMES {
            if self.0 & bit != 0 {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prints_like_envoy() {
        assert_eq!(ResponseFlags::NONE.to_string(), "-");
        assert_eq!(ResponseFlags::UH.to_string(), "UH");
        assert_eq!(
            (ResponseFlags::URX | ResponseFlags::UF).to_string(),
            "UF,URX"
        );
    }
}
