//! Pure decisions over Kubernetes API objects: no I/O, no clock, no environment.
//! Each rule names the upstream function it mirrors, and the folders follow upstream's layout:
//!
//! - [`apimachinery`]: label selectors, quantities, and the differences between API levels;
//! - [`daemon`]: the DaemonSet controller (`pkg/controller/daemon`): placement, taints, node
//!   affinity, daemon pods, revisions, the rolling update, and what coverage, rollout status and
//!   history make of them;
//! - [`nodelifecycle`]: what happens to pods on nodes that go down or are tainted
//!   (`pkg/controller/nodelifecycle`, `pkg/controller/tainteviction`, pod GC);
//! - [`scheduler`]: the kube-scheduler's filters and preemption (`pkg/scheduler/framework/plugins`);
//! - [`admission`]: the API server's admission chain (`plugin/pkg/admission`);
//! - [`reports`]: the answers of `explain`, `preview` and `overhead`, composed from the above.
//!
//! The inputs they decide over: [`snapshot`] (objects read from the cluster) and [`manifest`]
//! (DaemonSets read from a file). [`reason`] holds the one set of reason codes every command and
//! document uses.

pub mod admission;
pub mod apimachinery;
pub mod daemon;
pub mod manifest;
pub mod nodelifecycle;
pub mod reason;
pub mod reports;
pub mod scheduler;
pub mod snapshot;

#[cfg(test)]
pub(crate) mod fixtures;
