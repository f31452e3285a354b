//! Helpers shared by the integration tests: fixture discovery and paths.

use std::path::{Path, PathBuf};

/// The repository root.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().map(Path::to_path_buf).unwrap_or_default()
}

/// `tests/fixtures/*.json` except `expected.json`, sorted by name.
pub fn fixtures() -> Vec<(String, PathBuf)> {
    let dir = repo_root().join("tests/fixtures");
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(Result::ok)
                .map(|e| e.path())
                .filter(|p| {
                    p.extension().is_some_and(|x| x == "json") && p.file_stem().is_some_and(|s| s != "expected")
                })
                .filter_map(|p| Some((p.file_stem()?.to_str()?.to_string(), p)))
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

/// Reads and parses a fixture through the same validated path the CLI uses.
pub fn load(path: &Path) -> Result<policy_core::ProbeReport, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    policy_core::input::parse_report(&bytes).map_err(|e| format!("{}: {e}", path.display()))
}
