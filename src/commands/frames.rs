//! The screen of both `--watch` modes (`coverage --watch`, `rollout status --watch`): follows
//! the watch ([`watch::follow`]; the caller has waited for the API server), redraws on a
//! terminal or appends when piped, prints nothing when a frame says what the last one said, and warns once per
//! distinct loss of the watch. Ctrl-C ends it.

use std::io::Write;

use super::shared::emit;
use crate::cluster::Target;
use crate::cluster::fetch::Scope;
use crate::cluster::lean::Keep;
use crate::cluster::watch::{self, Update};
use crate::error::{Error, Exit, Result};
use crate::logic::snapshot::Snapshot;

/// Where the frames go.
#[derive(Clone, Copy, Debug)]
pub struct Screen {
    /// Standard output is a terminal: each frame replaces the last.
    pub tty: bool,
    /// The terminal's height, to fit a frame to.
    pub height: Option<u16>,
}

/// What one snapshot shows.
#[derive(Debug, Default)]
pub struct Frame {
    /// Equal keys mean nothing changed: the frame is not shown again.
    pub key: String,
    /// Shown on a terminal, on a cleared screen.
    pub screen: String,
    /// Appended when piped.
    pub piped: String,
    /// Ends the watch with this exit code.
    pub done: Option<Exit>,
}

/// How a watch ended.
#[derive(Debug, PartialEq, Eq)]
pub enum Ended {
    /// A frame said so.
    Done(Exit),
    /// Ctrl-C.
    Interrupted,
    /// The watch stream ended.
    Closed,
}

/// Follows the scope and shows `frame` of each snapshot; pods are kept as `keep` says, and
/// frames redraw the screen when `tty` (standard output is a terminal, as settings found it).
pub async fn follow(
    target: &Target,
    scope: &Scope,
    keep: Keep,
    tty: bool,
    writer: &mut dyn Write,
    mut frame: impl FnMut(Snapshot, &Screen) -> Result<Frame>,
) -> Result<Ended> {
    let mut last_key: Option<String> = None;
    let mut ended = Ended::Closed;
    let mut failure: Option<Error> = None;
    let follow = watch::follow(target, scope, keep, |update| match update {
        Update::Snapshot(snapshot) => {
            let screen = Screen {
                tty,
                height: super::screen().map(|(_, h)| h),
            };
            let shown = frame(snapshot, &screen).and_then(|f| {
                if last_key.as_ref() != Some(&f.key) {
                    show(writer, &f, tty)?;
                    last_key = Some(f.key);
                }
                Ok(f.done)
            });
            match shown {
                Ok(None) => true,
                Ok(Some(code)) => {
                    ended = Ended::Done(code);
                    false
                }
                Err(e) => {
                    failure = Some(e);
                    false
                }
            }
        }
        Update::Trouble(msg) => {
            eprintln!("warning: lost the watch ({msg}); retrying");
            true
        }
    });
    tokio::select! {
        r = follow => r?,
        _ = tokio::signal::ctrl_c() => return Ok(Ended::Interrupted),
    }
    match failure {
        Some(e) => Err(e),
        None => Ok(ended),
    }
}

/// Prints a frame: on a terminal over a cleared screen, piped after the last one. An empty
/// frame prints nothing (not even the clearing).
fn show(writer: &mut dyn Write, frame: &Frame, tty: bool) -> Result<()> {
    let text = if tty { &frame.screen } else { &frame.piped };
    if text.is_empty() {
        return Ok(());
    }
    if tty {
        emit(writer, &format!("\x1b[2J\x1b[H{text}"))
    } else {
        emit(writer, text)
    }
}
