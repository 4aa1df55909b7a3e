//! `overhead` and `preview --node` over fixtures: grouping, summed requests as the scheduler
//! counts them, the fresh-node fit and the traps.

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::Node;

use super::fresh_node::{AdmissionFacts, Verdict};
use super::node_preview::{self, LabelChange, TaintChange};
use super::overhead::{Grouping, Inputs, Trap, compute};
use crate::logic::fixtures::{node, pod};

fn named(spec_yaml: &str, name: &str, priority_class: Option<&str>) -> DaemonSet {
    let spec = match priority_class {
        Some(pc) => format!("{spec_yaml}\npriorityClassName: {pc}"),
        None => spec_yaml.to_string(),
    };
    let pad: String = spec.lines().map(|l| format!("      {l}\n")).collect();
    crate::yaml::from_str(&format!(
        "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {{name: {name}, namespace: default, uid: uid-{name}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n{pad}"
    ))
    .expect("fixture DaemonSet")
}

fn sized(mut n: Node, cpu: &str, memory: &str, pods: &str) -> Node {
    let alloc = [("cpu", cpu), ("memory", memory), ("pods", pods)]
        .into_iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                k8s_openapi::apimachinery::pkg::api::resource::Quantity(v.into()),
            )
        })
        .collect();
    n.status = Some(k8s_openapi::api::core::v1::NodeStatus {
        allocatable: Some(alloc),
        ..Default::default()
    });
    n
}

/// A RuntimeClass `kata` with 250m of cpu overhead and the system-node-critical class; the
/// other admission inputs unknown (not modelled).
fn facts() -> AdmissionFacts {
    AdmissionFacts {
        runtime_classes: Some(vec![
            crate::yaml::from_str(
                "metadata: {name: kata}\nhandler: kata\noverhead: {podFixed: {cpu: 250m}}",
            )
            .expect("RuntimeClass"),
        ]),
        priority_classes: Some(vec![priority_class("system-node-critical", 2_000_001_000)]),
        ..AdmissionFacts::default()
    }
}

fn priority_class(name: &str, value: i32) -> k8s_openapi::api::scheduling::v1::PriorityClass {
    crate::yaml::from_str(&format!("metadata: {{name: {name}}}\nvalue: {value}"))
        .expect("PriorityClass")
}

fn daemonsets() -> Vec<DaemonSet> {
    vec![
        named(
            "containers: [{name: c, image: a, resources: {requests: {cpu: 100m, memory: 64Mi}}}]\ninitContainers: [{name: side, image: s, restartPolicy: Always, resources: {requests: {cpu: 50m}}}]",
            "agent",
            Some("system-node-critical"),
        ),
        named(
            "runtimeClassName: kata\ncontainers: [{name: c, image: a, resources: {limits: {cpu: 200m, memory: 128Mi}}}]",
            "sandboxed",
            Some("system-node-critical"),
        ),
        named("containers: [{name: c, image: a}]", "bare", None),
        named(
            "nodeSelector: {gpu: \"true\"}\ncontainers: [{name: c, image: a, resources: {requests: {cpu: \"1\"}}}]",
            "gpu-agent",
            None,
        ),
        named(
            "containers: [{name: c, image: a, resources: {requests: {cpu: \"3\"}}}]",
            "huge",
            None,
        ),
    ]
}

fn nodes() -> Vec<Node> {
    vec![
        sized(
            node(
                "a-1",
                &[
                    ("karpenter.sh/nodepool", "general"),
                    ("node.kubernetes.io/instance-type", "m5"),
                ],
                &[],
            ),
            "4",
            "8Gi",
            "110",
        ),
        sized(
            node("a-2", &[("karpenter.sh/nodepool", "general")], &[]),
            "8",
            "16Gi",
            "110",
        ),
        sized(
            node(
                "g-1",
                &[("node.kubernetes.io/instance-type", "p3"), ("gpu", "true")],
                &[],
            ),
            "2",
            "8Gi",
            "110",
        ),
        sized(
            node(
                "x-1",
                &[("gpu", "false")],
                &[("dedicated", "db", "NoSchedule")],
            ),
            "2",
            "4Gi",
            "110",
        ),
    ]
}

