//! Small builders for the unit tests of the pure core.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Node, Pod};

pub fn ds(spec_yaml: &str) -> DaemonSet {
    let text = format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: agent, namespace: default, uid: ds-uid}}\nspec:\n  selector: {{matchLabels: {{app: agent}}}}\n  template:\n    metadata: {{labels: {{app: agent}}}}\n    spec:\n      containers: [{{name: c, image: agent:1}}]\n{}",
        indent(spec_yaml, 6)
    );
    crate::yaml::from_str(&text).expect("fixture DaemonSet")
}

pub fn node(name: &str, labels: &[(&str, &str)], taints: &[(&str, &str, &str)]) -> Node {
    let mut n: Node = crate::yaml::from_str(&format!("metadata: {{name: {name}}}")).expect("node");
    n.metadata.labels = Some(
        labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    );
    let taints = taints
        .iter()
        .map(|(k, v, e)| k8s_openapi::api::core::v1::Taint {
            key: k.to_string(),
            value: (!v.is_empty()).then(|| v.to_string()),
            effect: e.to_string(),
            ..Default::default()
        })
        .collect();
    n.spec = Some(k8s_openapi::api::core::v1::NodeSpec {
        taints: Some(taints),
        ..Default::default()
    });
    n
}

pub fn pod(yaml: &str) -> Pod {
    crate::yaml::from_str(yaml).expect("fixture Pod")
}

fn indent(text: &str, by: usize) -> String {
    let pad = " ".repeat(by);
    text.lines()
        .map(|l| format!("{pad}{l}\n"))
        .collect::<String>()
}

/// The metadata of a pod of the fixture DaemonSet (`agent`, uid `ds-uid`) on revision `hash`,
/// as the YAML a test's pod document starts with.
pub fn daemon_pod_metadata(name: &str, hash: &str) -> String {
    format!(
        "metadata:
  name: {name}
  namespace: default
  creationTimestamp: '2026-01-01T00:00:00Z'
  labels: {{app: agent, controller-revision-hash: {hash}}}
  ownerReferences: [{{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: ds-uid, controller: true}}]
"
    )
}
