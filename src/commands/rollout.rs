//! `kubectl ds rollout status|history|undo`.

use std::io::Write;

use k8s_openapi::jiff::Timestamp;
use serde::Serialize;

use super::frames::{self, Ended, Frame};
use super::shared::{self, check_name, emit, template_yaml};
use crate::cli::{RolloutHistoryArgs, RolloutStatusArgs};
use crate::cluster::fetch::Scope;
use crate::cluster::lean::Keep;
use crate::cluster::{Clusters, Target};
use crate::error::{Error, Exit, Result};
use crate::logic::daemon::history::{self, Revision};
use crate::logic::daemon::revisions;
use crate::logic::daemon::rollout::{self, RolloutStatus, State};
use crate::logic::snapshot::Snapshot;
use crate::render::{self, Output};
use crate::settings::{Selector, Settings, Timeout};

/// `rollout status`'s flags, resolved.
struct StatusOptions {
    names: Vec<String>,
    selector: Option<Selector>,
    revision: Option<i64>,
    timeout: Timeout,
    /// `kubectl rollout status NAME --timeout 60s` watches, since kubectl watches by default.
    watching: bool,
}

impl StatusOptions {
    fn resolve(args: &RolloutStatusArgs) -> Result<StatusOptions> {
        let selector = Selector::parse("-l", args.selector.as_deref())?;
        for n in &args.names {
            check_name("DaemonSet", n)?;
        }
        if let Some(n) = args.revision.filter(|n| *n <= 0) {
            return Err(Error::input(format!(
                "revision must be a positive integer: {n}"
            )));
        }
        let timeout = Timeout::parse("--timeout", &args.timeout)?;
        Ok(StatusOptions {
            names: args.names.clone(),
            selector,
            revision: args.revision,
            watching: args.watch || timeout.limit.is_some(),
            timeout,
        })
    }
}

/// `-o json|yaml` of `rollout status`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RolloutStatusReport {
    /// The worst state over all items; the exit code follows from it.
    pub state: State,
    pub items: Vec<RolloutStatus>,
}

/// Status of every DaemonSet in the snapshot, with `--revision` applied.
fn statuses(
    snapshot: &Snapshot,
    revision: Option<i64>,
    failures: &rollout::Failures,
) -> Vec<RolloutStatus> {
    let mut items = rollout::compute(snapshot, Timestamp::now(), failures);
    if let Some(n) = revision {
        for s in &mut items {
            rollout::require_revision(s, n);
        }
    }
    items
}

/// 0 when every rollout is complete (or, without --watch, still progressing, as
/// `kubectl rollout status --watch=false`); 1 when one is stuck or waits for pod deletions.
fn exit_for(state: State, watching: bool) -> Exit {
    match state {
        State::Complete => Exit::Ok,
        State::Progressing if !watching => Exit::Ok,
        _ => Exit::Problem,
    }
}

fn render_status(out: &Output, items: Vec<RolloutStatus>) -> Result<String> {
    let report = RolloutStatusReport {
        state: rollout::overall(&items),
        items,
    };
    shared::report_text(out, "RolloutStatusReport", &report, || {
        Ok(render::rollout::status(out, &report.items))
    })
}

/// `rollout status [NAME...]`, once or following the rollouts.
pub async fn status(
    settings: &Settings,
    clusters: &Clusters,
    args: &RolloutStatusArgs,
    writer: &mut dyn Write,
) -> Result<Exit> {
    let options = StatusOptions::resolve(args)?;
    let out = &settings.output;
    let target = clusters.connect().await?;
    if options.watching {
        super::wait_for_server(&target).await?;
    }
    let scope = shared::scope(
        &settings.namespace,
        &target,
        &options.names,
        &options.selector,
        &None,
    );
    // One fetch first: unknown names and missing permissions fail here, before any watch.
    let snapshot = shared::snapshot(&target, &scope, Keep::Lean).await?;
    if snapshot.daemonsets.is_empty() {
        // Nothing to wait for, as kubectl's "No resources found"; documents stay parseable.
        if out.format.is_document() {
            emit(writer, &render_status(out, Vec::new())?)?;
        } else {
            eprintln!("No DaemonSets found.");
        }
        return Ok(Exit::Ok);
    }
    if let Some(n) = options.revision {
        check_revision_exists(&snapshot, n)?;
    }
    let items = statuses(&snapshot, options.revision, &rollout::Failures::default());
    let state = rollout::overall(&items);
    if !options.watching || state != State::Progressing {
        emit(writer, &render_status(out, items)?)?;
        return Ok(exit_for(state, options.watching));
    }
    watch_status(&target, &scope, &options, out, writer).await
}

