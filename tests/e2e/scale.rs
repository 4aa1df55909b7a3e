//! The number of API requests `coverage -A` and `explain node` make does not grow with the
//! number of nodes: counted in the API server's audit log at 5 and at 25 nodes. And `explain
//! ds` reads every pod only when some verdict checks fit.

use std::time::Duration;

use crate::common::{eventually, json, json_report, requests_sent};
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
    eventually(Duration::from_secs(60), || async move {
        let report = json(kubeconfig, &["coverage", "-A", "-o", "json"]);
        let items = report["items"].as_array().cloned().unwrap_or_default();
        let covered = items
            .iter()
            .all(|i| i["summary"]["covered"].as_u64() == Some(nodes as u64));
        match items.len() == 2 && covered {
            true => Ok(()),
            false => Err(format!("DaemonSets did not cover {nodes} nodes: {report}")),
        }
    })
    .await;
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

/// Waits until a pod of DaemonSet `agent` waits unscheduled.
async fn wait_pending_agent(client: &kube::Client) {
    let pods: kube::Api<k8s_openapi::api::core::v1::Pod> =
        kube::Api::namespaced(client.clone(), "default");
    let lp = kube::api::ListParams::default().fields("spec.nodeName=");
    eventually(Duration::from_secs(60), || async {
        let list = pods.list(&lp).await.map_err(|e| e.to_string())?;
        let names: Vec<String> = list
            .items
            .into_iter()
            .filter_map(|p| p.metadata.name)
            .collect();
        match names.iter().any(|n| n.starts_with("agent-")) {
            true => Ok(()),
            false => Err(format!("no pending agent pod: {names:?}")),
        }
    })
    .await;
}

/// With every daemon pod bound, `explain ds` lists only its namespace's pods (what `coverage
/// NAME` reads); once one waits for room, it reads them all, and the verdict there says why.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn explain_ds_reads_other_pods_only_to_check_fit() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    add_nodes(&client, 1, 4).await;
    apply_yaml(&client, DAEMONSETS).await.expect("daemonsets");
    wait_covered(tb.kubeconfig(), 3).await;
    let args = ["explain", "ds", "agent", "-n", "default", "-o", "json"];
    let bound = requests_sent(&tb, "explain-ds-bound", &args).await;
    assert!(
        bound.contains_key("list /api/v1/namespaces/default/pods"),
        "{bound:?}"
    );
    assert!(!bound.contains_key("list /api/v1/pods"), "{bound:?}");

    let full = FakeNode::new("full").label("pool", "general").pods(0);
    add_node(&client, &full).await.expect("node");
    wait_pending_agent(&client).await;
    let pending = requests_sent(&tb, "explain-ds-pending", &args).await;
    assert!(pending.contains_key("list /api/v1/pods"), "{pending:?}");
    let report = json_report(tb.kubeconfig(), &args);
    let verdicts = report["verdicts"].as_array().cloned().unwrap_or_default();
    let on_full = verdicts
        .iter()
        .find(|v| v["node"] == "full")
        .unwrap_or_else(|| panic!("no verdict for node full: {report}"));
    assert_eq!(on_full["code"], "InsufficientResources", "{on_full}");
}
