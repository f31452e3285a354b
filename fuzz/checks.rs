//! What the fuzz targets check, shared with the regression test that replays every saved finding
//! (`tests/tests/fuzz_regressions.rs` runs each file under `fuzz/regressions/<target>/` through these functions).
//! Each function panics when an invariant breaks; that is the crash libFuzzer reports.

#![allow(dead_code)]

// The probe's config discovery parsers, compiled straight from probe-native's sources (probe-native is a binary
// crate; this keeps its library surface unchanged).
#[allow(dead_code, clippy::all)]
#[path = "../probe-native/src/probe/config.rs"]
pub(crate) mod config;

use std::sync::OnceLock;

use policy_core::{
    ProbeReport, diagnose, diagnose_error_text_json, diagnose_json, input, render, render_json_str, symptoms,
};
use serde_json::Value;

fn is_error_json(s: &str) -> bool {
    serde_json::from_str::<Value>(s)
        .is_ok_and(|v| v.get("error").is_some_and(|e| e.get("message").is_some_and(Value::is_string)))
}

/// Report bytes → `parse_report` → `diagnose` → every renderer, plus the JSON adapters the web console uses.
///
/// Beyond "no panic": input errors are one line; the wasm byte adapter agrees with the typed path; the JSON
/// diagnosis re-renders through `render_json_str` to the same bytes (json), text and html; a parsed report
/// serializes back into a report that parses to the same value.
pub fn report(data: &[u8]) {
    let report = match input::parse_report(data) {
        Ok(r) => r,
        Err(e) => {
            assert!(!e.message.contains(['\n', '\r']), "multi-line input error: {:?}", e.message);
            assert!(is_error_json(&diagnose_json(data, None)), "wasm adapter must answer an error object");
            return;
        }
    };
    let d = diagnose(&report, None);
    let text = render::text(&d, false);
    let _ = render::text(&d, true);
    let _ = render::markdown(&d);
    let html = render::html(&d);
    let json = render::json(&d);
    assert_eq!(diagnose_json(data, None), json, "wasm adapter and CLI path disagree");

    // The web console re-renders the diagnosis JSON it got: same words, same bytes.
    if json.len() <= input::MAX_REPORT_BYTES {
        assert_eq!(render_json_str(&json, "json"), json, "json round trip changed the diagnosis");
        assert_eq!(render_json_str(&json, "text"), text, "text from the round-tripped diagnosis differs");
        assert_eq!(render_json_str(&json, "html"), html, "html from the round-tripped diagnosis differs");
        let _ = render_json_str(&json, "markdown");
    }

    // A parsed report serializes to a report that parses to the same value.
    let again = serde_json::to_string(&report).expect("a parsed report serializes");
    if again.len() <= input::MAX_REPORT_BYTES {
        let r2 = input::parse_report(again.as_bytes()).unwrap_or_else(|e| panic!("re-serialized report refused: {e}"));
        assert_eq!(r2, report, "report JSON round trip changed the report");
    }
}

const FACT_SETS: &[&[&str]] = &[
    &[],
    &["distro=ubuntu", "distro-version=24.04", "root=no"],
    &["distro=debian", "distro-version=12", "container=docker", "root=yes"],
    &["distro=fedora", "selinux=enforcing", "service=systemd", "tool=openclaw"],
    &["wsl=1", "kernel=4.4.0-19041-Microsoft"],
    &["container=gvisor", "chroot=yes", "container=none"],
];

/// Error-text bytes → the classifier, `report_from_error_text` + `diagnose` + renderers, and the wasm adapter.
///
/// Input layout: `TEXT` or `TEXT \0 FACTS`, FACTS being the facts JSON object the web console sends
/// (`{"distro": "ubuntu", …}`) or `KEY=VALUE` lines; without it, a fixed fact set picked by the text length.
pub fn error_text(data: &[u8]) {
    let (text_bytes, facts_bytes) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], Some(&data[i + 1..])),
        None => (data, None),
    };

    if let Ok(t) = std::str::from_utf8(text_bytes) {
        let syms = symptoms::classify(t);
        assert!(syms.len() <= 64, "unbounded symptom list");
        let lines = t.lines().count();
        for s in &syms {
            assert!(s.line.chars().count() <= 301, "symptom line not cut");
            assert!(s.line_no >= 1 && s.line_no <= lines, "line number {} out of 1..={lines}", s.line_no);
        }
    }

    let Ok(text) = input::parse_error_text(text_bytes) else { return };
    let facts: Vec<String> = match facts_bytes.map(std::str::from_utf8) {
        Some(Ok(f)) => match input::facts_from_json(f) {
            Ok(v) => v,
            Err(e) => {
                assert!(!e.message.contains(['\n', '\r']), "multi-line input error: {:?}", e.message);
                f.lines().map(str::to_string).collect()
            }
        },
        Some(Err(_)) => return,
        None => FACT_SETS[text.len() % FACT_SETS.len()].iter().map(|s| s.to_string()).collect(),
    };
    match input::report_from_error_text(&text, &facts) {
        Ok(r) => {
            let d = diagnose(&r, None);
            let _ = render::text(&d, false);
            let _ = render::markdown(&d);
            let _ = render::html(&d);
        }
        Err(e) => assert!(!e.message.contains(['\n', '\r']), "multi-line input error: {:?}", e.message),
    }
    // The wasm adapter always answers JSON.
    let facts_json = facts_bytes.and_then(|f| std::str::from_utf8(f).ok());
    let out = diagnose_error_text_json(&text, facts_json);
    assert!(serde_json::from_str::<Value>(&out).is_ok(), "adapter answered non-JSON");
}

