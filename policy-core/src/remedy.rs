//! Remediation builders, least privilege first. Distro-aware where the fix differs (Ubuntu releases ship
//! different AppArmor profiles; Debian ≤ 10 defaults `unprivileged_userns_clone` to 0; RHEL 7 differs from 8+).
//! Facts and commands: the distributions' documentation and the kernel and upstream sources cited at each builder.

use crate::ctx::Ctx;
use crate::diagnosis::{Artifact, ArtifactKind, Remediation};

fn rem(id: &str, title: &str, needs_root: bool, persists: bool, trade_off: &str) -> Remediation {
    Remediation {
        id: id.to_string(),
        title: title.to_string(),
        needs_root,
        persists,
        trade_off: trade_off.to_string(),
        commands: Vec::new(),
        files: Vec::new(),
        verify: Vec::new(),
    }
}

fn file(kind: ArtifactKind, path: &str, content: &str) -> Artifact {
    Artifact { kind, path: path.to_string(), content: content.to_string() }
}

impl Remediation {
    fn cmd(mut self, c: impl Into<String>) -> Self {
        self.commands.push(c.into());
        self
    }
    fn file(mut self, a: Artifact) -> Self {
        self.files.push(a);
        self
    }
    fn verify(mut self, c: impl Into<String>) -> Self {
        self.verify.push(c.into());
        self
    }
}

/// Quotes a path for a shell command (single quotes unless it is plain).
fn sh(p: &str) -> String {
    if !p.is_empty() && p.chars().all(|c| c.is_ascii_alphanumeric() || "/._-+:@%".contains(c)) {
        p.to_string()
    } else {
        format!("'{}'", p.replace('\'', "'\\''"))
    }
}

/// The command that proves the sandbox works, per tool.
pub(crate) fn sandbox_test(ctx: &Ctx) -> String {
    match ctx.cfg.tool.as_str() {
        "codex" => "codex sandbox linux -- /bin/true".to_string(),
        _ => format!(
            "{} --unshare-user --unshare-pid --unshare-net --ro-bind / / --dev /dev --proc /proc -- /bin/true",
            sh(&ctx.bwrap_path())
        ),
    }
}

/// A profile name derived from the tool, never `bwrap` (that would replace Ubuntu's stock profile).
fn profile_name(ctx: &Ctx) -> String {
    let tool: String = ctx.cfg.tool.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
    let tool = if tool.is_empty() || tool == "bwrap" { "sandbox".to_string() } else { tool.to_ascii_lowercase() };
    format!("{tool}-bwrap")
}

fn verify_sandbox(r: Remediation, ctx: &Ctx) -> Remediation {
    verify_path(r, ctx, &ctx.bwrap_path())
}

fn verify_path(r: Remediation, ctx: &Ctx, path: &str) -> Remediation {
    r.verify(format!("nsdoctor check --bwrap {}", sh(path))).verify(sandbox_test(ctx))
}

/// An AppArmor 4 profile that gives `target` unrestricted user namespaces and nothing else (`flags=(unconfined)`).
fn userns_profile(name: &str, target: &str, note: &str) -> String {
    format!(
        "# nsdoctor: let {target} create user namespaces under Ubuntu's AppArmor restriction.\n\
         # Attach only to a root-owned, non-user-writable path{note}.\n\
         abi <abi/4.0>,\n\
         include <tunables/global>\n\
         \n\
         profile {name} {target} flags=(unconfined) {{\n\
         \x20 userns,\n\
         \n\
         \x20 include if exists <local/{name}>\n\
         }}\n"
    )
}

/// Stops the commands when another profile file already attaches to `target`: two equally specific
/// attachments make the kernel attach neither (security/apparmor/domain.c, openai/codex#38715).
fn attach_guard(target: &str, ours: &str) -> String {
    format!(
        "! sudo grep -lsE '^[[:space:]]*profile[[:space:]]+[^[:space:]]+[[:space:]]+{}([[:space:]]|[{{])' /etc/apparmor.d/* | grep -vqx {}   # stop if another profile attaches here",
        target.replace('.', "\\."),
        sh(ours)
    )
}

/// The host-wide switch-off of Ubuntu's restriction (the last resort in both AppArmor ladders).
fn sysctl_restriction_off() -> Remediation {
    let conf = "# nsdoctor: turn off Ubuntu's AppArmor restriction of unprivileged user namespaces (host-wide).\nkernel.apparmor_restrict_unprivileged_userns = 0\n";
    rem(
        "sysctl-disable-apparmor-userns-restriction",
        "Turn the restriction off host-wide",
        true,
        true,
        "re-opens unprivileged user namespaces to every process on the host (the kernel attack surface the restriction was added to close, e.g. nf_tables exploits).",
    )
    .file(file(ArtifactKind::SysctlD, "/etc/sysctl.d/60-nsdoctor-apparmor-userns.conf", conf))
    .cmd("sudo sysctl -p /etc/sysctl.d/60-nsdoctor-apparmor-userns.conf")
}

