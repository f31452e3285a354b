//! The `nsdoctor diagnose/explain/rules/schema` contract: exit codes, one-line errors, hostile input handled
//! within a second, deterministic output. Runs the real binary.

use std::process::Output;
use std::time::Duration;

mod common;

fn nsdoctor(args: &[&str], stdin: &[u8]) -> (Output, Duration) {
    common::run(args, stdin)
}

fn fixture(name: &str) -> String {
    format!("{}/../tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"))
}

fn assert_input_error(args: &[&str], stdin: &[u8], what: &str) {
    let (out, took) = nsdoctor(args, stdin);
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{what}: exit {:?}, stderr {err}", out.status.code());
    assert_eq!(err.trim_end().lines().count(), 1, "{what}: stderr must be one line: {err:?}");
    assert!(err.starts_with("nsdoctor: "), "{what}: {err}");
    assert!(took < Duration::from_secs(1), "{what}: took {took:?}");
    assert!(out.stdout.is_empty(), "{what}: nothing on stdout");
}

#[test]
fn hostile_reports_exit_2_with_one_line_within_a_second() {
    let d = &["diagnose", "-"];
    assert_input_error(d, b"", "empty");
    assert_input_error(d, b"\x7fELF\x02\x01garbage", "garbage");
    assert_input_error(d, b"{\"schema_version\": 1, \"x\": \xff\xfe}", "invalid UTF-8");
    assert_input_error(d, b"{\"schema_version\": 1}\0", "NUL byte");
    assert_input_error(d, b"{\"schema_version\": 99}", "unknown schema_version");
    assert_input_error(d, b"{\"steps\": []}", "missing schema_version");
    assert_input_error(d, b"[1,2,3]", "not an object");
    assert_input_error(d, b"{\"schema_version\": 1, \"unknown_field\": 1}", "unknown field");
    let deep = format!("{{\"schema_version\":1,\"source\":{}{}}}", "[".repeat(100_000), "]".repeat(100_000));
    assert_input_error(d, deep.as_bytes(), "nesting 100 000 deep");
    let mut big = String::from("{\"schema_version\":1,\"source\":\"");
    big.push_str(&"a".repeat(10 * 1024 * 1024));
    big.push_str("\"}");
    assert_input_error(d, big.as_bytes(), "10 MB document");
    let dup = r#"{"schema_version":1,"steps":[{"id":"userns","syscall":"u","result":{"outcome":"ok"}},{"id":"userns","syscall":"u","result":{"outcome":"ok"}}]}"#;
    assert_input_error(d, dup.as_bytes(), "duplicate step");
    assert_input_error(&["diagnose", "/nonexistent/report.json"], b"", "missing file");
}

