//! `nsdoctor fix`: a diagnosis's remediation as a guarded, verified, reversible POSIX script.
//!
//! Every remediation id the engine can print has an entry in [`CATALOGUE`]: either a kind of host-local change
//! (with its pre-checks, verify step and undo, documented on [`Kind`]) or the reason it cannot be applied on
//! this host (a container's runtime flags, a managed platform, a change in the calling program). [`plan`]
//! turns the top blocking finding's least privileged host-local remediation (or the one named) into a [`Plan`];
//! [`script`] renders it. The same script is what the operator reads (`nsdoctor fix`), what
//! `nsdoctor fix --apply --yes` runs, and what the console offers for download: one implementation of the
//! guard rails, byte-identical everywhere.
//!
//! The script, run as root:
//! 1. checks the facts it relies on still hold (the sysctl key exists and no later sysctl.d file sets it
//!    differently; AppArmor 4 userspace and no other profile attaching to the same path; the profile includes its
//!    `local/` override; the unit exists), validates artifacts with the real tool before installing them
//!    (`apparmor_parser -Q -K`, `systemd-analyze verify`), and stops at the first failure with nothing changed (a
//!    step that fails later, a `sysctl -w` or a profile load, undoes what was already changed before it stops);
//! 2. records an undo manifest under `$NSDOCTOR_STATE_DIR` (default `/var/lib/nsdoctor`): every file it writes
//!    with its previous contents and mode, every sysctl's previous value, every profile it loads or unloads;
//! 3. installs files atomically (a temporary file in the same directory, then `mv`), applies them;
//! 4. re-runs nsdoctor's check as the sandbox's user and under its restrictions, and undoes everything by
//!    itself when the sandbox is still blocked.
//!
//! `sh fix.sh --check` runs the pre-checks only; `sh fix.sh --undo` restores the recorded state. Applying
//! twice changes nothing the second time (already applied is detected per step); undo after undo says there is
//! nothing to undo.

use serde::Serialize;

use crate::diagnosis::{ArtifactKind, Diagnosis, Finding, Remediation};
use crate::report::ProbeReport;

/// What kind of host-local change a remediation is. The pre-checks, verify step and undo of each kind are the
/// contract the generated script implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Kind {
    /// A file under /etc/sysctl.d plus `sysctl -w` of each key. Pre-checks: the key exists under /proc/sys; no
    /// sysctl.d file that sorts after ours (or /etc/sysctl.conf) sets it to another value. Verify: the
    /// value reads back, then nsdoctor's check. Undo: the previous file (or none) and each key's previous value.
    SysctlFile,
    /// A new AppArmor profile for one root-owned path, loaded. Pre-checks: `apparmor_parser` and
    /// /etc/apparmor.d/abi/4.0 exist; no other profile file attaches to the same path (two would cancel each
    /// other); the profile parses (`apparmor_parser -Q -K`). Verify: nsdoctor's check. Undo: the profile is
    /// unloaded and its file removed (or the previous one restored and reloaded).
    NewProfile,
    /// Conflicting attachments: every profile but the kept one is disabled as aa-disable does (a link under
    /// /etc/apparmor.d/disable/, then unloaded) and the kept one reloaded. Pre-checks: `apparmor_parser`, the
    /// files exist. Verify: nsdoctor's check. Undo: the links removed, the profiles reloaded.
    DisableOthers,
    /// `userns,` in a profile's `local/` override, then the profile reloaded. Pre-checks: the profile file
    /// exists and includes its local override; a reload that fails with the rule undoes the change at once.
    /// Verify: nsdoctor's check (under that profile when the probe ran under it). Undo: the override restored
    /// and the profile reloaded.
    LocalUserns,
    /// A complain- or kill-mode profile switched to `flags=(unconfined)` with `userns,` in its override, then
    /// reloaded. Pre-checks and undo as [`Kind::LocalUserns`], plus the profile file's previous contents.
    FlagsUnconfined,
    /// A systemd drop-in for the sandbox's unit, then `daemon-reload` and a restart of the unit. Pre-checks:
    /// `systemctl` and the unit exist. Verify: `systemd-analyze verify` of the unit with the drop-in (rolled back
    /// when it fails), then nsdoctor's check. Undo: the drop-in removed (or restored), reload, restart.
    SystemdDropin,
}

/// Whether nsdoctor can apply a remediation on this host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Applies {
    Host(Kind),
    /// Printed only: why nsdoctor does not apply it here.
    Manual(&'static str),
}