/// Ubuntu's AppArmor userns restriction: profile the exact bwrap → sysctl → Landlock fallback.
pub(crate) fn apparmor_restriction(ctx: &Ctx) -> Vec<Remediation> {
    let mut out = Vec::new();
    if !ctx.uses_bwrap() {
        return apparmor_restriction_for_program(ctx);
    }
    // A profile already attaching to this path: a second one would cancel both (NSD104). Extend the one there.
    let existing = match ctx.bwrap_attach() {
        crate::ctx::Attach::Conflict(list) => return attachment_conflict(ctx, &list),
        crate::ctx::Attach::One(name, file) => Some((name.to_string(), file.to_string())),
        crate::ctx::Attach::None => None,
    };
    let path = ctx.bwrap_path();
    let usr_bin = path == "/usr/bin/bwrap";
    let ver = ctx.ubuntu_version();
    let safe_path = ctx.bwrap_path_is_root_owned();
    // After `install-system-bwrap` the sandbox runs /usr/bin/bwrap: verify that one.
    let vpath = if safe_path { path.clone() } else { "/usr/bin/bwrap".to_string() };

    if !safe_path {
        out.push(
            rem(
                "install-system-bwrap",
                "Install the distribution's bubblewrap so the sandbox uses a root-owned /usr/bin/bwrap",
                true,
                true,
                "none for the sandbox (Codex prefers bwrap on PATH); the bundled or user-writable copy is left unused. \
                 An AppArmor profile must never attach to a user-writable path: any local user could drop a binary there and escape the restriction.",
            )
            .cmd("sudo apt-get install -y bubblewrap")
            .verify("command -v bwrap   # expect /usr/bin/bwrap"),
        );
    }
    // Ubuntu 24.04/24.10 ship bwrap-userns-restrict as an extra profile; 25.04+ load it by default.
    if (usr_bin || !safe_path) && existing.as_ref().is_none_or(|(n, _)| n == "bwrap") {
        match ver {
            Some(v) if v >= 2504 => out.push(
                verify_path(
                    rem(
                        "reload-stock-bwrap-profile",
                        "Load Ubuntu's stock bwrap-userns-restrict profile (shipped enabled since 25.04)",
                        true,
                        true,
                        "keeps the host-wide restriction; processes bwrap starts are stacked with `unpriv_bwrap` and have no capabilities, so nested sandboxes inside the sandbox fail.",
                    )
                    .cmd("sudo apparmor_parser -r /etc/apparmor.d/bwrap-userns-restrict")
                    .verify("sudo aa-status | grep -E 'bwrap|unpriv_bwrap'"),
                    ctx,
                    &vpath,
                ),
            ),
            Some(v) if v >= 2404 => out.push(
                verify_path(
                    rem(
                        "enable-stock-bwrap-profile",
                        "Enable Ubuntu's bwrap-userns-restrict profile from apparmor-profiles",
                        true,
                        true,
                        "keeps the host-wide restriction; processes bwrap starts are stacked with `unpriv_bwrap` and have no capabilities, so nested sandboxes inside the sandbox fail (it was briefly shipped enabled in 24.04 and reverted for breaking Flatpak file saves, LP #2072811).",
                    )
                    .cmd("sudo apt-get install -y apparmor-profiles apparmor-utils")
                    .cmd("sudo install -m 0644 /usr/share/apparmor/extra-profiles/bwrap-userns-restrict /etc/apparmor.d/bwrap-userns-restrict")
                    .cmd("sudo apparmor_parser -r /etc/apparmor.d/bwrap-userns-restrict")
                    .verify("sudo aa-status | grep -E 'bwrap|unpriv_bwrap'"),
                    ctx,
                    &vpath,
                ),
            ),
            _ => {}
        }
    }
    let target = if safe_path { path.clone() } else { "/usr/bin/bwrap".to_string() };
    if let Some((name, pfile)) = existing.filter(|(n, _)| *n != profile_name(ctx)) {
        out.push(verify_path(
            rem(
                &format!("add-userns-to-{name}"),
                &format!("Allow `userns,` in `{name}`, the profile that already attaches to {target} (a second profile for the path would cancel both)"),
                true,
                true,
                &format!("the programs `{name}` confines regain user namespaces; its other rules stay. It must be `flags=(unconfined)` or allow everything bwrap does."),
            )
            .cmd(local_userns(&name))
            .cmd(format!("sudo apparmor_parser -r {}", sh(&pfile)))
            .verify(format!("sudo aa-status | grep -F '{name}'")),
            ctx,
            &vpath,
        ));
        out.push(verify_path(sysctl_restriction_off(), ctx, &vpath));
        out.extend(landlock_fallback(ctx));
        return out;
    }
    let name = profile_name(ctx);
    let profile = userns_profile(&name, &target, "");
    let ppath = format!("/etc/apparmor.d/{name}");
    out.push(verify_path(
        rem(
            "apparmor-profile-for-bwrap",
            &format!("Give {target} its own AppArmor profile that allows `userns`"),
            true,
            true,
            "only this binary regains unprivileged user namespaces with full in-namespace capabilities (the pre-23.10 behaviour for it); every other program stays restricted. Needs AppArmor 4.0 userspace (abi/4.0).",
        )
        .file(file(ArtifactKind::ApparmorProfile, &ppath, &profile))
        .cmd(attach_guard(&target, &ppath))
        .cmd(format!("sudo apparmor_parser -r {ppath}"))
        .verify(format!("sudo aa-status | grep {name}")),
        ctx,
        &vpath,
    ));
    out.push(verify_path(sysctl_restriction_off(), ctx, &vpath));
    out.extend(landlock_fallback(ctx));
    out
}

/// Programs that create their own namespaces (Chromium/Electron): profile that binary, or use its setuid helper.
fn apparmor_restriction_for_program(ctx: &Ctx) -> Vec<Remediation> {
    let target = ctx.userns_binary();
    let placeholder = target.starts_with("/path/to/");
    let name = profile_name(ctx).replace("-bwrap", "-userns");
    let profile = userns_profile(
        &name,
        &target,
        if placeholder { "; replace the placeholder with the program's real path" } else { "" },
    );
    let ppath = format!("/etc/apparmor.d/{name}");
    let mut out = vec![
        rem(
            "apparmor-profile-for-program",
            &format!("Give {target} its own AppArmor profile that allows `userns`"),
            true,
            true,
            "only this program regains unprivileged user namespaces; everything else stays restricted. Needs AppArmor 4.0 userspace. Never attach it to a user-writable path (AppImages, extracted archives in $HOME).",
        )
        .file(file(ArtifactKind::ApparmorProfile, &ppath, &profile))
        .cmd(attach_guard(&target, &ppath))
        .cmd(format!("sudo apparmor_parser -r {ppath}"))
        .verify(format!("sudo aa-status | grep {name}")),
    ];
    out.push(sysctl_restriction_off());
    out
}

