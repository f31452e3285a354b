//! Fault-injection tests on this machine's real kernel: the built `nsdoctor probe` runs under
//! `nsd-faultwrap` (seccomp filters, a user namespace with a zero limit, a chroot) or a test-only fault switch,
//! and each test asserts the ladder's step outcomes and the diagnosed top cause.
//!
//! Root-only: creating id-mapped namespaces, chroots and probing `--as-user` need root; the tests print why
//! they skip otherwise (CI runs as root). The libtest harness is multi-threaded, so every namespace operation
//! happens in the spawned binaries, never in the test process.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use policy_core::config::NetworkMode;
use policy_core::fact::Fact;
use policy_core::report::{ProbeReport, StepId, StepResult};
use policy_core::{Cause, Verdict};

const NSDOCTOR: &str = env!("CARGO_BIN_EXE_nsdoctor");
const FAULTWRAP: &str = env!("CARGO_BIN_EXE_nsd-faultwrap");
const LIBPROBE: &str = env!("CARGO_BIN_EXE_nsd-libprobe");

fn is_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// The root-only tests are `#[ignore = "needs root"]`: `./run-tests` runs them with `--ignored` as root and fails
/// when it is not root. Run by hand without root, they fail here rather than pass without testing anything.
macro_rules! require_root {
    () => {
        assert!(is_root(), "needs root (namespaces with id maps, chroot, --as-user): run with --ignored as root");
    };
}

/// A scratch directory under Cargo's per-target temp dir (readable by nobody, unlike a 0700 /tmp subdir).
fn scratch(name: &str) -> PathBuf {
    let d = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
    d
}

/// A scratch directory that uid 65534 can traverse: the Cargo target dir when every ancestor is
/// world-searchable, else one under the system temp dir (a CI checkout may live under a 0700 /root).
fn nobody_dir(name: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt;
    let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let open =
        base.ancestors().all(|a| std::fs::metadata(a).map(|m| m.permissions().mode() & 0o001 != 0).unwrap_or(false));
    if open {
        return scratch(name);
    }
    let d = std::env::temp_dir().join(format!("nsdoctor-test-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("create {}: {e}", d.display()));
    let _ = std::fs::set_permissions(&d, std::fs::Permissions::from_mode(0o755));
    d
}

/// The nsdoctor binary at a path uid 65534 can execute.
fn nobody_nsdoctor(name: &str) -> (PathBuf, PathBuf) {
    let dir = nobody_dir(name);
    let bin = dir.join("nsdoctor");
    std::fs::copy(NSDOCTOR, &bin).unwrap_or_else(|e| panic!("copy nsdoctor: {e}"));
    (dir, bin)
}

/// A command with a clean, deterministic environment: no service/container markers, no fault switch, an empty
/// HOME so no real Codex/OpenClaw config is picked up.
fn clean(cmd: &mut Command, home: &Path) {
    for k in [
        "INVOCATION_ID",
        "KUBERNETES_SERVICE_HOST",
        "container",
        "NSDOCTOR_TEST_FAULT",
        "OPENCLAW_CONFIG_PATH",
        "OPENCLAW_STATE_DIR",
        "CODEX_HOME",
    ] {
        cmd.env_remove(k);
    }
    cmd.env("HOME", home);
}

struct Run {
    wrap: Vec<String>,
    probe: Vec<String>,
    env: Vec<(String, String)>,
    home: PathBuf,
}

impl Run {
    fn new(name: &str) -> Run {
        Run {
            wrap: Vec::new(),
            probe: vec!["--no-bwrap".to_string()],
            env: Vec::new(),
            home: scratch(&format!("home-{name}")),
        }
    }
    fn wrap(mut self, args: &[&str]) -> Run {
        self.wrap.extend(args.iter().map(|s| s.to_string()));
        self
    }
    fn probe(mut self, args: &[&str]) -> Run {
        self.probe.extend(args.iter().map(|s| s.to_string()));
        self
    }
    fn env(mut self, k: &str, v: &str) -> Run {
        self.env.push((k.to_string(), v.to_string()));
        self
    }
    fn output(&self, bin: &str) -> Output {
        let mut cmd = Command::new(FAULTWRAP);
        clean(&mut cmd, &self.home);
        cmd.args(&self.wrap).arg("--").arg(bin).arg("probe").args(&self.probe);
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        cmd.output().unwrap_or_else(|e| panic!("spawn nsd-faultwrap: {e}"))
    }
    fn report_of(&self, bin: &str) -> ProbeReport {
        let out = self.output(bin);
        assert!(
            out.status.success(),
            "probe failed: {:?}\nstderr: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("report JSON: {e}\n{}", String::from_utf8_lossy(&out.stdout)))
    }
    fn report(&self) -> ProbeReport {
        self.report_of(NSDOCTOR)
    }
    /// The report of the library's `nsdoctor::probe` under the same wrapper and options: the fast path, or
    /// with `full` the full ladder (`nsdoctor probe` always runs the full ladder).
    fn lib_report(&self, full: bool) -> ProbeReport {
        let mut cmd = Command::new(FAULTWRAP);
        clean(&mut cmd, &self.home);
        cmd.args(&self.wrap).arg("--").arg(LIBPROBE).args(&self.probe);
        if full {
            cmd.arg("--full");
        }
        for (k, v) in &self.env {
            cmd.env(k, v);
        }
        let out = cmd.output().unwrap_or_else(|e| panic!("spawn nsd-faultwrap: {e}"));
        assert!(
            out.status.success(),
            "nsd-libprobe failed: {:?}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let json: serde_json::Value =
            serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("report JSON: {e}"));
        let errors: Vec<String> =
            report_schema().iter_errors(&json).map(|e| format!("{e} at {}", e.instance_path())).collect();
        assert!(errors.is_empty(), "the report breaks schemas/probe-report.schema.json: {errors:?}");
        let report = policy_core::input::parse_report(&out.stdout)
            .unwrap_or_else(|e| panic!("report: {e}\n{}", String::from_utf8_lossy(&out.stdout)));
        assert_eq!(
            report.steps.iter().map(|s| s.id).collect::<Vec<_>>(),
            nsdoctor::LADDER_STEPS,
            "every step once, in the ladder's order"
        );
        report
    }
}

impl Drop for Run {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.home);
    }
}

fn errno(r: &ProbeReport, id: StepId) -> String {
    match r.step(id).map(|s| &s.result) {
        Some(StepResult::Failed { errno }) => errno.name.clone(),
        Some(StepResult::Ok) => "ok".to_string(),
        Some(StepResult::Skipped { reason }) => format!("skipped: {reason}"),
        Some(StepResult::Killed { signal }) => format!("killed: {signal}"),
        None => "absent".to_string(),
    }
}

fn data<'a>(r: &'a ProbeReport, id: StepId, key: &str) -> Option<&'a str> {
    r.step(id).and_then(|s| s.data.get(key)).map(String::as_str)
}

