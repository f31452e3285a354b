//! The facts view the per-rule detectors read: a probe report and sandbox config, with the pasted text and the
//! replays' stderr classified once, and the candidate finding a detector returns. Shared by `engine.rs` (the
//! detectors) and `remedy.rs` (fixes that depend on the host), so neither depends on the other.

use crate::config::SandboxConfig;
use crate::diagnosis::{Confidence, Evidence, Remediation, Severity};
use crate::report::{ProbeReport, ReplayExit, SelinuxMode, StepId, StepResult};
use crate::symptoms::{self, Symptom, SymptomKind as K};

/// A rule's finding before ranking.
pub(crate) struct Cand {
    pub(crate) code: &'static str,
    pub(crate) score: u32,
    pub(crate) confidence: Confidence,
    /// None = the rule's registered severity.
    pub(crate) severity: Option<Severity>,
    pub(crate) summary: String,
    pub(crate) evidence: Vec<Evidence>,
    pub(crate) why: String,
    pub(crate) remediations: Vec<Remediation>,
    /// The failure lies outside what the bwrap replay exercises (the replay passes only the namespace options),
    /// so a successful replay does not make it non-blocking.
    pub(crate) beyond_replay: bool,
}

pub(crate) fn cand(code: &'static str, score: u32, confidence: Confidence, summary: String, why: &str) -> Cand {
    Cand {
        code,
        score,
        confidence,
        severity: None,
        summary,
        evidence: Vec::new(),
        why: why.to_string(),
        remediations: Vec::new(),
        beyond_replay: false,
    }
}

impl Cand {
    pub(crate) fn ev(mut self, e: Option<Evidence>) -> Self {
        if let Some(e) = e {
            if !self.evidence.contains(&e) {
                self.evidence.push(e);
            }
        }
        self
    }
    pub(crate) fn evs(mut self, es: impl IntoIterator<Item = Evidence>) -> Self {
        for e in es {
            self = self.ev(Some(e));
        }
        self
    }
    pub(crate) fn fix(mut self, r: Vec<Remediation>) -> Self {
        self.remediations.extend(r);
        self
    }
    pub(crate) fn beyond_replay(mut self) -> Self {
        self.beyond_replay = true;
        self
    }
    pub(crate) fn sev(mut self, s: Severity) -> Self {
        self.severity = Some(s);
        self
    }
}

pub(crate) fn ev(pointer: impl Into<String>, observed: impl Into<String>, meaning: impl Into<String>) -> Evidence {
    Evidence { pointer: pointer.into(), observed: observed.into(), meaning: meaning.into() }
}

/// Where a text symptom came from.
#[derive(Clone)]
pub(crate) struct Sym {
    pub(crate) s: Symptom,
    pub(crate) pointer: String,
}

/// Everything the rules look at, derived once.
pub(crate) struct Ctx<'a> {
    pub(crate) r: &'a ProbeReport,
    pub(crate) cfg: &'a SandboxConfig,
    pub(crate) syms: Vec<Sym>,
}

pub(crate) const CAP_SYS_ADMIN_BIT: u32 = 21;

/// AppArmor profiles that container runtimes apply (moby/profiles `apparmor/template.go`, copied by containerd and
/// podman).
pub(crate) fn container_profile(s: &str) -> bool {
    ["docker-default", "containers-default", "cri-containerd", "docker-"].iter().any(|p| s.contains(p))
}

