#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds, runs every unit and
# integration test (real ZooKeeper, marathon-sim, sshd, Prometheus are started
# by the tests themselves on free loopback ports).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
cd build
# Integration tests each start their own servers on free ports: two at a time
# fits a 2-core machine.
ctest --output-on-failure -j2 --timeout 600 "$@"
