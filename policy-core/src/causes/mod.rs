//! Causes as data, reasoning in one ranker; each family module also holds its rules' detectors for probe
//! reports (listed in `engine.rs` `DETECTORS`).
//!
//! Each cause family module (`apparmor`, `limits`, `container`, `systemd`, `selinux`, `setuid`, `kernel`,
//! `network`) declares, for each cause, which failed operations (× errno) it can produce and how strongly,
//! and which facts make it possible, impossible or likely (distro defaults, kernel string, container, service,
//! root, capabilities, SELinux, the program's kind). [`rank`] scores every cause against the observations of
//! a text or a probe report and returns the full differential. Adding a cause = a `Knowledge` entry in its
//! family module, a line in [`KNOWLEDGE`] and fixtures; no cause decides another's precedence.

pub(crate) mod apparmor;
pub(crate) mod bwrap;
pub(crate) mod container;
pub(crate) mod kernel;
pub(crate) mod limits;
pub(crate) mod network;
pub(crate) mod observe;
pub(crate) mod outer;
pub(crate) mod programs;
pub(crate) mod selinux;
pub(crate) mod setuid;
pub(crate) mod systemd;

use crate::ctx::{CAP_SYS_ADMIN_BIT, has_cap, platform_container, version_num};
use crate::diagnosis::{Cause, Confidence};
use crate::report::{ProbeReport, SelinuxMode, StepId, StepResult};
use observe::{Hint, Obs, Op, TextContext};
use programs::Program;

/// How strongly one observation fits a cause.
pub(crate) struct Sign {
    pub op: Op,
    /// The errnos this cause gives for `op`; empty = any (or none named).
    pub errnos: &'static [&'static str],
    pub weight: i32,
}

pub(crate) const fn sign(op: Op, errnos: &'static [&'static str], weight: i32) -> Sign {
    Sign { op, errnos, weight }
}

