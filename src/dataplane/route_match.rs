//! Whether a request meets a VirtualService `HTTPMatchRequest`, decided the
//! way Envoy decides it from the `RouteMatch` istiod writes for the block,
//! plus the conditions istiod settles while it builds one proxy's routes.
//!
//! Sources, cited by letter next to the code:
//! - I: istio/istio 1.27.9, `pilot/pkg/networking/core/route/route.go`
//!   (`TranslateRoute`, `sourceMatchHTTP`, `TranslateRouteMatch`,
//!   `translateHeaderMatch`, `translateQueryParamMatch`,
//!   `canBeConvertedToPresentMatch`), `pilot/pkg/model/config.go`
//!   (`resolveGatewayName`), `pilot/pkg/model/push_context.go`
//!   (`getGatewayNames`), `pkg/jwt/routing.go` (`ToRoutingClaim`).
//! - A: istio/api 1.27.9, `networking/v1alpha3/virtual_service.proto`.
//! - E: envoyproxy/envoy, `source/common/http/header_utility.cc`
//!   (`matchHeaders`), `source/common/http/header_map_impl.cc` (the `host`
//!   alias), `source/common/router/config_impl.cc` (`matchRoute`, the path
//!   route entries), `source/common/router/config_utility.cc`
//!   (`QueryParameterMatcher`), `source/common/http/utility.cc`
//!   (`parseQueryString`), `source/common/common/matchers.cc`
//!   (`PathMatcher`, `MetadataMatcher`).

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;

use regex::Regex;

use crate::apps::Request;
use crate::config::networking::common::{StringMatch, full_match_regex};
use crate::config::networking::virtual_service::HttpMatchRequest;

/// The reserved gateway name for the mesh's sidecars.
const MESH: &str = "mesh";

/// The facts about a request that route matching looks at.
pub struct MatchInput<'a> {
    /// Method, authority (`:authority`/`Host`), path with its query, headers.
    pub request: &'a Request,
    /// `http` or `https`.
    pub scheme: &'a str,
    /// The port the client connected to: the Service port for a sidecar,
    /// the Gateway server's port number for a gateway.
    pub port: u16,
    /// The labels of the proxy's own workload: the client's for a sidecar,
    /// the gateway pod's for a gateway (istiod compares `sourceLabels` with
    /// the proxy it writes config for, I `sourceMatchHTTP`).
    pub source_labels: &'a BTreeMap<String, String>,
    /// That workload's namespace.
    pub source_namespace: &'a str,
    /// `ns/name` of the gateway this proxy is; `None` for a sidecar (`mesh`).
    pub gateway: Option<&'a str>,
}

/// A condition of a match block that did not hold.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mismatch {
    /// The `HTTPMatchRequest` field, as the VirtualService spells it (`uri`,
    /// `headers`, `withoutHeaders`, `queryParams`, `sourceLabels`…).
    pub field: &'static str,
    /// What was seen and what was wanted, for `meshsim route`.
    pub reason: String,
}

impl fmt::Display for Mismatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.reason)
    }
}

