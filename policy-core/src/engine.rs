//! The diagnosis engine. One function per rule (named after the rule, declared in `rules.rs`).
//!
//! Evidence order: behavioural (errno per probe step) outranks static facts; static facts (distro, sysctls,
//! markers) pick between mechanisms that give the same errno; an error text alone yields ranked candidates.
//! Scores are only for ordering: 90+ = step evidence plus a fact naming the mechanism, 70–89 = step evidence
//! or a precise text with matching context, below 60 = candidates.

use crate::causes::observe::{self, Obs, TextContext};
use crate::causes::{self, Facts, Ranked};
use crate::config::SandboxConfig;
use crate::ctx::{Cand, Ctx, cand, ev};
use crate::diagnosis::{
    Cause, Confidence, DIAGNOSIS_SCHEMA_VERSION, Diagnosis, Evidence, Finding, InputKind, Remediation, Severity,
    Verdict,
};
use crate::remedy;
use crate::report::{ProbeReport, ReplayExit};
use crate::rules;

// ------------------------------------------------------------------------------------------------
// Rules that judge the report as a whole (the rest live in their cause family's module under `causes/`)

/// NSD191: the real bwrap and the ladder disagree.
fn replay_disagrees_with_ladder(c: &Ctx) -> Option<Cand> {
    if let Some((_, r)) = c.sandbox_replay() {
        if let ReplayExit::SpawnFailed { errno } = &r.exit {
            // The binary itself could not be started: not a namespace policy, but the sandbox cannot run it.
            let path = r.argv.first().cloned().unwrap_or_else(|| c.bwrap_path());
            return Some(
                cand("NSD191", 50, Confidence::High,
                    format!("The sandbox's bwrap `{path}` could not be started ({}): it is missing, not executable, or on a noexec mount. The namespace steps themselves were not the problem.", errno.name),
                    "the real bwrap run never started")
                    .sev(Severity::Warning)
                    .ev(c.replay_ev())
                    .fix(vec![remedy::install_bwrap()]),
            );
        }
    }
    let ok = c.replay_ok()?;
    let ladder_fail = !c.relevant_failures().is_empty();
    if ok != ladder_fail {
        return None;
    }
    if ok && c.restriction().is_some_and(|(on, _)| on) && c.bwrap_profile().is_some() {
        return None; // NSD103 explains it.
    }
    let summary = if ok {
        "The real bwrap runs the sandbox although the probe's own steps fail: bwrap has privileges the probe lacks (setuid, file capabilities, or an AppArmor/SELinux policy attached to its path).".to_string()
    } else {
        "The probe's own steps all succeed, yet the real bwrap fails: something attached to the bwrap binary or its arguments (an AppArmor profile for its path, a broken setuid bit, a missing file) differs from the probe.".to_string()
    };
    Some(
        cand(
            "NSD191",
            if ok { 25 } else { 50 },
            Confidence::Medium,
            summary,
            "the disagreement points at the bwrap binary rather than the kernel",
        )
        .sev(if ok { Severity::Info } else { Severity::Warning })
        .ev(c.replay_ev())
        .ev(c.sandbox_replay().map(|(i, r)| {
            ev(format!("/replays/{i}/stderr"), r.stderr.lines().next().unwrap_or("").to_string(), "bwrap's message")
        }))
        .ev(c
            .r
            .bwrap
            .selected
            .as_ref()
            .map(|p| ev("/bwrap/selected", p.clone(), "the bwrap the sandbox runs"))),
    )
}

