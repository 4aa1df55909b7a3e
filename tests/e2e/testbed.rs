//! End-to-end tests of the testbed itself: real etcd, kube-apiserver, controllers, scheduler and
//! kwok (see tests/testbed/README.md). Each test starts its own testbed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::time::Duration;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::authentication::v1::SelfSubjectReview;
use k8s_openapi::api::core::v1::{ConfigMap, Node, Pod};
use kube::api::{Api, ListParams, PostParams};
use kube::{Client, ResourceExt as _};
use kubectl_ds_testbed::{
    Component, FakeNode, Options, Testbed, add_node, apply_yaml, client_from_kubeconfig,
    wait_daemonset_settled, wait_for,
};

const TIMEOUT: Duration = Duration::from_secs(90);

fn daemonset(name: &str, image: &str, node_selector: Option<(&str, &str)>) -> String {
    let selector = node_selector
        .map(|(k, v)| format!("      nodeSelector: {{{k}: {v}}}\n"))
        .unwrap_or_default();
    format!(
        "apiVersion: apps/v1
kind: DaemonSet
metadata:
  name: {name}
  namespace: default
spec:
  selector:
    matchLabels: {{app: {name}}}
  template:
    metadata:
      labels: {{app: {name}}}
    spec:
{selector}      containers:
      - name: main
        image: {image}
"
    )
}

async fn pods_of(client: &Client, app: &str) -> Vec<Pod> {
    Api::<Pod>::namespaced(client.clone(), "default")
        .list(&ListParams::default().labels(&format!("app={app}")))
        .await
        .expect("list pods")
        .items
}

fn node_of(p: &Pod) -> String {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.clone())
        .unwrap_or_default()
}

fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn phase(p: &Pod) -> String {
    p.status
        .as_ref()
        .and_then(|s| s.phase.clone())
        .unwrap_or_default()
}

fn revision_hash(p: &Pod) -> String {
    p.labels()
        .get("controller-revision-hash")
        .cloned()
        .unwrap_or_default()
}

fn taints(n: &Node) -> BTreeSet<String> {
    n.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .map(|ts| {
            ts.iter()
                .map(|t| format!("{}:{}", t.key, t.effect))
                .collect()
        })
        .unwrap_or_default()
}

fn condition(n: &Node, type_: &str) -> String {
    n.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| cs.iter().find(|c| c.type_ == type_))
        .map(|c| c.status.clone())
        .unwrap_or_default()
}

/// Every process whose command line mentions `needle` (the testbed's directory).
fn processes_mentioning(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let cmdline = entry.path().join("cmdline");
        if let Ok(bytes) = std::fs::read(&cmdline) {
            let text = String::from_utf8_lossy(&bytes).replace('\0', " ");
            if text.contains(needle) {
                found.push(format!("{}: {text}", entry.file_name().to_string_lossy()));
            }
        }
    }
    found
}

