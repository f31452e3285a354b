#!/usr/bin/env python3
"""Prepare, on the host, the remediations nsdoctor prints that the guest applies in its "-fixed" scenarios.

usage: fixes.py NSDOCTOR PROFILES GUESTDIR SCRATCH DEBIAN_TREE UBUNTU_TREE -- APPARMOR_PARSER_4 [ARGS...]

A "-fixed" scenario applies what nsdoctor printed for the blocked scenario before it, and expect.py checks that
the in-guest diagnosis of that scenario offered exactly that. The guest's apparmor_parser (Debian 12, 3.0.8)
cannot compile abi-4.0 policy, nor even parse it (`userns,` is a syntax error to it), so everything the 4.x
parser must do happens here; the sysctl.d fixes need nothing from the host (the guest extracts them from its
own diagnosis, see apply_sysctl_fix in guest/lab.sh). Two kinds:

* A file (ubuntu-2404-transition: the AppArmor profile for bwrap). `nsdoctor diagnose --error-text` is given
  the bwrap message that scenario produces and the facts the guest passes; the first remediation file of the
  wanted kind is written to GUESTDIR/<scenario>.profile, with its file name (.name) and profile name (.pname),
  and compiled by the 4.x parser (.bin).

* Commands (the apparmor-* scenarios). `nsdoctor diagnose` is given a small report holding the facts the guest's
  probe sees in the blocked scenario (the profile files under /etc/apparmor.d that attach to bwrap, with their
  attachments and flags; the profile given with --apparmor-profile and its file; the failed ladder steps and
  sandbox replay). The first remediation of the top finding must be the one the scenario names; its commands are run
  as printed, with `sudo ` removed and /etc/apparmor.d rebased onto a scratch copy of the scenario's policy
  tree (SCRATCH/<scenario>/apparmor.d: the profile files the guest installs, and local/ and disable/ as the
  apparmor package ships them). `apparmor_parser` stands in for the kernel load:
    -r FILE  compiles FILE with the 4.x parser to GUESTDIR/<scenario>/<FILE>.bin, with the scratch tree on the
             include path, so that the profile's `include if exists <local/NAME>` reads the scratch local/
             (checked with the parser's preprocessed output, -p);
    -R FILE  lists the profiles FILE defines (-N) to GUESTDIR/<scenario>/<FILE>.names, which is what -R unloads.
  The guest runs the same commands (GUESTDIR/<scenario>.cmds, `sudo ` removed) on its own /etc/apparmor.d
  with guest/aa-fix.sh, whose apparmor_parser loads those .bin files and unloads those names. expect.py checks
  that the guest's files end up byte-identical to the scratch tree, and that it loaded and unloaded the same.

* Scripts (the "-apply" and "-rollback" scenarios that change AppArmor policy with `nsdoctor fix --apply`). The
  guest runs nsdoctor's script itself, with guest/apparmor_parser first on PATH. For each scenario of
  APPLY_FIXES this builds the guest's policy tree for it (SCRATCH/<scenario>/apparmor.d: a copy of the
  initramfs's DEBIAN_TREE or UBUNTU_TREE, plus the scenario's files, which also go to
  GUESTDIR/apply/<scenario>/ for the guest to install, modes included), gives `nsdoctor fix --format json --report`
  a report with the facts the guest's probe sees (as root with --as-user 1000), and runs the script it prints on
  the scratch tree (/etc/apparmor.d rebased onto it, `id -u` answering 0, nsdoctor's verification replaced by
  `true`): apply, then --undo. guest/apparmor_parser runs in its compile mode there, so every profile content
  the script parses (-Q -K), loads (-r) or unloads (-R), in the apply and in the undo, is compiled or listed by
  the 4.x parser into GUESTDIR/standin under a key of what the parser read. In the guest the same stand-in,
  in load mode, finds them by the same key. expect.py checks that the guest's script is byte-identical to this
  one and that the guest's tree and stand-in calls match the host's at every stage.

SCRATCH/fixes.json sums it up for expect.py.
"""

import hashlib
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

UBUNTU_FACTS = ["distro=ubuntu", "distro-version=24.04"]

FILE_FIXES = [
    # scenario, error text, facts, artifact kind, output extension
    ("ubuntu-2404-transition", "bwrap: setting up uid map: Permission denied\n", UBUNTU_FACTS + ["root=no"],
     "apparmor-profile", "profile"),
]

