#!/usr/bin/env python3
"""Host-side assertions of the kernel lab (called by ./run; standard library only).

Reads the results the guest sent (OUT/cases/<scenario>.<who>/...) and checks, for every case:
  * `nsdoctor probe` exited 0 and printed a report; the listed ladder steps have the expected outcome
    (`ok` or the errno name of a failed step);
  * `nsdoctor diagnose` on that report: verdict, and for a blocked host the top finding's cause;
  * the real bwrap under the same restriction: exit 0 when the sandbox is not blocked, else non-zero and
    `nsdoctor diagnose --error-text <its stderr>` gives the same top cause.
  * a "-fixed" case: what the guest applied is byte-identical to what the in-guest diagnosis of the blocked case
    offered (a sysctl.d file, an AppArmor profile, or a remediation's commands, see fixes.py).
  * an "-apply" case (OUT/apply/<scenario>/, guest/lab.sh fix_case): `nsdoctor fix --apply --yes` applied the
    expected remediation and exited 0, its manifest records exactly what changed, `check` as uid 1000 is no longer
    blocked and the real bwrap works; `nsdoctor fix --undo` exited 0 and removed the manifest, `check` is blocked
    again with the blocked case's cause, bwrap fails again, and the trees, sysctls and loaded profiles are as
    before, byte for byte (sha256 and mode of every entry). For AppArmor, the guest ran the script the host
    compiled for, and its trees and stand-in calls match the host's run of it (fixes.py APPLY_FIXES).
  * a "-rollback" case: the script with a verification that fails (guest/check-fails) exited 1 after applying the
    fix (seen by the verification) and undoing it by itself: trees, sysctls and profiles as before, no manifest.
Prints one line per case, a timing line, and finally `N passed, M failed`; exits 1 on any failure.

Errnos per scenario are the ones the real kernel gives (security/apparmor/, kernel/user_namespace.c,
kernel/ucount.c), measured on this same kernel.
"""

import argparse
import json
import os
import sys

OK_STEPS = {"userns": "ok", "setgroups": "ok", "uid-map": "ok", "gid-map": "ok", "netns": "ok",
            "netlink-socket": "ok", "netlink-newaddr": "ok"}
NOT_BLOCKED = ("ok", "degraded")

# (scenario, who) -> expectation. verdict: a string or a tuple of accepted verdicts; cause: the top finding's
# cause when blocked (None: no blocking finding); steps: step id -> "ok" | errno name; extra: named checks.
EXPECT = {}


def expect(scenario, who, steps, verdict, cause=None, extra=(), top=None, text_cause=None, label=None, audit=()):
    """top: for a host that is not blocked, the cause of the (non-blocking) top finding, when one is expected.
    text_cause: the cause `diagnose --error-text` gives for bwrap's stderr (default: cause); label: the AppArmor
    label bwrap was exec'd into (recorded by the shim); audit: tuples of substrings that one audit record of the
    case must all contain."""
    EXPECT[(scenario, who)] = {"steps": steps, "verdict": verdict, "cause": cause, "extra": tuple(extra), "top": top,
                               "text_cause": text_cause or cause, "label": label, "audit": tuple(audit)}


for who in ("uid1000", "root"):
    expect("unrestricted", who, OK_STEPS, "ok")
    # Debian's kernel.unprivileged_userns_clone=0: EPERM for the unprivileged caller, root unaffected.
    if who == "uid1000":
        expect("userns-clone-0", who, {"userns": "EPERM"}, "blocked", "unprivileged-userns-clone-disabled")
    else:
        expect("userns-clone-0", who, OK_STEPS, "ok")
    # user.max_user_namespaces=0: ENOSPC for everyone.
    expect("max-userns-0", who, {"userns": "ENOSPC"}, "blocked", "userns-limit-zero")
    # user.max_net_namespaces=0: the user namespace works, the network namespace does not (ENOSPC).
    expect("max-netns-0-none", who, {"userns": "ok", "uid-map": "ok", "netns": "ENOSPC"}, "blocked",
           "userns-limit-zero")
    # ... which does not matter when the sandbox keeps the container's bridge network.
    expect("max-netns-0-bridge", who, {"userns": "ok", "uid-map": "ok", "netns": "ENOSPC"}, NOT_BLOCKED)
    # systemd RestrictNamespaces=yes (seccomp: EPERM) in a service (INVOCATION_ID).
    expect("seccomp-restrict-ns", who, {"userns": "EPERM"}, "blocked", "systemd-unit-hardening")
    # An abi-4.0 AppArmor profile on the binary without `userns,`: userns_create denied, EACCES, root too.
    expect("apparmor-no-userns-rule", who, {"userns": "EACCES"}, "blocked", "apparmor-userns-restriction")
    # Ubuntu 24.04: creation succeeds, the new namespace is in unprivileged_userns (no capabilities).
    if who == "uid1000":
        expect("ubuntu-2404-transition", who,
               {"userns": "ok", "setgroups": "EACCES", "uid-map": "EPERM", "netlink-newaddr": "EPERM"},
               "blocked", "apparmor-userns-restriction", extra=("ubuntu-remediation",))
    else:  # callers with CAP_SYS_ADMIN are exempt
        expect("ubuntu-2404-transition", who, OK_STEPS, NOT_BLOCKED)
    # A chroot: the kernel refuses CLONE_NEWUSER to a chrooted caller (EPERM), root included.
    expect("chroot", who, {"userns": "EPERM"}, "blocked", "chroot")

