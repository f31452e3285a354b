//! `nsdoctor diagnose` enforces the input limits while reading, before any parsing: a report, config or error
//! text larger than 8 MiB is refused after reading at most the limit (an endless stdin stream is cut off), a
//! report nested deeper than 32 levels is refused by the byte scan even when what follows is not JSON, and every
//! refusal is one line on stderr with exit 2. The core functions the wasm uses are covered by
//! `tests/tests/limits.rs`.

use std::io::Write;
use std::process::Output;
use std::time::Duration;

use policy_core::input::{MAX_DEPTH, MAX_ERROR_TEXT_BYTES, MAX_REPORT_BYTES};

mod common;

fn run(
    args: &[&str],
    feed: impl FnOnce(&mut std::process::ChildStdin) -> usize + Send + 'static,
) -> (Output, usize, Duration) {
    common::run_fed(args, feed)
}

fn with_stdin(args: &[&str], data: Vec<u8>) -> (Output, Duration) {
    let (out, _, took) = run(args, move |sin| {
        let _ = sin.write_all(&data);
        data.len()
    });
    (out, took)
}

/// Writes 1 MiB chunks of `chunk_byte` until the reader goes away (or 1 GiB, a safety stop).
fn endless(chunk_byte: u8) -> impl FnOnce(&mut std::process::ChildStdin) -> usize + Send + 'static {
    move |sin| {
        let chunk = vec![chunk_byte; 1 << 20];
        let mut n = 0;
        while n < 1 << 30 && sin.write_all(&chunk).is_ok() {
            n += chunk.len();
        }
        n
    }
}

fn refused(out: &Output, took: Duration, want: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "exit {:?}, stderr {err}", out.status.code());
    assert_eq!(err.trim_end().lines().count(), 1, "stderr must be one line: {err:?}");
    assert!(err.starts_with("nsdoctor: ") && err.contains(want), "want {want:?} in {err:?}");
    assert!(out.stdout.is_empty());
    assert!(took < Duration::from_secs(2), "took {took:?}");
}

fn report_of_len(len: usize) -> Vec<u8> {
    let head = br#"{"schema_version":1,"source":""#;
    let mut v = head.to_vec();
    v.resize(len - 2, b'a');
    v.extend_from_slice(br#""}"#);
    v
}

#[test]
fn an_endless_report_stream_is_cut_off_at_the_limit() {
    let (out, written, took) = run(&["diagnose", "-"], endless(b'{'));
    refused(&out, took, &format!("`-` is too large (more than {MAX_REPORT_BYTES} bytes)"));
    // It read the limit plus one byte and stopped: what was written beyond is at most the pipe buffer and the
    // chunk in flight.
    assert!(written <= MAX_REPORT_BYTES + 4 * (1 << 20), "nsdoctor consumed {written} bytes");
}

#[test]
fn an_endless_error_text_stream_is_cut_off_at_the_limit() {
    let (out, written, took) = run(&["diagnose", "--error-text", "-"], endless(b'x'));
    refused(&out, took, &format!("`-` is too large (more than {MAX_ERROR_TEXT_BYTES} bytes)"));
    assert!(written <= MAX_ERROR_TEXT_BYTES + 4 * (1 << 20), "nsdoctor consumed {written} bytes");
}

#[test]
fn a_huge_file_is_refused_without_reading_it() {
    let dir = std::env::temp_dir().join(format!("nsd-limits-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // A sparse 64 GiB file: reading it would take minutes; the limit stops after 8 MiB.
    let huge = dir.join("huge.json");
    std::fs::File::create(&huge).unwrap().set_len(64 << 30).unwrap();
    let p = huge.to_str().unwrap();
    for args in [vec!["diagnose", p], vec!["diagnose", "--error-text", p], vec!["diagnose", "--config", p, "-"]] {
        let (out, took) = with_stdin(&args, br#"{"schema_version":1}"#.to_vec());
        refused(&out, took, "is too large (more than 8388608 bytes)");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_size_limit_is_exact() {
    let (out, took) = with_stdin(&["diagnose", "-"], report_of_len(MAX_REPORT_BYTES));
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(took < Duration::from_secs(2), "{took:?}");
    // One byte more, and not JSON at all: the size is what is reported.
    let (out, took) = with_stdin(&["diagnose", "-"], vec![b'@'; MAX_REPORT_BYTES + 1]);
    refused(&out, took, "too large");
}

#[test]
fn nesting_depth_is_refused_before_parsing() {
    let deep = |levels: usize, tail: &str| {
        format!(r#"{{"schema_version":1,"source":{}{tail}"#, "[".repeat(levels - 1)).into_bytes()
    };
    // 33 levels, then garbage: the depth scan answers, the parser never saw it.
    let (out, took) = with_stdin(&["diagnose", "-"], deep(MAX_DEPTH + 1, "@@ not json"));
    refused(&out, took, "report is nested deeper than 32 levels");
    // 32 levels reach the schema check instead.
    let (out, took) =
        with_stdin(&["diagnose", "-"], [deep(MAX_DEPTH, &"]".repeat(MAX_DEPTH - 1)), b"}".to_vec()].concat());
    refused(&out, took, "does not match the probe-report schema");
    // As many levels as fit under the size limit.
    let (out, took) = with_stdin(&["diagnose", "-"], deep(MAX_REPORT_BYTES - 40, ""));
    refused(&out, took, "report is nested deeper than 32 levels");
}

#[test]
fn config_and_error_text_limits() {
    let dir = std::env::temp_dir().join(format!("nsd-limits-cfg-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cfg = dir.join("deep-config.json");
    std::fs::write(&cfg, format!(r#"{{"tool":{}"#, "[".repeat(MAX_DEPTH))).unwrap();
    let (out, took) =
        with_stdin(&["diagnose", "--config", cfg.to_str().unwrap(), "-"], br#"{"schema_version":1}"#.to_vec());
    refused(&out, took, "config is nested deeper than 32 levels");

    let mut text = b"bwrap: setting up uid map: Permission denied\n".repeat(MAX_ERROR_TEXT_BYTES / 45 + 1);
    text.truncate(MAX_ERROR_TEXT_BYTES);
    let (out, took) = with_stdin(&["diagnose", "--error-text", "-", "--format", "json"], text.clone());
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(took < Duration::from_secs(2), "an 8 MiB error text took {took:?}");
    text.push(b'x');
    let (out, took) = with_stdin(&["diagnose", "--error-text", "-"], text);
    refused(&out, took, "too large");
    let _ = std::fs::remove_dir_all(&dir);
}