/// The operator-facing account of one cause for the observations it explains.
fn ranked_summary(r: &Ranked) -> String {
    let what = match r.cause {
        Cause::ApparmorUsernsRestriction => {
            "AppArmor restricts unprivileged user namespaces here (Ubuntu 23.10+/24.04+ or a host profile without `userns,`): creation is denied with EACCES, or the new namespace is moved into `unprivileged_userns`, which has no capabilities, so setgroups, the id maps, loopback and mounts fail next. The fix is an AppArmor profile with `userns,` for the binary that creates the namespaces."
        }
        Cause::UnprivilegedUsernsCloneDisabled => {
            "The kernel switch `kernel.unprivileged_userns_clone` (Debian/Arch patch; 0 by default on Debian 10 and older and on linux-hardened) is 0, so only root may create user namespaces: EPERM at creation."
        }
        Cause::UsernsLimitZero => {
            "A `user.max_*_namespaces` limit is 0 or used up (RHEL/CentOS 7.4+ default 0; hardening guides): creation fails with ENOSPC (EINVAL on RHEL 7 kernels)."
        }
        Cause::NestedUsernsLimit => {
            "This runs inside another sandbox (Flatpak, bwrap, an agent's sandbox) that forbids a further user namespace or leaves it without capabilities."
        }
        Cause::ContainerSeccomp => {
            "The container runtime's seccomp profile refuses to create namespaces (Docker/containerd/Kubernetes defaults allow clone/unshare with namespace flags only with CAP_SYS_ADMIN; clone3 gets ENOSYS). Programs then blame a kernel sysctl."
        }
        Cause::ContainerNoCaps => {
            "Root inside a container without CAP_SYS_ADMIN creates mount/pid/net namespaces directly and gets EPERM; creating a user namespace first, or granting the capability, gets past it."
        }
        Cause::ContainerApparmorProfile => {
            "The container's AppArmor profile (`docker-default`, LXC's container profile) denies mounts and, with AppArmor 4, user namespaces: EACCES."
        }
        Cause::ProcMountRestricted => {
            "Mounting a new /proc is refused because the /proc this runs under is masked or overmounted (container runtimes' masked paths, another filesystem mounted inside /proc): the kernel only allows a new procfs where the existing one is fully visible."
        }
        Cause::SystemdUnitHardening => {
            "The systemd unit that runs this restricts it (`RestrictNamespaces=`, `SystemCallFilter=`, `RestrictAddressFamilies=`, `ProtectKernelTunables=`/`ProcSubset=`, `PrivateUsers=`, NoNewPrivileges): the sandbox inherits those limits."
        }
        Cause::SelinuxDenial => {
            "SELinux denies the user namespace (`user_namespace { create }`, kernel 6.1+) or the sandbox's mounts for this process's domain: EACCES."
        }
        Cause::SetuidSandboxBroken => {
            "The setuid sandbox helper cannot work: Chromium's `chrome-sandbox` must be root-owned with mode 4755 on a filesystem without nosuid, and a setuid bwrap needs its privileges; this is the fallback when unprivileged user namespaces are unavailable."
        }
        Cause::NewuidmapBroken => {
            "The id-map helpers newuidmap/newgidmap (package uidmap / shadow-utils) failed: missing, without their setuid bit or file capabilities, or the user has no /etc/subuid and /etc/subgid range."
        }
        Cause::Wsl1NoUserns => {
            "WSL1 translates Linux syscalls and has no namespaces: creation fails with EINVAL. Use WSL2."
        }
        Cause::KernelNoUserns => {
            "This kernel does not provide user namespaces (built without CONFIG_USER_NS, older than 3.8, EL6, or RHEL/CentOS 7 before 7.4 where `user_namespace.enable=0`): creation fails with EINVAL."
        }
        Cause::Chroot => {
            "The caller runs in a chroot; the kernel refuses to create user namespaces for chrooted processes (EPERM), and programs misleadingly blame the sysctl."
        }
        Cause::GvisorLoopback => {
            "Inside gVisor the new network namespace's loopback is configured already, so the sandbox's own RTM_NEWADDR fails."
        }
        Cause::MultithreadedCaller => {
            "unshare(CLONE_NEWUSER) returns EINVAL when the calling process has more than one thread (Go, the JVM, Node, a Python program with threads): the program must fork a single-threaded helper first."
        }
        Cause::ApparmorAttachmentConflict => {
            "Two AppArmor profiles attach to the same bwrap path, so the kernel attaches neither and bwrap is restricted as an unconfined program."
        }
        Cause::ApparmorProfileMode => {
            "The AppArmor profile that should exempt the sandbox is in complain or kill mode, which still mediates it."
        }
        Cause::OuterConfinement => {
            "The program that starts the sandbox is itself confined (its own AppArmor profile, a snap), and bwrap inherits that confinement whatever the host allows."
        }
        Cause::BwrapVersion => {
            "bwrap is older than the options the tool passes and stops with `Unknown option` before creating any namespace. The fix is a newer bubblewrap or the tool's bundled copy."
        }
        Cause::Unknown => "",
    };
    match r.primary() {
        Some(o) => format!(
            "{what} Read: {} failed{}.",
            o.op.describe(),
            o.errno.map(|e| format!(" with {e}")).unwrap_or_default()
        ),
        None => what.to_string(),
    }
}

