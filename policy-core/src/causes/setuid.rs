//! Setuid helpers: a sandbox's setuid fallback (chrome-sandbox root-owned mode 4755, setuid bwrap, Apptainer's
//! starter-suid) that cannot gain privileges, and the shadow-utils id-map helpers newuidmap/newgidmap (missing,
//! without setuid/file capabilities, no /etc/subuid range). Rules NSD161, NSD162.
//! The rules' detectors for probe reports are at the end of this file.

use super::observe::Op;
use super::{Adj, Facts, Knowledge, sign};
use crate::diagnosis::Cause;

pub(crate) const KNOWLEDGE: &[Knowledge] = &[
    Knowledge {
        cause: Cause::SetuidSandboxBroken,
        prior: 0,
        signs: &[sign(Op::SetuidHelper, &[], 40), sign(Op::SandboxUnavailable, &[], 18)],
        context: setuid_context,
        code: |_| "NSD161",
    },
    Knowledge {
        cause: Cause::NewuidmapBroken,
        prior: 0,
        signs: &[sign(Op::IdHelper, &[], 50), sign(Op::IdMap, &["EPERM", "EINVAL"], 6)],
        context: newuidmap_context,
        code: |_| "NSD162",
    },
];

fn setuid_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.hint(super::observe::Hint::SetuidInstalled) {
        out.push(Adj::By(50, "a setuid-root helper is installed, so the failure is the setuid route's own"));
    }
    if f.hint(super::observe::Hint::NosuidHelper) {
        out.push(Adj::By(
            -30,
            "an AppImage's helper is on a nosuid mount and can never be setuid: the namespace sandbox itself must work",
        ));
    }
    if f.program.is_some_and(|p| p.setuid_fallback) {
        out.push(Adj::By(5, "this program falls back to a setuid helper"));
    }
}

fn newuidmap_context(f: &Facts, out: &mut Vec<Adj>) {
    if f.program.is_some_and(|p| p.id_helpers) {
        out.push(Adj::By(10, "this program maps subordinate ids through newuidmap/newgidmap"));
    }
}

// ---- detectors for probe reports ----

use crate::ctx::{Cand, Ctx, cand, ev};
use crate::diagnosis::Confidence;
use crate::remedy;
use crate::symptoms::SymptomKind as K;

