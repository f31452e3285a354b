# shellcheck shell=sh
# Sourced by lab.sh and check-fails: the host state an "-apply" or "-rollback" case compares across a fix.
#
# snap PREFIX: writes PREFIX.tree, PREFIX.sysctl and PREFIX.profiles:
#   .tree      every entry under the trees of $SNAP_TREES (words NAME=DIR: DIR listed as NAME, e.g.
#              /etc/apparmor.d=/lab/ubuntu/apparmor.d), one per line: `TYPE MODE SHA256|TARGET PATH`, a link with
#              its target, a directory with `-`;
#   .sysctl    the namespace sysctls the lab sets;
#   .profiles  the policy loaded in the kernel (/sys/kernel/security/apparmor/profiles: name and mode).
tree_list() { # NAME DIR (one stat and one sha256sum for the whole tree: each exec counts under TCG)
  find "$2" -mindepth 1 -type f -exec sha256sum {} + > /tmp/.snap-sums
  find "$2" -mindepth 1 -exec stat -c '%F|%a|%n|%N' {} + |
    awk -F'|' -v name="$1" -v dir="$2" '
      BEGIN { while ((getline l < "/tmp/.snap-sums") > 0) sha[substr(l, 67)] = substr(l, 1, 64) }
      {
        n = name substr($3, length(dir) + 1)
        if ($1 == "symbolic link") { t = $4; sub(/^.*\047 -> \047/, "", t); sub(/\047$/, "", t); print "link", $2, t, n }
        else if ($1 == "directory") print "dir", $2, "-", n
        else print "file", $2, sha[$3], n
      }'
}
snap() {
  for t in $SNAP_TREES; do tree_list "${t%%=*}" "${t#*=}"; done | sort > "$1.tree"
  # (cat, not the shell's byte-wise read: an integer sysctl gives EOF to a read at a non-zero offset, kernel/sysctl.c)
  cat /proc/sys/kernel/unprivileged_userns_clone /proc/sys/user/max_user_namespaces /proc/sys/user/max_net_namespaces |
    { read -r a; read -r b; read -r c
      printf 'kernel.unprivileged_userns_clone = %s\nuser.max_user_namespaces = %s\nuser.max_net_namespaces = %s\n' "$a" "$b" "$c"
    } > "$1.sysctl"
  sort /sys/kernel/security/apparmor/profiles > "$1.profiles"
}
