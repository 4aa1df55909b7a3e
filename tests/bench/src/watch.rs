//! Both `--watch` modes under churn: the watch is started, and once its first frame is out the
//! benchmark patches nodes and pods at a constant rate for a fixed period, while it creates a
//! marker DaemonSet (selecting no node) every two seconds. Each marker shows in the watch's
//! next frame (a coverage row, a rollout status line); the time from its create to the first
//! output line naming it is the change-to-frame latency. CPU seconds come from
//! `/proc/PID/stat`, the steady RSS from `/proc/PID/status`, sampled through the period.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde::Serialize;
use tokio::sync::Semaphore;

/// What one watch did over the measured period.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WatchFigures {
    pub what: String,
    /// From the start of the process to its first frame.
    pub first_frame_seconds: f64,
    /// The measured period, after the first frame.
    pub seconds: f64,
    /// Node and pod updates made per second during it.
    pub churn_per_second: f64,
    pub cpu_seconds: f64,
    /// CPU seconds per second: 1.0 is one core.
    pub cpu_share: f64,
    /// Median and largest RSS sampled during the period.
    pub rss_mb_median: f64,
    pub rss_mb_max: f64,
    /// Change-to-frame latency of the markers, milliseconds.
    pub latency_ms: Vec<f64>,
    pub latency_ms_median: f64,
    pub latency_ms_max: f64,
    /// Markers never shown before the period ended.
    pub markers_missed: usize,
    /// Set when the watch ended by itself, which it should not.
    pub exited: Option<String>,
}

/// The watch to measure and where its markers go.
pub struct Watch<'a> {
    pub what: &'a str,
    pub command: Vec<String>,
    pub marker_namespace: &'a str,
    pub kubeconfig: &'a Path,
}

/// Constant churn: node label and pod annotation patches, alternating.
pub struct Churn {
    pub per_second: u32,
    pub nodes: Vec<String>,
    /// `(namespace, name)` of pods to patch.
    pub pods: Vec<(String, String)>,
}

impl Churn {
    pub async fn of_cluster(client: &kube::Client, per_second: u32) -> Churn {
        let nodes: Vec<String> = Api::<Node>::all(client.clone())
            .list_metadata(&ListParams::default())
            .await
            .expect("list nodes")
            .items
            .into_iter()
            .filter_map(|n| n.metadata.name)
            .collect();
        let list = |api: Api<Pod>| async move {
            api.list_metadata(&ListParams::default().limit(1000))
                .await
                .expect("list pods")
                .items
                .into_iter()
                .filter_map(|p| Some((p.metadata.namespace?, p.metadata.name?)))
                .collect::<Vec<_>>()
        };
        // Half of them in the namespace the rollout watch follows, so both watches see
        // pod churn.
        let rolling = list(Api::namespaced(client.clone(), "bench-roll")).await;
        let others = list(Api::all(client.clone())).await;
        let mut pods = Vec::new();
        for i in 0..rolling.len().max(others.len()) {
            pods.extend(rolling.get(i % rolling.len().max(1)).cloned());
            pods.extend(others.get(i % others.len().max(1)).cloned());
        }
        Churn {
            per_second,
            nodes,
            pods,
        }
    }
}

fn marker_yaml(namespace: &str, name: &str) -> DaemonSet {
    serde_json::from_value(serde_json::json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": name, "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": name}},
            "template": {"metadata": {"labels": {"app": name}}, "spec": {
                "nodeSelector": {"bench-marker": "none"},
                "containers": [{"name": "c", "image": "registry.example/marker:1"}]}}
        }
    }))
    .expect("marker DaemonSet")
}

/// Lines of the watch's stdout with the time each arrived.
fn read_lines(child: &mut Child) -> std::sync::mpsc::Receiver<(Instant, String)> {
    let (tx, rx) = std::sync::mpsc::channel();
    let stdout = child.stdout.take().expect("piped stdout");
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send((Instant::now(), line)).is_err() {
                break;
            }
        }
    });
    rx
}

/// utime + stime of a process, in seconds.
fn cpu_seconds(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // The fields after the command name, which is in parentheses and may hold spaces.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    // utime and stime are fields 14 and 15 of the whole line, 12 and 13 after the name.
    (ticks(11) + ticks(12)) / hz.max(1.0)
}

fn rss_mb(pid: u32) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => f64::NAN,
        n if n % 2 == 1 => v[n / 2],
        n => (v[n / 2 - 1] + v[n / 2]) / 2.0,
    }
}

