//! kubectl-ds at scale: grows one testbed through each size of `--nodes` (fake nodes with
//! DaemonSets and ordinary pods) and at each size times kubectl-ds (release build) against
//! what a user runs without it, against the raw LIST requests it needs and against its own
//! `coverage`, alternating, several repetitions, with the peak memory of each; then runs both
//! `--watch` modes under constant churn. The figures are written with the commit they were
//! taken at.
//!
//! `cargo run --release -p kubectl-ds-bench -- --nodes 1000,5000`

mod watch;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use clap::Parser;
use futures::stream::{self, StreamExt};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use kubectl_ds_testbed::{FakeNode, Options, Testbed, apply_yaml};
use serde::Serialize;

#[derive(Parser)]
#[command(about = "Times kubectl-ds against kubectl and the raw API on a big fake cluster")]
struct Args {
    /// Fake nodes: one size, or several separated by commas (the cluster grows from one to the
    /// next, and each is measured in turn).
    #[arg(long, value_delimiter = ',', default_value = "1000")]
    nodes: Vec<usize>,
    /// DaemonSets.
    #[arg(long, default_value_t = 10)]
    daemonsets: usize,
    /// Ordinary pods (one Deployment) per node; default: one per 4 nodes.
    #[arg(long, default_value_t = 0.25)]
    pods_per_node: f64,
    /// Repetitions of each measurement.
    #[arg(long, default_value_t = 5)]
    reps: usize,
    /// Another kubectl-ds binary (say, a build of an earlier commit) to time `coverage -A`
    /// and `explain node` against, in the same run.
    #[arg(long)]
    baseline: Option<PathBuf>,
    /// Where to write the figures (`.json` and `.md`), relative to the workspace.
    #[arg(long, default_value = "target/bench")]
    out: PathBuf,
    /// Set the cluster up, print its kubeconfig and keep it until Ctrl-C instead of measuring
    /// (to profile a command by hand on a cluster of this size).
    #[arg(long)]
    hold: bool,
    /// How long each `--watch` mode is measured under churn, after its first frame.
    #[arg(long, default_value_t = 30)]
    watch_seconds: u64,
    /// Node and pod updates per second during the watch measurements.
    #[arg(long, default_value_t = 50)]
    churn: u32,
    /// Node creations in flight at once while the cluster grows.
    #[arg(long, default_value_t = 128)]
    parallel: usize,
    /// Replace the figures in docs/performance.md (between its `bench:begin` and `bench:end`
    /// markers) with this run's.
    #[arg(long)]
    update_readme: bool,
}

fn workspace() -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    dir.canonicalize().unwrap_or(dir)
}

/// One run of one or more processes: wall time and the largest max RSS among them.
#[derive(Clone, Copy, Debug, Serialize)]
struct Sample {
    seconds: f64,
    max_rss_mb: f64,
}

