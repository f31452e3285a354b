//! AppArmor on the host: Ubuntu's restriction of unprivileged user namespaces (23.10+, on by default from
//! 24.04: creation is denied with EACCES or the namespace is moved into `unprivileged_userns`, which has no
//! capabilities, so setgroups, the id maps, loopback and mounts fail next), and host profiles without
//! `userns,`. Rules NSD101–NSD103; their detectors for probe reports are at the end of this file.

use super::observe::Op;
use super::{Adj, Facts, Knowledge, Ranked, root_outside_container, sign};
use crate::diagnosis::Cause;

pub(crate) const KNOWLEDGE: &[Knowledge] = &[Knowledge {
    cause: Cause::ApparmorUsernsRestriction,
    prior: 6,
    signs: &[
        sign(Op::CreateUserns, &["EACCES"], 30),
        sign(Op::CreateUserns, &["EPERM"], 12),
        sign(Op::CreateNs, &["EPERM", "EACCES"], 8),
        sign(Op::Setgroups, &["EACCES", "EPERM"], 30),
        sign(Op::IdMap, &["EPERM", "EACCES"], 30),
        // newuidmap writing the map of a namespace the restriction left without capabilities (rootlesskit,
        // rootless podman on 24.04).
        sign(Op::IdHelper, &["EPERM", "EACCES"], 30),
        sign(Op::Loopback, &[], 30),
        sign(Op::NetlinkSocket, &["EACCES", "EPERM"], 8),
        sign(Op::Mount, &["EPERM", "EACCES"], 18),
        sign(Op::ProcMount, &["EPERM", "EACCES"], 12),
        sign(Op::SetuidHelper, &[], 12),
        sign(Op::SandboxUnavailable, &[], 15),
        sign(Op::AuditApparmorUserns, &[], 60),
        sign(Op::AuditApparmorTransition, &[], 60),
        sign(Op::AuditApparmorMount, &[], 25),
    ],
    context: restriction_context,
    code: restriction_code,
}];

fn restriction_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.apparmor == Some(false) {
        out.push(Adj::Impossible("AppArmor is not active"));
        return;
    }
    if f.wsl == Some(2) || f.wsl == Some(1) {
        out.push(Adj::Impossible("WSL kernels run without AppArmor"));
        return;
    }
    match (f.ubuntu_base(), f.ubuntu_family()) {
        (Some(v), _) if v >= 2400 => out
            .push(Adj::By(45, "Ubuntu 24.04 and later restrict unprivileged user namespaces with AppArmor by default")),
        (Some(2310), _) => {
            out.push(Adj::By(15, "Ubuntu 23.10 ships the AppArmor restriction (opt-in on that release)"))
        }
        (Some(_), _) => out.push(Adj::By(-40, "this Ubuntu release predates AppArmor's user-namespace mediation")),
        (None, true) => {
            out.push(Adj::By(25, "Ubuntu-based distros from 24.04 on restrict user namespaces with AppArmor"))
        }
        (None, false) => match f.distro.as_deref() {
            None => {
                if f.kernel.as_deref().is_some_and(|k| k.ends_with("-generic"))
                    && f.kernel_version().is_some_and(|v| v >= (6, 7))
                {
                    out.push(Adj::By(15, "an Ubuntu -generic kernel of the 24.04 era"));
                }
            }
            Some(
                "debian"
                | "opensuse-tumbleweed"
                | "opensuse-leap"
                | "arch"
                | "manjaro"
                | "void"
                | "kali"
                | "endeavouros",
            ) => out.push(Adj::By(
                -20,
                "this distro does not restrict user namespaces by default; only a profile without `userns,` would",
            )),
            Some(_) => out.push(Adj::By(-40, "this distro does not use AppArmor for user namespaces")),
        },
    }
    match f.restriction {
        Some(true) => out.push(Adj::By(40, "kernel.apparmor_restrict_unprivileged_userns is 1")),
        Some(false) => out.push(Adj::By(-30, "the restriction sysctl is 0; only a confining profile could deny")),
        None => {}
    }
    if f.hint(super::observe::Hint::RestrictionOn) {
        out.push(Adj::By(40, "the text shows kernel.apparmor_restrict_unprivileged_userns = 1"));
    }
    // Root is exempt from Ubuntu's restriction, not from a profile that confines it without `userns,`.
    if root_outside_container(f) && !f.create_eacces {
        out.push(Adj::By(-40, "root is exempt from the restriction"));
    }
    if f.in_container() == Some(true) {
        out.push(Adj::By(-20, "inside a container the container's own profile applies"));
    }
    if f.nested() {
        out.push(Adj::By(-15, "inside an outer sandbox"));
    }
    if matches!(f.selinux, Some(crate::report::SelinuxMode::Enforcing)) {
        out.push(Adj::By(-25, "SELinux, not AppArmor, is the active LSM"));
    }
    if f.chroot == Some(true) {
        out.push(Adj::By(-20, "the caller is chrooted"));
    }
}

