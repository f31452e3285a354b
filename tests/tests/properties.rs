//! Properties of the engine over arbitrary probe reports (proptest):
//!
//! 1. `diagnose` is total and deterministic: any report (random facts, steps with random errnos, replays whose
//!    stderr mixes real bwrap/kernel wordings with noise, any config) diagnoses without a panic, twice to the same
//!    result, renders in every format, and the wasm JSON path gives the same bytes as the typed path.
//! 2. Order without meaning does not matter: permuting `bwrap.binaries` (the selection is by path),
//!    `identity.groups`, `distro.id_like`, `lsm.active`, `apparmor.loaded_profiles`, `platform.proc_masks`, the
//!    replays (evidence pointers `/replays/N` renumbered accordingly), and the key order of every JSON object
//!    (which is also the insertion order of the maps) leaves the diagnosis unchanged.
//! 3. An unrelated healthy fact (`lsm.landlock_abi`, `kernel.arch`, `distro.pretty_name`, `identity.user`, a
//!    successful `landlock` step in a report that has a ladder) never changes the verdict.
//!
//! Deterministic: a fixed RNG seed and no failure-persistence files; `PROPTEST_CASES` overrides the case count.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use nsdoctor_tests::{fixtures, load};
use policy_core::config::{ContainerRuntime, Namespaces, NetworkMode, SandboxConfig, ServiceManager};
use policy_core::fact::{Errno, Fact, Unavailable};
use policy_core::report::*;
use policy_core::{Diagnosis, diagnose, diagnose_json, render};
use proptest::prelude::*;
use proptest::sample::{select, subsequence};
use proptest::test_runner::{Config, RngSeed};