ERRNO = {"EPERM": 1, "EACCES": 13}
# uid 1000 under the Ubuntu emulation: the namespace is created, then the unprivileged_userns profile refuses.
UBUNTU_LADDER = {"userns": "ok", "setgroups": "EACCES", "uid-map": "EPERM", "netlink-newaddr": "EPERM"}

# scenario -> the blocked scenario's facts and the remediation the "-fixed" scenario applies.
#   tree: the profile files in the guest's /etc/apparmor.d in that scenario: files of PROFILES (installed, as the
#         guest does, under the part of the name before the first dot) or "fix:<scenario>" (the profile a
#         FILE_FIXES scenario extracted, under its own file name)
#   distro: (ID, VERSION_ID); steps: the ladder's failed steps; replay: the sandbox replay's stderr;
#   apparmor_profile: `--apparmor-profile` of the probe; remediation: the id of the top finding's first one.
COMMAND_FIXES = {
    # two profiles attach to /usr/bin/bwrap: the vendor's and the one nsdoctor prints for Ubuntu
    "apparmor-conflict": {
        "tree": ["vendor-bwrap", "fix:ubuntu-2404-transition"],
        "distro": ("ubuntu", "24.04"), "steps": UBUNTU_LADDER,
        "replay": "bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted\n",
        "remediation": "keep-apparmor-profile-vendor-bwrap",
    },
    # the profile attached to /usr/bin/bwrap is in complain mode
    "apparmor-complain": {
        "tree": ["bwrap.complain"],
        "distro": ("ubuntu", "24.04"), "steps": UBUNTU_LADDER,
        "replay": "bwrap: setting up uid map: Permission denied\n",
        "remediation": "apparmor-profile-bwrap-unconfined",
    },
    # bwrap started under an application's profile without `userns,`
    "apparmor-parent-profile": {
        "tree": ["steam-like"],
        "distro": ("debian", "12"), "steps": {"userns": "EACCES"},
        "replay": "bwrap: Creating new namespace failed: Permission denied\n",
        "apparmor_profile": "steam-like",
        "remediation": "add-userns-to-steam-like",
    },
}
ETC = "/etc/apparmor.d"
BWRAP = "/usr/bin/bwrap"


def fail(msg):
    print("fixes: " + msg, file=sys.stderr)
    sys.exit(1)


def diagnose(nsd, args):
    r = subprocess.run([nsd, "diagnose"] + args + ["--format", "json"], capture_output=True, text=True, timeout=30)
    try:
        return json.loads(r.stdout)
    except ValueError:
        fail("nsdoctor diagnose %s failed (exit %d): %s" % (" ".join(args), r.returncode, r.stderr.strip()[:200]))


def file_fix(nsd, guest, parser, scenario, text, facts, kind, ext):
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
        f.write(text)
        path = f.name
    try:
        d = diagnose(nsd, ["--error-text", path] + [a for fact in facts for a in ("--fact", fact)])
    finally:
        os.unlink(path)
    art = next((a for f in d.get("findings") or [] for rem in f.get("remediations") or []
                for a in rem.get("files") or [] if a.get("kind") == kind), None)
    if art is None:
        fail("%s: no %s remediation in nsdoctor's diagnosis of %r" % (scenario, kind, text.strip()))
    out = os.path.join(guest, "%s.%s" % (scenario, ext))
    with open(out, "w", encoding="utf-8") as f:
        f.write(art["content"])
    if kind == "apparmor-profile":
        m = re.search(r"^\s*profile\s+(\S+)", art["content"], re.M)
        with open(os.path.join(guest, scenario + ".name"), "w") as f:
            f.write(os.path.basename(art["path"]))
        with open(os.path.join(guest, scenario + ".pname"), "w") as f:
            f.write(m.group(1) if m else "")
        r = subprocess.run(parser + ["-S", out], capture_output=True, timeout=60)
        if r.returncode != 0:
            fail("%s: nsdoctor's AppArmor profile does not compile: %s" % (scenario, r.stderr.decode(errors="replace")))
        with open(os.path.join(guest, scenario + ".bin"), "wb") as f:
            f.write(r.stdout)
    return {"kind": kind, "path": art["path"], "content": art["content"]}


HEADER = re.compile(r"^\s*profile\s+(\S+)(?:\s+(/\S+))?(?:\s+flags=\(([^)]*)\))?\s*\{", re.M)