fn restriction_code(r: &Ranked) -> &'static str {
    let later =
        [Op::Setgroups, Op::IdMap, Op::Loopback, Op::AuditApparmorTransition, Op::Mount].iter().any(|op| r.has(*op));
    let denied = r.errno_of(Op::CreateUserns) == Some("EACCES") || r.has(Op::AuditApparmorUserns);
    if denied && !later { "NSD102" } else { "NSD101" }
}

// ---- detectors for probe reports ----

use crate::ctx::{Cand, Ctx, cand, container_profile, ev};
use crate::diagnosis::Confidence;
use crate::remedy;
use crate::report::StepId;
use crate::symptoms::SymptomKind as K;

/// NSD101: unshare succeeds, then every capability-needing step fails — AppArmor's transition into
/// `unprivileged_userns` (Ubuntu 23.10+; AppArmor's `profiles/apparmor.d/unprivileged_userns`).
pub(crate) fn apparmor_userns_transition(c: &Ctx) -> Option<Cand> {
    if c.nested_ctx().is_some() {
        return None; // NSD123 owns capability loss inside an outer sandbox.
    }
    if profile_rule_owns(c) {
        return None;
    }
    let restriction = c.restriction();
    let restriction_on = restriction.as_ref().map(|(on, _)| *on);
    let lost = c.caps_lost();
    let ubuntu = c.distro_id() == Some("ubuntu") || c.like("ubuntu");
    if !lost.is_empty() {
        // The sandbox's own bwrap is covered by a profile and works: NSD103 reports the restriction instead.
        if restriction_on == Some(true)
            && c.replay_ok() != Some(false)
            && (c.replay_ok() == Some(true) || c.bwrap_profile().is_some())
        {
            return None;
        }
        let label_says = c.step_data(StepId::Userns, "label").is_some_and(|l| l.contains("unprivileged_userns"));
        if restriction_on == Some(false) && !label_says {
            return None;
        }
        let strong = label_says || restriction_on == Some(true);
        if !(strong || ubuntu || c.apparmor_on() == Some(true)) {
            return None;
        }
        let (score, conf) = if strong { (96, Confidence::High) } else { (80, Confidence::Medium) };
        let path = c.bwrap_path();
        return Some(
            cand(
                "NSD101",
                score,
                conf,
                format!(
                    "Creating the user namespace succeeded, but AppArmor then moved it into the `unprivileged_userns` profile, which denies every capability. \
                     So the id maps cannot be written and loopback cannot be configured. bwrap reports this as `setting up uid map: Permission denied` or \
                     `loopback: Failed RTM_NEWADDR` (its errno there is stale). {path} has no AppArmor profile granting `userns`."
                ),
                if strong { "the probe's own steps fail exactly where the transition removes capabilities, and the restriction is on" } else { "the probe's own steps fail exactly where the transition removes capabilities; AppArmor is the only LSM here that does this" },
            )
            .ev(c.step_ev(StepId::Userns, "unshare(CLONE_NEWUSER) itself is allowed"))
            .evs(lost)
            .ev(restriction.map(|(_, e)| e))
            .ev(c.distro_ev())
            .ev(c.replay_ev())
            .fix(remedy::apparmor_restriction(c)),
        );
    }
    // Error text only.
    if c.has_steps() {
        return None;
    }
    let s = c.caps_lost_text()?;
    if restriction_on == Some(false) || c.container() == Some("gvisor") && s.s.kind == K::LoopbackRtm {
        return None;
    }
    let v = c.ubuntu_version();
    let (score, conf, why) = match (restriction_on, v) {
        (Some(true), _) => {
            (85, Confidence::Medium, "the text matches the transition's symptom and the restriction is on")
        }
        (_, Some(v)) if v >= 2404 => (
            75,
            Confidence::Medium,
            "the text matches the transition's symptom on an Ubuntu release that restricts user namespaces by default",
        ),
        (_, Some(2310)) => {
            (50, Confidence::Low, "the text matches the transition's symptom; on 23.10 the restriction was opt-in")
        }
        (_, Some(_)) => (35, Confidence::Low, "the text matches, but this Ubuntu release predates the restriction"),
        _ if c.distro_id().is_none() => (
            60,
            Confidence::Low,
            "the text matches the most common cause of this wording (Ubuntu 24.04+); the distro is unknown",
        ),
        _ => (
            30,
            Confidence::Low,
            "the text matches, but the restriction is an Ubuntu kernel feature and this is not Ubuntu",
        ),
    };
    Some(
        cand(
            "NSD101",
            score,
            conf,
            "This wording appears when a user namespace is created but has no capabilities inside it — what Ubuntu's AppArmor restriction does to unconfined programs (23.10+, on by default in 24.04).".to_string(),
            why,
        )
        .ev(Some(Ctx::sym_ev(s, "the symptom of a capability-less user namespace")))
        .ev(c.distro_ev())
        .fix(remedy::apparmor_restriction(c)),
    )
}

