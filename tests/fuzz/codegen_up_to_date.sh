#!/bin/sh
# Regenerates the Kafka codec into a temporary folder and fails if net/kafka/generated differs:
# the generated files must be exactly what scripts/kafka_codegen.py makes of the spec.
# Exit 77 (ctest: skipped) when the spec beside the repository or clang-format is missing.
# Usage: codegen_up_to_date.sh REPO_DIR OUT_DIR
repo=$1
out=$2
spec="$repo/../shared/kafka-protocol/message"
if [ ! -d "$spec" ]; then
    echo "skipped: no Kafka message specs at $spec (clone shared/ beside the repository)"
    exit 77
fi
if ! command -v clang-format-14 >/dev/null && ! command -v clang-format >/dev/null; then
    echo "skipped: clang-format is not installed"
    exit 77
fi
rm -rf "$out"
mkdir -p "$out"
/usr/bin/python3 "$repo/scripts/kafka_codegen.py" --spec "$spec" --out "$out" || exit 1
if ! diff -r -u "$repo/net/kafka/generated" "$out"; then
    echo "net/kafka/generated is stale or edited by hand: run scripts/kafka_codegen.py" >&2
    exit 1
fi
echo "net/kafka/generated is up to date"
