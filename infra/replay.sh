#!/usr/bin/env bash
# What the WACZ replay test needs (tests/rti/replay.py): a headless Chromium from Debian's
# packages, and ReplayWeb.page (the `replaywebpage` package of the npm registry, whose ui.js and
# sw.js hold the wabac.js service worker) at a pinned version with its registry integrity
# checked, unpacked once into $SANGRAH_CACHE/replaywebpage/ and kept between runs.
# Playwright's own browser download is not used: the test drives this Chromium.
#
#   infra/replay.sh install   install what is missing; print the ReplayWeb.page directory
#   infra/replay.sh status    print it (exit 0) if both are installed; exit 3 otherwise
#
# Environment:
#   SANGRAH_CACHE   cache root (default: <repo>/.cache)
set -euo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
cache="${SANGRAH_CACHE:-$root/.cache}/replaywebpage"
# The version the test was last run green with; the integrity is the registry's dist.integrity
# for it (npm view replaywebpage@VERSION dist.integrity).
version="2.5.3"
integrity="sha512-nCj2PSON3BxeSJKE8AsYPyULv0XPZKJWfy4l9PyQre9SqwLZ+WKZVs/sfLqPOQ4GrH+0YkjbwOhr8cSTH08gsQ=="
dir="$cache/$version"
service_label=replay
# shellcheck source=infra/lib/service.sh
. "$root/infra/lib/service.sh"

installed() {
  [ -f "$dir/complete" ] && command -v chromium >/dev/null 2>&1
}

apt_install() {
  command -v apt-get >/dev/null 2>&1 || die "$1 not found and there is no apt-get here; install $1 and run this again"
  say "installing $* from Debian's packages"
  # the package lists of a fresh machine are empty: read them once before the first install
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1; then
    apt-get update -qq >/dev/null || die "apt-get update failed; run it by hand, then this again"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null ||
      die "apt-get install $* failed; run it by hand to see why"
  fi
}

install_replaywebpage() {
  local partial tarball actual
  command -v npm >/dev/null 2>&1 || apt_install npm
  partial="$dir.partial"
  rm -rf "$partial"
  mkdir -p "$partial"
  say "fetching replaywebpage@$version from the npm registry"
  # --ignore-scripts: only the built files are wanted, nothing of the package is run here
  (cd "$partial" && npm pack --silent --ignore-scripts "replaywebpage@$version" >/dev/null) ||
    die "npm pack replaywebpage@$version failed"
  tarball="$partial/replaywebpage-$version.tgz"
  actual="sha512-$(openssl dgst -sha512 -binary "$tarball" | base64 -w0)"
  [ "$actual" = "$integrity" ] || die "replaywebpage-$version.tgz has integrity $actual, not the pinned $integrity; not used"
  tar -xzf "$tarball" -C "$partial" package/ui.js package/sw.js package/LICENSE
  mv "$partial/package"/* "$partial/"
  rmdir "$partial/package"
  rm -f "$tarball"
  mv "$partial" "$dir"
  touch "$dir/complete"
  # older versions are dead weight
  find "$cache" -mindepth 1 -maxdepth 1 ! -name "$version" -exec rm -rf {} +
}

case "${1:-install}" in
  install)
    command -v chromium >/dev/null 2>&1 || apt_install chromium
    [ -f "$dir/complete" ] || install_replaywebpage
    echo "$dir"
    ;;
  status)
    installed || exit 3
    echo "$dir"
    ;;
  *)
    echo "usage: $0 install|status" >&2
    exit 2
    ;;
esac