#[tokio::test]
async fn daemonset_places_one_pod_per_eligible_node_and_rolls_out() {
    let tb = Testbed::start(Options::default())
        .await
        .expect("testbed starts");
    eprintln!("testbed started in {:?}", tb.startup_time());
    let client = tb.client().await.expect("client");
    for name in ["worker-1", "worker-2", "worker-3"] {
        add_node(&client, &FakeNode::new(name).label("role", "worker"))
            .await
            .expect("add node");
    }
    // Selected by the nodeSelector but tainted, without a toleration.
    add_node(
        &client,
        &FakeNode::new("tainted")
            .label("role", "worker")
            .taint("dedicated", "infra", "NoSchedule"),
    )
    .await
    .expect("add node");
    // Not selected by the nodeSelector.
    add_node(&client, &FakeNode::new("database").label("role", "db"))
        .await
        .expect("add node");

    apply_yaml(
        &client,
        &daemonset(
            "agent",
            "registry.example/agent:1",
            Some(("role", "worker")),
        ),
    )
    .await
    .expect("apply");
    let ds = wait_daemonset_settled(&client, "default", "agent", TIMEOUT)
        .await
        .expect("settles");
    let status = ds.status.expect("status");
    assert_eq!(status.desired_number_scheduled, 3);
    assert_eq!(status.number_ready, 3);
    assert_eq!(status.current_number_scheduled, 3);

    let pods = pods_of(&client, "agent").await;
    let mut by_node: BTreeMap<String, Vec<&Pod>> = BTreeMap::new();
    for p in &pods {
        by_node.entry(node_of(p)).or_default().push(p);
    }
    assert_eq!(
        by_node.keys().cloned().collect::<Vec<_>>(),
        ["worker-1", "worker-2", "worker-3"],
        "pods on {by_node:?}"
    );
    for (node, ps) in &by_node {
        assert_eq!(ps.len(), 1, "one pod on {node}");
        assert_eq!(phase(ps[0]), "Running", "pod on {node}");
        assert!(is_ready(ps[0]), "pod on {node} is Ready");
    }
    let before: BTreeMap<String, (String, String)> = pods
        .iter()
        .map(|p| (node_of(p), (p.uid().unwrap_or_default(), revision_hash(p))))
        .collect();

    let revisions: Api<ControllerRevision> = Api::namespaced(client.clone(), "default");
    assert_eq!(
        revisions
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        1
    );

    // A new image: a second ControllerRevision, and every pod replaced.
    apply_yaml(
        &client,
        &daemonset(
            "agent",
            "registry.example/agent:2",
            Some(("role", "worker")),
        ),
    )
    .await
    .expect("apply");
    let ds = wait_daemonset_settled(&client, "default", "agent", TIMEOUT)
        .await
        .expect("settles after the update");
    let status = ds.status.expect("status");
    assert_eq!(
        (
            status.desired_number_scheduled,
            status.updated_number_scheduled,
            status.number_ready
        ),
        (3, Some(3), 3)
    );
    let revs = revisions.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(revs.len(), 2, "two ControllerRevisions");
    let newest = revs
        .iter()
        .max_by_key(|r| r.revision)
        .and_then(|r| r.labels().get("controller-revision-hash").cloned())
        .expect("newest revision hash");
    let pods = pods_of(&client, "agent").await;
    assert_eq!(pods.len(), 3);
    for p in &pods {
        let node = node_of(p);
        let (old_uid, old_hash) = &before[&node];
        assert_ne!(
            &p.uid().unwrap_or_default(),
            old_uid,
            "pod on {node} replaced"
        );
        assert_ne!(&revision_hash(p), old_hash, "pod on {node} has a new hash");
        assert_eq!(
            revision_hash(p),
            newest,
            "pod on {node} is at the newest revision"
        );
        assert!(is_ready(p), "pod on {node} is Ready");
        let image = p.spec.as_ref().map(|s| s.containers[0].image.clone());
        assert_eq!(image, Some(Some("registry.example/agent:2".to_string())));
    }

    // The real kubectl agrees.
    let out = std::process::Command::new("kubectl")
        .args(["rollout", "status", "ds/agent", "--timeout=60s"])
        .env("KUBECONFIG", tb.kubeconfig())
        .output()
        .expect("run kubectl");
    assert!(
        out.status.success(),
        "kubectl rollout status: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    // The audit log saw both applies (server-side apply is a PATCH) by the admin.
    wait_for(
        "the applies in the audit log",
        Duration::from_secs(10),
        || async {
            let patches = tb
                .audit_events()?
                .iter()
                .filter(|e| {
                    e["stage"] == "ResponseComplete"
                        && e["verb"] == "patch"
                        && e["user"]["username"] == "kubectl-ds-admin"
                        && e["objectRef"]["resource"] == "daemonsets"
                })
                .count();
            Ok::<_, kubectl_ds_testbed::Error>((patches == 2).then_some(()))
        },
    )
    .await
    .expect("audit log");
}

#[tokio::test]
async fn failure_images_reach_image_pull_backoff_crashloop_and_not_ready() {
    let tb = Testbed::start(Options::default())
        .await
        .expect("testbed starts");
    let client = tb.client().await.expect("client");
    for name in ["node-1", "node-2"] {
        add_node(&client, &FakeNode::new(name))
            .await
            .expect("add node");
    }
    let pod = |name: &str, node: &str, images: &[&str]| {
        let containers: String = images
            .iter()
            .enumerate()
            .map(|(i, image)| format!("  - {{name: c{i}, image: \"{image}\"}}\n"))
            .collect();
        format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}}}\nspec:\n  nodeName: {node}\n  containers:\n{containers}---\n"
        )
    };
    let yaml = [
        pod("healthy", "node-1", &["registry.example/app:1"]),
        pod(
            "bad",
            "node-1",
            &["registry.example/bad-image:1", "registry.example/sidecar:1"],
        ),
        pod("crash", "node-2", &["registry.example/crashloop:1"]),
        pod("unready", "node-2", &["registry.example/not-ready:1"]),
        pod("slow", "node-2", &["registry.example/app:1"]).replace(
            "metadata: {name: slow}",
            "metadata: {name: slow, annotations: {testbed.kubectl-ds/ready-delay: 3s}}",
        ),
    ]
    .concat();
    apply_yaml(&client, &yaml).await.expect("apply pods");
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");

    let healthy = wait_for("healthy pod Ready", TIMEOUT, || async {
        let p = pods.get("healthy").await?;
        Ok::<_, kube::Error>(is_ready(&p).then_some(p))
    })
    .await
    .expect("healthy");
    assert_eq!(phase(&healthy), "Running");
    // The per-pod ready delay holds a pod back.
    let slow_created = pods
        .get("slow")
        .await
        .unwrap()
        .metadata
        .creation_timestamp
        .unwrap();
    let slow = wait_for("slow pod Ready", TIMEOUT, || async {
        let p = pods.get("slow").await?;
        Ok::<_, kube::Error>(is_ready(&p).then_some(p))
    })
    .await
    .expect("slow");
    let started = slow.status.unwrap().start_time.unwrap();
    let waited = started.0.duration_since(slow_created.0);
    assert!(waited.as_secs_f64() >= 2.0, "ready after {waited:?}");

    let bad = wait_for("bad pod in ImagePullBackOff", TIMEOUT, || async {
        let p = pods.get("bad").await?;
        let waiting = p
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.name == "c0"))
            .and_then(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone());
        Ok::<_, kube::Error>((waiting.as_deref() == Some("ImagePullBackOff")).then_some(p))
    })
    .await
    .expect("bad image");
    assert_eq!(phase(&bad), "Pending");
    assert!(!is_ready(&bad));
    let statuses = bad
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .clone()
        .unwrap();
    let sidecar = statuses.iter().find(|c| c.name == "c1").unwrap();
    assert!(sidecar.ready, "the other container runs");

    let crash = wait_for("crashing pod restarting", TIMEOUT, || async {
        let p = pods.get("crash").await?;
        let restarts = p
            .status
            .as_ref()
            .and_then(|s| s.container_statuses.as_ref())
            .and_then(|cs| cs.first())
            .map_or(0, |c| c.restart_count);
        Ok::<_, kube::Error>((restarts >= 2).then_some(p))
    })
    .await
    .expect("crashloop");
    assert_eq!(phase(&crash), "Running");
    assert!(!is_ready(&crash));
    let c = &crash
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0];
    assert_eq!(
        c.state
            .as_ref()
            .unwrap()
            .waiting
            .as_ref()
            .unwrap()
            .reason
            .as_deref(),
        Some("CrashLoopBackOff")
    );
    let last = c.last_state.as_ref().unwrap().terminated.as_ref().unwrap();
    assert_eq!((last.reason.as_deref(), last.exit_code), (Some("Error"), 1));

    let unready = wait_for("not-ready pod running", TIMEOUT, || async {
        let p = pods.get("unready").await?;
        Ok::<_, kube::Error>((phase(&p) == "Running").then_some(p))
    })
    .await
    .expect("not ready");
    assert!(!is_ready(&unready));
    let c = &unready
        .status
        .as_ref()
        .unwrap()
        .container_statuses
        .as_ref()
        .unwrap()[0];
    assert!(c.state.as_ref().unwrap().running.is_some() && !c.ready);

    // A DaemonSet whose pods crash settles too, with nothing ready.
    apply_yaml(
        &client,
        &daemonset("crasher", "registry.example/crashloop:2", None),
    )
    .await
    .expect("apply");
    let ds = wait_daemonset_settled(&client, "default", "crasher", TIMEOUT)
        .await
        .expect("a crashing DaemonSet settles");
    let status = ds.status.unwrap();
    assert_eq!(
        (status.desired_number_scheduled, status.number_ready),
        (2, 0)
    );

    // A rollout to an image that cannot be pulled stops after one pod (maxUnavailable 1), and
    // that is a settled state too.
    apply_yaml(&client, &daemonset("web", "registry.example/web:1", None))
        .await
        .expect("apply");
    wait_daemonset_settled(&client, "default", "web", TIMEOUT)
        .await
        .expect("settles");
    apply_yaml(
        &client,
        &daemonset("web", "registry.example/bad-image:2", None),
    )
    .await
    .expect("apply");
    let ds = wait_daemonset_settled(&client, "default", "web", TIMEOUT)
        .await
        .expect("a blocked rollout settles");
    let status = ds.status.unwrap();
    assert_eq!(
        (status.updated_number_scheduled, status.number_ready),
        (Some(1), 1)
    );
}