/// Runs the commands one after the other, output discarded.
///
/// Each goes through a fresh `measure` process of this binary rather than being spawned from
/// here: Linux carries the RSS high-water mark of the address space a process had before
/// `exec` into its max RSS, so a child spawned straight from the benchmark (which holds the
/// cluster's setup state) would report at least the benchmark's own peak.
fn run(cmds: &[Vec<String>], env: &[(&str, &Path)]) -> Sample {
    let me = std::env::current_exe().unwrap_or_else(|e| panic!("current_exe: {e}"));
    let start = Instant::now();
    let mut rss = 0.0f64;
    for c in cmds {
        let mut cmd = Command::new(&me);
        cmd.arg(MEASURE)
            .args(c)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for (k, v) in env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap_or_else(|e| panic!("{cmd:?}: {e}"));
        let report = String::from_utf8_lossy(&out.stdout);
        let mut fields = report.split_whitespace().map(|f| f.parse::<i64>());
        let (Some(Ok(status)), Some(Ok(maxrss_kb))) = (fields.next(), fields.next()) else {
            panic!(
                "{c:?}: no measurement ({report}): {}",
                String::from_utf8_lossy(&out.stderr)
            );
        };
        // 1 is an answer too (explain's "a node has a problem"); 2 and 3 are failures.
        if status != 0 && status != 1 {
            panic!(
                "{c:?} exited with status {status}: {}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        rss = rss.max(maxrss_kb as f64 / 1024.0);
    }
    Sample {
        seconds: start.elapsed().as_secs_f64(),
        max_rss_mb: rss,
    }
}

/// The first argument that turns this binary into the measuring process of `run`.
const MEASURE: &str = "__measure";

/// Runs one command (stdout discarded, stderr passed on) and prints its exit status and max
/// RSS in KiB.
// The child is reaped by `wait4`, which also gives its max RSS.
#[allow(clippy::zombie_processes)]
fn measure(cmd: &[String]) -> ! {
    let Some((program, args)) = cmd.split_first() else {
        eprintln!("{MEASURE}: no command");
        std::process::exit(2);
    };
    let child = Command::new(program)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .spawn()
        .unwrap_or_else(|e| {
            eprintln!("{program}: {e}");
            std::process::exit(2);
        });
    let (status, maxrss_kb) = wait4(child.id() as i32);
    println!("{status} {maxrss_kb}");
    std::process::exit(0);
}

/// Waits for one child and returns its exit status and max RSS (KiB), from `wait4`.
fn wait4(pid: i32) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill in.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: pid is our own child, not yet waited for; the pointers are valid.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    let code = if libc::WIFEXITED(status) {
        libc::WEXITSTATUS(status)
    } else {
        -1
    };
    (code, usage.ru_maxrss)
}

#[derive(Debug, Serialize)]
struct Stats {
    median: f64,
    min: f64,
    max: f64,
    max_rss_mb: f64,
}

fn stats(samples: &[Sample]) -> Stats {
    let mut t: Vec<f64> = samples.iter().map(|s| s.seconds).collect();
    t.sort_by(f64::total_cmp);
    let median = if t.len() % 2 == 1 {
        t[t.len() / 2]
    } else {
        (t[t.len() / 2 - 1] + t[t.len() / 2]) / 2.0
    };
    Stats {
        median,
        min: t[0],
        max: t[t.len() - 1],
        max_rss_mb: samples.iter().map(|s| s.max_rss_mb).fold(0.0, f64::max),
    }
}

#[derive(Debug, Serialize)]
struct Row {
    what: String,
    ours: Stats,
    other_name: Option<String>,
    other: Option<Stats>,
}

fn node_yaml(i: usize) -> FakeNode {
    let mut n = FakeNode::new(format!("node-{i:05}"))
        .label(
            "pool",
            if i.is_multiple_of(10) {
                "gpu"
            } else {
                "general"
            },
        )
        .label("topology.kubernetes.io/zone", format!("zone-{}", i % 3));
    if i % 20 == 1 {
        n = n.taint("dedicated", "infra", "NoSchedule");
    }
    n
}

fn daemonset_yaml(i: usize) -> String {
    let (selector, tolerations) = match i % 5 {
        0 => ("{}", "[]"),
        1 => ("{pool: gpu}", "[]"),
        2 => ("{}", "[{operator: Exists}]"),
        _ => ("{kubernetes.io/os: linux}", "[]"),
    };
    format!(
        r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: agent-{i}, namespace: bench-ds-{ns}, labels: {{bench: "true"}}}}
spec:
  selector: {{matchLabels: {{app: agent-{i}}}}}
  updateStrategy: {{type: RollingUpdate, rollingUpdate: {{maxUnavailable: "10%"}}}}
  template:
    metadata: {{labels: {{app: agent-{i}}}}}
    spec:
      nodeSelector: {selector}
      tolerations: {tolerations}
      containers:
      - name: main
        image: registry.example/agent-{i}:1
        resources: {{requests: {{cpu: 10m, memory: 20Mi}}}}
        ports: [{{containerPort: {port}, hostPort: {port}}}]
"#,
        ns = i % 3,
        port = 9100 + i
    )
}

fn preview_yaml() -> String {
    r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {name: new-agent, namespace: bench-ds-0}
spec:
  selector: {matchLabels: {app: new-agent}}
  template:
    metadata: {labels: {app: new-agent}}
    spec:
      tolerations: [{key: dedicated, operator: Equal, value: infra, effect: NoSchedule}]
      containers:
      - name: main
        image: registry.example/new-agent:1
        resources: {requests: {cpu: 50m, memory: 50Mi}}
        ports: [{containerPort: 9200, hostPort: 9200}]
"#
    .to_string()
}

