//! Setuid helpers: a sandbox's setuid fallback (chrome-sandbox root-owned mode 4755, setuid bwrap, Apptainer's
//! starter-suid) that cannot gain privileges, and the shadow-utils id-map helpers newuidmap/newgidmap (missing,
//! without setuid/file capabilities, no /etc/subuid range). Rules NSD161, NSD162.

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
        out.push(Adj::By(-30, "an AppImage's helper is on a nosuid mount and can never be setuid: the namespace sandbox itself must work"));
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
