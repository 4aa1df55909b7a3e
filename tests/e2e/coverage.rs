//! `kubectl ds coverage` against the real DaemonSet controller on the testbed: our should-run
//! sets and counters must equal what the controller did, for fixed and seeded random scenarios.

use crate::common;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use crate::common::{Rng, daemonset, json, kubectl_ds, stderr, stdout, wait_stable};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use kubectl_ds_testbed::{FakeNode, Options, Testbed, add_node, apply_yaml};

const NS: &str = "default";

/// Node names where each DaemonSet (by name) has a live pod, from the API.
async fn pods_by_daemonset(client: &kube::Client) -> BTreeMap<String, BTreeSet<String>> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    let mut out: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for p in pods
        .list(&ListParams::default())
        .await
        .expect("list pods")
        .items
    {
        if p.metadata.deletion_timestamp.is_some() {
            continue;
        }
        let Some(owner) = p
            .metadata
            .owner_references
            .iter()
            .flatten()
            .find(|r| r.kind == "DaemonSet")
        else {
            continue;
        };
        let node = common::pod_node(&p);
        out.entry(owner.name.clone()).or_default().extend(node);
    }
    out
}

fn random_node(rng: &mut Rng, i: usize) -> FakeNode {
    let mut n = FakeNode::new(format!("w-{i:02}"))
        .label("pool", *rng.pick(&["general", "gpu", "edge"]))
        .label("zone", *rng.pick(&["a", "b", "c"]))
        .label("cores", *rng.pick(&["2", "8", "16", "many"]));
    if rng.chance(60) {
        n = n.label("disktype", *rng.pick(&["ssd", "hdd"]));
    }
    match rng.below(6) {
        0 => n = n.taint("dedicated", "gpu", "NoSchedule"),
        1 => n = n.taint("edge", "", "NoExecute"),
        2 => n = n.taint("soft", "x", "PreferNoSchedule"),
        _ => {}
    }
    n
}

fn random_pod_spec(rng: &mut Rng) -> String {
    let mut spec = String::new();
    if rng.chance(30) {
        spec.push_str(&format!(
            "nodeSelector: {{pool: {}}}\n",
            rng.pick(&["general", "gpu", "edge"])
        ));
    }
    if rng.chance(50) {
        let mut terms = Vec::new();
        for _ in 0..=rng.below(2) {
            let mut exprs = Vec::new();
            for _ in 0..=rng.below(2) {
                exprs.push(match rng.below(6) {
                    0 => format!(
                        "{{key: zone, operator: In, values: [{}]}}",
                        rng.pick(&["a", "b", "a, c"])
                    ),
                    1 => format!(
                        "{{key: zone, operator: NotIn, values: [{}]}}",
                        rng.pick(&["a", "b"])
                    ),
                    2 => "{key: disktype, operator: Exists}".to_string(),
                    3 => "{key: disktype, operator: DoesNotExist}".to_string(),
                    4 => format!(
                        "{{key: cores, operator: Gt, values: ['{}']}}",
                        rng.pick(&["4", "8"])
                    ),
                    _ => format!(
                        "{{key: cores, operator: Lt, values: ['{}']}}",
                        rng.pick(&["4", "10"])
                    ),
                });
            }
            terms.push(format!("- matchExpressions: [{}]", exprs.join(", ")));
        }
        spec.push_str("affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n      nodeSelectorTerms:\n");
        for t in terms {
            spec.push_str(&format!("      {t}\n"));
        }
    }
    let mut tolerations = Vec::new();
    if rng.chance(40) {
        tolerations.push(*rng.pick(&[
            "{key: dedicated, operator: Equal, value: gpu, effect: NoSchedule}",
            "{key: dedicated, operator: Exists}",
            "{key: dedicated, operator: Equal, value: cpu}",
        ]));
    }
    if rng.chance(30) {
        tolerations.push(*rng.pick(&[
            "{key: edge, operator: Exists, effect: NoExecute}",
            "{key: edge, operator: Exists, effect: NoSchedule}",
        ]));
    }
    if rng.chance(8) {
        tolerations.push("{operator: Exists}");
    }
    if !tolerations.is_empty() {
        spec.push_str(&format!("tolerations: [{}]\n", tolerations.join(", ")));
    }
    if rng.chance(20) {
        spec.push_str("hostNetwork: true\n");
    }
    spec
}