/// A fact's effect on a cause.
pub(crate) enum Adj {
    /// Raise or lower the cause, with the reason shown to the operator.
    By(i32, &'static str),
    /// The facts rule the cause out.
    Impossible(&'static str),
    /// The cause needs a fact that is absent (an outer confinement nobody reported): skipped without being
    /// listed as ruled out, which would only be noise.
    NotApplicable,
}

/// What one cause can produce and when it is possible.
pub(crate) struct Knowledge {
    pub cause: Cause,
    /// Base rate among real reports, before any fact.
    pub prior: i32,
    pub signs: &'static [Sign],
    pub context: fn(&Facts, &mut Vec<Adj>),
    /// The rule that reports this cause for the observations that support it.
    pub code: fn(&Ranked) -> &'static str,
}

/// Every cause the ranker knows, by family.
pub(crate) const KNOWLEDGE: &[&[Knowledge]] = &[
    apparmor::KNOWLEDGE,
    limits::KNOWLEDGE,
    container::KNOWLEDGE,
    systemd::KNOWLEDGE,
    selinux::KNOWLEDGE,
    setuid::KNOWLEDGE,
    kernel::KNOWLEDGE,
    network::KNOWLEDGE,
    outer::KNOWLEDGE,
    bwrap::KNOWLEDGE,
];

/// The shared, read-only view of the facts every cause reasons from: what the report observed, what the
/// operator stated (`--fact`), and — only where both are silent — what the text itself says.
#[derive(Debug, Default)]
pub(crate) struct Facts {
    pub distro: Option<String>,
    pub id_like: Vec<String>,
    /// VERSION_ID as major*100+minor (24.04 → 2404; 12 → 1200).
    pub version: Option<u32>,
    /// VERSION_ID names a minor release (`7.4`, not `7`).
    pub version_minor: bool,
    pub kernel: Option<String>,
    /// `docker|podman|kubernetes|lxc|gvisor|flatpak|bwrap|none`.
    pub container: Option<&'static str>,
    pub root: Option<bool>,
    pub systemd: Option<bool>,
    pub chroot: Option<bool>,
    pub selinux: Option<SelinuxMode>,
    pub wsl: Option<u8>,
    pub program: Option<&'static Program>,
    pub hints: Vec<Hint>,
    /// From a probe: the sysctl values (None = not known; Some(None) = the knob does not exist).
    pub clone_sysctl: Option<Option<i64>>,
    pub max_userns_zero: Option<bool>,
    pub restriction: Option<bool>,
    pub apparmor: Option<bool>,
    pub seccomp: Option<bool>,
    pub cap_sys_admin: Option<bool>,
    pub bnd_sys_admin: Option<bool>,
    pub userns_supported: Option<bool>,
    /// A probe looked for a chroot and could not tell (not the same as nobody asking).
    pub chroot_inconclusive: bool,
    /// Creation itself was denied with EACCES (an LSM profile or policy, which binds root too).
    pub create_eacces: bool,
    /// The caller is a snap (its name).
    pub snap: Option<String>,
    /// The AppArmor profile of the program that starts the sandbox.
    pub parent_profile: Option<String>,
}

impl Facts {
    pub(crate) fn new(
        r: &ProbeReport,
        tool: &str,
        container_cfg: Option<&'static str>,
        text: &TextContext,
        obs: &[Obs],
    ) -> Self {
        let p = &r.platform;
        // A runtime's markers, then an outer sandbox, then the configured runtime; `none` when every runtime
        // marker was looked for and is absent.
        let container = platform_container(p)
            .or(if p.flatpak.is_true() {
                Some("flatpak")
            } else if p.nested_bwrap.is_true() {
                Some("bwrap")
            } else {
                None
            })
            .or(container_cfg)
            .or_else(|| {
                (p.docker.is_false() && p.podman.is_false() && p.kubernetes.is_false() && p.lxc.is_false())
                    .then_some("none")
            });
        let stated_distro = r.distro.id.get().cloned();
        let (distro, version_raw) = match stated_distro {
            Some(d) => (Some(d), r.distro.version_id.get().cloned()),
            None => match &text.distro {
                Some((d, v)) => (Some(d.clone()), v.clone()),
                None => (None, None),
            },
        };
        let version = version_raw.as_deref().and_then(version_num);
        let version_minor = version_raw.as_deref().is_some_and(|v| v.contains('.'));
        let kernel = r
            .kernel
            .release
            .get()
            .cloned()
            .or_else(|| r.kernel.proc_version.get().cloned())
            .or_else(|| text.kernel.clone());
        let mut hints: Vec<Hint> = text.hints.iter().map(|(h, _, _)| *h).collect();
        let s = &r.sysctl;
        let clone_sysctl = match &s.unprivileged_userns_clone {
            crate::fact::Fact::Observed(v) => Some(Some(*v)),
            crate::fact::Fact::Unavailable(u) if u.errno.as_ref().is_some_and(|e| e.name == "ENOENT") => Some(None),
            _ => None,
        };
        let limits = [&s.max_user_namespaces, &s.max_mnt_namespaces, &s.max_net_namespaces, &s.max_pid_namespaces];
        let max_userns_zero = if limits.iter().any(|f| f.get() == Some(&0)) {
            Some(true)
        } else if s.max_user_namespaces.get().is_some() {
            Some(false)
        } else {
            None
        };
        if max_userns_zero == Some(true) {
            hints.push(Hint::LimitZero);
        }
        let restriction = s
            .apparmor_restrict_unprivileged_userns
            .get()
            .or(s.apparmor_unconfined_restrictions_userns.get())
            .map(|v| *v == 1);
        let apparmor = if r.lsm.apparmor_enabled.is_true()
            || r.lsm.active.get().is_some_and(|l| l.iter().any(|x| x == "apparmor"))
        {
            Some(true)
        } else if r.lsm.apparmor_enabled.is_false()
            || r.lsm.active.get().is_some_and(|l| !l.iter().any(|x| x == "apparmor"))
        {
            Some(false)
        } else {
            None
        };
        let clone3_filtered = matches!(r.step_errno(StepId::Clone3), Some("ENOSYS" | "EPERM"));
        let seccomp = if clone3_filtered { Some(true) } else { r.process.seccomp_mode.get().map(|m| *m == 2) };
        let wsl =
            if p.wsl1.is_true() || hints.contains(&Hint::Wsl1Kernel) || kernel.as_deref().is_some_and(is_wsl1_kernel) {
                Some(1)
            } else if p.wsl2.is_true() {
                Some(2)
            } else {
                None
            };
        // The program that printed the failure decides (a helper such as `apply-seccomp:` may not be the tool
        // the operator named); the stated tool only when the lines name no program; a traceback's runtime last.
        let line_programs: Vec<&str> = obs
            .iter()
            .filter(|o| !o.op.is_audit())
            .filter_map(|o| o.program.as_deref())
            .filter(|p| *p != "nsdoctor")
            .collect();
        let program = match line_programs.iter().find_map(|p| programs::find(p)) {
            Some(p) => Some(p),
            None if line_programs.is_empty() => programs::find(tool).filter(|_| !tool.is_empty()),
            None => None,
        }
        .or_else(|| text.runtime.and_then(programs::runtime));
        Facts {
            distro,
            id_like: r.distro.id_like.get().cloned().unwrap_or_default(),
            version,
            version_minor,
            kernel,
            container,
            root: r.identity.euid.get().or(r.identity.uid.get()).map(|u| *u == 0),
            systemd: if p.systemd_service.is_true() || r.unit.name.is_some() {
                Some(true)
            } else if p.systemd_service.is_false() {
                Some(false)
            } else {
                None
            },
            chroot: r.process.chrooted.get().copied(),
            selinux: r.lsm.selinux.get().copied(),
            wsl,
            program,
            hints,
            clone_sysctl,
            max_userns_zero,
            restriction,
            apparmor,
            seccomp,
            cap_sys_admin: r.process.cap_eff.get().and_then(|h| has_cap(h, CAP_SYS_ADMIN_BIT)),
            bnd_sys_admin: r.process.cap_bnd.get().and_then(|h| has_cap(h, CAP_SYS_ADMIN_BIT)),
            userns_supported: r.kernel.userns_supported.get().copied(),
            chroot_inconclusive: matches!(r.process.chrooted, crate::fact::Fact::Unavailable(_)),
            create_eacces: obs.iter().any(|o| {
                matches!(o.op, Op::CreateUserns | Op::CreateNs) && o.errno == Some("EACCES")
                    || o.op == Op::AuditApparmorUserns
            }),
            snap: r.confinement.snap.get().filter(|s| !s.is_empty()).cloned(),
            parent_profile: r.confinement.apparmor_profile.clone(),
        }
    }

    pub(crate) fn hint(&self, h: Hint) -> bool {
        self.hints.contains(&h)
    }
    pub(crate) fn is(&self, id: &str) -> bool {
        self.distro.as_deref() == Some(id) || self.id_like.iter().any(|l| l == id)
    }
    /// Ubuntu or a distro built on an Ubuntu base, with its Ubuntu-equivalent release (2404 for Mint 22).
    pub(crate) fn ubuntu_base(&self) -> Option<u32> {
        let v = self.version?;
        match self.distro.as_deref()? {
            "ubuntu" | "kubuntu" | "xubuntu" | "lubuntu" | "neon" | "pop" | "tuxedo" | "ubuntu-core" => Some(v),
            // Linux Mint 22 = 24.04, 21 = 22.04; Zorin 18 = 24.04, 17 = 22.04; elementary 8 = 24.04.
            "linuxmint" => Some(if v >= 2200 { 2404 } else { 2204 }),
            "zorin" => Some(if v >= 1800 { 2404 } else { 2204 }),
            "elementary" => Some(if v >= 800 { 2404 } else { 2204 }),
            _ if self.id_like.iter().any(|l| l == "ubuntu") => None,
            _ => None,
        }
    }
    pub(crate) fn ubuntu_family(&self) -> bool {
        matches!(
            self.distro.as_deref(),
            Some(
                "ubuntu"
                    | "kubuntu"
                    | "xubuntu"
                    | "lubuntu"
                    | "neon"
                    | "pop"
                    | "tuxedo"
                    | "linuxmint"
                    | "zorin"
                    | "elementary"
            )
        ) || self.id_like.iter().any(|l| l == "ubuntu")
    }
    pub(crate) fn major(&self) -> Option<u32> {
        self.version.map(|v| v / 100)
    }
    /// RHEL/CentOS/Oracle/Scientific 7 by os-release or an `.el7` kernel.
    pub(crate) fn el(&self) -> Option<u32> {
        if let Some(k) = &self.kernel {
            for (tag, v) in [(".el6", 6), (".el7", 7), (".el8", 8), (".el9", 9), (".el10", 10)] {
                if k.contains(tag) {
                    return Some(v);
                }
            }
        }
        let rhel =
            ["rhel", "centos", "rocky", "almalinux", "ol", "scientific", "amzn", "oracle"].iter().any(|d| self.is(d));
        if rhel { self.major() } else { None }
    }
    pub(crate) fn kernel_version(&self) -> Option<(u32, u32)> {
        kernel::kernel_version(self.kernel.as_deref()?.trim_start_matches(|c: char| !c.is_ascii_digit()))
    }
    pub(crate) fn in_container(&self) -> Option<bool> {
        match self.container {
            Some("docker" | "podman" | "kubernetes" | "lxc") => Some(true),
            Some(_) => Some(false),
            None if self.hint(Hint::Container) => Some(true),
            None => None,
        }
    }
    pub(crate) fn nested(&self) -> bool {
        matches!(self.container, Some("flatpak" | "bwrap")) || self.hint(Hint::Nested)
    }
}

fn is_wsl1_kernel(k: &str) -> bool {
    k.contains("-Microsoft") && !k.contains("microsoft-standard") && !k.contains("WSL2")
}

/// One cause's place in the differential.
#[derive(Debug, Clone)]
pub(crate) struct Ranked {
    pub cause: Cause,
    pub score: i32,
    pub confidence: Confidence,
    /// The observations this cause explains, most telling first.
    pub explains: Vec<Obs>,
    /// Why it ranks where it does (fact reasons, in order).
    pub reasons: Vec<&'static str>,
    pub code: &'static str,
}

impl Ranked {
    /// The first failure this cause explains (its errno and operation pick the rule).
    pub(crate) fn primary(&self) -> Option<&Obs> {
        self.explains.iter().filter(|o| !o.op.is_audit()).min_by_key(|o| o.op.stage()).or_else(|| self.explains.first())
    }
    pub(crate) fn has(&self, op: Op) -> bool {
        self.explains.iter().any(|o| o.op == op)
    }
    pub(crate) fn errno_of(&self, op: Op) -> Option<&'static str> {
        self.explains.iter().find(|o| o.op == op).and_then(|o| o.errno)
    }
}

const CONTRADICTS: i32 = -30;
const MISSES_PRIMARY: i32 = -20;
const MISSES_OTHER: i32 = -5;

/// How one observation fits one cause: Some(weight) (negative = contradicts), None = not this cause's.
fn fit(k: &Knowledge, o: &Obs) -> Option<i32> {
    let signs: Vec<&Sign> = k.signs.iter().filter(|s| s.op == o.op).collect();
    if signs.is_empty() {
        return None;
    }
    match o.errno {
        Some(e) => signs
            .iter()
            .filter(|s| s.errnos.is_empty() || s.errnos.contains(&e))
            .map(|s| s.weight)
            .max()
            .or(Some(CONTRADICTS)),
        None => signs.iter().map(|s| if s.errnos.is_empty() { s.weight } else { s.weight / 2 }).max(),
    }
}

/// The differential and the causes the facts ruled out (with the fact that did).
pub(crate) struct Differential {
    pub ranked: Vec<Ranked>,
    pub ruled_out: Vec<(Cause, &'static str)>,
}

/// Scores every cause against the observations and facts; the differential, best first. Empty when there is
/// no observation (nothing failed) or nothing fits.
pub(crate) fn rank(obs: &[Obs], facts: &Facts) -> Differential {
    // One observation per (operation, errno): repeated lines are one symptom.
    let mut uniq: Vec<&Obs> = Vec::new();
    for o in obs {
        if !uniq.iter().any(|u| u.op == o.op && u.errno == o.errno) {
            uniq.push(o);
        }
    }
    let primary = uniq.iter().filter(|o| !o.op.is_audit()).map(|o| o.op.stage()).min();
    let mut out: Vec<Ranked> = Vec::new();
    let mut ruled_out = Vec::new();
    for k in KNOWLEDGE.iter().flat_map(|f| f.iter()) {
        let mut adjs = Vec::new();
        (k.context)(facts, &mut adjs);
        if adjs.iter().any(|a| matches!(a, Adj::NotApplicable)) {
            continue;
        }
        if let Some(why) = adjs.iter().find_map(|a| if let Adj::Impossible(w) = a { Some(*w) } else { None }) {
            if uniq.iter().any(|o| fit(k, o).is_some_and(|w| w > 0)) {
                ruled_out.push((k.cause, why));
            }
            continue;
        }
        let mut score = k.prior;
        let mut explains: Vec<(i32, Obs)> = Vec::new();
        let mut explains_primary = primary.is_none();
        for o in &uniq {
            match fit(k, o) {
                Some(w) if w > 0 => {
                    score = score.saturating_add(w);
                    if Some(o.op.stage()) == primary {
                        explains_primary = true;
                    }
                    explains.push((w, (*o).clone()));
                }
                Some(w) => score = score.saturating_add(w),
                None if !o.op.is_audit() && Some(o.op.stage()) != primary => score = score.saturating_add(MISSES_OTHER),
                None => {}
            }
        }
        if explains.is_empty() {
            continue;
        }
        if !explains_primary {
            score = score.saturating_add(MISSES_PRIMARY);
        }
        let mut reasons = Vec::new();
        for a in adjs {
            if let Adj::By(d, why) = a {
                score = score.saturating_add(d);
                if d > 0 {
                    reasons.push(why);
                }
            }
        }
        explains.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.op.stage().cmp(&b.1.op.stage())));
        let mut r = Ranked {
            cause: k.cause,
            score,
            confidence: Confidence::Low,
            explains: explains.into_iter().map(|(_, o)| o).collect(),
            reasons,
            code: "",
        };
        r.code = (k.code)(&r);
        out.push(r);
    }
    out.sort_by(|a, b| {
        b.score
            .cmp(&a.score)
            .then(Cause::ALL.iter().position(|c| *c == a.cause).cmp(&Cause::ALL.iter().position(|c| *c == b.cause)))
    });
    let second = out.get(1).map(|r| r.score);
    for (i, r) in out.iter_mut().enumerate() {
        let margin = if i == 0 { r.score.saturating_sub(second.unwrap_or(0)) } else { 0 };
        r.confidence = if i == 0 && r.score >= 70 && margin >= 25 {
            Confidence::High
        } else if i == 0 && r.score >= 40 && margin >= 10 {
            Confidence::Medium
        } else {
            Confidence::Low
        };
    }
    Differential { ranked: out, ruled_out }
}

