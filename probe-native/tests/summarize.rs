//! `nsdoctor summarize` and the integration formats (`--format checks`, `--format prometheus`), end to end on
//! the real binary. Expected counts are derived here, at test time, by diagnosing the fixtures with
//! `policy_core` directly: nothing below is a hard-coded total.
//!
//! The constant-memory bench: `cargo test --release -p probe-native --test summarize -- --ignored --nocapture`
//! (100 000 reports; `NSD_BENCH_REPORTS=N` to change the count).

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufWriter, Read, Write};
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use policy_core::{Diagnosis, ProbeReport, Severity, Verdict};
use serde_json::{Value, json};

mod common;

fn nsdoctor(args: &[&str], stdin: &[u8]) -> Output {
    common::run(args, stdin).0
}

fn fixtures_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures")
}

/// Every fixture report (path, bytes), `expected.json` excluded, in name order.
fn fixtures() -> Vec<(String, Vec<u8>)> {
    let mut out: Vec<(String, Vec<u8>)> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json") && p.file_name().is_some_and(|n| n != "expected.json"))
        .map(|p| (p.to_string_lossy().into_owned(), std::fs::read(&p).unwrap()))
        .collect();
    out.sort();
    assert!(out.len() >= 20, "fixtures not found");
    out
}

fn diagnosed() -> Vec<(String, ProbeReport, Diagnosis)> {
    fixtures()
        .into_iter()
        .map(|(p, b)| {
            let r = policy_core::input::parse_report(&b).unwrap();
            let d = policy_core::diagnose(&r, None);
            (p, r, d)
        })
        .collect()
}

fn temp_dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("nsd-summarize-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn compact(bytes: &[u8]) -> String {
    serde_json::to_string(&serde_json::from_slice::<Value>(bytes).unwrap()).unwrap()
}

fn bump(m: &mut BTreeMap<String, u64>, k: &str) {
    *m.entry(k.to_string()).or_default() += 1;
}

/// The summary JSON the fixtures must produce, computed independently of `policy_core::summary`.
struct Expected {
    reports: u64,
    verdicts: BTreeMap<String, u64>,
    top_causes: BTreeMap<String, u64>,
    causes: BTreeMap<String, u64>,
    rules: BTreeMap<String, u64>,
    distros: BTreeMap<String, u64>,
    origins: BTreeMap<String, u64>,
    blocking: u64,
    any_blocked: bool,
}

fn expected(all: &[(String, ProbeReport, Diagnosis)]) -> Expected {
    let mut e = Expected {
        reports: 0,
        verdicts: BTreeMap::new(),
        top_causes: BTreeMap::new(),
        causes: BTreeMap::new(),
        rules: BTreeMap::new(),
        distros: BTreeMap::new(),
        origins: BTreeMap::new(),
        blocking: 0,
        any_blocked: false,
    };
    for (_, r, d) in all {
        e.reports += 1;
        bump(&mut e.verdicts, d.verdict.as_str());
        e.any_blocked |= d.verdict == Verdict::Blocked;
        let top =
            d.findings.iter().find(|f| f.blocking || f.severity != Severity::Info).map_or("none", |f| f.cause.as_str());
        bump(&mut e.top_causes, top);
        let causes: BTreeSet<&str> = d.findings.iter().map(|f| f.cause.as_str()).collect();
        for c in causes {
            bump(&mut e.causes, c);
        }
        let codes: BTreeSet<&str> = d.findings.iter().map(|f| f.code.as_str()).collect();
        for c in codes {
            bump(&mut e.rules, c);
        }
        e.blocking += d.findings.iter().filter(|f| f.blocking).count() as u64;
        let id = r.distro.id.get().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let ver = r.distro.version_id.get().map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
        let distro = match (id, ver) {
            (Some(i), Some(v)) => format!("{i} {v}"),
            (Some(i), None) => i,
            (None, _) => "(unknown)".to_string(),
        };
        bump(&mut e.distros, &distro);
        let by = r.bwrap.selected_by.clone().unwrap_or_default().to_lowercase();
        let origin = match r.bwrap.selected.as_deref() {
            None => "none",
            Some(p) if by.contains("codex") || p.contains("codex-resources") => "codex-bundled",
            Some(p) if p.starts_with("/usr/bin/") || p.starts_with("/bin/") => "system",
            Some(_) => "other",
        };
        bump(&mut e.origins, origin);
    }
    e
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object().unwrap().iter().map(|(k, n)| (k.clone(), n.as_u64().unwrap())).collect()
}

fn report_counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object().unwrap().iter().map(|(k, r)| (k.clone(), r["reports"].as_u64().unwrap())).collect()
}

