//! `kubectl ds rollout status|history` and `rollback` against the real DaemonSet controller on
//! the testbed, compared with what real `kubectl rollout status|undo` do on identical objects.

use crate::common;

use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use crate::common::{kubectl_ds, stderr, stdout};
use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams};
use kubectl_ds_testbed::{
    Component, FakeNode, Options, Testbed, add_node, apply_yaml, wait_daemonset_settled,
};
use serde_json::Value;

const NS: &str = "default";
const SETTLE: Duration = Duration::from_secs(60);

/// Runs real kubectl with only the given kubeconfig.
fn kubectl(kubeconfig: &Path, args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("KUBECONFIG", kubeconfig)
        .output()
        .expect("run kubectl")
}

fn kubectl_ds_env(kubeconfig: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_kubectl-ds"));
    c.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("KUBECONFIG", kubeconfig);
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run kubectl-ds")
}

/// A DaemonSet with one container of `image`, the given update strategy (YAML flow mapping)
/// and pod spec extras (YAML flow entries, e.g. `nodeSelector: {pool: x}`).
fn manifest(name: &str, image: &str, strategy: &str, cause: &str, extra: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {name}
  namespace: {NS}
  annotations: {{kubernetes.io/change-cause: '{cause}'}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  updateStrategy: {strategy}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
      {extra}
      containers:
      - name: main
        image: {image}
"
    )
}

const ROLLING: &str = "{type: RollingUpdate}";

async fn settle(client: &kube::Client, name: &str) -> DaemonSet {
    wait_daemonset_settled(client, NS, name, SETTLE)
        .await
        .unwrap_or_else(|e| panic!("{name} did not settle: {e}"))
}

async fn set_image(client: &kube::Client, name: &str, image: &str) {
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), NS);
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "image": image}]}}}});
    api.patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .expect("set image");
}

/// Owned revision numbers, ascending, and the current one's image.
async fn revisions_of(client: &kube::Client, name: &str) -> (Vec<i64>, String) {
    let ds: DaemonSet = Api::namespaced(client.clone(), NS)
        .get(name)
        .await
        .expect("get ds");
    let uid = ds.metadata.uid.clone().unwrap_or_default();
    let revs: Api<ControllerRevision> = Api::namespaced(client.clone(), NS);
    let mut owned: Vec<ControllerRevision> = revs
        .list(&ListParams::default())
        .await
        .expect("list revisions")
        .items
        .into_iter()
        .filter(|r| {
            r.metadata
                .owner_references
                .iter()
                .flatten()
                .any(|o| o.uid == uid)
        })
        .collect();
    owned.sort_by_key(|r| r.revision);
    let image = owned
        .last()
        .map(|r| {
            r.data.0["spec"]["template"]["spec"]["containers"][0]["image"]
                .as_str()
                .unwrap_or_default()
                .to_string()
        })
        .unwrap_or_default();
    (
        owned.iter().map(|r| r.revision.unwrap_or(0)).collect(),
        image,
    )
}

/// (pod name, image, revision hash) of the DaemonSet's live pods.
async fn pods_of(client: &kube::Client, name: &str) -> BTreeSet<(String, String, String)> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    pods.list(&ListParams::default().labels(&format!("app={name}")))
        .await
        .expect("list pods")
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .map(|p| {
            let image = p
                .spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.clone())
                .unwrap_or_default();
            let hash = p
                .metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("controller-revision-hash"))
                .cloned()
                .unwrap_or_default();
            (p.metadata.name.unwrap_or_default(), image, hash)
        })
        .collect()
}

