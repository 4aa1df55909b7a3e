//! Coverage counters against the controller's status rules (`updateDaemonSetStatus`).

use k8s_openapi::api::apps::v1::ControllerRevision;
use k8s_openapi::jiff::Timestamp;

use super::coverage::{NodeState, compute, compute_with};
use super::pods::NodePods;
use crate::logic::fixtures::{daemon_pod_metadata, ds, node, pod};
use crate::logic::snapshot::{Snapshot, shared};

fn daemon_pod(
    name: &str,
    node: &str,
    bound: bool,
    hash: &str,
    phase: &str,
    ready: bool,
) -> k8s_openapi::api::core::v1::Pod {
    let node_name = if bound {
        format!("nodeName: {node}")
    } else {
        String::new()
    };
    pod(&format!(
        "{}spec:
  {node_name}
  containers: [{{name: c, image: agent:1}}]
  affinity:
    nodeAffinity:
      requiredDuringSchedulingIgnoredDuringExecution:
        nodeSelectorTerms: [{{matchFields: [{{key: metadata.name, operator: In, values: [{node}]}}]}}]
status:
  phase: {phase}
  conditions: [{{type: Ready, status: '{}'}}]
",
daemon_pod_metadata(name, hash),
        if ready { "True" } else { "False" }
    ))
}

fn revision(name: &str, hash: &str, number: i64) -> ControllerRevision {
    crate::yaml::from_str(&format!(
        "metadata: {{name: {name}, namespace: default, labels: {{controller-revision-hash: {hash}}}, ownerReferences: [{{apiVersion: apps/v1, kind: DaemonSet, name: agent, uid: ds-uid, controller: true}}]}}\nrevision: {number}"
    ))
    .unwrap()
}

#[test]
fn counts_follow_the_controller() {
    let snapshot = Snapshot {
        daemonsets: vec![ds("nodeSelector: {pool: general}")],
        nodes: shared(vec![
            node("a", &[("pool", "general")], &[]),
            node("b", &[("pool", "general")], &[]),
            node("c", &[("pool", "general")], &[]),
            node("d", &[("pool", "general")], &[]),
            node(
                "e",
                &[("pool", "general")],
                &[("node.kubernetes.io/not-ready", "", "NoSchedule")],
            ),
            node("f", &[("pool", "gpu")], &[]),
        ]),
        pods: shared(vec![
            daemon_pod("p-a", "a", true, "new", "Running", true),
            daemon_pod("p-b", "b", true, "old", "Running", true),
            daemon_pod("p-c", "c", false, "new", "Pending", false),
            // On a NotReady node: kept, but counted as misscheduled.
            daemon_pod("p-e", "e", true, "old", "Running", false),
        ]),
        revisions: vec![
            revision("agent-old", "old", 1),
            revision("agent-new", "new", 2),
        ],
        create_failures: Vec::new(),
    };
    let report = compute(&snapshot, Timestamp::UNIX_EPOCH);
    let c = &report[0];
    let s = &c.summary;
    assert_eq!(s.should_run, 4);
    assert_eq!(
        s.scheduled, 3,
        "an unbound pod pinned to c counts as scheduled"
    );
    assert_eq!(s.ready, 2);
    assert_eq!(s.up_to_date, 2);
    assert_eq!(s.missing, 1);
    assert_eq!(s.misscheduled, 1);
    assert_eq!(s.covered, 1);
    assert_eq!(s.coverage_percent, 25.0);
    let states: Vec<(&str, NodeState)> =
        c.nodes.iter().map(|n| (n.node.as_str(), n.state)).collect();
    assert_eq!(
        states,
        vec![
            ("d", NodeState::Missing),
            ("c", NodeState::Pending),
            ("b", NodeState::OldRevision),
            ("a", NodeState::Ready)
        ]
    );
    assert_eq!(c.misscheduled[0].node, "e");
    assert!(!c.misscheduled[0].will_be_removed);
    let groups: Vec<(&str, usize)> = c
        .excluded
        .iter()
        .map(|g| (g.reason.as_str(), g.count))
        .collect();
    assert_eq!(
        groups,
        vec![
            ("selector pool=general", 1),
            ("taint node.kubernetes.io/not-ready:NoSchedule", 1)
        ]
    );
}

#[test]
fn no_should_run_nodes_is_full_coverage() {
    let snapshot = Snapshot {
        daemonsets: vec![ds("nodeSelector: {pool: none}")],
        nodes: shared(vec![node("a", &[], &[])]),
        ..Default::default()
    };
    assert_eq!(
        compute(&snapshot, Timestamp::UNIX_EPOCH)[0]
            .summary
            .coverage_percent,
        100.0
    );
}

#[test]
fn terminal_pods_being_deleted_are_ignored() {
    let mut p = daemon_pod("p-a", "a", true, "new", "Failed", false);
    p.metadata.deletion_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        Timestamp::UNIX_EPOCH,
    ));
    let snapshot = Snapshot {
        daemonsets: vec![ds("")],
        nodes: shared(vec![node("a", &[], &[])]),
        pods: shared(vec![p]),
        revisions: vec![revision("agent-new", "new", 1)],
        create_failures: Vec::new(),
    };
    let c = &compute(&snapshot, Timestamp::UNIX_EPOCH)[0];
    assert_eq!(c.summary.missing, 1);
    assert_eq!(c.summary.scheduled, 0);
}

#[test]
fn percent_never_rounds_up_to_full() {
    assert_eq!(super::coverage::percent(9999, 10000), 99.9);
    assert_eq!(super::coverage::percent(1, 3), 33.3);
}

