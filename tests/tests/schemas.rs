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
            "{} is stale: run `cargo run -p probe-native -- schema {name} > schemas/{name}.schema.json`",
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