fn top_cause(r: &ProbeReport) -> Option<Cause> {
    policy_core::diagnose(r, None).findings.first().map(|f| f.cause)
}

fn assert_all_ok(r: &ProbeReport, ids: &[StepId]) {
    for id in ids {
        assert_eq!(errno(r, *id), "ok", "step {}", id.as_str());
    }
}

/// The steps only root runs: each namespace flag without a user namespace.
const ROOT_ONLY: [StepId; 3] = [StepId::FlagNet, StepId::FlagMnt, StepId::FlagPid];

/// The ladder's steps that run for every caller.
fn ladder() -> Vec<StepId> {
    nsdoctor::LADDER_STEPS.iter().copied().filter(|id| !ROOT_ONLY.contains(id)).collect()
}

/// Processes whose environment carries `marker` (children inherit it): must be none after a run.
fn processes_with_marker(marker: &str) -> Vec<u32> {
    let needle = format!("NSDOCTOR_TEST_MARK={marker}");
    let mut found = Vec::new();
    let Ok(rd) = std::fs::read_dir("/proc") else { return found };
    for e in rd.filter_map(Result::ok) {
        let Some(pid) = e.file_name().to_str().and_then(|s| s.parse::<u32>().ok()) else { continue };
        if let Ok(env) = std::fs::read(format!("/proc/{pid}/environ")) {
            if env.split(|b| *b == 0).any(|kv| kv == needle.as_bytes()) {
                found.push(pid);
            }
        }
    }
    found
}

fn marker(name: &str) -> String {
    format!("{name}-{}-{:?}", std::process::id(), Instant::now())
}

#[test]
#[ignore = "needs root"]
fn healthy_host_as_root_all_steps_ok() {
    require_root!();
    let r = Run::new("healthy-root").report();
    assert_all_ok(&r, &ladder());
    assert_all_ok(&r, &ROOT_ONLY);
    assert_eq!(data(&r, StepId::Clone3, "errno"), Some("EINVAL"));
    assert_eq!(data(&r, StepId::NetlinkNewaddr, "nlmsg_error"), Some("0"));
    assert!(data(&r, StepId::Userns, "cap_eff").is_some());
    assert!(r.lsm.landlock_abi.get().is_some(), "{:?}", r.lsm.landlock_abi);
    assert_eq!(r.config_source.as_deref(), Some("default"));
    assert_eq!(policy_core::diagnose(&r, None).verdict, Verdict::Ok, "{:?}", top_cause(&r));
}

