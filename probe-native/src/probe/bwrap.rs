//! Which bwrap the sandbox would run, what it is, and what it does when run with the sandbox's argv.
//! Search order as Codex's (openai/codex `codex-rs/linux-sandbox/src/bundled_bwrap.rs`, README): first `bwrap`
//! on PATH outside the current directory, else the bundled `codex-resources/bwrap` under
//! `~/.codex/packages/…` or an npm install's `vendor/<triple>/`.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::time::Duration;

use policy_core::fact::Fact;
use policy_core::report::{BwrapBinary, Replay, ReplayExit};

use super::evidence::{fact_errno, unavailable};
use super::exec::{self, Ended};

const STDERR_CAP: usize = 64 * 1024;

/// Candidates in search order, each with how it was found.
pub fn discover(explicit: Option<&Path>, home: Option<&Path>) -> Vec<(PathBuf, &'static str)> {
    let mut out: Vec<(PathBuf, &'static str)> = Vec::new();
    if let Some(p) = explicit {
        out.push((p.to_path_buf(), "--bwrap"));
    }
    let cwd = std::env::current_dir().ok();
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            // Codex skips PATH entries that resolve to the working directory (a planted ./bwrap).
            if dir.as_os_str().is_empty() || dir == Path::new(".") || cwd.as_deref() == Some(dir.as_path()) {
                continue;
            }
            let cand = dir.join("bwrap");
            if is_executable(&cand) {
                push_unique(&mut out, cand, "PATH");
                break;
            }
        }
    }
    let mut bundled = Vec::new();
    if let Some(h) = home {
        find_named(&h.join(".codex/packages"), 7, &mut bundled);
    }
    let mut npm_roots: Vec<PathBuf> =
        vec![PathBuf::from("/usr/lib/node_modules/@openai"), PathBuf::from("/usr/local/lib/node_modules/@openai")];
    if let Some(h) = home {
        npm_roots.push(h.join(".npm-global/lib/node_modules/@openai"));
        npm_roots.push(h.join(".local/lib/node_modules/@openai"));
        npm_roots.push(h.join(".local/share/pnpm/global/5/node_modules/@openai"));
    }
    for root in npm_roots {
        find_named(&root, 7, &mut bundled);
    }
    // Newest first: after an upgrade the old release directory may linger.
    bundled.sort_by_key(|p| std::cmp::Reverse(std::fs::metadata(p).and_then(|m| m.modified()).ok()));
    for b in bundled {
        push_unique(&mut out, b, "codex bundled");
    }
    out
}

fn push_unique(out: &mut Vec<(PathBuf, &'static str)>, p: PathBuf, how: &'static str) {
    if !out.iter().any(|(q, _)| *q == p) {
        out.push((p, how));
    }
}

fn is_executable(p: &Path) -> bool {
    std::fs::metadata(p).map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0).unwrap_or(false)
}

/// `…/codex-resources/bwrap` files under `dir`, bounded depth, symlinked directories not followed.
fn find_named(dir: &Path, depth: u32, out: &mut Vec<PathBuf>) {
    if depth == 0 {
        return;
    }
    let Ok(rd) = std::fs::read_dir(dir) else { return };
    for e in rd.filter_map(Result::ok) {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            if p.file_name().is_some_and(|n| n == "codex-resources") {
                let b = p.join("bwrap");
                if is_executable(&b) {
                    out.push(b);
                }
            } else {
                find_named(&p, depth - 1, out);
            }
        }
    }
}

/// Stats one binary; `version` is left `NotProbed` (see [`version_argv`], [`version_fact`]). The flag says
/// whether the binary exists (then `--version` can be run).
pub fn describe(path: &Path) -> (BwrapBinary, bool) {
    let p = path.display().to_string();
    let md = std::fs::metadata(path);
    let (setuid, owner_uid) = match &md {
        Ok(m) => (Fact::Observed(m.mode() & libc::S_ISUID != 0), Fact::Observed(m.uid())),
        Err(e) => (unavailable(&p, e), unavailable(&p, e)),
    };
    let user_writable = match &md {
        Ok(_) => Fact::Observed(user_writable(path)),
        Err(e) => unavailable(&p, e),
    };
    let nosuid_mount = match nix::sys::statvfs::statvfs(path) {
        Ok(s) => Fact::Observed(s.flags().contains(nix::sys::statvfs::FsFlags::ST_NOSUID)),
        Err(e) => Fact::unavailable(&format!("statvfs {p} failed"), Some(fact_errno(e))),
    };
    let present = md.is_ok();
    (BwrapBinary { path: p, version: Fact::NotProbed, setuid, owner_uid, user_writable, nosuid_mount }, present)
}

