#!/usr/bin/env python3
"""Every remediation artifact nsdoctor emits for the fixtures, checked by the real tool (see ./check).

usage: check.py NSDOCTOR FIXTURE_DIR   (environment from ./check: NSD_AA4_CMD, NSD_AA4_BASE, NSD_AA4_FEATURES)

For each tests/fixtures/*.json (not expected.json): `nsdoctor diagnose FIXTURE --format json`, then every
findings[].remediations[].files[] artifact, deduplicated by (kind, path, content):
  apparmor-profile  AppArmor 4.x `apparmor_parser -Q -K` (Debian 13's parser with its own loader; 3.0.8 cannot
                    parse abi 4.0 / `userns,`); negative controls (broken copies of an emitted profile) must be
                    rejected, so the check can fail
  sysctl-d          procps `sysctl -p FILE` in a throwaway user+mount namespace whose /proc/sys is a tmpfs holding
                    only real keys (host keys + the distro-only namespace keys); values read back and required to
                    be the permissive ones (strict parser instead when no user namespace is available); a
                    misspelt key must be rejected
  systemd-dropin    `systemd-analyze verify` on a unit that uses the drop-in (any diagnostic naming it fails; a
                    bogus key appended must be noticed), then `systemd-analyze security --offline` on a hardened
                    unit: the drop-in must relax what it claims to (RestrictNamespaces=, RestrictAddressFamilies=,
                    ProtectKernelTunables=, ProcSubset=, RestrictSUIDSGID=, SystemCallFilter=@mount)
  compose           YAML; `services.<name>` mappings whose keys are Compose-spec service keys; security_opt syntax
  kubernetes        YAML; PodSpec/container fields, securityContext keys and profile types from the Kubernetes API;
                    procMount: Unmasked only with hostUsers: false
  docker-run        shell-split; `docker|podman run` with known flags and well-formed --security-opt values
  text              non-empty
Prints one line per artifact and `N passed, M failed`; exit 1 on any failure, or when fixtures exist but
not a single artifact was found (so it cannot pass on a stub engine).
"""

import hashlib
import json
import os
import re
import shlex
import subprocess
import sys
import tempfile

AA4 = os.environ["NSD_AA4_CMD"].split("\x1f") if os.environ.get("NSD_AA4_CMD") else []
AA4_BASE = os.environ.get("NSD_AA4_BASE", "")
AA4_FEATURES = os.environ.get("NSD_AA4_FEATURES", "")

try:
    import yaml  # noqa: E402
except ImportError:  # ./check installs python3-yaml or picks an interpreter that has it
    yaml = None

results = []  # (ok, kind, label, detail)


def record(ok, kind, label, detail):
    results.append((ok, kind, label, detail))
    print("%s %-16s %-58s %s" % ("PASS" if ok else "FAIL", kind, label, detail), flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, capture_output=True, text=True, timeout=60, **kw)


def clean_stderr(text):
    # apparmor_parser always mentions the missing kernel interface when nothing is loaded (apparmor_parser 4.x prints it for every -Q -K run on a kernel without AppArmor).
    return "\n".join(l for l in text.splitlines()
                     if l.strip() and "Cache read/write disabled" not in l and "Kernel needs AppArmor" not in l)


# ---------------------------------------------------------------- apparmor-profile
def apparmor_parse(content, name="profile"):
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "profile")
        with open(p, "w", encoding="utf-8") as f:
            f.write(content)
        r = run(AA4 + ["-Q", "-K", "-b", AA4_BASE, "-M", AA4_FEATURES, p])
        return r.returncode, clean_stderr(r.stderr + r.stdout)


def check_apparmor(a):
    rc, err = apparmor_parse(a["content"], os.path.basename(a["path"]))
    if rc != 0:
        return False, "apparmor_parser 4.x rejected it (exit %d): %s" % (rc, err.splitlines()[0] if err else "")
    names = re.findall(r"^\s*profile\s+(\S+)(?:\s+(/\S+))?", a["content"], re.M)
    rules = [r for r in ("userns", "capability", "mount") if re.search(r"\b%s\b" % r, a["content"])]
    return True, "apparmor_parser 4.x -Q -K: ok (profile %s%s)" % (
        ", ".join("%s -> %s" % (n, p) if p else n for n, p in names) or "?",
        "; rules: " + " ".join(rules) if rules else "")