fn ranked_fixes(c: &Ctx, code: &str) -> Vec<Remediation> {
    match code {
        "NSD101" => remedy::apparmor_restriction(c),
        "NSD102" => remedy::apparmor_create_denied(c),
        "NSD111" => remedy::userns_clone_sysctl(c),
        "NSD121" => remedy::userns_limits(c, &["max_user_namespaces", "max_mnt_namespaces", "max_pid_namespaces"]),
        "NSD122" => remedy::userns_limits(c, &["max_net_namespaces"]),
        "NSD123" => remedy::nested(c),
        "NSD131" => remedy::container_seccomp(c),
        "NSD132" => remedy::container_no_caps(c),
        "NSD133" => remedy::container_apparmor(c),
        "NSD134" => remedy::proc_masked(c),
        "NSD135" => remedy::gvisor(c),
        "NSD141" => remedy::unit_restrict_namespaces(c),
        "NSD142" => remedy::unit_address_families(c),
        "NSD143" => remedy::unit_syscall_kill(c),
        "NSD144" => remedy::unit_proc(c, true),
        "NSD145" => remedy::unit_syscall_errno(c),
        "NSD151" => remedy::selinux(c),
        "NSD161" => remedy::setuid_broken(c),
        "NSD162" => remedy::newuidmap(c),
        "NSD171" => remedy::wsl1(),
        "NSD172" => remedy::kernel_no_userns(),
        "NSD173" => remedy::chroot(),
        "NSD174" => remedy::multithreaded(),
        "NSD175" => remedy::bwrap_upgrade(c, "0.9.0"),
        "NSD181" => {
            remedy::parent_profile(c, c.r.confinement.apparmor_profile.as_deref().unwrap_or("<the starter's profile>"))
        }
        _ => remedy::unexplained(c),
    }
}

/// Most findings in a differential: the top cause and the alternatives worth confirming.
const MAX_DIFFERENTIAL: usize = 3;

