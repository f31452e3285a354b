//! The wasm shim behind the nsdoctor web console: `policy_core::api` exported with wasm-bindgen. Plumbing only:
//! each JavaScript value becomes an `api::Given`, and `api::web` decides what it accepts (a wrong type is a
//! `usage` error), so no call ever throws. The typings are `api.d.ts`, generated from the api
//! (`cargo run -p policy-core --example web-assets -- typescript`).

use js_sys::{Array, ArrayBuffer, Uint8Array};
use policy_core::api::{Export, Given, web};
use wasm_bindgen::{JsCast, prelude::*};

fn given(v: &JsValue) -> Given {
    if let Some(s) = v.as_string() {
        Given::Text(s)
    } else if v.is_undefined() {
        Given::Undefined
    } else if v.is_null() {
        Given::Null
    } else if v.is_instance_of::<Uint8Array>() || v.is_instance_of::<ArrayBuffer>() {
        Given::Bytes(Uint8Array::new(v).to_vec())
    } else if v.is_object() && !v.is_instance_of::<Array>() {
        Given::Object(js_sys::JSON::stringify(v).ok().and_then(|s| s.as_string()))
    } else {
        Given::Other(v.js_typeof().as_string().unwrap_or_default())
    }
}

#[wasm_bindgen(skip_typescript)]
pub fn diagnose(report: JsValue, config: JsValue) -> String {
    web(Export::Diagnose, given(&report), given(&config))
}

#[wasm_bindgen(js_name = fixScript, skip_typescript)]
pub fn fix_script(report: JsValue) -> String {
    web(Export::FixScript, given(&report), Given::Undefined)
}

#[wasm_bindgen(js_name = diagnoseErrorText, skip_typescript)]
pub fn diagnose_error_text(text: JsValue, facts: JsValue) -> String {
    web(Export::DiagnoseErrorText, given(&text), given(&facts))
}

#[wasm_bindgen(skip_typescript)]
pub fn explain(code: JsValue, docs: JsValue) -> String {
    web(Export::Explain, given(&code), given(&docs))
}

#[wasm_bindgen(skip_typescript)]
pub fn rules(docs: JsValue) -> String {
    web(Export::Rules, given(&docs), Given::Undefined)
}

#[wasm_bindgen(skip_typescript)]
pub fn render(diagnosis: JsValue, format: JsValue) -> String {
    web(Export::Render, given(&diagnosis), given(&format))
}

#[wasm_bindgen(skip_typescript)]
pub fn schema(name: JsValue, docs: JsValue) -> String {
    web(Export::Schema, given(&name), given(&docs))
}

#[wasm_bindgen(js_name = factKeys, skip_typescript)]
pub fn fact_keys() -> String {
    web(Export::FactKeys, Given::Undefined, Given::Undefined)
}

#[wasm_bindgen(skip_typescript)]
pub fn version() -> String {
    web(Export::Version, Given::Undefined, Given::Undefined)
}

#[wasm_bindgen(typescript_custom_section)]
const TS: &'static str = include_str!("../api.d.ts");