def negative_controls(profiles):
    """The check must be able to fail: broken variants of a real emitted profile are rejected."""
    base = profiles[0]["content"] if profiles else (
        "abi <abi/4.0>,\ninclude <tunables/global>\nprofile nsd-neg /usr/bin/bwrap flags=(unconfined) {\n  userns,\n}\n")
    variants = []
    if re.search(r"\buserns,", base):
        variants.append(("typo in the userns rule", re.sub(r"\buserns,", "usernz,", base, count=1)))
    idx = base.rfind("}")
    if idx >= 0:
        variants.append(("missing closing brace", base[:idx] + base[idx + 1:]))
    variants.append(("unknown profile flag", re.sub(r"flags=\(([^)]*)\)", r"flags=(\1 bogusflag)", base, count=1)
                     if "flags=(" in base else base.replace("{", "flags=(bogusflag) {", 1)))
    for what, text in variants:
        rc, err = apparmor_parse(text, "negative")
        ok = rc != 0
        record(ok, "apparmor-profile", "negative control: %s" % what,
               "rejected as it must be: %s" % (err.splitlines()[0] if err else "exit %d" % rc) if ok
               else "ACCEPTED a broken profile: the check cannot fail")


# ---------------------------------------------------------------- sysctl-d
DISTRO_ONLY_KEYS = {
    # Ubuntu kernels (SAUCE) and Debian/Arch patches: absent from this host's kernel, present on the targets.
    "kernel.apparmor_restrict_unprivileged_userns": "1",
    "kernel.apparmor_restrict_unprivileged_userns_complain": "0",
    "kernel.apparmor_restrict_unprivileged_userns_force": "0",
    "kernel.apparmor_restrict_unprivileged_unconfined": "0",
    "kernel.unprivileged_userns_clone": "0",
}
PERMISSIVE = {
    "kernel.unprivileged_userns_clone": lambda v: v == "1",
    "kernel.apparmor_restrict_unprivileged_userns": lambda v: v == "0",
    "kernel.apparmor_restrict_unprivileged_unconfined": lambda v: v == "0",
    "user.max_*_namespaces": lambda v: v.isdigit() and int(v) >= 100,
}
SYSCTL_LINE = re.compile(r"^\s*-?\s*([A-Za-z0-9_.*/-]+)\s*=\s*(.*?)\s*$")


def sysctl_entries(content):
    out, bad = [], []
    for n, line in enumerate(content.splitlines(), 1):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        m = SYSCTL_LINE.match(line)
        if not m:
            bad.append("line %d not `key = value`: %r" % (n, line))
            continue
        out.append((m.group(1).replace("/", "."), m.group(2)))
    return out, bad


_NS_OK = None


def throwaway_ns_works():
    global _NS_OK
    if _NS_OK is None:
        try:
            _NS_OK = run(["unshare", "--user", "--map-root-user", "--mount", "true"]).returncode == 0
        except (OSError, subprocess.SubprocessError):
            _NS_OK = False
    return _NS_OK


def check_sysctl(a):
    entries, bad = sysctl_entries(a["content"])
    if bad:
        return False, bad[0]
    if not entries:
        return False, "no settings"
    if not throwaway_ns_works():
        # strict parser only: the syntax above, real keys, and (below) permissive values
        unknown = [k for k, _ in entries
                   if not os.path.exists("/proc/sys/" + k.replace(".", "/")) and k not in DISTRO_ONLY_KEYS]
        if unknown:
            return False, "unknown sysctl key %s" % unknown[0]
        return sysctl_values_ok(entries, "strict parser (no throwaway user namespace here)")
    with tempfile.TemporaryDirectory() as d:
        fake = os.path.join(d, "sys")
        conf = os.path.join(d, "nsdoctor.conf")
        os.makedirs(fake)
        with open(conf, "w", encoding="utf-8") as f:
            f.write(a["content"])
        for key, _ in entries:
            rel = key.replace(".", "/")
            real = os.path.join("/proc/sys", rel)
            if os.path.exists(real) or key in DISTRO_ONLY_KEYS:
                os.makedirs(os.path.dirname(os.path.join(fake, rel)), exist_ok=True)
                with open(os.path.join(fake, rel), "w") as f:
                    f.write(DISTRO_ONLY_KEYS.get(key, "-1") + "\n")
        readback = " ".join("cat /proc/sys/%s;" % k.replace(".", "/") for k, _ in entries)
        script = ('mount --bind "$1" /proc/sys && sysctl -p "$2" >/dev/null && echo ---readback && %s' % readback)
        r = run(["unshare", "--user", "--map-root-user", "--mount", "sh", "-c", script, "sh", fake, conf])
        if r.returncode != 0 or r.stderr.strip():
            return False, "sysctl -p: exit %d: %s" % (r.returncode, r.stderr.strip().splitlines()[0] if r.stderr.strip() else "")
        got = r.stdout.split("---readback", 1)[-1].split()
        want = [v.split()[0] if v.split() else v for _, v in entries]
        if got != want:
            return False, "values read back %s, expected %s" % (got, want)
    return sysctl_values_ok(entries, "sysctl -p (procps) in a throwaway namespace")


