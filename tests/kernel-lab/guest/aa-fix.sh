#!/bin/sh
# aa-fix.sh SCENARIO OUTDIR (guest, as root; see lab.sh apply_aa_fix and ../fixes.py): runs the commands
# nsdoctor printed for SCENARIO, as printed with `sudo ` removed (/lab/fixes/SCENARIO.cmds, one per line), on
# this mount namespace's /etc/apparmor.d. sed, grep, tee and ln run as they are. apparmor_parser is this
# function, because Debian 12's 3.0.8 parser cannot parse abi-4.0 policy at all (`userns,` is a syntax error
# to it, with -R too, which parses the file for the names it unloads):
#   -r FILE  loads the policy the 4.x parser compiled on the host from FILE as the same commands left it there
#            (/lab/fixes/SCENARIO/FILE.bin), with 3.0.8's loader (-B), replacing the loaded profile as -r does;
#   -R FILE  unloads, through .remove as -R does, the profiles FILE defines (listed by the 4.x parser on the host,
#            /lab/fixes/SCENARIO/FILE.names).
# OUTDIR gets /etc/apparmor.d before and after, each command's exit status and output, and what was loaded
# and unloaded; expect.py compares them with the host's run of the same commands.
sc=$1 out=$2
fx=/lab/fixes/$sc
AA=/etc/apparmor.d
mkdir -p "$out"
: > "$out/actions"; : > "$out/status"; : > "$out/log"
apparmor_parser() {
  if [ $# != 2 ]; then echo "apparmor_parser $*: not emulated by the lab" >> "$out/actions"; return 2; fi
  case "$2" in "$AA"/*) r=${2#"$AA"/} ;; *) echo "apparmor_parser $*: outside $AA" >> "$out/actions"; return 2 ;; esac
  case "$1" in
    -r)
      if [ ! -f "$fx/$r.bin" ]; then echo "load $r: not compiled on the host" >> "$out/actions"; return 1; fi
      if ! /sbin/apparmor_parser --config-file=/dev/null -r -B "$fx/$r.bin" >> "$out/log" 2>&1; then
        echo "load $r: failed" >> "$out/actions"; return 1
      fi
      echo "load $r" >> "$out/actions" ;;
    -R)
      if [ ! -f "$fx/$r.names" ]; then echo "unload $r: not listed on the host" >> "$out/actions"; return 1; fi
      while read -r n; do
        if ! printf '%s' "$n" > /sys/kernel/security/apparmor/.remove 2>> "$out/log"; then
          echo "unload $n: failed" >> "$out/actions"; return 1
        fi
        echo "unload $n" >> "$out/actions"
      done < "$fx/$r.names" ;;
    *) echo "apparmor_parser $*: not emulated by the lab" >> "$out/actions"; return 2 ;;
  esac
}
cp -a "$AA" "$out/before"
while IFS= read -r cmd; do
  echo "\$ $cmd" >> "$out/log"
  eval "$cmd" < /dev/null >> "$out/log" 2>&1
  printf '%s\t%s\n' "$?" "$cmd" >> "$out/status"
done < "$fx.cmds"
cp -a "$AA" "$out/after"
