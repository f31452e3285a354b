//! systemd unit hardening: `RestrictNamespaces=` (seccomp on clone/unshare flags: EPERM, clone3 ENOSYS),
//! `SystemCallFilter=` (SIGSYS or an errno), `RestrictAddressFamilies=` (no AF_NETLINK: EAFNOSUPPORT),
//! `ProtectKernelTunables=`/`ProcSubset=pid` (no /proc/sys), `PrivateUsers=` and NoNewPrivileges. Rules
//! NSD141–NSD145.

use super::observe::{Hint, Op};
use super::{Adj, Facts, Knowledge, Ranked, sign};
use crate::diagnosis::Cause;

pub(crate) const KNOWLEDGE: &[Knowledge] = &[Knowledge {
    cause: Cause::SystemdUnitHardening,
    prior: 0,
    signs: &[
        sign(Op::UnitNamespace, &[], 45),
        sign(Op::SandboxUnavailable, &[], 15),
        sign(Op::CreateUserns, &["EPERM"], 20),
        sign(Op::CreateUserns, &["ENOSYS"], 25),
        sign(Op::CreateNs, &["EPERM", "ENOSYS"], 20),
        sign(Op::SeccompKill, &[], 30),
        sign(Op::NetlinkSocket, &["EAFNOSUPPORT"], 40),
        sign(Op::ProcSys, &[], 40),
        sign(Op::ProcMount, &["EPERM", "ENOENT", "EACCES"], 15),
        sign(Op::Mount, &["EPERM"], 8),
        sign(Op::SetuidHelper, &[], 10),
    ],
    context: unit_context,
    code: unit_code,
}];

fn unit_context(f: &Facts, out: &mut Vec<Adj>) {
    match f.systemd {
        Some(true) => out.push(Adj::By(45, "the sandbox runs inside a systemd service, whose hardening applies to it")),
        Some(false) => return out.push(Adj::Impossible("not run by a systemd unit")),
        None if f.hint(Hint::Systemd) => out.push(Adj::By(25, "the text names a systemd unit")),
        None => out.push(Adj::By(-25, "nothing says a systemd unit runs this")),
    }
    if f.in_container() == Some(true) {
        // Docker's default profile allows namespace calls when CAP_SYS_ADMIN is in the bounding set: a filter
        // that still refuses them is the unit's.
        if f.bnd_sys_admin == Some(true) {
            out.push(Adj::By(15, "CAP_SYS_ADMIN is in the bounding set, where a container's default profile would allow the call"));
        } else {
            out.push(Adj::By(-10, "a container's profile may be the filter"));
        }
    }
}

fn unit_code(r: &Ranked) -> &'static str {
    if r.has(Op::SeccompKill) {
        "NSD143"
    } else if r.has(Op::NetlinkSocket) {
        "NSD142"
    } else if r.has(Op::ProcSys) || r.has(Op::ProcMount) && !r.has(Op::CreateUserns) {
        "NSD144"
    } else if r.explains.iter().any(|o| o.errno == Some("ENOSYS")) {
        "NSD145"
    } else {
        "NSD141"
    }
}