/// The confined-profile / missing-`unprivileged_userns` case: EACCES at create.
pub(crate) fn apparmor_create_denied(ctx: &Ctx) -> Vec<Remediation> {
    let mut out = Vec::new();
    let label = ctx.label().unwrap_or("unconfined");
    if label.starts_with("unconfined") {
        out.push(
            rem(
                "reload-apparmor",
                "Reload AppArmor so the `unprivileged_userns` profile is loaded",
                true,
                false,
                "none: this restores the distribution's intended state (unshare then succeeds and transitions).",
            )
            .cmd("sudo systemctl reload apparmor")
            .verify("sudo aa-status | grep unprivileged_userns"),
        );
    } else {
        let prof = label.split(" (").next().unwrap_or(label).to_string();
        out.push(
            rem(
                "add-userns-to-profile",
                &format!("Allow `userns,` in the confining profile `{prof}`"),
                true,
                true,
                "the confined program may create user namespaces; the rest of its profile still applies.",
            )
            .cmd(format!("sudo aa-status | grep -F '{prof}'   # find the profile file"))
            .cmd("echo 'userns,' | sudo tee -a /etc/apparmor.d/local/<that profile>")
            .cmd("sudo apparmor_parser -r /etc/apparmor.d/<that profile>"),
        );
    }
    out.extend(apparmor_restriction(ctx));
    out
}

pub(crate) fn landlock_fallback(ctx: &Ctx) -> Vec<Remediation> {
    match ctx.r.lsm.landlock_abi.get() {
        Some(abi) if *abi >= 1 && ctx.cfg.tool == "codex" => vec![
            rem(
                "codex-landlock-fallback",
                &format!("Without root: use Codex's Landlock sandbox (Landlock ABI {abi} is available)"),
                false,
                false,
                "no private /proc and no namespace isolation; file-system confinement by Landlock and network by seccomp only.",
            )
            .cmd("codex sandbox linux --enable use_legacy_landlock -- pwd"),
        ],
        _ => Vec::new(),
    }
}

pub(crate) fn userns_clone_sysctl(ctx: &Ctx) -> Vec<Remediation> {
    let mut out = Vec::new();
    let conf = "# nsdoctor: allow unprivileged user namespaces (Debian/Arch kernel patch).\nkernel.unprivileged_userns_clone = 1\n";
    let mut r = rem(
        "sysctl-enable-userns-clone",
        "Allow unprivileged user namespaces",
        true,
        true,
        "every local user can create user namespaces again (more kernel attack surface); it is the default on Debian 11 and newer.",
    );
    if ctx.distro_id() == Some("debian") && ctx.version_major().is_some_and(|v| v >= 11) {
        r = r.cmd("grep -rn unprivileged_userns_clone /etc/sysctl.conf /etc/sysctl.d /usr/lib/sysctl.d   # find who set it to 0");
    }
    out.push(verify_sandbox(
        r.file(file(ArtifactKind::SysctlD, "/etc/sysctl.d/60-nsdoctor-userns-clone.conf", conf))
            .cmd("sudo sysctl -p /etc/sysctl.d/60-nsdoctor-userns-clone.conf"),
        ctx,
    ));
    if ctx.kernel_release().is_some_and(|k| k.contains("hardened")) {
        out.push(rem(
            "setuid-bwrap",
            "linux-hardened: use a setuid bwrap (Arch `bubblewrap-suid`) instead of unprivileged user namespaces",
            true,
            true,
            "setuid bwrap clones with CAP_SYS_ADMIN, so the switch no longer stops it; but it is deprecated upstream, refuses some options, and every user gets a root-run helper.",
        ));
    }
    if ctx.distro_id() == Some("debian") && ctx.version_major().is_some_and(|v| v <= 10) {
        out.push(rem(
            "upgrade-debian",
            "Upgrade to Debian 11 or newer, whose kernels allow unprivileged user namespaces by default",
            true,
            true,
            "a release upgrade.",
        ));
    }
    out
}

pub(crate) fn userns_limits(ctx: &Ctx, keys: &[&str]) -> Vec<Remediation> {
    let mut out = Vec::new();
    if ctx.rhel7() {
        out.push(
            rem(
                "rhel7-enable-userns",
                "RHEL/CentOS 7: enable user namespaces on the kernel command line, then raise the limit",
                true,
                true,
                "needs a reboot; re-enables user namespaces for all users.",
            )
            .cmd("sudo grubby --args='namespace.unpriv_enable=1 user_namespace.enable=1' --update-kernel=ALL"),
        );
    }
    let mut body =
        String::from("# nsdoctor: allow the user namespaces the sandbox creates (bwrap makes one of each per run).\n");
    for k in keys {
        body.push_str(&format!("user.{k} = 15000\n"));
    }
    out.push(verify_sandbox(
        rem(
            "sysctl-raise-namespace-limits",
            "Raise the namespace limits",
            true,
            true,
            "re-enables user namespaces that a hardening baseline (STIG/CIS, `security.allowUserNamespaces=false` on NixOS) turned off on purpose; check with whoever set it.",
        )
        .cmd("grep -rn max_ /etc/sysctl.conf /etc/sysctl.d /usr/lib/sysctl.d   # find who set it")
        .file(file(ArtifactKind::SysctlD, "/etc/sysctl.d/60-nsdoctor-userns-limits.conf", &body))
        .cmd("sudo sysctl -p /etc/sysctl.d/60-nsdoctor-userns-limits.conf"),
        ctx,
    ));
    out
}

pub(crate) fn network_not_needed(ctx: &Ctx) -> Remediation {
    let _ = ctx;
    rem(
        "sandbox-network-on",
        "Or: let the sandbox keep the host network (no new net namespace)",
        false,
        true,
        "sandboxed commands can reach the network; Codex: `[sandbox_workspace_write] network_access = true` in ~/.codex/config.toml.",
    )
}