fn deployment_yaml(replicas: usize) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: Deployment
metadata: {{name: web, namespace: bench-apps}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: web}}}}
  template:
    metadata: {{labels: {{app: web}}}}
    spec:
      containers:
      - name: web
        image: registry.example/web:1
        resources: {{requests: {{cpu: 100m, memory: 128Mi}}}}
"#
    )
}

async fn create_nodes(client: &kube::Client, from: usize, to: usize, parallel: usize) {
    let api: Api<Node> = Api::all(client.clone());
    let started = Instant::now();
    let results: Vec<_> = stream::iter(from + 1..=to)
        .map(|i| {
            let api = api.clone();
            async move {
                let node = node_yaml(i).to_node();
                let name = node.metadata.name.clone().unwrap_or_default();
                api.create(&PostParams::default(), &node).await?;
                let status = serde_json::json!({ "status": node.status });
                api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&status))
                    .await
            }
        })
        .buffer_unordered(parallel)
        .collect()
        .await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(
        failed,
        0,
        "{failed} nodes failed: {:?}",
        results.iter().find(|r| r.is_err())
    );
    eprintln!(
        "{} nodes created in {:.1}s",
        to - from,
        started.elapsed().as_secs_f64()
    );
}

/// Waits until every DaemonSet and the Deployment are fully rolled out and Ready.
async fn wait_settled(client: &kube::Client, daemonsets: usize, pods: usize) {
    let ds_api: Api<DaemonSet> = Api::all(client.clone());
    let dep_api: Api<Deployment> = Api::namespaced(client.clone(), "bench-apps");
    let started = Instant::now();
    let mut last_report = Instant::now();
    loop {
        let lp = ListParams::default().labels("bench=true");
        let dss = ds_api.list(&lp).await.expect("list daemonsets").items;
        let mut pending = 0;
        let mut ready_total = 0;
        for d in &dss {
            let s = d.status.clone().unwrap_or_default();
            ready_total += s.number_ready;
            let observed = s.observed_generation >= d.metadata.generation;
            if !observed
                || s.desired_number_scheduled == 0
                || s.number_ready != s.desired_number_scheduled
                || s.updated_number_scheduled.unwrap_or(0) != s.desired_number_scheduled
            {
                pending += 1;
            }
        }
        let web_ready = dep_api
            .get("web")
            .await
            .ok()
            .and_then(|d| d.status)
            .and_then(|s| s.ready_replicas)
            .unwrap_or(0) as usize;
        if dss.len() == daemonsets && pending == 0 && web_ready == pods {
            eprintln!(
                "settled after {:.0}s: {ready_total} daemon pods and {web_ready} ordinary pods Ready",
                started.elapsed().as_secs_f64()
            );
            return;
        }
        if last_report.elapsed() > Duration::from_secs(15) {
            eprintln!(
                "  {:.0}s: {ready_total} daemon pods Ready, {pending} DaemonSets pending, {web_ready}/{pods} ordinary pods Ready",
                started.elapsed().as_secs_f64()
            );
            last_report = Instant::now();
        }
        assert!(
            started.elapsed() < Duration::from_secs(3600),
            "the cluster did not settle in an hour"
        );
        tokio::time::sleep(Duration::from_secs(3)).await;
    }
}

/// The admin's CA, client certificate and key as files, for curl.
fn admin_pem_files(tb: &Testbed, dir: &Path) -> (PathBuf, PathBuf, PathBuf) {
    let text = std::fs::read_to_string(tb.kubeconfig()).expect("kubeconfig");
    let cfg: serde_yaml::Value = serde_yaml::from_str(&text).expect("kubeconfig YAML");
    let b64 = |v: &serde_yaml::Value| {
        base64::engine::general_purpose::STANDARD
            .decode(v.as_str().expect("base64 field"))
            .expect("base64")
    };
    let ca = b64(&cfg["clusters"][0]["cluster"]["certificate-authority-data"]);
    let cert = b64(&cfg["users"][0]["user"]["client-certificate-data"]);
    let key = b64(&cfg["users"][0]["user"]["client-key-data"]);
    let files = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(&files.0, ca).unwrap();
    std::fs::write(&files.1, cert).unwrap();
    std::fs::write(&files.2, key).unwrap();
    files
}