/// Patches one node or pod per tick until `stop`; returns how many were made.
async fn churn(client: kube::Client, churn: Arc<Churn>, stop: Arc<AtomicBool>) -> usize {
    let done = Arc::new(AtomicUsize::new(0));
    let inflight = Arc::new(Semaphore::new(16));
    let mut tick =
        tokio::time::interval(Duration::from_secs_f64(1.0 / f64::from(churn.per_second)));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut i = 0usize;
    while !stop.load(Ordering::Relaxed) {
        tick.tick().await;
        let Ok(permit) = inflight.clone().try_acquire_owned() else {
            continue;
        };
        let (client, churn, done) = (client.clone(), churn.clone(), done.clone());
        let n = i;
        i += 1;
        tokio::spawn(async move {
            let value = format!("{n}");
            let ok = if n.is_multiple_of(2) && !churn.nodes.is_empty() {
                let name = &churn.nodes[(n / 2) % churn.nodes.len()];
                let patch = serde_json::json!({"metadata": {"labels": {"bench-churn": value}}});
                Api::<Node>::all(client)
                    .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .is_ok()
            } else if !churn.pods.is_empty() {
                let (ns, name) = &churn.pods[(n / 2) % churn.pods.len()];
                let patch =
                    serde_json::json!({"metadata": {"annotations": {"bench-churn": value}}});
                Api::<Pod>::namespaced(client, ns)
                    .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .is_ok()
            } else {
                false
            };
            if ok {
                done.fetch_add(1, Ordering::Relaxed);
            }
            drop(permit);
        });
    }
    done.load(Ordering::Relaxed)
}

/// Starts the watch, waits for its first frame, then measures it for `period` under `churn`.
pub async fn measure(
    client: &kube::Client,
    watch: &Watch<'_>,
    churn_of: Arc<Churn>,
    period: Duration,
) -> WatchFigures {
    let (program, args) = watch.command.split_first().expect("a command");
    let started = Instant::now();
    let mut child = Command::new(program)
        .args(args)
        .env("KUBECONFIG", watch.kubeconfig)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|e| panic!("{program}: {e}"));
    let pid = child.id();
    let lines = read_lines(&mut child);
    let first = lines
        .recv_timeout(Duration::from_secs(1800))
        .unwrap_or_else(|e| panic!("{}: no first frame: {e}", watch.what));
    let first_frame = first.0 - started;
    // Let the first frame finish printing.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while lines.try_recv().is_ok() {}

    let stop = Arc::new(AtomicBool::new(false));
    let churning = tokio::spawn(churn(client.clone(), churn_of, stop.clone()));
    let cpu0 = cpu_seconds(pid);
    let t0 = Instant::now();
    let dss: Api<DaemonSet> = Api::namespaced(client.clone(), watch.marker_namespace);
    let mut markers: Vec<(String, Instant, Option<Instant>)> = Vec::new();
    let mut rss = Vec::new();
    let mut next_marker = t0;
    let mut exited = None;
    while t0.elapsed() < period {
        if Instant::now() >= next_marker {
            let name = format!("marker-{}", markers.len());
            dss.create(
                &PostParams::default(),
                &marker_yaml(watch.marker_namespace, &name),
            )
            .await
            .expect("create marker");
            markers.push((name, Instant::now(), None));
            next_marker += Duration::from_secs(2);
        }
        rss.extend(rss_mb(pid));
        while let Ok((at, line)) = lines.try_recv() {
            for m in markers.iter_mut().filter(|m| m.2.is_none()) {
                if line.contains(&format!("{}:", m.0)) || line.contains(&format!("{} ", m.0)) {
                    m.2 = Some(at);
                }
            }
        }
        if let Ok(Some(status)) = child.try_wait() {
            exited = Some(format!("exited with {status}"));
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let seconds = t0.elapsed().as_secs_f64();
    let cpu = cpu_seconds(pid) - cpu0;
    stop.store(true, Ordering::Relaxed);
    let updates = churning.await.unwrap_or(0);
    let _ = child.kill();
    let _ = child.wait();
    for (name, _, _) in &markers {
        let _ = dss.delete(name, &DeleteParams::default()).await;
    }
    let latency: Vec<f64> = markers
        .iter()
        .filter_map(|(_, made, seen)| {
            Some((seen.as_ref()?.duration_since(*made)).as_secs_f64() * 1e3)
        })
        .collect();
    WatchFigures {
        what: watch.what.to_string(),
        first_frame_seconds: first_frame.as_secs_f64(),
        seconds,
        churn_per_second: updates as f64 / seconds,
        cpu_seconds: cpu,
        cpu_share: cpu / seconds,
        rss_mb_median: median(&rss),
        rss_mb_max: rss.iter().copied().fold(0.0, f64::max),
        latency_ms_median: median(&latency),
        latency_ms_max: latency.iter().copied().fold(0.0, f64::max),
        markers_missed: markers.len() - latency.len(),
        latency_ms: latency,
        exited,
    }
}