fn nonzero(m: BTreeMap<String, u64>) -> BTreeMap<String, u64> {
    m.into_iter().filter(|(_, n)| *n > 0).collect()
}

fn json_of(out: &Output) -> Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)))
}

#[test]
fn summarize_fixture_files_matches_direct_diagnosis() {
    let all = diagnosed();
    let e = expected(&all);
    // The fixtures must exercise more than one verdict and origin, or the comparison proves little.
    assert!(e.verdicts.len() >= 3 && e.origins.len() >= 3, "{:?} {:?}", e.verdicts, e.origins);
    let paths: Vec<&str> = all.iter().map(|(p, _, _)| p.as_str()).collect();
    let mut args = vec!["summarize", "--format", "json"];
    args.extend(&paths);
    let out = nsdoctor(&args, b"");
    assert_eq!(out.status.code(), Some(if e.any_blocked { 1 } else { 0 }), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "{}", String::from_utf8_lossy(&out.stderr));
    let j = json_of(&out);
    assert_eq!(j["schema_version"], 1);
    assert_eq!(j["reports"].as_u64(), Some(e.reports));
    assert_eq!(j["input_errors"], 0);
    assert_eq!(j["blocking_findings"].as_u64(), Some(e.blocking));
    assert_eq!(nonzero(counts(&j["by_verdict"])), e.verdicts);
    assert_eq!(counts(&j["by_verdict"]).len(), 3, "every verdict key is always present");
    assert_eq!(report_counts(&j["by_top_cause"]), e.top_causes);
    assert_eq!(counts(&j["by_cause"]), e.causes);
    assert_eq!(counts(&j["by_rule"]), e.rules);
    assert_eq!(report_counts(&j["by_distro"]), e.distros);
    assert_eq!(nonzero(report_counts(&j["by_bwrap_origin"])), e.origins);
    assert_eq!(report_counts(&j["by_bwrap_origin"]).len(), 4);
    let by_input: u64 = counts(&j["by_input"]).values().sum();
    assert_eq!(by_input, e.reports);
    // Per-distro verdict split adds up.
    for (k, r) in j["by_distro"].as_object().unwrap() {
        let parts = r["ok"].as_u64().unwrap() + r["degraded"].as_u64().unwrap() + r["blocked"].as_u64().unwrap();
        assert_eq!(parts, r["reports"].as_u64().unwrap(), "{k}");
    }
    // Same inputs, same bytes.
    assert_eq!(nsdoctor(&args, b"").stdout, out.stdout);
}

