#!/bin/bash
# Installs the Debian packages sipline needs to build and test. Idempotent and
# fast when nothing is missing: it asks dpkg which packages are absent and only
# then runs `apt-get update` once and installs just those.
# Works as root on a fresh Debian 12 (uses sudo when not root).
set -euo pipefail

build_packages=(
  cmake ninja-build g++ pkg-config
  libsofia-sip-ua-dev libsofia-sip-ua-glib-dev libsrtp2-dev libc-ares-dev libnice-dev
  libspandsp-dev libspeexdsp-dev libgtest-dev libgmock-dev googletest libbenchmark-dev libglib2.0-dev
  libtomlplusplus-dev nlohmann-json3-dev libspdlog-dev libfmt-dev libcli11-dev
  libexpected-dev libsqlite3-dev libssl-dev
  dahdi-source
)
# dahdi-source: the only Debian 12 package with the DAHDI userspace header
# /usr/include/dahdi/user.h, for the dahdi driver (drivers/src/dahdi). It
# also drops the kernel source tarball in /usr/src and pulls in debhelper and
# module-assistant; nothing is built or loaded from it.
# knot/knot-dnsutils: knotd, knotc and kdig for the ENUM end-to-end tests
# (tests/harness/knot_server.hpp). Installing knot also enables Debian's
# knot.service where systemd runs; its stock /etc/knot/knot.conf listens on
# nothing, and the tests never use it: each test runs its own knotd with its
# own config, port, rundir and control socket, so a system knotd (even one
# someone configured on port 53) neither conflicts nor is needed.
# sipvicious: the scanner runs (svmap, svwar, svcrack); openssl: test CAs and
# certificates for SIP over TLS; tshark: packet captures proving SRTP hides the audio.
# espeak-ng: real speech for the echo canceller tests (tests/component/echo_test.cpp).
test_packages=(sip-tester baresip sox minimodem multimon-ng iproute2 valgrind knot knot-dnsutils
               sipvicious openssl tshark espeak-ng)

# One dpkg-query for all: it prints "name status" for every package it knows.
all=("${build_packages[@]}" "${test_packages[@]}")
installed=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${all[@]}" 2>/dev/null \
  | awk '$2 == "installed" { print $1 }' || true)
missing=()
for pkg in "${all[@]}"; do
  if ! grep -qxF "$pkg" <<<"$installed"; then
    missing+=("$pkg")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  exit 0
fi

echo "setup: installing ${missing[*]}" >&2
sudo=()
if [[ $(id -u) -ne 0 ]]; then
  sudo=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
