#!/bin/sh
# The folders of lib/ are layers (lib/layers.txt): each reaches only the folders listed for it,
# by #include "folder/..." and by link-time references between their objects (nm of the built
# archives), and the list itself has no cycle.
#   check_layers.sh LAYERS LIB_DIR [ARCHIVE...]   checks the tree (the test suite runs it)
#   check_layers.sh --self-test LAYERS            shows that a planted upward include and a
#                                                 planted upward call are both caught
# Also: the public headers (LIB_DIR/../include/hue) name lib/'s internals only as opaque types.
# An archive's members belong to the folder their name starts with (lib/libhue.a: core_idle.cpp.o
# is lib/core), or, for an archive built inside a folder (lib/async/libhue_async.a), to that folder.
set -eu

allowed() {  # allowed LAYERS: "from to" per allowed edge, "from from" for every folder
  sed 's/#.*//' "$1" | awk 'NF { print $1, $1; for (i = 2; i <= NF; ++i) print $1, $i }'
}

include_edges() {  # include_edges LIB_DIR
  for dir in "$1"/*/; do
    from=$(basename "$dir")
    grep -ho '^#include "[a-z_]*/' "$dir"* 2>/dev/null | sed 's/#include "//; s/\///' | sort -u |
      while read -r to; do echo "$from $to"; done
  done
}

link_edges() {  # link_edges ARCHIVE...: "from to" for each symbol one folder uses and another defines
  for a in "$@"; do
    dir=$(basename "$(dirname "$a")")
    nm -A "$a" 2>/dev/null | awk -v dir="$dir" '{ split($1, p, ":"); print dir, p[2], $0 }'
  done | awk '
    { f = $2; if ($1 == "lib") sub(/_.*/, "", f); else f = $1
      if (NF == 5 && $4 ~ /^[TDBR]$/) def[$5] = f
      else if (NF == 5 && $4 == "U") { n++; user[n] = f; sym[n] = $5 } }
    END { for (i = 1; i <= n; ++i) if ((sym[i] in def) && def[sym[i]] != user[i])
            print user[i], def[sym[i]], sym[i] }'
}

check() {  # check LAYERS LIB_DIR [ARCHIVE...]
  layers=$1 lib=$2; shift 2
  ok=$(allowed "$layers")
  if ! echo "$ok" | tsort >/dev/null 2>&1; then echo "$layers has a cycle"; return 1; fi
  bad=0
  for f in "$lib"/*/; do
    f=$(basename "$f")
    echo "$ok" | grep -q "^$f $f\$" || { echo "lib/$f is not in $layers"; bad=1; }
  done
  # The public headers name internals only as opaque types (a pimpl's pointer, declared there and
  # never defined): nothing of lib/ can be called or read through them.
  for h in "$lib"/../include/hue/*.hpp; do
    [ -f "$h" ] || continue
    for name in $(grep -o 'internal::[A-Za-z_]*' "$h" | sed 's/internal:://' | sort -u); do
      grep -Eq "^(struct|class) $name;" "$h" ||
        { echo "$(basename "$h") names internal::$name, which is not an opaque type"; bad=1; }
    done
  done
  include_edges "$lib" | sort -u > "$tmp/inc"
  while read -r from to; do
    echo "$ok" | grep -q "^$from $to\$" || { echo "lib/$from includes lib/$to: not allowed by $layers"; bad=1; }
  done < "$tmp/inc"
  [ $# -eq 0 ] && return $bad
  link_edges "$@" > "$tmp/link"
  [ -s "$tmp/link" ] || { echo "no link-time references read from: $*"; return 1; }
  while read -r from to sym; do
    if ! echo "$ok" | grep -q "^$from $to\$"; then
      echo "lib/$from uses $(echo "$sym" | c++filt) from lib/$to: not allowed by $layers"; bad=1
    fi
  done < "$tmp/link"
  return $bad
}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ "${1:-}" = "--self-test" ]; then
  layers=$2
  # A tree where core includes runtime, and a core object that calls a runtime function.
  mkdir -p "$tmp/plant/lib/core" "$tmp/plant/lib/runtime"
  echo '#include "runtime/up.hpp"' > "$tmp/plant/lib/core/down.cpp"
  : > "$tmp/plant/lib/runtime/up.hpp"
  if out=$(check "$layers" "$tmp/plant/lib" 2>&1); then
    echo "self-test: a planted upward include passed"; exit 1
  fi
  echo "$out" | grep -q "lib/core includes lib/runtime" || { echo "self-test: $out"; exit 1; }
  rm "$tmp/plant/lib/core/down.cpp"
  echo 'namespace hue { void up(); void down() { up(); } }' > "$tmp/core_down.cpp"
  echo 'namespace hue { void up() {} }' > "$tmp/runtime_up.cpp"
  (cd "$tmp" && c++ -c core_down.cpp -o core_down.cpp.o && c++ -c runtime_up.cpp -o runtime_up.cpp.o &&
   ar rc plant/lib/libplant.a core_down.cpp.o runtime_up.cpp.o)
  if out=$(check "$layers" "$tmp/plant/lib" "$tmp/plant/lib/libplant.a" 2>&1); then
    echo "self-test: a planted upward call passed"; exit 1
  fi
  echo "$out" | grep -q "lib/core uses hue::up() from lib/runtime" || { echo "self-test: $out"; exit 1; }
  echo "self-test: both planted upward edges were caught"
  exit 0
fi

check "$@"
