//! Errors as the user sees them: one sentence saying what went wrong and what to do, and the
//! exit code convention shared by every command.

use std::process::ExitCode;

/// 0 ok, 1 the check found a problem, 2 usage or input error, 3 cluster or API error.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    Ok = 0,
    Problem = 1,
    Usage = 2,
    Cluster = 3,
    /// Interrupted by Ctrl-C (128 + SIGINT), as shells report it.
    Interrupted = 130,
}

impl From<Exit> for ExitCode {
    fn from(e: Exit) -> Self {
        ExitCode::from(e as u8)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Bad flags, bad selectors, bad manifests, unknown names: exit 2.
    #[error("{0}")]
    Input(String),
    /// The cluster could not be asked, or refused: exit 3.
    #[error("{0}")]
    Cluster(String),
    /// The API server could not be reached or did not answer in time: exit 3. Kept apart so
    /// the watching commands can retry it.
    #[error("{0}")]
    Unreachable(String),
    /// RBAC refused a request: exit 3. Kept apart so commands can fall back to what the user
    /// may read and report the rest.
    #[error("{0}")]
    Forbidden(String),
    /// Writing the output failed (other than a closed pipe): exit 3.
    #[error("cannot write output: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    pub fn exit(&self) -> Exit {
        match self {
            Error::Input(_) => Exit::Usage,
            Error::Cluster(_) | Error::Unreachable(_) | Error::Forbidden(_) | Error::Io(_) => {
                Exit::Cluster
            }
        }
    }

    /// The same error, noting that the request was tried `attempts` times.
    pub fn tried(self, attempts: u32) -> Self {
        let note = |m: String| format!("{m} (tried {attempts} times)");
        match self {
            Error::Input(m) => Error::Input(note(m)),
            Error::Cluster(m) => Error::Cluster(note(m)),
            Error::Unreachable(m) => Error::Unreachable(note(m)),
            Error::Forbidden(m) => Error::Forbidden(note(m)),
            Error::Io(e) => Error::Io(e),
        }
    }

    pub fn input(msg: impl Into<String>) -> Self {
        Error::Input(msg.into())
    }

    pub fn cluster(msg: impl Into<String>) -> Self {
        Error::Cluster(msg.into())
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
