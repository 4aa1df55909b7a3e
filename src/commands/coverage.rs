//! `kubectl ds coverage`.

use std::io::IsTerminal;

use futures::future::join_all;
use k8s_openapi::jiff::Timestamp;

use super::{check_name, check_selector, print};
use crate::cli::{CoverageArgs, GlobalArgs, OutputFormat};
use crate::cluster::fetch::{self, Scope};
use crate::cluster::lean::Keep;
use crate::cluster::watch::{self, Update};
use crate::cluster::{self, Target};
use crate::error::{Error, Exit, Result};
use crate::logic::daemon::coverage::{self, ClusterError, CoverageItem, CoverageReport};
use crate::logic::snapshot::Snapshot;
use crate::render::{self, Output};

/// The DaemonSets, namespaces and nodes the flags select on one cluster.
pub fn scope(
    global: &GlobalArgs,
    target: &Target,
    names: &[String],
    selector: Option<&str>,
    node_selector: Option<&str>,
) -> Scope {
    Scope {
        namespace: if global.all_namespaces {
            None
        } else {
            Some(
                global
                    .namespace
                    .clone()
                    .unwrap_or_else(|| target.namespace.clone()),
            )
        },
        names: names.to_vec(),
        selector: selector.map(str::to_string),
        node_selector: node_selector.map(str::to_string),
    }
}

/// With `-A` a named DaemonSet is looked up in every namespace. Nothing found in a namespace
/// that does not exist says so.
pub async fn fetch(target: &Target, scope: &Scope, keep: Keep) -> Result<Snapshot> {
    let namespace = scope.namespace.as_deref();
    match fetch_in_scope(target, scope, keep).await {
        Ok(snap) if snap.daemonsets.is_empty() => {
            super::check_namespace(target, namespace).await?;
            Ok(snap)
        }
        Err(Error::Input(m)) => {
            super::check_namespace(target, namespace).await?;
            Err(Error::Input(m))
        }
        other => other,
    }
}

async fn fetch_in_scope(target: &Target, scope: &Scope, keep: Keep) -> Result<Snapshot> {
    if scope.namespace.is_none() && !scope.names.is_empty() {
        let all = Scope {
            names: Vec::new(),
            ..scope.clone()
        };
        let mut snap = fetch::snapshot(target, &all, keep).await?;
        snap.daemonsets.retain(|d| {
            d.metadata
                .name
                .as_ref()
                .is_some_and(|n| scope.names.contains(n))
        });
        if snap.daemonsets.is_empty() {
            return Err(Error::input(format!(
                "daemonset {:?} not found in any namespace",
                scope.names.join(",")
            )));
        }
        return Ok(snap);
    }
    fetch::snapshot(target, scope, keep).await
}

fn items(snapshot: &Snapshot, context: Option<&str>) -> Vec<CoverageItem> {
    coverage::compute(snapshot, Timestamp::now())
        .into_iter()
        .map(|coverage| CoverageItem {
            context: context.map(str::to_string),
            coverage,
        })
        .collect()
}

fn contexts(global: &GlobalArgs) -> Option<Vec<String>> {
    global
        .context
        .as_deref()
        .filter(|c| c.contains(','))
        .map(|c| {
            c.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect()
        })
}

pub async fn run(global: &GlobalArgs, args: &CoverageArgs, out: &Output) -> Result<Exit> {
    check_selector("-l", args.selector.as_deref())?;
    check_selector("--nodes", args.node_selector.as_deref())?;
    if let Some(name) = &args.name {
        check_name("DaemonSet", name)?;
    }
    if let Some(p) = args.fail_under.filter(|p| !(0.0..=100.0).contains(p)) {
        return Err(Error::input(format!(
            "--fail-under {p} is not a percentage between 0 and 100"
        )));
    }
    let names: Vec<String> = args.name.iter().cloned().collect();
    let many = if args.all_contexts {
        Some(cluster::context_names(global).await?)
    } else {
        contexts(global)
    };
    if let Some(contexts) = many {
        if args.watch {
            return Err(Error::input(
                "--watch follows one cluster; drop --all-contexts or the context list",
            ));
        }
        return multi(global, args, &names, &contexts, out).await;
    }
    let target = cluster::connect(global, None).await?;
    let scope = scope(
        global,
        &target,
        &names,
        args.selector.as_deref(),
        args.node_selector.as_deref(),
    );
    if args.watch {
        return watch(&target, &scope, args, out).await;
    }
    let snapshot = fetch(&target, &scope, Keep::Coverage).await?;
    let report = CoverageReport {
        items: items(&snapshot, None),
        errors: Vec::new(),
    };
    print(&render_report(out, &report, args.name.is_some())?)?;
    Ok(verdict(&report, args))
}

