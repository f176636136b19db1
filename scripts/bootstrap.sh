#!/usr/bin/env bash
# Installs what hue builds with, from Debian 12's packages, when it is missing. Needs root (or
# sudo) only when something is missing; a second run changes nothing. Extra package names given as
# arguments are installed the same way (tools/bench-all.sh asks for its plotting library).
set -euo pipefail

packages=(
  g++ meson ninja-build pkg-config git
  cmake                     # the install test builds against hue's CMake package (find_package)
  libevent-dev libhwloc-dev libgoogle-perftools-dev libgtest-dev libgmock-dev
  libbenchmark-dev libcli11-dev  # Google Benchmark for microbench/, CLI11 for every program's options
  libboost-dev libtbb-dev   # Boost.Asio and oneTBB, for the peer columns of the benchmarks only
  libsodium-dev             # SFS cryptography (apps/sfs)
  # Test clients and peers the suite drives: an independent Noise implementation, the Prometheus
  # text parser, a real browser, a load balancer, OpenSSH's sftp for the SFS race.
  python3-dissononce python3-prometheus-client chromium-headless-shell haproxy
  openssh-server openssh-sftp-server
  libpcre2-dev              # rxx.h, the libasync compatibility layer's regular expressions
  nlohmann-json3-dev        # the trace test reads the Chrome trace-event JSON back (tests/test_trace.cpp)
  doxygen                   # the API reference (scripts/api-docs.sh), checked by the suite
)

packages+=("$@")
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "hue: installing Debian packages: ${missing[*]}"
as_root=()
[ "$(id -u)" -ne 0 ] && as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