#[tokio::test]
async fn unmanaged_node_is_tainted_unreachable_by_node_lifecycle() {
    let tb = Testbed::start(Options {
        node_monitor_grace_period: Duration::from_secs(5),
        node_startup_grace_period: Duration::from_secs(5),
        ..Options::default()
    })
    .await
    .expect("testbed starts");
    let client = tb.client().await.expect("client");
    for name in ["alive-1", "alive-2"] {
        add_node(&client, &FakeNode::new(name))
            .await
            .expect("add node");
    }
    add_node(&client, &FakeNode::new("dead").unmanaged())
        .await
        .expect("add node");
    // A live kubelet that reports NotReady.
    add_node(&client, &FakeNode::new("sick").not_ready())
        .await
        .expect("add node");
    let nodes: Api<Node> = Api::all(client.clone());

    let dead = wait_for("dead node tainted unreachable", TIMEOUT, || async {
        let n = nodes.get("dead").await?;
        let t = taints(&n);
        Ok::<_, kube::Error>(
            (t.contains("node.kubernetes.io/unreachable:NoSchedule")
                && t.contains("node.kubernetes.io/unreachable:NoExecute"))
            .then_some(n),
        )
    })
    .await
    .expect("dead node");
    assert_eq!(condition(&dead, "Ready"), "Unknown");

    wait_for("sick node tainted not-ready", TIMEOUT, || async {
        let n = nodes.get("sick").await?;
        let t = taints(&n);
        Ok::<_, kube::Error>(
            (t.contains("node.kubernetes.io/not-ready:NoSchedule")
                && t.contains("node.kubernetes.io/not-ready:NoExecute"))
            .then_some(()),
        )
    })
    .await
    .expect("sick node");

    // kwok's Leases keep the managed nodes healthy all along.
    for name in ["alive-1", "alive-2"] {
        let n = nodes.get(name).await.unwrap();
        assert_eq!(condition(&n, "Ready"), "True", "{name}");
        assert!(taints(&n).is_empty(), "{name} taints: {:?}", taints(&n));
    }
    let sick = nodes.get("sick").await.unwrap();
    assert_eq!(condition(&sick, "Ready"), "False", "its own report stands");

    // DaemonSet pods tolerate the NoExecute taints but not the NoSchedule ones.
    apply_yaml(
        &client,
        &daemonset("agent", "registry.example/agent:1", None),
    )
    .await
    .expect("apply");
    let ds = wait_daemonset_settled(&client, "default", "agent", TIMEOUT)
        .await
        .expect("settles");
    assert_eq!(ds.status.unwrap().desired_number_scheduled, 2);
    let on: BTreeSet<String> = pods_of(&client, "agent")
        .await
        .iter()
        .map(node_of)
        .collect();
    assert_eq!(on, BTreeSet::from(["alive-1".into(), "alive-2".into()]));
}

