//! The objects a command decides over, fetched once or taken from a watch's stores.

use std::sync::Arc;

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};

use crate::logic::daemon::failed_creates::CreateFailure;

/// Nodes and pods are shared (`Arc`): a watch hands out the objects of its stores without
/// copying them, and they are most of a big cluster's size. DaemonSets and revisions are few.
#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub daemonsets: Vec<DaemonSet>,
    pub nodes: Vec<Arc<Node>>,
    pub pods: Vec<Arc<Pod>>,
    pub revisions: Vec<ControllerRevision>,
    /// The controller's FailedCreate/FailedDaemonPod events on these DaemonSets.
    pub create_failures: Vec<CreateFailure>,
}

/// Objects made shareable, for a [`Snapshot`].
pub fn shared<T>(items: Vec<T>) -> Vec<Arc<T>> {
    items.into_iter().map(Arc::new).collect()
}
