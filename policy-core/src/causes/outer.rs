//! Confinement around the sandbox that is not the host's own policy: the AppArmor profile of the program that
//! starts bwrap (ValveSoftware/steam-for-linux#12620, reproduced with `aa-exec -p steam`), snap confinement
//! (canonical/steam-snap#512: `bwrap: Can't open /proc/self/mountinfo: Permission denied`), and a Landlock
//! domain an outer tool put the caller in (gitmoot#1812: `setting up uid map: Permission denied` with every host
//! knob permissive). Rules NSD181–NSD183; their detectors for probe reports are below.

use super::observe::Op;
use super::{Adj, Facts, Knowledge, Ranked, sign};
use crate::ctx::{Cand, Ctx, cand, ev};
use crate::diagnosis::{Cause, Confidence, Evidence};
use crate::remedy;
use crate::report::StepId;

/// Text reports name outer confinement only through stated facts (`--fact snap=NAME`,
/// `--fact apparmor-profile=NAME`): without one the cause is not considered.
pub(crate) const KNOWLEDGE: &[Knowledge] = &[
    Knowledge {
        cause: Cause::OuterConfinement,
        prior: 0,
        signs: SIGNS,
        context: snap_context,
        code: |_: &Ranked| "NSD182",
    },
    Knowledge {
        cause: Cause::OuterConfinement,
        prior: 0,
        signs: SIGNS,
        context: parent_context,
        code: |_: &Ranked| "NSD181",
    },
];

const SIGNS: &[super::Sign] = &[
    sign(Op::CreateUserns, &["EACCES", "EPERM"], 30),
    sign(Op::Setgroups, &["EACCES", "EPERM"], 25),
    sign(Op::IdMap, &["EACCES", "EPERM"], 25),
    sign(Op::Mount, &["EACCES", "EPERM"], 25),
    sign(Op::ProcMount, &["EACCES", "EPERM"], 20),
    sign(Op::AuditApparmorUserns, &[], 40),
];

fn snap_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.snap.is_some() {
        out.push(Adj::By(60, "the program runs confined as a snap"));
    } else {
        out.push(Adj::NotApplicable);
    }
}

fn parent_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.parent_profile.is_some() && f.snap.is_none() {
        out.push(Adj::By(60, "the program that starts the sandbox runs under its own AppArmor profile"));
    } else {
        out.push(Adj::NotApplicable);
    }
}

fn failed_evs(c: &Ctx, ids: &[StepId]) -> Vec<Evidence> {
    ids.iter()
        .filter(|id| c.err(**id).is_some())
        .filter_map(|id| c.step_ev(*id, "fails under this confinement"))
        .collect()
}

/// NSD181: the probe ran under the starter's AppArmor profile (`--apparmor-profile`, `--parent-pid`) and
/// user-namespace creation or its next steps fail there: that profile lacks `userns,` (abi 4.0 mediation
/// denies creation with EACCES), or stacks a restriction.
pub(crate) fn parent_apparmor_profile(c: &Ctx) -> Option<Cand> {
    let profile = c.r.confinement.apparmor_profile.as_deref()?;
    if matches!(c.profile_mode(profile).as_deref(), Some("complain" | "kill"))
        || c.r.confinement.parent_label.get().is_some_and(|l| l.ends_with("(complain)") || l.ends_with("(kill)"))
    {
        return None; // NSD105
    }
    let evs = failed_evs(
        c,
        &[
            StepId::Userns,
            StepId::FlagUserNet,
            StepId::Setgroups,
            StepId::UidMap,
            StepId::GidMap,
            StepId::NetlinkNewaddr,
            StepId::MountSlave,
        ],
    );
    let replay_failed = c.replay_ok() == Some(false);
    if evs.is_empty() && !replay_failed {
        return None;
    }
    let create = c.userns_err() == Some("EACCES");
    let source = c.r.confinement.apparmor_profile_source.clone().unwrap_or_else(|| "--apparmor-profile".to_string());
    Some(
        cand(
            "NSD181",
            97,
            Confidence::High,
            format!(
                "Run under the AppArmor profile `{profile}` (the confinement of the program that starts the sandbox, from {source}), {}. \
                 bwrap inherits its starter's confinement, so the host's own settings are not what decides here: the probe outside that profile \
                 does not see it. The profile must allow `userns,` (AppArmor 4), or start bwrap under a profile that does.",
                if create { "creating a user namespace is denied with EACCES: the profile has no `userns,` rule" } else { "the sandbox's namespace steps fail" }
            ),
            "the failure appears only under the starter's profile, which the probe entered as the real starter runs",
        )
        .ev(Some(ev("/confinement/apparmor_profile", profile, format!("the probe's steps and bwrap replays ran under this profile ({source})"))))
        .ev(c.r.confinement.parent_label.get().map(|l| ev("/confinement/parent_label", l.clone(), "the starter's label")))
        .evs(evs)
        .ev(c.replay_ev())
        .fix(remedy::parent_profile(c, profile)),
    )
}