/// Every remediation id the engine prints (an entry ending in `*` is a prefix: ids that name a profile).
pub const CATALOGUE: &[(&str, Applies)] = &[
    ("sysctl-enable-userns-clone", Applies::Host(Kind::SysctlFile)),
    ("sysctl-raise-namespace-limits", Applies::Host(Kind::SysctlFile)),
    ("sysctl-disable-apparmor-userns-restriction", Applies::Host(Kind::SysctlFile)),
    ("apparmor-profile-for-bwrap", Applies::Host(Kind::NewProfile)),
    ("apparmor-profile-for-program", Applies::Host(Kind::NewProfile)),
    ("keep-apparmor-profile-*", Applies::Host(Kind::DisableOthers)),
    ("add-userns-to-*", Applies::Host(Kind::LocalUserns)),
    ("apparmor-profile-*", Applies::Host(Kind::FlagsUnconfined)),
    ("systemd-*", Applies::Host(Kind::SystemdDropin)),
    (
        "aa-disable-*",
        Applies::Manual("disabling a profile leaves the program unconfined: an operator's decision, printed only"),
    ),
    ("add-userns-to-profile", Applies::Manual("the confining profile's file is not known from the report")),
    ("allow-userns-for-app", Applies::Manual("a change in the application's own configuration")),
    ("codex-bundled-bwrap", Applies::Manual("a change in how the tool is installed")),
    ("codex-landlock-fallback", Applies::Manual("a change in the tool's own configuration")),
    (
        "container-*",
        Applies::Manual("the container runtime's flags are set where the container is started, not inside it"),
    ),
    (
        "docker-*",
        Applies::Manual("the container runtime's flags are set where the container is started, not inside it"),
    ),
    (
        "podman-*",
        Applies::Manual("the container runtime's flags are set where the container is started, not inside it"),
    ),
    ("lxc-*", Applies::Manual("the container's configuration lives on its host")),
    ("kubernetes-*", Applies::Manual("a pod spec and node profiles, applied through the cluster")),
    ("selinux-*", Applies::Manual("an SELinux policy change is reviewed and loaded by the policy's owner")),
    (
        "devcontainer-run-args",
        Applies::Manual("the platform starts the container; its options are set in the project's configuration"),
    ),
    ("github-actions-*", Applies::Manual("a workflow step, applied by the CI job itself")),
    ("self-hosted-runner-profile", Applies::Manual("advice: the profile fix below applies")),
    ("use-the-platform-as-the-boundary", Applies::Manual("a managed platform: nothing on the node can be changed")),
    ("enable-stock-bwrap-profile", Applies::Manual("installs packages: printed for the operator")),
    ("reload-stock-bwrap-profile", Applies::Manual("Ubuntu's own profile, reloaded by the operator")),
    ("reload-apparmor", Applies::Manual("restarts the AppArmor service: printed for the operator")),
    ("install-*", Applies::Manual("installs packages: printed for the operator")),
    ("upgrade-*", Applies::Manual("upgrades packages: printed for the operator")),
    ("fix-chrome-sandbox", Applies::Manual("the helper belongs to the application's install")),
    ("fix-setuid-helper", Applies::Manual("the helper belongs to the application's install")),
    ("prefer-unprivileged-bwrap", Applies::Manual("a change in how bwrap is installed")),
    ("rhel7-enable-userns", Applies::Manual("a kernel command line change that needs a reboot")),
    ("sandbox-network-on", Applies::Manual("a change in the sandbox's configuration")),
    ("subuid-ranges", Applies::Manual("user administration: printed for the operator")),
    ("report-to-profile-vendor", Applies::Manual("a report to the vendor")),
    ("run-*", Applies::Manual("a change in where the tool is started")),
    ("outer-sandbox-is-the-sandbox", Applies::Manual("a change in the tool's own configuration")),
    ("container-is-the-sandbox", Applies::Manual("a change in the tool's own configuration")),
    ("fork-before-unshare", Applies::Manual("a change in the calling program")),
    ("use-wsl2", Applies::Manual("a different WSL version")),
    ("kernel-*", Applies::Manual("a different kernel build")),
    ("leave-chroot", Applies::Manual("a change in where the tool is started")),
    ("collect-more-evidence", Applies::Manual("nothing known to apply: collect the evidence first")),
    ("use-unshare-user", Applies::Manual("a change in how the tool starts bwrap")),
    ("wsl2", Applies::Manual("a different WSL version")),
    ("codex-no-proc", Applies::Manual("a change in the tool's own configuration")),
    (
        "privileged-container",
        Applies::Manual("the container runtime's flags are set where the container is started, not inside it"),
    ),
    ("setuid-bwrap", Applies::Manual("making bwrap set-uid is a packaging decision with its own risks: printed only")),
];

/// The catalogue entry for a remediation id: the exact id first, then the longest matching prefix.
pub fn applies(id: &str) -> Option<Applies> {
    if let Some((_, a)) = CATALOGUE.iter().find(|(k, _)| *k == id) {
        return Some(*a);
    }
    CATALOGUE
        .iter()
        .filter_map(|(k, a)| k.strip_suffix('*').filter(|p| id.starts_with(p)).map(|p| (p.len(), *a)))
        .max_by_key(|(n, _)| *n)
        .map(|(_, a)| a)
}

