//! SELinux: `user_namespace { create }` (kernel 6.1+ hook; Fedora policy grants it to unconfined domains only)
//! and container domains' mount denials, both EACCES. Rule NSD151.
//! The rules' detectors for probe reports are at the end of this file.

use super::observe::Op;
use super::{Adj, Facts, Knowledge, sign};
use crate::diagnosis::Cause;
use crate::report::SelinuxMode;

pub(crate) const KNOWLEDGE: &[Knowledge] = &[Knowledge {
    cause: Cause::SelinuxDenial,
    prior: 0,
    signs: &[
        sign(Op::AuditSelinuxUserns, &[], 70),
        sign(Op::AuditSelinuxMount, &[], 50),
        sign(Op::CreateUserns, &["EACCES"], 28),
        sign(Op::Mount, &["EACCES"], 15),
        sign(Op::ProcMount, &["EACCES"], 10),
        sign(Op::IdHelper, &["EACCES"], 8),
        sign(Op::SetuidHelper, &[], 4),
    ],
    context: selinux_context,
    code: |_| "NSD151",
}];

fn selinux_context(f: &Facts, out: &mut Vec<Adj>) {
    match f.selinux {
        Some(SelinuxMode::Enforcing) => out.push(Adj::By(35, "SELinux is enforcing")),
        Some(_) => return out.push(Adj::Impossible("SELinux is not enforcing")),
        None => {}
    }
    if ["fedora", "rhel", "centos", "rocky", "almalinux", "ol"].iter().any(|d| f.is(d)) {
        out.push(Adj::By(15, "this distro enforces SELinux by default"));
    } else if f.ubuntu_family() || f.is("debian") || f.is("arch") {
        out.push(Adj::By(-20, "this distro does not enforce SELinux by default"));
    }
}

// ---- detectors for probe reports ----

use crate::ctx::{Cand, Ctx, cand, ev};
use crate::diagnosis::Confidence;
use crate::remedy;
use crate::report::StepId;
use crate::symptoms::SymptomKind as K;

/// NSD151: SELinux `user_namespace { create }` denial (EACCES), or container_t mount denials.
pub(crate) fn selinux_userns_denied(c: &Ctx) -> Option<Cand> {
    let enforcing = c.selinux_enforcing();
    let se_ev = enforcing.then(|| ev("/lsm/selinux", "enforcing", "SELinux is enforcing"));
    let audit = c.sym(&[K::AuditSelinuxUserns, K::AuditSelinuxMount]);
    if c.userns_err() == Some("EACCES") && enforcing {
        return Some(
            cand("NSD151", 95, Confidence::High,
                "SELinux denies `user_namespace { create }` for this process's domain (kernel 6.1+ hook; Fedora policy grants it to unconfined domains only). bwrap reports `Creating new namespace failed: Permission denied`.".to_string(),
                "EACCES at creation with SELinux enforcing")
                .ev(c.step_ev(c.userns_step(), "the LSM hook denied creation"))
                .ev(se_ev)
                .ev(c.r.lsm.selinux_userns_class.is_true().then(|| ev("/lsm/selinux_userns_class", "true", "the loaded policy mediates user namespace creation")))
                .ev(c.r.process.selinux_context.get().map(|v| ev("/process/selinux_context", v.clone(), "the confining domain")))
                .ev(audit.map(|s| Ctx::sym_ev(s, "the AVC denial")))
                .fix(remedy::selinux(c)),
        );
    }
    let mount_eacces = [StepId::MountSlave, StepId::MountTmpfs].into_iter().find(|id| c.err(*id) == Some("EACCES"));
    if let (Some(id), true) = (mount_eacces, enforcing) {
        return Some(
            cand("NSD151", 88, Confidence::High, "SELinux denies the sandbox's mounts (e.g. `container_t` may not mount tmpfs): `Failed to mount tmpfs: Permission denied`.".to_string(), "mount EACCES with SELinux enforcing")
                .ev(c.step_ev(id, "mount denied by SELinux"))
                .ev(se_ev)
                .ev(c.r.process.selinux_context.get().map(|v| ev("/process/selinux_context", v.clone(), "the confining domain")))
                .fix(remedy::selinux(c)),
        );
    }
    if c.has_steps() && audit.is_none() {
        return None;
    }
    let text = c
        .text_create_errno()
        .filter(|(e, _)| *e == "EACCES")
        .map(|(_, s)| s)
        .or_else(|| if c.text_only() { c.sym_errno(&[K::MountTmpfs], "EACCES") } else { None });
    let s = audit.or(text)?;
    let fedora_like = c.like("fedora") || c.like("rhel") || c.like("centos");
    let score = if audit.is_some() {
        94
    } else if enforcing {
        85
    } else if fedora_like {
        72
    } else if c.distro_id().is_none() {
        45
    } else {
        25
    };
    Some(
        cand("NSD151", score, if audit.is_some() || enforcing { Confidence::Medium } else { Confidence::Low },
            "EACCES (Permission denied) at namespace creation or mount comes from an LSM; on SELinux hosts it is a `user_namespace { create }` (or mount) denial for the process's domain.".to_string(),
            if audit.is_some() { "the AVC record names the denial" } else { "EACCES from an LSM; SELinux is the likely LSM on this distro" })
            .ev(Some(Ctx::sym_ev(s, "denied")))
            .ev(se_ev)
            .ev(c.distro_ev())
            .fix(remedy::selinux(c)),
    )
}
