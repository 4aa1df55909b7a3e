//! Every command that reads lean pods decides over them as over whole pods: rollout status,
//! `explain ds`, preview (and coverage and overhead, in `lean.rs`), on one fixture that carries
//! each field those decisions read and plenty they do not. And the watch stores hold only the
//! lean fields.

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::jiff::Timestamp;
use serde_json::{Value, json};

use super::{Keep, decode, strip};
use crate::logic::daemon::pods::{self, PodIndex};
use crate::logic::daemon::{revisions, rollout};
use crate::logic::reports::explain::{self, Context};
use crate::logic::reports::preview;
use crate::logic::scheduler::{self, ClusterView, noderesources};
use crate::logic::snapshot::{Snapshot, shared};

fn now() -> Timestamp {
    "2026-01-01T00:10:00Z".parse().unwrap()
}

/// A DaemonSet mid-rollout (revision 2 of 2), tolerating nothing special.
fn daemonset() -> DaemonSet {
    serde_json::from_value(json!({
        "metadata": {"name": "agent", "namespace": "default", "uid": "d1", "generation": 2,
            "annotations": {"deprecated.daemonset.template.generation": "2"}},
        "spec": {
            "selector": {"matchLabels": {"app": "agent"}},
            "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1}},
            "template": {"metadata": {"labels": {"app": "agent"}}, "spec": {
                "priorityClassName": "", "containers": [{"name": "c", "image": "agent:2",
                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                "ports": [{"containerPort": 9100, "hostPort": 9100}]}]}}
        },
        "status": {"desiredNumberScheduled": 5, "currentNumberScheduled": 5, "numberReady": 2,
            "updatedNumberScheduled": 3, "numberAvailable": 2, "numberUnavailable": 3,
            "numberMisscheduled": 0, "observedGeneration": 2}
    }))
    .unwrap()
}

fn revisions() -> Vec<ControllerRevision> {
    [(1, "h1", "agent:1"), (2, "h2", "agent:2")]
        .into_iter()
        .map(|(n, hash, image)| {
            serde_json::from_value(json!({
                "metadata": {"name": format!("agent-{hash}"), "namespace": "default",
                    "labels": {"controller-revision-hash": hash},
                    "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
                        "name": "agent", "uid": "d1", "controller": true}]},
                "revision": n,
                "data": {"spec": {"template": {"$patch": "replace", "metadata": {"labels": {"app": "agent"}},
                    "spec": {"containers": [{"name": "c", "image": image}]}}}}
            }))
            .unwrap()
        })
        .collect()
}

fn nodes() -> Vec<Node> {
    (1..=6)
        .map(|i| {
            let mut n = json!({
                "metadata": {"name": format!("n{i}"), "labels": {
                    "kubernetes.io/hostname": format!("n{i}"),
                    "topology.kubernetes.io/zone": format!("z{}", i % 2)}},
                "status": {
                    "allocatable": {"cpu": "1", "memory": "1Gi", "pods": "110"},
                    "conditions": [{"type": "Ready", "status": "True",
                        "lastHeartbeatTime": "2026-01-01T00:09:50Z"}]
                }
            });
            if i == 6 {
                n["spec"] = json!({"taints": [{"key": "dedicated", "value": "infra", "effect": "NoSchedule"}]});
            }
            serde_json::from_value(n).unwrap()
        })
        .collect()
}

/// What the API server adds to every pod and no decision reads.
fn noise(p: &mut Value) {
    p["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/restartedAt": "x"});
    p["metadata"]["managedFields"] = json!([{"manager": "kube-controller-manager",
        "operation": "Update", "fieldsV1": {"f:spec": {}}}]);
    p["metadata"]["resourceVersion"] = json!("42");
    p["metadata"]["generateName"] = json!("agent-");
    let spec = &mut p["spec"];
    spec["volumes"] = json!([{"name": "token", "projected": {"sources": []}}]);
    spec["dnsPolicy"] = json!("ClusterFirst");
    spec["schedulerName"] = json!("default-scheduler");
    spec["serviceAccountName"] = json!("default");
    if let Some(cs) = spec["containers"].as_array_mut() {
        for c in cs {
            c["env"] = json!([{"name": "A", "value": "b"}]);
            c["volumeMounts"] = json!([{"name": "token", "mountPath": "/var/run"}]);
            c["imagePullPolicy"] = json!("IfNotPresent");
            c["securityContext"] = json!({"privileged": true});
        }
    }
    p["status"]["podIP"] = json!("10.0.0.1");
    p["status"]["hostIP"] = json!("192.168.0.1");
    p["status"]["qosClass"] = json!("Burstable");
}

