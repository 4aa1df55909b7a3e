//! `kubectl ds rollback` (and `rollout undo`): restores a revision's pod template the way
//! `DaemonSetRollbacker.Rollback` in `k8s.io/kubectl/pkg/polymorphichelpers/rollback.go` does
//! (a strategic-merge PATCH with the revision's `data`), but guarded by the resourceVersion that
//! was read, so a concurrent change makes it fail instead of being overwritten.

use std::io::{BufRead, IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use k8s_openapi::api::apps::v1::DaemonSet;
use serde::Serialize;

use super::shared::{self, OneDaemonSet, check_name};
use crate::cli::RollbackArgs;
use crate::cluster::write::{self, Patched};
use crate::cluster::{Clusters, Target};
use crate::error::{Error, Exit, Result};
use crate::logic::daemon::history::{self, FindError, Revision};
use crate::logic::daemon::rollback::{self, RollbackPlan};
use crate::render::Output;
use crate::settings::Settings;

/// Attempts when the PATCH loses to a change that left the template alone (status updates,
/// labels): each one re-reads the DaemonSet and checks the template again.
const ATTEMPTS: usize = 3;

/// Test-only: a shell command run between reading the DaemonSet and patching it, so the
/// end-to-end tests can race a real concurrent update against the rollback. Only debug builds
/// (what `cargo test` runs) read it; release builds do not contain it.
#[cfg(debug_assertions)]
const BEFORE_PATCH_HOOK: &str = "KUBECTL_DS_TEST_BEFORE_PATCH";

/// What the rollback came to, in `-o json|yaml`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
enum Outcome {
    /// The PATCH was applied.
    RolledBack,
    /// Already on that template; nothing sent.
    Unchanged,
    /// `--dry-run`: the diff only.
    DryRun,
}

/// `-o json|yaml` of `rollback`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RollbackResult {
    namespace: String,
    name: String,
    result: Outcome,
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

/// How one attempt ended: done with an exit status, or lost a race and to be tried again.
enum Step {
    Done(Exit),
    Retry,
}

/// What every attempt shares.
struct Rollback<'a> {
    target: Target,
    settings: &'a Settings,
    args: &'a RollbackArgs,
}

pub async fn run(
    settings: &Settings,
    clusters: &Clusters,
    args: &RollbackArgs,
    out: &mut dyn Write,
) -> Result<Exit> {
    check_name("DaemonSet", &args.name)?;
    if args.to_revision < 0 {
        return Err(Error::input(format!(
            "--to-revision must be a positive integer (or 0 for the previous revision): {}",
            args.to_revision
        )));
    }
    let rollback = Rollback {
        target: clusters.connect().await?,
        settings,
        args,
    };
    let mut first_template: Option<serde_json::Value> = None;
    for attempt in 1..=ATTEMPTS {
        let one = shared::one_daemonset(&rollback.target, &settings.namespace, &args.name).await?;
        rollback.check_template(&one.daemonset, &mut first_template)?;
        match rollback.attempt(&one, attempt, out).await? {
            Step::Done(exit) => return Ok(exit),
            // Someone wrote the DaemonSet after we read it. Retry only if the template we
            // diffed against is still there (checked at the top of the loop).
            Step::Retry => continue,
        }
    }
    Err(Error::cluster(format!(
        "conflict: daemonset {:?} kept changing during the rollback ({ATTEMPTS} attempts); nothing was rolled back, try again",
        args.name
    )))
}

