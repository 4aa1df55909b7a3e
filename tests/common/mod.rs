//! Shared helpers of the end-to-end tests: running the built binaries against a testbed,
//! waiting for the controllers to settle, and a small seeded random generator.
#![allow(dead_code)]

use std::path::Path;
use std::process::{Command, Output};
use std::time::Duration;

use k8s_openapi::api::apps::v1::DaemonSet;
use kube::Api;
use kube::api::ListParams;

/// A ClusterRole from `docs/rbac/` (`read-only`, `rollback`, `server-dry-run`), as published.
pub fn rbac_role(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("docs/rbac")
        .join(format!("{name}.yaml"));
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Runs `kubectl-ds ARGS` with only the given kubeconfig (no colour, no user environment).
pub fn kubectl_ds(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_kubectl-ds"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("run kubectl-ds")
}

pub fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

pub fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Runs the command and parses its JSON output, failing with its stderr if it did not succeed.
pub fn json(kubeconfig: &Path, args: &[&str]) -> serde_json::Value {
    let out = kubectl_ds(kubeconfig, args);
    assert!(
        out.status.success(),
        "kubectl-ds {args:?} failed ({:?}): {}",
        out.status.code(),
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// Waits until every DaemonSet in `namespace` has its latest spec observed and its status has
/// not changed for three seconds: the controllers have nothing more to do.
pub async fn wait_stable(client: &kube::Client, namespace: &str, timeout: Duration) {
    wait_stable_in(Api::namespaced(client.clone(), namespace), timeout).await;
}

/// [`wait_stable`] for the DaemonSets of every namespace: where preemption reaches other
/// namespaces' pods.
pub async fn wait_stable_everywhere(client: &kube::Client, timeout: Duration) {
    wait_stable_in(Api::all(client.clone()), timeout).await;
}

async fn wait_stable_in(api: Api<DaemonSet>, timeout: Duration) {
    let deadline = std::time::Instant::now() + timeout;
    let mut last = String::new();
    let mut since = std::time::Instant::now();
    loop {
        let list = api
            .list(&ListParams::default())
            .await
            .expect("list daemonsets");
        let observed = list.items.iter().all(|d| {
            d.status.as_ref().and_then(|s| s.observed_generation) >= d.metadata.generation
        });
        let state = serde_json::to_string(
            &list
                .items
                .iter()
                .map(|d| (&d.metadata.name, &d.status))
                .collect::<Vec<_>>(),
        )
        .unwrap_or_default();
        if !observed || state != last {
            last = state;
            since = std::time::Instant::now();
        } else if since.elapsed() >= Duration::from_secs(3) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "DaemonSets did not settle: {last}"
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// Asks `check` every half second until it answers `Ok`, and fails with its last `Err` (what
/// it saw) once `timeout` has passed.
pub async fn eventually<F, Fut>(timeout: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let deadline = std::time::Instant::now() + timeout;
    loop {
        let seen = match check().await {
            Ok(()) => return,
            Err(seen) => seen,
        };
        assert!(std::time::Instant::now() < deadline, "{seen}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// xorshift64*: deterministic scenarios from a fixed seed, without a dependency.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed.max(1))
    }

    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    pub fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// A DaemonSet manifest named `name` whose pod spec has the given extra YAML (indented 6).
pub fn daemonset(name: &str, namespace: &str, pod_spec_extra: &str) -> String {
    let extra: String = pod_spec_extra
        .lines()
        .map(|l| format!("      {l}\n"))
        .collect();
    format!(
        "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {name}
  namespace: {namespace}
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      containers:
      - name: main
        image: registry.example/agent:1
{extra}"
    )
}

/// Like `json`, for checks that exit 1 when they find a problem (the report is still printed).
pub fn json_report(kubeconfig: &Path, args: &[&str]) -> serde_json::Value {
    let out = kubectl_ds(kubeconfig, args);
    assert!(
        matches!(out.status.code(), Some(0 | 1)),
        "kubectl-ds {args:?} failed ({:?}): {}",
        out.status.code(),
        stderr(&out)
    );
    serde_json::from_slice(&out.stdout).expect("JSON output")
}

/// The nodes with a bound pod, and the nodes of Pending pods with the scheduler's message.
pub type Placement = (
    std::collections::BTreeSet<String>,
    std::collections::BTreeMap<String, String>,
);

/// Where DaemonSet `ns/name` (its pods labelled `app=name`) landed: the nodes with a bound
/// live pod, and the nodes of its Pending pods with the scheduler's FailedScheduling message
/// ("" while it has none).
pub async fn placement(client: &kube::Client, ns: &str, name: &str) -> Placement {
    use k8s_openapi::api::core::v1::{Event, Pod};
    let pods: Api<Pod> = Api::namespaced(client.clone(), ns);
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let messages: std::collections::BTreeMap<String, String> = events
        .list(&ListParams::default().fields("reason=FailedScheduling"))
        .await
        .expect("events")
        .items
        .into_iter()
        .filter_map(|e| Some((e.involved_object.name?, e.message.unwrap_or_default())))
        .collect();
    let mut running = std::collections::BTreeSet::new();
    let mut pending = std::collections::BTreeMap::new();
    let listed = pods
        .list(&ListParams::default().labels(&format!("app={name}")))
        .await
        .expect("pods");
    for p in listed.items {
        if p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let node = pod_node(&p).unwrap_or_default();
        if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some() {
            running.insert(node);
        } else {
            let pod_name = p.metadata.name.clone().unwrap_or_default();
            pending.insert(node, messages.get(&pod_name).cloned().unwrap_or_default());
        }
    }
    (running, pending)
}

/// [`placement`] once the scheduler has reported on every Pending pod.
pub async fn settled_placement(client: &kube::Client, ns: &str, name: &str) -> Placement {
    for _ in 0..60 {
        let o = placement(client, ns, name).await;
        if o.1.values().all(|m| !m.is_empty()) {
            return o;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{name}: Pending pods without a FailedScheduling event");
}

/// The strings of a JSON array (none for anything else).
pub fn strings(v: &serde_json::Value) -> std::collections::BTreeSet<String> {
    v.as_array()
        .into_iter()
        .flatten()
        .filter_map(|s| s.as_str().map(str::to_string))
        .collect()
}

/// The node a daemon pod is for: `spec.nodeName`, or before binding the value of the
/// `metadata.name` matchFields term the controller pins it with.
pub fn pod_node(p: &k8s_openapi::api::core::v1::Pod) -> Option<String> {
    let spec = p.spec.as_ref()?;
    spec.node_name.clone().or_else(|| {
        spec.affinity
            .as_ref()?
            .node_affinity
            .as_ref()?
            .required_during_scheduling_ignored_during_execution
            .as_ref()?
            .node_selector_terms
            .first()?
            .match_fields
            .as_ref()?
            .first()?
            .values
            .as_ref()?
            .first()
            .cloned()
    })
}

/// A pod bound straight to a node (no scheduler), taking cpu or host ports there.
pub fn filler(name: &str, node: &str, cpu: &str, ports: &str) -> String {
    let namespace = "default";
    format!(
        "apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {namespace}}}
spec:
  nodeName: {node}
  tolerations: [{{operator: Exists}}]
  containers:
  - name: main
    image: registry.example/filler:1
    resources: {{requests: {{cpu: '{cpu}'}}}}
    ports: [{ports}]
"
    )
}

/// Runs `args` as a fresh user and returns its requests (verb and path without the query). A
/// check that finds a problem (exit 1) still counts.
pub async fn requests_sent(
    tb: &kubectl_ds_testbed::Testbed,
    user: &str,
    args: &[&str],
) -> std::collections::BTreeMap<String, usize> {
    let kubeconfig = tb
        .kubeconfig_for_user(user, &["system:masters"])
        .expect("user");
    json_report(&kubeconfig, args);
    // The audit line of the last response can land a moment after it.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut out = std::collections::BTreeMap::new();
    for e in tb.audit_events().expect("audit") {
        if e["user"]["username"] != user || e["stage"] != "ResponseComplete" {
            continue;
        }
        let uri = e["requestURI"].as_str().unwrap_or("");
        let path = uri.split('?').next().unwrap_or("");
        let key = format!("{} {path}", e["verb"].as_str().unwrap_or(""));
        *out.entry(key).or_insert(0) += 1;
    }
    out
}

/// The step a long scenario is at, so that a failure names the step as well as the line:
/// each `step` prints its name, and a panic while the story is alive says where it happened.
pub struct Story {
    step: String,
}

impl Story {
    pub fn new(first: &str) -> Story {
        println!("== step: {first}");
        Story {
            step: first.to_string(),
        }
    }

    pub fn step(&mut self, name: &str) {
        println!("== step: {name}");
        self.step = name.to_string();
    }
}

impl Drop for Story {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!("failed in step: {}", self.step);
        }
    }
}

/// A pod bound straight to a node with a priority class, taking cpu there (`extra` is YAML
/// appended to its container, indented 4): what a DaemonSet's pod may preempt.
pub fn priority_filler(name: &str, node: &str, class: &str, cpu: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: default, labels: {{filler: {name}}}}}
spec:
  nodeName: {node}
  priorityClassName: {class}
  tolerations: [{{operator: Exists}}]
  containers:
  - name: main
    image: registry.example/filler:1
    resources: {{requests: {{cpu: '{cpu}'}}}}
{extra}"
    )
}

/// The namespaces of [`admission_world`] with the given prefix: plain, with a LimitRange
/// default cpu request of 300m, and enforcing PodSecurity baseline.
pub fn admission_namespaces(prefix: &str) -> [String; 3] {
    ["plain", "lr", "psa"].map(|s| format!("{prefix}-{s}"))
}

/// What the admission chain reads, for randomised DaemonSets: PriorityClasses `low` (10),
/// `high` (1000) and `high-never` (1000, preemptionPolicy Never); RuntimeClass `kata` (50m
/// overhead, nodeSelector runtime=kata); the [`admission_namespaces`], each with a
/// ServiceAccount `agent`.
pub fn admission_world(prefix: &str) -> String {
    let mut yaml = String::from(
        "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: low}\nvalue: 10\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 1000\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high-never}\nvalue: 1000\npreemptionPolicy: Never\n---\napiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: kata}\nhandler: kata\noverhead: {podFixed: {cpu: 50m}}\nscheduling: {nodeSelector: {runtime: kata}}\n",
    );
    let [plain, lr, psa] = admission_namespaces(prefix);
    for ns in [&plain, &lr, &psa] {
        let labels = if *ns == psa {
            "{pod-security.kubernetes.io/enforce: baseline}"
        } else {
            "{}"
        };
        yaml.push_str(&format!("---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}, labels: {labels}}}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: agent, namespace: {ns}}}\n"));
    }
    yaml.push_str(&format!("---\napiVersion: v1\nkind: LimitRange\nmetadata: {{name: defaults, namespace: {lr}}}\nspec:\n  limits:\n  - {{type: Container, defaultRequest: {{cpu: 300m}}, default: {{cpu: 300m}}}}\n"));
    yaml
}

/// Waits until the ServiceAccount controller has made the `default` ServiceAccount of each
/// namespace: before, the API server refuses every pod there that names none.
pub async fn wait_default_service_accounts(client: &kube::Client, namespaces: &[&str]) {
    for ns in namespaces {
        let api: Api<k8s_openapi::api::core::v1::ServiceAccount> =
            Api::namespaced(client.clone(), ns);
        kubectl_ds_testbed::wait_for(
            &format!("the default ServiceAccount of {ns}"),
            Duration::from_secs(60),
            || {
                let api = api.clone();
                async move { Ok::<_, kube::Error>(api.get_opt("default").await?.map(|_| ())) }
            },
        )
        .await
        .expect("default ServiceAccount");
    }
}

/// Random pod-spec lines (indented as the pod spec) for what admission changes or refuses: a
/// ServiceAccount (`agent`, one that does not exist, or none), a priority class (none, low,
/// high, high with preemptionPolicy Never), RuntimeClass `kata`, hostNetwork.
pub fn admission_draws(rng: &mut Rng) -> String {
    let mut spec = String::new();
    match rng.below(10) {
        0 => spec.push_str("serviceAccountName: missing\n"),
        1..=3 => spec.push_str("serviceAccountName: agent\n"),
        _ => {}
    }
    if let Some(c) = rng.pick(&[None, None, Some("low"), Some("high"), Some("high-never")]) {
        spec.push_str(&format!("priorityClassName: {c}\n"));
    }
    if rng.chance(15) {
        spec.push_str("runtimeClassName: kata\n");
    }
    if rng.chance(15) {
        spec.push_str("hostNetwork: true\n");
    }
    spec
}
