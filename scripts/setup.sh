#!/usr/bin/env bash
# Installs every dependency of the controller, its tools and its tests from
# Debian 12 packages. Idempotent: when everything is present it only checks.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev libboost-program-options1.81-dev
  libssl-dev
  libprotobuf-dev protobuf-compiler
  clang libclang-rt-dev
  libyaml-cpp-dev
  libzookeeper-mt-dev zookeeper default-jre-headless
  libssh2-1-dev openssh-server openssh-client
  prometheus-cpp-dev prometheus
  googletest libgtest-dev libgmock-dev
  python3 python3-marathon python3-requests
  python3-pystache
  python3-jsonschema
  curl procps
  iproute2
  libarchive-dev
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The Debian packages start system daemons where an init system runs; the
  # project starts its own instances on free loopback ports instead.
  for svc in prometheus ssh zookeeper; do
    $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
  done
fi
