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
mod ladder;
mod netlink;
pub(crate) mod syscalls;
mod unit;
mod user;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use policy_core::config::{NetworkMode, ServiceManager};
use policy_core::fact::Fact;
use policy_core::report::{BwrapFacts, Confinement, ProbeReport, SCHEMA_VERSION, Step, StepId, StepResult};

use exec::Capture;
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
    /// Probe under this AppArmor profile (the profile of the program that starts the sandbox).
    pub apparmor_profile: Option<String>,
    /// The process that will start the sandbox: its AppArmor profile is probed under, its label recorded.
    pub parent_pid: Option<u32>,
}

/// Phase timings on stderr when `NSDOCTOR_TIMING` is set to anything but `0` (performance work; never in a
/// report). The probe children print when each of their steps is done, on the same clock.
struct Timing {
    t0: Option<Instant>,
    last: Instant,
}

impl Timing {
    fn from_env() -> Timing {
        let now = Instant::now();
        let on = std::env::var_os("NSDOCTOR_TIMING").is_some_and(|v| !v.is_empty() && v != "0");
        Timing { t0: on.then_some(now), last: now }
    }
    fn mark(&mut self, what: &str) {
        if let Some(t0) = self.t0 {
            let now = Instant::now();
            eprintln!(
                "nsdoctor timing: {what:<12} +{:>6} µs  at {:>6} µs",
                (now - self.last).as_micros(),
                (now - t0).as_micros()
            );
            self.last = now;
        }
    }
}

