#!/usr/bin/env bash
# Installs what hue builds with, from Debian 12's packages, when it is missing, then the trace
# viewer test's pinned npm packages. Needs root (or sudo) only when a Debian package is missing; a
# second run changes nothing. Extra package names given as arguments are installed the same way
# (tools/bench-all.sh asks for its plotting library).
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config git
  cmake                     # the install test builds against hue's CMake package (find_package)
  libevent-dev libhwloc-dev libgoogle-perftools-dev libgtest-dev libgmock-dev
  libbenchmark-dev libcli11-dev  # Google Benchmark for microbench/, CLI11 for every program's options
  libboost-dev libtbb-dev   # Boost.Asio and oneTBB, for the peer columns of the benchmarks only
  libsodium-dev             # SFS cryptography (apps/sfs)
  liburing-dev              # the reactor's io_uring backend (optional: without it, epoll only)
  # Test clients and peers the suite drives: an independent Noise implementation, the Prometheus
  # text parser, a real browser, a load balancer, OpenSSH's sftp for the SFS race.
  python3-dissononce python3-prometheus-client chromium-headless-shell haproxy
  openssh-server openssh-sftp-server
  libpcre2-dev              # rxx.h, the libasync compatibility layer's regular expressions
  nlohmann-json3-dev        # the trace test reads the Chrome trace-event JSON back (tests/test_trace.cpp)
  doxygen                   # the API reference (scripts/api-docs.sh), checked by the suite
)

# node and npm for the trace viewer test (tools/trace/viewer/): Debian's nodejs and npm, unless a
# node with its own npm is installed already (another vendor's nodejs package provides npm and
# conflicts with Debian's).
command -v npm >/dev/null || packages+=(nodejs npm)

packages+=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "hue: installing Debian packages: ${missing[*]}"
  as_root=()
  [ "$(id -u)" -ne 0 ] && as_root=(sudo)
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# From the npm registry, as the calling user, into a cache outside the repository: speedscope and
# playwright-core at the versions tools/trace/viewer/package-lock.json pins (trace_speedscope).
# Not fatal: without the registry, only that test skips (and says why).
"$(dirname "$0")/../tools/trace/viewer/install.sh" ||
  echo "hue: the trace viewer is not installed; trace_speedscope will skip" >&2
