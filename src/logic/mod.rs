//! Pure decisions over Kubernetes API objects: no I/O, no clock, no environment.
//! Each rule names the upstream function it mirrors.

pub mod admission;
pub mod compat;
pub mod coverage;
pub mod eviction;
pub mod explain;
pub mod failed_creates;
pub mod fresh_node;
pub mod history;
pub mod labels;
pub mod lifecycle;
pub mod manifest;
pub mod node_affinity;
pub mod node_preview;
pub mod overhead;
pub mod placement;
pub mod pods;
pub mod preview;
pub mod quantity;
pub mod revisions;
pub mod rolling;
pub mod rollout;
pub mod scheduler;
pub mod scheduling;
pub mod snapshot;
pub mod taints;

#[cfg(test)]
mod coverage_tests;
#[cfg(test)]
pub(crate) mod fixtures;
#[cfg(test)]
mod overhead_tests;
#[cfg(test)]
mod placement_tests;
#[cfg(test)]
mod rollout_tests;
#[cfg(test)]
mod scheduling_tests;
