//! No input makes meshsim panic: mangled versions of real manifests and
//! scenarios go through the loaders, which must answer with diagnostics.
//! proptest shrinks any failure to a minimal input and records it under
//! `proptest-regressions/`.

use std::path::Path;

use proptest::prelude::*;

const SEEDS: &[&str] = &[
    include_str!("../manifests/bookinfo/bookinfo.yaml"),
    include_str!("../manifests/samples/curl.yaml"),
    include_str!("../scenarios/bookinfo.yaml"),
    "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: reviews\nspec:\n  hosts: [reviews]\n  http:\n  - match:\n    - headers:\n        end-user:\n          exact: jason\n    route:\n    - destination: {host: reviews, subset: v2}\n      weight: 90\n    - destination: {host: reviews, subset: v3}\n      weight: 10\n    timeout: 2s\n    retries: {attempts: 3, perTryTimeout: 1s, retryOn: 5xx}\n    mirror: {host: reviews, subset: v1}\n    mirrorPercentage: {value: 50.0}\n",
    "apiVersion: networking.istio.io/v1beta1\nkind: DestinationRule\nmetadata: {name: reviews}\nspec:\n  host: reviews\n  trafficPolicy:\n    connectionPool: {tcp: {maxConnections: 1}, http: {http1MaxPendingRequests: 1}}\n    outlierDetection: {consecutiveErrors: 1, interval: 1s, baseEjectionTime: 3m}\n  subsets: [{name: v1, labels: {version: v1}}]\n",
    "apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata: {name: p, namespace: bookinfo}\nspec:\n  selector: {matchLabels: {app: productpage}}\n  rules:\n  - from: [{source: {principals: [\"cluster.local/ns/default/sa/x\"]}}]\n    to: [{operation: {methods: [GET], paths: [\"/productpage*\"]}}]\n    when: [{key: request.headers[x], values: [a]}]\n",
];

/// Characters that carry YAML structure, the likeliest to break a parser.
const NOISE: &[char] = &[
    ':', '-', '[', ']', '{', '}', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`', '#', ' ',
    '\n', '\t', '?', ',', '0', '9', 'é', '\u{0}',
];

#[derive(Debug, Clone)]
enum Edit {
    Delete { at: usize, len: usize },
    Insert { at: usize, c: char },
    Duplicate { at: usize, len: usize },
    Indent { line: usize, delta: i8 },
    Truncate { at: usize },
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        (any::<usize>(), 1usize..40).prop_map(|(at, len)| Edit::Delete { at, len }),
        (any::<usize>(), prop::sample::select(NOISE)).prop_map(|(at, c)| Edit::Insert { at, c }),
        (any::<usize>(), 1usize..80).prop_map(|(at, len)| Edit::Duplicate { at, len }),
        (any::<usize>(), -3i8..4).prop_map(|(line, delta)| Edit::Indent { line, delta }),
        any::<usize>().prop_map(|at| Edit::Truncate { at }),
    ]
}

fn boundary(s: &str, at: usize) -> usize {
    let mut at = at % (s.len() + 1);
    while !s.is_char_boundary(at) {
        at -= 1;
    }
    at
}

fn apply(mut s: String, e: &Edit) -> String {
    match *e {
        Edit::Delete { at, len } => {
            let a = boundary(&s, at);
            let b = boundary(&s, a + len);
            s.replace_range(a..b.max(a), "");
        }
        Edit::Insert { at, c } => {
            let a = boundary(&s, at);
            s.insert(a, c);
        }
        Edit::Duplicate { at, len } => {
            let a = boundary(&s, at);
            let b = boundary(&s, a + len).max(a);
            let piece = s[a..b].to_string();
            s.insert_str(b, &piece);
        }
        Edit::Indent { line, delta } => {
            let mut lines: Vec<String> = s.lines().map(str::to_string).collect();
            if !lines.is_empty() {
                let i = line % lines.len();
                if delta > 0 {
                    lines[i] = " ".repeat(delta as usize) + &lines[i];
                } else {
                    let n = (-delta) as usize;
                    let trimmed = lines[i].chars().skip_while(|c| *c == ' ').count();
                    let spaces = lines[i].len() - trimmed;
                    lines[i] = lines[i][n.min(spaces)..].to_string();
                }
            }
            s = lines.join("\n");
        }
        Edit::Truncate { at } => {
            let a = boundary(&s, at);
            s.truncate(a);
        }
    }
    s
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn mangled_manifests_never_panic(seed in 0..SEEDS.len(), edits in prop::collection::vec(edit(), 1..6)) {
        let text = edits.iter().fold(SEEDS[seed].to_string(), apply);
        let loaded = meshsim::config::load_str("fuzz.yaml", &text, Some("bookinfo"));
        for d in &loaded.diagnostics {
            // One line per problem, always naming the file.
            prop_assert!(!d.to_string().contains('\n'));
            prop_assert!(d.to_string().starts_with("fuzz.yaml"));
        }
        let _ = meshsim::scenario::parse(Path::new("fuzz.yaml"), &text);
    }

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,300}") {
        let _ = meshsim::config::load_str("fuzz.yaml", &text, None);
        let _ = meshsim::scenario::parse(Path::new("fuzz.yaml"), &text);
    }
}