fn config(cases: u32) -> Config {
    Config {
        cases,
        failure_persistence: None,
        rng_seed: RngSeed::Fixed(0x6e73_646f_6374_6f72),
        max_shrink_iters: 4096,
        ..Config::default()
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Strategies

fn s(v: &[&'static str]) -> BoxedStrategy<String> {
    select(v.to_vec()).prop_map(str::to_string).boxed()
}

const ERRNOS: &[&str] = &[
    "EPERM",
    "EACCES",
    "EINVAL",
    "ENOSPC",
    "ENOSYS",
    "EUSERS",
    "EAFNOSUPPORT",
    "ENOENT",
    "EBUSY",
    "EOPNOTSUPP",
    "E2BIG",
    "EWHATEVER",
];

fn errno() -> BoxedStrategy<Errno> {
    (select(ERRNOS.to_vec()), prop::option::weighted(0.1, -1000i32..1000))
        .prop_map(|(name, n)| match n {
            Some(number) => Errno { name: name.to_string(), number },
            None => Errno::named(name),
        })
        .boxed()
}

fn fact<T: std::fmt::Debug + Clone + 'static>(inner: impl Strategy<Value = T> + 'static) -> BoxedStrategy<Fact<T>> {
    prop_oneof![
        4 => inner.prop_map(Fact::Observed),
        1 => (prop::option::of(errno()), s(&["permission denied", "file absent", "systemd not running", ""]))
            .prop_map(|(errno, reason)| Fact::Unavailable(Unavailable { errno, reason })),
        2 => Just(Fact::NotProbed),
    ]
    .boxed()
}

fn fs(v: &[&'static str]) -> BoxedStrategy<Fact<String>> {
    fact(s(v))
}

fn list(v: &[&'static str]) -> BoxedStrategy<Fact<Vec<String>>> {
    let n = v.len();
    fact(subsequence(v.to_vec(), 0..=n).prop_map(|l| l.into_iter().map(str::to_string).collect()))
}

/// Lines real hosts printed: every error text and replay stderr in the fixtures, plus wordings the fixtures lack.
fn wordings() -> &'static Vec<String> {
    static W: OnceLock<Vec<String>> = OnceLock::new();
    W.get_or_init(|| {
        let mut v: Vec<String> = Vec::new();
        for (_, path) in fixtures() {
            let r = load(&path).unwrap();
            let texts = r.observed_error.iter().cloned().chain(r.replays.iter().map(|p| p.stderr.clone()));
            for t in texts {
                v.extend(t.lines().filter(|l| !l.trim().is_empty()).map(str::to_string));
            }
        }
        v.extend(
            [
                "bwrap: No permissions to creating new namespace, likely because the kernel does not allow non-privileged user namespaces.",
                "bwrap: Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)",
                "bwrap: Creating new namespace failed, likely because the kernel does not support user namespaces.  bwrap must be installed setuid on such systems.",
                "bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted",
                "bwrap: Can't read /proc/sys/kernel/overflowuid: No such file or directory",
                "unshare: unshare failed: Invalid argument",
                "Error: cannot clone: Operation not permitted",
                "[1:1:FATAL:zygote_host_impl_linux.cc(128)] No usable sandbox!",
                "bwrap: capset failed: Operation not permitted",
                "type=AVC msg=audit(1:2): avc:  denied  { create } for pid=3 comm=\"bwrap\" tclass=user_namespace permissive=0",
                "audit: type=1326 audit(1:2): auid=1000 uid=1000 comm=\"bwrap\" sig=31 syscall=165",
                "unshare(CLONE_NEWUSER) failed: Invalid argument",
            ]
            .map(str::to_string),
        );
        v.sort();
        v.dedup();
        v
    })
}

/// An error text: real lines, real lines behind a prefix, and noise (including controls and bidi characters).
fn text() -> BoxedStrategy<String> {
    let line = prop_oneof![
        4 => select(wordings().clone()),
        1 => (s(&["codex: ", "Fehler: ", "[stderr] ", "  "]), select(wordings().clone())).prop_map(|(p, l)| p + &l),
        2 => "\\PC{0,40}",
        1 => "[\\x00-\\x1f\u{202e}\u{feff}a-z ]{0,12}",
    ];
    prop::collection::vec(line, 0..5).prop_map(|v| v.join("\n")).boxed()
}

fn kernel() -> BoxedStrategy<Kernel> {
    (
        fs(&[
            "6.8.0-45-generic",
            "5.15.0-1-amd64",
            "4.4.0-19041-Microsoft",
            "3.10.0-1160.el7.x86_64",
            "4.4.0",
            "6.12.1-arch1-1",
        ]),
        fs(&["x86_64", "aarch64"]),
        fs(&[
            "Linux version 6.8.0 (buildd@lcy02)",
            "Linux version 4.4.0-19041-Microsoft (Microsoft@Microsoft.com)",
            "Linux version 4.4.0 #1 SMP Sun Jan 10 15:06:54 PST 2016",
        ]),
        fact(any::<bool>()),
    )
        .prop_map(|(release, arch, proc_version, userns_supported)| Kernel {
            release,
            arch,
            proc_version,
            userns_supported,
        })
        .boxed()
}

fn distro() -> BoxedStrategy<Distro> {
    (
        fs(&["ubuntu", "debian", "fedora", "arch", "centos", "rhel", "nixos", "alpine", "gentoo", "linuxmint"]),
        fs(&["24.04", "22.04", "23.10", "26.04", "12", "10", "7", "8.9", "40", ""]),
        list(&["ubuntu", "debian", "rhel", "fedora", "centos", "arch"]),
        fs(&["Ubuntu 24.04.1 LTS", "Debian GNU/Linux 12 (bookworm)"]),
    )
        .prop_map(|(id, version_id, id_like, pretty_name)| Distro { id, version_id, id_like, pretty_name })
        .boxed()
}

fn identity() -> BoxedStrategy<Identity> {
    let id = || fact(select(vec![0u32, 1000, 1001, 65534]));
    (
        id(),
        id(),
        id(),
        id(),
        fact(prop::collection::vec(0u32..2000, 0..6)),
        fs(&["root", "alice", "openclaw"]),
        prop::option::of(s(&["openclaw", "alice"])),
    )
        .prop_map(|(uid, euid, gid, egid, groups, user, probed_as)| Identity {
            uid,
            euid,
            gid,
            egid,
            groups,
            user,
            probed_as,
        })
        .boxed()
}

fn process() -> BoxedStrategy<ProcessState> {
    let caps = &["0000000000000000", "000001ffffffffff", "00000000a80425fb", "0000003fffffffff", "zz"];
    (
        fact(any::<bool>()),
        fact(0u8..=3),
        fact(0u32..5),
        fs(caps),
        fs(caps),
        fs(&[
            "unconfined",
            "docker-default (enforce)",
            "bwrap//&unpriv_bwrap (enforce)",
            "unprivileged_userns (enforce)",
            "snap.firefox.firefox (enforce)",
            "containers-default-0.50.1 (enforce)",
        ]),
        fs(&[
            "unconfined_u:unconfined_r:unconfined_t:s0",
            "system_u:system_r:xdm_t:s0",
            "system_u:system_r:container_t:s0:c1,c2",
        ]),
        fact(any::<bool>()),
        fs(&["         0          0 4294967295", "         0       1000          1", ""]),
        fact(select(vec![1u32, 2, 8])),
    )
        .prop_map(
            |(
                no_new_privs,
                seccomp_mode,
                seccomp_filters,
                cap_eff,
                cap_bnd,
                apparmor_label,
                selinux_context,
                chrooted,
                uid_map,
                threads,
            )| ProcessState {
                no_new_privs,
                seccomp_mode,
                seccomp_filters,
                cap_eff,
                cap_bnd,
                apparmor_label,
                selinux_context,
                chrooted,
                uid_map,
                threads,
            },
        )
        .boxed()
}

fn lsm() -> BoxedStrategy<Lsm> {
    (
        list(&["lockdown", "capability", "landlock", "yama", "apparmor", "selinux", "bpf"]),
        fact(any::<bool>()),
        fact(select(vec![SelinuxMode::Enforcing, SelinuxMode::Permissive, SelinuxMode::Disabled])),
        fact(any::<bool>()),
        fact(0u32..7),
    )
        .prop_map(|(active, apparmor_enabled, selinux, selinux_userns_class, landlock_abi)| Lsm {
            active,
            apparmor_enabled,
            selinux,
            selinux_userns_class,
            landlock_abi,
        })
        .boxed()
}

fn sysctls() -> BoxedStrategy<Sysctls> {
    let v = || fact(select(vec![0i64, 1, 2, 15000, 63704, -1]));
    ((v(), v(), v(), v(), v()), (v(), v(), v(), v(), v()))
        .prop_map(|((a, b, c, d, e), (f, g, h, i, j))| Sysctls {
            apparmor_restrict_unprivileged_userns: a,
            apparmor_restrict_unprivileged_userns_complain: b,
            apparmor_restrict_unprivileged_userns_force: c,
            apparmor_restrict_unprivileged_unconfined: d,
            apparmor_unconfined_restrictions_userns: e,
            unprivileged_userns_clone: f,
            max_user_namespaces: g,
            max_net_namespaces: h,
            max_mnt_namespaces: i,
            max_pid_namespaces: j,
        })
        .boxed()
}

fn apparmor() -> BoxedStrategy<AppArmorFacts> {
    let profiles = prop::collection::btree_map(
        s(&["bwrap", "codex-bwrap", "unpriv_bwrap", "zz-local"]),
        s(&["/etc/apparmor.d/bwrap-userns-restrict", "/etc/apparmor.d/codex-bwrap"]),
        0..3,
    );
    let names = || s(&["bwrap", "codex-bwrap", "steam", "zz-local"]);
    let modes = prop::collection::btree_map(names(), s(&["enforce", "complain", "kill", "unconfined"]), 0..3);
    let flags =
        prop::collection::btree_map(names(), s(&["", "unconfined", "complain,attach_disconnected", "kill"]), 0..3);
    let attach = prop::collection::btree_map(names(), s(&["/usr/bin/bwrap", "/usr/bin/*", "@{HOME}/**/bwrap"]), 0..3);
    (
        (
            fact(any::<bool>()),
            fact(any::<bool>()),
            fact(any::<bool>()),
            list(&["bwrap", "unprivileged_userns", "docker-default", "codex-bwrap", "unpriv_bwrap"]),
            fact(any::<bool>()),
            fact(profiles),
        ),
        (fact(modes), fact(flags), fact(attach)),
    )
        .prop_map(
            |(
                (
                    bwrap_userns_restrict_file,
                    bwrap_userns_restrict_extra,
                    unprivileged_userns_file,
                    loaded_profiles,
                    abi_4_0,
                    profiles_for_bwrap,
                ),
                (profile_modes, profile_flags, profile_attachments),
            )| AppArmorFacts {
                bwrap_userns_restrict_file,
                bwrap_userns_restrict_extra,
                unprivileged_userns_file,
                loaded_profiles,
                abi_4_0,
                profiles_for_bwrap,
                profile_modes,
                profile_flags,
                profile_attachments,
            },
        )
        .boxed()
}

fn platform() -> BoxedStrategy<Platform> {
    let b = || fact(prop::bool::weighted(0.3));
    let ci = fs(&[
        "",
        "github-actions",
        "github-actions-self-hosted",
        "gitlab-ci",
        "codespaces",
        "devcontainer",
        "orbstack",
        "gke",
        "ci",
    ]);
    (
        (b(), b(), b(), b(), b(), b(), b(), b()),
        (
            b(),
            b(),
            b(),
            fs(&["openclaw-gateway.service", "user@1000.service"]),
            list(&["/proc/sys", "/proc/kcore", "/proc/acpi", "/proc/timer_list"]),
            b(),
            b(),
            ci,
        ),
    )
        .prop_map(
            |(
                (docker, podman, kubernetes, lxc, gvisor, wsl1, wsl2, flatpak),
                (
                    nested_bwrap,
                    in_userns,
                    systemd_service,
                    systemd_unit,
                    proc_masks,
                    proc_sys_readonly,
                    proc_subset_pid,
                    ci_platform,
                ),
            )| Platform {
                docker,
                podman,
                kubernetes,
                lxc,
                gvisor,
                wsl1,
                wsl2,
                flatpak,
                nested_bwrap,
                in_userns,
                systemd_service,
                systemd_unit,
                proc_masks,
                proc_sys_readonly,
                proc_subset_pid,
                ci_platform,
            },
        )
        .boxed()
}

fn unit() -> BoxedStrategy<UnitFacts> {
    (
        prop::option::of(s(&["openclaw-gateway.service", "codex.service"])),
        fs(&["openclaw", "root", ""]),
        fs(&["yes", "no", "~user", "user net mnt pid", "net", "", "cgroup ipc net mnt pid user uts"]),
        fs(&["@system-service", "~@mount", "", "~@privileged @resources"]),
        fs(&["EPERM", "", "kill"]),
        fs(&["AF_UNIX AF_INET AF_INET6", "AF_UNIX AF_NETLINK", "none", ""]),
        fs(&["pid", "all"]),
        fs(&["yes", "no"]),
        fs(&["yes", "no"]),
        fs(&["", "openclaw"]),
    )
        .prop_map(
            |(
                name,
                user,
                restrict_namespaces,
                system_call_filter,
                system_call_error_number,
                restrict_address_families,
                proc_subset,
                protect_kernel_tunables,
                no_new_privileges,
                apparmor_profile,
            )| UnitFacts {
                name,
                user,
                restrict_namespaces,
                system_call_filter,
                system_call_error_number,
                restrict_address_families,
                proc_subset,
                protect_kernel_tunables,
                no_new_privileges,
                apparmor_profile,
            },
        )
        .boxed()
}

const BWRAP_PATHS: &[&str] =
    &["/usr/bin/bwrap", "/opt/codex/bin/bwrap", "/home/alice/.codex/bin/bwrap", "/usr/local/bin/bwrap", "/tmp/bwrap"];

fn bwrap() -> BoxedStrategy<BwrapFacts> {
    let binary = |path: &'static str| {
        (
            fs(&["0.8.0", "0.9.0", "0.11.1"]),
            fact(prop::bool::weighted(0.3)),
            fact(select(vec![0u32, 1000])),
            fact(prop::bool::weighted(0.3)),
            fact(prop::bool::weighted(0.2)),
        )
            .prop_map(move |(version, setuid, owner_uid, user_writable, nosuid_mount)| BwrapBinary {
                path: path.to_string(),
                version,
                setuid,
                owner_uid,
                user_writable,
                nosuid_mount,
            })
    };
    let binaries = subsequence(BWRAP_PATHS.to_vec(), 0..=3)
        .prop_flat_map(move |paths| paths.into_iter().map(binary).collect::<Vec<_>>());
    (
        binaries,
        prop::option::of(select(BWRAP_PATHS.to_vec())),
        prop::option::of(s(&["PATH", "codex bundled", "--bwrap"])),
    )
        .prop_map(|(binaries, selected, selected_by)| BwrapFacts {
            binaries,
            selected: selected.map(str::to_string),
            selected_by,
        })
        .boxed()
}

/// Every step a report can hold: the probe's own list.
const STEP_IDS: &[StepId] = nsdoctor::LADDER_STEPS;

fn step_result() -> BoxedStrategy<StepResult> {
    prop_oneof![
        4 => Just(StepResult::Ok),
        4 => errno().prop_map(|errno| StepResult::Failed { errno }),
        1 => s(&["SIGSYS", "SIGKILL"]).prop_map(|signal| StepResult::Killed { signal }),
        1 => s(&["an earlier step failed", "not needed"]).prop_map(|reason| StepResult::Skipped { reason }),
    ]
    .boxed()
}

fn step(id: StepId) -> BoxedStrategy<Step> {
    let data = prop::collection::btree_map(
        s(&["label", "cap_eff", "nlmsg_error", "note"]),
        s(&[
            "unprivileged_userns (enforce)",
            "bwrap//&unpriv_bwrap",
            "0000000000000000",
            "000001ffffffffff",
            "-1",
            "unconfined",
        ]),
        0..3,
    );
    (
        step_result(),
        data,
        s(&["unshare(CLONE_NEWUSER)", "write /proc/self/uid_map", "mount(\"proc\")", "socket(AF_NETLINK)"]),
    )
        .prop_map(move |(result, data, syscall)| Step { id, syscall, result, data })
        .boxed()
}

/// A subset of the ladder, in ladder order (step ids are unique).
fn steps() -> BoxedStrategy<Vec<Step>> {
    prop_oneof![
        1 => Just(Vec::new()),
        3 => subsequence(STEP_IDS.to_vec(), 0..=STEP_IDS.len()).prop_flat_map(|ids| ids.into_iter().map(step).collect::<Vec<_>>()),
    ]
    .boxed()
}

fn replay_exit() -> BoxedStrategy<ReplayExit> {
    prop_oneof![
        4 => select(vec![0, 1, 159, 127]).prop_map(|code| ReplayExit::Exited { code }),
        1 => s(&["SIGSYS", "SIGKILL"]).prop_map(|signal| ReplayExit::Signaled { signal }),
        1 => (1u32..10).prop_map(|seconds| ReplayExit::TimedOut { seconds }),
        1 => errno().prop_map(|errno| ReplayExit::SpawnFailed { errno }),
    ]
    .boxed()
}

/// Replays as the probe makes them: `sandbox` and `minimal`, at most once each, in either order.
fn replays() -> BoxedStrategy<Vec<Replay>> {
    subsequence(vec!["sandbox", "minimal"], 0..=2)
        .prop_flat_map(|names| {
            names
                .into_iter()
                .map(|name| {
                    (replay_exit(), text()).prop_map(move |(exit, stderr)| Replay {
                        name: name.to_string(),
                        argv: vec![
                            "bwrap".into(),
                            "--unshare-user".into(),
                            "--unshare-net".into(),
                            "--ro-bind".into(),
                            "/".into(),
                            "/".into(),
                            "true".into(),
                        ],
                        exit,
                        stderr,
                    })
                })
                .collect::<Vec<_>>()
        })
        .prop_shuffle()
        .boxed()
}

fn sandbox_config() -> BoxedStrategy<SandboxConfig> {
    let b = || prop::bool::weighted(0.8);
    (
        s(&["codex", "openclaw", "flatpak", "pressure-vessel", "sandbox-runtime"]),
        (b(), b(), b(), b(), b()),
        select(vec![NetworkMode::None, NetworkMode::Bridge, NetworkMode::Host, NetworkMode::Custom]),
        prop::option::of(s(&["/usr/bin/codex"])),
        prop::option::of(select(BWRAP_PATHS.to_vec()).prop_map(str::to_string)),
        prop::option::of(s(&["openclaw"])),
        select(vec![ServiceManager::None, ServiceManager::Systemd]),
        prop::option::of(s(&["openclaw-gateway.service"])),
        prop::option::of(select(vec![
            ContainerRuntime::Docker,
            ContainerRuntime::Podman,
            ContainerRuntime::Kubernetes,
            ContainerRuntime::Lxc,
            ContainerRuntime::Gvisor,
        ])),
        prop::collection::vec(s(&["--argv0", "--disable-userns", "--overlay", "--bogus"]), 0..2),
    )
        .prop_map(
            |(
                tool,
                (user, net, pid, mount, proc),
                network,
                launcher,
                bwrap_path,
                service_user,
                manager,
                unit,
                container_runtime,
                bwrap_options,
            )| SandboxConfig {
                tool,
                namespaces: Namespaces { user, net, pid, mount, proc },
                network,
                launcher,
                bwrap_path,
                service_user,
                manager,
                unit,
                container_runtime,
                bwrap_options,
            },
        )
        .boxed()
}

fn confinement() -> BoxedStrategy<Confinement> {
    (
        prop::option::of(s(&["steam", "steam-like", "snap.steam.steam"])),
        fs(&["steam (complain)", "steam (enforce)", "unconfined"]),
        fs(&["/usr/bin/steam", "/opt/app/app"]),
        fs(&["", "steam"]),
        fs(&["", "codex", "flatpak"]),
    )
        .prop_map(|(apparmor_profile, parent_label, parent_exe, snap, outer_sandbox)| Confinement {
            apparmor_profile_source: apparmor_profile.as_ref().map(|_| "--apparmor-profile".to_string()),
            apparmor_profile,
            parent_label,
            parent_exe,
            profiles_for_parent: Fact::NotProbed,
            snap,
            outer_sandbox,
        })
        .boxed()
}

fn report() -> BoxedStrategy<ProbeReport> {
    (
        (
            prop_oneof![3 => Just(SandboxConfig::default()), 2 => sandbox_config()],
            prop::option::of(s(&["default", "~/.codex/config.toml", "flags"])),
            kernel(),
            distro(),
            identity(),
            process(),
        ),
        (lsm(), sysctls(), apparmor(), platform(), unit(), bwrap()),
        (steps(), replays(), prop::option::weighted(0.4, text()), confinement()),
    )
        .prop_map(
            |(
                (config, config_source, kernel, distro, identity, process),
                (lsm, sysctl, apparmor, platform, unit, bwrap),
                (steps, replays, observed_error, confinement),
            )| ProbeReport {
                schema_version: SCHEMA_VERSION,
                producer: Some("proptest".to_string()),
                source: None,
                config,
                config_source,
                kernel,
                distro,
                identity,
                process,
                lsm,
                sysctl,
                apparmor,
                platform,
                unit,
                bwrap,
                confinement,
                steps,
                replays,
                observed_error,
            },
        )
        .boxed()
}

// ---------------------------------------------------------------------------------------------------------------
// Helpers

/// A small deterministic PRNG for permutations driven by a proptest-chosen seed.
struct Mix(u64);

impl Mix {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = (self.next() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

fn shuffle_fact<T>(f: &mut Fact<Vec<T>>, mix: &mut Mix) {
    if let Fact::Observed(v) = f {
        mix.shuffle(v);
    }
}

/// JSON text with every object's keys in a seed-chosen order (serde_json's own maps are sorted).
fn json_shuffled(v: &serde_json::Value, mix: &mut Mix, out: &mut String) {
    match v {
        serde_json::Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            mix.shuffle(&mut keys);
            out.push('{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&serde_json::to_string(k).unwrap());
                out.push(':');
                json_shuffled(&m[k], mix, out);
            }
            out.push('}');
        }
        serde_json::Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                json_shuffled(x, mix, out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

/// Rewrites every `/replays/N` in `s` to `/replays/map[N]`.
fn renumber_replays(s: &str, map: &[usize]) -> String {
    const P: &str = "/replays/";
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find(P) {
        out.push_str(&rest[..i + P.len()]);
        rest = &rest[i + P.len()..];
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        match rest[..digits].parse::<usize>().ok().and_then(|n| map.get(n)) {
            Some(m) => out.push_str(&m.to_string()),
            None => out.push_str(&rest[..digits]),
        }
        rest = &rest[digits..];
    }
    out.push_str(rest);
    out
}

/// The lines where two renderings differ (assertion messages).
fn diff(a: &str, b: &str) -> String {
    let (la, lb): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    let mut out = Vec::new();
    for i in 0..la.len().max(lb.len()) {
        let (x, y) = (la.get(i).copied().unwrap_or("<none>"), lb.get(i).copied().unwrap_or("<none>"));
        if x != y {
            out.push(format!("line {}:\n  - {x}\n  + {y}", i + 1));
        }
        if out.len() >= 6 {
            break;
        }
    }
    out.join("\n")
}

fn verdict_and_findings(d: &Diagnosis) -> (policy_core::Verdict, Vec<(String, policy_core::Severity)>) {
    (d.verdict, d.findings.iter().map(|f| (f.code.clone(), f.severity)).collect())
}

// ---------------------------------------------------------------------------------------------------------------
// Properties

proptest! {
    #![proptest_config(config(1000))]

    /// Total and deterministic; every renderer runs; the wasm JSON path equals the typed path.
    #[test]
    fn diagnose_is_total_and_deterministic(r in report(), cfg in prop::option::weighted(0.3, sandbox_config())) {
        let d1 = diagnose(&r, cfg.as_ref());
        let d2 = diagnose(&r.clone(), cfg.clone().as_ref());
        prop_assert_eq!(&d1, &d2);
        prop_assert!(!d1.headline.is_empty());
        for (i, f) in d1.findings.iter().enumerate() {
            prop_assert_eq!(f.rank as usize, i + 1);
            prop_assert_eq!(f.blocking, f.severity == policy_core::Severity::Error);
        }
        prop_assert_eq!(render::text(&d1, false), render::text(&d2, false));
        prop_assert_eq!(render::markdown(&d1), render::markdown(&d2));
        prop_assert_eq!(render::html(&d1), render::html(&d2));
        let json = render::json(&d1);
        prop_assert_eq!(&json, &render::json(&d2));
        let report_json = serde_json::to_string(&r).unwrap();
        let cfg_json = cfg.as_ref().map(|c| serde_json::to_string(c).unwrap());
        prop_assert_eq!(diagnose_json(report_json.as_bytes(), cfg_json.as_deref()), json);
    }

    /// Permuting arrays whose order means nothing, and JSON key order, leaves the diagnosis byte-identical.
    #[test]
    fn order_without_meaning_does_not_change_the_output(r in report(), seed in any::<u64>()) {
        let want = render::json(&diagnose(&r, None));
        let mut mix = Mix(seed);

        let mut p = r.clone();
        mix.shuffle(&mut p.bwrap.binaries);
        shuffle_fact(&mut p.identity.groups, &mut mix);
        shuffle_fact(&mut p.distro.id_like, &mut mix);
        shuffle_fact(&mut p.lsm.active, &mut mix);
        shuffle_fact(&mut p.apparmor.loaded_profiles, &mut mix);
        shuffle_fact(&mut p.platform.proc_masks, &mut mix);
        let got = render::json(&diagnose(&p, None));
        prop_assert!(got == want, "arrays permuted:\n{}", diff(&want, &got));

        // JSON key order (= insertion order of `steps[].data` and `apparmor.profiles_for_bwrap`).
        let mut text = String::new();
        json_shuffled(&serde_json::to_value(&r).unwrap(), &mut mix, &mut text);
        let got = diagnose_json(text.as_bytes(), None);
        prop_assert!(got == want, "JSON keys shuffled:\n{}", diff(&want, &got));
    }

    /// Replays permuted: the same diagnosis once `/replays/N` pointers are renumbered.
    #[test]
    fn replay_order_does_not_change_the_output(r in report(), seed in any::<u64>()) {
        let want = render::json(&diagnose(&r, None));
        let mut order: Vec<usize> = (0..r.replays.len()).collect();
        Mix(seed).shuffle(&mut order);
        let mut p = r.clone();
        p.replays = order.iter().map(|&i| r.replays[i].clone()).collect();
        // Position j of the permuted report holds replay order[j] of the original.
        let got = renumber_replays(&render::json(&diagnose(&p, None)), &order);
        prop_assert!(got == want, "replays in order {:?}:\n{}", order, diff(&want, &got));
    }

    /// An unrelated healthy fact never changes the verdict (nor which findings there are, at which severity).
    /// The fact is first made not-probed, then observed healthy; `which == 5` adds all of them at once.
    #[test]
    fn an_unrelated_healthy_fact_never_changes_the_verdict(r in report(), abi in 1u32..7, arch in s(&["x86_64", "aarch64"]), which in 0usize..6) {
        let mut base = r.clone();
        base.steps.retain(|s| s.id != StepId::Landlock);
        let has_ladder = !base.steps.is_empty();
        if !has_ladder {
            // Removing the only step would have turned a probe into a text-only report: keep the original.
            base.steps = r.steps.clone();
        }
        let mut added = base.clone();
        for w in 0..5 {
            if which != w && which != 5 {
                continue;
            }
            match w {
                0 => { base.lsm.landlock_abi = Fact::NotProbed; added.lsm.landlock_abi = Fact::Observed(abi); }
                1 => { base.kernel.arch = Fact::NotProbed; added.kernel.arch = Fact::Observed(arch.clone()); }
                2 => { base.distro.pretty_name = Fact::NotProbed; added.distro.pretty_name = Fact::Observed("Some Linux 1.0".into()); }
                3 => { base.identity.user = Fact::NotProbed; added.identity.user = Fact::Observed("alice".into()); }
                // A healthy step only where a ladder ran (a first step would turn a text-only report into a probe).
                _ if has_ladder => {
                    let rank = |id: StepId| STEP_IDS.iter().position(|x| *x == id);
                    let at = added.steps.iter().position(|s| rank(s.id) > rank(StepId::Landlock)).unwrap_or(added.steps.len());
                    added.steps.insert(at, Step { id: StepId::Landlock, syscall: "landlock_create_ruleset(NULL, 0, VERSION)".into(), result: StepResult::Ok, data: BTreeMap::new() });
                }
                _ => {}
            }
        }
        let (before, after) = (diagnose(&base, None), diagnose(&added, None));
        prop_assert_eq!(before.verdict, after.verdict);
        prop_assert_eq!(verdict_and_findings(&before), verdict_and_findings(&after));
    }
}

#[test]
fn renumbering_helper() {
    assert_eq!(
        renumber_replays("/replays/0/stderr (line 2) and /replays/1/exit, /replays/x", &[1, 0]),
        "/replays/1/stderr (line 2) and /replays/0/exit, /replays/x"
    );
}

#[test]
fn the_generator_covers_the_interesting_shapes() {
    // Sanity: the strategy produces blocked, degraded and ok verdicts and text-only, static and probe inputs.
    use proptest::strategy::ValueTree;
    let mut runner = proptest::test_runner::TestRunner::new(config(1));
    let strategy = report();
    let mut verdicts = std::collections::BTreeSet::new();
    let mut inputs = std::collections::BTreeSet::new();
    for _ in 0..300 {
        let r = strategy.new_tree(&mut runner).unwrap().current();
        let d = diagnose(&r, None);
        verdicts.insert(d.verdict);
        inputs.insert(format!("{:?}", d.input));
    }
    assert_eq!(verdicts.len(), 3, "{verdicts:?}");
    assert_eq!(inputs.len(), 3, "{inputs:?}");
}

// ---------------------------------------------------------------------------------------------------------------
// Counterexamples the properties found, fixed in the engine (kept as plain tests).

fn report_json(extra: &str) -> ProbeReport {
    policy_core::input::parse_report(format!(r#"{{"schema_version":1,{extra}}}"#).as_bytes()).unwrap()
}

fn replay(name: &str, code: i32, stderr: &str) -> String {
    format!(
        r#"{{"name":"{name}","argv":["bwrap"],"exit":{{"kind":"exited","code":{code}}},"stderr":{}}}"#,
        serde_json::to_string(stderr).unwrap()
    )
}

/// Both replays print the same symptom: the sandbox's own line is the evidence, whichever replay is listed first
/// (the engine used the first replay's, so the order decided whether the finding got the sandbox-replay rank).
#[test]
fn counterexample_same_symptom_in_both_replays() {
    let (a, b) = (
        replay("sandbox", 0, "bwrap: capset failed: Operation not permitted"),
        replay("minimal", 0, "codex: bwrap: capset failed: Operation not permitted"),
    );
    let facts =
        r#""kernel":{"userns_supported":{"observed":false}},"identity":{"uid":{"observed":0},"euid":{"observed":0}},"#;
    let one = diagnose(&report_json(&format!(r#"{facts}"replays":[{a},{b}]"#)), None);
    let two = diagnose(&report_json(&format!(r#"{facts}"replays":[{b},{a}]"#)), None);
    let codes = |d: &Diagnosis| d.findings.iter().map(|f| f.code.clone()).collect::<Vec<_>>();
    assert_eq!(codes(&one)[..2], ["NSD161", "NSD172"], "the sandbox's capset failure outranks the kernel candidate");
    assert_eq!(codes(&one), codes(&two));
    assert_eq!(renumber_replays(&render::json(&two), &[1, 0]), render::json(&one));
}

/// Both replays killed by SIGSYS: NSD143 cites the sandbox's run, whichever is listed first.
#[test]
fn counterexample_both_replays_killed_by_sigsys() {
    let (a, b) = (replay("sandbox", 159, ""), replay("minimal", 159, ""));
    let facts = r#""sysctl":{"max_net_namespaces":{"observed":0}},"unit":{"system_call_filter":{"observed":"@system-service"}},"#;
    let one = diagnose(&report_json(&format!(r#"{facts}"replays":[{a},{b}]"#)), None);
    let two = diagnose(&report_json(&format!(r#"{facts}"replays":[{b},{a}]"#)), None);
    assert!(
        one.findings.iter().any(|f| f.code == "NSD143" && f.evidence.iter().any(|e| e.pointer == "/replays/0/exit"))
    );
    assert_eq!(renumber_replays(&render::json(&two), &[1, 0]), render::json(&one));
}

/// `platform.proc_masks` is evidence for NSD134; it is shown sorted whatever order the report lists it in.
#[test]
fn counterexample_proc_masks_order() {
    let step = r#""steps":[{"id":"proc-mount","syscall":"mount(proc)","result":{"outcome":"failed","errno":{"name":"EPERM","number":1}}}]"#;
    let one = diagnose(
        &report_json(&format!(r#""platform":{{"proc_masks":{{"observed":["/proc/acpi","/proc/kcore"]}}}},{step}"#)),
        None,
    );
    let two = diagnose(
        &report_json(&format!(r#""platform":{{"proc_masks":{{"observed":["/proc/kcore","/proc/acpi"]}}}},{step}"#)),
        None,
    );
    assert_eq!(one, two);
    assert!(render::text(&one, false).contains("/proc/acpi /proc/kcore"));
}