def profiles(tree, wanted):
    """What the probe's text scan of /etc/apparmor.d (probe-native/src/probe/apparmor_files.rs) reports for the
    profiles `wanted(name, attachment)` selects: {name: file}, {name: attachment}, {name: flags}. The lab's
    profiles attach to an exact path or to nothing, so no globbing is needed."""
    files, attach, flags = {}, {}, {}
    for name in sorted(os.listdir(tree)):
        p = os.path.join(tree, name)
        if not os.path.isfile(p) or os.path.islink(p):
            continue
        for m in HEADER.finditer(open(p, encoding="utf-8").read()):
            if wanted(m.group(1), m.group(2) or ""):
                files[m.group(1)] = "%s/%s" % (ETC, name)
                attach[m.group(1)] = m.group(2) or ""
                flags[m.group(1)] = ",".join(x.strip() for x in re.split(r"[, ]", m.group(3) or "") if x.strip())
    return files, attach, flags


def report(spec, tree):
    """The blocked scenario as the guest's probe (uid 1000) sees it, reduced to the facts the rules read."""
    obs = lambda v: {"observed": v}  # noqa: E731
    pfb, attach, flags = profiles(tree, lambda name, at: at == BWRAP)
    starter = spec.get("apparmor_profile")
    # --apparmor-profile NAME: the probe also scans for the profile of that name (profiles_for_parent)
    pfp, pattach, pflags = profiles(tree, lambda name, at: name == starter) if starter else ({}, {}, {})
    attach.update(pattach)
    flags.update(pflags)
    distro, version = spec["distro"]
    r = {
        "schema_version": 1,
        "producer": "kernel-lab fixes.py",
        "config": {"tool": "codex", "network": "none", "bwrap_path": BWRAP},
        "distro": {"id": obs(distro), "version_id": obs(version)},
        "identity": {"uid": obs(1000), "euid": obs(1000)},
        "lsm": {"apparmor_enabled": obs(True)},
        "apparmor": {"abi_4_0": obs(True), "profiles_for_bwrap": obs(pfb), "profile_attachments": obs(attach),
                     "profile_flags": obs(flags)},
        "steps": [{"id": sid, "syscall": sid, "result": {"outcome": "ok"} if e == "ok" else
                   {"outcome": "failed", "errno": {"name": e, "number": ERRNO[e]}}} for sid, e in spec["steps"].items()],
        "replays": [{"name": "sandbox", "argv": [BWRAP, "--unshare-user", "--unshare-net"],
                     "exit": {"kind": "exited", "code": 1}, "stderr": spec["replay"]}],
    }
    if distro == "ubuntu":
        r["sysctl"] = {"apparmor_restrict_unprivileged_userns": obs(1),
                       "apparmor_unconfined_restrictions_userns": obs(1)}
    if starter:
        r["confinement"] = {"apparmor_profile": starter, "apparmor_profile_source": "--apparmor-profile",
                            "profiles_for_parent": obs(pfp)}
    return r


SUDO = re.compile(r"(?<![\w/-])sudo\s+")

# apparmor_parser on the host: -r compiles, -R lists the names -R would unload (see the module docstring).
HOST_PARSER = r'''
aa4() { %(parser)s "$@"; }
apparmor_parser() {
  if [ $# != 2 ]; then echo "apparmor_parser $*: not emulated by the lab" >&2; return 2; fi
  case "$2" in "$TREE"/*) r=${2#"$TREE"/} ;; *) echo "apparmor_parser: $2 is outside the scratch tree" >&2; return 2 ;; esac
  mkdir -p "$(dirname "$BIN/$r")"
  case "$1" in
    -r) aa4 -I "$TREE" -S "$2" > "$BIN/$r.bin" && echo "load $r" >> "$ACTIONS" ;;
    -R) aa4 -I "$TREE" -N "$2" > "$BIN/$r.names" && sed 's/^/unload /' "$BIN/$r.names" >> "$ACTIONS" ;;
    *) echo "apparmor_parser $*: not emulated by the lab" >&2; return 2 ;;
  esac
}
'''


def snapshot(tree):
    """{relative path: {"file": content} | {"link": target}}, with the scratch root written as /etc/apparmor.d."""
    out = {}
    for root, dirs, files in os.walk(tree):
        dirs.sort()
        for n in sorted(files + [d for d in dirs if os.path.islink(os.path.join(root, d))]):
            p = os.path.join(root, n)
            rel = os.path.relpath(p, tree)
            if os.path.islink(p):
                t = os.readlink(p)
                out[rel] = {"link": ETC + t[len(tree):] if t == tree or t.startswith(tree + "/") else t}
            else:
                with open(p, encoding="utf-8") as f:
                    out[rel] = {"file": f.read()}
    return out