pub(crate) fn nested(ctx: &Ctx) -> Vec<Remediation> {
    let mut out = vec![rem(
        "run-outside-outer-sandbox",
        "Run the agent outside the outer sandbox (e.g. `flatpak-spawn --host`, or a terminal outside the IDE's sandbox)",
        false,
        false,
        "the agent's own sandbox then runs on the host, where its namespaces are allowed.",
    )];
    if ctx.cfg.tool == "codex" {
        out.push(rem(
            "outer-sandbox-is-the-sandbox",
            "Or treat the outer sandbox as the sandbox: run Codex with its inner sandbox off inside it",
            false,
            false,
            "no per-command isolation beyond what the outer sandbox gives.",
        ));
    }
    out
}

fn unit_name(ctx: &Ctx) -> String {
    ctx.unit_name().unwrap_or_else(|| "<your-service>.service".to_string())
}

fn dropin(ctx: &Ctx, id: &str, title: &str, trade_off: &str, body: &str) -> Remediation {
    let unit = unit_name(ctx);
    let path = format!("/etc/systemd/system/{unit}.d/60-nsdoctor.conf");
    verify_sandbox(
        rem(id, title, true, true, trade_off)
            .file(file(ArtifactKind::SystemdDropin, &path, &format!("# nsdoctor: {title}\n[Service]\n{body}")))
            .cmd(format!("sudo systemctl daemon-reload && sudo systemctl restart {}", sh(&unit))),
        ctx,
    )
    .verify(format!("systemctl show {} -p RestrictNamespaces -p SystemCallFilter -p RestrictAddressFamilies -p ProtectKernelTunables -p ProcSubset", sh(&unit)))
}

pub(crate) fn unit_restrict_namespaces(ctx: &Ctx) -> Vec<Remediation> {
    vec![dropin(
        ctx,
        "systemd-allow-namespaces",
        "Allow the namespaces bwrap needs in the unit",
        "the service may create user, mount, pid and net namespaces (lists are ORed with the unit's own RestrictNamespaces=).",
        "RestrictNamespaces=user mnt pid net\n",
    )]
}

pub(crate) fn unit_address_families(ctx: &Ctx) -> Vec<Remediation> {
    let mut v = vec![dropin(
        ctx,
        "systemd-allow-netlink",
        "Allow AF_NETLINK so bwrap can bring up loopback",
        "the service may open netlink sockets (it can only change its own network namespaces without CAP_NET_ADMIN on the host).",
        "RestrictAddressFamilies=AF_NETLINK\n",
    )];
    v.push(network_not_needed(ctx));
    v
}

pub(crate) fn unit_syscall_kill(ctx: &Ctx) -> Vec<Remediation> {
    vec![dropin(
        ctx,
        "systemd-allow-mount-syscalls",
        "Allow the mount syscalls bwrap uses and make denials visible",
        "the service may call mount/umount2/pivot_root (inside its own namespaces); EPERM instead of SIGSYS makes future denials diagnosable.",
        "SystemCallFilter=@mount\nSystemCallErrorNumber=EPERM\n",
    )]
}

pub(crate) fn unit_syscall_errno(ctx: &Ctx) -> Vec<Remediation> {
    vec![dropin(
        ctx,
        "systemd-relax-syscall-filter",
        "Stop filtering the syscalls bwrap needs (RestrictSUIDSGID= filters openat2; SystemCallFilter= lists)",
        "the service may create setuid/setgid files again, or call the re-allowed syscalls; prefer a bubblewrap built with its openat2 fallback if that is available.",
        "RestrictSUIDSGID=no\nSystemCallFilter=@mount openat2\n",
    )]
}

pub(crate) fn unit_proc(ctx: &Ctx, subset: bool) -> Vec<Remediation> {
    let mut v = Vec::new();
    if subset {
        v.push(dropin(
            ctx,
            "systemd-proc-subset-all",
            "Show the full /proc to the service",
            "the service can read /proc/sys and other non-process files again.",
            "ProcSubset=all\n",
        ));
    } else {
        v.push(dropin(
            ctx,
            "systemd-protect-kernel-tunables-off",
            "Stop over-mounting /proc/sys so a new procfs may be mounted",
            "the service sees a writable-looking /proc/sys (writes still need privileges).",
            "ProtectKernelTunables=no\n",
        ));
    }
    if ctx.cfg.tool == "codex" {
        v.push(rem(
            "codex-no-proc",
            "Or keep the hardening and run the sandbox without a private /proc (Codex `--no-proc`)",
            false,
            false,
            "sandboxed commands see the service's /proc.",
        ));
    }
    v
}

pub(crate) fn container_seccomp(ctx: &Ctx) -> Vec<Remediation> {
    let mut v = Vec::new();
    if ctx.cfg.tool == "codex" {
        v.push(rem(
            "container-is-the-sandbox",
            "Treat the container as the sandbox: run Codex with its inner sandbox off in this container",
            false,
            false,
            "no per-command isolation inside the container; the container's own isolation remains.",
        ));
    }
    let k8s = ctx.container() == Some("kubernetes");
    if k8s {
        let yaml = "# nsdoctor: let bwrap create namespaces in this pod (Localhost profiles you install on the node)\nspec:\n  hostUsers: false\n  containers:\n    - name: agent\n      securityContext:\n        seccompProfile:\n          type: Localhost\n          localhostProfile: profiles/bwrap-seccomp.json\n        appArmorProfile:\n          type: Localhost\n          localhostProfile: bwrap-container\n        procMount: Unmasked\n";
        v.push(rem(
            "kubernetes-localhost-profiles",
            "Kubernetes: use Localhost seccomp/AppArmor profiles that allow unshare, mount and pivot_root, with an unmasked /proc",
            true,
            true,
            "the pod may create namespaces; `procMount: Unmasked` needs `hostUsers: false` and is refused by the baseline/restricted Pod Security levels. You write the two Localhost profiles: the runtime's default seccomp profile plus unshare/clone with namespace flags, mount, umount2 and pivot_root; an AppArmor profile allowing userns, mount, umount and pivot_root.",
        ).file(file(ArtifactKind::Kubernetes, "pod-security-context.yaml", yaml)));
    } else {
        let compose = "# nsdoctor: let bwrap create namespaces in this container\nservices:\n  agent:\n    security_opt:\n      - seccomp=unconfined\n      - apparmor=unconfined\n      - systempaths=unconfined\n";
        v.push(
            rem(
                "docker-unconfined-seccomp",
                "Run the container without the default seccomp and AppArmor profiles and with an unmasked /proc",
                true,
                true,
                "the container may create namespaces and see an unmasked /proc; `--cap-add SYS_ADMIN` alone is not enough (AppArmor `deny mount`, seccomp lacks pivot_root). Safer: a custom seccomp profile = Docker's default plus unshare/clone with namespace flags, mount, umount2, pivot_root.",
            )
            .file(file(ArtifactKind::DockerRun, "docker-run-flags.txt", "docker run --security-opt seccomp=unconfined --security-opt apparmor=unconfined --security-opt systempaths=unconfined …\n"))
            .file(file(ArtifactKind::Compose, "compose.yaml", compose)),
        );
    }
    v.push(rem(
        "privileged-container",
        "Last resort: a privileged container",
        true,
        true,
        "the container is roughly host root.",
    ));
    v
}

