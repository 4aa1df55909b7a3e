//! The command line, and nothing else: clap definitions of every command and flag.

use clap::{Args, Parser, Subcommand};

use crate::render::OutputFormat;

/// DaemonSet coverage, placement explanations, rollouts and previews, against a live cluster.
#[derive(Debug, Parser)]
#[command(
    name = "kubectl-ds",
    bin_name = "kubectl ds",
    version,
    about,
    after_help = "Exit codes: 0 ok, 1 the check found a problem, 2 usage or input error, 3 cluster or API error."
)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,
    #[command(subcommand)]
    pub command: Command,
}

/// Flags kubectl users expect on every command.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Path to the kubeconfig file (default: $KUBECONFIG, then ~/.kube/config).
    #[arg(long, global = true, value_name = "PATH")]
    pub kubeconfig: Option<String>,
    /// Kubeconfig context to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub context: Option<String>,
    /// Kubeconfig cluster to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub cluster: Option<String>,
    /// Kubeconfig user to use.
    #[arg(long, global = true, value_name = "NAME")]
    pub user: Option<String>,
    /// Namespace (default: the context's namespace).
    #[arg(short = 'n', long, global = true, value_name = "NS")]
    pub namespace: Option<String>,
    /// How long to wait for the API server before giving up (e.g. 10s, 1m; 0 = no limit).
    #[arg(long, global = true, value_name = "DURATION", default_value = "0")]
    pub request_timeout: String,
    /// Output format.
    #[arg(short = 'o', long, global = true, value_enum, default_value_t = OutputFormat::Table)]
    pub output: OutputFormat,
    /// Never colour the output (NO_COLOR is honoured too; colour is used only on a terminal).
    #[arg(long, global = true)]
    pub no_color: bool,
    /// Username to impersonate for the operation.
    #[arg(long = "as", global = true, value_name = "USER")]
    pub as_user: Option<String>,
    /// Group to impersonate; repeat for several.
    #[arg(long = "as-group", global = true, value_name = "GROUP")]
    pub as_group: Vec<String>,
}

/// `-A`, only on the commands that can look in every namespace.
#[derive(Debug, Args, Clone, Copy, Default)]
pub struct AllNamespaces {
    /// All namespaces.
    #[arg(short = 'A', long)]
    pub all_namespaces: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Which nodes that should run a DaemonSet don't, and which pods sit where they shouldn't.
    Coverage(CoverageArgs),
    /// Why a node has no daemon pod, or a broken one: one verdict per DaemonSet and node.
    #[command(subcommand)]
    Explain(ExplainCommand),
    /// Rollout status and history of DaemonSets.
    #[command(subcommand)]
    Rollout(RolloutCommand),
    /// Restore a DaemonSet's pod template from an earlier revision.
    Rollback(RollbackArgs),
    /// Where a DaemonSet manifest would land, or what a new node would get, before either exists.
    Preview(PreviewArgs),
    /// What the DaemonSets take of each kind of node, and what is left for workloads.
    Overhead(OverheadArgs),
    /// Print a shell completion script.
    Completion(CompletionArgs),
    /// Print completion candidates (used by kubectl_complete-ds).
    #[command(name = "__complete", hide = true)]
    Complete(CompleteArgs),
}

#[derive(Debug, Args, Clone, Default)]
#[command(after_help = COVERAGE_EXAMPLES)]
pub struct CoverageArgs {
    /// Only this DaemonSet.
    pub name: Option<String>,
    #[command(flatten)]
    pub all: AllNamespaces,
    /// Only DaemonSets matching this label selector.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Only nodes matching this label selector.
    #[arg(long = "nodes", value_name = "NODE_SELECTOR")]
    pub node_selector: Option<String>,
    /// Exit 1 when any DaemonSet's coverage is below this percentage.
    #[arg(long, value_name = "PCT")]
    pub fail_under: Option<f64>,
    /// Re-render on every change until interrupted.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Every context in the kubeconfig, each as its own cluster.
    #[arg(long)]
    pub all_contexts: bool,
}

const COVERAGE_EXAMPLES: &str = "\
--context also takes a comma-separated list of contexts, each reported as its own cluster.

Examples:
  # Every DaemonSet in every namespace
  kubectl ds coverage -A

  # One DaemonSet, node by node
  kubectl ds coverage fluent-bit -n logging

  # Fail a pipeline when a DaemonSet covers less than 95% of its nodes, in two clusters
  kubectl ds coverage -A --fail-under 95 --context prod-eu,prod-us";

