//! The scheduler filters beyond resources and ports as `preview` and `explain` model them:
//! InterPodAffinity, PodTopologySpread (DoNotSchedule), the volume filters (VolumeBinding with
//! WaitForFirstConsumer, VolumeZone, NodeVolumeLimits, VolumeRestrictions), DynamicResources and
//! pods nominated to the node, against what the real scheduler then does with the daemon pods:
//! the preview is taken, the DaemonSet applied, and every node's outcome compared, reason string
//! included.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::common::{Rng, daemonset, json_report, strings, wait_stable};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::api::ListParams;
use kubectl_ds_testbed::{FakeNode, Options, Testbed, add_node, apply_yaml};
use serde_json::Value;

const NS: &str = "default";

/// Every reason string we give for an unplaceable node.
fn our_reasons(u: &Value) -> Vec<String> {
    let mut out: Vec<String> = u["insufficient"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|i| i["reason"].as_str().unwrap_or("").to_string())
        .collect();
    if !u["portConflicts"].as_array().is_none_or(|a| a.is_empty()) {
        out.push("node(s) didn't have free ports for the requested pod ports".into());
    }
    out.extend(
        u["filters"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| f["reason"].as_str().unwrap_or("").to_string()),
    );
    out
}

/// Previews `manifest`, applies it, and checks preview and `explain ds` against the outcome.
/// Returns how many node verdicts were compared.
async fn check(tb: &Testbed, client: &kube::Client, name: &str, manifest: &str) -> usize {
    let file = tb.dir().join(format!("{name}.yaml"));
    std::fs::write(&file, manifest).unwrap();
    let report = json_report(
        tb.kubeconfig(),
        &["preview", "-f", file.to_str().unwrap(), "-o", "json"],
    );
    let p = report["items"][0].clone();
    assert!(
        p["notChecked"].is_null(),
        "{name}: preview left filters unchecked: {p}"
    );
    apply_yaml(client, manifest).await.expect("apply");
    wait_stable(client, NS, Duration::from_secs(120)).await;
    let (running, pending) = common::settled_placement(client, NS, name).await;
    assert_eq!(
        running,
        strings(&p["wouldRun"]),
        "{name}: bound pods vs wouldRun ({p})"
    );
    let unplaceable: BTreeMap<String, Value> = p["unplaceable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["node"].as_str().unwrap().to_string(), u.clone()))
        .collect();
    assert_eq!(
        pending.keys().cloned().collect::<BTreeSet<_>>(),
        unplaceable.keys().cloned().collect::<BTreeSet<_>>(),
        "{name}: Pending pods vs unplaceable ({p})"
    );
    for (node, msg) in &pending {
        let ours = our_reasons(&unplaceable[node]);
        assert!(
            // A filter's reason is counted per node; a PreFilter's is the whole message.
            ours.iter().any(
                |r| msg.contains(&format!("1 {r}")) || msg.contains(&format!("available: {r}"))
            ),
            "{name} on {node}: we said {ours:?}, the scheduler said {msg}"
        );
    }
    // explain ds gives the same reason, from the model rather than the event.
    let explained = json_report(tb.kubeconfig(), &["explain", "ds", name, "-o", "json"]);
    for v in explained["verdicts"].as_array().unwrap() {
        let node = v["node"].as_str().unwrap();
        if let Some(msg) = pending.get(node) {
            let code = v["code"].as_str().unwrap();
            if [
                "PodAffinityConflict",
                "TopologySpreadConflict",
                "VolumeConflict",
            ]
            .contains(&code)
            {
                let group = v["group"].as_str().unwrap();
                assert!(
                    msg.contains(&format!("1 {group}"))
                        || msg.contains(&format!("available: {group}")),
                    "{name} on {node}: explain said {v}, the scheduler said {msg}"
                );
            }
        }
    }
    running.len() + pending.len()
}

/// A pod bound straight to `node` with these labels and pod spec lines.
fn bound_pod(name: &str, node: &str, labels: &str, extra: &str) -> String {
    format!(
        "apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {NS}, labels: {{{labels}}}}}
spec:
  nodeName: {node}
  tolerations: [{{operator: Exists}}]
  containers: [{{name: main, image: registry.example/filler:1}}]
{extra}
"
    )
}

fn anti(key: &str, app: &str) -> String {
    format!(
        "  affinity: {{podAntiAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: [{{topologyKey: {key}, labelSelector: {{matchLabels: {{guarded: '{app}'}}}}}}]}}}}"
    )
}

fn with_labels(manifest: String, name: &str, labels: &str) -> String {
    manifest.replace(
        &format!("      labels: {{app: {name}}}\n"),
        &format!("      labels: {{app: {name}, {labels}}}\n"),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn affinity_and_spread_verdicts_equal_the_scheduler() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    for n in [
        FakeNode::new("a-1").label("zone", "a"),
        FakeNode::new("a-2").label("zone", "a"),
        FakeNode::new("b-1").label("zone", "b"),
        FakeNode::new("c-1").label("zone", "c"),
        FakeNode::new("bare"),
    ] {
        add_node(&client, &n).await.expect("node");
    }
    // A guard in zone a against `guarded: zone`, one on b-1 against `guarded: host`, a db pod
    // on b-1, and a pod counted by the `tier: edge` spread selector on c-1.
    apply_yaml(
        &client,
        &[
            bound_pod("zone-guard", "a-2", "app: guard", &anti("zone", "zone")),
            bound_pod(
                "host-guard",
                "b-1",
                "app: guard",
                &anti("kubernetes.io/hostname", "host"),
            ),
            bound_pod("db", "b-1", "app: db", ""),
            bound_pod("edge", "c-1", "tier: edge", ""),
        ]
        .join("---\n"),
    )
    .await
    .expect("pods");

    let spread = |extra: &str| {
        format!(
            "topologySpreadConstraints: [{{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {{matchLabels: {{tier: edge}}}}{extra}}}]"
        )
    };
    let scenarios: Vec<(&str, String)> = vec![
        // The first miss: existing pods' anti-affinity, by zone and by host.
        (
            "zone-guarded",
            with_labels(
                daemonset("zone-guarded", NS, ""),
                "zone-guarded",
                "guarded: zone",
            ),
        ),
        (
            "host-guarded",
            with_labels(
                daemonset("host-guarded", NS, ""),
                "host-guarded",
                "guarded: host",
            ),
        ),
        // The second: a node without the topology key of a DoNotSchedule constraint.
        (
            "spread",
            with_labels(daemonset("spread", NS, &spread("")), "spread", "tier: edge"),
        ),
        (
            "spread-min",
            with_labels(
                daemonset("spread-min", NS, &spread(", minDomains: 5")),
                "spread-min",
                "tier: edge",
            ),
        ),
        (
            "spread-soft",
            daemonset(
                "spread-soft",
                NS,
                "topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: spread-soft}}}]",
            ),
        ),
        (
            "away-from-db",
            daemonset(
                "away-from-db",
                NS,
                "affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: db}}}]}}",
            ),
        ),
        (
            "near-db",
            daemonset(
                "near-db",
                NS,
                "affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: db}}}]}}",
            ),
        ),
    ];
    let mut compared = 0;
    for (name, manifest) in &scenarios {
        compared += check(&tb, &client, name, manifest).await;
    }

    // explain node on the node without a zone: the spread filter's field and reason.
    let bare = json_report(tb.kubeconfig(), &["explain", "node", "bare", "-o", "json"]);
    let v = bare["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["daemonSet"] == "spread")
        .expect("spread verdict")
        .clone();
    assert_eq!(v["code"], "TopologySpreadConflict", "{v}");
    let f = v["filters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["plugin"] == "PodTopologySpread")
        .expect("spread filter");
    assert_eq!(f["status"], "reject");
    assert_eq!(
        f["reason"],
        "node(s) didn't match pod topology spread constraints (missing required label)"
    );

    assert!(compared >= 35, "{compared} node verdicts compared");

    // Randomised with a fixed seed: more nodes with or without zone and rack labels, guards
    // with anti-affinity by zone or host, and templates with anti-affinity, affinity and
    // spread constraints over pods that do not move (the DaemonSet's own pods would make the
    // outcome depend on the order the scheduler binds them in).
    let mut rng = Rng::new(17_2026);
    for i in 0..6 {
        let mut n = FakeNode::new(format!("r-{i}"));
        if rng.chance(70) {
            n = n.label("zone", *rng.pick(&["a", "b", "c"]));
        }
        if rng.chance(60) {
            n = n.label("rack", *rng.pick(&["x", "y"]));
        }
        add_node(&client, &n).await.expect("random node");
    }
    for i in 0..3 {
        let node = format!("r-{}", rng.below(6));
        let key = *rng.pick(&["zone", "rack", "kubernetes.io/hostname"]);
        let against = *rng.pick(&["zone", "host", "rack"]);
        apply_yaml(
            &client,
            &bound_pod(
                &format!("r-guard-{i}"),
                &node,
                "app: guard",
                &anti(key, against),
            ),
        )
        .await
        .expect("random guard");
    }
    wait_stable(&client, NS, Duration::from_secs(120)).await;
    let mut random = 0;
    for i in 0..16 {
        let name = format!("rand-{i}");
        let mut extra = String::new();
        let mut labels = String::new();
        if rng.chance(60) {
            labels = format!("guarded: {}", rng.pick(&["zone", "host", "rack", "none"]));
        }
        let key = *rng.pick(&["zone", "rack", "kubernetes.io/hostname"]);
        let other = *rng.pick(&["db", "guard", "edge"]);
        match rng.below(4) {
            0 => extra.push_str(&format!(
                "affinity: {{podAntiAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: [{{topologyKey: {key}, labelSelector: {{matchLabels: {{app: {other}}}}}}}]}}}}\n"
            )),
            1 => extra.push_str(&format!(
                "affinity: {{podAffinity: {{requiredDuringSchedulingIgnoredDuringExecution: [{{topologyKey: {key}, labelSelector: {{matchLabels: {{app: {other}}}}}}}]}}}}\n"
            )),
            2 => extra.push_str(&format!(
                "topologySpreadConstraints: [{{maxSkew: {}, topologyKey: {key}, whenUnsatisfiable: DoNotSchedule, labelSelector: {{matchLabels: {{app: {name}}}}}{}}}]\n",
                1 + rng.below(2),
                rng.pick(&["", ", minDomains: 3", ", nodeAffinityPolicy: Honor"])
            )),
            _ => extra.push_str(&format!(
                "topologySpreadConstraints: [{{maxSkew: 1, topologyKey: {key}, whenUnsatisfiable: DoNotSchedule, nodeAffinityPolicy: Ignore, labelSelector: {{matchLabels: {{tier: edge}}}}}}]\n"
            )),
        }
        let manifest = daemonset(&name, NS, &extra);
        let manifest = if labels.is_empty() {
            manifest
        } else {
            with_labels(manifest, &name, &labels)
        };
        random += check(&tb, &client, &name, &manifest).await;
    }
    assert!(random >= 170, "{random} randomised node verdicts compared");
    assert!(
        compared + random >= 200,
        "{} node verdicts compared",
        compared + random
    );

    // In-place resize: a pod whose status shows 1500m allocated, though its spec asks 500m,
    // leaves 500m of the node's 2 cpus, so an 800m daemon pod stays Pending.
    add_node(
        &client,
        &FakeNode::new("resized").cpu("2").label("pool", "resized"),
    )
    .await
    .expect("node");
    apply_yaml(&client, &common::filler("grown", "resized", "500m", ""))
        .await
        .expect("grown");
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    kubectl_ds_testbed::wait_for("grown running", Duration::from_secs(60), || async {
        let p = pods.get("grown").await?;
        let running = p.status.and_then(|s| s.phase).as_deref() == Some("Running");
        Ok::<_, kube::Error>(running.then_some(()))
    })
    .await
    .expect("grown running");
    let status = serde_json::json!({"status": {"containerStatuses": [{
        "name": "main", "image": "registry.example/filler:1", "imageID": "", "ready": true,
        "restartCount": 0, "state": {"running": {}},
        "allocatedResources": {"cpu": "1500m"},
        "resources": {"requests": {"cpu": "1500m"}}
    }]}});
    pods.patch_status(
        "grown",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(&status),
    )
    .await
    .expect("resize status");
    let sized = daemonset("after-resize", NS, "nodeSelector: {pool: resized}").replace(
        "        image: registry.example/agent:1\n",
        "        image: registry.example/agent:1\n        resources: {requests: {cpu: 800m}}\n",
    );
    check(&tb, &client, "after-resize", &sized).await;
    let resized = json_report(
        tb.kubeconfig(),
        &["explain", "node", "resized", "after-resize", "-o", "json"],
    );
    let v = &resized["verdicts"][0];
    assert_eq!(v["code"], "InsufficientResources", "{v}");
    assert_eq!(v["insufficient"][0]["used"], "1500m", "{v}");

    // A template whose claim does not exist: VolumeRestrictions' PreFilter stops it with the
    // lister's message, as the scheduler does.
    let claimed = daemonset(
        "claimed",
        NS,
        "nodeSelector: {pool: resized}\nvolumes: [{name: data, persistentVolumeClaim: {claimName: shared}}]",
    );
    check(&tb, &client, "claimed", &claimed).await;
    let explained = json_report(tb.kubeconfig(), &["explain", "ds", "claimed", "-o", "json"]);
    let v = explained["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["node"] == "resized")
        .expect("verdict");
    assert_eq!(v["code"], "VolumeConflict", "{v}");
    let f = v["filters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["plugin"] == "VolumeRestrictions")
        .expect("filter");
    assert_eq!(
        f["reason"], "persistentvolumeclaim \"shared\" not found",
        "{v}"
    );
    let allocated = pods.get("grown").await.expect("grown");
    assert!(
        serde_json::to_string(&allocated.status)
            .unwrap()
            .contains("1500m"),
        "the resize status was kept: {:?}",
        allocated.status
    );
}

/// A PersistentVolume in `class` with these spec lines, `hostPath` unless `csi:` is given.
fn volume(name: &str, labels: &str, spec: &str) -> String {
    let source = if spec.contains("csi:") {
        String::new()
    } else {
        format!("  hostPath: {{path: /tmp/{name}}}\n")
    };
    format!(
        "apiVersion: v1
kind: PersistentVolume
metadata: {{name: {name}, labels: {{{labels}}}}}
spec:
  capacity: {{storage: 1Gi}}
  storageClassName: local
{source}{spec}
"
    )
}

/// A claim bound to `pv` as the PersistentVolume controller leaves it
/// (`pv.kubernetes.io/bind-completed`), or unbound in `class` for an empty `pv`.
fn claim(name: &str, pv: &str, modes: &str, class: &str) -> String {
    let (annotations, volume) = if pv.is_empty() {
        (String::new(), String::new())
    } else {
        (
            "  annotations: {pv.kubernetes.io/bind-completed: \"yes\"}\n".to_string(),
            format!("  volumeName: {pv}\n"),
        )
    };
    format!(
        "apiVersion: v1
kind: PersistentVolumeClaim
metadata:
  name: {name}
  namespace: {NS}
{annotations}spec:
  accessModes: [{modes}]
  storageClassName: {class}
  resources: {{requests: {{storage: 1Gi}}}}
{volume}"
    )
}

fn claim_ref(claim: &str) -> String {
    format!("  claimRef: {{namespace: {NS}, name: {claim}}}\n")
}

fn mounting(name: &str, claim: &str) -> String {
    daemonset(
        name,
        NS,
        &format!(
            "nodeSelector: {{pool: vol}}\nvolumes: [{{name: data, persistentVolumeClaim: {{claimName: {claim}}}}}]"
        ),
    )
}

/// The storage objects the scheduler reads, built on the testbed without any volume driver:
/// a PV's node affinity, a PV's zone label, CSINode volume limits, a ReadWriteOncePod claim
/// in use and an unbound Immediate claim, each compared with what the scheduler does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn volume_verdicts_equal_the_scheduler() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    for (n, zone) in [("v-1", "a"), ("v-2", "b"), ("v-3", "a")] {
        let node = FakeNode::new(n)
            .label("pool", "vol")
            .label("topology.kubernetes.io/zone", zone);
        add_node(&client, &node).await.expect("node");
    }
    let zone_a = "  nodeAffinity: {required: {nodeSelectorTerms: [{matchExpressions: [{key: topology.kubernetes.io/zone, operator: In, values: [a]}]}]}}\n";
    let csi =
        |handle: &str| format!("  csi: {{driver: csi.example.com, volumeHandle: {handle}}}\n");
    let objects = [
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: local}\nprovisioner: kubernetes.io/no-provisioner\nvolumeBindingMode: WaitForFirstConsumer\n".to_string(),
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: immediate}\nprovisioner: csi.example.com\nvolumeBindingMode: Immediate\n".to_string(),
        volume("pv-affine", "", &format!("  accessModes: [ReadWriteMany]\n{zone_a}{}", claim_ref("affine"))),
        claim("affine", "pv-affine", "ReadWriteMany", "local"),
        volume("pv-zoned", "topology.kubernetes.io/zone: b", &format!("  accessModes: [ReadWriteMany]\n{}", claim_ref("zoned"))),
        claim("zoned", "pv-zoned", "ReadWriteMany", "local"),
        volume("pv-csi", "", &format!("  accessModes: [ReadWriteMany]\n{}{}", csi("h-csi"), claim_ref("counted"))),
        claim("counted", "pv-csi", "ReadWriteMany", "local"),
        volume("pv-used", "", &format!("  accessModes: [ReadWriteOnce]\n{}{}", csi("h-used"), claim_ref("used"))),
        claim("used", "pv-used", "ReadWriteOnce", "local"),
        volume("pv-solo", "", &format!("  accessModes: [ReadWriteOncePod]\n{}", claim_ref("solo"))),
        claim("solo", "pv-solo", "ReadWriteOncePod", "local"),
        claim("later", "", "ReadWriteMany", "immediate"),
        // Limits as the kubelet's CSI plugin manager would register them.
        "apiVersion: storage.k8s.io/v1\nkind: CSINode\nmetadata: {name: v-1}\nspec: {drivers: [{name: csi.example.com, nodeID: v-1, allocatable: {count: 1}}]}\n".to_string(),
        "apiVersion: storage.k8s.io/v1\nkind: CSINode\nmetadata: {name: v-2}\nspec: {drivers: [{name: csi.example.com, nodeID: v-2, allocatable: {count: 4}}]}\n".to_string(),
        bound_pod("uses-csi", "v-1", "app: user", "  volumes: [{name: d, persistentVolumeClaim: {claimName: used}}]"),
        bound_pod("holds-solo", "v-3", "app: user", "  volumes: [{name: d, persistentVolumeClaim: {claimName: solo}}]"),
    ];
    apply_yaml(&client, &objects.join("---\n"))
        .await
        .expect("storage objects");
    wait_stable(&client, NS, Duration::from_secs(120)).await;

    let mut compared = 0;
    // VolumeBinding: the bound PV's node affinity allows zone a only.
    compared += check(&tb, &client, "affine", &mounting("affine", "affine")).await;
    // VolumeZone: the PV is labelled zone b.
    compared += check(&tb, &client, "zoned", &mounting("zoned", "zoned")).await;
    // NodeVolumeLimits: v-1 allows one csi.example.com volume and uses-csi holds it.
    compared += check(&tb, &client, "counted", &mounting("counted", "counted")).await;
    // VolumeRestrictions: holds-solo already uses the ReadWriteOncePod claim.
    compared += check(&tb, &client, "solo", &mounting("solo", "solo")).await;
    // VolumeBinding PreFilter: an Immediate claim the PV controller has not bound.
    compared += check(&tb, &client, "later", &mounting("later", "later")).await;
    assert_eq!(compared, 15, "node verdicts compared");
    let random = random_claim_templates(&tb, &client).await;
    assert!(random >= 200, "{random} randomised node verdicts compared");

    // explain node -o json names each volume filter with the scheduler's reason.
    let v1 = json_report(tb.kubeconfig(), &["explain", "node", "v-1", "-o", "json"]);
    let filter = |ds: &str, plugin: &str| {
        let v = v1["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["daemonSet"] == ds)
            .unwrap_or_else(|| panic!("{ds} verdict in {v1}"))
            .clone();
        let f = v["filters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["plugin"] == plugin)
            .unwrap_or_else(|| panic!("{plugin} in {v}"))
            .clone();
        (v, f)
    };
    let (v, f) = filter("counted", "NodeVolumeLimits");
    assert_eq!(v["code"], "VolumeConflict", "{v}");
    assert_eq!(f["reason"], "node(s) exceed max volume count", "{f}");
    let (_, f) = filter("solo", "VolumeRestrictions");
    assert_eq!(
        f["status"], "notChecked",
        "explain node reads only v-1's pods: {f}"
    );
    let (v, f) = filter("zoned", "VolumeZone");
    assert_eq!(v["code"], "VolumeConflict", "{v}");
    assert_eq!(f["reason"], "node(s) had no available volume zone", "{f}");
    let (_, f) = filter("zoned", "VolumeBinding");
    assert_eq!(f["status"], "pass", "{f}");
}

/// Randomised with a fixed seed: more nodes with or without a zone and with CSINode limits of
/// 0 to 2, and templates mounting one or two of the claims (bound with node affinity or a
/// zone, CSI-backed, ReadWriteOncePod in use, unbound Immediate, missing). Every node of every
/// DaemonSet is compared with the scheduler. Returns how many.
async fn random_claim_templates(tb: &Testbed, client: &kube::Client) -> usize {
    let mut rng = Rng::new(17_2027);
    let mut objects = vec![
        volume(
            "pv-csi2",
            "",
            "  accessModes: [ReadWriteMany]\n  csi: {driver: csi.example.com, volumeHandle: h-csi2}\n  claimRef: {namespace: default, name: counted2}\n",
        ),
        claim("counted2", "pv-csi2", "ReadWriteMany", "local"),
    ];
    for i in 0..6 {
        let name = format!("rv-{i}");
        let mut node = FakeNode::new(&name).label("pool", "vol");
        if rng.chance(70) {
            node = node.label("topology.kubernetes.io/zone", *rng.pick(&["a", "b"]));
        }
        add_node(client, &node).await.expect("random node");
        if rng.chance(70) {
            objects.push(format!(
                "apiVersion: storage.k8s.io/v1\nkind: CSINode\nmetadata: {{name: {name}}}\nspec: {{drivers: [{{name: csi.example.com, nodeID: {name}, allocatable: {{count: {}}}}}]}}\n",
                rng.below(3)
            ));
        }
    }
    apply_yaml(client, &objects.join("---\n"))
        .await
        .expect("random storage objects");
    wait_stable(client, NS, Duration::from_secs(120)).await;
    let claims = [
        "affine", "zoned", "counted", "counted2", "solo", "later", "ghost",
    ];
    let mut compared = 0;
    for i in 0..23 {
        let name = format!("rvol-{i}");
        let mut picked = vec![*rng.pick(&claims)];
        if rng.chance(40) {
            let second = *rng.pick(&claims);
            if !picked.contains(&second) {
                picked.push(second);
            }
        }
        let volumes: Vec<String> = picked
            .iter()
            .enumerate()
            .map(|(k, c)| format!("{{name: v{k}, persistentVolumeClaim: {{claimName: {c}}}}}"))
            .collect();
        let manifest = daemonset(
            &name,
            NS,
            &format!(
                "nodeSelector: {{pool: vol}}\nvolumes: [{}]",
                volumes.join(", ")
            ),
        );
        compared += check(tb, client, &name, &manifest).await;
    }
    compared
}

/// DynamicResources on API objects alone (no DRA driver runs): a DeviceClass that maps the
/// extended resource `example.com/gpu`, ResourceSlices with two devices on d-1 and one on d-2,
/// none on d-3. A DaemonSet asking two `example.com/gpu` (which no node advertises), then one
/// whose claim template asks one device of the class, each compared with the scheduler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn device_verdicts_equal_the_scheduler() {
    let tb = Testbed::start(Options {
        extra_controllers: vec!["resourceclaim-controller"],
        ..Options::default()
    })
    .await
    .expect("testbed");
    let client = tb.client().await.expect("client");
    for n in ["d-1", "d-2", "d-3"] {
        add_node(&client, &FakeNode::new(n).label("pool", "dra"))
            .await
            .expect("node");
    }
    let slice = |node: &str, devices: usize| {
        let list: Vec<String> = (0..devices).map(|i| format!("{{name: gpu-{i}}}")).collect();
        format!(
            "apiVersion: resource.k8s.io/v1\nkind: ResourceSlice\nmetadata: {{name: {node}-gpus}}\nspec: {{driver: gpu.example.com, nodeName: {node}, pool: {{name: {node}, generation: 1, resourceSliceCount: 1}}, devices: [{}]}}\n",
            list.join(", ")
        )
    };
    let objects = [
        "apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata: {name: gpu.example.com}\nspec: {extendedResourceName: example.com/gpu, selectors: [{cel: {expression: 'device.driver == \"gpu.example.com\"'}}]}\n".to_string(),
        slice("d-1", 2),
        slice("d-2", 1),
        format!("apiVersion: resource.k8s.io/v1\nkind: ResourceClaimTemplate\nmetadata: {{name: one-gpu, namespace: {NS}}}\nspec: {{spec: {{devices: {{requests: [{{name: gpu, exactly: {{deviceClassName: gpu.example.com}}}}]}}}}}}\n"),
    ];
    apply_yaml(&client, &objects.join("---\n"))
        .await
        .expect("dra objects");
    let extended = daemonset("ext-gpu", NS, "nodeSelector: {pool: dra}").replace(
        "        image: registry.example/agent:1\n",
        "        image: registry.example/agent:1\n        resources: {requests: {example.com/gpu: 2}, limits: {example.com/gpu: 2}}\n",
    );
    let mut compared = check(&tb, &client, "ext-gpu", &extended).await;
    let templated = daemonset(
        "tpl-gpu",
        NS,
        "nodeSelector: {pool: dra}\nresourceClaims: [{name: gpu, resourceClaimTemplateName: one-gpu}]",
    )
    .replace(
        "        image: registry.example/agent:1\n",
        "        image: registry.example/agent:1\n        resources: {claims: [{name: gpu}]}\n",
    );
    compared += check(&tb, &client, "tpl-gpu", &templated).await;
    assert_eq!(compared, 6, "node verdicts compared");
    shared_and_missing_claims(&tb, &client).await;
}

/// A DaemonSet naming a ResourceClaim that does not exist, then one whose pods all name one
/// claim (`resourceClaimName`) of a NIC class whose one device is on d-1: the pod on d-1
/// allocates the claim there, and the others then find it out of reach.
async fn shared_and_missing_claims(tb: &Testbed, client: &kube::Client) {
    let named = |name: &str, claim: &str| {
        daemonset(
            name,
            NS,
            &format!("nodeSelector: {{pool: dra}}\nresourceClaims: [{{name: gpu, resourceClaimName: {claim}}}]"),
        )
        .replace(
            "        image: registry.example/agent:1\n",
            "        image: registry.example/agent:1\n        resources: {claims: [{name: gpu}]}\n",
        )
    };
    // The scheduler's PreEnqueue gates every pod with the assume cache's message: no
    // scheduling attempt, so no FailedScheduling event, and no pod is bound.
    let missing = named("missing-gpu", "ghost");
    let file = tb.dir().join("missing-gpu.yaml");
    std::fs::write(&file, &missing).unwrap();
    let p = json_report(
        tb.kubeconfig(),
        &["preview", "-f", file.to_str().unwrap(), "-o", "json"],
    )["items"][0]
        .clone();
    assert!(p["wouldRun"].as_array().is_none_or(|a| a.is_empty()), "{p}");
    for n in ["d-1", "d-2", "d-3"] {
        assert_eq!(
            filter_reason(&p["unplaceable"], n, "DynamicResources"),
            "could not find ResourceClaim \"default/ghost\"",
            "{n}: {p}"
        );
    }
    apply_yaml(client, &missing).await.expect("apply");
    wait_stable(client, NS, Duration::from_secs(120)).await;
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let gated = pods
        .list(&ListParams::default().labels("app=missing-gpu"))
        .await
        .expect("pods");
    let events: Api<Event> = Api::namespaced(client.clone(), NS);
    let attempted: Vec<String> = events
        .list(&ListParams::default().fields("reason=FailedScheduling"))
        .await
        .expect("events")
        .items
        .into_iter()
        .filter_map(|e| e.involved_object.name)
        .filter(|n| n.starts_with("missing-gpu-"))
        .collect();
    assert!(attempted.is_empty(), "scheduling attempts: {attempted:?}");
    assert_eq!(gated.items.len(), 3);
    for p in &gated.items {
        let status = p.status.clone().unwrap_or_default();
        assert!(
            p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none()
                && status.conditions.as_ref().is_none_or(|c| c.is_empty()),
            "gated before any attempt: {status:?}"
        );
    }
    // explain gives the gate's reason from the model, with no scheduler message to quote.
    let explained = json_report(
        tb.kubeconfig(),
        &["explain", "ds", "missing-gpu", "-o", "json"],
    );
    for n in ["d-1", "d-2", "d-3"] {
        let v = explained["verdicts"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|v| v["node"] == n)
            .unwrap_or_else(|| panic!("{n} in {explained}"));
        assert_eq!(v["code"], "DeviceUnavailable", "{v}");
        assert_eq!(
            filter_reason(&explained["verdicts"], n, "DynamicResources"),
            "could not find ResourceClaim \"default/ghost\"",
            "{v}"
        );
    }

    apply_yaml(
        client,
        &[
            "apiVersion: resource.k8s.io/v1\nkind: DeviceClass\nmetadata: {name: nic.example.com}\nspec: {selectors: [{cel: {expression: 'device.driver == \"nic.example.com\"'}}]}\n".to_string(),
            "apiVersion: resource.k8s.io/v1\nkind: ResourceSlice\nmetadata: {name: d-1-nics}\nspec: {driver: nic.example.com, nodeName: d-1, pool: {name: d-1, generation: 1, resourceSliceCount: 1}, devices: [{name: nic-0}]}\n".to_string(),
            format!("apiVersion: resource.k8s.io/v1\nkind: ResourceClaim\nmetadata: {{name: shared-nic, namespace: {NS}}}\nspec: {{devices: {{requests: [{{name: nic, exactly: {{deviceClassName: nic.example.com}}}}]}}}}\n"),
        ]
        .join("---\n"),
    )
    .await
    .expect("shared claim");
    let manifest = named("shares-gpu", "shared-nic");
    let file = tb.dir().join("shares-gpu.yaml");
    std::fs::write(&file, &manifest).unwrap();
    let preview = || {
        json_report(
            tb.kubeconfig(),
            &["preview", "-f", file.to_str().unwrap(), "-o", "json"],
        )["items"][0]
            .clone()
    };
    let before = preview();
    let unchecked: Vec<&Value> = before["notChecked"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|n| n["plugin"] == "DynamicResources")
        .collect();
    assert_eq!(unchecked.len(), 1, "{before}");
    assert_eq!(
        unchecked[0]["nodes"],
        serde_json::json!(["d-1"]),
        "{before}"
    );
    for n in ["d-2", "d-3"] {
        assert_eq!(
            filter_reason(&before["unplaceable"], n, "DynamicResources"),
            "cannot allocate all claims",
            "{n}: {before}"
        );
    }
    apply_yaml(client, &manifest).await.expect("apply");
    wait_stable(client, NS, Duration::from_secs(120)).await;
    let (running, _) = common::settled_placement(client, NS, "shares-gpu").await;
    assert_eq!(
        running,
        ["d-1".to_string()].into(),
        "the pod on d-1 allocates the claim"
    );
    let out_of_reach = "resourceclaim not available on the node";
    let messages = latest_messages(client, "shares-gpu", out_of_reach).await;
    assert_eq!(
        messages.keys().cloned().collect::<BTreeSet<_>>(),
        ["d-2", "d-3"].map(String::from).into(),
        "{messages:?}"
    );
    let after = preview();
    assert!(after["notChecked"].is_null(), "{after}");
    assert_eq!(after["wouldRun"], serde_json::json!(["d-1"]), "{after}");
    let explained = json_report(
        tb.kubeconfig(),
        &["explain", "ds", "shares-gpu", "-o", "json"],
    );
    for n in ["d-2", "d-3"] {
        assert_eq!(
            filter_reason(&after["unplaceable"], n, "DynamicResources"),
            out_of_reach,
            "{n}: {after}"
        );
        assert_eq!(
            filter_reason(&explained["verdicts"], n, "DynamicResources"),
            out_of_reach,
            "{n}: {explained}"
        );
    }
}

/// The `PriorityClass`es of the nomination scenario, and a pod of `class` asking `cpu`:
/// bound to `node` (no scheduler) or, with an empty `node`, left to the scheduler on the
/// `pool: nom` node; `extra` goes under `metadata`.
fn prioritised(name: &str, class: &str, cpu: &str, node: &str, extra: &str) -> String {
    let placement = if node.is_empty() {
        "nodeSelector: {pool: nom}".to_string()
    } else {
        format!("nodeName: {node}")
    };
    format!(
        "apiVersion: v1
kind: Pod
metadata:
  name: {name}
  namespace: {NS}
{extra}spec:
  {placement}
  priorityClassName: {class}
  tolerations: [{{operator: Exists}}]
  containers:
  - name: main
    image: registry.example/filler:1
    resources: {{requests: {{cpu: '{cpu}'}}}}
"
    )
}

/// `RunFilterPluginsWithNominatedPods` on the testbed: a low-priority victim held Terminating
/// by a finalizer, a high-priority pod that preempted it and waits nominated to the node
/// (`PodEligibleToPreemptOthers` keeps the nomination while a lower-priority victim
/// terminates there), and a DaemonSet whose pod fits beside the victim but not beside the
/// victim and the nominated pod. preview and explain are compared with the scheduler before
/// and after the finalizer goes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nominated_pods_hold_their_room_as_the_scheduler_does() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    add_node(
        &client,
        &FakeNode::new("nom-1").cpu("4").label("pool", "nom"),
    )
    .await
    .expect("node");
    let classes = "apiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: low}\nvalue: 10\n---\napiVersion: scheduling.k8s.io/v1\nkind: PriorityClass\nmetadata: {name: high}\nvalue: 1000\n";
    let hold = "  finalizers: [testbed.kubectl-ds/hold]\n";
    apply_yaml(
        &client,
        &format!(
            "{classes}---\n{}",
            prioritised("victim", "low", "2", "nom-1", hold)
        ),
    )
    .await
    .expect("victim");
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    kubectl_ds_testbed::wait_for("victim running", Duration::from_secs(60), || async {
        let p = pods.get("victim").await?;
        let running = p.status.and_then(|s| s.phase).as_deref() == Some("Running");
        Ok::<_, kube::Error>(running.then_some(()))
    })
    .await
    .expect("victim running");
    // 2 + 3 cpus do not fit in 4: the scheduler preempts the victim, which the finalizer
    // keeps on the node.
    apply_yaml(&client, &prioritised("preemptor", "high", "3", "", ""))
        .await
        .expect("preemptor");
    kubectl_ds_testbed::wait_for("the nomination", Duration::from_secs(60), || async {
        let victim = pods.get("victim").await?;
        let p = pods.get("preemptor").await?;
        let nominated = p.status.and_then(|s| s.nominated_node_name);
        let held = victim.metadata.deletion_timestamp.is_some() && nominated.is_some();
        Ok::<_, kube::Error>(held.then_some(()))
    })
    .await
    .expect("the preemptor nominated while the victim terminates");

    // 2 + 1 fit, 2 + 3 + 1 do not: the daemon pod waits with "Insufficient cpu".
    let manifest = daemonset(
        "beside-nominated",
        NS,
        "nodeSelector: {pool: nom}\npriorityClassName: low",
    )
    .replace(
        "        image: registry.example/agent:1\n",
        "        image: registry.example/agent:1\n        resources: {requests: {cpu: '1'}}\n",
    );
    assert_eq!(
        check(&tb, &client, "beside-nominated", &manifest).await,
        1,
        "one node verdict compared"
    );
    let explained = json_report(
        tb.kubeconfig(),
        &["explain", "node", "nom-1", "beside-nominated", "-o", "json"],
    );
    let v = &explained["verdicts"][0];
    assert_eq!(v["code"], "InsufficientResources", "{v}");
    assert_eq!(v["nominated"], serde_json::json!(["preemptor"]), "{v}");
    assert_eq!(v["insufficient"][0]["reason"], "Insufficient cpu", "{v}");
    assert_eq!(v["insufficient"][0]["used"], "5", "{v}");
    let preemptor = pods.get("preemptor").await.expect("preemptor");
    assert!(
        preemptor.spec.and_then(|s| s.node_name).is_none(),
        "the preemptor is still waiting"
    );

    // Without the finalizer the victim goes: the preemptor binds and the daemon pod fits
    // beside it (3 + 1 of 4).
    pods.patch(
        "victim",
        &kube::api::PatchParams::default(),
        &kube::api::Patch::Merge(serde_json::json!({"metadata": {"finalizers": null}})),
    )
    .await
    .expect("finalizer removed");
    kubectl_ds_testbed::wait_for("both pods bound", Duration::from_secs(60), || async {
        let listed = pods.list(&ListParams::default()).await?;
        let bound = |p: &Pod| p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_some();
        let preemptor = listed
            .items
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some("preemptor") && bound(p));
        let daemon = listed.items.iter().any(|p| {
            p.metadata
                .name
                .as_deref()
                .is_some_and(|n| n.starts_with("beside-nominated-"))
                && bound(p)
        });
        let victim = listed
            .items
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some("victim"));
        Ok::<_, kube::Error>((preemptor && daemon && !victim).then_some(()))
    })
    .await
    .expect("the preemptor and the daemon pod bound once the victim is gone");
    wait_stable(&client, NS, Duration::from_secs(60)).await;
    let explained = json_report(
        tb.kubeconfig(),
        &["explain", "node", "nom-1", "beside-nominated", "-o", "json"],
    );
    let v = &explained["verdicts"][0];
    assert!(v["nominated"].is_null(), "{v}");
    assert!(v["insufficient"].is_null(), "{v}");
    assert_eq!(v["node"], "nom-1", "{v}");
    let file = tb.dir().join("beside-nominated.yaml");
    let report = json_report(
        tb.kubeconfig(),
        &["preview", "-f", file.to_str().unwrap(), "-o", "json"],
    );
    let p = &report["items"][0];
    assert_eq!(p["wouldRun"], serde_json::json!(["nom-1"]), "{p}");
    assert!(
        p["unplaceable"].as_array().is_none_or(|a| a.is_empty()),
        "{p}"
    );
}

