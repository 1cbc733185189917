#!/usr/bin/env bash
# Installs what ringlog needs to build and test, from Debian's packages, and nothing that is
# already there. Idempotent and non-interactive; sourced by run.sh and test.sh.
set -euo pipefail

ringlog_packages=(
    build-essential cmake ninja-build pkg-config git
    liburing-dev libabsl-dev libgtest-dev libgmock-dev libbenchmark-dev libdpdk-dev
    zlib1g-dev libsnappy-dev liblz4-dev libzstd-dev
    clang clang-format libclang-rt-14-dev
    python3
    kcat python3-confluent-kafka python3-kafka
)

ringlog_install_deps() {
    local missing=()
    for package in "${ringlog_packages[@]}" "$@"; do
        if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
            missing+=("$package")
        fi
    done
    if [ ${#missing[@]} -eq 0 ]; then
        return 0
    fi
    echo "ringlog: installing ${missing[*]}"
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        sudo="sudo"
    fi
    export DEBIAN_FRONTEND=noninteractive
    $sudo apt-get update -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