/// A probe report's failed steps as observations (errnos are the kernel's own).
pub(crate) fn probe_observations(r: &ProbeReport, out: &mut Vec<Obs>) {
    for (i, s) in r.steps.iter().enumerate() {
        let errno = match &s.result {
            StepResult::Failed { errno } => crate::errno::number_of(&errno.name).and_then(crate::errno::name_of),
            StepResult::Killed { .. } => None,
            _ => continue,
        };
        let op = match s.id {
            StepId::Userns | StepId::FlagUserNet => Op::CreateUserns,
            StepId::Netns | StepId::Mountns | StepId::Pidns | StepId::FlagNet | StepId::FlagMnt | StepId::FlagPid => {
                Op::CreateNs
            }
            StepId::Setgroups => Op::Setgroups,
            StepId::UidMap | StepId::GidMap => Op::IdMap,
            StepId::NetlinkSocket => Op::NetlinkSocket,
            StepId::NetlinkNewaddr | StepId::NetlinkNewlink => Op::Loopback,
            StepId::MountSlave | StepId::MountTmpfs => Op::Mount,
            StepId::ProcMount => Op::ProcMount,
            StepId::Clone3 | StepId::Landlock => continue,
        };
        let op = if matches!(s.result, StepResult::Killed { .. }) { Op::SeccompKill } else { op };
        let observed = match &s.result {
            StepResult::Failed { errno } => format!("{}: {} ({})", s.syscall, errno.name, errno.number),
            StepResult::Killed { signal } => format!("{}: killed by {signal}", s.syscall),
            _ => String::new(),
        };
        if !out.iter().any(|o| o.op == op && o.errno == errno) {
            out.push(Obs {
                op,
                errno,
                program: Some("nsdoctor".to_string()),
                pointer: format!("/steps/{i}/result"),
                line_no: 0,
                line: observed,
            });
        }
    }
}