def sysctl_values_ok(entries, how):
    for key, val in entries:  # the value must be the permissive one for the namespace keys we know
        want = PERMISSIVE.get(key) or (PERMISSIVE["user.max_*_namespaces"] if re.match(r"^user\.max_\w+_namespaces$", key) else None)
        if want and not want(val):
            return False, "%s = %s does not allow the sandbox's namespaces" % (key, val)
    return True, "%s: %s" % (how, ", ".join("%s=%s" % e for e in entries))


def sysctl_negative_control():
    ok, detail = check_sysctl({"path": "negative", "content": "kernel.unprivileged_userns_clon = 1\n"})
    ok = ok or ("cannot stat" not in detail and "unknown sysctl key" not in detail)  # fail for the right reason
    record(not ok, "sysctl-d", "negative control: misspelt key",
           "rejected as it must be: %s" % detail if not ok else "ACCEPTED a misspelt key: the check cannot fail")


# ---------------------------------------------------------------- systemd-dropin
def check_dropin(a):
    m = re.search(r"/([^/]+\.(service|socket|timer|scope|slice|mount))\.d/([^/]+\.conf)$", a["path"])
    if not m:
        return False, "path is not <unit>.d/<name>.conf: %s" % a["path"]
    unit, conf = m.group(1), m.group(3)
    note = ""
    if re.search(r"<[^>]*>", unit):  # a template path: the user fills in their unit's name
        unit, note = re.sub(r"<[^>]*>", "placeholder", unit), " (unit name is a placeholder in the path)"
    if "@" in unit and unit.split("@", 1)[1].startswith("."):
        unit = unit.replace("@.", "@lab.")
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, unit + ".d"))
        with open(os.path.join(d, unit), "w") as f:
            f.write("[Unit]\nDescription=nsdoctor artifact check\n[Service]\nExecStart=/bin/true\n")
        dpath = os.path.join(d, unit + ".d", conf)
        with open(dpath, "w", encoding="utf-8") as f:
            f.write(a["content"])
        env = dict(os.environ, SYSTEMD_UNIT_PATH=d + ":", SYSTEMD_LOG_LEVEL="notice")
        r = run(["systemd-analyze", "verify", "--man=no", "--generators=no", os.path.join(d, unit)], env=env)
        out = (r.stderr + r.stdout).splitlines()
        diags = [l for l in out if conf in l or "Unknown" in l or "ignoring" in l]
        if r.returncode != 0 or diags:
            return False, "systemd-analyze verify: %s" % (diags[0] if diags else "exit %d: %s" % (
                r.returncode, " | ".join(out[:2])))
        # and the drop-in was really read: a broken copy must produce a diagnostic naming it
        with open(dpath, "a", encoding="utf-8") as f:
            f.write("\n[Service]\nNsdoctorSelfTestBogusKey=1\n")
        r2 = run(["systemd-analyze", "verify", "--man=no", "--generators=no", os.path.join(d, unit)], env=env)
        if "NsdoctorSelfTestBogusKey" not in r2.stderr + r2.stdout:
            return False, "systemd-analyze did not read the drop-in (a bogus key went unnoticed)"
    keys = [l.split("=", 1)[0].strip() for l in a["content"].splitlines() if "=" in l and not l.lstrip().startswith(("#", ";"))]
    ok, effect = dropin_effect(unit, a["content"], keys)
    if not ok:
        return False, effect
    return True, "systemd-analyze verify %s: ok (%s); %s%s" % (unit, ", ".join(keys), effect, note)