impl<'a> Ctx<'a> {
    /// `read_text`: classify the pasted text for the detectors (a text-only diagnosis reads it with the
    /// observation reader instead).
    pub(crate) fn new(r: &'a ProbeReport, cfg: &'a SandboxConfig, read_text: bool) -> Self {
        let mut syms = Vec::new();
        if let Some(t) = r.observed_error.as_ref().filter(|_| read_text) {
            for s in symptoms::classify(t) {
                syms.push(Sym { pointer: "/observed_error".to_string(), s });
            }
        }
        // The sandbox's own replay first: rules cite the first matching symptom, and evidence from the sandbox's
        // run ranks higher, so the order of the replays in the report must not decide it.
        let sandbox = r.replays.iter().position(|rp| rp.name == "sandbox");
        let mut order: Vec<usize> = (0..r.replays.len()).collect();
        order.sort_by_key(|&i| Some(i) != sandbox);
        for i in order {
            let Some(rp) = r.replays.get(i) else { continue };
            for s in symptoms::classify(&rp.stderr) {
                syms.push(Sym { pointer: format!("/replays/{i}/stderr"), s });
            }
        }
        Ctx { r, cfg, syms }
    }

    // ---- steps ----
    pub(crate) fn err(&self, id: StepId) -> Option<&str> {
        self.r.step_errno(id)
    }
    pub(crate) fn ok(&self, id: StepId) -> bool {
        self.r.step_ok(id)
    }
    pub(crate) fn has_steps(&self) -> bool {
        !self.r.steps.is_empty()
    }
    pub(crate) fn step_ev(&self, id: StepId, meaning: &str) -> Option<Evidence> {
        let i = self.r.step_index(id)?;
        let s = self.r.steps.get(i)?;
        let observed = match &s.result {
            StepResult::Ok => format!("{}: ok", s.syscall),
            StepResult::Failed { errno } => format!("{}: {} ({})", s.syscall, errno.name, errno.number),
            StepResult::Killed { signal } => format!("{}: killed by {signal}", s.syscall),
            StepResult::Skipped { reason } => format!("{}: skipped ({reason})", s.syscall),
        };
        Some(ev(format!("/steps/{i}/result"), observed, meaning))
    }
    pub(crate) fn step_data(&self, id: StepId, key: &str) -> Option<&str> {
        self.r.step(id).and_then(|s| s.data.get(key)).map(String::as_str)
    }
    pub(crate) fn data_ev(&self, id: StepId, key: &str, meaning: &str) -> Option<Evidence> {
        let i = self.r.step_index(id)?;
        let v = self.step_data(id, key)?;
        Some(ev(format!("/steps/{i}/data/{key}"), v, meaning))
    }
    /// errno of the user-namespace creation step (plain, else the combined user+net call).
    pub(crate) fn userns_err(&self) -> Option<&str> {
        self.err(StepId::Userns)
            .or_else(|| if self.r.step(StepId::Userns).is_none() { self.err(StepId::FlagUserNet) } else { None })
    }
    pub(crate) fn userns_step(&self) -> StepId {
        if self.r.step(StepId::Userns).is_some() { StepId::Userns } else { StepId::FlagUserNet }
    }
    pub(crate) fn userns_ok(&self) -> bool {
        self.ok(StepId::Userns)
    }

    // ---- symptoms ----
    pub(crate) fn sym(&self, kinds: &[K]) -> Option<&Sym> {
        self.syms.iter().find(|s| kinds.contains(&s.s.kind))
    }
    pub(crate) fn sym_errno(&self, kinds: &[K], errno: &str) -> Option<&Sym> {
        self.syms.iter().find(|s| kinds.contains(&s.s.kind) && s.s.errno == Some(errno))
    }
    pub(crate) fn sym_ev(s: &Sym, meaning: &str) -> Evidence {
        ev(format!("{} (line {})", s.pointer, s.s.line_no), s.s.line.clone(), meaning)
    }
    pub(crate) fn text_only(&self) -> bool {
        !self.has_steps()
    }

    /// errno of a user-namespace creation failure named by a text (bwrap's clone, unshare(1), podman).
    pub(crate) fn text_create_errno(&self) -> Option<(&str, &Sym)> {
        for s in &self.syms {
            let e = match s.s.kind {
                K::BwrapNoPermissions
                | K::BwrapCreateFailed
                | K::BwrapCreateEnospc
                | K::BwrapKernelNoUserns
                | K::UnshareFailed
                | K::CannotClone
                | K::UsernsEinval => s.s.errno,
                _ => None,
            };
            if let Some(e) = e {
                return Some((e, s));
            }
        }
        None
    }

