//! `--unit NAME.service`: the unit's properties from `systemctl show` (systemd.exec(5)), and the
//! seccomp-expressible ones turned into filters for the probe child. Value formats differ across systemd
//! versions (a bitmask or names for `RestrictNamespaces=`, `kill` or empty for `SystemCallErrorNumber=`), so
//! parsing is lenient and an unparsable value is recorded, not applied.

use std::collections::BTreeMap;
use std::time::Duration;

use policy_core::fact::Fact;
use policy_core::report::UnitFacts;

use super::filter::{self, NS_FLAGS, Refuse};
use super::{exec, syscalls};

pub const PROPS: [&str; 10] = [
    "LoadState",
    "User",
    "RestrictNamespaces",
    "SystemCallFilter",
    "SystemCallErrorNumber",
    "RestrictAddressFamilies",
    "ProcSubset",
    "ProtectKernelTunables",
    "NoNewPrivileges",
    "AppArmorProfile",
];

/// The unit's facts and what the probe child should apply.
#[derive(Debug, Default)]
pub struct Unit {
    pub facts: UnitFacts,
    pub filters: Vec<seccompiler::BpfProgram>,
    pub no_new_privs: bool,
    /// Properties that could not be applied, with why (the report's `config_source` lists them).
    pub not_applied: Vec<String>,
}

/// Reads a unit. Never fails: every problem is a recorded fact.
pub fn read_unit(name: &str, timeout: Duration) -> Unit {
    let mut u = Unit { facts: UnitFacts { name: Some(name.to_string()), ..UnitFacts::default() }, ..Unit::default() };
    // sd_booted(3): systemd is the running service manager iff this directory exists.
    if std::fs::symlink_metadata("/run/systemd/system").is_err() {
        set_all(&mut u.facts, &Fact::unavailable("systemd not running", None));
        return u;
    }
    let mut argv = vec!["systemctl".to_string(), "show".to_string(), name.to_string()];
    for p in PROPS {
        argv.push("-p".to_string());
        argv.push(p.to_string());
    }
    let out = exec::run_capture(&argv, timeout, exec::Capture::Stdout, None);
    match out.exit {
        exec::Ended::Exited(0) => {}
        other => {
            set_all(&mut u.facts, &Fact::unavailable(&format!("systemctl show failed: {}", other.describe()), None));
            return u;
        }
    }
    let props = parse_show(&String::from_utf8_lossy(&out.output));
    if props.get("LoadState").map(String::as_str) == Some("not-found") {
        set_all(&mut u.facts, &Fact::unavailable("unit not found", None));
        return u;
    }
    let get = |k: &str| match props.get(k) {
        Some(v) => Fact::Observed(v.clone()),
        None => Fact::unavailable(&format!("systemctl show printed no {k}"), None),
    };
    u.facts.user = get("User");
    u.facts.restrict_namespaces = get("RestrictNamespaces");
    u.facts.system_call_filter = get("SystemCallFilter");
    u.facts.system_call_error_number = get("SystemCallErrorNumber");
    u.facts.restrict_address_families = get("RestrictAddressFamilies");
    u.facts.proc_subset = get("ProcSubset");
    u.facts.protect_kernel_tunables = get("ProtectKernelTunables");
    u.facts.no_new_privileges = get("NoNewPrivileges");
    u.facts.apparmor_profile = get("AppArmorProfile");
    apply_props(&mut u, &props);
    u
}

fn set_all(f: &mut UnitFacts, v: &Fact<String>) {
    for slot in [
        &mut f.user,
        &mut f.restrict_namespaces,
        &mut f.system_call_filter,
        &mut f.system_call_error_number,
        &mut f.restrict_address_families,
        &mut f.proc_subset,
        &mut f.protect_kernel_tunables,
        &mut f.no_new_privileges,
        &mut f.apparmor_profile,
    ] {
        *slot = v.clone();
    }
}

/// `KEY=VALUE` lines.
pub fn parse_show(text: &str) -> BTreeMap<String, String> {
    text.lines().filter_map(|l| l.split_once('=')).map(|(k, v)| (k.trim().to_string(), v.trim().to_string())).collect()
}

