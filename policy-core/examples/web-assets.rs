//! The web engine's build-time files, generated from policy-core (the wasm build has no docs or schemas):
//! `docs` prints the docs asset the console fetches when a rule's doc or a schema is opened;
//! `typescript` prints `policy-wasm/api.d.ts`. Run by `policy-wasm/build`; a test keeps `api.d.ts` current.

use std::io::Write;

fn main() -> std::process::ExitCode {
    let text = match std::env::args().nth(1).as_deref() {
        Some("docs") => policy_core::api::docs_asset(),
        Some("typescript") => policy_core::api::typescript(),
        _ => {
            let _ = writeln!(std::io::stderr(), "usage: web-assets docs|typescript");
            return std::process::ExitCode::from(2);
        }
    };
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            let _ = writeln!(std::io::stderr(), "web-assets: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
