//! Least privilege: every read command works with exactly the published read-only ClusterRole and
//! sends no write; rollback works with the rollback role added; and a role missing any one verb
//! gets an error (or, for optional inputs, a note) naming that verb and resource.

use crate::common;

use std::collections::BTreeSet;
use std::time::Duration;

use crate::common::{daemonset, kubectl_ds, stderr, stdout};
use kubectl_ds_testbed::{
    FakeNode, Options, Testbed, add_node, apply_yaml, wait_daemonset_settled,
};

/// (apiGroup, resource, verbs) of the read-only role (docs/rbac/read-only.yaml).
const READ_ONLY: &[(&str, &str, &[&str])] = &[
    ("", "nodes", &["get", "list", "watch"]),
    ("", "pods", &["get", "list", "watch"]),
    ("", "events", &["get", "list", "watch"]),
    ("", "namespaces", &["get", "list", "watch"]),
    ("", "limitranges", &["get", "list", "watch"]),
    ("", "serviceaccounts", &["get", "list", "watch"]),
    ("", "resourcequotas", &["get", "list", "watch"]),
    ("node.k8s.io", "runtimeclasses", &["get", "list", "watch"]),
    ("policy", "poddisruptionbudgets", &["get", "list", "watch"]),
    ("apps", "daemonsets", &["get", "list", "watch"]),
    ("apps", "controllerrevisions", &["get", "list", "watch"]),
    (
        "scheduling.k8s.io",
        "priorityclasses",
        &["get", "list", "watch"],
    ),
];

/// A ClusterRole like the read-only one without `verb` on `resource`, bound to `user`.
fn role_without(user: &str, resource: &str, verb: &str) -> String {
    let mut rules = String::new();
    for (group, res, verbs) in READ_ONLY {
        let kept: Vec<&str> = verbs
            .iter()
            .copied()
            .filter(|v| !(*res == resource && *v == verb))
            .collect();
        if !kept.is_empty() {
            rules.push_str(&format!(
                "- apiGroups: ['{group}']\n  resources: [{res}]\n  verbs: [{}]\n",
                kept.join(", ")
            ));
        }
    }
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {user}}}\nrules:\n{rules}---\n{}",
        binding(user, user)
    )
}

