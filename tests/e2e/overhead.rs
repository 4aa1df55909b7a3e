//! `kubectl ds overhead` and `preview --node` against what the real control plane does: the
//! per-node overhead reported for each pool equals what the daemon pods really running on a
//! node of that pool request; and for a node that does not exist yet, the DaemonSets predicted
//! to land and to stay Pending are exactly those that do once the node is added.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::common::{json, json_report, kubectl_ds, requests_sent, stdout, wait_stable};
use k8s_openapi::api::core::v1::{Container, Pod};
use kube::Api;
use kube::api::ListParams;
use kubectl_ds::logic::apimachinery::quantity::parse_milli;
use kubectl_ds_testbed::{FakeNode, Options, Testbed, add_node, apply_yaml, wait_for};
use serde_json::Value;

const DAEMONSETS: &str = r#"
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: kata}
handler: kata
overhead: {podFixed: {cpu: 250m, memory: 120Mi}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: node-agent, namespace: kube-system}
spec:
  selector: {matchLabels: {app: node-agent}}
  template:
    metadata: {labels: {app: node-agent}}
    spec:
      priorityClassName: system-node-critical
      tolerations: [{operator: Exists}]
      initContainers:
      - {name: shipper, image: registry.example/shipper:1, restartPolicy: Always, resources: {requests: {cpu: 50m, memory: 32Mi}}}
      containers:
      - {name: main, image: registry.example/agent:1, resources: {requests: {cpu: 100m, memory: 128Mi}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: log-shipper, namespace: default}
spec:
  selector: {matchLabels: {app: log-shipper}}
  template:
    metadata: {labels: {app: log-shipper}}
    spec:
      runtimeClassName: kata
      containers:
      - {name: main, image: registry.example/logs:1, resources: {requests: {cpu: 200m, memory: 256Mi, ephemeral-storage: 1Gi}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: gpu-plugin, namespace: default}
spec:
  selector: {matchLabels: {app: gpu-plugin}}
  template:
    metadata: {labels: {app: gpu-plugin}}
    spec:
      nodeSelector: {karpenter.sh/nodepool: gpu}
      tolerations: [{key: nvidia.com/gpu, operator: Exists, effect: NoSchedule}]
      containers:
      - {name: main, image: registry.example/gpu:1, resources: {requests: {cpu: 50m, memory: 64Mi}, limits: {nvidia.com/gpu: 1}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: no-requests, namespace: default}
spec:
  selector: {matchLabels: {app: no-requests}}
  template:
    metadata: {labels: {app: no-requests}}
    spec:
      containers:
      - {name: main, image: registry.example/plain:1}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: heavy, namespace: default}
spec:
  selector: {matchLabels: {app: heavy}}
  template:
    metadata: {labels: {app: heavy}}
    spec:
      containers:
      - {name: main, image: registry.example/heavy:1, resources: {requests: {cpu: "3", memory: 1Gi}}}
"#;

fn nodes() -> Vec<FakeNode> {
    let general = |name: &str| {
        FakeNode::new(name)
            .label("karpenter.sh/nodepool", "general")
            .cpu("4")
            .memory("8Gi")
    };
    vec![
        general("gen-1"),
        general("gen-2"),
        FakeNode::new("gpu-1")
            .label("karpenter.sh/nodepool", "gpu")
            .taint("nvidia.com/gpu", "present", "NoSchedule")
            .cpu("8")
            .memory("32Gi")
            .extended("nvidia.com/gpu", "2"),
        FakeNode::new("small-1")
            .label("node.kubernetes.io/instance-type", "t3.small")
            .cpu("2")
            .memory("4Gi"),
        FakeNode::new("edge-1")
            .taint("edge", "", "NoExecute")
            .cpu("2")
            .memory("4Gi"),
    ]
}

/// What a pod requests, summed here independently of the plugin: regular containers and
/// sidecars (no classic init containers in these scenarios) plus the pod overhead.
fn requests(p: &Pod) -> BTreeMap<String, i128> {
    let spec = p.spec.as_ref().expect("spec");
    let mut out = BTreeMap::new();
    let mut add =
        |k: &str, q: &str| *out.entry(k.to_string()).or_insert(0) += parse_milli(q).unwrap();
    let sidecars = spec
        .init_containers
        .iter()
        .flatten()
        .filter(|c| c.restart_policy.as_deref() == Some("Always"));
    let all: Vec<&Container> = spec.containers.iter().chain(sidecars).collect();
    for c in all {
        for (k, q) in c.resources.iter().flat_map(|r| r.requests.iter().flatten()) {
            add(k, &q.0);
        }
    }
    for (k, q) in spec.overhead.iter().flatten() {
        add(k, &q.0);
    }
    out.insert("pods".into(), 1000);
    out
}

/// Daemon pods running on each node, with their summed requests; and per node the set of
/// DaemonSets with a running and with a Pending pod there.
struct Reality {
    per_node: BTreeMap<String, BTreeMap<String, i128>>,
    running: BTreeMap<String, BTreeSet<String>>,
    pending: BTreeMap<String, BTreeSet<String>>,
}

async fn reality(client: &kube::Client) -> Reality {
    let pods: Api<Pod> = Api::all(client.clone());
    let mut r = Reality {
        per_node: BTreeMap::new(),
        running: BTreeMap::new(),
        pending: BTreeMap::new(),
    };
    for p in pods.list(&ListParams::default()).await.expect("pods").items {
        let Some(owner) = p
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|o| o.kind == "DaemonSet")
        else {
            continue;
        };
        let ds = format!(
            "{}/{}",
            p.metadata.namespace.as_deref().unwrap_or(""),
            owner.name
        );
        let node = common::pod_node(&p).unwrap_or_default();
        let phase = p
            .status
            .as_ref()
            .and_then(|s| s.phase.clone())
            .unwrap_or_default();
        let bound = p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some();
        if bound && phase == "Running" {
            let sum = r.per_node.entry(node.clone()).or_default();
            for (k, v) in requests(&p) {
                *sum.entry(k).or_default() += v;
            }
            r.running.entry(node).or_default().insert(ds);
        } else if !bound {
            r.pending.entry(node).or_default().insert(ds);
        }
    }
    r
}

/// Waits until every daemon pod is Running or has been reported unschedulable.
async fn settled(client: &kube::Client) -> Reality {
    for ns in ["default", "kube-system", "limited"] {
        wait_stable(client, ns, Duration::from_secs(120)).await;
    }
    wait_for("daemon pods to settle", Duration::from_secs(60), || async {
        let pods: Api<Pod> = Api::all(client.clone());
        let list = pods.list(&ListParams::default()).await?;
        let settled = list.items.iter().all(|p| {
            let status = p.status.as_ref();
            let phase = status.and_then(|s| s.phase.as_deref()).unwrap_or("");
            let unschedulable = status
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|cs| {
                    cs.iter().any(|c| {
                        c.type_ == "PodScheduled" && c.reason.as_deref() == Some("Unschedulable")
                    })
                });
            phase == "Running" || unschedulable
        });
        Ok::<_, kube::Error>(settled.then_some(()))
    })
    .await
    .expect("pods settle");
    reality(client).await
}

