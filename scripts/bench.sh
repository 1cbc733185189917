#!/usr/bin/env bash
# The benchmark suite: builds a release, measures the machine's limits, runs ringlogd under
# `ringlog bench` (produce, e2e, partition scaling) and a librdkafka producer for comparison,
# and writes bench/results/<date>/report.md with JSON and plots. About 5-10 minutes on a
# 2-core machine. Not part of scripts/test.sh: benchmarks report, tests decide.
#   scripts/bench.sh [--out DIR] [suite flags: --duration S --repeats N --no-profile ...]
set -euo pipefail
cd "$(dirname "$0")/.."
out="bench/results/$(date -u +%Y-%m-%d-%H%M)"
args=()
while [ $# -gt 0 ]; do
    case "$1" in
        --out) out="$2"; shift 2 ;;
        *) args+=("$1"); shift ;;
    esac
done
# The C librdkafka comparison needs librdkafka's headers (a benchmark-only dependency).
if [ ! -f /usr/include/librdkafka/rdkafka.h ] && [ "$(id -u)" = 0 ]; then
    apt-get install -y -q librdkafka-dev >/dev/null || echo "bench: no librdkafka-dev, C comparison skipped"
fi
build=build/release
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build "$build" -j2 --target ringlog ringlogd
mkdir -p "$out"
/usr/bin/python3 scripts/bench/suite.py --build "$build" --out "$out" "${args[@]}" 2>&1 | tee "$out/bench.log"
