//! The objects a command decides over, fetched once.

use k8s_openapi::api::apps::v1::{ControllerRevision, DaemonSet};
use k8s_openapi::api::core::v1::{Node, Pod};

use crate::logic::daemon::failed_creates::CreateFailure;

#[derive(Clone, Debug, Default)]
pub struct Snapshot {
    pub daemonsets: Vec<DaemonSet>,
    pub nodes: Vec<Node>,
    pub pods: Vec<Pod>,
    pub revisions: Vec<ControllerRevision>,
    /// The controller's FailedCreate/FailedDaemonPod events on these DaemonSets.
    pub create_failures: Vec<CreateFailure>,
}
