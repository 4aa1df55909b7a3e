//! The pod as admitted, and what preemption does, against the real control plane: for each
//! scenario `preview` is taken before the manifest is applied, then the API server, the
//! controller and the scheduler act, and `explain`, `coverage` and `rollout status` are read
//! after. One testbed serves every scenario; each uses its own namespace or node pool.

use crate::common;

use std::time::Duration;

use crate::common::{json_report, kubectl_ds, priority_filler as filler, stdout};
use k8s_openapi::api::core::v1::{Event, Pod};
use kube::Api;
use kube::api::ListParams;
use kubectl_ds_testbed::{FakeNode, Options, Testbed, add_node, apply_yaml, wait_for};
use serde_json::Value;

const WAIT: Duration = Duration::from_secs(60);

/// A testbed that also keeps ResourceQuota and PodDisruptionBudget status, as real clusters do.
fn options() -> Options {
    Options {
        extra_controllers: vec!["resourcequota-controller", "disruption-controller"],
        ..Options::default()
    }
}

struct Bed {
    tb: Testbed,
    client: kube::Client,
}

impl Bed {
    fn kc(&self) -> &std::path::Path {
        self.tb.kubeconfig()
    }

    /// `preview -f` of `yaml` (one DaemonSet), its first item; `extra` flags appended.
    fn preview(&self, name: &str, yaml: &str, extra: &[&str]) -> Value {
        self.preview_exit(name, yaml, extra).0
    }

    /// [`Self::preview`] and its exit code.
    fn preview_exit(&self, name: &str, yaml: &str, extra: &[&str]) -> (Value, Option<i32>) {
        let path = self.tb.dir().join(format!("{name}.yaml"));
        std::fs::write(&path, yaml).unwrap();
        let mut args = vec!["preview", "-f", path.to_str().unwrap(), "-o", "json"];
        args.extend_from_slice(extra);
        let out = kubectl_ds(self.kc(), &args);
        let v: Value = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|_| panic!("{args:?}: {}", common::stderr(&out)));
        (v["items"][0].clone(), out.status.code())
    }

    async fn apply(&self, yaml: &str) {
        apply_yaml(&self.client, yaml).await.expect("apply");
    }

    /// Live (not terminating) pods of DaemonSet `app` in `ns`.
    async fn pods(&self, ns: &str, app: &str) -> Vec<Pod> {
        let api: Api<Pod> = Api::namespaced(self.client.clone(), ns);
        api.list(&ListParams::default().labels(&format!("app={app}")))
            .await
            .expect("pods")
            .items
            .into_iter()
            .filter(|p| p.metadata.deletion_timestamp.is_none())
            .collect()
    }

    /// The controller's newest FailedCreate message for DaemonSet `name`, once there is one.
    async fn failed_create(&self, ns: &str, name: &str) -> String {
        let api: Api<Event> = Api::namespaced(self.client.clone(), ns);
        let fields = format!("reason=FailedCreate,involvedObject.name={name}");
        wait_for("a FailedCreate event", WAIT, || {
            let api = api.clone();
            let fields = fields.clone();
            async move {
                let list = api.list(&ListParams::default().fields(&fields)).await?;
                Ok::<_, kube::Error>(list.items.into_iter().last().and_then(|e| e.message))
            }
        })
        .await
        .expect("FailedCreate")
    }

    /// Waits until `app` has pods on exactly `nodes` (by target node) and those bound run.
    async fn wait_pods_on(&self, ns: &str, app: &str, nodes: &[&str], running: &[&str]) {
        let want: Vec<String> = nodes.iter().map(|s| s.to_string()).collect();
        let run: Vec<String> = running.iter().map(|s| s.to_string()).collect();
        wait_for(&format!("{ns}/{app} pods on {nodes:?}"), WAIT, || {
            let want = want.clone();
            let run = run.clone();
            async move {
                let pods = self.pods(ns, app).await;
                let mut on: Vec<String> = pods.iter().filter_map(common::pod_node).collect();
                on.sort();
                let mut bound: Vec<String> = pods
                    .iter()
                    .filter(|p| {
                        p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                    })
                    .filter_map(|p| p.spec.as_ref()?.node_name.clone())
                    .collect();
                bound.sort();
                Ok::<_, kube::Error>((on == want && bound == run).then_some(()))
            }
        })
        .await
        .expect("pods settle");
    }
}

/// A DaemonSet `name` in `ns` on the nodes of pool `pool`, with extra pod-spec YAML and a
/// container block.
fn ds(name: &str, ns: &str, pool: &str, spec: &str, container: &str) -> String {
    let indent = |text: &str, by: usize| -> String {
        text.lines()
            .map(|l| format!("{}{l}\n", " ".repeat(by)))
            .collect()
    };
    format!(
        "apiVersion: apps/v1
kind: DaemonSet
metadata: {{name: {name}, namespace: {ns}}}
spec:
  selector: {{matchLabels: {{app: {name}}}}}
  template:
    metadata: {{labels: {{app: {name}}}}}
    spec:
      nodeSelector: {{pool: {pool}}}
{}      containers:
      - name: main
        image: registry.example/agent:1
{}",
        indent(spec, 6),
        indent(container, 8)
    )
}

