//! The native probe: static facts, the syscall ladder in forked children, the bwrap replay and the sandbox
//! config, gathered into one `ProbeReport`. Nothing here changes host state: namespaces live and die with the
//! probe children, mounts happen only inside a private mount namespace after `/` was made a slave.

mod apparmor_files;
mod bwrap;
mod child;
mod config;
mod evidence;
mod exec;
mod facts;
mod filter;
pub(crate) mod fingerprint;
mod ladder;
mod netlink;
mod sys;
mod syscalls;
mod unit;
mod user;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use policy_core::config::ServiceManager;
use policy_core::fact::Fact;
use policy_core::report::{BwrapFacts, Confinement, ProbeReport, SCHEMA_VERSION, Step, StepId, StepResult};

use exec::Capture;
use ladder::{Part, PartResult};
use user::{Fault, Setup, SetupError};

use crate::{CheckOptions, Error};

pub use ladder::STEPS;

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

/// The fingerprint for `opts`: the files it stats are the ones a probe with these options would look at (the
/// bwrap candidates in search order, the config files, the unit's files), plus the options themselves.
pub fn fingerprint(opts: &CheckOptions) -> fingerprint::Fingerprint {
    let target = opts.as_user.as_deref().and_then(|u| user::resolve(u).ok());
    let home = home_of(target.as_ref(), nix::unistd::getuid());
    let bwrap: Vec<PathBuf> =
        bwrap::discover(opts.bwrap.as_deref(), home.as_deref()).into_iter().map(|(p, _)| p).collect();
    let mut files: Vec<PathBuf> = match &opts.config {
        Some(p) => vec![p.clone()],
        None => [config::openclaw_path(home.as_deref()), config::codex_path(home.as_deref())]
            .into_iter()
            .flatten()
            .collect(),
    };
    if let Some(u) = &opts.unit {
        for dir in ["/etc/systemd/system", "/run/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system"] {
            files.push(std::path::Path::new(dir).join(u));
            files.push(std::path::Path::new(dir).join(format!("{u}.d")));
        }
    }
    let parent_label = opts.parent_pid.map(|pid| format!("{:?}", facts::apparmor_label_of(pid)));
    let options = format!(
        "as_user {:?} unit {:?} network {:?} apparmor_profile {:?} parent_label {:?} no_bwrap {}",
        opts.as_user, opts.unit, opts.network, opts.apparmor_profile, parent_label, opts.no_bwrap
    );
    fingerprint::compute(&bwrap, &files, &options)
}

/// The home directory whose config files and Codex install the sandbox would use: the probed user's, else
/// `$HOME`, else the invoking user's passwd entry.
fn home_of(target: Option<&user::Target>, uid: nix::unistd::Uid) -> Option<PathBuf> {
    target
        .map(|t| t.home.clone())
        .unwrap_or_else(|| std::env::var_os("HOME").filter(|h| !h.is_empty()).map(PathBuf::from))
        .or_else(|| nix::unistd::User::from_uid(uid).ok().flatten().map(|u| u.dir))
}