/// Fixed scenarios, one per rule, on top of the random ones.
const FIXED: &[(&str, &str)] = &[
    ("all-nodes", ""),
    ("selector-gpu", "nodeSelector: {pool: gpu}"),
    (
        "selector-two-keys",
        "nodeSelector: {pool: general, zone: a}",
    ),
    (
        "affinity-in",
        "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: zone, operator: In, values: [a, b]}]}]}}}",
    ),
    (
        "affinity-gt-non-integer",
        "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchExpressions: [{key: cores, operator: Gt, values: ['4']}]}]}}}",
    ),
    (
        "affinity-fields",
        "affinity: {nodeAffinity: {requiredDuringSchedulingIgnoredDuringExecution: {nodeSelectorTerms: [{matchFields: [{key: metadata.name, operator: NotIn, values: [w-00]}]}]}}}",
    ),
    ("tolerate-all", "tolerations: [{operator: Exists}]"),
    (
        "tolerate-not-ready",
        "tolerations: [{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoSchedule}, {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoSchedule}]",
    ),
    ("host-network", "hostNetwork: true"),
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn should_run_sets_and_counts_equal_the_controllers() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    let mut rng = Rng::new(20261126);
    let mut nodes: Vec<FakeNode> = (0..12).map(|i| random_node(&mut rng, i)).collect();
    nodes.push(
        FakeNode::new("cordoned")
            .label("pool", "general")
            .unschedulable(),
    );
    nodes.push(FakeNode::new("dead").label("pool", "general").unmanaged());
    for n in &nodes {
        add_node(&client, n).await.expect("add node");
    }
    let mut manifests: Vec<String> = FIXED
        .iter()
        .map(|(name, spec)| daemonset(name, NS, spec))
        .collect();
    for i in 0..16 {
        manifests.push(daemonset(
            &format!("random-{i:02}"),
            NS,
            &random_pod_spec(&mut rng),
        ));
    }
    assert!(manifests.len() >= 20);
    apply_yaml(&client, &manifests.join("---\n"))
        .await
        .expect("apply");
    wait_stable(&client, NS, Duration::from_secs(120)).await;
    compare(&tb, &client, "initial placement").await;

    // Phase 2: a NoSchedule taint keeps existing pods (misscheduled), a label change removes them.
    let node_api: Api<Node> = Api::all(client.clone());
    let taint = serde_json::json!({"spec": {"taints": [{"key": "late", "value": "1", "effect": "NoSchedule"}]}});
    node_api
        .patch("w-01", &PatchParams::default(), &Patch::Merge(&taint))
        .await
        .expect("taint");
    let relabel = serde_json::json!({"metadata": {"labels": {"pool": "retired", "zone": "z"}}});
    node_api
        .patch("w-02", &PatchParams::default(), &Patch::Merge(&relabel))
        .await
        .expect("relabel");
    wait_stable(&client, NS, Duration::from_secs(120)).await;
    // Since 1.33 the controller re-syncs a DaemonSet on a node change only when pods must be
    // created or deleted (`syncNodeUpdate`), so a new NoSchedule taint over a running pod leaves
    // `desiredNumberScheduled` stale until something else syncs the DaemonSet. Touch every
    // DaemonSet so the status we compare against is the controller's current answer.
    let ds_api: Api<k8s_openapi::api::apps::v1::DaemonSet> = Api::namespaced(client.clone(), NS);
    for ds in ds_api
        .list(&ListParams::default())
        .await
        .expect("list")
        .items
    {
        let touch =
            serde_json::json!({"metadata": {"annotations": {"kubectl-ds.test/resync": "1"}}});
        ds_api
            .patch(
                ds.metadata.name.as_deref().unwrap(),
                &PatchParams::default(),
                &Patch::Merge(&touch),
            )
            .await
            .expect("touch");
    }
    wait_stable(&client, NS, Duration::from_secs(120)).await;
    compare(&tb, &client, "after taint and relabel").await;
}