    // ---- static facts ----
    pub(crate) fn root(&self) -> Option<bool> {
        self.r.identity.euid.get().or(self.r.identity.uid.get()).map(|u| *u == 0)
    }
    /// CAP_SYS_ADMIN in the initial user namespace (what `capable()` checks): root outside any user namespace,
    /// unless its effective set lacks the capability (container root).
    pub(crate) fn privileged(&self) -> Option<bool> {
        let root = self.root()?;
        if !root || self.r.platform.in_userns.is_true() {
            return Some(false);
        }
        match self.r.process.cap_eff.get().and_then(|h| has_cap(h, CAP_SYS_ADMIN_BIT)) {
            Some(false) => Some(false),
            _ => Some(true),
        }
    }
    pub(crate) fn label(&self) -> Option<&str> {
        self.r.process.apparmor_label.get().map(String::as_str)
    }
    pub(crate) fn distro_id(&self) -> Option<&str> {
        self.r.distro.id.get().map(String::as_str)
    }
    pub(crate) fn like(&self, id: &str) -> bool {
        self.distro_id() == Some(id) || self.r.distro.id_like.get().is_some_and(|l| l.iter().any(|x| x == id))
    }
    /// VERSION_ID as major*100+minor (24.04 → 2404).
    pub(crate) fn version_num(&self) -> Option<u32> {
        self.r.distro.version_id.get().and_then(|v| version_num(v))
    }
    pub(crate) fn version_major(&self) -> Option<u32> {
        self.version_num().map(|v| v / 100)
    }
    pub(crate) fn ubuntu_version(&self) -> Option<u32> {
        if self.distro_id() == Some("ubuntu") { self.version_num() } else { None }
    }
    pub(crate) fn kernel_release(&self) -> Option<&str> {
        self.r.kernel.release.get().map(String::as_str)
    }
    pub(crate) fn rhel7(&self) -> bool {
        (self.like("rhel")
            || self.like("centos")
            || self.distro_id() == Some("rhel")
            || self.distro_id() == Some("centos"))
            && self.version_major() == Some(7)
            || self.kernel_release().is_some_and(|k| k.starts_with("3.10.0-") && k.contains(".el7"))
    }
    pub(crate) fn apparmor_on(&self) -> Option<bool> {
        if self.r.lsm.apparmor_enabled.is_true()
            || self.r.lsm.active.get().is_some_and(|l| l.iter().any(|x| x == "apparmor"))
        {
            return Some(true);
        }
        if self.r.lsm.apparmor_enabled.is_false() {
            return Some(false);
        }
        None
    }
    /// Ubuntu's restriction sysctl (or its world-readable apparmorfs twin).
    pub(crate) fn restriction(&self) -> Option<(bool, Evidence)> {
        let s = &self.r.sysctl;
        if let Some(v) = s.apparmor_restrict_unprivileged_userns.get() {
            return Some((
                *v == 1,
                ev(
                    "/sysctl/apparmor_restrict_unprivileged_userns",
                    v.to_string(),
                    "Ubuntu's AppArmor restriction of unprivileged user namespaces (1 = on)",
                ),
            ));
        }
        s.apparmor_unconfined_restrictions_userns.get().map(|v| {
            (
                *v == 1,
                ev(
                    "/sysctl/apparmor_unconfined_restrictions_userns",
                    v.to_string(),
                    "apparmorfs view of the same restriction (1 = on)",
                ),
            )
        })
    }
    pub(crate) fn selinux_enforcing(&self) -> bool {
        matches!(self.r.lsm.selinux.get(), Some(SelinuxMode::Enforcing))
    }
    pub(crate) fn seccomp_filtered(&self) -> Option<bool> {
        if matches!(self.err(StepId::Clone3), Some("ENOSYS" | "EPERM")) {
            return Some(true);
        }
        self.r.process.seccomp_mode.get().map(|m| *m == 2)
    }
    pub(crate) fn seccomp_evs(&self) -> Vec<Evidence> {
        let mut v = Vec::new();
        if let Some(m) = self.r.process.seccomp_mode.get() {
            v.push(ev("/process/seccomp_mode", m.to_string(), "2 = a seccomp filter is installed on this process"));
        }
        if let Some(n) = self.r.process.seccomp_filters.get() {
            v.push(ev("/process/seccomp_filters", n.to_string(), "number of stacked seccomp filters"));
        }
        if let Some(e) = self.step_ev(
            StepId::Clone3,
            "the kernel answers EINVAL/E2BIG for a bad clone3; ENOSYS or EPERM comes from a seccomp filter",
        ) {
            if matches!(self.err(StepId::Clone3), Some("ENOSYS" | "EPERM")) {
                v.push(e);
            }
        }
        v
    }
    pub(crate) fn container(&self) -> Option<&'static str> {
        platform_container(&self.r.platform).or_else(|| self.cfg.container_runtime.map(runtime_name))
    }
    pub(crate) fn container_ev(&self) -> Option<Evidence> {
        let p = &self.r.platform;
        for (f, name, ptr) in [
            (&p.gvisor, "gVisor", "/platform/gvisor"),
            (&p.kubernetes, "Kubernetes", "/platform/kubernetes"),
            (&p.podman, "Podman (/run/.containerenv)", "/platform/podman"),
            (&p.docker, "Docker (/.dockerenv or cgroup)", "/platform/docker"),
            (&p.lxc, "LXC", "/platform/lxc"),
        ] {
            if f.is_true() {
                return Some(ev(ptr, "true", format!("running inside {name}")));
            }
        }
        self.cfg.container_runtime.map(|_| {
            ev(
                "/config/container_runtime",
                self.container().unwrap_or(""),
                "the sandbox config says it runs in a container",
            )
        })
    }
    pub(crate) fn systemd(&self) -> bool {
        self.r.platform.systemd_service.is_true()
            || self.cfg.manager == crate::config::ServiceManager::Systemd
            || self.r.unit.name.is_some()
    }
    pub(crate) fn systemd_ev(&self) -> Option<Evidence> {
        if self.r.platform.systemd_service.is_true() {
            let unit = self.r.platform.systemd_unit.get().cloned().unwrap_or_default();
            return Some(ev(
                "/platform/systemd_service",
                format!("true {unit}").trim().to_string(),
                "the sandbox runs inside a systemd service",
            ));
        }
        if let Some(n) = &self.r.unit.name {
            return Some(ev("/unit/name", n.clone(), "the sandbox's systemd unit"));
        }
        (self.cfg.manager == crate::config::ServiceManager::Systemd)
            .then(|| ev("/config/manager", "systemd", "the sandbox config says a systemd unit runs it"))
    }
    pub(crate) fn unit_name(&self) -> Option<String> {
        self.r
            .unit
            .name
            .clone()
            .or_else(|| self.cfg.unit.clone())
            .or_else(|| self.r.platform.systemd_unit.get().cloned())
    }
    /// `RestrictNamespaces=` is set to something restrictive.
    pub(crate) fn unit_restricts_ns(&self) -> Option<Evidence> {
        let v = self.r.unit.restrict_namespaces.get()?;
        let t = v.trim();
        let open = t.is_empty() || t == "no" || t == "false" || {
            let l: Vec<&str> = t.split_whitespace().collect();
            !t.starts_with('~') && ["user", "net", "mnt", "pid"].iter().all(|n| l.contains(n))
        };
        (!open).then(|| {
            ev("/unit/restrict_namespaces", t, "the unit's RestrictNamespaces= forbids namespaces the sandbox needs")
        })
    }
    pub(crate) fn nested_ctx(&self) -> Option<Evidence> {
        let p = &self.r.platform;
        if p.nested_bwrap.is_true() {
            return Some(ev("/platform/nested_bwrap", "true", "already inside a bwrap sandbox"));
        }
        if p.flatpak.is_true() {
            return Some(ev(
                "/platform/flatpak",
                "true",
                "inside a Flatpak sandbox (bwrap --disable-userns caps nested user namespaces)",
            ));
        }
        if let Some(l) = self.label() {
            if l.contains("unpriv_bwrap") {
                return Some(ev(
                    "/process/apparmor_label",
                    l,
                    "stacked with Ubuntu's unpriv_bwrap: a child of bwrap without capabilities",
                ));
            }
        }
        if p.in_userns.is_true() && self.container().is_none() {
            return Some(ev("/platform/in_userns", "true", "already inside a user namespace (non-identity uid_map)"));
        }
        if let Some(o) = self.r.confinement.outer_sandbox.get().filter(|o| !o.is_empty()) {
            return Some(ev(
                "/confinement/outer_sandbox",
                o.clone(),
                "inside this tool's sandbox (the marker it sets for the commands it runs)",
            ));
        }
        None
    }
    pub(crate) fn bwrap_path(&self) -> String {
        self.cfg
            .bwrap_path
            .clone()
            .or_else(|| self.r.config.bwrap_path.clone())
            .or_else(|| self.r.bwrap.selected.clone())
            .unwrap_or_else(|| "/usr/bin/bwrap".to_string())
    }
    /// Whether the namespaces are created by bwrap (Codex, OpenClaw, Flatpak, pressure-vessel, sandbox-runtime)
    /// rather than by the program itself (Chromium/Electron, podman): AppArmor fixes attach to that binary.
    pub(crate) fn uses_bwrap(&self) -> bool {
        // Whole words only: "codex" is not "code".
        let t = self.cfg.tool.to_ascii_lowercase();
        let own = [
            "chromium", "chrome", "electron", "podman", "buildah", "firefox", "brave", "vscode", "code", "slack",
            "discord",
        ];
        self.cfg.bwrap_path.is_some()
            || self.r.config.bwrap_path.is_some()
            || self.r.bwrap.selected.is_some()
            || !t.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| own.contains(&w))
    }
    /// The binary an AppArmor `userns` profile must attach to.
    pub(crate) fn userns_binary(&self) -> String {
        if self.uses_bwrap() {
            return self.bwrap_path();
        }
        self.cfg.launcher.clone().unwrap_or_else(|| {
            let t: String = self.cfg.tool.chars().filter(|c| c.is_ascii_alphanumeric() || *c == '-').collect();
            format!("/path/to/{}", if t.is_empty() { "program" } else { &t })
        })
    }
    pub(crate) fn bwrap_bin(&self) -> Option<&crate::report::BwrapBinary> {
        let p = self.bwrap_path();
        self.r.bwrap.binaries.iter().find(|b| b.path == p)
    }
    /// True unless the facts say the bwrap path is user-owned or user-writable.
    pub(crate) fn bwrap_path_is_root_owned(&self) -> bool {
        let p = self.bwrap_path();
        if let Some(b) = self.bwrap_bin() {
            if b.user_writable.is_true() || b.owner_uid.get().is_some_and(|u| *u != 0) {
                return false;
            }
            if b.owner_uid.get() == Some(&0) && b.user_writable.is_false() {
                return true;
            }
        }
        // Home directories (users' and root's, FHS), /tmp and per-user installs are writable by the user who
        // installed there.
        !(p.starts_with("/home/")
            || p.starts_with("/tmp/")
            || p.contains("/.codex/")
            || p.contains("/node_modules/")
            || p.starts_with("/root/"))
    }
    /// The sandbox replay (the sandbox's own argv), if it ran.
    pub(crate) fn sandbox_replay(&self) -> Option<(usize, &crate::report::Replay)> {
        self.r.replays.iter().enumerate().find(|(_, r)| r.name == "sandbox")
    }
    pub(crate) fn replay_ok(&self) -> Option<bool> {
        self.sandbox_replay().map(|(_, r)| matches!(r.exit, ReplayExit::Exited { code: 0 }))
    }
    pub(crate) fn replay_ev(&self) -> Option<Evidence> {
        let (i, r) = self.sandbox_replay()?;
        let exit = match &r.exit {
            ReplayExit::Exited { code } => format!("exit {code}"),
            ReplayExit::Signaled { signal } => format!("killed by {signal}"),
            ReplayExit::TimedOut { seconds } => format!("timed out after {seconds} s"),
            ReplayExit::SpawnFailed { errno } => format!("could not start: {}", errno.name),
        };
        Some(ev(format!("/replays/{i}/exit"), exit, "the real bwrap run with the sandbox's argv"))
    }
    pub(crate) fn distro_ev(&self) -> Option<Evidence> {
        let id = self.distro_id()?;
        let v = self.r.distro.version_id.get().map(String::as_str).unwrap_or("");
        Some(ev("/distro", format!("{id} {v}").trim().to_string(), "os-release"))
    }
    pub(crate) fn needs_netns(&self) -> bool {
        self.cfg.needs_netns()
    }
    /// Capabilities lost right after a successful unshare(CLONE_NEWUSER): the AppArmor transition signature.
    pub(crate) fn caps_lost(&self) -> Vec<Evidence> {
        let mut v = Vec::new();
        if !self.userns_ok() {
            return v;
        }
        let u = StepId::Userns;
        if let Some(l) = self.step_data(u, "label") {
            if l.contains("unprivileged_userns") || l.contains("unpriv_bwrap") {
                v.extend(self.data_ev(
                    u,
                    "label",
                    "the new user namespace was moved into a restricted AppArmor profile",
                ));
            }
        }
        if let Some(c) = self.step_data(u, "cap_eff") {
            if c.trim_start_matches('0').is_empty() {
                v.extend(self.data_ev(u, "cap_eff", "no capabilities inside the new user namespace (normally all)"));
            }
        }
        for (id, errs, meaning) in [
            (StepId::Setgroups, &["EACCES", "EPERM"][..], "opening setgroups needs CAP_SYS_ADMIN in the new namespace"),
            (StepId::UidMap, &["EPERM", "EACCES"][..], "writing uid_map needs CAP_SYS_ADMIN in the new namespace"),
            (StepId::GidMap, &["EPERM", "EACCES"][..], "writing gid_map needs CAP_SYS_ADMIN in the new namespace"),
            (
                StepId::NetlinkNewaddr,
                &["EPERM"][..],
                "configuring loopback needs CAP_NET_ADMIN over the new net namespace",
            ),
            (
                StepId::NetlinkNewlink,
                &["EPERM"][..],
                "bringing loopback up needs CAP_NET_ADMIN over the new net namespace",
            ),
        ] {
            if self.err(id).is_some_and(|e| errs.contains(&e)) {
                v.extend(self.step_ev(id, meaning));
            }
        }
        v
    }
    pub(crate) fn caps_lost_text(&self) -> Option<&Sym> {
        self.sym_errno(&[K::UidMap, K::GidMap, K::Setgroups], "EACCES")
            .or_else(|| self.sym_errno(&[K::UidMap, K::GidMap, K::Setgroups], "EPERM"))
            .or_else(|| self.sym(&[K::LoopbackRtm, K::AuditUnprivilegedUserns, K::NoUsableSandbox]))
    }
    /// A profile covers the sandbox's bwrap under the restriction (static view).
    /// The profile that attaches to the sandbox's bwrap and covers it: one attachment, in a mode that does not
    /// mediate (`unconfined`) or with `userns,` in enforce. A conflict or a complain/kill-mode profile does not
    /// cover it (NSD104, NSD105).
    pub(crate) fn bwrap_profile(&self) -> Option<Evidence> {
        let path = self.bwrap_path();
        match self.bwrap_attach() {
            Attach::One(name, file) => {
                if matches!(self.profile_mode(name).as_deref(), Some("complain" | "kill")) {
                    return None;
                }
                return Some(ev(
                    "/apparmor/profiles_for_bwrap",
                    format!("{name} ({file})"),
                    format!("an AppArmor profile attaches to {path}"),
                ));
            }
            Attach::Conflict(_) => return None,
            Attach::None => {}
        }
        if path == "/usr/bin/bwrap" && self.r.apparmor.bwrap_userns_restrict_file.is_true() {
            let loaded = self.r.apparmor.loaded_profiles.get();
            if loaded.is_none_or(|l| l.iter().any(|p| p == "bwrap")) {
                return Some(ev(
                    "/apparmor/bwrap_userns_restrict_file",
                    "true",
                    "Ubuntu's bwrap-userns-restrict profile covers /usr/bin/bwrap",
                ));
            }
        }
        None
    }
    /// How the profiles matching the sandbox's bwrap resolve (security/apparmor/domain.c `find_attach`): the
    /// most specific attachment wins; an exact path is more specific than any glob; two equally specific ones
    /// (the same exact path, or identical globs) conflict and the kernel attaches none.
    pub(crate) fn bwrap_attach(&self) -> Attach<'_> {
        let Some(m) = self.r.apparmor.profiles_for_bwrap.get() else { return Attach::None };
        let attach = self.r.apparmor.profile_attachments.get();
        let glob = |name: &str| attach.and_then(|a| a.get(name)).is_some_and(|a| a.contains(['*', '?', '[', '{', '@']));
        let exact: Vec<(&str, &str)> =
            m.iter().filter(|(n, _)| !glob(n)).map(|(n, f)| (n.as_str(), f.as_str())).collect();
        let pick = if exact.is_empty() { m.iter().map(|(n, f)| (n.as_str(), f.as_str())).collect() } else { exact };
        match pick.as_slice() {
            [] => Attach::None,
            [(n, f)] => Attach::One(n, f),
            [(n, f), rest @ ..] if !self.exact(n) => {
                // Globs only: identical ones conflict; otherwise the kernel's longest match decides, which a
                // text scan cannot settle: name the first and let the replay speak.
                let same = rest.iter().all(|(o, _)| attach.and_then(|a| a.get(*o)) == attach.and_then(|a| a.get(*n)));
                if same { Attach::Conflict(pick.clone()) } else { Attach::One(n, f) }
            }
            _ => Attach::Conflict(pick.clone()),
        }
    }
    fn exact(&self, name: &str) -> bool {
        self.r
            .apparmor
            .profile_attachments
            .get()
            .and_then(|a| a.get(name))
            .is_none_or(|a| !a.contains(['*', '?', '[', '{', '@']))
    }
    /// A profile's mode: the loaded mode when readable, else the one its file declares (`flags=`).
    pub(crate) fn profile_mode(&self, name: &str) -> Option<String> {
        profile_mode(self.r, name)
    }
    /// Where the profile's mode was read: the loaded policy, or the file's flags.
    pub(crate) fn profile_mode_ev(&self, name: &str) -> Option<Evidence> {
        let mode = self.profile_mode(name)?;
        let loaded = self.r.apparmor.profile_modes.get().is_some_and(|m| m.contains_key(name));
        Some(if loaded {
            ev(format!("/apparmor/profile_modes/{name}"), mode, "the mode the profile is loaded in")
        } else {
            let flags = self.r.apparmor.profile_flags.get().and_then(|f| f.get(name)).cloned().unwrap_or_default();
            ev(
                format!("/apparmor/profile_flags/{name}"),
                format!("flags=({flags})"),
                format!("the profile's file declares {mode} mode"),
            )
        })
    }
    pub(crate) fn relevant_failures(&self) -> Vec<StepId> {
        let c = &self.cfg.namespaces;
        let mut v = Vec::new();
        for s in &self.r.steps {
            if !matches!(s.result, StepResult::Failed { .. } | StepResult::Killed { .. }) {
                continue;
            }
            let rel = match s.id {
                StepId::Userns | StepId::Setgroups | StepId::UidMap | StepId::GidMap => c.user,
                StepId::FlagUserNet
                | StepId::Netns
                | StepId::NetlinkSocket
                | StepId::NetlinkNewaddr
                | StepId::NetlinkNewlink => self.needs_netns(),
                StepId::Mountns | StepId::MountSlave | StepId::MountTmpfs => c.mount,
                StepId::Pidns => c.pid,
                StepId::ProcMount => c.proc,
                StepId::Clone3 | StepId::Landlock | StepId::FlagNet | StepId::FlagMnt | StepId::FlagPid => false,
            };
            if rel {
                v.push(s.id);
            }
        }
        v
    }
}