fn s(v: &str) -> String {
    v.to_string()
}

fn fmt_stats(st: &Stats) -> String {
    format!("{:.3} s ({:.3}–{:.3})", st.median, st.min, st.max)
}

fn main() {
    let argv: Vec<String> = std::env::args().collect();
    if argv.get(1).map(String::as_str) == Some(MEASURE) {
        measure(&argv[2..]);
    }
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap_or_else(|e| panic!("tokio runtime: {e}"))
        .block_on(bench());
}

/// A DaemonSet whose every pod takes 20 s to turn Ready, on the gpu pool (a tenth of the
/// nodes), rolled one node at a time: a rollout of it keeps `rollout status --watch` busy for
/// minutes.
fn roller_yaml(round: usize, max_unavailable: &str) -> String {
    format!(
        r#"apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: roller, namespace: bench-roll, labels: {{bench: "true"}}}}
spec:
  selector: {{matchLabels: {{app: roller}}}}
  updateStrategy: {{type: RollingUpdate, rollingUpdate: {{maxUnavailable: {max_unavailable}}}}}
  template:
    metadata:
      labels: {{app: roller}}
      annotations: {{testbed.kubectl-ds/ready-delay: 20s}}
    spec:
      nodeSelector: {{pool: gpu}}
      containers:
      - name: main
        image: registry.example/roller:1
        env: [{{name: ROUND, value: "{round}"}}]
        resources: {{requests: {{cpu: 10m, memory: 10Mi}}}}
"#
    )
}

/// The commit the figures were taken at, and whether the tree had changes beyond it.
fn commit(root: &Path) -> (String, bool) {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(root)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    let head = git(&["rev-parse", "HEAD"]).unwrap_or_else(|| s("unknown"));
    let dirty =
        git(&["status", "--porcelain", "--untracked-files=no"]).is_none_or(|o| !o.is_empty());
    (head, dirty)
}

/// The release binary, built in the target directory cargo uses.
fn build_ours(root: &Path) -> String {
    eprintln!("building kubectl-ds (release)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| s("cargo"));
    let ok = Command::new(cargo)
        .args(["build", "--release", "-q", "--bin", "kubectl-ds"])
        .current_dir(root)
        .status()
        .expect("cargo build");
    assert!(ok.success(), "cargo build failed");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"));
    let target = if target.is_absolute() {
        target
    } else {
        root.join(target)
    };
    target
        .join("release/kubectl-ds")
        .to_string_lossy()
        .into_owned()
}

/// Namespaces, the DaemonSets and the Deployment (no replicas yet), before any node: pods
/// are then created as nodes come, while the rest are still being added.
async fn create_workloads(client: &kube::Client, daemonsets: usize) {
    let mut setup = String::new();
    for ns in [
        "bench-apps",
        "bench-roll",
        "bench-ds-0",
        "bench-ds-1",
        "bench-ds-2",
    ] {
        setup.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n---\n"
        ));
    }
    apply_yaml(client, &setup).await.expect("namespaces");
    let mut objects: Vec<String> = (0..daemonsets).map(daemonset_yaml).collect();
    objects.push(roller_yaml(0, "100%"));
    objects.push(deployment_yaml(0));
    apply_yaml(client, &objects.join("---\n"))
        .await
        .expect("workloads");
}

/// One kubectl-ds command line.
fn ours_cmd(ours: &str, args: &[&str]) -> Vec<String> {
    std::iter::once(ours.to_string())
        .chain(args.iter().map(|a| a.to_string()))
        .collect()
}

