//! Pods decoded lean: a pod list from a big cluster is mostly fields no command decides over
//! (managedFields, volumes, env, security contexts). Decoding only the fields the coverage and
//! scheduling logic reads is several times faster than decoding whole objects and holds far
//! less memory. The result is an ordinary [`Pod`] with only those fields set, so the logic does
//! not know the difference.
//!
//! The watch stores of `--watch` hold the same shapes: [`Lean::strip`] cuts an object the
//! watcher decoded whole down to what [`decode`] would have kept, so a one-shot command and a
//! watch decide over the same fields.

use std::collections::BTreeMap;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{
    Affinity, Container, ContainerPort, ContainerStatus, EphemeralVolumeSource, Node,
    PersistentVolumeClaimVolumeSource, Pod, PodCondition, PodSpec, PodStatus, ResourceRequirements,
    Toleration, Volume,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{ObjectMeta, OwnerReference, Time};
use serde::Deserialize;
use serde::de::IgnoredAny;

/// A pod decoded lean: [`Keep::Lean`] with the default spec and status, [`FitPod`] with
/// theirs.
#[derive(Deserialize)]
struct LeanPod<S = Spec, T = Status> {
    #[serde(default)]
    metadata: Meta,
    spec: Option<S>,
    status: Option<T>,
}

/// A field a lean type either keeps (its own value) or has the parser skip
/// ([`IgnoredAny`], which allocates nothing): one set of types serves [`Keep::Lean`] and
/// [`Keep::Fit`].
trait Kept<T> {
    fn kept(self) -> Option<T>;
}

impl<T> Kept<T> for IgnoredAny {
    fn kept(self) -> Option<T> {
        None
    }
}

macro_rules! kept_as_is {
    ($($t:ty),*) => {
        $(impl Kept<$t> for $t {
            fn kept(self) -> Option<$t> {
                Some(self)
            }
        })*
    };
}

kept_as_is!(String, BTreeMap<String, String>, Vec<Toleration>);

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

/// The spec of a lean pod: `C` is its container type; `Sel` and `Tol` keep the node selector
/// and the tolerations, or skip them.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Spec<C = LeanContainer, Sel = BTreeMap<String, String>, Tol = Vec<Toleration>> {
    node_name: Option<String>,
    affinity: Option<Affinity>,
    // `default` alone would ask `C: Default` of the derive.
    #[serde(default = "Vec::new")]
    containers: Vec<C>,
    init_containers: Option<Vec<C>>,
    overhead: Option<BTreeMap<String, Quantity>>,
    resources: Option<ResourceRequirements>,
    priority: Option<i32>,
    priority_class_name: Option<String>,
    preemption_policy: Option<String>,
    runtime_class_name: Option<String>,
    host_network: Option<bool>,
    node_selector: Option<Sel>,
    tolerations: Option<Tol>,
    volumes: Option<Vec<LeanVolume>>,
}

/// A volume, kept only when it is a claim: the volume filters count the claims of the pods
/// already on a node (NodeVolumeLimits, VolumeRestrictions). The ephemeral volume's template
/// is not needed, only that the volume is one.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeanVolume {
    name: String,
    persistent_volume_claim: Option<PersistentVolumeClaimVolumeSource>,
    ephemeral: Option<IgnoredAny>,
}

/// The claim volumes, `None` when there are none (most pods).
fn claim_volumes(volumes: Option<Vec<LeanVolume>>) -> Option<Vec<Volume>> {
    let kept: Vec<Volume> = volumes?
        .into_iter()
        .filter(|v| v.persistent_volume_claim.is_some() || v.ephemeral.is_some())
        .map(|v| Volume {
            name: v.name,
            ephemeral: v.ephemeral.map(|_| EphemeralVolumeSource::default()),
            persistent_volume_claim: v.persistent_volume_claim,
            ..Default::default()
        })
        .collect();
    (!kept.is_empty()).then_some(kept)
}