/// Ranked causes → candidates, in rank order (scores only order them).
fn ranked_candidates(c: &Ctx, diff: &causes::Differential, cap: Confidence) -> Vec<Cand> {
    let mut out = Vec::new();
    let ranked = &diff.ranked;
    let n = ranked.len();
    for (i, r) in ranked.iter().take(MAX_DIFFERENTIAL).enumerate() {
        let score =
            u32::try_from(MAX_DIFFERENTIAL.saturating_sub(i)).unwrap_or(0).saturating_mul(10).saturating_add(10);
        let mut why: Vec<String> = r.reasons.iter().map(|s| (*s).to_string()).collect();
        if i == 0 && n > 1 {
            why.push("the best fit of every cause nsdoctor knows for what was read and the stated facts".to_string());
        }
        if i == 0 && !diff.ruled_out.is_empty() {
            let out: Vec<String> =
                diff.ruled_out.iter().map(|(cause, w)| format!("{} ({w})", cause.as_str())).collect();
            why.push(format!("ruled out by the facts: {}", out.join(", ")));
        } else if i > 0 {
            why.insert(0, "an alternative that also fits".to_string());
        }
        let confidence = match (r.confidence, cap) {
            (_, Confidence::Low) | (Confidence::Low, _) => Confidence::Low,
            (Confidence::Medium, _) | (_, Confidence::Medium) => Confidence::Medium,
            _ => Confidence::High,
        };
        // The best fit is explained in full; an alternative in its first sentence (its doc is one `explain` away).
        let summary = if i == 0 {
            ranked_summary(r)
        } else {
            format!("Would also explain it: {}", first_sentence(&ranked_summary(r)))
        };
        let mut cd = cand(r.code, score, confidence, summary, &why.join("; "));
        // An alternative is at most as severe as the best fit: a warning-level top cause (a multi-threaded
        // caller) is not made blocking by a less likely candidate.
        if i > 0 {
            let top = ranked.first().and_then(|t| rules::by_code(t.code)).map(|t| t.severity);
            let own = rules::by_code(r.code).map(|x| x.severity);
            if let (Some(t), Some(o)) = (top, own) {
                // Severity orders Error < Warning < Info: a top cause that is less severe caps the alternative.
                if t > o {
                    cd = cd.sev(t);
                }
            }
        }
        // The best fit cites everything it explains; an alternative its first failure.
        for o in r.explains.iter().take(if i == 0 { usize::MAX } else { 1 }) {
            cd = cd.ev(Some(obs_ev(o)));
        }
        if i == 0 {
            cd = cd.ev(c.distro_ev());
        }
        // The fixes of the best fit; an alternative is confirmed first (the `to confirm` commands tell them
        // apart) and its fixes are one `nsdoctor explain CODE` away.
        if i == 0 {
            cd = cd.fix(ranked_fixes(c, r.code));
        }
        out.push(cd);
    }
    out
}

fn first_sentence(s: &str) -> String {
    match s.find(". ") {
        Some(end) => s.get(..=end).unwrap_or(s).to_string(),
        None => s.to_string(),
    }
}

fn obs_ev(o: &Obs) -> Evidence {
    let pointer = if o.line_no == 0 { o.pointer.clone() } else { format!("{} (line {})", o.pointer, o.line_no) };
    let meaning = match o.errno {
        Some(e) => format!("{} failed with {e}", o.op.describe()),
        None => format!("{} failed", o.op.describe()),
    };
    ev(pointer, o.line.clone(), meaning)
}

/// The facts view and observations of a report: probe steps, the sandbox's replays and a pasted text.
fn observations(c: &Ctx) -> (Vec<Obs>, Facts) {
    let mut obs = Vec::new();
    let mut tc = TextContext {
        tool_about_ns: observe::names_ns_step(&c.cfg.tool.to_ascii_lowercase()),
        ..TextContext::default()
    };
    if let Some(t) = &c.r.observed_error {
        observe::read_text(t, "/observed_error", &mut obs, &mut tc);
    }
    for (i, rp) in c.r.replays.iter().enumerate() {
        observe::read_text(&rp.stderr, &format!("/replays/{i}/stderr"), &mut obs, &mut tc);
    }
    causes::probe_observations(c.r, &mut obs);
    let facts = Facts::new(c.r, &c.cfg.tool, c.cfg.container_runtime.map(crate::ctx::runtime_name), &tc, &obs);
    (obs, facts)
}

/// Every rule's detection, in registry order.
type Detector = fn(&Ctx) -> Option<Cand>;

