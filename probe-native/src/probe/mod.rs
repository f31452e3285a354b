//! The native probe: static facts, the syscall ladder in forked children, the bwrap replay and the sandbox
//! config, gathered into one `ProbeReport`. Nothing here changes host state: namespaces live and die with the
//! probe children, mounts happen only inside a private mount namespace after `/` was made a slave.

mod apparmor_files;
mod bwrap;
mod child;
mod config;
mod exec;
mod facts;
pub(crate) mod filter;
mod json5;
mod ladder;
mod netlink;
pub(crate) mod syscalls;
mod unit;
mod user;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use policy_core::config::{NetworkMode, ServiceManager};
use policy_core::fact::Fact;
use policy_core::report::{BwrapFacts, ProbeReport, SCHEMA_VERSION, Step, StepId, StepResult};

use ladder::Part;
use user::{Fault, Setup};

/// Everything `gather` needs from the command line.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub as_user: Option<String>,
    pub unit: Option<String>,
    pub network: Option<NetworkMode>,
    pub bwrap: Option<String>,
    pub no_bwrap: bool,
    pub timeout: Duration,
    /// A sandbox config JSON file that replaces the discovered one.
    pub config_file: Option<String>,
}

/// Probes this host.
pub fn gather(opts: &Options) -> Result<ProbeReport, String> {
    let (uid, euid) = (nix::unistd::getuid(), nix::unistd::geteuid());
    let (gid, egid) = (nix::unistd::getgid(), nix::unistd::getegid());
    if uid != euid || gid != egid {
        return Err(format!(
            "refusing to run set-uid/set-gid (uid {uid}, euid {euid}, gid {gid}, egid {egid}): nsdoctor must run as the user it probes, use --as-user as root instead"
        ));
    }
    let timeout = if opts.timeout.is_zero() { Duration::from_secs(5) } else { opts.timeout };

    let unit = opts.unit.as_deref().map(|u| unit::read_unit(u, timeout));
    let unit_user = unit.as_ref().and_then(|u| u.facts.user.get().cloned()).filter(|s| !s.is_empty());

    let target_spec = match (&opts.as_user, &unit_user) {
        (Some(u), _) => {
            if !euid.is_root() {
                return Err(format!("--as-user {u} needs root (probing as another user means setresuid); run it with sudo, or run nsdoctor as that user"));
            }
            Some(u.clone())
        }
        // The unit's User= is who the sandbox really runs as: probe as it when we can.
        (None, Some(u)) if euid.is_root() && u != "root" => Some(u.clone()),
        _ => None,
    };
    let mut notes = Vec::new();
    let (target, target_spec) = match (target_spec, opts.as_user.is_some()) {
        (Some(spec), true) => (Some(user::resolve(&spec)?), Some(spec)),
        // A unit's User= may not exist yet (DynamicUser=): probe as the invoking user and say so.
        (Some(spec), false) => match user::resolve(&spec) {
            Ok(t) => (Some(t), Some(spec)),
            Err(e) => {
                notes.push(format!("unit User={spec} not resolvable ({e}), probed as the invoking user"));
                (None, None)
            }
        },
        (None, _) => (None, None),
    };

    if let Some(u) = &unit {
        if !u.not_applied.is_empty() {
            notes.push(format!("unit settings not applied to the probe: {}", u.not_applied.join("; ")));
        }
    }

    let fault = Fault::from_env();
    let setup = Setup {
        target: target.clone(),
        no_new_privs: unit.as_ref().is_some_and(|u| u.no_new_privs),
        filters: unit.as_ref().map(|u| u.filters.clone()).unwrap_or_default(),
    };

    let home: Option<PathBuf> = target
        .as_ref()
        .map(|t| t.home.clone())
        .unwrap_or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from))
        .or_else(|| nix::unistd::User::from_uid(uid).ok().flatten().map(|u| u.dir));

    // Config: --config replaces discovery; flags override single fields.
    let (mut config, mut source) = match &opts.config_file {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|e| format!("cannot read --config `{path}`: {e}"))?;
            let c = policy_core::input::parse_config(&bytes).map_err(|e| format!("{path}: {e}"))?;
            (c, format!("--config {path}"))
        }
        None => {
            let found = config::discover(home.as_deref());
            let mut s = found.source;
            if !found.problems.is_empty() {
                s = format!("{s} (unreadable: {})", found.problems.join("; "));
            }
            (found.config, s)
        }
    };
    let mut flagged = Vec::new();
    if let Some(n) = opts.network {
        config.network = n;
        flagged.push("--network");
    }
    if let Some(u) = &opts.unit {
        config.manager = ServiceManager::Systemd;
        config.unit = Some(u.clone());
        flagged.push("--unit");
    }
    if let Some(t) = &target {
        config.service_user = Some(t.name.clone().unwrap_or_else(|| t.spec.clone()));
        if opts.as_user.is_some() {
            flagged.push("--as-user");
        }
    } else if let Some(u) = &unit_user {
        config.service_user = Some(u.clone());
    }

    let bwrap_facts = if opts.no_bwrap && opts.bwrap.is_none() {
        // Still say which bwrap would run (a stat, no exec).
        let cands = bwrap::discover(None, home.as_deref());
        BwrapFacts {
            binaries: cands.iter().map(|(p, _)| bwrap::describe(p, timeout, false)).collect(),
            selected: cands.first().map(|(p, _)| p.display().to_string()),
            selected_by: cands.first().map(|(_, how)| how.to_string()),
        }
    } else {
        bwrap::facts(opts.bwrap.as_deref(), home.as_deref(), timeout)
    };
    if opts.bwrap.is_some() {
        config.bwrap_path = bwrap_facts.selected.clone();
        flagged.push("--bwrap");
    } else if config.bwrap_path.is_none() {
        config.bwrap_path = bwrap_facts.selected.clone();
    }
    if !flagged.is_empty() {
        source = format!("{source} + flags ({})", flagged.join(", "));
    }
    if !notes.is_empty() {
        source = format!("{source}; {}", notes.join("; "));
    }

    // The ladder.
    let mut steps: Vec<Step> = Vec::new();
    let main = ladder::run_part(Part::Main, &setup, &fault, timeout, true);
    if let Some(e) = &main.setup_failed {
        return Err(format!("cannot probe as {}: {e}", target_spec.as_deref().unwrap_or("this user")));
    }
    steps.extend(main.steps);
    steps.extend(ladder::run_part(Part::UserNet, &setup, &fault, timeout, false).steps);
    steps.extend(ladder::run_part(Part::Syscalls, &setup, &fault, timeout, false).steps);
    let probed_root = target.as_ref().map(|t| t.uid.is_root()).unwrap_or(euid.is_root());
    if probed_root {
        steps.extend(ladder::run_part(Part::Flags, &setup, &fault, timeout, false).steps);
    } else {
        for id in Part::Flags.steps() {
            steps.push(Step {
                id: *id,
                syscall: ladder::default_call(*id).to_string(),
                result: StepResult::Skipped {
                    reason: "not root: without a user namespace an unprivileged caller always gets EPERM".to_string(),
                },
                data: BTreeMap::new(),
            });
        }
    }

    // Static facts (the parent's view; process facts come from the probe child).
    let kernel = facts::kernel();
    let (mut identity, mut process) = match main.context {
        Some(c) => (c.identity, c.process),
        None => (facts::identity(), facts::process_state()),
    };
    identity.probed_as = target_spec.clone();
    process.chrooted = facts::chrooted();
    let mut lsm = facts::lsm();
    lsm.landlock_abi = landlock_fact(&steps);
    let platform = facts::platform(&kernel.proc_version, process.apparmor_label.get().map(String::as_str), process.uid_map.get().map(String::as_str));
    let apparmor = facts::apparmor(bwrap_facts.selected.as_deref());

    let mut replays = Vec::new();
    if !opts.no_bwrap {
        if let Some(sel) = &bwrap_facts.selected {
            for (name, argv) in bwrap::replay_argvs(sel, config.needs_netns()) {
                replays.push(bwrap::replay(name, argv, &setup, timeout));
            }
        }
    }

    let mut producer = format!("nsdoctor {}", policy_core::VERSION);
    if let Some(raw) = &fault.raw {
        producer = format!("{producer} (test fault injection NSDOCTOR_TEST_FAULT={raw})");
    }
    Ok(ProbeReport {
        schema_version: SCHEMA_VERSION,
        producer: Some(producer),
        source: None,
        config,
        config_source: Some(source),
        kernel,
        distro: facts::distro(),
        identity,
        process,
        lsm,
        sysctl: facts::sysctls(),
        apparmor,
        platform,
        unit: unit.map(|u| u.facts).unwrap_or_default(),
        bwrap: bwrap_facts,
        steps,
        replays,
        observed_error: None,
    })
}

fn landlock_fact(steps: &[Step]) -> Fact<u32> {
    match steps.iter().find(|s| s.id == StepId::Landlock) {
        Some(Step { result: StepResult::Ok, data, .. }) => match data.get("abi").and_then(|a| a.parse().ok()) {
            Some(abi) => Fact::Observed(abi),
            None => Fact::unavailable("landlock step reported no ABI", None),
        },
        Some(Step { result: StepResult::Failed { errno }, .. }) => {
            let why = match errno.name.as_str() {
                "EOPNOTSUPP" => "Landlock built but not enabled (lsm=)",
                "ENOSYS" => "Landlock not built, or the syscall is filtered",
                _ => "landlock_create_ruleset failed",
            };
            Fact::unavailable(why, Some(errno.clone()))
        }
        Some(Step { result: StepResult::Skipped { reason }, .. }) => Fact::unavailable(reason, None),
        _ => Fact::unavailable("landlock step did not run", None),
    }
}