pub(crate) fn container_no_caps(ctx: &Ctx) -> Vec<Remediation> {
    let mut v = vec![rem(
        "use-unshare-user",
        "Create a user namespace first (bwrap `--unshare-user`; Codex does since openai/codex#13624)",
        false,
        true,
        "none where the container's seccomp profile allows user namespaces (Podman's default, seccomp=unconfined); under Docker's default profile creating the user namespace is refused too, so apply the next fix as well.",
    )];
    if ctx.cfg.tool == "codex" {
        v.push(rem(
            "upgrade-codex",
            "Upgrade Codex to a release that always passes --unshare-user",
            false,
            true,
            "none.",
        ));
    }
    v.extend(container_seccomp(ctx));
    v
}

pub(crate) fn container_apparmor(ctx: &Ctx) -> Vec<Remediation> {
    let _ = ctx;
    vec![
        rem(
            "container-apparmor-custom",
            "Give the container an AppArmor profile that allows mount, umount, pivot_root and userns",
            true,
            true,
            "the container may mount inside its own namespaces.",
        )
        .file(file(
            ArtifactKind::DockerRun,
            "docker-run-flags.txt",
            "docker run --security-opt apparmor=<profile allowing mount> …\n",
        )),
        rem(
            "container-apparmor-unconfined",
            "Or run the container with `--security-opt apparmor=unconfined`",
            true,
            true,
            "no AppArmor confinement for the container.",
        )
        .file(file(
            ArtifactKind::Compose,
            "compose.yaml",
            "services:\n  agent:\n    security_opt:\n      - apparmor=unconfined\n",
        )),
    ]
}

pub(crate) fn proc_masked(ctx: &Ctx) -> Vec<Remediation> {
    let mut v = Vec::new();
    if ctx.cfg.tool == "codex" {
        v.push(rem(
            "codex-no-proc",
            "Run the sandbox without a private /proc (Codex `--no-proc`)",
            false,
            false,
            "sandboxed commands see the outer /proc.",
        ));
    }
    match ctx.container() {
        Some("podman") => v.push(rem(
            "podman-unmask",
            "Podman: `--security-opt unmask=ALL` (or `unmask=/proc/*`)",
            true,
            true,
            "the container sees an unmasked /proc.",
        )),
        Some("kubernetes") => v.push(rem(
            "kubernetes-proc-unmasked",
            "Kubernetes: `securityContext.procMount: Unmasked` with `hostUsers: false`",
            true,
            true,
            "refused by baseline/restricted Pod Security levels.",
        )),
        Some("lxc") => v.push(rem(
            "lxc-nesting",
            "LXC/Crostini: `lxc config set <container> security.nesting true`, then restart it",
            true,
            true,
            "the container may nest containers.",
        )),
        _ => v.push(
            rem(
                "docker-systempaths",
                "Docker: `--security-opt systempaths=unconfined`",
                true,
                true,
                "the container sees an unmasked /proc.",
            )
            .file(file(
                ArtifactKind::Compose,
                "compose.yaml",
                "services:\n  agent:\n    security_opt:\n      - systempaths=unconfined\n",
            )),
        ),
    }
    v
}

pub(crate) fn gvisor(ctx: &Ctx) -> Vec<Remediation> {
    vec![
        network_not_needed(ctx),
        rem(
            "upgrade-gvisor",
            "Upgrade runsc once loopback in new network namespaces is fixed (google/gvisor#13471)",
            true,
            true,
            "none.",
        ),
    ]
}

pub(crate) fn selinux(ctx: &Ctx) -> Vec<Remediation> {
    let mut v = vec![
        rem(
            "selinux-module",
            "Allow `user_namespace create` for the confining domain with a local policy module",
            true,
            true,
            "that domain may create user namespaces; never `setenforce 0` host-wide.",
        )
        .cmd("sudo ausearch -m AVC -ts recent -c bwrap")
        .cmd("sudo ausearch -m AVC -ts recent -c bwrap | audit2allow -M nsdoctor_userns")
        .cmd("sudo semodule -i nsdoctor_userns.pp"),
    ];
    if ctx.container().is_some() {
        v.push(rem(
            "selinux-container-spc",
            "Containers: run with `--security-opt label=type:spc_t` (or `label=disable`)",
            true,
            true,
            "drops SELinux separation for that container.",
        ));
    }
    v
}