impl Rollback<'_> {
    fn output(&self) -> &Output {
        &self.settings.output
    }

    /// A retry may go on only while the template is the one first read and diffed.
    fn check_template(&self, ds: &DaemonSet, first: &mut Option<serde_json::Value>) -> Result<()> {
        let current = history::daemonset_template(ds);
        match first {
            None => *first = Some(current),
            Some(t) if *t != current => {
                let namespace = ds.metadata.namespace.clone().unwrap_or_default();
                let name = &self.args.name;
                return Err(Error::cluster(format!(
                    "conflict: daemonset {name:?} in namespace {namespace:?} was changed by someone else during the rollback (its pod template is no longer the one read); nothing was rolled back: check `kubectl ds rollout history {name}` and run the rollback again"
                )));
            }
            Some(_) => {}
        }
        Ok(())
    }

    /// The revision `--to-revision` names (0: the previous one).
    fn revision<'h>(&self, hist: &'h [Revision]) -> Result<&'h Revision> {
        let name = &self.args.name;
        history::find(hist, self.args.to_revision).map_err(|e| match e {
            FindError::NoPrevious => Error::input(format!(
                "daemonset {name:?} has no previous revision to roll back to"
            )),
            other => Error::input(format!("daemonset {name:?}: {other}")),
        })
    }

    /// One read-plan-write round.
    async fn attempt(
        &self,
        one: &OneDaemonSet,
        attempt: usize,
        out: &mut dyn Write,
    ) -> Result<Step> {
        let rev = self.revision(&one.history)?;
        let from_revision = one.history.last().map(|r| r.revision);
        let plan = rollback::plan(&one.daemonset, rev, &one.snapshot.revisions, from_revision)
            .map_err(Error::cluster)?;
        let result = |result, diff: &str, generation| RollbackResult {
            namespace: one.daemonset.metadata.namespace.clone().unwrap_or_default(),
            name: self.args.name.clone(),
            result,
            to_revision: rev.revision,
            from_revision,
            diff: diff.to_string(),
            generation,
        };
        let (diff, patch) = match &plan {
            RollbackPlan::Unchanged => {
                let text = format!(
                    "daemonset.apps/{} skipped rollback: the current template already matches revision {}\n",
                    self.args.name, rev.revision
                );
                self.emit(out, &result(Outcome::Unchanged, "", None), text)?;
                return Ok(Step::Done(Exit::Ok));
            }
            RollbackPlan::Apply { diff, patch } => (diff, patch),
        };
        if self.args.dry_run {
            let text = format!(
                "{}daemonset.apps/{} would be rolled back to revision {} (dry run: nothing changed)\n",
                self.output().styles.diff(diff),
                self.args.name,
                rev.revision
            );
            self.emit(out, &result(Outcome::DryRun, diff, None), text)?;
            return Ok(Step::Done(Exit::Ok));
        }
        if attempt == 1 && !self.confirmed(diff, rev)? {
            eprintln!("rollback cancelled; nothing changed");
            return Ok(Step::Done(Exit::Problem));
        }
        let interrupted = self.before_patch().await?;
        if interrupted.load(Ordering::SeqCst) {
            eprintln!(
                "interrupted before the rollback was sent: daemonset {:?} is unchanged",
                self.args.name
            );
            return Ok(Step::Done(Exit::Interrupted));
        }
        let ns = one.daemonset.metadata.namespace.clone().unwrap_or_default();
        let patched =
            match write::patch_daemonset(&self.target, &ns, &self.args.name, patch).await? {
                Patched::Conflict => return Ok(Step::Retry),
                Patched::Applied(ds) => ds,
            };
        self.warn_if_applied(&one.daemonset);
        let r = result(Outcome::RolledBack, diff, patched.metadata.generation);
        self.emit(out, &r, self.rolled_back_text(rev, from_revision))?;
        if interrupted.load(Ordering::SeqCst) {
            eprintln!("interrupted after the rollback was sent: it was applied in full");
            return Ok(Step::Done(Exit::Interrupted));
        }
        Ok(Step::Done(Exit::Ok))
    }

    /// The result as a document with `-o json|yaml`, else `text`.
    fn emit(&self, out: &mut dyn Write, result: &RollbackResult, text: String) -> Result<()> {
        shared::emit_report(out, self.output(), "RollbackResult", result, || Ok(text))
    }

    /// Asks only a person at a terminal; scripts proceed, as kubectl does.
    fn confirmed(&self, diff: &str, rev: &Revision) -> Result<bool> {
        if self.args.yes || !std::io::stdin().is_terminal() || !std::io::stderr().is_terminal() {
            return Ok(true);
        }
        eprint!("{}", self.output().styles.diff(diff));
        ask(&format!(
            "Roll back daemonset {:?} to revision {}?",
            self.args.name, rev.revision
        ))
    }

    /// From here Ctrl-C must not leave the user guessing: the single PATCH is atomic on the
    /// server, so stop before it is sent, or let it finish and say it was applied. The flag
    /// says whether Ctrl-C came.
    async fn before_patch(&self) -> Result<Arc<AtomicBool>> {
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
        Ok(interrupted)
    }

    /// As kubectl 1.36+ warns (`DaemonSetRollbacker.Rollback`).
    fn warn_if_applied(&self, ds: &DaemonSet) {
        let applied =
            ds.metadata.annotations.as_ref().is_some_and(|a| {
                a.contains_key("kubectl.kubernetes.io/last-applied-configuration")
            });
        if applied {
            eprintln!(
                "warning: daemonset {:?} is managed with `kubectl apply`; the rollback does not update its last-applied-configuration, so the next apply undoes it: apply the previous configuration instead to keep it",
                self.args.name
            );
        }
    }

    fn rolled_back_text(&self, rev: &Revision, from_revision: Option<i64>) -> String {
        let mut text = format!(
            "daemonset.apps/{} rolled back to the template of revision {}; the controller renumbers it to revision {}\n",
            self.args.name,
            rev.revision,
            from_revision.unwrap_or(0) + 1
        );
        if self.args.to_revision == 0 {
            text.push_str(&format!(
                "note: another rollback without --to-revision flips back to the template you just left (revision {})\n",
                from_revision.unwrap_or(0)
            ));
        }
        text
    }
}