/// An Envoy `RouteMatch` path specifier.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PathSpecifier<'a> {
    Prefix(&'a str),
    Path(&'a str),
    Regex(&'a str),
}

/// A compiled `HTTPMatchRequest` (regexes compiled once).
#[derive(Clone, Debug)]
pub struct CompiledMatch {
    name: String,
    port: u32,
    /// The VirtualService's own gateways, resolved; `[mesh]` when it names
    /// none (I `getGatewayNames`).
    vs_gateways: Vec<String>,
    /// The block's gateways, resolved; empty means "no further narrowing".
    gateways: Vec<String>,
    source_labels: BTreeMap<String, String>,
    source_namespace: String,
    /// In the order Envoy checks them: `headers` and `withoutHeaders` sorted
    /// by name, then `:method`, `:authority`, `:scheme` (I
    /// `TranslateRouteMatch`).
    headers: Vec<HeaderCondition>,
    query_params: Vec<QueryCondition>,
    claims: Vec<ClaimCondition>,
    uri: Option<UriCondition>,
}

impl CompiledMatch {
    /// Compiles block `m` of a VirtualService in `vs_namespace` whose
    /// top-level `gateways` are `vs_gateways`. Fails only on a regex Envoy
    /// would reject too (istiod's validation rejects it first).
    pub fn compile(
        m: &HttpMatchRequest,
        vs_namespace: &str,
        vs_gateways: &[String],
    ) -> Result<CompiledMatch, String> {
        let mut headers = Vec::new();
        let mut claims = Vec::new();
        for (field, map, invert) in [
            ("headers", &m.headers, false),
            ("withoutHeaders", &m.without_headers, true),
        ] {
            for (name, sm) in map {
                let matcher = Matcher::compile(sm).map_err(|e| format!("{field}.{name}: {e}"))?;
                if is_jwt_claim(name) {
                    claims.push(ClaimCondition {
                        field,
                        key: name.clone(),
                        matcher,
                        invert,
                    });
                } else {
                    // Envoy lower-cases matcher names (`LowerCaseString`).
                    headers.push(HeaderCondition {
                        field,
                        name: name.to_ascii_lowercase(),
                        matcher,
                        invert,
                    });
                }
            }
        }
        headers.sort_by(|a, b| a.name.cmp(&b.name));
        for (field, name, sm) in [
            ("method", ":method", &m.method),
            ("authority", ":authority", &m.authority),
            ("scheme", ":scheme", &m.scheme),
        ] {
            if let Some(sm) = sm {
                headers.push(HeaderCondition {
                    field,
                    name: name.to_string(),
                    matcher: Matcher::compile(sm).map_err(|e| format!("{field}: {e}"))?,
                    invert: false,
                });
            }
        }
        let query_params = m
            .query_params
            .iter()
            .map(|(name, sm)| {
                Ok(QueryCondition {
                    name: name.clone(),
                    matcher: Matcher::compile(sm)
                        .map_err(|e| format!("queryParams.{name}: {e}"))?,
                })
            })
            .collect::<Result<_, String>>()?;
        let uri = match &m.uri {
            Some(sm) => UriCondition::compile(sm, m.ignore_uri_case)?,
            None => None,
        };
        let resolve = |names: &[String]| -> Vec<String> {
            names
                .iter()
                .map(|g| resolve_gateway(g, vs_namespace))
                .collect()
        };
        let mut vs_gateways = resolve(vs_gateways);
        if vs_gateways.is_empty() {
            vs_gateways.push(MESH.to_string());
        }
        Ok(CompiledMatch {
            name: m.name.clone(),
            port: m.port,
            vs_gateways,
            gateways: resolve(&m.gateways),
            source_labels: m.source_labels.clone(),
            source_namespace: m.source_namespace.clone(),
            headers,
            query_params,
            claims,
            uri,
        })
    }

    /// The block's `name` (Envoy's route name is `<rule>.<name>`).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The path part of the Envoy `RouteMatch` istiod writes for this block
    /// (I `TranslateRouteMatch`: `path` for `exact`, `prefix`, `safe_regex`
    /// as written, `prefix: /` without a `uri` condition), which
    /// `istioctl proxy-config routes` shows as the MATCH column.
    pub fn path_specifier(&self) -> PathSpecifier<'_> {
        match self.uri.as_ref().map(|u| &u.matcher) {
            Some(Matcher::Exact(p)) => PathSpecifier::Path(p),
            Some(Matcher::Prefix(p)) => PathSpecifier::Prefix(p),
            Some(Matcher::Regex(r, _)) => PathSpecifier::Regex(r),
            Some(Matcher::Present) | None => PathSpecifier::Prefix("/"),
        }
    }

    /// Whether Envoy sees this block as matching every request: path
    /// prefix `/` (or regex `.*`, or no path condition) and no header,
    /// query or metadata condition (I route.go `IsCatchAllRoute`; `port`,
    /// sources and gateways are istiod's, not Envoy's).
    pub fn is_catch_all(&self) -> bool {
        let uri_all = match &self.uri {
            None => true,
            Some(u) => match &u.matcher {
                Matcher::Prefix(p) => p == "/",
                Matcher::Regex(r, _) => r == ".*",
                Matcher::Present | Matcher::Exact(_) => false,
            },
        };
        uri_all && self.headers.is_empty() && self.query_params.is_empty() && self.claims.is_empty()
    }

    /// `Ok(())` when every condition holds; otherwise the first that failed,
    /// in the order istiod and then Envoy check them: port, gateways,
    /// source; headers, query parameters, JWT claims; the path last
    /// (E `*RouteEntryImpl::matches` run `matchRoute` before the path).
    pub fn evaluate(&self, input: &MatchInput) -> Result<(), Mismatch> {
        self.applies_to(input)?;
        for h in &self.headers {
            h.check(input)?;
        }
        for q in &self.query_params {
            q.check(&input.request.path)?;
        }
        for c in &self.claims {
            c.check()?;
        }
        match &self.uri {
            Some(uri) => uri.check(&input.request.path),
            None => Ok(()),
        }
    }

    /// The conditions istiod settles when it writes this proxy's routes (I
    /// `TranslateRoute`): `port`, the gateways, `sourceLabels` and
    /// `sourceNamespace`. When one fails the route does not exist on this
    /// proxy at all, which matters to callers: a VirtualService left with
    /// no route for a proxy contributes no virtual host there, so the
    /// proxy's default route for the Service applies instead of a 404 (I
    /// `buildSidecarVirtualHostsForVirtualService`). Every request through
    /// one proxy comes from the same workload, so checking this per request
    /// with that workload's labels gives istiod's answer.
    pub fn applies_to(&self, input: &MatchInput) -> Result<(), Mismatch> {
        if self.port != 0 && self.port != u32::from(input.port) {
            return Err(Mismatch {
                field: "port",
                reason: format!("port is {} (want {})", input.port, self.port),
            });
        }
        let proxy = input.gateway.unwrap_or(MESH);
        // A block's `gateways` can only narrow the VirtualService's: a
        // proxy gets the VirtualService at all only when its top-level
        // gateways name it (I `getGatewayNames` feeds the index that
        // `VirtualServicesForGateway` reads), although A says the block's
        // list "overrides" the top-level one.
        if !self.vs_gateways.iter().any(|g| g == proxy) {
            return Err(Mismatch {
                field: "gateways",
                reason: format!(
                    "proxy {proxy:?} is not among the VirtualService's gateways [{}]",
                    self.vs_gateways.join(", ")
                ),
            });
        }
        if !self.gateways.is_empty() {
            if !self.gateways.iter().any(|g| g == proxy) {
                return Err(Mismatch {
                    field: "gateways",
                    reason: format!(
                        "proxy {proxy:?} is not among this match's gateways [{}]",
                        self.gateways.join(", ")
                    ),
                });
            }
            // With gateways set, istiod does not look at sourceLabels or
            // sourceNamespace at all (I `sourceMatchHTTP`: `if
            // len(match.Gateways) > 0 {…} else if …SubsetOf…`).
            return Ok(());
        }
        for (key, want) in &self.source_labels {
            match input.source_labels.get(key) {
                Some(have) if have == want => {}
                have => {
                    return Err(Mismatch {
                        field: "sourceLabels",
                        reason: match have {
                            Some(have) => {
                                format!("source label {key:?} is {have:?} (want {want:?})")
                            }
                            None => format!("source label {key:?} is absent (want {want:?})"),
                        },
                    });
                }
            }
        }
        if !self.source_namespace.is_empty() && self.source_namespace != input.source_namespace {
            return Err(Mismatch {
                field: "sourceNamespace",
                reason: format!(
                    "source namespace is {:?} (want {:?})",
                    input.source_namespace, self.source_namespace
                ),
            });
        }
        Ok(())
    }
}

/// A route's match list: any one block matching selects the route, and no
/// blocks at all means "always" (I `BuildHTTPRoutesForVirtualService`
/// writes one Envoy route per block, in order). `Ok(Some(i))` names the
/// first block that matched, `Ok(None)` an empty list; `Err` holds each
/// block's first failed condition, in block order.
pub fn evaluate_any(
    matches: &[CompiledMatch],
    input: &MatchInput,
) -> Result<Option<usize>, Vec<Mismatch>> {
    if matches.is_empty() {
        return Ok(None);
    }
    let mut misses = Vec::with_capacity(matches.len());
    for (i, m) in matches.iter().enumerate() {
        match m.evaluate(input) {
            Ok(()) => return Ok(Some(i)),
            Err(miss) => misses.push(miss),
        }
    }
    Err(misses)
}

/// An Envoy string matcher, as `util.ConvertToEnvoyMatch` or present_match
/// writes it.
#[derive(Clone, Debug)]
enum Matcher {
    Present,
    Exact(String),
    Prefix(String),
    /// The pattern as written, and compiled for a full match (Envoy's
    /// `safe_regex` is RE2 matched against the whole value).
    Regex(String, Regex),
}

impl Matcher {
    /// `{}` and the regex `*` become present_match (I
    /// `canBeConvertedToPresentMatch`: "`*` is NOT a RE2 style regex",
    /// istio/istio#20629); everything else is a string match. The CRD's
    /// oneOf leaves at most one of the three set.
    fn compile(sm: &StringMatch) -> Result<Matcher, String> {
        Ok(match (&sm.exact, &sm.prefix, &sm.regex) {
            (Some(e), _, _) => Matcher::Exact(e.clone()),
            (None, Some(p), _) => Matcher::Prefix(p.clone()),
            (None, None, Some(r)) if r == "*" => Matcher::Present,
            (None, None, Some(r)) => Matcher::regex(r)?,
            (None, None, None) => Matcher::Present,
        })
    }

    fn regex(pattern: &str) -> Result<Matcher, String> {
        full_match_regex(pattern)
            .map(|re| Matcher::Regex(pattern.to_string(), re))
            .map_err(|e| format!("invalid regex {pattern:?}: {e}"))
    }

    fn matches(&self, value: &str) -> bool {
        match self {
            Matcher::Present => true,
            Matcher::Exact(e) => value == e,
            Matcher::Prefix(p) => value.starts_with(p.as_str()),
            Matcher::Regex(_, re) => re.is_match(value),
        }
    }
}

impl fmt::Display for Matcher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Matcher::Present => f.write_str("present"),
            Matcher::Exact(e) => write!(f, "exact {e:?}"),
            Matcher::Prefix(p) => write!(f, "prefix {p:?}"),
            Matcher::Regex(r, _) => write!(f, "regex {r:?}"),
        }
    }
}

