//! The web engine's generated files: `policy-wasm/api.d.ts` is exactly what `policy_core::api` generates
//! (regenerate: `cargo run -p policy-core --example web-assets -- typescript > policy-wasm/api.d.ts`), and the
//! docs asset the console fetches answers explain, rules and schema exactly as the built-in docs do.

use nsdoctor_tests::repo_root;
use policy_core::api::{self, Call, DocFormat};

#[test]
fn committed_typescript_matches_the_api() {
    let path = repo_root().join("policy-wasm/api.d.ts");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        committed == api::typescript(),
        "{} is stale: run `cargo run -p policy-core --example web-assets -- typescript > policy-wasm/api.d.ts`",
        path.display()
    );
    for kind in api::ErrorKind::ALL {
        assert!(committed.contains(&format!("\"{}\"", kind.as_str())), "{kind:?} missing from the typings");
    }
}

#[test]
fn the_docs_asset_answers_like_the_built_in_docs() {
    let asset = api::docs_asset();
    let docs = Some(asset.as_str());
    for format in [DocFormat::Text, DocFormat::Json] {
        let built_in = api::call_json(Call::Rules { format, docs: None });
        assert_eq!(api::call_json(Call::Rules { format, docs }), built_in);
        for r in policy_core::rules::RULES {
            let a = api::call_json(Call::Explain { rule: r.code, format, docs });
            assert_eq!(a, api::call_json(Call::Explain { rule: r.name, format, docs: None }), "{}", r.code);
        }
    }
    for name in api::SCHEMA_NAMES {
        let s = api::call_json(Call::Schema { name, docs });
        assert_eq!(s, api::call_json(Call::Schema { name, docs: None }));
    }
    // Another version's asset, or something else entirely, is refused by name.
    let old = asset.replacen(&format!("\"version\":\"{}\"", policy_core::VERSION), "\"version\":\"0.0.0\"", 1);
    let e = api::call(Call::Explain { rule: "NSD101", format: DocFormat::Json, docs: Some(&old) }).unwrap_err();
    assert_eq!(e.kind, api::ErrorKind::Usage);
    assert!(e.message.contains("made for version 0.0.0"), "{}", e.message);
    let e = api::call(Call::Schema { name: "diagnosis", docs: Some("[]") }).unwrap_err();
    assert!(e.message.starts_with("docs asset: not valid"), "{}", e.message);
}

/// The typings declare a definition shared by several schemas once, which is right only while every schema
/// defines it the same way.
#[test]
fn definitions_shared_by_several_schemas_are_identical() {
    let mut seen: std::collections::BTreeMap<String, (String, serde_json::Value)> = Default::default();
    for name in api::SCHEMA_NAMES {
        let v: serde_json::Value = serde_json::from_str(&policy_core::schema::schema(name).unwrap()).unwrap();
        for (k, def) in v["$defs"].as_object().cloned().unwrap_or_default() {
            if let Some((first, earlier)) = seen.get(&k) {
                assert_eq!(earlier, &def, "`{k}` differs between the {first} and {name} schemas");
            } else {
                seen.insert(k, (name.to_string(), def));
            }
        }
    }
    assert!(seen.contains_key("SandboxConfig"));
    let ts = api::typescript();
    for k in seen.keys() {
        assert!(ts.contains(&format!(" {k} ")), "`{k}` is not declared");
    }
}
