#!/bin/sh
# Stage 2 of the kernel-lab guest (see ../run). Runs every scenario as uid 1000 and as root: the real
# `nsdoctor probe` under the restriction, `nsdoctor diagnose` on its report, the real bwrap under the same
# restriction, and `nsdoctor diagnose --error-text` on bwrap's stderr; after some, `nsdoctor fix --apply` and
# `--undo` (fix_case) or nsdoctor's script with a failing verification (rollback_case). Judges nothing: every
# output goes to /tmp/out, which is sent to the host as a gzipped tar on the second serial port; the host asserts.
export PATH=/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin
umask 022
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=755 tmpfs /run
mount -t securityfs securityfs /sys/kernel/security
dmesg -n 1                      # keep audit records off the console; they are collected from dmesg below
echo 0 > /proc/sys/kernel/printk_ratelimit   # ... all of them (without auditd they go through printk)
hostname nsdoctor-lab

. /lab/config.sh                # written by ../run: NSD_PROBE_ARGS, NSD_BWRAP_ARGS_*, NSD_CASE_TIMEOUT, NSD_ONLY
OUT=/tmp/out
mkdir -p "$OUT"
up() { cut -d' ' -f1 /proc/uptime; }
echo "=== kernel-lab guest: $(uname -r), /init reached at $(up)s"

{
  echo "kernel: $(uname -r)"
  echo "lsm: $(cat /sys/kernel/security/lsm)"
  echo "apparmor enabled: $(cat /sys/module/apparmor/parameters/enabled)"
  echo "apparmor namespaces/mask: $(cat /sys/kernel/security/apparmor/features/namespaces/mask 2>&1)"
  for f in /proc/sys/kernel/unprivileged_userns_clone /proc/sys/kernel/apparmor_restrict_unprivileged_userns \
           /proc/sys/kernel/apparmor_restrict_unprivileged_unconfined /proc/sys/user/max_user_namespaces \
           /proc/sys/user/max_net_namespaces; do
    echo "$f = $(cat "$f" 2>&1)"
  done
  echo "nsdoctor: $(nsdoctor --version 2>&1)"
  echo "bwrap: $(bwrap --version 2>&1)"
  echo "apparmor_parser: $(apparmor_parser --config-file=/dev/null --version 2>&1 | head -1)"
} > "$OUT/guest-info.txt" 2>&1

# Profiles compiled on the host by the AppArmor 4.x parser (abi 4.0) and loaded here by Debian's 3.0.8 loader.
aa_load()   { apparmor_parser --config-file=/dev/null -r -B "/lab/profiles/$1.bin" >>"$OUT/apparmor.log" 2>&1 || echo "LOAD FAILED $1" >>"$OUT/apparmor.log"; }
aa_remove() { printf '%s' "$1" > /sys/kernel/security/apparmor/.remove 2>>"$OUT/apparmor.log"; }
# aa_install FILE DIR: as an operator installs a profile: profiles/FILE copied to DIR/NAME (FILE is NAME or
# NAME.VARIANT; a variant replaces the file of the same NAME) and loaded (replacing a loaded one).
# aa_uninstall NAME PROFILE DIR: the file removed and the profile unloaded.
aa_install()   { cp "/lab/profiles/src/$1" "$2/${1%%.*}" && aa_load "$1"; }
aa_uninstall() { rm -f "$3/$1"; aa_remove "$2"; }

# A chroot that still sees every binary: bind mounts under /srv/jail.
mkdir -p /srv/jail
for d in bin sbin usr lib lib64 etc lab; do mkdir -p "/srv/jail/$d" && mount --bind "/$d" "/srv/jail/$d"; done
mkdir -p /srv/jail/proc /srv/jail/dev /srv/jail/tmp /srv/jail/sys
mount -t proc proc /srv/jail/proc
mount --bind /dev /srv/jail/dev
mount -t tmpfs -o mode=1777 tmpfs /srv/jail/tmp