/// Turns the seccomp-expressible properties into filters (systemd installs them after the id change).
pub fn apply_props(u: &mut Unit, props: &BTreeMap<String, String>) {
    if let Some(v) = props.get("NoNewPrivileges") {
        u.no_new_privs = parse_bool(v) == Some(true);
    }
    if let Some(v) = props.get("RestrictNamespaces") {
        match allowed_namespaces(v) {
            Some(allowed) => match filter::restrict_namespaces(allowed) {
                Ok(f) => u.filters.extend(f),
                Err(e) => u.not_applied.push(format!("RestrictNamespaces: {e}")),
            },
            None => u.not_applied.push(format!("RestrictNamespaces={v}: unparsable")),
        }
    }
    if let Some(v) = props.get("RestrictAddressFamilies") {
        match address_families(v) {
            Some(None) => {}
            Some(Some((allow, fams))) => match filter::address_families(allow, &fams) {
                Ok(f) => u.filters.push(f),
                Err(e) => u.not_applied.push(format!("RestrictAddressFamilies: {e}")),
            },
            None => u.not_applied.push(format!("RestrictAddressFamilies={v}: unknown family")),
        }
    }
    if let Some(v) = props.get("SystemCallFilter") {
        let refuse = refuse_action(props.get("SystemCallErrorNumber").map(String::as_str).unwrap_or(""));
        match (syscall_list(v), refuse) {
            (Some(None), _) => {}
            (Some(Some((allow, nrs, unknown))), Some(refuse)) => {
                if !unknown.is_empty() {
                    u.not_applied.push(format!("SystemCallFilter: unknown on this arch: {}", unknown.join(" ")));
                }
                match filter::syscall_filter(allow, &nrs, refuse) {
                    Ok(f) => u.filters.push(f),
                    Err(e) => u.not_applied.push(format!("SystemCallFilter: {e}")),
                }
            }
            (_, None) => u.not_applied.push("SystemCallErrorNumber: unparsable".to_string()),
            (None, _) => u.not_applied.push("SystemCallFilter: unparsable".to_string()),
        }
    }
}

fn parse_bool(v: &str) -> Option<bool> {
    match v.trim().to_ascii_lowercase().as_str() {
        "yes" | "true" | "on" | "1" => Some(true),
        "no" | "false" | "off" | "0" | "" => Some(false),
        _ => None,
    }
}

/// The namespace flags still allowed. systemctl prints `yes` (none allowed), `no`/empty (all), the allowed
/// names (optionally `~`-inverted), or on some versions the raw bitmask of allowed flags.
pub fn allowed_namespaces(v: &str) -> Option<u64> {
    let all = filter::ns_all();
    let v = v.trim();
    if let Some(b) = parse_bool(v) {
        return Some(if b { 0 } else { all });
    }
    if let Ok(n) = v.parse::<u64>() {
        return Some(n & all);
    }
    let (invert, list) = match v.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    let mut mask = 0;
    for name in list.split_whitespace() {
        mask |= NS_FLAGS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)?;
    }
    Some(if invert { all & !mask } else { mask })
}

/// `Some(None)`: no restriction. `Some(Some((allow_list, families)))`, or `None` when a name is unknown.
pub fn address_families(v: &str) -> Option<Option<(bool, Vec<u64>)>> {
    let v = v.trim();
    if v.is_empty() {
        return Some(None);
    }
    if v == "none" {
        return Some(Some((true, Vec::new())));
    }
    let (deny, list) = match v.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    let mut fams = Vec::new();
    for name in list.split_whitespace() {
        fams.push(af_number(name)?);
    }
    Some(Some((!deny, fams)))
}

fn af_number(name: &str) -> Option<u64> {
    let n = match name {
        "AF_UNIX" | "AF_LOCAL" => libc::AF_UNIX,
        "AF_INET" => libc::AF_INET,
        "AF_INET6" => libc::AF_INET6,
        "AF_NETLINK" => libc::AF_NETLINK,
        "AF_PACKET" => libc::AF_PACKET,
        "AF_BLUETOOTH" => libc::AF_BLUETOOTH,
        "AF_CAN" => libc::AF_CAN,
        "AF_VSOCK" => libc::AF_VSOCK,
        "AF_ALG" => libc::AF_ALG,
        "AF_XDP" => libc::AF_XDP,
        "AF_KEY" => libc::AF_KEY,
        "AF_TIPC" => libc::AF_TIPC,
        "AF_QIPCRTR" => 42,
        "AF_RDS" => libc::AF_RDS,
        "AF_APPLETALK" => libc::AF_APPLETALK,
        "AF_X25" => libc::AF_X25,
        "AF_AX25" => libc::AF_AX25,
        "AF_IPX" => libc::AF_IPX,
        "AF_NFC" => libc::AF_NFC,
        "AF_SMC" => 43,
        "AF_MCTP" => 45,
        _ => return None,
    };
    u64::try_from(n).ok()
}

