//! `kubectl ds coverage`.

use std::io::Write;

use futures::future::join_all;
use k8s_openapi::jiff::Timestamp;

use super::frames::{self, Ended, Frame};
use super::shared::{self, check_name, emit};
use crate::cli::CoverageArgs;
use crate::cluster::fetch::Scope;
use crate::cluster::lean::Keep;
use crate::cluster::{Clusters, Target};
use crate::error::{Error, Exit, Result};
use crate::logic::daemon::coverage::{self, ClusterError, CoverageItem, CoverageReport};
use crate::logic::daemon::pods::NodePods;
use crate::logic::snapshot::Snapshot;
use crate::render::{self, Output, OutputFormat};
use crate::settings::{Selector, Settings};

/// `coverage`'s flags, resolved.
struct Options {
    names: Vec<String>,
    selector: Option<Selector>,
    node_selector: Option<Selector>,
    fail_under: Option<f64>,
}

impl Options {
    fn resolve(args: &CoverageArgs) -> Result<Options> {
        let selector = Selector::parse("-l", args.selector.as_deref())?;
        let node_selector = Selector::parse("--nodes", args.node_selector.as_deref())?;
        if let Some(name) = &args.name {
            check_name("DaemonSet", name)?;
        }
        if let Some(p) = args.fail_under.filter(|p| !(0.0..=100.0).contains(p)) {
            return Err(Error::input(format!(
                "--fail-under {p} is not a percentage between 0 and 100"
            )));
        }
        Ok(Options {
            names: args.name.iter().cloned().collect(),
            selector,
            node_selector,
            fail_under: args.fail_under,
        })
    }

    fn scope(&self, settings: &Settings, target: &Target) -> Scope {
        shared::scope(
            &settings.namespace,
            target,
            &self.names,
            &self.selector,
            &self.node_selector,
        )
    }

    /// One DaemonSet named: its table is node by node.
    fn single(&self) -> bool {
        !self.names.is_empty()
    }
}

/// `index` may hold the pods indexed for the last snapshot (a watch keeps it between frames).
fn items(snapshot: &Snapshot, context: Option<&str>, index: &mut NodePods) -> Vec<CoverageItem> {
    coverage::compute_with(snapshot, Timestamp::now(), index)
        .into_iter()
        .map(|coverage| CoverageItem {
            context: context.map(str::to_string),
            coverage,
        })
        .collect()
}

pub async fn run(
    settings: &Settings,
    clusters: &Clusters,
    args: &CoverageArgs,
    out: &mut dyn Write,
) -> Result<Exit> {
    let options = Options::resolve(args)?;
    if let Some(contexts) = clusters.contexts(args.all_contexts).await? {
        if args.watch {
            return Err(Error::input(
                "--watch follows one cluster; drop --all-contexts or the context list",
            ));
        }
        return multi(settings, clusters, &options, &contexts, out).await;
    }
    let target = clusters.connect().await?;
    let scope = options.scope(settings, &target);
    if args.watch {
        return watch(&target, &scope, options.single(), &settings.output, out).await;
    }
    let snapshot = shared::snapshot(&target, &scope, Keep::Coverage).await?;
    let report = CoverageReport {
        items: items(&snapshot, None, &mut NodePods::default()),
        errors: Vec::new(),
    };
    emit(
        out,
        &render_report(&settings.output, &report, options.single())?,
    )?;
    Ok(verdict(&report, options.fail_under))
}

fn render_report(out: &Output, report: &CoverageReport, single: bool) -> Result<String> {
    shared::report_text(out, "CoverageReport", report, || {
        Ok(render::coverage::render(out, report, single))
    })
}

/// 3 when a cluster could not be reported on; 1 when a DaemonSet is under `--fail-under`,
/// naming them on stderr.
fn verdict(report: &CoverageReport, fail_under: Option<f64>) -> Exit {
    if !report.errors.is_empty() {
        return Exit::Cluster;
    }
    let Some(bar) = fail_under else {
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
    settings: &Settings,
    clusters: &Clusters,
    options: &Options,
    contexts: &[String],
    out: &mut dyn Write,
) -> Result<Exit> {
    let runs = contexts.iter().map(|ctx| async move {
        let res = async {
            let target = clusters.connect_to(ctx).await?;
            let scope = options.scope(settings, &target);
            shared::snapshot(&target, &scope, Keep::Coverage).await
        }
        .await;
        (ctx.clone(), res)
    });
    let mut report = CoverageReport::default();
    for (ctx, res) in join_all(runs).await {
        match res {
            Ok(snapshot) => {
                report
                    .items
                    .extend(items(&snapshot, Some(&ctx), &mut NodePods::default()))
            }
            Err(e) => report.errors.push(ClusterError {
                context: ctx,
                error: e.to_string(),
            }),
        }
    }
    emit(out, &render_report(&settings.output, &report, false)?)?;
    Ok(verdict(&report, options.fail_under))
}

/// Re-renders on every change. On a terminal the screen is redrawn; piped, each state is
/// printed in turn (as JSON lines with -o json). Ctrl-C ends it with code 130.
async fn watch(
    target: &Target,
    scope: &Scope,
    single: bool,
    out: &Output,
    writer: &mut dyn Write,
) -> Result<Exit> {
    super::wait_for_server(target).await?;
    let mut index = NodePods::default();
    let ended = frames::follow(
        target,
        scope,
        Keep::Coverage,
        out.tty,
        writer,
        |snapshot, screen| {
            let report = CoverageReport {
                items: items(&snapshot, None, &mut index),
                errors: Vec::new(),
            };
            let text = match out.format {
                OutputFormat::Json => serde_json::to_string(&report)
                    .map(|s| s + "\n")
                    .map_err(|e| Error::cluster(e.to_string()))?,
                _ if screen.tty && out.format != OutputFormat::Yaml => {
                    render::coverage::frame(out, &report, single, screen.height)
                }
                _ => render_report(out, &report, single)?,
            };
            let piped = match out.format {
                OutputFormat::Json => text.clone(),
                _ => format!("{text}\n"),
            };
            Ok(Frame {
                screen: text.clone(),
                key: text,
                piped,
                done: None,
            })
        },
    )
    .await?;
    Ok(match ended {
        Ended::Interrupted => Exit::Interrupted,
        Ended::Done(code) => code,
        Ended::Closed => Exit::Ok,
    })
}