/// One change the script makes, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "op")]
pub enum Step {
    /// Install a file atomically (mode 0644).
    WriteFile {
        path: String,
        content: String,
    },
    /// Append a line unless it is there.
    AppendLine {
        path: String,
        line: String,
    },
    /// Turn `from` into `unconfined` in the `flags=(…)` of profile `profile`'s header in `path`.
    SetFlags {
        path: String,
        profile: String,
        from: String,
    },
    /// A symlink `link` → `target` (aa-disable's /etc/apparmor.d/disable/ link).
    Symlink {
        target: String,
        link: String,
    },
    Sysctl {
        key: String,
        value: String,
    },
    ApparmorLoad {
        path: String,
    },
    ApparmorUnload {
        path: String,
    },
    /// `systemctl daemon-reload` and a restart of `unit`.
    SystemdRestart {
        unit: String,
    },
}

/// A pre-check that must pass before anything changes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "check")]
pub enum Check {
    Command {
        name: String,
    },
    Exists {
        path: String,
    },
    SysctlKey {
        key: String,
    },
    /// No sysctl.d file sorting after `ours` (nor /etc/sysctl.conf) sets `key` to another value than `value`.
    NotOverridden {
        key: String,
        value: String,
        ours: String,
    },
    /// No other file under /etc/apparmor.d attaches a profile to `target`.
    NoOtherAttachment {
        target: String,
        ours: String,
    },
    /// The profile file includes its `local/NAME` override.
    IncludesLocal {
        path: String,
        name: String,
    },
    /// `apparmor_parser -Q -K` accepts the content (checked on a temporary file).
    ProfileParses {
        content: String,
    },
}

/// A remediation made applicable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub finding: String,
    pub remediation: String,
    pub title: String,
    pub trade_off: String,
    pub kind: Kind,
    pub checks: Vec<Check>,
    pub steps: Vec<Step>,
    /// `nsdoctor check` arguments that reproduce the sandbox's user and restrictions.
    pub check_args: Vec<String>,
    /// The remediation's own verify commands, shown to the operator.
    pub verify: Vec<String>,
}

/// Why there is no plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NoPlan {
    /// No blocking finding: nothing to fix.
    NothingToFix,
    /// The remediation named does not exist in this diagnosis.
    UnknownRemediation(String),
    /// The remediation exists but is not applied on the host, with the reason.
    Manual { remediation: String, reason: String },
    /// A blocking finding whose remediations are all manual.
    NoHostFix { finding: String, reasons: Vec<String> },
}

impl NoPlan {
    pub fn message(&self) -> String {
        match self {
            NoPlan::NothingToFix => "nothing to fix: no blocking finding".to_string(),
            NoPlan::UnknownRemediation(id) => {
                format!("no remediation `{id}` in this diagnosis (`nsdoctor check` lists them)")
            }
            NoPlan::Manual { remediation, reason } => {
                format!("`{remediation}` is not applied by nsdoctor on this host: {reason}")
            }
            NoPlan::NoHostFix { finding, reasons } => {
                format!("{finding}: no fix nsdoctor can apply on this host ({})", reasons.join("; "))
            }
        }
    }
}

fn profile_file(r: &ProbeReport, name: &str) -> Option<String> {
    r.apparmor
        .profiles_for_bwrap
        .get()
        .and_then(|m| m.get(name))
        .or_else(|| r.confinement.profiles_for_parent.get().and_then(|m| m.get(name)))
        .cloned()
}

fn sysctl_lines(content: &str) -> Vec<(String, String)> {
    content
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with(';'))
        .filter_map(|l| l.split_once('=').map(|(k, v)| (k.trim().to_string(), v.trim().to_string())))
        .collect()
}

/// The attachment of the first profile header in an AppArmor profile text.
fn attachment(content: &str) -> Option<String> {
    content.lines().find_map(|l| {
        let mut w = l.split_whitespace();
        (w.next() == Some("profile")).then(|| w.nth(1).map(str::to_string)).flatten().filter(|a| a.starts_with('/'))
    })
}

fn check_args(r: &ProbeReport, d: &Diagnosis) -> Vec<String> {
    let mut a = Vec::new();
    // As the user the diagnosis was made for: the service user, the user probed as, or the unprivileged
    // caller (the fix itself runs as root, which most restrictions exempt).
    let user = d
        .config
        .service_user
        .clone()
        .or_else(|| r.identity.probed_as.clone())
        .or_else(|| r.identity.euid.get().filter(|u| **u != 0).map(|u| u.to_string()));
    if let Some(u) = user {
        a.extend(["--as-user".to_string(), u]);
    }
    if let Some(u) = &d.config.unit {
        a.extend(["--unit".to_string(), u.clone()]);
    }
    if let Some(p) = &r.confinement.apparmor_profile {
        a.extend(["--apparmor-profile".to_string(), p.clone()]);
    }
    if let Some(b) = &d.config.bwrap_path {
        a.extend(["--bwrap".to_string(), b.clone()]);
    }
    // The sandbox's network decides whether a net namespace is needed: verify the one the diagnosis judged.
    let net = match d.config.network {
        crate::config::NetworkMode::None => Some("none"),
        crate::config::NetworkMode::Bridge => Some("bridge"),
        crate::config::NetworkMode::Host => Some("host"),
        crate::config::NetworkMode::Custom => None,
    };
    if let Some(n) = net {
        a.extend(["--network".to_string(), n.to_string()]);
    }
    a
}

