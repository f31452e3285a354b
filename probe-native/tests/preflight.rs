//! The preflight contract end to end: the Rust example (`cargo run --example preflight`, on the `nsdoctor`
//! library) and the Node example (`node probe-native/examples/preflight.mjs`, on the CLI's `--format checks`
//! and `nsdoctor fingerprint`) start on this healthy host, refuse to start naming the cause under an injected
//! restriction (`user.max_user_namespaces = 0` in a child user namespace, through `nsd-faultwrap`), and the
//! fingerprint is stable across healthy runs and changes under the restriction.
//!
//! The injected cases need root (the wrapper writes id maps): they are `#[ignore = "needs root"]`, and
//! `./run-tests` runs them with `--ignored` as root. The examples must be built (`cargo test` builds them; the
//! root-only run passes `--example preflight`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const NSDOCTOR: &str = env!("CARGO_BIN_EXE_nsdoctor");
const FAULTWRAP: &str = env!("CARGO_BIN_EXE_nsd-faultwrap");
const LIMIT_ZERO: &[&str] = &["--userns-limit", "user=0", "--"];

/// The built Rust example, next to the binaries.
fn rust_example() -> PathBuf {
    let p = Path::new(NSDOCTOR).parent().unwrap_or(Path::new(".")).join("examples/preflight");
    assert!(p.exists(), "{} is not built: run `cargo build -p probe-native --example preflight`", p.display());
    p
}

fn node_example() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/preflight.mjs")
}

fn run(wrap: &[&str], argv: &[&str]) -> Output {
    let mut cmd = if wrap.is_empty() {
        Command::new(argv[0])
    } else {
        let mut c = Command::new(FAULTWRAP);
        c.args(wrap).arg(argv[0]);
        c
    };
    cmd.args(&argv[1..]).env("NSDOCTOR", NSDOCTOR);
    cmd.output().unwrap_or_else(|e| panic!("{argv:?}: {e}"))
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn fingerprint_json(wrap: &[&str]) -> serde_json::Value {
    let o = run(wrap, &[NSDOCTOR, "fingerprint", "--format", "json"]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("{e}: {}", text(&o)))
}

fn require_root() {
    assert!(nix::unistd::geteuid().is_root(), "needs root (id-mapped user namespaces): run with --ignored as root");
}

fn node() -> &'static str {
    let ok = Command::new("node").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(ok, "node is needed for the Node preflight example (a prerequisite of ./run-tests)");
    "node"
}

#[test]
fn the_fingerprint_is_equal_across_healthy_runs_and_text_matches_json() {
    let a = fingerprint_json(&[]);
    let b = fingerprint_json(&[]);
    assert_eq!(a, b);
    let o = run(&[], &[NSDOCTOR, "fingerprint"]);
    assert_eq!(String::from_utf8_lossy(&o.stdout).trim(), a["fingerprint"].as_str().unwrap_or("?"));
    // A different bwrap is a different answer, so a different fingerprint.
    let other = run(&[], &[NSDOCTOR, "fingerprint", "--bwrap", "/bin/true"]);
    assert_ne!(String::from_utf8_lossy(&other.stdout).trim(), a["fingerprint"].as_str().unwrap_or("?"));
}

#[test]
fn the_examples_start_on_a_healthy_host_and_the_cache_skips_the_probe() {
    let cache = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("preflight-cache-{}", std::process::id()));
    let cache = cache.to_string_lossy().into_owned();
    for argv in [
        vec![rust_example().to_string_lossy().into_owned()],
        vec![node().to_string(), node_example().to_string_lossy().into_owned()],
    ] {
        let _ = std::fs::remove_file(&cache);
        let mut args: Vec<&str> = argv.iter().map(String::as_str).collect();
        let o = run(&[], &args);
        assert_eq!(o.status.code(), Some(0), "{argv:?}: {}", text(&o));
        assert!(text(&o).contains("starting"), "{}", text(&o));

        args.extend(["--cache", &cache]);
        let first = run(&[], &args);
        assert_eq!(first.status.code(), Some(0), "{}", text(&first));
        assert!(!text(&first).contains("cached"), "{}", text(&first));
        let second = run(&[], &args);
        assert_eq!(second.status.code(), Some(0), "{}", text(&second));
        assert!(text(&second).contains("cached for nsdfp1-"), "{}", text(&second));
    }
    let _ = std::fs::remove_file(&cache);
}

#[test]
#[ignore = "needs root"]
fn the_fingerprint_changes_under_an_injected_limit() {
    require_root();
    let healthy = fingerprint_json(&[]);
    let limited = fingerprint_json(LIMIT_ZERO);
    assert_ne!(healthy["fingerprint"], limited["fingerprint"]);
    assert_eq!(limited["inputs"]["sysctl/user/max_user_namespaces"], "0");
    assert_ne!(healthy["inputs"]["sysctl/user/max_user_namespaces"], "0");
}

#[test]
#[ignore = "needs root"]
fn the_examples_refuse_to_start_under_an_injected_limit_and_name_the_cause() {
    require_root();
    let rust = rust_example().to_string_lossy().into_owned();
    let node_script = node_example().to_string_lossy().into_owned();
    for argv in [vec![rust.as_str()], vec![node(), node_script.as_str()]] {
        let o = run(LIMIT_ZERO, &argv);
        let out = text(&o);
        assert_eq!(o.status.code(), Some(1), "{argv:?}: {out}");
        assert!(out.contains("cannot start on this host"), "{out}");
        assert!(out.contains("user.max_*_namespaces limit is zero"), "the cause is named: {out}");
        assert!(out.contains("nsdoctor explain NSD121"), "{out}");
        assert!(out.contains("not retrying"), "{out}");
    }
}