# What each key must relax, on a unit hardened the way the failing services are (systemd-analyze security
# --offline JSON field -> must be False, i.e. "the service may ..."). Only keys listed here are judged.
HARDENED_UNIT = ("[Unit]\nDescription=nsdoctor artifact check (hardened)\n[Service]\nExecStart=/bin/true\n"
                 "RestrictNamespaces=yes\nRestrictAddressFamilies=AF_UNIX AF_INET AF_INET6\n"
                 "ProtectKernelTunables=yes\nProcSubset=pid\nSystemCallFilter=@system-service\nRestrictSUIDSGID=yes\n")
RELAXES = {
    "RestrictNamespaces": ["RestrictNamespaces_user", "RestrictNamespaces_net", "RestrictNamespaces_mnt",
                           "RestrictNamespaces_pid"],
    "RestrictAddressFamilies": ["RestrictAddressFamilies_AF_NETLINK"],
    "ProtectKernelTunables": ["ProtectKernelTunables"],
    "ProcSubset": ["ProcSubset"],
    "RestrictSUIDSGID": ["RestrictSUIDSGID"],
    "SystemCallFilter": ["SystemCallFilter_mount"],  # judged only when the drop-in names @mount
}


def dropin_effect(unit, content, keys):
    """The drop-in, on top of a hardened unit, must actually allow what bwrap needs (systemd's own view)."""
    judged = [k for k in keys if k in RELAXES and (k != "SystemCallFilter" or "@mount" in content)]
    if not judged or not unit.endswith(".service"):
        return True, "effect not judged"
    with tempfile.TemporaryDirectory() as d:
        os.makedirs(os.path.join(d, unit + ".d"))
        with open(os.path.join(d, unit), "w") as f:
            f.write(HARDENED_UNIT)
        with open(os.path.join(d, unit + ".d", "zz-nsdoctor.conf"), "w", encoding="utf-8") as f:
            f.write(content)
        env = dict(os.environ, SYSTEMD_UNIT_PATH=d + ":")

        def security():
            r = run(["systemd-analyze", "security", "--offline=true", "--json=short", "--no-pager",
                     os.path.join(d, unit)], env=env)
            try:
                return {x["json_field"]: x["set"] for x in json.loads(r.stdout)}, None
            except (ValueError, KeyError, TypeError):
                return None, "systemd-analyze security --offline failed: %s" % (r.stderr.strip().splitlines() or ["?"])[0]
        fields, err = security()
        if err:
            return False, err
        # the judge can fail: without the drop-in, the hardened unit must show every judged field restricted
        os.rename(os.path.join(d, unit + ".d", "zz-nsdoctor.conf"), os.path.join(d, "away.conf"))
        base, err = security()
        if err or any(base.get(f) is not True for k in judged for f in RELAXES[k]):
            return False, "self-test: the hardened unit does not restrict %s" % judged
    still = [f for k in judged for f in RELAXES[k] if fields.get(f) is not False]
    if still:
        return False, "on a hardened unit the drop-in does not relax %s (systemd-analyze security)" % still
    return True, "systemd-analyze security: now allowed %s" % " ".join(f for k in judged for f in RELAXES[k])


# ---------------------------------------------------------------- compose / kubernetes / docker-run
COMPOSE_SERVICE_KEYS = set("""annotations attach blkio_config build cap_add cap_drop cgroup cgroup_parent command configs
container_name cpu_count cpu_percent cpu_period cpu_quota cpu_rt_period cpu_rt_runtime cpu_shares cpus cpuset
credential_spec depends_on deploy develop device_cgroup_rules devices dns dns_opt dns_search domainname driver_opts
entrypoint env_file environment expose extends external_links extra_hosts gpus group_add healthcheck hostname image
init ipc isolation labels label_file links logging mac_address mem_limit mem_reservation mem_swappiness memswap_limit
models network_mode networks oom_kill_disable oom_score_adj pid pids_limit platform ports post_start pre_stop
privileged profiles provider pull_policy read_only restart runtime scale secrets security_opt shm_size stdin_open
stop_grace_period stop_signal storage_opt sysctls tmpfs tty ulimits use_api_socket user userns_mode uts volumes
volumes_from working_dir""".split())
SECURITY_OPT = re.compile(r"^(apparmor|seccomp|label|systempaths|no-new-privileges|proc-opts)([=:].+)?$")
CAPS = re.compile(r"^(CAP_)?[A-Z_]+$")
K8S_CONTAINER_SC = {"allowPrivilegeEscalation", "appArmorProfile", "capabilities", "privileged", "procMount",
                    "readOnlyRootFilesystem", "runAsGroup", "runAsNonRoot", "runAsUser", "seLinuxOptions",
                    "seccompProfile", "windowsOptions"}
