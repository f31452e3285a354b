//! TypeScript declarations for the JSON documents (probe report, sandbox config, diagnosis, checks), generated
//! from their JSON Schemas, so the console's typings cannot drift from the types: every `$defs` entry becomes an
//! interface (an object with properties) or a type alias, with its description as the doc comment.

use std::collections::BTreeMap;
use std::fmt::Write;

use serde_json::Value;

/// The declarations of every schema in [`crate::api::SCHEMA_NAMES`]; a definition shared by several schemas
/// (the sandbox config inside a report and a diagnosis) is declared once.
pub fn declarations() -> String {
    let mut defs: BTreeMap<String, Value> = BTreeMap::new();
    for name in crate::api::SCHEMA_NAMES {
        let Some(v) = crate::schema::schema(name).and_then(|t| serde_json::from_str::<Value>(&t).ok()) else {
            continue;
        };
        if let Some(d) = v.get("$defs").and_then(Value::as_object) {
            for (k, s) in d {
                defs.entry(k.clone()).or_insert_with(|| s.clone());
            }
        }
        let title = v.get("title").and_then(Value::as_str).unwrap_or(name).to_string();
        let mut root = v;
        if let Some(o) = root.as_object_mut() {
            for k in ["$defs", "$schema", "title"] {
                o.remove(k);
            }
        }
        defs.insert(title, root);
    }
    let mut out = String::new();
    for (name, schema) in &defs {
        out.push('\n');
        doc(&mut out, schema, "");
        match object_body(schema, "") {
            Some(body) => {
                let _ = writeln!(out, "export interface {name} {body}");
            }
            None => {
                let _ = writeln!(out, "export type {name} = {};", ts(schema, ""));
            }
        }
    }
    out
}

fn doc(out: &mut String, schema: &Value, indent: &str) {
    let Some(d) = schema.get("description").and_then(Value::as_str) else { return };
    let d = d.replace("*/", "*\\/");
    let lines: Vec<&str> = d.lines().collect();
    if let [one] = lines.as_slice() {
        let _ = writeln!(out, "{indent}/** {one} */");
        return;
    }
    let _ = writeln!(out, "{indent}/**");
    for l in lines {
        let _ = writeln!(out, "{}", format!("{indent} * {l}").trim_end());
    }
    let _ = writeln!(out, "{indent} */");
}

/// `{ … }` for an object schema with properties, else `None`.
fn object_body(schema: &Value, indent: &str) -> Option<String> {
    let props = schema.get("properties")?.as_object()?;
    let required: Vec<&str> = schema
        .get("required")
        .and_then(Value::as_array)
        .map(|r| r.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let inner = format!("{indent}  ");
    let mut out = String::from("{\n");
    for (k, v) in props {
        doc(&mut out, v, &inner);
        let key = if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') { k.clone() } else { format!("{k:?}") };
        let opt = if required.contains(&k.as_str()) { "" } else { "?" };
        let _ = writeln!(out, "{inner}{key}{opt}: {};", ts(v, &inner));
    }
    let _ = write!(out, "{indent}}}");
    Some(out)
}

fn union(parts: Vec<String>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for p in parts {
        if !seen.contains(&p) {
            seen.push(p);
        }
    }
    if seen.is_empty() { "unknown".to_string() } else { seen.join(" | ") }
}

fn ts(schema: &Value, indent: &str) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or("unknown").to_string();
    }
    if let Some(c) = schema.get("const") {
        return c.to_string();
    }
    if let Some(e) = schema.get("enum").and_then(Value::as_array) {
        return union(e.iter().map(Value::to_string).collect());
    }
    for key in ["oneOf", "anyOf"] {
        if let Some(alts) = schema.get(key).and_then(Value::as_array) {
            return union(alts.iter().map(|a| ts(a, indent)).collect());
        }
    }
    if let Some([one]) = schema.get("allOf").and_then(Value::as_array).map(Vec::as_slice) {
        return ts(one, indent);
    }
    match schema.get("type") {
        Some(Value::String(t)) => of_type(t, schema, indent),
        Some(Value::Array(ts_)) => {
            union(ts_.iter().filter_map(Value::as_str).map(|t| of_type(t, schema, indent)).collect())
        }
        _ => "unknown".to_string(),
    }
}

fn of_type(t: &str, schema: &Value, indent: &str) -> String {
    match t {
        "string" => "string".to_string(),
        "integer" | "number" => "number".to_string(),
        "boolean" => "boolean".to_string(),
        "null" => "null".to_string(),
        "array" => {
            let item = schema.get("items").map_or_else(|| "unknown".to_string(), |i| ts(i, indent));
            if item.contains(' ') { format!("({item})[]") } else { format!("{item}[]") }
        }
        "object" => object_body(schema, indent).unwrap_or_else(|| match schema.get("additionalProperties") {
            Some(v @ Value::Object(_)) => format!("Record<string, {}>", ts(v, indent)),
            _ => "Record<string, unknown>".to_string(),
        }),
        _ => "unknown".to_string(),
    }
}
