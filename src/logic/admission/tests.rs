//! One group of tests per plugin, each against the upstream behaviour it mirrors.

use k8s_openapi::api::core::v1::{LimitRange, Namespace, Pod, ResourceQuota, ServiceAccount};
use k8s_openapi::api::node::v1::RuntimeClass;
use k8s_openapi::api::scheduling::v1::PriorityClass;

use super::*;
use crate::logic::fixtures;
use crate::logic::scheduler::{nodeports, noderesources};

fn obj<T: serde::de::DeserializeOwned>(yaml: &str) -> T {
    crate::yaml::from_str(yaml).expect("fixture object")
}

fn with_sa() -> Objects {
    let mut o = Objects::empty();
    o.service_accounts = Some(vec![obj::<ServiceAccount>(
        "metadata: {name: default, namespace: default}",
    )]);
    o
}

fn pod_of(spec: &str) -> Pod {
    daemon_pod(&fixtures::ds(spec), "n1", Some("abc")).expect("pod")
}

fn admitted(spec: &str, objects: &Objects) -> Admission {
    admit(pod_of(spec), objects)
}

fn message(a: &Admission) -> String {
    a.refusal
        .as_ref()
        .map(|r| r.message.clone())
        .unwrap_or_default()
}

fn requests(a: &Admission) -> noderesources::Resources {
    noderesources::pod_requests(a.pod.spec.as_ref().expect("spec"))
}

#[test]
fn daemon_pod_is_pinned_tolerant_labelled_and_named() {
    let ds = fixtures::ds(
        "affinity:\n  nodeAffinity:\n    requiredDuringSchedulingIgnoredDuringExecution:\n      nodeSelectorTerms:\n      - matchExpressions: [{key: zone, operator: In, values: [a]}]\nnodeSelector: {disk: ssd}",
    );
    let pod = daemon_pod(&ds, "n7", Some("h1")).expect("pod");
    assert_eq!(pod.metadata.generate_name.as_deref(), Some("agent-"));
    assert_eq!(crate::logic::daemon::pods::target_node(&pod), Some("n7"));
    let spec = pod.spec.as_ref().expect("spec");
    let terms = &spec
        .affinity
        .as_ref()
        .and_then(|a| a.node_affinity.as_ref())
        .and_then(|n| {
            n.required_during_scheduling_ignored_during_execution
                .as_ref()
        })
        .expect("required")
        .node_selector_terms;
    assert_eq!(terms.len(), 1, "the template's terms are replaced");
    assert!(terms[0].match_expressions.is_none());
    assert_eq!(
        spec.node_selector
            .as_ref()
            .and_then(|s| s.get("disk"))
            .map(String::as_str),
        Some("ssd"),
        "nodeSelector is kept"
    );
    assert!(
        spec.tolerations
            .iter()
            .flatten()
            .any(|t| t.key.as_deref() == Some("node.kubernetes.io/unschedulable"))
    );
    assert_eq!(crate::logic::daemon::pods::revision_hash(&pod), Some("h1"));
    assert!(crate::logic::daemon::pods::controller_uid(&pod) == Some("ds-uid"));
}

#[test]
fn defaulting_copies_limits_into_requests_and_host_ports() {
    let a = admitted(
        "hostNetwork: true\ncontainers:\n- name: c\n  image: x\n  ports: [{containerPort: 9100}]\n  resources: {limits: {cpu: 200m, memory: 64Mi}, requests: {memory: 32Mi}}",
        &with_sa(),
    );
    assert!(!a.refused());
    let r = requests(&a);
    assert_eq!(r.get("cpu"), Some(&200));
    assert_eq!(r.get("memory"), Some(&(32 * 1024 * 1024 * 1000)));
    assert_eq!(
        nodeports::host_ports(a.pod.spec.as_ref().unwrap())[0].port,
        9100
    );
    assert!(
        a.changes
            .iter()
            .any(|c| c.function == "SetDefaults_Pod" && c.change.contains("cpu=200m"))
    );
}