type Case = (
    &'static str,
    Vec<Vec<String>>,
    Option<(&'static str, Vec<Vec<String>>)>,
);

fn cases(ours: &str, tb: &Testbed, work: &Path, node: &str, baseline: Option<&Path>) -> Vec<Case> {
    let (ca, cert, key) = admin_pem_files(tb, work);
    let manifest = work.join("new-agent.yaml");
    std::fs::write(&manifest, preview_yaml()).unwrap();
    let server = tb.server().to_string();
    let p = |v: &Path| v.to_string_lossy().into_owned();
    let mut curl = vec![
        s("curl"),
        s("--fail"),
        s("-s"),
        s("-Z"),
        s("--cacert"),
        p(&ca),
        s("--cert"),
        p(&cert),
        s("--key"),
        p(&key),
        s("-H"),
        s("Accept: application/json"),
    ];
    for path in [
        "/apis/apps/v1/daemonsets",
        "/api/v1/nodes",
        "/api/v1/pods",
        "/apis/apps/v1/controllerrevisions",
    ] {
        curl.extend([
            s("-o"),
            s("/dev/null"),
            format!("{server}{path}?resourceVersion=0"),
        ]);
    }
    let kubectl = |args: &[&str]| -> Vec<String> {
        std::iter::once(s("kubectl"))
            .chain(args.iter().map(|a| a.to_string()))
            .collect()
    };
    let coverage_all = ours_cmd(ours, &["coverage", "-A"]);
    let field = format!("spec.nodeName={node}");
    let manifest = p(&manifest);
    let mut cases: Vec<Case> = vec![
        (
            "coverage -A vs kubectl get ds,pods,nodes -o json",
            vec![coverage_all.clone()],
            Some((
                "kubectl get ds -A -o json + get pods -A -o json + get nodes -o json",
                vec![
                    kubectl(&["get", "ds", "-A", "-o", "json"]),
                    kubectl(&["get", "pods", "-A", "-o", "json"]),
                    kubectl(&["get", "nodes", "-o", "json"]),
                ],
            )),
        ),
        (
            "coverage -A vs raw LISTs",
            vec![coverage_all.clone()],
            Some((
                "curl: the same 4 LISTs in parallel, bodies discarded",
                vec![curl],
            )),
        ),
        (
            "explain node vs kubectl describe node + get pods",
            vec![ours_cmd(ours, &["explain", "node", node, "-A"])],
            Some((
                "kubectl describe node + get pods -A --field-selector spec.nodeName -o json",
                vec![
                    kubectl(&["describe", "node", node]),
                    kubectl(&[
                        "get",
                        "pods",
                        "-A",
                        "--field-selector",
                        &field,
                        "-o",
                        "json",
                    ]),
                ],
            )),
        ),
        (
            "preview -f vs coverage -A",
            vec![ours_cmd(ours, &["preview", "-f", &manifest])],
            Some((
                "kubectl-ds coverage -A (the same lists)",
                vec![coverage_all.clone()],
            )),
        ),
        (
            "explain ds NAME vs coverage NAME",
            vec![ours_cmd(
                ours,
                &["explain", "ds", "agent-0", "-n", "bench-ds-0"],
            )],
            Some((
                "kubectl-ds coverage agent-0",
                vec![ours_cmd(ours, &["coverage", "agent-0", "-n", "bench-ds-0"])],
            )),
        ),
        (
            "overhead vs coverage -A",
            vec![ours_cmd(ours, &["overhead"])],
            Some((
                "kubectl-ds coverage -A (the same lists)",
                vec![coverage_all.clone()],
            )),
        ),
    ];
    if let Some(base) = baseline {
        let base = p(base);
        cases.push((
            "coverage -A vs the baseline build",
            vec![coverage_all],
            Some((
                "baseline kubectl-ds coverage -A",
                vec![ours_cmd(&base, &["coverage", "-A"])],
            )),
        ));
        cases.push((
            "explain node vs the baseline build",
            vec![ours_cmd(ours, &["explain", "node", node, "-A"])],
            Some((
                "baseline kubectl-ds explain node",
                vec![ours_cmd(&base, &["explain", "node", node, "-A"])],
            )),
        ));
    }
    cases
}

/// One warm-up round, then the repetitions, each case alternating ours and theirs.
fn time_cases(cases: &[Case], env: &[(&str, &Path)], reps: usize) -> Vec<Row> {
    let mut samples: Vec<(Vec<Sample>, Vec<Sample>)> = vec![(Vec::new(), Vec::new()); cases.len()];
    for rep in 0..=reps {
        for (i, (_, mine, other)) in cases.iter().enumerate() {
            let a = run(mine, env);
            let b = other.as_ref().map(|(_, o)| run(o, env));
            if rep > 0 {
                samples[i].0.push(a);
                if let Some(b) = b {
                    samples[i].1.push(b);
                }
            }
        }
        eprintln!("round {rep}/{reps} done");
    }
    cases
        .iter()
        .zip(&samples)
        .map(|((what, _, other), (a, b))| Row {
            what: what.to_string(),
            ours: stats(a),
            other_name: other.as_ref().map(|(n, _)| n.to_string()),
            other: other.as_ref().map(|_| stats(b)),
        })
        .collect()
}

/// Starts a rollout of the roller that lasts minutes, and waits until the controller has
/// seen it.
async fn start_rollout(client: &kube::Client, round: usize) {
    apply_yaml(client, &roller_yaml(round, "1"))
        .await
        .expect("roller update");
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), "bench-roll");
    for _ in 0..300 {
        let ds = api.get("roller").await.expect("roller");
        let observed = ds.status.as_ref().and_then(|s| s.observed_generation);
        if observed >= ds.metadata.generation {
            return;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    panic!("the controller never observed the roller's update");
}

async fn measure_watches(
    client: &kube::Client,
    ours: &str,
    kubeconfig: &Path,
    args: &Args,
    round: usize,
) -> Vec<watch::WatchFigures> {
    let churn = Arc::new(watch::Churn::of_cluster(client, args.churn).await);
    let period = Duration::from_secs(args.watch_seconds);
    let coverage = watch::Watch {
        what: "coverage -A --watch",
        command: ours_cmd(ours, &["coverage", "-A", "--watch"]),
        marker_namespace: "bench-ds-0",
        kubeconfig,
    };
    let mut out = vec![watch::measure(client, &coverage, churn.clone(), period).await];
    start_rollout(client, round).await;
    let rollout = watch::Watch {
        what: "rollout status --watch",
        command: ours_cmd(ours, &["rollout", "status", "-n", "bench-roll", "--watch"]),
        marker_namespace: "bench-roll",
        kubeconfig,
    };
    out.push(watch::measure(client, &rollout, churn, period).await);
    // Let the rollout finish at once, so the next size settles.
    apply_yaml(client, &roller_yaml(round, "100%"))
        .await
        .expect("roller");
    out
}

/// The figures of one size.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SizeResult {
    nodes: usize,
    daemonsets: usize,
    daemon_pods: usize,
    ordinary_pods: usize,
    setup_seconds: f64,
    rows: Vec<Row>,
    watches: Vec<watch::WatchFigures>,
}

