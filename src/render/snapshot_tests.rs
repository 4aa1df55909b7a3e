//! The tables as a terminal 80 and 120 columns wide shows them (the width is a parameter, so
//! no terminal is needed), from one small cluster computed by the pure core.

use std::collections::HashMap;

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::api::core::v1::{NodeCondition, NodeStatus, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::jiff::Timestamp;

use super::{Output, coverage, explain, overhead, preview, rollout};
use crate::logic::daemon::coverage::{CoverageItem, CoverageReport, compute};
use crate::logic::daemon::history;
use crate::logic::daemon::rollout as rollouts;
use crate::logic::fixtures::{daemon_pod_metadata, ds, node, pod};
use crate::logic::reports::explain::{self as verdicts, Context};
use crate::logic::reports::preview as previews;
use crate::logic::snapshot::{Snapshot, shared};
use crate::render::OutputFormat;

const WIDTHS: [u16; 2] = [80, 120];

fn daemon_pod(name: &str, node: &str, hash: &str, phase: &str, ready: bool) -> Pod {
    pod(&format!(
        "{}spec:
  nodeName: {node}
  containers: [{{name: c, image: agent:1}}]
status:
  phase: {phase}
  conditions: [{{type: Ready, status: '{}'}}]
",
        daemon_pod_metadata(name, hash),
        if ready { "True" } else { "False" }
    ))
}

fn revision(hash: &str, number: i64, image: &str) -> ControllerRevision {
    crate::yaml::from_str(&format!(
        "metadata: {{name: agent-{hash}, namespace: default, creationTimestamp: '2026-01-0{number}T00:00:00Z', labels: {{controller-revision-hash: {hash}}}, ownerReferences: [{{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: ds-uid, controller: true}}]}}\nrevision: {number}\ndata: {{spec: {{template: {{metadata: {{labels: {{app: agent}}}}, spec: {{containers: [{{name: c, image: '{image}'}}]}}}}}}}}"
    ))
    .expect("fixture revision")
}

/// Nine general-pool nodes (one NotReady and tainted, one with an old pod, one pending, one
/// missing), three GPU nodes the DaemonSet does not target.
fn cluster() -> Snapshot {
    let mut nodes: Vec<_> = (1..=8)
        .map(|i| node(&format!("general-{i:02}"), &[("pool", "general")], &[]))
        .collect();
    nodes.push(node(
        "general-09",
        &[("pool", "general")],
        &[("node.kubernetes.io/not-ready", "", "NoSchedule")],
    ));
    nodes.extend((1..=3).map(|i| node(&format!("gpu-{i}"), &[("pool", "gpu")], &[])));
    for n in &mut nodes {
        let ready = n.metadata.name.as_deref() != Some("general-09");
        let room = [("cpu", "4"), ("memory", "8Gi"), ("pods", "110")];
        n.status = Some(NodeStatus {
            allocatable: Some(
                room.iter()
                    .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                    .collect(),
            ),
            conditions: ready.then(|| {
                vec![NodeCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    ..Default::default()
                }]
            }),
            ..Default::default()
        });
    }
    let mut pods: Vec<Pod> = (1..=5)
        .map(|i| {
            let n = format!("general-{i:02}");
            daemon_pod(&format!("agent-{i}"), &n, "new", "Running", true)
        })
        .collect();
    pods.push(daemon_pod("agent-6", "general-06", "old", "Running", true));
    pods.push(daemon_pod("agent-7", "general-07", "new", "Pending", false));
    pods.push(daemon_pod("agent-9", "general-09", "old", "Running", false));
    Snapshot {
        daemonsets: vec![ds("nodeSelector: {pool: general}")],
        nodes: shared(nodes),
        pods: shared(pods),
        revisions: vec![
            revision("old", 1, "agent:1"),
            revision("new", 2, "registry.example/agent:2"),
        ],
        create_failures: Vec::new(),
    }
}

fn owned<T: Clone>(shared: &[std::sync::Arc<T>]) -> Vec<T> {
    shared.iter().map(|o| (**o).clone()).collect()
}

fn at(width: u16) -> Output {
    Output {
        width: Some(width),
        ..Output::plain(OutputFormat::Table)
    }
}

fn now() -> Timestamp {
    "2026-01-05T00:00:00Z".parse().expect("timestamp")
}

#[test]
fn coverage_tables() {
    let snapshot = cluster();
    let report = CoverageReport {
        items: compute(&snapshot, now())
            .into_iter()
            .map(|coverage| CoverageItem {
                context: None,
                coverage,
            })
            .collect(),
        errors: Vec::new(),
    };
    for w in WIDTHS {
        insta::assert_snapshot!(
            format!("coverage_summary_{w}"),
            coverage::render(&at(w), &report, false)
        );
        insta::assert_snapshot!(
            format!("coverage_nodes_{w}"),
            coverage::render(&at(w), &report, true)
        );
        let wide = Output {
            format: OutputFormat::Wide,
            ..at(w)
        };
        insta::assert_snapshot!(
            format!("coverage_wide_{w}"),
            coverage::render(&wide, &report, false)
        );
    }
}