# ubuntu_env CMD...: CMD in a private mount namespace that looks like Ubuntu 24.04 from userspace:
# /proc/sys/kernel is a tmpfs copy plus apparmor_restrict_unprivileged_userns=1 (the real kernel lacks it),
# the AppArmor unconfined_restrictions/userns feature file, Ubuntu's os-release, and an /etc/apparmor.d with
# abi/4.0 and the unprivileged_userns profile. The denial itself is real: userns_shim.so moves the task into
# the (loaded) unprivileged_userns profile right after the namespace is created, as Ubuntu's kernel does.
# The two tmpfs are filled once, when the first Ubuntu case starts (copying /proc/sys/kernel took 0.2 s a call
# under TCG); no case changes a kernel.* sysctl under the emulation.
ubuntu_env() {
  uk=/run/ubuntu-sys-kernel uf=/run/ubuntu-unconfined-restrictions
  if [ ! -e $uf/userns ]; then
    mkdir -p $uk $uf; mount -t tmpfs tmpfs $uk; mount -t tmpfs tmpfs $uf
    cp -a /proc/sys/kernel/. $uk/ 2>/dev/null || true
    echo 1 > $uk/apparmor_restrict_unprivileged_userns
    echo 0 > $uk/apparmor_restrict_unprivileged_userns_complain
    echo 0 > $uk/apparmor_restrict_unprivileged_userns_force
    echo yes > $uf/change_profile; echo 1 > $uf/userns
  fi
  unshare -m sh -c '
    set -e
    mount --bind /run/ubuntu-sys-kernel /proc/sys/kernel
    mount --bind /run/ubuntu-unconfined-restrictions /sys/kernel/security/apparmor/features/policy/unconfined_restrictions
    mount --bind /lab/ubuntu/os-release /etc/os-release
    mount --bind /lab/ubuntu/apparmor.d /etc/apparmor.d
    exec "$@"' ubuntu_env "$@"
}

# selected NAME: the case is in NSD_ONLY (or NSD_ONLY is empty).
selected() { [ -z "${NSD_ONLY:-}" ] || echo " $NSD_ONLY " | grep -q " $1 "; }
# apply_dir NAME: d = the case's output directory for an apply or rollback case; t0 = its start.
apply_dir() { d=$OUT/apply/$1; mkdir -p "$d"; t0=$(up); }