#[test]
fn ndjson_on_stdin_equals_the_files() {
    let all = fixtures();
    let paths: Vec<&str> = all.iter().map(|(p, _)| p.as_str()).collect();
    let mut args = vec!["summarize", "--format", "json"];
    args.extend(&paths);
    let from_files = nsdoctor(&args, b"");
    // NDJSON with CRLF endings, blank lines, a BOM and no final newline.
    let mut nd = String::from("\u{feff}");
    for (i, (_, b)) in all.iter().enumerate() {
        nd.push_str(&compact(b));
        nd.push_str(if i % 3 == 0 { "\r\n" } else { "\n" });
        if i % 5 == 0 {
            nd.push_str("   \n");
        }
    }
    let nd = nd.trim_end().to_string();
    let from_stdin = nsdoctor(&["summarize", "--format", "json", "-"], nd.as_bytes());
    assert_eq!(from_stdin.status.code(), from_files.status.code(), "{}", String::from_utf8_lossy(&from_stdin.stderr));
    assert_eq!(json_of(&from_stdin), json_of(&from_files));
    // Files mixed: a pretty report, an NDJSON file, stdin.
    let dir = temp_dir("mixed");
    let nd_path = dir.join("fleet.ndjson");
    std::fs::write(&nd_path, &nd).unwrap();
    let out = nsdoctor(
        &["summarize", "--format", "json", paths[0], nd_path.to_str().unwrap(), "-"],
        compact(&all[1].1).as_bytes(),
    );
    assert_eq!(json_of(&out)["reports"].as_u64(), Some(all.len() as u64 + 2));
    assert_eq!(json_of(&out)["input_errors"], 0);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_lines_are_counted_with_file_and_line_and_do_not_abort() {
    let all = diagnosed();
    let (ok_path, _, ok_d) = all.iter().find(|(_, _, d)| d.verdict == Verdict::Ok).unwrap();
    let (blocked_path, _, _) = all.iter().find(|(_, _, d)| d.verdict == Verdict::Blocked).unwrap();
    assert_eq!(ok_d.verdict, Verdict::Ok);
    let good = compact(&std::fs::read(ok_path).unwrap());
    let bad_ones = [
        "{not json}".to_string(),
        "{\"schema_version\": 2}".to_string(),
        "{\"schema_version\": 1, \"bogus\": true}".to_string(),
        format!("{{\"schema_version\":1,\"source\":\"{}\"}}", "a".repeat(policy_core::input::MAX_REPORT_BYTES)),
        "{\"schema_version\": 1, \"x\": \u{1b}[2J}".to_string(),
    ];
    let mut lines = vec![good.clone()];
    for b in &bad_ones {
        lines.push(b.clone());
        lines.push(good.clone());
    }
    let dir = temp_dir("bad");
    let path = dir.join("hosts.ndjson");
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let p = path.to_str().unwrap();
    let out = nsdoctor(&["summarize", "--format", "json", p], b"");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "only ok reports are valid: {stderr}");
    assert_eq!(stderr.lines().count(), 1, "one warning line: {stderr}");
    assert!(stderr.starts_with("nsdoctor: warning: 5 invalid inputs"), "{stderr}");
    let j = json_of(&out);
    assert_eq!(j["reports"].as_u64(), Some(bad_ones.len() as u64 + 1));
    assert_eq!(j["input_errors"].as_u64(), Some(bad_ones.len() as u64));
    let sources: Vec<String> =
        j["errors"].as_array().unwrap().iter().map(|e| e["source"].as_str().unwrap().to_string()).collect();
    let want: Vec<String> = (0..bad_ones.len()).map(|i| format!("{p}:{}", 2 * i + 2)).collect();
    assert_eq!(sources, want);
    let messages: Vec<&str> = j["errors"].as_array().unwrap().iter().map(|e| e["message"].as_str().unwrap()).collect();
    assert!(messages[0].contains("not valid JSON"), "{messages:?}");
    assert!(messages[1].contains("schema_version 2"), "{messages:?}");
    assert!(messages[2].contains("bogus"), "{messages:?}");
    assert!(messages[3].contains("longer than"), "{messages:?}");
    assert!(messages.iter().all(|m| !m.chars().any(char::is_control)), "{messages:?}");
    // A blocked report among them makes the exit 1.
    let blocked = compact(&std::fs::read(blocked_path).unwrap());
    let out = nsdoctor(&["summarize", p, "-"], blocked.as_bytes());
    assert_eq!(out.status.code(), Some(1));
    // The text format lists the errors by file:line.
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains(&format!("{p}:2: ")), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn nothing_valid_exits_2_with_one_line() {
    for (args, stdin, what) in [
        (vec!["summarize", "-"], &b""[..], "empty stdin"),
        (vec!["summarize", "-"], &b"\n\n  \n"[..], "blank lines"),
        (vec!["summarize", "-"], &b"{garbage}\n[1,2]\n"[..], "garbage lines"),
        (vec!["summarize", "-"], &b"{\n  \"schema_version\": 7\n}\n"[..], "bad pretty document"),
        (vec!["summarize", "/nonexistent/a.json", "/nonexistent/b.ndjson"], &b""[..], "missing files"),
        (vec!["summarize", "/"], &b""[..], "a directory"),
    ] {
        let out = nsdoctor(&args, stdin);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{what}: {err}");
        assert!(out.stdout.is_empty(), "{what}");
        assert_eq!(err.trim_end().lines().count(), 1, "{what}: {err:?}");
        assert!(err.starts_with("nsdoctor: no valid report"), "{what}: {err}");
    }
    // No input at all is a usage error.
    assert_eq!(nsdoctor(&["summarize"], b"").status.code(), Some(2));
    assert_eq!(nsdoctor(&["summarize", "--format", "yaml", "-"], b"").status.code(), Some(2));
}

#[test]
fn text_and_markdown_show_the_derived_counts() {
    let all = diagnosed();
    let e = expected(&all);
    let paths: Vec<&str> = all.iter().map(|(p, _, _)| p.as_str()).collect();
    let mut args = vec!["summarize"];
    args.extend(&paths);
    let text = String::from_utf8(nsdoctor(&args, b"").stdout).unwrap();
    assert!(text.starts_with(&format!("nsdoctor summary: {} reports, 0 input errors\n", e.reports)), "{text}");
    let blocked = e.verdicts.get("blocked").copied().unwrap_or(0);
    assert!(
        text.lines().any(|l| l.split_whitespace().take(2).collect::<Vec<_>>() == ["blocked", &blocked.to_string()]),
        "{text}"
    );
    for section in ["verdict", "top cause", "any cause", "rule", "distro", "bwrap origin", "bwrap selected_by"] {
        assert!(text.contains(&format!("\n{section}")), "{section}: {text}");
    }
    let mut args = vec!["summarize", "--format", "markdown"];
    args.extend(&paths);
    let md = String::from_utf8(nsdoctor(&args, b"").stdout).unwrap();
    assert!(md.starts_with("# nsdoctor summary\n"), "{md}");
    assert!(md.contains(&format!("| blocked | {blocked} |")), "{md}");
    for (distro, n) in &e.distros {
        if !distro.contains('|') {
            assert!(md.contains(&format!("| {distro} | {n} |")), "{distro}: {md}");
        }
    }
}

// ---- --format checks

#[test]
fn checks_format_is_one_doctor_check_per_finding() {
    let mut healthy = 0;
    for (path, _, d) in diagnosed() {
        let out = nsdoctor(&["diagnose", "--format", "checks", &path], b"");
        assert_eq!(out.status.code(), Some(if d.verdict == Verdict::Blocked { 1 } else { 0 }), "{path}");
        let checks = json_of(&out);
        let checks = checks.as_array().unwrap();
        assert_eq!(checks.len(), d.findings.len().max(1), "{path}");
        for c in checks {
            let keys: BTreeSet<&str> = c.as_object().unwrap().keys().map(String::as_str).collect();
            assert_eq!(
                keys,
                BTreeSet::from(["id", "category", "status", "summary", "details", "remediation"]),
                "{path}"
            );
            assert!(["ok", "warning", "fail"].contains(&c["status"].as_str().unwrap()), "{path}");
            assert_eq!(c["category"], "sandbox");
            assert!(!c["summary"].as_str().unwrap().is_empty());
            assert!(c["details"].as_array().unwrap().iter().all(|x| x.as_str().is_some_and(|s| !s.contains('\n'))));
            assert!(c["remediation"].is_null() || c["remediation"].is_string());
        }
        if d.findings.is_empty() {
            healthy += 1;
            assert_eq!(checks[0]["id"], "nsdoctor.namespaces");
            assert_eq!(checks[0]["status"], "ok", "{path}: a healthy run is one ok check");
        }
        for (c, f) in checks.iter().zip(&d.findings) {
            assert_eq!(c["id"].as_str().unwrap(), format!("nsdoctor.{}", f.code));
            assert_eq!(
                c["status"],
                serde_json::to_value(policy_core::render::check_status(f)).unwrap(),
                "{path} {}",
                f.code
            );
            assert_eq!(c["remediation"].is_null(), f.remediations.is_empty(), "{path} {}", f.code);
        }
        let any_fail = checks.iter().any(|c| c["status"] == "fail");
        assert_eq!(any_fail, d.verdict == Verdict::Blocked, "{path}");
    }
    assert!(healthy > 0, "no healthy fixture");
}

// ---- --format prometheus

fn is_metric_name(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
        && cs.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
}

fn is_label_name(s: &str) -> bool {
    let mut cs = s.chars();
    cs.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_') && cs.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// One parsed sample: metric name, labels (unescaped values), value.
type Sample = (String, Vec<(String, String)>, f64);

/// Parses the text exposition format strictly (what node_exporter's textfile collector accepts, minus
/// timestamps, which nsdoctor never writes): `# HELP`/`# TYPE gauge` before the samples of each family, each
/// family once, `name{label="escaped value",…} value`, label values escaped (`\\`, `\"`, `\n` only), no
/// duplicate series, trailing newline.
fn parse_exposition(text: &str) -> Vec<Sample> {
    assert!(text.ends_with('\n'), "no trailing newline");
    let mut helped = BTreeSet::new();
    let mut typed = BTreeSet::new();
    let mut series = BTreeSet::new();
    let mut samples = Vec::new();
    let mut last_family = String::new();
    for line in text.lines() {
        assert!(!line.is_empty(), "blank line");
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').unwrap();
            assert!(is_metric_name(name) && !help.is_empty() && !help.contains('\\'), "{line}");
            assert!(helped.insert(name.to_string()), "HELP twice: {line}");
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, ty) = rest.split_once(' ').unwrap();
            assert!(helped.contains(name) && ty == "gauge", "{line}");
            assert!(typed.insert(name.to_string()), "TYPE twice: {line}");
            last_family = name.to_string();
            continue;
        }
        assert!(!line.starts_with('#'), "{line}");
        let name_end = line.find(['{', ' ']).unwrap();
        let name = &line[..name_end];
        assert!(is_metric_name(name), "{line}");
        assert_eq!(name, last_family, "sample outside its family: {line}");
        let mut rest = &line[name_end..];
        let mut labels = Vec::new();
        if let Some(r) = rest.strip_prefix('{') {
            rest = r;
            loop {
                let eq = rest.find('=').unwrap();
                let label = &rest[..eq];
                assert!(is_label_name(label), "{line}");
                rest = rest[eq + 1..].strip_prefix('"').unwrap_or_else(|| panic!("unquoted: {line}"));
                let mut value = String::new();
                let mut chars = rest.char_indices();
                let end = loop {
                    match chars.next() {
                        Some((_, '\\')) => match chars.next() {
                            Some((_, '\\')) => value.push('\\'),
                            Some((_, '"')) => value.push('"'),
                            Some((_, 'n')) => value.push('\n'),
                            other => panic!("bad escape {other:?}: {line}"),
                        },
                        Some((i, '"')) => break i,
                        Some((_, c)) => {
                            assert!(c != '\n', "{line}");
                            value.push(c);
                        }
                        None => panic!("unterminated label value: {line}"),
                    }
                };
                labels.push((label.to_string(), value));
                rest = &rest[end + 1..];
                if let Some(r) = rest.strip_prefix(',') {
                    rest = r;
                } else {
                    rest = rest.strip_prefix('}').unwrap_or_else(|| panic!("{line}"));
                    break;
                }
            }
        }
        let value = rest.strip_prefix(' ').unwrap_or_else(|| panic!("{line}"));
        assert!(!value.contains(' '), "timestamp or junk after the value: {line}");
        let v: f64 = value.parse().unwrap_or_else(|_| panic!("value: {line}"));
        let names: BTreeSet<&str> = labels.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names.len(), labels.len(), "duplicate label: {line}");
        assert!(series.insert((name.to_string(), labels.clone())), "duplicate series: {line}");
        samples.push((name.to_string(), labels, v));
    }
    samples
}