# Root probing for a service user (`nsdoctor probe --as-user user`) must see what uid 1000 sees.
for sc in ("userns-clone-0", "seccomp-restrict-ns"):
    EXPECT[(sc, "asuser")] = dict(EXPECT[(sc, "uid1000")])

# The remediation nsdoctor printed, applied on the real kernel: bwrap must then work.
expect("userns-clone-0-fixed", "uid1000", OK_STEPS, "ok", extra=("fix-offered:userns-clone-0",))
expect("max-userns-0-fixed", "uid1000", OK_STEPS, "ok", extra=("fix-offered:max-userns-0",))
# nsdoctor itself stays unconfined, so its own ladder still meets the restriction; bwrap now has a profile
# with `userns,` and works, and the diagnosis must say the restriction is covered (not blocked).
expect("ubuntu-2404-transition-fixed", "uid1000", {"userns": "ok", "setgroups": "EACCES", "uid-map": "EPERM"},
       NOT_BLOCKED, top="apparmor-userns-restriction", extra=("fix-offered:ubuntu-2404-transition",),
       label="codex-bwrap (unconfined)")
for who in ("uid1000", "root"):
    EXPECT[("ubuntu-2404-transition", who)]["label"] = "unconfined"  # no profile attaches: bwrap starts unconfined

# Ubuntu emulation, nsdoctor unconfined: its own ladder meets the transition (as in ubuntu-2404-transition).
UBUNTU_LADDER = {"userns": "ok", "setgroups": "EACCES", "uid-map": "EPERM", "netlink-newaddr": "EPERM"}
# The text of bwrap's failure alone only shows the restriction's symptom (or an EACCES at creation); which
# profile is at fault is in the probe report, so --error-text keeps apparmor-userns-restriction.
TEXT_AA = "apparmor-userns-restriction"
# Two profiles attach to /usr/bin/bwrap (vendor-bwrap + nsdoctor's codex-bwrap): the kernel attaches neither, bwrap
# runs unconfined (its exec label), the transition catches it: `loopback: Failed RTM_NEWADDR`.
expect("apparmor-conflict", "uid1000", UBUNTU_LADDER, "blocked", "apparmor-attachment-conflict",
       text_cause=TEXT_AA, label="unconfined")
# Root is exempt from the transition: the sandbox works, but the conflict is still worth the top finding.
expect("apparmor-conflict", "root", OK_STEPS, NOT_BLOCKED, top="apparmor-attachment-conflict", label="unconfined")
# nsdoctor's first fix: codex-bwrap disabled (linked into disable/, unloaded), vendor-bwrap kept: it alone
# attaches, covers bwrap, not blocked.
expect("apparmor-conflict-fixed", "uid1000", UBUNTU_LADDER, NOT_BLOCKED, top="apparmor-userns-restriction",
       extra=("fix-offered:apparmor-conflict",), label="vendor-bwrap (unconfined)")
# bwrap's profile in complain mode (no `userns,`): bwrap is confined (no transition) but the kernel refuses the
# disconnected /proc/PID/uid_map write even in complain mode (audit ALLOWED ... error=-13), root too.
UIDMAP_DISCONNECTED = ('apparmor="ALLOWED" operation="open" class="file" info="Failed name lookup - disconnected path" '
                       'error=-13 profile="bwrap"', 'uid_map', 'comm="bwrap"')
expect("apparmor-complain", "uid1000", UBUNTU_LADDER, "blocked", "apparmor-profile-mode", text_cause=TEXT_AA,
       label="bwrap (complain)", audit=(UIDMAP_DISCONNECTED,))
expect("apparmor-complain", "root", OK_STEPS, "blocked", "apparmor-profile-mode", text_cause=TEXT_AA,
       label="bwrap (complain)", audit=(UIDMAP_DISCONNECTED,))
# nsdoctor's fix: the file's flags made unconfined, `userns,` in local/bwrap, reloaded: covered, bwrap works.
expect("apparmor-complain-fixed", "uid1000", UBUNTU_LADDER, NOT_BLOCKED, top="apparmor-userns-restriction",
       extra=("fix-offered:apparmor-complain",), label="bwrap (unconfined)")
