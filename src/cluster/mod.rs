//! The kube client layer: builds a client the way kubectl resolves its kubeconfig, fetches the
//! objects a command needs, sends the few writes, and turns API failures into user-facing errors. No decisions here.

pub mod admission;
pub mod connect;
pub mod errors;
pub mod fetch;
pub mod filter_objects;
pub mod lean;
pub mod list_stream;
#[cfg(test)]
pub mod mock;
pub mod reach;
pub mod watch;
pub mod write;

pub use connect::{Clusters, ConnectOptions, Target, connect, context_names};
pub use errors::Request;