# run_case SCENARIO WHO NETWORK FACTS
#   WHO: uid1000 | root | asuser (root running `nsdoctor probe --as-user user`, the service-user mode; its bwrap
#   replay runs as uid 1000). NETWORK: none | bridge (the sandbox config). FACTS: `--fact` pairs for the error
#   text. Set by the scenario: WRAP (a function run around everything, e.g. ubuntu_env), LABEXEC (labexec
#   options applying the restriction), BWRAP_VIA (words between labexec and bwrap, e.g. aa-exec -p P --),
#   CHECK_TOO=1 (also run `nsdoctor check --format json`, compared with probe+diagnose by the host).
run_case() {
  name=$1 who=$2 net=$3 facts=$4
  selected "$name" || return 0
  d=$OUT/cases/$name.$who
  mkdir -p "$d"
  t0=$(up)
  as="" probe_as="" bwrap_as=""
  user_opts="--uid 1000"
  [ -n "${NNP_FOR_USER:-}" ] && user_opts="$user_opts --nnp"
  case "$who" in
    uid1000) as=$user_opts; bwrap_as=$user_opts ;;
    asuser) probe_as="--as-user user"; bwrap_as=$user_opts ;;
  esac
  echo "$name $who $net" > "$d/case"
  dmesg -c >> "$OUT/dmesg.txt" 2>/dev/null       # this case's audit records start here
  # PROBE_PROFILE: the probe runs as the program that profile confines would start bwrap
  probe_flags=""
  [ -n "${PROBE_PROFILE:-}" ] && probe_flags="--apparmor-profile $PROBE_PROFILE"
  # 1. the probe, under the restriction (stdout opened here, as root, before labexec drops privileges)
  # shellcheck disable=SC2086
  $WRAP timeout "$NSD_CASE_TIMEOUT" /lab/labexec $LABEXEC $as -- \
      nsdoctor probe --network "$net" $probe_as $probe_flags $NSD_PROBE_ARGS > "$d/probe.json" 2> "$d/probe.err"
  echo $? > "$d/probe.rc"
  # 2. diagnose that report (pure: runs unrestricted)
  nsdoctor diagnose "$d/probe.json" --format json > "$d/diag.json" 2> "$d/diag.err"
  echo $? > "$d/diag.rc"
  if [ -n "${CHECK_TOO:-}" ]; then
    # shellcheck disable=SC2086
    $WRAP timeout "$NSD_CASE_TIMEOUT" /lab/labexec $LABEXEC $as -- \
        nsdoctor check --network "$net" $probe_as $probe_flags $NSD_PROBE_ARGS --format json > "$d/check.json" 2> "$d/check.err"
    echo $? > "$d/check.rc"
  fi
  # 3. the real bwrap with the sandbox's argv, under the same restriction; where the shim is preloaded it also
  #    records the label bwrap was exec'd into (which profile attached, if any)
  if [ "$net" = none ]; then bargs=$NSD_BWRAP_ARGS_NONE; else bargs=$NSD_BWRAP_ARGS_BRIDGE; fi
  label_log=""
  case "$LABEXEC" in *userns_shim.so*)
    : > "$d/bwrap.label"; chmod 666 "$d/bwrap.label"; label_log="--env NSD_LAB_LABEL_LOG=$d/bwrap.label" ;;
  esac
  # shellcheck disable=SC2086
  (cd /tmp && $WRAP timeout "$NSD_CASE_TIMEOUT" /lab/labexec $LABEXEC $label_log $bwrap_as -- $BWRAP_VIA bwrap $bargs) \
      > "$d/bwrap.out" 2> "$d/bwrap.err"
  echo $? > "$d/bwrap.rc"
  # 4. classify bwrap's stderr (only when there is one)
  if [ -s "$d/bwrap.err" ]; then
    r=no; [ "$who" = root ] && r=yes
    # shellcheck disable=SC2086
    nsdoctor diagnose --error-text "$d/bwrap.err" --fact root=$r $facts --format json \
        > "$d/bwrapdiag.json" 2> "$d/bwrapdiag.err"
    echo $? > "$d/bwrapdiag.rc"
  fi
  # the AppArmor audit records of this case (probe, check and bwrap), pids dropped
  dmesg -c 2>/dev/null | tee -a "$OUT/dmesg.txt" | grep -o 'apparmor="[A-Z]*".*' | sed 's/ pid=[0-9]*//' > "$d/audit.txt"
  echo "$t0 $(up)" > "$d/uptime"
  echo "=== case $name.$who done at $(up)s (probe rc $(cat "$d/probe.rc"), bwrap rc $(cat "$d/bwrap.rc"))"
}

# json_artifact DIAG.json KIND: the content of the first remediation file of KIND in a diagnosis, exactly as
# nsdoctor printed it (serde_json's pretty output puts each field on its own line; busybox awk unescapes).
json_artifact() {
  awk -v kind="$2" '
    /^[[:space:]]*\{/ { c = ""; k = 0 }
    /"content": "/ { c = $0; sub(/^[^"]*"content": "/, "", c); sub(/",?[[:space:]]*$/, "", c) }
    index($0, "\"kind\": \"" kind "\"") { k = 1 }
    /^[[:space:]]*\}/ {
      if (k && c != "") {
        gsub(/\\\\/, "\001", c); gsub(/\\n/, "\n", c); gsub(/\\t/, "\t", c); gsub(/\\"/, "\"", c); gsub(/\001/, "\\", c)
        printf "%s", c; exit
      }
      c = ""; k = 0
    }' "$1"
}
# apply_sysctl_fix SCENARIO: the sysctl.d file nsdoctor offered for SCENARIO.uid1000, applied with sysctl -p.
apply_sysctl_fix() {
  json_artifact "$OUT/cases/$1.uid1000/diag.json" sysctl-d > "$OUT/fix-$1.conf"
  sysctl -p "$OUT/fix-$1.conf" > "$OUT/fix-$1.log" 2>&1
}

