#!/usr/bin/env bash
# Builds the Kafka request-decoder fuzzer with clang (libFuzzer coverage, ASan and UBSan) in
# build/fuzz and runs it for N seconds (default 60). Seeds: the recorded client captures
# (../shared/kafka-protocol/captures, if present) and an example frame of every supported
# request version. New corpus entries stay in build/fuzz/corpus between runs. Fails on any
# crash, sanitizer report, leak or timeout; the input that caused it is left in
# build/fuzz/artifacts/ and can be replayed with build/fuzz/tests/fuzz/request_decoder_fuzz FILE.
# Usage: scripts/fuzz.sh [seconds]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
build=build/fuzz

clang=$(command -v clang++-14 || command -v clang++ || true)
if [ -z "$clang" ]; then
    echo "fuzz.sh: clang++ not found (Debian: apt-get install clang)" >&2
    exit 1
fi

echo "== fuzz build ($clang)"
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_COMPILER="$clang" \
    -DCMAKE_CXX_FLAGS= -DRINGLOG_SANITIZE=ON \
    -DRINGLOG_BENCH=OFF >/dev/null
cmake --build "$build" -j2 --target request_decoder_fuzz fuzz_corpus_replay

corpus="$build/corpus/request_decoder"
seeds="$build/seeds/request_decoder"
artifacts="$build/artifacts"
mkdir -p "$corpus" "$seeds" "$artifacts"
"$build/tests/fuzz/fuzz_corpus_replay" --write-examples "$seeds" >/dev/null
captures=../shared/kafka-protocol/captures
if [ -d "$captures" ]; then
    for request in "$captures"/*/*.req; do
        cp "$request" "$seeds/$(basename "$(dirname "$request")")-$(basename "$request")"
    done
else
    echo "fuzz.sh: no captures at $captures; seeding from the examples only"
fi

echo "== fuzzing the request decoder for ${seconds} s"
# The first corpus folder is where libFuzzer adds new inputs; the seeds stay untouched.
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$build/tests/fuzz/request_decoder_fuzz" -max_total_time="$seconds" -timeout=10 \
    -rss_limit_mb=2048 -max_len=65536 -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "$seeds"
echo "== fuzz: no crash in ${seconds} s"