async fn setup() -> Bed {
    let tb = Testbed::start(options()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    let nodes = [
        FakeNode::new("plain-1")
            .label("pool", "plain")
            .label("rc-test", "yes"),
        FakeNode::new("plain-2").label("pool", "plain"),
        FakeNode::new("kata-1")
            .label("runtime", "kata")
            .label("rc-test", "yes"),
        FakeNode::new("full-never").label("pool", "never").cpu("1"),
        FakeNode::new("full-low").label("pool", "low").cpu("1"),
        FakeNode::new("full-pdb").label("pool", "pdb").cpu("1"),
        FakeNode::new("full-port").label("pool", "port"),
    ];
    for n in &nodes {
        add_node(&client, n).await.expect("node");
    }
    let bed = Bed { tb, client };
    bed.apply(
        "apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: low}
value: 10
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: mid}
value: 500
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high}
value: 1000
---
apiVersion: scheduling.k8s.io/v1
kind: PriorityClass
metadata: {name: high-never}
value: 1000
preemptionPolicy: Never
",
    )
    .await;
    bed
}

/// Defaulting and LimitRanger: requests from limits, then the namespace's defaultRequest.
async fn defaults_and_limit_ranges(bed: &Bed) {
    bed.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: lr}\n---\napiVersion: v1\nkind: LimitRange\nmetadata: {name: defaults, namespace: lr}\nspec:\n  limits:\n  - type: Container\n    defaultRequest: {cpu: 150m}\n    default: {cpu: 300m}\n").await;
    // The ServiceAccount admission plugin refuses pods until the default one exists.
    common::wait_default_service_accounts(&bed.client, &["lr"]).await;
    let yaml = ds(
        "lr-agent",
        "lr",
        "plain",
        "",
        "resources: {limits: {memory: 64Mi}}",
    );
    let p = bed.preview("lr", &yaml, &[]);
    assert_eq!(p["perPod"]["cpu"], "150m", "{p}");
    assert_eq!(p["perPod"]["memory"], "64Mi", "{p}");
    let changes = p["admission"]["changes"].to_string();
    assert!(changes.contains("LimitRanger"), "{changes}");
    bed.apply(&yaml).await;
    bed.wait_pods_on(
        "lr",
        "lr-agent",
        &["plain-1", "plain-2"],
        &["plain-1", "plain-2"],
    )
    .await;
    let pod = bed.pods("lr", "lr-agent").await.remove(0);
    let req = pod.spec.unwrap().containers[0]
        .resources
        .clone()
        .unwrap()
        .requests
        .unwrap();
    assert_eq!(req["cpu"].0, "150m");
    assert_eq!(req["memory"].0, "64Mi");
}