/// Whether capability `bit` is set in a `/proc/PID/status` hex mask.
/// A profile's mode: the loaded mode when readable, else the one its file declares (`flags=`).
pub(crate) fn profile_mode(r: &ProbeReport, name: &str) -> Option<String> {
    if let Some(m) = r.apparmor.profile_modes.get().and_then(|m| m.get(name)) {
        return Some(m.clone());
    }
    let flags = r.apparmor.profile_flags.get()?.get(name)?;
    let mode = ["kill", "complain", "unconfined", "prompt"]
        .into_iter()
        .find(|m| flags.split(',').any(|f| f.trim() == *m))
        .unwrap_or("enforce");
    Some(mode.to_string())
}

/// The mode in the starter's label (`steam (complain)`) when that label names profile `name`.
pub(crate) fn label_mode(r: &ProbeReport, name: &str) -> Option<String> {
    let l = r.confinement.parent_label.get()?;
    let (n, m) = l.rsplit_once(" (")?;
    (n == name).then(|| m.trim_end_matches(')').to_string())
}

/// The profiles under /etc/apparmor.d that match the sandbox's bwrap, as the kernel resolves them.
#[derive(Debug, Clone)]
pub(crate) enum Attach<'a> {
    None,
    /// (profile, file)
    One(&'a str, &'a str),
    /// Equally specific attachments: the kernel attaches none of them.
    Conflict(Vec<(&'a str, &'a str)>),
}

