//! nsdoctor as a library: probe this Linux host with real syscalls and say why a bubblewrap-style sandbox can or
//! cannot create its user, network, mount and pid namespaces — the same probe and diagnosis as the `nsdoctor`
//! command, for harnesses and agents that want the answer as values instead of text.
//!
//! The package is `probe-native`; its library is named `nsdoctor` (`[lib] name = "nsdoctor"`), so callers write
//! `nsdoctor::check(…)`. The `nsdoctor` binary of the same package is a thin user of this library: it parses the
//! command line, calls [`check`] or [`probe`], prints and exits.
//!
//! ```
//! let mut opts = nsdoctor::CheckOptions::default();
//! opts.no_bwrap = true; // probe with syscalls only, do not run bwrap
//! let diagnosis = nsdoctor::check(&opts)?;
//! println!("{}: {}", diagnosis.verdict.as_str(), diagnosis.headline);
//! if diagnosis.verdict == nsdoctor::Verdict::Blocked {
//!     for finding in diagnosis.findings.iter().filter(|f| f.blocking) {
//!         println!("{} {}", finding.code, finding.title);
//!     }
//! }
//! # Ok::<(), nsdoctor::Error>(())
//! ```
//!
//! # How it probes
//!
//! Every namespace call runs in a forked child (namespaces are per process and irreversible, and
//! `unshare(CLONE_NEWUSER)` refuses a multi-threaded caller); the calling process only forks, reads `/proc`,
//! `/sys` and `/etc`, and waits. Nothing on the host changes, and every child is reaped before a call returns.
//!
//! On a healthy host a probe takes a few milliseconds: one child makes the sandbox's namespaces in one call, as
//! bwrap does (user, mount, pid, and network unless the sandbox keeps the host or bridge network), maps its ids,
//! mounts, starts pid 1 to mount proc and brings loopback up; when all of that works, that is the report. When
//! a step of it fails, or with [`CheckOptions::full`], the full ladder runs (each namespace alone, the flags
//! without a user namespace as root, loopback in a plain user+net namespace), so the report carries the evidence
//! that names the cause. A child that hangs is killed at the timeout; a hang on the fast path is then followed by
//! the full ladder, so a hung host takes up to twice the timeout.
//!
//! [`Error`] is for a probe that could not run as asked (the command exits 2 with its message); a host that
//! cannot run the sandbox is an `Ok` diagnosis with [`Verdict::Blocked`] (the command exits 1).
//!
//! The children are forked from the calling thread. In a multi-threaded caller a child starts with only that
//! thread and runs its probe code right after `fork`, so another thread holding a lock the child needs (other
//! than the allocator's, which glibc resets in the child) could stall it until the
//! [timeout](CheckOptions::timeout); call from a single-threaded process, or while other threads are idle,
//! for the most reliable result.

#![warn(missing_docs)]

mod error;
mod probe;

use std::path::PathBuf;
use std::time::Duration;

pub use error::Error;
pub use policy_core::config::NetworkMode;
pub use policy_core::report::StepId;
pub use policy_core::{Diagnosis, ProbeReport, Verdict};
pub use probe::fingerprint::Fingerprint;

/// What to probe, and how: the options of `nsdoctor check` and `nsdoctor probe`.
///
/// `CheckOptions::default()` probes as the calling user, with the sandbox config found on this host
/// (`~/.codex/config.toml`, OpenClaw's config, else the defaults), the bwrap that config would run, a 5 s timeout
/// per probe child, and the fast path.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckOptions {
    /// Probe as this user, a name or a uid (the sandbox's service user). Needs root.
    pub as_user: Option<String>,
    /// Probe under this systemd unit's `User=` and seccomp restrictions (`RestrictNamespaces=`,
    /// `SystemCallFilter=`, `RestrictAddressFamilies=`), e.g. `openclaw.service`.
    pub unit: Option<String>,
    /// The sandbox's network, overriding the config's.
    pub network: Option<NetworkMode>,
    /// The bwrap binary to check and replay, instead of the one the sandbox would run.
    pub bwrap: Option<PathBuf>,
    /// Do not run bwrap (no `--version`, no replay of the sandbox's command line).
    pub no_bwrap: bool,
    /// How long each probe child or bwrap run may take before it is killed. Zero means the default, 5 s.
    pub timeout: Duration,
    /// A sandbox config JSON file that replaces the discovered config.
    pub config: Option<PathBuf>,
    /// Probe under this loaded AppArmor profile, as the program it confines would start the sandbox.
    pub apparmor_profile: Option<String>,
    /// The process that starts the sandbox: its AppArmor label is recorded and, when it is confined, the probe
    /// runs under its profile.
    pub parent_pid: Option<u32>,
    /// Run the full ladder even when the sandbox's namespaces come up at the first try (every step alone, for
    /// complete evidence; what reports meant for upload carry).
    pub full: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        CheckOptions {
            as_user: None,
            unit: None,
            network: None,
            bwrap: None,
            no_bwrap: false,
            timeout: Duration::from_secs(5),
            config: None,
            apparmor_profile: None,
            parent_pid: None,
            full: false,
        }
    }
}

/// Probes this host and diagnoses the report against the sandbox config the probe used.
///
/// A blocked host is `Ok` with [`Verdict::Blocked`]; `Err` means the probe could not run as asked (see
/// [`Error`]). Nothing is printed.
pub fn check(opts: &CheckOptions) -> Result<Diagnosis, Error> {
    let report = probe(opts)?;
    Ok(policy_core::diagnose(&report, None))
}

/// Probes this host and returns the report: the facts, every ladder step with its errno, the bwrap replays.
/// It is what `nsdoctor probe` writes, and what the web console and `nsdoctor diagnose` read.
///
/// Takes the fast path unless [`CheckOptions::full`] is set; see the crate documentation.
pub fn probe(opts: &CheckOptions) -> Result<ProbeReport, Error> {
    probe::gather(opts)
}

/// The host's fingerprint for these options: what decides the verdict (kernel and boot, namespace sysctls,
/// AppArmor and SELinux policy state, this process's restrictions, the bwrap binaries, id-map helpers and the
/// sandbox config files), hashed, without creating a namespace or a process (well under a millisecond).
///
/// A harness keeps a verdict with the fingerprint it was taken under and probes again only when the
/// fingerprint differs: the same fingerprint means nothing nsdoctor reads has changed. A new boot is a new
/// fingerprint.
///
/// ```
/// let opts = nsdoctor::CheckOptions::default();
/// let a = nsdoctor::fingerprint(&opts);
/// assert_eq!(a.value, nsdoctor::fingerprint(&opts).value);
/// assert!(a.value.starts_with("nsdfp1-"));
/// ```
pub fn fingerprint(opts: &CheckOptions) -> Fingerprint {
    probe::fingerprint(opts)
}

/// Every step a report holds, in report order (the ladder's list; a report has each exactly once, run or
/// skipped with its reason).
pub const LADDER_STEPS: &[StepId] = &probe::STEPS;
