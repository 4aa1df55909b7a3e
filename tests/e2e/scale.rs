//! The number of API requests `coverage -A` and `explain node` make does not grow with the
//! number of nodes: counted in the API server's audit log at 5 and at 25 nodes.

use std::time::Duration;

use crate::common::{json, requests_sent};
use futures::future::try_join_all;
use kubectl_ds_testbed::{FakeNode, Options, Testbed, add_node, apply_yaml};

const DAEMONSETS: &str = r#"
apiVersion: v1
kind: Namespace
metadata: {name: monitoring}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: default}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: main, image: registry.example/agent:1}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: exporter, namespace: monitoring}
spec:
  selector: {matchLabels: {app: exporter}}
  template:
    metadata: {labels: {app: exporter}}
    spec:
      nodeSelector: {pool: general}
      containers: [{name: main, image: registry.example/exporter:1}]
---
apiVersion: v1
kind: Pod
metadata: {name: ordinary, namespace: default}
spec:
  containers: [{name: main, image: registry.example/app:1}]
"#;

async fn add_nodes(client: &kube::Client, from: usize, to: usize) {
    try_join_all((from..to).map(|i| async move {
        let node = FakeNode::new(format!("node-{i}")).label("pool", "general");
        add_node(client, &node).await
    }))
    .await
    .expect("nodes");
}

/// Waits until both DaemonSets have a Ready pod on each of the `nodes` nodes.
async fn wait_covered(kubeconfig: &std::path::Path, nodes: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let report = json(kubeconfig, &["coverage", "-A", "-o", "json"]);
        let items = report["items"].as_array().cloned().unwrap_or_default();
        let ready: Vec<u64> = items
            .iter()
            .map(|i| i["summary"]["covered"].as_u64().unwrap_or(0))
            .collect();
        if items.len() == 2 && ready.iter().all(|&r| r as usize == nodes) {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "DaemonSets did not cover {nodes} nodes: {report}"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn request_count_does_not_grow_with_nodes() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    add_nodes(&client, 1, 6).await;
    apply_yaml(&client, DAEMONSETS).await.expect("daemonsets");
    wait_covered(tb.kubeconfig(), 5).await;

    let coverage = ["coverage", "-A", "-o", "json"];
    let explain = ["explain", "node", "node-1", "-A", "-o", "json"];
    let small = (
        requests_sent(&tb, "coverage-5", &coverage).await,
        requests_sent(&tb, "explain-5", &explain).await,
    );

    add_nodes(&client, 6, 26).await;
    wait_covered(tb.kubeconfig(), 25).await;
    let large = (
        requests_sent(&tb, "coverage-25", &coverage).await,
        requests_sent(&tb, "explain-25", &explain).await,
    );

    for (what, at5, at25) in [
        ("coverage -A", &small.0, &large.0),
        ("explain node", &small.1, &large.1),
    ] {
        let (n5, n25) = (at5.values().sum::<usize>(), at25.values().sum::<usize>());
        assert!(n5 > 0, "{what}: no requests seen in the audit log");
        assert_eq!(
            at5, at25,
            "{what}: {n5} requests at 5 nodes, {n25} at 25 nodes"
        );
        for key in at25.keys() {
            assert!(
                !key.contains("/nodes/") || what == "explain node",
                "{what} reads single nodes: {key}"
            );
        }
    }
    // explain node reads its node by name, and that one only.
    let gets: Vec<&String> = large.1.keys().filter(|k| k.contains("/nodes/")).collect();
    assert_eq!(gets, ["get /api/v1/nodes/node-1"], "{:?}", large.1);
}