fn sample<'a>(samples: &'a [Sample], name: &str, labels: &[(&str, &str)]) -> Option<&'a Sample> {
    samples.iter().find(|(n, l, _)| n == name && labels.iter().all(|(k, v)| l.iter().any(|(a, b)| a == k && b == v)))
}

#[test]
fn prometheus_format_is_valid_exposition_and_matches_the_diagnosis() {
    for (path, _, d) in diagnosed() {
        let out = nsdoctor(&["diagnose", "--format", "prometheus", &path], b"");
        assert_eq!(out.status.code(), Some(if d.verdict == Verdict::Blocked { 1 } else { 0 }), "{path}");
        let samples = parse_exposition(&String::from_utf8(out.stdout).unwrap());
        for v in [Verdict::Ok, Verdict::Degraded, Verdict::Blocked] {
            let s = sample(&samples, "nsdoctor_verdict", &[("verdict", v.as_str())]).unwrap();
            assert_eq!(s.2, if v == d.verdict { 1.0 } else { 0.0 }, "{path}");
        }
        let blocking = d.findings.iter().filter(|f| f.blocking).count() as f64;
        assert_eq!(sample(&samples, "nsdoctor_blocking_findings", &[]).unwrap().2, blocking, "{path}");
        let findings: Vec<&Sample> = samples.iter().filter(|s| s.0 == "nsdoctor_finding").collect();
        assert_eq!(findings.len(), d.findings.len(), "{path}");
        for f in &d.findings {
            let blocking = f.blocking.to_string();
            let s = sample(
                &samples,
                "nsdoctor_finding",
                &[
                    ("code", &f.code),
                    ("cause", f.cause.as_str()),
                    ("severity", f.severity.as_str()),
                    ("blocking", &blocking),
                ],
            );
            assert_eq!(s.map(|s| s.2), Some(1.0), "{path} {}", f.code);
        }
    }
    // The fleet gauges too, and they add up to the derived counts.
    let all = diagnosed();
    let e = expected(&all);
    let mut args = vec!["summarize", "--format", "prometheus"];
    args.extend(all.iter().map(|(p, _, _)| p.as_str()));
    let samples = parse_exposition(&String::from_utf8(nsdoctor(&args, b"").stdout).unwrap());
    let sum = |name: &str| -> f64 { samples.iter().filter(|s| s.0 == name).map(|s| s.2).sum() };
    assert_eq!(sum("nsdoctor_summary_reports"), e.reports as f64);
    assert_eq!(sum("nsdoctor_summary_distro"), e.reports as f64);
    assert_eq!(sum("nsdoctor_summary_bwrap_origin"), e.reports as f64);
    assert_eq!(sum("nsdoctor_summary_top_cause"), e.reports as f64);
    for (v, n) in &e.verdicts {
        assert_eq!(sample(&samples, "nsdoctor_summary_reports", &[("verdict", v)]).unwrap().2, *n as f64);
    }
}