/// RuntimeClass: overhead added to the requests, its nodeSelector keeps the pod Pending on the
/// node that lacks the label although the controller created it there.
async fn runtime_class(bed: &Bed) {
    bed.apply("apiVersion: node.k8s.io/v1\nkind: RuntimeClass\nmetadata: {name: kata}\nhandler: kata\noverhead: {podFixed: {cpu: 100m}}\nscheduling: {nodeSelector: {runtime: kata}}\n").await;
    let yaml = ds(
        "rc-agent",
        "default",
        "plain",
        "runtimeClassName: kata",
        "resources: {requests: {cpu: 100m}}",
    )
    .replace(
        "nodeSelector: {pool: plain}",
        "nodeSelector: {rc-test: 'yes'}",
    );
    let p = bed.preview("rc", &yaml, &[]);
    assert_eq!(p["perPod"]["cpu"], "200m", "overhead counted: {p}");
    assert_eq!(p["wouldRun"], serde_json::json!(["kata-1"]), "{p}");
    assert_eq!(p["unplaceable"][0]["node"], "plain-1", "{p}");
    assert!(
        p["unplaceable"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("RuntimeClass kata")
    );
    bed.apply(&yaml).await;
    bed.wait_pods_on("default", "rc-agent", &["kata-1", "plain-1"], &["kata-1"])
        .await;
    let e = json_report(
        bed.kc(),
        &["explain", "ds", "rc-agent", "-n", "default", "-o", "json"],
    );
    let verdict = |node: &str| {
        e["verdicts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["node"] == node)
            .cloned()
            .unwrap()
    };
    assert_eq!(verdict("plain-1")["code"], "RuntimeClassMismatch", "{e}");
    assert_eq!(verdict("kata-1")["code"], "Healthy", "{e}");
}

/// ServiceAccount missing: refused at creation. Preview says so; afterwards the controller's
/// FailedCreate events make coverage, explain and rollout status say so too; creating the
/// ServiceAccount lets the pods come.
async fn missing_service_account(bed: &Bed) {
    bed.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: sa}\n")
        .await;
    let yaml = ds(
        "fluent-bit",
        "sa",
        "plain",
        "serviceAccountName: fluent-bit",
        "",
    );
    let p = bed.preview("sa", &yaml, &[]);
    assert_eq!(
        p["createRefused"],
        serde_json::json!(["plain-1", "plain-2"]),
        "{p}"
    );
    assert_eq!(p["admission"]["refusal"]["rule"], "ServiceAccount");
    let predicted = p["admission"]["refusal"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, code) = bed.preview_exit("sa", &yaml, &["--fail-if-unplaceable"]);
    assert_eq!(code, Some(1), "refused everywhere is unplaceable");
    bed.apply(&yaml).await;
    let event = bed.failed_create("sa", "fluent-bit").await;
    assert_eq!(
        event,
        format!("Error creating: {predicted}"),
        "the model words it as the server"
    );
    let cov = json_report(
        bed.kc(),
        &["coverage", "fluent-bit", "-n", "sa", "-o", "json"],
    );
    let item = &cov["items"][0];
    assert!(
        item["nodes"]
            .as_array()
            .unwrap()
            .iter()
            .all(|n| n["state"] == "CreateRefused"),
        "{cov}"
    );
    assert!(
        item["createRefused"]["message"]
            .as_str()
            .unwrap()
            .contains("serviceaccount \"fluent-bit\" not found")
    );
    let e = json_report(
        bed.kc(),
        &["explain", "ds", "fluent-bit", "-n", "sa", "-o", "json"],
    );
    let targeted = e["verdicts"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|v| v["node"].as_str().unwrap().starts_with("plain-"));
    for v in targeted {
        assert_eq!(v["code"], "CreateRefused", "{v}");
        assert!(!v["message"].as_str().unwrap().contains("next sync"), "{v}");
    }
    let text = stdout(&kubectl_ds(
        bed.kc(),
        &["explain", "ds", "fluent-bit", "-n", "sa"],
    ));
    assert!(text.contains("FailedCreate"), "{text}");
    let r = json_report(
        bed.kc(),
        &["rollout", "status", "fluent-bit", "-n", "sa", "-o", "json"],
    );
    let status = &r["items"][0];
    assert_eq!(status["state"], "Stuck", "{r}");
    assert!(
        status["message"]
            .as_str()
            .unwrap()
            .contains("serviceaccount"),
        "{r}"
    );
    bed.apply(
        "apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: fluent-bit, namespace: sa}\n",
    )
    .await;
    bed.wait_pods_on(
        "sa",
        "fluent-bit",
        &["plain-1", "plain-2"],
        &["plain-1", "plain-2"],
    )
    .await;
    let cov = json_report(
        bed.kc(),
        &["coverage", "fluent-bit", "-n", "sa", "-o", "json"],
    );
    assert!(
        cov["items"][0]["createRefused"].is_null(),
        "creates succeed again: {cov}"
    );
}

/// PodSecurity: a baseline namespace refuses a hostNetwork pod, with the same words.
async fn pod_security(bed: &Bed) {
    bed.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: psa, labels: {pod-security.kubernetes.io/enforce: baseline}}\n").await;
    // The ServiceAccount admission plugin refuses pods until the default one exists.
    common::wait_default_service_accounts(&bed.client, &["psa"]).await;
    let yaml = ds(
        "node-exporter",
        "psa",
        "plain",
        "hostNetwork: true\nhostPID: true",
        "ports: [{containerPort: 9100}]",
    );
    let p = bed.preview("psa", &yaml, &[]);
    assert_eq!(p["admission"]["refusal"]["rule"], "PodSecurity", "{p}");
    let predicted = p["admission"]["refusal"]["message"]
        .as_str()
        .unwrap()
        .to_string();
    bed.apply(&yaml).await;
    let event = bed.failed_create("psa", "node-exporter").await;
    let why = |m: &str| {
        m.split_once("is forbidden: ")
            .map(|(_, w)| w.to_string())
            .unwrap_or_default()
    };
    assert_eq!(why(&event), why(&predicted), "event {event} vs {predicted}");
}

/// ResourceQuota: one pod fits the quota, the other create is refused.
async fn resource_quota(bed: &Bed) {
    bed.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: rq}\n---\napiVersion: v1\nkind: ResourceQuota\nmetadata: {name: pods, namespace: rq}\nspec: {hard: {pods: '1'}}\n").await;
    // The ServiceAccount admission plugin refuses pods until the default one exists.
    common::wait_default_service_accounts(&bed.client, &["rq"]).await;
    wait_for("quota status", WAIT, || async {
        let api: Api<k8s_openapi::api::core::v1::ResourceQuota> =
            Api::namespaced(bed.client.clone(), "rq");
        let q = api.get("pods").await?;
        Ok::<_, kube::Error>(q.status.and_then(|s| s.used).map(|_| ()))
    })
    .await
    .expect("quota");
    let yaml = ds("quota-agent", "rq", "plain", "", "");
    let p = bed.preview("rq", &yaml, &[]);
    assert!(
        p["warnings"]
            .to_string()
            .contains("ResourceQuota pods admits only 1"),
        "{p}"
    );
    bed.apply(&yaml).await;
    let event = bed.failed_create("rq", "quota-agent").await;
    assert!(
        event.contains("exceeded quota: pods, requested: pods=1, used: pods=1, limited: pods=1"),
        "{event}"
    );
    assert_eq!(bed.pods("rq", "quota-agent").await.len(), 1);
}

