//! Running the real `nsdoctor` binary from the integration tests (shared by every test file here).

#![allow(dead_code, reason = "each test file uses a different subset")]

use std::io::Write;
use std::process::{ChildStdin, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Runs nsdoctor with `stdin` fed by `feed` (which gets the pipe and returns how many bytes it wrote), with
/// colour off; returns the output, the bytes written and the wall time.
pub fn run_fed(
    args: &[&str],
    feed: impl FnOnce(&mut ChildStdin) -> usize + Send + 'static,
) -> (Output, usize, Duration) {
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_nsdoctor"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut sin = child.stdin.take().unwrap();
    // Written from a thread: a refusing nsdoctor may exit before reading everything.
    let writer = std::thread::spawn(move || feed(&mut sin));
    let out = child.wait_with_output().unwrap();
    let written = writer.join().unwrap();
    (out, written, start.elapsed())
}

/// Runs nsdoctor with `stdin` as its standard input; returns the output and the wall time.
pub fn run(args: &[&str], stdin: &[u8]) -> (Output, Duration) {
    let data = stdin.to_vec();
    let (out, _, took) = run_fed(args, move |sin| {
        let _ = sin.write_all(&data);
        data.len()
    });
    (out, took)
}
