//! The middle tier: each command runs against the mock API server ([`crate::cluster::mock`]),
//! and the tests assert what it asked (paths, queries, the PATCH) and how it answered a
//! conflict. Behaviour against a real control plane is the end-to-end tests' job.

use serde_json::{Value, json};

use crate::cli::{Command, CoverageArgs, ExplainCommand, ExplainNodeArgs, RollbackArgs};
use crate::cluster::Clusters;
use crate::cluster::mock::{self, Answer, Log, Recorded};
use crate::error::{Error, Exit};
use crate::render::{Output, OutputFormat};
use crate::settings::{NamespaceScope, Settings};

fn settings(namespace: NamespaceScope) -> Settings {
    Settings {
        connect: Default::default(),
        namespace,
        output: Output::plain(OutputFormat::Table),
    }
}

/// Runs `command` against `route`; the exit status (or error), the output, and the log.
async fn run(
    namespace: NamespaceScope,
    command: Command,
    route: impl FnMut(&Recorded) -> Answer + Send + 'static,
) -> (Result<Exit, Error>, String, Log) {
    let (target, log) = mock::serve(route);
    let mut out = Vec::new();
    let res = super::dispatch(
        &settings(namespace),
        &Clusters::Given(target),
        &command,
        &mut out,
    )
    .await;
    (res, String::from_utf8_lossy(&out).into_owned(), log)
}

fn template(image: &str) -> Value {
    json!({
        "metadata": {"labels": {"app": "agent"}},
        "spec": {"containers": [{"name": "agent", "image": image}]}
    })
}

fn daemonset(resource_version: &str, image: &str) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": {"name": "agent", "namespace": "default", "uid": "ds-uid",
                     "resourceVersion": resource_version, "generation": 3},
        "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template(image)},
        "status": {"currentNumberScheduled": 0, "desiredNumberScheduled": 0,
                   "numberMisscheduled": 0, "numberReady": 0, "observedGeneration": 3}
    })
}

/// What the DaemonSet controller stores: `data` is a strategic-merge patch replacing the
/// template (`getPatch` in `pkg/controller/daemon/update.go`).
fn revision(number: i64, image: &str) -> Value {
    let mut data = json!({"spec": {"template": template(image)}});
    data["spec"]["template"]["$patch"] = json!("replace");
    json!({
        "apiVersion": "apps/v1", "kind": "ControllerRevision",
        "metadata": {"name": format!("agent-{number}"), "namespace": "default",
                     "labels": {"app": "agent", "controller-revision-hash": format!("h{number}")},
                     "creationTimestamp": format!("2026-01-01T00:00:0{number}Z"),
                     "ownerReferences": [{"apiVersion": "apps/v1", "kind": "DaemonSet",
                                          "name": "agent", "uid": "ds-uid", "controller": true}]},
        "data": data,
        "revision": number
    })
}

fn node(name: &str) -> Value {
    json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
           "status": {"conditions": [{"type": "Ready", "status": "True"}]}})
}

const DAEMONSETS: &str = "/apis/apps/v1/namespaces/default/daemonsets";

#[tokio::test]
async fn coverage_lists_each_kind_once_from_the_watch_cache() {
    let (res, out, log) = run(
        NamespaceScope::Named("default".into()),
        Command::Coverage(CoverageArgs::default()),
        |r| match r.path.as_str() {
            DAEMONSETS => mock::list(vec![daemonset("7", "agent:2")]),
            "/api/v1/nodes" => mock::list(vec![node("worker-1")]),
            _ => mock::fallback(r),
        },
    )
    .await;
    assert_eq!(res.unwrap(), Exit::Ok, "{out}");
    // One list of each kind, whole (no limit, no continue: the watch cache ignores them at
    // resourceVersion=0), from the watch cache (resourceVersion=0, NotOlderThan), never one
    // request per node; events only by field selector.
    assert_eq!(
        log.lines(),
        [
            "GET /api/v1/namespaces/default/events?fieldSelector=involvedObject.kind=DaemonSet,reason=FailedCreate&resourceVersion=0&resourceVersionMatch=NotOlderThan",
            "GET /api/v1/namespaces/default/events?fieldSelector=involvedObject.kind=DaemonSet,reason=FailedDaemonPod&resourceVersion=0&resourceVersionMatch=NotOlderThan",
            "GET /api/v1/namespaces/default/pods?resourceVersion=0&resourceVersionMatch=NotOlderThan",
            "GET /api/v1/nodes?resourceVersion=0&resourceVersionMatch=NotOlderThan",
            "GET /apis/apps/v1/namespaces/default/controllerrevisions?resourceVersion=0&resourceVersionMatch=NotOlderThan",
            "GET /apis/apps/v1/namespaces/default/daemonsets?resourceVersion=0&resourceVersionMatch=NotOlderThan",
        ]
    );
}