const DETECTORS: &[(&str, Detector)] = &[
    ("NSD101", causes::apparmor::apparmor_userns_transition),
    ("NSD102", causes::apparmor::apparmor_userns_create_denied),
    ("NSD103", causes::apparmor::apparmor_restriction_covered),
    ("NSD104", causes::apparmor::apparmor_attachment_conflict),
    ("NSD105", causes::apparmor::apparmor_profile_mode),
    ("NSD106", causes::apparmor::apparmor_profile_not_attached),
    ("NSD111", causes::limits::userns_clone_sysctl_disabled),
    ("NSD121", causes::limits::userns_limit_reached),
    ("NSD122", causes::limits::netns_limit_reached),
    ("NSD123", causes::limits::nested_sandbox_limit),
    ("NSD131", causes::container::container_seccomp_namespaces),
    ("NSD132", causes::container::container_without_sys_admin),
    ("NSD133", causes::container::container_apparmor_mount),
    ("NSD134", causes::container::proc_masked),
    ("NSD135", causes::network::gvisor_loopback_preconfigured),
    ("NSD141", causes::systemd::unit_restrict_namespaces),
    ("NSD142", causes::systemd::unit_address_families),
    ("NSD143", causes::systemd::unit_syscall_filter_kill),
    ("NSD144", causes::systemd::unit_proc_hardening),
    ("NSD145", causes::systemd::unit_syscall_filter_errno),
    ("NSD151", causes::selinux::selinux_userns_denied),
    ("NSD161", causes::setuid::setuid_helper_broken),
    ("NSD162", causes::setuid::newuidmap_broken),
    ("NSD171", causes::kernel::wsl1_no_userns),
    ("NSD172", causes::kernel::kernel_without_userns),
    ("NSD173", causes::kernel::chrooted_caller),
    ("NSD174", causes::kernel::multithreaded_caller),
    ("NSD175", causes::bwrap::bwrap_too_old),
    ("NSD181", causes::outer::parent_apparmor_profile),
    ("NSD182", causes::outer::snap_confinement),
    ("NSD183", causes::outer::landlock_domain),
    ("NSD191", replay_disagrees_with_ladder),
];

/// The codes that have a detector (NSD199 is the fallback in `diagnose`). Used by the registry test.
pub fn detector_codes() -> Vec<&'static str> {
    let mut v: Vec<&str> = DETECTORS.iter().map(|(c, _)| *c).collect();
    v.push("NSD199");
    v
}

/// NSD199: something failed and no rule explains it.
fn unexplained_failure(c: &Ctx) -> Option<Cand> {
    let steps = c.relevant_failures();
    let spawn_failed = c.sandbox_replay().is_some_and(|(_, r)| matches!(r.exit, ReplayExit::SpawnFailed { .. }));
    let replay_failed = c.replay_ok() == Some(false) && !spawn_failed;
    let text = c.syms.iter().find(|s| s.pointer == "/observed_error");
    if steps.is_empty() && !replay_failed && text.is_none() && !(c.text_only() && c.r.observed_error.is_some()) {
        return None;
    }
    let mut cd = cand(
        "NSD199",
        10,
        Confidence::Low,
        "A namespace step failed, but the errno and the host's facts match no mechanism nsdoctor knows (e.g. a BPF-LSM site policy, a patched kernel). The evidence below is what failed.".to_string(),
        "no rule explains the failure",
    );
    for id in steps {
        cd = cd.ev(c.step_ev(id, "failed"));
    }
    cd = cd.ev(if replay_failed { c.replay_ev() } else { None });
    if let Some(s) = text {
        cd = cd.ev(Some(Ctx::sym_ev(s, "reported")));
    } else if c.text_only() {
        if let Some(t) = &c.r.observed_error {
            let first: String = t.lines().find(|l| !l.trim().is_empty()).unwrap_or("").chars().take(300).collect();
            cd = cd.ev(Some(ev("/observed_error", first, "no known symptom in this text")));
        }
    }
    Some(cd.fix(remedy::unexplained(c)))
}

fn headline(verdict: Verdict, top: Option<&Finding>, cfg: &SandboxConfig) -> String {
    match (verdict, top) {
        (Verdict::Ok, Some(f)) if f.severity == Severity::Info => {
            format!("the {} sandbox can create the namespaces it needs ({})", cfg.tool, f.name)
        }
        (Verdict::Ok, _) => format!("the {} sandbox can create the namespaces it needs", cfg.tool),
        (_, Some(f)) => format!("{} (cause: {})", f.title, f.cause.as_str()),
        (_, None) => "no finding".to_string(),
    }
}