/// A real probe report whose diagnosis depends on the config (network mode, namespaces, bwrap path).
fn config_report() -> &'static ProbeReport {
    static R: OnceLock<ProbeReport> = OnceLock::new();
    R.get_or_init(|| {
        input::parse_report(include_bytes!("../tests/fixtures/ubuntu-2404-codex-bundled-bwrap-uidmap.json"))
            .expect("fixture parses")
    })
}

/// Strings equal, unless the JSON5 reader turned an unpaired escaped surrogate into U+FFFD (it may be lenient
/// where serde_json refuses). Escaped surrogate pairs must be combined (`json5_decodes_escaped_surrogate_pairs`,
/// tests/tests/fuzz_regressions.rs).
fn same_str(json: &str, json5: &str) -> bool {
    json == json5 || json5.contains('\u{fffd}')
}

/// Same structure; numbers equal as f64 (within an ulp or so); strings and keys equal as in [`same_str`].
fn same(json: &Value, json5: &Value) -> bool {
    match (json, json5) {
        (Value::Object(a), Value::Object(b)) => {
            a.len() == b.len()
                && a.iter().all(|(k, v)| match b.get(k) {
                    Some(w) => same(v, w),
                    None => b.iter().any(|(l, w)| same_str(k, l) && same(v, w)),
                })
        }
        (Value::Array(a), Value::Array(b)) => a.len() == b.len() && a.iter().zip(b).all(|(v, w)| same(v, w)),
        (Value::Number(a), Value::Number(b)) => match (a.as_f64(), b.as_f64()) {
            // serde_json's default float parser may be an ulp off the correctly rounded value.
            (Some(x), Some(y)) => x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs()),
            _ => false,
        },
        (Value::String(a), Value::String(b)) => same_str(a, b),
        (a, b) => a == b,
    }
}

fn depth(v: &Value) -> usize {
    match v {
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Config parsing: policy-core's `parse_config` (then diagnosing a real report under that config) and
/// `facts_from_json`, plus the probe's discovery parsers: Codex `config.toml` (toml crate) and OpenClaw's JSON5
/// `openclaw.json` (the `json5` crate, depth-bounded). JSON5 is a superset of JSON, so every document serde_json
/// accepts must be accepted by the JSON5 reader with the same structure.
pub fn config(data: &[u8]) {
    match input::parse_config(data) {
        Ok(cfg) => {
            let d = diagnose(config_report(), Some(&cfg));
            let _ = render::text(&d, false);
            let _ = render::json(&d);
        }
        Err(e) => assert!(!e.message.contains(['\n', '\r']), "multi-line input error: {:?}", e.message),
    }
    let Ok(s) = std::str::from_utf8(data) else { return };

    match input::facts_from_json(s) {
        Ok(facts) => {
            if let Ok(r) = input::report_from_error_text("bwrap: No permissions to create a new namespace", &facts) {
                let _ = render::text(&diagnose(&r, None), false);
            }
        }
        Err(e) => assert!(!e.message.contains(['\n', '\r']), "multi-line input error: {:?}", e.message),
    }

    let _ = config::from_codex(s);

    let parsed5 = config::parse_json5(s);
    let _ = config::from_openclaw(s);
    // serde_json and the JSON5 reader both stop at 128 levels: compare well below both.
    if let Ok(v) = serde_json::from_str::<Value>(s)
        && depth(&v) < 100
    {
        match &parsed5 {
            Ok(w) => assert!(same(&v, w), "JSON5 reader disagrees with serde_json: {v} vs {w}"),
            Err(e) => panic!("JSON5 reader refused valid JSON: {e}"),
        }
    }
}