# bwrap started under an application's profile without `userns,` (aa-exec -p steam-like): EACCES at creation,
# root too. The probe sees it only with --apparmor-profile steam-like.
USERNS_DENIED = ('apparmor="DENIED" operation="userns_create" class="namespace" profile="steam-like" comm="bwrap"',)
for who in ("uid1000", "root"):
    expect("apparmor-parent-profile", who, {"userns": "EACCES"}, "blocked", "outer-confinement", text_cause=TEXT_AA,
           audit=(USERNS_DENIED,))
# nsdoctor's fix, `userns,` in local/steam-like and the profile reloaded: everything works under it.
expect("apparmor-parent-profile-fixed", "uid1000", OK_STEPS, "ok", extra=("fix-offered:apparmor-parent-profile",))


# "-apply" cases: the blocked scenario they start from (its uid 1000 cause is what `check` must find again after
# the undo), the remediation `nsdoctor fix` must pick, the sysctls it must set, and the label bwrap must be exec'd
# into after the fix and after the undo (recorded where the Ubuntu emulation's shim is preloaded).
APPLY = {
    "userns-clone-0-apply": {"blocked": "userns-clone-0", "id": "sysctl-enable-userns-clone",
                             "sysctl": {"kernel.unprivileged_userns_clone": "1"}},
    "max-userns-0-apply": {"blocked": "max-userns-0", "id": "sysctl-raise-namespace-limits",
                           "sysctl": {"user.max_user_namespaces": "15000"}},
    "ubuntu-2404-transition-apply": {"blocked": "ubuntu-2404-transition", "id": "apparmor-profile-for-bwrap",
                                     "labels": ("codex-bwrap (unconfined)", "unconfined"), "host": True},
    "apparmor-conflict-apply": {"blocked": "apparmor-conflict", "id": "keep-apparmor-profile-vendor-bwrap",
                                "labels": ("vendor-bwrap (unconfined)", "unconfined"), "host": True},
    "apparmor-complain-apply": {"blocked": "apparmor-complain", "id": "apparmor-profile-bwrap-unconfined",
                                "labels": ("bwrap (unconfined)", "bwrap (complain)"), "host": True},
    "apparmor-parent-profile-apply": {"blocked": "apparmor-parent-profile", "id": "add-userns-to-steam-like",
                                      "host": True},
}
# "-rollback" cases: the remediation, and what the verification must have seen in place (sysctl values, or
# profile names that must be absent from the kernel then).
ROLLBACK = {
    "userns-clone-0-rollback": {"id": "sysctl-enable-userns-clone",
                                "sysctl": {"kernel.unprivileged_userns_clone": "1"}},
    "apparmor-conflict-rollback": {"id": "keep-apparmor-profile-vendor-bwrap", "unloaded": ("codex-bwrap",),
                                   "host": True},
}


def load_json(path):
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f), None
    except FileNotFoundError:
        return None, "missing"
    except (OSError, ValueError) as e:
        if os.path.exists(path) and os.path.getsize(path) == 0:
            return None, "empty"
        return None, "not JSON (%s)" % str(e).splitlines()[0][:80]


