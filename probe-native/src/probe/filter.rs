//! Seccomp filters equivalent to systemd's `RestrictNamespaces=`, `RestrictAddressFamilies=` and
//! `SystemCallFilter=` (systemd `src/shared/seccomp-util.c`: `seccomp_restrict_namespaces`,
//! `seccomp_restrict_address_families`, `seccomp_load_syscall_filter_set_raw`) and Docker's default profile
//! (moby/profiles `seccomp/default.json`: namespace flags on clone → EPERM, clone3 → ENOSYS). Built with
//! seccompiler. Shared with the `nsd-faultwrap` test helper via `#[path]`.

use std::collections::BTreeMap;

use seccompiler::{
    BackendError, BpfProgram, SeccompAction, SeccompCmpArgLen, SeccompCmpOp, SeccompCondition, SeccompFilter,
    SeccompRule, TargetArch,
};

/// systemd's namespace names and flags (`namespace_info` in systemd `src/basic/namespace-util.c`).
pub const NS_FLAGS: [(&str, u64); 7] = [
    ("cgroup", libc::CLONE_NEWCGROUP as u64),
    ("ipc", libc::CLONE_NEWIPC as u64),
    ("net", libc::CLONE_NEWNET as u64),
    ("mnt", libc::CLONE_NEWNS as u64),
    ("pid", libc::CLONE_NEWPID as u64),
    ("user", libc::CLONE_NEWUSER as u64),
    ("uts", libc::CLONE_NEWUTS as u64),
];

/// All namespace flags systemd knows.
pub fn ns_all() -> u64 {
    NS_FLAGS.iter().fold(0, |a, (_, f)| a | f)
}

/// Why a filter could not be built: the stage and seccompiler's error.
#[derive(Debug)]
pub enum FilterError {
    /// seccompiler has no filters for this architecture.
    Arch(BackendError),
    /// An argument condition was refused.
    Condition(BackendError),
    /// A rule was refused.
    Rule(BackendError),
    /// The filter was refused.
    Filter(BackendError),
    /// The filter did not compile to BPF.
    Compile(BackendError),
    /// A deny-list of address families with no family in it.
    EmptyDenyList,
}

impl std::fmt::Display for FilterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FilterError::Arch(e) => write!(f, "seccomp: unsupported architecture: {e:?}"),
            FilterError::Condition(e) => write!(f, "seccomp condition: {e}"),
            FilterError::Rule(e) => write!(f, "seccomp rule: {e}"),
            FilterError::Filter(e) => write!(f, "seccomp filter: {e}"),
            FilterError::Compile(e) => write!(f, "seccomp compile: {e}"),
            FilterError::EmptyDenyList => f.write_str("empty address family deny-list"),
        }
    }
}

impl std::error::Error for FilterError {}

/// For the fault tool, whose errors are text.
impl From<FilterError> for String {
    fn from(e: FilterError) -> Self {
        e.to_string()
    }
}

fn arch() -> Result<TargetArch, FilterError> {
    TargetArch::try_from(std::env::consts::ARCH).map_err(FilterError::Arch)
}

fn cond(arg: u8, len: SeccompCmpArgLen, op: SeccompCmpOp, value: u64) -> Result<SeccompCondition, FilterError> {
    SeccompCondition::new(arg, len, op, value).map_err(FilterError::Condition)
}

fn rule(conds: Vec<SeccompCondition>) -> Result<SeccompRule, FilterError> {
    SeccompRule::new(conds).map_err(FilterError::Rule)
}

fn compile(
    rules: BTreeMap<i64, Vec<SeccompRule>>,
    mismatch: SeccompAction,
    matched: SeccompAction,
) -> Result<BpfProgram, FilterError> {
    let f = SeccompFilter::new(rules, mismatch, matched, arch()?).map_err(FilterError::Filter)?;
    BpfProgram::try_from(f).map_err(FilterError::Compile)
}