#[allow(clippy::too_many_arguments)]
fn pod(
    name: &str,
    owner: Option<&str>,
    node: Option<&str>,
    hash: &str,
    phase: &str,
    ready: bool,
    spec: Value,
    status: Value,
) -> Value {
    let mut p = json!({
        "metadata": {"name": name, "namespace": "default", "uid": format!("u-{name}"),
            "labels": {"app": if owner.is_some() { "agent" } else { name }},
            "creationTimestamp": "2026-01-01T00:00:00Z"},
        "spec": {"containers": [{"name": "c", "image": "img",
            "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}}}]},
        "status": {"phase": phase, "startTime": "2026-01-01T00:00:01Z", "conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": "2026-01-01T00:00:01Z"},
            {"type": "Ready", "status": if ready { "True" } else { "False" },
                "lastTransitionTime": "2026-01-01T00:00:05Z"}]}
    });
    if let Some(uid) = owner {
        p["metadata"]["labels"]["controller-revision-hash"] = json!(hash);
        p["metadata"]["labels"]["pod-template-generation"] =
            json!(if hash == "h2" { "2" } else { "1" });
        p["metadata"]["ownerReferences"] = json!([{"apiVersion": "apps/v1", "kind": "DaemonSet",
            "name": "agent", "uid": uid, "controller": true}]);
        p["spec"]["containers"][0]["image"] =
            json!(if hash == "h2" { "agent:2" } else { "agent:1" });
        p["spec"]["containers"][0]["ports"] = json!([{"containerPort": 9100, "hostPort": 9100}]);
        p["spec"]["tolerations"] = json!([
            {"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute"},
            {"key": "node.kubernetes.io/unreachable", "operator": "Exists", "effect": "NoExecute"}]);
        let target = node.unwrap_or("n4");
        p["spec"]["affinity"] = json!({"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
            {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": [target]}]}]}}});
    }
    if let Some(n) = node {
        p["spec"]["nodeName"] = json!(n);
    }
    for (k, v) in spec.as_object().unwrap() {
        p["spec"][k] = v.clone();
    }
    for (k, v) in status.as_object().unwrap() {
        p["status"][k] = v.clone();
    }
    noise(&mut p);
    p
}

/// Every state the decisions tell apart, as the API server would send it.
fn pod_json() -> Vec<Value> {
    let none = || json!({});
    let crash = json!({"containerStatuses": [{"name": "c", "image": "agent:2", "imageID": "x",
        "ready": false, "restartCount": 5, "started": false,
        "state": {"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 5m0s"}},
        "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]});
    let mut terminating = pod(
        "a5",
        Some("d1"),
        Some("n5"),
        "h2",
        "Running",
        true,
        none(),
        none(),
    );
    terminating["metadata"]["deletionTimestamp"] = json!("2026-01-01T00:09:00Z");
    vec![
        pod(
            "a1",
            Some("d1"),
            Some("n1"),
            "h2",
            "Running",
            true,
            none(),
            none(),
        ),
        pod(
            "a2",
            Some("d1"),
            Some("n2"),
            "h1",
            "Running",
            true,
            none(),
            none(),
        ),
        pod(
            "a3",
            Some("d1"),
            Some("n3"),
            "h2",
            "Running",
            false,
            none(),
            crash,
        ),
        pod(
            "a4",
            Some("d1"),
            None,
            "h2",
            "Pending",
            false,
            none(),
            json!({"conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                "message": "0/6 nodes are available: 1 Insufficient cpu."}]}),
        ),
        terminating,
        pod(
            "a6-failed",
            Some("d1"),
            Some("n6"),
            "h2",
            "Failed",
            false,
            none(),
            json!({"reason": "Evicted", "message": "The node was low on resource: memory."}),
        ),
        // Fills n4: a higher priority than the daemon pod, so no preemption either.
        pod(
            "web",
            None,
            Some("n4"),
            "",
            "Running",
            true,
            json!({"priority": 1000, "priorityClassName": "high",
                "containers": [{"name": "c", "image": "web", "resources": {"requests": {"cpu": "950m"}}}],
                "affinity": {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
                    {"labelSelector": {"matchLabels": {"app": "agent"}}, "topologyKey": "kubernetes.io/hostname"}]}}}),
            none(),
        ),
        // Holds the daemon's host port on n5, at a low priority.
        pod(
            "porter",
            None,
            Some("n5"),
            "",
            "Running",
            true,
            json!({"priority": -10, "containers": [{"name": "c", "image": "p",
                "ports": [{"containerPort": 9100, "hostPort": 9100}], "resources": {"requests": {"cpu": "100m"}}}]}),
            none(),
        ),
        // A sidecar and a classic init container, pod overhead, on n3.
        pod(
            "side",
            None,
            Some("n3"),
            "",
            "Running",
            true,
            json!({"overhead": {"cpu": "50m"}, "initContainers": [
                {"name": "s", "image": "s", "restartPolicy": "Always", "resources": {"requests": {"cpu": "300m"}}},
                {"name": "i", "image": "i", "resources": {"requests": {"cpu": "700m", "memory": "900Mi"}}}]}),
            // Resized in place: the kubelet has allocated more than the spec asks.
            json!({"containerStatuses": [{"name": "c", "image": "img", "imageID": "x", "ready": true,
                "restartCount": 0, "allocatedResources": {"cpu": "400m"},
                "resources": {"requests": {"cpu": "400m"}}}]}),
        ),
        // Nominated to n1 by a preemption in progress.
        pod(
            "nominee",
            None,
            None,
            "",
            "Pending",
            false,
            json!({"priority": 500, "containers": [{"name": "c", "image": "n",
                "resources": {"requests": {"cpu": "850m"}}}]}),
            json!({"nominatedNodeName": "n1"}),
        ),
        pod(
            "done",
            None,
            Some("n2"),
            "",
            "Succeeded",
            false,
            json!({"containers": [{"name": "c", "image": "j", "resources": {"requests": {"cpu": "2"}}}]}),
            none(),
        ),
    ]
}

/// The fixture decoded whole, or as `keep` decodes it.
fn decoded(keep: Option<Keep>) -> Vec<Pod> {
    pod_json()
        .iter()
        .map(|p| {
            let bytes = serde_json::to_vec(p).unwrap();
            match keep {
                Some(k) => decode(&bytes, k).unwrap(),
                None => serde_json::from_slice(&bytes).unwrap(),
            }
        })
        .collect()
}

fn rollout_report(pods: Vec<Pod>) -> Value {
    let snapshot = Snapshot {
        daemonsets: vec![daemonset()],
        nodes: shared(nodes()),
        pods: shared(pods),
        revisions: revisions(),
        create_failures: Vec::new(),
    };
    let mut failures = rollout::Failures::default();
    failures.observe(&snapshot);
    serde_json::to_value(rollout::compute(&snapshot, now(), &failures)).unwrap()
}

#[test]
fn rollout_status_over_lean_pods_is_over_whole_pods() {
    let whole = rollout_report(decoded(None));
    assert_eq!(rollout_report(decoded(Some(Keep::Lean))), whole);
    // The fixture exercises what is compared: several progress kinds and a reason.
    let progress: BTreeSet<String> = whole[0]["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["progress"].to_string())
        .collect();
    assert!(progress.len() >= 3, "{whole}");
    assert!(whole.to_string().contains("CrashLoopBackOff"), "{whole}");
}

/// `explain ds` as the command assembles it, over these pods.
fn explain_report(pods: Vec<Pod>) -> Value {
    let (ds, nodes, revs) = (daemonset(), nodes(), revisions());
    let index = PodIndex::new(&pods);
    let by_node = noderesources::pods_by_node(&pods);
    let all_nodes: Vec<&Node> = nodes.iter().collect();
    let bound = scheduler::bound_pods(&pods);
    let view = ClusterView::new(&all_nodes, &bound, true, &scheduler::NOTHING_READ);
    let waiting: Vec<&Pod> = pods.iter().filter(|p| !pods::is_bound(p)).collect();
    let events = HashMap::from([(
        "default/a4".to_string(),
        "0/6 nodes are available: 1 Insufficient cpu.".to_string(),
    )]);
    let hash = revisions::current_hash(&ds, &revs);
    let verdicts: Vec<_> = nodes
        .iter()
        .map(|node| {
            let name = node.metadata.name.as_deref().unwrap_or("");
            let on_node = by_node.get(name).cloned().unwrap_or_default();
            let ctx = Context {
                pods_on_node: &on_node,
                view: &view,
                nominated: &waiting,
                scheduling_events: &events,
                admitted: None,
                pdbs: &[],
                create_failure: None,
                failed_pod: None,
                current_hash: hash.as_deref(),
                template_generation: revisions::template_generation(&ds),
                now: now(),
            };
            explain::explain(&ds, node, index.on_node("d1", name), &ctx)
        })
        .collect();
    serde_json::to_value(verdicts).unwrap()
}

#[test]
fn explain_over_lean_pods_is_over_whole_pods() {
    let whole = explain_report(decoded(None));
    assert_eq!(explain_report(decoded(Some(Keep::Lean))), whole);
    let for_agent: Vec<Pod> = pod_json()
        .iter()
        .map(|p| super::decode_for_daemonset(&serde_json::to_vec(p).unwrap(), "agent").unwrap())
        .collect();
    assert_eq!(explain_report(for_agent), whole);
    let codes: BTreeSet<String> = whole
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["code"].to_string())
        .collect();
    assert!(codes.len() >= 4, "{codes:?}");
}

fn preview_report(pods: Vec<Pod>) -> Value {
    let mut changed = daemonset();
    let spec = &mut changed.spec;
    let template = spec.template.spec.as_mut().unwrap();
    template.containers[0].image = Some("agent:3".into());
    template.containers[0].resources = Some(
        serde_json::from_value(json!({"requests": {"cpu": "200m", "memory": "128Mi"}})).unwrap(),
    );
    let existing = daemonset();
    let nodes = nodes();
    let out = [
        preview::preview(&changed, Some(&existing), &nodes, &pods),
        preview::preview(&changed, None, &nodes, &pods),
    ];
    serde_json::to_value(out).unwrap()
}

#[test]
fn preview_over_lean_pods_is_over_whole_pods() {
    let whole = preview_report(decoded(None));
    assert_eq!(preview_report(decoded(Some(Keep::Lean))), whole);
    assert_eq!(preview_report(decoded(Some(Keep::Fit))), whole);
    let text = whole.to_string();
    for what in ["n4", "n5", "9100"] {
        assert!(text.contains(what), "{what}: {text}");
    }
    assert!(
        !whole[0]["unplaceable"].as_array().unwrap().is_empty(),
        "{whole}"
    );
}

/// A whole pod cut down for a watch store is the pod the one-shot decode makes.
#[test]
fn stripping_a_whole_pod_keeps_what_decoding_keeps() {
    for keep in [Keep::Coverage, Keep::Fit, Keep::Lean] {
        let stripped: Vec<Pod> = decoded(None).into_iter().map(|p| strip(p, keep)).collect();
        assert_eq!(stripped, decoded(Some(keep)), "{keep:?}");
    }
}

/// The JSON paths of every leaf of `v` (array indexes as `[]`).
fn leaf_paths(v: &Value, at: &str, out: &mut BTreeSet<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let path = if at.is_empty() {
                    k.clone()
                } else {
                    format!("{at}.{k}")
                };
                leaf_paths(v, &path, out);
            }
        }
        Value::Array(items) => {
            for v in items {
                leaf_paths(v, &format!("{at}[]"), out);
            }
        }
        _ => {
            out.insert(at.to_string());
        }
    }
}

/// The fields a pod of a watch store may hold: the lean set. A field path is allowed when it
/// starts with one of these.
fn lean_set(keep: Keep) -> Vec<&'static str> {
    let mut set = vec![
        "metadata.name",
        "metadata.namespace",
        "metadata.uid",
        "metadata.labels",
        "metadata.ownerReferences",
        "metadata.creationTimestamp",
        "metadata.deletionTimestamp",
        "spec.nodeName",
        "spec.affinity",
        "status.phase",
        "status.conditions",
    ];
    if keep != Keep::Coverage {
        for c in ["spec.containers[]", "spec.initContainers[]"] {
            for f in ["name", "image", "resources", "ports", "restartPolicy"] {
                set.push(Box::leak(format!("{c}.{f}").into_boxed_str()));
            }
        }
        set.extend([
            "spec.overhead",
            "spec.resources",
            "spec.priority",
            "spec.priorityClassName",
            "spec.preemptionPolicy",
            "spec.runtimeClassName",
            "spec.hostNetwork",
            "spec.nodeSelector",
            "spec.tolerations",
            "status.reason",
            "status.message",
            "status.nominatedNodeName",
            "status.startTime",
            "status.containerStatuses",
            "status.initContainerStatuses",
        ]);
    }
    if keep == Keep::Fit {
        let dropped = |f: &&str| {
            f.ends_with(".image")
                || [
                    "spec.nodeSelector",
                    "spec.tolerations",
                    "status.reason",
                    "status.message",
                ]
                .contains(f)
        };
        set.retain(|f| !dropped(f));
    }
    set
}

fn outside_lean_set(pod: &Pod, keep: Keep) -> Vec<String> {
    let mut paths = BTreeSet::new();
    leaf_paths(&serde_json::to_value(pod).unwrap(), "", &mut paths);
    paths
        .into_iter()
        .filter(|p| !["apiVersion", "kind"].contains(&p.as_str()))
        .filter(|p| !lean_set(keep).iter().any(|a| p.starts_with(a)))
        .collect()
}

/// The stores of a watch fed whole objects (an initial list, then changes) hold them stripped:
/// no managedFields on any kind, and pods with nothing outside the lean set.
#[tokio::test]
async fn watch_stores_hold_only_lean_objects() {
    use futures::StreamExt;
    use kube::runtime::watcher::Event;
    let whole = decoded(None);
    assert!(!outside_lean_set(&whole[0], Keep::Lean).is_empty());
    for keep in [Keep::Coverage, Keep::Fit, Keep::Lean] {
        let mut events = vec![Ok(Event::Init)];
        events.extend(whole.iter().cloned().map(|p| Ok(Event::InitApply(p))));
        events.push(Ok(Event::InitDone));
        // A change after the initial list goes through the same stripping.
        let mut changed = whole[2].clone();
        changed
            .metadata
            .labels
            .get_or_insert_default()
            .insert("x".into(), "y".into());
        events.push(Ok(Event::Apply(changed)));
        let (store, stream) =
            super::super::watch::reflect_events(futures::stream::iter(events), keep);
        stream.for_each(|_| async {}).await;
        let held: Vec<Arc<Pod>> = store.state();
        assert_eq!(held.len(), whole.len());
        for p in &held {
            assert!(p.metadata.managed_fields.is_none());
            assert_eq!(outside_lean_set(p, keep), Vec::<String>::new(), "{keep:?}");
        }
    }
    let node: Node = serde_json::from_value(json!({
        "metadata": {"name": "n1", "managedFields": [{"manager": "kubelet"}]},
        "status": {"images": [{"names": ["img"], "sizeBytes": 1}], "allocatable": {"cpu": "1"}}
    }))
    .unwrap();
    let (store, stream) = super::super::watch::reflect_events(
        futures::stream::iter(vec![
            Ok(Event::Init),
            Ok(Event::InitApply(node)),
            Ok(Event::InitDone),
        ]),
        Keep::Coverage,
    );
    stream.for_each(|_| async {}).await;
    let held = store.state();
    assert!(held[0].metadata.managed_fields.is_none());
    assert!(held[0].status.as_ref().unwrap().images.is_none());
    assert!(held[0].status.as_ref().unwrap().allocatable.is_some());
    let mut ds = daemonset();
    ds.metadata.managed_fields = Some(vec![Default::default()]);
    let (store, stream) = super::super::watch::reflect_events(
        futures::stream::iter(vec![
            Ok(Event::Init),
            Ok(Event::InitApply(ds)),
            Ok(Event::InitDone),
        ]),
        Keep::Lean,
    );
    stream.for_each(|_| async {}).await;
    assert!(store.state()[0].metadata.managed_fields.is_none());
}
