//! The pod the DaemonSet controller sends to the API server for one node.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{
    Affinity, NodeAffinity, NodeSelector, NodeSelectorRequirement, NodeSelectorTerm, Pod,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference};

use crate::logic::apimachinery::compat;
use crate::logic::daemon::{pods, taints};

/// The pod `syncNodes` creates for `node`: the template through `util.CreatePodTemplate`
/// (the controller's tolerations, the revision labels), pinned with
/// `util.ReplaceDaemonSetPodNodeNameNodeAffinity` (the template's required node-affinity terms
/// are replaced by one `metadata.name In [node]` term), named by `GetPodFromTemplate`
/// (generateName `<ds>-`) and owned by the DaemonSet. `spec.nodeName` stays empty: the
/// scheduler binds it. `hash` is the current revision's `controller-revision-hash`, if known.
pub fn daemon_pod(ds: &DaemonSet, node: &str, hash: Option<&str>) -> Option<Pod> {
    let template = &compat::daemonset_spec(ds)?.template;
    let mut spec = template.spec.clone()?;
    spec.tolerations = Some(taints::daemon_pod_tolerations(&spec));
    spec.affinity = Some(pin_to_node(spec.affinity.take(), node));
    let meta = template.metadata.clone().unwrap_or_default();
    let mut labels = meta.labels.unwrap_or_default();
    let generation = ds
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(pods::TEMPLATE_GENERATION_ANNOTATION));
    if let Some(g) = generation {
        labels.insert(pods::TEMPLATE_GENERATION_LABEL.into(), g.clone());
    }
    if let Some(h) = hash.filter(|h| !h.is_empty()) {
        labels.insert(pods::REVISION_HASH_LABEL.into(), h.into());
    }
    let name = ds.metadata.name.clone().unwrap_or_default();
    let owner = ds.metadata.uid.clone().map(|uid| OwnerReference {
        api_version: "apps/v1".into(),
        kind: "DaemonSet".into(),
        name: name.clone(),
        uid,
        controller: Some(true),
        block_owner_deletion: Some(true),
    });
    Some(Pod {
        metadata: ObjectMeta {
            generate_name: Some(format!("{name}-")),
            namespace: ds.metadata.namespace.clone(),
            labels: Some(labels),
            annotations: meta.annotations,
            finalizers: meta.finalizers,
            owner_references: owner.map(|o| vec![o]),
            ..Default::default()
        },
        spec: Some(spec),
        status: None,
    })
}

/// `util.ReplaceDaemonSetPodNodeNameNodeAffinity`.
fn pin_to_node(affinity: Option<Affinity>, node: &str) -> Affinity {
    let term = NodeSelectorTerm {
        match_fields: Some(vec![NodeSelectorRequirement {
            key: "metadata.name".into(),
            operator: "In".into(),
            values: Some(vec![node.to_string()]),
        }]),
        match_expressions: None,
    };
    let mut affinity = affinity.unwrap_or_default();
    let node_affinity = affinity
        .node_affinity
        .get_or_insert_with(NodeAffinity::default);
    node_affinity.required_during_scheduling_ignored_during_execution = Some(NodeSelector {
        node_selector_terms: vec![term],
    });
    affinity
}