/// `--revision N` beyond every DaemonSet's current revision, once the controller has seen the
/// latest spec, would wait for a revision nothing is going to create.
fn check_revision_exists(snapshot: &Snapshot, n: i64) -> Result<()> {
    for ds in &snapshot.daemonsets {
        if let Some(current) = revisions::beyond_current(ds, &snapshot.revisions, n) {
            let name = ds.metadata.name.as_deref().unwrap_or_default();
            return Err(Error::input(format!(
                "daemonset {name:?} has no revision {n}: its current revision is {current} and the controller has seen its latest spec; `kubectl ds rollout history {name}` lists the revisions"
            )));
        }
    }
    Ok(())
}

/// Follows the rollouts from watches until all are complete (0), one is stuck or waits for
/// deletions (1), the timeout expires (1) or Ctrl-C (130). On a terminal the view is redrawn;
/// piped, each DaemonSet's message is printed when it changes.
async fn watch_status(
    target: &Target,
    scope: &Scope,
    args: &StatusOptions,
    out: &Output,
    writer: &mut dyn Write,
) -> Result<Exit> {
    let timeout = args.timeout.limit;
    let documents = out.format.is_document();
    let mut last_lines: Vec<String> = Vec::new();
    let mut last: Option<Vec<RolloutStatus>> = None;
    // Failed pods seen so far: one the controller replaces is not stuck, one that keeps
    // failing is.
    let mut failures = rollout::Failures::default();
    let follow = frames::follow(
        target,
        scope,
        Keep::Lean,
        out.tty,
        writer,
        |snapshot, screen| {
            failures.observe(&snapshot);
            let items = statuses(&snapshot, args.revision, &failures);
            let state = rollout::overall(&items);
            let lines: Vec<String> = items
                .iter()
                .map(|s| format!("{}/{}: {}", s.namespace, s.name, s.message))
                .collect();
            let mut frame = Frame {
                key: lines.join("\n"),
                done: (state != State::Progressing).then(|| exit_for(state, true)),
                ..Frame::default()
            };
            if !documents {
                if screen.tty {
                    let text = render::rollout::status(out, &items);
                    frame.screen = render::fit::to_height(&text, screen.height);
                }
                for (i, l) in lines.iter().enumerate() {
                    if last_lines.get(i) != Some(l) {
                        frame.piped.push_str(l);
                        frame.piped.push('\n');
                    }
                }
            }
            last_lines = lines;
            last = Some(items);
            Ok(frame)
        },
    );
    let expired = async {
        match timeout {
            Some(t) => tokio::time::sleep(t).await,
            None => std::future::pending().await,
        }
    };
    let (finished, timed_out) = tokio::select! {
        r = follow => match r? {
            Ended::Interrupted => return Ok(Exit::Interrupted),
            Ended::Done(code) => (Some(code), false),
            Ended::Closed => (None, false),
        },
        _ = expired => (None, true),
    };
    let items = last.unwrap_or_default();
    if documents {
        emit(writer, &render_status(out, items.clone())?)?;
    } else if !out.tty && finished.is_some() {
        // The detail of the final state, after the progress lines.
        let detail = render::rollout::status(out, &items);
        emit(writer, &format!("\n{detail}"))?;
    }
    if timed_out {
        report_timeout(args, &items);
        return Ok(Exit::Problem);
    }
    Ok(finished.unwrap_or(Exit::Problem))
}

/// `--timeout` ran out: which rollouts were still going, and in what state.
fn report_timeout(args: &StatusOptions, items: &[RolloutStatus]) {
    let pending: Vec<String> = items
        .iter()
        .filter(|s| !s.is_done())
        .map(|s| format!("{}/{} ({})", s.namespace, s.name, s.state.as_str()))
        .collect();
    eprintln!(
        "error: timed out after {} waiting for the rollout of {}",
        args.timeout.text,
        pending.join(", ")
    );
}

fn find(hist: &[Revision], n: i64) -> Result<&Revision> {
    if n <= 0 {
        return Err(Error::input(format!(
            "revision must be a positive integer: {n}"
        )));
    }
    history::find(hist, n).map_err(|e| Error::input(e.to_string()))
}

/// `-o json|yaml` of `rollout history`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RolloutHistory<'a> {
    namespace: String,
    name: String,
    revisions: Vec<&'a Revision>,
}

/// `rollout history NAME [--revision N] [--diff [A [B]]]`.
pub async fn history(
    settings: &Settings,
    clusters: &Clusters,
    args: &RolloutHistoryArgs,
    out: &mut dyn Write,
) -> Result<Exit> {
    check_name("DaemonSet", &args.name)?;
    let numbers = args.revision.iter().chain(args.diff.iter().flatten());
    if let Some(n) = numbers.copied().find(|n| *n <= 0) {
        return Err(Error::input(format!(
            "revision must be a positive integer: {n}"
        )));
    }
    let target = clusters.connect().await?;
    let one = shared::one_daemonset(&target, &settings.namespace, &args.name).await?;
    if let Some(diff) = &args.diff {
        return history_diff(&settings.output, &one.history, diff, args.revision, out);
    }
    let namespace = one.daemonset.metadata.namespace.clone().unwrap_or_default();
    let text = history_text(&settings.output, args, namespace, &one.history)?;
    emit(out, &text)?;
    Ok(Exit::Ok)
}