/// A container of a lean pod; `I` keeps its image or skips it.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct LeanContainer<I = String> {
    #[serde(default)]
    name: String,
    image: Option<I>,
    resources: Option<ResourceRequirements>,
    ports: Option<Vec<ContainerPort>>,
    restart_policy: Option<String>,
}

/// The status of a lean pod: `R` keeps the reason and message or skips them, `CS` is the
/// container status type.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status<R = String, CS = ContainerStatus> {
    phase: Option<String>,
    reason: Option<R>,
    message: Option<R>,
    nominated_node_name: Option<String>,
    start_time: Option<Time>,
    conditions: Option<Vec<PodCondition>>,
    container_statuses: Option<Vec<CS>>,
    init_container_statuses: Option<Vec<CS>>,
}

impl<I: Kept<String>> From<LeanContainer<I>> for Container {
    fn from(c: LeanContainer<I>) -> Self {
        Container {
            name: c.name,
            image: c.image.and_then(Kept::kept),
            resources: c.resources,
            ports: c.ports,
            restart_policy: c.restart_policy,
            ..Default::default()
        }
    }
}

/// How much of each pod a command keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Keep {
    /// What coverage decides over: name, owner, labels, timestamps, target node (the node
    /// affinity only while the pod is unbound), phase and the Ready condition. A quarter of
    /// the memory of [`Keep::Lean`], which matters with tens of thousands of daemon pods.
    Coverage,
    /// Also requests, ports, priority, tolerations, every condition and the container
    /// statuses: what the scheduling checks and rollout's reasons read.
    Lean,
    /// What the scheduler's checks read of the pods already on a node, for preview and
    /// `explain ds`: [`Keep::Lean`] without tolerations, node selectors, images, reasons,
    /// the node affinity of bound pods, conditions other than Ready and PodResizePending,
    /// and container statuses that carry no resources (only those change a pod's requests,
    /// `scheduled_requests`). Daemon pods are most of a big cluster's pods and carry several
    /// tolerations and conditions each.
    Fit,
}

/// The pod spec fields the lean spec keeps, named once for both directions (decoding into a
/// whole `PodSpec`, and stripping a whole one): `$volumes` gives the volumes, and `..$rest`
/// fills what the lean spec does not keep.
macro_rules! kept_spec_fields {
    ($ty:ident, $s:ident, $volumes:expr $(, ..$rest:expr)?) => {
        $ty {
            node_name: $s.node_name,
            affinity: $s.affinity,
            containers: $s.containers.into_iter().map(Into::into).collect(),
            init_containers: $s
                .init_containers
                .map(|cs| cs.into_iter().map(Into::into).collect()),
            overhead: $s.overhead,
            resources: $s.resources,
            priority: $s.priority,
            priority_class_name: $s.priority_class_name,
            preemption_policy: $s.preemption_policy,
            runtime_class_name: $s.runtime_class_name,
            host_network: $s.host_network,
            node_selector: $s.node_selector.and_then(Kept::kept),
            tolerations: $s.tolerations.and_then(Kept::kept),
            volumes: $volumes,
            $(..$rest)?
        }
    };
}

impl<C, Sel, Tol, R, CS> From<LeanPod<Spec<C, Sel, Tol>, Status<R, CS>>> for Pod
where
    C: Into<Container>,
    Sel: Kept<BTreeMap<String, String>>,
    Tol: Kept<Vec<Toleration>>,
    R: Kept<String>,
    CS: Into<ContainerStatus>,
{
    fn from(p: LeanPod<Spec<C, Sel, Tol>, Status<R, CS>>) -> Self {
        let statuses = |l: Option<Vec<CS>>| l.map(|l| l.into_iter().map(Into::into).collect());
        Pod {
            metadata: p.metadata.into(),
            spec: p.spec.map(|s| {
                kept_spec_fields!(PodSpec, s, claim_volumes(s.volumes), ..Default::default())
            }),
            status: p.status.map(|s| PodStatus {
                phase: s.phase,
                reason: s.reason.and_then(Kept::kept),
                message: s.message.and_then(Kept::kept),
                nominated_node_name: s.nominated_node_name,
                start_time: s.start_time,
                conditions: s.conditions,
                container_statuses: statuses(s.container_statuses),
                init_container_statuses: statuses(s.init_container_statuses),
                ..Default::default()
            }),
        }
    }
}

