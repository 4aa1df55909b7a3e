//! The DaemonSet controller (`pkg/controller/daemon`) and kubectl's view of it: which nodes
//! should run a daemon pod ([`placement`], with [`taints`] and [`node_affinity`]), which pods it
//! owns ([`pods`]) and at which revision ([`revisions`]), one pass of its rolling update
//! ([`rolling`]), the pods it could not create ([`failed_creates`]), and what coverage, rollout
//! status and rollout history make of it ([`coverage`], [`rollout`], [`history`]), and what a rollback
//! would send ([`rollback`]).

pub mod coverage;
pub mod failed_creates;
pub mod history;
pub mod node_affinity;
pub mod placement;
pub mod pods;
pub mod revisions;
pub mod rollback;
pub mod rolling;
pub mod rollout;
pub mod taints;

#[cfg(test)]
mod coverage_tests;
#[cfg(test)]
mod placement_tests;
#[cfg(test)]
mod rollout_tests;
