#!/usr/bin/env python3
"""Writes the fuzzers' seed corpora and dictionaries (fuzz/seeds/<target>/, fuzz/seeds/<target>.dict).

Everything comes from the repository, so seeds never drift from the code: the real-host fixtures
(tests/fixtures/*.json), the error texts and replay stderr they carry, their sandbox configs, the JSON schemas
(field names and enum values for the dictionaries), the classifier's needles and the errno table. Only the
standard library is used; no network.
"""
import hashlib
import json
import re
import shutil
import sys
from pathlib import Path

FUZZ = Path(__file__).resolve().parent
ROOT = FUZZ.parent
OUT = FUZZ / "seeds"


def write(target, data):
    if isinstance(data, str):
        data = data.encode()
    d = OUT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def dict_file(name, tokens):
    lines = []
    for t in sorted(set(tokens)):
        if not t or len(t) > 64:
            continue
        esc = "".join(c if 0x20 <= ord(c) < 0x7F and c not in '"\\' else "\\x%02x" % ord(c) if ord(c) < 0x80 else c for c in t)
        if any(ord(c) >= 0x80 for c in esc):
            continue
        lines.append('"%s"' % esc)
    (OUT / f"{name}.dict").write_text("\n".join(lines) + "\n")


def schema_tokens(path):
    out = []

    def walk(v):
        if isinstance(v, dict):
            for k, x in v.items():
                if k == "properties" and isinstance(x, dict):
                    out.extend('"%s":' % p for p in x)
                if k in ("enum", "const"):
                    for e in x if isinstance(x, list) else [x]:
                        out.append(json.dumps(e))
                walk(x)
        elif isinstance(v, list):
            for x in v:
                walk(x)

    walk(json.loads(path.read_text()))
    return out


def main():
    shutil.rmtree(OUT, ignore_errors=True)
    fixtures = sorted(p for p in (ROOT / "tests/fixtures").glob("*.json") if p.name != "expected.json")
    texts, configs = [], []
    for p in fixtures:
        raw = p.read_bytes()
        write("report", raw)
        r = json.loads(raw)
        facts = {}
        d = r.get("distro", {})
        for key, field in (("distro", "id"), ("distro-version", "version_id")):
            v = d.get(field)
            if isinstance(v, dict) and isinstance(v.get("observed"), str):
                facts[key] = v["observed"]
        if r.get("observed_error"):
            texts.append((r["observed_error"], facts))
        for rp in r.get("replays", []):
            if rp.get("stderr"):
                texts.append((rp["stderr"], facts))
        if isinstance(r.get("config"), dict):
            configs.append(json.dumps(r["config"], indent=1))
    for text, facts in texts:
        write("error_text", text)
        write("error_text", text + "\0" + json.dumps(facts))

    # config: sandbox configs, facts objects, Codex TOML, OpenClaw JSON5.
    for c in configs:
        write("config", c)
    write("config", json.dumps({"distro": "ubuntu", "distro-version": "24.04", "root": "no", "container": "docker",
                                "wsl": "2", "service": "systemd", "chroot": "no", "selinux": "enforcing", "tool": "codex"}))
    for toml in [
        'sandbox_mode = "workspace-write"\n[sandbox_workspace_write]\nnetwork_access = true\n',
        'model = "o4-mini"\nsandbox_mode = "danger-full-access"\n',
        'sandbox_mode = "read-only"\n[profiles.x]\nmodel = "y"\n[[mcp_servers]]\nname = "a"\nargs = ["-v", 1, 2.5, true, 1979-05-27T07:32:00Z]\n',
        "# comment\nsandbox_mode = 'workspace-write'\nsandbox_workspace_write = { network_access = false, writable_roots = [\"/tmp\"] }\n",
    ]:
        write("config", toml)
    for j5 in [
        "// c\n{ agents: { defaults: { sandbox: { mode: 'all', /* x */ backend: \"docker\", docker: { network: 'bridge', }, }, }, },\n n: -0x10, f: .5, }",
        "{ agents: { defaults: { sandbox: { mode: 'non-main' } } } }",
        "{ agents: { defaults: { sandbox: { mode: 'all', backend: 'ssh' } } } }",
        "\ufeff{\"agents\": {\"defaults\": {\"sandbox\": {\"mode\": \"all\", \"backend\": \"podman\", \"docker\": {\"network\": \"host\"}}}}, \"x\": [1e3, -Infinity, NaN, null, '\\u00e9\\n']}",
    ]:
        write("config", j5)

    # Dictionaries.
    dict_file("report", schema_tokens(ROOT / "schemas/probe-report.schema.json")
              + schema_tokens(ROOT / "schemas/diagnosis.schema.json")
              + ['{"observed":', '{"unavailable":', '"not-probed"', '"outcome":', '"errno":', '"number":', '"name":', '"reason":'])
    sym = (ROOT / "policy-core/src/symptoms.rs").read_text()
    needles = re.findall(r'^\s*"([^"\\]+)",\s*$', sym.split("const NEEDLES")[1].split("];")[0], re.M)
    errno = (ROOT / "policy-core/src/errno.rs").read_text()
    table = re.findall(r'\("(E[A-Z0-9]+)", \d+, "([^"]+)"\)', errno)
    dict_file("error_text", needles + [t for _, t in table] + ["(%s)" % n for n, _ in table]
              + ["\n", "DENIED", "denied", "operation=\"userns_create\"", "tclass=user_namespace", "{ mount }",
                 "failed to find unprivileged_userns profile", "transitioning profile", "unpriv_bwrap", "ENOSPC", "max_",
                 "nesting depth", "does not support user namespaces", "\x00{\"distro\":\"ubuntu\"}"])
    dict_file("config", schema_tokens(ROOT / "schemas/sandbox-config.schema.json")
              + ['"distro":', '"distro-version":', '"container":', '"root":', '"wsl":', '"service":', '"selinux":',
                 "sandbox_mode", "network_access", "[sandbox_workspace_write]", "agents", "defaults", "sandbox",
                 "backend", "docker", "network", "mode", "//", "/*", "*/", "'", "0x", "Infinity", "NaN", "\\u", "\\x",
                 "\"\"\"", "'''", "[[", "]]", "=",
                 # number boundaries for the integer paths of the JSON5 reader and the TOML parser
                 "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616",
                 "0x7fffffffffffffff", "0x8000000000000000", "-0x", "--", "+-", "1e400", "-1e-400"])
    n = {t: len(list((OUT / t).iterdir())) for t in ("report", "error_text", "config")}
    print("seeds: " + ", ".join(f"{t} {c}" for t, c in n.items()), file=sys.stderr)


if __name__ == "__main__":
    main()
