//! Every fixture: valid against the schema, diagnosed into two snapshots holding the exact bytes `nsdoctor diagnose` prints (text without colour, and `--format json`), top cause and verdict as
//! the fixture author expected, byte-identical across runs and input key orders.

use std::collections::BTreeMap;

use nsdoctor_tests::{fixtures, load, repo_root};
use policy_core::{diagnose, render};

fn schema_validator(name: &str) -> jsonschema::Validator {
    let text = std::fs::read_to_string(repo_root().join(format!("schemas/{name}.schema.json"))).unwrap();
    let schema: serde_json::Value = serde_json::from_str(&text).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

#[test]
fn there_are_enough_fixtures() {
    let n = fixtures().len();
    assert!(n >= 30, "only {n} fixtures; the suite promises at least 30 real-host scenarios");
}

#[test]
fn every_fixture_validates_against_the_probe_report_schema() {
    let v = schema_validator("probe-report");
    for (name, path) in fixtures() {
        let value: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let errors: Vec<String> = v.iter_errors(&value).map(|e| format!("{} at {}", e, e.instance_path())).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
        let report = load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(report.producer.as_deref(), Some("fixture"), "{name}: producer must be `fixture`");
        assert!(
            report.source.as_deref().is_some_and(|s| s.len() > 20),
            "{name}: every fixture cites the real host it stands for"
        );
    }
}

#[test]
fn every_diagnosis_validates_against_the_diagnosis_schema() {
    let v = schema_validator("diagnosis");
    for (name, path) in fixtures() {
        let d = diagnose(&load(&path).unwrap(), None);
        let value: serde_json::Value = serde_json::from_str(&render::json(&d)).unwrap();
        let errors: Vec<String> = v.iter_errors(&value).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
}

#[test]
fn snapshots() {
    for (name, path) in fixtures() {
        let d = diagnose(&load(&path).unwrap(), None);
        insta::with_settings!({ snapshot_suffix => name.clone(), prepend_module_to_snapshot => false, omit_expression => true }, {
            insta::assert_snapshot!("text", render::text(&d, false));
            insta::assert_snapshot!("json", render::json(&d));
        });
    }
}

#[derive(serde::Deserialize)]
struct Expected {
    top_cause: Option<String>,
    verdict: String,
}

/// The fixture author's independent expectation (tests/fixtures/expected.json), written from the real host's
/// known cause, not from the engine.
#[test]
fn top_cause_and_verdict_match_the_real_hosts() {
    let text = std::fs::read_to_string(repo_root().join("tests/fixtures/expected.json")).unwrap();
    let expected: BTreeMap<String, Expected> = serde_json::from_str(&text).unwrap();
    let mut failures = Vec::new();
    let all = fixtures();
    for (name, path) in &all {
        let Some(exp) = expected.get(name) else {
            failures.push(format!("{name}: no entry in expected.json"));
            continue;
        };
        let d = diagnose(&load(path).unwrap(), None);
        let top = d.findings.first().map(|f| f.cause.as_str().to_string());
        if top != exp.top_cause || d.verdict.as_str() != exp.verdict {
            failures.push(format!(
                "{name}: expected {:?}/{}, got {:?}/{}",
                exp.top_cause,
                exp.verdict,
                top,
                d.verdict.as_str()
            ));
        }
    }
    for name in expected.keys() {
        if !all.iter().any(|(n, _)| n == name) {
            failures.push(format!("{name}: in expected.json but no fixture"));
        }
    }
    assert!(failures.is_empty(), "{} mismatches:\n{}", failures.len(), failures.join("\n"));
}

fn reverse_keys(v: serde_json::Value) -> serde_json::Value {
    match v {
        serde_json::Value::Object(m) => {
            // serde_json's default map is sorted; build the text by hand in reverse key order instead.
            serde_json::Value::Object(m.into_iter().map(|(k, v)| (k, reverse_keys(v))).collect())
        }
        serde_json::Value::Array(a) => serde_json::Value::Array(a.into_iter().map(reverse_keys).collect()),
        other => other,
    }
}

fn to_text_reversed(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::Object(m) => {
            let parts: Vec<String> = m
                .iter()
                .rev()
                .map(|(k, v)| format!("{}:{}", serde_json::to_string(k).unwrap(), to_text_reversed(v)))
                .collect();
            format!("{{{}}}", parts.join(","))
        }
        serde_json::Value::Array(a) => format!("[{}]", a.iter().map(to_text_reversed).collect::<Vec<_>>().join(",")),
        other => other.to_string(),
    }
}

#[test]
fn output_is_byte_identical_across_runs_and_key_orders() {
    for (name, path) in fixtures() {
        let raw = std::fs::read_to_string(&path).unwrap();
        let value = reverse_keys(serde_json::from_str(&raw).unwrap());
        let reversed = to_text_reversed(&value);
        assert_ne!(reversed, raw, "{name}: the reordered input must differ textually");
        let a = policy_core::diagnose_json(raw.as_bytes(), None);
        let b = policy_core::diagnose_json(raw.as_bytes(), None);
        let c = policy_core::diagnose_json(reversed.as_bytes(), None);
        assert_eq!(a, b, "{name}: two runs differ");
        assert_eq!(a, c, "{name}: key order changed the output");
        let v: serde_json::Value = serde_json::from_str(&a).unwrap();
        assert!(v.get("error").is_none() && v.get("verdict").is_some(), "{name}: {a}");
    }
}
