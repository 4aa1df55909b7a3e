//! `kubectl ds explain` against the real controller and scheduler: every node we say gets a
//! Running pod got one; every node we say cannot take the pod has a Pending pod whose
//! FailedScheduling event names the same cause; not-targeted nodes have no pod.

use crate::common;

use std::collections::BTreeMap;
use std::time::Duration;

use crate::common::{
    Rng, daemonset, json_report as json, kubectl_ds, stderr, stdout, wait_stable,
    wait_stable_everywhere,
};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::api::ListParams;
use kubectl_ds_testbed::{FakeNode, Options, Testbed, add_node, apply_yaml};
use serde_json::Value;

const NS: &str = "default";

/// Daemon pods of every namespace by (DaemonSet, target node); DaemonSet names are unique
/// here across namespaces.
async fn daemon_pods(client: &kube::Client) -> BTreeMap<(String, String), Pod> {
    let api: Api<Pod> = Api::all(client.clone());
    let mut out = BTreeMap::new();
    for p in api.list(&ListParams::default()).await.expect("pods").items {
        let Some(owner) = p
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.kind == "DaemonSet")
            .map(|r| r.name.clone())
        else {
            continue;
        };
        let node = common::pod_node(&p);
        if let Some(node) = node {
            out.insert((owner, node), p);
        }
    }
    out
}

async fn scheduling_messages(client: &kube::Client) -> BTreeMap<String, String> {
    let api: Api<Event> = Api::all(client.clone());
    let mut out = BTreeMap::new();
    for e in api
        .list(&ListParams::default().fields("reason=FailedScheduling"))
        .await
        .expect("events")
        .items
    {
        if let Some(n) = e.involved_object.name.clone() {
            out.insert(n, e.message.clone().unwrap_or_default());
        }
    }
    out
}