/// preemptionPolicy Never: never preempts, and explain does not pretend it could.
async fn never_preempts(bed: &Bed) {
    bed.apply(&filler("hog-never", "full-never", "low", "800m", ""))
        .await;
    let yaml = ds(
        "never",
        "default",
        "never",
        "priorityClassName: high-never",
        "resources: {requests: {cpu: 500m}}",
    );
    let p = bed.preview("never", &yaml, &[]);
    assert!(p["afterPreemption"].is_null(), "{p}");
    assert!(
        p["unplaceable"][0]["reason"]
            .as_str()
            .unwrap()
            .contains("preemptionPolicy is Never"),
        "{p}"
    );
    bed.apply(&yaml).await;
    bed.wait_pods_on("default", "never", &["full-never"], &[])
        .await;
    let pod = bed.pods("default", "never").await.remove(0);
    assert_eq!(
        pod.spec.as_ref().unwrap().preemption_policy.as_deref(),
        Some("Never")
    );
    let e = wait_for("a scheduler message", WAIT, || async {
        let e = json_report(
            bed.kc(),
            &[
                "explain",
                "node",
                "full-never",
                "never",
                "-n",
                "default",
                "-o",
                "json",
            ],
        );
        let has = e["verdicts"][0]["schedulerMessage"].is_string();
        Ok::<_, kube::Error>(has.then_some(e))
    })
    .await
    .expect("scheduler message");
    let v = &e["verdicts"][0];
    assert!(
        v["schedulerMessage"]
            .as_str()
            .unwrap()
            .contains("preemptionPolicy=Never"),
        "{v}"
    );
    let msg = v["message"].as_str().unwrap();
    assert!(
        !msg.contains("after preempting") && msg.contains("preemptionPolicy is Never"),
        "{v}"
    );
}