fn report(
    grouping: &Grouping,
    pods: &[k8s_openapi::api::core::v1::Pod],
) -> super::overhead::OverheadReport {
    let (d, n, f) = (daemonsets(), nodes(), facts());
    compute(
        &Inputs {
            daemonsets: &d,
            nodes: &n,
            pods,
            revisions: &[],
            facts: &f,
        },
        grouping,
    )
}

#[test]
fn nodes_group_by_pool_label_then_instance_type_then_placement_labels_and_taints() {
    let r = report(&Grouping::Pools, &[]);
    let keys: Vec<&str> = r.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "gpu=false,dedicated=db:NoSchedule",
            "karpenter.sh/nodepool=general",
            "node.kubernetes.io/instance-type=p3",
        ]
    );
    let by = report(&Grouping::Labels(vec!["gpu".into()]), &[]);
    let keys: Vec<&str> = by.groups.iter().map(|g| g.key.as_str()).collect();
    assert_eq!(keys, ["gpu=<none>", "gpu=false", "gpu=true"]);
}

#[test]
fn overhead_sums_requests_as_the_scheduler_counts_them() {
    let r = report(&Grouping::Pools, &[]);
    let general = &r.groups[1];
    assert_eq!(general.nodes, 2);
    let cpu = &general.resources[0];
    assert_eq!(cpu.resource, "cpu");
    // agent 100m + 50m sidecar, sandboxed 200m (limit as request) + 250m RuntimeClass overhead,
    // bare nothing, huge 3 on the 4-core and the 8-core node.
    assert_eq!(cpu.daemon_sets.min, "3600m");
    assert_eq!(cpu.allocatable.min, "4");
    assert_eq!(cpu.allocatable.max, "8");
    assert_eq!(cpu.left.min, "400m");
    assert_eq!(cpu.left.max, "4400m");
    assert_eq!(cpu.percent.max, 90.0);
    assert_eq!(cpu.percent.min, 45.0);
    let pods = general
        .resources
        .iter()
        .find(|l| l.resource == "pods")
        .unwrap();
    assert_eq!(pods.daemon_sets.max, "4");
    let names: Vec<&str> = general
        .daemon_sets
        .iter()
        .map(|d| d.name.as_str())
        .collect();
    assert_eq!(names, ["agent", "sandboxed", "bare", "huge"]);
    assert_eq!(general.daemon_sets[1].requests["cpu"], "450m");
    assert_eq!(general.largest[0].daemon_set, "default/huge");
}

#[test]
fn traps_name_what_autoscalers_get_wrong() {
    let r = report(&Grouping::Pools, &[]);
    let gpu = &r.groups[2];
    // 2 cores: the critical pods land first (150m + 450m), gpu-agent (1) fits, huge (3) never.
    let pending: Vec<&Trap> = gpu
        .traps
        .iter()
        .filter(|t| matches!(t, Trap::DoesNotFit { .. }))
        .collect();
    assert_eq!(pending.len(), 1, "{:?}", gpu.traps);
    assert!(
        matches!(pending[0], Trap::DoesNotFit { daemon_set, nodes: 1, reason } if daemon_set == "default/huge" && reason.contains("Insufficient cpu"))
    );
    assert!(gpu.traps.contains(&Trap::NoRequests {
        daemon_set: "default/bare".into()
    }));
    assert!(gpu.traps.contains(&Trap::NoPriorityClass {
        daemon_set: "default/gpu-agent".into()
    }));
    assert!(!gpu.traps.iter().any(|t| t
        == &Trap::NoPriorityClass {
            daemon_set: "default/agent".into()
        }));
    // The tainted node is targeted by nothing.
    assert!(r.groups[0].daemon_sets.is_empty());
}