fn milli(resource: &str, s: &str) -> i128 {
    let v = parse_milli(s).unwrap_or_else(|| panic!("{resource}: {s:?} is not a quantity"));
    if resource == "cpu" {
        v
    } else {
        // Shown in whole units; compare in whole units too.
        (v + 999) / 1000 * 1000
    }
}

/// Every node of every group: the reported per-node overhead equals what runs there.
fn check_overhead(report: &Value, real: &Reality) {
    let groups = report["groups"].as_array().expect("groups");
    assert!(groups.len() >= 4, "{report}");
    for g in groups {
        for node in g["nodeNames"].as_array().unwrap() {
            let node = node.as_str().unwrap();
            let actual = real.per_node.get(node).cloned().unwrap_or_default();
            for line in g["resources"].as_array().unwrap() {
                let r = line["resource"].as_str().unwrap();
                let ours = &line["daemonSets"];
                assert_eq!(
                    ours["min"], ours["max"],
                    "{node} {r}: nodes of a pool differ"
                );
                let want = actual.get(r).copied().unwrap_or(0);
                let want = if r == "cpu" {
                    want
                } else {
                    (want + 999) / 1000 * 1000
                };
                assert_eq!(
                    milli(r, ours["min"].as_str().unwrap()),
                    want,
                    "{node} {r}: reported {ours} vs the running daemon pods {actual:?}"
                );
            }
            for (r, v) in &actual {
                assert!(
                    *v == 0
                        || g["resources"]
                            .as_array()
                            .unwrap()
                            .iter()
                            .any(|l| l["resource"] == *r),
                    "{node}: running pods request {r}, which the report leaves out"
                );
            }
        }
    }
}