fn binding(user: &str, role: &str) -> String {
    format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {{name: {user}-{role}}}\nroleRef: {{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: {role}}}\nsubjects: [{{kind: User, name: {user}}}]\n"
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_only_role_suffices_and_each_missing_verb_is_named() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    add_node(&client, &FakeNode::new("n1")).await.expect("node");
    apply_yaml(&client, &daemonset("agent", "default", ""))
        .await
        .expect("apply");
    wait_daemonset_settled(&client, "default", "agent", Duration::from_secs(60))
        .await
        .expect("settle");
    apply_yaml(
        &client,
        &daemonset("agent", "default", "").replace("agent:1", "agent:2"),
    )
    .await
    .expect("update");
    wait_daemonset_settled(&client, "default", "agent", Duration::from_secs(60))
        .await
        .expect("settle");

    // The published roles, verbatim.
    apply_yaml(
        &client,
        &format!(
            "{}---\n{}---\n{}---\n{}---\n{}---\n{}",
            common::rbac_role("read-only"),
            common::rbac_role("rollback"),
            binding("viewer", "kubectl-ds-read-only"),
            binding("no-patch", "kubectl-ds-read-only"),
            binding("operator", "kubectl-ds-read-only"),
            binding("operator", "kubectl-ds-rollback")
        ),
    )
    .await
    .expect("roles");
    let viewer = tb.kubeconfig_for_user("viewer", &[]).expect("viewer");
    let manifest = tb.dir().join("agent.yaml");
    std::fs::write(&manifest, daemonset("agent", "default", "")).unwrap();
    let manifest = manifest.to_str().unwrap().to_string();
    let read_commands: Vec<Vec<&str>> = vec![
        vec!["coverage", "-A"],
        vec!["coverage", "agent", "-o", "json"],
        vec!["explain", "node", "n1", "-A"],
        vec!["explain", "ds", "agent"],
        vec!["preview", "-f", &manifest],
        vec!["rollout", "status", "agent"],
        vec!["rollout", "history", "agent"],
        vec!["rollout", "history", "agent", "--revision", "1"],
        vec!["rollback", "agent", "--to-revision", "1", "--dry-run"],
    ];
    for args in &read_commands {
        let out = kubectl_ds(&viewer, args);
        assert_eq!(
            out.status.code(),
            Some(0),
            "{args:?} as viewer: {}",
            stderr(&out)
        );
        assert!(
            !stdout(&out).contains("note:"),
            "{args:?}: nothing left out: {}",
            stdout(&out)
        );
    }
    // The read-only role cannot roll back; with the rollback role it can.
    let no_patch = tb.kubeconfig_for_user("no-patch", &[]).expect("no-patch");
    let denied = kubectl_ds(
        &no_patch,
        &["rollback", "agent", "--to-revision", "1", "--yes"],
    );
    assert_eq!(denied.status.code(), Some(3));
    assert!(
        stderr(&denied).contains("not allowed to patch daemonsets"),
        "{}",
        stderr(&denied)
    );
    let operator = tb.kubeconfig_for_user("operator", &[]).expect("operator");
    let rolled = kubectl_ds(
        &operator,
        &["rollback", "agent", "--to-revision", "1", "--yes"],
    );
    assert_eq!(rolled.status.code(), Some(0), "{}", stderr(&rolled));

    // One verb missing at a time: the message names it.
    let cases: &[(&str, &str, &[&str], &str)] = &[
        ("pods", "list", &["coverage"], "not allowed to list pods"),
        ("nodes", "list", &["coverage"], "not allowed to list nodes"),
        (
            "daemonsets",
            "list",
            &["coverage"],
            "not allowed to list daemonsets",
        ),
        (
            "controllerrevisions",
            "list",
            &["coverage"],
            "not allowed to list controllerrevisions",
        ),
        (
            "daemonsets",
            "get",
            &["coverage", "agent"],
            "not allowed to get daemonsets",
        ),
        (
            "nodes",
            "get",
            &["explain", "node", "n1"],
            "not allowed to get nodes",
        ),
        // explain node asks for events only about pods pending for its node (none here).
        (
            "events",
            "list",
            &["explain", "ds", "agent"],
            "not allowed to list events",
        ),
        (
            "priorityclasses",
            "list",
            &["explain", "node", "n1"],
            "not allowed to list priorityclasses",
        ),
        (
            "pods",
            "watch",
            &["coverage", "--watch"],
            "not allowed to watch pods",
        ),
        // The admission and preemption inputs are optional: a note each.
        (
            "serviceaccounts",
            "list",
            &["explain", "ds", "agent"],
            "not allowed to list serviceaccounts",
        ),
        (
            "poddisruptionbudgets",
            "list",
            &["explain", "node", "n1"],
            "not allowed to list poddisruptionbudgets",
        ),
    ];
    for (i, (resource, verb, args, expect)) in cases.iter().enumerate() {
        let user = format!("minus-{i}");
        apply_yaml(&client, &role_without(&user, resource, verb))
            .await
            .expect("role");
        let kc = tb.kubeconfig_for_user(&user, &[]).expect("kubeconfig");
        let out = tokio::task::spawn_blocking({
            let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
            move || {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                kubectl_ds(&kc, &args)
            }
        })
        .await
        .unwrap();
        let said = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            said.contains(expect),
            "without {verb} on {resource}, {args:?} said: {said}"
        );
        assert_ne!(
            out.status.code(),
            Some(0).filter(|_| said.contains("error:")),
            "{said}"
        );
    }

    // Env values from Secrets stay references: kubectl-ds never reads Secrets.
    let with_secret = daemonset("with-secret", "default", "").replace(
        "        image: registry.example/agent:1\n",
        "        image: registry.example/agent:1\n        env: [{name: TOKEN, valueFrom: {secretKeyRef: {name: creds, key: token}}}, {name: MODE, value: plain}]\n",
    );
    apply_yaml(&client, &format!("apiVersion: v1\nkind: Secret\nmetadata: {{name: creds, namespace: default}}\nstringData: {{token: hunter2-secret}}\n---\n{with_secret}")).await.expect("secret");
    wait_daemonset_settled(&client, "default", "with-secret", Duration::from_secs(60))
        .await
        .expect("settle");
    let shown = kubectl_ds(
        &viewer,
        &["rollout", "history", "with-secret", "--revision", "1"],
    );
    assert_eq!(shown.status.code(), Some(0), "{}", stderr(&shown));
    assert!(
        stdout(&shown).contains("secretKeyRef") || stdout(&shown).contains("creds"),
        "{}",
        stdout(&shown)
    );
    for args in [
        &[
            "rollout",
            "history",
            "with-secret",
            "--revision",
            "1",
            "-o",
            "yaml",
        ][..],
        &["explain", "ds", "with-secret", "-o", "yaml"],
        &["coverage", "with-secret", "-o", "yaml"],
    ] {
        let out = kubectl_ds(&viewer, args);
        assert!(
            !stdout(&out).contains("hunter2") && !stderr(&out).contains("hunter2"),
            "{args:?} leaked a secret"
        );
    }

    // No read command of any of these users wrote anything.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let writes: BTreeSet<String> = tb
        .audit_events()
        .expect("audit")
        .iter()
        .filter(|e| {
            let user = e["user"]["username"].as_str().unwrap_or("");
            user == "viewer" || user.starts_with("minus-")
        })
        .filter_map(|e| e["verb"].as_str().map(str::to_string))
        .filter(|v| !matches!(v.as_str(), "get" | "list" | "watch"))
        .collect();
    assert!(writes.is_empty(), "read-only commands sent {writes:?}");
}
