#!/usr/bin/env bash
# Builds the libFuzzer targets (test/fuzz) with clang in ./build-fuzz and runs
# each one, one after the other, for FUZZ_SECONDS on a work copy of its seed
# corpus (the repository is not modified). Not part of scripts/test.sh: a full
# run takes about FUZZ_SECONDS x 11 plus the build (docs/fuzzing.md).
#
# Usage: scripts/fuzz.sh [target ...]         (default: every target in test/fuzz/corpus.txt)
# Environment:
#   FUZZ_SECONDS   time per target (default 60)
#   FUZZ_RSS_MB    libFuzzer -rss_limit_mb, also the malloc limit (default 2048)
#   FUZZ_TIMEOUT   seconds one input may take before it counts as a hang (default 10)
#   FUZZ_JOBS      parallel compile jobs for the build (default 2)
#   FUZZ_WORK      work dir (default build-fuzz/work): <target>/corpus grows
#                  across runs, <target>/artifacts keeps crash, leak and
#                  timeout inputs, <target>/log the fuzzer's output
# Exits non-zero when a target crashed, leaked, hung or went over the memory
# limit; the input is kept in <target>/artifacts and named in the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

seconds=${FUZZ_SECONDS:-60}
rss_mb=${FUZZ_RSS_MB:-2048}
timeout=${FUZZ_TIMEOUT:-10}
jobs=${FUZZ_JOBS:-2}
work=${FUZZ_WORK:-$root/build-fuzz/work}

command -v clang++ >/dev/null || { echo "fuzz.sh: clang++ not found (bash scripts/setup.sh installs it)" >&2; exit 2; }

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(sed 's/#.*//' test/fuzz/corpus.txt | awk 'NF >= 2 { print $1 }' | awk '!seen[$0]++')
fi

launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
if [ ! -f build-fuzz/CMakeCache.txt ]; then
  cmake -S . -B build-fuzz -DHMC_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang "${launcher[@]}" >/dev/null
fi
build_start=$(date +%s)
cmake --build build-fuzz -j"$jobs" --target "${targets[@]/#/fuzz_}"
echo "fuzz.sh: build took $(( $(date +%s) - build_start )) s"

# The dictionary of a target, by the kind of text it reads.
dict_of() {
  case "$1" in
    cluster_config|controller_settings) echo "$root/test/fuzz/dict/yaml.dict" ;;
    heron_*) ;;  # protobuf bytes: no useful tokens
    *) echo "$root/test/fuzz/dict/json.dict" ;;
  esac
}

# Seeds from corpus.txt and the target's regressions, copied into its work corpus.
seed() {
  local target=$1 dest=$2 pattern f
  mkdir -p "$dest"
  while read -r name pattern; do
    [ "$name" = "$target" ] || continue
    for f in $root/$pattern; do
      [ -f "$f" ] && cp "$f" "$dest/seed-$(basename "$f")"
    done
  done < <(sed 's/#.*//' test/fuzz/corpus.txt | awk 'NF >= 2')
  for f in "$root/test/fuzz/regressions/$target"/*; do
    [ -f "$f" ] && cp "$f" "$dest/regression-$(basename "$f")"
  done
  return 0
}

status=0
summary=()
for target in "${targets[@]}"; do
  dir=$work/$target
  rm -rf "$dir/artifacts"
  mkdir -p "$dir/artifacts"
  seed "$target" "$dir/corpus"
  args=(-max_total_time="$seconds" -rss_limit_mb="$rss_mb" -malloc_limit_mb="$rss_mb"
        -timeout="$timeout" -print_final_stats=1 -artifact_prefix="$dir/artifacts/")
  dict=$(dict_of "$target")
  [ -n "$dict" ] && args+=(-dict="$dict")
  echo "fuzz.sh: $target for ${seconds}s ($(ls "$dir/corpus" | wc -l) inputs in the corpus)"
  start=$(date +%s)
  rc=0
  # detect_leaks stays on (the default under ASan): a leak is a finding too.
  ASAN_OPTIONS=${ASAN_OPTIONS:-abort_on_error=1:detect_leaks=1} \
  UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
    "$root/build-fuzz/test/fuzz/fuzz_$target" "${args[@]}" "$dir/corpus" >"$dir/log" 2>&1 || rc=$?
  took=$(( $(date +%s) - start ))
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -1)
  [ -n "$execs" ] || execs=$(sed -n 's/^Done \([0-9]*\) runs.*/\1/p' "$dir/log" | tail -1)
  cov=$(grep -o 'cov: [0-9]*' "$dir/log" | tail -1 | cut -d' ' -f2)
  corpus=$(ls "$dir/corpus" | wc -l)
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    status=1
    found=$(ls "$dir/artifacts" 2>/dev/null | tr '\n' ' ')
    result="FAILED (exit $rc): ${found:-no artifact} in $dir/artifacts; see $dir/log"
    grep -m3 -E 'ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|runtime error|fuzz invariant broken' "$dir/log" || true
  fi
  summary+=("$(printf '%-22s %6ss %12s execs  cov %6s  corpus %6s  %s' "$target" "$took" "${execs:-?}" "${cov:-?}" "$corpus" "$result")")
  echo "${summary[-1]}"
done

echo
echo "fuzz.sh: summary (FUZZ_SECONDS=$seconds)"
printf '%s\n' "${summary[@]}"
exit "$status"