const HOSTILE: &str =
    "evil\"} 1\nnsdoctor_verdict{verdict=\"ok\"} 1\n# TYPE x counter\\\u{1b}[2J\u{202e}\r\u{0}end | cell";

#[test]
fn prometheus_labels_escape_hostile_strings() {
    let all = fixtures();
    let (_, bytes) = all.iter().find(|(p, _)| p.ends_with("ubuntu-2404-codex-bundled-bwrap-uidmap.json")).unwrap();
    let mut v: Value = serde_json::from_slice(bytes).unwrap();
    let benign = nsdoctor(&["diagnose", "--format", "prometheus", "-"], compact(bytes).as_bytes());
    v["config"]["tool"] = json!(HOSTILE);
    v["config"]["bwrap_path"] = json!(format!("/opt/{HOSTILE}/{}", "x".repeat(5000)));
    v["distro"]["id"] = json!({ "observed": HOSTILE });
    v["distro"]["version_id"] = json!({ "observed": "24.04\"\\" });
    let hostile = serde_json::to_string(&v).unwrap();
    let out = nsdoctor(&["diagnose", "--format", "prometheus", "-"], hostile.as_bytes());
    let text = String::from_utf8(out.stdout).unwrap();
    let samples = parse_exposition(&text);
    assert_eq!(text.lines().count(), String::from_utf8_lossy(&benign.stdout).lines().count(), "{text}");
    let info = sample(&samples, "nsdoctor_info", &[]).unwrap();
    let tool = &info.1.iter().find(|(k, _)| k == "tool").unwrap().1;
    // Quotes, backslashes and newlines survive escaping; other controls are shown as \u{…}, never raw.
    assert!(tool.starts_with("evil\"} 1\nnsdoctor_verdict{verdict=\"ok\"} 1\n# TYPE x counter\\"), "{tool:?}");
    assert!(
        tool.contains("\\u{001b}[2J") && tool.contains("\\u{202e}") && tool.contains("\\u{0000}end | cell"),
        "{tool:?}"
    );
    assert!(!tool.chars().any(|c| c.is_control() && c != '\n'), "{tool:?}");
    let bwrap = &info.1.iter().find(|(k, _)| k == "bwrap_path").unwrap().1;
    // Cut after 256 input characters (escapes of control characters make the shown value a little longer).
    assert!(bwrap.chars().count() < 400 && bwrap.ends_with('…'), "{}", bwrap.len());
    assert_eq!(sample(&samples, "nsdoctor_verdict", &[("verdict", "ok")]).unwrap().2, 0.0, "no injected series");

    // The fleet view: hostile distro keys as labels, and in the text, Markdown and JSON renderings.
    let input = format!("{hostile}\n{}\n", compact(bytes));
    let out = nsdoctor(&["summarize", "--format", "prometheus", "-"], input.as_bytes());
    let samples = parse_exposition(&String::from_utf8(out.stdout).unwrap());
    let distros: Vec<&String> = samples
        .iter()
        .filter(|s| s.0 == "nsdoctor_summary_distro")
        .flat_map(|s| s.1.iter().filter(|(k, _)| k == "distro").map(|(_, v)| v))
        .collect();
    assert_eq!(distros.len(), 2, "{distros:?}");
    assert!(distros.iter().any(|d| d.starts_with("evil\"} 1")), "{distros:?}");
    assert!(distros.iter().all(|d| !d.chars().any(char::is_control)), "keys are one cleaned line: {distros:?}");
    for format in ["text", "markdown", "json"] {
        let out = nsdoctor(&["summarize", "--format", format, "-"], input.as_bytes());
        let s = String::from_utf8(out.stdout).unwrap();
        assert!(!s.chars().any(|c| c.is_control() && c != '\n'), "{format}: {s:?}");
        assert!(!s.contains("\nnsdoctor_verdict"), "{format}");
        if format == "json" {
            let j: Value = serde_json::from_str(&s).unwrap();
            assert_eq!(j["reports"], 2);
        }
        if format == "markdown" {
            let row = s.lines().find(|l| l.starts_with("| evil")).unwrap();
            assert_eq!(row.matches(" | ").count(), 5, "the hostile key stays in one cell: {row}");
        }
    }
    // And the checks format: valid JSON, every string free of raw controls.
    let out = nsdoctor(&["diagnose", "--format", "checks", "-"], hostile.as_bytes());
    let j: Value = serde_json::from_slice(&out.stdout).unwrap();
    fn strings(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::String(s) => out.push(s.clone()),
            Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
            Value::Object(o) => o.values().for_each(|x| strings(x, out)),
            _ => {}
        }
    }
    let mut all_strings = Vec::new();
    strings(&j, &mut all_strings);
    assert!(all_strings.iter().all(|s| !s.chars().any(char::is_control)), "{all_strings:?}");
}

