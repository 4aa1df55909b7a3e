//! The InterPodAffinity and PodTopologySpread filters against the upstream rules, on pods and
//! nodes shaped as the testbed's API server returns them.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Node, Pod, PodSpec};

use super::interpod_affinity::{AFFINITY, ANTI_AFFINITY, EXISTING_ANTI_AFFINITY};
use super::topology_spread::{MISSING_LABEL, NOT_MATCH};
use super::{ClusterView, IncomingPod, Outcome, interpod_affinity, topology_spread};
use crate::logic::fixtures::{node, pod};

fn spec(yaml: &str) -> PodSpec {
    crate::yaml::from_str(&format!("containers: [{{name: c}}]\n{yaml}")).expect("pod spec")
}

fn agent_labels() -> BTreeMap<String, String> {
    [("app".to_string(), "agent".to_string())].into()
}

fn bound(name: &str, node: &str, labels: &str, extra: &str) -> Pod {
    pod(&format!(
        "metadata: {{name: {name}, namespace: default, labels: {{{labels}}}}}\nspec:\n  nodeName: {node}\n  containers: [{{name: c}}]\n{extra}"
    ))
}

fn zoned(name: &str, zone: &str) -> Node {
    node(
        name,
        &[("kubernetes.io/hostname", name), ("zone", zone)],
        &[],
    )
}

fn reason(o: &Outcome) -> &str {
    match o {
        Outcome::Reject { reason, .. } | Outcome::NotChecked { reason } => reason,
        Outcome::Pass => "pass",
    }
}

const GUARD: &str = "  affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: agent}}}]}}";

#[test]
fn existing_pod_anti_affinity_in_the_zone_rejects_the_daemon_pod() {
    // satisfyExistingPodsAntiAffinity: the guard on n2 shares zone a with n1.
    let (n1, n2, n3) = (zoned("n1", "a"), zoned("n2", "a"), zoned("n3", "b"));
    let guard = bound("guard", "n2", "app: guard", GUARD);
    let plain = bound("plain", "n1", "app: plain", "");
    let s = spec("");
    let labels = agent_labels();
    let pod = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec: &s,
    };
    let zones = [&n1, &n2, &n3];
    let listed = [&plain, &guard];
    let view = ClusterView::new(&zones, &listed, true, &super::NOTHING_READ);
    // Only the guard is walked for every node (`PodsWithRequiredAntiAffinity`).
    let walked: Vec<&str> = view
        .with_required_anti_affinity
        .iter()
        .filter_map(|p| p.metadata.name.as_deref())
        .collect();
    assert_eq!(walked, ["guard"]);
    assert_eq!(
        reason(&interpod_affinity::filter(&pod, &n1, &view)),
        EXISTING_ANTI_AFFINITY
    );
    assert_eq!(interpod_affinity::filter(&pod, &n3, &view), Outcome::Pass);
    // Another namespace's daemon pod is not selected by the guard's term.
    let other = IncomingPod {
        namespace: "kube-system",
        ..pod
    };
    assert_eq!(interpod_affinity::filter(&other, &n1, &view), Outcome::Pass);
    // Reading only n1's pods cannot rule out a guard elsewhere in zone a.
    let only_n1 = [&n1];
    let none: [&k8s_openapi::api::core::v1::Pod; 0] = [];
    let local = ClusterView::new(&only_n1, &none, false, &super::NOTHING_READ);
    assert!(reason(&interpod_affinity::filter(&pod, &n1, &local)).starts_with("not checked: "));
}