#[test]
fn real_pods_with_other_requests_are_flagged_with_their_cause() {
    let daemon_pod = |name: &str, hash: &str, cpu: &str| {
        pod(&format!(
            "metadata: {{name: {name}, namespace: default, labels: {{controller-revision-hash: {hash}}}, ownerReferences: [{{apiVersion: apps/v1, kind: DaemonSet, name: bare, uid: uid-bare, controller: true}}]}}\nspec: {{nodeName: a-1, containers: [{{name: c, image: a, resources: {{requests: {{cpu: {cpu}}}}}}}]}}\nstatus: {{phase: Running}}"
        ))
    };
    let r = report(&Grouping::Pools, &[daemon_pod("bare-x", "old", "100m")]);
    let general = &r.groups[1];
    let differ: Vec<&Trap> = general
        .traps
        .iter()
        .filter(|t| matches!(t, Trap::RequestsDiffer { .. }))
        .collect();
    assert_eq!(differ.len(), 1);
    assert!(
        matches!(differ[0], Trap::RequestsDiffer { cause, pods: 1, example, .. }
        if cause == "OldRevision" && example.contains("bare-x requests cpu 100m"))
    );
    // Its pod counts as a daemon pod, not as another pod.
    let cpu = &general.resources[0];
    assert_eq!(cpu.total.other_pods, "0");
}

#[test]
fn equal_priority_contention_is_called_order_dependent() {
    let mut n = sized(node("n", &[], &[]), "1", "1Gi", "110");
    n.metadata.name = Some("n".into());
    let one = |name: &str| {
        named(
            "containers: [{name: c, image: a, resources: {requests: {cpu: 600m}}}]",
            name,
            None,
        )
    };
    let p = node_preview::preview(&n, &[one("a"), one("b")], &AdmissionFacts::default());
    assert_eq!(p.count("Lands"), 1);
    let pending = p.daemon_sets.iter().find(|d| d.name == "b").unwrap();
    assert!(matches!(
        pending.verdict,
        Verdict::Pending {
            contended: true,
            fits_alone: true,
            ..
        }
    ));
    let cpu = &p.resources[0];
    assert_eq!(
        (cpu.daemon_sets.as_str(), cpu.left.as_str()),
        ("600m", "400m")
    );
}

#[test]
fn a_node_like_another_drops_condition_taints_and_takes_the_changes() {
    let existing = node(
        "base",
        &[("pool", "a"), ("old", "x")],
        &[
            ("node.kubernetes.io/not-ready", "", "NoSchedule"),
            ("dedicated", "db", "NoSchedule"),
            ("edge", "", "NoExecute"),
        ],
    );
    let labels = node_preview::parse_labels("pool=b,old-").unwrap();
    assert_eq!(
        labels,
        [
            LabelChange::Set("pool".into(), "b".into()),
            LabelChange::Remove("old".into())
        ]
    );
    let taints = node_preview::parse_taints("gpu=yes:NoSchedule,edge-").unwrap();
    assert!(matches!(&taints[1], TaintChange::Remove { key, effect: None } if key == "edge"));
    let n = node_preview::node_like(&existing, &labels, &taints);
    let l = n.metadata.labels.as_ref().unwrap();
    assert_eq!(l.get("pool").map(String::as_str), Some("b"));
    assert!(!l.contains_key("old"));
    let t: Vec<String> = n
        .spec
        .as_ref()
        .unwrap()
        .taints
        .iter()
        .flatten()
        .map(|t| crate::logic::daemon::taints::TaintRef::from(t).to_string())
        .collect();
    assert_eq!(t, ["dedicated=db:NoSchedule", "gpu=yes:NoSchedule"]);
}