/// Decodes one pod of a list, keeping what `keep` says.
pub fn decode(bytes: &[u8], keep: Keep) -> serde_json::Result<Pod> {
    match keep {
        Keep::Lean => serde_json::from_slice::<LeanPod>(bytes).map(Pod::from),
        Keep::Fit => serde_json::from_slice::<FitPod>(bytes).map(|p| fit(Pod::from(p))),
        Keep::Coverage => serde_json::from_slice::<CoveragePod>(bytes).map(Pod::from),
    }
}

/// Decodes one pod for `explain ds NAME`: [`Keep::Lean`] for the pods of DaemonSets named
/// `daemonset` (their statuses explain their nodes), [`Keep::Fit`] for the others.
pub fn decode_for_daemonset(bytes: &[u8], daemonset: &str) -> serde_json::Result<Pod> {
    let pod = Pod::from(serde_json::from_slice::<LeanPod>(bytes)?);
    let own = pod
        .metadata
        .owner_references
        .iter()
        .flatten()
        .any(|o| o.controller == Some(true) && o.kind == "DaemonSet" && o.name == daemonset);
    Ok(if own { pod } else { fit(pod) })
}

/// Keeps the conditions of `types` only. A pod has about five conditions and keeps one or
/// two: without the shrink the room for the others stays allocated, for every one of tens of
/// thousands of pods.
fn keep_conditions(conditions: &mut Vec<PodCondition>, types: &[&str]) {
    conditions.retain(|c| types.contains(&c.type_.as_str()));
    conditions.shrink_to_fit();
}

/// A [`Keep::Lean`] pod cut down to [`Keep::Fit`].
fn fit(mut pod: Pod) -> Pod {
    if let Some(spec) = pod.spec.as_mut() {
        spec.tolerations = None;
        spec.node_selector = None;
        for c in spec
            .containers
            .iter_mut()
            .chain(spec.init_containers.iter_mut().flatten())
        {
            c.image = None;
        }
        let bound = spec.node_name.as_deref().is_some_and(|n| !n.is_empty());
        if bound && let Some(a) = spec.affinity.as_mut() {
            a.node_affinity = None;
            if a.pod_affinity.is_none() && a.pod_anti_affinity.is_none() {
                spec.affinity = None;
            }
        }
    }
    if let Some(status) = pod.status.as_mut() {
        status.reason = None;
        status.message = None;
        if let Some(cs) = status.conditions.as_mut() {
            keep_conditions(cs, &["Ready", "PodResizePending"]);
        }
        for list in [
            &mut status.container_statuses,
            &mut status.init_container_statuses,
        ] {
            if let Some(l) = list.as_mut() {
                l.retain(|cs| cs.resources.is_some() || cs.allocated_resources.is_some());
                for cs in l.iter_mut() {
                    *cs = k8s_openapi::api::core::v1::ContainerStatus {
                        name: std::mem::take(&mut cs.name),
                        resources: cs.resources.take(),
                        allocated_resources: cs.allocated_resources.take(),
                        ..Default::default()
                    };
                }
            }
            if list.as_ref().is_some_and(Vec::is_empty) {
                *list = None;
            }
        }
    }
    pod
}

/// A pod decoded whole, cut down to what [`decode`] keeps with `keep`: the lean types are
/// filled from it and turned back into a pod, so both paths keep exactly the same fields.
pub fn strip(pod: Pod, keep: Keep) -> Pod {
    let metadata = Meta::from(pod.metadata);
    match keep {
        Keep::Fit => fit(strip(
            Pod {
                metadata: metadata.into(),
                ..pod
            },
            Keep::Lean,
        )),
        Keep::Lean => Pod::from(LeanPod {
            metadata,
            spec: pod.spec.map(Spec::from),
            status: pod.status.map(Status::from),
        }),
        Keep::Coverage => Pod::from(CoveragePod {
            metadata,
            spec: pod.spec.map(|s| CoverageSpec {
                node_name: s.node_name,
                affinity: s.affinity,
            }),
            status: pod.status.map(|s| CoverageStatus {
                phase: s.phase,
                conditions: s.conditions,
            }),
        }),
    }
}

