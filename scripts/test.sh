#!/usr/bin/env bash
# Installs what is missing, checks formatting, builds (release, then ASan+UBSan) and runs every
# test. Fails loudly on the first problem. Usage: scripts/test.sh [--quick] (no sanitizer pass).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ringlog_install_deps

quick=0
[ "${1:-}" = "--quick" ] && quick=1
jobs=$(nproc)
start=$(date +%s)
mkdir -p build
rm -f build/ctest-*.log  # the closing count below sums only this run's logs

echo "== format check"
scripts/check_format.sh
scripts/tidy.sh

echo "== release build"
cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release -DRINGLOG_WERROR=ON >/dev/null
cmake --build build/release -j"$jobs"
echo "== release tests"
ctest --test-dir build/release --output-on-failure -j"$jobs" --timeout 900 | tee build/ctest-release.log

if [ "$quick" -eq 0 ]; then
    # Without DPDK: CI builds and tests both ways (the release build has it, this one the stub,
    # so the datagram transport is tested over kernel UDP alone here).
    echo "== sanitizer build (ASan + UBSan, without DPDK)"
    cmake -S . -B build/sanitize -G Ninja -DCMAKE_BUILD_TYPE=Debug -DRINGLOG_WERROR=ON \
        -DRINGLOG_SANITIZE=ON -DRINGLOG_BENCH=OFF -DRINGLOG_DPDK=OFF >/dev/null
    cmake --build build/sanitize -j"$jobs"
    echo "== sanitizer tests"
    ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
        ctest --test-dir build/sanitize --output-on-failure -j"$jobs" --timeout 900 \
        | tee build/ctest-sanitize.log
fi

if [ -x scripts/fuzz.sh ]; then
    echo "== fuzz (short, fixed time)"
    scripts/fuzz.sh "${RINGLOG_FUZZ_SECONDS:-60}"
fi

# One closing line over both builds, in the plain form CI reads: "tests: N passed, 0 failed".
passed=0
for log in build/ctest-*.log; do
    count=$(sed -n 's/.*tests passed, 0 tests failed out of \([0-9]*\).*/\1/p' "$log" | tail -1)
    passed=$(( passed + ${count:-0} ))
done
echo "== all tests passed in $(( $(date +%s) - start )) s"
echo "tests: ${passed} passed, 0 failed"