#[tokio::test]
async fn coverage_sends_the_selectors_and_looks_a_name_up_everywhere_with_all_namespaces() {
    let args = CoverageArgs {
        name: Some("agent".into()),
        selector: Some("app=agent".into()),
        node_selector: Some("pool in (a,b)".into()),
        ..CoverageArgs::default()
    };
    let (res, out, log) = run(NamespaceScope::All, Command::Coverage(args), |r| {
        match r.path.as_str() {
            "/apis/apps/v1/daemonsets" => mock::list(vec![daemonset("7", "agent:2")]),
            _ => mock::fallback(r),
        }
    })
    .await;
    assert_eq!(res.unwrap(), Exit::Ok, "{out}");
    let lines = log.lines();
    assert!(
        lines.contains(&"GET /apis/apps/v1/daemonsets?labelSelector=app=agent&resourceVersion=0&resourceVersionMatch=NotOlderThan".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(&"GET /api/v1/nodes?labelSelector=pool in (a,b)&resourceVersion=0&resourceVersionMatch=NotOlderThan".to_string()),
        "{lines:#?}"
    );
    assert!(
        lines.contains(
            &"GET /api/v1/pods?resourceVersion=0&resourceVersionMatch=NotOlderThan".to_string()
        ),
        "{lines:#?}"
    );
    assert_eq!(lines.len(), 6, "{lines:#?}");
}

#[tokio::test]
async fn explain_node_reads_only_its_node_and_the_unscheduled_pods() {
    let args = ExplainNodeArgs {
        node: "worker-1".into(),
        daemonsets: Vec::new(),
        all: Default::default(),
    };
    let (res, out, log) = run(
        NamespaceScope::Named("default".into()),
        Command::Explain(ExplainCommand::Node(args)),
        |r| match r.path.as_str() {
            "/api/v1/nodes/worker-1" => (200, node("worker-1")),
            DAEMONSETS => mock::list(vec![daemonset("7", "agent:2")]),
            _ => mock::fallback(r),
        },
    )
    .await;
    res.unwrap();
    assert!(out.contains("worker-1"), "{out}");
    let pods: Vec<(String, Option<String>)> = log
        .requests()
        .iter()
        .filter(|r| r.path.ends_with("/pods"))
        .map(|r| (r.path.clone(), r.query.get("fieldSelector").cloned()))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    assert_eq!(
        pods,
        [
            (
                "/api/v1/namespaces/default/pods".to_string(),
                Some("spec.nodeName=".to_string())
            ),
            (
                "/api/v1/pods".to_string(),
                Some("spec.nodeName=worker-1".to_string())
            ),
        ]
    );
    assert!(
        log.requests().iter().all(|r| r.path != "/api/v1/nodes"),
        "no list of every node: {:#?}",
        log.lines()
    );
}

fn rollback_args() -> Command {
    Command::Rollback(RollbackArgs {
        name: "agent".into(),
        yes: true,
        ..RollbackArgs::default()
    })
}

/// A DaemonSet on revision 2 (`agent:2`) with revision 1 (`agent:1`) before it. The
/// DaemonSet's resourceVersion and image on each read, and the answer to each PATCH, come
/// from the lists given.
fn rollback_server(
    reads: Vec<(&'static str, &'static str)>,
    patches: Vec<Answer>,
) -> impl FnMut(&Recorded) -> Answer + Send + 'static {
    let (mut reads, mut patches) = (reads.into_iter(), patches.into_iter());
    let mut last = ("0", "agent:2");
    move |r| match (r.method.as_str(), r.path.as_str()) {
        ("GET", "/apis/apps/v1/namespaces/default/daemonsets/agent") => {
            last = reads.next().unwrap_or(last);
            (200, daemonset(last.0, last.1))
        }
        ("GET", "/apis/apps/v1/namespaces/default/controllerrevisions") => {
            mock::list(vec![revision(1, "agent:1"), revision(2, "agent:2")])
        }
        ("PATCH", _) => patches
            .next()
            .unwrap_or_else(|| mock::status(500, "InternalError", "unexpected PATCH")),
        _ => mock::fallback(r),
    }
}