# apply_aa_fix SCENARIO [WRAP]: the commands nsdoctor printed for SCENARIO (its top finding's first remediation,
# extracted on the host by ../fixes.py with `sudo ` removed), run by aa-fix.sh on the /etc/apparmor.d that WRAP
# shows (ubuntu_env: the Ubuntu one). The 4.x parser's part was done on the host on a copy of the same files.
apply_aa_fix() { $2 sh /lab/aa-fix.sh "$1" "$OUT/fix-$1"; }

# ---- nsdoctor fix --apply / --undo ----
# fix_case SCENARIO: with the host blocked as the case before it left it, as root under the same restriction
# (WRAP, LABEXEC), `nsdoctor fix --apply --yes --as-user 1000 --network none` (plus --apparmor-profile
# PROBE_PROFILE): nsdoctor probes as uid 1000, writes and runs its script (pre-checks, changes with an undo
# manifest in $NSD_STATE, its own `nsdoctor check --as-user 1000`). Then, as uid 1000, `nsdoctor check` and the
# real bwrap; `nsdoctor fix --undo`; check and bwrap again. The trees of SNAP_TREES, the sysctls and the loaded
# profiles are snapshotted before, after the fix and after the undo (snap.sh). AppArmor scripts find
# /lab/standin/apparmor_parser first on PATH (the host compiled what it needs, ../fixes.py APPLY_FIXES).
NSD_STATE=/var/lib/nsdoctor
STANDIN="PATH=/lab/standin:$PATH NSD_STANDIN_DB=/lab/fixes/standin"
# shellcheck source=snap.sh
. /lab/snap.sh
export SNAP_TREES
fix_case() {
  name=$1
  selected "$name" || return 0
  apply_dir "$name"
  dmesg -c >> "$OUT/dmesg.txt" 2>/dev/null
  pf=""
  [ -n "${PROBE_PROFILE:-}" ] && pf="--apparmor-profile $PROBE_PROFILE"
  label=""
  case "$LABEXEC" in *userns_shim.so*) label=1 ;; esac
  snap "$d/before"
  echo "fix $(up)" > "$d/stages"
  # shellcheck disable=SC2086
  $WRAP env $STANDIN NSD_STANDIN_LOG="$d/fix.standin" timeout "$NSD_CASE_TIMEOUT" /lab/labexec $LABEXEC -- \
      nsdoctor fix --apply --yes --as-user 1000 --network none $pf > "$d/fix.out" 2> "$d/fix.err"
  echo $? > "$d/fix.rc"
  cp "$NSD_STATE/fix.sh" "$d/fix.sh" 2>/dev/null
  cp "$NSD_STATE/undo/manifest" "$d/manifest" 2>/dev/null
  cp "$NSD_STATE/undo/id" "$d/id" 2>/dev/null
  snap "$d/applied"
  echo "check $(up)" >> "$d/stages"
  fix_user_run "$d" applied "$pf" "$label"
  echo "undo $(up)" >> "$d/stages"
  # shellcheck disable=SC2086
  $WRAP env $STANDIN NSD_STANDIN_LOG="$d/undo.standin" timeout "$NSD_CASE_TIMEOUT" nsdoctor fix --undo > "$d/undo.out" 2> "$d/undo.err"
  echo $? > "$d/undo.rc"
  ls -A "$NSD_STATE" > "$d/state-after-undo" 2>&1
  snap "$d/undone"
  echo "recheck $(up)" >> "$d/stages"
  fix_user_run "$d" undone "$pf" "$label"
  echo "end $(up)" >> "$d/stages"
  rm -rf "$NSD_STATE"      # whatever happened, the next case starts without a recorded fix
  dmesg -c >> "$OUT/dmesg.txt" 2>/dev/null
  echo "$t0 $(up)" > "$d/uptime"
  echo "=== fix case $name done at $(up)s (fix rc $(cat "$d/fix.rc"), undo rc $(cat "$d/undo.rc"))"
}
# fix_user_run DIR STAGE PROBE_FLAGS LABEL: as uid 1000 under the case's restriction, `nsdoctor check` and the
# real bwrap (with LABEL, the label bwrap was exec'd into); DIR/STAGE.check.json, .check.rc, .bwrap.rc, ...
fix_user_run() {
  # shellcheck disable=SC2086
  $WRAP timeout "$NSD_CASE_TIMEOUT" /lab/labexec $LABEXEC --uid 1000 -- \
      nsdoctor check --network none $3 --format json > "$1/$2.check.json" 2> "$1/$2.check.err"
  echo $? > "$1/$2.check.rc"
  echo "bwrap $(up)" >> "$1/stages"
  ll=""
  if [ -n "$4" ]; then : > "$1/$2.bwrap.label"; chmod 666 "$1/$2.bwrap.label"; ll="--env NSD_LAB_LABEL_LOG=$1/$2.bwrap.label"; fi
  # shellcheck disable=SC2086
  (cd /tmp && $WRAP timeout "$NSD_CASE_TIMEOUT" /lab/labexec $LABEXEC $ll --uid 1000 -- $BWRAP_VIA bwrap $NSD_BWRAP_ARGS_NONE) \
      > "$1/$2.bwrap.out" 2> "$1/$2.bwrap.err"
  echo $? > "$1/$2.bwrap.rc"
}
# rollback_case SCENARIO REPORT: the script `nsdoctor fix` prints for REPORT (a blocked case's probe report),
# run as root with a verification that finds the sandbox still blocked (NSDOCTOR=/lab/check-fails, which
# snapshots the host as the fix left it, then exits 1): the script must undo everything by itself.
rollback_case() {
  name=$1
  selected "$name" || return 0
  apply_dir "$name"
  nsdoctor fix --report "$2" --format script > "$d/fix.sh" 2> "$d/gen.err"
  echo $? > "$d/gen.rc"
  snap "$d/before"
  # shellcheck disable=SC2086
  $WRAP env $STANDIN NSD_STANDIN_LOG="$d/fix.standin" NSDOCTOR=/lab/check-fails NSD_VERIFY_OUT="$d/verify" \
      timeout "$NSD_CASE_TIMEOUT" sh "$d/fix.sh" > "$d/fix.out" 2> "$d/fix.err"
  echo $? > "$d/fix.rc"
  ls -A "$NSD_STATE" > "$d/state-after" 2>&1
  snap "$d/after"
  rm -rf "$NSD_STATE"
  echo "$t0 $(up)" > "$d/uptime"
  echo "=== rollback case $name done at $(up)s (script rc $(cat "$d/fix.rc"))"
}

