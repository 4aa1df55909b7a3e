//! The command line without a cluster: help, usage errors, completions, kubeconfig errors.

mod common;

use std::path::PathBuf;
use std::process::Command;

use clap::CommandFactory;
use kubectl_ds::cli::Cli;

/// Runs one of the crate's binaries with a scrubbed environment plus `env`.
fn run_bin(bin: &str, args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    let home = std::env::temp_dir().join("kubectl-ds-cli-home");
    let mut cmd = Command::new(bin);
    cmd.args(args)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &home);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the binary")
}

fn run(args: &[&str], env: &[(&str, &str)]) -> std::process::Output {
    run_bin(env!("CARGO_BIN_EXE_kubectl-ds"), args, env)
}

#[test]
fn command_definition_is_consistent() {
    Cli::command().debug_assert();
}

#[test]
fn usage_errors_exit_2() {
    let out = run(&["coverage", "--output", "xml"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["frobnicate"], &[]);
    assert_eq!(out.status.code(), Some(2));
    let out = run(&["--help"], &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(common::stdout(&out).contains("Exit codes: 0 ok, 1 the check found a problem"));
}

#[test]
fn kubeconfig_problems_are_input_errors() {
    let out = run(
        &["coverage", "--kubeconfig", "/nonexistent/kubeconfig"],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(
        common::stderr(&out),
        "error: kubeconfig file /nonexistent/kubeconfig does not exist; check --kubeconfig or KUBECONFIG\n"
    );
    let dir = std::env::temp_dir().join(format!("kubectl-ds-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kc = dir.join("config");
    std::fs::write(&kc, "apiVersion: v1\nkind: Config\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n").unwrap();
    let kc = kc.to_str().unwrap();
    let out = run(&["coverage", "--kubeconfig", kc], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::stderr(&out).contains("no current context"),
        "{}",
        common::stderr(&out)
    );
    let out = run(&["coverage", "--kubeconfig", kc, "--context", "nope"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::stderr(&out).contains("context \"nope\" is not in the kubeconfig"),
        "{}",
        common::stderr(&out)
    );
    let out = run(
        &[
            "coverage",
            "--kubeconfig",
            kc,
            "--context",
            "x",
            "--request-timeout",
            "soon",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    let out = run(
        &[
            "coverage",
            "--kubeconfig",
            kc,
            "--context",
            "x",
            "-l",
            "a in (b",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::stderr(&out).starts_with("error: invalid -l selector \"a in (b\""),
        "{}",
        common::stderr(&out)
    );
    let out = run(
        &[
            "coverage",
            "Not_A_Name",
            "--kubeconfig",
            kc,
            "--context",
            "x",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    std::fs::remove_dir_all(&dir).ok();
}

fn completions_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("completions")
}

/// The committed completion scripts must match the command definition. Regenerate them with
/// `UPDATE_COMPLETIONS=1 cargo test --test cli completions`.
#[test]
fn completions_are_up_to_date() {
    let files = [
        ("bash", "kubectl-ds.bash"),
        ("zsh", "_kubectl-ds"),
        ("fish", "kubectl-ds.fish"),
        ("powershell", "_kubectl-ds.ps1"),
    ];
    let update = std::env::var_os("UPDATE_COMPLETIONS").is_some();
    for (shell, file) in files {
        let out = run(&["completion", shell], &[]);
        assert_eq!(out.status.code(), Some(0));
        let path = completions_dir().join(file);
        if update {
            std::fs::write(&path, &out.stdout).unwrap();
            continue;
        }
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == out.stdout,
            "completions/{file} is stale: run `UPDATE_COMPLETIONS=1 cargo test --test cli completions`"
        );
    }
}

#[test]
fn plugin_completion_offers_commands_and_flags() {
    let complete = |words: &[&str]| {
        let out = run_bin(env!("CARGO_BIN_EXE_kubectl_complete-ds"), words, &[]);
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete(&["cov"]), "coverage\n:4\n");
    assert_eq!(complete(&["ov"]), "overhead\n:4\n");
    assert!(complete(&["overhead", "--gr"]).starts_with("--group-by\n"));
    assert_eq!(
        complete(&["preview", "--node"]),
        "--node\n--node-like\n:4\n"
    );
    assert!(complete(&["coverage", "--fail"]).starts_with("--fail-under\n"));
    assert_eq!(
        complete(&["coverage", "-o", ""]),
        "json\ntable\nwide\nyaml\n:4\n"
    );
}

/// Names and revisions are checked before anything is sent, with exit 2.
#[test]
fn invalid_names_and_revisions_are_usage_errors() {
    for args in [
        &["coverage", "Bad_Name"][..],
        &["explain", "node", "-bad"],
        &["explain", "ds", "UPPER"],
        &["rollout", "status", "a..b"],
        &["rollout", "history", "under_score"],
        &["rollback", "x/y"],
        &["rollback", "agent", "--to-revision", "two"],
        &["rollback", "agent", "--to-revision=-1"],
        &["overhead", "--group-by", "bad key"],
        &["overhead", "-l", "pool in (a"],
        &["preview"],
        &["preview", "-f", "x.yaml", "--node-like", "n1"],
        &["preview", "-f", "x.yaml", "--labels", "a=b"],
        &["preview", "--node-like", "n1", "--labels", "a"],
        &["preview", "--node-like", "n1", "--taints", "k=v:Sometimes"],
        &["preview", "--node-like", "Bad_Node"],
        &["preview", "--node", "/nonexistent/node.yaml"],
    ] {
        let out = run(args, &[("KUBECONFIG", "/nonexistent/kubeconfig")]);
        assert_eq!(
            out.status.code(),
            Some(2),
            "{args:?}: {}",
            common::stderr(&out)
        );
        let err = common::stderr(&out);
        assert!(
            !err.contains("kubeconfig file"),
            "{args:?} must fail before reading the kubeconfig: {err}"
        );
    }
}