/// Printing a script talks to no cluster, so its help leaves out kubectl's global flags (still
/// accepted): clap's `{options}` would list them, and `--help` is the only option of its own.
#[derive(Debug, Args)]
#[command(
    after_help = COMPLETION_EXAMPLES,
    help_template = "{about-with-newline}\n{usage-heading} {usage}\n\nArguments:\n{positionals}\n\nOptions:\n  -h, --help  Print help{after-help}"
)]
pub struct CompletionArgs {
    /// The shell to print the script for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

const COMPLETION_EXAMPLES: &str = "\
`kubectl ds <TAB>` completes through kubectl_complete-ds instead (kubectl 1.26 or newer).

Examples:
  # bash, for the current shell
  source <(kubectl-ds completion bash)

  # zsh, installed for every new shell
  kubectl-ds completion zsh > \"${fpath[1]}/_kubectl-ds\"";

#[derive(Debug, Args)]
pub struct CompleteArgs {
    /// The words typed after `kubectl ds`, the last one being completed.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    pub words: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub enum ExplainCommand {
    /// Every DaemonSet in scope (or the ones named) on one node, worst first.
    Node(ExplainNodeArgs),
    /// One DaemonSet on every node, grouped by reason.
    #[command(name = "ds", alias = "daemonset")]
    Ds(ExplainDsArgs),
}

#[derive(Debug, Args, Clone)]
#[command(after_help = EXPLAIN_NODE_EXAMPLES)]
pub struct ExplainNodeArgs {
    /// The node.
    pub node: String,
    /// Only these DaemonSets.
    pub daemonsets: Vec<String>,
    #[command(flatten)]
    pub all: AllNamespaces,
}

const EXPLAIN_NODE_EXAMPLES: &str = "\
Examples:
  # Every DaemonSet of every namespace on node worker-7
  kubectl ds explain node worker-7 -A

  # Only two DaemonSets of kube-system
  kubectl ds explain node worker-7 -n kube-system kube-proxy cilium";

#[derive(Debug, Args, Clone)]
#[command(after_help = EXPLAIN_DS_EXAMPLES)]
pub struct ExplainDsArgs {
    /// The DaemonSet.
    pub name: String,
    #[command(flatten)]
    pub all: AllNamespaces,
}

const EXPLAIN_DS_EXAMPLES: &str = "\
Examples:
  # Why fluent-bit runs, or not, on each node, grouped by reason
  kubectl ds explain ds fluent-bit -n logging

  # The same as JSON, one verdict per node
  kubectl ds explain ds fluent-bit -n logging -o json";

#[derive(Debug, Subcommand)]
pub enum RolloutCommand {
    /// Whether the rollouts are done, and which nodes hold them up.
    Status(RolloutStatusArgs),
    /// The revisions of a DaemonSet, or one revision's template, or a diff of two.
    History(RolloutHistoryArgs),
    /// Same as `kubectl ds rollback`.
    Undo(RollbackArgs),
}

#[derive(Debug, Args, Clone, Default)]
#[command(after_help = ROLLOUT_STATUS_EXAMPLES)]
pub struct RolloutStatusArgs {
    /// DaemonSets (all in scope when none is named and -l is not given).
    pub names: Vec<String>,
    #[command(flatten)]
    pub all: AllNamespaces,
    /// Only DaemonSets matching this label selector.
    #[arg(short = 'l', long, value_name = "SELECTOR")]
    pub selector: Option<String>,
    /// Follow the rollouts until they are done, stuck or the timeout expires.
    #[arg(short = 'w', long)]
    pub watch: bool,
    /// Follow the rollouts (implies --watch), giving up after this long (e.g. 30s, 5m; 0 =
    /// never) with exit 1.
    #[arg(long, value_name = "DURATION", default_value = "0")]
    pub timeout: String,
    /// Only done when this revision is the current one.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub revision: Option<i64>,
}

const ROLLOUT_STATUS_EXAMPLES: &str = "\
Examples:
  # Every rollout in kube-system, once
  kubectl ds rollout status -n kube-system

  # Follow one rollout until it is done, for at most five minutes
  kubectl ds rollout status cilium -n kube-system --timeout 5m