pub(crate) fn setuid_broken(ctx: &Ctx) -> Vec<Remediation> {
    if !ctx.uses_bwrap() {
        // Chromium/Electron: the setuid helper is `chrome-sandbox` next to the program.
        return vec![
            rem(
                "fix-chrome-sandbox",
                "Make the app's `chrome-sandbox` helper root-owned and setuid (in the app's install directory)",
                true,
                true,
                "a setuid-root helper that must stay patched; does not work from a nosuid mount (AppImages mounted under /tmp).",
            )
            .cmd("sudo chown root:root ./chrome-sandbox && sudo chmod 4755 ./chrome-sandbox"),
            rem(
                "allow-userns-for-app",
                "Or let the app use its namespace sandbox: allow it user namespaces (see the AppArmor finding, if any)",
                true,
                true,
                "per-app AppArmor profile or a host-wide sysctl, see that finding's trade-offs.",
            ),
        ];
    }
    let path = ctx.bwrap_path();
    vec![
        rem(
            "prefer-unprivileged-bwrap",
            "Use an unprivileged (non-setuid) bwrap and allow user namespaces instead",
            false,
            true,
            "setuid bwrap is deprecated (Debian's README.Debian: no longer possible); fix the user-namespace block instead.",
        ),
        rem(
            "fix-setuid-helper",
            "Or repair the setuid bwrap: root-owned, mode 4755, on a filesystem mounted without nosuid, no NoNewPrivileges",
            true,
            true,
            "a setuid-root helper is a privilege boundary that must be kept patched.",
        )
        .cmd(format!("sudo chown root:root {0} && sudo chmod 4755 {0}", sh(&path))),
    ]
}

pub(crate) fn newuidmap(_ctx: &Ctx) -> Vec<Remediation> {
    vec![
        rem(
            "install-uidmap",
            "Install uidmap and give newuidmap/newgidmap their setuid bit or file capabilities",
            true,
            true,
            "none beyond the package's intended state.",
        )
        .cmd("sudo apt-get install -y uidmap   # Fedora/RHEL: sudo dnf reinstall shadow-utils")
        .cmd("ls -l /usr/bin/newuidmap /usr/bin/newgidmap; getcap /usr/bin/newuidmap /usr/bin/newgidmap"),
        rem(
            "subuid-ranges",
            "Give the user subordinate id ranges",
            true,
            true,
            "the user owns 65536 extra ids.",
        )
        .cmd("cat /etc/subuid /etc/subgid   # pick a 65536-id range no other user has")
        .cmd("grep \"^$USER:\" /etc/subuid /etc/subgid || sudo usermod --add-subuids <start>-<start+65535> --add-subgids <start>-<start+65535> \"$USER\"")
        .verify("podman unshare cat /proc/self/uid_map"),
    ]
}

pub(crate) fn install_bwrap() -> Remediation {
    rem(
        "install-bubblewrap",
        "Install bubblewrap (or point `--bwrap` at the binary the sandbox really runs)",
        true,
        true,
        "none: the distribution's bwrap is root-owned and unprivileged.",
    )
    .cmd("sudo apt-get install -y bubblewrap   # Fedora/RHEL: sudo dnf install bubblewrap; Arch: sudo pacman -S bubblewrap")
    .verify("bwrap --version")
}

pub(crate) fn wsl1() -> Vec<Remediation> {
    vec![
        rem(
            "wsl2",
            "Convert the distribution to WSL2 (run in Windows PowerShell)",
            false,
            true,
            "WSL2 runs a real Linux kernel in a VM; file access across /mnt/c is slower.",
        )
        .cmd("wsl --set-version <distro> 2"),
    ]
}

pub(crate) fn kernel_no_userns() -> Vec<Remediation> {
    vec![rem(
        "kernel-with-userns",
        "Boot a kernel built with CONFIG_USER_NS=y (3.8+, better 5.x or newer)",
        true,
        true,
        "a kernel change and reboot.",
    )]
}

pub(crate) fn chroot() -> Vec<Remediation> {
    vec![rem(
        "leave-chroot",
        "Run the sandbox outside the chroot (the kernel refuses user namespaces to chrooted callers); use a container or a mount namespace (`unshare -m` + `pivot_root`) instead of chroot",
        false,
        false,
        "none for the sandbox; the build environment needs a different isolation tool (e.g. systemd-nspawn, podman, bwrap itself).",
    )]
}

pub(crate) fn multithreaded() -> Vec<Remediation> {
    vec![rem(
        "fork-before-unshare",
        "Create the namespace from a single-threaded process: fork/exec a helper (like bwrap) instead of unshare() in a threaded program",
        false,
        true,
        "none: unshare(CLONE_NEWUSER) requires a single-threaded caller (unshare(2)).",
    )]
}

pub(crate) fn unexplained(ctx: &Ctx) -> Vec<Remediation> {
    vec![
        rem(
            "collect-more-evidence",
            "Collect the kernel's view of the failure and share the probe report",
            true,
            false,
            "none.",
        )
        .cmd("sudo journalctl -k -b | grep -E 'apparmor|avc|audit|seccomp|userns' | tail -n 50")
        .cmd(format!("strace -f -e trace=clone,clone3,unshare,mount,pivot_root,write {}", sandbox_test(ctx)))
        .cmd("nsdoctor probe --output nsdoctor-report.json"),
    ]
}

/// Adds `userns,` to a profile's `local/` override unless it is there (packaged profiles include that file).
fn local_userns(name: &str) -> String {
    format!(
        "grep -qs '^[[:space:]]*userns,' /etc/apparmor.d/local/{name} || echo 'userns,' | sudo tee -a /etc/apparmor.d/local/{name}"
    )
}

/// `FILE` for a profile: the file the scan found, else a lookup the operator runs.
fn profile_file(name: &str, file: Option<&str>) -> String {
    match file {
        Some(f) => sh(f),
        None => format!(
            "\"$(sudo grep -lE '^[[:space:]]*profile[[:space:]]+{name}([[:space:]]|$)' /etc/apparmor.d/* | head -n1)\""
        ),
    }
}