#[test]
fn the_pods_own_anti_affinity_and_affinity() {
    let (n1, n2) = (zoned("n1", "a"), zoned("n2", "b"));
    let db = bound("db", "n1", "app: db", "");
    let labels = agent_labels();
    let view_nodes = [&n1, &n2];
    let view_pods = [&db];
    let view = ClusterView::new(&view_nodes, &view_pods, true, &super::NOTHING_READ);
    // satisfyPodAntiAffinity.
    let anti = spec(
        "affinity: {podAntiAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: db}}}]}}",
    );
    let pod = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec: &anti,
    };
    assert_eq!(
        reason(&interpod_affinity::filter(&pod, &n1, &view)),
        ANTI_AFFINITY
    );
    assert_eq!(interpod_affinity::filter(&pod, &n2, &view), Outcome::Pass);
    // satisfyPodAffinity: only where a db pod runs in the zone.
    let aff = spec(
        "affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: db}}}]}}",
    );
    let pod = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec: &aff,
    };
    assert_eq!(interpod_affinity::filter(&pod, &n1, &view), Outcome::Pass);
    assert_eq!(
        reason(&interpod_affinity::filter(&pod, &n2, &view)),
        AFFINITY
    );
    // A node without the topology key never satisfies affinity.
    let bare = node("bare", &[], &[]);
    assert_eq!(
        reason(&interpod_affinity::filter(&pod, &bare, &view)),
        AFFINITY
    );
    // The first pod of a series with affinity to itself is let through.
    let selfish = spec(
        "affinity: {podAffinity: {requiredDuringSchedulingIgnoredDuringExecution: [{topologyKey: zone, labelSelector: {matchLabels: {app: agent}}}]}}",
    );
    let pod = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec: &selfish,
    };
    assert_eq!(interpod_affinity::filter(&pod, &n2, &view), Outcome::Pass);
}

#[test]
fn spread_rejects_a_node_without_the_topology_label() {
    // PodTopologySpread.Filter: ErrReasonNodeLabelNotMatch.
    let s = spec(
        "topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: agent}}}]",
    );
    let labels = agent_labels();
    let pod = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec: &s,
    };
    let (n1, bare) = (zoned("n1", "a"), node("bare", &[], &[]));
    let view_nodes = [&n1, &bare];
    let view_pods: [&k8s_openapi::api::core::v1::Pod; 0] = [];
    let view = ClusterView::new(&view_nodes, &view_pods, true, &super::NOTHING_READ);
    assert_eq!(
        reason(&topology_spread::filter(&pod, &bare, &view)),
        MISSING_LABEL
    );
    assert_eq!(topology_spread::filter(&pod, &n1, &view), Outcome::Pass);
    // ScheduleAnyway is not a filter.
    let soft = spec(
        "topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: ScheduleAnyway, labelSelector: {matchLabels: {app: agent}}}]",
    );
    let pod = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec: &soft,
    };
    assert_eq!(topology_spread::filter(&pod, &bare, &view), Outcome::Pass);
}

#[test]
fn spread_counts_only_the_pinned_node_unless_node_affinity_is_ignored() {
    // calPreFilterState + matchNodeInclusionPolicies: under Honor only n1 counts, so two
    // agents already in zone a do not skew it; under Ignore zone b's zero does.
    let (n1, n2, n3) = (zoned("n1", "a"), zoned("n2", "a"), zoned("n3", "b"));
    let a = bound("a", "n2", "app: agent", "");
    let labels = agent_labels();
    let view_nodes = [&n1, &n2, &n3];
    let view_pods = [&a];
    let view = ClusterView::new(&view_nodes, &view_pods, true, &super::NOTHING_READ);
    let honor = spec(
        "topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: agent}}}]",
    );
    let pod = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec: &honor,
    };
    assert_eq!(topology_spread::filter(&pod, &n1, &view), Outcome::Pass);
    let ignore = spec(
        "topologySpreadConstraints: [{maxSkew: 1, topologyKey: zone, whenUnsatisfiable: DoNotSchedule, nodeAffinityPolicy: Ignore, labelSelector: {matchLabels: {app: agent}}}]",
    );
    let pod = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec: &ignore,
    };
    assert_eq!(
        reason(&topology_spread::filter(&pod, &n1, &view)),
        NOT_MATCH
    );
    assert_eq!(topology_spread::filter(&pod, &n3, &view), Outcome::Pass);
    // minDomains above the domains counted makes the global minimum zero (minMatchNum).
    let min = spec(
        "topologySpreadConstraints: [{maxSkew: 1, minDomains: 2, topologyKey: kubernetes.io/hostname, whenUnsatisfiable: DoNotSchedule, labelSelector: {matchLabels: {app: agent}}}]",
    );
    let pod = IncomingPod {
        namespace: "default",
        labels: &labels,
        spec: &min,
    };
    assert_eq!(
        reason(&topology_spread::filter(&pod, &n2, &view)),
        NOT_MATCH
    );
    assert_eq!(topology_spread::filter(&pod, &n1, &view), Outcome::Pass);
}