pub(crate) fn has_cap(hex: &str, bit: u32) -> Option<bool> {
    u64::from_str_radix(hex.trim(), 16).ok().map(|v| v & (1u64 << bit) != 0)
}

/// The container runtime the report's markers show (gVisor before Kubernetes before Podman before Docker
/// before LXC: the more specific marker wins).
pub(crate) fn platform_container(p: &crate::report::Platform) -> Option<&'static str> {
    [
        (&p.gvisor, "gvisor"),
        (&p.kubernetes, "kubernetes"),
        (&p.podman, "podman"),
        (&p.docker, "docker"),
        (&p.lxc, "lxc"),
    ]
    .into_iter()
    .find_map(|(f, name)| f.is_true().then_some(name))
}

/// A configured container runtime by the name the markers use.
pub(crate) fn runtime_name(c: crate::config::ContainerRuntime) -> &'static str {
    use crate::config::ContainerRuntime as C;
    match c {
        C::Docker => "docker",
        C::Podman => "podman",
        C::Kubernetes => "kubernetes",
        C::Lxc => "lxc",
        C::Gvisor => "gvisor",
    }
}

/// os-release `VERSION_ID` as major*100+minor (`24.04` → 2404, `12` → 1200).
pub(crate) fn version_num(v: &str) -> Option<u32> {
    let mut it = v.split('.');
    let major: u32 = it.next()?.trim().parse().ok()?;
    let minor: u32 = it
        .next()
        .and_then(|m| m.chars().take_while(char::is_ascii_digit).collect::<String>().parse().ok())
        .unwrap_or(0);
    major.checked_mul(100)?.checked_add(minor.min(99))
}