#[test]
fn pod_level_requests_default_from_limits() {
    let a = admitted(
        "resources: {limits: {cpu: '1'}}\ncontainers:\n- {name: c, image: x}",
        &with_sa(),
    );
    assert_eq!(requests(&a).get("cpu"), Some(&1000));
    assert!(
        a.changes
            .iter()
            .any(|c| c.function == "DefaultPodLevelResources")
    );
}

fn limit_range(yaml_limits: &str) -> Objects {
    let mut o = with_sa();
    o.limit_ranges = Some(vec![obj::<LimitRange>(&format!(
        "metadata: {{name: lr, namespace: default}}\nspec:\n  limits:\n{yaml_limits}"
    ))]);
    o
}

#[test]
fn limitranger_fills_missing_requests_and_limits_only() {
    let o = limit_range(
        "  - type: Container\n    defaultRequest: {cpu: 100m, memory: 50Mi}\n    default: {cpu: 500m}",
    );
    let a = admitted(
        "containers:\n- name: c\n  image: x\n  resources: {requests: {memory: 10Mi}}",
        &o,
    );
    let r = requests(&a);
    assert_eq!(r.get("cpu"), Some(&100), "defaultRequest added");
    assert_eq!(
        r.get("memory"),
        Some(&(10 * 1024 * 1024 * 1000)),
        "own request kept"
    );
    let c = &a.pod.spec.as_ref().unwrap().containers[0];
    let limits = c.resources.as_ref().unwrap().limits.as_ref().unwrap();
    assert_eq!(limits.get("cpu").map(|q| q.0.as_str()), Some("500m"));
    assert!(
        a.changes
            .iter()
            .any(|c| c.rule == "LimitRanger" && c.change.contains("LimitRange lr"))
    );
}

#[test]
fn limitranger_refuses_over_max() {
    let o = limit_range("  - type: Container\n    max: {cpu: '1'}");
    let a = admitted(
        "containers:\n- name: c\n  image: x\n  resources: {limits: {cpu: '2'}}",
        &o,
    );
    let r = a.refusal.as_ref().expect("refused");
    assert_eq!(r.rule, "LimitRanger");
    assert_eq!(
        r.message,
        "pods \"agent-\" is forbidden: maximum cpu usage per Container is 1, but limit is 2"
    );
}

#[test]
fn limitranger_ignores_other_namespaces() {
    let mut o = limit_range("  - type: Container\n    defaultRequest: {cpu: 100m}");
    if let Some(lr) = o.limit_ranges.as_mut() {
        lr[0].metadata.namespace = Some("other".into());
    }
    let a = admitted("", &o);
    assert_eq!(requests(&a).get("cpu"), None);
}

#[test]
fn service_account_missing_is_refused_with_the_servers_words() {
    let a = admitted("serviceAccountName: fluent-bit", &with_sa());
    assert_eq!(
        message(&a),
        "pods \"agent-\" is forbidden: error looking up service account default/fluent-bit: serviceaccount \"fluent-bit\" not found"
    );
    assert_eq!(a.refusal.as_ref().unwrap().rule, "ServiceAccount");
    let ok = admitted("", &with_sa());
    assert!(!ok.refused(), "the default service account exists");
    assert_eq!(
        ok.pod
            .spec
            .as_ref()
            .unwrap()
            .service_account_name
            .as_deref(),
        Some("default")
    );
}

#[test]
fn unreadable_kinds_are_not_checked_but_named() {
    let a = admitted("serviceAccountName: fluent-bit", &Objects::default());
    assert!(!a.refused());
    for rule in [
        "LimitRanger",
        "ServiceAccount",
        "Priority",
        "PodSecurity",
        "ResourceQuota",
    ] {
        assert!(
            a.unchecked.iter().any(|u| u == rule),
            "{rule} in {:?}",
            a.unchecked
        );
    }
}

fn classes(o: &mut Objects, yaml: &[&str]) {
    o.priority_classes = Some(yaml.iter().map(|y| obj::<PriorityClass>(y)).collect());
}

