//! Probe options and the entry point that gathers a `ProbeReport` on this host.

#[path = "probe/mod.rs"]
mod probe;

use std::time::Duration;

use policy_core::ProbeReport;
use policy_core::config::NetworkMode;

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

/// Probes this host.
pub fn run_probe(args: &ProbeArgs) -> Result<ProbeReport, String> {
    let opts = probe::Options {
        as_user: args.as_user.clone(),
        unit: args.unit.clone(),
        network: args.network.map(|n| match n {
            NetworkArg::None => NetworkMode::None,
            NetworkArg::Bridge => NetworkMode::Bridge,
            NetworkArg::Host => NetworkMode::Host,
        }),
        bwrap: args.bwrap.clone(),
        no_bwrap: args.no_bwrap,
        timeout: Duration::from_secs(args.timeout.unwrap_or(5)),
        config_file: args.config.clone(),
        apparmor_profile: args.apparmor_profile.clone(),
        parent_pid: args.parent_pid,
    };
    probe::gather(&opts)
}