/// An Envoy `HeaderMatcher` on a header or pseudo-header.
#[derive(Clone, Debug)]
struct HeaderCondition {
    field: &'static str,
    /// Lower case; pseudo-headers keep their colon.
    name: String,
    matcher: Matcher,
    /// `withoutHeaders`: istiod sets `invert_match`, and on string matchers
    /// also `treat_missing_header_as_empty` (I `TranslateRouteMatch`).
    invert: bool,
}

impl HeaderCondition {
    /// E `HeaderUtility::matchHeaders`: a missing header fails every
    /// matcher, except that an inverted present_match holds; with
    /// `treat_missing_header_as_empty` the missing header is compared as "".
    /// So `withoutHeaders: {x: {exact: a}}` holds when `x` is absent, but
    /// `withoutHeaders: {x: {regex: ".*"}}` holds never.
    fn check(&self, input: &MatchInput) -> Result<(), Mismatch> {
        let value = header_value(input, &self.name);
        let present = matches!(self.matcher, Matcher::Present);
        let holds = match (value.as_deref(), self.invert) {
            (None, false) => false,
            (None, true) => present || !self.matcher.matches(""),
            (Some(v), invert) => self.matcher.matches(v) != invert,
        };
        if holds {
            return Ok(());
        }
        let what = match self.field {
            "headers" | "withoutHeaders" => format!("header {:?}", self.name),
            field => field.to_string(),
        };
        let m = &self.matcher;
        let reason = match (value.as_deref(), self.invert) {
            (None, false) => format!("{what} is absent (want {m})"),
            (Some(v), false) => format!("{what} is {v:?} (want {m})"),
            (Some(_), true) if present => format!("{what} is present (want it absent)"),
            (Some(v), true) => format!("{what} is {v:?} (want not {m})"),
            (None, true) => {
                format!("{what} is absent, which Envoy compares as \"\" (want not {m})")
            }
        };
        Err(Mismatch {
            field: self.field,
            reason,
        })
    }
}

/// The value Envoy's header map gives for `name`: pseudo-headers from the
/// request line, `host` as an alias of `:authority` (E `header_map_impl.cc`
/// maps "a legacy host header to :authority"), `:path` with its query, and
/// repeated headers joined with `,` (E `getAllOfHeaderAsString`), so
/// `x: a` and `x: b` match `prefix: a` but not `exact: a`.
fn header_value<'a>(input: &MatchInput<'a>, name: &str) -> Option<Cow<'a, str>> {
    let request = input.request;
    match name {
        ":authority" | "host" => {
            Some(Cow::Borrowed(request.authority.as_str())).filter(|a| !a.is_empty())
        }
        ":method" => Some(Cow::Borrowed(request.method.as_str())),
        ":scheme" => Some(Cow::Borrowed(input.scheme)),
        ":path" => Some(Cow::Borrowed(request.path.as_str())),
        _ if name.starts_with(':') => None,
        _ => {
            let mut values = request
                .headers
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(name))
                .map(|(_, v)| v.as_str());
            let first = values.next()?;
            Some(values.fold(Cow::Borrowed(first), |acc, v| {
                Cow::Owned(format!("{acc},{v}"))
            }))
        }
    }
}

/// An Envoy `QueryParameterMatcher`.
#[derive(Clone, Debug)]
struct QueryCondition {
    name: String,
    matcher: Matcher,
}

impl QueryCondition {
    /// Only the parameter's first value counts (E `QueryParameterMatcher::
    /// matches`: "ignoring all but the first value for a given key"), and a
    /// missing parameter fails every matcher, present_match included.
    fn check(&self, path: &str) -> Result<(), Mismatch> {
        let value = first_query_value(path, &self.name);
        if value.is_some_and(|v| self.matcher.matches(v)) {
            return Ok(());
        }
        let (name, m) = (&self.name, &self.matcher);
        Err(Mismatch {
            field: "queryParams",
            reason: match value {
                Some(v) => format!("query parameter {name:?} is {v:?} (want {m})"),
                None => format!("query parameter {name:?} is absent (want {m})"),
            },
        })
    }
}

