//! What a user meets at the prompt, against the testbed: a namespace that does not exist, the
//! DaemonSets under `--fail-under`, `--revision` and `--to-revision` numbers that do not exist or
//! were renumbered by a rollback, `--timeout` without `--watch`, and bad quantities in a manifest
//! (checked against the API server's own answer for the same object).

use std::time::Duration;

use crate::common::{daemonset, kubectl_ds, stderr, stdout};
use k8s_openapi::api::apps::v1::DaemonSet;
use kube::Api;
use kube::api::{Patch, PatchParams};
use kubectl_ds::cluster::errors::is_about_the_object;
use kubectl_ds_testbed::{
    FakeNode, Options, Testbed, add_node, apply_yaml, wait_daemonset_settled,
};

const NS: &str = "default";
const SETTLE: Duration = Duration::from_secs(60);

async fn set_image(client: &kube::Client, name: &str, image: &str) {
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), NS);
    let patch = serde_json::json!({"spec": {"template": {"spec": {"containers": [{"name": "main", "image": image}]}}}});
    api.patch(name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .expect("set image");
}

async fn settle(client: &kube::Client, name: &str) {
    wait_daemonset_settled(client, NS, name, SETTLE)
        .await
        .unwrap_or_else(|e| panic!("{name} did not settle: {e}"));
}

fn expect_input_error(out: &std::process::Output, what: &str, says: &str) {
    assert_eq!(out.status.code(), Some(2), "{what}: {}", stderr(out));
    assert!(stderr(out).contains(says), "{what}: {}", stderr(out));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn prompt_answers_name_what_is_wrong() {
    let tb = Testbed::start(Options::default()).await.expect("testbed");
    let client = tb.client().await.expect("client");
    let kc = tb.kubeconfig();
    for n in ["n1", "n2"] {
        add_node(&client, &FakeNode::new(n)).await.expect("node");
    }
    apply_yaml(&client, &daemonset("agent", NS, ""))
        .await
        .expect("agent");
    // Asks for more cpu than any node has: created, never scheduled, 0% covered.
    let hog = daemonset("hog", NS, "").replace(
        "image: registry.example/agent:1",
        "image: registry.example/agent:1\n        resources: {requests: {cpu: '500'}}",
    );
    apply_yaml(&client, &hog).await.expect("hog");
    settle(&client, "agent").await;

    // A namespace that does not exist is named, for every command that reads one.
    for args in [
        &["coverage", "-n", "nosuchns"][..],
        &["rollout", "status", "-n", "nosuchns"],
        &["rollout", "history", "agent", "-n", "nosuchns"],
        &["rollback", "agent", "-n", "nosuchns", "--dry-run"],
        &["explain", "node", "n1", "-n", "nosuchns"],
        &["explain", "ds", "agent", "-n", "nosuchns"],
    ] {
        let out = kubectl_ds(kc, args);
        expect_input_error(
            &out,
            &format!("{args:?}"),
            "namespace \"nosuchns\" does not exist",
        );
    }
    // Where -A is not accepted it is not suggested.
    for args in [&["rollout", "history", "nope"][..], &["rollback", "nope"]] {
        let out = kubectl_ds(kc, args);
        expect_input_error(&out, &format!("{args:?}"), "daemonset \"nope\" not found");
        assert!(!stderr(&out).contains("-A"), "{args:?}: {}", stderr(&out));
    }

    // --fail-under names the DaemonSets under the bar.
    let out = kubectl_ds(kc, &["coverage", "--fail-under", "95"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        stderr(&out),
        "coverage is under --fail-under 95% for 1 DaemonSet: default/hog (0.0%)\n"
    );

    // --revision beyond the current one, with the controller caught up, waits for nothing.
    let out = kubectl_ds(kc, &["rollout", "status", "agent", "--revision", "9"]);
    expect_input_error(
        &out,
        "--revision 9",
        "daemonset \"agent\" has no revision 9",
    );
    assert!(
        stderr(&out).contains("its current revision is 1"),
        "{}",
        stderr(&out)
    );

    // --timeout alone follows the rollout, as kubectl rollout status does.
    tokio::time::sleep(Duration::from_millis(1100)).await;
    set_image(&client, "agent", "registry.example/agent:2").await;
    let out = kubectl_ds(kc, &["rollout", "status", "agent", "--timeout", "60s"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("successfully rolled out"),
        "{}",
        stdout(&out)
    );
    settle(&client, "agent").await;

    // Rolling back to revision 1 renumbers it to 3; asking for 1 again says so.
    let out = kubectl_ds(kc, &["rollback", "agent", "--to-revision", "1", "-y"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    settle(&client, "agent").await;
    // Completion offers the revisions there are.
    let complete = std::process::Command::new(env!("CARGO_BIN_EXE_kubectl_complete-ds"))
        .args(["rollback", "agent", "--to-revision", ""])
        .env("KUBECONFIG", kc)
        .output()
        .unwrap();
    assert_eq!(stdout(&complete), "2\n3\n:4\n");
    for args in [
        &["rollback", "agent", "--to-revision", "1", "--dry-run"][..],
        &["rollout", "history", "agent", "--revision", "1"],
    ] {
        let out = kubectl_ds(kc, args);
        expect_input_error(&out, &format!("{args:?}"), "revision 1 became revision 3");
    }

    // A quantity that does not parse is an input error naming its field, before anything is
    // sent; the API server agrees that the object is at fault.
    let bad = daemonset("sized", NS, "").replace(
        "image: registry.example/agent:1",
        "image: registry.example/agent:1\n        resources: {requests: {memory: 1Gb}}",
    );
    let path = tb.dir().join("bad-quantity.yaml");
    std::fs::write(&path, &bad).unwrap();
    for extra in [&[][..], &["--server-dry-run"]] {
        let mut args = vec!["preview", "-f", path.to_str().unwrap()];
        args.extend(extra);
        let out = kubectl_ds(kc, &args);
        expect_input_error(
            &out,
            &format!("{args:?}"),
            "spec.template.spec.containers[0].resources.requests.memory: \"1Gb\" is not a valid quantity",
        );
    }
    let value: serde_json::Value = kubectl_ds::yaml::from_str(&bad).unwrap();
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), NS);
    let params = PatchParams::apply("kubectl-ds-preview").force().dry_run();
    match api.patch("sized", &params, &Patch::Apply(&value)).await {
        Err(kube::Error::Api(s)) => assert!(
            // Server-side apply answers 500 here, where a client-side apply gets 400.
            s.code == 500 && is_about_the_object(s.code, &s.message),
            "{} {}",
            s.code,
            s.message
        ),
        other => panic!("the API server took a bad quantity: {other:?}"),
    }
}