// ---- streaming: constant memory

/// Writes `n` varied reports as NDJSON: fixtures in turn, each with its own `source`; some with a fleet-wide
/// distro version, every tenth with a distro id of its own (so the distro map reaches its key cap at 100 000),
/// some with a different bwrap.
fn write_fleet(n: usize, out: &mut dyn Write) -> u64 {
    let base: Vec<Value> = fixtures().iter().map(|(_, b)| serde_json::from_slice(b).unwrap()).collect();
    let mut bytes = 0u64;
    let bwraps = [
        ("/usr/local/bin/bwrap", "PATH"),
        ("/home/dev/.codex/packages/standalone/releases/1.2.3/codex-resources/bwrap", "codex bundled"),
        ("/nix/store/abc-bubblewrap-0.11/bin/bwrap", "PATH"),
    ];
    for i in 0..n {
        let mut v = base[i % base.len()].clone();
        v["source"] = json!(format!("bench host {i}"));
        if i % 7 == 3 {
            v["distro"]["version_id"] = json!({ "observed": format!("{}.{}", 20 + i % 9, i % 4) });
        }
        if i % 10 == 1 {
            v["distro"]["id"] = json!({ "observed": format!("fleet-{i}") });
        }
        if i % 11 == 5 {
            let (path, by) = bwraps[i % bwraps.len()];
            v["bwrap"]["selected"] = json!(path);
            v["bwrap"]["selected_by"] = json!(by);
        }
        let line = serde_json::to_string(&v).unwrap() + "\n";
        bytes += line.len() as u64;
        if out.write_all(line.as_bytes()).is_err() {
            break;
        }
    }
    bytes
}