/// E `QueryParamsMulti::parseQueryString`: everything after the first `?`
/// (a `#fragment` included), split on `&`, each at its first `=`; a name
/// without `=` has the value ""; nothing is percent-decoded.
fn first_query_value<'p>(path: &'p str, name: &str) -> Option<&'p str> {
    let mut rest = &path[path.find('?')? + 1..];
    while !rest.is_empty() {
        let (param, next) = rest.split_once('&').unwrap_or((rest, ""));
        let (key, value) = param.split_once('=').unwrap_or((param, ""));
        if key == name {
            return Some(value);
        }
        rest = next;
    }
    None
}

/// The route's path specifier.
#[derive(Clone, Debug)]
struct UriCondition {
    matcher: Matcher,
    ignore_case: bool,
}

impl UriCondition {
    /// `uri: {}` leaves Envoy's default prefix `/`, which every valid path
    /// has, so it is no condition. `ignoreUriCase` becomes Envoy's
    /// `case_sensitive: false`, which Envoy ignores for `safe_regex` (A:
    /// "the case will be ignored only in the case of exact and prefix").
    /// The regex `*` is not made a present match here: it is a bad regex.
    fn compile(sm: &StringMatch, ignore_uri_case: bool) -> Result<Option<UriCondition>, String> {
        let matcher = match (&sm.exact, &sm.prefix, &sm.regex) {
            (Some(e), _, _) => Matcher::Exact(e.clone()),
            (None, Some(p), _) => Matcher::Prefix(p.clone()),
            (None, None, Some(r)) => Matcher::regex(r).map_err(|e| format!("uri: {e}"))?,
            (None, None, None) => return Ok(None),
        };
        let ignore_case = ignore_uri_case && !matches!(matcher, Matcher::Regex(..));
        Ok(Some(UriCondition {
            matcher,
            ignore_case,
        }))
    }

    /// Every path matcher sees the path without its query and fragment (E
    /// `PathMatcher::match` calls `removeQueryAndFragment`).
    fn check(&self, path: &str) -> Result<(), Mismatch> {
        let path = path.find(['?', '#']).map_or(path, |i| &path[..i]);
        let holds = match (&self.matcher, self.ignore_case) {
            (Matcher::Exact(e), true) => path.eq_ignore_ascii_case(e),
            (Matcher::Prefix(p), true) => path
                .as_bytes()
                .get(..p.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(p.as_bytes())),
            (m, _) => m.matches(path),
        };
        if holds {
            return Ok(());
        }
        let case = if self.ignore_case {
            ", ignoring case"
        } else {
            ""
        };
        Err(Mismatch {
            field: "uri",
            reason: format!("path is {path:?} (want {}{case})", self.matcher),
        })
    }
}

/// A `@request.auth.claims` key: Envoy matches it against the dynamic
/// metadata of a validated JWT instead of a header (I
/// `translateMetadataMatch`).
#[derive(Clone, Debug)]
struct ClaimCondition {
    field: &'static str,
    key: String,
    matcher: Matcher,
    invert: bool,
}

impl ClaimCondition {
    /// meshsim runs no `jwt_authn` filter, so no request carries claims.
    /// Envoy's metadata matcher fails on missing metadata, and its inverted
    /// form (from `withoutHeaders`) therefore holds (E `MetadataMatcher::
    /// match`: `value_matcher_->match(value) ^ invert`).
    fn check(&self) -> Result<(), Mismatch> {
        if self.invert {
            return Ok(());
        }
        Err(Mismatch {
            field: self.field,
            reason: format!(
                "JWT claim {:?} is absent: meshsim does not validate JWTs, so requests carry no claims (want {})",
                self.key, self.matcher
            ),
        })
    }
}

/// I `ToRoutingClaim`: `@request.auth.claims` (any case) followed by
/// `.a.b` or `[a][b]`; anything else with that prefix is a plain header.
fn is_jwt_claim(name: &str) -> bool {
    const PREFIX: &str = "@request.auth.claims";
    let Some(rest) = name
        .get(..PREFIX.len())
        .filter(|p| p.eq_ignore_ascii_case(PREFIX))
        .map(|_| &name[PREFIX.len()..])
    else {
        return false;
    };
    (rest.starts_with('.') && rest.len() > 1)
        || (rest.starts_with('[') && rest.ends_with(']') && rest.len() > 2)
}