#[test]
fn priority_comes_from_the_class_with_its_preemption_policy() {
    let mut o = with_sa();
    classes(
        &mut o,
        &[
            "metadata: {name: batch-low}\nvalue: 1000\npreemptionPolicy: Never",
            "metadata: {name: fallback}\nvalue: 5\nglobalDefault: true",
            "metadata: {name: fallback-lower}\nvalue: 3\nglobalDefault: true",
        ],
    );
    let a = admitted("priorityClassName: batch-low", &o);
    let p = Priority::of(&a.pod);
    assert_eq!((p.value, p.never_preempts()), (1000, true));
    let d = admitted("", &o);
    let p = Priority::of(&d.pod);
    assert_eq!(p.value, 3, "the lowest of two global defaults");
    assert_eq!(p.class.as_deref(), Some("fallback-lower"));
    let missing = admitted("priorityClassName: nope", &o);
    assert_eq!(
        message(&missing),
        "pods \"agent-\" is forbidden: no PriorityClass with name nope was found"
    );
}

#[test]
fn no_class_and_no_default_means_zero_and_preempt_lower() {
    let a = admitted("", &with_sa());
    let p = Priority::of(&a.pod);
    assert_eq!(
        (p.value, p.preemption_policy.as_str()),
        (0, "PreemptLowerPriority")
    );
}

fn runtime_class(o: &mut Objects, yaml: &str) {
    o.runtime_classes = Some(vec![obj::<RuntimeClass>(yaml)]);
}

#[test]
fn runtimeclass_adds_overhead_selector_and_tolerations() {
    let mut o = with_sa();
    runtime_class(
        &mut o,
        "metadata: {name: kata}\nhandler: kata\noverhead: {podFixed: {cpu: 250m, memory: 120Mi}}\nscheduling:\n  nodeSelector: {runtime: kata}\n  tolerations: [{key: kata, operator: Exists, effect: NoSchedule}]",
    );
    let a = admitted(
        "runtimeClassName: kata\ncontainers:\n- name: c\n  image: x\n  resources: {requests: {cpu: 100m}}",
        &o,
    );
    assert!(!a.refused(), "{:?}", a.refusal);
    assert_eq!(
        requests(&a).get("cpu"),
        Some(&350),
        "overhead is added to the requests"
    );
    let spec = a.pod.spec.as_ref().unwrap();
    assert_eq!(
        spec.node_selector
            .as_ref()
            .and_then(|s| s.get("runtime"))
            .map(String::as_str),
        Some("kata")
    );
    assert!(
        spec.tolerations
            .iter()
            .flatten()
            .any(|t| t.key.as_deref() == Some("kata"))
    );
}

#[test]
fn runtimeclass_missing_or_conflicting_is_refused() {
    let mut o = with_sa();
    runtime_class(
        &mut o,
        "metadata: {name: kata}\nhandler: kata\nscheduling: {nodeSelector: {runtime: kata}}",
    );
    let missing = admitted("runtimeClassName: gvisor", &o);
    assert_eq!(
        message(&missing),
        "pods \"agent-\" is forbidden: pod rejected: RuntimeClass \"gvisor\" not found"
    );
    let clash = admitted("runtimeClassName: kata\nnodeSelector: {runtime: runc}", &o);
    assert_eq!(
        message(&clash),
        "pods \"agent-\" is forbidden: conflict: runtimeClass.scheduling.nodeSelector[runtime] = kata; pod.spec.nodeSelector[runtime] = runc"
    );
}

#[test]
fn merge_tolerations_drops_covered_ones() {
    let t: Vec<k8s_openapi::api::core::v1::Toleration> = obj(
        "[{key: a, operator: Exists}, {key: a, operator: Equal, value: x, effect: NoSchedule}]",
    );
    let extra: Vec<k8s_openapi::api::core::v1::Toleration> = obj("[{operator: Exists}]");
    let merged = runtimeclass::merge_tolerations(&t, &extra);
    assert_eq!(
        merged.len(),
        1,
        "tolerate-everything covers the rest: {merged:?}"
    );
}

fn namespace(o: &mut Objects, labels: &str) {
    o.namespaces = Some(vec![obj::<Namespace>(&format!(
        "metadata: {{name: default, labels: {{{labels}}}}}"
    ))]);
}