/// The steps and checks of one remediation, or why it cannot be applied here.
fn build(r: &ProbeReport, rem: &Remediation) -> Result<(Kind, Vec<Check>, Vec<Step>), String> {
    let kind = match applies(&rem.id) {
        Some(Applies::Host(k)) => k,
        Some(Applies::Manual(why)) => return Err(why.to_string()),
        None => return Err("not in nsdoctor's catalogue of applicable fixes".to_string()),
    };
    let mut checks = Vec::new();
    let mut steps = Vec::new();
    let files = |k: ArtifactKind| rem.files.iter().filter(move |a| a.kind == k);
    let apparmor = |checks: &mut Vec<Check>| {
        checks.push(Check::Command { name: "apparmor_parser".to_string() });
    };
    match kind {
        Kind::SysctlFile => {
            for a in files(ArtifactKind::SysctlD) {
                let lines = sysctl_lines(&a.content);
                for (k, v) in &lines {
                    checks.push(Check::SysctlKey { key: k.clone() });
                    checks.push(Check::NotOverridden { key: k.clone(), value: v.clone(), ours: a.path.clone() });
                }
                steps.push(Step::WriteFile { path: a.path.clone(), content: a.content.clone() });
                steps.extend(lines.into_iter().map(|(key, value)| Step::Sysctl { key, value }));
            }
        }
        Kind::NewProfile => {
            apparmor(&mut checks);
            checks.push(Check::Exists { path: "/etc/apparmor.d/abi/4.0".to_string() });
            for a in files(ArtifactKind::ApparmorProfile) {
                let target = attachment(&a.content).ok_or("the profile names no path")?;
                if target.starts_with("/path/to/") {
                    return Err(
                        "the program's path is a placeholder: edit the profile and install it by hand".to_string()
                    );
                }
                checks.push(Check::NoOtherAttachment { target, ours: a.path.clone() });
                checks.push(Check::ProfileParses { content: a.content.clone() });
                steps.push(Step::WriteFile { path: a.path.clone(), content: a.content.clone() });
                steps.push(Step::ApparmorLoad { path: a.path.clone() });
            }
        }
        Kind::DisableOthers => {
            apparmor(&mut checks);
            let kept = rem.id.strip_prefix("keep-apparmor-profile-").unwrap_or("");
            let all = r.apparmor.profiles_for_bwrap.get().ok_or("the profiles attaching to bwrap are not known")?;
            let kept_file = all.get(kept).ok_or("the kept profile's file is not known")?;
            for (name, f) in all.iter().filter(|(n, _)| n.as_str() != kept) {
                checks.push(Check::Exists { path: f.clone() });
                let base = f.rsplit('/').next().unwrap_or(name);
                steps.push(Step::Symlink { target: f.clone(), link: format!("/etc/apparmor.d/disable/{base}") });
                steps.push(Step::ApparmorUnload { path: f.clone() });
            }
            checks.push(Check::Exists { path: kept_file.clone() });
            steps.push(Step::ApparmorLoad { path: kept_file.clone() });
        }
        Kind::LocalUserns | Kind::FlagsUnconfined => {
            apparmor(&mut checks);
            let name = match kind {
                Kind::LocalUserns => rem.id.strip_prefix("add-userns-to-").unwrap_or(""),
                _ => rem.id.strip_prefix("apparmor-profile-").and_then(|s| s.strip_suffix("-unconfined")).unwrap_or(""),
            };
            if name.is_empty() {
                return Err("no profile named".to_string());
            }
            let path = profile_file(r, name)
                .ok_or_else(|| format!("the file of profile `{name}` is not known from the report"))?;
            checks.push(Check::Exists { path: path.clone() });
            checks.push(Check::IncludesLocal { path: path.clone(), name: name.to_string() });
            if kind == Kind::FlagsUnconfined {
                let mode = crate::ctx::profile_mode(r, name)
                    .or_else(|| crate::ctx::label_mode(r, name))
                    .filter(|m| matches!(m.as_str(), "complain" | "kill"))
                    .ok_or("the profile's mode is not known to be complain or kill")?;
                steps.push(Step::SetFlags { path: path.clone(), profile: name.to_string(), from: mode });
            }
            steps.push(Step::AppendLine { path: format!("/etc/apparmor.d/local/{name}"), line: "userns,".to_string() });
            steps.push(Step::ApparmorLoad { path });
        }
        Kind::SystemdDropin => {
            checks.push(Check::Command { name: "systemctl".to_string() });
            for a in files(ArtifactKind::SystemdDropin) {
                let unit = a
                    .path
                    .strip_prefix("/etc/systemd/system/")
                    .and_then(|p| p.split_once(".d/"))
                    .map(|(u, _)| u.to_string())
                    .ok_or("the drop-in path names no unit")?;
                if unit.starts_with('<') {
                    return Err("the unit is not known: pass --unit NAME.service".to_string());
                }
                steps.push(Step::WriteFile { path: a.path.clone(), content: a.content.clone() });
                steps.push(Step::SystemdRestart { unit });
            }
        }
    }
    if steps.is_empty() {
        return Err("the remediation carries nothing to apply".to_string());
    }
    Ok((kind, checks, steps))
}