fn json_of(o: &Output) -> Value {
    serde_json::from_slice(&o.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}\n{}", stdout(o), stderr(o)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rollback_to_revision_one_matches_kubectl_undo_and_loses_races_cleanly() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    let kc = tb.kubeconfig();
    for n in ["node-1", "node-2", "node-3"] {
        add_node(&client, &FakeNode::new(n)).await.expect("node");
    }
    let mut story = common::Story::new("three revisions, ours and kubectl's");
    // Two identical DaemonSets through three image revisions: ours and kubectl's.
    for (i, image) in ["agent:1", "agent:2", "agent:3"].iter().enumerate() {
        let img = format!("registry.example/{image}");
        let cause = format!("revision {} {image}", i + 1);
        apply_yaml(
            &client,
            &format!(
                "{}---\n{}",
                manifest("ours", &img, ROLLING, &cause, ""),
                manifest("theirs", &img, ROLLING, &cause, "")
            ),
        )
        .await
        .expect("apply");
        settle(&client, "ours").await;
        settle(&client, "theirs").await;
    }
    assert_eq!(revisions_of(&client, "ours").await.0, [1, 2, 3]);

    story.step("history");
    // History: table, JSON, one revision's template, a diff.
    let h = kubectl_ds(kc, &["rollout", "history", "ours"]);
    assert_eq!(h.status.code(), Some(0), "{}", stderr(&h));
    let text = stdout(&h);
    println!("$ kubectl ds rollout history ours\n{text}");
    assert!(text.starts_with("REVISION   AGE"), "{text}");
    assert!(text.contains("registry.example/agent:1"), "{text}");
    assert!(text.contains("revision 3 agent:3"), "{text}");
    let doc = json_of(&kubectl_ds(
        kc,
        &["rollout", "history", "ours", "-o", "json"],
    ));
    assert_eq!(doc["kind"], "RolloutHistory");
    assert_eq!(doc["revisions"][2]["current"], true);
    assert_eq!(doc["revisions"][2]["pods"], 3);
    assert_eq!(doc["revisions"][0]["pods"], 0);
    let one = kubectl_ds(kc, &["rollout", "history", "ours", "--revision", "1"]);
    assert!(
        stdout(&one).contains("image: registry.example/agent:1"),
        "{}",
        stdout(&one)
    );
    let diff = kubectl_ds(kc, &["rollout", "history", "ours", "--diff", "1", "3"]);
    let d = stdout(&diff);
    println!("$ kubectl ds rollout history ours --diff 1 3\n{d}");
    assert!(d.contains("-  - image: registry.example/agent:1"), "{d}");
    assert!(d.contains("+  - image: registry.example/agent:3"), "{d}");
    // Through KUBECTL_EXTERNAL_DIFF, with two files.
    let ext = kubectl_ds_env(
        kc,
        &["rollout", "history", "ours", "--diff", "1", "3"],
        &[("KUBECTL_EXTERNAL_DIFF", "diff -u")],
    );
    assert_eq!(ext.status.code(), Some(0), "{}", stderr(&ext));
    assert!(stdout(&ext).contains("+  - image: registry.example/agent:3"));

    story.step("errors");
    // Errors: unknown revision lists the ones that exist; unknown DaemonSet.
    let bad = kubectl_ds(kc, &["rollback", "ours", "--to-revision", "7", "--yes"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(
        stderr(&bad).contains("the revisions are 1, 2, 3"),
        "{}",
        stderr(&bad)
    );
    let missing = kubectl_ds(kc, &["rollback", "nope", "--yes"]);
    assert_eq!(missing.status.code(), Some(2));
    assert!(
        stderr(&missing).contains("\"nope\" not found"),
        "{}",
        stderr(&missing)
    );

    story.step("dry run");
    // Dry run: a diff, no change.
    let before: DaemonSet = Api::namespaced(client.clone(), NS)
        .get("ours")
        .await
        .expect("ds");
    let dry = kubectl_ds(kc, &["rollback", "ours", "--to-revision", "1", "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", stderr(&dry));
    println!(
        "$ kubectl ds rollback ours --to-revision 1 --dry-run\n{}",
        stdout(&dry)
    );
    assert!(stdout(&dry).contains("+  - image: registry.example/agent:1"));
    let after: DaemonSet = Api::namespaced(client.clone(), NS)
        .get("ours")
        .await
        .expect("ds");
    assert_eq!(before.metadata.generation, after.metadata.generation);

    let doc = json_of(&kubectl_ds(
        kc,
        &[
            "rollback",
            "ours",
            "--to-revision",
            "1",
            "--dry-run",
            "-o",
            "json",
        ],
    ));
    assert_eq!(doc["kind"], "RollbackResult");
    assert_eq!(doc["result"], "DryRun");
    assert_eq!(
        (doc["toRevision"].as_i64(), doc["fromRevision"].as_i64()),
        (Some(1), Some(3))
    );

    story.step("rollback to revision one");
    // The rollback, ours and kubectl's.
    let ours_before = pods_of(&client, "ours").await;
    let theirs_before = pods_of(&client, "theirs").await;
    let rb = kubectl_ds(kc, &["rollback", "ours", "--to-revision", "1"]);
    assert_eq!(rb.status.code(), Some(0), "{}", stderr(&rb));
    println!(
        "$ kubectl ds rollback ours --to-revision 1\n{}",
        stdout(&rb)
    );
    let undo = kubectl(kc, &["rollout", "undo", "ds/theirs", "--to-revision=1"]);
    assert_eq!(undo.status.code(), Some(0), "{}", stderr(&undo));
    settle(&client, "ours").await;
    settle(&client, "theirs").await;
    let (ours_revs, ours_image) = revisions_of(&client, "ours").await;
    let (theirs_revs, theirs_image) = revisions_of(&client, "theirs").await;
    assert_eq!(ours_revs, [2, 3, 4], "revision 1 renumbered to 4");
    assert_eq!(ours_revs, theirs_revs);
    assert_eq!(ours_image, "registry.example/agent:1");
    assert_eq!(ours_image, theirs_image);
    let ours_after = pods_of(&client, "ours").await;
    let theirs_after = pods_of(&client, "theirs").await;
    assert_eq!(ours_after.len(), 3);
    assert!(
        ours_after
            .iter()
            .all(|(_, image, _)| image == "registry.example/agent:1")
    );
    assert!(
        theirs_after
            .iter()
            .all(|(_, image, _)| image == "registry.example/agent:1")
    );
    let hashes = |s: &BTreeSet<(String, String, String)>| {
        s.iter().map(|(_, _, h)| h.clone()).collect::<BTreeSet<_>>()
    };
    assert_eq!(hashes(&ours_after).len(), 1, "every pod on one revision");
    // The same pods restarted (all of them, in both) or left alone.
    let kept = |b: &BTreeSet<(String, String, String)>, a: &BTreeSet<(String, String, String)>| {
        b.iter().filter(|p| a.contains(*p)).count()
    };
    assert_eq!(
        kept(&ours_before, &ours_after),
        kept(&theirs_before, &theirs_after)
    );
    // The template equals kubectl's result.
    let t = |name: &'static str| {
        let client = client.clone();
        async move {
            let ds: DaemonSet = Api::namespaced(client, NS).get(name).await.expect("ds");
            let mut v = serde_json::to_value(&ds.spec.template).expect("json");
            v["metadata"]["labels"] = Value::Null;
            v["spec"]["containers"][0]["name"] = Value::Null;
            v
        }
    };
    assert_eq!(t("ours").await, t("theirs").await);

    story.step("already current");
    // Already current: a no-op with a message.
    let noop = kubectl_ds(kc, &["rollback", "ours", "--to-revision", "4"]);
    assert_eq!(noop.status.code(), Some(0));
    assert!(
        stdout(&noop).contains("skipped rollback"),
        "{}",
        stdout(&noop)
    );
    let gen_before = after_generation(&client, "ours").await;

    story.step("race on the template");
    // A race that touches the template: the rollback loses and changes nothing.
    let hook = format!(
        "kubectl --kubeconfig {} set image ds/ours main=registry.example/agent:9 >/dev/null",
        kc.display()
    );
    let raced = kubectl_ds_env(
        kc,
        &["rollback", "ours", "--to-revision", "3", "--yes"],
        &[("KUBECTL_DS_TEST_BEFORE_PATCH", &hook)],
    );
    assert_eq!(raced.status.code(), Some(3), "{}", stderr(&raced));
    println!(
        "$ kubectl ds rollback ours --to-revision 3   # racing kubectl set image\n{}",
        stderr(&raced)
    );
    assert!(stderr(&raced).contains("conflict"), "{}", stderr(&raced));
    let ds: DaemonSet = Api::namespaced(client.clone(), NS)
        .get("ours")
        .await
        .expect("ds");
    assert_eq!(
        ds.spec
            .template
            .spec
            .as_ref()
            .and_then(|s| s.containers[0].image.as_deref()),
        Some("registry.example/agent:9"),
        "the concurrent change stands, nothing of the rollback applied"
    );
    assert_eq!(ds.metadata.generation, gen_before.map(|g| g + 1));
    settle(&client, "ours").await;

    story.step("race on a label");
    // A race that leaves the template alone (a label): retried, and it succeeds.
    let hook = format!(
        "kubectl --kubeconfig {} label --overwrite ds/ours touched=yes >/dev/null",
        kc.display()
    );
    let benign = kubectl_ds_env(
        kc,
        &["rollback", "ours", "--yes"],
        &[("KUBECTL_DS_TEST_BEFORE_PATCH", &hook)],
    );
    assert_eq!(benign.status.code(), Some(0), "{}", stderr(&benign));
    assert!(
        stdout(&benign).contains("flips back"),
        "{}",
        stdout(&benign)
    );
    settle(&client, "ours").await;
    assert_eq!(
        revisions_of(&client, "ours").await.1,
        "registry.example/agent:1"
    );

    story.step("terminal prompt");
    // On a terminal it shows the diff and asks; "n" changes nothing.
    let gen_before = after_generation(&client, "ours").await;
    let mut asked = Command::new("script")
        .args([
            "-qec",
            &format!(
                "{} rollback ours --to-revision 3",
                env!("CARGO_BIN_EXE_kubectl-ds")
            ),
            "/dev/null",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("KUBECONFIG", kc)
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("script");
    {
        use std::io::Write as _;
        let mut stdin = asked.stdin.take().expect("stdin");
        std::thread::sleep(Duration::from_secs(2));
        stdin.write_all(b"n\n").expect("answer");
    }
    let asked = asked.wait_with_output().expect("script output");
    let text = stdout(&asked);
    assert!(
        text.contains("Roll back daemonset \"ours\" to revision 3? [y/N]"),
        "{text}"
    );
    assert!(text.contains("rollback cancelled"), "{text}");
    assert_eq!(asked.status.code(), Some(1), "{text}");
    assert_eq!(after_generation(&client, "ours").await, gen_before);

    story.step("RBAC");
    // Forbidden with the published read-only role; allowed once the rollback role is added.
    let bind = |role: &str| {
        format!(
            "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {role}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\nsubjects: [{{kind: User, name: reader}}]\n"
        )
    };
    apply_yaml(
        &client,
        &format!(
            "{}---\n{}",
            common::rbac_role("read-only"),
            bind("kubectl-ds-read-only")
        ),
    )
    .await
    .expect("read-only role");
    let reader = tb.kubeconfig_for_user("reader", &[]).expect("kubeconfig");
    let denied = kubectl_ds(
        &reader,
        &["rollback", "ours", "--to-revision", "2", "--yes"],
    );
    assert_eq!(denied.status.code(), Some(3), "{}", stderr(&denied));
    println!(
        "$ kubectl ds rollback ours --to-revision 2   # as a read-only user\n{}",
        stderr(&denied)
    );
    assert!(
        stderr(&denied).contains("patch on daemonsets"),
        "{}",
        stderr(&denied)
    );
    apply_yaml(
        &client,
        &format!(
            "{}---\n{}",
            common::rbac_role("rollback"),
            bind("kubectl-ds-rollback")
        ),
    )
    .await
    .expect("rollback role");
    let allowed = kubectl_ds(
        &reader,
        &["rollback", "ours", "--to-revision", "2", "--yes"],
    );
    assert_eq!(allowed.status.code(), Some(0), "{}", stderr(&allowed));

    story.step("a node goes NotReady mid-rollout");
    // A node going NotReady in the middle of a rollout: it leaves the desired count, kubectl
    // and we both end with success, and we list it if it still runs the old revision.
    add_node(&client, &FakeNode::new("wobbly"))
        .await
        .expect("node");
    apply_yaml(
        &client,
        &manifest("midway", "registry.example/agent:1", ROLLING, "", ""),
    )
    .await
    .expect("apply");
    settle(&client, "midway").await;
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), NS);
    let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"testbed.kubectl-ds/ready-delay": "2s"}}, "spec": {"containers": [{"name": "main", "image": "registry.example/agent:2"}]}}}});
    api.patch("midway", &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .expect("patch");
    let deadline = Instant::now() + SETTLE;
    loop {
        let (_, item) = ours_once(kc, "midway");
        if item["counts"]["done"].as_u64().unwrap_or(0) >= 1 {
            assert_eq!(item["state"], "Progressing", "{item}");
            break;
        }
        assert!(Instant::now() < deadline, "midway never progressed: {item}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    report_not_ready(&client, "wobbly").await;
    let ours = kubectl_ds(
        kc,
        &["rollout", "status", "midway", "--watch", "--timeout", "60s"],
    );
    let theirs = kubectl(kc, &["rollout", "status", "ds/midway", "--timeout=60s"]);
    println!(
        "$ kubectl ds rollout status midway --watch   # wobbly went NotReady\n{}",
        stdout(&ours)
    );
    assert_eq!(
        ours.status.code(),
        Some(0),
        "{}{}",
        stdout(&ours),
        stderr(&ours)
    );
    assert_eq!(theirs.status.code(), Some(0), "{}", stderr(&theirs));
    let (_, item) = ours_once(kc, "midway");
    let listed: Vec<&str> = item["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter_map(|n| n["node"].as_str())
        .collect();
    assert!(!listed.contains(&"wobbly"), "{item}");
    let old_on_wobbly = pods_of(&client, "midway")
        .await
        .into_iter()
        .filter(|(_, image, _)| image.ends_with("agent:1"))
        .count();
    let excluded = item["excludedOld"].as_array().map_or(0, Vec::len);
    assert_eq!(excluded, old_on_wobbly, "{item}");
}

/// The node's kubelet reports NotReady (Ready=False), as one whose runtime went down does.
async fn report_not_ready(client: &kube::Client, node: &str) {
    let ready = serde_json::json!({"status": {"conditions": [{"type": "Ready", "status": "False", "reason": "KubeletNotReady"}]}});
    Api::<Node>::all(client.clone())
        .patch_status(node, &PatchParams::default(), &Patch::Strategic(ready))
        .await
        .unwrap_or_else(|e| panic!("{node} NotReady: {e}"));
}

/// Waits until our status says the rollout is stuck (the new pods' image pull failed), then a
/// moment more so the controller's status has caught up.
async fn wait_stuck(kc: &Path, name: &str) {
    let deadline = Instant::now() + SETTLE;
    loop {
        let (_, item) = ours_once(kc, name);
        if item["state"] == "Stuck" {
            tokio::time::sleep(Duration::from_secs(2)).await;
            return;
        }
        assert!(Instant::now() < deadline, "{name} never got stuck: {item}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

async fn after_generation(client: &kube::Client, name: &str) -> Option<i64> {
    let ds: DaemonSet = Api::namespaced(client.clone(), NS)
        .get(name)
        .await
        .expect("ds");
    ds.metadata.generation
}

/// kubectl's verdict line for one DaemonSet (`--watch=false`), and its exit code.
fn kubectl_once(kc: &Path, name: &str) -> (Option<i32>, String) {
    let o = kubectl(
        kc,
        &["rollout", "status", &format!("ds/{name}"), "--watch=false"],
    );
    (
        o.status.code(),
        format!("{}{}", stdout(&o), stderr(&o)).trim().to_string(),
    )
}

/// Our verdict for one DaemonSet: the JSON item, and our exit code.
fn ours_once(kc: &Path, name: &str) -> (Option<i32>, Value) {
    let o = kubectl_ds(kc, &["rollout", "status", name, "-o", "json"]);
    let doc = json_of(&o);
    (o.status.code(), doc["items"][0].clone())
}

/// Exit codes of kubectl and of us, both following the rollout with the same timeout, and how
/// long we took.
fn watch_both(
    kc: &Path,
    name: &str,
    timeout: &str,
) -> (Option<i32>, Option<i32>, Duration, String) {
    let theirs = kubectl(
        kc,
        &[
            "rollout",
            "status",
            &format!("ds/{name}"),
            &format!("--timeout={timeout}"),
        ],
    );
    let start = Instant::now();
    let ours = kubectl_ds(
        kc,
        &["rollout", "status", name, "--watch", "--timeout", timeout],
    );
    (
        theirs.status.code(),
        ours.status.code(),
        start.elapsed(),
        format!("{}{}", stdout(&ours), stderr(&ours)),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_agrees_with_kubectl_on_many_scenarios() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    let kc = tb.kubeconfig();
    for n in ["node-1", "node-2", "node-3"] {
        add_node(&client, &FakeNode::new(n).label("pool", "main"))
            .await
            .expect("node");
    }
    add_node(&client, &FakeNode::new("flaky").label("pool", "flaky"))
        .await
        .expect("node");
    let good = "registry.example/agent:1";
    let good2 = "registry.example/agent:2";
    let bad = "registry.example/bad-image:2";
    let crash = "registry.example/crashloop:2";
    let main_only = "nodeSelector: {pool: main}";
    let surge = "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}";
    let all_at_once = "{type: RollingUpdate, rollingUpdate: {maxUnavailable: '100%'}}";
    let on_delete = "{type: OnDelete}";
    // (name, strategy, pod spec extra, first image, second image or none)
    let scenarios: &[(&str, &str, &str, &str, Option<&str>)] = &[
        ("healthy", ROLLING, main_only, good, None),
        ("updated", ROLLING, main_only, good, Some(good2)),
        ("bad-image", ROLLING, main_only, good, Some(bad)),
        ("crashloop", ROLLING, main_only, good, Some(crash)),
        ("surge", surge, main_only, good, Some(good2)),
        ("surge-bad", surge, main_only, good, Some(bad)),
        ("all-at-once-bad", all_at_once, main_only, good, Some(bad)),
        ("ondelete", on_delete, main_only, good, Some(good2)),
        (
            "no-nodes",
            ROLLING,
            "nodeSelector: {pool: none}",
            good,
            Some(good2),
        ),
        ("new-bad-from-start", ROLLING, main_only, bad, None),
        ("flaky-node", ROLLING, "", good, None),
    ];
    let all: String = scenarios
        .iter()
        .map(|(name, strategy, extra, image, _)| {
            manifest(name, image, strategy, "", extra) + "---\n"
        })
        .collect();
    let mut story = common::Story::new("scenarios against kubectl");
    // Two more for following a rollout and for a timeout, outside the comparison loop.
    let all = format!(
        "{all}{}---\n{}",
        manifest("steady", good, ROLLING, "", main_only),
        manifest("slow", good, ROLLING, "", main_only)
    );
    apply_yaml(&client, &all).await.expect("apply");
    for name in scenarios.iter().map(|s| s.0).chain(["steady", "slow"]) {
        settle(&client, name).await;
    }
    for (name, _, _, _, second) in scenarios {
        if let Some(image) = second {
            set_image(&client, name, image).await;
        }
    }
    // A node going NotReady mid-rollout: the kubelet reports NotReady, then the update.
    report_not_ready(&client, "flaky").await;
    set_image(&client, "flaky-node", good2).await;
    for (name, ..) in scenarios {
        if *name == "surge-bad" {
            // The testbed's settle check does not cover a surge pod stuck next to the old one:
            // wait until the new pod's image pull has failed.
            wait_stuck(kc, name).await;
        } else {
            settle(&client, name).await;
        }
    }

    let mut compared = 0;
    for (name, ..) in scenarios {
        let (k_code, k_line) = kubectl_once(kc, name);
        let (o_code, item) = ours_once(kc, name);
        println!(
            "{name}: kubectl {k_code:?} {k_line:?}; ours {o_code:?} {} {}",
            item["state"], item["message"]
        );
        if *name == "ondelete" {
            // kubectl refuses OnDelete; we list the nodes whose pods must be deleted.
            assert_eq!(k_code, Some(1));
            assert!(
                k_line.contains("only available for RollingUpdate"),
                "{k_line}"
            );
            assert_eq!(o_code, Some(1));
            assert_eq!(item["state"], "WaitingForDeletion");
            let waiting: Vec<&str> = item["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .filter(|n| n["progress"] == "Waiting")
                .filter_map(|n| n["node"].as_str())
                .collect();
            assert_eq!(waiting, ["node-1", "node-2", "node-3"]);
            compared += 1;
            continue;
        }
        // kubectl's own words, computed by us from the same object.
        assert_eq!(item["kubectl"]["message"], k_line, "{name}");
        let k_done = k_line.contains("successfully rolled out");
        assert_eq!(item["state"] == "Complete", k_done, "{name}: {item}");
        // Following the rollout: same exit code; stuck ones end before the timeout for us.
        let (k_watch, o_watch, took, text) = watch_both(kc, name, "3s");
        assert_eq!(k_watch, o_watch, "{name}: {text}");
        if item["state"] == "Stuck" {
            assert_eq!(o_watch, Some(1));
            assert!(
                !text.contains("timed out") && took < Duration::from_secs(3),
                "{name} reported stuck only after {took:?}: {text}"
            );
        }
        compared += 1;
    }
    assert!(compared >= 10);

    story.step("bad image");
    // The bad image: stuck on a node, with the reason.
    let (_, item) = ours_once(kc, "bad-image");
    assert_eq!(item["state"], "Stuck");
    let stuck: Vec<&Value> = item["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .filter(|n| n["progress"] == "Stuck")
        .collect();
    assert_eq!(stuck.len(), 1, "{item}");
    assert!(
        stuck[0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("ImagePullBackOff")),
        "{item}"
    );
    let text = kubectl_ds(kc, &["rollout", "status", "bad-image"]);
    assert_eq!(text.status.code(), Some(1));
    println!("$ kubectl ds rollout status bad-image\n{}", stdout(&text));
    assert!(
        stdout(&text).contains("rollout is stuck"),
        "{}",
        stdout(&text)
    );

    story.step("NotReady node outside desired");
    // The NotReady node: outside desired, still on the old revision, listed.
    let (_, item) = ours_once(kc, "flaky-node");
    println!("flaky-node: {item}");
    let excluded: Vec<&str> = item["excludedOld"]
        .as_array()
        .expect("excludedOld")
        .iter()
        .filter_map(|n| n["node"].as_str())
        .collect();
    if item["state"] == "Complete" {
        // kubectl says done; if the controller left the old pod there, we list it.
        let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
        let on_flaky = pods
            .list(
                &ListParams::default()
                    .labels("app=flaky-node")
                    .fields("spec.nodeName=flaky"),
            )
            .await
            .expect("pods")
            .items
            .len();
        assert_eq!(excluded.len(), on_flaky, "{item}");
    }

    story.step("OnDelete");
    // OnDelete after the pods are deleted: done for us (kubectl still refuses).
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    pods.delete_collection(
        &DeleteParams::default(),
        &ListParams::default().labels("app=ondelete"),
    )
    .await
    .expect("delete pods");
    settle(&client, "ondelete").await;
    let (code, item) = ours_once(kc, "ondelete");
    assert_eq!(
        (code, item["state"].as_str()),
        (Some(0), Some("Complete")),
        "{item}"
    );

    story.step("many at once");
    // Many at once: one verdict, one exit code.
    let many = kubectl_ds(kc, &["rollout", "status", "healthy", "updated", "surge"]);
    assert_eq!(many.status.code(), Some(0), "{}", stdout(&many));
    let many = kubectl_ds(kc, &["rollout", "status", "-A", "-o", "json"]);
    assert_eq!(many.status.code(), Some(1));
    assert_eq!(json_of(&many)["state"], "Stuck");
    println!(
        "$ kubectl ds rollout status\n{}",
        stdout(&kubectl_ds(kc, &["rollout", "status"]))
    );

    story.step("follow to the end");
    // Following a rollout to its end: the progress lines, then exit 0, as kubectl.
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), NS);
    let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"testbed.kubectl-ds/ready-delay": "1s"}}}}});
    api.patch("steady", &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .expect("patch");
    let followed = kubectl_ds(
        kc,
        &["rollout", "status", "steady", "--watch", "--timeout", "60s"],
    );
    let text = stdout(&followed);
    println!("$ kubectl ds rollout status steady --watch | cat\n{text}");
    assert_eq!(
        followed.status.code(),
        Some(0),
        "{text}{}",
        stderr(&followed)
    );
    assert!(
        text.lines().filter(|l| l.contains("rolling out")).count() >= 2,
        "{text}"
    );
    assert!(text.contains("successfully rolled out"), "{text}");
    let theirs = kubectl(kc, &["rollout", "status", "ds/steady", "--timeout=10s"]);
    assert_eq!(theirs.status.code(), Some(0));

    // Then a bad image: followed live, reported stuck as soon as the pull backs off, long
    // before the timeout.
    set_image(&client, "steady", bad).await;
    let start = Instant::now();
    let followed = kubectl_ds(
        kc,
        &["rollout", "status", "steady", "--watch", "--timeout", "60s"],
    );
    let took = start.elapsed();
    let text = stdout(&followed);
    println!("$ kubectl ds rollout status steady --watch | cat   # bad image\n{text}");
    assert_eq!(
        followed.status.code(),
        Some(1),
        "{text}{}",
        stderr(&followed)
    );
    assert!(text.contains("rollout is stuck"), "{text}");
    assert!(
        took < Duration::from_secs(20),
        "stuck reported after {took:?}"
    );

    story.step("label selector");
    // A label selector picks DaemonSets like names do; no match is an empty report.
    let none = kubectl_ds(kc, &["rollout", "status", "-l", "tier=web", "-o", "json"]);
    assert_eq!(none.status.code(), Some(0), "{}", stderr(&none));
    assert_eq!(json_of(&none)["items"], serde_json::json!([]));
    let labelled = kubectl(kc, &["label", "ds", "healthy", "surge", "tier=web"]);
    assert_eq!(labelled.status.code(), Some(0), "{}", stderr(&labelled));
    let by_label = kubectl_ds(kc, &["rollout", "status", "-l", "tier=web", "-o", "json"]);
    assert_eq!(by_label.status.code(), Some(0), "{}", stderr(&by_label));
    assert_eq!(
        json_of(&by_label)["items"].as_array().map(Vec::len),
        Some(2)
    );

    story.step("timeout");
    // A timeout: a rollout slowed down by the pods' ready delay.
    let patch = serde_json::json!({"spec": {"template": {"metadata": {"annotations": {"testbed.kubectl-ds/ready-delay": "20s"}}}}});
    api.patch("slow", &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .expect("patch");
    let (k_watch, o_watch, _, text) = watch_both(kc, "slow", "3s");
    assert_eq!((k_watch, o_watch), (Some(1), Some(1)), "{text}");
    assert!(text.contains("timed out after 3s"), "{text}");
}

/// Waits until `node` is tainted unreachable, NoExecute too (its kubelet never reported; the
/// NoSchedule taint comes first, the NoExecute one through the rate-limited tainter).
async fn wait_unreachable(client: &kube::Client, node: &str) {
    let nodes: Api<Node> = Api::all(client.clone());
    kubectl_ds_testbed::wait_for(
        "the dead node to be tainted unreachable",
        Duration::from_secs(90),
        || async {
            let n = nodes.get(node).await?;
            let tainted = n
                .spec
                .as_ref()
                .and_then(|s| s.taints.as_ref())
                .is_some_and(|ts| {
                    ts.iter().any(|t| {
                        t.key == "node.kubernetes.io/unreachable" && t.effect == "NoExecute"
                    })
                });
            Ok::<_, kubectl_ds_testbed::Error>(tainted.then_some(()))
        },
    )
    .await
    .expect("dead node");
}

/// The DaemonSet's pods on `node`: (name, terminating).
async fn pods_on(client: &kube::Client, ds: &str, node: &str) -> Vec<(String, bool)> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    pods.list(&ListParams::default().labels(&format!("app={ds}")))
        .await
        .expect("pods")
        .items
        .into_iter()
        .filter(|p| common::pod_node(p).as_deref() == Some(node))
        .map(|p| {
            let terminating = p.metadata.deletion_timestamp.is_some();
            (p.metadata.name.unwrap_or_default(), terminating)
        })
        .collect()
}

/// The DaemonSet's `updatedNumberScheduled`, as the controller reports it.
async fn updated_count(client: &kube::Client, name: &str) -> i32 {
    let ds: DaemonSet = Api::namespaced(client.clone(), NS)
        .get(name)
        .await
        .expect("ds");
    ds.status
        .and_then(|s| s.updated_number_scheduled)
        .unwrap_or(0)
}

/// Polls our verdict until `pred` holds for it.
async fn wait_ours(kc: &Path, name: &str, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + SETTLE;
    loop {
        let (_, item) = ours_once(kc, name);
        if pred(&item) {
            return item;
        }
        assert!(Instant::now() < deadline, "{name}: never {what}: {item}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

/// A node whose kubelet died holds an old pod: the rollout stalls for good without surge when
/// the pod's deletion takes the whole maxUnavailable, and goes on with surge or a larger
/// budget. Ours against the controller over time and against kubectl at the same moment;
/// then the two ways out. Also: a template that is fully rolled out is complete even though
/// the dead node's pod never starts (a node problem), and coverage and explain name the
/// Terminating pod and the pods that will never start.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_node_stalls_a_rollout_exactly_when_the_controller_stalls() {
    let mut tb = Testbed::start(Options {
        node_monitor_grace_period: Duration::from_secs(8),
        node_startup_grace_period: Duration::from_secs(8),
        ..Options::default()
    })
    .await
    .expect("testbed");
    let client = tb.client().await.expect("client");
    let kc_path = tb.kubeconfig().to_path_buf();
    let kc = kc_path.as_path();
    for n in ["node-1", "node-2", "node-3"] {
        add_node(&client, &FakeNode::new(n)).await.expect("node");
    }
    let mut story = common::Story::new("a node dies with pods bound");
    // Ready as far as its status says, but nobody heartbeats it: it dies after the grace period.
    add_node(&client, &FakeNode::new("dead").unmanaged())
        .await
        .expect("dead node");
    let good = "registry.example/agent:1";
    let surge = |s: &str| {
        format!("{{type: RollingUpdate, rollingUpdate: {{maxUnavailable: 0, maxSurge: {s}}}}}")
    };
    let unavailable =
        |u: &str| format!("{{type: RollingUpdate, rollingUpdate: {{maxUnavailable: {u}}}}}");
    // (name, strategy, stalls on the dead node's Terminating pod)
    let cases: Vec<(&str, String, bool)> = vec![
        ("plain", ROLLING.to_string(), true),
        ("third", unavailable("'33%'"), true),
        ("more", unavailable("'34%'"), false),
        ("two", unavailable("2"), false),
        ("surge", surge("1"), false),
        ("surge-pct", surge("'50%'"), false),
    ];
    let mut all: String = cases
        .iter()
        .map(|(name, strategy, _)| manifest(name, good, strategy, "", "") + "---\n")
        .collect();
    // Tolerates everything, so the dead node stays in desiredNumberScheduled.
    all.push_str(&manifest(
        "everywhere",
        good,
        ROLLING,
        "",
        "tolerations: [{operator: Exists}]",
    ));
    // Tolerates NoExecute taints for 25 s only: that toleration comes before the controller's
    // own forever-tolerations (point 6).
    all.push_str("---\n");
    all.push_str(&manifest(
        "evict-soon",
        good,
        ROLLING,
        "",
        "tolerations: [{operator: Exists, effect: NoExecute, tolerationSeconds: 25}]",
    ));
    all.push_str("---\n");
    all.push_str(&manifest(
        "evict-loop",
        good,
        ROLLING,
        "",
        "tolerations: [{key: maintenance, operator: Exists, effect: NoExecute, tolerationSeconds: 3}]",
    ));
    apply_yaml(&client, &all).await.expect("apply");
    for name in cases.iter().map(|c| c.0).chain(["evict-soon"]) {
        let bound =
            kubectl_ds_testbed::wait_for("a pod bound to the dead node", SETTLE, || async {
                let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
                let list = pods
                    .list(&ListParams::default().labels(&format!("app={name}")))
                    .await?;
                let on_dead = list
                    .items
                    .iter()
                    .any(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some("dead"));
                Ok::<_, kubectl_ds_testbed::Error>(on_dead.then_some(()))
            });
        bound.await.expect("bound to the dead node before it died");
    }
    wait_unreachable(&client, "dead").await;
    story.step("eviction countdown");
    // The taint-eviction controller's countdown, in coverage before it runs out.
    let cov = json_of(&kubectl_ds(kc, &["coverage", "evict-soon", "-o", "json"]));
    let m = &cov["items"][0]["misscheduled"][0];
    println!("evict-soon on the dead node: {m}");
    assert_eq!(m["willBeRemoved"], true, "{m}");
    let left = m["eviction"]["secondsLeft"].as_i64().expect("seconds left");
    assert!((10..=25).contains(&left), "{m}");
    let text = stdout(&kubectl_ds(kc, &["coverage", "evict-soon"]));
    println!("$ kubectl ds coverage evict-soon\n{text}");
    assert!(text.contains("evicted"), "{text}");
    let (_, item) = ours_once(kc, "evict-soon");
    println!("evict-soon rollout status: {}", item["message"]);
    assert!(
        item["evictions"][0].as_str().is_some_and(
            |e| e.starts_with("dead: the taint-eviction controller evicts the pod in ")
        ),
        "{item}"
    );

    story.step("nothing to roll out");
    // Nothing to roll out: complete, though the dead node's pod never starts (point 8).
    let item = wait_ours(kc, "everywhere", "complete", |i| i["state"] == "Complete").await;
    let (k_code, k_line) = kubectl_once(kc, "everywhere");
    println!(
        "everywhere: kubectl {k_code:?} {k_line:?}; ours {}",
        item["message"]
    );
    assert!(
        k_line.contains("3 of 4 updated pods are available"),
        "{k_line}"
    );
    assert!(
        item["message"].as_str().is_some_and(
            |m| m.contains("dead (node unreachable") && m.contains("kubectl keeps waiting")
        ),
        "{item}"
    );
    let (code, _) = ours_once(kc, "everywhere");
    assert_eq!(code, Some(0));
    let followed = kubectl_ds(
        kc,
        &[
            "rollout",
            "status",
            "everywhere",
            "--watch",
            "--timeout",
            "20s",
        ],
    );
    assert_eq!(followed.status.code(), Some(0), "{}", stdout(&followed));
    // Its pod there is named as what it is (point 9).
    let explained = json_of(&kubectl_ds(
        kc,
        &["explain", "node", "dead", "everywhere", "-o", "json"],
    ));
    println!("explain node dead everywhere: {}", explained["verdicts"][0]);
    assert_eq!(explained["verdicts"][0]["code"], "NodeDown", "{explained}");

    for (name, ..) in &cases {
        set_image(&client, name, "registry.example/agent:2").await;
    }
    story.step("stuck on the dead node");
    // The controller deletes the dead node's unavailable old pod at once; its kubelet is gone,
    // so it stays Terminating.
    for (name, _, stalls) in &cases {
        if !*stalls {
            continue;
        }
        let item = wait_ours(kc, name, "stuck", |i| i["state"] == "Stuck").await;
        let (k_code, k_line) = kubectl_once(kc, name);
        println!(
            "{name}: kubectl {k_code:?} {k_line:?}; ours {}",
            item["message"]
        );
        assert_eq!(pods_on(&client, name, "dead").await.len(), 1);
        assert!(pods_on(&client, name, "dead").await[0].1, "Terminating");
        let dead_row = item["nodes"]
            .as_array()
            .expect("nodes")
            .iter()
            .find(|n| n["node"] == "dead")
            .cloned()
            .unwrap_or_else(|| panic!("{name}: no row for the dead node: {item}"));
        assert_eq!(dead_row["progress"], "Stuck", "{item}");
        assert!(
            dead_row["wayOut"]
                .as_str()
                .is_some_and(|w| w.contains("--force") && w.contains("out-of-service")),
            "{item}"
        );
        assert!(
            k_line.contains("0 out of 3 new pods have been updated"),
            "{k_line}"
        );
    }
    story.step("over time, against the controller");
    // Over time the controller does not move either, and kubectl keeps waiting; we exit 1 at
    // once, kubectl at its timeout.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for (name, _, stalls) in &cases {
        let (k_watch, o_watch, took, text) = watch_both(kc, name, "5s");
        println!("{name}: watch kubectl {k_watch:?}, ours {o_watch:?} after {took:?}");
        if *stalls {
            assert_eq!(
                updated_count(&client, name).await,
                0,
                "{name}: the controller moved"
            );
            assert_eq!((k_watch, o_watch), (Some(1), Some(1)), "{name}: {text}");
            assert!(took < Duration::from_secs(3), "{name}: {took:?} {text}");
        } else {
            assert_eq!((k_watch, o_watch), (Some(0), Some(0)), "{name}: {text}");
        }
    }
    story.step("coverage and explain name the pod");
    // coverage and explain name the Terminating pod and the way out (point 9).
    let cov = json_of(&kubectl_ds(kc, &["coverage", "plain", "-o", "json"]));
    let m = &cov["items"][0]["misscheduled"][0];
    println!("coverage plain misscheduled: {m}");
    assert_eq!(m["node"], "dead", "{cov}");
    assert_eq!(
        (m["terminating"].as_bool(), m["willBeRemoved"].as_bool()),
        (Some(true), Some(true))
    );
    assert!(
        m["waitsFor"]
            .as_str()
            .is_some_and(|w| w.contains("--force")),
        "{m}"
    );
    let text = stdout(&kubectl_ds(kc, &["coverage", "plain"]));
    println!("$ kubectl ds coverage plain\n{text}");
    assert!(text.contains("Terminating, stuck"), "{text}");
    let explained = stdout(&kubectl_ds(
        kc,
        &["explain", "node", "dead", "everywhere", "plain", "-n", NS],
    ));
    println!("$ kubectl ds explain node dead everywhere plain\n{explained}");
    assert!(!explained.contains("ContainerCreating"), "{explained}");
    let text = stdout(&kubectl_ds(kc, &["rollout", "status", "plain"]));
    println!("$ kubectl ds rollout status plain\n{text}");

    story.step("way out 1: force delete");
    // Way out 1: force-delete the pod. The controller goes on; we follow it to the end.
    let (stuck_pod, _) = pods_on(&client, "plain", "dead").await.remove(0);
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    pods.delete(
        &stuck_pod,
        &DeleteParams {
            grace_period_seconds: Some(0),
            ..DeleteParams::default()
        },
    )
    .await
    .expect("force delete");
    let (k_watch, o_watch, _, text) = watch_both(kc, "plain", "60s");
    assert_eq!((k_watch, o_watch), (Some(0), Some(0)), "{text}");
    // The taint-eviction countdown runs out: the pod is evicted, and not recreated.
    kubectl_ds_testbed::wait_for("evict-soon's pod to be evicted", SETTLE, || async {
        let on_dead = pods_on(&client, "evict-soon", "dead").await;
        let evicted = on_dead.len() == 1 && on_dead[0].1;
        Ok::<_, kubectl_ds_testbed::Error>(evicted.then_some(()))
    })
    .await
    .expect("evicted");
    story.step("way out 2: out-of-service taint");
    // Way out 2: the out-of-service taint; PodGC finishes the deletion.
    let nodes: Api<Node> = Api::all(client.clone());
    let taint = serde_json::json!({"spec": {"taints": [
        {"key": "node.kubernetes.io/unreachable", "effect": "NoSchedule"},
        {"key": "node.kubernetes.io/unreachable", "effect": "NoExecute"},
        {"key": "node.kubernetes.io/out-of-service", "value": "nodeshutdown", "effect": "NoExecute"}]}});
    nodes
        .patch("dead", &PatchParams::default(), &Patch::Merge(&taint))
        .await
        .expect("taint");
    let followed = kubectl_ds(
        kc,
        &["rollout", "status", "third", "--watch", "--timeout", "90s"],
    );
    println!(
        "$ kubectl ds rollout status third --watch | cat\n{}",
        stdout(&followed)
    );
    assert_eq!(
        followed.status.code(),
        Some(0),
        "{}{}",
        stdout(&followed),
        stderr(&followed)
    );
    assert!(pods_on(&client, "third", "dead").await.is_empty());

    story.step("evict-and-recreate loop");
    // A custom NoExecute taint tolerated for 3 s: evicted and recreated without end.
    let maintenance = serde_json::json!({"spec": {"taints": [{"key": "maintenance", "value": "true", "effect": "NoExecute"}]}});
    nodes
        .patch(
            "node-2",
            &PatchParams::default(),
            &Patch::Merge(&maintenance),
        )
        .await
        .expect("taint node-2");
    let cov = wait_ours_doc(kc, &["coverage", "evict-loop", "-o", "json"], |doc| {
        doc["items"][0]["nodes"].as_array().is_some_and(|ns| {
            ns.iter()
                .any(|n| n["node"] == "node-2" && n["eviction"]["recreated"] == true)
        })
    })
    .await;
    println!("evict-loop: {}", cov["items"][0]["nodes"]);
    // Each round is the 3 s toleration plus the eviction, the recreation and the bind: give
    // three rounds time on a loaded machine, and stop as soon as they are seen.
    let mut names = BTreeSet::new();
    let end = Instant::now() + Duration::from_secs(45);
    while Instant::now() < end && names.len() < 3 {
        names.extend(
            pods_on(&client, "evict-loop", "node-2")
                .await
                .into_iter()
                .map(|p| p.0),
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(names.len() >= 3, "evicted and recreated: {names:?}");
    let explained = stdout(&kubectl_ds(
        kc,
        &["explain", "node", "node-2", "evict-loop", "-n", NS],
    ));
    println!("$ kubectl ds explain node node-2 evict-loop\n{explained}");
    assert!(explained.contains("without end"), "{explained}");

    story.step("kubelets die with Ready pods");
    // The healthy nodes' kubelets die with Ready pods on them (point 7): those pods are not
    // coverage anybody can vouch for, whether or not the node-lifecycle controller marked them
    // NotReady.
    let covered = |doc: &Value| doc["items"][0]["summary"]["covered"].as_u64();
    let before = json_of(&kubectl_ds(kc, &["coverage", "everywhere", "-o", "json"]));
    assert_eq!(covered(&before), Some(3), "{before}");
    tb.stop_component(Component::Kwok).await.expect("stop kwok");
    kubectl_ds_testbed::wait_for("every kubelet to be silent", SETTLE, || async {
        let mut all = true;
        for n in ["node-1", "node-2", "node-3"] {
            all &= lifecycle_unknown(&nodes.get(n).await?);
        }
        Ok::<_, kubectl_ds_testbed::Error>(all.then_some(()))
    })
    .await
    .expect("node-3 dies");
    let after = json_of(&kubectl_ds(kc, &["coverage", "everywhere", "-o", "json"]));
    let row = after["items"][0]["nodes"]
        .as_array()
        .expect("nodes")
        .iter()
        .find(|n| n["node"] == "node-3")
        .cloned()
        .expect("node-3 row");
    println!("node-3 after its kubelet died: {row}");
    assert!(
        row["state"] == "Unverified" || row["state"] == "NotReady",
        "{row}"
    );
    assert_eq!(covered(&after), Some(0), "{after}");
    let gate = kubectl_ds(kc, &["coverage", "everywhere", "--fail-under", "60"]);
    println!(
        "$ kubectl ds coverage everywhere --fail-under 60\n{}",
        stdout(&gate)
    );
    assert_eq!(gate.status.code(), Some(1));
}

/// Polls a kubectl-ds JSON document until `pred` holds for it.
async fn wait_ours_doc(kc: &Path, args: &[&str], pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + SETTLE;
    loop {
        let doc = json_of(&kubectl_ds(kc, args));
        if pred(&doc) {
            return doc;
        }
        assert!(Instant::now() < deadline, "{args:?}: never so: {doc}");
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

fn lifecycle_unknown(n: &Node) -> bool {
    n.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| {
            cs.iter()
                .any(|c| c.type_ == "Ready" && c.status == "Unknown")
        })
}

/// A DaemonSet on the nodes labelled `pool`, requesting `cpu`, with the given strategy and
/// pod spec extras; its pods turn Ready after `delay`.
fn pooled(name: &str, pool: &str, cpu: &str, strategy: &str, extra: &str, delay: &str) -> String {
    format!(
        "apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: {name}, namespace: {NS}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  updateStrategy: {strategy}
  template:
    metadata:
      labels: {{app: {name}}}
      annotations: {{testbed.kubectl-ds/ready-delay: '{delay}'}}
    spec:
      nodeSelector: {{pool: {pool}}}
      {extra}
      containers:
      - name: main
        image: registry.example/agent:1
        resources: {{requests: {{cpu: '{cpu}'}}}}
"
    )
}

/// Our state and the controller's counters, sampled together.
#[derive(Debug, Clone, PartialEq)]
struct Sample {
    ours: String,
    kubectl: String,
    updated: i32,
    available: i32,
}

async fn sample(client: &kube::Client, kc: &Path, name: &str) -> Sample {
    let (_, item) = ours_once(kc, name);
    let (_, kubectl) = kubectl_once(kc, name);
    let ds: DaemonSet = Api::namespaced(client.clone(), NS)
        .get(name)
        .await
        .expect("ds");
    let st = ds.status.unwrap_or_default();
    Sample {
        ours: item["state"].as_str().unwrap_or("").to_string(),
        kubectl,
        updated: st.updated_number_scheduled.unwrap_or(0),
        available: st.number_available.unwrap_or(0),
    }
}

/// Follows rollouts for `secs`, sampling ours and the controller for each in turn. Stuck must
/// mean stuck: once we say so, the controller's counters never move again.
async fn follow_rollouts(
    client: &kube::Client,
    kc: &Path,
    names: &[&str],
    secs: u64,
) -> Vec<Vec<Sample>> {
    let mut all: Vec<Vec<Sample>> = names.iter().map(|_| Vec::new()).collect();
    let end = Instant::now() + Duration::from_secs(secs);
    while Instant::now() < end {
        for (i, name) in names.iter().enumerate() {
            all[i].push(sample(client, kc, name).await);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    for (name, samples) in names.iter().zip(&all) {
        let last = samples.last().cloned().expect("samples");
        if let Some(first_stuck) = samples.iter().position(|s| s.ours == "Stuck") {
            for s in &samples[first_stuck..] {
                assert_eq!(
                    (s.updated, s.available, s.ours.as_str()),
                    (last.updated, last.available, "Stuck"),
                    "{name}: we said Stuck, then the controller moved: {samples:#?}"
                );
            }
        }
    }
    all
}

/// Sets a pod's status as a kubelet would report it.
async fn report(client: &kube::Client, pod: &str, status: Value) {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    pods.patch_status(
        pod,
        &PatchParams::default(),
        &Patch::Merge(&serde_json::json!({"status": status})),
    )
    .await
    .expect("pod status");
}

/// The DaemonSet's newest pod on `node` that is not Failed and not being deleted.
async fn live_pod_on(client: &kube::Client, ds: &str, node: &str, image: &str) -> Option<String> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    pods.list(&ListParams::default().labels(&format!("app={ds}")))
        .await
        .expect("pods")
        .items
        .into_iter()
        .filter(|p| common::pod_node(p).as_deref() == Some(node))
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) != Some("Failed"))
        .filter(|p| {
            p.spec
                .as_ref()
                .and_then(|s| s.containers.first())
                .and_then(|c| c.image.as_deref())
                == Some(image)
        })
        .map(|p| p.metadata.name.unwrap_or_default())
        .next()
}

/// Transient is not stuck, and surge is counted as upstream counts it: a node that joins in
/// the middle of a rollout and cannot fit the pod holds up a rollout without surge at once but
/// not a surging one (the controller keeps surging through the other nodes); a pod preempting
/// victims that take their time to go, and a Failed pod the controller recreates, are followed
/// to success; a pod that fails again and again is stuck. Ours, kubectl's and the controller's
/// over time.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_is_not_stuck_and_surge_is_counted_as_upstream() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    let kc = tb.kubeconfig();
    for n in ["m1", "m2", "m3"] {
        add_node(&client, &FakeNode::new(n).label("pool", "main"))
            .await
            .expect("node");
    }
    for n in ["f1", "f2"] {
        add_node(&client, &FakeNode::new(n).label("pool", "flap"))
            .await
            .expect("node");
    }
    add_node(&client, &FakeNode::new("p1").label("pool", "prio").cpu("2"))
        .await
        .expect("node");
    let surge = "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}";
    let surge_pct = "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: '25%'}}";
    let half = "{type: RollingUpdate, rollingUpdate: {maxUnavailable: '50%'}}";
    let joins = [
        ("join-plain", ROLLING, true),
        ("join-half", half, false),
        ("join-surge", surge, false),
        ("join-surge-pct", surge_pct, false),
    ];
    let mut all: String = joins
        .iter()
        .map(|(name, strategy, _)| pooled(name, "main", "1", strategy, "", "2s") + "---\n")
        .collect();
    all.push_str(&(pooled("flap", "flap", "100m", ROLLING, "", "3s") + "---\n"));
    all.push_str(&(pooled("flap-loop", "flap", "100m", ROLLING, "", "3s") + "---\n"));
    apply_yaml(&client, &all).await.expect("apply");
    for name in joins.iter().map(|j| j.0).chain(["flap", "flap-loop"]) {
        settle(&client, name).await;
    }

    let mut story = common::Story::new("a node joins that cannot fit");
    // A node joins that cannot fit the pods (500m of cpu), then the new revision.
    add_node(
        &client,
        &FakeNode::new("fresh").label("pool", "main").cpu("500m"),
    )
    .await
    .expect("fresh node");
    for (name, ..) in &joins {
        set_image(&client, name, "registry.example/agent:2").await;
    }
    let names: Vec<&str> = joins.iter().map(|j| j.0).collect();
    let followed = follow_rollouts(&client, kc, &names, 15).await;
    for ((name, _, stalls_at_once), samples) in joins.iter().zip(&followed) {
        let last = samples.last().cloned().expect("sample");
        println!("{name}: {} samples, last {last:?}", samples.len());
        assert_eq!(last.ours, "Stuck", "{name}: {samples:#?}");
        assert!(last.kubectl.contains("Waiting for daemon set"), "{last:?}");
        if *stalls_at_once {
            // No surge: the fresh node's unschedulable pod uses maxUnavailable 1 up. A status
            // written before the controller observed the new template counts the old one's
            // pods as updated (kubectl then waits for the spec update to be observed).
            let mut observed = samples
                .iter()
                .filter(|s| !s.kubectl.contains("spec update to be observed"));
            assert!(observed.all(|s| s.updated <= 1), "{name}: {samples:#?}");
        } else {
            // The others roll on around it; only the fresh node is left.
            assert!(
                samples.iter().any(|s| s.ours == "Progressing"),
                "{name}: {samples:#?}"
            );
            assert_eq!(last.updated, 4, "{name}: {samples:#?}");
            let (_, item) = ours_once(kc, name);
            let stuck: Vec<&str> = item["nodes"]
                .as_array()
                .expect("nodes")
                .iter()
                .filter(|n| n["progress"] == "Stuck")
                .filter_map(|n| n["node"].as_str())
                .collect();
            assert_eq!(stuck, ["fresh"], "{item}");
        }
        let (k_watch, o_watch, took, text) = watch_both(kc, name, "3s");
        assert_eq!((k_watch, o_watch), (Some(1), Some(1)), "{name}: {text}");
        assert!(took < Duration::from_secs(3), "{name}: {text}");
    }

    story.step("preemption in progress");
    // Preemption: the DaemonSet's pod evicts a filler whose finalizer keeps it Terminating a
    // while; meanwhile the pod is Pending with status.nominatedNodeName. Not stuck.
    let fillers: String = (1..=2)
        .map(|i| {
            format!(
                "apiVersion: v1
kind: Pod
metadata: {{name: filler-{i}, namespace: {NS}, finalizers: [testbed.kubectl-ds/hold]}}
spec:
  nodeName: p1
  containers: [{{name: main, image: registry.example/filler:1, resources: {{requests: {{cpu: '1'}}}}}}]
---
"
            )
        })
        .collect();
    apply_yaml(
        &client,
        &format!(
            "{fillers}apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {{name: daemon-high}}
value: 1000000
---
{}",
            pooled(
                "preempt",
                "prio",
                "1",
                ROLLING,
                "priorityClassName: daemon-high",
                "0s"
            )
        ),
    )
    .await
    .expect("apply");
    let item = wait_ours(kc, "preempt", "nominated", |i| {
        i["nodes"][0]["reason"]
            .as_str()
            .is_some_and(|r| r.contains("preempting"))
    })
    .await;
    println!("preempt: {}", item["message"]);
    assert_eq!(item["state"], "Progressing", "{item}");
    let watching = Command::new(env!("CARGO_BIN_EXE_kubectl-ds"))
        .args([
            "rollout",
            "status",
            "preempt",
            "--watch",
            "--timeout",
            "60s",
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("KUBECONFIG", kc)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("watch");
    tokio::time::sleep(Duration::from_secs(4)).await;
    let still = sample(&client, kc, "preempt").await;
    assert_eq!(
        (still.ours.as_str(), still.available),
        ("Progressing", 0),
        "{still:?}"
    );
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    for i in 1..=2 {
        let unhold = serde_json::json!({"metadata": {"finalizers": null}});
        pods.patch(
            &format!("filler-{i}"),
            &PatchParams::default(),
            &Patch::Merge(&unhold),
        )
        .await
        .expect("release filler");
    }
    let done = watching.wait_with_output().expect("watch output");
    println!(
        "$ kubectl ds rollout status preempt --watch | cat\n{}",
        stdout(&done)
    );
    assert_eq!(done.status.code(), Some(0), "{}", stdout(&done));
    let theirs = kubectl(kc, &["rollout", "status", "ds/preempt", "--timeout=10s"]);
    assert_eq!(theirs.status.code(), Some(0));

    story.step("a pod fails once");
    // A pod that fails once (the kubelet rejects it) is deleted and recreated with back-off:
    // followed to success. One that keeps failing is stuck.
    let image2 = "registry.example/agent:2";
    story.step("a pod keeps failing");
    // The kubelet keeps rejecting the pod: the controller recreates it with a growing
    // back-off (1 s, 2 s, ...). The very first Failed pod goes at once, before the watch's quiet
    // time has passed; the ones after it stay a second or more.
    for (name, failures, want) in [("flap", 1, Some(0)), ("flap-loop", 6, Some(1))] {
        let mut watching = Command::new(env!("CARGO_BIN_EXE_kubectl-ds"))
            .args(["rollout", "status", name, "--watch", "--timeout", "60s"])
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", std::env::temp_dir())
            .env("KUBECONFIG", kc)
            .stdout(std::process::Stdio::piped())
            .spawn()
            .expect("watch");
        set_image(&client, name, image2).await;
        let mut failed = 0;
        while failed < failures && watching.try_wait().expect("watch").is_none() {
            // The next pod the controller creates on f1, unless the watch has ended.
            let deadline = Instant::now() + SETTLE;
            let pod = loop {
                if watching.try_wait().expect("watch").is_some() {
                    break None;
                }
                if let Some(p) = live_pod_on(&client, name, "f1", image2).await {
                    break Some(p);
                }
                assert!(Instant::now() < deadline, "{name}: no new pod on f1");
                tokio::time::sleep(Duration::from_millis(100)).await;
            };
            let Some(pod) = pod else { break };
            report(
                &client,
                &pod,
                serde_json::json!({"phase": "Failed", "reason": "OutOfcpu", "message": "Node didn't have enough resource: cpu"}),
            )
            .await;
            failed += 1;
        }
        println!("{name}: {failed} pods failed on f1");
        let out = watching.wait_with_output().expect("watch output");
        println!(
            "$ kubectl ds rollout status {name} --watch | cat\n{}",
            stdout(&out)
        );
        assert_eq!(out.status.code(), want, "{name}: {}", stdout(&out));
        if want == Some(1) {
            assert!(
                stdout(&out).contains("Failed (OutOfcpu) 3 times in a row"),
                "{}",
                stdout(&out)
            );
        }
    }
}

/// Point 4: with maxSurge the new pod is created beside the old one, which keeps its cpu and
/// host ports until the new pod is available (`rollingUpdate`'s surge branch). When it does
/// not fit there, explain gives the scheduler's reason, not "waits for its turn"; the rollout
/// is stuck at once for us, the controller never moves, and kubectl keeps waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_surge_pod_that_does_not_fit_beside_the_old_one_is_explained() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    let kc = tb.kubeconfig();
    add_node(
        &client,
        &FakeNode::new("s1").label("pool", "surge").cpu("1"),
    )
    .await
    .expect("node");
    let surge = "{type: RollingUpdate, rollingUpdate: {maxUnavailable: 0, maxSurge: 1}}";
    let ports = pooled("surge-ports", "surge", "0", surge, "", "0s").replace(
        "        resources:",
        "        ports: [{containerPort: 9100, hostPort: 9100}]\n        resources:",
    );
    let all = format!(
        "{}---\n{ports}",
        pooled("surge-cpu", "surge", "600m", surge, "", "0s")
    );
    apply_yaml(&client, &all).await.expect("apply");
    for name in ["surge-cpu", "surge-ports"] {
        settle(&client, name).await;
        set_image(&client, name, "registry.example/agent:2").await;
    }
    // (DaemonSet, verdict code, our reason, the scheduler's reason)
    let cases = [
        (
            "surge-cpu",
            "InsufficientResources",
            "Insufficient cpu",
            "Insufficient cpu",
        ),
        (
            "surge-ports",
            "HostPortConflict",
            "host port 0.0.0.0:9100/TCP is held by pod default/surge-ports-",
            "didn't have free ports",
        ),
    ];
    for (name, code, ours, scheduler) in cases {
        let args = ["explain", "node", "s1", name, "-n", NS, "-o", "json"];
        let doc = wait_ours_doc(kc, &args, |d| {
            d["verdicts"][0]["schedulerMessage"]
                .as_str()
                .is_some_and(|m| m.contains(scheduler))
        })
        .await;
        let v = &doc["verdicts"][0];
        println!("explain node s1 {name}: {v}");
        assert_eq!(v["code"], code, "{v}");
        let message = v["message"].as_str().unwrap_or_default();
        assert!(message.contains(ours), "{v}");
        assert!(message.contains("beside the old pod"), "{v}");
        assert!(!message.contains("waits for its turn"), "{v}");
        let text = stdout(&kubectl_ds(kc, &["explain", "ds", name, "-n", NS]));
        println!("$ kubectl ds explain ds {name}\n{text}");
        assert!(!text.contains("waits for its turn"), "{text}");

        let (code, item) = ours_once(kc, name);
        let (_, k_line) = kubectl_once(kc, name);
        println!(
            "{name}: kubectl {k_line:?}; ours {code:?} {}",
            item["message"]
        );
        assert_eq!(
            (code, item["state"].as_str()),
            (Some(1), Some("Stuck")),
            "{item}"
        );
        assert!(k_line.contains("Waiting for daemon set"), "{k_line}");
    }
    // Over time the controller does not move, and kubectl waits to its timeout.
    tokio::time::sleep(Duration::from_secs(5)).await;
    for name in ["surge-cpu", "surge-ports"] {
        assert_eq!(
            updated_count(&client, name).await,
            0,
            "{name}: the controller moved"
        );
        let (k_watch, o_watch, took, text) = watch_both(kc, name, "5s");
        assert_eq!((k_watch, o_watch), (Some(1), Some(1)), "{name}: {text}");
        assert!(took < Duration::from_secs(3), "{name}: {took:?} {text}");
    }
}

/// One look at a node's pod for the evict-and-recreate loop: what explain, coverage and
/// rollout status say, and kubectl at the same moment.
#[derive(Debug)]
struct LoopSample {
    explain: Value,
    coverage_row: Value,
    rollout: (Option<i32>, Value),
    kubectl: (Option<i32>, String),
}

/// When the taint-eviction controller evicts the pod (`processPodOnNode`): the later of the
/// taint's arrival and the pod's creation, plus the toleration's seconds, in Unix seconds.
/// None once the pod is gone (it was evicted meanwhile).
async fn eviction_due(
    client: &kube::Client,
    pod: &str,
    taint_added: i64,
    seconds: i64,
) -> Option<i64> {
    let p: Pod = Api::namespaced(client.clone(), NS)
        .get_opt(pod)
        .await
        .expect("pod")?;
    let created = p.metadata.creation_timestamp.map_or(0, |t| t.0.as_second());
    Some(created.max(taint_added) + seconds)
}

fn unix_now() -> i64 {
    k8s_openapi::jiff::Timestamp::now().as_second()
}

/// `got` seconds left, read by a command that ran from `start` to `end`, against the
/// `due` time: within `slack` seconds of what was left at some moment of the run.
fn left_agrees(got: i64, due: i64, (start, end): (i64, i64), slack: i64) -> bool {
    let (most, least) = ((due - start).max(0), (due - end).max(0));
    got <= most + slack && got + slack >= least
}

/// Point 6: a custom NoExecute taint tolerated for `tolerationSeconds` gives an endless
/// evict-and-recreate loop (the taint-eviction controller evicts, the DaemonSet controller
/// creates the pod again). explain's code is EvictionLoop, not Healthy; coverage, explain and
/// rollout status give the time left of the pod there now, counted from its creation; and
/// rollout status agrees with kubectl, which sees a rolled-out DaemonSet between evictions.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_evict_and_recreate_loop_is_named_with_its_time_left() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    let kc = tb.kubeconfig();
    for n in ["l1", "l2"] {
        add_node(&client, &FakeNode::new(n).label("pool", "loop"))
            .await
            .expect("node");
    }
    const SECONDS: i64 = 15;
    let toleration = format!(
        "tolerations: [{{key: maintenance, operator: Exists, effect: NoExecute, tolerationSeconds: {SECONDS}}}]"
    );
    apply_yaml(
        &client,
        &pooled("loop", "loop", "100m", ROLLING, &toleration, "0s"),
    )
    .await
    .expect("apply");
    settle(&client, "loop").await;
    let nodes: Api<Node> = Api::all(client.clone());
    // With `timeAdded`, as `kubectl taint` writes a NoExecute taint.
    let added = k8s_openapi::jiff::Timestamp::now().to_string();
    let taint = serde_json::json!({"spec": {"taints": [{"key": "maintenance", "value": "true", "effect": "NoExecute", "timeAdded": added}]}});
    let tainted = nodes
        .patch("l2", &PatchParams::default(), &Patch::Merge(&taint))
        .await
        .expect("taint l2");
    let taint_added = tainted
        .spec
        .and_then(|s| s.taints)
        .and_then(|ts| ts.into_iter().next())
        .and_then(|t| t.time_added)
        .map_or_else(
            || k8s_openapi::jiff::Timestamp::now().as_second(),
            |t| t.0.as_second(),
        );
    let first = pods_on(&client, "loop", "l2").await;
    let mut names: BTreeSet<String> = first.iter().map(|p| p.0.clone()).collect();
    let mut samples = Vec::new();
    let end = Instant::now() + Duration::from_secs(3 * SECONDS as u64);
    while Instant::now() < end {
        let explain_ran = unix_now();
        let explain = json_of(&kubectl_ds(
            kc,
            &["explain", "node", "l2", "loop", "-n", NS, "-o", "json"],
        ))["verdicts"][0]
            .clone();
        let explain_ran = (explain_ran, unix_now());
        let due = match explain["pod"].as_str() {
            Some(pod) if explain["code"] == "EvictionLoop" => {
                eviction_due(&client, pod, taint_added, SECONDS).await
            }
            _ => None,
        };
        let coverage_ran = unix_now();
        let cov = json_of(&kubectl_ds(kc, &["coverage", "loop", "-o", "json"]));
        let coverage_ran = (coverage_ran, unix_now());
        let coverage_row = cov["items"][0]["nodes"]
            .as_array()
            .and_then(|ns| ns.iter().find(|n| n["node"] == "l2").cloned())
            .unwrap_or(Value::Null);
        let rollout_ran = unix_now();
        let rollout = ours_once(kc, "loop");
        let rollout_ran = (rollout_ran, unix_now());
        let kubectl = kubectl_once(kc, "loop");
        let after = pods_on(&client, "loop", "l2").await;
        // rollout status names no pod: its countdown is comparable only while the pod
        // explain described is still the one on the node.
        let same_pod = after.iter().all(|p| explain["pod"] == p.0.as_str());
        names.extend(after.into_iter().map(|p| p.0));
        if let Some(due) = due {
            // The pod's countdown, in explain, coverage and rollout status alike.
            let got = explain["eviction"]["secondsLeft"]
                .as_i64()
                .unwrap_or_else(|| panic!("no time left: {explain}"));
            assert!(
                left_agrees(got, due, explain_ran, 3),
                "explain {got}s, due at {due}, ran {explain_ran:?}: {explain}"
            );
            assert!(
                explain["message"]
                    .as_str()
                    .is_some_and(|m| m.contains("without end")),
                "{explain}"
            );
            // The pod may be evicted between the two runs: coverage then shows it
            // Terminating, and a pod being deleted has no countdown.
            if coverage_row["pod"] == explain["pod"] && coverage_row["state"] != "Terminating" {
                let c = coverage_row["eviction"]["secondsLeft"]
                    .as_i64()
                    .unwrap_or_else(|| panic!("no time left: {coverage_row}"));
                assert!(
                    left_agrees(c, due, coverage_ran, 3),
                    "coverage {c}s, due at {due}, ran {coverage_ran:?}: {coverage_row}"
                );
                assert_eq!(coverage_row["eviction"]["recreated"], true);
            }
            let line = rollout.1["evictions"][0]
                .as_str()
                .unwrap_or_default()
                .to_string();
            let r: Option<i64> = line
                .split_once("evicts the pod in ")
                .and_then(|(_, rest)| rest.split('s').next())
                .and_then(|n| n.parse().ok());
            if let Some(r) = r
                && same_pod
            {
                assert!(
                    left_agrees(r, due, rollout_ran, 4),
                    "rollout status {r}s, due at {due}, ran {rollout_ran:?}: {line}"
                );
            }
        }
        samples.push(LoopSample {
            explain,
            coverage_row,
            rollout,
            kubectl,
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    for s in &samples {
        println!(
            "{} {:?} | coverage {} | rollout {:?} {} | kubectl {:?}",
            s.explain["code"],
            s.explain["eviction"]["secondsLeft"].as_i64(),
            s.coverage_row["eviction"],
            s.rollout.0,
            s.rollout.1["state"],
            s.kubectl
        );
    }
    assert!(names.len() >= 3, "evicted and recreated: {names:?}");
    // Never Healthy while the loop runs; the countdown is of the pod there now, not "now"
    // from the taint's arrival.
    assert!(
        samples.iter().all(|s| s.explain["code"] != "Healthy"),
        "{samples:#?}"
    );
    let recreated: Vec<&LoopSample> = samples
        .iter()
        .filter(|s| s.explain["code"] == "EvictionLoop")
        .filter(|s| {
            s.explain["pod"]
                .as_str()
                .is_some_and(|p| !first.iter().any(|f| f.0 == p))
        })
        .collect();
    assert!(
        recreated
            .iter()
            .any(|s| s.explain["eviction"]["secondsLeft"].as_i64() > Some(3)),
        "{samples:#?}"
    );
    // The template is rolled out: kubectl says so between evictions, and so do we (naming
    // the loop); we never call it stuck.
    assert!(
        samples.iter().all(|s| s.rollout.1["state"] != "Stuck"),
        "{samples:#?}"
    );
    let agreeing = samples.iter().filter(|s| {
        s.kubectl.1.contains("successfully rolled out")
            && s.rollout.1["state"] == "Complete"
            && s.rollout.0 == Some(0)
    });
    assert!(agreeing.count() > 0, "{samples:#?}");
}

/// A daemon pod the kubelet keeps rejecting: the controller deletes each Failed pod and
/// creates another with a doubling back-off (`dsc.failedPodsBackoff`, 1 s up to 15 min),
/// recording a FailedDaemonPod event each time. A one-shot `rollout status` reads those
/// events and calls the rollout stuck from the third failure in a row, as `--watch` does;
/// explain names the failures with their count. kubectl at the same moment keeps waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pod_that_keeps_failing_is_stuck_for_a_one_shot_status_too() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    let kc = tb.kubeconfig();
    add_node(&client, &FakeNode::new("f1").label("pool", "flap"))
        .await
        .expect("node");
    apply_yaml(&client, &pooled("flap", "flap", "100m", ROLLING, "", "3s"))
        .await
        .expect("apply");
    settle(&client, "flap").await;
    let image2 = "registry.example/agent:2";
    set_image(&client, "flap", image2).await;
    // Six failures: the sixth Failed pod then waits out a 16 s back-off before the
    // controller deletes it (1 s, 2 s, 4 s, 8 s, 16 s after each deletion).
    for i in 1..=6 {
        let pod = kubectl_ds_testbed::wait_for("the next pod on f1", SETTLE, || async {
            Ok::<_, kubectl_ds_testbed::Error>(live_pod_on(&client, "flap", "f1", image2).await)
        })
        .await
        .expect("a new pod");
        // As the kubelet reports a pod its admission rejects: Failed, and not Ready.
        report(
            &client,
            &pod,
            serde_json::json!({"phase": "Failed", "reason": "OutOfcpu", "message": "Node didn't have enough resource: cpu",
                "conditions": [{"type": "Ready", "status": "False", "reason": "PodFailed"}]}),
        )
        .await;
        if i == 1 {
            // One failure is not stuck: the controller replaces the pod.
            let (code, item) = ours_once(kc, "flap");
            println!("after one failure: {code:?} {}", item["message"]);
            assert_ne!(item["state"], "Stuck", "{item}");
        }
    }
    let item = wait_ours(kc, "flap", "stuck", |i| i["state"] == "Stuck").await;
    let (k_code, k_line) = kubectl_once(kc, "flap");
    println!(
        "flap: kubectl {k_code:?} {k_line:?}; ours {}",
        item["message"]
    );
    assert!(k_line.contains("Waiting for daemon set"), "{k_line}");
    let reason = item.to_string();
    let times: usize = reason
        .split_once("Failed (OutOfcpu) ")
        .and_then(|(_, r)| r.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(times >= 3 && reason.contains("times in a row"), "{item}");
    let text = kubectl_ds(kc, &["rollout", "status", "flap"]);
    println!("$ kubectl ds rollout status flap\n{}", stdout(&text));
    assert_eq!(text.status.code(), Some(1));
    // explain reads the same events for the node.
    let doc = json_of(&kubectl_ds(
        kc,
        &["explain", "node", "f1", "flap", "-n", NS, "-o", "json"],
    ));
    let v = &doc["verdicts"][0];
    println!("explain node f1 flap: {v}");
    if v["code"] == "PodFailed" {
        let m = v["message"].as_str().unwrap_or_default();
        assert!(m.contains("in a row failed here (FailedDaemonPod"), "{v}");
    } else {
        // The controller deleted the last Failed pod meanwhile; its event is named.
        assert!(
            v["message"]
                .as_str()
                .is_some_and(|m| m.contains("FailedDaemonPod")),
            "{v}"
        );
    }
}

/// Hands the node away from kwok: its Lease is no longer renewed, so after the grace period
/// the node-lifecycle controller marks it unreachable, as when a kubelet dies.
async fn kill_node(client: &kube::Client, node: &str) {
    let nodes: Api<Node> = Api::all(client.clone());
    let patch = serde_json::json!({"metadata": {"annotations": {kubectl_ds_testbed::KWOK_NODE_ANNOTATION: "dead"}}});
    nodes
        .patch(node, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .expect("kill node");
}

/// A node of `pool` whose pod of `ds` still runs the old image.
async fn old_node(client: &kube::Client, ds: &str, pool: &[&str]) -> String {
    for n in pool {
        if live_pod_on(client, ds, n, "registry.example/agent:1")
            .await
            .is_some()
        {
            return n.to_string();
        }
    }
    panic!("{ds}: no old pod left on {pool:?}");
}

/// Starts `kubectl ds rollout status NAME --watch` and kubectl's own, both with `timeout`.
fn spawn_watches(
    kc: &Path,
    name: &str,
    timeout: &str,
) -> (std::process::Child, std::process::Child) {
    let ours = Command::new(env!("CARGO_BIN_EXE_kubectl-ds"))
        .args(["rollout", "status", name, "--watch", "--timeout", timeout])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("KUBECONFIG", kc)
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("our watch");
    let theirs = Command::new("kubectl")
        .args([
            "rollout",
            "status",
            &format!("ds/{name}"),
            &format!("--timeout={timeout}"),
        ])
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("KUBECONFIG", kc)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("kubectl watch");
    (ours, theirs)
}

/// Node churn in the middle of a running rollout (maxUnavailable 1, pods Ready after 6 s):
/// a node whose pod is still old dies; another is tainted NoSchedule (the rolling update
/// still replaces its old pod, and nothing is created there again); a third gets an
/// untolerated NoExecute taint (the controller deletes its pod). Our `--watch`, the
/// controller's counters over time and kubectl's watch, all started at the moment of churn.
/// Our watch exits 1 exactly when the controller stalls and follows it to success otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn node_churn_during_a_rollout_is_followed_as_the_controller_follows_it() {
    let tb = Testbed::start(Options {
        node_monitor_grace_period: Duration::from_secs(8),
        node_startup_grace_period: Duration::from_secs(8),
        ..Options::default()
    })
    .await
    .expect("testbed");
    let client = tb.client().await.expect("client");
    let kc = tb.kubeconfig();
    let pools: [(&str, [&str; 3]); 3] = [
        ("churn-die", ["d1", "d2", "d3"]),
        ("churn-noschedule", ["s1", "s2", "s3"]),
        ("churn-noexecute", ["x1", "x2", "x3"]),
    ];
    let mut all = String::new();
    for (ds, nodes) in &pools {
        for n in nodes {
            add_node(&client, &FakeNode::new(*n).label("pool", *ds))
                .await
                .expect("node");
        }
        all.push_str(&pooled(ds, ds, "100m", ROLLING, "", "6s"));
        all.push_str("---\n");
    }
    apply_yaml(&client, &all).await.expect("apply");
    for (ds, _) in &pools {
        settle(&client, ds).await;
    }
    for (ds, _) in &pools {
        set_image(&client, ds, "registry.example/agent:2").await;
    }
    let mut story = common::Story::new("nodes leave mid-rollout");
    // Once the rollout is under way, each pool loses an old node its own way.
    let nodes: Api<Node> = Api::all(client.clone());
    let mut watches = Vec::new();
    for (ds, pool) in &pools {
        kubectl_ds_testbed::wait_for("the rollout to start", SETTLE, || async {
            let started = pools_started(&client, ds).await;
            Ok::<_, kubectl_ds_testbed::Error>(started.then_some(()))
        })
        .await
        .expect("started");
        let victim = old_node(&client, ds, pool).await;
        println!("{ds}: churn on {victim}");
        let taint = |effect: &str| serde_json::json!({"spec": {"taints": [{"key": "dedicated", "value": "other", "effect": effect}]}});
        let effect = match *ds {
            "churn-die" => None,
            "churn-noschedule" => Some("NoSchedule"),
            _ => Some("NoExecute"),
        };
        match effect {
            None => kill_node(&client, &victim).await,
            Some(effect) => {
                nodes
                    .patch(
                        &victim,
                        &PatchParams::default(),
                        &Patch::Merge(&taint(effect)),
                    )
                    .await
                    .expect("taint");
            }
        }
        watches.push((ds.to_string(), victim, spawn_watches(kc, ds, "120s")));
    }
    let names: Vec<&str> = pools.iter().map(|p| p.0).collect();
    story.step("stuck means stuck");
    // Stuck must mean stuck: once we say so, the controller's counters never move again.
    let followed = follow_rollouts(&client, kc, &names, 45).await;
    for (name, samples) in names.iter().zip(&followed) {
        let states: Vec<&str> = samples.iter().map(|s| s.ours.as_str()).collect();
        println!("{name}: {states:?}; last {:?}", samples.last());
    }
    for (ds, victim, (ours, theirs)) in watches {
        let ours = ours.wait_with_output().expect("our watch");
        let last = sample(&client, kc, &ds).await;
        println!(
            "$ kubectl ds rollout status {ds} --watch | cat   # churn on {victim}\n{}",
            stdout(&ours)
        );
        if ds == "churn-die" && ours.status.code() == Some(1) {
            // We said stuck: the controller has not moved since, and kubectl, still
            // waiting, is ended at its own timeout.
            assert_eq!(last.ours, "Stuck", "{last:?}");
            tokio::time::sleep(Duration::from_secs(5)).await;
            assert_eq!(
                sample(&client, kc, &ds).await.updated,
                last.updated,
                "{ds} moved"
            );
            let mut theirs = theirs;
            let (k_code, k_line) = kubectl_once(kc, &ds);
            println!("{ds}: kubectl {k_code:?} {k_line:?}");
            assert!(k_line.contains("Waiting for daemon set"), "{k_line}");
            let _ = theirs.kill();
            let _ = theirs.wait();
        } else {
            let theirs = theirs.wait_with_output().expect("kubectl watch");
            println!("kubectl rollout status ds/{ds}: {}", stdout(&theirs));
            assert_eq!(
                (ours.status.code(), theirs.status.code()),
                (Some(0), Some(0)),
                "{ds}: {}",
                stdout(&ours)
            );
        }
    }
    // The NoExecute node lost its pod; the NoSchedule node's old pod was replaced by nothing.
    let on_x: usize = {
        let (_, pool) = &pools[2];
        let mut n = 0;
        for node in pool {
            n += usize::from(pods_on(&client, "churn-noexecute", node).await.is_empty());
        }
        n
    };
    assert_eq!(on_x, 1, "one node of churn-noexecute has no pod");
}

/// Whether the controller has begun replacing pods of `ds` (an old pod is gone or a new one
/// exists).
async fn pools_started(client: &kube::Client, ds: &str) -> bool {
    pods_of(client, ds)
        .await
        .iter()
        .any(|(_, image, _)| image == "registry.example/agent:2")
}
