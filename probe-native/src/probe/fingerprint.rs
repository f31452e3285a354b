//! A cheap fingerprint of what decides whether a sandbox can create its namespaces here, so a harness can keep
//! a verdict and compare fingerprints instead of probing again: it reads a few dozen small files and stats a few
//! binaries (well under a millisecond), and creates no namespace and no process.
//!
//! What goes in, each as `key = value` (a value is the content, a stat line, or `absent`/`unreadable`):
//! - nsdoctor's version (new rules can change a verdict);
//! - the kernel: release, build, command line (`lsm=`, `apparmor=`, `user_namespace.enable=`) and the boot id,
//!   so every boot is a new fingerprint (profiles loaded at boot, modules, runtime toggles);
//! - every `user.max_*_namespaces` limit and the namespace sysctls of Debian, Ubuntu and linux-hardened;
//! - AppArmor: enabled, the policy revision counter and, when readable (root), the loaded profiles and modes;
//!   SELinux's enforce flag;
//! - this process's context: user and ids, the user namespace it is in, seccomp, no_new_privs, capabilities and
//!   its AppArmor label (a systemd unit's hardening, a container's defaults and an outer sandbox show up here);
//! - the bwrap candidates, newuidmap/newgidmap and /etc/subuid, /etc/subgid: device, inode, size, mode, owner
//!   and modification time (a replaced or upgraded binary, a setuid bit);
//! - the sandbox config files nsdoctor reads (OpenClaw, Codex) and the unit's files, by the same stat;
//! - the options asked for (`--as-user`, `--unit`, `--network`, …).
//!
//! The value is `nsdfp1-` and 16 hex digits of FNV-1a 64 over the sorted lines: a change detector, not a
//! security boundary.

use std::collections::BTreeMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The fingerprint and every input that went into it (for `--format json` and for seeing what changed).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[non_exhaustive]
pub struct Fingerprint {
    /// `nsdfp1-` followed by 16 lowercase hex digits.
    pub value: String,
    /// Every input, by key, sorted.
    pub inputs: BTreeMap<String, String>,
}

/// Namespace sysctls outside `/proc/sys/user` (present on some kernels only; `absent` elsewhere).
const SYSCTLS: &[&str] = &[
    "kernel/unprivileged_userns_clone",
    "kernel/unprivileged_userns_apparmor_policy",
    "kernel/apparmor_restrict_unprivileged_userns",
    "kernel/apparmor_restrict_unprivileged_userns_force",
    "kernel/apparmor_restrict_unprivileged_userns_complain",
    "kernel/apparmor_restrict_unprivileged_unconfined",
    "kernel/userns_restrict",
];

const STATUS_KEYS: &[&str] = &["Uid", "Gid", "Seccomp", "NoNewPrivs", "CapEff", "CapBnd"];