fn find<'a>(rows: &'a [Row], what: &str) -> Option<&'a Row> {
    rows.iter().find(|r| r.what == what)
}

/// The issue's targets, checked against one size's figures.
fn targets(r: &SizeResult) -> Vec<String> {
    let mut out = Vec::new();
    let mut check = |name: String, ok: bool| {
        out.push(format!("- {name}: {}", if ok { "met" } else { "NOT met" }));
    };
    for (what, label, factor) in [
        ("preview -f vs coverage -A", "preview -f", 1.3),
        ("explain ds NAME vs coverage NAME", "explain ds NAME", 1.3),
        ("overhead vs coverage -A", "overhead", 1.0),
    ] {
        if let Some(row) = find(&r.rows, what)
            && let Some(other) = &row.other
        {
            let ratio = row.ours.median / other.median;
            check(
                format!("{label} at most {factor}x its coverage ({ratio:.2}x)"),
                ratio <= factor,
            );
            if factor > 1.0 {
                check(
                    format!("{label} under 300 MB ({:.0} MB)", row.ours.max_rss_mb),
                    row.ours.max_rss_mb < 300.0,
                );
            }
        }
    }
    for w in &r.watches {
        check(
            format!(
                "{} steady RSS under 300 MB ({:.0} MB at most)",
                w.what, w.rss_mb_max
            ),
            w.rss_mb_max < 300.0,
        );
        check(
            format!(
                "{} CPU under 25% of a core ({:.1}%)",
                w.what,
                w.cpu_share * 100.0
            ),
            w.cpu_share < 0.25,
        );
        check(
            format!(
                "{} change-to-frame under 1 s ({:.0} ms at most, {} missed)",
                w.what, w.latency_ms_max, w.markers_missed
            ),
            w.latency_ms_max < 1000.0 && w.markers_missed == 0 && w.exited.is_none(),
        );
    }
    out
}