/// The plan for a diagnosis: the remediation `wanted`, or the top blocking finding's first (least privileged)
/// remediation nsdoctor can apply here.
pub fn plan(r: &ProbeReport, d: &Diagnosis, wanted: Option<&str>) -> Result<Plan, NoPlan> {
    let make = |f: &Finding, rem: &Remediation, (kind, checks, steps): (Kind, Vec<Check>, Vec<Step>)| Plan {
        finding: f.code.clone(),
        remediation: rem.id.clone(),
        title: rem.title.clone(),
        trade_off: rem.trade_off.clone(),
        kind,
        checks,
        steps,
        check_args: check_args(r, d),
        verify: rem.verify.clone(),
    };
    if let Some(id) = wanted {
        let (f, rem) = d
            .findings
            .iter()
            .find_map(|f| f.remediations.iter().find(|x| x.id == id).map(|x| (f, x)))
            .ok_or_else(|| NoPlan::UnknownRemediation(id.to_string()))?;
        return build(r, rem)
            .map(|b| make(f, rem, b))
            .map_err(|reason| NoPlan::Manual { remediation: id.to_string(), reason });
    }
    let f = d.findings.iter().find(|f| f.blocking).ok_or(NoPlan::NothingToFix)?;
    let mut reasons = Vec::new();
    for rem in &f.remediations {
        match build(r, rem) {
            Ok(b) => return Ok(make(f, rem, b)),
            Err(why) => reasons.push(format!("{}: {why}", rem.id)),
        }
    }
    Err(NoPlan::NoHostFix { finding: f.code.clone(), reasons })
}

/// Single-quotes a word for sh.
fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// A here-document delimiter that does not occur in `content`.
fn delimiter(content: &str) -> String {
    let mut d = "NSDOCTOR_EOF".to_string();
    while content.lines().any(|l| l == d) {
        d.push('_');
    }
    d
}

const PRELUDE: &str = r#"set -eu
umask 022
STATE="${NSDOCTOR_STATE_DIR:-/var/lib/nsdoctor}"
UNDO="$STATE/undo"
NSDOCTOR="${NSDOCTOR:-nsdoctor}"
say() { printf 'nsdoctor fix: %s\n' "$*" >&2; }
die() { say "$*"; exit 1; }

# The undo manifest: one tab-separated line per change, undone last line first.
record() { printf '%s\n' "$*" >> "$UNDO/manifest"; }
backup() {
  n=$(wc -l < "$UNDO/manifest" | tr -d ' ')
  if [ -e "$1" ] || [ -L "$1" ]; then
    cp -P -p "$1" "$UNDO/prev.$n"
    record "file	$1	prev.$n"
  else
    record "file	$1	-"
  fi
}
# install_file DEST: stdin to a temporary file beside DEST, then renamed over it.
install_file() {
  mkdir -p "$(dirname "$1")"
  tmp=$(mktemp "$(dirname "$1")/.nsdoctor.XXXXXX")
  cat > "$tmp"
  chmod 0644 "$tmp"
  mv -f "$tmp" "$1"
}
same_content() { [ -f "$1" ] && cmp -s "$1" -; }