/// A file's content for the fingerprint (read as the probe reads /proc and /sys, capped), or why not.
fn read(path: &Path) -> String {
    match super::facts::read(&path.to_string_lossy()) {
        Ok(s) => s.trim_end().to_string(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "absent".to_string(),
        Err(e) => format!("unreadable: {}", e.kind()),
    }
}

fn stat(path: &Path) -> String {
    match std::fs::metadata(path) {
        Ok(m) => format!(
            "dev {} ino {} size {} mode {:o} uid {} mtime {}.{:09}",
            m.dev(),
            m.ino(),
            m.size(),
            m.mode(),
            m.uid(),
            m.mtime(),
            m.mtime_nsec()
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => "absent".to_string(),
        Err(e) => format!("unreadable: {}", e.kind()),
    }
}

/// FNV-1a, 64 bits (stable across Rust versions, unlike `DefaultHasher`).
fn fnv1a64(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

/// Computes the fingerprint. `bwrap` are the binaries the sandbox may run (nsdoctor's search order), `configs`
/// the files that decide what it needs (config files, unit files), both stat-ed, not read; `options` the
/// probe's options as one line.
pub fn compute(bwrap: &[PathBuf], configs: &[PathBuf], options: &str) -> Fingerprint {
    let mut inputs = BTreeMap::new();
    let mut put = |k: String, v: String| {
        inputs.insert(k, v);
    };
    put("nsdoctor".into(), env!("CARGO_PKG_VERSION").into());
    put("options".into(), options.into());
    for k in ["osrelease", "version", "random/boot_id"] {
        put(format!("kernel/{k}"), read(&Path::new("/proc/sys/kernel").join(k)));
    }
    put("cmdline".into(), read(Path::new("/proc/cmdline")));
    let mut limits: Vec<PathBuf> = std::fs::read_dir("/proc/sys/user")
        .map(|d| d.filter_map(Result::ok).map(|e| e.path()).collect())
        .unwrap_or_default();
    limits.sort();
    for p in limits.iter().filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().ends_with("_namespaces"))) {
        put(format!("sysctl/{}", p.strip_prefix("/proc/sys").unwrap_or(p).display()), read(p));
    }
    for s in SYSCTLS {
        put(format!("sysctl/{s}"), read(&Path::new("/proc/sys").join(s)));
    }
    put("apparmor/enabled".into(), read(Path::new("/sys/module/apparmor/parameters/enabled")));
    put("apparmor/revision".into(), read(Path::new("/sys/kernel/security/apparmor/revision")));
    let profiles = read(Path::new("/sys/kernel/security/apparmor/profiles"));
    let unread = profiles.starts_with("absent") || profiles.starts_with("unreadable");
    put(
        "apparmor/profiles".into(),
        if unread {
            profiles
        } else {
            format!("{} lines, fnv1a64 {:016x}", profiles.lines().count(), fnv1a64(profiles.as_bytes()))
        },
    );
    put("selinux/enforce".into(), read(Path::new("/sys/fs/selinux/enforce")));
    let status = read(Path::new("/proc/self/status"));
    for key in STATUS_KEYS {
        let line = status.lines().find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')));
        put(
            format!("self/{key}"),
            line.map_or_else(|| "absent".to_string(), |v| v.split_whitespace().collect::<Vec<_>>().join(" ")),
        );
    }
    put(
        "self/ns/user".into(),
        std::fs::read_link("/proc/self/ns/user")
            .map_or_else(|e| format!("unreadable: {}", e.kind()), |p| p.display().to_string()),
    );
    let label = read(Path::new("/proc/self/attr/apparmor/current"));
    let label = if label == "absent" { read(Path::new("/proc/self/attr/current")) } else { label };
    put("self/label".into(), label);
    for (i, b) in bwrap.iter().enumerate() {
        put(format!("bwrap/{i}"), format!("{} {}", b.display(), stat(b)));
    }
    for p in ["/usr/bin/newuidmap", "/usr/bin/newgidmap", "/etc/subuid", "/etc/subgid"] {
        put(format!("file{p}"), stat(Path::new(p)));
    }
    for (i, c) in configs.iter().enumerate() {
        put(format!("config/{i}"), format!("{} {}", c.display(), stat(c)));
    }
    let mut all = String::new();
    for (k, v) in &inputs {
        all.push_str(k);
        all.push('=');
        all.push_str(v);
        all.push('\n');
    }
    Fingerprint { value: format!("nsdfp1-{:016x}", fnv1a64(all.as_bytes())), inputs }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a64_known_values() {
        // Test vectors of the FNV reference (draft-eastlake-fnv).
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a64(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn stable_here_and_sensitive_to_a_binary() {
        let a = compute(&[PathBuf::from("/bin/true")], &[], "");
        let b = compute(&[PathBuf::from("/bin/true")], &[], "");
        assert_eq!(a, b);
        assert!(a.value.starts_with("nsdfp1-") && a.value.len() == 23, "{}", a.value);
        assert!(a.inputs.contains_key("sysctl/user/max_user_namespaces"), "{:?}", a.inputs.keys());
        let c = compute(&[PathBuf::from("/bin/false")], &[], "");
        assert_ne!(a.value, c.value);
    }
}
