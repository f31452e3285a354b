//! Network namespaces: gVisor (runsc) pre-configures loopback in a new network namespace, so the sandbox's
//! own RTM_NEWADDR fails (google/gvisor#13438). Rule NSD135.
//! The rules' detectors for probe reports are at the end of this file.

use super::observe::{Hint, Op};
use super::{Adj, Facts, Knowledge, sign};
use crate::diagnosis::Cause;

pub(crate) const KNOWLEDGE: &[Knowledge] = &[Knowledge {
    cause: Cause::GvisorLoopback,
    prior: 0,
    signs: &[sign(Op::Loopback, &[], 30), sign(Op::NetlinkSocket, &[], 15)],
    context: gvisor_context,
    code: |_| "NSD135",
}];

fn gvisor_context(f: &Facts, out: &mut Vec<Adj>) {
    match f.container {
        Some("gvisor") => out.push(Adj::By(60, "inside gVisor, which configures loopback itself")),
        _ if f.hint(Hint::Gvisor) => out.push(Adj::By(45, "the text names gVisor/runsc")),
        Some("docker" | "kubernetes") => out.push(Adj::By(-15, "nothing says the runtime is runsc")),
        _ => out.push(Adj::By(-30, "not inside gVisor")),
    }
}

// ---- detectors for probe reports ----

use crate::ctx::{Cand, Ctx, cand, ev};
use crate::diagnosis::{Confidence, Severity};
use crate::remedy;
use crate::report::StepId;
use crate::symptoms::SymptomKind as K;

/// NSD135: gVisor pre-configures `lo` in new net namespaces; RTM_NEWADDR answers EEXIST (google/gvisor#13438).
pub(crate) fn gvisor_loopback_preconfigured(c: &Ctx) -> Option<Cand> {
    let step = c.err(StepId::NetlinkNewaddr) == Some("EEXIST");
    let gv = c.r.platform.gvisor.is_true() || c.container() == Some("gvisor");
    let unknown_runtime = c.container().is_none() && c.r.platform.gvisor.is_not_probed();
    let text = if c.text_only() && (gv || unknown_runtime) { c.sym(&[K::LoopbackRtm]) } else { None };
    if !step && text.is_none() {
        return None;
    }
    let needed = c.needs_netns();
    Some(
        cand(
            "NSD135",
            if needed { if step && gv { 97 } else if step { 88 } else if gv { 85 } else { 25 } } else { 15 },
            if step && gv { Confidence::High } else if step || gv { Confidence::Medium } else { Confidence::Low },
            "gVisor creates new network namespaces with loopback already configured, so adding 127.0.0.1 answers EEXIST and bwrap aborts with `loopback: Failed RTM_NEWADDR` (its errno text there is stale).".to_string(),
            if step { "our own RTM_NEWADDR returned EEXIST, which only a pre-configured loopback gives" } else { "gVisor plus the loopback failure" },
        )
        .sev(if needed { Severity::Error } else { Severity::Info })
        .ev(if step { c.step_ev(StepId::NetlinkNewaddr, "EEXIST: 127.0.0.1 already on lo") } else { None })
        .ev(text.map(|s| Ctx::sym_ev(s, "bwrap's loopback setup failed")))
        .ev(gv.then(|| ev("/platform/gvisor", "true", "running under gVisor (runsc)")))
        .fix(if needed { remedy::gvisor(c) } else { Vec::new() }),
    )
}
