//! kubectl-ds at scale: grows a testbed to N fake nodes with DaemonSets and ordinary pods, then
//! times kubectl-ds (release build) against what a user runs without it and against the raw
//! LIST requests it needs, alternating, several repetitions, with the peak memory of each.
//!
//! `cargo run --release -p kubectl-ds-bench -- --nodes 1000`

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
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
    /// Fake nodes.
    #[arg(long, default_value_t = 1000)]
    nodes: usize,
    /// DaemonSets.
    #[arg(long, default_value_t = 10)]
    daemonsets: usize,
    /// Ordinary pods (one Deployment); default: one per 4 nodes.
    #[arg(long)]
    pods: Option<usize>,
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
        if status != 0 {
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

async fn create_nodes(client: &kube::Client, n: usize) {
    let api: Api<Node> = Api::all(client.clone());
    let started = Instant::now();
    let results: Vec<_> = stream::iter(1..=n)
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
        .buffer_unordered(64)
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
        "{n} nodes created in {:.1}s",
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

async fn bench() {
    let args = Args::parse();
    let pods = args.pods.unwrap_or(args.nodes / 4);
    let root = workspace();

    eprintln!("building kubectl-ds (release)");
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| s("cargo"));
    let ok = Command::new(cargo)
        .args(["build", "--release", "-q", "--bin", "kubectl-ds"])
        .current_dir(&root)
        .status()
        .expect("cargo build");
    assert!(ok.success(), "cargo build failed");
    let ours = root
        .join("target/release/kubectl-ds")
        .to_string_lossy()
        .into_owned();

    let tb = Testbed::start(Options {
        client_qps: Some(1000.0),
        max_requests_inflight: Some(0),
        audit: false,
        // On 2 cores, thousands of fake nodes cannot all renew their Leases on time while
        // tens of thousands of pods are created; a long grace period (and the long Leases it
        // implies) keeps nodes Ready, and pods on them, for the whole run.
        node_monitor_grace_period: Duration::from_secs(3600),
        node_startup_grace_period: Duration::from_secs(3600),
        ..Options::default()
    })
    .await
    .expect("testbed");
    eprintln!("testbed up in {:.1}s", tb.startup_time().as_secs_f64());
    let client = tb.client().await.expect("client");
    let started = Instant::now();
    create_nodes(&client, args.nodes).await;
    let mut setup =
        String::from("apiVersion: v1\nkind: Namespace\nmetadata: {name: bench-apps}\n---\n");
    for ns in 0..3 {
        setup.push_str(&format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: bench-ds-{ns}}}\n---\n"
        ));
    }
    apply_yaml(&client, &setup).await.expect("namespaces");
    let mut objects: Vec<String> = (0..args.daemonsets).map(daemonset_yaml).collect();
    objects.push(deployment_yaml(pods));
    apply_yaml(&client, &objects.join("---\n"))
        .await
        .expect("workloads");
    wait_settled(&client, args.daemonsets, pods).await;
    let setup_seconds = started.elapsed().as_secs_f64();
    if args.hold {
        eprintln!(
            "set up in {setup_seconds:.0}s; KUBECONFIG={} (Ctrl-C to tear down)",
            tb.kubeconfig().display()
        );
        let _ = tokio::signal::ctrl_c().await;
        return;
    }

    let work = tb.dir().join("bench");
    std::fs::create_dir_all(&work).unwrap();
    let (ca, cert, key) = admin_pem_files(&tb, &work);
    let manifest = work.join("new-agent.yaml");
    std::fs::write(&manifest, preview_yaml()).unwrap();
    let server = tb.server().to_string();
    let node = format!("node-{:05}", args.nodes / 2);
    let kc = tb.kubeconfig().to_path_buf();
    let env: Vec<(&str, &Path)> = vec![("KUBECONFIG", kc.as_path())];
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
    type Case = (
        &'static str,
        Vec<Vec<String>>,
        Option<(&'static str, Vec<Vec<String>>)>,
    );
    let cases: Vec<Case> = vec![
        (
            "coverage -A vs kubectl get ds,pods,nodes -o json",
            vec![vec![ours.clone(), s("coverage"), s("-A")]],
            Some((
                "kubectl get ds -A -o json + get pods -A -o json + get nodes -o json",
                vec![
                    vec![s("kubectl"), s("get"), s("ds"), s("-A"), s("-o"), s("json")],
                    vec![
                        s("kubectl"),
                        s("get"),
                        s("pods"),
                        s("-A"),
                        s("-o"),
                        s("json"),
                    ],
                    vec![s("kubectl"), s("get"), s("nodes"), s("-o"), s("json")],
                ],
            )),
        ),
        (
            "coverage -A vs raw LISTs",
            vec![vec![ours.clone(), s("coverage"), s("-A")]],
            Some((
                "curl: the same 4 LISTs in parallel, bodies discarded",
                vec![curl],
            )),
        ),
        (
            "explain node vs kubectl describe node + get pods",
            vec![vec![
                ours.clone(),
                s("explain"),
                s("node"),
                node.clone(),
                s("-A"),
            ]],
            Some((
                "kubectl describe node + get pods -A --field-selector spec.nodeName -o json",
                vec![
                    vec![s("kubectl"), s("describe"), s("node"), node.clone()],
                    vec![
                        s("kubectl"),
                        s("get"),
                        s("pods"),
                        s("-A"),
                        s("--field-selector"),
                        format!("spec.nodeName={node}"),
                        s("-o"),
                        s("json"),
                    ],
                ],
            )),
        ),
        (
            "preview -f",
            vec![vec![ours.clone(), s("preview"), s("-f"), p(&manifest)]],
            None,
        ),
        (
            "overhead vs coverage -A",
            vec![vec![ours.clone(), s("overhead")]],
            Some((
                "kubectl-ds coverage -A (the same lists)",
                vec![vec![ours.clone(), s("coverage"), s("-A")]],
            )),
        ),
    ];

    let mut cases = cases;
    if let Some(base) = &args.baseline {
        let base = p(base);
        cases.push((
            "coverage -A vs the baseline build",
            vec![vec![ours.clone(), s("coverage"), s("-A")]],
            Some((
                "baseline kubectl-ds coverage -A",
                vec![vec![base.clone(), s("coverage"), s("-A")]],
            )),
        ));
        cases.push((
            "explain node vs the baseline build",
            vec![vec![
                ours.clone(),
                s("explain"),
                s("node"),
                node.clone(),
                s("-A"),
            ]],
            Some((
                "baseline kubectl-ds explain node",
                vec![vec![base, s("explain"), s("node"), node.clone(), s("-A")]],
            )),
        ));
    }
    // One warm-up round, then the repetitions, each case alternating ours and theirs.
    let mut samples: Vec<(Vec<Sample>, Vec<Sample>)> = vec![(Vec::new(), Vec::new()); cases.len()];
    for rep in 0..=args.reps {
        for (i, (_, mine, other)) in cases.iter().enumerate() {
            let a = run(mine, &env);
            let b = other.as_ref().map(|(_, o)| run(o, &env));
            if rep > 0 {
                samples[i].0.push(a);
                if let Some(b) = b {
                    samples[i].1.push(b);
                }
            }
        }
        eprintln!("round {rep}/{} done", args.reps);
    }
    let rows: Vec<Row> = cases
        .iter()
        .zip(&samples)
        .map(|((what, _, other), (a, b))| Row {
            what: what.to_string(),
            ours: stats(a),
            other_name: other.as_ref().map(|(n, _)| n.to_string()),
            other: other.as_ref().map(|_| stats(b)),
        })
        .collect();

    let daemon_pods: usize = Api::<DaemonSet>::all(client.clone())
        .list(&ListParams::default())
        .await
        .expect("daemonsets")
        .items
        .iter()
        .map(|d| d.status.as_ref().map_or(0, |s| s.number_ready) as usize)
        .sum();
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let mem_gb = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0 / 1024.0);
    let mut md = format!(
        "{} nodes, {} DaemonSets ({daemon_pods} daemon pods), {pods} ordinary pods; {} repetitions, median (min–max); machine: {cpus} cores, {mem_gb:.0} GB, testbed on the same machine\n\n",
        args.nodes, args.daemonsets, args.reps
    );
    md.push_str("| measurement | kubectl-ds | compared with | that | ratio | max RSS kubectl-ds | max RSS that |\n|---|---|---|---|---|---|---|\n");
    for r in &rows {
        let (other, ratio, rss) = match (&r.other_name, &r.other) {
            (Some(n), Some(o)) => (
                format!("{n} | {}", fmt_stats(o)),
                format!("{:.2}x", r.ours.median / o.median),
                format!("{:.0} MB", o.max_rss_mb),
            ),
            _ => (s("– | –"), s("–"), s("–")),
        };
        md.push_str(&format!(
            "| {} | {} | {other} | {ratio} | {:.0} MB | {rss} |\n",
            r.what,
            fmt_stats(&r.ours),
            r.ours.max_rss_mb
        ));
    }
    println!("{md}");
    let out = root.join(&args.out);
    std::fs::create_dir_all(&out).expect("output directory");
    let base = out.join(format!("results-{}", args.nodes));
    std::fs::write(base.with_extension("md"), &md).expect("write .md");
    let json = serde_json::json!({
        "nodes": args.nodes,
        "daemonsets": args.daemonsets,
        "daemonPods": daemon_pods,
        "ordinaryPods": pods,
        "repetitions": args.reps,
        "setupSeconds": setup_seconds,
        "machine": {"cpus": cpus, "memoryGB": mem_gb},
        "rows": rows,
    });
    std::fs::write(
        base.with_extension("json"),
        serde_json::to_string_pretty(&json).unwrap(),
    )
    .expect("write .json");
    eprintln!("written to {}.{{md,json}}", base.display());
}
