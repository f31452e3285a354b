//! The diagnosis engine. One function per rule (named after the rule, declared in `rules.rs`).
//!
//! Evidence order: behavioural (errno per probe step) outranks static facts; static facts (distro, sysctls,
//! markers) pick between mechanisms that give the same errno; an error text alone yields ranked candidates.
//! Scores are only for ordering: 90+ = step evidence plus a fact naming the mechanism, 70–89 = step evidence
//! or a precise text with matching context, below 60 = candidates.

use crate::causes::observe::{self, Obs, TextContext};
use crate::causes::{self, Facts, Ranked};
use crate::config::SandboxConfig;
use crate::diagnosis::{
    Cause, Confidence, DIAGNOSIS_SCHEMA_VERSION, Diagnosis, Evidence, Finding, InputKind, Remediation, Severity, Verdict,
};
use crate::remedy;
use crate::report::{ProbeReport, ReplayExit, SelinuxMode, StepId, StepResult};
use crate::rules;
use crate::symptoms::{self, Symptom, SymptomKind as K};

/// A rule's finding before ranking.
struct Cand {
    code: &'static str,
    score: u32,
    confidence: Confidence,
    /// None = the rule's registered severity.
    severity: Option<Severity>,
    summary: String,
    evidence: Vec<Evidence>,
    why: String,
    remediations: Vec<Remediation>,
}

fn cand(code: &'static str, score: u32, confidence: Confidence, summary: String, why: &str) -> Cand {
    Cand { code, score, confidence, severity: None, summary, evidence: Vec::new(), why: why.to_string(), remediations: Vec::new() }
}

impl Cand {
    fn ev(mut self, e: Option<Evidence>) -> Self {
        if let Some(e) = e {
            if !self.evidence.contains(&e) {
                self.evidence.push(e);
            }
        }
        self
    }
    fn evs(mut self, es: impl IntoIterator<Item = Evidence>) -> Self {
        for e in es {
            self = self.ev(Some(e));
        }
        self
    }
    fn fix(mut self, r: Vec<Remediation>) -> Self {
        self.remediations.extend(r);
        self
    }
    fn sev(mut self, s: Severity) -> Self {
        self.severity = Some(s);
        self
    }
}

fn ev(pointer: impl Into<String>, observed: impl Into<String>, meaning: impl Into<String>) -> Evidence {
    Evidence { pointer: pointer.into(), observed: observed.into(), meaning: meaning.into() }
}

/// Where a text symptom came from.
#[derive(Clone)]
struct Sym {
    s: Symptom,
    pointer: String,
}

/// Everything the rules look at, derived once.
pub(crate) struct Ctx<'a> {
    pub(crate) r: &'a ProbeReport,
    pub(crate) cfg: &'a SandboxConfig,
    syms: Vec<Sym>,
}

const CAP_SYS_ADMIN_BIT: u32 = 21;

/// AppArmor profiles that container runtimes apply (moby/profiles `apparmor/template.go`, copied by containerd and
/// podman).
fn container_profile(s: &str) -> bool {
    ["docker-default", "containers-default", "cri-containerd", "docker-"].iter().any(|p| s.contains(p))
}