/// Probes this host: the fast path first unless `opts.full`, the full ladder when it does not hold.
pub fn gather(opts: &CheckOptions) -> Result<ProbeReport, Error> {
    let mut tm = Timing::from_env();
    let (uid, euid) = (nix::unistd::getuid(), nix::unistd::geteuid());
    let (gid, egid) = (nix::unistd::getgid(), nix::unistd::getegid());
    if uid != euid || gid != egid {
        return Err(Error::SetId { uid: uid.as_raw(), euid: euid.as_raw(), gid: gid.as_raw(), egid: egid.as_raw() });
    }
    let timeout = if opts.timeout.is_zero() { Duration::from_secs(5) } else { opts.timeout };

    let unit = opts.unit.as_deref().map(|u| unit::read_unit(u, timeout));
    let unit_user = unit.as_ref().and_then(|u| u.facts.user.get().cloned()).filter(|s| !s.is_empty());

    let target_spec = match (&opts.as_user, &unit_user) {
        (Some(u), _) => {
            if !euid.is_root() {
                return Err(Error::AsUserNeedsRoot { user: u.clone() });
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
                Fact::unavailable(&format!("/proc/{pid}/exe: {e}"), Some(evidence::fact_errno(evidence::io_errno(&e))))
            }
        },
        None => Fact::NotProbed,
    };
    if let (Some(pid), Fact::Unavailable(u)) = (opts.parent_pid, &parent_label) {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            return Err(Error::NoSuchProcess { pid });
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

    let home = home_of(target.as_ref(), uid);

    // Config: --config replaces discovery; flags override single fields.
    let (mut config, mut source) = match &opts.config {
        Some(path) => {
            let bytes = std::fs::read(path).map_err(|source| Error::ConfigRead { path: path.clone(), source })?;
            let c = policy_core::input::parse_config(&bytes)
                .map_err(|source| Error::ConfigInvalid { path: path.clone(), source })?;
            (c, format!("--config {}", path.display()))
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

    // Every child starts now and runs concurrently (the ladder's children, `bwrap --version` for each
    // candidate, the replays); the parent reads the static facts meanwhile, then collects them all against one
    // deadline. The ladder's children are independent: each creates its own namespaces from the same start.
    // The fast path is one child doing what the sandbox does; the full ladder runs when it does not hold.
    let deadline = Instant::now() + timeout;
    let probed_root = target.as_ref().map(|t| t.uid.is_root()).unwrap_or(euid.is_root());
    let runner = Runner { setup: &setup, fault: &fault, timing: tm.t0, timeout };
    let full_parts = ladder::full_parts(probed_root);
    let first_parts = if opts.full { full_parts.to_vec() } else { vec![Part::Combined { net: config.needs_netns() }] };
    // The children wait at a gate until all are forked (see `child::Gate`); a lone child needs none.
    let lone = first_parts.len() == 1 && (opts.no_bwrap && opts.bwrap.is_none());
    let mut gate = if lone { None } else { child::Gate::new() };
    let mut children: Vec<child::Spawned> = first_parts.iter().map(|p| runner.spawn(*p, gate.as_mut())).collect();
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
    // The probe children send their ids; the name of the probed uid is looked up here meanwhile.
    let probed_uid = target.as_ref().map_or(euid, |t| t.uid).as_raw();
    let probed_user = facts::user_name(probed_uid);
    tm.mark("facts");

    child::collect_all(&mut children, deadline);
    tm.mark("children");
    let mut runs: Vec<Option<child::ChildRun>> = children.into_iter().map(|c| Some(c.into_run())).collect();
    let mut take = |i: usize| runs.get_mut(i).and_then(Option::take);

    let setup_error = |e: SetupError| match e {
        SetupError::AppArmor { .. } => Error::AppArmorProfile { reason: e.to_string() },
        _ => {
            Error::Setup { user: target_spec.clone().unwrap_or_else(|| "this user".to_string()), reason: e.to_string() }
        }
    };
    let mut results: Vec<PartResult> =
        first_parts.iter().enumerate().map(|(i, part)| runner.decode(*part, take(i))).collect();
    if let Some(e) = results.iter().find_map(|r| r.setup_failed.clone()) {
        return Err(setup_error(e));
    }
    let fast = !opts.full && results.first().is_some_and(ladder::fast_path_held);
    if !opts.full && !fast {
        // A step of the sandbox's own setup failed: the full ladder takes each step apart for the evidence that
        // names the cause.
        let fast_context = results.iter_mut().find_map(|r| r.context.take());
        results = runner.run_all(full_parts);
        tm.mark("full ladder");
        if let Some(e) = results.iter().find_map(|r| r.setup_failed.clone()) {
            return Err(setup_error(e));
        }
        if results.iter().all(|r| r.context.is_none()) {
            if let (Some(r), Some(c)) = (results.first_mut(), fast_context) {
                r.context = Some(c);
            }
        }
    }
    if !fast {
        runner.rerun_lost(full_parts, &mut results);
    }
    let context = results.iter_mut().find_map(|r| r.context.take());
    let mut steps: Vec<Step> = Vec::new();
    for r in results {
        steps.extend(r.steps);
    }
    let flags_skipped = if !probed_root {
        Some("not root: without a user namespace an unprivileged caller always gets EPERM")
    } else if fast {
        Some(
            "the sandbox's namespaces came up in one call, so no flag needs isolating (nsdoctor check --full probes each)",
        )
    } else {
        None
    };
    if let Some(reason) = flags_skipped {
        for id in Part::Flags.steps() {
            steps.push(Step {
                id: *id,
                syscall: ladder::default_call(*id).to_string(),
                result: StepResult::Skipped { reason: reason.to_string() },
                data: BTreeMap::new(),
            });
        }
    }
    // Report order whatever order the children ran the steps in.
    steps.sort_by_key(|s| STEPS.iter().position(|id| *id == s.id));
    for (b, v) in binaries.iter_mut().zip(&versions) {
        if run_bwrap {
            b.version = bwrap::version_fact(v.and_then(&mut take).map(exec::finish_capture));
        }
    }
    let first_replay = first_parts.len() + versions.iter().flatten().count();
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
    if identity.user == Fact::NotProbed {
        identity.user = match identity.uid {
            Fact::Observed(uid) if uid == probed_uid => probed_user,
            Fact::Observed(uid) => facts::user_name(uid),
            _ => Fact::unavailable("the probe child sent no uid", None),
        };
    }
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

/// Runs the ladder's children with the probe's setup.
struct Runner<'a> {
    setup: &'a Setup,
    fault: &'a Fault,
    timing: Option<Instant>,
    timeout: Duration,
}

impl Runner<'_> {
    /// The context (identity, process state) comes from the fast path's child, or from the short syscalls
    /// child of the full ladder, which applies the same setup as the others: the main ladder, the longest,
    /// starts probing at once.
    fn wants_context(part: Part) -> bool {
        matches!(part, Part::Syscalls | Part::SyscallsFlags | Part::Combined { .. })
    }

    fn spawn(&self, part: Part, gate: Option<&mut child::Gate>) -> child::Spawned {
        ladder::spawn(part, self.setup, self.fault, Self::wants_context(part), self.timing, gate)
    }

    fn decode(&self, part: Part, run: Option<child::ChildRun>) -> PartResult {
        match run {
            Some(run) => ladder::decode(part, &run.output, run.exit, self.timeout),
            None => PartResult::default(),
        }
    }

    /// Runs parts concurrently against one deadline.
    fn run_all(&self, parts: &[Part]) -> Vec<PartResult> {
        let deadline = Instant::now() + self.timeout;
        let mut gate = child::Gate::new();
        let mut children: Vec<child::Spawned> = parts.iter().map(|p| self.spawn(*p, gate.as_mut())).collect();
        if let Some(g) = gate.as_mut() {
            g.open();
        }
        child::collect_all(&mut children, deadline);
        parts.iter().zip(children).map(|(p, c)| self.decode(*p, Some(c.into_run()))).collect()
    }

    /// The full ladder's re-runs, each part alone after the others.
    fn rerun_lost(&self, parts: &[Part], results: &mut [PartResult]) {
        let alone = |part: Part| self.run_all(&[part]).pop().unwrap_or_default();
        // ENOSPC: the parts ran at once, so this probe held up to two user and three net namespaces at the same
        // time where the sandbox holds one of each. Under a `user.max_*_namespaces` limit that low (but not zero)
        // a step would fail here that the sandbox passes: a part with an ENOSPC runs again alone and that run
        // counts.
        for (part, r) in parts.iter().zip(results.iter_mut()) {
            let enospc =
                r.steps.iter().any(|s| matches!(&s.result, StepResult::Failed { errno } if errno.name == "ENOSPC"));
            if enospc {
                *r = alone(*part);
            }
        }
        // As root the flags share a child with clone3 and Landlock. If that child died before it reached them (a
        // seccomp kill on clone3, a hang), they run again in a child of their own, so their evidence is never
        // lost. (The child itself never skips a flag step.)
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
    }
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
