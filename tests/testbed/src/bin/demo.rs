//! The demo: a testbed with ~30 simulated nodes in realistic pools and a few DaemonSets with
//! realistic problems, then `kubectl ds coverage -A`. It keeps the cluster up until Ctrl-C so
//! a shell can be pointed at it. Run it through `tests/demo`, which puts `kubectl-ds` on PATH.

use std::process::{Command, ExitCode};
use std::time::Duration;

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use kubectl_ds_testbed::{FakeNode, Options, Testbed, add_node, apply_yaml};

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn nodes() -> Vec<FakeNode> {
    let mut out = Vec::new();
    for i in 1..=3 {
        out.push(
            FakeNode::new(format!("system-{i}"))
                .label("pool", "system")
                .taint("CriticalAddonsOnly", "true", "NoSchedule")
                .cpu("4")
                .memory("16Gi"),
        );
    }
    for i in 1..=18 {
        let mut n = FakeNode::new(format!("general-{i:02}"))
            .label("pool", "general")
            .label("topology.kubernetes.io/zone", ["a", "b", "c"][i % 3])
            .cpu("8")
            .memory("32Gi");
        if i % 2 == 0 {
            n = n.label("disktype", "ssd");
        }
        if i == 17 {
            n = n.unschedulable();
        }
        if i == 18 {
            n = n.unmanaged();
        }
        out.push(n);
    }
    for i in 1..=4 {
        out.push(
            FakeNode::new(format!("gpu-{i}"))
                .label("pool", "gpu")
                .taint("nvidia.com/gpu", "present", "NoSchedule")
                .extended("nvidia.com/gpu", "4"),
        );
    }
    for i in 1..=5 {
        out.push(
            FakeNode::new(format!("edge-{i}"))
                .label("pool", "edge")
                .taint("edge", "true", "NoExecute"),
        );
    }
    out
}

fn daemonset(ns: &str, name: &str, image: &str, pod_spec: &str) -> String {
    let extra: String = pod_spec.lines().map(|l| format!("      {l}\n")).collect();
    format!(
        "apiVersion: v1
kind: Namespace
metadata: {{name: {ns}}}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: {name}
        image: {image}
        resources: {{requests: {{cpu: 50m, memory: 64Mi}}}}
{extra}"
    )
}

fn daemonsets(csi_image: &str) -> String {
    [
        // Everywhere, including the dead node, where its pod never starts.
        daemonset(
            "monitoring",
            "node-exporter",
            "quay.io/prometheus/node-exporter:v1.9.1",
            "hostNetwork: true\ntolerations: [{operator: Exists}]",
        ),
        // Tolerates NoSchedule taints but not the edge pool's NoExecute one.
        daemonset(
            "logging",
            "fluent-bit",
            "cr.fluentbit.io/fluent/fluent-bit:4.0",
            "tolerations: [{operator: Exists, effect: NoSchedule}]",
        ),
        daemonset(
            "kube-system",
            "gpu-device-plugin",
            "nvcr.io/nvidia/k8s-device-plugin:v0.17.0",
            "nodeSelector: {pool: gpu}\ntolerations: [{key: nvidia.com/gpu, operator: Exists}]",
        ),
        // Its rollout to a broken image is stuck.
        daemonset(
            "kube-system",
            "csi-node",
            csi_image,
            "nodeSelector: {pool: general}",
        ),
        // Only on SSD nodes; one of them gets a maintenance taint later.
        daemonset(
            "default",
            "cache-warmer",
            "registry.example/cache-warmer:2.3",
            "nodeSelector: {disktype: ssd}",
        ),
    ]
    .join("---\n")
}