/// Victims lowest priority first; PDB-guarded pods spared; host ports freed too. Preview names
/// the victims, then the scheduler evicts exactly those and the daemon pod runs.
async fn preemption(
    bed: &Bed,
    pool: &str,
    node: &str,
    fillers: &[(&str, &str, &str, &str)],
    victim: &str,
    container: &str,
) {
    for (name, class, cpu, extra) in fillers {
        bed.apply(&filler(name, node, class, cpu, extra)).await;
    }
    let yaml = ds(pool, "default", pool, "priorityClassName: high", container);
    let (p, code) = bed.preview_exit(pool, &yaml, &["--fail-if-unplaceable"]);
    assert_eq!(code, Some(0), "a node preemption frees is placeable: {p}");
    let victims: Vec<&str> = p["afterPreemption"][0]["victims"]
        .as_array()
        .unwrap_or_else(|| panic!("{p}"))
        .iter()
        .map(|v| v["pod"].as_str().unwrap())
        .collect();
    assert_eq!(victims, [format!("default/{victim}")], "{p}");
    assert_eq!(
        p["wouldRun"],
        serde_json::json!([node]),
        "counted as placeable: {p}"
    );
    bed.apply(&yaml).await;
    bed.wait_pods_on("default", pool, &[node], &[node]).await;
    let api: Api<Pod> = Api::namespaced(bed.client.clone(), "default");
    for (name, ..) in fillers {
        let alive = api
            .get_opt(name)
            .await
            .unwrap()
            .is_some_and(|p| p.metadata.deletion_timestamp.is_none());
        assert_eq!(alive, *name != victim, "{name} after preemption");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admitted_pod_and_preemption_match_the_control_plane() {
    let bed = setup().await;
    defaults_and_limit_ranges(&bed).await;
    runtime_class(&bed).await;
    missing_service_account(&bed).await;
    pod_security(&bed).await;
    resource_quota(&bed).await;
    never_preempts(&bed).await;
    let half = "resources: {requests: {cpu: 500m}}";
    preemption(
        &bed,
        "low",
        "full-low",
        &[("low-a", "low", "400m", ""), ("mid-a", "mid", "400m", "")],
        "low-a",
        half,
    )
    .await;
    bed.apply("apiVersion: policy/v1\nkind: PodDisruptionBudget\nmetadata: {name: guarded, namespace: default}\nspec: {minAvailable: 1, selector: {matchLabels: {filler: guarded}}}\n").await;
    preemption(
        &bed,
        "pdb",
        "full-pdb",
        &[
            ("guarded", "low", "400m", ""),
            ("unguarded", "low", "400m", ""),
        ],
        "unguarded",
        half,
    )
    .await;
    let port = "    ports: [{containerPort: 9100, hostPort: 9100}]\n";
    preemption(
        &bed,
        "port",
        "full-port",
        &[("port-holder", "low", "10m", port)],
        "port-holder",
        "ports: [{containerPort: 9100, hostPort: 9100}]",
    )
    .await;
}

/// What happened to one DaemonSet on one node.
#[derive(Debug, PartialEq, Eq, Clone, Copy)]
enum Fate {
    Runs,
    Pending,
    Refused,
    NoPod,
}

/// Preview's word for each node: would run (after preemption too), unplaceable, refused at
/// creation, or not targeted.
fn predicted(p: &Value, nodes: &[&str]) -> Vec<Fate> {
    let has = |key: &str, node: &str| {
        p[key]
            .as_array()
            .into_iter()
            .flatten()
            .any(|v| v.as_str() == Some(node) || v["node"].as_str() == Some(node))
    };
    nodes
        .iter()
        .map(|n| {
            if has("wouldRun", n) {
                Fate::Runs
            } else if has("unplaceable", n) {
                Fate::Pending
            } else if has("createRefused", n) {
                Fate::Refused
            } else {
                Fate::NoPod
            }
        })
        .collect()
}

/// The nodes preview runs the pod on only after preemption, where a pending pod of higher
/// priority may take the freed room first (`contestedBy`).
fn contested(p: &Value, nodes: &[&str]) -> Vec<bool> {
    let listed: Vec<&str> = p["afterPreemption"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|a| a["contestedBy"].as_array().is_some_and(|c| !c.is_empty()))
        .filter_map(|a| a["node"].as_str())
        .collect();
    nodes.iter().map(|n| listed.contains(n)).collect()
}

/// Preview's fates equal the cluster's, but on a contested node, where the scheduling queue's
/// timing decides between running and Pending.
fn agrees(want: &[Fate], got: &[Fate], contested: &[bool]) -> bool {
    want.len() == got.len()
        && want
            .iter()
            .zip(got)
            .zip(contested)
            .all(|((w, g), c)| w == g || (*c && matches!(g, Fate::Runs | Fate::Pending)))
}

/// What the control plane did: a Running pod; a Pending pod the scheduler has given up on
/// (a FailedScheduling event, no nominated node); no pod on a node the controller wants one
/// on (`desired`, checked against its desiredNumberScheduled) and a FailedCreate event; no pod.
async fn observed(bed: &Bed, ns: &str, name: &str, nodes: &[&str], desired: &[bool]) -> Vec<Fate> {
    observed_by(bed, ns, name, &format!("app={name}"), nodes, desired).await
}

/// [`observed`] for a DaemonSet whose pods carry `labels`.
async fn observed_by(
    bed: &Bed,
    ns: &str,
    name: &str,
    labels: &str,
    nodes: &[&str],
    desired: &[bool],
) -> Vec<Fate> {
    let dss: Api<k8s_openapi::api::apps::v1::DaemonSet> = Api::namespaced(bed.client.clone(), ns);
    let status = dss
        .get(name)
        .await
        .expect("daemonset")
        .status
        .unwrap_or_default();
    if status.desired_number_scheduled as usize != desired.iter().filter(|d| **d).count() {
        return vec![Fate::NoPod; nodes.len()];
    }
    let api: Api<Pod> = Api::namespaced(bed.client.clone(), ns);
    let pods: Vec<Pod> = api
        .list(&ListParams::default().labels(labels))
        .await
        .expect("pods")
        .items
        .into_iter()
        .filter(|p| p.metadata.deletion_timestamp.is_none())
        .collect();
    let events: Api<Event> = Api::namespaced(bed.client.clone(), ns);
    let list = events
        .list(&ListParams::default())
        .await
        .expect("events")
        .items;
    let refused = list.iter().any(|e| {
        e.reason.as_deref() == Some("FailedCreate")
            && e.involved_object.name.as_deref() == Some(name)
    });
    let unschedulable = |pod: &str| {
        list.iter().any(|e| {
            e.reason.as_deref() == Some("FailedScheduling")
                && e.involved_object.name.as_deref() == Some(pod)
        })
    };
    nodes
        .iter()
        .zip(desired)
        .map(|(n, desired)| {
            let Some(p) = pods
                .iter()
                .find(|p| common::pod_node(p).as_deref() == Some(n))
            else {
                return if refused && *desired {
                    Fate::Refused
                } else {
                    Fate::NoPod
                };
            };
            let status = p.status.as_ref();
            if status.and_then(|s| s.phase.as_deref()) == Some("Running") {
                return Fate::Runs;
            }
            let nominated = status
                .and_then(|s| s.nominated_node_name.as_deref())
                .is_some_and(|n| !n.is_empty());
            if !nominated && unschedulable(p.metadata.name.as_deref().unwrap_or("")) {
                Fate::Pending
            } else {
                Fate::NoPod
            }
        })
        .collect()
}

/// explain ds's code on each node, as a fate.
fn explained(bed: &Bed, ns: &str, name: &str, nodes: &[&str]) -> Vec<Fate> {
    let e = json_report(bed.kc(), &["explain", "ds", name, "-n", ns, "-o", "json"]);
    nodes
        .iter()
        .map(|n| {
            let v = e["verdicts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|v| v["node"] == *n)
                .cloned()
                .unwrap_or_default();
            match v["code"].as_str().unwrap_or("") {
                "Healthy" => Fate::Runs,
                "CreateRefused" => Fate::Refused,
                "InsufficientResources"
                | "HostPortConflict"
                | "RuntimeClassMismatch"
                | "PodPending" => Fate::Pending,
                _ => Fate::NoPod,
            }
        })
        .collect()
}

/// coverage's state on each node, as a fate (a node coverage does not list is not targeted).
fn covered(bed: &Bed, ns: &str, name: &str, nodes: &[&str]) -> Vec<Fate> {
    let c = json_report(bed.kc(), &["coverage", name, "-n", ns, "-o", "json"]);
    let rows = c["items"][0]["nodes"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    nodes
        .iter()
        .map(|n| {
            let row = rows.iter().find(|r| r["node"] == *n);
            match row.and_then(|r| r["state"].as_str()) {
                Some("Ready") => Fate::Runs,
                Some("CreateRefused") => Fate::Refused,
                Some("Pending") => Fate::Pending,
                _ => Fate::NoPod,
            }
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn random_admission_cases_match_the_control_plane() {
    let tb = Testbed::start(options()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    let nodes = [
        FakeNode::new("r-big").cpu("8"),
        FakeNode::new("r-small").cpu("1"),
        FakeNode::new("r-kata").cpu("4").label("runtime", "kata"),
        FakeNode::new("r-tainted")
            .cpu("4")
            .taint("dedicated", "db", "NoSchedule"),
        FakeNode::new("r-mid-1").cpu("2"),
        FakeNode::new("r-mid-2").cpu("2").label("zone", "b"),
        FakeNode::new("r-port").cpu("4"),
        FakeNode::new("r-cordoned").cpu("4").unschedulable(),
    ];
    for n in &nodes {
        add_node(&client, n).await.expect("node");
    }
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    let bed = Bed { tb, client };
    bed.apply(&common::admission_world("r")).await;
    let namespaces = common::admission_namespaces("r");
    let namespaces: Vec<&str> = namespaces.iter().map(String::as_str).collect();
    common::wait_default_service_accounts(&bed.client, &namespaces).await;
    let port = "    ports: [{containerPort: 9400, hostPort: 9400}]\n";
    bed.apply(
        &[
            filler("r-hog", "r-small", "low", "700m", ""),
            filler("r-holder", "r-port", "low", "10m", port),
            filler("r-mid-hog", "r-mid-1", "high", "1500m", ""),
        ]
        .join("---\n"),
    )
    .await;
    let mut rng = common::Rng::new(16_2026);
    let mut cases = 0;
    let mut seen = std::collections::BTreeSet::new();
    for i in 0..26 {
        let ns = *rng.pick(&namespaces);
        let name = format!("rand-{i:02}");
        let mut spec = common::admission_draws(&mut rng);
        if rng.chance(20) {
            spec.push_str("tolerations: [{key: dedicated, operator: Exists}]\n");
        }
        let mut container = String::new();
        if !(ns == "r-lr" && rng.chance(50)) {
            container.push_str(&format!(
                "resources: {{requests: {{cpu: {}}}}}\n",
                rng.pick(&["100m", "400m", "900m"])
            ));
        }
        if rng.chance(20) {
            container.push_str("ports: [{containerPort: 9400, hostPort: 9400}]\n");
        }
        let yaml =
            ds(&name, ns, "x", &spec, &container).replace("      nodeSelector: {pool: x}\n", "");
        let p = bed.preview(&name, &yaml, &[]);
        let want = predicted(&p, &names);
        let contested = contested(&p, &names);
        bed.apply(&yaml).await;
        let got = wait_for(&format!("{ns}/{name} as previewed"), WAIT, || {
            let (want, contested) = (want.clone(), contested.clone());
            let (ns, name, names) = (ns, name.clone(), names.clone());
            let bed = &bed;
            async move {
                let desired: Vec<bool> = want.iter().map(|w| *w != Fate::NoPod).collect();
                let got = observed(bed, ns, &name, &names, &desired).await;
                Ok::<_, kube::Error>(agrees(&want, &got, &contested).then_some(got))
            }
        })
        .await;
        let Ok(got) = got else {
            let desired: Vec<bool> = want.iter().map(|w| *w != Fate::NoPod).collect();
            let now = observed(&bed, ns, &name, &names, &desired).await;
            panic!("{ns}/{name} on {names:?}: preview {want:?}, the cluster {now:?} ({p})");
        };
        assert_eq!(
            explained(&bed, ns, &name, &names),
            got,
            "{ns}/{name}: explain after apply ({yaml})"
        );
        assert_eq!(
            covered(&bed, ns, &name, &names),
            got,
            "{ns}/{name}: coverage after apply ({yaml})"
        );
        seen.extend(got.iter().map(|f| format!("{f:?}")));
        cases += names.len();
    }
    assert!(cases >= 200, "{cases} DaemonSet×node cases");
    assert_eq!(seen.len(), 4, "every fate occurs: {seen:?}");
}

/// DaemonSets as well-known projects publish them, applied unchanged on a node mix with a
/// control-plane node, a tainted GPU node, a full node and a Fargate-labelled one: preview
/// before and explain after agree with what happened, node by node.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn published_manifests_land_as_previewed() {
    let tb = Testbed::start(options()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    let linux = |n: &str| FakeNode::new(n).label("kubernetes.io/os", "linux");
    let nodes = [
        linux("cp-1")
            .label("node-role.kubernetes.io/control-plane", "")
            .taint("node-role.kubernetes.io/control-plane", "", "NoSchedule"),
        linux("gpu-1")
            .label("nvidia.com/gpu.present", "true")
            .taint("nvidia.com/gpu", "present", "NoSchedule"),
        linux("full-1").cpu("1"),
        linux("worker-1"),
        linux("worker-2"),
        linux("fargate-1").label("eks.amazonaws.com/compute-type", "fargate"),
    ];
    for n in &nodes {
        add_node(&client, n).await.expect("node");
    }
    let names: Vec<&str> = nodes.iter().map(|n| n.name.as_str()).collect();
    let bed = Bed { tb, client };
    // What the projects ship next to the DaemonSet, except the ServiceAccounts of
    // node-exporter and fluent-bit: those two are refused at creation.
    bed.apply("apiVersion: v1\nkind: Namespace\nmetadata: {name: monitoring}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: logging}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: calico-node, namespace: kube-system}\n---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: ebs-csi-node-sa, namespace: kube-system}\n").await;
    // The ServiceAccount admission plugin refuses pods until the default one exists.
    common::wait_default_service_accounts(&bed.client, &["monitoring", "logging"]).await;
    bed.apply(&common::filler("hog", "full-1", "900m", ""))
        .await;
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/published");
    let mut fates = std::collections::BTreeSet::new();
    for (file, ns, name) in [
        ("calico-node.yaml", "kube-system", "calico-node"),
        ("node-exporter.yaml", "monitoring", "node-exporter"),
        (
            "nvidia-device-plugin.yaml",
            "kube-system",
            "nvidia-device-plugin-daemonset",
        ),
        ("ebs-csi-node.yaml", "kube-system", "ebs-csi-node"),
        ("fluent-bit.yaml", "logging", "fluent-bit"),
    ] {
        let yaml = std::fs::read_to_string(format!("{dir}/{file}")).unwrap();
        let p = bed.preview(name, &yaml, &[]);
        let want = predicted(&p, &names);
        bed.apply(&yaml).await;
        let labels = selector_labels(&yaml);
        let got = wait_for(&format!("{name} as previewed"), WAIT, || {
            let (want, names, labels) = (want.clone(), names.clone(), labels.clone());
            let bed = &bed;
            async move {
                let desired: Vec<bool> = want.iter().map(|w| *w != Fate::NoPod).collect();
                let got = observed_by(bed, ns, name, &labels, &names, &desired).await;
                Ok::<_, kube::Error>((got == want).then_some(got))
            }
        })
        .await;
        let Ok(got) = got else {
            let desired: Vec<bool> = want.iter().map(|w| *w != Fate::NoPod).collect();
            let now = observed_by(&bed, ns, name, &labels, &names, &desired).await;
            panic!("{name} on {names:?}: preview {want:?}, the cluster {now:?} ({p})");
        };
        assert_eq!(
            explained(&bed, ns, name, &names),
            got,
            "{name}: explain after apply"
        );
        fates.extend(got.iter().map(|f| format!("{f:?}")));
    }
    assert!(
        fates.contains("Refused") && fates.contains("Runs") && fates.contains("NoPod"),
        "{fates:?}"
    );
    // The full node ran calico-node after the scheduler preempted the filler.
    let api: Api<Pod> = Api::namespaced(bed.client.clone(), "default");
    assert!(
        api.get_opt("hog")
            .await
            .unwrap()
            .is_none_or(|p| p.metadata.deletion_timestamp.is_some())
    );
}

/// The `matchLabels` of a DaemonSet manifest, as a label selector string.
fn selector_labels(yaml: &str) -> String {
    let ds: k8s_openapi::api::apps::v1::DaemonSet = serde_yaml::from_str(yaml).expect("DaemonSet");
    ds.spec
        .selector
        .match_labels
        .unwrap_or_default()
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(",")
}

/// A ValidatingAdmissionPolicy that refuses pods without a `team` label in namespaces
/// labelled `policy: team`: admission the local model does not read.
const REQUIRE_TEAM: &str = "apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: require-team}
spec:
  failurePolicy: Fail
  matchConstraints:
    resourceRules:
    - {apiGroups: [''], apiVersions: [v1], operations: [CREATE], resources: [pods]}
  validations:
  - expression: \"has(object.metadata.labels) && 'team' in object.metadata.labels\"
    message: every pod needs a team label
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata: {name: require-team}
spec:
  policyName: require-team
  validationActions: [Deny]
  matchResources:
    namespaceSelector: {matchLabels: {policy: team}}
---
apiVersion: v1
kind: Namespace
metadata: {name: vap, labels: {policy: team}}
---
apiVersion: v1
kind: Namespace
metadata: {name: lr-dry}
---
apiVersion: v1
kind: LimitRange
metadata: {name: defaults, namespace: lr-dry}
spec:
  limits:
  - type: Container
    defaultRequest: {cpu: 150m}
";

/// `preview --server-dry-run`: one dryRun=All create of the pod the controller would build.
/// Admission the model does not read (a ValidatingAdmissionPolicy) answers, and its refusal is
/// shown verbatim, word for word what the controller's FailedCreate says after apply; an
/// admitted pod is the server's mutated one. Without `create` on pods (the README's read-only
/// role) it is a note and the local model, not an error. `explain` has no such flag: for a
/// DaemonSet that exists, the controller's own creates are the server's answer, and explain
/// shows their refusal verbatim from the FailedCreate events.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_dry_run_answers_for_admission_the_model_does_not_read() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    add_node(&client, &FakeNode::new("plain-1").label("pool", "plain"))
        .await
        .expect("node");
    let bed = Bed { tb, client };
    bed.apply(REQUIRE_TEAM).await;
    let yaml = ds("agent", "vap", "plain", "", "");
    let local = bed.preview("vap-local", &yaml, &[]);
    println!("local model: {local}");
    assert!(local["createRefused"].is_null(), "{local}");
    // The policy takes a moment to be loaded by the API server.
    let served = wait_for("the policy to refuse the dry run", WAIT, || async {
        let p = bed.preview("vap-server", &yaml, &["--server-dry-run"]);
        Ok::<_, kube::Error>((p["createRefused"] == serde_json::json!(["plain-1"])).then_some(p))
    })
    .await
    .expect("refused");
    println!("server dry run: {served}");
    let refusal = &served["admission"]["refusal"];
    assert_eq!(refusal["rule"], "API server", "{served}");
    let message = refusal["message"].as_str().unwrap_or_default().to_string();
    assert!(
        message.contains("every pod needs a team label"),
        "{message}"
    );
    let (_, code) = bed.preview_exit(
        "vap-server",
        &yaml,
        &["--server-dry-run", "--fail-if-unplaceable"],
    );
    assert_eq!(code, Some(1));
    // Reality: the controller's creates are refused with the same words.
    bed.apply(&yaml).await;
    // Word for word but the pod's name, which the server generates anew for every create
    // (`generateName`), dry run or not.
    let event = bed.failed_create("vap", "agent").await;
    let why = |m: &str| m.split_once(" is forbidden: ").map(|(_, w)| w.to_string());
    assert!(
        event.starts_with("Error creating: pods \"agent-"),
        "{event}"
    );
    assert_eq!(why(&event), why(&message), "{event} / {message}");
    let e = json_report(
        bed.kc(),
        &["explain", "ds", "agent", "-n", "vap", "-o", "json"],
    );
    let v = &e["verdicts"][0];
    println!("explain after apply: {v}");
    assert_eq!(v["code"], "CreateRefused", "{v}");
    let verbatim = why(&message).unwrap_or_default();
    assert!(
        v["message"]
            .as_str()
            .unwrap_or_default()
            .contains(&verbatim),
        "{v}"
    );

    // Admitted: the server's pod, with the LimitRange's default request.
    let yaml = ds("agent", "lr-dry", "plain", "", "");
    let p = bed.preview("lr-server", &yaml, &["--server-dry-run"]);
    println!("lr-dry server dry run: {p}");
    assert!(p["createRefused"].is_null(), "{p}");
    assert_eq!(p["perPod"]["cpu"], "150m", "{p}");
    assert!(
        p["admission"]["changes"]
            .to_string()
            .contains("dryRun=All create"),
        "{p}"
    );
    bed.apply(&yaml).await;
    bed.wait_pods_on("lr-dry", "agent", &["plain-1"], &["plain-1"])
        .await;
    let pod = bed.pods("lr-dry", "agent").await.remove(0);
    let requests = pod.spec.unwrap().containers[0]
        .resources
        .clone()
        .unwrap()
        .requests
        .unwrap();
    assert_eq!(requests["cpu"].0, "150m");

    // The read-only role: a note, and the local model's answer.
    bed.apply(&format!(
        "{}---\napiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: viewer}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: kubectl-ds-read-only}}\nsubjects: [{{kind: User, name: viewer}}]\n",
        common::rbac_role("read-only")
    ))
    .await;
    let viewer = bed.tb.kubeconfig_for_user("viewer", &[]).expect("viewer");
    let path = bed.tb.dir().join("vap-viewer.yaml");
    std::fs::write(&path, ds("other", "vap", "plain", "", "")).unwrap();
    let out = kubectl_ds(
        &viewer,
        &[
            "preview",
            "-f",
            path.to_str().unwrap(),
            "--server-dry-run",
            "-o",
            "json",
        ],
    );
    let err = common::stderr(&out);
    println!("viewer: {err}");
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(
        err.contains("note: the API server's dry-run create of a pod was not possible"),
        "{err}"
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert!(doc["items"][0]["createRefused"].is_null(), "{doc}");
}
