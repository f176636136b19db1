#!/usr/bin/env bash
# The API reference, generated from the public headers' comments with doxygen (docs/Doxyfile).
# Fails when a public name is undocumented.
#   scripts/api-docs.sh [OUT]            -> OUT/html/index.html (default build/api)
#   scripts/api-docs.sh --self-test      plants an undocumented function in a copy of the headers
#                                        and shows that the check refuses it
# The per-core counters are fields made by the HUE_CORE_COUNTERS X-macro, which doxygen cannot
# attach comments to: their documentation is generated from the help text in that list, so it is
# still written once.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
command -v doxygen >/dev/null || { echo "api-docs: doxygen is missing (scripts/bootstrap.sh installs it)" >&2; exit 77; }

# run <headers dir> <out dir>: doxygen's warnings on stderr, its status as ours.
run() {
  mkdir -p "$2"
  /usr/bin/python3 - "$1/stats.hpp" "$2/counters.dox" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
body = text[text.index('#define HUE_CORE_COUNTERS(X)'):]
body = body[:body.index('\n\n')].replace('\\\n', ' ')
entries = re.findall(r'X\((\w+),\s*\w+,\s*"[^"]*",\s*"[^"]*",\s*((?:"(?:[^"\\]|\\.)*"\s*)+)\)', body)
if not entries:
    sys.exit('api-docs: no entry read from HUE_CORE_COUNTERS')
with open(sys.argv[2], 'w') as out:
    for field, help_parts in entries:
        help_text = ''.join(re.findall(r'"((?:[^"\\]|\\.)*)"', help_parts))
        out.write(f'/** \\var std::uint64_t hue::core_stats::{field}\n    {help_text} */\n')
PY
  (cd "$repo" && HUE_API_IN=$1 HUE_API_OUT=$2 HUE_API_DOCS=$repo/docs doxygen docs/Doxyfile)
}

if [ "${1:-}" = "--self-test" ]; then
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
  cp -r "$repo/include/hue" "$tmp/hue"
  printf '\nnamespace hue {\nint planted_undocumented(int);\n}\n' >>"$tmp/hue/runtime.hpp"
  if run "$tmp/hue" "$tmp/out" 2>"$tmp/err"; then
    echo "api-docs self-test: an undocumented public function was accepted" >&2
    exit 1
  fi
  grep -q "planted_undocumented" "$tmp/err" || { cat "$tmp/err" >&2; echo "api-docs self-test: failed, but not on the planted name" >&2; exit 1; }
  echo "api-docs self-test: the planted undocumented name was refused"
  exit 0
fi

out=${1:-$repo/build/api}
run "$repo/include/hue" "$out"
echo "API reference: $out/html/index.html"
