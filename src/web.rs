//! The web as meshsim sees it: there is no internet, so a URL that istiod or
//! a user's `curl` fetches (a RequestAuthentication's `jwksUri`, Istio's
//! sample token) is answered from files. Istio's sample JWT issuer is
//! bundled (`manifests/samples/jwt/`, served at its GitHub URLs for every
//! release branch); a scenario's `urls:` or `--url URL=FILE` add more.

use std::collections::BTreeMap;
use std::sync::Arc;

/// Files of the istio/istio repository the course fetches by URL, by path
/// under `https://raw.githubusercontent.com/istio/istio/<ref>/`: the
/// sample JWT issuer (kept byte for byte) and the sample manifests
/// (written from the samples' facts; see each file's header).
const ISTIO_FILES: [(&str, &str); 9] = [
    (
        "security/tools/jwt/samples/jwks.json",
        include_str!("../manifests/samples/jwt/jwks.json"),
    ),
    (
        "security/tools/jwt/samples/demo.jwt",
        include_str!("../manifests/samples/jwt/demo.jwt"),
    ),
    (
        "security/tools/jwt/samples/groups-scope.jwt",
        include_str!("../manifests/samples/jwt/groups-scope.jwt"),
    ),
    (
        "security/tools/jwt/samples/key.pem",
        include_str!("../manifests/samples/jwt/key.pem"),
    ),
    (
        "samples/bookinfo/platform/kube/bookinfo.yaml",
        include_str!("../manifests/bookinfo/bookinfo.yaml"),
    ),
    (
        "samples/bookinfo/networking/bookinfo-gateway.yaml",
        include_str!("../manifests/samples/bookinfo-gateway.yaml"),
    ),
    (
        "samples/httpbin/sample-client/fortio-deploy.yaml",
        include_str!("../manifests/samples/fortio-deploy.yaml"),
    ),
    (
        "samples/httpbin/httpbin.yaml",
        include_str!("../manifests/samples/httpbin.yaml"),
    ),
    (
        "samples/curl/curl.yaml",
        include_str!("../manifests/samples/curl.yaml"),
    ),
];

const ISTIO_RAW: &str = "https://raw.githubusercontent.com/istio/istio/";

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
        // Any branch or tag: `release-1.27`, `master`, `1.27.0`.
        let (_ref, path) = rest.split_once('/')?;
        ISTIO_FILES
            .iter()
            .find(|(p, _)| *p == path)
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
                .get(&format!(
                    "{ISTIO_RAW}{branch}/security/tools/jwt/samples/jwks.json"
                ))
                .unwrap();
            assert!(jwks.contains("DHFbpoIUqrY8t2zpA2qXfCmr5VO5ZEr4RzHU_-envvQ"));
        }
        assert!(web.get("https://example.com/jwks.json").is_none());
        assert!(
            web.get(&format!(
                "{ISTIO_RAW}master/security/tools/jwt/samples/nope"
            ))
            .is_none()
        );
    }

    #[test]
    fn added_pages_win() {
        let mut web = Web::default();
        let url = format!("{ISTIO_RAW}master/security/tools/jwt/samples/jwks.json");
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
