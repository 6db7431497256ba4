//! What an application container holds in memory and burns idle, by its
//! image, for `kubectl top`. Busy CPU is the model's own compute time
//! ([`super::server::Server`]); these are the rest. meshsim's estimates
//! of the sample images at rest (no published figures exist): a JVM on
//! Open Liberty (reviews) holds far more than Node.js (ratings), Ruby
//! (details) or gunicorn's eight Python workers (productpage).

/// Resident memory in bytes and idle CPU in millicores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Footprint {
    pub memory: u64,
    pub idle_millicores: u64,
}

const MIB: u64 = 1024 * 1024;

/// The footprint of a container running `image`.
pub fn of_image(image: &str) -> Footprint {
    let name = image.rsplit('/').next().unwrap_or(image);
    let name = name.split(':').next().unwrap_or(name);
    let (mib, idle) = match name {
        n if n.starts_with("examples-bookinfo-reviews-") => (160, 3),
        n if n.starts_with("examples-bookinfo-productpage-") => (64, 1),
        n if n.starts_with("examples-bookinfo-ratings-") => (28, 1),
        n if n.starts_with("examples-bookinfo-details-") => (22, 1),
        "go-httpbin" | "httpbin" => (10, 1),
        "fortio" => (14, 1),
        "curl" | "sleep" | "busybox" => (1, 0),
        "install-cni" => (24, 1),
        _ => (20, 1),
    };
    Footprint {
        memory: mib * MIB,
        idle_millicores: idle,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_jvm_holds_more_than_node() {
        let reviews = of_image("docker.io/istio/examples-bookinfo-reviews-v2:1.20.3");
        let ratings = of_image("docker.io/istio/examples-bookinfo-ratings-v1:1.20.3");
        assert!(reviews.memory > 4 * ratings.memory);
        assert_eq!(of_image("curlimages/curl").memory, MIB);
    }
}