#[test]
fn bad_label_and_taint_changes_are_refused() {
    assert!(node_preview::parse_labels("pool").is_err());
    assert!(node_preview::parse_labels("-bad=x").is_err());
    assert!(node_preview::parse_taints("k=v").is_err());
    assert!(node_preview::parse_taints("k=v:Sometimes").is_err());
    assert!(node_preview::parse_taints("k:Never-").is_err());
    assert!(node_preview::parse_taints("k=v:NoExecute,k2:NoSchedule").is_ok());
}

#[test]
fn a_not_ready_or_cordoned_node_still_stands_for_its_kind() {
    let (d, f) = (daemonsets(), facts());
    let healthy = sized(node("p-1", &[("gpu", "false")], &[]), "4", "8Gi", "110");
    let mut sick = sized(
        node(
            "p-2",
            &[("gpu", "false")],
            &[
                ("node.kubernetes.io/not-ready", "", "NoSchedule"),
                ("node.kubernetes.io/unreachable", "", "NoExecute"),
            ],
        ),
        "4",
        "8Gi",
        "110",
    );
    if let Some(spec) = sick.spec.as_mut() {
        spec.unschedulable = Some(true);
    }
    let nodes = [healthy, sick];
    let r = compute(
        &Inputs {
            daemonsets: &d,
            nodes: &nodes,
            pods: &[],
            revisions: &[],
            facts: &f,
        },
        &Grouping::Pools,
    );
    assert_eq!(r.groups.len(), 1, "{:?}", r.groups);
    let cpu = &r.groups[0].resources[0];
    assert_eq!(
        (cpu.daemon_sets.min.as_str(), cpu.daemon_sets.max.as_str()),
        ("3600m", "3600m")
    );
}

#[test]
fn daemon_pods_wanting_the_same_host_port_do_not_both_land() {
    let n = sized(node("n", &[], &[]), "4", "8Gi", "110");
    let port = "containers: [{name: c, image: a, ports: [{containerPort: 9100, hostPort: 9100}]}]";
    let f = AdmissionFacts {
        priority_classes: Some(vec![priority_class("high", 1000)]),
        ..AdmissionFacts::default()
    };
    let dss = [
        named(port, "exporter-a", None),
        named(port, "exporter-b", Some("high")),
        named(
            "containers: [{name: c, image: a, ports: [{containerPort: 9100, hostPort: 9100, protocol: UDP}]}]",
            "udp",
            None,
        ),
    ];
    let p = node_preview::preview(&n, &dss, &f);
    let verdict = |name: &str| {
        &p.daemon_sets
            .iter()
            .find(|d| d.name == name)
            .unwrap()
            .verdict
    };
    assert!(verdict("exporter-b").lands());
    assert!(verdict("udp").lands(), "another protocol does not conflict");
    assert!(
        matches!(verdict("exporter-a"), Verdict::Pending { port_conflicts, contended: false, .. }
        if port_conflicts.len() == 1 && port_conflicts[0].pod == "DaemonSet default/exporter-b")
    );
}

#[test]
fn limit_range_defaults_count_and_are_flagged() {
    let n = sized(node("n", &[("pool", "a")], &[]), "4", "8Gi", "110");
    let f = AdmissionFacts {
        limit_ranges: Some(vec![
            crate::yaml::from_str(
                "metadata: {name: defaults, namespace: default}\nspec: {limits: [{type: Container, defaultRequest: {cpu: 100m}}]}",
            )
            .expect("LimitRange"),
        ]),
        ..AdmissionFacts::default()
    };
    let d = [named("containers: [{name: c, image: a}]", "bare", None)];
    let r = compute(
        &Inputs {
            daemonsets: &d,
            nodes: &[n],
            pods: &[],
            revisions: &[],
            facts: &f,
        },
        &Grouping::Pools,
    );
    let g = &r.groups[0];
    assert_eq!(g.resources[0].daemon_sets.max, "100m");
    assert!(
        g.traps
            .iter()
            .any(|t| matches!(t, Trap::LimitRangeDefaults { daemon_set, .. } if daemon_set == "default/bare")),
        "{:?}",
        g.traps
    );
}