#[test]
fn podsecurity_baseline_refuses_host_namespaces_paths_and_ports_in_order() {
    let mut o = with_sa();
    namespace(&mut o, "pod-security.kubernetes.io/enforce: baseline");
    let a = admitted(
        "hostNetwork: true\nvolumes: [{name: varlog, hostPath: {path: /var/log}}]\ncontainers:\n- name: c\n  image: x\n  ports: [{containerPort: 9100}]\n  securityContext: {privileged: true}",
        &o,
    );
    assert_eq!(
        message(&a),
        "pods \"agent-\" is forbidden: violates PodSecurity \"baseline:latest\": host namespaces (hostNetwork=true), hostPath volumes (volume \"varlog\"), hostPort (container \"c\" uses hostPort 9100), privileged (container \"c\" must not set securityContext.privileged=true)"
    );
}

#[test]
fn podsecurity_restricted_asks_for_the_hardening_fields() {
    let mut o = with_sa();
    namespace(&mut o, "pod-security.kubernetes.io/enforce: restricted");
    let a = admitted("", &o);
    assert_eq!(
        message(&a),
        "pods \"agent-\" is forbidden: violates PodSecurity \"restricted:latest\": allowPrivilegeEscalation != false (container \"c\" must set securityContext.allowPrivilegeEscalation=false), unrestricted capabilities (container \"c\" must set securityContext.capabilities.drop=[\"ALL\"]), runAsNonRoot != true (pod or container \"c\" must set securityContext.runAsNonRoot=true), seccompProfile (pod or container \"c\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
    );
    let hardened = admitted(
        "securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}\ncontainers:\n- name: c\n  image: x\n  securityContext: {allowPrivilegeEscalation: false, capabilities: {drop: [ALL]}}",
        &o,
    );
    assert!(!hardened.refused(), "{:?}", hardened.refusal);
}

#[test]
fn podsecurity_levels_and_versions_from_labels() {
    let labels = |pairs: &[(&str, &str)]| -> std::collections::BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    assert_eq!(namespace_policy(None).level, Level::Privileged);
    let bogus = labels(&[("pod-security.kubernetes.io/enforce", "strict")]);
    assert_eq!(
        namespace_policy(Some(&bogus)).level,
        Level::Restricted,
        "ParseLevel fails closed"
    );
    let pinned = labels(&[
        ("pod-security.kubernetes.io/enforce", "baseline"),
        ("pod-security.kubernetes.io/enforce-version", "v1.30"),
    ]);
    assert_eq!(
        namespace_policy(Some(&pinned)).to_string(),
        "baseline:v1.30"
    );
}

#[test]
fn podsecurity_pinned_version_uses_that_versions_checks() {
    let mut o = with_sa();
    namespace(
        &mut o,
        "pod-security.kubernetes.io/enforce: baseline, pod-security.kubernetes.io/enforce-version: v1.33",
    );
    let probe = "containers:\n- name: c\n  image: x\n  livenessProbe: {httpGet: {host: 10.0.0.1, port: 80}}";
    assert!(!admitted(probe, &o).refused(), "hostProbes is a 1.34 check");
    namespace(&mut o, "pod-security.kubernetes.io/enforce: baseline");
    assert!(message(&admitted(probe, &o)).contains(
        "probe or lifecycle host (container \"c\" uses probe or lifecycle host \"10.0.0.1\")"
    ));
}

fn quota(o: &mut Objects, yaml: &str) {
    o.quotas = Some(vec![obj::<ResourceQuota>(yaml)]);
}

#[test]
fn resourcequota_refuses_a_create_past_hard() {
    let mut o = with_sa();
    quota(
        &mut o,
        "metadata: {name: compute, namespace: default}\nspec: {hard: {pods: '3'}}\nstatus: {hard: {pods: '3'}, used: {pods: '3'}}",
    );
    let a = admitted("", &o);
    assert_eq!(
        message(&a),
        "pods \"agent-\" is forbidden: exceeded quota: compute, requested: pods=1, used: pods=3, limited: pods=3"
    );
    assert_eq!(
        pods_that_fit(&a.pod, o.quotas.as_deref().unwrap()),
        Some(("compute".into(), 0))
    );
}

