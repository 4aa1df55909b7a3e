//! Helpers for tests, over a plain `kube::Client`: fake nodes, applying YAML, waiting.

use std::collections::BTreeMap;
use std::future::Future;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{
    Node, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeSpec, NodeStatus, NodeSystemInfo,
    Pod, Taint,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;
use k8s_openapi::jiff::Timestamp;
use kube::api::{
    Api, DynamicObject, GroupVersionKind, ListParams, ObjectMeta, Patch, PatchParams, PostParams,
};
use kube::discovery::{self, Scope};
use kube::{Client, ResourceExt as _};
use serde::Deserialize as _;

use crate::Error;

/// The field manager of [`apply_yaml`]'s server-side applies.
pub const FIELD_MANAGER: &str = "kubectl-ds-testbed";
/// The annotation that hands a Node to kwok (value `fake`).
pub const KWOK_NODE_ANNOTATION: &str = "kwok.x-k8s.io/node";
/// On a Node: its status is the one the test wrote ([`add_node`] sets it); kwok's node stages
/// leave it alone (kwok still renews the node's Lease if it manages the node).
pub const STATIC_STATUS_ANNOTATION: &str = "testbed.kubectl-ds/static-status";
/// On a Pod: how long kwok waits before it turns Running (a Go duration such as `"5s"`),
/// instead of `Options::pod_ready_delay`.
pub const READY_DELAY_ANNOTATION: &str = "testbed.kubectl-ds/ready-delay";

const POLL: Duration = Duration::from_millis(200);

/// A Node to create with [`add_node`]: a builder over name, labels, taints, allocatable
/// resources, conditions and whether kwok keeps it alive.
///
/// ```
/// use kubectl_ds_testbed::FakeNode;
/// let n = FakeNode::new("gpu-1")
///     .label("pool", "gpu")
///     .taint("nvidia.com/gpu", "present", "NoSchedule")
///     .cpu("8")
///     .memory("32Gi")
///     .pods(110)
///     .extended("nvidia.com/gpu", "2");
/// assert!(n.managed_by_kwok);
/// ```
#[derive(Clone, Debug)]
pub struct FakeNode {
    /// The Node's name.
    pub name: String,
    /// Labels, on top of `kubernetes.io/hostname`, `kubernetes.io/os=linux` and
    /// `kubernetes.io/arch=amd64` (which these can override).
    pub labels: BTreeMap<String, String>,
    /// Extra annotations.
    pub annotations: BTreeMap<String, String>,
    /// `spec.taints`. (The API server adds `node.kubernetes.io/not-ready:NoSchedule` at
    /// creation; the node-lifecycle controller removes it once the node is Ready.)
    pub taints: Vec<Taint>,
    /// `status.allocatable` (also used as `status.capacity`): resource name → quantity.
    /// Defaults: cpu 16, memory 64Gi, pods 110, ephemeral-storage 100Gi.
    pub allocatable: BTreeMap<String, String>,
    /// Condition type → status (`"True"`, `"False"`, `"Unknown"`), overriding the healthy
    /// defaults (Ready=True, MemoryPressure/DiskPressure/PIDPressure=False).
    pub conditions: BTreeMap<String, String>,
    /// `spec.unschedulable` (cordoned).
    pub unschedulable: bool,
    /// Whether kwok manages the node (annotation `kwok.x-k8s.io/node: fake`): it renews the
    /// node's Lease and runs its pods. An unmanaged node is a node whose kubelet died: the
    /// node-lifecycle controller marks it Unknown and taints it unreachable after the grace
    /// period, and its pods never start. Default: true.
    pub managed_by_kwok: bool,
}

impl FakeNode {
    /// A healthy, kwok-managed node with the default resources.
    pub fn new(name: impl Into<String>) -> Self {
        let allocatable = [
            ("cpu", "16"),
            ("memory", "64Gi"),
            ("pods", "110"),
            ("ephemeral-storage", "100Gi"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        Self {
            name: name.into(),
            labels: BTreeMap::new(),
            annotations: BTreeMap::new(),
            taints: Vec::new(),
            allocatable,
            conditions: BTreeMap::new(),
            unschedulable: false,
            managed_by_kwok: true,
        }
    }

    /// Adds a label.
    pub fn label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Adds an annotation.
    pub fn annotation(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.annotations.insert(key.into(), value.into());
        self
    }

    /// Adds a taint; an empty `value` means none. `effect`: NoSchedule, PreferNoSchedule or
    /// NoExecute.
    pub fn taint(
        mut self,
        key: impl Into<String>,
        value: impl Into<String>,
        effect: impl Into<String>,
    ) -> Self {
        let value = value.into();
        self.taints.push(Taint {
            key: key.into(),
            value: (!value.is_empty()).then_some(value),
            effect: effect.into(),
            time_added: None,
        });
        self
    }

    /// Sets allocatable CPU (a quantity such as `"4"` or `"3500m"`).
    pub fn cpu(self, quantity: impl Into<String>) -> Self {
        self.extended("cpu", quantity)
    }

    /// Sets allocatable memory (a quantity such as `"8Gi"`).
    pub fn memory(self, quantity: impl Into<String>) -> Self {
        self.extended("memory", quantity)
    }

    /// Sets the number of pods the node takes.
    pub fn pods(self, pods: u32) -> Self {
        self.extended("pods", pods.to_string())
    }

    /// Sets any allocatable resource, e.g. `extended("nvidia.com/gpu", "2")`.
    pub fn extended(mut self, resource: impl Into<String>, quantity: impl Into<String>) -> Self {
        self.allocatable.insert(resource.into(), quantity.into());
        self
    }

    /// Overrides a condition, e.g. `condition("MemoryPressure", "True")`. The node keeps the
    /// status it is given: kwok renews its Lease but does not rewrite its conditions, so the
    /// node-lifecycle controller reacts to them (taints) as to a real kubelet's report.
    pub fn condition(mut self, type_: impl Into<String>, status: impl Into<String>) -> Self {
        self.conditions.insert(type_.into(), status.into());
        self
    }

    /// Shorthand for `condition("Ready", "False")`: a live kubelet that reports NotReady.
    pub fn not_ready(self) -> Self {
        self.condition("Ready", "False")
    }

    /// Marks the node unschedulable (cordoned).
    pub fn unschedulable(mut self) -> Self {
        self.unschedulable = true;
        self
    }

    /// Leaves the node to nobody: no kwok, no heartbeat (a dead kubelet).
    pub fn unmanaged(mut self) -> Self {
        self.managed_by_kwok = false;
        self
    }

    fn condition_status(&self, type_: &str, default: &str) -> String {
        self.conditions
            .get(type_)
            .cloned()
            .unwrap_or_else(|| default.to_string())
    }

    /// A fake loopback InternalIP derived from the name, so nothing outside the machine is ever
    /// addressed by accident.
    fn internal_ip(&self) -> String {
        let mut h: u32 = 0x811c_9dc5;
        for b in self.name.bytes() {
            h = (h ^ u32::from(b)).wrapping_mul(0x0100_0193);
        }
        let [a, b, c, _] = h.to_be_bytes();
        format!("127.{}.{}.{}", 1 + a % 250, b, 1 + c % 254)
    }

    /// The Node object, status included (create it, then write the status through the status
    /// subresource, as [`add_node`] does; for creating many nodes at once without waiting).
    pub fn to_node(&self) -> Node {
        let mut labels: BTreeMap<String, String> = [
            ("kubernetes.io/hostname", self.name.as_str()),
            ("kubernetes.io/os", "linux"),
            ("kubernetes.io/arch", "amd64"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        labels.extend(self.labels.clone());
        let mut annotations = BTreeMap::new();
        if self.managed_by_kwok {
            annotations.insert(KWOK_NODE_ANNOTATION.to_string(), "fake".to_string());
        }
        annotations.insert(STATIC_STATUS_ANNOTATION.to_string(), "true".to_string());
        annotations.extend(self.annotations.clone());

        let now = Time(Timestamp::now());
        let mut conditions = Vec::new();
        let defaults = [
            (
                "Ready",
                "True",
                "KubeletReady",
                "kubelet is posting ready status",
            ),
            (
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            (
                "DiskPressure",
                "False",
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            ),
            (
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
        ];
        for (type_, default, reason, message) in defaults {
            let status = self.condition_status(type_, default);
            let (reason, message) = if status == default {
                (reason.to_string(), message.to_string())
            } else {
                (
                    format!("Testbed{type_}{status}"),
                    format!("the testbed set {type_}={status}"),
                )
            };
            conditions.push(NodeCondition {
                type_: type_.to_string(),
                status,
                reason: Some(reason),
                message: Some(message),
                last_heartbeat_time: Some(now.clone()),
                last_transition_time: Some(now.clone()),
            });
        }
        for (type_, status) in &self.conditions {
            if !defaults.iter().any(|d| d.0 == type_) {
                conditions.push(NodeCondition {
                    type_: type_.clone(),
                    status: status.clone(),
                    reason: Some(format!("Testbed{type_}{status}")),
                    message: Some(format!("the testbed set {type_}={status}")),
                    last_heartbeat_time: Some(now.clone()),
                    last_transition_time: Some(now.clone()),
                });
            }
        }
        let resources: BTreeMap<String, Quantity> = self
            .allocatable
            .iter()
            .map(|(k, v)| (k.clone(), Quantity(v.clone())))
            .collect();

        Node {
            metadata: ObjectMeta {
                name: Some(self.name.clone()),
                labels: Some(labels),
                annotations: Some(annotations),
                ..Default::default()
            },
            spec: Some(NodeSpec {
                taints: (!self.taints.is_empty()).then(|| self.taints.clone()),
                unschedulable: self.unschedulable.then_some(true),
                ..Default::default()
            }),
            status: Some(NodeStatus {
                allocatable: Some(resources.clone()),
                capacity: Some(resources),
                conditions: Some(conditions),
                addresses: Some(vec![
                    NodeAddress {
                        type_: "InternalIP".into(),
                        address: self.internal_ip(),
                    },
                    NodeAddress {
                        type_: "Hostname".into(),
                        address: self.name.clone(),
                    },
                ]),
                daemon_endpoints: Some(NodeDaemonEndpoints {
                    kubelet_endpoint: Some(k8s_openapi::api::core::v1::DaemonEndpoint {
                        port: 10250,
                    }),
                }),
                node_info: Some(NodeSystemInfo {
                    architecture: "amd64".into(),
                    boot_id: String::new(),
                    container_runtime_version: "kwok://v0.8.0".into(),
                    kernel_version: "kwok".into(),
                    kube_proxy_version: String::new(),
                    kubelet_version: "v1.37.2".into(),
                    machine_id: String::new(),
                    operating_system: "linux".into(),
                    os_image: "kwok".into(),
                    system_uuid: String::new(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
        }
    }
}

/// Creates a Node and writes its status (through the status subresource), then, for a
/// kwok-managed node that is Ready, waits until the node-lifecycle controller has removed the
/// `node.kubernetes.io/not-ready` taint the API server puts on new nodes, so DaemonSets see it
/// at once. Returns the Node as it then is.
pub async fn add_node(client: &Client, node: &FakeNode) -> Result<Node, Error> {
    let api: Api<Node> = Api::all(client.clone());
    let want = node.to_node();
    api.create(&PostParams::default(), &want).await?;
    let status = serde_json::json!({ "status": want.status });
    let mut created = api
        .patch_status(&node.name, &PatchParams::default(), &Patch::Merge(&status))
        .await?;
    let ready = node.condition_status("Ready", "True") == "True";
    let user_not_ready_taint = node
        .taints
        .iter()
        .any(|t| t.key == "node.kubernetes.io/not-ready");
    if node.managed_by_kwok && ready && !user_not_ready_taint {
        created = wait_for(
            &format!("the not-ready taint to leave node {}", node.name),
            Duration::from_secs(60),
            || async {
                let n = api.get(&node.name).await?;
                let tainted = n
                    .spec
                    .as_ref()
                    .and_then(|s| s.taints.as_ref())
                    .is_some_and(|ts| ts.iter().any(|t| t.key == "node.kubernetes.io/not-ready"));
                Ok::<_, Error>((!tainted).then_some(n))
            },
        )
        .await?;
    }
    Ok(created)
}

/// Server-side applies every document of a multi-document YAML string (field manager
/// `kubectl-ds-testbed`, conflicts forced, as `kubectl apply --server-side --force-conflicts`),
/// resolving kinds through discovery (retrying a while for kinds whose CRD was just created).
/// Namespaced objects without a namespace go to the client's default namespace. Returns the
/// applied objects, in order.
pub async fn apply_yaml(client: &Client, yaml: &str) -> Result<Vec<DynamicObject>, Error> {
    let mut out = Vec::new();
    for doc in serde_yaml::Deserializer::from_str(yaml) {
        let value = serde_yaml::Value::deserialize(doc)?;
        if value.is_null() {
            continue;
        }
        let obj: DynamicObject = serde_yaml::from_value(value)?;
        let types = obj
            .types
            .as_ref()
            .ok_or_else(|| Error::Other("a YAML document has no apiVersion/kind".into()))?;
        let gvk = GroupVersionKind::try_from(types)
            .map_err(|e| Error::Other(format!("bad apiVersion/kind: {e}")))?;
        let name = obj
            .metadata
            .name
            .clone()
            .ok_or_else(|| Error::Other(format!("a {} has no metadata.name", gvk.kind)))?;
        let (resource, caps) = wait_for(
            &format!("discovery of {}/{}", gvk.api_version(), gvk.kind),
            Duration::from_secs(15),
            || async {
                match discovery::pinned_kind(client, &gvk).await {
                    Ok(found) => Ok::<_, Error>(Some(found)),
                    Err(_) => Ok(None),
                }
            },
        )
        .await?;
        let api: Api<DynamicObject> = match caps.scope {
            Scope::Namespaced => {
                let ns = obj
                    .metadata
                    .namespace
                    .clone()
                    .unwrap_or_else(|| client.default_namespace().to_string());
                Api::namespaced_with(client.clone(), &ns, &resource)
            }
            Scope::Cluster => Api::all_with(client.clone(), &resource),
        };
        let applied = api
            .patch(
                &name,
                &PatchParams::apply(FIELD_MANAGER).force(),
                &Patch::Apply(&obj),
            )
            .await?;
        out.push(applied);
    }
    Ok(out)
}

/// Polls `check` every 200 ms until it returns `Ok(Some(value))`, and returns that value; an
/// `Err` ends the wait at once; after `timeout`, fails with [`Error::Timeout`] naming `what`.
pub async fn wait_for<T, E, F, Fut>(what: &str, timeout: Duration, mut check: F) -> Result<T, Error>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<Option<T>, E>>,
    E: Into<Error>,
{
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(v) = check().await.map_err(Into::into)? {
            return Ok(v);
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!("{what} (after {timeout:?})")));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// Waits until a DaemonSet has settled and returns it. Settled means: the controller has seen
/// the latest spec (`observedGeneration >= generation`), `desiredNumberScheduled ==
/// currentNumberScheduled`, nothing misscheduled, no pod terminating, and then either
///
/// * healthy: desired == updated == ready == available, every pod Ready; or
/// * stuck: every pod is Ready or in a state that will not change by itself (ImagePullBackOff,
///   CrashLoopBackOff, running but not ready, unschedulable, on a dead node), and the rollout
///   is complete, uses OnDelete, or is blocked by maxUnavailable with an updated pod not Ready;
///
/// and the DaemonSet's status and its pods' states stayed the same for 1 s (healthy) or 2 s
/// (stuck). Pods in CrashLoopBackOff keep restarting; their restart counts are not compared.
pub async fn wait_daemonset_settled(
    client: &Client,
    namespace: &str,
    name: &str,
    timeout: Duration,
) -> Result<DaemonSet, Error> {
    let dss: Api<DaemonSet> = Api::namespaced(client.clone(), namespace);
    let pods: Api<Pod> = Api::namespaced(client.clone(), namespace);
    let revisions: Api<ControllerRevision> = Api::namespaced(client.clone(), namespace);
    let nodes: Api<Node> = Api::all(client.clone());
    let deadline = Instant::now() + timeout;
    let mut stable: Option<(String, Instant)> = None;
    let mut last = String::from("not seen yet");
    loop {
        if let Some(ds) = dss.get_opt(name).await? {
            let uid = ds.uid().unwrap_or_default();
            let owned = |refs: Option<&Vec<_>>| {
                refs.is_some_and(
                    |rs: &Vec<k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference>| {
                        rs.iter().any(|r| r.uid == uid)
                    },
                )
            };
            let ds_pods: Vec<Pod> = pods
                .list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .filter(|p| owned(p.metadata.owner_references.as_ref()))
                .collect();
            let current_hash = revisions
                .list(&ListParams::default())
                .await?
                .items
                .into_iter()
                .filter(|r| owned(r.metadata.owner_references.as_ref()))
                .max_by_key(|r| r.revision)
                .and_then(|r| r.labels().get("controller-revision-hash").cloned());
            let node_list = nodes.list(&ListParams::default()).await?.items;
            let verdict = judge(&ds, &ds_pods, current_hash.as_deref(), &node_list);
            last = verdict.summary.clone();
            match verdict.settled {
                Some(window) => {
                    let since = match &stable {
                        Some((fp, since)) if *fp == verdict.fingerprint => *since,
                        _ => Instant::now(),
                    };
                    if since.elapsed() >= window {
                        return Ok(ds);
                    }
                    stable = Some((verdict.fingerprint, since));
                }
                None => stable = None,
            }
        }
        if Instant::now() >= deadline {
            return Err(Error::Timeout(format!(
                "daemonset {namespace}/{name} to settle (after {timeout:?}; last: {last})"
            )));
        }
        tokio::time::sleep(POLL).await;
    }
}

struct Verdict {
    /// The stability window the current state needs, if it counts as settled.
    settled: Option<Duration>,
    fingerprint: String,
    summary: String,
}

fn is_ready(pod: &Pod) -> bool {
    pod.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

/// Whether a pod that is not Ready will stay as it is without outside help.
fn is_stuck(pod: &Pod, nodes: &[Node]) -> bool {
    let Some(status) = pod.status.as_ref() else {
        return false;
    };
    let phase = status.phase.as_deref().unwrap_or("");
    if matches!(phase, "Succeeded" | "Failed") {
        return false; // the DaemonSet controller replaces it
    }
    let unschedulable = status.conditions.as_ref().is_some_and(|cs| {
        cs.iter().any(|c| {
            c.type_ == "PodScheduled"
                && c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
        })
    });
    if unschedulable {
        return true;
    }
    let statuses = status.container_statuses.as_deref().unwrap_or_default();
    let waiting_for_good = statuses.iter().any(|cs| {
        cs.state
            .as_ref()
            .and_then(|s| s.waiting.as_ref())
            .and_then(|w| w.reason.as_deref())
            .is_some_and(|r| !matches!(r, "ContainerCreating" | "PodInitializing" | ""))
    });
    if waiting_for_good {
        return true;
    }
    let running = statuses
        .iter()
        .any(|cs| cs.state.as_ref().is_some_and(|s| s.running.is_some()));
    if phase == "Running" && running {
        return true; // running but failing its readiness probe
    }
    // Bound to a node whose kubelet is gone: nothing will ever run it.
    let node_name = pod.spec.as_ref().and_then(|s| s.node_name.as_deref());
    if let Some(node) = node_name.and_then(|n| nodes.iter().find(|x| x.name_any() == n)) {
        let managed = node
            .annotations()
            .get(KWOK_NODE_ANNOTATION)
            .is_some_and(|v| v == "fake");
        let node_ready = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
        return !managed || !node_ready;
    }
    false
}

fn pod_fingerprint(pod: &Pod) -> String {
    let status = pod.status.as_ref();
    let states: Vec<String> = status
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| {
            cs.iter()
                .map(|c| {
                    let state = c.state.as_ref();
                    let what = if let Some(w) = state.and_then(|s| s.waiting.as_ref()) {
                        format!("waiting:{}", w.reason.as_deref().unwrap_or(""))
                    } else if state.is_some_and(|s| s.running.is_some()) {
                        "running".to_string()
                    } else if state.is_some_and(|s| s.terminated.is_some()) {
                        "terminated".to_string()
                    } else {
                        "unknown".to_string()
                    };
                    format!("{}={}/{}", c.name, what, c.ready)
                })
                .collect()
        })
        .unwrap_or_default();
    format!(
        "{}@{}:{}:{}:{}:[{}]",
        pod.uid().unwrap_or_default(),
        pod.spec
            .as_ref()
            .and_then(|s| s.node_name.as_deref())
            .unwrap_or(""),
        status.and_then(|s| s.phase.as_deref()).unwrap_or(""),
        is_ready(pod),
        pod.metadata.deletion_timestamp.is_some(),
        states.join(",")
    )
}

fn max_unavailable(ds: &DaemonSet, desired: i32) -> i32 {
    let value = ds
        .spec
        .update_strategy
        .as_ref()
        .and_then(|u| u.rolling_update.as_ref())
        .and_then(|r| r.max_unavailable.as_ref());
    let n = match value {
        None => 1,
        Some(IntOrString::Int(n)) => *n,
        Some(IntOrString::String(s)) => {
            let pct: f64 = s.trim_end_matches('%').parse().unwrap_or(0.0);
            (pct * f64::from(desired) / 100.0).ceil() as i32
        }
    };
    n.max(1)
}

fn judge(ds: &DaemonSet, pods: &[Pod], current_hash: Option<&str>, nodes: &[Node]) -> Verdict {
    let Some(st) = ds.status.as_ref() else {
        return Verdict {
            settled: None,
            fingerprint: String::new(),
            summary: "no status yet".into(),
        };
    };
    let generation = ds.metadata.generation.unwrap_or(0);
    let observed = st.observed_generation.unwrap_or(0);
    let desired = st.desired_number_scheduled;
    let updated = st.updated_number_scheduled.unwrap_or(0);
    let available = st.number_available.unwrap_or(0);
    let ready_pods = pods.iter().filter(|p| is_ready(p)).count();
    let deleting = pods.iter().any(|p| p.metadata.deletion_timestamp.is_some());
    let summary = format!(
        "generation {generation}, observed {observed}, desired {desired}, current {}, updated \
         {updated}, ready {}, available {available}, misscheduled {}; {} pods ({} Ready{})",
        st.current_number_scheduled,
        st.number_ready,
        st.number_misscheduled,
        pods.len(),
        ready_pods,
        if deleting { ", some terminating" } else { "" }
    );
    let mut fingerprint = format!(
        "{observed}/{desired}/{}/{updated}/{}/{available}/{}",
        st.current_number_scheduled, st.number_ready, st.number_misscheduled
    );
    let mut pod_prints: Vec<String> = pods.iter().map(pod_fingerprint).collect();
    pod_prints.sort();
    fingerprint.push_str(&pod_prints.join(";"));

    let base = observed >= generation
        && st.number_misscheduled == 0
        && st.current_number_scheduled == desired
        && !deleting
        && i32::try_from(pods.len()).is_ok_and(|n| n == desired);
    let healthy = base
        && updated == desired
        && st.number_ready == desired
        && available == desired
        && ready_pods == pods.len();
    let settled = if healthy {
        Some(Duration::from_secs(1))
    } else if base && pods.iter().all(|p| is_ready(p) || is_stuck(p, nodes)) {
        let on_delete = ds
            .spec
            .update_strategy
            .as_ref()
            .and_then(|u| u.type_.as_deref())
            == Some("OnDelete");
        let updated_pod_unready = pods.iter().any(|p| {
            !is_ready(p)
                && current_hash.is_some()
                && p.labels()
                    .get("controller-revision-hash")
                    .map(String::as_str)
                    == current_hash
        });
        let blocked = desired - available >= max_unavailable(ds, desired) && updated_pod_unready;
        (updated == desired || on_delete || blocked).then_some(Duration::from_secs(2))
    } else {
        None
    };
    Verdict {
        settled,
        fingerprint,
        summary,
    }
}