undo() {
  [ -f "$UNDO/manifest" ] || { say "nothing to undo"; return 0; }
  sed -n '1!G;h;$p' "$UNDO/manifest" > "$UNDO/manifest.rev"
  : > "$UNDO/after"
  while IFS='	' read -r kind a b; do
    case "$kind" in
      file)
        # A profile nsdoctor added is unloaded while its file still names it.
        case "$a" in /etc/apparmor.d/local/*|/etc/apparmor.d/disable/*) ;; /etc/apparmor.d/*) [ "$b" = - ] && { apparmor_parser -R "$a" 2>/dev/null || true; } ;; esac
        rm -f "$a"
        [ "$b" = - ] || cp -P -p "$UNDO/$b" "$a" ;;
      sysctl) sysctl -q -w "$a=$b" >/dev/null ;;
      # Profiles and units are reloaded once every file is back.
      aa-reload|unit) printf '%s\t%s\n' "$kind" "$a" >> "$UNDO/after" ;;
    esac
  done < "$UNDO/manifest.rev"
  while IFS='	' read -r kind a; do
    case "$kind" in
      aa-reload) if [ -e "$a" ]; then apparmor_parser -r "$a"; fi ;;
      unit) systemctl daemon-reload; systemctl try-restart "$a" || true ;;
    esac
  done < "$UNDO/after"
  rm -rf "$UNDO"
  say "undone: the recorded files, values and profiles are back as they were"
}

# sysctl_overridden KEY VALUE OURS: a sysctl.d file sorting after OURS, or /etc/sysctl.conf, sets KEY otherwise.
sysctl_overridden() {
  ours=$(basename "$3")
  for d in /etc/sysctl.d /run/sysctl.d /usr/local/lib/sysctl.d /usr/lib/sysctl.d /lib/sysctl.d; do
    for f in "$d"/*.conf; do
      [ -f "$f" ] || continue
      b=$(basename "$f")
      [ "$f" = "$3" ] && continue
      # Only files read after ours count (systemd-sysctl reads them sorted by name).
      if [ "$b" = "$ours" ] || [ "$(printf '%s\n%s\n' "$ours" "$b" | LC_ALL=C sort | tail -n 1)" != "$b" ]; then continue; fi
      v=$(sed -n "s/^[[:space:]]*$(printf '%s' "$1" | sed 's/\./[.\/]/g')[[:space:]]*=[[:space:]]*//p" "$f" | tail -n 1)
      [ -n "$v" ] && [ "$v" != "$2" ] && { printf '%s\n' "$f"; return 0; }
    done
  done
  if [ -f /etc/sysctl.conf ]; then
    v=$(sed -n "s/^[[:space:]]*$(printf '%s' "$1" | sed 's/\./[.\/]/g')[[:space:]]*=[[:space:]]*//p" /etc/sysctl.conf | tail -n 1)
    [ -n "$v" ] && [ "$v" != "$2" ] && { printf '%s\n' /etc/sysctl.conf; return 0; }
  fi
  return 1
}
"#;

fn render_check(c: &Check, out: &mut String) {
    match c {
        Check::Command { name: cmd } => out.push_str(&format!("  command -v {cmd} >/dev/null 2>&1 || die {}\n", q(&format!("{cmd} is not installed")))),
        Check::Exists { path: p } => out.push_str(&format!("  [ -e {} ] || die {}\n", q(p), q(&format!("{p} does not exist")))),
        Check::SysctlKey { key: k } => {
            let p = format!("/proc/sys/{}", k.replace('.', "/"));
            out.push_str(&format!("  [ -e {} ] || die {}\n", q(&p), q(&format!("this kernel has no {k}"))));
        }
        Check::NotOverridden { key, value, ours } => out.push_str(&format!(
            "  if f=$(sysctl_overridden {} {} {}); then die \"$f sets {key} after {ours}: it would override this fix at boot\"; fi\n",
            q(key),
            q(value),
            q(ours)
        )),
        Check::NoOtherAttachment { target, ours } => {
            let re = format!("^[[:space:]]*profile[[:space:]]+[^[:space:]]+[[:space:]]+{}([[:space:]]|[{{])", target.replace('.', "\\."));
            out.push_str(&format!(
                "  if other=$(grep -lsE {} /etc/apparmor.d/* | grep -vx {}); then die \"another profile attaches to {target}: $other (two attachments cancel each other)\"; fi\n",
                q(&re),
                q(ours)
            ));
        }
        Check::IncludesLocal { path, name } => out.push_str(&format!(
            "  grep -qsE {} {} || die {}\n",
            q(&format!("include[[:space:]]+(if[[:space:]]+exists[[:space:]]+)?<local/{name}>")),
            q(path),
            q(&format!("{path} does not include local/{name}: edit the profile itself"))
        )),
        Check::ProfileParses { content } => {
            let d = delimiter(content);
            out.push_str(&format!(
                "  t=$(mktemp)\n  cat > \"$t\" <<'{d}'\n{content}{nl}{d}\n  apparmor_parser -Q -K \"$t\" >/dev/null || {{ rm -f \"$t\"; die 'apparmor_parser rejects the profile'; }}\n  rm -f \"$t\"\n",
                nl = if content.ends_with('\n') { "" } else { "\n" }
            ));
        }
    }
}