K8S_POD_SC = {"appArmorProfile", "fsGroup", "fsGroupChangePolicy", "runAsGroup", "runAsNonRoot", "runAsUser",
              "seLinuxChangePolicy", "seLinuxOptions", "seccompProfile", "supplementalGroups",
              "supplementalGroupsPolicy", "sysctls", "windowsOptions"}
PROFILE_TYPES = {"RuntimeDefault", "Localhost", "Unconfined"}
K8S_POD_SPEC = set("""activeDeadlineSeconds affinity automountServiceAccountToken containers dnsConfig dnsPolicy
enableServiceLinks ephemeralContainers hostAliases hostIPC hostNetwork hostPID hostUsers hostname hostnameOverride
imagePullSecrets initContainers nodeName nodeSelector os overhead preemptionPolicy priority priorityClassName
readinessGates resourceClaims resources restartPolicy runtimeClassName schedulerName schedulingGates securityContext
serviceAccount serviceAccountName setHostnameAsFQDN shareProcessNamespace subdomain terminationGracePeriodSeconds
tolerations topologySpreadConstraints volumes""".split())
K8S_CONTAINER = set("""args command env envFrom image imagePullPolicy lifecycle livenessProbe name ports readinessProbe
resizePolicy resources restartPolicy securityContext startupProbe stdin stdinOnce terminationMessagePath
terminationMessagePolicy tty volumeDevices volumeMounts workingDir""".split())


def pod_specs(doc):
    """PodSpec mappings in a Pod, a workload's template, or a bare `spec:` snippet."""
    spec = doc.get("spec") if isinstance(doc, dict) else None
    if isinstance(spec, dict) and isinstance((spec.get("template") or {}).get("spec"), dict):
        spec = spec["template"]["spec"]
    if isinstance(spec, dict) and isinstance((spec.get("jobTemplate") or {}).get("spec"), dict):
        spec = ((spec["jobTemplate"]["spec"].get("template") or {}).get("spec"))
    return [spec] if isinstance(spec, dict) and "containers" in spec else []


def check_pod_spec(spec, problems):
    unknown = sorted(set(spec) - K8S_POD_SPEC)
    if unknown:
        problems.append("PodSpec: unknown fields %s" % unknown)
    for c in (spec.get("containers") or []) + (spec.get("initContainers") or []):
        if not isinstance(c, dict) or "name" not in c:
            problems.append("container without a name")
            continue
        unknown = sorted(set(c) - K8S_CONTAINER)
        if unknown:
            problems.append("container %s: unknown fields %s" % (c.get("name"), unknown))
        if (c.get("securityContext") or {}).get("procMount") == "Unmasked" and spec.get("hostUsers") is not False:
            # KEP-4265: the API server rejects procMount: Unmasked unless the pod has its own user namespace
            problems.append("container %s: procMount Unmasked without hostUsers: false" % c.get("name"))


def load_yaml(content):
    if yaml is None:
        raise ValueError("no YAML parser")
    docs = [d for d in yaml.safe_load_all(content) if d is not None]
    if not docs:
        raise ValueError("empty YAML")
    return docs


