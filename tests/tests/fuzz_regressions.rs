//! Fuzz findings stay fixed. Every file under `fuzz/regressions/<target>/` (a crash libFuzzer found, kept as it
//! was found or minimised) is replayed through the very checks the fuzz target runs (`fuzz/checks.rs`), and every
//! fixture passes them too. Named tests below document each bug in plain terms.

#[path = "../../fuzz/checks.rs"]
mod checks;

use std::panic::{AssertUnwindSafe, catch_unwind};

use nsdoctor_tests::{fixtures, repo_root};
use policy_core::input;

fn files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .map(|rd| rd.filter_map(Result::ok).map(|e| e.path()).filter(|p| p.is_file()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = repo_root().join("fuzz/regressions").join(target);
    let mut failures = Vec::new();
    let all = files(&dir);
    for path in &all {
        let bytes = std::fs::read(path).unwrap();
        if catch_unwind(AssertUnwindSafe(|| check(&bytes))).is_err() {
            failures.push(path.display().to_string());
        }
    }
    assert!(failures.is_empty(), "fuzz findings that fail again: {failures:?}");
    all.len()
}

#[test]
fn saved_fuzz_findings_pass_the_fuzz_checks() {
    let n =
        replay("report", checks::report) + replay("error_text", checks::error_text) + replay("config", checks::config);
    assert!(n >= 1, "fuzz/regressions/ holds no findings");
}

#[test]
fn fixtures_pass_the_fuzz_checks() {
    for (name, path) in fixtures() {
        let bytes = std::fs::read(&path).unwrap();
        assert!(catch_unwind(AssertUnwindSafe(|| checks::report(&bytes))).is_ok(), "{name}");
        let r: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        if let Some(t) = r["observed_error"].as_str() {
            assert!(
                catch_unwind(AssertUnwindSafe(|| checks::error_text(t.as_bytes()))).is_ok(),
                "{name}: observed_error"
            );
        }
        let cfg = serde_json::to_vec(&r["config"]).unwrap();
        assert!(catch_unwind(AssertUnwindSafe(|| checks::config(&cfg))).is_ok(), "{name}: config");
    }
}

/// Fuzz finding (report target, crash-9143d5a4): serde's "unknown variant" error quotes the refused string, so a
/// step id holding `\n` made a two-line input error, and the wasm adapter passed it on verbatim. Fixed in
/// `InputError::new`: controls and bidi characters are escaped and the message is capped.
#[test]
fn input_errors_quoting_the_input_stay_one_line_and_bounded() {
    let doc =
        br#"{"schema_version":1,"steps":[{"id":"proc-mount\n\u202e","syscall":"mount","result":{"outcome":"ok"}}]}"#;
    let e = input::parse_report(doc).unwrap_err();
    assert!(!e.message.contains(['\n', '\u{202e}']), "{:?}", e.message);
    assert!(e.message.contains("unknown variant `proc-mount\\u{000a}\\u{202e}`"), "{:?}", e.message);

    let huge = format!(
        r#"{{"schema_version":1,"steps":[{{"id":"{}","syscall":"x","result":{{"outcome":"ok"}}}}]}}"#,
        "x".repeat(100_000)
    );
    let e = input::parse_report(huge.as_bytes()).unwrap_err();
    assert!(e.message.chars().count() <= 1025, "message of {} chars", e.message.chars().count());
    assert!(e.message.ends_with('…'));

    let out = policy_core::diagnose_json(doc, None);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(!v["error"]["message"].as_str().unwrap().contains('\n'));
}

/// Fuzz finding (config target, crash-b27a8738): the former hand-written JSON5 reader negated the number after a
/// leading `-` with `-n`, so `--9223372036854775808` (and `-0x-8000000000000000`) overflowed: a panic in debug
/// builds, a wrong value in release. Kept for the `json5` crate that replaced it.
#[test]
fn json5_numbers_at_i64_min_do_not_overflow() {
    for doc in
        ["{ n: --9223372036854775808 }", "{ n: -0x-8000000000000000 }", "{ \"namespaces\":--9223372036854775808\"ne}"]
    {
        assert!(catch_unwind(|| checks::config(doc.as_bytes())).is_ok(), "{doc}");
    }
}

/// Fuzz finding (config target, differential check, crash-e854c0e8): the former hand-written JSON5 reader decoded
/// each `\uXXXX` on its own, so a valid escaped surrogate pair became two U+FFFD instead of one character
/// (serde_json and the JSON5 spec combine them). Kept for the `json5` crate that replaced it.
#[test]
fn json5_decodes_escaped_surrogate_pairs() {
    let v = checks::config::parse_json5(r#"{"k\ud83d\ude00": "\ud83d\ude00"}"#).unwrap();
    assert_eq!(v.get("k😀").and_then(serde_json::Value::as_str), Some("😀"));
}