#[test]
fn usage_errors_exit_2() {
    assert_input_error(&["diagnose", "--error-text", "-", "--fact", "planet=mars"], b"bwrap: x", "unknown fact");
    assert_input_error(&["diagnose", "--error-text", "-", "--fact", "root=maybe"], b"bwrap: x", "bad fact value");
    assert_input_error(&["diagnose", "--error-text", "-", "--fact", "container=vmware"], b"bwrap: x", "bad container");
    assert_input_error(&["explain", "NSD999"], b"", "unknown rule");
    assert_input_error(&["schema", "nope"], b"", "unknown schema");
    let (out, _) = nsdoctor(&["--frobnicate"], b"");
    assert_eq!(out.status.code(), Some(2));
    let (out, _) = nsdoctor(&["diagnose", "--format", "yaml", "-"], b"{}");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn unknown_fact_lists_the_valid_keys() {
    let (out, _) = nsdoctor(&["diagnose", "--error-text", "-", "--fact", "planet=mars"], b"bwrap: x");
    let err = String::from_utf8_lossy(&out.stderr);
    for k in ["distro", "distro-version", "kernel", "container", "wsl", "root", "service", "chroot", "selinux", "tool"]
    {
        assert!(err.contains(k), "missing {k} in {err}");
    }
}

#[test]
fn a_4_mib_error_text_is_classified_in_under_a_second() {
    let mut text = "some unrelated build log line with enough words to be realistic\n".repeat(4 * 1024 * 1024 / 64);
    text.push_str("bwrap: setting up uid map: Permission denied\n");
    assert!(text.len() >= 4 * 1024 * 1024);
    let (out, took) = nsdoctor(
        &[
            "diagnose",
            "--error-text",
            "-",
            "--fact",
            "distro=ubuntu",
            "--fact",
            "distro-version=24.04",
            "--format",
            "json",
        ],
        text.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["findings"][0]["cause"], "apparmor-userns-restriction");
    assert!(took < Duration::from_secs(1), "took {took:?}");
}

#[test]
fn exit_codes_follow_the_verdict() {
    let ok = r#"{"schema_version":1,"steps":[{"id":"userns","syscall":"unshare(CLONE_NEWUSER)","result":{"outcome":"ok"}}]}"#;
    let (out, _) = nsdoctor(&["diagnose", "-"], ok.as_bytes());
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
    let blocked = r#"{"schema_version":1,"sysctl":{"unprivileged_userns_clone":{"observed":0}},"identity":{"uid":{"observed":1000},"euid":{"observed":1000}},"process":{"seccomp_mode":{"observed":0}},"steps":[{"id":"userns","syscall":"unshare(CLONE_NEWUSER)","result":{"outcome":"failed","errno":{"name":"EPERM","number":1}}}]}"#;
    let (out, _) = nsdoctor(&["diagnose", "-", "--format", "json"], blocked.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "blocked");
    assert_eq!(v["findings"][0]["cause"], "unprivileged-userns-clone-disabled");
    assert!(v["rendered"].as_str().unwrap().starts_with("nsdoctor: BLOCKED"));
}

#[test]
fn control_and_bidi_characters_from_reports_are_escaped() {
    let evil = "{\"schema_version\":1,\"observed_error\":\"bwrap: setting up uid map: Permission denied \\u001b[2J\\u202e evil\"}";
    for fmt in ["text", "markdown"] {
        let (out, _) = nsdoctor(&["diagnose", "-", "--format", fmt], evil.as_bytes());
        let s = String::from_utf8(out.stdout).unwrap();
        assert!(!s.contains('\u{1b}') && !s.contains('\u{202e}'), "{fmt}: raw control reached the terminal");
        assert!(s.contains("\\u{001b}") && s.contains("\\u{202e}"), "{fmt}: escapes missing");
    }
}

#[test]
fn colour_only_when_asked_or_on_a_terminal() {
    let ok = r#"{"schema_version":1,"steps":[{"id":"userns","syscall":"u","result":{"outcome":"ok"}}]}"#;
    let (plain, _) = nsdoctor(&["diagnose", "-"], ok.as_bytes());
    assert!(!plain.stdout.contains(&0x1b), "piped output has no colour");
    let (col, _) = nsdoctor(&["diagnose", "-", "--color", "always"], ok.as_bytes());
    assert!(col.stdout.contains(&0x1b));
}

#[test]
fn explain_rules_and_schema() {
    let (out, _) = nsdoctor(&["explain", "nsd101"], b"");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("## How to fix"));
    let (out, _) = nsdoctor(&["explain", "apparmor-userns-transition", "--format", "json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["code"], "NSD101");
    assert_eq!(v["cause"], "apparmor-userns-restriction");
    let (out, _) = nsdoctor(&["rules", "--format", "json"], b"");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v.as_array().unwrap().len(), policy_core::rules::RULES.len());
    for name in ["probe-report", "sandbox-config", "diagnosis"] {
        let (out, _) = nsdoctor(&["schema", name], b"");
        let committed = std::fs::read(format!("{}/../schemas/{name}.schema.json", env!("CARGO_MANIFEST_DIR"))).unwrap();
        assert_eq!(out.stdout, committed, "{name}");
    }
}

#[test]
fn diagnose_is_deterministic_on_fixtures_and_config_overrides_network() {
    let f = fixture("ubuntu-2404-max-net-zero");
    if !std::path::Path::new(&f).exists() {
        return;
    }
    let (a, _) = nsdoctor(&["diagnose", &f, "--format", "json"], b"");
    let (b, _) = nsdoctor(&["diagnose", &f, "--format", "json"], b"");
    assert_eq!(a.stdout, b.stdout);
}

#[test]
fn a_missing_bwrap_is_named_not_left_unexplained() {
    let r = r#"{"schema_version":1,"steps":[{"id":"userns","syscall":"u","result":{"outcome":"ok"}}],
      "replays":[{"name":"sandbox","argv":["/opt/none/bwrap","--ro-bind","/","/","/bin/true"],
                  "exit":{"kind":"spawn-failed","errno":{"name":"ENOENT","number":2}},"stderr":""}]}"#;
    let (out, _) = nsdoctor(&["diagnose", "-", "--format", "json"], r.as_bytes());
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["verdict"], "degraded");
    assert_eq!(v["findings"].as_array().unwrap().len(), 1, "{v}");
    assert_eq!(v["findings"][0]["code"], "NSD191");
    assert!(v["findings"][0]["summary"].as_str().unwrap().contains("/opt/none/bwrap"));
    assert_eq!(v["findings"][0]["remediations"][0]["id"], "install-bubblewrap");
}

#[test]
fn probe_side_errors_exit_2_with_one_line() {
    let missing = "/nonexistent/sandbox-config.json";
    assert_input_error(&["check", "--no-bwrap", "--config", missing], b"", "missing --config");
    let (out, _) = nsdoctor(&["check", "--no-bwrap", "--config", missing], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with(&format!("nsdoctor: cannot read --config `{missing}`: ")), "{err}");
    let bad = std::env::temp_dir().join(format!("nsdoctor-bad-config-{}.json", std::process::id()));
    std::fs::write(&bad, b"{\"network\": \"sideways\"}").unwrap_or_else(|e| panic!("{e}"));
    let bad_s = bad.display().to_string();
    assert_input_error(&["check", "--full", "--no-bwrap", "--config", &bad_s], b"", "invalid --config");
    let _ = std::fs::remove_file(&bad);
    assert_input_error(&["check", "--no-bwrap", "--parent-pid", "4000000000"], b"", "no such --parent-pid");
    let (out, _) = nsdoctor(&["probe", "--no-bwrap", "--output", "/nonexistent/dir/report.json"], b"");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.starts_with("nsdoctor: cannot write `/nonexistent/dir/report.json`: "), "{err}");
}
