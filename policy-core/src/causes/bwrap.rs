//! The bwrap binary itself: a bwrap older than the options the tool passes (`bwrap: Unknown option --argv0`
//! with Ubuntu 22.04's 0.6.1, openai/codex#15335 and #15551). Rule NSD175; its detector is below.

use super::observe::Op;
use super::{Adj, Facts, Knowledge, Ranked, sign};
use crate::ctx::{Cand, Ctx, cand, ev};
use crate::diagnosis::{Cause, Confidence};
use crate::remedy;

pub(crate) const KNOWLEDGE: &[Knowledge] = &[Knowledge {
    cause: Cause::BwrapVersion,
    prior: 0,
    signs: &[sign(Op::BwrapOption, &[], 90)],
    context: |_: &Facts, _: &mut Vec<Adj>| {},
    code: |_: &Ranked| "NSD175",
}];

/// The bwrap release that added each option the tools pass (containers/bubblewrap NEWS.md).
pub(crate) const OPTION_SINCE: &[(&str, (u32, u32, u32))] = &[
    ("--argv0", (0, 9, 0)),
    ("--disable-userns", (0, 8, 0)),
    ("--assert-userns-disabled", (0, 8, 0)),
    ("--overlay", (0, 11, 0)),
    ("--tmp-overlay", (0, 11, 0)),
    ("--ro-overlay", (0, 11, 0)),
    ("--overlay-src", (0, 11, 0)),
];

/// `0.9.0`, `bubblewrap 0.6.1`, `0.10.0-1ubuntu1` → (major, minor, patch).
pub(crate) fn parse_version(v: &str) -> Option<(u32, u32, u32)> {
    let word = v.split_whitespace().find(|w| w.starts_with(|c: char| c.is_ascii_digit()))?;
    let mut it = word.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|n| n.parse::<u32>().ok());
    Some((it.next()??, it.next().flatten().unwrap_or(0), it.next().flatten().unwrap_or(0)))
}

fn show((a, b, c): (u32, u32, u32)) -> String {
    format!("{a}.{b}.{c}")
}

/// NSD175: the sandbox's bwrap is older than an option the tool passes needs, or bwrap said `Unknown option`.
pub(crate) fn bwrap_too_old(c: &Ctx) -> Option<Cand> {
    let text = c.sym(&[crate::symptoms::SymptomKind::BwrapUnknownOption]);
    let version = c.bwrap_bin().and_then(|b| b.version.get()).cloned();
    let parsed = version.as_deref().and_then(parse_version);
    // Only the options the config states: which options a tool passes changes between its releases (some
    // check `bwrap --help` first), so nsdoctor does not guess them.
    let missing: Vec<(String, (u32, u32, u32))> = c
        .cfg
        .bwrap_options
        .iter()
        .filter_map(|o| OPTION_SINCE.iter().find(|(n, _)| n == o).map(|(_, v)| (o.clone(), *v)))
        .filter(|(_, since)| parsed.is_some_and(|v| v < *since))
        .collect();
    if missing.is_empty() && text.is_none() {
        return None;
    }
    let path = c.bwrap_path();
    let need =
        missing.iter().map(|(o, v)| format!("`{o}` (bwrap {} or later)", show(*v))).collect::<Vec<_>>().join(", ");
    let summary = match (&version, missing.is_empty()) {
        (Some(v), false) => format!(
            "{path} is bubblewrap {v}, but {} passes {need}. bwrap stops with `Unknown option` before creating any namespace, so the sandbox fails on \
             every command whatever the host allows.",
            c.cfg.tool
        ),
        _ => format!(
            "bwrap rejected an option the tool passes (`Unknown option`): {path} is older than the tool expects, so the sandbox fails before any namespace is created."
        ),
    };
    let mut cd = cand(
        "NSD175",
        99,
        if missing.is_empty() { Confidence::Medium } else { Confidence::High },
        summary,
        "bwrap refuses the tool's command line; nothing about namespaces is reached",
    )
    .ev(version.map(|v| ev("/bwrap/binaries", format!("{path}: {v}"), "the version of the bwrap the sandbox runs")))
    .ev(text.map(|s| Ctx::sym_ev(s, "bwrap's own message")))
    .beyond_replay();
    if !missing.is_empty() {
        let opts: Vec<&str> = missing.iter().map(|(o, _)| o.as_str()).collect();
        cd =
            cd.ev(Some(ev("/config/bwrap_options", opts.join(" "), format!("options {} passes to bwrap", c.cfg.tool))));
    }
    let since = missing.iter().map(|(_, v)| *v).max().unwrap_or((0, 9, 0));
    Some(cd.fix(remedy::bwrap_upgrade(c, &show(since))))
}
