#!/usr/bin/env bash
# scripts/install.sh [PREFIX] — builds backfill in release mode and installs it as PREFIX/bin/backfill
# (PREFIX defaults to /usr/local), then prints where and which version.
#   BACKFILL_BINARY=PATH scripts/install.sh PREFIX   installs that binary instead of building one
set -euo pipefail
prefix=${1:-/usr/local}
case "$prefix" in -*) echo "usage: scripts/install.sh [PREFIX]   (default /usr/local)" >&2; exit 2 ;; esac
# Relative paths name places from where the script was run, before it moves to the checkout.
absolute() { case "$1" in /*) printf '%s' "$1" ;; *) printf '%s/%s' "$PWD" "$1" ;; esac; }
[ "$prefix" = / ] || prefix=${prefix%/}
prefix=$(absolute "$prefix")
binary=${BACKFILL_BINARY:-}
[ -z "$binary" ] || binary=$(absolute "$binary")
cd "$(dirname "$0")/.."
if [ -z "$binary" ]; then
  swift build -c release --scratch-path .build-release --product backfill >&2
  binary="$(swift build -c release --scratch-path .build-release --show-bin-path)/backfill"
fi
[ -x "$binary" ] || { echo "install.sh: no backfill binary at $binary" >&2; exit 2; }
if ! mkdir -p "$prefix/bin" 2>/dev/null || [ ! -w "$prefix/bin" ]; then
  echo "install.sh: cannot write to $prefix/bin — run it with sudo, or give a PREFIX you own, e.g. scripts/install.sh ~/.local" >&2
  exit 2
fi
install -m 0755 "$binary" "$prefix/bin/backfill"
echo "installed backfill $("$prefix/bin/backfill" --version) at $prefix/bin/backfill"
case ":$PATH:" in
  *":$prefix/bin:"*) ;;
  *) echo "note: $prefix/bin is not on your PATH; add it with: export PATH=\"$prefix/bin:\$PATH\"" ;;
esac
