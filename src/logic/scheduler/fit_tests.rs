//! Resource arithmetic and host-port matching against the upstream rules.

use super::defaultpreemption::{Preemption, Preemptor, preemption};
use super::nodeports::{host_ports, port_conflicts};
use super::noderesources::{insufficient, pod_requests};
use crate::logic::fixtures::{node, pod};

fn spec(yaml: &str) -> k8s_openapi::api::core::v1::PodSpec {
    crate::yaml::from_str(yaml).expect("pod spec")
}

#[test]
fn pod_requests_count_init_containers_sidecars_and_overhead() {
    // resource.PodRequests: max(sum(containers) + sum(sidecars), max_i(init_i + sidecars before i)).
    let s = spec(
        "containers: [{name: a, resources: {requests: {cpu: 100m, memory: 100Mi}}}, {name: b, resources: {requests: {cpu: 200m}}}]
initContainers:
- {name: side, restartPolicy: Always, resources: {requests: {cpu: 50m}}}
- {name: big-init, resources: {requests: {cpu: '1', memory: 50Mi}}}
overhead: {cpu: 10m}",
    );
    let r = pod_requests(&s);
    // cpu: max(100+200+50, 1000+50) = 1050, + 10 overhead.
    assert_eq!(r["cpu"], 1060);
    // memory: max(100Mi, 50Mi) = 100Mi.
    assert_eq!(r["memory"], 100 * 1024 * 1024 * 1000);
}

#[test]
fn pod_level_requests_override_cpu_and_memory() {
    let s = spec(
        "containers: [{name: a, resources: {requests: {cpu: 100m, nvidia.com/gpu: '1'}}}]\nresources: {requests: {cpu: '2'}}",
    );
    let r = pod_requests(&s);
    assert_eq!(r["cpu"], 2000);
    assert_eq!(r["nvidia.com/gpu"], 1000);
}

fn sized_node(cpu: &str, pods: &str) -> k8s_openapi::api::core::v1::Node {
    let mut n = node("n1", &[], &[]);
    n.status = Some(
        crate::yaml::from_str(&format!(
            "allocatable: {{cpu: '{cpu}', memory: 1Gi, pods: '{pods}', example.com/dongle: '1'}}"
        ))
        .unwrap(),
    );
    n
}

fn bound(name: &str, extra: &str, priority: i32) -> k8s_openapi::api::core::v1::Pod {
    pod(&format!(
        "metadata: {{name: {name}, namespace: apps}}\nspec:\n  nodeName: n1\n  priority: {priority}\n  containers: [{{name: c{extra}}}]\nstatus: {{phase: Running}}"
    ))
}

#[test]
fn fits_like_fits_request() {
    let n = sized_node("2", "3");
    let hog = bound("hog", ", resources: {requests: {cpu: 1800m}}", 0);
    let done = {
        let mut p = bound("done", ", resources: {requests: {cpu: '2'}}", 0);
        p.status = Some(crate::yaml::from_str("phase: Succeeded").unwrap());
        p
    };
    let all = [hog.clone(), done.clone()];
    let on_node = super::noderesources::pods_on_node("n1", &all);
    assert_eq!(on_node.len(), 1, "finished pods do not count");
    let by_node = super::noderesources::pods_by_node(&all);
    assert_eq!(
        by_node.get("n1"),
        Some(&on_node),
        "one pass gives what a scan per node gives"
    );
    assert_eq!(by_node.len(), 1);
    let want = pod_requests(&spec(
        "containers: [{name: a, resources: {requests: {cpu: 300m, example.com/dongle: '2'}}}]",
    ));
    let short = insufficient(&want, &n, &on_node);
    let reasons: Vec<&str> = short.iter().map(|i| i.reason.as_str()).collect();
    assert_eq!(
        reasons,
        ["Insufficient cpu", "Insufficient example.com/dongle"]
    );
    assert!(!short[0].unresolvable);
    assert!(short[1].unresolvable, "2 dongles exceed the node's 1");
    assert!(insufficient(&want, &n, &[]).len() == 1);
    // Too many pods is checked even for a pod that requests nothing.
    let tight = sized_node("2", "2");
    let two = vec![&hog, &hog];
    assert_eq!(
        insufficient(&Default::default(), &tight, &two)[0].reason,
        "Too many pods"
    );
}

fn preempt(
    spec_yaml: &str,
    priority: i32,
    never: bool,
    n: &k8s_openapi::api::core::v1::Node,
    on: &[&k8s_openapi::api::core::v1::Pod],
    pdbs: &[k8s_openapi::api::policy::v1::PodDisruptionBudget],
) -> Preemption {
    let s = spec(spec_yaml);
    let request = pod_requests(&s);
    let p = Preemptor {
        spec: &s,
        request: &request,
        priority,
        never,
    };
    preemption(&p, n, on, pdbs)
}

fn victims(p: &Preemption) -> Vec<String> {
    match p {
        Preemption::WouldHelp { victims, .. } => victims.clone(),
        other => panic!("expected victims, got {other:?}"),
    }
}

const HALF_CPU: &str = "containers: [{name: a, resources: {requests: {cpu: 500m}}}]";

