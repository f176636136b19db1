#!/usr/bin/env bash
# The main job: builds hue and runs the colored demo (the SWS web server takes its place once it
# lands).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/bootstrap.sh
dir=$(scripts/build.sh release)
exec "$dir/apps/demo/hue-demo" "$@"