#[test]
#[ignore = "needs root"]
fn healthy_host_as_user_65534_ok() {
    require_root!();
    let r = Run::new("healthy-nobody").probe(&["--as-user", "65534"]).report();
    assert_eq!(r.identity.uid, Fact::Observed(65534));
    assert_eq!(r.identity.probed_as.as_deref(), Some("65534"));
    assert_eq!(data(&r, StepId::UidMap, "content"), Some("65534 65534 1"));
    assert_all_ok(&r, &ladder());
    assert!(matches!(r.step(StepId::FlagNet).map(|s| &s.result), Some(StepResult::Skipped { .. })));
    assert_eq!(policy_core::diagnose(&r, None).verdict, Verdict::Ok, "{:?}", top_cause(&r));
    // `check` exits 0 on a healthy host.
    let home = scratch("home-check");
    let mut cmd = Command::new(NSDOCTOR);
    clean(&mut cmd, &home);
    let out = cmd.args(["check", "--as-user", "65534", "--no-bwrap"]).output().unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&home);
    assert_eq!(out.status.code(), Some(0), "stdout: {}", String::from_utf8_lossy(&out.stdout));
}

#[test]
#[ignore = "needs root"]
fn as_user_refused_when_not_root() {
    require_root!();
    let (dir, bin) = nobody_nsdoctor("refuse");
    let mut cmd = Command::new(FAULTWRAP);
    clean(&mut cmd, &dir);
    let out = cmd
        .args(["--as-uid", "65534", "--"])
        .arg(&bin)
        .args(["probe", "--as-user", "0"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("--as-user") && err.contains("root"), "{err}");
}

#[test]
#[ignore = "needs root"]
fn seccomp_namespace_filter_in_systemd_service() {
    require_root!();
    let r = Run::new("seccomp-systemd")
        .wrap(&["--seccomp-ns", "all"])
        .probe(&["--as-user", "65534"])
        .env("INVOCATION_ID", "0123456789abcdef0123456789abcdef")
        .report();
    assert_eq!(errno(&r, StepId::Userns), "EPERM");
    assert_eq!(errno(&r, StepId::FlagUserNet), "EPERM");
    assert_eq!(errno(&r, StepId::Clone3), "ENOSYS");
    assert_eq!(data(&r, StepId::Clone3, "reached_kernel"), Some("false"));
    assert!(errno(&r, StepId::Setgroups).starts_with("skipped"));
    assert_eq!(r.process.seccomp_mode, Fact::Observed(2));
    assert_eq!(r.process.no_new_privs, Fact::Observed(true));
    assert!(r.platform.systemd_service.is_true());
    // This VM carries a stray /.dockerenv (a Firecracker VM): the scenario is a service on
    // a bare host, so the container marker is cleared.
    let mut r = r;
    r.platform.docker = Fact::Observed(false);
    assert_eq!(top_cause(&r), Some(Cause::SystemdUnitHardening));
}

#[test]
#[ignore = "needs root"]
fn seccomp_namespace_filter_in_container() {
    require_root!();
    // Root in a container whose seccomp profile forbids namespace flags (Docker default without CAP_SYS_ADMIN).
    let mut r = Run::new("seccomp-container").wrap(&["--seccomp-ns", "all"]).report();
    assert_eq!(errno(&r, StepId::Userns), "EPERM");
    assert_eq!(errno(&r, StepId::FlagNet), "EPERM");
    assert_eq!(errno(&r, StepId::FlagMnt), "EPERM");
    assert_eq!(errno(&r, StepId::FlagPid), "EPERM");
    assert_eq!(errno(&r, StepId::Clone3), "ENOSYS");
    assert!(!r.platform.systemd_service.is_true());
    // The container context: /.dockerenv is present on this VM; state it for hosts without it.
    r.platform.docker = Fact::Observed(true);
    assert_eq!(top_cause(&r), Some(Cause::ContainerSeccomp));
}

#[test]
#[ignore = "needs root"]
fn seccomp_denies_netlink_socket_in_systemd_service() {
    require_root!();
    let mut r = Run::new("seccomp-netlink")
        .wrap(&["--seccomp-deny-af", "NETLINK"])
        .probe(&["--as-user", "65534"])
        .env("INVOCATION_ID", "0123456789abcdef0123456789abcdef")
        .report();
    assert_all_ok(&r, &[StepId::Userns, StepId::UidMap, StepId::Netns, StepId::FlagUserNet, StepId::ProcMount]);
    assert_eq!(errno(&r, StepId::NetlinkSocket), "EAFNOSUPPORT");
    assert_eq!(data(&r, StepId::NetlinkSocket, "failed_call"), Some("socket"));
    assert!(errno(&r, StepId::NetlinkNewaddr).starts_with("skipped"));
    r.platform.docker = Fact::Observed(false);
    assert_eq!(top_cause(&r), Some(Cause::SystemdUnitHardening));
}

#[test]
#[ignore = "needs root"]
fn seccomp_kill_on_mount_in_systemd_service() {
    require_root!();
    // `SystemCallFilter=@system-service` without `SystemCallErrorNumber=`: mount(2) kills (systemd.exec(5)).
    let mut r = Run::new("seccomp-kill")
        .wrap(&["--seccomp-kill", "mount"])
        .probe(&["--as-user", "65534"])
        .env("INVOCATION_ID", "0123456789abcdef0123456789abcdef")
        .report();
    assert_all_ok(&r, &[StepId::Userns, StepId::UidMap, StepId::Netns, StepId::Mountns, StepId::NetlinkNewaddr]);
    assert_eq!(errno(&r, StepId::MountSlave), "killed: SIGSYS");
    assert!(errno(&r, StepId::ProcMount).contains("SIGSYS"), "{}", errno(&r, StepId::ProcMount));
    r.platform.docker = Fact::Observed(false);
    assert_eq!(top_cause(&r), Some(Cause::SystemdUnitHardening));
}

#[test]
#[ignore = "needs root"]
fn max_user_namespaces_zero() {
    require_root!();
    let r = Run::new("userns-limit").wrap(&["--userns-limit", "user=0"]).probe(&["--as-user", "65534"]).report();
    assert_eq!(r.sysctl.max_user_namespaces, Fact::Observed(0));
    assert_eq!(errno(&r, StepId::Userns), "ENOSPC");
    assert_eq!(errno(&r, StepId::FlagUserNet), "ENOSPC");
    assert!(r.platform.in_userns.is_true());
    assert_eq!(top_cause(&r), Some(Cause::UsernsLimitZero));
}

#[test]
#[ignore = "needs root"]
fn max_net_namespaces_zero_blocks_only_network_none() {
    require_root!();
    let run = |net: &str| {
        Run::new(&format!("netns-limit-{net}"))
            .wrap(&["--userns-limit", "net=0"])
            .probe(&["--as-user", "65534", "--network", net])
            .report()
    };
    let r = run("none");
    assert_eq!(r.config.network, NetworkMode::None);
    assert_all_ok(
        &r,
        &[
            StepId::Userns,
            StepId::Setgroups,
            StepId::UidMap,
            StepId::GidMap,
            StepId::Mountns,
            StepId::MountSlave,
            StepId::MountTmpfs,
            StepId::Pidns,
            StepId::ProcMount,
            StepId::Clone3,
        ],
    );
    assert_eq!(errno(&r, StepId::Netns), "ENOSPC");
    assert_eq!(errno(&r, StepId::FlagUserNet), "ENOSPC");
    let d = policy_core::diagnose(&r, None);
    assert_eq!(d.verdict, Verdict::Blocked);
    assert_eq!(d.findings.first().map(|f| f.cause), Some(Cause::UsernsLimitZero));

    let r = run("bridge");
    assert_eq!(r.config.network, NetworkMode::Bridge);
    assert_eq!(errno(&r, StepId::Netns), "ENOSPC");
    let d = policy_core::diagnose(&r, None);
    assert_ne!(
        d.verdict,
        Verdict::Blocked,
        "{:?}",
        d.findings.iter().map(|f| (&f.code, f.blocking)).collect::<Vec<_>>()
    );
    assert!(d.findings.iter().all(|f| !f.blocking));
}

#[test]
#[ignore = "needs root"]
fn capabilities_dropped_in_new_userns_like_ubuntu_apparmor() {
    require_root!();
    let mut r = Run::new("caps-dropped")
        .probe(&["--as-user", "65534"])
        .env("NSDOCTOR_TEST_FAULT", "drop-caps-after-userns")
        .report();
    assert!(r.producer.as_deref().is_some_and(|p| p.contains("NSDOCTOR_TEST_FAULT")));
    assert_eq!(errno(&r, StepId::Userns), "ok");
    assert_eq!(data(&r, StepId::Userns, "cap_eff"), Some("0000000000000000"));
    assert_eq!(errno(&r, StepId::Setgroups), "EACCES");
    assert_eq!(data(&r, StepId::Setgroups, "failed_call"), Some("open"));
    assert_eq!(errno(&r, StepId::UidMap), "EPERM");
    assert_eq!(errno(&r, StepId::GidMap), "EPERM");
    assert_eq!(errno(&r, StepId::FlagUserNet), "ok");
    assert_eq!(errno(&r, StepId::NetlinkSocket), "ok");
    assert_eq!(errno(&r, StepId::NetlinkNewaddr), "EPERM");
    assert_eq!(data(&r, StepId::NetlinkNewaddr, "nlmsg_error"), Some("-1"));
    assert_eq!(errno(&r, StepId::NetlinkNewlink), "EPERM");
    // The AppArmor side this kernel lacks: the restriction sysctl, AppArmor enabled, and
    // the label the kernel gives the new namespace.
    r.sysctl.apparmor_restrict_unprivileged_userns = Fact::Observed(1);
    r.lsm.apparmor_enabled = Fact::Observed(true);
    r.lsm.active = Fact::Observed(vec![
        "lockdown".into(),
        "capability".into(),
        "landlock".into(),
        "yama".into(),
        "apparmor".into(),
    ]);
    r.process.apparmor_label = Fact::Observed("unconfined".into());
    for id in [StepId::Userns, StepId::FlagUserNet] {
        if let Some(s) = r.steps.iter_mut().find(|s| s.id == id) {
            s.data.remove("label_unavailable");
            s.data.insert("label".into(), "unprivileged_userns (enforce)".into());
        }
    }
    assert_eq!(top_cause(&r), Some(Cause::ApparmorUsernsRestriction));
}

#[test]
#[ignore = "needs root"]
fn chroot_blocks_user_namespaces() {
    require_root!();
    let root = scratch("chroot");
    let bin = root.join("nsdoctor");
    std::fs::copy(NSDOCTOR, &bin).unwrap_or_else(|e| panic!("copy nsdoctor: {e}"));
    let home = scratch("home-chroot");
    let mut cmd = Command::new(FAULTWRAP);
    clean(&mut cmd, &home);
    cmd.env("HOME", "/");
    let root_s = root.display().to_string();
    let out = cmd
        .args(["--chroot", &root_s, "--as-uid", "65534", "--", "/nsdoctor", "probe", "--no-bwrap"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&home);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let r: ProbeReport = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(errno(&r, StepId::Userns), "EPERM");
    assert_eq!(errno(&r, StepId::FlagUserNet), "EPERM");
    assert_eq!(errno(&r, StepId::Clone3), "ok", "no seccomp here: clone3 reaches the kernel");
    assert_eq!(r.process.chrooted, Fact::Observed(true));
    assert_eq!(top_cause(&r), Some(Cause::Chroot));
}

/// Root in a chroot that is a bind mount of `/` from a private mount namespace: every static fact looks like
/// the host (a mount at `/`, pid 1 in another mount namespace, so the chroot check is inconclusive), CapEff is
/// full, there is no seccomp filter, no LSM and no sysctl that refuses user namespaces, yet
/// unshare(CLONE_NEWUSER) is EPERM. The only kernel path left is `current_chrooted()` in `create_user_ns`
/// (kernel/user_namespace.c): nsdoctor names the chroot by elimination, with medium confidence.
#[test]
#[ignore = "needs root"]
fn chroot_named_by_elimination_when_the_check_is_inconclusive() {
    require_root!();
    let root = scratch("chroot-bind-root");
    let home = scratch("home-chroot-bind-root");
    let mut cmd = Command::new(FAULTWRAP);
    clean(&mut cmd, &home);
    let root_s = root.display().to_string();
    let out = cmd
        .args(["--chroot-bind-root", &root_s, "--", NSDOCTOR, "probe", "--no-bwrap"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&root);
    let _ = std::fs::remove_dir_all(&home);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let mut r: ProbeReport = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(errno(&r, StepId::Userns), "EPERM");
    assert_eq!(r.identity.euid, Fact::Observed(0));
    assert_eq!(r.process.seccomp_mode, Fact::Observed(0));
    assert!(
        matches!(r.process.chrooted, Fact::Unavailable(_)),
        "the chroot check must be inconclusive here: {:?}",
        r.process.chrooted
    );
    assert!(r.sysctl.unprivileged_userns_clone.get().is_none_or(|v| *v != 0));
    // This VM carries a stray /.dockerenv (a Firecracker VM): the scenario is a bare host.
    r.platform.docker = Fact::Observed(false);
    let d = policy_core::diagnose(&r, None);
    let top = d.findings.first().unwrap_or_else(|| panic!("no finding: {}", d.headline));
    assert_eq!(top.cause, Cause::Chroot, "{}", d.headline);
    assert_eq!(top.confidence, policy_core::diagnosis::Confidence::Medium);
    assert!(top.ranking.contains("ruled out"), "{}", top.ranking);
}

/// A seccomp filter that refuses namespace flags, under a systemd service marker, while CapBnd holds
/// CAP_SYS_ADMIN: Docker's default profile would allow the calls then (moby/profiles `seccomp/default.json`
/// makes unshare/clone with namespace flags conditional on CAP_SYS_ADMIN), so even with a container marker the
/// filter is the unit's `RestrictNamespaces=`.
#[test]
#[ignore = "needs root"]
fn seccomp_with_sys_admin_in_bounding_set_points_to_the_unit_not_the_container() {
    require_root!();
    let mut r = Run::new("seccomp-unit-in-container")
        .wrap(&["--seccomp-ns", "all"])
        .env("INVOCATION_ID", "0123456789abcdef0123456789abcdef")
        .report();
    assert_eq!(errno(&r, StepId::Userns), "EPERM");
    assert_eq!(errno(&r, StepId::Clone3), "ENOSYS");
    assert!(r.platform.systemd_service.is_true());
    let bnd = r.process.cap_bnd.get().cloned().unwrap_or_default();
    assert!(u64::from_str_radix(bnd.trim(), 16).is_ok_and(|v| v & (1 << 21) != 0), "CapBnd {bnd} lacks CAP_SYS_ADMIN");
    // Both markers, as in a systemd-based container image.
    r.platform.docker = Fact::Observed(true);
    assert_eq!(top_cause(&r), Some(Cause::SystemdUnitHardening));
}

#[test]
#[ignore = "needs root"]
fn hung_step_is_killed_at_timeout_and_nothing_is_left_running() {
    require_root!();
    let mark = marker("hang");
    let t0 = Instant::now();
    let r = Run::new("hang")
        .probe(&["--timeout", "1"])
        .env("NSDOCTOR_TEST_FAULT", "hang=mount-slave")
        .env("NSDOCTOR_TEST_MARK", &mark)
        .report();
    assert!(t0.elapsed() < Duration::from_secs(20), "took {:?}", t0.elapsed());
    assert_eq!(errno(&r, StepId::Mountns), "ok");
    assert_eq!(errno(&r, StepId::MountSlave), "killed: SIGKILL");
    assert_eq!(data(&r, StepId::MountSlave, "timed_out_after_secs"), Some("1"));
    assert!(errno(&r, StepId::ProcMount).starts_with("skipped: mount-slave hung"), "{}", errno(&r, StepId::ProcMount));
    // The other parts still ran.
    assert_eq!(errno(&r, StepId::FlagUserNet), "ok");
    assert_eq!(errno(&r, StepId::Clone3), "ok");
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(processes_with_marker(&mark), Vec::<u32>::new());
}

/// (sysctl values, the mount table, /etc entries with mtime and size).
type Snapshot = (Vec<(String, String)>, String, BTreeSet<(String, i64, u64)>);

/// Everything the probe could touch: namespace sysctls, the mount table, /etc.
fn host_snapshot() -> Snapshot {
    let mut sysctls = Vec::new();
    for dir in ["/proc/sys/user", "/proc/sys/kernel"] {
        let Ok(rd) = std::fs::read_dir(dir) else { continue };
        let mut names: Vec<PathBuf> = rd.filter_map(Result::ok).map(|e| e.path()).collect();
        names.sort();
        for p in names {
            let n = p.display().to_string();
            // Counters that move on their own.
            if [
                "random",
                "ns_last_pid",
                "tainted",
                "pty",
                "sched_",
                "hung_task",
                "perf_event",
                "ftrace",
                "kexec",
                "printk",
                "softlockup",
                "watchdog",
                "numa",
                "keys",
            ]
            .iter()
            .any(|s| n.contains(s))
            {
                continue;
            }
            if let Ok(v) = std::fs::read_to_string(&p) {
                sysctls.push((n, v));
            }
        }
    }
    let mounts = std::fs::read_to_string("/proc/self/mountinfo").unwrap_or_default();
    let mut etc = BTreeSet::new();
    if let Ok(rd) = std::fs::read_dir("/etc") {
        for e in rd.filter_map(Result::ok) {
            if let Ok(md) = std::fs::symlink_metadata(e.path()) {
                use std::os::unix::fs::MetadataExt;
                etc.insert((e.path().display().to_string(), md.mtime(), md.size()));
            }
        }
    }
    (sysctls, mounts, etc)
}

#[test]
#[ignore = "needs root"]
fn full_run_changes_nothing_and_reaps_every_child() {
    require_root!();
    let before = host_snapshot();
    let mark = marker("full");
    // With bwrap replays when bwrap is installed.
    let mut run = Run::new("full").env("NSDOCTOR_TEST_MARK", &mark);
    run.probe.clear();
    let r = run.report();
    let r2 = Run::new("full-nobody").env("NSDOCTOR_TEST_MARK", &mark).probe(&["--as-user", "65534"]).report();
    // The fast path too, with the replays and as another user.
    let mut fast = Run::new("fast").env("NSDOCTOR_TEST_MARK", &mark);
    fast.probe.clear();
    assert_eq!(made_in_one_call(&fast.lib_report(false)), [StepId::Netns, StepId::Mountns, StepId::FlagUserNet]);
    let fast = Run::new("fast-nobody").env("NSDOCTOR_TEST_MARK", &mark).probe(&["--as-user", "65534"]);
    assert!(!made_in_one_call(&fast.lib_report(false)).is_empty());
    std::thread::sleep(Duration::from_millis(200));
    assert_eq!(processes_with_marker(&mark), Vec::<u32>::new());
    let after = host_snapshot();
    assert_eq!(before.0, after.0, "sysctls changed");
    assert_eq!(before.1, after.1, "mount table changed");
    assert_eq!(before.2, after.2, "/etc changed");
    if r.bwrap.selected.is_some() {
        assert_eq!(r.replays.len(), 2);
        for rp in r.replays.iter().chain(&r2.replays) {
            assert_eq!(rp.exit, policy_core::report::ReplayExit::Exited { code: 0 }, "{} {}", rp.name, rp.stderr);
        }
        assert!(r.replays.iter().any(|rp| rp.argv.iter().any(|a| a == "--unshare-net")));
    } else {
        eprintln!("note: no bwrap on this host, replays not exercised");
    }
}

#[test]
#[ignore = "needs root"]
fn refuses_to_run_setuid() {
    require_root!();
    let (dir, bin) = nobody_nsdoctor("setuid");
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&bin, std::fs::Permissions::from_mode(0o4755)).unwrap_or_else(|e| panic!("{e}"));
    let nosuid = nix::sys::statvfs::statvfs(&bin)
        .map(|s| s.flags().contains(nix::sys::statvfs::FsFlags::ST_NOSUID))
        .unwrap_or(true);
    if nosuid {
        let _ = std::fs::remove_dir_all(&dir);
        eprintln!("skipped: {} is on a nosuid mount", dir.display());
        return;
    }
    let mut cmd = Command::new(FAULTWRAP);
    clean(&mut cmd, &dir);
    let out = cmd
        .args(["--as-uid", "65534", "--"])
        .arg(&bin)
        .args(["probe", "--no-bwrap"])
        .output()
        .unwrap_or_else(|e| panic!("{e}"));
    let _ = std::fs::remove_dir_all(&dir);
    assert_eq!(out.status.code(), Some(2), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stderr).contains("set-uid"));
}

#[test]
#[ignore = "needs root"]
fn unit_without_systemd_is_recorded_unavailable() {
    require_root!();
    let r = Run::new("unit").probe(&["--unit", "openclaw-gateway.service"]).report();
    assert_eq!(r.config.unit.as_deref(), Some("openclaw-gateway.service"));
    assert_eq!(r.config.manager, policy_core::config::ServiceManager::Systemd);
    assert_eq!(r.unit.name.as_deref(), Some("openclaw-gateway.service"));
    if std::fs::symlink_metadata("/run/systemd/system").is_err() {
        match &r.unit.restrict_namespaces {
            Fact::Unavailable(u) => assert_eq!(u.reason, "systemd not running"),
            other => panic!("{other:?}"),
        }
    }
}

#[test]
#[ignore = "needs root"]
fn config_discovery_codex_openclaw_and_flags() {
    require_root!();
    // Codex: network access on ⇒ no net namespace needed.
    let run = Run::new("cfg-codex");
    std::fs::create_dir_all(run.home.join(".codex")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        run.home.join(".codex/config.toml"),
        "sandbox_mode = \"workspace-write\"\n[sandbox_workspace_write]\nnetwork_access = true\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = run.report();
    assert_eq!(r.config.tool, "codex");
    assert_eq!(r.config.network, NetworkMode::Host);
    assert!(r.config_source.as_deref().is_some_and(|s| s.ends_with(".codex/config.toml")), "{:?}", r.config_source);
    let r = run.probe(&["--network", "none"]).report();
    assert_eq!(r.config.network, NetworkMode::None);
    assert!(r.config_source.as_deref().is_some_and(|s| s.contains("+ flags (--network)")), "{:?}", r.config_source);

    // OpenClaw (JSON5) wins over Codex when its container sandbox is on.
    let run = Run::new("cfg-openclaw");
    std::fs::create_dir_all(run.home.join(".openclaw")).unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(
        run.home.join(".openclaw/openclaw.json"),
        "// gateway\n{ agents: { defaults: { sandbox: { mode: 'all', backend: 'docker', docker: { network: 'bridge', }, }, }, }, }\n",
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let r = run.report();
    assert_eq!(r.config.tool, "openclaw");
    assert_eq!(r.config.network, NetworkMode::Bridge);
    assert!(r.config_source.as_deref().is_some_and(|s| s.ends_with(".openclaw/openclaw.json")));
}

/// The committed probe-report schema.
fn report_schema() -> jsonschema::Validator {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/probe-report.schema.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    jsonschema::validator_for(&serde_json::from_str(&text).unwrap_or_else(|e| panic!("schema JSON: {e}")))
        .unwrap_or_else(|e| panic!("schema: {e}"))
}

/// Each step's outcome (errno, `ok`, or the skip reason) in report order.
fn outcomes(r: &ProbeReport) -> Vec<(StepId, String)> {
    r.steps.iter().map(|s| (s.id, errno(r, s.id))).collect()
}

/// The steps the fast path's single call made (a full ladder has none).
fn made_in_one_call(r: &ProbeReport) -> Vec<StepId> {
    r.steps.iter().filter(|s| s.data.contains_key("made_by")).map(|s| s.id).collect()
}

#[test]
#[ignore = "needs root"]
fn a_fast_path_that_fails_reports_the_full_ladder() {
    require_root!();
    let cases = [
        Run::new("fast-userns-limit").wrap(&["--userns-limit", "user=0"]).probe(&["--as-user", "65534"]),
        Run::new("fast-netns-limit").wrap(&["--userns-limit", "net=0"]).probe(&["--as-user", "65534"]),
        Run::new("fast-seccomp-ns").wrap(&["--seccomp-ns", "all"]),
        Run::new("fast-seccomp-netlink").wrap(&["--seccomp-deny-af", "NETLINK"]),
        Run::new("fast-seccomp-kill-mount").wrap(&["--seccomp-kill", "mount"]),
        Run::new("fast-drop-caps").env("NSDOCTOR_TEST_FAULT", "drop-caps-after-userns"),
    ];
    for run in cases {
        let what = format!("{:?} {:?} {:?}", run.wrap, run.probe, run.env);
        let fast = run.lib_report(false);
        let full = run.report();
        assert!(made_in_one_call(&fast).is_empty(), "{what}: the fast path's steps were kept");
        assert_eq!(outcomes(&fast), outcomes(&full), "{what}");
        if is_root_probe(&run) {
            // The flags ran (as in the full ladder), not skipped as on a healthy fast path.
            for id in ROOT_ONLY {
                assert!(!errno(&fast, id).starts_with("skipped"), "{what}: {}", errno(&fast, id));
            }
        }
        let (df, dl) = (policy_core::diagnose(&fast, None), policy_core::diagnose(&full, None));
        assert_ne!(df.verdict, Verdict::Ok, "{what}: the fault shows");
        assert_eq!(df.verdict, dl.verdict, "{what}");
        assert_eq!(df.findings.first().map(|f| f.cause), dl.findings.first().map(|f| f.cause), "{what}");
    }
}

fn is_root_probe(run: &Run) -> bool {
    !run.probe.iter().any(|a| a == "--as-user")
}

#[test]
#[ignore = "needs root"]
fn a_healthy_fast_path_gives_the_full_ladders_verdict() {
    require_root!();
    for (name, args) in [
        ("fast-ok-root", &[][..]),
        ("fast-ok-nobody", &["--as-user", "65534"][..]),
        ("fast-ok-host-net", &["--network", "host"][..]),
    ] {
        let run = Run::new(name).probe(args);
        let fast = run.lib_report(false);
        let full = run.lib_report(true);
        let one_call = made_in_one_call(&fast);
        if args.contains(&"host") {
            assert_eq!(one_call, [StepId::Mountns], "{name}");
            assert!(errno(&fast, StepId::Netns).starts_with("skipped: the sandbox config needs no network"), "{name}");
        } else {
            assert_eq!(one_call, [StepId::Netns, StepId::Mountns, StepId::FlagUserNet], "{name}");
            assert_all_ok(&fast, &ladder());
        }
        assert!(made_in_one_call(&full).is_empty(), "{name}");
        let render = |r: &ProbeReport| policy_core::render::json(&policy_core::diagnose(r, None));
        assert_eq!(render(&fast), render(&full), "{name}: the same diagnosis");
        assert_eq!(policy_core::diagnose(&fast, None).verdict, Verdict::Ok, "{name}");
        // The command: `check` (fast path) and `check --full` print the same.
        let check = |full: bool| {
            let mut cmd = Command::new(NSDOCTOR);
            clean(&mut cmd, &run.home);
            cmd.args(["check", "--format", "json"]).args(&run.probe);
            if full {
                cmd.arg("--full");
            }
            let out = cmd.output().unwrap_or_else(|e| panic!("{e}"));
            assert_eq!(out.status.code(), Some(0), "{name}: {}", String::from_utf8_lossy(&out.stderr));
            out.stdout
        };
        assert_eq!(String::from_utf8_lossy(&check(false)), String::from_utf8_lossy(&check(true)), "{name}");
    }
}