def command_fix(nsd, profiles, guest, scratch, parser, scenario, spec, files):
    top = os.path.join(scratch, scenario)
    tree = os.path.join(top, "apparmor.d")
    if not re.fullmatch(r"[\w./+-]+", tree):
        fail("%s: the scratch path %r needs shell quoting; set NSDOCTOR_LAB_CACHE to a plain path" % (scenario, tree))
    shutil.rmtree(top, ignore_errors=True)
    for d in ("local", "disable"):
        os.makedirs(os.path.join(tree, d))
    for src in spec["tree"]:
        if src.startswith("fix:"):
            fx = files[src[4:]]
            name, content = os.path.basename(fx["path"]), fx["content"]
        else:
            name = src.split(".", 1)[0]
            with open(os.path.join(profiles, src), encoding="utf-8") as f:
                content = f.read()
        with open(os.path.join(tree, name), "w", encoding="utf-8") as f:
            f.write(content)
    before = snapshot(tree)

    rep = os.path.join(top, "report.json")
    with open(rep, "w") as f:
        json.dump(report(spec, tree), f, indent=1)
    d = diagnose(nsd, [rep])
    top_f = (d.get("findings") or [{}])[0]
    rems = top_f.get("remediations") or []
    if not rems or rems[0].get("id") != spec["remediation"]:
        fail("%s: nsdoctor's first remediation is %s (%s), not %s" % (
            scenario, rems[0].get("id") if rems else None, top_f.get("code"), spec["remediation"]))
    printed = rems[0].get("commands") or []
    if not printed or any("\n" in c for c in printed):
        fail("%s: %s has no commands, or a multi-line one: %r" % (scenario, spec["remediation"], printed))
    stripped = [SUDO.sub("", c) for c in printed]

    # the commands, `sudo ` removed and rebased onto the scratch tree, one bash each (as a user pastes them)
    bindir = os.path.join(guest, scenario)
    os.makedirs(bindir, exist_ok=True)
    actions = os.path.join(top, "actions")
    open(actions, "w").close()
    env = dict(os.environ, TREE=tree, BIN=bindir, ACTIONS=actions, LC_ALL="C")
    prelude = HOST_PARSER % {"parser": " ".join(shlex.quote(a) for a in parser)}
    log = []
    for c in stripped:
        r = subprocess.run(["bash", "-c", prelude + c.replace(ETC, tree)], cwd=top, env=env, capture_output=True,
                           text=True, timeout=60, stdin=subprocess.DEVNULL)
        log.append({"command": c, "rc": r.returncode, "output": (r.stdout + r.stderr)[-2000:]})
        if r.returncode != 0:
            fail("%s: `%s` failed on the scratch tree (exit %d): %s" % (scenario, c, r.returncode, (r.stdout + r.stderr).strip()))
    with open(actions) as f:
        acts = f.read().splitlines()
    if not any(a.startswith("load ") for a in acts):
        fail("%s: %s loads no profile: %s" % (scenario, spec["remediation"], acts))
    # a reloaded profile's `include if exists <local/NAME>` must have read the scratch local/NAME
    for a in acts:
        if not a.startswith("load "):
            continue
        src = os.path.join(tree, a[5:])
        pre = subprocess.run(parser + ["-I", tree, "-p", src], capture_output=True, text=True, timeout=60).stdout
        for inc in re.findall(r"^\s*include\s+if\s+exists\s+<(local/[^>]+)>", open(src, encoding="utf-8").read(), re.M):
            lp = os.path.join(tree, inc)
            if os.path.exists(lp) and "##included <%s>\n%s" % (inc, open(lp, encoding="utf-8").read()) not in pre:
                fail("%s: the 4.x parser did not include the scratch %s into %s" % (scenario, inc, a[5:]))
    with open(os.path.join(guest, scenario + ".cmds"), "w", encoding="utf-8") as f:
        f.write("".join(c + "\n" for c in stripped))
    return {"kind": "commands", "remediation": spec["remediation"], "commands": printed, "applied": stripped,
            "actions": acts, "before": before, "after": snapshot(tree), "host_log": log}


