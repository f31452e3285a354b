//! JSON Schemas (2020-12) generated from the types; `schemas/*.json` are these, committed and checked by a test.

use crate::config::SandboxConfig;
use crate::diagnosis::Diagnosis;
use crate::render::DoctorCheck;
use crate::report::ProbeReport;

/// Schema names accepted by `nsdoctor schema NAME`.
pub const NAMES: &[&str] = crate::api::SCHEMA_NAMES;

/// The schema for `name`, pretty-printed with a trailing newline.
pub fn schema(name: &str) -> Option<String> {
    let s = match name {
        "probe-report" => schemars::schema_for!(ProbeReport),
        "sandbox-config" => schemars::schema_for!(SandboxConfig),
        "diagnosis" => schemars::schema_for!(Diagnosis),
        "checks" => {
            let mut s = schemars::schema_for!(Vec<DoctorCheck>);
            s.insert("title".into(), "Checks".into());
            s.insert(
                "description".into(),
                "`nsdoctor check --format checks`: one doctor check per finding, in ranked order, or one \
                 `nsdoctor.namespaces` check when there is no finding."
                    .into(),
            );
            s
        }
        _ => return None,
    };
    serde_json::to_string_pretty(&s).ok().map(|t| t + "\n")
}
