//! Network namespaces: gVisor (runsc) pre-configures loopback in a new network namespace, so the sandbox's
//! own RTM_NEWADDR fails (google/gvisor#13438). Rule NSD135.

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
