#!/usr/bin/env bash
# Installs what is missing, builds (release), and starts ringlogd in the foreground with the
# embedded defaults: data in $RINGLOG_DATA_DIR (default /var/lib/ringlog), port 9092. Extra
# arguments go to ringlogd (see `ringlogd --help`). Stop it with Ctrl-C: it syncs and closes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/deps.sh
ringlog_install_deps

cmake -S . -B build/release -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build/release -j"$(nproc)" --target ringlogd ringlog
exec build/release/tools/ringlogd --data-dir "${RINGLOG_DATA_DIR:-/var/lib/ringlog}" "$@"