#[test]
fn resourcequota_on_cpu_needs_every_container_to_request_it() {
    let mut o = with_sa();
    quota(
        &mut o,
        "metadata: {name: compute, namespace: default}\nstatus: {hard: {requests.cpu: '2'}, used: {requests.cpu: '0'}}",
    );
    let a = admitted("", &o);
    assert_eq!(
        message(&a),
        "pods \"agent-\" is forbidden: failed quota: compute: must specify requests.cpu for: c"
    );
    let fits = admitted(
        "containers:\n- name: c\n  image: x\n  resources: {requests: {cpu: 500m}}",
        &o,
    );
    assert!(!fits.refused());
    assert_eq!(
        pods_that_fit(&fits.pod, o.quotas.as_deref().unwrap()),
        Some(("compute".into(), 4))
    );
}

#[test]
fn resourcequota_scopes_select_by_priority_class() {
    let mut o = with_sa();
    classes(&mut o, &["metadata: {name: high}\nvalue: 100"]);
    quota(
        &mut o,
        "metadata: {name: high-only, namespace: default}\nspec:\n  scopeSelector:\n    matchExpressions: [{scopeName: PriorityClass, operator: In, values: [high]}]\nstatus: {hard: {pods: '0'}, used: {pods: '0'}}",
    );
    assert!(
        !admitted("", &o).refused(),
        "the quota does not match pods of other classes"
    );
    assert!(admitted("priorityClassName: high", &o).refused());
}

#[test]
fn the_first_refusal_in_chain_order_wins() {
    let mut o = with_sa();
    namespace(&mut o, "pod-security.kubernetes.io/enforce: baseline");
    let a = admitted("serviceAccountName: missing\nhostPID: true", &o);
    assert_eq!(
        a.refusal.as_ref().unwrap().rule,
        "ServiceAccount",
        "mutating ServiceAccount runs before validating PodSecurity"
    );
}

#[test]
fn a_default_limit_below_the_request_fails_validation() {
    let o = limit_range(
        "  - type: Container\n    default: {cpu: 300m}\n    defaultRequest: {cpu: 300m}",
    );
    let a = admitted(
        "containers:\n- name: c\n  image: x\n  resources: {requests: {cpu: 900m}}",
        &o,
    );
    assert_eq!(
        message(&a),
        "Pod \"agent-\" is invalid: spec.containers[0].resources.requests: Invalid value: \"900m\": must be less than or equal to cpu limit of 300m"
    );
}

#[test]
fn default_toleration_seconds_adds_nothing_to_a_daemon_pod() {
    // The controller's forever-tolerations of not-ready and unreachable (NoExecute) are there,
    // so the plugin's 300 s ones are not added; the pod keeps tolerating them forever.
    let a = admitted("containers: [{name: c, image: i}]", &with_sa());
    assert!(a.refusal.is_none());
    assert!(
        a.changes
            .iter()
            .all(|c| c.rule != "DefaultTolerationSeconds")
    );
    let tolerations = a
        .pod
        .spec
        .as_ref()
        .and_then(|s| s.tolerations.clone())
        .unwrap_or_default();
    assert!(
        tolerations.iter().all(|t| t.toleration_seconds.is_none()),
        "{tolerations:?}"
    );
    // A pod without them (not a daemon pod) gets both, as the plugin adds them.
    let mut plain = Admission {
        pod: obj("spec: {containers: [{name: c, image: i}]}"),
        changes: Vec::new(),
        refusal: None,
        unchecked: Vec::new(),
    };
    defaulttolerationseconds::admit(&mut plain);
    let added: Vec<(Option<String>, Option<i64>)> = plain
        .pod
        .spec
        .and_then(|s| s.tolerations)
        .unwrap_or_default()
        .into_iter()
        .map(|t| (t.key, t.toleration_seconds))
        .collect();
    assert_eq!(
        added,
        [
            (Some("node.kubernetes.io/not-ready".into()), Some(300)),
            (Some("node.kubernetes.io/unreachable".into()), Some(300))
        ]
    );
}
