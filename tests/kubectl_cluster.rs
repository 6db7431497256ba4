//! `meshsim up` driven by the real kubectl (the machine's v1.32 dispatcher)
//! and meshsim's istioctl, as a learner types the course's Lab 1: every
//! command in real bash, against a step-clock cluster whose output must be
//! what a real cluster prints, and the same bytes on every run.

use std::path::PathBuf;
use std::process::Command;

/// A cluster in its own state directory, HOME and kubectl cache, stopped
/// when dropped.
struct Cluster {
    root: PathBuf,
    name: String,
}

impl Cluster {
    fn start(name: &str, tag: &str) -> Cluster {
        assert!(
            Command::new("kubectl")
                .arg("version")
                .arg("--client")
                .output()
                .is_ok(),
            "these tests drive the real kubectl, which is not on PATH"
        );
        let root =
            std::env::temp_dir().join(format!("meshsim-kubectl-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("home")).unwrap();
        let c = Cluster {
            root,
            name: name.to_string(),
        };
        let out = c.meshsim(&["up", "-d", "--clock", "step", "--port", "0", "--name", name]);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        c
    }

    fn command(&self, program: &str) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(&self.root)
            .env("MESHSIM_STATE", self.root.join("state"))
            .env("HOME", self.root.join("home"))
            .env_remove("KUBECONFIG");
        cmd
    }

    fn meshsim(&self, args: &[&str]) -> std::process::Output {
        self.command(env!("CARGO_BIN_EXE_meshsim"))
            .args(args)
            .output()
            .expect("meshsim runs")
    }

    /// Runs a bash script after `eval "$(meshsim shell-env)"`; stdout and
    /// stderr together, as a terminal shows them.
    fn bash(&self, script: &str) -> String {
        let meshsim = env!("CARGO_BIN_EXE_meshsim");
        let full = format!(
            "eval \"$('{meshsim}' shell-env --name {})\"\nexec 2>&1\n{script}",
            self.name
        );
        let out = self
            .command("bash")
            .arg("-c")
            .arg(full)
            .output()
            .expect("bash runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = self.meshsim(&["down", "--delete", "--name", &self.name]);
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

/// Lab 1, steps 2 to 5, as the course writes them (the bookinfo URL is
/// answered from meshsim's bundled copy), then the course's
/// VirtualServices applied, listed and deleted.
const LAB1: &str = r#"
istioctl install --set profile=ambient -y
kubectl get pods -n istio-system
istioctl proxy-status
kubectl get daemonset -n istio-system ztunnel
kubectl get daemonset -n istio-system istio-cni-node
kubectl create namespace bookinfo
kubectl apply -f https://raw.githubusercontent.com/istio/istio/release-1.27/samples/bookinfo/platform/kube/bookinfo.yaml -n bookinfo
kubectl wait --for=condition=ready pod --all -n bookinfo --timeout=300s
kubectl get pods -n bookinfo
kubectl label namespace bookinfo istio.io/dataplane-mode=ambient
kubectl get namespace bookinfo -o jsonpath='{.metadata.labels}'
echo
kubectl apply -f MANIFESTS/course/destination-rule-reviews.yaml -n bookinfo
kubectl apply -f MANIFESTS/course/virtual-service-reviews-v1.yaml -n bookinfo
kubectl get vs -n bookinfo
kubectl apply -f MANIFESTS/course/virtual-service-reviews-canary.yaml -n bookinfo
kubectl get vs reviews -n bookinfo -o jsonpath='{.spec.http[0].route[*].weight}'
echo
kubectl delete -f MANIFESTS/course/virtual-service-reviews-canary.yaml -n bookinfo
kubectl get vs -n bookinfo
"#;

fn lab1() -> String {
    let manifests = concat!(env!("CARGO_MANIFEST_DIR"), "/manifests");
    LAB1.replace("MANIFESTS", manifests)
}

/// The lines of `out` that match `pattern`.
fn lines_like<'a>(out: &'a str, pattern: &str) -> Vec<&'a str> {
    let re = regex::Regex::new(pattern).unwrap();
    out.lines().filter(|l| re.is_match(l)).collect()
}

#[test]
fn lab1_steps_2_to_5_print_what_a_cluster_prints() {
    let c = Cluster::start("lab1", "lab1");
    let out = c.bash(&lab1());
    // istioctl 1.27's install, and the ambient profile's missing gateway
    // explained (course errata 4).
    assert!(out.contains("✔ Istio core installed ⛵️\n✔ Istiod installed 🧠\n✔ CNI installed 🪢\n✔ Ztunnel installed 🔒\n✔ Installation complete\n"), "{out}");
    assert!(
        out.contains("the ambient profile installs no ingress gateway"),
        "{out}"
    );
    // kubectl's own table: one istiod, a ztunnel and a CNI pod per node.
    assert!(
        out.contains("NAME                      READY   STATUS    RESTARTS   AGE\n"),
        "{out}"
    );
    assert_eq!(
        lines_like(
            &out,
            r"^istiod-[a-z0-9]{8,10}-[a-z0-9]{5} +1/1 +Running +0 +\d+s$"
        )
        .len(),
        1,
        "{out}"
    );
    assert_eq!(
        lines_like(&out, r"^ztunnel-[a-z0-9]{5} +1/1 +Running +0 +\d+s$").len(),
        3,
        "{out}"
    );
    assert_eq!(
        lines_like(&out, r"^istio-cni-node-[a-z0-9]{5} +1/1 +Running +0 +\d+s$").len(),
        3,
        "{out}"
    );
    // Lab 1 step 3: istioctl 1.27's proxy-status lists the ztunnels,
    // subscribed to the workload types only.
    assert!(out.contains("NAME                           CLUSTER        ISTIOD                      VERSION     SUBSCRIBED TYPES\n"), "{out}");
    assert_eq!(
        lines_like(&out, r"^ztunnel-[a-z0-9]{5}\.istio-system +Kubernetes +istiod-[a-z0-9-]+ +1\.27\.9 +2 \(WADS,WDS\)$").len(),
        3,
        "{out}"
    );
    assert!(out.contains("NAME      DESIRED   CURRENT   READY   UP-TO-DATE   AVAILABLE   NODE SELECTOR   AGE\nztunnel   3         3         3       3            3           <none>          "), "{out}");
    assert_eq!(
        lines_like(&out, r"^istio-cni-node +3 +3 +3 +3 +3 +<none> +\d+s$").len(),
        1,
        "{out}"
    );
    // Bookinfo: created, waited for, Running with the READY column 1/1
    // (ambient: no sidecar).
    assert!(out.contains("namespace/bookinfo created\n"), "{out}");
    assert!(
        out.contains("deployment.apps/reviews-v3 created\n"),
        "{out}"
    );
    assert_eq!(
        lines_like(&out, r"^pod/[a-z0-9-]+ condition met$").len(),
        6,
        "{out}"
    );
    for app in [
        "details-v1",
        "productpage-v1",
        "ratings-v1",
        "reviews-v1",
        "reviews-v2",
        "reviews-v3",
    ] {
        let row = format!(r"^{app}-[a-z0-9]{{8,10}}-[a-z0-9]{{5}} +1/1 +Running +0 +\d+s$");
        assert_eq!(lines_like(&out, &row).len(), 1, "{app}: {out}");
    }
    assert!(out.contains("namespace/bookinfo labeled\n{\"istio.io/dataplane-mode\":\"ambient\",\"kubernetes.io/metadata.name\":\"bookinfo\"}\n"), "{out}");
    // The course's VirtualServices.
    assert!(out.contains("destinationrule.networking.istio.io/reviews created\nvirtualservice.networking.istio.io/reviews created\n"), "{out}");
    assert!(out.contains("NAME      GATEWAYS   HOSTS                                    AGE\nreviews              [\"reviews.bookinfo.svc.cluster.local\"]   "), "{out}");
    assert!(
        out.contains("virtualservice.networking.istio.io/reviews configured\n90 10\n"),
        "{out}"
    );
    assert!(out.contains("virtualservice.networking.istio.io \"reviews\" deleted\nNo resources found in bookinfo namespace.\n"), "{out}");
    assert!(!out.contains("rror"), "{out}");
}

#[test]
fn the_same_script_prints_the_same_bytes_in_step_mode() {
    let runs: Vec<String> = ["a", "b"]
        .iter()
        .map(|tag| {
            let c = Cluster::start("twice", &format!("twice-{tag}"));
            c.bash(&format!(
                "{}\nkubectl get pods -A -o wide\nkubectl get deploy,rs,svc,ep -A\n",
                lab1()
            ))
        })
        .collect();
    assert!(runs[0].contains("reviews-v3"), "{}", runs[0]);
    assert_eq!(runs[0], runs[1]);
}

#[test]
fn errors_read_as_a_real_apiserver_words_them() {
    let c = Cluster::start("errors", "errors");
    let bad_vs = c.root.join("bad-vs.yaml");
    std::fs::write(
        &bad_vs,
        "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata:\n  name: r\nspec:\n  hosts: [reviews]\n  http:\n  - route:\n    - destination: {host: reviews}\n      weight: -1\n",
    )
    .unwrap();
    let out = c.bash(&format!(
        "kubectl get pod nope\nkubectl get vs -n nowhere\nkubectl apply -f {} \nkubectl create namespace default\nkubectl get pods -l 'a in (b'\nistioctl frobnicate\necho rc=$?",
        bad_vs.display()
    ));
    assert!(
        out.contains("Error from server (NotFound): pods \"nope\" not found\n"),
        "{out}"
    );
    assert!(
        out.contains("No resources found in nowhere namespace.\n"),
        "{out}"
    );
    assert!(
        out.contains("admission webhook \"validation.istio.io\" denied the request: configuration is invalid:"),
        "{out}"
    );
    assert!(
        out.contains("Error from server (AlreadyExists): namespaces \"default\" already exists\n"),
        "{out}"
    );
    assert!(
        out.contains("Error: unknown command \"frobnicate\" for \"istioctl\"\n"),
        "{out}"
    );
    assert!(out.contains("rc=1"), "{out}");
}

#[test]
fn state_survives_down_and_up() {
    let c = Cluster::start("keep", "keep");
    let before = c.bash(
        // Labelled after its contents were made (the injection flow), and
        // the `default` namespace changed too: both must come back.
        "kubectl create namespace shop\nkubectl apply -f MANIFESTS/samples/httpbin.yaml -n shop\nkubectl label namespace shop istio-injection=enabled\nkubectl label namespace default team=a\nkubectl get deploy,svc -n shop -o name"
            .replace("MANIFESTS", concat!(env!("CARGO_MANIFEST_DIR"), "/manifests"))
            .as_str(),
    );
    assert!(
        before.contains("deployment.apps/httpbin created"),
        "{before}"
    );
    let down = c.meshsim(&["down", "--name", "keep"]);
    assert!(
        down.status.success(),
        "{}",
        String::from_utf8_lossy(&down.stderr)
    );
    let up = c.meshsim(&[
        "up", "-d", "--clock", "step", "--port", "0", "--name", "keep",
    ]);
    let said = String::from_utf8_lossy(&up.stdout);
    assert!(said.starts_with("Restored 4 objects from "), "{said}");
    let after = c.bash("kubectl get deploy,svc -n shop -o name\nkubectl get ns shop -o jsonpath='{.metadata.labels.istio-injection}'\nkubectl get ns default -o jsonpath=' {.metadata.labels.team}'");
    assert_eq!(after, "deployment.apps/httpbin\nservice/httpbin\nenabled a");
}

#[test]
fn kubectl_exec_runs_in_the_simulated_pod() {
    let c = Cluster::start("exec", "exec");
    let out = c.bash(
        &"istioctl install --set profile=default -y >/dev/null
kubectl create namespace bookinfo >/dev/null
kubectl label namespace bookinfo istio-injection=enabled >/dev/null
kubectl apply -f MANIFESTS/bookinfo/bookinfo.yaml -n bookinfo >/dev/null
kubectl wait --for=condition=ready pod --all -n bookinfo >/dev/null
kubectl exec -n bookinfo deploy/productpage-v1 -- curl -s http://details:9080/details/0
echo
kubectl exec -n bookinfo deploy/productpage-v1 -- curl -s -o /dev/null -w '%{http_code}' http://nowhere:9080/
echo \" rc=$?\"
kubectl exec -n bookinfo deploy/ratings-v1 -- nosuch
echo \"rc=$?\"
kubectl exec -n bookinfo deploy/productpage-v1 -- sh -c 'curl -s http://productpage:9080/productpage | grep -o \"<title>.*</title>\"; nosuch; exit 3'
echo \"rc=$?\""
            .replace("MANIFESTS", concat!(env!("CARGO_MANIFEST_DIR"), "/manifests")),
    );
    // Through productpage's sidecar to details, as Lab 1 step 6 does.
    assert!(
        out.contains("{\"id\":0,\"author\":\"William Shakespeare\",\"year\":1595,"),
        "{out}"
    );
    // curl's own exit code for a name that does not resolve (6) is
    // kubectl's, through the status stream.
    // (kubectl copies the pod's stdout and stderr concurrently, so
    // their order on a terminal is not fixed.)
    assert!(
        out.contains("000command terminated with exit code 6\n rc=6\n")
            || out.contains("command terminated with exit code 6\n000 rc=6\n"),
        "{out}"
    );
    assert!(
        out.contains("command terminated with exit code 126\nrc=126"),
        "{out}"
    );
    // A script in the pod's shell: pipes, a missing program, exit codes.
    let script = out.split("rc=126\n").nth(1).unwrap_or_default();
    assert!(
        script.contains("<title>Simple Bookstore App</title>\n"),
        "{out}"
    );
    assert!(script.contains("sh: nosuch: not found\n"), "{out}");
    assert!(
        script.ends_with("command terminated with exit code 3\nrc=3\n"),
        "{out}"
    );
}

/// Istio's default profile (with its ingress gateway) and Bookinfo with
/// sidecars, ready.
const INJECTED_BOOKINFO: &str = "istioctl install -y >/dev/null 2>&1
kubectl create namespace bookinfo >/dev/null
kubectl label namespace bookinfo istio-injection=enabled >/dev/null
kubectl apply -f https://raw.githubusercontent.com/istio/istio/release-1.27/samples/bookinfo/platform/kube/bookinfo.yaml -n bookinfo >/dev/null
kubectl wait --for=condition=ready pod --all -n bookinfo >/dev/null
";

#[test]
fn the_real_curl_reaches_bookinfo_through_the_gateway() {
    let c = Cluster::start("live", "live");
    // Lab 1 step 7 (with the default profile, which has the ingress
    // gateway the ambient one lacks), then malformed HTTP, then again.
    let out = c.bash(&format!(
        "{INJECTED_BOOKINFO}{}",
        r#"kubectl apply -f https://raw.githubusercontent.com/istio/istio/release-1.27/samples/bookinfo/networking/bookinfo-gateway.yaml -n bookinfo
until [ -n "$(kubectl get svc -n istio-system istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}')" ]; do sleep 0.1; done
export INGRESS_HOST=$(kubectl get svc -n istio-system istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}')
export INGRESS_PORT=$(kubectl get svc -n istio-system istio-ingressgateway -o jsonpath='{.spec.ports[?(@.name=="http2")].port}')
export GATEWAY_URL=$INGRESS_HOST:$INGRESS_PORT
for i in 1 2 3 4 5 6 7 8 9 10; do curl -s -o /dev/null http://${GATEWAY_URL}/ && break; sleep 0.2; done
curl -s http://${GATEWAY_URL}/productpage | grep -o "<title>.*</title>"
exec 3<>/dev/tcp/$INGRESS_HOST/$INGRESS_PORT
printf 'GARBAGE\r\n\r\n' >&3
head -1 <&3
curl -s -o /dev/null -w '%{http_code}\n' http://${GATEWAY_URL}/productpage
"#
    ));
    assert!(
        out.contains("virtualservice.networking.istio.io/bookinfo created\n"),
        "{out}"
    );
    assert!(
        out.contains("<title>Simple Bookstore App</title>\nHTTP/1.1 400 Bad Request\r\n200\n"),
        "{out}"
    );
}

/// One HTTP/1.1 exchange on a kept-alive connection: the status code.
fn get(stream: &mut std::net::TcpStream, path: &str) -> u16 {
    use std::io::{BufRead as _, Read as _, Write as _};
    // One write, so no small segment waits for a delayed ACK.
    let request = format!("GET {path} HTTP/1.1\r\nHost: gateway\r\n\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut reader = std::io::BufReader::new(stream);
    let mut status_line = String::new();
    reader.read_line(&mut status_line).unwrap();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        if line == "\r\n" {
            break;
        }
        if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
            length = v.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    status_line
        .split_whitespace()
        .nth(1)
        .unwrap()
        .parse()
        .unwrap()
}

/// The server process's resident memory, in KiB.
fn rss_kib(pid: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{}/status", pid.trim())).unwrap();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

#[test]
fn ten_thousand_requests_through_the_gateway_keep_memory_flat() {
    let c = Cluster::start("soak", "soak");
    let host = c.bash(&format!(
        "{INJECTED_BOOKINFO}{}",
        r#"kubectl apply -f https://raw.githubusercontent.com/istio/istio/release-1.27/samples/bookinfo/networking/bookinfo-gateway.yaml -n bookinfo >/dev/null
until [ -n "$(kubectl get svc -n istio-system istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}')" ]; do sleep 0.1; done
kubectl get svc -n istio-system istio-ingressgateway -o jsonpath='{.status.loadBalancer.ingress[0].ip}'"#
    ));
    let pid = std::fs::read_to_string(c.root.join("state/soak/server.pid")).unwrap();
    let mut stream = (0..50)
        .find_map(|_| {
            std::thread::sleep(std::time::Duration::from_millis(100));
            std::net::TcpStream::connect((host.trim(), 80)).ok()
        })
        .expect("the gateway listens");
    stream.set_nodelay(true).unwrap();
    let mut codes = std::collections::BTreeMap::new();
    let mut warm = 0;
    for i in 0..10_000 {
        *codes.entry(get(&mut stream, "/productpage")).or_insert(0) += 1;
        if i == 2_000 {
            warm = rss_kib(&pid);
        }
    }
    assert_eq!(codes, std::collections::BTreeMap::from([(200, 10_000)]));
    // Flat: the last 8,000 requests add no more than a few pages.
    let grown = rss_kib(&pid).saturating_sub(warm);
    assert!(grown < 4 * 1024, "grew {grown} KiB after warm-up");
}
