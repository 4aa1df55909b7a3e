//! Pods decoded lean: a pod list from a big cluster is mostly fields no command decides over
//! (managedFields, volumes, env, security contexts). Decoding only the fields the coverage and
//! scheduling logic reads is several times faster than decoding whole objects and holds far
//! less memory. The result is an ordinary [`Pod`] with only those fields set, so the logic does
//! not know the difference.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerPort, ContainerStatus, Pod, PodCondition, PodSpec, PodStatus,
    ResourceRequirements, Toleration,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use serde::Deserialize;

/// A page of a pod list.
#[derive(Deserialize)]
pub struct PodList {
    #[serde(default)]
    pub metadata: ListMeta,
    #[serde(default)]
    pub items: Vec<LeanPod>,
}

#[derive(Default, Deserialize)]
pub struct ListMeta {
    #[serde(rename = "continue")]
    pub continue_: Option<String>,
}

#[derive(Deserialize)]
pub struct LeanPod {
    #[serde(default)]
    metadata: Meta,
    spec: Option<Spec>,
    status: Option<Status>,
}

#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Meta {
    name: Option<String>,
    namespace: Option<String>,
    uid: Option<String>,
    labels: Option<BTreeMap<String, String>>,
    owner_references: Option<Vec<OwnerReference>>,
    creation_timestamp: Option<Time>,
    deletion_timestamp: Option<Time>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec {
    node_name: Option<String>,
    affinity: Option<Affinity>,
    #[serde(default)]
    containers: Vec<LeanContainer>,
    init_containers: Option<Vec<LeanContainer>>,
    overhead: Option<BTreeMap<String, Quantity>>,
    resources: Option<ResourceRequirements>,
    priority: Option<i32>,
    priority_class_name: Option<String>,
    host_network: Option<bool>,
    node_selector: Option<BTreeMap<String, String>>,
    tolerations: Option<Vec<Toleration>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeanContainer {
    #[serde(default)]
    name: String,
    image: Option<String>,
    resources: Option<ResourceRequirements>,
    ports: Option<Vec<ContainerPort>>,
    restart_policy: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    phase: Option<String>,
    reason: Option<String>,
    message: Option<String>,
    nominated_node_name: Option<String>,
    start_time: Option<Time>,
    conditions: Option<Vec<PodCondition>>,
    container_statuses: Option<Vec<ContainerStatus>>,
    init_container_statuses: Option<Vec<ContainerStatus>>,
}

impl From<LeanContainer> for Container {
    fn from(c: LeanContainer) -> Self {
        Container {
            name: c.name,
            image: c.image,
            resources: c.resources,
            ports: c.ports,
            restart_policy: c.restart_policy,
            ..Default::default()
        }
    }
}

impl From<LeanPod> for Pod {
    fn from(p: LeanPod) -> Self {
        let m = p.metadata;
        Pod {
            metadata: ObjectMeta {
                name: m.name,
                namespace: m.namespace,
                uid: m.uid,
                labels: m.labels,
                owner_references: m.owner_references,
                creation_timestamp: m.creation_timestamp,
                deletion_timestamp: m.deletion_timestamp,
                ..Default::default()
            },
            spec: p.spec.map(|s| PodSpec {
                node_name: s.node_name,
                affinity: s.affinity,
                containers: s.containers.into_iter().map(Container::from).collect(),
                init_containers: s
                    .init_containers
                    .map(|cs| cs.into_iter().map(Container::from).collect()),
                overhead: s.overhead,
                resources: s.resources,
                priority: s.priority,
                priority_class_name: s.priority_class_name,
                host_network: s.host_network,
                node_selector: s.node_selector,
                tolerations: s.tolerations,
                ..Default::default()
            }),
            status: p.status.map(|s| PodStatus {
                phase: s.phase,
                reason: s.reason,
                message: s.message,
                nominated_node_name: s.nominated_node_name,
                start_time: s.start_time,
                conditions: s.conditions,
                container_statuses: s.container_statuses,
                init_container_statuses: s.init_container_statuses,
                ..Default::default()
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every field the lean type keeps comes through as a whole-object decode has it.
    #[test]
    fn lean_pod_keeps_what_the_logic_reads() {
        let json = serde_json::json!({
            "kind": "PodList",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": "7", "continue": "abc"},
            "items": [{
                "metadata": {
                    "name": "agent-x", "namespace": "default", "uid": "u1",
                    "labels": {"app": "agent", "controller-revision-hash": "h1"},
                    "annotations": {"dropped": "yes"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "d1", "controller": true}],
                    "creationTimestamp": "2026-01-01T00:00:00Z",
                    "deletionTimestamp": "2026-01-01T00:01:00Z",
                    "managedFields": [{"manager": "kube-controller-manager", "operation": "Update", "fieldsV1": {"f:metadata": {}}}]
                },
                "spec": {
                    "nodeName": "n1",
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["n1"]}]}]}}},
                    "containers": [{"name": "main", "image": "img:1", "env": [{"name": "A", "value": "b"}],
                        "resources": {"requests": {"cpu": "10m"}}, "ports": [{"containerPort": 80, "hostPort": 80}]}],
                    "initContainers": [{"name": "side", "restartPolicy": "Always", "resources": {"requests": {"memory": "1Mi"}}}],
                    "overhead": {"cpu": "1m"},
                    "priority": 7, "priorityClassName": "high", "hostNetwork": true,
                    "volumes": [{"name": "v", "emptyDir": {}}],
                    "tolerations": [{"operator": "Exists"}]
                },
                "status": {
                    "phase": "Running",
                    "conditions": [{"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:05Z"}],
                    "containerStatuses": [{"name": "main", "image": "img:1", "imageID": "", "ready": true, "restartCount": 2,
                        "state": {"waiting": {"reason": "CrashLoopBackOff"}}}],
                    "podIP": "10.0.0.1"
                }
            }]
        });
        let list: PodList = serde_json::from_value(json.clone()).unwrap();
        assert_eq!(list.metadata.continue_.as_deref(), Some("abc"));
        let lean: Vec<Pod> = list.items.into_iter().map(Pod::from).collect();
        let mut whole: Pod = serde_json::from_value(json["items"][0].clone()).unwrap();
        // What the lean decode leaves out.
        whole.metadata.annotations = None;
        whole.metadata.managed_fields = None;
        let spec = whole.spec.as_mut().unwrap();
        spec.volumes = None;
        spec.containers[0].env = None;
        whole.status.as_mut().unwrap().pod_ip = None;
        assert_eq!(lean, vec![whole]);
    }
}
