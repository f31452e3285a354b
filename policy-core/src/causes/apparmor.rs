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
        (Some(v), _) if v >= 2400 => out.push(Adj::By(45, "Ubuntu 24.04 and later restrict unprivileged user namespaces with AppArmor by default")),
        (Some(2310), _) => out.push(Adj::By(15, "Ubuntu 23.10 ships the AppArmor restriction (opt-in on that release)")),
        (Some(_), _) => out.push(Adj::By(-40, "this Ubuntu release predates AppArmor's user-namespace mediation")),
        (None, true) => out.push(Adj::By(25, "Ubuntu-based distros from 24.04 on restrict user namespaces with AppArmor")),
        (None, false) => match f.distro.as_deref() {
            None => {
                if f.kernel.as_deref().is_some_and(|k| k.ends_with("-generic")) && f.kernel_version().is_some_and(|v| v >= (6, 7)) {
                    out.push(Adj::By(15, "an Ubuntu -generic kernel of the 24.04 era"));
                }
            }
            Some("debian" | "opensuse-tumbleweed" | "opensuse-leap" | "arch" | "manjaro" | "void" | "kali" | "endeavouros") => {
                out.push(Adj::By(-20, "this distro does not restrict user namespaces by default; only a profile without `userns,` would"))
            }
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
    let later = [Op::Setgroups, Op::IdMap, Op::Loopback, Op::AuditApparmorTransition, Op::Mount].iter().any(|op| r.has(*op));
    let denied = r.errno_of(Op::CreateUserns) == Some("EACCES") || r.has(Op::AuditApparmorUserns);
    if denied && !later { "NSD102" } else { "NSD101" }
}

// ---- detectors for probe reports ----

use crate::remedy;
use crate::ctx::{Cand, Ctx, cand, container_profile, ev};
use crate::diagnosis::Confidence;
use crate::report::StepId;
use crate::symptoms::SymptomKind as K;

/// NSD101: unshare succeeds, then every capability-needing step fails — AppArmor's transition into
/// `unprivileged_userns` (Ubuntu 23.10+; AppArmor's `profiles/apparmor.d/unprivileged_userns`).
pub(crate) fn apparmor_userns_transition(c: &Ctx) -> Option<Cand> {
    if c.nested_ctx().is_some() {
        return None; // NSD123 owns capability loss inside an outer sandbox.
    }
    let restriction = c.restriction();
    let restriction_on = restriction.as_ref().map(|(on, _)| *on);
    let lost = c.caps_lost();
    let ubuntu = c.distro_id() == Some("ubuntu") || c.like("ubuntu");
    if !lost.is_empty() {
        // The sandbox's own bwrap is covered by a profile and works: NSD103 reports the restriction instead.
        if restriction_on == Some(true) && c.replay_ok() != Some(false) && (c.replay_ok() == Some(true) || c.bwrap_profile().is_some()) {
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
        (Some(true), _) => (85, Confidence::Medium, "the text matches the transition's symptom and the restriction is on"),
        (_, Some(v)) if v >= 2404 => (75, Confidence::Medium, "the text matches the transition's symptom on an Ubuntu release that restricts user namespaces by default"),
        (_, Some(2310)) => (50, Confidence::Low, "the text matches the transition's symptom; on 23.10 the restriction was opt-in"),
        (_, Some(_)) => (35, Confidence::Low, "the text matches, but this Ubuntu release predates the restriction"),
        _ if c.distro_id().is_none() => (60, Confidence::Low, "the text matches the most common cause of this wording (Ubuntu 24.04+); the distro is unknown"),
        _ => (30, Confidence::Low, "the text matches, but the restriction is an Ubuntu kernel feature and this is not Ubuntu"),
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
    let step_eacces = c.userns_err() == Some("EACCES");
    let audit = c.sym(&[K::AuditUsernsCreateDenied, K::AuditUnprivilegedMissing]);
    if audit.is_some_and(|s| container_profile(&s.s.line)) || (step_eacces && c.label().is_some_and(container_profile)) {
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
            format!("The kernel refused unshare(CLONE_NEWUSER) with EACCES: this process runs under the AppArmor profile `{label}`, which does not allow `userns`.")
        } else {
            "The kernel refused unshare(CLONE_NEWUSER) with EACCES. With AppArmor's restriction on and an unconfined caller, this happens when the `unprivileged_userns` profile is not loaded (AppArmor logs `failed to find unprivileged_userns profile`).".to_string()
        };
        return Some(
            cand("NSD102", score, conf, summary, "EACCES at creation comes from an LSM hook; AppArmor is the active LSM")
                .ev(c.step_ev(c.userns_step(), "the LSM userns_create hook denied creation"))
                .ev(c.r.process.apparmor_label.get().map(|l| ev("/process/apparmor_label", l.clone(), "the caller's AppArmor label")))
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
