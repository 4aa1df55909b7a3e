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
    // File names after -f, as `kubectl apply -f` offers them (cobra's FilterFileExt).
    assert_eq!(complete(&["preview", "-f", ""]), "json\nyaml\nyml\n:8\n");
    assert_eq!(
        complete(&["completion", ""]),
        "bash\nelvish\nfish\npowershell\nzsh\n:4\n"
    );
    let top = complete(&[""]);
    assert!(
        top.contains("coverage\n") && !top.contains("__complete"),
        "{top}"
    );
    // No cluster: no revision numbers, and no file names either.
    assert_eq!(
        complete(&["rollback", "agent", "--to-revision", ""]),
        ":4\n"
    );
}

/// A directory with a manifest, another file and a subdirectory, to see which file names a
/// completion offers.
fn completion_workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("kubectl-ds-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("manifests")).unwrap();
    std::fs::write(dir.join("agent.yaml"), "kind: DaemonSet\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "x\n").unwrap();
    dir
}

fn path_with_binaries() -> std::ffi::OsString {
    let bin_dir = PathBuf::from(env!("CARGO_BIN_EXE_kubectl-ds"))
        .parent()
        .unwrap()
        .to_path_buf();
    std::env::join_paths(std::iter::once(bin_dir).chain(std::env::split_paths(
        &std::env::var_os("PATH").unwrap_or_default(),
    )))
    .unwrap()
}

/// Runs `script` in bash (in `dir`, the binaries on PATH, no cluster) and returns its output.
fn bash(dir: &std::path::Path, script: &str) -> String {
    let out = Command::new("bash")
        .arg("-c")
        .arg(script)
        .current_dir(dir)
        .env_clear()
        .env("PATH", path_with_binaries())
        .env("HOME", dir)
        .env("KUBECONFIG", dir.join("no-kubeconfig"))
        .output()
        .expect("bash");
    assert!(out.status.success(), "{}", common::stderr(&out));
    common::stdout(&out)
}

/// bash's completion machinery driving the script of `kubectl-ds completion bash`: the function
/// `complete -p` names is called the way bash calls it, with COMP_LINE, COMP_WORDS, COMP_CWORD.
#[test]
fn bash_completion_of_the_binary() {
    let dir = completion_workdir("bash-completion");
    let script = common::stdout(&run(&["completion", "bash"], &[]));
    std::fs::write(dir.join("kubectl-ds.bash"), &script).unwrap();
    let driver = r#"
source ./kubectl-ds.bash
spec=$(complete -p kubectl-ds)
fn=$(sed -E 's/.*-F ([^ ]+).*/\1/' <<<"$spec")
echo "spec: $spec"
tab() {
    COMP_LINE=$1
    COMP_POINT=${#COMP_LINE}
    read -ra COMP_WORDS <<<"$COMP_LINE"
    [[ $COMP_LINE == *' ' ]] && COMP_WORDS+=("")
    COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
    COMPREPLY=()
    "$fn" kubectl-ds "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    local got=""
    (( ${#COMPREPLY[@]} )) && got=$(printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' ')
    echo "[$1] $got"
}
tab 'kubectl-ds '
tab 'kubectl-ds coverage -n '
tab 'kubectl-ds rollout status --'
tab 'kubectl-ds preview -f '
tab 'kubectl-ds completion '
"#;
    let text = bash(&dir, driver);
    let line = |prefix: &str| {
        text.lines()
            .find(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("no {prefix} in {text}"))
            .to_string()
    };
    // Registered without bash's fall-back to file names: the function decides.
    assert_eq!(line("spec: "), "spec: complete -F _kubectl_ds kubectl-ds");
    let top = line("[kubectl-ds ]");
    assert!(
        top.contains(" coverage ") && top.contains(" rollout "),
        "{top}"
    );
    assert!(!top.contains("__complete"), "{top}");
    // Namespaces come from the cluster; without one, nothing, and never file names.
    assert_eq!(
        line("[kubectl-ds coverage -n ]"),
        "[kubectl-ds coverage -n ] "
    );
    let flags = line("[kubectl-ds rollout status --]");
    for f in [
        "--watch",
        "--timeout",
        "--revision",
        "--selector",
        "--namespace",
    ] {
        assert!(flags.contains(&format!(" {f} ")), "{f}: {flags}");
    }
    assert!(!flags.contains("--to-revision"), "{flags}");
    assert_eq!(
        line("[kubectl-ds preview -f ]"),
        "[kubectl-ds preview -f ] agent.yaml manifests "
    );
    assert_eq!(
        line("[kubectl-ds completion ]"),
        "[kubectl-ds completion ] bash elvish fish powershell zsh "
    );
    std::fs::remove_dir_all(&dir).ok();
}

/// bash-completion's main script, which kubectl's bash completion needs (it calls its
/// `_get_comp_words_by_ref` and `_filedir`).
const BASH_COMPLETION: &str = "/usr/share/bash-completion/bash_completion";

/// `kubectl ds preview -f <TAB>` as kubectl runs it: kubectl calls kubectl_complete-ds, and
/// its bash completion filters the files by the extensions the answer names.
#[test]
fn kubectl_completion_offers_manifests_after_preview_f() {
    let dir = completion_workdir("kubectl-completion");
    let protocol = bash(&dir, "kubectl __complete ds preview -f ''");
    assert!(
        protocol.starts_with("json\nyaml\nyml\n:8\n"),
        "kubectl __complete: {protocol}"
    );
    // kubectl's bash completion does not work at all without bash-completion; where it is
    // installed (a prerequisite in the README), drive it too.
    if !std::path::Path::new(BASH_COMPLETION).exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "{BASH_COMPLETION} is not installed"
        );
        eprintln!("{BASH_COMPLETION} is not installed: kubectl's bash completion is not driven");
        std::fs::remove_dir_all(&dir).ok();
        return;
    }
    let driver = r#"
source /usr/share/bash-completion/bash_completion
source <(kubectl completion bash)
COMP_LINE='kubectl ds preview -f '
COMP_POINT=${#COMP_LINE}
COMP_WORDS=(kubectl ds preview -f '')
COMP_CWORD=4
COMPREPLY=()
__start_kubectl kubectl '' -f 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}" | sort | tr '\n' ' '
"#;
    assert_eq!(bash(&dir, driver), "agent.yaml manifests ");
    std::fs::remove_dir_all(&dir).ok();
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
        &["rollback", "agent", "--to-revision", "-1"],
        &["rollout", "history", "agent", "--revision", "-2"],
        &["rollout", "status", "agent", "--revision", "-2"],
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
        // Our own sentence, not clap's advice to write `-- -1`.
        if args
            .iter()
            .any(|a| a.starts_with('-') && a[1..].parse::<i64>().is_ok())
        {
            assert!(!err.contains("tip:"), "{args:?}: {err}");
        }
    }
    let out = run(
        &["rollback", "agent", "--to-revision", "-1"],
        &[("KUBECONFIG", "/nonexistent/kubeconfig")],
    );
    assert_eq!(
        common::stderr(&out),
        "error: --to-revision must be a positive integer (or 0 for the previous revision): -1\n"
    );
}

/// Help as kubectl's: the command's own flags first, the global ones under their own heading,
/// no flag that does not apply, and examples.
#[test]
fn help_lists_own_flags_then_global_options() {
    let help = |args: &[&str]| common::stdout(&run(args, &[]));
    let coverage = help(&["coverage", "--help"]);
    let own = coverage.find("--fail-under").unwrap();
    let global = coverage
        .find("Global options:")
        .expect("a Global options heading");
    assert!(own < global, "{coverage}");
    assert!(
        coverage.find("--kubeconfig").unwrap() > global,
        "{coverage}"
    );
    assert!(coverage.contains("comma-separated list"), "{coverage}");
    assert!(coverage.contains("Examples:\n  # "), "{coverage}");
    for args in [
        &["rollback", "--help"][..],
        &["rollout", "history", "--help"],
        &["preview", "--help"],
    ] {
        let text = help(args);
        assert!(!text.contains("--all-namespaces"), "{args:?}: {text}");
        assert!(!text.contains("comma-separated"), "{args:?}: {text}");
        assert!(text.contains("Examples:"), "{args:?}: {text}");
    }
    for args in [
        &["explain", "node", "--help"][..],
        &["explain", "ds", "--help"],
        &["rollout", "status", "--help"],
        &["completion", "--help"],
    ] {
        assert!(help(args).contains("Examples:"), "{args:?}");
    }
    assert!(help(&["rollout", "status", "--help"]).contains("--all-namespaces"));
    // Printing a script talks to no cluster: none of kubectl's flags mean anything there.
    let completion = help(&["completion", "--help"]);
    assert!(!completion.contains("Global options"), "{completion}");
    assert!(!completion.contains("--kubeconfig"), "{completion}");
    // -A where it does not apply is a usage error, not a suggestion followed by a refusal.
    let out = run(&["rollback", "agent", "-A"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        common::stderr(&out).contains("unexpected argument '-A'"),
        "{}",
        common::stderr(&out)
    );
}

/// `--watch` against an API server that never answers says so while it retries, and exits 3
/// once `--request-timeout` has passed without a connection.
#[test]
fn watching_an_unreachable_server_says_so_and_exits_3() {
    let dir = std::env::temp_dir().join(format!("kubectl-ds-unreachable-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let kc = dir.join("config");
    std::fs::write(&kc, "apiVersion: v1\nkind: Config\ncurrent-context: x\nclusters: [{name: c, cluster: {server: 'https://127.0.0.1:1'}}]\nusers: [{name: u, user: {token: t}}]\ncontexts: [{name: x, context: {cluster: c, user: u}}]\n").unwrap();
    let kc = kc.to_str().unwrap();
    for args in [
        &["coverage", "--watch"][..],
        &["rollout", "status", "--watch"],
        &["rollout", "status", "--timeout", "1m"],
    ] {
        let mut all = args.to_vec();
        all.extend(["--kubeconfig", kc, "--request-timeout", "3s"]);
        let started = std::time::Instant::now();
        let out = run(&all, &[]);
        let err = common::stderr(&out);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {err}");
        assert!(
            err.starts_with("cannot reach the API server at https://127.0.0.1:1/ (")
                && err.lines().next().unwrap().ends_with(", retrying"),
            "{args:?}: {err}"
        );
        assert!(
            err.lines()
                .last()
                .unwrap()
                .starts_with("error: cannot reach the API server"),
            "{args:?}: {err}"
        );
        assert!(
            started.elapsed() < std::time::Duration::from_secs(20),
            "{args:?}"
        );
    }
    std::fs::remove_dir_all(&dir).ok();
}

/// Whether `shell` is installed; the checks of a shell that is not are reported and left out.
fn installed(shell: &str) -> bool {
    let found = Command::new(shell)
        .arg("-c")
        .arg("exit 0")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        // .ci/run installs the shells, so in CI a missing one is a broken setup, not a skip.
        assert!(std::env::var_os("CI").is_none(), "{shell} is not installed");
        eprintln!("{shell} is not installed: its completion script is not checked");
    }
    found
}

/// zsh, fish and PowerShell, as far as the machine allows: fish's own completion engine
/// (`complete -C`) on the generated script, zsh's parser and loader, the PowerShell script's
/// registration.
#[test]
fn other_shells_complete_the_binary() {
    let dir = completion_workdir("other-shells");
    if installed("fish") {
        let script = common::stdout(&run(&["completion", "fish"], &[]));
        std::fs::write(dir.join("kubectl-ds.fish"), script).unwrap();
        let fish = |line: &str| {
            let out = Command::new("fish")
                .arg("-c")
                .arg(format!("source ./kubectl-ds.fish; complete -C '{line}'"))
                .current_dir(&dir)
                .output()
                .expect("fish");
            assert!(out.status.success(), "{}", common::stderr(&out));
            common::stdout(&out)
        };
        let top = fish("kubectl-ds ");
        assert!(
            top.contains("coverage\t") && !top.contains("__complete"),
            "{top}"
        );
        let flags = fish("kubectl-ds rollout status --");
        assert!(
            flags.contains("--watch\t") && flags.contains("--timeout\t"),
            "{flags}"
        );
        assert!(!flags.contains("--to-revision"), "{flags}");
    }
    if installed("zsh") {
        let script = common::stdout(&run(&["completion", "zsh"], &[]));
        std::fs::write(dir.join("_kubectl-ds"), &script).unwrap();
        assert!(script.starts_with("#compdef kubectl-ds\n") && !script.contains("__complete"));
        let out = Command::new("zsh")
            .arg("-c")
            .arg("zsh -n ./_kubectl-ds && autoload -U compinit && compinit -u -D && source ./_kubectl-ds && whence -w _kubectl-ds")
            .current_dir(&dir)
            .output()
            .expect("zsh");
        assert_eq!(
            common::stdout(&out),
            "_kubectl-ds: function\n",
            "{}",
            common::stderr(&out)
        );
    }
    let ps = common::stdout(&run(&["completion", "powershell"], &[]));
    assert!(ps.contains("Register-ArgumentCompleter -Native -CommandName 'kubectl-ds'"));
    assert!(ps.contains("'kubectl-ds;rollout;status'") && !ps.contains("__complete"));
    std::fs::remove_dir_all(&dir).ok();
}