struct Run {
    reports: u64,
    bytes: u64,
    elapsed: Duration,
    max_rss_kib: i64,
    json: Value,
}

/// Streams `n` generated reports into `nsdoctor summarize --format json -` and measures the child alone
/// (`wait4` rusage). Call it through [`run_isolated`]: see there.
#[expect(clippy::zombie_processes, reason = "the child is reaped by wait4, which also reads its rusage")]
fn run_fleet(n: usize) -> Run {
    let mut child = Command::new(env!("CARGO_BIN_EXE_nsdoctor"))
        .args(["summarize", "--format", "json", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let sin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        let mut w = BufWriter::with_capacity(1 << 20, sin);
        let bytes = write_fleet(n, &mut w);
        let _ = w.flush();
        bytes
    });
    let mut sout = child.stdout.take().unwrap();
    let reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        sout.read_to_end(&mut s).unwrap();
        s
    });
    let (status, max_rss_kib) = wait4(child.id());
    let elapsed = start.elapsed();
    let bytes = writer.join().unwrap();
    let stdout = reader.join().unwrap();
    assert!(status == 0 || status == 1, "exit {status}");
    let json: Value = serde_json::from_slice(&stdout).unwrap();
    Run { reports: json["reports"].as_u64().unwrap(), bytes, elapsed, max_rss_kib, json }
}

#[expect(unsafe_code, reason = "wait4: the only way to read one child's own peak RSS (ru_maxrss)")]
fn wait4(pid: u32) -> (i32, i64) {
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for the kernel to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = libc::pid_t::try_from(pid).unwrap();
    // SAFETY: valid pointers to locals; pid is our own unreaped child.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4: {}", std::io::Error::last_os_error());
    assert!(libc::WIFEXITED(status), "child did not exit normally: {status}");
    (libc::WEXITSTATUS(status), usage.ru_maxrss)
}

const MEASURE_ENV: &str = "NSD_SUMMARIZE_MEASURE_REPORTS";

/// Runs [`run_fleet`] in a fresh process of this test binary (the `measure_helper` test) and reads its result.
///
/// Why: a child started with `posix_spawn` (vfork) inherits, in `ru_maxrss`, the high-water RSS of the process
/// that spawned it (the kernel records the old mm's peak at exec). Spawned from this test process, whose RSS grows
/// with the other tests' data, the figure would be that process's, not nsdoctor's. A fresh helper is a few MiB,
/// below nsdoctor's own peak, so `ru_maxrss` is nsdoctor's.
fn run_isolated(n: usize) -> Run {
    let out = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "measure_helper", "--ignored", "--nocapture", "--test-threads=1"])
        .env(MEASURE_ENV, n.to_string())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout
        .lines()
        .find_map(|l| l.split_once("NSD-MEASURE ").map(|(_, m)| m))
        .unwrap_or_else(|| panic!("helper failed: {stdout}\n{}", String::from_utf8_lossy(&out.stderr)));
    let m: Value = serde_json::from_str(line).unwrap();
    Run {
        reports: m["reports"].as_u64().unwrap(),
        bytes: m["bytes"].as_u64().unwrap(),
        elapsed: Duration::from_secs_f64(m["secs"].as_f64().unwrap()),
        max_rss_kib: m["max_rss_kib"].as_i64().unwrap(),
        json: m["summary"].clone(),
    }
}