/// Conflicting attachments: keep one profile, disable the others as `aa-disable` does (a `disable/` link, then
/// unload). Never a third profile. Profiles nsdoctor wrote (`<tool>-bwrap`) go first.
pub(crate) fn attachment_conflict(ctx: &Ctx, list: &[(&str, &str)]) -> Vec<Remediation> {
    let ours = profile_name(ctx);
    let mut keep: Vec<&(&str, &str)> = list.iter().collect();
    // Keep the others' profile; ours is the one to drop.
    keep.sort_by_key(|(n, _)| *n == ours);
    let mut out = Vec::new();
    for (name, file) in keep.iter().take(2) {
        let mut r = rem(
            &format!("keep-apparmor-profile-{name}"),
            &format!(
                "Keep `{name}` and disable the other profile{} for {}",
                if list.len() > 2 { "s" } else { "" },
                ctx.bwrap_path()
            ),
            true,
            true,
            &format!(
                "the disabled profile stays on disk (linked under /etc/apparmor.d/disable/, as aa-disable does) and is no longer loaded; `{name}` alone attaches, so it must allow `userns,` (check its mode with aa-status)."
            ),
        );
        for (other, ofile) in list.iter().filter(|(n, _)| n != name) {
            r = r
                .cmd(format!("sudo ln -sf {} /etc/apparmor.d/disable/", sh(ofile)))
                .cmd(format!("sudo apparmor_parser -R {}   # unloads `{other}`", sh(ofile)));
        }
        r = r.cmd(format!("sudo apparmor_parser -r {}", sh(file))).verify(format!("sudo aa-status | grep -F '{name}'"));
        out.push(verify_sandbox(r, ctx));
    }
    out
}

/// The re-check under a starter's profile (empty when the profile is bwrap's own: the plain check covers it).
fn under_profile(ctx: &Ctx, name: &str) -> String {
    if ctx.r.confinement.apparmor_profile.as_deref() == Some(name) {
        format!("nsdoctor check --apparmor-profile {name}")
    } else {
        format!("sudo aa-status | grep -F '{name}'")
    }
}

/// A profile in complain or kill mode that should leave the sandbox alone.
pub(crate) fn profile_mode(ctx: &Ctx, name: &str, file: Option<&str>, mode: &str) -> Vec<Remediation> {
    let f = profile_file(name, file);
    let mut out = vec![verify_sandbox(
        rem(
            &format!("apparmor-profile-{name}-unconfined"),
            &format!("Load `{name}` as `flags=(unconfined)` with `userns,` (what a profile meant to exempt a program ships as)"),
            true,
            true,
            &format!("`{name}` stops mediating the program, as Ubuntu's own exemption profiles do; its {mode}-mode logging of that program ends. A package update may restore the vendor's file: tell the vendor (ValveSoftware/steam-for-linux#12620)."),
        )
        .cmd(format!("sudo sed -i -E '/^[[:space:]]*profile[[:space:]]+{name}[[:space:]]/s/(flags=\\([^)]*)\\b{mode}\\b/\\1unconfined/' {f}"))
        .cmd(local_userns(name))
        .cmd(format!("sudo apparmor_parser -r {f}"))
        .verify(format!("sudo aa-status --json | grep -o '\"{name}\": \"[a-z]*\"'   # expect unconfined"))
        .verify(under_profile(ctx, name)),
        ctx,
    )];
    out.push(verify_sandbox(
        rem(
            &format!("aa-disable-{name}"),
            &format!("Or disable `{name}` (aa-disable)"),
            true,
            true,
            "the program runs with no profile at all; where Ubuntu's userns restriction is on, an unconfined program's namespaces are restricted again, so this only helps on hosts without it (Void, Debian).",
        )
        .cmd("sudo apt-get install -y apparmor-utils   # provides aa-disable")
        .cmd(format!("sudo aa-disable {f}")),
        ctx,
    ));
    if ctx.distro_id() == Some("void") {
        out.push(rem(
            "void-apparmor-enforce",
            "Void: stop the init script forcing profiles into complain mode (APPARMOR=enforce in /etc/default/apparmor)",
            true,
            true,
            "every profile is loaded in its declared mode again (void-linux/void-packages#61765).",
        ).cmd("sudo sed -i 's/^APPARMOR=.*/APPARMOR=enforce/' /etc/default/apparmor").cmd("sudo sv restart apparmor 2>/dev/null || sudo reboot"));
    }
    out
}

/// The starter's profile lacks `userns,`: allow it there (its `local/` include), or ask its vendor.
pub(crate) fn parent_profile(ctx: &Ctx, profile: &str) -> Vec<Remediation> {
    let file = ctx.r.confinement.profiles_for_parent.get().and_then(|m| m.get(profile)).map(String::as_str);
    let f = profile_file(profile, file);
    vec![
        rem(
            &format!("add-userns-to-{profile}"),
            &format!("Allow `userns,` in `{profile}` through its local override"),
            true,
            true,
            &format!("the program `{profile}` confines may create user namespaces (with capabilities inside them); everything else in its profile still applies. Needs AppArmor 4.0 userspace and a profile that includes <local/{profile}> (most packaged profiles do)."),
        )
        .cmd(local_userns(profile))
        .cmd(format!("sudo apparmor_parser -r {f}"))
        .verify(format!("nsdoctor check --apparmor-profile {profile}"))
        .verify(format!("aa-exec -p {profile} -- {}", sandbox_test(ctx))),
        rem(
            "report-to-profile-vendor",
            &format!("Report it to whoever ships `{profile}`: a program that starts bwrap needs `userns,` in its profile"),
            false,
            false,
            "nothing changes until the vendor ships the rule; the local override above survives their updates.",
        ),
    ]
}

/// Snap confinement: the host is not what blocks; a non-snap install is.
pub(crate) fn snap(ctx: &Ctx, snap: &str) -> Vec<Remediation> {
    vec![
        rem(
            "install-outside-snap",
            &format!("Install the program from a .deb, Flatpak or upstream release instead of the `{snap}` snap"),
            true,
            true,
            "loses the snap's own confinement and automatic updates; the sandbox then runs where the host's policy decides.",
        )
        .cmd(format!("snap list {}   # the confined install", sh(snap)))
        .verify(sandbox_test(ctx)),
        rem(
            "run-tool-outside-snap",
            "Or start the sandboxing tool from a normal shell, not from inside the snap",
            false,
            false,
            "none for the sandbox; anything the snap's app starts stays confined.",
        ),
    ]
}