/// The revisions (without their templates), or with `--revision N` that one with its template.
fn history_text(
    output: &Output,
    args: &RolloutHistoryArgs,
    namespace: String,
    hist: &[Revision],
) -> Result<String> {
    let selected: Vec<Revision> = match args.revision {
        Some(n) => vec![find(hist, n)?.clone()],
        None => hist
            .iter()
            .cloned()
            .map(|mut r| {
                r.template = serde_json::Value::Null;
                r
            })
            .collect(),
    };
    let doc = RolloutHistory {
        namespace,
        name: args.name.clone(),
        revisions: selected.iter().collect(),
    };
    shared::report_text(output, "RolloutHistory", &doc, || {
        Ok(match &selected[..] {
            [one] if args.revision.is_some() => format!(
                "daemonset.apps/{} revision {}{}\n{}",
                args.name,
                one.revision,
                if one.current { " (current)" } else { "" },
                template_yaml(one)?
            ),
            _ => render::rollout::history(output, &selected, Timestamp::now()),
        })
    })
}

/// `--diff A B`, `--diff A` or `--revision N --diff`: through `KUBECTL_EXTERNAL_DIFF` when set.
fn history_diff(
    output: &Output,
    hist: &[Revision],
    diff: &[i64],
    revision: Option<i64>,
    out: &mut dyn Write,
) -> Result<Exit> {
    let current = hist
        .last()
        .ok_or_else(|| Error::input("No rollout history found."))?;
    let (a, b) = match (diff, revision) {
        ([], Some(n)) => (find(hist, n)?, current),
        ([a], None) => (find(hist, *a)?, current),
        ([a, b], None) => (find(hist, *a)?, find(hist, *b)?),
        _ => {
            return Err(Error::input(
                "use --diff A B, --diff A (against the current revision) or --revision N --diff",
            ));
        }
    };
    let (ya, yb) = (template_yaml(a)?, template_yaml(b)?);
    let (la, lb) = (
        format!("revision {}", a.revision),
        format!("revision {}", b.revision),
    );
    if let Some(code) = external_diff(&ya, &yb, &la, &lb)? {
        return Ok(code);
    }
    let d = history::line_diff(&ya, &yb, &la, &lb, 3);
    if d.is_empty() {
        emit(
            out,
            &format!(
                "revisions {} and {} have the same pod template\n",
                a.revision, b.revision
            ),
        )?;
    } else {
        emit(out, &output.styles.diff(&d))?;
    }
    Ok(Exit::Ok)
}

/// Runs `KUBECTL_EXTERNAL_DIFF` (a command and its arguments, split on whitespace, as kubectl
/// does) on two temporary files; `None` when it is not set. Its exit code 1 means "differ".
pub fn external_diff(a: &str, b: &str, label_a: &str, label_b: &str) -> Result<Option<Exit>> {
    let Some(cmd) = std::env::var("KUBECTL_EXTERNAL_DIFF")
        .ok()
        .filter(|s| !s.trim().is_empty())
    else {
        return Ok(None);
    };
    let mut words = cmd.split_whitespace();
    let Some(program) = words.next() else {
        return Ok(None);
    };
    let dir = std::env::temp_dir().join(format!("kubectl-ds-diff-{}", std::process::id()));
    std::fs::create_dir_all(&dir)?;
    let pa = dir.join(label_a.replace(' ', "-"));
    let pb = dir.join(label_b.replace(' ', "-"));
    let pb = if pa == pb {
        dir.join(format!("{}.b", label_b.replace(' ', "-")))
    } else {
        pb
    };
    std::fs::write(&pa, a)?;
    std::fs::write(&pb, b)?;
    let status = std::process::Command::new(program)
        .args(words)
        .arg(&pa)
        .arg(&pb)
        .status();
    let _ = std::fs::remove_dir_all(&dir);
    match status {
        Ok(s) if matches!(s.code(), Some(0) | Some(1)) => Ok(Some(Exit::Ok)),
        Ok(s) => Err(Error::input(format!(
            "KUBECTL_EXTERNAL_DIFF {cmd:?} failed ({s})"
        ))),
        Err(e) => Err(Error::input(format!(
            "cannot run KUBECTL_EXTERNAL_DIFF {cmd:?}: {e}"
        ))),
    }
}