/// `SystemCallErrorNumber=`: empty/`kill` ⇒ kill; an errno name or number ⇒ that errno.
pub fn refuse_action(v: &str) -> Option<Refuse> {
    let v = v.trim();
    if v.is_empty() || v == "kill" || v == "0" || v == "-1" || v == "2147483647" {
        return Some(Refuse::Kill);
    }
    if let Ok(n) = v.parse::<u32>() {
        return Some(Refuse::Errno(n));
    }
    let n = policy_core::errno::number_of(v)?;
    u32::try_from(n).ok().map(Refuse::Errno)
}

/// A parsed `SystemCallFilter=`: (allow_list, syscall numbers, names unknown on this architecture).
pub type SyscallList = (bool, Vec<i64>, Vec<String>);

/// `SystemCallFilter=` as systemctl prints it: syscall names (groups already expanded), `~` for a deny-list.
/// Entries like `name:ERRNO` keep their name. Returns (allow_list, numbers, names unknown here).
pub fn syscall_list(v: &str) -> Option<Option<SyscallList>> {
    let v = v.trim();
    if v.is_empty() {
        return Some(None);
    }
    let (deny, list) = match v.strip_prefix('~') {
        Some(rest) => (true, rest),
        None => (false, v),
    };
    let mut nrs = Vec::new();
    let mut unknown = Vec::new();
    for raw in list.split_whitespace() {
        let name = raw.split(':').next().unwrap_or(raw);
        if name.starts_with('@') {
            // A group name means an old systemctl that did not expand: cannot apply faithfully.
            return None;
        }
        match syscalls::number(name) {
            Some(n) => nrs.push(n),
            None => unknown.push(name.to_string()),
        }
    }
    nrs.sort_unstable();
    nrs.dedup();
    Some(Some((!deny, nrs, unknown)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_formats() {
        let all = filter::ns_all();
        assert_eq!(allowed_namespaces("yes"), Some(0));
        assert_eq!(allowed_namespaces("no"), Some(all));
        assert_eq!(allowed_namespaces(""), Some(all));
        let net_user = (libc::CLONE_NEWNET | libc::CLONE_NEWUSER) as u64;
        assert_eq!(allowed_namespaces("net user"), Some(net_user));
        assert_eq!(allowed_namespaces("~net user"), Some(all & !net_user));
        assert_eq!(allowed_namespaces("2080505856"), Some(2_080_505_856 & all));
        assert_eq!(allowed_namespaces("bogus"), None);
    }

    #[test]
    fn families_and_errno() {
        assert_eq!(address_families(""), Some(None));
        assert_eq!(address_families("AF_UNIX AF_INET"), Some(Some((true, vec![1, 2]))));
        assert_eq!(address_families("~AF_PACKET"), Some(Some((false, vec![17]))));
        assert_eq!(address_families("AF_NOPE"), None);
        assert_eq!(refuse_action(""), Some(Refuse::Kill));
        assert_eq!(refuse_action("kill"), Some(Refuse::Kill));
        assert_eq!(refuse_action("EPERM"), Some(Refuse::Errno(1)));
        assert_eq!(refuse_action("38"), Some(Refuse::Errno(38)));
    }

    #[test]
    fn syscall_lists() {
        let Some(Some((allow, nrs, unknown))) = syscall_list("~mount umount2 pivot_root frobnicate") else {
            panic!("parse")
        };
        assert!(!allow);
        assert_eq!(nrs.len(), 3);
        assert_eq!(unknown, vec!["frobnicate".to_string()]);
        assert_eq!(syscall_list("@system-service"), None);
        assert_eq!(syscall_list(""), Some(None));
    }

    #[test]
    fn show_output_builds_filters() {
        let props = parse_show(
            "RestrictNamespaces=yes\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\nSystemCallFilter=~mount\nSystemCallErrorNumber=EPERM\nNoNewPrivileges=yes\n",
        );
        let mut u = Unit::default();
        apply_props(&mut u, &props);
        assert!(u.no_new_privs);
        assert_eq!(u.filters.len(), 4, "{:?}", u.not_applied);
        assert!(u.not_applied.is_empty());
    }
}