/// A Landlock domain around the caller: only the outer tool can lift it.
pub(crate) fn landlock_domain(ctx: &Ctx) -> Vec<Remediation> {
    let mut out = vec![rem(
        "run-outside-landlock-domain",
        "Start the sandboxing tool outside the tool that restricted this process with Landlock (a normal shell, not another agent's sandboxed command)",
        false,
        false,
        "Landlock restrictions are inherited and cannot be lifted from inside: the outer tool must not wrap this one.",
    )
    .verify(sandbox_test(ctx))];
    out.extend(nested(ctx).into_iter().skip(1));
    out
}

/// bwrap older than the options the tool passes.
pub(crate) fn bwrap_upgrade(ctx: &Ctx, since: &str) -> Vec<Remediation> {
    let path = ctx.bwrap_path();
    let shipped = match (ctx.distro_id(), ctx.version_num()) {
        (Some("ubuntu"), Some(v)) if v < 2404 => " (Ubuntu 22.04 ships 0.6.1; 24.04 ships 0.9.0)",
        (Some("debian"), Some(v)) if v < 1300 => " (Debian 12 ships 0.8.0; Debian 13 ships 0.11.0)",
        _ => "",
    };
    let mut out = Vec::new();
    if ctx.cfg.tool == "codex" {
        out.push(rem(
            "codex-bundled-bwrap",
            "Let Codex use the bwrap it bundles (standalone installs ship one under codex-resources/): remove the old bwrap from PATH for Codex, or upgrade Codex",
            false,
            false,
            "the bundled copy lives in your home directory: an AppArmor profile must not attach to it where Ubuntu's restriction is on (user-writable path).",
        ));
    }
    out.push(
        rem(
            "upgrade-bubblewrap",
            &format!("Install bubblewrap {since} or later{shipped}"),
            true,
            true,
            "a newer bwrap from a newer release or a backport; check that any AppArmor profile still attaches to its path afterwards.",
        )
        .cmd(format!("{} --version", sh(&path)))
        .verify(format!("{} --version   # expect {since} or later", sh(&path)))
        .verify(sandbox_test(ctx)),
    );
    out
}

/// Platform advice for a blocking finding, by what the operator may change there: a throwaway CI VM may flip a
/// host-wide switch for the job; a shared or self-hosted runner should load the per-binary fix; a managed
/// platform's node cannot be changed, so the tool's unsandboxed mode (the VM or pod is the boundary) remains.
pub(crate) fn platform(ctx: &Ctx, cause: crate::diagnosis::Cause) -> Vec<Remediation> {
    use crate::diagnosis::Cause as C;
    let Some(p) = ctx.r.platform.ci_platform.get().filter(|p| !p.is_empty()) else { return Vec::new() };
    let unsandboxed = |title: &str, why: &str| rem("use-the-platform-as-the-boundary", title, false, false, why);
    match (p.as_str(), cause) {
        ("github-actions", C::ApparmorUsernsRestriction | C::ApparmorAttachmentConflict | C::ApparmorProfileMode) => vec![
            rem(
                "github-actions-runner-step",
                "GitHub-hosted runner: lift the restriction for this job in a workflow step (the VM is discarded after the job)",
                true,
                false,
                "acceptable on a throwaway VM only: it re-opens unprivileged user namespaces to everything in this job. Never copy it to a self-hosted or shared runner.",
            )
            .file(file(
                ArtifactKind::Text,
                "workflow-step.yml",
                "# nsdoctor: GitHub-hosted ubuntu-24.04 runners restrict unprivileged user namespaces with AppArmor.\n- name: Allow user namespaces for the sandbox (this VM only)\n  run: sudo sysctl -w kernel.apparmor_restrict_unprivileged_userns=0\n",
            ))
            .verify(sandbox_test(ctx)),
        ],
        ("github-actions-self-hosted", C::ApparmorUsernsRestriction) => vec![rem(
            "self-hosted-runner-profile",
            "Self-hosted runner: a shared host; load the per-binary AppArmor profile below, not the host-wide sysctl",
            true,
            true,
            "the runner host outlives the job: a host-wide switch stays open for every later job and user.",
        )],
        ("codespaces" | "devcontainer" | "gitlab-ci" | "orbstack", C::ContainerSeccomp | C::ContainerNoCaps | C::ContainerApparmorProfile | C::ProcMountRestricted) => vec![rem(
            "devcontainer-run-args",
            &format!("{p}: set the container's options where this platform takes them (devcontainer.json `runArgs`, the runner's docker options), or treat the container as the sandbox"),
            false,
            true,
            "the platform starts the container; its kernel and VM are not yours to change.",
        )
        .file(file(
            ArtifactKind::Text,
            "devcontainer.json",
            "// nsdoctor: let bwrap create namespaces inside this dev container\n{\n  \"runArgs\": [\"--security-opt\", \"seccomp=unconfined\", \"--security-opt\", \"apparmor=unconfined\"]\n}\n",
        ))],
        ("gke", _) => vec![unsandboxed(
            "GKE: nodes are managed (Autopilot loads no node profiles or sysctls and gives pods RuntimeDefault seccomp); a pod-level `seccompProfile: Unconfined` is accepted there (agones-dev/agones#2885), a Standard node pool can use a Localhost profile, or run the tool with its inner sandbox off and rely on the pod's isolation",
            "no per-command isolation inside the pod; the pod's own boundary remains.",
        )],
        ("codespaces", _) => vec![unsandboxed(
            "Codespaces: the VM and its kernel are managed; set the container's options in devcontainer.json or run the tool with its inner sandbox off",
            "no per-command isolation inside the codespace; the codespace VM is the boundary.",
        )],
        _ => Vec::new(),
    }
}
