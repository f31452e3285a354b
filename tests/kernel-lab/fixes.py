#!/usr/bin/env python3
"""Extract, on the host, the AppArmor remediation the guest applies in its "-fixed" scenario.

(The guest cannot compile abi-4.0 policy with Debian 12's parser, so the profile is taken from nsdoctor and
compiled by the 4.x parser here; sysctl.d fixes are extracted in the guest from its own diagnosis.)

usage: fixes.py NSDOCTOR OUTDIR

For each scenario below, `nsdoctor diagnose --error-text` is given the bwrap message that scenario produces
(the texts are what the lab's bwrap printed, see guest/lab.sh) and the facts the guest passes; the first
remediation file of the wanted kind is written to OUTDIR/<scenario>.<ext> (plus, for an AppArmor profile, its
file name and profile name). expect.py later checks that the in-guest diagnosis of the blocked case offered
the very same file, so what the guest applies is what nsdoctor told the user to do there.
"""

import json
import os
import re
import subprocess
import sys
import tempfile

FIXES = [
    # scenario, error text, facts, artifact kind, output extension
    ("ubuntu-2404-transition", "bwrap: setting up uid map: Permission denied\n",
     ["distro=ubuntu", "distro-version=24.04", "root=no"], "apparmor-profile", "profile"),
]


def main():
    nsd, out = sys.argv[1], sys.argv[2]
    os.makedirs(out, exist_ok=True)
    summary = {}
    for scenario, text, facts, kind, ext in FIXES:
        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as f:
            f.write(text)
            path = f.name
        try:
            cmd = [nsd, "diagnose", "--error-text", path, "--format", "json"]
            for fact in facts:
                cmd += ["--fact", fact]
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        finally:
            os.unlink(path)
        try:
            d = json.loads(r.stdout)
        except ValueError:
            print("fixes: %s: nsdoctor diagnose --error-text failed (exit %d): %s" % (
                scenario, r.returncode, r.stderr.strip()[:200]), file=sys.stderr)
            return 1
        art = next((a for f in d.get("findings") or [] for rem in f.get("remediations") or []
                    for a in rem.get("files") or [] if a.get("kind") == kind), None)
        if art is None:
            print("fixes: %s: no %s remediation in nsdoctor's diagnosis of %r" % (scenario, kind, text.strip()),
                  file=sys.stderr)
            return 1
        with open(os.path.join(out, "%s.%s" % (scenario, ext)), "w", encoding="utf-8") as f:
            f.write(art["content"])
        if kind == "apparmor-profile":
            m = re.search(r"^\s*profile\s+(\S+)", art["content"], re.M)
            with open(os.path.join(out, scenario + ".name"), "w") as f:
                f.write(os.path.basename(art["path"]))
            with open(os.path.join(out, scenario + ".pname"), "w") as f:
                f.write(m.group(1) if m else "")
        summary[scenario] = {"kind": kind, "path": art["path"], "content": art["content"]}
    with open(os.path.join(out, "fixes.json"), "w") as f:
        json.dump(summary, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