// ---- helpers the family modules share ----

/// An unprivileged caller: the restrictions that exempt CAP_SYS_ADMIN in the initial namespace apply.
pub(crate) fn root_outside_container(f: &Facts) -> bool {
    f.root == Some(true) && f.in_container() != Some(true) && !f.nested() && f.cap_sys_admin != Some(false)
}

/// `## Reading an error text` for a cause's rules: the failures it explains and how strongly, from the knowledge
/// the ranker uses (so `nsdoctor explain` cannot drift from it). Empty for causes the ranker does not name.
pub(crate) fn reading(cause: Cause) -> String {
    use std::fmt::Write as _;
    let Some(k) = KNOWLEDGE.iter().flat_map(|f| f.iter()).find(|k| k.cause == cause) else {
        return String::new();
    };
    let mut s = String::from(
        "\n## Reading an error text\n\nA pasted text is read for failed operations and their errnos, in any program's wording. This cause\nexplains:\n\n",
    );
    for sg in k.signs {
        let strength = match sg.weight {
            w if w >= 40 => "decisive",
            w if w >= 25 => "strong",
            w if w >= 12 => "moderate",
            _ => "weak",
        };
        let errnos = if sg.errnos.is_empty() { "any errno".to_string() } else { sg.errnos.join(", ") };
        let _ = writeln!(s, "- {} ({errnos}): {strength}", sg.op.describe());
    }
    s.push_str("\nThe stated facts (distro and release, kernel, container, service, root, SELinux, chroot, the program) then\nraise it, lower it or rule it out; the finding's `ranked here because` line names the facts that did.\n");
    s
}
