#!/usr/bin/env bash
# Builds smvm and runs every test: unit tests, CLI errors, and the
# end-to-end tests on KVM (inside a nested guest where /dev/kvm is absent).
# The guest kernel is built once and then taken from ~/.cache/smvm.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/build-kernel.sh >/dev/null
cmake -S . -B build -DSMVM_WERROR=ON >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure "$@"
