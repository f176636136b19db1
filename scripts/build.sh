#!/usr/bin/env bash
# Configures (once) and builds one flavour of hue: release (default), asan or tsan.
#   scripts/build.sh [release|asan|tsan]   -> build/<flavour>
set -euo pipefail
cd "$(dirname "$0")/.."
flavour=${1:-release}
case "$flavour" in
  release) opts=(-Dbuildtype=release) ;;
  # The sanitizers bring their own allocators: tcmalloc is off in those builds.
  asan) opts=(-Dbuildtype=debugoptimized -Db_sanitize=address,undefined -Dtcmalloc=disabled
              -Dmicrobench=disabled) ;;
  tsan) opts=(-Dbuildtype=debugoptimized -Db_sanitize=thread -Dtcmalloc=disabled
              -Dmicrobench=disabled) ;;
  *) echo "usage: $0 [release|asan|tsan]" >&2; exit 2 ;;
esac
dir=build/$flavour
if [ ! -f "$dir/build.ninja" ]; then
  meson setup "$dir" "${opts[@]}" >/dev/null
fi
ninja -C "$dir" >/dev/null
echo "$dir"
