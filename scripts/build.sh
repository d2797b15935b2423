#!/usr/bin/env bash
# Configures and builds the project in ./build (Release with debug info).
# Usage: scripts/build.sh [cmake --build args, e.g. --target heron-marathon-controller]
set -euo pipefail
cd "$(dirname "$0")/.."
werror=OFF
[ "${CI:-}" = "true" ] && werror=ON
if [ ! -f build/CMakeCache.txt ]; then
  cmake -S . -B build -DHMC_WERROR="$werror" >/dev/null
fi
cmake --build build -j"$(nproc)" "$@"