# setup_fix_case SCENARIO DIR [WRAP PROFILE]: the files ../fixes.py gave SCENARIO's tree (modes kept) copied into
# DIR, and DIR/PROFILE reloaded through the stand-in (what the host compiled for that content).
setup_fix_case() {
  cp -a "/lab/fixes/apply/$1/." "$2/"
  [ -n "${4:-}" ] || return 0
  # shellcheck disable=SC2086
  $3 env $STANDIN NSD_STANDIN_LOG="$OUT/apparmor.log" /lab/standin/apparmor_parser -r "/etc/apparmor.d/$4" \
      >> "$OUT/apparmor.log" 2>&1 || echo "LOAD FAILED $1 $4" >> "$OUT/apparmor.log"
}

both() { run_case "$1" uid1000 "$2" "$3"; run_case "$1" root "$2" "$3"; }
reset_case() { WRAP=""; LABEXEC=""; BWRAP_VIA=""; NNP_FOR_USER=""; CHECK_TOO=""; PROBE_PROFILE=""; }
sysctl_w() { echo "$2" > "/proc/sys/$1"; }
MAXU=$(cat /proc/sys/user/max_user_namespaces)
MAXN=$(cat /proc/sys/user/max_net_namespaces)
DEB="--fact distro=debian --fact kernel=$(uname -r)"