/// NSD102: EACCES from unshare/clone itself under AppArmor — a confining profile without `userns,`, or the
/// restriction with `unprivileged_userns` not loaded.
pub(crate) fn apparmor_userns_create_denied(c: &Ctx) -> Option<Cand> {
    if profile_rule_owns(c) {
        return None;
    }
    let step_eacces = c.userns_err() == Some("EACCES");
    let audit = c.sym(&[K::AuditUsernsCreateDenied, K::AuditUnprivilegedMissing]);
    if audit.is_some_and(|s| container_profile(&s.s.line)) || (step_eacces && c.label().is_some_and(container_profile))
    {
        return None; // NSD133: the container's own profile.
    }
    let text_eacces = c.text_create_errno().filter(|(e, _)| *e == "EACCES").map(|(_, s)| s);
    if c.selinux_enforcing() && audit.is_none() {
        return None; // NSD151
    }
    if step_eacces {
        if c.apparmor_on() == Some(false) {
            return None;
        }
        let label = c.label().unwrap_or("");
        let confined = !label.is_empty() && !label.starts_with("unconfined");
        let restriction_on = c.restriction().is_some_and(|(on, _)| on);
        let strong = audit.is_some() || confined || restriction_on || c.apparmor_on() == Some(true);
        let (score, conf) = if strong { (93, Confidence::High) } else { (70, Confidence::Medium) };
        let summary = if confined {
            format!(
                "The kernel refused unshare(CLONE_NEWUSER) with EACCES: this process runs under the AppArmor profile `{label}`, which does not allow `userns`."
            )
        } else {
            "The kernel refused unshare(CLONE_NEWUSER) with EACCES. With AppArmor's restriction on and an unconfined caller, this happens when the `unprivileged_userns` profile is not loaded (AppArmor logs `failed to find unprivileged_userns profile`).".to_string()
        };
        return Some(
            cand(
                "NSD102",
                score,
                conf,
                summary,
                "EACCES at creation comes from an LSM hook; AppArmor is the active LSM",
            )
            .ev(c.step_ev(c.userns_step(), "the LSM userns_create hook denied creation"))
            .ev(c
                .r
                .process
                .apparmor_label
                .get()
                .map(|l| ev("/process/apparmor_label", l.clone(), "the caller's AppArmor label")))
            .ev(c.restriction().map(|(_, e)| e))
            .ev(audit.map(|s| Ctx::sym_ev(s, "AppArmor's audit record of the denial")))
            .fix(remedy::apparmor_create_denied(c)),
        );
    }
    if c.has_steps() && audit.is_none() {
        return None;
    }
    let s = audit.or(text_eacces)?;
    let fedora_like = c.like("fedora") || c.like("rhel") || c.like("centos");
    let (score, conf) = if audit.is_some() {
        (90, Confidence::High)
    } else if c.distro_id() == Some("ubuntu") || c.apparmor_on() == Some(true) {
        (70, Confidence::Medium)
    } else if fedora_like {
        (30, Confidence::Low)
    } else {
        (50, Confidence::Low)
    };
    Some(
        cand(
            "NSD102",
            score,
            conf,
            "Creating the user namespace failed with EACCES (Permission denied). That errno at creation comes from an LSM; under AppArmor it means a confining profile lacks `userns,` or `unprivileged_userns` is not loaded.".to_string(),
            if audit.is_some() { "AppArmor's own audit record names the denial" } else { "EACCES at creation comes from an LSM; AppArmor is the likely one here" },
        )
        .ev(Some(Ctx::sym_ev(s, "user-namespace creation denied")))
        .ev(c.distro_ev())
        .fix(remedy::apparmor_create_denied(c)),
    )
}