#[test]
fn a_resized_pod_counts_the_larger_of_spec_allocated_and_actual() {
    // component-helpers PodRequests with UseStatusResources, determineContainerReqs.
    use super::noderesources::scheduled_requests;
    let grown = pod("metadata: {name: grown, namespace: default}
spec:
  nodeName: n1
  containers: [{name: c, resources: {requests: {cpu: 500m, memory: 1Gi}}}]
status:
  containerStatuses:
  - {name: c, image: i, imageID: '', ready: true, restartCount: 0, allocatedResources: {cpu: 1500m}, resources: {requests: {cpu: 1200m, memory: 512Mi}}}");
    let r = scheduled_requests(&grown);
    assert_eq!(r["cpu"], 1500);
    assert_eq!(r["memory"], 1024 * 1024 * 1024 * 1000);
    // An infeasible resize: the spec's larger request is not what the node holds.
    let mut infeasible = grown.clone();
    infeasible.spec.as_mut().unwrap().containers[0].resources =
        Some(crate::yaml::from_str("requests: {cpu: '4'}").unwrap());
    infeasible.status.as_mut().unwrap().conditions = Some(vec![
        crate::yaml::from_str("{type: PodResizePending, status: 'True', reason: Infeasible}")
            .unwrap(),
    ]);
    assert_eq!(scheduled_requests(&infeasible)["cpu"], 1500);
    // No reported resources: the spec alone.
    let plain = bound("plain", "n1", "app: x", "");
    assert!(scheduled_requests(&plain).is_empty());
}

#[test]
fn nominated_pods_of_equal_or_higher_priority_hold_their_room() {
    // addGENominatedPods: priority >= the incoming pod's, not the pod itself, still Pending.
    use super::nominated::counted;
    let waiting = |name: &str, prio: i32, owner: &str| {
        pod(&format!("metadata:
  name: {name}
  namespace: default
  ownerReferences: [{{apiVersion: apps/v1, kind: DaemonSet, name: o, uid: {owner}, controller: true}}]
spec: {{priority: {prio}, containers: [{{name: c}}]}}
status: {{phase: Pending, nominatedNodeName: n1}}"))
    };
    let (high, equal, low, own) = (
        waiting("high", 100, "x"),
        waiting("equal", 10, "x"),
        waiting("low", 5, "x"),
        waiting("own", 100, "ds-uid"),
    );
    let all = [&high, &equal, &low, &own];
    let names: Vec<&str> = counted(&all, "n1", 10, "ds-uid")
        .iter()
        .map(|p| crate::logic::daemon::pods::name(p))
        .collect();
    assert_eq!(names, ["high", "equal"]);
    assert!(counted(&all, "n2", 10, "ds-uid").is_empty());
}

#[test]
fn preview_leaves_room_for_pods_nominated_to_the_node() {
    // RunFilterPluginsWithNominatedPods: a Pending pod nominated to n1 at higher priority
    // holds 800m of its 1 cpu against the 500m daemon pod; a lower-priority one does not.
    let mut n1 = node("n1", &[], &[]);
    n1.status =
        Some(crate::yaml::from_str("allocatable: {cpu: '1', memory: 1Gi, pods: '10'}").unwrap());
    let ds = crate::logic::fixtures::ds(
        "containers: [{name: c, image: i, resources: {requests: {cpu: 500m}}}]",
    );
    let nominated = |prio: i32| {
        pod(&format!(
            "metadata: {{name: waiting, namespace: default}}
spec: {{priority: {prio}, containers: [{{name: c, resources: {{requests: {{cpu: 800m}}}}}}]}}
status: {{phase: Pending, nominatedNodeName: n1}}"
        ))
    };
    let nodes = [n1];
    let high =
        crate::logic::reports::preview::preview(&ds, None, &nodes, &[nominated(1000)]).unwrap();
    assert!(high.would_run.is_empty(), "{:?}", high.would_run);
    assert_eq!(high.unplaceable[0].node, "n1");
    let low = crate::logic::reports::preview::preview(&ds, None, &nodes, &[nominated(-1)]).unwrap();
    assert_eq!(low.would_run, ["n1"]);
}

/// The testbed's preemption, as its API server returned the two pods: `victim` (priority 10,
/// 2 cpus) preempted and held Terminating by a finalizer on nom-1, `preemptor` (priority
/// 1000, 3 cpus) Pending with `status.nominatedNodeName: nom-1`.
fn captured_preemption() -> (Pod, Pod) {
    let read = |text: &str| pod(text);
    (
        read(include_str!("fixtures/nominated-victim.yaml")),
        read(include_str!("fixtures/nominated-preemptor.yaml")),
    )
}

fn nom_node() -> Node {
    let mut n = node("nom-1", &[("pool", "nom")], &[]);
    n.status =
        Some(crate::yaml::from_str("allocatable: {cpu: '4', memory: 8Gi, pods: '110'}").unwrap());
    n
}

#[test]
fn a_captured_nomination_is_counted_as_add_ge_nominated_pods_does() {
    // addGENominatedPods (framework.go): the Pending preemptor counts against pods of priority
    // up to its own 1000 on nom-1 only; the Terminating victim is bound, not nominated.
    use super::nominated::{counted, is_nominated_to};
    let (victim, preemptor) = captured_preemption();
    assert!(is_nominated_to(&preemptor, "nom-1"));
    assert!(!is_nominated_to(&victim, "nom-1"));
    let all = [&victim, &preemptor];
    let names = |prio: i32, node: &str| -> Vec<String> {
        counted(&all, node, prio, "ds-uid")
            .iter()
            .map(|p| crate::logic::daemon::pods::name(p).to_string())
            .collect()
    };
    assert_eq!(names(10, "nom-1"), ["preemptor"]);
    assert_eq!(names(1000, "nom-1"), ["preemptor"]);
    assert!(names(1001, "nom-1").is_empty());
    assert!(names(10, "nom-2").is_empty());
}

#[test]
fn a_daemon_pod_beside_a_captured_nomination_is_short_of_cpu() {
    // RunFilterPluginsWithNominatedPods: the 1-cpu daemon pod at priority 10 fits beside the
    // Terminating victim (2 of 4 cpus; the scheduler's cache keeps a terminating pod until it
    // is deleted) but not beside the victim and the nominated preemptor (5 of 4), as the
    // testbed's scheduler says ("Insufficient cpu"). Above the preemptor's priority, or once the
    // victim is gone and the preemptor bound, it fits.
    let (victim, preemptor) = captured_preemption();
    let nodes = [nom_node()];
    let ds = |prio: i32| {
        crate::logic::fixtures::ds(&format!(
            "priority: {prio}\ncontainers: [{{name: c, image: i, resources: {{requests: {{cpu: '1'}}}}}}]"
        ))
    };
    let pods = [victim.clone(), preemptor.clone()];
    let held = crate::logic::reports::preview::preview(&ds(10), None, &nodes, &pods).unwrap();
    assert!(held.would_run.is_empty(), "{:?}", held.would_run);
    assert_eq!(held.unplaceable[0].node, "nom-1");
    assert!(
        held.unplaceable[0].reason.contains("Insufficient cpu"),
        "{}",
        held.unplaceable[0].reason
    );
    let above = crate::logic::reports::preview::preview(&ds(1001), None, &nodes, &pods).unwrap();
    assert_eq!(above.would_run, ["nom-1"]);
    let mut bound = preemptor;
    bound.spec.as_mut().unwrap().node_name = Some("nom-1".into());
    bound.status.as_mut().unwrap().nominated_node_name = None;
    let after = crate::logic::reports::preview::preview(&ds(10), None, &nodes, &[bound]).unwrap();
    assert_eq!(after.would_run, ["nom-1"]);
}
