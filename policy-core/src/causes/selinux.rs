//! SELinux: `user_namespace { create }` (kernel 6.1+ hook; Fedora policy grants it to unconfined domains only)
//! and container domains' mount denials, both EACCES. Rule NSD151.

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