#[test]
fn preemption_only_helps_with_lower_priority_victims() {
    let n = sized_node("2", "10");
    let low = bound("low", ", resources: {requests: {cpu: 1800m}}", 0);
    let on = vec![&low];
    assert_eq!(
        victims(&preempt(HALF_CPU, 1000, false, &n, &on, &[])),
        ["apps/low"]
    );
    // Equal priority pods filled the node first (kubernetes/kubernetes#140984).
    assert_eq!(
        preempt(HALF_CPU, 0, false, &n, &on, &[]),
        Preemption::WouldNotHelp {
            lower_priority_pods: 0
        }
    );
    let huge = "containers: [{name: a, resources: {requests: {cpu: '3'}}}]";
    assert_eq!(
        preempt(huge, 1000, false, &n, &on, &[]),
        Preemption::Impossible
    );
}

#[test]
fn preemption_policy_never_never_preempts() {
    let n = sized_node("2", "10");
    let low = bound("low", ", resources: {requests: {cpu: 1800m}}", 0);
    assert!(matches!(
        preempt(HALF_CPU, 1000, true, &n, &[&low], &[]),
        Preemption::NotEligible { .. }
    ));
}

#[test]
fn preemption_evicts_the_fewest_lowest_priority_pods() {
    let n = sized_node("2", "10");
    let a = bound("a", ", resources: {requests: {cpu: 600m}}", 10);
    let b = bound("b", ", resources: {requests: {cpu: 600m}}", 5);
    let c = bound("c", ", resources: {requests: {cpu: 600m}}", 1);
    // 1800m used, 500m wanted: one victim is enough; the least important goes.
    assert_eq!(
        victims(&preempt(HALF_CPU, 100, false, &n, &[&a, &b, &c], &[])),
        ["apps/c"]
    );
}

#[test]
fn preemption_spares_pdb_protected_pods_where_it_can() {
    let n = sized_node("2", "10");
    let mut guarded = bound("guarded", ", resources: {requests: {cpu: 600m}}", 0);
    guarded.metadata.labels = Some([("app".to_string(), "db".to_string())].into());
    let plain = bound("plain", ", resources: {requests: {cpu: 600m}}", 5);
    let other = bound("other", ", resources: {requests: {cpu: 600m}}", 5);
    let pdb: k8s_openapi::api::policy::v1::PodDisruptionBudget = crate::yaml::from_str(
        "metadata: {name: db, namespace: apps}\nspec: {selector: {matchLabels: {app: db}}}\nstatus: {disruptionsAllowed: 0, currentHealthy: 1, desiredHealthy: 1, expectedPods: 1}",
    )
    .unwrap();
    let on = [&guarded, &plain, &other];
    assert_eq!(
        victims(&preempt(HALF_CPU, 100, false, &n, &on, &[])),
        ["apps/guarded"]
    );
    let with_pdb = preempt(HALF_CPU, 100, false, &n, &on, &[pdb]);
    let v = victims(&with_pdb);
    assert_eq!(v.len(), 1);
    assert_ne!(
        v[0], "apps/guarded",
        "the PDB-protected pod is given back first"
    );
}

#[test]
fn preemption_frees_host_ports_too() {
    let n = sized_node("2", "10");
    let holder = bound(
        "holder",
        ", ports: [{containerPort: 9100, hostPort: 9100}]",
        0,
    );
    let wants = "containers: [{name: a, ports: [{containerPort: 9100, hostPort: 9100}]}]";
    assert_eq!(
        victims(&preempt(wants, 1000, false, &n, &[&holder], &[])),
        ["apps/holder"]
    );
    assert!(matches!(
        preempt(wants, 0, false, &n, &[&holder], &[]),
        Preemption::WouldNotHelp { .. }
    ));
}

#[test]
fn host_ports_follow_check_conflict() {
    let want = spec("containers: [{name: a, ports: [{containerPort: 9100, hostPort: 9100}]}]");
    let holder = |ports: &str| {
        pod(&format!(
            "metadata: {{name: holder, namespace: x}}\nspec:\n  nodeName: n1\n  containers: [{{name: c, ports: [{ports}]}}]"
        ))
    };
    let tcp = holder("{containerPort: 1, hostPort: 9100}");
    let udp = holder("{containerPort: 1, hostPort: 9100, protocol: UDP}");
    let ip = holder("{containerPort: 1, hostPort: 9100, hostIP: 10.0.0.1}");
    let other = holder("{containerPort: 1, hostPort: 9200}");
    assert_eq!(port_conflicts(&want, &[&tcp]).len(), 1);
    assert!(
        port_conflicts(&want, &[&udp]).is_empty(),
        "different protocols never conflict"
    );
    assert_eq!(
        port_conflicts(&want, &[&ip]).len(),
        1,
        "0.0.0.0 conflicts with any IP"
    );
    assert!(port_conflicts(&want, &[&other]).is_empty());
    let specific = spec(
        "containers: [{name: a, ports: [{containerPort: 9100, hostPort: 9100, hostIP: 10.0.0.2}]}]",
    );
    assert!(
        port_conflicts(&specific, &[&ip]).is_empty(),
        "two different specific IPs do not conflict"
    );
    assert_eq!(
        port_conflicts(&specific, &[&tcp]).len(),
        1,
        "a specific IP conflicts with 0.0.0.0"
    );
}

#[test]
fn host_network_pods_get_host_ports_and_classic_init_containers_do_not_count() {
    let s = spec(
        "hostNetwork: true\ncontainers: [{name: a, ports: [{containerPort: 9100}]}]\ninitContainers: [{name: i, ports: [{containerPort: 80, hostPort: 80}]}, {name: s, restartPolicy: Always, ports: [{containerPort: 81, hostPort: 81}]}]",
    );
    let ports: Vec<i32> = host_ports(&s).iter().map(|p| p.port).collect();
    assert_eq!(ports, [81, 9100]);
}
