#!/usr/bin/env bash
# Installs the trace viewer the trace_speedscope test drives (speedscope's static page and
# playwright-core, pinned with their hashes in package-lock.json) from the npm registry into a
# folder outside the repository, so the test itself never needs the network.
#   tools/trace/viewer/install.sh [DIR]
# DIR: $HUE_TRACE_VIEWER, else ${XDG_CACHE_HOME:-~/.cache}/hue/trace-viewer (where the test looks).
# A second run with the same lock file changes nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dir=${1:-${HUE_TRACE_VIEWER:-${XDG_CACHE_HOME:-$HOME/.cache}/hue/trace-viewer}}
command -v npm >/dev/null || { echo "hue: npm is missing (Debian: apt-get install npm)" >&2; exit 1; }
mkdir -p "$dir"
if cmp -s "$here/package-lock.json" "$dir/package-lock.json" && [ -d "$dir/node_modules/speedscope" ] &&
   [ -d "$dir/node_modules/playwright-core" ]; then
  exit 0
fi
cp "$here/package.json" "$here/package-lock.json" "$dir/"
# npm ci: exactly the lock file's versions, checked against its integrity hashes. Debian's node
# trusts its own bundle of root certificates, not the system's: on a machine whose traffic goes
# through a proxy with a local authority (installed into the system's store), it needs the
# system's bundle named.
ca=()
[ -r /etc/ssl/certs/ca-certificates.crt ] && ca=(--cafile /etc/ssl/certs/ca-certificates.crt)
(cd "$dir" && npm ci --no-audit --no-fund --loglevel=error "${ca[@]}" >/dev/null)
echo "hue: trace viewer (speedscope, playwright-core) installed in $dir"