/// NSD182: the caller is a snap (`SNAP_NAME`, a `snap.NAME.APP` label) and a namespace step fails: snapd's
/// strict confinement denies user namespaces and the /proc and mount access bwrap needs.
pub(crate) fn snap_confinement(c: &Ctx) -> Option<Cand> {
    let snap = c.r.confinement.snap.get().filter(|s| !s.is_empty())?;
    let evs = failed_evs(
        c,
        &[
            StepId::Userns,
            StepId::Setgroups,
            StepId::UidMap,
            StepId::GidMap,
            StepId::Mountns,
            StepId::MountSlave,
            StepId::ProcMount,
        ],
    );
    let text = c.sym(&[
        crate::symptoms::SymptomKind::UidMap,
        crate::symptoms::SymptomKind::BwrapNoPermissions,
        crate::symptoms::SymptomKind::ProcMount,
    ]);
    if evs.is_empty() && c.replay_ok() != Some(false) && text.is_none() {
        return None;
    }
    Some(
        cand(
            "NSD182",
            95,
            Confidence::High,
            format!(
                "This runs inside the snap `{snap}`. snapd's strict confinement (its AppArmor profile and seccomp filter) denies the user namespaces and \
                 the /proc and mount access bwrap needs (`Can't open /proc/self/mountinfo: Permission denied`), whatever the host allows. The host is not \
                 what to change: run the tool from a non-snap install."
            ),
            "a namespace step fails inside snap confinement",
        )
        .ev(Some(ev("/confinement/snap", snap.clone(), "the caller is confined as this snap")))
        .ev(c.label().map(|l| ev("/process/apparmor_label", l, "snapd's profile for the app")))
        .evs(evs)
        .ev(text.map(|s| Ctx::sym_ev(s, "the sandbox's message")))
        .ev(c.replay_ev())
        .fix(remedy::snap(c, snap)),
    )
}

/// NSD183: user namespaces are created, but writing the new namespace's /proc files (setgroups, uid_map,
/// gid_map) is denied with EACCES while no LSM policy or host knob explains it and Landlock is available: an
/// outer tool put the caller in a Landlock domain whose rules leave /proc read-only (gitmoot#1812; Codex's
/// Landlock sandbox does this to the commands it runs).
pub(crate) fn landlock_domain(c: &Ctx) -> Option<Cand> {
    c.r.lsm.landlock_abi.get()?;
    if !c.userns_ok() || c.selinux_enforcing() || c.container().is_some() || c.systemd() {
        return None;
    }
    let label = c.label().unwrap_or("unconfined");
    if c.apparmor_on() == Some(true) && (!label.starts_with("unconfined") || c.restriction().is_some_and(|(on, _)| on))
    {
        return None;
    }
    let denied = [StepId::Setgroups, StepId::UidMap, StepId::GidMap].iter().any(|id| c.err(*id) == Some("EACCES"));
    if !denied {
        return None;
    }
    let outer = c.r.confinement.outer_sandbox.get().filter(|s| !s.is_empty());
    // Above NSD123 (94), which reads the same failed id-map writes as capability loss inside the outer sandbox.
    let (score, conf) = if outer.is_some() { (95, Confidence::High) } else { (85, Confidence::Medium) };
    Some(
        cand(
            "NSD183",
            score,
            conf,
            "User namespaces can be created, but writing the new namespace's setgroups and id maps under /proc is denied with EACCES, and no AppArmor \
             or SELinux policy or host setting here does that. A Landlock domain does: an outer tool (another agent's sandbox, a launcher) restricted \
             this process's file access and left /proc read-only. Landlock cannot be lifted from inside; start the sandbox outside that tool."
                .to_string(),
            if outer.is_some() { "the id-map writes fail with EACCES inside a named outer sandbox that uses Landlock" } else { "the id-map writes fail with EACCES and only a Landlock domain explains it" },
        )
        .evs(failed_evs(c, &[StepId::Setgroups, StepId::UidMap, StepId::GidMap]))
        .ev(c.r.lsm.landlock_abi.get().map(|a| ev("/lsm/landlock_abi", a.to_string(), "Landlock is available to restrict this process")))
        .ev(outer.map(|o| ev("/confinement/outer_sandbox", o.clone(), "this runs inside that tool's sandbox")))
        .ev(c.r.process.apparmor_label.get().map(|l| ev("/process/apparmor_label", l.clone(), "no AppArmor profile confines the caller")))
        .fix(remedy::landlock_domain(c)),
    )
}
