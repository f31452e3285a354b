//! The probe options of `check`, `probe` and `fix`, as the library's [`nsdoctor::CheckOptions`].

use std::path::PathBuf;
use std::time::Duration;

use nsdoctor::NetworkMode;

/// The network the sandbox gives its commands.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum NetworkArg {
    /// No network: the sandbox creates a net namespace and needs a working loopback (Codex default).
    None,
    /// Container bridge networking: no net namespace of the sandbox's own.
    Bridge,
    /// Host network (Codex `network_access = true`).
    Host,
}

/// Options shared by `check` and `probe`.
#[derive(clap::Args, Debug, Default, Clone)]
pub struct ProbeArgs {
    /// Sandbox config JSON (overrides discovered config).
    #[arg(long, value_name = "FILE")]
    pub config: Option<String>,
    /// Probe as this user (root only): the sandbox's service user, e.g. `openclaw` or 65534.
    #[arg(long, value_name = "USER|UID")]
    pub as_user: Option<String>,
    /// Probe under this systemd unit's User= and seccomp restrictions (RestrictNamespaces=, SystemCallFilter=,
    /// RestrictAddressFamilies=).
    #[arg(long, value_name = "NAME.service")]
    pub unit: Option<String>,
    /// The sandbox's network, overriding the discovered config.
    #[arg(long, value_enum)]
    pub network: Option<NetworkArg>,
    /// The bwrap to check and replay (default: the one the sandbox would run).
    #[arg(long, value_name = "PATH", conflicts_with = "no_bwrap")]
    pub bwrap: Option<String>,
    /// Do not run bwrap (no --version, no replay).
    #[arg(long)]
    pub no_bwrap: bool,
    /// Probe under this AppArmor profile, as the program it confines would start the sandbox (what
    /// `aa-exec -p NAME` does); the profile must be loaded.
    #[arg(long, value_name = "NAME")]
    pub apparmor_profile: Option<String>,
    /// The process that starts the sandbox (e.g. the app or agent): its AppArmor label is recorded and, when
    /// it is confined, the probe runs under its profile.
    #[arg(long, value_name = "PID")]
    pub parent_pid: Option<u32>,
    /// Seconds each probe child or bwrap run may take before it is killed [default: 5].
    #[arg(long, value_name = "SECS", value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout: Option<u64>,
}

impl ProbeArgs {
    /// The library's options for these arguments; `full` runs the whole ladder even on a healthy host.
    pub fn options(&self, full: bool) -> nsdoctor::CheckOptions {
        let mut o = nsdoctor::CheckOptions::default();
        o.as_user = self.as_user.clone();
        o.unit = self.unit.clone();
        o.network = self.network.map(|n| match n {
            NetworkArg::None => NetworkMode::None,
            NetworkArg::Bridge => NetworkMode::Bridge,
            NetworkArg::Host => NetworkMode::Host,
        });
        o.bwrap = self.bwrap.as_ref().map(PathBuf::from);
        o.no_bwrap = self.no_bwrap;
        o.timeout = Duration::from_secs(self.timeout.unwrap_or(5));
        o.config = self.config.as_ref().map(PathBuf::from);
        o.apparmor_profile = self.apparmor_profile.clone();
        o.parent_pid = self.parent_pid;
        o.full = full;
        o
    }
}