#[tokio::test]
async fn user_kubeconfigs_and_an_api_server_restart() {
    let mut tb = Testbed::start(Options::default())
        .await
        .expect("testbed starts");
    let client = tb.client().await.expect("client");
    add_node(&client, &FakeNode::new("node-1"))
        .await
        .expect("add node");

    let alice = client_from_kubeconfig(&tb.kubeconfig_for_user("alice", &["testers"]).unwrap())
        .await
        .expect("alice's client");
    let alice_pods: Api<Pod> = Api::namespaced(alice.clone(), "default");
    match alice_pods.list(&ListParams::default()).await {
        Err(kube::Error::Api(s)) if s.code == 403 => {}
        other => panic!("alice has no rights yet, got {other:?}"),
    }
    apply_yaml(
        &client,
        "apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-reader}
rules:
- {apiGroups: [''], resources: [pods], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: testers-view}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: Group, name: testers}
",
    )
    .await
    .expect("bind");
    wait_for("alice may list pods", TIMEOUT, || async {
        Ok::<_, kubectl_ds_testbed::Error>(alice_pods.list(&ListParams::default()).await.ok())
    })
    .await
    .expect("view");
    let cm = serde_json::from_value::<ConfigMap>(serde_json::json!({
        "metadata": {"name": "x"}
    }))
    .unwrap();
    match Api::<ConfigMap>::namespaced(alice, "default")
        .create(&PostParams::default(), &cm)
        .await
    {
        Err(kube::Error::Api(s)) if s.code == 403 => {}
        other => panic!("view does not allow create, got {other:?}"),
    }

    // Two groups fit in a user's certificate; the API server sees both.
    let bob = client_from_kubeconfig(&tb.kubeconfig_for_user("bob", &["g1", "g2"]).unwrap())
        .await
        .expect("bob's client");
    let review: SelfSubjectReview = Api::all(bob)
        .create(&PostParams::default(), &SelfSubjectReview::default())
        .await
        .expect("self subject review");
    let user = review.status.and_then(|s| s.user_info).expect("user info");
    assert_eq!(user.username.as_deref(), Some("bob"));
    let groups = user.groups.unwrap_or_default();
    assert!(
        groups.contains(&"g1".to_string()) && groups.contains(&"g2".to_string()),
        "{groups:?}"
    );

    // The API server goes away and comes back on the same port; the rest keeps working.
    tb.stop_component(Component::KubeApiserver)
        .await
        .expect("stop");
    assert!(!tb.is_running(Component::KubeApiserver));
    let fresh = tb.client().await.expect("client");
    assert!(
        Api::<Node>::all(fresh)
            .list(&ListParams::default())
            .await
            .is_err()
    );
    tb.start_component(Component::KubeApiserver)
        .await
        .expect("restart");
    let client = tb.client().await.expect("client");
    let n = wait_for("node-1 after the restart", TIMEOUT, || async {
        Ok::<_, kube::Error>(
            Api::<Node>::all(client.clone())
                .get_opt("node-1")
                .await
                .ok()
                .flatten(),
        )
    })
    .await
    .expect("node-1");
    assert_eq!(condition(&n, "Ready"), "True");
    apply_yaml(
        &client,
        &daemonset("agent", "registry.example/agent:1", None),
    )
    .await
    .expect("apply after the restart");
    let ds = wait_daemonset_settled(&client, "default", "agent", TIMEOUT)
        .await
        .expect("controllers, scheduler and kwok still work");
    assert_eq!(ds.status.unwrap().number_ready, 1);
    for c in Component::ALL {
        assert!(tb.is_running(c), "{c} is running");
    }

    // A passing test's testbed leaves nothing behind.
    let dir = tb.dir().to_path_buf();
    drop(tb);
    assert!(!dir.exists(), "{} removed", dir.display());
    assert_eq!(
        processes_mentioning(&dir.to_string_lossy()),
        Vec::<String>::new()
    );
}

#[test]
fn a_failing_test_keeps_the_directory_and_leaves_no_process() {
    let (tx, rx) = std::sync::mpsc::channel::<PathBuf>();
    let result = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let tb = rt
            .block_on(Testbed::start(Options::default()))
            .expect("testbed starts");
        tx.send(tb.dir().to_path_buf()).unwrap();
        panic!("a deliberate failure");
    })
    .join();
    assert!(result.is_err(), "the thread panicked");
    let dir = rx.recv().expect("the testbed's directory");
    assert!(dir.join("logs/kube-apiserver.log").is_file(), "logs kept");
    assert!(dir.join("audit.log").is_file(), "audit log kept");
    assert_eq!(
        processes_mentioning(&dir.to_string_lossy()),
        Vec::<String>::new()
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
