//! The krew install path: `.ci/release` packs this build's binaries and renders the krew
//! manifest, krew (built from the Go module proxy by `tests/krew/build`) installs them into a
//! temporary KREW_ROOT, and kubectl runs the plugin and its completion helper from there.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use crate::common::{stderr, stdout};

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn script(path: &str, args: &[&str]) -> Output {
    Command::new(repo().join(path))
        .args(args)
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("run {path}: {e}"))
}

/// Runs kubectl with only `path` and the krew root of `home` in the environment.
fn kubectl(home: &Path, path: &std::ffi::OsStr, args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .current_dir(home)
        .stdin(Stdio::null())
        .env_clear()
        .env("PATH", path)
        .env("HOME", home)
        .env("KREW_ROOT", home.join("krew"))
        .env("KREW_NO_UPGRADE_CHECK", "1")
        .env("KUBECONFIG", home.join("no-kubeconfig"))
        .output()
        .expect("run kubectl")
}

#[test]
fn krew_installs_the_release_archive_and_kubectl_runs_it() {
    let built = script("tests/krew/build", &[]);
    assert!(built.status.success(), "krew build: {}", stderr(&built));
    let krew = PathBuf::from(stdout(&built).trim());

    let home = std::env::temp_dir().join(format!("kubectl-ds-krew-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    std::fs::create_dir_all(home.join("bin")).unwrap();
    let dist = home.join("dist");
    let built_dir = Path::new(env!("CARGO_BIN_EXE_kubectl-ds"))
        .parent()
        .unwrap();
    // The test build's binaries, without their debug info: a tenth of the size to pack and
    // unpack (left as they are where `strip` is missing).
    let binaries = &home.join("built");
    std::fs::create_dir_all(binaries).unwrap();
    for b in ["kubectl-ds", "kubectl_complete-ds"] {
        std::fs::copy(built_dir.join(b), binaries.join(b)).unwrap();
        let _ = Command::new("strip").arg(binaries.join(b)).status();
    }
    let released = script(
        ".ci/release",
        &[
            "--out",
            dist.to_str().unwrap(),
            "--binaries",
            binaries.to_str().unwrap(),
        ],
    );
    assert!(released.status.success(), "release: {}", stderr(&released));
    let manifest = std::fs::read_to_string(dist.join("ds.yaml")).unwrap();
    assert!(
        manifest.contains("apiVersion: krew.googlecontainertools.github.com/v1alpha2"),
        "{manifest}"
    );
    assert!(!manifest.contains("{{"), "unrendered template: {manifest}");
    // The archive of this machine's platform, the only one built.
    let archive = std::fs::read_dir(&dist)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .expect("an archive");
    let listing = Command::new("tar")
        .arg("tzf")
        .arg(&archive)
        .output()
        .unwrap();
    let listing = stdout(&listing);
    for f in [
        "kubectl-ds",
        "kubectl_complete-ds",
        "completions/kubectl-ds.bash",
        "completions/_kubectl-ds",
        "LICENSE",
        "README.md",
    ] {
        assert!(listing.lines().any(|l| l == f), "{f} not in {listing}");
    }

    // kubectl finds krew as the plugin `kubectl krew`, and krew's bin directory on PATH.
    std::os::unix::fs::symlink(&krew, home.join("bin/kubectl-krew")).unwrap();
    let path = std::env::join_paths(
        [home.join("bin"), home.join("krew/bin")]
            .into_iter()
            .chain(std::env::split_paths(
                &std::env::var_os("PATH").unwrap_or_default(),
            ))
            .filter(|p| !p.starts_with(built_dir)),
    )
    .unwrap();
    let manifest_arg = format!("--manifest={}", dist.join("ds.yaml").display());
    let archive_arg = format!("--archive={}", archive.display());
    let install = kubectl(
        &home,
        &path,
        &["krew", "install", &manifest_arg, &archive_arg],
    );
    assert!(
        install.status.success(),
        "krew install: {} {}",
        stdout(&install),
        stderr(&install)
    );
    assert!(
        stderr(&install).contains("kubectl-ds-read-only"),
        "the caveats name the role: {}",
        stderr(&install)
    );
    let help = kubectl(&home, &path, &["ds", "--help"]);
    assert!(
        help.status.success(),
        "kubectl ds --help: {}",
        stderr(&help)
    );
    assert!(
        stdout(&help).contains("Usage: kubectl ds [OPTIONS] <COMMAND>"),
        "{}",
        stdout(&help)
    );

    // The caveats' step for completion: link kubectl_complete-ds next to the plugin.
    let version = env!("CARGO_PKG_VERSION");
    let helper = home.join(format!("krew/store/ds/v{version}/kubectl_complete-ds"));
    std::os::unix::fs::symlink(&helper, home.join("krew/bin/kubectl_complete-ds")).unwrap();
    let complete = kubectl(&home, &path, &["__complete", "ds", "cov"]);
    assert!(
        stdout(&complete).starts_with("coverage\n"),
        "kubectl __complete ds cov: {} {}",
        stdout(&complete),
        stderr(&complete)
    );
    std::fs::remove_dir_all(&home).ok();
}