pub(crate) fn diagnose(r: &ProbeReport, cfg: &SandboxConfig) -> Diagnosis {
    let text_only = r.steps.is_empty() && r.replays.is_empty() && r.observed_error.is_some();
    let ctx = Ctx::new(r, cfg, !text_only);
    let mut nothing_read = false;
    let mut cands: Vec<Cand> = if text_only {
        // A pasted text: every cause is scored against what the text says failed and the stated facts.
        let (obs, facts) = observations(&ctx);
        nothing_read = obs.is_empty();
        let mut c = ranked_candidates(&ctx, &causes::rank(&obs, &facts), Confidence::Medium);
        if c.is_empty() && !obs.is_empty() {
            // Something failed and no cause fits what was read with these facts.
            c.extend(unexplained_failure(&ctx).map(|cd| cd.evs(obs.iter().map(obs_ev))));
        }
        c
    } else {
        DETECTORS.iter().filter_map(|(_, f)| f(&ctx)).collect()
    };
    // Any finding but the replay disagreement names a mechanism. With none, the ranker reasons by
    // elimination over every cause the facts still allow; only when none fits does NSD199 speak.
    let explained = cands.iter().any(|c| c.code != "NSD191");
    if !explained && !nothing_read {
        if !text_only && !ctx.relevant_failures().is_empty() {
            let (obs, facts) = observations(&ctx);
            let relevant: Vec<Obs> = obs
                .into_iter()
                .filter(|o| {
                    o.pointer.starts_with("/replays/")
                        || ctx
                            .relevant_failures()
                            .iter()
                            .any(|id| r.step_index(*id).is_some_and(|i| o.pointer == format!("/steps/{i}/result")))
                })
                .collect();
            let mut diff = causes::rank(&relevant, &facts);
            diff.ranked.retain(|x| x.score > 0);
            // The facts rule out every mechanism but one: that one, with medium confidence.
            if let [only] = diff.ranked.as_mut_slice() {
                only.confidence = Confidence::Medium;
                only.reasons.push("the only mechanism the probe's facts leave");
            }
            cands.extend(ranked_candidates(&ctx, &diff, Confidence::Medium));
        }
        if !cands.iter().any(|c| c.code != "NSD191") {
            cands.extend(unexplained_failure(&ctx));
        }
    }
    // A finding that explains the real sandbox run's own error is closer to the root cause than one that
    // explains a later ladder step.
    if let Some((i, _)) = ctx.sandbox_replay() {
        let p = format!("/replays/{i}/");
        for c in &mut cands {
            if c.code != "NSD191" && c.evidence.iter().any(|e| e.pointer.starts_with(&p)) {
                c.score = c.score.saturating_add(6);
            }
        }
    }
    // The sandbox's own bwrap ran fine: nothing is blocking it, whatever else the ladder saw.
    let replay_ok = ctx.replay_ok() == Some(true);
    cands.sort_by(|a, b| b.score.cmp(&a.score).then(a.code.cmp(b.code)));
    let mut findings = Vec::new();
    for (i, c) in cands.into_iter().enumerate() {
        let Some(rule) = rules::by_code(c.code) else { continue };
        let mut severity = c.severity.unwrap_or(rule.severity);
        let mut ranking = c.why;
        if replay_ok && severity == Severity::Error && !c.beyond_replay {
            severity = Severity::Warning;
            ranking.push_str("; not blocking: the sandbox's real bwrap run succeeded");
        }
        findings.push(Finding {
            rank: u32::try_from(i.saturating_add(1)).unwrap_or(u32::MAX),
            code: rule.code.to_string(),
            name: rule.name.to_string(),
            cause: rule.cause,
            severity,
            blocking: severity == Severity::Error,
            confidence: c.confidence,
            title: rule.title.to_string(),
            summary: c.summary,
            evidence: c.evidence,
            ranking,
            remediations: c.remediations,
        });
    }
    // On a CI service or managed platform, what may be changed differs: its advice leads the top fix list.
    if let Some(top) = findings.first_mut().filter(|f| f.blocking) {
        let extra = remedy::platform(&ctx, top.cause);
        if !extra.is_empty() {
            if let Some(p) = ctx.r.platform.ci_platform.get() {
                top.evidence.push(ev(
                    "/platform/ci_platform",
                    p.clone(),
                    "the platform decides which fix may be applied",
                ));
            }
            top.remediations.splice(0..0, extra);
        }
    }
    let verdict = if findings.iter().any(|f| f.blocking) {
        Verdict::Blocked
    } else if findings.iter().any(|f| f.severity == Severity::Warning) {
        Verdict::Degraded
    } else {
        Verdict::Ok
    };
    let input = if ctx.has_steps() || !r.replays.is_empty() {
        InputKind::Probe
    } else if r.observed_error.is_some() {
        InputKind::ErrorText
    } else {
        InputKind::StaticFacts
    };
    let mut confirm = Vec::new();
    if input != InputKind::Probe && verdict != Verdict::Ok {
        confirm.push("nsdoctor check".to_string());
        let mut seen = std::collections::BTreeSet::new();
        for f in findings.iter().take(3) {
            for cmd in confirm_for(f.cause) {
                if seen.insert(cmd) {
                    confirm.push(cmd.to_string());
                }
            }
        }
    }
    Diagnosis {
        schema_version: DIAGNOSIS_SCHEMA_VERSION,
        verdict,
        input,
        read: (input == InputKind::ErrorText).then(|| crate::diagnosis::ReadInput {
            lines: u32::try_from(r.observed_error.as_deref().unwrap_or("").lines().count()).unwrap_or(u32::MAX),
            facts: crate::input::stated_facts(r),
        }),
        headline: if input == InputKind::ErrorText && findings.is_empty() {
            "no namespace failure recognised in the text".to_string()
        } else {
            headline(verdict, findings.first(), cfg)
        },
        config: cfg.clone(),
        findings,
        confirm,
        rendered: String::new(),
    }
}