async fn compare(tb: &Testbed, client: &kube::Client, phase: &str) {
    let report = json(tb.kubeconfig(), &["coverage", "-n", NS, "-o", "json"]);
    assert_eq!(report["apiVersion"], "kubectl-ds/v1alpha1");
    assert_eq!(report["kind"], "CoverageReport");
    let actual = pods_by_daemonset(client).await;
    let items = report["items"].as_array().expect("items");
    assert!(
        items.len() >= 20,
        "{phase}: {} DaemonSets reported",
        items.len()
    );
    let mut with_misscheduled = 0;
    for item in items {
        let name = item["name"].as_str().unwrap();
        let s = &item["summary"];
        let st = &item["status"];
        let should_run: BTreeSet<String> = item["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["node"].as_str().unwrap().to_string())
            .collect();
        let misplaced: BTreeSet<String> = item["misscheduled"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["node"].as_str().unwrap().to_string())
            .collect();
        let with_pods = actual.get(name).cloned().unwrap_or_default();
        // Every node the controller put a pod on is one we say should run it, or one we say
        // holds a misscheduled pod; and every should-run node got a pod.
        let expected: BTreeSet<String> = should_run.union(&misplaced).cloned().collect();
        assert_eq!(
            with_pods, expected,
            "{phase}: {name}: nodes with pods vs our should-run + misscheduled"
        );
        assert_eq!(
            s["shouldRun"], st["desiredNumberScheduled"],
            "{phase}: {name}: desired"
        );
        assert_eq!(
            s["misscheduled"], st["numberMisscheduled"],
            "{phase}: {name}: misscheduled"
        );
        assert_eq!(
            s["scheduled"], st["currentNumberScheduled"],
            "{phase}: {name}: current"
        );
        assert_eq!(s["ready"], st["numberReady"], "{phase}: {name}: ready");
        assert_eq!(
            s["upToDate"], st["updatedNumberScheduled"],
            "{phase}: {name}: updated"
        );
        if s["misscheduled"].as_u64() > Some(0) {
            with_misscheduled += 1;
        }
    }
    if phase.starts_with("after") {
        assert!(
            with_misscheduled > 0,
            "the taint should leave misscheduled pods behind"
        );
    }
}

/// Replaces generated pod names (`<ds>-xxxxx`) so output can be compared as a snapshot.
fn redact_pods(text: &str) -> String {
    text.split('\n')
        .map(|line| {
            line.split(' ')
                .map(|w| match w.rsplit_once('-') {
                    Some((base, suffix))
                        if suffix.len() == 5
                            && base.starts_with("agent")
                            && suffix.chars().all(|c| c.is_ascii_alphanumeric()) =>
                    {
                        format!("{base}-xxxxx")
                    }
                    _ => w.to_string(),
                })
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn output_errors_and_least_privilege() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    for n in [
        FakeNode::new("general-1").label("pool", "general"),
        FakeNode::new("general-2").label("pool", "general"),
        FakeNode::new("gpu-1")
            .label("pool", "gpu")
            .taint("dedicated", "gpu", "NoSchedule"),
        FakeNode::new("edge-1")
            .label("pool", "edge")
            .taint("edge", "", "NoExecute"),
    ] {
        add_node(&client, &n).await.expect("add node");
    }
    let broken = daemonset("agent-broken", NS, "nodeSelector: {pool: general}")
        .replace("registry.example/agent:1", "registry.example/bad-image:1");
    let gpu = daemonset(
        "agent-gpu",
        NS,
        "nodeSelector: {pool: gpu}\ntolerations: [{key: dedicated, operator: Exists}]",
    );
    apply_yaml(
        &client,
        &[daemonset("agent", NS, ""), gpu, broken].join("---\n"),
    )
    .await
    .expect("apply");
    wait_stable(&client, NS, Duration::from_secs(90)).await;
    let kc = tb.kubeconfig();

    // Summary table for the namespace, and the per-node view of one DaemonSet.
    let summary = kubectl_ds(kc, &["coverage"]);
    assert_eq!(summary.status.code(), Some(0), "{}", stderr(&summary));
    insta::assert_snapshot!("coverage_summary", stdout(&summary));
    let single = kubectl_ds(kc, &["coverage", "agent"]);
    assert_eq!(single.status.code(), Some(0), "{}", stderr(&single));
    insta::assert_snapshot!("coverage_single", redact_pods(&stdout(&single)));
    let wide = kubectl_ds(kc, &["coverage", "-o", "wide"]);
    insta::assert_snapshot!("coverage_wide", stdout(&wide));
    let yaml = kubectl_ds(kc, &["coverage", "agent-gpu", "-o", "yaml"]);
    assert!(
        stdout(&yaml).starts_with("apiVersion: kubectl-ds/v1alpha1\nkind: CoverageReport\n"),
        "{}",
        stdout(&yaml)
    );

    // Exec credential plugins work as in kubectl: the same admin identity, handed out by a script.
    let admin = std::fs::read_to_string(kc).unwrap();
    let field = |name: &str| {
        admin
            .lines()
            .find_map(|l| l.trim().strip_prefix(&format!("{name}: ")))
            .unwrap()
            .to_string()
    };
    let pem = |b64: &str| {
        let out = std::process::Command::new("base64")
            .arg("-d")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        out.stdin
            .as_ref()
            .unwrap()
            .write_all(b64.as_bytes())
            .unwrap();
        String::from_utf8(out.wait_with_output().unwrap().stdout).unwrap()
    };
    let credential = serde_json::json!({
        "apiVersion": "client.authentication.k8s.io/v1",
        "kind": "ExecCredential",
        "status": {"clientCertificateData": pem(&field("client-certificate-data")), "clientKeyData": pem(&field("client-key-data"))}
    });
    let script = tb.dir().join("credential-plugin.sh");
    std::fs::write(
        &script,
        format!("#!/bin/sh\ncat <<'JSON'\n{credential}\nJSON\n"),
    )
    .unwrap();
    std::process::Command::new("chmod")
        .args(["+x", script.to_str().unwrap()])
        .status()
        .unwrap();
    let exec_kc = tb.dir().join("exec.kubeconfig");
    std::fs::write(&exec_kc, format!(
        "apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: '{}', certificate-authority-data: {}}}}}]\nusers: [{{name: u, user: {{exec: {{apiVersion: client.authentication.k8s.io/v1, command: {}, interactiveMode: Never}}}}}}]\ncontexts: [{{name: x, context: {{cluster: c, user: u}}}}]\ncurrent-context: x\n",
        tb.server(), field("certificate-authority-data"), script.display()
    )).unwrap();
    let via_exec = kubectl_ds(&exec_kc, &["coverage", "agent-gpu", "-o", "json"]);
    assert_eq!(
        via_exec.status.code(),
        Some(0),
        "exec plugin: {}",
        stderr(&via_exec)
    );

    // Several clusters in one table: an unreachable one is a row with its error (exit 3).
    let dead = tb.dir().join("dead.kubeconfig");
    std::fs::write(&dead, "apiVersion: v1\nkind: Config\nclusters: [{name: dead, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: dead, user: {token: t}}]\ncontexts: [{name: dead, context: {cluster: dead, user: dead}}]\n").unwrap();
    let merged = format!("{}:{}", kc.display(), dead.display());
    let multi = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-ds"))
        .args([
            "coverage",
            "--context",
            "kubectl-ds-testbed,dead",
            "--request-timeout",
            "5s",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("KUBECONFIG", &merged)
        .output()
        .unwrap();
    assert_eq!(multi.status.code(), Some(3), "{}", stderr(&multi));
    let text = stdout(&multi);
    assert!(text.starts_with("CONTEXT "), "{text}");
    assert!(
        text.lines()
            .any(|l| l.starts_with("kubectl-ds-testbed ") && l.contains(" agent-gpu ")),
        "{text}"
    );
    // The unreachable context's error is below the table, so the columns stay narrow.
    let (table, below) = text
        .split_once("\n\n")
        .expect("a blank line after the table");
    assert!(table.lines().all(|l| l.len() < 120), "{text}");
    assert!(
        below.starts_with("error: context dead: cannot reach the API server"),
        "{text}"
    );

    // Plugin completion: names from the cluster, through the real kubectl.
    let complete = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl_complete-ds"))
        .args(["coverage", "agent-"])
        .env("KUBECONFIG", kc)
        .output()
        .unwrap();
    assert_eq!(stdout(&complete), "agent-broken\nagent-gpu\n:4\n");
    let bin_dir = std::path::Path::new(env!("CARGO_BIN_EXE_kubectl-ds"))
        .parent()
        .unwrap()
        .to_path_buf();
    let path = std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap();
    let via_kubectl = std::process::Command::new("kubectl")
        .args(["__complete", "ds", "coverage", "agent-g"])
        .env("PATH", path)
        .env("KUBECONFIG", kc)
        .output()
        .expect("kubectl on PATH");
    assert!(
        stdout(&via_kubectl).starts_with("agent-gpu\n"),
        "kubectl plugin completion: {} {}",
        stdout(&via_kubectl),
        stderr(&via_kubectl)
    );

    // --watch re-renders on change (JSON lines when piped) and ends with 130 on Ctrl-C.
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl-ds"))
        .args(["coverage", "agent", "--watch", "-o", "json"])
        .env("KUBECONFIG", kc)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    let stdout_pipe = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        use std::io::BufRead;
        for line in std::io::BufReader::new(stdout_pipe)
            .lines()
            .map_while(Result::ok)
        {
            if let Ok(v) = serde_json::from_str(&line) {
                let _ = tx.send(v);
            }
        }
    });
    let first = rx
        .recv_timeout(Duration::from_secs(30))
        .expect("first frame");
    assert_eq!(first["items"][0]["summary"]["shouldRun"], 2);
    add_node(
        &client,
        &FakeNode::new("general-3").label("pool", "general"),
    )
    .await
    .expect("add node");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let frame = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("a frame after the change");
        if frame["items"][0]["summary"]["covered"] == 3 {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "never saw the new node covered"
        );
    }
    std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(130));

    // --fail-under gates CI: agent-broken has no Ready pod.
    let gate = kubectl_ds(kc, &["coverage", "--fail-under", "100"]);
    assert_eq!(gate.status.code(), Some(1));
    let gate = kubectl_ds(kc, &["coverage", "agent", "--fail-under", "100"]);
    assert_eq!(gate.status.code(), Some(0), "{}", stderr(&gate));
    let nodes_only = json(
        kc,
        &["coverage", "agent", "--nodes", "pool=general", "-o", "json"],
    );
    assert_eq!(
        nodes_only["items"][0]["summary"]["shouldRun"], 3,
        "general-1..3, added while watching"
    );

    // Errors: one sentence, documented exit codes.
    let missing = kubectl_ds(kc, &["coverage", "nope"]);
    assert_eq!(missing.status.code(), Some(2));
    assert_eq!(
        stderr(&missing),
        "error: daemonset \"nope\" not found in namespace \"default\"; check the name and the namespace (-n) or use -A\n"
    );
    let bad_selector = kubectl_ds(kc, &["coverage", "-l", "app in (a"]);
    assert_eq!(bad_selector.status.code(), Some(2));
    assert!(
        stderr(&bad_selector).starts_with("error: invalid -l selector"),
        "{}",
        stderr(&bad_selector)
    );

    let unreachable = tb.dir().join("unreachable.kubeconfig");
    let text = std::fs::read_to_string(kc).unwrap();
    let port = tb
        .server()
        .rsplit(':')
        .next()
        .unwrap()
        .trim_end_matches('/')
        .to_string();
    std::fs::write(&unreachable, text.replace(&format!(":{port}"), ":1")).unwrap();
    let down = kubectl_ds(&unreachable, &["coverage", "--request-timeout", "5s"]);
    assert_eq!(down.status.code(), Some(3));
    assert!(
        stderr(&down).starts_with("error: cannot reach the API server at https://127.0.0.1:1"),
        "{}",
        stderr(&down)
    );
    assert_eq!(stderr(&down).lines().count(), 1);

    let bogus_token = tb.dir().join("token.kubeconfig");
    let server = tb.server();
    std::fs::write(&bogus_token, format!("apiVersion: v1\nkind: Config\nclusters: [{{name: c, cluster: {{server: '{server}', insecure-skip-tls-verify: true}}}}]\nusers: [{{name: u, user: {{token: expired}}}}]\ncontexts: [{{name: x, context: {{cluster: c, user: u}}}}]\ncurrent-context: x\n")).unwrap();
    let unauthorized = kubectl_ds(&bogus_token, &["coverage"]);
    assert_eq!(unauthorized.status.code(), Some(3));
    assert!(
        stderr(&unauthorized).contains("401 Unauthorized"),
        "{}",
        stderr(&unauthorized)
    );

    // A user who may list DaemonSets but not pods: the 403 names the verb, resource and namespace.
    apply_yaml(&client, "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: ds-only}\nrules:\n- apiGroups: [apps]\n  resources: [daemonsets, controllerrevisions]\n  verbs: [get, list, watch]\n- apiGroups: ['']\n  resources: [nodes]\n  verbs: [get, list, watch]\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: ds-only}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ds-only}\nsubjects: [{kind: User, name: no-pods}]\n").await.expect("rbac");
    let no_pods = tb
        .kubeconfig_for_user("no-pods", &[])
        .expect("user kubeconfig");
    let forbidden = kubectl_ds(&no_pods, &["coverage"]);
    assert_eq!(forbidden.status.code(), Some(3));
    assert_eq!(
        stderr(&forbidden),
        "error: forbidden: user \"no-pods\" is not allowed to list pods in namespace \"default\"; ask for the role in the README (kubectl-ds needs get, list and watch on it)\n"
    );

    // The published read-only role is enough, and nothing is written.
    let role = common::rbac_role("read-only");
    apply_yaml(&client, &format!("{role}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: viewer}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubectl-ds-read-only}}\nsubjects: [{{kind: User, name: viewer}}]\n")).await.expect("read-only role");
    let viewer = tb
        .kubeconfig_for_user("viewer", &[])
        .expect("viewer kubeconfig");
    let ok = kubectl_ds(&viewer, &["coverage", "-A"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    let ok = kubectl_ds(&viewer, &["coverage", "agent", "-o", "json"]);
    assert_eq!(ok.status.code(), Some(0), "{}", stderr(&ok));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let events = tb.audit_events().expect("audit log");
    let viewer_verbs: BTreeSet<String> = events
        .iter()
        .filter(|e| e["user"]["username"] == "viewer")
        .filter_map(|e| e["verb"].as_str().map(str::to_string))
        .collect();
    assert!(
        !viewer_verbs.is_empty(),
        "the audit log shows the viewer's requests"
    );
    assert!(
        viewer_verbs
            .iter()
            .all(|v| matches!(v.as_str(), "get" | "list" | "watch")),
        "read-only commands sent {viewer_verbs:?}"
    );
}