/// NSD103: the restriction is on, but the sandbox's bwrap is covered by a profile (replay succeeds).
pub(crate) fn apparmor_restriction_covered(c: &Ctx) -> Option<Cand> {
    let (on, rev) = c.restriction()?;
    if !on {
        return None;
    }
    let replay_ok = c.replay_ok();
    let profile = c.bwrap_profile();
    if replay_ok == Some(false) || (replay_ok.is_none() && profile.is_none()) {
        return None;
    }
    let path = c.bwrap_path();
    if c.privileged() == Some(true) && profile.is_none() {
        // Root is exempt (the restriction only applies to callers without CAP_SYS_ADMIN): say so, not "a profile".
        return Some(
            cand(
                "NSD103",
                20,
                Confidence::High,
                "Ubuntu's AppArmor restriction of unprivileged user namespaces is on, but this probe ran as root, which it exempts. A service user running the sandbox is restricted: probe as that user with `sudo nsdoctor check --as-user <user>`.".to_string(),
                "informational for root; the restriction applies to every unprivileged user",
            )
            .ev(Some(rev))
            .ev(c.r.identity.euid.get().map(|u| ev("/identity/euid", u.to_string(), "the probe ran as root")))
            .ev(c.replay_ev()),
        );
    }
    Some(
        cand(
            "NSD103",
            20,
            if replay_ok == Some(true) { Confidence::High } else { Confidence::Medium },
            format!(
                "Ubuntu's AppArmor restriction of unprivileged user namespaces is on, but {path} has a profile that allows `userns`, so the sandbox works. \
                 Other unconfined programs (and this probe's own steps) are still restricted; children of bwrap under `bwrap-userns-restrict` have no capabilities, so nested sandboxes fail."
            ),
            "informational: nothing to fix for this sandbox",
        )
        .ev(Some(rev))
        .ev(profile)
        .ev(c.replay_ev()),
    )
}

/// A profile-level rule explains the failure better than the restriction itself: conflicting attachments
/// (NSD104), a complain/kill-mode profile (NSD105), a profile for another bwrap path (NSD106), or a probe run
/// under the starter's profile (NSD181).
fn profile_rule_owns(c: &Ctx) -> bool {
    matches!(c.bwrap_attach(), crate::ctx::Attach::Conflict(_))
        || parent_profile(c).is_some()
        || profile_elsewhere(c).is_some()
        || matches!(c.bwrap_attach(), crate::ctx::Attach::One(n, _) if matches!(c.profile_mode(n).as_deref(), Some("complain" | "kill")))
}