  # Wait until revision 4 is rolled out everywhere
  kubectl ds rollout status cilium -n kube-system --watch --revision 4";

#[derive(Debug, Args, Clone, Default)]
#[command(after_help = ROLLOUT_HISTORY_EXAMPLES)]
pub struct RolloutHistoryArgs {
    /// The DaemonSet.
    pub name: String,
    /// Show this revision's pod template.
    #[arg(long, value_name = "N", allow_negative_numbers = true)]
    pub revision: Option<i64>,
    /// Diff two revisions' templates (`--diff A B`); with one number or with --revision N,
    /// that revision against the current one.
    #[arg(long, value_name = "REV", num_args = 0..=2, allow_negative_numbers = true)]
    pub diff: Option<Vec<i64>>,
}

const ROLLOUT_HISTORY_EXAMPLES: &str = "\
Examples:
  # The revisions of fluent-bit, with their images and pods
  kubectl ds rollout history fluent-bit -n logging

  # What changed from revision 3 to the current one
  kubectl ds rollout history fluent-bit -n logging --diff 3";

#[derive(Debug, Args, Clone, Default)]
#[command(after_help = ROLLBACK_EXAMPLES)]
pub struct RollbackArgs {
    /// The DaemonSet.
    pub name: String,
    /// The revision to restore (default: the previous one, as kubectl does).
    #[arg(
        long,
        value_name = "N",
        default_value_t = 0,
        allow_negative_numbers = true
    )]
    pub to_revision: i64,
    /// Print the template diff and change nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Do not ask for confirmation (it is only asked on a terminal).
    #[arg(short = 'y', long)]
    pub yes: bool,
}

const ROLLBACK_EXAMPLES: &str = "\
Examples:
  # Back to the previous revision, after showing the diff
  kubectl ds rollback fluent-bit -n logging

  # What restoring revision 2 would change, without changing anything
  kubectl ds rollback fluent-bit -n logging --to-revision 2 --dry-run";

#[derive(Debug, Args, Clone)]
#[command(group(clap::ArgGroup::new("what").required(true).args(["file", "node", "node_like"])))]
#[command(after_help = PREVIEW_EXAMPLES)]
pub struct PreviewArgs {
    /// DaemonSet manifest file (YAML or JSON, several documents allowed), or - for standard input.
    #[arg(short = 'f', long = "filename", value_name = "FILE")]
    pub file: Option<String>,
    /// A Node manifest (YAML or JSON), or -: what the DaemonSets in scope would do on that
    /// node once it joins.
    #[arg(long, value_name = "FILE")]
    pub node: Option<String>,
    /// Like --node, for a new node made like this existing one.
    #[arg(long, value_name = "NODE")]
    pub node_like: Option<String>,
    /// With --node or --node-like: labels to set (k=v) or remove (k-) on the new node.
    #[arg(long, value_name = "K=V,...")]
    pub labels: Option<String>,
    /// With --node or --node-like: taints to add (k=v:Effect, k:Effect) or remove (k-,
    /// k:Effect-) on the new node.
    #[arg(long, value_name = "K=V:EFFECT,...")]
    pub taints: Option<String>,
    /// Also send the manifest to the API server with dryRun=All, so admission, validation and
    /// defaulting errors show now; nothing is persisted.
    #[arg(long)]
    pub server_dry_run: bool,
    /// Exit 1 when a targeted node could not take the pod.
    #[arg(long)]
    pub fail_if_unplaceable: bool,
}

const PREVIEW_EXAMPLES: &str = "\
Examples:
  # Where a manifest would land, before kubectl apply
  kubectl ds preview -f fluent-bit.yaml

  # A chart's DaemonSets, checked by the API server's admission too
  helm template logging ./chart | kubectl ds preview -f - --server-dry-run

  # What a new node made like worker-7, with one more label, would run
  kubectl ds preview --node-like worker-7 --labels pool=gpu";

#[derive(Debug, Args, Clone, Default)]
#[command(after_help = OVERHEAD_EXAMPLES)]
pub struct OverheadArgs {
    /// Group nodes by the values of these labels instead of by node pool.
    #[arg(long, value_name = "LABEL[,LABEL]", value_delimiter = ',')]
    pub group_by: Vec<String>,
    /// Only nodes matching this label selector.
    #[arg(short = 'l', long = "selector", value_name = "NODE_SELECTOR")]
    pub node_selector: Option<String>,
    #[command(flatten)]
    pub all: AllNamespaces,
}

const OVERHEAD_EXAMPLES: &str = "\
Examples:
  # What the DaemonSets take of each node pool
  kubectl ds overhead

  # Per zone and instance type, for the nodes of one pool
  kubectl ds overhead --group-by topology.kubernetes.io/zone,node.kubernetes.io/instance-type -l pool=general";