/// I `resolveGatewayName`: `gw` and `./gw` are in the VirtualService's
/// namespace, `ns/gw` stays, and the legacy `gw.ns[.svc.cluster.local]`
/// becomes `ns/gw`.
fn resolve_gateway(name: &str, vs_namespace: &str) -> String {
    if name == MESH {
        return name.to_string();
    }
    match name.split_once('/') {
        Some((".", gw)) => format!("{vs_namespace}/{gw}"),
        Some(_) => name.to_string(),
        None => match name.split_once('.') {
            None => format!("{vs_namespace}/{name}"),
            Some((gw, rest)) => format!("{}/{gw}", rest.split('.').next().unwrap_or(rest)),
        },
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use test_case::test_case;

    use super::*;
    use crate::yaml::{from_node, parse_documents};

    /// A match block written as YAML flow (`{uri: {prefix: /api}}`).
    fn block(yaml: &str) -> HttpMatchRequest {
        let (docs, err) = parse_documents(yaml);
        assert!(err.is_none(), "{err:?}");
        from_node(&docs[0].root).expect("a valid HTTPMatchRequest")
    }

    /// A request and the proxy it passes through: by default a GET of
    /// `reviews:9080` by the productpage sidecar in `bookinfo`, routed by a
    /// VirtualService in `bookinfo` bound to the mesh.
    #[derive(Debug)]
    struct Env {
        request: Request,
        scheme: &'static str,
        port: u16,
        labels: BTreeMap<String, String>,
        namespace: &'static str,
        gateway: Option<&'static str>,
        vs_gateways: Vec<String>,
    }

    fn get(path: &str) -> Env {
        Env {
            request: Request::get("reviews:9080", path),
            scheme: "http",
            port: 9080,
            labels: [("app", "productpage"), ("version", "v1")]
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .into(),
            namespace: "bookinfo",
            gateway: None,
            vs_gateways: Vec::new(),
        }
    }

    impl Env {
        fn header(mut self, name: &str, value: &str) -> Env {
            self.request.headers.push((name.into(), value.into()));
            self
        }
        fn method(mut self, method: &str) -> Env {
            self.request.method = method.into();
            self
        }
        fn authority(mut self, authority: &str) -> Env {
            self.request.authority = authority.into();
            self
        }
        fn scheme(mut self, scheme: &'static str) -> Env {
            self.scheme = scheme;
            self
        }
        fn port(mut self, port: u16) -> Env {
            self.port = port;
            self
        }
        fn gateway(mut self, gateway: &'static str) -> Env {
            self.gateway = Some(gateway);
            self
        }
        fn bound_to(mut self, gateways: &[&str]) -> Env {
            self.vs_gateways = gateways.iter().map(|g| g.to_string()).collect();
            self
        }
        fn input(&self) -> MatchInput<'_> {
            MatchInput {
                request: &self.request,
                scheme: self.scheme,
                port: self.port,
                source_labels: &self.labels,
                source_namespace: self.namespace,
                gateway: self.gateway,
            }
        }
    }

    fn eval(yaml: &str, env: &Env) -> Result<(), String> {
        CompiledMatch::compile(&block(yaml), "bookinfo", &env.vs_gateways)
            .unwrap()
            .evaluate(&env.input())
            .map_err(|m| m.to_string())
    }

    // uri: the path without its query or fragment (E PathMatcher::match ->
    // removeQueryAndFragment); regex is a full RE2 match; ignoreUriCase
    // applies to exact and prefix only (A ignore_uri_case).
    #[test_case("{uri: {exact: /productpage}}", get("/productpage"), Ok(()); "exact")]
    #[test_case("{uri: {exact: /productpage}}", get("/productpage?u=normal"), Ok(()); "exact ignores the query")]
    #[test_case("{uri: {exact: /productpage}}", get("/productpage#top"), Ok(()); "exact ignores the fragment")]
    #[test_case("{uri: {exact: /productpage}}", get("/productpage/"),
        Err(r#"uri: path is "/productpage/" (want exact "/productpage")"#); "exact is exact")]
    #[test_case("{uri: {prefix: /api}}", get("/apis/v1"), Ok(()); "prefix is not segment aware")]
    #[test_case("{uri: {prefix: \"/api?x\"}}", get("/api?x=1"),
        Err(r#"uri: path is "/api" (want prefix "/api?x")"#); "prefix never sees the query")]
    #[test_case("{uri: {regex: \"/reviews/[0-9]+\"}}", get("/reviews/1"), Ok(()); "regex")]
    #[test_case("{uri: {regex: \"/reviews/[0-9]+\"}}", get("/reviews/1/x"),
        Err(r#"uri: path is "/reviews/1/x" (want regex "/reviews/[0-9]+")"#); "regex is a full match")]
    #[test_case("{uri: {exact: /PRODUCTPAGE}, ignoreUriCase: true}", get("/productpage"), Ok(()); "ignore case exact")]
    #[test_case("{uri: {prefix: /Api}, ignoreUriCase: true}", get("/API/v1"), Ok(()); "ignore case prefix")]
    #[test_case("{uri: {prefix: /api}, ignoreUriCase: true}", get("/Ap"),
        Err(r#"uri: path is "/Ap" (want prefix "/api", ignoring case)"#); "ignore case prefix too short")]
    #[test_case("{uri: {regex: /productpage}, ignoreUriCase: true}", get("/ProductPage"),
        Err(r#"uri: path is "/ProductPage" (want regex "/productpage")"#); "ignore case does not touch regex")]
    #[test_case("{uri: {}}", get("/anything"), Ok(()); "empty uri is envoy's default prefix")]
    // method, authority, scheme: header matchers on :method, :authority,
    // :scheme, case-sensitive (I TranslateRouteMatch, A StringMatch docs).
    #[test_case("{method: {exact: GET}}", get("/").method("POST"),
        Err(r#"method: method is "POST" (want exact "GET")"#); "method")]
    #[test_case("{method: {exact: get}}", get("/"),
        Err(r#"method: method is "GET" (want exact "get")"#); "method is case sensitive")]
    #[test_case("{authority: {prefix: reviews}}", get("/"), Ok(()); "authority prefix")]
    #[test_case("{authority: {regex: \"reviews(:9080)?\"}}", get("/").authority("reviews.bookinfo:9080"),
        Err(r#"authority: authority is "reviews.bookinfo:9080" (want regex "reviews(:9080)?")"#); "authority regex is full")]
    #[test_case("{scheme: {exact: https}}", get("/"),
        Err(r#"scheme: scheme is "http" (want exact "https")"#); "scheme")]
    #[test_case("{scheme: {exact: https}}", get("/").scheme("https"), Ok(()); "scheme https")]
    // headers: names lower-cased, `{}` and regex `*` are present_match (I
    // translateHeaderMatch), repeated values joined with "," (E
    // getAllOfHeaderAsString), `host` aliases :authority (E header_map_impl).
    #[test_case("{headers: {end-user: {exact: jason}}}", get("/").header("end-user", "jason"), Ok(()); "header exact")]
    #[test_case("{headers: {end-user: {exact: jason}}}", get("/"),
        Err(r#"headers: header "end-user" is absent (want exact "jason")"#); "header absent")]
    #[test_case("{headers: {end-user: {exact: jason}}}", get("/").header("end-user", "Jason"),
        Err(r#"headers: header "end-user" is "Jason" (want exact "jason")"#); "header values are case sensitive")]
    #[test_case("{headers: {End-User: {exact: jason}}}", get("/").header("end-user", "jason"), Ok(()); "header names are not")]
    #[test_case("{headers: {x: {}}}", get("/").header("x", ""), Ok(()); "empty match is presence")]
    #[test_case("{headers: {x: {}}}", get("/"), Err(r#"headers: header "x" is absent (want present)"#); "presence fails when absent")]
    #[test_case("{headers: {x: {regex: \"*\"}}}", get("/").header("x", "1"), Ok(()); "regex star is presence")]
    #[test_case("{headers: {x: {prefix: ab}}}", get("/").header("x", "abc"), Ok(()); "header prefix")]
    #[test_case("{headers: {x: {regex: abc}}}", get("/").header("x", "xabcx"),
        Err(r#"headers: header "x" is "xabcx" (want regex "abc")"#); "header regex is full")]
    #[test_case("{headers: {x: {exact: a}}}", get("/").header("x", "a").header("x", "b"),
        Err(r#"headers: header "x" is "a,b" (want exact "a")"#); "repeated header joined")]
    #[test_case("{headers: {x: {prefix: a}}}", get("/").header("x", "a").header("x", "b"), Ok(()); "repeated header prefix")]
    #[test_case("{headers: {x: {exact: \"\"}}}", get("/").header("x", ""), Ok(()); "exact empty value")]
    #[test_case("{headers: {host: {exact: \"reviews:9080\"}}}", get("/"), Ok(()); "host is authority")]
    #[test_case("{headers: {\":path\": {prefix: \"/a?x=\"}}}", get("/a?x=1"), Ok(()); "path pseudo header keeps query")]
    #[test_case("{headers: {uri: {exact: /a}}}", get("/a"),
        Err(r#"headers: header "uri" is absent (want exact "/a")"#); "uri key is a plain header")]
    // withoutHeaders: invert_match, plus treat_missing_header_as_empty for
    // string matchers (I TranslateRouteMatch; E matchHeaders).
    #[test_case("{withoutHeaders: {end-user: {exact: jason}}}", get("/"), Ok(()); "without holds when absent")]
    #[test_case("{withoutHeaders: {end-user: {exact: jason}}}", get("/").header("end-user", "bob"), Ok(()); "without other value")]
    #[test_case("{withoutHeaders: {end-user: {exact: jason}}}", get("/").header("end-user", "jason"),
        Err(r#"withoutHeaders: header "end-user" is "jason" (want not exact "jason")"#); "without same value")]
    #[test_case("{withoutHeaders: {x: {}}}", get("/"), Ok(()); "without presence absent")]
    #[test_case("{withoutHeaders: {x: {regex: \"*\"}}}", get("/").header("x", ""),
        Err(r#"withoutHeaders: header "x" is present (want it absent)"#); "without presence present")]
    #[test_case("{withoutHeaders: {x: {regex: \".*\"}}}", get("/"),
        Err(r#"withoutHeaders: header "x" is absent, which Envoy compares as "" (want not regex ".*")"#); "without dot star never holds")]
    #[test_case("{withoutHeaders: {x: {exact: \"\"}}}", get("/"),
        Err(r#"withoutHeaders: header "x" is absent, which Envoy compares as "" (want not exact "")"#); "without exact empty fails when absent")]
    // queryParams: exact, prefix and regex (A query_params), `{}` is
    // present_match (I translateQueryParamMatch); first value only, no
    // decoding (E QueryParameterMatcher, parseQueryString).
    #[test_case("{queryParams: {key: {exact: \"true\"}}}", get("/?key=true"), Ok(()); "query exact")]
    #[test_case("{queryParams: {key: {exact: \"false\"}}}", get("/?key=true&key=false"),
        Err(r#"queryParams: query parameter "key" is "true" (want exact "false")"#); "query first value only")]
    #[test_case("{queryParams: {key: {exact: \"\"}}}", get("/?key"), Ok(()); "query bare name is empty")]
    #[test_case("{queryParams: {key: {exact: \"\"}}}", get("/?key="), Ok(()); "query empty value")]
    #[test_case("{queryParams: {key: {}}}", get("/?a=1&key"), Ok(()); "query presence")]
    #[test_case("{queryParams: {key: {}}}", get("/?a=1"),
        Err(r#"queryParams: query parameter "key" is absent (want present)"#); "query presence absent")]
    #[test_case("{queryParams: {key: {exact: a b}}}", get("/?key=a%20b"),
        Err(r#"queryParams: query parameter "key" is "a%20b" (want exact "a b")"#); "query not decoded")]
    #[test_case("{queryParams: {key: {prefix: ab}}}", get("/?key=abc"), Ok(()); "query prefix")]
    #[test_case("{queryParams: {key: {regex: \"\\\\d+\"}}}", get("/?key=a123"),
        Err(r#"queryParams: query parameter "key" is "a123" (want regex "\\d+")"#); "query regex is full")]
    #[test_case("{queryParams: {key: {exact: v}}}", get("/?key=v#top"),
        Err(r##"queryParams: query parameter "key" is "v#top" (want exact "v")"##); "query keeps the fragment")]
    #[test_case("{queryParams: {key: {exact: v}}}", get("/?Key=v"),
        Err(r#"queryParams: query parameter "key" is absent (want exact "v")"#); "query names are case sensitive")]
    // port: the listener port must equal (I TranslateRoute).
    #[test_case("{port: 8080}", get("/").port(8080), Ok(()); "port")]
    #[test_case("{port: 8080}", get("/"), Err("port: port is 9080 (want 8080)"); "other port")]
    // sourceLabels ⊆ proxy labels, sourceNamespace equal (I sourceMatchHTTP).
    #[test_case("{sourceLabels: {app: productpage}}", get("/"), Ok(()); "source labels")]
    #[test_case("{sourceLabels: {app: reviews}}", get("/"),
        Err(r#"sourceLabels: source label "app" is "productpage" (want "reviews")"#); "source label differs")]
    #[test_case("{sourceLabels: {team: a}}", get("/"),
        Err(r#"sourceLabels: source label "team" is absent (want "a")"#); "source label absent")]
    #[test_case("{sourceNamespace: bookinfo}", get("/"), Ok(()); "source namespace")]
    #[test_case("{sourceNamespace: default}", get("/"),
        Err(r#"sourceNamespace: source namespace is "bookinfo" (want "default")"#); "source namespace differs")]
    // gateways (I sourceMatchHTTP, getGatewayNames, resolveGatewayName).
    #[test_case("{}", get("/").gateway("istio-system/gw"),
        Err(r#"gateways: proxy "istio-system/gw" is not among the VirtualService's gateways [mesh]"#); "no gateways means mesh")]
    #[test_case("{}", get("/").bound_to(&["gw"]).gateway("bookinfo/gw"), Ok(()); "short name in vs namespace")]
    #[test_case("{gateways: [mesh]}", get("/").bound_to(&["istio-system/gw"]),
        Err(r#"gateways: proxy "mesh" is not among the VirtualService's gateways [istio-system/gw]"#); "block cannot widen")]
    #[test_case("{gateways: [gw]}", get("/").bound_to(&["mesh", "gw"]),
        Err(r#"gateways: proxy "mesh" is not among this match's gateways [bookinfo/gw]"#); "block narrows")]
    #[test_case("{gateways: [gw]}", get("/").bound_to(&["mesh", "gw"]).gateway("bookinfo/gw"), Ok(()); "block names gateway")]
    #[test_case("{gateways: [mesh], sourceLabels: {app: reviews}, sourceNamespace: x}", get("/"), Ok(());
        "gateways switch source checks off")]
    // @request.auth.claims keys match JWT metadata, never a header (I
    // translateMetadataMatch); meshsim requests carry no claims.
    #[test_case("{headers: {\"@request.auth.claims.group\": {exact: admin}}}", get("/").header("@request.auth.claims.group", "admin"),
        Err(r#"headers: JWT claim "@request.auth.claims.group" is absent: meshsim does not validate JWTs, so requests carry no claims (want exact "admin")"#); "claim")]
    #[test_case("{withoutHeaders: {\"@request.auth.claims[group]\": {exact: admin}}}", get("/"), Ok(()); "without claim")]
    #[test_case("{headers: {\"@request.auth.claimsx\": {exact: a}}}", get("/"),
        Err(r#"headers: header "@request.auth.claimsx" is absent (want exact "a")"#); "not a claim key")]
    fn evaluates(yaml: &str, env: Env, want: Result<(), &str>) {
        assert_eq!(eval(yaml, &env), want.map_err(str::to_string));
    }

    // I resolveGatewayName.
    #[test_case("mesh", "mesh")]
    #[test_case("gw", "bookinfo/gw")]
    #[test_case("./gw", "bookinfo/gw")]
    #[test_case("istio-system/gw", "istio-system/gw")]
    #[test_case("gw.istio-system", "istio-system/gw")]
    #[test_case("gw.istio-system.svc.cluster.local", "istio-system/gw")]
    fn resolves_gateway_names(name: &str, want: &str) {
        assert_eq!(resolve_gateway(name, "bookinfo"), want);
    }

    #[test]
    fn checks_in_envoys_order() {
        // Headers before the path (E matchRoute runs before the path
        // matcher); headers sorted by name, then :method (I
        // TranslateRouteMatch).
        let yaml = "{uri: {exact: /a}, method: {exact: POST}, headers: {b: {}, a: {}}}";
        assert_eq!(
            eval(yaml, &get("/b")),
            Err(r#"headers: header "a" is absent (want present)"#.to_string())
        );
    }

    #[test]
    fn bad_regex_is_a_compile_error() {
        let err = CompiledMatch::compile(&block("{uri: {regex: \"*\"}}"), "ns", &[]).unwrap_err();
        assert!(err.starts_with(r#"uri: invalid regex "*""#), "{err}");
    }

    #[test]
    fn lists_are_ors_of_blocks() {
        let env = get("/b");
        let compile = |y: &str| CompiledMatch::compile(&block(y), "bookinfo", &[]).unwrap();
        let list = [
            compile("{uri: {exact: /a}}"),
            compile("{uri: {prefix: /b}}"),
        ];
        assert_eq!(evaluate_any(&list, &env.input()), Ok(Some(1)));
        assert_eq!(evaluate_any(&[], &env.input()), Ok(None));
        let misses = evaluate_any(&list[..1], &env.input()).unwrap_err();
        assert_eq!(
            misses[0].to_string(),
            r#"uri: path is "/b" (want exact "/a")"#
        );
    }

    // Small alphabets, so that generated conditions hold about as often as
    // they fail.
    fn string_match() -> impl Strategy<Value = StringMatch> {
        prop_oneof![
            Just(StringMatch::default()),
            "[ab]{0,2}".prop_map(|s| StringMatch {
                exact: Some(s),
                ..StringMatch::default()
            }),
            "[ab]{1,2}".prop_map(|s| StringMatch {
                prefix: Some(s),
                ..StringMatch::default()
            }),
            prop::sample::select(vec!["a.*", "[ab]", ".*", "b+", "*"]).prop_map(|s| StringMatch {
                regex: Some(s.to_string()),
                ..StringMatch::default()
            }),
        ]
    }

    fn uri_match() -> impl Strategy<Value = StringMatch> {
        prop_oneof![
            "/[ab]{0,2}".prop_map(|s| StringMatch {
                exact: Some(s),
                ..StringMatch::default()
            }),
            "/[aAb]{0,1}".prop_map(|s| StringMatch {
                prefix: Some(s),
                ..StringMatch::default()
            }),
            prop::sample::select(vec!["/a.*", "/[ab]", "/.*"]).prop_map(|s| StringMatch {
                regex: Some(s.to_string()),
                ..StringMatch::default()
            }),
        ]
    }

    fn names(of: &'static [&'static str]) -> impl Strategy<Value = String> {
        prop::sample::select(of).prop_map(str::to_string)
    }

    /// A field set about a third of the time, so blocks stay sparse enough
    /// to match now and then.
    fn sometimes<T: fmt::Debug>(s: impl Strategy<Value = T>) -> impl Strategy<Value = Option<T>> {
        prop::option::weighted(0.3, s)
    }

    fn map_of<V: fmt::Debug>(
        keys: &'static [&'static str],
        values: impl Strategy<Value = V>,
    ) -> impl Strategy<Value = BTreeMap<String, V>> {
        sometimes(prop::collection::btree_map(names(keys), values, 1..3))
            .prop_map(Option::unwrap_or_default)
    }

    /// A block without `gateways` (those switch other conditions off, see
    /// "gateways switch source checks off").
    fn any_block() -> impl Strategy<Value = HttpMatchRequest> {
        let maps = (
            map_of(&["x", "y"], string_match()),
            map_of(&["x", "y"], string_match()),
            map_of(&["k", "q"], string_match()),
            map_of(&["app", "v"], names(&["a", "b"])),
        );
        let scalars = (
            sometimes(uri_match()),
            sometimes(string_match()),
            sometimes(string_match()),
            sometimes(string_match()),
            sometimes(prop::sample::select(vec![80u32, 81])).prop_map(Option::unwrap_or_default),
            sometimes(names(&["n1", "n2"])).prop_map(Option::unwrap_or_default),
            any::<bool>(),
        );
        (maps, scalars).prop_map(
            |(
                (headers, without_headers, query_params, source_labels),
                (uri, method, authority, scheme, port, source_namespace, ignore_uri_case),
            )| HttpMatchRequest {
                uri,
                method,
                authority,
                scheme,
                headers,
                without_headers,
                query_params,
                source_labels,
                port,
                source_namespace,
                ignore_uri_case,
                ..HttpMatchRequest::default()
            },
        )
    }

    fn any_env() -> impl Strategy<Value = Env> {
        (
            (
                "[ab]{1,2}",
                "[ab]{1,2}",
                "/[aAb]{0,2}(\\?[kq]=[ab]{0,2}(&[kq]=[ab])?)?",
            ),
            prop::collection::vec((names(&["x", "y", "z"]), "[ab]{0,2}"), 0..3),
            (
                prop::sample::select(vec!["a", "b", "http"]),
                prop::sample::select(vec![80u16, 81]),
            ),
            prop::collection::btree_map(names(&["app", "v"]), names(&["a", "b"]), 0..3),
            prop::sample::select(vec!["n1", "n2"]),
        )
            .prop_map(
                |((method, authority, path), headers, (scheme, port), labels, ns)| Env {
                    request: Request {
                        method,
                        authority,
                        path,
                        headers,
                    },
                    scheme,
                    port,
                    labels,
                    namespace: ns,
                    gateway: None,
                    vs_gateways: Vec::new(),
                },
            )
    }

    fn compiled(m: &HttpMatchRequest) -> CompiledMatch {
        CompiledMatch::compile(m, "n1", &[]).unwrap()
    }

    /// `base` with every condition of `extra` that `base` does not set.
    fn and(base: &HttpMatchRequest, extra: &HttpMatchRequest) -> HttpMatchRequest {
        let mut m = base.clone();
        m.uri = m.uri.or_else(|| extra.uri.clone());
        m.method = m.method.or_else(|| extra.method.clone());
        m.authority = m.authority.or_else(|| extra.authority.clone());
        m.scheme = m.scheme.or_else(|| extra.scheme.clone());
        for (to, from) in [
            (&mut m.headers, &extra.headers),
            (&mut m.without_headers, &extra.without_headers),
            (&mut m.query_params, &extra.query_params),
        ] {
            for (k, v) in from {
                to.entry(k.clone()).or_insert_with(|| v.clone());
            }
        }
        for (k, v) in &extra.source_labels {
            m.source_labels
                .entry(k.clone())
                .or_insert_with(|| v.clone());
        }
        if m.port == 0 {
            m.port = extra.port;
        }
        if m.source_namespace.is_empty() {
            m.source_namespace = extra.source_namespace.clone();
        }
        m
    }

    proptest! {
        // Generated blocks match about one request in eight; enough cases
        // that the AND property meets a few dozen matching extensions.
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn empty_block_matches_anything(env in any_env(), gateway in prop::option::of(Just("n1/gw"))) {
            let mut env = env;
            if let Some(g) = gateway {
                env = env.gateway(g).bound_to(&[g]);
            }
            let m = CompiledMatch::compile(&HttpMatchRequest::default(), "n1", &env.vs_gateways).unwrap();
            prop_assert_eq!(m.evaluate(&env.input()), Ok(()));
        }

        #[test]
        fn a_block_is_an_and(base in any_block(), extra in any_block(), env in any_env()) {
            let wider = compiled(&base).evaluate(&env.input());
            let narrower = compiled(&and(&base, &extra)).evaluate(&env.input());
            prop_assert!(wider.is_ok() || narrower.is_err(), "{wider:?} but {narrower:?}");
        }

        #[test]
        fn a_list_is_an_or(blocks in prop::collection::vec(any_block(), 0..4), env in any_env()) {
            let list: Vec<CompiledMatch> = blocks.iter().map(compiled).collect();
            let first = list.iter().position(|m| m.evaluate(&env.input()).is_ok());
            match evaluate_any(&list, &env.input()) {
                Ok(None) => prop_assert!(list.is_empty()),
                Ok(Some(i)) => prop_assert_eq!(Some(i), first),
                Err(misses) => {
                    prop_assert_eq!(first, None);
                    prop_assert_eq!(misses.len(), list.len());
                }
            }
        }

        #[test]
        fn regexes_match_whole_values(a in "[a-z]{1,3}", x in "[a-z]{0,2}", y in "[a-z]{0,2}") {
            prop_assume!(!(x.is_empty() && y.is_empty()));
            let re = regex::escape(&a);
            let inside = format!("{x}{a}{y}");
            for (yaml, whole, around) in [
                (format!("{{uri: {{regex: \"/{re}\"}}}}"), get(&format!("/{a}")), get(&format!("/{inside}"))),
                (format!("{{headers: {{h: {{regex: \"{re}\"}}}}}}"), get("/").header("h", &a), get("/").header("h", &inside)),
                (format!("{{queryParams: {{q: {{regex: \"{re}\"}}}}}}"), get(&format!("/?q={a}")), get(&format!("/?q={inside}"))),
            ] {
                prop_assert_eq!(eval(&yaml, &whole), Ok(()));
                prop_assert!(eval(&yaml, &around).is_err(), "{} matched {:?}", yaml, around.request);
            }
        }
    }
}