/// The measuring side of [`run_isolated`]; a no-op unless started by it.
#[test]
#[ignore = "helper process for run_isolated"]
fn measure_helper() {
    let Some(n) = std::env::var(MEASURE_ENV).ok().and_then(|s| s.parse::<usize>().ok()) else {
        return;
    };
    let r = run_fleet(n);
    let j = &r.json;
    let summary = json!({
        "reports": j["reports"],
        "input_errors": j["input_errors"],
        "distro_keys": j["by_distro"].as_object().unwrap().len(),
        "folded_into_other": j["folded_into_other"],
    });
    let m = json!({
        "reports": r.reports,
        "bytes": r.bytes,
        "secs": r.elapsed.as_secs_f64(),
        "max_rss_kib": r.max_rss_kib,
        "summary": summary,
    });
    println!("NSD-MEASURE {m}");
}

fn print_run(label: &str, r: &Run) {
    let secs = r.elapsed.as_secs_f64();
    println!(
        "{label}: {} reports, {:.1} MiB NDJSON in {secs:.2} s = {:.0} reports/s, {:.1} MiB/s; peak RSS {} KiB ({:.1} MiB)",
        r.reports,
        r.bytes as f64 / 1048576.0,
        r.reports as f64 / secs,
        r.bytes as f64 / 1048576.0 / secs,
        r.max_rss_kib,
        r.max_rss_kib as f64 / 1024.0
    );
}

#[test]
fn streaming_memory_does_not_grow_with_the_number_of_reports() {
    let small = run_isolated(1_000);
    let large = run_isolated(12_000);
    print_run("small", &small);
    print_run("large", &large);
    assert_eq!(small.reports, 1_000);
    assert_eq!(large.reports, 12_000);
    assert_eq!(large.json["input_errors"], 0);
    // 11 000 more reports are ~31 MiB more input; a reader that kept reports or lines would grow by that much.
    let growth_kib = large.max_rss_kib - small.max_rss_kib;
    assert!(large.bytes > 30 * 1024 * 1024, "{}", large.bytes);
    assert!(growth_kib < 8 * 1024, "peak RSS grew by {growth_kib} KiB from 1 000 to 12 000 reports");
    assert!(large.max_rss_kib < 32 * 1024, "peak RSS {} KiB", large.max_rss_kib);
}

/// The 100 000-report bench (ignored by default: run it in release, see the module doc). Runs n/10, n and 2n
/// reports: memory grows only while the distro table fills (every tenth report brings a new distro, so it
/// reaches its cap at n = 100 000) and is flat after that.
#[test]
#[ignore = "bench: cargo test --release -p probe-native --test summarize -- --ignored --nocapture"]
fn bench_100k_reports_constant_memory() {
    let n: usize = std::env::var("NSD_BENCH_REPORTS").ok().and_then(|s| s.parse().ok()).unwrap_or(100_000);
    let runs = [("n/10", run_isolated(n / 10)), ("n", run_isolated(n)), ("2n", run_isolated(2 * n))];
    for (label, r) in &runs {
        print_run(label, r);
        println!(
            "    distinct distro keys {} (cap {}), folded into (other): {}",
            r.json["distro_keys"],
            policy_core::summary::MAX_KEYS,
            r.json["folded_into_other"]["distro"]
        );
        assert!(r.json["distro_keys"].as_u64().unwrap() <= policy_core::summary::MAX_KEYS as u64);
    }
    let [(_, tenth), (_, full), (_, double)] = &runs;
    assert_eq!(full.reports, n as u64);
    assert_eq!(double.reports, 2 * n as u64);
    println!(
        "peak RSS growth: n/10 → n {} KiB, n → 2n {} KiB",
        full.max_rss_kib - tenth.max_rss_kib,
        double.max_rss_kib - full.max_rss_kib
    );
    assert!(full.max_rss_kib - tenth.max_rss_kib < 16 * 1024);
    assert!(double.max_rss_kib - full.max_rss_kib < 2 * 1024, "memory grew after every table was full");
}