def check_compose(a):
    try:
        docs = load_yaml(a["content"])
    except Exception as e:  # noqa: BLE001 - any parse error is the finding
        return False, "YAML: %s" % str(e).splitlines()[0]
    doc = docs[0]
    if not isinstance(doc, dict) or not isinstance(doc.get("services"), dict) or not doc["services"]:
        return False, "no `services:` mapping"
    seen = []
    for name, svc in doc["services"].items():
        if not isinstance(svc, dict):
            return False, "service %s is not a mapping" % name
        unknown = sorted(set(svc) - COMPOSE_SERVICE_KEYS)
        if unknown:
            return False, "service %s: keys not in the Compose spec: %s" % (name, unknown)
        for o in svc.get("security_opt") or []:
            if not isinstance(o, str) or not SECURITY_OPT.match(o):
                return False, "service %s: bad security_opt %r" % (name, o)
        for c in (svc.get("cap_add") or []) + (svc.get("cap_drop") or []):
            if not isinstance(c, str) or not CAPS.match(c):
                return False, "service %s: bad capability %r" % (name, c)
        seen += sorted(svc)
    return True, "YAML ok: services.%s {%s}" % ("/".join(doc["services"]), ", ".join(seen))


def walk_security_contexts(node, path, pod_level, problems, found):
    if isinstance(node, dict):
        for k, v in node.items():
            p = path + "." + str(k)
            if k == "securityContext":
                allowed = K8S_POD_SC if pod_level(path) else K8S_CONTAINER_SC | K8S_POD_SC
                if not isinstance(v, dict):
                    problems.append("%s is not a mapping" % p)
                    continue
                found.append(p)
                unknown = sorted(set(v) - allowed)
                if unknown:
                    problems.append("%s: unknown keys %s" % (p, unknown))
                for prof in ("appArmorProfile", "seccompProfile"):
                    if prof in v:
                        t = (v[prof] or {}).get("type") if isinstance(v[prof], dict) else None
                        if t not in PROFILE_TYPES:
                            problems.append("%s.%s.type %r not in %s" % (p, prof, t, sorted(PROFILE_TYPES)))
                        if t == "Localhost" and not v[prof].get("localhostProfile"):
                            problems.append("%s.%s: Localhost without localhostProfile" % (p, prof))
                if "procMount" in v and v["procMount"] not in ("Default", "Unmasked"):
                    problems.append("%s.procMount %r" % (p, v["procMount"]))
                caps = v.get("capabilities") or {}
                for c in (caps.get("add") or []) + (caps.get("drop") or []) if isinstance(caps, dict) else []:
                    if not CAPS.match(str(c)):
                        problems.append("%s.capabilities: bad %r" % (p, c))
            walk_security_contexts(v, p, pod_level, problems, found)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk_security_contexts(v, "%s[%d]" % (path, i), pod_level, problems, found)


def check_kubernetes(a):
    try:
        docs = load_yaml(a["content"])
    except Exception as e:  # noqa: BLE001
        return False, "YAML: %s" % str(e).splitlines()[0]
    problems, found = [], []
    for doc in docs:
        if not isinstance(doc, dict):
            return False, "not a mapping"
        if "kind" in doc and not ("apiVersion" in doc and "metadata" in doc):
            problems.append("object with kind but without apiVersion/metadata")
        # pod-level: <root>.spec.securityContext or a template's spec.securityContext
        walk_security_contexts(doc, "", lambda p: p.endswith(".spec") and "containers" not in p, problems, found)
        for spec in pod_specs(doc):
            check_pod_spec(spec, problems)
        ann = ((doc.get("metadata") or {}).get("annotations") or {}) if isinstance(doc.get("metadata"), dict) else {}
        for k, v in ann.items():
            if k.startswith("container.apparmor.security.beta.kubernetes.io/"):
                found.append("annotation " + k)
                if not (v in ("runtime/default", "unconfined") or str(v).startswith("localhost/")):
                    problems.append("annotation %s: bad value %r" % (k, v))
    if problems:
        return False, problems[0]
    if not found:
        return False, "no securityContext or AppArmor annotation found"
    return True, "YAML ok: %s" % ", ".join(found)


DOCKER_FLAGS_WITH_VALUE = {"--security-opt", "--cap-add", "--cap-drop", "--sysctl", "--device", "--userns",
                           "--pid", "--ipc", "--network", "--net", "--user", "-u", "--name", "-v", "--volume",
                           "--tmpfs", "--mount", "-e", "--env", "--cgroupns", "--runtime"}
DOCKER_FLAGS_BOOL = {"--privileged", "--rm", "-it", "-i", "-t", "--init", "--read-only"}