/// The failure the sandbox's bwrap shows here, if any: its replay failed, or the probe's own steps lost
/// their capabilities (the transition) or were denied creation.
fn sandbox_failing(c: &Ctx) -> Option<Vec<crate::diagnosis::Evidence>> {
    let mut evs: Vec<_> = c.caps_lost();
    if c.userns_err() == Some("EACCES") {
        evs.extend(c.step_ev(c.userns_step(), "user-namespace creation denied by an LSM"));
    }
    if c.replay_ok() == Some(false) {
        evs.extend(c.replay_ev());
    }
    if let Some(s) = c.caps_lost_text() {
        evs.push(Ctx::sym_ev(s, "the symptom of a capability-less user namespace"));
    }
    (!evs.is_empty()).then_some(evs)
}

/// NSD104: two or more profiles attach to the sandbox's bwrap with equal specificity; the kernel attaches
/// none of them ("conflicting profile attachments", security/apparmor/domain.c), so bwrap runs unconfined
/// and the restriction applies to it again (openai/codex#38715).
pub(crate) fn apparmor_attachment_conflict(c: &Ctx) -> Option<Cand> {
    let crate::ctx::Attach::Conflict(list) = c.bwrap_attach() else { return None };
    if c.apparmor_on() == Some(false) {
        return None;
    }
    let path = c.bwrap_path();
    let names: Vec<String> = list.iter().map(|(n, f)| format!("`{n}` ({f})")).collect();
    let failing = sandbox_failing(c);
    let restriction_on = c.restriction().is_some_and(|(on, _)| on);
    let (score, conf, sev) = match (&failing, restriction_on) {
        (Some(_), _) => (98, Confidence::High, None),
        (None, true) => (70, Confidence::Medium, Some(crate::diagnosis::Severity::Warning)),
        (None, false) => (40, Confidence::Medium, Some(crate::diagnosis::Severity::Warning)),
    };
    let mut cd = cand(
        "NSD104",
        score,
        conf,
        format!(
            "{} AppArmor profiles attach to {path}: {}. Equally specific attachments conflict, and the kernel then attaches none of them \
             (`conflicting profile attachments`), so {path} runs unconfined{}. Installing one more profile for the same path makes it worse; \
             keep one and disable the others.",
            list.len(),
            names.join(", "),
            if restriction_on { " and Ubuntu's restriction applies to it as if no profile existed" } else { "" }
        ),
        if failing.is_some() { "the profiles meant to allow bwrap cancel each other, and the sandbox fails as an unconfined program does" } else { "no profile covers bwrap although several are installed for it" },
    )
    .ev(Some(ev("/apparmor/profiles_for_bwrap", names.join(", "), format!("profiles whose attachment matches {path}"))))
    .evs(list.iter().filter_map(|(n, _)| c.profile_mode_ev(n)))
    .ev(c.restriction().map(|(_, e)| e))
    .evs(failing.unwrap_or_default())
    .fix(remedy::attachment_conflict(c, &list));
    if let Some(s) = sev {
        cd = cd.sev(s);
    }
    Some(cd)
}

