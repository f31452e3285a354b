# shellcheck shell=bash
# Package fetching shared by tests/kernel-lab/run and tests/artifacts/check (sourced, not executed).
#
# Everything is downloaded with `apt-get download` and unpacked with `dpkg-deb -x` under one cache directory;
# nothing is installed except, on request, plain shared libraries (nsd_apt_install_missing, always
# --no-upgrade). Never `apt-get install qemu-system-x86`: on Debian 12 images that carry the qemu-utils 10
# backport, apt would remove it (measured on Debian 12 with the qemu-utils 10 backport).
#
# Cached runs make no network access: a package whose .deb is already in the cache is not looked up again.

NSD_CACHE=${NSDOCTOR_LAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/nsdoctor-kernel-lab}
NSD_APT_UPDATED=0

nsd_log() { printf '[%s %s] %s\n' "${NSD_LOG_TAG:-nsdoctor-lab}" "$(date +%T)" "$*" >&2; }

# The archive URL the host's apt already uses for its Debian release (so a CI mirror is honoured); set
# NSDOCTOR_DEBIAN_MIRROR when apt has none configured.
nsd_debian_mirror() {
  if [ -n "${NSDOCTOR_DEBIAN_MIRROR:-}" ]; then echo "$NSDOCTOR_DEBIAN_MIRROR"; return; fi
  local codename m=""
  codename=$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-bookworm}")
  m=$(apt-get indextargets --format '$(SITE) $(RELEASE)' 2>/dev/null | awk -v c="$codename" '$2 == c {print $1; exit}')
  if [ -z "$m" ]; then
    nsd_log "no Debian archive configured for apt; set NSDOCTOR_DEBIAN_MIRROR"
    return 1
  fi
  echo "$m"
}

nsd_apt_update_once() {
  [ "$NSD_APT_UPDATED" = 1 ] && return 0
  NSD_APT_UPDATED=1
  nsd_log "apt-get update"
  apt-get update -qq >/dev/null 2>&1 || nsd_log "apt-get update failed (continuing with the lists we have)"
}

# nsd_fetch DIR PKG [APT OPTIONS...] -> prints the path of PKG's .deb in DIR (cached .deb reused as is).
nsd_fetch() {
  local dir=$1 pkg=$2; shift 2
  mkdir -p "$dir"
  local have
  have=$(ls -1 "$dir/${pkg}"_*.deb 2>/dev/null | sort -V | tail -1)
  if [ -n "$have" ]; then echo "$have"; return 0; fi
  local try
  for try in 1 2; do
    if (cd "$dir" && apt-get "$@" -o APT::Sandbox::User=root download -q "$pkg" >/dev/null 2>&1); then
      have=$(ls -1 "$dir/${pkg}"_*.deb 2>/dev/null | sort -V | tail -1)
      [ -n "$have" ] && { echo "$have"; return 0; }
    fi
    [ "$try" = 1 ] || break
    if [ $# -gt 0 ]; then apt-get "$@" update -qq >/dev/null 2>&1 || true; else nsd_apt_update_once; fi
  done
  nsd_log "cannot download $pkg"
  return 1
}

# nsd_unpack DEB DEST: dpkg-deb -x into DEST once (a stamp names the .deb), so cached runs skip the unpack.
nsd_unpack() {
  local deb=$1 dest=$2
  if [ -f "$dest/.nsd-unpacked" ] && [ "$(cat "$dest/.nsd-unpacked")" = "$(basename "$deb")" ]; then return 0; fi
  rm -rf "$dest"; mkdir -p "$dest"
  dpkg-deb -x "$deb" "$dest"
  basename "$deb" > "$dest/.nsd-unpacked"
}

# nsd_apt_install_missing PKG...: apt-get install --no-upgrade only the packages that are not installed.
nsd_apt_install_missing() {
  local p missing=()
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  nsd_apt_update_once
  # Refuse anything that would remove a package (qemu-utils 10 was lost that way).
  if apt-get -s install --no-install-recommends --no-upgrade "${missing[@]}" 2>/dev/null | grep -q '^Remv '; then
    nsd_log "refusing: installing ${missing[*]} would remove packages"
    return 1
  fi
  nsd_log "apt-get install --no-upgrade ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends --no-upgrade "${missing[@]}" >/dev/null
}

# AppArmor 4.x parser from Debian 13 (trixie), unpacked and run with trixie's own loader and libc: Debian 12's
# 3.0.8 cannot parse `abi <abi/4.0>` or `userns,`. Sets NSD_AA4 (an array:
# the command to run) and NSD_AA4_BASE (the package's /etc/apparmor.d, for -b). Apt state is private to the cache.
nsd_apparmor4() {
  local d=$NSD_CACHE/aa4
  mkdir -p "$d/lists/partial" "$d/debs"
  if [ ! -f "$d/trixie.sources" ]; then
    local mirror
    mirror=$(nsd_debian_mirror) || return 1
    printf 'Types: deb\nURIs: %s\nSuites: trixie\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
      "$mirror" > "$d/trixie.sources"
  fi
  local apto=(-o "Dir::Etc::SourceList=$d/trixie.sources" -o Dir::Etc::SourceParts=/nonexistent
              -o "Dir::State::Lists=$d/lists" -o "Dir::Cache=$d/cache" -o Acquire::Languages=none)
  local need=0
  ls "$d/debs"/apparmor_*.deb >/dev/null 2>&1 || need=1
  ls "$d/debs"/libc6_*.deb >/dev/null 2>&1 || need=1
  if [ "$need" = 1 ] && ! ls "$d/lists/"*Packages* >/dev/null 2>&1; then
    mkdir -p "$d/cache/archives/partial"
    nsd_log "apt-get update (private trixie lists for the AppArmor 4 parser)"
    apt-get "${apto[@]}" update -qq >/dev/null 2>&1 || { nsd_log "trixie apt-get update failed"; return 1; }
  fi
  local adeb cdeb
  adeb=$(nsd_fetch "$d/debs" apparmor "${apto[@]}") || return 1
  cdeb=$(nsd_fetch "$d/debs" libc6 "${apto[@]}") || return 1
  nsd_unpack "$adeb" "$d/apparmor" && nsd_unpack "$cdeb" "$d/libc" || return 1
  local lib=$d/libc/usr/lib/x86_64-linux-gnu
  NSD_AA4=("$lib/ld-linux-x86-64.so.2" --library-path "$lib" "$d/apparmor/usr/sbin/apparmor_parser" --config-file=/dev/null)
  NSD_AA4_BASE=$d/apparmor/etc/apparmor.d
  NSD_AA4_FEATURES=$d/apparmor/usr/share/apparmor-features/features
  "${NSD_AA4[@]}" --version 2>/dev/null | head -1 | grep -q 'version 4\.' || { nsd_log "AppArmor 4 parser does not run"; return 1; }
}
