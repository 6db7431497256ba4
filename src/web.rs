//! The web as meshsim sees it: there is no internet, so a URL that istiod or
//! a user's `curl` fetches (a RequestAuthentication's `jwksUri`, Istio's
//! sample token) is answered from files. Istio's sample JWT issuer is
//! bundled (`manifests/samples/jwt/`, served at its GitHub URLs for every
//! release branch); a scenario's `urls:` or `--url URL=FILE` add more.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Istio's sample JWT files, by file name under
/// `https://raw.githubusercontent.com/istio/istio/<ref>/security/tools/jwt/samples/`.
const ISTIO_JWT_SAMPLES: [(&str, &str); 4] = [
    (
        "jwks.json",
        include_str!("../manifests/samples/jwt/jwks.json"),
    ),
    (
        "demo.jwt",
        include_str!("../manifests/samples/jwt/demo.jwt"),
    ),
    (
        "groups-scope.jwt",
        include_str!("../manifests/samples/jwt/groups-scope.jwt"),
    ),
    ("key.pem", include_str!("../manifests/samples/jwt/key.pem")),
];

const ISTIO_RAW: &str = "https://raw.githubusercontent.com/istio/istio/";
const SAMPLES_DIR: &str = "/security/tools/jwt/samples/";

/// URL → body, for the URLs a run may fetch.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Web {
    pages: BTreeMap<String, Arc<str>>,
}

impl Web {
    /// Serves `body` at `url` (replacing a bundled page).
    pub fn add(&mut self, url: &str, body: impl Into<Arc<str>>) {
        self.pages.insert(url.to_string(), body.into());
    }

    /// Adds `other`'s pages, which win over these.
    pub fn extend(&mut self, other: Web) {
        self.pages.extend(other.pages);
    }

    /// The body at `url`, if meshsim has it.
    pub fn get(&self, url: &str) -> Option<&str> {
        if let Some(body) = self.pages.get(url) {
            return Some(body);
        }
        let rest = url.strip_prefix(ISTIO_RAW)?;
        let (_branch, file) = rest.split_once(SAMPLES_DIR)?;
        ISTIO_JWT_SAMPLES
            .iter()
            .find(|(name, _)| *name == file)
            .map(|(_, body)| *body)
    }

    /// Reads `URL=FILE` (the `--url` flag) into the map.
    pub fn add_file_arg(&mut self, arg: &str) -> Result<(), String> {
        // The file name is after the last `=`: URLs may have their own.
        let (url, file) = arg
            .rsplit_once('=')
            .filter(|(u, f)| !u.is_empty() && !f.is_empty())
            .ok_or_else(|| format!("--url wants URL=FILE, not {arg:?}"))?;
        let body =
            std::fs::read_to_string(file).map_err(|e| format!("--url {url}: {file}: {e}"))?;
        self.add(url, body);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn istio_samples_are_served_for_any_release_branch() {
        let web = Web::default();
        for branch in ["release-1.27", "master", "release-1.20"] {
            let jwks = web
                .get(&format!("{ISTIO_RAW}{branch}{SAMPLES_DIR}jwks.json"))
                .unwrap();
            assert!(jwks.contains("DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ"));
        }
        assert!(web.get("https://example.com/jwks.json").is_none());
        assert!(
            web.get(&format!("{ISTIO_RAW}master{SAMPLES_DIR}nope"))
                .is_none()
        );
    }

    #[test]
    fn added_pages_win() {
        let mut web = Web::default();
        let url = format!("{ISTIO_RAW}master{SAMPLES_DIR}jwks.json");
        web.add(&url, "{\"keys\": []}");
        assert_eq!(web.get(&url), Some("{\"keys\": []}"));
        assert!(web.add_file_arg("nourl").is_err());
        assert!(
            web.add_file_arg("https://x/=/no/such/file")
                .unwrap_err()
                .contains("/no/such/file")
        );
    }
}