#[test]
fn a_ready_pod_on_an_unreachable_node_is_unverified_not_covered() {
    let mut dead = node(
        "dead",
        &[],
        &[("node.kubernetes.io/unreachable", "", "NoExecute")],
    );
    dead.status = Some(
        crate::yaml::from_str(
            "conditions: [{type: Ready, status: Unknown, lastHeartbeatTime: '2026-01-01T00:05:00Z'}]",
        )
        .expect("status"),
    );
    let snapshot = Snapshot {
        // Tolerates everything, so the dead node still should run it.
        daemonsets: vec![ds("tolerations: [{operator: Exists}]")],
        nodes: shared(vec![node("a", &[], &[]), dead]),
        pods: shared(vec![
            daemon_pod("p-a", "a", true, "new", "Running", true),
            daemon_pod("p-dead", "dead", true, "new", "Running", true),
        ]),
        revisions: vec![revision("agent-new", "new", 1)],
        create_failures: Vec::new(),
    };
    let c = &compute(&snapshot, Timestamp::UNIX_EPOCH)[0];
    assert_eq!((c.summary.covered, c.summary.should_run), (1, 2));
    assert_eq!(c.summary.coverage_percent, 50.0);
    // The controller's own counters still count the pod Ready.
    assert_eq!(c.summary.ready, 2);
    let row = c.nodes.iter().find(|n| n.node == "dead").expect("row");
    assert_eq!(row.state, NodeState::Unverified);
    assert_eq!(
        row.unverified_since.as_deref(),
        Some("2026-01-01T00:05:00Z")
    );
}

/// A pod of DaemonSet `owner` (`ds-0`, `ds-1`, … by uid; any other owner is a ReplicaSet's).
fn owned_pod(
    i: usize,
    owner: usize,
    node: &str,
    (bound, ready, ended, deleted): (bool, bool, bool, bool),
    minute: u8,
) -> k8s_openapi::api::core::v1::Pod {
    let (kind, uid) = if owner < 3 {
        ("DaemonSet", format!("ds-{owner}"))
    } else {
        ("ReplicaSet", "rs".to_string())
    };
    let mut p = daemon_pod(
        &format!("p{i}"),
        node,
        bound,
        if ready { "new" } else { "old" },
        if ended { "Failed" } else { "Running" },
        ready,
    );
    p.metadata.creation_timestamp = Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
        Timestamp::from_second(1_767_225_600 + i64::from(minute) * 60).unwrap(),
    ));
    p.metadata.owner_references = Some(vec![
        k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference {
            api_version: "apps/v1".into(),
            kind: kind.into(),
            name: uid.clone(),
            uid,
            controller: Some(true),
            ..Default::default()
        },
    ]);
    if deleted {
        p.metadata.deletion_timestamp = p.metadata.creation_timestamp.clone();
    }
    p
}

proptest::proptest! {
    #![proptest_config(proptest::test_runner::Config {
        cases: 200,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20261203),
        // The seed is fixed, so every run replays the same cases; no regression files.
        failure_persistence: None,
        ..Default::default()
    })]
    /// `compute` goes node by node through every DaemonSet at once; each DaemonSet's coverage
    /// is still what it is alone, whatever the other DaemonSets and their pods.
    #[test]
    fn each_daemonsets_coverage_is_what_it_is_alone(
        pools in proptest::collection::vec((0u8..3, proptest::bool::ANY), 1..7),
        pods in proptest::collection::vec(
            (0usize..4, 0usize..7, (proptest::bool::ANY, proptest::bool::ANY, proptest::bool::ANY, proptest::bool::ANY), 0u8..4),
            0..24,
        ),
    ) {
        let specs = ["nodeSelector: {pool: p0}", "tolerations: [{operator: Exists}]", "nodeSelector: {pool: p1}"];
        let daemonsets: Vec<_> = specs.iter().enumerate().map(|(i, spec)| {
            let mut d = ds(spec);
            d.metadata.name = Some(format!("ds-{i}"));
            d.metadata.uid = Some(format!("ds-{i}"));
            d
        }).collect();
        let nodes: Vec<_> = pools.iter().enumerate().map(|(i, (pool, tainted))| {
            let taints: &[(&str, &str, &str)] = if *tainted { &[("dedicated", "x", "NoSchedule")] } else { &[] };
            node(&format!("n{i}"), &[("pool", &format!("p{pool}"))], taints)
        }).collect();
        let pods: Vec<_> = pods.iter().enumerate().map(|(i, (owner, on, flags, minute))| {
            owned_pod(i, *owner, &format!("n{on}"), *flags, *minute)
        }).collect();
        let snapshot = Snapshot {
            daemonsets: daemonsets.clone(),
            nodes: shared(nodes),
            pods: shared(pods),
            revisions: Vec::new(),
            create_failures: Vec::new(),
        };
        let now = Timestamp::from_second(1_767_229_200).unwrap();
        let together = serde_json::to_value(compute(&snapshot, now)).unwrap();
        // An index a watch kept from a frame with other pods is built again, and one kept
        // from the same pods is used as it is.
        let mut kept = NodePods::default();
        let fewer = Snapshot { pods: snapshot.pods[..snapshot.pods.len() / 2].to_vec(), ..snapshot.clone() };
        compute_with(&fewer, now, &mut kept);
        for _ in 0..2 {
            let again = serde_json::to_value(compute_with(&snapshot, now, &mut kept)).unwrap();
            proptest::prop_assert_eq!(&again, &together);
        }
        let alone: Vec<serde_json::Value> = daemonsets.into_iter().map(|d| {
            let one = Snapshot { daemonsets: vec![d], ..snapshot.clone() };
            serde_json::to_value(&compute(&one, now)[0]).unwrap()
        }).collect();
        proptest::prop_assert_eq!(together, serde_json::Value::Array(alone));
    }
}