fn size_markdown(r: &SizeResult, reps: usize) -> String {
    let mut md = format!(
        "{} nodes, {} DaemonSets ({} daemon pods), {} ordinary pods; {reps} repetitions, median (min–max):\n\n",
        r.nodes, r.daemonsets, r.daemon_pods, r.ordinary_pods
    );
    md.push_str("| measurement | kubectl-ds | compared with | that | ratio | max RSS kubectl-ds | max RSS that |\n|---|---|---|---|---|---|---|\n");
    for row in &r.rows {
        let (other, ratio, rss) = match (&row.other_name, &row.other) {
            (Some(n), Some(o)) => (
                format!("{n} | {}", fmt_stats(o)),
                format!("{:.2}x", row.ours.median / o.median),
                format!("{:.0} MB", o.max_rss_mb),
            ),
            _ => (s("– | –"), s("–"), s("–")),
        };
        md.push_str(&format!(
            "| {} | {} | {other} | {ratio} | {:.0} MB | {rss} |\n",
            row.what,
            fmt_stats(&row.ours),
            row.ours.max_rss_mb
        ));
    }
    md.push_str("\n| watch, after its first frame | first frame | measured | churn | CPU | RSS median (max) | change to frame, median (max) |\n|---|---|---|---|---|---|---|\n");
    for w in &r.watches {
        md.push_str(&format!(
            "| {} | {:.1} s | {:.0} s | {:.0} updates/s | {:.2} s ({:.1}% of a core) | {:.0} MB ({:.0} MB) | {:.0} ms ({:.0} ms){}{} |\n",
            w.what,
            w.first_frame_seconds,
            w.seconds,
            w.churn_per_second,
            w.cpu_seconds,
            w.cpu_share * 100.0,
            w.rss_mb_median,
            w.rss_mb_max,
            w.latency_ms_median,
            w.latency_ms_max,
            if w.markers_missed > 0 {
                format!(", {} missed", w.markers_missed)
            } else {
                String::new()
            },
            w.exited
                .as_ref()
                .map(|e| format!(", {e}"))
                .unwrap_or_default(),
        ));
    }
    md.push_str("\nTargets:\n\n");
    md.push_str(&targets(r).join("\n"));
    md.push('\n');
    md
}

fn machine() -> (usize, f64) {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    (cpus, mem_gb)
}

/// Replaces what docs/performance.md holds between its bench markers with `md`.
fn update_readme(root: &Path, md: &str) {
    const BEGIN: &str = "<!-- bench:begin -->";
    const END: &str = "<!-- bench:end -->";
    let path = root.join("docs/performance.md");
    let text = std::fs::read_to_string(&path).expect("docs/performance.md");
    let (Some(a), Some(b)) = (text.find(BEGIN), text.find(END)) else {
        panic!("docs/performance.md has no {BEGIN} … {END} section");
    };
    let updated = format!("{}{BEGIN}\n{md}{}", &text[..a], &text[b..]);
    std::fs::write(&path, updated).expect("write docs/performance.md");
    eprintln!("docs/performance.md updated");
}

async fn daemon_pods(client: &kube::Client) -> usize {
    Api::<DaemonSet>::all(client.clone())
        .list(&ListParams::default().labels("bench=true"))
        .await
        .expect("daemonsets")
        .items
        .iter()
        .map(|d| d.status.as_ref().map_or(0, |s| s.number_ready) as usize)
        .sum()
}

