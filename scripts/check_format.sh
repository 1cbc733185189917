#!/usr/bin/env bash
# Fails if any C++ source differs from what clang-format (Debian 12's 14) would make of it.
# Generated code is checked too: the generator formats what it writes.
set -euo pipefail
cd "$(dirname "$0")/.."
format=$(command -v clang-format-14 || command -v clang-format)
mapfile -t files < <(git ls-files --cached --others --exclude-standard -- '*.h' '*.cc' \
    | grep -v '^build' || true)
if [ ${#files[@]} -eq 0 ]; then
    exit 0
fi
if ! "$format" --dry-run -Werror --style=file "${files[@]}"; then
    echo "formatting differs: run scripts/format.sh" >&2
    exit 1
fi
echo "format ok (${#files[@]} files)"