# The "-apply" scenarios whose script changes AppArmor policy (the sysctl ones need nothing from the host).
#   base: the tree the scenario starts from ("debian": the guest's /etc/apparmor.d; "ubuntu": the Ubuntu
#         emulation's); files: (path in the tree, source, mode) added to it for the scenario: "profile:FILE" (a
#         file of PROFILES), "fix:SCENARIO" (the profile a FILE_FIXES scenario extracted), "text:..." (literal);
#   the rest as in COMMAND_FIXES (the blocked scenario's facts, the remediation the plan must pick).
# An empty local/ override is what a package's postinst leaves (dh_apparmor: `install --mode 644 /dev/null
# "$LOCAL_APP_PROFILE"`); the complain scenario's has a site rule and mode 0640, so that undo has a mode to restore.
APPLY_FIXES = {
    "ubuntu-2404-transition-apply": {
        "base": "ubuntu", "files": [],
        "distro": ("ubuntu", "24.04"), "steps": UBUNTU_LADDER,
        "replay": "bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted\n",
        "remediation": "apparmor-profile-for-bwrap",
    },
    "apparmor-parent-profile-apply": {
        "base": "debian", "files": [("steam-like", "profile:steam-like", 0o644), ("local/steam-like", "text:", 0o644)],
        "distro": ("debian", "12"), "steps": {"userns": "EACCES"},
        "replay": "bwrap: Creating new namespace failed: Permission denied\n",
        "apparmor_profile": "steam-like",
        "remediation": "add-userns-to-steam-like",
    },
    "apparmor-complain-apply": {
        "base": "ubuntu",
        "files": [("bwrap", "profile:bwrap.complain", 0o644),
                  ("local/bwrap", "text:# site rule kept across the fix and its undo\nptrace (read) peer=unconfined,\n", 0o640)],
        "distro": ("ubuntu", "24.04"), "steps": UBUNTU_LADDER,
        "replay": "bwrap: setting up uid map: Permission denied\n",
        "remediation": "apparmor-profile-bwrap-unconfined",
    },
    "apparmor-conflict-apply": {
        "base": "ubuntu",
        "files": [("vendor-bwrap", "profile:vendor-bwrap", 0o644), ("codex-bwrap", "fix:ubuntu-2404-transition", 0o644)],
        "distro": ("ubuntu", "24.04"), "steps": UBUNTU_LADDER,
        "replay": "bwrap: loopback: Failed RTM_NEWADDR: Operation not permitted\n",
        "remediation": "keep-apparmor-profile-vendor-bwrap",
    },
}
STANDIN = os.path.join(os.path.dirname(os.path.abspath(__file__)), "guest", "apparmor_parser")


def listing(tree):
    """The tree as the guest lists it (guest/lab.sh tree_list): `TYPE MODE SHA256|TARGET /etc/apparmor.d/PATH`
    per entry, a link's target with the scratch root written as /etc/apparmor.d."""
    out = []
    for root, dirs, files in os.walk(tree):
        for n in dirs + files:
            p = os.path.join(root, n)
            st = os.lstat(p)
            name = ETC + p[len(tree):]
            mode = "%o" % (st.st_mode & 0o7777)
            if os.path.islink(p):
                t = os.readlink(p)
                out.append("link %s %s %s" % (mode, ETC + t[len(tree):] if t == tree or t.startswith(tree + "/") else t, name))
            elif os.path.isdir(p):
                out.append("dir %s - %s" % (mode, name))
            else:
                with open(p, "rb") as f:
                    out.append("file %s %s %s" % (mode, hashlib.sha256(f.read()).hexdigest(), name))
    return sorted(out)


