//! The answers of the commands that compose the controller, the scheduler and admission:
//! [`explain`] (one verdict per DaemonSet and node), [`preview`] (where a manifest would land),
//! [`overhead`] (what the DaemonSets take of each kind of node), [`node_preview`] (what a new node
//! would get), and [`fresh_node`], the evaluation of a node as it joins that the last two share.

pub mod explain;
pub mod fresh_node;
pub mod node_preview;
pub mod overhead;
pub mod preview;

#[cfg(test)]
mod explain_tests;
#[cfg(test)]
mod overhead_tests;
#[cfg(test)]
pub(crate) mod preview_tests;