# ---- scenarios (expectations: ../expect.py) ----
# A "-fixed" scenario applies the remediation nsdoctor printed for the scenario before it and runs again: the
# real kernel must then let bwrap through. sysctl.d files come from the guest's own diagnosis; AppArmor
# profiles and commands were extracted on the host (../fixes.py), and expect.py checks that the guest's
# diagnosis offered the very same.
reset_case
CHECK_TOO=1
both unrestricted none "$DEB"
reset_case

sysctl_w kernel/unprivileged_userns_clone 0
both userns-clone-0 none "$DEB"
run_case userns-clone-0 asuser none "$DEB"
# ... nsdoctor fix --apply and --undo on that host, where an administrator's file had set the switch (it sorts
# before nsdoctor's own, so nsdoctor's pre-check lets it through); then its script with a failing verification.
printf 'kernel.unprivileged_userns_clone = 0\n' > /etc/sysctl.d/50-hardening.conf
SNAP_TREES="/etc/sysctl.d=/etc/sysctl.d /etc/apparmor.d=/etc/apparmor.d"
fix_case userns-clone-0-apply
rollback_case userns-clone-0-rollback "$OUT/cases/userns-clone-0.uid1000/probe.json"
rm -f /etc/sysctl.d/50-hardening.conf
apply_sysctl_fix userns-clone-0
run_case userns-clone-0-fixed uid1000 none "$DEB"
sysctl_w kernel/unprivileged_userns_clone 1

sysctl_w user/max_user_namespaces 0
both max-userns-0 none "$DEB"
printf 'user.max_user_namespaces = 0\n' > /etc/sysctl.d/50-hardening.conf
fix_case max-userns-0-apply
rm -f /etc/sysctl.d/50-hardening.conf
apply_sysctl_fix max-userns-0
run_case max-userns-0-fixed uid1000 none "$DEB"
sysctl_w user/max_user_namespaces "$MAXU"

sysctl_w user/max_net_namespaces 0
both max-netns-0-none none "$DEB"
both max-netns-0-bridge bridge "$DEB"
sysctl_w user/max_net_namespaces "$MAXN"

# systemd RestrictNamespaces=yes: the seccomp filter plus the service context (INVOCATION_ID is set by systemd
# for every unit it starts); an unprivileged User= implies NoNewPrivileges=yes.
LABEXEC="--seccomp-restrict-ns --env INVOCATION_ID=6e0f5e1a7c3b4d2a9f1e8d7c6b5a4f3e"; NNP_FOR_USER=1
both seccomp-restrict-ns none "$DEB --fact service=systemd"
run_case seccomp-restrict-ns asuser none "$DEB --fact service=systemd"
reset_case

# An AppArmor profile attached to the binary's path, abi 4.0, without a `userns,` rule (upstream mediation,
# kernel >= 6.7: operation="userns_create" denied, EACCES). bwrap runs under the same profile via aa-exec,
# as it would when the probed tool starts it (the profile's `file,` rule inherits on exec).
aa_load nsdoctor-lab-nouserns
BWRAP_VIA="aa-exec -p nsdoctor-lab-nouserns --"
both apparmor-no-userns-rule none "$DEB"
aa_remove nsdoctor-lab-nouserns
reset_case