fn render_step(s: &Step, out: &mut String) {
    match s {
        Step::WriteFile { path, content } => {
            let d = delimiter(content);
            let nl = if content.ends_with('\n') { "" } else { "\n" };
            out.push_str(&format!(
                "  if same_content {p} <<'{d}'\n{content}{nl}{d}\n  then say {already}\n  else\n    backup {p}\n    install_file {p} <<'{d}'\n{content}{nl}{d}\n    changed=1\n  fi\n",
                p = q(path),
                already = q(&format!("{path} already in place"))
            ));
        }
        Step::AppendLine { path, line } => out.push_str(&format!(
            "  if grep -qsx {l} {p}; then say {already}\n  else\n    backup {p}\n    {{ cat {p} 2>/dev/null || true; if [ -s {p} ] && [ -n \"$(tail -c 1 {p})\" ]; then echo; fi; printf '%s\\n' {l}; }} | install_file {p}\n    changed=1\n  fi\n",
            l = q(line),
            p = q(path),
            already = q(&format!("{path} already has {line}"))
        )),
        Step::SetFlags { path, profile, from } => {
            let header = format!("^[[:space:]]*profile[[:space:]]+{profile}[[:space:]]");
            out.push_str(&format!(
                "  if grep -qsE {h} {p} && grep -E {h} {p} | grep -qw {f}; then\n    backup {p}\n    sed -E {s} {p} | install_file {p}\n    changed=1\n  else say {already}\n  fi\n",
                h = q(&header),
                p = q(path),
                f = q(from),
                s = q(&format!("/{header}/s/(flags=\\([^)]*)\\b{from}\\b/\\1unconfined/")),
                already = q(&format!("{profile} is not in {from} mode in {path}"))
            ));
        }
        Step::Symlink { target, link } => out.push_str(&format!(
            "  if [ \"$(readlink {l} 2>/dev/null)\" = {t} ]; then say {already}\n  else\n    backup {l}\n    mkdir -p \"$(dirname {l})\"\n    ln -sfn {t} {l}\n    changed=1\n  fi\n",
            l = q(link),
            t = q(target),
            already = q(&format!("{link} already in place"))
        )),
        Step::Sysctl { key, value } => {
            let p = format!("/proc/sys/{}", key.replace('.', "/"));
            out.push_str(&format!(
                "  old=$(cat {p})\n  if [ \"$old\" = {v} ]; then say {already}\n  else\n    record \"sysctl\t{key}\t$old\"\n    if ! sysctl -q -w {kv} >/dev/null || [ \"$(cat {p})\" != {v} ]; then undo; die {nope}; fi\n    changed=1\n  fi\n",
                p = q(&p),
                v = q(value),
                kv = q(&format!("{key}={value}")),
                already = q(&format!("{key} is already {value}")),
                nope = q(&format!("{key} did not take the value {value}: rolled back"))
            ));
        }
        Step::ApparmorLoad { path } => out.push_str(&format!(
            "  if [ \"${{changed:-0}}\" = 1 ]; then\n    record \"aa-reload\t{path}\"\n    apparmor_parser -r {p} || {{ undo; die {bad}; }}\n  fi\n",
            p = q(path),
            bad = q(&format!("apparmor_parser cannot load {path} with the change: rolled back"))
        )),
        Step::ApparmorUnload { path } => out.push_str(&format!(
            "  if [ \"${{changed:-0}}\" = 1 ]; then\n    record \"aa-reload\t{path}\"\n    apparmor_parser -R {p} 2>/dev/null || true\n  fi\n",
            p = q(path)
        )),
        Step::SystemdRestart { unit } => out.push_str(&format!(
            "  if [ \"${{changed:-0}}\" = 1 ]; then\n    record \"unit\t{unit}\"\n    systemctl daemon-reload\n    systemd-analyze verify {u} >/dev/null || {{ undo; die {bad}; }}\n    systemctl try-restart {u}\n  fi\n",
            u = q(unit),
            bad = q(&format!("systemd-analyze verify {unit} fails with the drop-in: rolled back"))
        )),
    }
}

/// What `nsdoctor fix` prints when nothing can be applied here: the finding's fixes as shell comments (the
/// artifacts and how to verify them), so a redirected output is still a harmless script.
pub fn manual_text(d: &Diagnosis, why: &NoPlan) -> String {
    let mut out = format!("#!/bin/sh\n# nsdoctor fix: {}\n", why.message().replace('\n', " "));
    out.push_str("# Nothing here is applied by nsdoctor; the fixes, as `nsdoctor check` prints them:\n");
    let finding = match why {
        NoPlan::NoHostFix { finding, .. } => d.findings.iter().find(|f| &f.code == finding),
        NoPlan::Manual { remediation, .. } => {
            d.findings.iter().find(|f| f.remediations.iter().any(|r| &r.id == remediation))
        }
        _ => None,
    };
    for r in finding.map(|f| f.remediations.as_slice()).unwrap_or_default() {
        out.push_str(&format!(
            "#\n# {} ({}): {}\n",
            r.id,
            if r.needs_root { "needs root" } else { "no root needed" },
            r.title.replace('\n', " ")
        ));
        for a in &r.files {
            out.push_str(&format!("#   file {}:\n", a.path));
            for l in a.content.lines() {
                out.push_str(&format!("#     {l}\n"));
            }
        }
        for c in &r.commands {
            out.push_str(&format!("#   $ {}\n", c.replace('\n', " ")));
        }
        for v in &r.verify {
            out.push_str(&format!("#   verify: $ {}\n", v.replace('\n', " ")));
        }
    }
    out.push_str("exit 1\n");
    out
}