/// What a watch store keeps of an object of its kind.
pub trait Lean {
    /// Drops, in place, every field no command reads (for pods: what `keep` leaves out).
    fn strip(&mut self, keep: Keep);
}

impl Lean for Pod {
    fn strip(&mut self, keep: Keep) {
        *self = strip(std::mem::take(self), keep);
    }
}

impl Lean for Node {
    /// managedFields and the image list are most of a node's size and no command reads them.
    fn strip(&mut self, _: Keep) {
        self.metadata.managed_fields = None;
        if let Some(status) = self.status.as_mut() {
            status.images = None;
        }
    }
}

impl Lean for DaemonSet {
    fn strip(&mut self, _: Keep) {
        self.metadata.managed_fields = None;
    }
}

impl Lean for ControllerRevision {
    fn strip(&mut self, _: Keep) {
        self.metadata.managed_fields = None;
    }
}

impl From<ObjectMeta> for Meta {
    fn from(m: ObjectMeta) -> Self {
        Meta {
            name: m.name,
            namespace: m.namespace,
            uid: m.uid,
            labels: m.labels,
            owner_references: m.owner_references,
            creation_timestamp: m.creation_timestamp,
            deletion_timestamp: m.deletion_timestamp,
        }
    }
}

impl From<PodSpec> for Spec {
    fn from(s: PodSpec) -> Self {
        kept_spec_fields!(
            Spec,
            s,
            s.volumes
                .map(|vs| vs.into_iter().map(LeanVolume::from).collect())
        )
    }
}

impl From<Volume> for LeanVolume {
    fn from(v: Volume) -> Self {
        LeanVolume {
            name: v.name,
            persistent_volume_claim: v.persistent_volume_claim,
            ephemeral: v.ephemeral.map(|_| IgnoredAny),
        }
    }
}

impl From<Container> for LeanContainer {
    fn from(c: Container) -> Self {
        LeanContainer {
            name: c.name,
            image: c.image,
            resources: c.resources,
            ports: c.ports,
            restart_policy: c.restart_policy,
        }
    }
}

impl From<PodStatus> for Status {
    fn from(s: PodStatus) -> Self {
        Status {
            phase: s.phase,
            reason: s.reason,
            message: s.message,
            nominated_node_name: s.nominated_node_name,
            start_time: s.start_time,
            conditions: s.conditions,
            container_statuses: s.container_statuses,
            init_container_statuses: s.init_container_statuses,
        }
    }
}

/// A pod as coverage reads it: fields not named here are skipped by the parser, never
/// allocated.
#[derive(Deserialize)]
struct CoveragePod {
    #[serde(default)]
    metadata: Meta,
    spec: Option<CoverageSpec>,
    status: Option<CoverageStatus>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct CoverageSpec {
    node_name: Option<String>,
    affinity: Option<Affinity>,
}

#[derive(Deserialize)]
struct CoverageStatus {
    phase: Option<String>,
    conditions: Option<Vec<PodCondition>>,
}

impl From<Meta> for ObjectMeta {
    fn from(m: Meta) -> Self {
        ObjectMeta {
            name: m.name,
            namespace: m.namespace,
            uid: m.uid,
            labels: m.labels,
            owner_references: m.owner_references,
            creation_timestamp: m.creation_timestamp,
            deletion_timestamp: m.deletion_timestamp,
            ..Default::default()
        }
    }
}

impl From<CoveragePod> for Pod {
    fn from(p: CoveragePod) -> Self {
        Pod {
            metadata: p.metadata.into(),
            spec: p.spec.map(|s| {
                let bound = s.node_name.as_deref().is_some_and(|n| !n.is_empty());
                PodSpec {
                    // Only an unbound pod's target node is read from its affinity.
                    affinity: if bound { None } else { s.affinity },
                    node_name: s.node_name,
                    ..Default::default()
                }
            }),
            status: p.status.map(|s| PodStatus {
                phase: s.phase,
                conditions: s.conditions.map(|mut cs| {
                    keep_conditions(&mut cs, &["Ready"]);
                    cs
                }),
                ..Default::default()
            }),
        }
    }
}

/// A pod as [`Keep::Fit`] keeps it, for the tens of thousands of pods preview and overhead
/// read only for their node's accounting: the tolerations, node selector, images, reasons and
/// the container statuses' state, image and ids are skipped by the parser, never allocated.
/// [`fit`] then drops what the parser cannot tell apart (bound pods' node affinity,
/// conditions other than the two kept, statuses without resources).
type FitPod = LeanPod<
    Spec<LeanContainer<IgnoredAny>, IgnoredAny, IgnoredAny>,
    Status<IgnoredAny, FitContainerStatus>,
>;

/// What `scheduled_requests` reads of a container status.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct FitContainerStatus {
    #[serde(default)]
    name: String,
    resources: Option<ResourceRequirements>,
    allocated_resources: Option<BTreeMap<String, Quantity>>,
}

