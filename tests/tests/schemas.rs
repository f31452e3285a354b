//! The committed JSON Schemas are exactly what the types generate (regenerate: `nsdoctor schema NAME > schemas/NAME.schema.json`).

use nsdoctor_tests::repo_root;

#[test]
fn committed_schemas_match_the_types() {
    for name in policy_core::schema::NAMES {
        let fresh = policy_core::schema::schema(name).unwrap();
        let path = repo_root().join(format!("schemas/{name}.schema.json"));
        let committed = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            committed == fresh,
            "{} is stale: run `cargo run -p probe-native --bin nsdoctor -- schema {name} > schemas/{name}.schema.json`",
            path.display()
        );
        let v: serde_json::Value = serde_json::from_str(&fresh).unwrap();
        assert_eq!(v["$schema"], "https://json-schema.org/draft/2020-12/schema");
    }
}

#[test]
fn a_report_that_breaks_the_schema_is_rejected_by_it() {
    let text = std::fs::read_to_string(repo_root().join("schemas/probe-report.schema.json")).unwrap();
    let v = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    assert!(v.is_valid(&serde_json::json!({"schema_version": 1})));
    assert!(!v.is_valid(&serde_json::json!({"schema_version": 1, "steps": [{"id": "userns", "syscall": "x", "result": {"outcome": "maybe"}}]})));
    assert!(!v.is_valid(&serde_json::json!({"schema_version": 1, "surprise": true})));
}

/// `--format checks` on every fixture is an instance of `schemas/checks.schema.json`, and the schema refuses a
/// check with a status Codex's doctor does not know.
#[test]
fn every_fixture_checks_output_matches_the_checks_schema() {
    let text = std::fs::read_to_string(repo_root().join("schemas/checks.schema.json")).unwrap();
    let v = jsonschema::validator_for(&serde_json::from_str(&text).unwrap()).unwrap();
    let fixtures = nsdoctor_tests::fixtures();
    assert!(fixtures.len() > 50);
    for (name, path) in fixtures {
        let d = policy_core::diagnose(&nsdoctor_tests::load(&path).unwrap(), None);
        let out: serde_json::Value = serde_json::from_str(&policy_core::render::checks(&d)).unwrap();
        let errors: Vec<String> = v.iter_errors(&out).map(|e| e.to_string()).collect();
        assert!(errors.is_empty(), "{name}: {errors:?}");
    }
    let bad = serde_json::json!([{"id": "nsdoctor.NSD101", "category": "sandbox", "status": "blocked", "summary": "x",
        "details": [], "remediation": null}]);
    assert!(!v.is_valid(&bad));
}