/// `nsdoctor fix --format json`: the plan and its script.
pub fn plan_json(p: &Plan, script: &str) -> String {
    #[derive(Serialize)]
    struct Out<'a> {
        #[serde(flatten)]
        plan: &'a Plan,
        script: &'a str,
    }
    match serde_json::to_string_pretty(&Out { plan: p, script }) {
        Ok(s) => s + "\n",
        Err(e) => crate::api::error_json(crate::api::ErrorKind::Internal, &e.to_string()),
    }
}

/// The plan as a self-contained POSIX script (same bytes for the same plan).
pub fn script(p: &Plan) -> String {
    let mut out = String::new();
    out.push_str("#!/bin/sh\n");
    out.push_str(&format!("# nsdoctor fix for {}: {}\n", p.finding, p.title.replace('\n', " ")));
    out.push_str(&format!("# remediation: {}\n", p.remediation));
    out.push_str(&format!("# trade-off: {}\n", p.trade_off.replace('\n', " ")));
    out.push_str(
        "#\n# Run as root. `sh THIS --check` only checks; `sh THIS` applies, verifies with nsdoctor and undoes\n",
    );
    out.push_str(
        "# everything by itself if the sandbox is still blocked; `sh THIS --undo` restores the recorded state.\n",
    );
    out.push_str("# The undo manifest lives in $NSDOCTOR_STATE_DIR (default /var/lib/nsdoctor).\n");
    for v in &p.verify {
        out.push_str(&format!("# also worth running afterwards: {}\n", v.replace('\n', " ")));
    }
    out.push_str(PRELUDE);
    out.push_str(&format!("ID={}\n", q(&p.remediation)));
    let args: Vec<String> = p.check_args.iter().map(|a| q(a)).collect();
    out.push_str(&format!("CHECK_ARGS={}\n\n", q(&args.join(" "))));
    out.push_str("checks() {\n  [ \"$(id -u)\" = 0 ] || die 'run as root'\n");
    for c in &p.checks {
        render_check(c, &mut out);
    }
    out.push_str("}\n\napply() {\n");
    out.push_str("  if [ -f \"$UNDO/manifest\" ]; then\n    [ \"$(cat \"$UNDO/id\" 2>/dev/null)\" = \"$ID\" ] || die \"another fix ($(cat \"$UNDO/id\" 2>/dev/null)) is recorded: undo it first\"\n  else\n    mkdir -p \"$UNDO\"\n    printf '%s\\n' \"$ID\" > \"$UNDO/id\"\n    : > \"$UNDO/manifest\"\n  fi\n  changed=0\n");
    for s in &p.steps {
        render_step(s, &mut out);
    }
    out.push_str("  [ \"$changed\" = 1 ] || { [ -s \"$UNDO/manifest\" ] || rm -rf \"$UNDO\"; say 'already applied: nothing changed'; return 0; }\n");
    out.push_str(
        "  # Re-run the check as the sandbox's user and under its restrictions; undo when it is still blocked.\n",
    );
    out.push_str("  # shellcheck disable=SC2086\n");
    out.push_str("  if eval \"\\\"\\$NSDOCTOR\\\" check $CHECK_ARGS --format json\" >/dev/null; then\n    say \"applied $ID; nsdoctor check passes (undo with: sh $0 --undo)\"\n  else\n    undo\n    die \"the sandbox is still blocked after $ID: rolled back\"\n  fi\n}\n\n");
    out.push_str("case \"${1:-}\" in\n  --check) checks; say 'pre-checks pass' ;;\n  --undo) [ \"$(id -u)\" = 0 ] || die 'run as root'; undo ;;\n  '') checks; apply ;;\n  *) die \"usage: sh $0 [--check|--undo]\" ;;\nesac\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn catalogue_prefixes_pick_the_longest_match() {
        assert_eq!(applies("add-userns-to-steam"), Some(Applies::Host(Kind::LocalUserns)));
        assert!(matches!(applies("add-userns-to-profile"), Some(Applies::Manual(_))));
        assert_eq!(applies("apparmor-profile-steam-unconfined"), Some(Applies::Host(Kind::FlagsUnconfined)));
        assert_eq!(applies("apparmor-profile-for-bwrap"), Some(Applies::Host(Kind::NewProfile)));
        assert_eq!(applies("no-such-fix"), None);
    }

    #[test]
    fn heredoc_delimiters_never_occur_in_the_content() {
        assert_eq!(delimiter("a\nNSDOCTOR_EOF\nb"), "NSDOCTOR_EOF_");
        assert_eq!(q("it's"), "'it'\\''s'");
    }
}
