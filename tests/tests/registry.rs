//! The rule registry's promises: unique stable codes, complete docs, a detector and a fixture for every rule,
//! no orphan snapshots.

use std::collections::BTreeSet;

use nsdoctor_tests::{fixtures, load, repo_root};
use policy_core::rules::RULES;

#[test]
fn codes_and_names_are_unique_and_well_formed() {
    let mut codes = BTreeSet::new();
    let mut names = BTreeSet::new();
    for r in RULES {
        assert!(codes.insert(r.code), "duplicate code {}", r.code);
        assert!(names.insert(r.name), "duplicate name {}", r.name);
        assert!(
            r.code.len() == 6 && r.code.starts_with("NSD") && r.code[3..].chars().all(|c| c.is_ascii_digit()),
            "{}",
            r.code
        );
        assert!(
            r.name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'),
            "{} is not kebab-case",
            r.name
        );
        assert!(!r.title.ends_with('.'), "{}: titles have no final period", r.code);
    }
}

#[test]
fn every_rule_doc_has_the_required_headings() {
    for r in RULES {
        assert!(
            r.doc.starts_with(&format!("# {} {}", r.code, r.name)),
            "{}: doc must start with `# {} {}`",
            r.code,
            r.code,
            r.name
        );
        for h in ["## What it means", "## How it is detected", "## How to fix", "## Trade-offs"] {
            assert!(r.doc.contains(&format!("\n{h}\n")), "{}: missing heading `{h}`", r.code);
        }
        assert!(!r.doc.contains("TODO"), "{}: doc still has TODO", r.code);
    }
}

#[test]
fn every_rule_has_a_detector() {
    let det: BTreeSet<&str> = policy_core::detector_codes().into_iter().collect();
    let reg: BTreeSet<&str> = RULES.iter().map(|r| r.code).collect();
    assert_eq!(det, reg);
}

#[test]
fn every_rule_and_every_cause_is_triggered_by_a_fixture() {
    let mut fired = BTreeSet::new();
    let mut causes = BTreeSet::new();
    for (_, path) in fixtures() {
        let d = policy_core::diagnose(&load(&path).unwrap(), None);
        for f in d.findings {
            fired.insert(f.code);
            causes.insert(f.cause.as_str());
        }
    }
    let missing: Vec<&str> = RULES.iter().map(|r| r.code).filter(|c| !fired.contains(*c)).collect();
    assert!(missing.is_empty(), "rules no fixture triggers: {missing:?}");
    let missing: Vec<&str> =
        policy_core::Cause::ALL.iter().map(|c| c.as_str()).filter(|c| !causes.contains(c)).collect();
    assert!(missing.is_empty(), "causes no fixture yields: {missing:?}");
}

#[test]
fn no_orphan_snapshots() {
    let names: BTreeSet<String> = fixtures().into_iter().map(|(n, _)| n).collect();
    let dir = repo_root().join("tests/tests/snapshots");
    let mut orphans = Vec::new();
    for e in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
        let f = e.file_name().to_string_lossy().to_string();
        let Some(stem) = f.strip_suffix(".snap") else { continue };
        let fixture =
            stem.strip_prefix("text@").or_else(|| stem.strip_prefix("json@")).or_else(|| stem.strip_prefix("fix@"));
        if !fixture.is_some_and(|n| names.contains(n)) {
            orphans.push(f);
        }
    }
    assert!(orphans.is_empty(), "snapshots without a fixture: {orphans:?}");
}