# Ubuntu 24.04: create-time transition into unprivileged_userns (real Ubuntu/Debian 13 profile, enforce mode).
aa_load unprivileged_userns
WRAP=ubuntu_env; LABEXEC="--env LD_PRELOAD=/lab/userns_shim.so"; CHECK_TOO=1
both ubuntu-2404-transition none "--fact distro=ubuntu --fact distro-version=24.04"
# ... nsdoctor fix --apply (its profile for bwrap, written and loaded) and --undo, in the Ubuntu tree.
SNAP_TREES="/etc/sysctl.d=/etc/sysctl.d /etc/apparmor.d=/lab/ubuntu/apparmor.d"
setup_fix_case ubuntu-2404-transition-apply /lab/ubuntu/apparmor.d
fix_case ubuntu-2404-transition-apply
# ... then the AppArmor profile nsdoctor prints for bwrap, installed and loaded as a user would.
CHECK_TOO=""
cp /lab/fixes/ubuntu-2404-transition.profile "/lab/ubuntu/apparmor.d/$(cat /lab/fixes/ubuntu-2404-transition.name)"
apparmor_parser --config-file=/dev/null -r -B /lab/fixes/ubuntu-2404-transition.bin >>"$OUT/apparmor.log" 2>&1 \
  || echo "LOAD FAILED ubuntu-2404-transition fix" >>"$OUT/apparmor.log"
run_case ubuntu-2404-transition-fixed uid1000 none "--fact distro=ubuntu --fact distro-version=24.04"
aa_remove "$(cat /lab/fixes/ubuntu-2404-transition.pname)"
rm -f "/lab/ubuntu/apparmor.d/$(cat /lab/fixes/ubuntu-2404-transition.name)"
reset_case

# Two profiles attach to /usr/bin/bwrap: a vendor's (profiles/vendor-bwrap) and the one nsdoctor prints for
# Ubuntu (codex-bwrap, as in ubuntu-2404-transition-fixed), both unconfined with `userns,`, both installed in the
# Ubuntu /etc/apparmor.d and loaded. Equally specific attachments conflict and the kernel attaches neither
# (security/apparmor/domain.c find_attach(); no audit record on 6.12): bwrap runs unconfined and the Ubuntu
# transition catches it again. Root is exempt from the transition.
UBU="--fact distro=ubuntu --fact distro-version=24.04"
UBU_AA=/lab/ubuntu/apparmor.d
FIXNAME=$(cat /lab/fixes/ubuntu-2404-transition.name) FIXPROF=$(cat /lab/fixes/ubuntu-2404-transition.pname)
aa_install vendor-bwrap "$UBU_AA"
cp /lab/fixes/ubuntu-2404-transition.profile "$UBU_AA/$FIXNAME"
apparmor_parser --config-file=/dev/null -r -B /lab/fixes/ubuntu-2404-transition.bin >>"$OUT/apparmor.log" 2>&1 \
  || echo "LOAD FAILED ubuntu-2404-transition fix" >>"$OUT/apparmor.log"
WRAP=ubuntu_env; LABEXEC="--env LD_PRELOAD=/lab/userns_shim.so"
both apparmor-conflict none "$UBU"
# ... nsdoctor fix --apply and --undo (the same remediation as below, through its script), then the script with a
# failing verification.
setup_fix_case apparmor-conflict-apply "$UBU_AA"
fix_case apparmor-conflict-apply
rollback_case apparmor-conflict-rollback "$OUT/cases/apparmor-conflict.uid1000/probe.json"
# ... then nsdoctor's fix (keep-apparmor-profile-vendor-bwrap): codex-bwrap linked into disable/ and unloaded,
# vendor-bwrap reloaded; vendor-bwrap alone attaches now.
apply_aa_fix apparmor-conflict ubuntu_env
run_case apparmor-conflict-fixed uid1000 none "$UBU"
rm -f "$UBU_AA/disable/$FIXNAME"
aa_uninstall "$FIXNAME" "$FIXPROF" "$UBU_AA"   # (the fix unloaded it already, unless it failed)
aa_uninstall vendor-bwrap vendor-bwrap "$UBU_AA"
reset_case