#[test]
fn explain_tables() {
    let snapshot = cluster();
    let daemonset = &snapshot.daemonsets[0];
    let events = HashMap::new();
    let mut all = Vec::new();
    for n in &snapshot.nodes {
        let name = n.metadata.name.as_deref().unwrap_or_default();
        let on_node: Vec<&Pod> = snapshot
            .pods
            .iter()
            .map(|p| &**p)
            .filter(|p| p.spec.as_ref().and_then(|s| s.node_name.as_deref()) == Some(name))
            .collect();
        let view_nodes = [&**n];
        let view = crate::logic::scheduler::ClusterView::new(
            &view_nodes,
            &on_node,
            false,
            &crate::logic::scheduler::NOTHING_READ,
        );
        let ctx = Context {
            pods_on_node: &on_node,
            view: &view,
            nominated: &[],
            scheduling_events: &events,
            admitted: None,
            pdbs: &[],
            create_failure: None,
            failed_pod: None,
            current_hash: Some("new"),
            template_generation: None,
            now: now(),
        };
        all.push(verdicts::explain(daemonset, n, &on_node, &ctx));
    }
    verdicts::sort(&mut all);
    let groups = verdicts::group(&all);
    let one: Vec<_> = all
        .iter()
        .filter(|v| v.node == "general-09")
        .cloned()
        .collect();
    let notes = verdicts::node_notes(&snapshot.nodes[8]);
    for w in WIDTHS {
        insta::assert_snapshot!(
            format!("explain_node_{w}"),
            explain::node(&at(w), "general-09", &notes, &one, &[])
        );
        insta::assert_snapshot!(
            format!("explain_ds_{w}"),
            explain::daemonset(&at(w), "default", "agent", &groups, &[])
        );
    }
}

#[test]
fn rollout_tables() {
    let snapshot = cluster();
    let statuses = rollouts::compute(&snapshot, now(), &rollouts::Failures::default());
    let pods = owned(&snapshot.pods);
    let revisions = history::history(&snapshot.daemonsets[0], &snapshot.revisions, &pods);
    let mut second = statuses[0].clone();
    second.name = "agent-canary".into();
    let many = vec![statuses[0].clone(), second];
    for w in WIDTHS {
        insta::assert_snapshot!(
            format!("rollout_status_{w}"),
            rollout::status(&at(w), &statuses)
        );
        insta::assert_snapshot!(
            format!("rollout_status_many_{w}"),
            rollout::status(&at(w), &many)
        );
        insta::assert_snapshot!(
            format!("rollout_history_{w}"),
            rollout::history(&at(w), &revisions, now())
        );
    }
}

#[test]
fn preview_report() {
    let snapshot = cluster();
    let manifest = ds("nodeSelector: {pool: general}\ntolerations: [{operator: Exists}]");
    let (nodes, pods) = (owned(&snapshot.nodes), owned(&snapshot.pods));
    let p = previews::preview(&manifest, None, &nodes, &pods).expect("a preview");
    for w in WIDTHS {
        insta::assert_snapshot!(
            format!("preview_{w}"),
            preview::render(&at(w), std::slice::from_ref(&p))
        );
    }
}

/// A node the pod gets by preempting, where a pending pod of higher priority may take the
/// freed room first.
#[test]
fn preview_contested_preemption() {
    let p = crate::logic::reports::preview_tests::behind_a_waiting_pod("600m").expect("a preview");
    insta::assert_snapshot!(
        "preview_contested_120",
        preview::render(&at(120), std::slice::from_ref(&p))
    );
}

/// The overhead of the cluster's DaemonSet plus a sidecar-only one with requests, and what a
/// new GPU node like gpu-1 would get.
#[test]
fn overhead_report_and_new_node() {
    use crate::logic::reports::fresh_node::AdmissionFacts;
    use crate::logic::reports::node_preview;
    use crate::logic::reports::overhead as overheads;
    let snapshot = cluster();
    let mut shipper = ds(
        "initContainers: [{name: s, image: s, restartPolicy: Always, resources: {requests: {cpu: 250m, memory: 128Mi}}}]",
    );
    shipper.metadata.name = Some("log-shipper".into());
    shipper.metadata.uid = Some("shipper-uid".into());
    let daemonsets = [snapshot.daemonsets.clone(), vec![shipper]].concat();
    let facts = AdmissionFacts::default();
    let (nodes, pods) = (owned(&snapshot.nodes), owned(&snapshot.pods));
    let report = overheads::compute(
        &overheads::Inputs {
            daemonsets: &daemonsets,
            nodes: &nodes,
            pods: &pods,
            revisions: &snapshot.revisions,
            facts: &facts,
        },
        &overheads::Grouping::Labels(vec!["pool".into()]),
    );
    let gpu = snapshot
        .nodes
        .iter()
        .find(|n| n.metadata.name.as_deref() == Some("gpu-1"))
        .expect("gpu-1");
    let new = node_preview::preview(
        &node_preview::node_like(
            gpu,
            &[],
            &node_preview::parse_taints("gpu=yes:NoSchedule").expect("taint"),
        ),
        &daemonsets,
        &facts,
    );
    for w in WIDTHS {
        insta::assert_snapshot!(
            format!("overhead_{w}"),
            overhead::render(&at(w), &report, &[])
        );
        insta::assert_snapshot!(
            format!("preview_node_{w}"),
            overhead::render_node(&at(w), &new, &[])
        );
    }
}

#[test]
fn watch_frames_fit_the_screen() {
    let snapshot = cluster();
    let report = CoverageReport {
        items: compute(&snapshot, now())
            .into_iter()
            .map(|coverage| CoverageItem {
                context: None,
                coverage,
            })
            .collect(),
        errors: Vec::new(),
    };
    let full = coverage::frame(&at(80), &report, true, Some(100));
    let short = coverage::frame(&at(80), &report, true, Some(12));
    assert!(full.lines().count() > 12, "{full}");
    assert!(short.lines().count() < 12, "{short}");
    assert!(
        short.contains("(5 more nodes ready on the current revision)"),
        "{short}"
    );
    insta::assert_snapshot!("coverage_watch_frame_12_lines", short);
}
