#!/usr/bin/env bash
# The whole test suite, as CI runs it: release build, AddressSanitizer + UndefinedBehaviorSanitizer
# build, and the concurrency tests under ThreadSanitizer. Fails on the first failing stage.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh

run() {  # run <flavour> [meson test args...]
  local flavour=$1; shift
  echo "== $flavour: building"
  local dir; dir=$(scripts/build.sh "$flavour")
  echo "== $flavour: testing"
  meson test -C "$dir" --print-errorlogs --num-processes 2 "$@"
}

export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export TSAN_OPTIONS=halt_on_error=1:second_deadlock_stack=1

run release

# What a user does: install, then build a program with pkg-config alone (the README's example).
echo "== install: building the README example against an installed hue"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
meson install -C build/release --destdir "$stage" >/dev/null
pcdir=$(dirname "$(find "$stage" -name hue.pc | head -1)")
PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$stage \
  sh -c 'c++ -O2 apps/demo/readme_example.cpp $(pkg-config --cflags --libs hue) -o "$0/example"' "$stage"
"$stage/example"

# The libasync compatibility layer the same way: a libasync-style program built with
# `pkg-config hue-async`, against the installed files and against the build tree's
# meson-uninstalled/hue-async-uninstalled.pc.
echo "== install: building a libasync-style program against hue-async (installed, uninstalled)"
PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$stage \
  sh -c 'c++ -O2 tests/async_pkgconfig_prog.C $(pkg-config --cflags --libs hue-async) -o "$0/async_example"' "$stage"
PKG_CONFIG_PATH=$PWD/build/release/meson-uninstalled \
  sh -c 'c++ -O2 tests/async_pkgconfig_prog.C $(pkg-config --cflags --libs hue-async) -o "$0/async_example_tree"' "$stage"
for prog in async_example async_example_tree; do
  out=$("$stage/$prog" 2>&1)
  echo "$out" | grep -qx 'async pkg-config example: ok 510' || { echo "$prog printed: $out"; exit 1; }
done
# And with CMake alone: find_package(hue) from the installed package config (cmake/), the README
# example against hue::hue and the libasync-style program against hue::async.
echo "== install: building the same two programs with CMake (find_package(hue))"
cmake -S tests/cmake_consumer -B "$stage/cmake" -Dhue_DIR="$(dirname "$(find "$stage" -name hueConfig.cmake | head -1)")" \
  -DCMAKE_BUILD_TYPE=Release >"$stage/cmake.log" 2>&1 || { cat "$stage/cmake.log"; exit 1; }
cmake --build "$stage/cmake" >>"$stage/cmake.log" 2>&1 || { cat "$stage/cmake.log"; exit 1; }
"$stage/cmake/readme_example" >/dev/null
out=$("$stage/cmake/async_example" 2>&1)
echo "$out" | grep -qx 'async pkg-config example: ok 510' || { echo "CMake async_example printed: $out"; exit 1; }
# The event loop too: apps/async/async_timer.C (async.h, aios.h, timecb, sigcb)
# built against the installed hue-async, run for 3 ticks.
PKG_CONFIG_PATH=$pcdir PKG_CONFIG_SYSROOT_DIR=$stage \
  sh -c 'c++ -O2 apps/async/async_timer.C $(pkg-config --cflags --libs hue-async) -o "$0/async_timer"' "$stage"
out=$("$stage/async_timer" 3 10)
[ "$out" = "$(printf 'tick 1\ntick 2\ntick 3\ndone 3')" ] || { echo "async_timer printed: $out"; exit 1; }

# The main-job command: SWS starts on the bundled root, serves a page, stops on SIGTERM.
echo "== demo: scripts/demo.sh --check"
scripts/demo.sh --check --quiet

run asan
# TSan maps fixed shadow ranges; with high ASLR entropy (vm.mmap_rnd_bits > 28) they can collide
# with the randomized layout. `setarch -R` turns ASLR off for the test processes only.
run tsan --suite concurrency --wrapper "setarch $(uname -m) -R"
echo "== all tests passed"
