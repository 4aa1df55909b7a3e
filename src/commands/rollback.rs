//! `kubectl ds rollback` (and `rollout undo`): restores a revision's pod template the way
//! `DaemonSetRollbacker.Rollback` in `k8s.io/kubectl/pkg/polymorphichelpers/rollback.go` does
//! (a strategic-merge PATCH with the revision's `data`), but guarded by the resourceVersion that
//! was read, so a concurrent change makes it fail instead of being overwritten.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use k8s_openapi::api::apps::v1::DaemonSet;
use kube::Api;
use kube::api::{Patch, PatchParams};
use serde::Serialize;

use super::print;
use super::rollout::{fetch_one, template_yaml};
use crate::cli::{GlobalArgs, OutputFormat, RollbackArgs};
use crate::cluster::{self, Request, errors};
use crate::error::{Error, Exit, Result};
use crate::logic::daemon::history::{self, FindError};
use crate::render::{self, Output};

/// Attempts when the PATCH loses to a change that left the template alone (status updates,
/// labels): each one re-reads the DaemonSet and checks the template again.
const ATTEMPTS: usize = 3;

/// Test-only: a shell command run between reading the DaemonSet and patching it, so the
/// end-to-end tests can race a real concurrent update against the rollback. Only debug builds
/// (what `cargo test` runs) read it; release builds do not contain it.
#[cfg(debug_assertions)]
const BEFORE_PATCH_HOOK: &str = "KUBECTL_DS_TEST_BEFORE_PATCH";

/// `-o json|yaml` of `rollback`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RollbackResult {
    namespace: String,
    name: String,
    /// `RolledBack`, `Unchanged` (already on that template), `DryRun`.
    result: &'static str,
    /// The revision whose template was (or would be) restored, by its number before the rollback.
    to_revision: i64,
    /// The current revision number before the rollback.
    from_revision: Option<i64>,
    /// Unified diff from the current template to the restored one.
    diff: String,
    /// The DaemonSet's generation after the PATCH.
    #[serde(skip_serializing_if = "Option::is_none")]
    generation: Option<i64>,
}

fn ask(question: &str) -> Result<bool> {
    eprint!("{question} [y/N] ");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line)?;
    Ok(matches!(line.trim(), "y" | "Y" | "yes" | "Yes"))
}

#[cfg(not(debug_assertions))]
fn run_hook() -> Result<()> {
    Ok(())
}

#[cfg(debug_assertions)]
fn run_hook() -> Result<()> {
    if let Ok(cmd) = std::env::var(BEFORE_PATCH_HOOK) {
        let status = std::process::Command::new("sh")
            .arg("-c")
            .arg(&cmd)
            .status()?;
        if !status.success() {
            return Err(Error::input(format!(
                "{BEFORE_PATCH_HOOK} failed ({status})"
            )));
        }
    }
    Ok(())
}