impl From<FitContainerStatus> for ContainerStatus {
    fn from(c: FitContainerStatus) -> Self {
        ContainerStatus {
            name: c.name,
            resources: c.resources,
            allocated_resources: c.allocated_resources,
            ..Default::default()
        }
    }
}

#[cfg(test)]
#[path = "lean_tests.rs"]
mod equivalence;

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
                    "volumes": [{"name": "v", "emptyDir": {}}, {"name": "data", "persistentVolumeClaim": {"claimName": "data"}}],
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
        let item = serde_json::to_vec(&json["items"][0]).unwrap();
        let lean = vec![Pod::from(serde_json::from_slice::<LeanPod>(&item).unwrap())];
        let mut whole: Pod = serde_json::from_value(json["items"][0].clone()).unwrap();
        // What the lean decode leaves out.
        whole.metadata.annotations = None;
        whole.metadata.managed_fields = None;
        let spec = whole.spec.as_mut().unwrap();
        // Only claim volumes are kept.
        spec.volumes.as_mut().unwrap().remove(0);
        spec.containers[0].env = None;
        whole.status.as_mut().unwrap().pod_ip = None;
        assert_eq!(lean, vec![whole]);
    }

    /// Coverage over pods decoded with [`Keep::Coverage`] is the coverage over whole pods.
    #[test]
    fn coverage_keeps_all_that_coverage_reads() {
        use crate::logic::daemon::coverage;
        use crate::logic::snapshot::{Snapshot, shared};
        let ds: k8s_openapi::api::apps::v1::DaemonSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "agent", "namespace": "default", "uid": "d1", "generation": 2},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "minReadySeconds": 30,
                "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [{"name": "c"}]}}
            },
            "status": {"desiredNumberScheduled": 5, "currentNumberScheduled": 5, "numberReady": 2,
                "numberMisscheduled": 0, "observedGeneration": 2}
        }))
        .unwrap();
        let nodes: Vec<k8s_openapi::api::core::v1::Node> = (1..=6)
            .map(|i| {
                serde_json::from_value(serde_json::json!({"metadata": {"name": format!("n{i}")}}))
                    .unwrap()
            })
            .collect();
        let pod = |name: &str,
                   node: Option<&str>,
                   target: &str,
                   generation: &str,
                   created: &str,
                   extra: serde_json::Value| {
            let mut p = serde_json::json!({
                "metadata": {
                    "name": name, "namespace": "default", "uid": format!("u-{name}"),
                    "labels": {"app": "agent", "pod-template-generation": generation, "other": "x"},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "agent", "uid": "d1", "controller": true}],
                    "creationTimestamp": created,
                    "managedFields": [{"manager": "kube-controller-manager"}]
                },
                "spec": {
                    "containers": [{"name": "c", "image": "agent:1", "resources": {"requests": {"cpu": "10m"}}}],
                    "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [
                        {"matchFields": [{"key": "metadata.name", "operator": "In", "values": [target]}]}]}}},
                    "tolerations": [{"operator": "Exists"}]
                },
                "status": {
                    "phase": "Running",
                    "conditions": [
                        {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-01T00:00:00Z"},
                        {"type": "Ready", "status": "True", "lastTransitionTime": "2026-01-01T00:00:10Z"},
                        {"type": "ContainersReady", "status": "True"}
                    ],
                    "containerStatuses": [{"name": "c", "image": "agent:1", "imageID": "", "ready": true, "restartCount": 0}]
                }
            });
            if let Some(n) = node {
                p["spec"]["nodeName"] = serde_json::json!(n);
            }
            for (k, v) in extra.as_object().unwrap() {
                let (part, field) = k.split_once('.').unwrap();
                p[part][field] = v.clone();
            }
            p
        };
        let pods = [
            pod(
                "a1",
                Some("n1"),
                "n1",
                "2",
                "2026-01-01T00:00:00Z",
                serde_json::json!({}),
            ),
            pod(
                "a2",
                None,
                "n2",
                "2",
                "2026-01-01T00:00:00Z",
                serde_json::json!({"status.phase": "Pending", "status.conditions": []}),
            ),
            pod(
                "a3",
                Some("n3"),
                "n3",
                "2",
                "2026-01-01T00:00:00Z",
                serde_json::json!({"metadata.deletionTimestamp": "2026-01-01T00:05:00Z"}),
            ),
            pod(
                "a4",
                Some("n4"),
                "n4",
                "2",
                "2026-01-01T00:00:00Z",
                serde_json::json!({"status.conditions": [
                {"type": "ContainersReady", "status": "True"}, {"type": "Ready", "status": "False"}]}),
            ),
            pod(
                "a5-old",
                Some("n5"),
                "n5",
                "1",
                "2026-01-01T00:00:00Z",
                serde_json::json!({}),
            ),
            pod(
                "a5-new",
                Some("n5"),
                "n5",
                "2",
                "2026-01-01T00:10:00Z",
                serde_json::json!({}),
            ),
            pod(
                "a6",
                Some("n6"),
                "n6",
                "2",
                "2026-01-01T00:00:00Z",
                serde_json::json!({"status.phase": "Failed"}),
            ),
            serde_json::json!({"metadata": {"name": "web", "namespace": "default"}, "spec": {"nodeName": "n1", "containers": []}}),
        ];
        let snapshot = |keep: Option<Keep>| Snapshot {
            daemonsets: vec![ds.clone()],
            nodes: shared(nodes.clone()),
            pods: shared(
                pods.iter()
                    .map(|p| {
                        let bytes = serde_json::to_vec(p).unwrap();
                        match keep {
                            Some(k) => decode(&bytes, k).unwrap(),
                            None => serde_json::from_slice(&bytes).unwrap(),
                        }
                    })
                    .collect(),
            ),
            revisions: Vec::new(),
            create_failures: Vec::new(),
        };
        let now: k8s_openapi::jiff::Timestamp = "2026-01-01T00:00:25Z".parse().unwrap();
        let report = |keep| serde_json::to_value(coverage::compute(&snapshot(keep), now)).unwrap();
        let whole = report(None);
        assert_eq!(report(Some(Keep::Coverage)), whole);
        assert_eq!(report(Some(Keep::Lean)), whole);
        // The fixture exercises every state, so the comparison means something.
        let states: std::collections::BTreeSet<String> = whole[0]["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["state"].to_string())
            .collect();
        assert!(states.len() >= 5, "{states:?}");
    }

    /// The overhead report over pods decoded with [`Keep::Fit`] (what `overhead` reads) or
    /// [`Keep::Lean`] is the report over whole pods:
    /// requests of containers, sidecars, classic init containers, pod overhead and pod-level
    /// resources, owners, revision labels and phases all come through.
    #[test]
    fn overhead_keeps_all_that_overhead_reads() {
        use crate::logic::reports::fresh_node::AdmissionFacts;
        use crate::logic::reports::overhead::{self, Grouping, Inputs};
        let ds: k8s_openapi::api::apps::v1::DaemonSet = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "agent", "namespace": "default", "uid": "d1"},
            "spec": {
                "selector": {"matchLabels": {"app": "agent"}},
                "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {"containers": [
                    {"name": "c", "image": "agent:1", "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]}}
            }
        }))
        .unwrap();
        let node: k8s_openapi::api::core::v1::Node = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "n1", "labels": {"karpenter.sh/nodepool": "a"}},
            "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}
        }))
        .unwrap();
        let pod =
            |name: &str, owner: Option<&str>, hash: &str, spec: serde_json::Value, phase: &str| {
                let mut p = serde_json::json!({
                    "metadata": {"name": name, "namespace": "default", "uid": format!("u-{name}"),
                        "labels": {"app": "agent", "controller-revision-hash": hash},
                        "annotations": {"a": "b"},
                        "managedFields": [{"manager": "kube-controller-manager"}]},
                    "spec": spec,
                    "status": {"phase": phase, "podIP": "10.0.0.1"}
                });
                if let Some(uid) = owner {
                    p["metadata"]["ownerReferences"] = serde_json::json!([{"apiVersion": "apps/v1",
                    "kind": "DaemonSet", "name": "agent", "uid": uid, "controller": true}]);
                }
                p
            };
        let pods = [
            pod(
                "a1",
                Some("d1"),
                "h1",
                serde_json::json!({"nodeName": "n1", "containers": [
                {"name": "c", "image": "agent:1", "env": [{"name": "A", "value": "1"}],
                 "resources": {"requests": {"cpu": "200m", "memory": "64Mi"}}}]}),
                "Running",
            ),
            pod(
                "web",
                None,
                "",
                serde_json::json!({"nodeName": "n1",
                "overhead": {"cpu": "50m"},
                "resources": {"requests": {"memory": "1Gi"}},
                "volumes": [{"name": "v", "emptyDir": {}}],
                "initContainers": [
                    {"name": "side", "image": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "300m"}}},
                    {"name": "setup", "image": "s", "resources": {"requests": {"cpu": "2", "ephemeral-storage": "1Gi"}}}],
                "containers": [{"name": "c", "image": "web:1", "resources": {"requests": {"cpu": "100m"}}}]}),
                "Running",
            ),
            pod(
                "done",
                None,
                "",
                serde_json::json!({"nodeName": "n1", "containers": [
                {"name": "c", "image": "job:1", "resources": {"requests": {"cpu": "1"}}}]}),
                "Succeeded",
            ),
        ];
        let decoded = |keep: Option<Keep>| -> Vec<Pod> {
            pods.iter()
                .map(|p| {
                    let bytes = serde_json::to_vec(p).unwrap();
                    match keep {
                        Some(k) => decode(&bytes, k).unwrap(),
                        None => serde_json::from_slice(&bytes).unwrap(),
                    }
                })
                .collect()
        };
        let report = |keep: Option<Keep>| {
            let pods = decoded(keep);
            let facts = AdmissionFacts::default();
            let nodes = [node.clone()];
            let dss = [ds.clone()];
            let inputs = Inputs {
                daemonsets: &dss,
                nodes: &nodes,
                pods: &pods,
                revisions: &[],
                facts: &facts,
            };
            serde_json::to_value(overhead::compute(&inputs, &Grouping::Pools)).unwrap()
        };
        let whole = report(None);
        assert_eq!(report(Some(Keep::Lean)), whole);
        assert_eq!(report(Some(Keep::Fit)), whole);
        // The fixture exercises what is compared: other pods' requests and a differing pod.
        let cpu = &whole["groups"][0]["resources"][0];
        // web: max(100m + 300m sidecar, 2 init + 300m sidecar) + 50m overhead.
        assert_eq!(cpu["total"]["otherPods"], "2350m", "{whole}");
        assert!(whole.to_string().contains("RequestsDiffer"), "{whole}");
    }
}
