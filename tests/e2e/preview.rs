//! `kubectl ds preview` against what the real controller and scheduler then do: for each
//! manifest, the preview is taken, the manifest applied, and the outcome compared.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::common::{
    Rng, daemonset, json_report, kubectl_ds, stderr, strings, wait_stable, wait_stable_everywhere,
};
use k8s_openapi::api::core::v1::Event;
use kube::Api;
use kube::api::ListParams;
use kubectl_ds_testbed::{FakeNode, Options, Testbed, add_node, apply_yaml, wait_for};
use serde_json::Value;

const NS: &str = "default";

/// Whether the controller has logged a FailedCreate event for DaemonSet `ns/name`.
async fn create_refused(client: &kube::Client, ns: &str, name: &str) -> bool {
    let events: Api<Event> = Api::namespaced(client.clone(), ns);
    let fields = format!("reason=FailedCreate,involvedObject.name={name}");
    !events
        .list(&ListParams::default().fields(&fields))
        .await
        .expect("events")
        .items
        .is_empty()
}

/// [`outcome`] off the `contested` nodes, and whether each of those has a pod.
async fn decided_outcome(
    client: &kube::Client,
    ns: &str,
    name: &str,
    contested: &BTreeSet<String>,
) -> (BTreeSet<String>, BTreeMap<String, String>, bool) {
    let (mut running, mut pending) = common::placement(client, ns, name).await;
    let placed = contested
        .iter()
        .all(|n| running.contains(n) || pending.contains_key(n));
    running.retain(|n| !contested.contains(n));
    pending.retain(|n, _| !contested.contains(n));
    (running, pending, placed)
}