fn render_report(out: &Output, report: &CoverageReport, single: bool) -> Result<String> {
    match out.format {
        OutputFormat::Json | OutputFormat::Yaml => {
            render::document::render(out.format, "CoverageReport", report)
                .map_err(|e| Error::cluster(format!("cannot encode the report: {e}")))
        }
        _ => Ok(render::coverage::render(out, report, single)),
    }
}

/// 3 when a cluster could not be reported on; 1 when a DaemonSet is under `--fail-under`,
/// naming them on stderr.
fn verdict(report: &CoverageReport, args: &CoverageArgs) -> Exit {
    if !report.errors.is_empty() {
        return Exit::Cluster;
    }
    let Some(bar) = args.fail_under else {
        return Exit::Ok;
    };
    let under: Vec<String> = report
        .under(bar)
        .map(|i| {
            let c = &i.coverage;
            let ctx = i
                .context
                .as_deref()
                .map(|c| format!("{c}: "))
                .unwrap_or_default();
            format!(
                "{ctx}{}/{} ({:.1}%)",
                c.namespace, c.name, c.summary.coverage_percent
            )
        })
        .collect();
    if under.is_empty() {
        return Exit::Ok;
    }
    eprintln!(
        "coverage is under --fail-under {bar}% for {}: {}",
        render::plural(under.len(), "DaemonSet"),
        under.join(", ")
    );
    Exit::Problem
}

/// Several clusters in parallel; a cluster that fails is a row with its error.
async fn multi(
    global: &GlobalArgs,
    args: &CoverageArgs,
    names: &[String],
    contexts: &[String],
    out: &Output,
) -> Result<Exit> {
    let runs = contexts.iter().map(|ctx| async move {
        let res = async {
            let target = cluster::connect(global, Some(ctx)).await?;
            let scope = scope(
                global,
                &target,
                names,
                args.selector.as_deref(),
                args.node_selector.as_deref(),
            );
            fetch(&target, &scope, Keep::Coverage).await
        }
        .await;
        (ctx.clone(), res)
    });
    let mut report = CoverageReport::default();
    for (ctx, res) in join_all(runs).await {
        match res {
            Ok(snapshot) => report.items.extend(items(&snapshot, Some(&ctx))),
            Err(e) => report.errors.push(ClusterError {
                context: ctx,
                error: e.to_string(),
            }),
        }
    }
    print(&render_report(out, &report, false)?)?;
    Ok(verdict(&report, args))
}

/// Re-renders on every change. On a terminal the screen is redrawn; piped, each state is
/// printed in turn (as JSON lines with -o json). Ctrl-C ends it with code 130.
async fn watch(target: &Target, scope: &Scope, args: &CoverageArgs, out: &Output) -> Result<Exit> {
    super::wait_for_server(target).await?;
    let tty = std::io::stdout().is_terminal();
    let single = args.name.is_some();
    let mut last: Option<String> = None;
    let mut failure: Option<Error> = None;
    let follow = watch::follow(target, scope, |update| match update {
        Update::Snapshot(snapshot) => {
            let report = CoverageReport {
                items: items(&snapshot, None),
                errors: Vec::new(),
            };
            let text = match out.format {
                OutputFormat::Json => serde_json::to_string(&report)
                    .map(|mut s| {
                        s.push('\n');
                        s
                    })
                    .map_err(|e| Error::cluster(e.to_string())),
                _ if tty && out.format != OutputFormat::Yaml => Ok(render::coverage::frame(
                    out,
                    &report,
                    single,
                    super::screen().map(|(_, h)| h),
                )),
                _ => render_report(out, &report, single),
            };
            let text = match text {
                Ok(t) => t,
                Err(e) => {
                    failure = Some(e);
                    return false;
                }
            };
            if last.as_ref() == Some(&text) {
                return true;
            }
            let frame = if tty {
                format!("\x1b[2J\x1b[H{text}")
            } else if out.format == OutputFormat::Json {
                text.clone()
            } else {
                format!("{text}\n")
            };
            if let Err(e) = print(&frame) {
                failure = Some(e);
                return false;
            }
            last = Some(text);
            true
        }
        Update::Trouble(msg) => {
            eprintln!("warning: lost the watch ({msg}); retrying");
            true
        }
    });
    tokio::select! {
        r = follow => r?,
        _ = tokio::signal::ctrl_c() => {
            return Ok(Exit::Interrupted);
        }
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(Exit::Ok),
    }
}