/// NSD161: a setuid helper (setuid bwrap, chrome-sandbox) is broken where the host needs one.
pub(crate) fn setuid_helper_broken(c: &Ctx) -> Option<Cand> {
    if let Some(s) = c.sym(&[K::SuidHelperMisconfigured, K::SetuidCapset]) {
        // `capset failed` after a namespace failure is the setuid fallback dying too: secondary.
        let secondary = s.s.kind == K::SetuidCapset && c.text_create_errno().is_some();
        return Some(
            cand("NSD161", if secondary { 55 } else { 90 }, if secondary { Confidence::Low } else { Confidence::High },
                "The setuid sandbox helper cannot gain its privileges: Chromium's `chrome-sandbox` must be root-owned with mode 4755; setuid bwrap fails with `capset failed` under an empty bounding set or with file capabilities.".to_string(),
                "the helper's own message names the broken setuid setup")
                .ev(Some(Ctx::sym_ev(s, "the setuid helper's error")))
                .fix(remedy::setuid_broken(c)),
        );
    }
    if let Some(s) = c.sym(&[K::NoUsableSandbox]).filter(|_| c.text_only()) {
        let ubuntu_restricted = c.ubuntu_version().is_some_and(|v| v >= 2310);
        return Some(
            cand("NSD161", if ubuntu_restricted { 45 } else { 65 }, Confidence::Low,
                "Chromium/Electron found neither a working namespace sandbox nor a working setuid helper (`chrome-sandbox`, root-owned, mode 4755). Where user namespaces are blocked, the setuid helper is the fallback.".to_string(),
                if ubuntu_restricted { "on this Ubuntu release the namespace sandbox is the usual casualty; the setuid helper is the fallback that is also missing" } else { "no namespace sandbox and no setuid helper" })
                .ev(Some(Ctx::sym_ev(s, "no usable sandbox")))
                .fix(remedy::setuid_broken(c)),
        );
    }
    let b = c.bwrap_bin()?;
    if !b.setuid.is_true() {
        return None;
    }
    // A root-owned setuid bwrap whose own run still fails at namespace creation did not get its privileges
    // (missing file capabilities on old builds, containers/bubblewrap#102; NNP; nosuid; capset).
    // Setuid only helps when the run does not ask for a user namespace itself (bwrap clones as root then);
    // with `--unshare-user` a working setuid bwrap still clones with CLONE_NEWUSER (bubblewrap `bubblewrap.c`).
    let replay_create_fail = c.syms.iter().find(|s| {
        s.pointer.starts_with("/replays/")
            && matches!(s.s.kind, K::BwrapKernelNoUserns | K::BwrapNoPermissions | K::BwrapCreateFailed)
            && replay_of(c, &s.pointer)
                .is_some_and(|r| !r.argv.iter().any(|a| a == "--unshare-user" || a == "--unshare-all"))
    });
    if let (Some(s), Some(0)) = (replay_create_fail, b.owner_uid.get().copied()) {
        if matches!(c.userns_err(), Some("EINVAL" | "EPERM")) {
            return Some(
                cand("NSD161", 90, Confidence::Medium,
                    format!("Unprivileged user namespaces are unavailable here, so {} must work as a setuid helper, but its own run still fails at namespace creation: it is not getting the privileges the setuid bit should give (file capabilities an old build expects, NoNewPrivileges, a nosuid mount, an empty bounding set).", b.path),
                    "the host needs the setuid helper and the helper's run fails where setuid should have carried it")
                    .ev(c.step_ev(c.userns_step(), "unprivileged creation is refused"))
                    .ev(Some(ev("/bwrap/binaries", format!("{} setuid root", b.path), "the sandbox's bwrap is installed setuid")))
                    .ev(Some(Ctx::sym_ev(s, "the setuid bwrap still failed")))
                    .fix(remedy::setuid_broken(c)),
            );
        }
    }
    let mut broken = Vec::new();
    if let Some(u) = b.owner_uid.get() {
        if *u != 0 {
            broken.push(ev(
                "/bwrap/binaries",
                format!("{} owner uid {u}", b.path),
                "setuid only grants root when root owns the file",
            ));
        }
    }
    if b.nosuid_mount.is_true() {
        broken.push(ev(
            "/bwrap/binaries",
            format!("{} on a nosuid mount", b.path),
            "the kernel ignores the setuid bit on nosuid mounts",
        ));
    }
    if c.r.process.no_new_privs.is_true() {
        broken.push(ev("/process/no_new_privs", "true", "NoNewPrivs makes execve ignore the setuid bit"));
    }
    // Only blocks that a working setuid bwrap gets past: the clone sysctl (EPERM) and AppArmor's restriction.
    let blocked = c.userns_err() == Some("EPERM") || !c.caps_lost().is_empty();
    if broken.is_empty() || !blocked {
        return None;
    }
    Some(
        cand("NSD161", 70, Confidence::Medium,
            format!("The sandbox's bwrap ({}) is setuid, which would bypass the user-namespace block, but it cannot gain root here.", b.path),
            "the setuid route is the fallback on this host and it is broken")
            .evs(broken)
            .fix(remedy::setuid_broken(c)),
    )
}

pub(crate) fn replay_of<'a>(c: &'a Ctx, pointer: &str) -> Option<&'a crate::report::Replay> {
    let idx: usize = pointer.strip_prefix("/replays/")?.split('/').next()?.parse().ok()?;
    c.r.replays.get(idx)
}

/// NSD162: newuidmap/newgidmap (rootless podman/buildah) cannot write the maps.
pub(crate) fn newuidmap_broken(c: &Ctx) -> Option<Cand> {
    let s = c.sym(&[K::Newuidmap])?;
    Some(
        cand("NSD162", 88, Confidence::Medium,
            "The setuid helpers newuidmap/newgidmap (package uidmap / shadow-utils) failed to write the id maps: missing, without their setuid bit or file capabilities, or the user has no /etc/subuid range.".to_string(),
            "the text names newuidmap/newgidmap")
            .ev(Some(Ctx::sym_ev(s, "newuidmap failure")))
            .fix(remedy::newuidmap(c)),
    )
}