/// When an event last happened: the newest of its series, its eventTime and lastTimestamp
/// (RFC 3339 strings, which sort by time).
fn newest_time(e: &Event) -> String {
    let series = e
        .series
        .as_ref()
        .and_then(|s| s.last_observed_time.as_ref());
    [
        series.map(serde_json::to_value),
        e.event_time.as_ref().map(serde_json::to_value),
        e.last_timestamp.as_ref().map(serde_json::to_value),
    ]
    .into_iter()
    .flatten()
    .filter_map(|v| v.ok()?.as_str().map(str::to_string))
    .max()
    .unwrap_or_default()
}

/// The message of the newest FailedScheduling event of each Pending pod of DaemonSet `name`,
/// by node, once every one of them contains `expected`.
async fn latest_messages(
    client: &kube::Client,
    name: &str,
    expected: &str,
) -> BTreeMap<String, String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let events: Api<Event> = Api::namespaced(client.clone(), NS);
    let mut last = BTreeMap::new();
    for round in 0..120 {
        let mut newest: BTreeMap<String, (String, String)> = BTreeMap::new();
        for e in events
            .list(&ListParams::default().fields("reason=FailedScheduling"))
            .await
            .expect("events")
            .items
        {
            let when = newest_time(&e);
            let pod = e.involved_object.name.unwrap_or_default();
            let message = e.message.unwrap_or_default();
            if newest.get(&pod).is_none_or(|(w, _)| *w <= when) {
                newest.insert(pod, (when, message));
            }
        }
        last = BTreeMap::new();
        let mut stale = Vec::new();
        for p in pods
            .list(&ListParams::default().labels(&format!("app={name}")))
            .await
            .expect("pods")
            .items
        {
            if p.spec.as_ref().and_then(|s| s.node_name.as_ref()).is_none() {
                let pod = p.metadata.name.clone().unwrap_or_default();
                let message = newest.get(&pod).map(|(_, m)| m.clone()).unwrap_or_default();
                let node = common::pod_node(&p).unwrap_or_default();
                if !message.contains(expected) {
                    stale.push(node.clone());
                }
                last.insert(node, message);
            }
        }
        // The scheduler's queueing hints may skip a Pending pod on the change that made its
        // message stale, leaving it for the five-minute flush of unschedulable pods. A label
        // change of its node requeues it (VolumeBinding and NodeAffinity register for node
        // label updates), so ask again every 5 s; the label plays no part in any placement.
        if round % 10 == 9 {
            let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
            for node in &stale {
                let nudge = serde_json::json!({"metadata": {"labels": {"testbed.kubectl-ds/retry": round.to_string()}}});
                nodes
                    .patch(
                        node,
                        &kube::api::PatchParams::default(),
                        &kube::api::Patch::Merge(&nudge),
                    )
                    .await
                    .expect("label the pending pod's node");
            }
        }
        if last.values().all(|m| m.contains(expected)) {
            return last;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    panic!("{name}: the scheduler's newest messages are {last:?}, not all {expected:?}");
}

/// The reason of `plugin` in the `filters[]` of `report`'s entry for `node`.
fn filter_reason(entries: &Value, node: &str, plugin: &str) -> String {
    entries
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["node"] == node)
        .flat_map(|e| e["filters"].as_array().cloned().unwrap_or_default())
        .find(|f| f["plugin"] == plugin)
        .and_then(|f| f["reason"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// VolumeBinding with WaitForFirstConsumer on static PersistentVolumes (`FindPodVolumes`,
/// `findMatchingVolumes`, `checkBoundClaims`), with the PersistentVolume controller running so
/// PVs become Available and the scheduler's binding completes. A claim no PV can hold is
/// rejected on every node; a claim the zone-a PV can hold runs in zone a only, the scheduler
/// binds it, and the other nodes then fail on the PV's node affinity.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wait_for_first_consumer_verdicts_equal_the_scheduler() {
    let tb = Testbed::start(Options {
        extra_controllers: vec!["persistentvolume-binder-controller"],
        ..Options::default()
    })
    .await
    .expect("testbed");
    let client = tb.client().await.expect("client");
    for (n, zone) in [("w-1", "a"), ("w-2", "b"), ("w-3", "a"), ("w-4", "")] {
        let mut node = FakeNode::new(n).label("pool", "vol");
        if !zone.is_empty() {
            node = node.label("topology.kubernetes.io/zone", zone);
        }
        add_node(&client, &node).await.expect("node");
    }
    let affinity = |zone: &str| {
        format!(
            "  accessModes: [ReadWriteOnce]\n  nodeAffinity: {{required: {{nodeSelectorTerms: [{{matchExpressions: [{{key: topology.kubernetes.io/zone, operator: In, values: [{zone}]}}]}}]}}}}\n"
        )
    };
    let sized =
        |claim: String, size: &str| claim.replace("storage: 1Gi", &format!("storage: {size}"));
    let objects = [
        "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: local}\nprovisioner: kubernetes.io/no-provisioner\nvolumeBindingMode: WaitForFirstConsumer\n".to_string(),
        volume("pv-wait-a", "", &affinity("a")),
        sized(volume("pv-wait-b", "", &affinity("b")), "100Mi"),
        sized(claim("nowhere", "", "ReadWriteOnce", "local"), "5Gi"),
        claim("first", "", "ReadWriteOnce", "local"),
    ];
    apply_yaml(&client, &objects.join("---\n"))
        .await
        .expect("storage objects");
    let volumes: Api<k8s_openapi::api::core::v1::PersistentVolume> = Api::all(client.clone());
    kubectl_ds_testbed::wait_for("PVs available", Duration::from_secs(60), || async {
        let listed = volumes.list(&ListParams::default()).await?;
        let available = listed.items.len() == 2
            && listed
                .items
                .iter()
                .all(|v| v.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Available"));
        Ok::<_, kube::Error>(available.then_some(()))
    })
    .await
    .expect("the PersistentVolume controller makes the PVs Available");

    // No PV is big enough: every node fails FindPodVolumes, and nothing is bound.
    let nowhere = mounting("nowhere", "nowhere");
    assert_eq!(check(&tb, &client, "nowhere", &nowhere).await, 4);

    // Unbound, the zone-a PV can hold the claim on w-1 and w-3 only.
    let first = mounting("first", "first");
    let file = tb.dir().join("first.yaml");
    std::fs::write(&file, &first).unwrap();
    let preview = |when: &str| {
        let report = json_report(
            tb.kubeconfig(),
            &["preview", "-f", file.to_str().unwrap(), "-o", "json"],
        );
        let p = report["items"][0].clone();
        assert!(p["notChecked"].is_null(), "{when}: {p}");
        p
    };
    let before = preview("unbound");
    assert_eq!(
        before["wouldRun"],
        serde_json::json!(["w-1", "w-3"]),
        "{before}"
    );
    for n in ["w-2", "w-4"] {
        assert_eq!(
            filter_reason(&before["unplaceable"], n, "VolumeBinding"),
            "node(s) didn't find available persistent volumes to bind",
            "{n}: {before}"
        );
    }
    apply_yaml(&client, &first).await.expect("apply");
    let claims: Api<k8s_openapi::api::core::v1::PersistentVolumeClaim> =
        Api::namespaced(client.clone(), NS);
    let bound_to = kubectl_ds_testbed::wait_for("claim bound", Duration::from_secs(60), || async {
        let c = claims.get("first").await?;
        let bound = c.status.and_then(|s| s.phase).as_deref() == Some("Bound");
        Ok::<_, kube::Error>(bound.then(|| c.spec.and_then(|s| s.volume_name)).flatten())
    })
    .await
    .expect("the scheduler binds the claim");
    assert_eq!(bound_to, "pv-wait-a");
    wait_stable(&client, NS, Duration::from_secs(120)).await;
    let (running, _) = common::settled_placement(&client, NS, "first").await;
    assert_eq!(
        running,
        strings(&before["wouldRun"]),
        "bound pods vs wouldRun"
    );

    // Bound to the zone-a PV, the claim fails checkBoundClaims elsewhere; preview and explain
    // say so, as the scheduler does once it has retried the Pending pods.
    let conflict = "node(s) didn't match PersistentVolume's node affinity";
    let messages = latest_messages(&client, "first", conflict).await;
    assert_eq!(
        messages.keys().cloned().collect::<BTreeSet<_>>(),
        ["w-2", "w-4"].map(String::from).into(),
        "{messages:?}"
    );
    let after = preview("bound");
    assert_eq!(
        after["wouldRun"],
        serde_json::json!(["w-1", "w-3"]),
        "{after}"
    );
    let explained = json_report(tb.kubeconfig(), &["explain", "ds", "first", "-o", "json"]);
    for n in ["w-2", "w-4"] {
        assert_eq!(
            filter_reason(&after["unplaceable"], n, "VolumeBinding"),
            conflict,
            "{n}: {after}"
        );
        assert_eq!(
            filter_reason(&explained["verdicts"], n, "VolumeBinding"),
            conflict,
            "{n}: {explained}"
        );
    }
}
