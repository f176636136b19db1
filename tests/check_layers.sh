#!/bin/sh
# The folders of lib/ are layers: their include graph must have no cycle (tsort fails on a loop).
# Run by the test suite; prints the edges on failure.
set -eu
lib=${1:-$(dirname "$0")/../lib}
edges=$(for dir in "$lib"/*/; do
  from=$(basename "$dir")
  grep -ho '^#include "[a-z_]*/' "$dir"* 2>/dev/null | sed 's/#include "//; s/\///' | sort -u |
    while read -r to; do [ "$to" = "$from" ] || echo "$from $to"; done
done)
if ! echo "$edges" | tsort >/dev/null 2>&1; then
  echo "lib/ include graph has a cycle:"; echo "$edges"; exit 1
fi
# lib/trace is the bottom layer (core, steal and reactor record into it): it includes no other.
if grep -l '^#include "[a-z_]*/' "$lib"/trace/* 2>/dev/null; then
  echo "lib/trace includes another layer of lib/ (it must sit below all of them)"; exit 1
fi
