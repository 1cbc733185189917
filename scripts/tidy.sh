#!/usr/bin/env bash
# Checks what formatting cannot: the dependency arrow (tools -> core -> net -> io; core -> io),
# TODOs that name no issue, and sleeping or std::shared_ptr where they do not belong.
set -euo pipefail
cd "$(dirname "$0")/.."
failed=0
fail() {
    echo "tidy: $*" >&2
    failed=1
}

sources() { git ls-files --cached --others --exclude-standard -- "$@" | grep -E '\.(h|cc)$' || true; }

# Upward includes: a folder may include only the folders below it on the arrow.
check_includes() {
    local folder=$1 forbidden=$2
    for file in $(sources "$folder/"); do
        if grep -nE "^#include \"($forbidden)/" "$file" >/dev/null; then
            fail "$file includes upward: $(grep -nE "^#include \"($forbidden)/" "$file" | head -1)"
        fi
    done
}
check_includes io 'net|core|tools|tests|bench'
check_includes net 'core|tools|tests|bench'
check_includes core 'tools|tests|bench'

# A TODO says which issue it waits for: TODO(#3).
for file in $(sources io/ net/ core/ tools/ tests/ bench/); do
    if grep -nE 'TODO([^(]|$)' "$file" >/dev/null; then
        fail "$file: a TODO without an issue: $(grep -nE 'TODO([^(]|$)' "$file" | head -1)"
    fi
done

# Sleeping to wait for something is banned in the product and in tests (wait for a condition).
for file in $(sources io/ net/ core/ tools/ tests/); do
    if grep -nE '\b(usleep|sleep)\(|this_thread::sleep' "$file" >/dev/null; then
        fail "$file sleeps: $(grep -nE '\b(usleep|sleep)\(|this_thread::sleep' "$file" | head -1)"
    fi
done

# Atomic reference counts stay out of the reactor layer.
for file in $(sources io/); do
    if grep -n 'std::shared_ptr' "$file" >/dev/null; then
        fail "$file uses std::shared_ptr in io/"
    fi
done

if [ "$failed" -ne 0 ]; then
    exit 1
fi
echo "tidy ok"
