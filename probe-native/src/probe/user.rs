//! The identity and restrictions a probe child takes on before it probes: the target user (`--as-user` or the
//! unit's `User=`), the unit's `NoNewPrivileges=` and its seccomp filters, in systemd's order (ids first,
//! filters last, so a `SystemCallFilter=` cannot stop the id change).

use std::ffi::CString;
use std::path::PathBuf;

use nix::errno::Errno;
use nix::unistd::{Gid, Uid, User, getgrouplist, setgroups, setresgid, setresuid};
use serde::{Deserialize, Serialize};

use crate::Error;
use seccompiler::BpfProgram;

/// A user to probe as.
#[derive(Debug, Clone)]
pub struct Target {
    /// As given (`nobody`, `65534`).
    pub spec: String,
    pub uid: Uid,
    pub gid: Gid,
    pub groups: Vec<Gid>,
    pub name: Option<String>,
    pub home: Option<PathBuf>,
}

/// Resolves `USER|UID`. A uid without a passwd entry probes with gid = uid and no supplementary groups.
pub fn resolve(spec: &str) -> Result<Target, Error> {
    let spec_t = spec.trim();
    let user = match spec_t.parse::<u32>() {
        Ok(n) => User::from_uid(Uid::from_raw(n)).ok().flatten(),
        Err(_) => match User::from_name(spec_t) {
            Ok(Some(u)) => Some(u),
            Ok(None) => return Err(Error::NoSuchUser { user: spec_t.to_string() }),
            Err(e) => return Err(Error::UserLookup { user: spec_t.to_string(), reason: e.to_string() }),
        },
    };
    match user {
        Some(u) => {
            let groups = CString::new(u.name.clone())
                .ok()
                .and_then(|c| getgrouplist(&c, u.gid).ok())
                .unwrap_or_else(|| vec![u.gid]);
            Ok(Target {
                spec: spec_t.to_string(),
                uid: u.uid,
                gid: u.gid,
                groups,
                name: Some(u.name),
                home: Some(u.dir),
            })
        }
        None => {
            let n = spec_t.parse::<u32>().map_err(|_| Error::NoSuchUser { user: spec_t.to_string() })?;
            let gid = Gid::from_raw(n);
            Ok(Target { spec: spec_t.to_string(), uid: Uid::from_raw(n), gid, groups: vec![], name: None, home: None })
        }
    }
}

/// Test-only fault switches, read from `NSDOCTOR_TEST_FAULT` (comma-separated). They exist so the integration
/// tests can reproduce host policies this machine does not have; they only ever take privileges away or stall a
/// step, and a report produced under one says so in `producer`.
/// * `drop-caps-after-userns`: `capset(0)` right after each `unshare(CLONE_NEWUSER…)`, which is what Ubuntu's
///   AppArmor `unprivileged_userns` transition does to the new namespace's capabilities.
/// * `hang=<step-id>`: the child stalls before that step (timeout handling).
#[derive(Debug, Clone, Default)]
pub struct Fault {
    pub drop_caps_after_userns: bool,
    pub hang: Option<String>,
    pub raw: Option<String>,
}

impl Fault {
    pub fn from_env() -> Fault {
        let Ok(raw) = std::env::var("NSDOCTOR_TEST_FAULT") else { return Fault::default() };
        let mut f = Fault { raw: Some(raw.clone()), ..Fault::default() };
        for item in raw.split(',').map(str::trim) {
            if item == "drop-caps-after-userns" {
                f.drop_caps_after_userns = true;
            } else if let Some(step) = item.strip_prefix("hang=") {
                f.hang = Some(step.to_string());
            }
        }
        if f.drop_caps_after_userns || f.hang.is_some() { f } else { Fault::default() }
    }
}

/// Everything a probe child applies before probing.
#[derive(Debug, Clone, Default)]
pub struct Setup {
    pub target: Option<Target>,
    /// An AppArmor profile to run under (`--apparmor-profile`, or the profile of `--parent-pid`).
    pub apparmor_profile: Option<String>,
    pub no_new_privs: bool,
    pub filters: Vec<BpfProgram>,
}