/// NSD105: the profile that should let the sandbox create namespaces is in complain or kill mode — the one
/// attaching to bwrap, or the one confining the program that starts it. Complain mode is not `unconfined`:
/// it mediates (and logs), so the restriction and path mediation still bite (ValveSoftware/steam-for-linux
/// #12620: Steam's profile shipped `flags=(complain)`; void-linux/void-packages#61765: an init script forced
/// `flatpak` into complain mode); kill mode kills on the first denial.
pub(crate) fn apparmor_profile_mode(c: &Ctx) -> Option<Cand> {
    if c.apparmor_on() == Some(false) {
        return None;
    }
    let bwrap_side = match c.bwrap_attach() {
        crate::ctx::Attach::One(n, f) => Some((n.to_string(), Some(f.to_string()), "attaches to the sandbox's bwrap")),
        _ => None,
    };
    let parent_side = parent_profile(c).map(|p| (p, None, "confines the program that starts the sandbox"));
    let (name, file, role, mode) = [bwrap_side, parent_side].into_iter().flatten().find_map(|(n, f, role)| {
        let mode = c.profile_mode(&n).or_else(|| crate::ctx::label_mode(c.r, &n))?;
        matches!(mode.as_str(), "complain" | "kill").then_some((n, f, role, mode))
    })?;
    let failing = sandbox_failing(c)?;
    let file_txt = file.as_deref().map(|f| format!(" ({f})")).unwrap_or_default();
    Some(
        cand(
            "NSD105",
            97,
            Confidence::High,
            format!(
                "The AppArmor profile `{name}`{file_txt} {role} and is loaded in {mode} mode. A profile meant to leave the sandbox alone must be \
                 `flags=(unconfined)` (with `userns,`): {} so the sandbox still fails.",
                if mode == "kill" {
                    "kill mode kills the process on the first denied operation,"
                } else {
                    "complain mode still mediates, and bwrap writes its uid_map through a /proc descriptor opened before it changed mount namespace, a path AppArmor cannot name and refuses even in complain mode (containers/bubblewrap#769),"
                }
            ),
            "the profile that should exempt the sandbox mediates it instead",
        )
        .evs(c.profile_mode_ev(&name).or_else(|| c.r.confinement.parent_label.get().map(|l| ev("/confinement/parent_label", l.clone(), "the label of the program that starts the sandbox"))))
        .evs(failing)
        .fix(remedy::profile_mode(c, &name, file.as_deref(), &mode)),
    )
}

/// The profile the sandbox's starter runs under: `--apparmor-profile`/`--parent-pid`.
pub(crate) fn parent_profile(c: &Ctx) -> Option<String> {
    c.r.confinement.apparmor_profile.clone()
}

/// NSD106: a profile for bwrap exists, but not for the bwrap the sandbox runs (a bundled copy, a
/// version-stamped path that an upgrade moved): AppArmor attaches by path (openai/codex#29908).
pub(crate) fn apparmor_profile_not_attached(c: &Ctx) -> Option<Cand> {
    let (other, e) = profile_elsewhere(c)?;
    let failing = sandbox_failing(c)?;
    let path = c.bwrap_path();
    Some(
        cand(
            "NSD106",
            97,
            Confidence::High,
            format!(
                "An AppArmor profile for bwrap is installed ({other}), but the sandbox runs {path}, which no profile attaches to. AppArmor attaches by the \
                 executed path, so this bwrap is unconfined and restricted. A profile that loads is not proof that it attaches: after an upgrade or with a \
                 bundled copy the path differs."
            ),
            "the profile that would exempt bwrap names a different path than the one the sandbox executes",
        )
        .ev(Some(e))
        .ev(c.r.bwrap.selected.as_ref().map(|p| ev("/bwrap/selected", p.clone(), "the bwrap the sandbox runs")))
        .ev(c.restriction().map(|(_, e)| e))
        .evs(failing)
        .ev(c.distro_ev())
        .fix(remedy::apparmor_restriction(c)),
    )
}

/// A bwrap profile that attaches elsewhere: Ubuntu's `bwrap-userns-restrict` (for /usr/bin/bwrap) while the
/// sandbox runs another path that nothing attaches to.
pub(crate) fn profile_elsewhere(c: &Ctx) -> Option<(String, crate::diagnosis::Evidence)> {
    let path = c.bwrap_path();
    if path == "/usr/bin/bwrap"
        || !matches!(c.bwrap_attach(), crate::ctx::Attach::None)
        || !c.restriction().is_some_and(|(on, _)| on)
    {
        return None;
    }
    c.r.apparmor.profiles_for_bwrap.get()?;
    if c.r.apparmor.bwrap_userns_restrict_file.is_true() {
        return Some((
            "Ubuntu's bwrap-userns-restrict, for /usr/bin/bwrap".to_string(),
            ev(
                "/apparmor/bwrap_userns_restrict_file",
                "true",
                "Ubuntu's bwrap profile is installed; it attaches to /usr/bin/bwrap only",
            ),
        ));
    }
    None
}
