#!/usr/bin/env bash
# Formats every C++ source in place with the repository's .clang-format.
set -euo pipefail
cd "$(dirname "$0")/.."
format=$(command -v clang-format-14 || command -v clang-format)
git ls-files --cached --others --exclude-standard -- '*.h' '*.cc' | grep -v '^build' \
    | xargs -r "$format" -i --style=file
