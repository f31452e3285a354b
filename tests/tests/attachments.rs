//! nsdoctor's own AppArmor fixes never create the conflict NSD104 reports: two profiles that attach to the same
//! path make the kernel attach neither (security/apparmor/domain.c; openai/codex#38715).

use std::collections::BTreeMap;

use nsdoctor_tests::{fixtures, load};
use policy_core::diagnosis::ArtifactKind;
use policy_core::fact::Fact;
use policy_core::{ProbeReport, diagnose};

/// (profile name, attachment) of every profile header in an artifact.
fn attachments(content: &str) -> Vec<(String, String)> {
    content
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next() == Some("profile"))
                .then(|| (w.next().unwrap_or("").to_string(), w.next().unwrap_or("").to_string()))
        })
        .filter(|(_, a)| a.starts_with('/'))
        .collect()
}

/// Every AppArmor profile a diagnosis offers, with the remediation's commands.
fn offered(r: &ProbeReport) -> Vec<(String, String, String, Vec<String>)> {
    let d = diagnose(r, None);
    let mut out = Vec::new();
    for f in &d.findings {
        for rem in &f.remediations {
            for a in rem.files.iter().filter(|a| a.kind == ArtifactKind::ApparmorProfile) {
                for (name, attach) in attachments(&a.content) {
                    out.push((rem.id.clone(), name, attach, rem.commands.clone()));
                }
            }
        }
    }
    out
}

#[test]
fn no_fixture_gets_a_profile_for_a_path_another_profile_already_attaches_to() {
    let mut checked = 0;
    for (name, path) in fixtures() {
        let r = load(&path).unwrap();
        let existing: BTreeMap<String, String> = r.apparmor.profiles_for_bwrap.get().cloned().unwrap_or_default();
        let bwrap =
            r.config.bwrap_path.clone().or(r.bwrap.selected.clone()).unwrap_or_else(|| "/usr/bin/bwrap".to_string());
        for (id, pname, attach, commands) in offered(&r) {
            checked += 1;
            if attach == bwrap {
                let others: Vec<&String> = existing.keys().filter(|k| **k != pname).collect();
                assert!(others.is_empty(), "{name}: {id} adds `{pname}` for {attach} where {others:?} already attach");
            }
            assert!(
                commands.iter().any(|c| c.contains("grep -lsE") && c.contains(&attach)),
                "{name}: {id} installs a profile for {attach} without the attachment guard"
            );
        }
    }
    assert!(checked > 5, "only {checked} profiles offered across the fixtures: the test would prove nothing");
}

/// Ubuntu 24.04 with the restriction on and one vendor profile already attached to /usr/bin/bwrap that lacks
/// `userns,` (enforce): the fix extends that profile; no second profile, no stock bwrap-userns-restrict.
#[test]
fn an_existing_attachment_is_extended_not_doubled() {
    let path = nsdoctor_tests::repo_root().join("tests/fixtures/ubuntu-2404-system-bwrap-no-profile-rtm-newaddr.json");
    let mut r = load(&path).unwrap();
    r.apparmor.profiles_for_bwrap =
        Fact::Observed([("vendor-bwrap".to_string(), "/etc/apparmor.d/vendor-bwrap".to_string())].into());
    r.apparmor.profile_attachments =
        Fact::Observed([("vendor-bwrap".to_string(), "/usr/bin/bwrap".to_string())].into());
    r.apparmor.profile_flags = Fact::Observed([("vendor-bwrap".to_string(), String::new())].into());
    assert!(offered(&r).is_empty(), "a profile file was offered: {:?}", offered(&r));
    let d = diagnose(&r, None);
    let ids: Vec<&str> = d.findings.iter().flat_map(|f| f.remediations.iter().map(|x| x.id.as_str())).collect();
    assert!(ids.contains(&"add-userns-to-vendor-bwrap"), "{ids:?}");
    assert!(
        !ids.iter().any(|i| i.contains("stock-bwrap-profile")),
        "the stock profile would be a second attachment: {ids:?}"
    );

    // The same host without the vendor profile gets the new profile (the guard above is not vacuous).
    let plain = load(&path).unwrap();
    assert!(offered(&plain).iter().any(|(_, _, a, _)| a == "/usr/bin/bwrap"));
}

/// Two profiles already attached: the only fixes disable one of them.
#[test]
fn a_conflict_is_resolved_by_removal_only() {
    let path = nsdoctor_tests::repo_root().join("tests/fixtures/ubuntu-2404-two-profiles-attach-bwrap-conflict.json");
    let r = load(&path).unwrap();
    let d = diagnose(&r, None);
    assert_eq!(d.findings[0].code, "NSD104");
    assert!(offered(&r).is_empty(), "{:?}", offered(&r));
    for f in &d.findings {
        for rem in &f.remediations {
            assert!(rem.files.iter().all(|a| a.kind != ArtifactKind::ApparmorProfile), "{}", rem.id);
        }
    }
    assert!(d.findings[0].remediations.iter().all(|x| x.commands.iter().any(|c| c.contains("apparmor_parser -R"))));
}
