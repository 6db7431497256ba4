//! Object names the way Kubernetes generates them, so a pod is called
//! `reviews-v2-7f8d9c6b5-x2k9p` as a learner expects: the ReplicaSet's
//! `pod-template-hash` (FNV-32a of the pod template, its decimal digits
//! mapped onto a consonant alphabet, as `rand.SafeEncodeString` does) and a
//! random five-character suffix from the same alphabet.

use crate::sim::Rng;

/// `k8s.io/apimachinery/pkg/util/rand`'s alphabet: no vowels (no words), no
/// easily confused characters.
const ALPHANUMS: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// FNV-1a, 32 bit.
pub fn fnv32a(bytes: &[u8]) -> u32 {
    let mut h: u32 = 0x811c_9dc5;
    for b in bytes {
        h ^= u32::from(*b);
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// 64-bit FNV-1a, for digests that only need to tell states apart.
pub struct Fnv64(u64);

impl Default for Fnv64 {
    fn default() -> Self {
        Fnv64(0xcbf2_9ce4_8422_2325)
    }
}

impl Fnv64 {
    pub fn bytes(&mut self, bytes: &[u8]) {
        for b in bytes {
            self.0 ^= u64::from(*b);
            self.0 = self.0.wrapping_mul(0x0100_0000_01b3);
        }
    }

    pub fn number(&mut self, n: u64) {
        self.bytes(&n.to_le_bytes());
    }

    pub fn finish(&self) -> u64 {
        self.0
    }
}

/// [`Fnv64`] of some bytes.
pub fn fnv64(bytes: &[u8]) -> u64 {
    let mut h = Fnv64::default();
    h.bytes(bytes);
    h.finish()
}

/// `rand.SafeEncodeString(fmt.Sprint(hash))`.
pub fn safe_encode(hash: u32) -> String {
    hash.to_string()
        .bytes()
        .map(|b| ALPHANUMS[usize::from(b) % ALPHANUMS.len()] as char)
        .collect()
}

/// The `pod-template-hash` of a template, from a canonical rendering of it.
pub fn pod_template_hash(canonical_template: &str) -> String {
    safe_encode(fnv32a(canonical_template.as_bytes()))
}

/// `utilrand.String(5)`: the random suffix of generated names.
pub fn random_suffix(rng: &mut Rng) -> String {
    (0..5)
        .map(|_| ALPHANUMS[rng.below(ALPHANUMS.len() as u64) as usize] as char)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn template_hashes_look_like_kubernetes_ones() {
        let h = pod_template_hash("app=reviews,version=v2");
        assert!((8..=10).contains(&h.len()), "{h}");
        assert!(h.bytes().all(|b| ALPHANUMS.contains(&b)));
        assert_eq!(h, pod_template_hash("app=reviews,version=v2"));
        assert_ne!(h, pod_template_hash("app=reviews,version=v3"));
    }

    #[test]
    fn fnv32a_matches_the_reference_vectors() {
        assert_eq!(fnv32a(b""), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c_292c);
        assert_eq!(fnv32a(b"foobar"), 0xbf9c_f968);
    }

    #[test]
    fn suffixes_are_five_safe_characters() {
        let mut rng = Rng::from_seed(1);
        let s = random_suffix(&mut rng);
        assert_eq!(s.len(), 5);
        assert!(s.bytes().all(|b| ALPHANUMS.contains(&b)));
    }
}
