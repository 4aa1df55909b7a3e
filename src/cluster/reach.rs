//! Waiting for an API server that cannot be reached yet, for the commands that follow a cluster
//! (`--watch`): they retry instead of failing, and give up only after `--request-timeout`.

use std::time::Duration;

use tokio::time::Instant;

use super::Target;
use super::errors::{self, Request};
use crate::error::{Error, Result};

/// First pause between tries; it doubles up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(500);
const LONGEST_PAUSE: Duration = Duration::from_secs(5);

/// One cheap request (`GET /version`) under `--request-timeout`.
pub async fn probe(target: &Target) -> Result<()> {
    let ask = target.client.apiserver_version();
    let res = match target.timeout {
        Some(t) => tokio::time::timeout(t, ask)
            .await
            .map_err(|_| errors::timed_out(&target.server))?,
        None => ask.await,
    };
    res.map(|_| ())
        .map_err(|e| errors::from_kube(e, &Request::new("get", "version", None), &target.server))
}

/// Probes until the API server answers. Each failure to reach it is passed to `on_retry`; any
/// other failure ends the wait. With `--request-timeout` the wait ends after that long with the
/// last failure; without it, only when the caller stops waiting.
pub async fn until_reachable(target: &Target, mut on_retry: impl FnMut(&Error)) -> Result<()> {
    let deadline = target.timeout.map(|t| Instant::now() + t);
    let mut pause = FIRST_PAUSE;
    loop {
        let e = match probe(target).await {
            Ok(()) => return Ok(()),
            Err(e @ Error::Unreachable(_)) => e,
            Err(e) => return Err(e),
        };
        if deadline.is_some_and(|d| Instant::now() + pause >= d) {
            return Err(e);
        }
        on_retry(&e);
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(LONGEST_PAUSE);
    }
}