# The profile attached to /usr/bin/bwrap is in complain mode, without `userns,` (profiles/bwrap.complain;
# Steam's 24.04 profile, ValveSoftware/steam-for-linux#12620; Void, void-linux/void-packages#61765). On the
# Ubuntu emulation: bwrap is confined, so no transition, but complain mode still refuses the disconnected
# /proc/PID/uid_map bwrap writes through its pre-unshare /proc descriptor (real kernel behaviour, root too).
aa_install bwrap.complain "$UBU_AA"
WRAP=ubuntu_env; LABEXEC="--env LD_PRELOAD=/lab/userns_shim.so"
both apparmor-complain none "$UBU"
# ... nsdoctor fix --apply and --undo, with a site rule in local/bwrap (mode 0640) that the undo must give back;
# the profile is reloaded with it first, as an administrator who wrote it would have.
setup_fix_case apparmor-complain-apply "$UBU_AA" ubuntu_env bwrap
fix_case apparmor-complain-apply
rm -f "$UBU_AA/local/bwrap"
aa_load bwrap.complain
# ... then nsdoctor's fix (apparmor-profile-bwrap-unconfined): complain -> unconfined in the file's flags,
# `userns,` appended to local/bwrap, the profile reloaded.
apply_aa_fix apparmor-complain ubuntu_env
run_case apparmor-complain-fixed uid1000 none "$UBU"
aa_uninstall bwrap bwrap "$UBU_AA"
rm -f "$UBU_AA/local/bwrap"
reset_case

# bwrap started by an application whose profile (profiles/steam-like, no attachment) lacks `userns,`: bwrap
# inherits it and unshare(CLONE_NEWUSER) is denied (EACCES, root too). nsdoctor itself runs unconfined, as an
# operator runs it, and probes under the application's profile with --apparmor-profile (change_profile in each
# probe child and its bwrap replay); the guest's own /etc/apparmor.d holds the profile file meanwhile.
aa_install steam-like /etc/apparmor.d
BWRAP_VIA="aa-exec -p steam-like --"; PROBE_PROFILE=steam-like; CHECK_TOO=1
both apparmor-parent-profile none "$DEB"
# ... nsdoctor fix --apply and --undo, with the empty local/steam-like a package's postinst leaves.
SNAP_TREES="/etc/sysctl.d=/etc/sysctl.d /etc/apparmor.d=/etc/apparmor.d"
setup_fix_case apparmor-parent-profile-apply /etc/apparmor.d "" steam-like
fix_case apparmor-parent-profile-apply
rm -f /etc/apparmor.d/local/steam-like
# ... then nsdoctor's fix (add-userns-to-steam-like): `userns,` appended to local/steam-like, the profile reloaded.
CHECK_TOO=""
apply_aa_fix apparmor-parent-profile
run_case apparmor-parent-profile-fixed uid1000 none "$DEB"
aa_uninstall steam-like steam-like /etc/apparmor.d
rm -f /etc/apparmor.d/local/steam-like
reset_case

LABEXEC="--chroot /srv/jail"
both chroot none "$DEB --fact chroot=yes"
reset_case

# ---- collect ----
cat /sys/kernel/security/apparmor/profiles > "$OUT/apparmor-profiles.txt" 2>&1
dmesg -c >> "$OUT/dmesg.txt" 2>/dev/null
grep -o 'apparmor="[A-Z]*".*' "$OUT/dmesg.txt" | sed 's/ pid=[0-9]*//' | sort | uniq -c > "$OUT/apparmor-audit.txt"
rm -f "$OUT/dmesg.txt"
echo "guest-end $(up)" >> "$OUT/guest-info.txt"
echo "=== kernel-lab guest: all cases done at $(up)s, sending results"
stty -F /dev/ttyS1 raw -echo -opost 2>/dev/null
tar -C "$OUT" -cf - . | gzip -1 > /dev/ttyS1
echo "=== kernel-lab guest: end at $(up)s"
poweroff -f