/// Read-only commands that confirm a candidate cause.
fn confirm_for(cause: Cause) -> &'static [&'static str] {
    match cause {
        Cause::ApparmorUsernsRestriction => &[
            "cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            "sudo journalctl -k | grep -E 'apparmor=\"(AUDIT|DENIED)\".*(userns|unprivileged_userns|unpriv_bwrap)'",
        ],
        Cause::UnprivilegedUsernsCloneDisabled => &["cat /proc/sys/kernel/unprivileged_userns_clone"],
        Cause::UsernsLimitZero | Cause::NestedUsernsLimit => &[
            "sysctl user.max_user_namespaces user.max_net_namespaces user.max_mnt_namespaces user.max_pid_namespaces",
            "cat /proc/self/uid_map",
        ],
        Cause::ContainerSeccomp | Cause::ContainerNoCaps => {
            &["grep -E '^(Seccomp|NoNewPrivs|CapEff)' /proc/self/status"]
        }
        Cause::SystemdUnitHardening => &[
            "systemctl show <unit> -p RestrictNamespaces -p SystemCallFilter -p RestrictAddressFamilies -p ProtectKernelTunables -p ProcSubset",
        ],
        Cause::SelinuxDenial => &["getenforce", "sudo ausearch -m AVC -ts recent"],
        Cause::ContainerApparmorProfile => &["cat /proc/self/attr/current"],
        Cause::ProcMountRestricted => &["grep ' /proc/' /proc/self/mountinfo"],
        Cause::Wsl1NoUserns | Cause::KernelNoUserns | Cause::GvisorLoopback => {
            &["cat /proc/version", "ls /proc/self/ns/"]
        }
        Cause::Chroot => &["ls -di / /proc/1/root"],
        Cause::ApparmorAttachmentConflict | Cause::ApparmorProfileMode => &[
            "sudo aa-status",
            "sudo grep -lE '^[[:space:]]*profile[[:space:]]+[^[:space:]]+[[:space:]]+/usr/bin/bwrap' /etc/apparmor.d/*",
        ],
        Cause::OuterConfinement => &["cat /proc/$PPID/attr/current", "echo \"$SNAP_NAME\""],
        Cause::BwrapVersion => &["bwrap --version"],
        Cause::SetuidSandboxBroken | Cause::NewuidmapBroken | Cause::MultithreadedCaller | Cause::Unknown => &[],
    }
}