fn patches(log: &Log) -> Vec<Recorded> {
    log.requests()
        .into_iter()
        .filter(|r| r.method == "PATCH")
        .collect()
}

/// The revision's `data` verbatim plus the resourceVersion read, as a strategic merge patch.
fn expected_patch(resource_version: &str) -> Value {
    let mut body = json!({"spec": {"template": template("agent:1")}});
    body["spec"]["template"]["$patch"] = json!("replace");
    body["metadata"] = json!({"resourceVersion": resource_version});
    body
}

#[tokio::test]
async fn rollback_patches_the_revision_data_guarded_by_the_resource_version() {
    let (res, out, log) = run(
        NamespaceScope::Context,
        rollback_args(),
        rollback_server(
            vec![("7", "agent:2")],
            vec![(200, daemonset("8", "agent:1"))],
        ),
    )
    .await;
    assert_eq!(res.unwrap(), Exit::Ok, "{out}");
    let sent = patches(&log);
    assert_eq!(sent.len(), 1, "{:#?}", log.lines());
    assert_eq!(
        sent[0].path,
        "/apis/apps/v1/namespaces/default/daemonsets/agent"
    );
    assert_eq!(
        sent[0].content_type.as_deref(),
        Some("application/strategic-merge-patch+json")
    );
    assert_eq!(sent[0].body, expected_patch("7"));
    assert!(
        out.contains("rolled back to the template of revision 1"),
        "{out}"
    );
}

#[tokio::test]
async fn a_conflict_rereads_and_patches_again_with_the_new_resource_version() {
    let conflict = mock::status(409, "Conflict", "the object has been modified");
    let (res, out, log) = run(
        NamespaceScope::Context,
        rollback_args(),
        rollback_server(
            vec![("7", "agent:2"), ("9", "agent:2")],
            vec![conflict, (200, daemonset("10", "agent:1"))],
        ),
    )
    .await;
    assert_eq!(res.unwrap(), Exit::Ok, "{out}");
    let sent = patches(&log);
    assert_eq!(sent.len(), 2, "{:#?}", log.lines());
    assert_eq!(sent[0].body, expected_patch("7"));
    assert_eq!(sent[1].body, expected_patch("9"));
    let reads = log
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/daemonsets/agent"))
        .count();
    assert_eq!(reads, 2, "the retry re-reads the DaemonSet");
}

#[tokio::test]
async fn a_conflict_over_a_changed_template_rolls_nothing_back() {
    let conflict = mock::status(409, "Conflict", "the object has been modified");
    let (res, out, log) = run(
        NamespaceScope::Context,
        rollback_args(),
        rollback_server(vec![("7", "agent:2"), ("9", "agent:3")], vec![conflict]),
    )
    .await;
    let err = res.unwrap_err();
    assert_eq!(err.exit(), Exit::Cluster);
    assert!(
        err.to_string()
            .contains("was changed by someone else during the rollback"),
        "{err}"
    );
    assert_eq!(patches(&log).len(), 1);
    assert!(out.is_empty(), "{out}");
}

#[tokio::test]
async fn conflicts_on_every_attempt_give_up_after_three() {
    let conflict = || mock::status(409, "Conflict", "the object has been modified");
    let (res, _, log) = run(
        NamespaceScope::Context,
        rollback_args(),
        rollback_server(Vec::new(), vec![conflict(), conflict(), conflict()]),
    )
    .await;
    let err = res.unwrap_err();
    assert!(
        err.to_string()
            .contains("kept changing during the rollback (3 attempts)"),
        "{err}"
    );
    assert_eq!(patches(&log).len(), 3);
}
