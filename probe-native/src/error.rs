//! Why a probe could not run. A blocked host is not an error: it is a report (or a diagnosis) that says so.

use std::fmt;
use std::path::PathBuf;

/// Why [`crate::check`] or [`crate::probe`] could not probe this host. Each message is one line in the form
/// the `nsdoctor` command prints after `nsdoctor: `.
#[derive(Debug)]
#[non_exhaustive]
pub enum Error {
    /// The process runs set-uid or set-gid: nsdoctor probes as the user it runs as, so it refuses.
    SetId {
        /// Real user id.
        uid: u32,
        /// Effective user id.
        euid: u32,
        /// Real group id.
        gid: u32,
        /// Effective group id.
        egid: u32,
    },
    /// [`CheckOptions::as_user`](crate::CheckOptions::as_user) was given without root.
    AsUserNeedsRoot {
        /// The user asked for.
        user: String,
    },
    /// No user has this name or id.
    NoSuchUser {
        /// The user asked for.
        user: String,
    },
    /// The user database could not be read.
    UserLookup {
        /// The user asked for.
        user: String,
        /// The lookup's error.
        reason: String,
    },
    /// [`CheckOptions::parent_pid`](crate::CheckOptions::parent_pid) names no running process.
    NoSuchProcess {
        /// The process id asked for.
        pid: u32,
    },
    /// The sandbox config file could not be read.
    ConfigRead {
        /// The file.
        path: PathBuf,
        /// The read error.
        source: std::io::Error,
    },
    /// The sandbox config file is not a valid config.
    ConfigInvalid {
        /// The file.
        path: PathBuf,
        /// What is wrong with it.
        source: policy_core::input::InputError,
    },
    /// The probe could not run under the AppArmor profile asked for (or the one of the parent process).
    AppArmorProfile {
        /// Why, naming the profile.
        reason: String,
    },
    /// The probe children could not take on the probed identity or the unit's restrictions.
    Setup {
        /// Who the probe was to run as (`this user` when it is the caller).
        user: String,
        /// The call that failed.
        reason: String,
    },
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Error::SetId { uid, euid, gid, egid } => write!(
                f,
                "refusing to run set-uid/set-gid (uid {uid}, euid {euid}, gid {gid}, egid {egid}): nsdoctor must run as the user it probes, use --as-user as root instead"
            ),
            Error::AsUserNeedsRoot { user } => write!(
                f,
                "--as-user {user} needs root (probing as another user means setresuid); run it with sudo, or run nsdoctor as that user"
            ),
            Error::NoSuchUser { user } => write!(f, "--as-user: no such user `{user}`"),
            Error::UserLookup { user, reason } => write!(f, "--as-user: cannot look up `{user}`: {reason}"),
            Error::NoSuchProcess { pid } => write!(f, "--parent-pid {pid}: no such process"),
            Error::ConfigRead { path, source } => write!(f, "cannot read --config `{}`: {source}", path.display()),
            Error::ConfigInvalid { path, source } => write!(f, "{}: {source}", path.display()),
            Error::AppArmorProfile { reason } => f.write_str(reason),
            Error::Setup { user, reason } => write!(f, "cannot probe as {user}: {reason}"),
        }
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Error::ConfigRead { source, .. } => Some(source),
            Error::ConfigInvalid { source, .. } => Some(source),
            _ => None,
        }
    }
}