async fn bench() {
    let args = Args::parse();
    let mut sizes = args.nodes.clone();
    sizes.sort_unstable();
    sizes.dedup();
    let root = workspace();
    let ours = build_ours(&root);
    let (head, dirty) = commit(&root);

    let tb = Testbed::start(Options {
        client_qps: Some(1000.0),
        max_requests_inflight: Some(0),
        audit: false,
        // On 2 cores, thousands of fake nodes cannot all renew their Leases on time while
        // tens of thousands of pods are created; a long grace period (and the long Leases it
        // implies) keeps nodes Ready, and pods on them, for the whole run.
        node_monitor_grace_period: Duration::from_secs(3600),
        node_startup_grace_period: Duration::from_secs(3600),
        kwok_parallelism: Some(32),
        ..Options::default()
    })
    .await
    .expect("testbed");
    eprintln!("testbed up in {:.1}s", tb.startup_time().as_secs_f64());
    let client = tb.client().await.expect("client");
    create_workloads(&client, args.daemonsets).await;
    let work = tb.dir().join("bench");
    std::fs::create_dir_all(&work).unwrap();
    let kc = tb.kubeconfig().to_path_buf();
    let env: Vec<(&str, &Path)> = vec![("KUBECONFIG", kc.as_path())];
    let (cpus, mem_gb) = machine();
    let out = root.join(&args.out);
    std::fs::create_dir_all(&out).expect("output directory");

    let mut results = Vec::new();
    let mut have = 0;
    for (round, &n) in sizes.iter().enumerate() {
        let started = Instant::now();
        create_nodes(&client, have, n, args.parallel).await;
        have = n;
        let pods = (n as f64 * args.pods_per_node).round() as usize;
        apply_yaml(&client, &deployment_yaml(pods))
            .await
            .expect("deployment");
        wait_settled(&client, args.daemonsets + 1, pods).await;
        let setup_seconds = started.elapsed().as_secs_f64();
        if args.hold {
            eprintln!(
                "{n} nodes set up in {setup_seconds:.0}s; KUBECONFIG={} (Ctrl-C to go on)",
                kc.display()
            );
            let _ = tokio::signal::ctrl_c().await;
            continue;
        }
        let node = format!("node-{:05}", n / 2);
        let cases = cases(&ours, &tb, &work, &node, args.baseline.as_deref());
        let rows = time_cases(&cases, &env, args.reps);
        let watches = measure_watches(&client, &ours, &kc, &args, round + 1).await;
        let result = SizeResult {
            nodes: n,
            daemonsets: args.daemonsets + 1,
            daemon_pods: daemon_pods(&client).await,
            ordinary_pods: pods,
            setup_seconds,
            rows,
            watches,
        };
        let md = size_markdown(&result, args.reps);
        println!("{md}");
        let base = out.join(format!("results-{n}"));
        std::fs::write(base.with_extension("md"), &md).expect("write .md");
        std::fs::write(
            base.with_extension("json"),
            serde_json::to_string_pretty(&result).unwrap(),
        )
        .expect("write .json");
        results.push(result);
        // After each size, so that a run stopped later still leaves figures with their commit.
        let md = write_results(&out, &head, dirty, (cpus, mem_gb), &args, &results);
        if args.update_readme && results.len() == args.nodes.len() {
            update_readme(&root, &md);
        }
    }
    if args.hold {
        return;
    }
    eprintln!("written to {}/results.{{md,json}}", out.display());
}

/// Writes the figures of the sizes measured so far, with the commit they were taken at, to
/// `results.md` and `results.json`; returns the markdown.
fn write_results(
    out: &Path,
    head: &str,
    dirty: bool,
    (cpus, mem_gb): (usize, f64),
    args: &Args,
    results: &[SizeResult],
) -> String {
    let short = &head[..head.len().min(12)];
    let mut md = format!(
        "Commit {short}{}; machine: {cpus} cores, {mem_gb:.0} GB, the testbed on the same machine. `--watch` modes measured for {} s each under {} node and pod updates per second.\n\n",
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        },
        args.watch_seconds,
        args.churn
    );
    for r in results.iter().rev() {
        md.push_str(&size_markdown(r, args.reps));
        md.push('\n');
    }
    std::fs::write(out.join("results.md"), &md).expect("write results.md");
    let json = serde_json::json!({
        "commit": head,
        "dirty": dirty,
        "machine": {"cpus": cpus, "memoryGB": mem_gb},
        "repetitions": args.reps,
        "watchSeconds": args.watch_seconds,
        "churnPerSecond": args.churn,
        "sizes": results,
    });
    std::fs::write(
        out.join("results.json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .expect("write results.json");
    md
}
