//! `nsdoctor fix`: every remediation the engine prints is in the catalogue (applied here, or why not); every
//! applicable one renders a script that shellcheck accepts; the scripts are snapshot-tested per fixture.

use std::collections::BTreeSet;
use std::process::Command;

use nsdoctor_tests::{fixtures, load, repo_root};
use policy_core::fix::{self, Applies, Kind, NoPlan};
use policy_core::{diagnose, input};

/// Every remediation id of every finding, over the fixtures and the corpus's pasted texts.
fn all_remediation_ids() -> BTreeSet<String> {
    let mut ids = BTreeSet::new();
    for (_, path) in fixtures() {
        for f in diagnose(&load(&path).unwrap(), None).findings {
            ids.extend(f.remediations.into_iter().map(|r| r.id));
        }
    }
    for split in ["test", "fresh", "dev"] {
        let dir = repo_root().join("tests/corpus").join(split);
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(e.path()).unwrap()).unwrap();
            let facts: Vec<String> =
                v["facts"].as_object().unwrap().iter().map(|(k, x)| format!("{k}={}", x.as_str().unwrap())).collect();
            let r = input::report_from_error_text(v["text"].as_str().unwrap(), &facts).unwrap();
            for f in diagnose(&r, None).findings {
                ids.extend(f.remediations.into_iter().map(|r| r.id));
            }
        }
    }
    ids
}

#[test]
fn every_remediation_declares_whether_nsdoctor_applies_it() {
    let ids = all_remediation_ids();
    assert!(ids.len() > 30, "only {} remediation ids seen", ids.len());
    let missing: Vec<&String> = ids.iter().filter(|id| fix::applies(id).is_none()).collect();
    assert!(
        missing.is_empty(),
        "remediations without a catalogue entry (host kind or the reason it is manual): {missing:?}"
    );
    for id in &ids {
        if let Some(Applies::Manual(why)) = fix::applies(id) {
            assert!(why.len() > 10, "{id}: the reason must tell the operator why");
        }
    }
}

/// (fixture, plan) for every fixture with a fix nsdoctor applies.
fn plans() -> Vec<(String, fix::Plan)> {
    let mut out = Vec::new();
    for (name, path) in fixtures() {
        let r = load(&path).unwrap();
        let d = diagnose(&r, None);
        match fix::plan(&r, &d, None) {
            Ok(p) => out.push((name, p)),
            Err(NoPlan::NothingToFix) => assert!(!d.findings.iter().any(|f| f.blocking), "{name}"),
            Err(NoPlan::NoHostFix { reasons, .. }) => assert!(!reasons.is_empty(), "{name}"),
            Err(e) => panic!("{name}: {e:?}"),
        }
    }
    out
}

#[test]
fn every_kind_of_host_fix_is_exercised_by_a_fixture() {
    let kinds: BTreeSet<String> = plans().into_iter().map(|(_, p)| format!("{:?}", p.kind)).collect();
    for k in [
        Kind::SysctlFile,
        Kind::NewProfile,
        Kind::DisableOthers,
        Kind::LocalUserns,
        Kind::FlagsUnconfined,
        Kind::SystemdDropin,
    ] {
        assert!(kinds.contains(&format!("{k:?}")), "no fixture plans a {k:?} fix: {kinds:?}");
    }
}

#[test]
fn scripts_are_snapshot_tested() {
    for (name, p) in plans() {
        insta::with_settings!({ snapshot_suffix => name.clone(), prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!("fix", fix::script(&p));
        });
    }
}

#[test]
fn shellcheck_accepts_every_generated_script() {
    let found = Command::new("shellcheck").arg("--version").output().is_ok_and(|o| o.status.success());
    if !found {
        assert!(std::env::var_os("CI").is_none(), "shellcheck is not installed (./run-tests installs it)");
        eprintln!("shellcheck not installed: skipped outside CI");
        return;
    }
    let dir = std::env::temp_dir().join(format!("nsdoctor-fix-sc-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let mut files = Vec::new();
    for (name, p) in plans() {
        let f = dir.join(format!("{name}.sh"));
        std::fs::write(&f, fix::script(&p)).unwrap();
        files.push(f);
    }
    let out = Command::new("shellcheck").args(["-s", "sh", "-S", "style"]).args(&files).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(out.status.success(), "shellcheck:\n{}", String::from_utf8_lossy(&out.stdout));
    assert!(files.len() > 10);
}

#[test]
fn the_script_is_deterministic_and_quotes_what_it_writes() {
    for (name, p) in plans() {
        assert_eq!(fix::script(&p), fix::script(&p.clone()), "{name}");
        let s = fix::script(&p);
        assert!(s.starts_with("#!/bin/sh\n") && s.contains("set -eu"), "{name}");
        // Nothing runs before the pre-checks: every change is inside apply().
        let before_apply = s.split("\napply() {").next().unwrap();
        for w in ["install_file '", "sysctl -q -w '", "apparmor_parser -r '", "ln -sfn"] {
            assert!(!before_apply.contains(w), "{name}: `{w}` outside apply()");
        }
    }
}