pub async fn run(global: &GlobalArgs, args: &RollbackArgs, out: &Output) -> Result<Exit> {
    super::check_name("DaemonSet", &args.name)?;
    if args.to_revision < 0 {
        return Err(Error::input(format!(
            "--to-revision must be a positive integer (or 0 for the previous revision): {}",
            args.to_revision
        )));
    }
    let target = cluster::connect(global, None).await?;
    let documents = matches!(out.format, OutputFormat::Json | OutputFormat::Yaml);
    let mut first_template: Option<serde_json::Value> = None;
    for attempt in 1..=ATTEMPTS {
        let (ds, hist, snapshot) = fetch_one(&target, global, &args.name).await?;
        let namespace = ds.metadata.namespace.clone().unwrap_or_default();
        let current_template = history::daemonset_template(&ds);
        match &first_template {
            None => first_template = Some(current_template.clone()),
            Some(t) if *t != current_template => {
                return Err(Error::cluster(format!(
                    "conflict: daemonset {:?} in namespace {namespace:?} was changed by someone else during the rollback (its pod template is no longer the one read); nothing was rolled back: check `kubectl ds rollout history {}` and run the rollback again",
                    args.name, args.name
                )));
            }
            Some(_) => {}
        }
        let rev = history::find(&hist, args.to_revision).map_err(|e| match e {
            FindError::NoPrevious => Error::input(format!(
                "daemonset {:?} has no previous revision to roll back to",
                args.name
            )),
            other => Error::input(format!("daemonset {:?}: {other}", args.name)),
        })?;
        let current = hist.last();
        let from_revision = current.map(|r| r.revision);
        let result = |kind: &'static str, diff: String, generation: Option<i64>| RollbackResult {
            namespace: namespace.clone(),
            name: args.name.clone(),
            result: kind,
            to_revision: rev.revision,
            from_revision,
            diff,
            generation,
        };
        let render_doc = |r: &RollbackResult| {
            render::document::render(out.format, "RollbackResult", r)
                .map_err(|e| Error::cluster(format!("cannot encode the result: {e}")))
        };
        if history::matches(&ds, rev) {
            if documents {
                print(&render_doc(&result("Unchanged", String::new(), None))?)?;
            } else {
                print(&format!(
                    "daemonset.apps/{} skipped rollback: the current template already matches revision {}\n",
                    args.name, rev.revision
                ))?;
            }
            return Ok(Exit::Ok);
        }
        let current_yaml = crate::yaml::to_string(&current_template)
            .map_err(|e| Error::cluster(format!("cannot encode the template: {e}")))?;
        let diff = history::line_diff(
            &current_yaml,
            &template_yaml(rev)?,
            &format!("current (revision {})", from_revision.unwrap_or(0)),
            &format!("revision {}", rev.revision),
            3,
        );
        if args.dry_run {
            if documents {
                print(&render_doc(&result("DryRun", diff, None))?)?;
            } else {
                print(&format!(
                    "{}daemonset.apps/{} would be rolled back to revision {} (dry run: nothing changed)\n",
                    out.styles.diff(&diff),
                    args.name,
                    rev.revision
                ))?;
            }
            return Ok(Exit::Ok);
        }
        // Ask only a person at a terminal; scripts proceed, as kubectl does.
        if attempt == 1
            && !args.yes
            && std::io::stdin().is_terminal()
            && std::io::stderr().is_terminal()
        {
            eprint!("{}", out.styles.diff(&diff));
            if !ask(&format!(
                "Roll back daemonset {:?} to revision {}?",
                args.name, rev.revision
            ))? {
                eprintln!("rollback cancelled; nothing changed");
                return Ok(Exit::Problem);
            }
        }
        let Some(rev_obj) = snapshot
            .revisions
            .iter()
            .find(|r| r.metadata.name.as_deref() == Some(rev.name.as_str()))
        else {
            return Err(Error::cluster(format!(
                "revision {} disappeared while reading it",
                rev.revision
            )));
        };
        let rv = ds.metadata.resource_version.clone().unwrap_or_default();
        let body = history::rollback_patch(rev_obj, &rv)
            .map_err(|e| Error::cluster(format!("cannot use revision {}: {e}", rev.revision)))?;
        // From here Ctrl-C must not leave the user guessing: the single PATCH is atomic on the
        // server, so stop before it is sent, or let it finish and say it was applied.
        let interrupted = Arc::new(AtomicBool::new(false));
        let flag = interrupted.clone();
        tokio::spawn(async move {
            if tokio::signal::ctrl_c().await.is_ok() {
                flag.store(true, Ordering::SeqCst);
            }
        });
        tokio::task::spawn_blocking(run_hook)
            .await
            .map_err(|e| Error::cluster(format!("cannot run the pre-patch hook: {e}")))??;
        if interrupted.load(Ordering::SeqCst) {
            eprintln!(
                "interrupted before the rollback was sent: daemonset {:?} is unchanged",
                args.name
            );
            return Ok(Exit::Interrupted);
        }
        let api: Api<DaemonSet> = Api::namespaced(target.client.clone(), &namespace);
        let params = PatchParams::default();
        let strategic = Patch::Strategic(&body);
        let patch = api.patch(&args.name, &params, &strategic);
        let res = match target.timeout {
            Some(t) => tokio::time::timeout(t, patch)
                .await
                .map_err(|_| errors::timed_out(&target.server))?,
            None => patch.await,
        };
        match res {
            Ok(patched) => {
                // As kubectl 1.36+ warns (`DaemonSetRollbacker.Rollback`).
                let applied = ds.metadata.annotations.as_ref().is_some_and(|a| {
                    a.contains_key("kubectl.kubernetes.io/last-applied-configuration")
                });
                if applied {
                    eprintln!(
                        "warning: daemonset {:?} is managed with `kubectl apply`; the rollback does not update its last-applied-configuration, so the next apply undoes it: apply the previous configuration instead to keep it",
                        args.name
                    );
                }
                let r = result("RolledBack", diff, patched.metadata.generation);
                if documents {
                    print(&render_doc(&r)?)?;
                } else {
                    let mut text = format!(
                        "daemonset.apps/{} rolled back to the template of revision {}; the controller renumbers it to revision {}\n",
                        args.name,
                        rev.revision,
                        from_revision.unwrap_or(0) + 1
                    );
                    if args.to_revision == 0 {
                        text.push_str(&format!(
                            "note: another rollback without --to-revision flips back to the template you just left (revision {})\n",
                            from_revision.unwrap_or(0)
                        ));
                    }
                    print(&text)?;
                }
                if interrupted.load(Ordering::SeqCst) {
                    eprintln!("interrupted after the rollback was sent: it was applied in full");
                    return Ok(Exit::Interrupted);
                }
                return Ok(Exit::Ok);
            }
            Err(kube::Error::Api(s)) if s.code == 409 => {
                // Someone wrote the DaemonSet after we read it. Retry only if the template we
                // diffed against is still there (checked at the top of the loop).
                continue;
            }
            Err(e) => {
                let req = Request::new("patch", "daemonsets", Some(&namespace)).named(&args.name);
                return Err(errors::from_kube(e, &req, &target.server));
            }
        }
    }
    Err(Error::cluster(format!(
        "conflict: daemonset {:?} kept changing during the rollback ({ATTEMPTS} attempts); nothing was rolled back, try again",
        args.name
    )))
}