async fn settle(client: &kube::Client) -> Result<(), BoxError> {
    let api: Api<DaemonSet> = Api::all(client.clone());
    let mut last = String::new();
    let mut stable = 0;
    for _ in 0..200 {
        let list = api.list(&ListParams::default()).await?;
        let state =
            serde_json::to_string(&list.items.iter().map(|d| &d.status).collect::<Vec<_>>())?;
        stable = if state == last { stable + 1 } else { 0 };
        if stable >= 6 {
            return Ok(());
        }
        last = state;
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}

/// Waits until every node has a Ready condition (a node whose kubelet never reported gets
/// `Unknown` from the node lifecycle controller after its grace period) and neither the nodes'
/// conditions and taints nor the DaemonSets' status changed for ten seconds.
async fn nodes_settled(client: &kube::Client) -> Result<(), BoxError> {
    let nodes: Api<Node> = Api::all(client.clone());
    let daemonsets: Api<DaemonSet> = Api::all(client.clone());
    let mut last = String::new();
    let mut since = std::time::Instant::now();
    for _ in 0..600 {
        let n = nodes.list(&ListParams::default()).await?;
        let d = daemonsets.list(&ListParams::default()).await?;
        let every_ready_known = n.items.iter().all(|node| {
            let conditions = node.status.as_ref().and_then(|s| s.conditions.as_ref());
            conditions.is_some_and(|c| c.iter().any(|c| c.type_ == "Ready"))
        });
        let state = serde_json::to_string(&(
            n.items
                .iter()
                .map(|node| {
                    let spec = node.spec.as_ref().and_then(|s| s.taints.as_ref());
                    let ready = node
                        .status
                        .as_ref()
                        .and_then(|s| s.conditions.as_ref())
                        .map(|c| {
                            c.iter()
                                .map(|c| (c.type_.clone(), c.status.clone()))
                                .collect::<Vec<_>>()
                        });
                    (&node.metadata.name, spec, ready)
                })
                .collect::<Vec<_>>(),
            d.items.iter().map(|d| &d.status).collect::<Vec<_>>(),
        ))?;
        if state != last || !every_ready_known {
            last = state;
            since = std::time::Instant::now();
        } else if since.elapsed() >= Duration::from_secs(10) {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Err("the cluster did not settle within five minutes".into())
}

async fn run() -> Result<u8, BoxError> {
    eprintln!("Starting the demo cluster...");
    let tb = Testbed::start(Options::default()).await?;
    let client = tb.client().await?;
    for n in nodes() {
        add_node(&client, &n).await?;
    }
    apply_yaml(&client, &daemonsets("registry.example/csi-node:1.4")).await?;
    settle(&client).await?;
    // Realistic trouble: a bad image rolled out, and a node put under maintenance.
    apply_yaml(
        &client,
        &daemonsets("registry.example/bad-image/csi-node:1.5"),
    )
    .await?;
    let taint = serde_json::json!({"spec": {"taints": [{"key": "maintenance", "value": "true", "effect": "NoSchedule"}]}});
    Api::<Node>::all(client.clone())
        .patch("general-04", &PatchParams::default(), &Patch::Merge(&taint))
        .await?;
    settle(&client).await?;

    println!("$ kubectl ds coverage -A");
    let coverage = || {
        Command::new("kubectl-ds")
            .args(["coverage", "-A"])
            .env("KUBECONFIG", tb.kubeconfig())
            .status()
    };
    coverage()?;
    eprintln!(
        "\nWaiting for the cluster to settle: the node lifecycle controller marks the dead node within a minute, and the numbers change until then..."
    );
    let started = std::time::Instant::now();
    nodes_settled(&client).await?;
    println!(
        "\nThe cluster has settled after {} s; from now on the numbers stay:\n\n$ kubectl ds coverage -A",
        started.elapsed().as_secs()
    );
    let status = coverage()?;
    println!(
        "\nThe demo cluster keeps running until Ctrl-C. In another shell:\n\n  export KUBECONFIG={}\n  kubectl ds coverage -n kube-system csi-node\n  kubectl ds explain node general-18 -A\n  kubectl ds rollout status -n kube-system csi-node\n  kubectl ds rollout history -n kube-system csi-node\n  kubectl get nodes\n",
        tb.kubeconfig().display()
    );
    if std::env::var_os("KUBECTL_DS_DEMO_EXIT").is_none() {
        tokio::signal::ctrl_c().await?;
    }
    Ok(status.code().unwrap_or(1) as u8)
}

fn main() -> ExitCode {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("demo: {e}");
            return ExitCode::from(3);
        }
    };
    match rt.block_on(run()) {
        Ok(code) => ExitCode::from(code),
        Err(e) => {
            eprintln!("demo: {e}");
            ExitCode::from(3)
        }
    }
}