/// Namespace creation denied for every flag not in `allowed`: unshare/clone with such a flag and setns into
/// such a namespace → EPERM; clone3 → ENOSYS (its flags live in memory seccomp cannot read, so systemd and
/// Docker make callers fall back to clone). Empty when nothing is blocked.
pub fn restrict_namespaces(allowed: u64) -> Result<Vec<BpfProgram>, FilterError> {
    let blocked: Vec<u64> = NS_FLAGS.iter().map(|(_, f)| *f).filter(|f| allowed & f == 0).collect();
    if blocked.is_empty() {
        return Ok(Vec::new());
    }
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    for f in &blocked {
        rules.entry(libc::SYS_unshare).or_default().push(rule(vec![cond(
            0,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(*f),
            *f,
        )?])?);
        rules.entry(libc::SYS_clone).or_default().push(rule(vec![cond(
            0,
            SeccompCmpArgLen::Qword,
            SeccompCmpOp::MaskedEq(*f),
            *f,
        )?])?);
        rules.entry(libc::SYS_setns).or_default().push(rule(vec![cond(
            1,
            SeccompCmpArgLen::Dword,
            SeccompCmpOp::MaskedEq(*f),
            *f,
        )?])?);
    }
    // setns(fd, 0) joins whatever the fd is: systemd refuses it when anything is restricted.
    rules.entry(libc::SYS_setns).or_default().push(rule(vec![cond(1, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, 0)?])?);
    let eperm = compile(rules, SeccompAction::Allow, SeccompAction::Errno(libc::EPERM as u32))?;
    let mut c3 = BTreeMap::new();
    c3.insert(libc::SYS_clone3, Vec::new());
    let enosys = compile(c3, SeccompAction::Allow, SeccompAction::Errno(libc::ENOSYS as u32))?;
    Ok(vec![eperm, enosys])
}

/// `socket()` with a family outside `allowed` (allow-list) or inside `denied` (deny-list) → EAFNOSUPPORT, as
/// systemd's `RestrictAddressFamilies=`.
pub fn address_families(allow_list: bool, families: &[u64]) -> Result<BpfProgram, FilterError> {
    let mut rules: BTreeMap<i64, Vec<SeccompRule>> = BTreeMap::new();
    if allow_list {
        let conds = families
            .iter()
            .map(|f| cond(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Ne, *f))
            .collect::<Result<Vec<_>, _>>()?;
        // No allowed family (`RestrictAddressFamilies=none`): every socket() is refused.
        rules.insert(libc::SYS_socket, if conds.is_empty() { Vec::new() } else { vec![rule(conds)?] });
    } else {
        let mut v = Vec::new();
        for f in families {
            v.push(rule(vec![cond(0, SeccompCmpArgLen::Dword, SeccompCmpOp::Eq, *f)?])?);
        }
        if v.is_empty() {
            return Err(FilterError::EmptyDenyList);
        }
        rules.insert(libc::SYS_socket, v);
    }
    compile(rules, SeccompAction::Allow, SeccompAction::Errno(libc::EAFNOSUPPORT as u32))
}

/// What a `SystemCallFilter=` does to a call it refuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refuse {
    /// No `SystemCallErrorNumber=`: the process is killed with SIGSYS.
    Kill,
    Errno(u32),
}

impl Refuse {
    fn action(self) -> SeccompAction {
        match self {
            Refuse::Kill => SeccompAction::KillProcess,
            Refuse::Errno(e) => SeccompAction::Errno(e),
        }
    }
}

/// `SystemCallFilter=`: an allow-list refuses everything not listed, a deny-list (`~…`) refuses what is listed.
pub fn syscall_filter(allow_list: bool, numbers: &[i64], refuse: Refuse) -> Result<BpfProgram, FilterError> {
    let rules: BTreeMap<i64, Vec<SeccompRule>> = numbers.iter().map(|n| (*n, Vec::new())).collect();
    if allow_list {
        compile(rules, refuse.action(), SeccompAction::Allow)
    } else {
        compile(rules, SeccompAction::Allow, refuse.action())
    }
}