def check_docker_run(a):
    lines = [l for l in a["content"].splitlines() if l.strip() and not l.lstrip().startswith("#")]
    if not lines:
        return False, "empty"
    for line in lines:
        try:
            argv = shlex.split(line.replace("\\\n", " "))
        except ValueError as e:
            return False, "shell syntax: %s" % e
        if len(argv) < 2 or argv[0] not in ("docker", "podman", "nerdctl") or argv[1] not in ("run", "create"):
            return False, "not a `docker run` command: %r" % line
        i = 2
        while i < len(argv):
            t = argv[i]
            if t in ("…", "...") or re.match(r"^<[^>]*>$", t):
                i += 1
                continue
            if not t.startswith("-"):
                break  # the image and its command
            flag, eq, val = t.partition("=")
            if flag in DOCKER_FLAGS_WITH_VALUE:
                if not eq:
                    i += 1
                    val = argv[i] if i < len(argv) else ""
                if flag == "--security-opt" and not SECURITY_OPT.match(val):
                    return False, "bad --security-opt %r" % val
            elif flag not in DOCKER_FLAGS_BOOL:
                return False, "unknown docker run flag %r" % flag
            i += 1
    return True, "docker run flags ok"


def check_text(a):
    return (True, "%d lines" % len(a["content"].splitlines())) if a["content"].strip() else (False, "empty")


CHECKS = {"apparmor-profile": check_apparmor, "sysctl-d": check_sysctl, "systemd-dropin": check_dropin,
          "compose": check_compose, "kubernetes": check_kubernetes, "docker-run": check_docker_run,
          "text": check_text}


def main():
    nsd, fixdir = sys.argv[1], sys.argv[2]
    fixtures = sorted(f for f in os.listdir(fixdir) if f.endswith(".json") and f != "expected.json") \
        if os.path.isdir(fixdir) else []
    artifacts = {}  # key -> (artifact, [fixture names])
    diag_failures = 0
    for fx in fixtures:
        r = run([nsd, "diagnose", os.path.join(fixdir, fx), "--format", "json"])
        try:
            d = json.loads(r.stdout)
        except ValueError:
            d = None
        if r.returncode not in (0, 1) or not isinstance(d, dict):
            record(False, "diagnose", fx, "nsdoctor diagnose exit %d: %s" % (r.returncode, r.stderr.strip()[:150]))
            diag_failures += 1
            continue
        for fnd in d.get("findings") or []:
            for rem in fnd.get("remediations") or []:
                for a in rem.get("files") or []:
                    key = hashlib.sha256(json.dumps([a.get("kind"), a.get("path"), a.get("content")]).encode()).hexdigest()
                    artifacts.setdefault(key, (a, []))[1].append("%s:%s" % (fx[:-5], rem.get("id")))
    profiles = []
    for key, (a, where) in sorted(artifacts.items(), key=lambda kv: (kv[1][0].get("kind", ""), kv[1][0].get("path", ""), kv[0])):
        kind = a.get("kind", "?")
        label = "%s [%s%s]" % (a.get("path", "?"), where[0], " +%d" % (len(where) - 1) if len(where) > 1 else "")
        fn = CHECKS.get(kind)
        if fn is None:
            record(False, kind, label, "no checker for this artifact kind")
            continue
        try:
            ok, detail = fn(a)
        except Exception as e:  # noqa: BLE001 - a crashing check is a failed check
            ok, detail = False, "checker error: %r" % e
        record(ok, kind, label, detail)
        if kind == "apparmor-profile" and ok:
            profiles.append(a)
    negative_controls(profiles)
    sysctl_negative_control()
    if fixtures and not artifacts:
        record(False, "artifacts", "(all fixtures)", "%d fixtures but not one remediation artifact: stub engine?" % len(fixtures))
    if not fixtures:
        print("artifacts: no fixtures in %s" % fixdir)
    passed = sum(1 for r in results if r[0])
    failed = len(results) - passed
    kinds = {}
    for ok, kind, _, _ in results:
        kinds[kind] = kinds.get(kind, 0) + 1
    print("artifacts: %d fixtures, %d distinct artifacts checked (%s)" % (
        len(fixtures), len(artifacts), ", ".join("%s %d" % kv for kv in sorted(kinds.items()))))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
