//! The kwok Stages the testbed runs with (the YAML files in `tests/testbed/stages/`).

use serde::Deserialize as _;
use serde_yaml::Value;

use crate::Error;

/// Every stage file, in the order they are handed to kwok.
pub const STAGES: &[(&str, &str)] = &[
    (
        "node-initialize",
        include_str!("../stages/node-initialize.yaml"),
    ),
    (
        "node-heartbeat-with-lease",
        include_str!("../stages/node-heartbeat-with-lease.yaml"),
    ),
    ("pod-ready", include_str!("../stages/pod-ready.yaml")),
    ("pod-complete", include_str!("../stages/pod-complete.yaml")),
    ("pod-delete", include_str!("../stages/pod-delete.yaml")),
    (
        "pod-image-pull-error",
        include_str!("../stages/pod-image-pull-error.yaml"),
    ),
    (
        "pod-image-pull-backoff",
        include_str!("../stages/pod-image-pull-backoff.yaml"),
    ),
    (
        "pod-crashloop",
        include_str!("../stages/pod-crashloop.yaml"),
    ),
    (
        "pod-not-ready",
        include_str!("../stages/pod-not-ready.yaml"),
    ),
];

/// The stages whose first transition waits for `Options::pod_ready_delay`.
const READY_DELAY_STAGES: &[&str] = &[
    "pod-ready",
    "pod-image-pull-error",
    "pod-crashloop",
    "pod-not-ready",
];

/// kwok's `--config` file: every stage, with the ready delay filled in, then `extra` (more
/// Stage documents of the caller's), and kwok's own options when `parallelism` raises its
/// pod workers. A configuration document replaces kwok's defaults rather than amending them,
/// so it restates the others (a parallelism of 0 stops kwok).
pub(crate) fn kwok_config(
    ready_delay_ms: u64,
    extra: &[String],
    parallelism: Option<u32>,
) -> Result<String, Error> {
    let mut docs = Vec::new();
    if let Some(n) = parallelism {
        docs.push(format!(
            "apiVersion: config.kwok.x-k8s.io/v1alpha1\nkind: KwokConfiguration\noptions:\n  podPlayStageParallelism: {n}\n  podsOnNodeSyncParallelism: {n}\n  nodePlayStageParallelism: 4\n  nodeLeaseParallelism: 4\n  enablePodsOnNodeSyncListPager: true\n  enableDebuggingHandlers: true\n"
        ));
    }
    for (name, text) in STAGES {
        let mut doc: Value = serde_yaml::from_str(text)?;
        if READY_DELAY_STAGES.contains(name) {
            let delay = doc
                .get_mut("spec")
                .and_then(|s| s.get_mut("delay"))
                .and_then(Value::as_mapping_mut)
                .ok_or_else(|| Error::Other(format!("stage {name} has no spec.delay")))?;
            delay.insert(
                Value::from("durationMilliseconds"),
                Value::from(ready_delay_ms),
            );
        }
        docs.push(serde_yaml::to_string(&doc)?);
    }
    for text in extra {
        for doc in serde_yaml::Deserializer::from_str(text) {
            let doc = Value::deserialize(doc)?;
            if !doc.is_null() {
                docs.push(serde_yaml::to_string(&doc)?);
            }
        }
    }
    Ok(docs.join("---\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_stage_parses_and_the_ready_delay_is_filled_in() {
        let extra = "apiVersion: kwok.x-k8s.io/v1alpha1\nkind: Stage\nmetadata: {name: mine}\nspec: {resourceRef: {apiGroup: v1, kind: Pod}}\n".to_string();
        let config = kwok_config(1500, &[extra], None).unwrap();
        let docs: Vec<Value> = serde_yaml::Deserializer::from_str(&config)
            .map(|d| Value::deserialize(d).unwrap())
            .collect();
        assert_eq!(docs.len(), STAGES.len() + 1);
        for doc in &docs {
            assert_eq!(doc["kind"], "Stage");
        }
        for doc in &docs[..STAGES.len()] {
            let name = doc["metadata"]["name"].as_str().unwrap();
            let delay = &doc["spec"]["delay"]["durationMilliseconds"];
            if READY_DELAY_STAGES.contains(&name) {
                assert_eq!(delay.as_u64(), Some(1500), "{name}");
            }
        }
        assert_eq!(docs[STAGES.len()]["metadata"]["name"], "mine");
    }

    #[test]
    fn parallelism_comes_first_as_kwoks_own_configuration() {
        let config = kwok_config(0, &[], Some(32)).unwrap();
        let first: Value = serde_yaml::Deserializer::from_str(&config)
            .map(|d| Value::deserialize(d).unwrap())
            .next()
            .unwrap();
        assert_eq!(first["kind"], "KwokConfiguration");
        assert_eq!(first["options"]["podPlayStageParallelism"], 32);
        assert_eq!(first["options"]["podsOnNodeSyncParallelism"], 32);
    }

    #[test]
    fn healthy_stages_skip_failure_images() {
        for name in ["pod-ready", "pod-complete"] {
            let text = STAGES.iter().find(|s| s.0 == name).unwrap().1;
            assert!(text.contains("bad-image|crashloop|not-ready"), "{name}");
        }
    }
}