/// Previews `manifest` (DaemonSet `ns/name`), applies it, and checks the preview against the
/// outcome: Running pods where it would run (after preempting, too), Pending ones for the
/// scheduler's reasons where it would not fit, and no pod but the controller's FailedCreate
/// events where admission refuses the pod.
async fn check(tb: &Testbed, client: &kube::Client, ns: &str, name: &str, manifest: &str) -> Value {
    let file = tb.dir().join(format!("{ns}-{name}.yaml"));
    std::fs::write(&file, manifest).unwrap();
    let report = json_report(
        tb.kubeconfig(),
        &["preview", "-f", file.to_str().unwrap(), "-o", "json"],
    );
    assert_eq!(report["kind"], "PreviewReport");
    let p = report["items"][0].clone();
    apply_yaml(client, manifest).await.expect("apply");
    // Where a pending pod of higher priority may take the room preemption frees, which of
    // the two gets it is the scheduling queue's timing: either outcome is the scheduler's.
    let contested: BTreeSet<String> = p["afterPreemption"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["contestedBy"].as_array().is_some_and(|c| !c.is_empty()))
        .filter_map(|a| a["node"].as_str().map(str::to_string))
        .collect();
    let would_run: BTreeSet<String> = strings(&p["wouldRun"])
        .difference(&contested)
        .cloned()
        .collect();
    let refused = strings(&p["createRefused"]);
    let unplaceable: BTreeMap<String, Value> = p["unplaceable"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| (u["node"].as_str().unwrap().to_string(), u.clone()))
        .collect();
    // A preemptor runs only once its victims are gone, and a refused create shows only in the
    // controller's events: give both their time before judging the settled cluster.
    let _ = wait_for(
        &format!("{ns}/{name} as previewed"),
        Duration::from_secs(90),
        || async {
            let (running, pending, placed) = decided_outcome(client, ns, name, &contested).await;
            let as_said = placed
                && running == would_run
                && pending.keys().eq(unplaceable.keys())
                && (refused.is_empty() || create_refused(client, ns, name).await);
            Ok::<_, kube::Error>(as_said.then_some(()))
        },
    )
    .await;
    wait_stable_everywhere(client, Duration::from_secs(120)).await;
    common::settled_placement(client, ns, name).await;
    let (running, pending, placed) = decided_outcome(client, ns, name, &contested).await;
    assert!(
        placed,
        "{ns}/{name}: no pod on a contested node {contested:?} ({p})"
    );
    assert_eq!(
        running, would_run,
        "{ns}/{name}: Running pods vs preview's wouldRun ({p})"
    );
    assert_eq!(
        pending.keys().cloned().collect::<BTreeSet<_>>(),
        unplaceable.keys().cloned().collect::<BTreeSet<_>>(),
        "{ns}/{name}: Pending pods vs preview's unplaceable ({p})"
    );
    if !refused.is_empty() {
        assert!(
            create_refused(client, ns, name).await,
            "{ns}/{name}: preview says refused on {refused:?}, the controller logged no FailedCreate ({p})"
        );
    }
    let dss: Api<k8s_openapi::api::apps::v1::DaemonSet> = Api::namespaced(client.clone(), ns);
    let desired = dss
        .get(name)
        .await
        .expect("daemonset")
        .status
        .map_or(0, |s| s.desired_number_scheduled);
    assert_eq!(
        desired as usize,
        would_run.len() + contested.len() + unplaceable.len() + refused.len(),
        "{ns}/{name}: the controller's desired nodes vs preview's ({p})"
    );
    for (node, msg) in &pending {
        let u = &unplaceable[node];
        let mut ours: Vec<String> = u["insufficient"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["reason"].as_str().unwrap().to_string())
            .collect();
        if !u["portConflicts"].as_array().unwrap().is_empty() {
            ours.push("node(s) didn't have free ports for the requested pod ports".into());
        }
        // The RuntimeClass's nodeSelector is merged into the pod's (`RuntimeClass` admission),
        // so the scheduler words it as any selector.
        if u["reason"]
            .as_str()
            .is_some_and(|r| r.contains("RuntimeClass"))
        {
            ours.push("node(s) didn't match Pod's node affinity/selector".into());
        }
        assert!(
            ours.iter().any(|r| msg.contains(&format!("1 {r}"))),
            "{ns}/{name} on {node}: we said {ours:?}, the scheduler said {msg}"
        );
    }
    p
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn previews_equal_what_applying_does() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    for n in [
        FakeNode::new("small-1").cpu("2").label("zone", "a"),
        FakeNode::new("small-2").cpu("2").label("zone", "b"),
        FakeNode::new("big-1")
            .cpu("16")
            .label("zone", "a")
            .label("disktype", "ssd"),
        FakeNode::new("port-1").label("zone", "c"),
        FakeNode::new("tainted")
            .taint("dedicated", "db", "NoSchedule")
            .label("zone", "c"),
        FakeNode::new("edge").taint("edge", "", "NoExecute"),
        FakeNode::new("cordoned").unschedulable().label("zone", "b"),
        FakeNode::new("kata-1").cpu("4").label("runtime", "kata"),
        FakeNode::new("prio-1").cpu("1").label("zone", "a"),
        FakeNode::new("prio-2").cpu("1").label("zone", "b"),
    ] {
        add_node(&client, &n).await.expect("node");
    }
    apply_yaml(&client, &common::admission_world("p"))
        .await
        .expect("admission objects");
    let namespaces = common::admission_namespaces("p");
    let namespaces: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    common::wait_default_service_accounts(&client, &namespaces).await;
    apply_yaml(
        &client,
        &[
            // Lower-priority pods that only preemption moves: priority-classed DaemonSets run
            // there or not by what `DefaultPreemption` decides.
            common::priority_filler("low-hog-1", "prio-1", "low", "600m", ""),
            common::priority_filler("low-hog-2", "prio-2", "low", "600m", ""),
            common::filler("hog", "small-1", "1500m", ""),
            common::filler(
                "holder",
                "port-1",
                "10m",
                "{containerPort: 9100, hostPort: 9100}",
            ),
        ]
        .join("---\n"),
    )
    .await
    .expect("fillers");

    let with_container = |name: &str, container: &str, extra: &str| {
        daemonset(name, NS, extra).replace(
            "      - name: main\n        image: registry.example/agent:1\n",
            &format!("      - {container}\n"),
        )
    };
    let scenarios: Vec<(String, String)> = vec![
        ("plain".into(), daemonset("plain", NS, "")),
        (
            "cpu-300m".into(),
            with_container(
                "cpu-300m",
                "{name: main, image: registry.example/agent:1, resources: {requests: {cpu: 300m}}}",
                "",
            ),
        ),
        (
            "cpu-limit-only".into(),
            with_container(
                "cpu-limit-only",
                "{name: main, image: registry.example/agent:1, resources: {limits: {cpu: 400m}}}",
                "",
            ),
        ),
        (
            "hostport".into(),
            with_container(
                "hostport",
                "{name: main, image: registry.example/agent:1, ports: [{containerPort: 9100, hostPort: 9100}]}",
                "",
            ),
        ),
        (
            "hostnet".into(),
            with_container(
                "hostnet",
                "{name: main, image: registry.example/agent:1, ports: [{containerPort: 9100}]}",
                "hostNetwork: true",
            ),
        ),
        (
            "ssd-only".into(),
            daemonset("ssd-only", NS, "nodeSelector: {disktype: ssd}"),
        ),
        (
            "zone-a".into(),
            daemonset(
                "zone-a",
                NS,
                "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a]}]}]}}}",
            ),
        ),
        (
            "tolerant".into(),
            daemonset("tolerant", NS, "tolerations: [{operator: Exists}]"),
        ),
        (
            "db".into(),
            daemonset(
                "db",
                NS,
                "tolerations: [{key: dedicated, value: db, effect: NoSchedule}]",
            ),
        ),
        (
            "sidecar".into(),
            with_container(
                "sidecar",
                "{name: main, image: registry.example/agent:1, resources: {requests: {cpu: 100m}}}",
                "initContainers: [{name: side, image: registry.example/agent:1, restartPolicy: Always, resources: {requests: {cpu: 200m}}}]",
            ),
        ),
    ];
    let mut scenarios: Vec<(&str, String, String)> = scenarios
        .into_iter()
        .map(|(name, manifest)| (NS, name, manifest))
        .collect();
    let mut rng = Rng::new(7_2026);
    for i in 0..24 {
        let name = format!("rand-{i:02}");
        let cpu = ["50m", "100m", "200m", "400m"][rng.below(4)];
        let mut extra = String::new();
        if rng.chance(30) {
            extra.push_str(&format!(
                "nodeSelector: {{zone: {}}}\n",
                ["a", "b", "c"][rng.below(3)]
            ));
        }
        if rng.chance(30) {
            extra.push_str("tolerations: [{key: dedicated, operator: Exists}]\n");
        }
        let port = if rng.chance(15) {
            ", ports: [{containerPort: 9300, hostPort: 9300}]"
        } else {
            ""
        };
        // What admission does to the pod: the namespace (LimitRange defaults, PodSecurity
        // baseline), ServiceAccount, priority, RuntimeClass, hostNetwork, privileged.
        let ns = *rng.pick(&namespaces);
        extra.push_str(&common::admission_draws(&mut rng));
        let privileged = if rng.chance(10) {
            ", securityContext: {privileged: true}"
        } else {
            ""
        };
        let requests = if ns == namespaces[1] && rng.chance(50) {
            String::new()
        } else {
            format!(", resources: {{requests: {{cpu: {cpu}}}}}")
        };
        let container =
            format!("{{name: main, image: registry.example/agent:1{requests}{port}{privileged}}}");
        let manifest = with_container(&name, &container, &extra).replace(
            &format!("  namespace: {NS}\n"),
            &format!("  namespace: {ns}\n"),
        );
        scenarios.push((ns, name, manifest));
    }
    let mut unplaceable_seen = 0;
    let mut refused_seen = 0;
    let mut preempting_seen = 0;
    for (ns, name, manifest) in &scenarios {
        let p = check(&tb, &client, ns, name, manifest).await;
        unplaceable_seen += p["unplaceable"].as_array().unwrap().len();
        refused_seen += p["createRefused"].as_array().map_or(0, Vec::len);
        preempting_seen += p["afterPreemption"].as_array().map_or(0, Vec::len);
    }
    assert!(
        unplaceable_seen > 0,
        "some scenario should not fit somewhere"
    );
    assert!(
        refused_seen > 0,
        "some scenario should be refused somewhere"
    );
    assert!(
        preempting_seen > 0,
        "some scenario should run somewhere only by preempting"
    );

    // A changed DaemonSet: new selector and image. Gained/lost equal the real change.
    let (before, _) = common::placement(&client, NS, "zone-a").await;
    let changed = daemonset("zone-a", NS, "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [b]}]}]}}}").replace("agent:1", "agent:2");
    let file = tb.dir().join("zone-a-v2.yaml");
    std::fs::write(&file, &changed).unwrap();
    let report = json_report(
        tb.kubeconfig(),
        &["preview", "-f", file.to_str().unwrap(), "-o", "json"],
    );
    let change = report["items"][0]["change"].clone();
    assert_eq!(change["templateChanged"], true, "{change}");
    apply_yaml(&client, &changed).await.expect("apply change");
    wait_stable(&client, NS, Duration::from_secs(120)).await;
    let (after, pending) = common::placement(&client, NS, "zone-a").await;
    let after: BTreeSet<String> = after.into_iter().chain(pending.into_keys()).collect();
    let gained: BTreeSet<String> = after.difference(&before).cloned().collect();
    let lost: BTreeSet<String> = before.difference(&after).cloned().collect();
    assert_eq!(strings(&change["gained"]), gained, "{change}");
    assert_eq!(strings(&change["lost"]), lost, "{change}");

    // An unchanged manifest triggers no rollout.
    let same = json_report(
        tb.kubeconfig(),
        &["preview", "-f", file.to_str().unwrap(), "-o", "json"],
    );
    assert_eq!(same["items"][0]["change"]["templateChanged"], false);

    // Warnings for known traps.
    let trap = with_container("trap", "{name: main, image: registry.example/agent:1, ports: [{containerPort: 9500, hostPort: 9500}]}", "tolerations: [{operator: Exists}]")
        .replace("  selector:", "  updateStrategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1, maxUnavailable: 0}}\n  selector:");
    let trap_file = tb.dir().join("trap.yaml");
    std::fs::write(&trap_file, &trap).unwrap();
    let warned = json_report(
        tb.kubeconfig(),
        &["preview", "-f", trap_file.to_str().unwrap(), "-o", "json"],
    );
    let warnings = warned["items"][0]["warnings"].to_string();
    for w in [
        "kubernetes/kubernetes#106417",
        "tolerates every taint",
        "no resource requests",
        "no priorityClassName",
    ] {
        assert!(warnings.contains(w), "missing warning {w}: {warnings}");
    }

    // --fail-if-unplaceable gates CI.
    let huge = with_container(
        "huge",
        "{name: main, image: registry.example/agent:1, resources: {requests: {cpu: '3'}}}",
        "",
    );
    let huge_file = tb.dir().join("huge.yaml");
    std::fs::write(&huge_file, &huge).unwrap();
    let gate = kubectl_ds(
        tb.kubeconfig(),
        &[
            "preview",
            "-f",
            huge_file.to_str().unwrap(),
            "--fail-if-unplaceable",
        ],
    );
    assert_eq!(gate.status.code(), Some(1), "{}", stderr(&gate));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_input_and_nothing_written() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    add_node(&client, &FakeNode::new("n1")).await.expect("node");
    let viewer = {
        let role = common::rbac_role("read-only");
        apply_yaml(&client, &format!("{role}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: viewer}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubectl-ds-read-only}}\nsubjects: [{{kind: User, name: previewer}}]\n")).await.expect("role");
        tb.kubeconfig_for_user("previewer", &[]).unwrap()
    };
    let write = |name: &str, body: &[u8]| {
        let p = tb.dir().join(name);
        std::fs::write(&p, body).unwrap();
        p
    };
    let good = daemonset("agent", NS, "");
    let cases: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "not-yaml.yaml",
            b"kind: [DaemonSet\n".to_vec(),
            "not-yaml.yaml:2: not valid YAML or JSON",
        ),
        (
            "deployment.yaml",
            b"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\n".to_vec(),
            "contains no DaemonSet (found Deployment web (line 1))",
        ),
        (
            "no-selector.yaml",
            good.replace("  selector:\n    matchLabels: {app: agent}\n", "")
                .into_bytes(),
            "spec.selector",
        ),
        (
            "mismatch.yaml",
            good.replace("matchLabels: {app: agent}", "matchLabels: {app: other}")
                .into_bytes(),
            "does not match spec.template.metadata.labels",
        ),
        (
            "unknown.yaml",
            good.replace(
                "image: registry.example/agent:1",
                "image: registry.example/agent:1\n        imagePullPolicyy: Always",
            )
            .into_bytes(),
            "unknown field(s) spec.template.spec.containers[0].imagePullPolicyy",
        ),
        (
            "garbage.yaml",
            (0..2_000_000u32)
                .map(|i| b"{[:,]}\"'&*!"[(i % 11) as usize])
                .collect(),
            "not valid YAML or JSON",
        ),
        (
            "binary.yaml",
            vec![0xff, 0xfe, 0x00, 0x41],
            "is not UTF-8 text",
        ),
        (
            "duplicate.yaml",
            good.replace("  name: agent\n", "  name: agent\n  name: again\n")
                .into_bytes(),
            "duplicate",
        ),
    ];
    for (file, body, expect) in cases {
        let path = write(file, &body);
        let out = kubectl_ds(&viewer, &["preview", "-f", path.to_str().unwrap()]);
        assert_eq!(out.status.code(), Some(2), "{file}: {}", stderr(&out));
        let err = stderr(&out);
        assert!(
            err.starts_with("error: ") && err.contains(expect),
            "{file}: {err}"
        );
        assert_eq!(err.lines().count(), 1, "{file}: one line: {err}");
    }
    // Mixed input: other kinds skipped with a note; the read-only user can preview.
    let mixed = write(
        "mixed.yaml",
        format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: cfg}}\n---\n{good}").as_bytes(),
    );
    let out = kubectl_ds(&viewer, &["preview", "-f", mixed.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "note: skipped ConfigMap cfg (line 1): preview only reads DaemonSets\n"
    );

    // --server-dry-run surfaces the API server's validation verbatim and persists nothing.
    let invalid = good.replace(
        "  selector:",
        "  updateStrategy: {rollingUpdate: {maxSurge: 1, maxUnavailable: 1}}\n  selector:",
    );
    let invalid = write("invalid.yaml", invalid.as_bytes());
    let client_side = kubectl_ds(
        tb.kubeconfig(),
        &["preview", "-f", invalid.to_str().unwrap()],
    );
    assert_eq!(
        client_side.status.code(),
        Some(0),
        "{}",
        stderr(&client_side)
    );
    let server = kubectl_ds(
        tb.kubeconfig(),
        &[
            "preview",
            "-f",
            invalid.to_str().unwrap(),
            "--server-dry-run",
        ],
    );
    assert_eq!(server.status.code(), Some(2));
    assert!(
        stderr(&server).contains("may not be set when maxUnavailable is non-zero"),
        "{}",
        stderr(&server)
    );
    let ok = kubectl_ds(
        tb.kubeconfig(),
        &["preview", "-f", mixed.to_str().unwrap(), "--server-dry-run"],
    );
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let dss: Api<k8s_openapi::api::apps::v1::DaemonSet> = Api::namespaced(client.clone(), NS);
    assert!(
        dss.get_opt("agent").await.unwrap().is_none(),
        "dry run persisted nothing"
    );

    // The read-only previews sent no write.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let verbs: BTreeSet<String> = tb
        .audit_events()
        .unwrap()
        .iter()
        .filter(|e| e["user"]["username"] == "previewer")
        .filter_map(|e| e["verb"].as_str().map(str::to_string))
        .collect();
    assert!(
        verbs
            .iter()
            .all(|v| matches!(v.as_str(), "get" | "list" | "watch")),
        "{verbs:?}"
    );
}