def apply_fix(nsd, profiles, guest, scratch, parser, bases, scenario, spec, files):
    top = os.path.join(scratch, scenario)
    tree = os.path.join(top, "apparmor.d")
    if not re.fullmatch(r"[\w./+-]+", tree):
        fail("%s: the scratch path %r needs shell quoting; set NSDOCTOR_LAB_CACHE to a plain path" % (scenario, tree))
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(top)
    shutil.copytree(bases[spec["base"]], tree, symlinks=True)
    setup = os.path.join(guest, "apply", scenario)
    os.makedirs(setup)
    for rel, src, mode in spec["files"]:
        if src.startswith("profile:"):
            with open(os.path.join(profiles, src[8:]), encoding="utf-8") as f:
                content = f.read()
        elif src.startswith("fix:"):
            content = files[src[4:]]["content"]
        else:
            content = src[5:]
        for root in (tree, setup):
            p = os.path.join(root, rel)
            os.makedirs(os.path.dirname(p), exist_ok=True)
            with open(p, "w", encoding="utf-8") as f:
                f.write(content)
            os.chmod(p, mode)
    before = listing(tree)

    rep = os.path.join(top, "report.json")
    r = report(spec, tree)
    # `nsdoctor fix --apply --yes --as-user 1000` runs as root and probes as uid 1000, which the report names as
    # the guest's /etc/passwd does
    r["identity"] = {"uid": {"observed": 0}, "euid": {"observed": 0}, "probed_as": "user"}
    with open(rep, "w") as f:
        json.dump(r, f, indent=1)
    p = subprocess.run([nsd, "fix", "--format", "json", "--report", rep], capture_output=True, text=True, timeout=30)
    try:
        plan = json.loads(p.stdout)
    except ValueError:
        fail("%s: nsdoctor fix --report exited %d: %s" % (scenario, p.returncode, (p.stderr or p.stdout).strip()[:300]))
    if plan.get("remediation") != spec["remediation"]:
        fail("%s: nsdoctor fix picked %s, not %s" % (scenario, plan.get("remediation"), spec["remediation"]))
    script = plan["script"]
    embedded = [x.get("content", "") for x in plan.get("steps", []) + plan.get("checks", [])]
    if any(ETC in c for c in embedded):
        fail("%s: a file the script writes mentions %s, which the scratch run would rebase" % (scenario, ETC))

    # the script, rebased onto the scratch tree, with the stand-in in compile mode first on PATH
    bindir = os.path.join(scratch, "standin-bin")
    os.makedirs(bindir, exist_ok=True)
    shutil.copy(STANDIN, os.path.join(bindir, "apparmor_parser"))
    with open(os.path.join(bindir, "id"), "w") as f:
        f.write('#!/bin/sh\n[ "$*" = -u ] && { echo 0; exit 0; }\nexec /usr/bin/id "$@"\n')
    for n in ("apparmor_parser", "id"):
        os.chmod(os.path.join(bindir, n), 0o755)
    path = os.path.join(top, "fix.sh")
    with open(path, "w", encoding="utf-8") as f:
        f.write(script.replace(ETC, tree))
    env = dict(os.environ, PATH=bindir + ":" + os.environ.get("PATH", "/usr/bin:/bin"), LC_ALL="C",
               NSD_STANDIN_MODE="compile", NSD_STANDIN_ETC=tree, NSD_STANDIN_DB=os.path.join(guest, "standin"),
               NSD_STANDIN_AA4=" ".join(shlex.quote(a) for a in parser), NSDOCTOR="true",
               NSDOCTOR_STATE_DIR=os.path.join(top, "state"))
    out = {"kind": "apply", "remediation": spec["remediation"], "script": script, "before": before}
    for stage, args in (("applied", []), ("undone", ["--undo"])):
        log = os.path.join(top, stage + ".log")
        env["NSD_STANDIN_LOG"] = log
        open(log, "w").close()
        r = subprocess.run(["sh", path] + args, cwd=top, env=env, capture_output=True, text=True, timeout=120,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            fail("%s: nsdoctor's script%s exited %d on the scratch tree: %s" % (
                scenario, " --undo" if args else "", r.returncode, r.stderr.strip()[-400:]))
        with open(log) as f:
            out["log_" + stage] = f.read().splitlines()
        out[stage] = listing(tree)
    if not any(l.startswith("load ") for l in out["log_applied"]):
        fail("%s: the script loads no profile: %s" % (scenario, out["log_applied"]))
    return out


def main():
    if len(sys.argv) < 9 or sys.argv[7] != "--":
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        return 2
    nsd, profiles, guest, scratch, debian, ubuntu = sys.argv[1:7]
    parser = sys.argv[8:]
    os.makedirs(guest, exist_ok=True)
    os.makedirs(scratch, exist_ok=True)
    summary = {}
    for scenario, text, facts, kind, ext in FILE_FIXES:
        summary[scenario] = file_fix(nsd, guest, parser, scenario, text, facts, kind, ext)
    for scenario, spec in COMMAND_FIXES.items():
        summary[scenario] = command_fix(nsd, profiles, guest, scratch, parser, scenario, spec, summary)
    bases = {"debian": debian, "ubuntu": ubuntu}
    shutil.rmtree(os.path.join(guest, "standin"), ignore_errors=True)
    shutil.rmtree(os.path.join(guest, "apply"), ignore_errors=True)
    for scenario, spec in APPLY_FIXES.items():
        summary[scenario] = apply_fix(nsd, profiles, guest, scratch, parser, bases, scenario, spec, summary)
    with open(os.path.join(scratch, "fixes.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