/// Waits until every unbound daemon pod has a FailedScheduling event.
async fn wait_events(client: &kube::Client) {
    for _ in 0..120 {
        let pods = daemon_pods(client).await;
        let events = scheduling_messages(client).await;
        let missing = pods
            .values()
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none())
            .filter(|p| !events.contains_key(p.metadata.name.as_deref().unwrap_or("")))
            .count();
        if missing == 0 {
            return;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("pending daemon pods never got a FailedScheduling event");
}

/// The per-node reasons of a FailedScheduling message (`0/N nodes are available: 1 Insufficient
/// cpu, 4 node(s) didn't satisfy plugin(s) [NodeAffinity]. preemption: ...`), without the
/// NodeAffinity entries that stand for every other node.
fn node_reasons(message: &str) -> Vec<String> {
    let head = message.split(". preemption:").next().unwrap_or(message);
    let list = head
        .split_once("available: ")
        .map_or("", |(_, l)| l)
        .trim_end_matches('.');
    list.split(", ")
        .filter_map(|part| part.split_once(' ').map(|(_, r)| r.to_string()))
        .filter(|r| !r.contains("[NodeAffinity]"))
        .collect()
}

/// The DaemonSets of every namespace whose creates the API server refused (the controller's
/// FailedCreate events).
async fn refused_creates(client: &kube::Client) -> std::collections::BTreeSet<String> {
    let api: Api<Event> = Api::all(client.clone());
    api.list(&ListParams::default().fields("reason=FailedCreate"))
        .await
        .expect("events")
        .items
        .into_iter()
        .filter_map(|e| e.involved_object.name)
        .collect()
}

/// Checks every verdict of `explain ds` against what the cluster did. Returns the verdicts by
/// (DaemonSet, node).
async fn check_all(
    tb: &Testbed,
    client: &kube::Client,
    names: &[(String, String)],
) -> BTreeMap<(String, String), Value> {
    let pods = daemon_pods(client).await;
    let events = scheduling_messages(client).await;
    let mut all = BTreeMap::new();
    for (ns, name) in names {
        let report = json(
            tb.kubeconfig(),
            &["explain", "ds", name, "-n", ns, "-o", "json"],
        );
        // Read after explain: the controller's creates are retried while the others settle.
        let refused = refused_creates(client).await;
        assert_eq!(report["kind"], "ExplainDaemonSetReport");
        for v in report["verdicts"].as_array().expect("verdicts") {
            let node = v["node"].as_str().unwrap().to_string();
            let code = v["code"].as_str().unwrap();
            let key = (name.clone(), node.clone());
            let pod = pods.get(&key);
            let what = format!("{name} on {node}: {code} ({})", v["message"]);
            match code {
                "Healthy" => {
                    let p = pod.unwrap_or_else(|| panic!("{what}: no pod"));
                    assert_eq!(
                        p.status.as_ref().and_then(|s| s.phase.as_deref()),
                        Some("Running"),
                        "{what}"
                    );
                }
                "InsufficientResources" | "HostPortConflict" => {
                    let p = pod.unwrap_or_else(|| panic!("{what}: the controller made no pod"));
                    assert!(
                        p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none(),
                        "{what}: pod was bound"
                    );
                    let msg = events
                        .get(p.metadata.name.as_deref().unwrap())
                        .unwrap_or_else(|| panic!("{what}: no event"));
                    // The scheduler's reasons for this node must be among ours. (Its event is
                    // from its last attempt; pods that arrived since can add reasons on our side.)
                    let mut ours: Vec<String> = v["insufficient"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .map(|i| i["reason"].as_str().unwrap().to_string())
                        .collect();
                    if v["portConflicts"].as_array().is_some_and(|a| !a.is_empty()) {
                        ours.push(
                            "node(s) didn't have free ports for the requested pod ports".into(),
                        );
                    }
                    let theirs = node_reasons(msg);
                    assert!(!theirs.is_empty(), "{what}: no reason in {msg}");
                    for r in &theirs {
                        assert!(ours.contains(r), "{what}: the scheduler says {r:?} ({msg})");
                    }
                }
                "CreateRefused" => {
                    assert!(pod.is_none(), "{what}: but a pod exists");
                    assert!(refused.contains(name), "{what}: no FailedCreate event");
                }
                "RuntimeClassMismatch" => {
                    let p = pod.unwrap_or_else(|| panic!("{what}: the controller made no pod"));
                    assert!(
                        p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none(),
                        "{what}: pod was bound"
                    );
                    let msg = events
                        .get(p.metadata.name.as_deref().unwrap())
                        .unwrap_or_else(|| panic!("{what}: no event"));
                    // The RuntimeClass's nodeSelector is merged into the pod's (`RuntimeClass`
                    // admission): the scheduler words it as any selector.
                    assert!(
                        msg.contains("1 node(s) didn't match Pod's node affinity/selector"),
                        "{what}: the scheduler says {msg}"
                    );
                }
                "NodeSelectorMismatch"
                | "NodeAffinityMismatch"
                | "UntoleratedTaint"
                | "NodeNameMismatch" => {
                    assert!(pod.is_none(), "{what}: but a pod exists");
                }
                "ContainerWaiting" => {
                    let p = pod.unwrap_or_else(|| panic!("{what}: no pod"));
                    let reason = v["group"].as_str().unwrap();
                    let waiting = p
                        .status
                        .as_ref()
                        .and_then(|s| s.container_statuses.as_ref())
                        .and_then(|c| c.first())
                        .and_then(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
                    assert_eq!(waiting.as_deref(), Some(reason), "{what}");
                }
                other => panic!("{what}: unexpected verdict {other} in a settled scenario"),
            }
            all.insert(key, v.clone());
        }
    }
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verdicts_match_the_controller_and_scheduler() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    for n in [
        FakeNode::new("small-1").cpu("2").label("zone", "a"),
        FakeNode::new("small-2").cpu("2").label("zone", "b"),
        FakeNode::new("full-pods").pods(2),
        FakeNode::new("port-tcp"),
        FakeNode::new("port-udp"),
        FakeNode::new("port-ip"),
        FakeNode::new("gpu-1")
            .label("pool", "gpu")
            .extended("example.com/gpu", "1"),
        FakeNode::new("taint-ns").taint("dedicated", "x", "NoSchedule"),
        FakeNode::new("taint-ne").taint("edge", "", "NoExecute"),
        FakeNode::new("taint-pref").taint("soft", "", "PreferNoSchedule"),
        FakeNode::new("special").label("pool", "special"),
        FakeNode::new("cordoned").unschedulable(),
        FakeNode::new("sick").not_ready(),
    ] {
        add_node(&client, &n).await.expect("node");
    }
    let fillers = [
        common::filler("hog", "small-1", "1800m", ""),
        common::filler("f1", "full-pods", "10m", ""),
        common::filler("f2", "full-pods", "10m", ""),
        common::filler(
            "holds-tcp",
            "port-tcp",
            "10m",
            "{containerPort: 9100, hostPort: 9100}",
        ),
        common::filler(
            "holds-udp",
            "port-udp",
            "10m",
            "{containerPort: 9100, hostPort: 9100, protocol: UDP}",
        ),
        common::filler(
            "holds-ip",
            "port-ip",
            "10m",
            "{containerPort: 9100, hostPort: 9100, hostIP: 127.0.0.1}",
        ),
        common::filler("gpu-user", "gpu-1", "10m", "").replace(
            "requests: {cpu: '10m'}",
            "requests: {cpu: '10m', example.com/gpu: '1'}, limits: {example.com/gpu: '1'}",
        ),
    ];
    apply_yaml(&client, &fillers.join("---\n"))
        .await
        .expect("fillers");
    let fixed = [
        ("big-cpu", "containers: [{name: main, image: registry.example/agent:1, resources: {requests: {cpu: 500m}}}]".to_string()),
        ("hostport", "containers: [{name: main, image: registry.example/agent:1, ports: [{containerPort: 9100, hostPort: 9100}]}]".to_string()),
        ("gpu", "nodeSelector: {pool: gpu}\ncontainers: [{name: main, image: registry.example/agent:1, resources: {requests: {example.com/gpu: '1'}, limits: {example.com/gpu: '1'}}}]".to_string()),
        ("selector", "nodeSelector: {pool: special}".to_string()),
        ("affinity", "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]}}}".to_string()),
        ("tolerant", "tolerations: [{operator: Exists}]".to_string()),
        ("badimage", "containers: [{name: main, image: registry.example/bad-image:1}]".to_string()),
        ("crash", "containers: [{name: main, image: registry.example/crashloop:1}]".to_string()),
    ];
    let mut manifests = Vec::new();
    let mut names: Vec<(String, String)> = Vec::new();
    for (name, spec) in &fixed {
        let m = if spec.starts_with("containers:") || spec.contains("\ncontainers:") {
            // Replace the default container with the scenario's.
            daemonset(name, NS, "").replace("      containers:\n      - name: main\n        image: registry.example/agent:1\n", "").replace("    spec:\n", &format!("    spec:\n{}", spec.lines().map(|l| format!("      {l}\n")).collect::<String>()))
        } else {
            daemonset(name, NS, spec)
        };
        manifests.push(m);
        names.push((NS.to_string(), name.to_string()));
    }
    apply_yaml(&client, &manifests.join("---\n"))
        .await
        .expect("apply");
    wait_stable(&client, NS, Duration::from_secs(120)).await;
    wait_events(&client).await;
    let v = check_all(&tb, &client, &names).await;
    let code = |ds: &str, node: &str| {
        v[&(ds.to_string(), node.to_string())]["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(code("big-cpu", "small-1"), "InsufficientResources");
    assert_eq!(code("big-cpu", "small-2"), "Healthy");
    assert_eq!(code("big-cpu", "full-pods"), "InsufficientResources");
    assert_eq!(code("hostport", "port-tcp"), "HostPortConflict");
    assert_eq!(code("hostport", "port-ip"), "HostPortConflict");
    assert_eq!(code("hostport", "port-udp"), "Healthy");
    assert_eq!(code("gpu", "gpu-1"), "InsufficientResources");
    assert_eq!(code("selector", "small-1"), "NodeSelectorMismatch");
    assert_eq!(code("selector", "special"), "Healthy");
    assert_eq!(code("affinity", "small-2"), "NodeAffinityMismatch");
    assert_eq!(code("big-cpu", "taint-ns"), "UntoleratedTaint");
    assert_eq!(code("big-cpu", "taint-ne"), "UntoleratedTaint");
    assert_eq!(code("big-cpu", "taint-pref"), "Healthy");
    assert_eq!(code("big-cpu", "cordoned"), "Healthy");
    assert_eq!(code("big-cpu", "sick"), "UntoleratedTaint");
    assert_eq!(code("badimage", "small-2"), "ContainerWaiting");
    assert_eq!(code("crash", "small-2"), "ContainerWaiting");
    assert_eq!(
        v[&("big-cpu".to_string(), "small-1".to_string())]["preemption"]["verdict"],
        "WouldNotHelp"
    );

    // explain node: worst first, node notes, and only this node's pods are read.
    let node = kubectl_ds(tb.kubeconfig(), &["explain", "node", "small-1"]);
    assert_eq!(
        node.status.code(),
        Some(1),
        "problems found: {}",
        stderr(&node)
    );
    let text = stdout(&node);
    assert!(text.starts_with("Node small-1: Ready\n"), "{text}");
    let first_row = text.lines().nth(3).unwrap_or_default();
    assert!(
        first_row.contains("InsufficientResources"),
        "worst first: {text}"
    );
    assert!(
        text.contains(
            "Insufficient cpu (requests 500m, node has 2 allocatable with 1800m already requested)"
        ),
        "{text}"
    );
    // The scheduler's own word for the pod pending for this node comes along, verbatim.
    let small = json(
        tb.kubeconfig(),
        &["explain", "node", "small-1", "-o", "json"],
    );
    let big = small["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["daemonSet"] == "big-cpu")
        .unwrap_or_else(|| panic!("no big-cpu verdict: {small}"));
    let said = big["schedulerMessage"].as_str().unwrap_or_default();
    assert!(
        said.contains("Insufficient cpu"),
        "scheduler message missing: {big}"
    );
    let sick = json(tb.kubeconfig(), &["explain", "node", "sick", "-o", "json"]);
    assert_eq!(sick["nodeNotes"][0]["condition"], "NotReady");
    let cordoned = json(
        tb.kubeconfig(),
        &["explain", "node", "cordoned", "big-cpu", "-o", "json"],
    );
    assert_eq!(cordoned["nodeNotes"][0]["condition"], "Cordoned");
    assert_eq!(cordoned["verdicts"].as_array().unwrap().len(), 1);

    // explain ds: grouped with counts and example nodes.
    let grouped = kubectl_ds(tb.kubeconfig(), &["explain", "ds", "big-cpu"]);
    let text = stdout(&grouped);
    assert!(
        text.contains("UntoleratedTaint") && text.contains("taint dedicated=x:NoSchedule"),
        "{text}"
    );

    // Errors.
    let unknown = kubectl_ds(tb.kubeconfig(), &["explain", "node", "nope"]);
    assert_eq!(unknown.status.code(), Some(2));
    assert_eq!(
        stderr(&unknown),
        "error: node \"nope\" not found; check the name with `kubectl get nodes`\n"
    );
    let unknown_ds = kubectl_ds(tb.kubeconfig(), &["explain", "ds", "nope"]);
    assert_eq!(unknown_ds.status.code(), Some(2), "{}", stderr(&unknown_ds));

    // explain node reads that node, its pods (field selector) and the unscheduled pods, never
    // every pod or every node: its cost does not grow with the cluster.
    let auditor = tb
        .kubeconfig_for_user("auditor", &["system:masters"])
        .expect("auditor");
    json(
        &auditor,
        &["explain", "node", "small-2", "-A", "-o", "json"],
    );
    tokio::time::sleep(Duration::from_secs(1)).await;
    let requests: Vec<(String, String)> = tb
        .audit_events()
        .expect("audit")
        .iter()
        .filter(|e| e["user"]["username"] == "auditor" && e["stage"] == "ResponseComplete")
        .map(|e| {
            (
                e["verb"].as_str().unwrap_or("").to_string(),
                e["requestURI"].as_str().unwrap_or("").to_string(),
            )
        })
        .collect();
    assert!(!requests.is_empty());
    for (verb, uri) in &requests {
        if uri.contains("/pods") {
            assert!(
                uri.contains("fieldSelector=spec.nodeName"),
                "unfiltered pod list: {verb} {uri}"
            );
        }
        assert!(
            !(verb == "list" && uri.starts_with("/api/v1/nodes")),
            "listed every node: {uri}"
        );
    }

    // A user who may read only one namespace gets partial results with a note, not a failure.
    apply_yaml(
        &client,
        &format!(
            "apiVersion: v1\nkind: Namespace\nmetadata: {{name: team-a}}\n---\n{}",
            daemonset("team-agent", "team-a", "")
        ),
    )
    .await
    .expect("team-a");
    apply_yaml(
        &client,
        "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: node-reader}
rules:
- {apiGroups: [''], resources: [nodes, namespaces], verbs: [get, list, watch]}
- {apiGroups: [scheduling.k8s.io], resources: [priorityclasses], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: partial-nodes}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: node-reader}
subjects: [{kind: User, name: partial}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: reader, namespace: team-a}
rules:
- {apiGroups: [''], resources: [pods, events], verbs: [get, list, watch]}
- {apiGroups: [apps], resources: [daemonsets, controllerrevisions], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: reader, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: reader}
subjects: [{kind: User, name: partial}]
",
    )
    .await
    .expect("rbac");
    wait_stable(&client, "team-a", Duration::from_secs(60)).await;
    let partial = tb
        .kubeconfig_for_user("partial", &[])
        .expect("partial user");
    let report = json(
        &partial,
        &["explain", "node", "small-2", "-A", "-o", "json"],
    );
    let dss: Vec<&str> = report["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["daemonSet"].as_str().unwrap())
        .collect();
    assert_eq!(dss, ["team-agent"]);
    assert!(
        report["notes"][0]
            .as_str()
            .unwrap()
            .contains("in namespaces default, "),
        "{report}"
    );
    let text = kubectl_ds(&partial, &["explain", "node", "small-2", "-A"]);
    assert!(
        stdout(&text)
            .contains("note: not allowed to read DaemonSets or pods in namespaces default, "),
        "{}",
        stdout(&text)
    );

    // Randomised scenarios with a fixed seed: 30 DaemonSets with random requests, host ports,
    // selectors and tolerations on nodes with random capacity and fillers.
    let mut rng = Rng::new(4_2026);
    for i in 0..8 {
        let mut n = FakeNode::new(format!("r-{i}"))
            .cpu(*rng.pick(&["1", "2", "4"]))
            .pods(*rng.pick(&[6u32, 12, 40]))
            .label("rack", *rng.pick(&["x", "y"]));
        if rng.chance(25) {
            n = n.taint("team", *rng.pick(&["a", "b"]), "NoSchedule");
        }
        add_node(&client, &n).await.expect("random node");
        if rng.chance(50) {
            let port = if rng.chance(50) {
                "{containerPort: 7000, hostPort: 7000}"
            } else {
                ""
            };
            let cpu = ["300m", "800m"][rng.below(2)];
            apply_yaml(
                &client,
                &common::filler(&format!("rf-{i}"), &format!("r-{i}"), cpu, port),
            )
            .await
            .expect("filler");
        }
    }
    // What admission reads, a node for RuntimeClass kata, and a node full with a
    // lower-priority pod that only preemption moves.
    apply_yaml(&client, &common::admission_world("e"))
        .await
        .expect("admission objects");
    let namespaces = common::admission_namespaces("e");
    let namespaces: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    common::wait_default_service_accounts(&client, &namespaces).await;
    for n in [
        FakeNode::new("r-kata")
            .cpu("2")
            .label("rack", "x")
            .label("runtime", "kata"),
        FakeNode::new("r-prio").cpu("1").label("rack", "y"),
    ] {
        add_node(&client, &n).await.expect("node");
    }
    apply_yaml(
        &client,
        &common::priority_filler("r-low-hog", "r-prio", "low", "700m", ""),
    )
    .await
    .expect("filler");
    let mut random_names = Vec::new();
    let mut random = Vec::new();
    for i in 0..30 {
        let name = format!("rand-{i:02}");
        let cpu = rng.pick(&["10m", "100m", "250m", "600m"]);
        // What admission does to the pod: the namespace (LimitRange defaults, PodSecurity
        // baseline), ServiceAccount, priority, RuntimeClass, hostNetwork, privileged.
        let ns = *rng.pick(&namespaces);
        let mut container = String::from("{name: main, image: registry.example/agent:1");
        if !(ns == namespaces[1] && rng.chance(50)) {
            container.push_str(&format!(", resources: {{requests: {{cpu: {cpu}}}}}"));
        }
        if rng.chance(10) {
            container.push_str(", securityContext: {privileged: true}");
        }
        if rng.chance(20) {
            container.push_str(", ports: [{containerPort: 7000, hostPort: 7000}]");
        }
        container.push('}');
        let mut extra = common::admission_draws(&mut rng);
        if rng.chance(30) {
            extra.push_str(&format!(
                "nodeSelector: {{rack: {}}}\n",
                rng.pick(&["x", "y"])
            ));
        }
        if rng.chance(30) {
            extra.push_str(&format!(
                "tolerations: [{{key: team, operator: Equal, value: {}}}]\n",
                rng.pick(&["a", "b"])
            ));
        }
        let mut m = daemonset(&name, ns, &extra);
        m = m.replace(
            "      - name: main\n        image: registry.example/agent:1\n",
            &format!("      - {container}\n"),
        );
        // Only on the random nodes, so the fixed ones above keep their shape.
        m = m.replace("    spec:\n", "    spec:\n      affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: rack, operator: Exists}]}]}}}\n");
        random.push(m);
        random_names.push((ns.to_string(), name));
    }
    apply_yaml(&client, &random.join("---\n"))
        .await
        .expect("random daemonsets");
    wait_stable_everywhere(&client, Duration::from_secs(180)).await;
    wait_events(&client).await;
    let v = check_all(&tb, &client, &random_names).await;
    assert!(v.len() >= 200, "{} DaemonSet×node verdicts", v.len());
    let codes: std::collections::BTreeSet<&str> =
        v.values().filter_map(|x| x["code"].as_str()).collect();
    println!("random verdicts: {} ({codes:?})", v.len());
    for code in [
        "CreateRefused",
        "RuntimeClassMismatch",
        "InsufficientResources",
    ] {
        assert!(codes.contains(code), "{code} among {codes:?}");
    }
    // Preemption decided r-prio: the lower-priority filler made room for a daemon pod.
    let fillers: Api<Pod> = Api::namespaced(client.clone(), NS);
    assert!(
        fillers
            .get_opt("r-low-hog")
            .await
            .expect("filler")
            .is_none_or(|p| p.metadata.deletion_timestamp.is_some()),
        "r-low-hog was not preempted"
    );
    let problems = v
        .values()
        .filter(|x| x["code"] == "InsufficientResources" || x["code"] == "HostPortConflict")
        .count();
    assert!(
        problems > 0,
        "the random scenarios should include unplaceable nodes"
    );
}