/// A DaemonSet requesting 600m of cpu with the given update strategy and image.
fn growing(name: &str, strategy: &str, image: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: {name}, namespace: {NS}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  updateStrategy: {strategy}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      containers:
      - name: main
        image: {image}
        resources: {{requests: {{cpu: 600m}}}}
"
    )
}

/// A template change, previewed and then applied: with maxSurge the new pod must fit beside
/// the old one, which still holds its cpu (the scheduler then says Insufficient cpu where
/// without surge the pod fits); and a node where the old pod may stay but no new one may be
/// created (a NoSchedule taint that came after it) is lost, not replaced.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_template_change_under_surge_and_behind_a_new_taint() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    // small: room for both DaemonSets' pods (1200m), not for a third beside them.
    for (n, cpu) in [("small", "1500m"), ("big", "4"), ("tainted", "4")] {
        add_node(&client, &FakeNode::new(n).cpu(cpu))
            .await
            .expect("node");
    }
    let surge = "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}";
    let plain = "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 1}}";
    let v1 = "registry.example/agent:1";
    let v2 = "registry.example/agent:2";
    apply_yaml(
        &client,
        &format!(
            "{}---\n{}",
            growing("grow", surge, v1),
            growing("grow-plain", plain, v1)
        ),
    )
    .await
    .expect("apply");
    wait_stable(&client, NS, Duration::from_secs(60)).await;
    let nodes: Api<k8s_openapi::api::core::v1::Node> = Api::all(client.clone());
    let taint = serde_json::json!({"spec": {"taints": [{"key": "maintenance", "value": "true", "effect": "NoSchedule"}]}});
    nodes
        .patch(
            "tainted",
            &kube::api::PatchParams::default(),
            &kube::api::Patch::Merge(&taint),
        )
        .await
        .expect("taint");
    // One after the other, so the second's preview sees the first's outcome.
    for (name, strategy, small_fits) in [("grow-plain", plain, true), ("grow", surge, false)] {
        let manifest = growing(name, strategy, v2);
        let file = tb.dir().join(format!("{name}.yaml"));
        std::fs::write(&file, &manifest).expect("manifest");
        let report = json_report(
            tb.kubeconfig(),
            &["preview", "-f", file.to_str().expect("path"), "-o", "json"],
        );
        let p = &report["items"][0];
        println!("{name}: {p}");
        assert_eq!(
            strings(&p["change"]["lost"]),
            BTreeSet::from(["tainted".to_string()]),
            "{p}"
        );
        assert_eq!(strings(&p["wouldRun"]).contains("small"), small_fits, "{p}");
        let text = kubectl_ds(
            tb.kubeconfig(),
            &["preview", "-f", file.to_str().expect("path")],
        );
        println!(
            "$ kubectl ds preview -f {name}.yaml\n{}",
            common::stdout(&text)
        );
        apply_yaml(&client, &manifest).await.expect("apply");
        // What the controller and the scheduler then do.
        let got = kubectl_ds_testbed::wait_for(
            "the rollout to play out",
            Duration::from_secs(60),
            || async {
                let (running, pending) = common::placement(&client, NS, name).await;
                let tainted_gone = !running.contains("tainted");
                let small_settled = if small_fits {
                    pending.is_empty() && running.contains("small")
                } else {
                    pending.get("small").is_some_and(|m| !m.is_empty())
                };
                Ok::<_, kubectl_ds_testbed::Error>(
                    (tainted_gone && small_settled).then_some((running, pending)),
                )
            },
        )
        .await
        .expect("outcome");
        println!("{name}: running {:?}, pending {:?}", got.0, got.1);
        if !small_fits {
            assert!(got.1["small"].contains("Insufficient cpu"), "{:?}", got.1);
        }
        wait_stable(&client, NS, Duration::from_secs(60)).await;
    }
}