impl Setup {
    /// Runs in the child. An error means the child could not become what it should probe as.
    pub fn apply(&self) -> Result<(), SetupError> {
        let call = |call: String| move |e: Errno| SetupError::Call { call, errno: e as i32 };
        if let Some(t) = &self.target {
            setgroups(&t.groups).map_err(call("setgroups".to_string()))?;
            setresgid(t.gid, t.gid, t.gid).map_err(call(format!("setresgid({})", t.gid)))?;
            setresuid(t.uid, t.uid, t.uid).map_err(call(format!("setresuid({})", t.uid)))?;
            // Dropping ids from root clears the dumpable flag, which makes /proc/self/uid_map root-owned
            // and the map write fail with EACCES (proc(5), "/proc/pid" ownership of non-dumpable processes); the real service is dumpable.
            nix::sys::prctl::set_dumpable(true).map_err(call("prctl(PR_SET_DUMPABLE)".to_string()))?;
        }
        // Before NoNewPrivileges, which would only allow a profile stacked on the current one.
        if let Some(p) = &self.apparmor_profile {
            change_profile(p)?;
        }
        if self.no_new_privs {
            nix::sys::prctl::set_no_new_privs().map_err(call("prctl(PR_SET_NO_NEW_PRIVS)".to_string()))?;
        }
        for f in &self.filters {
            seccompiler::apply_filter(f).map_err(|e| SetupError::Seccomp(e.to_string()))?;
        }
        Ok(())
    }
}

/// Why a probe child could not take on the identity and restrictions it should probe under. It crosses the
/// pipe from the child to the parent, so it holds plain values.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum SetupError {
    /// An id or prctl call failed.
    Call { call: String, errno: i32 },
    /// The AppArmor profile could not be entered: the procattr file written and the error.
    AppArmor { profile: String, path: String, errno: Option<i32>, error: String },
    /// A seccomp filter could not be installed.
    Seccomp(String),
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::Call { call, errno } => write!(f, "{call}: {}", Errno::from_raw(*errno)),
            SetupError::AppArmor { profile, path, errno, error } => {
                let hint = match errno {
                    Some(libc::ENOENT) => "; no loaded profile has that name (aa-status lists them)",
                    Some(libc::EINVAL) => "; AppArmor is not the active LSM here",
                    Some(libc::EACCES | libc::EPERM) => "; the current confinement does not allow changing to it",
                    _ => "",
                };
                write!(f, "cannot enter the AppArmor profile `{profile}` ({path}: {error}{hint})")
            }
            SetupError::Seccomp(e) => write!(f, "seccomp: {e}"),
        }
    }
}

/// Moves the calling task into AppArmor profile `name` now, as libapparmor's `aa_change_profile` does: the
/// command `changeprofile NAME` written to the task's procattr (`/proc/self/attr/apparmor/current` on kernels
/// with LSM stacking, else `/proc/self/attr/current`; apparmor(7), libapparmor `aa_change_profile(2)`). The
/// probe's forked steps run under it, and a bwrap replay is exec'd from it, as bwrap is when the program
/// confined by that profile starts it.
pub fn change_profile(name: &str) -> Result<(), SetupError> {
    use std::io::Write;
    let cmd = format!("changeprofile {name}");
    let write =
        |path: &str| std::fs::OpenOptions::new().write(true).open(path).and_then(|mut f| f.write_all(cmd.as_bytes()));
    let new = "/proc/self/attr/apparmor/current";
    let (path, res) = match write(new) {
        // No stacking interface: the older procattr file.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let old = "/proc/self/attr/current";
            (old, write(old))
        }
        r => (new, r),
    };
    res.map_err(|e| SetupError::AppArmor {
        profile: name.to_string(),
        path: path.to_string(),
        errno: e.raw_os_error(),
        error: e.to_string(),
    })
}

/// Drops every capability of the calling thread (test fault, see [`Fault`]).
#[expect(unsafe_code, reason = "capset has no safe wrapper in nix or libc")]
pub fn drop_all_caps() -> Result<(), nix::errno::Errno> {
    let mut hdr = CapHeader { version: 0x2008_0522, pid: 0 };
    let data = [CapData { effective: 0, permitted: 0, inheritable: 0 }; 2];
    // SAFETY: header and two data structs laid out as the kernel's _LINUX_CAPABILITY_VERSION_3 ABI.
    let r = unsafe { libc::syscall(libc::SYS_capset, &mut hdr as *mut CapHeader, data.as_ptr()) };
    if r == 0 { Ok(()) } else { Err(nix::errno::Errno::last()) }
}

#[repr(C)]
struct CapHeader {
    version: u32,
    pid: i32,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct CapData {
    effective: u32,
    permitted: u32,
    inheritable: u32,
}
