//! The cluster's errors: one enum, structured fields, no panics on bad input or a lost
//! database connection.

use std::path::PathBuf;
use std::time::Duration;

/// Everything the cluster library can report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// A database call failed (connection lost, query error, pool timeout).
    #[error("database: {0}")]
    Db(#[from] sqlx::Error),
    /// A schema migration failed.
    #[error("database migration {version} ({name}) failed: {source}")]
    Migration {
        /// The migration's version.
        version: i32,
        /// The migration's name.
        name: &'static str,
        /// What PostgreSQL said.
        #[source]
        source: sqlx::Error,
    },
    /// The database holds a newer schema than this build knows.
    #[error("the database schema is at version {found}, newer than this build's {known}: upgrade zkaccel")]
    SchemaTooNew {
        /// The highest version applied in the database.
        found: i32,
        /// The highest version this build knows.
        known: i32,
    },
    /// An object-store call failed.
    #[error("object store: {0}")]
    Store(#[from] object_store::Error),
    /// The object store URL cannot be used.
    #[error("object store '{url}': {reason}")]
    StoreUrl {
        /// The URL given.
        url: String,
        /// Why it cannot be used.
        reason: String,
    },
    /// The zkaccel runtime reported an error.
    #[error("runtime: {0}")]
    Runtime(#[from] zkaccel::Error),
    /// An argument or an input blob is malformed.
    #[error("invalid input: {0}")]
    BadInput(String),
    /// No job has this id.
    #[error("no job {0}")]
    NoSuchJob(i64),
    /// No SRS has this name.
    #[error("no SRS named '{0}'")]
    NoSuchSrs(String),
    /// An SRS of this name exists already.
    #[error("an SRS named '{0}' exists already")]
    SrsExists(String),
    /// The job failed; `error` is its failed task's last error.
    #[error("job {job} failed: {error}")]
    JobFailed {
        /// The job.
        job: i64,
        /// Why.
        error: String,
    },
    /// The job was cancelled.
    #[error("job {0} was cancelled")]
    JobCancelled(i64),
    /// The job has no result yet.
    #[error("job {job} is not finished (it is {state})")]
    NotFinished {
        /// The job.
        job: i64,
        /// Its state.
        state: String,
    },
    /// Waiting for a job took longer than allowed.
    #[error("job {job} did not finish within {waited:?}")]
    WaitTimeout {
        /// The job.
        job: i64,
        /// How long we waited.
        waited: Duration,
    },
    /// A local file could not be read or written.
    #[error("{path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The error.
        #[source]
        source: std::io::Error,
    },
    /// A row or blob does not have the shape this build writes.
    #[error("corrupt record: {0}")]
    Corrupt(String),
    /// The throwaway PostgreSQL server of the tests could not be started.
    #[error("test PostgreSQL server: {0}")]
    TestServer(String),
    /// Something else (a background task panicked, a signal handler could not be set).
    #[error("{0}")]
    Other(String),
}

/// `Result` with [`ClusterError`].
pub type Result<T, E = ClusterError> = core::result::Result<T, E>;

impl ClusterError {
    /// True for errors worth retrying after a pause: a lost or refused database connection,
    /// a pool timeout, a store that did not answer.
    pub fn is_transient(&self) -> bool {
        match self {
            ClusterError::Db(e) => matches!(
                e,
                sqlx::Error::Io(_)
                    | sqlx::Error::PoolTimedOut
                    | sqlx::Error::PoolClosed
                    | sqlx::Error::WorkerCrashed
                    | sqlx::Error::Tls(_)
                    | sqlx::Error::Protocol(_)
            ),
            ClusterError::Store(e) => !matches!(
                e,
                object_store::Error::NotFound { .. } | object_store::Error::InvalidPath { .. }
            ),
            _ => false,
        }
    }

    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ClusterError::Io {
            path: path.into(),
            source,
        }
    }
}