/// `bwrap --version`, run with [`exec::spawn_capture`] and `Capture::Stdout`.
pub fn version_argv(path: &str) -> Vec<String> {
    vec![path.to_string(), "--version".to_string()]
}

/// The version fact: from the `--version` run, or absent when the binary was not there to run.
pub fn version_fact(out: Option<exec::Output>) -> Fact<String> {
    let Some(out) = out else { return Fact::unavailable("binary absent", None) };
    match out.exit {
        Ended::Exited(0) => {
            let text = String::from_utf8_lossy(&out.output);
            // `bubblewrap 0.8.0`
            match text.split_whitespace().nth(1) {
                Some(v) => Fact::Observed(v.to_string()),
                None => Fact::unavailable(&format!("unexpected --version output: {}", text.trim()), None),
            }
        }
        Ended::SpawnFailed(e) => Fact::unavailable("bwrap --version could not start", Some(fact_errno(e))),
        other => Fact::unavailable(&format!("bwrap --version: {}", other.describe()), None),
    }
}

/// The file or any ancestor directory is writable by someone other than root (then AppArmor attachment by
/// path protects nothing, and Ubuntu's guidance is not to grant `userns` to it).
fn user_writable(path: &Path) -> bool {
    let mut cur = Some(path);
    while let Some(p) = cur {
        if let Ok(m) = std::fs::metadata(p) {
            let mode = m.mode();
            let sticky_dir = m.is_dir() && mode & 0o1000 != 0;
            if (m.uid() != 0 && mode & 0o200 != 0)
                || (m.gid() != 0 && mode & 0o020 != 0)
                || (mode & 0o002 != 0 && !sticky_dir)
            {
                return true;
            }
        }
        cur = p.parent();
    }
    false
}

/// The sandbox's argv (Codex: openai/codex `codex-rs/linux-sandbox/src/bwrap.rs`, `--unshare-user` always since
/// PR #13624, `--unshare-net` when the policy has no network) and the minimal one.
pub fn replay_argvs(bwrap: &str, unshare_net: bool) -> Vec<(&'static str, Vec<String>)> {
    let mut sandbox = vec![bwrap, "--new-session", "--die-with-parent", "--unshare-user", "--unshare-pid"];
    if unshare_net {
        sandbox.push("--unshare-net");
    }
    sandbox.extend(["--ro-bind", "/", "/", "--dev", "/dev", "--proc", "/proc", "--", "/bin/true"]);
    let minimal = vec![bwrap, "--ro-bind", "/", "/", "/bin/true"];
    vec![
        ("sandbox", sandbox.into_iter().map(str::to_string).collect()),
        ("minimal", minimal.into_iter().map(str::to_string).collect()),
    ]
}

/// The replay's record from its run ([`exec::spawn_capture`] with `argv`, `Capture::Stderr` and the probe's setup).
pub fn replay_of(name: &str, argv: Vec<String>, out: exec::Output, timeout: Duration) -> Replay {
    let mut stderr = String::from_utf8_lossy(&out.output).into_owned();
    if stderr.len() > STDERR_CAP {
        let mut cut = STDERR_CAP;
        while !stderr.is_char_boundary(cut) {
            cut -= 1;
        }
        stderr.truncate(cut);
    }
    let exit = match out.exit {
        Ended::Exited(code) => ReplayExit::Exited { code },
        Ended::Signaled(s) => ReplayExit::Signaled { signal: s.as_str().to_string() },
        Ended::TimedOut => ReplayExit::TimedOut { seconds: u32::try_from(timeout.as_secs()).unwrap_or(u32::MAX) },
        Ended::SpawnFailed(e) => ReplayExit::SpawnFailed { errno: fact_errno(e) },
        Ended::SetupFailed(m) => {
            stderr = format!("nsdoctor: could not switch to the probed user: {m}");
            ReplayExit::SpawnFailed { errno: policy_core::fact::Errno::named("EPERM") }
        }
    };
    Replay { name: name.to_string(), argv, exit, stderr }
}
