//! `nsdoctor fix` on this machine's kernel, never on the real host: the limits sysctl is applied, verified and
//! undone inside a throwaway user + mount namespace, where `user.max_user_namespaces` is the namespace's own
//! (kernel/ucount.c) and /etc/sysctl.d is a private tmpfs.

use std::process::Command;

const NSDOCTOR: &str = env!("CARGO_BIN_EXE_nsdoctor");

/// Runs `script` as root of a new user namespace with a private mount namespace; returns its stdout.
fn in_throwaway_namespace(script: &str, state: &std::path::Path) -> String {
    let out = Command::new("unshare")
        .args(["--user", "--map-root-user", "--mount", "--fork", "sh", "-c", script, "sh", NSDOCTOR])
        .env("NSDOCTOR_STATE_DIR", state)
        .env_remove("SUDO_UID")
        .output()
        .expect("unshare(1) from util-linux");
    let stdout = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(
        out.status.success(),
        "the namespace script failed:\nstdout:\n{stdout}\nstderr:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

const SETUP: &str = r#"set -e
nsd=$1
# Everything below stays in this namespace: /etc/sysctl.d is a private tmpfs, the limit is this userns's own.
mount -t tmpfs tmpfs /etc/sysctl.d
printf '# an older file of the same name\nuser.max_user_namespaces = 10\n' > /etc/sysctl.d/60-nsdoctor-userns-limits.conf
chmod 0640 /etc/sysctl.d/60-nsdoctor-userns-limits.conf
before=$(sha256sum /etc/sysctl.d/60-nsdoctor-userns-limits.conf; stat -c %a /etc/sysctl.d/60-nsdoctor-userns-limits.conf)
echo 0 > /proc/sys/user/max_user_namespaces
st() { "$@" >/dev/null 2>&1 && echo 0 || echo $?; }
"#;

#[test]
fn apply_verify_undo_of_the_limits_sysctl_in_a_throwaway_namespace() {
    let state = std::env::temp_dir().join(format!("nsdoctor-fix-state-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let script = format!(
        "{SETUP}
echo blocked=$(st \"$nsd\" check --no-bwrap)
\"$nsd\" fix --no-bwrap > /tmp/plan.sh
echo dry_run_state=$(ls -A \"$NSDOCTOR_STATE_DIR\" 2>/dev/null | wc -l)
echo dry_run_value=$(cat /proc/sys/user/max_user_namespaces)
echo no_yes=$(st \"$nsd\" fix --apply --no-bwrap)
echo no_yes_value=$(cat /proc/sys/user/max_user_namespaces)
echo apply=$(st \"$nsd\" fix --apply --yes --no-bwrap)
echo applied_value=$(cat /proc/sys/user/max_user_namespaces)
echo applied_file=$(grep -c '^user.max_user_namespaces = 15000' /etc/sysctl.d/60-nsdoctor-userns-limits.conf)
echo after=$(st \"$nsd\" check --no-bwrap)
echo again=$(st \"$nsd\" fix --apply --yes --no-bwrap)
echo undo=$(st \"$nsd\" fix --undo)
echo undone_value=$(cat /proc/sys/user/max_user_namespaces)
after_undo=$(sha256sum /etc/sysctl.d/60-nsdoctor-userns-limits.conf; stat -c %a /etc/sysctl.d/60-nsdoctor-userns-limits.conf)
[ \"$before\" = \"$after_undo\" ] && echo file_restored=yes || echo file_restored=no
echo blocked_again=$(st \"$nsd\" check --no-bwrap)
echo undo_twice=$(\"$nsd\" fix --undo 2>&1)
"
    );
    let out = in_throwaway_namespace(&script, &state);
    let _ = std::fs::remove_dir_all(&state);
    for want in [
        "blocked=1",
        "dry_run_state=0",
        "dry_run_value=0",
        "no_yes=2",
        "no_yes_value=0",
        "apply=0",
        "applied_value=15000",
        "applied_file=1",
        "after=0",
        "again=0",
        "undo=0",
        "undone_value=0",
        "file_restored=yes",
        "blocked_again=1",
        "undo_twice=nsdoctor fix: nothing to undo",
    ] {
        assert!(out.lines().any(|l| l == want), "expected `{want}` in:\n{out}");
    }
}

/// Verification that fails (the check is replaced by /bin/false) rolls everything back by itself.
#[test]
fn a_failed_verification_rolls_back() {
    let state = std::env::temp_dir().join(format!("nsdoctor-fix-rollback-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let script = format!(
        "{SETUP}
\"$nsd\" fix --no-bwrap > /tmp/fix.sh
echo run=$(NSDOCTOR=/bin/false sh /tmp/fix.sh >/dev/null 2>&1 && echo 0 || echo $?)
echo value=$(cat /proc/sys/user/max_user_namespaces)
after=$(sha256sum /etc/sysctl.d/60-nsdoctor-userns-limits.conf; stat -c %a /etc/sysctl.d/60-nsdoctor-userns-limits.conf)
[ \"$before\" = \"$after\" ] && echo file_restored=yes || echo file_restored=no
echo manifest=$(ls -A \"$NSDOCTOR_STATE_DIR\" 2>/dev/null | wc -l)
"
    );
    let out = in_throwaway_namespace(&script, &state);
    let _ = std::fs::remove_dir_all(&state);
    for want in ["run=1", "value=0", "file_restored=yes", "manifest=0"] {
        assert!(out.lines().any(|l| l == want), "expected `{want}` in:\n{out}");
    }
}