/// Probes this host.
pub fn gather(opts: &Options) -> Result<ProbeReport, String> {
    let mut tm = Timing::from_env();
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
                return Err(format!(
                    "--as-user {u} needs root (probing as another user means setresuid); run it with sudo, or run nsdoctor as that user"
                ));
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

    // The confinement of the program that starts the sandbox: named, or read from its process.
    let parent_label = match opts.parent_pid {
        Some(pid) => facts::apparmor_label_of(pid),
        None => Fact::NotProbed,
    };
    let parent_exe: Fact<String> = match opts.parent_pid {
        Some(pid) => match std::fs::read_link(format!("/proc/{pid}/exe")) {
            Ok(p) => Fact::Observed(p.display().to_string()),
            Err(e) => {
                Fact::unavailable(&format!("/proc/{pid}/exe: {e}"), Some(ladder::fact_errno(ladder::io_errno(&e))))
            }
        },
        None => Fact::NotProbed,
    };
    if let (Some(pid), Fact::Unavailable(u)) = (opts.parent_pid, &parent_label) {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return Err(format!("--parent-pid {pid}: no such process"));
        }
        notes.push(format!(
            "the AppArmor label of process {pid} is unreadable ({}), probed under the caller's own",
            u.reason
        ));
    }
    let (aa_profile, aa_source) =
        match (&opts.apparmor_profile, parent_label.get().and_then(|l| facts::profile_of_label(l))) {
            (Some(p), _) => (Some(p.clone()), Some("--apparmor-profile".to_string())),
            (None, Some(p)) => (Some(p), opts.parent_pid.map(|pid| format!("--parent-pid {pid}"))),
            (None, None) => (None, None),
        };

    let fault = Fault::from_env();
    let setup = Setup {
        target: target.clone(),
        apparmor_profile: aa_profile.clone(),
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

    // Which bwrap the sandbox would run: stats only, its `--version` runs with the probe children below.
    let cands = bwrap::discover(opts.bwrap.as_deref(), home.as_deref());
    let selected = cands.first().map(|(p, _)| p.display().to_string());
    let selected_by = cands.first().map(|(_, how)| how.to_string());
    if opts.bwrap.is_some() {
        config.bwrap_path = selected.clone();
        flagged.push("--bwrap");
    } else if config.bwrap_path.is_none() {
        config.bwrap_path = selected.clone();
    }
    if !flagged.is_empty() {
        source = format!("{source} + flags ({})", flagged.join(", "));
    }
    if !notes.is_empty() {
        source = format!("{source}; {}", notes.join("; "));
    }
    tm.mark("prelude");

    // Every child starts now and runs concurrently (each part of the ladder, `bwrap --version` for each
    // candidate, the replays); the parent reads the static facts meanwhile, then collects them all against one
    // deadline. The parts are independent: each creates its own namespaces from the same starting point.
    let deadline = Instant::now() + timeout;
    let probed_root = target.as_ref().map(|t| t.uid.is_root()).unwrap_or(euid.is_root());
    // The context (identity, process state) comes from the short syscalls child, which applies the same setup
    // as the others: the main ladder, the longest, starts probing at once.
    let parts = [Part::Main, Part::UserNet, if probed_root { Part::SyscallsFlags } else { Part::Syscalls }];
    let wants_context = |p: Part| matches!(p, Part::Syscalls | Part::SyscallsFlags);
    // The children wait at a gate until all are forked (see `child::Gate`).
    let mut gate = child::Gate::new();
    let mut children: Vec<child::Spawned> =
        parts.iter().map(|p| ladder::spawn(*p, &setup, &fault, wants_context(*p), tm.t0, gate.as_mut())).collect();
    let run_bwrap = !(opts.no_bwrap && opts.bwrap.is_none());
    let mut binaries = Vec::new();
    let mut versions = Vec::new();
    for (path, _) in &cands {
        let (b, present) = bwrap::describe(path);
        if run_bwrap && present {
            versions.push(Some(children.len()));
            children.push(exec::spawn_capture(&bwrap::version_argv(&b.path), Capture::Stdout, None, gate.as_mut()));
        } else {
            versions.push(None);
        }
        binaries.push(b);
    }
    let mut replay_argvs = Vec::new();
    if !opts.no_bwrap {
        if let Some(sel) = &selected {
            for (name, argv) in bwrap::replay_argvs(sel, config.needs_netns()) {
                children.push(exec::spawn_capture(&argv, Capture::Stderr, Some(&setup), gate.as_mut()));
                replay_argvs.push((name, argv));
            }
        }
    }
    if let Some(g) = gate.as_mut() {
        g.open();
    }
    tm.mark("spawned");

    // Static facts (the parent's view; process facts come from the probe child).
    let kernel = facts::kernel();
    let mountinfo = facts::mountinfo();
    let chrooted = facts::chrooted(&mountinfo);
    let mut lsm = facts::lsm();
    let platform_scan = facts::platform_scan(&kernel.proc_version, &mountinfo);
    let (apparmor, profiles_for_parent) =
        facts::apparmor(selected.as_deref(), parent_exe.get().map(String::as_str), aa_profile.as_deref());
    let distro = facts::distro();
    let sysctl = facts::sysctls();
    tm.mark("facts");

    child::collect_all(&mut children, deadline);
    tm.mark("children");
    let mut runs: Vec<Option<child::ChildRun>> = children.into_iter().map(|c| Some(c.into_run())).collect();
    let mut take = |i: usize| runs.get_mut(i).and_then(Option::take);

    let mut results: Vec<ladder::PartResult> = Vec::new();
    for (i, part) in parts.iter().enumerate() {
        results.push(match take(i) {
            Some(run) => ladder::decode(*part, &run.output, run.exit, timeout),
            None => ladder::PartResult::default(),
        });
    }
    if let Some(e) = results.iter().find_map(|r| r.setup_failed.clone()) {
        if e.starts_with("cannot enter the AppArmor profile") {
            return Err(e);
        }
        return Err(format!("cannot probe as {}: {e}", target_spec.as_deref().unwrap_or("this user")));
    }
    // A part run alone, after the others (the re-runs below).
    let alone = |part: Part| {
        let deadline = Instant::now() + timeout;
        let mut c = [ladder::spawn(part, &setup, &fault, wants_context(part), tm.t0, None)];
        child::collect_all(&mut c, deadline);
        let [c] = c;
        let run = c.into_run();
        ladder::decode(part, &run.output, run.exit, timeout)
    };
    // ENOSPC: the parts ran at once, so this probe held up to two user and three net namespaces at the same
    // time where the sandbox holds one of each. Under a `user.max_*_namespaces` limit that low (but not zero) a
    // step would fail here that the sandbox passes: a part with an ENOSPC runs again alone and that run counts.
    for (i, part) in parts.iter().enumerate() {
        let enospc = results.get(i).is_some_and(|r| {
            r.steps.iter().any(|s| matches!(&s.result, StepResult::Failed { errno } if errno.name == "ENOSPC"))
        });
        if enospc {
            let again = alone(*part);
            if let Some(r) = results.get_mut(i) {
                *r = again;
            }
        }
    }
    // As root the flags share a child with clone3 and Landlock. If that child died before it reached them (a
    // seccomp kill on clone3, a hang), they run again in a child of their own, so their evidence is never lost.
    // (The child itself never skips a flag step.)
    let shared = parts.iter().position(|p| *p == Part::SyscallsFlags).and_then(|i| results.get_mut(i));
    if let Some(r) = shared {
        let never_ran =
            r.steps.iter().any(|s| s.id == StepId::FlagNet && matches!(s.result, StepResult::Skipped { .. }));
        if never_ran {
            let flags = alone(Part::Flags);
            r.steps.retain(|s| !Part::Flags.steps().contains(&s.id));
            r.steps.extend(flags.steps);
        }
    }
    let context = results.iter_mut().find_map(|r| r.context.take());
    let mut steps: Vec<Step> = Vec::new();
    for r in results {
        steps.extend(r.steps);
    }
    if !probed_root {
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
    for (b, v) in binaries.iter_mut().zip(&versions) {
        if run_bwrap {
            b.version = bwrap::version_fact(v.and_then(&mut take).map(exec::finish_capture));
        }
    }
    let first_replay = parts.len() + versions.iter().flatten().count();
    let replays: Vec<_> = replay_argvs
        .into_iter()
        .enumerate()
        .map(|(k, (name, argv))| {
            let out = match take(first_replay + k) {
                Some(run) => exec::finish_capture(run),
                None => exec::Output { output: Vec::new(), exit: exec::Ended::TimedOut },
            };
            bwrap::replay_of(name, argv, out, timeout)
        })
        .collect();
    let bwrap_facts = BwrapFacts { binaries, selected, selected_by };

    let (mut identity, mut process) = match context {
        Some(c) => (c.identity, c.process),
        None => (facts::identity(), facts::process_state()),
    };
    identity.probed_as = target_spec.clone();
    process.chrooted = chrooted;
    lsm.landlock_abi = landlock_fact(&steps);
    let platform = platform_scan
        .finish(process.apparmor_label.get().map(String::as_str), process.uid_map.get().map(String::as_str));
    let confinement = Confinement {
        apparmor_profile: aa_profile,
        apparmor_profile_source: aa_source,
        parent_label,
        parent_exe,
        profiles_for_parent,
        snap: facts::snap(process.apparmor_label.get().map(String::as_str)),
        outer_sandbox: facts::outer_sandbox(),
    };
    tm.mark("report");

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
        distro,
        identity,
        process,
        lsm,
        sysctl,
        apparmor,
        platform,
        unit: unit.map(|u| u.facts).unwrap_or_default(),
        bwrap: bwrap_facts,
        confinement,
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
