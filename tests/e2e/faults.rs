//! Faults: throttling, transient server errors and slow answers (from a misbehaving HTTP
//! endpoint the test controls), an API server that stops mid-run and comes back, objects deleted
//! while a command runs, impersonation, and kubeconfigs with broken credentials.

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::common::{daemonset, kubectl_ds, stderr, stdout};
use kubectl_ds_testbed::{
    Component, FakeNode, Options, Testbed, add_node, apply_yaml, wait_daemonset_settled,
};

#[derive(Clone, Copy)]
enum Mode {
    /// 429 with Retry-After: 1 for the first two requests of each path, then answers.
    ThrottleTwice,
    /// 503 for every request.
    AlwaysUnavailable,
    /// Never answers in time.
    Slow,
    /// Answers pod lists with a body that breaks off mid-transfer.
    CutOff,
    /// Answers pod lists with 200 and a page that is no Kubernetes list (a proxy's).
    NotAList,
}

/// A minimal HTTP endpoint that answers LIST requests with empty lists, misbehaving on purpose.
struct FakeApi {
    port: u16,
    requests: Arc<Mutex<Vec<String>>>,
}

fn empty_list(path: &str) -> String {
    let kind = if path.contains("/daemonsets") {
        ("apps/v1", "DaemonSetList")
    } else if path.contains("/controllerrevisions") {
        ("apps/v1", "ControllerRevisionList")
    } else if path.contains("/nodes") {
        ("v1", "NodeList")
    } else {
        ("v1", "PodList")
    };
    format!(
        "{{\"apiVersion\":\"{}\",\"kind\":\"{}\",\"metadata\":{{\"resourceVersion\":\"1\"}},\"items\":[]}}",
        kind.0, kind.1
    )
}

fn status(code: u16, reason: &str) -> String {
    format!(
        "{{\"kind\":\"Status\",\"apiVersion\":\"v1\",\"status\":\"Failure\",\"message\":\"{reason}\",\"reason\":\"{reason}\",\"details\":{{\"retryAfterSeconds\":1}},\"code\":{code}}}"
    )
}

fn serve(
    mut stream: TcpStream,
    mode: Mode,
    requests: Arc<Mutex<Vec<String>>>,
    seen: Arc<AtomicUsize>,
) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone"));
    let mut line = String::new();
    if reader.read_line(&mut line).is_err() {
        return;
    }
    loop {
        let mut h = String::new();
        if reader.read_line(&mut h).is_err() || h == "\r\n" || h.is_empty() {
            break;
        }
    }
    let path = line.split_whitespace().nth(1).unwrap_or("/").to_string();
    let base = path.split('?').next().unwrap_or("").to_string();
    let earlier = {
        let mut r = requests.lock().expect("lock");
        r.push(base.clone());
        r.iter().filter(|p| **p == base).count() - 1
    };
    seen.fetch_add(1, Ordering::SeqCst);
    let (code, text, body) = match mode {
        Mode::ThrottleTwice if earlier < 2 => {
            (429, "Too Many Requests", status(429, "TooManyRequests"))
        }
        Mode::ThrottleTwice => (200, "OK", empty_list(&path)),
        Mode::AlwaysUnavailable => (
            503,
            "Service Unavailable",
            status(503, "ServiceUnavailable"),
        ),
        Mode::Slow => {
            std::thread::sleep(Duration::from_secs(30));
            (200, "OK", empty_list(&path))
        }
        Mode::CutOff if base.ends_with("/pods") => {
            let body = r#"{"apiVersion":"v1","kind":"PodList","metadata":{},"items":[{"metadata":{"name":"a"}},"#;
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\nConnection: close\r\n\r\n{body}"
            );
            return;
        }
        Mode::NotAList if base.ends_with("/pods") => {
            (200, "OK", "<html><body>Sign in</body></html>".to_string())
        }
        Mode::CutOff | Mode::NotAList => (200, "OK", empty_list(&path)),
    };
    let _ = write!(
        stream,
        "HTTP/1.1 {code} {text}\r\nContent-Type: application/json\r\nRetry-After: 1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
}

impl FakeApi {
    fn start(mode: Mode) -> FakeApi {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let requests = Arc::new(Mutex::new(Vec::new()));
        let r = requests.clone();
        let seen = Arc::new(AtomicUsize::new(0));
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(Result::ok) {
                let (r, seen) = (r.clone(), seen.clone());
                std::thread::spawn(move || serve(stream, mode, r, seen));
            }
        });
        FakeApi { port, requests }
    }

    fn kubeconfig(&self, dir: &std::path::Path) -> std::path::PathBuf {
        let path = dir.join(format!("fake-{}.kubeconfig", self.port));
        std::fs::write(&path, format!("apiVersion: v1\nkind: Config\nclusters: [{{name: fake, cluster: {{server: 'http://127.0.0.1:{}'}}}}]\nusers: [{{name: u, user: {{token: secret-token-value}}}}]\ncontexts: [{{name: fake, context: {{cluster: fake, user: u, namespace: default}}}}]\ncurrent-context: fake\n", self.port)).expect("write");
        path
    }
}