impl<'a> Ctx<'a> {
    /// `read_text`: classify the pasted text for the detectors (a text-only diagnosis reads it with the
    /// observation reader instead).
    fn new(r: &'a ProbeReport, cfg: &'a SandboxConfig, read_text: bool) -> Self {
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
    fn err(&self, id: StepId) -> Option<&str> {
        self.r.step_errno(id)
    }
    fn ok(&self, id: StepId) -> bool {
        self.r.step_ok(id)
    }
    fn has_steps(&self) -> bool {
        !self.r.steps.is_empty()
    }
    fn step_ev(&self, id: StepId, meaning: &str) -> Option<Evidence> {
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
    fn step_data(&self, id: StepId, key: &str) -> Option<&str> {
        self.r.step(id).and_then(|s| s.data.get(key)).map(String::as_str)
    }
    fn data_ev(&self, id: StepId, key: &str, meaning: &str) -> Option<Evidence> {
        let i = self.r.step_index(id)?;
        let v = self.step_data(id, key)?;
        Some(ev(format!("/steps/{i}/data/{key}"), v, meaning))
    }
    /// errno of the user-namespace creation step (plain, else the combined user+net call).
    fn userns_err(&self) -> Option<&str> {
        self.err(StepId::Userns).or_else(|| if self.r.step(StepId::Userns).is_none() { self.err(StepId::FlagUserNet) } else { None })
    }
    fn userns_step(&self) -> StepId {
        if self.r.step(StepId::Userns).is_some() { StepId::Userns } else { StepId::FlagUserNet }
    }
    fn userns_ok(&self) -> bool {
        self.ok(StepId::Userns)
    }

    // ---- symptoms ----
    fn sym(&self, kinds: &[K]) -> Option<&Sym> {
        self.syms.iter().find(|s| kinds.contains(&s.s.kind))
    }
    fn sym_errno(&self, kinds: &[K], errno: &str) -> Option<&Sym> {
        self.syms.iter().find(|s| kinds.contains(&s.s.kind) && s.s.errno == Some(errno))
    }
    fn sym_ev(s: &Sym, meaning: &str) -> Evidence {
        ev(format!("{} (line {})", s.pointer, s.s.line_no), s.s.line.clone(), meaning)
    }
    fn text_only(&self) -> bool {
        !self.has_steps()
    }

    /// errno of a user-namespace creation failure named by a text (bwrap's clone, unshare(1), podman).
    fn text_create_errno(&self) -> Option<(&str, &Sym)> {
        for s in &self.syms {
            let e = match s.s.kind {
                K::BwrapNoPermissions | K::BwrapCreateFailed | K::BwrapCreateEnospc | K::BwrapKernelNoUserns | K::UnshareFailed | K::CannotClone | K::UsernsEinval => s.s.errno,
                _ => None,
            };
            if let Some(e) = e {
                return Some((e, s));
            }
        }
        None
    }

    // ---- static facts ----
    fn root(&self) -> Option<bool> {
        self.r.identity.euid.get().or(self.r.identity.uid.get()).map(|u| *u == 0)
    }
    /// CAP_SYS_ADMIN in the initial user namespace (what `capable()` checks): root outside any user namespace,
    /// unless its effective set lacks the capability (container root).
    fn privileged(&self) -> Option<bool> {
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
    fn like(&self, id: &str) -> bool {
        self.distro_id() == Some(id) || self.r.distro.id_like.get().is_some_and(|l| l.iter().any(|x| x == id))
    }
    /// VERSION_ID as major*100+minor (24.04 → 2404).
    fn version_num(&self) -> Option<u32> {
        let v = self.r.distro.version_id.get()?;
        let mut it = v.split('.');
        let major: u32 = it.next()?.parse().ok()?;
        let minor: u32 = it.next().and_then(|m| m.parse().ok()).unwrap_or(0);
        major.checked_mul(100)?.checked_add(minor.min(99))
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
        (self.like("rhel") || self.like("centos") || self.distro_id() == Some("rhel") || self.distro_id() == Some("centos"))
            && self.version_major() == Some(7)
            || self.kernel_release().is_some_and(|k| k.starts_with("3.10.0-") && k.contains(".el7"))
    }
    fn apparmor_on(&self) -> Option<bool> {
        if self.r.lsm.apparmor_enabled.is_true() || self.r.lsm.active.get().is_some_and(|l| l.iter().any(|x| x == "apparmor")) {
            return Some(true);
        }
        if self.r.lsm.apparmor_enabled.is_false() {
            return Some(false);
        }
        None
    }
    /// Ubuntu's restriction sysctl (or its world-readable apparmorfs twin).
    fn restriction(&self) -> Option<(bool, Evidence)> {
        let s = &self.r.sysctl;
        if let Some(v) = s.apparmor_restrict_unprivileged_userns.get() {
            return Some((*v == 1, ev("/sysctl/apparmor_restrict_unprivileged_userns", v.to_string(), "Ubuntu's AppArmor restriction of unprivileged user namespaces (1 = on)")));
        }
        s.apparmor_unconfined_restrictions_userns.get().map(|v| {
            (*v == 1, ev("/sysctl/apparmor_unconfined_restrictions_userns", v.to_string(), "apparmorfs view of the same restriction (1 = on)"))
        })
    }
    fn selinux_enforcing(&self) -> bool {
        matches!(self.r.lsm.selinux.get(), Some(SelinuxMode::Enforcing))
    }
    fn seccomp_filtered(&self) -> Option<bool> {
        if matches!(self.err(StepId::Clone3), Some("ENOSYS" | "EPERM")) {
            return Some(true);
        }
        self.r.process.seccomp_mode.get().map(|m| *m == 2)
    }
    fn seccomp_evs(&self) -> Vec<Evidence> {
        let mut v = Vec::new();
        if let Some(m) = self.r.process.seccomp_mode.get() {
            v.push(ev("/process/seccomp_mode", m.to_string(), "2 = a seccomp filter is installed on this process"));
        }
        if let Some(n) = self.r.process.seccomp_filters.get() {
            v.push(ev("/process/seccomp_filters", n.to_string(), "number of stacked seccomp filters"));
        }
        if let Some(e) = self.step_ev(StepId::Clone3, "the kernel answers EINVAL/E2BIG for a bad clone3; ENOSYS or EPERM comes from a seccomp filter") {
            if matches!(self.err(StepId::Clone3), Some("ENOSYS" | "EPERM")) {
                v.push(e);
            }
        }
        v
    }
    pub(crate) fn container(&self) -> Option<&'static str> {
        let p = &self.r.platform;
        if p.gvisor.is_true() {
            return Some("gvisor");
        }
        if p.kubernetes.is_true() {
            return Some("kubernetes");
        }
        if p.podman.is_true() {
            return Some("podman");
        }
        if p.docker.is_true() {
            return Some("docker");
        }
        if p.lxc.is_true() {
            return Some("lxc");
        }
        use crate::config::ContainerRuntime as C;
        self.cfg.container_runtime.map(|c| match c {
            C::Docker => "docker",
            C::Podman => "podman",
            C::Kubernetes => "kubernetes",
            C::Lxc => "lxc",
            C::Gvisor => "gvisor",
        })
    }
    fn container_ev(&self) -> Option<Evidence> {
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
        self.cfg.container_runtime.map(|_| ev("/config/container_runtime", self.container().unwrap_or(""), "the sandbox config says it runs in a container"))
    }
    fn systemd(&self) -> bool {
        self.r.platform.systemd_service.is_true() || self.cfg.manager == crate::config::ServiceManager::Systemd || self.r.unit.name.is_some()
    }
    fn systemd_ev(&self) -> Option<Evidence> {
        if self.r.platform.systemd_service.is_true() {
            let unit = self.r.platform.systemd_unit.get().cloned().unwrap_or_default();
            return Some(ev("/platform/systemd_service", format!("true {unit}").trim().to_string(), "the sandbox runs inside a systemd service"));
        }
        if let Some(n) = &self.r.unit.name {
            return Some(ev("/unit/name", n.clone(), "the sandbox's systemd unit"));
        }
        (self.cfg.manager == crate::config::ServiceManager::Systemd).then(|| ev("/config/manager", "systemd", "the sandbox config says a systemd unit runs it"))
    }
    pub(crate) fn unit_name(&self) -> Option<String> {
        self.r.unit.name.clone().or_else(|| self.cfg.unit.clone()).or_else(|| self.r.platform.systemd_unit.get().cloned())
    }
    /// `RestrictNamespaces=` is set to something restrictive.
    fn unit_restricts_ns(&self) -> Option<Evidence> {
        let v = self.r.unit.restrict_namespaces.get()?;
        let t = v.trim();
        let open = t.is_empty() || t == "no" || t == "false" || {
            let l: Vec<&str> = t.split_whitespace().collect();
            !t.starts_with('~') && ["user", "net", "mnt", "pid"].iter().all(|n| l.contains(n))
        };
        (!open).then(|| ev("/unit/restrict_namespaces", t, "the unit's RestrictNamespaces= forbids namespaces the sandbox needs"))
    }
    fn nested_ctx(&self) -> Option<Evidence> {
        let p = &self.r.platform;
        if p.nested_bwrap.is_true() {
            return Some(ev("/platform/nested_bwrap", "true", "already inside a bwrap sandbox"));
        }
        if p.flatpak.is_true() {
            return Some(ev("/platform/flatpak", "true", "inside a Flatpak sandbox (bwrap --disable-userns caps nested user namespaces)"));
        }
        if let Some(l) = self.label() {
            if l.contains("unpriv_bwrap") {
                return Some(ev("/process/apparmor_label", l, "stacked with Ubuntu's unpriv_bwrap: a child of bwrap without capabilities"));
            }
        }
        if p.in_userns.is_true() && self.container().is_none() {
            return Some(ev("/platform/in_userns", "true", "already inside a user namespace (non-identity uid_map)"));
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
        let own = ["chromium", "chrome", "electron", "podman", "buildah", "firefox", "brave", "vscode", "code", "slack", "discord"];
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
    fn bwrap_bin(&self) -> Option<&crate::report::BwrapBinary> {
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
        !(p.starts_with("/home/") || p.starts_with("/tmp/") || p.contains("/.codex/") || p.contains("/node_modules/") || p.starts_with("/root/"))
    }
    /// The sandbox replay (the sandbox's own argv), if it ran.
    fn sandbox_replay(&self) -> Option<(usize, &crate::report::Replay)> {
        self.r.replays.iter().enumerate().find(|(_, r)| r.name == "sandbox")
    }
    fn replay_ok(&self) -> Option<bool> {
        self.sandbox_replay().map(|(_, r)| matches!(r.exit, ReplayExit::Exited { code: 0 }))
    }
    fn replay_ev(&self) -> Option<Evidence> {
        let (i, r) = self.sandbox_replay()?;
        let exit = match &r.exit {
            ReplayExit::Exited { code } => format!("exit {code}"),
            ReplayExit::Signaled { signal } => format!("killed by {signal}"),
            ReplayExit::TimedOut { seconds } => format!("timed out after {seconds} s"),
            ReplayExit::SpawnFailed { errno } => format!("could not start: {}", errno.name),
        };
        Some(ev(format!("/replays/{i}/exit"), exit, "the real bwrap run with the sandbox's argv"))
    }
    fn distro_ev(&self) -> Option<Evidence> {
        let id = self.distro_id()?;
        let v = self.r.distro.version_id.get().map(String::as_str).unwrap_or("");
        Some(ev("/distro", format!("{id} {v}").trim().to_string(), "os-release"))
    }
    fn needs_netns(&self) -> bool {
        self.cfg.needs_netns()
    }
    /// Capabilities lost right after a successful unshare(CLONE_NEWUSER): the AppArmor transition signature.
    fn caps_lost(&self) -> Vec<Evidence> {
        let mut v = Vec::new();
        if !self.userns_ok() {
            return v;
        }
        let u = StepId::Userns;
        if let Some(l) = self.step_data(u, "label") {
            if l.contains("unprivileged_userns") || l.contains("unpriv_bwrap") {
                v.extend(self.data_ev(u, "label", "the new user namespace was moved into a restricted AppArmor profile"));
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
            (StepId::NetlinkNewaddr, &["EPERM"][..], "configuring loopback needs CAP_NET_ADMIN over the new net namespace"),
            (StepId::NetlinkNewlink, &["EPERM"][..], "bringing loopback up needs CAP_NET_ADMIN over the new net namespace"),
        ] {
            if self.err(id).is_some_and(|e| errs.contains(&e)) {
                v.extend(self.step_ev(id, meaning));
            }
        }
        v
    }
    fn caps_lost_text(&self) -> Option<&Sym> {
        self.sym_errno(&[K::UidMap, K::GidMap, K::Setgroups], "EACCES")
            .or_else(|| self.sym_errno(&[K::UidMap, K::GidMap, K::Setgroups], "EPERM"))
            .or_else(|| self.sym(&[K::LoopbackRtm, K::AuditUnprivilegedUserns, K::NoUsableSandbox]))
    }
    /// A profile covers the sandbox's bwrap under the restriction (static view).
    fn bwrap_profile(&self) -> Option<Evidence> {
        let path = self.bwrap_path();
        if let Some(m) = self.r.apparmor.profiles_for_bwrap.get() {
            if let Some((name, file)) = m.iter().next() {
                return Some(ev("/apparmor/profiles_for_bwrap", format!("{name} ({file})"), format!("an AppArmor profile attaches to {path}")));
            }
        }
        if path == "/usr/bin/bwrap" && self.r.apparmor.bwrap_userns_restrict_file.is_true() {
            let loaded = self.r.apparmor.loaded_profiles.get();
            if loaded.is_none_or(|l| l.iter().any(|p| p == "bwrap")) {
                return Some(ev("/apparmor/bwrap_userns_restrict_file", "true", "Ubuntu's bwrap-userns-restrict profile covers /usr/bin/bwrap"));
            }
        }
        None
    }
    fn relevant_failures(&self) -> Vec<StepId> {
        let c = &self.cfg.namespaces;
        let mut v = Vec::new();
        for s in &self.r.steps {
            if !matches!(s.result, StepResult::Failed { .. } | StepResult::Killed { .. }) {
                continue;
            }
            let rel = match s.id {
                StepId::Userns | StepId::Setgroups | StepId::UidMap | StepId::GidMap => c.user,
                StepId::FlagUserNet | StepId::Netns | StepId::NetlinkSocket | StepId::NetlinkNewaddr | StepId::NetlinkNewlink => self.needs_netns(),
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

// ------------------------------------------------------------------------------------------------
// Rules

/// NSD101: unshare succeeds, then every capability-needing step fails — AppArmor's transition into
/// `unprivileged_userns` (Ubuntu 23.10+; host-policies.md §2.3).
fn apparmor_userns_transition(c: &Ctx) -> Option<Cand> {
    if c.nested_ctx().is_some() {
        return None; // NSD123 owns capability loss inside an outer sandbox.
    }
    let restriction = c.restriction();
    let restriction_on = restriction.as_ref().map(|(on, _)| *on);
    let lost = c.caps_lost();
    let ubuntu = c.distro_id() == Some("ubuntu") || c.like("ubuntu");
    if !lost.is_empty() {
        // The sandbox's own bwrap is covered by a profile and works: NSD103 reports the restriction instead.
        if restriction_on == Some(true) && c.replay_ok() != Some(false) && (c.replay_ok() == Some(true) || c.bwrap_profile().is_some()) {
            return None;
        }
        let label_says = c.step_data(StepId::Userns, "label").is_some_and(|l| l.contains("unprivileged_userns"));
        if restriction_on == Some(false) && !label_says {
            return None;
        }
        let strong = label_says || restriction_on == Some(true);
        if !(strong || ubuntu || c.apparmor_on() == Some(true)) {
            return None;
        }
        let (score, conf) = if strong { (96, Confidence::High) } else { (80, Confidence::Medium) };
        let path = c.bwrap_path();
        return Some(
            cand(
                "NSD101",
                score,
                conf,
                format!(
                    "Creating the user namespace succeeded, but AppArmor then moved it into the `unprivileged_userns` profile, which denies every capability. \
                     So the id maps cannot be written and loopback cannot be configured. bwrap reports this as `setting up uid map: Permission denied` or \
                     `loopback: Failed RTM_NEWADDR` (its errno there is stale). {path} has no AppArmor profile granting `userns`."
                ),
                if strong { "the probe's own steps fail exactly where the transition removes capabilities, and the restriction is on" } else { "the probe's own steps fail exactly where the transition removes capabilities; AppArmor is the only LSM here that does this" },
            )
            .ev(c.step_ev(StepId::Userns, "unshare(CLONE_NEWUSER) itself is allowed"))
            .evs(lost)
            .ev(restriction.map(|(_, e)| e))
            .ev(c.distro_ev())
            .ev(c.replay_ev())
            .fix(remedy::apparmor_restriction(c)),
        );
    }
    // Error text only.
    if c.has_steps() {
        return None;
    }
    let s = c.caps_lost_text()?;
    if restriction_on == Some(false) || c.container() == Some("gvisor") && s.s.kind == K::LoopbackRtm {
        return None;
    }
    let v = c.ubuntu_version();
    let (score, conf, why) = match (restriction_on, v) {
        (Some(true), _) => (85, Confidence::Medium, "the text matches the transition's symptom and the restriction is on"),
        (_, Some(v)) if v >= 2404 => (75, Confidence::Medium, "the text matches the transition's symptom on an Ubuntu release that restricts user namespaces by default"),
        (_, Some(2310)) => (50, Confidence::Low, "the text matches the transition's symptom; on 23.10 the restriction was opt-in"),
        (_, Some(_)) => (35, Confidence::Low, "the text matches, but this Ubuntu release predates the restriction"),
        _ if c.distro_id().is_none() => (60, Confidence::Low, "the text matches the most common cause of this wording (Ubuntu 24.04+); the distro is unknown"),
        _ => (30, Confidence::Low, "the text matches, but the restriction is an Ubuntu kernel feature and this is not Ubuntu"),
    };
    Some(
        cand(
            "NSD101",
            score,
            conf,
            "This wording appears when a user namespace is created but has no capabilities inside it — what Ubuntu's AppArmor restriction does to unconfined programs (23.10+, on by default in 24.04).".to_string(),
            why,
        )
        .ev(Some(Ctx::sym_ev(s, "the symptom of a capability-less user namespace")))
        .ev(c.distro_ev())
        .fix(remedy::apparmor_restriction(c)),
    )
}

/// NSD102: EACCES from unshare/clone itself under AppArmor — a confining profile without `userns,`, or the
/// restriction with `unprivileged_userns` not loaded.
fn apparmor_userns_create_denied(c: &Ctx) -> Option<Cand> {
    let step_eacces = c.userns_err() == Some("EACCES");
    let audit = c.sym(&[K::AuditUsernsCreateDenied, K::AuditUnprivilegedMissing]);
    if audit.is_some_and(|s| container_profile(&s.s.line)) || (step_eacces && c.label().is_some_and(container_profile)) {
        return None; // NSD133: the container's own profile.
    }
    let text_eacces = c.text_create_errno().filter(|(e, _)| *e == "EACCES").map(|(_, s)| s);
    if c.selinux_enforcing() && audit.is_none() {
        return None; // NSD151
    }
    if step_eacces {
        if c.apparmor_on() == Some(false) {
            return None;
        }
        let label = c.label().unwrap_or("");
        let confined = !label.is_empty() && !label.starts_with("unconfined");
        let restriction_on = c.restriction().is_some_and(|(on, _)| on);
        let strong = audit.is_some() || confined || restriction_on || c.apparmor_on() == Some(true);
        let (score, conf) = if strong { (93, Confidence::High) } else { (70, Confidence::Medium) };
        let summary = if confined {
            format!("The kernel refused unshare(CLONE_NEWUSER) with EACCES: this process runs under the AppArmor profile `{label}`, which does not allow `userns`.")
        } else {
            "The kernel refused unshare(CLONE_NEWUSER) with EACCES. With AppArmor's restriction on and an unconfined caller, this happens when the `unprivileged_userns` profile is not loaded (AppArmor logs `failed to find unprivileged_userns profile`).".to_string()
        };
        return Some(
            cand("NSD102", score, conf, summary, "EACCES at creation comes from an LSM hook; AppArmor is the active LSM")
                .ev(c.step_ev(c.userns_step(), "the LSM userns_create hook denied creation"))
                .ev(c.r.process.apparmor_label.get().map(|l| ev("/process/apparmor_label", l.clone(), "the caller's AppArmor label")))
                .ev(c.restriction().map(|(_, e)| e))
                .ev(audit.map(|s| Ctx::sym_ev(s, "AppArmor's audit record of the denial")))
                .fix(remedy::apparmor_create_denied(c)),
        );
    }
    if c.has_steps() && audit.is_none() {
        return None;
    }
    let s = audit.or(text_eacces)?;
    let fedora_like = c.like("fedora") || c.like("rhel") || c.like("centos");
    let (score, conf) = if audit.is_some() {
        (90, Confidence::High)
    } else if c.distro_id() == Some("ubuntu") || c.apparmor_on() == Some(true) {
        (70, Confidence::Medium)
    } else if fedora_like {
        (30, Confidence::Low)
    } else {
        (50, Confidence::Low)
    };
    Some(
        cand(
            "NSD102",
            score,
            conf,
            "Creating the user namespace failed with EACCES (Permission denied). That errno at creation comes from an LSM; under AppArmor it means a confining profile lacks `userns,` or `unprivileged_userns` is not loaded.".to_string(),
            if audit.is_some() { "AppArmor's own audit record names the denial" } else { "EACCES at creation comes from an LSM; AppArmor is the likely one here" },
        )
        .ev(Some(Ctx::sym_ev(s, "user-namespace creation denied")))
        .ev(c.distro_ev())
        .fix(remedy::apparmor_create_denied(c)),
    )
}

/// NSD103: the restriction is on, but the sandbox's bwrap is covered by a profile (replay succeeds).
fn apparmor_restriction_covered(c: &Ctx) -> Option<Cand> {
    let (on, rev) = c.restriction()?;
    if !on {
        return None;
    }
    let replay_ok = c.replay_ok();
    let profile = c.bwrap_profile();
    if replay_ok == Some(false) || (replay_ok.is_none() && profile.is_none()) {
        return None;
    }
    let path = c.bwrap_path();
    if c.privileged() == Some(true) && profile.is_none() {
        // Root is exempt (the restriction only applies to callers without CAP_SYS_ADMIN): say so, not "a profile".
        return Some(
            cand(
                "NSD103",
                20,
                Confidence::High,
                "Ubuntu's AppArmor restriction of unprivileged user namespaces is on, but this probe ran as root, which it exempts. A service user running the sandbox is restricted: probe as that user with `sudo nsdoctor check --as-user <user>`.".to_string(),
                "informational for root; the restriction applies to every unprivileged user",
            )
            .ev(Some(rev))
            .ev(c.r.identity.euid.get().map(|u| ev("/identity/euid", u.to_string(), "the probe ran as root")))
            .ev(c.replay_ev()),
        );
    }
    Some(
        cand(
            "NSD103",
            20,
            if replay_ok == Some(true) { Confidence::High } else { Confidence::Medium },
            format!(
                "Ubuntu's AppArmor restriction of unprivileged user namespaces is on, but {path} has a profile that allows `userns`, so the sandbox works. \
                 Other unconfined programs (and this probe's own steps) are still restricted; children of bwrap under `bwrap-userns-restrict` have no capabilities, so nested sandboxes fail."
            ),
            "informational: nothing to fix for this sandbox",
        )
        .ev(Some(rev))
        .ev(profile)
        .ev(c.replay_ev()),
    )
}

/// NSD111: Debian/Arch `kernel.unprivileged_userns_clone=0` (EPERM for callers without CAP_SYS_ADMIN).
fn userns_clone_sysctl_disabled(c: &Ctx) -> Option<Cand> {
    if c.privileged() == Some(true) {
        // capable(CAP_SYS_ADMIN) passes the check, but every unprivileged user (a service user) is blocked.
        let v = c.r.sysctl.unprivileged_userns_clone.get().filter(|v| **v == 0)?;
        return Some(
            cand("NSD111", 30, Confidence::High,
                "The probe ran as root, which `kernel.unprivileged_userns_clone=0` does not stop; any unprivileged user, such as a service user, is blocked. Probe as that user: `sudo nsdoctor check --as-user <user>`.".to_string(),
                "informational for root; blocking for every other user")
                .sev(Severity::Info)
                .ev(Some(ev("/sysctl/unprivileged_userns_clone", v.to_string(), "0 = only CAP_SYS_ADMIN may create user namespaces")))
                .ev(c.r.identity.euid.get().map(|u| ev("/identity/euid", u.to_string(), "the probe ran as root")))
                .fix(remedy::userns_clone_sysctl(c)),
        );
    }
    let sys = c.r.sysctl.unprivileged_userns_clone.get().copied();
    let sys_ev = sys.map(|v| ev("/sysctl/unprivileged_userns_clone", v.to_string(), "0 = only CAP_SYS_ADMIN may create user namespaces"));
    let step = c.userns_err();
    if sys == Some(0) {
        if step.is_some_and(|e| e != "EPERM") || c.userns_ok() {
            return None;
        }
        let behav = step == Some("EPERM");
        let (score, conf) = if behav { (97, Confidence::High) } else { (75, Confidence::Medium) };
        return Some(
            cand(
                "NSD111",
                score,
                conf,
                "The kernel's `kernel.unprivileged_userns_clone` switch (a Debian/Arch patch, default 0 on Debian ≤ 10 and linux-hardened) is 0, so only root may create user namespaces. bwrap reports `No permissions to create new namespace`.".to_string(),
                if behav { "unshare(CLONE_NEWUSER) fails with EPERM and the sysctl that causes exactly that is 0" } else { "the sysctl is 0; no behavioural step confirms it" },
            )
            .ev(c.step_ev(c.userns_step(), "EPERM at creation"))
            .ev(sys_ev)
            .ev(c.distro_ev())
            .fix(remedy::userns_clone_sysctl(c)),
        );
    }
    if sys.is_some() || !c.text_only() {
        return None;
    }
    // Chromium/Electron fall back to their setuid helper only when user namespaces are unavailable: on a
    // distro whose kernel defaults the switch to 0, that is the first cause to look at.
    let hardened = c.kernel_release().is_some_and(|k| k.contains("hardened"));
    let default_off = hardened || (c.distro_id() == Some("debian") && c.version_major().is_some_and(|v| v <= 10));
    if let Some(s) = c.sym(&[K::SuidHelperMisconfigured, K::NoUsableSandbox]).filter(|_| default_off) {
        return Some(
            cand("NSD111", 60, Confidence::Low,
                "The program fell back to its setuid sandbox helper, which it only does when user namespaces are unavailable; this distro's kernel forbids unprivileged user namespaces by default (`kernel.unprivileged_userns_clone=0`).".to_string(),
                "the setuid fallback ran on a kernel whose switch defaults to 0")
                .ev(Some(Ctx::sym_ev(s, "the namespace sandbox was unavailable")))
                .ev(c.distro_ev())
                .fix(remedy::userns_clone_sysctl(c)),
        );
    }
    // Text only: EPERM at creation. Which distros default the switch to 0 decides the score.
    let (e, s) = c.text_create_errno()?;
    if e != "EPERM" || c.r.process.chrooted.is_true() {
        return None;
    }
    let (score, why): (u32, &str) = match (c.distro_id(), c.version_major()) {
        _ if hardened => (85, "linux-hardened kernels default the switch to 0"),
        (Some("debian"), Some(v)) if v <= 10 => (82, "Debian 10 and older default the switch to 0"),
        (Some("debian"), _) => (45, "Debian 11+ default it to 1, but it may have been set to 0"),
        (Some("arch"), _) => (45, "Arch's linux-hardened defaults it to 0"),
        (None, _) => (45, "EPERM at creation is most often this switch or a seccomp filter"),
        _ => (25, "this distro's kernels usually lack the switch"),
    };
    let context_penalty = if c.container().is_some() || c.systemd() { 20 } else { 0 };
    Some(
        cand(
            "NSD111",
            score.saturating_sub(context_penalty),
            Confidence::Low,
            "bwrap/unshare got EPERM creating the user namespace. Without other facts the usual cause is `kernel.unprivileged_userns_clone=0`.".to_string(),
            why,
        )
        .ev(Some(Ctx::sym_ev(s, "EPERM creating the namespace")))
        .ev(c.distro_ev())
        .fix(remedy::userns_clone_sysctl(c)),
    )
}

fn zero_limits(c: &Ctx, keys: &[&'static str]) -> Vec<(&'static str, Evidence)> {
    let s = &c.r.sysctl;
    let mut v = Vec::new();
    for k in keys {
        let f = match *k {
            "max_user_namespaces" => &s.max_user_namespaces,
            "max_net_namespaces" => &s.max_net_namespaces,
            "max_mnt_namespaces" => &s.max_mnt_namespaces,
            _ => &s.max_pid_namespaces,
        };
        if f.get() == Some(&0) {
            v.push((*k, ev(format!("/sysctl/{k}"), "0", format!("user.{k} = 0 forbids creating that namespace"))));
        }
    }
    v
}

/// NSD121: ENOSPC creating a user/mount/pid namespace, or a limit at 0 (not net alone: NSD122).
fn userns_limit_reached(c: &Ctx) -> Option<Cand> {
    let zero = zero_limits(c, &["max_user_namespaces", "max_mnt_namespaces", "max_pid_namespaces"]);
    let enospc: Vec<StepId> = [StepId::Userns, StepId::FlagUserNet, StepId::Mountns, StepId::Pidns]
        .into_iter()
        .filter(|id| c.err(*id) == Some("ENOSPC"))
        .filter(|id| *id != StepId::FlagUserNet || c.err(StepId::Userns) == Some("ENOSPC") || c.r.step(StepId::Userns).is_none())
        .collect();
    let nested = c.nested_ctx();
    // RHEL/CentOS 7 kernels answer EINVAL, not ENOSPC, when max_user_namespaces is 0 (containers/bubblewrap#216).
    if c.userns_err() == Some("EINVAL") && c.rhel7() && zero.iter().any(|(k, _)| *k == "max_user_namespaces") {
        return Some(
            cand("NSD121", 96, Confidence::High,
                "`user.max_user_namespaces` is 0, the RHEL/CentOS 7.4+ default; this kernel reports it as EINVAL (bwrap: `kernel does not support user namespaces`), although CONFIG_USER_NS is on.".to_string(),
                "EINVAL at creation on a RHEL 7 kernel whose user-namespace limit is 0")
                .ev(c.step_ev(c.userns_step(), "EINVAL: RHEL 7's answer when the limit is 0"))
                .evs(zero.into_iter().map(|(_, e)| e))
                .ev(c.kernel_release().map(|k| ev("/kernel/release", k, "a RHEL 7 kernel")))
                .fix(remedy::userns_limits(c, &["max_user_namespaces"])),
        );
    }
    let keys: Vec<&str> = if zero.is_empty() { vec!["max_user_namespaces", "max_mnt_namespaces", "max_pid_namespaces"] } else { zero.iter().map(|(k, _)| *k).collect() };
    if !enospc.is_empty() {
        if zero.is_empty() && nested.is_some() {
            return None; // NSD123: an ancestor's limit or the nesting depth.
        }
        let (score, conf, why) = if zero.is_empty() {
            (80, Confidence::Medium, "ENOSPC at creation means a namespace count limit; the visible limits are not 0, so an ancestor namespace's limit or the count is exhausted")
        } else {
            (98, Confidence::High, "ENOSPC at creation and the limit that causes it is 0")
        };
        let mut cd = cand(
            "NSD121",
            score,
            conf,
            "Creating the namespace failed with ENOSPC: a `user.max_*_namespaces` limit is 0 or used up (limits count in every ancestor user namespace). bwrap reports `Creating new namespace failed: nesting depth or /proc/sys/user/max_*_namespaces exceeded (ENOSPC)`.".to_string(),
            why,
        );
        for id in enospc {
            cd = cd.ev(c.step_ev(id, "ENOSPC: a namespace count limit"));
        }
        return Some(cd.evs(zero.into_iter().map(|(_, e)| e)).ev(c.distro_ev()).fix(remedy::userns_limits(c, &keys)));
    }
    if !zero.is_empty() {
        if c.userns_ok() && zero.iter().all(|(k, _)| *k == "max_user_namespaces") {
            return None; // contradicts the behaviour (e.g. root); trust behaviour.
        }
        let behav = c.has_steps();
        return Some(
            cand(
                "NSD121",
                if behav { 70 } else { 78 },
                Confidence::Medium,
                "A `user.max_*_namespaces` limit is 0, so that namespace cannot be created by anyone (RHEL/CentOS 7.4+ default; STIG/CIS hardening).".to_string(),
                "the limit is 0; no behavioural step shows the failure",
            )
            .evs(zero.into_iter().map(|(_, e)| e))
            .ev(c.distro_ev())
            .fix(remedy::userns_limits(c, &keys)),
        );
    }
    if !c.text_only() {
        return None;
    }
    // Text: ENOSPC, or RHEL 7's EINVAL with user namespaces off.
    if let Some(s) = c.sym(&[K::BwrapCreateEnospc]).or_else(|| c.sym_errno(&[K::UnshareFailed, K::CannotClone], "ENOSPC")) {
        let score = if c.nested_ctx().is_some() { 55 } else { 85 };
        return Some(
            cand("NSD121", score, Confidence::Medium, "The text reports ENOSPC creating a namespace: a `user.max_*_namespaces` limit is 0 or exhausted (possibly in an ancestor namespace).".to_string(), "ENOSPC at creation has one mechanism: namespace count limits")
                .ev(Some(Ctx::sym_ev(s, "ENOSPC creating the namespace")))
                .ev(c.distro_ev())
                .fix(remedy::userns_limits(c, &keys)),
        );
    }
    if c.rhel7() {
        if let Some((_, s)) = c.text_create_errno().filter(|(e, _)| *e == "EINVAL") {
            return Some(
                cand("NSD121", 75, Confidence::Medium, "On RHEL/CentOS 7 user namespaces are off by default (`user.max_user_namespaces=0` since 7.4, `user_namespace.enable=0` before); bwrap then reports the EINVAL wording (containers/bubblewrap#216).".to_string(), "RHEL 7 ships user namespaces disabled")
                    .ev(Some(Ctx::sym_ev(s, "EINVAL creating the namespace")))
                    .ev(c.distro_ev())
                    .fix(remedy::userns_limits(c, &["max_user_namespaces"])),
            );
        }
    }
    None
}

/// NSD122: the net namespace alone hits ENOSPC / `max_net_namespaces=0`. Blocking only with network `none`.
fn netns_limit_reached(c: &Ctx) -> Option<Cand> {
    let zero = zero_limits(c, &["max_net_namespaces"]);
    let step = [StepId::Netns, StepId::FlagUserNet].into_iter().find(|id| c.err(*id) == Some("ENOSPC"));
    if step == Some(StepId::FlagUserNet) && c.err(StepId::Userns) == Some("ENOSPC") {
        return None; // the user namespace itself, NSD121
    }
    if step.is_none() && zero.is_empty() {
        return None;
    }
    let needed = c.needs_netns();
    let (score, sev) = if needed { (if step.is_some() && !zero.is_empty() { 95 } else { 85 }, Severity::Error) } else { (15, Severity::Info) };
    let conf = if step.is_some() && !zero.is_empty() { Confidence::High } else { Confidence::Medium };
    let summary = if needed {
        "Creating the network namespace fails with ENOSPC: `user.max_net_namespaces` is 0 or exhausted. With network access off the sandbox needs its own net namespace (`--unshare-net`), so it cannot start.".to_string()
    } else {
        "Network namespaces cannot be created (`user.max_net_namespaces` is 0 or exhausted), but this sandbox's network mode does not create one, so it is not affected.".to_string()
    };
    let mut cd = cand("NSD122", score, conf, summary, if needed { "the net namespace step fails with ENOSPC and the sandbox needs it" } else { "not blocking: the sandbox keeps the container/host network" })
        .sev(sev)
        .evs(zero.into_iter().map(|(_, e)| e))
        .ev(Some(ev("/config/network", if needed { "none" } else { "not none" }, "whether the sandbox creates a net namespace")));
    if let Some(id) = step {
        cd = cd.ev(c.step_ev(id, "ENOSPC creating the net namespace"));
    }
    let mut fixes = remedy::userns_limits(c, &["max_net_namespaces"]);
    if needed {
        fixes.push(remedy::network_not_needed(c));
        Some(cd.fix(fixes))
    } else {
        Some(cd)
    }
}

/// NSD123: already inside a sandbox or user namespace that allows no further nesting.
fn nested_sandbox_limit(c: &Ctx) -> Option<Cand> {
    let nested = c.nested_ctx()?;
    let enospc = c.userns_err() == Some("ENOSPC");
    let zero = !zero_limits(c, &["max_user_namespaces"]).is_empty();
    let lost = c.caps_lost();
    let eperm_in_bwrap = c.userns_err() == Some("EPERM") && (c.r.platform.nested_bwrap.is_true() || c.label().is_some_and(|l| l.contains("unpriv_bwrap")));
    if (enospc && !zero) || !lost.is_empty() || eperm_in_bwrap {
        let mut cd = cand(
            "NSD123",
            if enospc { 92 } else { 94 },
            Confidence::High,
            "This process already runs inside a sandbox (an outer bwrap/Flatpak or user namespace) that forbids a further user namespace: Flatpak's `--disable-userns` sets an ancestor `max_user_namespaces` (the file here still reads non-zero), and Ubuntu's `unpriv_bwrap` strips every capability from bwrap's children.".to_string(),
            "the failing step matches what the outer sandbox imposes, and the markers show the outer sandbox",
        )
        .ev(Some(nested))
        .ev(c.step_ev(c.userns_step(), "creation inside the outer sandbox"))
        .evs(lost);
        if let Some(v) = c.r.sysctl.max_user_namespaces.get() {
            cd = cd.ev(Some(ev("/sysctl/max_user_namespaces", v.to_string(), "the limit visible here; an ancestor's limit is not visible")));
        }
        return Some(cd.fix(remedy::nested(c)));
    }
    if !c.text_only() {
        return None;
    }
    let s = c.sym(&[K::BwrapCreateEnospc]).or_else(|| c.sym_errno(&[K::UnshareFailed], "ENOSPC")).or_else(|| c.caps_lost_text())?;
    Some(
        cand("NSD123", 80, Confidence::Medium, "The error comes from inside an outer sandbox that forbids nested user namespaces.".to_string(), "the text's failure is what the outer sandbox imposes")
            .ev(Some(nested))
            .ev(Some(Ctx::sym_ev(s, "the nested creation failed")))
            .fix(remedy::nested(c)),
    )
}

/// EPERM on a namespace creation that a seccomp filter (not the kernel) would explain.
fn seccomp_ns_eperm(c: &Ctx) -> Vec<Evidence> {
    let mut v = Vec::new();
    if c.r.process.chrooted.is_true() || c.r.sysctl.unprivileged_userns_clone.get() == Some(&0) && c.privileged() != Some(true) {
        return v;
    }
    if c.userns_err() == Some("EPERM") || c.userns_err() == Some("ENOSYS") {
        v.extend(c.step_ev(c.userns_step(), "EPERM creating the user namespace"));
    }
    // Inside our own user namespace we hold CAP_SYS_ADMIN; EPERM on a further flag is a filter.
    if c.ok(StepId::UidMap) {
        for (id, n) in [(StepId::Netns, "net"), (StepId::Mountns, "mount"), (StepId::Pidns, "pid")] {
            if c.err(id) == Some("EPERM") {
                v.extend(c.step_ev(id, &format!("EPERM creating a {n} namespace while holding CAP_SYS_ADMIN in the new user namespace: a filter on that flag")));
            }
        }
    }
    v
}

fn seccomp_text<'a>(c: &'a Ctx<'a>) -> Option<&'a Sym> {
    if !c.text_only() {
        return None;
    }
    c.sym(&[K::BwrapNoPermissions]).or_else(|| c.sym_errno(&[K::UnshareFailed, K::CannotClone], "EPERM"))
}

/// NSD131: a container's seccomp profile (Docker default: clone/unshare with namespace flags → EPERM,
/// clone3 → ENOSYS; moby profiles `seccomp/default.json`).
fn container_seccomp_namespaces(c: &Ctx) -> Option<Cand> {
    seccomp_rule(c, "NSD131")
}

/// NSD141: systemd `RestrictNamespaces=` (seccomp on clone/unshare flags; clone3 → ENOSYS).
fn unit_restrict_namespaces(c: &Ctx) -> Option<Cand> {
    seccomp_rule(c, "NSD141")
}

/// Shared by NSD131/NSD141: the same seccomp evidence, attributed by context. With neither context, both
/// are ranked candidates.
fn seccomp_rule(c: &Ctx, code: &'static str) -> Option<Cand> {
    let container = c.container().is_some() && c.container() != Some("gvisor");
    let systemd = c.systemd();
    let unit_ev = c.unit_restricts_ns();
    let steps = seccomp_ns_eperm(c);
    let text = if steps.is_empty() { seccomp_text(c) } else { None };
    if steps.is_empty() && text.is_none() {
        return None;
    }
    let filtered = c.seccomp_filtered();
    if filtered == Some(false) && unit_ev.is_none() {
        return None; // no filter: the kernel said EPERM (NSD111/NSD173/NSD199)
    }
    let is_container_rule = code == "NSD131";
    let ctx_match = if is_container_rule { container } else { systemd || unit_ev.is_some() };
    let other = if is_container_rule { systemd || unit_ev.is_some() } else { container };
    if !ctx_match && other {
        return None;
    }
    let behav = !steps.is_empty();
    let mut score: u32 = match (ctx_match, behav, filtered) {
        (true, true, Some(true)) => 92,
        (true, true, _) => 85,
        (true, false, _) => 75,
        (false, true, Some(true)) => 60,
        (false, true, _) => 45,
        (false, false, _) => 40,
    };
    // Docker's default profile allows namespace calls when CAP_SYS_ADMIN is in the container's bounding set
    // (moby/profiles seccomp/default.json): a filter that still refuses them under a unit is the unit's.
    let bnd_admin = c.r.process.cap_bnd.get().and_then(|h| has_cap(h, CAP_SYS_ADMIN_BIT)) == Some(true);
    if container && systemd && bnd_admin {
        if is_container_rule {
            score = 40;
        } else {
            score = score.max(90);
        }
    } else if ctx_match && other {
        score = if !is_container_rule && unit_ev.is_some() { 93 } else { score.saturating_sub(5) };
    }
    if !is_container_rule && unit_ev.is_some() {
        score = score.max(94);
    }
    let conf = if ctx_match && behav { Confidence::High } else if ctx_match || behav { Confidence::Medium } else { Confidence::Low };
    let (summary, fixes) = if is_container_rule {
        (
            "A seccomp filter refuses to create the namespaces: Docker's and containerd's default profiles allow clone/unshare with namespace flags only with CAP_SYS_ADMIN and answer clone3 with ENOSYS. bwrap reports `No permissions to create new namespace`, which wrongly suggests a kernel sysctl.".to_string(),
            remedy::container_seccomp(c),
        )
    } else {
        (
            "A seccomp filter refuses to create the namespaces: the systemd unit's `RestrictNamespaces=` turns clone/unshare with a forbidden namespace flag into EPERM (clone3 into ENOSYS). bwrap's single clone carries every flag, so even a missing `net` makes it print `No permissions to create new namespace`.".to_string(),
            remedy::unit_restrict_namespaces(c),
        )
    };
    let why = match (ctx_match, behav) {
        (true, true) => "the namespace steps fail with EPERM under a seccomp filter, in this context",
        (true, false) => "the text shows EPERM creating namespaces, in this context",
        (false, true) => "EPERM under a seccomp filter; nothing says whether a container or a systemd unit installed it",
        (false, false) => "EPERM creating namespaces is often a seccomp filter; no context facts",
    };
    let ctx_ev = if is_container_rule { c.container_ev() } else { unit_ev.clone().or_else(|| c.systemd_ev()) };
    Some(
        cand(code, score, conf, summary, why)
            .evs(steps)
            .ev(text.map(|s| Ctx::sym_ev(s, "EPERM creating the namespace")))
            .evs(c.seccomp_evs())
            .ev(ctx_ev)
            .fix(fixes),
    )
}

fn has_cap(hex: &str, bit: u32) -> Option<bool> {
    u64::from_str_radix(hex.trim(), 16).ok().map(|v| v & (1u64 << bit) != 0)
}

/// NSD132: root in a container without CAP_SYS_ADMIN asks for namespaces without a user namespace
/// (openai/codex#13624: `Creating new namespace failed: Operation not permitted`).
fn container_without_sys_admin(c: &Ctx) -> Option<Cand> {
    if c.container().is_none() && c.text_only() {
        return None;
    }
    let root = c.root();
    let no_admin = c.r.process.cap_eff.get().and_then(|h| has_cap(h, CAP_SYS_ADMIN_BIT)).map(|h| !h);
    let flag_fail: Vec<Evidence> = [StepId::FlagNet, StepId::FlagMnt, StepId::FlagPid]
        .into_iter()
        .filter(|id| c.err(*id) == Some("EPERM"))
        .filter_map(|id| c.step_ev(id, "EPERM creating this namespace without a user namespace"))
        .collect();
    let text = c.sym_errno(&[K::BwrapCreateFailed], "EPERM");
    if root == Some(false) || no_admin == Some(false) {
        return None;
    }
    if flag_fail.is_empty() && text.is_none() {
        return None;
    }
    if c.container().is_none() && c.r.platform.in_userns.get() != Some(&true) {
        return None;
    }
    let behav = !flag_fail.is_empty();
    let score = match (behav, root, no_admin) {
        (true, Some(true), Some(true)) => 88,
        (true, _, _) => 75,
        (false, Some(true), _) => 82,
        _ => 60,
    };
    Some(
        cand(
            "NSD132",
            score,
            if behav && no_admin == Some(true) { Confidence::High } else { Confidence::Medium },
            "Root inside this container lacks CAP_SYS_ADMIN, so creating mount/pid/net namespaces directly fails with EPERM; bwrap run as root without `--unshare-user` then prints `Creating new namespace failed: Operation not permitted`. Creating a user namespace first gives root the capabilities inside it.".to_string(),
            "the direct namespace steps fail for a root caller without CAP_SYS_ADMIN",
        )
        .evs(flag_fail)
        .ev(text.map(|s| Ctx::sym_ev(s, "bwrap's clone without a user namespace")))
        .ev(c.r.process.cap_eff.get().map(|h| ev("/process/cap_eff", h.clone(), "CAP_SYS_ADMIN (bit 21) is not effective")))
        .ev(c.container_ev())
        .fix(remedy::container_no_caps(c)),
    )
}

/// NSD133: container AppArmor profile (docker-default `deny mount`) → mount EACCES.
fn container_apparmor_mount(c: &Ctx) -> Option<Cand> {
    if c.selinux_enforcing() {
        return None;
    }
    let step = [StepId::MountSlave, StepId::MountTmpfs].into_iter().find(|id| c.err(*id) == Some("EACCES"));
    let label = c.label().unwrap_or("");
    let container_label = container_profile(label);
    // AppArmor 4 mediates userns creation for confined profiles; docker-default has no `userns,` rule.
    let userns_audit = c.sym(&[K::AuditUsernsCreateDenied]).filter(|s| container_profile(&s.s.line));
    if (c.userns_err() == Some("EACCES") && container_label) || userns_audit.is_some() {
        return Some(
            cand("NSD133", if userns_audit.is_some() || c.has_steps() { 94 } else { 80 }, Confidence::High,
                "The container's AppArmor profile (`docker-default` or a runtime copy) confines this process and has no `userns,` rule, so AppArmor 4's user-namespace mediation refuses creation with EACCES.".to_string(),
                "the denial names the container runtime's AppArmor profile")
                .ev(if c.userns_err() == Some("EACCES") { c.step_ev(c.userns_step(), "EACCES from AppArmor's userns mediation") } else { None })
                .ev(userns_audit.map(|s| Ctx::sym_ev(s, "AppArmor denial naming the container profile")))
                .ev((!label.is_empty()).then(|| ev("/process/apparmor_label", label, "the container's AppArmor profile")))
                .ev(c.container_ev())
                .fix(remedy::container_apparmor(c)),
        );
    }
    if let Some(id) = step {
        if !container_label && c.container().is_none() {
            return None;
        }
        return Some(
            cand("NSD133", if container_label { 93 } else { 80 }, if container_label { Confidence::High } else { Confidence::Medium },
                "The container's AppArmor profile (`docker-default` and its containerd/podman copies) has `deny mount`, which applies even inside a new user namespace, so bwrap stops at `Failed to make / slave: Permission denied`.".to_string(),
                "mount fails with EACCES (an LSM) while the caller is confined by a container profile")
                .ev(c.step_ev(id, "EACCES from AppArmor's mount mediation"))
                .ev((!label.is_empty()).then(|| ev("/process/apparmor_label", label, "the container's AppArmor profile")))
                .ev(c.container_ev())
                .fix(remedy::container_apparmor(c)),
        );
    }
    if !c.text_only() {
        return None;
    }
    let s = c.sym(&[K::AuditApparmorMount]).or_else(|| c.sym_errno(&[K::MountSlave, K::MountTmpfs], "EACCES"))?;
    let score = if c.container().is_some() { 78 } else { 50 };
    Some(
        cand("NSD133", score, Confidence::Medium, "A mount inside the sandbox was denied with EACCES: the signature of a container AppArmor profile with `deny mount` (docker-default).".to_string(), "mount EACCES is an LSM denial; in containers that is the runtime's AppArmor profile")
            .ev(Some(Ctx::sym_ev(s, "mount denied")))
            .ev(c.container_ev())
            .fix(remedy::container_apparmor(c)),
    )
}

fn proc_hardening_ev(c: &Ctx) -> Vec<Evidence> {
    let mut v = Vec::new();
    if c.r.platform.proc_sys_readonly.is_true() {
        v.push(ev("/platform/proc_sys_readonly", "true", "/proc/sys is over-mounted read-only (ProtectKernelTunables=)"));
    }
    if let Some(p) = c.r.unit.protect_kernel_tunables.get() {
        if p == "yes" || p == "true" {
            v.push(ev("/unit/protect_kernel_tunables", p.clone(), "the unit over-mounts /proc/sys and friends"));
        }
    }
    v
}

/// NSD134: locked over-mounts on /proc (container masked paths) make a fresh procfs "too revealing".
fn proc_masked(c: &Ctx) -> Option<Cand> {
    if !c.cfg.namespaces.proc {
        return None;
    }
    let step = c.err(StepId::ProcMount) == Some("EPERM");
    let text = if c.text_only() { c.sym(&[K::ProcMount]) } else { None };
    if !step && text.is_none() {
        return None;
    }
    let unit_side = c.systemd() && !proc_hardening_ev(c).is_empty();
    let masks = c.r.platform.proc_masks.get().filter(|m| !m.is_empty());
    let score = match (step, masks.is_some() || c.container().is_some(), unit_side) {
        (_, _, true) => 55,
        (true, true, _) => 92,
        (true, false, _) => 75,
        (false, true, _) => 80,
        (false, false, _) => 62,
    };
    Some(
        cand(
            "NSD134",
            score,
            if step && masks.is_some() { Confidence::High } else { Confidence::Medium },
            "Mounting a new procfs in the sandbox fails with EPERM: paths under /proc are over-mounted (container masked paths such as /proc/kcore, /proc/keys, a read-only /proc/sys), and the kernel refuses a fresh procfs that would reveal them (`VFS: Mount too revealing`). bwrap prints `Can't mount proc on /newroot/proc: Operation not permitted`.".to_string(),
            if step { "the proc mount step fails with EPERM after every namespace step succeeded" } else { "the text shows the proc mount failure" },
        )
        .ev(if step { c.step_ev(StepId::ProcMount, "EPERM mounting procfs") } else { None })
        .ev(text.map(|s| Ctx::sym_ev(s, "proc mount refused")))
        .ev(masks.map(|m| {
            // Sorted as the schema documents, so the evidence does not depend on the report's order.
            let mut m = m.clone();
            m.sort();
            ev("/platform/proc_masks", m.join(" "), "over-mounted /proc paths")
        }))
        .ev(c.container_ev())
        .fix(remedy::proc_masked(c)),
    )
}

/// NSD135: gVisor pre-configures `lo` in new net namespaces; RTM_NEWADDR answers EEXIST (google/gvisor#13438).
fn gvisor_loopback_preconfigured(c: &Ctx) -> Option<Cand> {
    let step = c.err(StepId::NetlinkNewaddr) == Some("EEXIST");
    let gv = c.r.platform.gvisor.is_true() || c.container() == Some("gvisor");
    let unknown_runtime = c.container().is_none() && c.r.platform.gvisor.is_not_probed();
    let text = if c.text_only() && (gv || unknown_runtime) { c.sym(&[K::LoopbackRtm]) } else { None };
    if !step && text.is_none() {
        return None;
    }
    let needed = c.needs_netns();
    Some(
        cand(
            "NSD135",
            if needed { if step && gv { 97 } else if step { 88 } else if gv { 85 } else { 25 } } else { 15 },
            if step && gv { Confidence::High } else if step || gv { Confidence::Medium } else { Confidence::Low },
            "gVisor creates new network namespaces with loopback already configured, so adding 127.0.0.1 answers EEXIST and bwrap aborts with `loopback: Failed RTM_NEWADDR` (its errno text there is stale).".to_string(),
            if step { "our own RTM_NEWADDR returned EEXIST, which only a pre-configured loopback gives" } else { "gVisor plus the loopback failure" },
        )
        .sev(if needed { Severity::Error } else { Severity::Info })
        .ev(if step { c.step_ev(StepId::NetlinkNewaddr, "EEXIST: 127.0.0.1 already on lo") } else { None })
        .ev(text.map(|s| Ctx::sym_ev(s, "bwrap's loopback setup failed")))
        .ev(gv.then(|| ev("/platform/gvisor", "true", "running under gVisor (runsc)")))
        .fix(if needed { remedy::gvisor(c) } else { Vec::new() }),
    )
}

/// NSD142: `RestrictAddressFamilies=` without AF_NETLINK → socket(AF_NETLINK) EAFNOSUPPORT.
fn unit_address_families(c: &Ctx) -> Option<Cand> {
    let step = c.err(StepId::NetlinkSocket) == Some("EAFNOSUPPORT");
    let text = if c.text_only() { c.sym_errno(&[K::NetlinkSocket], "EAFNOSUPPORT") } else { None };
    if !step && text.is_none() {
        return None;
    }
    let needed = c.needs_netns();
    let sys = c.systemd_ev();
    Some(
        cand(
            "NSD142",
            if needed { if sys.is_some() { 93 } else { 85 } } else { 15 },
            if step && sys.is_some() { Confidence::High } else { Confidence::Medium },
            "Opening a netlink socket fails with EAFNOSUPPORT: the service's `RestrictAddressFamilies=` does not list AF_NETLINK, so bwrap cannot bring up loopback in the sandbox's network namespace (`loopback: Failed to create NETLINK_ROUTE socket`).".to_string(),
            "EAFNOSUPPORT for AF_NETLINK on Linux comes from systemd's address-family filter",
        )
        .sev(if needed { Severity::Error } else { Severity::Info })
        .ev(if step { c.step_ev(StepId::NetlinkSocket, "socket(AF_NETLINK) refused") } else { None })
        .ev(text.map(|s| Ctx::sym_ev(s, "bwrap's netlink socket refused")))
        .ev(c.r.unit.restrict_address_families.get().map(|v| ev("/unit/restrict_address_families", v.clone(), "the unit's allowed families")))
        .ev(sys)
        .fix(if needed { remedy::unit_address_families(c) } else { Vec::new() }),
    )
}

/// NSD143: a seccomp filter that kills (SIGSYS) — systemd `SystemCallFilter=` without `SystemCallErrorNumber=`.
fn unit_syscall_filter_kill(c: &Ctx) -> Option<Cand> {
    let step = c.r.steps.iter().position(|s| matches!(&s.result, StepResult::Killed { signal } if signal == "SIGSYS"));
    let killed = |r: &crate::report::Replay| matches!(&r.exit, ReplayExit::Signaled { signal } if signal == "SIGSYS") || matches!(r.exit, ReplayExit::Exited { code: 159 });
    // The sandbox's own run first, whatever the order of the replays (its evidence ranks the finding higher).
    let replay = c.sandbox_replay().filter(|(_, r)| killed(r)).map(|(i, _)| i).or_else(|| c.r.replays.iter().position(killed));
    let text = c.sym(&[K::SeccompKill]);
    if step.is_none() && replay.is_none() && text.is_none() {
        return None;
    }
    let sys = c.systemd_ev();
    let behav = step.is_some() || replay.is_some();
    let score = match (behav, sys.is_some()) {
        (true, true) => 94,
        (true, false) => 82,
        (false, true) => 85,
        (false, false) => 65,
    };
    Some(
        cand(
            "NSD143",
            score,
            if behav && sys.is_some() { Confidence::High } else { Confidence::Medium },
            "A seccomp filter kills the sandbox with SIGSYS (exit status 159, audit `type=1326`) when it calls a forbidden syscall — typically mount/umount2/pivot_root under systemd's `SystemCallFilter=@system-service`, which lacks `@mount`. bwrap dies without a message.".to_string(),
            "death by SIGSYS is a seccomp kill action",
        )
        .ev(step.and_then(|i| c.r.steps.get(i)).and_then(|s| c.step_ev(s.id, "killed by SIGSYS")))
        .ev(replay.map(|i| ev(format!("/replays/{i}/exit"), "SIGSYS / exit 159", "bwrap was killed by a seccomp filter")))
        .ev(text.map(|s| Ctx::sym_ev(s, "seccomp kill")))
        .ev(c.r.unit.system_call_filter.get().map(|v| ev("/unit/system_call_filter", v.clone(), "the unit's syscall filter")))
        .ev(sys)
        .fix(remedy::unit_syscall_kill(c)),
    )
}

/// NSD145: the unit's seccomp filter answers a syscall bwrap needs with ENOSYS (the kernel never says ENOSYS
/// for a syscall it has): e.g. `RestrictSUIDSGID=` filtering openat2 (containers/bubblewrap#774).
fn unit_syscall_filter_errno(c: &Ctx) -> Option<Cand> {
    let s = c.syms.iter().find(|s| s.s.errno == Some("ENOSYS") && matches!(s.s.kind, K::BwrapOther | K::MountSlave | K::MountTmpfs | K::ProcMount))?;
    let systemd = c.systemd_ev();
    let filtered = c.seccomp_filtered();
    if filtered == Some(false) || (systemd.is_none() && filtered.is_none()) || c.container() == Some("gvisor") {
        return None; // gVisor lacks some syscalls for real (google/gvisor#14451)
    }
    // openat2 arrived in 5.6: an older kernel's ENOSYS is genuine.
    if c.kernel_release().and_then(kernel_version).is_some_and(|v| v < (5, 6)) {
        return None;
    }
    Some(
        cand("NSD145", if systemd.is_some() { 90 } else { 60 }, if systemd.is_some() { Confidence::Medium } else { Confidence::Low },
            "bwrap failed with ENOSYS (Function not implemented) on a kernel that implements the call: a seccomp filter answered for it. In a systemd service that is the unit's syscall filtering — e.g. `RestrictSUIDSGID=yes` makes openat2 return ENOSYS, which bubblewrap 0.12 needs (containers/bubblewrap#774).".to_string(),
            "ENOSYS from a present syscall comes from a seccomp filter; the systemd unit installed it")
            .ev(Some(Ctx::sym_ev(s, "ENOSYS from inside bwrap")))
            .evs(c.seccomp_evs())
            .ev(systemd)
            .fix(remedy::unit_syscall_errno(c)),
    )
}

/// NSD144: systemd `ProcSubset=pid` (no /proc/sys) or `ProtectKernelTunables=` (locked /proc over-mounts).
fn unit_proc_hardening(c: &Ctx) -> Option<Cand> {
    let subset_fact = c.r.platform.proc_subset_pid.is_true() || c.r.unit.proc_subset.get().is_some_and(|v| v == "pid");
    let subset_text = c.sym(&[K::ProcSysMissing]);
    if subset_fact || subset_text.is_some() {
        return Some(
            cand("NSD144", if subset_fact { 92 } else { 82 }, if subset_fact { Confidence::High } else { Confidence::Medium },
                "The service sees a pid-only procfs (`ProcSubset=pid`): /proc/sys is missing, so bwrap stops at `Can't read /proc/sys/kernel/overflowuid: No such file or directory`.".to_string(),
                "/proc/sys missing is what ProcSubset=pid does")
                .ev(c.r.platform.proc_subset_pid.is_true().then(|| ev("/platform/proc_subset_pid", "true", "/proc/sys is absent")))
                .ev(c.r.unit.proc_subset.get().map(|v| ev("/unit/proc_subset", v.clone(), "the unit's ProcSubset=")))
                .ev(subset_text.map(|s| Ctx::sym_ev(s, "bwrap cannot read /proc/sys")))
                .ev(c.systemd_ev())
                .fix(remedy::unit_proc(c, true)),
        );
    }
    if !c.cfg.namespaces.proc || !c.systemd() {
        return None;
    }
    let hard = proc_hardening_ev(c);
    let step = c.err(StepId::ProcMount) == Some("EPERM");
    let text = if c.text_only() { c.sym(&[K::ProcMount]) } else { None };
    if hard.is_empty() || (!step && text.is_none()) {
        return None;
    }
    Some(
        cand("NSD144", if step { 90 } else { 80 }, if step { Confidence::High } else { Confidence::Medium },
            "The unit's `ProtectKernelTunables=` (or `ProtectKernelLogs=`/`InaccessiblePaths=` under /proc) over-mounts parts of /proc; those mounts are locked in a new user namespace, so the kernel refuses the sandbox's fresh procfs (`Can't mount proc on /newroot/proc: Operation not permitted`).".to_string(),
            "proc mount EPERM in a systemd service whose /proc is over-mounted")
            .ev(if step { c.step_ev(StepId::ProcMount, "EPERM mounting procfs") } else { None })
            .ev(text.map(|s| Ctx::sym_ev(s, "proc mount refused")))
            .evs(hard)
            .ev(c.systemd_ev())
            .fix(remedy::unit_proc(c, false)),
    )
}

/// NSD151: SELinux `user_namespace { create }` denial (EACCES), or container_t mount denials.
fn selinux_userns_denied(c: &Ctx) -> Option<Cand> {
    let enforcing = c.selinux_enforcing();
    let se_ev = enforcing.then(|| ev("/lsm/selinux", "enforcing", "SELinux is enforcing"));
    let audit = c.sym(&[K::AuditSelinuxUserns, K::AuditSelinuxMount]);
    if c.userns_err() == Some("EACCES") && enforcing {
        return Some(
            cand("NSD151", 95, Confidence::High,
                "SELinux denies `user_namespace { create }` for this process's domain (kernel 6.1+ hook; Fedora policy grants it to unconfined domains only). bwrap reports `Creating new namespace failed: Permission denied`.".to_string(),
                "EACCES at creation with SELinux enforcing")
                .ev(c.step_ev(c.userns_step(), "the LSM hook denied creation"))
                .ev(se_ev)
                .ev(c.r.lsm.selinux_userns_class.is_true().then(|| ev("/lsm/selinux_userns_class", "true", "the loaded policy mediates user namespace creation")))
                .ev(c.r.process.selinux_context.get().map(|v| ev("/process/selinux_context", v.clone(), "the confining domain")))
                .ev(audit.map(|s| Ctx::sym_ev(s, "the AVC denial")))
                .fix(remedy::selinux(c)),
        );
    }
    let mount_eacces = [StepId::MountSlave, StepId::MountTmpfs].into_iter().find(|id| c.err(*id) == Some("EACCES"));
    if let (Some(id), true) = (mount_eacces, enforcing) {
        return Some(
            cand("NSD151", 88, Confidence::High, "SELinux denies the sandbox's mounts (e.g. `container_t` may not mount tmpfs): `Failed to mount tmpfs: Permission denied`.".to_string(), "mount EACCES with SELinux enforcing")
                .ev(c.step_ev(id, "mount denied by SELinux"))
                .ev(se_ev)
                .ev(c.r.process.selinux_context.get().map(|v| ev("/process/selinux_context", v.clone(), "the confining domain")))
                .fix(remedy::selinux(c)),
        );
    }
    if c.has_steps() && audit.is_none() {
        return None;
    }
    let text = c.text_create_errno().filter(|(e, _)| *e == "EACCES").map(|(_, s)| s).or_else(|| if c.text_only() { c.sym_errno(&[K::MountTmpfs], "EACCES") } else { None });
    let s = audit.or(text)?;
    let fedora_like = c.like("fedora") || c.like("rhel") || c.like("centos");
    let score = if audit.is_some() { 94 } else if enforcing { 85 } else if fedora_like { 72 } else if c.distro_id().is_none() { 45 } else { 25 };
    Some(
        cand("NSD151", score, if audit.is_some() || enforcing { Confidence::Medium } else { Confidence::Low },
            "EACCES (Permission denied) at namespace creation or mount comes from an LSM; on SELinux hosts it is a `user_namespace { create }` (or mount) denial for the process's domain.".to_string(),
            if audit.is_some() { "the AVC record names the denial" } else { "EACCES from an LSM; SELinux is the likely LSM on this distro" })
            .ev(Some(Ctx::sym_ev(s, "denied")))
            .ev(se_ev)
            .ev(c.distro_ev())
            .fix(remedy::selinux(c)),
    )
}

/// NSD161: a setuid helper (setuid bwrap, chrome-sandbox) is broken where the host needs one.
fn setuid_helper_broken(c: &Ctx) -> Option<Cand> {
    if let Some(s) = c.sym(&[K::SuidHelperMisconfigured, K::SetuidCapset]) {
        // `capset failed` after a namespace failure is the setuid fallback dying too: secondary.
        let secondary = s.s.kind == K::SetuidCapset && c.text_create_errno().is_some();
        return Some(
            cand("NSD161", if secondary { 55 } else { 90 }, if secondary { Confidence::Low } else { Confidence::High },
                "The setuid sandbox helper cannot gain its privileges: Chromium's `chrome-sandbox` must be root-owned with mode 4755; setuid bwrap fails with `capset failed` under an empty bounding set or with file capabilities.".to_string(),
                "the helper's own message names the broken setuid setup")
                .ev(Some(Ctx::sym_ev(s, "the setuid helper's error")))
                .fix(remedy::setuid_broken(c)),
        );
    }
    if let Some(s) = c.sym(&[K::NoUsableSandbox]).filter(|_| c.text_only()) {
        let ubuntu_restricted = c.ubuntu_version().is_some_and(|v| v >= 2310);
        return Some(
            cand("NSD161", if ubuntu_restricted { 45 } else { 65 }, Confidence::Low,
                "Chromium/Electron found neither a working namespace sandbox nor a working setuid helper (`chrome-sandbox`, root-owned, mode 4755). Where user namespaces are blocked, the setuid helper is the fallback.".to_string(),
                if ubuntu_restricted { "on this Ubuntu release the namespace sandbox is the usual casualty; the setuid helper is the fallback that is also missing" } else { "no namespace sandbox and no setuid helper" })
                .ev(Some(Ctx::sym_ev(s, "no usable sandbox")))
                .fix(remedy::setuid_broken(c)),
        );
    }
    let b = c.bwrap_bin()?;
    if !b.setuid.is_true() {
        return None;
    }
    // A root-owned setuid bwrap whose own run still fails at namespace creation did not get its privileges
    // (missing file capabilities on old builds, containers/bubblewrap#102; NNP; nosuid; capset).
    // Setuid only helps when the run does not ask for a user namespace itself (bwrap clones as root then);
    // with `--unshare-user` a working setuid bwrap still needs user namespaces (host-policies.md §7.4).
    let replay_create_fail = c.syms.iter().find(|s| {
        s.pointer.starts_with("/replays/")
            && matches!(s.s.kind, K::BwrapKernelNoUserns | K::BwrapNoPermissions | K::BwrapCreateFailed)
            && replay_of(c, &s.pointer).is_some_and(|r| !r.argv.iter().any(|a| a == "--unshare-user" || a == "--unshare-all"))
    });
    if let (Some(s), Some(0)) = (replay_create_fail, b.owner_uid.get().copied()) {
        if matches!(c.userns_err(), Some("EINVAL" | "EPERM")) {
            return Some(
                cand("NSD161", 90, Confidence::Medium,
                    format!("Unprivileged user namespaces are unavailable here, so {} must work as a setuid helper, but its own run still fails at namespace creation: it is not getting the privileges the setuid bit should give (file capabilities an old build expects, NoNewPrivileges, a nosuid mount, an empty bounding set).", b.path),
                    "the host needs the setuid helper and the helper's run fails where setuid should have carried it")
                    .ev(c.step_ev(c.userns_step(), "unprivileged creation is refused"))
                    .ev(Some(ev("/bwrap/binaries", format!("{} setuid root", b.path), "the sandbox's bwrap is installed setuid")))
                    .ev(Some(Ctx::sym_ev(s, "the setuid bwrap still failed")))
                    .fix(remedy::setuid_broken(c)),
            );
        }
    }
    let mut broken = Vec::new();
    if let Some(u) = b.owner_uid.get() {
        if *u != 0 {
            broken.push(ev("/bwrap/binaries", format!("{} owner uid {u}", b.path), "setuid only grants root when root owns the file"));
        }
    }
    if b.nosuid_mount.is_true() {
        broken.push(ev("/bwrap/binaries", format!("{} on a nosuid mount", b.path), "the kernel ignores the setuid bit on nosuid mounts"));
    }
    if c.r.process.no_new_privs.is_true() {
        broken.push(ev("/process/no_new_privs", "true", "NoNewPrivs makes execve ignore the setuid bit"));
    }
    // Only blocks that a working setuid bwrap gets past: the clone sysctl (EPERM) and AppArmor's restriction.
    let blocked = c.userns_err() == Some("EPERM") || !c.caps_lost().is_empty();
    if broken.is_empty() || !blocked {
        return None;
    }
    Some(
        cand("NSD161", 70, Confidence::Medium,
            format!("The sandbox's bwrap ({}) is setuid, which would bypass the user-namespace block, but it cannot gain root here.", b.path),
            "the setuid route is the fallback on this host and it is broken")
            .evs(broken)
            .fix(remedy::setuid_broken(c)),
    )
}

/// `6.8.0-45-generic` → (6, 8).
fn kernel_version(release: &str) -> Option<(u32, u32)> {
    let mut it = release.split(|c: char| !c.is_ascii_digit());
    Some((it.next()?.parse().ok()?, it.next()?.parse().ok()?))
}

fn replay_of<'a>(c: &'a Ctx, pointer: &str) -> Option<&'a crate::report::Replay> {
    let idx: usize = pointer.strip_prefix("/replays/")?.split('/').next()?.parse().ok()?;
    c.r.replays.get(idx)
}

/// NSD162: newuidmap/newgidmap (rootless podman/buildah) cannot write the maps.
fn newuidmap_broken(c: &Ctx) -> Option<Cand> {
    let s = c.sym(&[K::Newuidmap])?;
    Some(
        cand("NSD162", 88, Confidence::Medium,
            "The setuid helpers newuidmap/newgidmap (package uidmap / shadow-utils) failed to write the id maps: missing, without their setuid bit or file capabilities, or the user has no /etc/subuid range.".to_string(),
            "the text names newuidmap/newgidmap")
            .ev(Some(Ctx::sym_ev(s, "newuidmap failure")))
            .fix(remedy::newuidmap(c)),
    )
}

fn wsl1_ev(c: &Ctx) -> Option<Evidence> {
    if c.r.platform.wsl1.is_true() {
        return Some(ev("/platform/wsl1", "true", "Windows Subsystem for Linux 1: a syscall translation layer without namespaces"));
    }
    let v = c.r.kernel.proc_version.get()?;
    (v.contains("Microsoft") && !v.contains("WSL2") && !v.contains("microsoft-standard")).then(|| ev("/kernel/proc_version", v.clone(), "the WSL1 kernel string"))
}

/// NSD171: WSL1 (EINVAL; microsoft/WSL#2981).
fn wsl1_no_userns(c: &Ctx) -> Option<Cand> {
    let w = wsl1_ev(c)?;
    let einval = c.userns_err() == Some("EINVAL") || c.text_create_errno().is_some_and(|(e, _)| e == "EINVAL");
    Some(
        cand("NSD171", if einval { 98 } else { 88 }, Confidence::High,
            "WSL1 translates Linux syscalls and has no user namespaces: unshare(CLONE_NEWUSER) returns EINVAL and bwrap says the kernel does not support user namespaces. Codex refuses its bwrap sandbox on WSL1.".to_string(),
            "WSL1 cannot create namespaces at all")
            .ev(Some(w))
            .ev(c.step_ev(c.userns_step(), "EINVAL"))
            .fix(remedy::wsl1()),
    )
}

/// NSD172: kernel without user namespaces (CONFIG_USER_NS=n, < 3.8).
fn kernel_without_userns(c: &Ctx) -> Option<Cand> {
    if wsl1_ev(c).is_some() {
        return None;
    }
    let absent = c.r.kernel.userns_supported.is_false();
    if !absent && c.rhel7() && c.r.sysctl.max_user_namespaces.get() == Some(&0) {
        return None; // NSD121
    }
    let einval = c.userns_err() == Some("EINVAL") && c.seccomp_filtered() != Some(true);
    let text = if c.text_only() { c.sym(&[K::BwrapKernelNoUserns]).or_else(|| c.sym_errno(&[K::UnshareFailed], "EINVAL")) } else { None };
    if !absent && !einval && text.is_none() {
        return None;
    }
    let score = if absent { 96 } else if einval { 85 } else if c.rhel7() { 60 } else if c.r.platform.wsl1.get().is_none() && c.r.platform.wsl2.get().is_none() { 55 } else { 70 };
    Some(
        cand("NSD172", score, if absent { Confidence::High } else { Confidence::Medium },
            "This kernel does not provide user namespaces (built without CONFIG_USER_NS, older than 3.8, or disabled on RHEL 7), so creation fails with EINVAL and bwrap suggests a setuid install.".to_string(),
            if absent { "/proc/self/ns/user does not exist" } else { "EINVAL from a single-threaded unshare(CLONE_NEWUSER) without a seccomp filter" })
            .ev(absent.then(|| ev("/kernel/userns_supported", "false", "/proc/self/ns/user is missing")))
            .ev(if einval { c.step_ev(c.userns_step(), "EINVAL") } else { None })
            .ev(text.map(|s| Ctx::sym_ev(s, "kernel without user namespaces")))
            .ev(c.kernel_release().map(|k| ev("/kernel/release", k, "kernel")))
            .fix(remedy::kernel_no_userns()),
    )
}

/// NSD173: chrooted caller (`current_chrooted()` → EPERM in create_user_ns).
fn chrooted_caller(c: &Ctx) -> Option<Cand> {
    if !c.r.process.chrooted.is_true() {
        // Text only, chroot unknown: a low candidate (CI chroots print the same EPERM wording).
        let (e, s) = c.text_create_errno()?;
        if !c.text_only() || e != "EPERM" || !c.r.process.chrooted.is_not_probed() || c.container().is_some() {
            return None;
        }
        return Some(
            cand("NSD173", 20, Confidence::Low,
                "If this ran in a chroot (schroot, a CI build chroot), the kernel refuses user namespaces with EPERM and bwrap blames the sysctl.".to_string(),
                "EPERM at creation is also what a chrooted caller gets; whether it was chrooted is unknown")
                .ev(Some(Ctx::sym_ev(s, "EPERM creating the namespace")))
                .fix(remedy::chroot()),
        );
    }
    let step = c.userns_err() == Some("EPERM");
    let text = c.text_create_errno().is_some_and(|(e, _)| e == "EPERM");
    if c.userns_ok() {
        return None;
    }
    Some(
        cand("NSD173", if step { 97 } else if text { 90 } else { 70 }, if step { Confidence::High } else { Confidence::Medium },
            "The caller runs in a chroot (its root is not its mount namespace's root); the kernel refuses to create user namespaces for chrooted processes with EPERM, and bwrap misleadingly blames the kernel's sysctl.".to_string(),
            if step { "EPERM at creation and the process is chrooted" } else { "the process is chrooted" })
            .ev(Some(ev("/process/chrooted", "true", "root directory differs from the mount namespace's root")))
            .ev(c.step_ev(c.userns_step(), "EPERM at creation"))
            .fix(remedy::chroot()),
    )
}

/// NSD174: EINVAL from a multithreaded caller (unshare(2): CLONE_NEWUSER implies a single-threaded caller).
fn multithreaded_caller(c: &Ctx) -> Option<Cand> {
    let s = c.sym_errno(&[K::UnshareFailed, K::UsernsEinval, K::CannotClone], "EINVAL")?;
    if wsl1_ev(c).is_some() || c.r.kernel.userns_supported.is_false() {
        return None;
    }
    let probe_ok = c.userns_ok();
    let threads = c.r.process.threads.get().filter(|t| **t > 1);
    let score = if probe_ok { 92 } else if threads.is_some() { 88 } else { 40 };
    Some(
        cand("NSD174", score, if probe_ok || threads.is_some() { Confidence::High } else { Confidence::Low },
            "unshare(CLONE_NEWUSER) returns EINVAL when the calling process has more than one thread. The kernel here supports user namespaces, so the program that printed the error is multi-threaded and must fork a single-threaded helper (as bwrap is) first.".to_string(),
            if probe_ok { "the same call from nsdoctor's single-threaded probe succeeds" } else { "EINVAL at creation on a kernel that has user namespaces" })
            .ev(Some(Ctx::sym_ev(s, "EINVAL creating the user namespace")))
            .ev(if probe_ok { c.step_ev(StepId::Userns, "succeeds from a single-threaded process") } else { None })
            .ev(threads.map(|t| ev("/process/threads", t.to_string(), "threads in the calling program")))
            .fix(remedy::multithreaded()),
    )
}

/// NSD191: the real bwrap and the ladder disagree.
fn replay_disagrees_with_ladder(c: &Ctx) -> Option<Cand> {
    if let Some((_, r)) = c.sandbox_replay() {
        if let ReplayExit::SpawnFailed { errno } = &r.exit {
            // The binary itself could not be started: not a namespace policy, but the sandbox cannot run it.
            let path = r.argv.first().cloned().unwrap_or_else(|| c.bwrap_path());
            return Some(
                cand("NSD191", 50, Confidence::High,
                    format!("The sandbox's bwrap `{path}` could not be started ({}): it is missing, not executable, or on a noexec mount. The namespace steps themselves were not the problem.", errno.name),
                    "the real bwrap run never started")
                    .sev(Severity::Warning)
                    .ev(c.replay_ev())
                    .fix(vec![remedy::install_bwrap()]),
            );
        }
    }
    let ok = c.replay_ok()?;
    let ladder_fail = !c.relevant_failures().is_empty();
    if ok != ladder_fail {
        return None;
    }
    if ok && c.restriction().is_some_and(|(on, _)| on) && c.bwrap_profile().is_some() {
        return None; // NSD103 explains it.
    }
    let summary = if ok {
        "The real bwrap runs the sandbox although the probe's own steps fail: bwrap has privileges the probe lacks (setuid, file capabilities, or an AppArmor/SELinux policy attached to its path).".to_string()
    } else {
        "The probe's own steps all succeed, yet the real bwrap fails: something attached to the bwrap binary or its arguments (an AppArmor profile for its path, a broken setuid bit, a missing file) differs from the probe.".to_string()
    };
    Some(
        cand("NSD191", if ok { 25 } else { 50 }, Confidence::Medium, summary, "the disagreement points at the bwrap binary rather than the kernel")
            .sev(if ok { Severity::Info } else { Severity::Warning })
            .ev(c.replay_ev())
            .ev(c.sandbox_replay().map(|(i, r)| ev(format!("/replays/{i}/stderr"), r.stderr.lines().next().unwrap_or("").to_string(), "bwrap's message")))
            .ev(c.r.bwrap.selected.as_ref().map(|p| ev("/bwrap/selected", p.clone(), "the bwrap the sandbox runs"))),
    )
}

/// The operator-facing account of one cause for the observations it explains.
fn ranked_summary(r: &Ranked) -> String {
    let what = match r.cause {
        Cause::ApparmorUsernsRestriction => "AppArmor restricts unprivileged user namespaces here (Ubuntu 23.10+/24.04+ or a host profile without `userns,`): creation is denied with EACCES, or the new namespace is moved into `unprivileged_userns`, which has no capabilities, so setgroups, the id maps, loopback and mounts fail next. The fix is an AppArmor profile with `userns,` for the binary that creates the namespaces.",
        Cause::UnprivilegedUsernsCloneDisabled => "The kernel switch `kernel.unprivileged_userns_clone` (Debian/Arch patch; 0 by default on Debian 10 and older and on linux-hardened) is 0, so only root may create user namespaces: EPERM at creation.",
        Cause::UsernsLimitZero => "A `user.max_*_namespaces` limit is 0 or used up (RHEL/CentOS 7.4+ default 0; hardening guides): creation fails with ENOSPC (EINVAL on RHEL 7 kernels).",
        Cause::NestedUsernsLimit => "This runs inside another sandbox (Flatpak, bwrap, an agent's sandbox) that forbids a further user namespace or leaves it without capabilities.",
        Cause::ContainerSeccomp => "The container runtime's seccomp profile refuses to create namespaces (Docker/containerd/Kubernetes defaults allow clone/unshare with namespace flags only with CAP_SYS_ADMIN; clone3 gets ENOSYS). Programs then blame a kernel sysctl.",
        Cause::ContainerNoCaps => "Root inside a container without CAP_SYS_ADMIN creates mount/pid/net namespaces directly and gets EPERM; creating a user namespace first, or granting the capability, gets past it.",
        Cause::ContainerApparmorProfile => "The container's AppArmor profile (`docker-default`, LXC's container profile) denies mounts and, with AppArmor 4, user namespaces: EACCES.",
        Cause::ProcMountRestricted => "Mounting a new /proc is refused because the /proc this runs under is masked or overmounted (container runtimes' masked paths, another filesystem mounted inside /proc): the kernel only allows a new procfs where the existing one is fully visible.",
        Cause::SystemdUnitHardening => "The systemd unit that runs this restricts it (`RestrictNamespaces=`, `SystemCallFilter=`, `RestrictAddressFamilies=`, `ProtectKernelTunables=`/`ProcSubset=`, `PrivateUsers=`, NoNewPrivileges): the sandbox inherits those limits.",
        Cause::SelinuxDenial => "SELinux denies the user namespace (`user_namespace { create }`, kernel 6.1+) or the sandbox's mounts for this process's domain: EACCES.",
        Cause::SetuidSandboxBroken => "The setuid sandbox helper cannot work: Chromium's `chrome-sandbox` must be root-owned with mode 4755 on a filesystem without nosuid, and a setuid bwrap needs its privileges; this is the fallback when unprivileged user namespaces are unavailable.",
        Cause::NewuidmapBroken => "The id-map helpers newuidmap/newgidmap (package uidmap / shadow-utils) failed: missing, without their setuid bit or file capabilities, or the user has no /etc/subuid and /etc/subgid range.",
        Cause::Wsl1NoUserns => "WSL1 translates Linux syscalls and has no namespaces: creation fails with EINVAL. Use WSL2.",
        Cause::KernelNoUserns => "This kernel does not provide user namespaces (built without CONFIG_USER_NS, older than 3.8, EL6, or RHEL/CentOS 7 before 7.4 where `user_namespace.enable=0`): creation fails with EINVAL.",
        Cause::Chroot => "The caller runs in a chroot; the kernel refuses to create user namespaces for chrooted processes (EPERM), and programs misleadingly blame the sysctl.",
        Cause::GvisorLoopback => "Inside gVisor the new network namespace's loopback is configured already, so the sandbox's own RTM_NEWADDR fails.",
        Cause::MultithreadedCaller => "unshare(CLONE_NEWUSER) returns EINVAL when the calling process has more than one thread (Go, the JVM, Node, a Python program with threads): the program must fork a single-threaded helper first.",
        Cause::Unknown => "",
    };
    match r.primary() {
        Some(o) => format!("{what} Read: {} failed{}.", o.op.describe(), o.errno.map(|e| format!(" with {e}")).unwrap_or_default()),
        None => what.to_string(),
    }
}

fn ranked_fixes(c: &Ctx, code: &str) -> Vec<Remediation> {
    match code {
        "NSD101" => remedy::apparmor_restriction(c),
        "NSD102" => remedy::apparmor_create_denied(c),
        "NSD111" => remedy::userns_clone_sysctl(c),
        "NSD121" => remedy::userns_limits(c, &["max_user_namespaces", "max_mnt_namespaces", "max_pid_namespaces"]),
        "NSD122" => remedy::userns_limits(c, &["max_net_namespaces"]),
        "NSD123" => remedy::nested(c),
        "NSD131" => remedy::container_seccomp(c),
        "NSD132" => remedy::container_no_caps(c),
        "NSD133" => remedy::container_apparmor(c),
        "NSD134" => remedy::proc_masked(c),
        "NSD135" => remedy::gvisor(c),
        "NSD141" => remedy::unit_restrict_namespaces(c),
        "NSD142" => remedy::unit_address_families(c),
        "NSD143" => remedy::unit_syscall_kill(c),
        "NSD144" => remedy::unit_proc(c, true),
        "NSD145" => remedy::unit_syscall_errno(c),
        "NSD151" => remedy::selinux(c),
        "NSD161" => remedy::setuid_broken(c),
        "NSD162" => remedy::newuidmap(c),
        "NSD171" => remedy::wsl1(),
        "NSD172" => remedy::kernel_no_userns(),
        "NSD173" => remedy::chroot(),
        "NSD174" => remedy::multithreaded(),
        _ => remedy::unexplained(c),
    }
}

/// Most findings in a differential: the top cause and the alternatives worth confirming.
const MAX_DIFFERENTIAL: usize = 3;

/// Ranked causes → candidates, in rank order (scores only order them).
fn ranked_candidates(c: &Ctx, diff: &causes::Differential, cap: Confidence) -> Vec<Cand> {
    let mut out = Vec::new();
    let ranked = &diff.ranked;
    let n = ranked.len();
    for (i, r) in ranked.iter().take(MAX_DIFFERENTIAL).enumerate() {
        let score = u32::try_from(MAX_DIFFERENTIAL.saturating_sub(i)).unwrap_or(0).saturating_mul(10).saturating_add(10);
        let mut why: Vec<String> = r.reasons.iter().map(|s| (*s).to_string()).collect();
        if i == 0 && n > 1 {
            why.push("the best fit of every cause nsdoctor knows for what was read and the stated facts".to_string());
        }
        if i == 0 && !diff.ruled_out.is_empty() {
            let out: Vec<String> = diff.ruled_out.iter().map(|(cause, w)| format!("{} ({w})", cause.as_str())).collect();
            why.push(format!("ruled out by the facts: {}", out.join(", ")));
        } else if i > 0 {
            why.insert(0, "an alternative that also fits".to_string());
        }
        let confidence = match (r.confidence, cap) {
            (_, Confidence::Low) | (Confidence::Low, _) => Confidence::Low,
            (Confidence::Medium, _) | (_, Confidence::Medium) => Confidence::Medium,
            _ => Confidence::High,
        };
        let mut cd = cand(r.code, score, confidence, ranked_summary(r), &why.join("; "));
        // An alternative is at most as severe as the best fit: a warning-level top cause (a multi-threaded
        // caller) is not made blocking by a less likely candidate.
        if i > 0 {
            let top = ranked.first().and_then(|t| rules::by_code(t.code)).map(|t| t.severity);
            let own = rules::by_code(r.code).map(|x| x.severity);
            if let (Some(t), Some(o)) = (top, own) {
                if severity_rank(t) < severity_rank(o) {
                    cd = cd.sev(t);
                }
            }
        }
        // The best fit cites everything it explains; an alternative its first failure.
        for o in r.explains.iter().take(if i == 0 { usize::MAX } else { 1 }) {
            cd = cd.ev(Some(obs_ev(o)));
        }
        if i == 0 {
            cd = cd.ev(c.distro_ev());
        }
        // The fixes of the best fit; an alternative is confirmed first (the `to confirm` commands tell them
        // apart) and its fixes are one `nsdoctor explain CODE` away.
        if i == 0 {
            cd = cd.fix(ranked_fixes(c, r.code));
        }
        out.push(cd);
    }
    out
}

fn severity_rank(s: Severity) -> u8 {
    match s {
        Severity::Error => 3,
        Severity::Warning => 2,
        Severity::Info => 1,
    }
}

fn obs_ev(o: &Obs) -> Evidence {
    let pointer = if o.line_no == 0 { o.pointer.clone() } else { format!("{} (line {})", o.pointer, o.line_no) };
    let meaning = match o.errno {
        Some(e) => format!("{} failed with {e}", o.op.describe()),
        None => format!("{} failed", o.op.describe()),
    };
    ev(pointer, o.line.clone(), meaning)
}

/// The facts view and observations of a report: probe steps, the sandbox's replays and a pasted text.
fn observations(c: &Ctx) -> (Vec<Obs>, Facts) {
    let mut obs = Vec::new();
    let mut tc = TextContext { tool_about_ns: observe::names_ns_step(&c.cfg.tool.to_lowercase()), ..TextContext::default() };
    if let Some(t) = &c.r.observed_error {
        observe::read_text(t, "/observed_error", &mut obs, &mut tc);
    }
    for (i, rp) in c.r.replays.iter().enumerate() {
        observe::read_text(&rp.stderr, &format!("/replays/{i}/stderr"), &mut obs, &mut tc);
    }
    causes::probe_observations(c.r, &mut obs);
    let facts = Facts::new(c.r, &c.cfg.tool, c.container(), &tc, &obs);
    (obs, facts)
}

/// Every rule's detection, in registry order.
type Detector = fn(&Ctx) -> Option<Cand>;

const DETECTORS: &[(&str, Detector)] = &[
    ("NSD101", apparmor_userns_transition),
    ("NSD102", apparmor_userns_create_denied),
    ("NSD103", apparmor_restriction_covered),
    ("NSD111", userns_clone_sysctl_disabled),
    ("NSD121", userns_limit_reached),
    ("NSD122", netns_limit_reached),
    ("NSD123", nested_sandbox_limit),
    ("NSD131", container_seccomp_namespaces),
    ("NSD132", container_without_sys_admin),
    ("NSD133", container_apparmor_mount),
    ("NSD134", proc_masked),
    ("NSD135", gvisor_loopback_preconfigured),
    ("NSD141", unit_restrict_namespaces),
    ("NSD142", unit_address_families),
    ("NSD143", unit_syscall_filter_kill),
    ("NSD144", unit_proc_hardening),
    ("NSD145", unit_syscall_filter_errno),
    ("NSD151", selinux_userns_denied),
    ("NSD161", setuid_helper_broken),
    ("NSD162", newuidmap_broken),
    ("NSD171", wsl1_no_userns),
    ("NSD172", kernel_without_userns),
    ("NSD173", chrooted_caller),
    ("NSD174", multithreaded_caller),
    ("NSD191", replay_disagrees_with_ladder),
];

/// The codes that have a detector (NSD199 is the fallback in `diagnose`). Used by the registry test.
pub fn detector_codes() -> Vec<&'static str> {
    let mut v: Vec<&str> = DETECTORS.iter().map(|(c, _)| *c).collect();
    v.push("NSD199");
    v
}

/// NSD199: something failed and no rule explains it.
fn unexplained_failure(c: &Ctx) -> Option<Cand> {
    let steps = c.relevant_failures();
    let spawn_failed = c.sandbox_replay().is_some_and(|(_, r)| matches!(r.exit, ReplayExit::SpawnFailed { .. }));
    let replay_failed = c.replay_ok() == Some(false) && !spawn_failed;
    let text = c.syms.iter().find(|s| s.pointer == "/observed_error");
    if steps.is_empty() && !replay_failed && text.is_none() && !(c.text_only() && c.r.observed_error.is_some()) {
        return None;
    }
    let mut cd = cand(
        "NSD199",
        10,
        Confidence::Low,
        "A namespace step failed, but the errno and the host's facts match no mechanism nsdoctor knows (e.g. a BPF-LSM site policy, a patched kernel). The evidence below is what failed.".to_string(),
        "no rule explains the failure",
    );
    for id in steps {
        cd = cd.ev(c.step_ev(id, "failed"));
    }
    cd = cd.ev(if replay_failed { c.replay_ev() } else { None });
    if let Some(s) = text {
        cd = cd.ev(Some(Ctx::sym_ev(s, "reported")));
    } else if c.text_only() {
        if let Some(t) = &c.r.observed_error {
            let first: String = t.lines().find(|l| !l.trim().is_empty()).unwrap_or("").chars().take(300).collect();
            cd = cd.ev(Some(ev("/observed_error", first, "no known symptom in this text")));
        }
    }
    Some(cd.fix(remedy::unexplained(c)))
}

fn headline(verdict: Verdict, top: Option<&Finding>, cfg: &SandboxConfig) -> String {
    match (verdict, top) {
        (Verdict::Ok, Some(f)) if f.severity == Severity::Info => format!("the {} sandbox can create the namespaces it needs ({})", cfg.tool, f.name),
        (Verdict::Ok, _) => format!("the {} sandbox can create the namespaces it needs", cfg.tool),
        (_, Some(f)) => format!("{} (cause: {})", f.title, f.cause.as_str()),
        (_, None) => "no finding".to_string(),
    }
}

pub(crate) fn diagnose(r: &ProbeReport, cfg: &SandboxConfig) -> Diagnosis {
    let text_only = r.steps.is_empty() && r.replays.is_empty() && r.observed_error.is_some();
    let ctx = Ctx::new(r, cfg, !text_only);
    let mut nothing_read = false;
    let mut cands: Vec<Cand> = if text_only {
        // A pasted text: every cause is scored against what the text says failed and the stated facts.
        let (obs, facts) = observations(&ctx);
        nothing_read = obs.is_empty();
        let mut c = ranked_candidates(&ctx, &causes::rank(&obs, &facts), Confidence::Medium);
        if c.is_empty() && !obs.is_empty() {
            // Something failed and no cause fits what was read with these facts.
            c.extend(unexplained_failure(&ctx).map(|cd| cd.evs(obs.iter().map(obs_ev))));
        }
        c
    } else {
        DETECTORS.iter().filter_map(|(_, f)| f(&ctx)).collect()
    };
    // Any finding but the replay disagreement names a mechanism. With none, the ranker reasons by
    // elimination over every cause the facts still allow; only when none fits does NSD199 speak.
    let explained = cands.iter().any(|c| c.code != "NSD191");
    if !explained && !nothing_read {
        if !text_only && !ctx.relevant_failures().is_empty() {
            let (obs, facts) = observations(&ctx);
            let relevant: Vec<Obs> = obs.into_iter().filter(|o| o.pointer.starts_with("/replays/") || ctx.relevant_failures().iter().any(|id| r.step_index(*id).is_some_and(|i| o.pointer == format!("/steps/{i}/result")))).collect();
            let mut diff = causes::rank(&relevant, &facts);
            diff.ranked.retain(|x| x.score > 0);
            // The facts rule out every mechanism but one: that one, with medium confidence.
            if let [only] = diff.ranked.as_mut_slice() {
                only.confidence = Confidence::Medium;
                only.reasons.push("the only mechanism the probe's facts leave");
            }
            cands.extend(ranked_candidates(&ctx, &diff, Confidence::Medium));
        }
        if !cands.iter().any(|c| c.code != "NSD191") {
            cands.extend(unexplained_failure(&ctx));
        }
    }
    // A finding that explains the real sandbox run's own error is closer to the root cause than one that
    // explains a later ladder step.
    if let Some((i, _)) = ctx.sandbox_replay() {
        let p = format!("/replays/{i}/");
        for c in &mut cands {
            if c.code != "NSD191" && c.evidence.iter().any(|e| e.pointer.starts_with(&p)) {
                c.score = c.score.saturating_add(6);
            }
        }
    }
    // The sandbox's own bwrap ran fine: nothing is blocking it, whatever else the ladder saw.
    let replay_ok = ctx.replay_ok() == Some(true);
    cands.sort_by(|a, b| b.score.cmp(&a.score).then(a.code.cmp(b.code)));
    let mut findings = Vec::new();
    for (i, c) in cands.into_iter().enumerate() {
        let Some(rule) = rules::by_code(c.code) else { continue };
        let mut severity = c.severity.unwrap_or(rule.severity);
        let mut ranking = c.why;
        if replay_ok && severity == Severity::Error {
            severity = Severity::Warning;
            ranking.push_str("; not blocking: the sandbox's real bwrap run succeeded");
        }
        findings.push(Finding {
            rank: u32::try_from(i.saturating_add(1)).unwrap_or(u32::MAX),
            code: rule.code.to_string(),
            name: rule.name.to_string(),
            cause: rule.cause,
            severity,
            blocking: severity == Severity::Error,
            confidence: c.confidence,
            title: rule.title.to_string(),
            summary: c.summary,
            evidence: c.evidence,
            ranking,
            remediations: c.remediations,
        });
    }
    let verdict = if findings.iter().any(|f| f.blocking) {
        Verdict::Blocked
    } else if findings.iter().any(|f| f.severity == Severity::Warning) {
        Verdict::Degraded
    } else {
        Verdict::Ok
    };
    let input = if ctx.has_steps() || !r.replays.is_empty() {
        InputKind::Probe
    } else if r.observed_error.is_some() {
        InputKind::ErrorText
    } else {
        InputKind::StaticFacts
    };
    let mut confirm = Vec::new();
    if input != InputKind::Probe && verdict != Verdict::Ok {
        confirm.push("nsdoctor check".to_string());
        let mut seen = std::collections::BTreeSet::new();
        for f in findings.iter().take(3) {
            for cmd in confirm_for(f.cause) {
                if seen.insert(cmd) {
                    confirm.push(cmd.to_string());
                }
            }
        }
    }
    Diagnosis {
        schema_version: DIAGNOSIS_SCHEMA_VERSION,
        verdict,
        input,
        headline: if input == InputKind::ErrorText && findings.is_empty() {
            "no namespace failure recognised in the text".to_string()
        } else {
            headline(verdict, findings.first(), cfg)
        },
        config: cfg.clone(),
        findings,
        confirm,
        rendered: String::new(),
    }
}

/// Read-only commands that confirm a candidate cause.
fn confirm_for(cause: Cause) -> &'static [&'static str] {
    match cause {
        Cause::ApparmorUsernsRestriction => &[
            "cat /proc/sys/kernel/apparmor_restrict_unprivileged_userns",
            "sudo journalctl -k | grep -E 'apparmor=\"(AUDIT|DENIED)\".*(userns|unprivileged_userns|unpriv_bwrap)'",
        ],
        Cause::UnprivilegedUsernsCloneDisabled => &["cat /proc/sys/kernel/unprivileged_userns_clone"],
        Cause::UsernsLimitZero | Cause::NestedUsernsLimit => &["sysctl user.max_user_namespaces user.max_net_namespaces user.max_mnt_namespaces user.max_pid_namespaces", "cat /proc/self/uid_map"],
        Cause::ContainerSeccomp | Cause::ContainerNoCaps => &["grep -E '^(Seccomp|NoNewPrivs|CapEff)' /proc/self/status"],
        Cause::SystemdUnitHardening => &["systemctl show <unit> -p RestrictNamespaces -p SystemCallFilter -p RestrictAddressFamilies -p ProtectKernelTunables -p ProcSubset"],
        Cause::SelinuxDenial => &["getenforce", "sudo ausearch -m AVC -ts recent"],
        Cause::ContainerApparmorProfile => &["cat /proc/self/attr/current"],
        Cause::ProcMountRestricted => &["grep ' /proc/' /proc/self/mountinfo"],
        Cause::Wsl1NoUserns | Cause::KernelNoUserns | Cause::GvisorLoopback => &["cat /proc/version", "ls /proc/self/ns/"],
        Cause::Chroot => &["ls -di / /proc/1/root"],
        Cause::SetuidSandboxBroken | Cause::NewuidmapBroken | Cause::MultithreadedCaller | Cause::Unknown => &[],
    }
}