def read(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            return f.read().strip()
    except OSError:
        return default


def first_line(text, n=110):
    line = next((l for l in text.splitlines() if l.strip()), "")
    return line if len(line) <= n else line[:n] + "…"


def step_outcomes(report):
    out = {}
    for s in report.get("steps", []) if isinstance(report, dict) else []:
        r = s.get("result", {})
        o = r.get("outcome")
        if o == "failed":
            out[s.get("id")] = (r.get("errno") or {}).get("name", "?")
        elif o == "skipped":
            out[s.get("id")] = "skipped"
        elif o == "killed":
            out[s.get("id")] = "killed:" + str(r.get("signal"))
        else:
            out[s.get("id")] = o
    return out


def top_cause(diag):
    f = diag.get("findings") or []
    return f[0].get("cause") if f else None


def check_extra(name, diag, ctx):
    if name.startswith("fix-offered:"):
        # what the guest applied (extracted on the host) was offered by the in-guest diagnosis of the blocked case
        sc = name.split(":", 1)[1]
        fix = (ctx.get("fixes") or {}).get(sc)
        applied = os.path.join(ctx["out"], "fix-%s.conf" % sc)
        if os.path.exists(applied):  # extracted and applied in the guest (sysctl.d)
            fix = {"kind": "sysctl-d", "path": None, "content": read(applied, None)}
            log = read(os.path.join(ctx["out"], "fix-%s.log" % sc))
            if not fix["content"]:
                return "the guest found no sysctl-d remediation for %s" % sc
            if "error" in log.lower() or "unknown" in log.lower() or "invalid" in log.lower():
                return "sysctl -p of nsdoctor's file failed in the guest: %s" % first_line(log)
        if not fix:
            return "no extracted remediation for %s" % sc
        blocked, err = load_json(os.path.join(ctx["cases"], "%s.uid1000" % sc, "diag.json"))
        if blocked is None:
            return "no diagnosis of %s.uid1000 (%s)" % (sc, err)
        if fix["kind"] == "commands":
            return check_commands(sc, fix, blocked, os.path.join(ctx["out"], "fix-" + sc))
        arts = [a for f in blocked.get("findings") or [] for r in f.get("remediations") or [] for a in r.get("files") or []]
        same = [a for a in arts if a.get("kind") == fix["kind"] and fix["path"] in (None, a.get("path"))]
        if not same:
            return "the in-guest diagnosis of %s did not offer %s %s (offered: %s)" % (
                sc, fix["kind"], fix["path"], [a.get("path") for a in arts])
        if not any(a.get("content", "").strip() == fix["content"].strip() for a in same):
            return "the in-guest diagnosis of %s offered %s with different content" % (sc, fix["path"])
        return None
    if name == "ubuntu-remediation":
        # Ubuntu's fix: an AppArmor profile (abi 4.0) that grants `userns` to the sandbox's bwrap.
        rems = ((diag.get("findings") or [{}])[0]).get("remediations") or []
        for r in rems:
            for f in r.get("files") or []:
                c = f.get("content", "")
                if f.get("kind") == "apparmor-profile" and "userns" in c:
                    return None
        return "no Ubuntu remediation (apparmor-profile artifact granting userns) in the top finding: ids %s" % (
            [r.get("id") for r in rems])
    return "unknown check " + name


def check_commands(sc, fix, blocked, applied):
    """The remediation whose commands the guest ran (fixes.py, guest/aa-fix.sh): offered first by the in-guest
    diagnosis of the blocked case with byte-identical commands; every command exited 0 in the guest; the guest
    loaded and unloaded what the host's run of the same commands compiled and listed; and the guest's
    /etc/apparmor.d ended up as the host's scratch copy did (the files the commands touch, byte for byte)."""
    rems = ((blocked.get("findings") or [{}])[0]).get("remediations") or []
    if not rems or rems[0].get("id") != fix["remediation"]:
        return "the in-guest diagnosis of %s leads with %s, not %s" % (
            sc, [r.get("id") for r in rems][:3], fix["remediation"])
    if rems[0].get("commands") != fix["commands"]:
        return "the in-guest diagnosis of %s offered %s with different commands: %s" % (
            sc, fix["remediation"], rems[0].get("commands"))
    status = [l.split("\t", 1) for l in read(os.path.join(applied, "status")).splitlines()]
    if [c for _, c in status] != fix["applied"]:
        return "the guest ran %s, not nsdoctor's commands for %s" % ([c for _, c in status], sc)
    bad = [(rc, c) for rc, c in status if rc != "0"]
    if bad:
        log = [l for l in read(os.path.join(applied, "log")).splitlines() if l.strip()]
        return "in the guest, `%s` exited %s (log ends: %s)" % (bad[0][1], bad[0][0], log[-1] if log else "-")
    acts = read(os.path.join(applied, "actions")).splitlines()
    if acts != fix["actions"]:
        return "the guest's apparmor_parser did %s, the host's run %s" % (acts, fix["actions"])
    for stage in ("before", "after"):
        root = os.path.join(applied, stage)
        for rel, want in sorted(fix[stage].items()):
            p = os.path.join(root, rel)
            got = {"link": os.readlink(p)} if os.path.islink(p) else {"file": read_raw(p)} if os.path.isfile(p) else None
            if got != want:
                return "%s /etc/apparmor.d/%s %s nsdoctor's commands: guest %s, host %s" % (
                    sc, rel, stage, got and first_line(str(got), 60), first_line(str(want), 60))
        gone = set(fix["before"]) - set(fix["after"])
        if stage == "after" and any(os.path.lexists(os.path.join(root, r)) for r in gone):
            return "%s: the guest kept %s, which the commands removed on the host" % (sc, sorted(gone))
    return None


def read_raw(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        return f.read()


def lines(path):
    return read(path).splitlines()


def tree_changes(a, b):
    """Paths whose entry (type, mode, digest or target) differs between two tree listings, or that only one has."""
    def index(ls):
        return {l.rsplit(" ", 1)[-1]: l for l in ls}
    ia, ib = index(a), index(b)
    return sorted(p for p in set(ia) | set(ib) if ia.get(p) != ib.get(p))


def restored(d, before, after, what):
    """Problems when the snapshot `after` differs from `before` (trees, sysctls, loaded profiles)."""
    out = []
    for ext, name in (("tree", "files"), ("sysctl", "sysctls"), ("profiles", "loaded profiles")):
        a, b = lines(os.path.join(d, "%s.%s" % (before, ext))), lines(os.path.join(d, "%s.%s" % (after, ext)))
        if not a and ext != "profiles":
            out.append("no %s snapshot %s" % (name, before))
        elif a != b:
            diff = tree_changes(a, b) if ext == "tree" else sorted(set(a) ^ set(b))
            out.append("%s %s differ from before: %s" % (name, what, diff[:4]))
    return out


def verdict_of(d, stage):
    j, err = load_json(os.path.join(d, stage + ".check.json"))
    if j is None:
        return None, None, "%s check: %s (%s)" % (stage, err, first_line(read(os.path.join(d, stage + ".check.err"))))
    return j.get("verdict"), top_cause(j), None


def host_match(d, fix, label):
    """The guest ran the script the host prepared, and its tree and stand-in calls match the host's run."""
    out = []
    if not fix:
        return ["no host preparation for this case (fixes.json)"]
    # The rollback's script comes from uid 1000's own report, which names the user by uid: only the user of the
    # verification (CHECK_ARGS) may differ from the apply's.
    def body(text):
        return [l for l in text.splitlines() if label == "apply" or not l.startswith("CHECK_ARGS=")]
    if body(read_raw(os.path.join(d, "fix.sh"))) != body(fix["script"]):
        out.append("the guest's script is not the one the host compiled for (fix.sh differs from fixes.json)")
    for stage, host in (("before", "before"), ("applied", "applied"), ("undone", "undone")):
        if stage != "before" and label == "rollback":
            continue
        g = sorted(l for l in lines(os.path.join(d, stage + ".tree")) if l.rsplit(" ", 1)[-1].startswith("/etc/apparmor.d/"))
        if g != sorted(fix[host]):
            out.append("/etc/apparmor.d %s: guest and host differ at %s" % (stage, tree_changes(g, fix[host])[:4]))
    logs = (("fix.standin", "log_applied"), ("undo.standin", "log_undone")) if label == "apply" else ()
    for f, key in logs:
        if lines(os.path.join(d, f)) != fix[key]:
            out.append("apparmor_parser calls in the guest's %s: %s, on the host: %s" % (
                f.split(".")[0], lines(os.path.join(d, f)), fix[key]))
    return out


def judge_apply(d, sc, exp, ctx):
    problems, summary = [], []
    rid = exp["id"]
    rc, err = read(os.path.join(d, "fix.rc"), "?"), read(os.path.join(d, "fix.err"))
    if rc != "0":
        problems.append("fix --apply exit %s: %s" % (rc, (err.splitlines() or ["-"])[-1][:160]))
    elif "applied %s; nsdoctor check passes" % rid not in err:
        problems.append("fix --apply did not report its verification: %s" % first_line(err))
    if read(os.path.join(d, "id")) != rid:
        problems.append("the recorded fix is %r, not %s" % (read(os.path.join(d, "id")), rid))
    # the manifest records exactly the files that changed, and each sysctl's previous value
    man = [l.split("	") for l in lines(os.path.join(d, "manifest"))]
    before, applied = lines(os.path.join(d, "before.tree")), lines(os.path.join(d, "applied.tree"))
    changed = tree_changes(before, applied)
    recorded = sorted(m[1] for m in man if m[0] == "file")
    if not man:
        problems.append("no undo manifest after fix --apply")
    elif changed != recorded:
        problems.append("changed %s, the manifest records %s" % (changed, recorded))
    sys_before = dict(l.split(" = ", 1) for l in lines(os.path.join(d, "before.sysctl")))
    sys_applied = dict(l.split(" = ", 1) for l in lines(os.path.join(d, "applied.sysctl")))
    for k, v in exp.get("sysctl", {}).items():
        if sys_applied.get(k) != v:
            problems.append("%s = %s after the fix, expected %s" % (k, sys_applied.get(k), v))
        if ["sysctl", k, sys_before.get(k)] not in man:
            problems.append("the manifest does not record %s's previous value %s" % (k, sys_before.get(k)))
    summary.append("fix=%s %s changed %s" % (rc, rid, ",".join(changed) or "nothing"))
    for k in exp.get("sysctl", {}):
        summary.append("%s %s→%s" % (k, sys_before.get(k), sys_applied.get(k)))
    pb, pa = (set(lines(os.path.join(d, x + ".profiles"))) for x in ("before", "applied"))
    if pb != pa:
        summary.append("kernel %s" % " ".join(["-" + x for x in sorted(pb - pa)] + ["+" + x for x in sorted(pa - pb)]))
    # after the fix: uid 1000's check is not blocked and the real bwrap works
    v, c, e = verdict_of(d, "applied")
    if e:
        problems.append(e)
    elif v not in NOT_BLOCKED or read(os.path.join(d, "applied.check.rc")) != "0":
        problems.append("check after the fix: %s (%s), exit %s" % (v, c, read(os.path.join(d, "applied.check.rc"))))
    brc = read(os.path.join(d, "applied.bwrap.rc"), "?")
    if brc != "0":
        problems.append("bwrap after the fix: exit %s: %s" % (brc, first_line(read(os.path.join(d, "applied.bwrap.err")))))
    summary.append("check=%s bwrap=%s" % (v, brc))
    # after the undo: no manifest, blocked again for the same cause, bwrap fails, everything as before
    urc, uerr = read(os.path.join(d, "undo.rc"), "?"), read(os.path.join(d, "undo.err"))
    if urc != "0" or "undone" not in uerr:
        problems.append("fix --undo exit %s: %s" % (urc, (uerr.splitlines() or ["-"])[-1][:160]))
    if "undo" in lines(os.path.join(d, "state-after-undo")):
        problems.append("the undo manifest is still there after fix --undo")
    want = EXPECT[(exp["blocked"], "uid1000")]["cause"]
    v2, c2, e = verdict_of(d, "undone")
    if e:
        problems.append(e)
    elif (v2, c2) != ("blocked", want):
        problems.append("check after the undo: %s/%s, expected blocked/%s" % (v2, c2, want))
    brc2 = read(os.path.join(d, "undone.bwrap.rc"), "?")
    if brc2 == "0":
        problems.append("bwrap works after the undo")
    problems += restored(d, "before", "undone", "after the undo")
    summary.append("| undo=%s check=%s/%s bwrap=%s; %d entries, sysctls, profiles as before" % (urc, v2, c2, brc2, len(before)))
    if exp.get("labels"):
        got = tuple((lines(os.path.join(d, s + ".bwrap.label")) or ["none"])[0] for s in ("applied", "undone"))
        if got != exp["labels"]:
            problems.append("bwrap's exec labels after the fix and the undo: %s, expected %s" % (got, exp["labels"]))
        summary.append("labels=%s" % "→".join(got))
    if exp.get("host"):
        problems += host_match(d, (ctx.get("fixes") or {}).get(sc), "apply")
    return problems, " ".join(summary)


def judge_rollback(d, sc, exp, ctx):
    problems, summary = [], []
    rid = exp["id"]
    script = read_raw(os.path.join(d, "fix.sh")) if os.path.exists(os.path.join(d, "fix.sh")) else ""
    if read(os.path.join(d, "gen.rc")) != "0" or "\nID='%s'\n" % rid not in script:
        problems.append("nsdoctor fix --report did not print the script of %s: %s" % (rid, first_line(read(os.path.join(d, "gen.err")))))
    rc, err = read(os.path.join(d, "fix.rc"), "?"), read(os.path.join(d, "fix.err"))
    if rc != "1" or "still blocked after %s: rolled back" % rid not in err:
        problems.append("the script exited %s: %s" % (rc, (err.splitlines() or ["-"])[-1][:160]))
    args = read(os.path.join(d, "verify.args"), None)
    if args is None:
        problems.append("the verification did not run")
    else:
        if not args.startswith("check ") or "--as-user 1000" not in args:
            problems.append("the verification ran `nsdoctor %s`" % args)
        seen = dict(l.split(" = ", 1) for l in lines(os.path.join(d, "verify.sysctl")))
        for k, v in exp.get("sysctl", {}).items():
            if seen.get(k) != v:
                problems.append("%s was %s when verified, expected the fix's %s" % (k, seen.get(k), v))
        loaded = {l.split(" (")[0] for l in lines(os.path.join(d, "verify.profiles"))}
        for n in exp.get("unloaded", ()):
            if n in loaded:
                problems.append("%s was still loaded when verified" % n)
        if not tree_changes(lines(os.path.join(d, "before.tree")), lines(os.path.join(d, "verify.tree"))):
            problems.append("no file had changed when the fix was verified")
    summary.append("script=%s %s verified with the fix in place (%s)" % (
        rc, rid, ", ".join(tree_changes(lines(os.path.join(d, "before.tree")), lines(os.path.join(d, "verify.tree"))))))
    if "undo" in lines(os.path.join(d, "state-after")):
        problems.append("the undo manifest is still there after the rollback")
    problems += restored(d, "before", "after", "after the rollback")
    summary.append("| rolled back: %d entries, sysctls and profiles as before" % len(lines(os.path.join(d, "before.tree"))))
    if exp.get("host"):
        problems += host_match(d, (ctx.get("fixes") or {}).get(sc.replace("-rollback", "-apply")), "rollback")
        calls = lines(os.path.join(d, "fix.standin"))
        bad = [l for l in calls if l.split()[3:4] != ["0"]]
        if bad or not calls:
            problems.append("apparmor_parser calls (stand-in) failed: %s" % (bad or "none made"))
    return problems, " ".join(summary)


def notes_for(report, diag):
    """Soft checks: printed as NOTE lines for the engine's authors, never a failure."""
    notes = []
    f0 = (diag.get("findings") or [{}])[0] if diag else {}
    aa = (report or {}).get("apparmor") or {}
    pfb = (aa.get("profiles_for_bwrap") or {}).get("observed")
    # NSD103 must name the real reason: a profile for bwrap, or (without one) that root is exempt.
    if f0.get("code") == "NSD103" and pfb == {} and "exempt" not in (f0.get("summary") or ""):
        notes.append("NSD103 says the sandbox's bwrap has a profile allowing userns, but the report found none "
                     "(profiles_for_bwrap is empty); the caller is exempt for another reason (uid %s)" % (
                         ((report.get("identity") or {}).get("uid") or {}).get("observed")))
    return notes


def judge(case_dir, exp, ctx):
    problems = []
    summary = []
    prc = read(os.path.join(case_dir, "probe.rc"), "?")
    report, err = load_json(os.path.join(case_dir, "probe.json"))
    if prc != "0" or report is None:
        problems.append("probe exit %s, report %s: %s" % (prc, err or "ok",
                        first_line(read(os.path.join(case_dir, "probe.err")))))
    steps = step_outcomes(report or {})
    for sid, want in exp["steps"].items() if report is not None else ():
        got = steps.get(sid, "absent")
        if got != want:
            problems.append("step %s: expected %s, got %s" % (sid, want, got))
    summary.append(" ".join("%s=%s" % (k, steps.get(k, "absent")) for k in exp["steps"]))

    diag, err = load_json(os.path.join(case_dir, "diag.json"))
    if report is None:
        diag = {}
    elif diag is None:
        problems.append("diagnose: %s (%s)" % (err, first_line(read(os.path.join(case_dir, "diag.err")))))
        diag = {}
    verdict, cause = diag.get("verdict"), top_cause(diag)
    want_v = exp["verdict"] if isinstance(exp["verdict"], tuple) else (exp["verdict"],)
    if diag and verdict not in want_v:
        problems.append("verdict: expected %s, got %s (top cause %s)" % ("|".join(want_v), verdict, cause))
    blocked = exp["cause"] is not None
    if blocked and diag and cause != exp["cause"]:
        problems.append("cause: expected %s, got %s" % (exp["cause"], cause))
    if diag:
        drc = read(os.path.join(case_dir, "diag.rc"), "?")
        if drc != ("1" if verdict == "blocked" else "0"):
            problems.append("diagnose exit %s with verdict %s" % (drc, verdict))
    if exp.get("top") and diag and cause != exp["top"]:
        problems.append("top finding: expected cause %s, got %s" % (exp["top"], cause))
    chk, err = load_json(os.path.join(case_dir, "check.json"))
    if diag and (chk is not None or os.path.exists(os.path.join(case_dir, "check.rc"))):
        # `nsdoctor check` (probe + diagnose in one process) must agree with probe -> diagnose
        if chk is None:
            problems.append("check: %s (%s)" % (err, first_line(read(os.path.join(case_dir, "check.err")))))
        elif (chk.get("verdict"), top_cause(chk)) != (verdict, cause):
            problems.append("check says %s/%s but probe+diagnose says %s/%s" % (
                chk.get("verdict"), top_cause(chk), verdict, cause), "check")
        else:
            summary.append("check=same")
    for x in exp["extra"]:
        p = check_extra(x, diag, ctx)
        if p:
            problems.append(p)
    summary.insert(0, "verdict=%s cause=%s" % (verdict, cause or "-"))
    ctx.setdefault("notes", []).extend(notes_for(report, diag))

    brc = read(os.path.join(case_dir, "bwrap.rc"), "?")
    berr = read(os.path.join(case_dir, "bwrap.err"))
    if not blocked:
        if brc != "0":
            problems.append("bwrap: expected exit 0, got %s: %s" % (brc, first_line(berr)))
        summary.append("| bwrap exit %s" % brc)
    else:
        if brc == "0":
            problems.append("bwrap: expected a failure, got exit 0")
        bd, err = load_json(os.path.join(case_dir, "bwrapdiag.json"))
        bcause = top_cause(bd) if bd else None
        if bd is None:
            problems.append("diagnose --error-text: %s (%s)" % (err, first_line(read(os.path.join(case_dir, "bwrapdiag.err")))))
        elif bcause != exp["text_cause"]:
            problems.append("diagnose --error-text on bwrap's %r: expected %s, got %s" % (
                first_line(berr, 90), exp["text_cause"], bcause))
        summary.append("| bwrap exit %s %r -> %s" % (brc, first_line(berr, 60), bcause))
    if exp.get("label"):
        # the label bwrap was exec'd into, recorded by the shim (which profile attached, if any)
        got = read(os.path.join(case_dir, "bwrap.label")).splitlines()
        if got != [exp["label"]]:
            problems.append("bwrap's exec label: expected %r, got %s" % (exp["label"], got or "none recorded"))
        summary.append("label=%r" % (got[0] if got else None))
    if exp.get("audit"):
        lines = read(os.path.join(case_dir, "audit.txt")).splitlines()
        for want in exp["audit"]:
            if not any(all(w in l for w in want) for l in lines):
                problems.append("no audit record with %s (%d AppArmor records in this case)" % (" … ".join(want), len(lines)))
        summary.append("audit ok")
    return problems, " ".join(summary)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--timing", default="")
    ap.add_argument("--fixes", default="")
    ap.add_argument("--accel", default="?")
    ap.add_argument("--budget", type=float, default=60)
    a = ap.parse_args()
    cases_dir = os.path.join(a.out, "cases")
    ran = sorted(os.listdir(cases_dir)) if os.path.isdir(cases_dir) else []
    info = read(os.path.join(a.out, "guest-info.txt"))
    only = set(os.environ.get("NSDOCTOR_LAB_ONLY", "").split())
    print("kernel-lab guest: " + "; ".join(l for l in info.splitlines() if l.split(":")[0] in ("kernel", "lsm", "nsdoctor")))
    passed = failed = 0
    ctx = {"cases": cases_dir, "out": a.out, "fixes": load_json(a.fixes)[0] if a.fixes else None}
    scen = []
    for sc, _ in EXPECT:
        if sc not in scen:
            scen.append(sc)
    # (scenario, who, its directory, how it is judged): the probe cases, then `nsdoctor fix` run as root
    apply_dir = os.path.join(a.out, "apply")
    order = [(sc, who, os.path.join(cases_dir, "%s.%s" % (sc, who)), judge) for sc in scen
             for who in ("uid1000", "root", "asuser") if (sc, who) in EXPECT and (not only or sc in only)]
    order += [(sc, "root", os.path.join(apply_dir, sc), fn) for table, fn in ((APPLY, judge_apply), (ROLLBACK, judge_rollback))
              for sc in table if not only or sc in only]

    def started(item):  # print in the order the guest ran the cases
        t = read(os.path.join(item[2], "uptime")).split()
        return (0, float(t[0])) if t else (1, order.index(item))
    order.sort(key=started)
    for d in ran:
        sc, _, who = d.rpartition(".")
        if (sc, who) not in EXPECT:
            print("FAIL %-30s %-7s no expectation for this case" % (sc, who))
            failed += 1
    for d in sorted(os.listdir(apply_dir)) if os.path.isdir(apply_dir) else ():
        if d not in APPLY and d not in ROLLBACK:
            print("FAIL %-30s %-7s no expectation for this case" % (d, "root"))
            failed += 1
    for sc, who, cd, fn in order:
        if not os.path.isdir(cd):
            print("FAIL %-30s %-7s did not run in the guest" % (sc, who))
            failed += 1
            continue
        ctx["notes"] = []
        if fn is judge:
            problems, summary = judge(cd, EXPECT[(sc, who)], ctx)
        else:
            problems, summary = fn(cd, sc, APPLY.get(sc) or ROLLBACK[sc], ctx)
        t = read(os.path.join(cd, "uptime")).split()
        secs = " %4.1fs" % (float(t[1]) - float(t[0])) if len(t) == 2 else ""
        if problems:
            failed += 1
            print("FAIL %-30s %-7s%s %s" % (sc, who, secs, "; ".join(problems)))
        else:
            passed += 1
            print("PASS %-30s %-7s%s %s" % (sc, who, secs, summary))
        for n in ctx["notes"]:
            print("NOTE %-30s %-7s %s" % (sc, who, n))
    t = [float(x) for x in a.timing.split()] if a.timing else []
    if len(t) == 7:
        import time
        start, pkgs, cargo, build, boot, vm, _ = t
        now = time.time()
        total, lab = now - start, now - start - (cargo - pkgs)
        print("kernel-lab time: %.1f s wall = packages %.1f s + nsdoctor build %.1f s + initramfs %.1f s + VM %.1f s "
              "(%s) + checks %.1f s; without the cargo build %.1f s, budget %.0f s: %s" % (
                  total, pkgs - start, cargo - pkgs, boot - cargo, vm - boot, a.accel, now - vm, lab, a.budget,
                  "ok" if lab <= a.budget else "EXCEEDED"))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed or not passed else 0


if __name__ == "__main__":
    sys.exit(main())