#[test]
fn throttling_and_transient_errors_are_retried_then_reported() {
    let dir = std::env::temp_dir().join(format!("kubectl-ds-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();

    let throttled = FakeApi::start(Mode::ThrottleTwice);
    let out = kubectl_ds(
        &throttled.kubeconfig(&dir),
        &["coverage", "--request-timeout", "20s"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout(&out), "No DaemonSets found.\n");
    let pods = throttled
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|p| p.ends_with("/pods"))
        .count();
    assert_eq!(pods, 3, "two 429s, then the answer");

    let unavailable = FakeApi::start(Mode::AlwaysUnavailable);
    let started = Instant::now();
    let out = kubectl_ds(
        &unavailable.kubeconfig(&dir),
        &["coverage", "--request-timeout", "30s"],
    );
    assert_eq!(out.status.code(), Some(3));
    let err = stderr(&out);
    assert!(
        err.contains("(503: ServiceUnavailable)") && err.contains("(tried 5 times)"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        !err.contains("secret-token-value"),
        "credentials never show: {err}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(20),
        "bounded retries"
    );

    let slow = FakeApi::start(Mode::Slow);
    let started = Instant::now();
    let out = kubectl_ds(
        &slow.kubeconfig(&dir),
        &["coverage", "--request-timeout", "2s"],
    );
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("did not answer in time (--request-timeout)"),
        "{}",
        stderr(&out)
    );
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "honours --request-timeout: {:?}",
        started.elapsed()
    );

    // Lists are decoded as they stream in: a body that breaks off, or one that is not a list
    // at all, is one clear error, never a partial answer.
    let cut = FakeApi::start(Mode::CutOff);
    let out = kubectl_ds(&cut.kubeconfig(&dir), &["coverage", "-A"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("broke while reading the pods list") && err.lines().count() == 1,
        "{err}"
    );
    assert_eq!(stdout(&out), "");
    let not_a_list = FakeApi::start(Mode::NotAList);
    let out = kubectl_ds(&not_a_list.kubeconfig(&dir), &["coverage", "-A"]);
    assert_eq!(out.status.code(), Some(3), "{}", stdout(&out));
    let err = stderr(&out);
    assert!(
        err.contains("answered list pods with something that is not a Kubernetes API answer")
            && err.lines().count() == 1,
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_server_outage_deletions_and_impersonation() {
    let mut tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    for i in 1..=2 {
        add_node(&client, &FakeNode::new(format!("n{i}")))
            .await
            .expect("node");
    }
    apply_yaml(&client, &daemonset("agent", "default", ""))
        .await
        .expect("apply");
    wait_daemonset_settled(&client, "default", "agent", Duration::from_secs(60))
        .await
        .expect("settle");
    let kc = tb.kubeconfig().to_path_buf();

    // --watch follows through an API server outage and sees the change made after it. It runs
    // as its own user so its requests can be told apart in the audit log.
    let watcher = tb
        .kubeconfig_for_user("watcher", &["system:masters"])
        .expect("watcher");
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-ds"))
        .args(["coverage", "agent", "--watch", "-o", "json"])
        .env("KUBECONFIG", &watcher)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    let pipe = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("first frame");
    assert_eq!(first["items"][0]["summary"]["shouldRun"], 2);

    // rollout status --watch rides out the same outage: a rollout whose new pods take 8 s to
    // become Ready is under way when the API server stops.
    let slow = daemonset("agent", "default", "")
        .replace("agent:1", "agent:2")
        .replace(
            "      labels: {app: agent}\n",
            "      labels: {app: agent}\n      annotations: {testbed.kubectl-ds/ready-delay: 8s}\n",
        );
    assert!(slow.contains("ready-delay"));
    apply_yaml(&client, &slow)
        .await
        .expect("start a slow rollout");
    let rollout = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-ds"))
        .args(["rollout", "status", "agent", "--watch", "--timeout", "150s"])
        .env("KUBECONFIG", &kc)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;

    // Writes just before the outage move the store's revision past what the watch has seen, so
    // the restarted API server's watch cache answers the resumed watch with 410 Gone.
    let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> =
        kube::Api::namespaced(client.clone(), "default");
    for i in 0..3 {
        let cm =
            serde_json::from_value(serde_json::json!({"metadata": {"name": format!("bump-{i}")}}))
                .unwrap();
        cms.create(&Default::default(), &cm).await.expect("bump");
    }
    tb.stop_component(Component::KubeApiserver)
        .await
        .expect("stop apiserver");
    // Meanwhile a read command fails within its timeout, in one sentence.
    let started = Instant::now();
    let down = kubectl_ds(&kc, &["coverage", "--request-timeout", "3s"]);
    assert_eq!(down.status.code(), Some(3));
    assert_eq!(stderr(&down).lines().count(), 1, "{}", stderr(&down));
    assert!(
        stderr(&down).starts_with("error: cannot reach the API server"),
        "{}",
        stderr(&down)
    );
    assert!(started.elapsed() < Duration::from_secs(8));
    tokio::time::sleep(Duration::from_secs(2)).await;
    tb.start_component(Component::KubeApiserver)
        .await
        .expect("restart apiserver");
    let client = tb.client().await.expect("client after restart");
    add_node(&client, &FakeNode::new("n3"))
        .await
        .expect("node after restart");
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let frame = rx
            .recv_timeout(Duration::from_secs(90))
            .expect("a frame after the outage");
        if frame["items"][0]["summary"]["covered"] == 3 {
            break;
        }
        assert!(Instant::now() < deadline, "the watch never saw n3 covered");
    }
    let status = tokio::task::spawn_blocking(move || rollout.wait_with_output().unwrap())
        .await
        .unwrap();
    assert_eq!(
        status.status.code(),
        Some(0),
        "rollout status after the outage: {}{}",
        stdout(&status),
        stderr(&status)
    );
    assert!(
        stdout(&status).contains("successfully rolled out"),
        "{}",
        stdout(&status)
    );

    // A node removed while watching: it drops out, no crash.
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(client.clone());
    nodes
        .delete("n3", &Default::default())
        .await
        .expect("delete node");
    loop {
        let frame = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a frame after the node left");
        if frame["items"][0]["summary"]["shouldRun"] == 2 {
            break;
        }
    }
    // The DaemonSet deleted while watching: reported, not a crash.
    let dss: kube::Api<k8s_openapi::api::apps::v1::DaemonSet> =
        kube::Api::namespaced(client.clone(), "default");
    dss.delete("agent", &Default::default())
        .await
        .expect("delete");
    loop {
        let frame = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a frame after the deletion");
        if frame["items"].as_array().is_some_and(|a| a.is_empty()) {
            break;
        }
    }
    assert!(child.try_wait().unwrap().is_none(), "still running");
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let watched = child.wait_with_output().unwrap();
    assert_eq!(watched.status.code(), Some(130));
    // The resumed watches got 410 Gone and the watcher listed again rather than miss changes.
    let relists = tb
        .audit_events()
        .expect("audit")
        .iter()
        .filter(|e| {
            e["user"]["username"] == "watcher"
                && e["verb"] == "list"
                && e["objectRef"]["resource"] == "pods"
                && e["stage"] == "ResponseComplete"
        })
        .count();
    let said = stderr(&watched);
    assert!(
        relists >= 2,
        "pods listed {relists} times by the watch; it said: {said}"
    );

    // Impersonation as in kubectl: the impersonated user's RBAC applies.
    let out = kubectl_ds(&kc, &["coverage", "--as", "nobody"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains("user \"nobody\" is not allowed to list"),
        "{}",
        stderr(&out)
    );
    let out = kubectl_ds(
        &kc,
        &["coverage", "--as", "nobody", "--as-group", "system:masters"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = kubectl_ds(&kc, &["coverage", "--as-group", "system:masters"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "--as-group without --as is a usage error"
    );

    // A kubeconfig with broken certificate data: one sentence, input error, no key material.
    let text = std::fs::read_to_string(&kc).unwrap();
    let broken = tb.dir().join("broken.kubeconfig");
    let mangled: String = text
        .lines()
        .map(|l| match l.split_once("client-key-data: ") {
            Some((indent, _)) => format!("{indent}client-key-data: bm90IGEga2V5"),
            None => l.to_string(),
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&broken, mangled).unwrap();
    let out = kubectl_ds(&broken, &["coverage"]);
    assert!(
        matches!(out.status.code(), Some(2 | 3)),
        "{:?} {}",
        out.status.code(),
        stderr(&out)
    );
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
    assert!(!stderr(&out).contains("BEGIN"), "{}", stderr(&out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_during_rollback_leaves_it_untouched_and_says_so() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    add_node(&client, &FakeNode::new("n1")).await.expect("node");
    apply_yaml(&client, &daemonset("agent", "default", ""))
        .await
        .expect("apply");
    wait_daemonset_settled(&client, "default", "agent", Duration::from_secs(60))
        .await
        .expect("settle");
    apply_yaml(
        &client,
        &daemonset("agent", "default", "").replace("agent:1", "agent:2"),
    )
    .await
    .expect("update");
    wait_daemonset_settled(&client, "default", "agent", Duration::from_secs(60))
        .await
        .expect("settle");

    // Interrupted while it waits right before sending the patch.
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-ds"))
        .args(["rollback", "agent", "--to-revision", "1", "--yes"])
        .env("KUBECONFIG", tb.kubeconfig())
        .env("KUBECTL_DS_TEST_BEFORE_PATCH", "sleep 3")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(130), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "interrupted before the rollback was sent: daemonset \"agent\" is unchanged\n"
    );
    let dss: kube::Api<k8s_openapi::api::apps::v1::DaemonSet> =
        kube::Api::namespaced(client.clone(), "default");
    let ds = dss.get("agent").await.expect("get");
    let image = ds
        .spec
        .template
        .spec
        .as_ref()
        .and_then(|s| s.containers[0].image.clone());
    assert_eq!(
        image.as_deref(),
        Some("registry.example/agent:2"),
        "untouched"
    );
}