fn verdicts(p: &Value, verdict: &str) -> BTreeSet<String> {
    p["daemonSets"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["verdict"] == verdict)
        .map(|d| {
            format!(
                "{}/{}",
                d["namespace"].as_str().unwrap(),
                d["name"].as_str().unwrap()
            )
        })
        .collect()
}

/// Adds `node` for real and checks the prediction `p` against what lands and what stays
/// Pending on it.
async fn check_new_node(client: &kube::Client, p: &Value, node: &FakeNode) {
    add_node(client, node).await.expect("new node");
    let real = settled(client).await;
    let running = real.running.get(&node.name).cloned().unwrap_or_default();
    let pending = real.pending.get(&node.name).cloned().unwrap_or_default();
    assert_eq!(verdicts(p, "Lands"), running, "{}: landed ({p})", node.name);
    assert_eq!(
        verdicts(p, "Pending"),
        pending,
        "{}: Pending ({p})",
        node.name
    );
    let cpu = &p["resources"][0];
    assert_eq!(cpu["resource"], "cpu");
    let actual = real
        .per_node
        .get(&node.name)
        .and_then(|m| m.get("cpu"))
        .copied();
    assert_eq!(
        milli("cpu", cpu["daemonSets"].as_str().unwrap()),
        actual.unwrap_or(0),
        "{}: predicted cpu overhead",
        node.name
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overhead_and_new_nodes_match_the_control_plane() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    for n in nodes() {
        add_node(&client, &n).await.expect("node");
    }
    apply_yaml(&client, &common::filler("web", "gen-1", "300m", ""))
        .await
        .expect("filler");
    apply_yaml(&client, DAEMONSETS).await.expect("daemonsets");
    let real = settled(&client).await;
    assert!(
        real.pending
            .get("small-1")
            .is_some_and(|s| s.contains("default/heavy")),
        "the scenario needs a daemon pod that does not fit: {:?}",
        real.pending
    );

    let report = json(tb.kubeconfig(), &["overhead", "-o", "json"]);
    assert_eq!(report["kind"], "OverheadReport");
    check_overhead(&report, &real);
    let traps = report["groups"].to_string();
    for t in ["NoRequests", "DoesNotFit", "NoPriorityClass"] {
        assert!(traps.contains(t), "trap {t} missing: {traps}");
    }
    // One list of each kind, nothing per node.
    let sent = requests_sent(&tb, "overhead-user", &["overhead", "-o", "json"]).await;
    assert!(
        sent.iter().all(|(k, n)| k.starts_with("list ") && *n == 1),
        "{sent:?}"
    );
    assert!(sent.contains_key("list /api/v1/pods"), "{sent:?}");
    let yaml = kubectl_ds(tb.kubeconfig(), &["overhead", "-o", "yaml"]);
    assert!(
        stdout(&yaml).starts_with("apiVersion: kubectl-ds/v1alpha1\nkind: OverheadReport\n"),
        "{}",
        stdout(&yaml)
    );
    let table = kubectl_ds(tb.kubeconfig(), &["overhead"]);
    assert!(table.status.success());
    insta::assert_snapshot!("overhead_table", stdout(&table));
    let by_label = json(
        tb.kubeconfig(),
        &[
            "overhead",
            "--group-by",
            "karpenter.sh/nodepool",
            "-l",
            "karpenter.sh/nodepool",
            "-o",
            "json",
        ],
    );
    let keys: Vec<&str> = by_label["groups"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["key"].as_str().unwrap())
        .collect();
    assert_eq!(
        keys,
        ["karpenter.sh/nodepool=general", "karpenter.sh/nodepool=gpu"]
    );

    // A node of a kind that does not exist yet, from its manifest.
    let small = FakeNode::new("small-2")
        .label("node.kubernetes.io/instance-type", "t3.small")
        .cpu("2")
        .memory("4Gi");
    let file = tb.dir().join("small-2.yaml");
    std::fs::write(&file, serde_json::to_string(&small.to_node()).unwrap()).unwrap();
    let path = file.to_str().unwrap();
    let p = json_report(tb.kubeconfig(), &["preview", "--node", path, "-o", "json"]);
    assert_eq!(p["kind"], "NodePreviewReport");
    let shown = kubectl_ds(tb.kubeconfig(), &["preview", "--node", path]);
    insta::assert_snapshot!("preview_node", stdout(&shown));
    let gate = kubectl_ds(
        tb.kubeconfig(),
        &["preview", "--node", path, "--fail-if-unplaceable"],
    );
    assert_eq!(gate.status.code(), Some(1), "heavy stays Pending there");
    check_new_node(&client, &p, &small).await;

    // An existing node with its pool and taints changed.
    let like = json_report(
        tb.kubeconfig(),
        &[
            "preview",
            "--node-like",
            "gen-1",
            "--labels",
            "karpenter.sh/nodepool=gpu",
            "--taints",
            "nvidia.com/gpu=present:NoSchedule",
            "-o",
            "json",
        ],
    );
    let gpu_like = FakeNode::new("gpu-2")
        .label("karpenter.sh/nodepool", "gpu")
        .taint("nvidia.com/gpu", "present", "NoSchedule")
        .cpu("4")
        .memory("8Gi");
    assert!(
        verdicts(&like, "Pending").contains("default/gpu-plugin"),
        "no nvidia.com/gpu on a node like gen-1: {like}"
    );
    check_new_node(&client, &like, &gpu_like).await;

    // Real pods that request other amounts than the template: an OnDelete DaemonSet whose
    // template changed keeps its old pods; a LimitRange gives pods defaults the template lacks.
    apply_yaml(&client, &on_delete_agent("10m"))
        .await
        .expect("ondelete");
    apply_yaml(&client, LIMITED).await.expect("limitrange");
    settled(&client).await;
    apply_yaml(&client, &on_delete_agent("20m"))
        .await
        .expect("template change");
    settled(&client).await;
    let report = json(tb.kubeconfig(), &["overhead", "-o", "json"]);
    let general = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "karpenter.sh/nodepool=general")
        .expect("general pool")
        .clone();
    let differ = |ds: &str| -> Value {
        general["traps"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["trap"] == "RequestsDiffer" && t["daemonSet"] == ds)
            .cloned()
            .unwrap_or_else(|| panic!("no RequestsDiffer trap for {ds}: {general}"))
    };
    let old = differ("default/ondelete-agent");
    assert_eq!(
        (old["cause"].as_str(), old["pods"].as_u64()),
        (Some("OldRevision"), Some(2)),
        "{old}"
    );
    assert!(
        old["example"].as_str().unwrap().contains("cpu 10m"),
        "{old}"
    );
    // The LimitRange default is part of the admitted pod: counted, and flagged as a
    // request the template does not state.
    let traps = general["traps"].as_array().unwrap();
    let limit_range = traps
        .iter()
        .find(|t| t["trap"] == "LimitRangeDefaults" && t["daemonSet"] == "limited/defaulted")
        .unwrap_or_else(|| panic!("no LimitRangeDefaults trap: {general}"));
    assert!(limit_range.to_string().contains("100m"), "{limit_range}");
    assert!(
        !traps
            .iter()
            .any(|t| t["trap"] == "RequestsDiffer" && t["daemonSet"] == "limited/defaulted"),
        "{general}"
    );

    // Two exporters on the same host port: the one of higher priority gets it (preempting the
    // other if that came first), the other stays Pending on every node of the pool.
    apply_yaml(&client, PORTS).await.expect("port daemonsets");
    let real = settled(&client).await;
    let report = json(tb.kubeconfig(), &["overhead", "-o", "json"]);
    let gpu = report["groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["key"] == "karpenter.sh/nodepool=gpu")
        .expect("gpu pool")
        .clone();
    let nodes: Vec<&str> = gpu["nodeNames"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n.as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["gpu-1", "gpu-2"]);
    let entry = |name: &str| -> (u64, u64) {
        let d = gpu["daemonSets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("{name} missing: {gpu}"));
        (d["nodes"].as_u64().unwrap(), d["pending"].as_u64().unwrap())
    };
    assert_eq!(entry("port-high"), (2, 0), "{gpu}");
    assert_eq!(entry("port-low"), (0, 2), "{gpu}");
    for n in nodes {
        assert!(
            real.running[n].contains("default/port-high"),
            "{n}: {:?}",
            real.running
        );
        assert!(
            real.pending[n].contains("default/port-low"),
            "{n}: {:?}",
            real.pending
        );
    }
}

/// Two DaemonSets on the gpu pool that want host port 9400; one has a higher priority.
const PORTS: &str = r#"
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: daemon-high}
value: 1000
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: port-low, namespace: default}
spec:
  selector: {matchLabels: {app: port-low}}
  template:
    metadata: {labels: {app: port-low}}
    spec:
      nodeSelector: {karpenter.sh/nodepool: gpu}
      tolerations: [{operator: Exists}]
      containers:
      - {name: main, image: registry.example/exporter:1, ports: [{containerPort: 9400, hostPort: 9400}], resources: {requests: {cpu: 10m}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: port-high, namespace: default}
spec:
  selector: {matchLabels: {app: port-high}}
  template:
    metadata: {labels: {app: port-high}}
    spec:
      priorityClassName: daemon-high
      nodeSelector: {karpenter.sh/nodepool: gpu}
      tolerations: [{operator: Exists}]
      containers:
      - {name: main, image: registry.example/exporter:1, ports: [{containerPort: 9400, hostPort: 9400}], resources: {requests: {cpu: 10m}}}
"#;

/// An OnDelete DaemonSet on the general pool requesting `cpu`.
fn on_delete_agent(cpu: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: ondelete-agent, namespace: default}}
spec:
  updateStrategy: {{type: OnDelete}}
  selector: {{matchLabels: {{app: ondelete-agent}}}}
  template:
    metadata: {{labels: {{app: ondelete-agent}}}}
    spec:
      nodeSelector: {{karpenter.sh/nodepool: general}}
      containers:
      - {{name: main, image: registry.example/agent:1, resources: {{requests: {{cpu: {cpu}}}}}}}
"
    )
}

/// A namespace whose LimitRange gives containers without requests 100m of cpu.
const LIMITED: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: limited}
---
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: limited}
spec:
  limits:
  - type: Container
    defaultRequest: {cpu: 100m}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: defaulted, namespace: limited}
spec:
  selector: {matchLabels: {app: defaulted}}
  template:
    metadata: {labels: {app: defaulted}}
    spec:
      nodeSelector: {karpenter.sh/nodepool: general}
      containers:
      - {name: main, image: registry.example/agent:1}
"#;
